/*
 * "survey-admin migrate": brings the database's schema up to the embedded migrations, one
 * transaction each, serialised among concurrent migrators by an advisory lock.
 */
#ifndef SURVEY_ADMIN_MIGRATE_H
#define SURVEY_ADMIN_MIGRATE_H

#include "cli.h"
#include "migrations.h"

/* The advisory lock key every migrator takes ("survey" and 0x0001 as a big-endian int8). */
#define MIGRATE_LOCK_KEY "8319681739470995457"

int migrate_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
