/* api_access.h — logging in to the web app, API keys, and the app's files.
 *
 *   POST   /api/v1/session   {email, password} → the member, workspace and CSRF
 *                            token; sets the session cookie (HttpOnly, SameSite=Strict)
 *   GET    /api/v1/session   the same for the cookie's session, or 401
 *   DELETE /api/v1/session   logs out
 *   GET/POST /api/v1/keys, DELETE /api/v1/keys/{id}
 *   GET    anything else     the web app (embedded files; app paths get index.html) */
#ifndef API_API_ACCESS_H
#define API_API_ACCESS_H

#include "http/http.h"

#define API_SESSION_DAYS 14

void api_session_create(struct http_request *r, void *app);
void api_session_get(struct http_request *r, void *app);
void api_session_delete(struct http_request *r, void *app);
void api_keys_list(struct http_request *r, void *app);
void api_keys_create(struct http_request *r, void *app);
void api_key_revoke(struct http_request *r, void *app);
/* The server's fallback for GET requests no route matches. */
void api_web_file(struct http_request *r, void *app);

#endif
