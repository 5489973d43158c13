/*
 * submit_responses under concurrency: two transactions with one submission_id or one token, and
 * `wave close` racing an in-flight batch. Each case makes one transaction block on the other
 * (checked in pg_stat_activity), then ends the first and looks at what the second saw.
 */
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "testlib.h"

#define ANSWERS "{\"genai_stage\": \"experimenting\"}"
#define BLOCK_TIMEOUT_MS 10000

static PGconn *admin;    /* superuser: set-up and checks */
static PGconn *observer; /* superuser, idle: sees every backend's lock waits */
static PGconn *first;    /* daemon role */
static PGconn *second;   /* daemon role */
static char daemon_role[80];

static const char *one_item(struct pgtest_batch *b, const char *wave, unsigned n,
                            const char *token_hex)
{
    char sid[37];
    pgtest_uuid(sid, n);
    pgtest_batch_init(b);
    pgtest_batch_add(b, wave, sid, token_hex, ANSWERS, false);
    return pgtest_batch_json(b);
}

static long long rows_in(const char *wave)
{
    const char *params[] = {wave};
    return pgtest_count(admin, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", 1,
                        params);
}

/* Leave both connections idle, whatever a failed check left behind. */
static void reset_connections(void)
{
    (void)pgtest_finish(first);
    (void)pgtest_finish(second);
    (void)pgtest_ok(first, "ROLLBACK");
    (void)pgtest_ok(second, "ROLLBACK");
}

static void test_concurrent_duplicate_stores_one_row_and_replays(void)
{
    struct pgtest_batch b;
    struct pgtest_outcome a, z;
    CHECK(pgtest_wave(admin, "c-dup", "open", "open"));
    const char *json = one_item(&b, "c-dup", 1, NULL);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, &z, 1) == 1);
    CHECK_STR(z.status, "replayed");
    CHECK_STR(z.response_id, a.response_id);
    CHECK_STR(z.received_at, a.received_at);
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-dup") == 1);
    reset_connections();
}

static void test_concurrent_duplicate_is_created_when_the_first_rolls_back(void)
{
    struct pgtest_batch b;
    struct pgtest_outcome a, z;
    CHECK(pgtest_wave(admin, "c-undo", "open", "open"));
    const char *json = one_item(&b, "c-undo", 2, NULL);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json, &a, 1) == 1);
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "ROLLBACK"));
    CHECK(pgtest_submit_finish(second, &z, 1) == 1);
    CHECK_STR(z.status, "created");
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-undo") == 1);
    reset_connections();
}

static void test_losing_duplicate_gives_its_token_back(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z;
    char hash1[65], hash2[65];
    CHECK(pgtest_wave(admin, "c-tokens", "invite", "open"));
    CHECK(pgtest_invite(admin, "c-tokens", "token-c-tokens-1", hash1));
    CHECK(pgtest_invite(admin, "c-tokens", "token-c-tokens-2", hash2));
    /* One submission (a retry) carrying another of the respondent's tokens. */
    const char *json1 = one_item(&b1, "c-tokens", 3, hash1);
    const char *json2 = one_item(&b2, "c-tokens", 3, hash2);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, &z, 1) == 1);
    CHECK_STR(z.status, "replayed");
    CHECK_STR(z.response_id, a.response_id);
    CHECK(pgtest_ok(second, "COMMIT"));

    const char *params[] = {hash1, hash2};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.invitations WHERE"
                       " (token_sha256 = decode($1, 'hex') AND used_at IS NOT NULL"
                       "  AND response_id IS NOT NULL) OR"
                       " (token_sha256 = decode($2, 'hex') AND used_at IS NULL"
                       "  AND response_id IS NULL)",
                       2, params) == 2);
    CHECK(rows_in("c-tokens") == 1);
    reset_connections();
}

static void test_concurrent_use_of_one_token_spends_it_once(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z;
    char hash[65];
    CHECK(pgtest_wave(admin, "c-token", "invite", "open"));
    CHECK(pgtest_invite(admin, "c-token", "token-c-token", hash));
    const char *json1 = one_item(&b1, "c-token", 4, hash);
    const char *json2 = one_item(&b2, "c-token", 5, hash);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, &z, 1) == 1);
    CHECK_STR(z.status, "invitation_used");
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-token") == 1);
    reset_connections();
}

static void test_wave_close_waits_for_the_batch_in_flight(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z;
    CHECK(pgtest_wave(admin, "c-close", "open", "open"));
    const char *json1 = one_item(&b1, "c-close", 6, NULL);
    const char *json2 = one_item(&b2, "c-close", 7, NULL);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    /* The statement `survey-admin wave close` runs. */
    CHECK(PQsendQuery(admin, "UPDATE survey.waves SET status = 'closed'"
                             " WHERE id = 'c-close' AND status = 'open'") == 1);
    CHECK(pgtest_wait_blocked(observer, admin, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_finish(admin));

    /* Everything acknowledged before the close is in the wave; nothing gets in after it. */
    CHECK(rows_in("c-close") == 1);
    CHECK(pgtest_submit(second, json2, &z, 1) == 1);
    CHECK_STR(z.status, "wave_closed");
    CHECK(pgtest_submit(second, json1, &z, 1) == 1);
    CHECK_STR(z.status, "replayed");
    reset_connections();
}

static void test_batch_waiting_on_a_close_sees_the_wave_closed(void)
{
    struct pgtest_batch b;
    struct pgtest_outcome z;
    CHECK(pgtest_wave(admin, "c-after", "open", "open"));
    const char *json = one_item(&b, "c-after", 8, NULL);

    CHECK(pgtest_ok(admin, "BEGIN"));
    CHECK(pgtest_ok(admin, "UPDATE survey.waves SET status = 'closed' WHERE id = 'c-after'"));
    CHECK(pgtest_submit_send(first, json));
    CHECK(pgtest_wait_blocked(observer, first, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(admin, "COMMIT"));
    CHECK(pgtest_submit_finish(first, &z, 1) == 1);
    CHECK_STR(z.status, "wave_closed");
    CHECK(rows_in("c-after") == 0);
    reset_connections();
}

/* Two batches, each with the same two tokens in opposite batch orders, the second one started
 * while the first waits for a token: both lock the tokens in token order, so the second waits
 * for the first instead of a deadlock aborting one of them. */
static void test_batches_with_tokens_in_opposite_orders_do_not_deadlock(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a[2], z[2];
    char ha[65], hb[65], sid[4][37];
    for (unsigned i = 0; i < 4; i++) {
        pgtest_uuid(sid[i], 9 + i);
    }
    CHECK(pgtest_wave(admin, "c-order", "invite", "open"));
    CHECK(pgtest_invite(admin, "c-order", "token-c-order-a", ha));
    CHECK(pgtest_invite(admin, "c-order", "token-c-order-b", hb));
    const char *lo = strcmp(ha, hb) < 0 ? ha : hb, *hi = lo == ha ? hb : ha;

    /* Something else holds the higher token, so the first batch stops there. */
    const char *params[] = {hi};
    CHECK(pgtest_ok(admin, "BEGIN"));
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM (SELECT 1 FROM survey.invitations"
                       " WHERE token_sha256 = decode($1, 'hex') FOR UPDATE) AS l",
                       1, params) == 1);
    pgtest_batch_init(&b1);
    pgtest_batch_add(&b1, "c-order", sid[0], hi, ANSWERS, false);
    pgtest_batch_add(&b1, "c-order", sid[1], lo, ANSWERS, false);
    const char *json1 = pgtest_batch_json(&b1);
    pgtest_batch_init(&b2);
    pgtest_batch_add(&b2, "c-order", sid[2], lo, ANSWERS, false);
    pgtest_batch_add(&b2, "c-order", sid[3], hi, ANSWERS, false);
    const char *json2 = pgtest_batch_json(&b2);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit_send(first, json1));
    CHECK(pgtest_wait_blocked(observer, first, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(admin, "ROLLBACK"));

    CHECK(pgtest_submit_finish(first, a, 2) == 2);
    CHECK_STR(a[0].status, "created");
    CHECK_STR(a[1].status, "created");
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, z, 2) == 2);
    CHECK_STR(z[0].status, "invitation_used");
    CHECK_STR(z[1].status, "invitation_used");
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-order") == 2);
    reset_connections();
}

/* A batch that loses one insert to a concurrent transaction stores the rest, and answers the
 * lost item with the winner's receipt. */
static void test_batch_losing_one_insert_stores_the_others(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z[3];
    char sid[3][37];
    for (unsigned i = 0; i < 3; i++) {
        pgtest_uuid(sid[i], 20 + i);
    }
    CHECK(pgtest_wave(admin, "c-partial", "open", "open"));
    pgtest_batch_init(&b1);
    pgtest_batch_add(&b1, "c-partial", sid[1], NULL, ANSWERS, false);
    const char *json1 = pgtest_batch_json(&b1);
    pgtest_batch_init(&b2);
    pgtest_batch_add(&b2, "c-partial", sid[2], NULL, ANSWERS, false);
    pgtest_batch_add(&b2, "c-partial", sid[1], NULL, ANSWERS, false);
    pgtest_batch_add(&b2, "c-partial", sid[0], NULL, ANSWERS, true);
    const char *json2 = pgtest_batch_json(&b2);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, z, 3) == 3);
    CHECK_STR(z[0].status, "created");
    CHECK_STR(z[0].submission_id, sid[2]);
    CHECK_STR(z[1].status, "replayed");
    CHECK_STR(z[1].response_id, a.response_id);
    CHECK_STR(z[1].received_at, a.received_at);
    CHECK_STR(z[2].status, "created");
    CHECK_STR(z[2].submission_id, sid[0]);
    CHECK(strcmp(z[0].response_id, z[2].response_id) != 0);
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-partial") == 3);
    reset_connections();
}

/* The same, with tokens: the item that lost its insert leaves its token unspent, while the
 * other item's token is bound to its new response. */
static void test_batch_losing_one_insert_spends_only_the_other_tokens(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z[2];
    char sid1[37], sid2[37], h1[65], h2[65], h3[65];
    pgtest_uuid(sid1, 30);
    pgtest_uuid(sid2, 31);
    CHECK(pgtest_wave(admin, "c-partial-tokens", "invite", "open"));
    CHECK(pgtest_invite(admin, "c-partial-tokens", "token-c-partial-1", h1));
    CHECK(pgtest_invite(admin, "c-partial-tokens", "token-c-partial-2", h2));
    CHECK(pgtest_invite(admin, "c-partial-tokens", "token-c-partial-3", h3));
    pgtest_batch_init(&b1);
    pgtest_batch_add(&b1, "c-partial-tokens", sid1, h1, ANSWERS, false);
    const char *json1 = pgtest_batch_json(&b1);
    pgtest_batch_init(&b2);
    pgtest_batch_add(&b2, "c-partial-tokens", sid1, h2, ANSWERS, false);
    pgtest_batch_add(&b2, "c-partial-tokens", sid2, h3, ANSWERS, false);
    const char *json2 = pgtest_batch_json(&b2);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, z, 2) == 2);
    CHECK_STR(z[0].status, "replayed");
    CHECK_STR(z[0].response_id, a.response_id);
    CHECK_STR(z[1].status, "created");
    CHECK(pgtest_ok(second, "COMMIT"));

    const char *params[] = {h1, h2, h3, sid1, sid2};
    CHECK(pgtest_count(admin,
                       "SELECT count(*) FROM survey.invitations i"
                       "  LEFT JOIN survey.responses r ON r.id = i.response_id WHERE"
                       " (i.token_sha256 = decode($1, 'hex') AND i.used_at IS NOT NULL"
                       "  AND r.submission_id = $4::uuid) OR"
                       " (i.token_sha256 = decode($2, 'hex') AND i.used_at IS NULL"
                       "  AND i.response_id IS NULL) OR"
                       " (i.token_sha256 = decode($3, 'hex') AND i.used_at IS NOT NULL"
                       "  AND r.submission_id = $5::uuid)",
                       5, params) == 3);
    CHECK(rows_in("c-partial-tokens") == 2);
    reset_connections();
}

/* A retry carrying the same token as the first attempt still in flight: it waits for the
 * token, finds it spent, then finds the submission stored: the original receipt. The other
 * item of its batch is stored all the same. */
static void test_concurrent_retry_with_the_same_token_is_replayed(void)
{
    struct pgtest_batch b1, b2;
    struct pgtest_outcome a, z[2];
    char sid1[37], sid2[37], h1[65], h2[65];
    pgtest_uuid(sid1, 40);
    pgtest_uuid(sid2, 41);
    CHECK(pgtest_wave(admin, "c-retry", "invite", "open"));
    CHECK(pgtest_invite(admin, "c-retry", "token-c-retry-1", h1));
    CHECK(pgtest_invite(admin, "c-retry", "token-c-retry-2", h2));
    pgtest_batch_init(&b1);
    pgtest_batch_add(&b1, "c-retry", sid1, h1, ANSWERS, false);
    const char *json1 = pgtest_batch_json(&b1);
    pgtest_batch_init(&b2);
    pgtest_batch_add(&b2, "c-retry", sid1, h1, ANSWERS, false);
    pgtest_batch_add(&b2, "c-retry", sid2, h2, ANSWERS, false);
    const char *json2 = pgtest_batch_json(&b2);

    CHECK(pgtest_ok(first, "BEGIN"));
    CHECK(pgtest_submit(first, json1, &a, 1) == 1);
    CHECK_STR(a.status, "created");
    CHECK(pgtest_ok(second, "BEGIN"));
    CHECK(pgtest_submit_send(second, json2));
    CHECK(pgtest_wait_blocked(observer, second, BLOCK_TIMEOUT_MS));
    CHECK(pgtest_ok(first, "COMMIT"));
    CHECK(pgtest_submit_finish(second, z, 2) == 2);
    CHECK_STR(z[0].status, "replayed");
    CHECK_STR(z[0].response_id, a.response_id);
    CHECK_STR(z[0].received_at, a.received_at);
    CHECK_STR(z[1].status, "created");
    CHECK(pgtest_ok(second, "COMMIT"));
    CHECK(rows_in("c-retry") == 2);
    reset_connections();
}

static const struct testlib_case cases[] = {
    TEST_CASE(test_concurrent_duplicate_stores_one_row_and_replays),
    TEST_CASE(test_concurrent_duplicate_is_created_when_the_first_rolls_back),
    TEST_CASE(test_losing_duplicate_gives_its_token_back),
    TEST_CASE(test_concurrent_use_of_one_token_spends_it_once),
    TEST_CASE(test_wave_close_waits_for_the_batch_in_flight),
    TEST_CASE(test_batch_waiting_on_a_close_sees_the_wave_closed),
    TEST_CASE(test_batches_with_tokens_in_opposite_orders_do_not_deadlock),
    TEST_CASE(test_batch_losing_one_insert_stores_the_others),
    TEST_CASE(test_batch_losing_one_insert_spends_only_the_other_tokens),
    TEST_CASE(test_concurrent_retry_with_the_same_token_is_replayed),
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
    observer = pgtest_connect(NULL);
    first = pgtest_connect(daemon_role);
    second = pgtest_connect(daemon_role);
    if (observer != NULL && first != NULL && second != NULL) {
        rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    }
out:
    PQfinish(observer);
    PQfinish(first);
    PQfinish(second);
    if (admin != NULL && daemon_role[0] != '\0') {
        pgtest_drop_role(admin, daemon_role);
    }
    PQfinish(admin);
    return rc;
}
