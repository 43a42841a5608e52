/* SPDX-License-Identifier: MIT */
/* crypto: X.509 chain splitting, validation and trust anchors. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pcitsm/crypto.h"
#include "testutil.h"

#define DAY (24L * 3600)

/* ---------------------------------------------------------------------------------------------
 * Helpers: certificates with chosen validity and keys, made here with OpenSSL directly.
 */

struct tcert {
	X509 *x;
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate valid from now+from to now+to seconds, signed by issuer (NULL: self-signed). */
static struct tcert make_cert_key(const char *cn, const struct tcert *issuer, EVP_PKEY *key,
				  long from, long to, bool ca, const char *ku);

static struct tcert make_cert(const char *cn, const struct tcert *issuer, const char *group,
			      long from, long to, bool ca, const char *ku)
{
	return make_cert_key(cn, issuer, EVP_EC_gen(group), from, to, ca, ku);
}

/* The same with a given key (owned by the result): a second certificate for an existing key. */
static struct tcert make_cert_key(const char *cn, const struct tcert *issuer, EVP_PKEY *key,
				  long from, long to, bool ca, const char *ku)
{
	struct tcert c = { X509_new(), key, NULL, 0 };
	X509_NAME *name;
	unsigned char *p;

	assert_non_null(c.x);
	assert_non_null(c.key);
	assert_true(X509_set_version(c.x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(c.x), 1 + (long)strlen(cn)));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c.x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c.x), to));
	name = X509_get_subject_name(c.x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					       -1, -1, 0));
	assert_true(X509_set_issuer_name(c.x, issuer ? X509_get_subject_name(issuer->x) : name));
	assert_true(X509_set_pubkey(c.x, c.key));
	add_ext(c.x, NULL, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(c.x, NULL, NID_key_usage, ku);
	add_ext(c.x, NULL, NID_subject_key_identifier, "hash");
	add_ext(c.x, issuer ? issuer->x : NULL, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(c.x, issuer ? issuer->key : c.key, EVP_sha256()));
	c.len = (size_t)i2d_X509(c.x, NULL);
	c.der = malloc(c.len);
	p = c.der;
	assert_int_equal(i2d_X509(c.x, &p), (int)c.len);
	return c;
}

static struct tcert make_ca(const char *cn, const struct tcert *issuer, long from, long to)
{
	return make_cert(cn, issuer, "P-256", from, to, true, "critical,keyCertSign");
}

static struct tcert make_leaf(const char *cn, const struct tcert *issuer, long from, long to)
{
	return make_cert(cn, issuer, "P-256", from, to, false, "critical,digitalSignature");
}

static void tcert_free(struct tcert *c)
{
	X509_free(c->x);
	EVP_PKEY_free(c->key);
	free(c->der);
}

/* Concatenate up to three DER certificates. */
static size_t cat3(uint8_t *out, const struct tcert *a, const struct tcert *b, const struct tcert *c)
{
	size_t n = 0;
	const struct tcert *v[] = { a, b, c };

	for (int i = 0; i < 3; i++) {
		if (!v[i])
			continue;
		memcpy(out + n, v[i]->der, v[i]->len);
		n += v[i]->len;
	}
	return n;
}

static struct pcitsm_trust *trust_of(const uint8_t *der, size_t len)
{
	struct pcitsm_trust *t;

	assert_ok(pcitsm_trust_new(&t));
	assert_ok(pcitsm_trust_add_der(t, der, len));
	return t;
}

/* Offsets of the three certificates of an identity's chain. */
static void split3(const struct pcitsm_identity *id, size_t off[3], size_t len[3])
{
	size_t n;

	assert_ok(pcitsm_x509_chain_split(id->chain, id->chain_len, off, len, 3, &n));
	assert_int_equal(n, 3);
}

/* ---------------------------------------------------------------------------------------------
 * Validation of generated identities
 */

static void verify_generated_chain(void **state)
{
	static const unsigned curves[] = { 256, 384 };

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(curves); i++) {
		struct pcitsm_identity id;
		struct pcitsm_trust *t;
		EVP_PKEY *pub;
		char why[256];

		assert_ok(pcitsm_identity_generate(&id, curves[i], "dev0"));
		t = trust_of(id.root, id.root_len);
		assert_ok(pcitsm_x509_chain_verify(t, id.chain, id.chain_len, &pub, why,
						   sizeof(why)));
		assert_string_equal(why, "");
		assert_int_equal(EVP_PKEY_eq(pub, id.key), 1);
		EVP_PKEY_free(pub);
		/* leaf_pub and why are optional */
		assert_ok(pcitsm_x509_chain_verify(t, id.chain, id.chain_len, NULL, NULL, 0));
		pcitsm_trust_free(t);
		pcitsm_identity_free(&id);
	}
}

/* The first certificate may be signed by an anchor instead of being one: drop the root. */
static void verify_first_cert_signed_by_anchor(void **state)
{
	struct pcitsm_identity id;
	struct pcitsm_trust *t;
	size_t off[3], len[3];

	assert_ok(pcitsm_identity_generate(&id, 256, "dev0"));
	split3(&id, off, len);
	t = trust_of(id.root, id.root_len);
	assert_ok(pcitsm_x509_chain_verify(t, id.chain + off[1], id.chain_len - off[1], NULL, NULL,
					   0));
	/* Only the leaf: its issuer (the intermediate) is not an anchor. */
	assert_err(pcitsm_x509_chain_verify(t, id.chain + off[2], len[2], NULL, NULL, 0),
		   PCITSM_E_CERT);
	pcitsm_trust_free(t);
	pcitsm_identity_free(&id);
}

static void verify_wrong_anchor(void **state)
{
	struct pcitsm_identity a, b;
	struct pcitsm_trust *t;
	EVP_PKEY *pub = (EVP_PKEY *)1;
	char why[256];

	assert_ok(pcitsm_identity_generate(&a, 384, "dev0"));
	assert_ok(pcitsm_identity_generate(&b, 384, "dev0"));
	t = trust_of(b.root, b.root_len);
	assert_err(pcitsm_x509_chain_verify(t, a.chain, a.chain_len, &pub, why, sizeof(why)),
		   PCITSM_E_CERT);
	assert_null(pub);
	/* Same subject names, other keys: the self-signed root of a is not trusted. */
	assert_non_null(strstr(why, "certificate 0 (CN=pcitsm dev0 root CA, O=pcitsm)"));
	assert_non_null(strstr(why, "self-signed certificate in certificate chain"));
	pcitsm_trust_free(t);
	pcitsm_identity_free(&a);
	pcitsm_identity_free(&b);
}

static void verify_tampered_signature(void **state)
{
	struct pcitsm_identity id;
	struct pcitsm_trust *t;
	size_t off[3], len[3];
	char why[256];

	assert_ok(pcitsm_identity_generate(&id, 384, "dev0"));
	split3(&id, off, len);
	t = trust_of(id.root, id.root_len);
	/* The last byte of each certificate is the last byte of its signature's s. */
	for (int i = 2; i >= 0; i--) {
		uint8_t *last = id.chain + off[i] + len[i] - 1;
		char want[32];

		*last ^= 0x01;
		assert_err(pcitsm_x509_chain_verify(t, id.chain, id.chain_len, NULL, why,
						    sizeof(why)),
			   PCITSM_E_CERT);
		snprintf(want, sizeof(want), "certificate %d (", i);
		assert_non_null(strstr(why, want));
		*last ^= 0x01;
	}
	/* Restored, it validates again. */
	assert_ok(pcitsm_x509_chain_verify(t, id.chain, id.chain_len, NULL, why, sizeof(why)));
	/* A byte inside the signed part (the intermediate's subject key) also breaks it. */
	id.chain[off[1] + len[1] / 2] ^= 0x80;
	assert_true(pcitsm_x509_chain_verify(t, id.chain, id.chain_len, NULL, why, sizeof(why)) !=
		    PCITSM_OK);
	pcitsm_trust_free(t);
	pcitsm_identity_free(&id);
}

static void verify_leaf_first_fails(void **state)
{
	struct pcitsm_identity id;
	struct pcitsm_trust *t;
	size_t off[3], len[3], n = 0;
	uint8_t rev[4096];
	char why[256];

	assert_ok(pcitsm_identity_generate(&id, 384, "dev0"));
	split3(&id, off, len);
	for (int i = 2; i >= 0; i--) {
		memcpy(rev + n, id.chain + off[i], len[i]);
		n += len[i];
	}
	t = trust_of(id.root, id.root_len);
	assert_err(pcitsm_x509_chain_verify(t, rev, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificate 1 (CN=pcitsm dev0 intermediate CA"));
	/* A missing intermediate: the leaf is not issued by the root. */
	memcpy(rev, id.chain + off[0], len[0]);
	memcpy(rev + len[0], id.chain + off[2], len[2]);
	assert_err(pcitsm_x509_chain_verify(t, rev, len[0] + len[2], NULL, why, sizeof(why)),
		   PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificate 1 (CN=pcitsm dev0 device"));
	pcitsm_trust_free(t);
	pcitsm_identity_free(&id);
}

/* ---------------------------------------------------------------------------------------------
 * Validity periods and leaf keys, with certificates made here
 */

static void verify_expired_and_not_yet_valid(void **state)
{
	struct tcert root = make_ca("test root", NULL, -10 * DAY, 10 * DAY);
	struct tcert old = make_leaf("expired leaf", &root, -10 * DAY, -DAY);
	struct tcert future_root = make_ca("future root", NULL, DAY, 10 * DAY);
	struct tcert leaf2 = make_leaf("good leaf", &future_root, -DAY, DAY);
	struct tcert good = make_leaf("good leaf", &root, -DAY, DAY);
	struct pcitsm_trust *t;
	uint8_t buf[4096];
	char why[256];
	size_t n;

	assert_ok(pcitsm_trust_new(&t));
	assert_ok(pcitsm_trust_add_der(t, root.der, root.len));
	assert_ok(pcitsm_trust_add_der(t, future_root.der, future_root.len));

	n = cat3(buf, &root, &good, NULL);
	assert_ok(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)));

	n = cat3(buf, &root, &old, NULL);
	assert_err(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificate 1 (CN=expired leaf): certificate has expired"));

	n = cat3(buf, &future_root, &leaf2, NULL);
	assert_err(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificate 0 (CN=future root): certificate is not yet valid"));

	pcitsm_trust_free(t);
	tcert_free(&root);
	tcert_free(&old);
	tcert_free(&future_root);
	tcert_free(&leaf2);
	tcert_free(&good);
}

static void verify_leaf_key_checks(void **state)
{
	struct tcert root = make_ca("test root", NULL, -DAY, DAY);
	struct tcert p521 = make_cert("p521 leaf", &root, "P-521", -DAY, DAY, false,
				      "critical,digitalSignature");
	struct tcert nosig = make_cert("agreement leaf", &root, "P-256", -DAY, DAY, false,
				       "critical,keyAgreement");
	struct pcitsm_trust *t = trust_of(root.der, root.len);
	EVP_PKEY *pub = (EVP_PKEY *)1;
	uint8_t buf[4096];
	char why[256];
	size_t n;

	n = cat3(buf, &root, &p521, NULL);
	assert_err(pcitsm_x509_chain_verify(t, buf, n, &pub, why, sizeof(why)), PCITSM_E_CERT);
	assert_null(pub);
	assert_non_null(strstr(why, "certificate 1 (CN=p521 leaf): leaf EC key is not on P-256"));
	n = cat3(buf, &root, &nosig, NULL);
	assert_err(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "digitalSignature"));
	pcitsm_trust_free(t);
	tcert_free(&root);
	tcert_free(&p521);
	tcert_free(&nosig);
}

/* The path OpenSSL builds must be the chain the device sent. Two ways for it to build another:
 * (1) the trust store holds a cross-signed copy of the device's intermediate (same name and key,
 * issued by another trusted root): OpenSSL prefers the trusted copy, so its path swaps the
 * device's intermediate for it; (2) the device's root is itself "issued" by an older certificate
 * of the same name and key that it also sends: OpenSSL stops at the trusted root, a path one
 * shorter than the chain. Both validate in OpenSSL; both must be refused. */
static void verify_path_differs_from_chain(void **state)
{
	struct tcert root = make_ca("test root", NULL, -DAY, 30 * DAY);
	struct tcert root2 = make_ca("other root", NULL, -DAY, 30 * DAY);
	struct tcert inter = make_ca("test intermediate", &root, -DAY, 30 * DAY);
	struct tcert leaf = make_leaf("test leaf", &inter, -DAY, 30 * DAY);
	struct tcert cross, old_root;
	struct pcitsm_trust *t;
	uint8_t buf[8192];
	char why[256];
	size_t n;

	assert_true(EVP_PKEY_up_ref(inter.key));
	cross = make_cert_key("test intermediate", &root2, inter.key, -2 * DAY, 20 * DAY, true,
			      "critical,keyCertSign");
	assert_true(EVP_PKEY_up_ref(root.key));
	old_root = make_cert_key("test root", NULL, root.key, -10 * DAY, 10 * DAY, true,
				 "critical,keyCertSign");
	n = cat3(buf, &root, &inter, &leaf);
	/* Control: the root alone as anchor accepts the chain. */
	t = trust_of(root.der, root.len);
	assert_ok(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)));
	pcitsm_trust_free(t);
	/* (1) Anchors: the other root and the cross-signed intermediate. */
	t = trust_of(root2.der, root2.len);
	assert_ok(pcitsm_trust_add_der(t, cross.der, cross.len));
	assert_err(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "certificate 1 (CN=test intermediate): differs"));
	pcitsm_trust_free(t);
	/* (2) Chain: old root, root, intermediate, leaf; anchor: the root. */
	memcpy(buf, old_root.der, old_root.len);
	n = old_root.len + cat3(buf + old_root.len, &root, &inter, &leaf);
	t = trust_of(root.der, root.len);
	assert_err(pcitsm_x509_chain_verify(t, buf, n, NULL, why, sizeof(why)), PCITSM_E_CERT);
	assert_non_null(strstr(why, "validated path has 3 certificates for a chain of 4"));
	pcitsm_trust_free(t);
	tcert_free(&root);
	tcert_free(&root2);
	tcert_free(&inter);
	tcert_free(&leaf);
	tcert_free(&cross);
	tcert_free(&old_root);
}

/* ---------------------------------------------------------------------------------------------
 * Strict parsing
 */

static void verify_malformed_is_field(void **state)
{
	static const uint8_t garbage[] = "this is not a certificate chain";
	struct pcitsm_identity id;
	struct pcitsm_trust *t;
	size_t off[3], len[3];
	uint8_t *buf;
	char why[256];

	assert_ok(pcitsm_identity_generate(&id, 256, "dev0"));
	split3(&id, off, len);
	t = trust_of(id.root, id.root_len);
	buf = malloc(id.chain_len + 1);
	memcpy(buf, id.chain, id.chain_len);

	/* truncated anywhere: inside the leaf, inside a header, one byte short */
	assert_err(pcitsm_x509_chain_verify(t, buf, id.chain_len - 1, NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	assert_non_null(strstr(why, "not a sequence of DER certificates"));
	assert_err(pcitsm_x509_chain_verify(t, buf, off[2] + 2, NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	assert_err(pcitsm_x509_chain_verify(t, buf, off[1] + 100, NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	/* trailing byte, empty, garbage */
	buf[id.chain_len] = 0x30;
	assert_err(pcitsm_x509_chain_verify(t, buf, id.chain_len + 1, NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	assert_err(pcitsm_x509_chain_verify(t, buf, 0, NULL, why, sizeof(why)), PCITSM_E_FIELD);
	assert_err(pcitsm_x509_chain_verify(t, garbage, sizeof(garbage), NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	/* framing intact but the content is not a certificate: tbsCertificate's tag changed */
	buf[off[1] + 4] = 0x04;
	assert_err(pcitsm_x509_chain_verify(t, buf, id.chain_len, NULL, why, sizeof(why)),
		   PCITSM_E_FIELD);
	assert_non_null(strstr(why, "certificate 1 (bytes"));
	assert_err(pcitsm_x509_chain_verify(NULL, buf, id.chain_len, NULL, NULL, 0), PCITSM_E_INVAL);
	free(buf);
	pcitsm_trust_free(t);
	pcitsm_identity_free(&id);
}

static void split_framing(void **state)
{
	/* three tiny SEQUENCEs: short form, long form 0x81 (>= 128), empty */
	uint8_t in[2 + 1 + 3 + 130 + 2];
	size_t off[3], len[3], n, p = 0;

	memset(in, 0, sizeof(in));
	in[p++] = 0x30, in[p++] = 1, in[p++] = 0xaa;
	in[p++] = 0x30, in[p++] = 0x81, in[p++] = 130, p += 130;
	in[p++] = 0x30, in[p++] = 0;
	assert_int_equal(p, sizeof(in));
	assert_ok(pcitsm_x509_chain_split(in, sizeof(in), off, len, 3, &n));
	assert_int_equal(n, 3);
	assert_int_equal(off[1], 3);
	assert_int_equal(len[1], 133);
	assert_int_equal(off[2], 136);
	assert_int_equal(len[2], 2);
	assert_err(pcitsm_x509_chain_split(in, sizeof(in), off, len, 2, &n), PCITSM_E_NOSPC);
	assert_err(pcitsm_x509_chain_split(in, sizeof(in) - 1, off, len, 3, &n), PCITSM_E_SHORT);
	assert_err(pcitsm_x509_chain_split(in, 0, off, len, 3, &n), PCITSM_E_SHORT);
	/* non-minimal long form for a short length */
	in[4] = 0x81, in[5] = 0x7f;
	assert_err(pcitsm_x509_chain_split(in + 3, 3 + 0x7f, off, len, 3, &n), PCITSM_E_FIELD);
	/* leading zero octet in a long form */
	in[4] = 0x82, in[5] = 0x00;
	assert_err(pcitsm_x509_chain_split(in + 3, sizeof(in) - 3, off, len, 3, &n), PCITSM_E_FIELD);
	/* indefinite length (BER only) and a wrong tag */
	in[4] = 0x80;
	assert_err(pcitsm_x509_chain_split(in + 3, sizeof(in) - 3, off, len, 3, &n), PCITSM_E_FIELD);
	in[0] = 0x31;
	assert_err(pcitsm_x509_chain_split(in, sizeof(in), off, len, 3, &n), PCITSM_E_FIELD);
	assert_err(pcitsm_x509_chain_split(NULL, 1, off, len, 3, &n), PCITSM_E_INVAL);
}

static void subject_line(void **state)
{
	struct pcitsm_identity id;
	size_t off[3], len[3];
	char s[128], tiny[8];

	assert_ok(pcitsm_identity_generate(&id, 256, "dev 7"));
	split3(&id, off, len);
	assert_ok(pcitsm_x509_subject(id.chain + off[2], len[2], s, sizeof(s)));
	assert_string_equal(s, "CN=pcitsm dev 7 device, O=pcitsm");
	assert_ok(pcitsm_x509_subject(id.chain + off[0], len[0], s, sizeof(s)));
	assert_string_equal(s, "CN=pcitsm dev 7 root CA, O=pcitsm");
	assert_err(pcitsm_x509_subject(id.chain + off[0], len[0], tiny, sizeof(tiny)),
		   PCITSM_E_NOSPC);
	assert_err(pcitsm_x509_subject(id.chain + off[0], len[0] - 1, s, sizeof(s)),
		   PCITSM_E_FIELD);
	assert_err(pcitsm_x509_subject(id.chain, id.chain_len, s, sizeof(s)), PCITSM_E_FIELD);
	pcitsm_identity_free(&id);
}

/* ---------------------------------------------------------------------------------------------
 * Trust anchors from files and directories
 */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void write_bytes(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void append_pem(const char *dir, const char *name, const uint8_t *der, size_t len)
{
	char path[4096];
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "ab");
	assert_non_null(f);
	assert_non_null(x);
	assert_true(PEM_write_X509(f, x));
	fclose(f);
	X509_free(x);
}

static void trust_from_dir_and_files(void **state)
{
	struct pcitsm_identity a, b, c;
	struct pcitsm_trust *t;
	char dir[4096], path[4200];
	FILE *f;

	assert_ok(pcitsm_identity_generate(&a, 384, "a"));
	assert_ok(pcitsm_identity_generate(&b, 256, "b"));
	assert_ok(pcitsm_identity_generate(&c, 256, "c"));
	snprintf(dir, sizeof(dir), "%s/test_crypto_x509.XXXXXX", PCITSM_BINARY_DIR);
	assert_non_null(mkdtemp(dir));

	/* a directory: a PEM file with two roots, a DER file with the third, a hidden file */
	append_pem(dir, "ab.pem", a.root, a.root_len);
	append_pem(dir, "ab.pem", b.root, b.root_len);
	write_bytes(dir, "c.der", c.root, c.root_len);
	write_bytes(dir, ".hidden", "x", 1);
	assert_ok(pcitsm_trust_load(&t, dir));
	assert_ok(pcitsm_x509_chain_verify(t, a.chain, a.chain_len, NULL, NULL, 0));
	assert_ok(pcitsm_x509_chain_verify(t, b.chain, b.chain_len, NULL, NULL, 0));
	assert_ok(pcitsm_x509_chain_verify(t, c.chain, c.chain_len, NULL, NULL, 0));
	pcitsm_trust_free(t);

	/* single files */
	snprintf(path, sizeof(path), "%s/ab.pem", dir);
	assert_ok(pcitsm_trust_load(&t, path));
	assert_ok(pcitsm_x509_chain_verify(t, b.chain, b.chain_len, NULL, NULL, 0));
	assert_err(pcitsm_x509_chain_verify(t, c.chain, c.chain_len, NULL, NULL, 0), PCITSM_E_CERT);
	pcitsm_trust_free(t);
	snprintf(path, sizeof(path), "%s/c.der", dir);
	assert_ok(pcitsm_trust_load(&t, path));
	assert_ok(pcitsm_x509_chain_verify(t, c.chain, c.chain_len, NULL, NULL, 0));
	pcitsm_trust_free(t);

	/* a file that is no certificate spoils the directory; so does a truncated DER one */
	write_bytes(dir, "junk.txt", "hello", 5);
	assert_err(pcitsm_trust_load(&t, dir), PCITSM_E_FIELD);
	assert_null(t);
	snprintf(path, sizeof(path), "%s/junk.txt", dir);
	assert_int_equal(unlink(path), 0);
	write_bytes(dir, "cut.der", c.root, c.root_len - 1);
	assert_err(pcitsm_trust_load(&t, dir), PCITSM_E_FIELD);
	snprintf(path, sizeof(path), "%s/cut.der", dir);
	assert_err(pcitsm_trust_load(&t, path), PCITSM_E_FIELD);
	/* a PEM file with a certificate and a block that is not one */
	append_pem(dir, "mixed.pem", c.root, c.root_len);
	snprintf(path, sizeof(path), "%s/mixed.pem", dir);
	f = fopen(path, "ab");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_err(pcitsm_trust_load(&t, path), PCITSM_E_FIELD);
	assert_int_equal(unlink(path), 0);
	/* a PEM file whose block is damaged */
	snprintf(path, sizeof(path), "%s/cut.der", dir);
	write_bytes(dir, "cut.der", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		    59);
	assert_err(pcitsm_trust_load(&t, path), PCITSM_E_FIELD);
	rm_rf(dir);

	/* missing path; empty directory */
	assert_err(pcitsm_trust_load(&t, dir), PCITSM_E_NOTFOUND);
	snprintf(dir, sizeof(dir), "%s/test_crypto_x509.XXXXXX", PCITSM_BINARY_DIR);
	assert_non_null(mkdtemp(dir));
	assert_err(pcitsm_trust_load(&t, dir), PCITSM_E_NOTFOUND);
	rm_rf(dir);
	assert_err(pcitsm_trust_add_der(NULL, a.root, a.root_len), PCITSM_E_INVAL);
	pcitsm_identity_free(&a);
	pcitsm_identity_free(&b);
	pcitsm_identity_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verify_generated_chain),
		cmocka_unit_test(verify_first_cert_signed_by_anchor),
		cmocka_unit_test(verify_wrong_anchor),
		cmocka_unit_test(verify_tampered_signature),
		cmocka_unit_test(verify_leaf_first_fails),
		cmocka_unit_test(verify_expired_and_not_yet_valid),
		cmocka_unit_test(verify_leaf_key_checks),
		cmocka_unit_test(verify_path_differs_from_chain),
		cmocka_unit_test(verify_malformed_is_field),
		cmocka_unit_test(split_framing),
		cmocka_unit_test(subject_line),
		cmocka_unit_test(trust_from_dir_and_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
