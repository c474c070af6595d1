/* store_deliver.c — SQL of the message outbox, history, providers, domains
 * and suppressions (see store_deliver.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_deliver.h"
#include "store/store_int.h"

static json_t *text_or_null(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? json_string(t) : json_null();
}

/* ---- queueing ------------------------------------------------------------------- */

static const char SQL_MSG_INSERT[] =
	"INSERT INTO messages (message_id, workspace_id, profile_id, instance_id, journey_id, version, node, variant,"
	" channel, template_id, advertising, content, status, created_at, send_at, updated_at, priority,"
	" transactional, topic, recipient, parent_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?14, ?16, ?17, ?18, ?19, ?20)"
	" ON CONFLICT DO NOTHING";
static const char SQL_MSG_COUNT[] = "SELECT count(*), min(send_at) FROM messages WHERE workspace_id = ?1"
				    " AND profile_id = ?2 AND channel = ?3 AND send_at >= ?4";

int store_message_insert(struct store *st, const struct store_message *m, int *inserted, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_MSG_INSERT, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, m->message_id);
	sqlite3_bind_int64(s, 2, m->ws);
	sqlite3_bind_int64(s, 3, m->profile_id);
	sqlite3_bind_int64(s, 4, m->instance_id);
	store_bind_text(s, 5, m->journey_id);
	sqlite3_bind_int64(s, 6, m->version);
	store_bind_text(s, 7, m->node);
	store_bind_text(s, 8, m->variant);
	store_bind_text(s, 9, m->channel);
	store_bind_text(s, 10, m->template_id);
	sqlite3_bind_int(s, 11, m->advertising);
	store_bind_text(s, 12, m->content);
	store_bind_text(s, 13, m->status);
	sqlite3_bind_int64(s, 14, m->created_at);
	sqlite3_bind_int64(s, 15, m->send_at);
	sqlite3_bind_int(s, 16, m->transactional ? 0 : 1);
	sqlite3_bind_int(s, 17, m->transactional);
	store_bind_text(s, 18, m->topic);
	store_bind_text(s, 19, m->recipient);
	store_bind_text(s, 20, m->parent_id);
	int rc = store_exec_stmt(c, s, err, "queueing a message");
	if (inserted)
		*inserted = rc == 0 && sqlite3_changes(c->db) > 0;
	return rc;
}

int store_message_window(struct store *st, int64_t ws, int64_t profile_id, const char *channel, int64_t since,
			 int64_t *count, int64_t *oldest, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_MSG_COUNT, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, channel);
	sqlite3_bind_int64(s, 4, since);
	int rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	*oldest = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_sqlerr(c, err, "counting messages");
}

/* ---- dispatching ---------------------------------------------------------------- */

void store_dlv_msg_release(struct store_dlv_msg *m)
{
	if (!m)
		return;
	free(m->message_id);
	free(m->journey_id);
	free(m->node);
	free(m->variant);
	free(m->channel);
	free(m->template_id);
	free(m->topic);
	free(m->recipient);
	free(m->parent_id);
	free(m->content);
	free(m->status);
	memset(m, 0, sizeof *m);
}

#define MSG_COLS                                                                                                       \
	"message_id, workspace_id, profile_id, journey_id, version, node, variant, channel, template_id,"              \
	" advertising, transactional, topic, recipient, parent_id, content, status, attempts, created_at, send_at"

static void msg_read(sqlite3_stmt *s, struct store_dlv_msg *m)
{
	m->message_id = store_col_dup(s, 0);
	m->ws = sqlite3_column_int64(s, 1);
	m->profile_id = sqlite3_column_int64(s, 2);
	m->journey_id = store_col_dup(s, 3);
	m->version = sqlite3_column_int64(s, 4);
	m->node = store_col_dup(s, 5);
	m->variant = store_col_dup(s, 6);
	m->channel = store_col_dup(s, 7);
	m->template_id = store_col_dup(s, 8);
	m->advertising = sqlite3_column_int(s, 9);
	m->transactional = sqlite3_column_int(s, 10);
	m->topic = store_col_dup(s, 11);
	m->recipient = store_col_dup(s, 12);
	m->parent_id = store_col_dup(s, 13);
	m->content = store_col_dup(s, 14);
	m->status = store_col_dup(s, 15);
	m->attempts = sqlite3_column_int(s, 16);
	m->created_at = sqlite3_column_int64(s, 17);
	m->send_at = sqlite3_column_int64(s, 18);
}

static const char SQL_CLAIM_SELECT[] = "SELECT " MSG_COLS " FROM messages"
				       " WHERE status IN ('queued', 'held') AND priority = ?1 AND send_at <= ?2"
				       " ORDER BY priority, send_at LIMIT ?3";
static const char SQL_CLAIM_UPDATE[] =
	"UPDATE messages SET status = 'sending', lease_until = ?2, updated_at = ?3 WHERE message_id = ?1";

int store_dlv_claim(struct store *st, int64_t now, int64_t lease_until, int limit, struct store_dlv_msg **out,
		    size_t *n, struct cairn_err *err)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	struct store_conn *c = store_conn(st);
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	struct store_dlv_msg *v = xcalloc((size_t)limit, sizeof *v);
	size_t k = 0;
	int rc = 0;
	for (int prio = 0; prio <= 1 && rc == 0 && (int)k < limit; prio++) {
		sqlite3_stmt *s = store_cached(c, SQL_CLAIM_SELECT, err);
		if (!s) {
			rc = CAIRN_EIO;
			break;
		}
		sqlite3_bind_int(s, 1, prio);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_int(s, 3, limit - (int)k);
		int r;
		while ((r = sqlite3_step(s)) == SQLITE_ROW)
			msg_read(s, &v[k++]);
		sqlite3_reset(s);
		if (r != SQLITE_DONE)
			rc = store_sqlerr(c, err, "claiming messages");
	}
	for (size_t i = 0; rc == 0 && i < k; i++) {
		sqlite3_stmt *u = store_cached(c, SQL_CLAIM_UPDATE, err);
		if (!u) {
			rc = CAIRN_EIO;
			break;
		}
		store_bind_text(u, 1, v[i].message_id);
		sqlite3_bind_int64(u, 2, lease_until);
		sqlite3_bind_int64(u, 3, now);
		rc = store_exec_stmt(c, u, err, "claiming messages");
		if (rc == 0)
			rc = store_dlv_history_add(st, v[i].message_id, now, "sending", NULL, NULL, v[i].attempts, err);
	}
	if (rc == 0)
		rc = store_commit(st, err);
	else
		store_rollback(st);
	if (rc < 0) {
		for (size_t i = 0; i < k; i++)
			store_dlv_msg_release(&v[i]);
		free(v);
		return CAIRN_EIO;
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	return 0;
}

int store_dlv_message_get(struct store *st, const char *id, struct store_dlv_msg *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_conn(st);
	static const char sql[] = "SELECT " MSG_COLS " FROM messages WHERE message_id = ?1";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, id);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		msg_read(s, out);
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "message_not_found", "id", "There is no message %s.", id);
	return store_sqlerr(c, err, "reading a message");
}

int store_dlv_message_by_ref(struct store *st, int64_t ws, const char *ref, struct store_dlv_msg *out,
			     struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_conn(st);
	static const char sql[] = "SELECT " MSG_COLS " FROM messages WHERE provider_ref = ?1 AND workspace_id = ?2"
				  " LIMIT 1";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, ref);
	sqlite3_bind_int64(s, 2, ws);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		msg_read(s, out);
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "message_not_found", "provider_ref",
				     "No message was sent with the provider's id %s.", ref);
	return store_sqlerr(c, err, "reading a message");
}

int64_t store_dlv_provider_ws(struct store *st, const char *provider_id)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char sql[] = "SELECT workspace_id FROM providers WHERE provider_id = ?1";
	sqlite3_stmt *s = store_cached(c, sql, &err);
	if (!s)
		return 0;
	store_bind_text(s, 1, provider_id);
	int64_t ws = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return ws;
}

int store_dlv_reclaim(struct store *st, int64_t lease_now, int64_t now, int64_t *n, struct cairn_err *err)
{
	*n = 0;
	struct store_conn *c = store_conn(st);
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	sqlite3_stmt *s;
	int rc = store_prepare(c,
			       "INSERT INTO message_history (message_id, at, status, reason, provider_id, attempt)"
			       " SELECT message_id, ?2, 'requeued', 'the dispatcher holding it stopped before the"
			       " provider answered; it may have been sent once already', provider_id, attempts"
			       " FROM messages WHERE status = 'sending' AND lease_until < ?1",
			       &s, err, "requeueing messages");
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, lease_now);
		sqlite3_bind_int64(s, 2, now);
		rc = store_run_finalize(c, s, err, "requeueing messages");
	}
	if (rc == 0)
		rc = store_prepare(c,
				   "UPDATE messages SET status = 'queued', lease_until = 0, updated_at = ?2"
				   " WHERE status = 'sending' AND lease_until < ?1",
				   &s, err, "requeueing messages");
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, lease_now);
		sqlite3_bind_int64(s, 2, now);
		rc = store_run_finalize(c, s, err, "requeueing messages");
		*n = sqlite3_changes(c->db);
	}
	if (rc == 0)
		return store_commit(st, err) < 0 ? CAIRN_EIO : 0;
	store_rollback(st);
	return CAIRN_EIO;
}

static const char SQL_RECORD[] =
	"UPDATE messages SET status = ?2, reason = ?3, provider_id = coalesce(?4, provider_id),"
	" to_addr = coalesce(?5, to_addr), provider_ref = coalesce(?6, provider_ref), attempts = ?7,"
	" updated_at = ?8, send_at = CASE WHEN ?2 IN ('queued', 'held') THEN ?9 ELSE send_at END,"
	" sent_at = CASE WHEN ?2 = 'sent' THEN ?8 ELSE sent_at END, lease_until = 0"
	" WHERE message_id = ?1 AND status = 'sending'";
static const char SQL_HISTORY[] = "INSERT INTO message_history (message_id, at, status, reason, provider_id, attempt)"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int store_dlv_history_add(struct store *st, const char *message_id, int64_t at, const char *status, const char *reason,
			  const char *provider, int attempt, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_HISTORY, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, message_id);
	sqlite3_bind_int64(s, 2, at);
	store_bind_text(s, 3, status);
	store_bind_text(s, 4, reason);
	store_bind_text(s, 5, provider);
	sqlite3_bind_int(s, 6, attempt);
	return store_exec_stmt(c, s, err, "recording a message's history");
}

int store_dlv_record(struct store *st, const struct store_dlv_outcome *o, int *changed, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, SQL_RECORD, err);
	if (!s)
		return CAIRN_EIO;
	store_bind_text(s, 1, o->message_id);
	store_bind_text(s, 2, o->status);
	store_bind_text(s, 3, o->reason);
	store_bind_text(s, 4, o->provider);
	store_bind_text(s, 5, o->to_addr);
	store_bind_text(s, 6, o->provider_ref);
	sqlite3_bind_int(s, 7, o->attempts);
	sqlite3_bind_int64(s, 8, o->at);
	sqlite3_bind_int64(s, 9, o->send_at);
	if (store_exec_stmt(c, s, err, "recording a send") < 0)
		return CAIRN_EIO;
	int ch = sqlite3_changes(c->db) > 0;
	if (changed)
		*changed = ch;
	if (!ch)
		return 0;
	return store_dlv_history_add(st, o->message_id, o->at, o->event, o->reason, o->provider, o->attempts, err);
}

/* In one transaction: runs sql, an UPDATE … RETURNING message_id with ?1
 * the workspace, ?2 now and ?3… the texts, and writes the history row
 * `event` for each message it changed. OUT: *n how many. */
static int requeue(struct store *st, const char *sql, const char *what, const char *event, int64_t ws, int64_t now,
		   const char *const *texts, int ntexts, int64_t *n, struct cairn_err *err)
{
	*n = 0;
	struct store_conn *c = store_conn(st);
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	sqlite3_stmt *s;
	if (store_prepare(c, sql, &s, err, what) < 0) {
		store_rollback(st);
		return CAIRN_EIO;
	}
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, now);
	for (int i = 0; i < ntexts; i++)
		store_bind_text(s, 3 + i, texts[i]);
	size_t cap = 16, k = 0;
	char **ids = xmalloc(cap * sizeof *ids);
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			cap *= 2;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[k++] = store_col_dup(s, 0);
	}
	int rc = r == SQLITE_DONE ? 0 : store_sqlerr(c, err, what);
	sqlite3_finalize(s);
	for (size_t i = 0; i < k; i++) {
		if (rc == 0)
			rc = store_dlv_history_add(st, ids[i], now, event, NULL, NULL, 0, err);
		free(ids[i]);
	}
	free(ids);
	*n = (int64_t)k;
	if (rc == 0)
		return store_commit(st, err) < 0 ? CAIRN_EIO : 0;
	store_rollback(st);
	return CAIRN_EIO;
}

int store_dlv_replay(struct store *st, int64_t ws, const char *id, const char *status, const char *channel, int64_t now,
		     int64_t *n, struct cairn_err *err)
{
	*n = 0;
	struct store_conn *c = store_conn(st);
	if (id) {
		sqlite3_stmt *q;
		if (store_prepare_ws_id(c, "SELECT status FROM messages WHERE workspace_id = ?1 AND message_id = ?2",
					ws, id, &q, err, "reading a message") < 0)
			return CAIRN_EIO;
		int r = sqlite3_step(q);
		char *cur = r == SQLITE_ROW ? store_col_dup(q, 0) : NULL;
		sqlite3_finalize(q);
		if (!cur)
			return cairn_err_set(err, CAIRN_ENOTFOUND, "message_not_found", "id",
					     "There is no message %s in this workspace.", id);
		int ok = !strcmp(cur, "dead") || !strcmp(cur, "failed");
		if (!ok) {
			cairn_err_set(err, CAIRN_ECONFLICT, "not_replayable", "id",
				      "Message %s is %s; only dead or failed messages can be replayed.", id, cur);
			free(cur);
			return CAIRN_ECONFLICT;
		}
		free(cur);
	}
	const char *const texts[] = {id, status, channel};
	return requeue(st,
		       "UPDATE messages SET status = 'queued', attempts = 0, send_at = ?2, updated_at = ?2,"
		       " reason = NULL WHERE workspace_id = ?1 AND status IN ('dead', 'failed')"
		       " AND (?3 IS NULL OR message_id = ?3) AND (?4 IS NULL OR status = ?4)"
		       " AND (?5 IS NULL OR channel = ?5) RETURNING message_id",
		       "replaying messages", "replayed", ws, now, texts, 3, n, err);
}

int store_dlv_release(struct store *st, int64_t ws, const char *reason, int64_t now, int64_t *n, struct cairn_err *err)
{
	const char *const texts[] = {reason};
	return requeue(st,
		       "UPDATE messages SET status = 'queued', send_at = ?2, updated_at = ?2, reason = NULL"
		       " WHERE workspace_id = ?1 AND status = 'held' AND reason = ?3 RETURNING message_id",
		       "releasing messages", "resumed", ws, now, texts, 1, n, err);
}

json_t *store_dlv_counts(struct store *st, int64_t ws, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "SELECT status, count(*) FROM messages WHERE workspace_id = ?1 GROUP BY status", &s, err,
			  "counting messages") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	json_t *o = json_object();
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(s, 0),
				    json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		json_decref(o);
		store_sqlerr(c, err, "counting messages");
		return NULL;
	}
	return o;
}

static const char SQL_PENDING[] =
	"SELECT (SELECT count(*) FROM messages WHERE status IN ('queued', 'held') AND priority IN (0, 1)"
	" AND send_at <= ?1) + (SELECT count(*) FROM messages WHERE status = 'sending')";

int64_t store_dlv_pending(struct store *st, int64_t now)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	sqlite3_stmt *s = store_cached(c, SQL_PENDING, &err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	return v;
}

/* ---- reading ---------------------------------------------------------------------- */

static json_t *message_row_json(sqlite3_stmt *s)
{
	const char *content = (const char *)sqlite3_column_text(s, 8);
	json_t *body = content ? jsonx_loadb(content, strlen(content), 0, NULL) : NULL;
	json_t *fb = body ? json_object_get(body, "_fallback") : NULL;
	json_t *fallback = fb ? json_incref(fb) : NULL;
	if (fb)
		json_object_del(body, "_fallback");
	json_t *m =
		json_pack("{s:s,s:s,s:o,s:b,s:b,s:o,s:s,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o}", "id",
			  sqlite3_column_text(s, 0), "channel", sqlite3_column_text(s, 1), "template_id",
			  text_or_null(s, 2), "advertising", sqlite3_column_int(s, 7), "transactional",
			  sqlite3_column_int(s, 13), "content", body ? body : json_null(), "status",
			  sqlite3_column_text(s, 9), "created_at", jsonx_time(sqlite3_column_int64(s, 10)), "send_at",
			  jsonx_time(sqlite3_column_int64(s, 11)), "attempts", (json_int_t)sqlite3_column_int64(s, 14),
			  "reason", text_or_null(s, 15), "provider_id", text_or_null(s, 16), "to", text_or_null(s, 17),
			  "topic", text_or_null(s, 18), "fallback_of", text_or_null(s, 20));
	if (sqlite3_column_int64(s, 11) >= STORE_DLV_NEVER)
		json_object_set_new(m, "send_at", json_null());
	json_object_set_new(m, "sent_at",
			    sqlite3_column_type(s, 19) == SQLITE_NULL ? json_null()
								      : jsonx_time(sqlite3_column_int64(s, 19)));
	if (fallback)
		json_object_set_new(m, "fallback_channels", fallback);
	json_object_set_new(m, "user_id", text_or_null(s, 12));
	if (sqlite3_column_type(s, 3) != SQLITE_NULL)
		json_object_set_new(m, "journey",
				    json_pack("{s:s,s:I,s:s,s:o}", "id", sqlite3_column_text(s, 3), "version",
					      (json_int_t)sqlite3_column_int64(s, 4), "node", sqlite3_column_text(s, 5),
					      "variant", text_or_null(s, 6)));
	return m;
}

#define MSG_JSON_COLS                                                                                                  \
	"SELECT m.message_id, m.channel, m.template_id, m.journey_id, m.version, m.node, m.variant,"                   \
	" m.advertising, m.content, m.status, m.created_at, m.send_at,"                                                \
	" coalesce(p.user_id, (SELECT value FROM identities i WHERE i.profile_id = m.profile_id"                       \
	" LIMIT 1)), m.transactional, m.attempts, m.reason, m.provider_id, m.to_addr, m.topic, m.sent_at,"             \
	" m.parent_id FROM messages m LEFT JOIN profiles p ON p.profile_id = m.profile_id"

json_t *store_messages_json(struct store *st, int64_t ws, const struct store_dlv_filter *f, int limit,
			    const char *cursor, char **next_cursor, struct cairn_err *err)
{
	*next_cursor = NULL;
	long long before_at = INT64_MAX;
	char before_id[128] = "";
	if (cursor && *cursor &&
	    (sscanf(cursor, "m:%lld:%127s", &before_at, before_id) != 2 || strlen(cursor) > sizeof before_id + 24)) {
		cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
			      "The cursor is not one this API returned; start again without it.");
		return NULL;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  MSG_JSON_COLS " WHERE m.workspace_id = ?1 AND (?2 = 0 OR m.profile_id = ?2)"
					" AND (?3 IS NULL OR m.journey_id = ?3) AND (?7 IS NULL OR m.status = ?7)"
					" AND (?8 IS NULL OR m.channel = ?8)"
					" AND (m.created_at < ?4 OR (m.created_at = ?4 AND m.message_id < ?5))"
					" ORDER BY m.created_at DESC, m.message_id DESC LIMIT ?6",
			  &s, err, "listing messages") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, f ? f->profile_id : 0);
	store_bind_text(s, 3, f ? f->journey_id : NULL);
	sqlite3_bind_int64(s, 4, before_at);
	store_bind_text(s, 5, before_id[0] ? before_id : "\x7f");
	sqlite3_bind_int(s, 6, limit + 1);
	store_bind_text(s, 7, f ? f->status : NULL);
	store_bind_text(s, 8, f ? f->channel : NULL);
	json_t *a = json_array();
	int rc;
	int64_t last_at = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((int)json_array_size(a) == limit) {
			json_t *last = json_array_get(a, json_array_size(a) - 1);
			char buf[200];
			snprintf(buf, sizeof buf, "m:%lld:%s", (long long)last_at,
				 json_string_value(json_object_get(last, "id")));
			*next_cursor = xstrdup(buf);
			break;
		}
		last_at = sqlite3_column_int64(s, 10);
		json_array_append_new(a, message_row_json(s));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		json_decref(a);
		free(*next_cursor);
		*next_cursor = NULL;
		store_sqlerr(c, err, "listing messages");
		return NULL;
	}
	return a;
}

json_t *store_message_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, MSG_JSON_COLS " WHERE m.workspace_id = ?1 AND m.message_id = ?2", ws, id, &s, err,
				"reading a message") < 0)
		return NULL;
	int r = sqlite3_step(s);
	json_t *m = r == SQLITE_ROW ? message_row_json(s) : NULL;
	int64_t created = r == SQLITE_ROW ? sqlite3_column_int64(s, 10) : 0;
	sqlite3_finalize(s);
	if (!m) {
		if (r == SQLITE_DONE)
			cairn_err_set(err, CAIRN_ENOTFOUND, "message_not_found", "id",
				      "There is no message %s in this workspace.", id);
		else
			store_sqlerr(c, err, "reading a message");
		return NULL;
	}
	json_t *h = json_array();
	json_array_append_new(h, json_pack("{s:s,s:o}", "status", "queued", "at", jsonx_time(created)));
	if (store_prepare(c,
			  "SELECT status, at, reason, provider_id, attempt FROM message_history WHERE message_id = ?1"
			  " ORDER BY id",
			  &s, err, "reading a message's history") < 0) {
		json_decref(h);
		json_decref(m);
		return NULL;
	}
	store_bind_text(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *e = json_pack("{s:s,s:o,s:i}", "status", sqlite3_column_text(s, 0), "at",
				      jsonx_time(sqlite3_column_int64(s, 1)), "attempt", sqlite3_column_int(s, 4));
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			json_object_set_new(e, "reason", text_or_null(s, 2));
		if (sqlite3_column_type(s, 3) != SQLITE_NULL)
			json_object_set_new(e, "provider_id", text_or_null(s, 3));
		json_array_append_new(h, e);
	}
	sqlite3_finalize(s);
	json_object_set_new(m, "history", h);
	return m;
}

int store_dlv_person(struct store *st, int64_t ws, int64_t profile_id, struct store_dlv_person *out,
		     struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_profile p;
	if (store_profile_get(st, profile_id, &p, err) < 0)
		return err->code ? err->code : CAIRN_EIO;
	out->traits = json_incref(p.traits);
	out->user_id = p.user_id ? xstrdup(p.user_id) : NULL;
	store_profile_release(&p);
	out->consent = json_pack("{s:{},s:{}}", "channel", "topic");
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "SELECT scope, name, status FROM consents WHERE workspace_id = ?1 AND profile_id = ?2", &s,
			  err, "reading consent") < 0) {
		store_dlv_person_release(out);
		return CAIRN_EIO;
	}
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *scope = json_object_get(out->consent, (const char *)sqlite3_column_text(s, 0));
		if (scope)
			json_object_set_new(scope, (const char *)sqlite3_column_text(s, 1), text_or_null(s, 2));
	}
	sqlite3_finalize(s);
	return 0;
}

void store_dlv_person_release(struct store_dlv_person *p)
{
	json_decref(p->traits);
	json_decref(p->consent);
	free(p->user_id);
	memset(p, 0, sizeof *p);
}

/* Every provider or domain change bumps one counter in engine_cursors
 * (same transaction as the change when there is one). */
static int config_bump(struct store_conn *c, struct cairn_err *err)
{
	static const char sql[] = "INSERT INTO engine_cursors (name, value) VALUES ('dlv_config', 1)"
				  " ON CONFLICT (name) DO UPDATE SET value = value + 1";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	return store_exec_stmt(c, s, err, "noting a delivery configuration change");
}

/* ---- providers ----------------------------------------------------------------------- */

void store_dlv_provider_release(struct store_dlv_provider *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->channel);
	free(p->type);
	free(p->name);
	json_decref(p->config);
	free(p->secret);
	memset(p, 0, sizeof *p);
}

int store_dlv_provider_put(struct store *st, const struct store_dlv_provider *p, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "INSERT OR REPLACE INTO providers (workspace_id, provider_id, channel, type, name, config, secret,"
		    " priority, disabled, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		    " ?11)",
		    &s, err, "saving a provider") < 0)
		return CAIRN_EIO;
	char *cfg = json_dumps(p->config, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_bind_int64(s, 1, p->ws);
	store_bind_text(s, 2, p->id);
	store_bind_text(s, 3, p->channel);
	store_bind_text(s, 4, p->type);
	store_bind_text(s, 5, p->name);
	sqlite3_bind_text(s, 6, cfg, -1, free);
	if (p->secret)
		sqlite3_bind_blob(s, 7, p->secret, (int)p->secret_len, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 8, p->priority);
	sqlite3_bind_int(s, 9, p->disabled);
	sqlite3_bind_int64(s, 10, p->created_at);
	sqlite3_bind_int64(s, 11, p->updated_at);
	if (store_run_finalize(c, s, err, "saving a provider") < 0)
		return CAIRN_EIO;
	return config_bump(c, err);
}

#define PROVIDER_COLS                                                                                                  \
	"SELECT workspace_id, provider_id, channel, type, name, config, secret, priority, disabled, created_at,"       \
	" updated_at FROM providers"

static void provider_read(sqlite3_stmt *s, struct store_dlv_provider *p)
{
	p->ws = sqlite3_column_int64(s, 0);
	p->id = store_col_dup(s, 1);
	p->channel = store_col_dup(s, 2);
	p->type = store_col_dup(s, 3);
	p->name = store_col_dup(s, 4);
	const char *cfg = (const char *)sqlite3_column_text(s, 5);
	p->config = cfg ? jsonx_loadb(cfg, strlen(cfg), 0, NULL) : NULL;
	if (!p->config)
		p->config = json_object();
	int n = sqlite3_column_bytes(s, 6);
	if (sqlite3_column_type(s, 6) != SQLITE_NULL && n > 0) {
		p->secret = xmalloc((size_t)n);
		memcpy(p->secret, sqlite3_column_blob(s, 6), (size_t)n);
		p->secret_len = (size_t)n;
	}
	p->priority = sqlite3_column_int(s, 7);
	p->disabled = sqlite3_column_int(s, 8);
	p->created_at = sqlite3_column_int64(s, 9);
	p->updated_at = sqlite3_column_int64(s, 10);
}

int store_dlv_provider_get(struct store *st, int64_t ws, const char *id, struct store_dlv_provider *out,
			   struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, PROVIDER_COLS " WHERE workspace_id = ?1 AND provider_id = ?2", ws, id, &s, err,
				"reading a provider") < 0)
		return CAIRN_EIO;
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		provider_read(s, out);
	sqlite3_finalize(s);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "provider_not_found", "id",
				     "There is no provider %s in this workspace.", id);
	return store_sqlerr(c, err, "reading a provider");
}

int store_dlv_provider_delete(struct store *st, int64_t ws, const char *id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "DELETE FROM providers WHERE workspace_id = ?1 AND provider_id = ?2", ws, id, &s,
				err, "deleting a provider") < 0)
		return CAIRN_EIO;
	if (store_run_finalize(c, s, err, "deleting a provider") < 0)
		return CAIRN_EIO;
	if (sqlite3_changes(c->db) == 0)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "provider_not_found", "id",
				     "There is no provider %s in this workspace.", id);
	return config_bump(c, err);
}

int store_dlv_providers(struct store *st, int64_t ws, const char *channel, struct store_dlv_provider **out, size_t *n,
			struct cairn_err *err)
{
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  PROVIDER_COLS " WHERE (?1 = 0 OR workspace_id = ?1) AND (?2 IS NULL OR channel = ?2)"
					" ORDER BY workspace_id, channel, priority, created_at, provider_id",
			  &s, err, "listing providers") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, channel);
	size_t cap = 0, k = 0;
	struct store_dlv_provider *v = NULL;
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof *v);
		}
		memset(&v[k], 0, sizeof v[k]);
		provider_read(s, &v[k++]);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		for (size_t i = 0; i < k; i++)
			store_dlv_provider_release(&v[i]);
		free(v);
		return store_sqlerr(c, err, "listing providers");
	}
	*out = v;
	*n = k;
	return 0;
}

int64_t store_dlv_config_version(struct store *st)
{
	return store_cursor_get(st, "dlv_config");
}

/* ---- sender domains ---------------------------------------------------------------------- */

void store_dlv_domain_release(struct store_dlv_domain *d)
{
	if (!d)
		return;
	free(d->domain);
	free(d->selector);
	free(d->algorithm);
	free(d->dns_value);
	if (d->private_key)
		explicit_bzero(d->private_key, d->private_key_len);
	free(d->private_key);
	memset(d, 0, sizeof *d);
}

int store_dlv_domain_put(struct store *st, const struct store_dlv_domain *d, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "INSERT OR REPLACE INTO domains (workspace_id, domain, selector, algorithm, dns_value,"
			  " private_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			  &s, err, "saving a domain") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, d->ws);
	store_bind_text(s, 2, d->domain);
	store_bind_text(s, 3, d->selector);
	store_bind_text(s, 4, d->algorithm);
	store_bind_text(s, 5, d->dns_value);
	sqlite3_bind_blob(s, 6, d->private_key, (int)d->private_key_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, d->created_at);
	if (store_run_finalize(c, s, err, "saving a domain") < 0)
		return CAIRN_EIO;
	return config_bump(c, err);
}

int store_dlv_domain_get(struct store *st, int64_t ws, const char *domain, struct store_dlv_domain *out,
			 struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c,
				"SELECT domain, selector, algorithm, dns_value, private_key, created_at FROM domains"
				" WHERE workspace_id = ?1 AND domain = ?2",
				ws, domain, &s, err, "reading a domain") < 0)
		return CAIRN_EIO;
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		out->ws = ws;
		out->domain = store_col_dup(s, 0);
		out->selector = store_col_dup(s, 1);
		out->algorithm = store_col_dup(s, 2);
		out->dns_value = store_col_dup(s, 3);
		out->private_key_len = (size_t)sqlite3_column_bytes(s, 4);
		out->private_key = xmalloc(out->private_key_len + 1);
		memcpy(out->private_key, sqlite3_column_blob(s, 4), out->private_key_len);
		out->created_at = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "domain_not_found", "domain",
				     "There is no sender domain %s in this workspace.", domain);
	return store_sqlerr(c, err, "reading a domain");
}

int store_dlv_domain_delete(struct store *st, int64_t ws, const char *domain, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare_ws_id(c, "DELETE FROM domains WHERE workspace_id = ?1 AND domain = ?2", ws, domain, &s, err,
				"deleting a domain") < 0)
		return CAIRN_EIO;
	if (store_run_finalize(c, s, err, "deleting a domain") < 0)
		return CAIRN_EIO;
	if (sqlite3_changes(c->db) == 0)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "domain_not_found", "domain",
				     "There is no sender domain %s in this workspace.", domain);
	return config_bump(c, err);
}

json_t *store_dlv_domains_json(struct store *st, int64_t ws, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "SELECT domain, selector, algorithm, dns_value, created_at FROM domains WHERE workspace_id = ?1"
		    " ORDER BY domain",
		    &s, err, "listing domains") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	json_t *a = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		char name[600];
		snprintf(name, sizeof name, "%s._domainkey.%s", sqlite3_column_text(s, 1), sqlite3_column_text(s, 0));
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s}],s:o}", "domain",
						   sqlite3_column_text(s, 0), "selector", sqlite3_column_text(s, 1),
						   "algorithm", sqlite3_column_text(s, 2), "dns_records", "type", "TXT",
						   "name", name, "value", sqlite3_column_text(s, 3), "created_at",
						   jsonx_time(sqlite3_column_int64(s, 4))));
	}
	sqlite3_finalize(s);
	return a;
}

/* ---- suppressions ------------------------------------------------------------------------ */

int store_dlv_suppress(struct store *st, int64_t ws, const char *channel, const char *address, const char *reason,
		       const char *message_id, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	static const char sql[] =
		"INSERT INTO suppressions (workspace_id, channel, address, reason, message_id, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, channel);
	store_bind_text(s, 3, address);
	store_bind_text(s, 4, reason);
	store_bind_text(s, 5, message_id);
	sqlite3_bind_int64(s, 6, now);
	return store_exec_stmt(c, s, err, "suppressing an address");
}

int store_dlv_suppressed(struct store *st, int64_t ws, const char *channel, const char *address, char *reason,
			 size_t cap, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	static const char sql[] =
		"SELECT reason FROM suppressions WHERE workspace_id = ?1 AND channel = ?2 AND address = ?3";
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, channel);
	store_bind_text(s, 3, address);
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW && cap)
		snprintf(reason, cap, "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return 1;
	return r == SQLITE_DONE ? 0 : store_sqlerr(c, err, "reading suppressions");
}

int store_dlv_unsuppress(struct store *st, int64_t ws, const char *channel, const char *address, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "DELETE FROM suppressions WHERE workspace_id = ?1 AND channel = ?2 AND address = ?3", &s,
			  err, "removing a suppression") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, channel);
	store_bind_text(s, 3, address);
	if (store_run_finalize(c, s, err, "removing a suppression") < 0)
		return CAIRN_EIO;
	if (sqlite3_changes(c->db) == 0)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "suppression_not_found", "address",
				     "%s is not on the %s suppression list.", address, channel);
	return 0;
}

json_t *store_dlv_suppressions_json(struct store *st, int64_t ws, int limit, const char *cursor, char **next_cursor,
				    struct cairn_err *err)
{
	*next_cursor = NULL;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT channel, address, reason, message_id, created_at FROM suppressions"
			  " WHERE workspace_id = ?1 AND (channel || ' ' || address) > ?2"
			  " ORDER BY channel || ' ' || address LIMIT ?3",
			  &s, err, "listing suppressions") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, cursor ? cursor : "");
	sqlite3_bind_int(s, 3, limit + 1);
	json_t *a = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		if ((int)json_array_size(a) == limit) {
			json_t *last = json_array_get(a, json_array_size(a) - 1);
			char buf[600];
			snprintf(buf, sizeof buf, "%s %s", json_string_value(json_object_get(last, "channel")),
				 json_string_value(json_object_get(last, "address")));
			*next_cursor = xstrdup(buf);
			break;
		}
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:o,s:o}", "channel", sqlite3_column_text(s, 0),
						   "address", sqlite3_column_text(s, 1), "reason",
						   sqlite3_column_text(s, 2), "message_id", text_or_null(s, 3),
						   "created_at", jsonx_time(sqlite3_column_int64(s, 4))));
	}
	sqlite3_finalize(s);
	return a;
}
