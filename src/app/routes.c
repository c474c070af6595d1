/* routes.c — every HTTP endpoint, once: method, path, handler, auth, body
 * limit, summary. The OpenAPI document is generated from this table. */
#include "api/api.h"
#include "api/api_segment.h"
#include "api/api_segments.h"
#include "api/api_tagging.h"
#include "api/api_templates.h"
#include "app/app.h"
#include "ingest/ingest.h"

#define TRACK(name, summary)                                                                                           \
	{                                                                                                              \
		"POST", "/v1/" name, api_track, HTTP_AUTH_WRITE, INGEST_MAX_REQUEST, summary                           \
	}
#define IMPORT_MAX (64u * 1024u * 1024u)

const struct http_route app_routes[] = {
	{"GET", "/healthz", api_health, HTTP_AUTH_NONE, 0, "liveness"},
	{"GET", "/readyz", api_ready, HTTP_AUTH_NONE, 0, "readiness: store open, engine running"},
	{"GET", "/metrics", api_metrics, HTTP_AUTH_NONE, 0, "Prometheus metrics"},
	{"GET", "/api/openapi.json", api_openapi, HTTP_AUTH_NONE, 0, "this document"},
	{"POST", "/api/v1/_clock", api_clock, HTTP_AUTH_SECRET, 0,
	 "move the virtual clock (only with serve --virtual-clock): {\"advance\":{\"days\":2}} or {\"set\":\"RFC "
	 "3339\"}"},
	TRACK("identify", "who a user is: traits, consent"),
	TRACK("track", "what a user did"),
	TRACK("page", "a page view"),
	TRACK("screen", "a screen view"),
	TRACK("group", "a user's account and its traits"),
	TRACK("alias", "merge a previous id into a user id"),
	TRACK("batch", "up to 2,500 messages at once, stored atomically"),
	TRACK("import", "same as batch"),
	{"GET", "/api/v1/users", api_users_search, HTTP_AUTH_SECRET, 0, "search users (?q=)"},
	{"GET", "/api/v1/users/{id}", api_user_get, HTTP_AUTH_SECRET, 0, "a profile"},
	{"GET", "/api/v1/users/{id}/events", api_user_events, HTTP_AUTH_SECRET, 0, "a user's timeline, newest first"},
	{"PUT", "/api/v1/users/{id}/consent", api_user_consent, HTTP_AUTH_SECRET, 0, "change consent"},
	{"POST", "/api/v1/users/{id}/tags", api_user_tags, HTTP_AUTH_SECRET, 0, "add or remove tags"},
	{"PUT", "/api/v1/users/{id}/lifecycle", api_user_lifecycle, HTTP_AUTH_SECRET, 0, "set the lifecycle stage"},
	{"POST", "/api/v1/users/{id}/evaluate", api_user_evaluate, HTTP_AUTH_SECRET, API_SEGMENT_MAX_BODY,
	 "evaluate a condition for the user"},
	{"POST", "/api/v1/segments", api_segment_create, HTTP_AUTH_SECRET, API_SEGMENTS_MAX_BODY,
	 "create a live segment; membership is computed at once"},
	{"GET", "/api/v1/segments", api_segments_list, HTTP_AUTH_SECRET, 0, "live segments by id, each with size"},
	{"POST", "/api/v1/segments/preview", api_segment_preview, HTTP_AUTH_SECRET, API_SEGMENTS_MAX_BODY,
	 "count and sample the users matching a condition, without saving"},
	{"GET", "/api/v1/segments/{id}", api_segment_get, HTTP_AUTH_SECRET, 0, "a segment with its size"},
	{"PUT", "/api/v1/segments/{id}", api_segment_update, HTTP_AUTH_SECRET, API_SEGMENTS_MAX_BODY,
	 "change name or condition (membership recomputed)"},
	{"DELETE", "/api/v1/segments/{id}", api_segment_delete, HTTP_AUTH_SECRET, 0, "archive a segment"},
	{"GET", "/api/v1/segments/{id}/members", api_segment_members, HTTP_AUTH_SECRET, 0, "members, paginated"},
	{"GET", "/api/v1/segments/{id}/members/export", api_segment_export, HTTP_AUTH_SECRET, 0,
	 "all members (?format=ndjson|csv)"},
	{"GET", "/api/v1/segments/{id}/history", api_segment_history, HTTP_AUTH_SECRET, 0, "size per UTC day (?days=)"},
	{"POST", "/api/v1/tagging-rules", api_tagging_create, HTTP_AUTH_SECRET, API_TAGGING_MAX_BODY,
	 "create an auto-tagging rule"},
	{"GET", "/api/v1/tagging-rules", api_tagging_list, HTTP_AUTH_SECRET, 0,
	 "tagging rules by id (defaults included)"},
	{"GET", "/api/v1/tagging-rules/{id}", api_tagging_get, HTTP_AUTH_SECRET, 0, "a tagging rule"},
	{"PUT", "/api/v1/tagging-rules/{id}", api_tagging_update, HTTP_AUTH_SECRET, API_TAGGING_MAX_BODY,
	 "change a tagging rule (fields merged; takes effect on the next event)"},
	{"DELETE", "/api/v1/tagging-rules/{id}", api_tagging_delete, HTTP_AUTH_SECRET, 0, "archive a tagging rule"},
	{"GET", "/api/v1/events", api_events_list, HTTP_AUTH_SECRET, 0, "events, newest first (?name=)"},
	{"POST", "/api/v1/import/users", api_import_users, HTTP_AUTH_SECRET, IMPORT_MAX,
	 "import users (CSV or NDJSON)"},
	{"POST", "/api/v1/import/events", api_import_events, HTTP_AUTH_SECRET, IMPORT_MAX, "import events (NDJSON)"},
	{"GET", "/api/v1/export/users", api_export_users, HTTP_AUTH_SECRET, 0, "export users (NDJSON or CSV)"},
	{"GET", "/api/v1/export/events", api_export_events, HTTP_AUTH_SECRET, 0, "export events (NDJSON)"},
	{"GET", "/api/v1/templates", api_templates_list, HTTP_AUTH_SECRET, 0,
	 "templates by id (?channel= ?archived= ?include=body)"},
	{"POST", "/api/v1/templates", api_template_create, HTTP_AUTH_SECRET, API_TEMPLATES_MAX_BODY,
	 "create a template"},
	{"POST", "/api/v1/templates/preview", api_template_preview_draft, HTTP_AUTH_SECRET, API_TEMPLATES_MAX_BODY,
	 "render an unsaved template body"},
	{"GET", "/api/v1/templates/{id}", api_template_get, HTTP_AUTH_SECRET, 0, "a template (latest version)"},
	{"PUT", "/api/v1/templates/{id}", api_template_update, HTTP_AUTH_SECRET, API_TEMPLATES_MAX_BODY,
	 "save a new version (\"version\": N → 409 if stale)"},
	{"DELETE", "/api/v1/templates/{id}", api_template_delete, HTTP_AUTH_SECRET, 0, "archive a template"},
	{"GET", "/api/v1/templates/{id}/versions", api_template_versions, HTTP_AUTH_SECRET, 0,
	 "versions, newest first"},
	{"GET", "/api/v1/templates/{id}/versions/{n}", api_template_version, HTTP_AUTH_SECRET, 0, "one version"},
	{"POST", "/api/v1/templates/{id}/preview", api_template_preview, HTTP_AUTH_SECRET, API_TEMPLATES_MAX_BODY,
	 "render for a user (user_id) or sample data"},
};
const size_t app_nroutes = sizeof app_routes / sizeof app_routes[0];
