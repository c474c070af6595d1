/* seg_live.h — live segment membership, run by the engine.
 *
 * seg_live_apply runs for every applied event (in the batch transaction,
 * after the aggregates); seg_live_tick runs in its own transaction when the
 * engine is idle (at most every 200 ms) and after the virtual clock moves,
 * for memberships that change with time alone. Both may emit events with
 * engine_emit. 0 or a negative CAIRN_E* with err filled.
 *
 * The API saves, archives and previews segments through the functions
 * below (docs/segments.md); storage is store/store_seg_live.h. */
#ifndef SEGMENT_SEG_LIVE_H
#define SEGMENT_SEG_LIVE_H

#include <jansson.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/err.h"
#include "store/store.h"

#define SEG_LIVE_TICK_MAX 1000 /* due (segment, profile) pairs re-evaluated per tick */
#define SEG_LIVE_SAMPLE	  20   /* user ids in a preview's sample */

int seg_live_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
int seg_live_tick(struct store *st, int64_t now_ms, struct cairn_err *err);

/* Checks that c can define a segment of ws named self_id: no `property`
 * leaf outside an event's `where` (a segment has no current event), and
 * every {"segment": …} names another live segment. CAIRN_EUNPROC with
 * err->field "condition" otherwise. */
int seg_live_check(struct store *st, int64_t ws, const struct cond *c, const char *self_id, struct cairn_err *err);

/* Saves a segment (create = 1: new id, CAIRN_ECONFLICT when a live one has
 * it; 0: replace, CAIRN_ENOTFOUND) and computes its membership over every
 * profile of ws, in ONE transaction; the engine uses the new definition
 * from its next step. The initial fill (and the changes a new condition
 * makes) emit no Segment Entered / Exited events. c must have passed
 * seg_live_check. */
int seg_live_save(struct store *st, int64_t ws, const char *id, const char *name, const struct cond *c, int create,
		  int64_t now, struct cairn_err *err);
/* Archives a segment: it stops being live, its members are dropped. */
int seg_live_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err);

/* Evaluates c over every profile of ws at now without saving anything:
 * *count (OUT) matching profiles, and up to SEG_LIVE_SAMPLE of their ids
 * appended to sample (a JSON array). O(profiles) for now. */
int seg_live_preview(struct store *st, int64_t ws, const struct cond *c, int64_t now, int64_t *count, json_t *sample,
		     struct cairn_err *err);

/* Tells the engine's cache that definitions changed (seg_live_save and
 * seg_live_archive call it themselves). */
void seg_live_invalidate(void);

#endif
