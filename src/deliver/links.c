/* links.c — signed tracking links and the HTML rewrite (deliver/links.h).
 *
 * Design notes.
 *
 * Signing. The MAC input is the link's letter, then each field as an 8-byte
 * little-endian length and its bytes:
 *
 *   'c' | len id | id | len url | url | len kind | kind | len topic | topic
 *   'o' | len id | id
 *   'u' | len id | id
 *
 * kind NULL or "" is "content" and topic NULL is "", in the builders and in
 * dlv_link_verify alike, so a link whose k= was dropped or left empty still
 * verifies. The signature is compared as its base64url text (22 characters)
 * with sodium_memcmp: comparing the text rather than decoded bytes refuses
 * the other spellings of the last character (its two spare bits), so each
 * MAC has exactly one valid link.
 *
 * The rewrite. gumbo parses the HTML as a browser would; the walk collects,
 * for every <a> (HTML namespace) to track, the byte range of its href value
 * in the source: inside the quotes for a quoted value, the whole value for
 * an unquoted one. Ranges come from GumboAttribute.original_value, which
 * points into the source, and are checked to lie inside it. The output is
 * the source copied byte for byte with those ranges replaced and the pixel
 * inserted; nothing is re-serialized, so markup gumbo would have normalized
 * (case, entities, whitespace, broken tags) comes out as it went in.
 *
 *   - gumbo clones formatting elements (<a> among them) when it reopens them
 *     (`<p><a href=…>x<p>y</a>`); a clone points at the same source bytes,
 *     so ranges are sorted and each source range is replaced once.
 *   - An attribute without a value (`<a href>`) has the attribute's name as
 *     its original_value; its value is "" and never tracked, so the range is
 *     never used.
 *   - The pixel goes right before the body element's end tag as gumbo
 *     recorded it: the last </body> the parser acted on (any case, any
 *     spacing before '>'), never a "</body>" inside a comment, a script or
 *     an attribute value, which a text search would find. Without one (no
 *     </body>, or one the parser ignored) the pixel goes at the end.
 *   - A new value is written with '&' as &amp; and the enclosing quote as a
 *     reference. An unquoted value is written in double quotes: a link
 *     always holds '=', which HTML does not allow in an unquoted value (the
 *     quotes replace the old value's bytes; nothing around them moves). */
#include "deliver/links.h"

#include <jansson.h>
#include <stdio.h>

#include <gumbo.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

#define SIG_MAC_BYTES 16 /* of the 32-byte HMAC, before base64url */

/* ---- signing ------------------------------------------------------------ */

static void mac_field(crypto_auth_hmacsha256_state *st, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	unsigned char len[8];
	uint64_t v = (uint64_t)n;
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(v >> (8 * i));
	crypto_auth_hmacsha256_update(st, len, sizeof len);
	if (n > 0)
		crypto_auth_hmacsha256_update(st, (const unsigned char *)s, n);
}

static const char *kind_or_default(const char *kind)
{
	return kind != NULL && kind[0] != '\0' ? kind : "content";
}

/* Writes the signature text (DLV_LINK_SIG_LEN characters and a NUL) to sig. */
static void sign(char sig[DLV_LINK_SIG_LEN + 1], const unsigned char key[DLV_LINK_KEY_BYTES], char what,
		 const char *message_id, const char *url, const char *kind, const char *topic)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	unsigned char letter = (unsigned char)what;

	crypto_auth_hmacsha256_init(&st, key, DLV_LINK_KEY_BYTES);
	crypto_auth_hmacsha256_update(&st, &letter, 1);
	mac_field(&st, message_id);
	if (what == 'c') {
		mac_field(&st, url);
		mac_field(&st, kind_or_default(kind));
		mac_field(&st, topic);
	}
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(sig, DLV_LINK_SIG_LEN + 1, mac, SIG_MAC_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(mac, sizeof mac);
}

int dlv_link_verify(const unsigned char key[DLV_LINK_KEY_BYTES], char what, const char *message_id, const char *url,
		    const char *kind, const char *topic, const char *sig)
{
	if (what != 'c' && what != 'o' && what != 'u' && what != 'p' && what != 'h')
		return 0;
	if (message_id == NULL || sig == NULL)
		return 0;
	if (strnlen(sig, DLV_LINK_SIG_LEN + 1) != DLV_LINK_SIG_LEN)
		return 0;
	char want[DLV_LINK_SIG_LEN + 1];
	sign(want, key, what, message_id, url, kind, topic);
	return sodium_memcmp(want, sig, DLV_LINK_SIG_LEN) == 0;
}

/* ---- link text ---------------------------------------------------------- */

/* RFC 3986 unreserved characters are kept; every other byte is %XX. */
static void add_pct(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		unsigned char c = *p;
		int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '.' || c == '_' || c == '~';
		if (keep) {
			buf_addch(out, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(out, esc, sizeof esc);
		}
	}
}

/* "<base>/t/<what>/<id>": base without one trailing slash. */
static void add_prefix(struct buf *out, const char *base, char what, const char *message_id)
{
	size_t n = base != NULL ? strlen(base) : 0;
	if (n > 0 && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	buf_adds(out, "/t/");
	buf_addch(out, what);
	buf_addch(out, '/');
	add_pct(out, message_id);
}

int dlv_link_click(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		   const char *message_id, const char *url, const char *kind, const char *topic)
{
	char sig[DLV_LINK_SIG_LEN + 1];
	const char *k = kind_or_default(kind);
	sign(sig, key, 'c', message_id, url, k, topic);
	add_prefix(out, base, 'c', message_id);
	buf_adds(out, "?u=");
	add_pct(out, url);
	buf_adds(out, "&k=");
	add_pct(out, k);
	if (topic != NULL && topic[0] != '\0') {
		buf_adds(out, "&t=");
		add_pct(out, topic);
	}
	buf_adds(out, "&s=");
	buf_adds(out, sig);
	return out->overflow ? -1 : 0;
}

/* A link that signs only the message id: "<base>/t/<what>/<id><suffix><sig>". */
static int id_link(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base, char what,
		   const char *message_id, const char *suffix)
{
	char sig[DLV_LINK_SIG_LEN + 1];
	sign(sig, key, what, message_id, NULL, NULL, NULL);
	add_prefix(out, base, what, message_id);
	buf_adds(out, suffix);
	buf_adds(out, sig);
	return out->overflow ? -1 : 0;
}

int dlv_link_open(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		  const char *message_id)
{
	return id_link(out, key, base, 'o', message_id, ".gif?s=");
}

int dlv_link_unsubscribe(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
			 const char *message_id)
{
	return id_link(out, key, base, 'u', message_id, "?s=");
}

int dlv_link_preferences(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
			 const char *message_id)
{
	return id_link(out, key, base, 'p', message_id, "?s=");
}

int dlv_link_hook(struct buf *out, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		  const char *provider_id)
{
	char sig[DLV_LINK_SIG_LEN + 1];
	sign(sig, key, 'h', provider_id, NULL, NULL, NULL);
	size_t n = base != NULL ? strlen(base) : 0;
	if (n > 0 && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	buf_adds(out, "/hooks/delivery/");
	add_pct(out, provider_id);
	buf_adds(out, "?s=");
	buf_adds(out, sig);
	return out->overflow ? -1 : 0;
}

/* ---- the process's public URL, for template data ------------------------- */

static char links_base[512];
static unsigned char links_key[DLV_LINK_KEY_BYTES];
static int links_ready;

void dlv_links_configure(const char *public_url, const unsigned char key[DLV_LINK_KEY_BYTES])
{
	snprintf(links_base, sizeof links_base, "%s", public_url ? public_url : "");
	memcpy(links_key, key, DLV_LINK_KEY_BYTES);
	links_ready = public_url != NULL && public_url[0] != '\0';
}

json_t *dlv_links_hook_url(const char *provider_id)
{
	if (!links_ready || provider_id == NULL)
		return json_null();
	struct buf u;
	buf_init(&u, 2048);
	dlv_link_hook(&u, links_key, links_base, provider_id);
	json_t *s = json_string(u.ptr);
	buf_release(&u);
	return s;
}

json_t *dlv_links_json(const char *message_id)
{
	if (!links_ready || message_id == NULL)
		return json_pack("{s:s,s:s}", "unsubscribe_url", "", "preferences_url", "");
	struct buf u, p;
	buf_init(&u, 2048);
	buf_init(&p, 2048);
	dlv_link_unsubscribe(&u, links_key, links_base, message_id);
	dlv_link_preferences(&p, links_key, links_base, message_id);
	json_t *o = json_pack("{s:s,s:s}", "unsubscribe_url", u.ptr, "preferences_url", p.ptr);
	buf_release(&u);
	buf_release(&p);
	return o;
}

/* ---- the HTML rewrite --------------------------------------------------- */

/* One href value to replace: source bytes [start, end). quote is the quote
 * character around them, or 0 for an unquoted value. */
struct splice {
	size_t start;
	size_t end;
	char quote;
	const char *url; /* decoded and trimmed: into gumbo's value, url_len bytes */
	size_t url_len;
	const char *kind;
	const char *topic;
};

struct track {
	const char *src;
	size_t len;
	struct splice *items;
	size_t n;
	size_t cap;
	size_t pixel_at; /* offset of the body's end tag, or len */
};

static int is_html_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int has_prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* The attribute called name in no namespace (so never SVG's xlink:href),
 * or NULL. */
static const GumboAttribute *find_attr(const GumboElement *el, const char *name)
{
	for (unsigned i = 0; i < el->attributes.length; i++) {
		const GumboAttribute *a = el->attributes.data[i];
		if (a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE && strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* The range of a's value inside the source; 0 when gumbo's pointers do not
 * describe one we can safely replace (then the anchor is left alone). */
static int value_range(const struct track *t, const GumboAttribute *a, size_t *start, size_t *end, char *quote)
{
	const char *p = a->original_value.data;
	size_t n = a->original_value.length;
	if (p == NULL || n == 0 || p < t->src || n > t->len || (size_t)(p - t->src) > t->len - n)
		return 0;
	size_t off = (size_t)(p - t->src);
	if (p[0] == '"' || p[0] == '\'') {
		if (n < 2 || p[n - 1] != p[0])
			return 0;
		*start = off + 1;
		*end = off + n - 1;
		*quote = p[0];
		return 1;
	}
	/* unquoted: ends at a space or '>' (quotes, '=', '<' and '`' inside it
	 * are parse errors, but part of the value) */
	for (size_t i = 0; i < n; i++) {
		if (is_html_space(p[i]) || p[i] == '>')
			return 0;
	}
	*start = off;
	*end = off + n;
	*quote = 0;
	return 1;
}

static void consider_anchor(struct track *t, const GumboElement *el)
{
	const GumboAttribute *href = find_attr(el, "href");
	if (href == NULL || find_attr(el, "data-notrack") != NULL)
		return;
	const char *v = href->value;
	size_t n = strlen(v);
	while (n > 0 && is_html_space(v[0])) {
		v++;
		n--;
	}
	while (n > 0 && is_html_space(v[n - 1]))
		n--;
	if (!has_prefix_ci(v, n, "http://") && !has_prefix_ci(v, n, "https://"))
		return;
	struct splice s = {0};
	if (!value_range(t, href, &s.start, &s.end, &s.quote))
		return;
	const GumboAttribute *kind = find_attr(el, "data-kind");
	const GumboAttribute *topic = find_attr(el, "data-topic");
	s.url = v;
	s.url_len = n;
	s.kind = kind != NULL ? kind->value : NULL;
	s.topic = topic != NULL ? topic->value : NULL;
	if (t->n == t->cap)
		xgrow((void **)&t->items, &t->cap, t->n + 1, sizeof *t->items);
	t->items[t->n++] = s;
}

/* The body's end tag, if gumbo saw a real one in the source. */
static void consider_body(struct track *t, const GumboElement *el)
{
	const char *p = el->original_end_tag.data;
	size_t n = el->original_end_tag.length;
	if (p == NULL || n < 6 || p < t->src || n > t->len || (size_t)(p - t->src) > t->len - n)
		return;
	if (strncasecmp(p, "</body", 6) != 0)
		return;
	t->pixel_at = (size_t)(p - t->src);
}

/* Visits every node; iterative, since gumbo does not bound the depth. */
static void walk(struct track *t, const GumboNode *root)
{
	const GumboNode **stack = NULL;
	size_t n = 0, cap = 0;
	xgrow((void **)&stack, &cap, 1, sizeof *stack);
	stack[n++] = root;
	while (n > 0) {
		const GumboNode *node = stack[--n];
		const GumboVector *children;
		if (node->type == GUMBO_NODE_DOCUMENT) {
			children = &node->v.document.children;
		} else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
			const GumboElement *el = &node->v.element;
			if (el->tag_namespace == GUMBO_NAMESPACE_HTML && el->tag == GUMBO_TAG_A)
				consider_anchor(t, el);
			else if (el->tag_namespace == GUMBO_NAMESPACE_HTML && el->tag == GUMBO_TAG_BODY)
				consider_body(t, el);
			children = &el->children;
		} else {
			continue;
		}
		xgrow((void **)&stack, &cap, n + children->length, sizeof *stack);
		for (unsigned i = 0; i < children->length; i++)
			stack[n++] = children->data[i];
	}
	free(stack);
}

static int splice_cmp(const void *a, const void *b)
{
	const struct splice *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* Appends s[0..n) as an attribute value: & and the quote as references.
 * quote 0 (an unquoted value) writes it in double quotes. */
static void add_attr_value(struct buf *out, const char *s, size_t n, char quote)
{
	int wrap = quote == 0;
	if (wrap) {
		quote = '"';
		buf_addch(out, '"');
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '&')
			buf_adds(out, "&amp;");
		else if (s[i] == '"' && quote == '"')
			buf_adds(out, "&quot;");
		else if (s[i] == '\'' && quote == '\'')
			buf_adds(out, "&#39;");
		else
			buf_addch(out, s[i]);
	}
	if (wrap)
		buf_addch(out, '"');
}

static void add_pixel(struct buf *out, struct buf *tmp, const unsigned char key[DLV_LINK_KEY_BYTES], const char *base,
		      const char *message_id)
{
	buf_reset(tmp);
	if (dlv_link_open(tmp, key, base, message_id) < 0)
		out->overflow = 1;
	buf_adds(out, "<img src=\"");
	add_attr_value(out, tmp->ptr, tmp->len, '"');
	buf_adds(out, "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">");
}

int dlv_html_track(struct buf *out, const char *html, size_t len, const unsigned char key[DLV_LINK_KEY_BYTES],
		   const char *base, const char *message_id, int open, int clicks)
{
	if (html == NULL)
		len = 0;
	if (!clicks && !open)
		return buf_add(out, html, len) < 0 || out->overflow ? -1 : 0;

	struct track t = {.src = html != NULL ? html : "", .len = len, .pixel_at = len};
	GumboOutput *doc = gumbo_parse_with_options(&kGumboDefaultOptions, t.src, len);
	walk(&t, doc->document);
	if (!clicks)
		t.n = 0;
	if (t.n > 1)
		qsort(t.items, t.n, sizeof *t.items, splice_cmp);

	/* a pixel inside a range to replace cannot happen with gumbo's
	 * positions; should it, the end of the document is still safe */
	for (size_t i = 0; i < t.n; i++) {
		if (t.pixel_at > t.items[i].start && t.pixel_at < t.items[i].end)
			t.pixel_at = len;
	}

	struct buf tmp;
	buf_init(&tmp, out->max);
	size_t at = 0; /* source bytes before this are written */
	int pixel_done = !open;
	for (size_t i = 0; i < t.n && !out->overflow; i++) {
		const struct splice *s = &t.items[i];
		if (s->start < at)
			continue; /* a clone's range, or an overlap: written once */
		if (!pixel_done && t.pixel_at <= s->start) {
			buf_add(out, t.src + at, t.pixel_at - at);
			add_pixel(out, &tmp, key, base, message_id);
			at = t.pixel_at;
			pixel_done = 1;
		}
		buf_add(out, t.src + at, s->start - at);
		char *url = xstrndup(s->url, s->url_len);
		buf_reset(&tmp);
		if (dlv_link_click(&tmp, key, base, message_id, url, s->kind, s->topic) < 0)
			out->overflow = 1; /* a link longer than out may be cannot fit */
		free(url);
		add_attr_value(out, tmp.ptr, tmp.len, s->quote);
		at = s->end;
	}
	if (!pixel_done) {
		buf_add(out, t.src + at, t.pixel_at - at);
		add_pixel(out, &tmp, key, base, message_id);
		at = t.pixel_at;
	}
	buf_add(out, t.src + at, len - at);

	buf_release(&tmp);
	free(t.items);
	gumbo_destroy_output(&kGumboDefaultOptions, doc);
	return out->overflow ? -1 : 0;
}
