#!/usr/bin/env bash
# Benchmark of `survey-admin export` on big waves (not a test; run by hand):
#   bash tests/bench/export_bench.sh   # 100,000 and 1,000,000 responses (ROWS to change; BUILD
#                                      # names the Release build directory, default build/bench)
# Starts a throw-away PostgreSQL cluster (tests/integration/pg_fixture.sh), fills a closed wave
# of the bundled questionnaire per size with synthetic valid responses written by SQL (with
# comments and e-mail addresses, which the export must drop), then exports each to CSV and to
# SAV with GNU time: wall clock and peak RSS. Memory must not grow with the rows: both passes
# stream through server-side cursors, and k-anonymity is planned on the distinct combinations.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
ROWS=${ROWS:-"100000 1000000"}
build=${BUILD:-$top/build/bench}
out=$build/export-results.md
tmp=$(mktemp -d /tmp/survey-export-bench.XXXXXX)
trap 'tests/integration/pg_fixture.sh stop "$tmp/pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j 2 --target survey-admin >/dev/null
admin=$build/admin-cli/survey-admin
command -v /usr/bin/time >/dev/null || { echo "export_bench.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

tests/integration/pg_fixture.sh start "$tmp/pg" >/dev/null
# shellcheck disable=SC1091
. "$tmp/pg/env"
createdb bench
db="dbname=bench"
"$admin" migrate --db "$db" >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/key"

{
    echo "# survey-admin export on big waves"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
    echo "- git: $(git -C "$top" rev-parse --short HEAD); command: \`ROWS=\"$ROWS\" bash tests/bench/export_bench.sh\`"
    echo "- every 20th response screened out; k=5 over industry x company_size x region; keyed pseudonyms"
    echo
    echo "| responses | format | wall s | peak RSS MB | rows/s | file MB |"
    echo "|---|---|---|---|---|---|"
} >"$out"

for rows in $ROWS; do
    wave="big-$rows"
    "$admin" wave create "$wave" --db "$db" --access open \
        --questionnaire questionnaire/definitions/genai-adoption-2025.json \
        --about deploy/about-kr-2025.json >/dev/null
    "$admin" wave open "$wave" --db "$db" >/dev/null
    # Valid answers drawn from the options by arithmetic on the row number; every 20th screened
    # out. Written as the superuser, straight into the table.
    psql -X -q -v ON_ERROR_STOP=1 -d bench <<SQL
INSERT INTO survey.responses (wave_id, submission_id, questionnaire_id, answers, screened_out)
SELECT '$wave', gen_random_uuid(), w.questionnaire_id,
       CASE WHEN g % 20 = 0 THEN '{"role": "other"}'::jsonb ELSE
       jsonb_build_object(
         'role', (ARRAY['c_level','vp_director','head_of_it'])[1 + g % 3],
         'industry', (ARRAY['finance','ict','manufacturing','retail','other'])[1 + (g / 3) % 5],
         'company_size', (ARRAY['small','mid','large'])[1 + (g / 7) % 3],
         'region', (ARRAY['seoul','gyeonggi_incheon','other'])[1 + (g / 11) % 3],
         'genai_stage', (ARRAY['none','exploring','experimenting','production'])[1 + (g / 13) % 4],
         'budget_top_priority', (ARRAY['genai','security','compute','other'])[1 + (g / 17) % 4],
         'genai_budget_share', (g % 1000) / 10.0,
         'caio', (ARRAY['appointed','planned','no'])[1 + (g / 19) % 3],
         'change_mgmt', (ARRAY['in_place','planned_2025','no_plan'])[1 + (g / 23) % 3],
         'training', (ARRAY['in_place','planned_2025','no_plan'])[1 + (g / 29) % 3],
         'hiring_genai_2025', (ARRAY['yes','no','unsure'])[1 + (g / 31) % 3],
         'approach', CASE WHEN g % 37 = 0 THEN '["undecided"]'::jsonb
                          ELSE '["general_purpose","fine_tune_own_data"]'::jsonb END,
         'comments', '=HYPERLINK("x") 홍길동 ' || g,
         'contact_email', 'person' || g || '@example.com')
       || CASE WHEN (g / 13) % 4 >= 2 THEN '{"use_cases": ["analytics"]}'::jsonb ELSE '{}' END
       END,
       g % 20 = 0
  FROM generate_series(1, $rows) AS g, survey.waves w WHERE w.id = '$wave';
ANALYZE survey.responses;
SQL
    "$admin" wave close "$wave" --db "$db" >/dev/null
    eligible=$((rows - rows / 20))
    for format in csv sav; do
        if ! /usr/bin/time -f "%e %M" -o "$tmp/time" "$admin" export "$wave" --db "$db" \
            --format "$format" --key-file "$tmp/key" --out "$tmp/out.$format" 2>"$tmp/err"; then
            cat "$tmp/err" >&2
            exit 1
        fi
        read -r wall kb <"$tmp/time"
        n=$(grep -o '"rows":[[:space:]]*[0-9]*' "$tmp/out.$format.codebook.json" | grep -o '[0-9]*$')
        [[ $n == "$eligible" ]] || { echo "export_bench.sh: exported $n rows, not $eligible" >&2; exit 1; }
        if grep -a -q -F -e '@example.com' -e '홍길동' "$tmp/out.$format"; then
            echo "export_bench.sh: an identifying value in the export" >&2
            exit 1
        fi
        rate=$(awk -v r="$eligible" -v s="$wall" 'BEGIN { printf "%.0f", r / (s > 0 ? s : 0.01) }')
        mb=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
        size=$(stat -c %s "$tmp/out.$format" | awk '{ printf "%.1f", $1 / 1048576 }')
        printf '| %s | %s | %s | %s | %s | %s |\n' "$rows" "$format" "$wall" "$mb" "$rate" "$size" >>"$out"
        rm -f "$tmp/out.$format"
    done
done
cat "$out"
