/*
 * The HTML report. One file that a browser shows without any network: inline CSS, inline SVG,
 * no script, and a Content-Security-Policy that would block anything else. Everything printed
 * comes from the recorded results document (index.c builds it), escaped; the fixed texts are in
 * Korean or English. The order follows what a reader needs: the headline figures, every
 * indicator with its interval, the composite by group, then the methodology that lets anyone
 * judge the figures (AAPOR's disclosure items: sponsor, who did it, population, how the sample
 * was recruited, field dates, sizes, weighting, precision, question wording).
 */
#include "report_html.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "about.h"
#include "textwidth.h"

/* Chart geometry (SVG user units; the SVG scales to the page width). */
#define CH_WIDTH 800
#define CH_LABEL_RIGHT 288 /* labels end here */
#define CH_BAR_LEFT 300
#define CH_BAR_WIDTH 330
#define CH_VALUE_LEFT 642
#define CH_ROW 36
#define CH_TOP 26
#define CH_LABEL_UNITS 44 /* label width in half-width characters per line */

struct rep {
    FILE *out;
    const cJSON *doc;
    const char *lang;
    bool ko; /* fixed texts in Korean */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *tr(const struct rep *r, const char *ko, const char *en)
{
    return r->ko ? ko : en;
}

static void esc(FILE *out, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* A text that is a string, or {language: string}: the reader's language, else English, else
 * the first one given. */
static const char *text_in(const struct rep *r, const cJSON *t)
{
    if (cJSON_IsString(t)) {
        return t->valuestring;
    }
    const cJSON *v = get(t, r->lang);
    if (!cJSON_IsString(v)) {
        v = get(t, "en");
    }
    if (!cJSON_IsString(v) && cJSON_IsObject(t)) {
        v = t->child;
    }
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *label(const struct rep *r, const cJSON *o)
{
    return text_in(r, get(o, "label"));
}

static bool flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(get(o, key));
}

/* An estimate as the report prints it: percentages with no decimals in charts and one in
 * tables; the composite on its own scale with one decimal. */
static void fmt_value(char *buf, size_t size, double v, bool percent, int decimals)
{
    if (isnan(v)) {
        snprintf(buf, size, "—");
    } else if (percent) {
        snprintf(buf, size, "%.*f%%", decimals, v * 100);
    } else {
        snprintf(buf, size, "%.1f", v);
    }
}

static void fmt_interval(char *buf, size_t size, const cJSON *e, bool percent, int decimals)
{
    double lo = num(e, "ci_low"), hi = num(e, "ci_high");
    if (isnan(lo) || isnan(hi)) {
        snprintf(buf, size, "—");
    } else if (percent) {
        snprintf(buf, size, "%.*f–%.*f", decimals, lo * 100, decimals, hi * 100);
    } else {
        snprintf(buf, size, "%.1f–%.1f", lo, hi);
    }
}

/*
 * Split s into at most two lines of max_units columns for an SVG label: the break goes at the
 * last space that fits, else where the line is full; what does not fit in two lines ends in
 * "…". Line i is s[start[i], end[i]).
 */
static int wrap2(const char *s, int max_units, size_t start[2], size_t end[2], bool *ellipsis)
{
    size_t len = strlen(s);
    size_t pos = 0;
    int lines = 0;
    *ellipsis = false;
    while (lines < 2 && pos < len) {
        while (pos < len && s[pos] == ' ') {
            pos++;
        }
        size_t i = pos, last_space = 0;
        int units = 0;
        bool full = false;
        while (i < len) {
            int bytes = 1;
            int u = textwidth_char((const unsigned char *)s + i, &bytes);
            if (units + u > max_units) {
                full = true;
                break;
            }
            if (s[i] == ' ') {
                last_space = i;
            }
            units += u;
            i += (size_t)bytes;
        }
        size_t stop = i;
        if (full && lines == 0 && last_space > pos) {
            stop = last_space;
        }
        start[lines] = pos;
        end[lines] = stop;
        lines++;
        pos = stop;
        if (full && lines == 2) {
            *ellipsis = true;
        }
    }
    return lines;
}

static void esc_n(FILE *out, const char *s, size_t n)
{
    char buf[1024];
    while (n > 0) {
        size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
        esc(out, buf);
        s += k;
        n -= k;
    }
}

/* ---- charts ----------------------------------------------------------------------------- */

struct bar {
    const char *label;
    const cJSON *e; /* estimate, ci_low, ci_high, n, suppressed, low_base */
    bool marked;    /* the label gets "*" (multiple answers) */
};

/* A horizontal bar chart of estimates on [lo, hi] with their 95% intervals as whiskers. */
static void chart(const struct rep *r, const char *id, const char *title, const struct bar *bars,
                  size_t n, bool percent, double lo, double hi)
{
    FILE *out = r->out;
    int height = CH_TOP + (int)n * CH_ROW + 8;
    fprintf(out,
            "<figure class=\"chart\"><svg id=\"%s\" role=\"img\" aria-labelledby=\"%s-t\" "
            "viewBox=\"0 0 %d %d\" width=\"100%%\" preserveAspectRatio=\"xMinYMin meet\" "
            "xmlns=\"http://www.w3.org/2000/svg\"><title id=\"%s-t\">",
            id, id, CH_WIDTH, height, id);
    esc(out, title);
    fputs("</title>\n", out);
    /* Grid: five ticks over the scale. */
    for (int t = 0; t <= 4; t++) {
        double x = CH_BAR_LEFT + CH_BAR_WIDTH * t / 4.0;
        double v = lo + (hi - lo) * t / 4.0;
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f%s</text>\n",
                x, CH_TOP - 6, x, height - 8, x, CH_TOP - 10, percent ? v * 100 : v,
                percent ? "%" : "");
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = bars[i].e;
        int y = CH_TOP + (int)i * CH_ROW;
        double mid = y + CH_ROW / 2.0;
        size_t start[2], end[2];
        bool ellipsis = false;
        int lines = wrap2(bars[i].label, CH_LABEL_UNITS, start, end, &ellipsis);
        fprintf(out, "<g class=\"row\"><text class=\"label\" x=\"%d\" y=\"%.1f\" "
                     "text-anchor=\"end\">",
                CH_LABEL_RIGHT, lines == 1 ? mid + 4 : mid - 3);
        for (int l = 0; l < lines; l++) {
            fprintf(out, "<tspan x=\"%d\"%s>", CH_LABEL_RIGHT, l ? " dy=\"14\"" : "");
            esc_n(out, bars[i].label + start[l], end[l] - start[l]);
            if (l == lines - 1) {
                fputs(ellipsis ? "…" : "", out);
                fputs(bars[i].marked ? " *" : "", out);
            }
            fputs("</tspan>", out);
        }
        fputs("</text>", out);
        double v = num(e, "estimate"), cl = num(e, "ci_low"), ch = num(e, "ci_high");
        if (flag(e, "suppressed") || isnan(v)) {
            fprintf(out, "<text class=\"suppressed\" x=\"%d\" y=\"%.1f\">", CH_BAR_LEFT + 6,
                    mid + 4);
            if (r->ko) {
                fprintf(out, "공표 제외 (n=%.0f, 10 미만)", num(e, "n"));
            } else {
                fprintf(out, "suppressed (n=%.0f, under 10)", num(e, "n"));
            }
            fputs("</text></g>\n", out);
            continue;
        }
        double span = hi - lo;
        double xv = CH_BAR_LEFT + CH_BAR_WIDTH * (v - lo) / span;
        fprintf(out,
                "<rect class=\"bar%s\" x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"16\"/>",
                flag(e, "low_base") ? " low" : "", CH_BAR_LEFT, mid - 8,
                xv - CH_BAR_LEFT > 0 ? xv - CH_BAR_LEFT : 0);
        if (!isnan(cl) && !isnan(ch)) {
            double x1 = CH_BAR_LEFT + CH_BAR_WIDTH * (cl - lo) / span;
            double x2 = CH_BAR_LEFT + CH_BAR_WIDTH * (ch - lo) / span;
            fprintf(out,
                    "<g class=\"ci\"><line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>"
                    "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>"
                    "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/></g>",
                    x1, mid, x2, mid, x1, mid - 5, x1, mid + 5, x2, mid - 5, x2, mid + 5);
        }
        char value[32], ci[48];
        fmt_value(value, sizeof value, v, percent, 0);
        fmt_interval(ci, sizeof ci, e, percent, 0);
        fprintf(out,
                "<text class=\"value\" x=\"%d\" y=\"%.1f\">%s<tspan class=\"ci-text\"> "
                "(%s)</tspan>%s</text></g>\n",
                CH_VALUE_LEFT, mid + 4, value, ci, flag(e, "low_base") ? " †" : "");
    }
    fputs("</svg></figure>\n", out);
}

/* ---- sections --------------------------------------------------------------------------- */

static const char style[] =
    ":root{color-scheme:light;--ink:#1a202c;--muted:#4a5568;--bar:#2b6cb0;--low:#90b4dd;"
    "--line:#cbd5e0}"
    "body{margin:0;font:15px/1.55 system-ui,-apple-system,'Segoe UI','Noto Sans CJK KR',"
    "'Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif;color:var(--ink);"
    "background:#fff;word-break:keep-all;overflow-wrap:break-word}"
    "main{max-width:980px;margin:0 auto;padding:24px 20px 48px}"
    "h1{font-size:1.7em;line-height:1.25;margin:.2em 0}h2{font-size:1.25em;margin:2em 0 .6em;"
    "border-bottom:2px solid var(--ink);padding-bottom:.2em}h3{font-size:1.05em;margin:1.4em 0 .4em}"
    ".sub{color:var(--muted);margin:0}"
    ".provisional{background:#fff5d6;border:2px solid #b7791f;padding:.6em 1em;margin:1em 0;"
    "font-weight:600}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}"
    ".card{border:1px solid var(--line);border-radius:8px;padding:12px 14px}"
    ".card .big{font-size:2em;font-weight:700;line-height:1.1}"
    ".card .ci{color:var(--muted);font-size:.9em}.card .what{margin-top:.3em}"
    ".chart{margin:0 0 .5em;overflow-x:auto}.chart svg{min-width:600px}"
    "svg text{font-size:13px;fill:var(--ink)}"
    "svg .tick{font-size:11px;fill:var(--muted)}svg .grid{stroke:var(--line);stroke-width:1}"
    "svg .bar{fill:var(--bar)}svg .bar.low{fill:var(--low)}"
    "svg .ci line{stroke:var(--ink);stroke-width:1.6}svg .value{font-weight:600}"
    "svg .ci-text{font-weight:400;fill:var(--muted)}svg .suppressed{fill:var(--muted);"
    "font-style:italic}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0 1em;font-size:.92em}"
    "th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;"
    "vertical-align:top}td.num,th.num{text-align:right;white-space:nowrap}"
    "caption{text-align:left;font-weight:600;padding:.3em 0}"
    ".note{color:var(--muted);font-size:.9em}"
    "dl.method{display:grid;grid-template-columns:minmax(140px,220px) 1fr;gap:6px 16px}"
    "dl.method dt{font-weight:600}dl.method dd{margin:0}"
    "ol.questions li{margin-bottom:.6em}.code{font-family:ui-monospace,monospace;"
    "font-size:.85em;color:var(--muted)}"
    "footer{margin-top:3em;color:var(--muted);font-size:.85em}"
    "@media (max-width:600px){dl.method{grid-template-columns:1fr}}"
    "@media print{main{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}";

static void head(const struct rep *r, const char *title)
{
    FILE *out = r->out;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
            r->ko ? "ko" : "en");
    /* Nothing may be fetched: the report must read the same offline and in ten years. */
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"survey-admin index\">\n<title>",
          out);
    esc(out, title);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", style);
}

static const char *about_text(const struct rep *r, const char *key)
{
    const cJSON *about = get(r->doc, "about");
    const cJSON *v = cJSON_IsObject(about) ? get(about, key) : NULL;
    return v != NULL ? text_in(r, v) : NULL;
}

/* "2025-05-01" from "2025-05-01T09:00:00Z". */
static void date_of(char *buf, size_t size, const char *ts)
{
    snprintf(buf, size, "%.10s", ts);
}

static void header(const struct rep *r, const char *title)
{
    FILE *out = r->out;
    const cJSON *q = get(r->doc, "questionnaire");
    fputs("<header>\n<h1>", out);
    esc(out, title);
    fputs("</h1>\n<p class=\"sub\">", out);
    fputs(tr(r, "조사 회차 ", "Wave "), out);
    esc(out, str(r->doc, "wave"));
    fputs(" · ", out);
    fputs(tr(r, "설문지 ", "questionnaire "), out);
    esc(out, str(q, "id"));
    fputc(' ', out);
    esc(out, str(q, "version"));
    fprintf(out, " · n = %.0f · %s</p>\n", num(r->doc, "n"),
            strcmp(str(r->doc, "weights"), "rake") == 0
                ? tr(r, "레이킹 가중치 적용", "raked weights")
                : tr(r, "가중치 미적용", "unweighted"));
    if (flag(r->doc, "provisional")) {
        fprintf(out, "<p class=\"provisional\" role=\"note\">%s</p>\n",
                tr(r,
                   "잠정 결과: 조사가 아직 진행 중이며 수치는 마감 후 달라질 수 있습니다.",
                   "PROVISIONAL: the wave is still open; the figures will change before it "
                   "closes."));
    }
    fputs("</header>\n", out);
}

static void card(const struct rep *r, const char *big, const char *ci, const char *what)
{
    FILE *out = r->out;
    fputs("<div class=\"card\"><div class=\"big\">", out);
    esc(out, big);
    fputs("</div>", out);
    if (ci != NULL) {
        fputs("<div class=\"ci\">", out);
        esc(out, ci);
        fputs("</div>", out);
    }
    fputs("<div class=\"what\">", out);
    esc(out, what);
    fputs("</div></div>\n", out);
}

static void estimate_card(const struct rep *r, const cJSON *e, bool percent)
{
    char value[32], interval[48], ci[96];
    if (flag(e, "suppressed")) {
        card(r, "—", tr(r, "공표 제외 (응답 10 미만)", "suppressed (base under 10)"), label(r, e));
        return;
    }
    fmt_value(value, sizeof value, num(e, "estimate"), percent, 0);
    fmt_interval(interval, sizeof interval, e, percent, 0);
    snprintf(ci, sizeof ci, "%s %s%s", tr(r, "95% 구간", "95% interval"), interval,
             flag(e, "low_base") ? " †" : "");
    card(r, value, ci, label(r, e));
}

/* The composite and the first indicators, in the questionnaire's order. */
static void headline(const struct rep *r)
{
    FILE *out = r->out;
    fprintf(out, "<section id=\"headline\">\n<h2>%s</h2>\n<div class=\"cards\">\n",
            tr(r, "주요 결과", "Headline figures"));
    const cJSON *comp = get(r->doc, "composite");
    if (comp != NULL) {
        estimate_card(r, comp, false);
    }
    const cJSON *inds = get(r->doc, "indicators");
    int shown = 0;
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL && shown < 5; i = i->next) {
        estimate_card(r, i, true);
        shown++;
    }
    char n[32];
    snprintf(n, sizeof n, "%.0f", num(r->doc, "n"));
    card(r, n, NULL, tr(r, "유효 응답 (선별 제외 후)", "eligible responses (after screening)"));
    fputs("</div>\n</section>\n", out);
}

static void indicator_table(const struct rep *r, bool weighted)
{
    FILE *out = r->out;
    fprintf(out, "<table><caption>%s</caption>\n<thead><tr><th>%s</th><th class=\"num\">%s</th>"
                 "<th class=\"num\">%s</th><th class=\"num\">n</th>",
            tr(r, "지표별 추정치", "Estimates by indicator"), tr(r, "지표", "Indicator"),
            tr(r, "추정치", "Estimate"), tr(r, "95% 구간", "95% interval"));
    if (weighted) {
        fprintf(out, "<th class=\"num\">%s</th><th class=\"num\">%s</th>",
                tr(r, "유효 표본", "n eff."), tr(r, "설계 효과", "deff"));
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    const cJSON *inds = get(r->doc, "indicators");
    const cJSON *comp = get(r->doc, "composite");
    const cJSON *rows[2] = {inds ? inds->child : NULL, comp};
    for (int part = 0; part < 2; part++) {
        for (const cJSON *i = rows[part]; i != NULL; i = part == 0 ? i->next : NULL) {
            bool percent = part == 0;
            char value[32] = "—", interval[48] = "—";
            if (!flag(i, "suppressed")) {
                fmt_value(value, sizeof value, num(i, "estimate"), percent, 1);
                fmt_interval(interval, sizeof interval, i, percent, 1);
            }
            fputs("<tr><td>", out);
            esc(out, label(r, i));
            fputs(flag(i, "percent_of_respondents") ? " *" : "", out);
            fprintf(out, "</td><td class=\"num\">%s%s</td><td class=\"num\">%s</td>"
                         "<td class=\"num\">%.0f</td>",
                    value, flag(i, "low_base") ? " †" : "", interval, num(i, "n"));
            if (weighted) {
                double ne = num(i, "n_eff"), de = num(i, "deff");
                if (isnan(ne)) {
                    fputs("<td class=\"num\">—</td>", out);
                } else {
                    fprintf(out, "<td class=\"num\">%.1f</td>", ne);
                }
                if (isnan(de)) {
                    fputs("<td class=\"num\">—</td>", out);
                } else {
                    fprintf(out, "<td class=\"num\">%.2f</td>", de);
                }
            }
            fputs("</tr>\n", out);
        }
    }
    fputs("</tbody></table>\n", out);
}

static void legend(const struct rep *r)
{
    fprintf(r->out, "<p class=\"note\">%s</p>\n",
            tr(r,
               "막대는 추정치, 가로선은 95% 구간입니다. * 복수 응답 문항: 응답자 대비 비율이며 "
               "합계가 100%를 넘을 수 있습니다. † 응답 30 미만 (낮은 기저): 해석에 주의하십시오. "
               "응답 10 미만인 집단은 공표하지 않습니다.",
               "Bars are estimates; whiskers are 95% intervals. * Multiple answers allowed: "
               "% of respondents, so the figures can add up to more than 100%. † Base under 30 "
               "(low base): read with caution. Groups with a base under 10 are suppressed."));
}

static void indicators(const struct rep *r)
{
    FILE *out = r->out;
    const cJSON *inds = get(r->doc, "indicators");
    size_t n = (size_t)cJSON_GetArraySize(inds);
    fprintf(out, "<section id=\"indicators\">\n<h2>%s</h2>\n", tr(r, "지표", "Indicators"));
    if (n > 0) {
        struct bar *bars = calloc(n, sizeof *bars);
        size_t k = 0;
        for (const cJSON *i = inds->child; bars != NULL && i != NULL; i = i->next, k++) {
            bars[k] = (struct bar){label(r, i), i, flag(i, "percent_of_respondents")};
        }
        if (bars != NULL) {
            chart(r, "chart-indicators", tr(r, "지표별 추정치와 95% 구간",
                                            "Indicators with their 95% intervals"),
                  bars, n, true, 0, 1);
        }
        free(bars);
    }
    legend(r);
    indicator_table(r, strcmp(str(r->doc, "weights"), "rake") == 0);
    fputs("</section>\n", out);
}

/* One table per --by variable: the indicators (rows) in each of its groups (columns). */
static void by_table(const struct rep *r, const char *var, const cJSON *groups)
{
    FILE *out = r->out;
    fputs("<table><caption>", out);
    fputs(tr(r, "집단별 지표: ", "Indicators by "), out);
    esc(out, var);
    fputs("</caption>\n<thead><tr><th>", out);
    fputs(tr(r, "지표", "Indicator"), out);
    fputs("</th>", out);
    for (const cJSON *g = groups ? groups->child : NULL; g != NULL; g = g->next) {
        fputs("<th class=\"num\">", out);
        esc(out, label(r, g));
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    const cJSON *inds = get(r->doc, "indicators");
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        fputs("<tr><td>", out);
        esc(out, label(r, i));
        fputs(flag(i, "percent_of_respondents") ? " *" : "", out);
        fputs("</td>", out);
        const cJSON *ig = get(get(i, "by"), var);
        for (const cJSON *g = ig ? ig->child : NULL; g != NULL; g = g->next) {
            char value[32] = "—";
            if (!flag(g, "suppressed")) {
                fmt_value(value, sizeof value, num(g, "estimate"), true, 0);
            }
            fprintf(out, "<td class=\"num\">%s%s <span class=\"note\">n=%.0f</span></td>", value,
                    flag(g, "low_base") ? " †" : "", num(g, "n"));
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static const char *question_label(const struct rep *r, const char *id)
{
    const cJSON *comp = get(r->doc, "composition");
    for (const cJSON *c = comp ? comp->child : NULL; c != NULL; c = c->next) {
        if (strcmp(str(c, "question"), id) == 0) {
            return label(r, c);
        }
    }
    return id;
}

static void groups(const struct rep *r)
{
    FILE *out = r->out;
    const cJSON *comp = get(r->doc, "composite");
    const cJSON *by = get(comp, "by");
    const cJSON *inds = get(r->doc, "indicators");
    if (by == NULL && inds != NULL && inds->child != NULL) {
        by = get(inds->child, "by");
    }
    fprintf(out, "<section id=\"groups\">\n<h2>%s</h2>\n",
            comp != NULL ? tr(r, "집단별 종합 지수", "The composite index by group")
                         : tr(r, "집단별 결과", "Results by group"));
    if (by == NULL || by->child == NULL) {
        fprintf(out, "<p class=\"note\">%s</p>\n</section>\n",
                tr(r,
                   "이 실행에는 집단별 분석이 없습니다 (survey-admin index --by industry,"
                   "company_size 로 실행하십시오).",
                   "This run has no breakdown by group (run survey-admin index --by "
                   "industry,company_size)."));
        return;
    }
    int chart_no = 0;
    for (const cJSON *v = by->child; v != NULL; v = v->next) {
        fputs("<h3>", out);
        esc(out, question_label(r, v->string));
        fputs("</h3>\n", out);
        const cJSON *cg = comp != NULL ? get(by, v->string) : NULL;
        size_t n = (size_t)cJSON_GetArraySize(cg);
        if (n > 0) {
            struct bar *bars = calloc(n, sizeof *bars);
            size_t k = 0;
            for (const cJSON *g = cg->child; bars != NULL && g != NULL; g = g->next, k++) {
                bars[k] = (struct bar){label(r, g), g, false};
            }
            char id[32], title[512];
            snprintf(id, sizeof id, "chart-by-%d", chart_no++);
            snprintf(title, sizeof title, "%s — %s", label(r, comp),
                     question_label(r, v->string));
            if (bars != NULL) {
                double lo = num(comp, "min"), hi = num(comp, "max");
                chart(r, id, title, bars, n, false, isnan(lo) ? 0 : lo, isnan(hi) ? 100 : hi);
            }
            free(bars);
        }
        by_table(r, v->string, get(get(inds ? inds->child : NULL, "by"), v->string));
    }
    legend(r);
    fputs("</section>\n", out);
}

static void dt_dd(const struct rep *r, const char *term, const char *text)
{
    fputs("<dt>", r->out);
    esc(r->out, term);
    fputs("</dt><dd>", r->out);
    esc(r->out, text);
    fputs("</dd>\n", r->out);
}

static void composition(const struct rep *r)
{
    FILE *out = r->out;
    const cJSON *comp = get(r->doc, "composition");
    for (const cJSON *c = comp ? comp->child : NULL; c != NULL; c = c->next) {
        fputs("<dt>", out);
        esc(out, label(r, c));
        fputs("</dt><dd>", out);
        const cJSON *gs = get(c, "groups");
        for (const cJSON *g = gs ? gs->child : NULL; g != NULL; g = g->next) {
            esc(out, label(r, g));
            fprintf(out, " %.0f%s", num(g, "n"), g->next ? " · " : "");
        }
        double un = num(c, "n_unanswered");
        if (un > 0) {
            fprintf(out, " · %s %.0f", tr(r, "무응답", "no answer"), un);
        }
        fputs("</dd>\n", out);
    }
}

static void weighting_text(const struct rep *r)
{
    FILE *out = r->out;
    const cJSON *w = get(r->doc, "weighting");
    fprintf(out, "<dt>%s</dt><dd>", tr(r, "가중치", "Weighting"));
    if (strcmp(str(r->doc, "weights"), "rake") != 0) {
        fputs(tr(r,
                 "가중치를 적용하지 않았습니다. 모든 응답의 비중이 같습니다.",
                 "None: every response counts the same."),
              out);
        fputs("</dd>\n", out);
        return;
    }
    fputs(tr(r, "레이킹(반복 비례 조정)으로 다음 변수의 모집단 분포에 맞췄습니다: ",
             "Raking (iterative proportional fitting) to the population distributions of "),
          out);
    const cJSON *vars = get(w, "variables");
    for (const cJSON *v = vars ? vars->child : NULL; v != NULL; v = v->next) {
        esc(out, question_label(r, cJSON_IsString(v) ? v->valuestring : ""));
        fputs(v->next ? ", " : "", out);
    }
    double ne = num(w, "n_eff"), de = num(w, "deff");
    if (!isnan(ne)) {
        double lo = num(w, "weight_min"), hi = num(w, "weight_max");
        if (r->ko) {
            fprintf(out,
                    ". 최대 상대 오차 10⁻¹² 이내로 수렴했습니다. 가중치에 따른 유효 표본 크기"
                    "(Kish) %.1f, 설계 효과 %.2f, 가중치 범위 평균의 %.2f–%.2f배.",
                    ne, de, lo, hi);
        } else {
            fprintf(out,
                    ". Converged to a maximum relative margin error of 1e-12. Kish effective "
                    "sample size %.1f, design effect %.2f; weights range from %.2f to %.2f "
                    "times the mean.",
                    ne, de, lo, hi);
        }
    } else {
        fputc('.', out);
    }
    fputs("</dd>\n", out);
}

static void precision_text(const struct rep *r)
{
    bool weighted = strcmp(str(r->doc, "weights"), "rake") == 0;
    fprintf(r->out, "<dt>%s</dt><dd>", tr(r, "정밀도", "Precision"));
    fputs(tr(r,
             "이 조사는 비확률 표본(초청·자발적 참여)에 기반하므로 전통적 의미의 표본 오차는 "
             "계산할 수 없습니다. 제시된 95% 구간은 ",
             "This survey is based on a non-probability sample (invited, opt-in respondents), "
             "so a classical margin of sampling error cannot be computed. The 95% intervals "
             "shown are "),
          r->out);
    fputs(weighted ? tr(r,
                        "가중치를 반영한 선형화 분산(보정 잔차)과 로짓 구간(자유도 n−1)으로 "
                        "계산한 모형 기반 정밀도 추정이며, ",
                        "model-based measures of precision from the Taylor-linearised variance "
                        "of the raked estimates (calibration residuals) with logit intervals "
                        "(t, n−1 degrees of freedom); ")
                   : tr(r,
                        "응답자를 단순 무작위 표본처럼 취급한 Wilson 구간(종합 지수는 t 구간)"
                        "으로, ",
                        "Wilson score intervals (t intervals for the composite) that treat the "
                        "respondents as a simple random sample; "),
          r->out);
    fputs(tr(r,
             "표본 선택, 포괄 범위, 무응답으로 인한 편향은 반영하지 않습니다.",
             "they do not account for selection, coverage or non-response bias."),
          r->out);
    fputs("</dd>\n", r->out);
}

static void questions(const struct rep *r)
{
    FILE *out = r->out;
    const cJSON *qs = get(r->doc, "questions");
    if (qs == NULL || qs->child == NULL) {
        return;
    }
    fprintf(out, "<h3>%s</h3>\n<ol class=\"questions\">\n",
            tr(r, "문항 (응답자에게 제시된 그대로)", "Question wording (as respondents saw it)"));
    for (const cJSON *q = qs->child; q != NULL; q = q->next) {
        fputs("<li>", out);
        esc(out, text_in(r, get(q, "text")));
        fputs(" <span class=\"code\">", out);
        esc(out, str(q, "id"));
        if (strcmp(str(q, "type"), "multiple") == 0) {
            fputs(tr(r, " · 복수 응답", " · multiple answers"), out);
        }
        fputs("</span>", out);
        const cJSON *opts = get(q, "options");
        if (opts != NULL && opts->child != NULL) {
            fputs("<br>", out);
            for (const cJSON *o = opts->child; o != NULL; o = o->next) {
                esc(out, label(r, o));
                fputs(o->next ? " / " : "", out);
            }
        }
        fputs("</li>\n", out);
    }
    fputs("</ol>\n", out);
}

static void methodology(const struct rep *r, const char *run_id)
{
    FILE *out = r->out;
    fprintf(out, "<section id=\"methodology\">\n<h2>%s</h2>\n<dl class=\"method\">\n",
            tr(r, "조사 방법", "Methodology"));
    static const enum about_field first[] = {ABOUT_SPONSOR, ABOUT_CONDUCTED_BY, ABOUT_POPULATION,
                                             ABOUT_SAMPLE, ABOUT_MODE};
    bool any = false;
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        const struct about_key *k = &about_keys[first[i]];
        const char *t = about_text(r, k->key);
        if (t != NULL) {
            dt_dd(r, r->ko ? k->label_ko : k->label_en, t);
            any = true;
        }
    }
    if (!any) {
        dt_dd(r, tr(r, "조사 설명", "Study description"),
              tr(r, "기록되지 않음 (survey-admin wave about 으로 추가하십시오).",
                 "Not recorded (add one with survey-admin wave about)."));
    }
    const cJSON *field = get(r->doc, "field");
    char from[16], to[16], dates[96];
    date_of(from, sizeof from, str(field, "opened_at"));
    date_of(to, sizeof to, str(field, "closed_at"));
    if (to[0] != '\0') {
        snprintf(dates, sizeof dates, "%s – %s (UTC)", from, to);
    } else {
        snprintf(dates, sizeof dates, "%s – %s", from, tr(r, "진행 중", "still open"));
    }
    dt_dd(r, tr(r, "조사 기간", "Field dates"), dates);
    const char *access = str(r->doc, "access");
    if (access[0] != '\0') {
        dt_dd(r, tr(r, "응답 접근", "Access"),
              strcmp(access, "invite") == 0
                  ? tr(r, "일회용 초청 링크로만 응답 가능", "by one-time invitation link only")
                  : tr(r, "링크를 가진 누구나 응답 가능 (공개)", "open to anyone with the link"));
    }
    char sizes[256];
    double total = num(r->doc, "n_total"), screened = num(r->doc, "n_screened_out"),
           eligible = num(r->doc, "n");
    if (r->ko) {
        snprintf(sizes, sizeof sizes,
                 "접수된 응답 %.0f건 중 선별 기준으로 제외 %.0f건, 분석 대상 %.0f건", total,
                 screened, eligible);
    } else {
        snprintf(sizes, sizeof sizes,
                 "%.0f responses received; %.0f screened out by the eligibility rules; %.0f "
                 "eligible responses analysed",
                 total, screened, eligible);
    }
    dt_dd(r, tr(r, "표본 크기", "Sample size"), sizes);
    composition(r);
    weighting_text(r);
    precision_text(r);
    dt_dd(r, tr(r, "공표 기준", "Reporting rules"),
          tr(r,
             "각 지표의 기저는 해당 문항이 제시되고 응답한 유효 응답입니다. 기저가 10 미만인 "
             "집단은 공표하지 않고, 30 미만은 낮은 기저(†)로 표시합니다.",
             "The base of each indicator is the eligible responses to which its questions were "
             "shown and answered. Groups with a base under 10 are suppressed; under 30 they are "
             "flagged as a low base (†)."));
    const char *notes = about_text(r, "notes");
    if (notes != NULL) {
        dt_dd(r, r->ko ? about_keys[ABOUT_NOTES].label_ko : about_keys[ABOUT_NOTES].label_en,
              notes);
    }
    const char *contact = about_text(r, "contact");
    if (contact != NULL) {
        dt_dd(r, r->ko ? about_keys[ABOUT_CONTACT].label_ko : about_keys[ABOUT_CONTACT].label_en,
              contact);
    }
    fputs("</dl>\n", out);
    questions(r);
    const cJSON *q = get(r->doc, "questionnaire");
    fprintf(out, "<p class=\"note\">%s ", tr(r, "재현 정보:", "Reproducibility:"));
    fputs(tr(r, "설문지 ", "questionnaire "), out);
    esc(out, str(q, "id"));
    fputc(' ', out);
    esc(out, str(q, "version"));
    fputs(" (SHA-256 <span class=\"code\">", out);
    esc(out, str(q, "sha256"));
    fputs("</span>); ", out);
    fputs(tr(r, "응답 집합 SHA-256 ", "responses SHA-256 "), out);
    fputs("<span class=\"code\">", out);
    esc(out, str(r->doc, "responses_sha256"));
    fputs("</span>", out);
    if (run_id != NULL) {
        fputs(tr(r, "; 지수 실행 #", "; index run #"), out);
        esc(out, run_id);
        fputs(" (survey-admin index ", out);
        esc(out, str(r->doc, "wave"));
        fputs(" --run ", out);
        esc(out, run_id);
        fputs(")", out);
    }
    fputs(".</p>\n</section>\n", out);
}

void report_html(FILE *out, const cJSON *doc, const char *lang, const char *run_id)
{
    struct rep r = {out, doc, lang, strcmp(lang, "ko") == 0};
    const char *title = about_text(&r, "title");
    char fallback[256];
    if (title == NULL) {
        snprintf(fallback, sizeof fallback, "%s %s", tr(&r, "지수 보고서:", "Index report:"),
                 str(doc, "wave"));
        title = fallback;
    }
    head(&r, title);
    header(&r, title);
    headline(&r);
    indicators(&r);
    groups(&r);
    methodology(&r, run_id);
    fputs("<footer>", out);
    fputs(tr(&r, "survey-admin index 로 생성. 모든 수치는 기록된 실행에서 그대로 옮겼습니다.",
             "Made with survey-admin index; every figure is printed from the recorded run."),
          out);
    fputs("</footer>\n</main>\n</body>\n</html>\n", out);
}
