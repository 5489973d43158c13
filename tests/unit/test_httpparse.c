/*
 * Unit tests of surveyd's HTTP/1.1 request-head parser: what it accepts, and every way of
 * framing a request ambiguously that it must refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "httpparse.h"
#include "testlib.h"

static enum httpparse_result parse(const char *text, size_t max, struct httpparse_head *head,
                                   size_t *head_len, int *status)
{
    const char *reason;
    return httpparse_head(text, strlen(text), max, head, head_len, status, &reason);
}

static int status_of(const char *text)
{
    struct httpparse_head head;
    size_t len;
    int status = 0;
    enum httpparse_result r = parse(text, 8192, &head, &len, &status);
    return r == HTTPPARSE_ERROR ? status : r == HTTPPARSE_DONE ? 0 : -1;
}

static void test_simple_post_is_parsed_with_its_framing(void)
{
    const char *req = "POST /v1/waves/kr-2025/responses HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"a\":1}12345";
    struct httpparse_head head;
    size_t len = 0;
    int status;
    CHECK(parse(req, 8192, &head, &len, &status) == HTTPPARSE_DONE);
    CHECK(head.method == HTTP_METHOD_POST);
    CHECK(head.target_len == strlen("/v1/waves/kr-2025/responses"));
    CHECK(memcmp(head.target, "/v1/waves/kr-2025/responses", head.target_len) == 0);
    CHECK(head.has_content_length && head.content_length == 12);
    CHECK(head.keep_alive);
    CHECK(head.content_type_len == strlen("application/json"));
    CHECK(len == strlen(req) - 12);
    CHECK(head.n_headers == 3);
}

static void test_incomplete_head_asks_for_more(void)
{
    CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\n") == -1);
    CHECK(status_of("GET / HTTP/1.1\r") == -1);
    CHECK(status_of("GET / HT") == -1);
    CHECK(status_of("") == -1);
}

static void test_keep_alive_follows_version_and_connection_header(void)
{
    struct httpparse_head head;
    size_t len;
    int status;
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 8192, &head, &len,
                &status) == HTTPPARSE_DONE);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", 8192, &head, &len, &status) == HTTPPARSE_DONE);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 8192, &head, &len, &status) ==
          HTTPPARSE_DONE);
    CHECK(head.keep_alive);
}

static void test_transfer_encoding_is_refused(void)
{
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: identity\r\n\r\n") == 400);
}

static void test_repeated_or_odd_content_length_is_refused(void)
{
    CHECK(
        status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") ==
        400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n") ==
          400);
}

static void test_bare_lf_and_obs_fold_are_refused(void)
{
    CHECK(status_of("GET / HTTP/1.1\nHost: x\n\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: x\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\001b\r\n\r\n") == 400);
}

static void test_host_is_required_once_in_http_1_1(void)
{
    CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.0\r\n\r\n") == 0);
}

static void test_oversized_heads_get_431_and_long_targets_414(void)
{
    char big[9000];
    memcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 32);
    memset(big + 32, 'a', sizeof big - 32 - 5);
    memcpy(big + sizeof big - 5, "\r\n\r\n", 5);
    CHECK(status_of(big) == 431);
    /* Incomplete but already over the bound: 431 without waiting for the rest. */
    big[4000] = '\0';
    struct httpparse_head head;
    size_t len;
    int status;
    const char *reason;
    CHECK(httpparse_head(big, strlen(big), 1024, &head, &len, &status, &reason) ==
              HTTPPARSE_ERROR &&
          status == 431);

    char target[2200 + 64];
    strcpy(target, "GET /");
    memset(target + 5, 'a', 2100);
    strcpy(target + 2105, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_of(target) == 414);

    char many[4096] = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < HTTPPARSE_MAX_HEADERS; i++) {
        strcat(many, "X: y\r\n");
    }
    strcat(many, "\r\n");
    CHECK(status_of(many) == 431);
}

static void test_methods_and_versions(void)
{
    struct httpparse_head head;
    size_t len;
    int status;
    CHECK(parse("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 8192, &head, &len, &status) ==
          HTTPPARSE_DONE);
    CHECK(head.method == HTTP_METHOD_OTHER);
    CHECK(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n", 8192, &head, &len, &status) == HTTPPARSE_DONE);
    CHECK(head.method == HTTP_METHOD_OTHER); /* methods are case-sensitive */
    CHECK(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505);
    CHECK(status_of("GET / HTTP/1.2\r\nHost: x\r\n\r\n") == 505);
    CHECK(status_of("GET / FOO/1.1\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GET * HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
    CHECK(status_of("GET  / HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
}

static void test_expect_100_continue_is_recognised_and_others_refused(void)
{
    struct httpparse_head head;
    size_t len;
    int status;
    CHECK(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
                8192, &head, &len, &status) == HTTPPARSE_DONE);
    CHECK(head.expect_continue);
    CHECK(status_of("POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n") == 417);
}

static void test_absolute_form_keeps_its_path(void)
{
    struct httpparse_head head;
    size_t len;
    int status;
    CHECK(parse("GET https://survey.example:8443/healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 8192,
                &head, &len, &status) == HTTPPARSE_DONE);
    CHECK(head.target_len == strlen("/healthz?x=1") &&
          memcmp(head.target, "/healthz?x=1", head.target_len) == 0);
    CHECK(parse("GET HTTP://survey.example HTTP/1.1\r\nHost: x\r\n\r\n", 8192, &head, &len,
                &status) == HTTPPARSE_DONE);
    CHECK(head.target_len == 1 && head.target[0] == '/');
    CHECK(status_of("GET http://a?b HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
}

static void test_leading_empty_line_is_tolerated(void)
{
    CHECK(status_of("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
}

TEST_MAIN(TEST_CASE(test_simple_post_is_parsed_with_its_framing),
          TEST_CASE(test_incomplete_head_asks_for_more),
          TEST_CASE(test_keep_alive_follows_version_and_connection_header),
          TEST_CASE(test_transfer_encoding_is_refused),
          TEST_CASE(test_repeated_or_odd_content_length_is_refused),
          TEST_CASE(test_bare_lf_and_obs_fold_are_refused),
          TEST_CASE(test_host_is_required_once_in_http_1_1),
          TEST_CASE(test_oversized_heads_get_431_and_long_targets_414),
          TEST_CASE(test_methods_and_versions),
          TEST_CASE(test_expect_100_continue_is_recognised_and_others_refused),
          TEST_CASE(test_absolute_form_keeps_its_path),
          TEST_CASE(test_leading_empty_line_is_tolerated))
