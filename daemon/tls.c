/*
 * TLS 1.2 and 1.3 only, ECDHE key exchange with AEAD ciphers (Mozilla "intermediate" minus
 * DHE), server preference, no renegotiation, no compression, and no session resumption: the
 * deliberate ticket policy is none (see docs/surveyd.md).
 */
#include "tls.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "log.h"

struct tls {
    char *cert_file;
    char *key_file;
    pthread_mutex_t lock; /* guards ctx: taken on accept and on reload, never per request */
    SSL_CTX *ctx;
};

static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char tls13_suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

static void log_openssl_error(const char *msg, const char *file)
{
    char reason[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    log_event(LOG_ERROR, msg, "file", file ? file : "", "reason", reason, NULL);
}

/* Offer http/1.1 only; a client that asks for nothing else gets no ALPN at all. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned int i = 0; i < inlen;) {
        unsigned int len = in[i];
        if (i + 1 + len > inlen) {
            break;
        }
        if (len == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)len;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *build_ctx(const char *cert_file, const char *key_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        log_openssl_error("could not create TLS context", NULL);
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, tls13_suites) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        log_openssl_error("could not set the TLS policy", NULL);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        log_openssl_error("could not load the certificate", cert_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_openssl_error("could not load the private key", key_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct tls *tls_new(const char *cert_file, const char *key_file)
{
    struct tls *tls = calloc(1, sizeof *tls);
    if (tls == NULL) {
        return NULL;
    }
    tls->cert_file = strdup(cert_file);
    tls->key_file = strdup(key_file);
    tls->ctx = build_ctx(cert_file, key_file);
    if (tls->cert_file == NULL || tls->key_file == NULL || tls->ctx == NULL ||
        pthread_mutex_init(&tls->lock, NULL) != 0) {
        SSL_CTX_free(tls->ctx);
        free(tls->cert_file);
        free(tls->key_file);
        free(tls);
        return NULL;
    }
    return tls;
}

int tls_reload(struct tls *tls)
{
    SSL_CTX *ctx = build_ctx(tls->cert_file, tls->key_file);
    if (ctx == NULL) {
        return -1;
    }
    pthread_mutex_lock(&tls->lock);
    SSL_CTX *old = tls->ctx;
    tls->ctx = ctx;
    pthread_mutex_unlock(&tls->lock);
    /* Connections made with the old context hold their own references. */
    SSL_CTX_free(old);
    return 0;
}

SSL *tls_new_session(struct tls *tls)
{
    pthread_mutex_lock(&tls->lock);
    SSL *ssl = SSL_new(tls->ctx);
    pthread_mutex_unlock(&tls->lock);
    if (ssl == NULL) {
        ERR_clear_error();
    }
    return ssl;
}

void tls_free(struct tls *tls)
{
    if (tls == NULL) {
        return;
    }
    SSL_CTX_free(tls->ctx);
    pthread_mutex_destroy(&tls->lock);
    free(tls->cert_file);
    free(tls->key_file);
    free(tls);
}
