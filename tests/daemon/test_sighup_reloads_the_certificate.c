/*
 * SIGHUP makes surveyd read its certificate and key again: new connections get the new
 * certificate, the daemon keeps running, and a broken pair on disk is refused with the old one
 * kept in service.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

#define WAVE "sighup-open"

static struct sd_env env;
static struct sd_daemon *daemon_;
static char first[65];

static bool fingerprint(char hex[65])
{
    struct sd_conn *c = sd_connect(sd_daemon_port(daemon_), NULL, NULL);
    bool ok = c != NULL && sd_peer_cert_sha256(c, hex);
    if (c != NULL) {
        sd_close(c);
    }
    return ok;
}

static void daemon_starts_with_the_first_certificate(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, WAVE, "open", "open"));
    daemon_ = sd_daemon_start(&env, NULL, NULL);
    CHECK(daemon_ != NULL);
    CHECK(daemon_ != NULL && fingerprint(first));
}

static void sighup_serves_the_new_certificate(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    char cert[192], key[192];
    CHECK(sd_make_cert(env.dir, "second", false, cert, sizeof cert, key, sizeof key));
    /* Replace the files under the paths the daemon was given, each atomically. */
    CHECK(rename(key, env.key) == 0);
    CHECK(rename(cert, env.cert) == 0);
    CHECK(kill(sd_daemon_pid(daemon_), SIGHUP) == 0);
    CHECK(sd_log_wait(daemon_, "certificate reloaded", 1, 10000));
    char now[65] = "";
    CHECK(fingerprint(now));
    CHECK(strcmp(now, first) != 0);
    CHECK(sd_daemon_running(daemon_));
}

static void broken_files_keep_the_certificate_in_service(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    char before[65] = "", after[65] = "";
    CHECK(fingerprint(before));
    FILE *f = fopen(env.cert, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("not a certificate\\n", f);
        fclose(f);
    }
    CHECK(kill(sd_daemon_pid(daemon_), SIGHUP) == 0);
    CHECK(sd_log_wait(daemon_, "could not load the certificate", 1, 10000));
    CHECK(sd_log_count(daemon_, "certificate reloaded") == 1);
    CHECK(fingerprint(after));
    CHECK(strcmp(before, after) == 0);
    struct sd_response r;
    CHECK(sd_get(sd_daemon_port(daemon_), "/healthz", &r) == 0 && r.status == 200);
    sd_response_free(&r);
}

static void daemon_stops_with_status_0(void)
{
    CHECK(daemon_ != NULL && sd_daemon_stop(daemon_, 20000) == 0);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemon_starts_with_the_first_certificate),
        TEST_CASE(sighup_serves_the_new_certificate),
        TEST_CASE(broken_files_keep_the_certificate_in_service),
        TEST_CASE(daemon_stops_with_status_0)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
