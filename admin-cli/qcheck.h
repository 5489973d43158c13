/*
 * "survey-admin questionnaire check FILE", and the loading of a definition file that
 * "wave create" shares with it: the same loader as the daemon's, problems printed one a line.
 */
#ifndef SURVEY_ADMIN_QCHECK_H
#define SURVEY_ADMIN_QCHECK_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "qdef.h"

/* The most problems listed for one definition. */
#define QCHECK_MAX_PROBLEMS 200

/*
 * Read (at most FILEIO_MAX_INPUT_BYTES) and compile the definition at path. On success returns
 * it (qdef_free) and, when text is not NULL, the file's bytes in *text / *len (free). On
 * failure prints why on stderr, or every problem as "PATH: <pointer>: <message>" on problems_out,
 * and returns NULL.
 */
struct qdef *qcheck_load_file(const char *path, FILE *problems_out, char **text, size_t *len)
    __attribute__((warn_unused_result));

int qcheck_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
