/* email.h — a rendered email body made into RFC 5322 bytes, and signed.
 *
 * Pure: no network, no store, no clock (the caller passes the Date). Used
 * by delivery after content_render (src/content/content.h) has produced the
 * email channel's {"subject","preheader"?,"html"?,"text"?}.
 *
 *   struct email_in ──email_build──► message (CRLF bytes) + Message-ID
 *                                        │
 *                    email_dkim_sign ◄───┘  prepends DKIM-Signature
 *
 *   email_dkim_keygen ──► private key (PEM) + DNS TXT value for the selector
 *
 * Libraries (docs/decisions/0010-email-libraries.md): GMime 3 builds the
 * MIME tree, encodes headers (RFC 2047) and bodies (base64 / QP as GMime
 * judges best); gumbo parses the HTML to make the text part; libopendkim
 * signs; OpenSSL generates keys.
 *
 * Invariants:
 *   1. Every line of the output ends in CRLF; headers and bodies are 7-bit
 *      (non-ASCII text is RFC 2047 in headers, base64 or QP in bodies).
 *   2. A header-bound field (from, reply_to, to, to_name, subject,
 *      message_id_domain, unsubscribe_url, unsubscribe_mailto) containing CR
 *      or LF is refused (header injection), as is an address GMime's parser
 *      does not read as exactly one mailbox local@domain. The error is
 *      CAIRN_EUNPROC with err->field naming the field ("from", "to", …).
 *   3. The body is always multipart/alternative: text/plain first, then
 *      text/html when html is given. Without `text`, the text part is made
 *      from the HTML (block elements → line breaks, links as "text (url)").
 *      At least one of html / text must be non-empty.
 *   4. Advertising messages (Korea, 정보통신망법 §50): the subject starts with
 *      "(광고)" exactly once, and both parts end with a footer carrying
 *      sender_info and a free opt-out notice (optout_text, or a default that
 *      names the unsubscribe link / address). sender_info and at least one
 *      opt-out method (unsubscribe_url, unsubscribe_mailto, optout_text) are
 *      required for advertising.
 *   5. List-Unsubscribe carries <https://…> (and <mailto:…> when given);
 *      List-Unsubscribe-Post: List-Unsubscribe=One-Click is added only with
 *      an https URL (RFC 8058). An unsubscribe_url that is not https is
 *      refused. email_dkim_sign signs both headers.
 *   6. Thread-safe: any number of threads may build and sign at once.
 *
 * Errors follow core/err.h: 0 or a negative CAIRN_E* code, err filled; on
 * failure `out` and `msg` are left as they were and OUT strings are NULL. */
#ifndef DELIVER_EMAIL_H
#define DELIVER_EMAIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define EMAIL_MESSAGE_ID_MAX 128 /* room for a Message-ID this module makes */

/* Everything borrowed; NULL or "" means absent unless said otherwise. */
struct email_in {
	const char *from;		/* required: "Name <addr@domain>" or "addr@domain" */
	const char *reply_to;		/* an address, optional */
	const char *to;			/* required: a bare address */
	const char *to_name;		/* display name for To, optional (UTF-8) */
	const char *subject;		/* required, UTF-8 */
	const char *preheader;		/* hidden preview text at the start of the HTML */
	const char *html;		/* HTML body */
	const char *text;		/* plain text body; made from html when absent */
	const char *message_id_domain;	/* right side of Message-ID; default: the From domain */
	const char *unsubscribe_url;	/* https one-click URL, optional */
	const char *unsubscribe_mailto; /* "addr@domain" or "mailto:…", optional */
	int advertising;		/* 1: Korea's advertising rules apply */
	const char *sender_info;	/* footer: company, address, contact (may hold newlines) */
	const char *optout_text;	/* footer opt-out line; default names the link */
	int64_t date_ms;		/* Date header, ms since the epoch (UTC) */
};

/* Builds the message into `out` (appended, CRLF line ends). OUT:
 * message_id receives the id without angle brackets ("hex@domain"), NUL-
 * terminated, when cap is large enough (EMAIL_MESSAGE_ID_MAX); may be NULL.
 * CAIRN_EUNPROC for invalid input (err->field names it), CAIRN_ETOOBIG when
 * `out` would pass its maximum. */
int email_build(const struct email_in *in, struct buf *out, char *message_id, size_t cap, struct cairn_err *err);

/* Writes the text rendition of an HTML document into out (appended): block
 * elements end lines, <br> breaks, list items start with "- ", links read
 * "text (url)", script/style/head and display:none elements are skipped,
 * whitespace collapses as a browser would. Always succeeds (gumbo accepts
 * any input); returns -1 only if out overflowed. */
int email_html_to_text(const char *html, size_t len, struct buf *out);

/* Signs msg (a complete message from email_build, CRLF) in place: a
 * DKIM-Signature header (relaxed/relaxed, d=domain, s=selector) is
 * prepended. Signed headers: From, Reply-To, To, Subject, Date, Message-ID,
 * MIME-Version, Content-Type, List-Unsubscribe, List-Unsubscribe-Post (each
 * that is present). ed25519: 0 → rsa-sha256 (RSA key), 1 → ed25519-sha256
 * (RFC 8463, Ed25519 key; libopendkim 2.11 supports it, but Debian's 2.11
 * leaks the loaded key, ~1.3 KB per ed25519 signature, seen under ASan:
 * rsa-sha256 is the default to use at volume). private_key_pem is
 * a PKCS#8 or PKCS#1 PEM as email_dkim_keygen returns. CAIRN_EINVAL for a
 * key that does not load, CAIRN_EIO if libopendkim fails otherwise. */
int email_dkim_sign(struct buf *msg, const char *domain, const char *selector, const char *private_key_pem, int ed25519,
		    struct cairn_err *err);

/* Generates a DKIM key pair: RSA-2048 (ed25519 = 0) or Ed25519 (1). OUT:
 * *private_pem (PKCS#8 PEM) and *dns_txt_value ("v=DKIM1; k=rsa; p=…" or
 * "v=DKIM1; k=ed25519; p=…"), each malloc'd, caller frees. CAIRN_EIO if
 * OpenSSL fails. */
int email_dkim_keygen(int ed25519, char **private_pem, char **dns_txt_value, struct cairn_err *err);

#endif
