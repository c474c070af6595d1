/* http_server.c — libmicrohttpd glue: routing, bodies, gzip, auth, async.
 *
 * Request states (one struct http_request per connection request):
 *
 *   READING --(last upload call)--> HANDLING --(handler set response)--> DONE
 *                                      |                                   ^
 *                                      \--(http_suspend)--> SUSPENDED -----/
 *                                                      (http_resume, any thread)
 *
 * `lock` orders MHD_suspend_connection (pool thread) before
 * MHD_resume_connection (completer), whichever finishes first. */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"

#define MAX_PARAMS	 4
#define DEFAULT_MAX_BODY (64u * 1024u)
#define MAX_HEADERS_OUT	 8

enum rstate { RS_READING, RS_HANDLING, RS_SUSPENDED, RS_DONE };

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	int initialized;
	const struct http_route *route;
	const char *method;
	char *path;
	char *params[MAX_PARAMS];
	struct buf body;
	int too_big;
	int64_t ws;
	enum rstate state;
	pthread_mutex_t lock;
	int completed, suspended;
	struct arena arena;
	/* response */
	int status;
	struct buf resp;
	const void *static_body; /* http_static: sent as is, never freed */
	size_t static_len;
	const char *ctype;
	char *hdr_name[MAX_HEADERS_OUT], *hdr_value[MAX_HEADERS_OUT];
	int nhdr;
	int64_t started_ms;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_server_opts o;
	int port;
	_Atomic long inflight;
};

/* ---- routing ---------------------------------------------------------------- */

static int match(const char *pattern, const char *path, struct http_request *r, int capture)
{
	size_t np = 0;
	const char *p = pattern, *u = path;
	while (*p && *u) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *ue = strchr(u, '/');
			if (!ue)
				ue = u + strlen(u);
			if (ue == u || np >= MAX_PARAMS)
				return 0;
			if (capture) {
				char *v = xstrndup(u, (size_t)(ue - u));
				MHD_http_unescape(v);
				r->params[np] = v;
			}
			np++;
			p = pe + 1;
			u = ue;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	return *p == '\0' && *u == '\0';
}

/* Finds the route; *path_matched says some route has this path. */
static const struct http_route *find_route(struct http_server *s, const char *method, const char *path,
					   int *path_matched)
{
	*path_matched = 0;
	for (size_t i = 0; i < s->o.nroutes; i++) {
		const struct http_route *rt = &s->o.routes[i];
		if (!match(rt->pattern, path, NULL, 0))
			continue;
		*path_matched = 1;
		if (!strcmp(rt->method, method) || (!strcmp(method, "HEAD") && !strcmp(rt->method, "GET")))
			return rt;
	}
	return NULL;
}

/* ---- responses ---------------------------------------------------------------- */

void http_json(struct http_request *r, int status, json_t *body)
{
	buf_reset(&r->resp);
	jsonx_dump_buf(body, &r->resp);
	json_decref(body);
	r->status = status;
	r->ctype = "application/json; charset=utf-8";
}

void http_text(struct http_request *r, int status, const char *content_type, const char *text, size_t len)
{
	buf_reset(&r->resp);
	buf_add(&r->resp, text, len);
	r->static_body = NULL;
	r->status = status;
	r->ctype = content_type;
}

void http_static(struct http_request *r, int status, const char *content_type, const void *data, size_t len)
{
	buf_reset(&r->resp);
	r->static_body = data;
	r->static_len = len;
	r->status = status;
	r->ctype = content_type;
}

void http_error(struct http_request *r, const struct cairn_err *err)
{
	json_t *e = json_pack("{s:s,s:s}", "code", err->slug[0] ? err->slug : "error", "message",
			      err->message[0] ? err->message : "Something went wrong.");
	if (err->field[0])
		json_object_set_new(e, "field", json_string(err->field));
	int status = cairn_err_http_status(err->code ? err->code : CAIRN_EIO);
	if (status == 429)
		http_header_add(r, "Retry-After", "1");
	http_json(r, status, json_pack("{s:o}", "error", e));
}

void http_errorf(struct http_request *r, int code, const char *slug, const char *field, const char *fmt, ...)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	char msg[sizeof err.message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cairn_err_set(&err, code, slug, field, "%s", msg);
	http_error(r, &err);
}

void http_header_add(struct http_request *r, const char *name, const char *value)
{
	if (r->nhdr >= MAX_HEADERS_OUT)
		return;
	r->hdr_name[r->nhdr] = xstrdup(name);
	r->hdr_value[r->nhdr] = xstrdup(value);
	r->nhdr++;
}

static enum MHD_Result queue(struct http_request *r)
{
	struct MHD_Response *resp;
	if (r->static_body) {
		resp = MHD_create_response_from_buffer(r->static_len, (void *)r->static_body, MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *body = buf_detach(&r->resp, &len);
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	MHD_add_response_header(resp, "Content-Type", r->ctype ? r->ctype : "application/json; charset=utf-8");
	for (int i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)(r->status ? r->status : 500), resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- request accessors ------------------------------------------------------- */

const char *http_method(struct http_request *r)
{
	return r->method;
}
const char *http_path(struct http_request *r)
{
	return r->path;
}
const char *http_param(struct http_request *r, size_t i)
{
	return i < MAX_PARAMS ? r->params[i] : NULL;
}
const struct buf *http_body(struct http_request *r)
{
	return &r->body;
}
int64_t http_workspace(struct http_request *r)
{
	return r->ws;
}

json_t *http_body_json(struct http_request *r)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *v = jsonx_parse(r->body.ptr, r->body.len, JSONX_MAX_DEPTH, 1, &err);
	if (!v)
		http_error(r, &err);
	return v;
}
struct arena *http_arena(struct http_request *r)
{
	return &r->arena;
}

const char *http_query(struct http_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* The session cookie instead of a key: the session's workspace, and for a
 * change the CSRF token the app was given at login (compared in constant
 * time). -1 with the response set when the cookie is there but not enough. */
static int session_auth(struct http_request *r, int *authed)
{
	*authed = 0;
	const char *tok = http_cookie(r, HTTP_SESSION_COOKIE);
	if (!tok || !r->srv->o.session)
		return 0;
	char csrf[HTTP_CSRF_MAX];
	int64_t ws = 0;
	if (r->srv->o.session(r->srv->o.app, tok, &ws, csrf) < 0)
		return 0;
	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
		const char *sent = http_header(r, "X-CSRF-Token");
		size_t n = strlen(csrf);
		if (!sent || strlen(sent) != n || sodium_memcmp(sent, csrf, n) != 0) {
			http_errorf(r, CAIRN_EPERM, "csrf_failed", "",
				    "This change came without the page's CSRF token; reload the page and try again.");
			return -1;
		}
	}
	r->ws = ws;
	*authed = 1;
	return 0;
}

int http_authenticate(struct http_request *r, const char *key, enum http_auth kind)
{
	int64_t ws = 0;
	if (!key || !*key || r->srv->o.auth(r->srv->o.app, key, kind, &ws) < 0)
		return CAIRN_EAUTH;
	r->ws = ws;
	return 0;
}

int http_limit(struct http_request *r, int *limit)
{
	const char *l = http_query(r, "limit");
	*limit = 50;
	if (!l)
		return 0;
	char *end;
	long v = strtol(l, &end, 10);
	if (*end || end == l || v < 1 || v > 1000) {
		http_errorf(r, CAIRN_EINVAL, "bad_limit", "limit",
			    "limit must be a whole number from 1 to 1000, not '%s'.", l);
		return -1;
	}
	*limit = (int)v;
	return 0;
}

/* ---- async -------------------------------------------------------------------- */

void http_suspend(struct http_request *r)
{
	r->state = RS_SUSPENDED;
}

void http_resume(struct http_request *r)
{
	pthread_mutex_lock(&r->lock);
	r->completed = 1;
	r->state = RS_DONE;
	int was_suspended = r->suspended;
	pthread_mutex_unlock(&r->lock);
	if (was_suspended)
		MHD_resume_connection(r->conn);
}

/* ---- bodies ----------------------------------------------------------------------- */

/* Inflates r->body in place; -1 with an error response on bad data or size. */
static int inflate_body(struct http_request *r, size_t max)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	struct buf out;
	buf_init(&out, max);
	z.next_in = (unsigned char *)r->body.ptr;
	z.avail_in = (uInt)r->body.len;
	int zr = Z_OK;
	unsigned char chunk[16384];
	while (zr != Z_STREAM_END) {
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		/* buf_add refuses to pass the route's limit (sticky overflow) */
		if (buf_add(&out, chunk, sizeof chunk - z.avail_out) < 0) {
			inflateEnd(&z);
			buf_release(&out);
			http_errorf(r, CAIRN_ETOOBIG, "request_too_large", "",
				    "The request inflates to more than %zu KB; send smaller batches.", max / 1024);
			return -1;
		}
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
			inflateEnd(&z);
			buf_release(&out);
			http_errorf(r, CAIRN_EINVAL, "bad_gzip", "",
				    "The body says Content-Encoding: gzip but is not valid gzip data.");
			return -1;
		}
	}
	inflateEnd(&z);
	buf_release(&r->body);
	r->body = out;
	return 0;
}

/* Extracts the key from "Basic base64(user:pass)" or "Bearer key". */
static char *credentials(struct http_request *r, enum http_auth kind)
{
	const char *h = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h)
		return NULL;
	if (kind == HTTP_AUTH_SECRET) {
		if (strncasecmp(h, "Bearer ", 7))
			return NULL;
		return xstrdup(h + 7);
	}
	if (strncasecmp(h, "Basic ", 6))
		return NULL;
	const char *b64 = h + 6;
	size_t n = strlen(b64);
	unsigned char *dec = xmalloc(n + 1);
	size_t dlen = 0;
	if (sodium_base642bin(dec, n, b64, n, " ", &dlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(dec);
		return NULL;
	}
	dec[dlen] = '\0';
	char *colon = memchr(dec, ':', dlen);
	if (colon)
		*colon = '\0';
	return (char *)dec;
}

static void handle(struct http_request *r)
{
	struct http_server *s = r->srv;
	int path_matched;
	if (!r->route) {
		find_route(s, r->method, r->path, &path_matched);
		if (!path_matched && s->o.fallback && !strcmp(r->method, "GET")) {
			s->o.fallback(r, s->o.app);
			return;
		}
		if (path_matched)
			http_errorf(r, CAIRN_EINVAL, "method_not_allowed", "", "%s is not allowed on %s.", r->method,
				    r->path);
		else
			http_errorf(r, CAIRN_ENOTFOUND, "not_found", "", "There is nothing at %s.", r->path);
		if (path_matched)
			r->status = 405;
		return;
	}
	if (r->too_big) {
		http_errorf(r, CAIRN_ETOOBIG, "request_too_large", "",
			    "The request body is larger than %zu KB; send smaller requests.", r->body.max / 1024);
		return;
	}
	const char *enc = http_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (enc && r->body.len) {
		if (!strcasecmp(enc, "gzip")) {
			if (inflate_body(r, r->body.max) < 0)
				return;
		} else if (strcasecmp(enc, "identity")) {
			http_errorf(r, CAIRN_EINVAL, "bad_encoding", "",
				    "Content-Encoding '%s' is not supported; use gzip.", enc);
			r->status = 415;
			return;
		}
	}
	if (r->route->auth != HTTP_AUTH_NONE) {
		char *key = credentials(r, r->route->auth);
		int ok = key && http_authenticate(r, key, r->route->auth) == 0;
		free(key);
		if (!ok && r->route->auth == HTTP_AUTH_SECRET && !http_header(r, MHD_HTTP_HEADER_AUTHORIZATION) &&
		    session_auth(r, &ok) < 0)
			return;
		/* write endpoints may carry writeKey in the body instead */
		if (!ok && r->route->auth == HTTP_AUTH_SECRET) {
			http_errorf(
				r, CAIRN_EAUTH, "unauthorized", "",
				"Send a secret key as 'Authorization: Bearer <key>'; this one is missing or invalid.");
			http_header_add(r, "WWW-Authenticate", "Bearer");
			return;
		}
	}
	r->route->fn(r, s->o.app);
}

/* libmicrohttpd decodes %XX in the URL before routing, which would turn an
 * id "org/42" (sent as org%2F42) into two segments. This callback sees the
 * raw URI first: the request is created here with the raw path, and each
 * {capture} is decoded after splitting. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct http_request *r = xcalloc(1, sizeof *r);
	r->srv = s;
	r->conn = conn;
	const char *q = strchr(uri, '?');
	r->path = q ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
	atomic_fetch_add(&s->inflight, 1);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *s = cls;
	struct http_request *r = *con_cls;
	if (!r) /* no URI callback ran (cannot happen with MHD >= 0.9.x); be safe */
		*con_cls = r = on_uri(cls, url, conn);
	if (!r->initialized) {
		const char *path = r->path;
		r->initialized = 1;
		r->method = method;
		r->started_ms = clock_mono_ms();
		pthread_mutex_init(&r->lock, NULL);
		arena_init(&r->arena, 4096);
		buf_init(&r->resp, BUF_MAX_RESPONSE);
		int pm;
		r->route = find_route(s, method, path, &pm);
		if (r->route)
			match(r->route->pattern, path, r, 1);
		size_t max = r->route && r->route->max_body ? r->route->max_body : DEFAULT_MAX_BODY;
		buf_init(&r->body, max);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
		if (want > max)
			r->too_big = 1;
		else if (want)
			buf_reserve(&r->body, (size_t)want); /* one allocation, no regrowth copies */
		return MHD_YES;
	}
	if (r->state == RS_READING) {
		if (*upload_data_size) {
			if (!r->too_big && buf_add(&r->body, upload_data, *upload_data_size) < 0)
				r->too_big = 1;
			*upload_data_size = 0;
			return MHD_YES;
		}
		r->state = RS_HANDLING;
		handle(r);
		pthread_mutex_lock(&r->lock);
		if (r->state == RS_SUSPENDED && !r->completed) {
			r->suspended = 1;
			MHD_suspend_connection(conn);
			pthread_mutex_unlock(&r->lock);
			return MHD_YES;
		}
		pthread_mutex_unlock(&r->lock);
		r->state = RS_DONE;
	}
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_request *r = *con_cls;
	if (!r)
		return;
	for (int i = 0; i < MAX_PARAMS; i++)
		free(r->params[i]);
	for (int i = 0; i < r->nhdr; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	free(r->path);
	if (r->initialized) {
		buf_release(&r->body);
		buf_release(&r->resp);
		arena_release(&r->arena);
	}
	if (r->initialized)
		pthread_mutex_destroy(&r->lock);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http", "detail", msg, NULL);
}

struct http_server *http_server_new(const struct http_server_opts *o, struct cairn_err *err)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	s->o = *o;
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o->port);
	const char *host = o->host && *o->host ? o->host : "127.0.0.1";
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		cairn_err_set(err, CAIRN_EINVAL, "bad_listen", "listen",
			      "Cannot listen on '%s': give an IPv4 address such as 127.0.0.1.", host);
		free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
					MHD_USE_ERROR_LOG | MHD_USE_TURBO,
				(uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
				NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
				(unsigned)(o->threads > 0 ? o->threads : 2), MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				s, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT, 4000u,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
				MHD_OPTION_END);
	if (!s->d) {
		cairn_err_set(err, CAIRN_EIO, "listen_failed", "listen",
			      "Cannot listen on %s:%d (is another server using the port?).", host, o->port);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	return s;
}

int http_server_port(struct http_server *s)
{
	return s->port;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	MHD_socket fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	/* let requests in flight (incl. suspended ones) finish, up to 10 s */
	int64_t until = clock_mono_ms() + 10000;
	while (atomic_load(&s->inflight) > 0 && clock_mono_ms() < until)
		usleep(10000);
	MHD_stop_daemon(s->d);
	free(s);
}
