/* api_templates.h — the templates resource of the management API
 * (CONVENTIONS §2, §6; docs/templates-api.md):
 *
 *   GET    /api/v1/templates                       list (?channel= ?archived= ?include=body)
 *   POST   /api/v1/templates                       create (201; 409 if the id exists)
 *   POST   /api/v1/templates/preview               render an unsaved body
 *   GET    /api/v1/templates/{id}                  the latest version
 *   PUT    /api/v1/templates/{id}                  save a new version ("version": N → 409 if stale)
 *   DELETE /api/v1/templates/{id}                  archive (soft delete)
 *   GET    /api/v1/templates/{id}/versions         versions, newest first
 *   GET    /api/v1/templates/{id}/versions/{n}     one version
 *   POST   /api/v1/templates/{id}/preview          render for a real user or sample data
 *
 * All take the secret key; the workspace is http_workspace(r). */
#ifndef API_API_TEMPLATES_H
#define API_API_TEMPLATES_H

#include "http/http.h"

/* Request body limit of the template routes: a body holds several Liquid
 * sources of up to 1 MiB each (TPL_DEFAULT_MAX_SOURCE), plus preview data. */
#define API_TEMPLATES_MAX_BODY (4u * 1024u * 1024u)

void api_templates_list(struct http_request *r, void *app);
void api_template_create(struct http_request *r, void *app);
void api_template_get(struct http_request *r, void *app);
void api_template_update(struct http_request *r, void *app);
void api_template_delete(struct http_request *r, void *app);
void api_template_versions(struct http_request *r, void *app);
void api_template_version(struct http_request *r, void *app);
void api_template_preview(struct http_request *r, void *app);
void api_template_preview_draft(struct http_request *r, void *app);

#endif
