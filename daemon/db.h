/*
 * A worker's asynchronous PostgreSQL connection (libpq's non-blocking API on the worker's
 * event loop): connect and reconnect with backoff, and at most one statement in flight, whose
 * result comes back through a callback. The only place in the daemon that sees libpq types,
 * together with dbcontrol.c.
 */
#ifndef SURVEYD_DB_H
#define SURVEYD_DB_H

#include <stdbool.h>

struct event_base;
struct db;

enum db_outcome {
    DB_OK,      /* the statement committed; json holds its single result value */
    DB_FAILED,  /* the server answered with an error: nothing was committed */
    DB_UNKNOWN, /* the connection broke or timed out: it may or may not have committed */
};

/* What happened to the connection, for the counters in /metrics. */
enum db_event {
    DB_EVENT_RECONNECTED,     /* usable again after having been lost */
    DB_EVENT_STANDBY_REFUSED, /* reached a standby or read-only server, dropped it */
};

struct db_callbacks {
    /* The connection became usable (after connect or reconnect). */
    void (*ready_cb)(void *arg);
    /* Something to count happened (see enum db_event). */
    void (*event_cb)(void *arg, enum db_event event);
    /* The result of db_submit; json is NULL unless outcome is DB_OK, and valid during the call. */
    void (*result_cb)(void *arg, enum db_outcome outcome, const char *json);
};

/*
 * Start connecting; NULL on no memory. conninfo may be NULL (libpq's environment defaults) and
 * may name several hosts; every attempt goes through libpq with the whole list, so a reconnect
 * finds the primary wherever it is now. A host that does not answer within connect_timeout_ms is
 * put last for the next attempt, and a server that turns out to be a standby is dropped.
 */
struct db *db_new(struct event_base *base, const char *conninfo, long statement_timeout_ms,
                  long connect_timeout_ms, const struct db_callbacks *cb, void *arg)
    __attribute__((warn_unused_result));

/* True when connected and no statement is in flight. */
bool db_is_idle(const struct db *db);

/* True when connected (idle or busy). */
bool db_is_up(const struct db *db);

/*
 * Send `SELECT survey.submit_responses($1::jsonb)` with batch_json. Only when db_is_idle.
 * Returns 0 when sent (result_cb will run exactly once), -1 when it could not be sent (no
 * callback will run; the connection is being re-established).
 */
int db_submit(struct db *db, const char *batch_json) __attribute__((warn_unused_result));

/* libpq notice processor for every connection of ours: server messages go to the log. */
void db_notice_cb(void *arg, const char *message);

/* Close; a statement in flight gets no callback. db_free(NULL) does nothing. */
void db_free(struct db *db);

#endif
