/* store_tagging.c — SQL of auto-tagging rules (store_tagging.h has the
 * tables and invariants).
 *
 * Design notes:
 *   - Statements are prepared per call, like store_seg_live.c: the store's
 *     statement table belongs to store.c, and a connection has only one
 *     SQLITE_TRACE_CLOSE hook for a private cache. The engine's per-event
 *     path only runs has_tag / state_get / due_* for rules that match the
 *     event, so the prepare cost is paid per match, not per rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_tagging.h"

#define RULE_COLS "rule_id, definition, created_at, updated_at"

void store_tagging_rule_release(struct store_tagging_rule *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->definition);
	memset(r, 0, sizeof *r);
}

void store_tagging_page_release(struct store_tagging_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		store_tagging_rule_release(&p->items[i]);
	free(p->items);
	free(p->next_cursor);
	memset(p, 0, sizeof *p);
}

static void read_rule(sqlite3_stmt *s, struct store_tagging_rule *out)
{
	memset(out, 0, sizeof *out);
	out->id = store_col_dup(s, 0);
	out->definition = store_col_dup(s, 1);
	out->created_at = sqlite3_column_int64(s, 2);
	out->updated_at = sqlite3_column_int64(s, 3);
}

static int not_found(struct cairn_err *err, const char *id)
{
	return cairn_err_set(err, CAIRN_ENOTFOUND, "rule_not_found", "", "No tagging rule '%s' in this workspace.", id);
}

/* ---- definitions -------------------------------------------------------------- */

int store_tagging_rule_insert(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(
		    c,
		    "INSERT INTO tagging_rules (workspace_id, rule_id, definition, created_at, updated_at)"
		    " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (workspace_id, rule_id) DO UPDATE SET"
		    " definition = excluded.definition, created_at = excluded.created_at,"
		    " updated_at = excluded.updated_at, archived_at = NULL WHERE tagging_rules.archived_at IS NOT NULL",
		    ws, id, &s, err, "saving a tagging rule") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, definition);
	sqlite3_bind_int64(s, 4, now);
	if (store_run_finalize(c, s, err, "saving a tagging rule") < 0)
		return CAIRN_EIO;
	if (sqlite3_changes(c->db) == 0)
		return cairn_err_set(
			err, CAIRN_ECONFLICT, "rule_exists", "id",
			"A tagging rule '%s' already exists; change it with PUT /api/v1/tagging-rules/%s or "
			"pick another id.",
			id, id);
	return 0;
}

int store_tagging_rule_update(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			      struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"UPDATE tagging_rules SET definition = ?3, updated_at = ?4 WHERE workspace_id = ?1"
				" AND rule_id = ?2 AND archived_at IS NULL",
				ws, id, &s, err, "saving a tagging rule") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, definition);
	sqlite3_bind_int64(s, 4, now);
	if (store_run_finalize(c, s, err, "saving a tagging rule") < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? 0 : not_found(err, id);
}

int store_tagging_rule_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err)
{
	static const char *const steps[] = {
		"UPDATE tagging_rules SET archived_at = ?3, updated_at = ?3 WHERE workspace_id = ?1 AND rule_id = ?2"
		" AND archived_at IS NULL",
		"DELETE FROM tagging_state WHERE workspace_id = ?1 AND rule_id = ?2",
		"DELETE FROM tagging_due WHERE workspace_id = ?1 AND rule_id = ?2",
	};
	struct store_conn *c = store_conn(st);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *s;
		if (store_prepare_ws_id(c, steps[i], ws, id, &s, err, "archiving a tagging rule") < 0)
			return CAIRN_EIO;
		if (i == 0)
			sqlite3_bind_int64(s, 3, now);
		if (store_run_finalize(c, s, err, "archiving a tagging rule") < 0)
			return CAIRN_EIO;
		if (i == 0 && sqlite3_changes(c->db) == 0)
			return not_found(err, id);
	}
	return 0;
}

int store_tagging_rule_get(struct store *st, int64_t ws, const char *id, struct store_tagging_rule *out,
			   struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT " RULE_COLS " FROM tagging_rules WHERE workspace_id = ?1 AND rule_id = ?2"
				" AND archived_at IS NULL",
				ws, id, &s, err, "reading a tagging rule") < 0)
		return CAIRN_EIO;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_rule(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return not_found(err, id);
	return store_sqlerr(c, err, "reading a tagging rule");
}

/* Cursors: "r:<rule id>" after the last rule shown. */
int store_tagging_rules_list(struct store *st, int64_t ws, int limit, const char *cursor,
			     struct store_tagging_page *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	const char *after = "";
	if (cursor && *cursor) {
		if (strncmp(cursor, "r:", 2) != 0 || !cursor[2])
			return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
					     "The cursor is not one this API returned; start again without it.");
		after = cursor + 2;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT " RULE_COLS " FROM tagging_rules WHERE workspace_id = ?1 AND archived_at IS NULL"
			  " AND rule_id > ?2 ORDER BY rule_id LIMIT ?3",
			  &s, err, "listing tagging rules") < 0)
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
			memcpy(out->next_cursor, "r:", 2);
			memcpy(out->next_cursor + 2, out->items[out->n - 1].id, n + 1);
			break;
		}
		xgrow((void **)&out->items, &cap, out->n + 1, sizeof *out->items);
		read_rule(s, &out->items[out->n++]);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_tagging_page_release(out);
		return store_sqlerr(c, err, "listing tagging rules");
	}
	return 0;
}

int store_tagging_defaults_claim(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "INSERT INTO tagging_defaults (workspace_id, installed_at) VALUES (?1, ?2)"
			  " ON CONFLICT (workspace_id) DO NOTHING",
			  &s, err, "installing default tagging rules") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, now);
	if (store_run_finalize(c, s, err, "installing default tagging rules") < 0)
		return CAIRN_EIO;
	return sqlite3_changes(c->db) ? 1 : 0;
}

/* ---- per-profile state ---------------------------------------------------------- */

/* Runs a query binding (ws, text, profile): 1 when it yields a row. */
static int exists(struct store *st, const char *sql, int64_t ws, const char *text, int64_t profile_id,
		  struct cairn_err *err, const char *what)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, sql, ws, text, &s, err, what) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_sqlerr(c, err, what);
}

int store_tagging_has_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err)
{
	return exists(st, "SELECT 1 FROM profile_tags WHERE workspace_id = ?1 AND tag = ?2 AND profile_id = ?3", ws,
		      tag, profile_id, err, "reading a tag");
}

int store_tagging_state_get(struct store *st, int64_t ws, const char *rule, int64_t profile_id, struct cairn_err *err)
{
	return exists(st, "SELECT 1 FROM tagging_state WHERE workspace_id = ?1 AND rule_id = ?2 AND profile_id = ?3",
		      ws, rule, profile_id, err, "reading a tagging rule's state");
}

int store_tagging_state_set(struct store *st, int64_t ws, const char *rule, int64_t profile_id, int on,
			    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	const char *sql = on ? "INSERT INTO tagging_state (workspace_id, rule_id, profile_id) VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (workspace_id, rule_id, profile_id) DO NOTHING"
			     : "DELETE FROM tagging_state WHERE workspace_id = ?1 AND rule_id = ?2 AND profile_id = ?3";
	if (store_prepare_ws_id(c, sql, ws, rule, &s, err, "saving a tagging rule's state") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	return store_run_finalize(c, s, err, "saving a tagging rule's state");
}

int store_tagging_due_set(struct store *st, int64_t ws, const char *rule, int64_t profile_id, int64_t due_at,
			  const char *cause, int keep_earlier, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	const char *sql =
		keep_earlier ? "INSERT INTO tagging_due (workspace_id, rule_id, profile_id, due_at, cause)"
			       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (workspace_id, rule_id, profile_id) DO NOTHING"
			     : "INSERT INTO tagging_due (workspace_id, rule_id, profile_id, due_at, cause)"
			       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (workspace_id, rule_id, profile_id) DO UPDATE"
			       " SET due_at = excluded.due_at, cause = excluded.cause";
	if (store_prepare_ws_id(c, sql, ws, rule, &s, err, "scheduling a tagging rule") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	sqlite3_bind_int64(s, 4, due_at);
	store_bind_text(s, 5, cause);
	return store_run_finalize(c, s, err, "scheduling a tagging rule");
}

int store_tagging_due_delete(struct store *st, int64_t ws, const char *rule, int64_t profile_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"DELETE FROM tagging_due WHERE workspace_id = ?1 AND rule_id = ?2 AND profile_id = ?3",
				ws, rule, &s, err, "cancelling a tagging rule") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 3, profile_id);
	return store_run_finalize(c, s, err, "cancelling a tagging rule");
}

int store_tagging_due_list(struct store *st, int64_t now, int limit, struct store_tagging_due **out, size_t *n,
			   struct cairn_err *err)
{
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT workspace_id, rule_id, profile_id, due_at, cause FROM tagging_due WHERE due_at <= ?1"
			  " ORDER BY due_at LIMIT ?2",
			  &s, err, "reading due tagging rules") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow((void **)out, &cap, *n + 1, sizeof **out);
		struct store_tagging_due *d = &(*out)[(*n)++];
		d->ws = sqlite3_column_int64(s, 0);
		d->rule = store_col_dup(s, 1);
		d->profile_id = sqlite3_column_int64(s, 2);
		d->due_at = sqlite3_column_int64(s, 3);
		d->cause = store_col_dup(s, 4);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_tagging_due_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_sqlerr(c, err, "reading due tagging rules");
	}
	return 0;
}

void store_tagging_due_free(struct store_tagging_due *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].rule);
		free(d[i].cause);
	}
	free(d);
}
