/* email_test.c — deliver/email: MIME building, the Korean advertising rules,
 * List-Unsubscribe, input refusals, the HTML → text rendition and DKIM.
 *
 * Messages are parsed back with GMime, and — as a second, independent
 * reader — with python3's `email` package (policy.default, defects checked)
 * while python3-dkim (Debian) verifies the DKIM signature against the
 * generated key, served by a dnsfunc instead of DNS. Debian's python
 * modules load only under /usr/bin/python3. */
#include <criterion/criterion.h>
#include <gmime/gmime.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "deliver/email.h"

#define SUBJECT_KO  "봄맞이 세일: 전 품목 30% 할인"
#define SENDER_INFO "주식회사 케언 | 서울특별시 강남구 테헤란로 1 | 02-123-4567"
#define UNSUB_URL   "https://mail.example.co.kr/u/abc123?sig=xyz"
#define UNSUB_MAIL  "unsubscribe+abc123@example.co.kr"

static const char *ad_html = "<!doctype html><html><head><title>t</title><style>p{color:red}</style></head>"
			     "<body><h1>봄맞이 세일</h1><p>안녕하세요, 고객님.<br>지금 <b>30%</b> 할인 중입니다.</p>"
			     "<ul><li>셔츠</li><li>바지</li></ul>"
			     "<p><a href=\"https://shop.example.co.kr/sale\">세일 보러 가기</a></p></body></html>";

static struct email_in ad_input(void)
{
	struct email_in in = {
		.from = "케언 쇼핑 <news@example.co.kr>",
		.to = "minji@example.com",
		.to_name = "김민지",
		.subject = SUBJECT_KO,
		.preheader = "이번 주말까지만!",
		.html = ad_html,
		.message_id_domain = "mail.example.co.kr",
		.unsubscribe_url = UNSUB_URL,
		.unsubscribe_mailto = UNSUB_MAIL,
		.advertising = 1,
		.sender_info = SENDER_INFO,
		.date_ms = 1774000000000LL,
	};
	return in;
}

static GMimeMessage *parse(const struct buf *b)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(b->ptr, b->len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	cr_assert_not_null(m, "GMime could not parse the message back");
	return m;
}

static char *part_text(GMimeMessage *m, const char *subtype)
{
	GMimeObject *body = g_mime_message_get_mime_part(m);
	cr_assert(GMIME_IS_MULTIPART(body));
	GMimeMultipart *mp = GMIME_MULTIPART(body);
	for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
		GMimeObject *part = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(part);
		if (g_mime_content_type_is_type(ct, "text", subtype))
			return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	}
	return NULL;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void build_ok(const struct email_in *in, struct buf *out, char *id)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	buf_init(out, BUF_MAX_DEFAULT);
	int rc = email_build(in, out, id, EMAIL_MESSAGE_ID_MAX, &err);
	cr_assert_eq(rc, 0, "email_build: %s (%s)", err.message, err.field);
}

Test(email, korean_advertising_html_only)
{
	struct email_in in = ad_input();
	struct buf out;
	char id[EMAIL_MESSAGE_ID_MAX];
	build_ok(&in, &out, id);

	/* wire shape: 7-bit, CRLF everywhere, encoded Subject */
	for (size_t i = 0; i < out.len; i++) {
		cr_assert((unsigned char)out.ptr[i] < 0x80, "8-bit byte at %zu", i);
		if (out.ptr[i] == '\n')
			cr_assert(i > 0 && out.ptr[i - 1] == '\r', "bare LF at %zu", i);
	}
	cr_assert_not_null(strstr(out.ptr, "Subject: =?"), "Subject is not RFC 2047 encoded:\n%s", out.ptr);
	cr_assert_not_null(strstr(out.ptr, "MIME-Version: 1.0\r\n"));
	cr_assert_not_null(strstr(out.ptr, "List-Unsubscribe: <" UNSUB_URL ">,\r\n <mailto:" UNSUB_MAIL ">\r\n"),
			   "%s", out.ptr);
	cr_assert_not_null(strstr(out.ptr, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));

	/* Message-ID: <32 hex @ domain> */
	regex_t re;
	cr_assert_eq(regcomp(&re, "^[0-9a-f]{32}@mail\\.example\\.co\\.kr$", REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&re, id, 0, NULL, 0), 0, "Message-ID %s", id);
	regfree(&re);
	char want_id[EMAIL_MESSAGE_ID_MAX + 20];
	snprintf(want_id, sizeof want_id, "\r\nMessage-ID: <%s>\r\n", id);
	cr_assert_not_null(strcasestr(out.ptr, want_id), "%s", out.ptr);

	GMimeMessage *m = parse(&out);
	const char *subject = g_mime_message_get_subject(m);
	cr_assert_str_eq(subject, "(광고) " SUBJECT_KO);
	cr_assert_str_eq(g_mime_message_get_message_id(m), id);
	cr_assert_eq(count(subject, "(광고)"), 1);
	InternetAddressList *from = g_mime_message_get_from(m);
	InternetAddressMailbox *fb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(from, 0));
	cr_assert_str_eq(internet_address_get_name(INTERNET_ADDRESS(fb)), "케언 쇼핑");
	cr_assert_str_eq(internet_address_mailbox_get_addr(fb), "news@example.co.kr");
	InternetAddressList *to = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO);
	cr_assert_str_eq(internet_address_get_name(internet_address_list_get_address(to, 0)), "김민지");
	GDateTime *date = g_mime_message_get_date(m);
	cr_assert_not_null(date);
	cr_assert_eq(g_date_time_to_unix(date), 1774000000);
	GMimeContentType *ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(m));
	cr_assert(g_mime_content_type_is_type(ct, "multipart", "alternative"));

	char *text = part_text(m, "plain");
	char *html = part_text(m, "html");
	cr_assert_not_null(text);
	cr_assert_not_null(html);
	/* generated text part: blocks on their own lines, list items, link as text (url) */
	cr_assert_not_null(strstr(text, "봄맞이 세일\n\n안녕하세요, 고객님.\n지금 30% 할인 중입니다."), "%s", text);
	cr_assert_not_null(strstr(text, "- 셔츠\n- 바지"), "%s", text);
	cr_assert_not_null(strstr(text, "세일 보러 가기 (https://shop.example.co.kr/sale)"), "%s", text);
	cr_assert_null(strstr(text, "p{color"), "style leaked into the text part");
	cr_assert_null(strstr(text, "이번 주말까지만"), "the preheader belongs to the HTML only");
	/* footer in both parts */
	cr_assert_not_null(strstr(text, SENDER_INFO), "%s", text);
	cr_assert_not_null(strstr(text, "무료로 수신거부"), "%s", text);
	cr_assert_not_null(strstr(text, UNSUB_URL));
	cr_assert_not_null(strstr(html, SENDER_INFO), "%s", html);
	cr_assert_not_null(strstr(html, "수신거부</a>"), "%s", html);
	cr_assert_not_null(strstr(html, "(무료)"));
	/* footer before </body>, preheader right after <body> */
	cr_assert_lt(strstr(html, SENDER_INFO), strstr(html, "</body>"));
	const char *pre = strstr(html, "<body><span style=\"display:none");
	cr_assert_not_null(pre, "%s", html);
	cr_assert_not_null(strstr(pre, "이번 주말까지만!</span><h1>"));
	g_free(text);
	g_free(html);
	g_object_unref(m);
	buf_release(&out);
}

Test(email, advertising_prefix_not_twice)
{
	struct email_in in = ad_input();
	in.subject = "  (광고) 이미 표시된 제목";
	struct buf out;
	char id[EMAIL_MESSAGE_ID_MAX];
	build_ok(&in, &out, id);
	GMimeMessage *m = parse(&out);
	cr_assert_str_eq(g_mime_message_get_subject(m), "(광고) 이미 표시된 제목");
	g_object_unref(m);
	buf_release(&out);
}

Test(email, informational_no_prefix_text_given)
{
	struct email_in in = {
		.from = "billing@example.com",
		.to = "a@example.org",
		.reply_to = "Support <help@example.com>",
		.subject = "Your receipt",
		.html = "<p>Thanks</p>",
		.text = "Thanks, plain.",
		.date_ms = 0,
	};
	struct buf out;
	char id[EMAIL_MESSAGE_ID_MAX];
	build_ok(&in, &out, id);
	cr_assert_null(strstr(out.ptr, "List-Unsubscribe"));
	cr_assert(strstr(id, "@example.com") != NULL, "default Message-ID domain is From's: %s", id);
	GMimeMessage *m = parse(&out);
	cr_assert_str_eq(g_mime_message_get_subject(m), "Your receipt");
	char *text = part_text(m, "plain");
	cr_assert(strcmp(text, "Thanks, plain.\n") == 0 || strcmp(text, "Thanks, plain.\r\n") == 0, "%s", text);
	g_free(text);
	InternetAddressList *rt = g_mime_message_get_reply_to(m);
	cr_assert_eq(internet_address_list_length(rt), 1);
	g_object_unref(m);
	buf_release(&out);
}

Test(email, text_only_single_alternative)
{
	struct email_in in = { .from = "a@b.example", .to = "c@d.example", .subject = "s", .text = "only text" };
	struct buf out;
	build_ok(&in, &out, NULL);
	GMimeMessage *m = parse(&out);
	char *html = part_text(m, "html");
	cr_assert_null(html);
	g_object_unref(m);
	buf_release(&out);
}

static void expect_refused(const struct email_in *in, const char *field, const char *slug)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct buf out;
	buf_init(&out, BUF_MAX_DEFAULT);
	char id[EMAIL_MESSAGE_ID_MAX] = "untouched";
	int rc = email_build(in, &out, id, sizeof id, &err);
	cr_assert_eq(rc, CAIRN_EUNPROC, "want refusal for %s, got %d", field, rc);
	cr_assert_str_eq(err.field, field, "message: %s", err.message);
	cr_assert_str_eq(err.slug, slug);
	cr_assert_not_null(strstr(err.message, field), "the message names the field: %s", err.message);
	cr_assert_eq(out.len, 0, "nothing written on failure");
	cr_assert_str_eq(id, "");
	buf_release(&out);
}

Test(email, header_injection_refused)
{
	struct email_in in = ad_input();
	in.subject = "Hello\r\nBcc: victim@example.com";
	expect_refused(&in, "subject", "header_injection");
	in = ad_input();
	in.to_name = "Kim\nX-Evil: 1";
	expect_refused(&in, "to_name", "header_injection");
	in = ad_input();
	in.from = "Evil <a@b.example>\r\nBcc: x@y.example";
	expect_refused(&in, "from", "header_injection");
	in = ad_input();
	in.unsubscribe_url = "https://x.example/u\r\nX: y";
	expect_refused(&in, "unsubscribe_url", "header_injection");
}

Test(email, invalid_address_refused_with_field)
{
	struct email_in in = ad_input();
	in.from = "not an address";
	expect_refused(&in, "from", "invalid_address");
	in = ad_input();
	in.to = "minji@";
	expect_refused(&in, "to", "invalid_address");
	in = ad_input();
	in.to = "a@example.com, b@example.com";
	expect_refused(&in, "to", "invalid_address");
	in = ad_input();
	in.reply_to = "@nowhere";
	expect_refused(&in, "reply_to", "invalid_address");
	in = ad_input();
	in.to = "";
	expect_refused(&in, "to", "invalid_address");
}

Test(email, advertising_rules_required)
{
	struct email_in in = ad_input();
	in.sender_info = NULL;
	expect_refused(&in, "sender_info", "missing_field");
	in = ad_input();
	in.unsubscribe_url = NULL;
	in.unsubscribe_mailto = NULL;
	expect_refused(&in, "unsubscribe_url", "missing_field");
	in = ad_input();
	in.unsubscribe_url = "http://plain.example/u";
	expect_refused(&in, "unsubscribe_url", "invalid_url");
}

Test(email, mailto_only_unsubscribe_has_no_post)
{
	struct email_in in = ad_input();
	in.unsubscribe_url = NULL;
	in.unsubscribe_mailto = "mailto:" UNSUB_MAIL;
	struct buf out;
	build_ok(&in, &out, NULL);
	cr_assert_not_null(strstr(out.ptr, "List-Unsubscribe: <mailto:" UNSUB_MAIL ">\r\n"), "%s", out.ptr);
	cr_assert_null(strstr(out.ptr, "List-Unsubscribe-Post"));
	GMimeMessage *m = parse(&out);
	char *text = part_text(m, "plain");
	cr_assert_not_null(strstr(text, UNSUB_MAIL));
	g_free(text);
	g_object_unref(m);
	buf_release(&out);
}

static void check_text(const char *html, const char *want)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	cr_assert_eq(email_html_to_text(html, strlen(html), &b), 0);
	cr_assert_str_eq(b.ptr, want, "html: %s", html);
	buf_release(&b);
}

Test(email, html_to_text)
{
	check_text("<p>one   two\n three</p><p>four</p>", "one two three\n\nfour");
	check_text("<div>a</div><div>b<br>c</div>", "a\nb\nc");
	check_text("<a href=\"https://x.example/\">https://x.example/</a>", "https://x.example/");
	check_text("<a href=\"mailto:a@b.example\">a@b.example</a>", "a@b.example");
	check_text("go <a href=\"https://x.example/p?q=1&amp;r=2\">here</a>.", "go here (https://x.example/p?q=1&r=2).");
	check_text("<span style=\"DISPLAY: none\">hidden</span>shown", "shown");
	check_text("<script>var x;</script><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
		   "a b\nc");
	check_text("<img alt=\"로고\" src=\"x.png\"> 케언", "로고 케언");
	check_text("", "");
	check_text("<<<>>>&&&", "<<<>>>&&&");
}

/* ---- DKIM, verified by python3-dkim ------------------------------------ */

static const char *check_py =
	"import sys, dkim, email\n"
	"from email import policy\n"
	"d = sys.argv[1]\n"
	"raw = open(d + '/msg.eml', 'rb').read()\n"
	"txt = open(d + '/txt', 'rb').read().strip()\n"
	"def dnsfunc(name, timeout=5):\n"
	"    return txt if name == b'sel1._domainkey.example.co.kr.' else None\n"
	"if not dkim.verify(raw, dnsfunc=dnsfunc):\n"
	"    print('DKIM verification failed'); sys.exit(1)\n"
	"sig = dkim.util.parse_tag_value(email.message_from_bytes(raw)['DKIM-Signature'].encode())\n"
	"h = [x.strip().lower() for x in sig[b'h'].decode().split(':')]\n"
	"for want in ['from','to','subject','date','message-id','mime-version','content-type',\n"
	"             'list-unsubscribe','list-unsubscribe-post']:\n"
	"    if want not in h: print('not signed:', want, h); sys.exit(2)\n"
	"if sig[b'c'] != b'relaxed/relaxed': print('canon', sig[b'c']); sys.exit(3)\n"
	"if sig[b'a'] != sys.argv[2].encode(): print('alg', sig[b'a']); sys.exit(4)\n"
	"m = email.message_from_bytes(raw, policy=policy.default)\n"
	"want = open(d + '/subject', encoding='utf-8').read()\n"
	"if str(m['subject']) != want: print('subject', repr(str(m['subject'])), repr(want)); sys.exit(5)\n"
	"if m['from'].addresses[0].display_name != '케언 쇼핑': print('from', m['from']); sys.exit(6)\n"
	"for part in m.walk():\n"
	"    if part.defects: print('defects', part.defects); sys.exit(7)\n"
	"text = m.get_body(('plain',)).get_content()\n"
	"html = m.get_body(('html',)).get_content()\n"
	"if '주식회사 케언' not in text or '주식회사 케언' not in html: print('footer'); sys.exit(8)\n"
	"if m.get_content_type() != 'multipart/alternative': sys.exit(9)\n"
	"sys.exit(0)\n";

static void write_file(const char *dir, const char *name, const char *data, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void remove_dir(const char *dir)
{
	static const char *names[] = { "msg.eml", "txt", "subject", "check.py" };
	char path[512];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void sign_and_verify(int ed25519)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	char *pem = NULL;
	char *txt = NULL;
	cr_assert_eq(email_dkim_keygen(ed25519, &pem, &txt, &err), 0, "%s", err.message);
	cr_assert_not_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"), "%s", pem);
	cr_assert(strncmp(txt, ed25519 ? "v=DKIM1; k=ed25519; p=" : "v=DKIM1; k=rsa; p=", ed25519 ? 22 : 18) == 0,
		  "%s", txt);

	struct email_in in = ad_input();
	struct buf msg;
	build_ok(&in, &msg, NULL);
	int rc = email_dkim_sign(&msg, "example.co.kr", "sel1", pem, ed25519, &err);
	cr_assert_eq(rc, 0, "sign: %s", err.message);
	cr_assert(strncmp(msg.ptr, "DKIM-Signature: v=1; a=", 23) == 0, "%.200s", msg.ptr);
	for (size_t i = 0; i < msg.len; i++) {
		if (msg.ptr[i] == '\n')
			cr_assert(i > 0 && msg.ptr[i - 1] == '\r', "bare LF at %zu", i);
	}

	char dir[] = "/tmp/cairn-email-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	write_file(dir, "msg.eml", msg.ptr, msg.len);
	write_file(dir, "txt", txt, strlen(txt));
	const char *subject = "(광고) " SUBJECT_KO;
	write_file(dir, "subject", subject, strlen(subject));
	write_file(dir, "check.py", check_py, strlen(check_py));
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/check.py %s %s", dir, dir,
		 ed25519 ? "ed25519-sha256" : "rsa-sha256");
	int status = system(cmd);
	remove_dir(dir);
	cr_assert_eq(status, 0, "python3 dkim/email check failed (status %d)", status);

	/* a changed byte in a signed header breaks the signature */
	char *subj = strstr(msg.ptr, "\r\nSubject: ");
	cr_assert_not_null(subj);
	char *dir2p = NULL;
	char dir2[] = "/tmp/cairn-email-XXXXXX";
	dir2p = mkdtemp(dir2);
	cr_assert_not_null(dir2p);
	char *unsub = strstr(msg.ptr, "List-Unsubscribe: <https://mail");
	cr_assert_not_null(unsub);
	unsub[strlen("List-Unsubscribe: <https://")] = 'M';
	write_file(dir2, "msg.eml", msg.ptr, msg.len);
	write_file(dir2, "txt", txt, strlen(txt));
	write_file(dir2, "subject", subject, strlen(subject));
	write_file(dir2, "check.py", check_py, strlen(check_py));
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/check.py %s %s >/dev/null", dir2, dir2,
		 ed25519 ? "ed25519-sha256" : "rsa-sha256");
	status = system(cmd);
	remove_dir(dir2);
	cr_assert_neq(status, 0, "a tampered List-Unsubscribe must fail verification");

	buf_release(&msg);
	free(pem);
	free(txt);
}

Test(email, dkim_rsa_sha256_verified_by_python_dkim, .timeout = 60)
{
	sign_and_verify(0);
}

Test(email, dkim_ed25519_sha256_verified_by_python_dkim, .timeout = 60)
{
	sign_and_verify(1);
}

Test(email, dkim_bad_key_refused)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct buf msg;
	buf_init(&msg, BUF_MAX_DEFAULT);
	buf_adds(&msg, "From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n");
	cr_assert_eq(email_dkim_sign(&msg, "b.example", "s", "not a key", 0, &err), CAIRN_EINVAL);
	cr_assert_str_eq(err.slug, "invalid_dkim_key");
	char *pem = NULL;
	char *txt = NULL;
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_eq(email_dkim_keygen(1, &pem, &txt, &e2), 0);
	struct cairn_err e3 = CAIRN_ERR_INIT;
	cr_assert_eq(email_dkim_sign(&msg, "b.example", "s", pem, 0, &e3), CAIRN_EINVAL, "an Ed25519 key for rsa");
	cr_assert_str_eq(msg.ptr, "From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n", "msg untouched on failure");
	free(pem);
	free(txt);
	buf_release(&msg);
}
