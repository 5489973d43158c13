/*
 * Shared helpers for the unit tests of the questionnaire core: reading the bundled definition,
 * building JSON from C literals written with single quotes, and searching problem lists.
 */
#ifndef SURVEY_UNIT_HELPERS_H
#define SURVEY_UNIT_HELPERS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdef.h"
#include "qjson.h"
#include "qproblem.h"
#include "testlib.h"

#ifndef SURVEY_SOURCE_DIR
#error "SURVEY_SOURCE_DIR must name the source tree"
#endif

#define BUNDLED_PATH SURVEY_SOURCE_DIR "/questionnaire/definitions/genai-adoption-2025.json"

/* Small hand-made definitions, written with single quotes (see unit_dq): DEF(questions, rest)
 * wraps questions made with SINGLE, MULTI, NUMBER, TEXT, EMAIL (id, extra members). */
#define LBL "{'en':'x','ko':'엑스'}"
#define OPT(code) "{'code':'" code "','label':" LBL "}"
#define OPTS3 "'options':[" OPT("x") "," OPT("y") "," OPT("z") "]"
#define HEAD                                                                                       \
    "'format':1,'id':'t-1','version':'1','default_language':'en','languages':['en','ko'],"         \
    "'title':" LBL
#define DEF(questions, rest) "{" HEAD ",'questions':[" questions "]" rest "}"
#define SINGLE(id, extra) "{'id':'" id "','type':'single','label':" LBL "," OPTS3 extra "}"
#define MULTI(id, extra) "{'id':'" id "','type':'multiple','label':" LBL "," OPTS3 extra "}"
#define NUMBER(id, extra) "{'id':'" id "','type':'number','label':" LBL extra "}"
#define TEXT(id, extra) "{'id':'" id "','type':'text','label':" LBL extra "}"
#define EMAIL(id, extra) "{'id':'" id "','type':'email','label':" LBL extra "}"
#define SCORES3 "{'x':0,'y':50,'z':100}"
#define COMPOSITE(items)                                                                           \
    ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,'pillars':[{'id':'p','label':" LBL \
    ",'items':[" items "]}]}"

/* The whole file at path, NUL-terminated, or NULL; *len receives its size. */
static inline char *unit_read_file(const char *path, size_t *len)
{
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)size + 1);
            if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
                free(buf);
                buf = NULL;
            }
            if (buf != NULL) {
                buf[size] = '\0';
                *len = (size_t)size;
            }
        }
    }
    fclose(f);
    return buf;
}

/* A copy of s with every single quote turned into a double quote (JSON written in C). */
static inline char *unit_dq(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (out == NULL)
        abort();
    for (size_t i = 0; i <= n; i++)
        out[i] = s[i] == '\'' ? '"' : s[i];
    return out;
}

/* Parse JSON written with single quotes; a failure to parse is a failed check. */
static inline cJSON *unit_json(const char *single_quoted)
{
    static const struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err = QJSON_OK;
    char *text = unit_dq(single_quoted);
    cJSON *tree = qjson_parse(text, strlen(text), &limits, &err, NULL);
    if (tree == NULL) {
        fprintf(stderr, "could not parse test JSON (%s): %s\n", qjson_strerror(err), text);
        testlib_failed_checks++;
    }
    free(text);
    return tree;
}

static inline void unit_print_problems(const struct qproblems *p)
{
    for (size_t i = 0; i < p->count; i++)
        fprintf(stderr, "    problem: %s [%s] %s\n", p->items[i].path ? p->items[i].path : "(null)",
                p->items[i].code ? p->items[i].code : "(null)",
                p->items[i].message ? p->items[i].message : "(null)");
}

/* Load a definition written with single quotes. */
static inline struct qdef *unit_load(const char *single_quoted, struct qproblems *p)
{
    char *text = unit_dq(single_quoted);
    struct qdef *def = qdef_load(text, strlen(text), p);
    free(text);
    return def;
}

/* A hand-made definition that must compile without a problem (NULL otherwise). */
static inline struct qdef *unit_load_ok(const char *single_quoted)
{
    struct qproblems p;
    qproblems_init(&p, 1000);
    struct qdef *def = unit_load(single_quoted, &p);
    if (def == NULL || p.count != 0) {
        fprintf(stderr, "  expected to load: %s\n", single_quoted);
        unit_print_problems(&p);
    }
    CHECK(def != NULL);
    CHECK(p.count == 0);
    qproblems_clear(&p);
    return def;
}

/* The bundled definition, which must load without a problem. */
static inline struct qdef *unit_load_bundled(void)
{
    struct qproblems p;
    size_t len = 0;
    struct qdef *def = NULL;
    char *text = unit_read_file(BUNDLED_PATH, &len);
    CHECK(text != NULL);
    if (text == NULL) {
        fprintf(stderr, "could not read %s\n", BUNDLED_PATH);
        return NULL;
    }
    qproblems_init(&p, 1000);
    def = qdef_load(text, len, &p);
    CHECK(def != NULL);
    CHECK(p.count == 0);
    if (p.count != 0)
        unit_print_problems(&p);
    qproblems_clear(&p);
    free(text);
    return def;
}

/* True when path equals prefix or lies under it ("/a/b" is under "/a", "/ab" is not). */
static inline bool unit_path_at_or_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return path != NULL && strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Index of a problem with exactly this path and code (code NULL: any code), or -1. */
static inline int unit_find(const struct qproblems *p, const char *path, const char *code)
{
    for (size_t i = 0; i < p->count; i++) {
        const struct qproblem *q = &p->items[i];
        if (q->path != NULL && strcmp(q->path, path) == 0 &&
            (code == NULL || (q->code != NULL && strcmp(q->code, code) == 0)))
            return (int)i;
    }
    return -1;
}

/* Index of a problem at or under prefix with this code (code NULL: any code), or -1. */
static inline int unit_find_under(const struct qproblems *p, const char *prefix, const char *code)
{
    for (size_t i = 0; i < p->count; i++) {
        const struct qproblem *q = &p->items[i];
        if (unit_path_at_or_under(q->path, prefix) &&
            (code == NULL || (q->code != NULL && strcmp(q->code, code) == 0)))
            return (int)i;
    }
    return -1;
}

/* Number of problems with this code. */
static inline size_t unit_count_code(const struct qproblems *p, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
        if (p->items[i].code != NULL && strcmp(p->items[i].code, code) == 0)
            n++;
    return n;
}

/* Every problem has a path (a JSON pointer), a code and a message. */
static inline bool unit_problems_well_formed(const struct qproblems *p)
{
    for (size_t i = 0; i < p->count; i++) {
        const struct qproblem *q = &p->items[i];
        if (q->path == NULL || (q->path[0] != '\0' && q->path[0] != '/') || q->code == NULL ||
            q->code[0] == '\0' || q->message == NULL || q->message[0] == '\0')
            return false;
    }
    return true;
}

/* Index of the indicator with this id, or -1. */
static inline int unit_indicator(const struct qdef *def, const char *id)
{
    for (size_t i = 0; i < def->n_indicators; i++)
        if (strcmp(def->indicators[i].id, id) == 0)
            return (int)i;
    return -1;
}

#endif
