/* analytics.h — numbers the marketer acts on, kept as rollups the engine
 * updates as events are applied, so reports never scan the event log.
 *
 *   event (Email Sent, Email Opened, …) ──stats_apply_event──► an_msg_daily
 *   an_msg_daily ──stats_messages_report──► rows with totals, uniques, rates
 *
 * Message metrics (CONVENTIONS §3 events, by properties.message_id):
 *   sent (Email Sent / Message Sent), delivered, opened, clicked (people
 *   only; "machine": true opens and clicks count as opened_machine /
 *   clicked_machine), unsubscribed, bounced, complained (Email Marked as
 *   Spam), failed (Message Failed). Each has a total and a unique count
 *   (distinct messages). Days are UTC. */
#ifndef ANALYTICS_ANALYTICS_H
#define ANALYTICS_ANALYTICS_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* Conversions: an Order Completed (its properties.revenue) is attributed
 * to the message that last touched the user within 7 days before it — the
 * latest they clicked, else the latest sent to them (last touch). */
#define STATS_CONVERSION_EVENT "Order Completed"
#define STATS_ATTRIBUTION_MS   (7 * 86400000LL)

/* Engine stage: counts ev when it is a message metric or a conversion
 * (inside the engine's transaction). */
int stats_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);

/* Attributed conversions and revenue over [from_ms, to_ms], grouped by
 * channel, journey, node, template or day (NULL: one row). */
json_t *stats_attribution_report(struct store *st, int64_t ws, const char *by, int64_t from_ms, int64_t to_ms,
				 struct cairn_err *err);

/* The message report of ws over [from_ms, to_ms] (UTC days containing
 * them), grouped by `by` (channel, journey, node, variant, template, day;
 * NULL: one row), optionally for one journey: a new array of rows with
 * every metric, its unique count and the rates (open_rate, click_rate,
 * click_to_open_rate, unsubscribe_rate, bounce_rate, complaint_rate), each
 * distinct messages over distinct messages sent (click-to-open: over opened). */
json_t *stats_messages_report(struct store *st, int64_t ws, const char *by, const char *journey_id, int64_t from_ms,
			      int64_t to_ms, struct cairn_err *err);

/* The metric columns of a report, in order (NULL-terminated). */
extern const char *const stats_message_columns[];

#endif
