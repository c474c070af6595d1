/* http.h — the HTTP server (libmicrohttpd) and its one route table.
 *
 * A route names method, path pattern ("/api/v1/users/{id}"), handler, auth
 * and body limit. The server reads the body (inflating gzip), enforces the
 * limit (413), authenticates (401), and calls the handler on a pool thread.
 * A handler sets a response with http_json/http_error and returns; or calls
 * http_suspend and returns, then later, from any thread, sets the response
 * and calls http_resume (used by ingestion to answer after group commit
 * without holding a thread).
 *
 * Error bodies follow CONVENTIONS §2:
 *   {"error":{"code":"snake_case","message":"…","field":"…"}} */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

enum http_auth {
	HTTP_AUTH_NONE,
	HTTP_AUTH_WRITE,  /* write key as Basic user, or writeKey in the body (handler) */
	HTTP_AUTH_SECRET, /* Authorization: Bearer <secret key> */
};

struct http_request;
typedef void (*http_handler)(struct http_request *r, void *app);

struct http_route {
	const char *method;
	const char *pattern; /* segments in {braces} are captured in order */
	http_handler fn;
	enum http_auth auth;
	size_t max_body; /* after inflation; 0 = no body allowed beyond 64 KB */
	const char *summary;
};

/* The application checks keys: 0 and *ws when `key` is a valid key of
 * `kind` (HTTP_AUTH_WRITE or HTTP_AUTH_SECRET), else CAIRN_EAUTH. */
typedef int (*http_auth_fn)(void *app, const char *key, enum http_auth kind, int64_t *ws);

/* The web app's session: 0, *ws and the session's CSRF token (NUL-ended,
 * < HTTP_CSRF_MAX) when `token` (the cookie HTTP_SESSION_COOKIE) is a live
 * session, else CAIRN_EAUTH. A request authenticated this way that changes
 * something (not GET) must carry the token in X-CSRF-Token. */
#define HTTP_SESSION_COOKIE "cairn_session"
#define HTTP_CSRF_MAX	    64
typedef int (*http_session_fn)(void *app, const char *token, int64_t *ws, char csrf[HTTP_CSRF_MAX]);

struct http_server_opts {
	const char *host;
	int port; /* 0 = any free port */
	int threads;
	const struct http_route *routes;
	size_t nroutes;
	void *app;
	http_auth_fn auth;
	http_session_fn session; /* optional: HTTP_AUTH_SECRET routes also take the session cookie */
	http_handler fallback;	 /* optional: GET requests no route matches (the web app's files) */
};

struct http_server;
struct http_server *http_server_new(const struct http_server_opts *o, struct cairn_err *err);
int http_server_port(struct http_server *s);
/* Stops accepting, waits for requests in flight (incl. suspended ones), stops. */
void http_server_free(struct http_server *s);

/* ---- inside a handler ----------------------------------------------------- */
const char *http_method(struct http_request *r);
const char *http_path(struct http_request *r);
/* The i-th {capture} of the route pattern, URL-decoded. */
const char *http_param(struct http_request *r, size_t i);
const char *http_query(struct http_request *r, const char *key);
const char *http_header(struct http_request *r, const char *name);
const char *http_cookie(struct http_request *r, const char *name);
const struct buf *http_body(struct http_request *r);
int64_t http_workspace(struct http_request *r);
/* The body parsed as a JSON object (depth-limited). On bad JSON it sends
 * the 400 itself and returns NULL. New reference. */
json_t *http_body_json(struct http_request *r);
/* Authenticates with a key found elsewhere (writeKey in the body). */
int http_authenticate(struct http_request *r, const char *key, enum http_auth kind);
struct arena *http_arena(struct http_request *r);

/* Responses. http_json takes ownership of body. */
void http_json(struct http_request *r, int status, json_t *body);
void http_text(struct http_request *r, int status, const char *content_type, const char *text, size_t len);
void http_error(struct http_request *r, const struct cairn_err *err);
void http_errorf(struct http_request *r, int code, const char *slug, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void http_header_add(struct http_request *r, const char *name, const char *value);
/* A body that outlives the server (embedded files): sent without a copy. */
void http_static(struct http_request *r, int status, const char *content_type, const void *data, size_t len);

/* Async: after http_suspend the handler returns; the response is sent once
 * http_resume is called (any thread, exactly once). */
void http_suspend(struct http_request *r);
void http_resume(struct http_request *r);

/* Parses ?limit= (default 50, max 1000) into *limit; 0 or error sent. */
int http_limit(struct http_request *r, int *limit);

#endif
