/* links.h — signed tracking links: open pixel, click redirects, one-click
 * unsubscribe, and the HTML rewrite that puts them into an email.
 *
 * Pure: no network, no store, no clock. The signing key is the caller's
 * (delivery derives it from the workspace secret key, src/deliver/secret.h),
 * so a link made by one cairn cannot be forged or altered by anyone without
 * that key: the tracking endpoints (issue 8) check the signature before
 * they record anything or redirect anywhere.
 *
 *   base + message id + url/kind/topic ──dlv_link_click──► base/t/c/<id>?u=…&k=…&t=…&s=<sig>
 *   base + message id ──dlv_link_open──► base/t/o/<id>.gif?s=<sig>
 *   base + message id ──dlv_link_unsubscribe──► base/t/u/<id>?s=<sig>
 *   html ──dlv_html_track──► html with every http(s) <a href> replaced by its
 *                            click link and the open pixel before </body>
 *
 * Invariants:
 *   1. The signature is HMAC-SHA256 (libsodium crypto_auth_hmacsha256) with
 *      the 32-byte key over the link's kind letter ('c', 'o' or 'u'), the
 *      message id, and for clicks the url, kind and topic, each preceded by
 *      its length (so fields cannot be shifted into each other); encoded as
 *      unpadded base64url of the first 16 bytes (22 characters).
 *   2. Query values are percent-encoded (RFC 3986 unreserved kept), so a
 *      link is one token in HTML and in a plain-text part.
 *   3. dlv_html_track changes only the href values of <a> elements whose
 *      href is absolute http:// or https:// (after trimming spaces), and
 *      inserts the pixel; every other byte of the HTML is kept as it was.
 *      Anchors with a data-notrack attribute are left alone. An anchor's
 *      data-kind and data-topic attributes (e.g. data-kind="purchase",
 *      data-topic="skincare") travel in its click link; the kind defaults
 *      to "content". HTML entities in the href (&amp;) are decoded before
 *      the URL is signed, and the new href is written with & as &amp;.
 *   4. Verification is constant time and accepts only links this module
 *      made with the same key.
 *
 * Errors: the builders cannot fail except by overflowing `out` (buf.h's
 * maximum): -1. */
#ifndef DELIVER_LINKS_H
#define DELIVER_LINKS_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

#define DLV_LINK_KEY_BYTES 32
#define DLV_LINK_SIG_LEN   22 /* base64url characters of a signature */

/* Appends the click link for url to out: "<base>/t/c/<message_id>?u=<url>
 * &k=<kind>&t=<topic>&s=<sig>" (t omitted when topic is NULL or empty; kind
 * NULL or empty is "content"). base has no trailing slash (one is dropped).
 * message_id is percent-encoded like the query values (a no-op for ids made
 * of letters, digits and -._~), so the endpoint percent-decodes the path
 * segment before verifying. Returns 0, or -1 when out overflowed. */
int dlv_link_click(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		   const char *message_id, const char *url, const char *kind, const char *topic);
/* Appends "<base>/t/o/<message_id>.gif?s=<sig>". */
int dlv_link_open(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		  const char *message_id);
/* Appends "<base>/t/u/<message_id>?s=<sig>" (the List-Unsubscribe URL and
 * the unsubscribe page; RFC 8058 POSTs to it). */
int dlv_link_unsubscribe(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
			 const char *message_id);

/* Appends "<base>/t/p/<message_id>?s=<sig>" (the preference centre). */
int dlv_link_preferences(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
			 const char *message_id);

/* Appends "<base>/hooks/delivery/<provider_id>?s=<sig>": where a provider
 * posts its delivery events (delivered, bounced, complained). */
int dlv_link_hook(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		  const char *provider_id);

/* The server's public URL and link key, set once at start (cairn serve),
 * for template data: dlv_links_json(message id) is a new object
 * {"unsubscribe_url","preferences_url"} (CONVENTIONS §6 `links`), empty
 * strings before dlv_links_configure or without a public URL. */
void dlv_links_configure(const char *public_url, const unsigned char key[DLV_LINK_KEY_BYTES]);
json_t *dlv_links_json(const char *message_id);
/* The provider's delivery-webhook URL (a new string), or JSON null. */
json_t *dlv_links_hook_url(const char *provider_id);

/* Checks a signature as received (sig, NUL-terminated). what is 'c', 'o',
 * 'u', 'p' or 'h' (message_id is then the provider id); url/kind/topic are the decoded query values for 'c' (NULL or "" for
 * absent, kind NULL or "" meaning "content"), ignored otherwise. 1 valid, 0
 * not (also for an unknown what, a NULL message_id or sig, or a sig that is
 * not exactly DLV_LINK_SIG_LEN characters). */
int dlv_link_verify(const unsigned char key[DLV_LINK_KEY_BYTES], char what, const char *message_id, const char *url,
		    const char *kind, const char *topic, const char *sig);

/* Appends html with tracked links and the open pixel (invariant 3) to out.
 * The pixel is <img src="…" width="1" height="1" alt="" style="display:none">
 * placed right before the last </body> end tag (any case; as the HTML parser
 * sees it, so not one inside a comment, script or attribute value), or at
 * the end without one. open 0 leaves the pixel out; clicks 0 leaves the
 * hrefs alone. Only <a> elements in the HTML namespace are rewritten (not
 * SVG's). html need not be NUL-terminated or well-formed. Returns 0, or -1
 * when out overflowed. */
int dlv_html_track(struct buf *out, const char *html, size_t len, const unsigned char key[DLV_LINK_KEY_BYTES],
		   const char *base, const char *message_id, int open, int clicks);

#endif
