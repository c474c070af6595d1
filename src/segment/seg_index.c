/* seg_index.c — the in-memory segment index (seg_index.h).
 *
 * Layout per workspace: slot = profile_id − base; `live` marks slots that
 * are profiles of the workspace. Columns:
 *   tag    one bitset per tag
 *   trait  one value id per slot (0 = missing) into the distinct JSON texts
 *          of that trait, interned; a leaf is tested once per distinct value
 *   event  per slot a small array of day buckets (day, count, first/last
 *          time within the day, revenue only when some is non-zero)
 * A leaf on an event window is exact for buckets the window contains or
 * misses; a bucket it cuts makes the user MAYBE (decided by the caller). */
#include "segment/seg_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_seg_index.h"
#include "store/store_segment.h"

#define PENDING_MAX (2u * 1000u * 1000u) /* changed profiles kept before "anything changed" */

struct bucket {
	int32_t day;
	uint32_t count;
	uint32_t first_off, last_off; /* ms within the day */
};

struct evlist {
	uint32_t n, cap;
	double *revenue; /* NULL while every bucket's revenue is 0 */
	struct bucket b[];
};

struct tagcol {
	char *tag;
	uint64_t *bits;
};

struct valcol {
	char *name;
	uint32_t *vid; /* per slot; 0 = missing */
	char **text;   /* per value id (text[0] unused), in `arena` */
	size_t *len;
	size_t nvals, capvals;
	uint32_t *hash; /* open addressing: value id or 0 */
	size_t hcap;
	struct arena arena;
};

struct evcol {
	char *name;
	struct evlist **lists; /* per slot */
};

struct wsx {
	int64_t ws, base;
	size_t nwords; /* slots = 64 · nwords */
	uint64_t *live;
	struct tagcol *tags;
	size_t ntags;
	struct valcol *vals;
	size_t nvals;
	struct evcol *evs;
	size_t nevs;
};

struct seg_index {
	struct store *st;
	pthread_mutex_t lock; /* the columns */
	struct wsx **ws;
	size_t nws;
	pthread_mutex_t plock; /* the pending list */
	struct store_touch *pending;
	size_t npending, cap;
	int overflow;
	atomic_int active; /* 0 until a workspace is loaded: commits need not be kept */
};

static struct seg_index *attached;

/* ---- columns ---------------------------------------------------------------- */

static size_t nslots(const struct wsx *w)
{
	return w->nwords * 64;
}

static void valcol_free(struct valcol *v)
{
	free(v->name);
	free(v->vid);
	free(v->text);
	free(v->len);
	free(v->hash);
	arena_release(&v->arena);
}

static void wsx_free(struct wsx *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ntags; i++) {
		free(w->tags[i].tag);
		free(w->tags[i].bits);
	}
	for (size_t i = 0; i < w->nvals; i++)
		valcol_free(&w->vals[i]);
	for (size_t i = 0; i < w->nevs; i++) {
		for (size_t s = 0; s < nslots(w); s++) {
			if (w->evs[i].lists[s])
				free(w->evs[i].lists[s]->revenue);
			free(w->evs[i].lists[s]);
		}
		free(w->evs[i].name);
		free(w->evs[i].lists);
	}
	free(w->tags);
	free(w->vals);
	free(w->evs);
	free(w->live);
	free(w);
}

static void *grow_zero(void *p, size_t old_n, size_t new_n, size_t elem)
{
	p = xrealloc(p, new_n * elem);
	memset((char *)p + old_n * elem, 0, (new_n - old_n) * elem);
	return p;
}

/* Makes room for slot (every column grows with the universe). */
static void wsx_grow(struct wsx *w, size_t slot)
{
	size_t old = w->nwords, nw = old ? old : 1;
	while (nw * 64 <= slot)
		nw *= 2;
	if (nw == old)
		return;
	w->live = grow_zero(w->live, old, nw, sizeof *w->live);
	for (size_t i = 0; i < w->ntags; i++)
		w->tags[i].bits = grow_zero(w->tags[i].bits, old, nw, sizeof(uint64_t));
	for (size_t i = 0; i < w->nvals; i++)
		w->vals[i].vid = grow_zero(w->vals[i].vid, old * 64, nw * 64, sizeof(uint32_t));
	for (size_t i = 0; i < w->nevs; i++)
		w->evs[i].lists = grow_zero(w->evs[i].lists, old * 64, nw * 64, sizeof(struct evlist *));
	w->nwords = nw;
}

static uint64_t hash_text(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The value id of a JSON text in v, added when new. */
static uint32_t intern(struct valcol *v, const char *s, size_t n)
{
	if (!s)
		return 0;
	if ((v->nvals + 1) * 2 > v->hcap) {
		size_t cap = v->hcap ? v->hcap * 2 : 64;
		uint32_t *h = xcalloc(cap, sizeof *h);
		for (size_t id = 1; id <= v->nvals; id++) {
			size_t k = hash_text(v->text[id], v->len[id]) & (cap - 1);
			while (h[k])
				k = (k + 1) & (cap - 1);
			h[k] = (uint32_t)id;
		}
		free(v->hash);
		v->hash = h;
		v->hcap = cap;
	}
	size_t k = hash_text(s, n) & (v->hcap - 1);
	for (; v->hash[k]; k = (k + 1) & (v->hcap - 1)) {
		uint32_t id = v->hash[k];
		if (v->len[id] == n && !memcmp(v->text[id], s, n))
			return id;
	}
	size_t id = ++v->nvals;
	xgrow((void **)&v->text, &v->capvals, id + 1, sizeof *v->text);
	v->len = xrealloc(v->len, v->capvals * sizeof *v->len);
	v->text[id] = arena_strndup(&v->arena, s, n);
	v->len[id] = n;
	v->hash[k] = (uint32_t)id;
	return (uint32_t)id;
}

static void bit_set(uint64_t *bits, size_t slot, int on)
{
	if (on)
		bits[slot / 64] |= 1ull << (slot % 64);
	else
		bits[slot / 64] &= ~(1ull << (slot % 64));
}

/* ---- loading ------------------------------------------------------------ */

struct load {
	struct wsx *w;
	void *col;
};

/* A profile id as a slot, or -1 when outside the universe: below base, or
 * above it while a query runs (a profile newer than the live set; it is
 * among the pending changes and appears with the next refresh). */
static int64_t slot_of(struct wsx *w, int64_t pid, int may_grow)
{
	if (pid < w->base)
		return -1;
	size_t s = (size_t)(pid - w->base);
	if (s >= nslots(w)) {
		if (!may_grow)
			return -1;
		wsx_grow(w, s);
	}
	return (int64_t)s;
}

static int load_profile(void *arg, int64_t pid)
{
	struct wsx *w = arg;
	if (!w->nwords && !w->base)
		w->base = pid; /* ascending: the first is the lowest */
	int64_t s = slot_of(w, pid, 1);
	if (s >= 0)
		bit_set(w->live, (size_t)s, 1);
	return 0;
}

static int load_tag(void *arg, int64_t pid)
{
	struct load *l = arg;
	int64_t s = slot_of(l->w, pid, 0);
	if (s >= 0)
		bit_set(((struct tagcol *)l->col)->bits, (size_t)s, 1);
	return 0;
}

static int load_value(void *arg, int64_t pid, const char *json, size_t len)
{
	struct load *l = arg;
	int64_t s = slot_of(l->w, pid, 0);
	if (s >= 0) {
		struct valcol *v = l->col;
		v->vid[s] = intern(v, json, len);
	}
	return 0;
}

static int load_bucket(void *arg, int64_t pid, const struct store_sx_bucket *b)
{
	struct load *l = arg;
	int64_t s = slot_of(l->w, pid, 0);
	if (s < 0)
		return 0;
	struct evlist **lp = &((struct evcol *)l->col)->lists[s];
	struct evlist *e = *lp;
	if (!e || e->n == e->cap) {
		uint32_t cap = e ? e->cap * 2 : 2;
		e = xrealloc(e, sizeof *e + cap * sizeof e->b[0]);
		if (!*lp) {
			e->n = 0;
			e->revenue = NULL;
		}
		if (e->revenue)
			e->revenue = xrealloc(e->revenue, cap * sizeof *e->revenue);
		e->cap = cap;
		*lp = e;
	}
	int64_t day0 = b->day * STORE_SEG_DAY_MS;
	e->b[e->n] = (struct bucket){(int32_t)b->day, (uint32_t)b->count, (uint32_t)(b->first_ts - day0),
				     (uint32_t)(b->last_ts - day0)};
	if (b->revenue != 0 && !e->revenue)
		e->revenue = xcalloc(e->cap, sizeof *e->revenue);
	if (e->revenue)
		e->revenue[e->n] = b->revenue;
	e->n++;
	return 0;
}

static struct wsx *wsx_find(struct seg_index *ix, int64_t ws)
{
	for (size_t i = 0; i < ix->nws; i++)
		if (ix->ws[i]->ws == ws)
			return ix->ws[i];
	return NULL;
}

static void wsx_drop(struct seg_index *ix, int64_t ws)
{
	for (size_t i = 0; i < ix->nws; i++) {
		if (ix->ws[i]->ws == ws) {
			wsx_free(ix->ws[i]);
			ix->ws[i] = ix->ws[--ix->nws];
			return;
		}
	}
}

static struct wsx *wsx_load(struct seg_index *ix, int64_t ws, struct cairn_err *err)
{
	struct wsx *w = wsx_find(ix, ws);
	if (w)
		return w;
	atomic_store(&ix->active, 1); /* from here on, commits are kept */
	w = xcalloc(1, sizeof *w);
	w->ws = ws;
	if (store_sx_profiles(ix->st, ws, load_profile, w, err) < 0) {
		wsx_free(w);
		return NULL;
	}
	ix->ws = xrealloc(ix->ws, (ix->nws + 1) * sizeof *ix->ws);
	ix->ws[ix->nws++] = w;
	return w;
}

static struct tagcol *tag_col(struct seg_index *ix, struct wsx *w, const char *tag, struct cairn_err *err)
{
	for (size_t i = 0; i < w->ntags; i++)
		if (!strcmp(w->tags[i].tag, tag))
			return &w->tags[i];
	struct tagcol t = {xstrdup(tag), xcalloc(w->nwords ? w->nwords : 1, sizeof(uint64_t))};
	w->tags = xrealloc(w->tags, (w->ntags + 1) * sizeof *w->tags);
	w->tags[w->ntags] = t;
	struct load l = {w, &w->tags[w->ntags++]};
	if (store_sx_tag(ix->st, w->ws, 0, tag, load_tag, &l, err) < 0)
		return NULL;
	return l.col;
}

/* NULL with rc 1 when the trait cannot be read as a column. */
static struct valcol *val_col(struct seg_index *ix, struct wsx *w, const char *name, int *rc, struct cairn_err *err)
{
	*rc = 0;
	for (size_t i = 0; i < w->nvals; i++)
		if (!strcmp(w->vals[i].name, name))
			return &w->vals[i];
	struct valcol v;
	memset(&v, 0, sizeof v);
	v.name = xstrdup(name);
	v.vid = xcalloc(nslots(w) ? nslots(w) : 64, sizeof *v.vid);
	arena_init(&v.arena, 64 * 1024);
	xgrow((void **)&v.text, &v.capvals, 1, sizeof *v.text);
	v.len = xcalloc(v.capvals, sizeof *v.len);
	w->vals = xrealloc(w->vals, (w->nvals + 1) * sizeof *w->vals);
	w->vals[w->nvals] = v;
	struct load l = {w, &w->vals[w->nvals++]};
	*rc = store_sx_trait(ix->st, w->ws, 0, name, load_value, &l, err);
	if (*rc != 0) {
		valcol_free(&w->vals[--w->nvals]);
		return NULL;
	}
	return l.col;
}

static struct evcol *ev_col(struct seg_index *ix, struct wsx *w, const char *name, struct cairn_err *err)
{
	for (size_t i = 0; i < w->nevs; i++)
		if (!strcmp(w->evs[i].name, name))
			return &w->evs[i];
	struct evcol e = {xstrdup(name), xcalloc(nslots(w) ? nslots(w) : 64, sizeof(struct evlist *))};
	w->evs = xrealloc(w->evs, (w->nevs + 1) * sizeof *w->evs);
	w->evs[w->nevs] = e;
	struct load l = {w, &w->evs[w->nevs++]};
	if (store_sx_daily(ix->st, w->ws, 0, name, load_bucket, &l, err) < 0)
		return NULL;
	return l.col;
}

/* ---- freshness ---------------------------------------------------------- */

static void on_commit(void *arg, const struct store_touch *t, size_t n, int overflow)
{
	struct seg_index *ix = arg;
	if (!atomic_load(&ix->active))
		return;
	pthread_mutex_lock(&ix->plock);
	if (overflow || ix->npending + n > PENDING_MAX) {
		ix->overflow = 1;
		ix->npending = 0;
	} else {
		xgrow((void **)&ix->pending, &ix->cap, ix->npending + n, sizeof *ix->pending);
		memcpy(ix->pending + ix->npending, t, n * sizeof *t);
		ix->npending += n;
	}
	pthread_mutex_unlock(&ix->plock);
}

/* Re-reads every column of one profile. 1 when the workspace must be
 * reloaded instead, 0, or <0. */
static int refresh_one(struct seg_index *ix, struct wsx *w, int64_t pid, struct cairn_err *err)
{
	int64_t ws = 0;
	int rc = store_sx_profile_ws(ix->st, pid, &ws, err);
	if (rc < 0 && rc != CAIRN_ENOTFOUND)
		return rc;
	int present = rc == 0 && ws == w->ws;
	if (pid < w->base)
		return present; /* a new profile below base: reload; a gone one: nothing to do */
	int64_t s = slot_of(w, pid, 1);
	bit_set(w->live, (size_t)s, present);
	for (size_t i = 0; i < w->ntags; i++) {
		bit_set(w->tags[i].bits, (size_t)s, 0);
		struct load l = {w, &w->tags[i]};
		if (present && store_sx_tag(ix->st, w->ws, pid, w->tags[i].tag, load_tag, &l, err) < 0)
			return CAIRN_EIO;
	}
	for (size_t i = 0; i < w->nvals; i++) {
		w->vals[i].vid[s] = 0;
		struct load l = {w, &w->vals[i]};
		if (present && store_sx_trait(ix->st, w->ws, pid, w->vals[i].name, load_value, &l, err) < 0)
			return CAIRN_EIO;
	}
	for (size_t i = 0; i < w->nevs; i++) {
		struct evlist **lp = &w->evs[i].lists[s];
		if (*lp)
			free((*lp)->revenue);
		free(*lp);
		*lp = NULL;
		struct load l = {w, &w->evs[i]};
		if (present && store_sx_daily(ix->st, w->ws, pid, w->evs[i].name, load_bucket, &l, err) < 0)
			return CAIRN_EIO;
	}
	return 0;
}

/* Applies the profiles changed since the last call (under ix->lock). */
static int refresh(struct seg_index *ix, struct cairn_err *err)
{
	pthread_mutex_lock(&ix->plock);
	struct store_touch *t = ix->pending;
	size_t n = ix->npending;
	int overflow = ix->overflow;
	ix->pending = NULL;
	ix->npending = ix->cap = 0;
	ix->overflow = 0;
	pthread_mutex_unlock(&ix->plock);
	int rc = 0;
	if (overflow) {
		while (ix->nws)
			wsx_drop(ix, ix->ws[0]->ws);
	}
	for (size_t i = 0; i < n && rc >= 0; i++) {
		struct wsx *w = wsx_find(ix, t[i].workspace_id);
		if (!w || (i && t[i].profile_id == t[i - 1].profile_id && t[i].workspace_id == t[i - 1].workspace_id))
			continue;
		rc = refresh_one(ix, w, t[i].profile_id, err);
		if (rc > 0) {
			wsx_drop(ix, t[i].workspace_id);
			rc = 0;
		}
	}
	free(t);
	return rc < 0 ? rc : 0;
}

/* ---- leaves --------------------------------------------------------------- */

struct query {
	struct seg_index *ix;
	struct wsx *w;
};

static int leaf_trait(struct query *q, const struct cond_dep *d, int64_t now, uint64_t *yes, struct cairn_err *err)
{
	int rc;
	struct valcol *v = val_col(q->ix, q->w, d->name, &rc, err);
	if (!v)
		return rc;
	/* the leaf once per distinct value, then one lookup per user */
	unsigned char *holds = xmalloc(v->nvals + 1);
	holds[0] = (unsigned char)cond_leaf_test_value(d->node, NULL, now);
	for (size_t id = 1; id <= v->nvals; id++) {
		json_t *j = jsonx_loadb(v->text[id], v->len[id], JSON_DECODE_ANY, NULL);
		holds[id] = (unsigned char)cond_leaf_test_value(d->node, j, now);
		json_decref(j);
	}
	for (size_t wd = 0; wd < q->w->nwords; wd++) {
		uint64_t live = q->w->live[wd], out = 0;
		for (uint64_t m = live; m; m &= m - 1) {
			int b = __builtin_ctzll(m);
			out |= (uint64_t)holds[v->vid[wd * 64 + (size_t)b]] << b;
		}
		yes[wd] = out;
	}
	free(holds);
	return 0;
}

/* 1 when the bucket lies inside [since, until], 0 outside, -1 cut. */
static int bucket_in(const struct bucket *b, int64_t since, int64_t until)
{
	int64_t day0 = (int64_t)b->day * STORE_SEG_DAY_MS;
	int64_t first = day0 + b->first_off, last = day0 + b->last_off;
	if (first >= since && last <= until)
		return 1;
	if (last < since || first > until)
		return 0;
	return -1;
}

static int leaf_event(struct query *q, const struct cond_dep *d, int64_t now, uint64_t *yes, uint64_t *maybe,
		      struct cairn_err *err)
{
	int revenue = d->sum_property && !strcmp(d->sum_property, "revenue");
	if (d->where || (d->sum_property && !revenue))
		return 1; /* filtered or other sums: not in day buckets */
	struct evcol *e = ev_col(q->ix, q->w, d->name, err);
	if (!e)
		return CAIRN_EIO;
	int64_t since, until;
	cond_leaf_event_window(d->node, now, &since, &until);
	if (since <= 0)
		since = INT64_MIN;
	uint64_t none = cond_leaf_test_event(d->node, 0, 0) ? ~0ull : 0; /* users without such events */
	for (size_t wd = 0; wd < q->w->nwords; wd++) {
		uint64_t y = 0, mb = 0, live = q->w->live[wd];
		for (uint64_t m = live; m; m &= m - 1) {
			int bit = __builtin_ctzll(m);
			const struct evlist *l = e->lists[wd * 64 + (size_t)bit];
			if (!l) {
				y |= none & (1ull << bit);
				continue;
			}
			int64_t count = 0;
			double rev = 0;
			int cut = 0;
			for (uint32_t k = 0; k < l->n; k++) {
				int in = bucket_in(&l->b[k], since, until);
				cut |= in < 0;
				if (in > 0) {
					count += l->b[k].count;
					rev += l->revenue ? l->revenue[k] : 0;
				}
			}
			if (cut)
				mb |= 1ull << bit;
			else if (cond_leaf_test_event(d->node, count, rev))
				y |= 1ull << bit;
		}
		yes[wd] = y;
		maybe[wd] = mb;
	}
	return 0;
}

static int leaf(void *arg, const struct cond_dep *d, int64_t now, uint64_t *yes, uint64_t *maybe, struct cairn_err *err)
{
	struct query *q = arg;
	switch (d->kind) {
	case COND_TAG: {
		struct tagcol *t = tag_col(q->ix, q->w, d->name, err);
		if (!t)
			return CAIRN_EIO;
		memcpy(yes, t->bits, q->w->nwords * sizeof *yes);
		return 0;
	}
	case COND_TRAIT: return leaf_trait(q, d, now, yes, err);
	case COND_EVENT: return leaf_event(q, d, now, yes, maybe, err);
	default: return 1; /* consent, segments, scores, computed: decided per user */
	}
}

/* ---- counting -------------------------------------------------------------- */

static int count_sets(struct wsx *w, const uint64_t *yes, const uint64_t *maybe, seg_index_decide_fn decide, void *darg,
		      int64_t *count, int64_t *sample, size_t nsample, size_t *nsampled, struct cairn_err *err)
{
	*count = 0;
	*nsampled = 0;
	for (size_t wd = 0; wd < w->nwords; wd++) {
		uint64_t all = yes[wd] | maybe[wd];
		if (!maybe[wd] && *nsampled == nsample) {
			*count += __builtin_popcountll(yes[wd]);
			continue;
		}
		for (uint64_t m = all; m; m &= m - 1) {
			int bit = __builtin_ctzll(m);
			int64_t pid = w->base + (int64_t)(wd * 64) + bit;
			int hit = (int)(yes[wd] >> bit) & 1;
			if (!hit) {
				int rc = decide(darg, pid, &hit, err);
				if (rc == CAIRN_ENOTFOUND)
					continue;
				if (rc < 0)
					return rc;
			}
			if (!hit)
				continue;
			(*count)++;
			if (*nsampled < nsample)
				sample[(*nsampled)++] = pid;
		}
	}
	return 0;
}

int seg_index_count(struct seg_index *ix, int64_t ws, const struct cond *c, int64_t now, seg_index_decide_fn decide,
		    void *decide_arg, int64_t *count, int64_t *sample, size_t nsample, size_t *nsampled,
		    struct cairn_err *err)
{
	pthread_mutex_lock(&ix->lock);
	int rc = refresh(ix, err);
	struct wsx *w = rc == 0 ? wsx_load(ix, ws, err) : NULL;
	if (!w) {
		pthread_mutex_unlock(&ix->lock);
		return rc < 0 ? rc : CAIRN_EIO;
	}
	wsx_grow(w, 0);
	size_t nw = w->nwords; /* fixed from here: columns built below do not grow it */
	uint64_t *yes = xcalloc(nw, sizeof *yes), *maybe = xcalloc(nw, sizeof *maybe);
	struct query q = {ix, w};
	struct cond_set_provider p = {&q, w->nwords, w->live, leaf};
	rc = cond_eval_set(c, &p, now, yes, maybe, err);
	/* a column that failed half-way is dropped with its workspace */
	if (rc < 0)
		wsx_drop(ix, ws);
	else
		rc = count_sets(w, yes, maybe, decide, decide_arg, count, sample, nsample, nsampled, err);
	free(yes);
	free(maybe);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/* ---- life ---------------------------------------------------------------- */

struct seg_index *seg_index_attach(struct store *st)
{
	struct seg_index *ix = xcalloc(1, sizeof *ix);
	ix->st = st;
	pthread_mutex_init(&ix->lock, NULL);
	pthread_mutex_init(&ix->plock, NULL);
	store_on_commit(st, on_commit, ix);
	attached = ix;
	return ix;
}

void seg_index_detach(struct seg_index *ix)
{
	if (!ix)
		return;
	store_on_commit(ix->st, NULL, NULL);
	if (attached == ix)
		attached = NULL;
	while (ix->nws)
		wsx_drop(ix, ix->ws[0]->ws);
	free(ix->ws);
	free(ix->pending);
	pthread_mutex_destroy(&ix->lock);
	pthread_mutex_destroy(&ix->plock);
	free(ix);
}

struct seg_index *seg_index_of(struct store *st)
{
	return attached && attached->st == st ? attached : NULL;
}
