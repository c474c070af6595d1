/* tpl_parse.c — template source → immutable tree.
 *
 * Two layers, as in Shopify Liquid:
 *   1. The document tokenizer splits the source into text, {{ output }} and
 *      {% tag %} tokens (next_doc_token), applying whitespace control; the
 *      `liquid` tag feeds its markup line by line through the same parser
 *      (struct tsrc in line mode).
 *   2. Markup inside a token is parsed by one of two expression parsers:
 *      the strict one tokenizes (lex_*) and descends; the lax one mimics
 *      Shopify's regular expressions (qf_* helpers) so that sloppy markup
 *      written for Shopify's lax mode renders the same here.
 *
 * Tags are one table (tags[]): name, parse function, whether the tag is a
 * block and whether it counts as blank. Block bodies whose every node is
 * blank lose their whitespace-only text (Shopify's remove_blank_strings).
 *
 * Invariants: everything is allocated from t->arena; on the first error
 * p->failed is set and parsing unwinds, tpl_parse frees the tree. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "template/tpl_int.h"

/* ---- parser state ---------------------------------------------------------- */

struct tsrc {
	int lines;	 /* 0: document tokens; 1: lines of a liquid tag */
	const char *p;	 /* lines: next unread byte */
	const char *end; /* lines: end of the markup */
	int line;	 /* lines: line number of the next line */
};

struct parser {
	struct tpl *t;
	struct arena *a;
	const char *src;
	size_t len;
	size_t pos; /* document tokenizer position */
	enum tpl_syntax mode;
	int depth, max_depth;
	int trim_next;
	struct cairn_err *err;
	int failed;
	const char *name;
	/* line/column tracking for document positions */
	size_t lc_pos;
	int lc_line;
	size_t lc_bol;
	/* position of the token being parsed (for messages) */
	int tok_line, tok_col;
};

struct tok {
	int kind; /* TK_* */
	const char *p;
	size_t n;
	const char *name; /* tags */
	size_t name_n;
	const char *mk;
	size_t mk_n;
	int trim_left, trim_right;
	int line, col;
};

enum { TK_EOF, TK_TEXT, TK_VAR, TK_TAG };

uint32_t tpl_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* How much of a token to quote in a message: at most 40 bytes, never
 * cutting a UTF-8 sequence (a message must stay valid UTF-8 for JSON). */
static int excerpt_len(const char *s, size_t n)
{
	if (n <= 40)
		return (int)n;
	size_t k = 40;
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return (int)k;
}

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *p, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = 1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char field[128];
	snprintf(field, sizeof field, "%s", p->name ? p->name : "template");
	cairn_err_set(p->err, CAIRN_EUNPROC, "template_syntax", field,
		      "Liquid syntax error (%s%sline %d, column %d): %s", p->name ? p->name : "", p->name ? ", " : "",
		      p->tok_line, p->tok_col, msg);
	return -1;
}

static void *palloc(struct parser *p, size_t n)
{
	void *m = arena_alloc(p->a, n);
	memset(m, 0, n);
	return m;
}

static char *pstrndup(struct parser *p, const char *s, size_t n)
{
	return arena_strndup(p->a, s, n);
}

static void locate(struct parser *p, size_t pos, int *line, int *col)
{
	if (pos < p->lc_pos) {
		p->lc_pos = 0;
		p->lc_line = 1;
		p->lc_bol = 0;
	}
	for (size_t i = p->lc_pos; i < pos && i < p->len; i++) {
		if (p->src[i] == '\n') {
			p->lc_line++;
			p->lc_bol = i + 1;
		}
	}
	p->lc_pos = pos;
	*line = p->lc_line;
	*col = (int)(pos - p->lc_bol) + 1;
}

/* ---- character classes ------------------------------------------------------ */

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* \w, plus UTF-8 bytes so that Korean names work. */
static int is_w(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static int is_blank_str(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_ws((unsigned char)s[i]))
			return 0;
	return 1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_ws((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ws((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int str_eq(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n == l && memcmp(s, lit, l) == 0;
}

/* ---- document tokenizer (Shopify's Tokenizer) -------------------------------- */

static const char *find2(const char *s, const char *e, char a, char b)
{
	for (; s + 1 < e; s++)
		if (s[0] == a && s[1] == b)
			return s;
	return NULL;
}

/* Reads the next raw token: text, "{{…}}" or "{%…%}". */
static void next_raw(struct parser *p, struct tok *tk)
{
	const char *s = p->src + p->pos, *e = p->src + p->len;
	memset(tk, 0, sizeof *tk);
	if (s >= e) {
		tk->kind = TK_EOF;
		return;
	}
	locate(p, p->pos, &tk->line, &tk->col);
	tk->p = s;
	if (s[0] == '{' && s + 1 < e && s[1] == '%') {
		const char *q = find2(s + 2, e, '%', '}');
		tk->kind = TK_TAG;
		/* unterminated: the rest; split_tag reports it */
		tk->n = q ? (size_t)(q + 2 - s) : (size_t)(e - s);
		p->pos += tk->n;
		return;
	}
	if (s[0] == '{' && s + 1 < e && s[1] == '{') {
		const char *q = s + 2;
		char a = 0;
		tk->kind = TK_VAR;
		if (q < e)
			a = *q++;
		while (q < e) {
			while (q < e && a != '}' && a != '{')
				a = *q++;
			if (q >= e)
				break;
			char b = *q++;
			if (b != '}' && b != '%') {
				a = b;
				continue;
			}
			if (a == '}' && b == '}') {
				tk->n = (size_t)(q - s);
				p->pos += tk->n;
				return;
			}
			if (a == '{' && b == '%') {
				const char *r = find2(q, e, '%', '}');
				tk->kind = TK_TAG;
				tk->n = r ? (size_t)(r + 2 - s) : (size_t)(e - s);
				p->pos += tk->n;
				if (!r)
					tk->mk = NULL;
				tk->name = NULL;
				tk->trim_left = -1; /* marks "{{ … {%" */
				return;
			}
		}
		tk->n = (size_t)(e - s);
		p->pos += tk->n;
		tk->trim_left = -2; /* unterminated variable */
		return;
	}
	const char *q = s;
	while (q + 1 < e && !(q[0] == '{' && (q[1] == '{' || q[1] == '%')))
		q++;
	if (q + 1 >= e)
		q = e;
	tk->kind = TK_TEXT;
	tk->n = (size_t)(q - s);
	p->pos += tk->n;
}

/* Splits a tag token "{%-? name markup -?%}" (FullToken). Returns 0, or -1
 * when the token does not look like a tag. */
static int split_tag(const char *s, size_t n, struct tok *tk)
{
	if (n < 4 || s[n - 2] != '%' || s[n - 1] != '}')
		return -1;
	const char *b = s + 2, *e = s + n - 2;
	tk->trim_left = (b < e && *b == '-');
	if (tk->trim_left)
		b++;
	tk->trim_right = (n >= 5 && s[n - 3] == '-' && e - 1 >= b);
	if (tk->trim_right)
		e--;
	while (b < e && is_ws((unsigned char)*b))
		b++;
	const char *nm = b;
	if (b < e && *b == '#') {
		b++;
	} else {
		while (b < e && is_w((unsigned char)*b))
			b++;
	}
	if (b == nm)
		return -1;
	tk->name = nm;
	tk->name_n = (size_t)(b - nm);
	while (b < e && is_ws((unsigned char)*b))
		b++;
	tk->mk = b;
	tk->mk_n = (size_t)(e - b);
	return 0;
}

/* ---- line source of the liquid tag ----------------------------------------- */

/* Next non-blank line as a tag: 1, 0 at end, -1 for a line that is not a
 * tag (reported by the caller). */
static int next_line(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	memset(tk, 0, sizeof *tk);
	while (ts->p < ts->end) {
		const char *s = ts->p;
		const char *nl = memchr(s, '\n', (size_t)(ts->end - s));
		const char *le = nl ? nl : ts->end;
		ts->p = nl ? nl + 1 : ts->end;
		int line = ts->line++;
		if (is_blank_str(s, (size_t)(le - s)))
			continue;
		tk->kind = TK_TAG;
		tk->line = line;
		tk->col = 1;
		tk->p = s;
		tk->n = (size_t)(le - s);
		const char *b = s;
		while (b < le && is_ws((unsigned char)*b))
			b++;
		tk->col = (int)(b - s) + 1;
		const char *nm = b;
		if (*b == '#')
			b++;
		else
			while (b < le && is_w((unsigned char)*b))
				b++;
		p->tok_line = line;
		p->tok_col = tk->col;
		if (b == nm)
			return -1;
		tk->name = nm;
		tk->name_n = (size_t)(b - nm);
		while (b < le && is_ws((unsigned char)*b))
			b++;
		const char *me = le;
		while (me > b && is_ws((unsigned char)me[-1]))
			me--;
		tk->mk = b;
		tk->mk_n = (size_t)(me - b);
		return 1;
	}
	(void)p;
	tk->kind = TK_EOF;
	return 0;
}

/* ---- lax helpers: Shopify's QuotedFragment & co ----------------------------- */

/* QuotedString at s: end or NULL. */
static const char *qs_at(const char *s, const char *e)
{
	if (s < e && (*s == '"' || *s == '\'')) {
		const char *q = memchr(s + 1, *s, (size_t)(e - s - 1));
		if (q)
			return q + 1;
	}
	return NULL;
}

/* QuotedFragment at s: /"[^"]*"|'[^']*'|(?:[^\s,\|'"]|QuotedString)+/ */
static const char *qf_at(const char *s, const char *e)
{
	const char *q = qs_at(s, e);
	if (q)
		return q;
	const char *c = s;
	while (c < e) {
		unsigned char ch = (unsigned char)*c;
		if (ch == '"' || ch == '\'') {
			q = qs_at(c, e);
			if (!q)
				break;
			c = q;
			continue;
		}
		if (is_ws(ch) || ch == ',' || ch == '|')
			break;
		c++;
	}
	return c > s ? c : NULL;
}

/* First QuotedFragment at or after s. */
static int qf_search(const char *s, const char *e, const char **b, const char **f)
{
	for (const char *c = s; c < e; c++) {
		const char *q = qf_at(c, e);
		if (q) {
			*b = c;
			*f = q;
			return 1;
		}
	}
	return 0;
}

/* ---- expressions ----------------------------------------------------------- */

static struct tpl_expr *mk_lit(struct parser *p, struct tval v)
{
	struct tpl_expr *x = palloc(p, sizeof *x);
	x->kind = EX_LIT;
	x->lit = v;
	return x;
}

static struct tpl_expr *mk_str(struct parser *p, const char *s, size_t n)
{
	return mk_lit(p, tv_str(pstrndup(p, s, n), n));
}

static int keyword_lit(const char *s, size_t n, struct tval *v)
{
	if (str_eq(s, n, "nil") || str_eq(s, n, "null") || n == 0) {
		*v = tv_nil();
		return 1;
	}
	if (str_eq(s, n, "true")) {
		*v = tv_bool(1);
		return 1;
	}
	if (str_eq(s, n, "false")) {
		*v = tv_bool(0);
		return 1;
	}
	if (str_eq(s, n, "empty")) {
		v->t = TV_EMPTY;
		return 1;
	}
	if (str_eq(s, n, "blank")) {
		v->t = TV_BLANK;
		return 1;
	}
	return 0;
}

static int is_command(const char *s, size_t n)
{
	return str_eq(s, n, "size") || str_eq(s, n, "first") || str_eq(s, n, "last");
}

struct lookbuf {
	struct tpl_lookup v[64];
	int n;
};

static struct tpl_expr *lax_expr(struct parser *p, const char *s, size_t n);

static struct tpl_expr *finish_var(struct parser *p, const char *name, size_t nn, struct tpl_expr *root_dyn,
				   struct lookbuf *lb)
{
	struct tpl_expr *x = palloc(p, sizeof *x);
	x->kind = EX_VAR;
	if (name) {
		x->name = pstrndup(p, name, nn);
		x->name_len = nn;
		x->hash = tpl_hash(name, nn);
	}
	x->root_dyn = root_dyn;
	x->nlook = lb->n;
	if (lb->n) {
		x->look = palloc(p, sizeof(struct tpl_lookup) * (size_t)lb->n);
		memcpy(x->look, lb->v, sizeof(struct tpl_lookup) * (size_t)lb->n);
	}
	return x;
}

/* Balanced [..] at s (VariableParser's recursive bracket). */
static const char *bracket_at(const char *s, const char *e)
{
	int depth = 0;
	for (const char *c = s; c < e; c++) {
		if (*c == '[')
			depth++;
		else if (*c == ']') {
			depth--;
			if (depth == 0)
				return c + 1;
		}
	}
	return NULL;
}

/* VariableLookup.parse: scan /\[(?>[^\[\]]+|\g<0>)*\]|[\w-]+\??/ */
static struct tpl_expr *lax_lookup(struct parser *p, const char *s, size_t n)
{
	const char *e = s + n, *c = s;
	struct lookbuf lb;
	lb.n = 0;
	const char *name = NULL;
	size_t nn = 0;
	struct tpl_expr *root_dyn = NULL;
	int first = 1;
	while (c < e) {
		const char *b = c, *f = NULL;
		int br = 0;
		if (*c == '[') {
			f = bracket_at(c, e);
			br = f != NULL;
		}
		if (!f && (is_w((unsigned char)*c) || *c == '-')) {
			f = c;
			while (f < e && (is_w((unsigned char)*f) || *f == '-'))
				f++;
			if (f < e && *f == '?')
				f++;
		}
		if (!f) {
			c++;
			continue;
		}
		c = f;
		if (first) {
			first = 0;
			if (br)
				root_dyn = lax_expr(p, b + 1, (size_t)(f - b - 2));
			else {
				name = b;
				nn = (size_t)(f - b);
			}
			continue;
		}
		if (lb.n >= 64)
			break;
		struct tpl_lookup *l = &lb.v[lb.n++];
		memset(l, 0, sizeof *l);
		if (br) {
			l->dyn = lax_expr(p, b + 1, (size_t)(f - b - 2));
		} else {
			l->key = pstrndup(p, b, (size_t)(f - b));
			l->len = (size_t)(f - b);
			l->command = is_command(b, l->len);
		}
	}
	if (first)
		return mk_lit(p, tv_nil());
	return finish_var(p, name, nn, root_dyn, &lb);
}

/* Expression.parse (lax). */
static struct tpl_expr *lax_expr(struct parser *p, const char *s, size_t n)
{
	struct tval v;
	trim(&s, &n);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		return mk_str(p, s + 1, n - 2);
	if (keyword_lit(s, n, &v))
		return mk_lit(p, v);
	if (n >= 2 && s[0] == '(' && s[n - 1] == ')') {
		/* /\A\(\s*(?>(\S+)\s*\.\.)\s*(\S+)\s*\)\z/ */
		const char *b = s + 1, *e = s + n - 1;
		while (b < e && is_ws((unsigned char)*b))
			b++;
		const char *r1 = b;
		while (r1 < e && !is_ws((unsigned char)*r1))
			r1++;
		const char *k = NULL;
		const char *after = r1;
		while (after < e && is_ws((unsigned char)*after))
			after++;
		if (after + 1 < e && after[0] == '.' && after[1] == '.' && r1 > b)
			k = r1;
		for (const char *c = r1 - 1; !k && c > b; c--)
			if (c + 1 < r1 + 1 && c[0] == '.' && c + 1 < e && c[1] == '.')
				k = c;
		if (k) {
			const char *dots = k;
			while (dots < e && is_ws((unsigned char)*dots))
				dots++;
			const char *r2 = dots + 2;
			while (r2 < e && is_ws((unsigned char)*r2))
				r2++;
			const char *r2e = e;
			while (r2e > r2 && is_ws((unsigned char)r2e[-1]))
				r2e--;
			int ok = r2e > r2 && k > b;
			for (const char *c = r2; ok && c < r2e; c++)
				if (is_ws((unsigned char)*c))
					ok = 0;
			if (ok) {
				struct tpl_expr *x = palloc(p, sizeof *x);
				x->kind = EX_RANGE;
				x->lo = lax_expr(p, b, (size_t)(k - b));
				x->hi = lax_expr(p, r2, (size_t)(r2e - r2));
				return x;
			}
		}
	}
	if (parse_number_lit(s, n, &v))
		return mk_lit(p, v);
	return lax_lookup(p, s, n);
}

/* ---- strict lexer ------------------------------------------------------------ */

enum lt {
	L_END,
	L_ID,
	L_STR,
	L_NUM,
	L_CMP,
	L_DOT,
	L_DOTDOT,
	L_PIPE,
	L_COLON,
	L_COMMA,
	L_LSQ,
	L_RSQ,
	L_LP,
	L_RP,
	L_Q,
	L_DASH
};

struct ltok {
	int t;
	const char *p;
	size_t n;
};

struct lex {
	struct ltok *v;
	int n, i;
};

static const char *lt_name(int t)
{
	static const char *const names[] = {"end of markup", "identifier", "string", "number", "comparison", "'.'",
					    "'..'",	     "'|'",	   "':'",    "','",    "'['",	     "']'",
					    "'('",	     "')'",	   "'?'",    "'-'"};
	return names[t];
}

static int lex_run(struct parser *p, const char *s, size_t n, struct lex *lx)
{
	const char *e = s + n, *c = s;
	int cap = 16;
	lx->v = arena_alloc(p->a, sizeof(struct ltok) * (size_t)cap);
	lx->n = 0;
	lx->i = 0;
	for (;;) {
		while (c < e && is_ws((unsigned char)*c))
			c++;
		if (lx->n + 1 >= cap) {
			struct ltok *nv = arena_alloc(p->a, sizeof(struct ltok) * (size_t)cap * 2);
			memcpy(nv, lx->v, sizeof(struct ltok) * (size_t)lx->n);
			lx->v = nv;
			cap *= 2;
		}
		struct ltok *t = &lx->v[lx->n++];
		t->p = c;
		if (c >= e) {
			t->t = L_END;
			t->n = 0;
			return 0;
		}
		unsigned char ch = (unsigned char)*c;
		const char *f = c + 1;
		if (ch == '=' && f < e && *f == '=') {
			t->t = L_CMP;
			f++;
		} else if (ch == '!' && f < e && *f == '=') {
			t->t = L_CMP;
			f++;
		} else if (ch == '<' && f < e && (*f == '>' || *f == '=')) {
			t->t = L_CMP;
			f++;
		} else if (ch == '>' && f < e && *f == '=') {
			t->t = L_CMP;
			f++;
		} else if (ch == '<' || ch == '>') {
			t->t = L_CMP;
		} else if (ch == '"' || ch == '\'') {
			const char *q = memchr(f, ch, (size_t)(e - f));
			if (!q)
				return perr(p, "Unterminated string in \"%.*s\".", (int)n, s);
			t->t = L_STR;
			f = q + 1;
		} else if (isdigit(ch) || (ch == '-' && f < e && isdigit((unsigned char)*f))) {
			while (f < e && isdigit((unsigned char)*f))
				f++;
			if (f + 1 < e && *f == '.' && isdigit((unsigned char)f[1])) {
				f++;
				while (f < e && isdigit((unsigned char)*f))
					f++;
			}
			t->t = L_NUM;
		} else if (isalpha(ch) || ch == '_' || ch >= 0x80) {
			while (f < e && (is_w((unsigned char)*f) || *f == '-'))
				f++;
			if (f < e && *f == '?')
				f++;
			t->t = L_ID;
			if ((size_t)(f - c) == 8 && memcmp(c, "contains", 8) == 0 &&
			    (f >= e || is_ws((unsigned char)*f)))
				t->t = L_CMP;
		} else if (ch == '.' && f < e && *f == '.') {
			t->t = L_DOTDOT;
			f++;
		} else {
			switch (ch) {
			case '.': t->t = L_DOT; break;
			case '|': t->t = L_PIPE; break;
			case ':': t->t = L_COLON; break;
			case ',': t->t = L_COMMA; break;
			case '[': t->t = L_LSQ; break;
			case ']': t->t = L_RSQ; break;
			case '(': t->t = L_LP; break;
			case ')': t->t = L_RP; break;
			case '?': t->t = L_Q; break;
			case '-': t->t = L_DASH; break;
			default: return perr(p, "Unexpected character '%c' in \"%.*s\".", ch, (int)n, s);
			}
		}
		t->n = (size_t)(f - c);
		c = f;
	}
}

static int lk(struct lex *lx, int t, int ahead)
{
	int i = lx->i + ahead;
	if (i >= lx->n)
		return t == L_END;
	return lx->v[i].t == t;
}

static int lk_id(struct lex *lx, const char *id)
{
	struct ltok *t = &lx->v[lx->i];
	return t->t == L_ID && str_eq(t->p, t->n, id);
}

static struct ltok *consume(struct parser *p, struct lex *lx, int t)
{
	struct ltok *k = &lx->v[lx->i];
	if (k->t != t) {
		perr(p, "Expected %s but found %s%s%.*s%s.", lt_name(t), lt_name(k->t), k->n ? " '" : "", (int)k->n,
		     k->p, k->n ? "'" : "");
		return NULL;
	}
	if (k->t != L_END)
		lx->i++;
	return k;
}

static int consume_if(struct lex *lx, int t)
{
	if (lx->v[lx->i].t == t && t != L_END) {
		lx->i++;
		return 1;
	}
	return 0;
}

static int consume_id(struct lex *lx, const char *id)
{
	if (lk_id(lx, id)) {
		lx->i++;
		return 1;
	}
	return 0;
}

static struct tpl_expr *strict_expr(struct parser *p, struct lex *lx);

static int strict_lookups(struct parser *p, struct lex *lx, struct lookbuf *lb)
{
	for (;;) {
		if (consume_if(lx, L_LSQ)) {
			struct tpl_expr *k = strict_expr(p, lx);
			if (!k || !consume(p, lx, L_RSQ))
				return -1;
			if (lb->n >= 64)
				return perr(p, "Too many lookups in one expression.");
			struct tpl_lookup *l = &lb->v[lb->n++];
			memset(l, 0, sizeof *l);
			l->dyn = k;
		} else if (consume_if(lx, L_DOT)) {
			struct ltok *id = consume(p, lx, L_ID);
			if (!id)
				return -1;
			if (lb->n >= 64)
				return perr(p, "Too many lookups in one expression.");
			struct tpl_lookup *l = &lb->v[lb->n++];
			memset(l, 0, sizeof *l);
			l->key = pstrndup(p, id->p, id->n);
			l->len = id->n;
			l->command = is_command(id->p, id->n);
		} else {
			return 0;
		}
	}
}

static struct tpl_expr *strict_expr(struct parser *p, struct lex *lx)
{
	struct ltok *t = &lx->v[lx->i];
	struct lookbuf lb;
	struct tval v;
	lb.n = 0;
	if (p->depth > p->max_depth + 50) {
		perr(p, "Expression nested too deeply.");
		return NULL;
	}
	switch (t->t) {
	case L_ID: {
		lx->i++;
		if (strict_lookups(p, lx, &lb) < 0)
			return NULL;
		if (lb.n == 0 && keyword_lit(t->p, t->n, &v))
			return mk_lit(p, v);
		return finish_var(p, t->p, t->n, NULL, &lb);
	}
	case L_LSQ: {
		lx->i++;
		p->depth++;
		struct tpl_expr *k = strict_expr(p, lx);
		p->depth--;
		if (!k || !consume(p, lx, L_RSQ))
			return NULL;
		if (strict_lookups(p, lx, &lb) < 0)
			return NULL;
		if (k->kind == EX_LIT && k->lit.t == TV_STR)
			return finish_var(p, k->lit.s.p, k->lit.s.n, NULL, &lb);
		return finish_var(p, NULL, 0, k, &lb);
	}
	case L_STR: lx->i++; return mk_str(p, t->p + 1, t->n - 2);
	case L_NUM:
		lx->i++;
		if (!parse_number_lit(t->p, t->n, &v))
			v = tv_int(0);
		return mk_lit(p, v);
	case L_LP: {
		lx->i++;
		p->depth++;
		struct tpl_expr *lo = strict_expr(p, lx);
		struct tpl_expr *hi = NULL;
		if (lo && consume(p, lx, L_DOTDOT))
			hi = strict_expr(p, lx);
		p->depth--;
		if (!hi || !consume(p, lx, L_RP))
			return NULL;
		struct tpl_expr *x = palloc(p, sizeof *x);
		x->kind = EX_RANGE;
		x->lo = lo;
		x->hi = hi;
		return x;
	}
	default:
		perr(p, "%s%.*s is not a valid expression.", t->t == L_END ? "An empty value" : "", (int)t->n, t->p);
		return NULL;
	}
}

/* ---- filters and output ------------------------------------------------------- */

struct fargs {
	struct tpl_expr *a[32];
	int na;
	const char *kw[16];
	struct tpl_expr *kv[16];
	int nk;
};

static int add_filter(struct parser *p, struct tpl_fcall **fv, int *nf, int *cap, const char *name, size_t nn,
		      struct fargs *fa)
{
	if (*nf >= *cap) {
		int nc = *cap ? *cap * 2 : 4;
		struct tpl_fcall *n = palloc(p, sizeof *n * (size_t)nc);
		if (*nf)
			memcpy(n, *fv, sizeof *n * (size_t)*nf);
		*fv = n;
		*cap = nc;
	}
	struct tpl_fcall *fc = &(*fv)[(*nf)++];
	memset(fc, 0, sizeof *fc);
	fc->name = pstrndup(p, name, nn);
	fc->def = tpl_filter_find(name, nn);
	fc->line = p->tok_line;
	fc->col = p->tok_col;
	fc->nargs = fa->na;
	if (fa->na) {
		fc->args = palloc(p, sizeof(struct tpl_expr *) * (size_t)fa->na);
		memcpy(fc->args, fa->a, sizeof(struct tpl_expr *) * (size_t)fa->na);
	}
	fc->nkw = fa->nk;
	if (fa->nk) {
		fc->kw = palloc(p, sizeof(char *) * (size_t)fa->nk);
		fc->kwv = palloc(p, sizeof(struct tpl_expr *) * (size_t)fa->nk);
		memcpy(fc->kw, fa->kw, sizeof(char *) * (size_t)fa->nk);
		memcpy(fc->kwv, fa->kv, sizeof(struct tpl_expr *) * (size_t)fa->nk);
	}
	return 0;
}

static struct tpl_var *strict_var_lx(struct parser *p, struct lex *lx, int want_end)
{
	struct tpl_var *v = palloc(p, sizeof *v);
	int cap = 0;
	if (lk(lx, L_END, 0))
		return v;
	v->expr = strict_expr(p, lx);
	if (!v->expr)
		return NULL;
	while (consume_if(lx, L_PIPE)) {
		struct ltok *nm = consume(p, lx, L_ID);
		if (!nm)
			return NULL;
		struct fargs fa;
		fa.na = fa.nk = 0;
		if (consume_if(lx, L_COLON)) {
			while (!lk(lx, L_END, 0) && !lk(lx, L_PIPE, 0)) {
				if (lk(lx, L_ID, 0) && lk(lx, L_COLON, 1)) {
					struct ltok *k = &lx->v[lx->i];
					lx->i += 2;
					struct tpl_expr *x = strict_expr(p, lx);
					if (!x)
						return NULL;
					if (fa.nk < 16) {
						fa.kw[fa.nk] = pstrndup(p, k->p, k->n);
						fa.kv[fa.nk++] = x;
					}
				} else {
					struct tpl_expr *x = strict_expr(p, lx);
					if (!x)
						return NULL;
					if (fa.na < 32)
						fa.a[fa.na++] = x;
				}
				if (!consume_if(lx, L_COMMA))
					break;
			}
		}
		add_filter(p, &v->f, &v->nf, &cap, nm->p, nm->n, &fa);
	}
	if (want_end && !consume(p, lx, L_END))
		return NULL;
	return v;
}

static struct tpl_var *strict_var(struct parser *p, const char *s, size_t n)
{
	struct lex lx;
	if (lex_run(p, s, n, &lx) < 0)
		return NULL;
	return strict_var_lx(p, &lx, 1);
}

/* Variable#lax_parse. */
static struct tpl_var *lax_var(struct parser *p, const char *s, size_t n)
{
	struct tpl_var *v = palloc(p, sizeof *v);
	const char *e = s + n, *nb, *nf;
	int cap = 0;
	if (!qf_search(s, e, &nb, &nf))
		return v;
	v->expr = lax_expr(p, nb, (size_t)(nf - nb));
	const char *pipe = memchr(nf, '|', (size_t)(e - nf));
	if (!pipe)
		return v;
	const char *c = pipe + 1;
	while (c < e && is_ws((unsigned char)*c))
		c++;
	/* scan FilterParser = /(?:\s+|QuotedFragment|,)+/ */
	while (c < e) {
		const char *fb = c;
		for (;;) {
			if (c < e && is_ws((unsigned char)*c)) {
				while (c < e && is_ws((unsigned char)*c))
					c++;
				continue;
			}
			const char *q = c < e ? qf_at(c, e) : NULL;
			if (q) {
				c = q;
				continue;
			}
			if (c < e && *c == ',') {
				c++;
				continue;
			}
			break;
		}
		if (c == fb) {
			c++;
			continue;
		}
		/* filter name: first \w+ */
		const char *w = fb;
		while (w < c && !is_w((unsigned char)*w))
			w++;
		if (w >= c)
			continue;
		const char *we = w;
		while (we < c && is_w((unsigned char)*we))
			we++;
		struct fargs fa;
		fa.na = fa.nk = 0;
		/* args: /(?::|,)\s*((?:\w+\s*\:\s*)?QuotedFragment)/ */
		const char *a = fb;
		while (a < c) {
			if (*a != ':' && *a != ',') {
				a++;
				continue;
			}
			const char *x = a + 1;
			while (x < c && is_ws((unsigned char)*x))
				x++;
			const char *kb = x, *ke = x, *val = NULL, *vale = NULL;
			/* keyword prefix */
			const char *y = x;
			while (y < c && is_w((unsigned char)*y))
				y++;
			if (y > x) {
				ke = y;
				while (y < c && is_ws((unsigned char)*y))
					y++;
				if (y < c && *y == ':') {
					y++;
					while (y < c && is_ws((unsigned char)*y))
						y++;
					const char *q = y < c ? qf_at(y, c) : NULL;
					if (q) {
						val = y;
						vale = q;
					}
				}
			}
			if (val) {
				/* JustTagAttributes: name must be \w[\w-]* */
				if (fa.nk < 16) {
					fa.kw[fa.nk] = pstrndup(p, kb, (size_t)(ke - kb));
					fa.kv[fa.nk++] = lax_expr(p, val, (size_t)(vale - val));
				}
				a = vale;
				continue;
			}
			const char *q = x < c ? qf_at(x, c) : NULL;
			if (!q) {
				a++;
				continue;
			}
			if (fa.na < 32)
				fa.a[fa.na++] = lax_expr(p, x, (size_t)(q - x));
			a = q;
		}
		add_filter(p, &v->f, &v->nf, &cap, w, (size_t)(we - w), &fa);
	}
	return v;
}

static struct tpl_var *parse_var(struct parser *p, const char *s, size_t n)
{
	if (p->mode == TPL_LAX)
		return lax_var(p, s, n);
	return strict_var(p, s, n);
}

/* ---- conditions ------------------------------------------------------------- */

static int op_of(const char *s, size_t n)
{
	if (str_eq(s, n, "=="))
		return OP_EQ;
	if (str_eq(s, n, "!=") || str_eq(s, n, "<>"))
		return OP_NE;
	if (str_eq(s, n, "<"))
		return OP_LT;
	if (str_eq(s, n, ">"))
		return OP_GT;
	if (str_eq(s, n, "<="))
		return OP_LE;
	if (str_eq(s, n, ">="))
		return OP_GE;
	if (str_eq(s, n, "contains"))
		return OP_CONTAINS;
	return -1;
}

static struct tpl_cond *strict_comparison(struct parser *p, struct lex *lx)
{
	struct tpl_cond *c = palloc(p, sizeof *c);
	c->l = strict_expr(p, lx);
	if (!c->l)
		return NULL;
	if (lk(lx, L_CMP, 0)) {
		struct ltok *t = &lx->v[lx->i++];
		c->op = op_of(t->p, t->n);
		c->r = strict_expr(p, lx);
		if (!c->r)
			return NULL;
	}
	return c;
}

static struct tpl_cond *strict_cond(struct parser *p, const char *s, size_t n)
{
	struct lex lx;
	if (lex_run(p, s, n, &lx) < 0)
		return NULL;
	struct tpl_cond *first = strict_comparison(p, &lx), *cur = first;
	while (cur) {
		int rel = consume_id(&lx, "and") ? 1 : consume_id(&lx, "or") ? 2 : 0;
		if (!rel)
			break;
		struct tpl_cond *ch = strict_comparison(p, &lx);
		if (!ch)
			return NULL;
		cur->rel = rel;
		cur->child = ch;
		cur = ch;
	}
	if (!first || !consume(p, &lx, L_END))
		return NULL;
	return first;
}

/* Condition Syntax = /(QF)\s*([=!<>a-z_]+)?\s*(QF)?/ */
static struct tpl_cond *lax_comparison(struct parser *p, const char *s, const char *e)
{
	const char *lb, *le;
	if (!qf_search(s, e, &lb, &le)) {
		perr(p, "Syntax error in tag 'if' - Valid syntax: if [expression].");
		return NULL;
	}
	struct tpl_cond *c = palloc(p, sizeof *c);
	c->l = lax_expr(p, lb, (size_t)(le - lb));
	const char *x = le;
	while (x < e && is_ws((unsigned char)*x))
		x++;
	const char *ob = x;
	while (x < e && (strchr("=!<>", *x) || (*x >= 'a' && *x <= 'z') || *x == '_'))
		x++;
	const char *oe = x;
	while (x < e && is_ws((unsigned char)*x))
		x++;
	const char *rb = x, *re = x < e ? qf_at(x, e) : NULL;
	if (oe > ob) {
		c->op = op_of(ob, (size_t)(oe - ob));
		if (c->op < 0) {
			perr(p, "Unknown operator %.*s.", (int)(oe - ob), ob);
			return NULL;
		}
		c->r = re ? lax_expr(p, rb, (size_t)(re - rb)) : mk_lit(p, tv_nil());
	}
	return c;
}

/* If#lax_parse: split on and/or (ExpressionsAndOperators), right to left. */
static struct tpl_cond *lax_cond(struct parser *p, const char *s, size_t n)
{
	const char *e = s + n, *c = s;
	struct {
		const char *b, *e;
		int op;
	} parts[128];
	int np = 0;
	const char *cur_b = NULL, *cur_e = NULL;
	while (c < e) {
		while (c < e && is_ws((unsigned char)*c))
			c++;
		if (c >= e)
			break;
		int atb = (c == s || !is_w((unsigned char)c[-1]));
		int rel = 0;
		size_t wl = 0;
		if (atb && e - c >= 3 && memcmp(c, "and", 3) == 0 && (c + 3 == e || !is_w((unsigned char)c[3]))) {
			rel = 1;
			wl = 3;
		} else if (atb && e - c >= 2 && memcmp(c, "or", 2) == 0 && (c + 2 == e || !is_w((unsigned char)c[2]))) {
			rel = 2;
			wl = 2;
		}
		if (rel) {
			if (cur_b && np < 126) {
				parts[np].b = cur_b;
				parts[np].e = cur_e;
				parts[np++].op = 0;
			}
			cur_b = NULL;
			if (np < 126) {
				parts[np].b = c;
				parts[np].e = c + wl;
				parts[np++].op = rel;
			}
			c += wl;
			continue;
		}
		const char *q = qf_at(c, e);
		if (!q) {
			q = c;
			while (q < e && !is_ws((unsigned char)*q))
				q++;
		}
		if (!cur_b)
			cur_b = c;
		cur_e = q;
		c = q;
	}
	if (cur_b && np < 127) {
		parts[np].b = cur_b;
		parts[np].e = cur_e;
		parts[np++].op = 0;
	}
	/* right to left: last expression, then (operator, expression) pairs */
	if (np == 0 || parts[np - 1].op) {
		perr(p, "Syntax error in tag 'if' - Valid syntax: if [expression].");
		return NULL;
	}
	struct tpl_cond *cond = lax_comparison(p, parts[np - 1].b, parts[np - 1].e);
	int i = np - 2;
	while (cond && i >= 0) {
		int rel = parts[i].op;
		if (!rel || i == 0 || parts[i - 1].op) {
			perr(p, "Syntax error in tag 'if' - Valid syntax: if [expression].");
			return NULL;
		}
		struct tpl_cond *nc = lax_comparison(p, parts[i - 1].b, parts[i - 1].e);
		if (!nc)
			return NULL;
		nc->rel = rel;
		nc->child = cond;
		cond = nc;
		i -= 2;
	}
	return cond;
}

static struct tpl_cond *parse_cond(struct parser *p, const char *s, size_t n)
{
	if (p->mode == TPL_LAX)
		return lax_cond(p, s, n);
	return strict_cond(p, s, n);
}

/* ---- bodies and tags ----------------------------------------------------------- */

struct tagdef;
typedef struct tpl_node *(*tag_parse_fn)(struct parser *p, struct tsrc *ts, struct tok *tk);

struct tagdef {
	const char *name;
	tag_parse_fn parse;
	int blank; /* counts as blank for the enclosing block (blocks: computed) */
	const char *doc;
};

static const struct tagdef *tag_find(const char *s, size_t n);
static int parse_liquid(struct parser *p, struct tpl_body *body, const char *mk, size_t n, int line);

static void body_push(struct parser *p, struct tpl_body *b, struct tpl_node *n, int *cap)
{
	if (b->n >= *cap) {
		int nc = *cap ? *cap * 2 : 8;
		struct tpl_node **nv = arena_alloc(p->a, sizeof *nv * (size_t)nc);
		if (b->n)
			memcpy(nv, b->nodes, sizeof *nv * (size_t)b->n);
		b->nodes = nv;
		*cap = nc;
	}
	b->nodes[b->n++] = n;
}

static struct tpl_node *new_node(struct parser *p, int kind, struct tok *tk)
{
	struct tpl_node *n = palloc(p, sizeof *n);
	n->kind = (uint8_t)kind;
	n->line = tk ? tk->line : p->tok_line;
	n->col = tk ? tk->col : p->tok_col;
	return n;
}

/* Next token of either source; applies whitespace control bookkeeping. */
static int src_next(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	if (ts->lines) {
		int r = next_line(p, ts, tk);
		if (r < 0) {
			perr(p, "Unknown tag '%.*s'.", (int)tk->n, tk->p);
			return -1;
		}
		return 0;
	}
	next_raw(p, tk);
	p->tok_line = tk->line;
	p->tok_col = tk->col;
	if (tk->kind == TK_TAG) {
		if (tk->trim_left == -1)
			return perr(p, "Variable '%.*s' was not properly terminated with '}}'.",
				    excerpt_len(tk->p, tk->n), tk->p);
		if (split_tag(tk->p, tk->n, tk) < 0) {
			if (tk->n < 4 || tk->p[tk->n - 1] != '}' || tk->p[tk->n - 2] != '%')
				return perr(p, "Tag '%.*s' was not properly terminated with '%%}'.",
					    excerpt_len(tk->p, tk->n), tk->p);
			return perr(p, "Unknown tag '%.*s'.", excerpt_len(tk->p, tk->n), tk->p);
		}
	} else if (tk->kind == TK_VAR) {
		if (tk->trim_left == -2 || tk->n < 4)
			return perr(p, "Variable '%.*s' was not properly terminated with '}}'.",
				    excerpt_len(tk->p, tk->n), tk->p);
		const char *b = tk->p + 2, *e = tk->p + tk->n - 2;
		tk->trim_left = (b < e && *b == '-');
		if (tk->trim_left)
			b++;
		tk->trim_right = (tk->n >= 5 && tk->p[tk->n - 3] == '-');
		if (tk->trim_right && e - 1 >= b)
			e--;
		tk->mk = b;
		tk->mk_n = (size_t)(e - b);
	}
	return 0;
}

static void ws_handle(struct parser *p, struct tpl_body *body, struct tok *tk)
{
	if (tk->trim_left && body->n) {
		struct tpl_node *last = body->nodes[body->n - 1];
		if (last->kind == N_TEXT) {
			while (last->text.n && is_ws((unsigned char)last->text.p[last->text.n - 1]))
				last->text.n--;
		}
	}
	p->trim_next = tk->trim_right;
}

/* Parses nodes into body until a tag it does not know: returns 1 with that
 * tag in *end, 0 at the end of the source, -1 on error. */
static int parse_body(struct parser *p, struct tsrc *ts, struct tpl_body *body, struct tok *end)
{
	int cap = body->n;
	if (body->n == 0)
		body->blank = 1;
	for (;;) {
		struct tok tk;
		if (src_next(p, ts, &tk) < 0)
			return -1;
		if (tk.kind == TK_EOF)
			return 0;
		if (tk.kind == TK_TEXT) {
			const char *s = tk.p;
			size_t n = tk.n;
			if (p->trim_next) {
				while (n && is_ws((unsigned char)*s)) {
					s++;
					n--;
				}
			}
			p->trim_next = 0;
			if (!n)
				continue;
			struct tpl_node *nd = new_node(p, N_TEXT, &tk);
			nd->text.p = s;
			nd->text.n = n;
			nd->blank = (uint8_t)is_blank_str(s, n);
			body->blank &= nd->blank;
			body_push(p, body, nd, &cap);
			continue;
		}
		if (tk.kind == TK_VAR) {
			ws_handle(p, body, &tk);
			struct tpl_node *nd = new_node(p, N_OUT, &tk);
			nd->var = parse_var(p, tk.mk, tk.mk_n);
			if (!nd->var)
				return -1;
			body->blank = 0;
			body_push(p, body, nd, &cap);
			continue;
		}
		if (!ts->lines)
			ws_handle(p, body, &tk);
		if (str_eq(tk.name, tk.name_n, "liquid")) {
			int line = tk.line;
			if (!ts->lines) {
				/* markup starts after "liquid": count newlines before it */
				for (const char *c = tk.p; c < tk.mk; c++)
					if (*c == '\n')
						line++;
			}
			int before = body->n;
			if (parse_liquid(p, body, tk.mk, tk.mk_n, line) < 0)
				return -1;
			cap = body->n > cap ? body->n : cap;
			for (int i = before; i < body->n; i++)
				body->blank &= body->nodes[i]->blank;
			continue;
		}
		const struct tagdef *td = tag_find(tk.name, tk.name_n);
		if (!td) {
			*end = tk;
			return 1;
		}
		if (p->depth >= p->max_depth)
			return perr(p, "Nesting too deep (more than %d levels).", p->max_depth);
		p->depth++;
		struct tpl_node *nd = td->parse(p, ts, &tk);
		p->depth--;
		if (!nd)
			return -1;
		body->blank &= nd->blank;
		if (nd->kind != N_NOP || !nd->blank)
			body_push(p, body, nd, &cap);
	}
}

static void remove_blank_strings(struct tpl_body *b)
{
	int j = 0;
	for (int i = 0; i < b->n; i++)
		if (b->nodes[i]->kind != N_TEXT)
			b->nodes[j++] = b->nodes[i];
	b->n = j;
}

static int is_end_like(const char *s, size_t n)
{
	return (n > 3 && memcmp(s, "end", 3) == 0) || str_eq(s, n, "else") || str_eq(s, n, "elsif") ||
	       str_eq(s, n, "when");
}

/* Reports why the end tag `end` cannot close block `blk`. */
static int bad_end(struct parser *p, const char *blk, struct tok *end, int got, const struct tpl_node *opener)
{
	if (!got) {
		p->tok_line = opener->line;
		p->tok_col = opener->col;
		return perr(p, "'%s' tag was never closed.", blk);
	}
	p->tok_line = end->line;
	p->tok_col = end->col;
	if (is_end_like(end->name, end->name_n))
		return perr(p, "'%.*s' is not a valid delimiter for %s tags; use end%s.", (int)end->name_n, end->name,
			    blk, blk);
	return perr(p, "Unknown tag '%.*s'.", (int)end->name_n, end->name);
}

static int is_tag(struct tok *t, const char *name)
{
	return str_eq(t->name, t->name_n, name);
}

/* -- assign / capture / increment -- */

/* Assign target: leftmost /(\(?[\w\-\.\[\]]\)?)+/ followed by \s*= */
static int var_sig_run(const char *c, const char *e)
{
	const char *s = c;
	for (;;) {
		const char *x = c;
		if (x < e && *x == '(')
			x++;
		if (x < e && (is_w((unsigned char)*x) || *x == '-' || *x == '.' || *x == '[' || *x == ']'))
			x++;
		else
			break;
		if (x < e && *x == ')')
			x++;
		c = x;
	}
	return (int)(c - s);
}

static struct tpl_node *tag_assign(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	const char *s = tk->mk, *e = tk->mk + tk->mk_n;
	for (const char *c = s; c < e; c++) {
		int l = var_sig_run(c, e);
		if (!l)
			continue;
		const char *x = c + l;
		while (x < e && is_ws((unsigned char)*x))
			x++;
		if (x < e && *x == '=') {
			struct tpl_node *n = new_node(p, N_ASSIGN, tk);
			n->blank = 1;
			n->as.name = pstrndup(p, c, (size_t)l);
			n->as.n = (size_t)l;
			n->as.hash = tpl_hash(c, (size_t)l);
			x++;
			n->as.var = parse_var(p, x, (size_t)(e - x));
			return n->as.var ? n : NULL;
		}
		c += l - 1;
	}
	perr(p, "Syntax error in 'assign' - Valid syntax: assign [var] = [source].");
	return NULL;
}

static struct tpl_node *tag_capture(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	const char *s = tk->mk, *e = tk->mk + tk->mk_n;
	const char *nb = NULL;
	int l = 0;
	for (const char *c = s; c < e && !nb; c++) {
		l = var_sig_run(c, e);
		if (l)
			nb = c;
	}
	if (!nb) {
		perr(p, "Syntax error in 'capture' - Valid syntax: capture [var].");
		return NULL;
	}
	struct tpl_node *n = new_node(p, N_CAPTURE, tk);
	n->blank = 1;
	n->as.name = pstrndup(p, nb, (size_t)l);
	n->as.n = (size_t)l;
	n->as.hash = tpl_hash(nb, (size_t)l);
	struct tok end;
	for (;;) {
		int r = parse_body(p, ts, &n->as.body, &end);
		if (r < 0)
			return NULL;
		if (r == 1 && is_tag(&end, "endcapture"))
			break;
		bad_end(p, "capture", &end, r, n);
		return NULL;
	}
	return n;
}

static struct tpl_node *tag_counter(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	struct tpl_node *n = new_node(p, is_tag(tk, "increment") ? N_INCR : N_DECR, tk);
	const char *s = tk->mk;
	size_t l = tk->mk_n;
	trim(&s, &l);
	n->as.name = pstrndup(p, s, l);
	n->as.n = l;
	n->as.hash = tpl_hash(s, l);
	return n;
}

static struct tpl_node *tag_echo(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	struct tpl_node *n = new_node(p, N_OUT, tk);
	n->var = parse_var(p, tk->mk, tk->mk_n);
	return n->var ? n : NULL;
}

/* -- if / unless / case -- */

static struct tpl_branch *add_branch(struct parser *p, struct tpl_node *n, int *cap)
{
	if (n->cond.nb >= *cap) {
		int nc = *cap ? *cap * 2 : 4;
		struct tpl_branch *b = palloc(p, sizeof *b * (size_t)nc);
		if (n->cond.nb)
			memcpy(b, n->cond.b, sizeof *b * (size_t)n->cond.nb);
		n->cond.b = b;
		*cap = nc;
	}
	struct tpl_branch *b = &n->cond.b[n->cond.nb++];
	memset(b, 0, sizeof *b);
	return b;
}

static void finish_blocks(struct tpl_node *n)
{
	int blank = 1;
	for (int i = 0; i < n->cond.nb; i++)
		blank &= n->cond.b[i].body.blank;
	n->blank = (uint8_t)blank;
	if (blank)
		for (int i = 0; i < n->cond.nb; i++)
			remove_blank_strings(&n->cond.b[i].body);
}

static struct tpl_node *tag_if(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	int unless = is_tag(tk, "unless");
	const char *blk = unless ? "unless" : "if";
	const char *endname = unless ? "endunless" : "endif";
	struct tpl_node *n = new_node(p, N_IF, tk);
	int cap = 0;
	struct tpl_branch *b = add_branch(p, n, &cap);
	b->negate = unless;
	b->cond = parse_cond(p, tk->mk, tk->mk_n);
	if (!b->cond)
		return NULL;
	for (;;) {
		struct tok end;
		int r = parse_body(p, ts, &n->cond.b[n->cond.nb - 1].body, &end);
		if (r < 0)
			return NULL;
		if (r == 1 && is_tag(&end, endname))
			break;
		if (r == 1 && (is_tag(&end, "elsif") || is_tag(&end, "else"))) {
			p->tok_line = end.line;
			p->tok_col = end.col;
			b = add_branch(p, n, &cap);
			if (is_tag(&end, "elsif")) {
				b->cond = parse_cond(p, end.mk, end.mk_n);
				if (!b->cond)
					return NULL;
			}
			continue;
		}
		bad_end(p, blk, &end, r, n);
		return NULL;
	}
	finish_blocks(n);
	return n;
}

static int when_values(struct parser *p, struct tpl_branch *b, const char *s, size_t n)
{
	struct tpl_expr *vals[64];
	int nv = 0;
	if (p->mode == TPL_LAX) {
		const char *e = s + n, *c = s;
		for (;;) {
			const char *vb, *ve;
			if (!qf_search(c, e, &vb, &ve))
				break;
			if (nv < 64)
				vals[nv++] = lax_expr(p, vb, (size_t)(ve - vb));
			/* (?:\s+or\s+|\s*,\s*)(QF.*) */
			const char *x = ve, *y = ve;
			while (y < e && is_ws((unsigned char)*y))
				y++;
			int ok = 0;
			if (y < e && *y == ',') {
				y++;
				ok = 1;
			} else if (y > x && e - y >= 3 && memcmp(y, "or", 2) == 0 && is_ws((unsigned char)y[2])) {
				y += 2;
				ok = 1;
			}
			if (!ok)
				break;
			while (y < e && is_ws((unsigned char)*y))
				y++;
			if (y >= e || !qf_at(y, e))
				break;
			c = y;
		}
		if (!nv)
			return perr(p, "Syntax error in tag 'case' - Valid when condition: {%% when [condition] [or "
				       "condition2...] %%}.");
	} else {
		struct lex lx;
		if (lex_run(p, s, n, &lx) < 0)
			return -1;
		for (;;) {
			struct tpl_expr *x = strict_expr(p, &lx);
			if (!x)
				return -1;
			if (nv < 64)
				vals[nv++] = x;
			if (!consume_if(&lx, L_COMMA) && !consume_id(&lx, "or"))
				break;
		}
		if (!consume(p, &lx, L_END))
			return -1;
	}
	b->nvals = nv;
	b->vals = palloc(p, sizeof(struct tpl_expr *) * (size_t)nv);
	memcpy(b->vals, vals, sizeof(struct tpl_expr *) * (size_t)nv);
	return 0;
}

static struct tpl_node *tag_case(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	struct tpl_node *n = new_node(p, N_CASE, tk);
	int cap = 0;
	if (p->mode == TPL_LAX) {
		const char *b, *e;
		if (!qf_search(tk->mk, tk->mk + tk->mk_n, &b, &e)) {
			perr(p, "Syntax error in tag 'case' - Valid syntax: case [condition].");
			return NULL;
		}
		n->cond.subject = lax_expr(p, b, (size_t)(e - b));
	} else {
		struct lex lx;
		if (lex_run(p, tk->mk, tk->mk_n, &lx) < 0)
			return NULL;
		n->cond.subject = strict_expr(p, &lx);
		if (!n->cond.subject || !consume(p, &lx, L_END))
			return NULL;
	}
	struct tpl_body pre = {0, NULL, 1};
	struct tpl_body *cur = &pre;
	for (;;) {
		struct tok end;
		int r = parse_body(p, ts, cur, &end);
		if (r < 0)
			return NULL;
		if (r == 1 && is_tag(&end, "endcase"))
			break;
		if (r == 1 && (is_tag(&end, "when") || is_tag(&end, "else"))) {
			p->tok_line = end.line;
			p->tok_col = end.col;
			struct tpl_branch *b = add_branch(p, n, &cap);
			if (is_tag(&end, "when") && when_values(p, b, end.mk, end.mk_n) < 0)
				return NULL;
			cur = &n->cond.b[n->cond.nb - 1].body;
			continue;
		}
		bad_end(p, "case", &end, r, n);
		return NULL;
	}
	finish_blocks(n);
	return n;
}

/* -- for / tablerow -- */

/* TagAttributes = /(\w[\w-]*)\s*\:\s*(QuotedFragment)/ scanned over s. */
static void scan_attrs(struct parser *p, const char *s, const char *e,
		       void (*cb)(struct parser *, void *, const char *, size_t, const char *, size_t), void *ud)
{
	const char *c = s;
	while (c < e) {
		if (!is_w((unsigned char)*c) || (c > s && (is_w((unsigned char)c[-1]) || c[-1] == '-'))) {
			c++;
			continue;
		}
		const char *kb = c, *ke = c;
		while (ke < e && (is_w((unsigned char)*ke) || *ke == '-'))
			ke++;
		const char *x = ke;
		while (x < e && is_ws((unsigned char)*x))
			x++;
		if (x < e && *x == ':') {
			x++;
			while (x < e && is_ws((unsigned char)*x))
				x++;
			const char *q = x < e ? qf_at(x, e) : NULL;
			if (q) {
				cb(p, ud, kb, (size_t)(ke - kb), x, (size_t)(q - x));
				c = q;
				continue;
			}
		}
		c = ke;
	}
}

static void loop_attr(struct parser *p, void *ud, const char *k, size_t kn, const char *v, size_t vn)
{
	struct tpl_node *n = ud;
	struct tpl_expr *x = lax_expr(p, v, vn);
	if (str_eq(k, kn, "limit")) {
		n->loop.limit = x;
		n->loop.has_limit = 1;
	} else if (str_eq(k, kn, "offset")) {
		n->loop.offset = x;
		n->loop.has_offset = 1;
		n->loop.offset_continue = str_eq(v, vn, "continue");
	} else if (str_eq(k, kn, "cols")) {
		n->loop.cols = x;
		n->loop.has_cols = 1;
	}
}

static int loop_head_lax(struct parser *p, struct tpl_node *n, struct tok *tk, const char *tag)
{
	const char *s = tk->mk, *e = tk->mk + tk->mk_n, *c = s;
	/* \A([\w-]+)\s+in\s+(QF+)\s*(reversed)? */
	while (c < e && (is_w((unsigned char)*c) || *c == '-'))
		c++;
	const char *ve = c;
	const char *x = c;
	while (x < e && is_ws((unsigned char)*x))
		x++;
	if (ve == s || x == c || e - x < 3 || memcmp(x, "in", 2) != 0 || !is_ws((unsigned char)x[2]))
		return perr(p, "Syntax error in tag '%s' - Valid syntax: %s [item] in [collection].", tag, tag);
	x += 2;
	while (x < e && is_ws((unsigned char)*x))
		x++;
	const char *cb = x, *ce = x;
	for (;;) {
		const char *q = ce < e ? qf_at(ce, e) : NULL;
		if (!q)
			break;
		ce = q;
	}
	if (ce == cb)
		return perr(p, "Syntax error in tag '%s' - Valid syntax: %s [item] in [collection].", tag, tag);
	n->loop.var = pstrndup(p, s, (size_t)(ve - s));
	n->loop.vn = (size_t)(ve - s);
	n->loop.coll = lax_expr(p, cb, (size_t)(ce - cb));
	size_t rl = (size_t)(ve - s) + 1 + (size_t)(ce - cb);
	char *rn = arena_alloc(p->a, rl + 1);
	memcpy(rn, s, (size_t)(ve - s));
	rn[ve - s] = '-';
	memcpy(rn + (ve - s) + 1, cb, (size_t)(ce - cb));
	rn[rl] = '\0';
	n->loop.regname = rn;
	n->loop.regn = rl;
	x = ce;
	while (x < e && is_ws((unsigned char)*x))
		x++;
	if (e - x >= 8 && memcmp(x, "reversed", 8) == 0)
		n->loop.reversed = 1;
	scan_attrs(p, ce, e, loop_attr, n);
	return 0;
}

static int loop_head_strict(struct parser *p, struct tpl_node *n, struct tok *tk)
{
	struct lex lx;
	if (lex_run(p, tk->mk, tk->mk_n, &lx) < 0)
		return -1;
	struct ltok *v = consume(p, &lx, L_ID);
	if (!v)
		return -1;
	if (!consume_id(&lx, "in"))
		return perr(p, "For loops require an 'in' clause.");
	const char *cb = lx.v[lx.i].p;
	n->loop.coll = strict_expr(p, &lx);
	if (!n->loop.coll)
		return -1;
	const char *ce = lx.v[lx.i - 1].p + lx.v[lx.i - 1].n;
	n->loop.var = pstrndup(p, v->p, v->n);
	n->loop.vn = v->n;
	size_t rl = v->n + 1 + (size_t)(ce - cb);
	char *rn = arena_alloc(p->a, rl + 1);
	memcpy(rn, v->p, v->n);
	rn[v->n] = '-';
	memcpy(rn + v->n + 1, cb, (size_t)(ce - cb));
	rn[rl] = '\0';
	n->loop.regname = rn;
	n->loop.regn = rl;
	if (consume_id(&lx, "reversed"))
		n->loop.reversed = 1;
	while (lk(&lx, L_COMMA, 0) || lk(&lx, L_ID, 0)) {
		consume_if(&lx, L_COMMA);
		struct ltok *a = consume(p, &lx, L_ID);
		if (!a)
			return -1;
		int lim = str_eq(a->p, a->n, "limit"), off = str_eq(a->p, a->n, "offset");
		if (!lim && !off)
			return perr(p, "Invalid attribute '%.*s' in for loop; valid attributes are limit and offset.",
				    (int)a->n, a->p);
		if (!consume(p, &lx, L_COLON))
			return -1;
		if (off && lk_id(&lx, "continue") && (lk(&lx, L_END, 1) || lk(&lx, L_COMMA, 1) || lk(&lx, L_ID, 1))) {
			lx.i++;
			n->loop.has_offset = 1;
			n->loop.offset_continue = 1;
			continue;
		}
		struct tpl_expr *x = strict_expr(p, &lx);
		if (!x)
			return -1;
		if (lim) {
			n->loop.limit = x;
			n->loop.has_limit = 1;
		} else {
			n->loop.offset = x;
			n->loop.has_offset = 1;
			n->loop.offset_continue = 0;
		}
	}
	return consume(p, &lx, L_END) ? 0 : -1;
}

static struct tpl_node *tag_for(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	int tablerow = is_tag(tk, "tablerow");
	const char *blk = tablerow ? "tablerow" : "for";
	struct tpl_node *n = new_node(p, tablerow ? N_TABLEROW : N_FOR, tk);
	int r0 = (p->mode == TPL_LAX || tablerow) ? loop_head_lax(p, n, tk, blk) : loop_head_strict(p, n, tk);
	if (r0 < 0)
		return NULL;
	n->loop.vhash = tpl_hash(n->loop.var, n->loop.vn);
	struct tpl_body *cur = &n->loop.body;
	for (;;) {
		struct tok end;
		int r = parse_body(p, ts, cur, &end);
		if (r < 0)
			return NULL;
		if (r == 1 && is_tag(&end, tablerow ? "endtablerow" : "endfor"))
			break;
		if (r == 1 && !tablerow && is_tag(&end, "else") && !n->loop.has_else) {
			n->loop.has_else = 1;
			cur = &n->loop.els;
			continue;
		}
		bad_end(p, blk, &end, r, n);
		return NULL;
	}
	if (!tablerow) {
		n->blank = (uint8_t)(n->loop.body.blank && (!n->loop.has_else || n->loop.els.blank));
		if (n->blank) {
			remove_blank_strings(&n->loop.body);
			remove_blank_strings(&n->loop.els);
		}
	} else {
		n->blank = (uint8_t)n->loop.body.blank;
	}
	return n;
}

static struct tpl_node *tag_simple(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	return new_node(p, is_tag(tk, "break") ? N_BREAK : N_CONTINUE, tk);
}

static struct tpl_node *tag_ifchanged(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	struct tpl_node *n = new_node(p, N_IFCHANGED, tk);
	struct tok end;
	int r = parse_body(p, ts, &n->body, &end);
	if (r < 0)
		return NULL;
	if (r != 1 || !is_tag(&end, "endifchanged")) {
		bad_end(p, "ifchanged", &end, r, n);
		return NULL;
	}
	n->blank = (uint8_t)n->body.blank;
	return n;
}

/* -- cycle -- */

static struct tpl_node *tag_cycle(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	struct tpl_node *n = new_node(p, N_CYCLE, tk);
	const char *s = tk->mk, *e = tk->mk + tk->mk_n;
	/* NamedSyntax = /\A(QF)\s*\:\s*(.*)/ */
	const char *q = s < e ? qf_at(s, e) : NULL;
	const char *vals = s;
	if (q) {
		const char *x = q;
		while (x < e && is_ws((unsigned char)*x))
			x++;
		/* QF may itself have eaten the colon ("name:") */
		if (q > s && q[-1] == ':' && (q - 1 > s)) {
			n->cycle.group = lax_expr(p, s, (size_t)(q - 1 - s));
			vals = q;
		} else if (x < e && *x == ':') {
			n->cycle.group = lax_expr(p, s, (size_t)(q - s));
			vals = x + 1;
		}
	}
	if (!q && s == e) {
		perr(p, "Syntax error in 'cycle' - Valid syntax: cycle [name :] var [, var2, var3 ...].");
		return NULL;
	}
	struct tpl_expr *v[256];
	int nv = 0, all_lit = 1;
	const char *c = vals;
	while (c <= e && nv < 256) {
		const char *comma = memchr(c, ',', (size_t)(e - c));
		const char *pe = comma ? comma : e;
		const char *b, *f;
		if (qf_search(c, pe, &b, &f)) {
			v[nv] = lax_expr(p, b, (size_t)(f - b));
			if (v[nv]->kind != EX_LIT)
				all_lit = 0;
			nv++;
		}
		if (!comma)
			break;
		c = comma + 1;
	}
	if (!nv) {
		perr(p, "Syntax error in 'cycle' - Valid syntax: cycle [name :] var [, var2, var3 ...].");
		return NULL;
	}
	n->cycle.nv = nv;
	n->cycle.v = palloc(p, sizeof(struct tpl_expr *) * (size_t)nv);
	memcpy(n->cycle.v, v, sizeof(struct tpl_expr *) * (size_t)nv);
	if (!n->cycle.group && all_lit) {
		/* unnamed cycles over the same literals share one counter */
		struct buf kb;
		buf_init(&kb, 65536);
		for (int i = 0; i < nv; i++) {
			buf_addf(&kb, "%d:", v[i]->lit.t);
			if (v[i]->lit.t == TV_STR)
				buf_add(&kb, v[i]->lit.s.p, v[i]->lit.s.n);
			else if (v[i]->lit.t == TV_INT)
				buf_addf(&kb, "%lld", (long long)v[i]->lit.i);
			else if (v[i]->lit.t == TV_FLOAT)
				fmt_float(v[i]->lit.f, &kb);
			else if (v[i]->lit.t == TV_BOOL)
				buf_addch(&kb, v[i]->lit.b ? 't' : 'f');
			buf_addch(&kb, '\x1f');
		}
		n->cycle.key = pstrndup(p, kb.ptr, kb.len);
		n->cycle.keyn = kb.len;
		buf_release(&kb);
	}
	return n;
}

/* -- raw / comment / # -- */

/* Finds the first {%-? endraw …-?%} at or after pos: returns its start and
 * sets *after (just past "%}") and *trim_r. -1 when there is none. */
static long find_endraw(struct parser *p, size_t pos, size_t *after, int *trim_r)
{
	const char *s = p->src, *e = p->src + p->len;
	for (const char *c = s + pos; (c = find2(c, e, '{', '%')); c++) {
		const char *x = c + 2;
		if (x < e && *x == '-')
			x++;
		while (x < e && is_ws((unsigned char)*x))
			x++;
		if (e - x < 6 || memcmp(x, "endraw", 6) != 0 || (x + 6 < e && is_w((unsigned char)x[6])))
			continue;
		const char *q = x + 6;
		while (q < e && is_ws((unsigned char)*q))
			q++;
		int tr = q < e && *q == '-';
		if (tr)
			q++;
		if (e - q < 2 || q[0] != '%' || q[1] != '}')
			continue;
		*after = (size_t)(q + 2 - s);
		*trim_r = tr;
		return (long)(c - s);
	}
	return -1;
}

static struct tpl_node *tag_raw(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	if (!is_blank_str(tk->mk, tk->mk_n)) {
		perr(p, "Syntax Error in 'raw' - Valid syntax: {%% raw %%}…{%% endraw %%}.");
		return NULL;
	}
	struct tpl_node *n = new_node(p, N_TEXT, tk);
	if (ts->lines) {
		perr(p, "'raw' cannot be used inside 'liquid'.");
		return NULL;
	}
	size_t after;
	int tr;
	long at = find_endraw(p, p->pos, &after, &tr);
	if (at < 0) {
		perr(p, "'raw' tag was never closed.");
		return NULL;
	}
	n->text.p = p->src + p->pos;
	n->text.n = (size_t)at - p->pos;
	p->pos = after;
	p->trim_next = tr;
	return n;
}

static int skip_raw_in_comment(struct parser *p)
{
	size_t after;
	int tr;
	if (find_endraw(p, p->pos, &after, &tr) < 0)
		return perr(p, "'raw' tag was never closed.");
	p->pos = after;
	return 0;
}

static struct tpl_node *tag_comment(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	struct tpl_node *n = new_node(p, N_NOP, tk);
	n->blank = 1;
	int depth = 1;
	for (;;) {
		struct tok t;
		const char *nm = NULL;
		size_t nn = 0;
		if (ts->lines) {
			int r = next_line(p, ts, &t);
			if (r == 0)
				break;
			if (r < 0)
				continue;
			nm = t.name;
			nn = t.name_n;
		} else {
			next_raw(p, &t);
			if (t.kind == TK_EOF)
				break;
			if (t.kind == TK_TAG && split_tag(t.p, t.n, &t) == 0) {
				nm = t.name;
				nn = t.name_n;
			}
		}
		if (!nm)
			continue;
		if (str_eq(nm, nn, "raw") && !ts->lines) {
			if (skip_raw_in_comment(p) < 0)
				return NULL;
		} else if (str_eq(nm, nn, "comment")) {
			depth++;
		} else if (str_eq(nm, nn, "endcomment")) {
			if (--depth == 0) {
				if (!ts->lines)
					p->trim_next = t.trim_right;
				return n;
			}
		}
	}
	p->tok_line = tk->line;
	p->tok_col = tk->col;
	perr(p, "'comment' tag was never closed.");
	return NULL;
}

static struct tpl_node *tag_inline_comment(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	const char *s = tk->mk, *e = s + tk->mk_n;
	for (const char *c = s; c < e; c++) {
		if (*c != '\n')
			continue;
		const char *x = c + 1;
		while (x < e && is_ws((unsigned char)*x))
			x++;
		if (x < e && *x != '#') {
			perr(p, "Each line of a {%% # %%} comment must start with '#'.");
			return NULL;
		}
	}
	struct tpl_node *n = new_node(p, N_NOP, tk);
	n->blank = 1;
	return n;
}

/* -- render / include -- */

static void inc_attr(struct parser *p, void *ud, const char *k, size_t kn, const char *v, size_t vn)
{
	struct tpl_node *n = ud;
	if (n->inc.nkv >= 64)
		return;
	if (!n->inc.kv)
		n->inc.kv = palloc(p, sizeof(struct tpl_kv) * 64);
	struct tpl_kv *kv = &n->inc.kv[n->inc.nkv++];
	kv->k = pstrndup(p, k, kn);
	kv->kn = kn;
	kv->hash = tpl_hash(k, kn);
	kv->v = lax_expr(p, v, vn);
}

static int inc_lax(struct parser *p, struct tpl_node *n, struct tok *tk, int render)
{
	const char *s = tk->mk, *e = s + tk->mk_n;
	const char *nb = NULL, *ne = NULL;
	if (render) {
		/* (QuotedString+): the first quoted string */
		for (const char *c = s; c < e && !nb; c++) {
			const char *q = qs_at(c, e);
			if (q) {
				nb = c;
				ne = q;
				while ((q = qs_at(ne, e)))
					ne = q;
			}
		}
		if (!nb)
			return perr(p, "Syntax error in tag 'render' - Template name must be a quoted string.");
		n->inc.sname = pstrndup(p, nb + 1, (size_t)(ne - nb - 2));
		n->inc.sn = (size_t)(ne - nb - 2);
	} else {
		for (const char *c = s; c < e && !nb; c++) {
			const char *q = qf_at(c, e);
			if (q) {
				nb = c;
				ne = q;
				while (ne < e && (q = qf_at(ne, e)))
					ne = q;
			}
		}
		if (!nb)
			return perr(p, "Error in tag 'include' - Valid syntax: include '[template]' (with|for) "
				       "[object|collection].");
		n->inc.name = lax_expr(p, nb, (size_t)(ne - nb));
	}
	/* (\s+(with|for)\s+(QF+))?(\s+as\s+([\w-]+))? */
	const char *x = ne;
	const char *y = x;
	while (y < e && is_ws((unsigned char)*y))
		y++;
	if (y > x && e - y > 4 && (memcmp(y, "with", 4) == 0 || memcmp(y, "for", 3) == 0)) {
		int isfor = y[0] == 'f';
		const char *z = y + (isfor ? 3 : 4);
		if (z < e && is_ws((unsigned char)*z)) {
			while (z < e && is_ws((unsigned char)*z))
				z++;
			const char *vb = z, *ve = z;
			const char *q;
			while (ve < e && (q = qf_at(ve, e)))
				ve = q;
			if (ve > vb) {
				/* a trailing "key:" belongs to the attributes */
				if (ve[-1] != ':') {
					n->inc.with = lax_expr(p, vb, (size_t)(ve - vb));
					n->inc.is_for = isfor;
					x = ve;
				}
			}
		}
	}
	y = x;
	while (y < e && is_ws((unsigned char)*y))
		y++;
	if (y > x && e - y > 3 && memcmp(y, "as", 2) == 0 && is_ws((unsigned char)y[2])) {
		const char *z = y + 2;
		while (z < e && is_ws((unsigned char)*z))
			z++;
		const char *ab = z;
		while (z < e && (is_w((unsigned char)*z) || *z == '-'))
			z++;
		if (z > ab) {
			n->inc.alias = pstrndup(p, ab, (size_t)(z - ab));
			n->inc.an = (size_t)(z - ab);
		}
	}
	scan_attrs(p, ne, e, inc_attr, n);
	return 0;
}

static int inc_strict2(struct parser *p, struct tpl_node *n, struct tok *tk, int render)
{
	struct lex lx;
	if (lex_run(p, tk->mk, tk->mk_n, &lx) < 0)
		return -1;
	if (render) {
		struct ltok *t = consume(p, &lx, L_STR);
		if (!t)
			return -1;
		n->inc.sname = pstrndup(p, t->p + 1, t->n - 2);
		n->inc.sn = t->n - 2;
	} else {
		n->inc.name = strict_expr(p, &lx);
		if (!n->inc.name)
			return -1;
	}
	if (lk_id(&lx, "with") || lk_id(&lx, "for")) {
		n->inc.is_for = lk_id(&lx, "for");
		lx.i++;
		n->inc.with = strict_expr(p, &lx);
		if (!n->inc.with)
			return -1;
	}
	if (consume_id(&lx, "as")) {
		struct ltok *a = consume(p, &lx, L_ID);
		if (!a)
			return -1;
		n->inc.alias = pstrndup(p, a->p, a->n);
		n->inc.an = a->n;
	}
	consume_if(&lx, L_COMMA);
	while (lk(&lx, L_ID, 0)) {
		struct ltok *k = &lx.v[lx.i++];
		if (!consume(p, &lx, L_COLON))
			return -1;
		struct tpl_expr *x = strict_expr(p, &lx);
		if (!x)
			return -1;
		if (n->inc.nkv < 64) {
			if (!n->inc.kv)
				n->inc.kv = palloc(p, sizeof(struct tpl_kv) * 64);
			struct tpl_kv *kv = &n->inc.kv[n->inc.nkv++];
			kv->k = pstrndup(p, k->p, k->n);
			kv->kn = k->n;
			kv->hash = tpl_hash(k->p, k->n);
			kv->v = x;
		}
		consume_if(&lx, L_COMMA);
	}
	return consume(p, &lx, L_END) ? 0 : -1;
}

static struct tpl_node *tag_include(struct parser *p, struct tsrc *ts, struct tok *tk)
{
	(void)ts;
	int render = is_tag(tk, "render");
	struct tpl_node *n = new_node(p, render ? N_RENDER : N_INCLUDE, tk);
	int r = p->mode == TPL_STRICT2 ? inc_strict2(p, n, tk, render) : inc_lax(p, n, tk, render);
	if (r < 0)
		return NULL;
	if (render && p->mode != TPL_STRICT2 && n->inc.sname == NULL)
		return NULL;
	return n;
}

static const struct tagdef tags[] = {
	{"assign", tag_assign, 1, "assign name = value | filters"},
	{"capture", tag_capture, 1, "capture name … endcapture"},
	{"increment", tag_counter, 0, "increment name: outputs then adds 1"},
	{"decrement", tag_counter, 0, "decrement name: subtracts 1 then outputs"},
	{"if", tag_if, 0, "if cond … elsif cond … else … endif"},
	{"unless", tag_if, 0, "unless cond … else … endunless"},
	{"case", tag_case, 0, "case x when a, b … else … endcase"},
	{"for", tag_for, 0, "for x in coll limit: n offset: n reversed … else … endfor"},
	{"tablerow", tag_for, 0, "tablerow x in coll cols: n … endtablerow"},
	{"break", tag_simple, 0, "leaves the innermost loop"},
	{"continue", tag_simple, 0, "next iteration of the innermost loop"},
	{"cycle", tag_cycle, 0, "cycle [group:] a, b, c"},
	{"ifchanged", tag_ifchanged, 0, "ifchanged … endifchanged"},
	{"raw", tag_raw, 0, "raw … endraw: output without parsing"},
	{"comment", tag_comment, 1, "comment … endcomment"},
	{"#", tag_inline_comment, 1, "# inline comment"},
	{"echo", tag_echo, 0, "echo value | filters"},
	{"render", tag_include, 0, "render 'name' [with x|for xs] [as y], key: value"},
	{"include", tag_include, 0, "include name [with x|for xs] [as y], key: value"},
};

static const struct tagdef *tag_find(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (str_eq(s, n, tags[i].name))
			return &tags[i];
	return NULL;
}

const char *const *tpl_tag_names(void)
{
	static const char *names[sizeof tags / sizeof tags[0] + 2];
	if (!names[0]) {
		size_t i;
		for (i = 0; i < sizeof tags / sizeof tags[0]; i++)
			names[i] = tags[i].name;
		names[i] = "liquid";
	}
	return names;
}

/* Parses the markup of a liquid tag into body, one tag per line. */
static int parse_liquid(struct parser *p, struct tpl_body *body, const char *mk, size_t n, int line)
{
	struct tsrc ts = {1, mk, mk + n, line};
	struct tok end;
	int r = parse_body(p, &ts, body, &end);
	if (r < 0)
		return -1;
	if (r == 1) {
		p->tok_line = end.line;
		p->tok_col = end.col;
		if (is_end_like(end.name, end.name_n))
			return perr(p, "'%.*s' without a matching opening tag inside 'liquid'.", (int)end.name_n,
				    end.name);
		return perr(p, "Unknown tag '%.*s'.", (int)end.name_n, end.name);
	}
	return 0;
}

/* ---- entry points ------------------------------------------------------------ */

struct tpl *tpl_parse(const char *src, size_t len, const struct tpl_opts *opts, struct cairn_err *err)
{
	struct tpl_opts def = {TPL_LAX, 0, 0, NULL};
	if (!opts)
		opts = &def;
	size_t max_src = opts->max_source ? opts->max_source : TPL_DEFAULT_MAX_SOURCE;
	if (len > max_src) {
		cairn_err_set(err, CAIRN_ETOOBIG, "template_too_large", opts->name ? opts->name : "template",
			      "The template is %zu bytes; the limit is %zu.", len, max_src);
		return NULL;
	}
	struct tpl *t = xcalloc(1, sizeof *t);
	arena_init(&t->arena, 16384);
	t->syntax = opts->syntax;
	if (opts->name)
		t->name = xstrdup(opts->name);
	struct parser p;
	memset(&p, 0, sizeof p);
	p.t = t;
	p.a = &t->arena;
	p.src = arena_strndup(&t->arena, src ? src : "", len);
	p.len = len;
	p.mode = opts->syntax;
	p.max_depth = opts->max_nesting ? opts->max_nesting : TPL_DEFAULT_MAX_NESTING;
	p.err = err;
	p.name = opts->name;
	p.lc_line = 1;
	p.tok_line = 1;
	p.tok_col = 1;
	struct tsrc ts = {0, NULL, NULL, 0};
	struct tok end;
	int r = parse_body(&p, &ts, &t->root, &end);
	if (r == 1) {
		p.tok_line = end.line;
		p.tok_col = end.col;
		if (is_end_like(end.name, end.name_n)) {
			const char *opener = NULL;
			if (str_eq(end.name, end.name_n, "else") || str_eq(end.name, end.name_n, "elsif"))
				opener = "if";
			else if (str_eq(end.name, end.name_n, "when"))
				opener = "case";
			if (opener)
				perr(&p, "'%.*s' outside of an '%s' block.", (int)end.name_n, end.name, opener);
			else
				perr(&p, "'%.*s' without a matching '%.*s'.", (int)end.name_n, end.name,
				     (int)end.name_n - 3, end.name + 3);
		} else {
			perr(&p, "Unknown tag '%.*s'.", (int)end.name_n, end.name);
		}
	}
	if (p.failed || r < 0) {
		if (!p.failed)
			perr(&p, "Invalid template.");
		tpl_free(t);
		return NULL;
	}
	return t;
}

void tpl_free(struct tpl *t)
{
	if (!t)
		return;
	arena_release(&t->arena);
	free(t->name);
	free(t);
}
