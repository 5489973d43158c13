/*
 * A client that sends part of a request head and then nothing is answered 408 (or dropped)
 * once --header-timeout-ms has passed, not before and not much later; meanwhile the one worker
 * thread keeps serving another client.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "slow-open"
#define HEADER_TIMEOUT_MS 300

static struct sd_env env;
static struct sd_daemon *daemon_;

static void partial_head_gets_408_while_others_are_served(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--header-timeout-ms", "300", "--threads", "1",
                                        "--rate-limit",        "0",   NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        return;
    }
    int port = sd_daemon_port(daemon_);
    struct sd_conn *slow = sd_connect(port, NULL, NULL);
    CHECK(slow != NULL);
    if (slow == NULL) {
        return;
    }
    static const char partial[] = "POST /v1/waves/" WAVE "/responses HTTP/1.1\r\nHost: local";
    long long sent_at = sd_now_ms();
    CHECK(sd_send(slow, partial, sizeof partial - 1, 5000));

    /* Served meanwhile, on the same (only) worker: a health check and a submission. */
    struct sd_response r;
    CHECK(sd_get(port, "/healthz", &r) == 0);
    CHECK(r.status == 200);
    sd_response_free(&r);
    long long served_after = sd_now_ms() - sent_at;
    char sid[37];
    sd_uuid(sid, 0x51, 1);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    CHECK(sd_post_json(port, "/v1/waves/" WAVE "/responses", body, &r) == 0);
    CHECK(r.status == 201);
    sd_response_free(&r);
    free(body);

    enum sd_read_result rr = sd_read_response(slow, &r, false, 5000);
    long long elapsed = sd_now_ms() - sent_at;
    CHECK(rr == SD_READ_OK || rr == SD_READ_CLOSED);
    if (rr == SD_READ_OK) {
        CHECK(r.status == 408);
        CHECK_STR(r.type, "/problems/request_timeout");
        CHECK(r.conn_close);
        CHECK(sd_safety_headers(&r));
        CHECK(sd_wait_closed(slow, 5000));
    }
    sd_response_free(&r);
    if (elapsed < HEADER_TIMEOUT_MS - 20 || elapsed > 3000) {
        fprintf(stderr, "the slow client was cut off after %lld ms\n", elapsed);
    }
    CHECK(elapsed >= HEADER_TIMEOUT_MS - 20);
    CHECK(served_after < elapsed); /* the other client was served before the cut */
    CHECK(elapsed <= 3000);
    sd_close(slow);
    CHECK(sd_stored(&env, WAVE, sid) == 1);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) == 1);

    /* A client that trickles a byte at a time is cut off all the same: the deadline counts
     * from the head's first byte, not from the last one. */
    slow = sd_connect(port, NULL, NULL);
    CHECK(slow != NULL);
    if (slow != NULL) {
        static const char head[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaa";
        long long start = sd_now_ms();
        bool cut = false;
        for (size_t i = 0; i < sizeof head - 1 && !cut; i++) {
            if (!sd_send(slow, head + i, 1, 1000)) {
                cut = true;
                break;
            }
            /* Wait 50 ms for the server to say something (it should not, yet): the bound of a
             * socket read is the pacing here, and also notices the cut. */
            struct sd_response x;
            enum sd_read_result res = sd_read_response(slow, &x, false, 50);
            if (res != SD_READ_TIMEOUT) {
                cut = true;
                if (res == SD_READ_OK) {
                    CHECK(x.status == 408);
                }
                sd_response_free(&x);
            }
        }
        long long took = sd_now_ms() - start;
        if (!cut) {
            struct sd_response x;
            enum sd_read_result res = sd_read_response(slow, &x, false, 5000);
            CHECK(res == SD_READ_OK || res == SD_READ_CLOSED);
            if (res == SD_READ_OK) {
                CHECK(x.status == 408);
            }
            sd_response_free(&x);
            took = sd_now_ms() - start;
        }
        CHECK(took <= 3000);
        sd_close(slow);
    }
    CHECK(sd_daemon_stop(daemon_, 15000) == 0);
    CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(partial_head_gets_408_while_others_are_served)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
