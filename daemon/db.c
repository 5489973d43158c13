/*
 * The worker's connection: a small state machine over PQconnectPoll and PQsendQueryParams.
 * The socket changes on every reconnect, so its event is made anew each time. A statement that
 * outlives its deadline is treated as lost: the connection is dropped and the outcome unknown.
 */
#include "db.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "log.h"

enum db_state {
    DB_DOWN,       /* waiting for the backoff timer before connecting again */
    DB_CONNECTING, /* PQconnectPoll in progress */
    DB_PREPARING,  /* connected; preparing the submission statement */
    DB_IDLE,       /* connected, nothing in flight */
    DB_BUSY,       /* one statement in flight */
};

struct db {
    struct event_base *base;
    char *conninfo;
    long statement_timeout_ms;
    struct db_callbacks cb;
    void *arg;
    PGconn *conn;
    enum db_state state;
    struct event *io;    /* on the connection's socket; NULL while down */
    struct event *timer; /* backoff while down, deadline while busy */
    long backoff_ms;
    bool want_write; /* the statement is not fully flushed yet */
    char *got_json;  /* the statement's result value, once received */
    bool got_error;  /* the server answered the statement with an error */
};

static void io_cb(evutil_socket_t fd, short what, void *arg);

static void set_io(struct db *db, short what)
{
    if (db->io != NULL) {
        event_free(db->io);
        db->io = NULL;
    }
    int fd = PQsocket(db->conn);
    if (fd < 0) {
        return;
    }
    db->io = event_new(db->base, fd, what | EV_PERSIST, io_cb, db);
    if (db->io != NULL) {
        event_add(db->io, NULL);
    }
}

static void start_timer(struct db *db, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(db->timer, &tv);
}

static void connect_start(struct db *db);
static int send_pending(struct db *db);

/* libpq prints server notices (and a FATAL on an idle connection) to stderr by default: pass
 * them through the logger instead, first line only, so every log line stays ours. */
void db_notice_cb(void *arg, const char *message)
{
    (void)arg;
    char line[256];
    log_event(LOG_WARNING, "database notice", "message", log_first_line(line, sizeof line, message),
              NULL);
}

/* Drop the connection and try again after the backoff. A statement in flight is reported
 * as unknown, exactly once. */
static void go_down(struct db *db, const char *why)
{
    bool was_busy = db->state == DB_BUSY;
    char reason[256];
    log_first_line(reason, sizeof reason, db->conn ? PQerrorMessage(db->conn) : "");
    log_event(LOG_WARNING, "database connection lost", "why", why, "detail", reason, NULL);
    if (db->io != NULL) {
        event_free(db->io);
        db->io = NULL;
    }
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = DB_DOWN;
    free(db->got_json);
    db->got_json = NULL;
    db->got_error = false;
    evtimer_del(db->timer);
    start_timer(db, db->backoff_ms);
    db->backoff_ms = db->backoff_ms * 2 > 5000 ? 5000 : db->backoff_ms * 2;
    if (was_busy) {
        db->cb.result_cb(db->arg, DB_UNKNOWN, NULL);
    }
}

#define STATEMENT_NAME "submit_responses"

static void connected(struct db *db)
{
    db->state = DB_IDLE;
    db->backoff_ms = 100;
    evtimer_del(db->timer);
    set_io(db, EV_READ);
    log_event(LOG_INFO, "database connected", NULL);
    db->cb.ready_cb(db->arg);
}

static void connect_poll(struct db *db)
{
    switch (PQconnectPoll(db->conn)) {
    case PGRES_POLLING_READING:
        set_io(db, EV_READ);
        break;
    case PGRES_POLLING_WRITING:
        set_io(db, EV_WRITE);
        break;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(db->conn, 1) != 0) {
            go_down(db, "could not make the connection non-blocking");
            return;
        }
        /* Prepare once per connection: each batch then skips parsing and planning. The
         * connect timer still bounds this step. */
        if (PQsendPrepare(db->conn, STATEMENT_NAME, "SELECT survey.submit_responses($1::jsonb)", 1,
                          NULL) != 1) {
            go_down(db, "could not prepare the statement");
            return;
        }
        db->state = DB_PREPARING;
        if (send_pending(db) < 0) {
            go_down(db, "could not send to the server");
        }
        break;
    default:
        go_down(db, "could not connect");
        break;
    }
}

static void connect_start(struct db *db)
{
    /* The conninfo may be a URI or a multi-host list: libpq expands it (expand_dbname). */
    /* Keepalives and a user timeout notice a silent network; an explicit setting in the
     * conninfo (expanded last) wins. */
    const char *keys[] = {"application_name",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "dbname",
                          NULL};
    const char *values[] = {"surveyd", "10", "5", "3", "20000", db->conninfo ? db->conninfo : "",
                            NULL};
    db->conn = PQconnectStartParams(keys, values, 1);
    if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
        go_down(db, "could not start connecting");
        return;
    }
    PQsetNoticeProcessor(db->conn, db_notice_cb, NULL);
    db->state = DB_CONNECTING;
    /* Bound the whole attempt: a silent network must not leave us connecting forever. */
    start_timer(db, 10000);
    connect_poll(db);
}

/* Flush what libpq has buffered and watch for the answer (and for writability while some of
 * the message is still unsent). */
static int send_pending(struct db *db)
{
    int rc = PQflush(db->conn);
    if (rc < 0) {
        return -1;
    }
    db->want_write = rc == 1;
    set_io(db, db->want_write ? EV_READ | EV_WRITE : EV_READ);
    return 0;
}

/* Move a statement along: 1 when its results are all in, 0 when not yet, -1 when the
 * connection went down (already handled). */
static int pump(struct db *db, short what)
{
    if ((what & EV_WRITE) && db->want_write) {
        int rc = PQflush(db->conn);
        if (rc < 0) {
            go_down(db, "could not send to the server");
            return -1;
        }
        if (rc == 0) {
            db->want_write = false;
            set_io(db, EV_READ);
        }
    }
    if (what & EV_READ) {
        if (PQconsumeInput(db->conn) == 0) {
            go_down(db, "connection broke during a statement");
            return -1;
        }
        if (PQisBusy(db->conn) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Take the results that are in without blocking: PQgetResult waits for the server while libpq is
 * busy (the commit's ReadyForQuery may come in a later read), and the worker's loop must never
 * wait. Returns true once the statement's last result has been taken; what it said accumulates
 * in db->got_*.
 */
static bool collect_results(struct db *db)
{
    while (PQisBusy(db->conn) == 0) {
        PGresult *res = PQgetResult(db->conn);
        if (res == NULL) {
            return true;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && db->got_json == NULL &&
            !db->got_error && !PQgetisnull(res, 0, 0)) {
            db->got_json = strdup(PQgetvalue(res, 0, 0));
            db->got_error = db->got_json == NULL;
        } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            char line[256];
            log_event(LOG_ERROR,
                      db->state == DB_PREPARING ? "could not prepare the submission statement"
                                                : "submission statement failed",
                      "sqlstate", state ? state : "", "message",
                      log_first_line(line, sizeof line, PQresultErrorMessage(res)), NULL);
            db->got_error = true;
            free(db->got_json);
            db->got_json = NULL;
        }
        PQclear(res);
    }
    return false;
}

static void finish_prepare(struct db *db)
{
    bool ok = !db->got_error;
    free(db->got_json);
    db->got_json = NULL;
    db->got_error = false;
    if (ok) {
        connected(db);
    } else {
        go_down(db, "could not prepare the statement");
    }
}

static void finish_statement(struct db *db)
{
    char *json = db->got_json;
    enum db_outcome outcome = json != NULL && !db->got_error ? DB_OK : DB_FAILED;
    db->got_json = NULL;
    db->got_error = false;
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        free(json);
        go_down(db, "connection broke");
        return;
    }
    db->state = DB_IDLE;
    evtimer_del(db->timer);
    set_io(db, EV_READ);
    db->cb.result_cb(db->arg, outcome, outcome == DB_OK ? json : NULL);
    free(json);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct db *db = arg;
    (void)fd;
    switch (db->state) {
    case DB_CONNECTING:
        connect_poll(db);
        return;
    case DB_IDLE:
        /* Nothing expected: a notice, or the server going away. */
        if (PQconsumeInput(db->conn) == 0) {
            go_down(db, "connection closed by the server");
            return;
        }
        while (PQisBusy(db->conn) == 0) {
            PGresult *res = PQgetResult(db->conn);
            if (res == NULL) {
                break;
            }
            PQclear(res);
        }
        return;
    case DB_PREPARING:
        if (pump(db, what) == 1 && collect_results(db)) {
            finish_prepare(db);
        }
        return;
    case DB_BUSY:
        if (pump(db, what) == 1 && collect_results(db)) {
            finish_statement(db);
        }
        return;
    case DB_DOWN:
        return;
    }
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct db *db = arg;
    (void)fd;
    (void)what;
    switch (db->state) {
    case DB_DOWN:
        connect_start(db);
        break;
    case DB_CONNECTING:
    case DB_PREPARING:
        go_down(db, "connect timed out");
        break;
    case DB_BUSY:
        go_down(db, "statement timed out");
        break;
    case DB_IDLE:
        break;
    }
}

struct db *db_new(struct event_base *base, const char *conninfo, long statement_timeout_ms,
                  const struct db_callbacks *cb, void *arg)
{
    struct db *db = calloc(1, sizeof *db);
    if (db == NULL) {
        return NULL;
    }
    db->base = base;
    db->conninfo = conninfo ? strdup(conninfo) : NULL;
    db->statement_timeout_ms = statement_timeout_ms;
    db->cb = *cb;
    db->arg = arg;
    db->backoff_ms = 100;
    db->timer = evtimer_new(base, timer_cb, db);
    if ((conninfo != NULL && db->conninfo == NULL) || db->timer == NULL) {
        db_free(db);
        return NULL;
    }
    connect_start(db);
    return db;
}

bool db_is_idle(const struct db *db)
{
    return db->state == DB_IDLE;
}

bool db_is_up(const struct db *db)
{
    return db->state == DB_IDLE || db->state == DB_BUSY;
}

int db_submit(struct db *db, const char *batch_json)
{
    if (db->state != DB_IDLE) {
        return -1;
    }
    const char *params[1] = {batch_json};
    if (PQsendQueryPrepared(db->conn, STATEMENT_NAME, 1, params, NULL, NULL, 0) != 1) {
        go_down(db, "could not send the statement");
        return -1;
    }
    db->state = DB_BUSY;
    start_timer(db, db->statement_timeout_ms);
    if (send_pending(db) < 0) {
        /* The message did not reach the server whole, so it did not run: the caller answers,
         * and no callback is owed. */
        db->state = DB_IDLE;
        go_down(db, "could not send the statement");
        return -1;
    }
    return 0;
}

void db_free(struct db *db)
{
    if (db == NULL) {
        return;
    }
    if (db->io != NULL) {
        event_free(db->io);
    }
    if (db->timer != NULL) {
        event_free(db->timer);
    }
    PQfinish(db->conn);
    free(db->got_json);
    free(db->conninfo);
    free(db);
}
