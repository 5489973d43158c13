/*
 * The bounded problem list shared by the loader and the validator. Adding never fails from the
 * caller's point of view: a full list sets `truncated`, a failed allocation sets `no_memory`.
 */
#include "qproblem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qproblems_init(struct qproblems *list, size_t max)
{
    memset(list, 0, sizeof *list);
    list->max = max;
}

void qproblems_clear(struct qproblems *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].message);
    }
    free(list->items);
    size_t max = list->max;
    qproblems_init(list, max);
}

void qproblems_add(struct qproblems *list, const char *path, const char *code, const char *fmt, ...)
{
    if (list->count >= list->max) {
        list->truncated = 1;
        return;
    }
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        struct qproblem *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) {
            list->no_memory = 1;
            return;
        }
        list->items = items;
        list->cap = cap;
    }
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    struct qproblem *p = &list->items[list->count];
    p->path = strdup(path);
    p->message = strdup(message);
    p->code = code;
    if (p->path == NULL || p->message == NULL) {
        free(p->path);
        free(p->message);
        list->no_memory = 1;
        return;
    }
    list->count++;
}

int qproblems_pointer_escape(char *buf, size_t bufsz, const char *token)
{
    size_t n = 0;
    for (const char *s = token; *s; s++) {
        const char *rep = *s == '~' ? "~0" : *s == '/' ? "~1" : NULL;
        size_t len = rep ? 2 : 1;
        if (n + len >= bufsz) {
            return -1;
        }
        if (rep) {
            memcpy(buf + n, rep, 2);
        } else {
            buf[n] = *s;
        }
        n += len;
    }
    if (bufsz == 0) {
        return -1;
    }
    buf[n] = '\0';
    return 0;
}
