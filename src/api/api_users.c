/* api_users.c — profiles, timelines, search, events; consent, tags and
 * lifecycle changes (written as internal events so the engine applies them
 * in order with everything else the user did). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"
#include "store/store_journey.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"

static void send_list(struct http_request *r, json_t *data, char *cursor)
{
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor", cursor ? json_string(cursor) : json_null());
	free(cursor);
	http_json(r, 200, out);
}

void api_user_get(struct http_request *r, void *app)
{
	struct app *a = app;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *p = store_profile_json(a->st, http_workspace(r), http_param(r, 0), &err);
	if (!p) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, p);
}

/* The time a timeline cursor ("<ms>.<id>") points at, or dflt. */
static int64_t cursor_ms(const char *cursor, int64_t dflt)
{
	if (!cursor || !*cursor)
		return dflt;
	return strtoll(cursor, NULL, 10);
}

/* ?include=journeys: the user's journey steps of the page's time span,
 * merged in newest first. Spans of consecutive pages meet without overlap
 * (steps at a page's oldest event time belong to the next page). */
static int with_journey_steps(struct app *a, int64_t ws, int64_t pid, const char *cursor_in, const char *cursor_out,
			      json_t *list, struct cairn_err *err)
{
	int64_t hi = cursor_ms(cursor_in, INT64_MAX), lo = cursor_ms(cursor_out, INT64_MIN);
	json_t *steps = store_jny_steps_between(a->st, ws, pid, lo, hi, err);
	if (!steps)
		return CAIRN_EIO;
	json_t *merged = json_array();
	size_t i = 0, k = 0;
	while (i < json_array_size(list) || k < json_array_size(steps)) {
		json_t *e = json_array_get(list, i), *st = json_array_get(steps, k);
		const char *te = e ? jsonx_str(e, "timestamp") : NULL, *ts = st ? jsonx_str(st, "timestamp") : NULL;
		int take_step = st && (!e || (ts && te && strcmp(ts, te) > 0));
		json_array_append(merged, take_step ? st : e);
		take_step ? k++ : i++;
	}
	json_array_clear(list);
	json_array_extend(list, merged);
	json_decref(merged);
	json_decref(steps);
	return 0;
}

void api_user_events(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t pid;
	if (store_profile_resolve(a->st, http_workspace(r), http_param(r, 0), &pid, &err) < 0) {
		http_error(r, &err);
		return;
	}
	char *cursor = NULL;
	json_t *list =
		store_timeline_json(a->st, http_workspace(r), pid, limit, http_query(r, "cursor"), &cursor, &err);
	if (!list) {
		http_error(r, &err);
		return;
	}
	const char *inc = http_query(r, "include");
	if (inc && strstr(inc, "journeys") && with_journey_steps(a, http_workspace(r), pid, http_query(r, "cursor"),
								  cursor, list, &err) < 0) {
		json_decref(list);
		free(cursor);
		http_error(r, &err);
		return;
	}
	send_list(r, list, cursor);
}

void api_users_search(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	char *cursor = NULL;
	const char *q = http_query(r, "q");
	json_t *list = store_profiles_search(a->st, http_workspace(r), q ? q : "", limit, http_query(r, "cursor"),
					     &cursor, &err);
	if (!list) {
		http_error(r, &err);
		return;
	}
	send_list(r, list, cursor);
}

void api_event_names(struct http_request *r, void *app)
{
	struct app *a = app;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *names = store_event_names(a->st, http_workspace(r), 1000, &err);
	if (!names)
		http_error(r, &err);
	else
		http_json(r, 200, json_pack("{s:o}", "data", names));
}

void api_events_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	char *cursor = NULL;
	json_t *list = store_events_json(a->st, http_workspace(r), http_query(r, "name"), limit,
					 http_query(r, "cursor"), &cursor, &err);
	if (!list) {
		http_error(r, &err);
		return;
	}
	send_list(r, list, cursor);
}

/* Appends one internal event for the user named in the path. */
static void write_internal(struct http_request *r, struct app *a, const char *type, json_t *payload)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t ws = http_workspace(r), pid;
	const char *id = http_param(r, 0);
	api_read_barrier(a);
	int is_user = store_identity_find(a->st, ws, STORE_ID_USER, id, &pid) == 0;
	if (!is_user && store_identity_find(a->st, ws, STORE_ID_ANON, id, &pid) < 0) {
		json_decref(payload);
		http_errorf(r, CAIRN_ENOTFOUND, "user_not_found", "id",
			    "No user or anonymous id '%s' in this workspace.", id);
		return;
	}
	struct ingest_batch b;
	ingest_internal_message(type, is_user ? id : NULL, is_user ? NULL : id, payload, clock_now_ms(), &b);
	json_decref(payload);
	int rc = app_append(a, &b, ws, &err);
	ingest_batch_release(&b);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	json_t *p = store_profile_json(a->st, ws, id, &err);
	if (!p) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, p);
}

static int is_status(json_t *v)
{
	const char *s = json_string_value(v);
	return s && (!strcmp(s, "subscribed") || !strcmp(s, "unsubscribed") || !strcmp(s, "unknown"));
}

void api_user_consent(struct http_request *r, void *app)
{
	json_t *body = http_body_json(r);
	if (!body)
		return;
	const char *k;
	json_t *v;
	json_object_foreach (body, k, v) {
		if (!strcmp(k, "source")) {
			if (!json_is_string(v))
				goto bad_source;
			continue;
		}
		if (!strcmp(k, "topics")) {
			const char *t;
			json_t *s;
			if (!json_is_object(v))
				goto bad_topics;
			json_object_foreach (v, t, s) {
				if (!is_status(s))
					goto bad_topics;
			}
			continue;
		}
		if (!is_status(v)) {
			http_errorf(r, CAIRN_EUNPROC, "invalid_consent", k,
				    "Consent for '%s' must be \"subscribed\", \"unsubscribed\" or \"unknown\".", k);
			json_decref(body);
			return;
		}
	}
	write_internal(r, app, "consent", body);
	return;
bad_source:
	http_errorf(r, CAIRN_EUNPROC, "invalid_consent", "source",
		    "source must be a string such as \"preference_center\".");
	json_decref(body);
	return;
bad_topics:
	http_errorf(r, CAIRN_EUNPROC, "invalid_consent", "topics",
		    "topics must be an object of topic: \"subscribed\" | \"unsubscribed\" | \"unknown\".");
	json_decref(body);
}

void api_user_tags(struct http_request *r, void *app)
{
	json_t *body = http_body_json(r);
	if (!body)
		return;
	const char *k;
	json_t *v;
	json_object_foreach (body, k, v) {
		if (!strcmp(k, "reason")) { /* why, shown on the timeline (the web app's People page) */
			if (!json_is_string(v) || json_string_length(v) > 200) {
				http_errorf(r, CAIRN_EUNPROC, "invalid_reason", "reason",
					    "\"reason\" is a text of up to 200 characters saying why the tags change.");
				json_decref(body);
				return;
			}
			continue;
		}
		int ok = (!strcmp(k, "add") || !strcmp(k, "remove")) && json_is_array(v);
		size_t i;
		json_t *t;
		json_array_foreach (v, i, t) {
			if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 200)
				ok = 0;
		}
		if (!ok) {
			http_errorf(r, CAIRN_EUNPROC, "invalid_tags", k,
				    "Send {\"add\":[\"tag\",…],\"remove\":[…],\"reason\":\"…\"} with tags of 1 to 200 "
				    "characters.");
			json_decref(body);
			return;
		}
	}
	write_internal(r, app, "tags", body);
}

void api_user_lifecycle(struct http_request *r, void *app)
{
	static const char *const stages[] = {"subscriber", "lead", "mql", "sql", "opportunity", "customer", "dormant"};
	json_t *body = http_body_json(r);
	if (!body)
		return;
	const char *stage = jsonx_str(body, "stage");
	int ok = 0;
	for (size_t i = 0; stage && i < sizeof stages / sizeof stages[0]; i++)
		ok |= !strcmp(stage, stages[i]);
	if (!ok) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_stage", "stage",
			    "stage must be one of subscriber, lead, mql, sql, opportunity, customer, dormant.");
		json_decref(body);
		return;
	}
	write_internal(r, app, "lifecycle", body);
}
