/*
 * survey.submit_responses, one outcome per item: created, replayed, conflicts, invitations,
 * wave states and malformed items, called as the daemon's login role would call it. Each case
 * uses waves of its own, so the cases share one migrated database.
 */
#include <stdlib.h>

#include "pgtest.h"
#include "testlib.h"

#define ANSWERS_A "{\"genai_stage\": \"production\", \"caio\": \"appointed\"}"
#define ANSWERS_B "{\"genai_stage\": \"none\", \"caio\": \"no\"}"

static PGconn *admin;  /* superuser: sets up waves and reads tables back */
static PGconn *daemon; /* a login role in survey_daemon: submits */
static char daemon_role[80];

/* Submit one item as the daemon; the outcome goes to out. False when the call failed. */
static bool submit_one(const char *wave, const char *sid, const char *token_hex,
                       const char *answers, bool screened_out, struct pgtest_outcome *out)
{
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, wave, sid, token_hex, answers, screened_out);
    const char *json = pgtest_batch_json(&b);
    return json != NULL && pgtest_submit(daemon, json, out, 1) == 1;
}

static long long rows_for(const char *wave, const char *sid)
{
    const char *params[] = {wave, sid};
    return pgtest_count(admin,
                        "SELECT count(*) FROM survey.responses"
                        " WHERE wave_id = $1 AND submission_id = $2::uuid",
                        2, params);
}

static char *stored_answers(const char *wave, const char *sid)
{
    const char *params[] = {wave, sid};
    return pgtest_value(admin,
                        "SELECT answers::text FROM survey.responses"
                        " WHERE wave_id = $1 AND submission_id = $2::uuid",
                        2, params);
}

static void test_submission_is_created_with_its_receipt(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 101);
    CHECK(pgtest_wave(admin, "created", "open", "open"));
    CHECK(submit_one("created", sid, NULL, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "created");
    CHECK_STR(out.submission_id, sid);
    CHECK(out.has_receipt);
    CHECK(strlen(out.response_id) == 36);

    /* The receipt is the stored row's, and the row has the wave's questionnaire. */
    const char *params[] = {sid, out.response_id, out.received_at};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.responses r JOIN survey.waves w"
                       "    ON w.id = r.wave_id AND w.questionnaire_id = r.questionnaire_id"
                       " WHERE r.submission_id = $1::uuid AND r.receipt_id = $2::uuid"
                       "   AND to_char(r.received_at AT TIME ZONE 'UTC',"
                       "               'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') = $3"
                       "   AND r.answers = '" ANSWERS_A "'::jsonb AND NOT r.screened_out",
                       3, params) == 1);
}

static void test_replay_returns_original_receipt(void)
{
    struct pgtest_outcome first, again;
    char sid[37];
    pgtest_uuid(sid, 201);
    CHECK(pgtest_wave(admin, "replay", "open", "open"));
    CHECK(submit_one("replay", sid, NULL, ANSWERS_A, false, &first));
    CHECK_STR(first.status, "created");
    CHECK(submit_one("replay", sid, NULL, ANSWERS_A, false, &again));
    CHECK_STR(again.status, "replayed");
    CHECK(again.has_receipt);
    CHECK_STR(again.response_id, first.response_id);
    CHECK_STR(again.received_at, first.received_at);
    CHECK(rows_for("replay", sid) == 1);
}

static void test_replay_after_close_returns_original_receipt(void)
{
    struct pgtest_outcome first, again;
    char sid[37];
    pgtest_uuid(sid, 301);
    CHECK(pgtest_wave(admin, "replay-closed", "open", "open"));
    CHECK(submit_one("replay-closed", sid, NULL, ANSWERS_A, false, &first));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'closed' WHERE id = 'replay-closed'"));
    CHECK(submit_one("replay-closed", sid, NULL, ANSWERS_A, false, &again));
    CHECK_STR(again.status, "replayed");
    CHECK_STR(again.response_id, first.response_id);
    CHECK_STR(again.received_at, first.received_at);
}

static void test_same_id_other_answers_is_conflict_and_row_unchanged(void)
{
    struct pgtest_outcome first, other;
    char sid[37];
    pgtest_uuid(sid, 401);
    CHECK(pgtest_wave(admin, "conflict", "open", "open"));
    CHECK(submit_one("conflict", sid, NULL, ANSWERS_A, false, &first));
    CHECK(submit_one("conflict", sid, NULL, ANSWERS_B, false, &other));
    CHECK_STR(other.status, "submission_conflict");
    CHECK(!other.has_receipt);
    CHECK(rows_for("conflict", sid) == 1);
    char *answers = stored_answers("conflict", sid);
    CHECK(answers != NULL && strstr(answers, "production") != NULL);
    free(answers);
}

static void test_valid_invitation_is_spent_by_its_response(void)
{
    struct pgtest_outcome out;
    char sid[37], hash[65];
    pgtest_uuid(sid, 501);
    CHECK(pgtest_wave(admin, "invite-ok", "invite", "open"));
    CHECK(pgtest_invite(admin, "invite-ok", "token-invite-ok", hash));
    CHECK(submit_one("invite-ok", sid, hash, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "created");
    const char *params[] = {hash, sid};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.invitations i"
                       "  JOIN survey.responses r ON r.id = i.response_id"
                       " WHERE i.token_sha256 = decode($1, 'hex') AND i.used_at IS NOT NULL"
                       "   AND r.submission_id = $2::uuid",
                       2, params) == 1);
}

static void test_used_invitation_is_refused_to_another_submission(void)
{
    struct pgtest_outcome first, second;
    char sid1[37], sid2[37], hash[65];
    pgtest_uuid(sid1, 601);
    pgtest_uuid(sid2, 602);
    CHECK(pgtest_wave(admin, "invite-used", "invite", "open"));
    CHECK(pgtest_invite(admin, "invite-used", "token-invite-used", hash));
    CHECK(submit_one("invite-used", sid1, hash, ANSWERS_A, false, &first));
    CHECK_STR(first.status, "created");
    CHECK(submit_one("invite-used", sid2, hash, ANSWERS_A, false, &second));
    CHECK_STR(second.status, "invitation_used");
    CHECK(!second.has_receipt);
    CHECK(rows_for("invite-used", sid2) == 0);
}

static void test_replay_with_spent_invitation_returns_original_receipt(void)
{
    struct pgtest_outcome first, again;
    char sid[37], hash[65];
    pgtest_uuid(sid, 701);
    CHECK(pgtest_wave(admin, "invite-replay", "invite", "open"));
    CHECK(pgtest_invite(admin, "invite-replay", "token-invite-replay", hash));
    CHECK(submit_one("invite-replay", sid, hash, ANSWERS_A, false, &first));
    CHECK(submit_one("invite-replay", sid, hash, ANSWERS_A, false, &again));
    CHECK_STR(again.status, "replayed");
    CHECK_STR(again.response_id, first.response_id);
}

static void test_unknown_token_is_invalid(void)
{
    struct pgtest_outcome out;
    char sid[37], hash[65];
    pgtest_uuid(sid, 801);
    CHECK(pgtest_wave(admin, "invite-unknown", "invite", "open"));
    CHECK(pgtest_invite(admin, "invite-unknown", "token-invite-unknown", hash));
    hash[0] = hash[0] == 'a' ? 'b' : 'a'; /* a digest no invitation has */
    CHECK(submit_one("invite-unknown", sid, hash, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "invitation_invalid");
    CHECK(rows_for("invite-unknown", sid) == 0);
}

static void test_token_of_another_wave_is_invalid_and_stays_unspent(void)
{
    struct pgtest_outcome out;
    char sid[37], hash[65];
    pgtest_uuid(sid, 901);
    CHECK(pgtest_wave(admin, "invite-home", "invite", "open"));
    CHECK(pgtest_wave(admin, "invite-away", "invite", "open"));
    CHECK(pgtest_invite(admin, "invite-home", "token-invite-home", hash));
    CHECK(submit_one("invite-away", sid, hash, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "invitation_invalid");
    const char *params[] = {hash};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.invitations"
                       " WHERE token_sha256 = decode($1, 'hex') AND used_at IS NULL",
                       1, params) == 1);
}

static void test_missing_token_is_invalid_on_invitation_wave(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1001);
    CHECK(pgtest_wave(admin, "invite-missing", "invite", "open"));
    CHECK(submit_one("invite-missing", sid, NULL, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "invitation_invalid");
    CHECK(rows_for("invite-missing", sid) == 0);
}

static void test_token_is_ignored_on_open_access_wave(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1101);
    CHECK(pgtest_wave(admin, "open-access", "open", "open"));
    CHECK(submit_one("open-access", sid,
                     "0000000000000000000000000000000000000000000000000000000000000000", ANSWERS_A,
                     false, &out));
    CHECK_STR(out.status, "created");
}

static void test_draft_wave_is_not_open(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1201);
    CHECK(pgtest_wave(admin, "draft", "open", "draft"));
    CHECK(submit_one("draft", sid, NULL, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "wave_not_open");
    CHECK(!out.has_receipt);
    CHECK(rows_for("draft", sid) == 0);
}

static void test_closed_wave_refuses_new_submissions(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1301);
    CHECK(pgtest_wave(admin, "closed", "open", "closed"));
    CHECK(submit_one("closed", sid, NULL, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "wave_closed");
    CHECK(rows_for("closed", sid) == 0);
}

static void test_unknown_wave_is_reported(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1401);
    CHECK(submit_one("no-such-wave", sid, NULL, ANSWERS_A, false, &out));
    CHECK_STR(out.status, "wave_unknown");
    CHECK_STR(out.submission_id, sid);
}

static void test_malformed_items_do_not_abort_the_batch(void)
{
    struct pgtest_outcome out[12];
    char good1[37], good2[37], bad[37];
    pgtest_uuid(good1, 1501);
    pgtest_uuid(good2, 1502);
    pgtest_uuid(bad, 1503);
    CHECK(pgtest_wave(admin, "malformed", "open", "open"));

    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "malformed", good1, NULL, ANSWERS_A, false);
    pgtest_batch_add(&b, "malformed", "not-a-uuid", NULL, ANSWERS_A, false);
    pgtest_batch_add(&b, "malformed", bad, NULL, "[\"not\", \"an object\"]", false);
    pgtest_batch_raw(&b, "42");
    pgtest_batch_add(&b, "malformed", bad, "ABCDEF", ANSWERS_A, false);
    pgtest_batch_raw(&b, "{\"wave\": \"malformed\", \"submission_id\": "
                         "\"00000000-0000-4000-8000-000000001503\", \"answers\": {}}");
    pgtest_batch_raw(&b, "{\"wave\": 7, \"submission_id\": "
                         "\"00000000-0000-4000-8000-000000001503\", \"answers\": {},"
                         " \"screened_out\": false}");
    pgtest_batch_add(&b, "malformed", "00000000-0000-4000-8000-00000000150'", NULL, ANSWERS_A,
                     false);
    pgtest_batch_add(&b, "malformed", good2, NULL, ANSWERS_B, true);
    const char *json = pgtest_batch_json(&b);
    CHECK(json != NULL);
    int n = json ? pgtest_submit(daemon, json, out, 12) : -1;
    CHECK(n == 9);
    if (n != 9) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    for (int i = 1; i < 8; i++) {
        CHECK_STR(out[i].status, "invalid_item");
        CHECK(!out[i].has_receipt);
    }
    CHECK_STR(out[2].submission_id, bad); /* a well-formed id is echoed */
    CHECK_STR(out[1].submission_id, "");  /* a malformed one is not */
    CHECK_STR(out[8].status, "created");
    CHECK(rows_for("malformed", good1) == 1);
    CHECK(rows_for("malformed", good2) == 1);
    CHECK(rows_for("malformed", bad) == 0);
}

static void test_duplicate_submission_in_one_batch_stores_one_row(void)
{
    struct pgtest_outcome out[3];
    char sid[37];
    pgtest_uuid(sid, 1601);
    CHECK(pgtest_wave(admin, "dup-batch", "open", "open"));
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "dup-batch", sid, NULL, ANSWERS_A, false);
    pgtest_batch_add(&b, "dup-batch", sid, NULL, ANSWERS_A, false);
    pgtest_batch_add(&b, "dup-batch", sid, NULL, ANSWERS_B, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 3) : -1;
    CHECK(n == 3);
    if (n != 3) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    CHECK_STR(out[1].status, "replayed");
    CHECK_STR(out[1].response_id, out[0].response_id);
    CHECK_STR(out[2].status, "submission_conflict");
    CHECK(rows_for("dup-batch", sid) == 1);
}

static void test_one_token_twice_in_a_batch_is_spent_once(void)
{
    struct pgtest_outcome out[3];
    char sid1[37], sid2[37], hash[65];
    pgtest_uuid(sid1, 1701);
    pgtest_uuid(sid2, 1702);
    CHECK(pgtest_wave(admin, "dup-token", "invite", "open"));
    CHECK(pgtest_invite(admin, "dup-token", "token-dup-token", hash));
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "dup-token", sid2, hash, ANSWERS_A, false);
    pgtest_batch_add(&b, "dup-token", sid1, hash, ANSWERS_B, false);
    pgtest_batch_add(&b, "dup-token", sid2, hash, ANSWERS_A, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 3) : -1;
    CHECK(n == 3);
    if (n != 3) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    CHECK_STR(out[1].status, "invitation_used");
    CHECK_STR(out[2].status, "replayed");
    CHECK_STR(out[2].response_id, out[0].response_id);
    const char *params[] = {"dup-token"};
    CHECK(pgtest_count(admin, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", 1,
                       params) == 1);
}

static void test_screened_out_is_stored(void)
{
    struct pgtest_outcome out;
    char sid[37];
    pgtest_uuid(sid, 1801);
    CHECK(pgtest_wave(admin, "screened", "open", "open"));
    CHECK(submit_one("screened", sid, NULL, "{\"role\": \"other\"}", true, &out));
    CHECK_STR(out.status, "created");
    const char *params[] = {sid};
    char *screened = pgtest_value(
        admin, "SELECT screened_out::text FROM survey.responses WHERE submission_id = $1::uuid", 1,
        params);
    CHECK_STR(screened, "true");
    free(screened);
}

static void test_empty_batch_returns_empty_array(void)
{
    char *result = pgtest_value(daemon, "SELECT survey.submit_responses('[]')::text", 0, NULL);
    CHECK_STR(result, "[]");
    free(result);
}

static void test_batch_that_is_not_an_array_is_rejected(void)
{
    CHECK(pgtest_fails_with(daemon, "22023", "SELECT survey.submit_responses('{}')"));
    CHECK(pgtest_fails_with(daemon, "22023", "SELECT survey.submit_responses(NULL)"));
}

static const struct testlib_case cases[] = {
    TEST_CASE(test_submission_is_created_with_its_receipt),
    TEST_CASE(test_replay_returns_original_receipt),
    TEST_CASE(test_replay_after_close_returns_original_receipt),
    TEST_CASE(test_same_id_other_answers_is_conflict_and_row_unchanged),
    TEST_CASE(test_valid_invitation_is_spent_by_its_response),
    TEST_CASE(test_used_invitation_is_refused_to_another_submission),
    TEST_CASE(test_replay_with_spent_invitation_returns_original_receipt),
    TEST_CASE(test_unknown_token_is_invalid),
    TEST_CASE(test_token_of_another_wave_is_invalid_and_stays_unspent),
    TEST_CASE(test_missing_token_is_invalid_on_invitation_wave),
    TEST_CASE(test_token_is_ignored_on_open_access_wave),
    TEST_CASE(test_draft_wave_is_not_open),
    TEST_CASE(test_closed_wave_refuses_new_submissions),
    TEST_CASE(test_unknown_wave_is_reported),
    TEST_CASE(test_malformed_items_do_not_abort_the_batch),
    TEST_CASE(test_duplicate_submission_in_one_batch_stores_one_row),
    TEST_CASE(test_one_token_twice_in_a_batch_is_spent_once),
    TEST_CASE(test_screened_out_is_stored),
    TEST_CASE(test_empty_batch_returns_empty_array),
    TEST_CASE(test_batch_that_is_not_an_array_is_rejected),
};

int main(void)
{
    int rc = 1;
    if (!pgtest_migrate()) {
        return 1;
    }
    admin = pgtest_connect(NULL);
    if (admin == NULL ||
        !pgtest_role(admin, "survey_daemon", "daemon", daemon_role, sizeof daemon_role)) {
        goto out;
    }
    daemon = pgtest_connect(daemon_role);
    if (daemon == NULL) {
        goto out;
    }
    rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
out:
    PQfinish(daemon);
    if (admin != NULL && daemon_role[0] != '\0') {
        pgtest_drop_role(admin, daemon_role);
    }
    PQfinish(admin);
    return rc;
}
