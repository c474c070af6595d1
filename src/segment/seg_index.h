/* seg_index.h — an in-memory, columnar index of what conditions ask about
 * users, so a segment preview answers over a whole workspace at once
 * instead of evaluating a condition user by user (decision 0008).
 *
 *   preview ──► seg_index_count ──► cond_eval_set (cond.h) over bitsets
 *                 │                   tag, trait, event count/revenue
 *                 │                   leaves answered from columns here
 *                 └─► decide(profile) for the few users the columns
 *                     cannot settle (other leaves, a window cutting a day)
 *
 * Columns are built on first use, per workspace: the profiles (a bitset of
 * slots, slot = profile_id − base), one bitset per tag asked about, one
 * interned value per profile per trait asked about, and the day buckets of
 * each event name asked about. They stay in memory for the life of the
 * process.
 *
 * Invariants:
 *   1. Freshness: every store transaction that changes a profile reports it
 *      after its commit (store_on_commit); seg_index_count first re-reads
 *      every reported profile, so it sees at least everything committed
 *      before it started. A report of "anything changed" (another process
 *      moved the engine's cursor, a huge transaction) drops the columns.
 *   2. The index never decides alone what it cannot answer exactly: such
 *      users go to decide(), so counts equal a per-user evaluation.
 *   3. Previews run one at a time (one lock); the engine only appends to a
 *      list of changed profiles under a second, short lock.
 *
 * Errors follow core/err.h. */
#ifndef SEGMENT_SEG_INDEX_H
#define SEGMENT_SEG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/err.h"
#include "store/store.h"

struct seg_index;

/* Creates the index of st and subscribes it to st's commits. One per store;
 * call before the engine starts. */
struct seg_index *seg_index_attach(struct store *st);
/* Unsubscribes and frees (after the engine stopped). */
void seg_index_detach(struct seg_index *ix);
/* The index attached to st, or NULL. */
struct seg_index *seg_index_of(struct store *st);

/* Decides c for one profile the columns could not settle: *yes 1 or 0.
 * Returns 0, CAIRN_ENOTFOUND (gone: not counted), or another negative code
 * with err filled (the count fails). */
typedef int (*seg_index_decide_fn)(void *arg, int64_t profile_id, int *yes, struct cairn_err *err);

/* Counts the profiles of ws for which c holds at now into *count, and
 * writes up to nsample of their ids, ascending, into sample (*nsampled).
 * 0, or a negative CAIRN_E* with err filled. */
int seg_index_count(struct seg_index *ix, int64_t ws, const struct cond *c, int64_t now, seg_index_decide_fn decide,
		    void *decide_arg, int64_t *count, int64_t *sample, size_t nsample, size_t *nsampled,
		    struct cairn_err *err);

#endif
