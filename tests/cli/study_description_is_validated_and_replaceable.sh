#!/usr/bin/env bash
# `wave create --about FILE` and `wave about WAVE --about FILE`: a study description has known
# keys only, the required ones present, each a non-empty string or {language: string}. Each
# mistake is listed ("FILE: POINTER: message") with exit 1 and nothing is stored or changed; a
# valid one is stored as given, may be replaced on a closed wave, and every change is audited.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate

ABOUT=$SURVEY_SOURCE_DIR/deploy/about-kr-2025.json
base='"title": "T", "sponsor": "S", "conducted_by": "C", "population": "P"'

# about_refused NAME JSON POINTER...: refused by wave create, with a problem at each pointer.
about_refused() {
    local name=$1 json=$2
    shift 2
    printf '%s' "$json" >"$TMP/$name.json"
    admin wave create w1 --questionnaire "$BUNDLED" --about "$TMP/$name.json"
    expect_rc 1 "$name: refused"
    for p in "$@"; do
        expect_match "$ERR" "^$TMP/$name.json: $p: " "$name: a problem at $p"
    done
    expect_eq "$(sql 'SELECT (SELECT count(*) FROM survey.waves) + (SELECT count(*) FROM survey.audit_log)')" \
        "0" "$name: nothing stored"
}

about_refused misspelt "{$base, \"sample\": \"x\", \"sponser\": \"S\"}" /sponser
expect_match "$ERR" 'not a key of a study description' "misspelt: the message says why"
about_refused missing_sample "{$base}" '(/)?'
expect_match "$ERR" '"sample" is required' "missing_sample: names the key"
about_refused empty_text "{$base, \"sample\": \"\"}" /sample
about_refused number_text "{$base, \"sample\": 424}" /sample
about_refused bad_language "{$base, \"sample\": {\"Korean language\": \"x\"}}" '/sample/Korean language'
about_refused empty_languages "{$base, \"sample\": {}}" /sample
about_refused not_an_object '["title"]' '(/)?'
about_refused not_json '{"title": ' '(/)?'

admin wave create w1 --questionnaire "$BUNDLED" --about "$ABOUT"
expect_rc 0 "a valid description is accepted"
expect_match "$OUT" 'with a study description' "create says it has one"
expect_eq "$(sql "SELECT about = :'v1'::jsonb FROM survey.waves WHERE id = 'w1'" "$(cat "$ABOUT")")" \
    "t" "stored as given"

# Replacing it: refused when invalid (the stored one unchanged), accepted on a closed wave.
printf '{%s}' "$base" >"$TMP/invalid.json"
admin wave about w1 --about "$TMP/invalid.json"
expect_rc 1 "wave about refuses an invalid description"
expect_eq "$(sql "SELECT about = :'v1'::jsonb FROM survey.waves WHERE id = 'w1'" "$(cat "$ABOUT")")" \
    "t" "the stored description is unchanged"
admin wave open w1
admin wave close w1
expect_rc 0 "the wave is closed"
printf '{%s, "sample": {"en": "Opt-in panel", "ko": "자발적 패널"}}' "$base" >"$TMP/v2.json"
admin wave about w1 --about "$TMP/v2.json"
expect_rc 0 "wave about replaces the description of a closed wave"
expect_eq "$(sql "SELECT about #>> '{sample,ko}' FROM survey.waves WHERE id = 'w1'")" "자발적 패널" \
    "the new description is stored, Korean intact"
expect_eq "$(sql "SELECT count(*) FROM survey.audit_log WHERE action = 'wave.about' AND detail #>> '{about,sample,en}' = 'Opt-in panel'")" \
    "1" "the change is in the audit log"
admin wave about nope --about "$TMP/v2.json"
expect_rc 1 "wave about on an unknown wave fails"
expect_match "$ERR" 'wave "nope" does not exist' "and says so"

finish
