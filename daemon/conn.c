/*
 * Client connections. Each one moves through enum conn_state, and conn_drive() is the one place
 * that decides what happens next. Every state that waits on the client has a deadline, so a
 * slow or silent client cannot hold a socket; a closed connection is freed by the worker's
 * reaper, never inside its own callbacks.
 */
#include "conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "batch.h"
#include "config.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "worker.h"

enum conn_state {
    CONN_HANDSHAKE, /* TLS handshake under way; deadline: handshake timeout */
    CONN_IDLE,      /* between requests, no byte of the next one; deadline: idle timeout */
    CONN_HEAD,      /* part of a request head; deadline: header timeout from its first byte */
    CONN_BODY,      /* head parsed, body incomplete; deadline: body timeout from the head */
    CONN_HANDLING,  /* answered later by the batcher; not reading; no deadline of ours */
    CONN_WRITING,   /* response queued, keep-alive: back to IDLE once it has drained */
    CONN_CLOSING,   /* last response queued: close once it has drained (or on deadline) */
    CONN_LINGER,    /* answered and done: discard what the client still sends, briefly, so the
                       answer is not lost to a reset (RFC 9112 9.6) */
    CONN_DEAD,      /* closed; on the worker's dead list until the reaper frees it */
};

struct conn {
    struct worker *w;
    struct bufferevent *bev;
    struct event *deadline;
    enum conn_state state;
    int route;       /* metrics route of the current request */
    bool keep_alive; /* of the current request */
    bool head_only;  /* the current request is HEAD: no body in the answer */
    size_t head_len; /* of the current request, once parsed */
    size_t body_len;
    struct pending *pending; /* while HANDLING */
    struct sockaddr_storage peer;
    struct conn *prev, *next; /* w->conns, or w->dead once DEAD */
};

static void conn_drive(struct conn *c);

static void set_deadline(struct conn *c, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->deadline, &tv);
}

static void unlink_conn(struct conn **list, struct conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        *list = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void push_conn(struct conn **list, struct conn *c)
{
    c->next = *list;
    c->prev = NULL;
    if (*list != NULL) {
        (*list)->prev = c;
    }
    *list = c;
}

/* Close now: stop every callback and leave the freeing to the reaper. */
static void conn_close(struct conn *c)
{
    if (c->state == CONN_DEAD) {
        return;
    }
    struct worker *w = c->w;
    if (c->pending != NULL) {
        batch_orphan(c->pending);
        c->pending = NULL;
    }
    c->state = CONN_DEAD;
    evtimer_del(c->deadline);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    unlink_conn(&w->conns, c);
    push_conn(&w->dead, c);
    event_active(w->reaper, 0, 0);
}

static void free_conn(struct conn *c)
{
    struct worker *w = c->w;
    bufferevent_free(c->bev);
    event_free(c->deadline);
    free(c);
    metrics_conn_closed(w->metrics);
    worker_conn_closed(w);
}

void conn_reap(struct worker *w)
{
    while (w->dead != NULL) {
        struct conn *c = w->dead;
        unlink_conn(&w->dead, c);
        free_conn(c);
    }
    worker_check_drained(w);
}

void conn_free_all(struct worker *w)
{
    while (w->conns != NULL) {
        conn_close(w->conns);
    }
    while (w->dead != NULL) {
        struct conn *c = w->dead;
        unlink_conn(&w->dead, c);
        free_conn(c);
    }
}

void conn_close_idle(struct worker *w)
{
    struct conn *c = w->conns;
    while (c != NULL) {
        struct conn *next = c->next;
        /* A request that has begun to arrive is read to its end and answered (the head and
         * body deadlines and --shutdown-timeout-ms bound a slow one); what is idle goes now. */
        bool idle =
            c->state == CONN_IDLE && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
        if (c->state == CONN_HANDSHAKE || c->state == CONN_LINGER || idle) {
            conn_close(c);
        }
        c = next;
    }
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void conn_respond(struct conn *c, const struct response *r)
{
    if (c->state == CONN_DEAD) {
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool close = r->close || !c->keep_alive || c->w->draining;
    /* Every response carries the same safety headers, whatever produced it. */
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: %s\r\n"
                        "Content-Length: %zu\r\n"
                        "Strict-Transport-Security: max-age=63072000\r\n"
                        "X-Content-Type-Options: nosniff\r\n"
                        "Cache-Control: %s\r\n"
                        "%s"
                        "%s"
                        "\r\n",
                        r->status, reason_phrase(r->status),
                        r->content_type ? r->content_type : "text/plain; charset=utf-8",
                        r->body_len, r->cache_control ? r->cache_control : "no-store",
                        r->headers ? r->headers : "", close ? "Connection: close\r\n" : "");
    /* HEAD and 304 answers describe a body without sending it (RFC 9110 9.3.2, 15.4.5). */
    if (!c->head_only && r->status != 304 && r->body_len > 0) {
        if (r->body_static) {
            evbuffer_add_reference(out, r->body, r->body_len, NULL, NULL);
        } else {
            evbuffer_add(out, r->body, r->body_len);
        }
    }
    metrics_request(c->w->metrics, c->route, r->status);
    c->pending = NULL;
    c->state = close ? CONN_CLOSING : CONN_WRITING;
    evtimer_del(c->deadline);
    /* A client that does not read its answer is dropped after the idle timeout. */
    set_deadline(c, c->w->srv->cfg->idle_timeout_ms);
    bufferevent_enable(c->bev, EV_WRITE);
    if (close) {
        bufferevent_disable(c->bev, EV_READ);
    }
}

void conn_defer(struct conn *c, struct pending *p)
{
    c->pending = p;
    c->state = CONN_HANDLING;
    evtimer_del(c->deadline);
    bufferevent_disable(c->bev, EV_READ);
}

struct worker *conn_worker(const struct conn *c)
{
    return c->w;
}

void conn_set_route(struct conn *c, int route)
{
    c->route = route;
}

static void respond_framing_error(struct conn *c, int status, const char *reason)
{
    log_event(LOG_INFO, "request rejected", "status", status == 408 ? "408" : "4xx", "reason",
              reason, NULL);
    c->keep_alive = false;
    handlers_framing_error(c, status);
}

/* Split the target into path and query. */
static void dispatch(struct conn *c, const struct httpparse_head *head, const char *body)
{
    struct request req = {0};
    req.conn = c;
    req.worker = c->w;
    req.method = head->method;
    req.path = head->target;
    req.path_len = head->target_len;
    const char *q = memchr(head->target, '?', head->target_len);
    if (q != NULL) {
        req.path_len = (size_t)(q - head->target);
        req.query = q + 1;
        req.query_len = head->target_len - req.path_len - 1;
    }
    req.head = head;
    req.body = body;
    req.body_len = c->body_len;
    req.peer = &c->peer;
    c->route = METRICS_ROUTE_OTHER;
    handlers_dispatch(&req);
}

static void drive_head(struct conn *c)
{
    const struct config *cfg = c->w->srv->cfg;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        if (c->state != CONN_IDLE) {
            c->state = CONN_IDLE;
            set_deadline(c, cfg->idle_timeout_ms);
        }
        return;
    }
    if (c->state == CONN_IDLE) {
        c->state = CONN_HEAD;
        set_deadline(c, cfg->header_timeout_ms);
    }
    size_t max_head = (size_t)cfg->max_header_bytes;
    size_t look = len > max_head + 1 ? max_head + 1 : len;
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    struct httpparse_head *head = &c->w->scratch_head;
    size_t head_len = 0;
    int status;
    const char *reason;
    enum httpparse_result r =
        httpparse_head(buf, look, max_head, head, &head_len, &status, &reason);
    if (r == HTTPPARSE_INCOMPLETE) {
        return;
    }
    if (r == HTTPPARSE_ERROR) {
        c->head_only = false;
        respond_framing_error(c, status, reason);
        return;
    }
    c->head_len = head_len;
    c->keep_alive = head->keep_alive;
    c->head_only = head->method == HTTP_METHOD_HEAD;
    c->body_len = head->has_content_length ? (size_t)head->content_length : 0;
    if (head->method == HTTP_METHOD_POST && !head->has_content_length) {
        respond_framing_error(c, 411, "POST without Content-Length");
        return;
    }
    if (head->has_content_length && head->content_length > (uint64_t)cfg->max_body_bytes) {
        /* Refuse before reading a byte of it, and close: the body is still on its way. */
        respond_framing_error(c, 413, "body too large");
        return;
    }
    c->state = CONN_BODY;
    set_deadline(c, cfg->body_timeout_ms);
    if (head->expect_continue && len < head_len + c->body_len) {
        evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
}

static void drive_body(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t total = c->head_len + c->body_len;
    if (evbuffer_get_length(in) < total) {
        return;
    }
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)total);
    /* Parse the head again in place: the scratch head may have been reused meanwhile. */
    struct httpparse_head *head = &c->w->scratch_head;
    size_t head_len;
    int status;
    const char *reason;
    if (httpparse_head(buf, c->head_len, c->head_len, head, &head_len, &status, &reason) !=
        HTTPPARSE_DONE) {
        respond_framing_error(c, 400, "request head changed");
        return;
    }
    c->state = CONN_HANDLING; /* until the handler answers, now or later */
    evtimer_del(c->deadline);
    dispatch(c, head, buf + c->head_len);
    if (c->state != CONN_DEAD) {
        evbuffer_drain(in, total);
    }
}

/* The one function that moves a connection on. */
static void conn_drive(struct conn *c)
{
    for (;;) {
        enum conn_state before = c->state;
        switch (c->state) {
        case CONN_IDLE:
        case CONN_HEAD:
            /* Draining: an idle keep-alive connection closes, but a request already
             * (partly) received, pipelined or not, is still read and answered. */
            if (c->w->draining && c->state == CONN_IDLE &&
                evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
                conn_close(c);
                return;
            }
            drive_head(c);
            break;
        case CONN_BODY:
            drive_body(c);
            break;
        case CONN_HANDSHAKE:
        case CONN_HANDLING:
        case CONN_WRITING:
        case CONN_CLOSING:
        case CONN_LINGER:
        case CONN_DEAD:
            return;
        }
        if (c->state == before) {
            return;
        }
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->state == CONN_LINGER) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    conn_drive(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
        return;
    }
    if (c->state == CONN_CLOSING) {
        if (c->w->draining) {
            conn_close(c);
            worker_check_drained(c->w);
            return;
        }
        /* Close in stages (RFC 9112 9.6): close_notify and a half-close now, then read and
         * discard until the client closes, so the answer is not lost to a reset. */
        c->state = CONN_LINGER;
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl != NULL) {
            SSL_shutdown(ssl);
        }
        shutdown(bufferevent_getfd(c->bev), SHUT_WR);
        evtimer_del(c->deadline);
        set_deadline(c, 2000);
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        bufferevent_enable(c->bev, EV_READ);
        return;
    }
    if (c->state == CONN_WRITING) {
        c->state = CONN_IDLE;
        evtimer_del(c->deadline);
        set_deadline(c, c->w->srv->cfg->idle_timeout_ms);
        bufferevent_enable(c->bev, EV_READ);
        conn_drive(c);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        c->state = CONN_IDLE;
        evtimer_del(c->deadline);
        set_deadline(c, c->w->srv->cfg->idle_timeout_ms);
        conn_drive(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        conn_close(c);
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    switch (c->state) {
    case CONN_HEAD:
    case CONN_BODY:
        /* Tell an honest slow client why; a slowloris gets the same and the door. */
        c->head_only = false;
        respond_framing_error(c, 408, "request not received in time");
        break;
    case CONN_HANDSHAKE:
    case CONN_IDLE:
    case CONN_WRITING:
    case CONN_CLOSING:
    case CONN_LINGER:
        conn_close(c);
        break;
    case CONN_HANDLING:
    case CONN_DEAD:
        break;
    }
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *addr, int addrlen)
{
    const struct config *cfg = w->srv->cfg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = tls_new_session(w->srv->tls);
    struct conn *c = calloc(1, sizeof *c);
    if (ssl == NULL || c == NULL) {
        /* Never fall back to plaintext: no TLS object, no connection. */
        log_event(LOG_ERROR, "could not set up a connection; dropped", NULL);
        SSL_free(ssl);
        free(c);
        close(fd);
        return;
    }
    c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    c->deadline = evtimer_new(w->base, deadline_cb, c);
    if (c->bev == NULL || c->deadline == NULL) {
        log_event(LOG_ERROR, "could not set up a connection; dropped", NULL);
        if (c->bev != NULL) {
            bufferevent_free(c->bev); /* frees ssl and closes fd */
        } else {
            SSL_free(ssl);
            close(fd);
        }
        if (c->deadline != NULL) {
            event_free(c->deadline);
        }
        free(c);
        return;
    }
    c->w = w;
    c->state = CONN_HANDSHAKE;
    if (addrlen > 0 && (size_t)addrlen <= sizeof c->peer) {
        memcpy(&c->peer, addr, (size_t)addrlen);
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    /* Bound what one connection may buffer: a head and a body, nothing more. */
    bufferevent_setwatermark(c->bev, EV_READ, 0,
                             (size_t)(cfg->max_header_bytes + cfg->max_body_bytes + 1));
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    set_deadline(c, cfg->handshake_timeout_ms);
    push_conn(&w->conns, c);
    w->n_conns++;
    metrics_conn_opened(w->metrics);
}
