/*
 * submit_responses under concurrency: two transactions with one submission_id or one token, and
 * `wave close` racing an in-flight batch. Each case makes one transaction block on the other
 * (checked in pg_stat_activity), then ends the first and looks at what the second saw.
 */
#include <stdlib.h>

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

static const struct testlib_case cases[] = {
    TEST_CASE(test_concurrent_duplicate_stores_one_row_and_replays),
    TEST_CASE(test_concurrent_duplicate_is_created_when_the_first_rolls_back),
    TEST_CASE(test_losing_duplicate_gives_its_token_back),
    TEST_CASE(test_concurrent_use_of_one_token_spends_it_once),
    TEST_CASE(test_wave_close_waits_for_the_batch_in_flight),
    TEST_CASE(test_batch_waiting_on_a_close_sees_the_wave_closed),
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
