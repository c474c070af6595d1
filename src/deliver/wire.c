/* wire.c — channel payloads, SMS measuring, phone and email checks and
 * Standard Webhooks signatures. Contract and invariants in wire.h.
 *
 * Design notes:
 *   - UTF-8 is checked here (utf8_seq: strict — no overlong forms, no
 *     surrogates, nothing above U+10FFFF) before iconv sees a byte, so an
 *     EILSEQ from the converter always means "EUC-KR has no such
 *     character", never "bad input": that one character is skipped and
 *     counted as 2 bytes (invariant 1).
 *   - An iconv descriptor is not safe to share between threads; one is
 *     opened per measure (cheap next to the provider call that follows).
 *     Counting stops as soon as the LMS maximum is passed, so a huge text
 *     costs one UTF-8 scan and 2 KB of conversion, not more.
 *   - Signatures are compared as the whole "v1,<base64>" text, in constant
 *     time, against every entry of the header (no early exit), as the
 *     Standard Webhooks libraries do. The key bytes and the HMAC state are
 *     wiped after use.
 *   - The payload builders are one table (channel name → builder). Each
 *     builder copies what it takes from `rendered` (json_deep_copy or a new
 *     string) and never keeps a reference to it. */
#include <assert.h>
#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "deliver/wire.h"

#define PHONE_MIN_DIGITS  8  /* E.164, country code included */
#define PHONE_MAX_DIGITS  15 /* E.164 */
#define PHONE_OUT_MIN_CAP (1 + PHONE_MAX_DIGITS + 1)
#define EMAIL_MAX_BYTES	  254 /* RFC 5321 path limit, minus the angle brackets */
#define SECRET_PREFIX	  "whsec_"
#define SECRET_KEY_BYTES  24 /* what dlv_webhook_secret_new draws */
#define SIG_PREFIX	  "v1,"
#define SIG_B64_LEN	  (sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_ORIGINAL))
#define SIG_MIN_CAP	  (sizeof SIG_PREFIX - 1 + SIG_B64_LEN) /* the base64 length counts the NUL */

/* ---- one-time library set-up ----------------------------------------- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_setup(void)
{
	if (sodium_init() < 0)
		abort(); /* no randomness source: no secret can be made */
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length (1..4) of the well-formed UTF-8 sequence at s (n bytes left), or
 * 0 when it is not one (RFC 3629 table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF, no truncated sequence). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	}
	return len;
}

/* Offset of the first byte of s that is not well-formed UTF-8, or n. */
static size_t utf8_bad_offset(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t k = utf8_seq(u + i, n - i);
		if (k == 0)
			return i;
		i += k;
	}
	return n;
}

/* ---- SMS length (invariant 1) ---------------------------------------- */

/* *out = EUC-KR bytes of text (len bytes of checked UTF-8), or some value
 * above limit once it is clear the text is longer. CAIRN_EIO when the
 * system has no EUC-KR converter. */
static int euckr_count(const char *text, size_t len, size_t limit, size_t *out, struct cairn_err *err)
{
	iconv_t cd = iconv_open("CP949", "UTF-8");
	if (cd == (iconv_t)-1)
		cd = iconv_open("EUC-KR", "UTF-8");
	if (cd == (iconv_t)-1)
		return cairn_err_set(err, CAIRN_EIO, "encoding_unavailable", "text",
				     "This system has no EUC-KR converter (iconv CP949 or EUC-KR), so SMS length "
				     "cannot be counted; install the glibc gconv modules.");
	char *in = (char *)text; /* iconv's prototype; it only reads */
	size_t in_left = len;
	size_t total = 0;
	int rc = 0;
	while (in_left > 0 && total <= limit) {
		char chunk[256];
		char *o = chunk;
		size_t o_left = sizeof chunk;
		size_t r = iconv(cd, &in, &in_left, &o, &o_left);
		total += sizeof chunk - o_left;
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		if (errno == EILSEQ) {
			/* checked UTF-8, so a character EUC-KR lacks: it counts 2 */
			size_t k = utf8_seq((const unsigned char *)in, in_left);
			assert(k > 0);
			in += k;
			in_left -= k;
			total += 2;
			continue;
		}
		rc = cairn_err_set(err, CAIRN_EIO, "encoding_failed", "text",
				   "Counting the SMS text in EUC-KR failed: %s.", strerror(errno));
		break;
	}
	iconv_close(cd);
	*out = total;
	return rc;
}

int dlv_sms_measure(const char *text, size_t *bytes, enum dlv_sms_kind *kind, struct cairn_err *err)
{
	assert(bytes != NULL && kind != NULL);
	*bytes = 0;
	*kind = DLV_SMS;
	if (text == NULL || text[0] == '\0')
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "text",
				     "text is empty; an SMS needs at least one character.");
	size_t len = strlen(text);
	size_t bad = utf8_bad_offset(text, len);
	if (bad != len)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_utf8", "text",
				     "text is not valid UTF-8 (at byte %zu).", bad);
	size_t n = 0;
	int rc = euckr_count(text, len, DLV_LMS_MAX_BYTES, &n, err);
	if (rc != 0)
		return rc;
	if (n > DLV_LMS_MAX_BYTES)
		return cairn_err_set(err, CAIRN_EUNPROC, "text_too_long", "text",
				     "text is longer than %d bytes in EUC-KR (the LMS maximum; a Hangul syllable "
				     "counts 2); shorten it.",
				     DLV_LMS_MAX_BYTES);
	*bytes = n;
	*kind = n > DLV_SMS_MAX_BYTES ? DLV_LMS : DLV_SMS;
	return 0;
}

/* ---- phone numbers (invariant 2) ------------------------------------- */

static int phone_separator(unsigned char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

int dlv_phone_normalize(const char *in, char *out, size_t cap, struct cairn_err *err)
{
	assert(out != NULL && cap >= PHONE_OUT_MIN_CAP);
	out[0] = '\0';
	if (in == NULL || in[0] == '\0')
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
				     "to is empty; a phone number is needed.");

	char digits[PHONE_MAX_DIGITS + 1]; /* one spare so "too long" is seen */
	size_t nd = 0;
	int plus = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (nd < sizeof digits)
				digits[nd++] = (char)*p;
			else
				return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
						     "to has more than %d digits, the most a phone number (E.164) "
						     "has.",
						     PHONE_MAX_DIGITS);
			continue;
		}
		if (*p == '+' && nd == 0 && !plus) {
			plus = 1;
			continue;
		}
		if (phone_separator(*p))
			continue;
		if (*p == '+')
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
					     "to has a '+' that is not at the start of the number.");
		if (*p > 0x20 && *p < 0x7F)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
					     "to has '%c', which a phone number cannot hold (digits, a leading '+', "
					     "spaces, dashes, dots and parentheses only).",
					     *p);
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
				     "to has the byte 0x%02X, which a phone number cannot hold (digits, a leading "
				     "'+', spaces, dashes, dots and parentheses only).",
				     *p);
	}
	if (nd == 0)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to", "to has no digits.");

	/* country code + national number, as digits */
	const char *cc = "";
	const char *national = digits;
	size_t national_len = nd;
	if (plus) {
		if (digits[0] == '0')
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
					     "to starts with +0; no country code starts with 0.");
	} else if (nd >= 2 && digits[0] == '0' && digits[1] == '0') {
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
				     "to starts with an international dialling prefix (00…); write it as "
				     "+<country code><number>.");
	} else if (digits[0] == '0') {
		cc = "82"; /* Korean trunk prefix 0 dropped */
		national = digits + 1;
		national_len = nd - 1;
	} else if (!(nd >= 2 && digits[0] == '8' && digits[1] == '2')) {
		cc = "82"; /* e.g. 1588-1234, a Korean number with no trunk 0 */
	}
	/* else: "8210…" already carries Korea's country code */

	/* "+82 010-…" (or "82 010…"): Korea's trunk 0 written after the
	 * country code, which E.164 leaves out */
	if (cc[0] == '\0' && national_len > 2 && national[0] == '8' && national[1] == '2' && national[2] == '0') {
		cc = "82";
		national += 3;
		national_len -= 3;
	}
	/* a Korean national number never starts with 0 after the country code
	 * ("+82 (0)010…", "+82 0010…"): drop them all, so normalizing twice
	 * gives the same number */
	while (!strcmp(cc, "82") && national_len > 0 && national[0] == '0') {
		national++;
		national_len--;
	}

	size_t total = strlen(cc) + national_len;
	if (total < PHONE_MIN_DIGITS || total > PHONE_MAX_DIGITS)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
				     "to has %zu digits with its country code; a phone number (E.164) has %d to %d.",
				     total, PHONE_MIN_DIGITS, PHONE_MAX_DIGITS);
	snprintf(out, cap, "+%s%.*s", cc, (int)national_len, national);
	return 0;
}

/* ---- email addresses --------------------------------------------------- */

/* Bytes no address may hold anywhere: what breaks a header or makes the
 * address a list, a group or a quoted form (the same set email.c's
 * parse_mailbox refuses, so an address accepted here is accepted there). */
static int email_forbidden(unsigned char c)
{
	return c <= 0x20 || c == 0x7F || strchr("<>,;:()[]\\\"", c) != NULL;
}

static int email_domain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c >= 0x80;
}

int dlv_email_valid(const char *addr)
{
	if (addr == NULL)
		return 0;
	size_t n = strnlen(addr, EMAIL_MAX_BYTES + 1);
	if (n == 0 || n > EMAIL_MAX_BYTES || utf8_bad_offset(addr, n) != n)
		return 0;
	const char *at = strchr(addr, '@');
	if (at == NULL || at == addr || strchr(at + 1, '@') != NULL)
		return 0;
	for (const char *p = addr; p < at; p++) {
		if (email_forbidden((unsigned char)*p))
			return 0;
	}
	/* domain: labels of letters, digits, '-' or UTF-8 (IDN), none empty,
	 * at least two */
	const char *d = at + 1;
	size_t label = 0, dots = 0;
	for (const char *p = d; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!email_domain_byte((unsigned char)*p))
			return 0;
		label++;
	}
	return dots > 0 && label > 0;
}

/* ---- webhook signatures (invariant 3) -------------------------------- */

char *dlv_webhook_secret_new(void)
{
	pthread_once(&sodium_once, sodium_setup);
	unsigned char key[SECRET_KEY_BYTES];
	randombytes_buf(key, sizeof key);
	size_t b64 = sodium_base64_ENCODED_LEN(sizeof key, sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(sizeof SECRET_PREFIX - 1 + b64);
	memcpy(s, SECRET_PREFIX, sizeof SECRET_PREFIX - 1);
	sodium_bin2base64(s + sizeof SECRET_PREFIX - 1, b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof key);
	return s;
}

/* The key bytes of secret ("whsec_" + base64, padded or not), malloc'd
 * into *key (caller wipes and frees), or NULL. */
static unsigned char *secret_key(const char *secret, size_t *key_len)
{
	size_t plen = sizeof SECRET_PREFIX - 1;
	if (secret == NULL || strncmp(secret, SECRET_PREFIX, plen) != 0)
		return NULL;
	const char *b64 = secret + plen;
	size_t n = strlen(b64);
	if (n == 0)
		return NULL;
	size_t cap = n / 4 * 3 + 3;
	unsigned char *key = xmalloc(cap);
	static const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		size_t len = 0;
		if (sodium_base642bin(key, cap, b64, n, NULL, &len, NULL, variants[i]) == 0 && len > 0) {
			*key_len = len;
			return key;
		}
	}
	free(key);
	return NULL;
}

/* mac = HMAC-SHA256(key, "<msg_id>.<ts>.<body>") */
static void webhook_mac(const unsigned char *key, size_t key_len, const char *msg_id, int64_t ts_sec, const char *body,
			size_t len, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	char ts[32];
	int tn = snprintf(ts, sizeof ts, ".%" PRId64 ".", ts_sec);
	assert(tn > 0 && (size_t)tn < sizeof ts);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)tn);
	if (len > 0)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
}

/* Writes "v1,<base64 mac>" into sig (cap ≥ SIG_MIN_CAP). 0, or -1 for a
 * secret that is not "whsec_" + base64. */
static int webhook_sig(const char *secret, const char *msg_id, int64_t ts_sec, const char *body, size_t len, char *sig,
		       size_t cap)
{
	size_t key_len = 0;
	unsigned char *key = secret_key(secret, &key_len);
	if (key == NULL)
		return -1;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	webhook_mac(key, key_len, msg_id, ts_sec, body, len, mac);
	sodium_memzero(key, key_len);
	free(key);
	memcpy(sig, SIG_PREFIX, sizeof SIG_PREFIX - 1);
	sodium_bin2base64(sig + sizeof SIG_PREFIX - 1, cap - (sizeof SIG_PREFIX - 1), mac, sizeof mac,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof mac);
	return 0;
}

int dlv_webhook_sign(const char *secret, const char *msg_id, int64_t ts_sec, const char *body, size_t len, char *sig,
		     size_t cap, struct cairn_err *err)
{
	assert(sig != NULL && cap >= SIG_MIN_CAP);
	assert(body != NULL || len == 0);
	sig[0] = '\0';
	if (msg_id == NULL || msg_id[0] == '\0')
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "msg_id",
				     "A webhook needs a message id (webhook-id) to be signed.");
	if (webhook_sig(secret, msg_id, ts_sec, body, len, sig, cap) != 0)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_secret", "secret",
				     "secret must be \"whsec_\" followed by base64 (Standard Webhooks).");
	return 0;
}

int dlv_webhook_verify(const char *secret, const char *msg_id, int64_t ts_sec, const char *body, size_t len,
		       const char *header)
{
	if (header == NULL || msg_id == NULL || (body == NULL && len > 0))
		return 0;
	char want[SIG_MIN_CAP];
	if (webhook_sig(secret, msg_id, ts_sec, body, len, want, sizeof want) != 0)
		return 0;
	size_t want_len = strlen(want);
	int ok = 0;
	const char *p = header;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		/* every entry of the right length is compared: no early exit */
		if (n == want_len && sodium_memcmp(p, want, want_len) == 0)
			ok = 1;
		p += n;
	}
	sodium_memzero(want, sizeof want);
	return ok;
}

/* ---- payloads (invariant 4) ------------------------------------------ */

/* The string at key of obj, or NULL when absent, not a string or empty. */
static const json_t *text_at(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	return v;
}

static const json_t *need_text(const json_t *obj, const char *key, const char *what, struct cairn_err *err)
{
	const json_t *v = text_at(obj, key);
	if (v == NULL)
		cairn_err_set(err, CAIRN_EUNPROC, "missing_field", key, "%s needs %s (body.%s).", what, key, key);
	return v;
}

/* out[key] = a copy of the string v (which must be a string) */
static void put_copy(json_t *out, const char *key, const json_t *v)
{
	json_object_set_new(out, key, json_stringn(json_string_value(v), json_string_length(v)));
}

/* A new string of to, the recipient; NULL with err set when it is
 * missing or not UTF-8. */
static json_t *recipient(const char *to, const char *what, struct cairn_err *err)
{
	if (to == NULL || to[0] == '\0') {
		cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "to", "%s needs a recipient (to).", what);
		return NULL;
	}
	json_t *s = json_string(to);
	if (s == NULL)
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_utf8", "to", "to is not valid UTF-8.");
	return s;
}

/* Measures the string v as an SMS; errors name field. */
static int measure(const json_t *v, const char *field, size_t *bytes, enum dlv_sms_kind *kind, struct cairn_err *err)
{
	if (strlen(json_string_value(v)) != json_string_length(v))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", field,
				     "%s holds a NUL character, which an SMS cannot carry.", field);
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = dlv_sms_measure(json_string_value(v), bytes, kind, &e);
	if (rc != 0)
		return cairn_err_set(err, rc, e.slug, field, "%s%s", strcmp(field, "text") == 0 ? "" : "fallback ",
				     e.message);
	return 0;
}

static const char *kind_name(enum dlv_sms_kind kind)
{
	return kind == DLV_LMS ? "lms" : "sms";
}

/* Each builder checks everything it needs first, then builds *out (a
 * new value) in straight-line code: no half-built payload to undo. */

static int payload_sms(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	const json_t *text = need_text(r, "text", "An SMS", err);
	if (text == NULL)
		return CAIRN_EUNPROC;
	size_t bytes = 0;
	enum dlv_sms_kind kind = DLV_SMS;
	int rc = measure(text, "text", &bytes, &kind, err);
	if (rc != 0)
		return rc;
	json_t *rcpt = recipient(to, "An SMS", err);
	if (rcpt == NULL)
		return CAIRN_EUNPROC;
	json_t *o = json_object();
	json_object_set_new(o, "to", rcpt);
	put_copy(o, "text", text);
	json_object_set_new(o, "type", json_string(kind_name(kind)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	*out = o;
	return 0;
}

static int payload_kakao(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	/* with a template code an AlimTalk (approved, informational), without
	 * one a FriendTalk (to the channel's friends; may advertise) */
	const json_t *code = text_at(r, "template_code");
	const json_t *text = need_text(r, "text", "A Kakao message", err);
	if (text == NULL)
		return CAIRN_EUNPROC;
	const json_t *fallback = text_at(r, "fallback_text");
	size_t bytes = 0;
	enum dlv_sms_kind kind = DLV_SMS;
	if (fallback != NULL) {
		int rc = measure(fallback, "fallback_text", &bytes, &kind, err);
		if (rc != 0)
			return rc;
	}
	json_t *rcpt = recipient(to, "A Kakao message", err);
	if (rcpt == NULL)
		return CAIRN_EUNPROC;
	const json_t *buttons = json_object_get(r, "buttons");
	json_t *o = json_object();
	json_object_set_new(o, "to", rcpt);
	json_object_set_new(o, "kind", json_string(code ? "alimtalk" : "friendtalk"));
	if (code)
		put_copy(o, "template_code", code);
	put_copy(o, "text", text);
	json_object_set_new(o, "buttons", json_is_array(buttons) ? json_deep_copy(buttons) : json_array());
	if (fallback != NULL) {
		json_t *fb = json_object();
		json_object_set_new(fb, "type", json_string(kind_name(kind)));
		put_copy(fb, "text", fallback);
		json_object_set_new(o, "fallback", fb);
	}
	*out = o;
	return 0;
}

/* FCM v1 refuses these data keys (INVALID_ARGUMENT). */
static int fcm_reserved_key(const char *k)
{
	return strcmp(k, "from") == 0 || strcmp(k, "message_type") == 0 || strncmp(k, "google", 6) == 0 ||
	       strncmp(k, "gcm", 3) == 0;
}

/* FCM v1 "data" from the body's data (an object or NULL): every value a
 * string (other scalars as their JSON text, nulls dropped). NULL with err
 * set for a key FCM reserves. */
static json_t *fcm_data(const json_t *data, struct cairn_err *err)
{
	json_t *o = json_object();
	if (data == NULL)
		return o;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)data, k, v) {
		if (json_is_null(v))
			continue;
		if (fcm_reserved_key(k)) {
			cairn_err_set(
				err, CAIRN_EUNPROC, "invalid_field", "data",
				"data.%.80s is a key FCM reserves (from, message_type, google…, gcm…); rename it.", k);
			json_decref(o);
			return NULL;
		}
		if (json_is_string(v)) {
			put_copy(o, k, v);
			continue;
		}
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		json_object_set_new(o, k, json_string(s));
		free(s);
	}
	return o;
}

/* {"title"?, "body"?} of a push */
static json_t *push_alert(const json_t *title, const json_t *body)
{
	json_t *o = json_object();
	if (title != NULL)
		put_copy(o, "title", title);
	if (body != NULL)
		put_copy(o, "body", body);
	return o;
}

static int payload_push(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	const json_t *title = text_at(r, "title");
	const json_t *body = text_at(r, "body");
	if (title == NULL && body == NULL)
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "title",
				     "A push message needs a title or a body.");
	const json_t *data_in = json_object_get(r, "data");
	json_t *data = fcm_data(json_is_object(data_in) ? data_in : NULL, err);
	if (data == NULL)
		return CAIRN_EUNPROC;
	json_t *token = recipient(to, "A push message", err);
	if (token == NULL) {
		json_decref(data);
		return CAIRN_EUNPROC;
	}
	json_t *msg = json_object();
	json_object_set_new(msg, "token", token);
	json_object_set_new(msg, "notification", push_alert(title, body));
	json_object_set_new(msg, "data", data);
	json_object_set_new(msg, "apns",
			    json_pack("{s:{s:{s:o}}}", "payload", "aps", "alert", push_alert(title, body)));
	json_object_set_new(msg, "android", json_pack("{s:s}", "priority", "high"));
	*out = json_pack("{s:o}", "message", msg);
	return 0;
}

static int payload_slack(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	const json_t *text = need_text(r, "text", "A Slack message", err);
	if (text == NULL)
		return CAIRN_EUNPROC;
	const json_t *channel = text_at(r, "channel");
	json_t *o = json_object();
	put_copy(o, "text", text);
	if (channel != NULL)
		put_copy(o, "channel", channel);
	*out = o;
	return 0;
}

static int payload_webhook(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	const json_t *body = json_object_get(r, "body");
	if (!json_is_string(body))
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "body",
				     "A webhook needs a body (body.body).");
	json_t *v = json_loadb(json_string_value(body), json_string_length(body), JSON_DECODE_ANY, NULL);
	if (v == NULL) {
		v = json_object();
		put_copy(v, "text", body);
	}
	*out = v;
	return 0;
}

static int payload_email(const json_t *r, const char *to, json_t **out, struct cairn_err *err)
{
	static const char *const keys[] = {"subject", "preheader", "html", "text", "from"};
	if (need_text(r, "subject", "An email", err) == NULL)
		return CAIRN_EUNPROC;
	if (text_at(r, "html") == NULL && text_at(r, "text") == NULL)
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "html",
				     "An email needs an html or a text body.");
	json_t *rcpt = recipient(to, "An email", err);
	if (rcpt == NULL)
		return CAIRN_EUNPROC;
	json_t *o = json_object();
	json_object_set_new(o, "to", rcpt);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const json_t *v = text_at(r, keys[i]);
		if (v != NULL)
			put_copy(o, keys[i], v);
	}
	*out = o;
	return 0;
}

/* One row per content channel (src/content/content.c), in its order. */
static const struct {
	const char *name;
	int (*build)(const json_t *rendered, const char *to, json_t **out, struct cairn_err *err);
} wire_channels[] = {
	{"email", payload_email}, {"sms", payload_sms},		{"kakao", payload_kakao},
	{"push", payload_push},	  {"webhook", payload_webhook}, {"slack", payload_slack},
};
#define NWIRE_CHANNELS (sizeof wire_channels / sizeof wire_channels[0])

int dlv_wire_payload(const char *channel, const json_t *rendered, const char *to, json_t **out, struct cairn_err *err)
{
	assert(out != NULL);
	*out = NULL;
	for (size_t i = 0; channel != NULL && i < NWIRE_CHANNELS; i++) {
		if (strcmp(wire_channels[i].name, channel) != 0)
			continue;
		if (!json_is_object(rendered))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "body",
					     "The rendered %s body must be a JSON object.", channel);
		return wire_channels[i].build(rendered, to, out, err);
	}
	return cairn_err_set(err, CAIRN_EUNPROC, channel != NULL ? "unknown_channel" : "missing_field", "channel",
			     "channel must be email, sms, kakao, push, webhook or slack%s%.60s%s.",
			     channel != NULL ? ", not '" : "", channel != NULL ? channel : "",
			     channel != NULL ? "'" : "");
}
