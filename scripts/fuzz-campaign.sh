#!/usr/bin/env bash
# A fuzzing campaign: builds every libFuzzer target (clang, -DSURVEY_FUZZ=ON) and runs each for
# the given time on a copy of its committed corpus (tests/fuzz/corpus/NAME), one after the other,
# then prints one line per target: executions, executions per second, coverage (edges and
# features), corpus size, and crashes (crash, leak, timeout and out-of-memory inputs, kept in
# the campaign directory). With --merge, inputs that add coverage are minimised into the
# committed corpus (libFuzzer -merge=1), to be reviewed and committed.
#
#   scripts/fuzz-campaign.sh [--seconds N] [--build DIR] [--out DIR] [--merge] [TARGET...]
#
# Defaults: 600 seconds per target, build/fuzz, a new directory under /tmp, every target.
# Exit status: 0 when no target crashed, 1 when one did, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

seconds=600
build=$top/build/fuzz
out=""
merge=0
targets=()
usage() {
    sed -n '9,10p' "$0" | sed 's/^#   /usage: /' >&2
    exit 2
}
while [[ $# -gt 0 ]]; do
    case $1 in
    --seconds) seconds=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --merge) merge=1; shift ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) targets+=("$1"); shift ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || usage
command -v clang >/dev/null || { echo "fuzz-campaign.sh: clang is missing (apt-get install clang)" >&2; exit 1; }

echo "== build $build (clang, SURVEY_FUZZ=ON)" >&2
CC=clang cmake -S "$top" -B "$build" -DSURVEY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [[ ${#targets[@]} -eq 0 ]]; then
    # Every fuzz_NAME target that has a committed corpus.
    for c in "$top"/tests/fuzz/corpus/*/; do
        targets+=("fuzz_$(basename "$c")")
    done
fi
cmake --build "$build" -j 2 --target "${targets[@]}" >/dev/null

out=${out:-$(mktemp -d /tmp/fuzz-campaign.XXXXXX)}
mkdir -p "$out"
summary=$out/summary.txt
printf '%-20s %8s %14s %10s %8s %8s %9s %8s\n' target seconds executions exec/s edges features corpus crashes >"$summary"
crashed=0
for t in "${targets[@]}"; do
    name=${t#fuzz_}
    exe=$build/tests/fuzz/$t
    seed=$top/tests/fuzz/corpus/$name
    [[ -x $exe ]] || { echo "fuzz-campaign.sh: $exe was not built" >&2; exit 1; }
    [[ -d $seed ]] || { echo "fuzz-campaign.sh: no corpus $seed" >&2; exit 1; }
    work=$out/$t
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "$seed"/* "$work/corpus/"
    echo "== $t for $seconds s ($(ls "$seed" | wc -l) seed inputs; log $work/fuzz.log)" >&2
    # Keep going after a crash (-fork would spread over cores; the machine has two, shared):
    # one process, and the first crash ends the run, which is what a campaign must report.
    set +e
    ASAN_OPTIONS=detect_leaks=1 "$exe" -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$work/fuzz.log" | tail -n 1 || true)
    edges=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corpus=$(ls "$work/corpus" | wc -l)
    crashes=$(find "$work/artifacts" -type f | wc -l)
    if [[ $rc -ne 0 || $crashes -gt 0 ]]; then
        crashed=1
        echo "   $t stopped with status $rc; inputs in $work/artifacts" >&2
        grep -m 5 -E 'ERROR|property failed|SUMMARY' "$work/fuzz.log" >&2 || true
    fi
    printf '%-20s %8s %14s %10s %8s %8s %9s %8s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
        "${edges:-?}" "${features:-?}" "$corpus" "$crashes" >>"$summary"
    if [[ $merge -eq 1 ]]; then
        before=$(ls "$seed" | wc -l)
        "$exe" -merge=1 -max_len=65536 "$seed" "$work/corpus" >"$work/merge.log" 2>&1
        echo "   merged into $seed: $before -> $(ls "$seed" | wc -l) inputs" >&2
    fi
done
echo "== campaign results ($out)" >&2
cat "$summary"
exit "$crashed"
