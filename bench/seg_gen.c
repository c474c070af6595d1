/* seg_gen.c — the store behind row 6 of `make bench` (issue 5): N users and
 * N × EPU track events written straight into the state.db of a store made by
 * `cairn init`, in the shape cairn's engine would have left them, so that a
 * segment preview can be timed at 1,000,000 users / 20,000,000 events without
 * sending 20 M events through HTTP, the log and the engine (~20 minutes).
 *
 *   seg_gen STATE_DB USERS EPU [NOW_MS]     fill; prints one JSON object
 *   seg_gen --version                       prints SEG_GEN_VERSION
 *
 * Mirrors src/store/store_schema.c (state migrations 1, 2, 4) and what
 * src/ingest/ingest_apply.c + store_seg_apply write for an identify followed
 * by track events. For user i (0 ≤ i < USERS), profile_id = i + 1 in the
 * workspace `cairn init` made (the lowest workspace_id; 1):
 *
 *   profiles       user_id "seg-<i>", traits {"plan":"pro"|"free","email":…}
 *                  (pro for every 3rd user, i % 3 == 0), email column
 *                  lower-cased as store_profile_put sets it; created_at =
 *                  first_seen = the user's first event, last_seen = its last,
 *                  updated_at = the identify (one minute before the first).
 *   identities     (ws, 'user', "seg-<i>") → profile, so GET /api/v1/users/seg-<i>
 *                  and every other user-id lookup resolves.
 *   profile_tags   'vip' for every 4th user (i % 4 == 0).
 *   seg_daily      EPU track events per user, as day buckets (day =
 *                  floor(ts / 86,400,000)), one row per (user, name, day) with
 *                  count, revenue 0 and the first/last ts of the bucket — the
 *                  same mix as bench/segments.mjs's userMessages: min(i % 7,
 *                  EPU) Product Viewed in the last 20 days, two more 40–60
 *                  days ago for every 5th user, the rest Page Viewed in the
 *                  last 20 days. No event falls on day(NOW) − 30, the day a
 *                  30-day window cuts, nor on any day from −39 to −21, so the
 *                  buckets answer "count within 30 days" exactly (and keep
 *                  doing so while the store is up to 9 days old).
 *
 * Not written: timeline rows (nothing the benchmark asks reads them when no
 * bucket straddles a window's edge; GET /users/{id}'s first/last-seen
 * computed traits, which come from the timeline, are empty), events.db (the
 * log stays empty: engine cursor 0 = log head 0, consistent), seg_state (no
 * email events, so no unopened-email streak and no default tagging rule
 * fires), seg_counter_daily (no counter is registered; one registered later
 * for a `where` filter is backfilled from timeline and log, so it would see
 * no events here). The store is a fixture: `cairn rebuild --check` would not
 * reproduce it from its (empty) log.
 *
 * One transaction per 100,000 users, journal_mode=WAL, synchronous=NORMAL,
 * a 1 GiB page cache; rows are inserted in primary-key order. Random times
 * come from splitmix64 seeded by the user index, so a run is reproducible
 * for a given NOW_MS. Refuses a store that already has profiles. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* run.mjs rebuilds the kept store when this changes: bump it whenever the
 * data written here change. */
#define SEG_GEN_VERSION "seg_gen 1 (plan/3, vip/4, PV i%7 in 20 d + 2 at 40-60 d /5, rest Page Viewed)"

#define DAY_MS	     86400000LL
#define TXN_USERS    100000L
#define VIP_EVERY    4
#define PRO_EVERY    3
#define MAX_EPU	     10000
#define WINDOW_DAYS  30
#define MIN_PV_COUNT 3

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state;
static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "seg_gen: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "seg_gen: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *prep(const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(sql);
	return s;
}

static void step(sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die(what);
	sqlite3_reset(s);
}

static int64_t floor_day(int64_t ms)
{
	return (ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
}

/* names in byte order, as SQLite's BINARY collation sorts them, so that the
 * buckets go in primary-key order (workspace, profile, name, day) */
enum { PAGE_VIEWED, PRODUCT_VIEWED, NAMES };
static const char *const names[NAMES] = {"Page Viewed", "Product Viewed"};

struct ev {
	int name;
	int64_t ts;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->name != y->name)
		return x->name - y->name;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(SEG_GEN_VERSION);
		return 0;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: seg_gen STATE_DB USERS EPU [NOW_MS]\n       seg_gen --version\n");
		return 2;
	}
	const char *path = argv[1];
	long users = atol(argv[2]), epu = atol(argv[3]);
	int64_t now = argc == 5 ? atoll(argv[4]) : 0;
	if (!now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (users <= 0 || epu <= 0 || epu > MAX_EPU)
		return 2;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("open (make the store with `cairn init --data DIR` first)");
	sqlite3_busy_timeout(db, 10000);
	exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-1048576;"
	     " PRAGMA temp_store=MEMORY;");

	sqlite3_stmt *q = prep("SELECT min(workspace_id) FROM workspaces");
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL)
		die("no workspace (was the store made by `cairn init`?)");
	int64_t ws = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = prep("SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM seg_daily)");
	if (sqlite3_step(q) != SQLITE_ROW)
		die("counting profiles");
	if (sqlite3_column_int64(q, 0) != 0) {
		fprintf(stderr, "seg_gen: %s already has profiles or buckets; use a fresh store\n", path);
		return 1;
	}
	sqlite3_finalize(q);

	sqlite3_stmt *ins_profile = prep("INSERT INTO profiles (profile_id, workspace_id, user_id, traits, first_seen,"
					 " last_seen, created_at, updated_at, email) VALUES (?,?,?,?,?,?,?,?,?)");
	sqlite3_stmt *ins_identity = prep("INSERT INTO identities (workspace_id, kind, value, profile_id, first_seen)"
					  " VALUES (?, 'user', ?, ?, ?)");
	sqlite3_stmt *ins_tag =
		prep("INSERT INTO profile_tags (workspace_id, profile_id, tag, added_at) VALUES (?, ?, 'vip', ?)");
	sqlite3_stmt *ins_bucket = prep("INSERT INTO seg_daily (workspace_id, profile_id, name, day, count, revenue,"
					" first_ts, last_ts) VALUES (?,?,?,?,?,0,?,?)");
	sqlite3_stmt *begin = prep("BEGIN"), *commit = prep("COMMIT");

	struct ev *evs = calloc((size_t)epu, sizeof *evs);
	if (!evs)
		return 1;
	char uid[32], email[64], traits[128];
	long long events = 0, buckets = 0, tags = 0, expected = 0, pro = 0, pv_recent = 0;
	double t0 = now_s();
	int64_t today = floor_day(now);
	for (long i = 0; i < users; i++) {
		if (i % TXN_USERS == 0)
			step(begin, "BEGIN");
		rng_state = 0x5eedULL ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
		/* the events: as bench/segments.mjs's userMessages */
		long pv = i % 7 < epu ? i % 7 : epu;
		long old = i % 5 == 0 ? (epu - pv < 2 ? epu - pv : 2) : 0;
		long n = 0;
		for (long k = 0; k < pv; k++)
			evs[n++] = (struct ev){PRODUCT_VIEWED, now - (int64_t)(rnd() % (uint64_t)(20 * DAY_MS)) - 60000};
		for (long k = 0; k < old; k++)
			evs[n++] = (struct ev){PRODUCT_VIEWED,
					       now - 40 * DAY_MS - (int64_t)(rnd() % (uint64_t)(20 * DAY_MS))};
		while (n < epu)
			evs[n++] = (struct ev){PAGE_VIEWED, now - (int64_t)(rnd() % (uint64_t)(20 * DAY_MS)) - 60000};
		qsort(evs, (size_t)n, sizeof *evs, ev_cmp);
		int64_t first = evs[0].ts, last = evs[0].ts;
		for (long k = 1; k < n; k++) {
			first = evs[k].ts < first ? evs[k].ts : first;
			last = evs[k].ts > last ? evs[k].ts : last;
		}
		int64_t pid = i + 1, identified = first - 60000;

		snprintf(uid, sizeof uid, "seg-%ld", i);
		snprintf(email, sizeof email, "%s@example.com", uid);
		int is_pro = i % PRO_EVERY == 0;
		int tl = snprintf(traits, sizeof traits, "{\"plan\":\"%s\",\"email\":\"%s\"}", is_pro ? "pro" : "free",
				  email);
		sqlite3_bind_int64(ins_profile, 1, pid);
		sqlite3_bind_int64(ins_profile, 2, ws);
		sqlite3_bind_text(ins_profile, 3, uid, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_profile, 4, traits, tl, SQLITE_STATIC);
		sqlite3_bind_int64(ins_profile, 5, identified);
		sqlite3_bind_int64(ins_profile, 6, last);
		sqlite3_bind_int64(ins_profile, 7, identified);
		sqlite3_bind_int64(ins_profile, 8, identified);
		sqlite3_bind_text(ins_profile, 9, email, -1, SQLITE_STATIC);
		step(ins_profile, "insert profile");
		sqlite3_bind_int64(ins_identity, 1, ws);
		sqlite3_bind_text(ins_identity, 2, uid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_identity, 3, pid);
		sqlite3_bind_int64(ins_identity, 4, identified);
		step(ins_identity, "insert identity");
		int vip = i % VIP_EVERY == 0;
		if (vip) {
			sqlite3_bind_int64(ins_tag, 1, ws);
			sqlite3_bind_int64(ins_tag, 2, pid);
			sqlite3_bind_int64(ins_tag, 3, identified);
			step(ins_tag, "insert tag");
			tags++;
		}
		/* buckets: runs of equal (name, day) in the sorted events */
		long pv_in_window = 0;
		for (long k = 0; k < n;) {
			int64_t day = floor_day(evs[k].ts);
			long e = k;
			while (e < n && evs[e].name == evs[k].name && floor_day(evs[e].ts) == day)
				e++;
			if (day == today - WINDOW_DAYS) {
				fprintf(stderr, "seg_gen: an event on the window's cut day (bug)\n");
				return 1;
			}
			if (evs[k].name == PRODUCT_VIEWED && day > today - WINDOW_DAYS)
				pv_in_window += e - k;
			sqlite3_bind_int64(ins_bucket, 1, ws);
			sqlite3_bind_int64(ins_bucket, 2, pid);
			sqlite3_bind_text(ins_bucket, 3, names[evs[k].name], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_bucket, 4, day);
			sqlite3_bind_int64(ins_bucket, 5, e - k);
			sqlite3_bind_int64(ins_bucket, 6, evs[k].ts);
			sqlite3_bind_int64(ins_bucket, 7, evs[e - 1].ts);
			step(ins_bucket, "insert bucket");
			buckets++;
			k = e;
		}
		events += n;
		pro += is_pro;
		pv_recent += pv_in_window;
		expected += is_pro && vip && pv_in_window >= MIN_PV_COUNT;
		if (i % TXN_USERS == TXN_USERS - 1 || i == users - 1) {
			step(commit, "COMMIT");
			fprintf(stderr, "seg_gen: %ld users, %lld buckets, %.1f s\n", i + 1, buckets, now_s() - t0);
		}
	}
	double fill_s = now_s() - t0;
	exec("PRAGMA wal_checkpoint(TRUNCATE);"); /* no ANALYZE: cairn never runs it either */
	double secs = now_s() - t0;
	printf("{\"version\":\"%s\",\"workspace_id\":%lld,\"now\":%lld,\"day\":%lld,\"users\":%ld,"
	       "\"epu\":%ld,\"events\":%lld,\"buckets\":%lld,\"tags\":%lld,\"pro\":%lld,\"product_viewed_in_window\":%lld,"
	       "\"expected\":%lld,\"fill_seconds\":%.3f,\"seconds\":%.3f}\n",
	       SEG_GEN_VERSION, (long long)ws, (long long)now, (long long)today, users, epu, events, buckets, tags,
	       pro, pv_recent, expected, fill_s, secs);
	free(evs);
	sqlite3_finalize(ins_profile), sqlite3_finalize(ins_identity), sqlite3_finalize(ins_tag);
	sqlite3_finalize(ins_bucket), sqlite3_finalize(begin), sqlite3_finalize(commit);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	return 0;
}
