/*
 * The wave commands. Every change runs in one transaction with its audit row. "wave close"
 * takes the wave's row lock, which waits for the submission batches in flight (they hold it
 * FOR SHARE until they commit), so once it returns nothing more can enter the wave and every
 * acknowledged submission is counted.
 */
#include "wave.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "about.h"
#include "db.h"
#include "digest.h"
#include "fileio.h"
#include "margins.h"
#include "qcheck.h"

#define WAVE_MAX_FILE_PROBLEMS 100

bool wave_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '-'))) {
            return false;
        }
    }
    return true;
}

/*
 * How every wave command starts: its options, then the wave id, checked before any connection
 * is made. False when the command ends here (--help shown, or a usage error printed), with
 * *exit_status what it exits with; left alone otherwise.
 */
static bool wave_args(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                      struct cli_opt *opts, size_t n_opts, const char **wave, int *exit_status)
{
    enum cli_parse_result parsed = cli_parse(ctx, cmd, argc, argv, opts, n_opts, wave);
    if (parsed != CLI_PARSED) {
        *exit_status = cli_parse_status(parsed);
        return false;
    }
    if (!wave_id_valid(*wave)) {
        *exit_status =
            cli_usage_error(cmd,
                            "invalid wave id \"%s\": use 1 to 64 of a-z, 0-9, \"_\" and \"-\", "
                            "starting with a letter or digit",
                            *wave);
        return false;
    }
    return true;
}

/* ---- wave create ---------------------------------------------------------------------------- */

/* Store the definition unless these exact bytes are stored already; its row id goes to id. */
static bool wave_store_questionnaire(PGconn *conn, const struct qdef *def, const char *text,
                                     const char *sha_hex, char *id, size_t id_size)
{
    const char *const row[] = {def->id, def->version, sha_hex, text};
    /* ON CONFLICT covers both a concurrent creator of the same bytes and a (qid, version) that
     * exists with other bytes; the lookup below tells them apart. */
    if (!db_command(conn, "could not store the questionnaire",
                    "INSERT INTO survey.questionnaires (qid, version, sha256, source, definition)"
                    " VALUES ($1, $2, decode($3, 'hex'), $4::text, $4::text::jsonb)"
                    " ON CONFLICT DO NOTHING",
                    4, row)) {
        return false;
    }
    const char *const key[] = {sha_hex};
    PGresult *res = db_exec(
        conn, "SELECT id FROM survey.questionnaires WHERE sha256 = decode($1, 'hex')", 1, key);
    if (!db_ok(res)) {
        db_report(conn, res, "could not look up the questionnaire");
        return false;
    }
    bool found = PQntuples(res) == 1;
    if (found) {
        snprintf(id, id_size, "%s", PQgetvalue(res, 0, 0));
    } else {
        cli_error("questionnaire %s version %s is already stored with different content; give "
                  "the changed definition a new version",
                  def->id, def->version);
    }
    PQclear(res);
    return found;
}

/* A check of a file that a wave stores, adding whatever is wrong with it to problems. */
typedef void (*wave_check_cb)(const struct qdef *def, const char *text, size_t len,
                              struct qproblems *problems);

static void wave_check_about_cb(const struct qdef *def, const char *text, size_t len,
                                struct qproblems *problems)
{
    (void)def; /* a study description does not depend on the questionnaire */
    about_check(text, len, problems);
}

/*
 * Read the file at path and check it (against def, for a check that needs the questionnaire).
 * On success *text holds it (free); else every problem is printed, since a wave stores such a
 * file whole or not at all, and *text is NULL.
 */
static bool wave_load_checked(const char *path, wave_check_cb check, const struct qdef *def,
                              char **text)
{
    size_t len = 0;
    if (!fileio_read(path, FILEIO_MAX_INPUT_BYTES, text, &len)) {
        return false;
    }
    struct qproblems problems;
    qproblems_init(&problems, WAVE_MAX_FILE_PROBLEMS);
    check(def, *text, len, &problems);
    bool ok = qproblems_count(&problems) == 0 && !problems.truncated && !problems.no_memory;
    if (!ok) {
        cli_print_problems(stderr, path, &problems);
        free(*text);
        *text = NULL;
    }
    qproblems_clear(&problems);
    return ok;
}

int wave_create_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum { OPT_QUESTIONNAIRE, OPT_ACCESS, OPT_MARGINS, OPT_ABOUT };
    struct cli_opt opts[] = {
        [OPT_QUESTIONNAIRE] = {"questionnaire", true, NULL},
        [OPT_ACCESS] = {"access", true, NULL},
        [OPT_MARGINS] = {"margins", true, NULL},
        [OPT_ABOUT] = {"about", true, NULL},
    };
    const char *wave = NULL;
    int status = CLI_EXIT_FAIL;
    if (!wave_args(ctx, cmd, argc, argv, opts, sizeof opts / sizeof opts[0], &wave, &status)) {
        return status;
    }
    if (opts[OPT_QUESTIONNAIRE].value == NULL) {
        return cli_usage_error(cmd, "option --questionnaire is required");
    }
    const char *access = opts[OPT_ACCESS].value ? opts[OPT_ACCESS].value : "invite";
    if (strcmp(access, "invite") != 0 && strcmp(access, "open") != 0) {
        return cli_usage_error(cmd, "invalid value for --access: \"%s\" (use invite or open)",
                               access);
    }

    char *text = NULL, *margins = NULL, *about = NULL;
    size_t len = 0;
    PGconn *conn = NULL;
    /* Problems keep the wave from being created, so they are errors: stderr. */
    struct qdef *def = qcheck_load_file(opts[OPT_QUESTIONNAIRE].value, stderr, &text, &len);
    if (def == NULL) {
        goto out;
    }
    if (opts[OPT_MARGINS].value != NULL &&
        !wave_load_checked(opts[OPT_MARGINS].value, margins_check, def, &margins)) {
        goto out;
    }
    if (opts[OPT_ABOUT].value != NULL &&
        !wave_load_checked(opts[OPT_ABOUT].value, wave_check_about_cb, NULL, &about)) {
        goto out;
    }
    unsigned char digest[DIGEST_SHA256_BYTES];
    char sha_hex[DIGEST_SHA256_HEX_BYTES];
    if (!digest_sha256(text, len, digest)) {
        cli_error("could not compute the SHA-256 of the questionnaire");
        goto out;
    }
    digest_hex(digest, sha_hex);

    conn = db_connect(ctx);
    if (conn == NULL || !db_begin(conn)) {
        goto out;
    }
    char qrow[32];
    if (!wave_store_questionnaire(conn, def, text, sha_hex, qrow, sizeof qrow)) {
        goto rollback;
    }
    const char *const row[] = {wave, qrow, access, margins, about};
    PGresult *res = db_exec(conn,
                            "INSERT INTO survey.waves (id, questionnaire_id, access, margins, about)"
                            " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) ON CONFLICT (id) DO NOTHING",
                            5, row);
    if (!db_ok(res)) {
        db_report(conn, res, "could not create the wave");
        goto rollback;
    }
    bool created = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!created) {
        cli_error("wave \"%s\" already exists", wave);
        goto rollback;
    }
    const char *const audit[] = {wave,    def->id, def->version,
                                 sha_hex, access,  margins ? "true" : "false",
                                 about ? "true" : "false"};
    if (!db_command(conn, "could not write the audit log",
                    "INSERT INTO survey.audit_log (action, wave_id, detail) VALUES ('wave.create',"
                    " $1, jsonb_build_object('questionnaire', $2::text, 'version', $3::text,"
                    " 'sha256', $4::text, 'access', $5::text, 'margins', $6::boolean,"
                    " 'about', $7::boolean))",
                    7, audit)) {
        goto rollback;
    }
    if (!db_commit(conn)) {
        goto out;
    }
    printf("wave \"%s\" created in draft: questionnaire %s %s (sha256 %.12s), access %s%s%s\n",
           wave, def->id, def->version, sha_hex, access, margins ? ", with margins" : "",
           about ? ", with a study description" : "");
    status = CLI_EXIT_OK;
    goto out;
rollback:
    db_rollback(conn);
out:
    PQfinish(conn);
    qdef_free(def);
    free(text);
    free(margins);
    free(about);
    return status;
}

/* ---- wave about ----------------------------------------------------------------------------- */

int wave_about_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum { OPT_ABOUT };
    struct cli_opt opts[] = {
        [OPT_ABOUT] = {"about", true, NULL},
    };
    const char *wave = NULL;
    int status = CLI_EXIT_FAIL;
    if (!wave_args(ctx, cmd, argc, argv, opts, sizeof opts / sizeof opts[0], &wave, &status)) {
        return status;
    }
    if (opts[OPT_ABOUT].value == NULL) {
        return cli_usage_error(cmd, "option --about is required");
    }
    char *about = NULL;
    PGconn *conn = NULL;
    if (!wave_load_checked(opts[OPT_ABOUT].value, wave_check_about_cb, NULL, &about)) {
        goto out;
    }
    conn = db_connect(ctx);
    if (conn == NULL || !db_begin(conn)) {
        goto out;
    }
    const char *const row[] = {wave, about};
    PGresult *res = db_exec(conn, "UPDATE survey.waves SET about = $2::jsonb WHERE id = $1", 2, row);
    if (!db_ok(res)) {
        db_report(conn, res, "could not store the study description");
        db_rollback(conn);
        goto out;
    }
    bool found = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!found) {
        cli_error("wave \"%s\" does not exist", wave);
        db_rollback(conn);
        goto out;
    }
    if (!db_command(conn, "could not write the audit log",
                    "INSERT INTO survey.audit_log (action, wave_id, detail)"
                    " VALUES ('wave.about', $1, jsonb_build_object('about', $2::jsonb))",
                    2, row)) {
        db_rollback(conn);
        goto out;
    }
    if (!db_commit(conn)) {
        goto out;
    }
    printf("wave \"%s\": study description stored\n", wave);
    status = CLI_EXIT_OK;
out:
    PQfinish(conn);
    free(about);
    return status;
}

/* ---- wave open, wave close ------------------------------------------------------------------ */

/* Why a wave in state `from` cannot go to `to`: the transitions the trigger refuses, in words. */
static const struct wave_refusal {
    const char *to;
    const char *from;
    const char *reason; /* after "wave \"%s\" " */
} wave_refusals[] = {
    {"open", "open", "is already open"},
    {"open", "closed", "is closed; a closed wave cannot be reopened"},
    {"closed", "draft", "is still in draft; only an open wave can be closed"},
    {"closed", "closed", "is already closed"},
};

/*
 * In the open transaction: lock the wave's row and check that it may go to `to`. Waits for the
 * submission batches that hold the row FOR SHARE. False after printing why.
 */
static bool wave_lock_for(PGconn *conn, const char *wave, const char *to)
{
    const char *const key[] = {wave};
    PGresult *res =
        db_exec(conn, "SELECT status FROM survey.waves WHERE id = $1 FOR UPDATE", 1, key);
    if (!db_ok(res)) {
        db_report(conn, res, "could not lock the wave");
        return false;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        cli_error("wave \"%s\" does not exist", wave);
        return false;
    }
    char from[16];
    snprintf(from, sizeof from, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    for (size_t i = 0; i < sizeof wave_refusals / sizeof wave_refusals[0]; i++) {
        const struct wave_refusal *r = &wave_refusals[i];
        if (strcmp(r->to, to) == 0 && strcmp(r->from, from) == 0) {
            cli_error("wave \"%s\" %s", wave, r->reason);
            return false;
        }
    }
    return true;
}

/* Move the locked wave to `to` and write the audit row; detail is a jsonb text or "{}". */
static bool wave_transition(PGconn *conn, const char *wave, const char *to, const char *action,
                            const char *detail)
{
    const char *const update[] = {wave, to};
    if (!db_command(conn, "could not change the wave's status",
                    "UPDATE survey.waves SET status = $2 WHERE id = $1", 2, update)) {
        return false;
    }
    const char *const audit[] = {action, wave, detail};
    return db_command(conn, "could not write the audit log",
                      "INSERT INTO survey.audit_log (action, wave_id, detail)"
                      " VALUES ($1, $2, $3::jsonb)",
                      3, audit);
}

int wave_open_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    const char *wave = NULL;
    int status = CLI_EXIT_FAIL;
    if (!wave_args(ctx, cmd, argc, argv, NULL, 0, &wave, &status)) {
        return status;
    }
    PGconn *conn = db_connect(ctx);
    if (conn == NULL || !db_begin(conn)) {
        goto out;
    }
    if (!wave_lock_for(conn, wave, "open") ||
        !wave_transition(conn, wave, "open", "wave.open", "{}")) {
        db_rollback(conn);
        goto out;
    }
    if (!db_commit(conn)) {
        goto out;
    }
    printf("wave \"%s\" is open\n", wave);
    status = CLI_EXIT_OK;
out:
    PQfinish(conn);
    return status;
}

int wave_close_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    const char *wave = NULL;
    int status = CLI_EXIT_FAIL;
    if (!wave_args(ctx, cmd, argc, argv, NULL, 0, &wave, &status)) {
        return status;
    }
    PGresult *res = NULL;
    PGconn *conn = db_connect(ctx);
    if (conn == NULL || !db_begin(conn)) {
        goto out;
    }
    if (!wave_lock_for(conn, wave, "closed")) {
        goto rollback;
    }
    /* The row lock is ours: every batch that got in has committed, no later one will get in. A
     * new statement in READ COMMITTED sees all of them. */
    const char *const key[] = {wave};
    res = db_exec(conn,
                  "SELECT count(*), count(*) FILTER (WHERE NOT screened_out)"
                  " FROM survey.responses WHERE wave_id = $1",
                  1, key);
    if (!db_ok(res)) {
        db_report(conn, res, "could not count the responses");
        res = NULL;
        goto rollback;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "{\"responses\": %s, \"eligible\": %s}", PQgetvalue(res, 0, 0),
             PQgetvalue(res, 0, 1));
    if (!wave_transition(conn, wave, "closed", "wave.close", detail)) {
        goto rollback;
    }
    if (!db_commit(conn)) {
        goto out;
    }
    long long total = atoll(PQgetvalue(res, 0, 0)), eligible = atoll(PQgetvalue(res, 0, 1));
    printf("wave \"%s\" is closed: %lld responses (%lld eligible, %lld screened out)\n", wave,
           total, eligible, total - eligible);
    status = CLI_EXIT_OK;
    goto out;
rollback:
    db_rollback(conn);
out:
    PQclear(res);
    PQfinish(conn);
    return status;
}

/* ---- wave status ---------------------------------------------------------------------------- */

/* Column order of wave_status_sql; also the order of the JSON fields. */
enum wave_col {
    COL_STATUS,
    COL_ACCESS,
    COL_QID,
    COL_QVERSION,
    COL_QSHA,
    COL_CREATED,
    COL_OPENED,
    COL_CLOSED,
    COL_RESP_TOTAL,
    COL_RESP_ELIGIBLE,
    COL_RESP_SCREENED,
    COL_INV_ISSUED,
    COL_INV_USED,
    COL_MARGINS,
};

/* Times are UTC, RFC 3339 to the second; NULL stays NULL. */
static const char wave_status_sql[] =
    "SELECT w.status, w.access, q.qid, q.version, encode(q.sha256, 'hex'),"
    " to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(w.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(w.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " r.total, r.total - r.screened_out, r.screened_out, i.issued, i.used,"
    " (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(w.margins) AS k)"
    " FROM survey.waves w"
    " JOIN survey.questionnaires q ON q.id = w.questionnaire_id"
    " CROSS JOIN LATERAL (SELECT count(*) AS total,"
    "   count(*) FILTER (WHERE screened_out) AS screened_out"
    "   FROM survey.responses WHERE wave_id = w.id) r"
    " CROSS JOIN LATERAL (SELECT count(*) AS issued, count(used_at) AS used"
    "   FROM survey.invitations WHERE wave_id = w.id) i"
    " WHERE w.id = $1";

/* The JSON names of wave status --json, a stable interface (docs/admin-cli.md). */
static const struct wave_field {
    const char *name;
    enum wave_col col;
    enum { FIELD_TEXT, FIELD_COUNT, FIELD_LIST } kind;
} wave_fields[] = {
    {"status", COL_STATUS, FIELD_TEXT},
    {"access", COL_ACCESS, FIELD_TEXT},
    {"questionnaire_id", COL_QID, FIELD_TEXT},
    {"questionnaire_version", COL_QVERSION, FIELD_TEXT},
    {"questionnaire_sha256", COL_QSHA, FIELD_TEXT},
    {"created_at", COL_CREATED, FIELD_TEXT},
    {"opened_at", COL_OPENED, FIELD_TEXT},
    {"closed_at", COL_CLOSED, FIELD_TEXT},
    {"responses_total", COL_RESP_TOTAL, FIELD_COUNT},
    {"responses_eligible", COL_RESP_ELIGIBLE, FIELD_COUNT},
    {"responses_screened_out", COL_RESP_SCREENED, FIELD_COUNT},
    {"invitations_issued", COL_INV_ISSUED, FIELD_COUNT},
    {"invitations_used", COL_INV_USED, FIELD_COUNT},
    {"margins", COL_MARGINS, FIELD_LIST},
};

static bool wave_print_json(const char *wave, const PGresult *res)
{
    bool ok = false;
    char *text = NULL;
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL || cJSON_AddStringToObject(obj, "wave", wave) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < sizeof wave_fields / sizeof wave_fields[0]; i++) {
        const struct wave_field *f = &wave_fields[i];
        const char *value = PQgetvalue(res, 0, (int)f->col);
        cJSON *item = NULL;
        if (PQgetisnull(res, 0, (int)f->col) && f->kind == FIELD_LIST) {
            item = cJSON_CreateArray();
        } else if (PQgetisnull(res, 0, (int)f->col)) {
            item = cJSON_CreateNull();
        } else if (f->kind == FIELD_COUNT) {
            item = cJSON_CreateNumber((double)atoll(value));
        } else if (f->kind == FIELD_TEXT) {
            item = cJSON_CreateString(value);
        } else {
            item = cJSON_CreateArray();
            for (const char *p = value; item != NULL && *p;) {
                size_t n = strcspn(p, ",");
                char key[256];
                snprintf(key, sizeof key, "%.*s", (int)n, p);
                cJSON *s = cJSON_CreateString(key);
                if (s == NULL || !cJSON_AddItemToArray(item, s)) {
                    cJSON_Delete(s);
                    cJSON_Delete(item);
                    item = NULL;
                }
                p += n + (p[n] == ',');
            }
        }
        if (item == NULL || !cJSON_AddItemToObject(obj, f->name, item)) {
            cJSON_Delete(item);
            goto out;
        }
    }
    text = cJSON_PrintUnformatted(obj);
    if (text == NULL) {
        goto out;
    }
    printf("%s\n", text);
    ok = true;
out:
    if (!ok) {
        cli_error("out of memory");
    }
    cJSON_free(text);
    cJSON_Delete(obj);
    return ok;
}

static const char *wave_or_dash(const PGresult *res, enum wave_col col)
{
    return PQgetisnull(res, 0, (int)col) ? "-" : PQgetvalue(res, 0, (int)col);
}

static void wave_print_text(const char *wave, const PGresult *res)
{
    printf("wave:           %s\n", wave);
    printf("status:         %s\n", PQgetvalue(res, 0, COL_STATUS));
    printf("access:         %s\n", PQgetvalue(res, 0, COL_ACCESS));
    printf("questionnaire:  %s %s (sha256 %.12s)\n", PQgetvalue(res, 0, COL_QID),
           PQgetvalue(res, 0, COL_QVERSION), PQgetvalue(res, 0, COL_QSHA));
    printf("margins:        %s\n",
           PQgetisnull(res, 0, COL_MARGINS) ? "none" : PQgetvalue(res, 0, COL_MARGINS));
    printf("created:        %s\n", wave_or_dash(res, COL_CREATED));
    printf("opened:         %s\n", wave_or_dash(res, COL_OPENED));
    printf("closed:         %s\n", wave_or_dash(res, COL_CLOSED));
    printf("responses:      %s (%s eligible, %s screened out)\n",
           PQgetvalue(res, 0, COL_RESP_TOTAL), PQgetvalue(res, 0, COL_RESP_ELIGIBLE),
           PQgetvalue(res, 0, COL_RESP_SCREENED));
    printf("invitations:    %s issued, %s used\n", PQgetvalue(res, 0, COL_INV_ISSUED),
           PQgetvalue(res, 0, COL_INV_USED));
}

int wave_status_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_opt opts[] = {{"json", false, NULL}};
    const char *wave = NULL;
    int status = CLI_EXIT_FAIL;
    if (!wave_args(ctx, cmd, argc, argv, opts, sizeof opts / sizeof opts[0], &wave, &status)) {
        return status;
    }
    PGresult *res = NULL;
    PGconn *conn = db_connect(ctx);
    if (conn == NULL) {
        goto out;
    }
    const char *const key[] = {wave};
    res = db_exec(conn, wave_status_sql, 1, key);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read the wave");
        res = NULL;
        goto out;
    }
    if (PQntuples(res) == 0) {
        cli_error("wave \"%s\" does not exist", wave);
        goto out;
    }
    if (opts[0].value != NULL) {
        if (!wave_print_json(wave, res)) {
            goto out;
        }
    } else {
        wave_print_text(wave, res);
    }
    status = CLI_EXIT_OK;
out:
    PQclear(res);
    PQfinish(conn);
    return status;
}
