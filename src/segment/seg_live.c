/* seg_live.c — live segments: membership kept current as events arrive and
 * as time passes (seg_live.h; docs/segments.md).
 *
 *   not member --(eval true: apply/tick)--> member     emits Segment Entered
 *   member --(eval false: apply/tick)--> not member     emits Segment Exited
 *   (save / PUT recompute: same transitions, no events)
 *
 * Invariants:
 *   1. After every engine step, for each live segment S and profile P that
 *      the step touched, (P in seg_members of S) == cond_eval(S, P, now).
 *      A step re-evaluates S for the event's profile only when the event
 *      can change S's value (deps below); everything else that changes S's
 *      value is the clock, handled by seg_due.
 *   2. For a segment whose condition uses time, seg_due holds, for every
 *      evaluated profile, a time <= the next moment its value can change
 *      with the clock alone (cond_next_change); seg_live_tick re-evaluates
 *      pairs whose time has come, at most SEG_LIVE_TICK_MAX per tick.
 *   3. Emitted events carry a dedup key naming the occurrence (segment,
 *      profile, and the cause: the event id, or the tick time), so a step
 *      retried after a rollback emits the same messageId: exactly once.
 *
 * Which events can change a segment (struct live_seg.deps, from cond_visit):
 *   event clause "X"        track events named X
 *   trait                   identify, alias (merges), lifecycle
 *   tag / consent           the internal "tags" / "consent" events, identify
 *   computed, segment,      every event (computed traits read first/last
 *   or true for a user      seen; membership of another segment; a new
 *   with no data            profile must be evaluated on its first event)
 *
 * Parsed conditions are cached per workspace for the engine thread; any
 * save or archive bumps `generation` and the cache is rebuilt on the next
 * step. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "engine/engine.h"
#include "segment/seg_index.h"
#include "segment/seg_live.h"
#include "segment/segment.h"
#include "store/store_seg_live.h"

#define PROFILE_PAGE 1000

enum {
	DEP_TRAIT = 1,
	DEP_TAG = 2,
	DEP_CONSENT = 4,
	DEP_ALL = 8,
	DEP_EVENTS = 16,
};

struct live_seg {
	char *id, *name;
	struct cond *c;
	unsigned deps;
	char **events; /* names of event clauses */
	size_t nevents;
	int uses_time;
};

struct live_ws {
	int64_t ws;
	struct live_seg *segs;
	size_t n;
	struct live_ws *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_ws *cache;
static uint64_t cache_gen;
static _Atomic uint64_t generation = 1;

void seg_live_invalidate(void)
{
	atomic_fetch_add(&generation, 1);
}

/* ---- dependencies ------------------------------------------------------------ */

static int collect_dep(void *arg, const struct cond_dep *d)
{
	struct live_seg *s = arg;
	switch (d->kind) {
	case COND_TRAIT: s->deps |= DEP_TRAIT; break;
	case COND_TAG: s->deps |= DEP_TAG; break;
	case COND_CONSENT: s->deps |= DEP_CONSENT; break;
	case COND_EVENT:
		s->deps |= DEP_EVENTS;
		for (size_t i = 0; i < s->nevents; i++) {
			if (!strcmp(s->events[i], d->name))
				return 0;
		}
		s->events = xrealloc(s->events, (s->nevents + 1) * sizeof *s->events);
		s->events[s->nevents++] = xstrdup(d->name);
		break;
	case COND_PROPERTY: break; /* inside `where`: part of its event clause */
	default: /* computed, segment, score */ s->deps |= DEP_ALL; break;
	}
	return 0;
}

/* A user the workspace knows nothing about: no events, traits, tags. */
static int empty_count(void *arg, const struct cond_event_query *q, int64_t *out)
{
	*out = 0;
	return 0;
}

static int empty_sum(void *arg, const struct cond_event_query *q, double *out)
{
	*out = 0;
	return 0;
}

static int empty_oldest(void *arg, const struct cond_event_query *q, int64_t *out_ms)
{
	return 1;
}

static int empty_no(void *arg, const char *name)
{
	return 0;
}

static const char *empty_consent(void *arg, const char *channel)
{
	return "unknown";
}

static int empty_score(void *arg, const char *name, double *value, double *percentile)
{
	return 1;
}

static int empty_computed(void *arg, const char *name, json_t **value)
{
	*value = NULL;
	return 0;
}

static int true_when_empty(const struct cond *c)
{
	struct cond_ctx ctx = {
		.now_ms = 0,
		.event_count = empty_count,
		.event_sum = empty_sum,
		.event_oldest = empty_oldest,
		.has_tag = empty_no,
		.in_segment = empty_no,
		.consent = empty_consent,
		.score = empty_score,
		.computed = empty_computed,
	};
	struct cairn_err err = CAIRN_ERR_INIT;
	return cond_eval(c, &ctx, &err) != 0; /* an error: be safe, evaluate always */
}

static void seg_release(struct live_seg *s)
{
	free(s->id);
	free(s->name);
	cond_free(s->c);
	for (size_t i = 0; i < s->nevents; i++)
		free(s->events[i]);
	free(s->events);
}

static void ws_free(struct live_ws *w)
{
	for (size_t i = 0; i < w->n; i++)
		seg_release(&w->segs[i]);
	free(w->segs);
	free(w);
}

/* Compiles a stored definition; 0, or -1 when it no longer parses. */
static int seg_compile(const char *id, const char *name, const char *text, struct live_seg *out)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	struct cairn_err err = CAIRN_ERR_INIT;
	out->c = j ? cond_parse(j, &err) : NULL;
	json_decref(j);
	if (!out->c)
		return -1;
	out->id = xstrdup(id);
	out->name = xstrdup(name);
	cond_visit(out->c, collect_dep, out);
	out->uses_time = cond_uses_time(out->c);
	if (true_when_empty(out->c))
		out->deps |= DEP_ALL;
	return 0;
}

/* The workspace's live segments (cache_lock held). NULL with err. */
static struct live_ws *ws_get(struct store *st, int64_t ws, struct cairn_err *err)
{
	uint64_t gen = atomic_load(&generation);
	if (gen != cache_gen) {
		while (cache) {
			struct live_ws *next = cache->next;
			ws_free(cache);
			cache = next;
		}
		cache_gen = gen;
	}
	for (struct live_ws *w = cache; w; w = w->next) {
		if (w->ws == ws)
			return w;
	}
	struct store_segment_page p;
	if (store_segments_list(st, ws, 0, NULL, &p, err) < 0)
		return NULL;
	struct live_ws *w = xcalloc(1, sizeof *w);
	w->ws = ws;
	w->segs = xcalloc(p.n ? p.n : 1, sizeof *w->segs);
	for (size_t i = 0; i < p.n; i++) {
		if (seg_compile(p.items[i].id, p.items[i].name, p.items[i].condition, &w->segs[w->n]) == 0)
			w->n++;
	}
	store_segment_page_release(&p);
	w->next = cache;
	cache = w;
	return w;
}

static int relevant(const struct live_seg *s, const struct store_event *ev)
{
	const char *t = ev->type ? ev->type : "";
	if (s->deps & DEP_ALL)
		return 1;
	if (!strcmp(t, "track")) {
		/* tagging rules change tags and say so with these events */
		if ((s->deps & DEP_TAG) && ev->name &&
		    (!strcmp(ev->name, "Tag Added") || !strcmp(ev->name, "Tag Removed")))
			return 1;
		for (size_t i = 0; ev->name && i < s->nevents; i++) {
			if (!strcmp(s->events[i], ev->name))
				return 1;
		}
		return 0;
	}
	if (!strcmp(t, "identify"))
		return (s->deps & (DEP_TRAIT | DEP_CONSENT | DEP_TAG)) != 0;
	if (!strcmp(t, "alias"))
		return s->deps != 0;
	if (!strcmp(t, "tags"))
		return (s->deps & DEP_TAG) != 0;
	if (!strcmp(t, "consent"))
		return (s->deps & DEP_CONSENT) != 0;
	if (!strcmp(t, "lifecycle"))
		return (s->deps & DEP_TRAIT) != 0;
	return 0;
}

/* ---- evaluation ---------------------------------------------------------------- */

static int in_segment(void *arg, const char *segment_id)
{
	struct seg_ctx *x = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	return store_seg_member_get(x->st, x->ws, segment_id, x->profile_id, NULL, &err);
}

static int ctx_open(struct seg_ctx *sc, struct store *st, int64_t ws, int64_t pid, int64_t now, struct cairn_err *err)
{
	int rc = seg_ctx_init(sc, st, ws, pid, NULL, err);
	if (rc < 0)
		return rc;
	sc->cond.now_ms = now;
	sc->cond.in_segment = in_segment;
	return 0;
}

/* What one evaluation decided. */
enum change { CH_NONE, CH_ENTER, CH_EXIT };

/* Evaluates s for the profile of sc and stores the result: membership and
 * the next due time. *ch (OUT) says what changed. */
static int eval_one(struct store *st, int64_t ws, const char *id, const struct cond *c, int uses_time,
		    struct seg_ctx *sc, int64_t now, enum change *ch, struct cairn_err *err)
{
	*ch = CH_NONE;
	int64_t pid = sc->profile_id;
	int yes = cond_eval(c, &sc->cond, err);
	if (yes < 0)
		return yes;
	int was = store_seg_member_get(st, ws, id, pid, NULL, err);
	if (was < 0)
		return was;
	if (yes && !was) {
		if (store_seg_member_add(st, ws, id, pid, now, err) < 0)
			return CAIRN_EIO;
		*ch = CH_ENTER;
	} else if (!yes && was) {
		if (store_seg_member_remove(st, ws, id, pid, now, err) < 0)
			return CAIRN_EIO;
		*ch = CH_EXIT;
	}
	if (!uses_time)
		return 0;
	int64_t next = INT64_MAX;
	int rc = cond_next_change(c, &sc->cond, &next, err);
	if (rc < 0)
		return rc;
	if (next <= now)
		next = now + 1;
	return store_seg_due_set(st, ws, id, pid, next, err);
}

static int emit(struct store *st, int64_t ws, int64_t pid, const struct live_seg *s, enum change ch, const char *cause,
		int64_t ts, struct cairn_err *err)
{
	if (ch == CH_NONE)
		return 0;
	char key[512];
	snprintf(key, sizeof key, "seg-%s:%s:%lld:%s", ch == CH_ENTER ? "enter" : "exit", s->id, (long long)pid, cause);
	json_t *props = json_pack("{s:s,s:s}", "segment_id", s->id, "segment_name", s->name);
	return engine_emit(st, ws, pid, ch == CH_ENTER ? "Segment Entered" : "Segment Exited", props, key, ts, err);
}

int seg_live_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	pthread_mutex_lock(&cache_lock);
	struct live_ws *w = ws_get(st, ev->workspace_id, err);
	int rc = w ? 0 : CAIRN_EIO;
	struct seg_ctx sc;
	int open = 0;
	int64_t now = 0;
	char cause[32];
	snprintf(cause, sizeof cause, "e%lld", (long long)ev->id);
	for (size_t i = 0; rc == 0 && w && i < w->n; i++) {
		const struct live_seg *s = &w->segs[i];
		if (!relevant(s, ev))
			continue;
		if (!open) {
			now = clock_now_ms();
			rc = ctx_open(&sc, st, ev->workspace_id, profile_id, now, err);
			if (rc < 0)
				break;
			open = 1;
		}
		enum change ch;
		rc = eval_one(st, ev->workspace_id, s->id, s->c, s->uses_time, &sc, now, &ch, err);
		if (rc == 0)
			rc = emit(st, ev->workspace_id, profile_id, s, ch, cause, now, err);
	}
	if (open)
		seg_ctx_release(&sc);
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

static const struct live_seg *seg_find(const struct live_ws *w, const char *id)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!strcmp(w->segs[i].id, id))
			return &w->segs[i];
	}
	return NULL;
}

int seg_live_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	struct store_seg_due *due;
	size_t n;
	if (store_seg_due_list(st, now_ms, SEG_LIVE_TICK_MAX, &due, &n, err) < 0)
		return CAIRN_EIO;
	pthread_mutex_lock(&cache_lock);
	int rc = 0;
	char cause[32];
	snprintf(cause, sizeof cause, "t%lld", (long long)now_ms);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct store_seg_due *d = &due[i];
		struct live_ws *w = ws_get(st, d->ws, err);
		if (!w) {
			rc = CAIRN_EIO;
			break;
		}
		const struct live_seg *s = seg_find(w, d->seg);
		if (!s) { /* archived, or no longer parses */
			rc = store_seg_due_set(st, d->ws, d->seg, d->profile_id, INT64_MAX, err);
			continue;
		}
		struct seg_ctx sc;
		struct cairn_err e = CAIRN_ERR_INIT;
		int r = ctx_open(&sc, st, d->ws, d->profile_id, now_ms, &e);
		if (r == CAIRN_ENOTFOUND) { /* merged away or erased */
			rc = store_seg_profile_forget(st, d->ws, d->profile_id, now_ms, err);
			continue;
		}
		if (r < 0) {
			*err = e;
			rc = r;
			break;
		}
		enum change ch;
		rc = eval_one(st, d->ws, s->id, s->c, s->uses_time, &sc, now_ms, &ch, err);
		seg_ctx_release(&sc);
		if (rc == 0)
			rc = emit(st, d->ws, d->profile_id, s, ch, cause, now_ms, err);
	}
	pthread_mutex_unlock(&cache_lock);
	store_seg_due_free(due, n);
	return rc;
}

/* ---- definitions (the API) ------------------------------------------------------ */

struct check {
	struct store *st;
	int64_t ws;
	const char *self;
	struct cairn_err *err;
};

static int check_dep(void *arg, const struct cond_dep *d)
{
	struct check *k = arg;
	if (d->kind == COND_PROPERTY && !d->in_where)
		return cairn_err_set(k->err, CAIRN_EUNPROC, "invalid_condition", "condition",
				     "A segment describes users, not one event: \"property\" conditions are only "
				     "allowed inside an event's \"where\" (property '%s').",
				     d->name);
	if (d->kind != COND_SEGMENT)
		return 0;
	if (k->self && !strcmp(d->name, k->self))
		return cairn_err_set(k->err, CAIRN_EUNPROC, "invalid_condition", "condition",
				     "A segment cannot contain itself ('%s').", d->name);
	struct store_segment seg;
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = store_segment_get(k->st, k->ws, d->name, &seg, &e);
	if (rc == 0) {
		store_segment_release(&seg);
		return 0;
	}
	if (rc == CAIRN_ENOTFOUND)
		return cairn_err_set(k->err, CAIRN_EUNPROC, "invalid_condition", "condition",
				     "The condition uses segment '%s', which does not exist in this workspace.",
				     d->name);
	*k->err = e;
	return rc;
}

int seg_live_check(struct store *st, int64_t ws, const struct cond *c, const char *self_id, struct cairn_err *err)
{
	struct check k = {st, ws, self_id, err};
	return cond_visit(c, check_dep, &k);
}

/* Evaluates id for every profile of ws (inside a transaction). */
static int recompute(struct store *st, int64_t ws, const char *id, const struct cond *c, int64_t now,
		     struct cairn_err *err)
{
	int uses_time = cond_uses_time(c);
	int64_t *ids = xmalloc(PROFILE_PAGE * sizeof *ids);
	int64_t after = 0;
	size_t n;
	int rc = 0;
	do {
		rc = store_seg_profiles(st, ws, after, ids, PROFILE_PAGE, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct seg_ctx sc;
			rc = ctx_open(&sc, st, ws, ids[i], now, err);
			if (rc < 0)
				break;
			enum change ch;
			rc = eval_one(st, ws, id, c, uses_time, &sc, now, &ch, err);
			seg_ctx_release(&sc);
		}
		if (n)
			after = ids[n - 1];
	} while (rc == 0 && n == PROFILE_PAGE);
	free(ids);
	return rc;
}

int seg_live_save(struct store *st, int64_t ws, const char *id, const char *name, const struct cond *c, int create,
		  int64_t now, struct cairn_err *err)
{
	char *text = cond_to_text(c);
	int rc = store_begin(st, err);
	if (rc < 0) {
		free(text);
		return rc;
	}
	rc = create ? store_segment_insert(st, ws, id, name, text, now, err)
		    : store_segment_update(st, ws, id, name, text, now, err);
	free(text);
	if (rc == 0)
		rc = seg_counters_register(st, ws, c, err); /* `where` filters answered from counters */
	if (rc == 0)
		rc = store_seg_due_clear(st, ws, id, err);
	if (rc == 0)
		rc = recompute(st, ws, id, c, now, err);
	if (rc == 0)
		rc = store_seg_recount(st, ws, id, now, err);
	if (rc == 0) {
		/* bumped while holding the write lock: the engine's next step, which
		 * can only begin after this commit, rebuilds its cache */
		seg_live_invalidate();
		rc = store_commit(st, err);
	}
	if (rc < 0)
		store_rollback(st);
	seg_live_invalidate();
	return rc;
}

int seg_live_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	rc = store_segment_archive(st, ws, id, now, err);
	if (rc == 0) {
		seg_live_invalidate();
		rc = store_commit(st, err);
	}
	if (rc < 0)
		store_rollback(st);
	seg_live_invalidate();
	return rc;
}

static int preview_each(struct store *st, int64_t ws, const struct cond *c, int64_t now, int64_t *count,
			json_t *sample, struct cairn_err *err);

struct decide {
	struct store *st;
	int64_t ws, now;
	const struct cond *c;
};

/* For the index: one profile it could not settle, evaluated in full. */
static int decide_one(void *arg, int64_t pid, int *yes, struct cairn_err *err)
{
	struct decide *d = arg;
	struct seg_ctx sc;
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = ctx_open(&sc, d->st, d->ws, pid, d->now, &e);
	if (rc == CAIRN_ENOTFOUND)
		return rc; /* merged away meanwhile */
	if (rc < 0) {
		*err = e;
		return rc;
	}
	rc = cond_eval(d->c, &sc.cond, err);
	seg_ctx_release(&sc);
	if (rc < 0)
		return rc;
	*yes = rc;
	return 0;
}

static void sample_labels(struct store *st, const int64_t *ids, size_t n, json_t *sample)
{
	for (size_t i = 0; i < n; i++) {
		char *label = store_seg_profile_label(st, ids[i]);
		json_array_append_new(sample, label ? json_string(label) : json_null());
		free(label);
	}
}

int seg_live_preview(struct store *st, int64_t ws, const struct cond *c, int64_t now, int64_t *count, json_t *sample,
		     struct cairn_err *err)
{
	struct seg_index *ix = seg_index_of(st);
	if (ix) {
		struct decide d = {st, ws, now, c};
		int64_t ids[SEG_LIVE_SAMPLE];
		size_t n = 0;
		int rc = seg_index_count(ix, ws, c, now, decide_one, &d, count, ids, SEG_LIVE_SAMPLE, &n, err);
		if (rc == 0)
			sample_labels(st, ids, n, sample);
		return rc;
	}
	return preview_each(st, ws, c, now, count, sample, err);
}

/* Without an index (tools, tests): every profile evaluated in turn. */
static int preview_each(struct store *st, int64_t ws, const struct cond *c, int64_t now, int64_t *count,
			json_t *sample, struct cairn_err *err)
{
	int64_t *ids = xmalloc(PROFILE_PAGE * sizeof *ids);
	int64_t after = 0;
	size_t n;
	int rc = 0;
	*count = 0;
	do {
		rc = store_seg_profiles(st, ws, after, ids, PROFILE_PAGE, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct seg_ctx sc;
			struct cairn_err e = CAIRN_ERR_INIT;
			int r = ctx_open(&sc, st, ws, ids[i], now, &e);
			if (r == CAIRN_ENOTFOUND)
				continue; /* merged away meanwhile */
			if (r < 0) {
				*err = e;
				rc = r;
				break;
			}
			int yes = cond_eval(c, &sc.cond, err);
			seg_ctx_release(&sc);
			if (yes < 0) {
				rc = yes;
				break;
			}
			if (!yes)
				continue;
			(*count)++;
			if (json_array_size(sample) < SEG_LIVE_SAMPLE)
				sample_labels(st, &ids[i], 1, sample);
		}
		if (n)
			after = ids[n - 1];
	} while (rc == 0 && n == PROFILE_PAGE);
	free(ids);
	return rc;
}
