/*
 * Helpers for the SQL-level integration tests: connect to this test's own database (set up by
 * with_pg.sh), migrate it with survey-admin, create questionnaires, waves, invitations and
 * login roles as the superuser, and call survey.submit_responses as the daemon would.
 */
#ifndef SURVEY_PGTEST_H
#define SURVEY_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* One element of submit_responses' result; "" where the key is absent. */
struct pgtest_outcome {
    char status[32];
    char submission_id[40];
    char response_id[40];
    char received_at[40];
    bool has_receipt; /* response_id and received_at were both present */
};

/* The test database's connection string (SURVEY_TEST_DB); exits the test when it is unset. */
const char *pgtest_conninfo(void);

/* Connect to the test database, as user (NULL: the connection string's). NULL on failure,
 * after printing why. */
PGconn *pgtest_connect(const char *user) __attribute__((warn_unused_result));

/* Run "$SURVEY_ADMIN migrate --db $SURVEY_TEST_DB"; true when it exits with status 0. */
bool pgtest_migrate(void) __attribute__((warn_unused_result));

/* Run sql (no parameters); true when it succeeds. A failure is printed with its SQLSTATE. */
bool pgtest_ok(PGconn *conn, const char *sql);

/* Run sql; true when it fails with exactly this SQLSTATE (anything else is printed). */
bool pgtest_fails_with(PGconn *conn, const char *sqlstate, const char *sql);

/* The first column of the first row of sql with its text parameters, as a string to free(), or
 * NULL (printed) when the query fails or returns no row. A SQL NULL is returned as "(null)". */
char *pgtest_value(PGconn *conn, const char *sql, int n_params, const char *const *params)
    __attribute__((warn_unused_result));

/* The same, as a number; -1 when the query fails. */
long long pgtest_count(PGconn *conn, const char *sql, int n_params, const char *const *params);

/* The id of a questionnaire row (the bundled definition when the source tree has it, else a
 * small literal), inserted on first use. -1 on failure. */
long long pgtest_questionnaire(PGconn *conn);

/* Create wave id with access "open" or "invite" and bring it to status (draft, open, closed)
 * through the allowed transitions. */
bool pgtest_wave(PGconn *conn, const char *id, const char *access, const char *status);

/* Store an invitation for wave with the SHA-256 of token; its hex digest goes to hash_hex. */
bool pgtest_invite(PGconn *conn, const char *wave, const char *token, char hash_hex[65]);

/* Create a login role that is a member of group (e.g. "survey_daemon"), named after the test
 * database plus suffix so that parallel tests never share it; its name goes to name. */
bool pgtest_role(PGconn *conn, const char *group, const char *suffix, char *name, size_t size);

/* Drop a role made by pgtest_role (after its connections are closed). */
void pgtest_drop_role(PGconn *conn, const char *name);

/* A batch under construction: a JSON array of items, as the daemon sends them. */
struct pgtest_batch {
    char json[16384];
    size_t len;
    bool overflow; /* an item did not fit */
    bool finished; /* pgtest_batch_json closed the array */
};

void pgtest_batch_init(struct pgtest_batch *b);

/* Add an item; token_hex NULL leaves "token_sha256" out, answers_json is a JSON value. */
void pgtest_batch_add(struct pgtest_batch *b, const char *wave, const char *submission_id,
                      const char *token_hex, const char *answers_json, bool screened_out);

/* Add an item given as raw JSON text (for malformed items). */
void pgtest_batch_raw(struct pgtest_batch *b, const char *item_json);

/* The finished array; NULL when it did not fit (printed). */
const char *pgtest_batch_json(struct pgtest_batch *b);

/* A canonical UUID made from n, for readable submission ids: 00000000-0000-4000-8000-<n>. */
void pgtest_uuid(char out[37], unsigned n);

/* Send SELECT survey.submit_responses(batch) without waiting for it. */
bool pgtest_submit_send(PGconn *conn, const char *batch_json);

/* Wait for a sent submission's result: the number of outcomes returned (the first max of them
 * are stored in out), or -1 when the call failed (printed). */
int pgtest_submit_finish(PGconn *conn, struct pgtest_outcome *out, int max);

/* pgtest_submit_send, then pgtest_submit_finish. */
int pgtest_submit(PGconn *conn, const char *batch_json, struct pgtest_outcome *out, int max);

/* Wait, at most timeout_ms, until busy's backend waits for a lock. False when the wait ran out
 * or busy's command finished instead. observer is another connection, to ask the server. */
bool pgtest_wait_blocked(PGconn *observer, PGconn *busy, int timeout_ms);

/* Consume busy's pending results; true when the last one was successful. */
bool pgtest_finish(PGconn *busy);

#endif
