/*
 * The control connection. Blocking calls are fine here: it runs on the main thread, whose only
 * other duties are signals, and each statement carries a statement_timeout.
 */
#include "dbcontrol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "waves.h"

struct dbcontrol {
    PGconn *conn;
    char identity[320];
};

static void log_pq(const char *msg, PGconn *conn, const PGresult *res)
{
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (detail == NULL) {
        detail = conn ? PQerrorMessage(conn) : "";
    }
    char line[256];
    log_first_line(line, sizeof line, detail);
    log_event(LOG_ERROR, msg, "detail", line, NULL);
}

/* Read who the server is; -1 (logged) on error, 1 when it is a standby or read-only. */
static int read_identity(struct dbcontrol *ctl)
{
    /* pg_current_wal_lsn() fails during recovery: ask only a primary for its timeline. */
    PGresult *res =
        PQexec(ctl->conn, "SELECT pg_is_in_recovery() OR current_setting("
                          "'default_transaction_read_only')::bool, system_identifier::text, "
                          "CASE WHEN NOT pg_is_in_recovery() THEN "
                          "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END "
                          "FROM pg_control_system()");
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : 0;
        const char *host = PQhost(ctl->conn), *port = PQport(ctl->conn);
        snprintf(ctl->identity, sizeof ctl->identity, "%s/%s %s:%s", PQgetvalue(res, 0, 1),
                 PQgetvalue(res, 0, 2), host ? host : "", port ? port : "");
    } else {
        log_pq("could not identify the database server", ctl->conn, res);
    }
    PQclear(res);
    return rc;
}

struct dbcontrol *dbcontrol_connect(const char *conninfo, long connect_timeout_ms, bool *standby)
{
    /* The main thread blocks on this connection: bound each host with connect_timeout (libpq
     * moves on to the next host of the list when one does not answer in time) and a silent
     * network with TCP keepalives and a user timeout, so signals are never held up for long.
     * An explicit setting in the conninfo (expanded last) wins. */
    char timeout_s[24];
    snprintf(timeout_s, sizeof timeout_s, "%ld", (connect_timeout_ms + 999) / 1000);
    const char *keys[] = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          NULL};
    const char *values[] = {timeout_s, "surveyd", "10", "5", "3", "20000", conninfo ? conninfo : "",
                            NULL};
    *standby = false;
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn != NULL) {
        PQsetNoticeProcessor(conn, db_notice_cb, NULL);
    }
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        log_pq("could not connect to the database", conn, NULL);
        PQfinish(conn);
        return NULL;
    }
    PGresult *res = PQexec(conn, "SET statement_timeout = '10s'");
    PQclear(res);
    struct dbcontrol *ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL) {
        PQfinish(conn);
        return NULL;
    }
    ctl->conn = conn;
    int who = read_identity(ctl);
    if (who != 0) {
        if (who > 0) {
            log_event(LOG_WARNING, "control connection reached a standby or read-only server",
                      "server", ctl->identity, NULL);
            *standby = true;
        }
        dbcontrol_free(ctl);
        return NULL;
    }
    return ctl;
}

const char *dbcontrol_identity(const struct dbcontrol *ctl)
{
    return ctl->identity;
}

int dbcontrol_schema_version(struct dbcontrol *ctl)
{
    PGresult *res =
        PQexec(ctl->conn, "SELECT coalesce(max(version), 0) FROM public.schema_migrations");
    int version = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        version = atoi(PQgetvalue(res, 0, 0));
    } else {
        log_pq("could not read the schema version", ctl->conn, res);
    }
    PQclear(res);
    return version;
}

int dbcontrol_listen(struct dbcontrol *ctl)
{
    PGresult *res = PQexec(ctl->conn, "LISTEN wave_changed");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0) {
        log_pq("could not listen for wave changes", ctl->conn, res);
    }
    PQclear(res);
    return rc;
}

struct waves *dbcontrol_load_waves(struct dbcontrol *ctl)
{
    PGresult *res = PQexec(ctl->conn, "SELECT w.id, w.status, w.access, q.source, "
                                      "encode(q.sha256, 'hex') "
                                      "FROM survey.waves w "
                                      "JOIN survey.questionnaires q ON q.id = w.questionnaire_id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_pq("could not read the waves", ctl->conn, res);
        PQclear(res);
        return NULL;
    }
    int n = PQntuples(res);
    struct wave_row *rows = calloc(n > 0 ? (size_t)n : 1, sizeof *rows);
    struct waves *waves = NULL;
    if (rows != NULL) {
        for (int i = 0; i < n; i++) {
            rows[i].id = PQgetvalue(res, i, 0);
            rows[i].status = PQgetvalue(res, i, 1);
            rows[i].access = PQgetvalue(res, i, 2);
            rows[i].source = PQgetvalue(res, i, 3);
            rows[i].sha256_hex = PQgetvalue(res, i, 4);
        }
        waves = waves_build(rows, (size_t)n);
        free(rows);
    }
    PQclear(res);
    return waves;
}

int dbcontrol_socket(const struct dbcontrol *ctl)
{
    return PQsocket(ctl->conn);
}

int dbcontrol_consume(struct dbcontrol *ctl)
{
    if (PQconsumeInput(ctl->conn) == 0 || PQstatus(ctl->conn) != CONNECTION_OK) {
        return -1;
    }
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(ctl->conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

void dbcontrol_free(struct dbcontrol *ctl)
{
    if (ctl == NULL) {
        return;
    }
    PQfinish(ctl->conn);
    free(ctl);
}
