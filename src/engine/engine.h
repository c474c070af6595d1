/* engine.h — applies the event log to derived state, in log order.
 *
 * One engine thread reads events after its cursor, applies each (identity
 * and profiles today; segments, tags, scores and journeys as they land) and
 * commits the effects together with the new cursor in ONE state.db
 * transaction: a crash between two batches re-applies nothing and loses
 * nothing. Every event carries its shard; on one node one thread owns all
 * shards (docs/decisions/0004-one-engine-thread.md).
 *
 *   idle --(notify / 200 ms poll)--> applying --(COMMIT)--> idle
 *                                        \--(error: rollback, log, retry)
 */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct engine;

struct engine *engine_new(struct store *st);
/* Stops the thread after the batch in progress. */
void engine_free(struct engine *e);
/* Tells the engine the log has grown to head (wakes it). */
void engine_notify(struct engine *e, int64_t head);
/* Waits until every event up to id is applied; 0, or -1 on timeout. */
int engine_wait_applied(struct engine *e, int64_t id, int timeout_ms);
int64_t engine_applied(struct engine *e);
/* Applies everything in the log now, on the calling thread (CLI import). */
int engine_catch_up(struct store *st, struct cairn_err *err);

#endif
