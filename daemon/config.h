/*
 * surveyd's configuration: every option is a row of one table (flag, SURVEYD_* variable,
 * default, bounds, help), read from the environment first and the command line second.
 */
#ifndef SURVEYD_CONFIG_H
#define SURVEYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config {
    char *listen; /* HOST:PORT */
    char *cert_file;
    char *key_file;
    char *db;         /* libpq conninfo; NULL: DATABASE_URL, else PG* variables */
    char *control_db; /* the control connection's conninfo (LISTEN): NULL for db's */
    char *log_level;
    long threads;
    long max_connections; /* per process */
    long max_body_bytes;
    long max_header_bytes;
    long handshake_timeout_ms;
    long header_timeout_ms;
    long body_timeout_ms;
    long idle_timeout_ms;
    long batch_max;
    long queue_max; /* per worker: submissions waiting for the database */
    long statement_timeout_ms;
    long db_connect_timeout_ms; /* one connection attempt to one host */
    long rate_per_s;            /* submissions per second per client address; 0: no limit */
    long rate_burst;
    long retry_after_s;
    long shutdown_timeout_ms;
};

/*
 * Fill cfg from defaults, SURVEYD_* variables and argv. Returns 0 to run, 1 when --help or
 * --version was printed (exit 0), -1 on a usage error (already printed; exit 2).
 */
int config_load(struct config *cfg, int argc, char **argv);

void config_free(struct config *cfg);

#endif
