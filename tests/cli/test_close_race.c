/*
 * `survey-admin wave close` against live submissions: 8 threads, each on its own connection,
 * submit continuously to an open-access wave through survey.submit_responses while the CLI
 * closes it. Once close has returned nothing more may be stored, and every acknowledged
 * submission (status "created" after the statement returned) must be in the wave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "testlib.h"

extern char **environ;

#define RACE_WAVE "close-race"
#define RACE_THREADS 8
#define RACE_MIN_ACKED_BEFORE_CLOSE 200 /* close only once submissions really flow */
#define RACE_MAX_PER_THREAD 20000       /* bound on submissions of one thread */
#define RACE_MAX_BATCH 3                /* items per call: 1, 2, 3, 1, ... */
#define RACE_DEADLINE_S 120             /* bound on the whole run */
#define RACE_ID_LEN 36

struct race_thread {
    int index;
    pthread_t thread;
    PGconn *conn;
    char (*acked)[RACE_ID_LEN + 1]; /* ids answered "created", at most RACE_MAX_PER_THREAD */
    size_t n_acked;
    unsigned long seq; /* submission ids used so far */
    bool saw_closed;   /* the loop ended on wave_closed */
    bool final_closed; /* the submission after close's return got wave_closed */
    int errors;        /* any other outcome or failure */
    char first_error[256];
};

/* What the threads and the main thread share, under race_mutex. */
static pthread_mutex_t race_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t race_cond = PTHREAD_COND_INITIALIZER;
static long race_acked_total;
static int race_threads_done; /* threads out of their submitting loop */
static bool race_final_round; /* close has returned and the snapshot is taken */
static struct timespec race_deadline;

static bool race_past_deadline(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > race_deadline.tv_sec ||
           (now.tv_sec == race_deadline.tv_sec && now.tv_nsec >= race_deadline.tv_nsec);
}

static void race_error(struct race_thread *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void race_error(struct race_thread *t, const char *fmt, ...)
{
    if (t->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->first_error, sizeof t->first_error, fmt, ap);
        va_end(ap);
    }
}

/* A distinct, well-formed UUID per thread and sequence number. */
static void race_next_id(struct race_thread *t, char id[RACE_ID_LEN + 1])
{
    t->seq++;
    snprintf(id, RACE_ID_LEN + 1, "%08x-0000-4000-8000-%012lx", (unsigned)t->index + 1, t->seq);
}

/*
 * Submit one batch of n new submissions. Returns the number acknowledged as created; *closed is
 * set when any item was answered wave_closed. Other outcomes count as errors.
 */
static int race_submit(struct race_thread *t, int n, bool *closed)
{
    char ids[RACE_MAX_BATCH][RACE_ID_LEN + 1];
    char batch[RACE_MAX_BATCH * 160 + 8];
    size_t len = 0;
    batch[len++] = '[';
    for (int i = 0; i < n; i++) {
        race_next_id(t, ids[i]);
        len += (size_t)snprintf(batch + len, sizeof batch - len,
                                "%s{\"wave\":\"" RACE_WAVE "\",\"submission_id\":\"%s\","
                                "\"answers\":{\"n\":%lu},\"screened_out\":false}",
                                i ? "," : "", ids[i], t->seq);
    }
    snprintf(batch + len, sizeof batch - len, "]");

    const char *const params[] = {batch};
    PGresult *res = PQexecParams(t->conn, "SELECT survey.submit_responses($1::jsonb)", 1, NULL,
                                 params, NULL, NULL, 0);
    int created = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        race_error(t, "submit_responses failed: %s", PQerrorMessage(t->conn));
        PQclear(res);
        return 0;
    }
    cJSON *outcomes = cJSON_Parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!cJSON_IsArray(outcomes) || cJSON_GetArraySize(outcomes) != n) {
        race_error(t, "unexpected result shape");
        cJSON_Delete(outcomes);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(outcomes, i);
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(o, "submission_id");
        if (!cJSON_IsString(status) || !cJSON_IsString(sid) ||
            strcmp(sid->valuestring, ids[i]) != 0) {
            race_error(t, "an outcome is malformed or out of order");
        } else if (strcmp(status->valuestring, "created") == 0) {
            /* The statement has returned, so its transaction has committed: acknowledged. */
            if (t->n_acked < RACE_MAX_PER_THREAD) {
                memcpy(t->acked[t->n_acked++], ids[i], RACE_ID_LEN + 1);
                created++;
            } else {
                race_error(t, "more acknowledgements than the bound");
            }
        } else if (strcmp(status->valuestring, "wave_closed") == 0) {
            *closed = true;
        } else {
            race_error(t, "unexpected outcome \"%s\"", status->valuestring);
        }
    }
    cJSON_Delete(outcomes);
    return created;
}

static void *race_thread_main(void *arg)
{
    struct race_thread *t = arg;
    bool closed = false;
    int batch = 1;
    while (!closed && t->seq + RACE_MAX_BATCH <= RACE_MAX_PER_THREAD && !race_past_deadline()) {
        int created = race_submit(t, batch, &closed);
        batch = batch % RACE_MAX_BATCH + 1;
        if (created > 0) {
            pthread_mutex_lock(&race_mutex);
            race_acked_total += created;
            if (race_acked_total >= RACE_MIN_ACKED_BEFORE_CLOSE) {
                pthread_cond_broadcast(&race_cond);
            }
            pthread_mutex_unlock(&race_mutex);
        }
        if (t->errors > 0) {
            break;
        }
    }
    t->saw_closed = closed;

    /* Once close has returned and the main thread has its snapshot: one more, refused. */
    pthread_mutex_lock(&race_mutex);
    race_threads_done++;
    pthread_cond_broadcast(&race_cond);
    while (!race_final_round) {
        pthread_cond_wait(&race_cond, &race_mutex);
    }
    pthread_mutex_unlock(&race_mutex);
    bool final_closed = false;
    size_t before = t->n_acked;
    race_submit(t, 1, &final_closed);
    t->final_closed = final_closed && t->n_acked == before;
    return NULL;
}

/* Run survey-admin with args; its stdout (up to out_size - 1 bytes) goes to out. Exit status,
 * or -1 when it could not run. */
static int race_admin(const char *const *args, char *out, size_t out_size)
{
    const char *admin = getenv("SURVEY_ADMIN");
    if (admin == NULL) {
        fprintf(stderr, "SURVEY_ADMIN is not set (run through ctest)\n");
        return -1;
    }
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)(uintptr_t)admin;
    for (; args[n - 1] != NULL && n < 15; n++) {
        argv[n] = (char *)(uintptr_t)args[n - 1];
    }
    argv[n] = NULL;

    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int err = posix_spawn(&pid, admin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        fprintf(stderr, "could not run %s: %s\n", admin, strerror(err));
        close(fds[0]);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        char buf[512];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        size_t take = (size_t)r < out_size - 1 - got ? (size_t)r : out_size - 1 - got;
        memcpy(out + got, buf, take);
        got += take;
    }
    out[got] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int race_cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The wave's stored submission ids, sorted, into a new array (free); count in *n. */
static char (*race_stored(PGconn *conn, size_t *n))[RACE_ID_LEN + 1]
{
    const char *const params[] = {RACE_WAVE};
    PGresult *res = PQexecParams(conn,
                                 "SELECT submission_id::text FROM survey.responses"
                                 " WHERE wave_id = $1 ORDER BY 1",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "could not read the responses: %s", PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    *n = (size_t)PQntuples(res);
    char(*ids)[RACE_ID_LEN + 1] = calloc(*n + 1, sizeof *ids);
    for (size_t i = 0; ids != NULL && i < *n; i++) {
        snprintf(ids[i], RACE_ID_LEN + 1, "%s", PQgetvalue(res, (int)i, 0));
    }
    PQclear(res);
    return ids;
}

static bool race_same(char (*a)[RACE_ID_LEN + 1], size_t na, char (*b)[RACE_ID_LEN + 1], size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i]) != 0) {
            return false;
        }
    }
    return true;
}

static void test_close_admits_nothing_after_it_returns_and_loses_no_acknowledged(void)
{
    const char *conninfo = getenv("SURVEY_TEST_DB");
    const char *src = getenv("SURVEY_SOURCE_DIR");
    CHECK(conninfo != NULL && src != NULL);
    if (conninfo == NULL || src == NULL) {
        return;
    }
    char definition[4096], out[1024];
    snprintf(definition, sizeof definition, "%s/questionnaire/definitions/genai-adoption-2025.json",
             src);
    const char *const migrate[] = {"migrate", NULL};
    const char *const create[] = {"wave",     "create",   RACE_WAVE, "--questionnaire",
                                  definition, "--access", "open",    NULL};
    const char *const open[] = {"wave", "open", RACE_WAVE, NULL};
    const char *const close_cmd[] = {"wave", "close", RACE_WAVE, NULL};
    CHECK(race_admin(migrate, out, sizeof out) == 0);
    CHECK(race_admin(create, out, sizeof out) == 0);
    CHECK(race_admin(open, out, sizeof out) == 0);

    PGconn *conn = PQconnectdb(conninfo);
    CHECK(PQstatus(conn) == CONNECTION_OK);
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return;
    }

    clock_gettime(CLOCK_REALTIME, &race_deadline);
    race_deadline.tv_sec += RACE_DEADLINE_S;
    static struct race_thread threads[RACE_THREADS];
    int started = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        struct race_thread *t = &threads[i];
        t->index = i;
        t->conn = PQconnectdb(conninfo);
        t->acked = calloc(RACE_MAX_PER_THREAD, sizeof *t->acked);
        if (PQstatus(t->conn) != CONNECTION_OK || t->acked == NULL ||
            pthread_create(&t->thread, NULL, race_thread_main, t) != 0) {
            CHECK(!"a submitting thread could not start");
            break;
        }
        started++;
    }

    /* Close once submissions flow (bounded wait: a stall fails instead of hanging). */
    pthread_mutex_lock(&race_mutex);
    int wait_rc = 0;
    while (race_acked_total < RACE_MIN_ACKED_BEFORE_CLOSE && race_threads_done < started &&
           wait_rc == 0) {
        wait_rc = pthread_cond_timedwait(&race_cond, &race_mutex, &race_deadline);
    }
    long acked_before_close = race_acked_total;
    pthread_mutex_unlock(&race_mutex);
    CHECK(acked_before_close >= RACE_MIN_ACKED_BEFORE_CLOSE);

    int close_rc = race_admin(close_cmd, out, sizeof out);
    CHECK(close_rc == 0);
    size_t n_snapshot = 0;
    char(*snapshot)[RACE_ID_LEN + 1] = race_stored(conn, &n_snapshot);
    CHECK(snapshot != NULL);

    pthread_mutex_lock(&race_mutex);
    race_final_round = true;
    pthread_cond_broadcast(&race_cond);
    pthread_mutex_unlock(&race_mutex);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i].thread, NULL);
    }

    /* Every acknowledged id, sorted. */
    size_t n_acked = 0;
    for (int i = 0; i < started; i++) {
        n_acked += threads[i].n_acked;
    }
    char(*acked)[RACE_ID_LEN + 1] = calloc(n_acked + 1, sizeof *acked);
    CHECK(acked != NULL);
    size_t k = 0;
    for (int i = 0; acked != NULL && i < started; i++) {
        struct race_thread *t = &threads[i];
        memcpy(acked[k], t->acked, t->n_acked * sizeof *acked);
        k += t->n_acked;
        if (t->errors > 0) {
            fprintf(stderr, "thread %d: %d errors, the first: %s\n", i, t->errors, t->first_error);
        }
        CHECK(t->errors == 0);  /* nothing but created and wave_closed */
        CHECK(t->saw_closed);   /* each thread was still submitting when the wave closed */
        CHECK(t->final_closed); /* and was refused afterwards */
    }
    if (acked != NULL) {
        qsort(acked, n_acked, sizeof *acked, race_cmp_id);
    }

    size_t n_final = 0;
    char(*final)[RACE_ID_LEN + 1] = race_stored(conn, &n_final);
    CHECK(final != NULL);
    if (snapshot != NULL && final != NULL && acked != NULL) {
        fprintf(stderr,
                "acknowledged %zu (%ld before close), stored %zu at close, %zu at the end\n",
                n_acked, acked_before_close, n_snapshot, n_final);
        /* Nothing was admitted after close returned. */
        CHECK(race_same(snapshot, n_snapshot, final, n_final));
        /* Every acknowledged id is stored, and nothing is stored that was not acknowledged. */
        CHECK(race_same(acked, n_acked, final, n_final));
        CHECK(n_acked >= (size_t)acked_before_close);
    }

    /* close reported the final count. */
    char expect[256];
    snprintf(expect, sizeof expect, "wave \"%s\" is closed: %zu responses", RACE_WAVE, n_final);
    CHECK(strncmp(out, expect, strlen(expect)) == 0);
    if (strncmp(out, expect, strlen(expect)) != 0) {
        fprintf(stderr, "close printed: %s", out);
    }

    for (int i = 0; i < RACE_THREADS; i++) {
        PQfinish(threads[i].conn);
        free(threads[i].acked);
    }
    free(snapshot);
    free(final);
    free(acked);
    PQfinish(conn);
}

TEST_MAIN(TEST_CASE(test_close_admits_nothing_after_it_returns_and_loses_no_acknowledged))
