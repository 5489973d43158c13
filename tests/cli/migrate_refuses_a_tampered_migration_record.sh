#!/usr/bin/env bash
# A migration whose recorded SHA-256 differs from the built-in file was changed after it was
# applied: `migrate` refuses (exit 1, one line) and changes nothing. A record of a migration this
# binary does not know (a newer schema) is refused too.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate
first=$(sql 'SELECT name FROM public.schema_migrations ORDER BY version LIMIT 1')
sql "UPDATE public.schema_migrations SET sha256 = repeat('0', 64) WHERE name = :'v1'" "$first" >/dev/null

admin migrate
expect_error_line "^survey-admin: migration $first was changed after it was applied\$" \
    "a tampered record is refused"
expect_eq "$OUT" "" "nothing is reported as applied"
expect_eq "$(sql "SELECT sha256 FROM public.schema_migrations WHERE name = :'v1'" "$first")" \
    "$(printf '0%.0s' {1..64})" "the record is left as it was"

# Put the record back: migrate is happy again.
want=$(sha256sum "$SURVEY_SOURCE_DIR/migrations/$first.sql" | cut -c1-64)
sql "UPDATE public.schema_migrations SET sha256 = :'v2' WHERE name = :'v1'" "$first" "$want" >/dev/null
admin migrate
expect_rc 0 "the restored record is accepted"

# A migration from the future: this binary must not run against a schema it does not know.
sql "INSERT INTO public.schema_migrations (version, name, sha256) VALUES (9999, '9999_future', repeat('a', 64))" >/dev/null
admin migrate
expect_error_line 'migration 9999 \(9999_future\).*newer survey-admin' "an unknown newer migration is refused"

finish
