#!/usr/bin/env bash
# `invite`: N tokens printed as CSV (token,url), N SHA-256 hashes stored, the plaintext tokens
# nowhere in a pg_dump of the database; --out writes a file of mode 0600 and never overwrites.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate
admin wave create inv --questionnaire "$BUNDLED"
expect_rc 0 "create an invitation wave"

admin invite inv --count 25
expect_rc 0 "invite to stdout"
expect_eq "$ERR" "" "nothing on stderr"
csv=$(tr -d '\r' <<<"$OUT")
expect_eq "$(head -n 1 <<<"$csv")" "token,url" "the CSV header"
expect_eq "$(tail -n +2 <<<"$csv" | grep -c '')" "25" "25 rows"
expect_eq "$(printf '%s' "$OUT" | grep -c $'\r$')" "26" "RFC 4180 lines end in CRLF"
expect_eq "$(tail -n +2 <<<"$csv" | grep -cvE '^[A-Za-z0-9_-]{43},https://localhost:8443/s/inv\?t=[A-Za-z0-9_-]{43}$')" \
    "0" "each row is a 43-character base64url token and its default link"
expect_eq "$(tail -n +2 <<<"$csv" | awk -F'[,=]' '$1 != $NF' | grep -c '')" "0" "each link carries its row's token"
tail -n +2 <<<"$csv" | cut -d, -f1 >"$TMP/tokens"
expect_eq "$(sort -u "$TMP/tokens" | grep -c '')" "25" "the tokens are distinct"

# Stored: exactly the SHA-256 of each printed token (of its 43 characters), and nothing else.
while read -r t; do printf '%s' "$t" | sha256sum | cut -c1-64; done <"$TMP/tokens" | sort >"$TMP/hashes"
stored=$(sql "SELECT encode(token_sha256, 'hex') FROM survey.invitations WHERE wave_id = 'inv' ORDER BY 1")
expect_eq "$stored" "$(cat "$TMP/hashes")" "the stored hashes are those of the printed tokens"
expect_eq "$(sql "SELECT detail ->> 'count' FROM survey.audit_log WHERE action = 'invite'")" "25" \
    "the audit row has the count"

# --out FILE: mode 0600, a summary on stdout, and a second run refuses to overwrite it.
admin invite inv --count 7 --out "$TMP/inv.csv" --base-url https://survey.example.org/
expect_rc 0 "invite to a file"
expect_eq "$OUT" "wrote 7 invitations for wave \"inv\" to $TMP/inv.csv" "the file's summary"
expect_eq "$(stat -c %a "$TMP/inv.csv")" "600" "the file is private (0600)"
expect_eq "$(tr -d '\r' <"$TMP/inv.csv" | tail -n +2 | grep -cE '^[A-Za-z0-9_-]{43},https://survey\.example\.org/s/inv\?t=')" \
    "7" "the file has 7 rows with the base url (trailing slash dropped)"
tr -d '\r' <"$TMP/inv.csv" | tail -n +2 | cut -d, -f1 >>"$TMP/tokens"
before=$(md5sum "$TMP/inv.csv")
admin invite inv --count 3 --out "$TMP/inv.csv"
expect_error_line "^survey-admin: could not create file \"$TMP/inv.csv\": File exists\$" \
    "an existing file is not overwritten"
expect_eq "$(md5sum "$TMP/inv.csv")" "$before" "the existing file is untouched"
expect_eq "$(sql "SELECT count(*) FROM survey.invitations")" "32" "and the refused run stored nothing"

# A relaxed umask does not widen the mode.
(umask 000 && "$SURVEY_ADMIN" invite inv --count 1 --out "$TMP/wide.csv" >/dev/null)
expect_eq "$(stat -c %a "$TMP/wide.csv")" "600" "mode 0600 whatever the umask"
tr -d '\r' <"$TMP/wide.csv" | tail -n +2 | cut -d, -f1 >>"$TMP/tokens"

# A base url with a comma is quoted in the CSV.
admin invite inv --count 1 --base-url 'https://example.org/a,b'
expect_match "$(tr -d '\r' <<<"$OUT")" '^[A-Za-z0-9_-]{43},"https://example\.org/a,b/s/inv\?t=[A-Za-z0-9_-]{43}"$' \
    "a field with a comma is quoted"
tr -d '\r' <<<"$OUT" | tail -n +2 | cut -d, -f1 >>"$TMP/tokens"

expect_eq "$(sql "SELECT count(*) FROM survey.invitations")" "$(grep -c '' "$TMP/tokens")" \
    "one stored hash per token ever printed"
admin wave status inv --json
expect_eq "$(sql "SELECT :'v1'::jsonb ->> 'invitations_issued'" "$OUT")" "34" "status counts them"

# The whole database, dumped: no token appears in it, in any form pg_dump writes.
pg_dump --no-owner -d "$DATABASE_URL" >"$TMP/dump.sql"
expect_match "$(grep -c 'survey.invitations' "$TMP/dump.sql")" '^[1-9]' "the dump has the invitations"
leaked=$(grep -cFf "$TMP/tokens" "$TMP/dump.sql")
expect_eq "$leaked" "0" "no plaintext token is in pg_dump"

finish
