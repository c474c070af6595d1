/* api.h — HTTP handlers: the layer between http/ and the domain modules.
 * Each takes the request and the struct app (as void *). */
#ifndef API_API_H
#define API_API_H

#include "http/http.h"

void api_health(struct http_request *r, void *app);
void api_ready(struct http_request *r, void *app);
void api_metrics(struct http_request *r, void *app);
void api_track(struct http_request *r, void *app);

void api_user_get(struct http_request *r, void *app);
void api_user_events(struct http_request *r, void *app);
void api_users_search(struct http_request *r, void *app);
void api_events_list(struct http_request *r, void *app);
void api_user_consent(struct http_request *r, void *app);
void api_user_tags(struct http_request *r, void *app);
void api_user_lifecycle(struct http_request *r, void *app);

void api_import_users(struct http_request *r, void *app);
void api_import_events(struct http_request *r, void *app);
void api_export_users(struct http_request *r, void *app);
void api_export_events(struct http_request *r, void *app);

void api_openapi(struct http_request *r, void *app);
void api_clock(struct http_request *r, void *app);

#endif
