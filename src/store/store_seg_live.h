/* store_seg_live.h — live segments: every line of their SQL (the rules that
 * drive them are src/segment/seg_live.c).
 *
 * Tables (state.db, migration 6):
 *   segments    (workspace_id, segment_id) → name, condition (normalized
 *               JSON text), size, created_at, updated_at, archived_at
 *   seg_members (workspace_id, segment_id, profile_id) → entered_at
 *   seg_due     (workspace_id, segment_id, profile_id) → due_at: the earliest
 *               time the pair's membership may change with the clock alone
 *               (cond_next_change); indexed by due_at for seg_live_tick
 *   seg_sizes   (workspace_id, segment_id, day) → size at the end of that
 *               UTC day (the last size written that day)
 *
 * Invariants:
 *   1. segments.size equals the number of seg_members rows of the segment:
 *      every add/remove/recount below changes both in one statement group,
 *      inside the caller's transaction.
 *   2. Every change of size upserts today's seg_sizes row with the new size.
 *   3. An archived segment has no members and no due rows.
 *
 * Writes run inside the caller's store_begin/store_commit (the engine's
 * step, or seg_live_save). Statements are prepared per call for now (the
 * store's statement table belongs to store.c). Errors: 0 or a negative
 * CAIRN_E* with err filled (CAIRN_EIO for SQLite). */
#ifndef STORE_STORE_SEG_LIVE_H
#define STORE_STORE_SEG_LIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* A segment definition, owned by the holder (store_segment_release). */
struct store_segment {
	char *id;
	char *name;
	char *condition; /* normalized condition JSON text */
	int64_t size;
	int64_t created_at, updated_at;
	int64_t archived_at; /* 0 unless archived */
};
void store_segment_release(struct store_segment *s);

struct store_segment_page {
	struct store_segment *items;
	size_t n;
	char *next_cursor; /* or NULL */
};
void store_segment_page_release(struct store_segment_page *p);

/* Creates id, or restores it when archived (a new definition, size 0).
 * CAIRN_ECONFLICT (segment_exists) when a live segment has the id. */
int store_segment_insert(struct store *st, int64_t ws, const char *id, const char *name, const char *condition,
			 int64_t now, struct cairn_err *err);
/* Replaces name and condition of a live segment; CAIRN_ENOTFOUND. */
int store_segment_update(struct store *st, int64_t ws, const char *id, const char *name, const char *condition,
			 int64_t now, struct cairn_err *err);
/* Archives a live segment and drops its members and due rows (size 0,
 * recorded in the history). CAIRN_ENOTFOUND. */
int store_segment_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err);
/* A live segment: 0 and out, or CAIRN_ENOTFOUND (segment_not_found). */
int store_segment_get(struct store *st, int64_t ws, const char *id, struct store_segment *out, struct cairn_err *err);
/* Live segments by id, at most limit; cursor NULL or a next_cursor
 * (CAIRN_EINVAL bad_cursor otherwise). limit 0 = all (the engine's cache). */
int store_segments_list(struct store *st, int64_t ws, int limit, const char *cursor, struct store_segment_page *out,
			struct cairn_err *err);

/* ---- membership --------------------------------------------------------- */

/* 1 and *entered_at (may be NULL) when a member, 0 when not, <0. */
int store_seg_member_get(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t *entered_at,
			 struct cairn_err *err);
/* Adds / removes a member, keeping size and today's history (inv. 1, 2).
 * Adding a member or removing a non-member changes nothing. */
int store_seg_member_add(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t at,
			 struct cairn_err *err);
int store_seg_member_remove(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t now,
			    struct cairn_err *err);
/* Drops every membership and due row of a profile (it was merged away or
 * erased), keeping sizes right. */
int store_seg_profile_forget(struct store *st, int64_t ws, int64_t profile_id, int64_t now, struct cairn_err *err);

/* Records when the pair must be re-evaluated; INT64_MAX deletes the row. */
int store_seg_due_set(struct store *st, int64_t ws, const char *seg, int64_t profile_id, int64_t due_at,
		      struct cairn_err *err);
/* Drops every due row of a segment (its condition changed). */
int store_seg_due_clear(struct store *st, int64_t ws, const char *seg, struct cairn_err *err);
struct store_seg_due {
	int64_t ws;
	char *seg;
	int64_t profile_id;
	int64_t due_at;
};
/* The earliest due rows with due_at <= now, at most limit, into *out (an
 * array the caller frees with store_seg_due_free). */
int store_seg_due_list(struct store *st, int64_t now, int limit, struct store_seg_due **out, size_t *n,
		       struct cairn_err *err);
void store_seg_due_free(struct store_seg_due *d, size_t n);

/* Profile ids of ws greater than after, ascending, at most cap, into ids;
 * *n (OUT) is how many. */
int store_seg_profiles(struct store *st, int64_t ws, int64_t after, int64_t *ids, size_t cap, size_t *n,
		       struct cairn_err *err);

/* ---- reads for the API -------------------------------------------------- */

/* Members as [{"id": user id (or anonymous id), "entered_at": RFC 3339}],
 * by profile id; cursor NULL or the *next_cursor (malloc'd or NULL) of an
 * earlier page. A new array, or NULL with err. */
json_t *store_seg_members_json(struct store *st, int64_t ws, const char *seg, int limit, const char *cursor,
			       char **next_cursor, struct cairn_err *err);
/* Calls fn(id, entered_at, arg) for every member (export); a non-zero
 * return stops and is returned. */
typedef int (*store_seg_member_fn)(const char *id, int64_t entered_at, void *arg);
int store_seg_members_each(struct store *st, int64_t ws, const char *seg, store_seg_member_fn fn, void *arg,
			   struct cairn_err *err);
/* The user (or anonymous) id shown for a profile, malloc'd, or NULL. */
char *store_seg_profile_label(struct store *st, int64_t profile_id);
/* History rows with day >= since_day, ascending: calls fn(day, size, arg);
 * also the last row before since_day first (the size carried into it). */
typedef int (*store_seg_size_fn)(int64_t day, int64_t size, void *arg);
int store_seg_sizes_each(struct store *st, int64_t ws, const char *seg, int64_t since_day, store_seg_size_fn fn,
			 void *arg, struct cairn_err *err);

/* Sets size from the member rows and records it in today's history (after
 * a bulk recomputation). */
int store_seg_recount(struct store *st, int64_t ws, const char *seg, int64_t now, struct cairn_err *err);

#endif
