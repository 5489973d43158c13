#!/usr/bin/env bash
# A wave's whole life through the CLI: create (draft), status, open, close (with its count),
# status --json with every documented field, and the refusals, each exit 1 with one line:
# unknown wave, duplicate create, open twice, close a draft, reopen a closed wave.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate

admin wave status kr-2025
expect_error_line '^survey-admin: wave "kr-2025" does not exist$' "status of an unknown wave"
admin wave open kr-2025
expect_error_line '^survey-admin: wave "kr-2025" does not exist$' "open of an unknown wave"
admin wave close kr-2025
expect_error_line '^survey-admin: wave "kr-2025" does not exist$' "close of an unknown wave"

admin wave create kr-2025 --questionnaire "$BUNDLED"
expect_rc 0 "create"
expect_match "$OUT" '^wave "kr-2025" created in draft: questionnaire genai-adoption-2025 ' \
    "create says what it made"
expect_eq "$(sql "SELECT status || ' ' || access FROM survey.waves WHERE id = 'kr-2025'")" \
    "draft invite" "a new wave is a draft with invitations by default"
expect_eq "$(sql "SELECT encode(q.sha256, 'hex') || ' ' || md5(q.source)
                    FROM survey.waves w JOIN survey.questionnaires q ON q.id = w.questionnaire_id
                   WHERE w.id = 'kr-2025'")" \
    "$(sha256sum "$BUNDLED" | cut -c1-64) $(md5sum "$BUNDLED" | cut -c1-32)" \
    "the definition is stored byte for byte under the SHA-256 of its bytes"
expect_eq "$(sql "SELECT detail ->> 'questionnaire' FROM survey.audit_log WHERE action = 'wave.create' AND wave_id = 'kr-2025'")" \
    "genai-adoption-2025" "create is in the audit log"

admin wave create kr-2025 --questionnaire "$BUNDLED" --access open
expect_error_line '^survey-admin: wave "kr-2025" already exists$' "a second create"
expect_eq "$(sql "SELECT count(*) FROM survey.questionnaires")" "1" \
    "the same definition is stored once"

admin wave status kr-2025
expect_rc 0 "status of a draft"
expect_match "$OUT" '^status: +draft$' "status shows draft"
expect_match "$OUT" '^access: +invite$' "status shows the access"
expect_match "$OUT" '^questionnaire: +genai-adoption-2025 [^ ]+ \(sha256 [0-9a-f]{12}\)$' \
    "status shows the questionnaire and a prefix of its hash"
expect_match "$OUT" '^opened: +-$' "a draft was never opened"

admin wave close kr-2025
expect_error_line '^survey-admin: wave "kr-2025" is still in draft; only an open wave can be closed$' \
    "a draft cannot be closed"

admin wave open kr-2025
expect_rc 0 "open"
expect_eq "$OUT" 'wave "kr-2025" is open' "open says so"
admin wave open kr-2025
expect_error_line '^survey-admin: wave "kr-2025" is already open$' "open twice"

# Two responses, one screened out, straight into the table (the daemon's path is tested
# elsewhere): status and close count them.
sql "INSERT INTO survey.responses (wave_id, submission_id, questionnaire_id, answers, screened_out)
     SELECT 'kr-2025', gen_random_uuid(), questionnaire_id, '{}', s
       FROM survey.waves, (VALUES (false), (true)) AS v(s) WHERE id = 'kr-2025'" >/dev/null

admin wave close kr-2025
expect_rc 0 "close"
expect_eq "$OUT" 'wave "kr-2025" is closed: 2 responses (1 eligible, 1 screened out)' \
    "close prints the final count"
expect_eq "$(sql "SELECT detail ->> 'responses' FROM survey.audit_log WHERE action = 'wave.close'")" \
    "2" "close is in the audit log with the count"
expect_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM survey.audit_log WHERE wave_id = 'kr-2025'")" \
    "wave.create,wave.open,wave.close" "one audit row per change, none for refusals"

admin wave open kr-2025
expect_error_line '^survey-admin: wave "kr-2025" is closed; a closed wave cannot be reopened$' \
    "reopen refused"
admin wave close kr-2025
expect_error_line '^survey-admin: wave "kr-2025" is already closed$' "close twice"
expect_eq "$(sql "SELECT status FROM survey.waves WHERE id = 'kr-2025'")" "closed" "still closed"

admin wave status kr-2025 --json
expect_rc 0 "status --json"
expect_eq "$(printf '%s' "$OUT" | grep -c '')" "1" "status --json is one line"
json=$OUT
field() {
    sql "SELECT coalesce((:'v1'::jsonb) ->> :'v2', 'null')" "$json" "$1"
}
expect_eq "$(sql "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(:'v1'::jsonb) AS k" "$json")" \
    "access,closed_at,created_at,invitations_issued,invitations_used,margins,opened_at,questionnaire_id,questionnaire_sha256,questionnaire_version,responses_eligible,responses_screened_out,responses_total,status,wave" \
    "status --json has exactly the documented fields"
expect_eq "$(field wave)" "kr-2025" "json wave"
expect_eq "$(field status)" "closed" "json status"
expect_eq "$(field access)" "invite" "json access"
expect_eq "$(field questionnaire_id)" "genai-adoption-2025" "json questionnaire_id"
expect_eq "$(field questionnaire_version)" "$(sql "SELECT version FROM survey.questionnaires")" \
    "json questionnaire_version"
expect_eq "$(field questionnaire_sha256)" "$(sha256sum "$BUNDLED" | cut -c1-64)" "json questionnaire_sha256"
expect_eq "$(field responses_total)" "2" "json responses_total"
expect_eq "$(field responses_eligible)" "1" "json responses_eligible"
expect_eq "$(field responses_screened_out)" "1" "json responses_screened_out"
expect_eq "$(field invitations_issued)" "0" "json invitations_issued"
expect_eq "$(field invitations_used)" "0" "json invitations_used"
expect_eq "$(field margins)" "[]" "json margins"
for t in created_at opened_at closed_at; do
    expect_match "$(field $t)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "json $t is UTC"
done
expect_eq "$(sql "SELECT (:'v1'::jsonb ->> 'opened_at')::timestamptz <= (:'v1'::jsonb ->> 'closed_at')::timestamptz" "$json")" \
    "t" "opened before closed"
expect_eq "$(sql "SELECT jsonb_typeof(:'v1'::jsonb -> 'responses_total')" "$json")" "number" \
    "counts are JSON numbers"

# A draft's status has null times, not empty strings.
admin wave create other --questionnaire "$BUNDLED" --access open
admin wave status other --json
expect_eq "$(sql "SELECT jsonb_typeof(:'v1'::jsonb -> 'opened_at')" "$OUT")" "null" "a draft's opened_at is null"
expect_eq "$(sql "SELECT :'v1'::jsonb ->> 'access'" "$OUT")" "open" "--access open is stored"

finish
