/* journey_ceiling.c — the peer of `make bench`'s journey steps row: the rows
 * cairn's journey tables get when a wait's timers fire, written straight into
 * SQLite by one thread. No HTTP, no engine, no rendering, no conditions, no
 * emitted events.
 *
 * Mirrors src/store/store_schema.c (migration 10) and src/store/store_journey.c:
 * the tables jny_instances, jny_timers, jny_steps, jny_node_stats and messages
 * with cairn's indexes, state.db's settings (WAL, synchronous=NORMAL, the
 * engine connection's cache_size of 256 MiB), and the journey of
 * bench/journeys.mjs after its wait: every second user (the "pro" ones) takes
 * plan → pro-tips (a message row) → tag → done, the others plan → tag → done.
 * Per fired timer, in transactions of TXN timers (cairn: JNY_TICK_BATCH):
 *
 *   SELECT the due timers (cairn's query: timers ⋈ instances ⋈ journeys,
 *          ORDER BY due_at, instance_id LIMIT TXN)
 *   SELECT the instance row
 *   per step: INSERT jny_steps + UPSERT jny_node_stats (entered)
 *             (+ INSERT messages at the send step)
 *   UPSERT jny_node_stats (exited) at the exit, UPDATE jny_instances,
 *   DELETE jny_timers
 *
 *   journey_ceiling DB_PATH USERS TXN MAX_SECONDS
 *
 * First (untimed) it fills the store as the bench's journey leaves it before
 * the clock moves: USERS instances waiting at "wait1" with their timers, the
 * two steps each already took (hello, wait1) and the hello message. Then it
 * fires every timer, stopping early after MAX_SECONDS (checked between
 * transactions), and prints one JSON object with the steps and timers per
 * second and the bytes this process wrote to storage (/proc/self/io). */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long write_bytes(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	long long v = -1;
	char line[128];
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "journey_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "journey_ceiling: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *prep(const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		die(sql);
	return s;
}

static void run(sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die(what);
	sqlite3_reset(s);
}

#define T0 1772413200000LL	     /* 2026-03-02T01:00:00Z, the bench's virtual start */
#define DUE (T0 + 86400000LL)	     /* wait1: one day */
static const char JOURNEY[] = "bench-steps";

static sqlite3_stmt *s_step, *s_stat_in, *s_stat_out, *s_msg;

/* A message row of the size cairn writes for the bench's inline emails. */
static void message(long long instance, long long seq, long long profile, const char *node, long long at)
{
	char id[48], content[512];
	snprintf(id, sizeof id, "msg_%016llx%016llx", (unsigned long long)instance * 0x9e3779b97f4a7c15ULL,
		 (unsigned long long)seq * 0xbf58476d1ce4e5b9ULL ^ (unsigned long long)instance);
	int n = snprintf(content, sizeof content,
			 "{\"subject\":\"Pro tips\",\"html\":\"<p>User %lld, here are three pro tips.</p>\","
			 "\"text\":\"Three pro tips.\",\"to\":\"jb-%lld@example.com\"}",
			 profile, profile);
	sqlite3_bind_text(s_msg, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s_msg, 2, 1);
	sqlite3_bind_int64(s_msg, 3, profile);
	sqlite3_bind_int64(s_msg, 4, instance);
	sqlite3_bind_text(s_msg, 5, JOURNEY, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s_msg, 6, 1);
	sqlite3_bind_text(s_msg, 7, node, -1, SQLITE_STATIC);
	sqlite3_bind_text(s_msg, 8, content, n, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s_msg, 9, at);
	run(s_msg, "insert message");
}

static void step(long long instance, long long seq, long long profile, const char *node, long long at,
		 const char *reason)
{
	sqlite3_bind_int64(s_step, 1, instance);
	sqlite3_bind_int64(s_step, 2, seq);
	sqlite3_bind_int64(s_step, 3, 1);
	sqlite3_bind_text(s_step, 4, JOURNEY, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s_step, 5, 1);
	sqlite3_bind_int64(s_step, 6, profile);
	sqlite3_bind_text(s_step, 7, node, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s_step, 8, at);
	sqlite3_bind_text(s_step, 9, reason, -1, SQLITE_STATIC);
	run(s_step, "insert step");
	sqlite3_bind_text(s_stat_in, 1, node, -1, SQLITE_STATIC);
	run(s_stat_in, "count step");
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: journey_ceiling DB_PATH USERS TXN MAX_SECONDS\n");
		return 2;
	}
	const char *path = argv[1];
	long users = atol(argv[2]), txn = atol(argv[3]);
	double max_s = atof(argv[4]);
	if (users <= 0 || txn <= 0)
		return 2;
	char wal[4096], shm[4096];
	snprintf(wal, sizeof wal, "%s-wal", path);
	snprintf(shm, sizeof shm, "%s-shm", path);
	unlink(path), unlink(wal), unlink(shm);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		die("open");
	exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;"
	     " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;");
	exec("CREATE TABLE journeys (workspace_id BIGINT NOT NULL, journey_id TEXT NOT NULL, name TEXT NOT NULL,"
	     "  status TEXT NOT NULL, draft TEXT NOT NULL, draft_rev BIGINT NOT NULL, live_version BIGINT NOT NULL"
	     "  DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
	     "  PRIMARY KEY (workspace_id, journey_id));"
	     "CREATE TABLE jny_instances (instance_id INTEGER PRIMARY KEY, workspace_id BIGINT NOT NULL,"
	     "  journey_id TEXT NOT NULL, version BIGINT NOT NULL, profile_id BIGINT NOT NULL, node TEXT NOT NULL,"
	     "  state TEXT NOT NULL, wait_event TEXT NOT NULL DEFAULT '', variant TEXT NOT NULL DEFAULT '',"
	     "  entered_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, exited_at BIGINT NOT NULL DEFAULT 0,"
	     "  exit_reason TEXT NOT NULL DEFAULT '', converted_at BIGINT NOT NULL DEFAULT 0,"
	     "  steps BIGINT NOT NULL DEFAULT 0);"
	     "CREATE INDEX jny_instances_profile ON jny_instances (workspace_id, profile_id, state);"
	     "CREATE INDEX jny_instances_node ON jny_instances (workspace_id, journey_id, state, node);"
	     "CREATE TABLE jny_timers (instance_id INTEGER PRIMARY KEY, workspace_id BIGINT NOT NULL,"
	     "  due_at BIGINT NOT NULL, kind TEXT NOT NULL);"
	     "CREATE INDEX jny_timers_due ON jny_timers (due_at);"
	     "CREATE TABLE jny_steps (instance_id BIGINT NOT NULL, seq BIGINT NOT NULL, workspace_id BIGINT NOT NULL,"
	     "  journey_id TEXT NOT NULL, version BIGINT NOT NULL, profile_id BIGINT NOT NULL, node TEXT NOT NULL,"
	     "  at BIGINT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (instance_id, seq));"
	     "CREATE INDEX jny_steps_profile ON jny_steps (workspace_id, profile_id, at);"
	     "CREATE TABLE jny_node_stats (workspace_id BIGINT NOT NULL, journey_id TEXT NOT NULL, node TEXT NOT NULL,"
	     "  entered BIGINT NOT NULL DEFAULT 0, exited BIGINT NOT NULL DEFAULT 0,"
	     "  converted BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (workspace_id, journey_id, node));"
	     "CREATE TABLE messages (message_id TEXT PRIMARY KEY, workspace_id BIGINT NOT NULL,"
	     "  profile_id BIGINT NOT NULL, instance_id BIGINT NOT NULL DEFAULT 0, journey_id TEXT,"
	     "  version BIGINT NOT NULL DEFAULT 0, node TEXT, variant TEXT, channel TEXT NOT NULL, template_id TEXT,"
	     "  advertising INTEGER NOT NULL, content TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL,"
	     "  send_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	     "CREATE INDEX messages_status ON messages (status, send_at);"
	     "CREATE INDEX messages_profile ON messages (workspace_id, profile_id, channel, send_at);"
	     "CREATE INDEX messages_ws ON messages (workspace_id, created_at, message_id);");
	exec("INSERT INTO journeys VALUES (1, 'bench-steps', 'Bench steps', 'live', '{}', 1, 1, 0, 0)");

	s_step = prep("INSERT INTO jny_steps (instance_id, seq, workspace_id, journey_id, version, profile_id, node, at,"
		      " reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	s_stat_in = prep("INSERT INTO jny_node_stats (workspace_id, journey_id, node, entered) VALUES (1, 'bench-steps',"
			 " ?1, 1) ON CONFLICT (workspace_id, journey_id, node) DO UPDATE SET entered = entered + 1");
	s_stat_out = prep("INSERT INTO jny_node_stats (workspace_id, journey_id, node, exited) VALUES (1, 'bench-steps',"
			  " ?1, 1) ON CONFLICT (workspace_id, journey_id, node) DO UPDATE SET exited = exited + 1");
	s_msg = prep("INSERT INTO messages (message_id, workspace_id, profile_id, instance_id, journey_id, version, node,"
		     " variant, channel, template_id, advertising, content, status, created_at, send_at, updated_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '', 'email', NULL, 1, ?8, 'queued', ?9, ?9, ?9)"
		     " ON CONFLICT (message_id) DO NOTHING");
	sqlite3_stmt *ins = prep("INSERT INTO jny_instances (workspace_id, journey_id, version, profile_id, node, state,"
				 " wait_event, variant, entered_at, updated_at, exited_at, exit_reason, converted_at,"
				 " steps) VALUES (1, 'bench-steps', 1, ?1, 'wait1', 'waiting', '', '', ?2, ?2, 0, '', 0, 2)");
	sqlite3_stmt *timer = prep("INSERT INTO jny_timers (instance_id, workspace_id, due_at, kind) VALUES (?1, 1, ?2,"
				   " 'wait') ON CONFLICT (instance_id) DO UPDATE SET due_at = excluded.due_at,"
				   " kind = excluded.kind");
	sqlite3_stmt *due = prep("SELECT t.instance_id, t.due_at, t.kind FROM jny_timers t JOIN jny_instances i"
				 " ON i.instance_id = t.instance_id JOIN journeys j ON j.workspace_id = i.workspace_id"
				 " AND j.journey_id = i.journey_id WHERE t.due_at <= ?1 AND j.status = 'live'"
				 " ORDER BY t.due_at, t.instance_id LIMIT ?2");
	sqlite3_stmt *get = prep("SELECT instance_id, workspace_id, journey_id, version, profile_id, node, state,"
				 " wait_event, variant, entered_at, updated_at, exited_at, exit_reason, converted_at,"
				 " steps FROM jny_instances WHERE instance_id = ?1");
	sqlite3_stmt *save = prep("UPDATE jny_instances SET node = ?1, state = ?2, wait_event = '', variant = '',"
				  " updated_at = ?3, exited_at = ?3, exit_reason = 'completed', converted_at = 0,"
				  " steps = ?4 WHERE instance_id = ?5");
	sqlite3_stmt *clear = prep("DELETE FROM jny_timers WHERE instance_id = ?1");

	/* ---- fill (untimed): users waiting at wait1, as cairn leaves them */
	double p0 = now_s();
	exec("BEGIN");
	for (long i = 0; i < users; i++) {
		long long profile = i + 1;
		sqlite3_bind_int64(ins, 1, profile);
		sqlite3_bind_int64(ins, 2, T0);
		run(ins, "insert instance");
		long long id = sqlite3_last_insert_rowid(db);
		step(id, 0, profile, "hello", T0, "sent email inline message");
		message(id, 0, profile, "hello", T0);
		step(id, 1, profile, "wait1", T0, "waiting 1 day, until 2026-03-03T01:00:00.000Z (Tue 10:00 Asia/Seoul)");
		sqlite3_bind_int64(timer, 1, id);
		sqlite3_bind_int64(timer, 2, DUE);
		run(timer, "set timer");
		if ((i + 1) % 20000 == 0) {
			exec("COMMIT");
			exec("BEGIN");
		}
	}
	exec("COMMIT");
	exec("PRAGMA wal_checkpoint(TRUNCATE)");
	double fill_s = now_s() - p0;

	/* ---- fire every timer, TXN per transaction */
	long long wb0 = write_bytes();
	long timers = 0, steps = 0, txns = 0;
	long long *ids = malloc((size_t)txn * sizeof *ids);
	double t0 = now_s();
	for (;;) {
		if (now_s() - t0 >= max_s)
			break;
		exec("BEGIN");
		long n = 0;
		sqlite3_bind_int64(due, 1, DUE);
		sqlite3_bind_int64(due, 2, txn);
		int rc;
		while ((rc = sqlite3_step(due)) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(due, 0);
		if (rc != SQLITE_DONE)
			die("due timers");
		sqlite3_reset(due);
		for (long k = 0; k < n; k++) {
			sqlite3_bind_int64(get, 1, ids[k]);
			if (sqlite3_step(get) != SQLITE_ROW)
				die("read instance");
			long long profile = sqlite3_column_int64(get, 4), seq = sqlite3_column_int64(get, 14);
			sqlite3_reset(get);
			long long at = DUE;
			step(ids[k], seq++, profile, "plan", at, profile % 2 ? "branch 1 held: {\"op\":\"eq\",\"trait\":"
									     "\"plan\",\"value\":\"pro\"}"
									   : "no branch held: else");
			if (profile % 2) {
				step(ids[k], seq, profile, "pro-tips", at, "sent email inline message");
				message(ids[k], seq++, profile, "pro-tips", at);
			}
			step(ids[k], seq++, profile, "tag", at, "profile updated");
			step(ids[k], seq++, profile, "done", at, "exit");
			sqlite3_bind_text(s_stat_out, 1, "done", -1, SQLITE_STATIC);
			run(s_stat_out, "count exit");
			steps += profile % 2 ? 4 : 3;
			sqlite3_bind_text(save, 1, "done", -1, SQLITE_STATIC);
			sqlite3_bind_text(save, 2, "exited", -1, SQLITE_STATIC);
			sqlite3_bind_int64(save, 3, at);
			sqlite3_bind_int64(save, 4, seq);
			sqlite3_bind_int64(save, 5, ids[k]);
			run(save, "save instance");
			sqlite3_bind_int64(clear, 1, ids[k]);
			run(clear, "clear timer");
		}
		exec("COMMIT");
		timers += n;
		txns++;
		if (n < txn)
			break;
	}
	double secs = now_s() - t0;
	long long wb = write_bytes() - wb0;
	printf("{\"users\":%ld,\"timers\":%ld,\"steps\":%ld,\"txns\":%ld,\"txn_size\":%ld,\"seconds\":%.3f,"
	       "\"steps_per_s\":%.0f,\"timers_per_s\":%.0f,\"fill_seconds\":%.3f,\"write_bytes\":%lld,\"capped\":%s}\n",
	       users, timers, steps, txns, txn, secs, steps / secs, timers / secs, fill_s, wb0 < 0 ? -1LL : wb,
	       timers < users ? "true" : "false");
	free(ids);
	sqlite3_stmt *all[] = {s_step, s_stat_in, s_stat_out, s_msg, ins, timer, due, get, save, clear};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(db);
	unlink(path), unlink(wal), unlink(shm);
	return 0;
}
