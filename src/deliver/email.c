/* email.c — MIME building (GMime 3), DKIM signing (libopendkim) and DKIM
 * keys (OpenSSL). Contract and invariants in email.h.
 *
 * Design notes:
 *   - Input is checked before any GMime object exists, so every error path
 *     is a plain return; GMime objects live between "build" and
 *     "serialize" only, with one cleanup block.
 *   - Bodies are composed as strings first (preheader span, footers), then
 *     handed to GMime, which picks the transfer encoding per part
 *     (g_mime_part_get_best_content_encoding with a 7-bit constraint).
 *   - GMime serializes with CRLF (GMIME_NEWLINE_FORMAT_DOS); a final pass
 *     turns any bare LF into CRLF so invariant 1 holds whatever a part held.
 *   - libopendkim reads the whole message through dkim_chunk (it splits
 *     headers from the body itself) and returns the header value; its
 *     folding is turned into CRLF + tab before the header is prepended. */
#include <gmime/gmime.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"
#include "deliver/email.h"

#define AD_PREFIX	 "(광고)"
#define DKIM_HEADER_NAME "DKIM-Signature: "

/* ---- one-time library set-up ----------------------------------------- */

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *dkim_lib;

static void libs_init(void)
{
	g_mime_init();
	if (sodium_init() < 0)
		abort(); /* no randomness source: nothing here can work */
	dkim_lib = dkim_init(NULL, NULL);
	if (dkim_lib == NULL)
		abort();
}

/* ---- small helpers ----------------------------------------------------- */

static int empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static int has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

static void add_html_escaped(struct buf *b, const char *s, int newline_br)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\r': break;
		case '\n': buf_adds(b, newline_br ? "<br>\n" : " "); break;
		default: buf_addch(b, *s);
		}
	}
}

/* Appends src to out with every line ending CRLF. */
static void add_crlf(struct buf *out, const char *src, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] != '\n' || (i > 0 && src[i - 1] == '\r'))
			continue;
		buf_add(out, src + start, i - start);
		buf_adds(out, "\r\n");
		start = i + 1;
	}
	buf_add(out, src + start, n - start);
}

/* An address is one mailbox local@domain as GMime reads it. Returns the
 * parsed list (caller unrefs) or NULL with err set naming `field`. */
static InternetAddressList *parse_mailbox(const char *value, const char *field, struct cairn_err *err)
{
	InternetAddressList *list = internet_address_list_parse(g_mime_parser_options_get_default(), value);
	const char *why = NULL;
	if (list == NULL || internet_address_list_length(list) != 1) {
		why = "is not one email address";
	} else {
		InternetAddress *ia = internet_address_list_get_address(list, 0);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			why = "is a group, not one email address";
		} else {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *at = addr != NULL ? strchr(addr, '@') : NULL;
			if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
			    strpbrk(addr, " \t<>()[],;:\\\"") != NULL || at[1] == '.' || addr[strlen(addr) - 1] == '.')
				why = "is not a valid email address (local@domain)";
		}
	}
	if (why == NULL)
		return list;
	if (list != NULL)
		g_object_unref(list);
	cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", field, "%s %s: \"%.200s\"", field, why, value);
	return NULL;
}

static const char *mailbox_addr(InternetAddressList *list)
{
	return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(list, 0)));
}

/* ---- input checks ------------------------------------------------------ */

static int check_input(const struct email_in *in, struct cairn_err *err)
{
	static const struct {
		const char *name;
		size_t off;
	} header_fields[] = {
		{"from", offsetof(struct email_in, from)},
		{"reply_to", offsetof(struct email_in, reply_to)},
		{"to", offsetof(struct email_in, to)},
		{"to_name", offsetof(struct email_in, to_name)},
		{"subject", offsetof(struct email_in, subject)},
		{"message_id_domain", offsetof(struct email_in, message_id_domain)},
		{"unsubscribe_url", offsetof(struct email_in, unsubscribe_url)},
		{"unsubscribe_mailto", offsetof(struct email_in, unsubscribe_mailto)},
	};
	for (size_t i = 0; i < sizeof header_fields / sizeof header_fields[0]; i++) {
		const char *v = *(const char *const *)((const char *)in + header_fields[i].off);
		if (has_crlf(v))
			return cairn_err_set(err, CAIRN_EUNPROC, "header_injection", header_fields[i].name,
					     "%s must not contain a line break (CR or LF)", header_fields[i].name);
	}
	if (empty(in->from))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "from", "from is required");
	if (empty(in->to))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "to", "to is required");
	if (empty(in->subject))
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "subject", "subject is required");
	if (empty(in->html) && empty(in->text))
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "html",
				     "an email needs an html or a text body");
	if (!empty(in->unsubscribe_url) && strncasecmp(in->unsubscribe_url, "https://", 8) != 0)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_url", "unsubscribe_url",
				     "unsubscribe_url must be an https URL (RFC 8058 one-click)");
	if (!empty(in->unsubscribe_url) && strpbrk(in->unsubscribe_url, " <>\"") != NULL)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_url", "unsubscribe_url",
				     "unsubscribe_url must not contain spaces, quotes or angle brackets");
	if (!empty(in->message_id_domain) && strpbrk(in->message_id_domain, " \t<>@()[],;:\\\"") != NULL)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_domain", "message_id_domain",
				     "message_id_domain must be a domain name");
	if (in->advertising) {
		if (empty(in->sender_info))
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "sender_info",
					     "an advertising email must name its sender (company, address, "
					     "contact) in sender_info");
		if (empty(in->unsubscribe_url) && empty(in->unsubscribe_mailto) && empty(in->optout_text))
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "unsubscribe_url",
					     "an advertising email must offer a free opt-out: unsubscribe_url, "
					     "unsubscribe_mailto or optout_text");
	}
	return 0;
}

/* ---- bodies ------------------------------------------------------------ */

static const char *mailto_addr(const char *m)
{
	return strncasecmp(m, "mailto:", 7) == 0 ? m + 7 : m;
}

static void footer_text(const struct email_in *in, struct buf *b)
{
	buf_adds(b, "\n\n--\n");
	buf_adds(b, in->sender_info);
	buf_addch(b, '\n');
	if (!empty(in->optout_text)) {
		buf_adds(b, in->optout_text);
		if (!empty(in->unsubscribe_url))
			buf_addf(b, " %s", in->unsubscribe_url);
	} else if (!empty(in->unsubscribe_url)) {
		buf_addf(b, "수신을 원하지 않으시면 무료로 수신거부하실 수 있습니다: %s", in->unsubscribe_url);
	} else {
		buf_addf(b, "수신을 원하지 않으시면 무료로 수신거부하실 수 있습니다: %s",
			 mailto_addr(in->unsubscribe_mailto));
	}
	buf_addch(b, '\n');
}

static void footer_html(const struct email_in *in, struct buf *b)
{
	buf_adds(b, "\n<div style=\"margin-top:24px;padding-top:12px;border-top:1px solid #ddd;"
		    "font-size:12px;line-height:1.5;color:#666\">\n<p>");
	add_html_escaped(b, in->sender_info, 1);
	buf_adds(b, "</p>\n<p>");
	if (!empty(in->optout_text)) {
		add_html_escaped(b, in->optout_text, 1);
		if (!empty(in->unsubscribe_url)) {
			buf_adds(b, " <a href=\"");
			add_html_escaped(b, in->unsubscribe_url, 0);
			buf_adds(b, "\">수신거부</a>");
		}
	} else if (!empty(in->unsubscribe_url)) {
		buf_adds(b, "수신을 원하지 않으시면 <a href=\"");
		add_html_escaped(b, in->unsubscribe_url, 0);
		buf_adds(b, "\">수신거부</a>를 눌러 주세요 (무료).");
	} else {
		const char *addr = mailto_addr(in->unsubscribe_mailto);
		buf_adds(b, "수신을 원하지 않으시면 <a href=\"mailto:");
		add_html_escaped(b, addr, 0);
		buf_adds(b, "\">");
		add_html_escaped(b, addr, 0);
		buf_adds(b, "</a>로 알려 주세요 (무료 수신거부).");
	}
	buf_adds(b, "</p>\n</div>\n");
}

/* html + preheader span after <body…> + footer before </body>. */
static void compose_html(const struct email_in *in, struct buf *b)
{
	const char *html = in->html;
	size_t n = strlen(html);
	size_t head_end = 0; /* where the preheader goes */
	const char *body = strcasestr(html, "<body");
	if (body != NULL) {
		const char *gt = strchr(body, '>');
		if (gt != NULL)
			head_end = (size_t)(gt + 1 - html);
	}
	size_t tail_start = n; /* where the footer goes: the last </body */
	for (const char *p = strcasestr(html, "</body"); p != NULL; p = strcasestr(p + 1, "</body"))
		tail_start = (size_t)(p - html);
	if (tail_start < head_end)
		tail_start = n;

	buf_add(b, html, head_end);
	if (!empty(in->preheader)) {
		buf_adds(b, "<span style=\"display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;"
			    "opacity:0;overflow:hidden;mso-hide:all;color:transparent\">");
		add_html_escaped(b, in->preheader, 0);
		buf_adds(b, "</span>");
	}
	buf_add(b, html + head_end, tail_start - head_end);
	if (in->advertising)
		footer_html(in, b);
	buf_add(b, html + tail_start, n - tail_start);
}

static void compose_text(const struct email_in *in, struct buf *b)
{
	if (!empty(in->text))
		buf_adds(b, in->text);
	else
		email_html_to_text(in->html, strlen(in->html), b);
	while (b->len > 0 && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r'))
		buf_truncate(b, b->len - 1);
	if (in->advertising)
		footer_text(in, b);
	else
		buf_addch(b, '\n');
}

static GMimeObject *text_part(const char *subtype, const char *content)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_text(tp, content);
	g_mime_text_part_set_charset(tp, "utf-8");
	GMimeContentEncoding enc =
		g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT);
	g_mime_part_set_content_encoding(GMIME_PART(tp), enc);
	return GMIME_OBJECT(tp);
}

/* ---- email_build ------------------------------------------------------- */

int email_build(const struct email_in *in, struct buf *out, char *message_id, size_t cap, struct cairn_err *err)
{
	if (message_id != NULL && cap > 0)
		message_id[0] = '\0';
	int rc = check_input(in, err);
	if (rc < 0)
		return rc;
	pthread_once(&libs_once, libs_init);

	InternetAddressList *from = parse_mailbox(in->from, "from", err);
	if (from == NULL)
		return CAIRN_EUNPROC;
	InternetAddressList *to = parse_mailbox(in->to, "to", err);
	InternetAddressList *reply_to = NULL;
	if (to != NULL && !empty(in->reply_to))
		reply_to = parse_mailbox(in->reply_to, "reply_to", err);
	if (to == NULL || (!empty(in->reply_to) && reply_to == NULL)) {
		g_object_unref(from);
		if (to != NULL)
			g_object_unref(to);
		return CAIRN_EUNPROC;
	}

	/* Message-ID: 128 random bits @ domain */
	const char *from_addr = mailbox_addr(from);
	const char *domain = !empty(in->message_id_domain) ? in->message_id_domain : strchr(from_addr, '@') + 1;
	unsigned char rnd[16];
	char hex[sizeof rnd * 2 + 1];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	char id[EMAIL_MESSAGE_ID_MAX];
	snprintf(id, sizeof id, "%s@%.90s", hex, domain);

	/* subject, with "(광고)" once for advertising */
	struct buf subject;
	buf_init(&subject, BUF_MAX_RENDER);
	if (in->advertising) {
		const char *s = in->subject;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, AD_PREFIX, strlen(AD_PREFIX)) != 0)
			buf_adds(&subject, AD_PREFIX " ");
		buf_adds(&subject, s);
	} else {
		buf_adds(&subject, in->subject);
	}

	struct buf text, html;
	buf_init(&text, BUF_MAX_RENDER * 2);
	buf_init(&html, BUF_MAX_RENDER * 2);
	compose_text(in, &text);
	if (!empty(in->html))
		compose_html(in, &html);

	GMimeMessage *m = g_mime_message_new(TRUE);
	internet_address_list_append(g_mime_message_get_from(m), from);
	InternetAddress *to_box =
		internet_address_mailbox_new(empty(in->to_name) ? NULL : in->to_name, mailbox_addr(to));
	internet_address_list_add(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), to_box);
	g_object_unref(to_box);
	if (reply_to != NULL)
		internet_address_list_append(g_mime_message_get_reply_to(m), reply_to);
	g_mime_message_set_subject(m, subject.ptr, "utf-8");
	GDateTime *date = g_date_time_new_from_unix_utc(in->date_ms / 1000);
	g_mime_message_set_date(m, date);
	g_date_time_unref(date);
	g_mime_message_set_message_id(m, id);

	if (!empty(in->unsubscribe_url) || !empty(in->unsubscribe_mailto)) {
		struct buf lu;
		buf_init(&lu, 4096);
		if (!empty(in->unsubscribe_url))
			buf_addf(&lu, "<%s>", in->unsubscribe_url);
		if (!empty(in->unsubscribe_mailto))
			buf_addf(&lu, "%s<mailto:%s>", lu.len > 0 ? ", " : "", mailto_addr(in->unsubscribe_mailto));
		g_mime_object_set_header(GMIME_OBJECT(m), "List-Unsubscribe", lu.ptr, NULL);
		if (!empty(in->unsubscribe_url))
			g_mime_object_set_header(GMIME_OBJECT(m), "List-Unsubscribe-Post", "List-Unsubscribe=One-Click",
						 NULL);
		buf_release(&lu);
	}

	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
	GMimeObject *tp = text_part("plain", text.ptr);
	g_mime_multipart_add(alt, tp);
	g_object_unref(tp);
	if (html.len > 0) {
		GMimeObject *hp = text_part("html", html.ptr);
		g_mime_multipart_add(alt, hp);
		g_object_unref(hp);
	}
	g_mime_message_set_mime_part(m, GMIME_OBJECT(alt));
	g_object_unref(alt);

	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	char *wire = g_mime_object_to_string(GMIME_OBJECT(m), fo);
	g_mime_format_options_free(fo);

	size_t mark = out->len;
	add_crlf(out, wire, strlen(wire));
	rc = 0;
	if (out->overflow || text.overflow || html.overflow || subject.overflow) {
		buf_truncate(out, mark);
		rc = cairn_err_set(err, CAIRN_ETOOBIG, "message_too_large", "", "the email is larger than allowed");
	} else if (message_id != NULL && cap > strlen(id)) {
		memcpy(message_id, id, strlen(id) + 1);
	}

	g_free(wire);
	g_object_unref(m);
	g_object_unref(from);
	g_object_unref(to);
	if (reply_to != NULL)
		g_object_unref(reply_to);
	buf_release(&subject);
	buf_release(&text);
	buf_release(&html);
	return rc;
}

/* ---- DKIM -------------------------------------------------------------- */

static const char *signed_headers[] = {
	"from",	      "reply-to",     "to",	      "subject",	  "date",
	"message-id", "mime-version", "content-type", "list-unsubscribe", "list-unsubscribe-post",
	NULL,
};

/* Keys this thread has checked (a hash of the PEM and the algorithm):
 * OpenSSL 3 takes ~0.5 ms to parse a key, and libopendkim parses it again
 * for every signature — checking it once per key halves the cost. */
#define CHECKED_KEYS 8
static _Thread_local unsigned char checked[CHECKED_KEYS][16];
static _Thread_local unsigned nchecked;

static int key_seen(const char *pem, int ed25519, unsigned char h[16])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, (const unsigned char *)pem, strlen(pem));
	crypto_generichash_update(&st, (const unsigned char *)(ed25519 ? "e" : "r"), 1);
	crypto_generichash_final(&st, h, 16);
	for (unsigned i = 0; i < nchecked && i < CHECKED_KEYS; i++)
		if (!memcmp(checked[i], h, 16))
			return 1;
	return 0;
}

/* Loads the PEM with OpenSSL to say clearly what is wrong with a key
 * before libopendkim is asked to use it (once per key and thread). */
static int check_key(const char *pem, int ed25519, struct cairn_err *err)
{
	unsigned char h[16];
	if (!empty(pem) && key_seen(pem, ed25519, h))
		return 0;
	if (empty(pem) || strncmp(pem, "-----", 5) != 0)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_dkim_key", "private_key",
				     "the DKIM private key must be a PEM block");
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk == NULL)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_dkim_key", "private_key",
				     "the DKIM private key does not load (not a PEM private key)");
	int id = EVP_PKEY_get_base_id(pk);
	EVP_PKEY_free(pk);
	if (ed25519 && id != EVP_PKEY_ED25519)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_dkim_key", "private_key",
				     "ed25519-sha256 needs an Ed25519 key");
	if (!ed25519 && id != EVP_PKEY_RSA)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_dkim_key", "private_key",
				     "rsa-sha256 needs an RSA key");
	memcpy(checked[nchecked++ % CHECKED_KEYS], h, 16);
	return 0;
}

int email_dkim_sign(struct buf *msg, const char *domain, const char *selector, const char *private_key_pem, int ed25519,
		    struct cairn_err *err)
{
	if (empty(domain) || strpbrk(domain, " \t\r\n;=") != NULL)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_domain", "domain", "the DKIM domain is not valid");
	if (empty(selector) || strpbrk(selector, " \t\r\n;=") != NULL)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_selector", "selector",
				     "the DKIM selector is not valid");
	int rc = check_key(private_key_pem, ed25519, err);
	if (rc < 0)
		return rc;
	pthread_once(&libs_once, libs_init);
	if (ed25519 && !dkim_libfeature(dkim_lib, DKIM_FEATURE_ED25519))
		return cairn_err_set(err, CAIRN_EINVAL, "unsupported_algorithm", "",
				     "this libopendkim cannot sign with ed25519-sha256");

	DKIM_STAT st = DKIM_STAT_OK;
	DKIM *d = dkim_sign(dkim_lib, (const unsigned char *)"cairn", NULL, (dkim_sigkey_t)private_key_pem,
			    (const unsigned char *)selector, (const unsigned char *)domain, DKIM_CANON_RELAXED,
			    DKIM_CANON_RELAXED, ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL)
		return cairn_err_set(err, CAIRN_EIO, "dkim_failed", "", "DKIM signing could not start (status %d)",
				     (int)st);
	st = dkim_signhdrs(d, signed_headers);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, (unsigned char *)msg->ptr, msg->len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(d, NULL);
	unsigned char *sig = NULL;
	size_t siglen = 0;
	if (st == DKIM_STAT_OK)
		st = dkim_getsighdr_d(d, strlen(DKIM_HEADER_NAME), &sig, &siglen);
	if (st != DKIM_STAT_OK) {
		const char *why = dkim_geterror(d);
		rc = cairn_err_set(err, CAIRN_EIO, "dkim_failed", "", "DKIM signing failed: %.200s",
				   why != NULL && why[0] != '\0' ? why : dkim_getresultstr(st));
		dkim_free(d);
		return rc;
	}

	struct buf signed_msg;
	buf_init(&signed_msg, msg->max);
	buf_adds(&signed_msg, DKIM_HEADER_NAME);
	add_crlf(&signed_msg, (const char *)sig, siglen);
	buf_adds(&signed_msg, "\r\n");
	buf_add(&signed_msg, msg->ptr, msg->len);
	dkim_free(d);
	if (signed_msg.overflow) {
		buf_release(&signed_msg);
		return cairn_err_set(err, CAIRN_ETOOBIG, "message_too_large", "",
				     "the signed email is larger than allowed");
	}
	buf_release(msg);
	*msg = signed_msg;
	return 0;
}

static char *base64(const unsigned char *bin, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(cap);
	sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int email_dkim_keygen(int ed25519, char **private_pem, char **dns_txt_value, struct cairn_err *err)
{
	*private_pem = NULL;
	*dns_txt_value = NULL;
	pthread_once(&libs_once, libs_init);
	EVP_PKEY *pk = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_RSA_gen(2048);
	if (pk == NULL)
		return cairn_err_set(err, CAIRN_EIO, "keygen_failed", "", "DKIM key generation failed");

	BIO *bio = BIO_new(BIO_s_mem());
	char *pem_data = NULL;
	long pem_len = 0;
	if (bio != NULL && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1)
		pem_len = BIO_get_mem_data(bio, &pem_data);

	unsigned char *pub = NULL;
	size_t pub_len = 0;
	unsigned char raw[32];
	if (ed25519) {
		pub_len = sizeof raw;
		if (EVP_PKEY_get_raw_public_key(pk, raw, &pub_len) == 1)
			pub = raw;
	} else {
		int n = i2d_PUBKEY(pk, &pub); /* SubjectPublicKeyInfo, as DKIM's p= wants */
		pub_len = n > 0 ? (size_t)n : 0;
	}

	int rc = 0;
	if (pem_len <= 0 || pub == NULL || pub_len == 0) {
		rc = cairn_err_set(err, CAIRN_EIO, "keygen_failed", "", "DKIM key export failed");
	} else {
		*private_pem = xstrndup(pem_data, (size_t)pem_len);
		char *p = base64(pub, pub_len);
		struct buf txt;
		buf_init(&txt, BUF_MAX_DEFAULT);
		buf_addf(&txt, "v=DKIM1; k=%s; p=%s", ed25519 ? "ed25519" : "rsa", p);
		*dns_txt_value = buf_detach(&txt, NULL);
		free(p);
	}
	if (!ed25519)
		OPENSSL_free(pub);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return rc;
}
