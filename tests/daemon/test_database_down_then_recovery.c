/*
 * The database goes away under a running surveyd and comes back on the same port. The test
 * runs a private PostgreSQL cluster of its own (pg_fixture.sh in a temporary directory) so it
 * can stop it: meanwhile submissions get 503 with Retry-After and /readyz 503; after the
 * restart the same daemon process (never restarted) reconnects by itself and stores again.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "down-open"
#define PATH "/v1/waves/" WAVE "/responses"

static struct sd_env env;
static struct sd_daemon *daemon_;
static char fixture[1200];     /* tests/integration/pg_fixture.sh */
static char pg_link[256];      /* env.dir/pg, as given to the fixture */
static char pg_real[PATH_MAX]; /* where the cluster really is (postgres can enter it) */
static char pg_ctl[PATH_MAX + 16];
static int pg_port;
static bool cluster_started;

static bool executable(const char *path)
{
    return access(path, X_OK) == 0;
}

/* pg_ctl as pg_fixture.sh finds it: $PG_BINDIR, else the real directory of initdb on PATH,
 * else the newest /usr/lib/postgresql/N/bin. */
static bool find_pg_ctl(void)
{
    const char *bindir = getenv("PG_BINDIR");
    if (bindir != NULL && bindir[0] != '\0') {
        snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", bindir);
        return executable(pg_ctl);
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "");
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL;
         dir = strtok_r(NULL, ":", &save)) {
        char candidate[PATH_MAX], real[PATH_MAX];
        snprintf(candidate, sizeof candidate, "%s/initdb", dir);
        if (executable(candidate) && realpath(candidate, real) != NULL) {
            char *slash = strrchr(real, '/');
            *slash = '\0';
            snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", real);
            if (executable(pg_ctl)) {
                free(copy);
                return true;
            }
        }
    }
    free(copy);
    int best = -1;
    DIR *d = opendir("/usr/lib/postgresql");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        int v = atoi(e->d_name);
        char candidate[PATH_MAX];
        snprintf(candidate, sizeof candidate, "/usr/lib/postgresql/%s/bin/pg_ctl", e->d_name);
        if (v > best && executable(candidate)) {
            best = v;
            snprintf(pg_ctl, sizeof pg_ctl, "%s", candidate);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return best >= 0;
}

/* Run pg_ctl as the cluster's owner: "postgres" when we are root (as pg_fixture.sh does). */
static int run_pg_ctl(const char *const args[])
{
    const char *argv[24];
    size_t n = 0;
    if (getuid() == 0) {
        const char *runuser = "runuser";
        if (executable("/usr/sbin/runuser")) {
            runuser = "/usr/sbin/runuser";
        } else if (executable("/sbin/runuser")) {
            runuser = "/sbin/runuser";
        }
        argv[n++] = runuser;
        argv[n++] = "-u";
        argv[n++] = "postgres";
        argv[n++] = "--";
    }
    argv[n++] = pg_ctl;
    for (size_t i = 0; args[i] != NULL && n < 23; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char out[4096];
    int rc = sd_run(argv, out, sizeof out, 60000);
    if (rc != 0) {
        fprintf(stderr, "pg_ctl %s failed (%d): %s\n", args[0], rc, out);
    }
    return rc;
}

static void private_cluster_and_daemon_start(void)
{
    CHECK(sd_env_init(&env, false));
    const char *src = getenv("SURVEY_SOURCE_DIR");
    snprintf(fixture, sizeof fixture, "%s/tests/integration/pg_fixture.sh", src ? src : ".");
    snprintf(pg_link, sizeof pg_link, "%s/pg", env.dir);
    CHECK(find_pg_ctl());
    const char *const start[] = {fixture, "start", pg_link, NULL};
    char out[4096];
    int rc = sd_run(start, out, sizeof out, 90000);
    if (rc != 0) {
        fprintf(stderr, "pg_fixture.sh start failed (%d): %s\n", rc, out);
    }
    CHECK(rc == 0);
    cluster_started = rc == 0;
    if (rc != 0) {
        return;
    }
    CHECK(realpath(pg_link, pg_real) != NULL);
    char env_file[PATH_MAX + 8];
    snprintf(env_file, sizeof env_file, "%s/env", pg_real);
    FILE *f = fopen(env_file, "r");
    CHECK(f != NULL);
    char line[512] = "";
    if (f != NULL) {
        if (fgets(line, sizeof line, f) == NULL) {
            line[0] = '\0';
        }
        fclose(f);
    }
    const char *p = strstr(line, "PGPORT=");
    pg_port = p ? atoi(p + 7) : 0;
    CHECK(pg_port > 0);

    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d user=postgres dbname=postgres",
             pg_port);
    PGconn *c = PQconnectdb(conninfo);
    CHECK(PQstatus(c) == CONNECTION_OK);
    PGresult *res = PQexec(c, "CREATE DATABASE survey_recovery");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(c);
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%d user=postgres dbname=survey_recovery", pg_port);
    CHECK(sd_env_db(&env, conninfo));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    static const char *const extra[] = {"--rate-limit", "0", "--retry-after-s", "3", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
}

static bool ready(void)
{
    CHECK(daemon_ != NULL && cluster_started);
    return daemon_ != NULL && cluster_started;
}

static int submit(const char *sid, struct sd_response *r)
{
    char *body = sd_submission(sid, NULL, sd_answers(NULL));
    int rc = sd_post_json(sd_daemon_port(daemon_), PATH, body, r);
    free(body);
    return rc == 0 ? r->status : 0;
}

/* Wait until every worker has logged needle at least count times. */
static bool every_worker_logged(const char *needle, size_t count, int timeout_ms)
{
    long long deadline = sd_now_ms() + timeout_ms;
    for (long i = 1; i <= sd_daemon_threads(daemon_); i++) {
        char s[96];
        snprintf(s, sizeof s, "[w%ld] %s", i, needle);
        long long left = deadline - sd_now_ms();
        if (!sd_log_wait(daemon_, s, count, left > 0 ? (int)left : 0)) {
            fprintf(stderr, "no %zu x \"%s\" within %d ms\n", count, s, timeout_ms);
            return false;
        }
    }
    return true;
}

static char down_sid[37];

static void database_down_gives_503_with_retry_after(void)
{
    if (!ready()) {
        return;
    }
    char sid[37];
    sd_uuid(sid, 0xd0, 1);
    struct sd_response r;
    CHECK(submit(sid, &r) == 201);
    sd_response_free(&r);
    CHECK(sd_stored(&env, WAVE, sid) == 1);

    char data[PATH_MAX + 8];
    snprintf(data, sizeof data, "%s/data", pg_real);
    const char *const stop[] = {"stop", "-D", data, "-m", "fast", "-w", "-t", "60", NULL};
    CHECK(run_pg_ctl(stop) == 0);
    /* Each worker notices on its own connection; then it is down for sure. */
    CHECK(every_worker_logged("database connection lost", 1, 15000));

    sd_uuid(down_sid, 0xd0, 2);
    CHECK(submit(down_sid, &r) == 503);
    CHECK_STR(r.type, "/problems/unavailable");
    CHECK(sd_safety_headers(&r));
    char retry[16];
    CHECK(sd_header(&r, "Retry-After", retry, sizeof retry));
    CHECK_STR(retry, "3");
    sd_response_free(&r);

    /* Whichever worker answers: not ready. */
    for (int i = 0; i < 4; i++) {
        CHECK(sd_get(sd_daemon_port(daemon_), "/readyz", &r) == 0);
        CHECK(r.status == 503);
        CHECK(sd_header(&r, "Retry-After", retry, sizeof retry));
        CHECK(sd_safety_headers(&r));
        sd_response_free(&r);
    }
    /* Liveness is not readiness. */
    CHECK(sd_get(sd_daemon_port(daemon_), "/healthz", &r) == 0);
    CHECK(r.status == 200);
    sd_response_free(&r);
    CHECK(sd_daemon_running(daemon_));
}

static void database_back_means_stored_again_by_the_same_process(void)
{
    if (!ready()) {
        return;
    }
    size_t connected_before = sd_log_count(daemon_, "[w1] database connected");
    size_t loads_before = sd_log_count(daemon_, "waves loaded");
    char data[PATH_MAX + 8], log[PATH_MAX + 16], port_opt[32];
    snprintf(data, sizeof data, "%s/data", pg_real);
    snprintf(log, sizeof log, "%s/postgres.log", pg_real);
    snprintf(port_opt, sizeof port_opt, "-p %d", pg_port);
    const char *const start[] = {"start", "-D", data, "-l",     log, "-w",
                                 "-t",    "60", "-o", port_opt, NULL};
    CHECK(run_pg_ctl(start) == 0);
    PQreset(env.conn);
    CHECK(PQstatus(env.conn) == CONNECTION_OK);

    /* Reconnects come by themselves, with backoff (at most 5 s between attempts). */
    CHECK(every_worker_logged("database connected", connected_before + 1, 30000));
    CHECK(sd_log_wait(daemon_, "waves loaded", loads_before + 1, 30000));

    struct sd_response r;
    for (int i = 0; i < 4; i++) {
        CHECK(sd_get(sd_daemon_port(daemon_), "/readyz", &r) == 0);
        CHECK(r.status == 200);
        sd_response_free(&r);
    }
    /* The submission refused during the outage was not stored: now it is created, not
     * replayed. */
    CHECK(sd_stored(&env, WAVE, down_sid) == 0);
    CHECK(submit(down_sid, &r) == 201);
    CHECK_STR(sd_json_str(&r, "submission_id"), down_sid);
    sd_response_free(&r);
    CHECK(sd_stored(&env, WAVE, down_sid) == 1);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses", NULL) == 2);

    /* The same process all along. */
    CHECK(sd_daemon_running(daemon_));
    CHECK(sd_log_count(daemon_, "listening") == 1);
    CHECK(sd_log_count(daemon_, "stopped") == 0);
    CHECK(sd_daemon_stop(daemon_, 15000) == 0);
}

/* Through the outage the log stays the daemon's own: one formatted line per event, nothing
 * written to stderr by a library (libpq prints server messages there unless told not to). */
static void log_keeps_its_format_through_the_outage(void)
{
    if (!ready()) {
        return;
    }
    CHECK(sd_log_count(daemon_, "control connection lost") >= 1);
    CHECK(sd_log_foreign_lines(daemon_) == 0);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(private_cluster_and_daemon_start),
        TEST_CASE(database_down_gives_503_with_retry_after),
        TEST_CASE(database_back_means_stored_again_by_the_same_process),
        TEST_CASE(log_keeps_its_format_through_the_outage)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    /* The role and the session live in the private cluster: finish them before it goes. */
    if (env.conn != NULL && env.role[0] != '\0') {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS \"%s\"", env.role);
        sd_exec(&env, sql);
    }
    env.role[0] = '\0';
    PQfinish(env.conn);
    env.conn = NULL;
    if (cluster_started) {
        const char *const stop[] = {fixture, "stop", pg_link, NULL};
        char out[4096];
        if (sd_run(stop, out, sizeof out, 90000) != 0) {
            fprintf(stderr, "pg_fixture.sh stop failed: %s\n", out);
            rc = 1;
        }
    }
    sd_env_free(&env);
    return rc;
}
