#!/usr/bin/env bash
# Benchmark of `survey-admin index` on big waves (not a test; run by hand):
#   bash tests/bench/index_bench.sh            # 100,000 and 1,000,000 responses (ROWS to change)
# Starts a throw-away PostgreSQL cluster (tests/integration/pg_fixture.sh), fills two closed waves
# of the bundled questionnaire with synthetic valid responses written by SQL (the daemon's path
# is measured by run.sh; this measures the index), then times `index --weights none` and
# `index --weights rake --by industry,company_size` on each with GNU time: wall clock and peak
# RSS. Memory must not scale with the rows beyond the few bytes per response the variance needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
ROWS=${ROWS:-"100000 1000000"}
out=$top/build/bench/index-results.md
tmp=$(mktemp -d /tmp/survey-index-bench.XXXXXX)
trap 'tests/integration/pg_fixture.sh stop "$tmp/pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

cmake -S "$top" -B "$top/build/bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$top/build/bench" -j "$(nproc)" --target survey-admin >/dev/null
admin=$top/build/bench/admin-cli/survey-admin
command -v /usr/bin/time >/dev/null || { echo "index_bench.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

tests/integration/pg_fixture.sh start "$tmp/pg" >/dev/null
# shellcheck disable=SC1091
. "$tmp/pg/env"
createdb bench
db="dbname=bench"
"$admin" migrate --db "$db" >/dev/null

{
    echo "# survey-admin index on big waves"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
    echo "- git: $(git -C "$top" rev-parse --short HEAD); command: \`ROWS=\"$ROWS\" bash tests/bench/index_bench.sh\`"
    echo
    echo "| responses | options | wall s | peak RSS MB | responses/s |"
    echo "|---|---|---|---|---|"
} >"$out"

for rows in $ROWS; do
    wave="big-$rows"
    "$admin" wave create "$wave" --db "$db" --access open \
        --questionnaire questionnaire/definitions/genai-adoption-2025.json \
        --margins deploy/margins-kr-2025.json >/dev/null
    "$admin" wave open "$wave" --db "$db" >/dev/null
    # Valid answers drawn from the options by arithmetic on the row number; use_cases only
    # where the stage shows it. Written as the superuser, straight into the table.
    psql -X -q -v ON_ERROR_STOP=1 -d bench <<SQL
INSERT INTO survey.responses (wave_id, submission_id, questionnaire_id, answers, screened_out)
SELECT '$wave', gen_random_uuid(), w.questionnaire_id,
       jsonb_build_object(
         'role', (ARRAY['c_level','vp_director','head_of_it'])[1 + g % 3],
         'industry', (ARRAY['finance','ict','manufacturing','retail','other'])[1 + (g / 3) % 5],
         'company_size', (ARRAY['small','mid','large'])[1 + (g / 7) % 3],
         'region', (ARRAY['seoul','gyeonggi_incheon','other'])[1 + (g / 11) % 3],
         'genai_stage', (ARRAY['none','exploring','experimenting','production'])[1 + (g / 13) % 4],
         'budget_top_priority', (ARRAY['genai','security','compute','other'])[1 + (g / 17) % 4],
         'caio', (ARRAY['appointed','planned','no'])[1 + (g / 19) % 3],
         'change_mgmt', (ARRAY['in_place','planned_2025','no_plan'])[1 + (g / 23) % 3],
         'training', (ARRAY['in_place','planned_2025','no_plan'])[1 + (g / 29) % 3],
         'hiring_genai_2025', (ARRAY['yes','no','unsure'])[1 + (g / 31) % 3],
         'approach', CASE WHEN g % 37 = 0 THEN '["undecided"]'::jsonb
                          ELSE '["general_purpose","fine_tune_own_data"]'::jsonb END)
       || CASE WHEN (g / 13) % 4 >= 2 THEN '{"use_cases": ["analytics"]}'::jsonb ELSE '{}' END,
       false
  FROM generate_series(1, $rows) AS g, survey.waves w WHERE w.id = '$wave';
ANALYZE survey.responses;
SQL
    "$admin" wave close "$wave" --db "$db" >/dev/null
    for opts in "--weights none" "--weights rake --by industry,company_size"; do
        # shellcheck disable=SC2086
        if ! /usr/bin/time -f "%e %M" -o "$tmp/time" "$admin" index "$wave" --db "$db" $opts \
            --format json --out "$tmp/out.json" 2>"$tmp/err"; then
            cat "$tmp/err" >&2
            exit 1
        fi
        read -r wall kb <"$tmp/time"
        n=$(grep -o '"n_total": *[0-9]*' "$tmp/out.json" | head -n 1 | grep -o '[0-9]*$')
        [[ $n == "$rows" ]] || { echo "index_bench.sh: index read $n responses, not $rows" >&2; exit 1; }
        rate=$(awk -v r="$rows" -v s="$wall" 'BEGIN { printf "%.0f", r / (s > 0 ? s : 0.01) }')
        mb=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
        printf '| %s | `%s` | %s | %s | %s |\n' "$rows" "$opts" "$wall" "$mb" "$rate" >>"$out"
    done
done
cat "$out"
