/*
 * Prints "NAME MEASURE" for every variable of a .sav file, through ReadStat's parser: the
 * measure levels (nominal, ordinal, scale) that neither the readstat tool nor haven shows.
 */
#include <stdio.h>

#include <readstat.h>

static int variable_cb(int index, readstat_variable_t *v, const char *val_labels, void *ctx)
{
    (void)index;
    (void)val_labels;
    (void)ctx;
    static const char *const names[] = {"unknown", "nominal", "ordinal", "scale"};
    readstat_measure_t m = readstat_variable_get_measure(v);
    printf("%s %s\n", readstat_variable_get_name(v),
           (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?");
    return READSTAT_HANDLER_OK;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sav_measures FILE.sav\n");
        return 2;
    }
    readstat_parser_t *p = readstat_parser_init();
    readstat_set_variable_handler(p, variable_cb);
    readstat_error_t e = readstat_parse_sav(p, argv[1], NULL);
    readstat_parser_free(p);
    if (e != READSTAT_OK) {
        fprintf(stderr, "sav_measures: %s\n", readstat_error_message(e));
        return 1;
    }
    return 0;
}
