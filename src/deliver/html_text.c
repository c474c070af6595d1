/* html_text.c — the text rendition of an HTML email (email_html_to_text).
 *
 * gumbo parses the HTML as a browser would (HTML5 tree building), and a
 * walk over the tree writes text: runs of whitespace collapse to one space,
 * block elements end lines (paragraphs and headings with a blank line),
 * <br> breaks a line, list items start with "- ", a link reads
 * "text (url)" unless the text already is the url. Invisible content —
 * head, script, style, template, elements styled display:none (such as a
 * preheader span) — is skipped. */
#include <ctype.h>
#include <gumbo.h>
#include <string.h>

#include "deliver/email.h"

struct text_out {
	struct buf *b;
	int pending_space; /* whitespace seen since the last word */
	int newlines;	   /* newlines at the end of the output (0..2) */
	int started;	   /* anything written yet */
};

static void out_newlines(struct text_out *o, int want)
{
	if (!o->started)
		return;
	while (o->newlines < want) {
		buf_addch(o->b, '\n');
		o->newlines++;
	}
	o->pending_space = 0;
}

static void out_text(struct text_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			o->pending_space = 1;
			continue;
		}
		/* U+00A0 (no-break space, C2 A0) reads as a space too */
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			o->pending_space = 1;
			i++;
			continue;
		}
		if (o->pending_space && o->started && o->newlines == 0)
			buf_addch(o->b, ' ');
		o->pending_space = 0;
		buf_addch(o->b, (char)c);
		o->newlines = 0;
		o->started = 1;
	}
}

static int is_hidden(const GumboElement *el)
{
	const GumboAttribute *style = gumbo_get_attribute(&el->attributes, "style");
	if (gumbo_get_attribute(&el->attributes, "hidden") != NULL)
		return 1;
	if (style == NULL)
		return 0;
	/* "display:none" with any spacing and case */
	char squeezed[256];
	size_t k = 0;
	for (const char *p = style->value; *p != '\0' && k + 1 < sizeof squeezed; p++) {
		if (!isspace((unsigned char)*p))
			squeezed[k++] = (char)tolower((unsigned char)*p);
	}
	squeezed[k] = '\0';
	return strstr(squeezed, "display:none") != NULL;
}

/* Lines an element breaks around: 2 for a paragraph-like block, 1 for a
 * line-like block, 0 inline. */
static int block_lines(GumboTag tag)
{
	switch (tag) {
	case GUMBO_TAG_P:
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2:
	case GUMBO_TAG_H3:
	case GUMBO_TAG_H4:
	case GUMBO_TAG_H5:
	case GUMBO_TAG_H6:
	case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_TABLE:
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
	case GUMBO_TAG_HR:
		return 2;
	case GUMBO_TAG_DIV:
	case GUMBO_TAG_LI:
	case GUMBO_TAG_TR:
	case GUMBO_TAG_SECTION:
	case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_HEADER:
	case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_NAV:
	case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_MAIN:
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_DL:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_DD:
	case GUMBO_TAG_CENTER:
	case GUMBO_TAG_FORM:
	case GUMBO_TAG_BODY:
		return 1;
	default:
		return 0;
	}
}

static void walk(struct text_out *o, const GumboNode *node, int depth);

static void walk_children(struct text_out *o, const GumboElement *el, int depth)
{
	for (unsigned i = 0; i < el->children.length; i++)
		walk(o, el->children.data[i], depth + 1);
}

static void walk_link(struct text_out *o, const GumboElement *el, int depth)
{
	const GumboAttribute *href = gumbo_get_attribute(&el->attributes, "href");
	size_t before = o->b->len;
	walk_children(o, el, depth);
	if (href == NULL || href->value[0] == '\0' || href->value[0] == '#')
		return;
	const char *url = href->value;
	size_t text_len = o->b->len - before;
	/* the text already says the url (or the address of a mailto:) */
	const char *shown = url;
	if (strncmp(url, "mailto:", 7) == 0)
		shown = url + 7;
	if (text_len > 0 && text_len == strlen(shown) && memcmp(o->b->ptr + before, shown, text_len) == 0)
		return;
	if (text_len > 0 && text_len == strlen(url) && memcmp(o->b->ptr + before, url, text_len) == 0)
		return;
	if (text_len > 0 && o->newlines == 0)
		buf_adds(o->b, " (");
	else
		out_text(o, "(", 1);
	buf_adds(o->b, url);
	buf_addch(o->b, ')');
	o->newlines = 0;
	o->pending_space = 0;
	o->started = 1;
}

static void walk(struct text_out *o, const GumboNode *node, int depth)
{
	if (depth > 200)
		return; /* gumbo limits nesting itself; this keeps the stack bounded */
	switch (node->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_CDATA:
		out_text(o, node->v.text.text, strlen(node->v.text.text));
		return;
	case GUMBO_NODE_WHITESPACE:
		o->pending_space = 1;
		return;
	case GUMBO_NODE_COMMENT:
		return;
	case GUMBO_NODE_DOCUMENT:
		for (unsigned i = 0; i < node->v.document.children.length; i++)
			walk(o, node->v.document.children.data[i], depth + 1);
		return;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		break;
	}
	const GumboElement *el = &node->v.element;
	switch (el->tag) {
	case GUMBO_TAG_HEAD:
	case GUMBO_TAG_SCRIPT:
	case GUMBO_TAG_STYLE:
	case GUMBO_TAG_TEMPLATE:
	case GUMBO_TAG_TITLE:
	case GUMBO_TAG_NOSCRIPT:
		return;
	case GUMBO_TAG_BR:
		if (o->started) {
			buf_addch(o->b, '\n');
			o->newlines = o->newlines < 2 ? o->newlines + 1 : 2;
			o->pending_space = 0;
		}
		return;
	case GUMBO_TAG_IMG: {
		const GumboAttribute *alt = gumbo_get_attribute(&el->attributes, "alt");
		if (alt != NULL)
			out_text(o, alt->value, strlen(alt->value));
		return;
	}
	default:
		break;
	}
	if (is_hidden(el))
		return;
	int lines = block_lines(el->tag);
	if (lines > 0)
		out_newlines(o, lines);
	if (el->tag == GUMBO_TAG_HR) {
		out_text(o, "----", 4);
		out_newlines(o, 2);
		return;
	}
	if (el->tag == GUMBO_TAG_LI) {
		out_text(o, "-", 1);
		o->pending_space = 1;
	}
	if (el->tag == GUMBO_TAG_TD || el->tag == GUMBO_TAG_TH)
		o->pending_space = 1;
	if (el->tag == GUMBO_TAG_A)
		walk_link(o, el, depth);
	else
		walk_children(o, el, depth);
	if (lines > 0)
		out_newlines(o, lines);
}

int email_html_to_text(const char *html, size_t len, struct buf *out)
{
	GumboOutput *doc = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
	struct text_out o = { .b = out };
	walk(&o, doc->document, 0);
	gumbo_destroy_output(&kGumboDefaultOptions, doc);
	/* no trailing blank lines */
	while (out->len > 0 && out->ptr[out->len - 1] == '\n')
		buf_truncate(out, out->len - 1);
	return out->overflow ? -1 : 0;
}
