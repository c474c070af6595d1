/* content.c — channel shapes, and one walker over a body that checks it
 * and, when asked, renders it (content.h has the contract).
 *
 * Design notes
 *  1. One walker (walk_body) serves check and render: it checks the shape,
 *     parses each source and, when rendering, renders it and collects the
 *     variables and filters it reads, building `rendered` in the same shape
 *     as the body. Check and render cannot disagree on what a body is.
 *  2. A partial is loaded from the store when the engine first asks for it
 *     and compiled once per source through a tpl_cache; the bodies it was
 *     read from are kept alive (partial_src.keep) until the render ends, as the
 *     cache holds pointers into their strings.
 *  3. Body paths are built in a CONTENT_PATH_MAX buffer: a path that long
 *     (a body key of ~150 bytes) is cut short in the error, never overrun. */
#include <stdio.h>
#include <string.h>

#include "content/content.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/xalloc.h"
#include "store/store_templates.h"
#include "template/tpl.h"

#define CONTENT_PATH_MAX  160
#define PARTIAL_ID_MAX	  64 /* a template id (slug) */
#define PARTIAL_FIELD_MAX 63

/* ---- the channel table (invariant 1) ---------------------------------------------- */

static const struct content_channel channels[] = {
	{"email",
	 "An email template",
	 {{"subject", CONTENT_TEXT},
	  {"preheader", CONTENT_TEXT},
	  {"html", CONTENT_TEXT},
	  {"text", CONTENT_TEXT},
	  {"from", CONTENT_TEXT}},
	 {"subject"},
	 {"html", "text"}},
	{"sms", "An SMS template", {{"text", CONTENT_TEXT}}, {"text"}, {NULL}},
	{"kakao",
	 "A Kakao template",
	 {{"template_code", CONTENT_TEXT},
	  {"text", CONTENT_TEXT},
	  {"buttons", CONTENT_BUTTONS},
	  {"fallback_text", CONTENT_TEXT}},
	 {"text"}, /* without template_code: FriendTalk */
	 {NULL}},
	{"push",
	 "A push template",
	 {{"title", CONTENT_TEXT}, {"body", CONTENT_TEXT}, {"data", CONTENT_MAP}},
	 {NULL},
	 {"title", "body"}},
	{"webhook", "A webhook template", {{"body", CONTENT_TEXT}}, {"body"}, {NULL}},
	{"slack", "A Slack template", {{"text", CONTENT_TEXT}}, {"text"}, {NULL}},
};
#define NCHANNELS (sizeof channels / sizeof channels[0])

const struct content_channel *content_channel_find(const char *name)
{
	for (size_t i = 0; name && i < NCHANNELS; i++) {
		if (!strcmp(channels[i].name, name))
			return &channels[i];
	}
	return NULL;
}

const struct content_channel *content_channel_get(const char *name, struct cairn_err *err)
{
	const struct content_channel *ch = content_channel_find(name);
	if (!ch)
		cairn_err_set(err, CAIRN_EUNPROC, name ? "unknown_channel" : "missing_field", "channel",
			      "channel must be " CONTENT_CHANNEL_LIST "%s%s%s.", name ? ", not '" : "",
			      name ? name : "", name ? "'" : "");
	return ch;
}

static const struct content_field *field_find(const struct content_channel *ch, const char *key)
{
	for (const struct content_field *f = ch->fields; f->key; f++) {
		if (!strcmp(f->key, key))
			return f;
	}
	return NULL;
}

/* "subject, preheader, html, text or from" */
static void field_list(const struct content_channel *ch, char *out, size_t n)
{
	size_t count = 0, len = 0;
	out[0] = '\0';
	for (const struct content_field *f = ch->fields; f->key; f++)
		count++;
	for (size_t i = 0; i < count && len < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
		int w = snprintf(out + len, n - len, "%s%s", sep, ch->fields[i].key);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* ---- partials (invariant 5) ----------------------------------------------------------- */

/* Resolves {% render 'name' %} / {% render 'name.field' %} to a saved
 * template's body field; keeps what it loaded alive for the cache. */
struct partial_src {
	struct store *st;
	int64_t ws;
	const char *field; /* the top-level body key being rendered */
	json_t *keep;	   /* bodies whose strings the cache was handed */
};

static const char *partial_source(void *ud, const char *name, size_t len, size_t *src_len)
{
	struct partial_src *ps = ud;
	char id[PARTIAL_ID_MAX + 1], field[PARTIAL_FIELD_MAX + 1];
	const char *dot = memchr(name, '.', len);
	size_t idn = dot ? (size_t)(dot - name) : len;
	size_t fn = dot ? len - idn - 1 : strlen(ps->field);
	if (idn == 0 || idn > PARTIAL_ID_MAX || fn == 0 || fn > PARTIAL_FIELD_MAX)
		return NULL;
	memcpy(id, name, idn);
	id[idn] = '\0';
	memcpy(field, dot ? dot + 1 : ps->field, fn);
	field[fn] = '\0';
	if (!slug_valid(id, PARTIAL_ID_MAX))
		return NULL;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template t;
	if (store_template_get(ps->st, ps->ws, id, 0, &t, &err) < 0)
		return NULL;
	json_t *src = json_object_get(t.body, field);
	const char *s = NULL;
	if (json_is_string(src)) {
		json_array_append(ps->keep, t.body);
		s = json_string_value(src);
		*src_len = json_string_length(src);
	}
	store_template_release(&t);
	return s;
}

/* ---- the walker (design note 1) -------------------------------------------------------- */

/* What to do with each Liquid source of a body. */
struct walk {
	struct tpl_opts po;
	int render; /* 0: parse only (check); 1: also render */
	json_t *data;
	struct tpl_render_opts ro;
	struct partial_src ps;
	struct content_report rep; /* sets, in order of first use (render only) */
};

static void add_unique(json_t *set, json_t *items)
{
	size_t i, k;
	json_t *v, *have;
	json_array_foreach (items, i, v) {
		int dup = 0;
		json_array_foreach (set, k, have) {
			if (json_equal(have, v)) {
				dup = 1;
				break;
			}
		}
		if (!dup)
			json_array_append(set, v);
	}
}

/* A template error as content reports it (invariant 3): the engine's
 * message and slug, the body path as the field; always 422 when rendering. */
static int liquid_error(struct cairn_err *err, const struct cairn_err *te, const char *path, int force_unproc)
{
	return cairn_err_set(err, force_unproc ? CAIRN_EUNPROC : te->code, te->slug[0] ? te->slug : "template_error",
			     path, "%s", te->message);
}

/* Parses (and when rendering renders) one source at path. *out (OUT) is
 * the rendered JSON string, or json_null() when only parsing; NULL with
 * err on failure, whose code is returned. */
static int walk_source(struct walk *w, const char *path, const char *top_key, const json_t *src, json_t **out,
		       struct cairn_err *err)
{
	*out = NULL;
	if (!json_is_string(src))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path,
				     "%s must be a string of Liquid, not %s.", path, jsonx_type_name(src));
	struct cairn_err te = CAIRN_ERR_INIT;
	struct tpl *t = tpl_parse(json_string_value(src), json_string_length(src), &w->po, &te);
	if (!t)
		return liquid_error(err, &te, path, w->render);
	if (!w->render) {
		tpl_free(t);
		*out = json_null();
		return 0;
	}
	w->ps.field = top_key;
	struct tpl_cache *cache = tpl_cache_new(partial_source, &w->ps, &w->po);
	struct tpl_render_opts ro = w->ro;
	ro.partial = tpl_cache_partial;
	ro.partial_ud = cache;
	struct buf buf;
	buf_init(&buf, BUF_MAX_RENDER);
	int rc = tpl_render(t, w->data, &ro, &buf, &te);
	if (rc < 0) {
		rc = liquid_error(err, &te, path, 1);
	} else {
		*out = json_stringn(buf.ptr, buf.len);
		if (!*out)
			rc = cairn_err_set(err, CAIRN_EUNPROC, "template_error", path,
					   "%s renders to bytes that are not UTF-8 text (a base64_decode of binary "
					   "data?).",
					   path);
	}
	if (rc == 0) {
		json_t *v = tpl_validate(t, w->data);
		add_unique(w->rep.used, json_object_get(v, "variables"));
		add_unique(w->rep.missing, json_object_get(v, "unknown_variables"));
		add_unique(w->rep.unknown_filters, json_object_get(v, "unknown_filters"));
		json_decref(v);
	}
	buf_release(&buf);
	tpl_cache_free(cache);
	tpl_free(t);
	return rc;
}

/* Sets key of out (when rendering) to v; takes v. */
static void put(json_t *out, const char *key, json_t *v)
{
	if (out)
		json_object_set_new(out, key, v);
	else
		json_decref(v);
}

/* Walks the values of an object (a button, or a push `data` map): each a
 * source at "<prefix>.<key>"; out (may be NULL) receives the rendered
 * values. jansson's object iterators take no const; nothing is changed. */
static int walk_object(struct walk *w, const char *prefix, const char *top_key, const json_t *obj, json_t *out,
		       struct cairn_err *err)
{
	char path[CONTENT_PATH_MAX];
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		snprintf(path, sizeof path, "%s.%s", prefix, k);
		json_t *r;
		int rc = walk_source(w, path, top_key, v, &r, err);
		if (rc < 0)
			return rc;
		put(out, k, r);
	}
	return 0;
}

static int walk_buttons(struct walk *w, const json_t *buttons, json_t *out, struct cairn_err *err)
{
	if (!json_is_array(buttons) || json_array_size(buttons) > CONTENT_MAX_BUTTONS)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "body.buttons",
				     "body.buttons must be a list of at most %d buttons, each an object such as "
				     "{\"name\":\"주문 조회\",\"type\":\"WL\",\"url_mobile\":\"https://…\"}.",
				     CONTENT_MAX_BUTTONS);
	for (size_t i = 0; i < json_array_size(buttons); i++) {
		const json_t *b = json_array_get(buttons, i);
		char path[CONTENT_PATH_MAX], name_path[CONTENT_PATH_MAX];
		snprintf(path, sizeof path, "body.buttons[%zu]", i);
		snprintf(name_path, sizeof name_path, "body.buttons[%zu].name", i);
		if (!json_is_object(b))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path, "%s must be an object, not %s.",
					     path, jsonx_type_name(b));
		const json_t *name = json_object_get(b, "name");
		if (!json_is_string(name) || json_string_length(name) == 0)
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", name_path,
					     "Each Kakao button needs a name (%s).", name_path);
		json_t *rb = out ? json_object() : NULL;
		int rc = walk_object(w, path, "buttons", b, rb, err);
		if (rc < 0) {
			json_decref(rb);
			return rc;
		}
		if (out)
			json_array_append_new(out, rb);
	}
	return 0;
}

static int walk_map(struct walk *w, const char *key, const json_t *map, json_t *out, struct cairn_err *err)
{
	char path[CONTENT_PATH_MAX];
	snprintf(path, sizeof path, "body.%s", key);
	if (!json_is_object(map))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path,
				     "%s must be an object of strings (Liquid), not %s.", path, jsonx_type_name(map));
	return walk_object(w, path, key, map, out, err);
}

/* A required field is missing when absent, null or "". */
static int absent(const json_t *body, const char *key)
{
	const json_t *v = json_object_get(body, key);
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* The shape of body against ch: known keys only, then (require) the
 * required fields. */
static int check_keys(const struct content_channel *ch, const json_t *body, int require, struct cairn_err *err)
{
	char path[CONTENT_PATH_MAX];
	if (!body)
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "body",
				     "body is required: an object of Liquid sources for the channel.");
	if (!json_is_object(body))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "body",
				     "body must be an object of Liquid sources, not %s.", jsonx_type_name(body));
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		if (field_find(ch, k))
			continue;
		char list[CONTENT_PATH_MAX];
		snprintf(path, sizeof path, "body.%s", k);
		field_list(ch, list, sizeof list);
		return cairn_err_set(err, CAIRN_EUNPROC, "unknown_field", path,
				     "%s is not a field of the %s channel; use %s.", path, ch->name, list);
	}
	for (size_t i = 0; require && i < 3 && ch->required[i]; i++) {
		if (absent(body, ch->required[i])) {
			snprintf(path, sizeof path, "body.%s", ch->required[i]);
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", path, "%s needs a non-empty %s.",
					     ch->label, path);
		}
	}
	if (require && ch->one_of[0]) {
		int any = 0;
		for (size_t i = 0; i < 3 && ch->one_of[i]; i++)
			any |= !absent(body, ch->one_of[i]);
		if (!any) {
			snprintf(path, sizeof path, "body.%s", ch->one_of[0]);
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", path, "%s needs body.%s or body.%s.",
					     ch->label, ch->one_of[0], ch->one_of[1]);
		}
	}
	return 0;
}

/* Checks body against ch and runs w over each source. norm (may be NULL)
 * receives the body as stored: the channel's keys in table order, nulls
 * dropped. rendered (may be NULL) receives the rendered body. */
static int walk_body(const struct content_channel *ch, const json_t *body, int require, struct walk *w, json_t *norm,
		     json_t *rendered, struct cairn_err *err)
{
	int rc = check_keys(ch, body, require, err);
	for (const struct content_field *f = ch->fields; rc == 0 && f->key; f++) {
		json_t *v = json_object_get(body, f->key);
		if (!v || json_is_null(v))
			continue;
		if (f->kind == CONTENT_TEXT) {
			char path[CONTENT_PATH_MAX];
			snprintf(path, sizeof path, "body.%s", f->key);
			json_t *r;
			rc = walk_source(w, path, f->key, v, &r, err);
			if (rc == 0)
				put(rendered, f->key, r);
		} else if (f->kind == CONTENT_BUTTONS) {
			json_t *rb = rendered ? json_array() : NULL;
			rc = walk_buttons(w, v, rb, err);
			put(rendered, f->key, rb ? rb : json_null());
		} else {
			json_t *rm = rendered ? json_object() : NULL;
			rc = walk_map(w, f->key, v, rm, err);
			put(rendered, f->key, rm ? rm : json_null());
		}
		if (rc == 0 && norm)
			json_object_set(norm, f->key, v);
	}
	return rc;
}

/* ---- public ------------------------------------------------------------------------------ */

int content_check(const char *channel, const json_t *body, int require, json_t **normalized, struct cairn_err *err)
{
	if (normalized)
		*normalized = NULL;
	const struct content_channel *ch = content_channel_get(channel, err);
	if (!ch)
		return CAIRN_EUNPROC;
	struct walk w = {.po = {.syntax = TPL_LAX}, .render = 0};
	json_t *norm = normalized ? json_object() : NULL;
	int rc = walk_body(ch, body, require, &w, norm, NULL, err);
	if (rc < 0) {
		json_decref(norm);
		return rc;
	}
	if (normalized)
		*normalized = norm;
	return 0;
}

void content_report_release(struct content_report *r)
{
	json_decref(r->used);
	json_decref(r->missing);
	json_decref(r->unknown_filters);
	*r = (struct content_report){NULL, NULL, NULL};
}

int content_render_opts(struct store *st, int64_t ws, const char *channel, const json_t *body, json_t *data,
			const struct content_opts *opts, json_t **rendered, struct content_report *report,
			struct cairn_err *err)
{
	*rendered = NULL;
	if (report)
		*report = (struct content_report){NULL, NULL, NULL};
	const struct content_channel *ch = content_channel_get(channel, err);
	if (!ch)
		return CAIRN_EUNPROC;
	struct walk w = {
		.po = {.syntax = TPL_LAX},
		.render = 1,
		.data = data,
		.ps = {.st = st, .ws = ws, .keep = json_array()},
		.rep = {json_array(), json_array(), json_array()},
	};
	if (opts && opts->strict) {
		w.po.syntax = TPL_STRICT;
		w.ro.strict_variables = 1;
		w.ro.strict_filters = 1;
	}
	if (opts)
		w.ro.now_ms = opts->now_ms;
	json_t *out = json_object();
	int rc = walk_body(ch, body, 0, &w, NULL, out, err);
	json_decref(w.ps.keep);
	if (rc < 0 || !report)
		content_report_release(&w.rep);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	if (report)
		*report = w.rep;
	*rendered = out;
	return 0;
}

int content_render(struct store *st, int64_t ws, const char *channel, const json_t *body, json_t *data,
		   json_t **rendered, struct content_report *report, struct cairn_err *err)
{
	return content_render_opts(st, ws, channel, body, data, NULL, rendered, report, err);
}

int content_render_template(struct store *st, int64_t ws, const char *template_id, int64_t version, json_t *data,
			    json_t **rendered, char **channel_out, struct cairn_err *err)
{
	*rendered = NULL;
	if (channel_out)
		*channel_out = NULL;
	struct store_template t;
	int rc = store_template_get(st, ws, template_id, version, &t, err);
	if (rc < 0)
		return rc;
	if (t.archived_at) {
		/* version 0 is refused by the store; a given version here */
		rc = cairn_err_set(err, CAIRN_ENOTFOUND, "template_archived", "",
				   "Template '%s' was deleted (archived); its version %lld is not sent. Create it "
				   "again to restore it.",
				   t.id, (long long)t.version);
	} else if (!content_channel_find(t.channel)) {
		rc = cairn_err_set(err, CAIRN_EIO, "storage_error", "", "Template '%s' has an unknown channel '%s'.",
				   t.id, t.channel);
	} else {
		rc = content_render(st, ws, t.channel, t.body, data, rendered, NULL, err);
	}
	if (rc == 0 && channel_out)
		*channel_out = xstrdup(t.channel);
	store_template_release(&t);
	return rc;
}
