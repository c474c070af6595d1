#include "app/app.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "store/store_access.h"

#define KEY_CACHE_TTL_MS 5000

void app_key_hash(const char *key, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)key, strlen(key), NULL, 0);
}

static char *random_base62(const char *prefix, size_t n)
{
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t pl = prefix ? strlen(prefix) + 1 : 0;
	char *s = xmalloc(pl + n + 1);
	if (prefix) {
		memcpy(s, prefix, pl - 1);
		s[pl - 1] = '_';
	}
	for (size_t i = 0; i < n; i++)
		s[pl + i] = alphabet[randombytes_uniform(62)];
	s[pl + n] = '\0';
	return s;
}

char *app_key_new(const char *prefix)
{
	return random_base62(prefix, 32);
}

char *app_password_new(void)
{
	return random_base62(NULL, 20);
}

char *app_token_new(size_t n)
{
	return random_base62(NULL, n);
}

void app_keys_forget(struct app *a)
{
	pthread_mutex_lock(&a->key_lock);
	memset(a->keys, 0, sizeof a->keys);
	pthread_mutex_unlock(&a->key_lock);
}

int app_session_find(struct app *a, const char *token, int64_t *ws, int64_t *member, char csrf[HTTP_CSRF_MAX])
{
	if (!token)
		return CAIRN_EAUTH;
	unsigned char h[32];
	app_key_hash(token, h);
	struct cairn_err err = CAIRN_ERR_INIT;
	return store_session_get(a->st, h, clock_wall_ms(), ws, member, csrf, &err) == 0 ? 0 : CAIRN_EAUTH;
}

int app_session(void *app, const char *token, int64_t *ws, char csrf[HTTP_CSRF_MAX])
{
	int64_t member;
	return app_session_find(app, token, ws, &member, csrf);
}

int app_auth(void *app, const char *key, enum http_auth kind, int64_t *ws)
{
	struct app *a = app;
	unsigned char h[32];
	app_key_hash(key, h);
	int64_t now = clock_mono_ms();
	pthread_mutex_lock(&a->key_lock);
	for (unsigned i = 0; i < APP_KEY_CACHE; i++) {
		struct app_key_entry *e = &a->keys[i];
		if (e->expires_mono_ms > now && !memcmp(e->hash, h, 32)) {
			int ok = e->kind == (int)kind;
			*ws = e->ws;
			pthread_mutex_unlock(&a->key_lock);
			return ok ? 0 : CAIRN_EAUTH;
		}
	}
	pthread_mutex_unlock(&a->key_lock);
	int64_t w;
	int k;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_key_lookup(a->st, h, &w, &k, &err) < 0)
		return CAIRN_EAUTH;
	pthread_mutex_lock(&a->key_lock);
	struct app_key_entry *e = &a->keys[a->key_next++ % APP_KEY_CACHE];
	memcpy(e->hash, h, 32);
	e->ws = w;
	e->kind = k;
	e->expires_mono_ms = now + KEY_CACHE_TTL_MS;
	pthread_mutex_unlock(&a->key_lock);
	*ws = w;
	return k == (int)kind ? 0 : CAIRN_EAUTH;
}

int app_append(struct app *a, struct ingest_batch *b, int64_t ws, struct cairn_err *err)
{
	struct store_event *evs = xcalloc(b->n ? b->n : 1, sizeof *evs);
	unsigned char *dup = xcalloc(b->n ? b->n : 1, 1);
	int64_t now = clock_now_ms();
	ingest_batch_events(b, ws, (unsigned)a->cfg->shards, now, evs);
	int rc = ingest_writer_append(a->writer, evs, b->n, dup, err);
	int64_t last = 0;
	for (size_t i = 0; i < b->n; i++)
		if (evs[i].id > last)
			last = evs[i].id;
	free(evs);
	free(dup);
	if (rc == 0 && last)
		engine_wait_applied(a->engine, last, 5000);
	return rc;
}
