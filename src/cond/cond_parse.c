/* cond_parse.c — JSON → struct cond (parser and validator in one pass), and
 * back to normalized JSON.
 *
 * The parser walks the JSON once, keeping the path of the current value in
 * a struct buf ("all[1].count"), and stops at the first fault: the error
 * names that path and says, in words a marketer can act on, what to write
 * instead. Each kind of condition is one row of `kinds` below (its key, the
 * keys it allows, its parse function); each operator is one row of the
 * table in cond_op.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond_int.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/xalloc.h"

#define SLUG "invalid_condition"

struct parser {
	struct buf path; /* JSON path of the value being parsed */
	struct cairn_err *err;
	size_t nodes; /* condition objects so far */
	int in_where; /* inside an event's `where` */
};

/* ---- paths and errors --------------------------------------------------- */

static size_t push_key(struct parser *p, const char *key)
{
	size_t mark = p->path.len;
	if (p->path.len)
		buf_addch(&p->path, '.');
	buf_adds(&p->path, key);
	return mark;
}

static size_t push_index(struct parser *p, size_t i)
{
	size_t mark = p->path.len;
	buf_addf(&p->path, "[%zu]", i);
	return mark;
}

static void pop(struct parser *p, size_t mark)
{
	buf_truncate(&p->path, mark);
}

/* The length of s cut to at most max bytes without splitting a UTF-8
 * sequence, so messages and paths quoting user text stay valid UTF-8. */
static int clip(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* Records the error for the current path, or for path.key when key is set.
 * Always returns -1 so callers can `return fail(…)`. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, const char *key, const char *fmt, ...)
{
	size_t mark = key ? push_key(p, key) : p->path.len;
	struct buf msg;
	buf_init(&msg, 16384); /* user text inside is clipped (QUOTE); err truncates to its size */
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	buf_truncate(&msg, (size_t)clip(msg.ptr, sizeof p->err->message - 1));
	buf_truncate(&p->path, (size_t)clip(p->path.ptr, sizeof p->err->field - 1));
	cairn_err_set(p->err, CAIRN_EUNPROC, SLUG, p->path.ptr, "%s", msg.ptr);
	buf_release(&msg);
	pop(p, mark);
	return -1;
}

/* printf arguments quoting user text in a message: "%.*s", QUOTE(s). */
#define QUOTE(s) clip((s), 64), (s)

/* ---- values ------------------------------------------------------------- */

static void val_init(struct cond_val *v, const json_t *j)
{
	memset(v, 0, sizeof *v);
	v->json = json_deep_copy(j);
	if (!v->json)
		v->json = json_null(); /* out of memory in jansson: keep the tree valid */
	v->is_num = cond_read_num(j, &v->num) == 0;
	v->is_int = json_is_integer(j);
	v->ival = v->is_int ? json_integer_value(j) : 0;
	v->is_date = cond_read_date(j, &v->date_ms) == 0;
}

static void val_release(struct cond_val *v)
{
	json_decref(v->json);
	v->json = NULL;
}

static void cmp_release(struct cond_cmp *cmp)
{
	val_release(&cmp->v[0]);
	val_release(&cmp->v[1]);
	for (size_t i = 0; i < cmp->nlist; i++)
		val_release(&cmp->list[i]);
	free(cmp->list);
	cmp->list = NULL;
	cmp->nlist = 0;
}

void cond_free(struct cond *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nkids; i++)
		cond_free(c->kids[i]);
	free(c->kids);
	free(c->order);
	free(c->name);
	cmp_release(&c->cmp);
	cond_free(c->where);
	free(c->where_key);
	cmp_release(&c->count);
	free(c->sum_property);
	cmp_release(&c->sum);
	free(c->consent_is);
	cmp_release(&c->percentile);
	free(c);
}

/* A name (trait, event, tag, …) at path.key: a non-empty string of at most
 * COND_MAX_NAME bytes. Returns an owned copy or NULL. */
static char *parse_name(struct parser *p, const json_t *obj, const char *key, const char *what)
{
	const json_t *v = json_object_get(obj, key);
	if (!v) {
		fail(p, key, "Missing \"%s\": name the %s.", key, what);
		return NULL;
	}
	if (!json_is_string(v)) {
		fail(p, key, "\"%s\" must be a string naming the %s, not %s.", key, what, jsonx_type_name(v));
		return NULL;
	}
	if (json_string_length(v) == 0) {
		fail(p, key, "\"%s\" is empty: name the %s.", key, what);
		return NULL;
	}
	if (json_string_length(v) > COND_MAX_NAME) {
		fail(p, key, "The %s name is longer than %d bytes.", what, COND_MAX_NAME);
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

static const char *const dur_units[] = {"weeks", "days", "hours", "minutes"};
static const int64_t dur_unit_ms[] = {7LL * 86400000, 86400000, 3600000, 60000};

/* A duration object at the current path into *d. */
static int parse_duration(struct parser *p, const json_t *j, struct cond_dur *d)
{
	json_int_t *slots[] = {&d->weeks, &d->days, &d->hours, &d->minutes};
	memset(d, 0, sizeof *d);
	if (!json_is_object(j) || json_object_size(j) == 0)
		return fail(p, NULL,
			    "A duration is an object like {\"days\": 30} using weeks, days, hours or minutes.");
	const char *key;
	const json_t *v;
	json_object_foreach ((json_t *)j, key, v) {
		size_t u = 0;
		while (u < 4 && strcmp(key, dur_units[u]))
			u++;
		if (u == 4)
			return fail(p, key, "Unknown duration unit \"%.*s\": use weeks, days, hours or minutes.",
				    QUOTE(key));
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail(p, key, "\"%s\" must be a whole number, 0 or more.", key);
		if (json_integer_value(v) > COND_MAX_DURATION_MS / dur_unit_ms[u])
			return fail(p, key, "This duration is longer than 100 years.");
		*slots[u] = json_integer_value(v);
		d->ms += json_integer_value(v) * dur_unit_ms[u];
	}
	if (d->ms > COND_MAX_DURATION_MS)
		return fail(p, NULL, "This duration is longer than 100 years.");
	if (d->ms == 0)
		return fail(p, NULL, "This duration is zero; give a length such as {\"days\": 30}.");
	return 0;
}

static int is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Checks a string operand's length. */
static int check_len(struct parser *p, const json_t *v)
{
	if (json_is_string(v) && json_string_length(v) > COND_MAX_STRING)
		return fail(p, NULL, "This text is longer than %d bytes.", COND_MAX_STRING);
	return 0;
}

/* The operand of def at the current path (the "value" key). */
static int parse_operand(struct parser *p, const json_t *v, const struct cond_op_def *def, unsigned where,
			 struct cond_cmp *cmp)
{
	const char *op = def->name;
	int numbers_only = where == COND_IN_NUMBER;
	switch (def->operand) {
	case COND_OPD_NONE: return 0;
	case COND_OPD_SCALAR:
		if (numbers_only ? !json_is_number(v) : !is_scalar(v))
			return fail(p, NULL, "\"%s\" compares with %s, e.g. %s; got %s.", op,
				    numbers_only ? "a number" : "a text, number or true/false",
				    numbers_only ? "3" : def->example, jsonx_type_name(v));
		break;
	case COND_OPD_ORDERED:
		if (numbers_only ? !json_is_number(v) : !(json_is_string(v) || json_is_number(v)))
			return fail(p, NULL, "\"%s\" compares with %s, e.g. %s; got %s.", op,
				    numbers_only ? "a number" : "a number or a text", def->example, jsonx_type_name(v));
		break;
	case COND_OPD_TEXT:
		if (!json_is_string(v))
			return fail(p, NULL, "\"%s\" needs a text, e.g. %s; got %s.", op, def->example,
				    jsonx_type_name(v));
		break;
	case COND_OPD_DATE:
		if (!json_is_string(v) && !json_is_integer(v))
			return fail(p, NULL,
				    "\"%s\" needs a date such as \"2026-03-01T00:00:00+09:00\" (RFC 3339) or epoch "
				    "milliseconds; got %s.",
				    op, jsonx_type_name(v));
		if (json_is_string(v)) {
			int64_t ms;
			if (json_string_length(v) >= 64 || cond_read_date(v, &ms) < 0)
				return fail(p, NULL,
					    "\"%.*s\" is not a date; write it like \"2026-03-01T00:00:00+09:00\" or "
					    "\"2026-03-01\".",
					    QUOTE(json_string_value(v)));
		}
		break;
	case COND_OPD_DURATION: return parse_duration(p, v, &cmp->dur);
	case COND_OPD_LIST: {
		if (!json_is_array(v))
			return fail(p, NULL, "\"%s\" needs a list of values, e.g. %s; got %s.", op, def->example,
				    jsonx_type_name(v));
		size_t n = json_array_size(v);
		if (n == 0)
			return fail(p, NULL, "The list for \"%s\" is empty; give at least one value.", op);
		if (n > COND_MAX_LIST)
			return fail(p, NULL, "The list for \"%s\" has more than %d values; use a segment or a tag.", op,
				    COND_MAX_LIST);
		cmp->list = xcalloc(n, sizeof *cmp->list);
		for (size_t i = 0; i < n; i++) {
			const json_t *el = json_array_get(v, i);
			size_t mark = push_index(p, i);
			int bad = !is_scalar(el) ? fail(p, NULL,
							"Each value in the list must be a text, number or "
							"true/false, not %s.",
							jsonx_type_name(el))
						 : check_len(p, el);
			pop(p, mark);
			if (bad)
				return -1;
			val_init(&cmp->list[i], el);
			cmp->nlist = i + 1;
		}
		return 0;
	}
	case COND_OPD_RANGE: {
		if (!json_is_array(v) || json_array_size(v) != 2)
			return fail(p, NULL, "\"between\" needs a list of two values, low and high, e.g. [10, 20].");
		const json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
		int nums = json_is_number(lo) && json_is_number(hi);
		int strs = json_is_string(lo) && json_is_string(hi);
		if (numbers_only ? !nums : !(nums || strs))
			return fail(p, NULL, "\"between\" needs two %s, e.g. %s.",
				    numbers_only ? "numbers" : "numbers or two texts (or dates)",
				    numbers_only ? "[1, 5]" : def->example);
		if (check_len(p, lo) || check_len(p, hi))
			return -1;
		val_init(&cmp->v[0], lo);
		val_init(&cmp->v[1], hi);
		struct cond_val *a = &cmp->v[0], *b = &cmp->v[1];
		int wrong;
		if (nums)
			wrong = a->num > b->num;
		else if (a->is_date && b->is_date)
			wrong = a->date_ms > b->date_ms;
		else
			wrong = strcmp(json_string_value(lo), json_string_value(hi)) > 0;
		if (wrong)
			return fail(p, NULL,
				    "The first value of \"between\" is greater than the second; write [low, high].");
		return 0;
	}
	}
	if (check_len(p, v))
		return -1;
	val_init(&cmp->v[0], v);
	return 0;
}

/* "op" and "value" of obj at the current path into cmp. `what` names the
 * thing compared ("a count") for messages. */
static int parse_cmp(struct parser *p, const json_t *obj, unsigned where, const char *what, struct cond_cmp *cmp)
{
	const json_t *op = json_object_get(obj, "op");
	if (!op)
		return fail(p, "op", "Missing \"op\": say how to compare %s, e.g. \"op\": \"%s\".", what,
			    where == COND_IN_NUMBER ? "gte" : "eq");
	if (!json_is_string(op))
		return fail(p, "op", "\"op\" must be an operator name such as \"eq\", not %s.", jsonx_type_name(op));
	const struct cond_op_def *def = cond_op_find(json_string_value(op));
	if (!def || !(def->where & where)) {
		struct buf list;
		buf_init(&list, 1024);
		cond_op_list(where, &list);
		if (!def)
			fail(p, "op", "Unknown operator \"%.*s\"; use one of: %s.", QUOTE(json_string_value(op)),
			     list.ptr);
		else
			fail(p, "op", "\"%s\" does not apply to %s; use one of: %s.", def->name, what, list.ptr);
		buf_release(&list);
		return -1;
	}
	if (p->in_where && def->operand == COND_OPD_DURATION)
		return fail(p, "op",
			    "\"%s\" cannot be used inside \"where\"; put the time window in the event's "
			    "\"within\", or compare dates with before/after.",
			    def->name);
	cmp->def = def;
	const json_t *v = json_object_get(obj, "value");
	if (def->operand == COND_OPD_NONE) {
		if (v && !json_is_null(v))
			return fail(p, "value", "\"%s\" takes no value; remove \"value\".", def->name);
		return 0;
	}
	if (!v || json_is_null(v)) {
		if (def->operand == COND_OPD_DURATION)
			return fail(p, "value", "\"%s\" needs a duration as its value, e.g. %s.", def->name,
				    def->example);
		return fail(p, "value", "Missing \"value\" for \"%s\", e.g. %s.", def->name,
			    where == COND_IN_NUMBER ? "3" : def->example);
	}
	size_t mark = push_key(p, "value");
	int rc = parse_operand(p, v, def, where, cmp);
	pop(p, mark);
	return rc;
}

/* {"op":…,"value":…} (plus `extra` keys) under obj[key], numbers only. */
static int parse_number_cmp(struct parser *p, const json_t *obj, const char *key, const char *what,
			    const char *const *allowed, struct cond_cmp *cmp)
{
	const json_t *v = json_object_get(obj, key);
	size_t mark = push_key(p, key);
	int rc = 0;
	if (!json_is_object(v)) {
		rc = fail(p, NULL, "\"%s\" must be an object like {\"op\": \"gte\", \"value\": 3}.", key);
		goto out;
	}
	const char *k;
	const json_t *x;
	json_object_foreach ((json_t *)v, k, x) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			rc = fail(p, k, "Unknown key \"%.*s\" in \"%s\".", QUOTE(k), key);
			goto out;
		}
	}
	rc = parse_cmp(p, v, COND_IN_NUMBER, what, cmp);
out:
	pop(p, mark);
	return rc;
}

/* ---- kinds -------------------------------------------------------------- */

static struct cond *parse_node(struct parser *p, const json_t *j, int depth);

static int cost_cmp(const struct cond *const *kids, size_t a, size_t b)
{
	return kids[a]->cost - kids[b]->cost;
}

static int parse_list(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	const char *key = c->kind == COND_ALL ? "all" : "any";
	const json_t *arr = json_object_get(obj, key);
	if (!json_is_array(arr))
		return fail(p, key, "\"%s\" must be a list of conditions, e.g. [{\"tag\": \"vip\"}].", key);
	size_t n = json_array_size(arr);
	if (n == 0)
		return fail(p, key, "\"%s\" is empty; give at least one condition.", key);
	c->kids = xcalloc(n, sizeof *c->kids);
	c->order = xcalloc(n, sizeof *c->order);
	size_t mark = push_key(p, key);
	for (size_t i = 0; i < n; i++) {
		size_t m2 = push_index(p, i);
		c->kids[i] = parse_node(p, json_array_get(arr, i), depth + 1);
		pop(p, m2);
		if (!c->kids[i]) {
			pop(p, mark);
			return -1;
		}
		c->nkids = i + 1;
		c->cost += c->kids[i]->cost;
	}
	pop(p, mark);
	/* cheapest first, stable (insertion sort: lists are short) */
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		while (k > 0 && cost_cmp((const struct cond *const *)c->kids, c->order[k - 1], i) > 0) {
			c->order[k] = c->order[k - 1];
			k--;
		}
		c->order[k] = i;
	}
	return 0;
}

static int parse_all(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	return parse_list(p, obj, c, depth);
}

static int parse_not(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	size_t mark = push_key(p, "not");
	c->kids = xcalloc(1, sizeof *c->kids);
	c->order = xcalloc(1, sizeof *c->order);
	c->kids[0] = parse_node(p, json_object_get(obj, "not"), depth + 1);
	pop(p, mark);
	if (!c->kids[0])
		return -1;
	c->nkids = 1;
	c->cost = c->kids[0]->cost;
	return 0;
}

/* name + op + value; `what` names the thing ("trait"), `the` the same with
 * its article for messages ("the trait"). */
static int parse_valued(struct parser *p, const json_t *obj, struct cond *c, const char *key, const char *what,
			const char *the)
{
	c->name = parse_name(p, obj, key, what);
	if (!c->name)
		return -1;
	c->has_cmp = 1;
	return parse_cmp(p, obj, COND_IN_VALUE, the, &c->cmp);
}

static int parse_trait(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	return parse_valued(p, obj, c, "trait", "trait", "the trait");
}

static int parse_property(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	return parse_valued(p, obj, c, "property", "event property", "the event property");
}

static int parse_computed(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	return parse_valued(p, obj, c, "computed", "computed trait", "the computed trait");
}

/* A count is a whole number of times: require integers ≥ 0. */
static int check_count_values(struct parser *p, const struct cond_cmp *cmp)
{
	for (int i = 0; i < 2; i++) {
		const json_t *v = cmp->v[i].json;
		if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
			size_t mark = push_key(p, "count");
			push_key(p, "value");
			if (cmp->def->operand == COND_OPD_RANGE)
				push_index(p, (size_t)i);
			fail(p, NULL, "A count is a whole number of times, 0 or more.");
			pop(p, mark);
			return -1;
		}
	}
	return 0;
}

static int parse_event(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	static const char *const count_keys[] = {"op", "value", NULL};
	static const char *const sum_keys[] = {"property", "op", "value", NULL};
	c->name = parse_name(p, obj, "event", "event");
	if (!c->name)
		return -1;
	const json_t *w = json_object_get(obj, "where");
	if (w) {
		size_t mark = push_key(p, "where");
		int saved = p->in_where;
		p->in_where = 1;
		c->where = parse_node(p, w, depth + 1);
		p->in_where = saved;
		pop(p, mark);
		if (!c->where)
			return -1;
		c->where_key = cond_to_text(c->where);
	} else {
		c->where_key = xstrdup("");
	}
	if (json_object_get(obj, "count")) {
		c->has_count = 1;
		if (parse_number_cmp(p, obj, "count", "a count", count_keys, &c->count) < 0)
			return -1;
		if (check_count_values(p, &c->count) < 0)
			return -1;
	}
	if (json_object_get(obj, "sum")) {
		c->has_sum = 1;
		if (parse_number_cmp(p, obj, "sum", "a sum", sum_keys, &c->sum) < 0)
			return -1;
		size_t mark = push_key(p, "sum");
		c->sum_property = parse_name(p, json_object_get(obj, "sum"), "property", "property to add up");
		pop(p, mark);
		if (!c->sum_property)
			return -1;
	}
	const json_t *win = json_object_get(obj, "within");
	if (win) {
		size_t mark = push_key(p, "within");
		int rc = parse_duration(p, win, &c->within);
		pop(p, mark);
		if (rc < 0)
			return -1;
		c->has_within = 1;
	}
	return 0;
}

static int parse_segment(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	c->name = parse_name(p, obj, "segment", "segment (its id)");
	return c->name ? 0 : -1;
}

static int parse_tag(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	c->name = parse_name(p, obj, "tag", "tag");
	return c->name ? 0 : -1;
}

static int parse_consent(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	static const char *const channels[] = {"email", "sms", "kakao", "push", "night", NULL};
	static const char *const states[] = {"subscribed", "unsubscribed", "unknown", NULL};
	const json_t *v = json_object_get(obj, "consent");
	size_t mark = push_key(p, "consent");
	int rc = -1;
	if (!json_is_object(v)) {
		fail(p, NULL, "\"consent\" must be an object like {\"channel\": \"email\", \"is\": \"subscribed\"}.");
		goto out;
	}
	const char *k;
	const json_t *x;
	json_object_foreach ((json_t *)v, k, x) {
		if (strcmp(k, "channel") && strcmp(k, "is")) {
			fail(p, k, "Unknown key \"%.*s\" in \"consent\"; allowed: channel, is.", QUOTE(k));
			goto out;
		}
	}
	c->name = parse_name(p, v, "channel", "channel");
	if (!c->name)
		goto out;
	int known = !strncmp(c->name, "topics.", 7) && c->name[7];
	for (size_t i = 0; !known && channels[i]; i++)
		known = !strcmp(c->name, channels[i]);
	if (!known) {
		fail(p, "channel", "Unknown channel \"%.*s\"; use email, sms, kakao, push, night or topics.<topic>.",
		     QUOTE(c->name));
		goto out;
	}
	const json_t *is = json_object_get(v, "is");
	const char *s = json_is_string(is) ? json_string_value(is) : NULL;
	int ok = 0;
	for (size_t i = 0; s && states[i]; i++)
		ok |= !strcmp(s, states[i]);
	if (!ok) {
		fail(p, "is", "\"is\" must be \"subscribed\", \"unsubscribed\" or \"unknown\".");
		goto out;
	}
	c->consent_is = xstrdup(s);
	rc = 0;
out:
	pop(p, mark);
	return rc;
}

static int parse_score(struct parser *p, const json_t *obj, struct cond *c, int depth)
{
	static const char *const pct_keys[] = {"op", "value", NULL};
	c->name = parse_name(p, obj, "score", "score");
	if (!c->name)
		return -1;
	int has_pct = json_object_get(obj, "percentile") != NULL;
	int has_op = json_object_get(obj, "op") || json_object_get(obj, "value");
	if (has_pct && has_op)
		return fail(p, "percentile",
			    "Compare either the score (\"op\", \"value\") or its \"percentile\", not both.");
	if (!has_pct) {
		c->has_cmp = 1;
		return parse_cmp(p, obj, COND_IN_NUMBER, "a score", &c->cmp);
	}
	c->has_percentile = 1;
	if (parse_number_cmp(p, obj, "percentile", "a percentile", pct_keys, &c->percentile) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const struct cond_val *v = &c->percentile.v[i];
		if (v->json && (v->num < 0 || v->num > 100)) {
			size_t mark = push_key(p, "percentile");
			push_key(p, "value");
			if (c->percentile.def->operand == COND_OPD_RANGE)
				push_index(p, (size_t)i);
			fail(p, NULL, "A percentile is between 0 and 100 (80 means the top 20%%).");
			pop(p, mark);
			return -1;
		}
	}
	return 0;
}

struct kind_def {
	const char *key; /* the key that names the kind */
	enum cond_kind kind;
	const char *const keys[6]; /* every key allowed besides `key` */
	int (*parse)(struct parser *p, const json_t *obj, struct cond *c, int depth);
	const char *what; /* for messages */
	int cost;	  /* default evaluation cost */
};

static const struct kind_def kinds[] = {
	{"all", COND_ALL, {NULL}, parse_all, "an \"all\" condition", 0},
	{"any", COND_ANY, {NULL}, parse_all, "an \"any\" condition", 0},
	{"not", COND_NOT, {NULL}, parse_not, "a \"not\" condition", 0},
	{"trait", COND_TRAIT, {"op", "value", NULL}, parse_trait, "a trait condition", 1},
	{"property", COND_PROPERTY, {"op", "value", NULL}, parse_property, "a property condition", 1},
	{"event", COND_EVENT, {"where", "count", "sum", "within", NULL}, parse_event, "an event condition", 10},
	{"segment", COND_SEGMENT, {NULL}, parse_segment, "a segment condition", 2},
	{"tag", COND_TAG, {NULL}, parse_tag, "a tag condition", 1},
	{"consent", COND_CONSENT, {NULL}, parse_consent, "a consent condition", 1},
	{"score", COND_SCORE, {"op", "value", "percentile", NULL}, parse_score, "a score condition", 2},
	{"computed", COND_COMPUTED, {"op", "value", NULL}, parse_computed, "a computed-trait condition", 1},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char kind_list[] = "all, any, not, trait, property, event, segment, tag, consent, score or computed";

static struct cond *parse_node(struct parser *p, const json_t *j, int depth)
{
	if (!json_is_object(j)) {
		fail(p, NULL,
		     "A condition must be an object like {\"trait\": \"plan\", \"op\": \"eq\", \"value\": "
		     "\"pro\"}, not %s.",
		     j ? jsonx_type_name(j) : "nothing");
		return NULL;
	}
	if (depth > COND_MAX_DEPTH) {
		fail(p, NULL, "Conditions are nested more than %d levels deep; simplify them.", COND_MAX_DEPTH);
		return NULL;
	}
	if (++p->nodes > COND_MAX_NODES) {
		fail(p, NULL,
		     "This condition has more than %d parts; split it into segments and use "
		     "{\"segment\": …}.",
		     COND_MAX_NODES);
		return NULL;
	}
	const struct kind_def *kd = NULL;
	for (size_t i = 0; i < NKINDS; i++) {
		if (!json_object_get(j, kinds[i].key))
			continue;
		if (kd) {
			fail(p, kinds[i].key,
			     "A condition tests one thing but this one has both \"%s\" and \"%s\"; "
			     "put them in {\"all\": […]} or {\"any\": […]}.",
			     kd->key, kinds[i].key);
			return NULL;
		}
		kd = &kinds[i];
	}
	if (!kd) {
		const char *first = NULL;
		json_t *ignored;
		json_object_foreach ((json_t *)j, first, ignored) {
			break;
		}
		(void)ignored;
		if (!first)
			fail(p, NULL, "Empty condition: start it with one of %s.", kind_list);
		else
			fail(p, first, "Unknown key \"%.*s\": a condition starts with one of %s.", QUOTE(first),
			     kind_list);
		return NULL;
	}
	if (p->in_where && kd->kind != COND_ALL && kd->kind != COND_ANY && kd->kind != COND_NOT &&
	    kd->kind != COND_PROPERTY) {
		fail(p, kd->key,
		     "Inside \"where\" only property conditions (and all, any, not) can be used: it "
		     "filters the properties of each event.");
		return NULL;
	}
	const char *key;
	const json_t *v;
	json_object_foreach ((json_t *)j, key, v) {
		int ok = !strcmp(key, kd->key);
		for (size_t i = 0; !ok && kd->keys[i]; i++)
			ok = !strcmp(key, kd->keys[i]);
		if (ok)
			continue;
		struct buf allowed;
		buf_init(&allowed, 256);
		buf_adds(&allowed, kd->key);
		for (size_t i = 0; kd->keys[i]; i++)
			buf_addf(&allowed, ", %s", kd->keys[i]);
		fail(p, key, "Unknown key \"%.*s\" in %s; allowed: %s.", QUOTE(key), kd->what, allowed.ptr);
		buf_release(&allowed);
		return NULL;
	}
	struct cond *c = xcalloc(1, sizeof *c);
	c->kind = kd->kind;
	c->cost = kd->cost;
	if (kd->parse(p, j, c, depth) < 0) {
		cond_free(c);
		return NULL;
	}
	return c;
}

struct cond *cond_parse_at(const json_t *json, const char *path, struct cairn_err *err)
{
	struct parser p;
	struct cairn_err local = CAIRN_ERR_INIT;
	memset(&p, 0, sizeof p);
	buf_init(&p.path, 4096);
	buf_adds(&p.path, path ? path : "");
	p.err = err ? err : &local;
	struct cond *c = parse_node(&p, json, 1);
	buf_release(&p.path);
	return c;
}

struct cond *cond_parse(const json_t *json, struct cairn_err *err)
{
	return cond_parse_at(json, NULL, err);
}

int cond_validate_json(const json_t *json, const char *path, struct cairn_err *err)
{
	struct cond *c = cond_parse_at(json, path, err);
	if (!c)
		return CAIRN_EUNPROC;
	cond_free(c);
	return 0;
}

enum cond_kind cond_kind(const struct cond *c)
{
	return c->kind;
}

/* ---- back to JSON ------------------------------------------------------- */

static json_t *dur_json(const struct cond_dur *d)
{
	const json_int_t vals[] = {d->weeks, d->days, d->hours, d->minutes};
	json_t *o = json_object();
	for (size_t i = 0; i < 4; i++) {
		if (vals[i])
			json_object_set_new(o, dur_units[i], json_integer(vals[i]));
	}
	return o;
}

/* Adds "op" and (when the operator has one) "value" of cmp to o. */
static void cmp_json(json_t *o, const struct cond_cmp *cmp)
{
	json_object_set_new(o, "op", json_string(cmp->def->name));
	switch (cmp->def->operand) {
	case COND_OPD_NONE: break;
	case COND_OPD_DURATION: json_object_set_new(o, "value", dur_json(&cmp->dur)); break;
	case COND_OPD_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < cmp->nlist; i++)
			json_array_append_new(a, json_deep_copy(cmp->list[i].json));
		json_object_set_new(o, "value", a);
		break;
	}
	case COND_OPD_RANGE: {
		json_t *a = json_array();
		json_array_append_new(a, json_deep_copy(cmp->v[0].json));
		json_array_append_new(a, json_deep_copy(cmp->v[1].json));
		json_object_set_new(o, "value", a);
		break;
	}
	default: json_object_set_new(o, "value", json_deep_copy(cmp->v[0].json)); break;
	}
}

static json_t *num_cmp_json(const struct cond_cmp *cmp)
{
	json_t *o = json_object();
	cmp_json(o, cmp);
	return o;
}

json_t *cond_to_json(const struct cond *c)
{
	json_t *o = json_object();
	switch (c->kind) {
	case COND_ALL:
	case COND_ANY: {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nkids; i++)
			json_array_append_new(a, cond_to_json(c->kids[i]));
		json_object_set_new(o, c->kind == COND_ALL ? "all" : "any", a);
		break;
	}
	case COND_NOT: json_object_set_new(o, "not", cond_to_json(c->kids[0])); break;
	case COND_TRAIT:
	case COND_PROPERTY:
	case COND_COMPUTED:
		json_object_set_new(o,
				    c->kind == COND_TRAIT      ? "trait"
				    : c->kind == COND_PROPERTY ? "property"
							       : "computed",
				    json_string(c->name));
		cmp_json(o, &c->cmp);
		break;
	case COND_EVENT:
		json_object_set_new(o, "event", json_string(c->name));
		if (c->where)
			json_object_set_new(o, "where", cond_to_json(c->where));
		if (c->has_count)
			json_object_set_new(o, "count", num_cmp_json(&c->count));
		if (c->has_sum) {
			json_t *s = json_object();
			json_object_set_new(s, "property", json_string(c->sum_property));
			cmp_json(s, &c->sum);
			json_object_set_new(o, "sum", s);
		}
		if (c->has_within)
			json_object_set_new(o, "within", dur_json(&c->within));
		break;
	case COND_SEGMENT: json_object_set_new(o, "segment", json_string(c->name)); break;
	case COND_TAG: json_object_set_new(o, "tag", json_string(c->name)); break;
	case COND_CONSENT:
		json_object_set_new(o, "consent", json_pack("{s:s,s:s}", "channel", c->name, "is", c->consent_is));
		break;
	case COND_SCORE:
		json_object_set_new(o, "score", json_string(c->name));
		if (c->has_percentile)
			json_object_set_new(o, "percentile", num_cmp_json(&c->percentile));
		else
			cmp_json(o, &c->cmp);
		break;
	}
	return o;
}

char *cond_to_text(const struct cond *c)
{
	json_t *j = cond_to_json(c);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return xstrdup("");
	char *out = xstrdup(s);
	free(s);
	return out;
}
