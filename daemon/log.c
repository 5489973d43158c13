/*
 * The daemon's logger: every line is formatted into one buffer and written with a single
 * write(2), so lines from several threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static _Thread_local char thread_name[16] = "main";

void log_set_level(enum log_level min)
{
    log_min = min;
}

int log_parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void log_set_thread_name(const char *name)
{
    snprintf(thread_name, sizeof thread_name, "%s", name);
}

/* Append s to buf escaped: printable ASCII and UTF-8 pass, quotes and backslashes are escaped,
 * control bytes become \xNN. The value is quoted when it holds a space. */
static size_t append_value(char *buf, size_t at, size_t cap, const char *s, bool may_quote)
{
    bool quote = may_quote && (s[0] == '\0' || strpbrk(s, " =\"") != NULL);
    if (quote && at < cap) {
        buf[at++] = '"';
    }
    for (const unsigned char *p = (const unsigned char *)s; *p && at + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            at += (size_t)snprintf(buf + at, cap - at, "\\x%02x", *p);
        } else if (*p == '"' || *p == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char)*p;
        } else {
            buf[at++] = (char)*p;
        }
    }
    if (quote && at < cap) {
        buf[at++] = '"';
    }
    return at;
}

void log_event(enum log_level level, const char *msg, ...)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    if (level < log_min) {
        return;
    }
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t cap = sizeof buf - 1; /* room for the newline */
    size_t at = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    at += (size_t)snprintf(buf + at, cap - at, ".%03ldZ %s [%s] ", ts.tv_nsec / 1000000,
                           names[level], thread_name);
    at = append_value(buf, at, cap, msg, false);
    va_list ap;
    va_start(ap, msg);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL && at + 8 < cap) {
        const char *value = va_arg(ap, const char *);
        at += (size_t)snprintf(buf + at, cap - at, " %s=", key);
        if (at >= cap) {
            break;
        }
        at = append_value(buf, at, cap, value ? value : "(null)", true);
    }
    va_end(ap);
    if (at > cap) {
        at = cap;
    }
    buf[at++] = '\n';
    /* A short write of a log line is not worth more than one retry. */
    ssize_t n = write(STDERR_FILENO, buf, at);
    (void)n;
}

const char *log_first_line(char *buf, size_t size, const char *text)
{
    size_t n = strcspn(text, "\n");
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    return buf;
}
