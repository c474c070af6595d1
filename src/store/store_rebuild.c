/* store_rebuild.c — what `cairn rebuild` needs from the store: a consistent
 * copy, and the list of derived tables to empty before replaying the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "store/store_int.h"

/* Every table whose content the engine derives from the log. A module that
 * adds derived state adds its tables here (and `cairn rebuild --check`
 * proves it is a function of the log). Definitions stay: segments, rules,
 * seg_counters (whose buckets, seg_counter_daily, are derived). */
static const char *const derived_tables[] = {
	"profiles",	  "identities",	   "timeline",	"consents",	"profile_tags",	     "groups",	"group_members",
	"engine_cursors", "engine_outbox", "seg_daily", "seg_state",	"seg_members",	     "seg_due", "seg_sizes",
	"tagging_state",  "tagging_due",   "seg_rfm",	"seg_rfm_runs", "seg_counter_daily", "an_msg_daily",
	"an_msg_seen",	  "an_attrib_daily",
};

static int exec_sql(struct store_conn *c, const char *sql, struct cairn_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cairn_err_set(err, CAIRN_EIO, "storage_error", "", "The store failed: %s.", msg ? msg : "?");
		sqlite3_free(msg);
		return CAIRN_EIO;
	}
	return 0;
}

static void quoted(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			buf_addch(b, '\'');
		buf_addch(b, *p);
	}
	buf_addch(b, '\'');
}

int store_snapshot_into(struct store *st, const char *dir, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	struct buf sql;
	buf_init(&sql, 8192);
	buf_adds(&sql, "VACUUM main INTO ");
	char path[4096];
	snprintf(path, sizeof path, "%s/state.db", dir);
	quoted(&sql, path);
	buf_adds(&sql, "; VACUUM ev INTO ");
	snprintf(path, sizeof path, "%s/events.db", dir);
	quoted(&sql, path);
	buf_adds(&sql, ";");
	int rc = exec_sql(c, sql.ptr, err);
	buf_release(&sql);
	return rc;
}

int store_reset_derived(struct store *st, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	struct buf sql;
	buf_init(&sql, 8192);
	buf_adds(&sql, "BEGIN;");
	for (size_t i = 0; i < sizeof derived_tables / sizeof derived_tables[0]; i++)
		buf_addf(&sql, "DELETE FROM %s;", derived_tables[i]);
	buf_adds(&sql, "UPDATE segments SET size = 0; COMMIT;");
	int rc = exec_sql(c, sql.ptr, err);
	buf_release(&sql);
	if (rc < 0 && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int store_workspace_ids(struct store *st, int64_t **ids, size_t *n, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT workspace_id FROM workspaces ORDER BY workspace_id", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_sqlerr(c, err, "listing workspaces");
	size_t cap = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		xgrow((void **)ids, &cap, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return 0;
}

int store_membership_each(struct store *st, int64_t ws, store_text_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT m.segment_id || ' ' || coalesce('u:' || p.user_id, 'a:' || (SELECT min(i.value)"
			       " FROM identities i WHERE i.profile_id = p.profile_id AND i.kind = 'anonymous'), '?')"
			       " FROM seg_members m JOIN profiles p ON p.profile_id = m.profile_id"
			       " WHERE m.workspace_id = ? ORDER BY 1",
			       -1, &s, NULL) != SQLITE_OK)
		return store_sqlerr(c, err, "listing segment members");
	sqlite3_bind_int64(s, 1, ws);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = fn((const char *)sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0), arg);
		if (ret < 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_sqlerr(c, err, "listing segment members");
	sqlite3_finalize(s);
	return ret < 0 ? ret : 0;
}
