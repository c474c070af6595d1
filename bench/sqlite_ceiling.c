/* sqlite_ceiling.c — ceiling (a) of `make bench`: the same events written
 * straight into SQLite with cairn's durability settings, no HTTP, no JSON
 * parsing, no threads.
 *
 * Mirrors src/store/store_schema.c (events migration 1) and
 * src/store/store_log.c: WAL, synchronous=FULL, cache_size=-65536, one
 * `events` table keyed by INTEGER PRIMARY KEY, and the idempotency table
 * `event_dedup` keyed by a 64-bit hash of (workspace, messageId) as an
 * INTEGER PRIMARY KEY, inserted with ON CONFLICT DO NOTHING. Each event is
 * a ~500-byte track event with a random UUID v4 messageId and a userId drawn
 * from USERS, like bench/batch.lua sends. One transaction per TXN events.
 *
 *   sqlite_ceiling DB_PATH EVENTS TXN USERS MAX_SECONDS [nodedup]
 *
 * Stops after EVENTS events or MAX_SECONDS (checked between transactions),
 * whichever comes first, and prints one JSON object, with the bytes this
 * process wrote to storage (/proc/self/io write_bytes: WAL and checkpoints).
 * "nodedup" leaves the event_dedup insert out, to show what it costs. */
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

static uint64_t rng_state;
static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 64-bit hash of (workspace, messageId): FNV-1a finished with a mixer. cairn
 * uses SipHash (libsodium crypto_shorthash); both give uniformly random
 * integer keys, which is what the B-tree cost depends on. */
static int64_t key_hash(int64_t ws, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)ws;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (int64_t)h;
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

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static const char *const products[] = {"Trail Running Shoe", "Merino Wool Sweater", "Espresso Grinder",
				       "Noise Cancelling Headphones", "Cast Iron Skillet", "Yoga Mat Pro"};
static const char *const categories[] = {"Footwear", "Apparel", "Kitchen", "Electronics", "Home", "Fitness"};
static const char *const names[] = {"Product Viewed", "Product Added", "Checkout Started", "Order Completed"};
static const char *const agents[] = {
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
	"Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
};
#define PICK(a) (a[rnd() % (sizeof a / sizeof a[0])])

int main(int argc, char **argv)
{
	if (argc != 6 && !(argc == 7 && !strcmp(argv[6], "nodedup"))) {
		fprintf(stderr, "usage: sqlite_ceiling DB_PATH EVENTS TXN USERS MAX_SECONDS [nodedup]\n");
		return 2;
	}
	int with_dedup = argc == 6;
	const char *path = argv[1];
	long total = atol(argv[2]), txn = atol(argv[3]), users = atol(argv[4]);
	double max_s = atof(argv[5]);
	if (total <= 0 || txn <= 0 || users <= 0)
		return 2;
	rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	char wal[4096], shm[4096];
	snprintf(wal, sizeof wal, "%s-wal", path);
	snprintf(shm, sizeof shm, "%s-shm", path);
	unlink(path), unlink(wal), unlink(shm);

	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		die(db, "open");
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;");
	exec(db, "CREATE TABLE events ("
		 "  id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL, shard INTEGER NOT NULL,"
		 "  type TEXT NOT NULL, name TEXT, message_id TEXT NOT NULL, user_id TEXT, anonymous_id TEXT,"
		 "  ts INTEGER NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL);"
		 "CREATE TABLE event_dedup (key INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL,"
		 "  event_id INTEGER NOT NULL);");
	sqlite3_stmt *ins, *dedup, *begin, *commit;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO events (workspace_id, shard, type, name, message_id, user_id, anonymous_id,"
			       " ts, received_at, body) VALUES (?,?,?,?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO event_dedup (key, workspace_id, event_id) VALUES (?,?,?) ON CONFLICT DO NOTHING",
			       -1, &dedup, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
		die(db, "prepare");

	char body[2048], mid[40], uid[24];
	long done = 0, txns = 0;
	long long wb0 = write_bytes();
	double gen_s = 0, t0 = now_s();
	while (done < total && now_s() - t0 < max_s) {
		if (sqlite3_step(begin) != SQLITE_DONE)
			die(db, "BEGIN");
		sqlite3_reset(begin);
		for (long i = 0; i < txn && done < total; i++, done++) {
			double g0 = now_s();
			uint64_t a = rnd(), b = rnd();
			snprintf(mid, sizeof mid, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
				 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, 0x8000u | ((unsigned)(b >> 48) & 0x3fff),
				 (unsigned long long)(b & 0xffffffffffffULL));
			snprintf(uid, sizeof uid, "u%07ld", (long)(rnd() % (uint64_t)users));
			unsigned sku = (unsigned)(rnd() % 100000);
			int blen = snprintf(
				body, sizeof body,
				"{\"type\":\"track\",\"messageId\":\"%s\",\"userId\":\"%s\",\"event\":\"%s\","
				"\"timestamp\":\"2026-03-02T10:00:00.000Z\",\"properties\":{\"product_id\":\"SKU-%05u\","
				"\"sku\":\"SKU-%05u\",\"name\":\"%s\",\"category\":\"%s\",\"price\":%u.%02u,"
				"\"currency\":\"USD\",\"quantity\":%u,\"coupon\":\"SPRING%02u\","
				"\"url\":\"https://shop.example.com/products/sku-%05u\",\"position\":%u},"
				"\"context\":{\"ip\":\"203.0.113.%u\",\"locale\":\"en-US\",\"userAgent\":\"%s\","
				"\"library\":{\"name\":\"analytics-node\",\"version\":\"2.1.0\"}}}",
				mid, uid, PICK(names), sku, sku, PICK(products), PICK(categories), (unsigned)(rnd() % 250),
				(unsigned)(rnd() % 100), (unsigned)(rnd() % 4 + 1), (unsigned)(rnd() % 31), sku,
				(unsigned)(rnd() % 48 + 1), (unsigned)(rnd() % 254 + 1), PICK(agents));
			gen_s += now_s() - g0;
			int64_t ts = 1772445600000LL + done;
			sqlite3_bind_int64(ins, 1, 1);
			sqlite3_bind_int(ins, 2, (int)(rnd() % 16));
			sqlite3_bind_text(ins, 3, "track", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, "Product Viewed", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 5, mid, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 6, uid, -1, SQLITE_STATIC);
			sqlite3_bind_null(ins, 7);
			sqlite3_bind_int64(ins, 8, ts);
			sqlite3_bind_int64(ins, 9, ts);
			sqlite3_bind_text(ins, 10, body, blen, SQLITE_STATIC);
			if (sqlite3_step(ins) != SQLITE_DONE)
				die(db, "insert event");
			sqlite3_reset(ins);
			if (!with_dedup)
				continue;
			sqlite3_bind_int64(dedup, 1, key_hash(1, mid));
			sqlite3_bind_int64(dedup, 2, 1);
			sqlite3_bind_int64(dedup, 3, sqlite3_last_insert_rowid(db));
			if (sqlite3_step(dedup) != SQLITE_DONE)
				die(db, "insert dedup key");
			sqlite3_reset(dedup);
		}
		if (sqlite3_step(commit) != SQLITE_DONE)
			die(db, "COMMIT");
		sqlite3_reset(commit);
		txns++;
	}
	double secs = now_s() - t0;
	long long wb = write_bytes() - wb0;
	printf("{\"events\":%ld,\"txns\":%ld,\"txn_size\":%ld,\"dedup\":%s,\"seconds\":%.3f,\"generate_seconds\":%.3f,"
	       "\"events_per_s\":%.0f,\"events_per_s_excl_generation\":%.0f,\"write_bytes\":%lld}\n",
	       done, txns, txn, with_dedup ? "true" : "false", secs, gen_s, done / secs, done / (secs - gen_s),
	       wb0 < 0 ? -1LL : wb);
	sqlite3_finalize(ins), sqlite3_finalize(dedup), sqlite3_finalize(begin), sqlite3_finalize(commit);
	sqlite3_close(db);
	unlink(path), unlink(wal), unlink(shm);
	return 0;
}
