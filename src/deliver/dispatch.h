/* dispatch.h — the dispatcher: from the outbox (messages, status queued)
 * to the provider's answer, reliably.
 *
 * One thread per server. Each round it claims due messages with a lease
 * (transactional lane first; store_deliver.h), applies the policies, builds
 * what goes on the wire (MIME + DKIM for email, the channel's payload for
 * the rest), and runs every transfer of every provider concurrently in one
 * libcurl multi handle. Outcomes are committed in batches, each with its
 * history row, the `Email Sent` / `Message Sent` / `Message Failed` event
 * (engine outbox, so it reaches the log exactly once), a fallback message
 * or a suppression when the outcome calls for one.
 *
 *   claim ─► policies ─► build ─► wait for provider capacity ─► transfer ─► outcome ─► commit
 *             │ kill switch → held (until released)
 *             │ suppressed address, consent, no address → failed (+ fallback channel)
 *             │ quiet hours (advertising, no night consent) → held until morning
 *             │ preferred channel among the fallbacks → rerouted
 *
 * Invariants:
 *   1. A message is sent only while this dispatcher holds its lease and its
 *      outcome is recorded only if it is still "sending" (store_deliver.h
 *      invariant 3). A crash between a provider's acceptance and the commit
 *      of the outcome re-sends that message after restart: the in-flight
 *      window, at most the messages in flight plus one uncommitted batch
 *      (DLV_MAX_INFLIGHT, outcomes committed every DLV_COMMIT_MS).
 *   2. Policies never drop: a held message keeps its row and is due again
 *      at its release (quiet hours) or when the kill switch is lifted.
 *   3. Transient failures retry with exponential backoff and ±20 % jitter
 *      (provider's retry_base_ms × 2^(round−1), at most an hour; a 429's
 *      Retry-After when longer); with several providers for the channel the
 *      next attempt goes to the next provider at once (failover) and the
 *      backoff applies per round over all of them. After max_attempts the
 *      message is dead: listed, inspectable, replayable.
 *   4. A provider failing DLV_BREAKER_FAILS times in a row is skipped for
 *      DLV_BREAKER_OPEN_MS (circuit open), then tried with one message
 *      (half open); while it is open its channel's messages go to the
 *      other providers, or wait when there is none.
 *   5. Time: due times and backoff come from the clock interface (virtual
 *      in tests); breakers and batching use monotonic time.
 */
#ifndef DELIVER_DISPATCH_H
#define DELIVER_DISPATCH_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_deliver.h"

#define DLV_MAX_INFLIGHT    512
#define DLV_COMMIT_MS	    20
#define DLV_LEASE_MS	    (15 * 60 * 1000)
#define DLV_BREAKER_FAILS   5
#define DLV_BREAKER_OPEN_MS 30000
#define DLV_PREP_THREADS    2 /* build MIME, sign DKIM, render bodies beside the dispatcher */

struct dlv_opts {
	const char *public_url; /* base of tracking and unsubscribe links; NULL: none */
	const char *data_dir;	/* the file provider's default <data>/outbox */
	/* called on the dispatcher thread after a batch of outcomes committed
	 * (the server forwards emitted events to the log and wakes the engine) */
	void (*on_commit)(void *arg);
	void *arg;
};

struct dlv_dispatcher;

/* Starts the thread; requeues messages a previous process left "sending". */
struct dlv_dispatcher *dlv_dispatcher_new(struct store *st, const struct dlv_opts *opts);
/* Stops after the transfers in flight finish (or time out) and their
 * outcomes commit. NULL is a no-op. */
void dlv_dispatcher_free(struct dlv_dispatcher *d);
/* Something was queued or changed (a send, a provider, the kill switch). */
void dlv_dispatcher_kick(struct dlv_dispatcher *d);
/* Waits until nothing due by now is queued, held for capacity or in
 * flight, and every outcome is committed (the virtual clock route).
 * 0, or -1 on timeout. */
int dlv_dispatcher_sync(struct dlv_dispatcher *d, int timeout_ms);

/* Sends one test message through provider_id of ws now, on the calling
 * thread, without the outbox: to is an address (email) or a phone / token /
 * nothing for other channels. OUT: *result {"ok":bool,"class":…,"status"
 * or "reply":…, "ms":N}. CAIRN_ENOTFOUND, or CAIRN_EUNPROC for a bad `to`. */
int dlv_send_test(struct store *st, int64_t ws, const char *provider_id, const char *to, const char *public_url,
		  const char *data_dir, json_t **result, struct cairn_err *err);

/* The properties every event about message m carries (CONVENTIONS §3):
 * message_id, channel, journey_id, journey_version, node_id, variant,
 * template_id, topic — those it has (a new object). */
json_t *dlv_event_props(const struct store_dlv_msg *m);

/* The kill switch of ws as stored ({"global":bool,"channels":[…],
 * "journeys":[…]}); 1 when it stops a message of channel / journey_id. */
int dlv_killed(const json_t *kill, const char *channel, const char *journey_id);

#endif
