/*
 * The main thread's control connection (blocking libpq, never on a request path): the schema
 * check at start, LISTEN wave_changed, and reading every wave into a snapshot.
 */
#ifndef SURVEYD_DBCONTROL_H
#define SURVEYD_DBCONTROL_H

struct dbcontrol;
struct waves;

/* Connect (bounded by libpq's connect_timeout, set to 10 s unless the conninfo says). */
struct dbcontrol *dbcontrol_connect(const char *conninfo) __attribute__((warn_unused_result));

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
