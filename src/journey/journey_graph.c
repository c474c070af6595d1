/* journey_graph.c — a journey as Graphviz DOT (`digraph`) or Mermaid
 * (`flowchart TD`) text, for docs, reviews and the web app.
 *
 * One vertex for the trigger and one per node; one edge per transition
 * (jny_edges), labelled with what it stands for: a branch's condition in a
 * few words, a split variant's name and weight, "timeout", "else", the
 * awaited event. Labels are built as plain text lines first (user text
 * clipped, control characters made spaces), then escaped once for the
 * format:
 *   DOT      every id quoted; `"` and `\` escaped; lines joined by `\n`.
 *   Mermaid  ids that are not plain words ([A-Za-z][A-Za-z0-9_]*), are
 *            Mermaid keywords ("end", …) or look like generated ids
 *            ("n3", "n_…") become n<index> (the id stays in the label);
 *            the trigger is n_trigger; `"` `#` `<` `>` `&` `|` and
 *            backquote become entity codes (#quot; …); lines joined by
 *            <br/>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "journey/journey.h"

#define LABEL_MAX  (16u * 1024u) /* bytes of one label before escaping */
#define NAME_SHOWN 40		 /* bytes of an event, template, tag … name in a label */
#define COND_SHOWN 40		 /* bytes of a condition summary on an edge */

/* ---- plain-text labels ------------------------------------------------------ */

/* Appends user text: at most max bytes (UTF-8 kept whole, "…" when cut),
 * control characters as spaces. */
static void add_text(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	int cut = 0;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = 1;
	}
	if (cut) {
		while (n > 0 && s[n - 1] == ' ')
			n--;
	}
	for (size_t i = 0; i < n; i++)
		buf_addch(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
	if (cut)
		buf_adds(b, "…");
}

static void add_duration(struct buf *b, int64_t ms)
{
	static const char *const units[] = {"day", "hour", "minute"};
	static const int64_t unit_ms[] = {86400000, 3600000, 60000};
	int any = 0;
	if (ms < 0) {
		buf_addch(b, '-');
		ms = -ms;
	}
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

static void add_value(struct buf *b, const json_t *v)
{
	if (json_is_string(v)) {
		add_text(b, json_string_value(v), NAME_SHOWN);
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	add_text(b, s ? s : "?", NAME_SHOWN);
	free(s);
}

static const char *op_symbol(const char *op)
{
	static const char *const map[][2] = {{"eq", "="},   {"ne", "!="}, {"gt", ">"},
					     {"gte", ">="}, {"lt", "<"},  {"lte", "<="}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (!strcmp(op, map[i][0]))
			return map[i][1];
	}
	return op;
}

/* "op value" of an object with "op" and maybe "value". */
static void add_cmp(struct buf *b, const json_t *o)
{
	const json_t *op = json_object_get(o, "op");
	if (!json_is_string(op))
		return;
	buf_addf(b, " %s", op_symbol(json_string_value(op)));
	const json_t *v = json_object_get(o, "value");
	if (v) {
		buf_addch(b, ' ');
		add_value(b, v);
	}
}

/* A few words for a condition (normalized JSON). */
static void summarize(const json_t *c, struct buf *b, int nested)
{
	static const char *const lists[][2] = {{"all", " and "}, {"any", " or "}};
	for (size_t l = 0; l < 2; l++) {
		const json_t *a = json_object_get(c, lists[l][0]);
		if (!json_is_array(a))
			continue;
		if (nested && json_array_size(a) > 1)
			buf_addch(b, '(');
		for (size_t i = 0; i < json_array_size(a); i++) {
			if (i)
				buf_adds(b, lists[l][1]);
			summarize(json_array_get(a, i), b, 1);
			if (b->len > LABEL_MAX / 2)
				break;
		}
		if (nested && json_array_size(a) > 1)
			buf_addch(b, ')');
		return;
	}
	const json_t *x;
	if ((x = json_object_get(c, "not"))) {
		buf_adds(b, "not ");
		summarize(x, b, 1);
		return;
	}
	static const char *const valued[] = {"trait", "property", "computed"};
	for (size_t i = 0; i < 3; i++) {
		if (json_is_string(x = json_object_get(c, valued[i]))) {
			add_text(b, json_string_value(x), NAME_SHOWN);
			add_cmp(b, c);
			return;
		}
	}
	if (json_is_string(x = json_object_get(c, "score"))) {
		add_text(b, json_string_value(x), NAME_SHOWN);
		buf_adds(b, " score");
		const json_t *pct = json_object_get(c, "percentile");
		if (pct) {
			buf_adds(b, " percentile");
			add_cmp(b, pct);
		} else {
			add_cmp(b, c);
		}
		return;
	}
	if (json_is_string(x = json_object_get(c, "event"))) {
		const json_t *count = json_object_get(c, "count"), *sum = json_object_get(c, "sum");
		if (!count && !sum)
			buf_adds(b, "did ");
		add_text(b, json_string_value(x), NAME_SHOWN);
		if (json_object_get(c, "where"))
			buf_adds(b, " (filtered)");
		if (count) {
			buf_adds(b, " count");
			add_cmp(b, count);
		}
		if (sum) {
			buf_adds(b, " sum of ");
			add_value(b, json_object_get(sum, "property"));
			add_cmp(b, sum);
		}
		const json_t *w = json_object_get(c, "within");
		if (w) {
			int64_t ms = 0;
			static const char *const units[] = {"weeks", "days", "hours", "minutes"};
			static const int64_t unit_ms[] = {7LL * 86400000, 86400000, 3600000, 60000};
			for (size_t u = 0; u < 4; u++)
				ms += json_integer_value(json_object_get(w, units[u])) * unit_ms[u];
			buf_adds(b, " within ");
			add_duration(b, ms);
		}
		return;
	}
	if (json_is_string(x = json_object_get(c, "segment"))) {
		buf_adds(b, "in segment ");
		add_text(b, json_string_value(x), NAME_SHOWN);
		return;
	}
	if (json_is_string(x = json_object_get(c, "tag"))) {
		buf_adds(b, "tag ");
		add_text(b, json_string_value(x), NAME_SHOWN);
		return;
	}
	if (json_is_object(x = json_object_get(c, "consent"))) {
		add_value(b, json_object_get(x, "channel"));
		buf_adds(b, " ");
		add_value(b, json_object_get(x, "is"));
		return;
	}
	buf_adds(b, "…");
}

/* The condition summary cut to COND_SHOWN bytes. */
static void add_cond(struct buf *b, const struct cond *c)
{
	json_t *j = cond_to_json(c);
	struct buf s;
	buf_init(&s, LABEL_MAX);
	summarize(j, &s, 0);
	add_text(b, s.ptr, COND_SHOWN);
	buf_release(&s);
	json_decref(j);
}

static void add_time(struct buf *b, int minute)
{
	buf_addf(b, "%02d:%02d", (minute / 60) % 100, minute % 60);
}

static void trigger_label(const struct jny_def *d, struct buf *b)
{
	buf_adds(b, "trigger: ");
	switch (d->trigger.type) {
	case JT_EVENT:
		add_text(b, d->trigger.match.event, NAME_SHOWN);
		if (d->trigger.match.where) {
			buf_adds(b, "\nwhere ");
			add_cond(b, d->trigger.match.where);
		}
		break;
	case JT_SEGMENT_ENTERED:
	case JT_SEGMENT_EXITED:
		buf_adds(b, d->trigger.type == JT_SEGMENT_ENTERED ? "entered segment " : "exited segment ");
		add_text(b, d->trigger.segment, NAME_SHOWN);
		break;
	case JT_TRAIT_CHANGED:
		add_text(b, d->trigger.trait, NAME_SHOWN);
		buf_adds(b, " changed");
		if (d->trigger.from) {
			buf_adds(b, " from ");
			add_value(b, d->trigger.from);
		}
		if (d->trigger.to) {
			buf_adds(b, " to ");
			add_value(b, d->trigger.to);
		}
		break;
	case JT_DATE:
		buf_adds(b, "date ");
		add_text(b, d->trigger.trait, NAME_SHOWN);
		if (d->trigger.offset_ms) {
			buf_adds(b, d->trigger.offset_ms < 0 ? " - " : " + ");
			add_duration(b, d->trigger.offset_ms < 0 ? -d->trigger.offset_ms : d->trigger.offset_ms);
		}
		if (d->trigger.at_minute >= 0) {
			buf_adds(b, " at ");
			add_time(b, d->trigger.at_minute);
		}
		break;
	case JT_CONTENT_PUBLISHED: buf_adds(b, "content published"); break;
	case JT_MANUAL: buf_adds(b, "manual"); break;
	case JT_BROADCAST:
		buf_adds(b, "broadcast to ");
		add_text(b, d->trigger.segment, NAME_SHOWN);
		if (d->trigger.cron) {
			buf_adds(b, " (cron ");
			add_text(b, d->trigger.cron, NAME_SHOWN);
			buf_adds(b, ")");
		} else if (d->trigger.at_minute >= 0) {
			buf_adds(b, " at ");
			add_time(b, d->trigger.at_minute);
		}
		break;
	}
}

static void add_list(struct buf *b, const char *prefix, char **v, size_t n, size_t *parts)
{
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, (*parts)++ ? ", " : "");
		buf_adds(b, prefix);
		add_text(b, v[i], NAME_SHOWN);
	}
}

static void node_label(const struct jny_node *n, const struct jny_node_counts *counts, struct buf *b)
{
	static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	buf_adds(b, n->id);
	buf_addch(b, '\n');
	switch (n->type) {
	case JN_SEND:
		buf_addf(b, "send %s", n->channel);
		if (n->send_variants) {
			buf_adds(b, ": ");
			for (size_t i = 0; i < n->nsend_variants; i++) {
				buf_adds(b, i ? ", " : "");
				add_text(b, n->send_variants[i].name, NAME_SHOWN);
				buf_addf(b, " (%d)", n->send_variants[i].weight);
			}
		} else if (n->template_id) {
			buf_adds(b, ": ");
			add_text(b, n->template_id, NAME_SHOWN);
		} else {
			buf_adds(b, " (inline)");
		}
		if (n->nfallback) {
			buf_adds(b, "\nfallback");
			for (size_t i = 0; i < n->nfallback; i++)
				buf_addf(b, "%s %s", i ? "," : "", n->fallback[i]);
		}
		break;
	case JN_WAIT:
		buf_adds(b, "wait");
		if (n->duration_ms) {
			buf_addch(b, ' ');
			add_duration(b, n->duration_ms);
		}
		if (n->until_minute >= 0 || n->weekdays) {
			buf_adds(b, n->duration_ms ? ", then until" : " until");
			if (n->until_minute >= 0) {
				buf_addch(b, ' ');
				add_time(b, n->until_minute);
			}
			for (int k = 1, first = 1; k <= 7; k++) {
				if (n->weekdays & (1u << (k % 7))) {
					buf_addf(b, "%s%s", first ? " " : ",", days[k % 7]);
					first = 0;
				}
			}
		}
		break;
	case JN_WAIT_EVENT:
		buf_adds(b, "wait for ");
		add_text(b, n->wait.event, NAME_SHOWN);
		if (n->wait.where)
			buf_adds(b, " (filtered)");
		buf_adds(b, "\nup to ");
		add_duration(b, n->timeout_ms);
		break;
	case JN_BRANCH: buf_adds(b, "branch"); break;
	case JN_SPLIT:
		buf_adds(b, "split");
		if (n->holdout_pct)
			buf_addf(b, ", holdout %d%%", n->holdout_pct);
		break;
	case JN_UPDATE: {
		size_t parts = 0;
		buf_adds(b, "update: ");
		add_list(b, "+", n->tags_add, n->ntags_add, &parts);
		add_list(b, "-", n->tags_remove, n->ntags_remove, &parts);
		const char *k;
		json_t *v;
		json_object_foreach (n->set_traits, k, v) {
			buf_adds(b, parts++ ? ", set " : "set ");
			add_text(b, k, NAME_SHOWN);
		}
		if (n->lifecycle) {
			buf_adds(b, parts++ ? ", lifecycle " : "lifecycle ");
			add_text(b, n->lifecycle, NAME_SHOWN);
		}
		json_object_foreach (n->score, k, v) {
			buf_adds(b, parts++ ? ", score " : "score ");
			add_text(b, k, NAME_SHOWN);
			buf_addf(b, " %+lld", (long long)json_integer_value(v));
		}
		break;
	}
	case JN_WEBHOOK: {
		/* the host only: paths and queries of hook URLs often hold secrets */
		const char *h = strstr(n->url, "://");
		h = h ? h + 3 : n->url;
		size_t len = strcspn(h, "/?#");
		const char *at = memchr(h, '@', len);
		if (at) {
			len -= (size_t)(at + 1 - h);
			h = at + 1;
		}
		char host[NAME_SHOWN + 1];
		snprintf(host, sizeof host, "%.*s", (int)(len < NAME_SHOWN ? len : NAME_SHOWN), h);
		buf_adds(b, "webhook ");
		add_text(b, host, NAME_SHOWN);
		break;
	}
	case JN_SLACK:
		buf_adds(b, "slack ");
		add_text(b, n->slack_channel, NAME_SHOWN);
		break;
	case JN_GOAL: buf_adds(b, "goal"); break;
	case JN_EXIT: buf_adds(b, "exit"); break;
	}
	if (counts) {
		buf_addf(b, "\nentered %lld · waiting %lld", (long long)counts->entered, (long long)counts->waiting);
		if (counts->exited)
			buf_addf(b, " · exited %lld", (long long)counts->exited);
		if (counts->converted)
			buf_addf(b, " · converted %lld", (long long)counts->converted);
	}
}

static void edge_label(const struct jny_node *n, const struct jny_edge *e, struct buf *b)
{
	switch (e->kind) {
	case JE_NEXT:
		if (n->type == JN_WAIT_EVENT)
			add_text(b, n->wait.event, NAME_SHOWN);
		break;
	case JE_TIMEOUT: buf_adds(b, "timeout"); break;
	case JE_BRANCH: add_cond(b, n->branches[e->index].when); break;
	case JE_ELSE: buf_adds(b, "else"); break;
	case JE_VARIANT:
		add_text(b, n->variants[e->index].name, NAME_SHOWN);
		buf_addf(b, " (%d)", n->variants[e->index].weight);
		break;
	}
}

/* ---- DOT ------------------------------------------------------------------ */

static void dot_str(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '\n')
			buf_adds(out, "\\n");
		else if (*s == '"' || *s == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, *s);
		} else
			buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

static const char *dot_shape(enum jny_node_type t)
{
	switch (t) {
	case JN_WAIT:
	case JN_WAIT_EVENT: return "ellipse";
	case JN_BRANCH:
	case JN_SPLIT: return "diamond";
	case JN_GOAL: return "octagon";
	case JN_EXIT: return "doublecircle";
	default: return "box";
	}
}

static void graph_dot(const struct jny_def *d, const struct jny_node_counts *counts, struct buf *out)
{
	struct buf label;
	buf_init(&label, LABEL_MAX);
	buf_adds(out, "digraph journey {\n\trankdir=TB;\n\tnode [shape=box];\n");
	trigger_label(d, &label);
	buf_adds(out, "\t\"@trigger\" [shape=oval, label=");
	dot_str(out, label.ptr);
	buf_adds(out, "];\n");
	for (size_t i = 0; i < d->nnodes; i++) {
		buf_reset(&label);
		node_label(&d->nodes[i], counts ? &counts[i] : NULL, &label);
		buf_addch(out, '\t');
		dot_str(out, d->nodes[i].id);
		if (strcmp(dot_shape(d->nodes[i].type), "box"))
			buf_addf(out, " [shape=%s, label=", dot_shape(d->nodes[i].type));
		else
			buf_adds(out, " [label=");
		dot_str(out, label.ptr);
		buf_adds(out, "];\n");
	}
	buf_adds(out, "\t\"@trigger\" -> ");
	dot_str(out, d->nodes[d->start].id);
	buf_adds(out, ";\n");
	for (size_t i = 0; i < d->nnodes; i++) {
		struct jny_edge e[JNY_MAX_EDGES];
		size_t ne = jny_edges(&d->nodes[i], e);
		for (size_t k = 0; k < ne; k++) {
			buf_reset(&label);
			edge_label(&d->nodes[i], &e[k], &label);
			buf_addch(out, '\t');
			dot_str(out, d->nodes[i].id);
			buf_adds(out, " -> ");
			dot_str(out, d->nodes[e[k].to].id);
			if (label.len) {
				buf_adds(out, " [label=");
				dot_str(out, label.ptr);
				buf_addch(out, ']');
			}
			buf_adds(out, ";\n");
		}
	}
	buf_adds(out, "}\n");
	buf_release(&label);
}

/* ---- Mermaid ---------------------------------------------------------------- */

static int mermaid_plain(const char *id)
{
	static const char *const keywords[] = {"end",	   "graph",   "flowchart",   "subgraph",  "direction", "style",
					       "classDef", "class",   "click",	     "linkStyle", "call",      "href",
					       "callback", "default", "interpolate", "accTitle",  "accDescr",  NULL};
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
		return 0;
	for (const char *s = id; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	if (id[0] == 'n' && ((id[1] >= '0' && id[1] <= '9') || id[1] == '_'))
		return 0; /* the shape of generated ids */
	for (size_t i = 0; keywords[i]; i++) {
		if (!strcasecmp(id, keywords[i]))
			return 0;
	}
	return 1;
}

static void mermaid_id(const struct jny_def *d, int i, struct buf *out)
{
	if (mermaid_plain(d->nodes[i].id))
		buf_adds(out, d->nodes[i].id);
	else
		buf_addf(out, "n%d", i);
}

static void mermaid_str(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		switch (*s) {
		case '\n': buf_adds(out, "<br/>"); break;
		case '"': buf_adds(out, "#quot;"); break;
		case '#': buf_adds(out, "#35;"); break;
		case '<': buf_adds(out, "#lt;"); break;
		case '>': buf_adds(out, "#gt;"); break;
		case '&': buf_adds(out, "#amp;"); break;
		case '|': buf_adds(out, "#124;"); break;
		case '`': buf_adds(out, "#96;"); break;
		default: buf_addch(out, *s); break;
		}
	}
	buf_addch(out, '"');
}

/* Opening and closing brackets of a node's shape. */
static void mermaid_shape(enum jny_node_type t, const char **open, const char **close)
{
	switch (t) {
	case JN_WAIT:
	case JN_WAIT_EVENT:
		*open = "(";
		*close = ")";
		break;
	case JN_BRANCH:
	case JN_SPLIT:
		*open = "{";
		*close = "}";
		break;
	case JN_GOAL:
		*open = "{{";
		*close = "}}";
		break;
	case JN_EXIT:
		*open = "((";
		*close = "))";
		break;
	default:
		*open = "[";
		*close = "]";
		break;
	}
}

static void graph_mermaid(const struct jny_def *d, const struct jny_node_counts *counts, struct buf *out)
{
	struct buf label;
	buf_init(&label, LABEL_MAX);
	buf_adds(out, "flowchart TD\n");
	trigger_label(d, &label);
	buf_adds(out, "    n_trigger([");
	mermaid_str(out, label.ptr);
	buf_adds(out, "])\n");
	for (size_t i = 0; i < d->nnodes; i++) {
		const char *open, *close;
		buf_reset(&label);
		node_label(&d->nodes[i], counts ? &counts[i] : NULL, &label);
		mermaid_shape(d->nodes[i].type, &open, &close);
		buf_adds(out, "    ");
		mermaid_id(d, (int)i, out);
		buf_adds(out, open);
		mermaid_str(out, label.ptr);
		buf_adds(out, close);
		buf_addch(out, '\n');
	}
	buf_adds(out, "    n_trigger --> ");
	mermaid_id(d, d->start, out);
	buf_addch(out, '\n');
	for (size_t i = 0; i < d->nnodes; i++) {
		struct jny_edge e[JNY_MAX_EDGES];
		size_t ne = jny_edges(&d->nodes[i], e);
		for (size_t k = 0; k < ne; k++) {
			buf_reset(&label);
			edge_label(&d->nodes[i], &e[k], &label);
			buf_adds(out, "    ");
			mermaid_id(d, (int)i, out);
			buf_adds(out, " -->");
			if (label.len) {
				buf_addch(out, '|');
				mermaid_str(out, label.ptr);
				buf_addch(out, '|');
			}
			buf_addch(out, ' ');
			mermaid_id(d, e[k].to, out);
			buf_addch(out, '\n');
		}
	}
	buf_release(&label);
}

void jny_graph(const struct jny_def *d, enum jny_graph_format fmt, const struct jny_node_counts *counts,
	       struct buf *out)
{
	if (fmt == JNY_GRAPH_MERMAID)
		graph_mermaid(d, counts, out);
	else
		graph_dot(d, counts, out);
}
