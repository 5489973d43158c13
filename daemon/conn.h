/*
 * One client connection: TLS through bufferevent_openssl, HTTP/1.1 keep-alive, strict framing,
 * deadlines per state. A connection's life is the enum conn_state, driven by conn_drive().
 */
#ifndef SURVEYD_CONN_H
#define SURVEYD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "httpparse.h"

struct worker;
struct conn;
struct pending;

struct response {
    int status;
    const char *content_type; /* with its charset, e.g. "application/problem+json; charset=utf-8" */
    const char *body;
    size_t body_len;
    const char *headers;       /* extra header lines, each ending in "\r\n", or NULL */
    const char *cache_control; /* Cache-Control value; NULL: "no-store" */
    bool body_static;          /* body outlives the connection (embedded): sent without a copy */
    bool close;                /* close the connection after this response */
};

/* What a handler sees of one request; pointers are valid during dispatch only. */
struct request {
    struct conn *conn;
    struct worker *worker;
    enum httpparse_method method;
    const char *path;
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    const struct httpparse_head *head;
    const char *body;
    size_t body_len;
    const struct sockaddr_storage *peer;
};

/* Take over an accepted socket: start the TLS handshake. On failure the socket is closed. */
void conn_accept(struct worker *w, int fd, const struct sockaddr *addr, int addrlen);

/* Answer the current request. Exactly once per request, now or later (after conn_defer). A 304
 * carries body_len as its Content-Length (the length of the representation) but no body. */
void conn_respond(struct conn *c, const struct response *r);

/* The request will be answered later; p is told if the connection goes away meanwhile. */
void conn_defer(struct conn *c, struct pending *p);

/* The worker that owns the connection. */
struct worker *conn_worker(const struct conn *c);

/* The route the current request matched, for the metrics (see metrics.h). */
void conn_set_route(struct conn *c, int route);

/* Close every connection that is not waiting for an answer (graceful shutdown). */
void conn_close_idle(struct worker *w);

/* Free the connections closed since the last call (the worker's reaper). */
void conn_reap(struct worker *w);

/* Free every connection of a worker that is shutting down. */
void conn_free_all(struct worker *w);

#endif
