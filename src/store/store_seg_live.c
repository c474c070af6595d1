/* store_seg_live.c — SQL of live segments (store_seg_live.h has the tables
 * and invariants).
 *
 * Design notes:
 *   - Statements are prepared per call. store_segment.c keeps a per-thread
 *     statement cache finalized by a SQLITE_TRACE_CLOSE hook; a connection
 *     has only one such hook, so a second cache here would break theirs.
 *     When live-segment statements join the store's statement table
 *     (store.c), the per-event cost drops by the prepare time.
 *   - Size and history move with every membership change in the same
 *     transaction (invariants 1 and 2), so GET …/{id} and …/history read one
 *     row instead of counting members. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_seg_live.h"
#include "store/store_segment.h"

#define SEG_COLS "segment_id, name, condition, size, created_at, updated_at, archived_at"

void store_segment_release(struct store_segment *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->name);
	free(s->condition);
	memset(s, 0, sizeof *s);
}

void store_segment_page_release(struct store_segment_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		store_segment_release(&p->items[i]);
	free(p->items);
	free(p->next_cursor);
	memset(p, 0, sizeof *p);
}

static void read_segment(sqlite3_stmt *s, struct store_segment *out)
{
	memset(out, 0, sizeof *out);
	out->id = store_col_dup(s, 0);
	out->name = store_col_dup(s, 1);
	out->condition = store_col_dup(s, 2);
	out->size = sqlite3_column_int64(s, 3);
	out->created_at = sqlite3_column_int64(s, 4);
	out->updated_at = sqlite3_column_int64(s, 5);
	out->archived_at = sqlite3_column_type(s, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 6);
}

static int not_found(struct cairn_err *err, const char *id)
{
	return cairn_err_set(err, CAIRN_ENOTFOUND, "segment_not_found", "", "No segment '%s' in this workspace.", id);
}

/* Today's history row takes the segment's current size (invariant 2). */
static int record_size(struct store_conn *c, int64_t ws, const char *seg, int64_t now, struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO seg_sizes (workspace_id, segment_id, day, size) SELECT workspace_id, segment_id, ?3,"
		    " size FROM segments WHERE workspace_id = ?1 AND segment_id = ?2 AND true"
		    " ON CONFLICT (workspace_id, segment_id, day) DO UPDATE SET size = excluded.size",
		    ws, seg, &s, err, "recording a segment's size") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, store_seg_day(now));
	return store_run_finalize(c, s, err, "recording a segment's size");
}

/* ---- definitions -------------------------------------------------------------- */

int store_segment_insert(struct store *st, int64_t ws, const char *id, const char *name, const char *condition,
			 int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO segments (workspace_id, segment_id, name, condition, size, created_at, updated_at)"
		    " VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5) ON CONFLICT (workspace_id, segment_id) DO UPDATE SET"
		    " name = excluded.name, condition = excluded.condition, size = 0, created_at = excluded.created_at,"
		    " updated_at = excluded.updated_at, archived_at = NULL WHERE segments.archived_at IS NOT NULL",
		    ws, id, &s, err, "saving a segment") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, condition);
	sqlite3_bind_int64(s, 5, now);
	if (store_run_finalize(c, s, err, "saving a segment") < 0)
		return CAIRN_EIO;
	if (sqlite3_changes(c->db) == 0)
		return cairn_err_set(
			err, CAIRN_ECONFLICT, "segment_exists", "id",
			"A segment '%s' already exists; change it with PUT /api/v1/segments/%s or pick another id.", id,
			id);
	return record_size(c, ws, id, now, err);
}

int store_segment_update(struct store *st, int64_t ws, const char *id, const char *name, const char *condition,
			 int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"UPDATE segments SET name = ?3, condition = ?4, updated_at = ?5 WHERE workspace_id = ?1"
				" AND segment_id = ?2 AND archived_at IS NULL",
				ws, id, &s, err, "saving a segment") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, condition);
	sqlite3_bind_int64(s, 5, now);
	if (store_run_finalize(c, s, err, "saving a segment") < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? 0 : not_found(err, id);
}

int store_segment_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err)
{
	static const char *const steps[] = {
		"UPDATE segments SET archived_at = ?3, updated_at = ?3, size = 0 WHERE workspace_id = ?1"
		" AND segment_id = ?2 AND archived_at IS NULL",
		"DELETE FROM seg_members WHERE workspace_id = ?1 AND segment_id = ?2",
		"DELETE FROM seg_due WHERE workspace_id = ?1 AND segment_id = ?2",
	};
	struct store_conn *c = store_conn(st);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *s;
		if (store_prepare_ws_id(c, steps[i], ws, id, &s, err, "archiving a segment") < 0)
			return CAIRN_EIO;
		if (i == 0)
			sqlite3_bind_int64(s, 3, now);
		if (store_run_finalize(c, s, err, "archiving a segment") < 0)
			return CAIRN_EIO;
		if (i == 0 && sqlite3_changes(c->db) == 0)
			return not_found(err, id);
	}
	return record_size(c, ws, id, now, err);
}

int store_segment_get(struct store *st, int64_t ws, const char *id, struct store_segment *out, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT " SEG_COLS " FROM segments WHERE workspace_id = ?1 AND segment_id = ?2"
				" AND archived_at IS NULL",
				ws, id, &s, err, "reading a segment") < 0)
		return CAIRN_EIO;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_segment(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return not_found(err, id);
	return store_sqlerr(c, err, "reading a segment");
}

static int bad_cursor(struct cairn_err *err)
{
	return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
			     "The cursor is not one this API returned; start again without it.");
}

/* Cursors: "s:<segment id>" after the last segment shown. */
int store_segments_list(struct store *st, int64_t ws, int limit, const char *cursor, struct store_segment_page *out,
			struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	const char *after = "";
	if (cursor && *cursor) {
		if (strncmp(cursor, "s:", 2) != 0 || !cursor[2])
			return bad_cursor(err);
		after = cursor + 2;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT " SEG_COLS " FROM segments WHERE workspace_id = ?1 AND archived_at IS NULL"
			  " AND segment_id > ?2 ORDER BY segment_id LIMIT ?3",
			  &s, err, "listing segments") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, after);
	sqlite3_bind_int64(s, 3, limit > 0 ? limit + 1 : -1);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (limit > 0 && out->n == (size_t)limit) {
			size_t n = strlen(out->items[out->n - 1].id);
			out->next_cursor = xmalloc(n + 3);
			memcpy(out->next_cursor, "s:", 2);
			memcpy(out->next_cursor + 2, out->items[out->n - 1].id, n + 1);
			break;
		}
		xgrow((void **)&out->items, &cap, out->n + 1, sizeof *out->items);
		read_segment(s, &out->items[out->n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_segment_page_release(out);
		return store_sqlerr(c, err, "listing segments");
	}
	return 0;
}

/* ---- membership ------------------------------------------------------------- */

int store_seg_member_get(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t *entered_at,
			 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT entered_at FROM seg_members WHERE workspace_id = ?1 AND segment_id = ?2"
				" AND profile_id = ?3",
				ws, seg, &s, err, "reading a segment membership") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && entered_at)
		*entered_at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sqlerr(c, err, "reading a segment membership");
}

/* Moves size by delta and records it (invariants 1 and 2). */
static int resize(struct store_conn *c, int64_t ws, const char *seg, int delta, int64_t now, struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "UPDATE segments SET size = size + ?3 WHERE workspace_id = ?1 AND segment_id = ?2",
				ws, seg, &s, err, "counting segment members") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int(s, 3, delta);
	if (store_run_finalize(c, s, err, "counting segment members") < 0)
		return CAIRN_EIO;
	return record_size(c, ws, seg, now, err);
}

int store_seg_member_add(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t at,
			 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO seg_members (workspace_id, segment_id, profile_id, entered_at) VALUES (?1, ?2, ?3, ?4)"
		    " ON CONFLICT (workspace_id, segment_id, profile_id) DO NOTHING",
		    ws, seg, &s, err, "adding a segment member") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	sqlite3_bind_int64(s, 4, at);
	if (store_run_finalize(c, s, err, "adding a segment member") < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? resize(c, ws, seg, 1, at, err) : 0;
}

int store_seg_member_remove(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t now,
			    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c, "DELETE FROM seg_members WHERE workspace_id = ?1 AND segment_id = ?2 AND profile_id = ?3", ws,
		    seg, &s, err, "removing a segment member") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	if (store_run_finalize(c, s, err, "removing a segment member") < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? resize(c, ws, seg, -1, now, err) : 0;
}

int store_seg_profile_forget(struct store *st, int64_t ws, int64_t profile_id, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "SELECT segment_id FROM seg_members WHERE workspace_id = ?1 AND profile_id = ?2", &s, err,
			  "reading a profile's segments") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	char **segs = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)&segs, &cap, n + 1, sizeof *segs);
		segs[n++] = store_col_dup(s, 0);
	}
	sqlite3_finalize(s);
	int out = rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "reading a profile's segments");
	for (size_t i = 0; i < n; i++) {
		if (out == 0)
			out = store_seg_member_remove(st, ws, segs[i], profile_id, now, err);
		free(segs[i]);
	}
	free(segs);
	if (out < 0)
		return out;
	if (store_prepare(c, "DELETE FROM seg_due WHERE workspace_id = ?1 AND profile_id = ?2", &s, err,
			  "forgetting a profile") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	return store_run_finalize(c, s, err, "forgetting a profile");
}

int store_seg_due_set(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t due_at,
		      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	const char *sql =
		due_at == INT64_MAX
			? "DELETE FROM seg_due WHERE workspace_id = ?1 AND segment_id = ?2 AND profile_id = ?3"
			: "INSERT INTO seg_due (workspace_id, segment_id, profile_id, due_at) VALUES (?1, ?2, ?3, ?4)"
			  " ON CONFLICT (workspace_id, segment_id, profile_id) DO UPDATE SET due_at = excluded.due_at";
	if (store_prepare_ws_id(c, sql, ws, seg, &s, err, "scheduling a segment check") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	if (due_at != INT64_MAX)
		sqlite3_bind_int64(s, 4, due_at);
	return store_run_finalize(c, s, err, "scheduling a segment check");
}

int store_seg_due_clear(struct store *st, int64_t ws, const char *seg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "DELETE FROM seg_due WHERE workspace_id = ?1 AND segment_id = ?2", ws, seg, &s, err,
				"scheduling segment checks") < 0)
		return CAIRN_EIO;
	return store_run_finalize(c, s, err, "scheduling segment checks");
}

int store_seg_due_list(struct store *st, int64_t now, int limit, struct store_seg_due **out, size_t *n,
		       struct cairn_err *err)
{
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT workspace_id, segment_id, profile_id, due_at FROM seg_due WHERE due_at <= ?1"
			  " ORDER BY due_at LIMIT ?2",
			  &s, err, "reading due segment checks") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)out, &cap, *n + 1, sizeof **out);
		struct store_seg_due *d = &(*out)[(*n)++];
		d->ws = sqlite3_column_int64(s, 0);
		d->seg = store_col_dup(s, 1);
		d->profile_id = sqlite3_column_int64(s, 2);
		d->due_at = sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_seg_due_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_sqlerr(c, err, "reading due segment checks");
	}
	return 0;
}

void store_seg_due_free(struct store_seg_due *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].seg);
	free(d);
}

int store_seg_profiles(struct store *st, int64_t ws, int64_t after, int64_t *ids, size_t cap, size_t *n,
		       struct cairn_err *err)
{
	*n = 0;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "SELECT profile_id FROM profiles WHERE workspace_id = ?1 AND profile_id > ?2 ORDER BY profile_id"
		    " LIMIT ?3",
		    &s, err, "listing profiles") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int64(s, 3, (int64_t)cap);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(c, err, "listing profiles");
	return 0;
}

int store_seg_recount(struct store *st, int64_t ws, const char *seg, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"UPDATE segments SET size = (SELECT count(*) FROM seg_members WHERE workspace_id = ?1"
				" AND segment_id = ?2) WHERE workspace_id = ?1 AND segment_id = ?2",
				ws, seg, &s, err, "counting segment members") < 0)
		return CAIRN_EIO;
	if (store_run_finalize(c, s, err, "counting segment members") < 0)
		return CAIRN_EIO;
	return record_size(c, ws, seg, now, err);
}

/* ---- reads for the API -------------------------------------------------------- */

/* The id a member is shown by: its user id, else one of its anonymous ids. */
#define MEMBER_LABEL                                                                                                   \
	"COALESCE(p.user_id, (SELECT i.value FROM identities i WHERE i.workspace_id = m.workspace_id"                  \
	" AND i.profile_id = m.profile_id AND i.kind = '" STORE_ID_ANON "' ORDER BY i.value LIMIT 1))"
#define MEMBER_FROM " FROM seg_members m LEFT JOIN profiles p ON p.profile_id = m.profile_id"

json_t *store_seg_members_json(struct store *st, int64_t ws, const char *seg, int limit, const char *cursor,
			       char **next_cursor, struct cairn_err *err)
{
	*next_cursor = NULL;
	int64_t after = 0;
	if (cursor && *cursor) {
		char *end;
		long long v = strncmp(cursor, "m:", 2) == 0 ? strtoll(cursor + 2, &end, 10) : -1;
		if (v < 0 || end == cursor + 2 || *end) {
			bad_cursor(err);
			return NULL;
		}
		after = v;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT m.profile_id, m.entered_at, " MEMBER_LABEL MEMBER_FROM
				" WHERE m.workspace_id = ?1 AND m.segment_id = ?2 AND m.profile_id > ?3"
				" ORDER BY m.profile_id LIMIT ?4",
				ws, seg, &s, err, "listing segment members") < 0)
		return NULL;
	sqlite3_bind_int64(s, 3, after);
	sqlite3_bind_int64(s, 4, (int64_t)limit + 1);
	json_t *out = json_array();
	int rc, n = 0;
	int64_t last = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			char buf[32];
			snprintf(buf, sizeof buf, "m:%" PRId64, last);
			*next_cursor = xstrdup(buf);
			break;
		}
		last = sqlite3_column_int64(s, 0);
		const char *id = (const char *)sqlite3_column_text(s, 2);
		json_array_append_new(out, json_pack("{s:o,s:o}", "id", id ? json_string(id) : json_null(),
						     "entered_at", jsonx_time(sqlite3_column_int64(s, 1))));
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(out);
		free(*next_cursor);
		*next_cursor = NULL;
		store_sqlerr(c, err, "listing segment members");
		return NULL;
	}
	return out;
}

int store_seg_members_each(struct store *st, int64_t ws, const char *seg, store_seg_member_fn fn, void *arg,
			   struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT " MEMBER_LABEL ", m.entered_at" MEMBER_FROM
				" WHERE m.workspace_id = ?1 AND m.segment_id = ?2 ORDER BY m.profile_id",
				ws, seg, &s, err, "exporting segment members") < 0)
		return CAIRN_EIO;
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		out = fn(id ? id : "", sqlite3_column_int64(s, 1), arg);
		if (out)
			break;
	}
	if (!out && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "exporting segment members");
	sqlite3_finalize(s);
	return out;
}

char *store_seg_profile_label(struct store *st, int64_t profile_id)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_prepare(c,
			  "SELECT " MEMBER_LABEL
			  " FROM (SELECT ?1 AS profile_id, workspace_id FROM profiles WHERE profile_id = ?1) m"
			  " LEFT JOIN profiles p ON p.profile_id = m.profile_id",
			  &s, &err, "reading a profile") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, profile_id);
	char *out = sqlite3_step(s) == SQLITE_ROW ? store_col_dup(s, 0) : NULL;
	sqlite3_finalize(s);
	return out;
}

int store_seg_sizes_each(struct store *st, int64_t ws, const char *seg, int64_t since_day, store_seg_size_fn fn,
			 void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "SELECT day, size FROM (SELECT day, size FROM seg_sizes WHERE workspace_id = ?1 AND segment_id = ?2"
		    " AND day < ?3 ORDER BY day DESC LIMIT 1) UNION ALL SELECT day, size FROM seg_sizes"
		    " WHERE workspace_id = ?1 AND segment_id = ?2 AND day >= ?3 ORDER BY day",
		    ws, seg, &s, err, "reading a segment's history") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, since_day);
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out = fn(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), arg);
		if (out)
			break;
	}
	if (!out && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "reading a segment's history");
	sqlite3_finalize(s);
	return out;
}
