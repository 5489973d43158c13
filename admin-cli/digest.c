/*
 * SHA-256 through OpenSSL's EVP interface (the one-shot SHA256() is on its way out), and the
 * hex form stored as schema_migrations.sha256 and shown by "wave status".
 */
#include "digest.h"

#include <openssl/evp.h>

bool digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_BYTES])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == DIGEST_SHA256_BYTES;
}

void digest_hex(const unsigned char digest[DIGEST_SHA256_BYTES], char hex[DIGEST_SHA256_HEX_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < DIGEST_SHA256_BYTES; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * DIGEST_SHA256_BYTES] = '\0';
}
