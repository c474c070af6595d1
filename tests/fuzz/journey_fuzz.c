/* journey_fuzz.c — libFuzzer harness for journey definitions.
 *
 * The input is a definition's JSON. It is parsed; when valid it is turned
 * into the normalized form, which must parse again to a definition whose
 * normalized form is identical (a fixed point), then checked for publishing
 * against a fake workspace (deterministic answers per template / segment
 * id, some of them failures), its problems turned into the API's 422 body,
 * and exported as DOT and Mermaid with and without counts. An invalid
 * definition is a normal outcome but must be reported as a 422
 * "invalid_journey" with a message and a field that are valid UTF-8. Any
 * crash, leak, sanitizer report or abort is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonx.h"
#include "journey/journey.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int f_template(void *arg, const char *channel, const char *id)
{
	(void)arg;
	if (!channel || !id || !*channel || !*id)
		abort();
	uint64_t h = hash(id) ^ hash(channel);
	return h % 13 == 0 ? -1 : (int)(h % 2);
}

static int f_segment(void *arg, const char *id)
{
	(void)arg;
	if (!id || !*id)
		abort();
	uint64_t h = hash(id);
	return h % 11 == 0 ? -1 : (int)(h % 2);
}

static char *text_of(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		abort();
	return s;
}

static void graphs(const struct jny_def *d)
{
	struct jny_node_counts *counts = calloc(d->nnodes, sizeof *counts);
	if (!counts)
		abort();
	for (size_t i = 0; i < d->nnodes; i++) {
		counts[i].entered = (int64_t)(hash(d->nodes[i].id) % 1000);
		counts[i].waiting = (int64_t)i;
		counts[i].exited = (int64_t)(i % 3);
		counts[i].converted = (int64_t)(i % 2);
	}
	for (int fmt = JNY_GRAPH_DOT; fmt <= JNY_GRAPH_MERMAID; fmt++) {
		for (int with = 0; with < 2; with++) {
			struct buf b;
			buf_init(&b, BUF_MAX_DEFAULT);
			jny_graph(d, (enum jny_graph_format)fmt, with ? counts : NULL, &b);
			if (b.overflow || b.len == 0 || strlen(b.ptr) != b.len)
				abort();
			/* the text is valid UTF-8 (jansson checks) */
			json_t *s = json_stringn(b.ptr, b.len);
			if (!s)
				abort();
			json_decref(s);
			buf_release(&b);
		}
	}
	free(counts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = jsonx_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(j, &err);
	json_decref(j);
	if (!d) {
		if (err.code != CAIRN_EUNPROC || strcmp(err.slug, "invalid_journey") || !err.message[0])
			abort();
		json_t *m = json_pack("{s:s,s:s}", "message", err.message, "field", err.field);
		if (!m)
			abort();
		json_decref(m);
		return 0;
	}
	if (d->nnodes == 0 || d->start < 0 || (size_t)d->start >= d->nnodes)
		abort();
	for (size_t i = 0; i < d->nnodes; i++) {
		if (jny_node_index(d, d->nodes[i].id) != (int)i)
			abort();
		struct jny_edge e[JNY_MAX_EDGES];
		size_t ne = jny_edges(&d->nodes[i], e);
		for (size_t k = 0; k < ne; k++) {
			if (e[k].to < 0 || (size_t)e[k].to >= d->nnodes)
				abort();
		}
	}

	/* the normalized form is a fixed point */
	json_t *n1 = jny_to_json(d);
	struct jny_def *d2 = jny_parse(n1, &err);
	if (!d2)
		abort();
	json_t *n2 = jny_to_json(d2);
	char *t1 = text_of(n1), *t2 = text_of(n2);
	if (strcmp(t1, t2))
		abort();
	free(t1);
	free(t2);
	json_decref(n1);
	json_decref(n2);
	jny_free(d2);

	/* publish checks, with and without a workspace */
	struct jny_check_env env = {NULL, f_template, f_segment};
	for (int with = 0; with < 2; with++) {
		struct jny_problems p;
		cairn_err_clear(&err);
		int rc = jny_check(d, with ? &env : NULL, &p, &err);
		if (rc < 0) {
			if (!with || err.code != CAIRN_EIO || p.n != 0)
				abort();
			continue;
		}
		for (size_t i = 0; i < p.n; i++) {
			if (!p.items[i].field || !p.items[i].code || !p.items[i].message || !p.items[i].message[0])
				abort();
		}
		json_t *body = jny_problems_json(&p);
		if (!body)
			abort();
		char *s = text_of(body);
		free(s);
		json_decref(body);
		jny_problems_release(&p);
	}

	graphs(d);
	jny_free(d);
	return 0;
}
