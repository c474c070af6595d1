/* store_log.c — the append-only event log and its idempotency index.
 *
 * Invariants:
 *   1. Event ids grow in commit order (assigned under the write lock), so a
 *      reader that remembers the highest id it has seen misses nothing.
 *   2. A messageId (per workspace) is stored at most once: before appending,
 *      the writer looks its 64-bit key up in `recent` (this process's events
 *      not yet indexed) and in dd.event_dedup (everything indexed), and a
 *      hit is confirmed against the stored event, so a hash collision never
 *      drops a different message.
 *   3. dd.event_dedup holds every event with id <= dedup_mark.upto, and
 *      `recent` every event this process appended above it. At open,
 *      `recent` is rebuilt from the log past the mark, so a crash between
 *      the log commit and indexing loses no key.
 *   4. Indexing (store_log_index) writes keys sorted, in bulk, to its own
 *      file: the log's commit path never dirties random index pages.
 *      Entries leave `recent` one indexing round after they are indexed, so
 *      a writer transaction that began before the index commit still finds
 *      them in memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/shard.h"
#include "core/xalloc.h"
#include "store/store_int.h"

/* ---- the in-memory set of recent keys ---------------------------------- */

static int64_t norm_key(int64_t k)
{
	return k ? k : 1;
}

static void set_put(struct dedup_set *d, int64_t key, int64_t id);

static void set_grow(struct dedup_set *d)
{
	struct dedup_set old = *d;
	d->cap = old.cap ? old.cap * 2 : 1024;
	d->keys = xcalloc(d->cap, sizeof *d->keys);
	d->ids = xcalloc(d->cap, sizeof *d->ids);
	d->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			set_put(d, old.keys[i], old.ids[i]);
	free(old.keys);
	free(old.ids);
}

static void set_put(struct dedup_set *d, int64_t key, int64_t id)
{
	if ((d->n + 1) * 2 > d->cap)
		set_grow(d);
	size_t mask = d->cap - 1, i = (size_t)key & mask;
	while (d->keys[i] && d->keys[i] != key)
		i = (i + 1) & mask;
	if (!d->keys[i])
		d->n++;
	d->keys[i] = key;
	d->ids[i] = id;
}

/* Event id for key, or 0. */
static int64_t set_get(const struct dedup_set *d, int64_t key)
{
	if (!d->cap)
		return 0;
	size_t mask = d->cap - 1, i = (size_t)key & mask;
	while (d->keys[i]) {
		if (d->keys[i] == key)
			return d->ids[i];
		i = (i + 1) & mask;
	}
	return 0;
}

/* Keeps only entries with id > upto (rebuilds the table). */
static void set_prune(struct dedup_set *d, int64_t upto)
{
	struct dedup_set old = *d;
	memset(d, 0, sizeof *d);
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i] && old.ids[i] > upto)
			set_put(d, old.keys[i], old.ids[i]);
	free(old.keys);
	free(old.ids);
}

void store_dedup_release(struct store *st)
{
	free(st->recent.keys);
	free(st->recent.ids);
	memset(&st->recent, 0, sizeof st->recent);
}

static int64_t key_of(int64_t workspace_id, const char *message_id)
{
	return norm_key((int64_t)shard_hash(workspace_id, message_id, strlen(message_id)));
}

static int64_t mark_get(struct store_conn *c)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT upto FROM dd.dedup_mark WHERE name = 'indexed'", -1, &s, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

int store_dedup_load_tail(struct store *st, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	int64_t mark = mark_get(c);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db, "SELECT id, workspace_id, message_id FROM ev.events WHERE id > ? ORDER BY id", -1,
			       &s, NULL) != SQLITE_OK)
		return store_sqlerr(c, err, "reading the log tail");
	sqlite3_bind_int64(s, 1, mark);
	pthread_mutex_lock(&st->recent_lock);
	while (sqlite3_step(s) == SQLITE_ROW)
		set_put(&st->recent, key_of(sqlite3_column_int64(s, 1), (const char *)sqlite3_column_text(s, 2)),
			sqlite3_column_int64(s, 0));
	st->indexed_upto = st->prev_indexed_upto = mark;
	pthread_mutex_unlock(&st->recent_lock);
	sqlite3_finalize(s);
	return 0;
}

/* Is the event with this id the same (workspace, messageId)? */
static int same_event(struct store_conn *c, enum stmt_id q, int64_t arg, const struct store_event *ev)
{
	sqlite3_stmt *s = store_stmt(c, q);
	sqlite3_bind_int64(s, 1, arg);
	int same = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *mid = (const char *)sqlite3_column_text(s, 1);
		same = sqlite3_column_int64(s, 0) == ev->workspace_id && mid && !strcmp(mid, ev->message_id);
	}
	sqlite3_reset(s);
	return same;
}

static int append_one(struct store *st, struct store_conn *c, struct store_event *ev, unsigned char *dup,
		      struct cairn_err *err)
{
	int64_t key = key_of(ev->workspace_id, ev->message_id);
	pthread_mutex_lock(&st->recent_lock);
	int64_t recent_id = set_get(&st->recent, key);
	pthread_mutex_unlock(&st->recent_lock);
	*dup = (recent_id && same_event(c, S_LOG_EVENT_CHECK, recent_id, ev)) ||
	       same_event(c, S_LOG_DEDUP_CHECK, key, ev);
	if (*dup) {
		ev->id = 0;
		return 0;
	}
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
	/* visible to the next message at once (a repeat within the batch); a
	 * rolled-back id left here is harmless: hits are confirmed */
	pthread_mutex_lock(&st->recent_lock);
	set_put(&st->recent, key, ev->id);
	pthread_mutex_unlock(&st->recent_lock);
	return 0;
}

int store_log_append(struct store *st, struct store_event *events, size_t n, unsigned char *dup, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (store_exec_stmt(c, store_stmt(c, S_BEGIN), err, "starting a log transaction") < 0)
		return CAIRN_EIO;
	if (store_exec_stmt(c, store_stmt(c, S_LOCK_LOG), err, "locking the event log") < 0) {
		store_rollback(st);
		return CAIRN_EIO;
	}
	for (size_t i = 0; i < n; i++) {
		if (append_one(st, c, &events[i], &dup[i], err) < 0) {
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

struct key_row {
	int64_t key, ws, id;
};

static int cmp_key(const void *a, const void *b)
{
	int64_t x = ((const struct key_row *)a)->key, y = ((const struct key_row *)b)->key;
	return x < y ? -1 : x > y;
}

int store_log_index(struct store *st, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	int64_t mark = mark_get(c);
	/* read the log past the mark in one short read transaction */
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(c->db, "SELECT id, workspace_id, message_id FROM ev.events WHERE id > ? ORDER BY id", -1,
			       &s, NULL) != SQLITE_OK)
		return store_sqlerr(c, err, "reading the log for indexing");
	sqlite3_bind_int64(s, 1, mark);
	struct key_row *rows = NULL;
	size_t n = 0, cap = 0;
	int64_t upto = mark;
	while (sqlite3_step(s) == SQLITE_ROW) {
		xgrow((void **)&rows, &cap, n + 1, sizeof *rows);
		rows[n].id = sqlite3_column_int64(s, 0);
		rows[n].ws = sqlite3_column_int64(s, 1);
		rows[n].key = key_of(rows[n].ws, (const char *)sqlite3_column_text(s, 2));
		upto = rows[n].id;
		n++;
	}
	sqlite3_finalize(s);
	int rc = 0;
	if (n) {
		qsort(rows, n, sizeof *rows, cmp_key);
		sqlite3_stmt *ins = NULL, *mk = NULL;
		rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
				     sqlite3_prepare_v2(
					     c->db,
					     "INSERT INTO dd.event_dedup (key, workspace_id, event_id) VALUES (?,?,?)"
					     " ON CONFLICT DO NOTHING",
					     -1, &ins, NULL) == SQLITE_OK &&
				     sqlite3_prepare_v2(c->db,
							"UPDATE dd.dedup_mark SET upto = ? WHERE name = 'indexed'", -1,
							&mk, NULL) == SQLITE_OK
			     ? 0
			     : -1;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			sqlite3_bind_int64(ins, 1, rows[i].key);
			sqlite3_bind_int64(ins, 2, rows[i].ws);
			sqlite3_bind_int64(ins, 3, rows[i].id);
			if (sqlite3_step(ins) != SQLITE_DONE)
				rc = -1;
			sqlite3_reset(ins);
		}
		if (rc == 0) {
			sqlite3_bind_int64(mk, 1, upto);
			if (sqlite3_step(mk) != SQLITE_DONE)
				rc = -1;
		}
		sqlite3_finalize(ins);
		sqlite3_finalize(mk);
		if (rc == 0 && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			rc = -1;
		if (rc < 0) {
			store_sqlerr(c, err, "indexing messageIds");
			if (!sqlite3_get_autocommit(c->db))
				sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
	free(rows);
	if (rc == 0) {
		/* drop what the PREVIOUS round indexed: any writer transaction that
		 * could have missed it in dd.event_dedup has ended since */
		pthread_mutex_lock(&st->recent_lock);
		if (st->prev_indexed_upto > 0 && st->recent.n)
			set_prune(&st->recent, st->prev_indexed_upto);
		st->prev_indexed_upto = st->indexed_upto;
		st->indexed_upto = upto;
		pthread_mutex_unlock(&st->recent_lock);
	}
	return rc < 0 ? CAIRN_EIO : 0;
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

int store_log_scan(struct store *st, int64_t after_id, int limit, store_event_fn fn, void *arg, struct cairn_err *err)
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
