/*
 * Group commit. Validated submissions queue here; while the worker's one statement is in
 * flight the queue grows (bounded), and the next statement carries all of it (bounded by
 * --batch-max). Every submission is answered exactly once: from the statement's result, or 503
 * when the outcome is unknown or the database is down.
 */
#ifndef SURVEYD_BATCH_H
#define SURVEYD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
struct conn;
struct batcher;

/* One submission waiting for the database. */
struct pending {
    struct conn *conn; /* NULL once the client has gone: nobody to answer */
    struct pending *next;
    char *item; /* its element of the batch's JSON array */
    size_t item_len;
    uint64_t enqueued_ns;
};

struct batcher *batch_new(struct worker *w) __attribute__((warn_unused_result));

/*
 * Queue a submission (item is taken over) for the connection c; the connection is deferred
 * and will be answered by the batcher. Returns -1, taking nothing, when the queue is full or
 * the database is down: the caller answers 503 itself.
 */
int batch_enqueue(struct batcher *b, struct conn *c, char *item, size_t item_len)
    __attribute__((warn_unused_result));

/* The connection of p went away. */
void batch_orphan(struct pending *p);

/* The database connection became usable: send what is queued. */
void batch_db_ready(struct batcher *b);

/* The result of the statement in flight (see db.h). */
void batch_db_result(struct batcher *b, int outcome, const char *json);

/* Submissions queued or in flight. */
size_t batch_depth(const struct batcher *b);

void batch_free(struct batcher *b);

#endif
