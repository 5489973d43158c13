/*
 * One line per event on stderr: time, level, thread, message, then key=value fields. Values are
 * escaped (control characters as \xNN) so a client cannot forge lines. Never pass answers,
 * tokens (log token_hash_prefix instead) or e-mail addresses.
 */
#ifndef SURVEYD_LOG_H
#define SURVEYD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Lines below min are dropped. Called once at start, before threads. */
void log_set_level(enum log_level min);

/* Parses "debug", "info", "warning", "error"; returns -1 when unknown. */
int log_parse_level(const char *s);

/* Name of the calling thread in log lines, e.g. "w1" (at most 15 characters). */
void log_set_thread_name(const char *name);

/*
 * Logs msg (a fixed string) followed by fields given as alternating key, value strings and
 * terminated by NULL: log_event(LOG_INFO, "listening", "address", "0.0.0.0:8443", NULL).
 */
void log_event(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* Copy the first line of text (libpq's messages span lines and end in a newline) into buf. */
const char *log_first_line(char *buf, size_t size, const char *text);

#endif
