/* store_seg_index.h — the bulk reads behind the in-memory segment index
 * (segment/seg_index.h): whole columns of a workspace in one statement
 * each, and the same for one profile when it changed. Every line of their
 * SQL is in store_seg_index.c.
 *
 * Callbacks get plain values, valid only during the call; a non-zero
 * return stops the read and is returned. Errors: 0 or a negative CAIRN_E*
 * with err filled (CAIRN_EIO for SQLite). All reads of one call see one
 * snapshot of state.db. */
#ifndef STORE_STORE_SEG_INDEX_H
#define STORE_STORE_SEG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* Profile ids of ws in ascending order. */
typedef int (*store_sx_id_fn)(void *arg, int64_t profile_id);
int store_sx_profiles(struct store *st, int64_t ws, store_sx_id_fn fn, void *arg, struct cairn_err *err);

/* The JSON text of a trait (NULL when absent) for every profile of ws, or
 * for one profile (profile_id > 0), read as the condition language reads
 * names: the whole name as one key first, else split on '.'. Returns 1
 * without reading when the name cannot be written as a JSON path here (it
 * holds a '"'). */
typedef int (*store_sx_value_fn)(void *arg, int64_t profile_id, const char *json, size_t len);
int store_sx_trait(struct store *st, int64_t ws, int64_t profile_id, const char *name, store_sx_value_fn fn, void *arg,
		   struct cairn_err *err);

/* Profiles of ws (or just profile_id, when > 0) that carry tag. */
int store_sx_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, store_sx_id_fn fn, void *arg,
		 struct cairn_err *err);

/* The day buckets of event `name` (store_segment.h, seg_daily) of every
 * profile of ws, or of one profile (profile_id > 0), ordered by profile. */
struct store_sx_bucket {
	int64_t day, count, first_ts, last_ts;
	double revenue;
};
typedef int (*store_sx_bucket_fn)(void *arg, int64_t profile_id, const struct store_sx_bucket *b);
int store_sx_daily(struct store *st, int64_t ws, int64_t profile_id, const char *name, store_sx_bucket_fn fn, void *arg,
		   struct cairn_err *err);

/* The workspace of a profile: 0 and *ws, or CAIRN_ENOTFOUND when it does
 * not exist (merged away), or CAIRN_EIO. */
int store_sx_profile_ws(struct store *st, int64_t profile_id, int64_t *ws, struct cairn_err *err);

/* Runs fn inside one read transaction (one snapshot for every read it
 * makes on this thread's connection). Returns fn's result. */
int store_sx_snapshot(struct store *st, int (*fn)(void *arg, struct cairn_err *err), void *arg, struct cairn_err *err);

#endif
