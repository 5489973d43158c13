/*
 * The migrations embedded in the binary at build time (migrations/NNNN_name.sql, in order). The
 * daemon links this too: it refuses to start when the database's schema_migrations is behind
 * migrations_latest_version().
 */
#ifndef SURVEY_MIGRATIONS_H
#define SURVEY_MIGRATIONS_H

#include <stddef.h>

struct migration {
    int version;      /* NNNN of the file name */
    const char *name; /* the file name without ".sql", e.g. "0001_init" */
    const char *sql;  /* the file's exact bytes, NUL-terminated */
    size_t sql_len;   /* without the NUL */
};

/* The table of the schema's migration records, created by "survey-admin migrate". */
#define MIGRATIONS_TABLE "public.schema_migrations"

/* Number of embedded migrations (at least 1). */
size_t migrations_count(void);

/* The i-th migration in version order, i < migrations_count(). */
const struct migration *migrations_get(size_t i);

/* The migration with this version, or NULL. */
const struct migration *migrations_find(int version);

/* The highest embedded version: the schema version this build expects. */
int migrations_latest_version(void);

#endif
