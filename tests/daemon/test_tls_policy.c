/*
 * surveyd's TLS policy seen from real handshakes: TLS 1.0 and 1.1 refused, TLS 1.2 only with
 * ECDHE and AEAD (CBC-only and DHE-only offers refused, with a P-256 and with an RSA
 * certificate), TLS 1.3 served, and plaintext HTTP on the port never answered with HTTP.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "sdharness.h"
#include "testlib.h"

static struct sd_env env;
static struct sd_daemon *ec_daemon, *rsa_daemon;

static void daemons_start_with_p256_and_rsa_certificates(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, "tls-open", "open", "open"));
    ec_daemon = sd_daemon_start(&env, NULL, NULL);
    CHECK(ec_daemon != NULL);
    /* The same database, another certificate: an RSA one, so that RSA suites are possible. */
    struct sd_env rsa_env = env;
    CHECK(sd_make_cert(env.dir, "rsa", true, rsa_env.cert, sizeof rsa_env.cert, rsa_env.key,
                       sizeof rsa_env.key));
    rsa_daemon = sd_daemon_start(&rsa_env, NULL, NULL);
    CHECK(rsa_daemon != NULL);
}

/* A handshake the server must refuse: the client did offer (sent its hello) and the server
 * answered with an alert, not a session. */
static void expect_refused(struct sd_daemon *d, const char *what, const struct sd_tls_opts *o)
{
    struct sd_tls_info info;
    struct sd_conn *c = sd_connect(sd_daemon_port(d), o, &info);
    if (c != NULL || !info.tcp_connected || info.bytes_sent == 0 || !info.peer_alert) {
        fprintf(stderr, "%s: connected %d, handshake %d, sent %lu, alert %d, cipher %s, %s\n", what,
                info.tcp_connected, info.handshake_ok, info.bytes_sent, info.peer_alert,
                info.cipher, info.reason);
    }
    CHECK(c == NULL);
    CHECK(info.tcp_connected);
    CHECK(info.bytes_sent > 0);
    CHECK(info.peer_alert);
    sd_close(c);
}

/* A handshake that must succeed, then a request over it. */
static void expect_served(struct sd_daemon *d, const char *what, const struct sd_tls_opts *o,
                          int version)
{
    struct sd_tls_info info;
    struct sd_conn *c = sd_connect(sd_daemon_port(d), o, &info);
    if (c == NULL) {
        fprintf(stderr, "%s: handshake failed: %s\n", what, info.reason);
    }
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    CHECK(info.version == version);
    static const char req[] =
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    CHECK(sd_send(c, req, sizeof req - 1, 5000));
    struct sd_response r;
    CHECK(sd_read_response(c, &r, false, 5000) == SD_READ_OK);
    CHECK(r.status == 200);
    sd_response_free(&r);
    sd_close(c);
}

static void old_protocol_versions_are_refused(void)
{
    if (ec_daemon == NULL) {
        CHECK(ec_daemon != NULL);
        return;
    }
    /* SECLEVEL=0 so that our own library is willing to offer the old versions at all. */
    struct sd_tls_opts tls10 = {
        .min_version = TLS1_VERSION, .max_version = TLS1_VERSION, .ciphers = "DEFAULT:@SECLEVEL=0"};
    expect_refused(ec_daemon, "TLS 1.0", &tls10);
    struct sd_tls_opts tls11 = {.min_version = TLS1_1_VERSION,
                                .max_version = TLS1_1_VERSION,
                                .ciphers = "DEFAULT:@SECLEVEL=0"};
    expect_refused(ec_daemon, "TLS 1.1", &tls11);
    /* A client that could do anything from 1.0 to 1.2 gets 1.2. */
    struct sd_tls_opts up_to_12 = {.min_version = TLS1_VERSION,
                                   .max_version = TLS1_2_VERSION,
                                   .ciphers = "DEFAULT:@SECLEVEL=0"};
    expect_served(ec_daemon, "TLS 1.0-1.2", &up_to_12, TLS1_2_VERSION);
}

static void tls12_takes_only_ecdhe_with_aead(void)
{
    if (ec_daemon == NULL || rsa_daemon == NULL) {
        CHECK(ec_daemon != NULL && rsa_daemon != NULL);
        return;
    }
    struct sd_tls_opts o = {.min_version = TLS1_2_VERSION, .max_version = TLS1_2_VERSION};
    o.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
                "ECDHE-ECDSA-AES256-SHA384";
    expect_refused(ec_daemon, "TLS 1.2 ECDSA CBC only", &o);
    o.ciphers = "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256";
    expect_refused(rsa_daemon, "TLS 1.2 RSA CBC only", &o);
    o.ciphers = "ECDHE-RSA-AES128-SHA";
    expect_refused(ec_daemon, "TLS 1.2 ECDHE-RSA-AES128-SHA (EC certificate)", &o);
    o.ciphers = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
    expect_refused(rsa_daemon, "TLS 1.2 DHE only", &o);
    expect_refused(ec_daemon, "TLS 1.2 DHE only (EC certificate)", &o);
    o.ciphers = "AES128-GCM-SHA256:AES256-GCM-SHA384";
    expect_refused(rsa_daemon, "TLS 1.2 static RSA key exchange", &o);

    /* The control: the same version with an ECDHE AEAD suite works with either certificate. */
    o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    expect_served(ec_daemon, "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256", &o, TLS1_2_VERSION);
    o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    expect_served(rsa_daemon, "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256", &o, TLS1_2_VERSION);
    /* Offering CBC first does not get CBC: the server picks. */
    o.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-CHACHA20-POLY1305";
    struct sd_tls_info info;
    struct sd_conn *c = sd_connect(sd_daemon_port(ec_daemon), &o, &info);
    CHECK(c != NULL);
    CHECK_STR(info.cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
    sd_close(c);
}

static void tls13_is_served(void)
{
    if (ec_daemon == NULL || rsa_daemon == NULL) {
        CHECK(ec_daemon != NULL && rsa_daemon != NULL);
        return;
    }
    struct sd_tls_opts o = {.min_version = TLS1_3_VERSION, .max_version = TLS1_3_VERSION};
    expect_served(ec_daemon, "TLS 1.3", &o, TLS1_3_VERSION);
    expect_served(rsa_daemon, "TLS 1.3 (RSA certificate)", &o, TLS1_3_VERSION);
    /* A default client gets 1.3. */
    expect_served(ec_daemon, "default client", NULL, TLS1_3_VERSION);
}

static void plaintext_http_gets_no_http_answer(void)
{
    if (ec_daemon == NULL) {
        CHECK(ec_daemon != NULL);
        return;
    }
    struct sd_tls_opts plain = {.plaintext = true};
    struct sd_conn *c = sd_connect(sd_daemon_port(ec_daemon), &plain, NULL);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_send(c, req, sizeof req - 1, 5000));
    CHECK(sd_wait_closed(c, 5000));
    size_t len;
    const char *got = sd_pending(c, &len);
    bool http = false;
    for (size_t i = 0; i + 5 <= len; i++) {
        http = http || memcmp(got + i, "HTTP/", 5) == 0;
    }
    CHECK(!http);
    sd_close(c);
    /* And the daemon is still fine. */
    struct sd_response r;
    CHECK(sd_get(sd_daemon_port(ec_daemon), "/healthz", &r) == 0);
    CHECK(r.status == 200);
    sd_response_free(&r);
}

static void daemons_stop_with_status_0(void)
{
    if (ec_daemon != NULL) {
        CHECK(sd_daemon_stop(ec_daemon, 15000) == 0);
        CHECK(sd_log_foreign_lines(ec_daemon) == 0); /* nothing but its own log lines */
    }
    if (rsa_daemon != NULL) {
        CHECK(sd_daemon_stop(rsa_daemon, 15000) == 0);
        CHECK(sd_log_foreign_lines(rsa_daemon) == 0); /* nothing but its own log lines */
    }
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemons_start_with_p256_and_rsa_certificates),
        TEST_CASE(old_protocol_versions_are_refused),
        TEST_CASE(tls12_takes_only_ecdhe_with_aead),
        TEST_CASE(tls13_is_served),
        TEST_CASE(plaintext_http_gets_no_http_answer),
        TEST_CASE(daemons_stop_with_status_0)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(ec_daemon, 0);
    SD_DUMP_LOG_ON_FAILURE(rsa_daemon, 0);
    sd_daemon_free(ec_daemon);
    sd_daemon_free(rsa_daemon);
    sd_env_free(&env);
    return rc;
}
