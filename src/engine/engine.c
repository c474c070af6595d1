#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "ingest/ingest.h"
#include "segment/segment.h"

#define ENGINE_BATCH 4000
#define ENGINE_CURSOR "profiles"

struct engine {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* the engine waits on it */
	pthread_cond_t applied; /* waiters for progress */
	int64_t head;
	_Atomic int64_t done;
	int stopping;
};

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
static int apply_batch(struct store *st, int64_t *cursor, struct cairn_err *err)
{
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
			rc = 1;
			goto out;
		}
		int64_t last = start;
		for (size_t i = 0; i < b.n && rc == 0; i++) {
			struct cairn_err e = CAIRN_ERR_INIT;
			int64_t pid = 0;
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
			/* per-user aggregates and computed traits (pid is 0 for a skipped event) */
			if (pid && seg_apply_event(st, &b.evs[i], pid, &e) < 0) {
				*err = e;
				rc = -1;
				break;
			}
			last = b.evs[i].id;
		}
		if (rc == 0 && (store_cursor_set(st, ENGINE_CURSOR, last, err) < 0 || store_commit(st, err) < 0))
			rc = -1;
		if (rc < 0)
			store_rollback(st);
		else {
			*cursor = last;
			rc = 1;
		}
	} else if (rc == 0 && b.n) {
		rc = -1;
	}
out:
	arena_release(&b.arena);
	free(b.evs);
	return rc;
}

int engine_catch_up(struct store *st, struct cairn_err *err)
{
	int64_t cur;
	int rc;
	while ((rc = apply_batch(st, &cur, err)) > 0)
		;
	return rc;
}

static void *engine_main(void *arg)
{
	struct engine *e = arg;
	int backoff_ms = 0;
	pthread_setname_np(pthread_self(), "cairn-engine");
	/* Ingestion answers clients; the engine catches up. On a busy box the
	 * scheduler should favour the former (Linux: per-thread nice). */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	for (;;) {
		struct cairn_err err = CAIRN_ERR_INIT;
		int64_t cur = 0;
		int rc = apply_batch(e->st, &cur, &err);
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
