/*
 * Reading a wave for index and export. Both must describe the data as of their snapshot (the
 * status decides "provisional", the dates and the study description go into what they
 * publish), so the wave is read in the caller's transaction, never in one of its own.
 */
#include "wavedata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "qproblem.h"

static char *wave_dup_or_null(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

bool wave_read(PGconn *conn, const char *wave, struct wave_info *info)
{
    *info = (struct wave_info){0};
    const char *params[1] = {wave};
    PGresult *res = db_exec(conn,
                            "SELECT w.status, w.access, w.margins::text, w.about::text, q.source, "
                            "encode(q.sha256, 'hex'), "
                            "coalesce(to_char(w.opened_at AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
                            "coalesce(to_char(w.closed_at AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
                            "coalesce(floor(extract(epoch FROM w.closed_at))::bigint, 0) "
                            "FROM survey.waves w JOIN survey.questionnaires q "
                            "ON q.id = w.questionnaire_id WHERE w.id = $1",
                            1, params);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read the wave");
        return false;
    }
    if (PQntuples(res) != 1) {
        cli_error("wave \"%s\" does not exist", wave);
        PQclear(res);
        return false;
    }
    snprintf(info->status, sizeof info->status, "%s", PQgetvalue(res, 0, 0));
    snprintf(info->access, sizeof info->access, "%s", PQgetvalue(res, 0, 1));
    info->margins = wave_dup_or_null(res, 2);
    info->about = wave_dup_or_null(res, 3);
    info->source = wave_dup_or_null(res, 4);
    snprintf(info->sha256, sizeof info->sha256, "%s", PQgetvalue(res, 0, 5));
    snprintf(info->opened_at, sizeof info->opened_at, "%s", PQgetvalue(res, 0, 6));
    snprintf(info->closed_at, sizeof info->closed_at, "%s", PQgetvalue(res, 0, 7));
    info->closed_epoch = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
    /* A NULL where the row has a value is a failed strdup, not an absent column. */
    bool ok = info->source != NULL && (PQgetisnull(res, 0, 2) || info->margins != NULL) &&
              (PQgetisnull(res, 0, 3) || info->about != NULL);
    PQclear(res);
    if (!ok) {
        cli_error("out of memory");
        wave_info_free(info);
    }
    return ok;
}

void wave_info_free(struct wave_info *info)
{
    free(info->source);
    free(info->margins);
    free(info->about);
    info->source = info->margins = info->about = NULL;
}

bool wave_require_closed(const char *wave, const struct wave_info *info, bool provisional_ok,
                         const char *marked, bool *provisional)
{
    *provisional = false;
    if (strcmp(info->status, "draft") == 0) {
        cli_error("wave \"%s\" is still a draft: it has no responses", wave);
        return false;
    }
    if (strcmp(info->status, "open") == 0) {
        if (!provisional_ok) {
            cli_error("wave \"%s\" is still open; close it first, or use --provisional for %s "
                      "marked provisional",
                      wave, marked);
            return false;
        }
        *provisional = true;
    }
    return true;
}

struct qdef *wave_compile(const struct wave_info *info)
{
    struct qproblems problems;
    qproblems_init(&problems, 4);
    struct qdef *def = qdef_load(info->source, strlen(info->source), &problems);
    qproblems_clear(&problems);
    if (def == NULL) {
        cli_error("the wave's stored questionnaire does not compile");
    }
    return def;
}
