/*
 * survey-admin index: the published indicators and the composite of a wave, with their
 * intervals, optionally raked to the wave's margins and broken down by groups; every run is
 * recorded in survey.index_runs and can be printed again with --run.
 */
#ifndef SURVEY_ADMIN_INDEX_H
#define SURVEY_ADMIN_INDEX_H

#include "cli.h"

int index_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
