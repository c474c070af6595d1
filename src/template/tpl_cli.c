/* tpl_cli.c — `cairn template render|validate|bench`.
 *
 * Each reads ONE JSON object on stdin:
 *   {"template":"…","data":{…},"templates":{"name":"source",…},
 *    "mode":"lax"|"strict"|"strict2",
 *    "strict_variables":false,"strict_filters":false,"now":"RFC 3339"}
 * render   prints exactly the output (no newline added); on an error prints
 *          the message on stderr and exits 1.
 * validate prints {"valid":true,"variables":[…],"filters":[…],…} (exit 0) or
 *          {"valid":false,"error":{…}} (exit 1).
 * bench    also takes "iterations" and prints
 *          {"parse_us":…,"renders_per_sec":…,"output_bytes":…}.
 * Usage errors print the usage and exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/jsonx.h"
#include "template/tpl.h"

#define MAX_INPUT (16u * 1024u * 1024u)

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn template render|validate|bench < input.json\n\n"
		   "  render    render a template; prints the output exactly\n"
		   "  validate  list the variables and filters a template uses, and unknown ones\n"
		   "  bench     time parse and render: input also has \"iterations\"\n\n"
		   "input: {\"template\":\"…\",\"data\":{…},\"templates\":{\"name\":\"source\"},\n"
		   "        \"mode\":\"lax|strict|strict2\",\"strict_variables\":false,\"strict_filters\":false,\n"
		   "        \"now\":\"2026-03-02T10:00:00+09:00\"}\n");
}

static const char *src_from_json(void *ud, const char *name, size_t len, size_t *src_len)
{
	json_t *templates = ud;
	json_t *s = json_is_object(templates) ? json_object_getn(templates, name, len) : NULL;
	if (!json_is_string(s))
		return NULL;
	*src_len = json_string_length(s);
	return json_string_value(s);
}

struct input {
	json_t *root;
	const char *tpl;
	size_t tpl_len;
	json_t *data;
	struct tpl_opts po;
	struct tpl_render_opts ro;
	struct tpl_cache *cache;
};

static int read_input(struct input *in, struct cairn_err *err)
{
	struct buf b;
	buf_init(&b, MAX_INPUT);
	if (buf_add_stream(&b, stdin) < 0) {
		buf_release(&b);
		cairn_err_set(err, CAIRN_ETOOBIG, "input_too_large", "", "The input is larger than %u bytes.",
			      MAX_INPUT);
		return -1;
	}
	memset(in, 0, sizeof *in);
	in->root = jsonx_parse(b.ptr, b.len, 64, 1, err);
	buf_release(&b);
	if (!in->root)
		return -1;
	json_t *t = json_object_get(in->root, "template");
	if (!json_is_string(t)) {
		cairn_err_set(err, CAIRN_EINVAL, "invalid_input", "template", "\"template\" must be a string.");
		return -1;
	}
	in->tpl = json_string_value(t);
	in->tpl_len = json_string_length(t);
	in->data = json_object_get(in->root, "data");
	const char *mode = jsonx_str(in->root, "mode");
	in->po.syntax = TPL_LAX;
	if (mode && !strcmp(mode, "strict"))
		in->po.syntax = TPL_STRICT;
	else if (mode && !strcmp(mode, "strict2"))
		in->po.syntax = TPL_STRICT2;
	else if (mode && strcmp(mode, "lax") != 0) {
		cairn_err_set(err, CAIRN_EINVAL, "invalid_input", "mode", "\"mode\" must be lax, strict or strict2.");
		return -1;
	}
	in->ro.strict_variables = json_is_true(json_object_get(in->root, "strict_variables"));
	in->ro.strict_filters = json_is_true(json_object_get(in->root, "strict_filters"));
	const char *now = jsonx_str(in->root, "now");
	if (now && clock_parse_rfc3339(now, &in->ro.now_ms) < 0) {
		cairn_err_set(err, CAIRN_EINVAL, "invalid_input", "now", "\"now\" must be an RFC 3339 time.");
		return -1;
	}
	in->cache = tpl_cache_new(src_from_json, json_object_get(in->root, "templates"), &in->po);
	in->ro.partial = tpl_cache_partial;
	in->ro.partial_ud = in->cache;
	return 0;
}

static void free_input(struct input *in)
{
	tpl_cache_free(in->cache);
	json_decref(in->root);
}

static int cmd_render(void)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct input in;
	if (read_input(&in, &err) < 0) {
		fprintf(stderr, "cairn template: %s\n", err.message);
		json_decref(in.root);
		return 1;
	}
	int rc = 1;
	struct tpl *t = tpl_parse(in.tpl, in.tpl_len, &in.po, &err);
	if (t) {
		struct buf out;
		buf_init(&out, BUF_MAX_RENDER);
		if (tpl_render(t, in.data, &in.ro, &out, &err) == 0) {
			fwrite(out.ptr, 1, out.len, stdout);
			rc = 0;
		}
		buf_release(&out);
		tpl_free(t);
	}
	if (rc)
		fprintf(stderr, "%s\n", err.message);
	free_input(&in);
	tpl_thread_cleanup();
	return rc;
}

static int cmd_validate(void)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct input in;
	if (read_input(&in, &err) < 0) {
		fprintf(stderr, "cairn template: %s\n", err.message);
		json_decref(in.root);
		return 1;
	}
	struct tpl *t = tpl_parse(in.tpl, in.tpl_len, &in.po, &err);
	json_t *r;
	if (t) {
		r = tpl_validate(t, in.data);
		json_object_set_new(r, "valid", json_true());
		tpl_free(t);
	} else {
		r = json_object();
		json_object_set_new(r, "valid", json_false());
		json_object_set_new(r, "error", json_pack("{s:s,s:s}", "code", err.slug, "message", err.message));
	}
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(r);
	free_input(&in);
	return t ? 0 : 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_bench(void)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct input in;
	if (read_input(&in, &err) < 0) {
		fprintf(stderr, "cairn template: %s\n", err.message);
		json_decref(in.root);
		return 1;
	}
	json_int_t iters = json_integer_value(json_object_get(in.root, "iterations"));
	if (iters <= 0)
		iters = 10000;
	/* parse time: average of repeated parses */
	int parses = 200;
	double t0 = now_s();
	for (int i = 0; i < parses; i++) {
		struct tpl *t = tpl_parse(in.tpl, in.tpl_len, &in.po, &err);
		if (!t) {
			fprintf(stderr, "%s\n", err.message);
			free_input(&in);
			return 1;
		}
		tpl_free(t);
	}
	double parse_us = (now_s() - t0) / parses * 1e6;
	struct tpl *t = tpl_parse(in.tpl, in.tpl_len, &in.po, &err);
	struct buf out;
	buf_init(&out, BUF_MAX_RENDER);
	/* warm up */
	for (int i = 0; i < 100; i++) {
		buf_reset(&out);
		if (tpl_render(t, in.data, &in.ro, &out, &err) < 0) {
			fprintf(stderr, "%s\n", err.message);
			buf_release(&out);
			tpl_free(t);
			free_input(&in);
			return 1;
		}
	}
	t0 = now_s();
	for (json_int_t i = 0; i < iters; i++) {
		buf_reset(&out);
		tpl_render(t, in.data, &in.ro, &out, &err);
	}
	double el = now_s() - t0;
	printf("{\"parse_us\":%.2f,\"renders_per_sec\":%.0f,\"render_us\":%.3f,\"output_bytes\":%zu,\"iterations\":%"
	       "lld}\n",
	       parse_us, (double)iters / el, el / (double)iters * 1e6, out.len, (long long)iters);
	buf_release(&out);
	tpl_free(t);
	free_input(&in);
	tpl_thread_cleanup();
	return 0;
}

int cli_template(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	if (argc > 2) {
		if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "cairn template: unexpected argument '%s'\n\n", argv[2]);
		usage(stderr);
		return 2;
	}
	if (!strcmp(sub, "render"))
		return cmd_render();
	if (!strcmp(sub, "validate"))
		return cmd_validate();
	if (!strcmp(sub, "bench"))
		return cmd_bench();
	fprintf(stderr, "cairn template: unknown subcommand '%s'\n\n", sub);
	usage(stderr);
	return 2;
}
