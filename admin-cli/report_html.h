/*
 * The index as a self-contained HTML report (survey-admin index --format html): headline
 * figures, bar charts as inline SVG with their intervals, the composite by group, and the
 * methodology a reader needs to judge the figures (AAPOR's disclosure items). Rendered from the
 * recorded results document alone, so a reprint of a run is the same bytes.
 */
#ifndef SURVEY_ADMIN_REPORT_HTML_H
#define SURVEY_ADMIN_REPORT_HTML_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* Write the report for results document doc, recorded as index run run_id, in language lang
 * (its fixed texts in Korean for "ko", else English) to out. */
void report_html(FILE *out, const cJSON *doc, const char *lang, const char *run_id);

#endif
