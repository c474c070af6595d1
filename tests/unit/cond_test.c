/* cond_test.c — the condition language: every operator and kind, nesting,
 * time windows on a fake clock, type mismatches, missing values, every
 * validation error with its JSON path, Korean text, round trips and the
 * introspection the segment engine uses. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/buf.h"
#include "core/err.h"

/* 2026-03-02T01:00:00Z */
#define NOW    1772413200000LL
#define MIN_MS 60000LL
#define DAY    86400000LL

/* ---- a fake context: events, tags, segments, consent, scores ------------- */

struct fake_event {
	const char *name;
	int64_t ts;
	json_t *props;
};

struct fake {
	struct fake_event ev[32];
	size_t nev;
	const char *tags[8];
	const char *segments[8];
	json_t *consent;  /* {"email":"subscribed", …} */
	json_t *scores;	  /* {"lead":{"value":75,"percentile":85}} */
	json_t *computed; /* {"name": value} */
	int count_calls, sum_calls;
	int fail; /* every callback fails */
};

static void add_event(struct fake *f, const char *name, int64_t ts, const char *props)
{
	cr_assert(f->nev < 32);
	f->ev[f->nev].name = name;
	f->ev[f->nev].ts = ts;
	f->ev[f->nev].props = json_loads(props ? props : "{}", 0, NULL);
	cr_assert(f->ev[f->nev].props, "bad props %s", props);
	f->nev++;
}

static int matches(const struct fake_event *e, const struct cond_event_query *q)
{
	if (strcmp(e->name, q->name) || e->ts < q->since_ms || e->ts > q->until_ms)
		return 0;
	return !q->where || cond_eval_where(q->where, e->props);
}

static int fake_count(void *arg, const struct cond_event_query *q, int64_t *out)
{
	struct fake *f = arg;
	f->count_calls++;
	if (f->fail)
		return -1;
	cr_assert_not_null(q->where_key);
	*out = 0;
	for (size_t i = 0; i < f->nev; i++)
		*out += matches(&f->ev[i], q);
	return 0;
}

static int fake_sum(void *arg, const struct cond_event_query *q, double *out)
{
	struct fake *f = arg;
	f->sum_calls++;
	if (f->fail)
		return -1;
	*out = 0;
	for (size_t i = 0; i < f->nev; i++) {
		json_t *v = json_object_get(f->ev[i].props, q->property);
		if (matches(&f->ev[i], q) && json_is_number(v))
			*out += json_number_value(v);
	}
	return 0;
}

static int fake_oldest(void *arg, const struct cond_event_query *q, int64_t *out)
{
	struct fake *f = arg;
	int found = 0;
	for (size_t i = 0; i < f->nev; i++) {
		if (matches(&f->ev[i], q) && (!found || f->ev[i].ts < *out)) {
			*out = f->ev[i].ts;
			found = 1;
		}
	}
	return found ? 0 : 1;
}

static int in_list(const char *const *l, const char *s)
{
	for (size_t i = 0; i < 8 && l[i]; i++) {
		if (!strcmp(l[i], s))
			return 1;
	}
	return 0;
}

static int fake_tag(void *arg, const char *tag)
{
	struct fake *f = arg;
	return f->fail ? -1 : in_list(f->tags, tag);
}

static int fake_segment(void *arg, const char *id)
{
	struct fake *f = arg;
	return f->fail ? -1 : in_list(f->segments, id);
}

static const char *fake_consent(void *arg, const char *channel)
{
	struct fake *f = arg;
	return json_string_value(json_object_get(f->consent, channel));
}

static int fake_score(void *arg, const char *name, double *value, double *pct)
{
	struct fake *f = arg;
	if (f->fail)
		return -1;
	json_t *s = json_object_get(f->scores, name);
	if (!s)
		return 1;
	*value = json_number_value(json_object_get(s, "value"));
	*pct = json_number_value(json_object_get(s, "percentile"));
	return 0;
}

static int fake_computed(void *arg, const char *name, json_t **value)
{
	struct fake *f = arg;
	if (f->fail)
		return -1;
	*value = json_object_get(f->computed, name);
	return 0;
}

static struct fake F;
static json_t *traits;
static json_t *event;

static void setup(void)
{
	memset(&F, 0, sizeof F);
	F.consent = json_pack("{s:s,s:s,s:s}", "email", "subscribed", "sms", "unsubscribed", "topics.newsletter",
			      "unsubscribed");
	F.scores = json_loads("{\"lead\":{\"value\":75,\"percentile\":85}}", 0, NULL);
	F.computed = json_loads("{\"consecutive_unopened_emails\":3,\"order_count\":2}", 0, NULL);
	traits = json_object();
	event = NULL;
}

static void teardown(void)
{
	for (size_t i = 0; i < F.nev; i++)
		json_decref(F.ev[i].props);
	json_decref(F.consent);
	json_decref(F.scores);
	json_decref(F.computed);
	json_decref(traits);
	json_decref(event);
}

static struct cond_ctx make_ctx(int64_t now)
{
	struct cond_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.now_ms = now;
	ctx.traits = traits;
	ctx.event = event;
	ctx.arg = &F;
	ctx.event_count = fake_count;
	ctx.event_sum = fake_sum;
	ctx.event_oldest = fake_oldest;
	ctx.has_tag = fake_tag;
	ctx.in_segment = fake_segment;
	ctx.consent = fake_consent;
	ctx.score = fake_score;
	ctx.computed = fake_computed;
	return ctx;
}

static struct cond *parse(const char *src)
{
	json_error_t je;
	json_t *j = json_loads(src, 0, &je);
	cr_assert_not_null(j, "bad test JSON: %s (%s)", src, je.text);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = cond_parse(j, &err);
	cr_assert_not_null(c, "parse %s: %s: %s", src, err.field, err.message);
	json_decref(j);
	return c;
}

/* Evaluates src at time now; asserts no error. */
static int eval_at(const char *src, int64_t now)
{
	struct cond *c = parse(src);
	struct cond_ctx ctx = make_ctx(now);
	struct cairn_err err = CAIRN_ERR_INIT;
	int r = cond_eval(c, &ctx, &err);
	cr_assert_geq(r, 0, "eval %s: %s", src, err.message);
	cond_free(c);
	return r;
}

static int eval(const char *src)
{
	return eval_at(src, NOW);
}

static void set_traits(const char *src)
{
	json_decref(traits);
	traits = json_loads(src, 0, NULL);
	cr_assert_not_null(traits, "bad traits %s", src);
}

/* ---- operators ---------------------------------------------------------- */

struct op_case {
	const char *op;
	const char *value;  /* JSON operand, NULL for none */
	const char *actual; /* JSON of trait x, NULL = missing */
	int want;
};

static const struct op_case op_cases[] = {
	/* eq: strings by bytes, numbers by value, numeric strings vs numbers */
	{"eq", "\"pro\"", "\"pro\"", 1},
	{"eq", "\"pro\"", "\"Pro\"", 0},
	{"eq", "3", "3", 1},
	{"eq", "3", "3.0", 1},
	{"eq", "3", "\"3\"", 1},
	{"eq", "\"3\"", "3", 1},
	{"eq", "\"3\"", "\"3.0\"", 0},
	{"eq", "\"3\"", "\"0x3\"", 0},
	{"eq", "3", "\" 3\"", 0},
	{"eq", "true", "true", 1},
	{"eq", "true", "false", 0},
	{"eq", "true", "\"true\"", 0},
	{"eq", "1", "true", 0},
	{"eq", "\"pro\"", NULL, 0},
	{"eq", "\"pro\"", "null", 0},
	{"eq", "\"pro\"", "[\"pro\"]", 0},
	{"eq", "\"pro\"", "{\"a\":\"pro\"}", 0},
	{"eq", "9007199254740993", "9007199254740993", 1},
	{"eq", "9007199254740993", "9007199254740992", 0},
	/* ne is exactly not eq */
	{"ne", "\"pro\"", "\"pro\"", 0},
	{"ne", "\"pro\"", "\"basic\"", 1},
	{"ne", "\"pro\"", NULL, 1},
	{"ne", "\"pro\"", "null", 1},
	{"ne", "3", "\"abc\"", 1},
	{"ne", "3", "\"3\"", 0},
	/* ordering */
	{"gt", "5", "10", 1},
	{"gt", "5", "5", 0},
	{"gt", "5", "4.5", 0},
	{"gt", "9", "\"10\"", 1},
	{"gt", "\"9\"", "10", 1},
	{"gt", "\"9\"", "\"10\"", 0},
	{"gt", "\"a\"", "\"b\"", 1},
	{"gt", "\"b\"", "\"ab\"", 0},
	{"gt", "1", "true", 0},
	{"gt", "5", "\"abc\"", 0},
	{"gt", "\"a\"", "5", 0},
	{"gt", "5", NULL, 0},
	{"gt", "9007199254740992", "9007199254740993", 1},
	{"gte", "5", "5", 1},
	{"gte", "5", "4.99", 0},
	{"gte", "\"b\"", "\"b\"", 1},
	{"gte", "5", NULL, 0},
	{"lt", "5", "4", 1},
	{"lt", "5", "5", 0},
	{"lt", "0", "-0.5", 1},
	{"lt", "\"b\"", "\"a\"", 1},
	{"lt", "5", "[1]", 0},
	{"lt", "5", NULL, 0},
	{"lte", "5", "5", 1},
	{"lte", "5", "\"5\"", 1},
	{"lte", "5", "6", 0},
	{"lte", "5", NULL, 0},
	/* in / not_in, scalars and arrays */
	{"in", "[\"a\",\"b\"]", "\"a\"", 1},
	{"in", "[\"a\",\"b\"]", "\"c\"", 0},
	{"in", "[1,2]", "2", 1},
	{"in", "[1,2]", "\"2\"", 1},
	{"in", "[true]", "true", 1},
	{"in", "[\"a\",\"b\"]", "[\"x\",\"b\"]", 1},
	{"in", "[\"a\",\"b\"]", "[\"x\",\"y\"]", 0},
	{"in", "[\"a\"]", NULL, 0},
	{"not_in", "[\"a\",\"b\"]", "\"c\"", 1},
	{"not_in", "[\"a\",\"b\"]", "\"a\"", 0},
	{"not_in", "[\"a\",\"b\"]", NULL, 1},
	{"not_in", "[\"a\",\"b\"]", "[\"x\",\"b\"]", 0},
	/* contains: substring of a string, element of an array */
	{"contains", "\"sale\"", "\"summer sale 2026\"", 1},
	{"contains", "\"Sale\"", "\"summer sale\"", 0},
	{"contains", "\"\"", "\"\"", 1},
	{"contains", "\"vip\"", "[\"new\",\"vip\"]", 1},
	{"contains", "2", "[1,2]", 1},
	{"contains", "\"2\"", "[1,2]", 1},
	{"contains", "\"z\"", "[\"a\"]", 0},
	{"contains", "1", "\"a1\"", 0},
	{"contains", "\"2\"", "123", 0},
	{"contains", "\"a\"", NULL, 0},
	/* starts_with / ends_with */
	{"starts_with", "\"010\"", "\"01012345678\"", 1},
	{"starts_with", "\"011\"", "\"01012345678\"", 0},
	{"starts_with", "\"abc\"", "\"ab\"", 0},
	{"starts_with", "\"1\"", "12", 0},
	{"starts_with", "\"\"", "\"x\"", 1},
	{"ends_with", "\"@example.com\"", "\"kim@example.com\"", 1},
	{"ends_with", "\"@example.com\"", "\"kim@example.org\"", 0},
	{"ends_with", "\"x\"", NULL, 0},
	/* exists / not_exists: null counts as missing, empty and zero do not */
	{"exists", NULL, "\"\"", 1},
	{"exists", NULL, "0", 1},
	{"exists", NULL, "false", 1},
	{"exists", NULL, "[]", 1},
	{"exists", NULL, "null", 0},
	{"exists", NULL, NULL, 0},
	{"not_exists", NULL, NULL, 1},
	{"not_exists", NULL, "null", 1},
	{"not_exists", NULL, "\"x\"", 0},
	/* between: inclusive, numbers, texts, dates */
	{"between", "[1,10]", "5", 1},
	{"between", "[1,10]", "1", 1},
	{"between", "[1,10]", "10", 1},
	{"between", "[1,10]", "10.5", 0},
	{"between", "[1,10]", "0", 0},
	{"between", "[1,10]", "\"5\"", 1},
	{"between", "[1,10]", "\"five\"", 0},
	{"between", "[\"a\",\"c\"]", "\"b\"", 1},
	{"between", "[\"a\",\"c\"]", "\"d\"", 0},
	{"between", "[\"2026-02-01\",\"2026-03-01\"]", "\"2026-02-15T09:00:00+09:00\"", 1},
	{"between", "[\"2026-02-01\",\"2026-03-01\"]", "\"2026-03-15\"", 0},
	{"between", "[\"2026-02-01\",\"2026-03-01\"]", "1771113600000", 1}, /* 2026-02-15 */
	{"between", "[\"2026-02-01\",\"2026-03-01\"]", "\"soon\"", 0},
	{"between", "[1,10]", NULL, 0},
	/* before / after: RFC 3339 (any offset) or epoch ms */
	{"before", "\"2026-03-01T00:00:00Z\"", "\"2026-02-01T00:00:00Z\"", 1},
	{"before", "\"2026-03-01T00:00:00Z\"", "\"2026-03-01T00:00:00Z\"", 0},
	{"before", "\"2026-03-01T00:00:00Z\"", "\"2026-03-01T08:00:00+09:00\"", 1},
	{"before", "\"2026-03-01T00:00:00Z\"", "\"2026-03-01T10:00:00+09:00\"", 0},
	{"before", "\"2026-03-01\"", "1772236800000", 1}, /* 2026-02-28 */
	{"before", "1772323200000", "\"2026-02-28\"", 1}, /* value as epoch ms */
	{"before", "\"2026-03-01\"", "\"yesterday\"", 0},
	{"before", "\"2026-03-01\"", "true", 0},
	{"before", "\"2026-03-01\"", NULL, 0},
	{"after", "\"2026-03-01T00:00:00Z\"", "\"2026-03-02T00:00:00Z\"", 1},
	{"after", "\"2026-03-01T00:00:00Z\"", "\"2026-02-02T00:00:00Z\"", 0},
	{"after", "\"2026-03-01\"", NULL, 0},
};

static void check_op(const struct op_case *oc)
{
	char src[512];
	if (oc->value)
		snprintf(src, sizeof src, "{\"trait\":\"x\",\"op\":\"%s\",\"value\":%s}", oc->op, oc->value);
	else
		snprintf(src, sizeof src, "{\"trait\":\"x\",\"op\":\"%s\"}", oc->op);
	char tr[512];
	if (oc->actual)
		snprintf(tr, sizeof tr, "{\"x\":%s}", oc->actual);
	else
		snprintf(tr, sizeof tr, "{\"y\":1}");
	set_traits(tr);
	int got = eval(src);
	cr_expect_eq(got, oc->want, "%s with x=%s: got %d, want %d", src, oc->actual ? oc->actual : "(missing)", got,
		     oc->want);
}

Test(cond_ops, every_operator_table, .init = setup, .fini = teardown)
{
	int seen[32] = {0};
	const char *names[] = {"eq",	     "ne",	"gt",	    "gte",	   "lt",	"lte",
			       "in",	     "not_in",	"contains", "starts_with", "ends_with", "exists",
			       "not_exists", "between", "before",   "after"};
	for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++) {
		check_op(&op_cases[i]);
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
			seen[k] |= !strcmp(names[k], op_cases[i].op);
	}
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
		cr_expect(seen[k], "no case for %s", names[k]);
}

Test(cond_ops, negations_are_exact_complements, .init = setup, .fini = teardown)
{
	/* For every actual value, ne/not_in/not_exists/not_within_last are NOT
	 * of eq/in/exists/within_last (cond.h invariant 3). */
	const char *actuals[] = {NULL,
				 "null",
				 "\"pro\"",
				 "3",
				 "\"3\"",
				 "true",
				 "[\"pro\"]",
				 "{}",
				 "1772413200000",
				 "\"2026-02-20T00:00:00Z\"",
				 "\"서울\""};
	const char *pairs[][3] = {
		{"eq", "ne", "\"pro\""},
		{"in", "not_in", "[\"pro\",3]"},
		{"exists", "not_exists", NULL},
		{"within_last", "not_within_last", "{\"days\":30}"},
	};
	for (size_t a = 0; a < sizeof actuals / sizeof actuals[0]; a++) {
		char tr[128];
		snprintf(tr, sizeof tr, actuals[a] ? "{\"x\":%s}" : "{}", actuals[a]);
		set_traits(tr);
		for (size_t p = 0; p < 4; p++) {
			char s1[256], s2[256];
			const char *v = pairs[p][2];
			snprintf(s1, sizeof s1, "{\"trait\":\"x\",\"op\":\"%s\"%s%s}", pairs[p][0],
				 v ? ",\"value\":" : "", v ? v : "");
			snprintf(s2, sizeof s2, "{\"trait\":\"x\",\"op\":\"%s\"%s%s}", pairs[p][1],
				 v ? ",\"value\":" : "", v ? v : "");
			cr_expect_eq(eval(s1), !eval(s2), "%s vs %s on %s", s1, s2, tr);
		}
	}
}

Test(cond_ops, within_last_on_a_fake_clock, .init = setup, .fini = teardown)
{
	const char *c = "{\"trait\":\"last_order_at\",\"op\":\"within_last\",\"value\":{\"days\":30}}";
	const char *n = "{\"trait\":\"last_order_at\",\"op\":\"not_within_last\",\"value\":{\"days\":30}}";
	json_object_set_new(traits, "last_order_at", json_string("2026-02-01T01:00:00Z")); /* NOW - 29 days */
	cr_assert_eq(eval(c), 1);
	cr_assert_eq(eval(n), 0);
	cr_assert_eq(eval_at(c, NOW + DAY), 1, "exactly 30 days ago is still within");
	cr_assert_eq(eval_at(c, NOW + DAY + 1), 0, "one ms later it has slid out");
	cr_assert_eq(eval_at(n, NOW + DAY + 1), 1);
	cr_assert_eq(eval_at(c, NOW - 30 * DAY), 0, "a date in the future is not within the last 30 days");
	/* epoch milliseconds work too, and combinations of units */
	json_object_set_new(traits, "last_order_at", json_integer(NOW - 90 * MIN_MS));
	cr_assert_eq(
		eval("{\"trait\":\"last_order_at\",\"op\":\"within_last\",\"value\":{\"hours\":1,\"minutes\":30}}"), 1);
	cr_assert_eq(
		eval("{\"trait\":\"last_order_at\",\"op\":\"within_last\",\"value\":{\"hours\":1,\"minutes\":29}}"), 0);
	cr_assert_eq(eval("{\"trait\":\"last_order_at\",\"op\":\"within_last\",\"value\":{\"weeks\":1}}"), 1);
	/* not a date: within_last false, not_within_last true */
	json_object_set_new(traits, "last_order_at", json_string("last tuesday"));
	cr_assert_eq(eval(c), 0);
	cr_assert_eq(eval(n), 1);
	json_object_del(traits, "last_order_at");
	cr_assert_eq(eval(c), 0);
	cr_assert_eq(eval(n), 1, "never ordered: not within the last 30 days");
}

/* ---- kinds -------------------------------------------------------------- */

Test(cond_kinds, trait_with_nested_path, .init = setup, .fini = teardown)
{
	set_traits("{\"plan\":\"pro\",\"address\":{\"city\":\"Seoul\"},\"a.b\":1}");
	cr_assert_eq(eval("{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"address.city\",\"op\":\"eq\",\"value\":\"Seoul\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"address.zip\",\"op\":\"exists\"}"), 0);
	cr_assert_eq(eval("{\"trait\":\"plan.x\",\"op\":\"exists\"}"), 0);
	cr_assert_eq(eval("{\"trait\":\"a.b\",\"op\":\"eq\",\"value\":1}"), 1, "a key with a dot is read whole first");
	/* no traits at all */
	json_decref(traits);
	traits = NULL;
	cr_assert_eq(eval("{\"trait\":\"plan\",\"op\":\"exists\"}"), 0);
	cr_assert_eq(eval("{\"trait\":\"plan\",\"op\":\"ne\",\"value\":\"pro\"}"), 1);
}

Test(cond_kinds, property_of_the_current_event, .init = setup, .fini = teardown)
{
	const char *c = "{\"property\":\"revenue\",\"op\":\"gte\",\"value\":50000}";
	cr_assert_eq(eval(c), 0, "no current event");
	cr_assert_eq(eval("{\"property\":\"revenue\",\"op\":\"not_exists\"}"), 1);
	event = json_loads("{\"event\":\"Order Completed\",\"properties\":{\"revenue\":50000,\"currency\":\"KRW\","
			   "\"product\":{\"category\":\"신발\"}}}",
			   0, NULL);
	cr_assert_eq(eval(c), 1);
	cr_assert_eq(eval("{\"property\":\"revenue\",\"op\":\"gt\",\"value\":50000}"), 0);
	cr_assert_eq(eval("{\"property\":\"product.category\",\"op\":\"eq\",\"value\":\"신발\"}"), 1);
	cr_assert_eq(eval("{\"property\":\"event\",\"op\":\"exists\"}"), 0, "only properties are read");
}

Test(cond_kinds, event_count_sum_where_within, .init = setup, .fini = teardown)
{
	add_event(&F, "Product Viewed", NOW - 1 * DAY, "{\"category\":\"shoes\"}");
	add_event(&F, "Product Viewed", NOW - 2 * DAY, "{\"category\":\"shoes\"}");
	add_event(&F, "Product Viewed", NOW - 3 * DAY, "{\"category\":\"bags\"}");
	add_event(&F, "Product Viewed", NOW - 8 * DAY, "{\"category\":\"shoes\"}");
	add_event(&F, "Order Completed", NOW - 40 * DAY, "{\"revenue\":50000}");
	add_event(&F, "Order Completed", NOW - 10 * DAY, "{\"revenue\":70000}");
	/* did at least once (no count, no sum) */
	cr_assert_eq(eval("{\"event\":\"Product Viewed\"}"), 1);
	cr_assert_eq(eval("{\"event\":\"Signed Up\"}"), 0);
	/* count with window */
	cr_assert_eq(
		eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gte\",\"value\":3},\"within\":{\"days\":7}}"),
		1);
	cr_assert_eq(
		eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gte\",\"value\":4},\"within\":{\"days\":7}}"),
		0);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"eq\",\"value\":4}}"), 1);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"between\",\"value\":[2,3]},"
			  "\"within\":{\"weeks\":1}}"),
		     1);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"ne\",\"value\":4}}"), 0);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"lt\",\"value\":5}}"), 1);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"lte\",\"value\":3}}"), 0);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gt\",\"value\":3}}"), 1);
	/* where */
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"where\":{\"property\":\"category\",\"op\":\"eq\",\"value\":"
			  "\"shoes\"},\"count\":{\"op\":\"eq\",\"value\":2},\"within\":{\"days\":7}}"),
		     1);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"where\":{\"not\":{\"property\":\"category\",\"op\":\"eq\","
			  "\"value\":\"shoes\"}},\"count\":{\"op\":\"eq\",\"value\":1}}"),
		     1);
	cr_assert_eq(eval("{\"event\":\"Product Viewed\",\"where\":{\"any\":[{\"property\":\"category\",\"op\":\"eq\","
			  "\"value\":\"hats\"},{\"property\":\"price\",\"op\":\"exists\"}]}}"),
		     0);
	/* sum */
	cr_assert_eq(eval("{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":"
			  "120000}}"),
		     1);
	cr_assert_eq(eval("{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":"
			  "120000},\"within\":{\"days\":30}}"),
		     0);
	cr_assert_eq(eval("{\"event\":\"Signed Up\",\"sum\":{\"property\":\"revenue\",\"op\":\"eq\",\"value\":0}}"), 1,
		     "a sum over no events is 0");
	/* count and sum together must both hold */
	cr_assert_eq(eval("{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":2},\"sum\":{\"property\":"
			  "\"revenue\",\"op\":\"eq\",\"value\":120000}}"),
		     1);
	cr_assert_eq(eval("{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":1},\"sum\":{\"property\":"
			  "\"revenue\",\"op\":\"eq\",\"value\":120000}}"),
		     0);
}

Test(cond_kinds, at_risk_flips_on_day_31_with_no_new_event, .init = setup, .fini = teardown)
{
	const char *at_risk =
		"{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0},\"within\":{\"days\":30}}";
	int64_t t0 = NOW;
	add_event(&F, "Order Completed", t0, "{\"revenue\":39000}");
	cr_assert_eq(eval_at(at_risk, t0), 0);
	cr_assert_eq(eval_at(at_risk, t0 + 30 * DAY), 0, "day 30: the order is still in the window");
	cr_assert_eq(eval_at(at_risk, t0 + 30 * DAY + 1), 1, "one ms later: at risk");
	cr_assert_eq(eval_at(at_risk, t0 + 31 * DAY), 1, "day 31");
	/* the engine is told when to look again */
	struct cond *c = parse(at_risk);
	struct cond_ctx ctx = make_ctx(t0 + 5 * DAY);
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t next = 0;
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, t0 + 30 * DAY + 1);
	ctx.now_ms = t0 + 31 * DAY;
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, INT64_MAX, "nothing left in the window: only a new order changes it");
	/* without event_oldest the engine is told to look again at once */
	ctx.now_ms = t0 + 5 * DAY;
	ctx.event_oldest = NULL;
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, t0 + 5 * DAY + 1);
	cond_free(c);
}

Test(cond_kinds, segment_tag_consent, .init = setup, .fini = teardown)
{
	F.tags[0] = "interest:marketing";
	F.segments[0] = "vip";
	cr_assert_eq(eval("{\"tag\":\"interest:marketing\"}"), 1);
	cr_assert_eq(eval("{\"tag\":\"disengaged\"}"), 0);
	cr_assert_eq(eval("{\"segment\":\"vip\"}"), 1);
	cr_assert_eq(eval("{\"segment\":\"at-risk\"}"), 0);
	cr_assert_eq(eval("{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\"}}"), 1);
	cr_assert_eq(eval("{\"consent\":{\"channel\":\"sms\",\"is\":\"subscribed\"}}"), 0);
	cr_assert_eq(eval("{\"consent\":{\"channel\":\"sms\",\"is\":\"unsubscribed\"}}"), 1);
	cr_assert_eq(eval("{\"consent\":{\"channel\":\"kakao\",\"is\":\"unknown\"}}"), 1, "no record reads as unknown");
	cr_assert_eq(eval("{\"consent\":{\"channel\":\"topics.newsletter\",\"is\":\"unsubscribed\"}}"), 1);
}

Test(cond_kinds, score_value_and_percentile, .init = setup, .fini = teardown)
{
	cr_assert_eq(eval("{\"score\":\"lead\",\"op\":\"gte\",\"value\":70}"), 1);
	cr_assert_eq(eval("{\"score\":\"lead\",\"op\":\"gt\",\"value\":75}"), 0);
	cr_assert_eq(eval("{\"score\":\"lead\",\"op\":\"between\",\"value\":[70,80]}"), 1);
	cr_assert_eq(eval("{\"score\":\"lead\",\"percentile\":{\"op\":\"gte\",\"value\":80}}"), 1);
	cr_assert_eq(eval("{\"score\":\"lead\",\"percentile\":{\"op\":\"gte\",\"value\":90}}"), 0);
	/* an unknown score is a missing value */
	cr_assert_eq(eval("{\"score\":\"churn\",\"op\":\"gte\",\"value\":0}"), 0);
	cr_assert_eq(eval("{\"score\":\"churn\",\"op\":\"lt\",\"value\":100}"), 0);
	cr_assert_eq(eval("{\"score\":\"churn\",\"op\":\"ne\",\"value\":5}"), 1);
	cr_assert_eq(eval("{\"score\":\"churn\",\"percentile\":{\"op\":\"lte\",\"value\":100}}"), 0);
}

Test(cond_kinds, computed_traits, .init = setup, .fini = teardown)
{
	/* seed 001: three consecutive unopened emails */
	const char *c = "{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gte\",\"value\":3}";
	cr_assert_eq(eval(c), 1);
	json_object_set_new(F.computed, "consecutive_unopened_emails", json_integer(2));
	cr_assert_eq(eval(c), 0);
	cr_assert_eq(eval("{\"computed\":\"never_heard_of\",\"op\":\"gte\",\"value\":0}"), 0);
	cr_assert_eq(eval("{\"computed\":\"never_heard_of\",\"op\":\"not_exists\"}"), 1);
	json_object_set_new(F.computed, "last_order_at", json_integer(NOW - 31 * DAY));
	cr_assert_eq(eval("{\"computed\":\"last_order_at\",\"op\":\"not_within_last\",\"value\":{\"days\":30}}"), 1);
}

/* ---- nesting, order, errors --------------------------------------------- */

Test(cond_eval, nested_all_any_not, .init = setup, .fini = teardown)
{
	set_traits("{\"plan\":\"pro\",\"age\":31}");
	F.tags[0] = "vip";
	cr_assert_eq(eval("{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"tag\":\"vip\"}]}"), 1);
	cr_assert_eq(eval("{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"tag\":\"x\"}]}"), 0);
	cr_assert_eq(eval("{\"any\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"basic\"},{\"tag\":\"vip\"}]}"), 1);
	cr_assert_eq(eval("{\"any\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"basic\"},{\"tag\":\"x\"}]}"), 0);
	cr_assert_eq(eval("{\"not\":{\"tag\":\"vip\"}}"), 0);
	cr_assert_eq(eval("{\"not\":{\"not\":{\"tag\":\"vip\"}}}"), 1);
	cr_assert_eq(
		eval("{\"all\":[{\"any\":[{\"tag\":\"x\"},{\"not\":{\"tag\":\"y\"}}]},{\"all\":[{\"trait\":\"age\","
		     "\"op\":\"between\",\"value\":[30,39]}]}]}"),
		1);
	cr_assert_eq(eval("{\"any\":[{\"all\":[{\"tag\":\"vip\"},{\"trait\":\"age\",\"op\":\"lt\",\"value\":30}]},"
			  "{\"not\":{\"any\":[{\"tag\":\"vip\"},{\"tag\":\"x\"}]}}]}"),
		     0);
}

Test(cond_eval, cheap_clauses_first_and_short_circuit, .init = setup, .fini = teardown)
{
	/* the event clause is written first but the tag decides; no aggregate is read */
	cr_assert_eq(eval("{\"all\":[{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0}},{\"tag\":"
			  "\"nope\"}]}"),
		     0);
	cr_assert_eq(F.count_calls, 0);
	F.tags[0] = "yes";
	cr_assert_eq(eval("{\"any\":[{\"event\":\"Order Completed\"},{\"tag\":\"yes\"}]}"), 1);
	cr_assert_eq(F.count_calls, 0);
	cr_assert_eq(eval("{\"all\":[{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0}},{\"tag\":"
			  "\"yes\"}]}"),
		     1);
	cr_assert_eq(F.count_calls, 1);
}

Test(cond_eval, missing_and_failing_callbacks, .init = setup, .fini = teardown)
{
	const char *srcs[] = {"{\"event\":\"A\"}",
			      "{\"event\":\"A\",\"sum\":{\"property\":\"p\",\"op\":\"gt\",\"value\":1}}",
			      "{\"tag\":\"a\"}",
			      "{\"segment\":\"a\"}",
			      "{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\"}}",
			      "{\"score\":\"lead\",\"op\":\"gt\",\"value\":1}",
			      "{\"computed\":\"x\",\"op\":\"exists\"}"};
	for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		struct cond *c = parse(srcs[i]);
		struct cond_ctx ctx;
		memset(&ctx, 0, sizeof ctx);
		ctx.now_ms = NOW;
		struct cairn_err err = CAIRN_ERR_INIT;
		cr_expect_eq(cond_eval(c, &ctx, &err), CAIRN_EINVAL, "%s", srcs[i]);
		cr_expect_str_eq(err.slug, "condition_unsupported");
		ctx = make_ctx(NOW);
		F.fail = 1;
		cairn_err_clear(&err);
		int r = cond_eval(c, &ctx, &err);
		if (strstr(srcs[i], "consent")) {
			cr_expect_eq(r, 1, "consent has no failure channel: the fake still answers");
		} else {
			cr_expect_eq(r, CAIRN_EIO, "%s", srcs[i]);
			cr_expect_str_eq(err.slug, "condition_failed");
		}
		F.fail = 0;
		cond_free(c);
	}
	/* traits and properties need no callback */
	struct cond *c =
		parse("{\"all\":[{\"trait\":\"a\",\"op\":\"not_exists\"},{\"property\":\"b\",\"op\":\"not_exists\"}]}");
	struct cond_ctx empty;
	memset(&empty, 0, sizeof empty);
	cr_assert_eq(cond_eval(c, &empty, NULL), 1);
	cond_free(c);
}

Test(cond_eval, where_alone, .init = setup, .fini = teardown)
{
	struct cond *w = parse("{\"all\":[{\"property\":\"link_kind\",\"op\":\"eq\",\"value\":\"purchase\"},"
			       "{\"property\":\"url\",\"op\":\"contains\",\"value\":\"/products/\"}]}");
	json_t *p1 = json_loads("{\"link_kind\":\"purchase\",\"url\":\"https://shop.example/products/7\"}", 0, NULL);
	json_t *p2 = json_loads("{\"link_kind\":\"content\",\"url\":\"https://shop.example/products/7\"}", 0, NULL);
	cr_assert_eq(cond_eval_where(w, p1), 1);
	cr_assert_eq(cond_eval_where(w, p2), 0);
	cr_assert_eq(cond_eval_where(w, NULL), 0);
	json_decref(p1);
	json_decref(p2);
	cond_free(w);
	struct cond *t = parse("{\"tag\":\"x\"}");
	cr_assert_eq(cond_eval_where(t, NULL), 0, "other kinds read as false");
	cond_free(t);
}

Test(cond_eval, korean_text, .init = setup, .fini = teardown)
{
	set_traits("{\"도시\":\"서울특별시\",\"이름\":\"김민준\",\"관심사\":[\"마케팅\",\"디자인\"]}");
	cr_assert_eq(eval("{\"trait\":\"도시\",\"op\":\"eq\",\"value\":\"서울특별시\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"도시\",\"op\":\"starts_with\",\"value\":\"서울\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"도시\",\"op\":\"ends_with\",\"value\":\"특별시\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"도시\",\"op\":\"contains\",\"value\":\"울특\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"도시\",\"op\":\"in\",\"value\":[\"부산광역시\",\"서울특별시\"]}"), 1);
	cr_assert_eq(eval("{\"trait\":\"관심사\",\"op\":\"contains\",\"value\":\"마케팅\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"이름\",\"op\":\"gt\",\"value\":\"가\"}"), 1, "by code point: 김 > 가");
	cr_assert_eq(eval("{\"trait\":\"이름\",\"op\":\"lt\",\"value\":\"나\"}"), 1);
	cr_assert_eq(eval("{\"trait\":\"이름\",\"op\":\"between\",\"value\":[\"가\",\"나\"]}"), 1);
	F.tags[0] = "관심:마케팅";
	cr_assert_eq(eval("{\"tag\":\"관심:마케팅\"}"), 1);
	add_event(&F, "주문 완료", NOW - DAY, "{\"카테고리\":\"신발\"}");
	cr_assert_eq(
		eval("{\"event\":\"주문 완료\",\"where\":{\"property\":\"카테고리\",\"op\":\"eq\",\"value\":\"신발\"},"
		     "\"within\":{\"days\":7}}"),
		1);
	/* errors keep Korean names intact */
	json_t *j = json_loads("{\"trait\":\"등급\",\"op\":\"같다\",\"value\":1}", 0, NULL);
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_null(cond_parse(j, &err));
	cr_assert_str_eq(err.field, "op");
	cr_assert(strstr(err.message, "\"같다\""), "%s", err.message);
	json_decref(j);
}

/* ---- validation: every error with its path ------------------------------ */

struct bad_case {
	const char *src;
	const char *field;
	const char *says; /* a piece of the message */
};

static const struct bad_case bad_cases[] = {
	{"[]", "", "must be an object"},
	{"\"tag\"", "", "must be an object"},
	{"{}", "", "Empty condition"},
	{"{\"foo\":1}", "foo", "Unknown key \"foo\""},
	{"{\"trait\":\"a\",\"op\":\"eq\",\"value\":1,\"x\":2}", "x", "allowed: trait, op, value"},
	{"{\"trait\":\"a\",\"tag\":\"b\"}", "tag", "both \"trait\" and \"tag\""},
	{"{\"all\":[],\"any\":[]}", "any", "both"},
	{"{\"trait\":\"\",\"op\":\"exists\"}", "trait", "empty"},
	{"{\"trait\":5,\"op\":\"exists\"}", "trait", "must be a string"},
	{"{\"trait\":\"a\"}", "op", "Missing \"op\""},
	{"{\"trait\":\"a\",\"op\":5}", "op", "operator name"},
	{"{\"trait\":\"a\",\"op\":\"greater\",\"value\":1}", "op", "Unknown operator \"greater\"; use one of: eq, ne"},
	{"{\"trait\":\"a\",\"op\":\"eq\"}", "value", "Missing \"value\" for \"eq\""},
	{"{\"trait\":\"a\",\"op\":\"eq\",\"value\":null}", "value", "Missing \"value\""},
	{"{\"trait\":\"a\",\"op\":\"eq\",\"value\":[1]}", "value", "\"eq\" compares with a text, number or true/false"},
	{"{\"trait\":\"a\",\"op\":\"ne\",\"value\":{\"x\":1}}", "value", "\"ne\" compares"},
	{"{\"trait\":\"a\",\"op\":\"gt\",\"value\":true}", "value", "a number or a text"},
	{"{\"trait\":\"a\",\"op\":\"lte\",\"value\":[1]}", "value", "a number or a text"},
	{"{\"trait\":\"a\",\"op\":\"in\",\"value\":\"x\"}", "value", "\"in\" needs a list"},
	{"{\"trait\":\"a\",\"op\":\"not_in\",\"value\":5}", "value", "\"not_in\" needs a list"},
	{"{\"trait\":\"a\",\"op\":\"in\",\"value\":[]}", "value", "empty"},
	{"{\"trait\":\"a\",\"op\":\"in\",\"value\":[\"a\",{\"b\":1}]}", "value[1]", "Each value in the list"},
	{"{\"trait\":\"a\",\"op\":\"in\",\"value\":[\"a\",null]}", "value[1]", "Each value"},
	{"{\"trait\":\"a\",\"op\":\"contains\",\"value\":[\"a\"]}", "value", "\"contains\" compares"},
	{"{\"trait\":\"a\",\"op\":\"starts_with\",\"value\":5}", "value", "needs a text"},
	{"{\"trait\":\"a\",\"op\":\"ends_with\",\"value\":null}", "value", "Missing \"value\""},
	{"{\"trait\":\"a\",\"op\":\"exists\",\"value\":5}", "value", "takes no value"},
	{"{\"trait\":\"a\",\"op\":\"not_exists\",\"value\":\"x\"}", "value", "takes no value"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":[1]}", "value", "two values"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":[1,2,3]}", "value", "two values"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":5}", "value", "two values"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":[1,\"b\"]}", "value", "two numbers or two texts"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":[10,1]}", "value", "greater than the second"},
	{"{\"trait\":\"a\",\"op\":\"between\",\"value\":[\"2026-03-01\",\"2026-02-01\"]}", "value", "greater"},
	{"{\"trait\":\"a\",\"op\":\"before\",\"value\":\"yesterday\"}", "value", "\"yesterday\" is not a date"},
	{"{\"trait\":\"a\",\"op\":\"after\",\"value\":true}", "value", "needs a date"},
	{"{\"trait\":\"a\",\"op\":\"after\",\"value\":1.5}", "value", "needs a date"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":30}", "value", "A duration is an object"},
	{"{\"trait\":\"a\",\"op\":\"within_last\"}", "value", "needs a duration"},
	{"{\"trait\":\"a\",\"op\":\"not_within_last\",\"value\":\"30d\"}", "value", "A duration is an object"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"months\":1}}", "value.months", "Unknown duration unit"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"days\":-1}}", "value.days", "whole number"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"days\":1.5}}", "value.days", "whole number"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"days\":\"7\"}}", "value.days", "whole number"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{}}", "value", "A duration is an object"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"days\":0,\"hours\":0}}", "value", "zero"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"weeks\":100000}}", "value.weeks", "100 years"},
	{"{\"trait\":\"a\",\"op\":\"within_last\",\"value\":{\"weeks\":5000,\"days\":5000}}", "value", "100 years"},
	{"{\"all\":[]}", "all", "\"all\" is empty"},
	{"{\"any\":{}}", "any", "must be a list"},
	{"{\"any\":[{\"tag\":\"a\"},5]}", "any[1]", "must be an object"},
	{"{\"not\":[]}", "not", "must be an object"},
	{"{\"not\":{}}", "not", "Empty condition"},
	{"{\"all\":[{\"tag\":\"a\"},{\"any\":[{\"trait\":\"x\",\"op\":\"eq\"}]}]}", "all[1].any[0].value", "Missing"},
	{"{\"event\":\"\"}", "event", "empty"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"gte\",\"value\":-1}}", "count.value", "whole number"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"gte\",\"value\":2.5}}", "count.value", "whole number"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"between\",\"value\":[1,2.5]}}", "count.value[1]", "whole number"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"contains\",\"value\":1}}", "count.op", "does not apply to a count"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"in\",\"value\":[1]}}", "count.op", "eq, ne, gt, gte, lt, lte, between"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"gte\",\"value\":\"3\"}}", "count.value", "compares with a number"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"gte\"}}", "count.value", "Missing \"value\""},
	{"{\"event\":\"A\",\"count\":{\"value\":3}}", "count.op", "Missing \"op\""},
	{"{\"event\":\"A\",\"count\":3}", "count", "must be an object"},
	{"{\"event\":\"A\",\"count\":{\"op\":\"gte\",\"value\":3,\"x\":1}}", "count.x", "Unknown key"},
	{"{\"event\":\"A\",\"within\":{\"days\":0}}", "within", "zero"},
	{"{\"event\":\"A\",\"within\":7}", "within", "A duration is an object"},
	{"{\"event\":\"A\",\"within\":{\"day\":7}}", "within.day", "Unknown duration unit \"day\""},
	{"{\"event\":\"A\",\"where\":{\"tag\":\"x\"}}", "where.tag", "only property conditions"},
	{"{\"event\":\"A\",\"where\":{\"event\":\"B\"}}", "where.event", "only property conditions"},
	{"{\"event\":\"A\",\"where\":{\"all\":[{\"property\":\"p\",\"op\":\"eq\",\"value\":1},{\"trait\":\"t\","
	 "\"op\":\"exists\"}]}}",
	 "where.all[1].trait", "only property"},
	{"{\"event\":\"A\",\"where\":{\"property\":\"d\",\"op\":\"within_last\",\"value\":{\"days\":1}}}", "where.op",
	 "cannot be used inside \"where\""},
	{"{\"event\":\"A\",\"where\":[]}", "where", "must be an object"},
	{"{\"event\":\"A\",\"sum\":{\"op\":\"gte\",\"value\":1}}", "sum.property", "Missing \"property\""},
	{"{\"event\":\"A\",\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":\"x\"}}", "sum.value",
	 "a number"},
	{"{\"event\":\"A\",\"sum\":{\"property\":\"revenue\",\"op\":\"exists\"}}", "sum.op", "does not apply to a sum"},
	{"{\"event\":\"A\",\"sum\":{\"property\":\"r\",\"op\":\"gte\",\"value\":1,\"y\":2}}", "sum.y", "Unknown key"},
	{"{\"event\":\"A\",\"foo\":1}", "foo", "allowed: event, where, count, sum, within"},
	{"{\"event\":\"A\",\"op\":\"eq\"}", "op", "Unknown key \"op\" in an event condition"},
	{"{\"segment\":\"\"}", "segment", "empty"},
	{"{\"segment\":\"vip\",\"op\":\"eq\"}", "op", "Unknown key"},
	{"{\"tag\":[\"a\"]}", "tag", "must be a string"},
	{"{\"consent\":\"email\"}", "consent", "must be an object"},
	{"{\"consent\":{\"is\":\"subscribed\"}}", "consent.channel", "Missing \"channel\""},
	{"{\"consent\":{\"channel\":\"fax\",\"is\":\"subscribed\"}}", "consent.channel", "Unknown channel \"fax\""},
	{"{\"consent\":{\"channel\":\"topics.\",\"is\":\"subscribed\"}}", "consent.channel", "Unknown channel"},
	{"{\"consent\":{\"channel\":\"email\",\"is\":\"yes\"}}", "consent.is", "\"subscribed\", \"unsubscribed\""},
	{"{\"consent\":{\"channel\":\"email\"}}", "consent.is", "\"is\" must be"},
	{"{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\",\"x\":1}}", "consent.x", "Unknown key"},
	{"{\"score\":\"lead\"}", "op", "Missing \"op\""},
	{"{\"score\":\"lead\",\"op\":\"contains\",\"value\":\"a\"}", "op", "does not apply to a score"},
	{"{\"score\":\"lead\",\"op\":\"gte\",\"value\":\"70\"}", "value", "a number"},
	{"{\"score\":\"lead\",\"percentile\":{\"op\":\"gte\",\"value\":101}}", "percentile.value", "between 0 and 100"},
	{"{\"score\":\"lead\",\"percentile\":{\"op\":\"between\",\"value\":[-1,50]}}", "percentile.value[0]",
	 "0 and 100"},
	{"{\"score\":\"lead\",\"percentile\":80}", "percentile", "must be an object"},
	{"{\"score\":\"lead\",\"op\":\"gte\",\"value\":1,\"percentile\":{\"op\":\"gte\",\"value\":1}}", "percentile",
	 "not both"},
	{"{\"computed\":\"x\",\"op\":\"in\",\"value\":[]}", "value", "empty"},
	{"{\"computed\":\"x\",\"op\":\"eq\",\"value\":1,\"where\":{}}", "where", "Unknown key"},
	{"{\"property\":\"x\",\"op\":\"before\",\"value\":\"2026-13-01\"}", "value", "not a date"},
};

static void check_bad(const char *src, const char *prefix, const char *field, const char *says)
{
	json_error_t je;
	json_t *j = json_loads(src, JSON_DECODE_ANY, &je);
	cr_assert_not_null(j, "bad test JSON %s: %s", src, je.text);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = cond_parse_at(j, prefix, &err);
	cr_expect_null(c, "%s should be refused", src);
	cond_free(c);
	cr_expect_eq(err.code, CAIRN_EUNPROC, "%s", src);
	cr_expect_eq(cairn_err_http_status(err.code), 422);
	cr_expect_str_eq(err.slug, "invalid_condition");
	cr_expect_str_eq(err.field, field, "%s: field %s, want %s (%s)", src, err.field, field, err.message);
	cr_expect(strstr(err.message, says) != NULL, "%s: message \"%s\" lacks \"%s\"", src, err.message, says);
	cairn_err_clear(&err);
	cr_expect_eq(cond_validate_json(j, prefix, &err), CAIRN_EUNPROC);
	cr_expect_str_eq(err.field, field);
	json_decref(j);
}

Test(cond_validate, every_error_names_its_path)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		check_bad(bad_cases[i].src, NULL, bad_cases[i].field, bad_cases[i].says);
}

Test(cond_validate, path_prefix)
{
	check_bad("{\"all\":[{\"trait\":\"a\",\"op\":\"eq\",\"value\":1},{\"event\":\"A\",\"count\":{\"op\":\"x\","
		  "\"value\":1}}]}",
		  "condition", "condition.all[1].count.op", "Unknown operator");
	check_bad("{}", "branches[2].when", "branches[2].when", "Empty condition");
	check_bad("{\"tag\":\"a\",\"x\":1}", "", "x", "Unknown key");
}

Test(cond_validate, depth_and_size_limits)
{
	/* 16 nested levels parse; 17 do not */
	char src[4096];
	for (int depth = 16; depth <= 17; depth++) {
		size_t n = 0;
		for (int i = 1; i < depth; i++)
			n += (size_t)snprintf(src + n, sizeof src - n, "{\"not\":");
		n += (size_t)snprintf(src + n, sizeof src - n, "{\"tag\":\"a\"}");
		for (int i = 1; i < depth; i++)
			n += (size_t)snprintf(src + n, sizeof src - n, "}");
		json_t *j = json_loads(src, 0, NULL);
		struct cairn_err err = CAIRN_ERR_INIT;
		struct cond *c = cond_parse(j, &err);
		if (depth == 16) {
			cr_assert_not_null(c, "%s", err.message);
		} else {
			cr_assert_null(c);
			cr_assert_str_eq(err.field, "not.not.not.not.not.not.not.not.not.not.not.not.not.not.not.not");
			cr_assert(strstr(err.message, "more than 16 levels"));
		}
		cond_free(c);
		json_decref(j);
	}
	/* more than COND_MAX_NODES parts */
	json_t *all = json_array();
	for (int i = 0; i < 600; i++)
		json_array_append_new(all, json_pack("{s:s}", "tag", "a"));
	json_t *j = json_pack("{s:o}", "all", all);
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_null(cond_parse(j, &err));
	cr_assert_str_eq(err.field, "all[511]");
	cr_assert(strstr(err.message, "more than 512 parts"));
	json_decref(j);
	/* in-lists are bounded */
	json_t *list = json_array();
	for (int i = 0; i < COND_MAX_LIST + 1; i++)
		json_array_append_new(list, json_integer(i));
	j = json_pack("{s:s,s:s,s:o}", "trait", "a", "op", "in", "value", list);
	cairn_err_clear(&err);
	cr_assert_null(cond_parse(j, &err));
	cr_assert_str_eq(err.field, "value");
	json_decref(j);
	/* long names and texts */
	char *big = malloc(COND_MAX_STRING + 2);
	memset(big, 'a', COND_MAX_STRING + 1);
	big[COND_MAX_STRING + 1] = '\0';
	j = json_pack("{s:s,s:s,s:s}", "trait", "a", "op", "eq", "value", big);
	cairn_err_clear(&err);
	cr_assert_null(cond_parse(j, &err));
	cr_assert_str_eq(err.field, "value");
	json_decref(j);
	big[COND_MAX_NAME + 1] = '\0';
	j = json_pack("{s:s}", "tag", big);
	cairn_err_clear(&err);
	cr_assert_null(cond_parse(j, &err));
	cr_assert_str_eq(err.field, "tag");
	json_decref(j);
	free(big);
	/* quoted user text is clipped on a UTF-8 boundary, in the message and the path */
	struct buf key;
	buf_init(&key, BUF_MAX_DEFAULT);
	for (int i = 0; i < 100; i++)
		buf_adds(&key, "가");
	j = json_pack("{s:s,s:s,s:i}", "tag", "a", key.ptr, "x", "z", 1);
	cairn_err_clear(&err);
	cr_assert_null(cond_parse_at(j, "조건", &err));
	json_t *out = json_pack("{s:s,s:s}", "message", err.message, "field", err.field);
	cr_assert_not_null(out, "message or field is not valid UTF-8");
	cr_assert(strstr(err.message, "Unknown key \"가가"), "%s", err.message);
	cr_assert(!strncmp(err.field, "조건.가", strlen("조건.가")));
	json_decref(out);
	json_decref(j);
	buf_release(&key);
	/* a NULL json and a NULL err are tolerated */
	cr_assert_null(cond_parse(NULL, NULL));
}

/* ---- round trips -------------------------------------------------------- */

static const char *const valid[] = {
	"{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"tag\":\"vip\"}]}",
	"{\"any\":[{\"segment\":\"vip\"},{\"not\":{\"tag\":\"disengaged\"}}]}",
	"{\"property\":\"revenue\",\"op\":\"gte\",\"value\":50000}",
	"{\"event\":\"Product "
	"Viewed\",\"where\":{\"property\":\"category\",\"op\":\"in\",\"value\":[\"shoes\",\"bags\"]},"
	"\"count\":{\"op\":\"gte\",\"value\":3},\"within\":{\"days\":7}}",
	"{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0},\"within\":{\"days\":30}}",
	"{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":100000}}",
	"{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\"}}",
	"{\"score\":\"lead\",\"op\":\"gte\",\"value\":70}",
	"{\"score\":\"lead\",\"percentile\":{\"op\":\"gte\",\"value\":80}}",
	"{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gte\",\"value\":3}",
	"{\"trait\":\"signup\",\"op\":\"within_last\",\"value\":{\"weeks\":1,\"days\":2,\"hours\":3,\"minutes\":4}}",
	"{\"trait\":\"x\",\"op\":\"between\",\"value\":[1.5,2]}",
	"{\"trait\":\"x\",\"op\":\"exists\"}",
	"{\"trait\":\"도시\",\"op\":\"starts_with\",\"value\":\"서울\"}",
	"{\"trait\":\"d\",\"op\":\"after\",\"value\":1772413200000}",
};

Test(cond_json, round_trip_is_a_fixed_point)
{
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		struct cond *c = parse(valid[i]);
		json_t *j1 = cond_to_json(c);
		json_t *orig = json_loads(valid[i], 0, NULL);
		cr_expect(json_equal(j1, orig), "normalized form of %s differs", valid[i]);
		struct cairn_err err = CAIRN_ERR_INIT;
		struct cond *c2 = cond_parse(j1, &err);
		cr_assert_not_null(c2, "%s", err.message);
		char *t1 = cond_to_text(c), *t2 = cond_to_text(c2);
		cr_expect_str_eq(t1, t2);
		free(t1);
		free(t2);
		json_decref(j1);
		json_decref(orig);
		cond_free(c2);
		cond_free(c);
	}
}

Test(cond_json, normalization)
{
	struct cond *c =
		parse("{\"within\":{\"hours\":0,\"days\":30},\"count\":{\"value\":0,\"op\":\"eq\"},\"event\":\"A\","
		      "\"where\":{\"value\":1,\"op\":\"eq\",\"property\":\"p\"}}");
	char *t = cond_to_text(c);
	cr_assert_str_eq(t,
			 "{\"count\":{\"op\":\"eq\",\"value\":0},\"event\":\"A\",\"where\":{\"op\":\"eq\",\"property\":"
			 "\"p\",\"value\":1},\"within\":{\"days\":30}}");
	free(t);
	json_t *j = cond_to_json(c);
	char *s = json_dumps(j, JSON_COMPACT);
	cr_assert_str_eq(s,
			 "{\"event\":\"A\",\"where\":{\"property\":\"p\",\"op\":\"eq\",\"value\":1},\"count\":{\"op\":"
			 "\"eq\",\"value\":0},\"within\":{\"days\":30}}");
	free(s);
	json_decref(j);
	cr_assert_eq(cond_kind(c), COND_EVENT);
	cond_free(c);
	/* exists with "value": null normalizes to no value */
	c = parse("{\"trait\":\"x\",\"op\":\"exists\",\"value\":null}");
	t = cond_to_text(c);
	cr_assert_str_eq(t, "{\"op\":\"exists\",\"trait\":\"x\"}");
	free(t);
	cond_free(c);
}

/* ---- introspection ------------------------------------------------------ */

struct deps {
	char seen[1024];
};

static int collect(void *arg, const struct cond_dep *d)
{
	struct deps *ds = arg;
	static const char *k[] = {"all",     "any", "not",     "trait", "property", "event",
				  "segment", "tag", "consent", "score", "computed"};
	size_t n = strlen(ds->seen);
	snprintf(ds->seen + n, sizeof ds->seen - n, "%s%s:%s%s%s", n ? " " : "", k[d->kind], d->name,
		 d->in_where ? "(w)" : "", d->uses_now ? "(now)" : "");
	if (d->kind == COND_EVENT) {
		n = strlen(ds->seen);
		snprintf(ds->seen + n, sizeof ds->seen - n, "[%lld,%s,%s,%d]", (long long)d->window_ms, d->where_key,
			 d->sum_property ? d->sum_property : "-", d->has_count);
	}
	return 0;
}

static int stop_at_tag(void *arg, const struct cond_dep *d)
{
	(void)arg;
	return d->kind == COND_TAG ? 7 : 0;
}

Test(cond_introspect, visit_windows_and_time)
{
	struct cond *c = parse(
		"{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},"
		"{\"event\":\"Product Viewed\",\"where\":{\"property\":\"category\",\"op\":\"eq\",\"value\":\"shoes\"},"
		"\"count\":{\"op\":\"gte\",\"value\":3},\"within\":{\"days\":7}},"
		"{\"any\":[{\"tag\":\"vip\"},{\"segment\":\"s1\"},{\"not\":{\"computed\":\"last_seen_at\",\"op\":"
		"\"within_last\",\"value\":{\"days\":45}}}]},"
		"{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gt\",\"value\":0}},"
		"{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\"}},{\"score\":\"lead\",\"op\":\"gt\","
		"\"value\":1}]}");
	struct deps ds = {""};
	cr_assert_eq(cond_visit(c, collect, &ds), 0);
	cr_assert_str_eq(ds.seen,
			 "trait:plan event:Product Viewed[604800000,{\"op\":\"eq\",\"property\":\"category\",\"value\":"
			 "\"shoes\"},-,1] property:category(w) tag:vip segment:s1 computed:last_seen_at(now) "
			 "event:Order Completed[0,,revenue,0] consent:email score:lead");
	cr_assert_eq(cond_visit(c, stop_at_tag, NULL), 7);
	cr_assert_eq(cond_max_window_ms(c), 45 * DAY);
	cr_assert(cond_uses_time(c));
	cond_free(c);
	c = parse("{\"all\":[{\"event\":\"A\"},{\"trait\":\"d\",\"op\":\"before\",\"value\":\"2026-01-01\"}]}");
	cr_assert_eq(cond_max_window_ms(c), 0);
	cr_assert(!cond_uses_time(c), "all-time counts and absolute dates never change with the clock alone");
	cond_free(c);
}

Test(cond_introspect, next_change, .init = setup, .fini = teardown)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t next = 0;
	/* no time-relative clause */
	struct cond *c = parse("{\"all\":[{\"tag\":\"a\"},{\"event\":\"A\"}]}");
	struct cond_ctx ctx = make_ctx(NOW);
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, INT64_MAX);
	cond_free(c);
	/* a trait date slides out of the window at t + W + 1 */
	c = parse("{\"any\":[{\"trait\":\"last_seen_at\",\"op\":\"within_last\",\"value\":{\"days\":30}},"
		  "{\"trait\":\"trial_ends_at\",\"op\":\"not_within_last\",\"value\":{\"days\":1}}]}");
	json_object_set_new(traits, "last_seen_at", json_string("2026-02-20T01:00:00Z")); /* NOW - 10 days */
	ctx = make_ctx(NOW);
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, NOW + 20 * DAY + 1);
	/* … and a future date enters at t, which is sooner */
	json_object_set_new(traits, "trial_ends_at", json_integer(NOW + 3 * DAY));
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, NOW + 3 * DAY);
	/* the value really is constant before next and flips at it */
	json_object_del(traits, "trial_ends_at");
	struct cond_ctx later = make_ctx(NOW + 20 * DAY);
	cr_assert_eq(cond_eval(c, &later, &err), 1);
	later.now_ms = NOW + 20 * DAY + 1;
	cr_assert_eq(cond_eval(c, &later, &err), 1, "the other branch (no trial) holds");
	cond_free(c);
	/* a date long gone never changes again */
	c = parse("{\"trait\":\"last_seen_at\",\"op\":\"within_last\",\"value\":{\"days\":1}}");
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, INT64_MAX);
	cond_free(c);
	/* the earliest of several windowed event clauses */
	add_event(&F, "Email Opened", NOW - 6 * DAY, NULL);
	add_event(&F, "Email Opened", NOW - 2 * DAY, NULL);
	add_event(&F, "Email Link Clicked", NOW - 1 * DAY, NULL);
	c = parse("{\"all\":[{\"event\":\"Email Opened\",\"within\":{\"days\":7}},{\"event\":\"Email Link Clicked\","
		  "\"within\":{\"days\":3}}]}");
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, NOW + 1 * DAY + 1, "the Email Opened of day -6 leaves the 7-day window first");
	F.fail = 1;
	ctx.event_oldest = NULL;
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0, "event_oldest is optional");
	cr_assert_eq(next, NOW + 1);
	cond_free(c);
	/* computed dates and callback failures */
	c = parse("{\"computed\":\"last_order_at\",\"op\":\"within_last\",\"value\":{\"days\":30}}");
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), CAIRN_EIO);
	F.fail = 0;
	cairn_err_clear(&err);
	json_object_set_new(F.computed, "last_order_at", json_integer(NOW - 29 * DAY));
	cr_assert_eq(cond_next_change(c, &ctx, &next, &err), 0);
	cr_assert_eq(next, NOW + DAY + 1);
	cond_free(c);
}

Test(cond_introspect, shared_across_threads_is_read_only)
{
	/* A parsed tree keeps no link to its source JSON: freeing the JSON first
	 * and evaluating afterwards must work (and stay clean under ASan). */
	json_t *j = json_loads("{\"trait\":\"plan\",\"op\":\"in\",\"value\":[\"pro\",\"team\"]}", 0, NULL);
	struct cond *c = cond_parse(j, NULL);
	json_decref(j);
	json_t *tr = json_pack("{s:s}", "plan", "team");
	struct cond_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.traits = tr;
	cr_assert_eq(cond_eval(c, &ctx, NULL), 1);
	json_decref(tr);
	cond_free(c);
}
