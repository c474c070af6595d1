/* provider.h — a provider's configuration: checked from the API's JSON,
 * stored with its secrets sealed, loaded ready to send.
 *
 *   API body ──dlv_provider_from_json──► store row (config JSON + sealed secrets)
 *   store row ──dlv_provider_json──► what the API shows (secrets named, never shown)
 *   store row ──dlv_provider_load──► struct dlv_provider (secrets open, body parsed)
 *
 * Types (one table in provider.c says which fields each has):
 *   smtp     email over SMTP: url (smtp:// or smtps://), from, reply_to,
 *            username, password*, starttls (0 never, 1 when offered, 2 required)
 *   http     any channel but webhook through an HTTP API: url, method,
 *            headers* (e.g. Authorization), body (a Liquid template of the
 *            request body; default the channel's payload as JSON), and how a
 *            reply classifies: success ["2xx"], transient ["408","429","5xx"]
 *            (anything else is permanent), success_contains (a text the
 *            reply body must contain to count as success)
 *   webhook  the webhook channel: POSTs each message's body to its own URL,
 *            signed per Standard Webhooks with secret* (made when absent)
 *   file     development: appends every message as a JSON line to
 *            <data>/outbox/<channel>.jsonl (path overrides)
 * Every type: timeout_ms (10000), concurrency (4; connections at once),
 * rate_per_sec (0 = unlimited; a token bucket), max_attempts (6),
 * retry_base_ms (30000; doubled per attempt, ±20 % jitter, at most an hour),
 * sender_info (the advertising footer's sender line), unsubscribe_mailto.
 * Fields marked * are secrets: sealed in the store (secret.h), shown by the
 * API only as their names under "secrets".
 *
 * Errors follow core/err.h; bad input is CAIRN_EUNPROC with the field. */
#ifndef DELIVER_PROVIDER_H
#define DELIVER_PROVIDER_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store_deliver.h"
#include "template/tpl.h"

enum dlv_ptype {
	DLV_P_SMTP,
	DLV_P_HTTP,
	DLV_P_WEBHOOK,
	DLV_P_FILE,
};

enum dlv_class {
	DLV_OK = 0,
	DLV_TRANSIENT = 1,
	DLV_PERMANENT = 2,
};

struct dlv_provider {
	int64_t ws;
	char *id, *channel, *name;
	enum dlv_ptype type;
	int priority;
	int timeout_ms, concurrency, max_attempts;
	int64_t retry_base_ms;
	double rate_per_sec;
	char *url, *from, *reply_to, *username, *password, *sender_info, *unsubscribe_mailto;
	int starttls;
	char *method;
	json_t *headers;	     /* object of strings, or NULL */
	struct tpl *body;	     /* NULL: the payload as JSON */
	json_t *success, *transient; /* arrays of "2xx" / "429" patterns */
	char *success_contains;
	char *secret; /* webhook signing secret */
	char *path;   /* file provider's directory */
};

/* Checks body (a POST or, with existing, a PATCH: fields absent keep their
 * value; a secret absent keeps the sealed one) and fills out (a new row;
 * id made as "prv_…" when creating). ws and now stamp it. OUT:
 * *shown_secret, a secret made here (the webhook's) to show once, or NULL
 * (malloc'd). */
int dlv_provider_from_json(const json_t *body, const struct store_dlv_provider *existing, int64_t ws, int64_t now,
			   struct store_dlv_provider *out, char **shown_secret, struct cairn_err *err);
/* The row as the API shows it (new reference). */
json_t *dlv_provider_json(const struct store_dlv_provider *row);
/* Opens the row's secrets and parses its body template. */
int dlv_provider_load(const struct store_dlv_provider *row, struct dlv_provider *out, struct cairn_err *err);
void dlv_provider_release(struct dlv_provider *p);

/* How an HTTP reply classifies for p (status 0: no reply — a timeout or a
 * broken connection — is transient). */
enum dlv_class dlv_provider_classify(const struct dlv_provider *p, long status, const char *body);

/* The bare address inside a From value ("Name <a@b.c>" → "a@b.c") into
 * out; its domain is after the '@'. -1 when there is none. */
int dlv_from_address(const char *from, char *out, size_t cap);

#endif
