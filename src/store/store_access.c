/* store_access.c — members, sessions and API keys (store_access.h). */
#include "store/store_access.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "store/store_int.h"

void store_member_release(struct store_member *m)
{
	free(m->email);
	free(m->role);
	free(m->password_hash);
	free(m->workspace);
	memset(m, 0, sizeof *m);
}

static int member_query(struct store *st, const char *sql, const char *email, int64_t id, struct store_member *m,
			struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	memset(m, 0, sizeof *m);
	if (store_prepare(c, sql, &s, err, "reading a member") < 0)
		return CAIRN_EIO;
	if (email)
		store_bind_text(s, 1, email);
	else
		sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		m->member_id = sqlite3_column_int64(s, 0);
		m->workspace_id = sqlite3_column_int64(s, 1);
		m->email = store_col_dup(s, 2);
		m->role = store_col_dup(s, 3);
		m->password_hash = store_col_dup(s, 4);
		m->workspace = store_col_dup(s, 5);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return CAIRN_ENOTFOUND;
	return store_sqlerr(c, err, "reading a member");
}

#define MEMBER_COLS                                                                                                    \
	"SELECT m.member_id, m.workspace_id, m.email, m.role, m.password_hash, w.name FROM members m"                   \
	" JOIN workspaces w ON w.workspace_id = m.workspace_id"

int store_member_find(struct store *st, const char *email, struct store_member *m, struct cairn_err *err)
{
	return member_query(st, MEMBER_COLS " WHERE m.email = ? COLLATE NOCASE ORDER BY m.member_id LIMIT 1", email, 0,
			    m, err);
}

int store_member_get(struct store *st, int64_t member_id, struct store_member *m, struct cairn_err *err)
{
	return member_query(st, MEMBER_COLS " WHERE m.member_id = ?", NULL, member_id, m, err);
}

int store_session_put(struct store *st, const unsigned char hash[32], int64_t ws, int64_t member_id, const char *csrf,
		      int64_t now, int64_t expires_at, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	/* expired sessions go as new ones come: the table stays small */
	if (store_prepare(c, "DELETE FROM sessions WHERE expires_at <= ?", &s, err, "pruning sessions") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	if (store_run_finalize(c, s, err, "pruning sessions") < 0)
		return CAIRN_EIO;
	if (store_prepare(c,
			  "INSERT INTO sessions (token_hash, workspace_id, member_id, csrf, created_at, expires_at)"
			  " VALUES (?,?,?,?,?,?)",
			  &s, err, "saving a session") < 0)
		return CAIRN_EIO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ws);
	sqlite3_bind_int64(s, 3, member_id);
	store_bind_text(s, 4, csrf);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, expires_at);
	return store_run_finalize(c, s, err, "saving a session");
}

int store_session_get(struct store *st, const unsigned char hash[32], int64_t now, int64_t *ws, int64_t *member_id,
		      char csrf[64], struct cairn_err *err)
{
	static const char sql[] =
		"SELECT workspace_id, member_id, csrf FROM sessions WHERE token_hash = ? AND expires_at > ?";
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, sql, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ws = sqlite3_column_int64(s, 0);
		*member_id = sqlite3_column_int64(s, 1);
		const char *t = (const char *)sqlite3_column_text(s, 2);
		snprintf(csrf, 64, "%s", t ? t : "");
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return CAIRN_ENOTFOUND;
	return store_sqlerr(c, err, "checking a session");
}

int store_session_delete(struct store *st, const unsigned char hash[32], struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c, "DELETE FROM sessions WHERE token_hash = ?", &s, err, "ending a session") < 0)
		return CAIRN_EIO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	return store_run_finalize(c, s, err, "ending a session");
}

json_t *store_keys_json(struct store *st, int64_t ws, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT key_id, kind, prefix, created_at, revoked_at FROM api_keys WHERE workspace_id = ?"
			  " ORDER BY key_id DESC",
			  &s, err, "listing keys") < 0)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	json_t *data = json_array();
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *k = json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0), "kind",
				      sqlite3_column_int(s, 1) == STORE_KEY_SECRET ? "secret" : "write", "prefix",
				      (const char *)sqlite3_column_text(s, 2), "created_at",
				      jsonx_time(sqlite3_column_int64(s, 3)));
		json_object_set_new(k, "revoked_at",
				    sqlite3_column_type(s, 4) == SQLITE_NULL ? json_null()
									     : jsonx_time(sqlite3_column_int64(s, 4)));
		json_array_append_new(data, k);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(data);
		store_sqlerr(c, err, "listing keys");
		return NULL;
	}
	return json_pack("{s:o}", "data", data);
}

int store_key_create(struct store *st, int64_t ws, enum store_key_kind kind, const unsigned char hash[32],
		     const char *prefix, int64_t now, int64_t *id, struct cairn_err *err)
{
	int rc = store_key_add(st, ws, kind, hash, prefix, 0, now, err);
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(store_conn(st)->db);
	return rc;
}

int store_key_revoke(struct store *st, int64_t ws, int64_t id, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	/* the last live key of its kind stays: the workspace would be locked out */
	if (store_prepare(c,
			  "SELECT k.kind, k.revoked_at, (SELECT count(*) FROM api_keys o WHERE o.workspace_id = k.workspace_id"
			  " AND o.kind = k.kind AND o.revoked_at IS NULL) FROM api_keys k WHERE k.workspace_id = ? AND"
			  " k.key_id = ?",
			  &s, err, "revoking a key") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, id);
	int rc = sqlite3_step(s);
	int live = rc == SQLITE_ROW ? sqlite3_column_int(s, 2) : 0;
	int revoked = rc == SQLITE_ROW && sqlite3_column_type(s, 1) != SQLITE_NULL;
	int kind = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "not_found", "id", "There is no key %lld.", (long long)id);
	if (rc != SQLITE_ROW)
		return store_sqlerr(c, err, "revoking a key");
	if (revoked)
		return 0;
	if (live <= 1)
		return cairn_err_set(err, CAIRN_ECONFLICT, "last_key", "id",
				     "This is the workspace's last %s key; create another before revoking it.",
				     kind == STORE_KEY_SECRET ? "secret" : "write");
	if (store_prepare(c, "UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND key_id = ?", &s, err,
			  "revoking a key") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, ws);
	sqlite3_bind_int64(s, 3, id);
	return store_run_finalize(c, s, err, "revoking a key");
}
