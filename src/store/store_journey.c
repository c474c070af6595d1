/* store_journey.c — SQL of journeys, instances, timers, history, messages
 * and workspace settings (store_journey.h has the tables and invariants).
 * The engine's per-step statements go through store_cached (prepared once
 * per connection); the API's through store_prepare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_journey.h"

#define J_COLS "journey_id, name, status, draft, draft_rev, live_version, created_at, updated_at"
/* an instance with its timer (at most one: jny_timers' key) */
#define I_COLS                                                                                                         \
	"i.instance_id, i.workspace_id, i.journey_id, i.version, i.profile_id, i.node, i.state, i.wait_event,"         \
	" i.variant, i.entered_at, i.updated_at, i.exited_at, i.exit_reason, i.converted_at, i.steps,"                 \
	" i.goal_until, coalesce(t.due_at, 0), coalesce(t.kind, '')"
#define I_FROM " FROM jny_instances i LEFT JOIN jny_timers t ON t.instance_id = i.instance_id"

void store_journey_release(struct store_journey *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->name);
	free(j->status);
	free(j->draft);
	memset(j, 0, sizeof *j);
}

void store_journey_page_release(struct store_journey_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		store_journey_release(&p->items[i]);
	free(p->items);
	free(p->next_cursor);
	memset(p, 0, sizeof *p);
}

static void read_journey(sqlite3_stmt *s, struct store_journey *j)
{
	j->id = store_col_dup(s, 0);
	j->name = store_col_dup(s, 1);
	j->status = store_col_dup(s, 2);
	j->draft = store_col_dup(s, 3);
	j->draft_rev = sqlite3_column_int64(s, 4);
	j->live_version = sqlite3_column_int64(s, 5);
	j->created_at = sqlite3_column_int64(s, 6);
	j->updated_at = sqlite3_column_int64(s, 7);
}

static int not_found(struct cairn_err *err, const char *id)
{
	return cairn_err_set(err, CAIRN_ENOTFOUND, "journey_not_found", "", "No journey '%s' in this workspace.", id);
}

/* Steps a statement about one journey that must change a row. */
static int change_one(struct store_conn *c, sqlite3_stmt *s, const char *id, struct cairn_err *err, const char *what)
{
	if (store_run_finalize(c, s, err, what) < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? 0 : not_found(err, id);
}

int store_journey_create(struct store *st, int64_t ws, const char *id, const char *name, const char *draft, int64_t now,
			 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO journeys (workspace_id, journey_id, name, status, draft, draft_rev, created_at,"
		    " updated_at) VALUES (?1, ?2, ?3, 'draft', ?4, 1, ?5, ?5) ON CONFLICT DO NOTHING",
		    ws, id, &s, err, "creating a journey") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, draft);
	sqlite3_bind_int64(s, 5, now);
	if (store_run_finalize(c, s, err, "creating a journey") < 0)
		return CAIRN_EIO;
	if (!sqlite3_changes(c->db))
		return cairn_err_set(err, CAIRN_ECONFLICT, "journey_exists", "id",
				     "A journey with the id '%s' exists; choose another id or update that one.", id);
	return 0;
}

int store_journey_get(struct store *st, int64_t ws, const char *id, struct store_journey *out, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	memset(out, 0, sizeof *out);
	if (store_prepare_ws_id(c, "SELECT " J_COLS " FROM journeys WHERE workspace_id = ?1 AND journey_id = ?2", ws,
				id, &s, err, "reading a journey") < 0)
		return CAIRN_EIO;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_journey(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? not_found(err, id) : store_sqlerr(c, err, "reading a journey");
}

int store_journey_list(struct store *st, int64_t ws, int archived, int limit, const char *cursor,
		       struct store_journey_page *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	const char *after = "";
	if (cursor && *cursor) {
		if (strncmp(cursor, "j:", 2) != 0 || !cursor[2])
			return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
					     "The cursor is not one this API returned; start again without it.");
		after = cursor + 2;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT " J_COLS " FROM journeys WHERE workspace_id = ?1 AND journey_id > ?2"
				" AND (status = 'archived') = ?3 ORDER BY journey_id LIMIT ?4",
				ws, after, &s, err, "listing journeys") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int(s, 3, archived != 0);
	sqlite3_bind_int(s, 4, limit + 1);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->n == (size_t)limit) {
			size_t n = strlen(out->items[out->n - 1].id);
			out->next_cursor = xmalloc(n + 3);
			memcpy(out->next_cursor, "j:", 2);
			memcpy(out->next_cursor + 2, out->items[out->n - 1].id, n + 1);
			break;
		}
		xgrow((void **)&out->items, &cap, out->n + 1, sizeof *out->items);
		read_journey(s, &out->items[out->n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_journey_page_release(out);
		return store_sqlerr(c, err, "listing journeys");
	}
	return 0;
}

int store_journey_save_draft(struct store *st, int64_t ws, const char *id, const char *name, const char *draft,
			     int64_t expect_rev, int64_t now, int64_t *rev, struct cairn_err *err)
{
	struct store_journey j;
	if (store_journey_get(st, ws, id, &j, err) < 0)
		return err->code;
	int64_t have = j.draft_rev;
	int archived = !strcmp(j.status, "archived");
	store_journey_release(&j);
	if (archived)
		return cairn_err_set(err, CAIRN_ECONFLICT, "journey_archived", "",
				     "Journey '%s' is archived; restore it (POST …/restore) before editing.", id);
	if (expect_rev > 0 && expect_rev != have)
		return cairn_err_set(err, CAIRN_ECONFLICT, "draft_changed", "draft_rev",
				     "The draft changed since you loaded it (revision %lld, you sent %lld); reload it "
				     "and apply your edit again.",
				     (long long)have, (long long)expect_rev);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"UPDATE journeys SET name = ?3, draft = ?4, draft_rev = draft_rev + 1, updated_at = ?5"
				" WHERE workspace_id = ?1 AND journey_id = ?2",
				ws, id, &s, err, "saving a journey") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, draft);
	sqlite3_bind_int64(s, 5, now);
	*rev = have + 1;
	return change_one(c, s, id, err, "saving a journey");
}

int store_journey_publish(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			  int64_t *version, struct cairn_err *err)
{
	struct store_journey j;
	if (store_journey_get(st, ws, id, &j, err) < 0)
		return err->code;
	*version = j.live_version + 1;
	int paused = !strcmp(j.status, "paused");
	store_journey_release(&j);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO journey_versions (workspace_id, journey_id, version, definition, published_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?5)",
		    ws, id, &s, err, "publishing a journey") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, *version);
	store_bind_text(s, 4, definition);
	sqlite3_bind_int64(s, 5, now);
	if (store_run_finalize(c, s, err, "publishing a journey") < 0)
		return CAIRN_EIO;
	/* publishing a paused journey keeps it paused: resume is a separate decision */
	if (store_prepare_ws_id(c,
				"UPDATE journeys SET live_version = ?3, status = ?4, updated_at = ?5"
				" WHERE workspace_id = ?1 AND journey_id = ?2",
				ws, id, &s, err, "publishing a journey") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, *version);
	store_bind_text(s, 4, paused ? "paused" : "live");
	sqlite3_bind_int64(s, 5, now);
	return change_one(c, s, id, err, "publishing a journey");
}

int store_journey_set_status(struct store *st, int64_t ws, const char *id, const char *status, int64_t now,
			     struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c, "UPDATE journeys SET status = ?3, updated_at = ?4 WHERE workspace_id = ?1 AND journey_id = ?2",
		    ws, id, &s, err, "changing a journey's status") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, status);
	sqlite3_bind_int64(s, 4, now);
	return change_one(c, s, id, err, "changing a journey's status");
}

char *store_journey_version(struct store *st, int64_t ws, const char *id, int64_t version, int64_t *published_at,
			    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT definition, published_at FROM journey_versions WHERE workspace_id = ?1"
				" AND journey_id = ?2 AND version = ?3",
				ws, id, &s, err, "reading a journey version") < 0)
		return NULL;
	sqlite3_bind_int64(s, 3, version);
	char *out = NULL;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out = store_col_dup(s, 0);
		if (published_at)
			*published_at = sqlite3_column_int64(s, 1);
	} else if (rc == SQLITE_DONE) {
		cairn_err_set(err, CAIRN_ENOTFOUND, "version_not_found", "version", "Journey '%s' has no version %lld.",
			      id, (long long)version);
	} else {
		store_sqlerr(c, err, "reading a journey version");
	}
	sqlite3_finalize(s);
	return out;
}

json_t *store_journey_versions_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT version, published_at FROM journey_versions WHERE workspace_id = ?1"
				" AND journey_id = ?2 ORDER BY version DESC",
				ws, id, &s, err, "listing journey versions") < 0)
		return NULL;
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:I,s:o}", "version", (json_int_t)sqlite3_column_int64(s, 0),
						   "published_at", jsonx_time(sqlite3_column_int64(s, 1))));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		store_sqlerr(c, err, "listing journey versions");
		return NULL;
	}
	return a;
}

int store_journeys_running(struct store *st, store_journey_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT j.workspace_id, j.journey_id, j.status, j.live_version, v.definition FROM journeys j"
			  " JOIN journey_versions v ON v.workspace_id = j.workspace_id AND v.journey_id = j.journey_id"
			  " AND v.version = j.live_version WHERE j.status IN ('live', 'paused')"
			  " ORDER BY j.workspace_id, j.journey_id",
			  &s, err, "loading journeys") < 0)
		return CAIRN_EIO;
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out = fn(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
			 (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3),
			 (const char *)sqlite3_column_text(s, 4));
		if (out)
			break;
	}
	if (!out && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "loading journeys");
	sqlite3_finalize(s);
	return out;
}

/* ---- instances ------------------------------------------------------------------ */

static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	snprintf(dst, cap, "%s", t ? t : "");
}

static void read_instance(sqlite3_stmt *s, struct store_jny_instance *in)
{
	memset(in, 0, sizeof *in);
	in->instance_id = sqlite3_column_int64(s, 0);
	in->ws = sqlite3_column_int64(s, 1);
	copy_text(in->journey_id, sizeof in->journey_id, s, 2);
	in->version = sqlite3_column_int64(s, 3);
	in->profile_id = sqlite3_column_int64(s, 4);
	copy_text(in->node, sizeof in->node, s, 5);
	copy_text(in->state, sizeof in->state, s, 6);
	copy_text(in->wait_event, sizeof in->wait_event, s, 7);
	copy_text(in->variant, sizeof in->variant, s, 8);
	in->entered_at = sqlite3_column_int64(s, 9);
	in->updated_at = sqlite3_column_int64(s, 10);
	in->exited_at = sqlite3_column_int64(s, 11);
	copy_text(in->exit_reason, sizeof in->exit_reason, s, 12);
	in->converted_at = sqlite3_column_int64(s, 13);
	in->steps = sqlite3_column_int64(s, 14);
	in->goal_until = sqlite3_column_int64(s, 15);
	in->timer_due = sqlite3_column_int64(s, 16);
	copy_text(in->timer_kind, sizeof in->timer_kind, s, 17);
}

static const char SQL_ACTIVE[] = "SELECT " I_COLS I_FROM " WHERE i.workspace_id = ?1 AND i.profile_id = ?2"
				 " AND (i.state <> 'exited' OR i.goal_until >= ?3) ORDER BY i.instance_id";

int store_jny_active(struct store *st, int64_t ws, int64_t profile_id, int64_t now, struct store_jny_instance **out,
		     size_t *n, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = store_cached(c, SQL_ACTIVE, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, now);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)out, &cap, *n + 1, sizeof **out);
		read_instance(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return store_sqlerr(c, err, "reading journey instances");
	}
	return 0;
}

static const char SQL_GET[] = "SELECT " I_COLS I_FROM " WHERE i.instance_id = ?1";

int store_jny_get(struct store *st, int64_t instance_id, struct store_jny_instance *out, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_GET, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, instance_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_instance(s, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "instance_not_found", "", "No journey instance %lld.",
				     (long long)instance_id);
	return store_sqlerr(c, err, "reading a journey instance");
}

static const char SQL_INSERT[] =
	"INSERT INTO jny_instances (workspace_id, journey_id, version, profile_id, node, state, wait_event, variant,"
	" entered_at, updated_at, exited_at, exit_reason, converted_at, steps, goal_until)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16)";
static const char SQL_ENTRY[] =
	"INSERT INTO jny_entries (workspace_id, journey_id, profile_id, last_entered_at, entries)"
	" VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (workspace_id, journey_id, profile_id)"
	" DO UPDATE SET last_entered_at = excluded.last_entered_at, entries = entries + 1";
static const char SQL_SAVE[] =
	"UPDATE jny_instances SET node = ?5, state = ?6, wait_event = ?7, variant = ?8, updated_at = ?10,"
	" exited_at = ?11, exit_reason = ?12, converted_at = ?13, steps = ?14, goal_until = ?16"
	" WHERE instance_id = ?15";

/* Binds the instance's columns as ?1 … ?14 (SQL_INSERT's order). */
static void bind_instance(sqlite3_stmt *s, const struct store_jny_instance *in)
{
	sqlite3_bind_int64(s, 1, in->ws);
	store_bind_text(s, 2, in->journey_id);
	sqlite3_bind_int64(s, 3, in->version);
	sqlite3_bind_int64(s, 4, in->profile_id);
	store_bind_text(s, 5, in->node);
	store_bind_text(s, 6, in->state);
	store_bind_text(s, 7, in->wait_event);
	store_bind_text(s, 8, in->variant);
	sqlite3_bind_int64(s, 9, in->entered_at);
	sqlite3_bind_int64(s, 10, in->updated_at);
	sqlite3_bind_int64(s, 11, in->exited_at);
	store_bind_text(s, 12, in->exit_reason);
	sqlite3_bind_int64(s, 13, in->converted_at);
	sqlite3_bind_int64(s, 14, in->steps);
	sqlite3_bind_int64(s, 16, in->goal_until);
}

int store_jny_insert(struct store *st, struct store_jny_instance *in, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_INSERT, err);
	if (!s)
		return CAIRN_EIO;
	bind_instance(s, in);
	if (store_exec_stmt(c, s, err, "starting a journey instance") < 0)
		return CAIRN_EIO;
	in->instance_id = sqlite3_last_insert_rowid(c->db);
	s = store_cached(c, SQL_ENTRY, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, in->ws);
	store_bind_text(s, 2, in->journey_id);
	sqlite3_bind_int64(s, 3, in->profile_id);
	sqlite3_bind_int64(s, 4, in->entered_at);
	return store_exec_stmt(c, s, err, "recording a journey entry");
}

int store_jny_save(struct store *st, const struct store_jny_instance *in, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_SAVE, err);
	if (!s)
		return CAIRN_EIO;
	bind_instance(s, in);
	sqlite3_bind_int64(s, 15, in->instance_id);
	return store_exec_stmt(c, s, err, "saving a journey instance");
}

/* Without statistics SQLite would pick jny_instances_node (every instance
 * of the journey) over the user's few instances: name the index. */
static const char SQL_IN_JOURNEY[] =
	"SELECT (SELECT count(*) FROM jny_instances INDEXED BY jny_instances_profile WHERE workspace_id = ?1"
	" AND profile_id = ?3 AND journey_id = ?2 AND state <> 'exited'), (SELECT last_entered_at FROM jny_entries"
	" WHERE workspace_id = ?1 AND journey_id = ?2 AND profile_id = ?3)";

int store_jny_entry(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id, int64_t *last_entered,
		    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_IN_JOURNEY, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, journey_id);
	sqlite3_bind_int64(s, 3, profile_id);
	int rc = sqlite3_step(s);
	int in = 0;
	if (rc == SQLITE_ROW) {
		in = sqlite3_column_int64(s, 0) > 0;
		if (last_entered)
			*last_entered = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_sqlerr(c, err, "reading journey entries");
	return in;
}

int store_jny_on_other_versions(struct store *st, int64_t ws, const char *journey_id, int64_t version,
				store_jny_inst_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "SELECT instance_id, node FROM jny_instances WHERE workspace_id = ?1 AND journey_id = ?2"
		    " AND version <> ?3 AND state <> 'exited' ORDER BY instance_id",
		    ws, journey_id, &s, err, "reading journey instances") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, version);
	struct row {
		int64_t id;
		char *node;
	} *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)&rows, &cap, n + 1, sizeof *rows);
		rows[n].id = sqlite3_column_int64(s, 0);
		rows[n++].node = store_col_dup(s, 1);
	}
	sqlite3_finalize(s);
	int out = rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "reading journey instances");
	for (size_t i = 0; i < n; i++) {
		if (out == 0)
			out = fn(arg, rows[i].id, rows[i].node ? rows[i].node : "");
		free(rows[i].node);
	}
	free(rows);
	return out;
}

int store_jny_set_version(struct store *st, int64_t instance_id, int64_t version, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "UPDATE jny_instances SET version = ?2 WHERE instance_id = ?1", &s, err,
			  "migrating a journey instance") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, instance_id);
	sqlite3_bind_int64(s, 2, version);
	return store_run_finalize(c, s, err, "migrating a journey instance");
}

/* ---- timers ---------------------------------------------------------------------- */

static const char SQL_TIMER_SET[] =
	"INSERT INTO jny_timers (instance_id, workspace_id, due_at, kind) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (instance_id) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind";
static const char SQL_TIMER_CLEAR[] = "DELETE FROM jny_timers WHERE instance_id = ?1";
/* only live journeys' timers fire (paused ones wait, journey_engine.h
 * invariant 3) */
static const char SQL_TIMERS_DUE[] =
	"SELECT t.instance_id, t.due_at, t.kind FROM jny_timers t JOIN jny_instances i ON i.instance_id = t.instance_id"
	" JOIN journeys j ON j.workspace_id = i.workspace_id AND j.journey_id = i.journey_id"
	" WHERE t.due_at <= ?1 AND j.status = 'live' ORDER BY t.due_at, t.instance_id LIMIT ?2";
/* every time-driven table's next due time after ?1 */
static const char SQL_NEXT_DUE[] = "SELECT min(x) FROM (SELECT min(due_at) AS x FROM jny_timers WHERE due_at > ?1"
				   " UNION ALL SELECT min(due_at) FROM jny_schedules WHERE due_at > ?1"
				   " UNION ALL SELECT min(due_at) FROM seg_due WHERE due_at > ?1"
				   " UNION ALL SELECT min(due_at) FROM tagging_due WHERE due_at > ?1"
				   " UNION ALL SELECT min(send_at) FROM messages WHERE status IN ('queued', 'held')"
				   " AND send_at > ?1 AND send_at < 4611686018427387904)";

int store_jny_timer_set(struct store *st, int64_t ws, int64_t instance_id, int64_t due_at, const char *kind,
			struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_TIMER_SET, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, instance_id);
	sqlite3_bind_int64(s, 2, ws);
	sqlite3_bind_int64(s, 3, due_at);
	store_bind_text(s, 4, kind);
	return store_exec_stmt(c, s, err, "setting a journey timer");
}

int store_jny_timer_clear(struct store *st, int64_t instance_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_TIMER_CLEAR, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, instance_id);
	return store_exec_stmt(c, s, err, "clearing a journey timer");
}

int store_jny_timers_due(struct store *st, int64_t now, struct store_jny_timer *out, size_t max, size_t *n,
			 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	*n = 0;
	sqlite3_stmt *s = store_cached(c, SQL_TIMERS_DUE, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_jny_timer *t = &out[(*n)++];
		t->instance_id = sqlite3_column_int64(s, 0);
		t->due_at = sqlite3_column_int64(s, 1);
		copy_text(t->kind, sizeof t->kind, s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(c, err, "reading due journey timers");
	return 0;
}

int64_t store_next_due(struct store *st, int64_t after)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	sqlite3_stmt *s = store_cached(c, SQL_NEXT_DUE, &err);
	int64_t v = INT64_MAX;
	if (s)
		sqlite3_bind_int64(s, 1, after);
	if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	if (s)
		sqlite3_reset(s);
	return v;
}

/* ---- scheduled entries -------------------------------------------------------------- */

static const char SQL_SCHED_SET[] =
	"INSERT INTO jny_schedules (workspace_id, journey_id, profile_id, due_at, kind) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (workspace_id, journey_id, profile_id) DO UPDATE SET due_at = excluded.due_at, kind = "
	"excluded.kind";
static const char SQL_SCHED_CLEAR[] =
	"DELETE FROM jny_schedules WHERE workspace_id = ?1 AND journey_id = ?2 AND profile_id = ?3";
static const char SQL_SCHED_DUE[] =
	"SELECT s.workspace_id, s.journey_id, s.profile_id, s.due_at, s.kind FROM jny_schedules s"
	" JOIN journeys j ON j.workspace_id = s.workspace_id AND j.journey_id = s.journey_id"
	" WHERE s.due_at <= ?1 AND j.status = 'live' ORDER BY s.due_at, s.profile_id LIMIT ?2";

int store_jny_schedule_set(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id, int64_t due_at,
			   const char *kind, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_SCHED_SET, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, journey_id);
	sqlite3_bind_int64(s, 3, profile_id);
	sqlite3_bind_int64(s, 4, due_at);
	store_bind_text(s, 5, kind);
	return store_exec_stmt(c, s, err, "scheduling a journey entry");
}

int store_jny_schedule_clear(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id,
			     struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_SCHED_CLEAR, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, journey_id);
	sqlite3_bind_int64(s, 3, profile_id);
	return store_exec_stmt(c, s, err, "clearing a journey entry");
}

int store_jny_schedule_drop(struct store *st, int64_t ws, const char *journey_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "DELETE FROM jny_schedules WHERE workspace_id = ?1 AND journey_id = ?2", ws,
				journey_id, &s, err, "clearing journey entries") < 0)
		return CAIRN_EIO;
	return store_run_finalize(c, s, err, "clearing journey entries");
}

int store_jny_schedules_due(struct store *st, int64_t now, struct store_jny_schedule *out, size_t max, size_t *n,
			    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	*n = 0;
	sqlite3_stmt *s = store_cached(c, SQL_SCHED_DUE, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct store_jny_schedule *x = &out[(*n)++];
		x->ws = sqlite3_column_int64(s, 0);
		copy_text(x->journey_id, sizeof x->journey_id, s, 1);
		x->profile_id = sqlite3_column_int64(s, 2);
		x->due_at = sqlite3_column_int64(s, 3);
		copy_text(x->kind, sizeof x->kind, s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(c, err, "reading due journey entries");
	return 0;
}

int store_jny_segment_members(struct store *st, int64_t ws, const char *segment_id, store_jny_pid_fn fn, void *arg,
			      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT profile_id FROM seg_members WHERE workspace_id = ?1 AND segment_id = ?2"
				" ORDER BY profile_id",
				ws, segment_id, &s, err, "reading segment members") < 0)
		return CAIRN_EIO;
	/* read the ids first: fn writes to tables this statement would see */
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)&ids, &cap, n + 1, sizeof *ids);
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	int out = rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "reading segment members");
	for (size_t i = 0; out == 0 && i < n; i++)
		out = fn(arg, ids[i]);
	free(ids);
	return out;
}

/* ---- history and counts -------------------------------------------------------- */

static const char SQL_STEP[] =
	"INSERT INTO jny_steps (instance_id, seq, workspace_id, journey_id, version, profile_id, node, at, reason)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_STAT[] =
	"INSERT INTO jny_node_stats (workspace_id, journey_id, node, entered, exited, converted, version)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (workspace_id, journey_id, version, node) DO UPDATE SET"
	" entered = entered + excluded.entered, exited = exited + excluded.exited,"
	" converted = converted + excluded.converted";

int store_jny_step_add(struct store *st, const struct store_jny_instance *in, const char *node, int64_t at,
		       const char *reason, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_STEP, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, in->instance_id);
	sqlite3_bind_int64(s, 2, in->steps);
	sqlite3_bind_int64(s, 3, in->ws);
	store_bind_text(s, 4, in->journey_id);
	sqlite3_bind_int64(s, 5, in->version);
	sqlite3_bind_int64(s, 6, in->profile_id);
	store_bind_text(s, 7, node);
	sqlite3_bind_int64(s, 8, at);
	store_bind_text(s, 9, reason);
	return store_exec_stmt(c, s, err, "recording a journey step");
}

int store_jny_stat_add(struct store *st, int64_t ws, const char *journey_id, int64_t version, const char *node,
		       int entered, int exited, int converted, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_STAT, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, journey_id);
	store_bind_text(s, 3, node);
	sqlite3_bind_int(s, 4, entered);
	sqlite3_bind_int(s, 5, exited);
	sqlite3_bind_int(s, 6, converted);
	sqlite3_bind_int64(s, 7, version);
	return store_exec_stmt(c, s, err, "counting a journey step");
}

static json_t *node_counts(json_t *o, const char *node)
{
	json_t *n = json_object_get(o, node);
	if (!n) {
		n = json_pack("{s:i,s:i,s:i,s:i}", "entered", 0, "waiting", 0, "exited", 0, "converted", 0);
		json_object_set_new(o, node, n);
	}
	return n;
}

json_t *store_jny_stats_json(struct store *st, int64_t ws, const char *journey_id, json_t **by_version,
			     struct cairn_err *err)
{
	*by_version = NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT node, entered, exited, converted, 0, version FROM jny_node_stats"
				" WHERE workspace_id = ?1 AND journey_id = ?2 UNION ALL SELECT node, 0, 0, 0, count(*),"
				" version FROM jny_instances WHERE workspace_id = ?1 AND journey_id = ?2"
				" AND state = 'waiting' GROUP BY version, node",
				ws, journey_id, &s, err, "counting journey steps") < 0)
		return NULL;
	json_t *o = json_object(), *vs = json_object();
	int rc;
	static const char *const keys[] = {"entered", "exited", "converted", "waiting"};
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char ver[24];
		snprintf(ver, sizeof ver, "%lld", (long long)sqlite3_column_int64(s, 5));
		json_t *per = json_object_get(vs, ver);
		if (!per)
			json_object_set_new(vs, ver, per = json_object());
		json_t *n = node_counts(o, (const char *)sqlite3_column_text(s, 0));
		json_t *nv = node_counts(per, (const char *)sqlite3_column_text(s, 0));
		for (int k = 0; k < 4; k++) {
			int64_t v = sqlite3_column_int64(s, k + 1);
			if (!v)
				continue;
			json_object_set_new(n, keys[k],
					    json_integer(json_integer_value(json_object_get(n, keys[k])) + v));
			json_object_set_new(nv, keys[k],
					    json_integer(json_integer_value(json_object_get(nv, keys[k])) + v));
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(o);
		json_decref(vs);
		store_sqlerr(c, err, "counting journey steps");
		return NULL;
	}
	*by_version = vs;
	return o;
}

json_t *store_jny_history_json(struct store *st, int64_t ws, int64_t profile_id, int limit, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT journey_id, version, instance_id, node, at, reason FROM jny_steps"
			  " WHERE workspace_id = ?1 AND profile_id = ?2 ORDER BY at DESC, instance_id DESC, seq DESC"
			  " LIMIT ?3",
			  &s, err, "reading journey history") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int(s, 3, limit);
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(s, 5);
		json_array_append_new(
			a, json_pack("{s:s,s:I,s:I,s:s,s:o,s:s}", "journey_id", sqlite3_column_text(s, 0), "version",
				     (json_int_t)sqlite3_column_int64(s, 1), "instance_id",
				     (json_int_t)sqlite3_column_int64(s, 2), "node", sqlite3_column_text(s, 3), "at",
				     jsonx_time(sqlite3_column_int64(s, 4)), "reason", reason ? reason : ""));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		store_sqlerr(c, err, "reading journey history");
		return NULL;
	}
	return a;
}

json_t *store_jny_steps_between(struct store *st, int64_t ws, int64_t profile_id, int64_t lo, int64_t hi,
				struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT journey_id, version, node, reason, at FROM jny_steps WHERE workspace_id = ?1"
			  " AND profile_id = ?2 AND at > ?3 AND at <= ?4 ORDER BY at DESC, instance_id DESC, seq DESC",
			  &s, err, "reading journey history") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, lo);
	sqlite3_bind_int64(s, 4, hi);
	json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "type", "journey_step", "journey_id",
						   sqlite3_column_text(s, 0), "version",
						   (json_int_t)sqlite3_column_int64(s, 1), "node",
						   sqlite3_column_text(s, 2), "reason", sqlite3_column_text(s, 3),
						   "timestamp", jsonx_time(sqlite3_column_int64(s, 4))));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		store_sqlerr(c, err, "reading journey history");
		return NULL;
	}
	return a;
}

/* Column i as a JSON string, or JSON null when NULL. */
/* ---- workspace settings ------------------------------------------------------ */

char *store_setting_get(struct store *st, int64_t ws, const char *key)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "SELECT value FROM ws_settings WHERE workspace_id = ?1 AND key = ?2", ws, key, &s,
				&err, "reading a setting") < 0)
		return NULL;
	char *v = sqlite3_step(s) == SQLITE_ROW ? store_col_dup(s, 0) : NULL;
	sqlite3_finalize(s);
	return v;
}

int store_setting_put(struct store *st, int64_t ws, const char *key, const char *value, int64_t now,
		      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"INSERT INTO ws_settings (workspace_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)"
				" ON CONFLICT (workspace_id, key) DO UPDATE SET value = excluded.value,"
				" updated_at = excluded.updated_at",
				ws, key, &s, err, "saving a setting") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, value);
	sqlite3_bind_int64(s, 4, now);
	return store_run_finalize(c, s, err, "saving a setting");
}

/* ---- saved simulations ---------------------------------------------------------- */

int store_journey_test_put(struct store *st, int64_t ws, const char *journey_id, const char *name, const char *input,
			   const char *expected, int64_t version, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO journey_tests (workspace_id, journey_id, name, input, expected, version,"
		    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (workspace_id, journey_id,"
		    " name) DO UPDATE SET input = excluded.input, expected = excluded.expected,"
		    " version = excluded.version, created_at = excluded.created_at",
		    ws, journey_id, &s, err, "saving a journey test") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	store_bind_text(s, 4, input);
	store_bind_text(s, 5, expected);
	sqlite3_bind_int64(s, 6, version);
	sqlite3_bind_int64(s, 7, now);
	return store_run_finalize(c, s, err, "saving a journey test");
}

int store_journey_tests(struct store *st, int64_t ws, const char *journey_id, store_journey_test_fn fn, void *arg,
			struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT workspace_id, journey_id, name, input, expected, version FROM journey_tests"
			  " WHERE (?1 = 0 OR workspace_id = ?1) AND (?2 IS NULL OR journey_id = ?2)"
			  " ORDER BY workspace_id, journey_id, name",
			  &s, err, "reading journey tests") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, journey_id);
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out = fn(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
			 (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
			 (const char *)sqlite3_column_text(s, 4), sqlite3_column_int64(s, 5));
		if (out)
			break;
	}
	if (!out && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, "reading journey tests");
	sqlite3_finalize(s);
	return out;
}

/* ---- the event that started an instance ------------------------------------------------- */

int store_jny_entry_event_put(struct store *st, int64_t instance_id, const char *event, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	static const char sql[] = "INSERT OR REPLACE INTO jny_entry_events (instance_id, event) VALUES (?1, ?2)";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, instance_id);
	store_bind_text(s, 2, event);
	return store_exec_stmt(c, s, err, "keeping a journey's entry event");
}

char *store_jny_entry_event_get(struct store *st, int64_t instance_id)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char sql[] = "SELECT event FROM jny_entry_events WHERE instance_id = ?1";
	sqlite3_stmt *s = store_cached(c, sql, &err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, instance_id);
	char *v = sqlite3_step(s) == SQLITE_ROW ? store_col_dup(s, 0) : NULL;
	sqlite3_reset(s);
	return v;
}
