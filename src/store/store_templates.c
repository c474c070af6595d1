/* store_templates.c — templates and their immutable versions: every line of
 * template SQL. See store_templates.h for the tables and invariants.
 *
 * Writes take state.db's write lock first (store_begin), then read the
 * template's row and decide: no two writers can both see version N and both
 * write N + 1. Reads need no transaction: each statement sees one WAL
 * snapshot, and a version row never changes once written. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "store/store_int.h"
#include "store/store_templates.h"

/* Columns every version read selects, in this order (see read_version). */
#define VERSION_COLS                                                                                                   \
	"v.template_id, v.version, v.name, v.channel, v.locale, v.body, v.created_at, t.created_at, t.version,"        \
	" t.archived_at"
#define VERSION_JOIN                                                                                                   \
	" FROM template_versions v JOIN templates t ON t.workspace_id = v.workspace_id"                                \
	" AND t.template_id = v.template_id"

void store_template_release(struct store_template *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->channel);
	free(t->locale);
	json_decref(t->body);
	memset(t, 0, sizeof *t);
}

void store_template_page_release(struct store_template_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		store_template_release(&p->items[i]);
	free(p->items);
	free(p->next_cursor);
	memset(p, 0, sizeof *p);
}

/* Fills out from a row of VERSION_COLS; with_body 0 skips the body. */
static void read_version(sqlite3_stmt *s, int with_body, struct store_template *out)
{
	memset(out, 0, sizeof *out);
	out->id = store_col_dup(s, 0);
	out->version = sqlite3_column_int64(s, 1);
	out->name = store_col_dup(s, 2);
	out->channel = store_col_dup(s, 3);
	out->locale = store_col_dup(s, 4);
	if (with_body) {
		const char *b = (const char *)sqlite3_column_text(s, 5);
		out->body = b ? jsonx_loadb(b, (size_t)sqlite3_column_bytes(s, 5), 0, NULL) : NULL;
		if (!out->body)
			out->body = json_object();
	}
	out->updated_at = sqlite3_column_int64(s, 6);
	out->created_at = sqlite3_column_int64(s, 7);
	out->latest_version = sqlite3_column_int64(s, 8);
	out->archived_at = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 9);
}

/* One version (0 = latest) of id, archived or not: 0, CAIRN_ENOTFOUND
 * (err untouched) or CAIRN_EIO. */
static int load_version(struct store_conn *c, int64_t ws, const char *id, int64_t version, struct store_template *out,
			struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT " VERSION_COLS VERSION_JOIN " WHERE v.workspace_id = ?1 AND v.template_id = ?2"
			  " AND v.version = CASE WHEN ?3 > 0 THEN ?3 ELSE t.version END",
			  &s, err, "reading a template") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, id);
	sqlite3_bind_int64(s, 3, version);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_version(s, 1, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return CAIRN_ENOTFOUND;
	return store_sqlerr(c, err, "reading a template");
}

static int same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether d would save exactly what v holds. */
static int draft_equals(const struct store_template_draft *d, const struct store_template *v)
{
	return same_str(d->name, v->name) && same_str(d->channel, v->channel) && same_str(d->locale, v->locale) &&
	       json_equal(d->body, v->body);
}

static int insert_version(struct store_conn *c, int64_t ws, const struct store_template_draft *d, int64_t version,
			  int64_t now, struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "INSERT INTO template_versions (workspace_id, template_id, version, name, channel, locale, body,"
		    " created_at) VALUES (?,?,?,?,?,?,?,?)",
		    &s, err, "saving a template version") < 0)
		return CAIRN_EIO;
	char *body = json_dumps(d->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, d->id);
	sqlite3_bind_int64(s, 3, version);
	store_bind_text(s, 4, d->name);
	store_bind_text(s, 5, d->channel);
	store_bind_text(s, 6, d->locale);
	sqlite3_bind_text(s, 7, body ? body : "{}", -1, free);
	sqlite3_bind_int64(s, 8, now);
	int rc = store_exec_stmt(c, s, err, "saving a template version");
	sqlite3_finalize(s);
	return rc;
}

/* Points the templates row at version (inserting it for version 1 of a new
 * id) and clears archived_at. */
static int put_head(struct store_conn *c, int64_t ws, const struct store_template_draft *d, int64_t version,
		    int64_t now, struct cairn_err *err)
{
	sqlite3_stmt *s;
	if (store_prepare(
		    c,
		    "INSERT INTO templates (workspace_id, template_id, name, channel, locale, version, created_at,"
		    " updated_at, archived_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?7,NULL)"
		    " ON CONFLICT (workspace_id, template_id) DO UPDATE SET name = excluded.name,"
		    " channel = excluded.channel, locale = excluded.locale, version = excluded.version,"
		    " updated_at = excluded.updated_at, archived_at = NULL",
		    &s, err, "saving a template") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, d->id);
	store_bind_text(s, 3, d->name);
	store_bind_text(s, 4, d->channel);
	store_bind_text(s, 5, d->locale);
	sqlite3_bind_int64(s, 6, version);
	sqlite3_bind_int64(s, 7, now);
	int rc = store_exec_stmt(c, s, err, "saving a template");
	sqlite3_finalize(s);
	return rc;
}

/* Writes version `version` of d and moves the head to it, then reads it
 * back into out. Inside the caller's transaction. */
static int write_version(struct store_conn *c, int64_t ws, const struct store_template_draft *d, int64_t version,
			 int64_t now, struct store_template *out, struct cairn_err *err)
{
	if (insert_version(c, ws, d, version, now, err) < 0)
		return CAIRN_EIO;
	if (put_head(c, ws, d, version, now, err) < 0)
		return CAIRN_EIO;
	int rc = load_version(c, ws, d->id, version, out, err);
	if (rc == CAIRN_ENOTFOUND)
		return store_sqlerr(c, err, "reading back a template");
	return rc;
}

int store_template_create(struct store *st, int64_t ws, const struct store_template_draft *d, int restore, int64_t now,
			  struct store_template *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	struct store_conn *c = store_conn(st);
	struct store_template cur;
	int rc = load_version(c, ws, d->id, 0, &cur, err);
	int64_t version = 1;
	if (rc == 0) {
		int live = cur.archived_at == 0;
		version = cur.latest_version + 1;
		store_template_release(&cur);
		if (live || !restore) {
			store_rollback(st);
			if (!live)
				return cairn_err_set(err, CAIRN_ECONFLICT, "template_exists", "id",
						     "Template id '%s' belongs to a deleted (archived) template.",
						     d->id);
			return cairn_err_set(err, CAIRN_ECONFLICT, "template_exists", "id",
					     "A template with id '%s' already exists; update it with PUT "
					     "/api/v1/templates/%s or choose another id.",
					     d->id, d->id);
		}
	} else if (rc != CAIRN_ENOTFOUND) {
		store_rollback(st);
		return rc;
	}
	rc = write_version(c, ws, d, version, now, out, err);
	if (rc == 0)
		rc = store_commit(st, err);
	else
		store_rollback(st);
	if (rc < 0)
		store_template_release(out);
	return rc;
}

int store_template_update(struct store *st, int64_t ws, const struct store_template_draft *d, int64_t expect_version,
			  int64_t now, struct store_template *out, int *created, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	*created = 0;
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	struct store_conn *c = store_conn(st);
	struct store_template cur;
	int rc = load_version(c, ws, d->id, 0, &cur, err);
	if (rc == 0 && cur.archived_at) {
		store_template_release(&cur);
		rc = CAIRN_ENOTFOUND;
	}
	if (rc < 0) {
		store_rollback(st);
		if (rc == CAIRN_ENOTFOUND)
			return cairn_err_set(
				err, CAIRN_ENOTFOUND, "template_not_found", "",
				"No template '%s' in this workspace; create it with POST /api/v1/templates.", d->id);
		return rc;
	}
	if (draft_equals(d, &cur)) {
		store_rollback(st);
		*out = cur;
		return 0;
	}
	if (expect_version > 0 && expect_version != cur.version) {
		int64_t latest = cur.version;
		store_template_release(&cur);
		store_rollback(st);
		return cairn_err_set(err, CAIRN_ECONFLICT, "version_conflict", "version",
				     "Template '%s' is at version %" PRId64 ", not %" PRId64
				     ": it was saved since you loaded it. Load version %" PRId64
				     ", apply your change again and send \"version\":%" PRId64 ".",
				     d->id, latest, expect_version, latest, latest);
	}
	int64_t version = cur.version + 1;
	store_template_release(&cur);
	rc = write_version(c, ws, d, version, now, out, err);
	if (rc == 0)
		rc = store_commit(st, err);
	else
		store_rollback(st);
	if (rc < 0) {
		store_template_release(out);
		return rc;
	}
	*created = 1;
	return 0;
}

int store_template_get(struct store *st, int64_t ws, const char *id, int64_t version, struct store_template *out,
		       struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	struct store_conn *c = store_conn(st);
	int rc = load_version(c, ws, id, version, out, err);
	if (rc == CAIRN_ENOTFOUND) {
		if (version > 0 && load_version(c, ws, id, 0, out, err) == 0) {
			int64_t latest = out->latest_version;
			store_template_release(out);
			return cairn_err_set(err, CAIRN_ENOTFOUND, "version_not_found", "version",
					     "Template '%s' has versions 1 to %" PRId64 ", not %" PRId64 ".", id,
					     latest, version);
		}
		return cairn_err_set(err, CAIRN_ENOTFOUND, "template_not_found", "",
				     "No template '%s' in this workspace.", id);
	}
	if (rc < 0)
		return rc;
	if (version == 0 && out->archived_at) {
		store_template_release(out);
		return cairn_err_set(err, CAIRN_ENOTFOUND, "template_archived", "",
				     "Template '%s' was deleted (archived). Its versions stay readable at "
				     "/api/v1/templates/%s/versions; create it again to restore it.",
				     id, id);
	}
	return 0;
}

int store_template_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct store_template *out,
			   struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	if (store_begin(st, err) < 0)
		return CAIRN_EIO;
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "UPDATE templates SET archived_at = ?3 WHERE workspace_id = ?1 AND template_id = ?2"
			  " AND archived_at IS NULL",
			  &s, err, "deleting a template") < 0) {
		store_rollback(st);
		return CAIRN_EIO;
	}
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, id);
	sqlite3_bind_int64(s, 3, now);
	int rc = store_exec_stmt(c, s, err, "deleting a template");
	sqlite3_finalize(s);
	if (rc == 0 && sqlite3_changes(c->db) == 0) {
		store_rollback(st);
		return cairn_err_set(err, CAIRN_ENOTFOUND, "template_not_found", "",
				     "No template '%s' in this workspace.", id);
	}
	if (rc == 0) {
		rc = load_version(c, ws, id, 0, out, err);
		if (rc == CAIRN_ENOTFOUND)
			rc = store_sqlerr(c, err, "reading back a template");
	}
	if (rc == 0)
		rc = store_commit(st, err);
	else
		store_rollback(st);
	if (rc < 0)
		store_template_release(out);
	return rc;
}

/* ---- lists ----------------------------------------------------------------- */

/* Cursors are opaque to clients: "t:<id>" after the template id shown last,
 * "v:<n>" after the version shown last. */
static int bad_cursor(struct cairn_err *err)
{
	return cairn_err_set(err, CAIRN_EINVAL, "bad_cursor", "cursor",
			     "The cursor is not one this API returned; start again without it.");
}

static char *make_cursor(char kind, const char *text)
{
	size_t n = strlen(text);
	char *s = xmalloc(n + 3);
	s[0] = kind;
	s[1] = ':';
	memcpy(s + 2, text, n + 1);
	return s;
}

/* Runs s (rows of VERSION_COLS) and keeps at most limit items; a further
 * row means there is more, and the cursor is made from the last item. */
static int collect(struct store_conn *c, sqlite3_stmt *s, char kind, int with_body, int limit,
		   struct store_template_page *out, struct cairn_err *err)
{
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->n == (size_t)limit) {
			const struct store_template *last = &out->items[out->n - 1];
			if (kind == 't') {
				out->next_cursor = make_cursor('t', last->id);
			} else {
				char n[32];
				snprintf(n, sizeof n, "%" PRId64, last->version);
				out->next_cursor = make_cursor('v', n);
			}
			break;
		}
		xgrow((void **)&out->items, &cap, out->n + 1, sizeof *out->items);
		read_version(s, with_body, &out->items[out->n++]);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_template_page_release(out);
		return store_sqlerr(c, err, "listing templates");
	}
	return 0;
}

int store_templates_list(struct store *st, int64_t ws, const char *channel, int archived, int with_body, int limit,
			 const char *cursor, struct store_template_page *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	const char *after = "";
	if (cursor && *cursor) {
		if (strncmp(cursor, "t:", 2) != 0 || !cursor[2])
			return bad_cursor(err);
		after = cursor + 2;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT " VERSION_COLS VERSION_JOIN " AND v.version = t.version"
			  " WHERE t.workspace_id = ?1 AND t.template_id > ?2 AND (?3 IS NULL OR t.channel = ?3)"
			  " AND (CASE WHEN t.archived_at IS NULL THEN 0 ELSE 1 END) = ?4"
			  " ORDER BY t.template_id LIMIT ?5",
			  &s, err, "listing templates") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, after);
	store_bind_text(s, 3, channel);
	sqlite3_bind_int(s, 4, archived ? 1 : 0);
	sqlite3_bind_int(s, 5, limit + 1);
	int rc = collect(c, s, 't', with_body, limit, out, err);
	sqlite3_finalize(s);
	return rc;
}

int store_template_versions(struct store *st, int64_t ws, const char *id, int with_body, int limit, const char *cursor,
			    struct store_template_page *out, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	int64_t before = INT64_MAX;
	if (cursor && *cursor) {
		char *end;
		if (strncmp(cursor, "v:", 2) != 0)
			return bad_cursor(err);
		long long v = strtoll(cursor + 2, &end, 10);
		if (end == cursor + 2 || *end || v < 1)
			return bad_cursor(err);
		before = v;
	}
	struct store_conn *c = store_conn(st);
	struct store_template head;
	int rc = load_version(c, ws, id, 0, &head, err);
	if (rc == CAIRN_ENOTFOUND)
		return cairn_err_set(err, CAIRN_ENOTFOUND, "template_not_found", "",
				     "No template '%s' in this workspace.", id);
	if (rc < 0)
		return rc;
	store_template_release(&head);
	sqlite3_stmt *s;
	if (store_prepare(c,
			  "SELECT " VERSION_COLS VERSION_JOIN " WHERE v.workspace_id = ?1 AND v.template_id = ?2"
			  " AND v.version < ?3 ORDER BY v.version DESC LIMIT ?4",
			  &s, err, "listing template versions") < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(s, 1, ws);
	store_bind_text(s, 2, id);
	sqlite3_bind_int64(s, 3, before);
	sqlite3_bind_int(s, 4, limit + 1);
	rc = collect(c, s, 'v', with_body, limit, out, err);
	sqlite3_finalize(s);
	return rc;
}

/* ---- render data ----------------------------------------------------------- */

json_t *store_template_user(struct store *st, int64_t ws, const char *id, struct cairn_err *err)
{
	json_t *p = store_profile_json_opt(st, ws, id, 0, err);
	if (!p)
		return NULL;
	json_t *user = json_object();
	json_t *traits = json_object_get(p, "traits");
	if (json_is_object(traits))
		json_object_update(user, traits);
	/* what the system owns wins over a trait of the same name */
	json_t *anon = json_object_get(p, "anonymous_ids");
	json_object_set(user, "id", json_object_get(p, "id"));
	json_object_set_new(user, "anonymous_id",
			    json_is_array(anon) && json_array_size(anon) ? json_incref(json_array_get(anon, 0))
									 : json_null());
	json_object_set(user, "tags", json_object_get(p, "tags"));
	json_object_set_new(user, "computed", json_object());
	/* the rest only where no trait has the name */
	static const char *const extra[] = {"anonymous_ids", "lifecycle_stage", "consent",
					    "groups",	     "first_seen",	"last_seen"};
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		if (!json_object_get(user, extra[i]))
			json_object_set(user, extra[i], json_object_get(p, extra[i]));
	}
	json_decref(p);
	return user;
}

char *store_template_workspace_name(struct store *st, int64_t ws)
{
	struct store_conn *c = store_conn(st);
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char sql[] = "SELECT name FROM workspaces WHERE workspace_id = ?";
	sqlite3_stmt *s = store_cached(c, sql, &err);
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, ws);
	char *name = sqlite3_step(s) == SQLITE_ROW ? store_col_dup(s, 0) : NULL;
	sqlite3_reset(s);
	return name;
}
