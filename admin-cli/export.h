/*
 * survey-admin export: a closed wave's responses as anonymised microdata (CSV, SPSS .sav or
 * JSON Lines) with a codebook. docs/export.md.
 */
#ifndef SURVEY_ADMIN_EXPORT_H
#define SURVEY_ADMIN_EXPORT_H

#include "cli.h"

/* The environment variable that may hold the pseudonym key (--key-file wins). */
#define EXPORT_KEY_ENV "SURVEY_EXPORT_KEY"

int export_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
