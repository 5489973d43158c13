#!/usr/bin/env bash
# `questionnaire check` accepts the bundled definition with a one-line summary, and for a broken
# definition lists every problem, one line each as "FILE: <JSON pointer>: <message>", exit 1.
# No database is needed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="host=/nonexistent dbname=nothing"

admin questionnaire check "$BUNDLED"
expect_rc 0 "the bundled definition passes"
expect_match "$OUT" "^$BUNDLED: ok: genai-adoption-2025 [^ ]+, 15 questions, 14 indicators, 5 pillars\$" \
    "the summary names the questionnaire and counts its parts"
expect_eq "$ERR" "" "nothing on stderr"

broken=$DATA/broken-questionnaire.json
admin questionnaire check "$broken"
expect_rc 1 "a broken definition fails"
expect_eq "$ERR" "" "problems are the report: stdout"
expect_eq "$(grep -cv "^$broken: /[^ ]*: [^ ]" <<<"$OUT")" "0" "every line is FILE: POINTER: message"
# Every problem planted in the file, each at its own JSON pointer.
expected="/colour
/composite/pillars/0/items/0/scores
/default_language
/format
/indicators/0/when/question
/questions/0/id
/questions/1/type
/questions/2/options/1/code
/questions/3/show_if/question
/questions/5/options
/questions/6/label"
got=$(sed -E "s|^$broken: ([^ ]*): .*|\\1|" <<<"$OUT" | sort -u)
expect_eq "$got" "$expected" "every planted problem is listed at its pointer"
expect_match "$OUT" '/indicators/0/when/question: .*genai_stage' "the message names what is wrong"

# Not JSON at all, duplicate keys, a missing file, a file over 1 MiB.
printf '{"format": 1, "format": 1}' >"$TMP/dup.json"
admin questionnaire check "$TMP/dup.json"
expect_rc 1 "duplicate keys fail"
expect_match "$OUT" "^$TMP/dup.json: /: .*duplicate key" "duplicate keys are named"

admin questionnaire check "$TMP/missing.json"
expect_error_line "^survey-admin: could not open file \"$TMP/missing.json\": No such file or directory\$" \
    "a missing file is a one-line error"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$TMP/big.json"
admin questionnaire check "$TMP/big.json"
expect_error_line 'is larger than 1048576 bytes' "a file over 1 MiB is refused unread"

admin questionnaire check "$TMP"
expect_error_line 'could not read file .*Is a directory' "a directory is refused"

finish
