/* api.h — HTTP handlers: the layer between http/ and the domain modules.
 * Each takes the request and the struct app (as void *). */
#ifndef API_API_H
#define API_API_H

#include <jansson.h>

#include "core/err.h"
#include "http/http.h"

struct app;

/* Reads see every event acknowledged before the request: waits (bounded,
 * 2 s) for the engine to apply the log up to its head now. */
void api_read_barrier(struct app *a);
/* Refuses keys of obj outside allowed (NULL-terminated): CAIRN_EUNPROC
 * "unknown_field" naming the first and listing the allowed ones; `what`
 * is "a template", "a journey", … */
int api_only_keys(const json_t *obj, const char *const *allowed, const char *what, struct cairn_err *err);

void api_health(struct http_request *r, void *app);
void api_ready(struct http_request *r, void *app);
void api_metrics(struct http_request *r, void *app);
void api_track(struct http_request *r, void *app);

void api_user_get(struct http_request *r, void *app);
void api_user_events(struct http_request *r, void *app);
void api_users_search(struct http_request *r, void *app);
void api_events_list(struct http_request *r, void *app);
void api_event_names(struct http_request *r, void *app);
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
