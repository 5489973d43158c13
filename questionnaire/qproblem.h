/*
 * A bounded list of problems: {path, code, message}. Problems in a definition or in a
 * respondent's answers are data, never error returns; this list carries them to the caller.
 */
#ifndef SURVEY_QPROBLEM_H
#define SURVEY_QPROBLEM_H

#include <stddef.h>

struct qproblem {
    char *path;       /* JSON pointer, e.g. "/answers/caio" or "/questions/3/options/1/code" */
    const char *code; /* stable code, a static string, e.g. "not_an_option" */
    char *message;    /* English sentence built from the definition, never from input */
};

struct qproblems {
    struct qproblem *items;
    size_t count;
    size_t cap;
    size_t max;    /* bound set at init; adding beyond it sets truncated */
    int truncated; /* more problems were found than max */
    int no_memory; /* an allocation failed; the list is incomplete */
};

/* Start an empty list holding at most max problems. */
void qproblems_init(struct qproblems *list, size_t max);

/* Free every problem; the list is empty and may be reused. */
void qproblems_clear(struct qproblems *list);

/* Append a problem; path is copied, message is formatted. Never fails: see no_memory. */
void qproblems_add(struct qproblems *list, const char *path, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Number of problems recorded. */
static inline size_t qproblems_count(const struct qproblems *list)
{
    return list->count;
}

/* Escape one reference token for a JSON pointer (RFC 6901: "~" -> "~0", "/" -> "~1") into
 * buf of size bufsz; returns 0, or -1 when it does not fit. */
int qproblems_pointer_escape(char *buf, size_t bufsz, const char *token);

#endif
