/*
 * surveyd: reads its configuration, starts one worker per thread, and then keeps the main
 * thread for what is not on the request path: signals (SIGTERM/SIGINT drain and exit,
 * SIGHUP reloads the certificate) and the control connection that keeps wave state current.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config.h"
#include "dbcontrol.h"
#include "log.h"
#include "metrics.h"
#include "migrations.h"
#include "tls.h"
#include "waves.h"
#include "worker.h"

struct control {
    struct server *srv;
    struct event_base *base;
    struct dbcontrol *ctl;
    struct event *io;    /* notifications on the control connection */
    struct event *retry; /* reconnect backoff */
    long backoff_ms;
    int exit_code;
    char last_identity[320]; /* the server of the last control connection, "" before the first */
};

static void schedule_connect(struct control *c);

/* Read every wave and hand the snapshot to each worker. */
static int publish_waves(struct control *c)
{
    struct waves *waves = dbcontrol_load_waves(c->ctl);
    if (waves == NULL) {
        return -1;
    }
    char count[24];
    snprintf(count, sizeof count, "%zu", waves_count(waves));
    log_event(LOG_INFO, "waves loaded", "count", count, NULL);
    for (size_t i = 0; i < c->srv->n_workers; i++) {
        waves_ref(waves);
        worker_post_waves(&c->srv->workers[i], waves);
    }
    waves_unref(waves);
    return 0;
}

static void lost_control(struct control *c, const char *why);

/* Reload the waves, then again while notifications keep coming: one that arrived with the
 * reload's own results is already in libpq's buffer, where the socket event cannot see it. */
static void reload_until_quiet(struct control *c)
{
    int rc;
    do {
        if (publish_waves(c) != 0) {
            lost_control(c, "could not reload waves");
            return;
        }
        rc = dbcontrol_consume(c->ctl);
    } while (rc > 0);
    if (rc < 0) {
        lost_control(c, "connection closed");
    }
}

static void lost_control(struct control *c, const char *why)
{
    log_event(LOG_WARNING, "control connection lost", "why", why, NULL);
    if (c->io != NULL) {
        event_free(c->io);
        c->io = NULL;
    }
    dbcontrol_free(c->ctl);
    c->ctl = NULL;
    schedule_connect(c);
}

static void control_io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct control *c = arg;
    (void)fd;
    (void)what;
    int rc = dbcontrol_consume(c->ctl);
    if (rc < 0) {
        lost_control(c, "connection closed");
        return;
    }
    if (rc > 0) {
        reload_until_quiet(c);
    }
}

static void shutdown_all(struct control *c, int code)
{
    c->exit_code = code;
    for (size_t i = 0; i < c->srv->n_workers; i++) {
        worker_post_shutdown(&c->srv->workers[i]);
    }
    event_base_loopexit(c->base, NULL);
}

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
    struct control *c = arg;
    (void)fd;
    (void)what;
    bool standby = false;
    /* The control connection holds a LISTEN for the process's lifetime, which a transaction
     * pooler cannot carry: --control-db lets it go straight to PostgreSQL. */
    const char *conninfo = c->srv->cfg->control_db ? c->srv->cfg->control_db : c->srv->cfg->db;
    c->ctl = dbcontrol_connect(conninfo, c->srv->cfg->db_connect_timeout_ms, &standby);
    if (c->ctl == NULL) {
        if (standby) {
            metrics_db_standby_refused(c->srv->metrics);
        }
        schedule_connect(c);
        return;
    }
    /* A reconnect: count it, and a failover when the primary is now another server (or the same
     * one on a new timeline). Either way the wave state is read again below, so a wave closed
     * while we were away is seen even though its notification went to a server we had left. */
    const char *identity = dbcontrol_identity(c->ctl);
    if (c->last_identity[0] != '\0') {
        metrics_db_reconnect(c->srv->metrics);
        if (strcmp(identity, c->last_identity) != 0) {
            metrics_db_failover(c->srv->metrics);
            log_event(LOG_WARNING, "database failover: the primary is another server now", "from",
                      c->last_identity, "to", identity, NULL);
        }
    }
    snprintf(c->last_identity, sizeof c->last_identity, "%s", identity);
    int version = dbcontrol_schema_version(c->ctl);
    int want = migrations_latest_version();
    if (version >= 0 && version != want) {
        char have_s[16], want_s[16];
        snprintf(have_s, sizeof have_s, "%d", version);
        snprintf(want_s, sizeof want_s, "%d", want);
        log_event(LOG_ERROR,
                  version < want ? "database schema is older than this surveyd; run "
                                   "survey-admin migrate"
                                 : "database schema is newer than this surveyd; upgrade surveyd",
                  "schema_version", have_s, "expected", want_s, NULL);
        shutdown_all(c, 1);
        return;
    }
    /* LISTEN before reading, so no change between the two is missed. */
    if (version < 0 || dbcontrol_listen(c->ctl) != 0) {
        lost_control(c, "could not set up");
        return;
    }
    reload_until_quiet(c);
    if (c->ctl == NULL) {
        return;
    }
    c->backoff_ms = 100;
    c->io = event_new(c->base, dbcontrol_socket(c->ctl), EV_READ | EV_PERSIST, control_io_cb, c);
    if (c->io == NULL || event_add(c->io, NULL) != 0) {
        lost_control(c, "no memory");
    }
}

static void schedule_connect(struct control *c)
{
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->retry, &tv);
    /* Capped at 1 s like the workers': a failover is over within seconds. */
    c->backoff_ms = c->backoff_ms * 2 > 1000 ? 1000 : c->backoff_ms * 2;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct control *c = arg;
    (void)what;
    if (sig == SIGHUP) {
        if (tls_reload(c->srv->tls) == 0) {
            log_event(LOG_INFO, "certificate reloaded", NULL);
        }
        return;
    }
    log_event(LOG_INFO, "shutting down: answering what is in flight", NULL);
    shutdown_all(c, 0);
}

int main(int argc, char **argv)
{
    struct config cfg;
    int rc = config_load(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? 0 : 2;
    }
    int level = log_parse_level(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "surveyd: --log-level must be debug, info, warning or error\n");
        config_free(&cfg);
        return 2;
    }
    log_set_level((enum log_level)level);
    if (cfg.db == NULL && getenv("DATABASE_URL") != NULL) {
        cfg.db = strdup(getenv("DATABASE_URL"));
    }
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "surveyd: could not enable libevent threading\n");
        return 1;
    }

    struct server srv = {.cfg = &cfg};
    srv.tls = tls_new(cfg.cert_file, cfg.key_file);
    srv.workers = calloc((size_t)cfg.threads, sizeof *srv.workers);
    srv.metrics = metrics_new();
    if (srv.tls == NULL || srv.workers == NULL || srv.metrics == NULL) {
        metrics_free(srv.metrics);
        free(srv.workers);
        tls_free(srv.tls);
        config_free(&cfg);
        return 1;
    }
    int exit_code = 1;
    size_t started = 0;
    if (worker_check_address(cfg.listen) != 0) {
        goto out;
    }
    for (long i = 0; i < cfg.threads; i++) {
        srv.n_workers++;
        if (worker_init(&srv.workers[i], &srv, (int)i + 1) != 0) {
            goto out;
        }
    }

    struct control c = {.srv = &srv, .backoff_ms = 100};
    c.base = event_base_new();
    c.retry = c.base ? evtimer_new(c.base, connect_cb, &c) : NULL;
    struct event *sigs[3] = {NULL, NULL, NULL};
    const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3 && c.base != NULL; i++) {
        sigs[i] = evsignal_new(c.base, signos[i], signal_cb, &c);
        if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0) {
            goto out_control;
        }
    }
    if (c.retry == NULL) {
        goto out_control;
    }
    for (; started < srv.n_workers; started++) {
        if (worker_start(&srv.workers[started]) != 0) {
            goto out_control;
        }
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%ld", cfg.threads);
    log_event(LOG_INFO, "listening", "address", cfg.listen, "threads", threads, NULL);
    /* Connect at once; a database that is not there yet is retried with backoff. */
    event_active(c.retry, EV_TIMEOUT, 0);
    event_base_dispatch(c.base);
    exit_code = c.exit_code;

out_control:
    if (started < srv.n_workers) {
        /* Not every worker runs: stop those that do. */
        for (size_t i = 0; i < started; i++) {
            worker_post_shutdown(&srv.workers[i]);
        }
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(srv.workers[i].thread, NULL);
        srv.workers[i].thread = 0;
    }
    for (int i = 0; i < 3; i++) {
        if (sigs[i] != NULL) {
            event_free(sigs[i]);
        }
    }
    if (c.io != NULL) {
        event_free(c.io);
    }
    if (c.retry != NULL) {
        event_free(c.retry);
    }
    dbcontrol_free(c.ctl);
    if (c.base != NULL) {
        event_base_free(c.base);
    }
out:
    for (size_t i = 0; i < srv.n_workers; i++) {
        worker_free(&srv.workers[i]);
    }
    free(srv.workers);
    metrics_free(srv.metrics);
    tls_free(srv.tls);
    log_event(LOG_INFO, "stopped", NULL);
    config_free(&cfg);
    return exit_code;
}
