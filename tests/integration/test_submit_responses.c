/*
 * survey.submit_responses, one outcome per item: created, replayed, conflicts, invitations,
 * wave states and malformed items, called as the daemon's login role would call it. Each case
 * uses waves of its own, so the cases share one migrated database.
 */
#include <stdlib.h>
#include <string.h>

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

/* Whether the invitation with this digest is spent by the response stored for (wave, sid). */
static bool invitation_bound_to(const char *hash, const char *wave, const char *sid)
{
    const char *params[] = {hash, wave, sid};
    return pgtest_count(admin,
                        "SELECT count(*) FROM survey.invitations i"
                        "  JOIN survey.responses r ON r.id = i.response_id"
                        " WHERE i.token_sha256 = decode($1, 'hex') AND i.used_at IS NOT NULL"
                        "   AND r.wave_id = $2 AND r.submission_id = $3::uuid",
                        3, params) == 1;
}

static bool invitation_unspent(const char *hash)
{
    const char *params[] = {hash};
    return pgtest_count(
               admin,
               "SELECT count(*) FROM survey.invitations WHERE token_sha256 = decode($1, 'hex')"
               "   AND used_at IS NULL AND response_id IS NULL",
               1, params) == 1;
}

/* The batch is stored in (wave, submission_id) order, not in its own: every receipt must still
 * go to its own item, and every row must hold its own item's answers. */
static void test_receipts_of_a_batch_belong_to_their_own_items(void)
{
    enum { N = 8 };
    struct pgtest_outcome out[N];
    char sid[N][37];
    const char *waves[] = {"own-b", "own-a"};
    CHECK(pgtest_wave(admin, "own-a", "open", "open"));
    CHECK(pgtest_wave(admin, "own-b", "open", "open"));
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    for (int i = 0; i < N; i++) {
        pgtest_uuid(sid[i], 1900 - (unsigned)i); /* descending */
        pgtest_batch_add(&b, waves[i % 2], sid[i], NULL, i % 3 ? ANSWERS_A : ANSWERS_B, i % 2);
    }
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, N) : -1;
    CHECK(n == N);
    if (n != N) {
        return;
    }
    for (int i = 0; i < N; i++) {
        CHECK_STR(out[i].status, "created");
        CHECK_STR(out[i].submission_id, sid[i]);
        const char *params[] = {out[i].response_id,
                                waves[i % 2],
                                sid[i],
                                out[i].received_at,
                                i % 3 ? ANSWERS_A : ANSWERS_B,
                                i % 2 ? "true" : "false"};
        CHECK(pgtest_count(admin,
                           "SELECT count(*) FROM survey.responses"
                           " WHERE receipt_id = $1::uuid AND wave_id = $2"
                           "   AND submission_id = $3::uuid"
                           "   AND to_char(received_at AT TIME ZONE 'UTC',"
                           "               'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') = $4"
                           "   AND answers = $5::jsonb AND screened_out = $6::boolean",
                           6, params) == 1);
    }
}

static void test_same_submission_id_in_two_waves_is_two_submissions(void)
{
    struct pgtest_outcome out[2];
    char sid[37];
    pgtest_uuid(sid, 2001);
    CHECK(pgtest_wave(admin, "two-a", "open", "open"));
    CHECK(pgtest_wave(admin, "two-b", "open", "open"));
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "two-b", sid, NULL, ANSWERS_A, false);
    pgtest_batch_add(&b, "two-a", sid, NULL, ANSWERS_B, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n != 2) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    CHECK_STR(out[1].status, "created");
    CHECK(strcmp(out[0].response_id, out[1].response_id) != 0);
    CHECK(rows_for("two-a", sid) == 1 && rows_for("two-b", sid) == 1);
}

/* A UUID in capitals is the same submission_id; outcomes echo it in lower case. */
static void test_submission_id_in_capitals_is_the_same_submission(void)
{
    struct pgtest_outcome out[2];
    CHECK(pgtest_wave(admin, "capitals", "open", "open"));
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "capitals", "ABCDEF00-0000-4000-8000-0000000020AB", NULL, ANSWERS_A,
                     false);
    pgtest_batch_add(&b, "capitals", "abcdef00-0000-4000-8000-0000000020ab", NULL, ANSWERS_A,
                     false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n != 2) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    CHECK_STR(out[0].submission_id, "abcdef00-0000-4000-8000-0000000020ab");
    CHECK_STR(out[1].status, "replayed");
    CHECK_STR(out[1].response_id, out[0].response_id);
    CHECK(rows_for("capitals", "abcdef00-0000-4000-8000-0000000020ab") == 1);
}

/* An item whose token cannot be claimed is judged as 0001 judged it, before any insert of its
 * batch: another item of the batch storing the same submission_id does not make it a replay. */
static void test_unclaimable_token_is_judged_before_the_batch_inserts(void)
{
    struct pgtest_outcome out[2], first;
    char sid1[37], sid2[37], sid3[37], spent[65], fresh[65], fresh2[65], unknown[65];
    pgtest_uuid(sid1, 2101);
    pgtest_uuid(sid2, 2102);
    pgtest_uuid(sid3, 2103);
    CHECK(pgtest_wave(admin, "unclaimable", "invite", "open"));
    CHECK(pgtest_invite(admin, "unclaimable", "token-unclaimable-spent", spent));
    CHECK(pgtest_invite(admin, "unclaimable", "token-unclaimable-fresh", fresh));
    CHECK(pgtest_invite(admin, "unclaimable", "token-unclaimable-fresh2", fresh2));
    memcpy(unknown, fresh2, sizeof unknown);
    unknown[0] = unknown[0] == 'a' ? 'b' : 'a'; /* a digest no invitation has */
    CHECK(submit_one("unclaimable", sid3, spent, ANSWERS_A, false, &first));
    CHECK_STR(first.status, "created");

    /* The spent token first, then a valid one, for one submission_id. */
    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "unclaimable", sid1, spent, ANSWERS_A, false);
    pgtest_batch_add(&b, "unclaimable", sid1, fresh, ANSWERS_A, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(out[0].status, "invitation_used");
        CHECK(!out[0].has_receipt);
        CHECK_STR(out[1].status, "created");
    }
    CHECK(invitation_bound_to(fresh, "unclaimable", sid1));

    /* A valid token first, then one no invitation has. */
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "unclaimable", sid2, fresh2, ANSWERS_A, false);
    pgtest_batch_add(&b, "unclaimable", sid2, unknown, ANSWERS_A, false);
    json = pgtest_batch_json(&b);
    n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(out[0].status, "created");
        CHECK_STR(out[1].status, "invitation_invalid");
    }
    CHECK(rows_for("unclaimable", sid1) == 1 && rows_for("unclaimable", sid2) == 1);
}

/* One token sent to two waves in one batch: only the item of the token's own wave can claim
 * it, whichever comes first. */
static void test_token_sent_to_two_waves_in_one_batch(void)
{
    struct pgtest_outcome out[2];
    char sid[4][37], hash1[65], hash2[65];
    for (unsigned i = 0; i < 4; i++) {
        pgtest_uuid(sid[i], 2201 + i);
    }
    CHECK(pgtest_wave(admin, "two-waves-home", "invite", "open"));
    CHECK(pgtest_wave(admin, "two-waves-away", "invite", "open"));
    CHECK(pgtest_invite(admin, "two-waves-home", "token-two-waves-1", hash1));
    CHECK(pgtest_invite(admin, "two-waves-home", "token-two-waves-2", hash2));

    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "two-waves-away", sid[0], hash1, ANSWERS_A, false);
    pgtest_batch_add(&b, "two-waves-home", sid[1], hash1, ANSWERS_A, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(out[0].status, "invitation_invalid");
        CHECK_STR(out[1].status, "created");
    }
    CHECK(invitation_bound_to(hash1, "two-waves-home", sid[1]));

    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "two-waves-home", sid[2], hash2, ANSWERS_A, false);
    pgtest_batch_add(&b, "two-waves-away", sid[3], hash2, ANSWERS_A, false);
    json = pgtest_batch_json(&b);
    n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(out[0].status, "created");
        CHECK_STR(out[1].status, "invitation_invalid");
    }
    CHECK(invitation_bound_to(hash2, "two-waves-home", sid[2]));
    CHECK(rows_for("two-waves-away", sid[0]) == 0 && rows_for("two-waves-away", sid[3]) == 0);
}

/* A duplicate in one batch that claimed a token of its own does not spend it: the token stays
 * free for the next item of the batch that carries it. */
static void test_token_of_a_duplicate_in_a_batch_stays_unspent(void)
{
    struct pgtest_outcome out[3];
    char sid1[37], sid2[37], hash1[65], hash2[65], hash3[65];
    pgtest_uuid(sid1, 2301);
    pgtest_uuid(sid2, 2302);
    CHECK(pgtest_wave(admin, "dup-claim", "invite", "open"));
    CHECK(pgtest_invite(admin, "dup-claim", "token-dup-claim-1", hash1));
    CHECK(pgtest_invite(admin, "dup-claim", "token-dup-claim-2", hash2));
    CHECK(pgtest_invite(admin, "dup-claim", "token-dup-claim-3", hash3));

    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "dup-claim", sid1, hash1, ANSWERS_A, false);
    pgtest_batch_add(&b, "dup-claim", sid1, hash3, ANSWERS_A, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 2) : -1;
    CHECK(n == 2);
    if (n == 2) {
        CHECK_STR(out[0].status, "created");
        CHECK_STR(out[1].status, "replayed");
        CHECK_STR(out[1].response_id, out[0].response_id);
    }
    CHECK(invitation_bound_to(hash1, "dup-claim", sid1));
    CHECK(invitation_unspent(hash3));

    /* The duplicate's token, then carried by another submission, goes to that one. */
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "dup-claim", sid1, hash2, ANSWERS_A, false);
    pgtest_batch_add(&b, "dup-claim", sid2, hash3, ANSWERS_B, true);
    pgtest_batch_add(&b, "dup-claim", sid2, hash2, ANSWERS_B, true);
    json = pgtest_batch_json(&b);
    n = json ? pgtest_submit(daemon, json, out, 3) : -1;
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(out[0].status, "replayed");
        CHECK_STR(out[1].status, "created");
        CHECK_STR(out[2].status, "replayed");
        CHECK_STR(out[2].response_id, out[1].response_id);
    }
    CHECK(invitation_bound_to(hash3, "dup-claim", sid2));
    CHECK(invitation_unspent(hash2));
}

/* Items whose token an earlier item of the batch claimed are decided after the inserts, in
 * batch order: here the third takes the token the second gave back and stores sid2, so the
 * fourth (sid2 with other answers) is a conflict, not a spent invitation. */
static void test_items_sharing_a_token_are_decided_in_batch_order(void)
{
    struct pgtest_outcome out[4];
    char sid1[37], sid2[37], hash1[65], hash2[65];
    pgtest_uuid(sid1, 2401);
    pgtest_uuid(sid2, 2402);
    CHECK(pgtest_wave(admin, "shared-order", "invite", "open"));
    CHECK(pgtest_invite(admin, "shared-order", "token-shared-order-1", hash1));
    CHECK(pgtest_invite(admin, "shared-order", "token-shared-order-2", hash2));

    struct pgtest_batch b;
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "shared-order", sid1, hash1, ANSWERS_A, false);
    pgtest_batch_add(&b, "shared-order", sid1, hash2, ANSWERS_A, false);
    pgtest_batch_add(&b, "shared-order", sid2, hash2, ANSWERS_A, false);
    pgtest_batch_add(&b, "shared-order", sid2, hash1, ANSWERS_B, false);
    const char *json = pgtest_batch_json(&b);
    int n = json ? pgtest_submit(daemon, json, out, 4) : -1;
    CHECK(n == 4);
    if (n != 4) {
        return;
    }
    CHECK_STR(out[0].status, "created");
    CHECK_STR(out[1].status, "replayed");
    CHECK_STR(out[2].status, "created");
    CHECK_STR(out[3].status, "submission_conflict");
    CHECK(invitation_bound_to(hash1, "shared-order", sid1));
    CHECK(invitation_bound_to(hash2, "shared-order", sid2));
}

/* A batch as large as the daemon sends (built in SQL: it does not fit a test buffer): every
 * item gets its own outcome, in order, and every receipt is its own row's. Item g is
 * submission m = g, except that every seventh repeats the one before it (m = g - 1; with other
 * answers when it is also an eleventh); every tenth goes to a closed wave. The submission_ids
 * descend, so the order of the inserts is not the batch's. */
#define LARGE_M "(g - CASE WHEN g % 7 = 0 THEN 1 ELSE 0 END)"
#define LARGE_SID "'00000000-0000-4000-8000-' || lpad((60000 - " LARGE_M ")::text, 12, '0')"
#define LARGE_N "CASE WHEN g % 7 = 0 AND g % 11 = 0 THEN -1 ELSE " LARGE_M " END"

static void test_large_batch_is_answered_item_by_item(void)
{
    CHECK(pgtest_wave(admin, "large", "open", "open"));
    CHECK(pgtest_wave(admin, "large-closed", "open", "closed"));
    char *result =
        pgtest_value(daemon,
                     "SELECT survey.submit_responses((SELECT jsonb_agg(jsonb_build_object("
                     "    'wave', CASE WHEN g % 10 = 0 THEN 'large-closed' ELSE 'large' END,"
                     "    'submission_id', " LARGE_SID ", 'token_sha256', NULL,"
                     "    'answers', jsonb_build_object('n', " LARGE_N "),"
                     "    'screened_out', " LARGE_M " % 2 = 0) ORDER BY g)"
                     "  FROM generate_series(1, 300) AS g))::text",
                     0, NULL);
    CHECK(result != NULL);
    if (result == NULL) {
        return;
    }
    const char *params[] = {result};
    CHECK(pgtest_count(admin, "SELECT jsonb_array_length($1::jsonb)", 1, params) == 300);
    /* Every outcome in its place: the item's own submission_id and the expected status. */
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY"
                       "      AS e(o, g)"
                       " WHERE o->>'submission_id' = " LARGE_SID "   AND o->>'status' = CASE"
                       "       WHEN g % 10 = 0 THEN 'wave_closed'"
                       "       WHEN g % 7 = 0 AND (g - 1) % 10 <> 0 THEN"
                       "           CASE WHEN g % 11 = 0 THEN 'submission_conflict'"
                       "                ELSE 'replayed' END"
                       "       ELSE 'created' END"
                       "   AND (o ? 'response_id') = (o->>'status' IN ('created', 'replayed'))",
                       1, params) == 300);
    /* Every receipt is the row of its submission_id, stored with the item's answers. */
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY"
                       "      AS e(o, g)"
                       "  JOIN survey.responses r ON r.receipt_id = (o->>'response_id')::uuid"
                       " WHERE r.wave_id = 'large'"
                       "   AND r.submission_id = (o->>'submission_id')::uuid"
                       "   AND to_char(r.received_at AT TIME ZONE 'UTC',"
                       "               'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') = o->>'received_at'"
                       "   AND r.answers = jsonb_build_object('n', " LARGE_N ")"
                       "   AND r.screened_out = (" LARGE_M " % 2 = 0)",
                       1, params) ==
          pgtest_count(admin,
                       "SELECT count(*) FROM jsonb_array_elements($1::jsonb) AS e(o)"
                       " WHERE o->>'status' IN ('created', 'replayed')",
                       1, params));
    CHECK(pgtest_count(admin, "SELECT count(*) FROM survey.responses WHERE wave_id = 'large'", 0,
                       NULL) ==
          pgtest_count(admin,
                       "SELECT count(*) FROM jsonb_array_elements($1::jsonb) AS e(o)"
                       " WHERE o->>'status' = 'created'",
                       1, params));
    free(result);
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
    TEST_CASE(test_receipts_of_a_batch_belong_to_their_own_items),
    TEST_CASE(test_same_submission_id_in_two_waves_is_two_submissions),
    TEST_CASE(test_submission_id_in_capitals_is_the_same_submission),
    TEST_CASE(test_unclaimable_token_is_judged_before_the_batch_inserts),
    TEST_CASE(test_token_sent_to_two_waves_in_one_batch),
    TEST_CASE(test_token_of_a_duplicate_in_a_batch_stays_unspent),
    TEST_CASE(test_items_sharing_a_token_are_decided_in_batch_order),
    TEST_CASE(test_large_batch_is_answered_item_by_item),
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
