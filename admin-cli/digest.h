/*
 * SHA-256 for the CLI: of migrations (recorded in schema_migrations), of questionnaire files
 * (their identity in survey.questionnaires) and of invitation tokens (all that is stored).
 */
#ifndef SURVEY_ADMIN_DIGEST_H
#define SURVEY_ADMIN_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_SHA256_BYTES 32
#define DIGEST_SHA256_HEX_BYTES 65 /* 64 hex digits and the NUL */

/* out = SHA-256(data); false only when OpenSSL fails (out of memory). */
bool digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_BYTES])
    __attribute__((warn_unused_result));

/* Lower-case hex of a digest into hex (DIGEST_SHA256_HEX_BYTES). */
void digest_hex(const unsigned char digest[DIGEST_SHA256_BYTES], char hex[DIGEST_SHA256_HEX_BYTES]);

#endif
