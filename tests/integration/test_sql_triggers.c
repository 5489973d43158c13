/*
 * The rules the schema enforces by itself: a wave's one-way lifecycle, immutable questionnaires
 * and responses, erasure that keeps an invitation spent, and the wave_changed notification the
 * daemons refresh their cache on (delivered at commit, never for a rolled-back change).
 */
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "pgtest.h"
#include "testlib.h"

#define NOTIFY_TIMEOUT_MS 10000

static PGconn *admin;

static char *wave_field(const char *wave, const char *expr)
{
    char sql[256];
    const char *params[] = {wave};
    snprintf(sql, sizeof sql, "SELECT (%s)::text FROM survey.waves WHERE id = $1", expr);
    return pgtest_value(admin, sql, 1, params);
}

static void test_wave_opens_from_draft_and_records_opened_at(void)
{
    CHECK(pgtest_wave(admin, "t-open", "open", "draft"));
    char *opened = wave_field("t-open", "opened_at IS NULL");
    CHECK_STR(opened, "true");
    free(opened);
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'open' WHERE id = 't-open'"));
    opened = wave_field("t-open", "opened_at IS NOT NULL AND closed_at IS NULL");
    CHECK_STR(opened, "true");
    free(opened);
}

static void test_wave_closes_from_open_and_records_closed_at(void)
{
    CHECK(pgtest_wave(admin, "t-close", "open", "open"));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'closed' WHERE id = 't-close'"));
    char *closed = wave_field("t-close", "closed_at >= opened_at AND status = 'closed'");
    CHECK_STR(closed, "true");
    free(closed);
}

static void test_closed_wave_cannot_reopen(void)
{
    CHECK(pgtest_wave(admin, "t-reopen", "open", "closed"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET status = 'open' WHERE id = 't-reopen'"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET status = 'draft' WHERE id = 't-reopen'"));
    char *status = wave_field("t-reopen", "status");
    CHECK_STR(status, "closed");
    free(status);
}

static void test_open_wave_cannot_go_back_to_draft(void)
{
    CHECK(pgtest_wave(admin, "t-back", "open", "open"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET status = 'draft' WHERE id = 't-back'"));
}

static void test_draft_wave_cannot_close_without_opening(void)
{
    CHECK(pgtest_wave(admin, "t-skip", "open", "draft"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET status = 'closed' WHERE id = 't-skip'"));
}

static void test_wave_timestamps_cannot_be_set_by_hand(void)
{
    CHECK(pgtest_wave(admin, "t-stamp", "open", "open"));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET opened_at = '2000-01-01', closed_at = now()"
                           " WHERE id = 't-stamp'"));
    char *kept = wave_field("t-stamp", "opened_at > '2000-01-02' AND closed_at IS NULL");
    CHECK_STR(kept, "true");
    free(kept);
}

static void test_open_wave_keeps_its_questionnaire_and_access(void)
{
    CHECK(pgtest_wave(admin, "t-keep", "open", "draft"));
    /* In draft both may still change. */
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET access = 'invite' WHERE id = 't-keep'"));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'open' WHERE id = 't-keep'"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET access = 'open' WHERE id = 't-keep'"));
    CHECK(pgtest_ok(admin, "INSERT INTO survey.questionnaires (qid, version, sha256, source,"
                           " definition) VALUES ('t-keep', '2', sha256('t-keep'), '{}', '{}')"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.waves SET questionnaire_id ="
                            " (SELECT id FROM survey.questionnaires WHERE qid = 't-keep')"
                            " WHERE id = 't-keep'"));
}

static void test_questionnaire_update_is_rejected(void)
{
    long long qid = pgtest_questionnaire(admin);
    CHECK(qid > 0);
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.questionnaires SET version = version || 'x'"));
    CHECK(pgtest_fails_with(admin, "55000", "UPDATE survey.questionnaires SET definition = '{}'"));
}

static void test_referenced_questionnaire_cannot_be_deleted(void)
{
    CHECK(pgtest_wave(admin, "t-qref", "open", "draft"));
    CHECK(pgtest_fails_with(admin, "23503",
                            "DELETE FROM survey.questionnaires WHERE id ="
                            " (SELECT questionnaire_id FROM survey.waves WHERE id = 't-qref')"));
}

/* Store one response through submit_responses (as the superuser: privileges are tested apart). */
static bool store_response(const char *wave, unsigned n, const char *token_hex)
{
    struct pgtest_outcome out;
    struct pgtest_batch b;
    char sid[37];
    pgtest_uuid(sid, n);
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, wave, sid, token_hex, "{\"caio\": \"no\"}", false);
    const char *json = pgtest_batch_json(&b);
    return json != NULL && pgtest_submit(admin, json, &out, 1) == 1 &&
           strcmp(out.status, "created") == 0;
}

static void test_response_update_is_rejected(void)
{
    CHECK(pgtest_wave(admin, "t-resp", "open", "open"));
    CHECK(store_response("t-resp", 1, NULL));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.responses SET answers = '{\"caio\": \"appointed\"}'"
                            " WHERE wave_id = 't-resp'"));
    CHECK(pgtest_fails_with(admin, "55000",
                            "UPDATE survey.responses SET screened_out = true"
                            " WHERE wave_id = 't-resp'"));
}

static void test_erased_response_leaves_its_invitation_spent(void)
{
    char hash[65];
    struct pgtest_outcome out;
    struct pgtest_batch b;
    char sid[37];
    CHECK(pgtest_wave(admin, "t-erase", "invite", "open"));
    CHECK(pgtest_invite(admin, "t-erase", "token-t-erase", hash));
    CHECK(store_response("t-erase", 2, hash));
    CHECK(pgtest_ok(admin, "DELETE FROM survey.responses WHERE wave_id = 't-erase'"));
    const char *params[] = {hash};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.invitations WHERE token_sha256 ="
                       " decode($1, 'hex') AND used_at IS NOT NULL AND response_id IS NULL",
                       1, params) == 1);
    /* A retry of the erased submission does not bring it back. */
    pgtest_uuid(sid, 2);
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "t-erase", sid, hash, "{\"caio\": \"no\"}", false);
    const char *json = pgtest_batch_json(&b);
    CHECK(json != NULL && pgtest_submit(admin, json, &out, 1) == 1);
    CHECK_STR(out.status, "invitation_used");
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait, at most NOTIFY_TIMEOUT_MS, for a wave_changed notification with this payload on
 * listener; the payloads of earlier ones are counted in *unexpected when they equal avoid.
 */
static bool wait_wave_changed(PGconn *listener, const char *payload, const char *avoid,
                              int *unexpected)
{
    long long deadline = now_ms() + NOTIFY_TIMEOUT_MS;
    for (;;) {
        if (!PQconsumeInput(listener)) {
            fprintf(stderr, "listener: %s", PQerrorMessage(listener));
            return false;
        }
        PGnotify *note;
        while ((note = PQnotifies(listener)) != NULL) {
            bool channel = strcmp(note->relname, "wave_changed") == 0;
            bool match = channel && strcmp(note->extra, payload) == 0;
            if (channel && avoid != NULL && strcmp(note->extra, avoid) == 0) {
                (*unexpected)++;
            }
            PQfreemem(note);
            if (match) {
                return true;
            }
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "no wave_changed \"%s\" within %d ms\n", payload, NOTIFY_TIMEOUT_MS);
            return false;
        }
        struct pollfd pfd = {.fd = PQsocket(listener), .events = POLLIN};
        if (poll(&pfd, 1, (int)left) < 0) {
            return false;
        }
    }
}

static void test_wave_status_change_notifies_wave_changed(void)
{
    int unexpected = 0;
    PGconn *listener = pgtest_connect(NULL);
    CHECK(listener != NULL);
    if (listener == NULL) {
        return;
    }
    CHECK(pgtest_ok(listener, "LISTEN wave_changed"));
    CHECK(pgtest_wave(admin, "t-notify", "open", "draft"));
    CHECK(wait_wave_changed(listener, "t-notify", NULL, &unexpected));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'open' WHERE id = 't-notify'"));
    CHECK(wait_wave_changed(listener, "t-notify", NULL, &unexpected));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'closed' WHERE id = 't-notify'"));
    CHECK(wait_wave_changed(listener, "t-notify", NULL, &unexpected));
    PQfinish(listener);
}

static void test_rolled_back_change_does_not_notify(void)
{
    int unexpected = 0;
    PGconn *listener = pgtest_connect(NULL);
    CHECK(listener != NULL);
    if (listener == NULL) {
        return;
    }
    CHECK(pgtest_wave(admin, "t-undone", "open", "draft"));
    CHECK(pgtest_ok(listener, "LISTEN wave_changed"));
    CHECK(pgtest_ok(admin, "BEGIN"));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'open' WHERE id = 't-undone'"));
    CHECK(pgtest_ok(admin, "ROLLBACK"));
    /* Notifications arrive in commit order: once the marker is here, the undone one never is. */
    CHECK(pgtest_wave(admin, "t-marker", "open", "draft"));
    CHECK(wait_wave_changed(listener, "t-marker", "t-undone", &unexpected));
    CHECK(unexpected == 0);
    PQfinish(listener);
}

static const struct testlib_case cases[] = {
    TEST_CASE(test_wave_opens_from_draft_and_records_opened_at),
    TEST_CASE(test_wave_closes_from_open_and_records_closed_at),
    TEST_CASE(test_closed_wave_cannot_reopen),
    TEST_CASE(test_open_wave_cannot_go_back_to_draft),
    TEST_CASE(test_draft_wave_cannot_close_without_opening),
    TEST_CASE(test_wave_timestamps_cannot_be_set_by_hand),
    TEST_CASE(test_open_wave_keeps_its_questionnaire_and_access),
    TEST_CASE(test_questionnaire_update_is_rejected),
    TEST_CASE(test_referenced_questionnaire_cannot_be_deleted),
    TEST_CASE(test_response_update_is_rejected),
    TEST_CASE(test_erased_response_leaves_its_invitation_spent),
    TEST_CASE(test_wave_status_change_notifies_wave_changed),
    TEST_CASE(test_rolled_back_change_does_not_notify),
};

int main(void)
{
    int rc = 1;
    if (!pgtest_migrate()) {
        return 1;
    }
    admin = pgtest_connect(NULL);
    if (admin != NULL) {
        rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    }
    PQfinish(admin);
    return rc;
}
