/*
 * The CLI's database connection and its few helpers: connect from --db, DATABASE_URL or the PG*
 * variables, run parameterised statements, and report server errors as one line. The only
 * module of the CLI besides the commands' own SQL that sees libpq types.
 */
#ifndef SURVEY_ADMIN_DB_H
#define SURVEY_ADMIN_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "cli.h"

/*
 * Connect as ctx says (--db, else $DATABASE_URL, else libpq's defaults). Returns the connection,
 * owned by the caller (PQfinish), or NULL after printing why on stderr. Passwords are never
 * printed: only libpq's own message, which does not contain them.
 */
PGconn *db_connect(const struct cli_ctx *ctx) __attribute__((warn_unused_result));

/*
 * Run sql with n text parameters (NULL values are SQL NULL). Returns the result, never NULL
 * (libpq's out-of-memory result is turned into a failed one); the caller PQclears it.
 */
PGresult *db_exec(PGconn *conn, const char *sql, int n, const char *const *values)
    __attribute__((warn_unused_result));

/* True when res is PGRES_COMMAND_OK or PGRES_TUPLES_OK. */
bool db_ok(const PGresult *res);

/* The SQLSTATE of a failed result, or "" when there is none (e.g. the connection broke). */
const char *db_sqlstate(const PGresult *res);

/* Print "survey-admin: <what>: <the server's one-line message>" and PQclear res. */
void db_report(PGconn *conn, PGresult *res, const char *what);

/* BEGIN / COMMIT / ROLLBACK; begin and commit print the reason and return false on failure. */
bool db_begin(PGconn *conn) __attribute__((warn_unused_result));
bool db_commit(PGconn *conn) __attribute__((warn_unused_result));
void db_rollback(PGconn *conn);

/*
 * For the readers that may run on a standby (index, export): true when conn is a primary, or a
 * standby that has replayed the close of wave. A standby that still shows the wave open (or in
 * draft) cannot tell "still open" from "closed on the primary, close not replayed here yet", so it
 * is refused with a one-line reason (printed) and false; a closed wave is final, and its close
 * commits after every submission it let in, so once the close is replayed here so is every
 * acknowledged submission of the wave. An unknown wave is left to the caller (true). Call it
 * before reading the wave, outside a transaction or at its start.
 */
bool db_require_replayed_close(PGconn *conn, const char *wave) __attribute__((warn_unused_result));

/* True when conn is a standby (in recovery): nothing can be written there, not even a record of
 * the run. False on a primary and when the question fails. */
bool db_is_standby(PGconn *conn);

/* Run sql (n text parameters) and expect no rows back; prints why and returns false if not. */
bool db_command(PGconn *conn, const char *what, const char *sql, int n, const char *const *values)
    __attribute__((warn_unused_result));

#endif
