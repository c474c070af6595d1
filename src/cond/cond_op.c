/* cond_op.c — the operator table and what each operator means.
 *
 * The table below is the one description of the operators: the parser looks
 * names up in it and checks operands by its `operand` and `where` columns,
 * the evaluator dispatches on it, and docs/conditions.md lists the same rows.
 *
 * Coercion rules (docs/conditions.md, "Types"):
 *   - Two strings compare by their UTF-8 bytes (case-sensitive), so Korean
 *     and any other text order by code point.
 *   - A number against a number, or a number against a string holding a
 *     plain decimal number ("42", "-1.5e3"), compares as numbers. Two JSON
 *     integers compare exactly; otherwise as doubles.
 *   - Booleans equal only booleans. Objects never match.
 *   - Dates (before, after, within_last, between with date bounds) read an
 *     RFC 3339 string or a number of epoch milliseconds.
 *   - A missing value (absent or JSON null) makes every positive operator
 *     false; negative operators are computed as NOT their positive twin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond_int.h"
#include "core/buf.h"
#include "core/clock.h"

static const struct cond_op_def ops[COND_OP__COUNT] = {
	{"eq", COND_OP_EQ, COND_OPD_SCALAR, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "\"pro\""},
	{"ne", COND_OP_NE, COND_OPD_SCALAR, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_EQ, "\"pro\""},
	{"gt", COND_OP_GT, COND_OPD_ORDERED, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "10"},
	{"gte", COND_OP_GTE, COND_OPD_ORDERED, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "10"},
	{"lt", COND_OP_LT, COND_OPD_ORDERED, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "10"},
	{"lte", COND_OP_LTE, COND_OPD_ORDERED, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "10"},
	{"in", COND_OP_IN, COND_OPD_LIST, COND_IN_VALUE, COND_OP_NONE, "[\"a\", \"b\"]"},
	{"not_in", COND_OP_NOT_IN, COND_OPD_LIST, COND_IN_VALUE, COND_OP_IN, "[\"a\", \"b\"]"},
	{"contains", COND_OP_CONTAINS, COND_OPD_SCALAR, COND_IN_VALUE, COND_OP_NONE, "\"sale\""},
	{"starts_with", COND_OP_STARTS_WITH, COND_OPD_TEXT, COND_IN_VALUE, COND_OP_NONE, "\"010\""},
	{"ends_with", COND_OP_ENDS_WITH, COND_OPD_TEXT, COND_IN_VALUE, COND_OP_NONE, "\"@example.com\""},
	{"exists", COND_OP_EXISTS, COND_OPD_NONE, COND_IN_VALUE, COND_OP_NONE, ""},
	{"not_exists", COND_OP_NOT_EXISTS, COND_OPD_NONE, COND_IN_VALUE, COND_OP_EXISTS, ""},
	{"between", COND_OP_BETWEEN, COND_OPD_RANGE, COND_IN_VALUE | COND_IN_NUMBER, COND_OP_NONE, "[10, 20]"},
	{"before", COND_OP_BEFORE, COND_OPD_DATE, COND_IN_VALUE, COND_OP_NONE, "\"2026-03-01T00:00:00Z\""},
	{"after", COND_OP_AFTER, COND_OPD_DATE, COND_IN_VALUE, COND_OP_NONE, "\"2026-03-01T00:00:00Z\""},
	{"within_last", COND_OP_WITHIN_LAST, COND_OPD_DURATION, COND_IN_VALUE, COND_OP_NONE, "{\"days\": 30}"},
	{"not_within_last", COND_OP_NOT_WITHIN_LAST, COND_OPD_DURATION, COND_IN_VALUE, COND_OP_WITHIN_LAST,
	 "{\"days\": 30}"},
};

const struct cond_op_def *cond_op_find(const char *name)
{
	for (size_t i = 0; i < COND_OP__COUNT; i++) {
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	}
	return NULL;
}

const struct cond_op_def *cond_op_get(enum cond_op op)
{
	return &ops[op];
}

void cond_op_list(unsigned where, struct buf *out)
{
	int first = 1;
	for (size_t i = 0; i < COND_OP__COUNT; i++) {
		if (!(ops[i].where & where))
			continue;
		buf_addf(out, "%s%s", first ? "" : ", ", ops[i].name);
		first = 0;
	}
}

/* ---- reading values ----------------------------------------------------- */

/* A plain decimal number: [+-]digits[.digits][(e|E)[+-]digits], at least one
 * digit in the mantissa. No hex, inf, nan or surrounding spaces, which
 * strtod alone would accept. */
static int is_plain_number(const char *s)
{
	const char *p = s;
	int digits = 0;
	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

int cond_read_num(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v) && json_string_length(v) < 64 && is_plain_number(json_string_value(v))) {
		double d = strtod(json_string_value(v), NULL);
		if (!isfinite(d))
			return -1;
		*out = d;
		return 0;
	}
	return -1;
}

int cond_read_date(const json_t *v, int64_t *ms)
{
	if (json_is_integer(v)) {
		*ms = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!(d > -9.2e18 && d < 9.2e18))
			return -1;
		*ms = (int64_t)d;
		return 0;
	}
	if (json_is_string(v) && json_string_length(v) < 64)
		return clock_parse_rfc3339(json_string_value(v), ms);
	return -1;
}

const json_t *cond_lookup(const json_t *obj, const char *path)
{
	if (!json_is_object(obj))
		return NULL;
	const json_t *v = json_object_get(obj, path);
	if (v || !strchr(path, '.'))
		return v;
	const char *p = path;
	const json_t *cur = obj;
	while (cur) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!json_is_object(cur))
			return NULL;
		cur = json_object_getn(cur, p, n);
		if (!dot)
			return cur;
		p = dot + 1;
	}
	return NULL;
}

/* ---- comparing ---------------------------------------------------------- */

#define ORDER_NONE 2 /* the two values cannot be ordered */

static int sign_of(double d)
{
	return d < 0 ? -1 : d > 0 ? 1 : 0;
}

/* Orders actual a against operand v under the coercion rules above:
 * -1, 0, 1, or ORDER_NONE. Booleans only compare equal/unequal (0 or NONE
 * with ordered=1, 0 or 1 otherwise). */
static int order(const json_t *a, const struct cond_val *v, int ordered)
{
	const json_t *b = v->json;
	if (json_is_string(a) && json_is_string(b)) {
		size_t la = json_string_length(a), lb = json_string_length(b);
		int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
		if (c)
			return c < 0 ? -1 : 1;
		return la < lb ? -1 : la > lb ? 1 : 0;
	}
	if (json_is_boolean(a) || json_is_boolean(b)) {
		if (ordered || !json_is_boolean(a) || !json_is_boolean(b))
			return ORDER_NONE;
		return json_is_true(a) == json_is_true(b) ? 0 : 1;
	}
	if (!v->is_num)
		return ORDER_NONE;
	if (json_is_integer(a) && v->is_int) {
		json_int_t x = json_integer_value(a);
		return x < v->ival ? -1 : x > v->ival ? 1 : 0;
	}
	double x;
	if (cond_read_num(a, &x) < 0)
		return ORDER_NONE;
	return sign_of(x - v->num);
}

static int test_eq(const json_t *a, const struct cond_val *v)
{
	return order(a, v, 0) == 0;
}

static int test_in(const json_t *a, const struct cond_cmp *cmp)
{
	for (size_t i = 0; i < cmp->nlist; i++) {
		if (test_eq(a, &cmp->list[i]))
			return 1;
	}
	return 0;
}

static int test_contains(const json_t *a, const struct cond_val *v)
{
	if (json_is_array(a)) {
		size_t i;
		const json_t *el;
		json_array_foreach (a, i, el) {
			if (test_eq(el, v))
				return 1;
		}
		return 0;
	}
	if (!json_is_string(a) || !json_is_string(v->json))
		return 0;
	return memmem(json_string_value(a), json_string_length(a), json_string_value(v->json),
		      json_string_length(v->json)) != NULL;
}

static int test_affix(const json_t *a, const struct cond_val *v, int at_end)
{
	if (!json_is_string(a))
		return 0;
	size_t la = json_string_length(a), lb = json_string_length(v->json);
	if (lb > la)
		return 0;
	const char *s = json_string_value(a) + (at_end ? la - lb : 0);
	return memcmp(s, json_string_value(v->json), lb) == 0;
}

static int test_between(const json_t *a, const struct cond_cmp *cmp)
{
	if (cmp->v[0].is_date && cmp->v[1].is_date && json_is_string(cmp->v[0].json)) {
		int64_t t;
		if (cond_read_date(a, &t) < 0)
			return 0;
		return t >= cmp->v[0].date_ms && t <= cmp->v[1].date_ms;
	}
	int lo = order(a, &cmp->v[0], 1), hi = order(a, &cmp->v[1], 1);
	return lo != ORDER_NONE && hi != ORDER_NONE && lo >= 0 && hi <= 0;
}

static int test_order(const json_t *a, const struct cond_val *v, enum cond_op op)
{
	int o = order(a, v, 1);
	if (o == ORDER_NONE)
		return 0;
	switch (op) {
	case COND_OP_GT: return o > 0;
	case COND_OP_GTE: return o >= 0;
	case COND_OP_LT: return o < 0;
	default: return o <= 0;
	}
}

static int test_in_any(const json_t *a, const struct cond_cmp *cmp)
{
	if (!json_is_array(a))
		return test_in(a, cmp);
	size_t i;
	const json_t *el;
	json_array_foreach (a, i, el) {
		if (test_in(el, cmp))
			return 1;
	}
	return 0;
}

/* The positive operators; the negative ones are answered by negation. */
static int test_positive(const struct cond_cmp *cmp, enum cond_op op, const json_t *a, int64_t now_ms)
{
	int64_t t;
	switch (op) {
	case COND_OP_EQ: return test_eq(a, &cmp->v[0]);
	case COND_OP_GT:
	case COND_OP_GTE:
	case COND_OP_LT:
	case COND_OP_LTE: return test_order(a, &cmp->v[0], op);
	case COND_OP_IN: return test_in_any(a, cmp);
	case COND_OP_CONTAINS: return test_contains(a, &cmp->v[0]);
	case COND_OP_STARTS_WITH: return test_affix(a, &cmp->v[0], 0);
	case COND_OP_ENDS_WITH: return test_affix(a, &cmp->v[0], 1);
	case COND_OP_EXISTS: return 1;
	case COND_OP_BETWEEN: return test_between(a, cmp);
	case COND_OP_BEFORE: return cond_read_date(a, &t) == 0 && t < cmp->v[0].date_ms;
	case COND_OP_AFTER: return cond_read_date(a, &t) == 0 && t > cmp->v[0].date_ms;
	case COND_OP_WITHIN_LAST:
		return cond_read_date(a, &t) == 0 && t <= now_ms && t >= cond_sat_sub(now_ms, cmp->dur.ms);
	default: return 0; /* negative operators never reach here */
	}
}

int cond_cmp_test(const struct cond_cmp *cmp, const json_t *actual, int64_t now_ms)
{
	const struct cond_op_def *d = cmp->def;
	int neg = d->negation_of != COND_OP_NONE;
	enum cond_op op = neg ? d->negation_of : d->op;
	int r = actual && !json_is_null(actual) ? test_positive(cmp, op, actual, now_ms) : 0;
	return neg ? !r : r;
}

int cond_cmp_test_num(const struct cond_cmp *cmp, double x)
{
	const struct cond_val *v = cmp->v;
	switch (cmp->def->op) {
	case COND_OP_EQ: return x == v[0].num;
	case COND_OP_NE: return x != v[0].num;
	case COND_OP_GT: return x > v[0].num;
	case COND_OP_GTE: return x >= v[0].num;
	case COND_OP_LT: return x < v[0].num;
	case COND_OP_LTE: return x <= v[0].num;
	case COND_OP_BETWEEN: return x >= v[0].num && x <= v[1].num;
	default: return 0; /* the parser admits no other operator here */
	}
}

const json_t *cond_lookup_path(const json_t *obj, const char *path)
{
	return obj && path ? cond_lookup(obj, path) : NULL;
}
