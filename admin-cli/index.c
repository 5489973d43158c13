/*
 * survey-admin index. One REPEATABLE READ snapshot gives the wave, its questionnaire and a
 * cursor over its responses; each response is reduced to the few values the estimates need
 * (indicator values, score, categories), so memory grows by tens of bytes per response. The
 * results document is stored (as json: the text as printed) in survey.index_runs first and
 * every format is rendered from the stored text, so a run printed again with --run is
 * byte-identical.
 */
#include "index.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "csv.h"
#include "db.h"
#include "digest.h"
#include "fileio.h"
#include "estimate.h"
#include "qdef.h"
#include "qjson.h"
#include "qval.h"
#include "report_html.h"
#include "textwidth.h"
#include "wavedata.h"

#define MAX_VARS 8
#define SUPPRESS_BELOW 10
#define LOW_BASE_BELOW 30
#define LEVEL 0.95

/* The reduced responses: one row per eligible response. */
struct sample {
    size_t n, cap;
    size_t n_ind;
    signed char *ind; /* n * n_ind */
    double *score;
    size_t n_cols;
    int *cols[MAX_VARS]; /* category (option index) per response, -1 when unanswered */
    int col_q[MAX_VARS]; /* the question of each column */
    size_t n_total, n_screened;
    /* The composition: counts per option (the last slot: unanswered) of the questions the
     * report discloses, tallied while reading, so nothing is kept per response for it. */
    size_t n_tally;
    int tally_q[MAX_VARS];
    size_t *tally[MAX_VARS]; /* n_options + 1 each */
};

static int sample_col(struct sample *s, int q)
{
    for (size_t c = 0; c < s->n_cols; c++) {
        if (s->col_q[c] == q) {
            return (int)c;
        }
    }
    if (s->n_cols == MAX_VARS) {
        return -1;
    }
    s->col_q[s->n_cols] = q;
    return (int)s->n_cols++;
}

static bool sample_grow(struct sample *s)
{
    if (s->n < s->cap) {
        return true;
    }
    size_t cap = s->cap ? s->cap * 2 : 1024;
    signed char *ind = realloc(s->ind, cap * (s->n_ind ? s->n_ind : 1));
    if (ind == NULL) {
        return false;
    }
    s->ind = ind;
    double *score = realloc(s->score, cap * sizeof *score);
    if (score == NULL) {
        return false;
    }
    s->score = score;
    for (size_t c = 0; c < s->n_cols; c++) {
        int *col = realloc(s->cols[c], cap * sizeof *col);
        if (col == NULL) {
            return false;
        }
        s->cols[c] = col;
    }
    s->cap = cap;
    return true;
}

static void sample_free(struct sample *s)
{
    free(s->ind);
    free(s->score);
    for (size_t c = 0; c < s->n_cols; c++) {
        free(s->cols[c]);
    }
    for (size_t t = 0; t < s->n_tally; t++) {
        free(s->tally[t]);
    }
}

/* ---- reading the responses ---------------------------------------------------------------- */

/* Stream the responses through qval_evaluate into s, hashing what was read. */
static bool read_responses(PGconn *conn, const char *wave, const struct qdef *def, struct sample *s,
                           char responses_sha256[DIGEST_SHA256_HEX_BYTES])
{
    const char *params[1] = {wave};
    bool ok = false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    double *pillars = calloc(def->n_pillars ? def->n_pillars : 1, sizeof *pillars);
    if (md == NULL || pillars == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        cli_error("out of memory");
        goto out;
    }
    if (!db_command(conn, "could not open a cursor over the responses",
                    "DECLARE responses NO SCROLL CURSOR FOR SELECT id, screened_out, answers::text "
                    "FROM survey.responses WHERE wave_id = $1 ORDER BY id",
                    1, params)) {
        goto out;
    }
    struct qjson_limits limits = {16u << 20, 64, 100000, 16u << 20};
    for (;;) {
        PGresult *res = db_exec(conn, "FETCH FORWARD 10000 FROM responses", 0, NULL);
        if (!db_ok(res)) {
            db_report(conn, res, "could not read the responses");
            goto out;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            const char *id = PQgetvalue(res, r, 0);
            bool screened = PQgetvalue(res, r, 1)[0] == 't';
            const char *text = PQgetvalue(res, r, 2);
            size_t len = (size_t)PQgetlength(res, r, 2);
            EVP_DigestUpdate(md, id, strlen(id));
            EVP_DigestUpdate(md, screened ? "\tt\t" : "\tf\t", 3);
            EVP_DigestUpdate(md, text, len);
            EVP_DigestUpdate(md, "\n", 1);
            s->n_total++;
            if (screened) {
                s->n_screened++;
                continue;
            }
            enum qjson_error err;
            cJSON *answers = qjson_parse(text, len, &limits, &err, NULL);
            if (answers == NULL || !sample_grow(s)) {
                cli_error("could not read response %s: %s", id,
                          answers == NULL ? qjson_strerror(err) : "out of memory");
                cJSON_Delete(answers);
                PQclear(res);
                goto out;
            }
            size_t i = s->n++;
            qval_evaluate(def, answers, s->ind + i * s->n_ind, pillars, &s->score[i]);
            for (size_t c = 0; c < s->n_cols; c++) {
                const struct qdef_question *q = &def->questions[s->col_q[c]];
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(answers, q->id);
                s->cols[c][i] =
                    cJSON_IsString(a) ? qdef_find_option(def, s->col_q[c], a->valuestring) : -1;
            }
            for (size_t t = 0; t < s->n_tally; t++) {
                const struct qdef_question *q = &def->questions[s->tally_q[t]];
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(answers, q->id);
                int o = cJSON_IsString(a) ? qdef_find_option(def, s->tally_q[t], a->valuestring)
                                          : -1;
                s->tally[t][o >= 0 ? (size_t)o : q->n_options]++;
            }
            cJSON_Delete(answers);
        }
        PQclear(res);
        if (rows == 0) {
            break;
        }
    }
    unsigned char digest[DIGEST_SHA256_BYTES];
    unsigned int dlen = 0;
    if (EVP_DigestFinal_ex(md, digest, &dlen) != 1) {
        cli_error("could not hash the responses");
        goto out;
    }
    digest_hex(digest, responses_sha256);
    ok = true;
out:
    EVP_MD_CTX_free(md);
    free(pillars);
    return ok;
}

/* ---- estimates -------------------------------------------------------------------------- */

static cJSON *text_json(const struct qdef *def, const struct qdef_text *t)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t l = 0; o != NULL && l < def->n_languages; l++) {
        cJSON_AddStringToObject(o, def->languages[l], qdef_text_get(def, t, (int)l));
    }
    return o;
}

/* Add the estimate's fields, or nulls when the base is too small to publish. */
static void add_estimate(cJSON *o, const struct estimate *e, size_t n, bool valid)
{
    bool suppressed = !valid || n < SUPPRESS_BELOW;
    static const char *const keys[] = {"estimate", "ci_low", "ci_high", "se", "n_eff", "deff"};
    const double values[] = {e->estimate, e->ci_low, e->ci_high, e->se, e->n_eff, e->deff};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (suppressed || !isfinite(values[k])) {
            cJSON_AddNullToObject(o, keys[k]);
        } else {
            cJSON_AddNumberToObject(o, keys[k], values[k]);
        }
    }
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddBoolToObject(o, "suppressed", suppressed);
    cJSON_AddBoolToObject(o, "low_base", !suppressed && n < LOW_BASE_BELOW);
}

struct calc {
    const struct qdef *def;
    const struct sample *s;
    const double *w; /* NULL: unweighted */
    const struct est_design *design;
    double *y;  /* scratch, s->n */
    bool *base; /* scratch, s->n */
};

/* One estimate over the domain (col, cat) (col < 0: everyone) of indicator k, or of the
 * composite when k < 0. */
static void estimate_domain(struct calc *c, int k, int col, int cat, cJSON *out)
{
    const struct sample *s = c->s;
    size_t n = 0, x = 0;
    for (size_t i = 0; i < s->n; i++) {
        bool in_domain = col < 0 || s->cols[col][i] == cat;
        if (k >= 0) {
            signed char v = s->ind[i * s->n_ind + (size_t)k];
            c->base[i] = in_domain && v != QVAL_NOT_IN_BASE;
            c->y[i] = v == QVAL_TRUE;
        } else {
            c->base[i] = in_domain && !isnan(s->score[i]);
            c->y[i] = c->base[i] ? s->score[i] : 0;
        }
        n += c->base[i];
        x += c->base[i] && c->y[i] != 0;
    }
    struct estimate e = {NAN, NAN, NAN, NAN, 0, NAN, NAN};
    bool valid = false;
    if (c->w != NULL) {
        valid = est_weighted(c->design, c->w, c->y, c->base, k >= 0, LEVEL, &e) == 0;
    } else if (k >= 0) {
        valid = est_wilson(x, n, LEVEL, &e) == 0;
    } else {
        valid = est_mean(c->y, c->base, s->n, LEVEL, &e) == 0;
    }
    add_estimate(out, &e, n, valid);
}

/* The estimate overall, then by every --by variable's categories. */
static cJSON *estimate_all(struct calc *c, int k, const int *by_cols, size_t n_by, cJSON *o)
{
    if (o == NULL) {
        return NULL;
    }
    estimate_domain(c, k, -1, 0, o);
    if (n_by == 0) {
        return o;
    }
    cJSON *by = cJSON_AddObjectToObject(o, "by");
    for (size_t b = 0; by != NULL && b < n_by; b++) {
        int q = c->s->col_q[by_cols[b]];
        const struct qdef_question *question = &c->def->questions[q];
        cJSON *groups = cJSON_AddArrayToObject(by, question->id);
        for (size_t opt = 0; groups != NULL && opt < question->n_options; opt++) {
            cJSON *g = cJSON_CreateObject();
            if (g == NULL) {
                break;
            }
            cJSON_AddStringToObject(g, "code", question->options[opt].code);
            cJSON_AddItemToObject(g, "label", text_json(c->def, &question->options[opt].label));
            estimate_domain(c, k, by_cols[b], (int)opt, g);
            cJSON_AddItemToArray(groups, g);
        }
    }
    return o;
}

/* ---- what the report discloses ---------------------------------------------------------- */

/* How the estimates were weighted: the method, the raking variables, and Kish's effective
 * sample size of the weights, n_eff = (sum w)^2 / sum w^2, with deff = n / n_eff. */
static void add_weighting(cJSON *doc, const struct qdef *def, const struct sample *s,
                          const double *w, const int *rake_cols, size_t n_rake, int iterations)
{
    cJSON *o = cJSON_AddObjectToObject(doc, "weighting");
    if (o == NULL) {
        return;
    }
    cJSON_AddStringToObject(o, "method", w != NULL ? "rake" : "none");
    if (w == NULL) {
        return;
    }
    cJSON *vars = cJSON_AddArrayToObject(o, "variables");
    for (size_t r = 0; vars != NULL && r < n_rake; r++) {
        cJSON_AddItemToArray(vars, cJSON_CreateString(def->questions[s->col_q[rake_cols[r]]].id));
    }
    cJSON_AddNumberToObject(o, "tolerance", 1e-12);
    cJSON_AddNumberToObject(o, "iterations", iterations);
    double sw = 0, sw2 = 0, lo = INFINITY, hi = 0;
    for (size_t i = 0; i < s->n; i++) {
        sw += w[i];
        sw2 += w[i] * w[i];
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    if (sw2 > 0) {
        double n_eff = sw * sw / sw2;
        cJSON_AddNumberToObject(o, "n_eff", n_eff);
        cJSON_AddNumberToObject(o, "deff", (double)s->n / n_eff);
        /* Weights as a multiple of the mean weight: the spread a reader can judge. */
        double mean = sw / (double)s->n;
        cJSON_AddNumberToObject(o, "weight_min", lo / mean);
        cJSON_AddNumberToObject(o, "weight_max", hi / mean);
    }
}

/* The eligible sample's counts per category of every tallied question (the quasi-identifiers,
 * the --by and the raking variables), in questionnaire order. */
static void add_composition(cJSON *doc, const struct qdef *def, const struct sample *s)
{
    cJSON *arr = cJSON_AddArrayToObject(doc, "composition");
    for (size_t t = 0; arr != NULL && t < s->n_tally; t++) {
        const struct qdef_question *question = &def->questions[s->tally_q[t]];
        cJSON *v = cJSON_CreateObject();
        if (v == NULL) {
            return;
        }
        cJSON_AddStringToObject(v, "question", question->id);
        cJSON_AddItemToObject(v, "label", text_json(def, &question->label));
        cJSON *groups = cJSON_AddArrayToObject(v, "groups");
        for (size_t o = 0; groups != NULL && o < question->n_options; o++) {
            cJSON *g = cJSON_CreateObject();
            if (g == NULL) {
                break;
            }
            cJSON_AddStringToObject(g, "code", question->options[o].code);
            cJSON_AddItemToObject(g, "label", text_json(def, &question->options[o].label));
            cJSON_AddNumberToObject(g, "n", (double)s->tally[t][o]);
            cJSON_AddItemToArray(groups, g);
        }
        cJSON_AddNumberToObject(v, "n_unanswered", (double)s->tally[t][question->n_options]);
        cJSON_AddItemToArray(arr, v);
    }
}

/* The wording of every question an indicator or the composite uses, with its options, as the
 * respondents saw it: a reader must be able to tell what exactly was asked. */
static void add_questions(cJSON *doc, const struct qdef *def)
{
    bool *used = calloc(def->n_questions ? def->n_questions : 1, sizeof *used);
    cJSON *arr = cJSON_AddArrayToObject(doc, "questions");
    if (used == NULL || arr == NULL) {
        free(used);
        return;
    }
    for (size_t k = 0; k < def->n_indicators; k++) {
        for (size_t j = 0; j < def->indicators[k].n_questions; j++) {
            used[def->indicators[k].questions[j]] = true;
        }
    }
    for (size_t p = 0; def->has_composite && p < def->n_pillars; p++) {
        for (size_t j = 0; j < def->pillars[p].n_items; j++) {
            used[def->pillars[p].items[j].question] = true;
        }
    }
    for (size_t q = 0; q < def->n_questions; q++) {
        if (!used[q]) {
            continue;
        }
        const struct qdef_question *question = &def->questions[q];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL) {
            break;
        }
        cJSON_AddStringToObject(o, "id", question->id);
        cJSON_AddStringToObject(o, "type", qdef_type_name(question->type));
        cJSON_AddItemToObject(o, "text", text_json(def, &question->label));
        cJSON *opts = cJSON_AddArrayToObject(o, "options");
        for (size_t i = 0; opts != NULL && i < question->n_options; i++) {
            cJSON *opt = cJSON_CreateObject();
            if (opt == NULL) {
                break;
            }
            cJSON_AddStringToObject(opt, "code", question->options[i].code);
            cJSON_AddItemToObject(opt, "label", text_json(def, &question->options[i].label));
            cJSON_AddItemToArray(opts, opt);
        }
        cJSON_AddItemToArray(arr, o);
    }
    free(used);
}

/* ---- rendering ---------------------------------------------------------------------------- */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *label_in(const cJSON *o, const char *lang)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "label");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(l, lang);
    return cJSON_IsString(t) ? t->valuestring : "";
}

/* The questionnaire's languages, as the document lists them. */
static bool doc_has_language(const cJSON *doc, const char *lang)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(doc, "questionnaire");
    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(q, "languages");
    for (const cJSON *l = langs ? langs->child : NULL; l != NULL; l = l->next) {
        if (cJSON_IsString(l) && strcmp(l->valuestring, lang) == 0) {
            return true;
        }
    }
    return false;
}

static void print_padded(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int w = textwidth(s); w < width; w++) {
        fputc(' ', out);
    }
}

static void table_row(FILE *out, const char *label, const cJSON *e, bool percent, int width)
{
    print_padded(out, label, width);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "suppressed"))) {
        fprintf(out, "  %8s  %-17s  n=%.0f\n", "-", "(suppressed)", num(e, "n"));
        return;
    }
    double k = percent ? 100 : 1;
    fprintf(out, "  %7.1f%s  [%6.1f, %6.1f]  n=%.0f%s\n", num(e, "estimate") * k,
            percent ? "%" : " ", num(e, "ci_low") * k, num(e, "ci_high") * k, num(e, "n"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "low_base")) ? "  (low base)" : "");
}

/* An estimate's row, then its --by groups' rows, indented. */
static void table_item(FILE *out, const cJSON *item, const char *lang, bool percent, int width)
{
    table_row(out, label_in(item, lang), item, percent, width);
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(item, "by");
    for (const cJSON *v = by ? by->child : NULL; v != NULL; v = v->next) {
        for (const cJSON *g = v->child; g != NULL; g = g->next) {
            char label[256];
            snprintf(label, sizeof label, "  %s", label_in(g, lang));
            table_row(out, label, g, percent, width);
        }
    }
}

static void render_table(FILE *out, const cJSON *doc, const char *lang)
{
    const cJSON *inds = cJSON_GetObjectItemCaseSensitive(doc, "indicators");
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(doc, "composite");
    int width = 20;
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        int w = textwidth(label_in(i, lang));
        width = w > width ? w : width;
    }
    if (width > 60) {
        width = 60;
    }
    const cJSON *wave = cJSON_GetObjectItemCaseSensitive(doc, "wave");
    const cJSON *weights = cJSON_GetObjectItemCaseSensitive(doc, "weights");
    fprintf(out, "%s: n=%.0f (screened out %.0f), weights %s, 95%% intervals%s\n\n",
            cJSON_IsString(wave) ? wave->valuestring : "", num(doc, "n"),
            num(doc, "n_screened_out"), cJSON_IsString(weights) ? weights->valuestring : "",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "provisional"))
                ? " (PROVISIONAL: the wave is still open)"
                : "");
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        table_item(out, i, lang, true, width);
    }
    if (comp != NULL) {
        fputc('\n', out);
        table_item(out, comp, lang, false, width);
    }
}

static void csv_row(FILE *out, const char *id, const char *label, const char *var,
                    const char *group, const cJSON *e)
{
    csv_field(out, id);
    fputc(',', out);
    csv_field(out, label);
    fputc(',', out);
    csv_field(out, var);
    fputc(',', out);
    csv_field(out, group);
    static const char *const keys[] = {"estimate", "ci_low", "ci_high", "se", "n", "n_eff", "deff"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        double v = num(e, keys[k]);
        if (isnan(v)) {
            fputs(",", out);
        } else {
            fprintf(out, ",%.10g", v);
        }
    }
    fprintf(out, ",%s,%s\r\n",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "suppressed")) ? "true" : "false",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "low_base")) ? "true" : "false");
}

static void csv_item(FILE *out, const cJSON *item, const char *lang)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    const char *ids = cJSON_IsString(id) ? id->valuestring : "";
    csv_row(out, ids, label_in(item, lang), "", "", item);
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(item, "by");
    for (const cJSON *v = by ? by->child : NULL; v != NULL; v = v->next) {
        for (const cJSON *g = v->child; g != NULL; g = g->next) {
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(g, "code");
            csv_row(out, ids, label_in(item, lang), v->string,
                    cJSON_IsString(code) ? code->valuestring : "", g);
        }
    }
}

static void render_csv(FILE *out, const cJSON *doc, const char *lang)
{
    fputs("id,label,by,group,estimate,ci_low,ci_high,se,n,n_eff,deff,suppressed,low_base\r\n", out);
    const cJSON *inds = cJSON_GetObjectItemCaseSensitive(doc, "indicators");
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        csv_item(out, i, lang);
    }
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(doc, "composite");
    if (comp != NULL) {
        csv_item(out, comp, lang);
    }
}

/* Write the stored results in the chosen format to path (atomically: a temporary name in the
 * same directory, renamed at the end) or to stdout. */
static bool render(const char *text, const char *format, const char *lang, const char *path,
                   const char *run_id)
{
    cJSON *doc = cJSON_Parse(text);
    if (doc == NULL) {
        cli_error("the stored results are not valid JSON");
        return false;
    }
    if (lang == NULL) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(doc, "questionnaire");
        const cJSON *dl = cJSON_GetObjectItemCaseSensitive(q, "default_language");
        lang = cJSON_IsString(dl) ? dl->valuestring : "en";
    } else if (!doc_has_language(doc, lang)) {
        cli_error("the questionnaire has no \"%s\" labels (--lang)", lang);
        cJSON_Delete(doc);
        return false;
    }
    char tmp[4096];
    FILE *out = stdout;
    if (path != NULL) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
        out = fopen(tmp, "wx");
        if (out == NULL) {
            cli_error("could not create \"%s\": %s", tmp, strerror(errno));
            cJSON_Delete(doc);
            return false;
        }
    }
    if (strcmp(format, "json") == 0) {
        fputs(text, out);
        fputc('\n', out);
    } else if (strcmp(format, "csv") == 0) {
        render_csv(out, doc, lang);
    } else if (strcmp(format, "html") == 0) {
        report_html(out, doc, lang, run_id);
    } else {
        render_table(out, doc, lang);
    }
    cJSON_Delete(doc);
    if (path == NULL) {
        return true;
    }
    bool ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = fclose(out) == 0 && ok;
    if (!ok) {
        cli_error("could not write \"%s\": %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    if (!fileio_rename(tmp, path)) { /* it says why */
        unlink(tmp);
        return false;
    }
    return true;
}

/* ---- the command ------------------------------------------------------------------------ */

/* The margins' variables as sample columns with their targets per option. */
static bool setup_raking(const struct qdef *def, const char *margins, struct sample *s,
                         int *rake_cols, size_t *n_rake, double **targets)
{
    cJSON *m = margins ? cJSON_Parse(margins) : NULL;
    if (!cJSON_IsObject(m)) {
        cli_error("the wave has no margins to rake to (wave create --margins)");
        cJSON_Delete(m);
        return false;
    }
    *n_rake = 0;
    for (const cJSON *v = m->child; v != NULL && *n_rake < MAX_VARS; v = v->next) {
        int q = qdef_find_question(def, v->string);
        int col = q >= 0 ? sample_col(s, q) : -1;
        if (col < 0) {
            cli_error("the margins name \"%s\", which is not a question here", v->string);
            cJSON_Delete(m);
            return false;
        }
        const struct qdef_question *question = &def->questions[q];
        double *t = calloc(question->n_options, sizeof *t);
        if (t == NULL) {
            cJSON_Delete(m);
            return false;
        }
        for (size_t o = 0; o < question->n_options; o++) {
            const cJSON *share = cJSON_GetObjectItemCaseSensitive(v, question->options[o].code);
            t[o] = cJSON_IsNumber(share) ? share->valuedouble : 0;
        }
        targets[*n_rake] = t;
        rake_cols[(*n_rake)++] = col;
    }
    cJSON_Delete(m);
    return true;
}

int index_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum { O_WEIGHTS, O_BY, O_FORMAT, O_OUT, O_PROVISIONAL, O_LANG, O_RUN };
    struct cli_opt opts[] = {{"weights", true, NULL},      {"by", true, NULL},
                             {"format", true, NULL},       {"out", true, NULL},
                             {"provisional", false, NULL}, {"lang", true, NULL},
                             {"run", true, NULL}};
    const char *wave = NULL;
    enum cli_parse_result parsed =
        cli_parse(ctx, cmd, argc, argv, opts, sizeof opts / sizeof opts[0], &wave);
    if (parsed != CLI_PARSED) {
        return cli_parse_status(parsed);
    }
    if (wave == NULL) {
        return cli_usage_error(cmd, "missing WAVE");
    }
    const char *weights = opts[O_WEIGHTS].value ? opts[O_WEIGHTS].value : "none";
    const char *format = opts[O_FORMAT].value ? opts[O_FORMAT].value : "table";
    const char *lang = opts[O_LANG].value; /* NULL: the questionnaire's default language */
    if (strcmp(weights, "none") != 0 && strcmp(weights, "rake") != 0) {
        return cli_usage_error(cmd, "--weights must be none or rake");
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "csv") != 0 && strcmp(format, "html") != 0) {
        return cli_usage_error(cmd, "--format must be table, json, csv or html");
    }

    int status = CLI_EXIT_FAIL;
    PGconn *conn = db_connect(ctx);
    if (conn == NULL) {
        return CLI_EXIT_FAIL;
    }
    if (opts[O_RUN].value != NULL &&
        (opts[O_WEIGHTS].value || opts[O_BY].value || opts[O_PROVISIONAL].value)) {
        PQfinish(conn);
        return cli_usage_error(cmd, "--run prints a recorded run as it was computed: --weights, "
                                    "--by and --provisional do not apply");
    }
    if (opts[O_RUN].value != NULL) {
        const char *params[2] = {opts[O_RUN].value, wave};
        PGresult *res = db_exec(conn,
                                "SELECT results::text FROM survey.index_runs "
                                "WHERE id::text = $1 AND wave_id = $2",
                                2, params);
        if (!db_ok(res)) {
            db_report(conn, res, "could not read the run");
        } else if (PQntuples(res) != 1) {
            cli_error("wave \"%s\" has no index run %s", wave, opts[O_RUN].value);
            PQclear(res);
        } else {
            status = render(PQgetvalue(res, 0, 0), format, lang, opts[O_OUT].value,
                            opts[O_RUN].value)
                         ? CLI_EXIT_OK
                         : CLI_EXIT_FAIL;
            PQclear(res);
        }
        PQfinish(conn);
        return status;
    }

    struct wave_info info = {0};
    struct sample s = {0};
    struct qdef *def = NULL;
    double *w = NULL, *targets[MAX_VARS] = {0};
    int rake_cols[MAX_VARS], by_cols[MAX_VARS];
    size_t n_rake = 0, n_by = 0;
    cJSON *doc = NULL;
    char *results = NULL;
    bool provisional = false;
    char responses_sha[DIGEST_SHA256_HEX_BYTES];

    /* On a standby, only once the wave's close has been replayed there (docs/ha.md). */
    bool standby = db_is_standby(conn);
    if (standby && !db_require_replayed_close(conn, wave)) {
        goto out;
    }
    if (!db_command(conn, "could not start a snapshot",
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) ||
        !wave_read(conn, wave, &info) ||
        !wave_require_closed(wave, &info, opts[O_PROVISIONAL].value != NULL, "figures",
                             &provisional)) {
        goto out;
    }
    def = wave_compile(&info);
    if (def == NULL) {
        goto out;
    }
    s.n_ind = def->n_indicators;
    if (strcmp(weights, "rake") == 0 &&
        !setup_raking(def, info.margins, &s, rake_cols, &n_rake, targets)) {
        goto out;
    }
    if (opts[O_BY].value != NULL) {
        char *list = strdup(opts[O_BY].value), *save = NULL;
        for (char *v = list ? strtok_r(list, ",", &save) : NULL; v != NULL;
             v = strtok_r(NULL, ",", &save)) {
            int q = qdef_find_question(def, v);
            int col = q >= 0 && def->questions[q].type == QDEF_SINGLE ? sample_col(&s, q) : -1;
            if (col < 0 || n_by == MAX_VARS) {
                cli_error("--by: \"%s\" is not a single-choice question of this questionnaire", v);
                free(list);
                goto out;
            }
            for (size_t b = 0; b < n_by; b++) {
                if (by_cols[b] == col) {
                    cli_error("--by: \"%s\" is named twice", v);
                    free(list);
                    goto out;
                }
            }
            by_cols[n_by++] = col;
        }
        free(list);
    }
    /* The sample's composition by the quasi-identifying single-choice questions (industry,
     * size, region...) and the --by and raking variables is disclosed in every report. */
    for (size_t q = 0; q < def->n_questions && s.n_tally < MAX_VARS; q++) {
        bool column = false;
        for (size_t c = 0; c < s.n_cols; c++) {
            column = column || s.col_q[c] == (int)q;
        }
        if (def->questions[q].type == QDEF_SINGLE &&
            (def->questions[q].quasi_identifier || column)) {
            s.tally[s.n_tally] = calloc(def->questions[q].n_options + 1, sizeof(size_t));
            if (s.tally[s.n_tally] == NULL) {
                cli_error("out of memory");
                goto out;
            }
            s.tally_q[s.n_tally++] = (int)q;
        }
    }
    if (!read_responses(conn, wave, def, &s, responses_sha)) {
        goto out;
    }
    db_rollback(conn); /* read-only: nothing to keep */

    struct est_design design = {0};
    int rake_iterations = 0;
    const int *cat_cols[MAX_VARS];
    int n_cats[MAX_VARS];
    if (n_rake > 0) {
        for (size_t r = 0; r < n_rake; r++) {
            cat_cols[r] = s.cols[rake_cols[r]];
            n_cats[r] = (int)def->questions[s.col_q[rake_cols[r]]].n_options;
            for (size_t i = 0; i < s.n; i++) {
                if (s.cols[rake_cols[r]][i] < 0) {
                    cli_error("a response has no answer to the raking variable \"%s\"",
                              def->questions[s.col_q[rake_cols[r]]].id);
                    goto out;
                }
            }
        }
        design = (struct est_design){s.n, n_rake, cat_cols, n_cats};
        w = calloc(s.n ? s.n : 1, sizeof *w);
        int bad_var = -1, bad_cat = -1;
        int iters = w ? est_rake(&design, (const double *const *)targets, 1e-12, 10000, w, &bad_var,
                                 &bad_cat)
                      : -2;
        if (iters == -1) {
            const struct qdef_question *q = &def->questions[s.col_q[rake_cols[bad_var]]];
            cli_error("cannot rake: margin category %s=%s has no respondent", q->id,
                      q->options[bad_cat].code);
            goto out;
        }
        if (iters < 0) {
            cli_error("raking did not converge to the margins");
            goto out;
        }
        rake_iterations = iters;
    }

    struct calc calc = {def,
                        &s,
                        w,
                        &design,
                        calloc(s.n ? s.n : 1, sizeof(double)),
                        calloc(s.n ? s.n : 1, sizeof(bool))};
    doc = cJSON_CreateObject();
    if (calc.y == NULL || calc.base == NULL || doc == NULL) {
        free(calc.y);
        free(calc.base);
        cli_error("out of memory");
        goto out;
    }
    cJSON_AddStringToObject(doc, "wave", wave);
    cJSON *qinfo = cJSON_AddObjectToObject(doc, "questionnaire");
    cJSON_AddStringToObject(qinfo, "id", def->id);
    cJSON_AddStringToObject(qinfo, "version", def->version);
    cJSON_AddStringToObject(qinfo, "sha256", info.sha256);
    cJSON_AddStringToObject(qinfo, "default_language", def->languages[def->default_language]);
    cJSON *langs = cJSON_AddArrayToObject(qinfo, "languages");
    for (size_t l = 0; langs != NULL && l < def->n_languages; l++) {
        cJSON_AddItemToArray(langs, cJSON_CreateString(def->languages[l]));
    }
    cJSON_AddStringToObject(doc, "responses_sha256", responses_sha);
    cJSON_AddBoolToObject(doc, "provisional", provisional);
    cJSON_AddStringToObject(doc, "weights", weights);
    cJSON_AddNumberToObject(doc, "level", LEVEL);
    cJSON_AddNumberToObject(doc, "n", (double)s.n);
    cJSON_AddNumberToObject(doc, "n_screened_out", (double)s.n_screened);
    cJSON_AddNumberToObject(doc, "n_total", (double)s.n_total);
    cJSON *field = cJSON_AddObjectToObject(doc, "field");
    cJSON_AddStringToObject(field, "opened_at", info.opened_at);
    cJSON_AddStringToObject(field, "closed_at", info.closed_at);
    cJSON_AddStringToObject(doc, "access", info.access);
    cJSON *about = info.about ? cJSON_Parse(info.about) : NULL;
    cJSON_AddItemToObject(doc, "about", about ? about : cJSON_CreateNull());
    add_weighting(doc, def, &s, w, rake_cols, n_rake, rake_iterations);
    add_composition(doc, def, &s);
    add_questions(doc, def);
    cJSON *inds = cJSON_AddArrayToObject(doc, "indicators");
    for (size_t k = 0; k < def->n_indicators; k++) {
        /* The identifying fields first, for readers of the JSON. */
        cJSON *e = cJSON_CreateObject();
        if (e == NULL) {
            break;
        }
        cJSON_AddItemToObject(e, "id", cJSON_CreateString(def->indicators[k].id));
        cJSON_AddItemToObject(e, "label", text_json(def, &def->indicators[k].label));
        cJSON_AddBoolToObject(e, "percent_of_respondents", def->indicators[k].multi_select);
        cJSON *qs = cJSON_AddArrayToObject(e, "questions");
        for (size_t j = 0; qs != NULL && j < def->indicators[k].n_questions; j++) {
            cJSON_AddItemToArray(
                qs, cJSON_CreateString(def->questions[def->indicators[k].questions[j]].id));
        }
        cJSON_AddItemToArray(inds, estimate_all(&calc, (int)k, by_cols, n_by, e));
    }
    if (def->has_composite) {
        cJSON *e = cJSON_CreateObject();
        if (e != NULL) {
            cJSON_AddStringToObject(e, "id", def->composite_id);
            cJSON_AddItemToObject(e, "label", text_json(def, &def->composite_label));
            cJSON_AddNumberToObject(e, "min", def->composite_min);
            cJSON_AddNumberToObject(e, "max", def->composite_max);
            cJSON *pillars = cJSON_AddArrayToObject(e, "pillars");
            for (size_t p = 0; pillars != NULL && p < def->n_pillars; p++) {
                cJSON *po = cJSON_CreateObject();
                if (po == NULL) {
                    break;
                }
                cJSON_AddStringToObject(po, "id", def->pillars[p].id);
                cJSON_AddItemToObject(po, "label", text_json(def, &def->pillars[p].label));
                cJSON *qs = cJSON_AddArrayToObject(po, "questions");
                for (size_t j = 0; qs != NULL && j < def->pillars[p].n_items; j++) {
                    int q = def->pillars[p].items[j].question;
                    cJSON_AddItemToArray(qs, cJSON_CreateString(def->questions[q].id));
                }
                cJSON_AddItemToArray(pillars, po);
            }
            cJSON_AddItemToObject(doc, "composite", estimate_all(&calc, -1, by_cols, n_by, e));
        }
    }
    free(calc.y);
    free(calc.base);
    results = cJSON_PrintUnformatted(doc);
    if (results == NULL) {
        cli_error("out of memory");
        goto out;
    }

    if (standby) {
        /* Nothing can be written here; the document is the one the primary would record. */
        fprintf(stderr, "index run not recorded: this server is a standby (the same command on "
                        "the primary records it)\n");
        status = render(results, format, lang, opts[O_OUT].value, NULL) ? CLI_EXIT_OK
                                                                         : CLI_EXIT_FAIL;
        goto out;
    }
    /* Record the run; render what was stored. */
    char options[512];
    snprintf(options, sizeof options, "{\"weights\": \"%s\", \"by\": \"%s\", \"level\": %g}",
             weights, opts[O_BY].value ? opts[O_BY].value : "", LEVEL);
    const char *params[6] = {
        wave, options, info.sha256, responses_sha, provisional ? "true" : "false", results};
    PGresult *res = db_exec(conn,
                            "INSERT INTO survey.index_runs (wave_id, options, definition_sha256, "
                            "responses_sha256, provisional, results) "
                            "VALUES ($1, $2::jsonb, decode($3, 'hex'), decode($4, 'hex'), $5, "
                            "$6::json) RETURNING id, results::text",
                            6, params);
    if (!db_ok(res)) {
        db_report(conn, res, "could not record the index run");
        goto out;
    }
    fprintf(stderr, "index run %s recorded (survey-admin index %s --run %s prints it again)\n",
            PQgetvalue(res, 0, 0), wave, PQgetvalue(res, 0, 0));
    status = render(PQgetvalue(res, 0, 1), format, lang, opts[O_OUT].value, PQgetvalue(res, 0, 0))
                 ? CLI_EXIT_OK
                 : CLI_EXIT_FAIL;
    PQclear(res);
out:
    cJSON_Delete(doc);
    free(results);
    free(w);
    for (size_t r = 0; r < MAX_VARS; r++) {
        free(targets[r]);
    }
    sample_free(&s);
    qdef_free(def);
    wave_info_free(&info);
    PQfinish(conn);
    return status;
}
