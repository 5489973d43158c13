#!/usr/bin/env bash
# A longer slow-client soak than ctest's (tests/ops/attack_slow_clients.py: 400 connections,
# 10 s per attack). Not a test: run by hand, read the figures.
#
#   bash tests/bench/soak_slow_clients.sh      # CONNS=4000 ATTACK_S=120 DEADLINE_MS=20000
#
# Builds build/bench-ops, starts the pg fixture's cluster in build/bench-ops/pgsoak, and runs
# the slowloris and slow-body attacks with CONNS connections (then a slowloris beyond the cap)
# for up to ATTACK_S seconds each while a probe submits once a second: every probe acknowledged,
# descriptors under the cap. slowhttptest does not reconnect: an attack ends early once
# surveyd's head and body deadlines (DEADLINE_MS, 20 s; 4 s in ctest) have closed all its
# connections.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
build=$top/build/bench-ops
export OPS_SLOW_CONNS=${CONNS:-4000} OPS_SLOW_ATTACK_S=${ATTACK_S:-120}
export OPS_SLOW_MAX_CONNECTIONS=$((OPS_SLOW_CONNS + OPS_SLOW_CONNS / 2))
# Longer head and body deadlines than ctest's 4 s, so that the connections pile up.
export OPS_SLOW_DEADLINE_MS=${DEADLINE_MS:-20000}

echo "== build $build" >&2
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j 2 --target surveyd survey-admin >/dev/null
mkdir -p "$build/logs"
pgdir=$build/pgsoak
tests/integration/pg_fixture.sh start "$pgdir" >&2
trap 'tests/integration/pg_fixture.sh stop "$pgdir" >&2' EXIT
export SURVEY_PG_DIR=$pgdir SURVEY_SOURCE_DIR=$top SURVEY_ADMIN=$build/admin-cli/survey-admin
export SURVEYD=$build/daemon/surveyd
# As many descriptors as this shell may have: slowhttptest needs one per connection.
ulimit -n "$(ulimit -Hn)"
log=$build/logs/soak_slow_clients.log
echo "== slowloris and slow body, $OPS_SLOW_CONNS connections for $OPS_SLOW_ATTACK_S s each (log $log)" >&2
rc=0
timeout 1800 tests/integration/with_pg.sh soak_slow_clients python3 tests/ops/attack_slow_clients.py \
    "$SURVEYD" >"$log" 2>&1 || rc=1
grep -E '^(slowloris|slow body|check failed|[0-9]+ passed)' "$log" || true
exit "$rc"
