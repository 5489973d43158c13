#!/usr/bin/env bash
# `--help` on the program, every group and every command prints its usage on stdout and exits
# 0; a malformed command line exits 2 with the reason and the usage on stderr, before any
# database is touched.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

commands=("" "migrate" "questionnaire" "questionnaire check" "wave" "wave create" "wave open"
          "wave close" "wave status" "invite")
for c in "${commands[@]}"; do
    # shellcheck disable=SC2086
    admin $c --help
    expect_rc 0 "\"$c --help\""
    expect_match "$OUT" "^Usage: survey-admin ${c:+$c }" "\"$c --help\" prints its usage"
    expect_eq "$ERR" "" "\"$c --help\" prints nothing on stderr"
done
admin wave create -h
expect_rc 0 "-h is --help"
admin --db "dbname=x" wave --help
expect_rc 0 "--db before a group's --help"

# Usage errors: exit 2, the reason first, then the usage; the database is never reached (the
# connection string below would fail with exit 1).
export DATABASE_URL="host=/nonexistent dbname=nothing"
usage_error() {
    local what=$1 reason=$2
    shift 2
    admin "$@"
    expect_rc 2 "$what"
    expect_match "$(head -n 1 <<<"$ERR")" "^survey-admin: $reason" "$what: the reason comes first"
    expect_match "$ERR" "^Usage: survey-admin" "$what: the usage follows"
    expect_eq "$OUT" "" "$what: nothing on stdout"
}
usage_error "no command" "no command given"
usage_error "unknown command" 'unknown command "frobnicate"' frobnicate
usage_error "unknown wave command" 'unknown command "wave reopen"' wave reopen
usage_error "group without a command" "no command given" wave
usage_error "unknown option" 'unknown option "--verbose"' migrate --verbose
usage_error "extra argument" 'unexpected argument "now"' migrate now
usage_error "check without a file" "missing argument FILE" questionnaire check
usage_error "create without a wave" "missing argument WAVE" wave create --questionnaire "$BUNDLED"
usage_error "create without --questionnaire" "option --questionnaire is required" wave create w1
usage_error "bad --access" 'invalid value for --access' wave create w1 --questionnaire "$BUNDLED" --access public
usage_error "bad wave id" 'invalid wave id "Wave 1"' wave create "Wave 1" --questionnaire "$BUNDLED"
usage_error "wave id too long" 'invalid wave id' wave open "$(printf 'a%.0s' {1..65})"
usage_error "option without its value" "option --count needs a value" invite w1 --count
usage_error "option given twice" "option --count given twice" invite w1 --count 1 --count 2
usage_error "flag with a value" "option --json takes no value" wave status w1 --json=yes
usage_error "count of zero" 'invalid value for --count: "0"' invite w1 --count 0
usage_error "count too large" 'invalid value for --count: "1000001"' invite w1 --count 1000001
usage_error "count not a number" 'invalid value for --count: "10k"' invite w1 --count 10k
usage_error "invite without --count" "option --count is required" invite w1
usage_error "bad base url" 'invalid value for --base-url' invite w1 --count 1 --base-url 'ftp://x'
usage_error "--db without a value" "option --db needs a value" wave status w1 --db

# The same database error everywhere is exit 1, one line.
admin wave status w1
expect_error_line 'could not connect to the database' "a connection failure is a user error"

finish
