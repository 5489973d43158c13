/*
 * The harness of the surveyd integration tests: a temporary directory with a self-signed
 * certificate, a migrated database with a login role of the test's own, waves and invitations
 * made with survey-admin, a surveyd child whose log lines are captured from a pipe, and a raw
 * TLS client that sends exact bytes and reads whole HTTP/1.1 responses, all with time bounds.
 */
#ifndef SURVEY_SDHARNESS_H
#define SURVEY_SDHARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

/* The bundled questionnaire, relative to $SURVEY_SOURCE_DIR. */
#define SD_QUESTIONNAIRE "questionnaire/definitions/genai-adoption-2025.json"

/* Read the surveyd path (argv[1], else $SURVEYD), ignore SIGPIPE, and arrange for every daemon
 * still running at exit to be killed. Call first in main. */
void sd_init(int argc, char **argv);

/* Milliseconds of CLOCK_MONOTONIC. */
long long sd_now_ms(void);

/* ---- processes ------------------------------------------------------------------------- */

/* Run argv (argv[0] looked up in PATH) with stdin from /dev/null and stdout and stderr
 * together into out (NUL-terminated, truncated to out_size - 1). Returns the exit status, or -1
 * when it could not run, was killed by a signal, or ran out of timeout_ms (it is then killed). */
int sd_run(const char *const argv[], char *out, size_t out_size, int timeout_ms);

/* ---- the test's environment -------------------------------------------------------------- */

struct sd_env {
    char dir[128];  /* temporary directory, removed by sd_env_free */
    char cert[192]; /* PEM certificate and key in dir */
    char key[192];
    char admin_db[1024];  /* the superuser's connection string for the test database */
    char daemon_db[1280]; /* the same with user=<role> */
    char role[64];        /* LOGIN role, member of survey_daemon; "" until made */
    char questionnaire[1024];
    PGconn *conn; /* the superuser's session, for assertions */
};

/* Make the temporary directory and a self-signed certificate (P-256, or RSA 2048 when rsa). */
bool sd_env_init(struct sd_env *env, bool rsa);

/* Make a self-signed certificate in dir: name.crt and name.key, paths to cert and key. */
bool sd_make_cert(const char *dir, const char *name, bool rsa, char *cert, size_t cert_size,
                  char *key, size_t key_size);

/* Use the database of admin_conninfo (NULL: $SURVEY_TEST_DB): connect, migrate it with
 * survey-admin, and create the daemon's login role. */
bool sd_env_db(struct sd_env *env, const char *admin_conninfo);

/* Drop the role, close the session, remove the directory. */
void sd_env_free(struct sd_env *env);

/* Run survey-admin with the NULL-terminated arguments and --db; output as sd_run. */
int sd_admin(const struct sd_env *env, char *out, size_t out_size, ...) __attribute__((sentinel));

/* Create wave with access "open" or "invite" from the bundled questionnaire and bring it to
 * status "draft", "open" or "closed" with the CLI. */
bool sd_wave(const struct sd_env *env, const char *wave, const char *access, const char *status);

/* Issue count invitation tokens with `invite --out`; returns how many were read into tokens. */
int sd_invite(const struct sd_env *env, const char *wave, int count, char tokens[][64]);

/* Run sql with the NULL-terminated text parameters as the superuser: the first column of the
 * first row as a number (-1 on failure, printed), or as a string to free (NULL on failure). */
long long sd_count(struct sd_env *env, const char *sql, ...) __attribute__((sentinel));
char *sd_value(struct sd_env *env, const char *sql, ...) __attribute__((sentinel));
/* Run sql (no parameters) as the superuser; true when it succeeds. */
bool sd_exec(struct sd_env *env, const char *sql);

/* Rows of survey.responses for (wave, submission_id). */
long long sd_stored(struct sd_env *env, const char *wave, const char *submission_id);

/* ---- the daemon ------------------------------------------------------------------------ */

struct sd_daemon;

/* Spawn surveyd on a free loopback port with --cert, --key, --listen, --db (db, or
 * env->daemon_db when NULL), --threads 2, --log-level debug, then the NULL-terminated extra
 * flags (which win). Its stderr is read by a thread into a list of lines. */
struct sd_daemon *sd_daemon_spawn(const struct sd_env *env, const char *db,
                                  const char *const extra[]);

/* Wait until the log shows the waves loaded and every worker's database connection, then until
 * /readyz agrees on several fresh connections in a row (the log line comes a little early). */
bool sd_daemon_wait_ready(struct sd_daemon *d, int timeout_ms);

/* sd_daemon_spawn and sd_daemon_wait_ready; on failure the log is printed and NULL returned. */
struct sd_daemon *sd_daemon_start(const struct sd_env *env, const char *db,
                                  const char *const extra[]);

int sd_daemon_port(const struct sd_daemon *d);
pid_t sd_daemon_pid(const struct sd_daemon *d);
long sd_daemon_threads(const struct sd_daemon *d);

/* Lines of the log that contain needle, so far. */
size_t sd_log_count(struct sd_daemon *d, const char *needle);
/* Wait until at least count lines contain needle; false when timeout_ms ran out or the daemon
 * closed its stderr first. */
bool sd_log_wait(struct sd_daemon *d, const char *needle, size_t count, int timeout_ms);
/* Copies of the lines so far (a NULL-terminated array to free with sd_log_lines_free). */
char **sd_log_lines(struct sd_daemon *d, size_t *n);
void sd_log_lines_free(char **lines);
/* How many lines are not in surveyd's own format, "<UTC timestamp> <level> [<thread>] <message>"
 * without control characters (each is printed): lines written by anything but its logger. */
size_t sd_log_foreign_lines(struct sd_daemon *d);
/* Print the captured log to stderr. */
void sd_log_dump(struct sd_daemon *d);

/* True while the process has not exited. */
bool sd_daemon_running(struct sd_daemon *d);
/* Wait for the process to exit: its exit status, or -1 (killed by a signal, or timeout). */
int sd_daemon_wait_exit(struct sd_daemon *d, int timeout_ms);
/* SIGTERM, then sd_daemon_wait_exit; a daemon still there after timeout_ms is killed. */
int sd_daemon_stop(struct sd_daemon *d, int timeout_ms);
/* Kill it if it still runs, reap it, free everything ($SD_SHOW_LOG: print its log first). */
void sd_daemon_free(struct sd_daemon *d);

/* ---- the client ------------------------------------------------------------------------ */

struct sd_tls_opts {
    int min_version; /* TLS1_VERSION ...; 0: library default */
    int max_version;
    const char *ciphers;   /* TLS 1.2 and below cipher list; NULL: default */
    const char *suites;    /* TLS 1.3 cipher suites; NULL: default */
    const char *bind_addr; /* source address; NULL: any */
    bool plaintext;        /* no TLS at all */
    int timeout_ms;        /* connect and handshake; 0: 5000 */
};

struct sd_tls_info {
    bool tcp_connected;
    bool handshake_ok;
    bool peer_alert;          /* the handshake failed on an alert from the server */
    unsigned long bytes_sent; /* by the client during the handshake */
    int version;              /* negotiated protocol */
    char cipher[64];
    char reason[160]; /* why it failed */
};

struct sd_conn;

/* Connect to 127.0.0.1:port and handshake (verification off). NULL on failure; info (may be
 * NULL) says how far it went. */
struct sd_conn *sd_connect(int port, const struct sd_tls_opts *opts, struct sd_tls_info *info);
/* Send exactly len bytes; false on failure or timeout. */
bool sd_send(struct sd_conn *c, const void *buf, size_t len, int timeout_ms);
/* True when the server closes the connection (EOF or reset) within timeout_ms; anything it
 * sends meanwhile is appended to what the next read sees. */
bool sd_wait_closed(struct sd_conn *c, int timeout_ms);
/* Bytes received and not consumed by a response read yet. */
const char *sd_pending(const struct sd_conn *c, size_t *len);
void sd_close(struct sd_conn *c);
/* Lower-case hex SHA-256 of the server certificate the connection was given. */
bool sd_peer_cert_sha256(struct sd_conn *c, char hex[65]);

struct sd_response {
    int status; /* 0 when nothing complete arrived */
    char *head; /* the status line and headers, NUL-terminated */
    char *body; /* NUL-terminated (body_len bytes before it) */
    size_t body_len;
    cJSON *json;     /* the parsed body when it is JSON */
    char type[128];  /* the problem document's "type", or "" */
    bool conn_close; /* "Connection: close" */
};

enum sd_read_result { SD_READ_OK = 0, SD_READ_CLOSED = -1, SD_READ_TIMEOUT = -2, SD_READ_BAD = -3 };

/* Read one whole response (interim 1xx ones are skipped): the body by Content-Length, none for
 * a HEAD request (head_request), else until the connection closes. */
enum sd_read_result sd_read_response(struct sd_conn *c, struct sd_response *r, bool head_request,
                                     int timeout_ms);
void sd_response_free(struct sd_response *r);

/* The value of header name (first occurrence, case-insensitive) copied to out; false if absent. */
bool sd_header(const struct sd_response *r, const char *name, char *out, size_t out_size);
/* A string member of the JSON body, or NULL. */
const char *sd_json_str(const struct sd_response *r, const char *member);

/* True when r has the headers every answer must have (HSTS, nosniff, no-store, a charset in
 * Content-Type); what is missing is printed. */
bool sd_safety_headers(const struct sd_response *r);

/* One request on a new connection: send raw bytes, read one response. 0 when a response came. */
int sd_exchange(int port, const char *raw, size_t len, struct sd_response *r);
int sd_get(int port, const char *path, struct sd_response *r);
int sd_post_json(int port, const char *path, const char *json, struct sd_response *r);

/* The bytes of a POST of json to path with Content-Type application/json; free the result. */
char *sd_post_request(const char *path, const char *json, bool keep_alive);

/* A submission body: {"submission_id", "token" (omitted when NULL), "answers"}; free it. */
char *sd_submission(const char *submission_id, const char *token, const char *answers);

/* A complete, valid answers object for the bundled questionnaire, with extra members (e.g.
 * "\"comments\":\"x\"", or NULL) added. Returns a static buffer per thread. */
const char *sd_answers(const char *extra);

/* A canonical UUID made of a and b: aaaaaaaa-0000-4000-8000-bbbbbbbbbbbb. */
void sd_uuid(char out[37], unsigned a, unsigned long b);

/* Print the log when the test added failed checks since `before` (testlib.h's counter). */
#define SD_DUMP_LOG_ON_FAILURE(d, before)                                                          \
    do {                                                                                           \
        if ((d) != NULL && testlib_failed_checks != (before)) {                                    \
            sd_log_dump(d);                                                                        \
        }                                                                                          \
    } while (0)

#endif
