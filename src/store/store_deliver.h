/* store_deliver.h — the message outbox and what delivery keeps: status
 * history, providers, sender domains, suppressions.
 *
 * Tables (state.db, migrations 10 and 14):
 *
 *   messages          one row per message decided (journey step, send API,
 *                     fallback): its rendered content, where it stands
 *                     (status), when it is due (send_at), its lease while a
 *                     dispatcher holds it, attempts, provider, last reason
 *   message_history   every change of status after "queued", in order
 *   providers         per channel, ordered by priority; config is JSON
 *                     text, secret an opaque blob (sealed by src/deliver)
 *   domains           sender domains with their DKIM key (sealed blob)
 *   suppressions      (channel, address) never sent to again
 *
 * The message state machine (status column; history rows name the edges):
 *
 *   queued ──claim──► sending ──sent────────► sent
 *     ▲  ▲               │  ├──failed───────► failed   (permanent, or a policy)
 *     │  │               │  ├──dead─────────► dead     (attempts exhausted)
 *     │  └──retried──────┘  └──held─────────► held     (quiet hours: send_at =
 *     │                                                 morning; kill switch:
 *     └──────────── replayed / resumed ◄────── dead, failed, held   send_at = never)
 *
 * Invariants:
 *   1. A message row is inserted in the transaction that decided it (the
 *      journey step, the send API's request) and never deleted.
 *   2. Only store_dlv_claim moves a row to "sending", and only from queued
 *      or held with send_at ≤ now, transactional (priority 0) rows first;
 *      it sets lease_until. A row whose lease expired (its dispatcher died)
 *      is claimable again: store_dlv_reclaim puts it back to queued.
 *   3. store_dlv_record changes a row only if it is still "sending" (a
 *      lease lost to a reclaim does not overwrite the newer outcome), and
 *      writes the history row with it.
 *   4. send_at of a kill-switch hold is STORE_DLV_NEVER: not due, not a
 *      due time of the virtual clock.
 *
 * Errors follow store.h: 0 or a negative CAIRN_E* with err filled. */
#ifndef STORE_STORE_DELIVER_H
#define STORE_STORE_DELIVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define STORE_DLV_NEVER 4611686018427387904LL /* send_at of a message held until released */

/* ---- queueing ---------------------------------------------------------------- */

struct store_message {
	const char *message_id;
	int64_t ws, profile_id, instance_id, version;
	const char *journey_id, *node, *variant, *channel, *template_id;
	int advertising;
	int transactional;     /* priority lane 0; skips marketing-only policies */
	const char *topic;     /* consent topic, or NULL */
	const char *recipient; /* JSON {"email":…}/{"phone":…} overriding the profile's, or NULL */
	const char *parent_id; /* the message this one falls back from, or NULL */
	const char *content;   /* rendered JSON text */
	const char *status;
	int64_t created_at, send_at;
};
/* Inserts m; an existing message_id is left as it is. OUT (may be NULL):
 * *inserted 1 when the row is new. */
int store_message_insert(struct store *st, const struct store_message *m, int *inserted, struct cairn_err *err);
/* Messages queued for profile on channel with send_at ≥ since, and the
 * earliest send_at among them (0 when none): frequency caps. */
int store_message_window(struct store *st, int64_t ws, int64_t profile_id, const char *channel, int64_t since,
			 int64_t *count, int64_t *oldest, struct cairn_err *err);

/* ---- dispatching --------------------------------------------------------------- */

/* A claimed message: every string malloc'd, store_dlv_msg_release. */
struct store_dlv_msg {
	char *message_id, *journey_id, *node, *variant, *channel, *template_id, *topic, *recipient, *parent_id,
		*content, *status;
	int64_t ws, profile_id, version, created_at, send_at;
	int advertising, transactional, attempts;
};
void store_dlv_msg_release(struct store_dlv_msg *m);

/* Claims at most limit due messages (invariant 2) in one transaction:
 * status → sending, lease_until. OUT: *out (an array of *n, caller frees
 * each with store_dlv_msg_release and the array with free). */
int store_dlv_claim(struct store *st, int64_t now, int64_t lease_until, int limit, struct store_dlv_msg **out,
		    size_t *n, struct cairn_err *err);
/* One message by id, in any workspace (the tracking endpoints, whose
 * links carry only the id). CAIRN_ENOTFOUND when absent. */
int store_dlv_message_get(struct store *st, const char *id, struct store_dlv_msg *out, struct cairn_err *err);
/* One message of ws by the provider's id for it (provider_ref). */
int store_dlv_message_by_ref(struct store *st, int64_t ws, const char *ref, struct store_dlv_msg *out,
			     struct cairn_err *err);
/* The workspace of a provider id, or 0. */
int64_t store_dlv_provider_ws(struct store *st, const char *provider_id);
/* Puts "sending" rows whose lease ended before lease_now back to queued,
 * with a history row "requeued" (a dispatcher died holding them). OUT:
 * *n how many. */
int store_dlv_reclaim(struct store *st, int64_t lease_now, int64_t now, int64_t *n, struct cairn_err *err);

/* What happened to one claimed message. */
struct store_dlv_outcome {
	const char *message_id;
	const char *status;	  /* new status: sent, queued, held, failed, dead */
	const char *event;	  /* history: sent, retried, held, failed, dead, rerouted */
	const char *reason;	  /* why (NULL for sent) */
	const char *provider;	  /* provider id, or NULL */
	const char *to_addr;	  /* the address it went (or would go) to */
	const char *provider_ref; /* the provider's id for it (Message-ID, …) */
	int attempts;
	int64_t at;	 /* when */
	int64_t send_at; /* next due time (queued, held) */
};
/* Records o inside the caller's transaction (invariant 3). *changed (OUT,
 * may be NULL) is 0 when the row was no longer "sending". */
int store_dlv_record(struct store *st, const struct store_dlv_outcome *o, int *changed, struct cairn_err *err);
/* Appends a history row (queued messages moved by an operator). */
int store_dlv_history_add(struct store *st, const char *message_id, int64_t at, const char *status, const char *reason,
			  const char *provider, int attempt, struct cairn_err *err);

/* Puts dead/failed messages (one id, or every one with status when id is
 * NULL; channel may narrow) of ws back to queued, due now, attempts reset,
 * with a history row "replayed". OUT: *n how many. CAIRN_ENOTFOUND for an
 * id that is not there; CAIRN_ECONFLICT for one that is not dead/failed. */
int store_dlv_replay(struct store *st, int64_t ws, const char *id, const char *status, const char *channel, int64_t now,
		     int64_t *n, struct cairn_err *err);
/* Releases held messages of ws whose reason is `reason` (kill switch): due
 * now, status queued, history "resumed". */
int store_dlv_release(struct store *st, int64_t ws, const char *reason, int64_t now, int64_t *n, struct cairn_err *err);

/* Counts of ws's messages by status (the dashboard, the virtual clock):
 * a new object {"queued":N,…}. due_only counts only queued/held due by now. */
json_t *store_dlv_counts(struct store *st, int64_t ws, struct cairn_err *err);
/* Messages due (queued/held, send_at ≤ now) or in flight (sending), over
 * every workspace. */
int64_t store_dlv_pending(struct store *st, int64_t now);

/* ---- reading ----------------------------------------------------------------- */

struct store_dlv_filter {
	int64_t profile_id;			   /* 0: any */
	const char *journey_id, *status, *channel; /* NULL: any */
};
/* Messages of ws, newest first, as the API shows them; cursor as for
 * other lists (new reference). */
json_t *store_messages_json(struct store *st, int64_t ws, const struct store_dlv_filter *f, int limit,
			    const char *cursor, char **next_cursor, struct cairn_err *err);
/* One message with its history; NULL with CAIRN_ENOTFOUND. */
json_t *store_message_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err);

/* What a send needs to know about the recipient: traits and consents. */
struct store_dlv_person {
	json_t *traits;	 /* the profile's traits (new reference) */
	json_t *consent; /* {"channel":{"email":"subscribed",…},"topic":{…}} */
	char *user_id;	 /* or NULL */
};
int store_dlv_person(struct store *st, int64_t ws, int64_t profile_id, struct store_dlv_person *out,
		     struct cairn_err *err);
void store_dlv_person_release(struct store_dlv_person *p);

/* ---- providers ------------------------------------------------------------------ */

struct store_dlv_provider {
	int64_t ws;
	char *id, *channel, *type, *name;
	json_t *config;	       /* without secrets */
	unsigned char *secret; /* sealed blob, or NULL */
	size_t secret_len;
	int priority, disabled;
	int64_t created_at, updated_at;
};
void store_dlv_provider_release(struct store_dlv_provider *p);
/* Inserts or replaces p (by ws, id). */
int store_dlv_provider_put(struct store *st, const struct store_dlv_provider *p, struct cairn_err *err);
/* CAIRN_ENOTFOUND when absent. */
int store_dlv_provider_get(struct store *st, int64_t ws, const char *id, struct store_dlv_provider *out,
			   struct cairn_err *err);
int store_dlv_provider_delete(struct store *st, int64_t ws, const char *id, struct cairn_err *err);
/* Providers of ws (every workspace when ws is 0), of channel when not
 * NULL, by channel, priority, created_at. OUT: array of *n (release each,
 * free the array). */
int store_dlv_providers(struct store *st, int64_t ws, const char *channel, struct store_dlv_provider **out, size_t *n,
			struct cairn_err *err);
/* A number that changes whenever a provider or domain of any workspace
 * changes (the dispatcher's cache key). */
int64_t store_dlv_config_version(struct store *st);

/* ---- sender domains ---------------------------------------------------------- */

struct store_dlv_domain {
	int64_t ws;
	char *domain, *selector, *algorithm, *dns_value;
	unsigned char *private_key; /* sealed */
	size_t private_key_len;
	int64_t created_at;
};
void store_dlv_domain_release(struct store_dlv_domain *d);
int store_dlv_domain_put(struct store *st, const struct store_dlv_domain *d, struct cairn_err *err);
int store_dlv_domain_get(struct store *st, int64_t ws, const char *domain, struct store_dlv_domain *out,
			 struct cairn_err *err);
int store_dlv_domain_delete(struct store *st, int64_t ws, const char *domain, struct cairn_err *err);
/* Every domain of ws as the API shows it (no key). */
json_t *store_dlv_domains_json(struct store *st, int64_t ws, struct cairn_err *err);

/* ---- suppressions ---------------------------------------------------------------- */

int store_dlv_suppress(struct store *st, int64_t ws, const char *channel, const char *address, const char *reason,
		       const char *message_id, int64_t now, struct cairn_err *err);
/* 1 suppressed (reason copied to reason when cap > 0), 0 not, <0 error. */
int store_dlv_suppressed(struct store *st, int64_t ws, const char *channel, const char *address, char *reason,
			 size_t cap, struct cairn_err *err);
int store_dlv_unsuppress(struct store *st, int64_t ws, const char *channel, const char *address, struct cairn_err *err);
json_t *store_dlv_suppressions_json(struct store *st, int64_t ws, int limit, const char *cursor, char **next_cursor,
				    struct cairn_err *err);

#endif
