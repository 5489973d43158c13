/*
 * The batcher: a FIFO of pending submissions and the one batch in flight. A batch is the JSON
 * array of its items; the statement's result is an array in the same order.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "conn.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "worker.h"

struct batcher {
    struct worker *w;
    struct pending *head, *tail; /* queued, oldest first */
    size_t n_queued;
    struct pending *inflight; /* the batch being executed, in item order */
    size_t n_inflight;
    uint64_t sent_ns;
    char *buf; /* the batch's JSON text, reused */
    size_t buf_cap;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct batcher *batch_new(struct worker *w)
{
    struct batcher *b = calloc(1, sizeof *b);
    if (b != NULL) {
        b->w = w;
    }
    return b;
}

static void free_pending(struct pending *p)
{
    free(p->item);
    free(p);
}

/* Answer a list of pendings 503 and free them. */
static void fail_list(struct batcher *b, struct pending *list, const char *why)
{
    while (list != NULL) {
        struct pending *next = list->next;
        if (list->conn != NULL) {
            handlers_submission_unavailable(list->conn, why);
        }
        free_pending(list);
        list = next;
    }
    worker_check_drained(b->w);
}

static void fail_queue(struct batcher *b, const char *why)
{
    struct pending *list = b->head;
    b->head = b->tail = NULL;
    b->n_queued = 0;
    fail_list(b, list, why);
}

static int reserve(struct batcher *b, size_t need)
{
    if (need <= b->buf_cap) {
        return 0;
    }
    size_t cap = b->buf_cap ? b->buf_cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    char *buf = realloc(b->buf, cap);
    if (buf == NULL) {
        return -1;
    }
    b->buf = buf;
    b->buf_cap = cap;
    return 0;
}

/* Send the next batch when the connection is idle and something is queued. */
static void flush(struct batcher *b)
{
    struct worker *w = b->w;
    if (b->inflight != NULL || b->head == NULL || !db_is_idle(w->db)) {
        return;
    }
    size_t max = (size_t)w->srv->cfg->batch_max;
    struct pending *first = b->head, *last = NULL, *p = b->head;
    size_t n = 0, len = 2;
    while (p != NULL && n < max) {
        len += p->item_len + 1;
        last = p;
        p = p->next;
        n++;
    }
    b->head = p;
    if (p == NULL) {
        b->tail = NULL;
    }
    b->n_queued -= n;
    last->next = NULL;
    if (reserve(b, len + 1) < 0) {
        fail_list(b, first, "no memory for a batch");
        return;
    }
    size_t at = 0;
    b->buf[at++] = '[';
    for (p = first; p != NULL; p = p->next) {
        if (p != first) {
            b->buf[at++] = ',';
        }
        memcpy(b->buf + at, p->item, p->item_len);
        at += p->item_len;
    }
    b->buf[at++] = ']';
    b->buf[at] = '\0';
    b->inflight = first;
    b->n_inflight = n;
    b->sent_ns = now_ns();
    if (db_submit(w->db, b->buf) != 0) {
        b->inflight = NULL;
        b->n_inflight = 0;
        fail_list(b, first, "database unavailable");
        fail_queue(b, "database unavailable");
        return;
    }
    metrics_batch_sent(w->metrics, n);
}

int batch_enqueue(struct batcher *b, struct conn *c, char *item, size_t item_len)
{
    struct worker *w = b->w;
    if (!db_is_up(w->db) || b->n_queued >= (size_t)w->srv->cfg->queue_max) {
        return -1;
    }
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return -1;
    }
    p->conn = c;
    p->item = item;
    p->item_len = item_len;
    p->enqueued_ns = now_ns();
    if (b->tail != NULL) {
        b->tail->next = p;
    } else {
        b->head = p;
    }
    b->tail = p;
    b->n_queued++;
    conn_defer(c, p);
    flush(b);
    metrics_set_queue_depth(w->metrics, batch_depth(b));
    return 0;
}

void batch_orphan(struct pending *p)
{
    p->conn = NULL;
}

void batch_db_ready(struct batcher *b)
{
    flush(b);
}

void batch_db_result(struct batcher *b, int outcome, const char *json)
{
    struct pending *list = b->inflight;
    size_t n = b->n_inflight;
    b->inflight = NULL;
    b->n_inflight = 0;
    metrics_commit_latency(b->w->metrics, now_ns() - b->sent_ns);

    cJSON *results = outcome == DB_OK && json != NULL ? cJSON_Parse(json) : NULL;
    if (outcome == DB_OK && (!cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != n)) {
        log_event(LOG_ERROR, "submission statement returned an unexpected result", NULL);
        cJSON_Delete(results);
        results = NULL;
        outcome = DB_FAILED;
    }
    if (results == NULL) {
        /* Unknown: the client retries with the same submission_id and gets the stored row. */
        fail_list(b, list, outcome == DB_UNKNOWN ? "outcome unknown" : "statement failed");
        if (!db_is_up(b->w->db)) {
            fail_queue(b, "database unavailable");
        }
        flush(b);
        return;
    }
    const cJSON *r = results->child;
    while (list != NULL) {
        struct pending *next = list->next;
        if (list->conn != NULL) {
            handlers_submission_result(list->conn, r);
        }
        free_pending(list);
        list = next;
        r = r->next;
    }
    cJSON_Delete(results);
    flush(b);
    worker_check_drained(b->w);
}

size_t batch_depth(const struct batcher *b)
{
    return b->n_queued + b->n_inflight;
}

void batch_free(struct batcher *b)
{
    if (b == NULL) {
        return;
    }
    struct pending *lists[2] = {b->head, b->inflight};
    for (int i = 0; i < 2; i++) {
        while (lists[i] != NULL) {
            struct pending *next = lists[i]->next;
            free_pending(lists[i]);
            lists[i] = next;
        }
    }
    free(b->buf);
    free(b);
}
