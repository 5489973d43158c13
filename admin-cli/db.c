/*
 * The CLI's connection to PostgreSQL: where the connection string comes from, how server
 * messages become the one-line reasons the CLI prints, and the transaction verbs. Every
 * statement that carries data goes through PQexecParams.
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpq messages span lines ("...failed: ...\n\tIs the server running..."); keep one. */
static void db_one_line(char *buf, size_t size, const char *msg)
{
    size_t n = 0;
    bool space = false;
    for (const char *p = msg; *p && n + 1 < size; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < size) {
            buf[n++] = ' ';
        }
        space = false;
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

/* Server notices (e.g. "relation already exists, skipping") are noise here; warnings are not. */
static void db_notice_cb(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (severity != NULL && strcmp(severity, "WARNING") == 0 && msg != NULL) {
        cli_error("server warning: %s", msg);
    }
}

PGconn *db_connect(const struct cli_ctx *ctx)
{
    const char *conninfo = ctx->conninfo;
    if (conninfo == NULL) {
        conninfo = getenv("DATABASE_URL");
    }
    if (conninfo == NULL) {
        conninfo = "";
    }
    /* expand_dbname makes "dbname" carry a whole conninfo string or URI, possibly with several
     * hosts and target_session_attrs (read-write for commands that write, prefer-standby for
     * index and export). connect_timeout bounds each host, so a host that is down and silent is
     * passed over for the next one; the conninfo's own setting wins. */
    const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
    const char *const values[] = {"10", conninfo, "survey-admin", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL) {
        cli_error("could not connect to the database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[1024];
        db_one_line(line, sizeof line, PQerrorMessage(conn));
        cli_error("could not connect to the database: %s", line);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, db_notice_cb, NULL);
    return conn;
}

PGresult *db_exec(PGconn *conn, const char *sql, int n, const char *const *values)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
    if (res == NULL) {
        res = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    }
    if (res == NULL) {
        /* Even the empty result could not be allocated: nothing sensible is left to do. */
        cli_error("out of memory");
        exit(1);
    }
    return res;
}

bool db_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

const char *db_sqlstate(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state != NULL ? state : "";
}

void db_report(PGconn *conn, PGresult *res, const char *what)
{
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char line[1024];
    if (primary != NULL) {
        db_one_line(line, sizeof line, primary);
    } else {
        const char *msg = PQerrorMessage(conn);
        db_one_line(line, sizeof line, msg[0] ? msg : "unknown error");
    }
    cli_error("%s: %s", what, line);
    PQclear(res);
}

bool db_is_standby(PGconn *conn)
{
    PGresult *res = db_exec(conn, "SELECT pg_is_in_recovery()", 0, NULL);
    bool standby = db_ok(res) && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return standby;
}

bool db_require_replayed_close(PGconn *conn, const char *wave)
{
    const char *params[1] = {wave};
    PGresult *res = db_exec(conn,
                            "SELECT pg_is_in_recovery(), "
                            "(SELECT status FROM survey.waves WHERE id = $1)",
                            1, params);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read the wave's status");
        return false;
    }
    bool standby = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    bool known = !PQgetisnull(res, 0, 1);
    bool closed = known && strcmp(PQgetvalue(res, 0, 1), "closed") == 0;
    char status[16];
    snprintf(status, sizeof status, "%s", known ? PQgetvalue(res, 0, 1) : "");
    PQclear(res);
    if (!standby || !known || closed) {
        return true;
    }
    cli_error("wave \"%s\" is %s on this standby, which may not have replayed its close yet: "
              "read a closed wave here, or this one from the primary",
              wave, status);
    return false;
}

bool db_command(PGconn *conn, const char *what, const char *sql, int n, const char *const *values)
{
    PGresult *res = db_exec(conn, sql, n, values);
    if (!db_ok(res)) {
        db_report(conn, res, what);
        return false;
    }
    PQclear(res);
    return true;
}

bool db_begin(PGconn *conn)
{
    return db_command(conn, "could not start a transaction", "BEGIN", 0, NULL);
}

bool db_commit(PGconn *conn)
{
    PGresult *res = db_exec(conn, "COMMIT", 0, NULL);
    if (!db_ok(res)) {
        db_report(conn, res, "could not commit");
        return false;
    }
    /* COMMIT of a transaction that had failed "succeeds" with the tag ROLLBACK. */
    bool committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!committed) {
        cli_error("could not commit: the transaction was rolled back");
    }
    return committed;
}

void db_rollback(PGconn *conn)
{
    /* A failed ROLLBACK leaves nothing to undo: the server ends the transaction with the link. */
    PQclear(PQexec(conn, "ROLLBACK"));
}
