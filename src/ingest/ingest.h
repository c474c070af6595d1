/* ingest.h — the Segment-compatible Tracking API, below HTTP.
 *
 * ingest_parse turns one request body into normalized messages or one error;
 * it is pure (no I/O) so it can be fuzzed and unit-tested. The writer turns
 * messages into durable log entries with group commit. The applier
 * (ingest_apply_event) is what the engine runs for each logged event to keep
 * identities and profiles up to date.
 *
 * Limits (CONVENTIONS §1): 32 KB per message, 500 KB per request after
 * inflation, 2,500 messages per batch, messageId under 100 characters. */
#ifndef INGEST_INGEST_H
#define INGEST_INGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define INGEST_MAX_MESSAGE    (32u * 1024u)
#define INGEST_MAX_REQUEST    (500u * 1024u)
#define INGEST_MAX_BATCH      2500
#define INGEST_MAX_MESSAGE_ID 100
#define INGEST_MAX_DEPTH      32

enum ingest_kind {
	INGEST_IDENTIFY,
	INGEST_TRACK,
	INGEST_PAGE,
	INGEST_SCREEN,
	INGEST_GROUP,
	INGEST_ALIAS,
	INGEST_BATCH /* endpoint only: /v1/batch and /v1/import */
};

/* Endpoint name ("identify", "batch", "import", …) to kind; -1 if unknown. */
int ingest_kind_from_name(const char *name);
const char *ingest_kind_name(enum ingest_kind k);

struct ingest_msg {
	char *type;
	char *name; /* track event / page or screen name, or NULL */
	char *message_id;
	char *user_id;
	char *anonymous_id;
	int64_t ts;
	const char *body; /* the message as sent (points into the request) or owned */
	size_t body_len;
	char *owned; /* set when the stored bytes had to differ from the sent ones */
};

struct ingest_batch {
	struct ingest_msg *msgs;
	size_t n;
	char *write_key; /* writeKey from the body, or NULL */
};

/* Parses and validates a whole request for endpoint kind. received_at is the
 * server's time. On error nothing is returned (batch is empty) and err names
 * the message index and field. The batch may point into body: keep body
 * alive as long as the batch. */
int ingest_parse(enum ingest_kind kind, const char *body, size_t len, int64_t received_at, struct ingest_batch *out,
		 struct cairn_err *err);
void ingest_batch_release(struct ingest_batch *b);

/* Fills store events for the batch (pointing into b; b must outlive them). */
void ingest_batch_events(const struct ingest_batch *b, int64_t workspace_id, unsigned nshards, int64_t received_at,
			 struct store_event *out);

/* ---- group commit ---------------------------------------------------------- */
struct ingest_writer;
struct ingest_job {
	struct store_event *events;
	size_t n;
	unsigned char *dup;		      /* OUT, n entries */
	int status;			      /* OUT: 0 or CAIRN_E* */
	struct cairn_err err;		      /* OUT */
	void (*done)(struct ingest_job *job); /* called on the writer thread */
	void *arg;
	struct ingest_job *next;
};

/* notify(head, arg) is called after each commit with the new log head. */
struct ingest_writer *ingest_writer_new(struct store *st, void (*notify)(int64_t head, void *arg), void *arg);
/* Drains queued jobs, then stops the thread. */
void ingest_writer_free(struct ingest_writer *w);
/* Queues job; job->done runs once it is durable or failed. */
void ingest_writer_submit(struct ingest_writer *w, struct ingest_job *job);
/* Blocks until the events are durable. */
int ingest_writer_append(struct ingest_writer *w, struct store_event *events, size_t n, unsigned char *dup,
			 struct cairn_err *err);
/* Commits and their sizes since start (for /metrics and the bench). */
void ingest_writer_stats(struct ingest_writer *w, uint64_t *commits, uint64_t *events);

/* ---- applying logged events to profiles (engine side) --------------------- */
/* Applies one logged event to identities, profiles, consent, tags, groups
 * and the timeline. Runs inside the engine's transaction. *profile_id (OUT,
 * may be NULL) is the profile the event now belongs to. */
int ingest_apply_event(struct store *st, const struct store_event *ev, int64_t *profile_id, struct cairn_err *err);

/* Builds an internal event (type "consent", "tags", "lifecycle") for the
 * management API, as normalized JSON with a fresh messageId. */
/* Moves every message of from to the end of into (from is left empty). */
void ingest_batch_take(struct ingest_batch *into, struct ingest_batch *from);
int ingest_internal_message(const char *type, const char *user_id, const char *anonymous_id, json_t *payload,
			    int64_t now, struct ingest_batch *out);

#endif
