/* store_profile.c — workspaces, keys, members, profiles and identity. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_seg_live.h"
#include "store/store_segment.h"

/* ---- workspaces, keys, members (management; own short transactions) ------ */

static int run(struct store_conn *c, const char *sql, struct cairn_err *err, const char *what, sqlite3_stmt **out)
{
	*out = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, out, NULL) != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return store_sqlerr(c, err, what);
	}
	return 0;
}

int store_workspace_create(struct store *st, const char *name, int64_t now, int64_t *ws_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (run(c, "INSERT INTO workspaces (name, created_at) VALUES (?, ?)", err, "creating a workspace", &s) < 0)
		return CAIRN_EIO;
	store_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, now);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return cairn_err_set(err, CAIRN_ECONFLICT, "workspace_exists", "name",
				     "A workspace named '%s' already exists.", name);
	if (rc != SQLITE_DONE)
		return store_sqlerr(c, err, "creating a workspace");
	*ws_id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

int store_workspace_find(struct store *st, const char *name, int64_t *ws_id, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (run(c, "SELECT workspace_id FROM workspaces WHERE name = ?", err, "finding a workspace", &s) < 0)
		return CAIRN_EIO;
	store_bind_text(s, 1, name);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ws_id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "workspace_not_found", "",
				     "There is no workspace named '%s'.", name);
	return store_sqlerr(c, err, "finding a workspace");
}

int store_key_add(struct store *st, int64_t ws, enum store_key_kind kind, const unsigned char hash[32],
		  const char *prefix, int revoke_old, int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (revoke_old) {
		if (run(c,
			"UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND kind = ? AND revoked_at IS NULL",
			err, "revoking keys", &s) < 0)
			return CAIRN_EIO;
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int64(s, 2, ws);
		sqlite3_bind_int(s, 3, kind);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return store_sqlerr(c, err, "revoking keys");
	}
	if (run(c, "INSERT INTO api_keys (workspace_id, kind, hash, prefix, created_at) VALUES (?,?,?,?,?)", err,
		"adding a key", &s) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int(s, 2, kind);
	sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
	store_bind_text(s, 4, prefix);
	sqlite3_bind_int64(s, 5, now);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "adding a key");
}

int store_key_lookup(struct store *st, const unsigned char hash[32], int64_t *ws, int *kind, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (run(c, "SELECT workspace_id, kind FROM api_keys WHERE hash = ? AND revoked_at IS NULL", err,
		"checking a key", &s) < 0)
		return CAIRN_EIO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ws = sqlite3_column_int64(s, 0);
		*kind = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return CAIRN_ENOTFOUND;
	return store_sqlerr(c, err, "checking a key");
}

int store_member_put(struct store *st, int64_t ws, const char *email, const char *pwhash, const char *role, int64_t now,
		     struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (run(c,
		"INSERT INTO members (workspace_id, email, password_hash, role, created_at) VALUES (?,?,?,?,?)"
		" ON CONFLICT (workspace_id, email) DO UPDATE SET password_hash = excluded.password_hash,"
		" role = excluded.role",
		err, "saving a member", &s) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, email);
	store_bind_text(s, 3, pwhash);
	store_bind_text(s, 4, role);
	sqlite3_bind_int64(s, 5, now);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "saving a member");
}

/* One profile's search row: the old one removed (if any), the new one
 * written (if the profile still exists). The text is read first and
 * inserted as a value: an INSERT … SELECT into FTS5 with the text's
 * subqueries costs several times more. */
static int search_row(struct store_conn *c, int64_t id, struct cairn_err *err)
{
	static const char sql_has[] = "SELECT 1 FROM profile_search_content WHERE id = ?";
	static const char sql_del[] = "DELETE FROM profile_search WHERE rowid = ?";
	static const char sql_text[] = "SELECT " PROFILE_SEARCH_TEXT " FROM profiles p WHERE p.profile_id = ?";
	static const char sql_ins[] = "INSERT INTO profile_search (rowid, text) VALUES (?, ?)";
	sqlite3_stmt *has = store_cached(c, sql_has, err), *del = store_cached(c, sql_del, err),
		     *text = store_cached(c, sql_text, err), *ins = store_cached(c, sql_ins, err);
	if (!has || !del || !text || !ins)
		return CAIRN_EIO;
	sqlite3_bind_int64(has, 1, id);
	int rc = sqlite3_step(has);
	sqlite3_reset(has);
	if (rc == SQLITE_ROW) { /* indexed before: remove the old row */
		sqlite3_bind_int64(del, 1, id);
		rc = sqlite3_step(del);
		sqlite3_reset(del);
	}
	if (rc != SQLITE_DONE)
		return store_sqlerr(c, err, "indexing people for search");
	sqlite3_bind_int64(text, 1, id);
	rc = sqlite3_step(text);
	if (rc == SQLITE_ROW) {
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_value(ins, 2, sqlite3_column_value(text, 1));
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_reset(text);
	return rc == SQLITE_DONE ? 0 : store_sqlerr(c, err, "indexing people for search");
}

int store_search_index(struct store *st, int max, struct cairn_err *err)
{
	static const char sql_ids[] = "SELECT profile_id FROM profile_search_dirty ORDER BY profile_id LIMIT ?";
	static const char sql_done[] = "DELETE FROM profile_search_dirty WHERE profile_id <= ?";
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_cached(c, sql_ids, err);
	if (!s)
		return CAIRN_EIO;
	sqlite3_bind_int(s, 1, 1);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0; /* nothing waits: no write transaction */
	if (rc != SQLITE_ROW)
		return store_sqlerr(c, err, "reading the search queue");
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	int n = 0;
	int64_t last = 0;
	sqlite3_bind_int(s, 1, max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		last = sqlite3_column_int64(s, 0);
		if (search_row(c, last, err) < 0) {
			sqlite3_reset(s);
			goto fail;
		}
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(c, err, "reading the search queue");
		goto fail;
	}
	sqlite3_stmt *done = store_cached(c, sql_done, err);
	if (!done)
		goto fail;
	sqlite3_bind_int64(done, 1, last);
	rc = sqlite3_step(done);
	sqlite3_reset(done);
	if (rc != SQLITE_DONE) {
		store_sqlerr(c, err, "emptying the search queue");
		goto fail;
	}
	if (store_commit(st, err) < 0)
		return CAIRN_EIO;
	return n;
fail:
	store_rollback(st);
	return CAIRN_EIO;
}

/* ---- profiles and identity ------------------------------------------------ */

void store_profile_release(struct store_profile *p)
{
	free(p->user_id);
	free(p->lifecycle);
	json_decref(p->traits);
	memset(p, 0, sizeof *p);
}

int store_identity_find(struct store *st, int64_t ws, const char *kind, const char *value, int64_t *profile_id)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_IDENTITY_FIND);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, value);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*profile_id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : CAIRN_ENOTFOUND;
}

int store_identity_link(struct store *st, int64_t ws, const char *kind, const char *value, int64_t profile_id,
			int64_t now, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_IDENTITY_LINK);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, value);
	sqlite3_bind_int64(s, 4, profile_id);
	sqlite3_bind_int64(s, 5, now);
	return store_exec_stmt(c, s, err, "linking an identity");
}

int store_profile_create(struct store *st, int64_t ws, const char *user_id, int64_t now, int64_t *profile_id,
			 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_PROFILE_CREATE);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, user_id);
	for (int i = 3; i <= 6; i++)
		sqlite3_bind_int64(s, i, now);
	if (store_exec_stmt(c, s, err, "creating a profile") < 0)
		return CAIRN_EIO;
	*profile_id = sqlite3_last_insert_rowid(c->db);
	store_touch(st, ws, *profile_id);
	return 0;
}

static char *dup_col(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? xstrdup(t) : NULL;
}

int store_profile_get(struct store *st, int64_t profile_id, struct store_profile *out, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_PROFILE_GET);
	sqlite3_bind_int64(s, 1, profile_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return cairn_err_set(err, CAIRN_ENOTFOUND, "not_found", "", "No such profile.");
		return store_sqlerr(c, err, "reading a profile");
	}
	memset(out, 0, sizeof *out);
	out->profile_id = profile_id;
	out->workspace_id = sqlite3_column_int64(s, 0);
	out->user_id = dup_col(s, 1);
	const char *traits = (const char *)sqlite3_column_text(s, 2);
	out->traits = traits ? jsonx_loadb(traits, strlen(traits), 0, NULL) : NULL;
	if (!out->traits)
		out->traits = json_object();
	out->lifecycle = dup_col(s, 3);
	out->first_seen = sqlite3_column_int64(s, 4);
	out->last_seen = sqlite3_column_int64(s, 5);
	out->created_at = sqlite3_column_int64(s, 6);
	out->updated_at = sqlite3_column_int64(s, 7);
	sqlite3_reset(s);
	return 0;
}

static char *lower_ascii(const char *s)
{
	if (!s)
		return NULL;
	char *r = xstrdup(s);
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static char *trait_str(json_t *traits, const char *k)
{
	json_t *v = json_object_get(traits, k);
	if (json_is_string(v) && json_string_length(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		char n[32];
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
		return xstrdup(n);
	}
	return NULL;
}

/* Phone numbers are stored for search as digits only ("+82 10-1234-5678"
 * → "821012345678"). Takes ownership of s. */
static char *digits_only(char *s)
{
	if (!s)
		return NULL;
	char *o = s;
	for (const char *i = s; *i; i++)
		if (*i >= '0' && *i <= '9')
			*o++ = *i;
	*o = '\0';
	return s;
}

/* The display name: `name`, else "first last" (Korean names are usually
 * given family name first as one `name`; both are searchable). */
static char *derived_name(json_t *traits)
{
	char *name = trait_str(traits, "name");
	if (name)
		return name;
	char *first = trait_str(traits, "first_name"), *last = trait_str(traits, "last_name");
	if (!first && !last)
		return NULL;
	size_t n = (first ? strlen(first) : 0) + (last ? strlen(last) : 0) + 2;
	char *r = xmalloc(n);
	snprintf(r, n, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
	free(first);
	free(last);
	return r;
}

int store_profile_put(struct store *st, const struct store_profile *p, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	char *traits = json_dumps(p->traits ? p->traits : json_object(), JSON_COMPACT);
	char *raw_email = trait_str(p->traits, "email");
	char *email = lower_ascii(raw_email);
	char *phone = digits_only(trait_str(p->traits, "phone"));
	char *name = derived_name(p->traits);
	sqlite3_stmt *s = store_stmt(c, S_PROFILE_PUT);
	store_bind_text(s, 1, p->user_id);
	store_bind_text(s, 2, traits);
	store_bind_text(s, 3, p->lifecycle);
	sqlite3_bind_int64(s, 4, p->first_seen);
	sqlite3_bind_int64(s, 5, p->last_seen);
	sqlite3_bind_int64(s, 6, p->updated_at);
	store_bind_text(s, 7, email);
	store_bind_text(s, 8, phone);
	store_bind_text(s, 9, name);
	sqlite3_bind_int64(s, 10, p->profile_id);
	int rc = store_exec_stmt(c, s, err, "saving a profile");
	store_touch(st, p->workspace_id, p->profile_id);
	free(traits);
	free(raw_email);
	free(email);
	free(phone);
	free(name);
	return rc;
}

int store_profile_merge(struct store *st, int64_t ws, int64_t from, int64_t into, struct cairn_err *err)
{
	static const char *const moves[] = {
		"UPDATE identities SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE timeline SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		/* the known user's own consent wins over the anonymous one */
		"UPDATE OR IGNORE consents SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM consents WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE OR IGNORE profile_tags SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM profile_tags WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE OR IGNORE group_members SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM group_members WHERE workspace_id = ?3 AND profile_id = ?1",
		/* a user's journeys follow them into the merged profile */
		"UPDATE jny_instances SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE jny_steps SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE messages SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE OR IGNORE jny_entries SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM jny_entries WHERE workspace_id = ?3 AND profile_id = ?1",
		"UPDATE OR IGNORE jny_schedules SET profile_id = ?2 WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM jny_schedules WHERE workspace_id = ?3 AND profile_id = ?1",
		"DELETE FROM profiles WHERE workspace_id = ?3 AND profile_id = ?1",
	};
	struct store_conn *c = store_conn(st);
	store_touch(st, ws, from);
	store_touch(st, ws, into);
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
		sqlite3_stmt *s;
		if (run(c, moves[i], err, "merging profiles", &s) < 0)
			return CAIRN_EIO;
		sqlite3_bind_int64(s, 1, from);
		sqlite3_bind_int64(s, 2, into);
		sqlite3_bind_int64(s, 3, ws);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return store_sqlerr(c, err, "merging profiles");
	}
	/* the per-user aggregates behind computed traits move too; the merged
	 * profile leaves its segments (the survivor is re-evaluated by the
	 * engine right after, for the event that caused the merge) */
	if (store_seg_merge(st, ws, from, into, err) < 0 ||
	    store_seg_profile_forget(st, ws, from, clock_now_ms(), err) < 0)
		return CAIRN_EIO;
	return 0;
}

int store_timeline_add(struct store *st, int64_t ws, int64_t profile_id, const struct store_event *ev,
		       struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_TIMELINE_ADD);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	sqlite3_bind_int64(s, 3, ev->id);
	store_bind_text(s, 4, ev->type);
	store_bind_text(s, 5, ev->name);
	sqlite3_bind_int64(s, 6, ev->ts);
	return store_exec_stmt(c, s, err, "adding to a timeline");
}

int store_consent_put(struct store *st, int64_t ws, int64_t profile_id, const char *scope, const char *name,
		      const char *status, int64_t at, const char *source, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_CONSENT_PUT);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, scope);
	store_bind_text(s, 4, name);
	store_bind_text(s, 5, status);
	sqlite3_bind_int64(s, 6, at);
	store_bind_text(s, 7, source);
	return store_exec_stmt(c, s, err, "recording consent");
}

int store_tag_add(struct store *st, int64_t ws, int64_t profile_id, const char *tag, int64_t at, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_TAG_ADD);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, tag);
	sqlite3_bind_int64(s, 4, at);
	int rc = store_exec_stmt(c, s, err, "adding a tag");
	store_touch(st, ws, profile_id);
	return rc;
}

int store_tag_remove(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_TAG_REMOVE);
	sqlite3_bind_int64(s, 1, ws);
	sqlite3_bind_int64(s, 2, profile_id);
	store_bind_text(s, 3, tag);
	int rc = store_exec_stmt(c, s, err, "removing a tag");
	store_touch(st, ws, profile_id);
	return rc;
}

int store_group_put(struct store *st, int64_t ws, const char *group_id, json_t *traits, int64_t now,
		    struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	/* merge with the traits already stored */
	sqlite3_stmt *q;
	json_t *merged = NULL;
	if (run(c, "SELECT traits FROM groups WHERE workspace_id = ? AND group_id = ?", err, "reading a group", &q) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(q, 1, ws);
	store_bind_text(q, 2, group_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		merged = jsonx_loadb((const char *)sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0), 0,
				     NULL);
	sqlite3_finalize(q);
	if (!merged)
		merged = json_object();
	if (json_is_object(traits))
		json_object_update(merged, traits);
	char *text = json_dumps(merged, JSON_COMPACT);
	json_decref(merged);
	sqlite3_stmt *s = store_stmt(c, S_GROUP_PUT);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, group_id);
	store_bind_text(s, 3, text);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, now);
	int rc = store_exec_stmt(c, s, err, "saving a group");
	free(text);
	return rc;
}

int store_group_member_add(struct store *st, int64_t ws, const char *group_id, int64_t profile_id, int64_t now,
			   struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_GROUP_MEMBER_ADD);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, group_id);
	sqlite3_bind_int64(s, 3, profile_id);
	sqlite3_bind_int64(s, 4, now);
	return store_exec_stmt(c, s, err, "joining a group");
}
