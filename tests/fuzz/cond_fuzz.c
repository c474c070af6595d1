/* cond_fuzz.c — libFuzzer harness for the condition language.
 *
 * Input layout: "condition-json\0traits-json", the second part optional.
 * The condition is parsed; when valid it is evaluated against a fake
 * context (traits from the input, a fixed current event, deterministic
 * callbacks that run `where` filters on sample properties), visited, asked
 * for its next change, and round-tripped through cond_to_json, which must be
 * a fixed point. Any crash, leak, sanitizer report or abort is a bug; an
 * invalid condition is a normal outcome but must be reported as a 422 with
 * a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/err.h"
#include "core/jsonx.h"

#define NOW_MS 1772413200000LL

static json_t *sample_props;

static int64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (int64_t)(h >> 1);
}

static int f_count(void *arg, const struct cond_event_query *q, int64_t *out)
{
	(void)arg;
	if (q->since_ms < 0 || q->since_ms > q->until_ms || !q->where_key)
		abort();
	int match = q->where ? cond_eval_where(q->where, sample_props) : 1;
	*out = match ? hash(q->name) % 5 : 0;
	return 0;
}

static int f_sum(void *arg, const struct cond_event_query *q, double *out)
{
	(void)arg;
	if (!q->property)
		abort();
	*out = (double)(hash(q->property) % 100000);
	return 0;
}

static int f_oldest(void *arg, const struct cond_event_query *q, int64_t *out)
{
	(void)arg;
	if (hash(q->name) % 3 == 0)
		return 1;
	*out = q->since_ms + (q->until_ms - q->since_ms) / 2;
	return 0;
}

static int f_tag(void *arg, const char *s)
{
	(void)arg;
	return hash(s) % 2;
}

static int f_segment(void *arg, const char *s)
{
	(void)arg;
	return hash(s) % 7 == 0 ? -1 : (int)(hash(s) % 2);
}

static const char *f_consent(void *arg, const char *channel)
{
	(void)arg;
	static const char *states[] = {"subscribed", "unsubscribed", "unknown", NULL};
	return states[hash(channel) % 4];
}

static int f_score(void *arg, const char *name, double *v, double *p)
{
	(void)arg;
	if (hash(name) % 4 == 0)
		return 1;
	*v = (double)(hash(name) % 101);
	*p = (double)(hash(name) % 97);
	return 0;
}

static json_t *computed_vals;

static int f_computed(void *arg, const char *name, json_t **v)
{
	(void)arg;
	*v = json_object_get(computed_vals, name);
	return 0;
}

static int f_visit(void *arg, const struct cond_dep *d)
{
	(void)arg;
	if (!d->name || d->kind == COND_ALL || d->kind == COND_ANY || d->kind == COND_NOT)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sample_props) {
		sample_props = json_loads("{\"category\":\"shoes\",\"revenue\":50000,\"url\":\"https://x/products/1\","
					  "\"link_kind\":\"purchase\",\"카테고리\":\"신발\",\"tags\":[\"a\",\"b\"]}",
					  0, NULL);
		computed_vals = json_loads("{\"consecutive_unopened_emails\":3,\"last_order_at\":1769907600000,"
					   "\"days_since_last_order\":\"29\",\"rfm\":null}",
					   0, NULL);
	}
	const char *p = (const char *)data;
	const char *z = memchr(p, '\0', size);
	size_t clen = z ? (size_t)(z - p) : size;
	json_t *j = jsonx_loadb(p, clen, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	json_t *traits = z ? jsonx_loadb(z + 1, size - clen - 1, JSON_DECODE_ANY, NULL) : NULL;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = cond_parse_at(j, (clen & 1) ? "condition" : NULL, &err);
	json_decref(j);
	if (!c) {
		if (err.code != CAIRN_EUNPROC || !err.message[0])
			abort();
		/* the error goes out as JSON: message and path must stay UTF-8 */
		json_t *m = json_pack("{s:s,s:s}", "message", err.message, "field", err.field);
		if (!m)
			abort();
		json_decref(m);
		json_decref(traits);
		return 0;
	}
	json_t *event = json_pack("{s:s,s:O}", "event", "Order Completed", "properties", sample_props);
	struct cond_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.now_ms = NOW_MS;
	ctx.traits = traits;
	ctx.event = event;
	ctx.event_count = f_count;
	ctx.event_sum = f_sum;
	ctx.event_oldest = f_oldest;
	ctx.has_tag = f_tag;
	ctx.in_segment = f_segment;
	ctx.consent = f_consent;
	ctx.score = f_score;
	ctx.computed = f_computed;
	int r = cond_eval(c, &ctx, &err);
	if (r != 0 && r != 1 && r != CAIRN_EIO)
		abort();
	cairn_err_clear(&err);
	int64_t next = 0;
	if (cond_next_change(c, &ctx, &next, &err) == 0 && next <= NOW_MS)
		abort();
	cond_visit(c, f_visit, NULL);
	if (cond_uses_time(c) != (cond_max_window_ms(c) > 0))
		abort();
	cond_eval_where(c, sample_props);
	/* the normalized form is a fixed point */
	json_t *n1 = cond_to_json(c);
	struct cond *c2 = cond_parse(n1, &err);
	if (!c2)
		abort();
	char *t1 = cond_to_text(c), *t2 = cond_to_text(c2);
	if (strcmp(t1, t2))
		abort();
	free(t1);
	free(t2);
	json_decref(n1);
	cond_free(c2);
	cond_free(c);
	json_decref(event);
	json_decref(traits);
	return 0;
}
