/* deliver_cli.c — `cairn messages`: list, show and replay messages (dead
 * letters above all) straight on the store, beside a running server (its
 * dispatcher picks replayed messages up at its next poll, ≤ 100 ms). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "store/store_deliver.h"

static void usage(FILE *f)
{
	fputs("usage: cairn messages list [--status dead|failed|held|queued|sent] [--channel C] [--limit N] [--json]\n"
	      "       cairn messages show ID\n"
	      "       cairn messages replay ID | --dead [--channel C] | --failed [--channel C]\n"
	      "options: --data DIR (default ./cairn-data or CAIRN_DATA), --workspace NAME (default 'default')\n"
	      "Dead letters are messages that failed on every attempt; replay sends them again.\n",
	      f);
}

struct opts {
	const char *data, *workspace, *status, *channel;
	int limit, json, dead, failed;
};

static int fail(const char *what, const struct cairn_err *err)
{
	fprintf(stderr, "cairn messages %s: %s%s%s\n", what, err->field[0] ? err->field : "", err->field[0] ? ": " : "",
		err->message);
	return 1;
}

static int cmd_list(struct store *st, int64_t ws, const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_filter f = {.status = o->status, .channel = o->channel};
	char *next = NULL;
	json_t *l = store_messages_json(st, ws, &f, o->limit, NULL, &next, &err);
	free(next);
	if (!l)
		return fail("list", &err);
	size_t i;
	json_t *m;
	if (o->json) {
		json_array_foreach (l, i, m) {
			char *s = json_dumps(m, JSON_COMPACT);
			printf("%s\n", s);
			free(s);
		}
	} else {
		printf("%-38s %-8s %-8s %-3s %-24s %s\n", "ID", "CHANNEL", "STATUS", "TRY", "CREATED", "REASON");
		json_array_foreach (l, i, m)
			printf("%-38s %-8s %-8s %-3lld %-24s %s\n", jsonx_str(m, "id"), jsonx_str(m, "channel"),
			       jsonx_str(m, "status"), (long long)json_integer_value(json_object_get(m, "attempts")),
			       jsonx_str(m, "created_at"), jsonx_str(m, "reason") ?: "");
	}
	json_decref(l);
	return 0;
}

static int cmd_show(struct store *st, int64_t ws, const char *id)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *m = store_message_json(st, ws, id, &err);
	if (!m)
		return fail("show", &err);
	char *s = json_dumps(m, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(m);
	return 0;
}

static int cmd_replay(struct store *st, int64_t ws, const char *id, const struct opts *o)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t n = 0;
	const char *status = id ? NULL : o->failed ? "failed" : "dead";
	if (store_dlv_replay(st, ws, id, status, o->channel, clock_now_ms(), &n, &err) < 0)
		return fail("replay", &err);
	printf("{\"replayed\":%lld}\n", (long long)n);
	return 0;
}

int cli_messages(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	struct opts o = {.data = getenv("CAIRN_DATA") ? getenv("CAIRN_DATA") : "./cairn-data",
			 .workspace = "default",
			 .limit = 50};
	static const struct option longs[] = {
		{"data", required_argument, NULL, 'd'},	  {"workspace", required_argument, NULL, 'w'},
		{"status", required_argument, NULL, 's'}, {"channel", required_argument, NULL, 'c'},
		{"limit", required_argument, NULL, 'l'},  {"json", no_argument, NULL, 'j'},
		{"dead", no_argument, NULL, 'D'},	  {"failed", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': o.data = optarg; break;
		case 'w': o.workspace = optarg; break;
		case 's': o.status = optarg; break;
		case 'c': o.channel = optarg; break;
		case 'l':
			o.limit = (int)strtol(optarg, NULL, 10);
			if (o.limit < 1 || o.limit > 1000) {
				fprintf(stderr, "cairn messages: --limit must be between 1 and 1000\n");
				return 2;
			}
			break;
		case 'j': o.json = 1; break;
		case 'D': o.dead = 1; break;
		case 'F': o.failed = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "cairn messages: unknown or incomplete option '%s'\n", argv[optind]);
			usage(stderr);
			return 2;
		}
	}
	const char *arg = optind < argc - 1 ? argv[1 + optind] : NULL;
	int is_list = !strcmp(sub, "list"), is_show = !strcmp(sub, "show"), is_replay = !strcmp(sub, "replay");
	if ((!is_list && !is_show && !is_replay) || (is_show && !arg) || (is_list && arg) ||
	    (is_replay && !arg == !(o.dead || o.failed))) {
		usage(stderr);
		return 2;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store *st = store_open(o.data, &err);
	if (!st)
		return fail(sub, &err);
	int64_t ws;
	int rc;
	if (store_workspace_find(st, o.workspace, &ws, &err) < 0)
		rc = fail(sub, &err);
	else if (is_list)
		rc = cmd_list(st, ws, &o);
	else if (is_show)
		rc = cmd_show(st, ws, arg);
	else
		rc = cmd_replay(st, ws, arg, &o);
	store_close(st);
	return rc;
}
