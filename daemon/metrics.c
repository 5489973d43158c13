/*
 * Metrics storage and rendering. Writes are relaxed atomic adds on the owning worker's struct;
 * a scrape from any worker reads them all. Histograms are cumulative at render time.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

static const int statuses[] = {200, 201, 304, 400, 401, 404, 405, 408, 409, 410, 411,
                               413, 414, 415, 417, 422, 429, 431, 500, 501, 503, 505};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

static const char *const route_names[METRICS_N_ROUTES] = {
    "questionnaire", "responses", "healthz", "readyz", "metrics", "static", "other"};

static const char *const outcome_names[METRICS_N_OUTCOMES] = {
    "accepted",   "replayed",      "invalid",      "malformed",   "conflict",
    "invitation", "wave_not_open", "rate_limited", "unavailable", "internal"};

static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
#define N_BATCH (sizeof batch_bounds / sizeof batch_bounds[0])
static const double latency_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                        0.1,    0.25,  0.5,   1,     2.5,  10};
#define N_LATENCY (sizeof latency_bounds / sizeof latency_bounds[0])

struct histogram {
    atomic_uint_fast64_t buckets[16]; /* per bound, plus +Inf at the end */
    atomic_uint_fast64_t count;
    _Atomic double sum;
};

struct metrics {
    atomic_uint_fast64_t requests[METRICS_N_ROUTES][N_STATUSES + 1]; /* last: other statuses */
    atomic_uint_fast64_t submissions[METRICS_N_OUTCOMES];
    struct histogram batch;
    struct histogram latency;
    atomic_long open_conns;
    atomic_uint_fast64_t queue_depth;
    atomic_uint_fast64_t db_reconnects;
    atomic_uint_fast64_t db_standby_refused;
    atomic_uint_fast64_t db_failovers;
};

struct metrics *metrics_new(void)
{
    return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
    free(m);
}

static void inc(atomic_uint_fast64_t *c, uint64_t by)
{
    atomic_fetch_add_explicit(c, by, memory_order_relaxed);
}

static uint64_t get(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void metrics_request(struct metrics *m, int route, int status)
{
    size_t s = N_STATUSES;
    for (size_t i = 0; i < N_STATUSES; i++) {
        if (statuses[i] == status) {
            s = i;
        }
    }
    if (route < 0 || route >= METRICS_N_ROUTES) {
        route = METRICS_ROUTE_OTHER;
    }
    inc(&m->requests[route][s], 1);
}

void metrics_submission(struct metrics *m, enum metrics_outcome outcome)
{
    inc(&m->submissions[outcome], 1);
}

static void observe(struct histogram *h, const double *bounds, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > bounds[i]) {
        i++;
    }
    inc(&h->buckets[i], 1);
    inc(&h->count, 1);
    /* Only the owning worker writes, so load-add-store is not racing another writer. */
    double sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
    atomic_store_explicit(&h->sum, sum + v, memory_order_relaxed);
}

void metrics_batch_sent(struct metrics *m, size_t size)
{
    observe(&m->batch, batch_bounds, N_BATCH, (double)size);
}

void metrics_commit_latency(struct metrics *m, uint64_t ns)
{
    observe(&m->latency, latency_bounds, N_LATENCY, (double)ns / 1e9);
}

void metrics_conn_opened(struct metrics *m)
{
    atomic_fetch_add_explicit(&m->open_conns, 1, memory_order_relaxed);
}

void metrics_conn_closed(struct metrics *m)
{
    atomic_fetch_sub_explicit(&m->open_conns, 1, memory_order_relaxed);
}

void metrics_set_queue_depth(struct metrics *m, size_t depth)
{
    atomic_store_explicit(&m->queue_depth, depth, memory_order_relaxed);
}

void metrics_db_reconnect(struct metrics *m)
{
    inc(&m->db_reconnects, 1);
}

void metrics_db_standby_refused(struct metrics *m)
{
    inc(&m->db_standby_refused, 1);
}

void metrics_db_failover(struct metrics *m)
{
    inc(&m->db_failovers, 1);
}

struct out {
    char *buf;
    size_t len, cap;
    int failed;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
    for (;;) {
        if (o->failed) {
            return;
        }
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *buf = realloc(o->buf, cap);
        if (buf == NULL) {
            o->failed = 1;
            return;
        }
        o->buf = buf;
        o->cap = cap;
    }
}

static void emit_histogram(struct out *o, const char *name, const char *help,
                           const struct worker *w, size_t nw, size_t offset, const double *bounds,
                           size_t n)
{
    emit(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0, count = 0;
    double sum = 0;
    for (size_t i = 0; i <= n; i++) {
        for (size_t k = 0; k < nw; k++) {
            const struct histogram *h =
                (const struct histogram *)((const char *)w[k].metrics + offset);
            cumulative += get(&h->buckets[i]);
        }
        if (i < n) {
            emit(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cumulative);
        } else {
            emit(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
        }
    }
    for (size_t k = 0; k < nw; k++) {
        const struct histogram *h = (const struct histogram *)((const char *)w[k].metrics + offset);
        count += get(&h->count);
        sum += atomic_load_explicit(&h->sum, memory_order_relaxed);
    }
    emit(o, "%s_sum %.9g\n%s_count %llu\n", name, sum, name, (unsigned long long)count);
}

char *metrics_render(const struct worker *w, size_t nw, size_t *len)
{
    struct out o = {malloc(8192), 0, 8192, 0};
    if (o.buf == NULL) {
        return NULL;
    }
    emit(&o, "# HELP surveyd_http_requests_total HTTP requests answered, by route and status.\n"
             "# TYPE surveyd_http_requests_total counter\n");
    for (int r = 0; r < METRICS_N_ROUTES; r++) {
        for (size_t s = 0; s <= N_STATUSES; s++) {
            uint64_t v = 0;
            for (size_t k = 0; k < nw; k++) {
                v += get(&w[k].metrics->requests[r][s]);
            }
            if (v == 0) {
                continue;
            }
            if (s < N_STATUSES) {
                emit(&o, "surveyd_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                     route_names[r], statuses[s], (unsigned long long)v);
            } else {
                emit(&o, "surveyd_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                     route_names[r], (unsigned long long)v);
            }
        }
    }
    emit(&o, "# HELP surveyd_submissions_total Submissions by outcome.\n"
             "# TYPE surveyd_submissions_total counter\n");
    for (int i = 0; i < METRICS_N_OUTCOMES; i++) {
        uint64_t v = 0;
        for (size_t k = 0; k < nw; k++) {
            v += get(&w[k].metrics->submissions[i]);
        }
        emit(&o, "surveyd_submissions_total{outcome=\"%s\"} %llu\n", outcome_names[i],
             (unsigned long long)v);
    }
    emit_histogram(&o, "surveyd_batch_size", "Submissions per database statement.", w, nw,
                   offsetof(struct metrics, batch), batch_bounds, N_BATCH);
    emit_histogram(&o, "surveyd_commit_seconds", "Time from sending a batch to its result.", w, nw,
                   offsetof(struct metrics, latency), latency_bounds, N_LATENCY);
    long conns = 0;
    uint64_t depth = 0;
    for (size_t k = 0; k < nw; k++) {
        conns += atomic_load_explicit(&w[k].metrics->open_conns, memory_order_relaxed);
        depth += get(&w[k].metrics->queue_depth);
    }
    emit(&o,
         "# HELP surveyd_open_connections Client connections open now.\n"
         "# TYPE surveyd_open_connections gauge\nsurveyd_open_connections %ld\n",
         conns);
    emit(&o,
         "# HELP surveyd_queue_depth Submissions queued or in flight to the database.\n"
         "# TYPE surveyd_queue_depth gauge\nsurveyd_queue_depth %llu\n",
         (unsigned long long)depth);
    uint64_t reconnects = 0, refused = 0;
    for (size_t k = 0; k < nw; k++) {
        reconnects += get(&w[k].metrics->db_reconnects);
        refused += get(&w[k].metrics->db_standby_refused);
    }
    const struct metrics *srv = nw > 0 ? w[0].srv->metrics : NULL;
    emit(&o,
         "# HELP surveyd_db_reconnects_total Database connections usable again after a loss.\n"
         "# TYPE surveyd_db_reconnects_total counter\n"
         "surveyd_db_reconnects_total{connection=\"worker\"} %llu\n"
         "surveyd_db_reconnects_total{connection=\"control\"} %llu\n",
         (unsigned long long)reconnects, (unsigned long long)(srv ? get(&srv->db_reconnects) : 0));
    emit(&o,
         "# HELP surveyd_db_standby_refused_total Connections dropped because the server was a "
         "standby or read-only.\n"
         "# TYPE surveyd_db_standby_refused_total counter\nsurveyd_db_standby_refused_total %llu\n",
         (unsigned long long)(refused + (srv ? get(&srv->db_standby_refused) : 0)));
    emit(&o,
         "# HELP surveyd_db_failovers_total Reconnects that found the primary on another server or "
         "timeline.\n"
         "# TYPE surveyd_db_failovers_total counter\nsurveyd_db_failovers_total %llu\n",
         (unsigned long long)(srv ? get(&srv->db_failovers) : 0));
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
