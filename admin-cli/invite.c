/*
 * Issuing invitations. An --out file is written and fsynced before the transaction that stores
 * the hashes commits, and deleted when it does not, so it holds exactly the stored tokens;
 * standard output, which cannot be taken back, gets them only after the commit. Tokens never
 * reach the database, the audit log or any message.
 */
#include "invite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "csv.h"
#include "db.h"
#include "digest.h"
#include "fileio.h"
#include "wave.h"

/* Tokens generated and inserted per statement: bounds memory whatever --count says. */
#define INVITE_BATCH 10000
#define INVITE_MAX_BASE_URL_BYTES 512

void invite_token_encode(const unsigned char raw[INVITE_TOKEN_BYTES],
                         char out[INVITE_TOKEN_CHARS + 1])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (size_t i = 0; i < INVITE_TOKEN_BYTES; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) {
        out[n++] = alphabet[(acc << (6 - bits)) & 63];
    }
    out[n] = '\0';
}

/* A count is 1..INVITE_MAX_COUNT in plain decimal digits. */
static bool invite_parse_count(const char *s, long *count)
{
    if (*s == '\0' || strlen(s) > 7 || strspn(s, "0123456789") != strlen(s)) {
        return false;
    }
    *count = strtol(s, NULL, 10);
    return *count >= 1 && *count <= INVITE_MAX_COUNT;
}

/*
 * An http(s) URL without query or fragment, printable ASCII only (it goes into every link and
 * into CSV); trailing slashes are dropped into buf.
 */
static bool invite_parse_base_url(const char *s, char *buf, size_t size)
{
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
        return false;
    }
    size_t n = strlen(s);
    if (n >= size) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '?' || c == '#') {
            return false;
        }
    }
    while (n > 0 && s[n - 1] == '/') {
        n--;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return strstr(buf, "://")[3] != '\0';
}

/* Check, under FOR SHARE (a concurrent close waits for us), that the wave takes invitations. */
static bool invite_check_wave(PGconn *conn, const char *wave)
{
    const char *const key[] = {wave};
    PGresult *res =
        db_exec(conn, "SELECT status, access FROM survey.waves WHERE id = $1 FOR SHARE", 1, key);
    if (!db_ok(res)) {
        db_report(conn, res, "could not read the wave");
        return false;
    }
    bool ok = false;
    if (PQntuples(res) == 0) {
        cli_error("wave \"%s\" does not exist", wave);
    } else if (strcmp(PQgetvalue(res, 0, 1), "invite") != 0) {
        cli_error("wave \"%s\" has open access; invitations are only for invite-only waves", wave);
    } else if (strcmp(PQgetvalue(res, 0, 0), "closed") == 0) {
        cli_error("wave \"%s\" is closed; a closed wave takes no more invitations", wave);
    } else {
        ok = true;
    }
    PQclear(res);
    return ok;
}

/* Generate n tokens into tokens (n * INVITE_TOKEN_CHARS bytes) and insert their hashes. */
static bool invite_batch(PGconn *conn, const char *wave, size_t n, char *tokens, unsigned char *raw,
                         unsigned char *hashes)
{
    if (RAND_bytes(raw, (int)(n * INVITE_TOKEN_BYTES)) != 1) {
        cli_error("could not generate random tokens");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char token[INVITE_TOKEN_CHARS + 1];
        invite_token_encode(raw + i * INVITE_TOKEN_BYTES, token);
        memcpy(tokens + i * INVITE_TOKEN_CHARS, token, INVITE_TOKEN_CHARS);
        ok = digest_sha256(token, INVITE_TOKEN_CHARS, hashes + i * DIGEST_SHA256_BYTES);
        OPENSSL_cleanse(token, sizeof token);
    }
    OPENSSL_cleanse(raw, n * INVITE_TOKEN_BYTES);
    if (!ok) {
        cli_error("could not compute a token's SHA-256");
        return false;
    }

    /* The hashes travel as one binary bytea, cut into 32-byte rows by the server. */
    char n_text[16];
    snprintf(n_text, sizeof n_text, "%zu", n);
    const char *const values[] = {(const char *)hashes, wave, n_text};
    const int lengths[] = {(int)(n * DIGEST_SHA256_BYTES), 0, 0};
    const int formats[] = {1, 0, 0};
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO survey.invitations (token_sha256, wave_id)"
                                 " SELECT substring($1::bytea FROM i * 32 + 1 FOR 32), $2"
                                 " FROM generate_series(0, $3::int - 1) AS i",
                                 3, NULL, values, lengths, formats, 0);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        db_report(conn, res, "could not store the invitations");
        return false;
    }
    ok = strcmp(PQcmdTuples(res), n_text) == 0;
    PQclear(res);
    if (!ok) {
        cli_error("could not store the invitations: fewer rows than tokens were inserted");
    }
    return ok;
}

/* The CSV (RFC 4180, CRLF line ends): a header, then one "token,url" row per token. */
static void invite_write_csv(FILE *out, const char *wave, const char *base_url, const char *tokens,
                             size_t count)
{
    fputs("token,url\r\n", out);
    for (size_t i = 0; i < count; i++) {
        char token[INVITE_TOKEN_CHARS + 1];
        memcpy(token, tokens + i * INVITE_TOKEN_CHARS, INVITE_TOKEN_CHARS);
        token[INVITE_TOKEN_CHARS] = '\0';
        char url[INVITE_MAX_BASE_URL_BYTES + 128];
        snprintf(url, sizeof url, "%s/s/%s?t=%s", base_url, wave, token);
        fputs(token, out);
        fputc(',', out);
        csv_field(out, url);
        fputs("\r\n", out);
        OPENSSL_cleanse(token, sizeof token);
        OPENSSL_cleanse(url, sizeof url);
    }
}

int invite_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
    enum { OPT_COUNT, OPT_OUT, OPT_BASE_URL };
    struct cli_opt opts[] = {
        [OPT_COUNT] = {"count", true, NULL},
        [OPT_OUT] = {"out", true, NULL},
        [OPT_BASE_URL] = {"base-url", true, NULL},
    };
    const char *wave = NULL;
    enum cli_parse_result parsed =
        cli_parse(ctx, cmd, argc, argv, opts, sizeof opts / sizeof opts[0], &wave);
    if (parsed != CLI_PARSED) {
        return cli_parse_status(parsed);
    }
    if (!wave_id_valid(wave)) {
        return cli_usage_error(cmd, "invalid wave id \"%s\"", wave);
    }
    long count = 0;
    if (opts[OPT_COUNT].value == NULL) {
        return cli_usage_error(cmd, "option --count is required");
    }
    if (!invite_parse_count(opts[OPT_COUNT].value, &count)) {
        return cli_usage_error(cmd, "invalid value for --count: \"%s\" (use 1 to %d)",
                               opts[OPT_COUNT].value, INVITE_MAX_COUNT);
    }
    char base_url[INVITE_MAX_BASE_URL_BYTES];
    const char *base_arg =
        opts[OPT_BASE_URL].value ? opts[OPT_BASE_URL].value : INVITE_DEFAULT_BASE_URL;
    if (!invite_parse_base_url(base_arg, base_url, sizeof base_url)) {
        return cli_usage_error(cmd,
                               "invalid value for --base-url: \"%s\" (use http:// or https://, "
                               "a host, an optional path; no spaces, query or fragment)",
                               base_arg);
    }
    const char *out_path = opts[OPT_OUT].value;

    int status = CLI_EXIT_FAIL;
    bool file_created = false, committed = false;
    FILE *out = NULL;
    /* The tokens stay in memory (at most 43 MB) until they are written out. */
    size_t tokens_size = (size_t)count * INVITE_TOKEN_CHARS;
    char *tokens = malloc(tokens_size);
    unsigned char *raw = malloc((size_t)INVITE_BATCH * INVITE_TOKEN_BYTES);
    unsigned char *hashes = malloc((size_t)INVITE_BATCH * DIGEST_SHA256_BYTES);
    PGconn *conn = NULL;
    if (tokens == NULL || raw == NULL || hashes == NULL) {
        cli_error("out of memory");
        goto out;
    }
    conn = db_connect(ctx);
    if (conn == NULL || !db_begin(conn)) {
        goto out;
    }
    if (!invite_check_wave(conn, wave)) {
        goto rollback;
    }
    /* Created (never overwriting) before any work, so a taken name fails early. */
    if (out_path != NULL) {
        out = fileio_create_private(out_path);
        if (out == NULL) {
            goto rollback;
        }
        file_created = true;
    }
    for (long done = 0; done < count;) {
        size_t n = (size_t)(count - done < INVITE_BATCH ? count - done : INVITE_BATCH);
        if (!invite_batch(conn, wave, n, tokens + (size_t)done * INVITE_TOKEN_CHARS, raw, hashes)) {
            goto rollback;
        }
        done += (long)n;
    }
    char count_text[16];
    snprintf(count_text, sizeof count_text, "%ld", count);
    const char *const audit[] = {wave, count_text};
    if (!db_command(conn, "could not write the audit log",
                    "INSERT INTO survey.audit_log (action, wave_id, detail)"
                    " VALUES ('invite', $1, jsonb_build_object('count', $2::int))",
                    2, audit)) {
        goto rollback;
    }

    /* A file holds the tokens, durably, before their hashes are committed; if the commit
     * fails it is removed, so it never holds a token that was not stored. */
    if (file_created) {
        invite_write_csv(out, wave, base_url, tokens, (size_t)count);
        FILE *fp = out;
        out = NULL;
        if (!fileio_finish(fp, out_path)) {
            goto rollback;
        }
    }
    committed = db_commit(conn);
    if (!committed) {
        goto out;
    }
    if (out_path != NULL) {
        printf("wrote %ld invitations for wave \"%s\" to %s\n", count, wave, out_path);
    } else {
        /* Standard output cannot be taken back, so it gets the tokens only once they count. */
        invite_write_csv(stdout, wave, base_url, tokens, (size_t)count);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_error("the invitations were stored but could not be written to standard output: "
                      "%s",
                      strerror(errno));
            goto out;
        }
    }
    status = CLI_EXIT_OK;
    goto out;
rollback:
    db_rollback(conn);
out:
    if (out != NULL) {
        fclose(out);
    }
    if (file_created && !committed && unlink(out_path) != 0) {
        cli_error("could not remove file \"%s\": %s", out_path, strerror(errno));
    }
    PQfinish(conn);
    if (tokens != NULL) {
        OPENSSL_cleanse(tokens, tokens_size);
    }
    free(tokens);
    free(raw);
    free(hashes);
    return status;
}
