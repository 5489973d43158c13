/*
 * The per-address rate limit: with --rate-limit 2 --rate-burst 2 on one thread, rapid
 * submissions from 127.0.0.1 soon get 429 with Retry-After and are not stored, while a client
 * connecting from 127.0.0.2 has a bucket of its own and is served.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "rl-open"
#define PATH "/v1/waves/" WAVE "/responses"

static struct sd_env env;
static struct sd_daemon *daemon_;

/* POST a fresh submission from src (NULL: 127.0.0.1); the status, or 0. sid gets its id. */
static int submit_from(const char *src, unsigned long n, char sid[37], struct sd_response *r)
{
    sd_uuid(sid, src ? 0x2 : 0x1, n);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    char *req = sd_post_request(PATH, body, false);
    struct sd_tls_opts opts = {.bind_addr = src};
    struct sd_tls_info info;
    struct sd_conn *c = sd_connect(sd_daemon_port(daemon_), &opts, &info);
    memset(r, 0, sizeof *r);
    if (c == NULL) {
        fprintf(stderr, "connect from %s failed: %s\n", src ? src : "127.0.0.1", info.reason);
    } else if (!sd_send(c, req, strlen(req), 5000) ||
               sd_read_response(c, r, false, 10000) != SD_READ_OK) {
        fprintf(stderr, "no answer to submission %lu\n", n);
    }
    sd_close(c);
    free(req);
    free(body);
    return r->status;
}

static void rapid_submissions_hit_429_but_another_address_is_served(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {
        "--rate-limit", "2", "--rate-burst", "2", "--threads", "1", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        return;
    }
    /* The burst is 2 and the rate 2/s: the first two back-to-back submissions are accepted,
     * and one of the next ones is refused (unless twenty of them took over ten seconds). */
    int limited = 0, accepted = 0;
    for (unsigned long i = 1; i <= 20 && limited == 0; i++) {
        char sid[37];
        struct sd_response r;
        int status = submit_from(NULL, i, sid, &r);
        CHECK(status == 201 || status == 429);
        if (i <= 2) {
            CHECK(status == 201);
        }
        if (status == 201) {
            accepted++;
            CHECK(sd_stored(&env, WAVE, sid) == 1);
        }
        if (status == 429) {
            limited++;
            CHECK_STR(r.type, "/problems/rate_limited");
            CHECK(sd_safety_headers(&r));
            char retry[32];
            CHECK(sd_header(&r, "Retry-After", retry, sizeof retry));
            long s = strtol(retry, NULL, 10);
            CHECK(s >= 1 && s <= 5);
            CHECK(sd_stored(&env, WAVE, sid) == 0);
        }
        sd_response_free(&r);
    }
    CHECK(limited >= 1);
    CHECK(accepted >= 2);

    /* Another source address: its own bucket, served at once. */
    char sid[37];
    struct sd_response r;
    CHECK(submit_from("127.0.0.2", 1, sid, &r) == 201);
    CHECK(sd_stored(&env, WAVE, sid) == 1);
    sd_response_free(&r);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) == accepted + 1);

    /* Health checks are not submissions: not rate limited. */
    for (int i = 0; i < 5; i++) {
        CHECK(sd_get(sd_daemon_port(daemon_), "/healthz", &r) == 0);
        CHECK(r.status == 200);
        sd_response_free(&r);
    }
    CHECK(sd_daemon_stop(daemon_, 15000) == 0);
    CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(rapid_submissions_hit_429_but_another_address_is_served)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
