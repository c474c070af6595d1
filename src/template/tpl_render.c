/* tpl_render.c — tree walker, variable scopes, tags at render time, the
 * partial cache and tpl_validate.
 *
 * Scopes (Shopify's Context): a lookup tries, in order, the stack of inner
 * scopes (loop variables, include arguments), the template's assigns
 * (`assign`/`capture` always write here), the increment/decrement counters
 * and finally the data. `render` opens an isolated context: new assigns,
 * counters and cycle state, with only its arguments — and the data, which
 * stays readable so that partials see user, links and workspace (as
 * Shopify's global objects stay visible in snippets).
 *
 * Hot path: text nodes and {{ var }} append straight into the output buffer;
 * values are 24-byte structs passed by value; temporaries come from a
 * per-thread pool that is reset (not freed) at each render. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "template/tpl_int.h"

/* ---- pool ------------------------------------------------------------------------ */

struct tpool_chunk {
	struct tpool_chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct tpool {
	struct tpool_chunk *head, *cur;
	size_t total;
	int busy;
};

#define TPOOL_CHUNK (64u * 1024u)

static _Thread_local struct tpool *tls_pool;

static void pool_reset(struct tpool *p)
{
	for (struct tpool_chunk *c = p->head; c; c = c->next)
		c->used = 0;
	p->cur = p->head;
	p->total = 0;
}

static void pool_free(struct tpool *p)
{
	struct tpool_chunk *c = p->head;
	while (c) {
		struct tpool_chunk *n = c->next;
		free(c);
		c = n;
	}
	free(p);
}

/* A thread's pool is freed when the thread exits (pool threads of the HTTP
 * server, delivery workers) through this key's destructor. */
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static void pool_thread_exit(void *p)
{
	pool_free(p);
	tls_pool = NULL;
}

static void pool_key_create(void)
{
	pthread_key_create(&pool_key, pool_thread_exit);
}

void tpl_thread_cleanup(void)
{
	if (tls_pool && !tls_pool->busy) {
		pool_free(tls_pool);
		tls_pool = NULL;
		pthread_once(&pool_key_once, pool_key_create);
		pthread_setspecific(pool_key, NULL);
	}
}

void *tp_alloc(struct rs *rs, size_t n)
{
	struct tpool *p = rs->pool;
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	p->total += n;
	if (p->total > rs->lim.max_memory && !rs->failed)
		rs_fail(rs, CAIRN_ETOOBIG, 0, "The template needs more than %zu bytes of working memory.",
			rs->lim.max_memory);
	for (;;) {
		struct tpool_chunk *c = p->cur;
		if (c && c->size - c->used >= n) {
			void *m = c->data + c->used;
			c->used += n;
			return m;
		}
		if (c && c->next) {
			p->cur = c->next;
			continue;
		}
		size_t sz = n > TPOOL_CHUNK ? n : TPOOL_CHUNK;
		struct tpool_chunk *nc = xmalloc(sizeof *nc + sz);
		nc->size = sz;
		nc->used = 0;
		nc->next = NULL;
		if (c)
			c->next = nc;
		else
			p->head = nc;
		p->cur = nc;
	}
}

char *tp_strndup(struct rs *rs, const char *s, size_t n)
{
	char *d = tp_alloc(rs, n + 1);
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int rs_fail(struct rs *rs, int code, int line, const char *fmt, ...)
{
	if (rs->failed)
		return -1;
	rs->failed = 1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		cairn_err_set(rs->err, code, code == CAIRN_ETOOBIG ? "template_limit" : "template_error", "template",
			      "Liquid error (line %d): %s", line, msg);
	else
		cairn_err_set(rs->err, code, code == CAIRN_ETOOBIG ? "template_limit" : "template_error", "template",
			      "Liquid error: %s", msg);
	return -1;
}

/* ---- variables --------------------------------------------------------------------- */

struct var {
	const char *name;
	size_t n;
	uint32_t h;
	struct tval v;
};

struct vmap {
	struct var *v;
	size_t cap, n;
};

static struct var *vmap_find(struct vmap *m, const char *name, size_t n, uint32_t h)
{
	if (!m->cap)
		return NULL;
	size_t i = h & (m->cap - 1);
	for (;;) {
		struct var *e = &m->v[i];
		if (!e->name)
			return NULL;
		if (e->h == h && e->n == n && memcmp(e->name, name, n) == 0)
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static struct var *vmap_put(struct rs *rs, struct vmap *m, const char *name, size_t n, uint32_t h)
{
	struct var *e = vmap_find(m, name, n, h);
	if (e)
		return e;
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		struct var *nv = tp_alloc(rs, sizeof *nv * nc);
		memset(nv, 0, sizeof *nv * nc);
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->v[i].name)
				continue;
			size_t j = m->v[i].h & (nc - 1);
			while (nv[j].name)
				j = (j + 1) & (nc - 1);
			nv[j] = m->v[i];
		}
		m->v = nv;
		m->cap = nc;
	}
	size_t i = h & (m->cap - 1);
	while (m->v[i].name)
		i = (i + 1) & (m->cap - 1);
	e = &m->v[i];
	e->name = name;
	e->n = n;
	e->h = h;
	e->v = tv_nil();
	m->n++;
	return e;
}

struct rctx {
	struct rs *rs;
	struct var *stack;
	int sn, scap;
	struct vmap globals, counters, cycles, offsets;
	json_t *data;
	struct tloop *forloop;
	int interrupt; /* 0, 1 break, 2 continue */
	struct tval ifchanged;
	int has_ifchanged;
};

static void push_var(struct rctx *c, const char *name, size_t n, uint32_t h, struct tval v)
{
	if (c->sn >= c->scap) {
		int nc = c->scap ? c->scap * 2 : 16;
		struct var *nv = tp_alloc(c->rs, sizeof *nv * (size_t)nc);
		if (c->sn)
			memcpy(nv, c->stack, sizeof *nv * (size_t)c->sn);
		c->stack = nv;
		c->scap = nc;
	}
	struct var *e = &c->stack[c->sn++];
	e->name = name;
	e->n = n;
	e->h = h;
	e->v = v;
}

static struct tval lookup_name(struct rctx *c, const char *name, size_t n, uint32_t h, int *found)
{
	*found = 1;
	for (int i = c->sn - 1; i >= 0; i--) {
		struct var *e = &c->stack[i];
		if (e->h == h && e->n == n && memcmp(e->name, name, n) == 0)
			return e->v;
	}
	struct var *e = vmap_find(&c->globals, name, n, h);
	if (e)
		return e->v;
	e = vmap_find(&c->counters, name, n, h);
	if (e)
		return e->v;
	if (n == 4 && memcmp(name, "self", 4) == 0) {
		struct tval v = {.t = TV_SELF};
		v.self = c;
		return v;
	}
	if (c->data && json_is_object(c->data)) {
		json_t *j = json_object_getn(c->data, name, n);
		if (j)
			return tv_from_json(j);
	}
	*found = 0;
	return tv_nil();
}

static void set_global(struct rctx *c, const char *name, size_t n, uint32_t h, struct tval v)
{
	struct var *e = vmap_put(c->rs, &c->globals, name, n, h);
	e->v = v;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static struct tval eval(struct rctx *c, const struct tpl_expr *x, int line);

static struct tval loop_prop(struct rctx *c, struct tloop *l, const char *k, size_t n, int *found)
{
	*found = 1;
	int64_t len = l->length, i0 = l->index0;
#define K(s) (n == sizeof(s) - 1 && memcmp(k, s, n) == 0)
	if (K("index"))
		return tv_int(i0 + 1);
	if (K("index0"))
		return tv_int(i0);
	if (K("rindex"))
		return tv_int(len - i0);
	if (K("rindex0"))
		return tv_int(len - i0 - 1);
	if (K("first"))
		return tv_bool(i0 == 0);
	if (K("last"))
		return tv_bool(i0 == len - 1);
	if (K("length"))
		return tv_int(len);
	if (!l->tablerow) {
		if (K("name"))
			return tv_str(l->name, l->name_len);
		if (K("parentloop")) {
			if (!l->parent)
				return tv_nil();
			struct tval v = {.t = TV_LOOP};
			v.loop = l->parent;
			return v;
		}
	} else {
		if (K("col"))
			return tv_int(l->col);
		if (K("col0"))
			return tv_int(l->col - 1);
		if (K("col_first"))
			return tv_bool(l->col == 1);
		if (K("col_last"))
			return tv_bool(l->col == l->cols);
		if (K("row"))
			return tv_int(l->row);
	}
#undef K
	(void)c;
	*found = 0;
	return tv_nil();
}

/* One step of VariableLookup#evaluate. */
static struct tval step(struct rctx *c, struct tval obj, struct tval key, int command, int *found)
{
	*found = 1;
	if (obj.t == TV_SELF && key.t == TV_STR)
		return lookup_name(obj.self, key.s.p, key.s.n, tpl_hash(key.s.p, key.s.n), found);
	if (obj.t == TV_LOOP && key.t == TV_STR)
		return loop_prop(c, obj.loop, key.s.p, key.s.n, found);
	struct tval r = tv_get(c->rs, obj, key, found);
	if (*found)
		return r;
	*found = 1;
	if (command && key.t == TV_STR) {
		int sz = key.s.n == 4 && memcmp(key.s.p, "size", 4) == 0;
		int fi = key.s.n == 5 && memcmp(key.s.p, "first", 5) == 0;
		if (sz) {
			if (obj.t == TV_STR)
				return tv_int((int64_t)u8_len(obj.s.p, obj.s.n));
			if (tv_is_array(obj) || obj.t == TV_JSON || obj.t == TV_OBJ)
				return tv_int((int64_t)tv_len(obj));
		} else if (tv_is_array(obj)) {
			size_t n = tv_len(obj);
			if (!n)
				return tv_nil();
			return tv_item(obj, fi ? 0 : n - 1);
		} else if (obj.t == TV_STR) {
			if (!obj.s.n)
				return tv_str("", 0);
			if (fi)
				return tv_str(obj.s.p, u8_off(obj.s.p, obj.s.n, 1));
			size_t last = u8_off(obj.s.p, obj.s.n, u8_len(obj.s.p, obj.s.n) - 1);
			return tv_str(obj.s.p + last, obj.s.n - last);
		}
	}
	*found = 0;
	return tv_nil();
}

static struct tval eval_var(struct rctx *c, const struct tpl_expr *x, int line)
{
	struct tval v;
	int found;
	if (x->name) {
		v = lookup_name(c, x->name, x->name_len, x->hash, &found);
		if (!found && c->rs->ro->strict_variables) {
			rs_fail(c->rs, CAIRN_EUNPROC, line, "Undefined variable '%.*s'.", (int)x->name_len, x->name);
			return tv_nil();
		}
	} else {
		struct tval k = eval(c, x->root_dyn, line);
		if (k.t != TV_STR)
			k = tv_to_s(c->rs, k);
		v = lookup_name(c, k.s.p, k.s.n, tpl_hash(k.s.p, k.s.n), &found);
		if (!found && c->rs->ro->strict_variables) {
			rs_fail(c->rs, CAIRN_EUNPROC, line, "Undefined variable '%.*s'.", (int)k.s.n, k.s.p);
			return tv_nil();
		}
	}
	for (int i = 0; i < x->nlook && !c->rs->failed; i++) {
		const struct tpl_lookup *l = &x->look[i];
		struct tval key = l->key ? tv_str(l->key, l->len) : eval(c, l->dyn, line);
		if (v.t == TV_NIL) {
			if (c->rs->ro->strict_variables && key.t == TV_STR)
				rs_fail(c->rs, CAIRN_EUNPROC, line, "Undefined variable '%.*s'.", (int)key.s.n,
					key.s.p);
			return tv_nil();
		}
		v = step(c, v, key, l->command, &found);
		if (!found && c->rs->ro->strict_variables) {
			struct tval ks = tv_to_s(c->rs, key);
			rs_fail(c->rs, CAIRN_EUNPROC, line, "Undefined variable '%.*s'.", (int)ks.s.n, ks.s.p);
			return tv_nil();
		}
	}
	return v;
}

static int64_t range_bound(struct rctx *c, struct tval v, int line)
{
	int ok;
	if (v.t == TV_NIL)
		return 0;
	if (v.t == TV_STR) {
		struct tval n;
		tv_to_number(v, &n);
		return n.t == TV_INT ? n.i : (int64_t)n.f;
	}
	int64_t r = tv_to_int(v, &ok);
	if (!ok)
		rs_fail(c->rs, CAIRN_EUNPROC, line, "A range bound is not an integer.");
	return r;
}

static struct tval eval(struct rctx *c, const struct tpl_expr *x, int line)
{
	switch (x->kind) {
	case EX_LIT: return x->lit;
	case EX_VAR: return eval_var(c, x, line);
	default: {
		struct tval v = {.t = TV_RANGE};
		v.r.lo = range_bound(c, eval(c, x->lo, line), line);
		v.r.hi = range_bound(c, eval(c, x->hi, line), line);
		return v;
	}
	}
}

/* ---- filters ------------------------------------------------------------------------------ */

static struct tval apply_filters(struct rctx *c, const struct tpl_var *var, int line)
{
	struct rs *rs = c->rs;
	struct tval v = var->expr ? eval(c, var->expr, line) : tv_nil();
	for (int i = 0; i < var->nf && !rs->failed; i++) {
		const struct tpl_fcall *fc = &var->f[i];
		if (++rs->steps > rs->lim.max_steps) {
			rs_fail(rs, CAIRN_ETOOBIG, line, "The template took more than %llu steps.",
				(unsigned long long)rs->lim.max_steps);
			break;
		}
		if (!fc->def) {
			if (rs->ro->strict_filters)
				rs_fail(rs, CAIRN_EUNPROC, line, "Unknown filter '%s'.", fc->name);
			continue;
		}
		int argc = fc->nargs, kwc = fc->nkw;
		if (argc < fc->def->min_args || argc > fc->def->max_args) {
			rs_fail(rs, CAIRN_EUNPROC, line, "Filter '%s' takes %d to %d arguments, not %d.", fc->name,
				fc->def->min_args, fc->def->max_args, argc);
			break;
		}
		struct tval argv[32], kwv[16];
		for (int a = 0; a < argc; a++)
			argv[a] = eval(c, fc->args[a], line);
		for (int a = 0; a < kwc; a++)
			kwv[a] = eval(c, fc->kwv[a], line);
		v = fc->def->fn(rs, fc, v, argc, argv, kwc, fc->kw, kwv);
	}
	return v;
}

/* ---- nodes --------------------------------------------------------------------------------- */

static void render_body(struct rctx *c, const struct tpl_body *b);

static int check_out(struct rctx *c, int line)
{
	struct rs *rs = c->rs;
	if (rs->out->overflow || rs->out->len - rs->out_start > rs->lim.max_output)
		return rs_fail(rs, CAIRN_ETOOBIG, line, "The output is larger than %zu bytes.", rs->lim.max_output);
	return 0;
}

static int cond_cmp(struct rctx *c, const struct tpl_cond *k, int line)
{
	struct tval l = eval(c, k->l, line);
	if (!k->op)
		return tv_truthy(l);
	struct tval r = eval(c, k->r, line);
	int cmp;
	switch (k->op) {
	case OP_EQ: return tv_equal(l, r);
	case OP_NE: return !tv_equal(l, r);
	case OP_CONTAINS:
		if (l.t == TV_STR) {
			struct tval rs = tv_to_s(c->rs, r);
			if (rs.s.n == 0)
				return 1;
			return memmem(l.s.p, l.s.n, rs.s.p, rs.s.n) != NULL;
		}
		if (tv_is_array(l)) {
			size_t n = tv_len(l);
			for (size_t i = 0; i < n; i++)
				if (tv_equal(tv_item(l, i), r))
					return 1;
			return 0;
		}
		if ((l.t == TV_JSON || l.t == TV_OBJ) && r.t == TV_STR) {
			int f;
			tv_get_key(c->rs, l, r.s.p, r.s.n, &f);
			return f;
		}
		return 0;
	default:
		if (tv_compare(l, r, &cmp) < 0) {
			if (c->rs->ro->strict_variables && l.t != TV_NIL && r.t != TV_NIL)
				rs_fail(c->rs, CAIRN_EUNPROC, line, "Cannot compare these values.");
			return 0;
		}
		switch (k->op) {
		case OP_LT: return cmp < 0;
		case OP_GT: return cmp > 0;
		case OP_LE: return cmp <= 0;
		default: return cmp >= 0;
		}
	}
}

static int cond_eval(struct rctx *c, const struct tpl_cond *k, int line)
{
	for (;;) {
		int r = cond_cmp(c, k, line);
		if (k->rel == 1 && r)
			k = k->child;
		else if (k->rel == 2 && !r)
			k = k->child;
		else
			return r;
	}
}

/* A loop's items without copying: a view over an array, range or object. */
struct seg {
	struct tval base;
	int kind; /* 0 indexable, 1 object pairs, 2 single value */
	size_t from, n;
	int reversed;
};

static struct tval seg_item(struct rctx *c, struct seg *s, size_t i)
{
	size_t k = s->reversed ? s->from + s->n - 1 - i : s->from + i;
	if (s->kind == 2)
		return s->base;
	if (s->kind == 0)
		return tv_item(s->base, k);
	struct tarr *pair = tarr_new(c->rs, 2);
	if (s->base.t == TV_JSON) {
		void *it = json_object_iter(s->base.j);
		for (size_t j = 0; j < k && it; j++)
			it = json_object_iter_next(s->base.j, it);
		if (it) {
			pair->v[0] = tv_str(json_object_iter_key(it), json_object_iter_key_len(it));
			pair->v[1] = tv_from_json(json_object_iter_value(it));
		}
	} else {
		pair->v[0] = tv_str(s->base.o->e[k].k, s->base.o->e[k].kn);
		pair->v[1] = s->base.o->e[k].v;
	}
	struct tval v = {.t = TV_ARR};
	v.a = pair;
	return v;
}

static int64_t attr_int(struct rctx *c, const struct tpl_expr *x, int line)
{
	struct tval v = eval(c, x, line);
	if (v.t == TV_NIL)
		return 0;
	int ok;
	int64_t r = tv_to_int(v, &ok);
	if (!ok)
		rs_fail(c->rs, CAIRN_EUNPROC, line, "Invalid integer in a loop attribute.");
	return r;
}

/* Builds the segment of a for/tablerow; returns 0 if the collection is nil
 * (tablerow then renders nothing at all). */
static int make_seg(struct rctx *c, const struct tpl_node *n, struct seg *s)
{
	struct tval coll = eval(c, n->loop.coll, n->line);
	memset(s, 0, sizeof *s);
	s->base = coll;
	size_t len = 0;
	if (coll.t == TV_RANGE || coll.t == TV_ARR || (coll.t == TV_JSON && json_is_array(coll.j))) {
		len = tv_len(coll);
	} else if (coll.t == TV_JSON || coll.t == TV_OBJ) {
		s->kind = 1;
		len = tv_len(coll);
	} else if (coll.t == TV_STR) {
		s->kind = 2;
		s->n = coll.s.n ? 1 : 0;
		return 1;
	} else {
		s->n = 0;
		return coll.t != TV_NIL;
	}
	int64_t from = 0;
	if (n->loop.offset_continue) {
		struct var *e =
			vmap_find(&c->offsets, n->loop.regname, n->loop.regn, tpl_hash(n->loop.regname, n->loop.regn));
		from = e ? e->v.i : 0;
	} else if (n->loop.has_offset) {
		from = attr_int(c, n->loop.offset, n->line);
	}
	if (from < 0)
		from = 0;
	int64_t to = (int64_t)len;
	if (n->loop.has_limit) {
		int64_t lim = attr_int(c, n->loop.limit, n->line);
		if (lim < 0)
			lim = 0;
		if (from + lim < to)
			to = from + lim;
	}
	if (from > (int64_t)len)
		from = (int64_t)len;
	s->from = (size_t)from;
	s->n = to > from ? (size_t)(to - from) : 0;
	return 1;
}

static int count_iter(struct rctx *c, int line)
{
	struct rs *rs = c->rs;
	if (++rs->iters > rs->lim.max_iterations)
		return rs_fail(rs, CAIRN_ETOOBIG, line, "Loops ran more than %llu times in total.",
			       (unsigned long long)rs->lim.max_iterations);
	return 0;
}

static void render_for(struct rctx *c, const struct tpl_node *n)
{
	struct seg s;
	make_seg(c, n, &s);
	s.reversed = n->loop.reversed;
	if (s.kind != 2) {
		struct var *e = vmap_put(c->rs, &c->offsets, n->loop.regname, n->loop.regn,
					 tpl_hash(n->loop.regname, n->loop.regn));
		e->v = tv_int((int64_t)(s.from + s.n));
	}
	if (s.n == 0) {
		if (n->loop.has_else)
			render_body(c, &n->loop.els);
		return;
	}
	struct tloop loop = {0};
	loop.length = (int64_t)s.n;
	loop.name = n->loop.regname;
	loop.name_len = n->loop.regn;
	loop.parent = c->forloop;
	int base = c->sn;
	struct tval lv = {.t = TV_LOOP};
	lv.loop = &loop;
	push_var(c, "forloop", 7, tpl_hash("forloop", 7), lv);
	push_var(c, n->loop.var, n->loop.vn, n->loop.vhash, tv_nil());
	int slot = c->sn - 1;
	struct tloop *saved = c->forloop;
	c->forloop = &loop;
	for (size_t i = 0; i < s.n && !c->rs->failed; i++) {
		if (count_iter(c, n->line) < 0)
			break;
		loop.index0 = (int64_t)i;
		c->stack[slot].v = seg_item(c, &s, i);
		render_body(c, &n->loop.body);
		if (c->interrupt) {
			int brk = c->interrupt == 1;
			c->interrupt = 0;
			if (brk)
				break;
		}
	}
	c->forloop = saved;
	c->sn = base;
}

static void render_tablerow(struct rctx *c, const struct tpl_node *n)
{
	struct rs *rs = c->rs;
	struct seg s;
	if (!make_seg(c, n, &s))
		return;
	if (s.kind == 2)
		s.n = 0; /* a string is not iterable here */
	int64_t cols = (int64_t)s.n;
	if (n->loop.has_cols)
		cols = attr_int(c, n->loop.cols, n->line);
	struct buf *o = rs->out;
	buf_adds(o, "<tr class=\"row1\">\n");
	struct tloop loop = {0};
	loop.tablerow = 1;
	loop.length = (int64_t)s.n;
	loop.cols = cols;
	loop.col = 1;
	loop.row = 1;
	int base = c->sn;
	struct tval lv = {.t = TV_LOOP};
	lv.loop = &loop;
	push_var(c, "tablerowloop", 12, tpl_hash("tablerowloop", 12), lv);
	push_var(c, n->loop.var, n->loop.vn, n->loop.vhash, tv_nil());
	int slot = c->sn - 1;
	for (size_t i = 0; i < s.n && !rs->failed; i++) {
		if (count_iter(c, n->line) < 0)
			break;
		loop.index0 = (int64_t)i;
		c->stack[slot].v = seg_item(c, &s, i);
		buf_addf(o, "<td class=\"col%lld\">", (long long)loop.col);
		render_body(c, &n->loop.body);
		buf_adds(o, "</td>");
		if (c->interrupt) {
			int brk = c->interrupt == 1;
			c->interrupt = 0;
			if (brk)
				break;
		}
		if (loop.col == loop.cols && i != s.n - 1)
			buf_addf(o, "</tr>\n<tr class=\"row%lld\">", (long long)loop.row + 1);
		if (loop.col == loop.cols) {
			loop.col = 1;
			loop.row++;
		} else {
			loop.col++;
		}
	}
	buf_adds(o, "</tr>\n");
	c->sn = base;
}

static void cycle_key(struct rctx *c, const struct tpl_node *n, struct buf *kb)
{
	if (n->cycle.group) {
		struct tval g = eval(c, n->cycle.group, n->line);
		buf_addch(kb, (char)('a' + g.t));
		tv_inspect(c->rs, g, kb, 0);
	} else if (n->cycle.key) {
		buf_addch(kb, 'L');
		buf_add(kb, n->cycle.key, n->cycle.keyn);
	} else {
		buf_addf(kb, "P%p", (const void *)n);
	}
}

static void render_cycle(struct rctx *c, const struct tpl_node *n)
{
	struct buf kb;
	buf_init(&kb, 4096);
	cycle_key(c, n, &kb);
	uint32_t h = tpl_hash(kb.ptr, kb.len);
	struct var *e = vmap_find(&c->cycles, kb.ptr, kb.len, h);
	if (!e) {
		char *k = tp_strndup(c->rs, kb.ptr, kb.len);
		e = vmap_put(c->rs, &c->cycles, k, kb.len, h);
		e->v = tv_int(0);
	}
	buf_release(&kb);
	int64_t it = e->v.i;
	if (it >= n->cycle.nv || it < 0)
		it = 0;
	struct tval v = eval(c, n->cycle.v[it], n->line);
	tv_render(c->rs, v, c->rs->out);
	it++;
	if (it >= n->cycle.nv)
		it = 0;
	e->v = tv_int(it);
}

static const struct tpl *get_partial(struct rctx *c, const char *name, size_t n, int line)
{
	struct rs *rs = c->rs;
	if (!rs->ro->partial) {
		rs_fail(rs, CAIRN_ENOTFOUND, line, "Template '%.*s' was not found.", (int)n, name);
		return NULL;
	}
	struct cairn_err e = CAIRN_ERR_INIT;
	const struct tpl *t = rs->ro->partial(rs->ro->partial_ud, name, n, &e);
	if (!t) {
		if (e.code)
			rs_fail(rs, e.code, line, "%s", e.message);
		else
			rs_fail(rs, CAIRN_ENOTFOUND, line, "Template '%.*s' was not found.", (int)n, name);
	}
	return t;
}

static void render_include(struct rctx *c, const struct tpl_node *n)
{
	struct rs *rs = c->rs;
	struct tval name;
	if (n->kind == N_RENDER)
		name = tv_str(n->inc.sname, n->inc.sn);
	else
		name = tv_to_s(rs, eval(c, n->inc.name, n->line));
	if (rs->depth >= rs->lim.max_depth) {
		rs_fail(rs, CAIRN_ETOOBIG, n->line, "render/include nested more than %d levels deep.",
			rs->lim.max_depth);
		return;
	}
	const struct tpl *t = get_partial(c, name.s.p, name.s.n, n->line);
	if (!t)
		return;
	const char *alias = n->inc.alias ? n->inc.alias : name.s.p;
	size_t an = n->inc.alias ? n->inc.an : name.s.n;
	uint32_t ah = tpl_hash(alias, an);
	struct tval with = tv_nil();
	int has_with = n->inc.with != NULL;
	if (has_with)
		with = eval(c, n->inc.with, n->line);
	rs->depth++;
	if (n->kind == N_INCLUDE) {
		int base = c->sn;
		for (int i = 0; i < n->inc.nkv; i++)
			push_var(c, n->inc.kv[i].k, n->inc.kv[i].kn, n->inc.kv[i].hash,
				 eval(c, n->inc.kv[i].v, n->line));
		if (!has_with) {
			int f;
			with = lookup_name(c, name.s.p, name.s.n, tpl_hash(name.s.p, name.s.n), &f);
		}
		if (n->inc.is_for && tv_is_array(with)) {
			size_t len = tv_len(with);
			push_var(c, alias, an, ah, tv_nil());
			int slot = c->sn - 1;
			for (size_t i = 0; i < len && !rs->failed; i++) {
				if (count_iter(c, n->line) < 0)
					break;
				c->stack[slot].v = tv_item(with, i);
				render_body(c, &t->root);
				if (c->interrupt)
					break;
			}
		} else {
			push_var(c, alias, an, ah, with);
			render_body(c, &t->root);
		}
		c->sn = base;
		rs->depth--;
		return;
	}
	/* render: an isolated context */
	struct rctx sub;
	memset(&sub, 0, sizeof sub);
	sub.rs = rs;
	sub.data = c->data;
	for (int i = 0; i < n->inc.nkv; i++)
		set_global(&sub, n->inc.kv[i].k, n->inc.kv[i].kn, n->inc.kv[i].hash, eval(c, n->inc.kv[i].v, n->line));
	if (n->inc.is_for && tv_is_array(with)) {
		size_t len = tv_len(with);
		struct tloop loop = {0};
		loop.length = (int64_t)len;
		char *lname = tp_alloc(rs, an + name.s.n + 2);
		memcpy(lname, alias, an);
		lname[an] = '-';
		memcpy(lname + an + 1, name.s.p, name.s.n);
		lname[an + 1 + name.s.n] = '\0';
		loop.name = lname;
		loop.name_len = an + 1 + name.s.n;
		struct tval lv = {.t = TV_LOOP};
		lv.loop = &loop;
		for (size_t i = 0; i < len && !rs->failed; i++) {
			if (count_iter(c, n->line) < 0)
				break;
			loop.index0 = (int64_t)i;
			struct rctx it = sub;
			it.globals.v = NULL;
			it.globals.cap = it.globals.n = 0;
			for (int k = 0; k < n->inc.nkv; k++)
				set_global(&it, n->inc.kv[k].k, n->inc.kv[k].kn, n->inc.kv[k].hash,
					   eval(c, n->inc.kv[k].v, n->line));
			set_global(&it, alias, an, ah, tv_item(with, i));
			set_global(&it, "forloop", 7, tpl_hash("forloop", 7), lv);
			render_body(&it, &t->root);
		}
	} else {
		if (has_with)
			set_global(&sub, alias, an, ah, with);
		render_body(&sub, &t->root);
	}
	rs->depth--;
}

static void render_node(struct rctx *c, const struct tpl_node *n)
{
	struct rs *rs = c->rs;
	struct buf *o = rs->out;
	switch (n->kind) {
	case N_TEXT: buf_add(o, n->text.p, n->text.n); return;
	case N_OUT: {
		struct tval v = apply_filters(c, n->var, n->line);
		if (!rs->failed)
			tv_render(rs, v, o);
		return;
	}
	case N_ASSIGN: {
		struct tval v = apply_filters(c, n->as.var, n->line);
		set_global(c, n->as.name, n->as.n, n->as.hash, v);
		return;
	}
	case N_CAPTURE: {
		size_t start = o->len;
		render_body(c, &n->as.body);
		struct tval v = tv_str(tp_strndup(rs, o->ptr + start, o->len - start), o->len - start);
		buf_truncate(o, start);
		set_global(c, n->as.name, n->as.n, n->as.hash, v);
		return;
	}
	case N_INCR:
	case N_DECR: {
		struct var *e = vmap_find(&c->counters, n->as.name, n->as.n, n->as.hash);
		if (!e) {
			e = vmap_put(rs, &c->counters, n->as.name, n->as.n, n->as.hash);
			e->v = tv_int(0);
		}
		char num[24];
		if (n->kind == N_INCR) {
			buf_add(o, num, fmt_int(e->v.i, num));
			e->v.i++;
		} else {
			e->v.i--;
			buf_add(o, num, fmt_int(e->v.i, num));
		}
		return;
	}
	case N_IF:
		for (int i = 0; i < n->cond.nb; i++) {
			const struct tpl_branch *b = &n->cond.b[i];
			int ok = !b->cond || (cond_eval(c, b->cond, n->line) != b->negate);
			if (rs->failed)
				return;
			if (ok) {
				render_body(c, &b->body);
				return;
			}
		}
		return;
	case N_CASE: {
		struct tval subj = eval(c, n->cond.subject, n->line);
		int matched = 0;
		for (int i = 0; i < n->cond.nb && !rs->failed; i++) {
			const struct tpl_branch *b = &n->cond.b[i];
			if (!b->vals) {
				if (!matched)
					render_body(c, &b->body);
				continue;
			}
			for (int k = 0; k < b->nvals; k++) {
				if (tv_equal(subj, eval(c, b->vals[k], n->line))) {
					matched = 1;
					render_body(c, &b->body);
					break;
				}
			}
		}
		return;
	}
	case N_FOR: render_for(c, n); return;
	case N_TABLEROW: render_tablerow(c, n); return;
	case N_CYCLE: render_cycle(c, n); return;
	case N_BREAK: c->interrupt = 1; return;
	case N_CONTINUE: c->interrupt = 2; return;
	case N_INCLUDE:
	case N_RENDER: render_include(c, n); return;
	case N_IFCHANGED: {
		size_t start = o->len;
		render_body(c, &n->body);
		struct tval v = tv_str(o->ptr + start, o->len - start);
		if (c->has_ifchanged && tv_equal(v, c->ifchanged)) {
			buf_truncate(o, start);
			return;
		}
		c->ifchanged = tv_str(tp_strndup(rs, v.s.p, v.s.n), v.s.n);
		c->has_ifchanged = 1;
		return;
	}
	default: return;
	}
}

static void render_body(struct rctx *c, const struct tpl_body *b)
{
	struct rs *rs = c->rs;
	rs->steps += (uint64_t)b->n;
	if (rs->steps > rs->lim.max_steps) {
		rs_fail(rs, CAIRN_ETOOBIG, b->n ? b->nodes[0]->line : 0, "The template took more than %llu steps.",
			(unsigned long long)rs->lim.max_steps);
		return;
	}
	for (int i = 0; i < b->n; i++) {
		const struct tpl_node *n = b->nodes[i];
		render_node(c, n);
		if (rs->failed || check_out(c, n->line) < 0)
			return;
		if (c->interrupt)
			return;
	}
}

/* ---- entry points ---------------------------------------------------------------------------- */

static void limits_fill(struct tpl_limits *l, const struct tpl_limits *in)
{
	*l = *in;
	if (!l->max_steps)
		l->max_steps = TPL_DEFAULT_MAX_STEPS;
	if (!l->max_iterations)
		l->max_iterations = TPL_DEFAULT_MAX_ITERATIONS;
	if (!l->max_output)
		l->max_output = TPL_DEFAULT_MAX_OUTPUT;
	if (!l->max_memory)
		l->max_memory = TPL_DEFAULT_MAX_MEMORY;
	if (!l->max_depth)
		l->max_depth = TPL_DEFAULT_MAX_DEPTH;
}

int tpl_render(const struct tpl *t, json_t *data, const struct tpl_render_opts *ro, struct buf *out,
	       struct cairn_err *err)
{
	static const struct tpl_render_opts defaults;
	if (!ro)
		ro = &defaults;
	struct tpool *pool = tls_pool;
	int own = 0;
	if (!pool || pool->busy) {
		/* first use on this thread, or a render inside a filter callback */
		pool = xcalloc(1, sizeof *pool);
		if (!tls_pool) {
			tls_pool = pool;
			pthread_once(&pool_key_once, pool_key_create);
			pthread_setspecific(pool_key, pool);
		} else {
			own = 1;
		}
	}
	pool->busy = 1;
	pool_reset(pool);
	struct rs rs;
	memset(&rs, 0, sizeof rs);
	rs.pool = pool;
	rs.out = out;
	rs.out_start = out->len;
	rs.ro = ro;
	limits_fill(&rs.lim, &ro->limits);
	rs.err = err;
	rs.data = data;
	rs.now_ms = ro->now_ms ? ro->now_ms : clock_now_ms();
	struct rctx c;
	memset(&c, 0, sizeof c);
	c.rs = &rs;
	c.data = data;
	render_body(&c, &t->root);
	if (!rs.failed)
		check_out(&c, 0);
	tpl_date_cache_free(&rs);
	pool->busy = 0;
	if (own)
		pool_free(pool);
	if (rs.failed)
		return err && err->code ? err->code : CAIRN_EUNPROC;
	return 0;
}

/* ---- partial cache ---------------------------------------------------------------------------- */

struct cache_ent {
	char *name;
	size_t n;
	struct tpl *t;
	struct cache_ent *next;
};

struct tpl_cache {
	pthread_mutex_t mu;
	tpl_source_fn source;
	void *ud;
	struct tpl_opts opts;
	struct cache_ent *head;
};

struct tpl_cache *tpl_cache_new(tpl_source_fn source, void *source_ud, const struct tpl_opts *opts)
{
	struct tpl_cache *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->source = source;
	c->ud = source_ud;
	if (opts)
		c->opts = *opts;
	c->opts.name = NULL;
	return c;
}

void tpl_cache_free(struct tpl_cache *c)
{
	if (!c)
		return;
	struct cache_ent *e = c->head;
	while (e) {
		struct cache_ent *n = e->next;
		tpl_free(e->t);
		free(e->name);
		free(e);
		e = n;
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const struct tpl *tpl_cache_partial(void *cache, const char *name, size_t len, struct cairn_err *err)
{
	struct tpl_cache *c = cache;
	pthread_mutex_lock(&c->mu);
	for (struct cache_ent *e = c->head; e; e = e->next) {
		if (e->n == len && memcmp(e->name, name, len) == 0) {
			pthread_mutex_unlock(&c->mu);
			return e->t;
		}
	}
	size_t sl = 0;
	const char *src = c->source ? c->source(c->ud, name, len, &sl) : NULL;
	if (!src) {
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	char label[160];
	snprintf(label, sizeof label, "templates.%.*s", (int)(len > 100 ? 100 : len), name);
	struct tpl_opts o = c->opts;
	o.name = label;
	struct tpl *t = tpl_parse(src, sl, &o, err);
	if (!t) {
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	struct cache_ent *e = xcalloc(1, sizeof *e);
	e->name = xstrndup(name, len);
	e->n = len;
	e->t = t;
	e->next = c->head;
	c->head = e;
	pthread_mutex_unlock(&c->mu);
	return t;
}

/* ---- validate ----------------------------------------------------------------------------------- */

struct vstate {
	json_t *vars, *filters, *partials, *uvars, *ufilters;
	json_t *defined; /* names the template defines */
	json_t *data;
};

static void add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return;
	json_array_append_new(arr, json_string(s));
}

static void v_expr(struct vstate *vs, const struct tpl_expr *x);

static void v_var_path(struct vstate *vs, const struct tpl_expr *x)
{
	if (!x->name) {
		v_expr(vs, x->root_dyn);
		for (int i = 0; i < x->nlook; i++)
			if (x->look[i].dyn)
				v_expr(vs, x->look[i].dyn);
		return;
	}
	struct buf b;
	buf_init(&b, 4096);
	buf_add(&b, x->name, x->name_len);
	json_t *cur = vs->data && json_is_object(vs->data) ? json_object_getn(vs->data, x->name, x->name_len) : NULL;
	int known = cur != NULL || json_object_get(vs->defined, b.ptr) != NULL ||
		    (x->name_len == 4 && memcmp(x->name, "self", 4) == 0);
	int checking = cur != NULL;
	for (int i = 0; i < x->nlook; i++) {
		const struct tpl_lookup *l = &x->look[i];
		if (l->dyn) {
			v_expr(vs, l->dyn);
			buf_adds(&b, "[]");
			checking = 0;
			continue;
		}
		buf_addch(&b, '.');
		buf_add(&b, l->key, l->len);
		if (checking) {
			json_t *nx = json_is_object(cur) ? json_object_getn(cur, l->key, l->len) : NULL;
			if (!nx &&
			    !(l->command && (json_is_array(cur) || json_is_string(cur) || json_is_object(cur)))) {
				if (json_is_object(cur))
					known = 0;
				checking = 0;
			}
			cur = nx;
			if (!cur)
				checking = 0;
		}
	}
	add_unique(vs->vars, b.ptr);
	if (!known)
		add_unique(vs->uvars, b.ptr);
	buf_release(&b);
}

static void v_expr(struct vstate *vs, const struct tpl_expr *x)
{
	if (!x)
		return;
	if (x->kind == EX_VAR)
		v_var_path(vs, x);
	else if (x->kind == EX_RANGE) {
		v_expr(vs, x->lo);
		v_expr(vs, x->hi);
	}
}

static void v_var(struct vstate *vs, const struct tpl_var *v)
{
	if (!v)
		return;
	v_expr(vs, v->expr);
	for (int i = 0; i < v->nf; i++) {
		add_unique(vs->filters, v->f[i].name);
		if (!v->f[i].def)
			add_unique(vs->ufilters, v->f[i].name);
		for (int a = 0; a < v->f[i].nargs; a++)
			v_expr(vs, v->f[i].args[a]);
		for (int a = 0; a < v->f[i].nkw; a++)
			v_expr(vs, v->f[i].kwv[a]);
	}
}

static void v_cond(struct vstate *vs, const struct tpl_cond *k)
{
	for (; k; k = k->child) {
		v_expr(vs, k->l);
		v_expr(vs, k->r);
	}
}

static void define(struct vstate *vs, const char *name, size_t n)
{
	char *s = xstrndup(name, n);
	json_object_set_new(vs->defined, s, json_true());
	free(s);
}

static void v_collect_defs(struct vstate *vs, const struct tpl_body *b);

static void v_def_node(struct vstate *vs, const struct tpl_node *n)
{
	switch (n->kind) {
	case N_ASSIGN:
	case N_CAPTURE:
	case N_INCR:
	case N_DECR:
		define(vs, n->as.name, n->as.n);
		if (n->kind == N_CAPTURE)
			v_collect_defs(vs, &n->as.body);
		break;
	case N_IF:
	case N_CASE:
		for (int i = 0; i < n->cond.nb; i++)
			v_collect_defs(vs, &n->cond.b[i].body);
		break;
	case N_FOR:
	case N_TABLEROW:
		define(vs, n->loop.var, n->loop.vn);
		define(vs, n->kind == N_FOR ? "forloop" : "tablerowloop", n->kind == N_FOR ? 7 : 12);
		v_collect_defs(vs, &n->loop.body);
		v_collect_defs(vs, &n->loop.els);
		break;
	case N_IFCHANGED: v_collect_defs(vs, &n->body); break;
	default: break;
	}
}

static void v_collect_defs(struct vstate *vs, const struct tpl_body *b)
{
	for (int i = 0; i < b->n; i++)
		v_def_node(vs, b->nodes[i]);
}

static void v_body(struct vstate *vs, const struct tpl_body *b);

static void v_node(struct vstate *vs, const struct tpl_node *n)
{
	switch (n->kind) {
	case N_OUT: v_var(vs, n->var); break;
	case N_ASSIGN: v_var(vs, n->as.var); break;
	case N_CAPTURE: v_body(vs, &n->as.body); break;
	case N_IF:
	case N_CASE:
		v_expr(vs, n->cond.subject);
		for (int i = 0; i < n->cond.nb; i++) {
			v_cond(vs, n->cond.b[i].cond);
			for (int k = 0; k < n->cond.b[i].nvals; k++)
				v_expr(vs, n->cond.b[i].vals[k]);
			v_body(vs, &n->cond.b[i].body);
		}
		break;
	case N_FOR:
	case N_TABLEROW:
		v_expr(vs, n->loop.coll);
		v_expr(vs, n->loop.limit);
		v_expr(vs, n->loop.offset);
		v_expr(vs, n->loop.cols);
		v_body(vs, &n->loop.body);
		v_body(vs, &n->loop.els);
		break;
	case N_CYCLE:
		v_expr(vs, n->cycle.group);
		for (int i = 0; i < n->cycle.nv; i++)
			v_expr(vs, n->cycle.v[i]);
		break;
	case N_INCLUDE:
	case N_RENDER:
		if (n->inc.sname)
			add_unique(vs->partials, n->inc.sname);
		else if (n->inc.name && n->inc.name->kind == EX_LIT && n->inc.name->lit.t == TV_STR)
			add_unique(vs->partials, n->inc.name->lit.s.p);
		else
			v_expr(vs, n->inc.name);
		v_expr(vs, n->inc.with);
		for (int i = 0; i < n->inc.nkv; i++)
			v_expr(vs, n->inc.kv[i].v);
		break;
	case N_IFCHANGED: v_body(vs, &n->body); break;
	default: break;
	}
}

static void v_body(struct vstate *vs, const struct tpl_body *b)
{
	for (int i = 0; i < b->n; i++)
		v_node(vs, b->nodes[i]);
}

json_t *tpl_validate(const struct tpl *t, json_t *data)
{
	struct vstate vs;
	vs.vars = json_array();
	vs.filters = json_array();
	vs.partials = json_array();
	vs.uvars = json_array();
	vs.ufilters = json_array();
	vs.defined = json_object();
	vs.data = data;
	v_collect_defs(&vs, &t->root);
	v_body(&vs, &t->root);
	json_decref(vs.defined);
	json_t *r = json_object();
	json_object_set_new(r, "variables", vs.vars);
	json_object_set_new(r, "filters", vs.filters);
	json_object_set_new(r, "partials", vs.partials);
	json_object_set_new(r, "unknown_variables", vs.uvars);
	json_object_set_new(r, "unknown_filters", vs.ufilters);
	return r;
}
