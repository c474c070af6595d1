/* api_ops.c — health, readiness, metrics and the OpenAPI document, the
 * latter generated from the one route table. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"

void api_health(struct http_request *r, void *app)
{
	http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void api_ready(struct http_request *r, void *app)
{
	struct app *a = app;
	int64_t head = store_log_head(a->st), applied = engine_applied(a->engine);
	http_json(r, 200, json_pack("{s:s,s:I,s:I}", "status", "ready", "log_head", (json_int_t)head, "applied",
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
			method[k] = (char)(rt->method[k] >= 'A' && rt->method[k] <= 'Z' ? rt->method[k] + 32 : rt->method[k]);
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
	json_t *doc = json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{s:{s:s,s:s},s:{s:s,s:s}}}}", "openapi", "3.0.3", "info",
				"title", "cairn", "version", "0.1.0", "paths", paths, "components", "securitySchemes",
				"writeKey", "type", "http", "scheme", "basic", "secretKey", "type", "http", "scheme",
				"bearer");
	http_json(r, 200, doc);
}
