/*
 * "survey-admin wave create|open|close|status": a wave's life. The database enforces the
 * transitions too (draft -> open -> closed, by trigger); these commands add clear messages,
 * validation before anything is stored, and an audit row for every change.
 */
#ifndef SURVEY_ADMIN_WAVE_H
#define SURVEY_ADMIN_WAVE_H

#include <stdbool.h>

#include "cli.h"

/* True when id is a valid wave id: ^[a-z0-9][a-z0-9_-]{0,63}$. */
bool wave_id_valid(const char *id);

int wave_create_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int wave_about_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int wave_open_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int wave_close_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);
int wave_status_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
