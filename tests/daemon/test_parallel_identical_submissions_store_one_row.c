/*
 * Fifty clients, each on its own TLS connection, send the very same submission at the same
 * moment (released together by a barrier after their handshakes). Exactly one is created (201);
 * the others are replays (200) of the same receipt; the database holds exactly one row.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "par-open"
#define N_CLIENTS 50

static struct sd_env env;
static struct sd_daemon *daemon_;
static pthread_barrier_t barrier;
static char request_bytes[8192];

struct client {
    pthread_t thread;
    int port;
    bool connected;
    bool sent;
    int status;
    char response_id[64];
    char received_at[64];
    char submission_id[64];
};

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct sd_conn *c = sd_connect(cl->port, NULL, NULL);
    cl->connected = c != NULL;
    pthread_barrier_wait(&barrier);
    if (c == NULL) {
        return NULL;
    }
    cl->sent = sd_send(c, request_bytes, strlen(request_bytes), 10000);
    struct sd_response r;
    if (cl->sent && sd_read_response(c, &r, false, 20000) == SD_READ_OK) {
        cl->status = r.status;
        const char *v = sd_json_str(&r, "response_id");
        snprintf(cl->response_id, sizeof cl->response_id, "%s", v ? v : "");
        v = sd_json_str(&r, "received_at");
        snprintf(cl->received_at, sizeof cl->received_at, "%s", v ? v : "");
        v = sd_json_str(&r, "submission_id");
        snprintf(cl->submission_id, sizeof cl->submission_id, "%s", v ? v : "");
        sd_response_free(&r);
    }
    sd_close(c);
    return NULL;
}

static void fifty_identical_submissions_store_one_row(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--rate-limit", "0", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 0x50, 1);
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    char *req = sd_post_request("/v1/waves/" WAVE "/responses", body, false);
    snprintf(request_bytes, sizeof request_bytes, "%s", req);
    free(req);
    free(body);

    static struct client clients[N_CLIENTS];
    pthread_barrier_init(&barrier, NULL, N_CLIENTS);
    for (int i = 0; i < N_CLIENTS; i++) {
        clients[i].port = sd_daemon_port(daemon_);
        CHECK(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) == 0);
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        pthread_join(clients[i].thread, NULL);
    }
    pthread_barrier_destroy(&barrier);

    int created = 0, replayed = 0;
    const char *rid = clients[0].response_id;
    const char *at = clients[0].received_at;
    for (int i = 0; i < N_CLIENTS; i++) {
        CHECK(clients[i].connected);
        CHECK(clients[i].sent);
        CHECK(clients[i].status == 201 || clients[i].status == 200);
        created += clients[i].status == 201;
        replayed += clients[i].status == 200;
        CHECK_STR(clients[i].response_id, rid);
        CHECK_STR(clients[i].received_at, at);
        CHECK_STR(clients[i].submission_id, sid);
    }
    if (created != 1 || replayed != N_CLIENTS - 1) {
        fprintf(stderr, "created %d, replayed %d\n", created, replayed);
    }
    CHECK(created == 1);
    CHECK(replayed == N_CLIENTS - 1);
    CHECK(rid[0] != '\0');
    CHECK(sd_stored(&env, WAVE, sid) == 1);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) == 1);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE receipt_id::text = $1", rid,
                   NULL) == 1);
    CHECK(sd_daemon_stop(daemon_, 15000) == 0);
    CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(fifty_identical_submissions_store_one_row)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
