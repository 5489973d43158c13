/*
 * A submission's body, decided without sockets: strict JSON, the envelope, the questionnaire's
 * validation and the invitation token give either a refusal (an HTTP status, a stable problem
 * type, the validator's problems) or the item the batcher sends to submit_responses. The
 * request handler adds what needs the connection (rate limit, media type) and the answer; the
 * fuzz target (tests/fuzz/fuzz_submission.c) drives this path from arbitrary bytes.
 */
#ifndef SURVEYD_SUBMISSION_H
#define SURVEYD_SUBMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "qdef.h"
#include "qproblem.h"

enum submission_verdict {
    SUBMISSION_ACCEPTED,   /* item holds the batch item */
    SUBMISSION_MALFORMED,  /* 400: not a JSON object */
    SUBMISSION_INVALID,    /* 422: problems lists every reason */
    SUBMISSION_INVITATION, /* 401: no or malformed token on an invitation wave */
    SUBMISSION_INTERNAL,   /* 500: out of memory */
};

struct submission_decision {
    enum submission_verdict verdict;
    int status;             /* the HTTP status of the answer; 0 when accepted */
    const char *type;       /* problem type, NULL for the status's default */
    const char *title;      /* NULL for the default */
    char detail[128];       /* a sentence of ours, never input */
    struct qproblems problems;
    char *item;             /* accepted: {"wave", "submission_id", "token_sha256", "answers",
                               "screened_out"} as JSON text; free with submission_clear */
    size_t item_len;
};

/*
 * Decide on len bytes of body for wave wave_id (invite: an invitation token is required) with
 * definition def; bodies are at most max_body bytes (the caller has enforced it already; it
 * bounds the JSON parser too). d must be cleared with submission_clear afterwards.
 */
void submission_decide(const struct qdef *def, const char *wave_id, bool invite, const char *body,
                       size_t len, size_t max_body, struct submission_decision *d);

void submission_clear(struct submission_decision *d);

/* The problem document (RFC 9457) for status with type/title (NULL: defaults), detail (NULL:
 * the title) and problems (NULL or empty: no "errors"), as malloc'd JSON text, or NULL when out
 * of memory. */
char *submission_problem_document(int status, const char *type, const char *title,
                                  const char *detail, const struct qproblems *problems);

#endif
