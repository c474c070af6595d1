/* app.h — the running server: what handlers share.
 *
 * Owns the store, the log writer, the engine and the key cache. Built by
 * `cairn serve`; handlers receive it as their `app` argument. */
#ifndef APP_APP_H
#define APP_APP_H

#include <pthread.h>
#include <stdint.h>

#include "core/config.h"
#include "deliver/dispatch.h"
#include "engine/engine.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "store/store.h"

#define APP_KEY_CACHE 64

struct app_key_entry {
	unsigned char hash[32];
	int64_t ws;
	int kind;
	int64_t expires_mono_ms;
};

struct app {
	struct cairn_config *cfg;
	struct store *st;
	struct ingest_writer *writer;
	struct engine *engine;
	struct dlv_dispatcher *dlv; /* NULL outside `cairn serve` */
	pthread_mutex_t key_lock;
	struct app_key_entry keys[APP_KEY_CACHE];
	unsigned key_next;
	pthread_mutex_t login_lock; /* failed logins in the current minute (brute-force brake) */
	int64_t login_minute;
	int login_failures;
};

/* The route table (src/app/routes.c). */
extern const struct http_route app_routes[];
extern const size_t app_nroutes;

/* Hash of a key as stored (BLAKE2b-256). */
void app_key_hash(const char *key, unsigned char out[32]);
/* A new random key "<prefix>_<32 base62 chars>" (caller frees). */
char *app_key_new(const char *prefix);
/* A random password (caller frees). */
char *app_password_new(void);
/* n random base62 characters (session and CSRF tokens; caller frees). */
char *app_token_new(size_t n);
/* Forgets cached keys (after one is revoked). */
void app_keys_forget(struct app *a);
/* The live session of a cookie token (NULL: none): 0 with *ws, *member and
 * its CSRF token, or CAIRN_EAUTH. Expiry is on the wall clock. */
int app_session_find(struct app *a, const char *token, int64_t *ws, int64_t *member, char csrf[HTTP_CSRF_MAX]);
/* http_session_fn for the server: the web app's session cookie. */
int app_session(void *app, const char *token, int64_t *ws, char csrf[HTTP_CSRF_MAX]);
/* http_auth_fn for the server. */
int app_auth(void *app, const char *key, enum http_auth kind, int64_t *ws);

/* Appends messages to the log and waits until durable (management writes). */
int app_append(struct app *a, struct ingest_batch *b, int64_t ws, struct cairn_err *err);

#endif
