/*
 * The seed study's responses (seedgen.h). Each single-choice question gets a list with exactly
 * the designed number of each option, shuffled by its own deterministic generator, so the
 * published percentages come out exactly while the answers are spread over the profile
 * variables the way a real sample would be (not in proportion to the population margins).
 */
#include "seedgen.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

const char *const seed_industry_codes[N_INDUSTRY] = {"finance", "ict", "manufacturing", "retail",
                                                     "other"};
const char *const seed_size_codes[N_SIZE] = {"small", "mid", "large"};
static const char *const region_codes[N_REGION] = {"seoul", "gyeonggi_incheon", "other"};
static const char *const stage_codes[N_STAGE] = {"none", "exploring", "experimenting",
                                                 "production"};
static const char *const budget_codes[N_BUDGET] = {"genai", "security", "compute", "other"};
static const char *const caio_codes[N_CAIO] = {"appointed", "planned", "no"};
static const char *const plan_codes[N_PLAN] = {"in_place", "planned_2025", "no_plan"};
static const char *const hire_codes[N_HIRE] = {"yes", "no", "unsure"};
static const char *const role_codes[N_ROLE] = {"c_level", "vp_director", "head_of_it", "other"};
static const char *const approach_codes[5] = {"general_purpose", "custom_on_pretrained",
                                              "fine_tune_own_data", "build_from_scratch",
                                              "undecided"};
static const char *const use_case_codes[6] = {"customer_service",    "software_development",
                                              "document_processing", "marketing",
                                              "analytics",           "other"};

/* PRODUCT.md's table. */
const struct seed_indicator seed_indicators[SEED_N_INDICATORS] = {
    {"production", 45, false},
    {"experimenting", 89, false},
    {"hiring_2025", 96, false},
    {"budget_top_genai", 54, false},
    {"budget_top_security", 20, false},
    {"budget_top_compute", 17, false},
    {"caio_appointed", 63, false},
    {"change_mgmt_in_place", 10, false},
    {"change_mgmt_planned_2025", 78, false},
    {"training_in_place", 54, false},
    {"training_planned_2025", 17, false},
    {"approach_general_purpose", 56, true},
    {"approach_custom_pretrained", 53, true},
    {"approach_fine_tune", 41, true},
};

/* The design: how many of the 424 eligible respondents give each option. */
static const int n_industry[N_INDUSTRY] = {96, 118, 104, 80, 26};
static const int n_size[N_SIZE] = {150, 265, 9};
static const int n_region[N_REGION] = {250, 110, 64};
static const int n_stage[N_STAGE] = {17, 30, 186, 191};
static const int n_budget[N_BUDGET] = {229, 85, 72, 38};
static const int n_caio[N_CAIO] = {267, 110, 47};
static const int n_change[N_PLAN] = {42, 331, 51};
static const int n_training[N_PLAN] = {229, 72, 123};
static const int n_hire[N_HIRE] = {407, 6, 11};
static const int n_role[3] = {120, 160, 144};
/* approach: respondents who pick each of the three counted options */
static const int n_general_purpose = 237, n_custom = 225, n_fine_tune = 174;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *state, unsigned n)
{
    return (unsigned)(next_u64(state) % n);
}

/* out[SEED_ELIGIBLE]: option o exactly counts[o] times, in an order shuffled by seed. */
static void assign(int *out, const int *counts, int n_options, uint64_t seed)
{
    int at = 0;
    for (int o = 0; o < n_options; o++) {
        for (int k = 0; k < counts[o] && at < SEED_ELIGIBLE; k++) {
            out[at++] = o;
        }
    }
    while (at < SEED_ELIGIBLE) {
        out[at++] = -1; /* a design error: seedgen_check reports it */
    }
    uint64_t state = seed;
    for (int i = SEED_ELIGIBLE - 1; i > 0; i--) {
        int j = (int)below(&state, (unsigned)i + 1);
        int t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

static void assign_flag(int *out, int count, uint64_t seed)
{
    int counts[2] = {SEED_ELIGIBLE - count, count};
    assign(out, counts, 2, seed);
}

static double item_plan(int v)
{
    return v == PLAN_IN_PLACE ? 100 : v == PLAN_PLANNED_2025 ? 50 : 0;
}

/* PRODUCT.md: the mean of five pillars; Talent is the mean of training and hiring. */
static double score_of(const struct seed_response *r)
{
    static const double stage[N_STAGE] = {0, 100.0 / 3, 200.0 / 3, 100};
    double adoption = stage[r->genai_stage];
    double investment = r->budget == BUD_GENAI ? 100 : 0;
    double leadership = r->caio == CAIO_APPOINTED ? 100 : r->caio == CAIO_PLANNED ? 50 : 0;
    double change = item_plan(r->change_mgmt);
    double hiring = r->hiring == HIRE_YES ? 100 : r->hiring == HIRE_UNSURE ? 50 : 0;
    double talent = (item_plan(r->training) + hiring) / 2;
    return (adoption + investment + leadership + change + talent) / 5;
}

/* Append to buf at *at; a truncation leaves *at >= size, which seedgen_check reports. */
#define APPEND(buf, at, ...)                                                                       \
    do {                                                                                           \
        if (*(at) < sizeof(buf)) {                                                                 \
            *(at) += (size_t)snprintf((buf) + *(at), sizeof(buf) - *(at), __VA_ARGS__);            \
        }                                                                                          \
    } while (0)

static void append_codes(char *buf, size_t size, size_t *at, const char *key, unsigned mask,
                         const char *const *codes, int n_codes)
{
    if (*at < size) {
        *at += (size_t)snprintf(buf + *at, size - *at, ",\"%s\":[", key);
    }
    bool first = true;
    for (int c = 0; c < n_codes; c++) {
        if ((mask & (1u << c)) != 0 && *at < size) {
            *at += (size_t)snprintf(buf + *at, size - *at, "%s\"%s\"", first ? "" : ",", codes[c]);
            first = false;
        }
    }
    if (*at < size) {
        *at += (size_t)snprintf(buf + *at, size - *at, "]");
    }
}

static void render_answers(struct seed_response *r, unsigned budget_share_tenths, bool has_share)
{
    size_t at = 0;
    if (r->screened_out) {
        APPEND(r->answers, &at, "{\"role\":\"%s\"}", role_codes[ROLE_OTHER]);
        return;
    }
    APPEND(r->answers, &at,
           "{\"role\":\"%s\",\"industry\":\"%s\",\"company_size\":\"%s\",\"region\":\"%s\","
           "\"genai_stage\":\"%s\"",
           role_codes[r->role], seed_industry_codes[r->industry], seed_size_codes[r->company_size],
           region_codes[r->region], stage_codes[r->genai_stage]);
    if (r->use_cases != 0) {
        append_codes(r->answers, sizeof r->answers, &at, "use_cases", r->use_cases, use_case_codes,
                     6);
    }
    APPEND(r->answers, &at, ",\"budget_top_priority\":\"%s\"", budget_codes[r->budget]);
    if (has_share) {
        APPEND(r->answers, &at, ",\"genai_budget_share\":%u.%u", budget_share_tenths / 10,
               budget_share_tenths % 10);
    }
    APPEND(r->answers, &at,
           ",\"caio\":\"%s\",\"change_mgmt\":\"%s\",\"training\":\"%s\","
           "\"hiring_genai_2025\":\"%s\"",
           caio_codes[r->caio], plan_codes[r->change_mgmt], plan_codes[r->training],
           hire_codes[r->hiring]);
    append_codes(r->answers, sizeof r->answers, &at, "approach", r->approach, approach_codes, 5);
    if (r->has_comment) {
        APPEND(r->answers, &at,
               ",\"comments\":\"보안 검토와 데이터 거버넌스가 가장 큰 과제입니다 (%s).\"",
               r->comment_marker);
    }
    if (r->has_email) {
        APPEND(r->answers, &at, ",\"contact_email\":\"%s\"", r->email);
    }
    APPEND(r->answers, &at, "}");
}

void seedgen_generate(struct seed_response r[SEED_TOTAL], unsigned wave_tag)
{
    static int industry[SEED_ELIGIBLE], size[SEED_ELIGIBLE], region[SEED_ELIGIBLE],
        stage[SEED_ELIGIBLE], budget[SEED_ELIGIBLE], caio[SEED_ELIGIBLE], change[SEED_ELIGIBLE],
        training[SEED_ELIGIBLE], hire[SEED_ELIGIBLE], role[SEED_ELIGIBLE], gp[SEED_ELIGIBLE],
        custom[SEED_ELIGIBLE], fine[SEED_ELIGIBLE];
    assign(industry, n_industry, N_INDUSTRY, 101);
    assign(size, n_size, N_SIZE, 202);
    assign(region, n_region, N_REGION, 303);
    assign(stage, n_stage, N_STAGE, 404);
    assign(budget, n_budget, N_BUDGET, 505);
    assign(caio, n_caio, N_CAIO, 606);
    assign(change, n_change, N_PLAN, 707);
    assign(training, n_training, N_PLAN, 808);
    assign(hire, n_hire, N_HIRE, 909);
    assign(role, n_role, 3, 1010);
    assign_flag(gp, n_general_purpose, 1111);
    assign_flag(custom, n_custom, 1212);
    assign_flag(fine, n_fine_tune, 1313);
    uint64_t extra = 1414; /* the optional answers and the choices nobody counts */

    memset(r, 0, SEED_TOTAL * sizeof *r);
    int e = 0;
    for (int p = 0; p < SEED_TOTAL; p++) {
        struct seed_response *x = &r[p];
        snprintf(x->submission_id, sizeof x->submission_id, "%08x-0000-4000-8000-%012x",
                 0x5eed0000u | (wave_tag & 0xffffu), (unsigned)p + 1);
        /* Every 22nd respondent is screened out: 20 of the 444, spread through the field. */
        if (p % 22 == 21 && p / 22 < SEED_SCREENED_OUT) {
            x->screened_out = true;
            x->role = ROLE_OTHER;
            x->score = NAN;
            render_answers(x, 0, false);
            continue;
        }
        if (e >= SEED_ELIGIBLE) {
            break; /* cannot happen with 444 and 20 */
        }
        x->role = role[e];
        x->industry = industry[e];
        x->company_size = size[e];
        x->region = region[e];
        x->genai_stage = stage[e];
        x->budget = budget[e];
        x->caio = caio[e];
        x->change_mgmt = change[e];
        x->training = training[e];
        x->hiring = hire[e];
        x->approach = (gp[e] ? APP_GENERAL_PURPOSE : 0u) |
                      (custom[e] ? APP_CUSTOM_ON_PRETRAINED : 0u) |
                      (fine[e] ? APP_FINE_TUNE_OWN_DATA : 0u);
        unsigned roll = below(&extra, 24);
        if (x->approach == 0) {
            /* Nobody counted: building their own, or undecided (alone, it is exclusive). */
            x->approach = roll % 3 == 0 ? APP_BUILD_FROM_SCRATCH : APP_UNDECIDED;
        } else if (roll % 8 == 0) {
            x->approach |= APP_BUILD_FROM_SCRATCH;
        }
        /* use_cases is shown (and then required, 1-6 choices) only to those experimenting. */
        unsigned mask = 1 + below(&extra, 63);
        x->use_cases =
            x->genai_stage == STAGE_EXPERIMENTING || x->genai_stage == STAGE_PRODUCTION ? mask : 0;
        unsigned share = below(&extra, 401);
        bool has_share = e % 3 != 2;
        x->has_comment = e % 9 == 4;
        x->has_email = e % 11 == 6;
        snprintf(x->comment_marker, sizeof x->comment_marker, "seed-comment-%03d", e);
        snprintf(x->email, sizeof x->email, "respondent%03d@example.co.kr", e);
        x->score = score_of(x);
        render_answers(x, share, has_share);
        e++;
    }
}

int seedgen_indicator(const struct seed_response *r, int k)
{
    switch (k) {
    case 0:
        return r->genai_stage == STAGE_PRODUCTION;
    case 1:
        return r->genai_stage == STAGE_EXPERIMENTING || r->genai_stage == STAGE_PRODUCTION;
    case 2:
        return r->hiring == HIRE_YES;
    case 3:
        return r->budget == BUD_GENAI;
    case 4:
        return r->budget == BUD_SECURITY;
    case 5:
        return r->budget == BUD_COMPUTE;
    case 6:
        return r->caio == CAIO_APPOINTED;
    case 7:
        return r->change_mgmt == PLAN_IN_PLACE;
    case 8:
        return r->change_mgmt == PLAN_PLANNED_2025;
    case 9:
        return r->training == PLAN_IN_PLACE;
    case 10:
        return r->training == PLAN_PLANNED_2025;
    case 11:
        return (r->approach & APP_GENERAL_PURPOSE) != 0;
    case 12:
        return (r->approach & APP_CUSTOM_ON_PRETRAINED) != 0;
    case 13:
        return (r->approach & APP_FINE_TUNE_OWN_DATA) != 0;
    default:
        return 0;
    }
}

size_t seedgen_counts(const struct seed_response r[], size_t n, size_t x[SEED_N_INDICATORS])
{
    size_t eligible = 0;
    memset(x, 0, SEED_N_INDICATORS * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        if (r[i].screened_out) {
            continue;
        }
        eligible++;
        for (int k = 0; k < SEED_N_INDICATORS; k++) {
            x[k] += (size_t)seedgen_indicator(&r[i], k);
        }
    }
    return eligible;
}

/* round(100 x / n) to the nearest whole percent, halves up, in integers. */
static long whole_percent(size_t x, size_t n)
{
    return n == 0 ? -1 : (long)((200 * x + n) / (2 * n));
}

bool seedgen_check(const struct seed_response r[SEED_TOTAL])
{
    int problems = 0;
#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "seedgen: " __VA_ARGS__);                                                  \
        fputc('\n', stderr);                                                                       \
        problems++;                                                                                \
    } while (0)
    size_t x[SEED_N_INDICATORS];
    size_t n = seedgen_counts(r, SEED_TOTAL, x);
    if (n != SEED_ELIGIBLE) {
        PROBLEM("%zu eligible responses, not %d", n, SEED_ELIGIBLE);
    }
    for (int k = 0; k < SEED_N_INDICATORS; k++) {
        long pct = whole_percent(x[k], n);
        /* and the same through floating point, as the index's readers round */
        long fpct = lround(100.0 * (double)x[k] / (double)n);
        if (pct != seed_indicators[k].published || fpct != seed_indicators[k].published) {
            PROBLEM("%s: %zu/%zu rounds to %ld%%, published %d%%", seed_indicators[k].id, x[k], n,
                    pct, seed_indicators[k].published);
        }
    }
    size_t screened = 0;
    int seen_industry[N_INDUSTRY] = {0}, seen_size[N_SIZE] = {0}, seen_region[N_REGION] = {0};
    size_t comments = 0, emails = 0;
    for (int i = 0; i < SEED_TOTAL; i++) {
        const struct seed_response *q = &r[i];
        size_t len = strnlen(q->answers, sizeof q->answers);
        if (len == 0 || len >= sizeof q->answers - 1 || q->answers[len - 1] != '}') {
            PROBLEM("response %d: answers truncated", i);
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(r[j].submission_id, q->submission_id) == 0) {
                PROBLEM("responses %d and %d share submission id %s", j, i, q->submission_id);
            }
        }
        if (q->screened_out) {
            screened++;
            if (q->role != ROLE_OTHER || strcmp(q->answers, "{\"role\":\"other\"}") != 0) {
                PROBLEM("screened-out response %d answers more than role=other", i);
            }
            continue;
        }
        if (q->role < 0 || q->role == ROLE_OTHER || q->industry < 0 || q->company_size < 0 ||
            q->region < 0 || q->genai_stage < 0 || q->budget < 0 || q->caio < 0 ||
            q->change_mgmt < 0 || q->training < 0 || q->hiring < 0) {
            PROBLEM("response %d: a required answer is missing (design counts do not add up)", i);
            continue;
        }
        seen_industry[q->industry]++;
        seen_size[q->company_size]++;
        seen_region[q->region]++;
        if (q->approach == 0 || q->approach > 0x1f ||
            ((q->approach & APP_UNDECIDED) != 0 && q->approach != APP_UNDECIDED)) {
            PROBLEM("response %d: approach 0x%x breaks the rules", i, q->approach);
        }
        bool shown = q->genai_stage == STAGE_EXPERIMENTING || q->genai_stage == STAGE_PRODUCTION;
        if (shown != (q->use_cases != 0) || q->use_cases > 0x3f) {
            PROBLEM("response %d: use_cases 0x%x with stage %d", i, q->use_cases, q->genai_stage);
        }
        if (!(q->score >= 0 && q->score <= 100)) {
            PROBLEM("response %d: score %g", i, q->score);
        }
        comments += q->has_comment;
        emails += q->has_email;
    }
    if (screened != SEED_SCREENED_OUT) {
        PROBLEM("%zu screened out, not %d", screened, SEED_SCREENED_OUT);
    }
    for (int c = 0; c < N_INDUSTRY; c++) {
        if (seen_industry[c] == 0) {
            PROBLEM("no respondent in industry %s", seed_industry_codes[c]);
        }
    }
    for (int c = 0; c < N_SIZE; c++) {
        if (seen_size[c] == 0) {
            PROBLEM("no respondent in company_size %s", seed_size_codes[c]);
        }
    }
    for (int c = 0; c < N_REGION; c++) {
        if (seen_region[c] == 0) {
            PROBLEM("no respondent in region %s", region_codes[c]);
        }
    }
    if (comments == 0 || emails == 0) {
        PROBLEM("no comments (%zu) or no e-mail addresses (%zu)", comments, emails);
    }
#undef PROBLEM
    return problems == 0;
}

void seedgen_print_table(const struct seed_response r[SEED_TOTAL], FILE *out)
{
    size_t x[SEED_N_INDICATORS];
    size_t n = seedgen_counts(r, SEED_TOTAL, x);
    fprintf(out, "%-28s %5s %5s %8s %7s %9s\n", "indicator", "x", "n", "100x/n", "rounded",
            "published");
    for (int k = 0; k < SEED_N_INDICATORS; k++) {
        fprintf(out, "%-28s %5zu %5zu %8.3f %6ld%% %8d%%\n", seed_indicators[k].id, x[k], n,
                100.0 * (double)x[k] / (double)n, whole_percent(x[k], n),
                seed_indicators[k].published);
    }
    double sum = 0;
    size_t screened = 0, cats_i[N_INDUSTRY] = {0}, cats_s[N_SIZE] = {0};
    for (int i = 0; i < SEED_TOTAL; i++) {
        if (r[i].screened_out) {
            screened++;
            continue;
        }
        sum += r[i].score;
        cats_i[r[i].industry]++;
        cats_s[r[i].company_size]++;
    }
    fprintf(out, "composite (mean score)       %.12f over %zu; screened out %zu\n", sum / (double)n,
            n, screened);
    fprintf(out, "industry:");
    for (int c = 0; c < N_INDUSTRY; c++) {
        fprintf(out, " %s %zu", seed_industry_codes[c], cats_i[c]);
    }
    fprintf(out, "\ncompany_size:");
    for (int c = 0; c < N_SIZE; c++) {
        fprintf(out, " %s %zu", seed_size_codes[c], cats_s[c]);
    }
    fputc('\n', out);
}
