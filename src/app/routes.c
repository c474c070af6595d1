/* routes.c — every HTTP endpoint, once: method, path, handler, auth, body
 * limit, summary. The OpenAPI document is generated from this table. */
#include "api/api.h"
#include "api/api_analytics.h"
#include "api/api_delivery.h"
#include "api/api_tracking.h"
#include "api/api_journeys.h"
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
	{"GET", "/t/o/{file}", api_track_open, HTTP_AUTH_NONE, 0,
	 "open pixel of an email (signed link): records Email Opened, machine opens flagged"},
	{"GET", "/t/c/{id}", api_track_click, HTTP_AUTH_NONE, 0,
	 "click link of an email (signed): records Email Link Clicked and redirects"},
	{"GET", "/t/u/{id}", api_track_unsubscribe, HTTP_AUTH_NONE, 0, "unsubscribe page (signed link)"},
	{"POST", "/t/u/{id}", api_track_unsubscribe, HTTP_AUTH_NONE, 4096,
	 "unsubscribe: the page's form or RFC 8058 one-click (List-Unsubscribe=One-Click)"},
	{"GET", "/t/p/{id}", api_track_preferences, HTTP_AUTH_NONE, 0,
	 "preference centre: channels, night-time advertising and topics (signed link)"},
	{"POST", "/t/p/{id}", api_track_preferences, HTTP_AUTH_NONE, 16384, "save the preference centre's form"},
	{"POST", "/hooks/delivery/{provider}", api_hook_delivery, HTTP_AUTH_NONE, 1024 * 1024,
	 "a provider's delivery events (generic or SendGrid): delivered, bounced, complained (signed URL)"},
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
#define JNY(method, path, fn, body, summary)                                                                           \
	{                                                                                                              \
		method, "/api/v1/journeys" path, fn, HTTP_AUTH_SECRET, body, summary                                   \
	}
	JNY("POST", "", api_journey_create, API_JOURNEYS_MAX_BODY, "create a journey draft"),
	JNY("GET", "", api_journeys_list, 0, "journeys by id (?archived=1)"),
	JNY("GET", "/{id}", api_journey_get, 0, "a journey: draft, status, live version, counts per node"),
	JNY("PUT", "/{id}", api_journey_update, API_JOURNEYS_MAX_BODY,
	    "edit the draft (\"draft_rev\": N → 409 if it changed)"),
	JNY("DELETE", "/{id}", api_journey_delete, 0, "archive a journey (its users exit)"),
	JNY("POST", "/{id}/validate", api_journey_validate, API_JOURNEYS_MAX_BODY,
	    "the publish checks, without publishing"),
	JNY("POST", "/{id}/publish", api_journey_publish, 0, "freeze the draft as the next version and make it live"),
	JNY("POST", "/{id}/pause", api_journey_pause, 0, "hold every user at their step"),
	JNY("POST", "/{id}/resume", api_journey_resume, 0, "continue where users were held"),
	JNY("POST", "/{id}/restore", api_journey_restore, 0, "an archived journey back to draft"),
	JNY("POST", "/{id}/migrate", api_journey_migrate, 0,
	    "move users on older versions to the live one (same node id; others exit)"),
	JNY("GET", "/{id}/versions", api_journey_versions, 0, "published versions, newest first"),
	JNY("GET", "/{id}/versions/{n}", api_journey_version, 0, "one published version"),
	JNY("POST", "/{id}/simulate", api_journey_simulate, API_JOURNEYS_MAX_BODY,
	    "run a user through it on a virtual clock (?format=text)"),
	JNY("GET", "/{id}/graph", api_journey_graph, 0, "Graphviz DOT or Mermaid (?format=dot|mermaid&version=)"),
	JNY("GET", "/{id}/stats", api_journey_stats, 0, "per node: entered, waiting, exited, converted"),
	JNY("POST", "/{id}/enroll", api_journey_enroll, API_JOURNEYS_MAX_BODY,
	    "enrol users: user_id, user_ids or segment"),
	JNY("POST", "/{id}/tests", api_journey_test_save, API_JOURNEYS_MAX_BODY,
	    "save a simulation and its result (cairn journey check)"),
	JNY("GET", "/{id}/tests", api_journey_tests, 0, "saved simulations"),
#undef JNY
	{"GET", "/api/v1/users/{id}/journeys", api_user_journeys, HTTP_AUTH_SECRET, 0,
	 "a user's journey steps with time and reason, newest first"},
	{"GET", "/api/v1/analytics/messages", api_analytics_messages, HTTP_AUTH_SECRET, 0,
	 "sent, delivered, opened, clicked, unsubscribed, bounced, complained — totals, uniques and rates "
	 "(?by=channel|journey|node|variant|template|day &from &to &journey_id &format=csv)"},
#define DLV(method, path, fn, body, summary) {method, "/api/v1" path, fn, HTTP_AUTH_SECRET, body, summary}
	DLV("GET", "/messages", api_messages_list, 0,
	    "messages, newest first (?user_id ?journey_id ?status=dead ?channel)"),
	DLV("POST", "/messages/send", api_messages_send, API_DELIVERY_MAX_BODY,
	    "send one message now (transactional by default): {to, channel, template, data}"),
	DLV("POST", "/messages/replay", api_messages_replay, 0,
	    "replay every dead (or failed) message: {\"status\":\"dead\",\"channel\":…}"),
	DLV("GET", "/messages/stats", api_messages_stats, 0, "messages by status"),
	DLV("GET", "/messages/{id}", api_message_get, 0, "one message with its status history"),
	DLV("POST", "/messages/{id}/replay", api_message_replay, 0, "send a dead or failed message again"),
	DLV("POST", "/providers", api_providers_create, API_DELIVERY_MAX_BODY,
	    "add a provider: {channel, type: smtp|http|webhook|file, …}"),
	DLV("GET", "/providers", api_providers_list, 0, "providers (?channel); secrets named, never shown"),
	DLV("GET", "/providers/{id}", api_provider_get, 0, "one provider"),
	DLV("PATCH", "/providers/{id}", api_provider_update, API_DELIVERY_MAX_BODY, "change a provider's settings"),
	DLV("DELETE", "/providers/{id}", api_provider_delete, 0, "remove a provider"),
	DLV("POST", "/providers/{id}/test", api_provider_test, 0, "send a test message now: {\"to\":…}"),
	DLV("POST", "/domains", api_domains_create, 0,
	    "add a sender domain: makes its DKIM key, returns the DNS record to publish"),
	DLV("GET", "/domains", api_domains_list, 0, "sender domains with their DNS records"),
	DLV("GET", "/domains/{domain}", api_domain_get, 0, "one sender domain"),
	DLV("DELETE", "/domains/{domain}", api_domain_delete, 0, "remove a sender domain and its key"),
	DLV("GET", "/suppressions", api_suppressions_list, 0, "addresses never sent to (hard bounces, manual)"),
	DLV("POST", "/suppressions", api_suppressions_add, 0, "suppress an address: {channel, address, reason}"),
	DLV("DELETE", "/suppressions/{channel}/{address}", api_suppression_delete, 0, "lift a suppression"),
#undef DLV
	{"GET", "/api/v1/settings", api_settings_get, HTTP_AUTH_SECRET, 0, "workspace settings"},
	{"PUT", "/api/v1/settings/{key}", api_settings_put, HTTP_AUTH_SECRET, 0,
	 "set timezone, frequency_caps, kill_switch or sender_info ({\"value\":…})"},
};
const size_t app_nroutes = sizeof app_routes / sizeof app_routes[0];
