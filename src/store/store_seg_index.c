/* store_seg_index.c — SQL of the segment index's bulk reads
 * (store_seg_index.h). */
#include <string.h>

#include "core/buf.h"
#include "store/store_int.h"
#include "store/store_seg_index.h"

#define COND_NAME_PATH_MAX 4096 /* a JSON path for a name (names are ≤ 256 bytes) */

/* Steps s to the end, handing each row to row(); finalizes s. */
static int each_row(struct store_conn *c, sqlite3_stmt *s, int (*row)(sqlite3_stmt *s, void *ctx), void *ctx,
		    struct cairn_err *err, const char *what)
{
	int rc, out = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out = row(s, ctx);
		if (out)
			break;
	}
	if (!out && rc != SQLITE_DONE)
		out = store_sqlerr(c, err, what);
	sqlite3_finalize(s);
	return out;
}

struct id_row {
	store_sx_id_fn fn;
	void *arg;
};

static int id_row(sqlite3_stmt *s, void *ctx)
{
	struct id_row *r = ctx;
	return r->fn(r->arg, sqlite3_column_int64(s, 0));
}

/* Prepares sql with ?1 = ws and ?2 = profile_id (0 = every profile). */
static int prepare_ws_pid(struct store_conn *c, const char *sql, int64_t ws, int64_t pid, sqlite3_stmt **s,
			  struct cairn_err *err, const char *what)
{
	if (store_prepare(c, sql, s, err, what) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(*s, 1, ws);
	sqlite3_bind_int64(*s, 2, pid);
	return 0;
}

int store_sx_profiles(struct store *st, int64_t ws, store_sx_id_fn fn, void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prepare_ws_pid(c, "SELECT profile_id FROM profiles WHERE workspace_id = ?1 ORDER BY profile_id", ws, 0, &s,
			   err, "listing profiles") < 0)
		return CAIRN_EIO;
	struct id_row r = {fn, arg};
	return each_row(c, s, id_row, &r, err, "listing profiles");
}

struct value_row {
	store_sx_value_fn fn;
	void *arg;
};

static int value_row(sqlite3_stmt *s, void *ctx)
{
	struct value_row *r = ctx;
	const char *v = (const char *)sqlite3_column_text(s, 1);
	return r->fn(r->arg, sqlite3_column_int64(s, 0), v, v ? (size_t)sqlite3_column_bytes(s, 1) : 0);
}

int store_sx_trait(struct store *st, int64_t ws, int64_t profile_id, const char *name, store_sx_value_fn fn, void *arg,
		   struct cairn_err *err)
{
	if (strchr(name, '"'))
		return 1;
	/* $."a.b" (the whole name as one key) and $."a"."b" (its parts) */
	struct buf whole, parts;
	buf_init(&whole, COND_NAME_PATH_MAX);
	buf_init(&parts, COND_NAME_PATH_MAX);
	buf_addf(&whole, "$.\"%s\"", name);
	buf_adds(&parts, "$");
	for (const char *p = name;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		buf_addf(&parts, ".\"%.*s\"", (int)n, p);
		if (!dot)
			break;
		p = dot + 1;
	}
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	int rc = prepare_ws_pid(c,
				"SELECT profile_id, CASE WHEN json_type(traits, ?3) IS NOT NULL THEN traits -> ?3"
				" ELSE traits -> ?4 END FROM profiles"
				" WHERE workspace_id = ?1 AND (?2 = 0 OR profile_id = ?2) ORDER BY profile_id",
				ws, profile_id, &s, err, "reading a trait");
	if (rc == 0) {
		store_bind_text(s, 3, whole.ptr);
		store_bind_text(s, 4, parts.ptr);
		struct value_row r = {fn, arg};
		rc = each_row(c, s, value_row, &r, err, "reading a trait");
	}
	buf_release(&whole);
	buf_release(&parts);
	return rc;
}

int store_sx_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, store_sx_id_fn fn, void *arg,
		 struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prepare_ws_pid(c,
			   "SELECT profile_id FROM profile_tags WHERE workspace_id = ?1 AND tag = ?3"
			   " AND (?2 = 0 OR profile_id = ?2) ORDER BY profile_id",
			   ws, profile_id, &s, err, "reading tags") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, tag);
	struct id_row r = {fn, arg};
	return each_row(c, s, id_row, &r, err, "reading tags");
}

struct bucket_row {
	store_sx_bucket_fn fn;
	void *arg;
};

static int bucket_row(sqlite3_stmt *s, void *ctx)
{
	struct bucket_row *r = ctx;
	struct store_sx_bucket b = {sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 4),
				    sqlite3_column_int64(s, 5), sqlite3_column_double(s, 3)};
	return r->fn(r->arg, sqlite3_column_int64(s, 0), &b);
}

int store_sx_daily(struct store *st, int64_t ws, int64_t profile_id, const char *name, store_sx_bucket_fn fn, void *arg,
		   struct cairn_err *err)
{
	/* one profile: the primary key (ws, profile, name, day); all: one pass
	 * over the workspace's buckets in key order, i.e. grouped by profile */
	static const char *const sql[2] = {
		"SELECT profile_id, day, count, revenue, first_ts, last_ts FROM seg_daily"
		" WHERE workspace_id = ?1 AND name = ?3 ORDER BY workspace_id, profile_id, name, day",
		"SELECT profile_id, day, count, revenue, first_ts, last_ts FROM seg_daily"
		" WHERE workspace_id = ?1 AND profile_id = ?2 AND name = ?3 ORDER BY day",
	};
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prepare_ws_pid(c, sql[profile_id > 0], ws, profile_id, &s, err, "reading event aggregates") < 0)
		return CAIRN_EIO;
	store_bind_text(s, 3, name);
	struct bucket_row r = {fn, arg};
	return each_row(c, s, bucket_row, &r, err, "reading event aggregates");
}

int store_sx_profile_ws(struct store *st, int64_t profile_id, int64_t *ws, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s;
	if (prepare_ws_pid(c, "SELECT workspace_id FROM profiles WHERE profile_id = ?2", 0, profile_id, &s, err,
			   "reading a profile") < 0)
		return CAIRN_EIO;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ws = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return CAIRN_ENOTFOUND;
	return store_sqlerr(c, err, "reading a profile");
}

int store_sx_snapshot(struct store *st, int (*fn)(void *arg, struct cairn_err *err), void *arg, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	int own = sqlite3_get_autocommit(c->db);
	if (own && sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(c, err, "starting a read");
	int rc = fn(arg, err);
	if (own)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
