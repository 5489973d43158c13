/*
 * Applying the embedded migrations. Each missing one runs in its own transaction together with
 * its schema_migrations row, under pg_advisory_xact_lock, so a crash or a concurrent migrator
 * never leaves half a migration or applies one twice. A recorded migration whose text changed
 * since is refused: the schema would no longer be what the files say.
 */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "digest.h"

static const char migrate_lock_sql[] = "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")";

static const char migrate_table_sql[] = "CREATE TABLE IF NOT EXISTS " MIGRATIONS_TABLE " ("
                                        " version int PRIMARY KEY,"
                                        " name text NOT NULL,"
                                        " sha256 text NOT NULL,"
                                        " applied_at timestamptz NOT NULL DEFAULT now())";

static bool migrate_hash(const struct migration *m, char hex[DIGEST_SHA256_HEX_BYTES])
{
    unsigned char digest[DIGEST_SHA256_BYTES];
    if (!digest_sha256(m->sql, m->sql_len, digest)) {
        cli_error("could not compute the SHA-256 of migration %s", m->name);
        return false;
    }
    digest_hex(digest, hex);
    return true;
}

/* A recorded migration must be one of ours, byte for byte. */
static bool migrate_verify_record(int version, const char *name, const char *sha256)
{
    const struct migration *m = migrations_find(version);
    if (m == NULL) {
        cli_error("the database has migration %04d (%s), which this survey-admin does not have; "
                  "use a newer survey-admin",
                  version, name);
        return false;
    }
    char hex[DIGEST_SHA256_HEX_BYTES];
    if (!migrate_hash(m, hex)) {
        return false;
    }
    if (strcmp(hex, sha256) != 0) {
        cli_error("migration %s was changed after it was applied", m->name);
        return false;
    }
    return true;
}

/*
 * In the open transaction: check every recorded migration and mark the applied ones in applied
 * (indexed like migrations_get). Returns false after printing why.
 */
static bool migrate_check_records(PGconn *conn, bool *applied)
{
    PGresult *res = db_exec(
        conn, "SELECT version, name, sha256 FROM " MIGRATIONS_TABLE " ORDER BY version", 0, NULL);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read " MIGRATIONS_TABLE);
        return false;
    }
    bool ok = true;
    for (int r = 0; r < PQntuples(res) && ok; r++) {
        int version = atoi(PQgetvalue(res, r, 0));
        ok = migrate_verify_record(version, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
        for (size_t i = 0; ok && i < migrations_count(); i++) {
            if (migrations_get(i)->version == version) {
                applied[i] = true;
            }
        }
    }
    PQclear(res);
    return ok;
}

enum migrate_step { MIGRATE_FAILED, MIGRATE_APPLIED, MIGRATE_ALREADY_APPLIED };

/* Apply one migration in its own transaction, unless a concurrent migrator just did. */
static enum migrate_step migrate_one(PGconn *conn, const struct migration *m)
{
    enum migrate_step result = MIGRATE_FAILED;
    char version[16], hex[DIGEST_SHA256_HEX_BYTES];
    snprintf(version, sizeof version, "%d", m->version);
    if (!migrate_hash(m, hex) || !db_begin(conn)) {
        return MIGRATE_FAILED;
    }
    if (!db_command(conn, "could not take the migration lock", migrate_lock_sql, 0, NULL)) {
        goto out;
    }
    const char *const find[] = {version};
    PGresult *res =
        db_exec(conn, "SELECT sha256 FROM " MIGRATIONS_TABLE " WHERE version = $1", 1, find);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read " MIGRATIONS_TABLE);
        goto out;
    }
    if (PQntuples(res) == 1) {
        bool same = migrate_verify_record(m->version, m->name, PQgetvalue(res, 0, 0));
        PQclear(res);
        if (same && db_commit(conn)) {
            return MIGRATE_ALREADY_APPLIED;
        }
        goto out;
    }
    PQclear(res);

    /* A migration is a script of several statements: the one place PQexec is right. */
    res = PQexec(conn, m->sql);
    if (res == NULL || !db_ok(res)) {
        char what[128];
        snprintf(what, sizeof what, "could not apply migration %s", m->name);
        db_report(conn, res, what);
        goto out;
    }
    PQclear(res);
    const char *const record[] = {version, m->name, hex};
    if (!db_command(conn, "could not record the migration",
                    "INSERT INTO " MIGRATIONS_TABLE " (version, name, sha256) VALUES ($1, $2, $3)",
                    3, record)) {
        goto out;
    }
    if (!db_commit(conn)) {
        return MIGRATE_FAILED;
    }
    return MIGRATE_APPLIED;
out:
    db_rollback(conn);
    return result;
}

int migrate_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum cli_parse_result parsed = cli_parse(ctx, cmd, argc, argv, NULL, 0, NULL);
    if (parsed != CLI_PARSED) {
        return cli_parse_status(parsed);
    }

    int status = CLI_EXIT_FAIL;
    bool *applied = calloc(migrations_count(), sizeof *applied);
    PGconn *conn = NULL;
    if (applied == NULL) {
        cli_error("out of memory");
        goto out;
    }
    conn = db_connect(ctx);
    if (conn == NULL) {
        goto out;
    }

    /* First, under the lock: the records table exists and every record is one of ours. */
    if (!db_begin(conn)) {
        goto out;
    }
    if (!db_command(conn, "could not take the migration lock", migrate_lock_sql, 0, NULL) ||
        !db_command(conn, "could not create " MIGRATIONS_TABLE, migrate_table_sql, 0, NULL) ||
        !migrate_check_records(conn, applied)) {
        db_rollback(conn);
        goto out;
    }
    if (!db_commit(conn)) {
        goto out;
    }

    for (size_t i = 0; i < migrations_count(); i++) {
        if (applied[i]) {
            continue;
        }
        const struct migration *m = migrations_get(i);
        enum migrate_step step = migrate_one(conn, m);
        if (step == MIGRATE_FAILED) {
            goto out;
        }
        if (step == MIGRATE_APPLIED) {
            printf("applied %s\n", m->name);
            fflush(stdout);
        }
    }
    printf("schema is up to date (version %d)\n", migrations_latest_version());
    status = CLI_EXIT_OK;
out:
    PQfinish(conn);
    free(applied);
    return status;
}
