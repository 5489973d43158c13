/*
 * The web form's files as surveyd serves them from memory: the pages at "/" and "/s/{wave}" with
 * the strict Content-Security-Policy, Referrer-Policy no-referrer and nosniff; the assets with
 * their Content-Type; a strong ETag answered 304 on If-None-Match; HEAD without a body; nothing
 * else reachable (no path traversal, no page under /assets/, no other method); and the wave
 * resource the form reads first.
 */
#include <stdlib.h>
#include <string.h>

#include "sdharness.h"
#include "testlib.h"

static struct sd_env env;
static struct sd_daemon *daemon_;
static int port;

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void daemon_starts_with_an_open_and_a_closed_wave(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    CHECK(sd_wave(&env, "web-open", "invite", "open"));
    CHECK(sd_wave(&env, "web-closed", "open", "closed"));
    CHECK(sd_wave(&env, "web-draft", "open", "draft"));
    daemon_ = sd_daemon_start(&env, NULL, NULL);
    CHECK(daemon_ != NULL);
    port = daemon_ ? sd_daemon_port(daemon_) : 0;
}

static bool header_is(const struct sd_response *r, const char *name, const char *want)
{
    char v[512];
    if (!sd_header(r, name, v, sizeof v)) {
        fprintf(stderr, "%d answer lacks %s\n", r->status, name);
        return false;
    }
    if (strcmp(v, want) != 0) {
        fprintf(stderr, "%s: \"%s\", expected \"%s\"\n", name, v, want);
        return false;
    }
    return true;
}

static void pages_have_the_strict_policy(void)
{
    static const char *const pages[] = {"/", "/s/web-open", "/s/web-open?t=abcdefghijklmnopqrstuv",
                                        "/s/no-such-wave"};
    for (size_t i = 0; port && i < sizeof pages / sizeof pages[0]; i++) {
        struct sd_response r;
        CHECK(sd_get(port, pages[i], &r) == 0);
        CHECK(r.status == 200);
        CHECK(header_is(&r, "Content-Type", "text/html; charset=utf-8"));
        CHECK(header_is(&r, "Content-Security-Policy", CSP));
        CHECK(header_is(&r, "Referrer-Policy", "no-referrer"));
        CHECK(header_is(&r, "X-Content-Type-Options", "nosniff"));
        CHECK(header_is(&r, "Cache-Control", "private, no-cache"));
        char etag[64];
        CHECK(sd_header(&r, "ETag", etag, sizeof etag) && etag[0] == '"' && strlen(etag) == 22);
        CHECK(strstr(r.body, "<!doctype html>") == r.body);
        sd_response_free(&r);
    }
    /* Every wave's link is the same form; the form asks the API about the wave. */
    struct sd_response a, b;
    CHECK(sd_get(port, "/s/web-open", &a) == 0 && sd_get(port, "/s/other", &b) == 0);
    CHECK(a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0);
    CHECK(strstr(a.body, "src=\"/assets/form.js\"") != NULL);
    CHECK(strstr(a.body, "<script>") == NULL && strstr(a.body, "style=") == NULL);
    sd_response_free(&a);
    sd_response_free(&b);
}

static void assets_have_their_types(void)
{
    static const struct {
        const char *path, *type;
    } assets[] = {
        {"/assets/form.js", "text/javascript; charset=utf-8"},
        {"/assets/survey.css", "text/css; charset=utf-8"},
        {"/assets/favicon.svg", "image/svg+xml"},
    };
    for (size_t i = 0; port && i < sizeof assets / sizeof assets[0]; i++) {
        struct sd_response r;
        CHECK(sd_get(port, assets[i].path, &r) == 0);
        CHECK(r.status == 200 && r.body_len > 100);
        CHECK(header_is(&r, "Content-Type", assets[i].type));
        CHECK(header_is(&r, "Cache-Control", "no-cache"));
        CHECK(header_is(&r, "X-Content-Type-Options", "nosniff"));
        char v[64];
        CHECK(!sd_header(&r, "Content-Security-Policy", v, sizeof v));
        sd_response_free(&r);
    }
}

/* A revalidation with the current ETag is a 304 with no body; a stale one gets the file. */
static void etag_revalidation_answers_304(void)
{
    struct sd_response r;
    char etag[64] = "";
    CHECK(sd_get(port, "/assets/form.js", &r) == 0);
    CHECK(sd_header(&r, "ETag", etag, sizeof etag));
    size_t full = r.body_len;
    sd_response_free(&r);

    char req[512];
    /* The tag alone, weak, in a list, and "*". */
    static const char *const prefixes[] = {"", "W/", "\"0000\", ", NULL};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char value[128];
        if (prefixes[i] != NULL) {
            snprintf(value, sizeof value, "%s%s", prefixes[i], etag);
        } else {
            snprintf(value, sizeof value, "*");
        }
        int n = snprintf(req, sizeof req,
                         "GET /assets/form.js HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: %s\r\n"
                         "Connection: close\r\n\r\n",
                         value);
        CHECK(sd_exchange(port, req, (size_t)n, &r) == 0);
        CHECK(r.status == 304);
        CHECK(r.body_len == 0);
        char len[32], got[64];
        /* The Content-Length of a 304 is the representation's (RFC 9110 8.6). */
        CHECK(sd_header(&r, "Content-Length", len, sizeof len) && strtoul(len, NULL, 10) == full);
        CHECK(sd_header(&r, "ETag", got, sizeof got) && strcmp(got, etag) == 0);
        sd_response_free(&r);
    }
    int n = snprintf(req, sizeof req,
                     "GET /assets/form.js HTTP/1.1\r\nHost: localhost\r\n"
                     "If-None-Match: \"0123456789abcdef0123\"\r\nConnection: close\r\n\r\n");
    CHECK(sd_exchange(port, req, (size_t)n, &r) == 0);
    CHECK(r.status == 200 && r.body_len == full);
    sd_response_free(&r);
}

/* HEAD then GET pipelined on one connection: a body after the HEAD would break the GET. */
static void head_has_headers_and_no_body(void)
{
    struct sd_conn *c = sd_connect(port, NULL, NULL);
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    static const char two[] = "HEAD /s/web-open HTTP/1.1\r\nHost: localhost\r\n\r\n"
                              "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(sd_send(c, two, sizeof two - 1, 5000));
    struct sd_response r;
    CHECK(sd_read_response(c, &r, true, 5000) == SD_READ_OK);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Security-Policy", CSP));
    sd_response_free(&r);
    CHECK(sd_read_response(c, &r, false, 5000) == SD_READ_OK);
    CHECK(r.status == 200);
    CHECK_STR(sd_json_str(&r, "status"), "ok");
    sd_response_free(&r);
    sd_close(c);
}

/* Nothing outside the embedded table is reachable, whatever the path says. */
static void other_paths_are_404_and_other_methods_405(void)
{
    static const char *const missing[] = {
        "/assets/form.html",
        "/assets/index.html",
        "/assets/../form.js",
        "/assets/",
        "/assets/%2e%2e/etc/passwd",
        "/assets/form.js/",
        "/s/",
        "/s/web-open/",
        "/s/Web-Open",
        "/s/a/../b",
        "/index.html",
        "/form.html",
        "/favicon.ico",
        "/s/web-open/../../etc/passwd",
    };
    for (size_t i = 0; port && i < sizeof missing / sizeof missing[0]; i++) {
        struct sd_response r;
        CHECK(sd_get(port, missing[i], &r) == 0);
        if (r.status != 404) {
            fprintf(stderr, "%s: %d\n", missing[i], r.status);
        }
        CHECK(r.status == 404);
        CHECK(strstr(r.type, "/problems/not_found") != NULL);
        sd_response_free(&r);
    }
    struct sd_response r;
    CHECK(sd_post_json(port, "/s/web-open", "{}", &r) == 0);
    CHECK(r.status == 405);
    char allow[64];
    CHECK(sd_header(&r, "Allow", allow, sizeof allow) && strcmp(allow, "GET, HEAD") == 0);
    sd_response_free(&r);
}

/* GET /v1/waves/{wave}: whether the wave takes answers and needs an invitation, and the largest
 * body the daemon reads (the default here). */
static void wave_resource_tells_status_and_access(void)
{
    struct sd_response r;
    CHECK(sd_get(port, "/v1/waves/web-open", &r) == 0);
    CHECK(r.status == 200);
    CHECK(sd_safety_headers(&r));
    CHECK_STR(sd_json_str(&r, "wave"), "web-open");
    CHECK_STR(sd_json_str(&r, "status"), "open");
    CHECK_STR(sd_json_str(&r, "access"), "invite");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(r.json, "max_body_bytes");
    CHECK(cJSON_IsNumber(limit) && limit->valueint == 65536);
    sd_response_free(&r);
    CHECK(sd_get(port, "/v1/waves/web-closed", &r) == 0);
    CHECK(r.status == 200);
    CHECK_STR(sd_json_str(&r, "status"), "closed");
    CHECK_STR(sd_json_str(&r, "access"), "open");
    sd_response_free(&r);
    /* A draft is not published, like an unknown wave. */
    static const char *const unknown[] = {"/v1/waves/web-draft", "/v1/waves/nope"};
    for (size_t i = 0; i < 2; i++) {
        CHECK(sd_get(port, unknown[i], &r) == 0);
        CHECK(r.status == 404);
        CHECK(strstr(r.type, "wave_not_found") != NULL);
        sd_response_free(&r);
    }
    CHECK(sd_post_json(port, "/v1/waves/web-open", "{}", &r) == 0);
    CHECK(r.status == 405);
    sd_response_free(&r);
}

static void metrics_count_the_static_route(void)
{
    struct sd_response r;
    CHECK(sd_get(port, "/metrics", &r) == 0);
    CHECK(r.status == 200);
    CHECK(strstr(r.body, "surveyd_http_requests_total{route=\"static\",status=\"200\"}") != NULL);
    CHECK(strstr(r.body, "surveyd_http_requests_total{route=\"static\",status=\"304\"}") != NULL);
    sd_response_free(&r);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(daemon_starts_with_an_open_and_a_closed_wave),
        TEST_CASE(pages_have_the_strict_policy),
        TEST_CASE(assets_have_their_types),
        TEST_CASE(etag_revalidation_answers_304),
        TEST_CASE(head_has_headers_and_no_body),
        TEST_CASE(other_paths_are_404_and_other_methods_405),
        TEST_CASE(wave_resource_tells_status_and_access),
        TEST_CASE(metrics_count_the_static_route)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
