#!/usr/bin/env bash
# A wave whose answers hold e-mail addresses, names in comments, formula-like strings and Korean
# text, exported in every format: no identifying value appears anywhere in any file written
# (every byte searched: data, codebooks), nor any submission id, receipt id, or exact receive
# time; no CSV cell could run as a formula; Korean comes through intact (codebook labels, .sav
# labels) and --excel starts the CSV with a UTF-8 byte order mark.
source "$(dirname "$0")/lib.sh"
migrate
make_wave leak 600

out=$TMP/files
mkdir -p "$out"
for f in csv sav jsonl; do
    admin export leak --format "$f" --out "$out/leak.$f" --max-suppressed 50
    expect_rc 0 "export --format $f"
done
admin export leak --format csv --excel --out "$out/leak-excel.csv" --lang en --max-suppressed 50
expect_rc 0 "export --format csv --excel"
files=("$out"/*)
expect_eq "${#files[@]}" 12 "four exports, each with its data and two codebook files"

# What must never leave: every e-mail address and comment as stored, the names and the formula
# strings inside the comments, ids and receive times (as text, in the forms PostgreSQL prints).
sql "SELECT answers ->> 'contact_email' FROM survey.responses WHERE answers ? 'contact_email'
     UNION ALL SELECT answers ->> 'comments' FROM survey.responses WHERE answers ? 'comments'
     UNION ALL SELECT substring(answers ->> 'comments' FROM '홍길동[0-9]+')
       FROM survey.responses WHERE answers ? 'comments' AND NOT screened_out
     UNION ALL SELECT substring(answers ->> 'comments' FROM '이영희[0-9]+')
       FROM survey.responses WHERE screened_out
     UNION ALL SELECT submission_id::text FROM survey.responses
     UNION ALL SELECT receipt_id::text FROM survey.responses
     UNION ALL SELECT replace(submission_id::text, '-', '') FROM survey.responses
     UNION ALL SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
       FROM survey.responses
     UNION ALL SELECT to_char(received_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US')
       FROM survey.responses" >"$TMP/secrets"
n_secrets=$(grep -c '' "$TMP/secrets")
if [[ $n_secrets -gt 3000 ]]; then pass; else fail "expected the secrets list to be long, got $n_secrets"; fi
for marker in '@example.com' '@example.org' 'HYPERLINK' 'evil.example' '홍길동' '이영희' '@SUM' '+82-10' '한국어 의견'; do
    echo "$marker" >>"$TMP/secrets"
done
# grep -F -a: fixed strings, binary files searched byte for byte like text.
if grep -F -a -f "$TMP/secrets" -r "$out" >"$TMP/hits"; then
    fail "identifying values found in the export: $(head -c 1000 "$TMP/hits")"
else
    pass
fi
# The data files hold no date or time at all (the codebooks give the wave's own opening and
# closing times, which in this test fall in the same second as the responses), but for the
# .sav header's, which is the wave's closing time.
if grep -a -E -r -l '[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}:[0-9]{2}:[0-9]{2}' "$out"/leak.csv "$out"/leak.jsonl "$out"/leak-excel.csv >"$TMP/dated"; then
    fail "a date or time in the data files: $(cat "$TMP/dated")"
else
    pass
fi
closed=$(sql "SELECT to_char(closed_at AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM survey.waves WHERE id = 'leak'")
expect_eq "$(grep -a -o -E '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$out/leak.sav" | sort -u)" "$closed" "the only time in the .sav file is the wave's close"
# The search itself finds such values where they are: the check can fail.
printf 'x,hong.gildong3@example.com\n' >"$TMP/probe.csv"
if grep -F -a -q -f "$TMP/secrets" "$TMP/probe.csv"; then pass; else fail "the search misses a planted e-mail address"; fi

# No cell of either CSV starts like a formula (numbers such as -1 are numbers).
python3 - "$out/leak.csv" "$out/leak-excel.csv" >"$TMP/formulas" <<'PY'
import csv, re, sys
number = re.compile(r'-?[0-9]+(\.[0-9]+)?$')
for path in sys.argv[1:]:
    with open(path, newline='', encoding='utf-8-sig') as f:
        for row in csv.reader(f):
            for cell in row:
                if cell[:1] in ('=', '+', '-', '@', '\t', '\r') and not number.match(cell):
                    print(path, repr(cell))
PY
expect_eq "$(cat "$TMP/formulas")" "" "no CSV cell starts like a formula"

# The byte order mark only with --excel; RFC 4180 line ends.
expect_eq "$(head -c 3 "$out/leak-excel.csv" | od -An -tx1 | tr -d ' ')" "efbbbf" "--excel starts with a BOM"
expect_eq "$(head -c 3 "$out/leak.csv")" "pid" "without --excel the header comes first"
expect_eq "$(head -n 1 "$out/leak.csv" | od -An -c | grep -c '\\r')" 1 "CSV lines end in CRLF"

# Korean intact: the ko codebook and the .sav file's labels, read back by R's haven.
expect_match "$(cat "$out/leak.csv.codebook.md")" '귀사가 속한 업종은 무엇입니까\?' "Korean question wording in the codebook"
expect_match "$(cat "$out/leak.csv.codebook.md")" '\| `finance` \| 금융 \|' "Korean option labels in the codebook"
run Rscript -e 'library(haven); d <- read_sav(commandArgs(TRUE)[1]);
  cat(attr(d$industry, "label"), "\n"); l <- attr(d$industry, "labels"); cat(names(l)[l == "finance"], "\n")' "$out/leak.sav"
expect_rc 0 "haven reads the .sav file"
expect_match "$OUT" '^귀사가 속한 업종은 무엇입니까\? $' "Korean variable label in the .sav file"
expect_match "$OUT" '^금융 $' "Korean value label in the .sav file"
# Every JSON line parses, with the same keys as the CSV header.
run python3 -c '
import json, sys
header = open(sys.argv[2], encoding="utf-8").readline().strip().split(",")
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    assert list(json.loads(line).keys()) == header, line
    n += 1
print(n)' "$out/leak.jsonl" "$out/leak.csv"
expect_rc 0 "JSON Lines parse with the CSV's columns"
expect_eq "$OUT" "$(sql "SELECT count(*) FROM survey.responses WHERE NOT screened_out")" "one line per eligible response"
finish
