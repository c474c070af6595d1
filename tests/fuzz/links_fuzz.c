/* links_fuzz.c — libFuzzer harness for dlv_html_track (deliver/links.h).
 *
 * The first byte picks the base (a plain one, one with a trailing slash, and
 * one with '&', quotes, a space and '>' that must still stay one attribute
 * value); the rest is the HTML. Checked, each a bug if it fails:
 *
 *   - open 0, clicks 0 gives the input back unchanged;
 *   - open 1, clicks 0 gives the input with exactly the pixel inserted, at
 *     the end or right before a "</body" (any case);
 *   - open 0, clicks 1: the output parses (gumbo) to the same tree as the
 *     input — same elements, attributes, text and comments — except that
 *     the href of every anchor the contract says to track is now a click
 *     link to base/t/c/<id> that verifies, for the input's trimmed, decoded
 *     href and its data-kind / data-topic;
 *   - open 1, clicks 1 adds exactly one open link to that output;
 *   - each call returns 0 and its output has no NUL it did not get.
 *
 * Any crash, leak, sanitizer report or abort is a bug. */
#include <gumbo.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "deliver/links.h"

#define MSGID "m-1"

static const unsigned char key[DLV_LINK_KEY_BYTES] = "0123456789abcdef0123456789abcdef";
static const char *bases[] = {"https://t.example.com", "https://t.example.com/", "http://x.example/a&b\"c'd e>"};

static size_t base_len(const char *base)
{
	size_t n = strlen(base);
	return n > 0 && base[n - 1] == '/' ? n - 1 : n;
}

static void track(struct buf *out, const char *html, size_t len, const char *base, int open, int clicks)
{
	buf_init(out, BUF_MAX_DEFAULT);
	if (dlv_html_track(out, html, len, key, base, MSGID, open, clicks) != 0)
		abort();
}

static size_t occurrences(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), c = 0;
	for (size_t i = 0; i + k <= n; i++)
		c += memcmp(hay + i, needle, k) == 0;
	return c;
}

/* ---- the pixel ---------------------------------------------------------- */

static void check_pixel_only(const char *in, size_t len, const struct buf *out, const char *base)
{
	struct buf link, px;
	buf_init(&link, 0);
	buf_init(&px, 0);
	dlv_link_open(&link, key, base, MSGID);
	buf_adds(&px, "<img src=\"");
	for (size_t i = 0; i < link.len; i++) {
		if (link.ptr[i] == '&')
			buf_adds(&px, "&amp;");
		else if (link.ptr[i] == '"')
			buf_adds(&px, "&quot;");
		else
			buf_addch(&px, link.ptr[i]);
	}
	buf_adds(&px, "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">");
	if (out->len != len + px.len)
		abort();
	size_t pre = 0, suf = 0;
	while (pre < len && in[pre] == out->ptr[pre])
		pre++;
	while (suf < len && in[len - 1 - suf] == out->ptr[out->len - 1 - suf])
		suf++;
	int found = 0;
	for (size_t p = len > suf ? len - suf : 0; p <= pre && p <= len && !found; p++) {
		if (memcmp(out->ptr + p, px.ptr, px.len) != 0)
			continue;
		found = p == len || (len - p >= 6 && strncasecmp(in + p, "</body", 6) == 0);
	}
	if (!found)
		abort();
	buf_release(&link);
	buf_release(&px);
}

/* ---- the click links ---------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static const GumboAttribute *attr(const GumboElement *el, const char *name)
{
	for (unsigned i = 0; i < el->attributes.length; i++) {
		const GumboAttribute *a = el->attributes.data[i];
		if (a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE && strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* The trimmed url when the contract says to track el, else NULL (malloc'd). */
static char *trackable(const GumboElement *el)
{
	if (el->tag_namespace != GUMBO_NAMESPACE_HTML || el->tag != GUMBO_TAG_A)
		return NULL;
	const GumboAttribute *href = attr(el, "href");
	if (href == NULL || attr(el, "data-notrack") != NULL)
		return NULL;
	const char *v = href->value;
	size_t n = strlen(v);
	while (n > 0 && is_space(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_space(v[n - 1]))
		n--;
	if (!(n >= 7 && strncasecmp(v, "http://", 7) == 0) && !(n >= 8 && strncasecmp(v, "https://", 8) == 0))
		return NULL;
	return strndup(v, n);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* the module writes upper case only */
}

static char *pct_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	size_t k = 0;
	if (d == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[k++] = s[i];
			continue;
		}
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			abort();
		d[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	d[k] = '\0';
	return d;
}

/* href must be the click link for url and el's kind and topic. */
static void check_click(const char *href, const char *base, const char *url, const GumboElement *el)
{
	size_t bl = base_len(base);
	if (strncmp(href, base, bl) != 0 || strncmp(href + bl, "/t/c/" MSGID "?", 9) != 0)
		abort();
	const char *q = href + bl + 9;
	char *vals[4] = {NULL, NULL, NULL, NULL}; /* u k t s */
	const char names[] = "ukts";
	int last = -1;
	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		const char *at = strchr(names, q[0]);
		if (at == NULL || q[1] != '=')
			abort();
		int i = (int)(at - names);
		if (i <= last) /* each once, in order */
			abort();
		last = i;
		vals[i] = pct_decode(q + 2, n - 2);
		q += n;
		if (*q == '&')
			q++;
	}
	if (vals[0] == NULL || vals[1] == NULL || vals[3] == NULL || strcmp(vals[0], url) != 0)
		abort();
	const GumboAttribute *k = attr(el, "data-kind");
	const GumboAttribute *t = attr(el, "data-topic");
	const char *want_k = k != NULL && k->value[0] != '\0' ? k->value : "content";
	const char *want_t = t != NULL && t->value[0] != '\0' ? t->value : NULL;
	if (strcmp(vals[1], want_k) != 0)
		abort();
	if ((want_t == NULL) != (vals[2] == NULL) || (want_t != NULL && strcmp(vals[2], want_t) != 0))
		abort();
	if (!dlv_link_verify(key, 'c', MSGID, vals[0], vals[1], vals[2], vals[3]))
		abort();
	if (dlv_link_verify(key, 'o', MSGID, vals[0], vals[1], vals[2], vals[3]))
		abort();
	for (int i = 0; i < 4; i++)
		free(vals[i]);
}

static const GumboVector *children_of(const GumboNode *n)
{
	if (n->type == GUMBO_NODE_DOCUMENT)
		return &n->v.document.children;
	if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
		return &n->v.element.children;
	return NULL;
}

static void compare_elements(const GumboElement *a, const GumboElement *b, const char *base)
{
	if (a->tag != b->tag || a->tag_namespace != b->tag_namespace || a->attributes.length != b->attributes.length)
		abort();
	char *url = trackable(a);
	for (unsigned i = 0; i < a->attributes.length; i++) {
		const GumboAttribute *x = a->attributes.data[i];
		const GumboAttribute *y = b->attributes.data[i];
		if (x->attr_namespace != y->attr_namespace || strcmp(x->name, y->name) != 0)
			abort();
		if (url != NULL && x->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE && strcmp(x->name, "href") == 0)
			check_click(y->value, base, url, a);
		else if (strcmp(x->value, y->value) != 0)
			abort();
	}
	free(url);
}

/* Walks both trees side by side (iteratively: gumbo does not bound depth). */
static void compare_trees(const GumboNode *ra, const GumboNode *rb, const char *base)
{
	size_t cap = 64, n = 0;
	const GumboNode **st = malloc(cap * 2 * sizeof *st);
	if (st == NULL)
		abort();
	st[n * 2] = ra;
	st[n * 2 + 1] = rb;
	n++;
	while (n > 0) {
		n--;
		const GumboNode *a = st[n * 2], *b = st[n * 2 + 1];
		if (a->type != b->type)
			abort();
		switch (a->type) {
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_CDATA:
		case GUMBO_NODE_COMMENT:
		case GUMBO_NODE_WHITESPACE:
			if (strcmp(a->v.text.text, b->v.text.text) != 0)
				abort();
			continue;
		case GUMBO_NODE_ELEMENT:
		case GUMBO_NODE_TEMPLATE: compare_elements(&a->v.element, &b->v.element, base); break;
		case GUMBO_NODE_DOCUMENT: break;
		}
		const GumboVector *ca = children_of(a), *cb = children_of(b);
		if (ca->length != cb->length)
			abort();
		if (n + ca->length > cap) {
			while (n + ca->length > cap)
				cap *= 2;
			st = realloc(st, cap * 2 * sizeof *st);
			if (st == NULL)
				abort();
		}
		for (unsigned i = 0; i < ca->length; i++) {
			st[n * 2] = ca->data[i];
			st[n * 2 + 1] = cb->data[i];
			n++;
		}
	}
	free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *base = bases[data[0] % 3];
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	struct buf out;

	track(&out, in, len, base, 0, 0);
	if (out.len != len || memcmp(out.ptr, in, len) != 0)
		abort();
	buf_release(&out);

	track(&out, in, len, base, 1, 0);
	check_pixel_only(in, len, &out, base);
	buf_release(&out);

	struct buf clicks;
	track(&clicks, in, len, base, 0, 1);
	if (memchr(clicks.ptr, '\0', clicks.len) != NULL && memchr(in, '\0', len) == NULL)
		abort();
	GumboOutput *da = gumbo_parse_with_options(&kGumboDefaultOptions, in, len);
	GumboOutput *db = gumbo_parse_with_options(&kGumboDefaultOptions, clicks.ptr, clicks.len);
	compare_trees(da->document, db->document, base);
	gumbo_destroy_output(&kGumboDefaultOptions, da);
	gumbo_destroy_output(&kGumboDefaultOptions, db);

	track(&out, in, len, base, 1, 1);
	if (occurrences(out.ptr, out.len, "/t/o/" MSGID ".gif?s=") !=
	    occurrences(clicks.ptr, clicks.len, "/t/o/" MSGID ".gif?s=") + 1)
		abort();
	buf_release(&out);
	buf_release(&clicks);
	return 0;
}
