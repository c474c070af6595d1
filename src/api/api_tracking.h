/* api_tracking.h — the public tracking endpoints (src/api/api_tracking.c):
 * open pixel, click redirect, unsubscribe page and RFC 8058 one-click. */
#ifndef API_API_TRACKING_H
#define API_API_TRACKING_H

#include "http/http.h"

void api_track_open(struct http_request *r, void *app);
void api_track_click(struct http_request *r, void *app);
void api_track_unsubscribe(struct http_request *r, void *app);
void api_track_preferences(struct http_request *r, void *app);
void api_hook_delivery(struct http_request *r, void *app);

#endif
