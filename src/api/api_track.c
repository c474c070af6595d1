/* api_track.c — Tracking API handlers (/v1/identify … /v1/batch), answered after group commit. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"
#include "core/clock.h"
#include "core/xalloc.h"

struct track_job {
	struct ingest_job job;
	struct ingest_batch batch;
	struct http_request *r;
	struct app *a;
};

static void track_done(struct ingest_job *job)
{
	struct track_job *t = (struct track_job *)job;
	if (job->status < 0)
		http_error(t->r, &job->err);
	else
		http_json(t->r, 200, json_pack("{s:b}", "success", 1));
	struct http_request *r = t->r;
	ingest_batch_release(&t->batch);
	free(job->events);
	free(job->dup);
	free(t);
	http_resume(r);
}

void api_track(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *path = http_path(r);
	const char *name = strrchr(path, '/');
	int kind = name ? ingest_kind_from_name(name + 1) : -1;
	if (kind < 0) {
		http_errorf(r, CAIRN_ENOTFOUND, "not_found", "", "There is no Tracking API endpoint at %s.", path);
		return;
	}
	int64_t now = clock_now_ms();
	struct track_job *t = xcalloc(1, sizeof *t);
	struct cairn_err err = CAIRN_ERR_INIT;
	const struct buf *body = http_body(r);
	if (ingest_parse((enum ingest_kind)kind, body->ptr, body->len, now, &t->batch, &err) < 0) {
		/* a bad key is reported before a bad body when no key came in a header */
		if (!http_workspace(r)) {
			http_errorf(
				r, CAIRN_EAUTH, "unauthorized", "",
				"Send the workspace write key as the HTTP Basic user name (or writeKey in the body).");
		} else {
			http_error(r, &err);
		}
		free(t);
		return;
	}
	if (!http_workspace(r) && http_authenticate(r, t->batch.write_key, HTTP_AUTH_WRITE) < 0) {
		http_errorf(
			r, CAIRN_EAUTH, "unauthorized", "",
			"Send the workspace write key as the HTTP Basic user name (or writeKey in the body); this one "
			"is missing or invalid.");
		http_header_add(r, "WWW-Authenticate", "Basic realm=\"cairn\"");
		ingest_batch_release(&t->batch);
		free(t);
		return;
	}
	size_t n = t->batch.n;
	t->r = r;
	t->a = a;
	t->job.events = xcalloc(n ? n : 1, sizeof *t->job.events);
	t->job.dup = xcalloc(n ? n : 1, 1);
	t->job.n = n;
	t->job.done = track_done;
	ingest_batch_events(&t->batch, http_workspace(r), (unsigned)a->cfg->shards, now, t->job.events);
	http_suspend(r);
	ingest_writer_submit(a->writer, &t->job);
}
