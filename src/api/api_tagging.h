/* api_tagging.h — the tagging-rules resource (docs/tagging.md):
 *
 *   POST   /api/v1/tagging-rules          {"id"?, "name", "when", …} → 201
 *   GET    /api/v1/tagging-rules          ?limit&cursor → {"data":[…],"next_cursor"}
 *   GET    /api/v1/tagging-rules/{id}
 *   PUT    /api/v1/tagging-rules/{id}     fields to change (merged into the
 *                                         rule; null removes an optional one)
 *   DELETE /api/v1/tagging-rules/{id}     archive
 *
 * 422 names the JSON path of the fault ("when.where.op", "add[0]");
 * 409 rule_exists; 404 rule_not_found. Secret key. Every call first
 * installs the workspace's default rules if it never had them. */
#ifndef API_API_TAGGING_H
#define API_API_TAGGING_H

#include "http/http.h"

#define API_TAGGING_MAX_BODY (256u * 1024u)

void api_tagging_create(struct http_request *r, void *app);
void api_tagging_list(struct http_request *r, void *app);
void api_tagging_get(struct http_request *r, void *app);
void api_tagging_update(struct http_request *r, void *app);
void api_tagging_delete(struct http_request *r, void *app);

#endif
