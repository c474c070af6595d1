/* store_read.c — what the read API shows: profiles, timelines, events,
 * search and streaming export. Reads need no transaction: each statement
 * sees one WAL snapshot. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_segment.h"

static int prep(struct store_conn *c, const char *sql, sqlite3_stmt **s, struct cairn_err *err)
{
	*s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, s, NULL) != SQLITE_OK) {
		sqlite3_finalize(*s);
		*s = NULL;
		return store_sqlerr(c, err, "reading");
	}
	return 0;
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	json_t *v = t ? jsonx_loadb(t, (size_t)sqlite3_column_bytes(s, i), JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *col_str(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? json_string(t) : json_null();
}

int store_profile_resolve(struct store *st, int64_t ws, const char *id, int64_t *profile_id, struct cairn_err *err)
{
	if (store_identity_find(st, ws, STORE_ID_USER, id, profile_id) == 0)
		return 0;
	if (store_identity_find(st, ws, STORE_ID_ANON, id, profile_id) == 0)
		return 0;
	return cairn_err_set(err, CAIRN_ENOTFOUND, "user_not_found", "id",
			     "No user or anonymous id '%s' in this workspace.", id);
}

/* A profile's parts (cached: every template render reads a profile). Each
 * filters by workspace too, so the (workspace_id, profile_id, …) keys serve. */
static const char SQL_P_IDS[] = "SELECT kind, value FROM identities WHERE profile_id = ? ORDER BY first_seen, value";
static const char SQL_P_CONSENTS[] = "SELECT scope, name, status, updated_at, source FROM consents"
				     " WHERE profile_id = ?1 AND workspace_id = ?2 ORDER BY name";
static const char SQL_P_TAGS[] = "SELECT tag FROM profile_tags WHERE profile_id = ?1 AND workspace_id = ?2 ORDER BY tag";
static const char SQL_P_GROUPS[] =
	"SELECT g.group_id, g.traits FROM group_members m JOIN groups g ON g.workspace_id = m.workspace_id"
	" AND g.group_id = m.group_id WHERE m.profile_id = ? AND m.workspace_id = ? ORDER BY g.group_id";

static json_t *profile_row(struct store_conn *c, int64_t ws, int64_t pid, sqlite3_stmt *row, int with_computed,
			   struct cairn_err *err)
{
	/* row columns: user_id, traits, lifecycle, first_seen, last_seen, created_at, updated_at */
	json_t *p = json_object();
	json_object_set_new(p, "id", col_str(row, 0));
	json_t *anon = json_array(), *aliases = json_array();
	sqlite3_stmt *s;
	if ((s = store_cached(c, SQL_P_IDS, err))) {
		sqlite3_bind_int64(s, 1, pid);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(s, 0);
			json_array_append_new(!strcmp(kind, STORE_ID_ANON) ? anon : aliases, col_str(s, 1));
		}
		sqlite3_reset(s);
	}
	json_object_set_new(p, "anonymous_ids", anon);
	json_object_set_new(p, "user_ids", aliases);
	json_object_set_new(p, "traits", col_json(row, 1));

	json_t *consent = json_object(), *topics = json_object();
	if ((s = store_cached(c, SQL_P_CONSENTS, err))) {
		sqlite3_bind_int64(s, 1, pid);
		sqlite3_bind_int64(s, 2, ws);
		while (sqlite3_step(s) == SQLITE_ROW) {
			json_t *rec = json_pack("{s:o,s:o,s:o}", "status", col_str(s, 2), "updated_at",
						jsonx_time(sqlite3_column_int64(s, 3)), "source", col_str(s, 4));
			const char *scope = (const char *)sqlite3_column_text(s, 0);
			json_object_set_new(!strcmp(scope, "topic") ? topics : consent,
					    (const char *)sqlite3_column_text(s, 1), rec);
		}
		sqlite3_reset(s);
	}
	json_object_set_new(consent, "topics", topics);
	json_object_set_new(p, "consent", consent);

	json_t *tags = json_array();
	if ((s = store_cached(c, SQL_P_TAGS, err))) {
		sqlite3_bind_int64(s, 1, pid);
		sqlite3_bind_int64(s, 2, ws);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(tags, col_str(s, 0));
		sqlite3_reset(s);
	}
	json_object_set_new(p, "tags", tags);
	json_object_set_new(p, "lifecycle_stage", col_str(row, 2));

	json_t *groups = json_array();
	if ((s = store_cached(c, SQL_P_GROUPS, err))) {
		sqlite3_bind_int64(s, 1, pid);
		sqlite3_bind_int64(s, 2, ws);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(groups,
					      json_pack("{s:o,s:o}", "id", col_str(s, 0), "traits", col_json(s, 1)));
		sqlite3_reset(s);
	}
	json_object_set_new(p, "groups", groups);
	json_object_set_new(p, "first_seen", jsonx_time(sqlite3_column_int64(row, 3)));
	json_object_set_new(p, "last_seen", jsonx_time(sqlite3_column_int64(row, 4)));
	json_object_set_new(p, "created_at", jsonx_time(sqlite3_column_int64(row, 5)));
	json_object_set_new(p, "updated_at", jsonx_time(sqlite3_column_int64(row, 6)));
	/* computed traits as of now (windows slide with the clock); a failure
	 * to read them leaves the rest of the profile readable */
	if (with_computed) {
		struct cairn_err cerr = CAIRN_ERR_INIT;
		json_t *computed = store_seg_computed_json(c->st, ws, pid, clock_now_ms(), &cerr);
		json_object_set_new(p, "computed", computed ? computed : json_object());
	}
	return p;
}

static json_t *profile_row_json(struct store_conn *c, int64_t ws, int64_t pid, sqlite3_stmt *row, struct cairn_err *err)
{
	return profile_row(c, ws, pid, row, 1, err);
}

/* first/last seen come from the timeline (two index seeks) so the engine
 * does not rewrite the profile row for every event */
#define PROFILE_COLS                                                                                                   \
	"p.user_id, p.traits, p.lifecycle,"                                                                            \
	" coalesce((SELECT min(t.ts) FROM timeline t WHERE t.workspace_id = p.workspace_id"                            \
	"  AND t.profile_id = p.profile_id), p.first_seen),"                                                           \
	" coalesce((SELECT max(t.ts) FROM timeline t WHERE t.workspace_id = p.workspace_id"                            \
	"  AND t.profile_id = p.profile_id), p.last_seen),"                                                            \
	" p.created_at, p.updated_at, p.profile_id"

static const char SQL_PROFILE_ROW[] = "SELECT " PROFILE_COLS " FROM profiles p WHERE p.profile_id = ?";

/* "segments": the live segments the profile is in now, [{id, name, entered_at}]. */
static int profile_segments(struct store_conn *c, int64_t ws, int64_t pid, json_t *p, struct cairn_err *err)
{
	static const char sql[] = "SELECT m.segment_id, s.name, m.entered_at FROM seg_members m JOIN segments s"
				  " ON s.workspace_id = m.workspace_id AND s.segment_id = m.segment_id"
				  " WHERE m.workspace_id = ? AND m.profile_id = ? AND s.archived_at IS NULL ORDER BY s.name";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, pid);
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:s,s:s,s:o}", "id", (const char *)sqlite3_column_text(s, 0), "name",
						   (const char *)sqlite3_column_text(s, 1), "entered_at",
						   jsonx_time(sqlite3_column_int64(s, 2))));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return store_sqlerr(c, err, "reading a user's segments");
	}
	json_object_set_new(p, "segments", a);
	return 0;
}

json_t *store_profile_json_opt(struct store *st, int64_t ws, const char *id, int with_computed, struct cairn_err *err)
{
	int64_t pid;
	if (store_profile_resolve(st, ws, id, &pid, err) < 0)
		return NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_PROFILE_ROW, err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, pid);
	json_t *p = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		p = profile_row(c, ws, pid, s, with_computed, err);
	else
		cairn_err_set(err, CAIRN_ENOTFOUND, "user_not_found", "id", "No user '%s' in this workspace.", id);
	sqlite3_reset(s);
	if (p && with_computed && profile_segments(c, ws, pid, p, err) < 0) {
		json_decref(p);
		p = NULL;
	}
	return p;
}

json_t *store_profile_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err)
{
	return store_profile_json_opt(st, ws, id, 1, err);
}

/* Cursors are "<ts>.<id>" of the last item shown; opaque to clients. */
static int parse_cursor(const char *cur, int64_t *ts, int64_t *id, struct cairn_err *err)
{
	*ts = INT64_MAX;
	*id = INT64_MAX;
	if (!cur || !*cur)
		return 0;
	char *end;
	long long a = strtoll(cur, &end, 10);
	if (*end != '.')
		return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
				     "The cursor is not one this API returned; start again without it.");
	long long b = strtoll(end + 1, &end, 10);
	if (*end)
		return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
				     "The cursor is not one this API returned; start again without it.");
	*ts = a;
	*id = b;
	return 0;
}

static char *make_cursor(int64_t ts, int64_t id)
{
	char b[64];
	snprintf(b, sizeof b, "%" PRId64 ".%" PRId64, ts, id);
	return xstrdup(b);
}

/* Columns every event query selects, after (cursor ts, id). */
#define EVENT_COLS "e.body, e.type, e.message_id, e.user_id, e.anonymous_id, e.ts, e.received_at"

/* The message as readers see it: the bytes the client sent with the
 * normalized fields from the log's columns merged in (type, messageId,
 * userId/anonymousId as strings, timestamp corrected for clock skew with
 * the client's own value kept as originalTimestamp, receivedAt). */
static json_t *event_json(sqlite3_stmt *s, int at)
{
	json_t *ev = col_json(s, at);
	if (!json_is_object(ev)) {
		json_decref(ev);
		ev = json_object();
	}
	int64_t ts = sqlite3_column_int64(s, at + 5);
	json_t *sent_ts = json_object_get(ev, "timestamp");
	int64_t claimed;
	if (json_is_string(sent_ts) && !json_object_get(ev, "originalTimestamp") &&
	    (clock_parse_rfc3339(json_string_value(sent_ts), &claimed) < 0 || claimed != ts))
		json_object_set(ev, "originalTimestamp", sent_ts);
	json_object_set_new(ev, "type", col_str(s, at + 1));
	json_object_set_new(ev, "messageId", col_str(s, at + 2));
	if (sqlite3_column_type(s, at + 3) != SQLITE_NULL)
		json_object_set_new(ev, "userId", col_str(s, at + 3));
	if (sqlite3_column_type(s, at + 4) != SQLITE_NULL)
		json_object_set_new(ev, "anonymousId", col_str(s, at + 4));
	json_object_set_new(ev, "timestamp", jsonx_time(ts));
	json_object_set_new(ev, "receivedAt", jsonx_time(sqlite3_column_int64(s, at + 6)));
	return ev;
}

/* Runs s (whose columns are: cursor ts, id, EVENT_COLS) and collects at
 * most limit events, setting *cursor_out when there are more. */
static json_t *collect_events(struct store_conn *c, sqlite3_stmt *s, int limit, char **cursor_out,
			      struct cairn_err *err)
{
	json_t *arr = json_array();
	int n = 0, rc;
	int64_t last_ts = 0, last_id = 0;
	*cursor_out = NULL;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			*cursor_out = make_cursor(last_ts, last_id);
			break;
		}
		last_ts = sqlite3_column_int64(s, 0);
		last_id = sqlite3_column_int64(s, 1);
		json_array_append_new(arr, event_json(s, 2));
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(arr);
		store_sqlerr(c, err, "reading events");
		return NULL;
	}
	return arr;
}

json_t *store_timeline_json(struct store *st, int64_t ws, int64_t profile_id, int limit, const char *cursor_in,
			    char **cursor_out, struct cairn_err *err)
{
	int64_t cts, cid;
	*cursor_out = NULL;
	if (parse_cursor(cursor_in, &cts, &cid, err) < 0)
		return NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prep(c,
		 "SELECT t.ts, t.event_id, " EVENT_COLS " FROM timeline t JOIN ev.events e ON e.id = t.event_id"
		 " WHERE t.workspace_id = ?1 AND t.profile_id = ?2 AND (t.ts < ?3 OR (t.ts = ?3 AND t.event_id < ?4))"
		 " ORDER BY t.ts DESC, t.event_id DESC LIMIT ?5",
		 &s, err) < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, cts);
	sqlite3_bind_int64(s, 4, cid);
	sqlite3_bind_int(s, 5, limit + 1);
	json_t *arr = collect_events(c, s, limit, cursor_out, err);
	sqlite3_finalize(s);
	return arr;
}

json_t *store_events_json(struct store *st, int64_t ws, const char *name, int limit, const char *cursor_in,
			  char **cursor_out, struct cairn_err *err)
{
	int64_t cts, cid;
	*cursor_out = NULL;
	if (parse_cursor(cursor_in, &cts, &cid, err) < 0)
		return NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	int rc;
	if (name)
		rc = prep(
			c,
			"SELECT t.ts, t.event_id, " EVENT_COLS " FROM timeline t JOIN ev.events e ON e.id = t.event_id"
			" WHERE t.workspace_id = ?1 AND t.name = ?5 AND (t.ts < ?2 OR (t.ts = ?2 AND t.event_id < ?3))"
			" ORDER BY t.ts DESC, t.event_id DESC LIMIT ?4",
			&s, err);
	else /* all events: log order (newest first), the cursor's ts part is the id */
		rc = prep(c,
			  "SELECT e.id, e.id, " EVENT_COLS " FROM ev.events e WHERE e.workspace_id = ?1 AND e.id < ?3"
			  " ORDER BY e.id DESC LIMIT ?4",
			  &s, err);
	if (rc < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	if (name) {
		sqlite3_bind_int64(s, 2, cts);
		store_bind_text(s, 5, name);
	}
	sqlite3_bind_int64(s, 3, cid);
	sqlite3_bind_int(s, 4, limit + 1);
	json_t *arr = collect_events(c, s, limit, cursor_out, err);
	sqlite3_finalize(s);
	return arr;
}

/* LIKE pattern for a substring, with % and _ escaped. */
static char *like_pattern(const char *q, int lower)
{
	size_t n = strlen(q);
	char *p = xcalloc(2 * n + 4, 1), *o = p; /* +1: see store_phone_query */
	*o++ = '%';
	for (const char *i = q; *i; i++) {
		if (*i == '%' || *i == '_' || *i == '\\')
			*o++ = '\\';
		*o++ = lower && *i >= 'A' && *i <= 'Z' ? (char)(*i + 32) : *i;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

int store_phone_query(const char *q, char **digits, char **alt)
{
	size_t n = strlen(q), nd = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = q[i];
		if (ch >= '0' && ch <= '9')
			nd++;
		else if (!strchr("+-() .", ch))
			return -1;
	}
	if (nd < 4)
		return -1;
	/* one zero byte more than the pattern needs: FTS5's LIKE code (SQLite
	 * 3.40) reads one byte past a pattern's terminator (valgrind) */
	char *d = xcalloc(nd + 4, 1), *o = d;
	*o++ = '%';
	for (size_t i = 0; i < n; i++)
		if (q[i] >= '0' && q[i] <= '9')
			*o++ = q[i];
	*o++ = '%';
	*o = '\0';
	/* "010…" also as "8210…", and "8210…" also as "010…" */
	size_t an = nd + 4;
	char *a = xmalloc(an);
	if (d[1] == '0')
		snprintf(a, an, "%%82%s", d + 2);
	else if (d[1] == '8' && d[2] == '2')
		snprintf(a, an, "%%0%s", d + 3);
	else
		snprintf(a, an, "%s", d);
	*digits = d;
	*alt = a;
	return 0;
}

static json_t *search_rows(struct store_conn *c, int64_t ws, sqlite3_stmt *s, int limit, char **cursor_out,
			   struct cairn_err *err);

json_t *store_profiles_search(struct store *st, int64_t ws, const char *q, int limit, const char *cursor_in,
			      char **cursor_out, struct cairn_err *err)
{
	int64_t cts, cid;
	*cursor_out = NULL;
	if (parse_cursor(cursor_in, &cts, &cid, err) < 0)
		return NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	char *digits = NULL, *alt = NULL;
	int phone = store_phone_query(q ? q : "", &digits, &alt) == 0;
	/* The trigram index (profile_search) holds ids, email, name, phone and
	 * trait values; phone numbers are in it as 82… and 0…, so their digits
	 * alone find them. FTS5 answers a LIKE of three characters or more
	 * from the index; a shorter one (or one with LIKE's wildcards, which
	 * need ESCAPE) scans its plain text in rowid order, stopping at the
	 * page's end: far cheaper than reading the profiles' JSON. LIKE is
	 * case-insensitive for ASCII and byte-exact for Korean. */
	const char *needle = phone ? digits : (q ? q : "");
	if (*needle) {
		size_t chars = 0;
		for (const char *u = needle; *u; u++)
			chars += ((unsigned char)*u & 0xc0) != 0x80 && *u != '%';
		int wild = !phone && strpbrk(needle, "%_\\") != NULL;
		free(alt);
		/* CROSS JOIN keeps the index outside: without statistics the planner
		 * would loop over profiles by workspace instead. "+f.text" hides the
		 * LIKE from FTS5 (which answers a pattern under three characters
		 * with nothing): SQLite then reads the table and tests each row. */
#define SEARCH_SQL(cond)                                                                                               \
	"SELECT " PROFILE_COLS " FROM profile_search f CROSS JOIN profiles p ON p.profile_id = f.rowid WHERE " cond         \
	" AND f.rowid > ?3 AND p.workspace_id = ?1 ORDER BY f.rowid LIMIT ?4"
		if (prep(c,
			 wild		? SEARCH_SQL("+f.text LIKE ?2 ESCAPE '\\'")
			 : chars < 3	? SEARCH_SQL("+f.text LIKE ?2")
					: SEARCH_SQL("f.text LIKE ?2"),
			 &s, err) < 0) {
			free(digits);
			return NULL;
		}
		sqlite3_bind_int64(s, 1, ws);
		if (phone)
			sqlite3_bind_text(s, 2, digits, -1, free);
		else
			sqlite3_bind_text(s, 2, like_pattern(needle, 0), -1, free);
		sqlite3_bind_int64(s, 3, cid == INT64_MAX ? 0 : cid);
		sqlite3_bind_int(s, 4, limit + 1);
		if (!phone)
			free(digits);
		return search_rows(c, ws, s, limit, cursor_out, err);
	}
	/* no query: everyone, in id order (+workspace_id: not through an index on it) */
	free(digits);
	free(alt);
	if (prep(c,
		 "SELECT " PROFILE_COLS " FROM profiles p WHERE +p.workspace_id = ?1 AND p.profile_id > ?3"
		 " ORDER BY p.profile_id LIMIT ?4",
		 &s, err) < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 3, cid == INT64_MAX ? 0 : cid);
	sqlite3_bind_int(s, 4, limit + 1);
	return search_rows(c, ws, s, limit, cursor_out, err);
}

/* Steps a search (PROFILE_COLS) into a page of profiles, then finalizes. */
static json_t *search_rows(struct store_conn *c, int64_t ws, sqlite3_stmt *s, int limit, char **cursor_out,
			   struct cairn_err *err)
{
	json_t *arr = json_array();
	int n = 0, rc;
	int64_t last = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			*cursor_out = make_cursor(0, last);
			break;
		}
		last = sqlite3_column_int64(s, 7);
		json_array_append_new(arr, profile_row_json(c, ws, last, s, err));
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_sqlerr(c, err, "searching profiles");
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(s);
	return arr;
}

int store_profiles_each(struct store *st, int64_t ws, store_json_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prep(c, "SELECT " PROFILE_COLS " FROM profiles p WHERE p.workspace_id = ? ORDER BY p.profile_id", &s, err) <
	    0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *p = profile_row_json(c, ws, sqlite3_column_int64(s, 7), s, err);
		ret = fn(p, arg);
		json_decref(p);
		if (ret < 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_sqlerr(c, err, "exporting profiles");
	sqlite3_finalize(s);
	return ret < 0 ? ret : 0;
}

int store_events_each(struct store *st, int64_t ws, store_text_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prep(c, "SELECT " EVENT_COLS " FROM ev.events e WHERE e.workspace_id = ? ORDER BY e.id", &s, err) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *ev = event_json(s, 0);
		char *text = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		ret = fn(text, strlen(text), arg);
		free(text);
		if (ret < 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_sqlerr(c, err, "exporting events");
	sqlite3_finalize(s);
	return ret < 0 ? ret : 0;
}

json_t *store_event_names(struct store *st, int64_t ws, int max, struct cairn_err *err)
{
	static const char sql[] = "SELECT name FROM timeline WHERE workspace_id = ?1 AND name > ?2 ORDER BY name LIMIT 1";
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return NULL;
	json_t *out = json_array();
	char *last = xstrdup("");
	for (int i = 0; i < max; i++) {
		sqlite3_bind_int64(s, 1, ws);
		sqlite3_bind_text(s, 2, last, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			free(last);
			last = store_col_dup(s, 0);
			json_array_append_new(out, json_string(last));
		}
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			store_sqlerr(c, err, "listing event names");
			json_decref(out);
			out = NULL;
			break;
		}
	}
	free(last);
	return out;
}
