#!/usr/bin/env bash
# The export command's rules: closed waves only unless --provisional (then marked so); usage
# errors exit 2 and user errors exit 1 with one line, writing nothing; screened-out responses
# are left out and counted; numbers are top-coded at the percentile (and --top-code 100 keeps
# them); an export cut off while writing (the file size limit, SIGXFSZ) leaves neither a file
# under the target name nor a temporary file, and an older file of that name untouched; without
# --out the data go to standard output.
source "$(dirname "$0")/lib.sh"
migrate
make_wave rules 300
make_wave still_open 40 open
admin wave create drafty --questionnaire "$BUNDLED"
mkdir -p "$TMP/d"

# Open, draft, unknown waves.
admin export still_open --format csv --out "$TMP/d/open.csv" --max-suppressed 100
expect_error_line 'wave "still_open" is still open; close it first, or use --provisional' "an open wave is refused"
admin export still_open --format csv --out "$TMP/d/open.csv" --max-suppressed 100 --provisional
expect_rc 0 "an open wave with --provisional"
expect_match "$(cat "$TMP/d/open.csv.codebook.json")" '"provisional":[[:space:]]*true' "the codebook says provisional"
expect_match "$(cat "$TMP/d/open.csv.codebook.md")" 'provisional export of an open wave' "the Markdown codebook says so too"
admin export drafty --format csv --out "$TMP/d/draft.csv"
expect_error_line 'wave "drafty" is still a draft: it has no responses' "a draft wave is refused"
admin export nosuch --format csv --out "$TMP/d/nosuch.csv"
expect_error_line 'wave "nosuch" does not exist' "an unknown wave"
admin export rules --format csv --lang fr --out "$TMP/d/fr.csv"
expect_error_line 'the questionnaire has no "fr" labels \(--lang\)' "an unknown language"

# Usage errors.
for args in "rules" "rules --format xls" "rules --format sav --excel" "rules --format csv --k 1" \
    "rules --format csv --k 2.5" "rules --format csv --max-suppressed 101" \
    "rules --format csv --top-code 10" "--format csv" "rules --format csv --bogus"; do
    # shellcheck disable=SC2086
    admin export $args --out "$TMP/d/usage.csv"
    expect_rc 2 "usage error: export $args"
    expect_match "$ERR" '^Usage: survey-admin export WAVE' "usage error shows the synopsis: export $args"
done
admin export --help
expect_rc 0 "export --help"
expect_match "$OUT" '--max-suppressed PCT' "--help describes the options"
expect_eq "$(ls -A "$TMP/d" | grep -v '^open\.csv')" "" "no failed command wrote anything"

# Screened-out responses: left out, counted.
admin export rules --format jsonl --out "$TMP/d/rules.jsonl" --max-suppressed 100
expect_rc 0 "export rules"
screened=$(sql "SELECT count(*) FROM survey.responses WHERE wave_id = 'rules' AND screened_out")
eligible=$(sql "SELECT count(*) FROM survey.responses WHERE wave_id = 'rules' AND NOT screened_out")
expect_eq "$screened" 20 "the wave has screened-out responses"
expect_eq "$(grep -c '' "$TMP/d/rules.jsonl")" "$eligible" "only eligible responses are exported"
expect_match "$(cat "$TMP/d/rules.jsonl.codebook.json")" "\"screened_out_excluded\":[[:space:]]*$screened," "the codebook counts the screened-out"
expect_no_match "$(cat "$TMP/d/rules.jsonl")" '"role":"other"' "no screened-out row"

# Top-coding at the 99th percentile, as PostgreSQL computes it over the eligible answers.
cap=$(sql "SELECT percentile_disc(0.99) WITHIN GROUP (ORDER BY (answers ->> 'genai_budget_share')::float8)
             FROM survey.responses WHERE wave_id = 'rules' AND NOT screened_out
              AND answers ? 'genai_budget_share'")
above=$(sql "SELECT count(*) FROM survey.responses WHERE wave_id = 'rules' AND NOT screened_out
               AND (answers ->> 'genai_budget_share')::float8 > $cap")
max=$(sql "SELECT max((answers ->> 'genai_budget_share')::float8) FROM survey.responses
             WHERE wave_id = 'rules' AND NOT screened_out")
run python3 -c '
import json, sys
v = [json.loads(l)["genai_budget_share"] for l in open(sys.argv[1])]
print(max(x for x in v if x >= 0), sum(1 for x in v if x == float(sys.argv[2])), sum(1 for x in v if x == -2))' \
    "$TMP/d/rules.jsonl" "$cap"
read -r got_max at_cap no_answer <<<"$OUT"
expect_eq "$(python3 -c "print(float('$got_max') == float('$cap'))")" True "the largest exported value is the cap ($cap)"
if [[ $above -gt 0 && $at_cap -gt $above ]]; then pass; else fail "values above the cap ($above) are set to it ($at_cap at the cap)"; fi
expect_match "$(cat "$TMP/d/rules.jsonl.codebook.json")" "\"values_top_coded\":[[:space:]]*$above" "the codebook counts the top-coded values"
if [[ $no_answer -gt 0 ]]; then pass; else fail "unanswered optional numbers are -2"; fi
admin export rules --format jsonl --out "$TMP/d/all.jsonl" --max-suppressed 100 --top-code 100
expect_rc 0 "--top-code 100"
run python3 -c '
import json, sys
print(max(json.loads(l)["genai_budget_share"] for l in open(sys.argv[1])))' "$TMP/d/all.jsonl"
expect_eq "$(python3 -c "print(float('$OUT') == float('$max'))")" True "--top-code 100 keeps the largest value ($max)"

# Cut off while writing: the file size limit kills the process with SIGXFSZ mid-file.
mkdir -p "$TMP/cut"
printf 'old\n' >"$TMP/cut/rules.sav"
run bash -c 'ulimit -f 4; exec "$@"' _ "$SURVEY_ADMIN" export rules --format sav \
    --out "$TMP/cut/rules.sav" --max-suppressed 100
expect_rc 153 "killed by SIGXFSZ (128 + 25)"
expect_eq "$(ls -A "$TMP/cut")" "rules.sav" "no temporary file, no codebook left behind"
expect_eq "$(cat "$TMP/cut/rules.sav")" "old" "the file of the target name is untouched"
run bash -c 'ulimit -f 4000; exec "$@"' _ "$SURVEY_ADMIN" export rules --format sav \
    --out "$TMP/cut/rules.sav" --max-suppressed 100
expect_rc 0 "the same export under a large enough limit"
expect_eq "$(head -c 4 "$TMP/cut/rules.sav")" '$FL2' "then the file is a .sav file"

# Standard output.
admin export rules --format csv --max-suppressed 100
expect_rc 0 "export to standard output"
expect_eq "$(grep -c '' <<<"$OUT")" "$((eligible + 1))" "the CSV on standard output"
expect_match "$ERR" 'no codebook written' "the missing codebook is pointed out"
finish
