/* tpl.h — the Liquid template engine (issue 4, CONVENTIONS §6).
 *
 * Parse once, render many:
 *
 *   struct cairn_err err = CAIRN_ERR_INIT;
 *   struct tpl *t = tpl_parse(src, len, NULL, &err);      // immutable tree
 *   struct buf out; buf_init(&out, BUF_MAX_RENDER);
 *   tpl_render(t, data, NULL, &out, &err);                 // any thread
 *   tpl_free(t);
 *
 * A parsed template is immutable: any number of threads may render it at
 * once. Rendering writes into the caller's struct buf and takes its
 * temporaries from a per-thread pool that is reset, not freed, between
 * renders, so a warm render allocates only when the output buffer grows.
 *
 * Semantics are Shopify Liquid's (docs/template.md lists the tags, filters
 * and the few deliberate differences). Data is a jansson value, normally an
 * object whose keys are the top-level variables; it is borrowed, never
 * changed, and must outlive the render.
 *
 * Errors follow core/err.h: a failing call returns NULL or a negative
 * CAIRN_E* code and fills the caller's struct cairn_err (first error wins).
 * Messages carry line and column and read like
 *   "Liquid syntax error (line 3, column 5): 'endif' without 'if'."
 * and err->field is "template" (or "templates.<name>" for a partial). */
#ifndef TEMPLATE_TPL_H
#define TEMPLATE_TPL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct tpl;

/* How strictly markup inside tags and {{ }} is parsed — Shopify's
 * error_mode. LAX accepts and ignores junk the way Shopify's lax parser
 * does (templates copied from old themes keep working); STRICT rejects
 * malformed expressions; STRICT2 also rejects junk in render/include
 * arguments. Unknown tags, unclosed blocks and stray end tags are errors in
 * every mode. */
enum tpl_syntax { TPL_LAX = 0, TPL_STRICT = 1, TPL_STRICT2 = 2 };

struct tpl_opts {
	enum tpl_syntax syntax;
	int max_nesting;   /* nested blocks; 0 = TPL_DEFAULT_MAX_NESTING */
	size_t max_source; /* bytes of source; 0 = TPL_DEFAULT_MAX_SOURCE */
	const char *name;  /* for messages ("templates.footer"); may be NULL */
};

#define TPL_DEFAULT_MAX_NESTING 100
#define TPL_DEFAULT_MAX_SOURCE	(1024u * 1024u)

/* Compiles src (UTF-8, len bytes, need not be NUL-terminated). opts may be
 * NULL (lax). Returns a template the caller frees with tpl_free, or NULL
 * with err filled (code CAIRN_EUNPROC, slug "template_syntax"). */
struct tpl *tpl_parse(const char *src, size_t len, const struct tpl_opts *opts, struct cairn_err *err);
void tpl_free(struct tpl *t);

/* Resolves the partial `name` for {% render %} / {% include %}. Returns a
 * compiled template owned by the resolver (it must stay valid for the whole
 * render), or NULL with err filled (or left unset: "not found" is reported
 * then). */
typedef const struct tpl *(*tpl_partial_fn)(void *ud, const char *name, size_t len, struct cairn_err *err);

/* Safety limits of one render. A zero field takes the default. Hitting one
 * ends the render with CAIRN_ETOOBIG and a message naming the limit. */
struct tpl_limits {
	uint64_t max_steps;	 /* nodes rendered + filter calls */
	uint64_t max_iterations; /* loop iterations, all loops together */
	size_t max_output;	 /* bytes appended to out by this render */
	size_t max_memory;	 /* temporary bytes (strings, arrays) */
	int max_depth;		 /* nested render/include */
};

#define TPL_DEFAULT_MAX_STEPS	   1000000u
#define TPL_DEFAULT_MAX_ITERATIONS 200000u
#define TPL_DEFAULT_MAX_OUTPUT	   BUF_MAX_RENDER
#define TPL_DEFAULT_MAX_MEMORY	   (16u * 1024u * 1024u)
#define TPL_DEFAULT_MAX_DEPTH	   10

struct tpl_render_opts {
	/* Render-time strictness (Shopify's strict_variables/strict_filters):
	 * an undefined variable or an unknown filter is an error instead of
	 * rendering as empty / passing its input through. */
	int strict_variables;
	int strict_filters;
	struct tpl_limits limits;
	tpl_partial_fn partial; /* NULL: render/include fail with "not found" */
	void *partial_ud;
	/* Time used for "now"/"today" in the date filter, ms since the epoch;
	 * 0 = clock_now_ms() (which follows the process's virtual clock). */
	int64_t now_ms;
};

/* Renders t with data (a JSON object, or NULL for none) and appends the
 * output to out. ro may be NULL (lax, default limits, no partials).
 * Returns 0, or a negative CAIRN_E* code with err filled; on error out may
 * hold a partial result (the caller decides whether to show it). */
int tpl_render(const struct tpl *t, json_t *data, const struct tpl_render_opts *ro, struct buf *out,
	       struct cairn_err *err);

/* Lists what t uses, as a new JSON object (caller decrefs):
 *   {"variables":["user.first_name",…], "filters":["upcase",…],
 *    "partials":["footer"], "unknown_variables":[…], "unknown_filters":[…]}
 * A variable is unknown when its path cannot be found in data (NULL: only
 * names the template itself assigns count as known) and the template does
 * not define it (assign, capture, loop variables). Never fails. */
json_t *tpl_validate(const struct tpl *t, json_t *data);

/* A thread-safe cache of compiled partials over a name → source provider
 * (for the CLI, previews and the delivery workers). tpl_cache_partial is a
 * tpl_partial_fn: pass it with the cache as ud. */
typedef const char *(*tpl_source_fn)(void *ud, const char *name, size_t len, size_t *src_len);
struct tpl_cache;
struct tpl_cache *tpl_cache_new(tpl_source_fn source, void *source_ud, const struct tpl_opts *opts);
void tpl_cache_free(struct tpl_cache *c);
const struct tpl *tpl_cache_partial(void *cache, const char *name, size_t len, struct cairn_err *err);

/* Names of every filter and tag the engine knows, NULL-terminated (docs,
 * validation in the API). */
const char *const *tpl_filter_names(void);
const char *const *tpl_tag_names(void);

/* Frees this thread's render pool (optional; for leak checkers and threads
 * that will not render again). */
void tpl_thread_cleanup(void);

#endif
