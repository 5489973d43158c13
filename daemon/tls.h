/*
 * The TLS policy: one SSL_CTX for every worker, built from --cert/--key, replaced as a whole on
 * SIGHUP. Workers take a reference per accepted connection, so a reload never pulls a context
 * from under a handshake.
 */
#ifndef SURVEYD_TLS_H
#define SURVEYD_TLS_H

#include <openssl/ssl.h>

struct tls;

/* Build the context from PEM files; NULL with a logged reason on failure. */
struct tls *tls_new(const char *cert_file, const char *key_file)
    __attribute__((warn_unused_result));

/* Re-read the files; on failure the old context stays and -1 is returned (and logged). */
int tls_reload(struct tls *tls) __attribute__((warn_unused_result));

/* A new SSL object for an accepted connection, or NULL (then the connection must be dropped,
 * never served in plaintext). */
SSL *tls_new_session(struct tls *tls);

void tls_free(struct tls *tls);

#endif
