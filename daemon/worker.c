/*
 * Worker threads: setting one up (its listener socket with SO_REUSEPORT, its event loop, its
 * database connection), running it, the mailbox through which the main thread reaches it, and
 * the graceful drain on SIGTERM.
 */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "batch.h"
#include "config.h"
#include "conn.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "waves.h"

/* A listening socket of our own, so that every worker can bind the same address. With
 * exclusive set, no SO_REUSEPORT: the probe that another process does not hold the port. */
static int open_socket(const char *address, bool exclusive, char *err, size_t errsize)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address || (size_t)(colon - address) >= sizeof host) {
        snprintf(err, errsize, "--listen must be HOST:PORT");
        return -1;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    /* "[::1]:8443" */
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(h[0] ? h : NULL, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errsize, "could not resolve \"%s\": %s", address, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (!exclusive && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errsize, "could not listen on \"%s\": %s", address, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int worker_check_address(const char *address)
{
    char err[256];
    /* SO_REUSEPORT would let a second surveyd (same user) share the port and silently take
     * half the traffic; binding once without it first fails if anyone holds the port. */
    int fd = open_socket(address, true, err, sizeof err);
    if (fd < 0) {
        log_event(LOG_ERROR, err, NULL);
        return -1;
    }
    close(fd);
    return 0;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                      int addrlen, void *arg)
{
    struct worker *w = arg;
    (void)l;
    if (w->draining) {
        close(fd);
        return;
    }
    conn_accept(w, fd, addr, addrlen);
    if (w->n_conns >= w->max_conns && !w->accept_paused) {
        /* libevent has no connection cap of its own: stop accepting until one closes. */
        evconnlistener_disable(w->listener);
        w->accept_paused = true;
        log_event(LOG_WARNING, "connection cap reached; accepting paused", NULL);
    }
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_event(LOG_ERROR, "accept failed", "error", evutil_socket_error_to_string(e), NULL);
}

void worker_conn_closed(struct worker *w)
{
    w->n_conns--;
    if (w->accept_paused && w->n_conns < w->max_conns && !w->draining) {
        evconnlistener_enable(w->listener);
        w->accept_paused = false;
    }
}

bool worker_ready(const struct worker *w)
{
    return w->waves != NULL && db_is_up(w->db);
}

void worker_check_drained(struct worker *w)
{
    metrics_set_queue_depth(w->metrics, batch_depth(w->batcher));
    if (w->draining && w->conns == NULL && w->dead == NULL && batch_depth(w->batcher) == 0) {
        event_base_loopexit(w->base, NULL);
    }
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_reap(arg);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    log_event(LOG_WARNING, "shutdown timeout: dropping what is still open", NULL);
    event_base_loopexit(w->base, NULL);
}

static void start_drain(struct worker *w)
{
    if (w->draining) {
        return;
    }
    w->draining = true;
    log_event(LOG_INFO, "draining: no new connections; answering what has begun", NULL);
    evconnlistener_disable(w->listener);
    conn_close_idle(w);
    struct timeval tv = {w->srv->cfg->shutdown_timeout_ms / 1000,
                         (w->srv->cfg->shutdown_timeout_ms % 1000) * 1000};
    evtimer_add(w->drain_timer, &tv);
    worker_check_drained(w);
}

static void wakeup_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&w->mailbox_lock);
    struct waves *waves = w->mailbox_waves;
    bool shutdown = w->mailbox_shutdown;
    w->mailbox_waves = NULL;
    pthread_mutex_unlock(&w->mailbox_lock);
    if (waves != NULL) {
        struct waves *old = w->waves;
        w->waves = waves;
        waves_unref(old);
        char count[24];
        snprintf(count, sizeof count, "%zu", waves_count(waves));
        log_event(LOG_INFO, "waves installed", "count", count, NULL);
    }
    if (shutdown) {
        start_drain(w);
    }
}

static void db_ready_cb(void *arg)
{
    struct worker *w = arg;
    batch_db_ready(w->batcher);
}

static void db_event_cb(void *arg, enum db_event event)
{
    struct worker *w = arg;
    switch (event) {
    case DB_EVENT_RECONNECTED:
        metrics_db_reconnect(w->metrics);
        break;
    case DB_EVENT_STANDBY_REFUSED:
        metrics_db_standby_refused(w->metrics);
        break;
    }
}

static void db_result_cb(void *arg, enum db_outcome outcome, const char *json)
{
    struct worker *w = arg;
    batch_db_result(w->batcher, (int)outcome, json);
}

int worker_init(struct worker *w, struct server *srv, int index)
{
    const struct config *cfg = srv->cfg;
    char err[256];
    memset(w, 0, sizeof *w);
    w->index = index;
    w->srv = srv;
    w->listen_fd = -1;
    w->max_conns = cfg->max_connections / cfg->threads;
    if (w->max_conns < 1) {
        w->max_conns = 1;
    }
    if (pthread_mutex_init(&w->mailbox_lock, NULL) != 0) {
        return -1;
    }
    w->base = event_base_new();
    w->metrics = metrics_new();
    w->batcher = batch_new(w);
    w->ratelimit = ratelimit_new((double)cfg->rate_per_s / (double)cfg->threads,
                                 (double)cfg->rate_burst / (double)cfg->threads);
    if (w->base == NULL || w->metrics == NULL || w->batcher == NULL || w->ratelimit == NULL) {
        log_event(LOG_ERROR, "out of memory setting up a worker", NULL);
        return -1;
    }
    w->reaper = event_new(w->base, -1, 0, reaper_cb, w);
    w->wakeup = event_new(w->base, -1, EV_PERSIST, wakeup_cb, w);
    w->drain_timer = evtimer_new(w->base, drain_timeout_cb, w);
    if (w->reaper == NULL || w->wakeup == NULL || w->drain_timer == NULL ||
        event_add(w->wakeup, NULL) != 0) {
        return -1;
    }
    w->listen_fd = open_socket(cfg->listen, false, err, sizeof err);
    if (w->listen_fd < 0) {
        log_event(LOG_ERROR, err, NULL);
        return -1;
    }
    w->listener = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, 0, w->listen_fd);
    if (w->listener == NULL) {
        return -1;
    }
    evconnlistener_set_error_cb(w->listener, accept_error_cb);
    struct db_callbacks cb = {db_ready_cb, db_event_cb, db_result_cb};
    w->db = db_new(w->base, cfg->db, cfg->statement_timeout_ms, cfg->db_connect_timeout_ms, &cb, w);
    return w->db != NULL ? 0 : -1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "w%d", w->index);
    log_set_thread_name(name);
    event_base_dispatch(w->base);
    return NULL;
}

int worker_start(struct worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

void worker_post_waves(struct worker *w, struct waves *waves)
{
    pthread_mutex_lock(&w->mailbox_lock);
    struct waves *old = w->mailbox_waves;
    w->mailbox_waves = waves;
    pthread_mutex_unlock(&w->mailbox_lock);
    waves_unref(old);
    event_active(w->wakeup, EV_READ, 0);
}

void worker_post_shutdown(struct worker *w)
{
    pthread_mutex_lock(&w->mailbox_lock);
    w->mailbox_shutdown = true;
    pthread_mutex_unlock(&w->mailbox_lock);
    event_active(w->wakeup, EV_READ, 0);
}

void worker_free(struct worker *w)
{
    if (w->base != NULL) {
        conn_free_all(w);
    }
    batch_free(w->batcher);
    db_free(w->db);
    if (w->listener != NULL) {
        evconnlistener_free(w->listener);
    } else if (w->listen_fd >= 0) {
        close(w->listen_fd);
    }
    if (w->reaper != NULL) {
        event_free(w->reaper);
    }
    if (w->wakeup != NULL) {
        event_free(w->wakeup);
    }
    if (w->drain_timer != NULL) {
        event_free(w->drain_timer);
    }
    if (w->base != NULL) {
        event_base_free(w->base);
    }
    ratelimit_free(w->ratelimit);
    metrics_free(w->metrics);
    waves_unref(w->waves);
    waves_unref(w->mailbox_waves);
    pthread_mutex_destroy(&w->mailbox_lock);
}
