/*
 * The routes of DESIGN.md's HTTP contract and the answers they give: receipts, questionnaire
 * definitions, health, metrics, and RFC 9457 problem documents for every error. Nothing from
 * the database's errors or the client's input is echoed into an answer.
 */
#ifndef SURVEYD_HANDLERS_H
#define SURVEYD_HANDLERS_H

#include <cjson/cJSON.h>

struct request;
struct conn;

/* Route one complete request and answer it, now or through the batcher. */
void handlers_dispatch(struct request *req);

/* Answer a request that failed before routing (framing, limits, timeouts); closes after. */
void handlers_framing_error(struct conn *c, int status);

/* Answer a submission from its element of submit_responses' result. */
void handlers_submission_result(struct conn *c, const cJSON *result);

/* Answer a submission 503: the database is down or the outcome is unknown. */
void handlers_submission_unavailable(struct conn *c, const char *why);

#endif
