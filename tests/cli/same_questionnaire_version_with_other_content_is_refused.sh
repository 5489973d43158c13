#!/usr/bin/env bash
# A questionnaire is stored once per content (SHA-256 of the file's bytes). A file that says the
# same id and version as a stored one but differs in its bytes is refused, and nothing is stored:
# a changed definition needs a new version.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate
admin wave create w1 --questionnaire "$BUNDLED"
expect_rc 0 "first wave with the bundled definition"

# The same bytes again: reused, not stored twice.
cp "$BUNDLED" "$TMP/copy.json"
admin wave create w2 --questionnaire "$TMP/copy.json"
expect_rc 0 "same bytes from another file"
expect_eq "$(sql 'SELECT count(*) FROM survey.questionnaires')" "1" "same content is stored once"
expect_eq "$(sql "SELECT count(DISTINCT questionnaire_id) FROM survey.waves")" "1" \
    "both waves share the row"

# Other label texts, same id and version.
sed 's/Generative/Generative-ish/' "$BUNDLED" >"$TMP/changed.json"
if cmp -s "$BUNDLED" "$TMP/changed.json"; then
    fail "the test could not change the definition"
fi
version=$(sql 'SELECT version FROM survey.questionnaires')
admin wave create w3 --questionnaire "$TMP/changed.json"
expect_error_line "^survey-admin: questionnaire genai-adoption-2025 version $version is already stored with different content; give the changed definition a new version\$" \
    "changed content under the same version is refused"
expect_eq "$(sql "SELECT count(*) FROM survey.waves WHERE id = 'w3'")" "0" "no wave was created"
expect_eq "$(sql 'SELECT count(*) FROM survey.questionnaires')" "1" "no questionnaire was stored"

# Even one byte more (a trailing newline) is other content: the hash is of the exact bytes.
cp "$BUNDLED" "$TMP/newline.json"
echo >>"$TMP/newline.json"
admin wave create w3 --questionnaire "$TMP/newline.json"
expect_error_line 'is already stored with different content' "a byte-level change is refused too"

# With a new version, the changed definition is welcome.
sed -E "s/(\"version\": *)\"$version\"/\1\"$version-b\"/" "$TMP/changed.json" >"$TMP/next.json"
if cmp -s "$TMP/changed.json" "$TMP/next.json"; then
    fail "the test could not change the version"
fi
admin wave create w3 --questionnaire "$TMP/next.json"
expect_rc 0 "a new version is stored"
expect_eq "$(sql "SELECT q.version FROM survey.waves w JOIN survey.questionnaires q ON q.id = w.questionnaire_id WHERE w.id = 'w3'")" \
    "$version-b" "the new wave uses the new version"

# An invalid definition never reaches the database.
admin wave create w4 --questionnaire "$DATA/broken-questionnaire.json"
expect_rc 1 "an invalid definition is refused"
expect_match "$ERR" "broken-questionnaire.json: /format: " "its problems are listed on stderr"
expect_eq "$(sql "SELECT count(*) FROM survey.waves WHERE id = 'w4'")" "0" "no wave for it"

finish
