/* seg_aggregates.c — the engine's applier for per-user aggregates
 * (segment.h invariants 1–3) and registered counters (invariant 5).
 *
 * Budget per track event: one UPSERT of its seg_daily bucket (two for the
 * three email events), plus one UPSERT per registered counter of its name
 * whose filter holds. The event's JSON is parsed at most once: only when a
 * counter of its name exists, or its bytes mention "revenue".
 *
 * Counter definitions are cached per workspace (parsed filters) for the
 * engine thread. A registration bumps `generation` while its transaction
 * holds state.db's write lock, and the caller bumps it again after the
 * commit (seg_counters_invalidate). The engine reads the cache only inside
 * its own write transaction, which cannot overlap the registering one, so
 * the reload it triggers sees the committed (or rolled back) definitions:
 * a counter is never missing from the cache once its backfill is visible. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "segment/segment.h"
#include "store/store_segment.h"

/* One registered counter, compiled. */
struct ctr {
	int64_t id;
	char *name;
	struct cond *where; /* NULL: no filter */
	char *property;	    /* NULL: counted only */
};

struct ctr_ws {
	struct store *st;
	int64_t ws;
	struct ctr *v;
	size_t n;
	struct ctr_ws *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctr_ws *cache;
static uint64_t cache_gen;
static _Atomic uint64_t generation = 1;

void seg_counters_invalidate(void)
{
	atomic_fetch_add(&generation, 1);
}

/* ---- one event against a filter ----------------------------------------------- */

/* A property by key, or else by dotted path ("address.city"), as the
 * condition language reads names. Borrowed; NULL when absent. */
static const json_t *lookup(const json_t *obj, const char *path)
{
	const json_t *v = json_object_get(obj, path);
	if (v || !strchr(path, '.'))
		return v;
	const char *p = path;
	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		obj = json_object_getn(obj, p, n);
		p = dot ? dot + 1 : p + n;
	}
	return obj;
}

int seg_event_matches(const struct cond *where, const char *property, const json_t *properties, double *value)
{
	*value = 0;
	if (where && !cond_eval_where(where, properties))
		return 0;
	if (property)
		*value = store_seg_number_of(lookup(properties, property));
	return 1;
}

/* ---- the cache of definitions ------------------------------------------------- */

static void ws_free(struct ctr_ws *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].name);
		cond_free(w->v[i].where);
		free(w->v[i].property);
	}
	free(w->v);
	free(w);
}

/* A stored filter, parsed again; 0, or -1 when it no longer parses. */
static int where_compile(const char *text, struct cond **out)
{
	*out = NULL;
	if (!*text)
		return 0;
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	struct cairn_err e = CAIRN_ERR_INIT;
	*out = j ? cond_parse(j, &e) : NULL;
	json_decref(j);
	return *out ? 0 : -1;
}

static struct ctr_ws *ws_load(struct store *st, int64_t ws, struct cairn_err *err)
{
	struct store_seg_counter *v;
	size_t n;
	if (store_seg_counters_list(st, ws, &v, &n, err) < 0)
		return NULL;
	struct ctr_ws *w = xcalloc(1, sizeof *w);
	w->st = st;
	w->ws = ws;
	w->v = xcalloc(n ? n : 1, sizeof *w->v);
	for (size_t i = 0; i < n; i++) {
		struct ctr *k = &w->v[w->n];
		if (where_compile(v[i].where_text, &k->where) < 0) {
			/* a definition from an older condition language: its buckets
			 * stop growing; say so rather than stop the engine */
			log_error("event counter no longer parses; not counted", "where", v[i].where_text, NULL);
			continue;
		}
		k->id = v[i].id;
		k->name = xstrdup(v[i].name);
		k->property = v[i].property ? xstrdup(v[i].property) : NULL;
		w->n++;
	}
	store_seg_counters_free(v, n);
	return w;
}

/* The counters of ws (cache_lock held; inside the engine's transaction).
 * NULL with err. */
static struct ctr_ws *ws_get(struct store *st, int64_t ws, struct cairn_err *err)
{
	uint64_t gen = atomic_load(&generation);
	if (gen != cache_gen) {
		while (cache) {
			struct ctr_ws *next = cache->next;
			ws_free(cache);
			cache = next;
		}
		cache_gen = gen;
	}
	for (struct ctr_ws *w = cache; w; w = w->next) {
		if (w->ws == ws && w->st == st)
			return w;
	}
	struct ctr_ws *w = ws_load(st, ws, err);
	if (w) {
		w->next = cache;
		cache = w;
	}
	return w;
}

static int has_counter(const struct ctr_ws *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!strcmp(w->v[i].name, name))
			return 1;
	}
	return 0;
}

/* ---- the applier --------------------------------------------------------------- */

static enum store_seg_streak streak_of(const char *name)
{
	if (!strcmp(name, "Email Sent"))
		return STORE_SEG_STREAK_INC;
	if (!strcmp(name, "Email Opened") || !strcmp(name, "Email Link Clicked"))
		return STORE_SEG_STREAK_RESET;
	return STORE_SEG_STREAK_KEEP;
}

/* The event's message when it must be read (a counter of its name exists,
 * or it can hold a revenue); NULL otherwise. New reference. */
static json_t *message_of(const struct store_event *ev, int counted)
{
	if (!ev->body)
		return NULL;
	if (!counted && !memmem(ev->body, ev->body_len, "\"revenue\"", 9))
		return NULL;
	return jsonx_loadb(ev->body, ev->body_len, 0, NULL);
}

/* Adds the event to every counter of its name whose filter holds. */
static int count_in(struct store *st, const struct ctr_ws *w, const struct store_event *ev, int64_t profile_id,
		    const json_t *properties, struct cairn_err *err)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct ctr *k = &w->v[i];
		double v;
		if (strcmp(k->name, ev->name) || !seg_event_matches(k->where, k->property, properties, &v))
			continue;
		if (store_seg_counter_add(st, ev->workspace_id, profile_id, k->id, ev->ts, v, err) < 0)
			return CAIRN_EIO;
	}
	return 0;
}

int seg_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	if (!profile_id || !ev->type || strcmp(ev->type, "track") || !ev->name)
		return 0;
	pthread_mutex_lock(&cache_lock);
	const struct ctr_ws *w = ws_get(st, ev->workspace_id, err);
	int rc = w ? 0 : CAIRN_EIO;
	int counted = w && has_counter(w, ev->name);
	json_t *msg = rc == 0 ? message_of(ev, counted) : NULL;
	const json_t *props = json_object_get(msg, "properties");
	if (rc == 0)
		rc = store_seg_apply(st, ev->workspace_id, profile_id, ev->name, ev->ts, store_seg_revenue_of(props),
				     streak_of(ev->name), err);
	if (rc == 0 && counted)
		rc = count_in(st, w, ev, profile_id, props, err);
	pthread_mutex_unlock(&cache_lock);
	json_decref(msg);
	return rc;
}

/* ---- registration ------------------------------------------------------------------ */

struct reg {
	struct store *st;
	int64_t ws, now;
	struct cairn_err *err;
};

static int match_where(const json_t *properties, double *value, void *arg)
{
	const struct cond_dep *d = arg;
	return seg_event_matches(d->where, d->sum_property, properties, value);
}

/* Ensures the counter a leaf needs exists; a new one is backfilled. */
static int register_leaf(void *arg, const struct cond_dep *d)
{
	struct reg *r = arg;
	if (d->kind != COND_EVENT || !seg_counter_needed(d->where, d->sum_property))
		return 0;
	int64_t id;
	int rc = store_seg_counter_find(r->st, r->ws, d->name, d->where_key, d->sum_property, &id, r->err);
	if (rc <= 0)
		return rc; /* exists, or failed */
	rc = store_seg_counter_insert(r->st, r->ws, d->name, d->where_key, d->sum_property, r->now, &id, r->err);
	struct store_seg_series sr = {.name = d->name, .counter_id = id, .match = match_where, .arg = (void *)d};
	if (rc == 0)
		rc = store_seg_counter_backfill(r->st, r->ws, &sr, r->err);
	if (rc == 0)
		seg_counters_invalidate(); /* under the write lock: see the top */
	return rc;
}

int seg_counter_needed(const struct cond *where, const char *sum_property)
{
	return where || (sum_property && strcmp(sum_property, "revenue"));
}

int seg_counters_register(struct store *st, int64_t ws, const struct cond *c, struct cairn_err *err)
{
	struct reg r = {st, ws, clock_now_ms(), err};
	int rc = cond_visit(c, register_leaf, &r);
	return rc < 0 ? rc : 0;
}

json_t *seg_computed_json(struct store *st, int64_t ws, int64_t profile_id, int64_t now_ms, struct cairn_err *err)
{
	return store_seg_computed_json(st, ws, profile_id, now_ms, err);
}

int seg_rfm_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	return store_seg_rfm_run(st, now_ms, err);
}
