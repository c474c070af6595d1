/* journey_cli.c — `cairn journey validate|simulate|graph|check`.
 *
 *   validate FILE [--data DIR]      parse and check a definition (templates
 *                                   and segments too, with a store)
 *   simulate FILE --user JSON --events FILE [--start T] [--data DIR]
 *                 [--format json|text]
 *   graph FILE|--id ID [--data DIR] [--format dot|mermaid]   (--id: the live version)
 *   check [--data DIR]              re-simulate every saved test of every
 *                                   live journey; exit 1 if a path changed
 *
 * FILE is a definition, or an object with one under "definition" (what the
 * API returns); "-" reads stdin. --user is JSON text or @file; --events is
 * NDJSON (one Tracking API message per line) or a JSON array, "-" = stdin.
 * Exit: 0 ok, 1 invalid / changed / failed (message on stderr), 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "journey/journey.h"
#include "journey/journey_engine.h"
#include "journey/journey_sim.h"
#include "store/store.h"
#include "store/store_journey.h"

#define MAX_FILE (64u * 1024u * 1024u)

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn journey validate FILE [--data DIR]\n"
		   "       cairn journey simulate FILE --user JSON|@FILE --events FILE [--start RFC3339]\n"
		   "                              [--data DIR] [--format json|text]\n"
		   "       cairn journey graph FILE|--id ID [--data DIR] [--format dot|mermaid]\n"
		   "       cairn journey check [--data DIR]\n\n"
		   "FILE: a journey definition (or {\"definition\":…}); '-' reads stdin.\n"
		   "--events: NDJSON, one Tracking API message per line (\"event\", \"timestamp\", \"properties\").\n"
		   "--data: a store (default ./cairn-data, env CAIRN_DATA) for saved templates and settings.\n");
}

static char *read_all(const char *path, size_t *len, struct cairn_err *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		cairn_err_set(err, CAIRN_ENOTFOUND, "no_file", "", "Cannot open %s.", path);
		return NULL;
	}
	struct buf b;
	buf_init(&b, MAX_FILE);
	int over = buf_add_stream(&b, f) < 0;
	if (f != stdin)
		fclose(f);
	if (over) {
		buf_release(&b);
		cairn_err_set(err, CAIRN_ETOOBIG, "too_large", "", "%s is larger than %u bytes.", path, MAX_FILE);
		return NULL;
	}
	char *out = xstrdup(b.ptr);
	*len = b.len;
	buf_release(&b);
	return out;
}

static json_t *read_json(const char *path, struct cairn_err *err)
{
	size_t len;
	char *text = path[0] == '@' ? read_all(path + 1, &len, err) : NULL;
	if (path[0] != '@' && strcmp(path, "-") && (path[0] == '{' || path[0] == '[')) {
		text = xstrdup(path); /* inline JSON */
		len = strlen(text);
	} else if (!text && path[0] != '@') {
		text = read_all(path, &len, err);
	}
	if (!text)
		return NULL;
	json_t *j = jsonx_parse(text, len, 64, 1, err);
	free(text);
	return j;
}

static struct jny_def *read_def(const char *path, struct cairn_err *err)
{
	json_t *j = read_json(path, err);
	if (!j)
		return NULL;
	json_t *d = json_object_get(j, "definition");
	struct jny_def *def = jny_parse(d && !json_object_get(j, "nodes") ? d : j, err);
	json_decref(j);
	return def;
}

/* NDJSON or a JSON array of messages. */
static json_t *read_events(const char *path, struct cairn_err *err)
{
	size_t len;
	char *text = read_all(path, &len, err);
	if (!text)
		return NULL;
	json_t *out = NULL;
	const char *p = text;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p == '[') {
		out = jsonx_parse(text, len, 64, 1, err);
	} else {
		out = json_array();
		int line = 0;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			line++;
			size_t n = strlen(l);
			while (n && (l[n - 1] == '\r' || l[n - 1] == ' '))
				l[--n] = '\0';
			if (!n)
				continue;
			struct cairn_err e = CAIRN_ERR_INIT;
			json_t *m = jsonx_parse(l, n, 64, 1, &e);
			if (!m) {
				cairn_err_set(err, CAIRN_EUNPROC, "invalid_event", "", "%s line %d: %s", path, line,
					      e.message);
				json_decref(out);
				out = NULL;
				break;
			}
			json_array_append_new(out, m);
		}
	}
	free(text);
	return out;
}

struct opts {
	const char *data, *user, *events, *start, *format, *id;
	int have_data;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"data", required_argument, NULL, 'd'},	  {"user", required_argument, NULL, 'u'},
		{"events", required_argument, NULL, 'e'}, {"start", required_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'}, {"id", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0}};
	memset(o, 0, sizeof *o);
	o->data = getenv("CAIRN_DATA") ? getenv("CAIRN_DATA") : "./cairn-data";
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->data = optarg;
			o->have_data = 1;
			break;
		case 'u': o->user = optarg; break;
		case 'e': o->events = optarg; break;
		case 's': o->start = optarg; break;
		case 'f': o->format = optarg; break;
		case 'i': o->id = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}

static struct store *open_store(const char *dir, int64_t *ws, struct cairn_err *err)
{
	struct store *st = store_open(dir, err);
	if (!st)
		return NULL;
	if (store_workspace_find(st, "default", ws, err) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

static int fail(const char *what, const struct cairn_err *err)
{
	fprintf(stderr, "cairn journey %s: %s%s%s\n", what, err->field[0] ? err->field : "", err->field[0] ? ": " : "",
		err->message);
	return 1;
}

static int cmd_validate(const char *file, const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = read_def(file, &err);
	if (!d)
		return fail("validate", &err);
	int64_t ws = 0;
	struct store *st = o->have_data ? open_store(o->data, &ws, &err) : NULL;
	if (o->have_data && !st) {
		jny_free(d);
		return fail("validate", &err);
	}
	struct jny_problems probs;
	int rc = st ? jny_check_in(st, ws, d, &probs, &err) : jny_check(d, NULL, &probs, &err);
	if (rc == 0) {
		json_t *out = json_pack("{s:b}", "ok", probs.n == 0);
		if (probs.n) {
			json_t *body = jny_problems_json(&probs);
			json_object_set(out, "problems", json_object_get(json_object_get(body, "error"), "problems"));
			json_decref(body);
		}
		char *s = json_dumps(out, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(out);
		rc = probs.n ? 1 : 0;
		jny_problems_release(&probs);
	} else {
		rc = fail("validate", &err);
	}
	if (st)
		store_close(st);
	jny_free(d);
	return rc;
}

static void print_result(json_t *res, const char *format)
{
	if (format && !strcmp(format, "text")) {
		char *t = jny_sim_text(res);
		fputs(t, stdout);
		free(t);
		return;
	}
	char *s = json_dumps(res, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
}

static int cmd_simulate(const char *file, const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	if (o->format && strcmp(o->format, "json") && strcmp(o->format, "text")) {
		fprintf(stderr, "cairn journey simulate: --format is json or text\n");
		return 2;
	}
	int64_t start = 0, ws = 0;
	if (o->start && clock_parse_rfc3339(o->start, &start) < 0) {
		fprintf(stderr, "cairn journey simulate: --start must be RFC 3339, e.g. 2026-03-02T10:00:00+09:00\n");
		return 2;
	}
	struct jny_def *d = read_def(file, &err);
	json_t *user = d && o->user ? read_json(o->user, &err) : NULL;
	json_t *events = d && (!o->user || user) && o->events ? read_events(o->events, &err) : NULL;
	struct store *st = NULL;
	int rc = 1;
	if (!d || (o->user && !user) || (o->events && !events))
		goto out;
	if (o->have_data && !(st = open_store(o->data, &ws, &err)))
		goto out;
	struct jny_sim_opts so = {st, ws, d->name ? d->name : "journey", start, 0};
	json_t *res = jny_simulate(d, user, events, &so, &err);
	if (res) {
		print_result(res, o->format);
		json_decref(res);
		rc = 0;
	}
out:
	if (rc)
		fail("simulate", &err);
	if (st)
		store_close(st);
	json_decref(user);
	json_decref(events);
	jny_free(d);
	return rc;
}

static int cmd_graph(const char *file, const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int mermaid = o->format && !strcmp(o->format, "mermaid");
	if (o->format && !mermaid && strcmp(o->format, "dot")) {
		fprintf(stderr, "cairn journey graph: --format is dot or mermaid\n");
		return 2;
	}
	struct jny_def *d = NULL;
	if (o->id) { /* the live version of a stored journey */
		int64_t ws;
		struct store *st = open_store(o->data, &ws, &err);
		d = st ? jny_load(st, ws, o->id, 0, &err) : NULL;
		if (st)
			store_close(st);
	} else {
		d = read_def(file, &err);
	}
	if (!d)
		return fail("graph", &err);
	struct buf out;
	buf_init(&out, BUF_MAX_RESPONSE);
	jny_graph(d, mermaid ? JNY_GRAPH_MERMAID : JNY_GRAPH_DOT, NULL, &out);
	fwrite(out.ptr, 1, out.len, stdout);
	buf_release(&out);
	jny_free(d);
	return 0;
}

/* ---- check: saved simulations against the live versions ------------------------- */

struct check {
	struct store *st;
	int changed, failed, total;
};

/* What a test compares: each step's node, time and reason; each message's
 * node, channel, time, subject and body; how the user left. */
static json_t *essence(const json_t *res)
{
	json_t *path = json_array(), *msgs = json_array();
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(res, "path"), i, p)
		json_array_append_new(path,
				      json_pack("{s:O*,s:O*,s:O*}", "node", json_object_get(p, "node"), "at",
						json_object_get(p, "at"), "reason", json_object_get(p, "reason")));
	json_array_foreach (json_object_get(res, "messages"), i, p)
		json_array_append_new(
			msgs, json_pack("{s:O*,s:O*,s:O*,s:O*,s:O*}", "node", json_object_get(p, "node"), "channel",
					json_object_get(p, "channel"), "at", json_object_get(p, "at"), "subject",
					json_object_get(p, "subject"), "body", json_object_get(p, "body")));
	return json_pack("{s:o,s:o,s:O*}", "path", path, "messages", msgs, "exited", json_object_get(res, "exited"));
}

static void show_first_difference(const json_t *want, const json_t *got)
{
	static const char *const keys[] = {"path", "messages"};
	for (int k = 0; k < 2; k++) {
		json_t *a = json_object_get(want, keys[k]), *b = json_object_get(got, keys[k]);
		size_t n = json_array_size(a) > json_array_size(b) ? json_array_size(a) : json_array_size(b);
		for (size_t i = 0; i < n; i++) {
			if (json_equal(json_array_get(a, i), json_array_get(b, i)))
				continue;
			char *sa = json_dumps(json_array_get(a, i), JSON_COMPACT | JSON_ENCODE_ANY);
			char *sb = json_dumps(json_array_get(b, i), JSON_COMPACT | JSON_ENCODE_ANY);
			printf("    %s[%zu]\n      saved: %s\n      now:   %s\n", keys[k], i, sa ? sa : "(none)",
			       sb ? sb : "(none)");
			free(sa);
			free(sb);
			return;
		}
	}
	printf("    exited: saved %s, now %s\n", jsonx_str(want, "exited") ? jsonx_str(want, "exited") : "(still in)",
	       jsonx_str(got, "exited") ? jsonx_str(got, "exited") : "(still in)");
}

static int check_one(void *arg, int64_t ws, const char *journey_id, const char *name, const char *input,
		     const char *expected, int64_t version)
{
	(void)version;
	struct check *c = arg;
	struct cairn_err err = CAIRN_ERR_INIT;
	c->total++;
	struct store_journey j;
	if (store_journey_get(c->st, ws, journey_id, &j, &err) < 0)
		return 0;
	int live = !strcmp(j.status, "live") || !strcmp(j.status, "paused");
	store_journey_release(&j);
	if (!live) {
		c->total--;
		return 0;
	}
	struct jny_def *d = jny_load(c->st, ws, journey_id, 0, &err);
	json_t *in = jsonx_loadb(input, strlen(input), 0, NULL),
	       *want = jsonx_loadb(expected, strlen(expected), 0, NULL);
	json_t *res = NULL;
	int64_t start = 0;
	if (d && in) {
		const char *s = jsonx_str(in, "start");
		if (s)
			clock_parse_rfc3339(s, &start);
		struct jny_sim_opts so = {c->st, ws, journey_id, start, 0};
		res = jny_simulate(d, json_object_get(in, "user"), json_object_get(in, "events"), &so, &err);
	}
	if (!res) {
		printf("FAILED   %s / %s: %s\n", journey_id, name, err.message);
		c->failed++;
	} else {
		json_t *a = essence(want), *b = essence(res);
		if (json_equal(a, b)) {
			printf("ok       %s / %s\n", journey_id, name);
		} else {
			printf("CHANGED  %s / %s\n", journey_id, name);
			show_first_difference(a, b);
			c->changed++;
		}
		json_decref(a);
		json_decref(b);
	}
	json_decref(res);
	json_decref(in);
	json_decref(want);
	jny_free(d);
	return 0;
}

static int cmd_check(const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws;
	struct store *st = open_store(o->data, &ws, &err);
	if (!st)
		return fail("check", &err);
	struct check c = {st, 0, 0, 0};
	int rc = store_journey_tests(st, 0, NULL, check_one, &c, &err);
	store_close(st);
	if (rc < 0)
		return fail("check", &err);
	printf("%d tests: %d unchanged, %d changed, %d failed\n", c.total, c.total - c.changed - c.failed, c.changed,
	       c.failed);
	return c.changed || c.failed ? 1 : 0;
}

int cli_journey(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	struct opts o;
	int prc = parse_opts(argc - 1, argv + 1, &o);
	if (prc)
		return prc == 1 ? 0 : 2;
	const char *file = optind < argc - 1 ? argv[1 + optind] : NULL;
	if (!strcmp(sub, "check"))
		return file ? (usage(stderr), 2) : cmd_check(&o);
	if (!strcmp(sub, "graph") && o.id && !file)
		return cmd_graph(NULL, &o);
	if (!file) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(sub, "validate"))
		return cmd_validate(file, &o);
	if (!strcmp(sub, "simulate"))
		return cmd_simulate(file, &o);
	if (!strcmp(sub, "graph"))
		return cmd_graph(file, &o);
	fprintf(stderr, "cairn journey: unknown subcommand '%s'\n\n", sub);
	usage(stderr);
	return 2;
}
