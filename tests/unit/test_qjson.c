/*
 * The strict JSON parser: what it accepts, and every kind of text it must refuse with the
 * matching error, since every byte that reaches the questionnaire core passes through it.
 */
#include <stdlib.h>
#include <string.h>

#include "qjson.h"
#include "testlib.h"

static const struct qjson_limits default_limits = QJSON_LIMITS_DEFAULT;

/* Parse len bytes; the tree exists exactly when the error is QJSON_OK. */
static enum qjson_error parse_len(const char *text, size_t len, const struct qjson_limits *limits)
{
    enum qjson_error err = QJSON_NO_MEMORY;
    size_t offset = (size_t)-1;
    cJSON *tree = qjson_parse(text, len, limits, &err, &offset);
    CHECK((tree != NULL) == (err == QJSON_OK));
    if (err != QJSON_OK)
        CHECK(offset <= len);
    cJSON_Delete(tree);
    return err;
}

static enum qjson_error parse_str(const char *text)
{
    return parse_len(text, strlen(text), &default_limits);
}

/* A string of n copies of c followed by tail, between head and tail. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    if (s == NULL)
        abort();
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void test_valid_documents_parse(void)
{
    CHECK(parse_str("{}") == QJSON_OK);
    CHECK(parse_str("[]") == QJSON_OK);
    CHECK(parse_str("  {\"a\": [1, -2.5, 3e10, true, false, null, \"x\"]}\n") == QJSON_OK);
    CHECK(parse_str("{\"a\": {\"b\": {\"c\": []}}, \"d\": 0}") == QJSON_OK);
    CHECK(parse_str("\"just a string\"") == QJSON_OK);
    CHECK(parse_str("42") == QJSON_OK);
    CHECK(parse_str("-0") == QJSON_OK);
    CHECK(parse_str("1e308") == QJSON_OK);
    CHECK(parse_str("{\"tab\\tnew\\nquote\\\"slash\\/back\\\\\": \"\\b\\f\\r\"}") == QJSON_OK);
}

static void test_korean_and_four_byte_utf8_are_accepted(void)
{
    enum qjson_error err;
    const char *text = "{\"답변\": \"생성형 AI 😀\", \"esc\": \"\\uD55C\\ud83d\\ude00\"}";
    cJSON *tree = qjson_parse(text, strlen(text), &default_limits, &err, NULL);
    CHECK(tree != NULL);
    CHECK(err == QJSON_OK);
    if (tree != NULL) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(tree, "답변");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(tree, "esc");
        CHECK(cJSON_IsString(a));
        CHECK_STR(cJSON_GetStringValue(a), "생성형 AI 😀");
        CHECK(cJSON_IsString(e));
        CHECK_STR(cJSON_GetStringValue(e), "한😀");
    }
    cJSON_Delete(tree);
}

static void test_parsed_values_are_exact(void)
{
    enum qjson_error err;
    const char *text = "{\"n\": 12.5, \"s\": \"a\\u0041\", \"t\": true, \"arr\": [1, 2, 3]}";
    cJSON *tree = qjson_parse(text, strlen(text), &default_limits, &err, NULL);
    CHECK(tree != NULL);
    if (tree != NULL) {
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tree, "n")) == 12.5);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, "s")), "aA");
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tree, "t")));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tree, "arr")) == 3);
    }
    cJSON_Delete(tree);
}

static void test_input_need_not_be_nul_terminated(void)
{
    /* Only the first len bytes count: what follows must be ignored, not read as trailing data. */
    const char text[] = {'[', '1', ']', 'x', 'y'};
    CHECK(parse_len(text, 3, &default_limits) == QJSON_OK);
    CHECK(parse_len(text, 5, &default_limits) == QJSON_SYNTAX);
    const char cut[] = "{\"a\": 1}";
    CHECK(parse_len(cut, 5, &default_limits) == QJSON_SYNTAX);
}

static void test_error_offset_is_optional(void)
{
    enum qjson_error err = QJSON_OK;
    cJSON *tree = qjson_parse("[1,", 3, &default_limits, &err, NULL);
    CHECK(tree == NULL);
    CHECK(err == QJSON_SYNTAX);
    cJSON_Delete(tree);
}

/* The error and the byte offset at which it was found. */
static size_t offset_of(const char *text, enum qjson_error expected)
{
    enum qjson_error err = QJSON_OK;
    size_t offset = (size_t)-1;
    cJSON *tree = qjson_parse(text, strlen(text), &default_limits, &err, &offset);
    CHECK(tree == NULL);
    CHECK(err == expected);
    cJSON_Delete(tree);
    return offset;
}

static void test_error_offset_points_at_the_problem(void)
{
    CHECK(offset_of("\"ab\x80\"", QJSON_BAD_UTF8) == 3);
    CHECK(offset_of("{} x", QJSON_SYNTAX) == 3);
    size_t dup = offset_of("{\"a\":1,\"a\":2}", QJSON_DUPLICATE_KEY);
    CHECK(dup >= 7 && dup <= 13);
    CHECK(offset_of("[1, \"\\u0000\"]", QJSON_NUL_ESCAPE) >= 4);
}

static void test_syntax_errors_are_rejected(void)
{
    CHECK(parse_str("") == QJSON_SYNTAX);
    CHECK(parse_str("   ") == QJSON_SYNTAX);
    CHECK(parse_str("{") == QJSON_SYNTAX);
    CHECK(parse_str("[1,]") == QJSON_SYNTAX);
    CHECK(parse_str("{'a': 1}") == QJSON_SYNTAX);
    CHECK(parse_str("{\"a\" 1}") == QJSON_SYNTAX);
    CHECK(parse_str("[tru]") == QJSON_SYNTAX);
    CHECK(parse_str("\"unterminated") == QJSON_SYNTAX);
    CHECK(parse_str("\"bad escape \\x41\"") == QJSON_SYNTAX);
}

static void test_numbers_outside_the_json_grammar_are_rejected(void)
{
    static const char *const bad[] = {"01",  "[01]", "-",        "1.",        ".5",   "+1",    "1e",
                                      "1e+", "NaN",  "Infinity", "-Infinity", "0x10", "[1.e3]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(parse_str(bad[i]) == QJSON_SYNTAX);
    CHECK(parse_str("[0, -0.0, 1E3, 2e-3, -12.5e+2]") == QJSON_OK);
}

static void test_long_finite_numbers_are_not_out_of_memory(void)
{
    /* 70 characters: longer than cJSON's own number buffer, still a valid finite number. */
    const char *digits70 =
        "[0.123456789012345678901234567890123456789012345678901234567890123456789]";
    enum qjson_error err = QJSON_OK;
    cJSON *tree = qjson_parse(digits70, strlen(digits70), &default_limits, &err, NULL);
    CHECK(err == QJSON_OK);
    CHECK(tree != NULL);
    if (tree != NULL)
        CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetArrayItem(tree, 0)), 0.123456789012345678, 1e-15);
    cJSON_Delete(tree);
    char *digits200 = repeat("[1.", "0", 200, "]");
    CHECK(parse_str(digits200) != QJSON_NO_MEMORY);
    free(digits200);
}

static void test_trailing_garbage_is_rejected(void)
{
    CHECK(parse_str("{} x") == QJSON_SYNTAX);
    CHECK(parse_str("{}{}") == QJSON_SYNTAX);
    CHECK(parse_str("[1] ]") == QJSON_SYNTAX);
    CHECK(parse_str("1 2") == QJSON_SYNTAX);
    CHECK(parse_str("{}\n\t ") == QJSON_OK);
}

static void test_overlong_utf8_is_rejected(void)
{
    CHECK(parse_str("\"\xc0\xaf\"") == QJSON_BAD_UTF8); /* '/' in two bytes */
    CHECK(parse_str("\"\xc1\xbf\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"\xe0\x80\xaf\"") == QJSON_BAD_UTF8);     /* '/' in three bytes */
    CHECK(parse_str("\"\xe0\x9f\xbf\"") == QJSON_BAD_UTF8);     /* U+07FF in three bytes */
    CHECK(parse_str("\"\xf0\x80\x80\xaf\"") == QJSON_BAD_UTF8); /* '/' in four bytes */
    CHECK(parse_str("\"\xf0\x8f\xbf\xbf\"") == QJSON_BAD_UTF8); /* U+FFFF in four bytes */
    CHECK(parse_str("{\"\xc0\x80\": 1}") == QJSON_BAD_UTF8);    /* in a key: an overlong NUL */
}

static void test_surrogate_code_points_in_utf8_are_rejected(void)
{
    CHECK(parse_str("\"\xed\xa0\x80\"") == QJSON_BAD_UTF8); /* U+D800 */
    CHECK(parse_str("\"\xed\xbf\xbf\"") == QJSON_BAD_UTF8); /* U+DFFF */
    CHECK(parse_str("\"\xed\x9f\xbf\"") == QJSON_OK);       /* U+D7FF is fine */
}

static void test_truncated_utf8_is_rejected(void)
{
    CHECK(parse_str("\"\xe2\x82\"") == QJSON_BAD_UTF8);     /* two of three bytes of the euro */
    CHECK(parse_str("\"\xf0\x9f\x98\"") == QJSON_BAD_UTF8); /* three of four bytes */
    CHECK(parse_str("\"\xc3\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("[\"a\"]\xe2\x82") != QJSON_OK);  /* at the very end of the input */
    CHECK(parse_str("\"\xe2\x82\xac\"") == QJSON_OK); /* the whole euro sign */
}

static void test_code_points_beyond_u10ffff_are_rejected(void)
{
    CHECK(parse_str("\"\xf4\x90\x80\x80\"") == QJSON_BAD_UTF8); /* U+110000 */
    CHECK(parse_str("\"\xf5\x80\x80\x80\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"\xf7\xbf\xbf\xbf\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"\xf8\x88\x80\x80\x80\"") == QJSON_BAD_UTF8); /* five-byte form */
    CHECK(parse_str("\"\xf4\x8f\xbf\xbf\"") == QJSON_OK);           /* U+10FFFF is fine */
}

static void test_bare_continuation_and_invalid_bytes_are_rejected(void)
{
    CHECK(parse_str("\"\x80\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"a\xbf b\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"\xfe\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("\"\xff\"") == QJSON_BAD_UTF8);
    CHECK(parse_str("{\"k\x80\": 1}") == QJSON_BAD_UTF8);
}

static void test_lone_surrogate_escapes_are_rejected(void)
{
    CHECK(parse_str("\"\\ud800\"") != QJSON_OK);
    CHECK(parse_str("\"\\udc00\"") != QJSON_OK);
    CHECK(parse_str("\"\\ud800\\u0041\"") != QJSON_OK);
}

static void test_duplicate_keys_are_rejected(void)
{
    CHECK(parse_str("{\"a\": 1, \"a\": 2}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"a\": 1, \"b\": 2, \"a\": 1}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"x\": {\"a\": 1, \"a\": 1}}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("[{\"a\": 1}, {\"q\": [], \"q\": []}]") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"\": 1, \"\": 2}") == QJSON_DUPLICATE_KEY);
}

static void test_duplicate_keys_spelled_with_escapes_are_rejected(void)
{
    CHECK(parse_str("{\"a\": 1, \"\\u0061\": 2}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"\\u0061\": 1, \"a\": 2}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"a/b\": 1, \"a\\/b\": 2}") == QJSON_DUPLICATE_KEY);
    CHECK(parse_str("{\"한\": 1, \"\\ud55c\": 2}") == QJSON_DUPLICATE_KEY);
}

static void test_same_key_in_different_objects_is_allowed(void)
{
    CHECK(parse_str("{\"a\": {\"a\": {\"a\": 1}}, \"b\": {\"a\": 2}}") == QJSON_OK);
    CHECK(parse_str("[{\"a\": 1}, {\"a\": 2}]") == QJSON_OK);
}

static void test_keys_differing_in_case_are_distinct(void)
{
    enum qjson_error err;
    const char *text = "{\"caio\": \"appointed\", \"CAIO\": \"no\", \"Caio\": \"planned\"}";
    cJSON *tree = qjson_parse(text, strlen(text), &default_limits, &err, NULL);
    CHECK(tree != NULL);
    CHECK(err == QJSON_OK);
    if (tree != NULL) {
        CHECK(cJSON_GetArraySize(tree) == 3);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, "caio")),
                  "appointed");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, "CAIO")), "no");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tree, "Caio")), "planned");
    }
    cJSON_Delete(tree);
}

static void test_nesting_deeper_than_the_limit_is_rejected(void)
{
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    limits.max_depth = 4;
    const char *ok = "[[[[1]]]]";
    const char *deep = "[[[[[1]]]]]";
    const char *objs = "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}";
    CHECK(parse_len(ok, strlen(ok), &limits) == QJSON_OK);
    CHECK(parse_len(deep, strlen(deep), &limits) == QJSON_TOO_DEEP);
    CHECK(parse_len(objs, strlen(objs), &limits) == QJSON_TOO_DEEP);
    CHECK(parse_len("{\"a\":[{\"b\":[]}]}", 16, &limits) == QJSON_OK);
}

/* n opening brackets, then n closing ones: well-formed, n deep. */
static char *nested_arrays(size_t n)
{
    char *open = repeat("", "[", n, "");
    char *both = repeat(open, "]", n, "");
    free(open);
    return both;
}

static void test_default_depth_limit_is_32(void)
{
    char *ok = nested_arrays(32);
    char *deep = nested_arrays(33);
    CHECK(parse_str(ok) == QJSON_OK);
    CHECK(parse_str(deep) == QJSON_TOO_DEEP);
    free(ok);
    free(deep);
}

static void test_very_deep_nesting_is_too_deep_not_a_crash(void)
{
    /* Far beyond cJSON's own nesting limit: still reported as too deep, without exhausting the
     * stack. */
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    char *text = nested_arrays(100000);
    CHECK(parse_len(text, strlen(text), &limits) == QJSON_TOO_DEEP);
    free(text);
}

static void test_nul_escape_is_rejected(void)
{
    CHECK(parse_str("\"a\\u0000b\"") == QJSON_NUL_ESCAPE);
    CHECK(parse_str("{\"k\\u0000\": 1}") == QJSON_NUL_ESCAPE);
    CHECK(parse_str("[\"\\u0000\"]") == QJSON_NUL_ESCAPE);
    CHECK(parse_str("\"\\u0001\"") == QJSON_OK);
}

static void test_numbers_overflowing_a_double_are_rejected(void)
{
    CHECK(parse_str("1e400") == QJSON_BAD_NUMBER);
    CHECK(parse_str("[-1e400]") == QJSON_BAD_NUMBER);
    CHECK(parse_str("{\"n\": 1.8e308}") == QJSON_BAD_NUMBER);
    CHECK(parse_str("1.7e308") == QJSON_OK);
    CHECK(parse_str("9007199254740993") == QJSON_OK);
}

static void test_too_large_input_is_rejected(void)
{
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    limits.max_bytes = 10;
    CHECK(parse_len("[1,2,3,44]", 10, &limits) == QJSON_OK);
    CHECK(parse_len("[1,2,3,444]", 11, &limits) == QJSON_TOO_LARGE);
    CHECK(parse_len("[1,2,3,4]  ", 11, &limits) == QJSON_TOO_LARGE);
}

static void test_default_size_limit_is_one_mebibyte(void)
{
    /* A string just over 1 MiB in total: refused before anything else is looked at. */
    char *text = repeat("\"", "a", (size_t)1 << 20, "\"");
    CHECK(parse_str(text) == QJSON_TOO_LARGE);
    free(text);
}

static void test_too_many_members_are_rejected(void)
{
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    limits.max_members = 3;
    const char *obj3 = "{\"a\":1,\"b\":2,\"c\":3}";
    const char *obj4 = "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}";
    const char *nested = "{\"a\":[1,2,3],\"b\":{\"x\":1,\"y\":2,\"z\":3}}";
    CHECK(parse_len(obj3, strlen(obj3), &limits) == QJSON_OK);
    CHECK(parse_len(obj4, strlen(obj4), &limits) == QJSON_TOO_MANY);
    CHECK(parse_len("[1,2,3]", 7, &limits) == QJSON_OK);
    CHECK(parse_len("[1,2,3,4]", 9, &limits) == QJSON_TOO_MANY);
    CHECK(parse_len(nested, strlen(nested), &limits) == QJSON_OK);
    CHECK(parse_len("[[1,2,3,4]]", 11, &limits) == QJSON_TOO_MANY);
}

static void test_too_long_string_is_rejected_after_unescaping(void)
{
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    limits.max_string_bytes = 4;
    const char *escaped4 = "\"\\u0041\\u0042\\u0043\\u0044\"";
    const char *korean = "\"한글\""; /* six bytes */
    CHECK(parse_len("\"abcd\"", 6, &limits) == QJSON_OK);
    CHECK(parse_len("\"abcde\"", 7, &limits) == QJSON_STRING_TOO_LONG);
    CHECK(parse_len(escaped4, strlen(escaped4), &limits) == QJSON_OK);
    CHECK(parse_len(korean, strlen(korean), &limits) == QJSON_STRING_TOO_LONG);
    CHECK(parse_len("{\"abcde\": 1}", 12, &limits) == QJSON_STRING_TOO_LONG);
}

static void test_raw_control_characters_in_strings_are_rejected(void)
{
    CHECK(parse_str("\"a\x01z\"") == QJSON_SYNTAX);
    CHECK(parse_str("\"a\tb\"") == QJSON_SYNTAX);
    CHECK(parse_str("\"a\nb\"") == QJSON_SYNTAX);
    CHECK(parse_str("{\"k\x1f\": 1}") == QJSON_SYNTAX);
    CHECK(parse_str("\"a\\tb\\nc\"") == QJSON_OK);
}

static void test_embedded_nul_byte_is_rejected(void)
{
    const char text[] = {'"', 'a', '\0', 'b', '"'};
    CHECK(parse_len(text, sizeof text, &default_limits) != QJSON_OK);
    const char after[] = {'[', '1', ']', '\0'};
    CHECK(parse_len(after, sizeof after, &default_limits) != QJSON_OK);
}

static void test_utf8_helpers(void)
{
    CHECK(qjson_utf8_valid("", 0));
    CHECK(qjson_utf8_valid("plain", 5));
    CHECK(qjson_utf8_valid("생성형 AI", strlen("생성형 AI")));
    CHECK(!qjson_utf8_valid("\xc0\xaf", 2));
    CHECK(!qjson_utf8_valid("\xed\xa0\x80", 3));
    CHECK(!qjson_utf8_valid("\xe2\x82", 2));
    CHECK(!qjson_utf8_valid("\xf4\x90\x80\x80", 4));
    CHECK(!qjson_utf8_valid("\x80", 1));
    CHECK(qjson_utf8_valid("\xe2\x82\xac", 3));
    /* The length bound is honoured: a valid prefix of an invalid string is valid. */
    CHECK(qjson_utf8_valid("ab\x80", 2));
    CHECK(qjson_utf8_length("") == 0);
    CHECK(qjson_utf8_length("abc") == 3);
    CHECK(qjson_utf8_length("한국어") == 3);
    CHECK(qjson_utf8_length("a€😀") == 3);
}

static void test_every_error_has_a_distinct_description(void)
{
    static const enum qjson_error all[] = {
        QJSON_OK,         QJSON_TOO_LARGE,  QJSON_BAD_UTF8,        QJSON_SYNTAX,
        QJSON_TOO_DEEP,   QJSON_TOO_MANY,   QJSON_STRING_TOO_LONG, QJSON_DUPLICATE_KEY,
        QJSON_NUL_ESCAPE, QJSON_BAD_NUMBER, QJSON_NO_MEMORY,
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = qjson_strerror(all[i]);
        CHECK(a != NULL && a[0] != '\0');
        for (size_t j = 0; j < i; j++)
            CHECK(a != NULL && strcmp(a, qjson_strerror(all[j])) != 0);
    }
}

TEST_MAIN(TEST_CASE(test_valid_documents_parse),
          TEST_CASE(test_korean_and_four_byte_utf8_are_accepted),
          TEST_CASE(test_parsed_values_are_exact), TEST_CASE(test_input_need_not_be_nul_terminated),
          TEST_CASE(test_error_offset_is_optional),
          TEST_CASE(test_error_offset_points_at_the_problem),
          TEST_CASE(test_syntax_errors_are_rejected), TEST_CASE(test_trailing_garbage_is_rejected),
          TEST_CASE(test_numbers_outside_the_json_grammar_are_rejected),
          TEST_CASE(test_long_finite_numbers_are_not_out_of_memory),
          TEST_CASE(test_overlong_utf8_is_rejected),
          TEST_CASE(test_surrogate_code_points_in_utf8_are_rejected),
          TEST_CASE(test_truncated_utf8_is_rejected),
          TEST_CASE(test_code_points_beyond_u10ffff_are_rejected),
          TEST_CASE(test_bare_continuation_and_invalid_bytes_are_rejected),
          TEST_CASE(test_lone_surrogate_escapes_are_rejected),
          TEST_CASE(test_duplicate_keys_are_rejected),
          TEST_CASE(test_duplicate_keys_spelled_with_escapes_are_rejected),
          TEST_CASE(test_same_key_in_different_objects_is_allowed),
          TEST_CASE(test_keys_differing_in_case_are_distinct),
          TEST_CASE(test_nesting_deeper_than_the_limit_is_rejected),
          TEST_CASE(test_default_depth_limit_is_32),
          TEST_CASE(test_very_deep_nesting_is_too_deep_not_a_crash),
          TEST_CASE(test_nul_escape_is_rejected),
          TEST_CASE(test_numbers_overflowing_a_double_are_rejected),
          TEST_CASE(test_too_large_input_is_rejected),
          TEST_CASE(test_default_size_limit_is_one_mebibyte),
          TEST_CASE(test_too_many_members_are_rejected),
          TEST_CASE(test_too_long_string_is_rejected_after_unescaping),
          TEST_CASE(test_raw_control_characters_in_strings_are_rejected),
          TEST_CASE(test_embedded_nul_byte_is_rejected), TEST_CASE(test_utf8_helpers),
          TEST_CASE(test_every_error_has_a_distinct_description))
