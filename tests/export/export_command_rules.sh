#!/usr/bin/env bash
# The export command's rules: closed waves only unless --provisional (then marked so); usage
# errors exit 2 and user errors exit 1 with one line, writing nothing; screened-out responses
# are left out and counted; numbers are top-coded at the percentile (and --top-code 100 keeps
# them; with n answers at least the top max(1, ceil(n x 1%)) are capped, also with n < 100);
# an export cut off while writing (the file size limit, SIGXFSZ; a closed pipe, SIGPIPE)
# leaves neither a file under the target name nor a temporary file, and an older file of that
# name untouched, also when the signal comes while a temporary name is being written; each
# rename is followed by an fsync of its directory; without --out the data go to standard
# output.
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
    "rules --format csv --top-code 10" "rules --format csv --max-suppressed 1.234" \
    "rules --format csv --max-suppressed 1e1" "--format csv" "rules --format csv --bogus"; do
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

# Top-coding at the 99th percentile: with n answers the top m = max(1, ceil(n x 1%)) are capped
# at the largest answer below them, with n >= 100 (rules: about 210 answers, m = 3) as with
# n < 100 (few: about 28 answers, m = 1), where a percentile alone would be the maximum and
# cap nothing. The rule recomputed in SQL; the codebook states it with its counts.
make_wave few 40
for wave in rules few; do
    n=$(sql "SELECT count(*) FROM survey.responses WHERE wave_id = :'v1' AND NOT screened_out
               AND answers ? 'genai_budget_share'" "$wave")
    m=$(( (n + 99) / 100 ))
    cap=$(sql "SELECT (answers ->> 'genai_budget_share')::float8 AS v FROM survey.responses
                WHERE wave_id = :'v1' AND NOT screened_out AND answers ? 'genai_budget_share'
                ORDER BY v DESC OFFSET :'v2' LIMIT 1" "$wave" "$m")
    above=$(sql "SELECT count(*) FROM survey.responses WHERE wave_id = :'v1' AND NOT screened_out
                   AND (answers ->> 'genai_budget_share')::float8 > :'v2'::float8" "$wave" "$cap")
    admin export "$wave" --format jsonl --out "$TMP/d/$wave.jsonl" --max-suppressed 100
    expect_rc 0 "export $wave"
    run python3 -c '
import json, sys
v = [json.loads(l)["genai_budget_share"] for l in open(sys.argv[1])]
print(max(x for x in v if x >= 0), sum(1 for x in v if x == float(sys.argv[2])), sum(1 for x in v if x == -2))' \
        "$TMP/d/$wave.jsonl" "$cap"
    read -r got_max at_cap no_answer <<<"$OUT"
    expect_eq "$(python3 -c "print(float('$got_max') == float('$cap'))")" True "$wave ($n answers): the largest exported value is the cap ($cap)"
    # The cap is the (m+1)-th largest answer: after capping at least m + 1 values equal it.
    if [[ $above -ge 1 && $at_cap -ge $((m + 1)) ]]; then pass; else fail "$wave: the top $m values ($above above the cap) are set to it ($at_cap at the cap)"; fi
    if [[ $no_answer -gt 0 ]]; then pass; else fail "$wave: unanswered optional numbers are -2"; fi
    run python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["anonymisation"]["top_coding"][0]
print(t["answers"], t["values_in_tail"], t["values_top_coded"], float(t["cap"]))' "$TMP/d/$wave.jsonl.codebook.json"
    expect_eq "$OUT" "$n $m $above $(python3 -c "print(float('$cap'))")" "$wave: the codebook's answers, tail, values top-coded and cap"
    expect_match "$(cat "$TMP/d/$wave.jsonl.codebook.md")" "the top $m of $n answers .*max\\(1, ceil" "$wave: the Markdown codebook states the rule and the counts"
done
expect_eq "$(sql "SELECT count(*) < 100 FROM survey.responses WHERE wave_id = 'few' AND answers ? 'genai_budget_share'")" t "few has fewer than 100 answers"
max=$(sql "SELECT max((answers ->> 'genai_budget_share')::float8) FROM survey.responses
             WHERE wave_id = 'rules' AND NOT screened_out")
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

# Cut off by a closed pipe (SIGPIPE), like `export ... | head` once head has gone: standard
# output's reader is closed before the export starts, so its first flush raises SIGPIPE while
# the codebook's temporary files exist. They are removed and the process ends by SIGPIPE.
mkdir -p "$TMP/pipe"
run python3 - "$SURVEY_ADMIN" "$TMP/pipe/cb" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], 'export', 'rules', '--format', 'csv', '--max-suppressed', '100',
                    '--codebook', sys.argv[2]], stdout=w, stderr=subprocess.DEVNULL)
print(p.returncode)
PY
expect_eq "$OUT" -13 "killed by SIGPIPE"
expect_eq "$(ls -A "$TMP/pipe")" "" "no temporary file left behind by SIGPIPE"

# A signal while a temporary name is being formatted (delivered there by the preloaded
# tests/export/io_trace.c, with the name standing half written: the target's own name): the
# handler must not see that name, or it would remove the older file of the target name.
mkdir -p "$TMP/half"
printf 'old\n' >"$TMP/half/rules.csv"
run env LD_PRELOAD="$EXPORT_IO_TRACE_LIB" EXPORT_SIGNAL_IN_TMP_NAME=1 \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$SURVEY_ADMIN" export rules --format csv --max-suppressed 100 --out "$TMP/half/rules.csv"
expect_rc 143 "killed by SIGTERM (128 + 15) while naming the temporary file"
expect_eq "$(ls -A "$TMP/half")" "rules.csv" "no temporary file left"
expect_eq "$(cat "$TMP/half/rules.csv" 2>&1)" "old" "the older file of the target name is untouched"

# Durable renames: every rename of a temporary file over its target is followed by an fsync of
# the target's directory (without it a crash can lose the new name). The order is read from a
# trace of rename() and fsync() calls (tests/export/io_trace.c, preloaded).
mkdir -p "$TMP/sync/cb"
run env LD_PRELOAD="$EXPORT_IO_TRACE_LIB" EXPORT_IO_TRACE="$TMP/trace" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$SURVEY_ADMIN" export rules --format csv --max-suppressed 100 --out "$TMP/sync/rules.csv" \
    --codebook "$TMP/sync/cb/rules"
expect_rc 0 "export with rename and fsync traced"
run python3 - "$TMP/trace" "$(cd "$TMP/sync" && pwd -P)" <<'PY'
import os, sys
lines = [l.rstrip('\n').split(' ') for l in open(sys.argv[1])]
renames = [(i, l[2]) for i, l in enumerate(lines) if l[0] == 'rename']
problems = []
if sorted(os.path.basename(t) for _, t in renames) != ['rules.csv', 'rules.json', 'rules.md']:
    problems.append(f'renames: {renames}')
for i, target in renames:
    d = os.path.dirname(os.path.realpath(target))
    if ['fsync', d] not in lines[i + 1:]:
        problems.append(f'no fsync of {d} after the rename to {target}')
print('\n'.join(problems) if problems else 'ok')
PY
expect_eq "$OUT" ok "each rename is followed by an fsync of the target's directory"
expect_eq "$(ls -A "$TMP/sync" | tr '\n' ' ')" "cb rules.csv " "the files are in place"

# Standard output.
admin export rules --format csv --max-suppressed 100
expect_rc 0 "export to standard output"
expect_eq "$(grep -c '' <<<"$OUT")" "$((eligible + 1))" "the CSV on standard output"
expect_match "$ERR" 'no codebook written' "the missing codebook is pointed out"
finish
