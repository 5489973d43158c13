/*
 * Strict JSON parsing on top of cJSON. cJSON alone accepts invalid UTF-8, duplicate keys and
 * raw control characters; every byte that reaches the questionnaire core passes through here.
 */
#ifndef SURVEY_QJSON_H
#define SURVEY_QJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct qjson_limits {
    size_t max_bytes;        /* whole text */
    int max_depth;           /* nesting of arrays and objects; the top level is depth 1 */
    size_t max_members;      /* members of one object or elements of one array */
    size_t max_string_bytes; /* one string (key or value), after unescaping */
};

/* Limits for request bodies and definitions: 1 MiB, depth 32, 10,000 members, 256 KiB strings. */
#define QJSON_LIMITS_DEFAULT                                                                       \
    {                                                                                              \
        1u << 20, 32, 10000, 256u << 10                                                            \
    }

enum qjson_error {
    QJSON_OK = 0,
    QJSON_TOO_LARGE, /* more than max_bytes */
    QJSON_BAD_UTF8,  /* not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, truncated) */
    QJSON_SYNTAX,    /* not JSON, or trailing data */
    QJSON_TOO_DEEP,  /* nesting beyond max_depth */
    QJSON_TOO_MANY,  /* an object or array with more than max_members */
    QJSON_STRING_TOO_LONG,
    QJSON_DUPLICATE_KEY, /* the same key twice in one object */
    QJSON_NUL_ESCAPE,    /* \u0000 in a string */
    QJSON_BAD_NUMBER,    /* a number that is not finite as a double, or over 127 characters */
    QJSON_NO_MEMORY,
};

/*
 * Parse len bytes of text (need not be NUL-terminated). On success returns the tree, which the
 * caller frees with cJSON_Delete, and sets *err to QJSON_OK; on failure returns NULL, sets *err,
 * and sets *err_offset (when not NULL) to the byte offset where the problem was found.
 */
cJSON *qjson_parse(const char *text, size_t len, const struct qjson_limits *limits,
                   enum qjson_error *err, size_t *err_offset) __attribute__((warn_unused_result));

/* A stable lower-case description of an error, e.g. "duplicate key in object". */
const char *qjson_strerror(enum qjson_error err);

/* True when the len bytes at s are well-formed UTF-8 (no overlongs, no surrogates). */
int qjson_utf8_valid(const char *s, size_t len);

/* Number of code points in a well-formed UTF-8 string. */
size_t qjson_utf8_length(const char *s);

#endif
