/*
 * The HTTP/1.1 request-head parser. It accepts only what RFC 9112 allows and rejects what
 * request smuggling is made of: bare LF, obs-fold, white space before a colon, Transfer-Encoding
 * (we take no chunked bodies), and Content-Length that is repeated or not a plain number.
 */
#include "httpparse.h"

#include <string.h>

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool httpparse_token_eq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (n != len) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z') {
            a = (unsigned char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (unsigned char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

/* True when the comma-separated list value contains token (case-insensitive). */
static bool list_has(const char *v, size_t len, const char *token)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t start = i;
        while (i < len && v[i] != ',') {
            i++;
        }
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) {
            end--;
        }
        if (end > start && httpparse_token_eq(v + start, end - start, token)) {
            return true;
        }
    }
    return false;
}

struct cursor {
    const char *p, *end;
};

/* Finds the CRLF ending the line at c->p. Returns the line length, -1 when the line is not
 * complete yet, -2 when a bare LF or CR appears. */
static long line_length(const struct cursor *c)
{
    for (const char *q = c->p; q < c->end; q++) {
        if (*q == '\n') {
            return -2;
        }
        if (*q == '\r') {
            if (q + 1 >= c->end) {
                return -1;
            }
            return q[1] == '\n' ? (long)(q - c->p) : -2;
        }
    }
    return -1;
}

static enum httpparse_result fail(int *status, const char **reason, int code, const char *why)
{
    *status = code;
    *reason = why;
    return HTTPPARSE_ERROR;
}

static enum httpparse_result parse_request_line(const char *line, size_t len,
                                                struct httpparse_head *head, int *status,
                                                const char **reason)
{
    const char *sp1 = memchr(line, ' ', len);
    if (sp1 == NULL || sp1 == line) {
        return fail(status, reason, 400, "malformed request line");
    }
    size_t mlen = (size_t)(sp1 - line);
    for (size_t i = 0; i < mlen; i++) {
        if (!is_tchar((unsigned char)line[i])) {
            return fail(status, reason, 400, "malformed method");
        }
    }
    /* Methods are case-sensitive (RFC 9110 9.1). */
    if (mlen == 3 && memcmp(line, "GET", 3) == 0) {
        head->method = HTTP_METHOD_GET;
    } else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0) {
        head->method = HTTP_METHOD_HEAD;
    } else if (mlen == 4 && memcmp(line, "POST", 4) == 0) {
        head->method = HTTP_METHOD_POST;
    } else {
        head->method = HTTP_METHOD_OTHER;
    }
    const char *target = sp1 + 1;
    const char *rest = line + len;
    const char *sp2 = memchr(target, ' ', (size_t)(rest - target));
    if (sp2 == NULL || sp2 == target) {
        return fail(status, reason, 400, "malformed request line");
    }
    head->target = target;
    head->target_len = (size_t)(sp2 - target);
    if (head->target_len > HTTPPARSE_MAX_TARGET_BYTES) {
        return fail(status, reason, 414, "request target too long");
    }
    for (size_t i = 0; i < head->target_len; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c >= 0x7f) {
            return fail(status, reason, 400, "invalid character in request target");
        }
    }
    if (target[0] != '/') {
        /* Absolute form must be accepted (RFC 9112 3.2.2): keep its path. Anything else
         * (authority form, "*") is for proxies and OPTIONS, which we are not and do not do. */
        size_t skip = 0;
        if (head->target_len > 7 && httpparse_token_eq(target, 7, "http://")) {
            skip = 7;
        } else if (head->target_len > 8 && httpparse_token_eq(target, 8, "https://")) {
            skip = 8;
        } else {
            return fail(status, reason, 400, "request target is not in origin form");
        }
        const char *path = memchr(target + skip, '/', head->target_len - skip);
        const char *query = memchr(target + skip, '?', head->target_len - skip);
        if (query != NULL && (path == NULL || query < path)) {
            return fail(status, reason, 400, "absolute target with a query but no path");
        }
        if (path == NULL) {
            static const char root[] = "/";
            head->target = root;
            head->target_len = 1;
        } else {
            head->target_len -= (size_t)(path - target);
            head->target = path;
        }
    }
    const char *version = sp2 + 1;
    size_t vlen = (size_t)(rest - version);
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0) {
        if (vlen >= 5 && memcmp(version, "HTTP/", 5) == 0) {
            return fail(status, reason, 505, "unsupported HTTP version");
        }
        return fail(status, reason, 400, "malformed HTTP version");
    }
    if (version[7] == '1') {
        head->version_minor = 1;
    } else if (version[7] == '0') {
        head->version_minor = 0;
    } else {
        return fail(status, reason, 505, "unsupported HTTP version");
    }
    return HTTPPARSE_DONE;
}

static enum httpparse_result parse_content_length(const char *v, size_t len,
                                                  struct httpparse_head *head, int *status,
                                                  const char **reason)
{
    if (head->has_content_length) {
        return fail(status, reason, 400, "repeated Content-Length");
    }
    if (len == 0 || len > 15) {
        return fail(status, reason, 400, "invalid Content-Length");
    }
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return fail(status, reason, 400, "invalid Content-Length");
        }
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    head->has_content_length = true;
    head->content_length = n;
    return HTTPPARSE_DONE;
}

static enum httpparse_result parse_header(const char *line, size_t len, struct httpparse_head *head,
                                          int *status, const char **reason)
{
    if (line[0] == ' ' || line[0] == '\t') {
        return fail(status, reason, 400, "obsolete line folding");
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line) {
        return fail(status, reason, 400, "malformed header field");
    }
    size_t nlen = (size_t)(colon - line);
    for (size_t i = 0; i < nlen; i++) {
        if (!is_tchar((unsigned char)line[i])) {
            return fail(status, reason, 400, "malformed header name");
        }
    }
    const char *v = colon + 1, *vend = line + len;
    while (v < vend && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
        vend--;
    }
    for (const char *q = v; q < vend; q++) {
        unsigned char c = (unsigned char)*q;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return fail(status, reason, 400, "control character in header value");
        }
    }
    if (head->n_headers >= HTTPPARSE_MAX_HEADERS) {
        return fail(status, reason, 431, "too many header fields");
    }
    struct httpparse_header *h = &head->headers[head->n_headers++];
    h->name = line;
    h->name_len = nlen;
    h->value = v;
    h->value_len = (size_t)(vend - v);

    if (httpparse_token_eq(line, nlen, "content-length")) {
        return parse_content_length(h->value, h->value_len, head, status, reason);
    }
    if (httpparse_token_eq(line, nlen, "transfer-encoding")) {
        return fail(status, reason, 400, "Transfer-Encoding is not accepted");
    }
    if (httpparse_token_eq(line, nlen, "connection")) {
        if (list_has(h->value, h->value_len, "close")) {
            head->keep_alive = false;
        } else if (list_has(h->value, h->value_len, "keep-alive")) {
            head->keep_alive = true;
        }
    } else if (httpparse_token_eq(line, nlen, "expect")) {
        if (!httpparse_token_eq(h->value, h->value_len, "100-continue")) {
            return fail(status, reason, 417, "unsupported expectation");
        }
        head->expect_continue = true;
    } else if (httpparse_token_eq(line, nlen, "content-type")) {
        if (head->content_type != NULL) {
            return fail(status, reason, 400, "repeated Content-Type");
        }
        head->content_type = h->value;
        head->content_type_len = h->value_len;
    }
    return HTTPPARSE_DONE;
}

enum httpparse_result httpparse_head(const char *buf, size_t len, size_t max_head_bytes,
                                     struct httpparse_head *head, size_t *head_len, int *status,
                                     const char **reason)
{
    memset(head, 0, sizeof *head);
    *status = 0;
    *reason = NULL;
    bool truncated = len > max_head_bytes;
    struct cursor c = {buf, buf + (truncated ? max_head_bytes : len)};

    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    if (c.end - c.p >= 2 && c.p[0] == '\r' && c.p[1] == '\n') {
        c.p += 2;
    }
    long n = line_length(&c);
    if (n == -2) {
        return fail(status, reason, 400, "bare CR or LF in request line");
    }
    if (n < 0) {
        return truncated ? fail(status, reason, 431, "request head too large")
                         : HTTPPARSE_INCOMPLETE;
    }
    enum httpparse_result r = parse_request_line(c.p, (size_t)n, head, status, reason);
    if (r != HTTPPARSE_DONE) {
        return r;
    }
    head->keep_alive = head->version_minor == 1;
    c.p += n + 2;
    size_t hosts = 0;
    for (;;) {
        n = line_length(&c);
        if (n == -2) {
            return fail(status, reason, 400, "bare CR or LF in header section");
        }
        if (n < 0) {
            return truncated ? fail(status, reason, 431, "request head too large")
                             : HTTPPARSE_INCOMPLETE;
        }
        if (n == 0) {
            c.p += 2;
            break;
        }
        r = parse_header(c.p, (size_t)n, head, status, reason);
        if (r != HTTPPARSE_DONE) {
            return r;
        }
        if (httpparse_token_eq(head->headers[head->n_headers - 1].name,
                               head->headers[head->n_headers - 1].name_len, "host")) {
            hosts++;
        }
        c.p += n + 2;
    }
    if (head->version_minor == 1 && hosts != 1) {
        return fail(status, reason, 400, hosts ? "repeated Host" : "missing Host");
    }
    if (head->version_minor == 0 && hosts > 1) {
        return fail(status, reason, 400, "repeated Host");
    }
    *head_len = (size_t)(c.p - buf);
    return HTTPPARSE_DONE;
}

bool httpparse_etag_matches(const char *v, size_t len, const char *etag)
{
    size_t etag_len = strlen(etag);
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        if (i == len) {
            break;
        }
        if (v[i] == '*') {
            return true;
        }
        /* Weak comparison: a W/ prefix does not matter for If-None-Match. */
        if (len - i >= 2 && v[i] == 'W' && v[i + 1] == '/') {
            i += 2;
        }
        size_t start = i;
        if (i < len && v[i] == '"') {
            i++;
            while (i < len && v[i] != '"') {
                i++;
            }
            if (i < len) {
                i++;
            }
        } else {
            while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
                i++;
            }
        }
        if (i - start == etag_len && memcmp(v + start, etag, etag_len) == 0) {
            return true;
        }
    }
    return false;
}
