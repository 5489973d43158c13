# shellcheck shell=bash
# Shared assertions for the survey-admin tests (bash). Source it first thing:
#   source "$(dirname "$0")/lib.sh"
# Every check counts as passed or failed; `finish` prints "N passed, N failed" and exits non-zero
# when anything failed (or nothing was checked). A failed check prints what was seen.
# ctest gives SURVEY_ADMIN (the binary), SURVEY_SOURCE_DIR and, through with_pg.sh, a fresh
# database in DATABASE_URL / SURVEY_TEST_DB.

set -uo pipefail

: "${SURVEY_ADMIN:?SURVEY_ADMIN is not set (run through ctest)}"
: "${SURVEY_SOURCE_DIR:?SURVEY_SOURCE_DIR is not set (run through ctest)}"

lib_passed=0
lib_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/survey-cli-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# shellcheck disable=SC2034 # used by the tests that source this file
BUNDLED=$SURVEY_SOURCE_DIR/questionnaire/definitions/genai-adoption-2025.json
# shellcheck disable=SC2034
DATA=$SURVEY_SOURCE_DIR/tests/cli/data

pass() {
    lib_passed=$((lib_passed + 1))
}

fail() {
    lib_failed=$((lib_failed + 1))
    echo "FAILED: $*" >&2
}

# run CMD ARGS...: run a command; its stdout, stderr and exit status land in OUT, ERR and RC.
run() {
    "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# admin ARGS...: run survey-admin (see run).
admin() {
    run "$SURVEY_ADMIN" "$@"
}

show_run() {
    echo "  exit status: $RC" >&2
    echo "  stdout: ${OUT:0:2000}" >&2
    echo "  stderr: ${ERR:0:2000}" >&2
}

# expect_rc N WHAT: the last run exited with status N.
expect_rc() {
    if [[ $RC -eq $1 ]]; then
        pass
    else
        fail "$2: expected exit status $1"
        show_run
    fi
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
    if [[ "$1" == "$2" ]]; then
        pass
    else
        fail "$3: expected \"$2\", got \"$1\""
    fi
}

# expect_match TEXT ERE WHAT: some line of TEXT matches the extended regular expression.
expect_match() {
    if grep -Eq -- "$2" <<<"$1"; then
        pass
    else
        fail "$3: no line matches /$2/ in: ${1:0:2000}"
    fi
}

# expect_no_match TEXT ERE WHAT
expect_no_match() {
    if grep -Eq -- "$2" <<<"$1"; then
        fail "$3: a line matches /$2/ in: ${1:0:2000}"
    else
        pass
    fi
}

# expect_error_line ERE WHAT: the last run failed with exit status 1 and exactly one line on
# stderr, "survey-admin: <lower-case reason without a final period>" matching ERE.
expect_error_line() {
    local lines
    lines=$(printf '%s' "$ERR" | grep -c '')
    if [[ $RC -eq 1 && $lines -eq 1 && $ERR =~ ^survey-admin:\ [a-z\"] && $ERR != *. ]] &&
        grep -Eq -- "$1" <<<"$ERR"; then
        pass
    else
        fail "$2: expected exit status 1 and one line matching /$1/"
        show_run
    fi
}

# sql QUERY [ARGS...]: the query's result, unaligned, without headers; psql variables :'v1'...
# hold the arguments, so values never become SQL text.
sql() {
    local query=$1
    shift
    local vars=() i=1
    for a in "$@"; do
        vars+=(-v "v$i=$a")
        i=$((i + 1))
    done
    psql -X -q -At -v ON_ERROR_STOP=1 "${vars[@]}" -d "$DATABASE_URL" <<<"$query"
}

# migrate: bring the test database to the current schema; a failure ends the test.
migrate() {
    admin migrate
    if [[ $RC -ne 0 ]]; then
        fail "survey-admin migrate"
        show_run
        finish
    fi
}

finish() {
    echo "$lib_passed passed, $lib_failed failed"
    if [[ $lib_failed -ne 0 || $lib_passed -eq 0 ]]; then
        exit 1
    fi
    exit 0
}
