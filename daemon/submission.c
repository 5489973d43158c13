/*
 * Deciding on a submission's body. Order: strict JSON (an object), the envelope, the
 * questionnaire's validation (every problem listed), then the invitation token; the accepted
 * item is re-serialised from the parse, so what is stored is exactly what was validated.
 */
#include "submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "qjson.h"
#include "qval.h"

/* Problem types: the stable part of every error answer. */
static const struct {
    int status;
    const char *type;
    const char *title;
} problem_defaults[] = {
    {400, "malformed_request", "The request is malformed"},
    {401, "invitation_invalid", "The invitation is not valid"},
    {404, "not_found", "Not found"},
    {405, "method_not_allowed", "Method not allowed"},
    {408, "request_timeout", "The request was not received in time"},
    {409, "conflict", "Conflict"},
    {410, "wave_closed", "This survey is closed"},
    {411, "length_required", "Content-Length is required"},
    {413, "body_too_large", "The request body is too large"},
    {414, "uri_too_long", "The request target is too long"},
    {415, "unsupported_media_type", "The body must be application/json"},
    {417, "expectation_failed", "Only 100-continue is supported"},
    {422, "validation_failed", "The answers are not valid"},
    {429, "rate_limited", "Too many submissions from this address"},
    {431, "headers_too_large", "The request head is too large"},
    {500, "internal_error", "Internal error"},
    {501, "not_implemented", "Method not implemented"},
    {503, "unavailable", "The service is temporarily unavailable"},
    {505, "http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are supported"},
};

static const char *default_type(int status, const char **title)
{
    for (size_t i = 0; i < sizeof problem_defaults / sizeof problem_defaults[0]; i++) {
        if (problem_defaults[i].status == status) {
            *title = problem_defaults[i].title;
            return problem_defaults[i].type;
        }
    }
    *title = "Error";
    return "error";
}

char *submission_problem_document(int status, const char *type, const char *title,
                                  const char *detail, const struct qproblems *problems)
{
    const char *dtitle;
    const char *dtype = default_type(status, &dtitle);
    char type_uri[96];
    snprintf(type_uri, sizeof type_uri, "/problems/%s", type ? type : dtype);
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }
    cJSON_AddStringToObject(doc, "type", type_uri);
    cJSON_AddStringToObject(doc, "title", title ? title : dtitle);
    cJSON_AddNumberToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "detail", detail ? detail : (title ? title : dtitle));
    if (problems != NULL && problems->count > 0) {
        cJSON *errors = cJSON_AddArrayToObject(doc, "errors");
        for (size_t i = 0; errors != NULL && i < problems->count; i++) {
            cJSON *e = cJSON_CreateObject();
            if (e == NULL) {
                break;
            }
            cJSON_AddStringToObject(e, "path", problems->items[i].path);
            cJSON_AddStringToObject(e, "code", problems->items[i].code);
            cJSON_AddStringToObject(e, "message", problems->items[i].message);
            cJSON_AddItemToArray(errors, e);
        }
    }
    char *body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return body;
}

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36) {
        return false;
    }
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-'
                 : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                     (ch >= 'A' && ch <= 'F'))) {
            return false;
        }
    }
    return true;
}

static bool is_token(const char *s)
{
    size_t n = strlen(s);
    if (n < 16 || n > 256) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_')) {
            return false;
        }
    }
    return true;
}

static bool sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        return false;
    }
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    return true;
}

/* Check the envelope {"submission_id", "token", "answers"}; problems go to pr. */
static void check_envelope(const cJSON *root, struct qproblems *pr)
{
    static const char *const allowed[] = {"submission_id", "token", "answers"};
    for (const cJSON *m = root->child; m != NULL; m = m->next) {
        bool ok = false;
        for (size_t i = 0; i < 3 && !ok; i++) {
            ok = strcmp(m->string, allowed[i]) == 0;
        }
        if (!ok) {
            qproblems_add(pr, "/", "unknown_member",
                          "the body has a member other than submission_id, token and answers");
            break;
        }
    }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "submission_id");
    if (sid == NULL) {
        qproblems_add(pr, "/submission_id", "required", "is required");
    } else if (!cJSON_IsString(sid)) {
        qproblems_add(pr, "/submission_id", "wrong_type", "must be a string");
    } else if (!is_uuid(sid->valuestring)) {
        qproblems_add(pr, "/submission_id", "invalid_uuid", "must be a UUID");
    }
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(root, "answers");
    if (answers == NULL) {
        qproblems_add(pr, "/answers", "required", "is required");
    }
}

static void refuse(struct submission_decision *d, enum submission_verdict verdict, int status,
                   const char *type, const char *title, const char *detail)
{
    d->verdict = verdict;
    d->status = status;
    d->type = type;
    d->title = title;
    snprintf(d->detail, sizeof d->detail, "%s", detail ? detail : "");
}

/* The batch item from the validated parse; the answers are moved out of root. */
static char *make_item(cJSON *root, const char *wave_id, bool invite, const char *token_hash,
                       bool screened_out)
{
    cJSON *item = cJSON_CreateObject();
    if (item == NULL) {
        return NULL;
    }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "submission_id");
    char sid_lower[37];
    for (int i = 0; i < 37; i++) {
        char ch = sid->valuestring[i];
        sid_lower[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
    }
    cJSON_AddStringToObject(item, "wave", wave_id);
    cJSON_AddStringToObject(item, "submission_id", sid_lower);
    if (invite) {
        cJSON_AddStringToObject(item, "token_sha256", token_hash);
    } else {
        cJSON_AddNullToObject(item, "token_sha256");
    }
    cJSON_AddItemToObject(item, "answers",
                          cJSON_DetachItemFromObjectCaseSensitive(root, "answers"));
    cJSON_AddBoolToObject(item, "screened_out", screened_out);
    char *text = cJSON_PrintUnformatted(item);
    cJSON_Delete(item);
    return text;
}

void submission_decide(const struct qdef *def, const char *wave_id, bool invite, const char *body,
                       size_t len, size_t max_body, struct submission_decision *d)
{
    memset(d, 0, sizeof *d);
    qproblems_init(&d->problems, QVAL_MAX_PROBLEMS);
    struct qjson_limits limits = {max_body, 32, 10000, 256u << 10};
    enum qjson_error err = QJSON_OK;
    cJSON *root = qjson_parse(body, len, &limits, &err, NULL);
    if (root == NULL || !cJSON_IsObject(root)) {
        char detail[96];
        snprintf(detail, sizeof detail, "the body is not a JSON object: %s",
                 root ? "another JSON value" : qjson_strerror(err));
        cJSON_Delete(root);
        refuse(d, SUBMISSION_MALFORMED, 400, "malformed_json", "The body is not valid JSON",
               detail);
        return;
    }
    check_envelope(root, &d->problems);
    cJSON *answers = cJSON_GetObjectItemCaseSensitive(root, "answers");
    struct qval_outcome outcome = {false, -1};
    if (answers != NULL) {
        qval_validate(def, answers, &d->problems, &outcome);
    }
    if (d->problems.count > 0) {
        cJSON_Delete(root);
        refuse(d, SUBMISSION_INVALID, 422, NULL, NULL, "some answers are missing or not valid");
        return;
    }
    char token_hash[65] = "";
    if (invite) {
        const cJSON *token = cJSON_GetObjectItemCaseSensitive(root, "token");
        if (!cJSON_IsString(token) || !is_token(token->valuestring) ||
            !sha256_hex(token->valuestring, token_hash)) {
            cJSON_Delete(root);
            refuse(d, SUBMISSION_INVITATION, 401, NULL, NULL,
                   "this survey needs a valid invitation link");
            return;
        }
    }
    d->item = make_item(root, wave_id, invite, token_hash, outcome.screened_out);
    cJSON_Delete(root);
    if (d->item == NULL) {
        refuse(d, SUBMISSION_INTERNAL, 500, NULL, NULL, NULL);
        return;
    }
    d->item_len = strlen(d->item);
    d->verdict = SUBMISSION_ACCEPTED;
}

void submission_clear(struct submission_decision *d)
{
    qproblems_clear(&d->problems);
    free(d->item);
    d->item = NULL;
}
