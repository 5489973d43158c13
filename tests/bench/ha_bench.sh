#!/usr/bin/env bash
# The high-availability benchmark (issue 8), by hand, not a test: builds surveyd and
# survey-admin (Release) in build/ha-bench, then tests/bench/ha_bench.py starts a
# pg_auto_failover formation on loopback (deploy/ha/ha-local.sh), measures throughput with the
# synchronous standby against the primary alone in the same run, and times RUNS failovers of a
# whole node and RUNS kills of the primary's postgres under retrying clients, counting what was
# acknowledged against what the new primary stores. Prints Markdown tables (docs/ha.md).
#
#   bash tests/bench/ha_bench.sh [RUNS (5)] [WRK_SECONDS (15)]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build/ha-bench
runs=${1:-5}
seconds=${2:-15}

for t in wrk pg_autoctl psql cmake python3; do
    command -v "$t" >/dev/null || {
        echo "ha_bench.sh: $t is missing (bash scripts/deps.sh)" >&2
        exit 1
    }
done
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target surveyd survey-admin >/dev/null

export SURVEY_SOURCE_DIR=$top
export SURVEYD=$build/daemon/surveyd
export SURVEY_ADMIN=$build/admin-cli/survey-admin
echo "ha_bench.sh: $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, runs=$runs, wrk ${seconds}s" >&2
# Bounded: a hung step ends the run (the script's own clean-up stops the formation).
exec timeout -k 30 3600 python3 "$top/tests/bench/ha_bench.py" "$SURVEYD" "$runs" "$seconds"
