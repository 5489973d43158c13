/*
 * Writers of the three formats. Every format writes the same cells: option codes and
 * pseudonyms as text, the missing codes as numbers in numeric columns and as their text in
 * string columns, numbers with the question's decimals. SPSS's limits (64-byte file label,
 * 120-byte value labels) are met by cutting at character boundaries, never inside one.
 */
#include "export_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <readstat.h>

#include "csv.h"

#define SAV_VALUE_LABEL_BYTES 120
#define SAV_VARIABLE_LABEL_BYTES 255
#define SAV_FILE_LABEL_BYTES 64

struct export_writer {
    const struct export_layout *layout;
    struct export_writer_opts opts;
    FILE *out;
    long n_rows, rows;
    /* .sav only */
    readstat_writer_t *rs;
    readstat_variable_t **vars;
    readstat_error_t rs_error; /* the data writer's own failure */
};

size_t export_utf8_cut(const char *s, size_t max_bytes)
{
    size_t n = strlen(s);
    if (n <= max_bytes) {
        return n;
    }
    n = max_bytes;
    /* Step back over continuation bytes to the start of the cut character. */
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--;
    }
    return n;
}

const char *export_missing_label(enum export_missing m, const char *lang)
{
    bool ko = strcmp(lang, "ko") == 0;
    switch (m) {
    case EXPORT_NOT_ASKED:
        return ko ? "질문하지 않음(건너뛰기 규칙)" : "not asked (skip logic)";
    case EXPORT_NO_ANSWER:
        return ko ? "무응답" : "no answer";
    case EXPORT_SUPPRESSED:
        return ko ? "비공개(k-익명성 보호)" : "suppressed (k-anonymity)";
    case EXPORT_ANSWER:
        break;
    }
    return "";
}

const char *export_chosen_label(bool chosen, const char *lang)
{
    bool ko = strcmp(lang, "ko") == 0;
    if (chosen) {
        return ko ? "선택함" : "chosen";
    }
    return ko ? "선택하지 않음" : "not chosen";
}

static bool plain_number(const char *s)
{
    const char *p = s + (*s == '-');
    if (*p < '0' || *p > '9') {
        return false;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    return *p == '\0';
}

void export_csv_cell(FILE *out, const char *s)
{
    if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL && !plain_number(s)) {
        /* csv_field quotes when needed; the apostrophe goes inside the quotes. */
        size_t n = strlen(s);
        char *t = malloc(n + 2);
        if (t != NULL) {
            t[0] = '\'';
            memcpy(t + 1, s, n + 1);
            csv_field(out, t);
            free(t);
            return;
        }
        fputc('\'', out); /* out of memory: still neutralised, quoted by hand */
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"') {
                fputc('"', out);
            }
            fputc(*s, out);
        }
        fputc('"', out);
        return;
    }
    csv_field(out, s);
}

void export_number_text(double v, int decimals, char *buf, size_t size)
{
    snprintf(buf, size, "%.*f", decimals, v);
}

/* The text of a numeric cell as CSV and JSON write it; "" for an empty (system-missing) one. */
static void number_text(const struct export_column *c, const struct export_cell *cell, char *buf,
                        size_t size)
{
    if (cell->missing != EXPORT_ANSWER) {
        if (c->missing_codes) {
            snprintf(buf, size, "%d", (int)cell->missing);
        } else {
            buf[0] = '\0';
        }
        return;
    }
    export_number_text(cell->num, c->kind == EXPORT_COL_NUMBER ? c->decimals : 0, buf, size);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* ---- .sav through ReadStat --------------------------------------------------------------- */

static ssize_t sav_data_writer(const void *data, size_t len, void *ctx)
{
    struct export_writer *w = ctx;
    if (fwrite(data, 1, len, w->out) != len) {
        w->rs_error = READSTAT_ERROR_WRITE;
        return -1;
    }
    return (ssize_t)len;
}

/* A label cut to SPSS's bound at a character boundary (buf of max + 1 bytes). */
static const char *cut_label(const char *s, char *buf, size_t max)
{
    size_t n = export_utf8_cut(s, max);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static void sav_missing_labels(readstat_label_set_t *set, const struct export_column *c,
                               const char *lang)
{
    static const enum export_missing codes[] = {EXPORT_NOT_ASKED, EXPORT_NO_ANSWER,
                                                EXPORT_SUPPRESSED};
    for (size_t m = 0; m < sizeof codes / sizeof codes[0]; m++) {
        if (codes[m] == EXPORT_SUPPRESSED && c->suppress_with == 0) {
            continue;
        }
        if (c->is_string) {
            readstat_label_string_value(set, export_missing_text(codes[m]),
                                        export_missing_label(codes[m], lang));
        } else {
            readstat_label_double_value(set, (double)codes[m],
                                        export_missing_label(codes[m], lang));
        }
    }
}

static bool sav_begin(struct export_writer *w, char *err, size_t err_size)
{
    const struct export_layout *l = w->layout;
    const struct qdef *def = l->def;
    const char *lang = def->languages[w->opts.lang];
    char buf[SAV_VARIABLE_LABEL_BYTES + 1], label[1024];
    w->rs = readstat_writer_init();
    w->vars = calloc(l->n_cols, sizeof *w->vars);
    if (w->rs == NULL || w->vars == NULL) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    readstat_set_data_writer(w->rs, sav_data_writer);
    readstat_writer_set_compression(w->rs, READSTAT_COMPRESS_ROWS);
    readstat_writer_set_file_timestamp(w->rs, (time_t)w->opts.timestamp);
    if (w->opts.file_label != NULL) {
        readstat_writer_set_file_label(w->rs,
                                       cut_label(w->opts.file_label, buf, SAV_FILE_LABEL_BYTES));
    }
    /* The 0/1 columns share a label set; those suppressed with a quasi-identifier need -3. */
    readstat_label_set_t *chosen[2] = {NULL, NULL};
    for (size_t i = 0; i < l->n_cols; i++) {
        const struct export_column *c = &l->cols[i];
        const struct qdef_question *q = c->question >= 0 ? &def->questions[c->question] : NULL;
        readstat_variable_t *v = readstat_add_variable(
            w->rs, c->name, c->is_string ? READSTAT_TYPE_STRING : READSTAT_TYPE_DOUBLE,
            c->is_string ? c->width : 0);
        if (v == NULL) {
            snprintf(err, err_size, "out of memory");
            return false;
        }
        w->vars[i] = v;
        readstat_label_set_t *set = NULL;
        switch (c->kind) {
        case EXPORT_COL_PID:
            snprintf(label, sizeof label, "%s",
                     strcmp(lang, "ko") == 0 ? "가명 ID (응답자 식별 불가)"
                                             : "pseudonymous id (does not identify respondents)");
            readstat_variable_set_measure(v, READSTAT_MEASURE_NOMINAL);
            break;
        case EXPORT_COL_FIELD_WEEK:
            snprintf(label, sizeof label, "%s",
                     strcmp(lang, "ko") == 0 ? "응답 주차(조사 시작 주 = 1)"
                                             : "week of fieldwork (1 = the first week)");
            readstat_variable_set_measure(v, READSTAT_MEASURE_ORDINAL);
            readstat_variable_set_format(v, "F4.0");
            break;
        case EXPORT_COL_SINGLE:
            snprintf(label, sizeof label, "%s", qdef_text_get(def, &q->label, w->opts.lang));
            readstat_variable_set_measure(v, READSTAT_MEASURE_NOMINAL);
            set = readstat_add_label_set(w->rs, READSTAT_TYPE_STRING, c->name);
            if (set == NULL) {
                snprintf(err, err_size, "out of memory");
                return false;
            }
            for (size_t o = 0; o < q->n_options; o++) {
                readstat_label_string_value(
                    set, q->options[o].code,
                    cut_label(qdef_text_get(def, &q->options[o].label, w->opts.lang), buf,
                              SAV_VALUE_LABEL_BYTES));
            }
            sav_missing_labels(set, c, lang);
            break;
        case EXPORT_COL_OPTION:
            snprintf(label, sizeof label, "%s: %s", qdef_text_get(def, &q->label, w->opts.lang),
                     qdef_text_get(def, &q->options[c->option].label, w->opts.lang));
            readstat_variable_set_measure(v, READSTAT_MEASURE_NOMINAL);
            readstat_variable_set_format(v, "F2.0");
            if (chosen[c->suppress_with != 0] == NULL) {
                set = readstat_add_label_set(w->rs, READSTAT_TYPE_DOUBLE,
                                             c->suppress_with != 0 ? "chosen_s" : "chosen");
                if (set == NULL) {
                    snprintf(err, err_size, "out of memory");
                    return false;
                }
                readstat_label_double_value(set, 0, export_chosen_label(false, lang));
                readstat_label_double_value(set, 1, export_chosen_label(true, lang));
                sav_missing_labels(set, c, lang);
                chosen[c->suppress_with != 0] = set;
            }
            set = chosen[c->suppress_with != 0];
            break;
        case EXPORT_COL_NUMBER: {
            char format[16];
            snprintf(format, sizeof format, "F%d.%d", 8 + c->decimals, c->decimals);
            snprintf(label, sizeof label, "%s", qdef_text_get(def, &q->label, w->opts.lang));
            readstat_variable_set_measure(v, READSTAT_MEASURE_SCALE);
            readstat_variable_set_format(v, format);
            if (c->missing_codes) {
                set = readstat_add_label_set(w->rs, READSTAT_TYPE_DOUBLE, c->name);
                if (set == NULL) {
                    snprintf(err, err_size, "out of memory");
                    return false;
                }
                sav_missing_labels(set, c, lang);
            }
            break;
        }
        }
        readstat_variable_set_label(v, cut_label(label, buf, SAV_VARIABLE_LABEL_BYTES));
        if (set != NULL) {
            readstat_variable_set_label_set(v, set);
        }
        if (c->kind == EXPORT_COL_SINGLE || (c->missing_codes && !c->is_string)) {
            /* The missing codes of the column, declared so that SPSS and R treat them as
             * missing (SPSS allows three discrete values: exactly these). */
            for (int m = EXPORT_NOT_ASKED;
                 m >= (c->suppress_with != 0 ? EXPORT_SUPPRESSED : EXPORT_NO_ANSWER); m--) {
                readstat_error_t e = c->is_string
                                         ? readstat_variable_add_missing_string_value(
                                               v, export_missing_text((enum export_missing)m))
                                         : readstat_variable_add_missing_double_value(v, (double)m);
                if (e != READSTAT_OK) {
                    snprintf(err, err_size, "could not declare missing values of \"%s\": %s",
                             c->name, readstat_error_message(e));
                    return false;
                }
            }
        }
    }
    readstat_add_note(w->rs, "Anonymised microdata (survey-admin export); see the codebook.");
    readstat_error_t e = readstat_begin_writing_sav(w->rs, w, w->n_rows);
    if (e == READSTAT_OK) {
        e = readstat_validate_metadata(w->rs);
    }
    for (size_t i = 0; e == READSTAT_OK && i < l->n_cols; i++) {
        e = readstat_validate_variable(w->rs, w->vars[i]);
        if (e != READSTAT_OK) {
            snprintf(err, err_size, "column \"%s\" cannot be written to a .sav file: %s",
                     l->cols[i].name, readstat_error_message(e));
            return false;
        }
    }
    if (e != READSTAT_OK) {
        snprintf(err, err_size, "could not start the .sav file: %s",
                 readstat_error_message(w->rs_error ? w->rs_error : e));
        return false;
    }
    return true;
}

static bool sav_row(struct export_writer *w, const struct export_cell *cells, char *err,
                    size_t err_size)
{
    const struct export_layout *l = w->layout;
    readstat_error_t e = readstat_begin_row(w->rs);
    for (size_t i = 0; e == READSTAT_OK && i < l->n_cols; i++) {
        const struct export_column *c = &l->cols[i];
        if (c->is_string) {
            e = readstat_insert_string_value(w->rs, w->vars[i], cells[i].str);
        } else if (cells[i].missing != EXPORT_ANSWER && !c->missing_codes) {
            e = readstat_insert_missing_value(w->rs, w->vars[i]);
        } else {
            e = readstat_insert_double_value(w->rs, w->vars[i], cells[i].num);
        }
    }
    if (e == READSTAT_OK) {
        e = readstat_end_row(w->rs);
    }
    if (e != READSTAT_OK) {
        snprintf(err, err_size, "could not write a .sav row: %s",
                 readstat_error_message(w->rs_error ? w->rs_error : e));
        return false;
    }
    return true;
}

/* ---- the interface ------------------------------------------------------------------------ */

struct export_writer *export_writer_begin(const struct export_layout *layout,
                                          const struct export_writer_opts *opts, FILE *out,
                                          long n_rows, char *err, size_t err_size)
{
    struct export_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    w->layout = layout;
    w->opts = *opts;
    w->out = out;
    w->n_rows = n_rows;
    if (opts->format == EXPORT_SAV) {
        if (!sav_begin(w, err, err_size)) {
            export_writer_free(w);
            return NULL;
        }
        return w;
    }
    if (opts->format == EXPORT_CSV) {
        if (opts->excel) {
            fputs("\xef\xbb\xbf", out);
        }
        for (size_t i = 0; i < layout->n_cols; i++) {
            if (i > 0) {
                fputc(',', out);
            }
            export_csv_cell(out, layout->cols[i].name);
        }
        fputs("\r\n", out);
    }
    if (ferror(out)) {
        snprintf(err, err_size, "could not write: %s", strerror(errno));
        export_writer_free(w);
        return NULL;
    }
    return w;
}

bool export_writer_row(struct export_writer *w, const struct export_cell *cells, char *err,
                       size_t err_size)
{
    const struct export_layout *l = w->layout;
    w->rows++;
    if (w->opts.format == EXPORT_SAV) {
        return sav_row(w, cells, err, err_size);
    }
    bool csv = w->opts.format == EXPORT_CSV;
    char num[64];
    if (!csv) {
        fputc('{', w->out);
    }
    for (size_t i = 0; i < l->n_cols; i++) {
        const struct export_column *c = &l->cols[i];
        if (i > 0) {
            fputc(',', w->out);
        }
        if (!csv) {
            json_string(w->out, c->name);
            fputc(':', w->out);
        }
        if (c->is_string) {
            if (csv) {
                export_csv_cell(w->out, cells[i].str);
            } else {
                json_string(w->out, cells[i].str);
            }
            continue;
        }
        number_text(c, &cells[i], num, sizeof num);
        fputs(num[0] == '\0' && !csv ? "null" : num, w->out);
    }
    fputs(csv ? "\r\n" : "}\n", w->out);
    if (ferror(w->out)) {
        snprintf(err, err_size, "could not write: %s", strerror(errno));
        return false;
    }
    return true;
}

bool export_writer_end(struct export_writer *w, char *err, size_t err_size)
{
    bool ok = true;
    if (w->opts.format == EXPORT_SAV) {
        readstat_error_t e = readstat_end_writing(w->rs);
        if (e != READSTAT_OK) {
            snprintf(err, err_size, "could not finish the .sav file: %s",
                     readstat_error_message(w->rs_error ? w->rs_error : e));
            ok = false;
        }
    } else if (w->rows != w->n_rows) {
        snprintf(err, err_size, "wrote %ld rows where %ld were expected", w->rows, w->n_rows);
        ok = false;
    }
    export_writer_free(w);
    return ok;
}

void export_writer_free(struct export_writer *w)
{
    if (w == NULL) {
        return;
    }
    if (w->rs != NULL) {
        readstat_writer_free(w->rs);
    }
    free(w->vars);
    free(w);
}
