/* engine.h — applies the event log to derived state, in log order.
 *
 * One engine thread reads events after its cursor, applies each (identity
 * and profiles today; segments, tags, scores and journeys as they land) and
 * commits the effects together with the new cursor in ONE state.db
 * transaction: a crash between two batches re-applies nothing and loses
 * nothing. Every event carries its shard; on one node one thread owns all
 * shards (docs/decisions/0004-one-engine-thread.md).
 *
 *   idle --(notify / 200 ms poll)--> applying --(COMMIT)--> forwarding --> idle
 *     \                                  \--(error: rollback, log, retry)
 *      \--(idle ≥ 200 ms, or engine_sync)--> tick --(COMMIT)--> forwarding --> idle
 *
 * Stages, in order, for every event: ingest_apply_event (identity,
 * profile, timeline), seg_apply_event (aggregates), seg_live_apply
 * (segment membership), trk_tagging_apply (tagging rules). Ticks:
 * seg_live_tick, trk_tagging_tick. A stage that decides an
 * event emits it with engine_emit; "forwarding" appends the outbox to the
 * log, where the emitted events are applied like any other.
 */
#ifndef ENGINE_ENGINE_H
#define ENGINE_ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct engine;

struct engine *engine_new(struct store *st);
/* Stops the thread after the batch in progress. */
void engine_free(struct engine *e);
/* Tells the engine the log has grown to head (wakes it). */
void engine_notify(struct engine *e, int64_t head);
/* The last id of the events the engine emitted while applying events up
 * to id (Tag Added, Segment Entered, …; from the last 256 batches), or 0. A read that must see
 * the consequences of a write waits for that id too. */
int64_t engine_emitted_after(struct engine *e, int64_t id);
/* engine_forward, also giving the last log id it appended (0: none). */
int engine_forward_upto(struct store *st, int64_t *last_id, struct cairn_err *err);
/* Waits until every event up to id is applied; 0, or -1 on timeout. */
int engine_wait_applied(struct engine *e, int64_t id, int timeout_ms);
int64_t engine_applied(struct engine *e);
/* Applies everything in the log now, on the calling thread (CLI import). */
int engine_catch_up(struct store *st, struct cairn_err *err);

/* Inside an engine step (an applier or a tick): queue an event the system
 * emits (e.g. "Segment Entered") for the profile. Stored in state.db in the
 * same transaction as the step's effects and appended to the event log right
 * after the commit, exactly once: the messageId derives from dedup_key,
 * which must name the occurrence ("seg-enter:<segment>:<profile>:<cause>").
 * properties is stolen. */
int engine_emit(struct store *st, int64_t ws, int64_t profile_id, const char *event_name, json_t *properties,
		const char *dedup_key, int64_t ts, struct cairn_err *err);
/* engine_emit for any message type: {"type": type, "event": event_name
 * (omitted when NULL), field: payload, …} — e.g. ("tags", NULL,
 * "properties", {"add":[…]}) or ("identify", NULL, "traits", {…}), applied
 * by ingest like the same message from the API. payload is stolen. */
int engine_emit_message(struct store *st, int64_t ws, int64_t profile_id, const char *type, const char *event_name,
			const char *field, json_t *payload, const char *dedup_key, int64_t ts, struct cairn_err *err);
/* Runs the time-driven steps once, now, on the calling thread (their own
 * transaction, then forwarding). */
int engine_tick(struct store *st, struct cairn_err *err);
/* Another thread committed rows to the outbox (delivery outcomes): the
 * engine thread appends them to the log and applies them soon. */
void engine_forward_soon(struct engine *e);
/* Moves emitted events from the outbox to the log (after a commit). */
int engine_forward(struct store *st, struct cairn_err *err);
/* Runs the time-driven steps now and waits until they and everything they
 * caused are applied (the virtual clock route). 0, or -1 on timeout. */
int engine_sync(struct engine *e, int timeout_ms);

#endif
