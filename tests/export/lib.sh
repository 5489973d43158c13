# shellcheck shell=bash
# Shared set-up for the export tests: the CLI tests' assertions (tests/cli/lib.sh), and a
# synthetic closed wave of the bundled questionnaire whose answers carry what must never leave:
# e-mail addresses, names in comments, formula-like strings and Korean text. Responses go in
# through survey.submit_responses, as the daemon stores them (as the superuser, who may call it).
#   source "$(dirname "$0")/lib.sh"

# shellcheck source=../cli/lib.sh
source "$SURVEY_SOURCE_DIR/tests/cli/lib.sh"

# shellcheck disable=SC2034
EXPORT_ABOUT=$SURVEY_SOURCE_DIR/deploy/about-kr-2025.json

# make_wave WAVE N [open]: create WAVE (open access, the bundled questionnaire, margins and
# study description), store N responses (every 15th screened out), and close it unless the
# third argument is "open". Answers are drawn from hashes of the row number, skewed so that
# some combinations of industry, company size and region are rare. genai_budget_share has a
# long tail: every 50th answer is 95 or more. A failure ends the test.
make_wave() {
    local wave=$1 n=$2
    admin wave create "$wave" --access open --questionnaire "$BUNDLED" \
        --margins "$SURVEY_SOURCE_DIR/deploy/margins-kr-2025.json" --about "$EXPORT_ABOUT"
    [[ $RC -eq 0 ]] || { fail "wave create $wave"; show_run; finish; }
    admin wave open "$wave"
    [[ $RC -eq 0 ]] || { fail "wave open $wave"; show_run; finish; }
    if ! sql "
SELECT survey.submit_responses(jsonb_agg(item)) FROM (
  SELECT jsonb_build_object(
    'wave', :'v1', 'submission_id', gen_random_uuid(), 'screened_out', g % 15 = 0,
    'answers', CASE WHEN g % 15 = 0 THEN
        jsonb_build_object('role', 'other',
                           'comments', '이영희' || g || ' screened =1+1',
                           'contact_email', 'screened' || g || '@example.org')
      ELSE jsonb_build_object(
        'role', (ARRAY['c_level','vp_director','head_of_it'])[1 + abs(hashint4(g)) % 3],
        'industry', (ARRAY['finance','ict','ict','manufacturing','manufacturing','manufacturing',
                           'retail','retail','other'])[1 + abs(hashint4(g + 1000000)) % 9],
        'company_size', (ARRAY['small','small','small','mid','mid','large'])
                        [1 + abs(hashint4(g + 2000000)) % 6],
        'region', (ARRAY['seoul','seoul','seoul','seoul','gyeonggi_incheon','gyeonggi_incheon',
                         'other'])[1 + abs(hashint4(g + 3000000)) % 7],
        'genai_stage', (ARRAY['none','exploring','experimenting','production'])
                       [1 + abs(hashint4(g + 4000000)) % 4],
        'budget_top_priority', (ARRAY['genai','security','compute','other'])
                               [1 + abs(hashint4(g + 5000000)) % 4],
        'caio', (ARRAY['appointed','planned','no'])[1 + abs(hashint4(g + 6000000)) % 3],
        'change_mgmt', (ARRAY['in_place','planned_2025','no_plan'])[1 + g % 3],
        'training', (ARRAY['in_place','planned_2025','no_plan'])[1 + (g / 3) % 3],
        'hiring_genai_2025', (ARRAY['yes','no','unsure'])[1 + (g / 9) % 3],
        'approach', CASE WHEN g % 11 = 0 THEN '[\"undecided\"]'::jsonb
                         ELSE '[\"general_purpose\",\"fine_tune_own_data\"]'::jsonb END)
        || CASE WHEN g % 4 = 0 THEN '{}'::jsonb
                ELSE jsonb_build_object('genai_budget_share',
                                        CASE WHEN g % 50 = 0 THEN 95 + (g % 5) ELSE (g % 40) / 2.0 END)
           END
        || CASE WHEN g % 3 = 0 THEN '{}'::jsonb ELSE jsonb_build_object(
             'comments', '=HYPERLINK(\"http://evil.example/' || g || '\",\"클릭\") 홍길동' || g ||
                         ' 님: @SUM(1+1) +82-10-' || g || ' 한국어 의견 ' || g,
             'contact_email', 'hong.gildong' || g || '@example.com') END
      END
    || CASE WHEN abs(hashint4(g + 4000000)) % 4 >= 2 AND g % 15 <> 0
            THEN '{\"use_cases\": [\"analytics\", \"marketing\"]}'::jsonb ELSE '{}'::jsonb END)
    AS item
  FROM generate_series(1, :'v2'::int) AS g) AS s" "$wave" "$n" >/dev/null; then
        fail "storing the responses of $wave"
        finish
    fi
    if [[ ${3:-} != open ]]; then
        admin wave close "$wave"
        [[ $RC -eq 0 ]] || { fail "wave close $wave"; show_run; finish; }
    fi
}

# csv_column FILE NAME: the values of one column of an export's CSV (no quoted cells in them).
csv_column() {
    python3 - "$1" "$2" <<'PY'
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    r = csv.DictReader(f)
    for row in r:
        print(row[sys.argv[2]])
PY
}
