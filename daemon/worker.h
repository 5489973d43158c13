/*
 * A worker: one thread, one event loop, its own SO_REUSEPORT listener, its own database
 * connection and batcher, and the connections it accepted. Nothing on a worker's request path
 * is shared with another worker except read-only snapshots and atomic counters.
 */
#ifndef SURVEYD_WORKER_H
#define SURVEYD_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "httpparse.h"

struct config;
struct tls;
struct waves;
struct metrics;
struct conn;
struct batcher;
struct ratelimit;
struct db;
struct event_base;
struct event;
struct evconnlistener;

struct server {
    const struct config *cfg;
    struct tls *tls;
    struct worker *workers;
    size_t n_workers;
    struct metrics *metrics; /* the main thread's counters (control connection, failovers) */
};

struct worker {
    int index;
    struct server *srv;
    pthread_t thread;
    struct event_base *base;
    struct evconnlistener *listener;
    int listen_fd;
    struct db *db;
    struct batcher *batcher;
    struct ratelimit *ratelimit;
    struct metrics *metrics;            /* this worker's counters; /metrics sums every worker's */
    struct waves *waves;                /* current snapshot, or NULL until the first load */
    struct httpparse_head scratch_head; /* parsing happens synchronously, one head at a time */

    long n_conns;
    long max_conns;
    bool accept_paused;
    bool draining;      /* SIGTERM: answer what is in flight, accept nothing new */
    struct conn *conns; /* every open connection */
    struct conn *dead;  /* closed, to be freed by the reaper outside their callbacks */
    struct event *reaper;
    struct event *drain_timer;

    /* The mailbox: the main thread posts here and activates `wakeup`. */
    pthread_mutex_t mailbox_lock;
    struct waves *mailbox_waves;
    bool mailbox_shutdown;
    struct event *wakeup;
};

/* Fail (logged) when the address cannot be bound or another process already listens there. */
int worker_check_address(const char *address) __attribute__((warn_unused_result));

/* Set up a worker (event base, listener socket, database connection); -1 on failure, logged. */
int worker_init(struct worker *w, struct server *srv, int index)
    __attribute__((warn_unused_result));

/* Start its thread. */
int worker_start(struct worker *w) __attribute__((warn_unused_result));

/* From any thread: hand over a new wave snapshot (the worker takes the reference). */
void worker_post_waves(struct worker *w, struct waves *waves);

/* From any thread: begin a graceful shutdown. */
void worker_post_shutdown(struct worker *w);

/* Free everything of a worker whose thread has ended (or never started); safe after a failed
 * worker_init. */
void worker_free(struct worker *w);

/* Called by conn.c when a connection closes: counts it and resumes accepting below the cap. */
void worker_conn_closed(struct worker *w);

/* True while the worker's database connection is usable (connected to a server that takes
 * writes: a standby is dropped, so this is false while no writable primary is reachable) and
 * waves are loaded. */
bool worker_ready(const struct worker *w);

/* When draining and nothing is left in flight, stop the loop. */
void worker_check_drained(struct worker *w);

#endif
