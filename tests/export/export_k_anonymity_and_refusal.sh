#!/usr/bin/env bash
# k-anonymity over industry x company_size x region: after the export every combination has at
# least k records (k = 5 and 10); a cell is either its stored value or the suppression code -3
# (rows linked back to the database through the documented pseudonym); the risk report's counts
# (on the console and in the codebook) equal those recomputed from the database and the file.
# When more than --max-suppressed percent of records would lose a value (at exactly the
# percentage it goes ahead), or the wave has fewer than k eligible responses, the export is
# refused: exit 1, one line, nothing written, an existing file of the target name untouched.
source "$(dirname "$0")/lib.sh"
migrate
make_wave kanon 700
key=$TMP/key
printf 'k-anonymity-test-key-0123456789abcdef' >"$key"
sql "SELECT submission_id, answers ->> 'industry', answers ->> 'company_size', answers ->> 'region'
       FROM survey.responses WHERE wave_id = 'kanon' AND NOT screened_out" >"$TMP/stored"

for k in 5 10; do
    mkdir -p "$TMP/k$k"
    admin export kanon --format csv --k "$k" --max-suppressed 100 --key-file "$key" --out "$TMP/k$k/kanon.csv"
    expect_rc 0 "export --k $k"
    run python3 - "$TMP/k$k/kanon.csv" "$TMP/k$k/kanon.csv.codebook.json" "$TMP/stored" "$key" "$k" <<'PY'
import collections, csv, hashlib, hmac, json, sys
data, codebook, stored, keyfile, k = sys.argv[1:6]
k = int(k)
key = open(keyfile, 'rb').read().rstrip(b'\r\n \t')
qis = ('industry', 'company_size', 'region')
orig = {}
before = collections.Counter()
for line in open(stored, encoding='utf-8'):
    sid, *values = line.rstrip('\n').split('|')
    pid = hmac.new(key, b'survey-export-pid-v1\0kanon\0' + sid.encode(), hashlib.sha256).hexdigest()[:32]
    orig[pid] = tuple(values)
    before[tuple(values)] += 1
rows = list(csv.DictReader(open(data, newline='', encoding='utf-8')))
after = collections.Counter(tuple(r[q] for q in qis) for r in rows)
problems = []
if min(after.values()) < k:
    problems.append(f'a group of {min(after.values())} < k')
if set(orig) != {r['pid'] for r in rows}:
    problems.append('pseudonyms do not match the stored submissions')
for r in rows:
    for q, v in zip(qis, orig.get(r['pid'], ('',) * 3)):
        if r[q] not in (v, '-3'):
            problems.append(f'{q}: {r[q]} is neither the stored {v} nor -3')
risk = json.load(open(codebook, encoding='utf-8'))['anonymisation']['k_anonymity']
want = {
    'k': k,
    'records': len(rows),
    'groups_before': len(before),
    'groups_below_k_before': sum(1 for c in before.values() if c < k),
    'records_below_k_before': sum(c for c in before.values() if c < k),
    'smallest_group_before': min(before.values()),
    'groups_after': len(after),
    'smallest_group_after': min(after.values()),
    'records_suppressed': sum(1 for r in rows if '-3' in (r[q] for q in qis)),
    'values_suppressed': sum(1 for r in rows for q in qis if r[q] == '-3'),
}
for name, value in want.items():
    if risk[name] != value:
        problems.append(f'risk report {name}: {risk[name]}, recomputed {value}')
by = risk['values_suppressed_by_quasi_identifier']
for q in qis:
    n = sum(1 for r in rows if r[q] == '-3')
    if by[q] != n:
        problems.append(f'values suppressed in {q}: {by[q]}, recomputed {n}')
if want['records_below_k_before'] == 0 or want['values_suppressed'] == 0:
    problems.append('the test data need no suppression: the test proves nothing')
print('\n'.join(problems) if problems else 'ok')
print(f"console: {want['values_suppressed']} values in {want['records_suppressed']} records")
PY
    expect_rc 0 "k=$k: checks ran"
    expect_match "$OUT" '^ok$' "k=$k: every group has k records, cells and risk report right"
    report=$(sed -n 's/^console: //p' <<<"$OUT")
    admin export kanon --format jsonl --k "$k" --max-suppressed 100 --key-file "$key" --out "$TMP/k$k/again.jsonl"
    expect_match "$ERR" "suppressed: $report " "k=$k: the console's risk report"
done

# Refused above --max-suppressed: nothing written, the existing file kept.
mkdir -p "$TMP/refused"
printf 'old\n' >"$TMP/refused/kanon.csv"
admin export kanon --format csv --max-suppressed 1 --out "$TMP/refused/kanon.csv"
expect_error_line 'k-anonymity \(k=5\) would suppress values in [0-9]+ of [0-9]+ records .*more than --max-suppressed 1%; nothing was written' "refused above --max-suppressed"
expect_eq "$(ls -A "$TMP/refused")" "kanon.csv" "nothing else written"
expect_eq "$(cat "$TMP/refused/kanon.csv")" "old" "the existing file is untouched"
# The same threshold where it is enough passes: the refusal is the threshold's doing.
admin export kanon --format csv --max-suppressed 100 --out "$TMP/refused/kanon.csv"
expect_rc 0 "accepted under a high enough --max-suppressed"
expect_eq "$(head -c 3 "$TMP/refused/kanon.csv")" "pid" "then the file is replaced"

# The threshold exactly: 100 eligible responses (and 5 screened out, which do not count), 7 of
# them in two groups below k = 5 that every value must go from; so 7% of the records.
# --max-suppressed 7 is at the limit and goes ahead; 6.99 and 6 are below it and refuse.
admin wave create edge --access open --questionnaire "$BUNDLED"
admin wave open edge
sql "
SELECT survey.submit_responses(jsonb_agg(jsonb_build_object(
  'wave', 'edge', 'submission_id', gen_random_uuid(), 'screened_out', g > 100,
  'answers', jsonb_build_object(
    'role', CASE WHEN g > 100 THEN 'other' ELSE 'c_level' END,
    'industry', CASE WHEN g <= 93 THEN 'finance' WHEN g <= 97 THEN 'ict' ELSE 'retail' END,
    'company_size', 'small', 'region', 'seoul'))))
FROM generate_series(1, 105) AS g" >/dev/null || fail "storing the responses of edge"
admin wave close edge
expect_rc 0 "wave close edge"
mkdir -p "$TMP/edge"
admin export edge --format csv --max-suppressed 100 --out "$TMP/edge/all.csv"
expect_rc 0 "export edge"
run python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["anonymisation"]["k_anonymity"]
print(r["records_suppressed"], r["records"])' "$TMP/edge/all.csv.codebook.json"
expect_eq "$OUT" "7 100" "edge: 7 of 100 records need a suppressed value"
admin export edge --format csv --max-suppressed 7 --out "$TMP/edge/at.csv"
expect_rc 0 "--max-suppressed 7 with 7 of 100 records suppressed: at the limit, written"
for pct in 6.99 6; do
    admin export edge --format csv --max-suppressed "$pct" --out "$TMP/edge/below.csv"
    expect_error_line "k-anonymity \\(k=5\\) would suppress values in 7 of 100 records \\(7\\.0%\\), more than --max-suppressed $pct%; nothing was written" "--max-suppressed $pct: refused"
done
expect_eq "$(ls "$TMP/edge" | grep -c below)" 0 "nothing written when refused"

# Fewer eligible responses than k.
make_wave tiny 3
admin export tiny --format csv --out "$TMP/refused/tiny.csv"
expect_error_line 'wave "tiny" has 3 eligible responses, fewer than k=5: no export can be k-anonymous; nothing was written' "fewer than k responses"
expect_eq "$(ls -A "$TMP/refused" | grep -c tiny)" 0 "nothing written for the tiny wave"
finish
