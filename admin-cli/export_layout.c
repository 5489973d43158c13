/*
 * Columns and cells of the export. The rules for what may leave are here, in one place:
 * identifying questions, free text and e-mail addresses get no column at all, so no later
 * step can write them by mistake.
 */
#include "export_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *export_missing_text(enum export_missing m)
{
    switch (m) {
    case EXPORT_NOT_ASKED:
        return "-1";
    case EXPORT_NO_ANSWER:
        return "-2";
    case EXPORT_SUPPRESSED:
        return "-3";
    case EXPORT_ANSWER:
        break;
    }
    return "";
}

static const char *excluded_reason(const struct qdef_question *q)
{
    if (q->identifying) {
        return "identifying";
    }
    if (q->type == QDEF_TEXT) {
        return "free text";
    }
    if (q->type == QDEF_EMAIL) {
        return "e-mail address";
    }
    return NULL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct export_column *add_column(struct export_layout *l, enum export_col_kind kind,
                                        int question, int option)
{
    struct export_column *c = &l->cols[l->n_cols++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->question = question;
    c->option = option;
    c->qi = -1;
    return c;
}

/* The quasi-identifiers (bits) that a condition's truth depends on: those it refers to, and
 * those that the questions it refers to are shown through (shown_through, by question). */
static uint8_t cond_depends(const struct qdef_cond *c, const uint8_t *qi_bit,
                            const uint8_t *shown_through)
{
    uint8_t mask = 0;
    if (c == NULL) {
        return 0;
    }
    switch (c->kind) {
    case QDEF_COND_ALL:
    case QDEF_COND_ANY:
    case QDEF_COND_NOT:
        for (size_t i = 0; i < c->n_children; i++) {
            mask |= cond_depends(c->children[i], qi_bit, shown_through);
        }
        break;
    default:
        if (c->question >= 0) {
            mask |= qi_bit[c->question] | shown_through[c->question];
        }
        break;
    }
    return mask;
}

bool export_layout_build(struct export_layout *l, const struct qdef *def, char *err,
                         size_t err_size)
{
    memset(l, 0, sizeof *l);
    l->def = def;
    size_t max_cols = 2;
    for (size_t q = 0; q < def->n_questions; q++) {
        max_cols += def->questions[q].type == QDEF_MULTIPLE ? def->questions[q].n_options : 1;
    }
    l->cols = calloc(max_cols, sizeof *l->cols);
    l->excluded = calloc(def->n_questions ? def->n_questions : 1, sizeof *l->excluded);
    const char **names = calloc(max_cols, sizeof *names);
    /* Per question: its own quasi-identifier bit (0 for others), and the quasi-identifiers it
     * is shown through. A show_if refers only to earlier questions, so one pass in the order
     * of asking sees every question's after the questions it refers to. */
    uint8_t *qi_bit = calloc(def->n_questions ? def->n_questions : 1, 1);
    uint8_t *shown_through = calloc(def->n_questions ? def->n_questions : 1, 1);
    if (l->cols == NULL || l->excluded == NULL || names == NULL || qi_bit == NULL ||
        shown_through == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }

    struct export_column *c = add_column(l, EXPORT_COL_PID, -1, -1);
    snprintf(c->name, sizeof c->name, "pid");
    c->is_string = true;
    c->width = EXPORT_PID_HEX_BYTES - 1;
    c = add_column(l, EXPORT_COL_FIELD_WEEK, -1, -1);
    snprintf(c->name, sizeof c->name, "field_week");

    for (size_t qi = 0; qi < def->n_questions; qi++) {
        const struct qdef_question *q = &def->questions[qi];
        shown_through[qi] = cond_depends(q->show_if, qi_bit, shown_through);
        const char *reason = excluded_reason(q);
        if (reason != NULL) {
            l->excluded[l->n_excluded++] = (struct export_excluded){(int)qi, reason};
            continue;
        }
        if (q->type == QDEF_SINGLE) {
            c = add_column(l, EXPORT_COL_SINGLE, (int)qi, -1);
            snprintf(c->name, sizeof c->name, "%s", q->id);
            c->is_string = true;
            c->width = 2; /* the missing codes */
            for (size_t o = 0; o < q->n_options; o++) {
                size_t w = strlen(q->options[o].code);
                c->width = w > c->width ? w : c->width;
            }
            if (q->quasi_identifier) {
                if (l->n_qi == EXPORT_MAX_QI) {
                    snprintf(err, err_size,
                             "the questionnaire has more than %d quasi-identifiers; the export "
                             "supports at most %d",
                             EXPORT_MAX_QI, EXPORT_MAX_QI);
                    goto fail;
                }
                c->qi = (int)l->n_qi;
                l->qi_follows[l->n_qi] = shown_through[qi];
                qi_bit[qi] = (uint8_t)(1u << l->n_qi);
                l->qi_question[l->n_qi++] = (int)qi;
            }
            c->suppress_with = qi_bit[qi] | shown_through[qi];
        } else if (q->type == QDEF_MULTIPLE) {
            for (size_t o = 0; o < q->n_options; o++) {
                c = add_column(l, EXPORT_COL_OPTION, (int)qi, (int)o);
                int n = snprintf(c->name, sizeof c->name, "%s_%s", q->id, q->options[o].code);
                if (n < 0 || (size_t)n >= sizeof c->name) {
                    /* Too long for SPSS: the option's number instead of its code. */
                    char suffix[8];
                    snprintf(suffix, sizeof suffix, "_%u", (unsigned)(o + 1) % 1000u);
                    snprintf(c->name, sizeof c->name, "%.*s%s",
                             (int)(sizeof c->name - 1 - strlen(suffix)), q->id, suffix);
                }
                c->missing_codes = true;
                c->suppress_with = shown_through[qi];
            }
        } else if (q->type == QDEF_NUMBER) {
            c = add_column(l, EXPORT_COL_NUMBER, (int)qi, -1);
            snprintf(c->name, sizeof c->name, "%s", q->id);
            c->decimals = q->decimals;
            /* The codes are negative: usable only when no answer can be. */
            c->missing_codes = q->has_min && q->min >= 0;
            c->suppress_with = shown_through[qi];
        }
    }
    for (size_t i = 0; i < l->n_cols; i++) {
        names[i] = l->cols[i].name;
    }
    qsort(names, l->n_cols, sizeof *names, compare_names);
    for (size_t i = 1; i < l->n_cols; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            snprintf(err, err_size, "two columns would be named \"%s\"", names[i]);
            goto fail;
        }
    }
    free(names);
    free(qi_bit);
    free(shown_through);
    return true;
fail:
    free(names);
    free(qi_bit);
    free(shown_through);
    export_layout_free(l);
    return false;
}

void export_layout_free(struct export_layout *l)
{
    free(l->cols);
    free(l->excluded);
    l->cols = NULL;
    l->excluded = NULL;
    l->n_cols = 0;
    l->n_excluded = 0;
}

void export_layout_qi_values(const struct export_layout *l, const cJSON *answers, const bool *shown,
                             uint8_t *values)
{
    for (size_t j = 0; j < l->n_qi; j++) {
        int q = l->qi_question[j];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(answers, l->def->questions[q].id);
        int o = cJSON_IsString(a) ? qdef_find_option(l->def, q, a->valuestring) : -1;
        if (!shown[q]) {
            values[j] = EXPORT_QI_NOT_ASKED;
        } else if (o < 0) {
            values[j] = EXPORT_QI_NO_ANSWER;
        } else {
            values[j] = (uint8_t)o;
        }
    }
}

static void set_missing(struct export_cell *cell, enum export_missing m)
{
    cell->missing = m;
    cell->str = export_missing_text(m);
    cell->num = (double)m;
}

bool export_layout_cells(const struct export_layout *l, const cJSON *answers, const bool *shown,
                         const uint8_t *qi_values, const char *pid, int field_week,
                         const double *caps, struct export_cell *cells,
                         struct export_row_counts *counts, char *err, size_t err_size)
{
    const struct qdef *def = l->def;
    uint8_t suppressed = 0;
    for (size_t j = 0; j < l->n_qi; j++) {
        if (qi_values[j] == EXPORT_QI_SUPPRESSED) {
            suppressed |= (uint8_t)(1u << j);
        }
    }
    for (size_t i = 0; i < l->n_cols; i++) {
        const struct export_column *c = &l->cols[i];
        struct export_cell *cell = &cells[i];
        *cell = (struct export_cell){EXPORT_ANSWER, "", 0};
        if (c->kind == EXPORT_COL_PID) {
            cell->str = pid;
            continue;
        }
        if (c->kind == EXPORT_COL_FIELD_WEEK) {
            cell->num = field_week;
            continue;
        }
        const struct qdef_question *q = &def->questions[c->question];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(answers, q->id);
        /* First: a suppressed value is -3 whether it was answered, not answered or not asked;
         * anything else would tell them apart, split the groups k-anonymity planned, and
         * (through skip logic) give the suppressed value away. */
        if (c->suppress_with & suppressed) {
            set_missing(cell, EXPORT_SUPPRESSED);
            counts->following += c->qi < 0;
            continue;
        }
        if (!shown[c->question]) {
            set_missing(cell, EXPORT_NOT_ASKED);
            continue;
        }
        if (a == NULL) {
            set_missing(cell, EXPORT_NO_ANSWER);
            continue;
        }
        if (c->kind == EXPORT_COL_SINGLE) {
            int o = cJSON_IsString(a) ? qdef_find_option(def, c->question, a->valuestring) : -1;
            if (o < 0) {
                snprintf(err, err_size, "an answer to \"%s\" is not one of its options", q->id);
                return false;
            }
            cell->str = q->options[o].code;
        } else if (c->kind == EXPORT_COL_OPTION) {
            if (!cJSON_IsArray(a)) {
                snprintf(err, err_size, "an answer to \"%s\" is not a list of options", q->id);
                return false;
            }
            const char *code = q->options[c->option].code;
            for (const cJSON *e = a->child; e != NULL; e = e->next) {
                if (cJSON_IsString(e) && strcmp(e->valuestring, code) == 0) {
                    cell->num = 1;
                    break;
                }
            }
        } else {
            if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble)) {
                snprintf(err, err_size, "an answer to \"%s\" is not a number", q->id);
                return false;
            }
            cell->num = a->valuedouble;
            if (!isnan(caps[c->question]) && cell->num > caps[c->question]) {
                cell->num = caps[c->question];
                counts->top_coded[c->question]++;
            }
        }
    }
    return true;
}
