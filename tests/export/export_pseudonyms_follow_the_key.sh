#!/usr/bin/env bash
# Pseudonyms: the same key (from --key-file or $SURVEY_EXPORT_KEY) gives the same pseudonyms in
# every export, in a new random row order each time; another key gives unrelated ones; without
# a key they differ in every export. They are the documented HMAC-SHA-256 of the submission,
# and the key itself is never printed or written; a keyed export notes on standard error that
# its pseudonyms join it to the other exports made with the key.
source "$(dirname "$0")/lib.sh"
migrate
make_wave pids 120
secret='a-long-secret-pseudonym-key-0123456789'
printf '%s\n' "$secret" >"$TMP/k1"
printf 'another-secret-pseudonym-key-9876543210' >"$TMP/k2"
mkdir -p "$TMP/x"

export_pids() { # NAME ARGS...: export to NAME.csv, its pseudonyms in NAME.pids (sorted)
    local name=$1
    shift
    admin export pids --format csv --max-suppressed 100 --out "$TMP/x/$name.csv" "$@"
    expect_rc 0 "export $name"
    csv_column "$TMP/x/$name.csv" pid >"$TMP/x/$name.order"
    sort "$TMP/x/$name.order" >"$TMP/x/$name.pids"
    printf '%s\n%s\n' "$OUT" "$ERR" >>"$TMP/x/console"
}
export_pids a --key-file "$TMP/k1"
export_pids b --key-file "$TMP/k1"
SURVEY_EXPORT_KEY=$secret export_pids env
export_pids c --key-file "$TMP/k2"
export_pids r1
export_pids r2

n=$(sql "SELECT count(*) FROM survey.responses WHERE NOT screened_out")
expect_eq "$(sort -u "$TMP/x/a.pids" | grep -c '')" "$n" "one distinct pseudonym per row"
expect_eq "$(diff "$TMP/x/a.pids" "$TMP/x/b.pids")" "" "same key file: same pseudonyms"
expect_eq "$(diff "$TMP/x/a.pids" "$TMP/x/env.pids")" "" "the key from \$SURVEY_EXPORT_KEY: the same"
if cmp -s "$TMP/x/a.order" "$TMP/x/b.order"; then fail "two exports wrote the rows in the same order"; else pass; fi
common() { comm -12 "$1" "$2" | grep -c ''; }
expect_eq "$(common "$TMP/x/a.pids" "$TMP/x/c.pids")" 0 "another key: no pseudonym in common"
expect_eq "$(common "$TMP/x/r1.pids" "$TMP/x/r2.pids")" 0 "no key: no pseudonym in common between exports"
expect_eq "$(common "$TMP/x/a.pids" "$TMP/x/r1.pids")" 0 "no key: unrelated to the keyed ones"
expect_match "$(cat "$TMP/x/a.csv.codebook.json")" '"keyed":[[:space:]]*true' "codebook: keyed"
expect_match "$(cat "$TMP/x/r1.csv.codebook.json")" '"keyed":[[:space:]]*false' "codebook: not keyed"

# A keyed export says, in one line on standard error, that its pseudonyms join it to every other
# export made with the key (docs/export.md: never two differently suppressed exports of one wave
# to the same recipient); an export without a key does not.
note='^note: the pseudonyms are keyed: .*join.*never give one recipient two exports of a wave with different suppression'
admin export pids --format csv --max-suppressed 100 --out "$TMP/x/note.csv" --key-file "$TMP/k1"
expect_rc 0 "keyed export"
expect_eq "$(grep -cE "$note" <<<"$ERR")" 1 "a keyed export prints the note once"
SURVEY_EXPORT_KEY=$secret admin export pids --format csv --max-suppressed 100 --out "$TMP/x/note-env.csv"
expect_eq "$(grep -cE "$note" <<<"$ERR")" 1 "so does one keyed from the environment"
admin export pids --format csv --max-suppressed 100 --out "$TMP/x/note-none.csv"
expect_rc 0 "export without a key"
expect_no_match "$ERR" '^note: the pseudonyms are keyed' "without a key, no such note"

# The documented construction, recomputed from the stored submission ids.
sql "SELECT submission_id FROM survey.responses WHERE NOT screened_out" >"$TMP/sids"
python3 - "$secret" "$TMP/sids" >"$TMP/x/want.pids" <<'PY'
import hashlib, hmac, sys
key = sys.argv[1].encode()
for sid in open(sys.argv[2]):
    msg = b'survey-export-pid-v1\0pids\0' + sid.strip().encode()
    print(hmac.new(key, msg, hashlib.sha256).hexdigest()[:32])
PY
sort -o "$TMP/x/want.pids" "$TMP/x/want.pids"
expect_eq "$(diff "$TMP/x/want.pids" "$TMP/x/a.pids")" "" "pid = HMAC-SHA-256(key, domain, wave, submission id), 128 bits"

# The key is nowhere: not on the console, not in any file.
if grep -F -a -q -r -e "$secret" -e 'another-secret' "$TMP/x"; then
    fail "the key appears in an output"
else
    pass
fi

# Bad keys: a clear error, nothing written.
printf 'short\n' >"$TMP/short"
admin export pids --format csv --key-file "$TMP/short" --out "$TMP/x/bad.csv"
expect_error_line 'the key file holds 5 bytes; a pseudonym key needs at least 16' "a short key file"
SURVEY_EXPORT_KEY=tooshort admin export pids --format csv --out "$TMP/x/bad.csv"
expect_error_line 'the environment variable SURVEY_EXPORT_KEY holds 8 bytes; a pseudonym key needs at least 16' "a short key in the environment"
admin export pids --format csv --key-file "$TMP/missing" --out "$TMP/x/bad.csv"
expect_error_line 'could not open file ".*missing"' "a missing key file"
expect_eq "$(ls "$TMP/x" | grep -c bad)" 0 "nothing written for a bad key"
finish
