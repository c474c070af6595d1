/* store.h — every byte cairn keeps goes through here; no SQL elsewhere.
 *
 * Layout of a data directory:
 *   state.db   workspaces, keys, members, profiles, identities, consent,
 *              tags, groups, the timeline index and the engine's cursor
 *   events.db  the append-only event log
 *   dedup.db   the messageId idempotency index, derived from the log
 * Both are SQLite in WAL mode. The log is its own file so ingestion never
 * waits on engine transactions; the engine's cursor lives in state.db with
 * the state it derives, so "apply a batch and move the cursor" is atomic.
 *
 * Threads: every thread gets its own connection (opened on first use, closed
 * when the thread exits or the store closes). A struct store may be shared by
 * all threads.
 *
 * Portability: SQL is kept to what PostgreSQL also accepts (ON CONFLICT,
 * partial indexes, no WITHOUT ROWID), so a libpq store can implement this
 * interface for scale-out.
 *
 * Errors: functions return 0 or a negative CAIRN_E* and fill err. */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct store;

/* Opens (creating if needed) the data directory and runs pending migrations.
 * NULL and err on failure. */
struct store *store_open(const char *dir, struct cairn_err *err);
void store_close(struct store *st);
/* Schema version of each database after migrations (for tests/CLI). */
int store_schema_versions(struct store *st, int *state_version, int *events_version);
/* Number of migrations known to this binary for each database. */
void store_schema_latest(int *state_version, int *events_version);
/* Opens dir migrating only up to the given versions (tests of migrations). */
struct store *store_open_at(const char *dir, int state_version, int events_version, struct cairn_err *err);

/* Moves WAL checkpoints off the committing threads: from now on commits
 * never checkpoint; a background thread does, every 50 ms when there is
 * something to copy. Call before other threads use the store (serve). */
void store_checkpointer_start(struct store *st);

/* Sets this thread's connection page cache for state.db to mb megabytes. */
void store_cache_size(struct store *st, int mb);

/* ---- rebuilding derived state (cairn rebuild) ---------------------------- */
/* Writes a consistent copy of state.db and events.db into dir (VACUUM INTO). */
int store_snapshot_into(struct store *st, const char *dir, struct cairn_err *err);
/* Empties every table derived from the log (profiles, identities, timeline,
 * consent, tags, groups, aggregates, memberships, cursors, outbox), keeping
 * definitions (workspaces, keys, templates, segments, rules). */
int store_reset_derived(struct store *st, struct cairn_err *err);
typedef int (*store_text_fn)(const char *text, size_t len, void *arg);
/* Streams "<segment> u:<user id>" (or "a:<anonymous id>") for every
 * segment membership of ws, sorted. */
int store_membership_each(struct store *st, int64_t ws, store_text_fn fn, void *arg, struct cairn_err *err);
/* Workspace ids, ascending; *n (OUT). Caller frees *ids. */
int store_workspace_ids(struct store *st, int64_t **ids, size_t *n, struct cairn_err *err);

/* ---- workspaces, keys, members ------------------------------------------ */
enum store_key_kind { STORE_KEY_WRITE = 1, STORE_KEY_SECRET = 2 };

int store_workspace_create(struct store *st, const char *name, int64_t now, int64_t *ws_id, struct cairn_err *err);
/* 0 and *ws_id, or CAIRN_ENOTFOUND. */
int store_workspace_find(struct store *st, const char *name, int64_t *ws_id, struct cairn_err *err);
/* Stores a key by its hash (32 bytes); prefix is the first characters, shown
 * in listings. Revokes earlier keys of the same kind when revoke_old. */
int store_key_add(struct store *st, int64_t ws, enum store_key_kind kind, const unsigned char hash[32],
		  const char *prefix, int revoke_old, int64_t now, struct cairn_err *err);
/* Finds an unrevoked key by hash: 0 with *ws and *kind, or CAIRN_ENOTFOUND. */
int store_key_lookup(struct store *st, const unsigned char hash[32], int64_t *ws, int *kind, struct cairn_err *err);
/* People search (migration 21): rewrites the search rows of up to max
 * profiles that changed since (profile_search_dirty), in one transaction.
 * The number rewritten (0: nothing was waiting), or a negative CAIRN_E*.
 * The engine calls it when it has applied the log, so a read after the
 * read barrier finds every profile. */
int store_search_index(struct store *st, int max, struct cairn_err *err);

/* Creates or replaces (same email) a member with an argon2id hash. */
int store_member_put(struct store *st, int64_t ws, const char *email, const char *pwhash, const char *role, int64_t now,
		     struct cairn_err *err);

/* ---- the event log ------------------------------------------------------- */
struct store_event {
	int64_t id; /* OUT on append; set on read */
	int64_t workspace_id;
	unsigned shard;
	const char *type; /* identify track page screen group alias | internal: consent tags lifecycle */
	const char *name; /* event name (track), page/screen name, or NULL */
	const char *message_id;
	const char *user_id;	  /* or NULL */
	const char *anonymous_id; /* or NULL */
	int64_t ts;		  /* event time after skew correction, ms */
	int64_t received_at;
	const char *body; /* the normalized message, JSON */
	size_t body_len;
};

/* Appends events in ONE transaction, durable when it returns 0.
 * dup[i] (OUT) is 1 when events[i].message_id was already stored for its
 * workspace (then nothing is written for it), else 0 and events[i].id set.
 * On error nothing of the batch is stored. */
int store_log_append(struct store *st, struct store_event *events, size_t n, unsigned char *dup, struct cairn_err *err);
/* Moves the messageIds of events appended since the last call into the
 * idempotency index (dedup.db), sorted, in one transaction. The
 * checkpointer thread calls it every 200 ms; store_close calls it last. */
int store_log_index(struct store *st, struct cairn_err *err);
/* Highest committed event id (0 when empty). */
int64_t store_log_head(struct store *st);
/* Calls fn for events with id > after_id in id order, at most limit. The
 * event's strings are valid only during the call. */
typedef int (*store_event_fn)(const struct store_event *ev, void *arg);
int store_log_scan(struct store *st, int64_t after_id, int limit, store_event_fn fn, void *arg, struct cairn_err *err);

/* ---- engine transactions (state.db) -------------------------------------- */
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on this thread's connection. */
int store_begin(struct store *st, struct cairn_err *err);
int store_commit(struct store *st, struct cairn_err *err);
void store_rollback(struct store *st);

/* Change capture, for in-memory indexes over state.db (segment/seg_index.h).
 * Every store function that changes what is known about a profile (traits,
 * tags, event aggregates, a merge, a new profile) calls store_touch; when
 * the transaction commits, the profiles it touched are handed to the
 * function set with store_on_commit, once each or more, on the committing
 * thread, after the commit (a reader that sees the list can read the
 * changes). A rollback forgets them. More than STORE_TOUCH_MAX profiles in
 * one transaction are reported as overflow (n = 0, overflow = 1): "anything
 * may have changed". fn must be quick and thread-safe; set it before the
 * engine starts. */
#define STORE_TOUCH_MAX 65536
struct store_touch {
	int64_t workspace_id, profile_id;
};
typedef void (*store_commit_fn)(void *arg, const struct store_touch *t, size_t n, int overflow);
void store_on_commit(struct store *st, store_commit_fn fn, void *arg);
void store_touch(struct store *st, int64_t ws, int64_t profile_id);
/* Reports "anything may have changed" at the next commit (e.g. the cursor
 * was moved by another process). */
void store_touch_all(struct store *st);

int64_t store_cursor_get(struct store *st, const char *name);
int store_cursor_set(struct store *st, const char *name, int64_t value, struct cairn_err *err);

/* ---- profiles and identity (call inside store_begin/commit) -------------- */
#define STORE_ID_USER "user"
#define STORE_ID_ANON "anonymous"

struct store_profile {
	int64_t profile_id;
	int64_t workspace_id;
	char *user_id; /* NULL for anonymous-only */
	json_t *traits;
	char *lifecycle; /* or NULL */
	int64_t first_seen, last_seen, created_at, updated_at;
};
void store_profile_release(struct store_profile *p);

/* 0 and *profile_id, or CAIRN_ENOTFOUND. */
int store_identity_find(struct store *st, int64_t ws, const char *kind, const char *value, int64_t *profile_id);
/* Links kind/value to profile_id (moving it if linked elsewhere). */
int store_identity_link(struct store *st, int64_t ws, const char *kind, const char *value, int64_t profile_id,
			int64_t now, struct cairn_err *err);
int store_profile_create(struct store *st, int64_t ws, const char *user_id, int64_t now, int64_t *profile_id,
			 struct cairn_err *err);
int store_profile_get(struct store *st, int64_t profile_id, struct store_profile *out, struct cairn_err *err);
/* Writes traits (and the search columns derived from them), user_id,
 * lifecycle and seen times. */
int store_profile_put(struct store *st, const struct store_profile *p, struct cairn_err *err);
/* Moves everything of `from` (identities, timeline, tags, consent, groups)
 * to `into` and deletes `from`. Traits are merged by the caller. */
int store_profile_merge(struct store *st, int64_t ws, int64_t from, int64_t into, struct cairn_err *err);
int store_timeline_add(struct store *st, int64_t ws, int64_t profile_id, const struct store_event *ev,
		       struct cairn_err *err);
/* scope "channel" or "topic". */
int store_consent_put(struct store *st, int64_t ws, int64_t profile_id, const char *scope, const char *name,
		      const char *status, int64_t at, const char *source, struct cairn_err *err);
int store_tag_add(struct store *st, int64_t ws, int64_t profile_id, const char *tag, int64_t at, struct cairn_err *err);
int store_tag_remove(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err);
int store_group_put(struct store *st, int64_t ws, const char *group_id, json_t *traits, int64_t now,
		    struct cairn_err *err);
int store_group_member_add(struct store *st, int64_t ws, const char *group_id, int64_t profile_id, int64_t now,
			   struct cairn_err *err);

/* ---- the engine's outbox of emitted events -------------------------------- */
/* The profile's user id, or (anonymous profile) its first anonymous id;
 * one of the two OUT strings is set (caller frees both). */
int store_profile_ids(struct store *st, int64_t profile_id, char **user_id, char **anonymous_id, struct cairn_err *err);
/* Queues ev (message_id, user/anonymous id, name, body, ts, workspace) —
 * inside the engine's transaction. */
int store_outbox_add(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
/* Calls fn for at most limit queued events in order; *upto (OUT) is the
 * last row passed to fn, for store_outbox_delete_upto. */
int store_outbox_scan(struct store *st, int limit, store_event_fn fn, void *arg, int64_t *upto, struct cairn_err *err);
int store_outbox_delete_upto(struct store *st, int64_t upto, struct cairn_err *err);

/* ---- reads for the API (no transaction needed) --------------------------- */
/* The profile as the API shows it (traits, identities, consent, tags,
 * lifecycle, groups, times): a new JSON object, or NULL with
 * CAIRN_ENOTFOUND. Looks up user ids first, then anonymous ids. */
json_t *store_profile_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err);
/* The same, without "computed" when with_computed is 0 (a dozen fewer reads). */
json_t *store_profile_json_opt(struct store *st, int64_t ws, const char *id, int with_computed, struct cairn_err *err);
/* Internal profile id for a user or anonymous id; CAIRN_ENOTFOUND. */
int store_profile_resolve(struct store *st, int64_t ws, const char *id, int64_t *profile_id, struct cairn_err *err);
/* Timeline, newest first. cursor_in may be NULL; *cursor_out (OUT, malloc'd
 * or NULL) continues the list. Returns a JSON array of events. */
json_t *store_timeline_json(struct store *st, int64_t ws, int64_t profile_id, int limit, const char *cursor_in,
			    char **cursor_out, struct cairn_err *err);
/* Events of the workspace, newest first, optionally only one name. */
/* The distinct event names of ws's timeline, sorted, at most max (an array
 * of strings): one index seek per name, not a scan of the events. */
json_t *store_event_names(struct store *st, int64_t ws, int max, struct cairn_err *err);
json_t *store_events_json(struct store *st, int64_t ws, const char *name, int limit, const char *cursor_in,
			  char **cursor_out, struct cairn_err *err);
/* Profiles matching q in user id, anonymous id, email, phone, name or any
 * trait value (substring, case-insensitive for ASCII; Korean works). */
json_t *store_profiles_search(struct store *st, int64_t ws, const char *q, int limit, const char *cursor_in,
			      char **cursor_out, struct cairn_err *err);
/* LIKE patterns for a phone-number query ("010-1234" → digits, and the
 * other form of Korea's country prefix); -1 if q is not phone-like. */
int store_phone_query(const char *q, char **digits, char **alt);
/* Streams every profile of ws as its API JSON to fn (export). */
typedef int (*store_json_fn)(json_t *item, void *arg);
int store_profiles_each(struct store *st, int64_t ws, store_json_fn fn, void *arg, struct cairn_err *err);
/* Streams every event of ws (log order) as its JSON (normalized as the
 * API shows it). */
int store_events_each(struct store *st, int64_t ws, store_text_fn fn, void *arg, struct cairn_err *err);

#endif
