/*
 * The operator's endpoints of a running surveyd: /healthz and /readyz answer 200, HEAD /healthz
 * has headers and no body, and /metrics is Prometheus text with the documented series, whose
 * submission counter counts exactly the submissions this test made.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "metrics-open"

static struct sd_env env;
static struct sd_daemon *daemon_;

static void daemon_starts_and_becomes_ready(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--rate-limit", "0", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
}

static void healthz_and_readyz_answer_200(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    int port = sd_daemon_port(daemon_);
    struct sd_response r;
    CHECK(sd_get(port, "/healthz", &r) == 0);
    CHECK(r.status == 200);
    CHECK(sd_safety_headers(&r));
    CHECK_STR(sd_json_str(&r, "status"), "ok");
    sd_response_free(&r);

    CHECK(sd_get(port, "/readyz", &r) == 0);
    CHECK(r.status == 200);
    CHECK(sd_safety_headers(&r));
    CHECK_STR(sd_json_str(&r, "status"), "ready");
    sd_response_free(&r);
}

/* HEAD then GET pipelined on one connection: if HEAD sent a body, the GET's answer would not
 * start where the HEAD's head ends. */
static void head_healthz_has_no_body(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    struct sd_conn *c = sd_connect(sd_daemon_port(daemon_), NULL, NULL);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    static const char req[] =
        "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    CHECK(sd_send(c, req, sizeof req - 1, 5000));
    struct sd_response head, get;
    CHECK(sd_read_response(c, &head, true, 5000) == SD_READ_OK);
    CHECK(head.status == 200);
    CHECK(sd_safety_headers(&head));
    char v[64];
    CHECK(sd_header(&head, "Content-Length", v, sizeof v));
    CHECK(head.body_len == 0);
    CHECK(sd_read_response(c, &get, false, 5000) == SD_READ_OK);
    CHECK(get.status == 200);
    CHECK_STR(sd_json_str(&get, "status"), "ok");
    /* The HEAD's Content-Length is the GET's body length: same headers, no body. */
    CHECK(strtoul(v, NULL, 10) == get.body_len);
    CHECK(sd_wait_closed(c, 5000));
    size_t left;
    sd_pending(c, &left);
    CHECK(left == 0);
    sd_response_free(&head);
    sd_response_free(&get);
    sd_close(c);
}

/* The value of the series line that starts with prefix (name and labels), or -1. */
static double metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            return strtod(p + n + 1, NULL);
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return -1;
}

static void metrics_count_what_happened(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    int port = sd_daemon_port(daemon_);
    enum { N = 3 };
    for (unsigned i = 0; i < N; i++) {
        char sid[37];
        sd_uuid(sid, 7, i + 1);
        char *body = sd_submission(sid, NULL, sd_answers(NULL));
        struct sd_response r;
        CHECK(sd_post_json(port, "/v1/waves/" WAVE "/responses", body, &r) == 0);
        CHECK(r.status == 201);
        sd_response_free(&r);
        free(body);
    }
    /* One refused submission, which must not count as accepted. */
    struct sd_response bad;
    CHECK(sd_post_json(port, "/v1/waves/" WAVE "/responses", "{\"answers\":", &bad) == 0);
    CHECK(bad.status == 400);
    sd_response_free(&bad);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) == N);

    struct sd_response m;
    CHECK(sd_get(port, "/metrics", &m) == 0);
    CHECK(m.status == 200);
    CHECK(sd_safety_headers(&m));
    char ct[128];
    CHECK(sd_header(&m, "Content-Type", ct, sizeof ct) && strncmp(ct, "text/plain", 10) == 0);
    const char *t = m.body ? m.body : "";
    CHECK(strstr(t, "# TYPE surveyd_http_requests_total counter") != NULL);
    CHECK(metric(t, "surveyd_http_requests_total{route=\"responses\",status=\"201\"}") == N);
    CHECK(metric(t, "surveyd_http_requests_total{route=\"responses\",status=\"400\"}") == 1);
    CHECK(metric(t, "surveyd_submissions_total{outcome=\"accepted\"}") == N);
    CHECK(metric(t, "surveyd_submissions_total{outcome=\"malformed\"}") == 1);
    CHECK(strstr(t, "# TYPE surveyd_batch_size histogram") != NULL);
    CHECK(metric(t, "surveyd_batch_size_bucket{le=\"+Inf\"}") >= 1);
    CHECK(metric(t, "surveyd_batch_size_count") >= 1);
    CHECK(strstr(t, "# TYPE surveyd_commit_seconds histogram") != NULL);
    CHECK(metric(t, "surveyd_commit_seconds_bucket{le=\"+Inf\"}") >= 1);
    CHECK(strstr(t, "# TYPE surveyd_open_connections gauge") != NULL);
    CHECK(metric(t, "surveyd_open_connections") >= 1); /* this scrape's own */
    CHECK(strstr(t, "# TYPE surveyd_queue_depth gauge") != NULL);
    CHECK(metric(t, "surveyd_queue_depth") == 0);
    /* Every line is a comment or "name{labels} value". */
    for (const char *p = t; *p != '\0';) {
        const char *end = strchr(p, '\n');
        CHECK(end != NULL);
        if (end == NULL) {
            break;
        }
        CHECK(*p == '#' || strncmp(p, "surveyd_", 8) == 0);
        p = end + 1;
    }
    sd_response_free(&m);
}

static void daemon_stops_with_status_0(void)
{
    if (daemon_ != NULL) {
        CHECK(sd_daemon_stop(daemon_, 15000) == 0);
        CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
        CHECK(sd_log_count(daemon_, "stopped") == 1);
    }
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemon_starts_and_becomes_ready), TEST_CASE(healthz_and_readyz_answer_200),
        TEST_CASE(head_healthz_has_no_body), TEST_CASE(metrics_count_what_happened),
        TEST_CASE(daemon_stops_with_status_0)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
