/*
 * Every answer a submission can get from surveyd, over TLS against the real database: 201 with a
 * receipt, 200 replay, 409 conflict and used invitation, 401, 404, 409 draft, 410 closed, 422
 * with exact error paths, screened-out storage. Each answer's status, problem type, safety
 * headers and what the database holds afterwards are checked; bad input never echoes back.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define OPEN_WAVE "st-open"
#define INVITE_WAVE "st-invite"
#define DRAFT_WAVE "st-draft"
#define CLOSING_WAVE "st-closing"
#define PATH(w) "/v1/waves/" w "/responses"

static struct sd_env env;
static struct sd_daemon *daemon_;
static int port;
static char tokens[3][64];

static bool ready(void)
{
    CHECK(daemon_ != NULL);
    return daemon_ != NULL;
}

/* POST body to path; checks the answer's status, problem type (NULL: not a problem) and safety
 * headers, and that none of the forbidden strings (NULL-terminated, may be NULL) is echoed. */
static void post_expect(const char *path, const char *body, int status, const char *type,
                        const char *const forbidden[], struct sd_response *out)
{
    struct sd_response r;
    CHECK(sd_post_json(port, path, body, &r) == 0);
    if (r.status != status) {
        fprintf(stderr, "POST %s: expected %d, got %d: %s\n", path, status, r.status,
                r.body ? r.body : "");
    }
    CHECK(r.status == status);
    CHECK(sd_safety_headers(&r));
    char ct[128];
    sd_header(&r, "Content-Type", ct, sizeof ct);
    if (type != NULL) {
        CHECK_STR(r.type, type);
        CHECK(strncmp(ct, "application/problem+json", 24) == 0);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r.json, "status");
        CHECK(cJSON_IsNumber(st) && st->valueint == status);
        CHECK(sd_json_str(&r, "title") != NULL);
        CHECK(sd_json_str(&r, "detail") != NULL);
    } else {
        CHECK(strncmp(ct, "application/json", 16) == 0);
    }
    for (size_t i = 0; forbidden != NULL && forbidden[i] != NULL; i++) {
        if (r.body != NULL && strstr(r.body, forbidden[i]) != NULL) {
            fprintf(stderr, "the answer echoes \"%s\": %s\n", forbidden[i], r.body);
            CHECK(strstr(r.body, forbidden[i]) == NULL);
        }
    }
    if (out != NULL) {
        *out = r;
    } else {
        sd_response_free(&r);
    }
}

static bool is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36) {
        return false;
    }
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static void daemon_starts_and_becomes_ready(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, OPEN_WAVE, "open", "open"));
    CHECK(sd_wave(&env, INVITE_WAVE, "invite", "open"));
    CHECK(sd_wave(&env, DRAFT_WAVE, "open", "draft"));
    CHECK(sd_wave(&env, CLOSING_WAVE, "open", "open"));
    CHECK(sd_invite(&env, INVITE_WAVE, 3, tokens) == 3);
    static const char *const extra[] = {"--rate-limit", "0", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    port = daemon_ ? sd_daemon_port(daemon_) : 0;
}

static void new_submission_is_201_with_a_receipt_and_one_row(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 1, 1);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    struct sd_response r;
    post_expect(PATH(OPEN_WAVE), body, 201, NULL, NULL, &r);
    const char *rid = sd_json_str(&r, "response_id");
    const char *at = sd_json_str(&r, "received_at");
    CHECK(is_uuid(rid));
    CHECK_STR(sd_json_str(&r, "submission_id"), sid);
    CHECK(at != NULL && strlen(at) >= 20 && at[4] == '-' && at[10] == 'T' &&
          at[strlen(at) - 1] == 'Z');
    CHECK(cJSON_GetArraySize(r.json) == 3);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 1);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                   "submission_id = $2::uuid AND receipt_id = $3::uuid AND NOT screened_out AND "
                   "answers = $4::jsonb",
                   OPEN_WAVE, sid, rid ? rid : "00000000-0000-0000-0000-000000000000",
                   sd_answers(NULL), NULL) == 1);
    char *first = strdup(r.body ? r.body : "");
    sd_response_free(&r);

    /* The same submission again: 200 with the very same receipt, byte for byte. */
    post_expect(PATH(OPEN_WAVE), body, 200, NULL, NULL, &r);
    CHECK_STR(r.body, first);
    sd_response_free(&r);
    /* Upper-case hex is the same UUID. */
    char upper[37];
    for (int i = 0; i < 37; i++) {
        upper[i] = (char)(sid[i] >= 'a' && sid[i] <= 'f' ? sid[i] - 'a' + 'A' : sid[i]);
    }
    char *body_upper = sd_submission(upper, NULL, sd_answers(NULL));
    post_expect(PATH(OPEN_WAVE), body_upper, 200, NULL, NULL, &r);
    CHECK_STR(r.body, first);
    sd_response_free(&r);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 1);

    /* The same id with other answers: 409, and the stored answers are unchanged. */
    char *other = sd_submission(sid, NULL, sd_answers("\"comments\":\"changed my mind\""));
    static const char *const no_echo[] = {"changed my mind", NULL};
    post_expect(PATH(OPEN_WAVE), other, 409, "/problems/submission_conflict", no_echo, NULL);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 1);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                   "submission_id = $2::uuid AND answers = $3::jsonb",
                   OPEN_WAVE, sid, sd_answers(NULL), NULL) == 1);
    free(first);
    free(body);
    free(body_upper);
    free(other);
}

static void invitation_wave_takes_each_token_once(void)
{
    if (!ready()) {
        return;
    }
    char sid[37], sid2[37], sid3[37], sid4[37];
    sd_uuid(sid, 2, 1);
    sd_uuid(sid2, 2, 2);
    sd_uuid(sid3, 2, 3);
    sd_uuid(sid4, 2, 4);
    static const char bad_token[] = "ZZbadtokenZZbadtokenZZbadtokenZZbadtokenZZ";
    const char *const no_echo[] = {tokens[0], bad_token, NULL};

    char *body = sd_submission(sid, tokens[0], sd_answers(NULL));
    struct sd_response r;
    post_expect(PATH(INVITE_WAVE), body, 201, NULL, no_echo, &r);
    CHECK(is_uuid(sd_json_str(&r, "response_id")));
    sd_response_free(&r);
    CHECK(sd_stored(&env, INVITE_WAVE, sid) == 1);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.invitations i JOIN survey.responses r "
                   "ON r.id = i.response_id WHERE i.used_at IS NOT NULL AND r.submission_id = "
                   "$1::uuid AND i.token_sha256 = sha256(convert_to($2, 'UTF8'))",
                   sid, tokens[0], NULL) == 1);
    /* The retry of the same submission with its token is a replay, not a used invitation. */
    post_expect(PATH(INVITE_WAVE), body, 200, NULL, no_echo, NULL);

    /* The spent token with another submission. */
    char *reuse = sd_submission(sid2, tokens[0], sd_answers(NULL));
    post_expect(PATH(INVITE_WAVE), reuse, 409, "/problems/invitation_used", no_echo, NULL);
    CHECK(sd_stored(&env, INVITE_WAVE, sid2) == 0);

    /* A well-formed token that is not one of the wave's, and no token at all. */
    char *bad = sd_submission(sid3, bad_token, sd_answers(NULL));
    post_expect(PATH(INVITE_WAVE), bad, 401, "/problems/invitation_invalid", no_echo, NULL);
    CHECK(sd_stored(&env, INVITE_WAVE, sid3) == 0);
    char *missing = sd_submission(sid4, NULL, sd_answers(NULL));
    post_expect(PATH(INVITE_WAVE), missing, 401, "/problems/invitation_invalid", no_echo, NULL);
    CHECK(sd_stored(&env, INVITE_WAVE, sid4) == 0);
    /* A token of this wave does not work on another wave either. */
    char *elsewhere = sd_submission(sid4, tokens[1], sd_answers(NULL));
    post_expect(PATH(OPEN_WAVE), elsewhere, 201, NULL, no_echo, NULL);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.invitations WHERE used_at IS NOT NULL",
                   NULL) == 1);

    /* After all that, an unused token still works: nothing was spent by the refusals. */
    char *good = sd_submission(sid3, tokens[2], sd_answers(NULL));
    post_expect(PATH(INVITE_WAVE), good, 201, NULL, no_echo, NULL);
    CHECK(sd_stored(&env, INVITE_WAVE, sid3) == 1);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", INVITE_WAVE,
                   NULL) == 2);
    free(body);
    free(reuse);
    free(bad);
    free(missing);
    free(elsewhere);
    free(good);
}

static void draft_and_unknown_waves_are_refused(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 3, 1);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    post_expect(PATH(DRAFT_WAVE), body, 409, "/problems/wave_not_open", NULL, NULL);
    CHECK(sd_stored(&env, DRAFT_WAVE, sid) == 0);
    post_expect(PATH("st-nosuchwave"), body, 404, "/problems/wave_not_found", NULL, NULL);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE submission_id = $1::uuid",
                   sid, NULL) == 0);
    /* A draft's questionnaire is not published either. */
    struct sd_response r;
    CHECK(sd_get(port, "/v1/waves/" DRAFT_WAVE "/questionnaire", &r) == 0);
    CHECK(r.status == 404);
    CHECK_STR(r.type, "/problems/wave_not_found");
    sd_response_free(&r);
    CHECK(sd_get(port, "/v1/waves/" OPEN_WAVE "/questionnaire", &r) == 0);
    CHECK(r.status == 200);
    CHECK_STR(sd_json_str(&r, "id"), "genai-adoption-2025");
    sd_response_free(&r);
    /* The same submission still goes into an open wave. */
    post_expect(PATH(OPEN_WAVE), body, 201, NULL, NULL, NULL);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 1);
    free(body);
}

static void closed_wave_is_410_once_the_daemon_has_reloaded(void)
{
    if (!ready()) {
        return;
    }
    char sid[37], sid2[37];
    sd_uuid(sid, 4, 1);
    sd_uuid(sid2, 4, 2);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    post_expect(PATH(CLOSING_WAVE), body, 201, NULL, NULL, NULL);
    size_t loads = sd_log_count(daemon_, "waves loaded");
    char out[1024];
    CHECK(sd_admin(&env, out, sizeof out, "wave", "close", CLOSING_WAVE, NULL) == 0);
    CHECK(sd_log_wait(daemon_, "waves loaded", loads + 1, 10000));
    char *late = sd_submission(sid2, NULL, sd_answers(NULL));
    post_expect(PATH(CLOSING_WAVE), late, 410, "/problems/wave_closed", NULL, NULL);
    CHECK(sd_stored(&env, CLOSING_WAVE, sid2) == 0);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", CLOSING_WAVE,
                   NULL) == 1);
    free(body);
    free(late);
}

/* The errors array holds exactly these (path, code) pairs, in any order. */
static void check_errors(const struct sd_response *r, const char *const pairs[][2], size_t n)
{
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(r->json, "errors");
    CHECK(cJSON_IsArray(errors));
    if (!cJSON_IsArray(errors)) {
        return;
    }
    CHECK((size_t)cJSON_GetArraySize(errors) == n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, errors)
        {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
            if (cJSON_IsString(path) && cJSON_IsString(code) && cJSON_IsString(msg) &&
                strcmp(path->valuestring, pairs[i][0]) == 0 &&
                strcmp(code->valuestring, pairs[i][1]) == 0) {
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "missing error %s %s in %s\n", pairs[i][0], pairs[i][1], r->body);
        }
        CHECK(found);
    }
}

static void invalid_answers_are_422_with_exact_paths_and_nothing_echoed(void)
{
    if (!ready()) {
        return;
    }
    /* Four mistakes at once, one of them carrying markup that must not come back. */
    static const char answers[] =
        "{\"role\":\"c_level\",\"industry\":\"finance\",\"company_size\":\"small\","
        "\"region\":\"seoul\",\"genai_stage\":\"none\",\"use_cases\":[\"analytics\"],"
        "\"budget_top_priority\":\"genai\",\"caio\":\"<script>zzz\",\"change_mgmt\":\"in_place\","
        "\"training\":\"in_place\",\"hiring_genai_2025\":\"yes\","
        "\"approach\":[\"undecided\",\"general_purpose\"]}";
    char *body = sd_submission("not-a-uuid-<script>yyy", NULL, answers);
    static const char *const no_echo[] = {"<script>", "zzz", "yyy", "not-a-uuid", NULL};
    struct sd_response r;
    post_expect(PATH(OPEN_WAVE), body, 422, "/problems/validation_failed", no_echo, &r);
    static const char *const expected[][2] = {{"/answers/caio", "not_an_option"},
                                              {"/answers/use_cases", "not_shown"},
                                              {"/answers/approach", "exclusive_option"},
                                              {"/submission_id", "invalid_uuid"}};
    check_errors(&r, expected, sizeof expected / sizeof expected[0]);
    sd_response_free(&r);
    free(body);

    /* Missing required answers and wrong types, with a valid id that must stay unused. */
    char sid[37];
    sd_uuid(sid, 5, 1);
    char *body2 = sd_submission(sid, NULL,
                                "{\"role\":\"c_level\",\"industry\":7,\"genai_budget_share\":"
                                "50.25,\"contact_email\":\"not an email zzz\"}");
    post_expect(PATH(OPEN_WAVE), body2, 422, "/problems/validation_failed", no_echo, &r);
    static const char *const expected2[][2] = {{"/answers/industry", "wrong_type"},
                                               {"/answers/company_size", "required"},
                                               {"/answers/region", "required"},
                                               {"/answers/genai_stage", "required"},
                                               {"/answers/budget_top_priority", "required"},
                                               {"/answers/genai_budget_share", "too_many_decimals"},
                                               {"/answers/caio", "required"},
                                               {"/answers/change_mgmt", "required"},
                                               {"/answers/training", "required"},
                                               {"/answers/hiring_genai_2025", "required"},
                                               {"/answers/approach", "required"},
                                               {"/answers/contact_email", "invalid_email"}};
    check_errors(&r, expected2, sizeof expected2 / sizeof expected2[0]);
    sd_response_free(&r);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 0);

    /* Bad input lost nothing: the same id with good answers is stored now. */
    char *good = sd_submission(sid, NULL, sd_answers(NULL));
    post_expect(PATH(OPEN_WAVE), good, 201, NULL, NULL, NULL);
    CHECK(sd_stored(&env, OPEN_WAVE, sid) == 1);
    free(body2);
    free(good);
}

static void screened_out_respondent_is_stored_as_screened_out(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 6, 1);
    char *body = sd_submission(sid, NULL, "{\"role\":\"other\"}");
    post_expect(PATH(OPEN_WAVE), body, 201, NULL, NULL, NULL);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                   "submission_id = $2::uuid AND screened_out",
                   OPEN_WAVE, sid, NULL) == 1);
    free(body);
}

static void daemon_stops_with_status_0(void)
{
    if (daemon_ != NULL) {
        CHECK(sd_daemon_stop(daemon_, 15000) == 0);
        CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
    }
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemon_starts_and_becomes_ready),
        TEST_CASE(new_submission_is_201_with_a_receipt_and_one_row),
        TEST_CASE(invitation_wave_takes_each_token_once),
        TEST_CASE(draft_and_unknown_waves_are_refused),
        TEST_CASE(closed_wave_is_410_once_the_daemon_has_reloaded),
        TEST_CASE(invalid_answers_are_422_with_exact_paths_and_nothing_echoed),
        TEST_CASE(screened_out_respondent_is_stored_as_screened_out),
        TEST_CASE(daemon_stops_with_status_0)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
