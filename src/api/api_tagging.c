/* api_tagging.c — the tagging-rules resource (api_tagging.h). Rules are
 * validated and run by track/tagging.c; this file checks requests and
 * shapes responses. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_tagging.h"
#include "api/api.h"
#include "app/app.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/xalloc.h"
#include "store/store_tagging.h"
#include "track/tagging.h"

#define RULE_ID_MAX	64
#define CREATE_ATTEMPTS 5

/* Reads see every event acknowledged before the request, and the
 * workspace's defaults. 0, or the error is sent. */
static int prepare(struct http_request *r, struct app *a)
{
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	if (trk_tagging_defaults_ensure(a->st, http_workspace(r), clock_now_ms(), &err) < 0) {
		http_error(r, &err);
		return -1;
	}
	return 0;
}

static json_t *rule_json(const struct store_tagging_rule *s)
{
	json_error_t je;
	json_t *def = s->definition ? json_loads(s->definition, 0, &je) : NULL;
	json_t *o = json_pack("{s:s}", "id", s->id);
	if (def)
		json_object_update(o, def);
	json_decref(def);
	json_object_set_new(o, "created_at", jsonx_time(s->created_at));
	json_object_set_new(o, "updated_at", jsonx_time(s->updated_at));
	return o;
}

static void send_rule(struct http_request *r, struct app *a, int status, const char *id)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_tagging_rule s;
	if (store_tagging_rule_get(a->st, http_workspace(r), id, &s, &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, status, rule_json(&s));
	store_tagging_rule_release(&s);
}

/* The rule id of the path; sends 404 when it cannot name one. */
static const char *path_id(struct http_request *r)
{
	const char *id = http_param(r, 0);
	if (slug_valid(id, RULE_ID_MAX))
		return id;
	http_errorf(r, CAIRN_ENOTFOUND, "rule_not_found", "", "No tagging rule '%s' in this workspace.", id ? id : "");
	return NULL;
}

void api_tagging_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *norm = NULL;
	json_t *idj = json_object_get(req, "id");
	char id[RULE_ID_MAX + 1];
	if (idj && (!json_is_string(idj) || !slug_valid(json_string_value(idj), RULE_ID_MAX))) {
		cairn_err_set(
			&err, CAIRN_EUNPROC, "invalid_id", "id",
			"id must be 1 to %d lowercase letters, digits, '-' or '_', starting with a letter or digit "
			"(like \"interest-topic\"); leave it out to have one made from the name.",
			RULE_ID_MAX);
		goto fail;
	}
	const char *name = jsonx_str(req, "name");
	if (idj)
		snprintf(id, sizeof id, "%s", json_string_value(idj));
	else
		slug_from_name(name ? name : "rule", "rule", id, sizeof id);
	norm = trk_tagging_normalize(req, id, &err);
	if (!norm)
		goto fail;
	if (prepare(r, a) < 0) {
		json_decref(norm);
		json_decref(req);
		return;
	}
	int rc = CAIRN_ECONFLICT;
	for (int attempt = 0; attempt < CREATE_ATTEMPTS && rc == CAIRN_ECONFLICT; attempt++) {
		if (attempt > 0) {
			cairn_err_clear(&err);
			slug_from_name(name ? name : "rule", "rule", id, sizeof id);
			slug_add_suffix(id, sizeof id);
		}
		rc = trk_tagging_save(a->st, http_workspace(r), id, norm, 1, clock_now_ms(), &err);
		if (idj)
			break;
	}
	if (rc < 0)
		goto fail;
	char loc[128];
	snprintf(loc, sizeof loc, "/api/v1/tagging-rules/%s", id);
	http_header_add(r, "Location", loc);
	send_rule(r, a, 201, id);
	json_decref(norm);
	json_decref(req);
	return;
fail:
	http_error(r, &err);
	json_decref(norm);
	json_decref(req);
}

void api_tagging_update(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	if (prepare(r, a) < 0) {
		json_decref(req);
		return;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r);
	struct store_tagging_rule cur = {0};
	json_t *merged = NULL, *norm = NULL;
	json_t *idj = json_object_get(req, "id");
	if (idj && !(json_is_string(idj) && !strcmp(json_string_value(idj), id))) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id", "id cannot change; leave it out or send '%s'.",
			      id);
		goto fail;
	}
	if (store_tagging_rule_get(a->st, ws, id, &cur, &err) < 0)
		goto fail;
	json_error_t je;
	merged = json_loads(cur.definition, 0, &je);
	if (!json_is_object(merged)) {
		cairn_err_set(&err, CAIRN_EIO, "storage_error", "", "The stored definition of '%s' is unreadable.", id);
		goto fail;
	}
	/* a new "when" replaces the old one whole, and with it the kind */
	if (json_object_get(req, "when")) {
		json_object_del(merged, "unless");
		json_object_del(merged, "if");
		json_object_del(merged, "remove_when_false");
	}
	const char *k;
	json_t *v;
	json_object_foreach (req, k, v) {
		if (json_is_null(v))
			json_object_del(merged, k);
		else
			json_object_set(merged, k, v);
	}
	json_object_del(merged, "id");
	norm = trk_tagging_normalize(merged, id, &err);
	if (!norm || trk_tagging_save(a->st, ws, id, norm, 0, clock_now_ms(), &err) < 0)
		goto fail;
	send_rule(r, a, 200, id);
	goto out;
fail:
	http_error(r, &err);
out:
	store_tagging_rule_release(&cur);
	json_decref(merged);
	json_decref(norm);
	json_decref(req);
}

void api_tagging_get(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id || prepare(r, a) < 0)
		return;
	send_rule(r, a, 200, id);
}

void api_tagging_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id || prepare(r, a) < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (trk_tagging_archive(a->st, http_workspace(r), id, clock_now_ms(), &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:s,s:b}", "id", id, "archived", 1));
}

void api_tagging_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0 || prepare(r, a) < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_tagging_page p;
	if (store_tagging_rules_list(a->st, http_workspace(r), limit, http_query(r, "cursor"), &p, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *data = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(data, rule_json(&p.items[i]));
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor",
				p.next_cursor ? json_string(p.next_cursor) : json_null());
	store_tagging_page_release(&p);
	http_json(r, 200, out);
}
