/*
 * libFuzzer target for surveyd's submission path without sockets: arbitrary bytes as the body
 * of a POST to the bundled questionnaire's wave (the first byte chooses an invitation or an open
 * wave), through submission_decide and the problem document. Invariants: every verdict has its
 * status; a refusal's problem document is valid JSON naming that status, and a 422 lists at
 * least one error; an accepted body gives an item that is valid JSON with a lower-case UUID,
 * the wave, a token hash exactly when the wave needs one, and answers that validate again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "qdef.h"
#include "qval.h"
#include "submission.h"

#include "bundled.h"

#define BODY_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(const struct submission_decision *d)
{
    static const int expected[] = {[SUBMISSION_MALFORMED] = 400,
                                   [SUBMISSION_INVALID] = 422,
                                   [SUBMISSION_INVITATION] = 401,
                                   [SUBMISSION_INTERNAL] = 500};
    if (d->item != NULL || d->status != expected[d->verdict]) {
        abort();
    }
    if (d->verdict == SUBMISSION_INVALID && d->problems.count == 0) {
        abort();
    }
    char *doc = submission_problem_document(d->status, d->type, d->title,
                                            d->detail[0] ? d->detail : NULL, &d->problems);
    if (doc == NULL) {
        return; /* out of memory: the daemon answers its fixed 500 */
    }
    cJSON *parsed = cJSON_Parse(doc);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(parsed, "status");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(parsed, "type");
    if (parsed == NULL || !cJSON_IsNumber(status) || status->valueint != d->status ||
        !cJSON_IsString(type) || strncmp(type->valuestring, "/problems/", 10) != 0) {
        abort();
    }
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(parsed, "errors");
    if ((size_t)cJSON_GetArraySize(errors) != d->problems.count) {
        abort();
    }
    cJSON_Delete(parsed);
    free(doc);
}

static void check_item(const struct qdef *def, const struct submission_decision *d, bool invite)
{
    cJSON *item = d->item ? cJSON_Parse(d->item) : NULL;
    if (item == NULL || d->status != 0 || d->item_len != strlen(d->item)) {
        abort();
    }
    const cJSON *wave = cJSON_GetObjectItemCaseSensitive(item, "wave");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(item, "submission_id");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(item, "token_sha256");
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(item, "answers");
    const cJSON *screened = cJSON_GetObjectItemCaseSensitive(item, "screened_out");
    if (!cJSON_IsString(wave) || strcmp(wave->valuestring, "fuzz-wave") != 0 ||
        !cJSON_IsString(sid) || strlen(sid->valuestring) != 36 || !cJSON_IsBool(screened) ||
        answers == NULL) {
        abort();
    }
    for (const char *p = sid->valuestring; *p; p++) {
        if (*p >= 'A' && *p <= 'F') {
            abort();
        }
    }
    if (invite ? !(cJSON_IsString(token) && strlen(token->valuestring) == 64)
               : !cJSON_IsNull(token)) {
        abort();
    }
    /* What is stored is what was validated: the re-serialised answers validate again, with the
     * same screening outcome. */
    struct qproblems again;
    qproblems_init(&again, QVAL_MAX_PROBLEMS);
    struct qval_outcome outcome = {false, -1};
    qval_validate(def, answers, &again, &outcome);
    if (again.count != 0 || outcome.screened_out != cJSON_IsTrue(screened)) {
        abort();
    }
    qproblems_clear(&again);
    cJSON_Delete(item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qdef *def;
    if (def == NULL) {
        def = fuzz_bundled_definition();
    }
    if (size == 0 || size - 1 > BODY_MAX) {
        return 0;
    }
    bool invite = data[0] & 1;
    struct submission_decision d;
    submission_decide(def, "fuzz-wave", invite, (const char *)data + 1, size - 1, BODY_MAX, &d);
    if (d.verdict == SUBMISSION_ACCEPTED) {
        check_item(def, &d, invite);
    } else {
        check_refusal(&d);
    }
    submission_clear(&d);
    return 0;
}
