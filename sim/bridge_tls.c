/* OpenSSL behind the live bridge: see sim/bridge_tls.h. */
#include "sim/bridge_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

const char *const sim_bridge_tls_io_names[SIM_BRIDGE_TLS_IO_COUNT] = {
    "done", "want-read", "want-write", "closed", "failed",
};

#define PEM_MAX 8192 /* a P-256 or RSA-4096 certificate in PEM fits easily */

struct sim_bridge_tls {
    SSL_CTX *ctx;
    X509    *cert; /* borrowed from ctx */
    char     pem[PEM_MAX];
};

struct sim_bridge_tls_session {
    SSL *ssl;
    char error[160];
};

/* The oldest queued OpenSSL error in words, into err. */
static void openssl_reason(const char *what, char *err, size_t cap)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, cap, "%s%s%s", what, *buf ? ": " : "", buf);
    ERR_clear_error();
}

/* A self-signed X.509 v3 certificate for key (RFC 5280 4.1): serial from
 * the RNG, valid from an hour ago (clocks differ) for
 * SIM_BRIDGE_TLS_CERT_DAYS, with the names as subjectAltName (RFC 6125
 * 6.4.4: clients match those, not the CN). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *alt)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    unsigned char serial[8];
    if (RAND_bytes(serial, sizeof serial) != 1) goto fail;
    serial[0] &= 0x7f; /* RFC 5280 4.1.2.2: a positive integer */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        BN_free(bn);
        goto fail;
    }
    BN_free(bn);
    if (X509_set_version(x, 2) != 1) goto fail; /* v3, for extensions */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * SIM_BRIDGE_TLS_CERT_DAYS))
        goto fail;
    if (X509_set_pubkey(x, key) != 1) goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   (const unsigned char *)"mailsim live bridge", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1)
        goto fail;
    if (X509_set_issuer_name(x, name) != 1) goto fail;
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    if (alt && *alt) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, alt);
        if (!ext) goto fail;
        int ok = X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        if (ok != 1) goto fail;
    }
    if (X509_sign(x, key, EVP_sha256()) <= 0) goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

struct sim_bridge_tls *sim_bridge_tls_new(const char *cert_file, const char *key_file,
                                          const char *common_name, const char *alt_names,
                                          char *err, size_t cap)
{
    struct sim_bridge_tls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx) {
        openssl_reason("cannot make a TLS context", err, cap);
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    /* Non-blocking sockets: a write may take part of the buffer, and the
     * retry may come from a buffer that has moved. */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (cert_file || key_file) {
        if (!cert_file || !key_file) {
            snprintf(err, cap, "--cert and --key go together");
            goto fail;
        }
        if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
            openssl_reason("cannot load the certificate", err, cap);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
            openssl_reason("cannot load the key", err, cap);
            goto fail;
        }
    } else {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *x = key ? make_cert(key, common_name ? common_name : "localhost", alt_names)
                      : NULL;
        int ok = x && SSL_CTX_use_certificate(t->ctx, x) == 1 &&
                 SSL_CTX_use_PrivateKey(t->ctx, key) == 1;
        X509_free(x);
        EVP_PKEY_free(key);
        if (!ok) {
            openssl_reason("cannot make a self-signed certificate", err, cap);
            goto fail;
        }
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
        openssl_reason("the key does not match the certificate", err, cap);
        goto fail;
    }
    t->cert = SSL_CTX_get0_certificate(t->ctx);
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem && PEM_write_bio_X509(mem, t->cert) == 1) {
        int n = BIO_read(mem, t->pem, (int)sizeof t->pem - 1);
        t->pem[n > 0 ? n : 0] = 0;
    }
    BIO_free(mem);
    return t;
fail:
    SSL_CTX_free(t->ctx);
    free(t);
    return NULL;
}

void sim_bridge_tls_free(struct sim_bridge_tls *t)
{
    if (!t) return;
    SSL_CTX_free(t->ctx);
    free(t);
}

void sim_bridge_tls_fingerprint(const struct sim_bridge_tls *t, char out[96])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = 0;
    if (X509_digest(t->cert, EVP_sha256(), md, &n) != 1) return;
    size_t o = 0;
    for (unsigned i = 0; i < n && o + 3 < 96; i++)
        o += (size_t)snprintf(out + o, 96 - o, "%s%02X", i ? ":" : "", md[i]);
}

const char *sim_bridge_tls_cert_pem(const struct sim_bridge_tls *t) { return t->pem; }

struct sim_bridge_tls_session *sim_bridge_tls_accept(struct sim_bridge_tls *t, int fd)
{
    struct sim_bridge_tls_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ssl = SSL_new(t->ctx);
    if (!s->ssl || SSL_set_fd(s->ssl, fd) != 1) {
        SSL_free(s->ssl);
        free(s);
        return NULL;
    }
    SSL_set_accept_state(s->ssl);
    return s;
}

/* What SSL_get_error says about a call that returned r. */
static enum sim_bridge_tls_io outcome(struct sim_bridge_tls_session *s, int r, const char *what)
{
    switch (SSL_get_error(s->ssl, r)) {
    case SSL_ERROR_NONE: return SIM_BRIDGE_TLS_DONE;
    case SSL_ERROR_WANT_READ: return SIM_BRIDGE_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return SIM_BRIDGE_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return SIM_BRIDGE_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        /* OpenSSL 3 reports a peer that vanished without close_notify as
         * SSL_ERROR_SSL with "unexpected eof"; older ones as SYSCALL. */
        if (ERR_peek_error() == 0) {
            ERR_clear_error();
            return SIM_BRIDGE_TLS_CLOSED;
        }
        openssl_reason(what, s->error, sizeof s->error);
        return SIM_BRIDGE_TLS_FAILED;
    default:
        openssl_reason(what, s->error, sizeof s->error);
        return SIM_BRIDGE_TLS_FAILED;
    }
}

enum sim_bridge_tls_io sim_bridge_tls_handshake(struct sim_bridge_tls_session *s)
{
    ERR_clear_error();
    int r = SSL_do_handshake(s->ssl);
    return r == 1 ? SIM_BRIDGE_TLS_DONE : outcome(s, r, "TLS handshake failed");
}

enum sim_bridge_tls_io sim_bridge_tls_read(struct sim_bridge_tls_session *s, char *buf,
                                           size_t cap, size_t *n)
{
    *n = 0;
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(s->ssl, buf, cap, &got);
    if (r == 1) {
        *n = got;
        return SIM_BRIDGE_TLS_DONE;
    }
    return outcome(s, r, "TLS read failed");
}

enum sim_bridge_tls_io sim_bridge_tls_write(struct sim_bridge_tls_session *s, const char *buf,
                                            size_t len, size_t *n)
{
    *n = 0;
    ERR_clear_error();
    size_t put = 0;
    int r = SSL_write_ex(s->ssl, buf, len, &put);
    if (r == 1) {
        *n = put;
        return SIM_BRIDGE_TLS_DONE;
    }
    return outcome(s, r, "TLS write failed");
}

size_t sim_bridge_tls_pending(const struct sim_bridge_tls_session *s)
{
    int n = SSL_pending(s->ssl);
    return n > 0 ? (size_t)n : 0;
}

const char *sim_bridge_tls_error(const struct sim_bridge_tls_session *s) { return s->error; }

void sim_bridge_tls_close(struct sim_bridge_tls_session *s)
{
    if (!s) return;
    if (SSL_is_init_finished(s->ssl)) {
        ERR_clear_error();
        (void)SSL_shutdown(s->ssl); /* one try: a blocked socket just misses it */
    }
    ERR_clear_error();
    SSL_free(s->ssl);
    free(s);
}
