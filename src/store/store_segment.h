/* store_segment.h — per-user event aggregates and computed traits: every
 * line of their SQL (src/segment/ holds the rules that drive them).
 *
 * Tables (migration 4):
 *   seg_daily (workspace_id, profile_id, name, day) → count, revenue,
 *             first_ts, last_ts
 *       one row per user, track event name and UTC day (day = floor(ts /
 *       86,400,000)); revenue sums properties.revenue as defined by
 *       store_seg_revenue_of; first_ts / last_ts bound the bucket's events.
 *   seg_state (workspace_id, profile_id) → unopened_emails, last_email_at
 *       the one computed trait that depends on the order of events rather
 *       than their counts.
 *
 * Tables (migration 9), registered counters:
 *   seg_counters (counter_id) → workspace_id, name, where_text, property
 *       a definition: the track events named name whose properties pass the
 *       filter where_text (cond_to_text of a `where`, '' for none), and the
 *       property they sum (NULL: counted only). One per (workspace_id, name,
 *       where_text, property). Not derived: kept by rebuilds, and kept after
 *       the segment or rule that registered it is archived.
 *   seg_counter_daily (workspace_id, profile_id, counter_id, day) → count,
 *       sum, first_ts, last_ts
 *       seg_daily's buckets for the events a counter counts; sum adds up
 *       store_seg_number_of(property) of each (0 without a property).
 *
 * Invariants:
 *   1. For every applied track event of a profile there is exactly one
 *      increment of its (name, day) bucket, made in the engine's transaction
 *      with the timeline row of the same event, so the buckets and the
 *      timeline's track rows always agree (store_seg_count relies on it to
 *      finish a partly covered day from the timeline).
 *   2. Counts are exact for any [since, until] in milliseconds: whole days
 *      come from the buckets; a bucket the range cuts through (its
 *      first_ts..last_ts straddles an end) is counted from the timeline for
 *      that part of that day only.
 *   3. When ingest merges profile `from` into `into`, store_seg_merge must run
 *      in the same transaction (store_profile_merge calls it): buckets (of
 *      seg_daily and seg_counter_daily) are added up, the streak of the
 *      profile with the later email event wins.
 *   4. A counter's buckets hold every applied event it counts: a new counter
 *      is backfilled from the timeline (store_seg_counter_backfill) in the
 *      transaction that inserts it, and from then on the engine adds each
 *      matching event (store_seg_counter_add) in the event's transaction.
 *      Invariants 1 and 2 hold for them as for seg_daily: a cut bucket is
 *      finished from the timeline through the same match function.
 *
 * Statements are prepared once per connection and finalized when that
 * connection closes (SQLITE_TRACE_CLOSE hook; see store_segment.c).
 *
 * Errors: 0 or a negative CAIRN_E* with err filled (CAIRN_EIO for SQLite). */
#ifndef STORE_STORE_SEGMENT_H
#define STORE_STORE_SEGMENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define STORE_SEG_DAY_MS 86400000LL

/* What an applied event does to the unopened-email streak. */
enum store_seg_streak {
	STORE_SEG_STREAK_KEEP = 0,
	STORE_SEG_STREAK_INC,	/* an email was sent: +1 */
	STORE_SEG_STREAK_RESET, /* opened or clicked: back to 0 */
};

/* The UTC day number of ms (floor division, also before 1970). */
int64_t store_seg_day(int64_t ms);

/* A value as a condition's `sum` reads it: a JSON number, or a string
 * holding a plain decimal number ("42", "-1.5e3"); anything else (and
 * NULL) is 0. */
double store_seg_number_of(const json_t *v);
/* The revenue an event adds to its bucket; 0 when it has none.
 * properties may be NULL: store_seg_number_of(properties.revenue). */
double store_seg_revenue_of(const json_t *properties);

/* Counts one track event (call inside the engine's transaction): one UPSERT
 * of its bucket, plus one of seg_state when streak != KEEP. */
int store_seg_apply(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t ts, double revenue,
		    enum store_seg_streak streak, struct cairn_err *err);

/* Moves from's aggregates into `into` (invariant 3). */
int store_seg_merge(struct store *st, int64_t ws, int64_t from, int64_t into, struct cairn_err *err);

/* Number of the profile's track events named name with since <= ts <= until
 * (since 0 = all time) into *count; when revenue is not NULL, their revenue
 * total into *revenue (store_seg_revenue_of of each). Exact (invariant 2).
 * store_seg_series_count over the seg_daily series of name. */
int store_seg_count(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		    int64_t *count, double *revenue, struct cairn_err *err);

/* Whether one event (its properties, borrowed, may be NULL) is counted by a
 * counter: 1 with *value (OUT) the number it adds to the sum, or 0. Must
 * give the answer the counter's buckets were built with. */
typedef int (*store_seg_match_fn)(const json_t *properties, double *value, void *arg);

/* A series of buckets an aggregate is read from. */
struct store_seg_series {
	const char *name;	  /* the event name */
	int64_t counter_id;	  /* 0: seg_daily (every event of name; value = revenue) */
	store_seg_match_fn match; /* required with a counter_id; ignored without */
	void *arg;		  /* passed to match */
};

/* store_seg_count over any series: count (and, sum not NULL, the sum of the
 * values) of the events it counts with since <= ts <= until (since 0 = all
 * time). Whole buckets are read as stored; a bucket the range cuts is
 * finished from the timeline, testing each event with the series' match. */
int store_seg_series_count(struct store *st, int64_t ws, int64_t profile_id, const struct store_seg_series *sr,
			   int64_t since, int64_t until, int64_t *count, double *sum, struct cairn_err *err);

/* store_seg_oldest over any series. */
int store_seg_series_oldest(struct store *st, int64_t ws, int64_t profile_id, const struct store_seg_series *sr,
			    int64_t since, int64_t until, int64_t *out_ms, struct cairn_err *err);

/* ---- registered counters (migration 9) ------------------------------------- */

/* A counter definition; strings owned (store_seg_counters_free). */
struct store_seg_counter {
	int64_t id;
	char *name;
	char *where_text; /* "" for none */
	char *property;	  /* NULL: counted only */
};

/* The counter of ws for (name, where_text) that sums property — or, with
 * property NULL, any counter of (name, where_text), as each counts the same
 * events. 0 with *id (OUT), 1 when there is none, <0 on failure. */
int store_seg_counter_find(struct store *st, int64_t ws, const char *name, const char *where_text, const char *property,
			   int64_t *id, struct cairn_err *err);

/* Inserts a counter definition (inside a transaction): 0 with *id (OUT),
 * CAIRN_ECONFLICT when (name, where_text, property) exists. Its buckets
 * start empty: the caller backfills them before committing (invariant 4). */
int store_seg_counter_insert(struct store *st, int64_t ws, const char *name, const char *where_text,
			     const char *property, int64_t now, int64_t *id, struct cairn_err *err);

/* Fills the buckets of sr->counter_id for every profile of ws from the
 * timeline: each track event named sr->name that sr->match accepts, added
 * up per (profile, day) (inside the transaction that inserted the counter). */
int store_seg_counter_backfill(struct store *st, int64_t ws, const struct store_seg_series *sr, struct cairn_err *err);

/* Counts one event in a counter's bucket (the engine, in the event's
 * transaction): one UPSERT. */
int store_seg_counter_add(struct store *st, int64_t ws, int64_t profile_id, int64_t counter_id, int64_t ts,
			  double value, struct cairn_err *err);

/* Every counter of ws, by id, into *out (OUT; *n entries; free with
 * store_seg_counters_free). */
int store_seg_counters_list(struct store *st, int64_t ws, struct store_seg_counter **out, size_t *n,
			    struct cairn_err *err);
void store_seg_counters_free(struct store_seg_counter *v, size_t n);

/* The slow path: calls fn(ts, properties, arg) for each track event named
 * name of the profile with since <= ts <= until (since 0 = all time), in
 * time order; properties is borrowed (may be NULL). A non-zero return from
 * fn stops the scan: > 0 is returned as is, < 0 fails with CAIRN_EIO. Reads
 * every event of that name in the window: for ad-hoc `where` filters until
 * saved segments register counters of their own. */
typedef int (*store_seg_event_fn)(int64_t ts, const json_t *properties, void *arg);
int store_seg_scan(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		   store_seg_event_fn fn, void *arg, struct cairn_err *err);

/* A time <= the earliest event named name in [since, until]: 0 with *out_ms,
 * 1 when there is none. Answered from the buckets (may be early). */
int store_seg_oldest(struct store *st, int64_t ws, int64_t profile_id, const char *name, int64_t since, int64_t until,
		     int64_t *out_ms, struct cairn_err *err);

/* 1 when the profile has tag, 0 when not, <0 on failure. */
int store_seg_has_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err);

/* The consent status for a channel ("email", …, or "topics.<name>"):
 * "subscribed", "unsubscribed" or "unknown" (static strings; NULL on
 * failure). */
const char *store_seg_consent(struct store *st, int64_t ws, int64_t profile_id, const char *channel,
			      struct cairn_err *err);

/* The computed traits of a profile as of now_ms, a new JSON object
 * (docs/computed-traits.md lists them). Time-windowed values are computed
 * here, at read time, so they slide with the clock. NULL with err on
 * failure. */
json_t *store_seg_computed_json(struct store *st, int64_t ws, int64_t profile_id, int64_t now_ms,
				struct cairn_err *err);

/* Recomputes the RFM scores of every workspace not yet scored on now_ms's
 * UTC day (the engine's tick; inside its transaction). */
int store_seg_rfm_run(struct store *st, int64_t now_ms, struct cairn_err *err);

#endif
