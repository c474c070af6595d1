/* http_test.c — the HTTP layer on its own: routing with raw-path captures,
 * 404/405, body limits (413), gzip bodies, bad gzip, auth, suspend/resume. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/http.h"

static void echo(struct http_request *r, void *app)
{
	json_t *b = json_pack("{s:s?,s:I,s:I}", "id", http_param(r, 0), "len", (json_int_t)http_body(r)->len, "ws",
			      (json_int_t)http_workspace(r));
	http_json(r, 200, b);
}

struct later {
	struct http_request *r;
};

static void *finish_later(void *arg)
{
	struct http_request *r = arg;
	http_json(r, 202, json_pack("{s:b}", "async", 1));
	http_resume(r);
	return NULL;
}

static void async(struct http_request *r, void *app)
{
	http_suspend(r);
	pthread_t t;
	pthread_create(&t, NULL, finish_later, r);
	pthread_detach(t);
}

static int auth(void *app, const char *key, enum http_auth kind, int64_t *ws)
{
	if (!strcmp(key, "good")) {
		*ws = 7;
		return 0;
	}
	return CAIRN_EAUTH;
}

static const struct http_route routes[] = {
	{"GET", "/things/{id}", echo, HTTP_AUTH_NONE, 0, "echo"},
	{"POST", "/small", echo, HTTP_AUTH_NONE, 1024, "a 1 KB body at most"},
	{"GET", "/secret", echo, HTTP_AUTH_SECRET, 0, "needs a key"},
	{"GET", "/async", async, HTTP_AUTH_NONE, 0, "answers from another thread"},
};

static struct http_server *srv;
static int port;

static void start(void)
{
	log_set_level(LOG_ERROR);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct http_server_opts o = {.host = "127.0.0.1",
				     .port = 0,
				     .threads = 2,
				     .routes = routes,
				     .nroutes = sizeof routes / sizeof routes[0],
				     .auth = auth};
	srv = http_server_new(&o, &e);
	cr_assert_not_null(srv, "%s", e.message);
	port = http_server_port(srv);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void stop(void)
{
	http_server_free(srv);
	curl_global_cleanup();
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	buf_add(arg, p, size * n);
	return size * n;
}

/* Performs a request; returns the status, the body in out. */
static long request(const char *method, const char *path, const char *body, size_t len, const char *hdr,
		    struct buf *out)
{
	CURL *c = curl_easy_init();
	char url[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	struct curl_slist *h = NULL;
	if (hdr)
		h = curl_slist_append(h, hdr);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	long status = 0;
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

TestSuite(http, .init = start, .fini = stop);

Test(http, routes_capture_decoded_segments_of_the_raw_path)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(request("GET", "/things/org%2F42", NULL, 0, NULL, &b), 200);
	cr_assert(strstr(b.ptr, "\"id\":\"org/42\""), "%s", b.ptr);
	buf_reset(&b);
	cr_assert_eq(request("GET", "/things/%EA%B9%80", NULL, 0, NULL, &b), 200);
	cr_assert(strstr(b.ptr, "\"id\":\"김\""), "%s", b.ptr);
	buf_reset(&b);
	cr_assert_eq(request("GET", "/nothing", NULL, 0, NULL, &b), 404);
	cr_assert(strstr(b.ptr, "\"code\":\"not_found\""), "%s", b.ptr);
	buf_reset(&b);
	cr_assert_eq(request("DELETE", "/things/1", NULL, 0, NULL, &b), 405);
	buf_release(&b);
}

Test(http, body_limits_and_gzip)
{
	struct buf b;
	buf_init(&b, 0);
	char big[2048];
	memset(big, 'x', sizeof big);
	cr_assert_eq(request("POST", "/small", big, sizeof big, NULL, &b), 413);
	cr_assert(strstr(b.ptr, "request_too_large"), "%s", b.ptr);
	/* 100 bytes gzip-compressed are inflated before the handler */
	char plain[100];
	memset(plain, 'y', sizeof plain);
	unsigned char gz[256];
	z_stream z;
	memset(&z, 0, sizeof z);
	cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)plain;
	z.avail_in = sizeof plain;
	z.next_out = gz;
	z.avail_out = sizeof gz;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t gzlen = sizeof gz - z.avail_out;
	deflateEnd(&z);
	buf_reset(&b);
	long st = request("POST", "/small", (char *)gz, gzlen, "Content-Encoding: gzip", &b);
	cr_assert_eq(st, 200, "%ld %s", st, b.ptr);
	cr_assert(strstr(b.ptr, "\"len\":100"), "%s", b.ptr);
	/* a gzip bomb past the limit after inflation */
	static char zeros[64 * 1024];
	unsigned char bomb[1024];
	memset(&z, 0, sizeof z);
	cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)zeros;
	z.avail_in = sizeof zeros;
	z.next_out = bomb;
	z.avail_out = sizeof bomb;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t bomblen = sizeof bomb - z.avail_out;
	deflateEnd(&z);
	buf_reset(&b);
	cr_assert_eq(request("POST", "/small", (char *)bomb, bomblen, "Content-Encoding: gzip", &b), 413);
	buf_reset(&b);
	cr_assert_eq(request("POST", "/small", "not gzip at all", 15, "Content-Encoding: gzip", &b), 400);
	cr_assert(strstr(b.ptr, "bad_gzip"), "%s", b.ptr);
	buf_release(&b);
}

Test(http, auth_and_async_answers)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert_eq(request("GET", "/secret", NULL, 0, NULL, &b), 401);
	buf_reset(&b);
	cr_assert_eq(request("GET", "/secret", NULL, 0, "Authorization: Bearer bad", &b), 401);
	buf_reset(&b);
	cr_assert_eq(request("GET", "/secret", NULL, 0, "Authorization: Bearer good", &b), 200);
	cr_assert(strstr(b.ptr, "\"ws\":7"), "%s", b.ptr);
	for (int i = 0; i < 20; i++) {
		buf_reset(&b);
		cr_assert_eq(request("GET", "/async", NULL, 0, NULL, &b), 202);
	}
	buf_release(&b);
}
