/*
 * Linting a questionnaire definition: read the file within its bound, compile it with
 * qdef_load (the daemon's loader) and report either a one-line summary or every problem.
 */
#include "qcheck.h"

#include <stdlib.h>

#include "fileio.h"

struct qdef *qcheck_load_file(const char *path, FILE *problems_out, char **text, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    if (!fileio_read(path, FILEIO_MAX_INPUT_BYTES, &data, &n)) {
        return NULL;
    }
    struct qproblems problems;
    qproblems_init(&problems, QCHECK_MAX_PROBLEMS);
    struct qdef *def = qdef_load(data, n, &problems);
    if (def == NULL) {
        if (qproblems_count(&problems) == 0 && !problems.truncated) {
            cli_error("out of memory");
        } else {
            cli_print_problems(problems_out, path, &problems);
        }
    }
    qproblems_clear(&problems);
    if (def != NULL && text != NULL) {
        *text = data;
        *len = n;
    } else {
        free(data);
    }
    return def;
}

int qcheck_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    const char *path = NULL;
    enum cli_parse_result parsed = cli_parse(ctx, cmd, argc, argv, NULL, 0, &path);
    if (parsed != CLI_PARSED) {
        return cli_parse_status(parsed);
    }
    /* The problems are this command's report, so they go to stdout. */
    struct qdef *def = qcheck_load_file(path, stdout, NULL, NULL);
    if (def == NULL) {
        return CLI_EXIT_FAIL;
    }
    printf("%s: ok: %s %s, %zu questions, %zu indicators, %zu pillars\n", path, def->id,
           def->version, def->n_questions, def->n_indicators, def->n_pillars);
    qdef_free(def);
    return CLI_EXIT_OK;
}
