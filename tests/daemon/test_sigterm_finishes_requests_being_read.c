/*
 * A graceful stop answers what has begun: a submission whose body is still arriving when SIGTERM
 * comes, and one pipelined behind another on a keep-alive connection, are read to their end,
 * stored and answered 201 before the daemon exits 0. Idle connections are closed.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "drain-open"
#define PATH "/v1/waves/" WAVE "/responses"

static struct sd_env env;
static struct sd_daemon *daemon_;

/* A keep-alive POST of a valid submission (the caller frees it). */
static char *post(const char *sid)
{
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    char *req = body ? sd_post_request(PATH, body, true) : NULL;
    free(body);
    return req;
}

static void requests_under_way_at_sigterm_are_answered(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--rate-limit", "0", "--threads", "1", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        return;
    }
    char sid1[37];
    sd_uuid(sid1, 21, 1);
    char *req1 = post(sid1);
    CHECK(req1 != NULL);
    if (req1 == NULL) {
        return;
    }

    /* Connection a: a body half sent. Connection b: idle, must be closed. */
    struct sd_conn *a = sd_connect(sd_daemon_port(daemon_), NULL, NULL);
    struct sd_conn *b = sd_connect(sd_daemon_port(daemon_), NULL, NULL);
    CHECK(a != NULL && b != NULL);
    size_t len1 = strlen(req1);
    CHECK(sd_send(a, req1, len1 - 10, 5000));
    /* The daemon has the first part when it answers a request sent after it on b. */
    struct sd_response probe;
    char health[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_send(b, health, strlen(health), 5000));
    CHECK(sd_read_response(b, &probe, false, 5000) == SD_READ_OK && probe.status == 200);
    sd_response_free(&probe);

    CHECK(kill(sd_daemon_pid(daemon_), SIGTERM) == 0);
    CHECK(sd_log_wait(daemon_, "draining", 1, 10000));
    CHECK(sd_wait_closed(b, 5000));

    /* The rest of the body. */
    CHECK(sd_send(a, req1 + len1 - 10, 10, 5000));
    struct sd_response r1;
    CHECK(sd_read_response(a, &r1, false, 10000) == SD_READ_OK);
    CHECK(r1.status == 201);
    CHECK(r1.conn_close);
    sd_response_free(&r1);
    CHECK(sd_stored(&env, WAVE, sid1) == 1);
    CHECK(sd_daemon_wait_exit(daemon_, 20000) == 0);
    sd_close(a);
    sd_close(b);
    free(req1);
}

static void a_pipelined_request_is_answered_before_the_stop(void)
{
    /* A second daemon: two requests in one write, SIGTERM after the first answer. */
    static const char *const extra[] = {"--rate-limit", "0", "--threads", "1", NULL};
    struct sd_daemon *d = sd_daemon_start(&env, NULL, extra);
    CHECK(d != NULL);
    if (d == NULL) {
        return;
    }
    char sid1[37], sid2[37];
    sd_uuid(sid1, 22, 1);
    sd_uuid(sid2, 22, 2);
    char *req1 = post(sid1), *req2 = post(sid2);
    CHECK(req1 != NULL && req2 != NULL);
    if (req1 == NULL || req2 == NULL) {
        free(req1);
        free(req2);
        sd_daemon_free(d);
        return;
    }
    size_t n1 = strlen(req1), n2 = strlen(req2);
    char *both = malloc(n1 + n2 + 1);
    CHECK(both != NULL);
    if (both != NULL) {
        memcpy(both, req1, n1);
        memcpy(both + n1, req2, n2 + 1);
        struct sd_conn *a = sd_connect(sd_daemon_port(d), NULL, NULL);
        CHECK(a != NULL && sd_send(a, both, n1 + n2, 5000));
        struct sd_response r1, r2;
        CHECK(sd_read_response(a, &r1, false, 10000) == SD_READ_OK && r1.status == 201);
        CHECK(kill(sd_daemon_pid(d), SIGTERM) == 0);
        CHECK(sd_read_response(a, &r2, false, 10000) == SD_READ_OK && r2.status == 201);
        CHECK(sd_stored(&env, WAVE, sid1) == 1 && sd_stored(&env, WAVE, sid2) == 1);
        sd_response_free(&r1);
        sd_response_free(&r2);
        sd_close(a);
    }
    CHECK(sd_daemon_wait_exit(d, 20000) == 0);
    SD_DUMP_LOG_ON_FAILURE(d, 0);
    sd_daemon_free(d);
    free(both);
    free(req1);
    free(req2);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(requests_under_way_at_sigterm_are_answered),
        TEST_CASE(a_pipelined_request_is_answered_before_the_stop)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
