/*
 * "survey-admin invite WAVE --count N": one-time invitation tokens for an invite-only wave.
 * Each token is 256 random bits shown once (CSV: token,url); only its SHA-256 is stored.
 */
#ifndef SURVEY_ADMIN_INVITE_H
#define SURVEY_ADMIN_INVITE_H

#include <stddef.h>

#include "cli.h"

#define INVITE_MAX_COUNT 1000000
#define INVITE_TOKEN_BYTES 32 /* random bytes in a token */
#define INVITE_TOKEN_CHARS 43 /* their base64url form, without padding */
#define INVITE_DEFAULT_BASE_URL "https://localhost:8443"

/*
 * The base64url form (RFC 4648 section 5, no padding) of the random bytes raw into out
 * (INVITE_TOKEN_CHARS + 1 bytes, NUL-terminated). What is stored is SHA-256 of these 43 ASCII
 * characters, so the daemon hashes the token exactly as the respondent's link carries it.
 */
void invite_token_encode(const unsigned char raw[INVITE_TOKEN_BYTES],
                         char out[INVITE_TOKEN_CHARS + 1]);

int invite_main(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv);

#endif
