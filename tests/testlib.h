/*
 * A minimal test harness: CHECK records a failure and goes on; each TEST is a function listed in
 * the file's TESTS table. main prints one line per failed check and "N passed, N failed".
 */
#ifndef SURVEY_TESTLIB_H
#define SURVEY_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int testlib_failed_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            testlib_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *testlib_a = (a), *testlib_b = (b);                                             \
        if (testlib_a == NULL || testlib_b == NULL || strcmp(testlib_a, testlib_b) != 0) {         \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__,        \
                    __LINE__, #a, #b, testlib_a ? testlib_a : "(null)",                            \
                    testlib_b ? testlib_b : "(null)");                                             \
            testlib_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double testlib_x = (a), testlib_y = (b);                                                   \
        if (!(fabs(testlib_x - testlib_y) <= (tol))) {                                             \
            fprintf(stderr, "%s:%d: check failed: %s ~ %s (%.17g vs %.17g)\n", __FILE__, __LINE__, \
                    #a, #b, testlib_x, testlib_y);                                                 \
            testlib_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

struct testlib_case {
    const char *name;
    void (*fn)(void);
};

/* Run every case; a case passes when it added no failed check. */
static inline int testlib_run(const struct testlib_case *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = testlib_failed_checks;
        cases[i].fn();
        if (testlib_failed_checks == before) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAILED: %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#define TEST_CASE(fn)                                                                              \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define TEST_MAIN(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        static const struct testlib_case cases[] = {__VA_ARGS__};                                  \
        return testlib_run(cases, sizeof cases / sizeof cases[0]);                                 \
    }

#endif
