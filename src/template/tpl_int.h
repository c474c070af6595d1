/* tpl_int.h — internals shared by the template module's files.
 *
 * Design notes (invariants):
 *   1. A struct tpl is a tree of nodes allocated from one arena that holds a
 *      copy of the source; string literals and names point into it. After
 *      tpl_parse returns, nothing writes to the tree (shared across threads).
 *   2. A render value (struct tval) is 24 bytes and never owns memory: its
 *      strings point into the template, into the JSON data or into the
 *      render pool, all of which outlive the render.
 *   3. Every temporary of a render comes from the per-thread pool (struct
 *      tpool), reset at the start of each render; the pool counts bytes
 *      against limits.max_memory.
 *   4. Errors are sticky: the first one is kept in rs->err and rs->failed
 *      stops further work; the renderer unwinds without output.
 *   5. Numbers: integers are int64 (overflow falls back to double), floats
 *      are doubles; + - * % and round on floats go through exact decimal
 *      arithmetic so that 0.1 + 0.2 renders 0.3 as Shopify's BigDecimal does
 *      (docs/decisions/0101-template-numbers.md). */
#ifndef TEMPLATE_TPL_INT_H
#define TEMPLATE_TPL_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "template/tpl.h"

/* ---- values -------------------------------------------------------------- */

enum tv_type {
	TV_NIL = 0,
	TV_BOOL,
	TV_INT,
	TV_FLOAT,
	TV_STR,
	TV_JSON,  /* a JSON array or object from the data (never a scalar) */
	TV_ARR,	  /* an array built while rendering */
	TV_OBJ,	  /* an object built while rendering (json filter output etc.) */
	TV_RANGE, /* lo..hi, inclusive */
	TV_EMPTY, /* the `empty` literal */
	TV_BLANK, /* the `blank` literal */
	TV_LOOP,  /* forloop / tablerowloop */
	TV_SELF,  /* `self`: the variables of one render context */
};

struct tarr;
struct tobj;
struct tloop;
struct rctx;

struct tval {
	uint8_t t;
	union {
		int b;
		int64_t i;
		double f;
		struct {
			const char *p;
			size_t n;
		} s;
		json_t *j;
		struct tarr *a;
		struct tobj *o;
		struct {
			int64_t lo, hi;
		} r;
		struct tloop *loop;
		struct rctx *self;
	};
};

struct tarr {
	size_t n;
	struct tval v[];
};

struct tobj {
	size_t n;
	struct {
		const char *k;
		size_t kn;
		struct tval v;
	} e[];
};

struct tloop {
	int tablerow;
	int64_t index0, length, cols, col, row;
	const char *name;
	size_t name_len;
	struct tloop *parent;
};

/* ---- parse tree ------------------------------------------------------------ */

enum ex_kind { EX_LIT, EX_VAR, EX_RANGE };

struct tpl_expr;

struct tpl_lookup {
	const char *key; /* static key (NUL-terminated) or NULL when dyn */
	size_t len;
	struct tpl_expr *dyn; /* [expr] */
	int command;	      /* dot-access size/first/last */
};

struct tpl_expr {
	uint8_t kind;
	struct tval lit; /* EX_LIT */
	/* EX_VAR */
	const char *name; /* NULL when the root is dynamic ([expr]) */
	size_t name_len;
	uint32_t hash;
	struct tpl_expr *root_dyn;
	int nlook;
	struct tpl_lookup *look;
	/* EX_RANGE */
	struct tpl_expr *lo, *hi;
};

struct tpl_filter_def;

struct tpl_fcall {
	const struct tpl_filter_def *def; /* NULL: unknown filter */
	const char *name;
	int nargs, nkw;
	struct tpl_expr **args;
	const char **kw;
	struct tpl_expr **kwv;
	int line, col;
};

struct tpl_var {
	struct tpl_expr *expr; /* NULL: renders nothing */
	int nf;
	struct tpl_fcall *f;
};

enum cond_op { OP_NONE = 0, OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_CONTAINS };

struct tpl_cond {
	struct tpl_expr *l, *r;
	int op;
	int rel; /* 0: none, 1: and, 2: or (relation to child) */
	struct tpl_cond *child;
};

struct tpl_body {
	int n;
	struct tpl_node **nodes;
	int blank;
};

enum node_kind {
	N_TEXT,
	N_OUT,
	N_ASSIGN,
	N_CAPTURE,
	N_INCR,
	N_DECR,
	N_IF,
	N_CASE,
	N_FOR,
	N_TABLEROW,
	N_CYCLE,
	N_BREAK,
	N_CONTINUE,
	N_INCLUDE,
	N_RENDER,
	N_IFCHANGED,
	N_NOP,
};

struct tpl_branch {
	struct tpl_cond *cond; /* NULL: else */
	int negate;	       /* unless */
	int nvals;	       /* case/when values */
	struct tpl_expr **vals;
	struct tpl_body body;
};

struct tpl_kv {
	const char *k;
	size_t kn;
	uint32_t hash;
	struct tpl_expr *v;
};

struct tpl_node {
	uint8_t kind;
	uint8_t blank;
	int line, col;
	union {
		struct {
			const char *p;
			size_t n;
		} text;
		struct tpl_var *var; /* N_OUT */
		struct {
			const char *name;
			size_t n;
			uint32_t hash;
			struct tpl_var *var;  /* assign */
			struct tpl_body body; /* capture */
		} as;
		struct {
			int nb;
			struct tpl_branch *b;
			struct tpl_expr *subject; /* case */
		} cond;
		struct {
			const char *var;
			size_t vn;
			uint32_t vhash;
			struct tpl_expr *coll;
			struct tpl_expr *limit, *offset, *cols;
			int has_limit, has_offset, has_cols, offset_continue, reversed;
			const char *regname; /* "var-collection" for offset:continue */
			size_t regn;
			struct tpl_body body, els;
			int has_else;
		} loop;
		struct {
			struct tpl_expr *group; /* NULL: unnamed */
			const char *key;	/* unnamed, literal values: shared key */
			size_t keyn;
			int nv;
			struct tpl_expr **v;
		} cycle;
		struct {
			struct tpl_expr *name; /* include: may be dynamic */
			const char *sname;     /* render: static */
			size_t sn;
			struct tpl_expr *with;
			int is_for;
			const char *alias;
			size_t an;
			int nkv;
			struct tpl_kv *kv;
		} inc;
		struct tpl_body body; /* ifchanged */
	};
};

struct tpl {
	struct arena arena;
	struct tpl_body root;
	enum tpl_syntax syntax;
	char *name;
};

/* ---- render state --------------------------------------------------------- */

struct tpool; /* tpl_render.c */

struct rs {
	struct tpool *pool;
	struct buf *out;
	size_t out_start;
	const struct tpl_render_opts *ro;
	struct tpl_limits lim;
	uint64_t steps, iters;
	int depth;
	int failed;
	struct cairn_err *err;
	json_t *data;
	int64_t now_ms;
	void *tz_cache; /* tpl_date.c */
};

/* Pool allocation (never NULL; on the memory limit it fails the render and
 * returns a scratch block so callers stay straight-line). */
void *tp_alloc(struct rs *rs, size_t n);
char *tp_strndup(struct rs *rs, const char *s, size_t n);
/* Fails the render once: code, then a printf message. Returns -1. */
int rs_fail(struct rs *rs, int code, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- values (tpl_value.c) --------------------------------------------------- */

static inline struct tval tv_nil(void)
{
	struct tval v = {0};
	return v;
}
static inline struct tval tv_bool(int b)
{
	struct tval v = {.t = TV_BOOL};
	v.b = b ? 1 : 0;
	return v;
}
static inline struct tval tv_int(int64_t i)
{
	struct tval v = {.t = TV_INT};
	v.i = i;
	return v;
}
static inline struct tval tv_float(double f)
{
	struct tval v = {.t = TV_FLOAT};
	v.f = f;
	return v;
}
static inline struct tval tv_str(const char *p, size_t n)
{
	struct tval v = {.t = TV_STR};
	v.s.p = p;
	v.s.n = n;
	return v;
}

struct tval tv_from_json(json_t *j);
int tv_truthy(struct tval v);
/* Appends the Liquid rendering of v ({{ v }}): nil → nothing, arrays
 * flattened, hashes as Ruby inspect. */
void tv_render(struct rs *rs, struct tval v, struct buf *b);
/* Ruby to_s (arrays and hashes inspected); returns a string view. */
struct tval tv_to_s(struct rs *rs, struct tval v);
void tv_inspect(struct rs *rs, struct tval v, struct buf *b, int depth);
void tv_to_json(struct rs *rs, struct tval v, struct buf *b, int depth);
int tv_equal(struct tval a, struct tval b);
/* Ordering for < > sort: 0 ok (*cmp set), -1 incomparable. */
int tv_compare(struct tval a, struct tval b, int *cmp);
int tv_is_empty(struct tval v);
int tv_is_blank(struct tval v);
/* Collection access: count and item i of arrays, JSON arrays and ranges. */
int tv_is_array(struct tval v);
size_t tv_len(struct tval v);
struct tval tv_item(struct tval v, size_t i);
/* Property lookup (hash key or array index); not found → nil. */
struct tval tv_get(struct rs *rs, struct tval obj, struct tval key, int *found);
struct tval tv_get_key(struct rs *rs, struct tval obj, const char *k, size_t kn, int *found);
struct tarr *tarr_new(struct rs *rs, size_t n);
/* Flattens nested arrays (Shopify's InputIterator); non-arrays become a
 * one-element array, nil an empty one. */
struct tarr *tv_flatten(struct rs *rs, struct tval v);

/* Numbers. */
void fmt_float(double f, struct buf *b);
/* Shortest decimal m * 10^-k that reads back as x (fast path; -1 when x
 * needs the general algorithm). */
int dbl_short(double x, int64_t *m, int *k);
/* Writes v in decimal to out (24 bytes), returns the length. */
size_t fmt_int(int64_t v, char *out);
int tv_to_number(struct tval v, struct tval *out); /* int or float */
int64_t tv_to_int(struct tval v, int *ok);	   /* Shopify to_integer */
/* Parses a Liquid number literal; 0 if markup is not one. */
int parse_number_lit(const char *s, size_t n, struct tval *out);

/* UTF-8 helpers. */
size_t u8_len(const char *s, size_t n);
/* Byte offset of code point index cp (clamped to n). */
size_t u8_off(const char *s, size_t n, size_t cp);

/* ---- filters (tpl_filters.c) ---------------------------------------------- */

typedef struct tval (*tpl_filter_fn)(struct rs *rs, const struct tpl_fcall *fc, struct tval in, int argc,
				     const struct tval *argv, int kwc, const char *const *kw, const struct tval *kwv);

struct tpl_filter_def {
	const char *name;
	tpl_filter_fn fn;
	int min_args, max_args;
	const char *doc;
};

const struct tpl_filter_def *tpl_filter_find(const char *name, size_t n);

/* ---- dates (tpl_date.c) ---------------------------------------------------- */

/* Parses v as a time ("now", "today", epoch seconds, ISO 8601 / RFC 3339,
 * RFC 2822, "March 14, 2016 10:00"). On success sets *ms and *offset_s, the
 * UTC offset written in the input (0 when none); *has_offset says whether
 * the input named one. Returns 0 or -1. */
int tpl_time_parse(struct rs *rs, struct tval v, int64_t *ms, int *offset_s, int *has_offset);
/* Formats with Ruby's strftime directives at ms in zone tz (IANA name; NULL
 * → fixed offset_s). Returns 0, -1 for an unknown zone. */
int tpl_strftime(struct rs *rs, struct buf *b, const char *fmt, size_t fn, int64_t ms, const char *tz, int offset_s,
		 int has_offset);
void tpl_date_cache_free(struct rs *rs);

/* ---- parse helpers shared with validate ----------------------------------- */

uint32_t tpl_hash(const char *s, size_t n);

#endif
