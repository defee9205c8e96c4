/// The only file that includes OpenSSL 3's headers (Debian's libssl-dev). Much of libssl's
/// configuration API is preprocessor macros over SSL_CTX_ctrl/SSL_ctrl/BIO_ctrl, and its option
/// bits are built with a macro Swift cannot evaluate, so each macro chatd uses gets one
/// prefixed static inline wrapper or constant here. No logic lives in this file.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

/// SSL_OP_* are SSL_OP_BIT(n) expressions, which Swift does not import.
static const uint64_t COPENSSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t COPENSSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t COPENSSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t COPENSSL_OP_NO_TICKET = SSL_OP_NO_TICKET;
static const uint64_t COPENSSL_OP_IGNORE_UNEXPECTED_EOF = SSL_OP_IGNORE_UNEXPECTED_EOF;

/// SSL_CTX_set_mode is a macro over SSL_CTX_ctrl.
static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

/// SSL_set_mode is a macro over SSL_ctrl.
static inline long copenssl_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}

/// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
static inline int copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// SSL_CTX_set_session_cache_mode is a macro over SSL_CTX_ctrl.
static inline long copenssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/// SSL_CTX_set_read_ahead is a macro over SSL_CTX_ctrl.
static inline long copenssl_ctx_set_read_ahead(SSL_CTX *ctx, long yes) {
    return SSL_CTX_set_read_ahead(ctx, yes);
}

/// SSL_set_tlsext_host_name (SNI) is a macro over SSL_ctrl.
static inline int copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// BIO_set_retry_read is a macro over BIO_set_flags.
static inline void copenssl_bio_set_retry_read(BIO *bio) {
    BIO_set_retry_read(bio);
}

/// BIO_clear_retry_flags is a macro over BIO_clear_flags.
static inline void copenssl_bio_clear_retry_flags(BIO *bio) {
    BIO_clear_retry_flags(bio);
}

#endif
