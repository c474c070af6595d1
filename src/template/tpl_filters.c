/* tpl_filters.c — every filter, in one table (filters[] at the end).
 *
 * Each filter takes the input value and its evaluated arguments and returns
 * a value; strings it builds come from the render pool. Semantics follow
 * Shopify's StandardFilters (Ruby); the domain filters (money, json, t and
 * the time-zone argument of date) are documented in docs/template.md.
 *
 * Text is UTF-8: size, slice, truncate, first/last count code points;
 * upcase/downcase/capitalize use ICU case mapping for non-ASCII text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include "template/tpl_int.h"

#define FARGS                                                                                                          \
	struct rs *rs, const struct tpl_fcall *fc, struct tval in, int argc, const struct tval *argv, int kwc,         \
		const char *const *kw, const struct tval *kwv
#define UNUSED_FARGS                                                                                                   \
	(void)rs;                                                                                                      \
	(void)fc;                                                                                                      \
	(void)in;                                                                                                      \
	(void)argc;                                                                                                    \
	(void)argv;                                                                                                    \
	(void)kwc;                                                                                                     \
	(void)kw;                                                                                                      \
	(void)kwv

static int fline(const struct tpl_fcall *fc)
{
	return fc ? fc->line : 0;
}

static struct tval S(struct rs *rs, struct tval v) {
	return tv_to_s(rs, v);
}

/* A growable pool string: build in a buf, then copy to the pool. */
static struct tval
buf_to_val(struct rs *rs, const struct tpl_fcall *fc, struct buf *b)
{
	if (b->overflow || b->len > rs->lim.max_output) {
		rs_fail(rs, CAIRN_ETOOBIG, fline(fc), "A filter result is larger than %zu bytes.", rs->lim.max_output);
		buf_release(b);
		return tv_str("", 0);
	}
	struct tval r = tv_str(tp_strndup(rs, b->ptr, b->len), b->len);
	buf_release(b);
	return r;
}

static void sbuf(struct rs *rs, struct buf *b)
{
	buf_init(b, rs->lim.max_output + 1);
}

static struct tval mkarr(struct tarr *a)
{
	struct tval v = {.t = TV_ARR};
	v.a = a;
	return v;
}

/* ---- case mapping ----------------------------------------------------------- */

static int is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* mode: 0 lower, 1 upper */
static struct tval icu_case(struct rs *rs, const struct tpl_fcall *fc, const char *s, size_t n, int mode)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0;
	if (n > (size_t)INT32_MAX / 4)
		return tv_str(s, n);
	u_strFromUTF8Lenient(NULL, 0, &ulen, s, (int32_t)n, &st);
	st = U_ZERO_ERROR;
	UChar *u = tp_alloc(rs, sizeof(UChar) * ((size_t)ulen + 1));
	u_strFromUTF8Lenient(u, ulen + 1, &ulen, s, (int32_t)n, &st);
	if (U_FAILURE(st))
		return tv_str(s, n);
	int32_t cap = ulen * 3 + 8;
	UChar *m = tp_alloc(rs, sizeof(UChar) * (size_t)cap);
	st = U_ZERO_ERROR;
	int32_t ml = mode ? u_strToUpper(m, cap, u, ulen, "", &st) : u_strToLower(m, cap, u, ulen, "", &st);
	if (U_FAILURE(st))
		return tv_str(s, n);
	int32_t olen = 0;
	st = U_ZERO_ERROR;
	u_strToUTF8(NULL, 0, &olen, m, ml, &st);
	char *o = tp_alloc(rs, (size_t)olen + 1);
	st = U_ZERO_ERROR;
	u_strToUTF8(o, olen + 1, &olen, m, ml, &st);
	(void)fc;
	return tv_str(o, (size_t)olen);
}

static struct tval do_case(struct rs *rs, const struct tpl_fcall *fc, struct tval in, int mode)
{
	struct tval s = S(rs, in);
	if (!is_ascii(s.s.p, s.s.n))
		return icu_case(rs, fc, s.s.p, s.s.n, mode);
	char *o = tp_alloc(rs, s.s.n + 1);
	for (size_t i = 0; i < s.s.n; i++) {
		char c = s.s.p[i];
		if (mode && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		else if (!mode && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		o[i] = c;
	}
	o[s.s.n] = '\0';
	return tv_str(o, s.s.n);
}

static struct tval f_upcase(FARGS)
{
	UNUSED_FARGS;
	return do_case(rs, fc, in, 1);
}

static struct tval f_downcase(FARGS)
{
	UNUSED_FARGS;
	return do_case(rs, fc, in, 0);
}

static struct tval f_capitalize(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in);
	if (!s.s.n)
		return s;
	size_t first = u8_off(s.s.p, s.s.n, 1);
	struct tval a = do_case(rs, fc, tv_str(s.s.p, first), 1);
	struct tval b = do_case(rs, fc, tv_str(s.s.p + first, s.s.n - first), 0);
	char *o = tp_alloc(rs, a.s.n + b.s.n + 1);
	memcpy(o, a.s.p, a.s.n);
	memcpy(o + a.s.n, b.s.p, b.s.n);
	o[a.s.n + b.s.n] = '\0';
	return tv_str(o, a.s.n + b.s.n);
}

/* ---- strings ----------------------------------------------------------------- */

static struct tval concat2(struct rs *rs, const struct tpl_fcall *fc, struct tval a, struct tval b)
{
	if (a.s.n + b.s.n > rs->lim.max_output) {
		rs_fail(rs, CAIRN_ETOOBIG, fline(fc), "A filter result is larger than %zu bytes.", rs->lim.max_output);
		return tv_str("", 0);
	}
	char *o = tp_alloc(rs, a.s.n + b.s.n + 1);
	memcpy(o, a.s.p, a.s.n);
	memcpy(o + a.s.n, b.s.p, b.s.n);
	o[a.s.n + b.s.n] = '\0';
	return tv_str(o, a.s.n + b.s.n);
}

static struct tval f_append(FARGS)
{
	UNUSED_FARGS;
	return concat2(rs, fc, S(rs, in), S(rs, argv[0]));
}

static struct tval f_prepend(FARGS)
{
	UNUSED_FARGS;
	return concat2(rs, fc, S(rs, argv[0]), S(rs, in));
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '\0';
}

static struct tval do_strip(struct rs *rs, struct tval in, int left, int right)
{
	struct tval s = S(rs, in);
	const char *p = s.s.p;
	size_t n = s.s.n;
	while (left && n && is_space(*p) && *p)
		p++, n--;
	while (right && n && is_space(p[n - 1]))
		n--;
	return tv_str(p, n);
}

static struct tval f_strip(FARGS)
{
	UNUSED_FARGS;
	return do_strip(rs, in, 1, 1);
}

static struct tval f_lstrip(FARGS)
{
	UNUSED_FARGS;
	return do_strip(rs, in, 1, 0);
}

static struct tval f_rstrip(FARGS)
{
	UNUSED_FARGS;
	return do_strip(rs, in, 0, 1);
}

static void html_escape(struct buf *b, const char *s, size_t n, int once)
{
	size_t st = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = NULL;
		switch (s[i]) {
		case '&':
			if (once) {
				size_t j = i + 1;
				if (j < n && s[j] == '#') {
					j++;
					size_t d = j;
					while (j < n && s[j] >= '0' && s[j] <= '9')
						j++;
					if (j > d && j < n && s[j] == ';')
						break;
				} else {
					size_t d = j;
					while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
						j++;
					if (j > d && j < n && s[j] == ';')
						break;
				}
			}
			e = "&amp;";
			break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: break;
		}
		if (e) {
			buf_add(b, s + st, i - st);
			buf_adds(b, e);
			st = i + 1;
		}
	}
	buf_add(b, s + st, n - st);
}

static struct tval f_escape(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_NIL)
		return in;
	struct tval s = S(rs, in);
	if (!memchr(s.s.p, '&', s.s.n) && !memchr(s.s.p, '<', s.s.n) && !memchr(s.s.p, '>', s.s.n) &&
	    !memchr(s.s.p, '"', s.s.n) && !memchr(s.s.p, '\'', s.s.n))
		return s;
	struct buf b;
	sbuf(rs, &b);
	html_escape(&b, s.s.p, s.s.n, 0);
	return buf_to_val(rs, fc, &b);
}

static struct tval f_escape_once(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in);
	struct buf b;
	sbuf(rs, &b);
	html_escape(&b, s.s.p, s.s.n, 1);
	return buf_to_val(rs, fc, &b);
}

static struct tval f_url_encode(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_NIL)
		return in;
	struct tval s = S(rs, in);
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	sbuf(rs, &b);
	for (size_t i = 0; i < s.s.n; i++) {
		unsigned char c = (unsigned char)s.s.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '.' || c == '-' || c == '~')
			buf_addch(&b, (char)c);
		else if (c == ' ')
			buf_addch(&b, '+');
		else {
			char t[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(&b, t, 3);
		}
	}
	return buf_to_val(rs, fc, &b);
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int valid_utf8(const char *s, size_t n)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t l;
	if (n > INT32_MAX)
		return 0;
	u_strFromUTF8(NULL, 0, &l, s, (int32_t)n, &st);
	return st == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(st) || n == 0;
}

static struct tval f_url_decode(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_NIL)
		return in;
	struct tval s = S(rs, in);
	struct buf b;
	sbuf(rs, &b);
	for (size_t i = 0; i < s.s.n; i++) {
		char c = s.s.p[i];
		if (c == '+')
			buf_addch(&b, ' ');
		else if (c == '%' && i + 2 < s.s.n + 0 && hexv(s.s.p[i + 1]) >= 0 && hexv(s.s.p[i + 2]) >= 0) {
			buf_addch(&b, (char)(hexv(s.s.p[i + 1]) * 16 + hexv(s.s.p[i + 2])));
			i += 2;
		} else
			buf_addch(&b, c);
	}
	if (!valid_utf8(b.ptr, b.len)) {
		buf_release(&b);
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "url_decode produced invalid UTF-8.");
		return tv_nil();
	}
	return buf_to_val(rs, fc, &b);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static struct tval b64_enc(struct rs *rs, const struct tpl_fcall *fc, struct tval in, const char *alpha)
{
	struct tval s = S(rs, in);
	struct buf b;
	sbuf(rs, &b);
	const unsigned char *p = (const unsigned char *)s.s.p;
	size_t n = s.s.n, i;
	for (i = 0; i + 2 < n; i += 3) {
		char t[4] = {alpha[p[i] >> 2], alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			     alpha[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)], alpha[p[i + 2] & 63]};
		buf_add(&b, t, 4);
	}
	if (n - i == 1) {
		char t[4] = {alpha[p[i] >> 2], alpha[(p[i] & 3) << 4], '=', '='};
		buf_add(&b, t, 4);
	} else if (n - i == 2) {
		char t[4] = {alpha[p[i] >> 2], alpha[((p[i] & 3) << 4) | (p[i + 1] >> 4)], alpha[(p[i + 1] & 15) << 2],
			     '='};
		buf_add(&b, t, 4);
	}
	return buf_to_val(rs, fc, &b);
}

static struct tval b64_dec(struct rs *rs, const struct tpl_fcall *fc, struct tval in, const char *alpha, int strict)
{
	struct tval s = S(rs, in);
	struct buf b;
	sbuf(rs, &b);
	size_t n = s.s.n;
	if (strict && n % 4)
		goto bad;
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s.s.p[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			goto bad;
		const char *q = memchr(alpha, c, 64);
		if (!q || !c)
			goto bad;
		acc = (acc << 6) | (uint32_t)(q - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(&b, (char)((acc >> bits) & 0xFF));
		}
	}
	if (pad > 2 || bits >= 6)
		goto bad;
	return buf_to_val(rs, fc, &b);
bad:
	buf_release(&b);
	rs_fail(rs, CAIRN_EUNPROC, fline(fc), "invalid base64 provided to %s.", fc ? fc->name : "base64_decode");
	return tv_nil();
}

static struct tval f_b64e(FARGS)
{
	UNUSED_FARGS;
	return b64_enc(rs, fc, in, b64);
}
static struct tval f_b64d(FARGS)
{
	UNUSED_FARGS;
	return b64_dec(rs, fc, in, b64, 1);
}
static struct tval f_b64ue(FARGS)
{
	UNUSED_FARGS;
	return b64_enc(rs, fc, in, b64u);
}
static struct tval f_b64ud(FARGS)
{
	UNUSED_FARGS;
	return b64_dec(rs, fc, in, b64u, 0);
}

/* gsub/sub/rindex-replace with a literal pattern. which: 0 all, 1 first,
 * 2 last. */
static struct tval do_replace(struct rs *rs, const struct tpl_fcall *fc, struct tval in, struct tval pat,
			      struct tval rep, int which)
{
	struct tval s = S(rs, in), p = S(rs, pat), r = S(rs, rep);
	struct buf b;
	if (p.s.n == 0) {
		sbuf(rs, &b);
		if (which == 1) {
			buf_add(&b, r.s.p, r.s.n);
			buf_add(&b, s.s.p, s.s.n);
		} else if (which == 2) {
			buf_add(&b, s.s.p, s.s.n);
			buf_add(&b, r.s.p, r.s.n);
		} else {
			size_t i = 0;
			buf_add(&b, r.s.p, r.s.n);
			while (i < s.s.n) {
				size_t nx = i + 1;
				while (nx < s.s.n && ((unsigned char)s.s.p[nx] & 0xC0) == 0x80)
					nx++;
				buf_add(&b, s.s.p + i, nx - i);
				buf_add(&b, r.s.p, r.s.n);
				i = nx;
			}
		}
		return buf_to_val(rs, fc, &b);
	}
	if (which == 2) {
		const char *last = NULL;
		for (const char *q = s.s.p; (q = memmem(q, s.s.n - (size_t)(q - s.s.p), p.s.p, p.s.n)); q++)
			last = q;
		if (!last)
			return s;
		sbuf(rs, &b);
		buf_add(&b, s.s.p, (size_t)(last - s.s.p));
		buf_add(&b, r.s.p, r.s.n);
		buf_add(&b, last + p.s.n, s.s.n - (size_t)(last - s.s.p) - p.s.n);
		return buf_to_val(rs, fc, &b);
	}
	const char *q = memmem(s.s.p, s.s.n, p.s.p, p.s.n);
	if (!q)
		return s;
	sbuf(rs, &b);
	const char *c = s.s.p, *e = s.s.p + s.s.n;
	while (q) {
		buf_add(&b, c, (size_t)(q - c));
		buf_add(&b, r.s.p, r.s.n);
		c = q + p.s.n;
		if (which == 1 || b.overflow)
			break;
		q = memmem(c, (size_t)(e - c), p.s.p, p.s.n);
	}
	buf_add(&b, c, (size_t)(e - c));
	return buf_to_val(rs, fc, &b);
}

static struct tval f_replace(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], argc > 1 ? argv[1] : tv_str("", 0), 0);
}
static struct tval f_replace_first(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], argc > 1 ? argv[1] : tv_str("", 0), 1);
}
static struct tval f_replace_last(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], argv[1], 2);
}
static struct tval f_remove(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], tv_str("", 0), 0);
}
static struct tval f_remove_first(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], tv_str("", 0), 1);
}
static struct tval f_remove_last(FARGS)
{
	UNUSED_FARGS;
	return do_replace(rs, fc, in, argv[0], tv_str("", 0), 2);
}

static struct tval f_newline_to_br(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in);
	if (!memchr(s.s.p, '\n', s.s.n))
		return s;
	struct buf b;
	sbuf(rs, &b);
	for (size_t i = 0; i < s.s.n; i++) {
		if (s.s.p[i] == '\r' && i + 1 < s.s.n && s.s.p[i + 1] == '\n')
			continue;
		if (s.s.p[i] == '\n')
			buf_adds(&b, "<br />\n");
		else
			buf_addch(&b, s.s.p[i]);
	}
	return buf_to_val(rs, fc, &b);
}

static struct tval f_strip_newlines(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in);
	struct buf b;
	sbuf(rs, &b);
	for (size_t i = 0; i < s.s.n; i++) {
		if (s.s.p[i] == '\r' && i + 1 < s.s.n && s.s.p[i + 1] == '\n')
			continue;
		if (s.s.p[i] != '\n')
			buf_addch(&b, s.s.p[i]);
	}
	return buf_to_val(rs, fc, &b);
}

/* Removes open…close (non-greedy) spans; close == NULL: "<" … ">". */
static void strip_spans(struct buf *b, const char *s, size_t n, const char *open, const char *close)
{
	size_t ol = strlen(open), cl = strlen(close);
	size_t i = 0;
	while (i < n) {
		const char *o = memmem(s + i, n - i, open, ol);
		if (!o) {
			buf_add(b, s + i, n - i);
			return;
		}
		const char *c = memmem(o + ol, n - (size_t)(o + ol - s), close, cl);
		if (!c) {
			buf_add(b, s + i, n - i);
			return;
		}
		buf_add(b, s + i, (size_t)(o - (s + i)));
		i = (size_t)(c + cl - s);
	}
}

static struct tval f_strip_html(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in);
	struct buf a, b;
	sbuf(rs, &a);
	sbuf(rs, &b);
	strip_spans(&a, s.s.p, s.s.n, "<script", "</script>");
	strip_spans(&b, a.ptr, a.len, "<!--", "-->");
	buf_reset(&a);
	strip_spans(&a, b.ptr, b.len, "<style", "</style>");
	buf_reset(&b);
	strip_spans(&b, a.ptr, a.len, "<", ">");
	buf_release(&a);
	return buf_to_val(rs, fc, &b);
}

static struct tval f_slice(FARGS)
{
	UNUSED_FARGS;
	int ok;
	int64_t off = tv_to_int(argv[0], &ok);
	if (!ok) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "slice: invalid integer.");
		return tv_nil();
	}
	int64_t len = 1;
	if (argc > 1) {
		len = tv_to_int(argv[1], &ok);
		if (!ok) {
			rs_fail(rs, CAIRN_EUNPROC, fline(fc), "slice: invalid integer.");
			return tv_nil();
		}
	}
	if (tv_is_array(in)) {
		int64_t n = (int64_t)tv_len(in);
		if (off < 0)
			off += n;
		if (off < 0 || off > n || len < 0)
			return mkarr(tarr_new(rs, 0));
		if (len > n - off)
			len = n - off;
		struct tarr *a = tarr_new(rs, (size_t)len);
		for (int64_t i = 0; i < len; i++)
			a->v[i] = tv_item(in, (size_t)(off + i));
		return mkarr(a);
	}
	struct tval s = S(rs, in);
	int64_t n = (int64_t)u8_len(s.s.p, s.s.n);
	if (off < 0)
		off += n;
	if (off < 0 || off > n || len < 0)
		return tv_str("", 0);
	if (len > n - off)
		len = n - off;
	size_t b = u8_off(s.s.p, s.s.n, (size_t)off);
	size_t e = u8_off(s.s.p, s.s.n, (size_t)(off + len));
	return tv_str(s.s.p + b, e - b);
}

static struct tval f_truncate(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_NIL)
		return in;
	struct tval s = S(rs, in);
	int ok = 1;
	int64_t len = argc > 0 ? tv_to_int(argv[0], &ok) : 50;
	if (!ok) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "truncate: invalid integer.");
		return tv_nil();
	}
	struct tval ell = argc > 1 ? S(rs, argv[1]) : tv_str("...", 3);
	int64_t n = (int64_t)u8_len(s.s.p, s.s.n);
	if (n <= len)
		return s;
	int64_t l = len - (int64_t)u8_len(ell.s.p, ell.s.n);
	if (l < 0)
		l = 0;
	return concat2(rs, fc, tv_str(s.s.p, u8_off(s.s.p, s.s.n, (size_t)l)), ell);
}

static struct tval f_truncatewords(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_NIL)
		return in;
	struct tval s = S(rs, in);
	int ok = 1;
	int64_t words = argc > 0 ? tv_to_int(argv[0], &ok) : 15;
	if (!ok) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "truncatewords: invalid integer.");
		return tv_nil();
	}
	if (words <= 0)
		words = 1;
	struct tval ell = argc > 1 ? S(rs, argv[1]) : tv_str("...", 3);
	const char *p = s.s.p, *e = s.s.p + s.s.n;
	int64_t count = 0;
	struct buf b;
	sbuf(rs, &b);
	while (p < e) {
		while (p < e && is_space(*p))
			p++;
		if (p >= e)
			break;
		if (count == words) {
			buf_add(&b, ell.s.p, ell.s.n);
			return buf_to_val(rs, fc, &b);
		}
		const char *w = p;
		while (p < e && !is_space(*p))
			p++;
		if (count)
			buf_addch(&b, ' ');
		buf_add(&b, w, (size_t)(p - w));
		count++;
	}
	buf_release(&b);
	return s;
}

static struct tval f_split(FARGS)
{
	UNUSED_FARGS;
	struct tval s = S(rs, in), pat = S(rs, argv[0]);
	size_t cap = 16, n = 0;
	struct tval *v = tp_alloc(rs, sizeof *v * cap);
#define PUSH(x)                                                                                                        \
	do {                                                                                                           \
		if (n == cap) {                                                                                        \
			struct tval *nv = tp_alloc(rs, sizeof *nv * cap * 2);                                          \
			memcpy(nv, v, sizeof *nv *cap);                                                                \
			v = nv;                                                                                        \
			cap *= 2;                                                                                      \
		}                                                                                                      \
		v[n++] = (x);                                                                                          \
	} while (0)
	const char *p = s.s.p, *e = s.s.p + s.s.n;
	if (pat.s.n == 1 && pat.s.p[0] == ' ') {
		while (p < e && !rs->failed) {
			while (p < e && is_space(*p) && *p)
				p++;
			if (p >= e)
				break;
			const char *w = p;
			while (p < e && !(is_space(*p) && *p))
				p++;
			PUSH(tv_str(w, (size_t)(p - w)));
		}
	} else if (pat.s.n == 0) {
		while (p < e && !rs->failed) {
			const char *w = p++;
			while (p < e && ((unsigned char)*p & 0xC0) == 0x80)
				p++;
			PUSH(tv_str(w, (size_t)(p - w)));
		}
	} else if (s.s.n) {
		for (;;) {
			const char *q = memmem(p, (size_t)(e - p), pat.s.p, pat.s.n);
			if (!q) {
				PUSH(tv_str(p, (size_t)(e - p)));
				break;
			}
			PUSH(tv_str(p, (size_t)(q - p)));
			p = q + pat.s.n;
			if (rs->failed)
				break;
		}
		while (n && v[n - 1].s.n == 0)
			n--;
	}
#undef PUSH
	struct tarr *a = tarr_new(rs, n);
	memcpy(a->v, v, sizeof *v * n);
	return mkarr(a);
}

static struct tval f_size(FARGS)
{
	UNUSED_FARGS;
	if (in.t == TV_STR)
		return tv_int((int64_t)u8_len(in.s.p, in.s.n));
	if (tv_is_array(in) || in.t == TV_JSON || in.t == TV_OBJ)
		return tv_int((int64_t)tv_len(in));
	if (in.t == TV_INT)
		return tv_int(8);
	return tv_int(0);
}

static struct tval f_first(FARGS)
{
	UNUSED_FARGS;
	if (tv_is_array(in))
		return tv_len(in) ? tv_item(in, 0) : tv_nil();
	if (in.t == TV_STR)
		return tv_str(in.s.p, u8_off(in.s.p, in.s.n, 1));
	return tv_nil();
}

static struct tval f_last(FARGS)
{
	UNUSED_FARGS;
	if (tv_is_array(in)) {
		size_t n = tv_len(in);
		return n ? tv_item(in, n - 1) : tv_nil();
	}
	if (in.t == TV_STR) {
		if (!in.s.n)
			return in;
		size_t o = u8_off(in.s.p, in.s.n, u8_len(in.s.p, in.s.n) - 1);
		return tv_str(in.s.p + o, in.s.n - o);
	}
	return tv_nil();
}

/* ---- arrays -------------------------------------------------------------------- */

static struct tval f_join(FARGS)
{
	UNUSED_FARGS;
	struct tval glue = argc ? S(rs, argv[0]) : tv_str(" ", 1);
	struct tarr *a = tv_flatten(rs, in);
	struct buf b;
	sbuf(rs, &b);
	for (size_t i = 0; i < a->n && !b.overflow; i++) {
		if (i)
			buf_add(&b, glue.s.p, glue.s.n);
		struct tval s = S(rs, a->v[i]);
		buf_add(&b, s.s.p, s.s.n);
	}
	return buf_to_val(rs, fc, &b);
}

static struct tval f_reverse(FARGS)
{
	UNUSED_FARGS;
	struct tarr *a = tv_flatten(rs, in);
	struct tarr *r = tarr_new(rs, a->n);
	for (size_t i = 0; i < a->n; i++)
		r->v[i] = a->v[a->n - 1 - i];
	return mkarr(r);
}

static struct tval f_concat(FARGS)
{
	UNUSED_FARGS;
	if (!tv_is_array(argv[0])) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "concat filter requires an array argument.");
		return tv_nil();
	}
	struct tarr *a = tv_flatten(rs, in);
	size_t m = tv_len(argv[0]);
	struct tarr *r = tarr_new(rs, a->n + m);
	memcpy(r->v, a->v, sizeof(struct tval) * a->n);
	for (size_t i = 0; i < m; i++)
		r->v[a->n + i] = tv_item(argv[0], i);
	return mkarr(r);
}

/* item[property] as Ruby would: hashes by key, strings by substring;
 * *ok = 0 when the item does not respond to []. */
static struct tval prop_of(struct rs *rs, struct tval item, struct tval prop, int *ok)
{
	int f;
	*ok = 1;
	if (item.t == TV_JSON && json_is_object(item.j)) {
		if (prop.t != TV_STR)
			return tv_nil();
		return tv_get_key(rs, item, prop.s.p, prop.s.n, &f);
	}
	if (item.t == TV_OBJ) {
		if (prop.t != TV_STR)
			return tv_nil();
		return tv_get_key(rs, item, prop.s.p, prop.s.n, &f);
	}
	if (item.t == TV_STR) {
		if (prop.t == TV_STR)
			return memmem(item.s.p, item.s.n, prop.s.p, prop.s.n) || prop.s.n == 0 ? prop : tv_nil();
		return tv_nil();
	}
	if (tv_is_array(item)) {
		if (prop.t == TV_INT)
			return tv_get(rs, item, prop, &f);
		return tv_nil();
	}
	*ok = 0;
	return tv_nil();
}

static struct tval f_map(FARGS)
{
	UNUSED_FARGS;
	struct tarr *a = tv_flatten(rs, in);
	struct tarr *r = tarr_new(rs, a->n);
	for (size_t i = 0; i < a->n; i++) {
		int ok;
		r->v[i] = prop_of(rs, a->v[i], argv[0], &ok);
	}
	return mkarr(r);
}

/* where / reject / has / find / find_index */
static struct tval filter_array(struct rs *rs, const struct tpl_fcall *fc, struct tval in, int argc,
				const struct tval *argv, int mode)
{
	(void)fc;
	struct tarr *a = tv_flatten(rs, in);
	struct tval target = argc > 1 ? argv[1] : tv_nil();
	int has_target = argc > 1 && target.t != TV_NIL;
	if (a->n == 0) {
		if (mode == 2)
			return tv_bool(0);
		if (mode >= 3)
			return tv_nil();
		return mkarr(tarr_new(rs, 0));
	}
	struct tarr *r = tarr_new(rs, a->n);
	r->n = 0;
	for (size_t i = 0; i < a->n; i++) {
		int ok;
		struct tval v = prop_of(rs, a->v[i], argv[0], &ok);
		if (!ok)
			return tv_nil();
		int hit = has_target ? tv_equal(v, target) : tv_truthy(v);
		if (mode == 2 && hit)
			return tv_bool(1);
		if (mode == 3 && hit)
			return a->v[i];
		if (mode == 4 && hit)
			return tv_int((int64_t)i);
		if ((mode == 0 && hit) || (mode == 1 && !hit))
			r->v[r->n++] = a->v[i];
	}
	if (mode == 2)
		return tv_bool(0);
	if (mode >= 3)
		return tv_nil();
	return mkarr(r);
}

static struct tval f_where(FARGS)
{
	UNUSED_FARGS;
	return filter_array(rs, fc, in, argc, argv, 0);
}
static struct tval f_reject(FARGS)
{
	UNUSED_FARGS;
	return filter_array(rs, fc, in, argc, argv, 1);
}
static struct tval f_has(FARGS)
{
	UNUSED_FARGS;
	return filter_array(rs, fc, in, argc, argv, 2);
}
static struct tval f_find(FARGS)
{
	UNUSED_FARGS;
	return filter_array(rs, fc, in, argc, argv, 3);
}
static struct tval f_find_index(FARGS)
{
	UNUSED_FARGS;
	return filter_array(rs, fc, in, argc, argv, 4);
}

static struct tval f_compact(FARGS)
{
	UNUSED_FARGS;
	struct tarr *a = tv_flatten(rs, in);
	struct tarr *r = tarr_new(rs, a->n);
	r->n = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct tval v = a->v[i];
		if (argc) {
			int ok;
			v = prop_of(rs, a->v[i], argv[0], &ok);
			if (!ok)
				return tv_nil();
		}
		if (v.t != TV_NIL)
			r->v[r->n++] = a->v[i];
	}
	return mkarr(r);
}

static struct tval f_uniq(FARGS)
{
	UNUSED_FARGS;
	struct tarr *a = tv_flatten(rs, in);
	struct tarr *r = tarr_new(rs, a->n);
	struct tval *keys = tp_alloc(rs, sizeof(struct tval) * (a->n + 1));
	r->n = 0;
	if (a->n > 20000) {
		rs_fail(rs, CAIRN_ETOOBIG, fline(fc), "uniq works on at most 20000 items.");
		return tv_nil();
	}
	for (size_t i = 0; i < a->n; i++) {
		struct tval k = a->v[i];
		if (argc) {
			int ok;
			k = prop_of(rs, a->v[i], argv[0], &ok);
			if (!ok)
				return tv_nil();
		}
		int dup = 0;
		for (size_t j = 0; j < r->n && !dup; j++)
			dup = tv_equal(keys[j], k) && keys[j].t == k.t;
		if (!dup) {
			keys[r->n] = k;
			r->v[r->n++] = a->v[i];
		}
	}
	return mkarr(r);
}

struct sortctx {
	struct rs *rs;
	int natural, failed;
};

static int nat_cmp(struct rs *rs, struct tval a, struct tval b)
{
	struct tval x = S(rs, a), y = S(rs, b);
	size_t n = x.s.n < y.s.n ? x.s.n : y.s.n;
	for (size_t i = 0; i < n; i++) {
		int ca = (unsigned char)x.s.p[i], cb = (unsigned char)y.s.p[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 32;
		if (cb >= 'A' && cb <= 'Z')
			cb += 32;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return (x.s.n > y.s.n) - (x.s.n < y.s.n);
}

static int sort_cmp(struct sortctx *sc, struct tval a, struct tval b)
{
	if (a.t == TV_NIL || b.t == TV_NIL)
		return (a.t == TV_NIL) - (b.t == TV_NIL);
	if (sc->natural)
		return nat_cmp(sc->rs, a, b);
	int c;
	if (tv_compare(a, b, &c) < 0) {
		sc->failed = 1;
		return 0;
	}
	return c;
}

/* Stable merge sort of items by keys. */
static void msort(struct sortctx *sc, struct tval *items, struct tval *keys, struct tval *ti, struct tval *tk, size_t n)
{
	if (n < 2)
		return;
	size_t m = n / 2;
	msort(sc, items, keys, ti, tk, m);
	msort(sc, items + m, keys + m, ti, tk, n - m);
	size_t i = 0, j = m, k = 0;
	while (i < m && j < n) {
		if (sort_cmp(sc, keys[j], keys[i]) < 0) {
			ti[k] = items[j];
			tk[k++] = keys[j++];
		} else {
			ti[k] = items[i];
			tk[k++] = keys[i++];
		}
	}
	while (i < m) {
		ti[k] = items[i];
		tk[k++] = keys[i++];
	}
	while (j < n) {
		ti[k] = items[j];
		tk[k++] = keys[j++];
	}
	memcpy(items, ti, sizeof *ti * n);
	memcpy(keys, tk, sizeof *tk * n);
}

static struct tval do_sort(struct rs *rs, const struct tpl_fcall *fc, struct tval in, int argc, const struct tval *argv,
			   int natural)
{
	struct tarr *a = tv_flatten(rs, in);
	size_t n = a->n;
	struct tarr *r = tarr_new(rs, n);
	struct tval *keys = tp_alloc(rs, sizeof(struct tval) * (n + 1));
	struct tval *ti = tp_alloc(rs, sizeof(struct tval) * (n + 1));
	struct tval *tk = tp_alloc(rs, sizeof(struct tval) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		r->v[i] = a->v[i];
		keys[i] = a->v[i];
		if (argc && argv[0].t != TV_NIL) {
			int ok;
			keys[i] = prop_of(rs, a->v[i], argv[0], &ok);
			if (!ok)
				return tv_nil();
		}
	}
	struct sortctx sc = {rs, natural, 0};
	msort(&sc, r->v, keys, ti, tk, n);
	if (sc.failed) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "cannot sort values of incompatible types.");
		return tv_nil();
	}
	return mkarr(r);
}

static struct tval f_sort(FARGS)
{
	UNUSED_FARGS;
	return do_sort(rs, fc, in, argc, argv, 0);
}

static struct tval f_sort_natural(FARGS)
{
	UNUSED_FARGS;
	return do_sort(rs, fc, in, argc, argv, 1);
}

/* ---- numbers --------------------------------------------------------------------- */

/* Exact decimal: value = m * 10^-s. */
struct dec {
	__int128 m;
	int s;
};

static const __int128 DEC_MAX = (__int128)1000000000000000000LL * 1000000000000000000LL; /* 1e36 */

static int to_dec(struct tval v, struct dec *d)
{
	if (v.t == TV_INT) {
		d->m = v.i;
		d->s = 0;
		return 0;
	}
	if (v.t != TV_FLOAT || isnan(v.f) || isinf(v.f))
		return -1;
	int64_t sm;
	int sk;
	if (dbl_short(v.f, &sm, &sk) == 0) {
		d->m = sm;
		d->s = sk;
		while (d->s > 0 && d->m % 10 == 0) {
			d->m /= 10;
			d->s--;
		}
		return 0;
	}
	char tmp[40];
	int prec;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v.f);
		if (strtod(tmp, NULL) == v.f)
			break;
	}
	__int128 m = 0;
	int nd = 0, neg = 0;
	const char *c = tmp;
	if (*c == '-') {
		neg = 1;
		c++;
	}
	for (; *c && *c != 'e'; c++)
		if (*c != '.') {
			m = m * 10 + (*c - '0');
			nd++;
		}
	int e10 = (int)strtol(c + 1, NULL, 10);
	int s = (nd - 1) - e10;
	while (s < 0) {
		if (m > DEC_MAX / 10)
			return -1;
		m *= 10;
		s++;
	}
	if (s > 60)
		return -1;
	while (s > 0 && m % 10 == 0) {
		m /= 10;
		s--;
	}
	d->m = neg ? -m : m;
	d->s = s;
	return 0;
}

static double dec_to_double(struct dec d)
{
	static const double p10[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,  1e8,  1e9,	 1e10, 1e11,
				     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	/* exact operands: one correctly rounded division */
	if (d.s <= 22 && d.m < ((__int128)1 << 53) && d.m > -((__int128)1 << 53))
		return (double)(int64_t)d.m / p10[d.s];
	char tmp[96];
	char digits[64];
	int n = 0;
	__int128 m = d.m < 0 ? -d.m : d.m;
	do {
		digits[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m && n < 60);
	int k = 0;
	if (d.m < 0)
		tmp[k++] = '-';
	while (n)
		tmp[k++] = digits[--n];
	snprintf(tmp + k, sizeof tmp - (size_t)k, "e-%d", d.s);
	return strtod(tmp, NULL);
}

static int dec_align(struct dec *a, struct dec *b)
{
	while (a->s < b->s) {
		if (a->m > DEC_MAX / 10 || a->m < -DEC_MAX / 10)
			return -1;
		a->m *= 10;
		a->s++;
	}
	while (b->s < a->s) {
		if (b->m > DEC_MAX / 10 || b->m < -DEC_MAX / 10)
			return -1;
		b->m *= 10;
		b->s++;
	}
	return 0;
}

static __int128 i128_abs(__int128 x)
{
	return x < 0 ? -x : x;
}

static struct tval num_arg(struct tval v)
{
	struct tval r;
	tv_to_number(v, &r);
	return r;
}

static double dbl(struct tval v)
{
	return v.t == TV_INT ? (double)v.i : v.f;
}

enum { OPP, OPM, OPT, OPD, OPMOD };

static struct tval arith(struct rs *rs, const struct tpl_fcall *fc, struct tval a, struct tval b, int op)
{
	a = num_arg(a);
	b = num_arg(b);
	if (a.t == TV_INT && b.t == TV_INT) {
		int64_t r;
		switch (op) {
		case OPP:
			if (!__builtin_add_overflow(a.i, b.i, &r))
				return tv_int(r);
			return tv_float((double)a.i + (double)b.i);
		case OPM:
			if (!__builtin_sub_overflow(a.i, b.i, &r))
				return tv_int(r);
			return tv_float((double)a.i - (double)b.i);
		case OPT:
			if (!__builtin_mul_overflow(a.i, b.i, &r))
				return tv_int(r);
			return tv_float((double)a.i * (double)b.i);
		case OPD:
		case OPMOD:
			if (b.i == 0) {
				rs_fail(rs, CAIRN_EUNPROC, fline(fc), "divided by 0");
				return tv_nil();
			}
			if (a.i == INT64_MIN && b.i == -1)
				return op == OPD ? tv_float(-(double)INT64_MIN) : tv_int(0);
			{
				int64_t q = a.i / b.i, m = a.i % b.i;
				if (m != 0 && ((m < 0) != (b.i < 0))) {
					q--;
					m += b.i;
				}
				return op == OPD ? tv_int(q) : tv_int(m);
			}
		}
	}
	if ((op == OPD || op == OPMOD) && dbl(b) == 0) {
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "divided by 0");
		return tv_nil();
	}
	struct dec x, y;
	if (op != OPD && to_dec(a, &x) == 0 && to_dec(b, &y) == 0) {
		struct dec r;
		int ok = 1;
		if (op == OPT) {
			if (i128_abs(x.m) < ((__int128)1 << 62) && i128_abs(y.m) < ((__int128)1 << 62)) {
				r.m = x.m * y.m;
				r.s = x.s + y.s;
			} else
				ok = 0;
		} else if (dec_align(&x, &y) == 0) {
			r.s = x.s;
			if (op == OPP)
				r.m = x.m + y.m;
			else if (op == OPM)
				r.m = x.m - y.m;
			else {
				r.m = x.m % y.m;
				if (r.m != 0 && ((r.m < 0) != (y.m < 0)))
					r.m += y.m;
			}
		} else
			ok = 0;
		if (ok)
			return tv_float(dec_to_double(r));
	}
	double p = dbl(a), q = dbl(b);
	switch (op) {
	case OPP: return tv_float(p + q);
	case OPM: return tv_float(p - q);
	case OPT: return tv_float(p * q);
	case OPD: return tv_float(p / q);
	default: return tv_float(p - q * floor(p / q));
	}
}

static struct tval f_plus(FARGS)
{
	UNUSED_FARGS;
	return arith(rs, fc, in, argv[0], OPP);
}
static struct tval f_minus(FARGS)
{
	UNUSED_FARGS;
	return arith(rs, fc, in, argv[0], OPM);
}
static struct tval f_times(FARGS)
{
	UNUSED_FARGS;
	return arith(rs, fc, in, argv[0], OPT);
}
static struct tval f_divided_by(FARGS)
{
	UNUSED_FARGS;
	return arith(rs, fc, in, argv[0], OPD);
}
static struct tval f_modulo(FARGS)
{
	UNUSED_FARGS;
	return arith(rs, fc, in, argv[0], OPMOD);
}

static struct tval f_abs(FARGS)
{
	UNUSED_FARGS;
	struct tval n = num_arg(in);
	if (n.t == TV_INT)
		return n.i == INT64_MIN ? tv_float(-(double)n.i) : tv_int(n.i < 0 ? -n.i : n.i);
	return tv_float(fabs(n.f));
}

/* Rounds d to `places` decimals: mode 0 half away from zero, 1 ceil, 2 floor. */
static struct dec dec_round_exact(struct dec d, int places, int mode)
{
	if (d.s <= places)
		return d;
	__int128 p = 1;
	for (int i = 0; i < d.s - places; i++)
		p *= 10;
	__int128 q = d.m / p, r = d.m % p;
	if (mode == 0) {
		if (i128_abs(r) * 2 >= p)
			q += d.m < 0 ? -1 : 1;
	} else if (mode == 1 && r > 0)
		q++;
	else if (mode == 2 && r < 0)
		q--;
	struct dec o = {q, places};
	return o;
}

static struct tval f_round(FARGS)
{
	UNUSED_FARGS;
	struct tval n = num_arg(in);
	int64_t places = 0;
	if (argc) {
		struct tval pn = num_arg(argv[0]);
		places = pn.t == TV_INT ? pn.i : (int64_t)pn.f;
	}
	if (places > 30)
		places = 30;
	if (places < -30)
		places = -30;
	if (n.t == TV_INT) {
		if (places >= 0)
			return n;
		int64_t p = 1;
		for (int64_t i = 0; i < -places && p < INT64_MAX / 10; i++)
			p *= 10;
		int64_t q = n.i / p, r = n.i % p;
		if ((r < 0 ? -r : r) * 2 >= p)
			q += n.i < 0 ? -1 : 1;
		return tv_int(q * p);
	}
	struct dec d;
	if (to_dec(n, &d) < 0) {
		if (isnan(n.f) || isinf(n.f)) {
			rs_fail(rs, CAIRN_EUNPROC, fline(fc), "round: %s", isnan(n.f) ? "NaN" : "Infinity");
			return tv_nil();
		}
		double p = pow(10, (double)places);
		double r = round(n.f * p) / p;
		return places == 0 ? tv_int((int64_t)r) : tv_float(r);
	}
	if (places < 0) {
		d = dec_round_exact(d, 0, 0);
		struct dec t = {d.m, (int)-places};
		t = dec_round_exact(t, 0, 0);
		int64_t r = (int64_t)t.m;
		for (int64_t i = 0; i < -places; i++)
			r *= 10;
		return tv_int(r);
	}
	d = dec_round_exact(d, (int)places, 0);
	if (places == 0)
		return tv_int((int64_t)d.m);
	return tv_float(dec_to_double(d));
}

static struct tval ceil_floor(struct rs *rs, const struct tpl_fcall *fc, struct tval in, int mode)
{
	struct tval n = num_arg(in);
	if (n.t == TV_INT)
		return n;
	struct dec d;
	if (to_dec(n, &d) < 0) {
		if (isnan(n.f) || isinf(n.f)) {
			rs_fail(rs, CAIRN_EUNPROC, fline(fc), "%s: %s", mode == 1 ? "ceil" : "floor",
				isnan(n.f) ? "NaN" : "Infinity");
			return tv_nil();
		}
		return tv_int((int64_t)(mode == 1 ? ceil(n.f) : floor(n.f)));
	}
	d = dec_round_exact(d, 0, mode);
	return tv_int((int64_t)d.m);
}

static struct tval f_ceil(FARGS)
{
	UNUSED_FARGS;
	return ceil_floor(rs, fc, in, 1);
}
static struct tval f_floor(FARGS)
{
	UNUSED_FARGS;
	return ceil_floor(rs, fc, in, 2);
}

static struct tval f_at_least(FARGS)
{
	UNUSED_FARGS;
	struct tval a = num_arg(in), b = num_arg(argv[0]);
	int c;
	tv_compare(b, a, &c);
	return c > 0 ? b : a;
}

static struct tval f_at_most(FARGS)
{
	UNUSED_FARGS;
	struct tval a = num_arg(in), b = num_arg(argv[0]);
	int c;
	tv_compare(b, a, &c);
	return c < 0 ? b : a;
}

static struct tval f_sum(FARGS)
{
	UNUSED_FARGS;
	struct tarr *a = tv_flatten(rs, in);
	struct tval acc = tv_int(0);
	for (size_t i = 0; i < a->n && !rs->failed; i++) {
		struct tval v = a->v[i];
		if (argc && argv[0].t != TV_NIL) {
			int ok;
			v = prop_of(rs, v, argv[0], &ok);
			if (!ok || a->v[i].t == TV_STR)
				v = ok && a->v[i].t != TV_STR ? v : tv_int(0);
		}
		acc = arith(rs, fc, acc, num_arg(v), OPP);
	}
	return acc;
}

/* ---- default, json, date, money, t ------------------------------------------------- */

static struct tval f_default(FARGS)
{
	UNUSED_FARGS;
	int allow_false = 0;
	for (int i = 0; i < kwc; i++)
		if (strcmp(kw[i], "allow_false") == 0)
			allow_false = tv_truthy(kwv[i]);
	struct tval dflt = argc ? argv[0] : tv_str("", 0);
	int use = allow_false ? in.t == TV_NIL : !tv_truthy(in);
	if (!use && (in.t == TV_STR || tv_is_array(in) || in.t == TV_JSON || in.t == TV_OBJ) && tv_is_empty(in))
		use = 1;
	if (in.t == TV_EMPTY || in.t == TV_BLANK)
		use = 1;
	return use ? dflt : in;
}

static struct tval f_json(FARGS)
{
	UNUSED_FARGS;
	struct buf b;
	sbuf(rs, &b);
	tv_to_json(rs, in, &b, 0);
	return buf_to_val(rs, fc, &b);
}

static struct tval f_date(FARGS)
{
	UNUSED_FARGS;
	struct tval fmt = S(rs, argv[0]);
	if (fmt.s.n == 0)
		return in;
	int64_t ms;
	int off, has_off;
	if (tpl_time_parse(rs, in, &ms, &off, &has_off) < 0)
		return in;
	const char *tz = NULL;
	struct tval tzv = tv_nil();
	if (argc > 1)
		tzv = argv[1];
	for (int i = 0; i < kwc; i++)
		if (strcmp(kw[i], "tz") == 0 || strcmp(kw[i], "time_zone") == 0)
			tzv = kwv[i];
	if (tzv.t != TV_NIL) {
		struct tval t = S(rs, tzv);
		if (t.s.n)
			tz = tp_strndup(rs, t.s.p, t.s.n);
	}
	struct buf b;
	sbuf(rs, &b);
	if (tpl_strftime(rs, &b, fmt.s.p, fmt.s.n, ms, tz, off, has_off) < 0) {
		buf_release(&b);
		rs_fail(rs, CAIRN_EUNPROC, fline(fc), "Unknown time zone '%s' (use an IANA name like \"Asia/Seoul\").",
			tz);
		return tv_nil();
	}
	return buf_to_val(rs, fc, &b);
}

struct currency {
	const char *code, *symbol;
	int decimals;
};

static const struct currency currencies[] = {
	{"KRW", "\xe2\x82\xa9", 0}, {"USD", "$", 2},	      {"EUR", "\xe2\x82\xac", 2}, {"GBP", "\xc2\xa3", 2},
	{"JPY", "\xc2\xa5", 0},	    {"CNY", "CN\xc2\xa5", 2}, {"CAD", "CA$", 2},	  {"AUD", "A$", 2},
	{"VND", "\xe2\x82\xab", 0}, {"TWD", "NT$", 2},	      {"HKD", "HK$", 2},	  {"INR", "\xe2\x82\xb9", 2},
};

static struct tval f_money(FARGS)
{
	UNUSED_FARGS;
	struct tval code = argc ? S(rs, argv[0]) : tv_str("USD", 3);
	char cc[8] = {0};
	for (size_t i = 0; i < code.s.n && i < 7; i++)
		cc[i] = (char)((code.s.p[i] >= 'a' && code.s.p[i] <= 'z') ? code.s.p[i] - 32 : code.s.p[i]);
	const char *sym = NULL;
	int decimals = 2;
	for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++)
		if (strcmp(cc, currencies[i].code) == 0) {
			sym = currencies[i].symbol;
			decimals = currencies[i].decimals;
		}
	struct tval n = num_arg(in);
	struct dec d;
	if (to_dec(n, &d) < 0) {
		d.m = 0;
		d.s = 0;
	}
	d = dec_round_exact(d, decimals, 0);
	while (d.s < decimals) {
		d.m *= 10;
		d.s++;
	}
	int neg = d.m < 0;
	__int128 m = neg ? -d.m : d.m;
	char digits[64];
	int nd = 0;
	do {
		digits[nd++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m && nd < 60);
	while (nd <= decimals)
		digits[nd++] = '0';
	struct buf b;
	sbuf(rs, &b);
	if (neg)
		buf_addch(&b, '-');
	if (sym)
		buf_adds(&b, sym);
	else {
		buf_adds(&b, cc);
		buf_addch(&b, ' ');
	}
	int intd = nd - decimals;
	for (int i = 0; i < intd; i++) {
		buf_addch(&b, digits[nd - 1 - i]);
		int left = intd - 1 - i;
		if (left > 0 && left % 3 == 0)
			buf_addch(&b, ',');
	}
	if (decimals) {
		buf_addch(&b, '.');
		for (int i = decimals - 1; i >= 0; i--)
			buf_addch(&b, digits[i]);
	}
	return buf_to_val(rs, fc, &b);
}

static json_t *json_path(json_t *o, const char *k, size_t kn)
{
	if (!json_is_object(o))
		return NULL;
	json_t *j = json_object_getn(o, k, kn);
	if (j)
		return j;
	const char *dot = memchr(k, '.', kn);
	if (!dot)
		return NULL;
	return json_path(json_object_getn(o, k, (size_t)(dot - k)), dot + 1, kn - (size_t)(dot - k) - 1);
}

static struct tval f_t(FARGS)
{
	UNUSED_FARGS;
	struct tval key = S(rs, in);
	json_t *tr = rs->data ? json_object_get(rs->data, "_translations") : NULL;
	const char *loc = rs->data ? json_string_value(json_object_get(rs->data, "_locale")) : NULL;
	if (!loc && rs->data)
		loc = json_string_value(json_object_get(json_object_get(rs->data, "user"), "locale"));
	for (int i = 0; i < kwc; i++)
		if (strcmp(kw[i], "locale") == 0 && kwv[i].t == TV_STR)
			loc = tp_strndup(rs, kwv[i].s.p, kwv[i].s.n);
	json_t *hit = NULL;
	if (json_is_object(tr)) {
		const char *cands[3];
		size_t cl[3];
		int nc = 0;
		if (loc && *loc) {
			cands[nc] = loc;
			cl[nc++] = strlen(loc);
			size_t lang = strcspn(loc, "-_");
			if (lang < strlen(loc)) {
				cands[nc] = loc;
				cl[nc++] = lang;
			}
		}
		cands[nc] = "en";
		cl[nc++] = 2;
		for (int i = 0; i < nc && !hit; i++) {
			json_t *l = json_object_getn(tr, cands[i], cl[i]);
			json_t *s = json_path(l, key.s.p, key.s.n);
			if (json_is_string(s))
				hit = s;
		}
	}
	if (!hit)
		return key;
	const char *s = json_string_value(hit);
	size_t n = json_string_length(hit);
	if (!kwc || !memmem(s, n, "{{", 2))
		return tv_str(s, n);
	/* {{ name }} placeholders from keyword arguments */
	struct buf b;
	sbuf(rs, &b);
	size_t i = 0;
	while (i < n) {
		const char *o = memmem(s + i, n - i, "{{", 2);
		if (!o) {
			buf_add(&b, s + i, n - i);
			break;
		}
		const char *c = memmem(o, n - (size_t)(o - s), "}}", 2);
		if (!c) {
			buf_add(&b, s + i, n - i);
			break;
		}
		buf_add(&b, s + i, (size_t)(o - (s + i)));
		const char *nb = o + 2, *ne = c;
		while (nb < ne && *nb == ' ')
			nb++;
		while (ne > nb && ne[-1] == ' ')
			ne--;
		int found = 0;
		for (int k = 0; k < kwc; k++) {
			if (strlen(kw[k]) == (size_t)(ne - nb) && memcmp(kw[k], nb, (size_t)(ne - nb)) == 0) {
				struct tval v = S(rs, kwv[k]);
				buf_add(&b, v.s.p, v.s.n);
				found = 1;
				break;
			}
		}
		if (!found)
			buf_add(&b, o, (size_t)(c + 2 - o));
		i = (size_t)(c + 2 - s);
	}
	return buf_to_val(rs, fc, &b);
}

/* ---- the table ----------------------------------------------------------------------- */

static const struct tpl_filter_def filters[] = {
	{"abs", f_abs, 0, 0, "absolute value"},
	{"append", f_append, 1, 1, "adds a string at the end"},
	{"at_least", f_at_least, 1, 1, "limits a number to a minimum"},
	{"at_most", f_at_most, 1, 1, "limits a number to a maximum"},
	{"base64_decode", f_b64d, 0, 0, "decodes Base64"},
	{"base64_encode", f_b64e, 0, 0, "encodes Base64"},
	{"base64_url_safe_decode", f_b64ud, 0, 0, "decodes URL-safe Base64"},
	{"base64_url_safe_encode", f_b64ue, 0, 0, "encodes URL-safe Base64"},
	{"capitalize", f_capitalize, 0, 0, "first character upper case, the rest lower case"},
	{"ceil", f_ceil, 0, 0, "rounds up to an integer"},
	{"compact", f_compact, 0, 1, "removes nil items [by property]"},
	{"concat", f_concat, 1, 1, "joins two arrays"},
	{"date", f_date, 1, 2, "formats a time: date: \"%Y-%m-%d\"[, \"Asia/Seoul\"]"},
	{"default", f_default, 0, 1, "a value for nil, false or empty input [allow_false: true]"},
	{"divided_by", f_divided_by, 1, 1, "division; integer division when both are integers"},
	{"downcase", f_downcase, 0, 0, "lower case"},
	{"escape", f_escape, 0, 0, "HTML-escapes"},
	{"escape_once", f_escape_once, 0, 0, "HTML-escapes without double-escaping entities"},
	{"find", f_find, 1, 2, "first item whose property matches"},
	{"find_index", f_find_index, 1, 2, "index of the first item whose property matches"},
	{"first", f_first, 0, 0, "first item or character"},
	{"floor", f_floor, 0, 0, "rounds down to an integer"},
	{"h", f_escape, 0, 0, "alias of escape"},
	{"has", f_has, 1, 2, "whether any item's property matches"},
	{"join", f_join, 0, 1, "joins items with a separator (default \" \")"},
	{"json", f_json, 0, 0, "the value as JSON"},
	{"last", f_last, 0, 0, "last item or character"},
	{"lstrip", f_lstrip, 0, 0, "removes leading whitespace"},
	{"map", f_map, 1, 1, "the given property of each item"},
	{"minus", f_minus, 1, 1, "subtraction"},
	{"modulo", f_modulo, 1, 1, "remainder (sign of the divisor)"},
	{"money", f_money, 0, 1, "formats an amount: money: \"KRW\" → ₩15,000; money: \"USD\" → $12.50"},
	{"newline_to_br", f_newline_to_br, 0, 0, "inserts <br /> before newlines"},
	{"plus", f_plus, 1, 1, "addition"},
	{"prepend", f_prepend, 1, 1, "adds a string at the start"},
	{"reject", f_reject, 1, 2, "items whose property does not match"},
	{"remove", f_remove, 1, 1, "removes every occurrence"},
	{"remove_first", f_remove_first, 1, 1, "removes the first occurrence"},
	{"remove_last", f_remove_last, 1, 1, "removes the last occurrence"},
	{"replace", f_replace, 1, 2, "replaces every occurrence"},
	{"replace_first", f_replace_first, 1, 2, "replaces the first occurrence"},
	{"replace_last", f_replace_last, 2, 2, "replaces the last occurrence"},
	{"reverse", f_reverse, 0, 0, "reverses an array"},
	{"round", f_round, 0, 1, "rounds (half up) [to n decimals]"},
	{"rstrip", f_rstrip, 0, 0, "removes trailing whitespace"},
	{"size", f_size, 0, 0, "characters of a string, items of an array"},
	{"slice", f_slice, 1, 2, "substring or sub-array from an offset (negative from the end)"},
	{"sort", f_sort, 0, 1, "sorts [by property], case-sensitive"},
	{"sort_natural", f_sort_natural, 0, 1, "sorts [by property], case-insensitive"},
	{"split", f_split, 1, 1, "splits a string into an array"},
	{"strip", f_strip, 0, 0, "removes surrounding whitespace"},
	{"strip_html", f_strip_html, 0, 0, "removes HTML tags"},
	{"strip_newlines", f_strip_newlines, 0, 0, "removes newlines"},
	{"sum", f_sum, 0, 1, "sum of the items [of a property]"},
	{"t", f_t, 0, 0, "translation of a key for the user's locale (key: value placeholders)"},
	{"times", f_times, 1, 1, "multiplication"},
	{"truncate", f_truncate, 0, 2, "shortens to n characters including the ellipsis"},
	{"truncatewords", f_truncatewords, 0, 2, "shortens to n words"},
	{"uniq", f_uniq, 0, 1, "removes duplicates [by property]"},
	{"upcase", f_upcase, 0, 0, "upper case"},
	{"url_decode", f_url_decode, 0, 0, "decodes %XX and +"},
	{"url_encode", f_url_encode, 0, 0, "percent-encodes (space as +)"},
	{"where", f_where, 1, 2, "items whose property matches (or is truthy)"},
};

const struct tpl_filter_def *tpl_filter_find(const char *name, size_t n)
{
	size_t lo = 0, hi = sizeof filters / sizeof filters[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *f = filters[mid].name;
		size_t fl = strlen(f);
		int c = memcmp(name, f, n < fl ? n : fl);
		if (c == 0)
			c = (n > fl) - (n < fl);
		if (c == 0)
			return &filters[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *const *tpl_filter_names(void)
{
	static const char *names[sizeof filters / sizeof filters[0] + 1];
	if (!names[0])
		for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
			names[i] = filters[i].name;
	return names;
}
