/*
 * Counters for /metrics (Prometheus text format). Each worker owns one struct metrics and is
 * its only writer; the scrape sums every worker's with relaxed atomic loads.
 */
#ifndef SURVEYD_METRICS_H
#define SURVEYD_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_route {
    METRICS_ROUTE_QUESTIONNAIRE,
    METRICS_ROUTE_RESPONSES,
    METRICS_ROUTE_HEALTHZ,
    METRICS_ROUTE_READYZ,
    METRICS_ROUTE_METRICS,
    METRICS_ROUTE_STATIC,
    METRICS_ROUTE_OTHER,
    METRICS_N_ROUTES
};

/* Why a submission was not stored (or that it was). */
enum metrics_outcome {
    METRICS_ACCEPTED,      /* 201 */
    METRICS_REPLAYED,      /* 200 */
    METRICS_INVALID,       /* 422 */
    METRICS_MALFORMED,     /* 400, 413, 415 */
    METRICS_CONFLICT,      /* 409 submission_conflict */
    METRICS_INVITATION,    /* 401, 409 invitation_used */
    METRICS_WAVE_NOT_OPEN, /* 404, 409, 410 */
    METRICS_RATE_LIMITED,  /* 429 */
    METRICS_UNAVAILABLE,   /* 503 */
    METRICS_INTERNAL,      /* 500 */
    METRICS_N_OUTCOMES
};

struct metrics;
struct worker;

struct metrics *metrics_new(void) __attribute__((warn_unused_result));
void metrics_free(struct metrics *m);

void metrics_request(struct metrics *m, int route, int status);
void metrics_submission(struct metrics *m, enum metrics_outcome outcome);
void metrics_batch_sent(struct metrics *m, size_t size);
void metrics_commit_latency(struct metrics *m, uint64_t ns);
void metrics_conn_opened(struct metrics *m);
void metrics_conn_closed(struct metrics *m);
void metrics_set_queue_depth(struct metrics *m, size_t depth);

/* Database connections: a worker's (or the control connection's, in the server's own struct
 * metrics) connection usable again after a loss; a server dropped for being a standby or
 * read-only; a reconnect of the control connection that found the primary on another server or
 * timeline (a failover). */
void metrics_db_reconnect(struct metrics *m);
void metrics_db_standby_refused(struct metrics *m);
void metrics_db_failover(struct metrics *m);

/* Render every worker's counters, summed, and the server's own (workers[0].srv->metrics, written
 * by the main thread) into a malloc'd text; NULL on no memory. */
char *metrics_render(const struct worker *workers, size_t n_workers, size_t *len);

#endif
