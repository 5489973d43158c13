/*
 * Helpers for the SQL-level integration tests (see pgtest.h). Everything here talks to a real
 * PostgreSQL started by pg_fixture.sh; failures are printed with the server's message and
 * SQLSTATE so that a red test says why without a rerun.
 */
#include "pgtest.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Enough for the bundled questionnaire many times over; a bigger file is a mistake here. */
#define PGTEST_MAX_DEFINITION_BYTES (1024 * 1024)

static const char pgtest_literal_definition[] =
    "{\"id\": \"pgtest\", \"version\": \"1\", \"languages\": [\"en\"], \"questions\": []}";

const char *pgtest_conninfo(void)
{
    const char *conninfo = getenv("SURVEY_TEST_DB");
    if (conninfo == NULL || conninfo[0] == '\0') {
        fprintf(stderr, "SURVEY_TEST_DB is not set: run this test through ctest (with_pg.sh)\n");
        exit(1);
    }
    return conninfo;
}

PGconn *pgtest_connect(const char *user)
{
    const char *keys[] = {"dbname", "user", "application_name", NULL};
    const char *values[] = {pgtest_conninfo(), user, "pgtest", NULL};
    if (user == NULL) {
        keys[1] = "application_name";
        values[1] = "pgtest";
        keys[2] = NULL;
        values[2] = NULL;
    }
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "could not connect as %s: %s", user ? user : "(default)",
                conn ? PQerrorMessage(conn) : "out of memory\n");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

bool pgtest_migrate(void)
{
    const char *admin = getenv("SURVEY_ADMIN");
    const char *conninfo = pgtest_conninfo();
    if (admin == NULL || admin[0] == '\0') {
        fprintf(stderr, "SURVEY_ADMIN is not set: run this test through ctest\n");
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "could not fork: %s\n", strerror(errno));
        return false;
    }
    if (pid == 0) {
        execl(admin, admin, "migrate", "--db", conninfo, (char *)NULL);
        fprintf(stderr, "could not run \"%s\": %s\n", admin, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "could not wait for survey-admin: %s\n", strerror(errno));
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "\"%s migrate\" failed (status %d)\n", admin, status);
        return false;
    }
    return true;
}

static void pgtest_print_error(const char *sql, const PGresult *res, PGconn *conn)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    fprintf(stderr, "sql failed [%s]: %s\n  in: %s\n", state ? state : "-",
            res ? PQresultErrorMessage(res) : PQerrorMessage(conn), sql);
}

static bool pgtest_result_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

bool pgtest_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    bool ok = pgtest_result_ok(res);
    if (!ok) {
        pgtest_print_error(sql, res, conn);
    }
    PQclear(res);
    return ok;
}

bool pgtest_fails_with(PGconn *conn, const char *sqlstate, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    bool matched = false;
    if (pgtest_result_ok(res)) {
        fprintf(stderr, "expected SQLSTATE %s, but it succeeded: %s\n", sqlstate, sql);
    } else {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        matched = state != NULL && strcmp(state, sqlstate) == 0;
        if (!matched) {
            fprintf(stderr, "expected SQLSTATE %s:\n", sqlstate);
            pgtest_print_error(sql, res, conn);
        }
    }
    PQclear(res);
    return matched;
}

char *pgtest_value(PGconn *conn, const char *sql, int n_params, const char *const *params)
{
    char *value = NULL;
    PGresult *res = PQexecParams(conn, sql, n_params, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgtest_print_error(sql, res, conn);
        goto out;
    }
    if (PQntuples(res) < 1 || PQnfields(res) < 1) {
        fprintf(stderr, "no row from: %s\n", sql);
        goto out;
    }
    value = strdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
out:
    PQclear(res);
    return value;
}

long long pgtest_count(PGconn *conn, const char *sql, int n_params, const char *const *params)
{
    char *value = pgtest_value(conn, sql, n_params, params);
    long long n = value && strcmp(value, "(null)") != 0 ? strtoll(value, NULL, 10) : -1;
    free(value);
    return n;
}

/* The bundled definition's text, or NULL when the source tree does not have it (yet). */
static char *pgtest_read_bundled_definition(void)
{
    const char *src = getenv("SURVEY_SOURCE_DIR");
    char path[4096];
    char *text = NULL;
    FILE *f = NULL;
    if (src == NULL) {
        return NULL;
    }
    snprintf(path, sizeof path, "%s/questionnaire/definitions/genai-adoption-2025.json", src);
    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    text = malloc(PGTEST_MAX_DEFINITION_BYTES + 1);
    if (text == NULL) {
        goto out;
    }
    size_t n = fread(text, 1, PGTEST_MAX_DEFINITION_BYTES, f);
    if (ferror(f) || n == 0 || n == PGTEST_MAX_DEFINITION_BYTES) {
        free(text);
        text = NULL;
        goto out;
    }
    text[n] = '\0';
out:
    fclose(f);
    return text;
}

static long long pgtest_insert_definition(PGconn *conn, const char *source)
{
    static const char sql[] =
        "WITH d AS (SELECT $1::text AS source, $1::jsonb AS definition),"
        " ins AS (INSERT INTO survey.questionnaires (qid, version, sha256, source, definition)"
        "         SELECT coalesce(definition->>'id', 'pgtest'),"
        "                coalesce(definition->>'version', '1'),"
        "                sha256(convert_to(source, 'UTF8')), source, definition FROM d"
        "         ON CONFLICT DO NOTHING RETURNING id)"
        " SELECT id FROM ins UNION ALL"
        " SELECT q.id FROM survey.questionnaires q, d"
        "  WHERE q.sha256 = sha256(convert_to(d.source, 'UTF8'))";
    const char *params[] = {source};
    return pgtest_count(conn, sql, 1, params);
}

long long pgtest_questionnaire(PGconn *conn)
{
    long long id = -1;
    char *bundled = pgtest_read_bundled_definition();
    if (bundled != NULL) {
        id = pgtest_insert_definition(conn, bundled);
        if (id < 0) {
            fprintf(stderr, "the bundled definition did not load; using a literal one\n");
        }
        free(bundled);
    }
    if (id < 0) {
        id = pgtest_insert_definition(conn, pgtest_literal_definition);
    }
    return id;
}

bool pgtest_wave(PGconn *conn, const char *id, const char *access, const char *status)
{
    long long qid = pgtest_questionnaire(conn);
    char qid_text[32];
    if (qid < 0) {
        return false;
    }
    snprintf(qid_text, sizeof qid_text, "%lld", qid);
    const char *params[] = {id, qid_text, access};
    char *got = pgtest_value(conn,
                             "INSERT INTO survey.waves (id, questionnaire_id, access)"
                             " VALUES ($1, $2, $3) RETURNING status",
                             3, params);
    bool ok = got != NULL;
    free(got);
    if (ok && (strcmp(status, "open") == 0 || strcmp(status, "closed") == 0)) {
        got = pgtest_value(
            conn, "UPDATE survey.waves SET status = 'open' WHERE id = $1 RETURNING id", 1, params);
        ok = got != NULL;
        free(got);
    }
    if (ok && strcmp(status, "closed") == 0) {
        got = pgtest_value(conn,
                           "UPDATE survey.waves SET status = 'closed' WHERE id = $1 RETURNING id",
                           1, params);
        ok = got != NULL;
        free(got);
    }
    return ok;
}

bool pgtest_invite(PGconn *conn, const char *wave, const char *token, char hash_hex[65])
{
    const char *params[] = {token, wave};
    char *hex = pgtest_value(conn,
                             "INSERT INTO survey.invitations (token_sha256, wave_id)"
                             " VALUES (sha256(convert_to($1, 'UTF8')), $2)"
                             " RETURNING encode(token_sha256, 'hex')",
                             2, params);
    bool ok = hex != NULL && strlen(hex) == 64;
    if (ok) {
        memcpy(hash_hex, hex, 65);
    }
    free(hex);
    return ok;
}

bool pgtest_role(PGconn *conn, const char *group, const char *suffix, char *name, size_t size)
{
    char sql[512];
    int n = snprintf(name, size, "%s_%s", PQdb(conn), suffix);
    if (n < 0 || (size_t)n >= size || n > 63) {
        fprintf(stderr, "role name too long for %s\n", PQdb(conn));
        return false;
    }
    /* A failed earlier run may have left the role behind: roles outlive databases. */
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS \"%s\"", name);
    if (!pgtest_ok(conn, sql)) {
        return false;
    }
    if (group != NULL) {
        snprintf(sql, sizeof sql, "CREATE ROLE \"%s\" LOGIN IN ROLE %s", name, group);
    } else {
        snprintf(sql, sizeof sql, "CREATE ROLE \"%s\" LOGIN", name);
    }
    return pgtest_ok(conn, sql);
}

void pgtest_drop_role(PGconn *conn, const char *name)
{
    char sql[512];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS \"%s\"", name);
    (void)pgtest_ok(conn, sql);
}

void pgtest_batch_init(struct pgtest_batch *b)
{
    b->len = 0;
    b->overflow = false;
    b->finished = false;
    b->json[0] = '\0';
}

static void pgtest_batch_append(struct pgtest_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pgtest_batch_append(struct pgtest_batch *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof b->json - b->len;
    if (b->finished) {
        b->overflow = true;
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(b->json + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        b->overflow = true;
        return;
    }
    b->len += (size_t)n;
}

void pgtest_batch_add(struct pgtest_batch *b, const char *wave, const char *submission_id,
                      const char *token_hex, const char *answers_json, bool screened_out)
{
    pgtest_batch_append(b, "%s{\"wave\": \"%s\", \"submission_id\": \"%s\"", b->len ? ", " : "",
                        wave, submission_id);
    if (token_hex != NULL) {
        pgtest_batch_append(b, ", \"token_sha256\": \"%s\"", token_hex);
    }
    pgtest_batch_append(b, ", \"answers\": %s, \"screened_out\": %s}", answers_json,
                        screened_out ? "true" : "false");
}

void pgtest_batch_raw(struct pgtest_batch *b, const char *item_json)
{
    pgtest_batch_append(b, "%s%s", b->len ? ", " : "", item_json);
}

const char *pgtest_batch_json(struct pgtest_batch *b)
{
    static const size_t brackets = 3; /* "[", "]" and the terminator */
    if (b->finished && !b->overflow) {
        return b->json;
    }
    if (b->overflow || b->len + brackets > sizeof b->json) {
        fprintf(stderr, "test batch too large\n");
        return NULL;
    }
    memmove(b->json + 1, b->json, b->len);
    b->json[0] = '[';
    b->json[b->len + 1] = ']';
    b->json[b->len + 2] = '\0';
    b->len += 2;
    b->finished = true;
    return b->json;
}

void pgtest_uuid(char out[37], unsigned n)
{
    snprintf(out, 37, "00000000-0000-4000-8000-%012u", n);
}

bool pgtest_submit_send(PGconn *conn, const char *batch_json)
{
    static const char sql[] =
        "SELECT e->>'status', coalesce(e->>'submission_id', ''),"
        "       coalesce(e->>'response_id', ''), coalesce(e->>'received_at', ''),"
        "       e ? 'response_id' AND e ? 'received_at'"
        "  FROM jsonb_array_elements(survey.submit_responses($1::jsonb))"
        "       WITH ORDINALITY AS t(e, n)"
        " ORDER BY n";
    const char *params[] = {batch_json};
    if (!PQsendQueryParams(conn, sql, 1, NULL, params, NULL, NULL, 0)) {
        fprintf(stderr, "could not send submit_responses: %s", PQerrorMessage(conn));
        return false;
    }
    return true;
}

static void pgtest_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

int pgtest_submit_finish(PGconn *conn, struct pgtest_outcome *out, int max)
{
    int count = -1;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            pgtest_print_error("SELECT survey.submit_responses(...)", res, conn);
            count = -1;
        } else {
            int rows = PQntuples(res);
            count = rows < max ? rows : max;
            for (int i = 0; i < count; i++) {
                pgtest_copy(out[i].status, sizeof out[i].status, PQgetvalue(res, i, 0));
                pgtest_copy(out[i].submission_id, sizeof out[i].submission_id,
                            PQgetvalue(res, i, 1));
                pgtest_copy(out[i].response_id, sizeof out[i].response_id, PQgetvalue(res, i, 2));
                pgtest_copy(out[i].received_at, sizeof out[i].received_at, PQgetvalue(res, i, 3));
                out[i].has_receipt = strcmp(PQgetvalue(res, i, 4), "t") == 0;
            }
            count = rows;
        }
        PQclear(res);
    }
    return count;
}

int pgtest_submit(PGconn *conn, const char *batch_json, struct pgtest_outcome *out, int max)
{
    if (!pgtest_submit_send(conn, batch_json)) {
        return -1;
    }
    return pgtest_submit_finish(conn, out, max);
}

static long long pgtest_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool pgtest_wait_blocked(PGconn *observer, PGconn *busy, int timeout_ms)
{
    char pid_text[32];
    const char *params[] = {pid_text};
    long long deadline = pgtest_now_ms() + timeout_ms;
    snprintf(pid_text, sizeof pid_text, "%d", PQbackendPID(busy));
    for (;;) {
        long long waiting = pgtest_count(observer,
                                         "SELECT count(*) FROM pg_stat_activity"
                                         " WHERE pid = $1 AND wait_event_type = 'Lock'",
                                         1, params);
        if (waiting > 0) {
            return true;
        }
        long long left = deadline - pgtest_now_ms();
        if (waiting < 0 || left <= 0) {
            fprintf(stderr, "backend %s did not block on a lock\n", pid_text);
            return false;
        }
        /* Wait on busy's socket, not a clock: an answer there means it did not block at all. */
        struct pollfd pfd = {.fd = PQsocket(busy), .events = POLLIN};
        int ready = poll(&pfd, 1, left < 20 ? (int)left : 20);
        if (ready > 0) {
            if (!PQconsumeInput(busy) || !PQisBusy(busy)) {
                fprintf(stderr, "backend %s finished instead of blocking\n", pid_text);
                return false;
            }
        }
    }
}

bool pgtest_finish(PGconn *busy)
{
    bool ok = true;
    PGresult *res;
    while ((res = PQgetResult(busy)) != NULL) {
        if (!pgtest_result_ok(res)) {
            pgtest_print_error("(sent command)", res, busy);
            ok = false;
        }
        PQclear(res);
    }
    return ok;
}
