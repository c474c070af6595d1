#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "analytics/analytics.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/shard.h"
#include "core/xalloc.h"
#include "ingest/ingest.h"
#include "journey/journey_engine.h"
#include "segment/seg_live.h"
#include "segment/segment.h"
#include "track/tagging.h"

#define ENGINE_BATCH   4000
#define ENGINE_INDEX_BATCH 5000 /* profiles per search-index transaction */
#define ENGINE_INDEX_MS	   1000 /* behind a backlog, index at least this often */
#define ENGINE_CURSOR  "profiles"
#define ENGINE_TICK_MS 200 /* the longest time-driven steps wait for a tick */
#define ENGINE_RECENT  256 /* batches remembered for engine_emitted_after */

struct engine {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* the engine waits on it */
	pthread_cond_t applied; /* waiters for progress */
	int64_t head;
	_Atomic int64_t done;
	int stopping;
	uint64_t tick_req, tick_done; /* engine_sync asks for a tick now */
	atomic_int forward_req;	      /* engine_forward_soon: others wrote the outbox */
	int64_t last_tick_mono;
	/* recent batches: (first, last] applied and the last id of the events
	 * they emitted (0: none), for engine_emitted_after; under lock */
	struct {
		int64_t from, to, emitted;
	} recent[ENGINE_RECENT];
	size_t nrecent, next_recent;
};

static void note_emitted(struct engine *e, int64_t from, int64_t to, int64_t emitted)
{
	pthread_mutex_lock(&e->lock);
	e->recent[e->next_recent].from = from;
	e->recent[e->next_recent].to = to;
	e->recent[e->next_recent].emitted = emitted;
	e->next_recent = (e->next_recent + 1) % ENGINE_RECENT;
	if (e->nrecent < ENGINE_RECENT)
		e->nrecent++;
	pthread_mutex_unlock(&e->lock);
}

int64_t engine_emitted_after(struct engine *e, int64_t id)
{
	int64_t out = 0;
	pthread_mutex_lock(&e->lock);
	/* any batch that applied events up to id: the write may be in an
	 * earlier batch than the one that reached id */
	for (size_t i = 0; i < e->nrecent; i++)
		if (e->recent[i].from < id && e->recent[i].emitted > out)
			out = e->recent[i].emitted;
	pthread_mutex_unlock(&e->lock);
	return out;
}

/* A batch copied out of the log, so the log is read in one short
 * transaction and the state transaction never holds a read on it (a long
 * reader would stop the log's WAL from being reset). */
struct batch {
	struct arena arena;
	struct store_event *evs;
	size_t n, cap;
};

static const char *keep(struct arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

static int copy_one(const struct store_event *ev, void *arg)
{
	struct batch *b = arg;
	xgrow((void **)&b->evs, &b->cap, b->n + 1, sizeof *b->evs);
	struct store_event *o = &b->evs[b->n++];
	*o = *ev;
	o->type = keep(&b->arena, ev->type);
	o->name = keep(&b->arena, ev->name);
	o->message_id = keep(&b->arena, ev->message_id);
	o->user_id = keep(&b->arena, ev->user_id);
	o->anonymous_id = keep(&b->arena, ev->anonymous_id);
	o->body = arena_strndup(&b->arena, ev->body, ev->body_len);
	return 0;
}

/* One batch: returns 1 when events were applied, 0 when there were none,
 * or -1. */
static int apply_batch(struct store *st, int64_t *cursor, int64_t *emitted, struct cairn_err *err)
{
	*emitted = 0;
	int64_t start = store_cursor_get(st, ENGINE_CURSOR);
	/* after a power loss the log may have lost a tail the state had applied:
	 * the log wins, so new events reusing those ids are not skipped */
	int64_t head = store_log_head(st);
	if (start > head)
		start = head;
	*cursor = start;
	if (start == head)
		return 0;
	struct batch b;
	memset(&b, 0, sizeof b);
	arena_init(&b.arena, 256 * 1024);
	int rc = store_log_scan(st, start, ENGINE_BATCH, copy_one, &b, err);
	if (rc == 0 && b.n && store_begin(st, err) == 0) {
		/* another process (CLI import) may have moved the cursor meanwhile */
		int64_t now_at = store_cursor_get(st, ENGINE_CURSOR);
		if (now_at != start && now_at <= head) {
			store_rollback(st);
			store_touch_all(st); /* in-memory indexes cannot know what it changed */
			rc = 1;
			goto out;
		}
		int64_t last = start;
		for (size_t i = 0; i < b.n && rc == 0; i++) {
			struct cairn_err e = CAIRN_ERR_INIT;
			int64_t pid = 0;
			jny_before_event(st, &b.evs[i]);
			if (ingest_apply_event(st, &b.evs[i], &pid, &e) < 0) {
				if (e.code != CAIRN_EUNPROC) {
					*err = e;
					rc = -1;
					break;
				}
				/* an event that can never apply must not stop every later one */
				char id[32];
				snprintf(id, sizeof id, "%lld", (long long)b.evs[i].id);
				log_error("event skipped", "event_id", id, "error", e.message, NULL);
			}
			/* per-user aggregates, then live segments (pid is 0 for a skipped event) */
			if (pid &&
			    (seg_apply_event(st, &b.evs[i], pid, &e) < 0 ||
			     seg_live_apply(st, &b.evs[i], pid, &e) < 0 ||
			     trk_tagging_apply(st, &b.evs[i], pid, &e) < 0 ||
			     jny_apply_event(st, &b.evs[i], pid, &e) < 0 || stats_apply_event(st, &b.evs[i], pid, &e) < 0)) {
				*err = e;
				rc = -1;
				break;
			}
			if (pid)
				store_touch(st, b.evs[i].workspace_id, pid); /* its aggregates changed */
			last = b.evs[i].id;
		}
		if (rc == 0 && (store_cursor_set(st, ENGINE_CURSOR, last, err) < 0 || store_commit(st, err) < 0))
			rc = -1;
		if (rc < 0) {
			store_rollback(st);
		} else {
			*cursor = last;
			rc = 1;
			if (engine_forward_upto(st, emitted, err) < 0)
				log_error("forwarding emitted events failed; will retry", "error", err->message, NULL);
		}
	} else if (rc == 0 && b.n) {
		rc = -1;
	}
out:
	arena_release(&b.arena);
	free(b.evs);
	return rc;
}

int engine_emit(struct store *st, int64_t ws, int64_t profile_id, const char *event_name, json_t *properties,
		const char *dedup_key, int64_t ts, struct cairn_err *err)
{
	return engine_emit_message(st, ws, profile_id, "track", event_name, "properties", properties, dedup_key, ts,
				   err);
}

int engine_emit_message(struct store *st, int64_t ws, int64_t profile_id, const char *type, const char *event_name,
			const char *field, json_t *payload, const char *dedup_key, int64_t ts, struct cairn_err *err)
{
	char *uid = NULL, *aid = NULL;
	if (store_profile_ids(st, profile_id, &uid, &aid, err) < 0) {
		json_decref(payload);
		return err->code;
	}
	unsigned char h[16];
	crypto_generichash(h, sizeof h, (const unsigned char *)dedup_key, strlen(dedup_key), NULL, 0);
	char mid[4 + 2 * sizeof h + 1];
	memcpy(mid, "sys_", 4);
	sodium_bin2hex(mid + 4, sizeof mid - 4, h, sizeof h);
	json_t *msg = json_pack("{s:s,s:s,s:o,s:o,s:{s:{s:s}}}", "type", type, "messageId", mid, field,
				payload ? payload : json_object(), "timestamp", jsonx_time(ts), "context", "library",
				"name", "cairn");
	if (event_name)
		json_object_set_new(msg, "event", json_string(event_name));
	json_object_set_new(msg, uid ? "userId" : "anonymousId", json_string(uid ? uid : aid));
	char *body = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	struct store_event ev = {.workspace_id = ws,
				 .type = type,
				 .name = event_name,
				 .message_id = mid,
				 .user_id = uid,
				 .anonymous_id = uid ? NULL : aid,
				 .ts = ts,
				 .body = body,
				 .body_len = strlen(body)};
	int rc = store_outbox_add(st, &ev, profile_id, err);
	free(body);
	free(uid);
	free(aid);
	return rc;
}

int engine_forward(struct store *st, struct cairn_err *err)
{
	int64_t last;
	return engine_forward_upto(st, &last, err);
}

int engine_forward_upto(struct store *st, int64_t *last_id, struct cairn_err *err)
{
	*last_id = 0;
	for (;;) {
		struct batch b;
		memset(&b, 0, sizeof b);
		arena_init(&b.arena, 64 * 1024);
		int64_t upto = 0;
		int rc = store_outbox_scan(st, 1000, copy_one, &b, &upto, err);
		if (rc == 0 && b.n) {
			int64_t now = clock_now_ms();
			unsigned char *dup = xcalloc(b.n, 1);
			for (size_t i = 0; i < b.n; i++) {
				const char *who = b.evs[i].user_id ? b.evs[i].user_id : b.evs[i].anonymous_id;
				b.evs[i].shard = shard_of(b.evs[i].workspace_id, who, strlen(who), 0);
				b.evs[i].received_at = now;
			}
			/* a crash before the delete re-sends them: the log drops repeats */
			rc = store_log_append(st, b.evs, b.n, dup, err);
			for (size_t i = 0; rc == 0 && i < b.n; i++)
				if (!dup[i] && b.evs[i].id > *last_id)
					*last_id = b.evs[i].id;
			if (rc == 0)
				rc = store_outbox_delete_upto(st, upto, err);
			free(dup);
		}
		size_t n = b.n;
		arena_release(&b.arena);
		free(b.evs);
		if (rc < 0 || n == 0)
			return rc;
	}
}

/* The time-driven steps, in their own transaction. */
int engine_tick(struct store *st, struct cairn_err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	int64_t now = clock_now_ms();
	if (seg_rfm_tick(st, now, err) < 0 || seg_live_tick(st, now, err) < 0 || trk_tagging_tick(st, now, err) < 0 ||
	    store_commit(st, err) < 0) {
		store_rollback(st);
		return -1;
	}
	if (engine_forward(st, err) < 0)
		return -1;
	/* journey timers: their own transactions, as many as are due */
	return jny_tick(st, now, NULL, err) < 0 ? -1 : 0;
}

int engine_catch_up(struct store *st, struct cairn_err *err)
{
	int64_t cur, emitted;
	int rc;
	while ((rc = apply_batch(st, &cur, &emitted, err)) > 0)
		;
	int n = 0;
	while (rc == 0 && (n = store_search_index(st, ENGINE_INDEX_BATCH, err)) == ENGINE_INDEX_BATCH)
		;
	return rc < 0 ? rc : n < 0 ? n : 0;
}

static void *engine_main(void *arg)
{
	struct engine *e = arg;
	int backoff_ms = 0;
	int64_t last_index_mono = 0;
	pthread_setname_np(pthread_self(), "cairn-engine");
	/* Ingestion answers clients; the engine catches up. On a busy box the
	 * scheduler should favour the former (Linux: per-thread nice). */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	/* the engine touches every user's index pages: give its connection the
	 * big page cache (the other connections keep the small default) */
	store_cache_size(e->st, 256);
	for (;;) {
		struct cairn_err err = CAIRN_ERR_INIT;
		int64_t cur = 0, emitted = 0;
		int64_t from = atomic_load(&e->done);
		int rc = apply_batch(e->st, &cur, &emitted, &err);
		if (rc > 0)
			note_emitted(e, from, cur, emitted);
		if (rc >= 0) {
			/* Time-driven steps: at least every 200 ms, also behind a backlog
			 * (timers must not wait for ingestion to stop); an engine_sync
			 * request only once the log is applied (rc == 0), so that it
			 * sees every event sent before it. */
			pthread_mutex_lock(&e->lock);
			uint64_t want = e->tick_req;
			int periodic = clock_mono_ms() - e->last_tick_mono >= ENGINE_TICK_MS;
			int due = periodic || (rc == 0 && want > e->tick_done);
			pthread_mutex_unlock(&e->lock);
			if (due) {
				struct cairn_err terr = CAIRN_ERR_INIT;
				if (engine_tick(e->st, &terr) < 0)
					log_error("engine tick failed; will retry", "error", terr.message, NULL);
				pthread_mutex_lock(&e->lock);
				e->last_tick_mono = clock_mono_ms();
				if (rc == 0 && want > e->tick_done)
					e->tick_done = want;
				pthread_cond_broadcast(&e->applied);
				pthread_mutex_unlock(&e->lock);
				/* a tick may have emitted events: look at the log again */
				if (rc == 0) {
					from = cur;
					rc = apply_batch(e->st, &cur, &emitted, &err);
					if (rc > 0)
						note_emitted(e, from, cur, emitted);
				}
			}
		}
		if (rc >= 0 && atomic_exchange(&e->forward_req, 0)) {
			struct cairn_err ferr = CAIRN_ERR_INIT;
			int64_t last = 0;
			if (engine_forward_upto(e->st, &last, &ferr) < 0)
				log_error("forwarding emitted events failed; will retry", "error", ferr.message, NULL);
			else if (last && rc == 0)
				rc = 1; /* they are in the log now: apply them before sleeping */
		}
		/* People search: rewrite the changed profiles' rows in batches —
		 * all of them once the log is applied (before `done` moves, so a
		 * read after the barrier finds everyone), one batch a second
		 * behind a backlog */
		if (rc == 0 || (rc > 0 && clock_mono_ms() - last_index_mono >= ENGINE_INDEX_MS)) {
			struct cairn_err ierr = CAIRN_ERR_INIT;
			int n;
			while ((n = store_search_index(e->st, ENGINE_INDEX_BATCH, &ierr)) == ENGINE_INDEX_BATCH && rc == 0)
				;
			if (n < 0)
				log_error("indexing people for search failed; will retry", "error", ierr.message, NULL);
			last_index_mono = clock_mono_ms();
		}
		if (rc >= 0) {
			pthread_mutex_lock(&e->lock);
			atomic_store(&e->done, cur);
			pthread_cond_broadcast(&e->applied);
			pthread_mutex_unlock(&e->lock);
			backoff_ms = 0;
			if (rc > 0)
				continue;
		} else {
			log_error("engine batch failed; will retry", "error", err.message, NULL);
			backoff_ms = backoff_ms ? (backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2) : 50;
		}
		pthread_mutex_lock(&e->lock);
		if (e->stopping) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		if (e->head <= atomic_load(&e->done) || backoff_ms) {
			/* a poll for writers in other processes (CLI import) */
			struct timespec ts;
			clock_deadline_after(&ts, backoff_ms ? backoff_ms : 200);
			pthread_cond_timedwait(&e->wake, &e->lock, &ts);
		}
		int stop = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			break;
	}
	return NULL;
}

struct engine *engine_new(struct store *st)
{
	struct engine *e = xcalloc(1, sizeof *e);
	e->st = st;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->wake, NULL);
	pthread_cond_init(&e->applied, NULL);
	e->head = store_log_head(st);
	pthread_create(&e->thread, NULL, engine_main, e);
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = 1;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->wake);
	pthread_cond_destroy(&e->applied);
	free(e);
}

void engine_notify(struct engine *e, int64_t head)
{
	pthread_mutex_lock(&e->lock);
	if (head > e->head)
		e->head = head;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
}

int64_t engine_applied(struct engine *e)
{
	return atomic_load(&e->done);
}

int engine_sync(struct engine *e, int timeout_ms)
{
	int64_t until = clock_mono_ms() + timeout_ms;
	for (int round = 0; round < 8; round++) {
		pthread_mutex_lock(&e->lock);
		uint64_t target = ++e->tick_req;
		pthread_cond_signal(&e->wake);
		while (e->tick_done < target) {
			struct timespec ts;
			clock_deadline_after(&ts, 50);
			pthread_cond_timedwait(&e->applied, &e->lock, &ts);
			if (clock_mono_ms() > until) {
				pthread_mutex_unlock(&e->lock);
				return -1;
			}
		}
		pthread_mutex_unlock(&e->lock);
		int64_t head = store_log_head(e->st);
		int64_t left = until - clock_mono_ms();
		if (left <= 0 || engine_wait_applied(e, head, (int)left) < 0)
			return -1;
		if (store_log_head(e->st) == head)
			return 0; /* nothing new was emitted */
	}
	return 0;
}

int engine_wait_applied(struct engine *e, int64_t id, int timeout_ms)
{
	struct timespec ts;
	clock_deadline_after(&ts, timeout_ms);
	pthread_mutex_lock(&e->lock);
	if (id > e->head) {
		e->head = id;
		pthread_cond_signal(&e->wake);
	}
	int rc = 0;
	while (atomic_load(&e->done) < id) {
		if (pthread_cond_timedwait(&e->applied, &e->lock, &ts) == ETIMEDOUT) {
			rc = atomic_load(&e->done) < id ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void engine_forward_soon(struct engine *e)
{
	atomic_store(&e->forward_req, 1);
	pthread_mutex_lock(&e->lock);
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->lock);
}
