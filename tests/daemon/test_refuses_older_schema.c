/*
 * surveyd refuses to run on a database whose schema is older than the one it was built for:
 * with the highest migration record removed, it exits with status 1 and its log tells the
 * operator that the schema is older and to run survey-admin migrate. It never gets ready.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

static struct sd_env env;
static struct sd_daemon *daemon_;

static void older_schema_makes_surveyd_exit_1_with_advice(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, "old-open", "open", "open"));
    char *latest = sd_value(&env, "SELECT max(version)::text FROM public.schema_migrations", NULL);
    CHECK(latest != NULL);
    CHECK(sd_exec(&env, "DELETE FROM public.schema_migrations WHERE version = "
                        "(SELECT max(version) FROM public.schema_migrations)"));
    daemon_ = sd_daemon_spawn(&env, NULL, NULL);
    CHECK(daemon_ != NULL);
    if (daemon_ == NULL) {
        free(latest);
        return;
    }
    CHECK(sd_daemon_wait_exit(daemon_, 20000) == 1);
    CHECK(sd_log_count(daemon_, "waves loaded") == 0);
    size_t n = 0;
    char **lines = sd_log_lines(daemon_, &n);
    bool told = false;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], "older") != NULL && strstr(lines[i], "survey-admin migrate") != NULL) {
            told = true;
            /* It names the version it found and the one it expects. */
            char expected[64];
            snprintf(expected, sizeof expected, "expected=%s", latest ? latest : "?");
            CHECK(strstr(lines[i], expected) != NULL);
            CHECK(strstr(lines[i], " error ") != NULL);
        }
    }
    CHECK(told);
    CHECK(sd_log_foreign_lines(daemon_) == 0); /* nothing but its own log lines */
    sd_log_lines_free(lines);
    free(latest);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(older_schema_makes_surveyd_exit_1_with_advice)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
