/*
 * The option table and its reader. Environment variables are the defaults an operator sets in
 * a unit file; flags win over them. Numbers are range-checked here, once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_type { OPT_STRING, OPT_LONG };

struct opt {
    const char *flag; /* without the leading "--" */
    const char *env;
    enum opt_type type;
    size_t offset;
    const char *dflt; /* NULL: no default */
    long min, max;
    const char *help;
};

#define S(f) OPT_STRING, offsetof(struct config, f)
#define L(f) OPT_LONG, offsetof(struct config, f)

static const struct opt opts[] = {
    {"listen", "SURVEYD_LISTEN", S(listen), "127.0.0.1:8443", 0, 0,
     "address and port to serve HTTPS on"},
    {"cert", "SURVEYD_CERT", S(cert_file), NULL, 0, 0, "PEM certificate chain (required)"},
    {"key", "SURVEYD_KEY", S(key_file), NULL, 0, 0, "PEM private key (required)"},
    {"db", "SURVEYD_DB", S(db), NULL, 0, 0,
     "libpq connection string or URI (else DATABASE_URL, else PG* variables)"},
    {"control-db", "SURVEYD_CONTROL_DB", S(control_db), NULL, 0, 0,
     "connection for LISTEN and wave state, when --db goes through a pooler (else --db)"},
    {"log-level", "SURVEYD_LOG_LEVEL", S(log_level), "info", 0, 0, "debug, info, warning or error"},
    {"threads", "SURVEYD_THREADS", L(threads), "0", 0, 256, "event loops (0: one per core)"},
    {"max-connections", "SURVEYD_MAX_CONNECTIONS", L(max_connections), "20000", 1, 1000000,
     "open client connections, all threads together"},
    {"max-body-bytes", "SURVEYD_MAX_BODY_BYTES", L(max_body_bytes), "65536", 1024, 16777216,
     "largest request body (413 beyond)"},
    {"max-header-bytes", "SURVEYD_MAX_HEADER_BYTES", L(max_header_bytes), "8192", 1024, 65536,
     "largest request head (431 beyond)"},
    {"handshake-timeout-ms", "SURVEYD_HANDSHAKE_TIMEOUT_MS", L(handshake_timeout_ms), "10000", 100,
     600000, "time to complete the TLS handshake"},
    {"header-timeout-ms", "SURVEYD_HEADER_TIMEOUT_MS", L(header_timeout_ms), "10000", 100, 600000,
     "time to send a request head, from its first byte"},
    {"body-timeout-ms", "SURVEYD_BODY_TIMEOUT_MS", L(body_timeout_ms), "30000", 100, 600000,
     "time to send a request body, after its head"},
    {"idle-timeout-ms", "SURVEYD_IDLE_TIMEOUT_MS", L(idle_timeout_ms), "60000", 100, 3600000,
     "keep-alive time between requests"},
    {"batch-max", "SURVEYD_BATCH_MAX", L(batch_max), "256", 1, 4096,
     "submissions in one database statement (1: no batching)"},
    {"queue-max", "SURVEYD_QUEUE_MAX", L(queue_max), "4096", 1, 1000000,
     "submissions waiting per thread before 503"},
    {"statement-timeout-ms", "SURVEYD_STATEMENT_TIMEOUT_MS", L(statement_timeout_ms), "10000", 100,
     600000, "wait for a batch's result before the outcome counts as unknown"},
    {"db-connect-timeout-ms", "SURVEYD_DB_CONNECT_TIMEOUT_MS", L(db_connect_timeout_ms), "10000",
     100, 600000, "per database host: a silent one is skipped for the next in --db"},
    {"rate-limit", "SURVEYD_RATE_LIMIT", L(rate_per_s), "20", 0, 1000000,
     "submissions per second per client address (0: off)"},
    {"rate-burst", "SURVEYD_RATE_BURST", L(rate_burst), "40", 1, 1000000,
     "burst of submissions per client address"},
    {"retry-after-s", "SURVEYD_RETRY_AFTER_S", L(retry_after_s), "2", 1, 3600,
     "Retry-After on 503"},
    {"shutdown-timeout-ms", "SURVEYD_SHUTDOWN_TIMEOUT_MS", L(shutdown_timeout_ms), "30000", 100,
     600000, "longest wait for in-flight batches on SIGTERM"},
};

#undef S
#undef L

static void usage(FILE *out)
{
    fprintf(out, "usage: surveyd --cert FILE --key FILE [--listen HOST:PORT] [--db CONNINFO] "
                 "[options]\n\noptions (flag, environment variable, default):\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        fprintf(out, "  --%-22s %-30s %s\n      %s\n", opts[i].flag, opts[i].env,
                opts[i].dflt ? opts[i].dflt : "-", opts[i].help);
    }
    fprintf(out, "  --help, --version\n");
}

static int set_opt(struct config *cfg, const struct opt *o, const char *value, const char *from)
{
    char *field = (char *)cfg + o->offset;
    if (o->type == OPT_STRING) {
        char *copy = strdup(value);
        if (copy == NULL) {
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max) {
        fprintf(stderr, "surveyd: %s: \"%s\" must be a whole number from %ld to %ld\n", from,
                o->flag, o->min, o->max);
        return -1;
    }
    *(long *)field = v;
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    size_t n = sizeof opts / sizeof opts[0];
    for (size_t i = 0; i < n; i++) {
        const char *env = getenv(opts[i].env);
        const char *v = env != NULL ? env : opts[i].dflt;
        if (v != NULL && set_opt(cfg, &opts[i], v, env != NULL ? opts[i].env : "default") < 0) {
            return -1;
        }
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("surveyd 0.1\n");
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "surveyd: unexpected argument \"%s\"\n", arg);
            usage(stderr);
            return -1;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (size_t i = 0; i < n && o == NULL; i++) {
            if (strlen(opts[i].flag) == nlen && strncmp(opts[i].flag, name, nlen) == 0) {
                o = &opts[i];
            }
        }
        if (o == NULL) {
            fprintf(stderr, "surveyd: unknown option \"%.*s\"\n", (int)nlen + 2, arg);
            usage(stderr);
            return -1;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (a + 1 >= argc) {
                fprintf(stderr, "surveyd: option \"--%s\" needs a value\n", o->flag);
                return -1;
            }
            value = argv[++a];
        }
        if (set_opt(cfg, o, value, "command line") < 0) {
            return -1;
        }
    }
    if (cfg->cert_file == NULL || cfg->key_file == NULL) {
        fprintf(stderr, "surveyd: --cert and --key are required\n");
        usage(stderr);
        return -1;
    }
    if (cfg->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = cores > 0 ? cores : 1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (opts[i].type == OPT_STRING) {
            char **field = (char **)((char *)cfg + opts[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}
