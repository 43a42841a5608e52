/* SPDX-License-Identifier: MIT */
/*
 * X.509: trust anchors, splitting and validating the certificate chains SPDM carries (DSP0274,
 * DSP0274 1.3 GET_CERTIFICATE: DER certificates concatenated, root or the certificate signed by a
 * trust anchor first, leaf last), and one-line subjects for messages.
 *
 * Chain bytes come from a device, so the outer DER framing is walked with struct pcitsm_rd, every
 * certificate must be exactly one complete DER structure, and OpenSSL's X509_STORE_CTX does the
 * validation (signatures, validity times, CA and key-usage constraints) against the anchors.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/internal.h"

/* DER tag of a constructed SEQUENCE (X.690 8.9): every Certificate starts with it (RFC 5280 4.1). */
#define DER_SEQUENCE 0x30
/* Anchor files larger than this are refused rather than read (a CA bundle is far smaller). */
#define TRUST_FILE_MAX (4u << 20)

struct pcitsm_trust {
	X509_STORE *store;
	unsigned nr_anchors;
};

/* ---------------------------------------------------------------------------------------------
 * DER framing and strict parsing
 */

/* One DER length (X.690 8.1.3, DER 10.1): short form, or long form with the fewest octets. */
static size_t der_length(struct pcitsm_rd *r)
{
	uint8_t first = pcitsm_rd_u8(r);
	size_t len = 0;
	unsigned n;

	if (!(first & 0x80))
		return first;
	n = first & 0x7f;
	/* 0x80 is the indefinite form (BER only); certificates above 16 MiB are not credible. */
	pcitsm_rd_check(r, n >= 1 && n <= 3, PCITSM_E_FIELD);
	for (unsigned i = 0; i < n && !pcitsm_rd_err(r); i++)
		len = len << 8 | pcitsm_rd_u8(r);
	/* Minimal: no leading zero octet, and long form only for 128 and above. */
	pcitsm_rd_check(r, len >= 0x80 && len >> (8 * (n - 1)) != 0, PCITSM_E_FIELD);
	return pcitsm_rd_err(r) ? 0 : len;
}

pcitsm_err pcitsm_x509_chain_split(const uint8_t *certs, size_t len, size_t *off, size_t *clen,
				   size_t max, size_t *n)
{
	struct pcitsm_rd r;
	size_t count = 0;

	if ((!certs && len) || !off || !clen || !n)
		return PCITSM_E_INVAL;
	*n = 0;
	if (!len)
		return PCITSM_E_SHORT;
	pcitsm_rd_init(&r, certs, len);
	while (pcitsm_rd_left(&r)) {
		size_t start = pcitsm_rd_pos(&r), body;

		pcitsm_rd_check(&r, pcitsm_rd_u8(&r) == DER_SEQUENCE, PCITSM_E_FIELD);
		body = der_length(&r);
		pcitsm_rd_skip(&r, body);
		if (pcitsm_rd_err(&r))
			return pcitsm_rd_err(&r);
		if (count == max)
			return PCITSM_E_NOSPC;
		off[count] = start;
		clen[count] = pcitsm_rd_pos(&r) - start;
		count++;
	}
	*n = count;
	return PCITSM_OK;
}

/* Parse exactly one DER certificate occupying all of der[0..len). */
static X509 *x509_parse_exact(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The subject as one line, "CN=pcitsm device dev0, O=pcitsm": RFC 2253 escaping (control and
 * non-ASCII bytes escaped, so a device cannot put terminal sequences in our messages), most
 * specific attribute first, ", " between attributes. */
static pcitsm_err subject_line(const X509 *x, char *out, size_t out_len)
{
	unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	pcitsm_err err = PCITSM_OK;

	if (!b)
		return PCITSM_E_NOMEM;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, flags) < 0) {
		err = PCITSM_E_CRYPTO;
		goto out;
	}
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n >= out_len) {
		err = PCITSM_E_NOSPC;
		goto out;
	}
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
out:
	BIO_free(b);
	return err;
}

pcitsm_err pcitsm_x509_subject(const uint8_t *der, size_t len, char *out, size_t out_len)
{
	X509 *x;
	pcitsm_err err;

	if (!der || !out || !out_len)
		return PCITSM_E_INVAL;
	out[0] = '\0';
	x = x509_parse_exact(der, len);
	if (!x)
		return PCITSM_E_FIELD;
	err = subject_line(x, out, out_len);
	X509_free(x);
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * Trust anchors
 */

pcitsm_err pcitsm_trust_new(struct pcitsm_trust **t)
{
	struct pcitsm_trust *n;

	if (!t)
		return PCITSM_E_INVAL;
	*t = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return PCITSM_E_NOMEM;
	n->store = X509_STORE_new();
	if (!n->store) {
		free(n);
		return PCITSM_E_NOMEM;
	}
	*t = n;
	return PCITSM_OK;
}

void pcitsm_trust_free(struct pcitsm_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	free(t);
}

static pcitsm_err trust_add(struct pcitsm_trust *t, X509 *x)
{
	/* X509_STORE_add_cert takes its own reference; adding the same certificate twice is fine. */
	if (!X509_STORE_add_cert(t->store, x))
		return PCITSM_E_NOMEM;
	t->nr_anchors++;
	return PCITSM_OK;
}

pcitsm_err pcitsm_trust_add_der(struct pcitsm_trust *t, const uint8_t *der, size_t len)
{
	X509 *x;
	pcitsm_err err;

	if (!t || !der)
		return PCITSM_E_INVAL;
	x = x509_parse_exact(der, len);
	if (!x)
		return PCITSM_E_FIELD;
	err = trust_add(t, x);
	X509_free(x);
	return err;
}

/* PEM blocks in a buffer: the "-----BEGIN " boundaries (RFC 7468 2). */
static unsigned pem_blocks(const uint8_t *buf, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	const uint8_t *p = buf, *end = buf + len, *hit;
	unsigned n = 0;

	while ((hit = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1))) {
		n++;
		p = hit + sizeof(begin) - 1;
	}
	return n;
}

/* Every PEM block of a file must be a certificate, and there must be at least one. (OpenSSL's
 * reader skips blocks of other types, so the blocks are counted here.) */
static pcitsm_err trust_add_pem(struct pcitsm_trust *t, const uint8_t *buf, size_t len)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	unsigned added = 0, blocks = pem_blocks(buf, len);
	pcitsm_err err = PCITSM_OK;
	X509 *x;

	if (!b)
		return PCITSM_E_NOMEM;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		err = trust_add(t, x);
		X509_free(x);
		if (err)
			goto out;
		added++;
	}
	/* The loop ends on "no start line" at the end of the data; anything else is a bad block. */
	if (!added || added != blocks ||
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		err = PCITSM_E_FIELD;
out:
	ERR_clear_error();
	BIO_free(b);
	return err;
}

static pcitsm_err read_small_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	pcitsm_err err = PCITSM_OK;

	*buf = NULL;
	if (!f)
		return errno == ENOENT ? PCITSM_E_NOTFOUND : PCITSM_E_SYSTEM;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		err = PCITSM_E_INVAL;
		goto out;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > TRUST_FILE_MAX) {
		err = PCITSM_E_FIELD;
		goto out;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		err = PCITSM_E_NOMEM;
		goto out;
	}
	if (fread(*buf, 1, *len, f) != *len) {
		free(*buf);
		*buf = NULL;
		err = PCITSM_E_IO;
	}
out:
	fclose(f);
	return err;
}

/* One anchor file: exactly one DER certificate if it starts like one (a SEQUENCE tag, which no
 * PEM text starts with), else PEM. */
static pcitsm_err trust_add_file(struct pcitsm_trust *t, const char *path)
{
	uint8_t *buf;
	size_t len;
	pcitsm_err err = read_small_file(path, &buf, &len);

	if (err)
		return err;
	if (buf[0] == DER_SEQUENCE)
		err = pcitsm_trust_add_der(t, buf, len);
	else
		err = trust_add_pem(t, buf, len);
	free(buf);
	return err;
}

/* Every regular file of the directory not starting with '.' must be an anchor file. */
static pcitsm_err trust_add_dir(struct pcitsm_trust *t, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	pcitsm_err err = PCITSM_OK;

	if (!d)
		return PCITSM_E_SYSTEM;
	while (!err && (e = readdir(d))) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path)) {
			err = PCITSM_E_INVAL;
			break;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		err = trust_add_file(t, path);
	}
	closedir(d);
	return err;
}

pcitsm_err pcitsm_trust_load(struct pcitsm_trust **t, const char *path)
{
	struct pcitsm_trust *n;
	struct stat st;
	pcitsm_err err;

	if (!t || !path)
		return PCITSM_E_INVAL;
	*t = NULL;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? PCITSM_E_NOTFOUND : PCITSM_E_SYSTEM;
	PCITSM_TRY(pcitsm_trust_new(&n));
	err = S_ISDIR(st.st_mode) ? trust_add_dir(n, path) : trust_add_file(n, path);
	if (!err && !n->nr_anchors)
		err = PCITSM_E_NOTFOUND;
	if (err) {
		pcitsm_trust_free(n);
		return err;
	}
	*t = n;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Chain validation
 */

struct chain {
	X509 *cert[PCITSM_X509_MAX_CERTS];
	size_t n;
};

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		X509_free(c->cert[i]);
	c->n = 0;
}

/* Strict parse: the bytes are a sequence of complete DER certificates and nothing else. */
static pcitsm_err chain_parse(struct chain *c, const uint8_t *certs, size_t len, char *why,
			      size_t why_len)
{
	size_t off[PCITSM_X509_MAX_CERTS], clen[PCITSM_X509_MAX_CERTS], n;
	pcitsm_err err = pcitsm_x509_chain_split(certs, len, off, clen, PCITSM_X509_MAX_CERTS, &n);

	c->n = 0;
	if (err) {
		pcitsm_why(why, why_len,
			"certificate chain is not a sequence of DER certificates (%s)",
			err == PCITSM_E_NOSPC ? "too many certificates" : pcitsm_err_str(err));
		return PCITSM_E_FIELD;
	}
	for (c->n = 0; c->n < n; c->n++) {
		c->cert[c->n] = x509_parse_exact(certs + off[c->n], clen[c->n]);
		if (!c->cert[c->n]) {
			pcitsm_why(why, why_len,
				"certificate %zu (bytes %zu..%zu) is not a valid X.509 "
				"certificate", c->n, off[c->n], off[c->n] + clen[c->n]);
			ERR_clear_error();
			chain_free(c);
			return PCITSM_E_FIELD;
		}
	}
	return PCITSM_OK;
}

static void cert_why(char *why, size_t why_len, const char *who, const X509 *x, const char *what)
{
	char subj[256];

	if (subject_line(x, subj, sizeof(subj)))
		snprintf(subj, sizeof(subj), "?");
	pcitsm_why(why, why_len, "%s (%s): %s", who, subj, what);
}

/* SPDM order: each certificate is issued by the one before it. X509_verify_cert builds its own
 * path from an unordered pool, so the order is checked here (names and key identifiers; the
 * signatures are checked by the validation that follows). */
static pcitsm_err chain_check_order(const struct chain *c, char *why, size_t why_len)
{
	for (size_t i = 1; i < c->n; i++) {
		int rc = X509_check_issued(c->cert[i - 1], c->cert[i]);
		char who[64];

		if (rc == X509_V_OK)
			continue;
		snprintf(who, sizeof(who), "certificate %zu", i);
		cert_why(why, why_len, who, c->cert[i], X509_verify_cert_error_string(rc));
		return PCITSM_E_CERT;
	}
	return PCITSM_OK;
}

/* The leaf signs SPDM transcripts: ECDSA P-256/P-384 or RSA 2048/3072 (DSP0274 1.3
 * NEGOTIATE_ALGORITHMS), and if it has a key usage extension, digitalSignature must be in it
 * (RFC 5280 4.2.1.3). */
static pcitsm_err leaf_check_key(X509 *leaf, size_t idx, char *why, size_t why_len)
{
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	char who[64], group[32] = "";
	const char *what = NULL;

	snprintf(who, sizeof(who), "certificate %zu", idx);
	if (!pk) {
		what = "leaf public key cannot be decoded";
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
		    (strcmp(group, "prime256v1") && strcmp(group, "secp384r1")))
			what = "leaf EC key is not on P-256 or P-384";
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pk) != 2048 && EVP_PKEY_get_bits(pk) != 3072)
			what = "leaf RSA key is not 2048 or 3072 bits";
	} else {
		what = "leaf key is neither ECDSA nor RSA";
	}
	if (!what && (X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		what = "leaf key usage does not allow digitalSignature";
	if (!what)
		return PCITSM_OK;
	cert_why(why, why_len, who, leaf, what);
	return PCITSM_E_CERT;
}

/* Map the failing depth of OpenSSL's chain (0 = leaf) back to our index (0 = first given). */
static void verify_why(X509_STORE_CTX *ctx, size_t n, char *why, size_t why_len)
{
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	const char *what = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
	char who[64];

	if (depth >= 0 && (size_t)depth < n)
		snprintf(who, sizeof(who), "certificate %zu", n - 1 - (size_t)depth);
	else
		snprintf(who, sizeof(who), "trust anchor");
	if (cur)
		cert_why(why, why_len, who, cur, what);
	else
		pcitsm_why(why, why_len, "%s: %s", who, what);
}

/* The path OpenSSL built must be exactly the given chain, leaf to first, plus at most the anchor
 * that signed the first certificate: nothing skipped, nothing reordered, and no given certificate
 * swapped for a trusted one of the same name and key. */
static pcitsm_err chain_matches_path(const struct chain *c, X509_STORE_CTX *ctx, char *why,
				     size_t why_len)
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
	size_t len = path ? (size_t)sk_X509_num(path) : 0;
	char who[64];

	for (size_t k = 0; k < c->n && k < len; k++) {
		size_t idx = c->n - 1 - k;

		if (!X509_cmp(sk_X509_value(path, (int)k), c->cert[idx]))
			continue;
		snprintf(who, sizeof(who), "certificate %zu", idx);
		cert_why(why, why_len, who, c->cert[idx],
			 "differs from the trusted certificate of the same name and key");
		return PCITSM_E_CERT;
	}
	if (len >= c->n && len <= c->n + 1)
		return PCITSM_OK;
	pcitsm_why(why, why_len, "validated path has %zu certificates for a chain of %zu",
		len, c->n);
	return PCITSM_E_CERT;
}

static pcitsm_err chain_validate(const struct pcitsm_trust *t, const struct chain *c, char *why,
				 size_t why_len)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *pool = sk_X509_new_null();
	pcitsm_err err = PCITSM_E_NOMEM;

	if (!ctx || !pool)
		goto out;
	for (size_t i = 0; i + 1 < c->n; i++)
		if (!sk_X509_push(pool, c->cert[i]))
			goto out;
	/* c->n >= 1: pcitsm_x509_chain_split refuses an empty input (the analyzer misses it) */
	/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
	if (!X509_STORE_CTX_init(ctx, t->store, c->cert[c->n - 1], pool)) {
		err = PCITSM_E_CRYPTO;
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		verify_why(ctx, c->n, why, why_len);
		err = PCITSM_E_CERT;
		goto out;
	}
	err = chain_matches_path(c, ctx, why, why_len);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(pool); /* the certificates stay owned by c */
	return err;
}

pcitsm_err pcitsm_x509_chain_verify(const struct pcitsm_trust *t, const uint8_t *certs, size_t len,
				    EVP_PKEY **leaf_pub, char *why, size_t why_len)
{
	struct chain c;
	pcitsm_err err;

	if (leaf_pub)
		*leaf_pub = NULL;
	pcitsm_why(why, why_len, "%s", "");
	if (!t || (!certs && len))
		return PCITSM_E_INVAL;
	PCITSM_TRY(chain_parse(&c, certs, len, why, why_len));
	err = chain_check_order(&c, why, why_len);
	if (!err)
		err = chain_validate(t, &c, why, why_len);
	if (!err)
		err = leaf_check_key(c.cert[c.n - 1], c.n - 1, why, why_len);
	if (!err && leaf_pub) {
		*leaf_pub = X509_get0_pubkey(c.cert[c.n - 1]);
		if (!*leaf_pub || !EVP_PKEY_up_ref(*leaf_pub)) {
			*leaf_pub = NULL;
			err = PCITSM_E_CRYPTO;
		}
	}
	chain_free(&c);
	return err;
}
