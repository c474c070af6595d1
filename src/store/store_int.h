/* store_int.h — internals shared by the store's files. */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

/* Every statement the store runs, prepared once per connection. */
enum stmt_id {
	S_BEGIN,
	S_LOCK_STATE,
	S_LOCK_LOG,
	S_COMMIT,
	S_ROLLBACK,
	S_LOG_INSERT,
	S_LOG_DEDUP_CHECK,
	S_LOG_EVENT_CHECK,
	S_LOG_HEAD,
	S_LOG_SCAN,
	S_CURSOR_GET,
	S_CURSOR_SET,
	S_IDENTITY_FIND,
	S_IDENTITY_LINK,
	S_PROFILE_CREATE,
	S_PROFILE_GET,
	S_PROFILE_PUT,
	S_TIMELINE_ADD,
	S_CONSENT_PUT,
	S_TAG_ADD,
	S_TAG_REMOVE,
	S_GROUP_PUT,
	S_GROUP_MEMBER_ADD,
	S_COUNT
};

struct store_conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[S_COUNT];
	struct store *st;
	struct store_conn *next; /* all connections, for store_close */
	int64_t generation;	 /* equals st->generation while valid */
	/* statements prepared by store_cached, keyed by their SQL's address */
	struct store_cached {
		const char *sql;
		sqlite3_stmt *s;
	} *cached;
	size_t ncached, cached_cap;
	/* profiles this connection's open transaction changed (store_touch) */
	struct store_touch *touched;
	size_t ntouched, touched_cap;
	int touched_overflow;
};

/* Keys of events appended by this process and not yet in dd.event_dedup:
 * open addressing, key 0 never stored (a zero hash is mapped to 1). */
struct dedup_set {
	int64_t *keys;
	int64_t *ids;
	size_t cap, n;
};

struct store {
	char *dir;
	char *state_path;
	char *events_path;
	char *dedup_path;
	/* idempotency: recent keys (guarded by recent_lock) */
	pthread_mutex_t recent_lock;
	struct dedup_set recent;
	int64_t indexed_upto, prev_indexed_upto;
	pthread_key_t key;
	pthread_mutex_t lock;
	struct store_conn *conns;
	int64_t generation;
	/* background checkpointer (store_checkpointer_start) */
	int manual_checkpoints;
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_wake;
	int ckpt_running, ckpt_stop;
	/* change capture (store_on_commit) */
	store_commit_fn on_commit;
	void *on_commit_arg;
};

/* This thread's connection (opened on first use). Never NULL: a failure to
 * open a database that opened at store_open is fatal. */
struct store_conn *store_conn(struct store *st);
/* The prepared statement id, reset and with bindings cleared. */
sqlite3_stmt *store_stmt(struct store_conn *c, enum stmt_id id);
/* Records a SQLite failure in err as CAIRN_EIO and returns it. */
int store_sqlerr(struct store_conn *c, struct cairn_err *err, const char *what);
/* Prepares sql uncached (for statements outside the table above); 0, or
 * CAIRN_EIO with err naming `what`. */
int store_prepare(struct store_conn *c, const char *sql, sqlite3_stmt **s, struct cairn_err *err, const char *what);
/* store_prepare, then binds ?1 = ws and ?2 = id: the prefix of most
 * statements about one named resource (a segment, a tagging rule). */
int store_prepare_ws_id(struct store_conn *c, const char *sql, int64_t ws, const char *id, sqlite3_stmt **s,
			struct cairn_err *err, const char *what);
/* A statement for sql — a string constant: its address is the key —
 * prepared once per connection and kept until the connection closes; reset
 * and with bindings cleared. NULL with err filled (CAIRN_EIO). For the
 * modules' hot paths; statements run once in a while use store_prepare. */
sqlite3_stmt *store_cached(struct store_conn *c, const char *sql, struct cairn_err *err);
/* Steps a statement that returns no rows, then finalizes it. */
int store_run_finalize(struct store_conn *c, sqlite3_stmt *s, struct cairn_err *err, const char *what);
/* A malloc'd copy of column i's text, or NULL. */
char *store_col_dup(sqlite3_stmt *s, int i);
/* Binds a string or NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Runs a statement that returns no rows. */
int store_exec_stmt(struct store_conn *c, sqlite3_stmt *s, struct cairn_err *err, const char *what);
/* Migrations for each database: arrays of SQL scripts, index + 1 = version. */
extern const char *const store_state_migrations[];
extern const int store_state_migration_count;
extern const char *const store_events_migrations[];
extern const int store_events_migration_count;
extern const char *const store_dedup_migrations[];
extern const int store_dedup_migration_count;
/* Loads the keys of events past the index mark into st->recent (open). */
int store_dedup_load_tail(struct store *st, struct cairn_err *err);
void store_dedup_release(struct store *st);

/* The People search text of profile p: "p.profile_id, <text>" for
 * INSERT INTO profile_search (rowid, text) SELECT … FROM profiles p
 * (migration 21 and store_search_index). */
#define PROFILE_SEARCH_TEXT                                                                                            \
	"p.profile_id, coalesce(p.user_id, '') || ' ' || coalesce(p.email, '') || ' ' || coalesce(p.name, '') || ' ' "  \
	"|| coalesce(p.phone, '') || ' ' || CASE WHEN p.phone LIKE '82%' THEN '0' || substr(p.phone, 3) ELSE '' END "  \
	"|| ' ' || coalesce((SELECT group_concat(j.atom, ' ') FROM json_tree(p.traits) j WHERE j.type NOT IN "          \
	"('object', 'array')), '') || ' ' || coalesce((SELECT group_concat(i.value, ' ') FROM identities i WHERE "      \
	"i.profile_id = p.profile_id AND i.value IS NOT p.user_id), '')"

#endif
