/* store_outbox.c — the engine's outbox of events it emits. Rows are written
 * inside the engine's transaction and moved to the log after its commit;
 * the log's messageId idempotency makes the move exactly-once even when a
 * crash comes between the append and the delete. */
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "store/store_int.h"

static const char SQL_USER_ID[] = "SELECT user_id FROM profiles WHERE profile_id = ?";
static const char SQL_ANON_ID[] = "SELECT value FROM identities WHERE profile_id = ? AND kind = 'anonymous'"
				  " ORDER BY first_seen LIMIT 1";
static const char SQL_OUTBOX_ADD[] = "INSERT INTO engine_outbox (workspace_id, profile_id, message_id, user_id,"
				     " anonymous_id, name, body, ts, type) VALUES (?,?,?,?,?,?,?,?,?)";

/* The first row's text column 0 of a cached one-parameter statement, copied. */
static char *first_text(struct store_conn *c, const char *sql, int64_t id, int *found, struct cairn_err *err)
{
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	*found = sqlite3_step(s) == SQLITE_ROW;
	char *out = *found ? store_col_dup(s, 0) : NULL;
	sqlite3_reset(s);
	return out;
}

int store_profile_ids(struct store *st, int64_t profile_id, char **user_id, char **anonymous_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	int found = 0;
	*anonymous_id = NULL;
	*user_id = first_text(c, SQL_USER_ID, profile_id, &found, err);
	if (!found)
		return err->code ? err->code : cairn_err_set(err, CAIRN_ENOTFOUND, "not_found", "", "No such profile.");
	if (*user_id)
		return 0;
	*anonymous_id = first_text(c, SQL_ANON_ID, profile_id, &found, err);
	return *anonymous_id ? 0 : cairn_err_set(err, CAIRN_ENOTFOUND, "not_found", "", "The profile has no id.");
}

int store_outbox_add(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_OUTBOX_ADD, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ev->workspace_id);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, ev->message_id);
	store_bind_text(s, 4, ev->user_id);
	store_bind_text(s, 5, ev->anonymous_id);
	store_bind_text(s, 6, ev->name);
	sqlite3_bind_text(s, 7, ev->body, (int)ev->body_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, ev->ts);
	store_bind_text(s, 9, ev->type ? ev->type : "track");
	int rc = sqlite3_step(s);
	int out = rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "queueing an emitted event");
	sqlite3_reset(s);
	return out;
}

int store_outbox_scan(struct store *st, int limit, store_event_fn fn, void *arg, int64_t *upto, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	*upto = 0;
	if (store_prepare(
		    c,
		    "SELECT id, workspace_id, message_id, user_id, anonymous_id, name, body, ts, type FROM engine_outbox"
		    " ORDER BY id LIMIT ?",
		    &s, err, "using the engine outbox") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int(s, 1, limit);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event ev = {
			.workspace_id = sqlite3_column_int64(s, 1),
			.type = (const char *)sqlite3_column_text(s, 8),
			.message_id = (const char *)sqlite3_column_text(s, 2),
			.user_id = (const char *)sqlite3_column_text(s, 3),
			.anonymous_id = (const char *)sqlite3_column_text(s, 4),
			.name = (const char *)sqlite3_column_text(s, 5),
			.body = (const char *)sqlite3_column_text(s, 6),
			.body_len = (size_t)sqlite3_column_bytes(s, 6),
			.ts = sqlite3_column_int64(s, 7),
		};
		ret = fn(&ev, arg);
		if (ret < 0)
			break;
		*upto = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_sqlerr(c, err, "reading the engine outbox");
	sqlite3_finalize(s);
	return ret < 0 ? ret : 0;
}

int store_outbox_delete_upto(struct store *st, int64_t upto, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "DELETE FROM engine_outbox WHERE id <= ?", &s, err, "using the engine outbox") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, upto);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "clearing the engine outbox");
}
