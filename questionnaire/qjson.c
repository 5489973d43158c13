/*
 * Strict JSON: a syntax pass enforces RFC 8259 and our bounds (UTF-8, depth, sizes, \u0000,
 * finite numbers) and rejects duplicate keys (compared after unescaping, so "a" and "\u0061"
 * collide) without building anything; only then does cJSON build the tree.
 */
#include "qjson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A key of an object being scanned: its raw text between the quotes. */
struct raw_key {
    const unsigned char *text;
    size_t len;
};

struct scan {
    const unsigned char *p;
    const unsigned char *end;
    const unsigned char *start;
    const struct qjson_limits *limits;
    enum qjson_error err;
    const unsigned char *err_at; /* where the error was found, when not at p */
    struct raw_key *keys;        /* a stack: the keys of every open object, innermost on top */
    size_t n_keys, cap_keys;
};

static int fail(struct scan *s, enum qjson_error err)
{
    if (s->err == QJSON_OK) {
        s->err = err;
    }
    return -1;
}

/* Length of the UTF-8 sequence at p (1-4), or 0 when it is not well-formed. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t n;
    unsigned int min, cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

int qjson_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = utf8_sequence(p, end);
        if (n == 0) {
            return 0;
        }
        p += n;
    }
    return 1;
}

size_t qjson_utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
        s->p++;
    }
}

static int hex4(struct scan *s, unsigned int *out)
{
    if (s->end - s->p < 4) {
        return fail(s, QJSON_SYNTAX);
    }
    unsigned int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s->p[i];
        unsigned int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return fail(s, QJSON_SYNTAX);
        }
        v = v * 16 + d;
    }
    s->p += 4;
    *out = v;
    return 0;
}

static int scan_string(struct scan *s)
{
    s->p++;             /* the opening quote */
    size_t decoded = 0; /* bytes after unescaping */
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = *s->p;
        if (c < 0x20) {
            return fail(s, QJSON_SYNTAX);
        }
        if (c == '\\') {
            s->p++;
            if (s->p >= s->end) {
                return fail(s, QJSON_SYNTAX);
            }
            c = *s->p++;
            if (c == 'u') {
                unsigned int cp;
                if (hex4(s, &cp) < 0) {
                    return -1;
                }
                if (cp == 0) {
                    return fail(s, QJSON_NUL_ESCAPE);
                }
                if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return fail(s, QJSON_BAD_UTF8);
                }
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned int lo;
                    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u') {
                        return fail(s, QJSON_BAD_UTF8);
                    }
                    s->p += 2;
                    if (hex4(s, &lo) < 0) {
                        return -1;
                    }
                    if (lo < 0xdc00 || lo > 0xdfff) {
                        return fail(s, QJSON_BAD_UTF8);
                    }
                    decoded += 4;
                } else {
                    decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
                }
            } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
                return fail(s, QJSON_SYNTAX);
            } else {
                decoded++;
            }
        } else {
            size_t n = utf8_sequence(s->p, s->end);
            if (n == 0) {
                return fail(s, QJSON_BAD_UTF8);
            }
            s->p += n;
            decoded += n;
        }
        if (decoded > s->limits->max_string_bytes) {
            return fail(s, QJSON_STRING_TOO_LONG);
        }
    }
    if (s->p >= s->end) {
        return fail(s, QJSON_SYNTAX);
    }
    s->p++; /* the closing quote */
    return 0;
}

static int scan_digits(struct scan *s)
{
    const unsigned char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        s->p++;
    }
    return s->p > from ? 0 : fail(s, QJSON_SYNTAX);
}

static int scan_number(struct scan *s)
{
    const unsigned char *from = s->p;
    if (*s->p == '-') {
        s->p++;
    }
    if (s->p < s->end && *s->p == '0') {
        s->p++;
    } else if (scan_digits(s) < 0) {
        return -1;
    }
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (scan_digits(s) < 0) {
            return -1;
        }
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
            s->p++;
        }
        if (scan_digits(s) < 0) {
            return -1;
        }
    }
    /* strtod needs a terminated copy; a number longer than this is not one we accept. */
    char buf[128];
    size_t len = (size_t)(s->p - from);
    if (len >= sizeof buf) {
        return fail(s, QJSON_BAD_NUMBER);
    }
    memcpy(buf, from, len);
    buf[len] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0)) {
        return fail(s, QJSON_BAD_NUMBER);
    }
    return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
        return fail(s, QJSON_SYNTAX);
    }
    s->p += n;
    return 0;
}

/* Four hex digits, already checked. */
static unsigned int hex_value(const unsigned char *p)
{
    unsigned int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* The next code point of a raw JSON string (already checked by scan_string). */
static unsigned int next_code_point(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    unsigned int cp;
    if (*p == '\\') {
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        if (p[1] != 'u') {
            *pp = p + 2;
            return (unsigned char)esc_out[strchr(esc_in, p[1]) - esc_in];
        }
        cp = hex_value(p + 2);
        p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned int lo = hex_value(p + 2);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
        *pp = p;
        return cp;
    }
    size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
    cp = n == 1 ? *p : n == 2 ? (*p & 0x1fu) : n == 3 ? (*p & 0x0fu) : (*p & 0x07u);
    for (size_t i = 1; i < n; i++) {
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    *pp = p + n;
    return cp;
}

/* Orders raw keys by their decoded text, so "a" and "\u0061" compare equal. */
static int raw_key_cmp(const void *va, const void *vb)
{
    const struct raw_key *a = va, *b = vb;
    const unsigned char *pa = a->text, *ea = a->text + a->len;
    const unsigned char *pb = b->text, *eb = b->text + b->len;
    while (pa < ea && pb < eb) {
        unsigned int ca = next_code_point(&pa), cb = next_code_point(&pb);
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return (pa < ea) - (pb < eb);
}

static int push_key(struct scan *s, const unsigned char *text, size_t len)
{
    if (s->n_keys == s->cap_keys) {
        size_t cap = s->cap_keys ? s->cap_keys * 2 : 32;
        struct raw_key *keys = realloc(s->keys, cap * sizeof *keys);
        if (keys == NULL) {
            return fail(s, QJSON_NO_MEMORY);
        }
        s->keys = keys;
        s->cap_keys = cap;
    }
    s->keys[s->n_keys].text = text;
    s->keys[s->n_keys].len = len;
    s->n_keys++;
    return 0;
}

/* The keys from index first on are one object's: pop them, failing on a repeated one. */
static int check_object_keys(struct scan *s, size_t first)
{
    struct raw_key *keys = s->keys + first;
    size_t n = s->n_keys - first;
    int rc = 0;
    if (n > 1) {
        qsort(keys, n, sizeof *keys, raw_key_cmp);
        for (size_t i = 1; i < n && rc == 0; i++) {
            if (raw_key_cmp(&keys[i - 1], &keys[i]) == 0) {
                /* Point at the later of the two in the text. */
                s->err_at = keys[i].text > keys[i - 1].text ? keys[i].text : keys[i - 1].text;
                rc = fail(s, QJSON_DUPLICATE_KEY);
            }
        }
    }
    s->n_keys = first;
    return rc;
}

static int scan_value(struct scan *s, int depth);

static int scan_container(struct scan *s, int depth, unsigned char close)
{
    if (depth > s->limits->max_depth) {
        return fail(s, QJSON_TOO_DEEP);
    }
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    size_t members = 0, first_key = s->n_keys;
    for (;;) {
        if (++members > s->limits->max_members) {
            return fail(s, QJSON_TOO_MANY);
        }
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"') {
                return fail(s, QJSON_SYNTAX);
            }
            const unsigned char *key = s->p + 1;
            if (scan_string(s) < 0 || push_key(s, key, (size_t)(s->p - 1 - key)) < 0) {
                return -1;
            }
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') {
                return fail(s, QJSON_SYNTAX);
            }
            s->p++;
        }
        if (scan_value(s, depth) < 0) {
            return -1;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return close == '}' ? check_object_keys(s, first_key) : 0;
        }
        return fail(s, QJSON_SYNTAX);
    }
}

static int scan_value(struct scan *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->end) {
        return fail(s, QJSON_SYNTAX);
    }
    switch (*s->p) {
    case '{':
        return scan_container(s, depth + 1, '}');
    case '[':
        return scan_container(s, depth + 1, ']');
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) {
            return scan_number(s);
        }
        return fail(s, QJSON_SYNTAX);
    }
}

cJSON *qjson_parse(const char *text, size_t len, const struct qjson_limits *limits,
                   enum qjson_error *err, size_t *err_offset)
{
    struct scan s = {.p = (const unsigned char *)text,
                     .end = (const unsigned char *)text + len,
                     .start = (const unsigned char *)text,
                     .limits = limits,
                     .err = QJSON_OK};
    cJSON *root = NULL;
    if (err_offset != NULL) {
        *err_offset = 0;
    }
    if (len > limits->max_bytes) {
        *err = QJSON_TOO_LARGE;
        return NULL;
    }
    if (scan_value(&s, 0) == 0) {
        skip_ws(&s);
        if (s.p != s.end) {
            fail(&s, QJSON_SYNTAX);
        }
    }
    free(s.keys);
    if (s.err != QJSON_OK) {
        *err = s.err;
        if (err_offset != NULL) {
            *err_offset = (size_t)((s.err_at ? s.err_at : s.p) - s.start);
        }
        return NULL;
    }
    root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        /* The syntax pass accepted it, so cJSON can only have run out of memory. */
        *err = QJSON_NO_MEMORY;
        return NULL;
    }
    *err = QJSON_OK;
    return root;
}

const char *qjson_strerror(enum qjson_error err)
{
    switch (err) {
    case QJSON_OK:
        return "no error";
    case QJSON_TOO_LARGE:
        return "document too large";
    case QJSON_BAD_UTF8:
        return "invalid UTF-8";
    case QJSON_SYNTAX:
        return "invalid JSON syntax";
    case QJSON_TOO_DEEP:
        return "nesting too deep";
    case QJSON_TOO_MANY:
        return "too many members in an object or array";
    case QJSON_STRING_TOO_LONG:
        return "string too long";
    case QJSON_DUPLICATE_KEY:
        return "duplicate key in object";
    case QJSON_NUL_ESCAPE:
        return "\\u0000 is not allowed in strings";
    case QJSON_BAD_NUMBER:
        return "number out of range";
    case QJSON_NO_MEMORY:
        return "out of memory";
    }
    return "unknown error";
}
