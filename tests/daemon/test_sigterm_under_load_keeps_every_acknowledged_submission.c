/*
 * SIGTERM while eight clients submit as fast as they can, each on a keep-alive TLS connection:
 * the daemon drains and exits 0 within a bound, and every submission it acknowledged (2xx) is
 * in the database. The signal is sent once at least 200 submissions have been acknowledged.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "term-open"
#define PATH "/v1/waves/" WAVE "/responses"
#define N_THREADS 8
#define MAX_PER_THREAD 2000
#define ACKED_BEFORE_TERM 200

static struct sd_env env;
static struct sd_daemon *daemon_;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long acked_total;
static int threads_done;
static bool term_sent;

struct client {
    pthread_t thread;
    unsigned index;
    int port;
    char (*acked)[37];
    size_t n_acked;
    int errors_before_term; /* anything but a 2xx before the signal */
    int other_after_term;   /* answers after the signal other than 2xx or 503 */
    char first_error[160];
};

static bool signal_sent(void)
{
    pthread_mutex_lock(&mu);
    bool sent = term_sent;
    pthread_mutex_unlock(&mu);
    return sent;
}

static void client_error(struct client *cl, const char *what, int status)
{
    if (signal_sent()) {
        /* After the signal, a closed connection or a 503 is an allowed way to say no. */
        if (status != 0 && status != 503) {
            cl->other_after_term++;
        }
        return;
    }
    if (cl->errors_before_term++ == 0) {
        snprintf(cl->first_error, sizeof cl->first_error, "%s (status %d)", what, status);
    }
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct sd_conn *c = NULL;
    unsigned long seq = 0;
    while (seq < MAX_PER_THREAD) {
        if (c == NULL) {
            c = sd_connect(cl->port, NULL, NULL);
            if (c == NULL) {
                client_error(cl, "connect", 0);
                break;
            }
        }
        char sid[37];
        sd_uuid(sid, 0x100 + cl->index, ++seq);
        char answers[96];
        snprintf(answers, sizeof answers, "\"genai_budget_share\":%lu", seq % 100);
        char *body = sd_submission(sid, NULL, sd_answers(answers));
        char *req = sd_post_request(PATH, body, true);
        struct sd_response r;
        bool sent = sd_send(c, req, strlen(req), 5000);
        enum sd_read_result rr = sent ? sd_read_response(c, &r, false, 15000) : SD_READ_CLOSED;
        free(req);
        free(body);
        if (rr != SD_READ_OK) {
            client_error(cl, sent ? "no answer" : "send failed", 0);
            sd_close(c);
            c = NULL;
            if (signal_sent()) {
                break;
            }
            continue;
        }
        bool ok = r.status == 201 || r.status == 200;
        if (ok) {
            const char *got = sd_json_str(&r, "submission_id");
            if (got == NULL || strcmp(got, sid) != 0) {
                client_error(cl, "receipt for another submission", r.status);
            }
            memcpy(cl->acked[cl->n_acked++], sid, 37);
            pthread_mutex_lock(&mu);
            if (++acked_total >= ACKED_BEFORE_TERM) {
                pthread_cond_broadcast(&cond);
            }
            pthread_mutex_unlock(&mu);
        } else {
            client_error(cl, "refused", r.status);
        }
        bool closing = r.conn_close;
        sd_response_free(&r);
        if (closing) {
            sd_close(c);
            c = NULL;
            if (signal_sent()) {
                break;
            }
        }
        if (!ok && signal_sent()) {
            break;
        }
    }
    sd_close(c);
    pthread_mutex_lock(&mu);
    threads_done++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void every_acknowledged_submission_survives_sigterm(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--rate-limit", "0", "--shutdown-timeout-ms", "10000",
                                        NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        return;
    }
    static struct client clients[N_THREADS];
    for (unsigned i = 0; i < N_THREADS; i++) {
        clients[i].index = i;
        clients[i].port = sd_daemon_port(daemon_);
        clients[i].acked = calloc(MAX_PER_THREAD, 37);
        CHECK(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) == 0);
    }

    /* Wait (bounded) for enough acknowledgements, or for every client to have given up. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&mu);
    while (acked_total < ACKED_BEFORE_TERM && threads_done < N_THREADS) {
        if (pthread_cond_timedwait(&cond, &mu, &until) != 0) {
            break;
        }
    }
    long acked_at_term = acked_total;
    term_sent = true;
    pthread_mutex_unlock(&mu);
    CHECK(acked_at_term >= ACKED_BEFORE_TERM);
    long long t0 = sd_now_ms();
    CHECK(kill(sd_daemon_pid(daemon_), SIGTERM) == 0);
    int code = sd_daemon_wait_exit(daemon_, 20000);
    long long took = sd_now_ms() - t0;
    if (code != 0) {
        fprintf(stderr, "surveyd exit status %d after %lld ms\n", code, took);
    }
    CHECK(code == 0);
    CHECK(took < 15000);
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(clients[i].thread, NULL);
    }
    if (code != 0) {
        sd_daemon_stop(daemon_, 5000);
    }

    /* Every acknowledged id, from every thread, in one array: all must be stored. */
    size_t total = 0;
    for (int i = 0; i < N_THREADS; i++) {
        total += clients[i].n_acked;
        if (clients[i].errors_before_term > 0) {
            fprintf(stderr, "client %d: %d errors before SIGTERM, first: %s\n", i,
                    clients[i].errors_before_term, clients[i].first_error);
        }
        CHECK(clients[i].errors_before_term == 0);
        CHECK(clients[i].other_after_term == 0);
    }
    fprintf(stderr, "%zu acknowledged, %ld of them before SIGTERM\n", total, acked_at_term);
    char *ids = malloc(total * 38 + 4);
    size_t at = 0;
    ids[at++] = '{';
    for (int i = 0; i < N_THREADS; i++) {
        for (size_t k = 0; k < clients[i].n_acked; k++) {
            if (at > 1) {
                ids[at++] = ',';
            }
            memcpy(ids + at, clients[i].acked[k], 36);
            at += 36;
        }
    }
    ids[at++] = '}';
    ids[at] = '\0';
    CHECK(sd_count(&env, "SELECT count(DISTINCT x) FROM unnest($1::uuid[]) x", ids, NULL) ==
          (long long)total);
    long long missing = sd_count(&env,
                                 "SELECT count(*) FROM unnest($1::uuid[]) x WHERE NOT EXISTS "
                                 "(SELECT 1 FROM survey.responses r WHERE r.wave_id = $2 AND "
                                 "r.submission_id = x)",
                                 ids, WAVE, NULL);
    if (missing != 0) {
        fprintf(stderr, "%lld acknowledged submissions are not in the database\n", missing);
    }
    CHECK(missing == 0);
    /* Nothing stored twice; and whatever else is stored was at least sent by a client. */
    CHECK(sd_count(&env, "SELECT count(*) - count(DISTINCT submission_id) FROM survey.responses",
                   NULL) == 0);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) >= (long long)total);
    CHECK(sd_log_count(daemon_, "shutting down") == 1);
    CHECK(sd_log_count(daemon_, "shutdown timeout") == 0);
    CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
    free(ids);
    for (int i = 0; i < N_THREADS; i++) {
        free(clients[i].acked);
    }
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(every_acknowledged_submission_survives_sigterm)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
