/*
 * HTTP/1.1 framing at surveyd's door, with exact bytes over TLS: malformed or duplicate-key
 * JSON, oversized bodies and heads, wrong media type, chunked and ambiguous lengths, bare LF,
 * obs-fold, missing length, unknown and wrong methods, and pipelining. Each bad request carries
 * an otherwise valid submission that must not be stored, and a good one works right after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "fr-open"
#define PATH "/v1/waves/" WAVE "/responses"
#define MAX_BODY 2048
#define MAX_HEAD 2048

static struct sd_env env;
static struct sd_daemon *daemon_;
static int port;
static unsigned long seq;

static bool ready(void)
{
    CHECK(daemon_ != NULL);
    return daemon_ != NULL;
}

static void daemon_starts_and_becomes_ready(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {
        "--rate-limit", "0", "--max-body-bytes", "2048", "--max-header-bytes", "2048", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    port = daemon_ ? sd_daemon_port(daemon_) : 0;
}

/* A fresh, valid submission body and its id. */
static char *fresh(char sid[37])
{
    sd_uuid(sid, 0xf, ++seq);
    return sd_submission(sid, NULL, sd_answers(NULL));
}

/* A good submission on a new connection is stored: the daemon is still fine. */
static void good_one_still_works(void)
{
    char sid[37];
    char *body = fresh(sid);
    struct sd_response r;
    CHECK(sd_post_json(port, PATH, body, &r) == 0);
    CHECK(r.status == 201);
    CHECK(sd_stored(&env, WAVE, sid) == 1);
    sd_response_free(&r);
    free(body);
}

enum after { KEEP_OPEN, SAYS_CLOSE, CLOSES };

/*
 * Send raw on a new connection; expect status with problem type, nothing stored for sid, then
 * (per after) the connection kept, announced as closing, or really closed; then a good one.
 */
static void expect_refused(const char *what, const char *raw, size_t len, int status,
                           const char *type, const char *sid, enum after after)
{
    struct sd_conn *c = sd_connect(port, NULL, NULL);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    CHECK(sd_send(c, raw, len, 5000));
    struct sd_response r;
    enum sd_read_result rr = sd_read_response(c, &r, false, 10000);
    if (rr != SD_READ_OK || r.status != status || strcmp(r.type, type) != 0) {
        fprintf(stderr, "%s: expected %d %s, got read %d, status %d, type \"%s\"\n", what, status,
                type, (int)rr, r.status, r.type);
    }
    CHECK(rr == SD_READ_OK);
    CHECK(r.status == status);
    CHECK_STR(r.type, type);
    CHECK(sd_safety_headers(&r));
    if (after != KEEP_OPEN) {
        CHECK(r.conn_close);
    }
    if (after == CLOSES) {
        CHECK(sd_wait_closed(c, 5000));
        size_t left;
        sd_pending(c, &left);
        CHECK(left == 0); /* and nothing else was answered */
    }
    sd_response_free(&r);
    sd_close(c);
    if (sid != NULL) {
        CHECK(sd_stored(&env, WAVE, sid) == 0);
    }
    good_one_still_works();
}

/* "POST PATH HTTP/1.1\r\nHost...\r\n" + headers + "\r\n" + body, into a new string. */
static char *request(const char *headers, const char *body)
{
    size_t size = strlen(headers) + strlen(body) + 256;
    char *s = malloc(size);
    snprintf(s, size, "POST " PATH " HTTP/1.1\r\nHost: localhost\r\n%s\r\n%s", headers, body);
    return s;
}

static void malformed_and_duplicate_key_json_are_400(void)
{
    if (!ready()) {
        return;
    }
    char sid[37], hdr[128];
    sd_uuid(sid, 0xe, 1);
    char *body = malloc(256);
    snprintf(body, 256, "{\"submission_id\":\"%s\",\"answers\":{\"role\":\"c_level\"", sid);
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
             strlen(body));
    char *raw = request(hdr, body);
    expect_refused("truncated JSON", raw, strlen(raw), 400, "/problems/malformed_json", sid,
                   KEEP_OPEN);
    free(raw);
    free(body);

    /* Duplicate keys: one parser could take the first, another the last. */
    char sid2[37];
    sd_uuid(sid2, 0xe, 2);
    const char *answers = sd_answers(NULL);
    size_t size = strlen(answers) * 2 + 256;
    body = malloc(size);
    snprintf(body, size, "{\"submission_id\":\"%s\",\"answers\":%s,\"answers\":%s}", sid2, answers,
             answers);
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
             strlen(body));
    raw = request(hdr, body);
    expect_refused("duplicate key", raw, strlen(raw), 400, "/problems/malformed_json", sid2,
                   KEEP_OPEN);
    free(raw);
    free(body);

    /* Duplicate keys inside the answers, too. */
    char sid3[37];
    sd_uuid(sid3, 0xe, 3);
    body = malloc(size);
    snprintf(body, size,
             "{\"submission_id\":\"%s\",\"answers\":{\"role\":\"c_level\",\"role\":\"other\"}}",
             sid3);
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
             strlen(body));
    raw = request(hdr, body);
    expect_refused("duplicate answer key", raw, strlen(raw), 400, "/problems/malformed_json", sid3,
                   KEEP_OPEN);
    free(raw);
    free(body);
}

static void body_over_the_limit_is_413_and_closed(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 0xe, 10);
    /* A valid submission padded past --max-body-bytes with a long comment. */
    char pad[MAX_BODY + 64];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    char extra[MAX_BODY + 96];
    snprintf(extra, sizeof extra, "\"comments\":\"%s\"", pad);
    char *body = sd_submission(sid, NULL, sd_answers(extra));
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
             strlen(body));
    CHECK(strlen(body) > MAX_BODY);
    char *raw = request(hdr, body);
    expect_refused("body too large", raw, strlen(raw), 413, "/problems/body_too_large", sid,
                   CLOSES);
    free(raw);
    free(body);
}

static void head_over_the_limit_is_431(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    char *body = fresh(sid);
    char hdr[MAX_HEAD + 256];
    char pad[MAX_HEAD + 1];
    memset(pad, 'h', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(hdr, sizeof hdr,
             "X-Pad: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n", pad,
             strlen(body));
    char *raw = request(hdr, body);
    expect_refused("head too large", raw, strlen(raw), 431, "/problems/headers_too_large", sid,
                   SAYS_CLOSE);
    free(raw);
    free(body);
}

static void text_plain_is_415(void)
{
    if (!ready()) {
        return;
    }
    char sid[37], hdr[128];
    char *body = fresh(sid);
    snprintf(hdr, sizeof hdr, "Content-Type: text/plain\r\nContent-Length: %zu\r\n", strlen(body));
    char *raw = request(hdr, body);
    expect_refused("text/plain", raw, strlen(raw), 415, "/problems/unsupported_media_type", sid,
                   KEEP_OPEN);
    free(raw);
    /* A parameter other than charset=utf-8 is not JSON as we take it either. */
    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json; charset=latin1\r\nContent-Length: %zu\r\n",
             strlen(body));
    raw = request(hdr, body);
    expect_refused("charset=latin1", raw, strlen(raw), 415, "/problems/unsupported_media_type", sid,
                   KEEP_OPEN);
    free(raw);
    free(body);
}

static void chunked_and_ambiguous_lengths_are_400_and_closed(void)
{
    if (!ready()) {
        return;
    }
    char sid[37], hdr[256];
    char *body = fresh(sid);
    size_t n = strlen(body);
    size_t size = n + 64;
    char *chunked = malloc(size);
    snprintf(chunked, size, "%zx\r\n%s\r\n0\r\n\r\n", n, body);
    char *raw =
        request("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked);
    expect_refused("chunked", raw, strlen(raw), 400, "/problems/malformed_request", sid, CLOSES);
    free(raw);

    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
             "Transfer-Encoding: chunked\r\n",
             strlen(chunked));
    raw = request(hdr, chunked);
    expect_refused("Content-Length and Transfer-Encoding", raw, strlen(raw), 400,
                   "/problems/malformed_request", sid, CLOSES);
    free(raw);

    snprintf(hdr, sizeof hdr,
             "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n",
             strlen(chunked));
    raw = request(hdr, chunked);
    expect_refused("Transfer-Encoding then Content-Length", raw, strlen(raw), 400,
                   "/problems/malformed_request", sid, CLOSES);
    free(raw);
    free(chunked);

    /* Two Content-Lengths, equal or not. */
    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json\r\nContent-Length: %zu\r\nContent-Length: %zu\r\n", n,
             n);
    raw = request(hdr, body);
    expect_refused("two equal Content-Lengths", raw, strlen(raw), 400,
                   "/problems/malformed_request", sid, SAYS_CLOSE);
    free(raw);
    snprintf(hdr, sizeof hdr,
             "Content-Type: application/json\r\nContent-Length: %zu\r\nContent-Length: 0\r\n", n);
    raw = request(hdr, body);
    expect_refused("two Content-Lengths", raw, strlen(raw), 400, "/problems/malformed_request", sid,
                   SAYS_CLOSE);
    free(raw);
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: %zu, %zu\r\n", n,
             n);
    raw = request(hdr, body);
    expect_refused("a Content-Length list", raw, strlen(raw), 400, "/problems/malformed_request",
                   sid, SAYS_CLOSE);
    free(raw);
    snprintf(hdr, sizeof hdr, "Content-Type: application/json\r\nContent-Length: +%zu\r\n", n);
    raw = request(hdr, body);
    expect_refused("a signed Content-Length", raw, strlen(raw), 400, "/problems/malformed_request",
                   sid, SAYS_CLOSE);
    free(raw);
    free(body);
}

static void bare_lf_and_obs_fold_are_400(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    char *body = fresh(sid);
    size_t size = strlen(body) + 512;
    char *raw = malloc(size);
    snprintf(raw, size,
             "POST " PATH " HTTP/1.1\nHost: localhost\nContent-Type: application/json\n"
             "Content-Length: %zu\n\n%s",
             strlen(body), body);
    expect_refused("bare LF everywhere", raw, strlen(raw), 400, "/problems/malformed_request", sid,
                   SAYS_CLOSE);
    snprintf(raw, size,
             "POST " PATH " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    expect_refused("one bare LF", raw, strlen(raw), 400, "/problems/malformed_request", sid,
                   SAYS_CLOSE);
    snprintf(raw, size,
             "POST " PATH " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nX-Folded: a\r\n b\r\n\r\n%s",
             strlen(body), body);
    expect_refused("obs-fold", raw, strlen(raw), 400, "/problems/malformed_request", sid,
                   SAYS_CLOSE);
    /* A fold that would continue Content-Type into something else. */
    snprintf(raw, size,
             "POST " PATH " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
             "\t; x=application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    expect_refused("obs-fold of Content-Type", raw, strlen(raw), 400, "/problems/malformed_request",
                   sid, SAYS_CLOSE);
    free(raw);
    free(body);
}

static void post_without_length_is_411(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    char *body = fresh(sid);
    char *raw = request("Content-Type: application/json\r\n", body);
    expect_refused("no Content-Length", raw, strlen(raw), 411, "/problems/length_required", sid,
                   SAYS_CLOSE);
    free(raw);
    free(body);
}

static void unknown_method_is_501_and_get_on_responses_is_405(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    char *body = fresh(sid);
    size_t size = strlen(body) + 512;
    char *raw = malloc(size);
    snprintf(raw, size,
             "BREW " PATH " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    expect_refused("BREW", raw, strlen(raw), 501, "/problems/not_implemented", sid, KEEP_OPEN);
    /* Methods are case-sensitive: "post" is not POST. */
    snprintf(raw, size,
             "post " PATH " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    expect_refused("post", raw, strlen(raw), 501, "/problems/not_implemented", sid, KEEP_OPEN);
    free(raw);
    free(body);

    struct sd_response r;
    static const char get[] =
        "GET " PATH " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    CHECK(sd_exchange(port, get, sizeof get - 1, &r) == 0);
    CHECK(r.status == 405);
    CHECK_STR(r.type, "/problems/method_not_allowed");
    char allow[64];
    CHECK(sd_header(&r, "Allow", allow, sizeof allow));
    CHECK_STR(allow, "POST");
    CHECK(sd_safety_headers(&r));
    sd_response_free(&r);
    /* And POST on a read-only route. */
    static const char post[] = "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                               "application/json\r\nContent-Length: 2\r\n\r\n{}";
    CHECK(sd_exchange(port, post, sizeof post - 1, &r) == 0);
    CHECK(r.status == 405);
    CHECK(sd_header(&r, "Allow", allow, sizeof allow));
    CHECK(strstr(allow, "GET") != NULL);
    sd_response_free(&r);
    good_one_still_works();
}

static void pipelined_requests_are_answered_in_order(void)
{
    if (!ready()) {
        return;
    }
    char a[37], b[37];
    char *body_a = fresh(a);
    char *body_b = fresh(b);
    char *req_a = sd_post_request(PATH, body_a, true);
    char *req_b = sd_post_request(PATH, body_b, true);
    static const char tail[] =
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    size_t size = strlen(req_a) + strlen(req_b) + sizeof tail;
    char *all = malloc(size);
    snprintf(all, size, "%s%s%s", req_a, req_b, tail);

    struct sd_conn *c = sd_connect(port, NULL, NULL);
    CHECK(c != NULL);
    if (c != NULL) {
        /* One write: all three requests reach the daemon together. */
        CHECK(sd_send(c, all, strlen(all), 5000));
        struct sd_response r1, r2, r3;
        CHECK(sd_read_response(c, &r1, false, 10000) == SD_READ_OK);
        CHECK(sd_read_response(c, &r2, false, 10000) == SD_READ_OK);
        CHECK(sd_read_response(c, &r3, false, 10000) == SD_READ_OK);
        CHECK(r1.status == 201);
        CHECK_STR(sd_json_str(&r1, "submission_id"), a);
        CHECK(!r1.conn_close);
        CHECK(r2.status == 201);
        CHECK_STR(sd_json_str(&r2, "submission_id"), b);
        CHECK(r3.status == 200);
        CHECK_STR(sd_json_str(&r3, "status"), "ok");
        CHECK(r3.conn_close);
        sd_response_free(&r1);
        sd_response_free(&r2);
        sd_response_free(&r3);
        sd_close(c);
    }
    CHECK(sd_stored(&env, WAVE, a) == 1);
    CHECK(sd_stored(&env, WAVE, b) == 1);
    free(body_a);
    free(body_b);
    free(req_a);
    free(req_b);
    free(all);
}

/* Only the good submissions are in the table: one per good_one_still_works and the two
 * pipelined ones. */
static void only_good_submissions_were_stored(void)
{
    if (!ready()) {
        return;
    }
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE answers ? 'comments' OR "
                   "answers->>'role' <> 'c_level'",
                   NULL) == 0);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE submission_id::text LIKE "
                   "'0000000e-%'",
                   NULL) == 0);
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
        TEST_CASE(malformed_and_duplicate_key_json_are_400),
        TEST_CASE(body_over_the_limit_is_413_and_closed),
        TEST_CASE(head_over_the_limit_is_431),
        TEST_CASE(text_plain_is_415),
        TEST_CASE(chunked_and_ambiguous_lengths_are_400_and_closed),
        TEST_CASE(bare_lf_and_obs_fold_are_400),
        TEST_CASE(post_without_length_is_411),
        TEST_CASE(unknown_method_is_501_and_get_on_responses_is_405),
        TEST_CASE(pipelined_requests_are_answered_in_order),
        TEST_CASE(only_good_submissions_were_stored),
        TEST_CASE(daemon_stops_with_status_0)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
