/*
 * What surveyd writes to its log, at debug level, while it takes answers with an e-mail
 * address, a comment and an invitation token, refuses a bad token and invalid answers, and
 * rejects requests with control characters: none of those values, and no line that does not
 * start with the daemon's own timestamp (no injected lines).
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "log-invite"
#define PATH "/v1/waves/" WAVE "/responses"
#define EMAIL "alice@example.com"
#define COMMENT "secret-comment-xyz"
#define BAD_TOKEN "Forged0token0Forged0token0Forged0token0abc"
#define INVALID_VALUE "secret-invalid-value-qrs"

static struct sd_env env;
static struct sd_daemon *daemon_;
static char tokens[2][64];

static void daemon_starts_and_becomes_ready(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "invite", "open"));
    CHECK(sd_invite(&env, WAVE, 2, tokens) == 2);
    static const char *const extra[] = {"--rate-limit", "0", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
}

static int post(const char *body)
{
    struct sd_response r;
    int rc = sd_post_json(sd_daemon_port(daemon_), PATH, body, &r);
    int status = rc == 0 ? r.status : 0;
    sd_response_free(&r);
    return status;
}

static void submissions_good_and_bad_are_answered(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    char sid[37];
    sd_uuid(sid, 0x10, 1);
    char *body = sd_submission(
        sid, tokens[0], sd_answers("\"contact_email\":\"" EMAIL "\",\"comments\":\"" COMMENT "\""));
    CHECK(post(body) == 201);
    CHECK(sd_stored(&env, WAVE, sid) == 1);
    /* The stored answers have them (they are the respondent's data), the log must not. */
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE answers->>'contact_email' = $1 "
                   "AND answers->>'comments' = $2",
                   EMAIL, COMMENT, NULL) == 1);
    free(body);

    char sid2[37];
    sd_uuid(sid2, 0x10, 2);
    body = sd_submission(sid2, BAD_TOKEN, sd_answers(NULL));
    CHECK(post(body) == 401);
    free(body);
    /* The used token again, with another submission. */
    body = sd_submission(sid2, tokens[0], sd_answers(NULL));
    CHECK(post(body) == 409);
    free(body);
    /* Invalid answers, with the second token. */
    body = sd_submission(sid2, tokens[1],
                         sd_answers("\"genai_budget_share\":\"" INVALID_VALUE
                                    "\",\"contact_email\":\"" INVALID_VALUE "@" EMAIL "\""));
    CHECK(post(body) == 422);
    free(body);
    /* Malformed JSON carrying the e-mail address. */
    CHECK(post("{\"answers\":{\"contact_email\":\"" EMAIL "\"") == 400);
    CHECK(sd_stored(&env, WAVE, sid2) == 0);
}

static void control_characters_cannot_forge_log_lines(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    int port = sd_daemon_port(daemon_);
    struct sd_response r;
    /* A header value with \x01 and a bare LF followed by what would look like a log line. */
    static const char ctl[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01"
                              "b\r\nX-B: c\n2000-01-01T00:00:00.000Z error [main] forged\r\n\r\n";
    CHECK(sd_exchange(port, ctl, sizeof ctl - 1, &r) == 0);
    CHECK(r.status == 400);
    sd_response_free(&r);
    static const char ctl2[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01"
                               "b\r\n\r\n";
    CHECK(sd_exchange(port, ctl2, sizeof ctl2 - 1, &r) == 0);
    CHECK(r.status == 400);
    sd_response_free(&r);
    /* An encoded newline in the path is just an unknown path. */
    static const char enc[] = "GET /v1/waves/x%0a2000-01-01T00:00:00.000Z%20error%20forged/"
                              "responses HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_exchange(port, enc, sizeof enc - 1, &r) == 0);
    CHECK(r.status == 404);
    sd_response_free(&r);
    /* A raw control character and a raw CR in the request target. */
    static const char raw[] = "GET /healthz\x01x HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_exchange(port, raw, sizeof raw - 1, &r) == 0);
    CHECK(r.status == 400);
    sd_response_free(&r);
    static const char cr[] =
        "GET /a\r2000-01-01T00:00:00.000Z error [main] forged HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_exchange(port, cr, sizeof cr - 1, &r) == 0);
    CHECK(r.status == 400);
    sd_response_free(&r);
    /* The method slot too. */
    static const char method[] = "G\x1b[2JET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_exchange(port, method, sizeof method - 1, &r) == 0);
    CHECK(r.status == 400);
    sd_response_free(&r);
}

static void log_holds_none_of_it(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    /* Stop first, so that every line the daemon will ever write is in. */
    CHECK(sd_daemon_stop(daemon_, 15000) == 0);
    size_t n = 0;
    char **lines = sd_log_lines(daemon_, &n);
    CHECK(n >= 5); /* listening, connected x2, waves loaded, ..., stopped */
    CHECK(sd_log_count(daemon_, "request rejected") >= 5); /* the five framing errors */
    const char *secrets[] = {EMAIL,     "alice",       COMMENT,  tokens[0], tokens[1],
                             BAD_TOKEN, INVALID_VALUE, "forged", NULL};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; secrets[k] != NULL; k++) {
            if (secrets[k][0] != '\0' && strstr(lines[i], secrets[k]) != NULL) {
                fprintf(stderr, "the log holds \"%s\": %s\n", secrets[k], lines[i]);
                CHECK(strstr(lines[i], secrets[k]) == NULL);
            }
        }
    }
    CHECK(sd_log_foreign_lines(daemon_) == 0);
    sd_log_lines_free(lines);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemon_starts_and_becomes_ready),
        TEST_CASE(submissions_good_and_bad_are_answered),
        TEST_CASE(control_characters_cannot_forge_log_lines), TEST_CASE(log_holds_none_of_it)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
