/* cond_eval.c — evaluating a condition against a context, and the
 * introspection the engines need (dependencies, windows, next change).
 *
 * The evaluator reads traits and the current event from JSON and asks the
 * context for everything else. It allocates nothing on the hot path apart
 * from what callbacks do, and never writes to the tree (cond.h invariant 1).
 *
 * Time: an event clause with `within` W looks at events with timestamp in
 * [now − W, now]; within_last W on a date t is true for now − W ≤ t ≤ now.
 * Both bounds are inclusive, so "no order within 30 days" becomes true at
 * last_order + 30 days + 1 ms — the time cond_next_change reports. */
#include <string.h>

#include "cond/cond_int.h"
#include "core/xalloc.h"

struct evaluator {
	const struct cond_ctx *ctx; /* NULL in where mode */
	const json_t *where_props;  /* where mode: the event's properties */
	struct cairn_err *err;
};

static const char *kind_noun(enum cond_kind k)
{
	switch (k) {
	case COND_EVENT: return "past events";
	case COND_SEGMENT: return "segments";
	case COND_TAG: return "tags";
	case COND_CONSENT: return "consent";
	case COND_SCORE: return "scores";
	case COND_COMPUTED: return "computed traits";
	default: return "this";
	}
}

static int missing_cb(struct evaluator *ev, const struct cond *c)
{
	return cairn_err_set(ev->err, CAIRN_EINVAL, "condition_unsupported", "",
			     "Conditions on %s cannot be used here.", kind_noun(c->kind));
}

static int cb_failed(struct evaluator *ev, const struct cond *c)
{
	return cairn_err_set(ev->err, CAIRN_EIO, "condition_failed", "",
			     "Could not read %s \"%s\" to evaluate a condition.", kind_noun(c->kind), c->name);
}

static void event_query(const struct cond *c, int64_t now_ms, struct cond_event_query *q)
{
	memset(q, 0, sizeof *q);
	q->name = c->name;
	q->where = c->where;
	q->where_key = c->where_key;
	cond_leaf_event_window(c, now_ms, &q->since_ms, &q->until_ms);
}

static int eval_event(struct evaluator *ev, const struct cond *c)
{
	const struct cond_ctx *ctx = ev->ctx;
	struct cond_event_query q;
	event_query(c, ctx->now_ms, &q);
	if (c->has_count || !c->has_sum) {
		int64_t n = 0;
		if (!ctx->event_count)
			return missing_cb(ev, c);
		if (ctx->event_count(ctx->arg, &q, &n) < 0)
			return cb_failed(ev, c);
		if (!cond_event_count_ok(c, n))
			return 0;
	}
	if (c->has_sum) {
		double sum = 0;
		if (!ctx->event_sum)
			return missing_cb(ev, c);
		q.property = c->sum_property;
		if (ctx->event_sum(ctx->arg, &q, &sum) < 0)
			return cb_failed(ev, c);
		return cond_cmp_test_num(&c->sum, sum);
	}
	return 1;
}

static int eval_score(struct evaluator *ev, const struct cond *c)
{
	const struct cond_ctx *ctx = ev->ctx;
	double value = 0, pct = 0;
	if (!ctx->score)
		return missing_cb(ev, c);
	int rc = ctx->score(ctx->arg, c->name, &value, &pct);
	if (rc < 0)
		return cb_failed(ev, c);
	const struct cond_cmp *cmp = c->has_percentile ? &c->percentile : &c->cmp;
	if (rc > 0) /* no such score: a missing value (only ne holds) */
		return cmp->def->op == COND_OP_NE;
	return cond_cmp_test_num(cmp, c->has_percentile ? pct : value);
}

static int eval_node(struct evaluator *ev, const struct cond *c)
{
	const struct cond_ctx *ctx = ev->ctx;
	int r;
	switch (c->kind) {
	case COND_ALL:
	case COND_ANY: {
		int want = c->kind == COND_ANY; /* the value that decides */
		for (size_t i = 0; i < c->nkids; i++) {
			r = eval_node(ev, c->kids[c->order[i]]);
			if (r < 0)
				return r;
			if (r == want)
				return want;
		}
		return !want;
	}
	case COND_NOT: r = eval_node(ev, c->kids[0]); return r < 0 ? r : !r;
	case COND_PROPERTY: {
		const json_t *props = ev->where_props;
		if (ctx)
			props = ctx->event ? json_object_get(ctx->event, "properties") : NULL;
		return cond_cmp_test(&c->cmp, cond_lookup(props, c->name), ctx ? ctx->now_ms : 0);
	}
	default: break;
	}
	if (!ctx)
		return 0; /* where mode: only property leaves have a meaning */
	switch (c->kind) {
	case COND_TRAIT: return cond_cmp_test(&c->cmp, cond_lookup(ctx->traits, c->name), ctx->now_ms);
	case COND_COMPUTED: {
		json_t *v = NULL;
		if (!ctx->computed)
			return missing_cb(ev, c);
		if (ctx->computed(ctx->arg, c->name, &v) < 0)
			return cb_failed(ev, c);
		return cond_cmp_test(&c->cmp, v, ctx->now_ms);
	}
	case COND_EVENT: return eval_event(ev, c);
	case COND_SEGMENT:
	case COND_TAG:
		if (!(c->kind == COND_TAG ? ctx->has_tag : ctx->in_segment))
			return missing_cb(ev, c);
		r = c->kind == COND_TAG ? ctx->has_tag(ctx->arg, c->name) : ctx->in_segment(ctx->arg, c->name);
		return r < 0 ? cb_failed(ev, c) : r > 0;
	case COND_CONSENT: {
		if (!ctx->consent)
			return missing_cb(ev, c);
		const char *s = ctx->consent(ctx->arg, c->name);
		return !strcmp(s ? s : "unknown", c->consent_is);
	}
	case COND_SCORE: return eval_score(ev, c);
	default: return 0;
	}
}

int cond_eval(const struct cond *c, const struct cond_ctx *ctx, struct cairn_err *err)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct evaluator ev = {ctx, NULL, err ? err : &local};
	return eval_node(&ev, c);
}

int cond_eval_where(const struct cond *where, const json_t *properties)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct evaluator ev = {NULL, properties, &local};
	return eval_node(&ev, where) == 1;
}

/* ---- introspection ------------------------------------------------------ */

static int uses_now(const struct cond *c)
{
	return c->has_cmp && c->cmp.def->operand == COND_OPD_DURATION;
}

void cond_dep_fill(const struct cond *c, int in_where, struct cond_dep *d)
{
	memset(d, 0, sizeof *d);
	d->kind = c->kind;
	d->name = c->name;
	d->node = c;
	d->in_where = in_where;
	d->uses_now = uses_now(c);
	if (c->kind == COND_EVENT) {
		d->where = c->where;
		d->where_key = c->where_key;
		d->window_ms = c->has_within ? c->within.ms : 0;
		d->sum_property = c->has_sum ? c->sum_property : NULL;
		d->has_count = c->has_count || !c->has_sum;
	}
}

static int visit(const struct cond *c, cond_visit_fn fn, void *arg, int in_where)
{
	if (c->kind == COND_ALL || c->kind == COND_ANY || c->kind == COND_NOT) {
		for (size_t i = 0; i < c->nkids; i++) {
			int r = visit(c->kids[i], fn, arg, in_where);
			if (r)
				return r;
		}
		return 0;
	}
	struct cond_dep d;
	cond_dep_fill(c, in_where, &d);
	int r = fn(arg, &d);
	if (r)
		return r;
	return c->where ? visit(c->where, fn, arg, 1) : 0;
}

int cond_visit(const struct cond *c, cond_visit_fn fn, void *arg)
{
	return visit(c, fn, arg, 0);
}

int64_t cond_max_window_ms(const struct cond *c)
{
	int64_t m = 0;
	for (size_t i = 0; i < c->nkids; i++) {
		int64_t k = cond_max_window_ms(c->kids[i]);
		m = k > m ? k : m;
	}
	if (c->has_within && c->within.ms > m)
		m = c->within.ms;
	if (uses_now(c) && c->cmp.dur.ms > m)
		m = c->cmp.dur.ms;
	return m;
}

int cond_uses_time(const struct cond *c)
{
	return cond_max_window_ms(c) > 0;
}

/* The next change of a within_last / not_within_last leaf whose actual date
 * is `actual`: it enters the window at t (if in the future) and leaves it at
 * t + W + 1. INT64_MAX when neither lies ahead. */
static int64_t date_window_change(const json_t *actual, int64_t dur_ms, int64_t now_ms)
{
	int64_t t;
	if (!actual || cond_read_date(actual, &t) < 0)
		return INT64_MAX;
	if (t > now_ms)
		return t;
	int64_t out = cond_sat_add(cond_sat_add(t, dur_ms), 1);
	return out > now_ms ? out : INT64_MAX;
}

static int next_change(struct evaluator *ev, const struct cond *c, int64_t *best)
{
	const struct cond_ctx *ctx = ev->ctx;
	int64_t cand = INT64_MAX;
	for (size_t i = 0; i < c->nkids; i++) {
		int r = next_change(ev, c->kids[i], best);
		if (r < 0)
			return r;
	}
	if (uses_now(c)) {
		const json_t *actual = NULL;
		if (c->kind == COND_TRAIT) {
			actual = cond_lookup(ctx->traits, c->name);
		} else if (c->kind == COND_PROPERTY) {
			actual = cond_lookup(ctx->event ? json_object_get(ctx->event, "properties") : NULL, c->name);
		} else if (c->kind == COND_COMPUTED) {
			json_t *v = NULL;
			if (!ctx->computed)
				return missing_cb(ev, c);
			if (ctx->computed(ctx->arg, c->name, &v) < 0)
				return cb_failed(ev, c);
			actual = v;
		}
		cand = date_window_change(actual, c->cmp.dur.ms, ctx->now_ms);
	} else if (c->kind == COND_EVENT && c->has_within) {
		cand = cond_sat_add(ctx->now_ms, 1);
		if (ctx->event_oldest) {
			struct cond_event_query q;
			int64_t oldest = 0;
			event_query(c, ctx->now_ms, &q);
			int r = ctx->event_oldest(ctx->arg, &q, &oldest);
			if (r < 0)
				return cb_failed(ev, c);
			if (r > 0) {
				cand = INT64_MAX; /* nothing in the window: only a new event changes it */
			} else {
				int64_t out = cond_sat_add(cond_sat_add(oldest, c->within.ms), 1);
				cand = out > ctx->now_ms ? out : cond_sat_add(ctx->now_ms, 1);
			}
		}
	}
	if (cand < *best)
		*best = cand;
	return 0;
}

int cond_next_change(const struct cond *c, const struct cond_ctx *ctx, int64_t *out_ms, struct cairn_err *err)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct evaluator ev = {ctx, NULL, err ? err : &local};
	int64_t best = INT64_MAX;
	int r = next_change(&ev, c, &best);
	if (r < 0)
		return r;
	*out_ms = best;
	return 0;
}
