/* tagging.h — auto-tagging rules, run by the engine (SPEC §4, seed 001).
 *
 * trk_tagging_apply runs for every applied event (in the batch transaction,
 * after live segments); trk_tagging_tick runs in its own transaction when
 * the engine is idle (at most every 200 ms) and after the virtual clock
 * moves, for rules that fire on time alone ("no order within 3 days").
 * Both may emit events with engine_emit. 0 or a negative CAIRN_E*. */
#ifndef TRACK_TAGGING_H
#define TRACK_TAGGING_H

#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

int trk_tagging_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
int trk_tagging_tick(struct store *st, int64_t now_ms, struct cairn_err *err);

#endif
