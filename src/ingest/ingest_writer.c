/* ingest_writer.c — group commit for the event log.
 *
 * Request threads queue jobs; one writer thread takes EVERYTHING queued,
 * appends it in one transaction, fsyncs once, then completes every job.
 * A job that arrives while a commit is running is taken by the next commit,
 * so no request waits for more than one commit after its own arrival's.
 *
 *   queued --(writer takes the queue)--> committing --(COMMIT ok)--> done(0)
 *                                                   \--(error)-----> done(E)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "ingest/ingest.h"

struct ingest_writer {
	struct store *st;
	void (*notify)(int64_t head, void *arg);
	void *notify_arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ingest_job *head, *tail;
	int stopping;
	_Atomic uint64_t commits, events;
	/* reused across commits */
	struct store_event *evs;
	size_t evs_cap;
	unsigned char *dup;
	size_t dup_cap;
};

static void commit_jobs(struct ingest_writer *w, struct ingest_job *jobs)
{
	size_t total = 0;
	for (struct ingest_job *j = jobs; j; j = j->next)
		total += j->n;
	xgrow((void **)&w->evs, &w->evs_cap, total, sizeof *w->evs);
	xgrow((void **)&w->dup, &w->dup_cap, total, 1);
	size_t at = 0;
	for (struct ingest_job *j = jobs; j; j = j->next) {
		memcpy(w->evs + at, j->events, j->n * sizeof *j->events);
		at += j->n;
	}
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = total ? store_log_append(w->st, w->evs, total, w->dup, &err) : 0;
	if (rc == 0) {
		w->commits++;
		w->events += total;
	}
	at = 0;
	struct ingest_job *j = jobs;
	while (j) {
		struct ingest_job *next = j->next; /* done() may free j */
		j->status = rc;
		if (rc < 0) {
			j->err = err;
		} else {
			for (size_t i = 0; i < j->n; i++) {
				j->events[i].id = w->evs[at + i].id;
				j->dup[i] = w->dup[at + i];
			}
		}
		at += j->n;
		j->done(j);
		j = next;
	}
	if (rc == 0 && total && w->notify)
		w->notify(store_log_head(w->st), w->notify_arg);
}

static void *writer_main(void *arg)
{
	struct ingest_writer *w = arg;
	pthread_setname_np(pthread_self(), "cairn-writer");
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->head && w->stopping)
			break;
		struct ingest_job *jobs = w->head;
		w->head = w->tail = NULL;
		pthread_mutex_unlock(&w->lock);
		commit_jobs(w, jobs);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct ingest_writer *ingest_writer_new(struct store *st, void (*notify)(int64_t head, void *arg), void *arg)
{
	struct ingest_writer *w = xcalloc(1, sizeof *w);
	w->st = st;
	w->notify = notify;
	w->notify_arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_create(&w->thread, NULL, writer_main, w);
	return w;
}

void ingest_writer_free(struct ingest_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w->evs);
	free(w->dup);
	free(w);
}

void ingest_writer_submit(struct ingest_writer *w, struct ingest_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void sync_done(struct ingest_job *job)
{
	struct sync_wait *s = job->arg;
	pthread_mutex_lock(&s->lock);
	s->done = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int ingest_writer_append(struct ingest_writer *w, struct store_event *events, size_t n, unsigned char *dup,
			 struct cairn_err *err)
{
	struct sync_wait s = {.done = 0};
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	struct ingest_job job = {.events = events, .n = n, .dup = dup, .done = sync_done, .arg = &s};
	ingest_writer_submit(w, &job);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	if (job.status < 0 && err && !err->code)
		*err = job.err;
	return job.status;
}

void ingest_writer_stats(struct ingest_writer *w, uint64_t *commits, uint64_t *events)
{
	pthread_mutex_lock(&w->lock);
	*commits = w->commits;
	*events = w->events;
	pthread_mutex_unlock(&w->lock);
}
