#!/usr/bin/env bash
# Run one integration test against a fresh database of its own in the fixture's cluster
# (pg_fixture.sh). The command gets SURVEY_TEST_DB and DATABASE_URL (a libpq connection string);
# the database is dropped when the command passes and kept for a look when it fails.
set -uo pipefail

prog=with_pg.sh

die() {
    echo "$prog: $*" >&2
    exit 1
}

[[ $# -ge 2 ]] || {
    echo "usage: $prog TESTNAME CMD [ARGS...]" >&2
    exit 2
}
name=$1
shift

[[ -n ${SURVEY_PG_DIR:-} ]] || die "SURVEY_PG_DIR is not set (run through ctest)"
[[ -f $SURVEY_PG_DIR/env ]] || die "$SURVEY_PG_DIR/env is missing: is the pg_start fixture running?"
# shellcheck disable=SC1091
source "$SURVEY_PG_DIR/env"

# A database name from the test name: lower case, [a-z0-9_] only, within the 63-byte limit.
db=t_$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_' '_')
db=${db:0:63}

admin_psql() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres "$@"
}

admin_psql -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" ||
    die "could not create database \"$db\""

export SURVEY_TEST_DB="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$db"
export DATABASE_URL=$SURVEY_TEST_DB
export PGDATABASE=$db

"$@"
rc=$?

if [[ $rc -eq 0 ]]; then
    admin_psql -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" ||
        echo "$prog: warning: could not drop database \"$db\"" >&2
else
    echo "$prog: $name exited with status $rc; database \"$db\" kept for inspection" >&2
fi
exit "$rc"
