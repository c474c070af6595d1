/* api_journeys.h — journeys, messages and workspace settings over HTTP
 * (docs/journeys.md):
 *
 *   POST   /api/v1/journeys                    {"id"?, "name", "definition"} → 201 draft
 *   GET    /api/v1/journeys                    ?archived=1&limit&cursor
 *   GET    /api/v1/journeys/{id}               draft, status, live version, counts
 *   PUT    /api/v1/journeys/{id}               {"name"?, "definition"?, "draft_rev"?}
 *   DELETE /api/v1/journeys/{id}               archive (users exit)
 *   POST   /api/v1/journeys/{id}/validate      {"definition"?} → {"ok","problems"}
 *   POST   /api/v1/journeys/{id}/publish       → {"version","diff"} | 422 problems
 *   POST   /api/v1/journeys/{id}/pause|resume|restore
 *   POST   /api/v1/journeys/{id}/migrate       users on older versions → the live one
 *   GET    /api/v1/journeys/{id}/versions      and …/versions/{v}
 *   POST   /api/v1/journeys/{id}/simulate      {"user","events","version"?,"start"?,"definition"?}
 *   GET    /api/v1/journeys/{id}/graph         ?format=dot|mermaid&version= (text)
 *   GET    /api/v1/journeys/{id}/stats         per node: entered, waiting, exited, converted
 *   POST   /api/v1/journeys/{id}/enroll        {"user_id"} | {"user_ids":[…]} | {"segment"}
 *   POST   /api/v1/journeys/{id}/tests         {"name","user","events","start"?} → saved result
 *   GET    /api/v1/journeys/{id}/tests
 *   GET    /api/v1/users/{id}/journeys         the user's steps, newest first
 *   GET    /api/v1/messages                    ?user_id&journey_id&limit&cursor
 *   GET    /api/v1/settings                    and PUT /api/v1/settings/{key}
 *
 * Secret key. 422 invalid_journey names the JSON path; publish's 422 lists
 * every problem under error.problems. */
#ifndef API_API_JOURNEYS_H
#define API_API_JOURNEYS_H

#include "http/http.h"

#define API_JOURNEYS_MAX_BODY (2u * 1024u * 1024u)

void api_journey_create(struct http_request *r, void *app);
void api_journeys_list(struct http_request *r, void *app);
void api_journey_get(struct http_request *r, void *app);
void api_journey_update(struct http_request *r, void *app);
void api_journey_delete(struct http_request *r, void *app);
void api_journey_validate(struct http_request *r, void *app);
void api_journey_publish(struct http_request *r, void *app);
void api_journey_pause(struct http_request *r, void *app);
void api_journey_resume(struct http_request *r, void *app);
void api_journey_restore(struct http_request *r, void *app);
void api_journey_migrate(struct http_request *r, void *app);
void api_journey_versions(struct http_request *r, void *app);
void api_journey_version(struct http_request *r, void *app);
void api_journey_simulate(struct http_request *r, void *app);
void api_journey_graph(struct http_request *r, void *app);
void api_journey_stats(struct http_request *r, void *app);
void api_journey_enroll(struct http_request *r, void *app);
void api_journey_test_save(struct http_request *r, void *app);
void api_journey_tests(struct http_request *r, void *app);
void api_user_journeys(struct http_request *r, void *app);
void api_settings_get(struct http_request *r, void *app);
void api_settings_put(struct http_request *r, void *app);

#endif
