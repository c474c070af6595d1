/* smtp.c — SMTP delivery over one kept libcurl easy handle (see smtp.h).
 *
 * Why an easy handle per client: libcurl's connection cache lives in the
 * handle, so keeping the handle keeps the SMTP session between transfers.
 * The server's replies are read from libcurl's debug callback (lines the
 * server sent, CURLINFO_HEADER_IN) because libcurl's error text only says
 * "RCPT failed: 550"; lines the client sent (which include AUTH) are never
 * looked at (invariant 2). */
#include "deliver/smtp.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

#define SMTP_TIMEOUT_DEFAULT_MS 30000

struct reader {
	const char *p;
	size_t left;
};

struct smtp_client {
	CURL *curl;
	char *url; /* canonical, without credentials: safe to show */
	char *username;
	char *password;
	char errbuf[CURL_ERROR_SIZE];
	char reply[SMTP_TEXT_MAX];   /* the server's latest reply, lines joined by a space */
	int reply_done;		     /* the latest line was a final one ("250 …", not "250-…") */
	char refusal[SMTP_TEXT_MAX]; /* the latest complete 4xx/5xx reply of this send (a QUIT's
					"221 Bye" may follow it) */
	/* the send in progress (smtp_start → smtp_finish) */
	struct curl_slist *rcpt;
	char *from;
	struct reader rd;
};


static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void copy_text(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- configuration ------------------------------------------------------ */

static int url_err(struct cairn_err *err, const char *fmt, const char *detail)
{
	return cairn_err_set(err, CAIRN_EUNPROC, "invalid_smtp_url", "url", fmt, detail);
}

/* Checks the URL (invariant 1); OUT: *canon, the URL as libcurl normalises
 * it (malloc'd). */
static int check_url(const char *url, char **canon, struct cairn_err *err)
{
	if (!url || !*url)
		return url_err(err, "%sThe SMTP url is required (smtp://host:port or smtps://host:port).", "");
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return url_err(err, "The SMTP url must not contain spaces or control characters%s.", "");
	}
	CURLU *u = curl_url();
	if (!u)
		return cairn_err_set(err, CAIRN_EIO, "out_of_memory", "", "libcurl could not parse the SMTP url.");
	int rc = 0;
	char *scheme = NULL;
	char *host = NULL;
	char *port = NULL;
	char *user = NULL;
	char *pass = NULL;
	char *full = NULL;
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		rc = url_err(err, "The SMTP url is not valid (%s); use smtp://host:port or smtps://host:port.",
			     curl_url_strerror(uc));
		goto done;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (!scheme || (strcasecmp(scheme, "smtp") != 0 && strcasecmp(scheme, "smtps") != 0)) {
		rc = url_err(err, "The SMTP url must start with smtp:// or smtps://, not %s://.", scheme ? scheme : "");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		rc = url_err(err, "The SMTP url has no host%s.", "");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		rc = url_err(err, "The SMTP url must not carry credentials%s; give username and password separately.",
			     "");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		char *end = NULL;
		long n = strtol(port, &end, 10);
		if (!end || *end || n < 1 || n > 65535) {
			rc = url_err(err, "The SMTP url's port must be between 1 and 65535, not %s.", port);
			goto done;
		}
	}
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK || !full) {
		rc = url_err(err, "The SMTP url is not valid%s.", "");
		goto done;
	}
	*canon = xstrdup(full);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_free(full);
	curl_url_cleanup(u);
	return rc;
}

/* ---- libcurl callbacks --------------------------------------------------- */

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb;
	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Keeps the server's latest reply: a line after a final line starts a new
 * reply; continuation lines ("550-…") are joined with a space. */
static void reply_line(struct smtp_client *c, const char *line, size_t n)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (n == 0)
		return;
	size_t have = strlen(c->reply);
	if (c->reply_done) {
		have = 0;
		c->reply[0] = '\0';
	}
	c->reply_done = n < 4 || line[3] != '-';
	if (have && have + 1 < sizeof c->reply) {
		c->reply[have++] = ' ';
		c->reply[have] = '\0';
	}
	size_t room = sizeof c->reply - 1 - have;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];
		c->reply[have + i] = (ch < ' ' || ch == 0x7f) ? ' ' : (char)ch;
	}
	c->reply[have + n] = '\0';
	if (c->reply_done && (c->reply[0] == '4' || c->reply[0] == '5'))
		copy_text(c->refusal, sizeof c->refusal, c->reply);
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	/* only what the server sent: never CURLINFO_HEADER_OUT (AUTH) */
	if (type != CURLINFO_HEADER_IN)
		return 0;
	struct smtp_client *c = arg;
	while (size) {
		char *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) + 1 : size;
		reply_line(c, data, n);
		data += n;
		size -= n;
	}
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct smtp_client *smtp_client_new(const struct smtp_conf *conf, struct cairn_err *err)
{
	if (!conf) {
		url_err(err, "The SMTP url is required%s.", "");
		return NULL;
	}
	char *canon = NULL;
	if (check_url(conf->url, &canon, err) < 0)
		return NULL;
	if (conf->starttls < 0 || conf->starttls > 2) {
		free(canon);
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_smtp_starttls", "starttls",
			      "starttls must be 0 (never), 1 (when offered) or 2 (required), not %d.", conf->starttls);
		return NULL;
	}
	if (conf->timeout_ms < 0) {
		free(canon);
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_smtp_timeout", "timeout_ms",
			      "timeout_ms must be 0 (the default, 30 s) or more, not %d.", conf->timeout_ms);
		return NULL;
	}
	pthread_once(&curl_once, curl_init_once);
	CURL *h = curl_easy_init();
	if (!h) {
		free(canon);
		cairn_err_set(err, CAIRN_EIO, "smtp_init_failed", "", "libcurl could not make a handle.");
		return NULL;
	}
	struct smtp_client *c = xcalloc(1, sizeof *c);
	c->curl = h;
	c->url = canon;
	long timeout = conf->timeout_ms ? conf->timeout_ms : SMTP_TIMEOUT_DEFAULT_MS;
	long use_ssl = CURLUSESSL_NONE;
	if (conf->starttls == 1)
		use_ssl = CURLUSESSL_TRY;
	else if (conf->starttls == 2)
		use_ssl = CURLUSESSL_ALL;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	/* the trace goes to debug_cb only (never stderr); see invariant 2 */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	if (conf->username) {
		c->username = xstrdup(conf->username);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
	}
	if (conf->password) {
		c->password = xstrdup(conf->password);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	return c;
}

void smtp_client_free(struct smtp_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->rcpt);
	free(c->from);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->username);
	free(c->url);
	free(c);
}

/* ---- sending ------------------------------------------------------------- */

static int bad_address(const char *a)
{
	for (const char *p = a; *p; p++) {
		if (*p == '\r' || *p == '\n' || *p == '<' || *p == '>')
			return 1;
	}
	return 0;
}

static char *angle(const char *a)
{
	size_t n = strlen(a);
	char *s = xmalloc(n + 3);
	s[0] = '<';
	memcpy(s + 1, a, n);
	s[n + 1] = '>';
	s[n + 2] = '\0';
	return s;
}

/* Failures no retry can fix without a change of configuration. */
static int curl_permanent(CURLcode rc)
{
	switch (rc) {
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_FILESIZE_EXCEEDED: return 1;
	default: return 0;
	}
}

static void describe_failure(struct smtp_client *c, CURLcode rc, struct smtp_result *r)
{
	if (r->code >= 400 && c->refusal[0]) {
		copy_text(r->text, sizeof r->text, c->refusal);
		return;
	}
	const char *what = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	long oserr = 0;
	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr) {
		char eb[128];
		const char *os = strerror_r((int)oserr, eb, sizeof eb);
		snprintf(r->text, sizeof r->text, "cannot connect: %s (%s)", os, what);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(r->text, sizeof r->text, "timed out (%s)", what);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		snprintf(r->text, sizeof r->text, "the server does not offer STARTTLS, which is required (%s)", what);
	} else {
		copy_text(r->text, sizeof r->text, what);
	}
}

int smtp_start(struct smtp_client *c, const char *mail_from, const char *const *rcpt, size_t nrcpt, const char *msg,
	       size_t len, struct smtp_result *out, struct cairn_err *err)
{
	struct smtp_result tmp;
	struct smtp_result *r = out ? out : &tmp;
	memset(r, 0, sizeof *r);
	r->cls = SMTP_PERMANENT;

	if (!mail_from || bad_address(mail_from)) {
		copy_text(r->text, sizeof r->text, "invalid envelope sender");
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "mail_from",
				     "The envelope sender must be a bare address without CR, LF or angle brackets.");
	}
	if (nrcpt == 0 || !rcpt) {
		copy_text(r->text, sizeof r->text, "no recipients");
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "rcpt",
				     "At least one recipient is required.");
	}
	for (size_t i = 0; i < nrcpt; i++) {
		if (!rcpt[i] || !*rcpt[i] || bad_address(rcpt[i])) {
			char field[32];
			snprintf(field, sizeof field, "rcpt[%zu]", i);
			copy_text(r->text, sizeof r->text, "invalid recipient");
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", field,
					     "Recipient %zu must be a non-empty bare address without CR, LF or "
					     "angle brackets.",
					     i);
		}
	}

	struct curl_slist *list = NULL;
	for (size_t i = 0; i < nrcpt; i++) {
		char *a = angle(rcpt[i]);
		struct curl_slist *next = curl_slist_append(list, a);
		free(a);
		if (!next) {
			curl_slist_free_all(list);
			r->cls = SMTP_TRANSIENT;
			copy_text(r->text, sizeof r->text, "out of memory");
			return cairn_err_set(err, CAIRN_EIO, "smtp_failed", "", "Out of memory building recipients.");
		}
		list = next;
	}
	c->rcpt = list;
	c->from = angle(mail_from);
	c->rd.p = msg ? msg : "";
	c->rd.left = msg ? len : 0;
	c->errbuf[0] = '\0';
	c->reply[0] = '\0';
	c->reply_done = 0;
	c->refusal[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_MAIL_FROM, c->from);
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, c->rcpt);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &c->rd);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->rd.left);
	return 0;
}

void *smtp_handle(struct smtp_client *c)
{
	return c->curl;
}

int smtp_finish(struct smtp_client *c, int curl_code, struct smtp_result *out, struct cairn_err *err)
{
	struct smtp_result tmp;
	struct smtp_result *r = out ? out : &tmp;
	CURLcode rc = (CURLcode)curl_code;
	long code = 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	/* the handle must not point at memory freed below */
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
	curl_easy_setopt(c->curl, CURLOPT_MAIL_FROM, (char *)NULL);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, (void *)NULL);
	curl_slist_free_all(c->rcpt);
	free(c->from);
	c->rcpt = NULL;
	c->from = NULL;

	r->code = (int)code;
	if (rc == CURLE_OK && code >= 200 && code < 300) {
		r->cls = SMTP_OK;
		copy_text(r->text, sizeof r->text, c->reply);
		return 0;
	}
	if (code >= 500 && code < 600)
		r->cls = SMTP_PERMANENT;
	else if (code >= 400 && code < 500)
		r->cls = SMTP_TRANSIENT;
	else
		r->cls = curl_permanent(rc) ? SMTP_PERMANENT : SMTP_TRANSIENT;
	describe_failure(c, rc, r);
	return cairn_err_set(err, CAIRN_EIO, r->cls == SMTP_PERMANENT ? "smtp_refused" : "smtp_unavailable", "",
			     "Sending through %s failed (%s): %s", c->url,
			     r->cls == SMTP_PERMANENT ? "permanent" : "transient, retry later", r->text);
}

int smtp_send(struct smtp_client *c, const char *mail_from, const char *const *rcpt, size_t nrcpt, const char *msg,
	      size_t len, struct smtp_result *out, struct cairn_err *err)
{
	struct smtp_result tmp;
	struct smtp_result *r = out ? out : &tmp;
	int rc = smtp_start(c, mail_from, rcpt, nrcpt, msg, len, r, err);
	if (rc < 0)
		return rc;
	return smtp_finish(c, (int)curl_easy_perform(c->curl), r, err);
}
