/* api_templates.c — the templates resource: create, read, update (each save
 * a new immutable version), archive, versions, and preview.
 *
 * Design notes
 *  1. A body is channel-shaped; the shapes are ONE table (`channels`):
 *     which keys exist, which are required, which hold lists or maps. Every
 *     string in a body is Liquid, parsed on save, so a template that saves
 *     always parses; an error names the field ("body.html") and carries the
 *     engine's line/column message.
 *  2. One walker (run_body) serves save and preview: it checks the shape,
 *     parses each source and, for a preview, renders it and lists the
 *     variables the data does not provide, building `rendered` in the same
 *     shape as the body.
 *  3. PUT merges what the client omits from the latest version, validates
 *     the result and saves it with the version it read as the expected one;
 *     when another save slipped in between and the client named no version,
 *     it reads and merges again (bounded), so an omitted field is never
 *     written back stale.
 *  4. `{% render 'footer' %}` resolves to the saved template `footer`
 *     (latest version), taking the same body field as the one rendering
 *     (`html` from `html`); `render 'footer.text'` names the field.
 *  5. Preview data follows CONVENTIONS §6: `user` from the profile (traits
 *     as keys, id, tags, computed), then sample `data`, `event`, and what the
 *     system provides at send time when the data lacks it (`links`,
 *     `message`, `workspace`). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_templates.h"
#include "app/app.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/xalloc.h"
#include "store/store_templates.h"
#include "template/tpl.h"

#define TEMPLATE_ID_MAX	    64
#define TEMPLATE_NAME_MAX   200
#define TEMPLATE_LOCALE_MAX 35
#define KAKAO_MAX_BUTTONS   5
#define UPDATE_ATTEMPTS	    5
#define CREATE_ATTEMPTS	    5

/* ---- channel shapes ----------------------------------------------------------- */

enum field_kind {
	FK_TEXT,    /* a Liquid string */
	FK_BUTTONS, /* an array of objects of Liquid strings, each with a name */
	FK_MAP,	    /* an object of Liquid strings */
};

struct body_field {
	const char *key;
	enum field_kind kind;
};

struct channel_def {
	const char *name;
	const char *label;		   /* for messages: "An email template" */
	const struct body_field fields[6]; /* ends at key NULL */
	const char *required[3];	   /* each must be a non-empty string */
	const char *one_of[3];		   /* at least one must be a non-empty string */
};

static const struct channel_def channels[] = {
	{"email",
	 "An email template",
	 {{"subject", FK_TEXT}, {"preheader", FK_TEXT}, {"html", FK_TEXT}, {"text", FK_TEXT}, {"from", FK_TEXT}},
	 {"subject"},
	 {"html", "text"}},
	{"sms", "An SMS template", {{"text", FK_TEXT}}, {"text"}, {NULL}},
	{"kakao",
	 "A Kakao template",
	 {{"template_code", FK_TEXT}, {"text", FK_TEXT}, {"buttons", FK_BUTTONS}, {"fallback_text", FK_TEXT}},
	 {"template_code", "text"},
	 {NULL}},
	{"push",
	 "A push template",
	 {{"title", FK_TEXT}, {"body", FK_TEXT}, {"data", FK_MAP}},
	 {NULL},
	 {"title", "body"}},
	{"webhook", "A webhook template", {{"body", FK_TEXT}}, {"body"}, {NULL}},
	{"slack", "A Slack template", {{"text", FK_TEXT}}, {"text"}, {NULL}},
};
#define NCHANNELS    (sizeof channels / sizeof channels[0])
#define CHANNEL_LIST "email, sms, kakao, push, webhook or slack"

static const struct channel_def *channel_find(const char *name)
{
	for (size_t i = 0; name && i < NCHANNELS; i++) {
		if (!strcmp(channels[i].name, name))
			return &channels[i];
	}
	return NULL;
}

static const struct body_field *field_find(const struct channel_def *ch, const char *key)
{
	for (const struct body_field *f = ch->fields; f->key; f++) {
		if (!strcmp(f->key, key))
			return f;
	}
	return NULL;
}

/* "subject, preheader, html, text or from" */
static void field_list(const struct channel_def *ch, char *out, size_t n)
{
	size_t count = 0, len = 0;
	out[0] = '\0';
	for (const struct body_field *f = ch->fields; f->key; f++)
		count++;
	for (size_t i = 0; i < count && len < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
		int w = snprintf(out + len, n - len, "%s%s", sep, ch->fields[i].key);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* BCP 47-like: "ko", "ko-KR", "zh-Hant-TW", "en_US". */
static int valid_locale(const char *s)
{
	size_t n = strlen(s), i = 0;
	if (n > TEMPLATE_LOCALE_MAX)
		return 0;
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		i++;
	if (i < 2 || i > 3)
		return 0;
	while (i < n) {
		if (s[i] != '-' && s[i] != '_')
			return 0;
		size_t start = ++i;
		while (i < n &&
		       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i - start < 2 || i - start > 8)
			return 0;
	}
	return 1;
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A positive whole number in a JSON value: 0 and *v, else -1. */
static int positive_int(json_t *j, int64_t *v)
{
	if (!json_is_integer(j) || json_integer_value(j) < 1)
		return -1;
	*v = json_integer_value(j);
	return 0;
}

/* Refuses keys outside allowed (NULL-terminated), naming the first. */
static int only_keys(json_t *obj, const char *const *allowed, const char *what, struct cairn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach (obj, k, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, k);
		if (ok)
			continue;
		char list[256];
		size_t len = 0;
		list[0] = '\0';
		for (const char *const *a = allowed; *a && len < sizeof list; a++) {
			int w = snprintf(list + len, sizeof list - len, "%s%s", a == allowed ? "" : ", ", *a);
			if (w > 0)
				len += (size_t)w;
		}
		return cairn_err_set(err, CAIRN_EUNPROC, "unknown_field", k, "'%s' is not a field of %s; use %s.", k,
				     what, list);
	}
	return 0;
}

/* ---- Liquid over a body ------------------------------------------------------------ */

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
	char id[TEMPLATE_ID_MAX + 1], field[64];
	const char *dot = memchr(name, '.', len);
	size_t idn = dot ? (size_t)(dot - name) : len;
	size_t fn = dot ? len - idn - 1 : strlen(ps->field);
	if (idn == 0 || idn > TEMPLATE_ID_MAX || fn == 0 || fn >= sizeof field)
		return NULL;
	memcpy(id, name, idn);
	id[idn] = '\0';
	memcpy(field, dot ? dot + 1 : ps->field, fn);
	field[fn] = '\0';
	if (!slug_valid(id, TEMPLATE_ID_MAX))
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

/* What to do with each Liquid source of a body. */
struct liquid_run {
	struct tpl_opts po;
	int render; /* 0: parse only (save); 1: also render (preview) */
	json_t *data;
	struct tpl_render_opts ro;
	struct partial_src ps;
	json_t *used, *missing, *unknown_filters; /* sets, in order of first use */
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

/* A template error as the API reports it: the engine's message and slug,
 * the body path as the field; always 422 for a preview's render. */
static int liquid_error(struct cairn_err *err, const struct cairn_err *te, const char *path, int force_unproc)
{
	return cairn_err_set(err, force_unproc ? CAIRN_EUNPROC : te->code, te->slug[0] ? te->slug : "template_error",
			     path, "%s", te->message);
}

/* Parses (and for a preview renders) one source at path. Returns the
 * rendered JSON string, json_null() when only parsing, or NULL with err. */
static json_t *liquid_source(struct liquid_run *lr, const char *path, const char *top_key, json_t *src,
			     struct cairn_err *err)
{
	if (!json_is_string(src)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path, "%s must be a string of Liquid, not %s.", path,
			      jsonx_type_name(src));
		return NULL;
	}
	struct cairn_err te = CAIRN_ERR_INIT;
	struct tpl *t = tpl_parse(json_string_value(src), json_string_length(src), &lr->po, &te);
	if (!t) {
		liquid_error(err, &te, path, lr->render);
		return NULL;
	}
	if (!lr->render) {
		tpl_free(t);
		return json_null();
	}
	lr->ps.field = top_key;
	struct tpl_cache *cache = tpl_cache_new(partial_source, &lr->ps, &lr->po);
	struct tpl_render_opts ro = lr->ro;
	ro.partial = tpl_cache_partial;
	ro.partial_ud = cache;
	struct buf out;
	buf_init(&out, BUF_MAX_RENDER);
	json_t *rendered = NULL;
	if (tpl_render(t, lr->data, &ro, &out, &te) < 0) {
		liquid_error(err, &te, path, 1);
	} else {
		rendered = json_stringn(out.ptr, out.len);
		if (!rendered)
			cairn_err_set(err, CAIRN_EUNPROC, "template_error", path,
				      "%s renders to bytes that are not UTF-8 text (a base64_decode of binary data?).",
				      path);
	}
	if (rendered) {
		json_t *v = tpl_validate(t, lr->data);
		add_unique(lr->used, json_object_get(v, "variables"));
		add_unique(lr->missing, json_object_get(v, "unknown_variables"));
		add_unique(lr->unknown_filters, json_object_get(v, "unknown_filters"));
		json_decref(v);
	}
	buf_release(&out);
	tpl_cache_free(cache);
	tpl_free(t);
	return rendered;
}

/* Sets key of out (when rendering) to v; takes v. */
static void put(json_t *out, const char *key, json_t *v)
{
	if (out)
		json_object_set_new(out, key, v);
	else
		json_decref(v);
}

static int run_buttons(struct liquid_run *lr, json_t *buttons, json_t *out, struct cairn_err *err)
{
	if (!json_is_array(buttons) || json_array_size(buttons) > KAKAO_MAX_BUTTONS)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "body.buttons",
				     "body.buttons must be a list of at most %d buttons, each an object such as "
				     "{\"name\":\"주문 조회\",\"type\":\"WL\",\"url_mobile\":\"https://…\"}.",
				     KAKAO_MAX_BUTTONS);
	size_t i;
	json_t *b;
	json_array_foreach (buttons, i, b) {
		char path[160];
		snprintf(path, sizeof path, "body.buttons[%zu]", i);
		if (!json_is_object(b))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path, "%s must be an object, not %s.",
					     path, jsonx_type_name(b));
		json_t *name = json_object_get(b, "name");
		if (!json_is_string(name) || json_string_length(name) == 0) {
			snprintf(path, sizeof path, "body.buttons[%zu].name", i);
			return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", path,
					     "Each Kakao button needs a name (%s).", path);
		}
		json_t *rb = out ? json_object() : NULL;
		const char *k;
		json_t *v;
		json_object_foreach (b, k, v) {
			snprintf(path, sizeof path, "body.buttons[%zu].%s", i, k);
			json_t *r = liquid_source(lr, path, "buttons", v, err);
			if (!r) {
				json_decref(rb);
				return CAIRN_EUNPROC;
			}
			put(rb, k, r);
		}
		if (out)
			json_array_append_new(out, rb);
	}
	return 0;
}

static int run_map(struct liquid_run *lr, const char *key, json_t *map, json_t *out, struct cairn_err *err)
{
	char path[160];
	snprintf(path, sizeof path, "body.%s", key);
	if (!json_is_object(map))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path,
				     "%s must be an object of strings (Liquid), not %s.", path, jsonx_type_name(map));
	const char *k;
	json_t *v;
	json_object_foreach (map, k, v) {
		snprintf(path, sizeof path, "body.%s.%s", key, k);
		json_t *r = liquid_source(lr, path, key, v, err);
		if (!r)
			return CAIRN_EUNPROC;
		put(out, k, r);
	}
	return 0;
}

/* A required field is missing when absent, null or "". */
static int absent(json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* Checks body against ch and runs lr over each source. *norm (OUT) is the
 * body as stored: the channel's keys in table order, nulls dropped.
 * require 0 skips the required-field checks (a draft's live preview).
 * rendered (may be NULL) receives the rendered body. */
static int run_body(const struct channel_def *ch, json_t *body, int require, struct liquid_run *lr, json_t **norm,
		    json_t *rendered, struct cairn_err *err)
{
	char path[160];
	*norm = NULL;
	if (!json_is_object(body))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "body",
				     "body must be an object of Liquid sources, not %s.", jsonx_type_name(body));
	const char *k;
	json_t *v;
	json_object_foreach (body, k, v) {
		if (field_find(ch, k))
			continue;
		char list[160];
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
	json_t *n = json_object();
	for (const struct body_field *f = ch->fields; f->key; f++) {
		v = json_object_get(body, f->key);
		if (!v || json_is_null(v))
			continue;
		snprintf(path, sizeof path, "body.%s", f->key);
		int rc = 0;
		if (f->kind == FK_TEXT) {
			json_t *r = liquid_source(lr, path, f->key, v, err);
			if (!r)
				rc = CAIRN_EUNPROC;
			else
				put(rendered, f->key, r);
		} else if (f->kind == FK_BUTTONS) {
			json_t *rb = rendered ? json_array() : NULL;
			rc = run_buttons(lr, v, rb, err);
			put(rendered, f->key, rb ? rb : json_null());
		} else {
			json_t *rm = rendered ? json_object() : NULL;
			rc = run_map(lr, f->key, v, rm, err);
			put(rendered, f->key, rm ? rm : json_null());
		}
		if (rc < 0) {
			json_decref(n);
			return rc;
		}
		json_object_set(n, f->key, v);
	}
	*norm = n;
	return 0;
}

/* ---- JSON out --------------------------------------------------------------------- */

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A template (its latest version) as GET /api/v1/templates/{id} shows it. */
static json_t *template_json(const struct store_template *t)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:I}", "id", t->id, "name", t->name, "channel", t->channel, "locale",
			      opt_str(t->locale), "version", (json_int_t)t->version);
	if (t->body)
		json_object_set(o, "body", t->body);
	json_object_set_new(o, "created_at", jsonx_time(t->created_at));
	json_object_set_new(o, "updated_at", jsonx_time(t->updated_at));
	json_object_set_new(o, "archived_at", t->archived_at ? jsonx_time(t->archived_at) : json_null());
	return o;
}

/* One version as the versions endpoints show it. */
static json_t *version_json(const struct store_template *t)
{
	json_t *o = json_pack("{s:s,s:I,s:b,s:s,s:s,s:o}", "id", t->id, "version", (json_int_t)t->version, "latest",
			      t->version == t->latest_version, "name", t->name, "channel", t->channel, "locale",
			      opt_str(t->locale));
	if (t->body)
		json_object_set(o, "body", t->body);
	json_object_set_new(o, "created_at", jsonx_time(t->updated_at));
	return o;
}

static void send_page(struct http_request *r, struct store_template_page *p,
		      json_t *(*fn)(const struct store_template *))
{
	json_t *data = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(data, fn(&p->items[i]));
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor", opt_str(p->next_cursor));
	store_template_page_release(p);
	http_json(r, 200, out);
}

/* ---- requests ---------------------------------------------------------------------- */

/* The template id of the path; sends 404 when it cannot name a template. */
static const char *path_id(struct http_request *r)
{
	const char *id = http_param(r, 0);
	if (slug_valid(id, TEMPLATE_ID_MAX))
		return id;
	http_errorf(r, CAIRN_ENOTFOUND, "template_not_found", "", "No template '%s' in this workspace.", id ? id : "");
	return NULL;
}

/* ?include=body */
static int want_body(struct http_request *r)
{
	const char *inc = http_query(r, "include");
	return inc && !strcmp(inc, "body");
}

/* A draft being saved: fields borrowed from the request or the latest
 * version, body normalized (owned). */
struct draft {
	struct store_template_draft d;
	json_t *norm;
};

static void draft_release(struct draft *dr)
{
	json_decref(dr->norm);
	dr->norm = NULL;
}

/* Checks name, channel, locale and the body (parsing every source) and
 * fills dr->norm. */
static int draft_check(struct draft *dr, struct cairn_err *err)
{
	const char *name = dr->d.name;
	if (!name || !*name || utf8_chars(name) > TEMPLATE_NAME_MAX)
		return cairn_err_set(err, CAIRN_EUNPROC, name ? "invalid_field" : "missing_field", "name",
				     "name must be a string of 1 to %d characters, such as \"Welcome mail\".",
				     TEMPLATE_NAME_MAX);
	const struct channel_def *ch = channel_find(dr->d.channel);
	if (!ch)
		return cairn_err_set(err, CAIRN_EUNPROC, dr->d.channel ? "unknown_channel" : "missing_field", "channel",
				     "channel must be " CHANNEL_LIST "%s%s%s.", dr->d.channel ? ", not '" : "",
				     dr->d.channel ? dr->d.channel : "", dr->d.channel ? "'" : "");
	if (dr->d.locale && !valid_locale(dr->d.locale))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "locale",
				     "locale must be a language tag such as \"ko\" or \"ko-KR\", not '%s'.",
				     dr->d.locale);
	if (!dr->d.body)
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "body",
				     "body is required: an object of Liquid sources for the channel.");
	struct liquid_run lr = {.po = {.syntax = TPL_LAX}, .render = 0};
	return run_body(ch, dr->d.body, 1, &lr, &dr->norm, NULL, err);
}

/* Reads name, channel, locale, body of req into dr (borrowed). For a
 * field that must be a string but is not, err. */
static int draft_read(json_t *req, struct draft *dr, struct cairn_err *err)
{
	static const char *const str_keys[] = {"id", "name", "channel"};
	for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
		json_t *v = json_object_get(req, str_keys[i]);
		if (v && !json_is_string(v))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", str_keys[i],
					     "%s must be a string, not %s.", str_keys[i], jsonx_type_name(v));
	}
	json_t *loc = json_object_get(req, "locale");
	if (loc && !json_is_string(loc) && !json_is_null(loc))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "locale",
				     "locale must be a language tag such as \"ko-KR\", or null.");
	if (json_object_get(req, "id"))
		dr->d.id = jsonx_str(req, "id");
	if (json_object_get(req, "name"))
		dr->d.name = jsonx_str(req, "name");
	if (json_object_get(req, "channel"))
		dr->d.channel = jsonx_str(req, "channel");
	if (loc)
		dr->d.locale = json_is_string(loc) ? json_string_value(loc) : NULL;
	if (json_object_get(req, "body"))
		dr->d.body = json_object_get(req, "body");
	return 0;
}

/* ---- handlers ------------------------------------------------------------------------ */

void api_template_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	static const char *const allowed[] = {"id", "name", "channel", "locale", "body", NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	struct draft dr = {{0}, NULL};
	if (only_keys(req, allowed, "a template", &err) < 0 || draft_read(req, &dr, &err) < 0)
		goto fail;
	char id[TEMPLATE_ID_MAX + 1];
	int generated = !dr.d.id;
	if (!generated && !slug_valid(dr.d.id, TEMPLATE_ID_MAX)) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id",
			      "id must be 1 to %d lowercase letters, digits, '-' or '_', starting with a letter or "
			      "digit (like \"welcome-1\"); leave it out to have one made from the name.",
			      TEMPLATE_ID_MAX);
		goto fail;
	}
	if (draft_check(&dr, &err) < 0)
		goto fail;
	if (generated) {
		slug_from_name(dr.d.name, "", id, sizeof id);
		if (!id[0])
			snprintf(id, sizeof id, "template");
	} else {
		snprintf(id, sizeof id, "%s", dr.d.id);
	}
	struct store_template_draft sd = dr.d;
	sd.id = id;
	sd.body = dr.norm;
	struct store_template out;
	int rc = CAIRN_ECONFLICT;
	for (int attempt = 0; attempt < CREATE_ATTEMPTS && rc == CAIRN_ECONFLICT; attempt++) {
		if (attempt > 0) {
			cairn_err_clear(&err);
			slug_from_name(dr.d.name, "", id, sizeof id);
			if (!id[0])
				snprintf(id, sizeof id, "template");
			slug_add_suffix(id, sizeof id);
		}
		rc = store_template_create(a->st, http_workspace(r), &sd, !generated, clock_now_ms(), &out, &err);
		if (!generated)
			break;
	}
	if (rc < 0)
		goto fail;
	char loc[128];
	snprintf(loc, sizeof loc, "/api/v1/templates/%s", out.id);
	http_header_add(r, "Location", loc);
	http_json(r, 201, template_json(&out));
	store_template_release(&out);
	draft_release(&dr);
	json_decref(req);
	return;
fail:
	http_error(r, &err);
	draft_release(&dr);
	json_decref(req);
}

void api_template_get(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template t;
	if (store_template_get(a->st, http_workspace(r), id, 0, &t, &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, template_json(&t));
	store_template_release(&t);
}

void api_template_update(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	static const char *const allowed[] = {"id", "name", "channel", "locale", "body", "version", NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template latest = {0}, out = {0};
	struct draft dr = {{0}, NULL};
	int64_t expect = 0;
	json_t *jv = json_object_get(req, "version");
	if (only_keys(req, allowed, "a template", &err) < 0)
		goto fail;
	if (jv && positive_int(jv, &expect) < 0) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "version",
			      "version must be the whole number of the version you edited (from GET), such as 3.");
		goto fail;
	}
	const char *body_id = jsonx_str(req, "id");
	if (json_object_get(req, "id") && (!body_id || strcmp(body_id, id) != 0)) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id",
			      "A template's id cannot change; leave id out or send \"%s\".", id);
		goto fail;
	}
	int created = 0, rc = CAIRN_ECONFLICT;
	for (int attempt = 0; attempt < UPDATE_ATTEMPTS && rc == CAIRN_ECONFLICT; attempt++) {
		cairn_err_clear(&err);
		store_template_release(&latest);
		draft_release(&dr);
		if (store_template_get(a->st, http_workspace(r), id, 0, &latest, &err) < 0)
			goto fail;
		dr.d = (struct store_template_draft){.id = latest.id,
						     .name = latest.name,
						     .channel = latest.channel,
						     .locale = latest.locale,
						     .body = latest.body};
		if (draft_read(req, &dr, &err) < 0 || draft_check(&dr, &err) < 0)
			goto fail;
		struct store_template_draft sd = dr.d;
		sd.body = dr.norm;
		rc = store_template_update(a->st, http_workspace(r), &sd, expect ? expect : latest.version,
					   clock_now_ms(), &out, &created, &err);
		if (expect)
			break; /* the client named its version: a conflict is its to resolve */
	}
	if (rc < 0)
		goto fail;
	http_json(r, 200, template_json(&out));
	store_template_release(&out);
	store_template_release(&latest);
	draft_release(&dr);
	json_decref(req);
	return;
fail:
	http_error(r, &err);
	store_template_release(&latest);
	draft_release(&dr);
	json_decref(req);
}

void api_template_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template t;
	if (store_template_archive(a->st, http_workspace(r), id, clock_now_ms(), &t, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_decref(t.body);
	t.body = NULL;
	http_json(r, 200, template_json(&t));
	store_template_release(&t);
}

void api_templates_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	const char *channel = http_query(r, "channel");
	if (channel && !channel_find(channel)) {
		http_errorf(r, CAIRN_EINVAL, "unknown_channel", "channel",
			    "channel must be " CHANNEL_LIST ", not '%s'.", channel);
		return;
	}
	const char *archived = http_query(r, "archived");
	if (archived && strcmp(archived, "true") != 0 && strcmp(archived, "false") != 0) {
		http_errorf(r, CAIRN_EINVAL, "bad_query", "archived", "archived must be true or false, not '%s'.",
			    archived);
		return;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template_page p;
	if (store_templates_list(a->st, http_workspace(r), channel, archived && !strcmp(archived, "true"), want_body(r),
				 limit, http_query(r, "cursor"), &p, &err) < 0) {
		http_error(r, &err);
		return;
	}
	send_page(r, &p, template_json);
}

void api_template_versions(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template_page p;
	if (store_template_versions(a->st, http_workspace(r), id, want_body(r), limit, http_query(r, "cursor"), &p,
				    &err) < 0) {
		http_error(r, &err);
		return;
	}
	send_page(r, &p, version_json);
}

/* The {n} of .../versions/{n}: 0 and *v, or an error sent. */
static int path_version(struct http_request *r, int64_t *v)
{
	const char *s = http_param(r, 1);
	char *end;
	long long n = s ? strtoll(s, &end, 10) : 0;
	if (!s || end == s || *end || n < 1) {
		http_errorf(r, CAIRN_EINVAL, "bad_version", "version",
			    "The version in the path must be a whole number "
			    "from 1, not '%s'.",
			    s ? s : "");
		return -1;
	}
	*v = n;
	return 0;
}

void api_template_version(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	int64_t v;
	if (!id || path_version(r, &v) < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_template t;
	if (store_template_get(a->st, http_workspace(r), id, v, &t, &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, version_json(&t));
	store_template_release(&t);
}

/* ---- preview ------------------------------------------------------------------------- */

/* Builds the render data of a preview request (CONVENTIONS §6). NULL with
 * err on bad input or an unknown user. */
static json_t *preview_data(struct http_request *r, struct app *a, json_t *req, const char *channel, const char *id,
			    int64_t version, struct cairn_err *err)
{
	int64_t ws = http_workspace(r);
	json_t *jd = json_object_get(req, "data"), *ju = json_object_get(req, "user_id");
	json_t *je = json_object_get(req, "event");
	if (jd && !json_is_object(jd) && !json_is_null(jd)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "data",
			      "data must be an object of sample values, such as {\"user\":{\"first_name\":\"민수\"}}.");
		return NULL;
	}
	if (je && !json_is_object(je) && !json_is_null(je)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "event",
			      "event must be an object, such as {\"event\":\"Order Completed\",\"properties\":{…}}.");
		return NULL;
	}
	if (ju && (!json_is_string(ju) || json_string_length(ju) == 0)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "user_id",
			      "user_id must be a user or anonymous id.");
		return NULL;
	}
	json_t *data = json_is_object(jd) ? json_copy(jd) : json_object();
	if (ju) {
		/* see every event acknowledged before this request */
		engine_wait_applied(a->engine, store_log_head(a->st), 2000);
		json_t *user = store_template_user(a->st, ws, json_string_value(ju), err);
		if (!user) {
			json_decref(data);
			snprintf(err->field, sizeof err->field, "user_id");
			return NULL;
		}
		json_t *over = json_object_get(data, "user");
		if (json_is_object(over))
			json_object_update(user, over);
		json_object_set_new(data, "user", user);
	}
	if (json_is_object(je))
		json_object_set(data, "event", je);
	/* what sending provides, unless the sample data has its own */
	if (!json_object_get(data, "links")) {
		const char *host = http_header(r, "Host");
		char u[512], p[512];
		snprintf(u, sizeof u, "http://%s/unsubscribe/preview", host ? host : "localhost");
		snprintf(p, sizeof p, "http://%s/preferences/preview", host ? host : "localhost");
		json_object_set_new(data, "links", json_pack("{s:s,s:s}", "unsubscribe_url", u, "preferences_url", p));
	}
	if (!json_object_get(data, "message"))
		json_object_set_new(data, "message",
				    json_pack("{s:s,s:s,s:o,s:o}", "id", "preview", "channel", channel, "template_id",
					      opt_str(id), "template_version",
					      version ? json_integer((json_int_t)version) : json_null()));
	if (!json_object_get(data, "workspace")) {
		char *name = store_template_workspace_name(a->st, ws);
		json_object_set_new(data, "workspace", json_pack("{s:o}", "name", opt_str(name)));
		free(name);
	}
	return data;
}

/* Renders body for the preview request req and sends the answer. */
static void preview(struct http_request *r, struct app *a, json_t *req, const struct channel_def *ch, json_t *body,
		    int require, const char *id, int64_t version, const char *locale)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct liquid_run lr = {.po = {.syntax = TPL_LAX}, .render = 1};
	const char *mode = jsonx_str(req, "mode");
	json_t *jm = json_object_get(req, "mode");
	if (jm && (!mode || (strcmp(mode, "lax") != 0 && strcmp(mode, "strict") != 0))) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_field", "mode",
			    "mode must be \"lax\" (missing variables render empty and are listed) or \"strict\" "
			    "(they are errors).");
		return;
	}
	if (mode && !strcmp(mode, "strict")) {
		lr.po.syntax = TPL_STRICT;
		lr.ro.strict_variables = 1;
		lr.ro.strict_filters = 1;
	}
	json_t *jn = json_object_get(req, "now");
	if (jn && (!json_is_string(jn) || clock_parse_rfc3339(json_string_value(jn), &lr.ro.now_ms) < 0)) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_field", "now",
			    "now must be an RFC 3339 time such as \"2026-03-02T10:00:00+09:00\".");
		return;
	}
	lr.data = preview_data(r, a, req, ch->name, id, version, &err);
	if (!lr.data) {
		http_error(r, &err);
		return;
	}
	lr.ps = (struct partial_src){.st = a->st, .ws = http_workspace(r), .keep = json_array()};
	lr.used = json_array();
	lr.missing = json_array();
	lr.unknown_filters = json_array();
	json_t *rendered = json_object(), *norm = NULL;
	if (run_body(ch, body, require, &lr, &norm, rendered, &err) < 0) {
		http_error(r, &err);
	} else {
		json_t *tmpl = json_pack("{s:o,s:o,s:s,s:o}", "id", opt_str(id), "version",
					 version ? json_integer((json_int_t)version) : json_null(), "channel", ch->name,
					 "locale", opt_str(locale));
		json_t *out =
			json_pack("{s:o,s:O,s:{s:O,s:O},s:{s:O}}", "template", tmpl, "rendered", rendered, "variables",
				  "used", lr.used, "missing", lr.missing, "filters", "unknown", lr.unknown_filters);
		http_json(r, 200, out);
	}
	json_decref(norm);
	json_decref(rendered);
	json_decref(lr.used);
	json_decref(lr.missing);
	json_decref(lr.unknown_filters);
	json_decref(lr.ps.keep);
	json_decref(lr.data);
	/* The engine keeps a render pool per thread; HTTP pool threads never
	 * call the engine's cleanup on exit, so a preview (rare, not a hot
	 * path) gives its pool back now. */
	tpl_thread_cleanup();
}

void api_template_preview(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	static const char *const allowed[] = {"user_id", "data", "event", "version", "mode", "now", NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t version = 0;
	json_t *jv = json_object_get(req, "version");
	if (only_keys(req, allowed, "a preview request", &err) < 0) {
		http_error(r, &err);
		json_decref(req);
		return;
	}
	if (jv && positive_int(jv, &version) < 0) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_field", "version", "version must be a whole number from 1.");
		json_decref(req);
		return;
	}
	struct store_template t;
	if (store_template_get(a->st, http_workspace(r), id, version, &t, &err) < 0) {
		http_error(r, &err);
		json_decref(req);
		return;
	}
	const struct channel_def *ch = channel_find(t.channel);
	if (!ch)
		http_errorf(r, CAIRN_EIO, "storage_error", "", "Template '%s' has an unknown channel '%s'.", id,
			    t.channel);
	else
		preview(r, a, req, ch, t.body, 0, t.id, t.version, t.locale); /* checked when saved */
	store_template_release(&t);
	json_decref(req);
}

void api_template_preview_draft(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	/* id, name and version are accepted and ignored: an editor may send its
	 * whole form */
	static const char *const allowed[] = {"id",	 "name", "channel", "locale", "body", "version",
					      "user_id", "data", "event",   "mode",   "now",  NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *channel = jsonx_str(req, "channel");
	const struct channel_def *ch = channel_find(channel);
	json_t *loc = json_object_get(req, "locale");
	if (only_keys(req, allowed, "a preview request", &err) < 0) {
		http_error(r, &err);
	} else if (!ch) {
		http_errorf(r, CAIRN_EUNPROC, channel ? "unknown_channel" : "missing_field", "channel",
			    "channel must be " CHANNEL_LIST ".");
	} else if (!json_object_get(req, "body")) {
		http_errorf(r, CAIRN_EUNPROC, "missing_field", "body",
			    "body is required: the Liquid sources to preview.");
	} else {
		preview(r, a, req, ch, json_object_get(req, "body"), 0, NULL, 0,
			json_is_string(loc) ? json_string_value(loc) : NULL);
	}
	json_decref(req);
}
