#!/usr/bin/env bash
# The .sav file, read back by two independent readers (Debian's readstat tool and R's haven),
# equals the CSV of the same export cell for cell (the same key gives the same pseudonyms; rows
# are compared by pseudonym since each export draws its own order), and carries a value label
# for every option of every single-choice question and every missing code, the declared
# missing values, the measure levels and the variable labels, as the codebook lists them.
source "$(dirname "$0")/lib.sh"
migrate
make_wave back 400
key=$TMP/key
printf 'a-pseudonym-key-for-this-test-0123456789\n' >"$key"

admin export back --format csv --out "$TMP/back.csv" --key-file "$key" --max-suppressed 50
expect_rc 0 "export --format csv"
admin export back --format sav --out "$TMP/back.sav" --key-file "$key" --max-suppressed 50 --lang en
expect_rc 0 "export --format sav"

# readstat converts the .sav file to CSV.
run readstat "$TMP/back.sav" "$TMP/readstat.csv"
expect_rc 0 "readstat converts the .sav file"
# haven reads it (user-defined missing values kept as values) and writes it as CSV, numbers as
# R prints them.
run Rscript -e '
  library(haven)
  a <- commandArgs(TRUE)
  d <- read_sav(a[1], user_na = TRUE)
  d[] <- lapply(d, function(x) { y <- as.vector(unclass(x)); attributes(y) <- NULL; y })
  write.csv(d, a[2], row.names = FALSE, na = "")' "$TMP/back.sav" "$TMP/haven.csv"
expect_rc 0 "haven reads the .sav file"

# Cell for cell, rows matched by pid; numbers compared as numbers.
for reader in readstat haven; do
    run python3 - "$TMP/back.csv" "$TMP/$reader.csv" <<'PY'
import csv, sys
def load(path):
    with open(path, newline='', encoding='utf-8') as f:
        r = csv.reader(f)
        header = next(r)
        return header, {row[0]: row for row in r}
h1, a = load(sys.argv[1])
h2, b = load(sys.argv[2])
assert h1 == h2, (h1, h2)
assert a.keys() == b.keys(), "different pseudonyms"
def same(x, y):
    if x == y:
        return True
    try:
        return float(x) == float(y)
    except ValueError:
        return False
bad = [(pid, h1[i], x, y) for pid in a for i, (x, y) in enumerate(zip(a[pid], b[pid])) if not same(x, y)]
assert not bad, bad[:5]
print(len(a), len(h1))
PY
    expect_rc 0 "$reader: the .sav file equals the CSV cell for cell"
    expect_match "$OUT" '^[0-9]+ 24$' "$reader: rows and 24 columns compared"
done
expect_eq "$(grep -c '' "$TMP/back.csv")" "$(( $(sql "SELECT count(*) FROM survey.responses WHERE NOT screened_out") + 1 ))" "one CSV row per eligible response"

# The dictionary, through haven: labels, missing values, measure levels, formats.
run Rscript -e '
  library(haven)
  d <- read_sav(commandArgs(TRUE)[1], user_na = TRUE)
  for (n in names(d)) {
    x <- d[[n]]
    cat("variable", n, "|", attr(x, "label"), "\n")
    l <- attr(x, "labels")
    if (!is.null(l)) for (i in seq_along(l)) cat("value", n, "|", format(l[[i]]), "|", names(l)[i], "\n")
    m <- attr(x, "na_values")
    if (!is.null(m)) cat("missing", n, "|", paste(format(m), collapse = " "), "\n")
  }' "$TMP/back.sav"
expect_rc 0 "haven reads the dictionary"
dict=$OUT
# Every code and label the JSON codebook lists is in the file, and nothing else.
python3 - "$TMP/back.csv.codebook.json" >"$TMP/expected" <<'PY'
import json, sys
cb = json.load(open(sys.argv[1], encoding='utf-8'))
for c in cb['columns']:
    name = c['name']
    for x in c.get('codes', []) + c.get('missing', []):
        code = x['code'] if isinstance(x['code'], str) else format(x['code'], 'g')
        print(f"value {name} | {code} | {x['label']['en']}")
PY
grep '^value' <<<"$dict" | sed 's/ *$//' | sort >"$TMP/got"
sort "$TMP/expected" >"$TMP/want"
expect_eq "$(diff "$TMP/want" "$TMP/got")" "" "value labels: every option and missing code of the codebook"
# 10 single choices: 33 options, 3 quasi-identifiers x 3 codes, 7 x 2; 11 0/1 columns x 4;
# genai_budget_share x 2.
expect_eq "$(grep -c '' "$TMP/want")" 104 "value labels of the bundled questionnaire's exported columns"
expect_match "$dict" '^value industry \| finance \| Finance $' "industry's finance label"
expect_match "$dict" '^missing industry \| -1 -2 -3 $' "a quasi-identifier declares the three missing codes"
expect_match "$dict" '^missing caio \| -1 -2 $' "other single choices declare not asked and no answer"
expect_match "$dict" '^missing approach_undecided \| -1 -2 $' "0/1 columns declare their missing codes"
label=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([q for q in d["questions"] if q["id"]=="industry"][0]["label"]["en"])' "$BUNDLED")
expect_eq "$(grep '^variable industry ' <<<"$dict")" "variable industry | $label " "variable labels in --lang en"
run readstat "$TMP/back.sav"
expect_match "$OUT" '^Text encoding: UTF-8' "the .sav file is UTF-8"
expect_match "$OUT" '^Rows: [0-9]+' "readstat sees the rows"
# Measure levels, through ReadStat's parser (tests/export/sav_measures.c).
run "$SAV_MEASURES" "$TMP/back.sav"
expect_rc 0 "sav_measures reads the .sav file"
expect_match "$OUT" '^industry nominal$' "single choice: nominal"
expect_match "$OUT" '^approach_undecided nominal$' "0/1 column: nominal"
expect_match "$OUT" '^genai_budget_share scale$' "number: scale"
expect_match "$OUT" '^field_week ordinal$' "field week: ordinal"
finish
