/* wire.h — what each channel's message looks like on the wire, and the
 * checks a recipient address needs before anything is sent.
 *
 * Pure: no network, no store, no clock (the caller passes times). Used by
 * the dispatcher (src/deliver/dispatch.c) to turn a rendered body (the
 * channel's shape from src/content/content.h) plus a recipient into the
 * JSON object an HTTP provider's body template sees as `payload`, and by
 * the send API to refuse bad addresses before queueing.
 *
 *   rendered body + recipient ──dlv_wire_payload──► payload (json)
 *   sms text ──dlv_sms_measure──► EUC-KR bytes, sms | lms
 *   phone ──dlv_phone_normalize──► +82…  (E.164)
 *   id, timestamp, body ──dlv_webhook_sign──► "v1,<base64>"  (Standard Webhooks)
 *
 * Invariants:
 *   1. SMS length is counted as Korean carriers count it: bytes in EUC-KR
 *      (CP949, so every Hangul syllable is 2 bytes, ASCII 1). A character
 *      EUC-KR cannot hold (emoji) counts as 2 bytes (it will be replaced by
 *      the carrier or the provider). Up to 90 bytes is an SMS; up to 2,000 an
 *      LMS; longer is refused.
 *   2. Phone numbers come out in E.164 ("+821012345678"). A number without
 *      a country code is read as Korean (leading 0 dropped, +82 added);
 *      spaces, dashes, dots and parentheses are ignored; anything else, or a
 *      length outside E.164's 8..15 digits, is refused.
 *   3. Webhook signatures follow Standard Webhooks (standardwebhooks.com):
 *      HMAC-SHA256 over "<id>.<timestamp>.<body>" with the secret's bytes
 *      (base64 after the "whsec_" prefix), sent as "v1,<base64 signature>".
 *   4. Payload shapes (dlv_wire_payload), one per channel:
 *        sms     {"to","text","type":"sms"|"lms","bytes":N,"subject"?}
 *        kakao   {"to","kind":"alimtalk"|"friendtalk","template_code"? (AlimTalk
 *                 only),"text","buttons":[…],
 *                 "fallback":{"type":"sms"|"lms","text"}}  (fallback when
 *                 fallback_text is present)
 *        push    FCM HTTP v1: {"message":{"token","notification":{"title",
 *                 "body"},"data":{string→string},"apns":{"payload":{"aps":
 *                 {"alert":{"title","body"}}}},"android":{"priority":"high"}}}
 *        slack   {"text"} plus "channel" when the body names one
 *        webhook the body's "body" parsed as JSON when it is JSON, else
 *                 {"text": body}
 *        email   {"to","subject","preheader"?,"html"?,"text"?,"from"?}
 *      Every string is copied; the input is never changed.
 *
 * Errors follow core/err.h: 0 or a negative CAIRN_E* code, err filled
 * (CAIRN_EUNPROC, with err->field naming the input: "to", "text", …). */
#ifndef DELIVER_WIRE_H
#define DELIVER_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DLV_SMS_MAX_BYTES 90   /* an SMS; above it the message is an LMS */
#define DLV_LMS_MAX_BYTES 2000 /* an LMS; above it the message is refused */

enum dlv_sms_kind {
	DLV_SMS = 0,
	DLV_LMS = 1,
};

/* Counts text (UTF-8) in EUC-KR bytes (invariant 1). OUT: *bytes, *kind
 * (0 and DLV_SMS on failure). CAIRN_EUNPROC (field "text") for text that is
 * empty or NULL (missing_field), not strict UTF-8 (invalid_utf8: overlong
 * forms and surrogates included), or longer than DLV_LMS_MAX_BYTES
 * (text_too_long); CAIRN_EIO (encoding_unavailable) when the system's iconv
 * has neither CP949 nor EUC-KR. */
int dlv_sms_measure(const char *text, size_t *bytes, enum dlv_sms_kind *kind, struct cairn_err *err);

/* Normalizes a phone number to E.164 into out (cap ≥ 17; out is "" on
 * failure). Without a '+': a leading 0 is Korea's trunk prefix (dropped,
 * +82 added); digits starting "82" already carry Korea's country code;
 * anything else is a Korean number with no trunk 0 (1588-1234); "00…" (an
 * international dialling prefix) is refused. A 0 written after Korea's
 * code ("+82 010-…") is dropped. CAIRN_EUNPROC, slug invalid_phone,
 * field "to", naming what is wrong. */
int dlv_phone_normalize(const char *in, char *out, size_t cap, struct cairn_err *err);

/* 1 when addr looks like one deliverable mailbox "local@domain.tld": valid
 * UTF-8 (a non-ASCII local part or IDN domain is fine); no spaces, control
 * characters, angle brackets, commas or other specials ;:()[]\" (the set
 * email.c's parser refuses, so what passes here is sendable there); one @
 * with something before it; a domain of letters, digits, '-' and non-ASCII
 * with a dot and no empty label; at most 254 bytes. 0 otherwise (and for
 * NULL). Local-part dot rules and the 64-byte local limit are not checked. */
int dlv_email_valid(const char *addr);

/* A new webhook secret "whsec_<base64 of 24 random bytes>" (malloc'd). */
char *dlv_webhook_secret_new(void);

/* Signs a webhook (invariant 3). msg_id and the timestamp (seconds) are
 * what is sent in webhook-id and webhook-timestamp; body may be NULL when
 * len is 0. OUT: sig, "v1,<base64>" (47 characters; cap ≥ 64; "" on
 * failure). CAIRN_EUNPROC: invalid_secret (field "secret") for a secret
 * that is not "whsec_" followed by base64 (padded or not) of at least one
 * byte; missing_field (field "msg_id") for an empty or NULL msg_id. */
int dlv_webhook_sign(const char *secret, const char *msg_id, int64_t ts_sec, const char *body, size_t len, char *sig,
		     size_t cap, struct cairn_err *err);

/* Checks a "webhook-signature" header value (space-separated "v1,…"
 * entries; any one matching is enough) in constant time. 1 valid, 0 not
 * (also for a bad secret or a NULL argument). The timestamp is only signed
 * content here: refusing one too far from now (replay) is the caller's
 * job, as this module reads no clock. */
int dlv_webhook_verify(const char *secret, const char *msg_id, int64_t ts_sec, const char *body, size_t len,
		       const char *header);

/* The channel's payload for one recipient (invariant 4). channel is a
 * content channel name; rendered is the body content_render produced; to is
 * the recipient (address, E.164 phone, device token; NULL for slack and
 * webhook), taken as given (check it with the functions above first).
 * *out is a new value the caller decrefs: an object, except for a webhook
 * whose body is a JSON array or scalar; NULL on failure. CAIRN_EUNPROC for
 * a body that does not fit the wire: unknown_channel (field "channel"); a
 * rendered body that is not an object (invalid_field, "body"); a field the
 * channel cannot go without (missing_field: sms "text"; kakao "text";
 * push "title" when neither title nor body;
 * slack "text"; webhook "body"; email "subject", and "html" when neither
 * html nor text; "to" for all but slack and webhook); an SMS or fallback
 * too long or empty (the measure's slug, field "text" / "fallback_text");
 * a push data key FCM reserves ("from", "message_type", "google…",
 * "gcm…": invalid_field, "data"). An empty string counts as absent. */
int dlv_wire_payload(const char *channel, const json_t *rendered, const char *to, json_t **out, struct cairn_err *err);

#endif
