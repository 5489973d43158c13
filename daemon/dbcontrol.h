/*
 * The main thread's control connection (blocking libpq, never on a request path): the schema
 * check at start, LISTEN wave_changed, and reading every wave into a snapshot.
 */
#ifndef SURVEYD_DBCONTROL_H
#define SURVEYD_DBCONTROL_H

#include <stdbool.h>

struct dbcontrol;
struct waves;

/*
 * Connect (each host bounded by libpq's connect_timeout, from connect_timeout_ms unless the
 * conninfo says) to a server that takes writes. A standby or read-only server is refused: NULL,
 * with *standby set. NULL on other errors too (logged).
 */
struct dbcontrol *dbcontrol_connect(const char *conninfo, long connect_timeout_ms, bool *standby)
    __attribute__((warn_unused_result));

/* Who we are connected to: "SYSTEM_ID/TIMELINE host:port". Every promotion starts a new
 * timeline, and a primary and its standbys share the system identifier, so a reconnect whose
 * identity differs from the last one found the primary elsewhere: a failover. */
const char *dbcontrol_identity(const struct dbcontrol *ctl);

/* The schema version recorded by survey-admin migrate; -1 on error (logged). */
int dbcontrol_schema_version(struct dbcontrol *ctl);

/* LISTEN wave_changed; -1 on error. */
int dbcontrol_listen(struct dbcontrol *ctl) __attribute__((warn_unused_result));

/* Read every wave; NULL on error (logged). */
struct waves *dbcontrol_load_waves(struct dbcontrol *ctl) __attribute__((warn_unused_result));

/* The socket to watch for notifications. */
int dbcontrol_socket(const struct dbcontrol *ctl);

/* Read what arrived: 1 when a wave_changed notification came, 0 when none, -1 when the
 * connection broke. */
int dbcontrol_consume(struct dbcontrol *ctl);

void dbcontrol_free(struct dbcontrol *ctl);

#endif
