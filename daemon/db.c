/*
 * The worker's connection: a small state machine over PQconnectPoll and PQsendQueryParams.
 * The socket changes on every reconnect, so its event is made anew each time. A statement that
 * outlives its deadline is treated as lost: the connection is dropped and the outcome unknown.
 * After a failover the old primary is gone or has come back as a standby: every reconnect hands
 * libpq the whole host list again, and a standby that answers is dropped (docs/ha.md).
 */
#include "db.h"

#include <stdio.h>
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
    long connect_timeout_ms;
    struct db_callbacks cb;
    void *arg;
    PGconn *conn;
    enum db_state state;
    struct event *io;    /* on the connection's socket; NULL while down */
    struct event *timer; /* backoff while down, deadline while busy */
    long backoff_ms;
    bool want_write;    /* the statement is not fully flushed yet */
    char *got_json;     /* the statement's result value, once received */
    bool got_error;     /* the server answered the statement with an error */
    bool got_read_only; /* ... saying it cannot write here (a standby): reconnect */
    bool ever_up;       /* was usable once: the next time counts as a reconnect */
    size_t host_shift;  /* the host libpq tries first, as an offset into the conninfo's list */
};

/* Reconnect backoff: first retry after 100 ms, doubling up to 1 s. A failover takes seconds,
 * and a retry that finds nobody costs a refused TCP connection: a short cap brings the service
 * back soon after the new primary is promoted. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 1000

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
    db->backoff_ms = db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : db->backoff_ms * 2;
    if (was_busy) {
        db->cb.result_cb(db->arg, DB_UNKNOWN, NULL);
    }
}

#define STATEMENT_NAME "submit_responses"

static void connected(struct db *db)
{
    db->state = DB_IDLE;
    db->backoff_ms = BACKOFF_FIRST_MS;
    evtimer_del(db->timer);
    set_io(db, EV_READ);
    const char *host = PQhost(db->conn), *port = PQport(db->conn);
    log_event(LOG_INFO, "database connected", "host", host ? host : "", "port", port ? port : "",
              NULL);
    if (db->ever_up) {
        db->cb.event_cb(db->arg, DB_EVENT_RECONNECTED);
    }
    db->ever_up = true;
    db->cb.ready_cb(db->arg);
}

/* ---- the host list ----------------------------------------------------------------------- */

/* Item i of a comma-separated list (libpq's host, hostaddr and port syntax) into buf; the number
 * of items is returned. An empty or absent list has none. */
static size_t list_item(const char *list, size_t i, char *buf, size_t size)
{
    size_t n = 0;
    if (list == NULL || list[0] == '\0') {
        return 0;
    }
    buf[0] = '\0';
    for (const char *p = list;; n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == i && size > 0) {
            snprintf(buf, size, "%.*s", (int)len, p);
        }
        if (comma == NULL) {
            return n + 1;
        }
        p = comma + 1;
    }
}

/* The list rotated so that item shift % n comes first; a list of fewer than two items is copied
 * as it is (one port applies to every host). malloc'd; NULL on no memory. */
static char *list_rotated(const char *list, size_t shift)
{
    char item[1024];
    size_t n = list_item(list, 0, item, sizeof item);
    if (n < 2) {
        return strdup(list);
    }
    size_t cap = strlen(list) + 1, at = 0;
    char *out = malloc(cap);
    for (size_t k = 0; out != NULL && k < n; k++) {
        list_item(list, (k + shift) % n, item, sizeof item);
        at += (size_t)snprintf(out + at, cap - at, "%s%s", k ? "," : "", item);
    }
    return out;
}

/* Whether a list option is one that names the hosts in order. */
static bool is_host_list(const char *keyword)
{
    return strcmp(keyword, "host") == 0 || strcmp(keyword, "hostaddr") == 0 ||
           strcmp(keyword, "port") == 0;
}

/*
 * Start a connection with the conninfo's hosts rotated by db->host_shift. Our defaults come
 * first, so that the conninfo's own settings win. libpq applies its environment defaults to
 * whatever neither sets. NULL on no memory or a conninfo that does not parse (logged).
 */
static PGconn *start_rotated(struct db *db)
{
    static const char *const ours[][2] = {{"application_name", "surveyd"},
                                          {"keepalives_idle", "10"},
                                          {"keepalives_interval", "5"},
                                          {"keepalives_count", "3"},
                                          {"tcp_user_timeout", "20000"}};
    const size_t n_ours = sizeof ours / sizeof ours[0];
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(db->conninfo ? db->conninfo : "", &err);
    if (opts == NULL) {
        char line[256];
        log_event(LOG_ERROR, "could not parse the database connection string", "detail",
                  log_first_line(line, sizeof line, err ? err : "out of memory"), NULL);
        PQfreemem(err);
        return NULL;
    }
    size_t n_opts = 0;
    while (opts[n_opts].keyword != NULL) {
        n_opts++;
    }
    const char **keys = calloc(n_ours + n_opts + 1, sizeof *keys);
    const char **values = calloc(n_ours + n_opts + 1, sizeof *values);
    char *rotated[3] = {NULL, NULL, NULL};
    size_t n = 0, n_rotated = 0;
    PGconn *conn = NULL;
    if (keys == NULL || values == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n_ours; i++, n++) {
        keys[n] = ours[i][0];
        values[n] = ours[i][1];
    }
    for (size_t i = 0; i < n_opts; i++) {
        if (opts[i].val == NULL) {
            continue;
        }
        keys[n] = opts[i].keyword;
        values[n] = opts[i].val;
        if (is_host_list(opts[i].keyword) && n_rotated < 3) {
            rotated[n_rotated] = list_rotated(opts[i].val, db->host_shift);
            if (rotated[n_rotated] == NULL) {
                goto out;
            }
            values[n] = rotated[n_rotated++];
        }
        n++;
    }
    conn = PQconnectStartParams(keys, values, 0);
out:
    for (size_t i = 0; i < n_rotated; i++) {
        free(rotated[i]);
    }
    free(keys);
    free(values);
    PQconninfoFree(opts);
    return conn;
}

/*
 * The host libpq was at when an attempt had to be given up (silent, or a standby) goes last
 * next time: move host_shift to the one after it. Hosts are matched by name and port in the
 * order this attempt used.
 */
static void skip_current_host(struct db *db)
{
    const char *host = PQhost(db->conn), *port = PQport(db->conn);
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(db->conninfo ? db->conninfo : "", &err);
    PQfreemem(err);
    const char *hosts = NULL, *addrs = NULL, *ports = NULL;
    for (size_t i = 0; opts != NULL && opts[i].keyword != NULL; i++) {
        if (strcmp(opts[i].keyword, "host") == 0) {
            hosts = opts[i].val;
        } else if (strcmp(opts[i].keyword, "hostaddr") == 0) {
            addrs = opts[i].val;
        } else if (strcmp(opts[i].keyword, "port") == 0) {
            ports = opts[i].val;
        }
    }
    char h[1024], a[1024], p[64];
    size_t n_hosts = list_item(hosts, 0, h, sizeof h);
    size_t n_addrs = list_item(addrs, 0, a, sizeof a);
    size_t n = n_hosts > n_addrs ? n_hosts : n_addrs;
    size_t n_ports = list_item(ports, 0, p, sizeof p);
    size_t step = 1;
    for (size_t k = 0; n > 1 && host != NULL && k < n; k++) {
        size_t i = (k + db->host_shift) % n;
        list_item(hosts, i, h, sizeof h);
        list_item(addrs, i, a, sizeof a);
        if (n_ports > 1) {
            list_item(ports, i, p, sizeof p);
        }
        bool same_host =
            (n_hosts > 0 && strcmp(h, host) == 0) || (n_addrs > 0 && strcmp(a, host) == 0);
        bool same_port = n_ports == 0 || port == NULL || strcmp(p, port) == 0;
        if (same_host && same_port) {
            step = k + 1;
            break;
        }
    }
    db->host_shift = n > 0 ? (db->host_shift + step) % n : 0;
    PQconninfoFree(opts);
}

/* A server that cannot take writes: a standby (hot_standby reports itself since PostgreSQL 14)
 * or one forced read-only. */
static bool server_is_read_only(const PGconn *conn)
{
    const char *standby = PQparameterStatus(conn, "in_hot_standby");
    const char *read_only = PQparameterStatus(conn, "default_transaction_read_only");
    return (standby != NULL && strcmp(standby, "on") == 0) ||
           (read_only != NULL && strcmp(read_only, "on") == 0);
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
        if (server_is_read_only(db->conn)) {
            /* Without target_session_attrs=read-write libpq takes the first server that
             * answers; a standby would fail every submission. Drop it and try the next host. */
            db->cb.event_cb(db->arg, DB_EVENT_STANDBY_REFUSED);
            skip_current_host(db);
            go_down(db, "the server is a standby or read-only");
            return;
        }
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
    /* The conninfo may be a URI or a multi-host list; keepalives and a user timeout notice a
     * silent network once connected. libpq does not time out a non-blocking connect, so the
     * timer bounds each attempt, and the host that was silent goes last the next time. */
    db->conn = start_rotated(db);
    if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
        go_down(db, "could not start connecting");
        return;
    }
    PQsetNoticeProcessor(db->conn, db_notice_cb, NULL);
    db->state = DB_CONNECTING;
    start_timer(db, db->connect_timeout_ms);
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
            /* read_only_sql_transaction: this server became a standby under us. Nothing was
             * written; the connection must go so that the next one finds the primary. */
            if (state != NULL && strcmp(state, "25006") == 0) {
                db->got_read_only = true;
            }
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
    db->got_read_only = false;
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
    if (db->got_read_only) {
        /* Answer first (nothing was committed), then reconnect: go_down owes no callback
         * once the statement is no longer in flight. */
        db->got_read_only = false;
        free(json);
        db->state = DB_IDLE;
        db->cb.event_cb(db->arg, DB_EVENT_STANDBY_REFUSED);
        go_down(db, "the server is read-only now");
        db->cb.result_cb(db->arg, DB_FAILED, NULL);
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
        skip_current_host(db);
        go_down(db, "connect timed out");
        break;
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
                  long connect_timeout_ms, const struct db_callbacks *cb, void *arg)
{
    struct db *db = calloc(1, sizeof *db);
    if (db == NULL) {
        return NULL;
    }
    db->base = base;
    db->conninfo = conninfo ? strdup(conninfo) : NULL;
    db->statement_timeout_ms = statement_timeout_ms;
    db->connect_timeout_ms = connect_timeout_ms;
    db->cb = *cb;
    db->arg = arg;
    db->backoff_ms = BACKOFF_FIRST_MS;
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
