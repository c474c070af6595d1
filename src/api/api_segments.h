/* api_segments.h — the segments resource (docs/segments.md):
 *
 *   POST   /api/v1/segments                  {"id"?, "name", "condition"} → 201
 *   GET    /api/v1/segments                  ?limit&cursor → {"data":[…],"next_cursor"}
 *   POST   /api/v1/segments/preview          {"condition"} → {"count","sample"}
 *   GET    /api/v1/segments/{id}             with "size"
 *   PUT    /api/v1/segments/{id}             {"name"?, "condition"?} → recomputed
 *   DELETE /api/v1/segments/{id}             archive
 *   GET    /api/v1/segments/{id}/members     ?limit&cursor
 *   GET    /api/v1/segments/{id}/members/export   ?format=ndjson|csv
 *   GET    /api/v1/segments/{id}/history     ?days (default 30, max 366)
 *
 * 422 invalid_condition names the path ("condition.all[1].count.op");
 * 409 segment_exists; 404 segment_not_found. Secret key. */
#ifndef API_API_SEGMENTS_H
#define API_API_SEGMENTS_H

#include "http/http.h"

#define API_SEGMENTS_MAX_BODY (256u * 1024u)

void api_segment_create(struct http_request *r, void *app);
void api_segments_list(struct http_request *r, void *app);
void api_segment_preview(struct http_request *r, void *app);
void api_segment_get(struct http_request *r, void *app);
void api_segment_update(struct http_request *r, void *app);
void api_segment_delete(struct http_request *r, void *app);
void api_segment_members(struct http_request *r, void *app);
void api_segment_export(struct http_request *r, void *app);
void api_segment_history(struct http_request *r, void *app);

#endif
