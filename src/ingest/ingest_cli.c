/* ingest_cli.c — `cairn import` and `cairn export`.
 *
 * Both open the store directly: SQLite in WAL mode lets a running `cairn
 * serve` carry on beside them. Import appends in chunks (one transaction
 * each) with store_log_append, then runs engine_catch_up so profiles are
 * ready even when no server runs (a running server's engine would apply
 * the events too; the two take turns on state.db's write lock and the
 * engine cursor makes sure each event is applied once). Export streams one
 * profile or event at a time to stdout or to a file that appears whole
 * (written beside it, then renamed). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/xalloc.h"
#include "engine/engine.h"
#include "ingest/ingest_import.h"
#include "store/store.h"

enum {
	OPT_DATA = 1000,
	OPT_CONFIG,
	OPT_WORKSPACE,
	OPT_FORMAT,
	OPT_SKIP_BAD,
	OPT_MAP,
	OPT_QUIET,
	OPT_OUT,
	OPT_INTERNAL,
	OPT_NO_BOM,
};

static const struct option import_opts[] = {
	{"data", required_argument, NULL, OPT_DATA},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"workspace", required_argument, NULL, OPT_WORKSPACE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
	{"map", required_argument, NULL, OPT_MAP},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option export_opts[] = {
	{"data", required_argument, NULL, OPT_DATA},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"workspace", required_argument, NULL, OPT_WORKSPACE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"out", required_argument, NULL, OPT_OUT},
	{"internal", no_argument, NULL, OPT_INTERNAL},
	{"no-bom", no_argument, NULL, OPT_NO_BOM},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char import_usage[] =
	"usage: cairn import users FILE|- [--format csv|ndjson] [--skip-bad] [--map COLUMN=TRAIT]...\n"
	"                          [--data DIR] [--workspace NAME] [--config FILE] [--quiet]\n"
	"       cairn import events FILE|- [--skip-bad] [--data DIR] [--workspace NAME] [--config FILE] [--quiet]\n"
	"Imports users (CSV with a header row, or NDJSON identify messages) or events (NDJSON Tracking API\n"
	"messages, one per line). Every row is validated like the Tracking API. By default one bad row aborts\n"
	"the whole import and nothing is stored; --skip-bad imports the good rows and lists the bad ones.\n"
	"Running the same import again stores nothing twice. '-' reads stdin; the format follows the file's\n"
	"extension (.csv, .ndjson, .jsonl) or its first character. --map member_no=user_id renames a CSV\n"
	"column (--map col= drops it). Prints a JSON summary on stdout; exit 0 when imported, 1 when not.\n"
	"See docs/import.md.\n";

static const char export_usage[] =
	"usage: cairn export users [--format ndjson|csv] [--no-bom] [--out FILE] [--data DIR] [--workspace NAME]\n"
	"       cairn export events [--internal] [--out FILE] [--data DIR] [--workspace NAME]\n"
	"Streams every profile (one JSON object a line, as GET /api/v1/users/{id} shows it; or CSV with the\n"
	"columns user_id, anonymous_id, email, phone, name, first_name, last_name, lifecycle_stage, tags,\n"
	"created_at, traits) or every event (NDJSON in Tracking API shape, log order; --internal adds the\n"
	"consent/tags/lifecycle events the management API writes). CSV starts with a UTF-8 BOM for Excel\n"
	"unless --no-bom. Without --out it writes to stdout. See docs/import.md.\n";

struct cli_args {
	struct cairn_config cfg;
	const char *workspace;
	const char *format;
	const char *out;
	int skip_bad, quiet, internal, no_bom;
	const char **map;
	size_t nmap;
	const char *what; /* "users" or "events" */
	const char *file;
};

static void args_release(struct cli_args *a)
{
	free(a->map);
	config_release(&a->cfg);
}

/* 0, 2 (usage printed), 3 (help printed) or 1. */
static int parse_args(int argc, char **argv, const struct option *opts, const char *usage, int want_file,
		      struct cli_args *a)
{
	memset(a, 0, sizeof *a);
	config_init(&a->cfg);
	a->workspace = "default";
	unsigned set = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	optind = 1;
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, "h", opts, NULL);
		if (c == -1)
			break;
		const char *key = NULL;
		switch (c) {
		case OPT_DATA: key = "data"; break;
		case OPT_CONFIG: key = "config"; break;
		case OPT_WORKSPACE: a->workspace = optarg; continue;
		case OPT_FORMAT: a->format = optarg; continue;
		case OPT_SKIP_BAD: a->skip_bad = 1; continue;
		case OPT_QUIET: a->quiet = 1; continue;
		case OPT_OUT: a->out = optarg; continue;
		case OPT_INTERNAL: a->internal = 1; continue;
		case OPT_NO_BOM: a->no_bom = 1; continue;
		case OPT_MAP:
			a->map = xrealloc(a->map, (a->nmap + 1) * sizeof *a->map);
			a->map[a->nmap++] = optarg;
			continue;
		case 'h': fputs(usage, stdout); return 3;
		default:
			fprintf(stderr, "cairn %s: unknown or incomplete option '%s'\n%s", argv[0], argv[optind - 1],
				usage);
			return 2;
		}
		if (config_set(&a->cfg, key, optarg, &err) < 0) {
			fprintf(stderr, "cairn %s: %s\n%s", argv[0], err.message, usage);
			return 2;
		}
		set |= config_key_bit(key);
	}
	int npos = argc - optind;
	a->what = npos > 0 ? argv[optind] : NULL;
	a->file = npos > 1 ? argv[optind + 1] : NULL;
	if (!a->what || (strcmp(a->what, "users") && strcmp(a->what, "events"))) {
		fprintf(stderr, "cairn %s: say what to %s: users or events\n%s", argv[0], argv[0], usage);
		return 2;
	}
	if (want_file && !a->file) {
		fprintf(stderr, "cairn %s: name the file to import (or - for stdin)\n%s", argv[0], usage);
		return 2;
	}
	if (npos > (want_file ? 2 : 1)) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n%s", argv[0], argv[optind + (want_file ? 2 : 1)],
			usage);
		return 2;
	}
	if (config_load_env_and_file(&a->cfg, set, &err) < 0) {
		fprintf(stderr, "cairn %s: %s\n", argv[0], err.message);
		return 1;
	}
	return 0;
}

/* Opens the store and finds the workspace; prints why not and returns NULL. */
static struct store *open_store(const char *cmd, const struct cli_args *a, int64_t *ws)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct stat sb;
	if (stat(a->cfg.data_dir, &sb) != 0) {
		fprintf(stderr,
			"cairn %s: there is no store at %s; create one with 'cairn init --data %s' or name it with "
			"--data\n",
			cmd, a->cfg.data_dir, a->cfg.data_dir);
		return NULL;
	}
	struct store *st = store_open(a->cfg.data_dir, &err);
	if (!st) {
		fprintf(stderr, "cairn %s: %s\n", cmd, err.message);
		return NULL;
	}
	if (store_workspace_find(st, a->workspace, ws, &err) < 0) {
		fprintf(stderr, "cairn %s: %s has no workspace '%s'\n", cmd, a->cfg.data_dir, a->workspace);
		store_close(st);
		return NULL;
	}
	return st;
}

/* ---- progress on a terminal -------------------------------------------------- */
struct bar {
	int on;
	int skip_bad;
	uint64_t total_bytes; /* 0 when unknown (a pipe) */
	int64_t started, phase_started, last;
	enum ingest_import_phase phase;
	int drawn;
};

static void bar_draw(struct bar *b, const char *verb, unsigned pct, int has_pct, size_t rows, double rate)
{
	char gauge[32] = "";
	if (has_pct) {
		unsigned fill = pct / 5;
		size_t i = 0;
		gauge[i++] = '[';
		for (unsigned k = 0; k < 20; k++)
			gauge[i++] = k < fill ? '#' : '.';
		gauge[i++] = ']';
		gauge[i] = '\0';
		fprintf(stderr, "\r\033[Kcairn import: %-8s %s %3u%%  %zu rows  %.0f rows/s", verb, gauge, pct, rows,
			rate);
	} else {
		fprintf(stderr, "\r\033[Kcairn import: %-8s %zu rows  %.0f rows/s", verb, rows, rate);
	}
	fflush(stderr);
	b->drawn = 1;
}

static void bar_progress(const struct ingest_import_progress *p, void *arg)
{
	struct bar *b = arg;
	int64_t now = clock_mono_ms();
	if (p->phase != b->phase) {
		b->phase = p->phase;
		b->phase_started = now;
	}
	if (!b->on || now - b->last < 100)
		return;
	b->last = now;
	double secs = (double)(now - b->phase_started) / 1000.0;
	if (p->phase == INGEST_PHASE_READ) {
		unsigned pct = b->total_bytes ? (unsigned)(p->bytes * 100 / b->total_bytes) : 0;
		bar_draw(b, b->skip_bad ? "importing" : "checking", pct > 100 ? 100 : pct, b->total_bytes != 0, p->rows,
			 secs > 0 ? (double)p->rows / secs : 0);
	} else {
		unsigned pct = p->total ? (unsigned)(p->written * 100 / p->total) : 100;
		bar_draw(b, "writing", pct, 1, p->written, secs > 0 ? (double)p->written / secs : 0);
	}
}

static void bar_note(struct bar *b, const char *text)
{
	if (!b->on)
		return;
	fprintf(stderr, "\r\033[Kcairn import: %s", text);
	fflush(stderr);
	b->drawn = 1;
}

static void bar_clear(struct bar *b)
{
	if (b->drawn)
		fprintf(stderr, "\r\033[K");
	b->drawn = 0;
}

/* ---- import ---------------------------------------------------------------------- */

static void print_result(const struct ingest_import_result *res)
{
	json_t *j = ingest_import_result_json(res);
	char *text = json_dumps(j, JSON_COMPACT);
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(j);
}

static void print_errors(const struct ingest_import_result *res)
{
	for (size_t i = 0; i < res->nerrors; i++)
		fprintf(stderr, "cairn import: line %zu: %s\n", res->errors[i].line, res->errors[i].message);
	if (res->skipped > res->nerrors)
		fprintf(stderr, "cairn import: … and %zu more bad rows (only the first %zu are listed)\n",
			res->skipped - res->nerrors, res->nerrors);
}

int cli_import(int argc, char **argv)
{
	struct cli_args a;
	int rc = parse_args(argc, argv, import_opts, import_usage, 1, &a);
	if (rc) {
		args_release(&a);
		return rc == 3 ? 0 : rc;
	}
	int events = !strcmp(a.what, "events");
	int format = INGEST_FORMAT_AUTO;
	if (a.format) {
		format = ingest_import_format_from_name(a.format);
		if (format < 0) {
			fprintf(stderr, "cairn import: --format must be csv or ndjson, not '%s'\n%s", a.format,
				import_usage);
			args_release(&a);
			return 2;
		}
	} else if (strcmp(a.file, "-")) {
		format = ingest_import_format_guess(a.file);
	}
	if (events && format == INGEST_FORMAT_CSV) {
		fprintf(stderr,
			"cairn import: events are imported from NDJSON (one Tracking API message a line), not CSV\n%s",
			import_usage);
		args_release(&a);
		return 2;
	}
	if (a.nmap && (events || format == INGEST_FORMAT_NDJSON)) {
		fprintf(stderr, "cairn import: --map renames CSV columns; it does not apply to NDJSON\n%s",
			import_usage);
		args_release(&a);
		return 2;
	}
	if (sodium_init() < 0) {
		args_release(&a);
		return 1;
	}
	int from_stdin = !strcmp(a.file, "-");
	FILE *in = from_stdin ? stdin : fopen(a.file, "rb");
	if (!in) {
		fprintf(stderr, "cairn import: cannot open %s: %s\n", a.file, strerror(errno));
		args_release(&a);
		return 1;
	}
	struct bar bar = {.on = isatty(STDERR_FILENO) && !a.quiet, .skip_bad = a.skip_bad};
	struct stat sb;
	if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
		bar.total_bytes = (uint64_t)sb.st_size;
	int64_t ws;
	struct store *st = open_store("import", &a, &ws);
	if (!st) {
		if (!from_stdin)
			fclose(in);
		args_release(&a);
		return 1;
	}
	int64_t now = clock_now_ms();
	struct ingest_import_store sink = {.st = st, .ws = ws, .nshards = (unsigned)a.cfg.shards, .received_at = now};
	struct ingest_import_opts o = {
		.kind = events ? INGEST_IMPORT_EVENTS : INGEST_IMPORT_USERS,
		.format = (enum ingest_import_format)format,
		.skip_bad = a.skip_bad,
		.map = a.map,
		.nmap = a.nmap,
		.received_at = now,
		.spool_dir = a.cfg.data_dir,
		.write = ingest_import_write_store,
		.write_arg = &sink,
		.progress = bar_progress,
		.progress_arg = &bar,
	};
	bar.started = bar.phase_started = clock_mono_ms();
	struct ingest_src src;
	ingest_src_init_file(&src, in);
	struct ingest_import_result res;
	struct cairn_err err = CAIRN_ERR_INIT;
	rc = ingest_import_run(&o, &src, &res, &err);
	ingest_src_release(&src);
	if (!from_stdin)
		fclose(in);

	/* Apply what is in the log (this run's rows, or an earlier run's that a
	 * crash left unapplied) so profiles are ready without a server. */
	int applied = 1;
	struct cairn_err aerr = CAIRN_ERR_INIT;
	if (rc == 0 || res.imported || res.duplicates) {
		bar_note(&bar, "applying to profiles…");
		applied = engine_catch_up(st, &aerr) == 0;
	}
	bar_clear(&bar);
	print_errors(&res);
	if (rc == 0 || rc == CAIRN_EUNPROC || res.imported || res.duplicates)
		print_result(&res);
	const char *noun = events ? "events" : "users";
	if (rc < 0) {
		fprintf(stderr, "cairn import: %s\n", err.message);
	} else if (!a.quiet) {
		fprintf(stderr, "cairn import: %zu %s imported, %zu already there, %zu bad rows skipped\n",
			res.imported, noun, res.duplicates, res.skipped);
	}
	if (!applied) {
		fprintf(stderr,
			"cairn import: the rows are stored, but applying them to profiles failed (%s); 'cairn serve' "
			"or the "
			"next import will apply them\n",
			aerr.message);
		if (rc == 0)
			rc = CAIRN_EIO;
	}
	ingest_import_result_release(&res);
	store_close(st);
	args_release(&a);
	return rc == 0 ? 0 : 1;
}

/* ---- export ---------------------------------------------------------------------- */

struct file_out {
	FILE *f;
	int err; /* errno of the first failed write */
};

static int file_write(const char *p, size_t n, void *arg)
{
	struct file_out *o = arg;
	if (fwrite(p, 1, n, o->f) != n) {
		o->err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int cli_export(int argc, char **argv)
{
	struct cli_args a;
	int rc = parse_args(argc, argv, export_opts, export_usage, 0, &a);
	if (rc) {
		args_release(&a);
		return rc == 3 ? 0 : rc;
	}
	int users = !strcmp(a.what, "users");
	int format = a.format ? ingest_import_format_from_name(a.format) : INGEST_FORMAT_NDJSON;
	const char *bad = NULL;
	if (format < 0)
		bad = "--format must be ndjson or csv";
	else if (!users && format == INGEST_FORMAT_CSV)
		bad = "events are exported as NDJSON only";
	else if (users && a.internal)
		bad = "--internal applies to events";
	else if (a.no_bom && format != INGEST_FORMAT_CSV)
		bad = "--no-bom applies to CSV";
	if (bad) {
		fprintf(stderr, "cairn export: %s\n%s", bad, export_usage);
		args_release(&a);
		return 2;
	}
	int64_t ws;
	struct store *st = open_store("export", &a, &ws);
	if (!st) {
		args_release(&a);
		return 1;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	/* profiles reflect every logged event, even with no server running */
	if (users && engine_catch_up(st, &err) < 0) {
		fprintf(stderr,
			"cairn export: warning: applying pending events failed (%s); exporting profiles as they are\n",
			err.message);
		cairn_err_clear(&err);
	}
	struct buf tmp;
	buf_init(&tmp, 4096);
	struct file_out out = {.f = stdout};
	if (a.out) {
		buf_addf(&tmp, "%s.partial-%ld", a.out, (long)getpid());
		out.f = tmp.overflow ? NULL : fopen(tmp.ptr, "wb");
		if (!out.f) {
			fprintf(stderr, "cairn export: cannot write %s: %s\n", a.out, strerror(errno));
			buf_release(&tmp);
			store_close(st);
			args_release(&a);
			return 1;
		}
	}
	size_t count = 0;
	if (users)
		rc = ingest_export_users(st, ws, (enum ingest_import_format)format,
					 a.no_bom ? 0 : INGEST_EXPORT_CSV_BOM, file_write, &out, &count, &err);
	else
		rc = ingest_export_events(st, ws, a.internal, file_write, &out, &count, &err);
	if (fflush(out.f) != 0 && !out.err)
		out.err = errno ? errno : EIO;
	if (a.out) {
		if (fclose(out.f) != 0 && !out.err)
			out.err = errno ? errno : EIO;
		if (rc == 0 && !out.err && rename(tmp.ptr, a.out) != 0)
			out.err = errno;
		if (rc < 0 || out.err)
			unlink(tmp.ptr);
	}
	if (out.err)
		fprintf(stderr, "cairn export: writing %s failed: %s\n", a.out ? a.out : "stdout", strerror(out.err));
	else if (rc < 0)
		fprintf(stderr, "cairn export: %s\n", err.message);
	else if (a.out)
		fprintf(stderr, "cairn export: %zu %s written to %s\n", count, users ? "users" : "events", a.out);
	buf_release(&tmp);
	store_close(st);
	args_release(&a);
	return rc < 0 || out.err ? 1 : 0;
}
