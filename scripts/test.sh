#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with warnings as errors and runs the whole
# ctest suite (unit, integration against a private PostgreSQL, fuzz corpus replay), then does
# the same in an AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/deps.sh

run_suite() {
    local name=$1
    shift
    local dir=$top/build/$name
    echo "== $name: configure and build" >&2
    cmake -S "$top" -B "$dir" -DSURVEY_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs" >/dev/null
    echo "== $name: ctest" >&2
    (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

run_suite default -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite sanitize -DCMAKE_BUILD_TYPE=Debug -DSURVEY_SANITIZE=ON
echo "== all test suites passed" >&2
