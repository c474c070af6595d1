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
 *   5. Registered counters: an event leaf with a `where`, or with a `sum` of
 *      a property other than `revenue` (seg_counter_needed), is answered from
 *      the buckets of the counter registered for (name, where_key, property)
 *      when there is one (seg_counters_register), and equals what reading
 *      the user's events would give; without one, by reading the events.
 *      Counters outlive what registered them (never dropped).
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
 * engine's transaction, after ingest_apply_event gave profile_id): its day
 * bucket, and the bucket of every registered counter of its name whose
 * filter holds. Parses the event's body at most once, and only when it
 * mentions "revenue" or a counter of its name exists. Returns 0, or
 * CAIRN_EIO with err filled (the engine then retries the batch). */
int seg_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);

/* Registers the counters c's event leaves need (invariant 5): for each leaf
 * with seg_counter_needed, a counter of (name, where_key, sum property)
 * unless one exists; a new one is backfilled from the timeline, for every
 * profile of ws, before this returns. Runs inside the caller's transaction
 * (store_begin … store_commit), which also saves what uses c; after that
 * transaction commits or rolls back, the caller calls
 * seg_counters_invalidate() so the engine reloads its definitions.
 * Returns 0, or a negative code with err filled (roll back then). Cost: one
 * read per event leaf; a new counter reads every event of its name in ws. */
int seg_counters_register(struct store *st, int64_t ws, const struct cond *c, struct cairn_err *err);

/* Makes the engine reload counter definitions before its next event (any
 * thread). seg_counters_register also calls it, before the commit. */
void seg_counters_invalidate(void);

/* 1 when an event leaf with this filter (NULL: none) and summed property
 * (NULL: none) needs a registered counter: the day buckets answer only
 * unfiltered counts and sums of revenue. */
int seg_counter_needed(const struct cond *where, const char *sum_property);

/* Whether one event passes a counter's filter (NULL: every event): 1 with
 * *value (OUT) = the property's number (store_seg_number_of; 0 without a
 * property), or 0. properties is borrowed and may be NULL. */
int seg_event_matches(const struct cond *where, const char *property, const json_t *properties, double *value);

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
 * another property from its registered counter's buckets, the same way, or
 * without one (previews of unsaved conditions) by reading the user's events
 * of that name in the window. Segment
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
