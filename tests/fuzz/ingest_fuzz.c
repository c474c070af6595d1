/* ingest_fuzz.c — libFuzzer harness for the Tracking API body parser.
 *
 * Runs ingest_parse on the input for every endpoint kind (identify … alias,
 * batch), reads every byte of every message it returns (bodies may point
 * into the input, so a bad offset shows up under ASan), turns the batch into
 * store events, and frees everything. A parse error is a normal outcome;
 * any crash, leak or sanitizer report is a bug. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

#define NOW 1767225600000LL /* 2026-01-01T00:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so reads past the end are caught */
	char *body = malloc(size ? size : 1);
	if (size)
		memcpy(body, data, size);
	for (int k = INGEST_IDENTIFY; k <= INGEST_BATCH; k++) {
		struct ingest_batch b;
		struct cairn_err err = CAIRN_ERR_INIT;
		int rc = ingest_parse((enum ingest_kind)k, body, size, NOW, &b, &err);
		if (rc < 0) {
			if (b.n != 0 || b.msgs != NULL || err.code == 0 || strlen(err.message) == 0)
				abort(); /* an error returns nothing and says why */
			continue;
		}
		size_t sum = touch(b.write_key);
		for (size_t i = 0; i < b.n; i++) {
			const struct ingest_msg *m = &b.msgs[i];
			if (!m->type || !m->message_id || (!m->user_id && !m->anonymous_id) || !m->body)
				abort(); /* every accepted message is complete */
			sum += touch(m->type) + touch(m->name) + touch(m->message_id) + touch(m->user_id) +
			       touch(m->anonymous_id);
			for (size_t j = 0; j < m->body_len; j++)
				sum += (unsigned char)m->body[j];
		}
		if (b.n) {
			struct store_event *evs = calloc(b.n, sizeof *evs);
			ingest_batch_events(&b, 1, 16, NOW, evs);
			for (size_t i = 0; i < b.n; i++)
				if (evs[i].shard >= 16)
					abort();
			free(evs);
		}
		(void)sum;
		ingest_batch_release(&b);
	}
	free(body);
	return 0;
}
