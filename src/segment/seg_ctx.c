/* seg_ctx.c — the struct cond_ctx provider over one profile (segment.h).
 *
 * Every event query reads a series of day buckets (store_seg_series_count):
 * a name-only query, or a sum of `revenue`, the seg_daily buckets of the
 * name; a `where` filter or a sum of another property, the buckets of the
 * counter registered for it (segment.h invariant 5). A day the window cuts
 * is finished from the timeline with the same filter. Only a query no
 * counter answers (a preview of an unsaved condition) reads the user's
 * events of that name in the window (store_seg_scan) — correct, but its
 * cost grows with the user's history. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "segment/segment.h"
#include "store/store_segment.h"

struct scan {
	const struct cond_event_query *q;
	int64_t count;
	double sum;
	int64_t oldest;
	int stop_at_first;
};

static int scan_one(int64_t ts, const json_t *properties, void *arg)
{
	struct scan *sc = arg;
	double v;
	if (!seg_event_matches(sc->q->where, sc->q->property, properties, &v))
		return 0;
	sc->count++;
	sc->sum += v;
	if (sc->stop_at_first) {
		sc->oldest = ts;
		return 1;
	}
	return 0;
}

/* A counter's test of one event of a cut day: the query's own filter. */
static int match_query(const json_t *properties, double *value, void *arg)
{
	const struct cond_event_query *q = arg;
	return seg_event_matches(q->where, q->property, properties, value);
}

/* The series that answers q (q->property set for sums): 0 with *sr, 1 when
 * none does (the slow path), <0 on failure. */
static int series_for(struct seg_ctx *x, const struct cond_event_query *q, struct store_seg_series *sr,
		      struct cairn_err *err)
{
	memset(sr, 0, sizeof *sr);
	sr->name = q->name;
	if (!seg_counter_needed(q->where, q->property))
		return 0;
	int rc = store_seg_counter_find(x->st, x->ws, q->name, q->where_key, q->property, &sr->counter_id, err);
	sr->match = match_query;
	sr->arg = (void *)q;
	return rc;
}

/* The slow path: the user's events of q's name in its window, each tested. */
static int scan(struct seg_ctx *x, const struct cond_event_query *q, struct scan *sc, struct cairn_err *err)
{
	sc->q = q;
	return store_seg_scan(x->st, x->ws, x->profile_id, q->name, q->since_ms, q->until_ms, scan_one, sc, err);
}

static int ev_count(void *arg, const struct cond_event_query *q, int64_t *out)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_seg_series sr;
	int rc = series_for(x, q, &sr, &err);
	if (rc == 0)
		return store_seg_series_count(x->st, x->ws, x->profile_id, &sr, q->since_ms, q->until_ms, out, NULL,
					      &err);
	struct scan sc = {0};
	if (rc < 0 || scan(x, q, &sc, &err) < 0)
		return -1;
	*out = sc.count;
	return 0;
}

static int ev_sum(void *arg, const struct cond_event_query *q, double *out)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_seg_series sr;
	int rc = series_for(x, q, &sr, &err);
	if (rc == 0) {
		int64_t n;
		return store_seg_series_count(x->st, x->ws, x->profile_id, &sr, q->since_ms, q->until_ms, &n, out,
					      &err);
	}
	struct scan sc = {0};
	if (rc < 0 || scan(x, q, &sc, &err) < 0)
		return -1;
	*out = sc.sum;
	return 0;
}

static int ev_oldest(void *arg, const struct cond_event_query *q, int64_t *out_ms)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_seg_series sr;
	int rc = series_for(x, q, &sr, &err);
	if (rc == 0)
		return store_seg_series_oldest(x->st, x->ws, x->profile_id, &sr, q->since_ms, q->until_ms, out_ms,
					       &err);
	struct scan sc = {.stop_at_first = 1};
	if (rc < 0 || (rc = scan(x, q, &sc, &err)) < 0)
		return -1;
	if (rc == 0)
		return 1;
	*out_ms = sc.oldest;
	return 0;
}

static int has_tag(void *arg, const char *tag)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	return store_seg_has_tag(x->st, x->ws, x->profile_id, tag, &err);
}

static const char *consent(void *arg, const char *channel)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	return store_seg_consent(x->st, x->ws, x->profile_id, channel, &err);
}

/* No scores exist yet: every user's score is unknown (a missing value). */
static int score(void *arg, const char *name, double *value, double *percentile)
{
	return 1;
}

static int computed(void *arg, const char *name, json_t **value)
{
	struct seg_ctx *x = arg;
	if (!x->computed || x->computed_at != x->cond.now_ms) {
		struct cairn_err err = CAIRN_ERR_INIT;
		json_t *c = seg_computed_json(x->st, x->ws, x->profile_id, x->cond.now_ms, &err);
		if (!c)
			return -1;
		json_decref(x->computed);
		x->computed = c;
		x->computed_at = x->cond.now_ms;
	}
	*value = json_object_get(x->computed, name);
	return 0;
}

int seg_ctx_init(struct seg_ctx *ctx, struct store *st, int64_t ws, int64_t profile_id, json_t *event,
		 struct cairn_err *err)
{
	memset(ctx, 0, sizeof *ctx);
	struct store_profile p;
	if (store_profile_get(st, profile_id, &p, err) < 0)
		return err->code ? err->code : CAIRN_EIO;
	if (p.workspace_id != ws) {
		store_profile_release(&p);
		return cairn_err_set(err, CAIRN_ENOTFOUND, "user_not_found", "", "No such user in this workspace.");
	}
	ctx->traits = p.traits;
	p.traits = NULL;
	store_profile_release(&p);
	ctx->st = st;
	ctx->ws = ws;
	ctx->profile_id = profile_id;
	ctx->cond.now_ms = clock_now_ms();
	ctx->cond.traits = ctx->traits;
	ctx->cond.event = event;
	ctx->cond.arg = ctx;
	ctx->cond.event_count = ev_count;
	ctx->cond.event_sum = ev_sum;
	ctx->cond.event_oldest = ev_oldest;
	ctx->cond.has_tag = has_tag;
	ctx->cond.in_segment = NULL; /* segments: not yet */
	ctx->cond.consent = consent;
	ctx->cond.score = score;
	ctx->cond.computed = computed;
	return 0;
}

void seg_ctx_release(struct seg_ctx *ctx)
{
	if (!ctx)
		return;
	json_decref(ctx->traits);
	json_decref(ctx->computed);
	memset(ctx, 0, sizeof *ctx);
}

int seg_eval_user(struct store *st, int64_t ws, const char *id, const struct cond *c, int *result,
		  struct cairn_err *err)
{
	int64_t pid;
	if (store_profile_resolve(st, ws, id, &pid, err) < 0)
		return err->code;
	struct seg_ctx sc;
	int rc = seg_ctx_init(&sc, st, ws, pid, NULL, err);
	if (rc < 0)
		return rc;
	rc = cond_eval(c, &sc.cond, err);
	seg_ctx_release(&sc);
	if (rc < 0)
		return rc;
	*result = rc;
	return 0;
}
