/* SPDX-License-Identifier: MIT */
/*
 * Device identities: a root CA, an intermediate CA and a device leaf certificate with its private
 * key, as an SPDM responder presents them (DSP0274 1.3 GET_CERTIFICATE), plus the measurement
 * blocks it reports (DSP0274 1.3 GET_MEASUREMENTS). Generated in memory, saved to and loaded from a
 * directory whose layout is described in docs/identity.md. Loading trusts nothing: every file is
 * parsed strictly and checked against the others.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/internal.h"

/* Validity: from one hour ago (clock skew between the machine that makes the identity and the one
 * that checks it) for ten years of 365.25 days. */
#define CERT_BACKDATE_SECS 3600
#define CERT_VALID_DAYS 3652
/* Serial numbers: 16 random octets, positive and non-zero (RFC 5280 4.1.2.2 allows up to 20). */
#define CERT_SERIAL_LEN 16
/* No identity file is anywhere near this; a larger one is refused rather than read. */
#define IDENTITY_FILE_MAX (256u << 10)
/* SPDM certificate chain header: Length u16, Reserved u16 (DSP0274 1.3 GET_CERTIFICATE). */
#define SPDM_CHAIN_HDR 4
#define SPDM_CHAIN_MAX 0xffff

/* The files of an identity directory (docs/identity.md). */
#define F_ROOT "root.pem"
#define F_INTER "intermediate.pem"
#define F_DEVICE "device.pem"
#define F_KEY "device.key"
#define F_CHAIN "chain.der"
#define F_SPDM "chain.spdm"
#define F_MEAS "measurements.json"

const char *const pcitsm_identity_files[] = {
	F_ROOT, F_INTER, F_DEVICE, F_KEY, F_CHAIN, F_SPDM, F_MEAS, NULL,
};

/* ---------------------------------------------------------------------------------------------
 * Curves and hashes: one place says which hash goes with which curve
 */

static const char *curve_group(unsigned bits)
{
	return bits == 384 ? "secp384r1" : bits == 256 ? "prime256v1" : NULL;
}

/* Certificate signatures and the SPDM root hash use the hash that matches the curve. */
static const EVP_MD *curve_md(unsigned bits)
{
	return bits == 384 ? EVP_sha384() : EVP_sha256();
}

static unsigned key_curve_bits(EVP_PKEY *key)
{
	char group[32];

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
		return 0;
	return !strcmp(group, "secp384r1") ? 384 : !strcmp(group, "prime256v1") ? 256 : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Certificates
 */

struct cert_spec {
	const char *role;        /* "root CA", "intermediate CA", "device" */
	const char *device_name;
	EVP_PKEY *pub;           /* subject key */
	X509 *issuer;            /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	bool ca;
	const char *key_usage;
};

static pcitsm_err cert_set_serial(X509 *x)
{
	uint8_t raw[CERT_SERIAL_LEN];
	BIGNUM *bn;
	pcitsm_err err = PCITSM_OK;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return PCITSM_E_RNG;
	raw[0] = (raw[0] & 0x7f) | 0x40; /* positive, and never a short or zero serial */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		err = PCITSM_E_NOMEM;
	BN_free(bn);
	return err;
}

/* "O=pcitsm, CN=pcitsm <device> <role>" */
static pcitsm_err cert_set_subject(X509 *x, const struct cert_spec *s)
{
	X509_NAME *name = X509_get_subject_name(x);
	char cn[96];

	snprintf(cn, sizeof(cn), "pcitsm %s %s", s->device_name, s->role);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pcitsm",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
					-1, 0))
		return PCITSM_E_CRYPTO;
	if (!X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name))
		return PCITSM_E_NOMEM;
	return PCITSM_OK;
}

static pcitsm_err cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? PCITSM_OK : PCITSM_E_CRYPTO;
}

/* RFC 5280 4.2: basicConstraints and keyUsage critical, key identifiers for path building. */
static pcitsm_err cert_add_exts(X509 *x, const struct cert_spec *s)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	PCITSM_TRY(cert_add_ext(x, &ctx, NID_basic_constraints,
				s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
	PCITSM_TRY(cert_add_ext(x, &ctx, NID_key_usage, s->key_usage));
	PCITSM_TRY(cert_add_ext(x, &ctx, NID_subject_key_identifier, "hash"));
	return cert_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
}

static pcitsm_err cert_make(X509 **out, const struct cert_spec *s, unsigned curve_bits)
{
	X509 *x = X509_new();
	time_t now = time(NULL);
	pcitsm_err err = PCITSM_E_NOMEM;

	*out = NULL;
	if (!x)
		return PCITSM_E_NOMEM;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, s->pub))
		goto fail;
	/* notBefore = now - 1 h, notAfter = notBefore + 10 years */
	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -CERT_BACKDATE_SECS, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CERT_VALID_DAYS, -CERT_BACKDATE_SECS, &now))
		goto fail;
	err = cert_set_serial(x);
	if (!err)
		err = cert_set_subject(x, s);
	if (!err)
		err = cert_add_exts(x, s);
	if (err)
		goto fail;
	if (!X509_sign(x, s->issuer_key, curve_md(curve_bits))) {
		err = PCITSM_E_CRYPTO;
		goto fail;
	}
	*out = x;
	return PCITSM_OK;
fail:
	X509_free(x);
	return err;
}

static pcitsm_err der_append(uint8_t **buf, size_t *len, X509 *x)
{
	int n = i2d_X509(x, NULL);
	uint8_t *nb, *p;

	if (n <= 0)
		return PCITSM_E_CRYPTO;
	nb = realloc(*buf, *len + (size_t)n);
	if (!nb)
		return PCITSM_E_NOMEM;
	*buf = nb;
	p = nb + *len;
	if (i2d_X509(x, &p) != n)
		return PCITSM_E_CRYPTO;
	*len += (size_t)n;
	return PCITSM_OK;
}

/* The identity's root (DER) and its chain: root, intermediate and device certificates in DER,
 * back to back, the form SPDM's certificate chain carries after its header and root hash. */
static pcitsm_err identity_set_chain(struct pcitsm_identity *id, X509 *root, X509 *inter, X509 *dev)
{
	pcitsm_err err = der_append(&id->root, &id->root_len, root);

	if (!err)
		err = der_append(&id->chain, &id->chain_len, root);
	if (!err)
		err = der_append(&id->chain, &id->chain_len, inter);
	if (!err)
		err = der_append(&id->chain, &id->chain_len, dev);
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * Measurements (DSP0274 1.3 GET_MEASUREMENTS: DMTF measurement value types)
 */

const char *pcitsm_meas_type_name(uint8_t value_type)
{
	static const char *const names[] = {
		"immutable ROM", "mutable firmware", "hardware configuration",
		"firmware configuration", "measurement manifest", "device mode", "version",
		"security version number", "hash-extended measurement", "informational",
		"structured measurement manifest",
	};

	return value_type < PCITSM_ARRAY_SIZE(names) ? names[value_type] : "reserved";
}

/* The default blocks. Digest sources are what the device would hash with the negotiated
 * MeasurementHashAlgo; the raw one is reported as is. */
static const struct meas_default {
	uint8_t index;
	uint8_t value_type;
	bool raw;
	uint8_t len;
} meas_defaults[] = {
	{ 1, 0, false, 48 }, /* immutable ROM */
	{ 2, 1, false, 48 }, /* mutable firmware */
	{ 3, 2, true, 16 },  /* hardware configuration, raw bit stream (a register snapshot) */
	{ 4, 3, false, 32 }, /* firmware configuration */
};

/* value = SHA-512("pcitsm measurement" || index || device name), truncated: fixed per device name,
 * different between devices. */
static pcitsm_err meas_defaults_fill(struct pcitsm_identity *id, const char *device_name)
{
	static const char label[] = "pcitsm measurement";

	for (size_t i = 0; i < PCITSM_ARRAY_SIZE(meas_defaults); i++) {
		const struct meas_default *d = &meas_defaults[i];
		struct pcitsm_measurement *m = &id->meas[i];
		uint8_t digest[64];
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		int ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) &&
			 EVP_DigestUpdate(md, label, sizeof(label) - 1) &&
			 EVP_DigestUpdate(md, &d->index, 1) &&
			 EVP_DigestUpdate(md, device_name, strlen(device_name)) &&
			 EVP_DigestFinal_ex(md, digest, NULL);

		EVP_MD_CTX_free(md);
		if (!ok)
			return PCITSM_E_CRYPTO;
		m->index = d->index;
		m->value_type = d->value_type;
		m->raw = d->raw;
		m->len = d->len;
		memcpy(m->value, digest, d->len);
	}
	id->nr_meas = PCITSM_ARRAY_SIZE(meas_defaults);
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Generation
 */

static bool device_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!len || len > PCITSM_IDENTITY_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	return true;
}

pcitsm_err pcitsm_identity_generate(struct pcitsm_identity *id, unsigned curve_bits,
				    const char *device_name)
{
	EVP_PKEY *root_key = NULL, *inter_key = NULL, *dev_key = NULL;
	X509 *root = NULL, *inter = NULL, *dev = NULL;
	const char *group = curve_group(curve_bits);
	pcitsm_err err = PCITSM_E_CRYPTO;

	if (!id)
		return PCITSM_E_INVAL;
	memset(id, 0, sizeof(*id));
	if (!group || !device_name_ok(device_name))
		return PCITSM_E_INVAL;
	root_key = EVP_EC_gen(group);
	inter_key = EVP_EC_gen(group);
	dev_key = EVP_EC_gen(group);
	if (!root_key || !inter_key || !dev_key)
		goto out;

	/* root CA: self-signed */
	err = cert_make(&root, &(struct cert_spec){ "root CA", device_name, root_key, NULL, root_key,
						    true, "critical,keyCertSign,cRLSign" },
			curve_bits);
	/* intermediate CA: signed by the root */
	if (!err)
		err = cert_make(&inter, &(struct cert_spec){ "intermediate CA", device_name, inter_key,
							     root, root_key, true,
							     "critical,keyCertSign,cRLSign" },
				curve_bits);
	/* device leaf: signed by the intermediate, signs SPDM transcripts */
	if (!err)
		err = cert_make(&dev, &(struct cert_spec){ "device", device_name, dev_key, inter,
							   inter_key, false,
							   "critical,digitalSignature" },
				curve_bits);
	if (!err)
		err = identity_set_chain(id, root, inter, dev);
	if (!err)
		err = meas_defaults_fill(id, device_name);
	if (!err) {
		id->key = dev_key;
		dev_key = NULL;
		id->curve_bits = curve_bits;
	}
out:
	ERR_clear_error();
	X509_free(root);
	X509_free(inter);
	X509_free(dev);
	/* The CA keys exist only to sign the two certificates; EVP_PKEY_free clears them. */
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(inter_key);
	EVP_PKEY_free(dev_key);
	if (err)
		pcitsm_identity_free(id);
	return err;
}

void pcitsm_identity_free(struct pcitsm_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	free(id->chain);
	free(id->root);
	pcitsm_wipe(id, sizeof(*id));
}

/* ---------------------------------------------------------------------------------------------
 * SPDM certificate chain (DSP0274 1.3 GET_CERTIFICATE)
 */

pcitsm_err pcitsm_identity_spdm_chain(const struct pcitsm_identity *id, uint8_t *out, size_t cap,
				      size_t *len)
{
	const EVP_MD *md;
	size_t h, total;
	struct pcitsm_wr w;
	uint8_t *root_hash;

	if (!id || !len || !id->chain || !id->root || !curve_group(id->curve_bits))
		return PCITSM_E_INVAL;
	md = curve_md(id->curve_bits);
	h = (size_t)EVP_MD_get_size(md);
	total = SPDM_CHAIN_HDR + h + id->chain_len;
	*len = total;
	if (total > SPDM_CHAIN_MAX)
		return PCITSM_E_RANGE;
	if (!out || cap < total)
		return PCITSM_E_NOSPC;
	pcitsm_wr_init(&w, out, cap);
	pcitsm_wr_le16(&w, (uint16_t)total); /* Length, header included */
	pcitsm_wr_le16(&w, 0);               /* Reserved */
	root_hash = pcitsm_wr_reserve(&w, h); /* RootHash = Hash(root certificate DER) */
	pcitsm_wr_bytes(&w, id->chain, id->chain_len);
	if (pcitsm_wr_err(&w))
		return pcitsm_wr_err(&w);
	if (!EVP_Digest(id->root, id->root_len, root_hash, NULL, md, NULL))
		return PCITSM_E_CRYPTO;
	return PCITSM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Saving
 */

/* Write dir/name through a temporary file and a rename, so a reader sees the old file or the new
 * one, never half of one. mode is applied even if the file existed. */
static pcitsm_err write_file(const char *dir, const char *name, const void *data, size_t len,
			     mode_t mode)
{
	char path[4096], tmp[4096];
	const uint8_t *p = data;
	pcitsm_err err = PCITSM_E_IO;
	int fd, saved;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp))
		return PCITSM_E_INVAL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return PCITSM_E_SYSTEM;
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err = PCITSM_E_SYSTEM;
		goto fail;
	}
	return PCITSM_OK;
fail:
	saved = errno; /* the cause, for the caller's message */
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return err;
}

/* Write what a memory BIO holds. */
static pcitsm_err write_bio(const char *dir, const char *name, BIO *b, mode_t mode)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0)
		return PCITSM_E_CRYPTO;
	return write_file(dir, name, p, (size_t)n, mode);
}

static pcitsm_err save_cert_pem(const char *dir, const char *name, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	pcitsm_err err = PCITSM_E_CRYPTO;

	if (x && b && PEM_write_bio_X509(b, x))
		err = write_bio(dir, name, b, 0644);
	BIO_free(b);
	X509_free(x);
	return err;
}

/* PKCS#8, unencrypted, mode 0600; the BIO is secure memory, cleared when freed. */
static pcitsm_err save_key(const char *dir, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	pcitsm_err err = PCITSM_E_CRYPTO;

	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		err = write_bio(dir, F_KEY, b, 0600);
	BIO_free(b);
	return err;
}

/* A text file ending in a newline. */
static pcitsm_err write_text_line(const char *dir, const char *name, const char *text)
{
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	pcitsm_err err;

	if (!line)
		return PCITSM_E_NOMEM;
	memcpy(line, text, len);
	line[len] = '\n';
	err = write_file(dir, name, line, len + 1, 0644);
	free(line);
	return err;
}

static pcitsm_err save_meas(const char *dir, const struct pcitsm_identity *id)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	pcitsm_err err = PCITSM_E_NOMEM;
	const char *text;

	if (!root || !arr) {
		json_object_put(arr);
		goto out;
	}
	json_object_object_add(root, "measurements", arr);
	for (unsigned i = 0; i < id->nr_meas; i++) {
		const struct pcitsm_measurement *m = &id->meas[i];
		json_object *o = json_object_new_object();
		char hex[2 * PCITSM_MEAS_MAX_VALUE + 1];

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto out;
		}
		pcitsm_hex(hex, m->value, m->len);
		json_object_object_add(o, "index", json_object_new_int(m->index));
		json_object_object_add(o, "type", json_object_new_int(m->value_type));
		json_object_object_add(o, "type_name",
				       json_object_new_string(pcitsm_meas_type_name(m->value_type)));
		json_object_object_add(o, "raw", json_object_new_boolean(m->raw));
		json_object_object_add(o, "value", json_object_new_string(hex));
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	err = text ? write_text_line(dir, F_MEAS, text) : PCITSM_E_NOMEM;
out:
	json_object_put(root);
	return err;
}

pcitsm_err pcitsm_identity_save(const struct pcitsm_identity *id, const char *dir)
{
	size_t off[3], clen[3], n, spdm_len;
	uint8_t *spdm = NULL;
	struct stat st;
	pcitsm_err err;

	if (!id || !dir || !id->key || !id->chain || !id->root)
		return PCITSM_E_INVAL;
	/* root, intermediate, device; and root is the first of them */
	if (pcitsm_x509_chain_split(id->chain, id->chain_len, off, clen, 3, &n) || n != 3 ||
	    id->root_len != clen[0] || memcmp(id->root, id->chain, clen[0]))
		return PCITSM_E_INVAL;
	if (mkdir(dir, 0755) < 0 && (errno != EEXIST || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return PCITSM_E_SYSTEM;
	err = pcitsm_identity_spdm_chain(id, NULL, 0, &spdm_len);
	if (err != PCITSM_E_NOSPC)
		return err ? err : PCITSM_E_INVAL;
	spdm = malloc(spdm_len);
	if (!spdm)
		return PCITSM_E_NOMEM;
	err = pcitsm_identity_spdm_chain(id, spdm, spdm_len, &spdm_len);
	if (!err)
		err = save_key(dir, id->key);
	if (!err)
		err = save_cert_pem(dir, F_ROOT, id->chain + off[0], clen[0]);
	if (!err)
		err = save_cert_pem(dir, F_INTER, id->chain + off[1], clen[1]);
	if (!err)
		err = save_cert_pem(dir, F_DEVICE, id->chain + off[2], clen[2]);
	if (!err)
		err = write_file(dir, F_CHAIN, id->chain, id->chain_len, 0644);
	if (!err)
		err = write_file(dir, F_SPDM, spdm, spdm_len, 0644);
	if (!err)
		err = save_meas(dir, id);
	free(spdm);
	ERR_clear_error();
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * Loading: every file parsed strictly and checked against the others
 */

struct loader {
	const char *dir;
	char *why;
	size_t why_len;
};

/* Read dir/name whole, NUL-terminated (for PEM and JSON text). The caller frees (and wipes the key
 * file's bytes). */
static pcitsm_err load_file(const struct loader *l, const char *name, uint8_t **buf, size_t *len)
{
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd;

	*buf = NULL;
	*len = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", l->dir, name) >= sizeof(path))
		return PCITSM_E_INVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pcitsm_why(l->why, l->why_len, "%s: %s", name, strerror(errno));
		return errno == ENOENT ? PCITSM_E_NOTFOUND : PCITSM_E_SYSTEM;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > IDENTITY_FILE_MAX) {
		pcitsm_why(l->why, l->why_len, "%s: not a regular file of 1..%u bytes", name,
			IDENTITY_FILE_MAX);
		close(fd);
		return PCITSM_E_FIELD;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return PCITSM_E_NOMEM;
	}
	n = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		pcitsm_why(l->why, l->why_len, "%s: short read", name);
		free(*buf);
		*buf = NULL;
		return PCITSM_E_IO;
	}
	(*buf)[n] = '\0';
	*len = (size_t)n;
	return PCITSM_OK;
}

/* A PEM file holding exactly one certificate and nothing else of substance. */
static pcitsm_err load_cert(const struct loader *l, const char *name, X509 **out)
{
	uint8_t *buf;
	size_t len;
	BIO *b;
	X509 *extra = NULL;
	pcitsm_err err = load_file(l, name, &buf, &len);

	*out = NULL;
	if (err)
		return err;
	b = BIO_new_mem_buf(buf, (int)len);
	if (b) {
		*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
		extra = *out ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	}
	if (!*out || extra) {
		pcitsm_why(l->why, l->why_len, "%s: %s", name,
			extra ? "more than one certificate" : "not a PEM certificate");
		X509_free(*out);
		*out = NULL;
		err = b ? PCITSM_E_FIELD : PCITSM_E_NOMEM;
	}
	X509_free(extra);
	BIO_free(b);
	free(buf);
	ERR_clear_error();
	return err;
}

/* device.key: a PEM private key on P-256 or P-384 that matches device.pem. */
static pcitsm_err load_key(const struct loader *l, X509 *leaf, EVP_PKEY **out)
{
	uint8_t *buf;
	size_t len;
	BIO *b;
	pcitsm_err err = load_file(l, F_KEY, &buf, &len);

	*out = NULL;
	if (err)
		return err;
	b = BIO_new_mem_buf(buf, (int)len);
	if (b)
		*out = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	pcitsm_wipe(buf, len);
	free(buf);
	ERR_clear_error();
	if (!*out) {
		pcitsm_why(l->why, l->why_len, "%s: not an unencrypted PEM private key",
			F_KEY);
		return PCITSM_E_FIELD;
	}
	if (!key_curve_bits(*out)) {
		pcitsm_why(l->why, l->why_len, "%s: not an ECDSA P-256 or P-384 key", F_KEY);
		err = PCITSM_E_FIELD;
	} else if (EVP_PKEY_eq(*out, X509_get0_pubkey(leaf)) != 1) {
		pcitsm_why(l->why, l->why_len, "%s: does not match the key of %s", F_KEY,
			F_DEVICE);
		err = PCITSM_E_FIELD;
	}
	if (err) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	ERR_clear_error();
	return err;
}

/* root.pem, intermediate.pem and device.pem must form a chain that validates with root.pem as
 * the only anchor, and chain.der must be exactly those three in DER. */
static pcitsm_err load_check_chain(const struct loader *l, const struct pcitsm_identity *id)
{
	struct pcitsm_trust *t;
	uint8_t *buf;
	size_t len;
	char why[384] = "";
	pcitsm_err err;

	PCITSM_TRY(pcitsm_trust_new(&t));
	err = pcitsm_trust_add_der(t, id->root, id->root_len);
	if (!err)
		err = pcitsm_x509_chain_verify(t, id->chain, id->chain_len, NULL, why, sizeof(why));
	if (err)
		pcitsm_why(l->why, l->why_len, "certificates do not form a valid chain: %s",
			why);
	pcitsm_trust_free(t);
	if (err)
		return err;
	PCITSM_TRY(load_file(l, F_CHAIN, &buf, &len));
	if (len != id->chain_len || memcmp(buf, id->chain, len)) {
		pcitsm_why(l->why, l->why_len, "%s: differs from %s, %s and %s", F_CHAIN,
			F_ROOT, F_INTER, F_DEVICE);
		err = PCITSM_E_FIELD;
	}
	free(buf);
	return err;
}

/* chain.spdm: the header, the root hash for the identity's curve, then exactly chain.der. */
static pcitsm_err load_check_spdm(const struct loader *l, const struct pcitsm_identity *id)
{
	uint8_t *buf, *want = NULL;
	size_t len, want_len;
	pcitsm_err err = load_file(l, F_SPDM, &buf, &len);

	if (err)
		return err;
	err = pcitsm_identity_spdm_chain(id, NULL, 0, &want_len);
	if (err == PCITSM_E_NOSPC) {
		want = malloc(want_len);
		err = want ? pcitsm_identity_spdm_chain(id, want, want_len, &want_len)
			   : PCITSM_E_NOMEM;
	}
	if (!err && (len != want_len || memcmp(buf, want, len))) {
		pcitsm_why(l->why, l->why_len,
			"%s: not the SPDM chain (length, root hash %s) of %s",
			F_SPDM, id->curve_bits == 384 ? "SHA-384" : "SHA-256", F_CHAIN);
		err = PCITSM_E_FIELD;
	}
	free(want);
	free(buf);
	return err;
}

/* One measurements.json entry: {"index": 1..254, "type": 0..127, "raw": bool, "value": "hex"}. */
static bool meas_parse_one(json_object *o, struct pcitsm_measurement *m)
{
	json_object *idx, *type, *raw, *value;
	const char *hex;
	size_t n;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "index", &idx) || !json_object_is_type(idx, json_type_int) ||
	    !json_object_object_get_ex(o, "type", &type) || !json_object_is_type(type, json_type_int) ||
	    !json_object_object_get_ex(o, "raw", &raw) || !json_object_is_type(raw, json_type_boolean) ||
	    !json_object_object_get_ex(o, "value", &value) ||
	    !json_object_is_type(value, json_type_string))
		return false;
	/* Indices 1..0xFE; 0 and 0xFF are GET_MEASUREMENTS operations (DSP0274 1.3
	 * GET_MEASUREMENTS). */
	if (json_object_get_int64(idx) < 1 || json_object_get_int64(idx) > 0xfe ||
	    json_object_get_int64(type) < 0 || json_object_get_int64(type) > 0x7f)
		return false;
	hex = json_object_get_string(value);
	n = strlen(hex);
	if (!n || n % 2 || n / 2 > PCITSM_MEAS_MAX_VALUE)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		if (!isxdigit((unsigned char)byte[0]) || !isxdigit((unsigned char)byte[1]))
			return false;
		m->value[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	m->index = (uint8_t)json_object_get_int64(idx);
	m->value_type = (uint8_t)json_object_get_int64(type);
	m->raw = json_object_get_boolean(raw);
	m->len = n / 2;
	return true;
}

static pcitsm_err meas_parse(struct pcitsm_identity *id, const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = NULL, *arr;
	bool ok = false;
	size_t n = 0;

	if (!tok)
		return PCITSM_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	/* One complete JSON document, then at most whitespace. */
	if (!root || strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") !=
			     len - json_tokener_get_parse_end(tok))
		goto out;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "measurements", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto out;
	n = json_object_array_length(arr);
	if (n > PCITSM_IDENTITY_MAX_MEAS)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!meas_parse_one(json_object_array_get_idx(arr, i), &id->meas[i]))
			goto out;
		for (size_t j = 0; j < i; j++)
			if (id->meas[j].index == id->meas[i].index)
				goto out;
	}
	id->nr_meas = (unsigned)n;
	ok = true;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ok ? PCITSM_OK : PCITSM_E_FIELD;
}

static pcitsm_err load_meas(const struct loader *l, struct pcitsm_identity *id)
{
	uint8_t *buf;
	size_t len;
	pcitsm_err err = load_file(l, F_MEAS, &buf, &len);

	if (err)
		return err;
	err = meas_parse(id, (const char *)buf, len);
	if (err == PCITSM_E_FIELD)
		pcitsm_why(l->why, l->why_len,
			"%s: not a JSON object {\"measurements\": [{\"index\": 1-254, "
			"\"type\": 0-127, \"raw\": bool, \"value\": \"hex, up to %d bytes\"}, ...]} with "
			"distinct indices (at most %d)", F_MEAS, PCITSM_MEAS_MAX_VALUE,
			PCITSM_IDENTITY_MAX_MEAS);
	free(buf);
	return err;
}

pcitsm_err pcitsm_identity_load_why(struct pcitsm_identity *id, const char *dir, char *why,
				    size_t why_len)
{
	const struct loader l = { dir, why, why_len };
	X509 *root = NULL, *inter = NULL, *dev = NULL;
	pcitsm_err err;

	pcitsm_why(why, why_len, "%s", "");
	if (!id || !dir)
		return PCITSM_E_INVAL;
	memset(id, 0, sizeof(*id));
	err = load_cert(&l, F_ROOT, &root);
	if (!err)
		err = load_cert(&l, F_INTER, &inter);
	if (!err)
		err = load_cert(&l, F_DEVICE, &dev);
	if (!err)
		err = load_key(&l, dev, &id->key);
	if (!err) {
		id->curve_bits = key_curve_bits(id->key);
		err = identity_set_chain(id, root, inter, dev);
	}
	if (!err)
		err = load_check_chain(&l, id);
	if (!err)
		err = load_check_spdm(&l, id);
	if (!err)
		err = load_meas(&l, id);
	X509_free(root);
	X509_free(inter);
	X509_free(dev);
	ERR_clear_error();
	if (err)
		pcitsm_identity_free(id);
	return err;
}

pcitsm_err pcitsm_identity_load(struct pcitsm_identity *id, const char *dir)
{
	return pcitsm_identity_load_why(id, dir, NULL, 0);
}
