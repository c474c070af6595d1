/* rebuild_cli.c — `cairn rebuild --check`: proves that the derived state
 * (profiles, identities, consent, tags, groups, computed traits, segment
 * memberships) is a function of the event log.
 *
 * It snapshots the store into a scratch directory (VACUUM INTO), empties
 * every derived table there, replays the whole log through the same engine
 * stages, runs the time-driven steps once at the current time, and compares
 * the result with the live state profile by profile (keyed by user id, or
 * anonymous id) and membership by membership. Differences are listed and the
 * exit status is 1; 0 means identical. The live store is only read. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "engine/engine.h"
#include "journey/journey_engine.h"

/* Fields that record when cairn wrote something, not what the log says. */
static const char *const volatile_fields[] = {"updated_at"};

static const char usage[] =
	"usage: cairn rebuild --check [--data DIR] [--keep]\n"
	"Replays the event log into a scratch copy and compares every profile, tag, consent,\n"
	"computed trait and segment membership with the live state. Exit 0 if identical,\n"
	"1 with the differences listed. The live store is not changed. --keep keeps the scratch copy.\n";

static char *key_of(json_t *p)
{
	const char *id = json_string_value(json_object_get(p, "id"));
	const char *anon = json_string_value(json_array_get(json_object_get(p, "anonymous_ids"), 0));
	size_t n = strlen(id ? id : anon ? anon : "?") + 3;
	char *k = xmalloc(n);
	snprintf(k, n, "%s:%s", id ? "u" : "a", id ? id : anon ? anon : "?");
	return k;
}

static int collect_profile(json_t *p, void *arg)
{
	for (size_t i = 0; i < sizeof volatile_fields / sizeof volatile_fields[0]; i++)
		json_object_del(p, volatile_fields[i]);
	char *k = key_of(p);
	json_object_set(arg, k, p);
	free(k);
	return 0;
}

static int collect_member(const char *text, size_t len, void *arg)
{
	json_object_set_new(arg, text, json_true());
	return 0;
}

struct diff {
	int shown, total;
};

static void report(struct diff *d, const char *fmt, const char *a, const char *b)
{
	d->total++;
	if (d->shown++ < 50) {
		printf(fmt, a, b);
		putchar('\n');
	}
}

/* Compares two objects keyed by profile (or membership) keys. */
static void compare(struct diff *d, int64_t ws, json_t *live, json_t *rebuilt, const char *what)
{
	const char *k;
	json_t *v;
	char w[64];
	snprintf(w, sizeof w, "workspace %lld: %s", (long long)ws, what);
	json_object_foreach (live, k, v) {
		json_t *r = json_object_get(rebuilt, k);
		if (!r) {
			report(d, "%s %s: in the live state, not in the replay", w, k);
		} else if (!json_equal(v, r)) {
			/* name the fields that differ, with both values */
			const char *f;
			json_t *fv;
			json_t *all = json_deep_copy(v);
			json_object_update_missing(all, r);
			json_object_foreach (all, f, fv) {
				json_t *a = json_object_get(v, f), *b = json_object_get(r, f);
				if (a && b && json_equal(a, b))
					continue;
				char *as = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
				char *bs = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
				size_t n = strlen(k) + strlen(f) + (as ? strlen(as) : 8) + (bs ? strlen(bs) : 8) + 48;
				char *line = xmalloc(n);
				snprintf(line, n, "%s %s: live %s, replay %s", k, f, as ? as : "(none)",
					 bs ? bs : "(none)");
				report(d, "%s %s", w, line);
				free(line);
				free(as);
				free(bs);
			}
			json_decref(all);
		}
	}
	json_object_foreach (rebuilt, k, v) {
		if (!json_object_get(live, k))
			report(d, "%s %s: in the replay, not in the live state", w, k);
	}
}

static int gather(struct store *st, int64_t ws, json_t **profiles, json_t **members, struct cairn_err *err)
{
	*profiles = json_object();
	*members = json_object();
	if (store_profiles_each(st, ws, collect_profile, *profiles, err) < 0 ||
	    store_membership_each(st, ws, collect_member, *members, err) < 0)
		return -1;
	return 0;
}

int cli_rebuild(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"check", no_argument, NULL, 'c'},
		{"keep", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cairn_config cfg;
	config_init(&cfg);
	struct cairn_err err = CAIRN_ERR_INIT;
	int check = 0, keep = 0, c;
	unsigned set = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			config_set(&cfg, "data", optarg, &err);
			set |= config_key_bit("data");
		} else if (c == 'c') {
			check = 1;
		} else if (c == 'k') {
			keep = 1;
		} else if (c == 'h') {
			fputs(usage, stdout);
			config_release(&cfg);
			return 0;
		} else {
			fprintf(stderr, "cairn rebuild: unknown or incomplete option '%s'\n%s", argv[optind - 1],
				usage);
			config_release(&cfg);
			return 2;
		}
	}
	if (!check || optind < argc) {
		fprintf(stderr, "cairn rebuild: only --check is available (the live state is never rewritten)\n%s",
			usage);
		config_release(&cfg);
		return 2;
	}
	if (config_load_env_and_file(&cfg, set, &err) < 0) {
		fprintf(stderr, "cairn rebuild: %s\n", err.message);
		config_release(&cfg);
		return 1;
	}
	log_set_level(LOG_WARN);
	int status = 1;
	struct store *live = NULL, *scratch = NULL;
	char tmpl[] = "/tmp/cairn-rebuild-XXXXXX";
	char *dir = NULL;
	json_t *lp = NULL, *lm = NULL, *rp = NULL, *rm = NULL;
	int64_t *ws = NULL;
	size_t nws = 0;
	struct stat sb;
	if (stat(cfg.data_dir, &sb) < 0) {
		fprintf(stderr, "cairn rebuild: there is no store at %s\n", cfg.data_dir);
		goto out;
	}
	live = store_open(cfg.data_dir, &err);
	dir = mkdtemp(tmpl);
	if (!live || !dir || store_snapshot_into(live, dir, &err) < 0)
		goto fail;
	scratch = store_open(dir, &err);
	jny_enable(0); /* journeys record what was done; they do not run again in a replay */
	if (!scratch || store_reset_derived(scratch, &err) < 0 || engine_catch_up(scratch, &err) < 0 ||
	    engine_tick(scratch, &err) < 0 || engine_catch_up(scratch, &err) < 0)
		goto fail;
	if (store_workspace_ids(live, &ws, &nws, &err) < 0)
		goto fail;
	struct diff d = {0, 0};
	size_t profiles = 0;
	for (size_t i = 0; i < nws; i++) {
		if (gather(live, ws[i], &lp, &lm, &err) < 0 || gather(scratch, ws[i], &rp, &rm, &err) < 0)
			goto fail;
		profiles += json_object_size(lp);
		compare(&d, ws[i], lp, rp, "profile");
		compare(&d, ws[i], lm, rm, "segment membership");
		json_decref(lp);
		json_decref(lm);
		json_decref(rp);
		json_decref(rm);
		lp = lm = rp = rm = NULL;
	}
	if (d.total) {
		printf("%d difference%s between the live state and a replay of the event log (%zu profiles checked)\n",
		       d.total, d.total == 1 ? "" : "s", profiles);
		status = 1;
	} else {
		printf("no differences: %zu profiles and their segment memberships equal a replay of the event log\n",
		       profiles);
		status = 0;
	}
	goto out;
fail:
	fprintf(stderr, "cairn rebuild: %s\n", err.message[0] ? err.message : "cannot prepare the scratch copy");
	status = 1;
out:
	json_decref(lp);
	json_decref(lm);
	json_decref(rp);
	json_decref(rm);
	free(ws);
	store_close(scratch);
	store_close(live);
	if (dir) {
		if (keep) {
			fprintf(stderr, "scratch copy kept in %s\n", dir);
		} else {
			static const char *const files[] = {"state.db",	 "state.db-wal",  "state.db-shm",
							    "events.db", "events.db-wal", "events.db-shm",
							    "dedup.db",	 "dedup.db-wal",  "dedup.db-shm"};
			for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", dir, files[i]);
				unlink(p);
			}
			rmdir(dir);
		}
	}
	config_release(&cfg);
	return status;
}
