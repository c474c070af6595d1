/* wire_test.c — deliver/wire: SMS length in EUC-KR bytes, phone numbers to
 * E.164, the email address check, Standard Webhooks signatures (the spec's
 * own test vector) and each channel's payload shape.
 *
 * Payloads are compared whole with json_equal against the expected JSON
 * text, so a key too many is a failure as much as a key missing. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "deliver/wire.h"

/* The Standard Webhooks test vector (standard-webhooks libraries' tests). */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID	  "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS	  1614265330
#define SW_BODY	  "{\"test\": 2432232314}"
#define SW_SIG	  "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define GA "\xea\xb0\x80" /* 가, 2 bytes in EUC-KR */

/* n copies of s (malloc'd) */
static char *repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *out = malloc(len * n + 1);
	cr_assert_not_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

/* ---- dlv_sms_measure ------------------------------------------------- */

static void measure_ok(const char *text, size_t want_bytes, enum dlv_sms_kind want_kind)
{
	size_t bytes = 12345;
	enum dlv_sms_kind kind = (enum dlv_sms_kind)7;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_sms_measure(text, &bytes, &kind, &err), 0, "%.40s: %s", text, err.message);
	cr_assert_eq(bytes, want_bytes, "%.40s: %zu bytes, want %zu", text, bytes, want_bytes);
	cr_assert_eq(kind, want_kind, "%.40s: kind %d, want %d", text, kind, want_kind);
	cr_assert_eq(err.code, 0, "err touched on success");
}

static void measure_refused(const char *text, const char *slug)
{
	size_t bytes = 12345;
	enum dlv_sms_kind kind = DLV_LMS;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_sms_measure(text, &bytes, &kind, &err), CAIRN_EUNPROC, "%.40s accepted", text ? text : "NULL");
	cr_assert_str_eq(err.slug, slug);
	cr_assert_str_eq(err.field, "text");
	cr_assert_neq(err.message[0], '\0');
	cr_assert_eq(bytes, 0);
	cr_assert_eq(kind, DLV_SMS);
}

Test(wire, sms_hangul_counts_two_bytes)
{
	measure_ok("안녕하세요", 10, DLV_SMS);
	measure_ok("a", 1, DLV_SMS);
	measure_ok("[케언] 주문 123 완료", 20, DLV_SMS); /* 6+1+4+1+3+1+4 */
	/* 똠: a syllable only CP949 (not KS X 1001) has; 2 bytes either way */
	measure_ok("똠방각하", 8, DLV_SMS);
}

Test(wire, sms_boundary_is_90_bytes)
{
	char *s45 = repeat(GA, 45);
	char *s46 = repeat(GA, 46);
	char *a90 = repeat("x", 90);
	char *a91 = repeat("x", 91);
	measure_ok(s45, 90, DLV_SMS);
	measure_ok(s46, 92, DLV_LMS);
	measure_ok(a90, 90, DLV_SMS);
	measure_ok(a91, 91, DLV_LMS);
	free(s45);
	free(s46);
	free(a90);
	free(a91);
}

Test(wire, sms_char_outside_euckr_counts_two)
{
	measure_ok("\xf0\x9f\x98\x80", 2, DLV_SMS);		      /* 😀 */
	measure_ok("a\xf0\x9f\x98\x80z\xf0\x9f\x8e\x89", 6, DLV_SMS); /* a😀z🎉 */
	measure_ok("\xe0\xb8\x81", 2, DLV_SMS);			      /* Thai ก */
	char *emoji46 = repeat("\xf0\x9f\x98\x80", 46);
	measure_ok(emoji46, 92, DLV_LMS);
	free(emoji46);
}

Test(wire, sms_lms_maximum_is_2000_bytes)
{
	char *s1000 = repeat(GA, 1000);
	char *s1001 = repeat(GA, 1001);
	char *a2001 = repeat("x", 2001);
	char *huge = repeat(GA, 100000);
	measure_ok(s1000, 2000, DLV_LMS);
	measure_refused(s1001, "text_too_long");
	measure_refused(a2001, "text_too_long");
	measure_refused(huge, "text_too_long");
	free(s1000);
	free(s1001);
	free(a2001);
	free(huge);
}

Test(wire, sms_refuses_empty_and_bad_utf8)
{
	measure_refused("", "missing_field");
	measure_refused(NULL, "missing_field");
	measure_refused("\xff", "invalid_utf8");
	measure_refused("ok \xc0\xaf", "invalid_utf8");	     /* overlong '/' */
	measure_refused("\xed\xa0\x80", "invalid_utf8");     /* a surrogate */
	measure_refused("\xea\xb0", "invalid_utf8");	     /* truncated 가 */
	measure_refused("\xf4\x90\x80\x80", "invalid_utf8"); /* above U+10FFFF */
	char *late = repeat(GA, 1001);
	late[strlen(late) - 1] = '\xff'; /* too long and bad: bad wins */
	measure_refused(late, "invalid_utf8");
	free(late);
}

Test(wire, sms_error_keeps_first)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	size_t bytes;
	enum dlv_sms_kind kind;
	cairn_err_set(&err, CAIRN_EINVAL, "earlier", "x", "earlier");
	cr_assert_eq(dlv_sms_measure("", &bytes, &kind, &err), CAIRN_EUNPROC);
	cr_assert_str_eq(err.slug, "earlier");
}

/* ---- dlv_phone_normalize ---------------------------------------------- */

static void phone_ok(const char *in, const char *want)
{
	char out[17];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_phone_normalize(in, out, sizeof out, &err), 0, "%s: %s", in, err.message);
	cr_assert_str_eq(out, want, "%s → %s, want %s", in, out, want);
	cr_assert_eq(err.code, 0);
}

static void phone_refused(const char *in)
{
	char out[17] = "garbage";
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_phone_normalize(in, out, sizeof out, &err), CAIRN_EUNPROC, "%s accepted as %s",
		     in ? in : "NULL", out);
	cr_assert_str_eq(err.slug, "invalid_phone");
	cr_assert_str_eq(err.field, "to");
	cr_assert_neq(err.message[0], '\0');
	cr_assert_str_eq(out, "", "out not emptied on failure");
}

Test(wire, phone_korean_numbers)
{
	phone_ok("010-1234-5678", "+821012345678");
	phone_ok("01012345678", "+821012345678");
	phone_ok("010.1234.5678", "+821012345678");
	phone_ok("(02) 123-4567", "+8221234567");
	phone_ok("031-123-4567", "+82311234567");
	phone_ok("1588-1234", "+8215881234"); /* a service number: no trunk 0 */
}

Test(wire, phone_with_country_code)
{
	phone_ok("+82 10 1234 5678", "+821012345678");
	phone_ok("+82-10-1234-5678", "+821012345678");
	phone_ok("821012345678", "+821012345678");
	phone_ok("+1 415 555 2671", "+14155552671");
	phone_ok("+44 (20) 7946 0958", "+442079460958");
	phone_ok("+12345678", "+12345678");		  /* 8 digits: E.164's shortest */
	phone_ok("+123456789012345", "+123456789012345"); /* 15: the longest */
	/* Korea's trunk 0 written after the country code is left out */
	phone_ok("+82 010-1234-5678", "+821012345678");
	phone_ok("82 010 1234 5678", "+821012345678");
	/* every 0 after +82 goes, so the output normalizes to itself */
	phone_ok("+82 (0)010-1234-5678", "+821012345678");
	phone_ok("+82 0010-1234", "+82101234");
	phone_ok("+82101234", "+82101234");
}

Test(wire, phone_refusals)
{
	phone_refused(NULL);
	phone_refused("");
	phone_refused("abc");
	phone_refused("+");
	phone_refused(" - ");
	phone_refused("010-1234-567a");
	phone_refused("010 1234 5678 ext 9");
	phone_refused("010/1234/5678");
	phone_refused("010\t1234\t5678");
	phone_refused("+82+1012345678");
	phone_refused("010-1234+5678");
	phone_refused("+0 10 1234 5678");
	phone_refused("001-1-415-555-2671");	    /* an international prefix */
	phone_refused("+1234567");		    /* 7 digits */
	phone_refused("012-345");		    /* +82 12345: 7 digits */
	phone_refused("+1234567890123456");	    /* 16 */
	phone_refused("0101234567890123");	    /* 82 + 15 */
	phone_refused("010-1234-5678\xef\xbc\x90"); /* a fullwidth digit */
	phone_refused("12345678901234567890123456789");
}

/* ---- dlv_email_valid -------------------------------------------------- */

Test(wire, email_valid_accepts)
{
	static const char *good[] = {
		"a@b.co",	  "minji.kim+news@example.co.kr",   "김@example.kr",
		"user@메일.한국", "o'brien@sub-domain.example.com", "x@a-b.c",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert_eq(dlv_email_valid(good[i]), 1, "%s refused", good[i]);
}

Test(wire, email_valid_refuses)
{
	static const char *bad[] = {
		"",
		"a",
		"a@b",
		"a b@c.d",
		"a@b c.d",
		"<a@b.c>",
		"A <a@b.c>",
		"a@b..c",
		"a@@b.c",
		"a@b@c.d",
		"@b.c",
		"a@",
		"a@.b.c",
		"a@b.c.",
		"a,b@c.d",
		"a@b.c,d@e.f",
		"a\r\nBcc: x@evil.com@b.c",
		"a\t@b.c",
		"\"a\"@b.c",
		"a;b@c.d",
		"a@b_c.d",
		"a@[1.2.3.4]",
		"\xff@b.c",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(dlv_email_valid(bad[i]), 0, "%s accepted", bad[i]);
	cr_assert_eq(dlv_email_valid(NULL), 0);
}

Test(wire, email_valid_254_bytes)
{
	/* 64 + '@' + 3 labels of 62 + 3 dots + "c" = 255 bytes; one less is the most */
	char *local = repeat("a", 64);
	char *label = repeat("b", 62);
	char addr[300];
	snprintf(addr, sizeof addr, "%s@%s.%s.%s.c", local, label, label, label);
	cr_assert_eq(strlen(addr), 255);
	cr_assert_eq(dlv_email_valid(addr), 0, "255 bytes accepted");
	snprintf(addr, sizeof addr, "%s@%s.%s.%s.c", local + 1, label, label, label);
	cr_assert_eq(strlen(addr), 254);
	cr_assert_eq(dlv_email_valid(addr), 1, "254 bytes refused");
	free(local);
	free(label);
}

/* ---- webhook signatures ----------------------------------------------- */

Test(wire, webhook_sign_standard_vector)
{
	char sig[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(SW_SECRET, SW_ID, SW_TS, SW_BODY, strlen(SW_BODY), sig, sizeof sig, &err), 0,
		     "%s", err.message);
	cr_assert_str_eq(sig, SW_SIG);
	cr_assert_eq(err.code, 0);
}

Test(wire, webhook_verify_standard_vector)
{
	size_t n = strlen(SW_BODY);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, SW_SIG), 1);
	/* several entries, any one matching is enough */
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n,
					"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " SW_SIG),
		     1);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, SW_SIG "  v1a,abc v2,xyz"), 1);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, "  " SW_SIG " "), 1);
}

Test(wire, webhook_verify_refuses)
{
	size_t n = strlen(SW_BODY);
	/* another body, timestamp, id or secret */
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, "{\"test\": 2432232315}", n, SW_SIG), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS + 1, SW_BODY, n, SW_SIG), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SW_TS, SW_BODY, n, SW_SIG), 0);
	cr_assert_eq(dlv_webhook_verify("whsec_NfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SW_ID, SW_TS, SW_BODY, n, SW_SIG), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n - 1, SW_SIG), 0);
	/* mangled headers */
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, ""), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, NULL), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, SW_SIG + 3), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n,
					"v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
		     0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n, SW_SIG "x"), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, SW_TS, SW_BODY, n,
					"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"),
		     0);
	/* a bad secret verifies nothing */
	cr_assert_eq(dlv_webhook_verify("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SW_ID, SW_TS, SW_BODY, n, SW_SIG), 0);
	cr_assert_eq(dlv_webhook_verify(NULL, SW_ID, SW_TS, SW_BODY, n, SW_SIG), 0);
}

Test(wire, webhook_sign_refuses_bad_secret)
{
	static const char *bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", /* no prefix */
		"whsec_",
		"whsec_not base64!",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS*",
		"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char sig[64] = "garbage";
		struct cairn_err err = CAIRN_ERR_INIT;
		cr_assert_eq(dlv_webhook_sign(bad[i], SW_ID, SW_TS, SW_BODY, strlen(SW_BODY), sig, sizeof sig, &err),
			     CAIRN_EUNPROC, "%s accepted", bad[i]);
		cr_assert_str_eq(err.field, "secret");
		cr_assert_str_eq(err.slug, "invalid_secret");
		cr_assert_str_eq(sig, "");
	}
	char sig[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(NULL, SW_ID, SW_TS, "", 0, sig, sizeof sig, &err), CAIRN_EUNPROC);
	cr_assert_str_eq(err.field, "secret");
}

Test(wire, webhook_secret_unpadded_base64)
{
	/* a 16-byte key: padded "…==" and unpadded sign alike */
	char a[64], b[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign("whsec_AAECAwQFBgcICQoLDA0ODw==", "m", 1, "x", 1, a, sizeof a, &err), 0, "%s",
		     err.message);
	cr_assert_eq(dlv_webhook_sign("whsec_AAECAwQFBgcICQoLDA0ODw", "m", 1, "x", 1, b, sizeof b, &err), 0, "%s",
		     err.message);
	cr_assert_str_eq(a, b);
}

Test(wire, webhook_empty_body_and_negative_time)
{
	char sig[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(SW_SECRET, SW_ID, 0, NULL, 0, sig, sizeof sig, &err), 0, "%s", err.message);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, 0, "", 0, sig), 1);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, 0, NULL, 0, sig), 1);
	cr_assert_eq(dlv_webhook_sign(SW_SECRET, SW_ID, -5, "b", 1, sig, sizeof sig, &err), 0);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, -5, "b", 1, sig), 1);
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, SW_ID, 5, "b", 1, sig), 0);
}

Test(wire, webhook_sign_refuses_missing_id)
{
	char sig[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(SW_SECRET, "", SW_TS, "x", 1, sig, sizeof sig, &err), CAIRN_EUNPROC);
	cr_assert_str_eq(err.field, "msg_id");
	cr_assert_eq(dlv_webhook_verify(SW_SECRET, NULL, SW_TS, "x", 1, SW_SIG), 0);
}

Test(wire, webhook_secret_new)
{
	char *a = dlv_webhook_secret_new();
	char *b = dlv_webhook_secret_new();
	cr_assert_eq(strncmp(a, "whsec_", 6), 0, "%s", a);
	cr_assert_eq(strlen(a), 6 + 32, "%s", a); /* base64 of 24 bytes */
	unsigned char key[64];
	size_t len = 0;
	cr_assert_eq(sodium_base642bin(key, sizeof key, a + 6, strlen(a + 6), NULL, &len, NULL,
				       sodium_base64_VARIANT_ORIGINAL),
		     0);
	cr_assert_eq(len, 24);
	cr_assert_str_neq(a, b);
	/* a new secret signs and verifies */
	char sig[64];
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(a, "msg_1", 1700000000, "{}", 2, sig, sizeof sig, &err), 0, "%s", err.message);
	cr_assert_eq(strncmp(sig, "v1,", 3), 0);
	cr_assert_eq(strlen(sig), 3 + 44);
	cr_assert_eq(dlv_webhook_verify(a, "msg_1", 1700000000, "{}", 2, sig), 1);
	cr_assert_eq(dlv_webhook_verify(b, "msg_1", 1700000000, "{}", 2, sig), 0);
	free(a);
	free(b);
}

/* ---- dlv_wire_payload -------------------------------------------------- */

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	cr_assert_not_null(v, "bad test JSON: %s: %s", text, je.text);
	return v;
}

/* 1 when a and b hold a value in common (the same json_t). */
static int shares(const json_t *a, const json_t *b)
{
	if (a == b)
		return 1;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(b)) {
		json_object_foreach ((json_t *)b, k, v) {
			if (shares(a, v))
				return 1;
		}
	} else if (json_is_array(b)) {
		json_array_foreach (b, i, v) {
			if (shares(a, v))
				return 1;
		}
	}
	if (json_is_object(a)) {
		json_object_foreach ((json_t *)a, k, v) {
			if (shares(v, b))
				return 1;
		}
	} else if (json_is_array(a)) {
		json_array_foreach (a, i, v) {
			if (shares(v, b))
				return 1;
		}
	}
	return 0;
}

/* Builds the payload of rendered (JSON text) and compares it with want;
 * checks rendered is unchanged and shares no value with the payload. */
static void payload_is(const char *channel, const char *rendered, const char *to, const char *want)
{
	json_t *r = J(rendered);
	json_t *before = json_deep_copy(r);
	json_t *w = J(want);
	json_t *out = NULL;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_wire_payload(channel, r, to, &out, &err), 0, "%s: %s", channel, err.message);
	cr_assert_eq(err.code, 0);
	char *got = json_dumps(out, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *exp = json_dumps(w, JSON_ENCODE_ANY | JSON_SORT_KEYS);
	cr_assert(json_equal(out, w), "%s payload\n got %s\nwant %s", channel, got, exp);
	cr_assert_not(shares(out, r), "the payload shares a value with rendered");
	json_decref(out);
	cr_assert(json_equal(r, before), "rendered changed");
	free(got);
	free(exp);
	json_decref(r);
	json_decref(before);
	json_decref(w);
}

static void payload_refused(const char *channel, const char *rendered, const char *to, const char *field,
			    const char *slug)
{
	json_t *r = rendered ? J(rendered) : NULL;
	json_t *out = (json_t *)1;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_wire_payload(channel, r, to, &out, &err), CAIRN_EUNPROC, "%s %s accepted",
		     channel ? channel : "NULL", rendered ? rendered : "NULL");
	cr_assert_null(out);
	cr_assert_str_eq(err.field, field);
	cr_assert_str_eq(err.slug, slug);
	cr_assert_neq(err.message[0], '\0');
	json_decref(r);
}

Test(wire, payload_sms)
{
	payload_is("sms", "{\"text\":\"[케언] 인증번호 123456\"}", "+821012345678",
		   "{\"to\":\"+821012345678\",\"text\":\"[케언] 인증번호 123456\",\"type\":\"sms\",\"bytes\":22}");
	char *long_text = repeat(GA, 46);
	char rendered[400], want[500];
	snprintf(rendered, sizeof rendered, "{\"text\":\"%s\"}", long_text);
	snprintf(want, sizeof want, "{\"to\":\"+821012345678\",\"text\":\"%s\",\"type\":\"lms\",\"bytes\":92}",
		 long_text);
	payload_is("sms", rendered, "+821012345678", want);
	free(long_text);
}

Test(wire, payload_sms_refusals)
{
	char *too_long = repeat(GA, 1001);
	size_t n = strlen(too_long) + 32;
	char *rendered = malloc(n);
	snprintf(rendered, n, "{\"text\":\"%s\"}", too_long);
	payload_refused("sms", rendered, "+821012345678", "text", "text_too_long");
	payload_refused("sms", "{}", "+821012345678", "text", "missing_field");
	payload_refused("sms", "{\"text\":\"\"}", "+821012345678", "text", "missing_field");
	payload_refused("sms", "{\"text\":\"a\\u0000b\"}", "+821012345678", "text", "invalid_field");
	payload_refused("sms", "{\"text\":\"hi\"}", NULL, "to", "missing_field");
	payload_refused("sms", "{\"text\":\"hi\"}", "\xff", "to", "invalid_utf8");
	free(too_long);
	free(rendered);
}

Test(wire, payload_kakao)
{
	payload_is("kakao",
		   "{\"template_code\":\"ORDER_OK\",\"text\":\"주문이 완료되었습니다.\","
		   "\"buttons\":[{\"name\":\"주문 보기\",\"type\":\"WL\",\"url_mobile\":\"https://m.example.kr/o/1\"}],"
		   "\"fallback_text\":\"[케언] 주문 완료\"}",
		   "+821012345678",
		   "{\"to\":\"+821012345678\",\"kind\":\"alimtalk\",\"template_code\":\"ORDER_OK\",\"text\":\"주문이 "
		   "완료되었습니다.\","
		   "\"buttons\":[{\"name\":\"주문 보기\",\"type\":\"WL\",\"url_mobile\":\"https://m.example.kr/o/1\"}],"
		   "\"fallback\":{\"type\":\"sms\",\"text\":\"[케언] 주문 완료\"}}");
	/* no fallback_text, no buttons */
	payload_is("kakao", "{\"template_code\":\"T1\",\"text\":\"안녕\"}", "+821012345678",
		   "{\"to\":\"+821012345678\",\"kind\":\"alimtalk\",\"template_code\":\"T1\",\"text\":\"안녕\","
		   "\"buttons\":[]}");
	/* without a template code: a FriendTalk */
	payload_is("kakao", "{\"text\":\"(광고) 봄 세일\"}", "+821012345678",
		   "{\"to\":\"+821012345678\",\"kind\":\"friendtalk\",\"text\":\"(광고) 봄 세일\",\"buttons\":[]}");
	/* a long fallback is an LMS */
	char *fb = repeat(GA, 50);
	char rendered[600], want[700];
	snprintf(rendered, sizeof rendered, "{\"template_code\":\"T1\",\"text\":\"x\",\"fallback_text\":\"%s\"}", fb);
	snprintf(want, sizeof want,
		 "{\"to\":\"+821012345678\",\"kind\":\"alimtalk\",\"template_code\":\"T1\",\"text\":\"x\","
		 "\"buttons\":[],"
		 "\"fallback\":{\"type\":\"lms\",\"text\":\"%s\"}}",
		 fb);
	payload_is("kakao", rendered, "+821012345678", want);
	free(fb);
}

Test(wire, payload_kakao_refusals)
{
	payload_refused("kakao", "{\"template_code\":\"T\"}", "+821012345678", "text", "missing_field");
	char *fb = repeat(GA, 1001);
	size_t n = strlen(fb) + 64;
	char *rendered = malloc(n);
	snprintf(rendered, n, "{\"template_code\":\"T\",\"text\":\"x\",\"fallback_text\":\"%s\"}", fb);
	payload_refused("kakao", rendered, "+821012345678", "fallback_text", "text_too_long");
	free(fb);
	free(rendered);
}

Test(wire, payload_push)
{
	payload_is("push",
		   "{\"title\":\"봄 세일\",\"body\":\"지금 30% 할인\",\"data\":{\"deep_link\":\"app://sale\","
		   "\"n\":3,\"r\":1.5,\"flag\":true,\"gone\":null,\"list\":[1,\"a\"]}}",
		   "fcm-token-1",
		   "{\"message\":{\"token\":\"fcm-token-1\","
		   "\"notification\":{\"title\":\"봄 세일\",\"body\":\"지금 30% 할인\"},"
		   "\"data\":{\"deep_link\":\"app://sale\",\"n\":\"3\",\"r\":\"1.5\",\"flag\":\"true\","
		   "\"list\":\"[1,\\\"a\\\"]\"},"
		   "\"apns\":{\"payload\":{\"aps\":{\"alert\":{\"title\":\"봄 세일\",\"body\":\"지금 30% 할인\"}}}},"
		   "\"android\":{\"priority\":\"high\"}}}");
	/* a title only, no data */
	payload_is("push", "{\"title\":\"hi\"}", "tok",
		   "{\"message\":{\"token\":\"tok\",\"notification\":{\"title\":\"hi\"},\"data\":{},"
		   "\"apns\":{\"payload\":{\"aps\":{\"alert\":{\"title\":\"hi\"}}}},"
		   "\"android\":{\"priority\":\"high\"}}}");
}

Test(wire, payload_push_refusals)
{
	payload_refused("push", "{\"data\":{\"a\":\"b\"}}", "tok", "title", "missing_field");
	payload_refused("push", "{\"title\":\"t\"}", NULL, "to", "missing_field");
	payload_refused("push", "{\"title\":\"t\"}", "", "to", "missing_field");
	payload_refused("push", "{\"title\":\"t\",\"data\":{\"from\":\"x\"}}", "tok", "data", "invalid_field");
	payload_refused("push", "{\"title\":\"t\",\"data\":{\"google.x\":\"x\"}}", "tok", "data", "invalid_field");
}

Test(wire, payload_slack)
{
	payload_is("slack", "{\"text\":\"새 리드: 김민지\"}", NULL, "{\"text\":\"새 리드: 김민지\"}");
	payload_is("slack", "{\"text\":\"hi\",\"channel\":\"#sales\"}", NULL,
		   "{\"text\":\"hi\",\"channel\":\"#sales\"}");
	payload_refused("slack", "{\"channel\":\"#sales\"}", NULL, "text", "missing_field");
}

Test(wire, payload_webhook)
{
	payload_is("webhook", "{\"body\":\"{\\\"user\\\":\\\"u1\\\",\\\"score\\\":10}\"}", NULL,
		   "{\"user\":\"u1\",\"score\":10}");
	payload_is("webhook", "{\"body\":\"[1,2,{\\\"a\\\":null}]\"}", NULL, "[1,2,{\"a\":null}]");
	payload_is("webhook", "{\"body\":\"42\"}", NULL, "42");
	payload_is("webhook", "{\"body\":\" \\\"quoted\\\" \"}", NULL, "\"quoted\"");
	payload_is("webhook", "{\"body\":\"안녕 {{ not json\"}", NULL, "{\"text\":\"안녕 {{ not json\"}");
	payload_is("webhook", "{\"body\":\"{\\\"a\\\":1} trailing\"}", NULL, "{\"text\":\"{\\\"a\\\":1} trailing\"}");
	payload_is("webhook", "{\"body\":\"\"}", NULL, "{\"text\":\"\"}");
	payload_refused("webhook", "{}", NULL, "body", "missing_field");
}

Test(wire, payload_email)
{
	payload_is("email",
		   "{\"subject\":\"(광고) 봄 세일\",\"preheader\":\"이번 주말까지\",\"html\":\"<p>hi</p>\","
		   "\"text\":\"hi\",\"from\":\"케언 <news@example.co.kr>\"}",
		   "minji@example.com",
		   "{\"to\":\"minji@example.com\",\"subject\":\"(광고) 봄 세일\",\"preheader\":\"이번 주말까지\","
		   "\"html\":\"<p>hi</p>\",\"text\":\"hi\",\"from\":\"케언 <news@example.co.kr>\"}");
	payload_is("email", "{\"subject\":\"s\",\"text\":\"t\"}", "a@b.co",
		   "{\"to\":\"a@b.co\",\"subject\":\"s\",\"text\":\"t\"}");
	payload_refused("email", "{\"html\":\"<p>x</p>\"}", "a@b.co", "subject", "missing_field");
	payload_refused("email", "{\"subject\":\"s\"}", "a@b.co", "html", "missing_field");
	payload_refused("email", "{\"subject\":\"s\",\"text\":\"t\"}", NULL, "to", "missing_field");
}

Test(wire, payload_unknown_channel_and_bad_body)
{
	payload_refused("fax", "{\"text\":\"x\"}", "+821012345678", "channel", "unknown_channel");
	payload_refused(NULL, "{\"text\":\"x\"}", "+821012345678", "channel", "missing_field");
	payload_refused("sms", NULL, "+821012345678", "body", "invalid_field");
	payload_refused("sms", "[\"text\"]", "+821012345678", "body", "invalid_field");
}
