/*
 * HTTP/1.1 request heads (RFC 9112), parsed strictly from a contiguous buffer. Pure code: the
 * connection module feeds it bytes and acts on the verdict. Anything ambiguous is an error, so
 * that no request can mean one thing here and another to a proxy in front.
 */
#ifndef SURVEYD_HTTPPARSE_H
#define SURVEYD_HTTPPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPPARSE_MAX_HEADERS 64
#define HTTPPARSE_MAX_TARGET_BYTES 2048

enum httpparse_method { HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_POST, HTTP_METHOD_OTHER };

struct httpparse_header {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    const char *value; /* leading and trailing white space removed */
    size_t value_len;
};

struct httpparse_head {
    enum httpparse_method method;
    const char *target;
    size_t target_len;
    int version_minor; /* HTTP/1.0 or HTTP/1.1 */
    struct httpparse_header headers[HTTPPARSE_MAX_HEADERS];
    size_t n_headers;
    /* Derived from the headers: */
    bool has_content_length;
    uint64_t content_length;
    bool keep_alive;          /* 1.1 without "Connection: close", or 1.0 with "keep-alive" */
    bool expect_continue;     /* "Expect: 100-continue" */
    const char *content_type; /* NULL when absent */
    size_t content_type_len;
};

enum httpparse_result {
    HTTPPARSE_INCOMPLETE = 0, /* need more bytes */
    HTTPPARSE_DONE = 1,       /* *head_len bytes form a complete head */
    HTTPPARSE_ERROR = -1,     /* *status says which (400, 414, 431, 501, 505) */
};

/*
 * Parse the request head at the start of buf. max_head_bytes bounds the head (the request line
 * and headers with their terminating blank line). On HTTPPARSE_ERROR, *status is the answer to
 * give and *reason a short static description for the log.
 */
enum httpparse_result httpparse_head(const char *buf, size_t len, size_t max_head_bytes,
                                     struct httpparse_head *head, size_t *head_len, int *status,
                                     const char **reason);

/* Case-insensitive comparison of a header name (or any token) with a NUL-terminated string. */
bool httpparse_token_eq(const char *s, size_t len, const char *lit);

/* True when an If-None-Match field value (RFC 9110 13.1.2: "*" or a comma-separated list of
 * entity tags, compared weakly) matches etag, a quoted strong tag: the answer is then 304.
 * Anything malformed simply does not match. */
bool httpparse_etag_matches(const char *field, size_t len, const char *etag);

#endif
