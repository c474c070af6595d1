/* api_segment.h — conditions evaluated against one user (docs/computed-traits.md):
 *
 *   POST /api/v1/users/{id}/evaluate   {"condition": C, "event": {…}?}
 *        → 200 {"result": true|false}
 *        → 422 invalid_condition with field = the JSON path of the fault
 *          ("condition.all[1].count.op"); 404 user_not_found
 *
 * `event` (optional) is the "current event" that `property` conditions
 * read (a Segment message; its properties under "properties"). Secret key;
 * the workspace is http_workspace(r). */
#ifndef API_API_SEGMENT_H
#define API_API_SEGMENT_H

#include "http/http.h"

/* Limit of an evaluate request body: a condition tree and one event. */
#define API_SEGMENT_MAX_BODY (256u * 1024u)

void api_user_evaluate(struct http_request *r, void *app);

#endif
