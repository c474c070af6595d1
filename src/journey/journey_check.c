/* journey_check.c — what must hold before a journey is published, beyond
 * what jny_parse already guarantees (journey.h invariant 2).
 *
 * Checks, each a problem code (docs/journeys.md, "Publish checks"):
 *   unknown_segment        a segment trigger / broadcast, or a {"segment"}
 *                          leaf of a branch condition, names no live segment
 *   condition_never_holds  a condition contradicts itself (see never())
 *   unreachable_node       no path from `start` leads to the node
 *   loop_without_wait      a cycle of nodes none of which makes the user
 *                          wait: a user would go round it without stopping
 *   missing_template       a send node (or one of its variants) names a
 *                          template the workspace does not have
 *   (a template's slug)    an inline template fails the check a saved one
 *                          passes (content_check: required fields, Liquid
 *                          syntax), e.g. template_syntax, missing_field
 *   wait_beyond_goal       the waits along some path from `start` to a goal
 *                          node add up to more than the goal's `within`
 *
 * Problems come journey-wide first (trigger, exit_on, goal), then node by
 * node in node order; within a node in the order above. Each names the
 * node, the JSON path and what to do. The workspace is asked through the
 * callbacks of struct jny_check_env only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "content/content.h"
#include "journey/journey.h"

#define MSG_MAX	   4096 /* bytes of one problem's message */
#define PATH_SHOWN 12	/* node ids shown in a path or a loop */
#define LEAF_SHOWN 120	/* bytes of a condition leaf quoted in a message */

struct checker {
	const struct jny_def *d;
	const struct jny_check_env *env;
	struct jny_problems *out;
	size_t cap;
	struct cairn_err *err;
};

__attribute__((format(printf, 5, 6))) static void add(struct checker *c, const char *node, const char *field,
						      const char *code, const char *fmt, ...)
{
	struct buf msg;
	buf_init(&msg, MSG_MAX);
	if (node)
		buf_addf(&msg, "Node \"%s\": ", node);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	xgrow((void **)&c->out->items, &c->cap, c->out->n + 1, sizeof *c->out->items);
	struct jny_problem *p = &c->out->items[c->out->n++];
	p->node = node ? xstrdup(node) : NULL;
	p->field = xstrdup(field);
	p->code = xstrdup(code);
	p->message = buf_detach(&msg, NULL);
}

void jny_problems_release(struct jny_problems *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].node);
		free(p->items[i].field);
		free(p->items[i].code);
		free(p->items[i].message);
	}
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

/* A duration for messages: "9 days 4 hours", "30 minutes". */
static void add_duration(struct buf *b, int64_t ms)
{
	static const char *const units[] = {"day", "hour", "minute"};
	static const int64_t unit_ms[] = {86400000, 3600000, 60000};
	int any = 0;
	for (size_t i = 0; i < 3; i++) {
		int64_t q = ms / unit_ms[i];
		ms -= q * unit_ms[i];
		if (q) {
			buf_addf(b, "%s%lld %s%s", any ? " " : "", (long long)q, units[i], q == 1 ? "" : "s");
			any = 1;
		}
	}
	if (!any)
		buf_adds(b, "0 minutes");
}

/* ---- conditions that can never hold ------------------------------------------ */

/* Could a value equal operand a and operand b at once (cond's eq rules:
 * strings exactly, booleans exactly, numbers and numeric strings by value)? */
static int num_of(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	char *end;
	if (!*s)
		return 0;
	*out = strtod(s, &end);
	return *end == '\0' && end != s && ((*s >= '0' && *s <= '9') || *s == '-' || *s == '.');
}

static int could_equal(const json_t *a, const json_t *b)
{
	if (json_is_boolean(a) || json_is_boolean(b))
		return json_is_boolean(a) && json_is_boolean(b) && json_is_true(a) == json_is_true(b);
	if (json_is_string(a) && json_is_string(b) && json_equal(a, b))
		return 1;
	double x, y;
	return num_of(a, &x) && num_of(b, &y) && x == y;
}

/* The comparable key of a value leaf ("trait", "property", "computed", or
 * "score" without percentile), its name, op and value; 0 for other leaves. */
struct leaf {
	const json_t *j;
	const char *kind, *name, *op;
	const json_t *value;
};

static int leaf_of(const json_t *j, struct leaf *l)
{
	static const char *const kinds[] = {"trait", "property", "computed", "score"};
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < 4; i++) {
		const json_t *n = json_object_get(j, kinds[i]);
		if (json_is_string(n) && json_is_string(json_object_get(j, "op"))) {
			l->j = j;
			l->kind = kinds[i];
			l->name = json_string_value(n);
			l->op = json_string_value(json_object_get(j, "op"));
			l->value = json_object_get(j, "value");
			return 1;
		}
	}
	return 0;
}

static int is_op(const struct leaf *l, const char *op)
{
	return !strcmp(l->op, op);
}

static int list_has(const json_t *list, const json_t *v, int exact)
{
	size_t i;
	const json_t *x;
	json_array_foreach (list, i, x) {
		if (exact ? json_equal(x, v) : could_equal(x, v))
			return 1;
	}
	return 0;
}

/* Lower / upper numeric bound of a leaf (JSON numbers only): 1 when it
 * bounds, with *strict for gt / lt. */
static int lower_of(const struct leaf *l, double *v, int *strict)
{
	if (!json_is_number(l->value) || !(is_op(l, "gt") || is_op(l, "gte") || is_op(l, "eq")))
		return 0;
	*v = json_number_value(l->value);
	*strict = is_op(l, "gt");
	return 1;
}

static int upper_of(const struct leaf *l, double *v, int *strict)
{
	if (!json_is_number(l->value) || !(is_op(l, "lt") || is_op(l, "lte") || is_op(l, "eq")))
		return 0;
	*v = json_number_value(l->value);
	*strict = is_op(l, "lt");
	return 1;
}

/* 1 when leaves a and b (same kind and name) can't both hold. */
static int contradict(const struct leaf *a, const struct leaf *b)
{
	if (strcmp(a->kind, b->kind) || strcmp(a->name, b->name))
		return 0;
	for (int swap = 0; swap < 2; swap++) {
		const struct leaf *x = swap ? b : a, *y = swap ? a : b;
		if (is_op(x, "exists") && is_op(y, "not_exists"))
			return 1;
		if (!is_op(x, "eq") || !x->value)
			continue;
		if (is_op(y, "eq") && y->value && !could_equal(x->value, y->value))
			return 1;
		if (is_op(y, "ne") && y->value && json_equal(x->value, y->value))
			return 1;
		if (is_op(y, "not_exists"))
			return 1;
		if (is_op(y, "in") && json_is_array(y->value) && !list_has(y->value, x->value, 0))
			return 1;
		if (is_op(y, "not_in") && json_is_array(y->value) && list_has(y->value, x->value, 1))
			return 1;
	}
	double lo, hi;
	int slo, shi;
	for (int swap = 0; swap < 2; swap++) {
		const struct leaf *x = swap ? b : a, *y = swap ? a : b;
		if (lower_of(x, &lo, &slo) && upper_of(y, &hi, &shi) && (lo > hi || (lo == hi && (slo || shi))))
			return 1;
	}
	return 0;
}

/* The parts of a conjunction: value leaves and other conditions, gathered
 * through nested `all`s, each with its path. */
struct part {
	const json_t *j;
	char *path;
};
struct conj {
	struct part *items;
	size_t n, cap;
};

static void gather(const json_t *c, struct buf *path, struct conj *cj)
{
	const json_t *a = json_object_get(c, "all");
	if (json_is_array(a)) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			size_t mark = path->len;
			buf_addf(path, ".all[%zu]", i);
			gather(json_array_get(a, i), path, cj);
			buf_truncate(path, mark);
		}
		return;
	}
	xgrow((void **)&cj->items, &cj->cap, cj->n + 1, sizeof *cj->items);
	cj->items[cj->n].j = c;
	cj->items[cj->n].path = xstrdup(path->ptr);
	cj->n++;
}

static void clip_into(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		buf_add(b, s, n);
		buf_adds(b, "…");
		return;
	}
	buf_add(b, s, n);
}

static void add_leaf_text(struct buf *b, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	clip_into(b, s ? s : "?", LEAF_SHOWN);
	free(s);
}

/* 1 when condition c (normalized JSON, at path) can never hold; then path
 * is where and why says why. Rules (conservative: never a false alarm):
 * an `all` with two parts that contradict (two `eq` of one trait or
 * property with different values, `eq` and `ne` of the same value, `eq`
 * outside an `in` list or inside a `not_in` list, `exists` and
 * `not_exists`, numeric bounds that leave no room), or with a part that
 * can never hold; an `any` none of whose parts can hold; an event count
 * below 0. */
static int never(const json_t *c, struct buf *path, struct buf *why)
{
	if (json_is_array(json_object_get(c, "all"))) {
		struct conj cj = {0};
		int found = 0;
		buf_truncate(why, 0);
		gather(c, path, &cj);
		for (size_t i = 0; i < cj.n && !found; i++) {
			struct leaf l;
			if (leaf_of(cj.items[i].j, &l))
				continue;
			struct buf sub;
			buf_init(&sub, 8192);
			buf_adds(&sub, cj.items[i].path);
			if (never(cj.items[i].j, &sub, why)) {
				buf_truncate(path, 0);
				buf_adds(path, sub.ptr);
				found = 1;
			}
			buf_release(&sub);
		}
		for (size_t i = 0; i < cj.n && !found; i++) {
			struct leaf a, b;
			if (!leaf_of(cj.items[i].j, &a))
				continue;
			for (size_t k = i + 1; k < cj.n && !found; k++) {
				if (!leaf_of(cj.items[k].j, &b) || !contradict(&a, &b))
					continue;
				buf_truncate(why, 0);
				buf_adds(why, "these two parts can't both be true: ");
				add_leaf_text(why, a.j);
				buf_adds(why, " and ");
				add_leaf_text(why, b.j);
				found = 1;
			}
		}
		for (size_t i = 0; i < cj.n; i++)
			free(cj.items[i].path);
		free(cj.items);
		return found;
	}
	const json_t *any = json_object_get(c, "any");
	if (json_is_array(any)) {
		for (size_t i = 0; i < json_array_size(any); i++) {
			struct buf sub;
			buf_init(&sub, 8192);
			buf_addf(&sub, "%s.any[%zu]", path->ptr, i);
			int nv = never(json_array_get(any, i), &sub, why);
			buf_release(&sub);
			if (!nv)
				return 0;
		}
		buf_truncate(why, 0);
		buf_adds(why, "none of the alternatives of its \"any\" can be true");
		return json_array_size(any) > 0;
	}
	const json_t *count = json_object_get(c, "count");
	if (json_object_get(c, "event") && json_is_object(count)) {
		const json_t *op = json_object_get(count, "op"), *v = json_object_get(count, "value");
		if (json_is_string(op) && json_is_integer(v) &&
		    ((!strcmp(json_string_value(op), "lt") && json_integer_value(v) <= 0))) {
			buf_truncate(why, 0);
			buf_adds(why, "an event count is never below 0");
			return 1;
		}
	}
	return 0;
}

/* Reports c (at field) when it can never hold. */
static void check_cond(struct checker *k, const char *node, const char *field, const struct cond *c)
{
	if (!c)
		return;
	json_t *j = cond_to_json(c);
	struct buf path, why;
	buf_init(&path, 8192);
	buf_init(&why, MSG_MAX);
	buf_adds(&path, field);
	if (never(j, &path, &why))
		add(k, node, path.ptr, "condition_never_holds",
		    "the condition at %s can never be true: %s. Fix or remove it.", path.ptr, why.ptr);
	buf_release(&path);
	buf_release(&why);
	json_decref(j);
}

/* ---- segments ------------------------------------------------------------- */

static int ask_segment(struct checker *k, const char *node, const char *field, const char *segment)
{
	if (!k->env || !k->env->segment_exists)
		return 0;
	int r = k->env->segment_exists(k->env->arg, segment);
	if (r < 0)
		return cairn_err_set(k->err, CAIRN_EIO, "check_failed", field,
				     "Could not look up segment \"%s\"; try again.", segment);
	if (r == 0)
		add(k, node, field, "unknown_segment",
		    "there is no live segment \"%s\"; create it first or name another segment.", segment);
	return 0;
}

/* Every {"segment": …} leaf of a condition (normalized JSON at path). */
static int check_segment_leaves(struct checker *k, const char *node, const json_t *c, struct buf *path)
{
	static const char *const lists[] = {"all", "any"};
	for (size_t l = 0; l < 2; l++) {
		const json_t *a = json_object_get(c, lists[l]);
		for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
			size_t mark = path->len;
			buf_addf(path, ".%s[%zu]", lists[l], i);
			int rc = check_segment_leaves(k, node, json_array_get(a, i), path);
			buf_truncate(path, mark);
			if (rc < 0)
				return rc;
		}
	}
	const json_t *n = json_object_get(c, "not");
	if (n) {
		size_t mark = path->len;
		buf_adds(path, ".not");
		int rc = check_segment_leaves(k, node, n, path);
		buf_truncate(path, mark);
		return rc;
	}
	const json_t *s = json_object_get(c, "segment");
	if (json_is_string(s)) {
		size_t mark = path->len;
		buf_adds(path, ".segment");
		int rc = ask_segment(k, node, path->ptr, json_string_value(s));
		buf_truncate(path, mark);
		return rc;
	}
	return 0;
}

/* ---- graph shape ---------------------------------------------------------------- */

/* A node that makes the user wait some time: a wait with a duration, or a
 * wait_event (its timeout is positive). A wait with only `until` may end
 * at once (it means "at or after"), so it does not break a loop. */
static int takes_time(const struct jny_node *n)
{
	return (n->type == JN_WAIT && n->duration_ms > 0) || n->type == JN_WAIT_EVENT;
}

struct tarjan {
	const struct jny_def *d;
	int *index, *low, *on_stack, *stack, *comp;
	int next_index, sp, ncomp;
};

/* Strongly connected components of the nodes that don't take time. */
static void strong(struct tarjan *t, int v)
{
	struct jny_edge e[JNY_MAX_EDGES];
	t->index[v] = t->low[v] = t->next_index++;
	t->stack[t->sp++] = v;
	t->on_stack[v] = 1;
	size_t ne = jny_edges(&t->d->nodes[v], e);
	for (size_t i = 0; i < ne; i++) {
		int w = e[i].to;
		if (takes_time(&t->d->nodes[w]))
			continue;
		if (t->index[w] < 0) {
			strong(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->on_stack[w] && t->index[w] < t->low[v]) {
			t->low[v] = t->index[w];
		}
	}
	if (t->low[v] == t->index[v]) {
		int w;
		do {
			w = t->stack[--t->sp];
			t->on_stack[w] = 0;
			t->comp[w] = t->ncomp;
		} while (w != v);
		t->ncomp++;
	}
}

/* The shortest cycle from node v back to v within its component, as ids
 * "a → b → a" appended to msg. */
static void describe_loop(const struct jny_def *d, const int *comp, int v, struct buf *msg)
{
	size_t n = d->nnodes;
	int *prev = xmalloc(n * sizeof *prev), *queue = xmalloc(n * sizeof *queue);
	for (size_t i = 0; i < n; i++)
		prev[i] = -2;
	int head = 0, tail = 0, last = -1;
	queue[tail++] = v;
	while (head < tail && last < 0) {
		int u = queue[head++];
		struct jny_edge e[JNY_MAX_EDGES];
		size_t ne = jny_edges(&d->nodes[u], e);
		for (size_t i = 0; i < ne && last < 0; i++) {
			int w = e[i].to;
			if (comp[w] != comp[v] || takes_time(&d->nodes[w]))
				continue;
			if (w == v)
				last = u;
			else if (prev[w] == -2) {
				prev[w] = u;
				queue[tail++] = w;
			}
		}
	}
	/* walk back from last to v */
	int len = 0;
	for (int u = last; u >= 0 && u != v; u = prev[u])
		queue[len++] = u;
	buf_addf(msg, "%s", d->nodes[v].id);
	for (int i = len - 1; i >= 0; i--) {
		if (len - i > PATH_SHOWN) {
			buf_adds(msg, " → …");
			break;
		}
		buf_addf(msg, " → %s", d->nodes[queue[i]].id);
	}
	buf_addf(msg, " → %s", d->nodes[v].id);
	free(prev);
	free(queue);
}

/* Longest total wait from start to every node, along paths that don't go
 * round a loop (edges back into the depth-first path are left out). */
struct longest {
	const struct jny_def *d;
	int *state; /* 0 new, 1 on the path, 2 done */
	int *order; /* reverse post-order */
	int norder;
	int *pos;
};

static void post_order(struct longest *L, int v)
{
	struct jny_edge e[JNY_MAX_EDGES];
	L->state[v] = 1;
	size_t ne = jny_edges(&L->d->nodes[v], e);
	for (size_t i = 0; i < ne; i++) {
		if (L->state[e[i].to] == 0)
			post_order(L, e[i].to);
	}
	L->state[v] = 2;
	L->order[L->norder++] = v;
}

static int64_t edge_wait(const struct jny_node *n, const struct jny_edge *e)
{
	if (n->type == JN_WAIT)
		return n->duration_ms;
	if (n->type == JN_WAIT_EVENT && e->kind == JE_TIMEOUT)
		return n->timeout_ms;
	return 0;
}

/* ---- the checks ---------------------------------------------------------------- */

/* An inline template is checked as saving it would be (content_check:
 * required fields, every source parsed), its problems at
 * nodes[i](.variants[v]).template.<field>. */
static void check_inline(struct checker *k, const struct jny_node *n, const char *field, const json_t *body)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	if (!n->channel || !content_channel_find(n->channel) || content_check(n->channel, body, 1, NULL, &e) == 0)
		return;
	const char *sub = e.field;
	if (!strncmp(sub, "body", 4) && (sub[4] == '.' || sub[4] == '\0'))
		sub += sub[4] ? 5 : 4;
	char path[256];
	snprintf(path, sizeof path, "%.100s%s%.128s", field, *sub ? "." : "", sub);
	add(k, n->id, path, e.slug[0] ? e.slug : "invalid_template", "%s", e.message);
}

static int check_templates(struct checker *k, size_t i)
{
	const struct jny_node *n = &k->d->nodes[i];
	if (n->type != JN_SEND)
		return 0;
	size_t nt = n->send_variants ? n->nsend_variants : 1;
	for (size_t v = 0; v < nt; v++) {
		const char *id = n->send_variants ? n->send_variants[v].template_id : n->template_id;
		const json_t *inl = n->send_variants ? n->send_variants[v].inline_template : n->inline_template;
		char field[96];
		if (n->send_variants)
			snprintf(field, sizeof field, "nodes[%zu].variants[%zu].template", i, v);
		else
			snprintf(field, sizeof field, "nodes[%zu].template", i);
		if (!id) {
			if (inl)
				check_inline(k, n, field, inl);
			continue;
		}
		if (!k->env || !k->env->template_exists)
			continue;
		int r = k->env->template_exists(k->env->arg, n->channel, id);
		if (r < 0)
			return cairn_err_set(k->err, CAIRN_EIO, "check_failed", field,
					     "Could not look up template \"%s\"; try again.", id);
		if (r == 0)
			add(k, n->id, field, "missing_template",
			    "there is no %s template \"%s\"; create it, or name an existing %s template.", n->channel,
			    id, n->channel);
	}
	return 0;
}

int jny_check(const struct jny_def *d, const struct jny_check_env *env, struct jny_problems *out, struct cairn_err *err)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct checker k = {d, env, out, 0, err ? err : &local};
	size_t n = d->nnodes;
	char field[128];
	int rc = 0;
	out->items = NULL;
	out->n = 0;

	/* journey-wide */
	if (d->trigger.segment)
		rc = ask_segment(&k, NULL, "trigger.segment", d->trigger.segment);
	check_cond(&k, NULL, "trigger.where", d->trigger.match.where);
	for (size_t i = 0; i < d->nexit_on; i++) {
		snprintf(field, sizeof field, "exit_on[%zu].where", i);
		check_cond(&k, NULL, field, d->exit_on[i].where);
	}
	if (d->has_goal)
		check_cond(&k, NULL, "goal.where", d->goal.where);

	/* reachable from start */
	int *reach = xcalloc(n, sizeof *reach), *queue = xmalloc(n * sizeof *queue);
	int head = 0, tail = 0;
	reach[d->start] = 1;
	queue[tail++] = d->start;
	while (head < tail) {
		struct jny_edge e[JNY_MAX_EDGES];
		size_t ne = jny_edges(&d->nodes[queue[head++]], e);
		for (size_t i = 0; i < ne; i++) {
			if (!reach[e[i].to]) {
				reach[e[i].to] = 1;
				queue[tail++] = e[i].to;
			}
		}
	}

	/* loops among the nodes that don't take time */
	struct tarjan t = {d, NULL, NULL, NULL, NULL, NULL, 0, 0, 0};
	t.index = xmalloc(n * sizeof *t.index);
	t.low = xmalloc(n * sizeof *t.low);
	t.on_stack = xcalloc(n, sizeof *t.on_stack);
	t.stack = xmalloc(n * sizeof *t.stack);
	t.comp = xmalloc(n * sizeof *t.comp);
	for (size_t i = 0; i < n; i++)
		t.index[i] = -1;
	for (size_t i = 0; i < n; i++) {
		if (t.index[i] < 0 && !takes_time(&d->nodes[i]))
			strong(&t, (int)i);
	}
	/* a component loops when it has two nodes or a node with an edge to itself;
	 * it is reported at its first node */
	int *comp_size = xcalloc((size_t)t.ncomp + 1, sizeof *comp_size);
	int *comp_first = xmalloc(((size_t)t.ncomp + 1) * sizeof *comp_first);
	for (int c = 0; c < t.ncomp; c++)
		comp_first[c] = -1;
	for (size_t i = 0; i < n; i++) {
		if (takes_time(&d->nodes[i]))
			continue;
		comp_size[t.comp[i]]++;
		if (comp_first[t.comp[i]] < 0)
			comp_first[t.comp[i]] = (int)i;
	}

	/* longest waits from start, for goal nodes */
	struct longest L = {d, xcalloc(n, sizeof(int)), xmalloc(n * sizeof(int)), 0, xmalloc(n * sizeof(int))};
	int64_t *dist = xmalloc(n * sizeof *dist);
	int *prev = xmalloc(n * sizeof *prev);
	int want_goal = d->has_goal && d->goal_within_ms > 0;
	if (want_goal) {
		post_order(&L, d->start);
		for (int i = 0; i < L.norder; i++)
			L.pos[L.order[L.norder - 1 - i]] = i;
		for (size_t i = 0; i < n; i++) {
			dist[i] = -1;
			prev[i] = -1;
		}
		dist[d->start] = 0;
		for (int i = L.norder - 1; i >= 0; i--) {
			int u = L.order[i];
			if (dist[u] < 0)
				continue;
			struct jny_edge e[JNY_MAX_EDGES];
			size_t ne = jny_edges(&d->nodes[u], e);
			for (size_t x = 0; x < ne; x++) {
				int v = e[x].to;
				if (L.pos[v] <= L.pos[u])
					continue; /* back into the path: a loop */
				int64_t w = dist[u] + edge_wait(&d->nodes[u], &e[x]);
				if (w > dist[v]) {
					dist[v] = w;
					prev[v] = u;
				}
			}
		}
	}

	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct jny_node *nd = &d->nodes[i];
		snprintf(field, sizeof field, "nodes[%zu]", i);
		if (!reach[i])
			add(&k, nd->id, field, "unreachable_node",
			    "no path from the start node \"%s\" leads here; connect it with a \"next\" or remove it.",
			    d->nodes[d->start].id);
		if (!takes_time(nd) && comp_first[t.comp[i]] == (int)i) {
			int self = 0;
			struct jny_edge e[JNY_MAX_EDGES];
			size_t ne = jny_edges(nd, e);
			for (size_t x = 0; x < ne; x++)
				self |= e[x].to == (int)i;
			if (comp_size[t.comp[i]] > 1 || self) {
				struct buf loop;
				buf_init(&loop, MSG_MAX);
				describe_loop(d, t.comp, (int)i, &loop);
				add(&k, nd->id, field, "loop_without_wait",
				    "%s is a loop with no wait in it; add a wait with a duration (or a wait_event) "
				    "to the loop, or users would go round it without stopping.",
				    loop.ptr);
				buf_release(&loop);
			}
		}
		rc = check_templates(&k, i);
		if (rc < 0)
			break;
		if (nd->type == JN_WAIT_EVENT) {
			snprintf(field, sizeof field, "nodes[%zu].where", i);
			check_cond(&k, nd->id, field, nd->wait.where);
		}
		for (size_t b = 0; nd->type == JN_BRANCH && b < nd->nbranches && rc == 0; b++) {
			snprintf(field, sizeof field, "nodes[%zu].branches[%zu].when", i, b);
			check_cond(&k, nd->id, field, nd->branches[b].when);
			json_t *j = cond_to_json(nd->branches[b].when);
			struct buf path;
			buf_init(&path, 8192);
			buf_adds(&path, field);
			rc = check_segment_leaves(&k, nd->id, j, &path);
			buf_release(&path);
			json_decref(j);
		}
		if (want_goal && nd->type == JN_GOAL && dist[i] > d->goal_within_ms) {
			struct buf msg;
			buf_init(&msg, MSG_MAX);
			buf_adds(&msg, "users can reach this goal after waiting ");
			add_duration(&msg, dist[i]);
			buf_adds(&msg, " (");
			int len = 0;
			for (int u = (int)i; u >= 0; u = prev[u])
				queue[len++] = u;
			for (int x = len - 1; x >= 0; x--) {
				int shown = len - 1 - x; /* position from the start */
				if (len > PATH_SHOWN && shown >= PATH_SHOWN - 1 && x > 0) {
					if (shown == PATH_SHOWN - 1)
						buf_adds(&msg, " → …");
					continue;
				}
				buf_addf(&msg, "%s%s", shown ? " → " : "", d->nodes[queue[x]].id);
			}
			buf_adds(&msg, "), longer than the goal's window of ");
			add_duration(&msg, d->goal_within_ms);
			buf_adds(&msg, " (goal.within), so they could no longer count as converted; shorten the "
				       "waits or widen the window.");
			snprintf(field, sizeof field, "nodes[%zu]", i);
			add(&k, nd->id, field, "wait_beyond_goal", "%s", msg.ptr);
			buf_release(&msg);
		}
	}

	free(reach);
	free(queue);
	free(t.index);
	free(t.low);
	free(t.on_stack);
	free(t.stack);
	free(t.comp);
	free(comp_size);
	free(comp_first);
	free(L.state);
	free(L.order);
	free(L.pos);
	free(dist);
	free(prev);
	if (rc < 0) {
		jny_problems_release(out);
		return CAIRN_EIO;
	}
	return 0;
}

json_t *jny_problems_json(const struct jny_problems *p)
{
	json_t *list = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct jny_problem *x = &p->items[i];
		json_array_append_new(list, json_pack("{s:o,s:s,s:s,s:s}", "node",
						      x->node ? json_string(x->node) : json_null(), "field", x->field,
						      "code", x->code, "message", x->message));
	}
	json_t *e = json_object();
	json_object_set_new(e, "code", json_string("invalid_journey"));
	if (p->n) {
		json_object_set_new(e, "message", json_string(p->items[0].message));
		json_object_set_new(e, "field", json_string(p->items[0].field));
	} else {
		json_object_set_new(e, "message", json_string("The journey has no problems."));
	}
	json_object_set_new(e, "problems", list);
	return json_pack("{s:o}", "error", e);
}
