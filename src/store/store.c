/* store.c — connections, pragmas, migrations and the statement table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store_int.h"

/* One table of every statement: the only SQL text outside migrations. */
static const char *const stmt_sql[S_COUNT] = {
	/* Deferred: BEGIN IMMEDIATE would take the write lock of the log too and
	 * make ingestion wait on engine transactions. S_LOCK_STATE takes only
	 * state.db's write lock, first, so no read-then-upgrade can fail. */
	[S_BEGIN] = "BEGIN",
	[S_LOCK_STATE] = "UPDATE engine_cursors SET value = value WHERE 0",
	/* the same for the log: take its write lock before the dedup reads, as a
	 * read-then-write upgrade fails at once (SQLITE_BUSY) instead of waiting */
	[S_LOCK_LOG] = "UPDATE ev.events SET id = id WHERE 0",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_LOG_INSERT] = "INSERT INTO ev.events (workspace_id, shard, type, name, message_id, user_id, anonymous_id,"
			 " ts, received_at, body) VALUES (?,?,?,?,?,?,?,?,?,?)",
	[S_LOG_DEDUP_CHECK] = "SELECT e.workspace_id, e.message_id FROM dd.event_dedup d"
			      " JOIN ev.events e ON e.id = d.event_id WHERE d.key = ?",
	[S_LOG_EVENT_CHECK] = "SELECT workspace_id, message_id FROM ev.events WHERE id = ?",
	[S_LOG_HEAD] = "SELECT coalesce(max(id), 0) FROM ev.events",
	[S_LOG_SCAN] = "SELECT id, workspace_id, shard, type, name, message_id, user_id, anonymous_id, ts,"
		       " received_at, body FROM ev.events WHERE id > ? ORDER BY id LIMIT ?",
	[S_CURSOR_GET] = "SELECT value FROM engine_cursors WHERE name = ?",
	[S_CURSOR_SET] = "INSERT INTO engine_cursors (name, value) VALUES (?, ?)"
			 " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	[S_IDENTITY_FIND] = "SELECT profile_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?",
	[S_IDENTITY_LINK] = "INSERT INTO identities (workspace_id, kind, value, profile_id, first_seen)"
			    " VALUES (?,?,?,?,?) ON CONFLICT (workspace_id, kind, value)"
			    " DO UPDATE SET profile_id = excluded.profile_id",
	[S_PROFILE_CREATE] =
		"INSERT INTO profiles (workspace_id, user_id, first_seen, last_seen, created_at, updated_at)"
		" VALUES (?,?,?,?,?,?)",
	[S_PROFILE_GET] = "SELECT workspace_id, user_id, traits, lifecycle, first_seen, last_seen, created_at,"
			  " updated_at FROM profiles WHERE profile_id = ?",
	[S_PROFILE_PUT] = "UPDATE profiles SET user_id = ?, traits = ?, lifecycle = ?, first_seen = ?, last_seen = ?,"
			  " updated_at = ?, email = ?, phone = ?, name = ? WHERE profile_id = ?",
	/* no uniqueness check: an event is applied exactly once because the
	 * engine moves its cursor in the same transaction */
	[S_TIMELINE_ADD] = "INSERT INTO timeline (workspace_id, profile_id, event_id, type, name, ts)"
			   " VALUES (?,?,?,?,?,?)",

	[S_CONSENT_PUT] = "INSERT INTO consents (workspace_id, profile_id, scope, name, status, updated_at, source)"
			  " VALUES (?,?,?,?,?,?,?) ON CONFLICT (workspace_id, profile_id, scope, name)"
			  " DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,"
			  " source = excluded.source",
	[S_TAG_ADD] = "INSERT INTO profile_tags (workspace_id, profile_id, tag, added_at) VALUES (?,?,?,?)"
		      " ON CONFLICT DO NOTHING",
	[S_TAG_REMOVE] = "DELETE FROM profile_tags WHERE workspace_id = ? AND profile_id = ? AND tag = ?",
	[S_GROUP_PUT] = "INSERT INTO groups (workspace_id, group_id, traits, created_at, updated_at) VALUES (?,?,?,?,?)"
			" ON CONFLICT (workspace_id, group_id) DO UPDATE SET traits = excluded.traits,"
			" updated_at = excluded.updated_at",
	[S_GROUP_MEMBER_ADD] = "INSERT INTO group_members (workspace_id, group_id, profile_id, joined_at)"
			       " VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
};

int store_sqlerr(struct store_conn *c, struct cairn_err *err, const char *what)
{
	const char *msg = c && c->db ? sqlite3_errmsg(c->db) : "no connection";
	log_error("store error", "op", what, "sqlite", msg, NULL);
	return cairn_err_set(err, CAIRN_EIO, "storage_error", "", "The store failed while %s (%s); try again.", what,
			     msg);
}

int store_prepare(struct store_conn *c, const char *sql, sqlite3_stmt **s, struct cairn_err *err, const char *what)
{
	*s = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, s, NULL) != SQLITE_OK) {
		sqlite3_finalize(*s);
		*s = NULL;
		return store_sqlerr(c, err, what);
	}
	return 0;
}

sqlite3_stmt *store_cached(struct store_conn *c, const char *sql, struct cairn_err *err)
{
	for (size_t i = 0; i < c->ncached; i++) {
		if (c->cached[i].sql == sql) {
			sqlite3_reset(c->cached[i].s);
			sqlite3_clear_bindings(c->cached[i].s);
			return c->cached[i].s;
		}
	}
	sqlite3_stmt *s;
	if (store_prepare(c, sql, &s, err, "preparing a statement") < 0)
		return NULL;
	xgrow((void **)&c->cached, &c->cached_cap, c->ncached + 1, sizeof *c->cached);
	c->cached[c->ncached++] = (struct store_cached){sql, s};
	return s;
}

int store_prepare_ws_id(struct store_conn *c, const char *sql, int64_t ws, const char *id, sqlite3_stmt **s,
			struct cairn_err *err, const char *what)
{
	if (store_prepare(c, sql, s, err, what) < 0)
		return CAIRN_EIO;
	sqlite3_bind_int64(*s, 1, ws);
	store_bind_text(*s, 2, id);
	return 0;
}

int store_run_finalize(struct store_conn *c, sqlite3_stmt *s, struct cairn_err *err, const char *what)
{
	int rc = sqlite3_step(s);
	int out = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sqlerr(c, err, what);
	sqlite3_finalize(s);
	return out;
}

char *store_col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? xstrdup(t) : NULL;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

int store_exec_stmt(struct store_conn *c, sqlite3_stmt *s, struct cairn_err *err, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(c, err, what);
	sqlite3_reset(s);
	return 0;
}

sqlite3_stmt *store_stmt(struct store_conn *c, enum stmt_id id)
{
	sqlite3_stmt *s = c->stmts[id];
	if (!s) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			log_error("cannot prepare statement", "sql", stmt_sql[id], "sqlite", sqlite3_errmsg(c->db),
				  NULL);
			abort(); /* a bug: every statement must prepare against the current schema */
		}
		c->stmts[id] = s;
	} else {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	return s;
}

static int exec(sqlite3 *db, const char *sql, struct cairn_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cairn_err_set(err, CAIRN_EIO, "storage_error", "", "The store failed: %s.", msg ? msg : "?");
		sqlite3_free(msg);
		return CAIRN_EIO;
	}
	return 0;
}

static sqlite3 *open_raw(const char *path, struct cairn_err *err)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		cairn_err_set(err, CAIRN_EIO, "storage_error", "", "Cannot open %s: %s.", path,
			      db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	if (exec(db, "PRAGMA journal_mode=WAL", err) < 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void attach(struct buf *sql, const char *path, const char *as)
{
	buf_adds(sql, "ATTACH DATABASE '");
	for (const char *p = path; *p; p++) {
		if (*p == '\'')
			buf_addch(sql, '\'');
		buf_addch(sql, *p);
	}
	buf_addf(sql, "' AS %s;", as);
}

/* A connection: state.db as main, events.db as "ev", dedup.db as "dd". */
static sqlite3 *open_db(struct store *st, struct cairn_err *err)
{
	sqlite3 *db = open_raw(st->state_path, err);
	if (!db)
		return NULL;
	struct buf sql;
	buf_init(&sql, 4096);
	buf_adds(&sql, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA journal_size_limit=67108864;"
		       " PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;");
	attach(&sql, st->events_path, "ev");
	attach(&sql, st->dedup_path, "dd");
	/* the log is what the API acknowledges: fsync it on every commit. The
	 * dedup index is rebuilt from the log past its mark, so NORMAL is enough */
	buf_adds(&sql, "PRAGMA ev.journal_mode=WAL; PRAGMA ev.synchronous=FULL; PRAGMA ev.cache_size=-16384;"
		       " PRAGMA dd.journal_mode=WAL; PRAGMA dd.synchronous=NORMAL; PRAGMA dd.cache_size=-32768;"
		       " PRAGMA ev.journal_size_limit=67108864;");
	if (st->manual_checkpoints)
		buf_adds(&sql, "PRAGMA wal_autocheckpoint=0;");
	int rc = exec(db, sql.ptr, err);
	buf_release(&sql);
	if (rc < 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void conn_free(struct store_conn *c)
{
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	for (size_t i = 0; i < c->ncached; i++)
		sqlite3_finalize(c->cached[i].s);
	free(c->cached);
	sqlite3_close(c->db);
	free(c->touched);
	free(c);
}

static void conn_detach(struct store_conn *c)
{
	struct store *st = c->st;
	pthread_mutex_lock(&st->lock);
	for (struct store_conn **pp = &st->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
}

static void thread_exit(void *p)
{
	struct store_conn *c = p;
	conn_detach(c);
	conn_free(c);
}

struct store_conn *store_conn(struct store *st)
{
	struct store_conn *c = pthread_getspecific(st->key);
	if (c)
		return c;
	struct cairn_err err = CAIRN_ERR_INIT;
	sqlite3 *db = open_db(st, &err);
	if (!db) {
		log_error("cannot open store", "error", err.message, NULL);
		abort();
	}
	c = xcalloc(1, sizeof *c);
	c->db = db;
	c->st = st;
	pthread_mutex_lock(&st->lock);
	c->next = st->conns;
	st->conns = c;
	pthread_mutex_unlock(&st->lock);
	pthread_setspecific(st->key, c);
	return c;
}

static int user_version(sqlite3 *db, const char *schema)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA %s.user_version", schema);
	sqlite3_stmt *s;
	int v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(sqlite3 *db, const char *schema, const char *const *steps, int count, int upto,
		   struct cairn_err *err)
{
	int cur = user_version(db, "main");
	if (cur > count)
		return cairn_err_set(err, CAIRN_EIO, "schema_too_new", "",
				     "The %s database has schema version %d but this cairn knows only %d; use a newer "
				     "cairn.",
				     schema, cur, count);
	if (upto < 0 || upto > count)
		upto = count;
	for (int v = cur + 1; v <= upto; v++) {
		struct buf sql;
		buf_init(&sql, 1024 * 1024);
		buf_adds(&sql, "BEGIN IMMEDIATE;");
		buf_adds(&sql, steps[v - 1]);
		buf_addf(&sql, ";PRAGMA user_version=%d;COMMIT;", v);
		int rc = exec(db, sql.ptr, err);
		buf_release(&sql);
		if (rc < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		log_debug("migrated", "database", schema, NULL);
	}
	return 0;
}

struct store *store_open_at(const char *dir, int state_version, int events_version, struct cairn_err *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		cairn_err_set(err, CAIRN_EIO, "storage_error", "", "Cannot create data directory %s: %s.", dir,
			      strerror(errno));
		return NULL;
	}
	struct store *st = xcalloc(1, sizeof *st);
	st->dir = xstrdup(dir);
	struct buf p;
	buf_init(&p, 4096);
	buf_addf(&p, "%s/state.db", dir);
	st->state_path = buf_detach(&p, NULL);
	buf_addf(&p, "%s/events.db", dir);
	st->events_path = buf_detach(&p, NULL);
	buf_addf(&p, "%s/dedup.db", dir);
	st->dedup_path = buf_detach(&p, NULL);
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->recent_lock, NULL);
	pthread_key_create(&st->key, thread_exit);
	int rc = -1;
	sqlite3 *db = open_raw(st->state_path, err);
	if (db) {
		rc = migrate(db, "state", store_state_migrations, store_state_migration_count, state_version, err);
		sqlite3_close(db);
	}
	if (rc == 0) {
		rc = -1;
		db = open_raw(st->events_path, err);
		if (db) {
			rc = migrate(db, "events", store_events_migrations, store_events_migration_count,
				     events_version, err);
			sqlite3_close(db);
		}
	}
	if (rc == 0) {
		rc = -1;
		db = open_raw(st->dedup_path, err);
		if (db) {
			rc = migrate(db, "dedup", store_dedup_migrations, store_dedup_migration_count, -1, err);
			sqlite3_close(db);
		}
	}
	if (rc == 0)
		rc = store_dedup_load_tail(st, err);
	if (rc < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

struct store *store_open(const char *dir, struct cairn_err *err)
{
	return store_open_at(dir, -1, -1, err);
}

/* A RESTART makes new writers wait until current readers finish: a stall
 * for ingestion, so it is the last resort. With the engine reading the log
 * in short transactions, PASSIVE checkpoints normally let the WAL reset. */
#define CKPT_RESTART_FRAMES 65536 /* 256 MB of 4 KB pages */

static void *checkpointer_main(void *arg)
{
	struct store *st = arg;
	pthread_setname_np(pthread_self(), "cairn-ckpt");
	struct store_conn *c = store_conn(st);
	pthread_mutex_lock(&st->ckpt_lock);
	while (!st->ckpt_stop) {
		pthread_mutex_unlock(&st->ckpt_lock);
		/* PASSIVE copies what it can without waiting. A WAL is only reused
		 * from its start once no reader needs it; past CKPT_RESTART_FRAMES a
		 * RESTART waits for the readers of the moment so the file stops
		 * growing. */
		struct cairn_err ierr = CAIRN_ERR_INIT;
		if (store_log_index(st, &ierr) < 0)
			log_error("indexing messageIds failed; will retry", "error", ierr.message, NULL);
		static const char *const dbs[] = {"ev", "main", "dd"};
		for (int i = 0; i < 3; i++) {
			int log_frames = 0, ckpt_frames = 0;
			sqlite3_wal_checkpoint_v2(c->db, dbs[i], SQLITE_CHECKPOINT_PASSIVE, &log_frames, &ckpt_frames);
			if (log_frames > CKPT_RESTART_FRAMES) {
				int rc = sqlite3_wal_checkpoint_v2(c->db, dbs[i], SQLITE_CHECKPOINT_RESTART,
								   &log_frames, &ckpt_frames);
				char m[96];
				snprintf(m, sizeof m, "rc=%d log=%d ckpt=%d", rc, log_frames, ckpt_frames);
				log_debug("checkpoint restart", "db", dbs[i], "result", m, NULL);
			}
		}
		pthread_mutex_lock(&st->ckpt_lock);
		struct timespec ts;
		clock_deadline_after(&ts, 200);
		if (!st->ckpt_stop)
			pthread_cond_timedwait(&st->ckpt_wake, &st->ckpt_lock, &ts);
	}
	pthread_mutex_unlock(&st->ckpt_lock);
	return NULL;
}

void store_cache_size(struct store *st, int mb)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA main.cache_size=%d", -1024 * mb);
	sqlite3_exec(store_conn(st)->db, sql, NULL, NULL, NULL);
}

void store_checkpointer_start(struct store *st)
{
	st->manual_checkpoints = 1;
	pthread_mutex_init(&st->ckpt_lock, NULL);
	pthread_cond_init(&st->ckpt_wake, NULL);
	st->ckpt_running = 1;
	pthread_create(&st->ckpt_thread, NULL, checkpointer_main, st);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->ckpt_running) {
		pthread_mutex_lock(&st->ckpt_lock);
		st->ckpt_stop = 1;
		pthread_cond_signal(&st->ckpt_wake);
		pthread_mutex_unlock(&st->ckpt_lock);
		pthread_join(st->ckpt_thread, NULL);
		pthread_mutex_destroy(&st->ckpt_lock);
		pthread_cond_destroy(&st->ckpt_wake);
	}
	/* leave nothing to re-index at the next start */
	if (st->dedup_path && st->recent.n) {
		struct cairn_err ierr = CAIRN_ERR_INIT;
		store_log_index(st, &ierr);
	}
	/* this thread's connection and any left by threads still alive */
	pthread_setspecific(st->key, NULL);
	pthread_mutex_lock(&st->lock);
	struct store_conn *c = st->conns;
	st->conns = NULL;
	pthread_mutex_unlock(&st->lock);
	while (c) {
		struct store_conn *n = c->next;
		conn_free(c);
		c = n;
	}
	pthread_key_delete(st->key);
	pthread_mutex_destroy(&st->lock);
	free(st->dir);
	free(st->state_path);
	free(st->events_path);
	free(st->dedup_path);
	store_dedup_release(st);
	pthread_mutex_destroy(&st->recent_lock);
	free(st);
}

int store_schema_versions(struct store *st, int *state_version, int *events_version)
{
	struct store_conn *c = store_conn(st);
	*state_version = user_version(c->db, "main");
	*events_version = user_version(c->db, "ev");
	return 0;
}

void store_schema_latest(int *state_version, int *events_version)
{
	*state_version = store_state_migration_count;
	*events_version = store_events_migration_count;
}

/* ---- transactions and cursors --------------------------------------------- */

int store_begin(struct store *st, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	if (store_exec_stmt(c, store_stmt(c, S_BEGIN), err, "starting a transaction") < 0)
		return CAIRN_EIO;
	if (store_exec_stmt(c, store_stmt(c, S_LOCK_STATE), err, "locking the state") < 0) {
		store_rollback(st);
		return CAIRN_EIO;
	}
	return 0;
}

/* Hands the connection's touched profiles to the commit hook and forgets them. */
static void touched_publish(struct store_conn *c)
{
	struct store *st = c->st;
	if (st->on_commit && (c->ntouched || c->touched_overflow))
		st->on_commit(st->on_commit_arg, c->touched, c->touched_overflow ? 0 : c->ntouched,
			      c->touched_overflow);
	c->ntouched = 0;
	c->touched_overflow = 0;
}

int store_commit(struct store *st, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	int rc = store_exec_stmt(c, store_stmt(c, S_COMMIT), err, "committing");
	if (rc < 0)
		store_rollback(st);
	else
		touched_publish(c);
	return rc;
}

void store_rollback(struct store *st)
{
	struct store_conn *c = store_conn(st);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_step(store_stmt(c, S_ROLLBACK));
	sqlite3_reset(c->stmts[S_ROLLBACK]);
	c->ntouched = 0;
	c->touched_overflow = 0;
}

void store_on_commit(struct store *st, store_commit_fn fn, void *arg)
{
	st->on_commit = fn;
	st->on_commit_arg = arg;
}

void store_touch(struct store *st, int64_t ws, int64_t profile_id)
{
	struct store_conn *c = store_conn(st);
	if (!st->on_commit)
		return;
	if (c->ntouched && c->touched[c->ntouched - 1].profile_id == profile_id &&
	    c->touched[c->ntouched - 1].workspace_id == ws)
		return; /* the common repeat: several changes to one profile in a row */
	if (c->ntouched >= STORE_TOUCH_MAX)
		c->touched_overflow = 1;
	else {
		xgrow((void **)&c->touched, &c->touched_cap, c->ntouched + 1, sizeof *c->touched);
		c->touched[c->ntouched++] = (struct store_touch){ws, profile_id};
	}
	if (sqlite3_get_autocommit(c->db))
		touched_publish(c); /* no transaction: the change is already committed */
}

void store_touch_all(struct store *st)
{
	struct store_conn *c = store_conn(st);
	c->touched_overflow = 1;
	if (sqlite3_get_autocommit(c->db))
		touched_publish(c);
}

int64_t store_cursor_get(struct store *st, const char *name)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_CURSOR_GET);
	store_bind_text(s, 1, name);
	int64_t v = 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int store_cursor_set(struct store *st, const char *name, int64_t value, struct cairn_err *err)
{
	struct store_conn *c = store_conn(st);
	sqlite3_stmt *s = store_stmt(c, S_CURSOR_SET);
	store_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, value);
	return store_exec_stmt(c, s, err, "moving the engine cursor");
}
