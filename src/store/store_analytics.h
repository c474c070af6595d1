/* store_analytics.h — analytics rollups (state.db, migration 16).
 *
 *   an_msg_daily   per workspace, UTC day, channel, journey, node, variant
 *                  and template: how many times each metric happened (total)
 *                  and for how many distinct messages (uniq)
 *   an_msg_seen    (message, metric) pairs already counted in uniq
 *
 * Both are derived from the event log (store_rebuild.c empties them for a
 * replay). Reports read only the rollup, never the log.
 * Errors follow store.h. */
#ifndef STORE_STORE_ANALYTICS_H
#define STORE_STORE_ANALYTICS_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* One occurrence of metric for a message (inside the engine's transaction). */
struct store_an_hit {
	int64_t ws, day;
	const char *message_id, *metric, *channel, *journey_id, *node, *variant, *template_id;
};
int store_an_msg_add(struct store *st, const struct store_an_hit *h, struct cairn_err *err);

/* The rollup summed over days [from_day, to_day] of ws, grouped by the
 * dimension `by` ("channel", "journey", "node", "variant", "template",
 * "day" or NULL for one total), optionally for one journey: a new array of
 * {"key":…, "<metric>":N, "unique_<metric>":N, …}. */
json_t *store_an_msg_report(struct store *st, int64_t ws, const char *by, const char *journey_id, int64_t from_day,
			    int64_t to_day, struct cairn_err *err);

/* A funnel over the timeline: users whose first `steps[0]` in [from, to]
 * is followed, in order, by each next step within `window` ms of it.
 * OUT: users[k] for each step (n ≤ STORE_AN_FUNNEL_MAX). */
#define STORE_AN_FUNNEL_MAX 8
int store_an_funnel(struct store *st, int64_t ws, const char *const *steps, size_t n, int64_t from, int64_t to,
		    int64_t window, int64_t *users, struct cairn_err *err);

/* Users active in [from, to] (any event) and, of them, those whose last
 * event before it was more than inactive_ms earlier (new users, with no
 * earlier event, are not reactivated). */
int store_an_reactivated(struct store *st, int64_t ws, int64_t from, int64_t to, int64_t inactive_ms, int64_t *active,
			 int64_t *reactivated, struct cairn_err *err);

/* A conversion of profile_id at `at` worth revenue: counted for the
 * message that last touched the user within window before it (the latest
 * clicked, else the latest sent); nothing when none did. */
int store_an_attribute(struct store *st, int64_t ws, int64_t profile_id, int64_t at, int64_t window, double revenue,
		       struct cairn_err *err);
/* Attributed conversions and revenue over days, grouped by channel,
 * journey, node, template or day: [{"key","conversions","revenue"}]. */
json_t *store_an_attrib_report(struct store *st, int64_t ws, const char *by, int64_t from_day, int64_t to_day,
			       struct cairn_err *err);

/* Occurrences and distinct users of event per bucket of bucket_ms from
 * `from`: [{"bucket":i,"events","users"}] (empty buckets left out). */
json_t *store_an_series(struct store *st, int64_t ws, const char *event, int64_t from, int64_t to, int64_t bucket_ms,
			struct cairn_err *err);
/* Cohorts by the period of each user's first `first` in [from, to]: per
 * cohort its users and, for k = 0..periods, how many did `again` (later
 * than their first) in their k-th period: [{"cohort","users","returned":[…]}]. */
json_t *store_an_cohorts(struct store *st, int64_t ws, const char *first, const char *again, int64_t from, int64_t to,
			 int64_t period_ms, int periods, struct cairn_err *err);

/* The scoreboard of ws's live segments over [from, to]: per segment its
 * size now, members who entered in the period, and how many times and by
 * how many current members `event` happened in it (rate = users / size). */
json_t *store_an_segments(struct store *st, int64_t ws, const char *event, int64_t from, int64_t to,
			  struct cairn_err *err);

#endif
