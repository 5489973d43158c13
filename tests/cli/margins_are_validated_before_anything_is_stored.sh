#!/usr/bin/env bash
# `wave create --margins FILE`: every key a single-choice question, every value an object with a
# finite number > 0 for every option of that question, nothing else. Each mistake is listed
# ("FILE: POINTER: message") with exit 1, and then nothing at all is stored. Valid margins are
# stored as given (shares or counts).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate

nothing_stored() {
    expect_eq "$(sql 'SELECT (SELECT count(*) FROM survey.waves) + (SELECT count(*) FROM survey.questionnaires) + (SELECT count(*) FROM survey.audit_log)')" \
        "0" "$1: nothing stored"
}

# margins_refused NAME JSON POINTER-ERE...: the margins are refused with a problem at each pointer.
margins_refused() {
    local name=$1 json=$2
    shift 2
    printf '%s' "$json" >"$TMP/$name.json"
    admin wave create w1 --questionnaire "$BUNDLED" --margins "$TMP/$name.json"
    expect_rc 1 "$name: refused"
    for p in "$@"; do
        expect_match "$ERR" "^$TMP/$name.json: $p: " "$name: a problem at $p"
    done
    nothing_stored "$name"
}

ok_size='"company_size": {"small": 0.55, "mid": 0.30, "large": 0.15}'
margins_refused bad_code \
    "{\"industry\": {\"finance\": 0.1, \"ict\": 0.1, \"manufacturing\": 0.4, \"retail\": 0.2, \"other\": 0.1, \"mining\": 0.1}, $ok_size}" \
    /industry/mining
expect_match "$ERR" '"mining" is not an option of question "industry"' "bad_code: the message says why"

margins_refused missing_option \
    "{\"industry\": {\"finance\": 0.1, \"ict\": 0.1, \"manufacturing\": 0.4, \"retail\": 0.4}, $ok_size}" \
    /industry
expect_match "$ERR" 'option "other" of "industry" has no share or count' "missing_option: names the option"

margins_refused zero_share '{"company_size": {"small": 0, "mid": 0.5, "large": 0.5}}' /company_size/small
margins_refused negative_share '{"company_size": {"small": -0.2, "mid": 0.7, "large": 0.5}}' /company_size/small
margins_refused string_share '{"company_size": {"small": "55%", "mid": 0.3, "large": 0.15}}' /company_size/small
margins_refused unknown_question '{"sector": {"a": 1}}' /sector
margins_refused multiple_question '{"approach": {"general_purpose": 1}}' /approach
margins_refused number_question '{"genai_budget_share": {"x": 1}}' /genai_budget_share
margins_refused not_an_object_value '{"company_size": [0.5, 0.3, 0.2]}' /company_size
margins_refused not_an_object '[1, 2]' /
margins_refused empty_object '{}' /
margins_refused not_json '{"company_size": ' /

# Several mistakes at once: every one is listed.
margins_refused many \
    '{"company_size": {"small": 0, "mid": 0.3}, "industry": {"finance": 1, "ict": 1, "manufacturing": 1, "retail": 1, "other": 1, "x": 1}, "nope": {}}' \
    /company_size/small /company_size /industry/x /nope
expect_eq "$(grep -c "" <<<"$ERR")" "4" "many: one line per problem, nothing else"

# Valid margins (shares for one variable, counts for the other) are stored as given.
admin wave create w1 --questionnaire "$BUNDLED" --margins "$DATA/margins-kr.json"
expect_rc 0 "valid margins are accepted"
expect_eq "$(sql "SELECT margins = :'v1'::jsonb FROM survey.waves WHERE id = 'w1'" "$(cat "$DATA/margins-kr.json")")" \
    "t" "margins are stored as given"
admin wave status w1 --json
expect_eq "$(sql "SELECT :'v1'::jsonb -> 'margins'" "$OUT")" '["company_size", "industry"]' \
    "status lists the margin variables"

finish
