/*
 * Request handlers. A submission passes, in order: route, media type, wave state, rate limit,
 * strict JSON, envelope, questionnaire validation, invitation token; only then is it queued
 * for the batcher. Every refusal is a problem document with a stable type.
 */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "batch.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "qjson.h"
#include "qval.h"
#include "ratelimit.h"
#include "submission.h"
#include "waves.h"
#include "webstatic.h"
#include "worker.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define PROBLEM_TYPE "application/problem+json; charset=utf-8"

/*
 * Answer with a problem document. type and title may be NULL for the status's defaults;
 * detail is a fixed sentence of ours; problems (may be NULL) become "errors".
 */
static void respond_problem(struct conn *c, int status, const char *type, const char *title,
                            const char *detail, const struct qproblems *problems,
                            const char *headers, bool close)
{
    char *body = submission_problem_document(status, type, title, detail, problems);
    static const char fallback[] = "{\"type\":\"/problems/internal_error\",\"status\":500}";
    struct response r = {
        .status = body ? status : 500,
        .content_type = PROBLEM_TYPE,
        .body = body ? body : fallback,
        .body_len = body ? strlen(body) : sizeof fallback - 1,
        .headers = headers,
        .close = close,
    };
    conn_respond(c, &r);
    free(body);
}

static void respond_json(struct conn *c, int status, const char *body, size_t len,
                         const char *headers)
{
    struct response r = {.status = status,
                         .content_type = JSON_TYPE,
                         .body = body,
                         .body_len = len,
                         .headers = headers};
    conn_respond(c, &r);
}

static void retry_after_header(char *buf, size_t size, long seconds)
{
    snprintf(buf, size, "Retry-After: %ld\r\n", seconds);
}

/* A 503 with the configured Retry-After; type, title and detail as for respond_problem. */
static void respond_unavailable(struct conn *c, const char *type, const char *title,
                                const char *detail)
{
    char header[64];
    retry_after_header(header, sizeof header, conn_worker(c)->srv->cfg->retry_after_s);
    respond_problem(c, 503, type, title, detail, NULL, header, false);
}

void handlers_framing_error(struct conn *c, int status)
{
    respond_problem(c, status, NULL, NULL, NULL, NULL, NULL, true);
}

/* ---- submissions ------------------------------------------------------------------------ */

static bool media_type_is_json(const struct httpparse_head *head)
{
    if (head->content_type == NULL) {
        return false;
    }
    const char *v = head->content_type;
    size_t n = head->content_type_len;
    const char *semi = memchr(v, ';', n);
    size_t base = semi ? (size_t)(semi - v) : n;
    while (base > 0 && (v[base - 1] == ' ' || v[base - 1] == '\t')) {
        base--;
    }
    if (!httpparse_token_eq(v, base, "application/json")) {
        return false;
    }
    if (semi == NULL) {
        return true;
    }
    /* The only parameter that may follow is charset=utf-8 (JSON is UTF-8, RFC 8259). */
    const char *p = semi + 1, *end = v + n;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    size_t rest = (size_t)(end - p);
    return httpparse_token_eq(p, rest, "charset=utf-8") ||
           httpparse_token_eq(p, rest, "charset=\"utf-8\"");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void handle_submission(struct request *req, const struct wave *wave)
{
    struct worker *w = req->worker;
    struct conn *c = req->conn;
    const struct config *cfg = w->srv->cfg;
    char header[64];

    long retry;
    if (!ratelimit_take(w->ratelimit, req->peer, now_ms(), &retry)) {
        metrics_submission(w->metrics, METRICS_RATE_LIMITED);
        retry_after_header(header, sizeof header, retry);
        respond_problem(c, 429, NULL, NULL, NULL, NULL, header, false);
        return;
    }
    if (!media_type_is_json(req->head)) {
        metrics_submission(w->metrics, METRICS_MALFORMED);
        respond_problem(c, 415, NULL, NULL, NULL, NULL, NULL, false);
        return;
    }
    struct submission_decision d;
    submission_decide(wave->def, wave->id, wave->invite, req->body, req->body_len,
                      (size_t)cfg->max_body_bytes, &d);
    static const enum metrics_outcome outcomes[] = {
        [SUBMISSION_MALFORMED] = METRICS_MALFORMED,
        [SUBMISSION_INVALID] = METRICS_INVALID,
        [SUBMISSION_INVITATION] = METRICS_INVITATION,
        [SUBMISSION_INTERNAL] = METRICS_INTERNAL,
    };
    if (d.verdict != SUBMISSION_ACCEPTED) {
        metrics_submission(w->metrics, outcomes[d.verdict]);
        respond_problem(c, d.status, d.type, d.title, d.detail[0] ? d.detail : NULL, &d.problems,
                        NULL, false);
        submission_clear(&d);
        return;
    }
    /* The connection's item: the batcher owns it from here. */
    char *text = d.item;
    size_t text_len = d.item_len;
    d.item = NULL;
    submission_clear(&d);
    if (batch_enqueue(w->batcher, c, text, text_len) != 0) {
        free(text);
        handlers_submission_unavailable(c, "queue full or database down");
        return;
    }
}

void handlers_submission_unavailable(struct conn *c, const char *why)
{
    log_event(LOG_WARNING, "submission answered 503", "why", why, NULL);
    metrics_submission(conn_worker(c)->metrics, METRICS_UNAVAILABLE);
    respond_unavailable(c, NULL, NULL,
                        "the answers were not stored; send the same submission again shortly");
}

/* submit_responses' statuses and the answers they become. */
static const struct {
    const char *status;
    int http;
    const char *type;
    const char *title;
    enum metrics_outcome outcome;
} result_map[] = {
    {"created", 201, NULL, NULL, METRICS_ACCEPTED},
    {"replayed", 200, NULL, NULL, METRICS_REPLAYED},
    {"submission_conflict", 409, "submission_conflict",
     "This submission id was already used with other answers", METRICS_CONFLICT},
    {"invitation_used", 409, "invitation_used", "This invitation link was already used",
     METRICS_INVITATION},
    {"invitation_invalid", 401, "invitation_invalid", "The invitation is not valid",
     METRICS_INVITATION},
    {"wave_closed", 410, "wave_closed", "This survey is closed", METRICS_WAVE_NOT_OPEN},
    {"wave_not_open", 409, "wave_not_open", "This survey is not open yet", METRICS_WAVE_NOT_OPEN},
    {"wave_unknown", 404, "wave_not_found", "No such survey", METRICS_WAVE_NOT_OPEN},
};

void handlers_submission_result(struct conn *c, const cJSON *result)
{
    struct worker *w = conn_worker(c);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(result, "status");
    for (size_t i = 0; cJSON_IsString(status) && i < sizeof result_map / sizeof result_map[0];
         i++) {
        if (strcmp(result_map[i].status, status->valuestring) != 0) {
            continue;
        }
        metrics_submission(w->metrics, result_map[i].outcome);
        if (result_map[i].type != NULL) {
            respond_problem(c, result_map[i].http, result_map[i].type, result_map[i].title, NULL,
                            NULL, NULL, false);
            return;
        }
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(result, "response_id");
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(result, "submission_id");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(result, "received_at");
        if (!cJSON_IsString(rid) || !cJSON_IsString(sid) || !cJSON_IsString(at)) {
            break;
        }
        char body[256];
        int n = snprintf(body, sizeof body,
                         "{\"response_id\":\"%s\",\"submission_id\":\"%s\",\"received_at\":\"%s\"}",
                         rid->valuestring, sid->valuestring, at->valuestring);
        if (n <= 0 || (size_t)n >= sizeof body) {
            break;
        }
        respond_json(c, result_map[i].http, body, (size_t)n, NULL);
        return;
    }
    /* invalid_item or anything unexpected: our bug, not the respondent's. */
    log_event(LOG_ERROR, "unexpected submission result", "status",
              cJSON_IsString(status) ? status->valuestring : "(none)", NULL);
    metrics_submission(w->metrics, METRICS_INTERNAL);
    respond_problem(c, 500, NULL, NULL, NULL, NULL, NULL, false);
}

/* ---- other routes ----------------------------------------------------------------------- */

static void handle_questionnaire(struct request *req, const struct wave *wave)
{
    char headers[96];
    snprintf(headers, sizeof headers, "ETag: %s\r\n", wave->etag);
    respond_json(req->conn, 200, wave->source, wave->source_len, headers);
}

/* What the web form needs before it asks anything: whether the wave takes answers, whether it
 * needs an invitation, and the largest submission body this daemon reads (the form refuses
 * longer answers at their field instead of sending them to a 413). A draft never gets here (it
 * is not published). */
static void handle_wave_info(struct request *req, const struct wave *wave)
{
    char body[192];
    int n = snprintf(body, sizeof body,
                     "{\"wave\":\"%s\",\"status\":\"%s\",\"access\":\"%s\","
                     "\"max_body_bytes\":%ld}",
                     wave->id, wave->status == WAVE_OPEN ? "open" : "closed",
                     wave->invite ? "invite" : "open", req->worker->srv->cfg->max_body_bytes);
    if (n <= 0 || (size_t)n >= sizeof body) {
        respond_problem(req->conn, 500, NULL, NULL, NULL, NULL, NULL, false);
        return;
    }
    respond_json(req->conn, 200, body, (size_t)n, NULL);
}

static void handle_healthz(struct request *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    respond_json(req->conn, 200, body, sizeof body - 1, NULL);
}

static void handle_readyz(struct request *req)
{
    if (worker_ready(req->worker)) {
        static const char body[] = "{\"status\":\"ready\"}";
        respond_json(req->conn, 200, body, sizeof body - 1, NULL);
        return;
    }
    respond_unavailable(req->conn, "not_ready", "Not ready",
                        "the database is not reachable or the waves are not loaded yet");
}

static void handle_metrics(struct request *req)
{
    size_t len = 0;
    char *text = metrics_render(req->worker->srv->workers, req->worker->srv->n_workers, &len);
    if (text == NULL) {
        respond_problem(req->conn, 500, NULL, NULL, NULL, NULL, NULL, false);
        return;
    }
    struct response r = {.status = 200,
                         .content_type = "text/plain; version=0.0.4; charset=utf-8",
                         .body = text,
                         .body_len = len};
    conn_respond(req->conn, &r);
    free(text);
}

static bool path_is(const struct request *req, const char *lit)
{
    return req->path_len == strlen(lit) && memcmp(req->path, lit, req->path_len) == 0;
}

/* "/v1/waves/{wave}/{leaf}": the wave id's span and the leaf (NULL for "/v1/waves/{wave}"),
 * or false. */
static bool wave_path(const struct request *req, const char **wave, size_t *wave_len,
                      const char **leaf, size_t *leaf_len)
{
    static const char prefix[] = "/v1/waves/";
    size_t plen = sizeof prefix - 1;
    if (req->path_len <= plen || memcmp(req->path, prefix, plen) != 0) {
        return false;
    }
    const char *id = req->path + plen, *end = req->path + req->path_len;
    const char *slash = memchr(id, '/', (size_t)(end - id));
    const char *id_end = slash != NULL ? slash : end;
    if (id_end == id || id_end - id > 64) {
        return false;
    }
    for (const char *p = id; p < id_end; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
            return false;
        }
    }
    *wave = id;
    *wave_len = (size_t)(id_end - id);
    *leaf = slash != NULL ? slash + 1 : NULL;
    *leaf_len = slash != NULL ? (size_t)(end - slash - 1) : 0;
    return true;
}

static bool method_ok(struct request *req, bool post)
{
    bool ok = post ? req->method == HTTP_METHOD_POST
                   : req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
    if (!ok) {
        int status = req->method == HTTP_METHOD_OTHER ? 501 : 405;
        respond_problem(req->conn, status, NULL, NULL, NULL, NULL,
                        post ? "Allow: POST\r\n" : "Allow: GET, HEAD\r\n", false);
    }
    return ok;
}

static void handle_wave_route(struct request *req, const char *id, size_t id_len, const char *leaf,
                              size_t leaf_len)
{
    struct worker *w = req->worker;
    bool responses = leaf != NULL && leaf_len == 9 && memcmp(leaf, "responses", 9) == 0;
    /* The wave itself ("/v1/waves/{wave}") is read like its questionnaire. */
    bool info = leaf == NULL;
    bool questionnaire = info || (leaf_len == 13 && memcmp(leaf, "questionnaire", 13) == 0);
    if (!responses && !questionnaire) {
        respond_problem(req->conn, 404, NULL, NULL, NULL, NULL, NULL, false);
        return;
    }
    conn_set_route(req->conn, responses ? METRICS_ROUTE_RESPONSES : METRICS_ROUTE_QUESTIONNAIRE);
    if (!method_ok(req, responses)) {
        return;
    }
    if (w->waves == NULL) {
        if (responses) {
            handlers_submission_unavailable(req->conn, "waves not loaded");
        } else {
            respond_unavailable(req->conn, NULL, NULL, NULL);
        }
        return;
    }
    const struct wave *wave = waves_find(w->waves, id, id_len);
    /* A draft is not published: it looks like no wave at all, except to a submission. */
    if (wave == NULL || (questionnaire && wave->status == WAVE_DRAFT)) {
        if (responses) {
            metrics_submission(w->metrics, METRICS_WAVE_NOT_OPEN);
        }
        respond_problem(req->conn, 404, "wave_not_found", "No such survey", NULL, NULL, NULL,
                        false);
        return;
    }
    if (wave->def == NULL) {
        respond_unavailable(req->conn, NULL, NULL, NULL);
        return;
    }
    if (info) {
        handle_wave_info(req, wave);
        return;
    }
    if (questionnaire) {
        handle_questionnaire(req, wave);
        return;
    }
    if (wave->status != WAVE_OPEN) {
        metrics_submission(w->metrics, METRICS_WAVE_NOT_OPEN);
        if (wave->status == WAVE_CLOSED) {
            respond_problem(req->conn, 410, "wave_closed", "This survey is closed", NULL, NULL,
                            NULL, false);
        } else {
            respond_problem(req->conn, 409, "wave_not_open", "This survey is not open yet", NULL,
                            NULL, NULL, false);
        }
        return;
    }
    handle_submission(req, wave);
}

/* ---- the web form ------------------------------------------------------------------------ */

/*
 * Pages get the strict policy: only our own scripts, styles and images, requests only to us, no
 * framing, no <base>. The invitation token is in the page's URL, so no Referer may carry it
 * anywhere. Everything is revalidated (no-cache) against the strong ETag, so a new build is
 * seen at once and an unchanged file costs a 304.
 */
#define PAGE_HEADERS                                                                               \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "           \
    "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "             \
    "base-uri 'none'\r\n"                                                                          \
    "Referrer-Policy: no-referrer\r\n"                                                             \
    "Cross-Origin-Opener-Policy: same-origin\r\n"
#define ASSET_HEADERS "Referrer-Policy: no-referrer\r\n"

static const char *header_value(const struct httpparse_head *head, const char *name, size_t *len)
{
    for (size_t i = 0; i < head->n_headers; i++) {
        if (httpparse_token_eq(head->headers[i].name, head->headers[i].name_len, name)) {
            *len = head->headers[i].value_len;
            return head->headers[i].value;
        }
    }
    return NULL;
}

/* Answer a GET or HEAD with an embedded file, or 304 when the client's copy is current. */
static void respond_file(struct request *req, const struct webstatic_file *f)
{
    conn_set_route(req->conn, METRICS_ROUTE_STATIC);
    if (!method_ok(req, false)) {
        return;
    }
    char headers[512];
    snprintf(headers, sizeof headers, "ETag: %s\r\n%s", f->etag,
             f->html ? PAGE_HEADERS : ASSET_HEADERS);
    size_t inm_len = 0;
    const char *inm = header_value(req->head, "if-none-match", &inm_len);
    bool fresh = inm != NULL && httpparse_etag_matches(inm, inm_len, f->etag);
    struct response r = {
        .status = fresh ? 304 : 200,
        .content_type = f->content_type,
        .body = f->data,
        .body_len = f->len,
        .headers = headers,
        .cache_control = f->html ? "private, no-cache" : "no-cache",
        .body_static = true,
    };
    conn_respond(req->conn, &r);
}

/*
 * "/" (what the site is), "/s/{wave}" (the form; the wave id has the syntax of wave_path's) and
 * "/assets/{name}" (scripts, styles, images: never a page). True when the path is one of them.
 */
static bool web_route(struct request *req)
{
    static const char form_prefix[] = "/s/", asset_prefix[] = "/assets/";
    const char *name = NULL;
    size_t name_len = 0;
    bool page = true;
    if (path_is(req, "/")) {
        name = "index.html";
        name_len = strlen(name);
    } else if (req->path_len > sizeof form_prefix - 1 &&
               memcmp(req->path, form_prefix, sizeof form_prefix - 1) == 0) {
        const char *id = req->path + sizeof form_prefix - 1, *end = req->path + req->path_len;
        if (end - id > 64) {
            return false;
        }
        for (const char *p = id; p < end; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
                return false;
            }
        }
        name = "form.html";
        name_len = strlen(name);
    } else if (req->path_len > sizeof asset_prefix - 1 &&
               memcmp(req->path, asset_prefix, sizeof asset_prefix - 1) == 0) {
        name = req->path + sizeof asset_prefix - 1;
        name_len = req->path_len - (sizeof asset_prefix - 1);
        page = false;
    } else {
        return false;
    }
    const struct webstatic_file *f = webstatic_find(name, name_len);
    if (f == NULL || f->html != page) {
        return false;
    }
    respond_file(req, f);
    return true;
}

void handlers_dispatch(struct request *req)
{
    if (req->method == HTTP_METHOD_OTHER) {
        /* A method we implement nowhere is 501 whatever the path (RFC 9110 15.6.2). */
        respond_problem(req->conn, 501, NULL, NULL, NULL, NULL, NULL, false);
        return;
    }
    static const struct {
        const char *path;
        int route;
        void (*fn)(struct request *req);
    } fixed[] = {
        {"/healthz", METRICS_ROUTE_HEALTHZ, handle_healthz},
        {"/readyz", METRICS_ROUTE_READYZ, handle_readyz},
        {"/metrics", METRICS_ROUTE_METRICS, handle_metrics},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (path_is(req, fixed[i].path)) {
            conn_set_route(req->conn, fixed[i].route);
            if (method_ok(req, false)) {
                fixed[i].fn(req);
            }
            return;
        }
    }
    const char *id, *leaf;
    size_t id_len, leaf_len;
    if (wave_path(req, &id, &id_len, &leaf, &leaf_len)) {
        handle_wave_route(req, id, id_len, leaf, leaf_len);
        return;
    }
    if (web_route(req)) {
        return;
    }
    respond_problem(req->conn, 404, NULL, NULL, NULL, NULL, NULL, false);
}
