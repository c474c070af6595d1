/* tpl_value.c — render values: conversion, equality, ordering, output.
 *
 * Values mirror what Shopify Liquid does with Ruby objects: to_s of an
 * array or hash is Ruby's inspect ({"a"=>1}), floats print like Ruby
 * (2.0, 1.0e+20), equality is Ruby == (1 == 1.0, "1" != 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl_int.h"

struct tval tv_from_json(json_t *j)
{
	struct tval v = {0};
	if (!j)
		return v;
	switch (json_typeof(j)) {
	case JSON_STRING: return tv_str(json_string_value(j), json_string_length(j));
	case JSON_INTEGER: return tv_int((int64_t)json_integer_value(j));
	case JSON_REAL: return tv_float(json_real_value(j));
	case JSON_TRUE: return tv_bool(1);
	case JSON_FALSE: return tv_bool(0);
	case JSON_NULL: return v;
	default:
		v.t = TV_JSON;
		v.j = j;
		return v;
	}
}

int tv_truthy(struct tval v)
{
	if (v.t == TV_NIL)
		return 0;
	if (v.t == TV_BOOL)
		return v.b;
	return 1;
}

/* ---- numbers ------------------------------------------------------------------ */

static const double pow10tab[] = {1e0, 1e1,  1e2,  1e3,	 1e4,  1e5,  1e6,  1e7, 1e8,
				  1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16};

int dbl_short(double x, int64_t *m, int *k)
{
	double ax = fabs(x);
	if (!(ax < 1e15) || ax < 1e-6)
		return -1;
	for (int d = 0; d <= 16; d++) {
		double y = x * pow10tab[d];
		if (fabs(y) >= 9007199254740992.0)
			return -1;
		double r = nearbyint(y);
		if (r / pow10tab[d] == x) {
			*m = (int64_t)r;
			*k = d;
			return 0;
		}
	}
	return -1;
}

size_t fmt_int(int64_t v, char *out)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t o = 0;
	if (v < 0)
		out[o++] = '-';
	while (n)
		out[o++] = tmp[--n];
	out[o] = '\0';
	return o;
}

/* Ruby's Float#to_s. */
void fmt_float(double f, struct buf *b)
{
	int64_t m;
	int k;
	if (f != 0 && dbl_short(f, &m, &k) == 0) {
		char d[24];
		size_t n = fmt_int(m < 0 ? -m : m, d);
		if (f < 0)
			buf_addch(b, '-');
		if (k == 0) {
			buf_add(b, d, n);
			buf_adds(b, ".0");
		} else if ((size_t)k >= n) {
			buf_adds(b, "0.");
			for (size_t i = n; i < (size_t)k; i++)
				buf_addch(b, '0');
			buf_add(b, d, n);
		} else {
			buf_add(b, d, n - (size_t)k);
			buf_addch(b, '.');
			buf_add(b, d + n - k, (size_t)k);
		}
		return;
	}
	if (isnan(f)) {
		buf_adds(b, "NaN");
		return;
	}
	if (isinf(f)) {
		buf_adds(b, f < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (f == 0) {
		buf_adds(b, signbit(f) ? "-0.0" : "0.0");
		return;
	}
	char tmp[40];
	int prec;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	/* tmp: [-]d.ddde[+-]XX */
	char digits[24];
	int nd = 0, neg = 0;
	const char *c = tmp;
	if (*c == '-') {
		neg = 1;
		c++;
	}
	for (; *c && *c != 'e'; c++)
		if (*c != '.')
			digits[nd++] = *c;
	int exp10 = (int)strtol(c + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int decpt = exp10 + 1;
	if (neg)
		buf_addch(b, '-');
	if (decpt > -4 + 1 - 1 && decpt <= 16 && decpt >= -3) {
		if (decpt <= 0) {
			buf_adds(b, "0.");
			for (int i = 0; i < -decpt; i++)
				buf_addch(b, '0');
			buf_add(b, digits, (size_t)nd);
		} else if (decpt >= nd) {
			buf_add(b, digits, (size_t)nd);
			for (int i = nd; i < decpt; i++)
				buf_addch(b, '0');
			buf_adds(b, ".0");
		} else {
			buf_add(b, digits, (size_t)decpt);
			buf_addch(b, '.');
			buf_add(b, digits + decpt, (size_t)(nd - decpt));
		}
		return;
	}
	buf_addch(b, digits[0]);
	buf_addch(b, '.');
	if (nd > 1)
		buf_add(b, digits + 1, (size_t)(nd - 1));
	else
		buf_addch(b, '0');
	buf_addf(b, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
}

int parse_number_lit(const char *s, size_t n, struct tval *out)
{
	if (!n)
		return 0;
	size_t i = 0;
	if (s[0] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	size_t int_end = i;
	while (int_end < n && s[int_end] >= '0' && s[int_end] <= '9')
		int_end++;
	char tmp[64];
	if (int_end == n) {
		if (n >= sizeof tmp)
			return 0;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *end;
		long long v = strtoll(tmp, &end, 10);
		if (*end)
			return 0;
		*out = tv_int(v);
		return 1;
	}
	/* digits and dots only; a second dot ends the number ("1.2.3" → 1.2) */
	size_t first_dot = 0, num_end = 0;
	for (size_t k = int_end; k < n; k++) {
		if (s[k] != '.' && (s[k] < '0' || s[k] > '9'))
			return 0;
		if (num_end)
			continue;
		if (s[k] == '.') {
			if (!first_dot)
				first_dot = k;
			else
				num_end = k;
		}
	}
	if (!num_end)
		num_end = n;
	size_t len = num_end;
	if (len >= sizeof tmp)
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = tv_float(strtod(tmp, NULL));
	return 1;
}

int tv_to_number(struct tval v, struct tval *out)
{
	switch (v.t) {
	case TV_INT:
	case TV_FLOAT: *out = v; return 0;
	case TV_STR: {
		const char *s = v.s.p;
		size_t n = v.s.n;
		while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
			n--;
		/* /\A-?\d+\.\d+\z/ → decimal, else to_i */
		size_t i = 0;
		if (i < n && s[i] == '-')
			i++;
		size_t d0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i > d0 && i < n && s[i] == '.') {
			size_t d1 = ++i;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == n && i > d1) {
				char tmp[80];
				size_t l = n < sizeof tmp - 1 ? n : sizeof tmp - 1;
				memcpy(tmp, s, l);
				tmp[l] = '\0';
				*out = tv_float(strtod(tmp, NULL));
				return 0;
			}
		}
		/* String#to_i: optional sign, digits (underscores allowed) */
		int64_t r = 0;
		int neg = 0;
		i = 0;
		if (i < n && (s[i] == '-' || s[i] == '+')) {
			neg = s[i] == '-';
			i++;
		}
		double big = 0;
		int overflow = 0;
		for (; i < n; i++) {
			if (s[i] == '_' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
				continue;
			if (s[i] < '0' || s[i] > '9')
				break;
			if (r > (INT64_MAX - 9) / 10)
				overflow = 1;
			if (!overflow)
				r = r * 10 + (s[i] - '0');
			big = big * 10 + (s[i] - '0');
		}
		if (overflow)
			*out = tv_float(neg ? -big : big);
		else
			*out = tv_int(neg ? -r : r);
		return 0;
	}
	default: *out = tv_int(0); return 0;
	}
}

int64_t tv_to_int(struct tval v, int *ok)
{
	*ok = 1;
	switch (v.t) {
	case TV_INT: return v.i;
	case TV_FLOAT:
		if (isnan(v.f) || isinf(v.f)) {
			*ok = 0;
			return 0;
		}
		return (int64_t)v.f;
	case TV_STR: {
		char tmp[64];
		const char *s = v.s.p;
		size_t n = v.s.n;
		while (n && (*s == ' ' || *s == '\t' || *s == '\n'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
			n--;
		if (!n || n >= sizeof tmp) {
			*ok = 0;
			return 0;
		}
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *end;
		long long r = strtoll(tmp, &end, 10);
		if (*end) {
			*ok = 0;
			return 0;
		}
		return r;
	}
	default: *ok = 0; return 0;
	}
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

size_t u8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

size_t u8_off(const char *s, size_t n, size_t cp)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (c == cp)
				return i;
			c++;
		}
	}
	return n;
}

/* ---- collections ------------------------------------------------------------------ */

struct tarr *tarr_new(struct rs *rs, size_t n)
{
	struct tarr *a = tp_alloc(rs, sizeof *a + n * sizeof(struct tval));
	a->n = n;
	return a;
}

int tv_is_array(struct tval v)
{
	return v.t == TV_ARR || v.t == TV_RANGE || (v.t == TV_JSON && json_is_array(v.j));
}

size_t tv_len(struct tval v)
{
	switch (v.t) {
	case TV_ARR: return v.a->n;
	case TV_JSON: return json_is_array(v.j) ? json_array_size(v.j) : json_object_size(v.j);
	case TV_OBJ: return v.o->n;
	case TV_RANGE: return v.r.hi >= v.r.lo ? (size_t)(v.r.hi - v.r.lo + 1) : 0;
	default: return 0;
	}
}

struct tval tv_item(struct tval v, size_t i)
{
	switch (v.t) {
	case TV_ARR: return i < v.a->n ? v.a->v[i] : tv_nil();
	case TV_JSON: return json_is_array(v.j) ? tv_from_json(json_array_get(v.j, i)) : tv_nil();
	case TV_RANGE: return tv_int(v.r.lo + (int64_t)i);
	default: return tv_nil();
	}
}

static void flatten_into(struct tval v, struct tval *dst, size_t *n, int count_only, int depth)
{
	if (tv_is_array(v) && depth < 64) {
		size_t len = tv_len(v);
		for (size_t i = 0; i < len; i++)
			flatten_into(tv_item(v, i), dst, n, count_only, depth + 1);
		return;
	}
	if (!count_only)
		dst[*n] = v;
	(*n)++;
}

struct tarr *tv_flatten(struct rs *rs, struct tval v)
{
	if (v.t == TV_NIL)
		return tarr_new(rs, 0);
	if (!tv_is_array(v)) {
		struct tarr *a = tarr_new(rs, 1);
		a->v[0] = v;
		return a;
	}
	if (v.t == TV_RANGE && tv_len(v) > 10000000) {
		rs_fail(rs, CAIRN_ETOOBIG, 0, "The range %lld..%lld is too large.", (long long)v.r.lo,
			(long long)v.r.hi);
		return tarr_new(rs, 0);
	}
	size_t n = 0;
	flatten_into(v, NULL, &n, 1, 0);
	struct tarr *a = tarr_new(rs, n);
	if (rs->failed) {
		a->n = 0;
		return a;
	}
	n = 0;
	flatten_into(v, a->v, &n, 0, 0);
	return a;
}

/* ---- lookups ----------------------------------------------------------------------- */

static int key_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

struct tval tv_get_key(struct rs *rs, struct tval obj, const char *k, size_t kn, int *found)
{
	(void)rs;
	*found = 0;
	if (obj.t == TV_JSON && json_is_object(obj.j)) {
		json_t *j = json_object_getn(obj.j, k, kn);
		if (j) {
			*found = 1;
			return tv_from_json(j);
		}
	} else if (obj.t == TV_OBJ) {
		for (size_t i = 0; i < obj.o->n; i++)
			if (key_eq(obj.o->e[i].k, obj.o->e[i].kn, k, kn)) {
				*found = 1;
				return obj.o->e[i].v;
			}
	}
	return tv_nil();
}

struct tval tv_get(struct rs *rs, struct tval obj, struct tval key, int *found)
{
	*found = 0;
	if (key.t == TV_STR)
		return tv_get_key(rs, obj, key.s.p, key.s.n, found);
	if (key.t == TV_INT && tv_is_array(obj)) {
		int64_t len = (int64_t)tv_len(obj), i = key.i;
		if (i < 0)
			i += len;
		if (i >= 0 && i < len) {
			*found = 1;
			return tv_item(obj, (size_t)i);
		}
	}
	return tv_nil();
}

/* ---- equality and order -------------------------------------------------------------- */

int tv_is_empty(struct tval v)
{
	switch (v.t) {
	case TV_STR: return v.s.n == 0;
	case TV_JSON:
	case TV_ARR:
	case TV_OBJ: return tv_len(v) == 0;
	case TV_RANGE: return tv_len(v) == 0;
	case TV_EMPTY:
	case TV_BLANK: return 1;
	default: return 0;
	}
}

int tv_is_blank(struct tval v)
{
	switch (v.t) {
	case TV_NIL: return 1;
	case TV_BOOL: return !v.b;
	case TV_STR:
		for (size_t i = 0; i < v.s.n; i++)
			if (!strchr(" \t\n\r\f\v", v.s.p[i]))
				return 0;
		return 1;
	default: return tv_is_empty(v);
	}
}

static int is_num(struct tval v)
{
	return v.t == TV_INT || v.t == TV_FLOAT;
}

static double num_d(struct tval v)
{
	return v.t == TV_INT ? (double)v.i : v.f;
}

static int obj_like(struct tval v)
{
	return (v.t == TV_JSON && json_is_object(v.j)) || v.t == TV_OBJ;
}

int tv_equal(struct tval a, struct tval b)
{
	if (a.t == TV_EMPTY || a.t == TV_BLANK) {
		struct tval t = a;
		a = b;
		b = t;
	}
	if (b.t == TV_EMPTY)
		return a.t == TV_EMPTY || a.t == TV_BLANK ||
		       ((a.t == TV_STR || tv_is_array(a) || obj_like(a)) && tv_is_empty(a));
	if (b.t == TV_BLANK)
		return tv_is_blank(a) || a.t == TV_EMPTY || a.t == TV_BLANK;
	if (is_num(a) && is_num(b)) {
		if (a.t == TV_INT && b.t == TV_INT)
			return a.i == b.i;
		return num_d(a) == num_d(b);
	}
	if (tv_is_array(a) && tv_is_array(b)) {
		size_t n = tv_len(a);
		if (n != tv_len(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!tv_equal(tv_item(a, i), tv_item(b, i)))
				return 0;
		return 1;
	}
	if (a.t == TV_JSON && b.t == TV_JSON)
		return json_equal(a.j, b.j);
	if (obj_like(a) && obj_like(b)) {
		if (tv_len(a) != tv_len(b))
			return 0;
		if (a.t == TV_OBJ) {
			for (size_t i = 0; i < a.o->n; i++) {
				int f;
				struct tval o = tv_get_key(NULL, b, a.o->e[i].k, a.o->e[i].kn, &f);
				if (!f || !tv_equal(a.o->e[i].v, o))
					return 0;
			}
			return 1;
		}
		return tv_equal(b, a);
	}
	if (a.t != b.t)
		return 0;
	switch (a.t) {
	case TV_NIL: return 1;
	case TV_BOOL: return a.b == b.b;
	case TV_STR: return a.s.n == b.s.n && memcmp(a.s.p, b.s.p, a.s.n) == 0;
	case TV_SELF: return a.self == b.self;
	case TV_LOOP: return a.loop == b.loop;
	default: return 0;
	}
}

int tv_compare(struct tval a, struct tval b, int *cmp)
{
	if (is_num(a) && is_num(b)) {
		if (a.t == TV_INT && b.t == TV_INT)
			*cmp = (a.i > b.i) - (a.i < b.i);
		else
			*cmp = (num_d(a) > num_d(b)) - (num_d(a) < num_d(b));
		return 0;
	}
	if (a.t == TV_STR && b.t == TV_STR) {
		size_t n = a.s.n < b.s.n ? a.s.n : b.s.n;
		int r = memcmp(a.s.p, b.s.p, n);
		if (r == 0)
			r = (a.s.n > b.s.n) - (a.s.n < b.s.n);
		*cmp = (r > 0) - (r < 0);
		return 0;
	}
	if (tv_is_array(a) && tv_is_array(b)) {
		size_t na = tv_len(a), nb = tv_len(b);
		for (size_t i = 0; i < na && i < nb; i++) {
			int c;
			if (tv_compare(tv_item(a, i), tv_item(b, i), &c) < 0)
				return -1;
			if (c) {
				*cmp = c;
				return 0;
			}
		}
		*cmp = (na > nb) - (na < nb);
		return 0;
	}
	return -1;
}

/* ---- output -------------------------------------------------------------------------- */

static void inspect_str(const char *s, size_t n, struct buf *b)
{
	buf_addch(b, '"');
	size_t st = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[8];
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		case '#':
			if (i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '$' || s[i + 1] == '@'))
				esc = "\\#";
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(u, sizeof u, "\\x%02X", c);
				esc = u;
			}
		}
		if (esc) {
			buf_add(b, s + st, i - st);
			buf_adds(b, esc);
			st = i + 1;
		}
	}
	buf_add(b, s + st, n - st);
	buf_addch(b, '"');
}

static void json_inspect(json_t *j, struct buf *b, int depth)
{
	struct tval v = tv_from_json(j);
	tv_inspect(NULL, v, b, depth);
}

void tv_inspect(struct rs *rs, struct tval v, struct buf *b, int depth)
{
	if (depth > 64) {
		buf_adds(b, "...");
		return;
	}
	switch (v.t) {
	case TV_NIL: buf_adds(b, "nil"); return;
	case TV_STR: inspect_str(v.s.p, v.s.n, b); return;
	case TV_JSON:
		if (json_is_array(v.j)) {
			buf_addch(b, '[');
			for (size_t i = 0; i < json_array_size(v.j); i++) {
				if (i)
					buf_adds(b, ", ");
				json_inspect(json_array_get(v.j, i), b, depth + 1);
			}
			buf_addch(b, ']');
		} else {
			const char *k;
			size_t kl;
			json_t *x;
			int first = 1;
			buf_addch(b, '{');
			json_object_keylen_foreach(v.j, k, kl, x)
			{
				if (!first)
					buf_adds(b, ", ");
				first = 0;
				inspect_str(k, kl, b);
				buf_adds(b, "=>");
				json_inspect(x, b, depth + 1);
			}
			buf_addch(b, '}');
		}
		return;
	case TV_ARR:
	case TV_RANGE:
		if (v.t == TV_RANGE) {
			buf_addf(b, "%lld..%lld", (long long)v.r.lo, (long long)v.r.hi);
			return;
		}
		buf_addch(b, '[');
		for (size_t i = 0; i < v.a->n; i++) {
			if (i)
				buf_adds(b, ", ");
			tv_inspect(rs, v.a->v[i], b, depth + 1);
		}
		buf_addch(b, ']');
		return;
	case TV_OBJ:
		buf_addch(b, '{');
		for (size_t i = 0; i < v.o->n; i++) {
			if (i)
				buf_adds(b, ", ");
			inspect_str(v.o->e[i].k, v.o->e[i].kn, b);
			buf_adds(b, "=>");
			tv_inspect(rs, v.o->e[i].v, b, depth + 1);
		}
		buf_addch(b, '}');
		return;
	default: tv_render(rs, v, b);
	}
}

static void render_to_s(struct rs *rs, struct tval v, struct buf *b)
{
	switch (v.t) {
	case TV_NIL:
	case TV_EMPTY:
	case TV_BLANK:
	case TV_LOOP:
	case TV_SELF: return;
	case TV_BOOL: buf_adds(b, v.b ? "true" : "false"); return;
	case TV_INT: {
		char tmp[24];
		buf_add(b, tmp, fmt_int(v.i, tmp));
		return;
	}
	case TV_FLOAT: fmt_float(v.f, b); return;
	case TV_STR: buf_add(b, v.s.p, v.s.n); return;
	case TV_RANGE: buf_addf(b, "%lld..%lld", (long long)v.r.lo, (long long)v.r.hi); return;
	default: tv_inspect(rs, v, b, 0);
	}
}

void tv_render(struct rs *rs, struct tval v, struct buf *b)
{
	if (v.t == TV_ARR || (v.t == TV_JSON && json_is_array(v.j))) {
		size_t n = tv_len(v);
		for (size_t i = 0; i < n; i++)
			tv_render(rs, tv_item(v, i), b);
		return;
	}
	render_to_s(rs, v, b);
}

struct tval tv_to_s(struct rs *rs, struct tval v)
{
	if (v.t == TV_STR)
		return v;
	if (v.t == TV_NIL)
		return tv_str("", 0);
	if (v.t == TV_INT) {
		char *o = tp_alloc(rs, 24);
		return tv_str(o, fmt_int(v.i, o));
	}
	if (v.t == TV_BOOL)
		return v.b ? tv_str("true", 4) : tv_str("false", 5);
	struct buf b;
	buf_init(&b, rs->lim.max_output + 64);
	render_to_s(rs, v, &b);
	if (b.overflow)
		rs_fail(rs, CAIRN_ETOOBIG, 0, "A value is larger than the output limit (%zu bytes).",
			rs->lim.max_output);
	struct tval r = tv_str(tp_strndup(rs, b.ptr, b.len), b.len);
	buf_release(&b);
	return r;
}

void tv_to_json(struct rs *rs, struct tval v, struct buf *b, int depth)
{
	if (depth > 64) {
		buf_adds(b, "null");
		return;
	}
	switch (v.t) {
	case TV_NIL:
	case TV_EMPTY:
	case TV_BLANK:
	case TV_LOOP:
	case TV_SELF: buf_adds(b, "null"); return;
	case TV_BOOL:
	case TV_INT: render_to_s(rs, v, b); return;
	case TV_FLOAT:
		if (isnan(v.f) || isinf(v.f))
			buf_adds(b, "null");
		else
			fmt_float(v.f, b);
		return;
	case TV_STR:
		buf_addch(b, '"');
		buf_add_json_str(b, v.s.p, v.s.n);
		buf_addch(b, '"');
		return;
	case TV_JSON: {
		char *s = json_dumps(v.j, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s) {
			buf_adds(b, s);
			free(s);
		}
		return;
	}
	case TV_ARR:
	case TV_RANGE: {
		size_t n = tv_len(v);
		buf_addch(b, '[');
		for (size_t i = 0; i < n && !b->overflow; i++) {
			if (i)
				buf_addch(b, ',');
			tv_to_json(rs, tv_item(v, i), b, depth + 1);
		}
		buf_addch(b, ']');
		return;
	}
	case TV_OBJ:
		buf_addch(b, '{');
		for (size_t i = 0; i < v.o->n; i++) {
			if (i)
				buf_addch(b, ',');
			buf_addch(b, '"');
			buf_add_json_str(b, v.o->e[i].k, v.o->e[i].kn);
			buf_adds(b, "\":");
			tv_to_json(rs, v.o->e[i].v, b, depth + 1);
		}
		buf_addch(b, '}');
		return;
	}
}
