/*
 * The definition loader: checks a parsed definition member by member, keeps going after a
 * problem so that every problem is listed, and builds the compiled struct qdef. Every
 * allocation of a definition comes from its arena, so qdef_free is one walk.
 */
#include "qdef.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qjson.h"

#define MAX_COND_DEPTH 16
#define MAX_COND_CHILDREN 64
#define MAX_TEXT_BYTES 4000

/* ---- arena ---------------------------------------------------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

struct qdef_private {
    struct qdef def;
    struct arena_block *blocks;
    int no_memory;
};

static void *arena_alloc(struct qdef_private *d, size_t n)
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

struct ld {
    struct qdef_private *d;
    struct qdef *def;
    struct qproblems *pr;
    size_t problems_before;
    char path[1024];
    size_t plen;
};

static void problem(struct ld *ld, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct ld *ld, const char *code, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    qproblems_add(ld->pr, ld->plen ? ld->path : "/", code, "%s", message);
}

static size_t push_key(struct ld *ld, const char *key)
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

static size_t push_index(struct ld *ld, size_t i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", i);
    return push_key(ld, buf);
}

static void pop(struct ld *ld, size_t old)
{
    ld->plen = old;
    ld->path[old] = '\0';
}

/* ---- value checks ----------------------------------------------------------------------- */

static bool is_identifier(const char *s, bool allow_dash)
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

static bool is_language_tag(const char *s)
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
static void check_members(struct ld *ld, const cJSON *obj, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = strcmp(*a, m->string) == 0;
        }
        if (!ok) {
            size_t old = push_key(ld, m->string);
            problem(ld, "unknown_member", "unknown member");
            pop(ld, old);
        }
    }
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A required or optional member of a given kind; reports a problem and returns NULL when it is
 * missing (and required) or of the wrong type. */
enum kind { K_STRING, K_NUMBER, K_BOOL, K_OBJECT, K_ARRAY };

static const char *kind_name(enum kind k)
{
    static const char *const names[] = {"a string", "a number", "true or false", "an object",
                                        "an array"};
    return names[k];
}

static bool kind_ok(const cJSON *v, enum kind k)
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

static const cJSON *get(struct ld *ld, const cJSON *obj, const char *key, enum kind k,
                        bool required)
{
    const cJSON *v = member(obj, key);
    size_t old = push_key(ld, key);
    if (v == NULL) {
        if (required) {
            pop(ld, old);
            problem(ld, "missing_member", "missing required member \"%s\"", key);
        }
    } else if (!kind_ok(v, k)) {
        problem(ld, "wrong_type", "must be %s", kind_name(k));
        v = NULL;
    }
    pop(ld, old);
    return v;
}

static bool get_bool(struct ld *ld, const cJSON *obj, const char *key)
{
    const cJSON *v = get(ld, obj, key, K_BOOL, false);
    return v != NULL && cJSON_IsTrue(v);
}

/* An integer member in [lo, hi]; returns dflt when absent or wrong. */
static int get_int(struct ld *ld, const cJSON *obj, const char *key, int lo, int hi, int dflt,
                   bool *present)
{
    const cJSON *v = get(ld, obj, key, K_NUMBER, false);
    if (present != NULL) {
        *present = false;
    }
    if (v == NULL) {
        return dflt;
    }
    double x = v->valuedouble;
    if (x != floor(x) || x < lo || x > hi) {
        size_t old = push_key(ld, key);
        problem(ld, "invalid_value", "must be a whole number from %d to %d", lo, hi);
        pop(ld, old);
        return dflt;
    }
    if (present != NULL) {
        *present = true;
    }
    return (int)x;
}

static const char *get_identifier(struct ld *ld, const cJSON *obj, const char *key,
                                  bool allow_dash)
{
    const cJSON *v = get(ld, obj, key, K_STRING, true);
    if (v == NULL) {
        return NULL;
    }
    if (!is_identifier(v->valuestring, allow_dash)) {
        size_t old = push_key(ld, key);
        problem(ld, "invalid_identifier",
                allow_dash ? "must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter"
                           : "must be 1-64 characters of a-z, 0-9 and _, starting with a letter");
        pop(ld, old);
        return NULL;
    }
    return v->valuestring;
}

/* A text: an object with a non-empty string for every language and nothing else. */
static void get_text(struct ld *ld, const cJSON *obj, const char *key, bool required,
                     struct qdef_text *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *t = get(ld, obj, key, K_OBJECT, required);
    if (t == NULL) {
        return;
    }
    size_t old = push_key(ld, key);
    for (size_t i = 0; i < ld->def->n_languages; i++) {
        const char *lang = ld->def->languages[i];
        const cJSON *v = member(t, lang);
        size_t o2 = push_key(ld, lang);
        if (v == NULL) {
            pop(ld, o2);
            problem(ld, "missing_language", "missing the \"%s\" text", lang);
        } else if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            problem(ld, "wrong_type", "must be a non-empty string");
        } else if (strlen(v->valuestring) > MAX_TEXT_BYTES) {
            problem(ld, "too_long", "must be at most %d bytes", MAX_TEXT_BYTES);
        } else {
            out->by_lang[i] = v->valuestring;
        }
        pop(ld, o2);
    }
    for (const cJSON *m = t->child; m != NULL; m = m->next) {
        if (qdef_find_language(ld->def, m->string) < 0) {
            size_t o2 = push_key(ld, m->string);
            problem(ld, "unknown_language", "not one of the questionnaire's languages");
            pop(ld, o2);
        }
    }
    pop(ld, old);
}

static size_t array_size(const cJSON *a)
{
    size_t n = 0;
    for (const cJSON *c = a ? a->child : NULL; c != NULL; c = c->next) {
        n++;
    }
    return n;
}

/* ---- metadata and sections -------------------------------------------------------------- */

static void load_languages(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *langs = get(ld, root, "languages", K_ARRAY, true);
    size_t n = array_size(langs);
    size_t old = push_key(ld, "languages");
    if (langs != NULL && (n < 1 || n > QDEF_MAX_LANGUAGES)) {
        problem(ld, "invalid_value", "must list 1 to %d languages", QDEF_MAX_LANGUAGES);
    }
    size_t i = 0;
    for (const cJSON *l = langs ? langs->child : NULL; l != NULL; l = l->next, i++) {
        size_t o2 = push_index(ld, i);
        if (!cJSON_IsString(l) || !is_language_tag(l->valuestring)) {
            problem(ld, "invalid_value", "must be a language tag such as \"ko\" or \"en\"");
        } else if (qdef_find_language(def, l->valuestring) >= 0) {
            problem(ld, "duplicate_id", "language \"%s\" is listed twice", l->valuestring);
        } else if (def->n_languages < QDEF_MAX_LANGUAGES) {
            def->languages[def->n_languages++] = l->valuestring;
        }
        pop(ld, o2);
    }
    pop(ld, old);

    const cJSON *dl = get(ld, root, "default_language", K_STRING, true);
    def->default_language = 0;
    if (dl != NULL) {
        int idx = qdef_find_language(def, dl->valuestring);
        if (idx < 0) {
            old = push_key(ld, "default_language");
            problem(ld, "invalid_value", "must be one of \"languages\"");
            pop(ld, old);
        } else {
            def->default_language = idx;
        }
    }
}

static void load_sections(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *secs = get(ld, root, "sections", K_ARRAY, false);
    size_t n = array_size(secs);
    if (secs == NULL || n == 0) {
        if (secs != NULL) {
            size_t old = push_key(ld, "sections");
            problem(ld, "invalid_value", "must list at least one section, or be left out");
            pop(ld, old);
        }
        def->sections = arena_alloc(ld->d, sizeof *def->sections);
        if (def->sections != NULL) {
            def->sections[0].id = "";
            def->n_sections = 1;
        }
        return;
    }
    def->sections = arena_alloc(ld->d, n * sizeof *def->sections);
    if (def->sections == NULL) {
        return;
    }
    size_t old = push_key(ld, "sections");
    size_t i = 0;
    for (const cJSON *s = secs->child; s != NULL; s = s->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_section *sec = &def->sections[i];
        sec->id = "";
        if (!cJSON_IsObject(s)) {
            problem(ld, "wrong_type", "must be an object");
        } else {
            static const char *const allowed[] = {"id", "title", NULL};
            check_members(ld, s, allowed);
            const char *id = get_identifier(ld, s, "id", false);
            if (id != NULL) {
                for (size_t j = 0; j < i; j++) {
                    if (strcmp(def->sections[j].id, id) == 0) {
                        size_t o3 = push_key(ld, "id");
                        problem(ld, "duplicate_id", "section \"%s\" is defined twice", id);
                        pop(ld, o3);
                    }
                }
                sec->id = id;
            }
            get_text(ld, s, "title", true, &sec->title);
        }
        pop(ld, o2);
    }
    def->n_sections = n;
    pop(ld, old);
}

/* ---- questions (pass 1: everything but conditions) -------------------------------------- */

static const struct {
    const char *name;
    enum qdef_type type;
} type_names[] = {{"single", QDEF_SINGLE},
                  {"multiple", QDEF_MULTIPLE},
                  {"number", QDEF_NUMBER},
                  {"text", QDEF_TEXT},
                  {"email", QDEF_EMAIL}};

const char *qdef_type_name(enum qdef_type type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (type_names[i].type == type) {
            return type_names[i].name;
        }
    }
    return "unknown";
}

/* Members each type accepts (beyond the common ones). */
static const char *const common_members[] = {"id",       "type",        "label",  "help",
                                             "section",  "required",    "show_if", "identifying"};
static const char *const single_members[] = {"options", "quasi_identifier", NULL};
static const char *const multiple_members[] = {"options", "min_choices", "max_choices", NULL};
static const char *const number_members[] = {"min", "max", "decimals", NULL};
static const char *const string_members[] = {"max_length", NULL};

static const char *const *type_members(enum qdef_type t)
{
    switch (t) {
    case QDEF_SINGLE:
        return single_members;
    case QDEF_MULTIPLE:
        return multiple_members;
    case QDEF_NUMBER:
        return number_members;
    case QDEF_TEXT:
    case QDEF_EMAIL:
        return string_members;
    }
    return string_members;
}

static void check_question_members(struct ld *ld, const cJSON *q, enum qdef_type t)
{
    const char *allowed[32];
    size_t n = 0;
    for (size_t i = 0; i < sizeof common_members / sizeof common_members[0]; i++) {
        allowed[n++] = common_members[i];
    }
    for (const char *const *m = type_members(t); *m; m++) {
        allowed[n++] = *m;
    }
    allowed[n] = NULL;
    /* Name the type in the problem so "options on a number" reads clearly. */
    for (const cJSON *m = q->child; m != NULL; m = m->next) {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++) {
            ok = strcmp(allowed[i], m->string) == 0;
        }
        if (!ok) {
            size_t old = push_key(ld, m->string);
            problem(ld, "unknown_member", "unknown member for a \"%s\" question",
                    qdef_type_name(t));
            pop(ld, old);
        }
    }
}

static void load_options(struct ld *ld, const cJSON *q, struct qdef_question *qq)
{
    const cJSON *opts = get(ld, q, "options", K_ARRAY, true);
    if (opts == NULL) {
        return;
    }
    size_t n = array_size(opts);
    size_t old = push_key(ld, "options");
    if (n < 1 || n > QDEF_MAX_OPTIONS) {
        problem(ld, "invalid_value", "must list 1 to %d options", QDEF_MAX_OPTIONS);
    }
    if (n == 0 || n > QDEF_MAX_OPTIONS) {
        pop(ld, old);
        return;
    }
    qq->options = arena_alloc(ld->d, n * sizeof *qq->options);
    if (qq->options == NULL) {
        pop(ld, old);
        return;
    }
    size_t i = 0;
    for (const cJSON *o = opts->child; o != NULL; o = o->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_option *opt = &qq->options[i];
        opt->code = "";
        if (!cJSON_IsObject(o)) {
            problem(ld, "wrong_type", "must be an object");
            pop(ld, o2);
            continue;
        }
        static const char *const allowed_single[] = {"code", "label", NULL};
        static const char *const allowed_multiple[] = {"code", "label", "exclusive", NULL};
        check_members(ld, o, qq->type == QDEF_MULTIPLE ? allowed_multiple : allowed_single);
        const char *code = get_identifier(ld, o, "code", false);
        if (code != NULL) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(qq->options[j].code, code) == 0) {
                    size_t o3 = push_key(ld, "code");
                    problem(ld, "duplicate_id", "option \"%s\" is defined twice", code);
                    pop(ld, o3);
                }
            }
            opt->code = code;
        }
        get_text(ld, o, "label", true, &opt->label);
        opt->exclusive = qq->type == QDEF_MULTIPLE && get_bool(ld, o, "exclusive");
        pop(ld, o2);
    }
    qq->n_options = n;
    pop(ld, old);
}

static void load_question(struct ld *ld, const cJSON *q, struct qdef_question *qq,
                          bool has_sections)
{
    qq->id = "";
    qq->section = 0;
    if (!cJSON_IsObject(q)) {
        problem(ld, "wrong_type", "must be an object");
        return;
    }
    const char *id = get_identifier(ld, q, "id", false);
    if (id != NULL) {
        qq->id = id;
    }
    const cJSON *type = get(ld, q, "type", K_STRING, true);
    bool type_ok = false;
    if (type != NULL) {
        for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
            if (strcmp(type_names[i].name, type->valuestring) == 0) {
                qq->type = type_names[i].type;
                type_ok = true;
            }
        }
        if (!type_ok) {
            size_t old = push_key(ld, "type");
            problem(ld, "invalid_value",
                    "must be one of \"single\", \"multiple\", \"number\", \"text\", \"email\"");
            pop(ld, old);
        }
    }
    get_text(ld, q, "label", true, &qq->label);
    get_text(ld, q, "help", false, &qq->help);
    qq->required = get_bool(ld, q, "required");
    qq->identifying = get_bool(ld, q, "identifying");
    if (!type_ok) {
        return;
    }
    check_question_members(ld, q, qq->type);

    const cJSON *sec = get(ld, q, "section", K_STRING, has_sections);
    if (sec != NULL) {
        size_t old = push_key(ld, "section");
        int found = -1;
        for (size_t i = 0; i < ld->def->n_sections && has_sections; i++) {
            if (strcmp(ld->def->sections[i].id, sec->valuestring) == 0) {
                found = (int)i;
            }
        }
        if (!has_sections) {
            problem(ld, "unknown_member", "the questionnaire has no \"sections\"");
        } else if (found < 0) {
            problem(ld, "unknown_section", "section \"%s\" does not exist", sec->valuestring);
        } else {
            qq->section = found;
        }
        pop(ld, old);
    }

    switch (qq->type) {
    case QDEF_SINGLE:
        load_options(ld, q, qq);
        qq->quasi_identifier = get_bool(ld, q, "quasi_identifier");
        break;
    case QDEF_MULTIPLE: {
        load_options(ld, q, qq);
        int n = (int)qq->n_options;
        bool has_min, has_max;
        qq->min_choices = get_int(ld, q, "min_choices", 1, QDEF_MAX_OPTIONS, 1, &has_min);
        qq->max_choices = get_int(ld, q, "max_choices", 1, QDEF_MAX_OPTIONS, n, &has_max);
        if (n > 0 && qq->max_choices > n) {
            size_t old = push_key(ld, "max_choices");
            problem(ld, "invalid_value", "must not exceed the number of options (%d)", n);
            pop(ld, old);
            qq->max_choices = n;
        }
        if (qq->min_choices > qq->max_choices) {
            size_t old = push_key(ld, "min_choices");
            problem(ld, "invalid_value", "must not exceed max_choices (%d)", qq->max_choices);
            pop(ld, old);
        }
        break;
    }
    case QDEF_NUMBER: {
        const cJSON *mn = get(ld, q, "min", K_NUMBER, false);
        const cJSON *mx = get(ld, q, "max", K_NUMBER, false);
        qq->has_min = mn != NULL;
        qq->has_max = mx != NULL;
        qq->min = mn ? mn->valuedouble : 0;
        qq->max = mx ? mx->valuedouble : 0;
        if (mn && mx && qq->min > qq->max) {
            size_t old = push_key(ld, "min");
            problem(ld, "invalid_value", "must not exceed max");
            pop(ld, old);
        }
        qq->decimals = get_int(ld, q, "decimals", 0, 6, 0, NULL);
        break;
    }
    case QDEF_TEXT:
    case QDEF_EMAIL:
        qq->max_length = get_int(ld, q, "max_length", 1, 100000,
                                 qq->type == QDEF_TEXT ? 2000 : 254, NULL);
        break;
    }
}

static int by_id_cmp(const void *a, const void *b, const struct qdef *def)
{
    return strcmp(def->questions[*(const int *)a].id, def->questions[*(const int *)b].id);
}

/* qsort has no context argument in C11: a small insertion sort keeps this reentrant. */
static void sort_by_id(struct qdef *def)
{
    for (size_t i = 1; i < def->n_questions; i++) {
        int v = def->by_id[i];
        size_t j = i;
        while (j > 0 && by_id_cmp(&def->by_id[j - 1], &v, def) > 0) {
            def->by_id[j] = def->by_id[j - 1];
            j--;
        }
        def->by_id[j] = v;
    }
}

static void load_questions(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *qs = get(ld, root, "questions", K_ARRAY, true);
    if (qs == NULL) {
        return;
    }
    size_t n = array_size(qs);
    size_t old = push_key(ld, "questions");
    if (n < 1 || n > QDEF_MAX_QUESTIONS) {
        problem(ld, "invalid_value", "must list 1 to %d questions", QDEF_MAX_QUESTIONS);
        pop(ld, old);
        return;
    }
    def->questions = arena_alloc(ld->d, n * sizeof *def->questions);
    def->by_id = arena_alloc(ld->d, n * sizeof *def->by_id);
    if (def->questions == NULL || def->by_id == NULL) {
        pop(ld, old);
        return;
    }
    bool has_sections = member(root, "sections") != NULL && def->sections[0].id[0] != '\0';
    size_t i = 0;
    int last_section = 0;
    for (const cJSON *q = qs->child; q != NULL; q = q->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_question *qq = &def->questions[i];
        load_question(ld, q, qq, has_sections);
        for (size_t j = 0; j < i && qq->id[0]; j++) {
            if (strcmp(def->questions[j].id, qq->id) == 0) {
                size_t o3 = push_key(ld, "id");
                problem(ld, "duplicate_id", "question \"%s\" is defined twice", qq->id);
                pop(ld, o3);
            }
        }
        if (qq->section < last_section) {
            size_t o3 = push_key(ld, "section");
            problem(ld, "section_order",
                    "questions of a section must be contiguous and in the order of \"sections\"");
            pop(ld, o3);
        } else {
            last_section = qq->section;
        }
        def->by_id[i] = (int)i;
        pop(ld, o2);
    }
    def->n_questions = n;
    sort_by_id(def);
    pop(ld, old);
}

/* ---- conditions ------------------------------------------------------------------------- */

struct cond_ctx {
    size_t limit;       /* questions with index < limit may be referenced */
    const char *limit_what; /* for the forward-reference message, or NULL when all are allowed */
    int max_ref;        /* highest question index referenced */
    bool refs[QDEF_MAX_QUESTIONS];
};

static struct qdef_cond *load_cond(struct ld *ld, const cJSON *c, int depth,
                                   struct cond_ctx *ctx);

static const char *const leaf_ops[] = {"equals", "in", "includes", "gte", "lte", "answered"};

static struct qdef_cond *load_leaf(struct ld *ld, const cJSON *c, struct cond_ctx *ctx)
{
    const struct qdef *def = ld->def;
    const cJSON *qv = get(ld, c, "question", K_STRING, true);
    const char *op = NULL;
    const cJSON *arg = NULL;
    for (const cJSON *m = c->child; m != NULL; m = m->next) {
        for (size_t i = 0; i < sizeof leaf_ops / sizeof leaf_ops[0]; i++) {
            if (strcmp(m->string, leaf_ops[i]) == 0) {
                if (op != NULL) {
                    problem(ld, "invalid_condition", "must have exactly one comparison");
                    return NULL;
                }
                op = leaf_ops[i];
                arg = m;
            }
        }
    }
    static const char *const allowed[] = {"question", "equals", "in",      "includes",
                                          "gte",      "lte",    "answered", NULL};
    check_members(ld, c, allowed);
    if (op == NULL) {
        problem(ld, "invalid_condition",
                "must have one of \"equals\", \"in\", \"includes\", \"gte\", \"lte\", "
                "\"answered\"");
        return NULL;
    }
    if (qv == NULL) {
        return NULL;
    }
    int q = qdef_find_question(def, qv->valuestring);
    size_t old = push_key(ld, "question");
    if (q < 0) {
        problem(ld, "unknown_question", "question \"%s\" does not exist", qv->valuestring);
        pop(ld, old);
        return NULL;
    }
    if ((size_t)q >= ctx->limit) {
        problem(ld, "forward_reference", "refers to question \"%s\", which is not asked before %s",
                qv->valuestring, ctx->limit_what ? ctx->limit_what : "it");
        pop(ld, old);
        return NULL;
    }
    pop(ld, old);
    ctx->refs[q] = true;
    if (q > ctx->max_ref) {
        ctx->max_ref = q;
    }

    const struct qdef_question *qq = &def->questions[q];
    struct qdef_cond *cond = arena_alloc(ld->d, sizeof *cond);
    if (cond == NULL) {
        return NULL;
    }
    cond->question = q;
    old = push_key(ld, op);
    struct qdef_cond *result = NULL;
    if (strcmp(op, "answered") == 0) {
        if (!cJSON_IsBool(arg)) {
            problem(ld, "wrong_type", "must be true or false");
        } else {
            cond->kind = QDEF_COND_ANSWERED;
            cond->flag = cJSON_IsTrue(arg);
            result = cond;
        }
    } else if (strcmp(op, "gte") == 0 || strcmp(op, "lte") == 0 ||
               (strcmp(op, "equals") == 0 && qq->type == QDEF_NUMBER)) {
        if (qq->type != QDEF_NUMBER) {
            problem(ld, "invalid_condition", "\"%s\" applies to number questions; \"%s\" is %s",
                    op, qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsNumber(arg)) {
            problem(ld, "wrong_type", "must be a number");
        } else {
            cond->kind = op[0] == 'g'   ? QDEF_COND_GTE
                         : op[0] == 'l' ? QDEF_COND_LTE
                                        : QDEF_COND_EQUALS_NUM;
            cond->num = arg->valuedouble;
            result = cond;
        }
    } else if (strcmp(op, "equals") == 0 || strcmp(op, "includes") == 0) {
        bool includes = op[1] == 'n';
        enum qdef_type want = includes ? QDEF_MULTIPLE : QDEF_SINGLE;
        if (qq->type != want) {
            problem(ld, "invalid_condition", "\"%s\" applies to %s questions; \"%s\" is %s", op,
                    qdef_type_name(want), qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsString(arg)) {
            problem(ld, "wrong_type", "must be an option code");
        } else {
            int o = qdef_find_option(def, q, arg->valuestring);
            if (o < 0) {
                problem(ld, "unknown_option", "\"%s\" is not an option of \"%s\"",
                        arg->valuestring, qq->id);
            } else {
                cond->kind = includes ? QDEF_COND_INCLUDES : QDEF_COND_EQUALS_CODE;
                cond->option = o;
                result = cond;
            }
        }
    } else { /* in */
        size_t n = array_size(arg);
        if (qq->type != QDEF_SINGLE) {
            problem(ld, "invalid_condition", "\"in\" applies to single questions; \"%s\" is %s",
                    qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsArray(arg) || n < 1 || n > QDEF_MAX_OPTIONS) {
            problem(ld, "wrong_type", "must be an array of 1 to %d option codes",
                    QDEF_MAX_OPTIONS);
        } else {
            cond->kind = QDEF_COND_IN;
            cond->options = arena_alloc(ld->d, n * sizeof *cond->options);
            bool ok = cond->options != NULL;
            size_t i = 0;
            for (const cJSON *e = arg->child; e != NULL && ok; e = e->next, i++) {
                size_t o2 = push_index(ld, i);
                int o = cJSON_IsString(e) ? qdef_find_option(def, q, e->valuestring) : -1;
                if (!cJSON_IsString(e)) {
                    problem(ld, "wrong_type", "must be an option code");
                } else if (o < 0) {
                    problem(ld, "unknown_option", "\"%s\" is not an option of \"%s\"",
                            e->valuestring, qq->id);
                }
                if (o < 0) {
                    ok = false;
                } else {
                    cond->options[i] = o;
                }
                pop(ld, o2);
            }
            cond->n_options = n;
            result = ok ? cond : NULL;
        }
    }
    pop(ld, old);
    return result;
}

static struct qdef_cond *load_cond(struct ld *ld, const cJSON *c, int depth,
                                   struct cond_ctx *ctx)
{
    if (!cJSON_IsObject(c)) {
        problem(ld, "wrong_type", "a condition must be an object");
        return NULL;
    }
    if (depth > MAX_COND_DEPTH) {
        problem(ld, "invalid_condition", "conditions nest at most %d deep", MAX_COND_DEPTH);
        return NULL;
    }
    const cJSON *all = member(c, "all"), *any = member(c, "any"), *not = member(c, "not");
    int combinators = (all != NULL) + (any != NULL) + (not != NULL);
    if (combinators == 0) {
        return load_leaf(ld, c, ctx);
    }
    if (combinators > 1 || array_size(c) != 1) {
        problem(ld, "invalid_condition",
                "\"all\", \"any\" and \"not\" each stand alone in their object");
        return NULL;
    }
    struct qdef_cond *cond = arena_alloc(ld->d, sizeof *cond);
    if (cond == NULL) {
        return NULL;
    }
    bool ok = true;
    if (not != NULL) {
        size_t old = push_key(ld, "not");
        cond->kind = QDEF_COND_NOT;
        cond->children = arena_alloc(ld->d, sizeof *cond->children);
        cond->n_children = 1;
        struct qdef_cond *child = load_cond(ld, not, depth + 1, ctx);
        ok = child != NULL && cond->children != NULL;
        if (ok) {
            cond->children[0] = child;
        }
        pop(ld, old);
        return ok ? cond : NULL;
    }
    const cJSON *list = all ? all : any;
    const char *key = all ? "all" : "any";
    size_t old = push_key(ld, key);
    size_t n = array_size(list);
    cond->kind = all ? QDEF_COND_ALL : QDEF_COND_ANY;
    if (!cJSON_IsArray(list) || n < 1 || n > MAX_COND_CHILDREN) {
        problem(ld, "wrong_type", "must be an array of 1 to %d conditions", MAX_COND_CHILDREN);
        pop(ld, old);
        return NULL;
    }
    cond->children = arena_alloc(ld->d, n * sizeof *cond->children);
    cond->n_children = n;
    ok = cond->children != NULL;
    size_t i = 0;
    for (const cJSON *e = list->child; e != NULL; e = e->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_cond *child = load_cond(ld, e, depth + 1, ctx);
        if (child == NULL) {
            ok = false;
        } else if (cond->children != NULL) {
            cond->children[i] = child;
        }
        pop(ld, o2);
    }
    pop(ld, old);
    return ok ? cond : NULL;
}

/* A condition member of obj; ctx->limit and limit_what set by the caller. */
static struct qdef_cond *get_cond(struct ld *ld, const cJSON *obj, const char *key, bool required,
                                  struct cond_ctx *ctx)
{
    const cJSON *c = member(obj, key);
    if (c == NULL) {
        if (required) {
            problem(ld, "missing_member", "missing required member \"%s\"", key);
        }
        return NULL;
    }
    size_t old = push_key(ld, key);
    struct qdef_cond *cond = load_cond(ld, c, 1, ctx);
    pop(ld, old);
    return cond;
}

static void load_show_ifs(struct ld *ld, const cJSON *root)
{
    const cJSON *qs = member(root, "questions");
    size_t old = push_key(ld, "questions");
    size_t i = 0;
    for (const cJSON *q = qs->child; q != NULL && i < ld->def->n_questions; q = q->next, i++) {
        if (!cJSON_IsObject(q)) {
            continue;
        }
        size_t o2 = push_index(ld, i);
        struct cond_ctx *ctx = calloc(1, sizeof *ctx);
        if (ctx == NULL) {
            ld->d->no_memory = 1;
        } else {
            ctx->limit = i;
            ctx->limit_what = "this question";
            ctx->max_ref = -1;
            ld->def->questions[i].show_if = get_cond(ld, q, "show_if", false, ctx);
            free(ctx);
        }
        pop(ld, o2);
    }
    pop(ld, old);
}

/* ---- eligibility, indicators, composite ------------------------------------------------- */

static bool id_taken(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] != NULL && strcmp(ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

static void load_rules(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *rules = get(ld, root, "eligibility", K_ARRAY, false);
    size_t n = array_size(rules);
    if (n == 0) {
        return;
    }
    def->rules = arena_alloc(ld->d, n * sizeof *def->rules);
    const char **ids = arena_alloc(ld->d, n * sizeof *ids);
    if (def->rules == NULL || ids == NULL) {
        return;
    }
    size_t old = push_key(ld, "eligibility");
    size_t i = 0;
    for (const cJSON *r = rules->child; r != NULL; r = r->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_rule *rule = &def->rules[i];
        rule->id = "";
        if (!cJSON_IsObject(r)) {
            problem(ld, "wrong_type", "must be an object");
            pop(ld, o2);
            continue;
        }
        static const char *const allowed[] = {"id", "screen_out_if", "message", NULL};
        check_members(ld, r, allowed);
        const char *id = get_identifier(ld, r, "id", false);
        if (id != NULL && id_taken(id, ids, i)) {
            size_t o3 = push_key(ld, "id");
            problem(ld, "duplicate_id", "rule \"%s\" is defined twice", id);
            pop(ld, o3);
        }
        ids[i] = id;
        rule->id = id ? id : "";
        get_text(ld, r, "message", true, &rule->message);
        struct cond_ctx *ctx = calloc(1, sizeof *ctx);
        if (ctx != NULL) {
            ctx->limit = def->n_questions;
            ctx->max_ref = -1;
            rule->screen_out_if = get_cond(ld, r, "screen_out_if", true, ctx);
            rule->stop_after = ctx->max_ref;
            free(ctx);
        } else {
            ld->d->no_memory = 1;
        }
        pop(ld, o2);
    }
    def->n_rules = n;
    pop(ld, old);
}

static void load_indicators(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *inds = get(ld, root, "indicators", K_ARRAY, false);
    size_t n = array_size(inds);
    if (n == 0) {
        return;
    }
    def->indicators = arena_alloc(ld->d, n * sizeof *def->indicators);
    const char **ids = arena_alloc(ld->d, n * sizeof *ids);
    if (def->indicators == NULL || ids == NULL) {
        return;
    }
    size_t old = push_key(ld, "indicators");
    size_t i = 0;
    for (const cJSON *r = inds->child; r != NULL; r = r->next, i++) {
        size_t o2 = push_index(ld, i);
        struct qdef_indicator *ind = &def->indicators[i];
        ind->id = "";
        if (!cJSON_IsObject(r)) {
            problem(ld, "wrong_type", "must be an object");
            pop(ld, o2);
            continue;
        }
        static const char *const allowed[] = {"id", "label", "when", NULL};
        check_members(ld, r, allowed);
        const char *id = get_identifier(ld, r, "id", false);
        if (id != NULL && id_taken(id, ids, i)) {
            size_t o3 = push_key(ld, "id");
            problem(ld, "duplicate_id", "indicator \"%s\" is defined twice", id);
            pop(ld, o3);
        }
        ids[i] = id;
        ind->id = id ? id : "";
        get_text(ld, r, "label", true, &ind->label);
        struct cond_ctx *ctx = calloc(1, sizeof *ctx);
        if (ctx == NULL) {
            ld->d->no_memory = 1;
            pop(ld, o2);
            continue;
        }
        ctx->limit = def->n_questions;
        ctx->max_ref = -1;
        ind->when = get_cond(ld, r, "when", true, ctx);
        size_t nq = 0;
        for (size_t q = 0; q < def->n_questions; q++) {
            nq += ctx->refs[q];
        }
        ind->questions = arena_alloc(ld->d, (nq ? nq : 1) * sizeof *ind->questions);
        if (ind->questions != NULL) {
            for (size_t q = 0; q < def->n_questions; q++) {
                if (ctx->refs[q]) {
                    ind->questions[ind->n_questions++] = (int)q;
                    ind->multi_select |= def->questions[q].type == QDEF_MULTIPLE;
                }
            }
        }
        free(ctx);
        pop(ld, o2);
    }
    def->n_indicators = n;
    pop(ld, old);
}

static void load_item(struct ld *ld, const cJSON *it, struct qdef_item *item)
{
    struct qdef *def = ld->def;
    item->question = -1;
    if (!cJSON_IsObject(it)) {
        problem(ld, "wrong_type", "must be an object");
        return;
    }
    static const char *const allowed[] = {"question", "scores", NULL};
    check_members(ld, it, allowed);
    const cJSON *qv = get(ld, it, "question", K_STRING, true);
    const cJSON *scores = get(ld, it, "scores", K_OBJECT, true);
    if (qv == NULL) {
        return;
    }
    int q = qdef_find_question(def, qv->valuestring);
    size_t old = push_key(ld, "question");
    if (q < 0) {
        problem(ld, "unknown_question", "question \"%s\" does not exist", qv->valuestring);
    } else if (def->questions[q].type != QDEF_SINGLE) {
        problem(ld, "invalid_value", "an item's question must be single; \"%s\" is %s",
                qv->valuestring, qdef_type_name(def->questions[q].type));
        q = -1;
    }
    pop(ld, old);
    if (q < 0 || scores == NULL) {
        return;
    }
    const struct qdef_question *qq = &def->questions[q];
    item->scores = arena_alloc(ld->d, (qq->n_options ? qq->n_options : 1) * sizeof(double));
    if (item->scores == NULL) {
        return;
    }
    old = push_key(ld, "scores");
    bool ok = true;
    for (size_t o = 0; o < qq->n_options; o++) {
        const cJSON *s = member(scores, qq->options[o].code);
        if (s == NULL) {
            problem(ld, "missing_score", "no score for option \"%s\"", qq->options[o].code);
            ok = false;
            continue;
        }
        size_t o2 = push_key(ld, qq->options[o].code);
        if (!cJSON_IsNumber(s)) {
            problem(ld, "wrong_type", "must be a number");
            ok = false;
        } else if (s->valuedouble < def->composite_min || s->valuedouble > def->composite_max) {
            problem(ld, "out_of_range", "must be within the composite's min and max (%g to %g)",
                    def->composite_min, def->composite_max);
            ok = false;
        } else {
            item->scores[o] = s->valuedouble;
        }
        pop(ld, o2);
    }
    for (const cJSON *m = scores->child; m != NULL; m = m->next) {
        if (qdef_find_option(def, q, m->string) < 0) {
            size_t o2 = push_key(ld, m->string);
            problem(ld, "unknown_option", "not an option of \"%s\"", qq->id);
            pop(ld, o2);
            ok = false;
        }
    }
    pop(ld, old);
    if (ok) {
        item->question = q;
    }
}

static void load_composite(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *c = get(ld, root, "composite", K_OBJECT, false);
    if (c == NULL) {
        return;
    }
    size_t old = push_key(ld, "composite");
    static const char *const allowed[] = {"id", "label", "min", "max", "pillars", NULL};
    check_members(ld, c, allowed);
    const char *id = get_identifier(ld, c, "id", false);
    def->composite_id = id ? id : "";
    get_text(ld, c, "label", true, &def->composite_label);
    const cJSON *mn = get(ld, c, "min", K_NUMBER, true);
    const cJSON *mx = get(ld, c, "max", K_NUMBER, true);
    def->composite_min = mn ? mn->valuedouble : 0;
    def->composite_max = mx ? mx->valuedouble : 100;
    if (mn && mx && !(def->composite_min < def->composite_max)) {
        size_t o2 = push_key(ld, "min");
        problem(ld, "invalid_value", "must be less than max");
        pop(ld, o2);
    }
    const cJSON *pillars = get(ld, c, "pillars", K_ARRAY, true);
    size_t n = array_size(pillars);
    if (pillars != NULL && n == 0) {
        size_t o2 = push_key(ld, "pillars");
        problem(ld, "invalid_value", "must list at least one pillar");
        pop(ld, o2);
    }
    if (n > 0) {
        def->pillars = arena_alloc(ld->d, n * sizeof *def->pillars);
        const char **ids = arena_alloc(ld->d, n * sizeof *ids);
        if (def->pillars == NULL || ids == NULL) {
            pop(ld, old);
            return;
        }
        size_t o2 = push_key(ld, "pillars");
        size_t i = 0;
        for (const cJSON *p = pillars->child; p != NULL; p = p->next, i++) {
            size_t o3 = push_index(ld, i);
            struct qdef_pillar *pl = &def->pillars[i];
            pl->id = "";
            if (!cJSON_IsObject(p)) {
                problem(ld, "wrong_type", "must be an object");
                pop(ld, o3);
                continue;
            }
            static const char *const pallowed[] = {"id", "label", "items", NULL};
            check_members(ld, p, pallowed);
            const char *pid = get_identifier(ld, p, "id", false);
            if (pid != NULL && id_taken(pid, ids, i)) {
                size_t o4 = push_key(ld, "id");
                problem(ld, "duplicate_id", "pillar \"%s\" is defined twice", pid);
                pop(ld, o4);
            }
            ids[i] = pid;
            pl->id = pid ? pid : "";
            get_text(ld, p, "label", true, &pl->label);
            const cJSON *items = get(ld, p, "items", K_ARRAY, true);
            size_t ni = array_size(items);
            if (items != NULL && ni == 0) {
                size_t o4 = push_key(ld, "items");
                problem(ld, "invalid_value", "must list at least one item");
                pop(ld, o4);
            }
            if (ni > 0) {
                pl->items = arena_alloc(ld->d, ni * sizeof *pl->items);
                size_t o4 = push_key(ld, "items");
                size_t k = 0;
                for (const cJSON *it = items->child; it != NULL && pl->items; it = it->next, k++) {
                    size_t o5 = push_index(ld, k);
                    load_item(ld, it, &pl->items[k]);
                    pop(ld, o5);
                }
                pl->n_items = ni;
                pop(ld, o4);
            }
            pop(ld, o3);
        }
        def->n_pillars = n;
        pop(ld, o2);
    }
    def->has_composite = true;
    pop(ld, old);
}

/* ---- entry points ----------------------------------------------------------------------- */

static void load_root(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    static const char *const allowed[] = {"format",     "id",          "version",   "default_language",
                                          "languages",  "title",       "description", "sections",
                                          "questions",  "eligibility", "indicators",  "composite",
                                          NULL};
    check_members(ld, root, allowed);
    const cJSON *format = get(ld, root, "format", K_NUMBER, true);
    if (format != NULL && format->valuedouble != 1) {
        size_t old = push_key(ld, "format");
        problem(ld, "invalid_value", "this loader reads format 1");
        pop(ld, old);
    }
    const char *id = get_identifier(ld, root, "id", true);
    def->id = id ? id : "";
    const cJSON *version = get(ld, root, "version", K_STRING, true);
    def->version = "";
    if (version != NULL) {
        const char *v = version->valuestring;
        bool ok = v[0] != '\0' && strlen(v) <= 32;
        for (const char *p = v; *p && ok; p++) {
            ok = *p > 0x20 && *p < 0x7f;
        }
        if (!ok) {
            size_t old = push_key(ld, "version");
            problem(ld, "invalid_value", "must be 1-32 printable characters without spaces");
            pop(ld, old);
        } else {
            def->version = v;
        }
    }
    load_languages(ld, root);
    if (def->n_languages == 0) {
        return; /* every text check would fail for the same reason */
    }
    get_text(ld, root, "title", true, &def->title);
    get_text(ld, root, "description", false, &def->description);
    load_sections(ld, root);
    if (def->sections == NULL) {
        return;
    }
    load_questions(ld, root);
    if (def->n_questions == 0) {
        return;
    }
    load_show_ifs(ld, root);
    load_rules(ld, root);
    load_indicators(ld, root);
    load_composite(ld, root);
}

struct qdef *qdef_load(const char *text, size_t len, struct qproblems *problems)
{
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err;
    size_t offset;
    cJSON *root = qjson_parse(text, len, &limits, &err, &offset);
    if (root == NULL) {
        if (err != QJSON_NO_MEMORY) {
            qproblems_add(problems, "/", "invalid_json", "not valid JSON: %s (at byte %zu)",
                          qjson_strerror(err), offset);
        }
        return NULL;
    }
    struct qdef_private *d = calloc(1, sizeof *d);
    if (d == NULL) {
        cJSON_Delete(root);
        return NULL;
    }
    d->def.root = root;
    struct ld ld = {.d = d, .def = &d->def, .pr = problems, .problems_before = problems->count};
    if (!cJSON_IsObject(root)) {
        problem(&ld, "wrong_type", "a definition must be a JSON object");
    } else {
        load_root(&ld, root);
    }
    bool failed = problems->count > ld.problems_before || problems->truncated ||
                  problems->no_memory || d->no_memory;
    if (failed) {
        if (d->no_memory && problems->count == ld.problems_before) {
            qproblems_add(problems, "/", "no_memory", "out of memory");
        }
        qdef_free(&d->def);
        return NULL;
    }
    return &d->def;
}

void qdef_free(struct qdef *def)
{
    if (def == NULL) {
        return;
    }
    /* def is the first member of its qdef_private. */
    struct qdef_private *d = (struct qdef_private *)def;
    struct arena_block *b = d->blocks;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    cJSON_Delete(def->root);
    free(d);
}

int qdef_find_question(const struct qdef *def, const char *id)
{
    size_t lo = 0, hi = def->n_questions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int q = def->by_id[mid];
        int c = strcmp(def->questions[q].id, id);
        if (c == 0) {
            /* Several with one id only in a definition being rejected; the sort is stable, so
             * the first of the run is the first asked. */
            while (mid > 0 && strcmp(def->questions[def->by_id[mid - 1]].id, id) == 0) {
                mid--;
            }
            return def->by_id[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

int qdef_find_option(const struct qdef *def, int q, const char *code)
{
    const struct qdef_question *qq = &def->questions[q];
    for (size_t i = 0; i < qq->n_options; i++) {
        if (strcmp(qq->options[i].code, code) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int qdef_find_language(const struct qdef *def, const char *lang)
{
    for (size_t i = 0; i < def->n_languages; i++) {
        if (strcmp(def->languages[i], lang) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *qdef_text_get(const struct qdef *def, const struct qdef_text *text, int lang)
{
    if (lang >= 0 && (size_t)lang < def->n_languages && text->by_lang[lang] != NULL) {
        return text->by_lang[lang];
    }
    return text->by_lang[def->default_language];
}
