/*
 * The catalogue of embedded migrations. The bytes come from a file generated at build time by
 * embed_migrations.cmake; this file only looks things up in it. No I/O, no libpq.
 */
#include "migrations.h"

#include "migrations_embedded.inc"

#define MIGRATIONS_N (sizeof migrations_table / sizeof migrations_table[0])

size_t migrations_count(void)
{
    return MIGRATIONS_N;
}

const struct migration *migrations_get(size_t i)
{
    return i < MIGRATIONS_N ? &migrations_table[i] : NULL;
}

const struct migration *migrations_find(int version)
{
    for (size_t i = 0; i < MIGRATIONS_N; i++) {
        if (migrations_table[i].version == version) {
            return &migrations_table[i];
        }
    }
    return NULL;
}

int migrations_latest_version(void)
{
    return migrations_table[MIGRATIONS_N - 1].version;
}
