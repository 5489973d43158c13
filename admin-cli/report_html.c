#include "report_html.h"

void report_html(FILE *out, const cJSON *doc, const char *lang)
{
    (void)out;
    (void)doc;
    (void)lang;
}
