/* store_log.c — the append-only event log and its idempotency index.
 *
 * Invariants:
 *   1. An event is in ev.events iff its (workspace, messageId) has a row in
 *      ev.event_dedup pointing at it, except for the astronomically rare
 *      64-bit hash collision between two different messageIds, where the
 *      second event is stored without a dedup row (never dropped).
 *   2. Event ids grow in commit order (assigned under the write lock), so a
 *      reader that remembers the highest id it has seen misses nothing. */
#include <string.h>

#include "core/shard.h"
#include "store/store_int.h"

static int is_duplicate(struct store_conn *c, const struct store_event *ev, int64_t key)
{
	sqlite3_stmt *s = store_stmt(c, S_LOG_DEDUP_CHECK);
	sqlite3_bind_int64(s, 1, key);
	int dup = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *mid = (const char *)sqlite3_column_text(s, 1);
		dup = sqlite3_column_int64(s, 0) == ev->workspace_id && mid && !strcmp(mid, ev->message_id);
	}
	sqlite3_reset(s);
	return dup;
}

static int append_one(struct store_conn *c, struct store_event *ev, unsigned char *dup, struct cairn_err *err)
{
	sqlite3_stmt *s = store_stmt(c, S_LOG_INSERT);
	sqlite3_bind_int64(s, 1, ev->workspace_id);
	sqlite3_bind_int(s, 2, (int)ev->shard);
	store_bind_text(s, 3, ev->type);
	store_bind_text(s, 4, ev->name);
	store_bind_text(s, 5, ev->message_id);
	store_bind_text(s, 6, ev->user_id);
	store_bind_text(s, 7, ev->anonymous_id);
	sqlite3_bind_int64(s, 8, ev->ts);
	sqlite3_bind_int64(s, 9, ev->received_at);
	sqlite3_bind_text(s, 10, ev->body, (int)ev->body_len, SQLITE_STATIC);
	if (store_exec_stmt(c, s, err, "appending to the event log") < 0)
		return -1;
	ev->id = sqlite3_last_insert_rowid(c->db);

	int64_t key = (int64_t)shard_hash(ev->workspace_id, ev->message_id, strlen(ev->message_id));
	s = store_stmt(c, S_LOG_DEDUP_INSERT);
	sqlite3_bind_int64(s, 1, key);
	sqlite3_bind_int64(s, 2, ev->workspace_id);
	sqlite3_bind_int64(s, 3, ev->id);
	if (store_exec_stmt(c, s, err, "recording the messageId") < 0)
		return -1;
	*dup = 0;
	if (sqlite3_changes(c->db) == 0 && is_duplicate(c, ev, key)) {
		/* seen before: take the row back out (cheap: it is the last one) */
		s = store_stmt(c, S_LOG_DELETE);
		sqlite3_bind_int64(s, 1, ev->id);
		if (store_exec_stmt(c, s, err, "dropping a duplicate") < 0)
			return -1;
		ev->id = 0;
		*dup = 1;
	}
	return 0;
}

int store_log_append(struct store *st, struct store_event *events, size_t n, unsigned char *dup,
		     struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (store_exec_stmt(c, store_stmt(c, S_BEGIN), err, "starting a log transaction") < 0)
		return CAIRN_EIO;
	for (size_t i = 0; i < n; i++) {
		if (append_one(c, &events[i], &dup[i], err) < 0) {
			store_rollback(st);
			return CAIRN_EIO;
		}
	}
	if (store_exec_stmt(c, store_stmt(c, S_COMMIT), err, "committing the event log") < 0) {
		store_rollback(st);
		return CAIRN_EIO;
	}
	return 0;
}

int64_t store_log_head(struct store *st)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_LOG_HEAD);
	int64_t v = 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int store_log_scan(struct store *st, int64_t after_id, int limit, store_event_fn fn, void *arg,
		   struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_LOG_SCAN);
	sqlite3_bind_int64(s, 1, after_id);
	sqlite3_bind_int(s, 2, limit);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event ev = {
			.id = sqlite3_column_int64(s, 0),
			.workspace_id = sqlite3_column_int64(s, 1),
			.shard = (unsigned)sqlite3_column_int(s, 2),
			.type = col_text(s, 3),
			.name = col_text(s, 4),
			.message_id = col_text(s, 5),
			.user_id = col_text(s, 6),
			.anonymous_id = col_text(s, 7),
			.ts = sqlite3_column_int64(s, 8),
			.received_at = sqlite3_column_int64(s, 9),
			.body = col_text(s, 10),
			.body_len = (size_t)sqlite3_column_bytes(s, 10),
		};
		ret = fn(&ev, arg);
		if (ret < 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_sqlerr(c, err, "reading the event log");
	sqlite3_reset(s);
	return ret < 0 ? ret : 0;
}
