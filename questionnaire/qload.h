/*
 * The definition loader's toolkit, shared by qdef.c (metadata, sections, questions) and
 * qdef_rules.c (conditions, eligibility, indicators, composite): the arena every compiled
 * definition lives in, the JSON-pointer path of the member being checked, and typed getters
 * that report a problem and carry on. Internal to questionnaire/.
 */
#ifndef SURVEY_QLOAD_H
#define SURVEY_QLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "qdef.h"
#include "qproblem.h"

#define MAX_COND_DEPTH 16
#define MAX_COND_CHILDREN 64
#define MAX_TEXT_BYTES 4000

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

/* A definition and the arena that owns everything it points to. */
struct qdef_private {
    struct qdef def;
    struct arena_block *blocks;
    int no_memory;
};

/* The loader's state while one definition is checked. */
struct ld {
    struct qdef_private *d;
    struct qdef *def;
    struct qproblems *pr;
    size_t problems_before;
    char path[1024];
    size_t plen;
};

enum kind { K_STRING, K_NUMBER, K_BOOL, K_OBJECT, K_ARRAY };

/* Allocate zeroed memory from the definition's arena; NULL (and no_memory set) on failure. */
void *ld_arena_alloc(struct qdef_private *d, size_t n);

/* Report a problem at the current path. */
void ld_problem(struct ld *ld, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Descend into a member or an element; ld_pop(ld, returned) climbs back. */
size_t ld_push_key(struct ld *ld, const char *key);
size_t ld_push_index(struct ld *ld, size_t i);
void ld_pop(struct ld *ld, size_t old);

bool ld_is_language_tag(const char *s);

/* Report members of obj not named in allowed (NULL-terminated). */
void ld_check_members(struct ld *ld, const cJSON *obj, const char *const *allowed);

/* A member by exact (case-sensitive) key, or NULL. */
const cJSON *ld_member(const cJSON *obj, const char *key);

/* A member of kind k; NULL, with a problem reported, when it is missing (and required) or of
 * another kind. */
const cJSON *ld_get(struct ld *ld, const cJSON *obj, const char *key, enum kind k, bool required);
bool ld_get_bool(struct ld *ld, const cJSON *obj, const char *key);
int ld_get_int(struct ld *ld, const cJSON *obj, const char *key, int lo, int hi, int dflt,
               bool *present);
const char *ld_get_identifier(struct ld *ld, const cJSON *obj, const char *key, bool allow_dash);
void ld_get_text(struct ld *ld, const cJSON *obj, const char *key, bool required,
                 struct qdef_text *out);

/* Members of an object or elements of an array. */
size_t ld_array_size(const cJSON *a);

/* qdef_rules.c: the parts that refer to questions, loaded once every question is known. */
void qdef_load_show_ifs(struct ld *ld, const cJSON *root);
void qdef_load_rules(struct ld *ld, const cJSON *root);
void qdef_load_indicators(struct ld *ld, const cJSON *root);
void qdef_load_composite(struct ld *ld, const cJSON *root);

#endif
