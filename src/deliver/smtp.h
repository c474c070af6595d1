/* smtp.h — sends built messages (email_build's bytes) to an SMTP server.
 *
 * One client is one libcurl easy handle bound to one server URL. libcurl
 * keeps the SMTP session open after a transfer, so consecutive smtp_send
 * calls on one client reuse the connection (no new TCP/TLS handshake, no
 * new EHLO/AUTH) until the server closes it; libcurl then reconnects on its
 * own at the next send.
 *
 *   smtp_client_new ──► smtp_send ──► smtp_send ──► … ──► smtp_client_free
 *   (validates conf)     MAIL FROM / RCPT TO… / DATA on the kept session
 *
 * Invariants:
 *   1. The URL is checked once, in smtp_client_new: scheme smtp or smtps,
 *      a host, a port in 1..65535 (default 25 / 465), no credentials inside
 *      it (they belong in username / password, so the URL can appear in
 *      messages). Any failure is CAIRN_EUNPROC with err->field "url".
 *   2. The password is never written anywhere: not in errors, not in logs,
 *      not in smtp_result. libcurl's protocol trace is read only for the
 *      server's lines (which never carry it); what the client sends is
 *      ignored.
 *   3. A send is all-or-nothing per call: if the server refuses MAIL FROM,
 *      any RCPT TO, or the DATA, nothing is delivered by that call and the
 *      refusal is reported (libcurl aborts the transaction before DATA).
 *   4. Every smtp_send outcome is classified (struct smtp_result):
 *        SMTP_OK         2xx after DATA: the server took responsibility
 *        SMTP_TRANSIENT  4xx, connection refused / reset, timeouts, DNS
 *                        failure, TLS handshake failure: retry later
 *        SMTP_PERMANENT  5xx (bad address, policy refusal, auth refused),
 *                        STARTTLS required but not offered, an address
 *                        with CR/LF: retrying the same send cannot succeed
 *   5. A client is not thread-safe: one thread uses it at a time (one
 *      client per dispatcher worker). Different clients are independent.
 *
 * Errors follow core/err.h: 0 or a negative CAIRN_E* code, err filled. */
#ifndef DELIVER_SMTP_H
#define DELIVER_SMTP_H

#include <stddef.h>

#include "core/err.h"

struct smtp_conf {
	const char *url; /* "smtp://host:port" or "smtps://host:port" (implicit TLS) */
	/* AUTH user, NULL for no AUTH. libcurl authenticates when the server
	 * offers AUTH and silently skips it when it does not (the server then
	 * decides whether to relay); a refused login is SMTP_PERMANENT (535). */
	const char *username;
	const char *password; /* may be NULL; copied, never logged */
	int starttls;	      /* smtp:// only: 0 never, 1 if the server offers it, 2 required */
	int timeout_ms;	      /* whole-send limit (connect included); 0 → 30000 */
};

enum smtp_class {
	SMTP_OK = 0,
	SMTP_TRANSIENT = 1,
	SMTP_PERMANENT = 2,
};

#define SMTP_TEXT_MAX 512

struct smtp_result {
	enum smtp_class cls;
	int code;		  /* last SMTP reply code (250, 451, 550, …); 0 if none came */
	char text[SMTP_TEXT_MAX]; /* the server's last reply ("550 5.1.1 …"), or, with
				     no reply, what went wrong ("connection refused …") */
};

struct smtp_client;

/* Validates conf (invariant 1; starttls in 0..2, timeout_ms >= 0) and makes
 * a client; conf's strings are copied. No connection is made yet. Returns
 * NULL with err filled: CAIRN_EUNPROC (field "url", "starttls" or
 * "timeout_ms"), CAIRN_EIO if libcurl cannot make a handle. */
struct smtp_client *smtp_client_new(const struct smtp_conf *conf, struct cairn_err *err);

/* Sends msg (len bytes, CRLF line ends, as email_build makes it; libcurl
 * dot-stuffs) from the envelope sender mail_from to nrcpt recipients. The
 * addresses are bare ("a@b.example"; "" for the null sender <>); they are
 * the envelope, independent of the From/To headers. OUT: *out (may be NULL)
 * always filled, also on failure. Returns 0 when the server accepted the
 * message (out->cls == SMTP_OK); CAIRN_EUNPROC for a bad argument (no
 * recipients, an address with CR/LF/NUL or angle brackets: field
 * "mail_from" or "rcpt[i]", out->cls SMTP_PERMANENT, nothing sent);
 * CAIRN_EIO when the send failed, with out->cls telling whether to retry
 * and err->message one line naming the server and its reply. */
int smtp_send(struct smtp_client *c, const char *mail_from, const char *const *rcpt, size_t nrcpt, const char *msg,
	      size_t len, struct smtp_result *out, struct cairn_err *err);

/* The same send in two halves, for a dispatcher that runs many clients at
 * once in one libcurl multi handle: smtp_start checks the arguments and
 * sets the transfer up (0, or CAIRN_EUNPROC as smtp_send, nothing started);
 * the caller adds smtp_handle(c) (a CURL *) to its multi, and once the multi
 * reports the transfer done, removes it and calls smtp_finish with the
 * transfer's CURLcode, which classifies and returns as smtp_send. Buffers
 * passed to smtp_start must live until smtp_finish. */
int smtp_start(struct smtp_client *c, const char *mail_from, const char *const *rcpt, size_t nrcpt, const char *msg,
	       size_t len, struct smtp_result *out, struct cairn_err *err);
void *smtp_handle(struct smtp_client *c);
int smtp_finish(struct smtp_client *c, int curl_code, struct smtp_result *out, struct cairn_err *err);

/* Closes the session (QUIT) and frees the client; NULL is a no-op. The
 * password copy is wiped before it is freed. */
void smtp_client_free(struct smtp_client *c);

#endif
