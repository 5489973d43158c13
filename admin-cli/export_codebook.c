/*
 * Codebook documents. The JSON carries every text in every language; the Markdown picks one
 * and escapes what Markdown would otherwise read as markup, since labels and the study
 * description are free prose.
 */
#include "export_codebook.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "about.h"

#define COND_TEXT_BYTES 1024

/* ---- building the document ---------------------------------------------------------------- */

static cJSON *texts(const struct qdef *def, const struct qdef_text *t)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t l = 0; o != NULL && l < def->n_languages; l++) {
        cJSON_AddStringToObject(o, def->languages[l], qdef_text_get(def, t, (int)l));
    }
    return o;
}

static cJSON *ko_en(const char *ko, const char *en)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ko", ko);
    cJSON_AddStringToObject(o, "en", en);
    return o;
}

struct buf {
    char *s;
    size_t len, size;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(struct buf *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->size) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        b->len = b->len + (size_t)n < b->size ? b->len + (size_t)n : b->size - 1;
    }
}

/* A condition as a short expression, e.g. "genai_stage in (experimenting, production)". */
static void cond_text(const struct qdef *def, const struct qdef_cond *c, struct buf *b)
{
    const char *q = c->question >= 0 && (size_t)c->question < def->n_questions
                        ? def->questions[c->question].id
                        : "?";
    const struct qdef_question *question =
        c->question >= 0 && (size_t)c->question < def->n_questions ? &def->questions[c->question]
                                                                   : NULL;
    switch (c->kind) {
    case QDEF_COND_EQUALS_CODE:
        buf_add(b, "%s = %s", q, question ? question->options[c->option].code : "?");
        break;
    case QDEF_COND_IN:
        buf_add(b, "%s in (", q);
        for (size_t i = 0; question != NULL && i < c->n_options; i++) {
            buf_add(b, "%s%s", i ? ", " : "", question->options[c->options[i]].code);
        }
        buf_add(b, ")");
        break;
    case QDEF_COND_INCLUDES:
        buf_add(b, "%s includes %s", q, question ? question->options[c->option].code : "?");
        break;
    case QDEF_COND_EQUALS_NUM:
        buf_add(b, "%s = %g", q, c->num);
        break;
    case QDEF_COND_GTE:
        buf_add(b, "%s >= %g", q, c->num);
        break;
    case QDEF_COND_LTE:
        buf_add(b, "%s <= %g", q, c->num);
        break;
    case QDEF_COND_ANSWERED:
        buf_add(b, "%s %s", q, c->flag ? "answered" : "not answered");
        break;
    case QDEF_COND_ALL:
    case QDEF_COND_ANY:
        buf_add(b, "(");
        for (size_t i = 0; i < c->n_children; i++) {
            if (i > 0) {
                buf_add(b, c->kind == QDEF_COND_ALL ? " and " : " or ");
            }
            cond_text(def, c->children[i], b);
        }
        buf_add(b, ")");
        break;
    case QDEF_COND_NOT:
        buf_add(b, "not (");
        if (c->n_children > 0) {
            cond_text(def, c->children[0], b);
        }
        buf_add(b, ")");
        break;
    }
}

static void add_code(cJSON *codes, const char *code_text, double code_num, bool is_string,
                     cJSON *label)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(label);
        return;
    }
    if (is_string) {
        cJSON_AddStringToObject(o, "code", code_text);
    } else {
        cJSON_AddNumberToObject(o, "code", code_num);
    }
    cJSON_AddItemToObject(o, "label", label);
    cJSON_AddItemToArray(codes, o);
}

static void add_missing_codes(cJSON *col, const struct export_column *c)
{
    static const enum export_missing all[] = {EXPORT_NOT_ASKED, EXPORT_NO_ANSWER,
                                              EXPORT_SUPPRESSED};
    cJSON *missing = cJSON_AddArrayToObject(col, "missing");
    if (c->kind == EXPORT_COL_PID || c->kind == EXPORT_COL_FIELD_WEEK) {
        return;
    }
    if (!c->is_string && !c->missing_codes) {
        cJSON_AddStringToObject(col, "missing_note",
                                c->suppress_with != 0
                                    ? "not asked, no answer and suppressed are all an empty cell "
                                      "(system-missing): the answers may be negative, so no code "
                                      "is free"
                                    : "not asked and no answer are both an empty cell "
                                      "(system-missing): the answers may be negative, so no code "
                                      "is free");
        return;
    }
    for (size_t m = 0; m < sizeof all / sizeof all[0]; m++) {
        if (all[m] == EXPORT_SUPPRESSED && c->suppress_with == 0) {
            continue;
        }
        add_code(missing, export_missing_text(all[m]), (double)all[m], c->is_string,
                 ko_en(export_missing_label(all[m], "ko"), export_missing_label(all[m], "en")));
    }
}

static cJSON *column_json(const struct export_layout *l, const struct export_column *c,
                          const struct export_meta *meta)
{
    const struct qdef *def = l->def;
    const struct qdef_question *q = c->question >= 0 ? &def->questions[c->question] : NULL;
    cJSON *col = cJSON_CreateObject();
    if (col == NULL) {
        return NULL;
    }
    static const char *const kinds[] = {"pseudonym", "field_week", "single", "option", "number"};
    cJSON_AddStringToObject(col, "name", c->name);
    cJSON_AddStringToObject(col, "kind", kinds[c->kind]);
    cJSON_AddStringToObject(col, "type", c->is_string ? "string" : "numeric");
    if (c->is_string) {
        cJSON_AddNumberToObject(col, "width", (double)c->width);
    }
    cJSON_AddStringToObject(col, "measure",
                            c->kind == EXPORT_COL_NUMBER       ? "scale"
                            : c->kind == EXPORT_COL_FIELD_WEEK ? "ordinal"
                                                               : "nominal");
    if (q != NULL) {
        cJSON_AddStringToObject(col, "question", q->id);
        cJSON_AddItemToObject(col, "wording", texts(def, &q->label));
    }
    cJSON *codes = NULL;
    switch (c->kind) {
    case EXPORT_COL_PID:
        cJSON_AddItemToObject(
            col, "wording",
            ko_en("가명 ID: 응답마다 부여, 응답자를 식별할 수 없음",
                  "pseudonymous id: one per response; does not identify the respondent"));
        break;
    case EXPORT_COL_FIELD_WEEK:
        cJSON_AddItemToObject(
            col, "wording",
            ko_en("응답 접수 주차: 조사 시작 후 첫 7일 = 1, 다음 7일 = 2, ...",
                  "week of fieldwork the response arrived in: the first 7 days from the opening "
                  "= 1, the next 7 = 2, ..."));
        break;
    case EXPORT_COL_SINGLE:
        codes = cJSON_AddArrayToObject(col, "codes");
        for (size_t o = 0; o < q->n_options; o++) {
            add_code(codes, q->options[o].code, 0, true, texts(def, &q->options[o].label));
        }
        cJSON_AddBoolToObject(col, "quasi_identifier", c->qi >= 0);
        break;
    case EXPORT_COL_OPTION:
        cJSON_AddStringToObject(col, "option", q->options[c->option].code);
        cJSON_AddItemToObject(col, "option_label", texts(def, &q->options[c->option].label));
        codes = cJSON_AddArrayToObject(col, "codes");
        add_code(codes, "0", 0, false,
                 ko_en(export_chosen_label(false, "ko"), export_chosen_label(false, "en")));
        add_code(codes, "1", 1, false,
                 ko_en(export_chosen_label(true, "ko"), export_chosen_label(true, "en")));
        break;
    case EXPORT_COL_NUMBER:
        cJSON_AddNumberToObject(col, "decimals", c->decimals);
        if (q->has_min) {
            cJSON_AddNumberToObject(col, "min", q->min);
        }
        if (q->has_max) {
            cJSON_AddNumberToObject(col, "max", q->max);
        }
        for (size_t t = 0; t < meta->n_topcodes; t++) {
            const struct export_topcode *x = &meta->topcodes[t];
            if (x->question == c->question && x->applied) {
                char text[64];
                export_number_text(x->cap, c->decimals, text, sizeof text);
                cJSON *tc = cJSON_AddObjectToObject(col, "top_coded");
                cJSON_AddNumberToObject(tc, "percentile", meta->top_code_percentile);
                cJSON_AddNumberToObject(tc, "cap", x->cap);
                cJSON_AddStringToObject(tc, "cap_text", text);
                cJSON_AddNumberToObject(tc, "answers", (double)x->answers);
                cJSON_AddNumberToObject(tc, "values_in_tail", (double)x->tail);
                cJSON_AddNumberToObject(tc, "values_top_coded", (double)x->top_coded);
            }
        }
        break;
    }
    add_missing_codes(col, c);

    /* Columns whose missing cells are empty (no code is free) say so rather than -1/-2/-3. */
    const bool coded = c->is_string || c->missing_codes;
    char base[COND_TEXT_BYTES] = "";
    struct buf b = {base, 0, sizeof base};
    if (q == NULL || q->show_if == NULL) {
        buf_add(&b, "all exported responses");
    } else {
        buf_add(&b, "responses shown the question, when ");
        cond_text(def, q->show_if, &b);
        buf_add(&b, "; the others have %s",
                coded ? "the code -1 (not asked)" : "an empty cell (not asked)");
    }
    if (q != NULL && !q->required) {
        buf_add(&b, "; optional: %s when not answered", coded ? "-2" : "an empty cell");
    }
    uint8_t following =
        c->qi >= 0 ? (uint8_t)(c->suppress_with & ~(1u << c->qi)) : c->suppress_with;
    cJSON *with = q != NULL ? cJSON_AddArrayToObject(col, "suppressed_with") : NULL;
    char ids[COND_TEXT_BYTES] = "";
    struct buf idb = {ids, 0, sizeof ids};
    for (size_t j = 0, n = 0; q != NULL && j < l->n_qi; j++) {
        if (following & (1u << j)) {
            const char *id = def->questions[l->qi_question[j]].id;
            cJSON_AddItemToArray(with, cJSON_CreateString(id));
            buf_add(&idb, "%s%s", n++ ? " or " : "", id);
        }
    }
    if (q != NULL && following != 0) {
        /* The condition above is the questionnaire's own; the data do not let it undo the
         * suppression, and the base says so. */
        buf_add(&b,
                "; %s in records whose %s is suppressed for k-anonymity, whatever was answered "
                "(whether the question was shown would give %s away)",
                coded ? "-3" : "an empty cell", ids, ids);
    }
    cJSON_AddStringToObject(col, "base", base);
    return col;
}

static void add_raw_json(cJSON *o, const char *key, const char *json)
{
    cJSON *v = json != NULL ? cJSON_Parse(json) : NULL;
    cJSON_AddItemToObject(o, key, v != NULL ? v : cJSON_CreateNull());
}

static cJSON *risk_json(const struct export_layout *l, const struct export_meta *meta)
{
    const struct export_risk *r = &meta->risk;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "k", (double)r->k);
    cJSON *qis = cJSON_AddArrayToObject(o, "quasi_identifiers");
    cJSON *by = cJSON_CreateObject();
    for (size_t j = 0; j < l->n_qi; j++) {
        const char *id = l->def->questions[l->qi_question[j]].id;
        cJSON_AddItemToArray(qis, cJSON_CreateString(id));
        cJSON_AddNumberToObject(by, id, (double)r->values_suppressed_by_qi[j]);
    }
    cJSON_AddStringToObject(o, "suppressed_code", export_missing_text(EXPORT_SUPPRESSED));
    cJSON_AddNumberToObject(o, "records", (double)r->records);
    cJSON_AddNumberToObject(o, "groups_before", (double)r->groups_before);
    cJSON_AddNumberToObject(o, "groups_below_k_before", (double)r->groups_below_k_before);
    cJSON_AddNumberToObject(o, "records_below_k_before", (double)r->records_below_k_before);
    cJSON_AddNumberToObject(o, "smallest_group_before", (double)r->smallest_before);
    cJSON_AddNumberToObject(o, "groups_after", (double)r->groups_after);
    cJSON_AddNumberToObject(o, "smallest_group_after", (double)r->smallest_after);
    cJSON_AddNumberToObject(o, "records_suppressed", (double)r->records_suppressed);
    cJSON_AddNumberToObject(o, "values_suppressed", (double)r->values_suppressed);
    cJSON_AddItemToObject(o, "values_suppressed_by_quasi_identifier", by);
    cJSON *follow = cJSON_CreateObject();
    for (size_t j = 0; j < l->n_qi; j++) {
        cJSON *ids = cJSON_CreateArray();
        for (size_t i = 0; i < l->n_qi; i++) {
            if (l->qi_follows[j] & (1u << i)) {
                cJSON_AddItemToArray(ids,
                                     cJSON_CreateString(l->def->questions[l->qi_question[i]].id));
            }
        }
        cJSON_AddItemToObject(follow, l->def->questions[l->qi_question[j]].id, ids);
    }
    cJSON_AddItemToObject(o, "shown_through", follow);
    cJSON_AddNumberToObject(o, "cells_suppressed_with_quasi_identifiers",
                            (double)meta->cells_following);
    cJSON_AddNumberToObject(o, "max_suppressed_share", meta->max_suppressed_share);
    return o;
}

cJSON *export_codebook_json(const struct export_layout *l, const struct export_meta *meta)
{
    const struct qdef *def = l->def;
    static const char *const formats[] = {"csv", "jsonl", "sav"};
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }
    cJSON *wave = cJSON_AddObjectToObject(doc, "wave");
    cJSON_AddStringToObject(wave, "id", meta->wave);
    cJSON_AddStringToObject(wave, "status", meta->status);
    cJSON_AddStringToObject(wave, "access", meta->access);
    cJSON_AddStringToObject(wave, "opened_at", meta->opened_at);
    cJSON_AddStringToObject(wave, "closed_at", meta->closed_at);
    cJSON_AddBoolToObject(wave, "provisional", meta->provisional);
    add_raw_json(wave, "margins", meta->margins_json);
    add_raw_json(wave, "about", meta->about_json);

    cJSON *qn = cJSON_AddObjectToObject(doc, "questionnaire");
    cJSON_AddStringToObject(qn, "id", def->id);
    cJSON_AddStringToObject(qn, "version", def->version);
    cJSON_AddStringToObject(qn, "sha256", meta->questionnaire_sha256);
    cJSON_AddItemToObject(qn, "title", texts(def, &def->title));
    cJSON_AddStringToObject(qn, "default_language", def->languages[def->default_language]);

    cJSON *ex = cJSON_AddObjectToObject(doc, "export");
    cJSON_AddStringToObject(ex, "format", formats[meta->format]);
    cJSON_AddStringToObject(ex, "created_at", meta->created_at);
    cJSON_AddNumberToObject(ex, "responses_in_wave", (double)meta->responses_total);
    cJSON_AddNumberToObject(ex, "screened_out_excluded", (double)meta->screened_out);
    cJSON_AddNumberToObject(ex, "rows", (double)meta->rows);
    cJSON_AddNumberToObject(ex, "columns", (double)l->n_cols);
    cJSON_AddStringToObject(ex, "row_order", "random, drawn anew for every export");

    cJSON *an = cJSON_AddObjectToObject(doc, "anonymisation");
    cJSON *never = cJSON_AddArrayToObject(an, "never_exported");
    static const char *const withheld[] = {
        "questions flagged identifying (e-mail addresses, names)",
        "free-text answers",
        "invitation tokens and their use",
        "submission ids, receipt ids and database ids",
        "exact receive times (only the week of fieldwork, field_week)",
        "screened-out responses (counted in export.screened_out_excluded)",
    };
    for (size_t i = 0; i < sizeof withheld / sizeof withheld[0]; i++) {
        cJSON_AddItemToArray(never, cJSON_CreateString(withheld[i]));
    }
    cJSON *excluded = cJSON_AddArrayToObject(an, "excluded_questions");
    for (size_t i = 0; i < l->n_excluded; i++) {
        const struct qdef_question *q = &def->questions[l->excluded[i].question];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "question", q->id);
        cJSON_AddStringToObject(e, "reason", l->excluded[i].reason);
        cJSON_AddItemToObject(e, "wording", texts(def, &q->label));
        cJSON_AddItemToArray(excluded, e);
    }
    cJSON *pid = cJSON_AddObjectToObject(an, "pseudonym");
    cJSON_AddStringToObject(pid, "column", "pid");
    cJSON_AddStringToObject(pid, "method",
                            "the first 128 bits of HMAC-SHA-256 over the wave and the submission, "
                            "in hex; without the key a pseudonym cannot be linked to anything");
    cJSON_AddBoolToObject(pid, "keyed", meta->keyed);
    cJSON_AddStringToObject(pid, "stability",
                            meta->keyed ? "stable across exports made with the same key"
                                        : "random for this export: no other export shares them");
    cJSON_AddItemToObject(an, "k_anonymity", risk_json(l, meta));
    cJSON_AddStringToObject(
        an, "top_coding_rule",
        "for each number question with n answers, the top m = max(1, ceil(n x (100 - P) / 100)) "
        "answers (P the percentile) are set to the largest answer below them, the (m+1)-th "
        "largest, a value that occurs in the data; answers equal to it stay as they are; with "
        "fewer than 2 answers there is nothing to cap at");
    cJSON *tc = cJSON_AddArrayToObject(an, "top_coding");
    for (size_t t = 0; t < meta->n_topcodes; t++) {
        const struct export_topcode *x = &meta->topcodes[t];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "question", def->questions[x->question].id);
        cJSON_AddNumberToObject(o, "percentile", meta->top_code_percentile);
        if (x->applied) {
            char text[64];
            export_number_text(x->cap, def->questions[x->question].decimals, text, sizeof text);
            cJSON_AddNumberToObject(o, "cap", x->cap);
            cJSON_AddStringToObject(o, "cap_text", text);
        } else {
            cJSON_AddNullToObject(o, "cap");
            cJSON_AddStringToObject(o, "note",
                                    meta->top_code_percentile >= 100
                                        ? "not top-coded (--top-code 100)"
                                    : x->answers == 0 ? "no answers, nothing to top-code"
                                                      : "a single answer: no smaller answer to "
                                                        "cap it at, so it is kept");
        }
        cJSON_AddNumberToObject(o, "answers", (double)x->answers);
        cJSON_AddNumberToObject(o, "values_in_tail", (double)x->tail);
        cJSON_AddNumberToObject(o, "values_top_coded", (double)x->top_coded);
        cJSON_AddItemToArray(tc, o);
    }

    cJSON *missing = cJSON_AddArrayToObject(doc, "missing_codes");
    static const enum export_missing codes[] = {EXPORT_NOT_ASKED, EXPORT_NO_ANSWER,
                                                EXPORT_SUPPRESSED};
    for (size_t m = 0; m < sizeof codes / sizeof codes[0]; m++) {
        add_code(missing, "", (double)codes[m], false,
                 ko_en(export_missing_label(codes[m], "ko"), export_missing_label(codes[m], "en")));
    }

    cJSON *cols = cJSON_AddArrayToObject(doc, "columns");
    for (size_t i = 0; cols != NULL && i < l->n_cols; i++) {
        cJSON *col = column_json(l, &l->cols[i], meta);
        if (col == NULL) {
            cJSON_Delete(doc);
            return NULL;
        }
        cJSON_AddItemToArray(cols, col);
    }
    return doc;
}

/* ---- Markdown ----------------------------------------------------------------------------- */

/* Markdown text: characters that would be markup escaped, line breaks as spaces. */
static void md(FILE *out, const char *s)
{
    for (; s != NULL && *s; s++) {
        if (*s == '\n' || *s == '\r') {
            fputc(' ', out);
        } else if (*s == '<') {
            fputs("&lt;", out);
        } else if (*s == '>') {
            fputs("&gt;", out);
        } else if (*s == '&') {
            fputs("&amp;", out);
        } else if (strchr("\\`*_[]|", *s) != NULL) {
            fputc('\\', out);
            fputc(*s, out);
        } else {
            fputc(*s, out);
        }
    }
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A text that is a string, or an object of languages: lang, else "en", else the first. */
static const char *in_lang(const cJSON *t, const char *lang)
{
    if (cJSON_IsString(t)) {
        return t->valuestring;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, lang);
    if (!cJSON_IsString(v)) {
        v = cJSON_GetObjectItemCaseSensitive(t, "en");
    }
    if (!cJSON_IsString(v) && t != NULL) {
        v = t->child;
    }
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void code_text(FILE *out, const cJSON *c)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(c, "code");
    if (cJSON_IsString(code)) {
        fputc('`', out);
        fputs(code->valuestring, out);
        fputc('`', out);
    } else {
        fprintf(out, "`%g`", cJSON_IsNumber(code) ? code->valuedouble : NAN);
    }
}

void export_codebook_markdown(FILE *out, const cJSON *doc, const char *lang)
{
    const cJSON *wave = cJSON_GetObjectItemCaseSensitive(doc, "wave");
    const cJSON *qn = cJSON_GetObjectItemCaseSensitive(doc, "questionnaire");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(doc, "export");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(doc, "anonymisation");
    const cJSON *risk = cJSON_GetObjectItemCaseSensitive(an, "k_anonymity");

    fputs("# Codebook: ", out);
    md(out, str(wave, "id"));
    fputs("\n\n", out);
    md(out, in_lang(cJSON_GetObjectItemCaseSensitive(qn, "title"), lang));
    fprintf(out, " (questionnaire `%s` version `%s`, SHA-256 `%s`)\n\n", str(qn, "id"),
            str(qn, "version"), str(qn, "sha256"));
    fputs("## The wave\n\n", out);
    fprintf(out, "- status: %s%s; access: %s\n", str(wave, "status"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(wave, "provisional"))
                ? " (provisional export of an open wave)"
                : "",
            str(wave, "access"));
    fprintf(out, "- fieldwork: %s to %s\n", str(wave, "opened_at"),
            str(wave, "closed_at")[0] ? str(wave, "closed_at") : "(still open)");
    fprintf(out, "- exported: %s as %s; %.0f rows, %.0f columns\n", str(ex, "created_at"),
            str(ex, "format"), num(ex, "rows"), num(ex, "columns"));
    fprintf(out,
            "- responses in the wave: %.0f; screened out and not exported: %.0f; rows in "
            "random order\n",
            num(ex, "responses_in_wave"), num(ex, "screened_out_excluded"));
    const cJSON *about = cJSON_GetObjectItemCaseSensitive(wave, "about");
    if (cJSON_IsObject(about)) {
        fputs("\n## The study\n\n", out);
        /* In the order reports print them (jsonb keeps its own order). */
        for (int i = 0; i < ABOUT_N_FIELDS; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(about, about_keys[i].key);
            if (f == NULL) {
                continue;
            }
            fputs("- ", out);
            md(out, strcmp(lang, "ko") == 0 ? about_keys[i].label_ko : about_keys[i].label_en);
            fputs(": ", out);
            md(out, in_lang(f, lang));
            fputc('\n', out);
        }
    }
    const cJSON *margins = cJSON_GetObjectItemCaseSensitive(wave, "margins");
    if (cJSON_IsObject(margins)) {
        fputs("\nPopulation margins for weighting: ", out);
        char *m = cJSON_PrintUnformatted(margins);
        if (m != NULL) {
            fprintf(out, "`%s`\n", m);
            cJSON_free(m);
        }
    }

    fputs("\n## Anonymisation\n\nNever exported:\n\n", out);
    const cJSON *never = cJSON_GetObjectItemCaseSensitive(an, "never_exported");
    for (const cJSON *n = never ? never->child : NULL; n != NULL; n = n->next) {
        fputs("- ", out);
        md(out, n->valuestring);
        fputc('\n', out);
    }
    const cJSON *excl = cJSON_GetObjectItemCaseSensitive(an, "excluded_questions");
    fputs("\nQuestions not exported: ", out);
    for (const cJSON *e = excl ? excl->child : NULL; e != NULL; e = e->next) {
        fprintf(out, "%s`%s` (", e == excl->child ? "" : ", ", str(e, "question"));
        md(out, str(e, "reason"));
        fputc(')', out);
    }
    fputs(excl && excl->child ? ".\n" : "none.\n", out);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(an, "pseudonym");
    fputs("\nPseudonyms (`pid`): ", out);
    md(out, str(pid, "method"));
    fputs("; ", out);
    md(out, str(pid, "stability"));
    fputs(".\n", out);

    fprintf(out, "\n### k-anonymity (k = %.0f)\n\nQuasi-identifiers: ", num(risk, "k"));
    const cJSON *qis = cJSON_GetObjectItemCaseSensitive(risk, "quasi_identifiers");
    for (const cJSON *q = qis ? qis->child : NULL; q != NULL; q = q->next) {
        fprintf(out, "%s`%s`", q == qis->child ? "" : ", ", q->valuestring);
    }
    fprintf(out,
            ". A record whose combination of their values is shared by fewer than k records "
            "has its least informative value replaced by `%s` until every combination is "
            "shared by at least k records; \"not asked\" (-1) and \"no answer\" (-2) count as "
            "values, and a suppressed value is `%s` whichever it was. Where the skip logic "
            "shows a question through a quasi-identifier, its cells are suppressed with it "
            "(each column's base and `suppressed_with` say which): %.0f cells.\n\n",
            str(risk, "suppressed_code"), str(risk, "suppressed_code"),
            num(risk, "cells_suppressed_with_quasi_identifiers"));
    fputs("| | before | after |\n|---|---|---|\n", out);
    fprintf(out, "| combinations (groups) | %.0f | %.0f |\n", num(risk, "groups_before"),
            num(risk, "groups_after"));
    fprintf(out, "| smallest group | %.0f | %.0f |\n", num(risk, "smallest_group_before"),
            num(risk, "smallest_group_after"));
    fprintf(out, "| groups below k | %.0f | 0 |\n", num(risk, "groups_below_k_before"));
    fprintf(out, "| records in groups below k | %.0f | 0 |\n\n",
            num(risk, "records_below_k_before"));
    fprintf(out, "Records with a suppressed value: %.0f of %.0f; values suppressed: %.0f (",
            num(risk, "records_suppressed"), num(risk, "records"), num(risk, "values_suppressed"));
    const cJSON *by =
        cJSON_GetObjectItemCaseSensitive(risk, "values_suppressed_by_quasi_identifier");
    for (const cJSON *b = by ? by->child : NULL; b != NULL; b = b->next) {
        fprintf(out, "%s`%s` %.0f", b == by->child ? "" : ", ", b->string, b->valuedouble);
    }
    fprintf(out, "). The export is refused when more than %g%% of records would need one.\n",
            100 * num(risk, "max_suppressed_share"));

    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(an, "top_coding");
    if (tc != NULL && tc->child != NULL) {
        fputs("\n### Top-coding\n\nRule: ", out);
        md(out, str(an, "top_coding_rule"));
        fputs(".\n\n", out);
        for (const cJSON *t = tc->child; t != NULL; t = t->next) {
            double p = num(t, "percentile");
            if (isnan(num(t, "cap"))) {
                fprintf(out, "- `%s`: ", str(t, "question"));
                md(out, str(t, "note"));
                fprintf(out, " (%.0f answers)\n", num(t, "answers"));
            } else {
                fprintf(out,
                        "- `%s`: the top %.0f of %.0f answers (max(1, ceil(%.0f x %g / 100)) at "
                        "the %gth percentile) are capped at `%s`; %.0f values were above it and "
                        "set to it\n",
                        str(t, "question"), num(t, "values_in_tail"), num(t, "answers"),
                        num(t, "answers"), 100 - p, p, str(t, "cap_text"),
                        num(t, "values_top_coded"));
            }
        }
    }

    fputs("\n## Missing-value codes\n\n", out);
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(doc, "missing_codes");
    for (const cJSON *m = mc ? mc->child : NULL; m != NULL; m = m->next) {
        fputs("- ", out);
        code_text(out, m);
        fputs(": ", out);
        md(out, in_lang(cJSON_GetObjectItemCaseSensitive(m, "label"), lang));
        fputc('\n', out);
    }
    fputs("\nIn string columns the codes are text (`\"-1\"`); in the .sav file they are "
          "declared as user-missing values.\n",
          out);

    fputs("\n## Columns\n\n", out);
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(doc, "columns");
    for (const cJSON *c = cols ? cols->child : NULL; c != NULL; c = c->next) {
        fprintf(out, "### `%s`\n\n", str(c, "name"));
        const cJSON *wording = cJSON_GetObjectItemCaseSensitive(c, "wording");
        for (const cJSON *w = wording ? wording->child : NULL; w != NULL; w = w->next) {
            fprintf(out, "- %s: ", w->string);
            md(out, w->valuestring);
            fputc('\n', out);
        }
        const cJSON *ol = cJSON_GetObjectItemCaseSensitive(c, "option_label");
        for (const cJSON *w = ol ? ol->child : NULL; w != NULL; w = w->next) {
            fprintf(out, "- option `%s` (%s): ", str(c, "option"), w->string);
            md(out, w->valuestring);
            fputc('\n', out);
        }
        fprintf(out, "- type: %s, %s", str(c, "type"), str(c, "measure"));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "quasi_identifier"))) {
            fputs("; quasi-identifier", out);
        }
        fputs("\n- base: ", out);
        md(out, str(c, "base"));
        fputc('\n', out);
        const cJSON *top = cJSON_GetObjectItemCaseSensitive(c, "top_coded");
        if (top != NULL) {
            fprintf(out,
                    "- top-coded: the top %.0f of %.0f answers capped at `%s` (%.0f values "
                    "set to it)\n",
                    num(top, "values_in_tail"), num(top, "answers"), str(top, "cap_text"),
                    num(top, "values_top_coded"));
        }
        const cJSON *codes = cJSON_GetObjectItemCaseSensitive(c, "codes");
        const cJSON *missing = cJSON_GetObjectItemCaseSensitive(c, "missing");
        if ((codes && codes->child) || (missing && missing->child)) {
            fputs("\n| code | label |\n|---|---|\n", out);
            for (int pass = 0; pass < 2; pass++) {
                const cJSON *list = pass ? missing : codes;
                for (const cJSON *x = list ? list->child : NULL; x != NULL; x = x->next) {
                    fputs("| ", out);
                    code_text(out, x);
                    fputs(" | ", out);
                    md(out, in_lang(cJSON_GetObjectItemCaseSensitive(x, "label"), lang));
                    fputs(pass ? " (missing) |\n" : " |\n", out);
                }
            }
        }
        const char *note = str(c, "missing_note");
        if (note[0]) {
            fputs("- missing: ", out);
            md(out, note);
            fputc('\n', out);
        }
        fputc('\n', out);
    }
}

void export_risk_print(FILE *out, const struct export_risk *r, const struct export_layout *l)
{
    fprintf(out, "k-anonymity (k=%zu) over", r->k);
    for (size_t j = 0; j < l->n_qi; j++) {
        fprintf(out, "%s %s", j ? "," : "", l->def->questions[l->qi_question[j]].id);
    }
    fprintf(out, ": %zu records\n", r->records);
    fprintf(out, "  groups before: %zu (%zu below k, holding %zu records), smallest %zu\n",
            r->groups_before, r->groups_below_k_before, r->records_below_k_before,
            r->smallest_before);
    fprintf(out, "  groups after:  %zu, smallest %zu\n", r->groups_after, r->smallest_after);
    fprintf(out, "  suppressed: %zu values in %zu records (%.1f%%)\n", r->values_suppressed,
            r->records_suppressed,
            r->records ? 100.0 * (double)r->records_suppressed / (double)r->records : 0.0);
}
