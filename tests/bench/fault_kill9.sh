#!/usr/bin/env bash
# The full fault runs of issue 7. Not a test: run by hand, read the figures (ctest runs the
# same script, tests/ops/fault_kill9.py, with 3 kills each).
#
#   bash tests/bench/fault_kill9.sh            # KILLS=10 CLIENTS=8
#
# Builds build/bench-ops (surveyd, survey-admin), then, each in a private durable PostgreSQL
# cluster (synchronous_commit and fsync on) on loopback, with CLIENTS retrying clients (each
# retries an unanswered or 503 submission with the same submission_id, honouring Retry-After):
#   1. kill -9 of PostgreSQL (the postmaster and every backend) KILLS times, restarted each time;
#   2. kill -9 of surveyd KILLS times, restarted on the same port each time.
# Prints, per run: each kill's recovery (kill to the next acknowledgement), acknowledged,
# stored, duplicated, lost; fails (exit 1) unless lost and duplicated are 0 and every recovery
# is within 15 s. Logs in build/bench-ops/logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
KILLS=${KILLS:-10}
CLIENTS=${CLIENTS:-8}
build=$top/build/bench-ops

echo "== build $build" >&2
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 --target surveyd survey-admin >/dev/null
mkdir -p "$build/logs"
export SURVEY_SOURCE_DIR=$top SURVEY_ADMIN=$build/admin-cli/survey-admin SURVEYD=$build/daemon/surveyd

rc=0
for target in postgres surveyd; do
    log=$build/logs/fault_kill9_$target.log
    echo "== kill -9 $target x$KILLS under $CLIENTS retrying clients (log $log)" >&2
    if ! timeout 1200 python3 tests/ops/fault_kill9.py "$SURVEYD" --target "$target" \
        --kills "$KILLS" --clients "$CLIENTS" >"$log" 2>&1; then
        rc=1
    fi
    grep -E '^(kill [0-9]+:|kill -9 |recovery |check failed|[0-9]+ passed)' "$log" || true
done
exit "$rc"
