/* api_analytics.h — /api/v1/analytics/… (src/api/api_analytics.c). */
#ifndef API_API_ANALYTICS_H
#define API_API_ANALYTICS_H

#include "http/http.h"

void api_analytics_messages(struct http_request *r, void *app);
void api_analytics_funnel(struct http_request *r, void *app);
void api_analytics_kpis(struct http_request *r, void *app);
void api_analytics_attribution(struct http_request *r, void *app);
void api_analytics_series(struct http_request *r, void *app);
void api_analytics_cohorts(struct http_request *r, void *app);
void api_analytics_segments(struct http_request *r, void *app);

#endif
