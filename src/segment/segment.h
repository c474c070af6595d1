/* segment.h — what cairn knows about each user beyond their traits: per-user
 * event aggregates, computed traits, and the struct cond_ctx provider that
 * answers conditions (src/cond/cond.h) from them. Live segments and tagging
 * rules build on this.
 *
 *   engine (per event, in its transaction)      API / rules (any thread)
 *   seg_apply_event ──► store_seg_apply         seg_ctx_init ──► cond_eval
 *                       (one UPSERT of the      (traits, tags, consent,
 *                        user's (name, day)      computed, event counts
 *                        bucket)                 from the buckets)
 *
 * Invariants:
 *   1. seg_apply_event runs once for every applied event, in log order, in
 *      the same transaction as the profile and timeline changes of that
 *      event (the engine calls it right after ingest_apply_event), so the
 *      aggregates equal a recomputation from the event log.
 *   2. Only `track` events are aggregated, by event name. Page, screen and
 *      the internal events (consent, tags, lifecycle) are not events a
 *      condition can count.
 *   3. consecutive_unopened_emails: +1 on `Email Sent`, 0 on `Email Opened`
 *      or `Email Link Clicked`, in the order events are applied.
 *   4. Everything relative to time (7/30/90-day counts, days since the last
 *      order, event windows) is computed when read, from ctx->now_ms or
 *      clock_now_ms(): values slide with the clock without a new event.
 *
 * Errors follow core/err.h. */
#ifndef SEGMENT_SEGMENT_H
#define SEGMENT_SEGMENT_H

#include <jansson.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/err.h"
#include "store/store.h"

/* Applies one logged event to the aggregates of profile_id (inside the
 * engine's transaction, after ingest_apply_event gave profile_id). Reads
 * the event's body only when it mentions "revenue". Returns 0, or
 * CAIRN_EIO with err filled (the engine then retries the batch). */
int seg_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);

/* The computed traits of a profile as of now_ms (a new object; see
 * docs/computed-traits.md), or NULL with err. */
json_t *seg_computed_json(struct store *st, int64_t ws, int64_t profile_id, int64_t now_ms, struct cairn_err *err);

/* A condition context over one profile. The caller owns the struct;
 * seg_ctx_init fills `cond` (now_ms = clock_now_ms(), which a caller may
 * overwrite before evaluating) and loads the profile's traits; the other
 * values are read on demand and cached for the life of the context.
 *
 *   struct seg_ctx sc;
 *   if (seg_ctx_init(&sc, st, ws, pid, event, &err) == 0) {
 *           int yes = cond_eval(c, &sc.cond, &err);
 *           seg_ctx_release(&sc);
 *   }
 *
 * Answers: trait (profile traits), property (event, borrowed, may be NULL),
 * tag (profile_tags), consent (consents), computed (seg_computed_json), and
 * event count / sum: a name-only query, and a sum of `revenue`, come from
 * the day buckets (exact to the millisecond: a day the window cuts is
 * finished from the timeline); a query with a `where` filter or a sum of
 * another property reads the user's events of that name in the window (the
 * slow path, until saved segments register counters of their own). Segment
 * membership cannot be answered yet (the condition fails with CAIRN_EINVAL);
 * every score reads as unknown until scores exist. */
struct seg_ctx {
	struct cond_ctx cond;
	struct store *st;
	int64_t ws, profile_id;
	json_t *traits;	  /* owned */
	json_t *computed; /* owned; NULL until first asked */
	int64_t computed_at;
};

/* 0, or CAIRN_ENOTFOUND / CAIRN_EIO with err filled. event is borrowed and
 * must outlive the context. */
int seg_ctx_init(struct seg_ctx *ctx, struct store *st, int64_t ws, int64_t profile_id, json_t *event,
		 struct cairn_err *err);
void seg_ctx_release(struct seg_ctx *ctx);

/* Evaluates c for the user or anonymous id `id` of ws at clock_now_ms().
 * *result (OUT) is 1 or 0. Returns 0, or CAIRN_ENOTFOUND (no such user) or
 * another negative code from cond_eval with err filled. */
int seg_eval_user(struct store *st, int64_t ws, const char *id, const struct cond *c, int *result,
		  struct cairn_err *err);

/* 1 when applying ev could change the value of c for the event's user (the
 * events each leaf is derived from; time-only changes are the ticks' job). */
int seg_cond_depends_on(const struct cond *c, const struct store_event *ev);

/* Daily RFM scores (engine tick): recomputes every workspace not yet
 * scored today. */
int seg_rfm_tick(struct store *st, int64_t now_ms, struct cairn_err *err);

#endif
