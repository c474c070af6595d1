/* api_delivery.h — messages, providers, sender domains, suppressions
 * (src/api/api_delivery.c). */
#ifndef API_API_DELIVERY_H
#define API_API_DELIVERY_H

#include "http/http.h"

#define API_DELIVERY_MAX_BODY (1024 * 1024) /* a send with an inline template */

void api_messages_list(struct http_request *r, void *app);
void api_messages_stats(struct http_request *r, void *app);
void api_messages_send(struct http_request *r, void *app);
void api_messages_replay(struct http_request *r, void *app);
void api_message_get(struct http_request *r, void *app);
void api_message_replay(struct http_request *r, void *app);

void api_providers_create(struct http_request *r, void *app);
void api_providers_list(struct http_request *r, void *app);
void api_provider_get(struct http_request *r, void *app);
void api_provider_update(struct http_request *r, void *app);
void api_provider_delete(struct http_request *r, void *app);
void api_provider_test(struct http_request *r, void *app);

void api_domains_create(struct http_request *r, void *app);
void api_domains_list(struct http_request *r, void *app);
void api_domain_get(struct http_request *r, void *app);
void api_domain_delete(struct http_request *r, void *app);

void api_suppressions_list(struct http_request *r, void *app);
void api_suppressions_add(struct http_request *r, void *app);
void api_suppression_delete(struct http_request *r, void *app);

#endif
