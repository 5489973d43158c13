#!/usr/bin/env bash
# Several `migrate` runs at once on a fresh database serialise on the advisory lock: all
# succeed, each migration is applied by exactly one of them and recorded once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

n_files=$(find "$SURVEY_SOURCE_DIR/migrations" -name '[0-9][0-9][0-9][0-9]_*.sql' | grep -c '')
pids=()
for i in 1 2 3 4; do
    "$SURVEY_ADMIN" migrate >"$TMP/out$i" 2>"$TMP/err$i" &
    pids+=($!)
done
for i in 1 2 3 4; do
    wait "${pids[$((i - 1))]}"
    # shellcheck disable=SC2034 # RC, OUT and ERR are what lib.sh's checks read
    RC=$? OUT=$(cat "$TMP/out$i") ERR=$(cat "$TMP/err$i")
    expect_rc 0 "migrator $i"
    expect_eq "$ERR" "" "migrator $i has no error"
done
expect_eq "$(cat "$TMP"/out? | grep -c '^applied ')" "$n_files" \
    "each migration was applied by exactly one migrator"
expect_eq "$(sql 'SELECT count(*) FROM public.schema_migrations')" "$n_files" "recorded once each"

finish
