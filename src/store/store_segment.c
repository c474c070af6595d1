/* store_segment.c — SQL of the per-user aggregates and computed traits
 * (store_segment.h has the tables and invariants).
 *
 * Design notes:
 *   - The engine applies ~45k events/s; this file adds one UPSERT per track
 *     event (two for the three email events). Statements are therefore
 *     prepared once per connection, not per call. The store's statement
 *     table (store.c) belongs to another file, so this file keeps a small
 *     per-thread cache of its own: it is bound to the thread's connection,
 *     and a SQLITE_TRACE_CLOSE hook on that connection finalizes it when the
 *     connection closes (sqlite3_close would otherwise refuse to close while
 *     our statements live). If these statements move into the store's
 *     statement table one day, the hook goes away.
 *   - Computed traits are defined by the table `traits` below; the ones over
 *     a window are computed when read, relative to the clock value passed
 *     in, so they slide with time without any event. They are built here,
 *     not in src/segment/, because the profile JSON (store_read.c) includes
 *     them and the store cannot call upwards.
 *   - first_seen_at / last_seen_at come from the timeline, like the
 *     profile's first_seen / last_seen (two index seeks, no write per
 *     event); order_count / revenue_total / last_order_at from the buckets
 *     of `Order Completed` (all time, one index range). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_segment.h"

#define NAME_SENT    "Email Sent"
#define NAME_OPENED  "Email Opened"
#define NAME_CLICKED "Email Link Clicked"
#define NAME_ORDER   "Order Completed"

/* "All time" in days and ms, far enough from INT64 limits for arithmetic. */
#define ALL_TIME_MS (-(1LL << 52))

enum seg_stmt {
	SS_DAILY_UPSERT,
	SS_STREAK_INC,
	SS_STREAK_RESET,
	SS_DAILY_RANGE,
	SS_TL_COUNT,
	SS_TL_SCAN,
	SS_STREAK_GET,
	SS_TAG_HAS,
	SS_CONSENT_GET,
	SS_SEEN,
	SS_ALL_TIME,
	SS_MERGE_DAILY,
	SS_MERGE_DAILY_DEL,
	SS_MERGE_STATE,
	SS_MERGE_STATE_DEL,
	SS_CTR_UPSERT,
	SS_CTR_RANGE,
	SS_CTR_FIND,
	SS_MERGE_CTR,
	SS_MERGE_CTR_DEL,
	SS_COUNT
};

static const char *const seg_sql[SS_COUNT] = {
	[SS_DAILY_UPSERT] =
		"INSERT INTO seg_daily (workspace_id, profile_id, name, day, count, revenue, first_ts, last_ts)"
		" VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6) ON CONFLICT (workspace_id, profile_id, name, day)"
		" DO UPDATE SET count = count + 1, revenue = revenue + excluded.revenue,"
		" first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
	[SS_STREAK_INC] =
		"INSERT INTO seg_state (workspace_id, profile_id, unopened_emails, last_email_at)"
		" VALUES (?1, ?2, 1, ?3) ON CONFLICT (workspace_id, profile_id) DO UPDATE SET"
		" unopened_emails = unopened_emails + 1, last_email_at = max(last_email_at, excluded.last_email_at)",
	[SS_STREAK_RESET] = "INSERT INTO seg_state (workspace_id, profile_id, unopened_emails, last_email_at)"
			    " VALUES (?1, ?2, 0, ?3) ON CONFLICT (workspace_id, profile_id) DO UPDATE SET"
			    " unopened_emails = 0, last_email_at = max(last_email_at, excluded.last_email_at)",
	[SS_DAILY_RANGE] = "SELECT day, count, revenue, first_ts, last_ts FROM seg_daily WHERE workspace_id = ?1"
			   " AND profile_id = ?2 AND name = ?3 AND day BETWEEN ?4 AND ?5 ORDER BY day",
	[SS_TL_COUNT] = "SELECT count(*) FROM timeline WHERE workspace_id = ?1 AND profile_id = ?2"
			" AND ts BETWEEN ?4 AND ?5 AND type = 'track' AND name = ?3",
	[SS_TL_SCAN] = "SELECT t.ts, e.body FROM timeline t JOIN ev.events e ON e.id = t.event_id"
		       " WHERE t.workspace_id = ?1 AND t.profile_id = ?2 AND t.ts BETWEEN ?4 AND ?5"
		       " AND t.type = 'track' AND t.name = ?3 ORDER BY t.ts, t.event_id",
	[SS_STREAK_GET] = "SELECT unopened_emails FROM seg_state WHERE workspace_id = ?1 AND profile_id = ?2",
	[SS_TAG_HAS] = "SELECT 1 FROM profile_tags WHERE workspace_id = ?1 AND profile_id = ?2 AND tag = ?3",
	[SS_CONSENT_GET] = "SELECT status FROM consents WHERE workspace_id = ?1 AND profile_id = ?2 AND scope = ?3"
			   " AND name = ?4",
	[SS_SEEN] = "SELECT min(ts), max(ts) FROM timeline WHERE workspace_id = ?1 AND profile_id = ?2",
	[SS_ALL_TIME] = "SELECT sum(count), sum(revenue), max(last_ts) FROM seg_daily WHERE workspace_id = ?1"
			" AND profile_id = ?2 AND name = ?3",
	/* WHERE true: an UPSERT on INSERT … SELECT needs a WHERE to parse */
	[SS_MERGE_DAILY] =
		"INSERT INTO seg_daily (workspace_id, profile_id, name, day, count, revenue, first_ts, last_ts)"
		" SELECT workspace_id, ?3, name, day, count, revenue, first_ts, last_ts FROM seg_daily"
		" WHERE workspace_id = ?1 AND profile_id = ?2 AND true"
		" ON CONFLICT (workspace_id, profile_id, name, day) DO UPDATE SET"
		" count = count + excluded.count, revenue = revenue + excluded.revenue,"
		" first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
	[SS_MERGE_DAILY_DEL] = "DELETE FROM seg_daily WHERE workspace_id = ?1 AND profile_id = ?2",
	/* the streak whose latest email event is later describes the person now */
	[SS_MERGE_STATE] = "INSERT INTO seg_state (workspace_id, profile_id, unopened_emails, last_email_at)"
			   " SELECT workspace_id, ?3, unopened_emails, last_email_at FROM seg_state"
			   " WHERE workspace_id = ?1 AND profile_id = ?2 AND true"
			   " ON CONFLICT (workspace_id, profile_id) DO UPDATE SET"
			   " unopened_emails = CASE WHEN excluded.last_email_at > last_email_at"
			   " THEN excluded.unopened_emails ELSE unopened_emails END,"
			   " last_email_at = max(last_email_at, excluded.last_email_at)",
	[SS_MERGE_STATE_DEL] = "DELETE FROM seg_state WHERE workspace_id = ?1 AND profile_id = ?2",
	/* adds ?5 events (sum ?6, times ?7..?8) to one bucket: 1 from the
	 * engine, a (profile, day) run from a backfill */
	[SS_CTR_UPSERT] =
		"INSERT INTO seg_counter_daily"
		" (workspace_id, profile_id, counter_id, day, count, sum, first_ts, last_ts)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (workspace_id, profile_id, counter_id, day)"
		" DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,"
		" first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
	/* the same columns as SS_DAILY_RANGE, ?3 the counter */
	[SS_CTR_RANGE] = "SELECT day, count, sum, first_ts, last_ts FROM seg_counter_daily WHERE workspace_id = ?1"
			 " AND profile_id = ?2 AND counter_id = ?3 AND day BETWEEN ?4 AND ?5 ORDER BY day",
	/* the exact property first; with ?4 NULL any counter of (name, where) */
	[SS_CTR_FIND] = "SELECT counter_id FROM seg_counters WHERE workspace_id = ?1 AND name = ?2 AND where_text = ?3"
			" AND (?4 IS NULL OR property = ?4) ORDER BY property IS NOT NULL, counter_id LIMIT 1",
	[SS_MERGE_CTR] =
		"INSERT INTO seg_counter_daily"
		" (workspace_id, profile_id, counter_id, day, count, sum, first_ts, last_ts)"
		" SELECT workspace_id, ?3, counter_id, day, count, sum, first_ts, last_ts FROM seg_counter_daily"
		" WHERE workspace_id = ?1 AND profile_id = ?2 AND true"
		" ON CONFLICT (workspace_id, profile_id, counter_id, day) DO UPDATE SET"
		" count = count + excluded.count, sum = sum + excluded.sum,"
		" first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
	[SS_MERGE_CTR_DEL] = "DELETE FROM seg_counter_daily WHERE workspace_id = ?1 AND profile_id = ?2",
};

/* ---- the per-thread statement cache --------------------------------------- */

struct seg_cache {
	sqlite3 *db; /* the connection the statements belong to, or NULL */
	sqlite3_stmt *s[SS_COUNT];
};

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;

static void cache_drop(struct seg_cache *k)
{
	for (int i = 0; i < SS_COUNT; i++) {
		sqlite3_finalize(k->s[i]);
		k->s[i] = NULL;
	}
	k->db = NULL;
}

/* Runs inside sqlite3_close, before it checks for live statements. */
static int on_close(unsigned type, void *arg, void *p, void *x)
{
	struct seg_cache *k = arg;
	if (type == SQLITE_TRACE_CLOSE && k->db == p)
		cache_drop(k);
	return 0;
}

/* Thread exit: the connection may still be open (destructor order). */
static void cache_free(void *p)
{
	struct seg_cache *k = p;
	if (k->db) {
		sqlite3_trace_v2(k->db, 0, NULL, NULL);
		cache_drop(k);
	}
	free(k);
}

static void cache_key_make(void)
{
	pthread_key_create(&cache_key, cache_free);
}

/* The statement, prepared on this thread's connection, reset and unbound. */
static sqlite3_stmt *stmt(struct store_conn *c, enum seg_stmt id)
{
	pthread_once(&cache_once, cache_key_make);
	struct seg_cache *k = pthread_getspecific(cache_key);
	if (!k) {
		k = xcalloc(1, sizeof *k);
		pthread_setspecific(cache_key, k);
	}
	if (k->db != c->db) {
		if (k->db) {
			sqlite3_trace_v2(k->db, 0, NULL, NULL);
			cache_drop(k);
		}
		k->db = c->db;
		sqlite3_trace_v2(c->db, SQLITE_TRACE_CLOSE, on_close, k);
	}
	sqlite3_stmt *s = k->s[id];
	if (!s) {
		if (sqlite3_prepare_v3(c->db, seg_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			abort(); /* a bug: every statement must prepare against the current schema */
		k->s[id] = s;
	} else {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return s;
}

/* ---- writes ----------------------------------------------------------------- */

int64_t store_seg_day(int64_t ms)
{
	int64_t d = ms / STORE_SEG_DAY_MS;
	if (ms % STORE_SEG_DAY_MS < 0)
		d--;
	return d;
}

/* A plain decimal number: [+-]digits[.digits][(e|E)[+-]digits] — the rule
 * of the condition language (cond_op.c, docs/conditions.md "Types"). */
static int is_plain_number(const char *p)
{
	int digits = 0;
	if (*p == '+' || *p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

double store_seg_number_of(const json_t *v)
{
	double d = 0;
	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v) && json_string_length(v) < 64 && is_plain_number(json_string_value(v)))
		d = strtod(json_string_value(v), NULL);
	return isfinite(d) ? d : 0;
}

double store_seg_revenue_of(const json_t *properties)
{
	return store_seg_number_of(json_object_get(properties, "revenue"));
}

int store_seg_apply(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t ts, double revenue,
		    enum store_seg_streak streak, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = stmt(c, SS_DAILY_UPSERT);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, name);
	sqlite3_bind_int64(s, 4, store_seg_day(ts));
	sqlite3_bind_double(s, 5, revenue);
	sqlite3_bind_int64(s, 6, ts);
	if (store_exec_stmt(c, s, err, "counting an event") < 0)
		return CAIRN_EIO;
	if (streak == STORE_SEG_STREAK_KEEP)
		return 0;
	s = stmt(c, streak == STORE_SEG_STREAK_INC ? SS_STREAK_INC : SS_STREAK_RESET);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, ts);
	return store_exec_stmt(c, s, err, "updating the unopened-email streak");
}

int store_seg_merge(struct store *st, int64_t ws, int64_t from, int64_t into, struct cairn_err *err)
{
	static const enum seg_stmt steps[] = {SS_MERGE_DAILY,	  SS_MERGE_DAILY_DEL, SS_MERGE_STATE,
					      SS_MERGE_STATE_DEL, SS_MERGE_CTR,	      SS_MERGE_CTR_DEL};
	if (from == into)
		return 0;
	struct store_conn *c = store_conn(st);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *s = stmt(c, steps[i]);
		sqlite3_bind_int64(s, 1, ws);
		sqlite3_bind_int64(s, 2, from);
		sqlite3_bind_int64(s, 3, into);
		if (store_exec_stmt(c, s, err, "merging event aggregates") < 0)
			return CAIRN_EIO;
	}
	return 0;
}

/* ---- reads ------------------------------------------------------------------ */

static void bind_range(sqlite3_stmt *s, int64_t ws, int64_t pid, const char *name, int64_t lo, int64_t hi)
{
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, pid);
	store_bind_text(s, 3, name);
	sqlite3_bind_int64(s, 4, lo);
	sqlite3_bind_int64(s, 5, hi);
}

/* The buckets of a series for days lo..hi, bound and ready to step:
 * (day, count, sum, first_ts, last_ts) in day order. */
static sqlite3_stmt *series_range(struct store_conn *c, int64_t ws, int64_t pid, const struct store_seg_series *sr,
				  int64_t lo, int64_t hi)
{
	if (sr->counter_id && !sr->match)
		abort(); /* a bug: a counter's cut days cannot be finished without its filter */
	sqlite3_stmt *s = stmt(c, sr->counter_id ? SS_CTR_RANGE : SS_DAILY_RANGE);
	bind_range(s, ws, pid, sr->name, lo, hi);
	if (sr->counter_id)
		sqlite3_bind_int64(s, 3, sr->counter_id);
	return s;
}

/* One event as a series counts it: 1 with *value, or 0. seg_daily counts
 * every event of its name, with its revenue. */
static int series_match(const struct store_seg_series *sr, const json_t *properties, double *value)
{
	if (sr->counter_id)
		return sr->match(properties, value, sr->arg) == 1;
	*value = store_seg_revenue_of(properties);
	return 1;
}

struct part_acc {
	const struct store_seg_series *sr;
	int64_t count;
	double sum;
};

static int part_one(int64_t ts, const json_t *properties, void *arg)
{
	struct part_acc *a = arg;
	double v = 0;
	if (series_match(a->sr, properties, &v)) {
		a->count++;
		a->sum += v;
	}
	return 0;
}

/* Count (and sum) of one day's events of the series in [lo, hi] from the
 * timeline: an index count for seg_daily's counts, else each event read. */
static int count_part(struct store *st, struct store_conn *c, int64_t ws, int64_t pid,
		      const struct store_seg_series *sr, int64_t lo, int64_t hi, int64_t *count, double *sum,
		      struct cairn_err *err)
{
	if (!sr->counter_id && !sum) {
		sqlite3_stmt *s = stmt(c, SS_TL_COUNT);
		bind_range(s, ws, pid, sr->name, lo, hi);
		if (sqlite3_step(s) != SQLITE_ROW)
			return store_sqlerr(c, err, "counting events");
		*count += sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	struct part_acc acc = {sr, 0, 0};
	if (store_seg_scan(st, ws, pid, sr->name, lo, hi, part_one, &acc, err) < 0)
		return CAIRN_EIO;
	*count += acc.count;
	if (sum)
		*sum += acc.sum;
	return 0;
}

int store_seg_series_count(struct store *st, int64_t ws, int64_t profile_id, const struct store_seg_series *sr,
			   int64_t since, int64_t until, int64_t *count, double *sum, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (since <= 0)
		since = ALL_TIME_MS;
	*count = 0;
	if (sum)
		*sum = 0;
	if (until < since)
		return 0;
	/* at most two buckets (the first and the last day) can be cut; remember
	 * them and count their part after the range statement is done */
	int64_t cut[2];
	int ncut = 0;
	sqlite3_stmt *s = series_range(c, ws, profile_id, sr, store_seg_day(since), store_seg_day(until));
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t day = sqlite3_column_int64(s, 0);
		int64_t first = sqlite3_column_int64(s, 3), last = sqlite3_column_int64(s, 4);
		if (first >= since && last <= until) {
			*count += sqlite3_column_int64(s, 1);
			if (sum)
				*sum += sqlite3_column_double(s, 2);
		} else if (last >= since && first <= until && ncut < 2) {
			cut[ncut++] = day;
		}
	}
	if (rc != SQLITE_DONE)
		return store_sqlerr(c, err, "reading event aggregates");
	sqlite3_reset(s);
	for (int i = 0; i < ncut; i++) {
		int64_t lo = cut[i] * STORE_SEG_DAY_MS, hi = lo + STORE_SEG_DAY_MS - 1;
		if (count_part(st, c, ws, profile_id, sr, lo > since ? lo : since, hi < until ? hi : until, count, sum,
			       err) < 0)
			return CAIRN_EIO;
	}
	return 0;
}

int store_seg_count(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		    int64_t *count, double *revenue, struct cairn_err *err)
{
	struct store_seg_series sr = {.name = name};
	return store_seg_series_count(st, ws, profile_id, &sr, since, until, count, revenue, err);
}

int store_seg_scan(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		   store_seg_event_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (since <= 0)
		since = ALL_TIME_MS;
	/* not the cached statement: fn may call back into this file (a nested
	 * use of one cached statement would reset it under us) */
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(c->db, seg_sql[SS_TL_SCAN], -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_sqlerr(c, err, "reading events");
	}
	bind_range(s, ws, profile_id, name, since, until);
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(s, 1);
		json_t *msg = body ? jsonx_loadb(body, (size_t)sqlite3_column_bytes(s, 1), 0, NULL) : NULL;
		int r = fn(sqlite3_column_int64(s, 0), json_object_get(msg, "properties"), arg);
		json_decref(msg);
		if (r != 0) {
			out = r > 0 ? r
				    : cairn_err_set(err, CAIRN_EIO, "storage_error", "",
						    "Reading the events of '%s' failed.", name);
			break;
		}
	}
	if (out == 0 && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "reading events");
	sqlite3_finalize(s);
	return out;
}

int store_seg_series_oldest(struct store *st, int64_t ws, int64_t profile_id, const struct store_seg_series *sr,
			    int64_t since, int64_t until, int64_t *out_ms, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (since <= 0)
		since = ALL_TIME_MS;
	sqlite3_stmt *s = series_range(c, ws, profile_id, sr, store_seg_day(since), store_seg_day(until));
	int rc, found = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t first = sqlite3_column_int64(s, 3), last = sqlite3_column_int64(s, 4);
		if (last >= since && first <= until) {
			/* the true oldest is >= both */
			*out_ms = first > since ? first : since;
			found = 1;
			break;
		}
	}
	if (!found && rc != SQLITE_DONE)
		return store_sqlerr(c, err, "reading event aggregates");
	sqlite3_reset(s);
	return found ? 0 : 1;
}

int store_seg_oldest(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		     int64_t *out_ms, struct cairn_err *err)
{
	struct store_seg_series sr = {.name = name};
	return store_seg_series_oldest(st, ws, profile_id, &sr, since, until, out_ms, err);
}

int store_seg_has_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = stmt(c, SS_TAG_HAS);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, tag);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sqlerr(c, err, "reading tags");
}

const char *store_seg_consent(struct store *st, int64_t ws, int64_t profile_id, const char *channel,
			      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	const char *scope = "channel", *name = channel;
	if (!strncmp(channel, "topics.", 7)) {
		scope = "topic";
		name = channel + 7;
	}
	sqlite3_stmt *s = stmt(c, SS_CONSENT_GET);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, scope);
	store_bind_text(s, 4, name);
	int rc = sqlite3_step(s);
	const char *out = "unknown";
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		if (v && !strcmp(v, "subscribed"))
			out = "subscribed";
		else if (v && !strcmp(v, "unsubscribed"))
			out = "unsubscribed";
	} else if (rc != SQLITE_DONE) {
		store_sqlerr(c, err, "reading consent");
		out = NULL;
	}
	sqlite3_reset(s);
	return out;
}

/* ---- registered counters ------------------------------------------------------ */

int store_seg_counter_find(struct store *st, int64_t ws, const char *name, const char *where_text, const char *property,
			   int64_t *id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = stmt(c, SS_CTR_FIND);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, name);
	store_bind_text(s, 3, where_text);
	store_bind_text(s, 4, property);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return store_sqlerr(c, err, "reading event counters");
}

int store_seg_counter_insert(struct store *st, int64_t ws, const char *name, const char *where_text,
			     const char *property, int64_t now, int64_t *id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "INSERT INTO seg_counters (workspace_id, name, where_text, property, created_at)"
			  " VALUES (?1, ?2, ?3, ?4, ?5)",
			  &s, err, "registering an event counter") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, name);
	store_bind_text(s, 3, where_text);
	store_bind_text(s, 4, property);
	sqlite3_bind_int64(s, 5, now);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return cairn_err_set(err, CAIRN_ECONFLICT, "counter_exists", "",
				     "A counter of '%s' with that filter and sum exists.", name);
	if (rc != SQLITE_DONE)
		return store_sqlerr(c, err, "registering an event counter");
	*id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

/* One bucket's worth of events: n events in one UTC day. */
struct run {
	int64_t pid, day, n;
	double sum;
	int64_t first, last;
};

static int run_flush(struct store_conn *c, int64_t ws, int64_t counter_id, const struct run *r, struct cairn_err *err)
{
	if (!r->n)
		return 0;
	sqlite3_stmt *s = stmt(c, SS_CTR_UPSERT);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, r->pid);
	sqlite3_bind_int64(s, 3, counter_id);
	sqlite3_bind_int64(s, 4, r->day);
	sqlite3_bind_int64(s, 5, r->n);
	sqlite3_bind_double(s, 6, r->sum);
	sqlite3_bind_int64(s, 7, r->first);
	sqlite3_bind_int64(s, 8, r->last);
	return store_exec_stmt(c, s, err, "counting events");
}

/* Adds one matching event to the run, flushing the run it ends. */
static int run_add(struct store_conn *c, int64_t ws, int64_t counter_id, struct run *r, int64_t pid, int64_t ts,
		   double value, struct cairn_err *err)
{
	int64_t day = store_seg_day(ts);
	if (r->n && (r->pid != pid || r->day != day)) {
		if (run_flush(c, ws, counter_id, r, err) < 0)
			return CAIRN_EIO;
		r->n = 0;
	}
	if (!r->n)
		*r = (struct run){.pid = pid, .day = day, .first = ts};
	r->n++;
	r->sum += value;
	r->last = ts; /* rows come in (profile, ts) order */
	return 0;
}

int store_seg_counter_backfill(struct store *st, int64_t ws, const struct store_seg_series *sr, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (!sr->counter_id || !sr->match)
		abort(); /* a bug: only a counter is backfilled */
	if (store_prepare(c,
			  "SELECT t.profile_id, t.ts, e.body FROM timeline t JOIN ev.events e ON e.id = t.event_id"
			  " WHERE t.workspace_id = ?1 AND t.type = 'track' AND t.name = ?2"
			  " ORDER BY t.profile_id, t.ts, t.event_id",
			  &s, err, "counting past events") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, sr->name);
	struct run r = {0};
	int rc = SQLITE_DONE, out = 0;
	while (out == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(s, 2);
		json_t *msg = body ? jsonx_loadb(body, (size_t)sqlite3_column_bytes(s, 2), 0, NULL) : NULL;
		double v = 0;
		if (series_match(sr, json_object_get(msg, "properties"), &v))
			out = run_add(c, ws, sr->counter_id, &r, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
				      v, err);
		json_decref(msg);
	}
	if (out == 0 && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "counting past events");
	sqlite3_finalize(s);
	if (out == 0)
		out = run_flush(c, ws, sr->counter_id, &r, err);
	return out < 0 ? CAIRN_EIO : 0;
}

int store_seg_counter_add(struct store *st, int64_t ws, int64_t profile_id, int64_t counter_id, int64_t ts,
			  double value, struct cairn_err *err)
{
	struct run r = {.pid = profile_id, .day = store_seg_day(ts), .n = 1, .sum = value, .first = ts, .last = ts};
	return run_flush(store_conn(st), ws, counter_id, &r, err);
}

int store_seg_counters_list(struct store *st, int64_t ws, struct store_seg_counter **out, size_t *n,
			    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (store_prepare(c,
			  "SELECT counter_id, name, where_text, property FROM seg_counters WHERE workspace_id = ?1"
			  " ORDER BY counter_id",
			  &s, err, "reading event counters") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)out, &cap, *n + 1, sizeof **out);
		struct store_seg_counter *k = &(*out)[(*n)++];
		k->id = sqlite3_column_int64(s, 0);
		k->name = store_col_dup(s, 1);
		k->where_text = store_col_dup(s, 2);
		k->property = store_col_dup(s, 3);
	}
	int out_rc = rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "reading event counters");
	sqlite3_finalize(s);
	if (out_rc < 0) {
		store_seg_counters_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return out_rc;
}

void store_seg_counters_free(struct store_seg_counter *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].where_text);
		free(v[i].property);
	}
	free(v);
}

/* ---- computed traits -------------------------------------------------------- */

/* Window counts: name_<window> = count of `event` in [now − days, now]. */
static const struct window_trait {
	const char *name;
	const char *event;
	int days;
} windows[] = {
	{"email_sent_7d", NAME_SENT, 7},	 {"email_sent_30d", NAME_SENT, 30},
	{"email_sent_90d", NAME_SENT, 90},	 {"email_opened_7d", NAME_OPENED, 7},
	{"email_opened_30d", NAME_OPENED, 30},	 {"email_opened_90d", NAME_OPENED, 90},
	{"email_clicked_7d", NAME_CLICKED, 7},	 {"email_clicked_30d", NAME_CLICKED, 30},
	{"email_clicked_90d", NAME_CLICKED, 90},
};

/* A JSON number: an integer when d is one (money in KRW reads as 15000). */
static json_t *number(double d)
{
	if (d == floor(d) && fabs(d) < 9e15)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* part / whole, capped at 1 (opens are counted as events, and one email may
 * be opened twice); null when nothing was sent. */
static json_t *rate(int64_t part, int64_t whole)
{
	if (whole <= 0)
		return json_null();
	double r = (double)part / (double)whole;
	return json_real(r > 1 ? 1 : r);
}

/* rfm_r, rfm_f, rfm_m (1–5) and rfm_score ("545"), or nulls for a user
 * with no order as of the last daily run. */
static int rfm_json(struct store_conn *c, int64_t ws, int64_t pid, json_t *o, struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(c, "SELECT r, f, m FROM seg_rfm WHERE workspace_id = ? AND profile_id = ?", &s, err,
			  "reading RFM scores") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, pid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int r = sqlite3_column_int(s, 0), f = sqlite3_column_int(s, 1), m = sqlite3_column_int(s, 2);
		char score[8];
		snprintf(score, sizeof score, "%d%d%d", r, f, m);
		json_object_set_new(o, "rfm_r", json_integer(r));
		json_object_set_new(o, "rfm_f", json_integer(f));
		json_object_set_new(o, "rfm_m", json_integer(m));
		json_object_set_new(o, "rfm_score", json_string(score));
	} else {
		json_object_set_new(o, "rfm_r", json_null());
		json_object_set_new(o, "rfm_f", json_null());
		json_object_set_new(o, "rfm_m", json_null());
		json_object_set_new(o, "rfm_score", json_null());
	}
	sqlite3_finalize(s);
	return 0;
}

int store_seg_rfm_run(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	/* once per UTC day per workspace: NTILE(5) over the customers (at least
	 * one Order Completed) by last order (recency), order count (frequency)
	 * and revenue (monetary), as of the end of YESTERDAY, so the scores of a
	 * day do not depend on when in the day the run happened (and a replay of
	 * the log gives the same ones); ties go to the same or the next tile */
	struct store_conn *c = store_conn(st);
	int64_t day = store_seg_day(now_ms);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT w.workspace_id FROM workspaces w LEFT JOIN seg_rfm_runs r ON r.workspace_id = "
			  "w.workspace_id"
			  " WHERE r.day IS NULL OR r.day < ?",
			  &s, err, "planning RFM scores") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, day);
	int64_t due[64];
	int n = 0;
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW)
		due[n++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	for (int i = 0; i < n; i++) {
		static const char *const steps[] = {
			"DELETE FROM seg_rfm WHERE workspace_id = ?1",
			"INSERT INTO seg_rfm (workspace_id, profile_id, r, f, m)"
			" SELECT ?1, profile_id,"
			"  NTILE(5) OVER (ORDER BY last_ts, profile_id),"
			"  NTILE(5) OVER (ORDER BY cnt, profile_id),"
			"  NTILE(5) OVER (ORDER BY rev, profile_id)"
			" FROM (SELECT profile_id, max(last_ts) AS last_ts, sum(count) AS cnt, sum(revenue) AS rev"
			"       FROM seg_daily WHERE workspace_id = ?1 AND name = 'Order Completed' AND day < ?2"
			"       GROUP BY profile_id)",
			"INSERT INTO seg_rfm_runs (workspace_id, day) VALUES (?1, ?2)"
			" ON CONFLICT (workspace_id) DO UPDATE SET day = excluded.day",
		};
		for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			if (store_prepare(c, steps[k], &s, err, "computing RFM scores") < 0)
				return CAIRN_EIO;
			sqlite3_bind_int64(s, 1, due[i]);
			if (sqlite3_bind_parameter_count(s) >= 2)
				sqlite3_bind_int64(s, 2, day);
			if (store_run_finalize(c, s, err, "computing RFM scores") < 0)
				return CAIRN_EIO;
		}
	}
	return 0;
}

json_t *store_seg_computed_json(struct store *st, int64_t ws, int64_t profile_id, int64_t now_ms, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	json_t *o = json_object();
	/* first / last seen, from the timeline as the profile's own */
	sqlite3_stmt *s = stmt(c, SS_SEEN);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	json_object_set_new(o, "first_seen_at",
			    sqlite3_column_type(s, 0) == SQLITE_NULL ? json_null()
								     : jsonx_time(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "last_seen_at",
			    sqlite3_column_type(s, 1) == SQLITE_NULL ? json_null()
								     : jsonx_time(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);

	int64_t counts[sizeof windows / sizeof windows[0]];
	for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
		if (store_seg_count(st, ws, profile_id, windows[i].event, now_ms - windows[i].days * STORE_SEG_DAY_MS,
				    now_ms, &counts[i], NULL, err) < 0) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, windows[i].name, json_integer(counts[i]));
	}
	/* indexes into windows[]: sent_30d 1, opened_30d 4, clicked_30d 7 */
	json_object_set_new(o, "open_rate_30d", rate(counts[4], counts[1]));
	json_object_set_new(o, "click_rate_30d", rate(counts[7], counts[1]));

	s = stmt(c, SS_STREAK_GET);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	json_object_set_new(o, "consecutive_unopened_emails",
			    json_integer(rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0));
	sqlite3_reset(s);

	s = stmt(c, SS_ALL_TIME);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, NAME_ORDER);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	int none = sqlite3_column_type(s, 0) == SQLITE_NULL;
	int64_t last_order = sqlite3_column_int64(s, 2);
	json_object_set_new(o, "order_count", json_integer(none ? 0 : sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "revenue_total", number(none ? 0 : sqlite3_column_double(s, 1)));
	json_object_set_new(o, "last_order_at", none ? json_null() : jsonx_time(last_order));
	int64_t since = now_ms - last_order;
	json_object_set_new(o, "days_since_last_order",
			    none ? json_null() : json_integer(since > 0 ? since / STORE_SEG_DAY_MS : 0));
	sqlite3_reset(s);
	if (rfm_json(c, ws, profile_id, o, err) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	store_sqlerr(c, err, "reading computed traits");
	sqlite3_reset(s);
	json_decref(o);
	return NULL;
}
