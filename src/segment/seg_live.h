/* seg_live.h — live segment membership, run by the engine.
 *
 * seg_live_apply runs for every applied event (in the batch transaction,
 * after the aggregates); seg_live_tick runs in its own transaction when the
 * engine is idle (at most every 200 ms) and after the virtual clock moves,
 * for memberships that change with time alone. Both may emit events with
 * engine_emit. 0 or a negative CAIRN_E* with err filled. */
#ifndef SEGMENT_SEG_LIVE_H
#define SEGMENT_SEG_LIVE_H

#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

int seg_live_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
int seg_live_tick(struct store *st, int64_t now_ms, struct cairn_err *err);

#endif
