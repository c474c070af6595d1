/* api_journeys.c — the journeys resource, messages and settings
 * (api_journeys.h). Definitions are parsed by journey/journey.h, published
 * and run by journey/journey_engine.h, simulated by journey_sim.h; this file
 * checks requests and shapes responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_journeys.h"
#include "app/app.h"
#include "content/content.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "deliver/dispatch.h"
#include "ingest/ingest.h"
#include "journey/journey.h"
#include "journey/journey_engine.h"
#include "journey/journey_sim.h"
#include "store/store_journey.h"
#include "store/store_seg_live.h"

#define JOURNEY_ID_MAX	 64
#define JOURNEY_NAME_MAX 200
#define CREATE_ATTEMPTS	 5
#define ENROLL_CHUNK	 500
#define HISTORY_LIMIT	 500

static const char *path_id(struct http_request *r)
{
	const char *id = http_param(r, 0);
	if (slug_valid(id, JOURNEY_ID_MAX))
		return id;
	http_errorf(r, CAIRN_ENOTFOUND, "journey_not_found", "", "No journey '%s' in this workspace.", id ? id : "");
	return NULL;
}

/* Parses a definition (the request's "definition"); NULL with err. The
 * normalized text (OUT, caller frees) is what is stored. */
static struct jny_def *read_definition(json_t *req, int optional, char **text, struct cairn_err *err)
{
	*text = NULL;
	json_t *dj = json_object_get(req, "definition");
	if (!dj) {
		if (!optional)
			cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "definition",
				      "definition is required: a journey definition (docs/journeys.md).");
		return NULL;
	}
	/* the resource's name stands in for a definition without one */
	if (json_is_object(dj) && !json_object_get(dj, "name") && json_is_string(json_object_get(req, "name")))
		json_object_set(dj, "name", json_object_get(req, "name"));
	struct cairn_err e = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(dj, &e);
	if (!d) {
		/* the paths are the definition's: prefix them with the request's */
		char field[sizeof e.field + 16];
		snprintf(field, sizeof field, "definition%s%.*s", e.field[0] ? "." : "", (int)sizeof e.field - 12,
			 e.field);
		cairn_err_set(err, e.code, e.slug, field, "%s", e.message);
		return NULL;
	}
	json_t *norm = jny_to_json(d);
	*text = json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(norm);
	return d;
}

static int read_name(json_t *req, const struct jny_def *d, int optional, const char **name, struct cairn_err *err)
{
	json_t *v = json_object_get(req, "name");
	if (!v) {
		*name = d && d->name ? d->name : NULL;
		if (*name || optional)
			return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > JOURNEY_NAME_MAX * 4)
		return cairn_err_set(err, CAIRN_EUNPROC, v ? "invalid_field" : "missing_field", "name",
				     "name must be a string of 1 to %d characters, such as \"Welcome series\".",
				     JOURNEY_NAME_MAX);
	*name = json_string_value(v);
	return 0;
}

static json_t *journey_json(const struct store_journey *j, int with_draft)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:o}", "id", j->id, "name", j->name, "status", j->status,
			      "draft_rev", (json_int_t)j->draft_rev, "live_version", (json_int_t)j->live_version,
			      "created_at", jsonx_time(j->created_at), "updated_at", jsonx_time(j->updated_at));
	if (with_draft) {
		json_t *draft = jsonx_loadb(j->draft, strlen(j->draft), 0, NULL);
		json_object_set_new(o, "definition", draft ? draft : json_null());
	}
	return o;
}

static void send_journey(struct http_request *r, struct app *a, int status, const char *id)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_journey j;
	if (store_journey_get(a->st, http_workspace(r), id, &j, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *o = journey_json(&j, 1);
	json_t *versions = NULL;
	json_t *stats = store_jny_stats_json(a->st, http_workspace(r), id, &versions, &err);
	json_decref(versions);
	json_object_set_new(o, "stats", stats ? stats : json_object());
	store_journey_release(&j);
	http_json(r, status, o);
}

void api_journey_create(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"id", "name", "definition", NULL};
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r);
	char *text = NULL;
	struct jny_def *d = NULL;
	const char *name = NULL;
	json_t *idj = json_object_get(req, "id");
	char id[JOURNEY_ID_MAX + 1];
	if (api_only_keys(req, allowed, "a journey", &err) < 0)
		goto fail;
	if (idj && (!json_is_string(idj) || !slug_valid(json_string_value(idj), JOURNEY_ID_MAX))) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id",
			      "id must be 1 to %d lowercase letters, digits, '-' or '_' (like \"welcome-series\"); "
			      "leave it out to have one made from the name.",
			      JOURNEY_ID_MAX);
		goto fail;
	}
	d = read_definition(req, 0, &text, &err);
	if (!d || read_name(req, d, 0, &name, &err) < 0)
		goto fail;
	if (idj)
		snprintf(id, sizeof id, "%s", json_string_value(idj));
	else
		slug_from_name(name, "journey", id, sizeof id);
	int rc = CAIRN_ECONFLICT;
	for (int attempt = 0; attempt < CREATE_ATTEMPTS && rc == CAIRN_ECONFLICT; attempt++) {
		if (attempt > 0) {
			cairn_err_clear(&err);
			slug_from_name(name, "journey", id, sizeof id);
			slug_add_suffix(id, sizeof id);
		}
		rc = store_journey_create(a->st, ws, id, name, text, clock_now_ms(), &err);
		if (idj)
			break;
	}
	if (rc < 0)
		goto fail;
	char loc[128];
	snprintf(loc, sizeof loc, "/api/v1/journeys/%s", id);
	http_header_add(r, "Location", loc);
	send_journey(r, a, 201, id);
	goto out;
fail:
	http_error(r, &err);
out:
	jny_free(d);
	free(text);
	json_decref(req);
}

void api_journey_update(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"id", "name", "definition", "draft_rev", NULL};
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r);
	char *text = NULL;
	struct jny_def *d = NULL;
	const char *name = NULL;
	struct store_journey cur = {0};
	json_t *rev = json_object_get(req, "draft_rev"), *idj = json_object_get(req, "id");
	if (api_only_keys(req, allowed, "a journey", &err) < 0)
		goto fail;
	if (idj && !(json_is_string(idj) && !strcmp(json_string_value(idj), id))) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id", "id cannot change; leave it out or send '%s'.",
			      id);
		goto fail;
	}
	if (rev && (!json_is_integer(rev) || json_integer_value(rev) < 1)) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "draft_rev",
			      "draft_rev must be the draft_rev you read (a positive integer).");
		goto fail;
	}
	if (store_journey_get(a->st, ws, id, &cur, &err) < 0)
		goto fail;
	if (json_object_get(req, "definition") && !(d = read_definition(req, 0, &text, &err)))
		goto fail;
	if (read_name(req, d, 1, &name, &err) < 0)
		goto fail;
	int64_t newrev;
	if (store_journey_save_draft(a->st, ws, id, name ? name : cur.name, text ? text : cur.draft,
				     rev ? json_integer_value(rev) : 0, clock_now_ms(), &newrev, &err) < 0)
		goto fail;
	send_journey(r, a, 200, id);
	goto out;
fail:
	http_error(r, &err);
out:
	store_journey_release(&cur);
	jny_free(d);
	free(text);
	json_decref(req);
}

void api_journey_get(struct http_request *r, void *app)
{
	const char *id = path_id(r);
	if (!id)
		return;
	api_read_barrier(app);
	send_journey(r, app, 200, id);
}

void api_journeys_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	const char *arch = http_query(r, "archived");
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_journey_page p;
	if (store_journey_list(a->st, http_workspace(r), arch && !strcmp(arch, "1"), limit, http_query(r, "cursor"), &p,
			       &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *data = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(data, journey_json(&p.items[i], 0));
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor",
				p.next_cursor ? json_string(p.next_cursor) : json_null());
	store_journey_page_release(&p);
	http_json(r, 200, out);
}

static void set_status(struct http_request *r, struct app *a, const char *action)
{
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	api_read_barrier(a);
	if (jny_set_status(a->st, http_workspace(r), id, action, clock_now_ms(), &err) < 0) {
		http_error(r, &err);
		return;
	}
	send_journey(r, a, 200, id);
}

void api_journey_delete(struct http_request *r, void *app)
{
	set_status(r, app, "archive");
}
void api_journey_pause(struct http_request *r, void *app)
{
	set_status(r, app, "pause");
}
void api_journey_resume(struct http_request *r, void *app)
{
	set_status(r, app, "resume");
}
void api_journey_restore(struct http_request *r, void *app)
{
	set_status(r, app, "restore");
}

/* ---- publish and validate ------------------------------------------------------------ */

/* Which nodes and top-level fields differ between two normalized definitions. */
static json_t *definition_diff(const json_t *old, const json_t *cur)
{
	json_t *added = json_array(), *removed = json_array(), *changed = json_array(), *fields = json_array();
	const json_t *on = json_object_get(old, "nodes"), *cn = json_object_get(cur, "nodes");
	size_t i, k;
	json_t *n, *m;
	json_array_foreach (cn, i, n) {
		const char *id = jsonx_str(n, "id");
		json_t *match = NULL;
		json_array_foreach (on, k, m)
			if (id && jsonx_str(m, "id") && !strcmp(id, jsonx_str(m, "id")))
				match = m;
		if (!match)
			json_array_append_new(added, json_string(id ? id : ""));
		else if (!json_equal(match, n))
			json_array_append_new(changed, json_string(id));
	}
	json_array_foreach (on, k, m) {
		const char *id = jsonx_str(m, "id");
		int found = 0;
		json_array_foreach (cn, i, n)
			found |= id && jsonx_str(n, "id") && !strcmp(id, jsonx_str(n, "id"));
		if (!found)
			json_array_append_new(removed, json_string(id ? id : ""));
	}
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)cur, key, v)
		if (strcmp(key, "nodes") && !json_equal(v, json_object_get(old, key)))
			json_array_append_new(fields, json_string(key));
	json_object_foreach ((json_t *)old, key, v)
		if (strcmp(key, "nodes") && !json_object_get(cur, key))
			json_array_append_new(fields, json_string(key));
	return json_pack("{s:o,s:o,s:o,s:o}", "nodes_added", added, "nodes_removed", removed, "nodes_changed", changed,
			 "fields_changed", fields);
}

static json_t *load_version_json(struct app *a, int64_t ws, const char *id, int64_t v)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	char *text = v > 0 ? store_journey_version(a->st, ws, id, v, NULL, &err) : NULL;
	json_t *j = text ? jsonx_loadb(text, strlen(text), 0, NULL) : NULL;
	free(text);
	return j;
}

void api_journey_publish(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	int64_t ws = http_workspace(r), version = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_problems probs;
	api_read_barrier(a);
	int rc = jny_publish(a->st, ws, id, clock_now_ms(), &version, &probs, &err);
	if (rc < 0 && probs.n) {
		http_json(r, 422, jny_problems_json(&probs));
		jny_problems_release(&probs);
		return;
	}
	jny_problems_release(&probs);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	json_t *prev = load_version_json(a, ws, id, version - 1), *cur = load_version_json(a, ws, id, version);
	json_t *diff = prev ? definition_diff(prev, cur) : json_null();
	json_decref(prev);
	json_decref(cur);
	http_json(r, 200,
		  json_pack("{s:s,s:I,s:s,s:o}", "id", id, "version", (json_int_t)version, "status", "live", "diff",
			    diff));
}

void api_journey_validate(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r);
	struct store_journey j = {0};
	char *text = NULL;
	json_t *dj = json_object_get(req, "definition");
	struct jny_def *d = NULL;
	if (!dj) {
		if (store_journey_get(a->st, ws, id, &j, &err) < 0)
			goto fail;
		json_t *draft = jsonx_loadb(j.draft, strlen(j.draft), 0, NULL);
		json_object_set_new(req, "definition", draft ? draft : json_object());
	}
	d = read_definition(req, 0, &text, &err);
	if (!d)
		goto fail;
	struct jny_problems probs;
	/* the same checks as publish, without publishing */
	if (jny_check_in(a->st, ws, d, &probs, &err) < 0)
		goto fail;
	json_t *body = jny_problems_json(&probs);
	json_t *list = json_object_get(json_object_get(body, "error"), "problems");
	size_t i;
	json_t *pr;
	json_array_foreach (list, i, pr) { /* a definition sent: paths within this request, like parse errors */
		if (!dj)
			break;
		const char *f = jsonx_str(pr, "field");
		char buf[300];
		snprintf(buf, sizeof buf, "definition%s%.280s", f && *f ? "." : "", f ? f : "");
		json_object_set_new(pr, "field", json_string(buf));
	}
	json_t *out = json_pack("{s:b,s:O}", "ok", probs.n == 0, "problems", list ? list : json_array());
	json_decref(body);
	jny_problems_release(&probs);
	http_json(r, 200, out);
	goto out;
fail:
	http_error(r, &err);
out:
	store_journey_release(&j);
	jny_free(d);
	free(text);
	json_decref(req);
}

void api_journey_migrate(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t moved, exited;
	api_read_barrier(a);
	if (jny_migrate(a->st, http_workspace(r), id, clock_now_ms(), &moved, &exited, &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200,
		  json_pack("{s:s,s:I,s:I}", "id", id, "moved", (json_int_t)moved, "exited", (json_int_t)exited));
}

/* ---- versions, graph, stats ----------------------------------------------------------- */

void api_journey_versions(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_journey j;
	if (store_journey_get(a->st, http_workspace(r), id, &j, &err) < 0) {
		http_error(r, &err);
		return;
	}
	store_journey_release(&j);
	json_t *v = store_journey_versions_json(a->st, http_workspace(r), id, &err);
	if (!v) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o,s:n}", "data", v, "next_cursor"));
}

/* ?version= or the path's version: 0 = live; -1 after sending 4xx. */
static int64_t version_arg(struct http_request *r, const char *s)
{
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 0) {
		http_errorf(r, CAIRN_EINVAL, "invalid_version", "version",
			    "version must be a positive integer (a published version).");
		return -1;
	}
	return v;
}

void api_journey_version(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	int64_t v = version_arg(r, http_param(r, 1));
	if (v < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t at = 0;
	char *text = store_journey_version(a->st, http_workspace(r), id, v, &at, &err);
	if (!text) {
		http_error(r, &err);
		return;
	}
	json_t *def = jsonx_loadb(text, strlen(text), 0, NULL);
	free(text);
	http_json(r, 200,
		  json_pack("{s:s,s:I,s:o,s:o}", "id", id, "version", (json_int_t)v, "published_at", jsonx_time(at),
			    "definition", def ? def : json_null()));
}

/* The definition a request names: ?version=N, else the live one, else the
 * draft (draft = 1 forces the draft). */
static struct jny_def *pick_definition(struct http_request *r, struct app *a, const char *id, int64_t version,
				       int draft, int64_t *used_version, struct cairn_err *err)
{
	int64_t ws = http_workspace(r);
	*used_version = 0;
	struct store_journey j;
	if (store_journey_get(a->st, ws, id, &j, err) < 0)
		return NULL;
	struct jny_def *d = NULL;
	if (!draft && (version > 0 || j.live_version > 0)) {
		*used_version = version > 0 ? version : j.live_version;
		d = jny_load(a->st, ws, id, *used_version, err);
	} else {
		json_t *dj = jsonx_loadb(j.draft, strlen(j.draft), 0, NULL);
		d = dj ? jny_parse(dj, err) : NULL;
		json_decref(dj);
	}
	store_journey_release(&j);
	return d;
}

void api_journey_graph(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	const char *fmt = http_query(r, "format");
	if (fmt && strcmp(fmt, "dot") && strcmp(fmt, "mermaid")) {
		http_errorf(r, CAIRN_EINVAL, "invalid_format", "format", "format must be \"dot\" or \"mermaid\".");
		return;
	}
	int64_t v = version_arg(r, http_query(r, "version")), used;
	if (v < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *dq = http_query(r, "draft");
	struct jny_def *d = pick_definition(r, a, id, v, dq && !strcmp(dq, "1"), &used, &err);
	if (!d) {
		http_error(r, &err);
		return;
	}
	struct buf out;
	buf_init(&out, BUF_MAX_RESPONSE);
	int mermaid = fmt && !strcmp(fmt, "mermaid");
	jny_graph(d, mermaid ? JNY_GRAPH_MERMAID : JNY_GRAPH_DOT, NULL, &out);
	http_text(r, 200, mermaid ? "text/plain; charset=utf-8" : "text/vnd.graphviz; charset=utf-8", out.ptr, out.len);
	buf_release(&out);
	jny_free(d);
}

void api_journey_stats(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_journey j;
	if (store_journey_get(a->st, http_workspace(r), id, &j, &err) < 0) {
		http_error(r, &err);
		return;
	}
	store_journey_release(&j);
	json_t *versions = NULL;
	json_t *s = store_jny_stats_json(a->st, http_workspace(r), id, &versions, &err);
	if (!s) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:s,s:o,s:o}", "id", id, "nodes", s, "versions", versions));
}

/* ---- simulation and saved tests ----------------------------------------------------------- */

/* Runs a simulation for req ({"user","events","start"?,"version"?,
 * "definition"?, "draft"?}); the result, or NULL with err. */
static json_t *simulate(struct http_request *r, struct app *a, const char *id, json_t *req, int64_t *used_version,
			struct cairn_err *err)
{
	static const char *const allowed[] = {"user",	    "events", "start", "version",
					      "definition", "draft",  "name",  NULL};
	if (api_only_keys(req, allowed, "a simulation", err) < 0)
		return NULL;
	int64_t start = 0;
	const char *s = jsonx_str(req, "start");
	if (json_object_get(req, "start") && (!s || clock_parse_rfc3339(s, &start) < 0)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "start",
			      "start must be an RFC 3339 time such as \"2026-03-02T10:00:00+09:00\".");
		return NULL;
	}
	json_t *vj = json_object_get(req, "version");
	if (vj && (!json_is_integer(vj) || json_integer_value(vj) < 1)) {
		cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "version",
			      "version must be a published version number.");
		return NULL;
	}
	struct jny_def *d;
	char *text = NULL;
	*used_version = 0;
	if (json_object_get(req, "definition"))
		d = read_definition(req, 0, &text, err);
	else
		d = pick_definition(r, a, id, vj ? json_integer_value(vj) : 0,
				    json_is_true(json_object_get(req, "draft")), used_version, err);
	free(text);
	if (!d)
		return NULL;
	struct jny_sim_opts o = {a->st, http_workspace(r), id, start, 0};
	json_t *res = jny_simulate(d, json_object_get(req, "user"), json_object_get(req, "events"), &o, err);
	jny_free(d);
	return res;
}

void api_journey_simulate(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t v;
	json_t *res = simulate(r, a, id, req, &v, &err);
	json_decref(req);
	if (!res) {
		http_error(r, &err);
		return;
	}
	if (v)
		json_object_set_new(res, "version", json_integer(v));
	const char *fmt = http_query(r, "format");
	if (fmt && !strcmp(fmt, "text")) {
		char *t = jny_sim_text(res);
		http_text(r, 200, "text/plain; charset=utf-8", t, strlen(t));
		free(t);
		json_decref(res);
		return;
	}
	http_json(r, 200, res);
}

void api_journey_test_save(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *name = jsonx_str(req, "name");
	int64_t v = 0;
	json_t *res = NULL;
	if (!name || !*name || strlen(name) > 200) {
		cairn_err_set(&err, CAIRN_EUNPROC, "missing_field", "name",
			      "name is required: what this case checks, such as \"clicks on day 2\".");
		goto fail;
	}
	if (json_object_get(req, "definition") || json_object_get(req, "draft")) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "definition",
			      "A saved test runs against the live version; publish first, then save the test.");
		goto fail;
	}
	res = simulate(r, a, id, req, &v, &err);
	if (!res)
		goto fail;
	if (!v) {
		cairn_err_set(&err, CAIRN_ECONFLICT, "not_published", "",
			      "Journey '%s' has no published version to test; publish it first.", id);
		goto fail;
	}
	json_t *input = json_pack("{s:O*,s:O*,s:O*}", "user", json_object_get(req, "user"), "events",
				  json_object_get(req, "events"), "start", json_object_get(req, "start"));
	char *in_text = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS);
	char *out_text = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(input);
	int rc = store_journey_test_put(a->st, http_workspace(r), id, name, in_text, out_text, v, clock_now_ms(), &err);
	free(in_text);
	free(out_text);
	if (rc < 0)
		goto fail;
	http_json(r, 201, json_pack("{s:s,s:I,s:o}", "name", name, "version", (json_int_t)v, "result", res));
	json_decref(req);
	return;
fail:
	json_decref(res);
	json_decref(req);
	http_error(r, &err);
}

static int test_row(void *arg, int64_t ws, const char *journey_id, const char *name, const char *input,
		    const char *expected, int64_t version)
{
	(void)ws, (void)journey_id;
	json_t *in = jsonx_loadb(input, strlen(input), 0, NULL), *ex = jsonx_loadb(expected, strlen(expected), 0, NULL);
	json_array_append_new(arg, json_pack("{s:s,s:I,s:o,s:o}", "name", name, "version", (json_int_t)version, "input",
					     in ? in : json_null(), "expected", ex ? ex : json_null()));
	return 0;
}

void api_journey_tests(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *list = json_array();
	if (store_journey_tests(a->st, http_workspace(r), id, test_row, list, &err) < 0) {
		json_decref(list);
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o,s:n}", "data", list, "next_cursor"));
}

/* ---- enrolment -------------------------------------------------------------------------- */

struct members {
	char **ids;
	size_t n, cap;
};

static int member_row(const char *id, int64_t entered_at, void *arg)
{
	(void)entered_at;
	struct members *m = arg;
	xgrow((void **)&m->ids, &m->cap, m->n + 1, sizeof *m->ids);
	m->ids[m->n++] = xstrdup(id);
	return 0;
}

/* Appends one "enroll" message per known user (through the log: in order
 * with the user's other events). Ids that name no user or anonymous id go
 * to unknown (never a new profile). */
static int enroll_ids(struct app *a, int64_t ws, const char *journey, const struct members *m, int64_t *enrolled,
		      json_t *unknown, struct cairn_err *err)
{
	*enrolled = 0;
	for (size_t off = 0; off < m->n; off += ENROLL_CHUNK) {
		struct ingest_batch all;
		memset(&all, 0, sizeof all);
		size_t end = off + ENROLL_CHUNK < m->n ? off + ENROLL_CHUNK : m->n;
		for (size_t i = off; i < end; i++) {
			int64_t pid;
			const char *id = m->ids[i];
			int is_user = store_identity_find(a->st, ws, STORE_ID_USER, id, &pid) == 0;
			if (!is_user && store_identity_find(a->st, ws, STORE_ID_ANON, id, &pid) < 0) {
				if (json_array_size(unknown) < 20)
					json_array_append_new(unknown, json_string(id));
				continue;
			}
			struct ingest_batch one;
			ingest_internal_message("enroll", is_user ? id : NULL, is_user ? NULL : id,
						json_pack("{s:s}", "journey_id", journey), clock_now_ms(), &one);
			ingest_batch_take(&all, &one);
		}
		int rc = all.n ? app_append(a, &all, ws, err) : 0;
		*enrolled += (int64_t)all.n;
		ingest_batch_release(&all);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void api_journey_enroll(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"user_id", "user_ids", "segment", NULL};
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r), enrolled = 0;
	struct members m = {0};
	struct store_journey j = {0};
	json_t *unknown = json_array();
	if (api_only_keys(req, allowed, "an enrolment", &err) < 0 || store_journey_get(a->st, ws, id, &j, &err) < 0)
		goto fail;
	if (strcmp(j.status, "live")) {
		cairn_err_set(&err, CAIRN_ECONFLICT, "journey_not_live", "",
			      "Journey '%s' is %s; only a live journey takes users. Publish or resume it first.", id,
			      j.status);
		goto fail;
	}
	json_t *one = json_object_get(req, "user_id"), *many = json_object_get(req, "user_ids");
	const char *seg = jsonx_str(req, "segment");
	api_read_barrier(a);
	if (json_is_string(one)) {
		member_row(json_string_value(one), 0, &m);
	} else if (json_is_array(many) && json_array_size(many) <= 10000) {
		size_t i;
		json_t *v;
		json_array_foreach (many, i, v) {
			if (!json_is_string(v) || !json_string_length(v)) {
				char f[32];
				snprintf(f, sizeof f, "user_ids[%zu]", i);
				cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", f,
					      "%s must be a user id (a string).", f);
				goto fail;
			}
			member_row(json_string_value(v), 0, &m);
		}
	} else if (seg) {
		struct store_segment sg;
		if (store_segment_get(a->st, ws, seg, &sg, &err) < 0)
			goto fail;
		store_segment_release(&sg);
		if (store_seg_members_each(a->st, ws, seg, member_row, &m, &err) < 0)
			goto fail;
	} else {
		cairn_err_set(&err, CAIRN_EUNPROC, "missing_field", "user_id",
			      "Send {\"user_id\":\"…\"}, {\"user_ids\":[…]} (at most 10,000) or {\"segment\":\"id\"}.");
		goto fail;
	}
	if (enroll_ids(a, ws, id, &m, &enrolled, unknown, &err) < 0)
		goto fail;
	if (json_is_string(one) && !enrolled) {
		cairn_err_set(&err, CAIRN_ENOTFOUND, "user_not_found", "user_id",
			      "No user or anonymous id '%s' in this workspace.", json_string_value(one));
		goto fail;
	}
	http_json(r, 202,
		  json_pack("{s:s,s:I,s:O}", "journey_id", id, "enrolled", (json_int_t)enrolled, "unknown", unknown));
	goto out;
fail:
	http_error(r, &err);
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.ids[i]);
	free(m.ids);
	json_decref(unknown);
	store_journey_release(&j);
	json_decref(req);
}

/* ---- users' history, messages, settings ----------------------------------------------------- */

void api_user_journeys(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *uid = http_param(r, 0);
	int64_t ws = http_workspace(r), pid;
	struct cairn_err err = CAIRN_ERR_INIT;
	api_read_barrier(a);
	if (store_profile_resolve(a->st, ws, uid, &pid, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *h = store_jny_history_json(a->st, ws, pid, HISTORY_LIMIT, &err);
	if (!h) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:s,s:o}", "user_id", uid, "steps", h));
}

/* Settings a workspace has, each with its check. */
static int check_setting(const char *key, json_t *v, json_t **store_as, struct cairn_err *err)
{
	*store_as = NULL;
	if (!strcmp(key, "timezone")) {
		if (!json_is_string(v) || !tz_valid(json_string_value(v)))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
					     "timezone must be an IANA time zone such as \"Asia/Seoul\".");
		*store_as = json_incref(v);
		return 0;
	}
	if (!strcmp(key, "frequency_caps")) {
		if (!json_is_object(v))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
					     "frequency_caps must be an object such as {\"email\":{\"max\":2,"
					     "\"per\":{\"days\":7},\"when_capped\":\"wait\"}}.");
		json_t *out = json_object();
		const char *ch;
		json_t *c;
		json_object_foreach (v, ch, c) {
			json_t *per = json_object_get(c, "per");
			int64_t ms = 0;
			static const struct {
				const char *k;
				int64_t ms;
			} units[] = {{"weeks", 604800000LL},
				     {"days", 86400000LL},
				     {"hours", 3600000LL},
				     {"minutes", 60000LL}};
			for (size_t i = 0; json_is_object(per) && i < 4; i++) {
				json_t *n = json_object_get(per, units[i].k);
				if (json_is_integer(n) && json_integer_value(n) > 0 && json_integer_value(n) < 10000)
					ms += json_integer_value(n) * units[i].ms;
			}
			json_t *max = json_object_get(c, "max");
			const char *when = jsonx_str(c, "when_capped");
			if (!json_is_integer(max) || json_integer_value(max) < 1 || ms <= 0 ||
			    (when && strcmp(when, "wait") && strcmp(when, "skip"))) {
				json_decref(out);
				char f[96];
				snprintf(f, sizeof f, "value.%.60s", ch);
				return cairn_err_set(
					err, CAIRN_EUNPROC, "invalid_field", f,
					"%s needs \"max\" (a positive integer), \"per\" (a duration such as "
					"{\"days\":7}) and optionally \"when_capped\": \"wait\" or \"skip\".",
					f);
			}
			json_object_set_new(out, ch,
					    json_pack("{s:O,s:O,s:I,s:s}", "max", max, "per", per, "per_ms",
						      (json_int_t)ms, "when_capped", when ? when : "wait"));
		}
		*store_as = out;
		return 0;
	}
	if (!strcmp(key, "kill_switch")) {
		static const char *const keys[] = {"global", "channels", "journeys", NULL};
		if (!json_is_object(v) || api_only_keys(v, keys, "the kill switch", err) < 0)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
					     "kill_switch is {\"global\":true|false,\"channels\":[\"sms\",…],"
					     "\"journeys\":[\"journey-id\",…]}.");
		json_t *g = json_object_get(v, "global");
		if (g && !json_is_boolean(g))
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value.global",
					     "global is true (stop every message) or false.");
		static const char *const lists[] = {"channels", "journeys"};
		for (size_t i = 0; i < 2; i++) {
			json_t *l = json_object_get(v, lists[i]);
			size_t k;
			json_t *e;
			if (l && !json_is_array(l))
				return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
						     "%s must be an array of names.", lists[i]);
			json_array_foreach (l, k, e) {
				if (!json_is_string(e) || (i == 0 && !content_channel_find(json_string_value(e))))
					return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
							     "%s must list %s.", lists[i],
							     i == 0 ? "channels (" CONTENT_CHANNEL_LIST ")"
								    : "journey ids");
			}
		}
		*store_as = json_incref(v);
		return 0;
	}
	if (!strcmp(key, "kpis")) {
		static const char *const stages[] = {"activation", "engagement",   "conversion",
						     "retention",  "reactivation", NULL};
		if (!json_is_object(v) || api_only_keys(v, stages, "the KPI definitions", err) < 0)
			return cairn_err_set(
				err, CAIRN_EUNPROC, "invalid_field", "value",
				"kpis maps activation, engagement, conversion, retention to {\"steps\":[first "
				"event, second event],\"within\":{\"days\":N}} and reactivation to "
				"{\"inactive_days\":N}.");
		const char *k;
		json_t *d;
		json_object_foreach (v, k, d) {
			json_t *st = json_object_get(d, "steps"),
			       *wd = json_object_get(json_object_get(d, "within"), "days");
			json_t *id = json_object_get(d, "inactive_days");
			int ok = !strcmp(k, "reactivation")
					 ? json_is_integer(id) && json_integer_value(id) > 0 &&
						   json_integer_value(id) <= 3660
					 : json_array_size(st) == 2 && json_is_string(json_array_get(st, 0)) &&
						   json_is_string(json_array_get(st, 1)) &&
						   (!json_object_get(d, "within") ||
						    (json_is_integer(wd) && json_integer_value(wd) > 0 &&
						     json_integer_value(wd) <= 3660));
			if (!ok)
				return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "value",
						     "kpis.%s: give {\"steps\":[\"Signed Up\",\"Order Completed\"],"
						     "\"within\":{\"days\":7}} (reactivation: {\"inactive_days\":30}).",
						     k);
		}
		*store_as = json_incref(v);
		return 0;
	}
	if (!strcmp(key, "sender_info")) {
		if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 1000)
			return cairn_err_set(
				err, CAIRN_EUNPROC, "invalid_field", "value",
				"sender_info is the advertising footer's sender line: company, address and "
				"contact (up to 1,000 characters).");
		*store_as = json_incref(v);
		return 0;
	}
	return cairn_err_set(err, CAIRN_ENOTFOUND, "unknown_setting", "",
			     "Unknown setting '%s'; settings are \"timezone\", \"frequency_caps\", \"kill_switch\", "
			     "\"sender_info\" and \"kpis\".",
			     key);
}

void api_settings_put(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *key = http_param(r, 0);
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *val = NULL;
	if (check_setting(key, json_object_get(req, "value"), &val, &err) < 0) {
		json_decref(req);
		http_error(r, &err);
		return;
	}
	char *text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = store_setting_put(a->st, http_workspace(r), key, text, clock_now_ms(), &err);
	free(text);
	jny_invalidate(); /* the engine reads settings once per generation */
	json_decref(req);
	if (rc == 0 && !strcmp(key, "kill_switch")) {
		/* lifted: everything it held is due now (what is still stopped is held again) */
		int64_t n = 0;
		rc = store_dlv_release(a->st, http_workspace(r), "kill_switch", clock_now_ms(), &n, &err);
		dlv_dispatcher_kick(a->dlv);
	}
	if (rc < 0) {
		json_decref(val);
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:s,s:o}", "key", key, "value", val));
}

void api_settings_get(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const keys[] = {"timezone", "frequency_caps", "kill_switch", "sender_info", "kpis"};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *t = store_setting_get(a->st, http_workspace(r), keys[i]);
		json_t *v = t ? jsonx_loadb(t, strlen(t), JSON_DECODE_ANY, NULL) : NULL;
		free(t);
		json_object_set_new(o, keys[i], v ? v : json_null());
	}
	if (json_is_null(json_object_get(o, "timezone")))
		json_object_set_new(o, "timezone", json_string("Asia/Seoul"));
	http_json(r, 200, o);
}
