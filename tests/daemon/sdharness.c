/*
 * The surveyd test harness (see sdharness.h). Children are started with posix_spawn; every wait
 * is on an event (a log line, a readable socket, a pidfd) with a deadline, never a sleep. The
 * daemon's stderr is drained by a thread so that a chatty daemon can never block on its log.
 */
#include "sdharness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

extern char **environ;

static const char *sd_surveyd = NULL;

/* A pipe whose ends are not inherited (posix_spawn's dup2 clears the flag on the copy). */
static int sd_pipe(int fds[2])
{
    if (pipe(fds) != 0) {
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static bool sd_contains_nocase(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s != '\0'; s++) {
        if (strncasecmp(s, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

long long sd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sd_left(long long deadline)
{
    long long left = deadline - sd_now_ms();
    return left < 0 ? 0 : (int)left;
}

/* Every daemon alive, so that an early exit of the test does not leave one behind. */
#define SD_MAX_DAEMONS 8
static pthread_mutex_t sd_live_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t sd_live[SD_MAX_DAEMONS];

static void sd_live_set(pid_t pid, bool alive)
{
    pthread_mutex_lock(&sd_live_lock);
    for (int i = 0; i < SD_MAX_DAEMONS; i++) {
        if (alive ? sd_live[i] == 0 : sd_live[i] == pid) {
            sd_live[i] = alive ? pid : 0;
            break;
        }
    }
    pthread_mutex_unlock(&sd_live_lock);
}

static void sd_kill_live(void)
{
    for (int i = 0; i < SD_MAX_DAEMONS; i++) {
        if (sd_live[i] > 0) {
            kill(sd_live[i], SIGKILL);
        }
    }
}

void sd_init(int argc, char **argv)
{
    sd_surveyd = argc > 1 ? argv[1] : getenv("SURVEYD");
    if (sd_surveyd == NULL || sd_surveyd[0] == '\0') {
        fprintf(stderr, "usage: %s SURVEYD (or set $SURVEYD); run through ctest\n", argv[0]);
        exit(2);
    }
    signal(SIGPIPE, SIG_IGN);
    atexit(sd_kill_live);
    setvbuf(stderr, NULL, _IONBF, 0);
}

/* ---- processes ------------------------------------------------------------------------- */

static bool sd_pidfd_wait(pid_t pid, int timeout_ms, int *status)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        int r;
        do {
            r = poll(&p, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        close(pfd);
        if (r == 0) {
            return false;
        }
        return waitpid(pid, status, 0) == pid;
    }
    /* No pidfd (old kernel): the caller's other event (EOF on a pipe) had to come first. */
    return waitpid(pid, status, 0) == pid;
}

static void sd_kill_and_reap(pid_t pid)
{
    int status;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

int sd_run(const char *const argv[], char *out, size_t out_size, int timeout_ms)
{
    int fds[2];
    if (sd_pipe(fds) != 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "could not run %s: %s\n", argv[0], strerror(rc));
        close(fds[0]);
        return -1;
    }
    long long deadline = sd_now_ms() + timeout_ms;
    size_t len = 0;
    bool timed_out = false;
    for (;;) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, sd_left(deadline));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            timed_out = true;
            break;
        }
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (out != NULL && out_size > 1 && len < out_size - 1) {
            size_t take = (size_t)n < out_size - 1 - len ? (size_t)n : out_size - 1 - len;
            memcpy(out + len, buf, take);
            len += take;
        }
    }
    if (out != NULL && out_size > 0) {
        out[len] = '\0';
    }
    close(fds[0]);
    int status = 0;
    if (timed_out || !sd_pidfd_wait(pid, sd_left(deadline), &status)) {
        fprintf(stderr, "%s did not finish within %d ms; killed\n", argv[0], timeout_ms);
        sd_kill_and_reap(pid);
        return -1;
    }
    if (!WIFEXITED(status)) {
        fprintf(stderr, "%s was killed by signal %d\n", argv[0],
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return -1;
    }
    return WEXITSTATUS(status);
}

/* ---- environment ------------------------------------------------------------------------ */

bool sd_make_cert(const char *dir, const char *name, bool rsa, char *cert, size_t cert_size,
                  char *key, size_t key_size)
{
    snprintf(cert, cert_size, "%s/%s.crt", dir, name);
    snprintf(key, key_size, "%s/%s.key", dir, name);
    const char *ec[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-keyout",
                        key,
                        "-out",
                        cert,
                        "-days",
                        "2",
                        "-subj",
                        "/CN=localhost",
                        "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        NULL};
    const char *rs[] = {"openssl",  "req",
                        "-x509",    "-newkey",
                        "rsa:2048", "-nodes",
                        "-keyout",  key,
                        "-out",     cert,
                        "-days",    "2",
                        "-subj",    "/CN=localhost",
                        "-addext",  "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        NULL};
    char out[2048];
    int rc = sd_run(rsa ? rs : ec, out, sizeof out, 30000);
    if (rc != 0) {
        fprintf(stderr, "openssl req failed (%d): %s\n", rc, out);
        return false;
    }
    return true;
}

bool sd_env_init(struct sd_env *env, bool rsa)
{
    memset(env, 0, sizeof *env);
    const char *tmp = getenv("TMPDIR");
    snprintf(env->dir, sizeof env->dir, "%s/surveyd-test.XXXXXX",
             tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 64 ? tmp : "/tmp");
    if (mkdtemp(env->dir) == NULL) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        env->dir[0] = '\0';
        return false;
    }
    const char *src = getenv("SURVEY_SOURCE_DIR");
    if (src == NULL || getenv("SURVEY_ADMIN") == NULL) {
        fprintf(stderr, "SURVEY_SOURCE_DIR and SURVEY_ADMIN must be set (run through ctest)\n");
        return false;
    }
    snprintf(env->questionnaire, sizeof env->questionnaire, "%s/%s", src, SD_QUESTIONNAIRE);
    return sd_make_cert(env->dir, "server", rsa, env->cert, sizeof env->cert, env->key,
                        sizeof env->key);
}

/* conninfo with user replaced, rebuilt from libpq's own parse so no keyword is doubled. */
static bool sd_conninfo_with_user(const char *conninfo, const char *user, char *out, size_t size)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (opts == NULL) {
        fprintf(stderr, "bad connection string: %s", err ? err : "out of memory\n");
        PQfreemem(err);
        return false;
    }
    size_t at = 0;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        const char *v = strcmp(o->keyword, "user") == 0 ? user : o->val;
        if (v == NULL) {
            continue;
        }
        at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s%s='", at ? " " : "",
                               o->keyword);
        for (const char *p = v; *p && at + 3 < size; p++) {
            if (*p == '\'' || *p == '\\') {
                out[at++] = '\\';
            }
            out[at++] = *p;
        }
        at += (size_t)snprintf(out + at, at < size ? size - at : 0, "'");
    }
    PQconninfoFree(opts);
    if (at >= size) {
        fprintf(stderr, "connection string too long\n");
        return false;
    }
    if (strstr(out, "user=") == NULL) {
        at += (size_t)snprintf(out + at, size - at, " user='%s'", user);
    }
    return at < size;
}

static void sd_ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

bool sd_env_db(struct sd_env *env, const char *admin_conninfo)
{
    if (admin_conninfo == NULL) {
        admin_conninfo = getenv("SURVEY_TEST_DB");
    }
    if (admin_conninfo == NULL || strlen(admin_conninfo) >= sizeof env->admin_db) {
        fprintf(stderr, "SURVEY_TEST_DB is not set (run through ctest)\n");
        return false;
    }
    snprintf(env->admin_db, sizeof env->admin_db, "%s", admin_conninfo);
    env->conn = PQconnectdb(env->admin_db);
    if (PQstatus(env->conn) != CONNECTION_OK) {
        fprintf(stderr, "could not connect to the test database: %s", PQerrorMessage(env->conn));
        return false;
    }
    PQsetNoticeProcessor(env->conn, sd_ignore_notice, NULL);
    char out[4096];
    int rc = sd_admin(env, out, sizeof out, "migrate", NULL);
    if (rc != 0) {
        fprintf(stderr, "survey-admin migrate failed (%d): %s\n", rc, out);
        return false;
    }
    /* Roles are cluster-wide and tests run in parallel: the pid and the database make it ours. */
    const char *db = PQdb(env->conn);
    snprintf(env->role, sizeof env->role, "sd%ld_%.40s", (long)getpid(), db ? db : "x");
    char sql[256];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS \"%s\"", env->role);
    if (!sd_exec(env, sql)) {
        return false;
    }
    snprintf(sql, sizeof sql, "CREATE ROLE \"%s\" LOGIN IN ROLE survey_daemon", env->role);
    if (!sd_exec(env, sql)) {
        env->role[0] = '\0';
        return false;
    }
    return sd_conninfo_with_user(env->admin_db, env->role, env->daemon_db, sizeof env->daemon_db);
}

/* The directory holds only flat files (and links) of ours: remove them, then it. */
static void sd_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0) {
                fprintf(stderr, "warning: could not remove %s: %s\n", path, strerror(errno));
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

void sd_env_free(struct sd_env *env)
{
    if (env->conn != NULL && env->role[0] != '\0') {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS \"%s\"", env->role);
        PGresult *res = PQexec(env->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "warning: could not drop role %s: %s", env->role,
                    PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    PQfinish(env->conn);
    env->conn = NULL;
    if (env->dir[0] != '\0') {
        sd_remove_dir(env->dir);
    }
}

int sd_admin(const struct sd_env *env, char *out, size_t out_size, ...)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = getenv("SURVEY_ADMIN");
    va_list ap;
    va_start(ap, out_size);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 28) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n++] = "--db";
    argv[n++] = env->admin_db;
    argv[n] = NULL;
    if (argv[0] == NULL) {
        return -1;
    }
    return sd_run(argv, out, out_size, 30000);
}

bool sd_wave(const struct sd_env *env, const char *wave, const char *access, const char *status)
{
    char out[4096];
    int rc = sd_admin(env, out, sizeof out, "wave", "create", wave, "--questionnaire",
                      env->questionnaire, "--access", access, NULL);
    if (rc == 0 && strcmp(status, "draft") != 0) {
        rc = sd_admin(env, out, sizeof out, "wave", "open", wave, NULL);
    }
    if (rc == 0 && strcmp(status, "closed") == 0) {
        rc = sd_admin(env, out, sizeof out, "wave", "close", wave, NULL);
    }
    if (rc != 0) {
        fprintf(stderr, "could not make wave %s (%s, %s): %s\n", wave, access, status, out);
    }
    return rc == 0;
}

int sd_invite(const struct sd_env *env, const char *wave, int count, char tokens[][64])
{
    char file[256], n[16], out[4096];
    static int seq;
    snprintf(file, sizeof file, "%s/invite-%s-%d.csv", env->dir, wave, ++seq);
    snprintf(n, sizeof n, "%d", count);
    int rc = sd_admin(env, out, sizeof out, "invite", wave, "--count", n, "--out", file, NULL);
    if (rc != 0) {
        fprintf(stderr, "survey-admin invite failed (%d): %s\n", rc, out);
        return 0;
    }
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        return 0;
    }
    char line[1024];
    int got = 0;
    bool header = true;
    while (got < count && fgets(line, sizeof line, f) != NULL) {
        if (header) {
            header = false;
            continue;
        }
        size_t len = strcspn(line, ",\r\n");
        if (len == 0 || len >= 64) {
            continue;
        }
        memcpy(tokens[got], line, len);
        tokens[got][len] = '\0';
        got++;
    }
    fclose(f);
    return got;
}

static PGresult *sd_query(struct sd_env *env, const char *sql, va_list ap)
{
    const char *params[16];
    int n = 0;
    const char *p;
    while ((p = va_arg(ap, const char *)) != NULL && n < 16) {
        params[n++] = p;
    }
    PGresult *res = PQexecParams(env->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1 || PQnfields(res) < 1) {
        fprintf(stderr, "query failed or returned no row: %s\n  %s", sql,
                PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

long long sd_count(struct sd_env *env, const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *res = sd_query(env, sql, ap);
    va_end(ap);
    long long v = res && !PQgetisnull(res, 0, 0) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return v;
}

char *sd_value(struct sd_env *env, const char *sql, ...)
{
    va_list ap;
    va_start(ap, sql);
    PGresult *res = sd_query(env, sql, ap);
    va_end(ap);
    char *v = res ? strdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

bool sd_exec(struct sd_env *env, const char *sql)
{
    PGresult *res = PQexec(env->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        fprintf(stderr, "sql failed: %s\n  %s", sql, PQresultErrorMessage(res));
    }
    PQclear(res);
    return ok;
}

long long sd_stored(struct sd_env *env, const char *wave, const char *submission_id)
{
    return sd_count(env,
                    "SELECT count(*) FROM survey.responses WHERE wave_id = $1 "
                    "AND submission_id::text = lower($2)",
                    wave, submission_id, NULL);
}

/* ---- the daemon ------------------------------------------------------------------------ */

struct sd_daemon {
    pid_t pid;
    int port;
    long threads;
    int err_fd;
    pthread_t reader;
    bool reader_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **lines;
    size_t n_lines, cap_lines;
    char partial[8192];
    size_t partial_len;
    bool eof;
    bool reaped;
    int status;
};

static void sd_add_line(struct sd_daemon *d, const char *s, size_t len)
{
    if (d->n_lines == d->cap_lines) {
        size_t cap = d->cap_lines ? d->cap_lines * 2 : 256;
        char **lines = realloc(d->lines, cap * sizeof *lines);
        if (lines == NULL) {
            return;
        }
        d->lines = lines;
        d->cap_lines = cap;
    }
    char *line = malloc(len + 1);
    if (line == NULL) {
        return;
    }
    memcpy(line, s, len);
    line[len] = '\0';
    d->lines[d->n_lines++] = line;
}

/* Drain the daemon's stderr into lines until it closes. */
static void *sd_reader_main(void *arg)
{
    struct sd_daemon *d = arg;
    for (;;) {
        struct pollfd p = {d->err_fd, POLLIN, 0};
        int r = poll(&p, 1, 1000);
        if (r < 0 && errno != EINTR) {
            break;
        }
        if (r <= 0) {
            continue;
        }
        char buf[8192];
        ssize_t n = read(d->err_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        pthread_mutex_lock(&d->lock);
        if (n <= 0) {
            if (d->partial_len > 0) {
                sd_add_line(d, d->partial, d->partial_len);
                d->partial_len = 0;
            }
            d->eof = true;
            pthread_cond_broadcast(&d->cond);
            pthread_mutex_unlock(&d->lock);
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || d->partial_len == sizeof d->partial) {
                sd_add_line(d, d->partial, d->partial_len);
                d->partial_len = 0;
                if (buf[i] == '\n') {
                    continue;
                }
            }
            d->partial[d->partial_len++] = buf[i];
        }
        pthread_cond_broadcast(&d->cond);
        pthread_mutex_unlock(&d->lock);
    }
    return NULL;
}

static int sd_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

struct sd_daemon *sd_daemon_spawn(const struct sd_env *env, const char *db,
                                  const char *const extra[])
{
    struct sd_daemon *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cond, &ca);
    pthread_condattr_destroy(&ca);
    d->err_fd = -1;
    d->port = sd_free_port();
    d->threads = 2;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", d->port);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = sd_surveyd;
    argv[n++] = "--cert";
    argv[n++] = env->cert;
    argv[n++] = "--key";
    argv[n++] = env->key;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--db";
    argv[n++] = db != NULL ? db : env->daemon_db;
    argv[n++] = "--threads";
    argv[n++] = "2";
    argv[n++] = "--log-level";
    argv[n++] = "debug";
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 62; i++) {
        argv[n++] = extra[i];
        if (strcmp(extra[i], "--threads") == 0 && extra[i + 1] != NULL) {
            d->threads = strtol(extra[i + 1], NULL, 10);
        }
    }
    argv[n] = NULL;

    int fds[2];
    if (d->port <= 0 || sd_pipe(fds) != 0) {
        free(d);
        return NULL;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* Not the test's stdout: an orphaned daemon must not hold ctest's pipe open. */
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    int rc = posix_spawn(&d->pid, sd_surveyd, &fa, NULL, (char *const *)(uintptr_t)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "could not start %s: %s\n", sd_surveyd, strerror(rc));
        close(fds[0]);
        free(d);
        return NULL;
    }
    sd_live_set(d->pid, true);
    d->err_fd = fds[0];
    if (pthread_create(&d->reader, NULL, sd_reader_main, d) == 0) {
        d->reader_started = true;
    }
    return d;
}

int sd_daemon_port(const struct sd_daemon *d)
{
    return d->port;
}

pid_t sd_daemon_pid(const struct sd_daemon *d)
{
    return d->pid;
}

long sd_daemon_threads(const struct sd_daemon *d)
{
    return d->threads;
}

static size_t sd_count_locked(const struct sd_daemon *d, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_lines; i++) {
        if (strstr(d->lines[i], needle) != NULL) {
            n++;
        }
    }
    return n;
}

size_t sd_log_count(struct sd_daemon *d, const char *needle)
{
    pthread_mutex_lock(&d->lock);
    size_t n = sd_count_locked(d, needle);
    pthread_mutex_unlock(&d->lock);
    return n;
}

bool sd_log_wait(struct sd_daemon *d, const char *needle, size_t count, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&d->lock);
    bool found;
    for (;;) {
        found = sd_count_locked(d, needle) >= count;
        if (found || d->eof) {
            break;
        }
        if (pthread_cond_timedwait(&d->cond, &d->lock, &until) == ETIMEDOUT) {
            found = sd_count_locked(d, needle) >= count;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return found;
}

char **sd_log_lines(struct sd_daemon *d, size_t *n)
{
    pthread_mutex_lock(&d->lock);
    char **copy = calloc(d->n_lines + 1, sizeof *copy);
    size_t k = 0;
    for (size_t i = 0; copy != NULL && i < d->n_lines; i++) {
        copy[k] = strdup(d->lines[i]);
        if (copy[k] != NULL) {
            k++;
        }
    }
    pthread_mutex_unlock(&d->lock);
    *n = k;
    return copy;
}

void sd_log_lines_free(char **lines)
{
    for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
        free(lines[i]);
    }
    free(lines);
}

void sd_log_dump(struct sd_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    fprintf(stderr, "---- surveyd log (pid %ld, port %d, %zu lines) ----\n", (long)d->pid, d->port,
            d->n_lines);
    size_t first = d->n_lines > 400 ? d->n_lines - 400 : 0;
    for (size_t i = first; i < d->n_lines; i++) {
        fprintf(stderr, "| %s\n", d->lines[i]);
    }
    fprintf(stderr, "---- end of surveyd log ----\n");
    pthread_mutex_unlock(&d->lock);
}

size_t sd_log_foreign_lines(struct sd_daemon *d)
{
    regex_t re;
    if (regcomp(&re,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                "(debug|info|warning|error) \\[(main|w[0-9]+)\\] [^ ]",
                REG_EXTENDED | REG_NOSUB) != 0) {
        return (size_t)-1;
    }
    size_t foreign = 0;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_lines; i++) {
        bool control = false;
        for (const char *p = d->lines[i]; *p != '\0'; p++) {
            control = control || (unsigned char)*p < 0x20 || *p == 0x7f;
        }
        if (control || regexec(&re, d->lines[i], 0, NULL, 0) != 0) {
            fprintf(stderr, "a log line not in surveyd's format: \"%s\"\n", d->lines[i]);
            foreign++;
        }
    }
    pthread_mutex_unlock(&d->lock);
    regfree(&re);
    return foreign;
}

bool sd_daemon_wait_ready(struct sd_daemon *d, int timeout_ms)
{
    long long deadline = sd_now_ms() + timeout_ms;
    /* "waves loaded" comes from the control connection; each worker has a database connection
     * of its own and takes submissions only once it is up. */
    if (!sd_log_wait(d, "waves loaded", 1, timeout_ms)) {
        fprintf(stderr, "surveyd did not log \"waves loaded\" within %d ms\n", timeout_ms);
        return false;
    }
    for (long i = 1; i <= d->threads; i++) {
        char needle[48];
        snprintf(needle, sizeof needle, "[w%ld] database connected", i);
        if (!sd_log_wait(d, needle, 1, sd_left(deadline))) {
            fprintf(stderr, "surveyd did not log \"%s\" within %d ms\n", needle, timeout_ms);
            return false;
        }
    }
    /*
     * surveyd logs "waves loaded" before it hands the waves to its workers, and a worker
     * without them answers 503 (seen under load: several ms of "waves not loaded" after the
     * line). So confirm with the daemon's own readiness answer: /readyz 200 on enough fresh
     * connections in a row that every worker (SO_REUSEPORT spreads them) has said so. Each
     * probe is a request and its answer, bounded by the socket timeouts: no sleep.
     */
    int in_a_row = 0, needed = (int)(4 * d->threads), probes = 0;
    while (in_a_row < needed) {
        if (++probes > 40 * needed || sd_left(deadline) == 0) {
            fprintf(stderr, "surveyd logged its readiness but /readyz did not agree\n");
            return false;
        }
        struct sd_response r;
        bool ok = sd_get(d->port, "/readyz", &r) == 0 && r.status == 200;
        sd_response_free(&r);
        in_a_row = ok ? in_a_row + 1 : 0;
    }
    return true;
}

struct sd_daemon *sd_daemon_start(const struct sd_env *env, const char *db,
                                  const char *const extra[])
{
    for (int attempt = 0; attempt < 3; attempt++) {
        struct sd_daemon *d = sd_daemon_spawn(env, db, extra);
        if (d == NULL) {
            return NULL;
        }
        if (sd_daemon_wait_ready(d, 20000)) {
            return d;
        }
        /* The port may have been taken between our probe and the daemon's bind: try another. */
        bool port_taken = sd_log_count(d, "could not listen") > 0;
        if (!port_taken) {
            sd_log_dump(d);
        }
        sd_daemon_free(d);
        if (!port_taken) {
            return NULL;
        }
    }
    return NULL;
}

bool sd_daemon_running(struct sd_daemon *d)
{
    if (d->reaped) {
        return false;
    }
    int status;
    pid_t r = waitpid(d->pid, &status, WNOHANG);
    if (r == d->pid) {
        d->reaped = true;
        d->status = status;
        sd_live_set(d->pid, false);
        return false;
    }
    return true;
}

int sd_daemon_wait_exit(struct sd_daemon *d, int timeout_ms)
{
    if (!d->reaped) {
        long long deadline = sd_now_ms() + timeout_ms;
        /* The log pipe closes when the process is gone (or closes its stderr): a first event. */
        pthread_mutex_lock(&d->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000 + 1;
        while (!d->eof) {
            if (pthread_cond_timedwait(&d->cond, &d->lock, &until) == ETIMEDOUT) {
                break;
            }
        }
        bool eof = d->eof;
        pthread_mutex_unlock(&d->lock);
        int status = 0;
        if (!eof || !sd_pidfd_wait(d->pid, sd_left(deadline), &status)) {
            return -1;
        }
        d->reaped = true;
        d->status = status;
        sd_live_set(d->pid, false);
    }
    return WIFEXITED(d->status) ? WEXITSTATUS(d->status) : -1;
}

int sd_daemon_stop(struct sd_daemon *d, int timeout_ms)
{
    if (!d->reaped) {
        kill(d->pid, SIGTERM);
    }
    int rc = sd_daemon_wait_exit(d, timeout_ms);
    if (!d->reaped) {
        fprintf(stderr, "surveyd did not exit within %d ms of SIGTERM; killed\n", timeout_ms);
        sd_kill_and_reap(d->pid);
        d->reaped = true;
        sd_live_set(d->pid, false);
        return -1;
    }
    return rc;
}

void sd_daemon_free(struct sd_daemon *d)
{
    if (d == NULL) {
        return;
    }
    if (!d->reaped) {
        sd_kill_and_reap(d->pid);
        d->reaped = true;
        sd_live_set(d->pid, false);
    }
    if (d->reader_started) {
        pthread_join(d->reader, NULL);
    }
    if (getenv("SD_SHOW_LOG") != NULL) {
        sd_log_dump(d);
    }
    if (d->err_fd >= 0) {
        close(d->err_fd);
    }
    for (size_t i = 0; i < d->n_lines; i++) {
        free(d->lines[i]);
    }
    free(d->lines);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* ---- the client ------------------------------------------------------------------------ */

struct sd_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    char *buf; /* received, not consumed */
    size_t len, cap;
    bool eof;
};

static bool sd_wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, sd_left(deadline));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        return r > 0;
    }
}

static void sd_ssl_reason(char *out, size_t size)
{
    unsigned long e = ERR_peek_last_error();
    if (e != 0) {
        ERR_error_string_n(e, out, size);
    } else {
        snprintf(out, size, "%s", errno ? strerror(errno) : "connection closed");
    }
}

struct sd_conn *sd_connect(int port, const struct sd_tls_opts *opts, struct sd_tls_info *info)
{
    struct sd_tls_opts none = {0};
    struct sd_tls_info scratch;
    if (opts == NULL) {
        opts = &none;
    }
    if (info == NULL) {
        info = &scratch;
    }
    memset(info, 0, sizeof *info);
    long long deadline = sd_now_ms() + (opts->timeout_ms > 0 ? opts->timeout_ms : 5000);
    struct sd_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(info->reason, sizeof info->reason, "socket: %s", strerror(errno));
        free(c);
        return NULL;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opts->bind_addr != NULL) {
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
        if (inet_pton(AF_INET, opts->bind_addr, &src.sin_addr) != 1 ||
            bind(c->fd, (struct sockaddr *)&src, sizeof src) != 0) {
            snprintf(info->reason, sizeof info->reason, "bind %s: %s", opts->bind_addr,
                     strerror(errno));
            sd_close(c);
            return NULL;
        }
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int err = errno;
        socklen_t len = sizeof err;
        if (err != EINPROGRESS || !sd_wait_fd(c->fd, POLLOUT, deadline) ||
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            snprintf(info->reason, sizeof info->reason, "connect: %s",
                     err ? strerror(err) : "timed out");
            sd_close(c);
            return NULL;
        }
    }
    info->tcp_connected = true;
    if (opts->plaintext) {
        info->handshake_ok = true;
        return c;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        sd_close(c);
        return NULL;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    bool ok = true;
    if (opts->min_version != 0) {
        ok = ok && SSL_CTX_set_min_proto_version(c->ctx, opts->min_version) == 1;
    }
    if (opts->max_version != 0) {
        ok = ok && SSL_CTX_set_max_proto_version(c->ctx, opts->max_version) == 1;
    }
    if (opts->ciphers != NULL) {
        ok = ok && SSL_CTX_set_cipher_list(c->ctx, opts->ciphers) == 1;
    }
    if (opts->suites != NULL) {
        ok = ok && SSL_CTX_set_ciphersuites(c->ctx, opts->suites) == 1;
    }
    c->ssl = ok ? SSL_new(c->ctx) : NULL;
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        sd_ssl_reason(info->reason, sizeof info->reason);
        ERR_clear_error();
        sd_close(c);
        return NULL;
    }
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    ERR_clear_error();
    for (;;) {
        errno = 0;
        int r = SSL_connect(c->ssl);
        if (r == 1) {
            break;
        }
        int e = SSL_get_error(c->ssl, r);
        if ((e == SSL_ERROR_WANT_READ && sd_wait_fd(c->fd, POLLIN, deadline)) ||
            (e == SSL_ERROR_WANT_WRITE && sd_wait_fd(c->fd, POLLOUT, deadline))) {
            continue;
        }
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            snprintf(info->reason, sizeof info->reason, "handshake timed out");
        } else {
            sd_ssl_reason(info->reason, sizeof info->reason);
            unsigned long err = ERR_peek_last_error();
            info->peer_alert = err != 0 && ERR_GET_REASON(err) >= SSL_AD_REASON_OFFSET;
        }
        info->bytes_sent = BIO_number_written(SSL_get_wbio(c->ssl));
        ERR_clear_error();
        sd_close(c);
        return NULL;
    }
    info->bytes_sent = BIO_number_written(SSL_get_wbio(c->ssl));
    info->handshake_ok = true;
    info->version = SSL_version(c->ssl);
    snprintf(info->cipher, sizeof info->cipher, "%s", SSL_get_cipher_name(c->ssl));
    return c;
}

bool sd_send(struct sd_conn *c, const void *buf, size_t len, int timeout_ms)
{
    long long deadline = sd_now_ms() + timeout_ms;
    const char *p = buf;
    while (len > 0) {
        if (c->ssl == NULL) {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!sd_wait_fd(c->fd, POLLOUT, deadline)) {
                    return false;
                }
                continue;
            }
            if (n <= 0) {
                return false;
            }
            p += n;
            len -= (size_t)n;
            continue;
        }
        ERR_clear_error();
        int chunk = len > 16384 ? 16384 : (int)len;
        int r = SSL_write(c->ssl, p, chunk);
        if (r > 0) {
            p += r;
            len -= (size_t)r;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if ((e == SSL_ERROR_WANT_WRITE && sd_wait_fd(c->fd, POLLOUT, deadline)) ||
            (e == SSL_ERROR_WANT_READ && sd_wait_fd(c->fd, POLLIN, deadline))) {
            continue;
        }
        ERR_clear_error();
        return false;
    }
    return true;
}

/* Read more bytes into the buffer: >0 read, 0 closed (EOF or reset), -1 timeout or error. */
static int sd_fill(struct sd_conn *c, long long deadline)
{
    if (c->eof) {
        return 0;
    }
    if (c->cap - c->len < 16384) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        char *buf = realloc(c->buf, cap);
        if (buf == NULL) {
            return -1;
        }
        c->buf = buf;
        c->cap = cap;
    }
    for (;;) {
        if (c->ssl == NULL) {
            ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
            if (n > 0) {
                c->len += (size_t)n;
                return (int)n;
            }
            if (n == 0 || errno == ECONNRESET) {
                c->eof = true;
                return 0;
            }
            if ((errno == EAGAIN || errno == EINTR) && sd_wait_fd(c->fd, POLLIN, deadline)) {
                continue;
            }
            return -1;
        }
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len - 1));
        if (r > 0) {
            c->len += (size_t)r;
            return r;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ && sd_wait_fd(c->fd, POLLIN, deadline)) {
            continue;
        }
        if (e == SSL_ERROR_WANT_WRITE && sd_wait_fd(c->fd, POLLOUT, deadline)) {
            continue;
        }
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            return -1;
        }
        ERR_clear_error();
        /* close_notify, EOF, reset or a fatal alert: the connection is over either way. */
        c->eof = true;
        return 0;
    }
}

bool sd_wait_closed(struct sd_conn *c, int timeout_ms)
{
    long long deadline = sd_now_ms() + timeout_ms;
    for (;;) {
        int r = sd_fill(c, deadline);
        if (r == 0) {
            return true;
        }
        if (r < 0) {
            return false;
        }
    }
}

const char *sd_pending(const struct sd_conn *c, size_t *len)
{
    *len = c->len;
    return c->buf;
}

void sd_close(struct sd_conn *c)
{
    if (c == NULL) {
        return;
    }
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0) {
        close(c->fd);
    }
    free(c->buf);
    free(c);
}

void sd_response_free(struct sd_response *r)
{
    free(r->head);
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

static const char *sd_find_header(const char *head, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            const char *end = strstr(v, "\r\n");
            size_t n = end ? (size_t)(end - v) : strlen(v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
                n--;
            }
            *vlen = n;
            return v;
        }
    }
    return NULL;
}

bool sd_header(const struct sd_response *r, const char *name, char *out, size_t out_size)
{
    size_t n = 0;
    const char *v = r->head ? sd_find_header(r->head, name, &n) : NULL;
    if (v == NULL) {
        if (out_size > 0) {
            out[0] = '\0';
        }
        return false;
    }
    if (n >= out_size) {
        n = out_size - 1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

const char *sd_json_str(const struct sd_response *r, const char *member)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, member);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void sd_consume(struct sd_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

enum sd_read_result sd_read_response(struct sd_conn *c, struct sd_response *r, bool head_request,
                                     int timeout_ms)
{
    memset(r, 0, sizeof *r);
    long long deadline = sd_now_ms() + timeout_ms;
    size_t head_len;
    for (;;) {
        char *end = NULL;
        if (c->len > 0) {
            c->buf[c->len] = '\0';
            /* memmem: the head never holds a NUL, but a body might follow. */
            for (size_t i = 0; i + 4 <= c->len; i++) {
                if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
                    end = c->buf + i;
                    break;
                }
            }
        }
        if (end != NULL) {
            head_len = (size_t)(end - c->buf) + 4;
            int status = 0;
            if (sscanf(c->buf, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100) {
                return SD_READ_BAD;
            }
            if (status >= 200) {
                r->status = status;
                break;
            }
            sd_consume(c, head_len); /* an interim answer: 100 Continue */
            continue;
        }
        if (c->len > 1 << 20) {
            return SD_READ_BAD;
        }
        int n = sd_fill(c, deadline);
        if (n == 0) {
            return c->len == 0 ? SD_READ_CLOSED : SD_READ_BAD;
        }
        if (n < 0) {
            return SD_READ_TIMEOUT;
        }
    }
    r->head = strndup(c->buf, head_len - 2);
    size_t clen_len = 0;
    const char *clen = sd_find_header(r->head, "Content-Length", &clen_len);
    size_t conn_len = 0;
    const char *conn = sd_find_header(r->head, "Connection", &conn_len);
    r->conn_close = conn != NULL && conn_len == 5 && strncasecmp(conn, "close", 5) == 0;
    bool no_body = head_request || r->status == 204 || r->status == 304;
    size_t want = 0;
    bool until_close = false;
    if (!no_body && clen != NULL) {
        want = (size_t)strtoull(clen, NULL, 10);
    } else if (!no_body) {
        until_close = true;
    }
    sd_consume(c, head_len);
    while (until_close || c->len < want) {
        int n = sd_fill(c, deadline);
        if (n == 0 && until_close) {
            want = c->len;
            break;
        }
        if (n <= 0) {
            r->status = 0;
            return n == 0 ? SD_READ_BAD : SD_READ_TIMEOUT;
        }
    }
    r->body = malloc(want + 1);
    if (r->body == NULL) {
        return SD_READ_BAD;
    }
    memcpy(r->body, c->buf, want);
    r->body[want] = '\0';
    r->body_len = want;
    sd_consume(c, want);
    if (want > 0 && (r->body[0] == '{' || r->body[0] == '[')) {
        r->json = cJSON_ParseWithLength(r->body, r->body_len);
        const char *type = sd_json_str(r, "type");
        if (type != NULL) {
            snprintf(r->type, sizeof r->type, "%s", type);
        }
    }
    return SD_READ_OK;
}

bool sd_safety_headers(const struct sd_response *r)
{
    char v[256];
    bool ok = true;
    if (!sd_header(r, "Strict-Transport-Security", v, sizeof v) || strstr(v, "max-age=") == NULL) {
        fprintf(stderr, "response %d lacks Strict-Transport-Security\n", r->status);
        ok = false;
    }
    if (!sd_header(r, "X-Content-Type-Options", v, sizeof v) || strcasecmp(v, "nosniff") != 0) {
        fprintf(stderr, "response %d lacks X-Content-Type-Options: nosniff\n", r->status);
        ok = false;
    }
    if (!sd_header(r, "Cache-Control", v, sizeof v) || strstr(v, "no-store") == NULL) {
        fprintf(stderr, "response %d lacks Cache-Control: no-store\n", r->status);
        ok = false;
    }
    if (!sd_header(r, "Content-Type", v, sizeof v) || !sd_contains_nocase(v, "charset=")) {
        fprintf(stderr, "response %d has no charset in its Content-Type (\"%s\")\n", r->status, v);
        ok = false;
    }
    return ok;
}

int sd_exchange(int port, const char *raw, size_t len, struct sd_response *r)
{
    memset(r, 0, sizeof *r);
    struct sd_tls_info info;
    struct sd_conn *c = sd_connect(port, NULL, &info);
    if (c == NULL) {
        fprintf(stderr, "could not connect to port %d: %s\n", port, info.reason);
        return -1;
    }
    int rc = -1;
    if (sd_send(c, raw, len, 5000)) {
        enum sd_read_result res = sd_read_response(c, r, strncmp(raw, "HEAD ", 5) == 0, 10000);
        rc = res == SD_READ_OK ? 0 : -1;
        if (rc != 0) {
            fprintf(stderr, "no complete response (%d) to: %.60s\n", (int)res, raw);
        }
    }
    sd_close(c);
    return rc;
}

int sd_get(int port, const char *path, struct sd_response *r)
{
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    return sd_exchange(port, req, (size_t)n, r);
}

char *sd_post_request(const char *path, const char *json, bool keep_alive)
{
    size_t len = strlen(json);
    size_t size = len + strlen(path) + 256;
    char *req = malloc(size);
    if (req != NULL) {
        snprintf(req, size,
                 "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n%s\r\n%s",
                 path, len, keep_alive ? "" : "Connection: close\r\n", json);
    }
    return req;
}

int sd_post_json(int port, const char *path, const char *json, struct sd_response *r)
{
    char *req = sd_post_request(path, json, false);
    if (req == NULL) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    int rc = sd_exchange(port, req, strlen(req), r);
    free(req);
    return rc;
}

char *sd_submission(const char *submission_id, const char *token, const char *answers)
{
    size_t size = strlen(answers) + (token ? strlen(token) : 0) + 128;
    char *s = malloc(size);
    if (s == NULL) {
        return NULL;
    }
    if (token != NULL) {
        snprintf(s, size, "{\"submission_id\":\"%s\",\"token\":\"%s\",\"answers\":%s}",
                 submission_id, token, answers);
    } else {
        snprintf(s, size, "{\"submission_id\":\"%s\",\"answers\":%s}", submission_id, answers);
    }
    return s;
}

const char *sd_answers(const char *extra)
{
    static _Thread_local char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"role\":\"c_level\",\"industry\":\"finance\",\"company_size\":\"small\","
             "\"region\":\"seoul\",\"genai_stage\":\"production\","
             "\"use_cases\":[\"analytics\"],\"budget_top_priority\":\"genai\","
             "\"caio\":\"no\",\"change_mgmt\":\"in_place\",\"training\":\"in_place\","
             "\"hiring_genai_2025\":\"yes\",\"approach\":[\"general_purpose\"]%s%s}",
             extra ? "," : "", extra ? extra : "");
    return buf;
}

void sd_uuid(char out[37], unsigned a, unsigned long b)
{
    snprintf(out, 37, "%08x-0000-4000-8000-%012lx", a, b & 0xffffffffffffUL);
}

bool sd_peer_cert_sha256(struct sd_conn *c, char hex[65])
{
    X509 *cert = c->ssl ? SSL_get1_peer_certificate(c->ssl) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    bool ok = cert != NULL && X509_digest(cert, EVP_sha256(), md, &len) == 1 && len == 32;
    X509_free(cert);
    for (unsigned int i = 0; ok && i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return ok;
}
