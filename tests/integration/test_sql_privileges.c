/*
 * The privilege matrix of the two group roles: a login role in survey_daemon may read waves and
 * questionnaires and call submit_responses, and gets SQLSTATE 42501 on everything else; only
 * survey_daemon may submit; survey_admin manages the tables (but cannot rewrite a response).
 */
#include <stdlib.h>

#include "pgtest.h"
#include "testlib.h"

#define INSUFFICIENT_PRIVILEGE "42501"

static PGconn *admin; /* superuser, for set-up */
static PGconn *daemon;
static PGconn *manager;  /* a login role in survey_admin */
static PGconn *outsider; /* a login role in neither group */
static char daemon_role[80], manager_role[80], outsider_role[80];

/* A column each table can be updated on, for the UPDATE probe. */
static const struct {
    const char *table;
    const char *column;
} private_tables[] = {
    {"survey.responses", "screened_out"},
    {"survey.invitations", "used_at"},
    {"survey.index_runs", "provisional"},
    {"survey.audit_log", "action"},
};

static void test_daemon_cannot_read_or_write_private_tables(void)
{
    char sql[256];
    CHECK(pgtest_wave(admin, "p-private", "invite", "open"));
    for (size_t i = 0; i < sizeof private_tables / sizeof private_tables[0]; i++) {
        const char *t = private_tables[i].table, *c = private_tables[i].column;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t);
        CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE, sql));
        snprintf(sql, sizeof sql, "INSERT INTO %s DEFAULT VALUES", t);
        CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE, sql));
        snprintf(sql, sizeof sql, "UPDATE %s SET %s = %s", t, c, c);
        CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE, sql));
        snprintf(sql, sizeof sql, "DELETE FROM %s", t);
        CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE, sql));
    }
}

static void test_daemon_reads_waves_and_questionnaires(void)
{
    CHECK(pgtest_wave(admin, "p-read", "open", "open"));
    char *status =
        pgtest_value(daemon, "SELECT status FROM survey.waves WHERE id = 'p-read'", 0, NULL);
    CHECK_STR(status, "open");
    free(status);
    CHECK(pgtest_count(daemon,
                       "SELECT count(*) FROM survey.questionnaires q JOIN survey.waves w"
                       " ON w.questionnaire_id = q.id WHERE w.id = 'p-read'",
                       0, NULL) == 1);
}

static void test_daemon_cannot_change_waves_or_questionnaires(void)
{
    CHECK(pgtest_wave(admin, "p-change", "open", "open"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "UPDATE survey.waves SET status = 'closed' WHERE id = 'p-change'"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "DELETE FROM survey.waves WHERE id = 'p-change'"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "INSERT INTO survey.waves (id, questionnaire_id)"
                            " SELECT 'p-daemon', questionnaire_id FROM survey.waves LIMIT 1"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE, "DELETE FROM survey.questionnaires"));
    /* Locking a wave row would let the daemon hold up `wave close`. */
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "SELECT 1 FROM survey.waves WHERE id = 'p-change' FOR SHARE"));
}

static void test_daemon_can_submit_responses(void)
{
    struct pgtest_outcome out;
    struct pgtest_batch b;
    char sid[37];
    CHECK(pgtest_wave(admin, "p-submit", "open", "open"));
    pgtest_uuid(sid, 1);
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "p-submit", sid, NULL, "{\"caio\": \"no\"}", false);
    const char *json = pgtest_batch_json(&b);
    CHECK(json != NULL && pgtest_submit(daemon, json, &out, 1) == 1);
    CHECK_STR(out.status, "created");
}

static void test_daemon_cannot_call_the_internal_helpers(void)
{
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "SELECT survey.submission_insert('p-submit',"
                            " gen_random_uuid(), 1, '{}', false, NULL)"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "SELECT survey.submission_claim('p-submit', '\\x00')"));
    CHECK(pgtest_fails_with(daemon, INSUFFICIENT_PRIVILEGE,
                            "SELECT survey.submission_existing('p-submit', gen_random_uuid(),"
                            " '{}')"));
}

static void test_role_outside_daemon_group_cannot_submit(void)
{
    CHECK(pgtest_fails_with(outsider, INSUFFICIENT_PRIVILEGE,
                            "SELECT survey.submit_responses('[]')"));
    /* survey_admin can see into the schema, so this is the function's own privilege at work. */
    CHECK(
        pgtest_fails_with(manager, INSUFFICIENT_PRIVILEGE, "SELECT survey.submit_responses('[]')"));
    CHECK(pgtest_fails_with(outsider, INSUFFICIENT_PRIVILEGE, "SELECT 1 FROM survey.waves"));
}

static void test_admin_manages_tables_but_cannot_rewrite_responses(void)
{
    CHECK(pgtest_ok(manager,
                    "INSERT INTO survey.questionnaires (qid, version, sha256, source,"
                    " definition) VALUES ('p-admin', '1', sha256('p-admin'), '{}', '{}')"));
    CHECK(pgtest_ok(manager, "INSERT INTO survey.waves (id, questionnaire_id, access) SELECT"
                             " 'p-admin', id, 'invite' FROM survey.questionnaires"
                             " WHERE qid = 'p-admin'"));
    CHECK(pgtest_ok(manager, "UPDATE survey.waves SET status = 'open' WHERE id = 'p-admin'"));
    CHECK(pgtest_ok(manager, "INSERT INTO survey.invitations (token_sha256, wave_id)"
                             " VALUES (sha256('p-admin-token'), 'p-admin')"));
    CHECK(pgtest_ok(manager, "INSERT INTO survey.audit_log (action, wave_id)"
                             " VALUES ('wave.open', 'p-admin')"));
    CHECK(pgtest_ok(manager, "INSERT INTO survey.index_runs (wave_id, options, definition_sha256,"
                             " responses_sha256, provisional, results) VALUES ('p-admin', '{}',"
                             " sha256(''), sha256(''), true, '{}')"));

    struct pgtest_outcome out;
    struct pgtest_batch b;
    char sid[37];
    pgtest_uuid(sid, 2);
    pgtest_batch_init(&b);
    pgtest_batch_add(&b, "p-admin", sid,
                     "8b2cbbd7bd6a9b5b1dbf41e95e89bbb1e69a49fb6cc9a5a3c2f0a2c6e1a24e85", "{}",
                     false);
    const char *json = pgtest_batch_json(&b);
    CHECK(json != NULL && pgtest_submit(daemon, json, &out, 1) == 1);
    CHECK_STR(out.status, "invitation_invalid");

    CHECK(pgtest_ok(admin, "INSERT INTO survey.responses (wave_id, submission_id,"
                           " questionnaire_id, answers, screened_out) SELECT id,"
                           " gen_random_uuid(), questionnaire_id, '{}', false"
                           " FROM survey.waves WHERE id = 'p-admin'"));
    CHECK(pgtest_count(manager, "SELECT count(*) FROM survey.responses WHERE wave_id = 'p-admin'",
                       0, NULL) == 1);
    CHECK(pgtest_fails_with(manager, "55000",
                            "UPDATE survey.responses SET answers = '{\"x\": 1}'"
                            " WHERE wave_id = 'p-admin'"));
    CHECK(pgtest_ok(manager, "DELETE FROM survey.responses WHERE wave_id = 'p-admin'"));
}

static const struct testlib_case cases[] = {
    TEST_CASE(test_daemon_cannot_read_or_write_private_tables),
    TEST_CASE(test_daemon_reads_waves_and_questionnaires),
    TEST_CASE(test_daemon_cannot_change_waves_or_questionnaires),
    TEST_CASE(test_daemon_can_submit_responses),
    TEST_CASE(test_daemon_cannot_call_the_internal_helpers),
    TEST_CASE(test_role_outside_daemon_group_cannot_submit),
    TEST_CASE(test_admin_manages_tables_but_cannot_rewrite_responses),
};

int main(void)
{
    int rc = 1;
    if (!pgtest_migrate()) {
        return 1;
    }
    admin = pgtest_connect(NULL);
    if (admin == NULL ||
        !pgtest_role(admin, "survey_daemon", "daemon", daemon_role, sizeof daemon_role) ||
        !pgtest_role(admin, "survey_admin", "admin", manager_role, sizeof manager_role) ||
        !pgtest_role(admin, NULL, "outsider", outsider_role, sizeof outsider_role)) {
        goto out;
    }
    daemon = pgtest_connect(daemon_role);
    manager = pgtest_connect(manager_role);
    outsider = pgtest_connect(outsider_role);
    if (daemon != NULL && manager != NULL && outsider != NULL) {
        rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    }
out:
    PQfinish(daemon);
    PQfinish(manager);
    PQfinish(outsider);
    if (admin != NULL) {
        const char *roles[] = {daemon_role, manager_role, outsider_role};
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
            if (roles[i][0] != '\0') {
                pgtest_drop_role(admin, roles[i]);
            }
        }
    }
    PQfinish(admin);
    return rc;
}
