/* api_templates.c — the templates resource: create, read, update (each save
 * a new immutable version), archive, versions, and preview.
 *
 * Design notes
 *  1. What a body is — its channel's shape, its Liquid, how it renders and
 *     resolves partials — is src/content/ (content.h); this file keeps the
 *     HTTP side: request fields, the template's own fields (id, name,
 *     locale), versions, and the JSON answers. A save checks the body with
 *     content_check and stores its normalized form; a preview renders with
 *     content_render_opts.
 *  2. PUT merges what the client omits from the latest version, validates
 *     the result and saves it with the version it read as the expected one;
 *     when another save slipped in between and the client named no version,
 *     it reads and merges again (bounded), so an omitted field is never
 *     written back stale.
 *  3. Preview data follows CONVENTIONS §6: `user` from the profile (traits
 *     as keys, id, tags, computed), then sample `data`, `event`, and what the
 *     system provides at send time when the data lacks it (`links`,
 *     `message`, `workspace`). */
#include <stdlib.h>
#include <string.h>

#include "api/api_templates.h"
#include "api/api.h"
#include "app/app.h"
#include "content/content.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "store/store_templates.h"
#include "template/tpl.h"

#define TEMPLATE_ID_MAX	    64
#define TEMPLATE_NAME_MAX   200
#define TEMPLATE_LOCALE_MAX 35
#define UPDATE_ATTEMPTS	    5
#define CREATE_ATTEMPTS	    5

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
	if (!content_channel_get(dr->d.channel, err))
		return CAIRN_EUNPROC;
	if (dr->d.locale && !valid_locale(dr->d.locale))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "locale",
				     "locale must be a language tag such as \"ko\" or \"ko-KR\", not '%s'.",
				     dr->d.locale);
	return content_check(dr->d.channel, dr->d.body, 1, &dr->norm, err);
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
	if (api_only_keys(req, allowed, "a template", &err) < 0 || draft_read(req, &dr, &err) < 0)
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
	if (api_only_keys(req, allowed, "a template", &err) < 0)
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
	if (channel && !content_channel_find(channel)) {
		http_errorf(r, CAIRN_EINVAL, "unknown_channel", "channel",
			    "channel must be " CONTENT_CHANNEL_LIST ", not '%s'.", channel);
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

/* Renders body (of a known channel) for the preview request req and sends
 * the answer. */
static void preview(struct http_request *r, struct app *a, json_t *req, const char *channel, json_t *body,
		    const char *id, int64_t version, const char *locale)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct content_opts opts = {0};
	const char *mode = jsonx_str(req, "mode");
	json_t *jm = json_object_get(req, "mode");
	if (jm && (!mode || (strcmp(mode, "lax") != 0 && strcmp(mode, "strict") != 0))) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_field", "mode",
			    "mode must be \"lax\" (missing variables render empty and are listed) or \"strict\" "
			    "(they are errors).");
		return;
	}
	opts.strict = mode && !strcmp(mode, "strict");
	json_t *jn = json_object_get(req, "now");
	if (jn && (!json_is_string(jn) || clock_parse_rfc3339(json_string_value(jn), &opts.now_ms) < 0)) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_field", "now",
			    "now must be an RFC 3339 time such as \"2026-03-02T10:00:00+09:00\".");
		return;
	}
	json_t *data = preview_data(r, a, req, channel, id, version, &err);
	if (!data) {
		http_error(r, &err);
		return;
	}
	json_t *rendered;
	struct content_report rep;
	if (content_render_opts(a->st, http_workspace(r), channel, body, data, &opts, &rendered, &rep, &err) < 0) {
		http_error(r, &err);
	} else {
		json_t *tmpl = json_pack("{s:o,s:o,s:s,s:o}", "id", opt_str(id), "version",
					 version ? json_integer((json_int_t)version) : json_null(), "channel", channel,
					 "locale", opt_str(locale));
		json_t *out =
			json_pack("{s:o,s:o,s:{s:O,s:O},s:{s:O}}", "template", tmpl, "rendered", rendered, "variables",
				  "used", rep.used, "missing", rep.missing, "filters", "unknown", rep.unknown_filters);
		http_json(r, 200, out);
		content_report_release(&rep);
	}
	json_decref(data);
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
	if (api_only_keys(req, allowed, "a preview request", &err) < 0) {
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
	if (!content_channel_find(t.channel))
		http_errorf(r, CAIRN_EIO, "storage_error", "", "Template '%s' has an unknown channel '%s'.", id,
			    t.channel);
	else
		preview(r, a, req, t.channel, t.body, t.id, t.version, t.locale); /* checked when saved */
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
	const struct content_channel *ch = content_channel_find(channel);
	json_t *loc = json_object_get(req, "locale");
	if (api_only_keys(req, allowed, "a preview request", &err) < 0) {
		http_error(r, &err);
	} else if (!ch) {
		http_errorf(r, CAIRN_EUNPROC, channel ? "unknown_channel" : "missing_field", "channel",
			    "channel must be " CONTENT_CHANNEL_LIST ".");
	} else if (!json_object_get(req, "body")) {
		http_errorf(r, CAIRN_EUNPROC, "missing_field", "body",
			    "body is required: the Liquid sources to preview.");
	} else {
		preview(r, a, req, ch->name, json_object_get(req, "body"), NULL, 0,
			json_is_string(loc) ? json_string_value(loc) : NULL);
	}
	json_decref(req);
}
