/* api_ops.c — health, readiness, metrics and the OpenAPI document, the
 * latter generated from the one route table. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "store/store_deliver.h"
#include "app/app.h"
#include "core/clock.h"
#include "store/store_journey.h"
#include "core/jsonx.h"

void api_health(struct http_request *r, void *app)
{
	http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void api_ready(struct http_request *r, void *app)
{
	struct app *a = app;
	int64_t head = store_log_head(a->st), applied = engine_applied(a->engine);
	http_json(r, 200,
		  json_pack("{s:s,s:I,s:I}", "status", "ready", "log_head", (json_int_t)head, "applied",
			    (json_int_t)applied));
}

void api_metrics(struct http_request *r, void *app)
{
	struct app *a = app;
	uint64_t commits, events;
	ingest_writer_stats(a->writer, &commits, &events);
	int64_t head = store_log_head(a->st), applied = engine_applied(a->engine);
	char text[1024];
	int n = snprintf(text, sizeof text,
			 "# HELP cairn_ingest_events_total Events durably appended to the log.\n"
			 "# TYPE cairn_ingest_events_total counter\n"
			 "cairn_ingest_events_total %llu\n"
			 "# HELP cairn_ingest_commits_total Group commits of the log.\n"
			 "# TYPE cairn_ingest_commits_total counter\n"
			 "cairn_ingest_commits_total %llu\n"
			 "# HELP cairn_log_head Highest event id in the log.\n"
			 "# TYPE cairn_log_head gauge\n"
			 "cairn_log_head %lld\n"
			 "# HELP cairn_engine_lag_events Events logged but not yet applied.\n"
			 "# TYPE cairn_engine_lag_events gauge\n"
			 "cairn_engine_lag_events %lld\n",
			 (unsigned long long)events, (unsigned long long)commits, (long long)head,
			 (long long)(head - applied));
	http_text(r, 200, "text/plain; version=0.0.4", text, (size_t)n);
}

/* Durations as in CONVENTIONS §4: {"minutes"|"hours"|"days"|"weeks": n}. */
static int duration_ms(json_t *d, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"minutes", 60000}, {"hours", 3600000}, {"days", 86400000}, {"weeks", 604800000}};
	const char *k;
	json_t *v;
	int64_t total = 0;
	if (!json_is_object(d) || json_object_size(d) == 0)
		return -1;
	json_object_foreach (d, k, v) {
		size_t i;
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (!strcmp(k, units[i].unit))
				break;
		if (i == sizeof units / sizeof units[0] || !json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 100000)
			return -1;
		total += json_integer_value(v) * units[i].ms;
	}
	*out = total;
	return 0;
}

#define CLOCK_MAX_STEPS 100000 /* distinct due times one clock move steps through */

/* Everything due now is done: the log applied, time-driven steps run, due
 * messages handed to their providers and the outcomes' events applied (a
 * few rounds: a sent message's event may move a journey, which may queue
 * another message). */
static void settle(struct app *a)
{
	for (int round = 0; round < 4; round++) {
		int64_t head = store_log_head(a->st);
		engine_wait_applied(a->engine, head, 10000);
		engine_sync(a->engine, 10000);
		dlv_dispatcher_sync(a->dlv, 10000);
		if (store_log_head(a->st) == head && store_dlv_pending(a->st, clock_now_ms()) == 0)
			break;
	}
	engine_wait_applied(a->engine, store_log_head(a->st), 10000);
}

void api_clock(struct http_request *r, void *app)
{
	struct app *a = app;
	if (!clock_is_virtual()) {
		http_errorf(r, CAIRN_ENOTFOUND, "not_found", "", "There is nothing at %s.", http_path(r));
		return;
	}
	json_t *body = http_body_json(r);
	if (!body)
		return;
	json_t *adv = json_object_get(body, "advance");
	const char *set = json_string_value(json_object_get(body, "set"));
	int64_t ms = 0, target = 0;
	if (adv && !set && duration_ms(adv, &ms) == 0) {
		target = clock_now_ms() + ms;
	} else if (set && !adv && clock_parse_rfc3339(set, &ms) == 0) {
		if (ms < clock_now_ms()) {
			json_decref(body);
			http_errorf(r, CAIRN_EUNPROC, "clock_backwards", "set",
				    "The virtual clock never goes back; it is at a later time.");
			return;
		}
		target = ms;
	} else {
		json_decref(body);
		http_errorf(r, CAIRN_EUNPROC, "invalid_clock", "",
			    "Send {\"advance\":{\"days\":2}} (minutes, hours, days, weeks) or "
			    "{\"set\":\"2026-03-05T09:00:00+09:00\"}.");
		return;
	}
	json_decref(body);
	/* Answer once everything due by then has been done: the log applied,
	 * the time-driven steps run, and what they emitted applied too. The
	 * clock steps through each due time on the way, so a step happens at
	 * its own time (a 2-day wait followed by a 3-day wait ends on day 5
	 * even when the clock is moved 7 days at once). */
	settle(a);
	for (int steps = 0; steps < CLOCK_MAX_STEPS; steps++) {
		int64_t next = store_next_due(a->st, clock_now_ms());
		if (next > target)
			break;
		clock_virtual_set(next);
		settle(a);
	}
	clock_virtual_set(target);
	settle(a);
	http_json(r, 200, json_pack("{s:o}", "now", jsonx_time(clock_now_ms())));
}

void api_openapi(struct http_request *r, void *app)
{
	json_t *paths = json_object();
	for (size_t i = 0; i < app_nroutes; i++) {
		const struct http_route *rt = &app_routes[i];
		json_t *item = json_object_get(paths, rt->pattern);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, rt->pattern, item);
		}
		char method[16];
		size_t n = strlen(rt->method);
		for (size_t k = 0; k <= n && k < sizeof method; k++)
			method[k] = (char)(rt->method[k] >= 'A' && rt->method[k] <= 'Z' ? rt->method[k] + 32
											: rt->method[k]);
		method[sizeof method - 1] = '\0';
		json_t *op = json_pack("{s:s}", "summary", rt->summary ? rt->summary : "");
		if (rt->auth == HTTP_AUTH_WRITE)
			json_object_set_new(op, "security", json_pack("[{s:[]}]", "writeKey"));
		else if (rt->auth == HTTP_AUTH_SECRET)
			json_object_set_new(op, "security", json_pack("[{s:[]}]", "secretKey"));
		json_object_set_new(op, "responses",
				    json_pack("{s:{s:s},s:{s:s}}", "200", "description", "OK", "default", "description",
					      "Error: {\"error\":{\"code\",\"message\",\"field\"}}"));
		json_object_set_new(item, method, op);
	}
	json_t *doc =
		json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{s:{s:s,s:s},s:{s:s,s:s}}}}", "openapi", "3.0.3", "info", "title",
			  "cairn", "version", "0.1.0", "paths", paths, "components", "securitySchemes", "writeKey",
			  "type", "http", "scheme", "basic", "secretKey", "type", "http", "scheme", "bearer");
	http_json(r, 200, doc);
}
