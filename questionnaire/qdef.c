/*
 * The definition loader: checks a parsed definition member by member, keeps going after a
 * problem so that every problem is listed, and builds the compiled struct qdef. This file holds
 * the metadata, sections and questions and the entry points; qdef_rules.c the conditions,
 * eligibility, indicators and composite; qload.c the shared toolkit.
 */
#include "qdef.h"

#include <stdlib.h>
#include <string.h>

#include "qjson.h"
#include "qload.h"

/* ---- metadata and sections -------------------------------------------------------------- */

static void load_languages(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *langs = ld_get(ld, root, "languages", K_ARRAY, true);
    size_t n = ld_array_size(langs);
    size_t old = ld_push_key(ld, "languages");
    if (langs != NULL && (n < 1 || n > QDEF_MAX_LANGUAGES)) {
        ld_problem(ld, "invalid_value", "must list 1 to %d languages", QDEF_MAX_LANGUAGES);
    }
    size_t i = 0;
    for (const cJSON *l = langs ? langs->child : NULL; l != NULL; l = l->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        if (!cJSON_IsString(l) || !ld_is_language_tag(l->valuestring)) {
            ld_problem(ld, "invalid_value", "must be a language tag such as \"ko\" or \"en\"");
        } else if (qdef_find_language(def, l->valuestring) >= 0) {
            ld_problem(ld, "duplicate_id", "language \"%s\" is listed twice", l->valuestring);
        } else if (def->n_languages < QDEF_MAX_LANGUAGES) {
            def->languages[def->n_languages++] = l->valuestring;
        }
        ld_pop(ld, o2);
    }
    ld_pop(ld, old);

    const cJSON *dl = ld_get(ld, root, "default_language", K_STRING, true);
    def->default_language = 0;
    if (dl != NULL) {
        int idx = qdef_find_language(def, dl->valuestring);
        if (idx < 0) {
            old = ld_push_key(ld, "default_language");
            ld_problem(ld, "invalid_value", "must be one of \"languages\"");
            ld_pop(ld, old);
        } else {
            def->default_language = idx;
        }
    }
}

static void load_sections(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *secs = ld_get(ld, root, "sections", K_ARRAY, false);
    size_t n = ld_array_size(secs);
    if (secs == NULL || n == 0) {
        if (secs != NULL) {
            size_t old = ld_push_key(ld, "sections");
            ld_problem(ld, "invalid_value", "must list at least one section, or be left out");
            ld_pop(ld, old);
        }
        def->sections = ld_arena_alloc(ld->d, sizeof *def->sections);
        if (def->sections != NULL) {
            def->sections[0].id = "";
            def->n_sections = 1;
        }
        return;
    }
    def->sections = ld_arena_alloc(ld->d, n * sizeof *def->sections);
    if (def->sections == NULL) {
        return;
    }
    size_t old = ld_push_key(ld, "sections");
    size_t i = 0;
    for (const cJSON *s = secs->child; s != NULL; s = s->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_section *sec = &def->sections[i];
        sec->id = "";
        if (!cJSON_IsObject(s)) {
            ld_problem(ld, "wrong_type", "must be an object");
        } else {
            static const char *const allowed[] = {"id", "title", NULL};
            ld_check_members(ld, s, allowed);
            const char *id = ld_get_identifier(ld, s, "id", false);
            if (id != NULL) {
                for (size_t j = 0; j < i; j++) {
                    if (strcmp(def->sections[j].id, id) == 0) {
                        size_t o3 = ld_push_key(ld, "id");
                        ld_problem(ld, "duplicate_id", "section \"%s\" is defined twice", id);
                        ld_pop(ld, o3);
                    }
                }
                sec->id = id;
            }
            ld_get_text(ld, s, "title", true, &sec->title);
        }
        ld_pop(ld, o2);
    }
    def->n_sections = n;
    ld_pop(ld, old);
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
static const char *const common_members[] = {"id",      "type",     "label",   "help",
                                             "section", "required", "show_if", "identifying"};
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
            size_t old = ld_push_key(ld, m->string);
            ld_problem(ld, "unknown_member", "unknown member for a \"%s\" question",
                       qdef_type_name(t));
            ld_pop(ld, old);
        }
    }
}

static void load_options(struct ld *ld, const cJSON *q, struct qdef_question *qq)
{
    const cJSON *opts = ld_get(ld, q, "options", K_ARRAY, true);
    if (opts == NULL) {
        return;
    }
    size_t n = ld_array_size(opts);
    size_t old = ld_push_key(ld, "options");
    if (n < 1 || n > QDEF_MAX_OPTIONS) {
        ld_problem(ld, "invalid_value", "must list 1 to %d options", QDEF_MAX_OPTIONS);
    }
    if (n == 0 || n > QDEF_MAX_OPTIONS) {
        ld_pop(ld, old);
        return;
    }
    qq->options = ld_arena_alloc(ld->d, n * sizeof *qq->options);
    if (qq->options == NULL) {
        ld_pop(ld, old);
        return;
    }
    size_t i = 0;
    for (const cJSON *o = opts->child; o != NULL; o = o->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_option *opt = &qq->options[i];
        opt->code = "";
        if (!cJSON_IsObject(o)) {
            ld_problem(ld, "wrong_type", "must be an object");
            ld_pop(ld, o2);
            continue;
        }
        static const char *const allowed_single[] = {"code", "label", NULL};
        static const char *const allowed_multiple[] = {"code", "label", "exclusive", NULL};
        ld_check_members(ld, o, qq->type == QDEF_MULTIPLE ? allowed_multiple : allowed_single);
        const char *code = ld_get_identifier(ld, o, "code", false);
        if (code != NULL) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(qq->options[j].code, code) == 0) {
                    size_t o3 = ld_push_key(ld, "code");
                    ld_problem(ld, "duplicate_id", "option \"%s\" is defined twice", code);
                    ld_pop(ld, o3);
                }
            }
            opt->code = code;
        }
        ld_get_text(ld, o, "label", true, &opt->label);
        opt->exclusive = qq->type == QDEF_MULTIPLE && ld_get_bool(ld, o, "exclusive");
        ld_pop(ld, o2);
    }
    qq->n_options = n;
    ld_pop(ld, old);
}

static void load_question(struct ld *ld, const cJSON *q, struct qdef_question *qq,
                          bool has_sections)
{
    qq->id = "";
    qq->section = 0;
    if (!cJSON_IsObject(q)) {
        ld_problem(ld, "wrong_type", "must be an object");
        return;
    }
    const char *id = ld_get_identifier(ld, q, "id", false);
    if (id != NULL) {
        qq->id = id;
    }
    const cJSON *type = ld_get(ld, q, "type", K_STRING, true);
    bool type_ok = false;
    if (type != NULL) {
        for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
            if (strcmp(type_names[i].name, type->valuestring) == 0) {
                qq->type = type_names[i].type;
                type_ok = true;
            }
        }
        if (!type_ok) {
            size_t old = ld_push_key(ld, "type");
            ld_problem(ld, "invalid_value",
                       "must be one of \"single\", \"multiple\", \"number\", \"text\", \"email\"");
            ld_pop(ld, old);
        }
    }
    ld_get_text(ld, q, "label", true, &qq->label);
    ld_get_text(ld, q, "help", false, &qq->help);
    qq->required = ld_get_bool(ld, q, "required");
    qq->identifying = ld_get_bool(ld, q, "identifying");
    if (!type_ok) {
        return;
    }
    check_question_members(ld, q, qq->type);

    const cJSON *sec = ld_get(ld, q, "section", K_STRING, has_sections);
    if (sec != NULL) {
        size_t old = ld_push_key(ld, "section");
        int found = -1;
        for (size_t i = 0; i < ld->def->n_sections && has_sections; i++) {
            if (strcmp(ld->def->sections[i].id, sec->valuestring) == 0) {
                found = (int)i;
            }
        }
        if (!has_sections) {
            ld_problem(ld, "unknown_member", "the questionnaire has no \"sections\"");
        } else if (found < 0) {
            ld_problem(ld, "unknown_section", "section \"%s\" does not exist", sec->valuestring);
        } else {
            qq->section = found;
        }
        ld_pop(ld, old);
    }

    switch (qq->type) {
    case QDEF_SINGLE:
        load_options(ld, q, qq);
        qq->quasi_identifier = ld_get_bool(ld, q, "quasi_identifier");
        break;
    case QDEF_MULTIPLE: {
        load_options(ld, q, qq);
        int n = (int)qq->n_options;
        bool has_min, has_max;
        qq->min_choices = ld_get_int(ld, q, "min_choices", 1, QDEF_MAX_OPTIONS, 1, &has_min);
        qq->max_choices = ld_get_int(ld, q, "max_choices", 1, QDEF_MAX_OPTIONS, n, &has_max);
        if (n > 0 && qq->max_choices > n) {
            size_t old = ld_push_key(ld, "max_choices");
            ld_problem(ld, "invalid_value", "must not exceed the number of options (%d)", n);
            ld_pop(ld, old);
            qq->max_choices = n;
        }
        if (qq->min_choices > qq->max_choices) {
            size_t old = ld_push_key(ld, "min_choices");
            ld_problem(ld, "invalid_value", "must not exceed max_choices (%d)", qq->max_choices);
            ld_pop(ld, old);
        }
        break;
    }
    case QDEF_NUMBER: {
        const cJSON *mn = ld_get(ld, q, "min", K_NUMBER, false);
        const cJSON *mx = ld_get(ld, q, "max", K_NUMBER, false);
        qq->has_min = mn != NULL;
        qq->has_max = mx != NULL;
        qq->min = mn ? mn->valuedouble : 0;
        qq->max = mx ? mx->valuedouble : 0;
        if (mn && mx && qq->min > qq->max) {
            size_t old = ld_push_key(ld, "min");
            ld_problem(ld, "invalid_value", "must not exceed max");
            ld_pop(ld, old);
        }
        qq->decimals = ld_get_int(ld, q, "decimals", 0, 6, 0, NULL);
        break;
    }
    case QDEF_TEXT:
    case QDEF_EMAIL:
        qq->max_length =
            ld_get_int(ld, q, "max_length", 1, 100000, qq->type == QDEF_TEXT ? 2000 : 254, NULL);
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
    const cJSON *qs = ld_get(ld, root, "questions", K_ARRAY, true);
    if (qs == NULL) {
        return;
    }
    size_t n = ld_array_size(qs);
    size_t old = ld_push_key(ld, "questions");
    if (n < 1 || n > QDEF_MAX_QUESTIONS) {
        ld_problem(ld, "invalid_value", "must list 1 to %d questions", QDEF_MAX_QUESTIONS);
        ld_pop(ld, old);
        return;
    }
    def->questions = ld_arena_alloc(ld->d, n * sizeof *def->questions);
    def->by_id = ld_arena_alloc(ld->d, n * sizeof *def->by_id);
    if (def->questions == NULL || def->by_id == NULL) {
        ld_pop(ld, old);
        return;
    }
    bool has_sections = ld_member(root, "sections") != NULL && def->sections[0].id[0] != '\0';
    size_t i = 0;
    int last_section = 0;
    for (const cJSON *q = qs->child; q != NULL; q = q->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_question *qq = &def->questions[i];
        load_question(ld, q, qq, has_sections);
        for (size_t j = 0; j < i && qq->id[0]; j++) {
            if (strcmp(def->questions[j].id, qq->id) == 0) {
                size_t o3 = ld_push_key(ld, "id");
                ld_problem(ld, "duplicate_id", "question \"%s\" is defined twice", qq->id);
                ld_pop(ld, o3);
            }
        }
        if (qq->section < last_section) {
            size_t o3 = ld_push_key(ld, "section");
            ld_problem(
                ld, "section_order",
                "questions of a section must be contiguous and in the order of \"sections\"");
            ld_pop(ld, o3);
        } else {
            last_section = qq->section;
        }
        def->by_id[i] = (int)i;
        ld_pop(ld, o2);
    }
    def->n_questions = n;
    sort_by_id(def);
    ld_pop(ld, old);
}

/* ---- entry points ----------------------------------------------------------------------- */

static void load_root(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    static const char *const allowed[] = {
        "format",     "id",          "version",  "default_language", "languages",
        "title",      "description", "sections", "questions",        "eligibility",
        "indicators", "composite",   NULL};
    ld_check_members(ld, root, allowed);
    const cJSON *format = ld_get(ld, root, "format", K_NUMBER, true);
    if (format != NULL && format->valuedouble != 1) {
        size_t old = ld_push_key(ld, "format");
        ld_problem(ld, "invalid_value", "this loader reads format 1");
        ld_pop(ld, old);
    }
    const char *id = ld_get_identifier(ld, root, "id", true);
    def->id = id ? id : "";
    const cJSON *version = ld_get(ld, root, "version", K_STRING, true);
    def->version = "";
    if (version != NULL) {
        const char *v = version->valuestring;
        bool ok = v[0] != '\0' && strlen(v) <= 32;
        for (const char *p = v; *p && ok; p++) {
            ok = *p > 0x20 && *p < 0x7f;
        }
        if (!ok) {
            size_t old = ld_push_key(ld, "version");
            ld_problem(ld, "invalid_value", "must be 1-32 printable characters without spaces");
            ld_pop(ld, old);
        } else {
            def->version = v;
        }
    }
    load_languages(ld, root);
    if (def->n_languages == 0) {
        return; /* every text check would fail for the same reason */
    }
    ld_get_text(ld, root, "title", true, &def->title);
    ld_get_text(ld, root, "description", false, &def->description);
    load_sections(ld, root);
    if (def->sections == NULL) {
        return;
    }
    load_questions(ld, root);
    if (def->n_questions == 0) {
        return;
    }
    qdef_load_show_ifs(ld, root);
    qdef_load_rules(ld, root);
    qdef_load_indicators(ld, root);
    qdef_load_composite(ld, root);
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
        ld_problem(&ld, "wrong_type", "a definition must be a JSON object");
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
