/*
 * survey-admin export. One REPEATABLE READ snapshot is read twice through server-side
 * cursors: the first pass counts the rows and the combinations of quasi-identifiers (what
 * k-anonymity and the .sav header need to know in advance), the second writes each row as it
 * arrives, in an order drawn at random for this export. Memory follows the number of distinct
 * combinations, never the number of rows. Files are written under temporary names in their
 * target's directory and renamed only when everything succeeded, so an interrupted or refused
 * export leaves nothing under the target names.
 */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "db.h"
#include "export_anon.h"
#include "export_codebook.h"
#include "export_layout.h"
#include "export_write.h"
#include "fileio.h"
#include "qdef.h"
#include "qjson.h"
#include "qval.h"
#include "wavedata.h"

#define FETCH_ROWS "10000"
#define DEFAULT_K 5
/* Percentages in hundredths of a percent, so that thresholds compare exactly, in integers. */
#define DEFAULT_MAX_SUPPRESSED_HUNDREDTHS 1000u /* 10% */
#define DEFAULT_TOP_CODE_HUNDREDTHS 9900u       /* the 99th percentile */
#define PROGRESS_EVERY_NS 500000000LL

/* ---- files under temporary names ---------------------------------------------------------- */

enum { OUT_DATA, OUT_CODEBOOK_MD, OUT_CODEBOOK_JSON, N_OUT };

/* The temporary names, for the signal handler to remove (async-signal-safe: unlink only).
 * They are written and cleared only while the handled signals are blocked (signals_block),
 * so the handler never sees a name half written. */
static char tmp_paths[N_OUT][4096];

/* The signals that end the process with temporary files to remove: interruption, termination,
 * a closed terminal, the file size limit (the file is as good as cut off) and a closed pipe
 * (`export ... | head`). */
static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGXFSZ, SIGPIPE};

static void remove_temporaries_cb(int sig)
{
    for (int i = 0; i < N_OUT; i++) {
        if (tmp_paths[i][0] != '\0') {
            unlink(tmp_paths[i]);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
        sigaddset(set, handled_signals[i]);
    }
}

static void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = remove_temporaries_cb;
    handled_set(&sa.sa_mask); /* one handler at a time */
    for (size_t i = 0; i < sizeof handled_signals / sizeof handled_signals[0]; i++) {
        sigaction(handled_signals[i], &sa, NULL);
    }
}

/* Hold the handled signals off while tmp_paths changes; signals_restore lets them in again
 * (one that came meanwhile is delivered then, and sees a whole name or none). */
static void signals_block(sigset_t *old)
{
    sigset_t set;
    handled_set(&set);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void signals_restore(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

struct out_file {
    const char *path; /* the target; NULL: not written (or standard output for the data) */
    FILE *fp;
};

static bool out_open(struct out_file *f, int slot)
{
    if (f->path == NULL) {
        return true;
    }
    char path[sizeof tmp_paths[0]];
    int n = snprintf(path, sizeof path, "%s.tmp.%ld", f->path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof path) {
        cli_error("could not create file \"%s\": %s", f->path, strerror(ENAMETOOLONG));
        return false;
    }
    /* The name is in tmp_paths, whole, before the file exists, and the file is gone before the
     * name is cleared: the handler removes every temporary file and nothing else. */
    sigset_t old;
    signals_block(&old);
    memcpy(tmp_paths[slot], path, (size_t)n + 1);
    f->fp = fileio_create_private(tmp_paths[slot]);
    if (f->fp == NULL) {
        tmp_paths[slot][0] = '\0';
    }
    signals_restore(&old);
    return f->fp != NULL;
}

/* Close and remove a temporary file that will not be used. */
static void out_discard(struct out_file *f, int slot)
{
    if (f->fp != NULL) {
        fclose(f->fp);
        f->fp = NULL;
    }
    sigset_t old;
    signals_block(&old);
    if (tmp_paths[slot][0] != '\0') {
        unlink(tmp_paths[slot]);
        tmp_paths[slot][0] = '\0';
    }
    signals_restore(&old);
}

/* Make a temporary file durable (fileio_finish closes it). */
static bool out_finish(struct out_file *f, int slot)
{
    if (f->fp == NULL) {
        return true;
    }
    FILE *fp = f->fp;
    f->fp = NULL;
    return fileio_finish(fp, tmp_paths[slot]);
}

/* Rename a temporary file over its target, durably (the directory fsynced after). */
static bool out_rename(struct out_file *f, int slot)
{
    if (f->path == NULL) {
        return true;
    }
    sigset_t old;
    signals_block(&old);
    bool ok = fileio_rename(tmp_paths[slot], f->path);
    if (ok || access(tmp_paths[slot], F_OK) != 0) {
        tmp_paths[slot][0] = '\0'; /* renamed (only the fsync may have failed) */
    }
    signals_restore(&old);
    return ok;
}

/* ---- the key ------------------------------------------------------------------------------ */

struct key {
    unsigned char bytes[EXPORT_KEY_MAX_BYTES];
    size_t len;
    bool given; /* from --key-file or the environment, rather than drawn for this export */
};

/* The key from a file or the environment, trailing line breaks and spaces dropped; never
 * printed. Without either, 32 random bytes: pseudonyms unlinkable to any other export. */
static bool key_load(const char *key_file, struct key *key)
{
    char *data = NULL;
    size_t len = 0;
    const char *where = NULL;
    if (key_file != NULL) {
        if (!fileio_read(key_file, EXPORT_KEY_MAX_BYTES + 64, &data, &len)) {
            return false;
        }
        where = "the key file";
    } else if (getenv(EXPORT_KEY_ENV) != NULL) {
        data = strdup(getenv(EXPORT_KEY_ENV));
        if (data == NULL) {
            cli_error("out of memory");
            return false;
        }
        len = strlen(data);
        where = "the environment variable " EXPORT_KEY_ENV;
    }
    if (where == NULL) {
        key->len = 32;
        key->given = false;
        if (RAND_bytes(key->bytes, (int)key->len) != 1) {
            cli_error("could not draw a random key");
            return false;
        }
        return true;
    }
    while (len > 0 && strchr("\r\n \t", data[len - 1]) != NULL) {
        len--;
    }
    bool ok = false;
    if (len < EXPORT_KEY_MIN_BYTES) {
        cli_error("%s holds %zu bytes; a pseudonym key needs at least %d", where, len,
                  EXPORT_KEY_MIN_BYTES);
    } else if (len > EXPORT_KEY_MAX_BYTES) {
        cli_error("%s holds more than %d bytes", where, EXPORT_KEY_MAX_BYTES);
    } else {
        memcpy(key->bytes, data, len);
        key->len = len;
        key->given = true;
        ok = true;
    }
    memset(data, 0, len);
    free(data);
    return ok;
}

/* ---- the top-coding caps ------------------------------------------------------------------ */

/*
 * The top-coding cap of every number column. Of a question's n eligible answers the top
 * m = max(1, ceil(n x (100 - P) / 100)) are capped at the largest answer below them, the
 * (m+1)-th largest (so the cap is a value that occurs): a percentile alone would be the largest
 * answer with fewer than 100 answers, and cap nothing. Nothing to cap at with fewer than 2
 * answers; nothing capped at P = 100. percentile in hundredths (5000 .. 10000).
 */
static bool read_caps(PGconn *conn, const char *wave, const struct export_layout *l,
                      unsigned percentile, double *caps, struct export_topcode *topcodes,
                      size_t *n_topcodes)
{
    *n_topcodes = 0;
    for (size_t q = 0; q < l->def->n_questions; q++) {
        caps[q] = NAN;
    }
    for (size_t i = 0; i < l->n_cols; i++) {
        if (l->cols[i].kind != EXPORT_COL_NUMBER) {
            continue;
        }
        const char *id = l->def->questions[l->cols[i].question].id;
        const char *params[3] = {wave, id, NULL};
        PGresult *res = db_exec(conn,
                                "SELECT count(*) FROM survey.responses "
                                "WHERE wave_id = $1 AND NOT screened_out "
                                "AND jsonb_typeof(answers -> $2) = 'number'",
                                2, params);
        if (!db_ok(res)) {
            db_report(conn, res, "could not compute the top-coding caps");
            return false;
        }
        struct export_topcode *t = &topcodes[(*n_topcodes)++];
        *t = (struct export_topcode){l->cols[i].question, false, NAN, 0, 0, 0};
        t->answers = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (percentile >= 10000 || t->answers < 2) {
            continue;
        }
        /* In integers: ceil(n (10000 - P) / 10000), at least 1; below n since P >= 50%. */
        uint64_t m = ((uint64_t)t->answers * (10000u - percentile) + 9999u) / 10000u;
        t->tail = m < 1 ? 1 : (size_t)m;
        char offset[32];
        snprintf(offset, sizeof offset, "%zu", t->tail);
        params[2] = offset;
        res = db_exec(conn,
                      "SELECT (answers ->> $2)::float8 AS v FROM survey.responses "
                      "WHERE wave_id = $1 AND NOT screened_out "
                      "AND jsonb_typeof(answers -> $2) = 'number' "
                      "ORDER BY v DESC OFFSET $3::bigint LIMIT 1",
                      3, params);
        if (!db_ok(res)) {
            db_report(conn, res, "could not compute the top-coding caps");
            return false;
        }
        if (PQntuples(res) == 1) {
            t->applied = true;
            t->cap = strtod(PQgetvalue(res, 0, 0), NULL);
            caps[l->cols[i].question] = t->cap;
        }
        PQclear(res);
    }
    return true;
}

/* ---- the two passes ----------------------------------------------------------------------- */

static const struct qjson_limits answers_limits = {16u << 20, 64, 100000, 16u << 20};

struct counts {
    size_t total, screened_out, eligible;
};

/* Pass 1: count the responses and the quasi-identifiers' combinations. */
static bool pass_count(PGconn *conn, const char *wave, const struct export_layout *l,
                       struct export_kanon *kanon, bool *shown, struct counts *n)
{
    const char *params[1] = {wave};
    if (!db_command(conn, "could not open a cursor over the responses",
                    "DECLARE counting NO SCROLL CURSOR FOR SELECT screened_out, answers::text "
                    "FROM survey.responses WHERE wave_id = $1",
                    1, params)) {
        return false;
    }
    uint8_t values[EXPORT_MAX_QI];
    for (;;) {
        PGresult *res = db_exec(conn, "FETCH FORWARD " FETCH_ROWS " FROM counting", 0, NULL);
        if (!db_ok(res)) {
            db_report(conn, res, "could not read the responses");
            return false;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            n->total++;
            if (PQgetvalue(res, r, 0)[0] == 't') {
                n->screened_out++;
                continue;
            }
            n->eligible++;
            if (kanon == NULL) {
                continue;
            }
            enum qjson_error err = QJSON_OK;
            cJSON *answers = qjson_parse(PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1),
                                         &answers_limits, &err, NULL);
            if (answers == NULL) {
                cli_error("could not read a stored response: %s", qjson_strerror(err));
                PQclear(res);
                return false;
            }
            qval_shown(l->def, answers, shown);
            export_layout_qi_values(l, answers, shown, values);
            cJSON_Delete(answers);
            if (!export_kanon_add(kanon, values)) {
                cli_error("out of memory");
                PQclear(res);
                return false;
            }
        }
        PQclear(res);
        if (rows == 0) {
            break;
        }
    }
    return db_command(conn, "could not close the cursor", "CLOSE counting", 0, NULL);
}

struct progress {
    bool on;
    size_t total, done;
    struct timespec start, last;
};

static long long elapsed_ns(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void progress_show(struct progress *p, bool last)
{
    if (!p->on) {
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!last && elapsed_ns(&p->last, &now) < PROGRESS_EVERY_NS) {
        return;
    }
    p->last = now;
    double s = (double)elapsed_ns(&p->start, &now) / 1e9;
    double rate = s > 0 ? (double)p->done / s : 0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0;
    fprintf(stderr, "\rexport: %zu of %zu rows, %.0f rows/s, ETA %.0f s   ", p->done, p->total,
            rate, eta);
    if (last) {
        fputc('\n', stderr);
    }
}

struct pass_write {
    PGconn *conn;
    const char *wave;
    const struct export_layout *layout;
    const struct export_kanon *kanon;
    struct export_pid *pid;
    const double *caps;
    struct export_writer *writer;
    bool *shown;
    struct export_cell *cells;
    struct export_row_counts counts;
    struct progress progress;
    size_t rows;
};

/* Pass 2: every eligible response, in an order drawn for this export, written as it comes. */
static bool pass_write(struct pass_write *p)
{
    unsigned char salt_bytes[16];
    char salt[33];
    if (RAND_bytes(salt_bytes, sizeof salt_bytes) != 1) {
        cli_error("could not draw a random order");
        return false;
    }
    for (size_t i = 0; i < sizeof salt_bytes; i++) {
        snprintf(salt + 2 * i, 3, "%02x", salt_bytes[i]);
    }
    const char *params[2] = {p->wave, salt};
    /* The order: a hash of the submission under a salt nobody keeps, so it says nothing about
     * when a response arrived; the week of fieldwork is all that is kept of the time. */
    if (!db_command(p->conn, "could not open a cursor over the responses",
                    "DECLARE writing NO SCROLL CURSOR FOR SELECT r.submission_id::text, "
                    "r.answers::text, "
                    "greatest(1, floor(extract(epoch FROM r.received_at - w.opened_at) "
                    "/ 604800)::int + 1) "
                    "FROM survey.responses r JOIN survey.waves w ON w.id = r.wave_id "
                    "WHERE r.wave_id = $1 AND NOT r.screened_out "
                    "ORDER BY md5($2 || r.submission_id::text)",
                    2, params)) {
        return false;
    }
    uint8_t values[EXPORT_MAX_QI];
    char pid[EXPORT_PID_HEX_BYTES], err[256];
    for (;;) {
        PGresult *res = db_exec(p->conn, "FETCH FORWARD " FETCH_ROWS " FROM writing", 0, NULL);
        if (!db_ok(res)) {
            db_report(p->conn, res, "could not read the responses");
            return false;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            enum qjson_error jerr = QJSON_OK;
            cJSON *answers = qjson_parse(PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1),
                                         &answers_limits, &jerr, NULL);
            if (answers == NULL) {
                cli_error("could not read a stored response: %s", qjson_strerror(jerr));
                PQclear(res);
                return false;
            }
            qval_shown(p->layout->def, answers, p->shown);
            export_layout_qi_values(p->layout, answers, p->shown, values);
            bool ok = p->kanon == NULL || export_kanon_apply(p->kanon, values) >= 0;
            if (!ok) {
                /* The snapshot is the one counted, so this is a bug; fail closed. */
                snprintf(err, sizeof err,
                         "a response's quasi-identifiers form a combination that k-anonymity "
                         "was not planned for; the export was stopped");
            } else if (!(ok = export_pid_make(p->pid, p->wave, PQgetvalue(res, r, 0), pid))) {
                snprintf(err, sizeof err, "could not make a pseudonym");
            } else {
                ok = export_layout_cells(p->layout, answers, p->shown, values, pid,
                                         atoi(PQgetvalue(res, r, 2)), p->caps, p->cells, &p->counts,
                                         err, sizeof err) &&
                     export_writer_row(p->writer, p->cells, err, sizeof err);
            }
            cJSON_Delete(answers);
            if (!ok) {
                cli_error("%s", err);
                PQclear(res);
                return false;
            }
            p->rows++;
            p->progress.done = p->rows;
            progress_show(&p->progress, false);
        }
        PQclear(res);
        if (rows == 0) {
            break;
        }
    }
    progress_show(&p->progress, true);
    return db_command(p->conn, "could not close the cursor", "CLOSE writing", 0, NULL);
}

/* ---- the command ------------------------------------------------------------------------ */

/* "--codebook PREFIX" or, by default, the --out path + ".codebook": kr.csv.codebook.md beside
 * kr.csv, so exports of one wave in several formats never overwrite each other's codebook. */
static bool codebook_paths(const char *prefix, const char *out, char *md, char *json, size_t size)
{
    char base[4096];
    if (prefix != NULL) {
        snprintf(base, sizeof base, "%s", prefix);
    } else if (out != NULL) {
        snprintf(base, sizeof base, "%s.codebook", out);
    } else {
        return false;
    }
    snprintf(md, size, "%s.md", base);
    snprintf(json, size, "%s.json", base);
    return true;
}

static bool parse_number(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        return false;
    }
    *out = v;
    return true;
}

/* A percentage with at most two decimals ("7", "6.99") in hundredths, from lo to hi. */
static bool parse_hundredths(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && v <= 100000; p++) {
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (p == s || v > 100000) {
        return false;
    }
    v *= 100;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        v += 10u * (unsigned)(*p++ - '0');
        if (*p >= '0' && *p <= '9') {
            v += (unsigned)(*p++ - '0');
        }
    }
    if (*p != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

/* Hundredths of a percent as the user would write them: "7", "6.5", "6.99". */
static void hundredths_text(unsigned h, char *buf, size_t size)
{
    if (h % 100 == 0) {
        snprintf(buf, size, "%u", h / 100);
    } else if (h % 10 == 0) {
        snprintf(buf, size, "%u.%u", h / 100, h % 100 / 10);
    } else {
        snprintf(buf, size, "%u.%02u", h / 100, h % 100);
    }
}

int export_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum {
        O_FORMAT,
        O_OUT,
        O_K,
        O_LANG,
        O_CODEBOOK,
        O_EXCEL,
        O_PROVISIONAL,
        O_KEY_FILE,
        O_MAX_SUPPRESSED,
        O_TOP_CODE,
        N_OPTS
    };
    struct cli_opt opts[N_OPTS] = {
        {"format", true, NULL},       {"out", true, NULL},      {"k", true, NULL},
        {"lang", true, NULL},         {"codebook", true, NULL}, {"excel", false, NULL},
        {"provisional", false, NULL}, {"key-file", true, NULL}, {"max-suppressed", true, NULL},
        {"top-code", true, NULL},
    };
    const char *wave = NULL;
    enum cli_parse_result parsed = cli_parse(ctx, cmd, argc, argv, opts, N_OPTS, &wave);
    if (parsed != CLI_PARSED) {
        return cli_parse_status(parsed);
    }
    if (wave == NULL) {
        return cli_usage_error(cmd, "missing WAVE");
    }
    const char *format_name = opts[O_FORMAT].value;
    if (format_name == NULL) {
        return cli_usage_error(cmd, "--format is required: csv, sav or jsonl");
    }
    struct export_writer_opts wopts = {EXPORT_CSV, opts[O_EXCEL].value != NULL, 0, NULL, 0};
    if (strcmp(format_name, "csv") == 0) {
        wopts.format = EXPORT_CSV;
    } else if (strcmp(format_name, "sav") == 0) {
        wopts.format = EXPORT_SAV;
    } else if (strcmp(format_name, "jsonl") == 0) {
        wopts.format = EXPORT_JSONL;
    } else {
        return cli_usage_error(cmd, "--format must be csv, sav or jsonl");
    }
    if (wopts.excel && wopts.format != EXPORT_CSV) {
        return cli_usage_error(cmd, "--excel applies to --format csv only");
    }
    double k = DEFAULT_K;
    unsigned max_suppressed = DEFAULT_MAX_SUPPRESSED_HUNDREDTHS;
    unsigned top_code = DEFAULT_TOP_CODE_HUNDREDTHS;
    if (opts[O_K].value != NULL &&
        (!parse_number(opts[O_K].value, 2, 1000000, &k) || k != floor(k))) {
        return cli_usage_error(cmd, "--k must be a whole number from 2 to 1000000");
    }
    if (opts[O_MAX_SUPPRESSED].value != NULL &&
        !parse_hundredths(opts[O_MAX_SUPPRESSED].value, 0, 10000, &max_suppressed)) {
        return cli_usage_error(
            cmd, "--max-suppressed must be a percentage from 0 to 100, at most two decimals");
    }
    if (opts[O_TOP_CODE].value != NULL &&
        !parse_hundredths(opts[O_TOP_CODE].value, 5000, 10000, &top_code)) {
        return cli_usage_error(
            cmd, "--top-code must be a percentile from 50 to 100, at most two decimals");
    }
    const char *out_path = opts[O_OUT].value;
    if (wopts.format == EXPORT_SAV && out_path == NULL && isatty(STDOUT_FILENO)) {
        return cli_usage_error(cmd,
                               "a .sav file is binary: give --out FILE or redirect the output");
    }
    char md_path[4096 + 16], json_path[4096 + 16];
    bool with_codebook =
        codebook_paths(opts[O_CODEBOOK].value, out_path, md_path, json_path, sizeof md_path);

    int status = CLI_EXIT_FAIL;
    struct key key = {{0}, 0, false};
    struct wave_info w = {0};
    struct qdef *def = NULL;
    struct export_layout layout = {0};
    struct export_kanon *kanon = NULL;
    struct export_pid *pid = NULL;
    struct export_writer *writer = NULL;
    double *caps = NULL;
    size_t *top_coded = NULL;
    struct export_topcode *topcodes = NULL;
    size_t n_topcodes = 0;
    bool *shown = NULL;
    struct export_cell *cells = NULL;
    cJSON *codebook = NULL;
    struct out_file files[N_OUT] = {{out_path, NULL},
                                    {with_codebook ? md_path : NULL, NULL},
                                    {with_codebook ? json_path : NULL, NULL}};
    char err[256];

    if (!key_load(opts[O_KEY_FILE].value, &key)) {
        return CLI_EXIT_FAIL;
    }
    PGconn *conn = db_connect(ctx);
    if (conn == NULL) {
        goto out;
    }
    /* On a standby, only once the wave's close has been replayed there (docs/ha.md). */
    if (!db_require_replayed_close(conn, wave)) {
        goto out;
    }
    bool provisional = false;
    if (!db_command(conn, "could not start a snapshot",
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) ||
        !wave_read(conn, wave, &w) ||
        !wave_require_closed(wave, &w, opts[O_PROVISIONAL].value != NULL, "an export",
                             &provisional)) {
        goto out;
    }
    def = wave_compile(&w);
    if (def == NULL) {
        goto out;
    }
    wopts.lang = def->default_language;
    if (opts[O_LANG].value != NULL) {
        wopts.lang = qdef_find_language(def, opts[O_LANG].value);
        if (wopts.lang < 0) {
            cli_error("the questionnaire has no \"%s\" labels (--lang)", opts[O_LANG].value);
            goto out;
        }
    }
    if (!export_layout_build(&layout, def, err, sizeof err)) {
        cli_error("cannot export wave \"%s\": %s", wave, err);
        goto out;
    }
    caps = calloc(def->n_questions, sizeof *caps);
    top_coded = calloc(def->n_questions, sizeof *top_coded);
    topcodes = calloc(layout.n_cols, sizeof *topcodes);
    shown = calloc(def->n_questions, sizeof *shown);
    cells = calloc(layout.n_cols, sizeof *cells);
    kanon = layout.n_qi > 0 ? export_kanon_new(layout.n_qi, layout.qi_follows) : NULL;
    pid = export_pid_new(key.bytes, key.len);
    if (caps == NULL || top_coded == NULL || topcodes == NULL || shown == NULL || cells == NULL ||
        pid == NULL || (layout.n_qi > 0 && kanon == NULL)) {
        cli_error("out of memory");
        goto out;
    }
    if (!read_caps(conn, wave, &layout, top_code, caps, topcodes, &n_topcodes)) {
        goto out;
    }
    struct counts n = {0, 0, 0};
    if (!pass_count(conn, wave, &layout, kanon, shown, &n)) {
        goto out;
    }

    /* k-anonymity: plan, report, and refuse before anything is written. */
    struct export_risk risk = {.k = (size_t)k, .records = n.eligible, .achieved = true};
    if (kanon != NULL && !export_kanon_plan(kanon, (size_t)k, &risk)) {
        cli_error("out of memory");
        goto out;
    }
    if (!risk.achieved) {
        cli_error("wave \"%s\" has %zu eligible responses, fewer than k=%zu: no export can be "
                  "k-anonymous; nothing was written",
                  wave, n.eligible, (size_t)k);
        goto out;
    }
    /* In integers: suppressed / eligible > max / 100 percent, max in hundredths. At the
     * limit exactly the export goes ahead. */
    if ((uint64_t)risk.records_suppressed * 10000u > (uint64_t)max_suppressed * n.eligible) {
        char limit[32];
        hundredths_text(max_suppressed, limit, sizeof limit);
        cli_error("k-anonymity (k=%zu) would suppress values in %zu of %zu records (%.1f%%), "
                  "more than --max-suppressed %s%%; nothing was written",
                  (size_t)k, risk.records_suppressed, n.eligible,
                  100.0 * (double)risk.records_suppressed / (double)n.eligible, limit);
        goto out;
    }

    if (layout.n_qi > 0) {
        export_risk_print(stderr, &risk, &layout);
    }

    signals_install();
    for (int f = 0; f < N_OUT; f++) {
        if (!out_open(&files[f], f)) {
            goto out;
        }
    }
    char label[256];
    snprintf(label, sizeof label, "%s: %s", wave, qdef_text_get(def, &def->title, wopts.lang));
    wopts.file_label = label;
    /* The .sav header's date says as of when the data are: the close (a closed wave), else
     * now. Never a response's own time. */
    wopts.timestamp = w.closed_epoch > 0 ? w.closed_epoch : (long long)time(NULL);
    writer = export_writer_begin(&layout, &wopts, files[OUT_DATA].fp ? files[OUT_DATA].fp : stdout,
                                 (long)n.eligible, err, sizeof err);
    if (writer == NULL) {
        cli_error("%s", err);
        goto out;
    }
    struct pass_write p = {.conn = conn,
                           .wave = wave,
                           .layout = &layout,
                           .kanon = kanon,
                           .pid = pid,
                           .caps = caps,
                           .writer = writer,
                           .shown = shown,
                           .cells = cells,
                           .counts = {top_coded, 0},
                           .progress = {.on = isatty(STDERR_FILENO) == 1, .total = n.eligible}};
    clock_gettime(CLOCK_MONOTONIC, &p.progress.start);
    p.progress.last = p.progress.start;
    if (!pass_write(&p)) {
        goto out;
    }
    db_rollback(conn); /* read-only: nothing to keep */
    struct export_writer *finishing = writer;
    writer = NULL;
    if (!export_writer_end(finishing, err, sizeof err)) {
        cli_error("%s", err);
        goto out;
    }
    if (p.rows != n.eligible) {
        cli_error("read %zu rows where the snapshot held %zu", p.rows, n.eligible);
        goto out;
    }
    /* Standard output: all of it written before the codebook gets its name (a closed pipe
     * ends the process here, by SIGPIPE, with the temporaries removed). */
    if (files[OUT_DATA].fp == NULL && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("could not write to standard output: %s", strerror(errno));
        goto out;
    }

    char created_at[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(created_at, sizeof created_at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    struct export_meta meta = {
        .wave = wave,
        .status = w.status,
        .access = w.access,
        .opened_at = w.opened_at,
        .closed_at = w.closed_at,
        .created_at = created_at,
        .margins_json = w.margins,
        .about_json = w.about,
        .questionnaire_sha256 = w.sha256,
        .provisional = provisional,
        .keyed = key.given,
        .format = wopts.format,
        .responses_total = n.total,
        .screened_out = n.screened_out,
        .rows = p.rows,
        .risk = risk,
        .cells_following = p.counts.following,
        .max_suppressed_share = max_suppressed / 10000.0,
        .top_code_percentile = top_code / 100.0,
        .topcodes = topcodes,
        .n_topcodes = n_topcodes,
    };
    for (size_t t = 0; t < n_topcodes; t++) {
        topcodes[t].top_coded = top_coded[topcodes[t].question];
    }
    codebook = export_codebook_json(&layout, &meta);
    if (codebook == NULL) {
        cli_error("out of memory");
        goto out;
    }
    if (files[OUT_CODEBOOK_JSON].fp != NULL) {
        char *text = cJSON_Print(codebook);
        if (text == NULL) {
            cli_error("out of memory");
            goto out;
        }
        fputs(text, files[OUT_CODEBOOK_JSON].fp);
        fputc('\n', files[OUT_CODEBOOK_JSON].fp);
        cJSON_free(text);
    }
    if (files[OUT_CODEBOOK_MD].fp != NULL) {
        export_codebook_markdown(files[OUT_CODEBOOK_MD].fp, codebook, def->languages[wopts.lang]);
    }
    bool ok = true;
    for (int f = 0; f < N_OUT; f++) {
        ok = out_finish(&files[f], f) && ok;
    }
    if (!ok) {
        goto out;
    }
    /* The data last: a data file under its name always has its codebook beside it. */
    if (!out_rename(&files[OUT_CODEBOOK_JSON], OUT_CODEBOOK_JSON) ||
        !out_rename(&files[OUT_CODEBOOK_MD], OUT_CODEBOOK_MD) ||
        !out_rename(&files[OUT_DATA], OUT_DATA)) {
        goto out;
    }
    if (out_path != NULL) {
        fprintf(stderr, "wrote %zu rows to %s\n", p.rows, out_path);
    }
    if (key.given) {
        fprintf(stderr, "note: the pseudonyms are keyed: they join this export to every other "
                        "made with the same key; never give one recipient two exports of a wave "
                        "with different suppression (provisional and final, another --k), since "
                        "joined they undo it (docs/export.md)\n");
    }
    if (with_codebook) {
        fprintf(stderr, "codebook: %s, %s\n", md_path, json_path);
    } else {
        fprintf(stderr, "no codebook written: give --codebook PREFIX (or --out FILE)\n");
    }
    status = CLI_EXIT_OK;
out:
    if (status != CLI_EXIT_OK) {
        for (int f = 0; f < N_OUT; f++) {
            out_discard(&files[f], f);
        }
    }
    export_writer_free(writer);
    cJSON_Delete(codebook);
    free(cells);
    free(shown);
    free(topcodes);
    free(caps);
    free(top_coded);
    export_pid_free(pid);
    export_kanon_free(kanon);
    export_layout_free(&layout);
    qdef_free(def);
    wave_info_free(&w);
    memset(&key, 0, sizeof key);
    PQfinish(conn);
    return status;
}
