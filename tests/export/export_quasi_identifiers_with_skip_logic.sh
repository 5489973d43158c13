#!/usr/bin/env bash
# k-anonymity where quasi-identifiers are optional or behind skip logic, and where skip logic
# depends on them (tests/export/data/qi-skip-logic.json: sector; region, optional; bank_type,
# shown only in finance; products and loan_volume shown through sector, branches through
# region, balance through sector and free of missing codes). After the export:
# - every combination of sector x region x bank_type has at least k records, "not asked" (-1),
#   "no answer" (-2) and "suppressed" (-3) each counting as a value of its own; a suppressed
#   value is -3 whatever was stored, so -3 says nothing about whether there was an answer;
# - the risk report (codebook and console) equals a recount from the database and the file;
# - a record whose sector (region) is suppressed has -3 in every column whose showing depends
#   on sector (region), directly or through another question, so that being asked cannot give
#   the value away; balance, which has no missing codes, is empty; independent columns keep
#   their answers; the codebook says which columns follow which quasi-identifier, and the .sav
#   file declares -3 missing in them.
source "$(dirname "$0")/lib.sh"
migrate
QDEF=$SURVEY_SOURCE_DIR/tests/export/data/qi-skip-logic.json
admin wave create skip --access open --questionnaire "$QDEF"
expect_rc 0 "wave create"
admin wave open skip
expect_rc 0 "wave open"
sql "
SELECT survey.submit_responses(jsonb_agg(item)) FROM (
  SELECT jsonb_build_object('wave', 'skip', 'submission_id', gen_random_uuid(),
    'screened_out', false, 'answers', jsonb_strip_nulls(jsonb_build_object(
      'sector', sector,
      'region', region,
      'bank_type', CASE WHEN sector = 'finance' THEN
          (ARRAY['bank','bank','bank','bank','bank','bank','bank','bank','bank','bank','bank',
                 'bank','bank','bank','investment','investment','investment','investment',
                 'investment','insurer'])[1 + abs(hashint4(g + 2000000)) % 20] END,
      'products', CASE WHEN sector = 'finance' THEN
          (ARRAY['[\"cards\"]', '[\"loans\"]', '[\"loans\",\"cards\"]'])[1 + g % 3]::jsonb END,
      'loan_volume', CASE WHEN sector = 'finance' AND g % 3 <> 0 AND g % 5 <> 0
                          THEN (ARRAY['low','high'])[1 + g % 2] END,
      'branches', CASE WHEN region IS NOT NULL AND g % 7 <> 0 THEN g % 30 END,
      'balance', CASE WHEN sector IN ('finance', 'ict') THEN (g % 21 - 10) / 2.0 END,
      'satisfaction', (ARRAY['low','mid','high'])[1 + abs(hashint4(g + 3000000)) % 3],
      'notes', CASE WHEN g % 4 = 0 THEN 'a note ' || g END))) AS item
  FROM (SELECT g,
          (ARRAY['finance','finance','ict','ict','ict','ict','retail','retail','retail','other'])
            [1 + abs(hashint4(g)) % 10] AS sector,
          CASE WHEN abs(hashint4(g + 1000000)) % 10 = 0 THEN NULL
               ELSE (ARRAY['north','north','north','south','south','east','west'])
                      [1 + abs(hashint4(g + 1000000)) % 7] END AS region
        FROM generate_series(1, 300) AS g) AS s) AS t" >/dev/null || { fail "storing the responses"; finish; }
admin wave close skip
expect_rc 0 "wave close"
key=$TMP/key
printf 'skip-logic-test-key-0123456789abcdef' >"$key"
sql "SELECT submission_id, answers::text FROM survey.responses WHERE wave_id = 'skip'" >"$TMP/stored"

mkdir -p "$TMP/o"
admin export skip --format csv --k 5 --max-suppressed 100 --top-code 100 --key-file "$key" \
    --out "$TMP/o/skip.csv"
expect_rc 0 "export"
console=$ERR
run python3 - "$TMP/o/skip.csv" "$TMP/o/skip.csv.codebook.json" "$TMP/stored" "$key" 5 <<'PY'
import collections, csv, hashlib, hmac, json, sys
data, codebook, stored, keyfile, k = sys.argv[1:6]
k = int(k)
key = open(keyfile, 'rb').read().rstrip(b'\r\n \t')
qis = ('sector', 'region', 'bank_type')
stored_answers = {}
for line in open(stored, encoding='utf-8'):
    sid, text = line.rstrip('\n').split('|', 1)
    pid = hmac.new(key, b'survey-export-pid-v1\0skip\0' + sid.encode(), hashlib.sha256).hexdigest()[:32]
    stored_answers[pid] = json.loads(text)

def original(a):
    """The quasi-identifiers' cells before any suppression: -1 not asked, -2 no answer."""
    bank = a.get('bank_type', '-2') if a['sector'] == 'finance' else '-1'
    return (a['sector'], a.get('region', '-2'), bank)

def num(x):
    return '%d' % x if isinstance(x, int) else x

before = collections.Counter(original(a) for a in stored_answers.values())
rows = list(csv.DictReader(open(data, newline='', encoding='utf-8')))
after = collections.Counter(tuple(r[q] for q in qis) for r in rows)
problems = []
if set(stored_answers) != {r['pid'] for r in rows}:
    problems.append('pseudonyms do not match the stored submissions')
if min(after.values()) < k:
    problems.append(f'published groups below k: {[(g, n) for g, n in after.items() if n < k]}')
seen = collections.Counter()
for r in rows:
    a = stored_answers[r['pid']]
    orig = original(a)
    for q, v in zip(qis, orig):
        if r[q] not in (v, '-3'):
            problems.append(f'{q}: {r[q]} is neither the stored {v} nor -3')
        if r[q] == '-3':
            seen[f'{q} {v if v in ("-1", "-2") else "answered"} suppressed'] += 1
        elif v in ('-1', '-2'):
            seen[f'{q} {v} kept'] += 1
    finance = a['sector'] == 'finance'
    products = a.get('products', [])
    if r['sector'] == '-3':
        seen['sector suppressed, stored ' + ('finance' if finance else 'other')] += 1
        for c in ('bank_type', 'products_loans', 'products_cards', 'loan_volume'):
            if r[c] != '-3':
                problems.append(f'sector suppressed but {c} is {r[c]} (stored sector {a["sector"]})')
        if r['balance'] != '':
            problems.append(f'sector suppressed but balance is {r["balance"]!r}')
    else:
        want = {
            'products_loans': ('1' if 'loans' in products else '0') if finance else '-1',
            'products_cards': ('1' if 'cards' in products else '0') if finance else '-1',
            'loan_volume': a.get('loan_volume', '-2') if 'loans' in products else '-1',
            'balance': '%.1f' % a['balance'] if 'balance' in a else '',
        }
        for c, w in want.items():
            if r[c] != w:
                problems.append(f'{c}: {r[c]}, expected {w} (sector {r["sector"]} not suppressed)')
    if r['region'] == '-3':
        seen['region suppressed'] += 1
        if r['branches'] != '-3':
            problems.append(f'region suppressed but branches is {r["branches"]}')
    else:
        w = num(a.get('branches', '-2')) if 'region' in a else '-1'
        if r['branches'] != w:
            problems.append(f'branches: {r["branches"]}, expected {w}')
    if r['satisfaction'] != a['satisfaction']:
        problems.append(f'satisfaction {r["satisfaction"]} changed from {a["satisfaction"]}')
# The data must exercise what is tested, or the test proves nothing.
for need in ('bank_type -1 suppressed', 'region -2 suppressed', 'region -2 kept',
             'bank_type -1 kept', 'sector suppressed, stored finance',
             'sector suppressed, stored other', 'region suppressed'):
    if seen[need] == 0:
        problems.append(f'the test data lack a case: {need}')

cb = json.load(open(codebook, encoding='utf-8'))
risk = cb['anonymisation']['k_anonymity']
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
for q in qis:
    n = sum(1 for r in rows if r[q] == '-3')
    if risk['values_suppressed_by_quasi_identifier'][q] != n:
        problems.append(f'values suppressed in {q}: {risk["values_suppressed_by_quasi_identifier"][q]}, recomputed {n}')
cols = {c['name']: c for c in cb['columns']}
follows = {'sector': [], 'region': [], 'bank_type': ['sector'], 'products_loans': ['sector'],
           'products_cards': ['sector'], 'loan_volume': ['sector'], 'branches': ['region'],
           'balance': ['sector'], 'satisfaction': []}
for name, qs in follows.items():
    got = cols[name].get('suppressed_with', [])
    if got != qs:
        problems.append(f'codebook: {name} suppressed_with {got}, expected {qs}')
    has_code = any(m['code'] in ('-3', -3) for m in cols[name].get('missing', []))
    if has_code != (bool(qs) and name != 'balance') and name not in qis:
        problems.append(f'codebook: {name} lists -3 among its missing codes: {has_code}')
    if qs and 'suppressed' not in cols[name]['base']:
        problems.append(f'codebook: the base of {name} does not say it is suppressed with {qs}')
print('\n'.join(problems) if problems else 'ok')
print(f"console: {want['values_suppressed']} values in {want['records_suppressed']} records")
print('cases: ' + ', '.join(f'{n} {c}' for c, n in sorted(seen.items())))
PY
expect_rc 0 "the checks ran"
expect_match "$OUT" '^ok$' "every published group has k records, -1/-2/-3 counted as values; cells, skip logic and risk report right"
report=$(sed -n 's/^console: //p' <<<"$OUT")
expect_match "$console" "suppressed: $report " "the console's risk report"

# The Markdown codebook says it too.
base=$(sed -n '/^### `products_loans`/,/^### /p' "$TMP/o/skip.csv.codebook.md" | grep '^- base: ')
expect_match "$base" '-3 in records whose sector is suppressed for k-anonymity' "the Markdown codebook: products_loans follows sector's suppression"

# The .sav file declares -3 missing in the columns that follow a quasi-identifier.
admin export skip --format sav --k 5 --max-suppressed 100 --top-code 100 --key-file "$key" \
    --out "$TMP/o/skip.sav"
expect_rc 0 "export --format sav"
run Rscript -e '
  library(haven)
  d <- read_sav(commandArgs(TRUE)[1], user_na = TRUE)
  for (n in c("sector", "bank_type", "products_loans", "loan_volume", "branches", "satisfaction"))
    cat(n, "|", paste(format(attr(d[[n]], "na_values")), collapse = " "), "\n")' "$TMP/o/skip.sav"
expect_rc 0 "haven reads the .sav file"
expect_match "$OUT" '^products_loans \| -1 -2 -3 $' ".sav: products_loans declares -3"
expect_match "$OUT" '^loan_volume \| -1 -2 -3 $' ".sav: loan_volume declares -3"
expect_match "$OUT" '^branches \| -1 -2 -3 $' ".sav: branches declares -3"
expect_match "$OUT" '^satisfaction \| -1 -2 $' ".sav: satisfaction, independent, does not"
finish
