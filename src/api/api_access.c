/* api_access.c — the web app's login, API keys and the app's own files
 * (api_access.h). */
#include "api/api_access.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"
#include "app/web_assets.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "store/store_access.h"
#include "store/store_journey.h"

#define SESSION_TOKEN_LEN  43 /* base62: ~256 bits */
#define CSRF_TOKEN_LEN	   32
#define LOGIN_FAILURES_MAX 20 /* per minute, all accounts: slows password guessing */

/* ---- session ---------------------------------------------------------------- */

static json_t *session_json(struct app *a, const struct store_member *m, const char *csrf)
{
	char *tz = store_setting_get(a->st, m->workspace_id, "timezone");
	json_t *tzj = tz ? jsonx_loadb(tz, strlen(tz), JSON_DECODE_ANY, NULL) : NULL;
	free(tz);
	if (!json_is_string(tzj)) {
		json_decref(tzj);
		tzj = json_string("Asia/Seoul");
	}
	return json_pack("{s:{s:s,s:s},s:{s:s,s:o},s:s}", "member", "email", m->email, "role", m->role, "workspace",
			 "name", m->workspace ? m->workspace : "", "timezone", tzj, "csrf_token", csrf);
}

static void set_cookie(struct http_request *r, struct app *a, const char *token, int max_age)
{
	char c[256];
	int secure = a->cfg->public_url && !strncmp(a->cfg->public_url, "https:", 6);
	snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", HTTP_SESSION_COOKIE, token,
		 max_age, secure ? "; Secure" : "");
	http_header_add(r, "Set-Cookie", c);
}

/* Counts a failed login; 1 when the brake is on for this minute. */
static int login_braked(struct app *a, int failed)
{
	int64_t minute = clock_wall_ms() / 60000;
	pthread_mutex_lock(&a->login_lock);
	if (a->login_minute != minute) {
		a->login_minute = minute;
		a->login_failures = 0;
	}
	a->login_failures += failed;
	int on = a->login_failures >= LOGIN_FAILURES_MAX;
	pthread_mutex_unlock(&a->login_lock);
	return on;
}

/* A hash to verify against when the email is unknown, so both answers take
 * the same time and do not tell which emails have accounts. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void dummy_init(void)
{
	if (crypto_pwhash_str(dummy_hash, "not a password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

void api_session_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *body = http_body_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"email", "password", NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *email = json_string_value(json_object_get(body, "email"));
	const char *pw = json_string_value(json_object_get(body, "password"));
	if (api_only_keys(body, keys, "a login", &err) < 0) {
		http_error(r, &err);
	} else if (!email || !*email) {
		http_errorf(r, CAIRN_EUNPROC, "missing_field", "email", "Enter the email of your account.");
	} else if (!pw || !*pw) {
		http_errorf(r, CAIRN_EUNPROC, "missing_field", "password", "Enter your password.");
	} else if (login_braked(a, 0)) {
		http_errorf(r, CAIRN_ELIMIT, "too_many_attempts", "",
			    "Too many failed logins in the last minute; wait a minute and try again.");
	} else {
		struct store_member m;
		int rc = store_member_find(a->st, email, &m, &err);
		pthread_once(&dummy_once, dummy_init);
		int ok = crypto_pwhash_str_verify(rc == 0 ? m.password_hash : dummy_hash, pw, strlen(pw)) == 0;
		if (rc < 0 && rc != CAIRN_ENOTFOUND) {
			http_error(r, &err);
		} else if (rc < 0 || !ok) {
			login_braked(a, 1);
			http_errorf(r, CAIRN_EAUTH, "bad_login", "password",
				    "The email or password is not right. The owner's login is printed by "
				    "`cairn init` (and `make run`).");
		} else {
			char *token = app_token_new(SESSION_TOKEN_LEN), *csrf = app_token_new(CSRF_TOKEN_LEN);
			unsigned char h[32];
			app_key_hash(token, h);
			int64_t now = clock_wall_ms();
			if (store_session_put(a->st, h, m.workspace_id, m.member_id, csrf, now,
					      now + API_SESSION_DAYS * 86400000LL, &err) < 0) {
				http_error(r, &err);
			} else {
				set_cookie(r, a, token, API_SESSION_DAYS * 86400);
				http_json(r, 200, session_json(a, &m, csrf));
			}
			sodium_memzero(token, strlen(token));
			free(token);
			free(csrf);
		}
		if (rc == 0)
			store_member_release(&m);
	}
	json_decref(body);
}

void api_session_get(struct http_request *r, void *app)
{
	struct app *a = app;
	int64_t ws, member_id;
	char csrf[HTTP_CSRF_MAX];
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_member m;
	if (app_session_find(a, http_cookie(r, HTTP_SESSION_COOKIE), &ws, &member_id, csrf) < 0 ||
	    store_member_get(a->st, member_id, &m, &err) < 0) {
		http_errorf(r, CAIRN_EAUTH, "no_session", "", "You are not logged in (or the session ended); log in.");
		return;
	}
	http_json(r, 200, session_json(a, &m, csrf));
	store_member_release(&m);
}

void api_session_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *tok = http_cookie(r, HTTP_SESSION_COOKIE);
	struct cairn_err err = CAIRN_ERR_INIT;
	if (tok) {
		unsigned char h[32];
		app_key_hash(tok, h);
		if (store_session_delete(a->st, h, &err) < 0) {
			http_error(r, &err);
			return;
		}
	}
	set_cookie(r, a, "", 0);
	http_text(r, 204, "text/plain", "", 0);
}

/* ---- API keys ------------------------------------------------------------------ */

void api_keys_list(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *o = store_keys_json(a->st, http_workspace(r), &err);
	if (!o)
		http_error(r, &err);
	else
		http_json(r, 200, o);
}

void api_keys_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *body = http_body_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"kind", NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *kind = json_string_value(json_object_get(body, "kind"));
	if (api_only_keys(body, keys, "a key", &err) < 0) {
		http_error(r, &err);
	} else if (!kind || (strcmp(kind, "secret") && strcmp(kind, "write"))) {
		http_errorf(r, CAIRN_EUNPROC, "bad_kind", "kind",
			    "\"kind\" is \"secret\" (management API) or \"write\" (Tracking API).");
	} else {
		int secret = !strcmp(kind, "secret");
		char *key = app_key_new(secret ? "sk" : "wk");
		char prefix[8];
		snprintf(prefix, sizeof prefix, "%.7s", key);
		unsigned char h[32];
		app_key_hash(key, h);
		int64_t id, now = clock_now_ms();
		if (store_key_create(a->st, http_workspace(r), secret ? STORE_KEY_SECRET : STORE_KEY_WRITE, h, prefix,
				     now, &id, &err) < 0)
			http_error(r, &err);
		else
			http_json(r, 201,
				  json_pack("{s:I,s:s,s:s,s:s,s:o,s:n}", "id", (json_int_t)id, "kind", kind, "key", key,
					    "prefix", prefix, "created_at", jsonx_time(now), "revoked_at"));
		free(key);
	}
	json_decref(body);
}

void api_key_revoke(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	char *end;
	long long id = strtoll(http_param(r, 0), &end, 10);
	if (*end || id <= 0) {
		http_errorf(r, CAIRN_ENOTFOUND, "not_found", "id", "There is no key %s.", http_param(r, 0));
		return;
	}
	if (store_key_revoke(a->st, http_workspace(r), id, clock_now_ms(), &err) < 0) {
		http_error(r, &err);
		return;
	}
	app_keys_forget(a); /* a cached key must not outlive its revocation */
	http_text(r, 204, "text/plain", "", 0);
}

/* ---- the web app's files --------------------------------------------------------- */

static int asset_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct web_asset *)e)->path);
}

static const struct web_asset *asset_find(const char *path)
{
	return bsearch(path, web_assets, web_nassets, sizeof web_assets[0], asset_cmp);
}

static int is_api_path(const char *p)
{
	static const char *const prefixes[] = {"/api/", "/v1/", "/t/", "/hooks/"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

void api_web_file(struct http_request *r, void *app)
{
	(void)app;
	const char *path = http_path(r);
	const struct web_asset *f = is_api_path(path) ? NULL : asset_find(path);
	if (!f && !is_api_path(path) && strncmp(path, "/assets/", 8))
		f = asset_find("/index.html"); /* an app path: the app routes it */
	if (!f) {
		http_errorf(r, CAIRN_ENOTFOUND, "not_found", "", "There is nothing at %s.", path);
		return;
	}
	http_header_add(r, "ETag", f->etag);
	http_header_add(r, "Cache-Control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	http_header_add(r, "X-Content-Type-Options", "nosniff");
	if (!strcmp(f->path, "/index.html")) {
		http_header_add(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; "
				"frame-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
	}
	const char *inm = http_header(r, "If-None-Match");
	if (inm && !strcmp(inm, f->etag)) {
		http_static(r, 304, f->type, "", 0);
		return;
	}
	const char *ae = http_header(r, "Accept-Encoding");
	if (f->gz && ae && strstr(ae, "gzip")) {
		http_header_add(r, "Content-Encoding", "gzip");
		http_header_add(r, "Vary", "Accept-Encoding");
		http_static(r, 200, f->type, f->gz, f->gzlen);
	} else {
		if (f->gz)
			http_header_add(r, "Vary", "Accept-Encoding");
		http_static(r, 200, f->type, f->body, f->len);
	}
}
