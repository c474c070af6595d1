/* store_analytics.c — SQL of the analytics rollups (see store_analytics.h). */
#include <stdio.h>
#include <string.h>

#include "store/store_analytics.h"
#include "store/store_int.h"

static const char SQL_SEEN[] =
	"INSERT INTO an_msg_seen (message_id, metric, workspace_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
static const char SQL_ADD[] =
	"INSERT INTO an_msg_daily (workspace_id, day, channel, journey_id, node, variant, template_id, metric, total,"
	" uniq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9) ON CONFLICT DO UPDATE SET total = total + 1,"
	" uniq = uniq + excluded.uniq";

int store_an_msg_add(struct store *st, const struct store_an_hit *h, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_SEEN, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, h->message_id);
	store_bind_text(s, 2, h->metric);
	sqlite3_bind_int64(s, 3, h->ws);
	if (store_exec_stmt(c, s, err, "counting a message metric") < 0)
		return CAIRN_EIO;
	int first = sqlite3_changes(c->db) > 0;
	s = store_cached(c, SQL_ADD, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, h->ws);
	sqlite3_bind_int64(s, 2, h->day);
	store_bind_text(s, 3, h->channel ? h->channel : "");
	store_bind_text(s, 4, h->journey_id ? h->journey_id : "");
	store_bind_text(s, 5, h->node ? h->node : "");
	store_bind_text(s, 6, h->variant ? h->variant : "");
	store_bind_text(s, 7, h->template_id ? h->template_id : "");
	store_bind_text(s, 8, h->metric);
	sqlite3_bind_int(s, 9, first);
	return store_exec_stmt(c, s, err, "counting a message metric");
}

json_t *store_an_msg_report(struct store *st, int64_t ws, const char *by, const char *journey_id, int64_t from_day,
			    int64_t to_day, struct cairn_err *err)
{
	static const struct {
		const char *by, *expr;
	} dims[] = {
		{"channel", "channel"},
		{"journey", "journey_id"},
		{"node", "journey_id || '/' || node"},
		{"variant", "journey_id || '/' || node || '/' || variant"},
		{"template", "template_id"},
		{"day", "day"},
	};
	const char *expr = "''";
	for (size_t i = 0; by && i < sizeof dims / sizeof dims[0]; i++)
		if (!strcmp(by, dims[i].by))
			expr = dims[i].expr;
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT %s AS k, metric, sum(total), sum(uniq) FROM an_msg_daily WHERE workspace_id = ?1"
		 " AND day BETWEEN ?2 AND ?3 AND (?4 IS NULL OR journey_id = ?4) GROUP BY k, metric ORDER BY k, metric",
		 expr);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, sql, &s, err, "reading analytics") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from_day);
	sqlite3_bind_int64(s, 3, to_day);
	store_bind_text(s, 4, journey_id);
	json_t *rows = json_array(), *cur = NULL;
	char curkey[600] = "\x01";
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		char kbuf[600];
		snprintf(kbuf, sizeof kbuf, "%s", k ? k : "");
		if (strcmp(kbuf, curkey)) {
			snprintf(curkey, sizeof curkey, "%s", kbuf);
			cur = json_pack("{s:s}", "key", kbuf);
			json_array_append_new(rows, cur);
		}
		const char *metric = (const char *)sqlite3_column_text(s, 1);
		char uk[80];
		snprintf(uk, sizeof uk, "unique_%s", metric);
		json_object_set_new(cur, metric, json_integer(sqlite3_column_int64(s, 2)));
		json_object_set_new(cur, uk, json_integer(sqlite3_column_int64(s, 3)));
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(rows);
		store_sqlerr(c, err, "reading analytics");
		return NULL;
	}
	return rows;
}

int store_an_funnel(struct store *st, int64_t ws, const char *const *steps, size_t n, int64_t from, int64_t to,
		    int64_t window, int64_t *users, struct cairn_err *err)
{
	if (n == 0 || n > STORE_AN_FUNNEL_MAX)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_funnel", "steps", "A funnel has 1 to %d steps.",
				     STORE_AN_FUNNEL_MAX);
	/* step 1: each user's first occurrence in the period; step k: the first
	 * occurrence at or after step k-1's, within the window of step 1's */
	char sql[8192];
	size_t off = 0;
	/* each step's row: the profile, the step's time t and event e (the log
	 * id breaks ties in time, so a step named like the one before is a
	 * later event), and t0, the first step's time */
	off += (size_t)snprintf(
		sql + off, sizeof sql - off,
		"WITH s1 AS (SELECT f.profile_id, f.t, (SELECT min(y.event_id) FROM timeline y INDEXED BY "
		"timeline_profile_ts"
		" WHERE y.workspace_id = ?1 AND y.profile_id = f.profile_id AND y.name = ?4 AND y.ts = f.t)"
		" AS e, f.t AS t0 FROM (SELECT profile_id, min(ts) AS t FROM timeline INDEXED BY timeline_name WHERE"
		" workspace_id = ?1 AND name = ?4 AND ts BETWEEN ?2 AND ?3 GROUP BY profile_id) f)");
	for (size_t k = 2; k <= n && off < sizeof sql; k++)
		off += (size_t)snprintf(
			sql + off, sizeof sql - off,
			", s%zu AS (SELECT q.profile_id, q.t, (SELECT min(y.event_id) FROM timeline y INDEXED BY "
			"timeline_profile_ts"
			" WHERE y.workspace_id = ?1 AND y.profile_id = q.profile_id AND y.name = ?%zu AND y.ts = q.t"
			" AND (q.t > q.pt OR y.event_id > q.pe)) AS e, q.t0 FROM (SELECT p.profile_id, p.t AS pt, p.e "
			"AS pe,"
			" p.t0, (SELECT min(x.ts) FROM timeline x INDEXED BY timeline_profile_ts WHERE x.workspace_id "
			"= ?1 AND x.profile_id = "
			"p.profile_id"
			" AND x.name = ?%zu AND x.ts >= p.t AND x.ts <= p.t0 + ?%d AND (x.ts > p.t OR (x.ts = p.t AND "
			"x.event_id > "
			"p.e)))"
			" AS t FROM s%zu p) q WHERE q.t IS NOT NULL)",
			k, k + 3, k + 3, 4 + STORE_AN_FUNNEL_MAX, k - 1);
	for (size_t k = 1; k <= n && off < sizeof sql; k++)
		off += (size_t)snprintf(sql + off, sizeof sql - off, "%s(SELECT count(*) FROM s%zu)",
					k == 1 ? " SELECT " : ", ", k);
	if (off >= sizeof sql)
		return cairn_err_set(err, CAIRN_EIO, "storage_error", "", "The funnel query is too long.");
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, sql, &s, err, "computing a funnel") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	for (size_t k = 0; k < n; k++)
		store_bind_text(s, (int)(4 + k), steps[k]);
	sqlite3_bind_int64(s, 4 + STORE_AN_FUNNEL_MAX, window);
	int r = sqlite3_step(s);
	for (size_t k = 0; r == SQLITE_ROW && k < n; k++)
		users[k] = sqlite3_column_int64(s, (int)k);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_sqlerr(c, err, "computing a funnel");
}

int store_an_reactivated(struct store *st, int64_t ws, int64_t from, int64_t to, int64_t inactive_ms, int64_t *active,
			 int64_t *reactivated, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "WITH p AS (SELECT profile_id, min(ts) AS t FROM timeline WHERE workspace_id = ?1"
			  " AND ts BETWEEN ?2 AND ?3 GROUP BY profile_id)"
			  " SELECT count(*), coalesce(sum((SELECT max(x.ts) FROM timeline x INDEXED BY "
			  "timeline_profile_ts WHERE x.workspace_id = ?1"
			  " AND x.profile_id = p.profile_id AND x.ts < p.t) < p.t - ?4), 0) FROM p",
			  &s, err, "counting reactivated users") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	sqlite3_bind_int64(s, 4, inactive_ms);
	int r = sqlite3_step(s);
	*active = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	*reactivated = r == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_sqlerr(c, err, "counting reactivated users");
}

int store_an_attribute(struct store *st, int64_t ws, int64_t profile_id, int64_t at, int64_t window, double revenue,
		       struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	/* last touch: the latest message the user clicked in the window, else
	 * the latest one sent to them */
	static const char pick[] =
		"SELECT m.channel, coalesce(m.journey_id, ''), coalesce(m.node, ''), coalesce(m.template_id, '')"
		" FROM messages m WHERE m.workspace_id = ?1 AND m.profile_id = ?2 AND m.status = 'sent'"
		" AND m.sent_at BETWEEN ?3 AND ?4 ORDER BY EXISTS (SELECT 1 FROM an_msg_seen s"
		" WHERE s.workspace_id = ?1 AND s.message_id = m.message_id AND s.metric = 'clicked') DESC,"
		" m.sent_at DESC LIMIT 1";
	sqlite3_stmt *s = store_cached(c, pick, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, at - window);
	sqlite3_bind_int64(s, 4, at);
	int r = sqlite3_step(s);
	if (r != SQLITE_ROW) {
		sqlite3_reset(s);
		return r == SQLITE_DONE ? 0 : store_sqlerr(c, err, "attributing a conversion");
	}
	char dims[4][256];
	for (int i = 0; i < 4; i++)
		snprintf(dims[i], sizeof dims[i], "%s", (const char *)sqlite3_column_text(s, i));
	sqlite3_reset(s);
	static const char add[] =
		"INSERT INTO an_attrib_daily (workspace_id, day, channel, journey_id, node, template_id, conversions,"
		" revenue) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) ON CONFLICT DO UPDATE SET conversions = conversions "
		"+ 1,"
		" revenue = revenue + excluded.revenue";
	s = store_cached(c, add, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, at / 86400000LL);
	for (int i = 0; i < 4; i++)
		store_bind_text(s, 3 + i, dims[i]);
	sqlite3_bind_double(s, 7, revenue);
	return store_exec_stmt(c, s, err, "attributing a conversion");
}

json_t *store_an_attrib_report(struct store *st, int64_t ws, const char *by, int64_t from_day, int64_t to_day,
			       struct cairn_err *err)
{
	static const struct {
		const char *by, *expr;
	} dims[] = {{"channel", "channel"},
		    {"journey", "journey_id"},
		    {"node", "journey_id || '/' || node"},
		    {"template", "template_id"},
		    {"day", "day"}};
	const char *expr = "''";
	for (size_t i = 0; by && i < sizeof dims / sizeof dims[0]; i++)
		if (!strcmp(by, dims[i].by))
			expr = dims[i].expr;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT %s AS k, sum(conversions), sum(revenue) FROM an_attrib_daily WHERE workspace_id = ?1"
		 " AND day BETWEEN ?2 AND ?3 GROUP BY k ORDER BY k",
		 expr);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, sql, &s, err, "reading attribution") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from_day);
	sqlite3_bind_int64(s, 3, to_day);
	json_t *rows = json_array();
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:s,s:I,s:f}", "key", (const char *)sqlite3_column_text(s, 0),
						      "conversions", (json_int_t)sqlite3_column_int64(s, 1), "revenue",
						      sqlite3_column_double(s, 2)));
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(rows);
		store_sqlerr(c, err, "reading attribution");
		return NULL;
	}
	return rows;
}

json_t *store_an_series(struct store *st, int64_t ws, const char *event, int64_t from, int64_t to, int64_t bucket_ms,
			struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "SELECT (ts - ?2) / ?4, count(*), count(DISTINCT profile_id) FROM timeline INDEXED BY timeline_name"
		    " WHERE workspace_id = ?1"
		    " AND name = ?5 AND ts BETWEEN ?2 AND ?3 GROUP BY 1 ORDER BY 1",
		    &s, err, "counting events over time") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	sqlite3_bind_int64(s, 4, bucket_ms);
	store_bind_text(s, 5, event);
	json_t *rows = json_array();
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("{s:I,s:I,s:I}", "bucket", (json_int_t)sqlite3_column_int64(s, 0),
						      "events", (json_int_t)sqlite3_column_int64(s, 1), "users",
						      (json_int_t)sqlite3_column_int64(s, 2)));
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(rows);
		store_sqlerr(c, err, "counting events over time");
		return NULL;
	}
	return rows;
}

json_t *store_an_cohorts(struct store *st, int64_t ws, const char *first, const char *again, int64_t from, int64_t to,
			 int64_t period_ms, int periods, struct cairn_err *err)
{
	/* each user's cohort: the period of their first `first` in [from, to];
	 * then, per later period k (1..periods), whether they did `again` in it */
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "WITH f AS (SELECT profile_id, min(ts) AS t FROM timeline INDEXED BY timeline_name WHERE "
		    "workspace_id = ?1"
		    " AND name = ?2"
		    " AND ts BETWEEN ?4 AND ?5 GROUP BY profile_id),"
		    " a AS (SELECT DISTINCT f.profile_id, (f.t - ?4) / ?6 AS cohort, (x.ts - f.t) / ?6 AS k FROM f"
		    " JOIN timeline x INDEXED BY timeline_profile_ts ON x.workspace_id = ?1 AND x.profile_id = "
		    "f.profile_id AND x.name = ?3"
		    " AND x.ts > f.t AND (x.ts - f.t) / ?6 BETWEEN 0 AND ?7)"
		    " SELECT (f.t - ?4) / ?6 AS cohort, count(*), NULL FROM f GROUP BY cohort"
		    " UNION ALL SELECT cohort, count(*), k FROM a GROUP BY cohort, k ORDER BY 1, 3",
		    &s, err, "computing cohorts") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, first);
	store_bind_text(s, 3, again);
	sqlite3_bind_int64(s, 4, from);
	sqlite3_bind_int64(s, 5, to);
	sqlite3_bind_int64(s, 6, period_ms);
	sqlite3_bind_int(s, 7, periods);
	json_t *rows = json_array();
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t cohort = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 1);
		json_t *row = NULL;
		size_t i;
		json_t *e;
		json_array_foreach (rows, i, e)
			if (json_integer_value(json_object_get(e, "cohort")) == cohort)
				row = e;
		if (!row) {
			row = json_pack("{s:I,s:I,s:[]}", "cohort", (json_int_t)cohort, "users", (json_int_t)0,
					"returned");
			json_t *ret = json_object_get(row, "returned");
			for (int k = 0; k <= periods; k++)
				json_array_append_new(ret, json_integer(0));
			json_array_append_new(rows, row);
		}
		if (sqlite3_column_type(s, 2) == SQLITE_NULL)
			json_object_set_new(row, "users", json_integer(n));
		else
			json_array_set_new(json_object_get(row, "returned"), (size_t)sqlite3_column_int64(s, 2),
					   json_integer(n));
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(rows);
		store_sqlerr(c, err, "computing cohorts");
		return NULL;
	}
	return rows;
}

json_t *store_an_segments(struct store *st, int64_t ws, const char *event, int64_t from, int64_t to,
			  struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT s.segment_id, s.name, s.size,"
			  " (SELECT count(*) FROM seg_members m WHERE m.workspace_id = s.workspace_id"
			  "  AND m.segment_id = s.segment_id AND m.entered_at BETWEEN ?2 AND ?3),"
			  " (SELECT count(*) FROM seg_members m JOIN timeline t INDEXED BY timeline_profile_ts ON "
			  "t.workspace_id = m.workspace_id"
			  "  AND t.profile_id = m.profile_id AND t.name = ?4 AND t.ts BETWEEN ?2 AND ?3"
			  "  WHERE m.workspace_id = s.workspace_id AND m.segment_id = s.segment_id),"
			  " (SELECT count(DISTINCT t.profile_id) FROM seg_members m JOIN timeline t INDEXED BY "
			  "timeline_profile_ts"
			  "  ON t.workspace_id = m.workspace_id AND t.profile_id = m.profile_id AND t.name = ?4"
			  "  AND t.ts BETWEEN ?2 AND ?3 WHERE m.workspace_id = s.workspace_id AND m.segment_id = "
			  "s.segment_id)"
			  " FROM segments s WHERE s.workspace_id = ?1 AND s.archived_at IS NULL ORDER BY s.segment_id",
			  &s, err, "scoring segments") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	store_bind_text(s, 4, event);
	json_t *rows = json_array();
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t size = sqlite3_column_int64(s, 2), did = sqlite3_column_int64(s, 5);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f}", "segment_id",
						      (const char *)sqlite3_column_text(s, 0), "name",
						      (const char *)sqlite3_column_text(s, 1), "size", (json_int_t)size,
						      "entered", (json_int_t)sqlite3_column_int64(s, 3), "events",
						      (json_int_t)sqlite3_column_int64(s, 4), "users", (json_int_t)did,
						      "rate", size ? (double)did / (double)size : 0.0));
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(rows);
		store_sqlerr(c, err, "scoring segments");
		return NULL;
	}
	return rows;
}
