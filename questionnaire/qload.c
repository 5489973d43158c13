/*
 * The loader's toolkit (see qload.h): arena, path, and typed getters that report problems with
 * the JSON pointer of the member at fault.
 */
#include "qload.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *ld_arena_alloc(struct qdef_private *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) {
        n = sizeof(max_align_t);
    }
    struct arena_block *b = d->blocks;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > 16384 ? n : 16384;
        b = malloc(sizeof *b + size);
        if (b == NULL) {
            d->no_memory = 1;
            return NULL;
        }
        b->size = size;
        b->used = 0;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

/* ---- loader context --------------------------------------------------------------------- */

void ld_problem(struct ld *ld, const char *code, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    qproblems_add(ld->pr, ld->plen ? ld->path : "/", code, "%s", message);
}

size_t ld_push_key(struct ld *ld, const char *key)
{
    size_t old = ld->plen;
    char esc[256];
    if (qproblems_pointer_escape(esc, sizeof esc, key) < 0) {
        snprintf(esc, sizeof esc, "...");
    }
    int n = snprintf(ld->path + old, sizeof ld->path - old, "/%s", esc);
    if (n > 0 && (size_t)n < sizeof ld->path - old) {
        ld->plen = old + (size_t)n;
    }
    return old;
}

size_t ld_push_index(struct ld *ld, size_t i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", i);
    return ld_push_key(ld, buf);
}

void ld_pop(struct ld *ld, size_t old)
{
    ld->plen = old;
    ld->path[old] = '\0';
}

/* ---- value checks ----------------------------------------------------------------------- */

bool qdef_is_identifier(const char *s, bool allow_dash)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (allow_dash && c == '-'))) {
            return false;
        }
    }
    return true;
}

bool ld_is_language_tag(const char *s)
{
    /* A BCP 47 subset: 2-3 letters, then "-" subtags of 2-8 letters or digits. */
    size_t i = 0, n = strlen(s);
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
        i++;
    }
    if (i < 2 || i > 3) {
        return false;
    }
    while (i < n) {
        if (s[i++] != '-') {
            return false;
        }
        size_t start = i;
        while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                         (s[i] >= '0' && s[i] <= '9'))) {
            i++;
        }
        if (i - start < 2 || i - start > 8) {
            return false;
        }
    }
    return n <= 35;
}

/* Report members of obj not named in allowed (NULL-terminated). */
void ld_check_members(struct ld *ld, const cJSON *obj, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = strcmp(*a, m->string) == 0;
        }
        if (!ok) {
            size_t old = ld_push_key(ld, m->string);
            ld_problem(ld, "unknown_member", "unknown member");
            ld_pop(ld, old);
        }
    }
}

const cJSON *ld_member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A required or optional member of a given kind; reports a problem and returns NULL when it is
 * missing (and required) or of the wrong type. */

static const char *ld_kind_name(enum kind k)
{
    static const char *const names[] = {"a string", "a number", "true or false", "an object",
                                        "an array"};
    return names[k];
}

static bool ld_kind_ok(const cJSON *v, enum kind k)
{
    switch (k) {
    case K_STRING:
        return cJSON_IsString(v);
    case K_NUMBER:
        return cJSON_IsNumber(v);
    case K_BOOL:
        return cJSON_IsBool(v);
    case K_OBJECT:
        return cJSON_IsObject(v);
    case K_ARRAY:
        return cJSON_IsArray(v);
    }
    return false;
}

const cJSON *ld_get(struct ld *ld, const cJSON *obj, const char *key, enum kind k, bool required)
{
    const cJSON *v = ld_member(obj, key);
    size_t old = ld_push_key(ld, key);
    if (v == NULL) {
        if (required) {
            ld_pop(ld, old);
            ld_problem(ld, "missing_member", "missing required member \"%s\"", key);
        }
    } else if (!ld_kind_ok(v, k)) {
        ld_problem(ld, "wrong_type", "must be %s", ld_kind_name(k));
        v = NULL;
    }
    ld_pop(ld, old);
    return v;
}

bool ld_get_bool(struct ld *ld, const cJSON *obj, const char *key)
{
    const cJSON *v = ld_get(ld, obj, key, K_BOOL, false);
    return v != NULL && cJSON_IsTrue(v);
}

/* An integer member in [lo, hi]; returns dflt when absent or wrong. */
int ld_get_int(struct ld *ld, const cJSON *obj, const char *key, int lo, int hi, int dflt,
               bool *present)
{
    const cJSON *v = ld_get(ld, obj, key, K_NUMBER, false);
    if (present != NULL) {
        *present = false;
    }
    if (v == NULL) {
        return dflt;
    }
    double x = v->valuedouble;
    if (x != floor(x) || x < lo || x > hi) {
        size_t old = ld_push_key(ld, key);
        ld_problem(ld, "invalid_value", "must be a whole number from %d to %d", lo, hi);
        ld_pop(ld, old);
        return dflt;
    }
    if (present != NULL) {
        *present = true;
    }
    return (int)x;
}

const char *ld_get_identifier(struct ld *ld, const cJSON *obj, const char *key, bool allow_dash)
{
    const cJSON *v = ld_get(ld, obj, key, K_STRING, true);
    if (v == NULL) {
        return NULL;
    }
    if (!qdef_is_identifier(v->valuestring, allow_dash)) {
        size_t old = ld_push_key(ld, key);
        ld_problem(ld, "invalid_identifier",
                   allow_dash
                       ? "must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter"
                       : "must be 1-64 characters of a-z, 0-9 and _, starting with a letter");
        ld_pop(ld, old);
        return NULL;
    }
    return v->valuestring;
}

/* A text: an object with a non-empty string for every language and nothing else. */
void ld_get_text(struct ld *ld, const cJSON *obj, const char *key, bool required,
                 struct qdef_text *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *t = ld_get(ld, obj, key, K_OBJECT, required);
    if (t == NULL) {
        return;
    }
    size_t old = ld_push_key(ld, key);
    for (size_t i = 0; i < ld->def->n_languages; i++) {
        const char *lang = ld->def->languages[i];
        const cJSON *v = ld_member(t, lang);
        size_t o2 = ld_push_key(ld, lang);
        if (v == NULL) {
            ld_pop(ld, o2);
            ld_problem(ld, "missing_language", "missing the \"%s\" text", lang);
        } else if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            ld_problem(ld, "wrong_type", "must be a non-empty string");
        } else if (strlen(v->valuestring) > MAX_TEXT_BYTES) {
            ld_problem(ld, "too_long", "must be at most %d bytes", MAX_TEXT_BYTES);
        } else {
            out->by_lang[i] = v->valuestring;
        }
        ld_pop(ld, o2);
    }
    for (const cJSON *m = t->child; m != NULL; m = m->next) {
        if (qdef_find_language(ld->def, m->string) < 0) {
            size_t o2 = ld_push_key(ld, m->string);
            ld_problem(ld, "unknown_language", "not one of the questionnaire's languages");
            ld_pop(ld, o2);
        }
    }
    ld_pop(ld, old);
}

size_t ld_array_size(const cJSON *a)
{
    size_t n = 0;
    for (const cJSON *c = a ? a->child : NULL; c != NULL; c = c->next) {
        n++;
    }
    return n;
}
