/* links_test.c — deliver/links: the signed click, open and unsubscribe
 * links, their verification (and every way it must refuse), and the HTML
 * rewrite, checked byte for byte against the source and by parsing every
 * rewritten link back out with gumbo and verifying it.
 *
 * The known-answer signatures were computed independently with python3:
 *   hmac.new(bytes(range(32)), b'c' + le64(len(id)) + id + …, sha256)
 *   .digest()[:16], base64url without padding. */
#include <criterion/criterion.h>
#include <gumbo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "deliver/links.h"

#define BASE  "https://t.example.com"
#define MSGID "msg-1"

static unsigned char key[DLV_LINK_KEY_BYTES];
static unsigned char key2[DLV_LINK_KEY_BYTES];

static void keys(void)
{
	for (int i = 0; i < DLV_LINK_KEY_BYTES; i++) {
		key[i] = (unsigned char)i;
		key2[i] = (unsigned char)i;
	}
	key2[31] ^= 1;
}

TestSuite(links, .init = keys);

/* ---- helpers ------------------------------------------------------------ */

static char *click(const char *url, const char *kind, const char *topic)
{
	struct buf b;
	buf_init(&b, BUF_MAX_RENDER);
	cr_assert_eq(dlv_link_click(&b, key, BASE, MSGID, url, kind, topic), 0);
	return buf_detach(&b, NULL);
}

/* The click link as it must appear inside an attribute: & as &amp;. */
static char *click_attr(const char *url, const char *kind, const char *topic)
{
	char *l = click(url, kind, topic);
	struct buf b;
	buf_init(&b, BUF_MAX_RENDER);
	for (const char *p = l; *p; p++) {
		if (*p == '&')
			buf_adds(&b, "&amp;");
		else
			buf_addch(&b, *p);
	}
	free(l);
	return buf_detach(&b, NULL);
}

static char *pixel(void)
{
	struct buf b, o;
	buf_init(&b, BUF_MAX_RENDER);
	buf_init(&o, BUF_MAX_RENDER);
	cr_assert_eq(dlv_link_open(&o, key, BASE, MSGID), 0);
	buf_addf(&b, "<img src=\"%s\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">", o.ptr);
	buf_release(&o);
	return buf_detach(&b, NULL);
}

static char *track(const char *html, int open, int clicks)
{
	struct buf b;
	buf_init(&b, BUF_MAX_RENDER);
	cr_assert_eq(dlv_html_track(&b, html, strlen(html), key, BASE, MSGID, open, clicks), 0);
	cr_assert_eq(strlen(b.ptr), b.len);
	return buf_detach(&b, NULL);
}

/* Concatenates a NULL-terminated list of strings into a new string. */
static char *cat(const char *first, ...)
{
	struct buf b;
	buf_init(&b, BUF_MAX_RENDER);
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		buf_adds(&b, s);
	va_end(ap);
	return buf_detach(&b, NULL);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *pct_decode(const char *s, size_t n)
{
	struct buf b;
	buf_init(&b, BUF_MAX_RENDER);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			cr_assert(i + 2 < n, "short escape in %.*s", (int)n, s);
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			cr_assert(hi >= 0 && lo >= 0, "bad escape in %.*s", (int)n, s);
			buf_addch(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_addch(&b, s[i]);
		}
	}
	return buf_detach(&b, NULL);
}

struct parsed {
	char what;
	char *id, *url, *kind, *topic, *sig;
};

static void parsed_free(struct parsed *p)
{
	free(p->id);
	free(p->url);
	free(p->kind);
	free(p->topic);
	free(p->sig);
	memset(p, 0, sizeof *p);
}

/* Takes a link apart as the tracking endpoint would. 0 if it is not one. */
static int parse_link(const char *link, struct parsed *p)
{
	memset(p, 0, sizeof *p);
	size_t bl = strlen(BASE "/t/");
	if (strncmp(link, BASE "/t/", bl) != 0)
		return 0;
	const char *s = link + bl;
	p->what = s[0];
	cr_assert_eq(s[1], '/');
	s += 2;
	size_t idn = strcspn(s, ".?");
	p->id = pct_decode(s, idn);
	s += idn;
	if (p->what == 'o') {
		cr_assert(strncmp(s, ".gif", 4) == 0);
		s += 4;
	}
	cr_assert_eq(*s, '?', "no query in %s", link);
	s++;
	while (*s) {
		size_t n = strcspn(s, "&");
		const char *eq = memchr(s, '=', n);
		cr_assert_not_null(eq, "parameter without = in %s", link);
		char *v = pct_decode(eq + 1, n - (size_t)(eq + 1 - s));
		char name = s[0];
		cr_assert_eq(eq - s, 1, "unknown parameter in %s", link);
		char **slot = name == 'u' ? &p->url : name == 'k' ? &p->kind : name == 't' ? &p->topic : &p->sig;
		cr_assert(name == 'u' || name == 'k' || name == 't' || name == 's');
		cr_assert_null(*slot, "parameter twice in %s", link);
		*slot = v;
		s += n;
		if (*s == '&')
			s++;
	}
	cr_assert_not_null(p->sig);
	return 1;
}

static int verify_parsed(const unsigned char *k, const struct parsed *p)
{
	return dlv_link_verify(k, p->what, p->id, p->url, p->kind, p->topic, p->sig);
}

/* Every <a href> of html in document order (decoded by gumbo). */
struct hrefs {
	char *v[64];
	size_t n;
};

static void collect(const GumboNode *node, struct hrefs *h)
{
	const GumboVector *ch;
	if (node->type == GUMBO_NODE_DOCUMENT) {
		ch = &node->v.document.children;
	} else if (node->type == GUMBO_NODE_ELEMENT) {
		const GumboElement *el = &node->v.element;
		if (el->tag == GUMBO_TAG_A && el->original_tag.length > 0) {
			const GumboAttribute *a = gumbo_get_attribute(&el->attributes, "href");
			if (a != NULL && h->n < 64)
				h->v[h->n++] = strdup(a->value);
		}
		ch = &el->children;
	} else {
		return;
	}
	for (unsigned i = 0; i < ch->length; i++)
		collect(ch->data[i], h);
}

static void hrefs_of(const char *html, struct hrefs *h)
{
	memset(h, 0, sizeof *h);
	GumboOutput *doc = gumbo_parse(html);
	collect(doc->document, h);
	gumbo_destroy_output(&kGumboDefaultOptions, doc);
}

static void hrefs_free(struct hrefs *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i]);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- links -------------------------------------------------------------- */

Test(links, click_known_answer)
{
	char *l = click("https://example.com/a?b=1&c=2", "purchase", "skincare");
	cr_assert_str_eq(l, BASE "/t/c/msg-1?u=https%3A%2F%2Fexample.com%2Fa%3Fb%3D1%26c%3D2&k=purchase&t=skincare"
				 "&s=QVOulQmq8ppLk4QduzaHeQ");
	free(l);
	l = click("https://example.com/", NULL, NULL);
	cr_assert_str_eq(l, BASE "/t/c/msg-1?u=https%3A%2F%2Fexample.com%2F&k=content&s=dVCWEjTLkb2AjlAMm9MpMg");
	free(l);
}

Test(links, click_defaults_and_base_slash)
{
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	/* kind "" is "content", topic "" is left out, one trailing slash goes */
	cr_assert_eq(dlv_link_click(&a, key, BASE "/", MSGID, "https://example.com/", "", ""), 0);
	cr_assert_eq(dlv_link_click(&b, key, BASE, MSGID, "https://example.com/", NULL, NULL), 0);
	cr_assert_str_eq(a.ptr, b.ptr);
	cr_assert_eq(count(a.ptr, "&t="), 0);
	cr_assert_eq(count(a.ptr, "&k=content&"), 1);
	buf_release(&a);
	buf_release(&b);
}

Test(links, click_percent_encoding)
{
	char *l = click("https://shop.example.co.kr/세일?q=a b&x=~-._!*'()", "content", "봄 세일");
	const char *want = BASE "/t/c/msg-1?u=https%3A%2F%2Fshop.example.co.kr%2F%EC%84%B8%EC%9D%BC%3Fq%3Da%20b"
				"%26x%3D~-._%21%2A%27%28%29&k=content&t=%EB%B4%84%20%EC%84%B8%EC%9D%BC&s=";
	cr_assert(strncmp(l, want, strlen(want)) == 0, "%s", l);
	cr_assert_eq(strlen(l), strlen(want) + DLV_LINK_SIG_LEN);
	free(l);
	/* one token: no byte a plain-text part or an attribute would split on */
	l = click("https://e.com/\"<>' \t\n&", NULL, NULL);
	cr_assert_eq(strcspn(l, " \t\r\n\"'<>"), strlen(l));
	free(l);
}

Test(links, click_verify_round_trip)
{
	const char *urls[] = {"https://example.com/", "http://a.b/c?d=e&f=g#h", "https://가나.kr/다?라=마", ""};
	const char *kinds[] = {NULL, "purchase"};
	const char *topics[] = {NULL, "skincare"};
	for (size_t u = 0; u < 4; u++) {
		for (size_t k = 0; k < 2; k++) {
			for (size_t t = 0; t < 2; t++) {
				char *l = click(urls[u], kinds[k], topics[t]);
				struct parsed p;
				cr_assert(parse_link(l, &p));
				cr_assert_eq(p.what, 'c');
				cr_assert_str_eq(p.id, MSGID);
				cr_assert_str_eq(p.url, urls[u]);
				cr_assert_str_eq(p.kind, kinds[k] ? kinds[k] : "content");
				cr_assert_eq(strlen(p.sig), DLV_LINK_SIG_LEN);
				cr_assert(verify_parsed(key, &p), "%s", l);
				/* as received, kind absent means "content" */
				cr_assert(dlv_link_verify(key, 'c', MSGID, urls[u], kinds[k], topics[t], p.sig));
				parsed_free(&p);
				free(l);
			}
		}
	}
}

Test(links, verify_refuses_tampering)
{
	char *l = click("https://example.com/a?b=1", "purchase", "skincare");
	struct parsed p;
	cr_assert(parse_link(l, &p));
	const char *sig = p.sig;
	cr_assert(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	/* each field */
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=2", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://evil.example/", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "content", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", NULL, "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "haircare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", NULL, sig));
	cr_assert_not(dlv_link_verify(key, 'c', "msg-2", "https://example.com/a?b=1", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', NULL, "https://example.com/a?b=1", "purchase", "skincare", sig));
	/* fields shifted into each other */
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1purchase", "", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchaseskincare", "", sig));
	/* another key */
	cr_assert_not(dlv_link_verify(key2, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	/* wrong what */
	cr_assert_not(dlv_link_verify(key, 'o', MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'u', MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 'x', MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	cr_assert_not(dlv_link_verify(key, 0, MSGID, "https://example.com/a?b=1", "purchase", "skincare", sig));
	/* the signature itself: truncated, extended, empty, NULL, one char off */
	char s2[64];
	snprintf(s2, sizeof s2, "%.21s", sig);
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", s2));
	snprintf(s2, sizeof s2, "%sA", sig);
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", s2));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", ""));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", NULL));
	for (size_t i = 0; i < DLV_LINK_SIG_LEN; i++) {
		snprintf(s2, sizeof s2, "%s", sig);
		s2[i] = s2[i] == 'A' ? 'B' : 'A';
		cr_assert_not(dlv_link_verify(key, 'c', MSGID, "https://example.com/a?b=1", "purchase", "skincare", s2),
			      "changed at %zu", i);
	}
	parsed_free(&p);
	free(l);
}

Test(links, verify_refuses_other_spelling_of_last_char)
{
	/* 16 bytes in 22 base64 characters leave the last one 2 spare bits:
	 * "Q" (010000) and "R" (010001) decode alike, only one is the link */
	const char *u = "https://example.com/a?b=1&c=2";
	cr_assert(dlv_link_verify(key, 'c', MSGID, u, "purchase", "skincare", "QVOulQmq8ppLk4QduzaHeQ"));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, u, "purchase", "skincare", "QVOulQmq8ppLk4QduzaHeR"));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, u, "purchase", "skincare", "QVOulQmq8ppLk4QduzaHeS"));
	/* the standard alphabet's spelling of a url-safe signature */
	cr_assert(dlv_link_verify(key, 'u', MSGID, NULL, NULL, NULL, "nsnBKQ9xuSx_fAd-NYL1OA"));
	cr_assert_not(dlv_link_verify(key, 'u', MSGID, NULL, NULL, NULL, "nsnBKQ9xuSx/fAd+NYL1OA"));
}

Test(links, open_link)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_link_open(&b, key, BASE, MSGID), 0);
	cr_assert_str_eq(b.ptr, BASE "/t/o/msg-1.gif?s=adGuH45xeweCInJRxw2mqg");
	struct parsed p;
	cr_assert(parse_link(b.ptr, &p));
	cr_assert_eq(p.what, 'o');
	cr_assert(verify_parsed(key, &p));
	/* url/kind/topic are ignored for 'o' */
	cr_assert(dlv_link_verify(key, 'o', MSGID, "https://x/", "k", "t", p.sig));
	cr_assert_not(dlv_link_verify(key2, 'o', MSGID, NULL, NULL, NULL, p.sig));
	cr_assert_not(dlv_link_verify(key, 'o', "msg-2", NULL, NULL, NULL, p.sig));
	cr_assert_not(dlv_link_verify(key, 'u', MSGID, NULL, NULL, NULL, p.sig));
	cr_assert_not(dlv_link_verify(key, 'c', MSGID, NULL, NULL, NULL, p.sig));
	parsed_free(&p);
	buf_release(&b);
}

Test(links, unsubscribe_link)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_link_unsubscribe(&b, key, BASE "/", MSGID), 0);
	cr_assert_str_eq(b.ptr, BASE "/t/u/msg-1?s=nsnBKQ9xuSx_fAd-NYL1OA");
	struct parsed p;
	cr_assert(parse_link(b.ptr, &p));
	cr_assert_eq(p.what, 'u');
	cr_assert(verify_parsed(key, &p));
	cr_assert_not(dlv_link_verify(key, 'o', MSGID, NULL, NULL, NULL, p.sig));
	cr_assert_not(dlv_link_verify(key2, 'u', MSGID, NULL, NULL, NULL, p.sig));
	cr_assert_not(dlv_link_verify(key, 'u', "msg-1 ", NULL, NULL, NULL, p.sig));
	parsed_free(&p);
	buf_release(&b);
}

/* preference centre and provider webhook links: their own kinds, so an
 * unsubscribe signature never opens the preferences or a webhook */
Test(links, preferences_and_hook_links)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_link_preferences(&b, key, BASE, MSGID), 0);
	cr_assert(!strncmp(b.ptr, BASE "/t/p/msg-1?s=", strlen(BASE "/t/p/msg-1?s=")), "%s", b.ptr);
	const char *psig = strstr(b.ptr, "s=") + 2;
	cr_assert(dlv_link_verify(key, 'p', MSGID, NULL, NULL, NULL, psig));
	cr_assert_not(dlv_link_verify(key, 'u', MSGID, NULL, NULL, NULL, psig));
	buf_reset(&b);
	cr_assert_eq(dlv_link_hook(&b, key, BASE "/", "prv_1"), 0);
	cr_assert(!strncmp(b.ptr, BASE "/hooks/delivery/prv_1?s=", strlen(BASE "/hooks/delivery/prv_1?s=")), "%s",
		  b.ptr);
	const char *hsig = strstr(b.ptr, "s=") + 2;
	cr_assert(dlv_link_verify(key, 'h', "prv_1", NULL, NULL, NULL, hsig));
	cr_assert_not(dlv_link_verify(key, 'h', "prv_2", NULL, NULL, NULL, hsig));
	cr_assert_not(dlv_link_verify(key, 'p', "prv_1", NULL, NULL, NULL, hsig));
	buf_release(&b);
	/* template data before and after the process knows its public URL */
	json_t *none = dlv_links_json(MSGID);
	cr_assert_str_eq(json_string_value(json_object_get(none, "unsubscribe_url")), "");
	json_decref(none);
	dlv_links_configure(BASE, key);
	json_t *l = dlv_links_json(MSGID);
	const char *u = json_string_value(json_object_get(l, "unsubscribe_url"));
	cr_assert(!strncmp(u, BASE "/t/u/msg-1?s=", strlen(BASE "/t/u/msg-1?s=")), "%s", u);
	json_decref(l);
	dlv_links_configure(NULL, key);
}

Test(links, message_id_is_encoded_in_the_path)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_link_unsubscribe(&b, key, BASE, "a/b?c d"), 0);
	cr_assert(strncmp(b.ptr, BASE "/t/u/a%2Fb%3Fc%20d?s=", strlen(BASE "/t/u/a%2Fb%3Fc%20d?s=")) == 0, "%s", b.ptr);
	struct parsed p;
	cr_assert(parse_link(b.ptr, &p));
	cr_assert_str_eq(p.id, "a/b?c d");
	cr_assert(verify_parsed(key, &p));
	parsed_free(&p);
	buf_release(&b);
}

Test(links, builders_report_overflow)
{
	struct buf b;
	buf_init(&b, 40);
	cr_assert_eq(dlv_link_click(&b, key, BASE, MSGID, "https://example.com/", NULL, NULL), -1);
	cr_assert(b.overflow);
	buf_release(&b);
	buf_init(&b, 40);
	cr_assert_eq(dlv_link_open(&b, key, BASE, MSGID), -1);
	buf_release(&b);
	buf_init(&b, 40);
	cr_assert_eq(dlv_link_unsubscribe(&b, key, BASE, MSGID), -1);
	buf_release(&b);
	const char *html = "<p><a href=\"https://example.com/\">x</a></p>";
	buf_init(&b, 60);
	cr_assert_eq(dlv_html_track(&b, html, strlen(html), key, BASE, MSGID, 1, 1), -1);
	buf_release(&b);
	buf_init(&b, 10);
	cr_assert_eq(dlv_html_track(&b, html, strlen(html), key, BASE, MSGID, 0, 0), -1);
	buf_release(&b);
}

/* ---- the HTML rewrite --------------------------------------------------- */

Test(links, html_quoting_styles)
{
	char *a = click_attr("https://example.com/d", NULL, NULL);
	char *b = click_attr("https://example.com/s", NULL, NULL);
	char *c = click_attr("https://example.com/u", NULL, NULL);
	char *want = cat("<p><a class=x href=\"", a, "\" id=1>d</a> <A HREF='", b, "'>s</A> <a href=\"", c,
			 "\" target=_blank>u</a></p>", NULL);
	char *got = track("<p><a class=x href=\"https://example.com/d\" id=1>d</a> "
			  "<A HREF='https://example.com/s'>s</A> "
			  "<a href=https://example.com/u target=_blank>u</a></p>",
			  0, 1);
	cr_assert_str_eq(got, want);
	free(got);
	/* an unquoted value is written in double quotes (a link holds '=',
	 * which an unquoted value may not): one ending the tag, one before "/>" */
	free(want);
	want = cat("<a href=\"", c, "\">u</a><a href=\"", c, "\" />", NULL);
	got = track("<a href=https://example.com/u>u</a><a href=https://example.com/u />", 0, 1);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(a);
	free(b);
	free(c);
}

Test(links, html_unquoted_value_with_quotes_inside)
{
	/* found by the fuzzer: quotes inside an unquoted value are a parse
	 * error but part of the value, which is still tracked */
	char *a = click_attr("http://e.com/a\"b'c", NULL, NULL);
	char *want = cat("<p><a href= \"", a, "\">x</a></p>", NULL);
	char *got = track("<p><a href= http://e.com/a\"b'c>x</a></p>", 0, 1);
	cr_assert_str_eq(got, want);
	struct hrefs h;
	hrefs_of(got, &h);
	cr_assert_eq(h.n, 1);
	struct parsed p;
	cr_assert(parse_link(h.v[0], &p));
	cr_assert_str_eq(p.url, "http://e.com/a\"b'c");
	cr_assert(verify_parsed(key, &p));
	parsed_free(&p);
	hrefs_free(&h);
	free(got);
	free(a);
	free(want);
}

Test(links, html_entities_decoded_then_escaped)
{
	char *l = click_attr("https://example.com/a?b=1&c=2&d=<", NULL, NULL);
	char *want = cat("<a href=\"", l, "\">x</a>", NULL);
	char *got = track("<a href=\"https://example.com/a?b=1&amp;c=2&#38;d=&lt;\">x</a>", 0, 1);
	cr_assert_str_eq(got, want);
	/* no bare & in the output: each is &amp; */
	cr_assert_eq(count(got, "&"), count(got, "&amp;"));
	struct hrefs h;
	hrefs_of(got, &h);
	cr_assert_eq(h.n, 1);
	struct parsed p;
	cr_assert(parse_link(h.v[0], &p));
	cr_assert_str_eq(p.url, "https://example.com/a?b=1&c=2&d=<");
	cr_assert(verify_parsed(key, &p));
	parsed_free(&p);
	hrefs_free(&h);
	free(got);
	free(want);
	free(l);
}

Test(links, html_spaces_trimmed_and_scheme_case)
{
	char *a = click_attr("https://example.com/a", NULL, NULL);
	char *b = click_attr("HTTP://Example.com/B", NULL, NULL);
	char *want = cat("<a href=\"", a, "\">a</a><a href='", b, "'>b</a>", NULL);
	char *got = track("<a href=\"  https://example.com/a\n \">a</a><a href='\tHTTP://Example.com/B'>b</a>", 0, 1);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(a);
	free(b);
}

Test(links, html_other_links_untouched)
{
	const char *html = "<html><body>"
			   "<a href=\"mailto:help@example.co.kr\">m</a>"
			   "<a href=\"tel:+82-2-123-4567\">t</a>"
			   "<a href=\"#top\">anchor</a>"
			   "<a href=\"/relative/path\">rel</a>"
			   "<a href=\"//cdn.example.com/x\">proto-relative</a>"
			   "<a href=\"javascript:alert(1)\">js</a>"
			   "<a href=\"ftp://example.com/\">ftp</a>"
			   "<a href=\"httpx://example.com/\">httpx</a>"
			   "<a href=\"http:/example.com/\">one slash</a>"
			   "<a href=\"\">empty</a><a href>novalue</a><a name=\"n\">no href</a>"
			   "<a data-notrack href=\"https://example.com/keep\">nt</a>"
			   "<a href=\"https://example.com/keep2\" data-notrack=\"1\">nt2</a>"
			   "<svg><a href=\"https://example.com/svg\">svg</a></svg>"
			   "<link href=\"https://example.com/style.css\"><img src=\"https://example.com/i.png\">"
			   "<area href=\"https://example.com/area\">"
			   "</body></html>";
	char *got = track(html, 0, 1);
	cr_assert_str_eq(got, html);
	free(got);
}

Test(links, html_kind_and_topic_carried)
{
	char *a = click_attr("https://shop.example.co.kr/buy", "purchase", "skincare");
	char *b = click_attr("https://shop.example.co.kr/read", NULL, "skincare");
	char *c = click_attr("https://shop.example.co.kr/plain", NULL, NULL);
	char *want = cat("<a data-kind=\"purchase\" href=\"", a, "\" data-topic=\"skincare\">buy</a>",
			 "<a data-topic=skincare data-kind=\"\" href=\"", b, "\">read</a><a href=\"", c,
			 "\" data-topic=\"\">plain</a>", NULL);
	char *got = track("<a data-kind=\"purchase\" href=\"https://shop.example.co.kr/buy\" "
			  "data-topic=\"skincare\">buy</a>"
			  "<a data-topic=skincare data-kind=\"\" href=\"https://shop.example.co.kr/read\">read</a>"
			  "<a href=\"https://shop.example.co.kr/plain\" data-topic=\"\">plain</a>",
			  0, 1);
	cr_assert_str_eq(got, want);
	struct hrefs h;
	hrefs_of(got, &h);
	cr_assert_eq(h.n, 3);
	struct parsed p;
	cr_assert(parse_link(h.v[0], &p));
	cr_assert_str_eq(p.kind, "purchase");
	cr_assert_str_eq(p.topic, "skincare");
	cr_assert(verify_parsed(key, &p));
	parsed_free(&p);
	cr_assert(parse_link(h.v[1], &p));
	cr_assert_str_eq(p.kind, "content");
	cr_assert_str_eq(p.topic, "skincare");
	parsed_free(&p);
	hrefs_free(&h);
	free(got);
	free(want);
	free(a);
	free(b);
	free(c);
}

Test(links, html_korean_text_byte_for_byte)
{
	const char *before =
		"<!DOCTYPE html>\r\n<html lang=\"ko\"><HEAD><meta charset=\"utf-8\"><title>봄맞이 세일</title>"
		"</HEAD>\r\n<Body Style=\"margin:0\">\r\n<!-- 머리말 -->\r\n<p>안녕하세요, 고객님! "
		"&nbsp;지금 <b>30%</b> 할인&hellip; ";
	const char *middle = "세일 보러 가기 ▶</a> 그리고 <a   HREF  =  'https://shop.example.co.kr/새상품?색=빨강&amp;"
			     "크기=L'  >새 상품</a>";
	const char *after = "\r\n<p>주식회사 케언 | 서울특별시 강남구 테헤란로 1 | 수신거부</p>\r\n";
	char *in = cat(before, "<a href=\"https://shop.example.co.kr/sale\" data-topic=\"스킨케어\">", middle, after,
		       "</Body>\r\n</html>\r\n", NULL);
	char *a = click_attr("https://shop.example.co.kr/sale", NULL, "스킨케어");
	char *b = click_attr("https://shop.example.co.kr/새상품?색=빨강&크기=L", NULL, NULL);
	char *px = pixel();
	char *want = cat(before, "<a href=\"", a, "\" data-topic=\"스킨케어\">",
			 "세일 보러 가기 ▶</a> 그리고 <a   HREF  =  '", b, "'  >새 상품</a>", after, px,
			 "</Body>\r\n</html>\r\n", NULL);
	char *got = track(in, 1, 1);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(px);
	free(a);
	free(b);
	free(in);
}

Test(links, pixel_placement)
{
	char *px = pixel();
	struct {
		const char *in, *before, *after;
	} cases[] = {
		{"<html><body><p>x</p></body></html>", "<html><body><p>x</p>", "</body></html>"},
		{"<HTML><BODY><P>x</P></BODY></HTML>", "<HTML><BODY><P>x</P>", "</BODY></HTML>"},
		{"<p>x</p></body >\n", "<p>x</p>", "</body >\n"},
		/* the last one the parser acts on */
		{"<body>a</body>b</body>c", "<body>a</body>b", "</body>c"},
		/* not one inside a comment, a script or an attribute value */
		{"<body><p title=\"</body>\">a</p></body><!-- </body> -->", "<body><p title=\"</body>\">a</p>",
		 "</body><!-- </body> -->"},
		{"<body><script>var s = \"</body>\";</script></body>", "<body><script>var s = \"</body>\";</script>",
		 "</body>"},
		/* none: at the end */
		{"<p>no body tag</p>", "<p>no body tag</p>", ""},
		{"<p>only in a comment <!-- </body> --></p>", "<p>only in a comment <!-- </body> --></p>", ""},
		{"", "", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *want = cat(cases[i].before, px, cases[i].after, NULL);
		char *got = track(cases[i].in, 1, 0);
		cr_assert_str_eq(got, want, "case %zu", i);
		free(got);
		free(want);
		/* with clicks too: no links here, same result */
		got = track(cases[i].in, 1, 1);
		want = cat(cases[i].before, px, cases[i].after, NULL);
		cr_assert_str_eq(got, want, "case %zu", i);
		free(got);
		free(want);
	}
	free(px);
}

Test(links, pixel_is_a_verified_open_link)
{
	char *got = track("<body>x</body>", 1, 1);
	GumboOutput *doc = gumbo_parse(got);
	const GumboNode *body = NULL;
	const GumboVector *top = &doc->root->v.element.children;
	for (unsigned i = 0; i < top->length; i++) {
		const GumboNode *n = top->data[i];
		if (n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == GUMBO_TAG_BODY)
			body = n;
	}
	cr_assert_not_null(body);
	const GumboNode *img = body->v.element.children.data[body->v.element.children.length - 1];
	cr_assert_eq(img->v.element.tag, GUMBO_TAG_IMG);
	const GumboAttribute *src = gumbo_get_attribute(&img->v.element.attributes, "src");
	struct parsed p;
	cr_assert(parse_link(src->value, &p));
	cr_assert_eq(p.what, 'o');
	cr_assert(verify_parsed(key, &p));
	cr_assert_str_eq(gumbo_get_attribute(&img->v.element.attributes, "style")->value, "display:none");
	parsed_free(&p);
	gumbo_destroy_output(&kGumboDefaultOptions, doc);
	free(got);
}

Test(links, options_open_and_clicks)
{
	const char *html = "<html><body><a href=\"https://example.com/\">x</a></body></html>";
	char *got = track(html, 0, 0);
	cr_assert_str_eq(got, html);
	free(got);

	char *px = pixel();
	char *want = cat("<html><body><a href=\"https://example.com/\">x</a>", px, "</body></html>", NULL);
	got = track(html, 1, 0);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);

	char *l = click_attr("https://example.com/", NULL, NULL);
	want = cat("<html><body><a href=\"", l, "\">x</a></body></html>", NULL);
	got = track(html, 0, 1);
	cr_assert_str_eq(got, want);
	cr_assert_eq(count(got, "/t/o/"), 0);
	free(got);
	free(want);
	free(l);
	free(px);

	/* not NUL-terminated input, and NULL with length 0 */
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_html_track(&b, "<a href=http://e.com/>x</a>TRAILING", 27, key, BASE, MSGID, 0, 1), 0);
	cr_assert_eq(count(b.ptr, "TRAILING"), 0);
	cr_assert_eq(count(b.ptr, "u=http%3A%2F%2Fe.com%2F&"), 1);
	buf_reset(&b);
	cr_assert_eq(dlv_html_track(&b, NULL, 0, key, BASE, MSGID, 1, 1), 0);
	cr_assert_eq(count(b.ptr, "<img "), 1);
	buf_release(&b);
}

Test(links, malformed_html)
{
	/* unclosed tags, a missing quote's recovery, an <a> the parser reopens
	 * (it clones the element: the source is still rewritten once) */
	char *a = click_attr("https://example.com/a", NULL, NULL);
	char *c = click_attr("http://c.example/", NULL, NULL);
	char *want = cat("<div><p><a href=\"", a, "\">unclosed <b>bold<p>more<table><td>cell", NULL);
	char *got = track("<div><p><a href=\"https://example.com/a\">unclosed <b>bold<p>more<table><td>cell", 0, 1);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);

	want = cat("<p><a href=\"", c, "\">foo<p>bar</a>", NULL);
	got = track("<p><a href=\"http://c.example/\">foo<p>bar</a>", 0, 1);
	cr_assert_str_eq(got, want);
	cr_assert_eq(count(got, "/t/c/"), 1);
	free(got);
	free(want);

	/* the adoption agency: <a> across <b> and a block */
	want = cat("<a href=\"", c, "\"><b>x<div>y</a>z</b></div>", NULL);
	got = track("<a href=http://c.example/><b>x<div>y</a>z</b></div>", 0, 1);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);

	/* a tag cut off at the end is no element: left as it is */
	const char *cut[] = {"<a href=\"https://example.com/a", "<a href='https://example.com/a'", "<a href=", "<",
			     "<a href=\"https://example.com/a\" "};
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		got = track(cut[i], 0, 1);
		cr_assert_str_eq(got, cut[i]);
		free(got);
	}

	/* nested anchors: the parser closes the first */
	got = track("<a href=\"https://example.com/a\">1<a href=\"https://example.com/a\">2</a></a>", 0, 1);
	want = cat("<a href=\"", a, "\">1<a href=\"", a, "\">2</a></a>", NULL);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(a);
	free(c);
}

Test(links, every_rewritten_link_parses_and_verifies)
{
	const char *urls[] = {
		"https://shop.example.co.kr/sale?utm_source=email&utm_campaign=봄",
		"http://example.com/",
		"https://example.com/path with space",
		"https://example.com/q?a=\"quoted\"&b='single'",
		"https://example.com/#frag",
		"https://例え.jp/パス",
		"https://example.com/a?x=1&y=2&z=3",
		"HTTPS://EXAMPLE.COM/UPPER",
	};
	const char *hrefs[] = {
		"\"https://shop.example.co.kr/sale?utm_source=email&amp;utm_campaign=봄\"",
		"http://example.com/",
		"'https://example.com/path with space'",
		"\"https://example.com/q?a=&quot;quoted&quot;&amp;b='single'\"",
		"'https://example.com/#frag'",
		"\"https://例え.jp/パス\"",
		"https://example.com/a?x=1&amp;y=2&amp;z=3",
		"\" HTTPS://EXAMPLE.COM/UPPER \"",
	};
	size_t n = sizeof urls / sizeof urls[0];
	struct buf in;
	buf_init(&in, 0);
	buf_adds(&in, "<!doctype html><html><body><table><tr><td>");
	for (size_t i = 0; i < n; i++) {
		buf_addf(&in, "<p>링크 %zu: <a href=%s data-kind=k%zu>%zu</a>", i, hrefs[i], i, i);
		buf_adds(&in, "<a href=\"mailto:x@example.com\">mail</a>");
	}
	buf_adds(&in, "</table></body></html>");
	char *got = track(in.ptr, 1, 1);
	struct hrefs h;
	hrefs_of(got, &h);
	cr_assert_eq(h.n, 2 * n);
	for (size_t i = 0; i < n; i++) {
		struct parsed p;
		cr_assert(parse_link(h.v[2 * i], &p), "%s", h.v[2 * i]);
		cr_assert_eq(p.what, 'c');
		cr_assert_str_eq(p.id, MSGID);
		cr_assert_str_eq(p.url, urls[i]);
		char k[16];
		snprintf(k, sizeof k, "k%zu", i);
		cr_assert_str_eq(p.kind, k);
		cr_assert_null(p.topic);
		cr_assert(verify_parsed(key, &p), "%s", h.v[2 * i]);
		cr_assert_not(verify_parsed(key2, &p));
		parsed_free(&p);
		cr_assert_str_eq(h.v[2 * i + 1], "mailto:x@example.com");
	}
	cr_assert_eq(count(got, "<img src=\"" BASE "/t/o/msg-1.gif?s="), 1);
	hrefs_free(&h);
	free(got);
	buf_release(&in);
}

Test(links, odd_base_still_one_attribute_value)
{
	/* a base no deployment should have, but the attribute must still hold */
	const char *base = "https://t.example.com/a b\"c'd>";
	const char *html = "<a href=https://example.com/ id=x>1</a><a href='https://example.com/'>2</a>"
			   "<a href=\"https://example.com/\">3</a>";
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(dlv_html_track(&b, html, strlen(html), key, base, MSGID, 1, 1), 0);
	GumboOutput *doc = gumbo_parse(b.ptr);
	struct hrefs h;
	memset(&h, 0, sizeof h);
	collect(doc->document, &h);
	gumbo_destroy_output(&kGumboDefaultOptions, doc);
	cr_assert_eq(h.n, 3);
	struct buf l;
	buf_init(&l, 0);
	dlv_link_click(&l, key, base, MSGID, "https://example.com/", NULL, NULL);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(h.v[i], l.ptr, "link %zu in %s", i, b.ptr);
	cr_assert_eq(count(b.ptr, " id=x>1</a>"), 1);
	hrefs_free(&h);
	buf_release(&l);
	buf_release(&b);
}
