/* examples_cli.c — `cairn examples list | load NAME`: shipped examples
 * (examples/<name>/: example.json, templates/ and journeys/ of JSON files) put
 * into a workspace through the same checks as the API (content_check for
 * templates, jny_parse + publish checks for journeys). Loading twice
 * changes nothing: what exists is left as it is and reported "unchanged".
 *
 * Where examples are found: $CAIRN_EXAMPLES, else <binary>/../../examples
 * (build/cairn in a checkout), <binary>/../share/cairn/examples (an
 * install), ./examples. Load before `cairn serve` starts, or restart it:
 * a running server reads journeys it did not publish itself at its start. */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "content/content.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "journey/journey.h"
#include "journey/journey_engine.h"
#include "store/store_journey.h"
#include "store/store_templates.h"

static void usage(FILE *f)
{
	fputs("usage: cairn examples list\n"
	      "       cairn examples load NAME [--data DIR] [--workspace NAME]\n"
	      "Loads a shipped example (templates and live journeys) into a workspace; loading twice changes\n"
	      "nothing. Examples are looked up in $CAIRN_EXAMPLES, next to the binary, then ./examples.\n",
	      f);
}

static int is_dir(const char *p)
{
	struct stat s;
	return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

/* The examples directory into out, or -1. */
static int examples_dir(char *out, size_t cap)
{
	const char *env = getenv("CAIRN_EXAMPLES");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return is_dir(out) ? 0 : -1;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *dir = dirname(exe);
		static const char *const rel[] = {"/../examples", "/../../examples", "/../share/cairn/examples"};
		for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			snprintf(out, cap, "%s%s", dir, rel[i]);
			if (is_dir(out))
				return 0;
		}
	}
	snprintf(out, cap, "examples");
	return is_dir(out) ? 0 : -1;
}

static json_t *load_json(const char *path, struct cairn_err *err)
{
	json_error_t je;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		cairn_err_set(err, CAIRN_EINVAL, "invalid_example", "", "%s:%d: %s", path, je.line, je.text);
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of dir, sorted (caller frees each and the array). */
static char **json_files(const char *dir, size_t *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		size_t need = strlen(dir) + len + 2;
		char *p = xmalloc(need);
		snprintf(p, need, "%s/%s", dir, e->d_name);
		v[(*n)++] = p;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmd_list(void)
{
	char dir[PATH_MAX];
	if (examples_dir(dir, sizeof dir) < 0) {
		fprintf(stderr, "cairn examples: no examples directory found (set CAIRN_EXAMPLES)\n");
		return 1;
	}
	DIR *d = opendir(dir);
	if (!d)
		return 1;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	while ((e = readdir(d))) {
		char p[PATH_MAX + 300];
		snprintf(p, sizeof p, "%s/%.255s/example.json", dir, e->d_name);
		if (e->d_name[0] == '.' || access(p, R_OK) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(p);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct cairn_err err = CAIRN_ERR_INIT;
		json_t *ex = load_json(names[i], &err);
		if (ex)
			printf("%-16s %s\n%-16s %s\n\n", jsonx_str(ex, "name") ?: "?", jsonx_str(ex, "title") ?: "", "",
			       jsonx_str(ex, "summary") ?: "");
		json_decref(ex);
	}
	free_list(names, n);
	return 0;
}

static int load_template(struct store *st, int64_t ws, const char *path, int *created, struct cairn_err *err)
{
	json_t *t = load_json(path, err);
	if (!t)
		return CAIRN_EINVAL;
	const char *id = jsonx_str(t, "id"), *channel = jsonx_str(t, "channel");
	json_t *norm = NULL;
	int rc = 0;
	if (!id || !jsonx_str(t, "name"))
		rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_example", "", "%s needs an id and a name.", path);
	if (rc == 0 && content_check(channel, json_object_get(t, "body"), 1, &norm, err) < 0)
		rc = CAIRN_EUNPROC;
	struct store_template have;
	struct cairn_err e2 = CAIRN_ERR_INIT;
	if (rc == 0 && store_template_get(st, ws, id, 0, &have, &e2) == 0) {
		store_template_release(&have); /* there already: the marketer's to change */
	} else if (rc == 0) {
		struct store_template_draft dr = {.id = id,
						  .name = jsonx_str(t, "name"),
						  .channel = channel,
						  .locale = jsonx_str(t, "locale"),
						  .body = norm};
		struct store_template out;
		rc = store_template_create(st, ws, &dr, 1, clock_now_ms(), &out, err);
		if (rc == 0) {
			store_template_release(&out);
			(*created)++;
		}
	}
	json_decref(norm);
	json_decref(t);
	return rc;
}

static int load_journey(struct store *st, int64_t ws, const char *path, int *created, struct cairn_err *err)
{
	json_t *j = load_json(path, err);
	if (!j)
		return CAIRN_EINVAL;
	const char *id = jsonx_str(j, "id"), *name = jsonx_str(j, "name");
	json_t *def = json_object_get(j, "definition");
	int rc = 0;
	if (!id || !name || !json_is_object(def))
		rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_example", "", "%s needs an id, a name and a definition.",
				   path);
	if (rc == 0 && !json_object_get(def, "name"))
		json_object_set_new(def, "name", json_string(name));
	struct jny_def *d = rc == 0 ? jny_parse(def, err) : NULL;
	if (rc == 0 && !d)
		rc = CAIRN_EUNPROC;
	char *text = NULL;
	if (rc == 0) {
		json_t *norm = jny_to_json(d);
		text = json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(norm);
		rc = store_journey_create(st, ws, id, name, text, clock_now_ms(), err);
		if (rc == CAIRN_ECONFLICT) { /* loaded before */
			cairn_err_clear(err);
			rc = 1;
		}
	}
	if (rc == 0) {
		int64_t version;
		struct jny_problems probs;
		memset(&probs, 0, sizeof probs);
		rc = jny_publish(st, ws, id, clock_now_ms(), &version, &probs, err);
		if (rc == 0 && probs.n)
			rc = cairn_err_set(err, CAIRN_EUNPROC, "journey_problems", "", "%s: %s", path,
					   probs.items[0].message);
		jny_problems_release(&probs);
		if (rc == 0)
			(*created)++;
	}
	free(text);
	jny_free(d);
	json_decref(j);
	return rc < 0 ? rc : 0;
}

static int cmd_load(const char *name, const char *data, const char *workspace)
{
	char dir[PATH_MAX], ex[PATH_MAX * 2];
	if (examples_dir(dir, sizeof dir) < 0) {
		fprintf(stderr, "cairn examples: no examples directory found (set CAIRN_EXAMPLES)\n");
		return 1;
	}
	snprintf(ex, sizeof ex, "%s/%s/example.json", dir, name);
	if (strchr(name, '/') || strchr(name, '.') || access(ex, R_OK) != 0) {
		fprintf(stderr, "cairn examples: there is no example '%s'; `cairn examples list` shows them\n", name);
		return 1;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store *st = store_open(data, &err);
	if (!st) {
		fprintf(stderr, "cairn examples: %s\n", err.message);
		return 1;
	}
	int64_t ws;
	int rc = store_workspace_find(st, workspace, &ws, &err);
	/* templates first: journeys name them, and publishing checks they exist */
	static const char *const parts[] = {"templates", "journeys"};
	int created[2] = {0, 0}, total[2] = {0, 0};
	for (int p = 0; rc == 0 && p < 2; p++) {
		char sub[PATH_MAX * 2 + 16];
		snprintf(sub, sizeof sub, "%s/%s/%s", dir, name, parts[p]);
		size_t n = 0;
		char **files = json_files(sub, &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = p == 0 ? load_template(st, ws, files[i], &created[p], &err)
				    : load_journey(st, ws, files[i], &created[p], &err);
			total[p]++;
		}
		free_list(files, n);
	}
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "cairn examples load %s: %s%s%s\n", name, err.field[0] ? err.field : "",
			err.field[0] ? ": " : "", err.message);
		return 1;
	}
	printf("{\"example\":\"%s\",\"templates\":{\"created\":%d,\"unchanged\":%d},"
	       "\"journeys\":{\"created\":%d,\"unchanged\":%d}}\n",
	       name, created[0], total[0] - created[0], created[1], total[1] - created[1]);
	return 0;
}

int cli_examples(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *data = getenv("CAIRN_DATA") ? getenv("CAIRN_DATA") : "./cairn-data", *workspace = "default";
	static const struct option longs[] = {
		{"data", required_argument, NULL, 'd'},
		{"workspace", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc - 1, argv + 1, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'w': workspace = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "cairn examples: unknown or incomplete option '%s'\n", argv[optind]);
			usage(stderr);
			return 2;
		}
	}
	const char *arg = optind < argc - 1 ? argv[1 + optind] : NULL;
	if (!strcmp(argv[1], "list") && !arg)
		return cmd_list();
	if (!strcmp(argv[1], "load") && arg)
		return cmd_load(arg, data, workspace);
	usage(stderr);
	return 2;
}
