#!/usr/bin/env bash
# `migrate` on a fresh database applies every migration once and records its version, name and
# SHA-256; a second run changes nothing and says the schema is up to date.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrations=()
for f in "$SURVEY_SOURCE_DIR"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
    migrations+=("$(basename "$f" .sql)")
done
latest=$((10#${migrations[-1]:0:4}))

admin migrate
expect_rc 0 "first migrate"
for m in "${migrations[@]}"; do
    expect_match "$OUT" "^applied $m\$" "first migrate reports $m"
done
expect_match "$OUT" "^schema is up to date \\(version $latest\\)\$" "first migrate ends up to date"
expect_eq "$ERR" "" "first migrate prints nothing on stderr"

# What is recorded: one row per file, with the file's own SHA-256.
expect_eq "$(sql 'SELECT count(*) FROM public.schema_migrations')" "${#migrations[@]}" \
    "one schema_migrations row per migration file"
for m in "${migrations[@]}"; do
    want=$(sha256sum "$SURVEY_SOURCE_DIR/migrations/$m.sql" | cut -c1-64)
    got=$(sql "SELECT version || ' ' || sha256 FROM public.schema_migrations WHERE name = :'v1'" "$m")
    expect_eq "$got" "$((10#${m:0:4})) $want" "recorded version and sha256 of $m"
done
expect_eq "$(sql "SELECT to_regclass('survey.waves') IS NOT NULL")" "t" "the schema exists"

before=$(sql 'SELECT string_agg(version || applied_at::text, ",") FROM public.schema_migrations')
tables_before=$(sql "SELECT count(*) FROM pg_class WHERE relnamespace = 'survey'::regnamespace")

admin migrate
expect_rc 0 "second migrate"
expect_eq "$OUT" "schema is up to date (version $latest)" "second migrate applies nothing"
expect_eq "$(sql 'SELECT string_agg(version || applied_at::text, ",") FROM public.schema_migrations')" \
    "$before" "second migrate leaves the records alone"
expect_eq "$(sql "SELECT count(*) FROM pg_class WHERE relnamespace = 'survey'::regnamespace")" \
    "$tables_before" "second migrate creates nothing"

# --db is accepted before or after the command, and wins over DATABASE_URL.
real=$DATABASE_URL
run env DATABASE_URL="dbname=surely_not_there" "$SURVEY_ADMIN" --db "$real" migrate
expect_rc 0 "--db before the command"
run env DATABASE_URL="dbname=surely_not_there" "$SURVEY_ADMIN" migrate --db "$real"
expect_rc 0 "--db after the command"
run env DATABASE_URL="dbname=surely_not_there host=$PGHOST port=$PGPORT" "$SURVEY_ADMIN" migrate
expect_error_line 'could not connect to the database' "an unreachable database is a one-line error"

# A password in the connection string is never echoed.
run "$SURVEY_ADMIN" migrate --db "host=$PGHOST port=$PGPORT dbname=nope user=nobody_here password=s3cr3t-pw"
expect_rc 1 "a failing connection with a password"
expect_no_match "$OUT$ERR" 's3cr3t-pw' "the password is not printed"

finish
