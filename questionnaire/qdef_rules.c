/*
 * The loader's second pass: conditions (show_if, eligibility, indicators) and the composite's
 * items, which refer to questions and so are checked once every question is known.
 */
#include <stdlib.h>
#include <string.h>

#include "qload.h"

/* ---- conditions ------------------------------------------------------------------------- */

struct cond_ctx {
    size_t limit;           /* questions with index < limit may be referenced */
    const char *limit_what; /* for the forward-reference message, or NULL when all are allowed */
    int max_ref;            /* highest question index referenced */
    bool refs[QDEF_MAX_QUESTIONS];
};

static struct qdef_cond *load_cond(struct ld *ld, const cJSON *c, int depth, struct cond_ctx *ctx);

static const char *const leaf_ops[] = {"equals", "in", "includes", "gte", "lte", "answered"};

static struct qdef_cond *load_leaf(struct ld *ld, const cJSON *c, struct cond_ctx *ctx)
{
    const struct qdef *def = ld->def;
    const cJSON *qv = ld_get(ld, c, "question", K_STRING, true);
    const char *op = NULL;
    const cJSON *arg = NULL;
    for (const cJSON *m = c->child; m != NULL; m = m->next) {
        for (size_t i = 0; i < sizeof leaf_ops / sizeof leaf_ops[0]; i++) {
            if (strcmp(m->string, leaf_ops[i]) == 0) {
                if (op != NULL) {
                    ld_problem(ld, "invalid_condition", "must have exactly one comparison");
                    return NULL;
                }
                op = leaf_ops[i];
                arg = m;
            }
        }
    }
    static const char *const allowed[] = {"question", "equals", "in",       "includes",
                                          "gte",      "lte",    "answered", NULL};
    ld_check_members(ld, c, allowed);
    if (op == NULL) {
        ld_problem(ld, "invalid_condition",
                   "must have one of \"equals\", \"in\", \"includes\", \"gte\", \"lte\", "
                   "\"answered\"");
        return NULL;
    }
    if (qv == NULL) {
        return NULL;
    }
    int q = qdef_find_question(def, qv->valuestring);
    size_t old = ld_push_key(ld, "question");
    if (q < 0) {
        ld_problem(ld, "unknown_question", "question \"%s\" does not exist", qv->valuestring);
        ld_pop(ld, old);
        return NULL;
    }
    if ((size_t)q >= ctx->limit) {
        ld_problem(ld, "forward_reference",
                   "refers to question \"%s\", which is not asked before %s", qv->valuestring,
                   ctx->limit_what ? ctx->limit_what : "it");
        ld_pop(ld, old);
        return NULL;
    }
    ld_pop(ld, old);
    ctx->refs[q] = true;
    if (q > ctx->max_ref) {
        ctx->max_ref = q;
    }

    const struct qdef_question *qq = &def->questions[q];
    struct qdef_cond *cond = ld_arena_alloc(ld->d, sizeof *cond);
    if (cond == NULL) {
        return NULL;
    }
    cond->question = q;
    old = ld_push_key(ld, op);
    struct qdef_cond *result = NULL;
    if (strcmp(op, "answered") == 0) {
        if (!cJSON_IsBool(arg)) {
            ld_problem(ld, "wrong_type", "must be true or false");
        } else {
            cond->kind = QDEF_COND_ANSWERED;
            cond->flag = cJSON_IsTrue(arg);
            result = cond;
        }
    } else if (strcmp(op, "gte") == 0 || strcmp(op, "lte") == 0 ||
               (strcmp(op, "equals") == 0 && qq->type == QDEF_NUMBER)) {
        if (qq->type != QDEF_NUMBER) {
            ld_problem(ld, "invalid_condition", "\"%s\" applies to number questions; \"%s\" is %s",
                       op, qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsNumber(arg)) {
            ld_problem(ld, "wrong_type", "must be a number");
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
            ld_problem(ld, "invalid_condition", "\"%s\" applies to %s questions; \"%s\" is %s", op,
                       qdef_type_name(want), qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsString(arg)) {
            ld_problem(ld, "wrong_type", "must be an option code");
        } else {
            int o = qdef_find_option(def, q, arg->valuestring);
            if (o < 0) {
                ld_problem(ld, "unknown_option", "\"%s\" is not an option of \"%s\"",
                           arg->valuestring, qq->id);
            } else {
                cond->kind = includes ? QDEF_COND_INCLUDES : QDEF_COND_EQUALS_CODE;
                cond->option = o;
                result = cond;
            }
        }
    } else { /* in */
        size_t n = ld_array_size(arg);
        if (qq->type != QDEF_SINGLE) {
            ld_problem(ld, "invalid_condition", "\"in\" applies to single questions; \"%s\" is %s",
                       qq->id, qdef_type_name(qq->type));
        } else if (!cJSON_IsArray(arg) || n < 1 || n > QDEF_MAX_OPTIONS) {
            ld_problem(ld, "wrong_type", "must be an array of 1 to %d option codes",
                       QDEF_MAX_OPTIONS);
        } else {
            cond->kind = QDEF_COND_IN;
            cond->options = ld_arena_alloc(ld->d, n * sizeof *cond->options);
            bool ok = cond->options != NULL;
            size_t i = 0;
            for (const cJSON *e = arg->child; e != NULL && ok; e = e->next, i++) {
                size_t o2 = ld_push_index(ld, i);
                int o = cJSON_IsString(e) ? qdef_find_option(def, q, e->valuestring) : -1;
                if (!cJSON_IsString(e)) {
                    ld_problem(ld, "wrong_type", "must be an option code");
                } else if (o < 0) {
                    ld_problem(ld, "unknown_option", "\"%s\" is not an option of \"%s\"",
                               e->valuestring, qq->id);
                }
                if (o < 0) {
                    ok = false;
                } else {
                    cond->options[i] = o;
                }
                ld_pop(ld, o2);
            }
            cond->n_options = n;
            result = ok ? cond : NULL;
        }
    }
    ld_pop(ld, old);
    return result;
}

static struct qdef_cond *load_cond(struct ld *ld, const cJSON *c, int depth, struct cond_ctx *ctx)
{
    if (!cJSON_IsObject(c)) {
        ld_problem(ld, "wrong_type", "a condition must be an object");
        return NULL;
    }
    if (depth > MAX_COND_DEPTH) {
        ld_problem(ld, "invalid_condition", "conditions nest at most %d deep", MAX_COND_DEPTH);
        return NULL;
    }
    const cJSON *all = ld_member(c, "all"), *any = ld_member(c, "any"), *not = ld_member(c, "not");
    int combinators = (all != NULL) + (any != NULL) + (not != NULL);
    if (combinators == 0) {
        return load_leaf(ld, c, ctx);
    }
    if (combinators > 1 || ld_array_size(c) != 1) {
        ld_problem(ld, "invalid_condition",
                   "\"all\", \"any\" and \"not\" each stand alone in their object");
        return NULL;
    }
    struct qdef_cond *cond = ld_arena_alloc(ld->d, sizeof *cond);
    if (cond == NULL) {
        return NULL;
    }
    bool ok = true;
    if (not != NULL) {
        size_t old = ld_push_key(ld, "not");
        cond->kind = QDEF_COND_NOT;
        cond->children = ld_arena_alloc(ld->d, sizeof *cond->children);
        cond->n_children = 1;
        struct qdef_cond *child = load_cond(ld, not, depth + 1, ctx);
        ok = child != NULL && cond->children != NULL;
        if (ok) {
            cond->children[0] = child;
        }
        ld_pop(ld, old);
        return ok ? cond : NULL;
    }
    const cJSON *list = all ? all : any;
    const char *key = all ? "all" : "any";
    size_t old = ld_push_key(ld, key);
    size_t n = ld_array_size(list);
    cond->kind = all ? QDEF_COND_ALL : QDEF_COND_ANY;
    if (!cJSON_IsArray(list) || n < 1 || n > MAX_COND_CHILDREN) {
        ld_problem(ld, "wrong_type", "must be an array of 1 to %d conditions", MAX_COND_CHILDREN);
        ld_pop(ld, old);
        return NULL;
    }
    cond->children = ld_arena_alloc(ld->d, n * sizeof *cond->children);
    cond->n_children = n;
    ok = cond->children != NULL;
    size_t i = 0;
    for (const cJSON *e = list->child; e != NULL; e = e->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_cond *child = load_cond(ld, e, depth + 1, ctx);
        if (child == NULL) {
            ok = false;
        } else if (cond->children != NULL) {
            cond->children[i] = child;
        }
        ld_pop(ld, o2);
    }
    ld_pop(ld, old);
    return ok ? cond : NULL;
}

/* A condition member of obj; ctx->limit and limit_what set by the caller. */
static struct qdef_cond *get_cond(struct ld *ld, const cJSON *obj, const char *key, bool required,
                                  struct cond_ctx *ctx)
{
    const cJSON *c = ld_member(obj, key);
    if (c == NULL) {
        if (required) {
            ld_problem(ld, "missing_member", "missing required member \"%s\"", key);
        }
        return NULL;
    }
    size_t old = ld_push_key(ld, key);
    struct qdef_cond *cond = load_cond(ld, c, 1, ctx);
    ld_pop(ld, old);
    return cond;
}

void qdef_load_show_ifs(struct ld *ld, const cJSON *root)
{
    const cJSON *qs = ld_member(root, "questions");
    size_t old = ld_push_key(ld, "questions");
    size_t i = 0;
    for (const cJSON *q = qs->child; q != NULL && i < ld->def->n_questions; q = q->next, i++) {
        if (!cJSON_IsObject(q)) {
            continue;
        }
        size_t o2 = ld_push_index(ld, i);
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
        ld_pop(ld, o2);
    }
    ld_pop(ld, old);
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

void qdef_load_rules(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *rules = ld_get(ld, root, "eligibility", K_ARRAY, false);
    size_t n = ld_array_size(rules);
    if (n == 0) {
        return;
    }
    def->rules = ld_arena_alloc(ld->d, n * sizeof *def->rules);
    const char **ids = ld_arena_alloc(ld->d, n * sizeof *ids);
    if (def->rules == NULL || ids == NULL) {
        return;
    }
    size_t old = ld_push_key(ld, "eligibility");
    size_t i = 0;
    for (const cJSON *r = rules->child; r != NULL; r = r->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_rule *rule = &def->rules[i];
        rule->id = "";
        if (!cJSON_IsObject(r)) {
            ld_problem(ld, "wrong_type", "must be an object");
            ld_pop(ld, o2);
            continue;
        }
        static const char *const allowed[] = {"id", "screen_out_if", "message", NULL};
        ld_check_members(ld, r, allowed);
        const char *id = ld_get_identifier(ld, r, "id", false);
        if (id != NULL && id_taken(id, ids, i)) {
            size_t o3 = ld_push_key(ld, "id");
            ld_problem(ld, "duplicate_id", "rule \"%s\" is defined twice", id);
            ld_pop(ld, o3);
        }
        ids[i] = id;
        rule->id = id ? id : "";
        ld_get_text(ld, r, "message", true, &rule->message);
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
        ld_pop(ld, o2);
    }
    def->n_rules = n;
    ld_pop(ld, old);
}

void qdef_load_indicators(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *inds = ld_get(ld, root, "indicators", K_ARRAY, false);
    size_t n = ld_array_size(inds);
    if (n == 0) {
        return;
    }
    def->indicators = ld_arena_alloc(ld->d, n * sizeof *def->indicators);
    const char **ids = ld_arena_alloc(ld->d, n * sizeof *ids);
    if (def->indicators == NULL || ids == NULL) {
        return;
    }
    size_t old = ld_push_key(ld, "indicators");
    size_t i = 0;
    for (const cJSON *r = inds->child; r != NULL; r = r->next, i++) {
        size_t o2 = ld_push_index(ld, i);
        struct qdef_indicator *ind = &def->indicators[i];
        ind->id = "";
        if (!cJSON_IsObject(r)) {
            ld_problem(ld, "wrong_type", "must be an object");
            ld_pop(ld, o2);
            continue;
        }
        static const char *const allowed[] = {"id", "label", "when", NULL};
        ld_check_members(ld, r, allowed);
        const char *id = ld_get_identifier(ld, r, "id", false);
        if (id != NULL && id_taken(id, ids, i)) {
            size_t o3 = ld_push_key(ld, "id");
            ld_problem(ld, "duplicate_id", "indicator \"%s\" is defined twice", id);
            ld_pop(ld, o3);
        }
        ids[i] = id;
        ind->id = id ? id : "";
        ld_get_text(ld, r, "label", true, &ind->label);
        struct cond_ctx *ctx = calloc(1, sizeof *ctx);
        if (ctx == NULL) {
            ld->d->no_memory = 1;
            ld_pop(ld, o2);
            continue;
        }
        ctx->limit = def->n_questions;
        ctx->max_ref = -1;
        ind->when = get_cond(ld, r, "when", true, ctx);
        size_t nq = 0;
        for (size_t q = 0; q < def->n_questions; q++) {
            nq += ctx->refs[q];
        }
        ind->questions = ld_arena_alloc(ld->d, (nq ? nq : 1) * sizeof *ind->questions);
        if (ind->questions != NULL) {
            for (size_t q = 0; q < def->n_questions; q++) {
                if (ctx->refs[q]) {
                    ind->questions[ind->n_questions++] = (int)q;
                    ind->multi_select |= def->questions[q].type == QDEF_MULTIPLE;
                }
            }
        }
        free(ctx);
        ld_pop(ld, o2);
    }
    def->n_indicators = n;
    ld_pop(ld, old);
}

static void load_item(struct ld *ld, const cJSON *it, struct qdef_item *item)
{
    struct qdef *def = ld->def;
    item->question = -1;
    if (!cJSON_IsObject(it)) {
        ld_problem(ld, "wrong_type", "must be an object");
        return;
    }
    static const char *const allowed[] = {"question", "scores", NULL};
    ld_check_members(ld, it, allowed);
    const cJSON *qv = ld_get(ld, it, "question", K_STRING, true);
    const cJSON *scores = ld_get(ld, it, "scores", K_OBJECT, true);
    if (qv == NULL) {
        return;
    }
    int q = qdef_find_question(def, qv->valuestring);
    size_t old = ld_push_key(ld, "question");
    if (q < 0) {
        ld_problem(ld, "unknown_question", "question \"%s\" does not exist", qv->valuestring);
    } else if (def->questions[q].type != QDEF_SINGLE) {
        ld_problem(ld, "invalid_value", "an item's question must be single; \"%s\" is %s",
                   qv->valuestring, qdef_type_name(def->questions[q].type));
        q = -1;
    }
    ld_pop(ld, old);
    if (q < 0 || scores == NULL) {
        return;
    }
    const struct qdef_question *qq = &def->questions[q];
    item->scores = ld_arena_alloc(ld->d, (qq->n_options ? qq->n_options : 1) * sizeof(double));
    if (item->scores == NULL) {
        return;
    }
    old = ld_push_key(ld, "scores");
    bool ok = true;
    for (size_t o = 0; o < qq->n_options; o++) {
        const cJSON *s = ld_member(scores, qq->options[o].code);
        if (s == NULL) {
            ld_problem(ld, "missing_score", "no score for option \"%s\"", qq->options[o].code);
            ok = false;
            continue;
        }
        size_t o2 = ld_push_key(ld, qq->options[o].code);
        if (!cJSON_IsNumber(s)) {
            ld_problem(ld, "wrong_type", "must be a number");
            ok = false;
        } else if (s->valuedouble < def->composite_min || s->valuedouble > def->composite_max) {
            ld_problem(ld, "out_of_range", "must be within the composite's min and max (%g to %g)",
                       def->composite_min, def->composite_max);
            ok = false;
        } else {
            item->scores[o] = s->valuedouble;
        }
        ld_pop(ld, o2);
    }
    for (const cJSON *m = scores->child; m != NULL; m = m->next) {
        if (qdef_find_option(def, q, m->string) < 0) {
            size_t o2 = ld_push_key(ld, m->string);
            ld_problem(ld, "unknown_option", "not an option of \"%s\"", qq->id);
            ld_pop(ld, o2);
            ok = false;
        }
    }
    ld_pop(ld, old);
    if (ok) {
        item->question = q;
    }
}

void qdef_load_composite(struct ld *ld, const cJSON *root)
{
    struct qdef *def = ld->def;
    const cJSON *c = ld_get(ld, root, "composite", K_OBJECT, false);
    if (c == NULL) {
        return;
    }
    size_t old = ld_push_key(ld, "composite");
    static const char *const allowed[] = {"id", "label", "min", "max", "pillars", NULL};
    ld_check_members(ld, c, allowed);
    const char *id = ld_get_identifier(ld, c, "id", false);
    def->composite_id = id ? id : "";
    ld_get_text(ld, c, "label", true, &def->composite_label);
    const cJSON *mn = ld_get(ld, c, "min", K_NUMBER, true);
    const cJSON *mx = ld_get(ld, c, "max", K_NUMBER, true);
    def->composite_min = mn ? mn->valuedouble : 0;
    def->composite_max = mx ? mx->valuedouble : 100;
    if (mn && mx && !(def->composite_min < def->composite_max)) {
        size_t o2 = ld_push_key(ld, "min");
        ld_problem(ld, "invalid_value", "must be less than max");
        ld_pop(ld, o2);
    }
    const cJSON *pillars = ld_get(ld, c, "pillars", K_ARRAY, true);
    size_t n = ld_array_size(pillars);
    if (pillars != NULL && n == 0) {
        size_t o2 = ld_push_key(ld, "pillars");
        ld_problem(ld, "invalid_value", "must list at least one pillar");
        ld_pop(ld, o2);
    }
    if (n > 0) {
        def->pillars = ld_arena_alloc(ld->d, n * sizeof *def->pillars);
        const char **ids = ld_arena_alloc(ld->d, n * sizeof *ids);
        if (def->pillars == NULL || ids == NULL) {
            ld_pop(ld, old);
            return;
        }
        size_t o2 = ld_push_key(ld, "pillars");
        size_t i = 0;
        for (const cJSON *p = pillars->child; p != NULL; p = p->next, i++) {
            size_t o3 = ld_push_index(ld, i);
            struct qdef_pillar *pl = &def->pillars[i];
            pl->id = "";
            if (!cJSON_IsObject(p)) {
                ld_problem(ld, "wrong_type", "must be an object");
                ld_pop(ld, o3);
                continue;
            }
            static const char *const pallowed[] = {"id", "label", "items", NULL};
            ld_check_members(ld, p, pallowed);
            const char *pid = ld_get_identifier(ld, p, "id", false);
            if (pid != NULL && id_taken(pid, ids, i)) {
                size_t o4 = ld_push_key(ld, "id");
                ld_problem(ld, "duplicate_id", "pillar \"%s\" is defined twice", pid);
                ld_pop(ld, o4);
            }
            ids[i] = pid;
            pl->id = pid ? pid : "";
            ld_get_text(ld, p, "label", true, &pl->label);
            const cJSON *items = ld_get(ld, p, "items", K_ARRAY, true);
            size_t ni = ld_array_size(items);
            if (items != NULL && ni == 0) {
                size_t o4 = ld_push_key(ld, "items");
                ld_problem(ld, "invalid_value", "must list at least one item");
                ld_pop(ld, o4);
            }
            if (ni > 0) {
                pl->items = ld_arena_alloc(ld->d, ni * sizeof *pl->items);
                size_t o4 = ld_push_key(ld, "items");
                size_t k = 0;
                for (const cJSON *it = items->child; it != NULL && pl->items; it = it->next, k++) {
                    size_t o5 = ld_push_index(ld, k);
                    load_item(ld, it, &pl->items[k]);
                    ld_pop(ld, o5);
                }
                pl->n_items = ni;
                ld_pop(ld, o4);
            }
            ld_pop(ld, o3);
        }
        def->n_pillars = n;
        ld_pop(ld, o2);
    }
    def->has_composite = true;
    ld_pop(ld, old);
}
