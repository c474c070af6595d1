/* csv_fuzz.c — libFuzzer harness for the CSV reader and bulk import.
 *
 * Byte 0 chooses what to run; the rest is the input:
 *   bit 0      0: the CSV reader alone, checking its invariants
 *              1: a whole import (ingest_import_run) into a write function
 *                 that reads every message and keeps nothing: no store
 *   bit 1      skip bad rows (else abort mode, with its temporary file)
 *   bit 2      events (else users)
 *   bits 3–4   format: auto, csv, ndjson, auto
 *   bit 5      chunks of 2 messages (else the default)
 *   bit 6      a column map {"a=user_id", "b=", "c=x.y"}
 *   bit 7      read through a FILE (fmemopen) instead of memory
 * Any crash, leak, hang or sanitizer report is a bug; bad input is normal. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_import.h"

#define NOW 1767225600000LL

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? 1 : 0;
}

static void read_csv(struct ingest_src *src)
{
	struct ingest_csv c;
	ingest_csv_init(&c, src);
	size_t last_line = 0;
	for (int guard = 0; guard < 1000000; guard++) {
		struct cairn_err err = CAIRN_ERR_INIT;
		int rc = ingest_csv_next(&c, &err);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (!err.message[0])
				abort();
			if (rc != CAIRN_EINVAL)
				break;
			continue;
		}
		if (c.nfields == 0 || c.nfields > INGEST_IMPORT_MAX_COLUMNS || c.rec_line < last_line ||
		    c.rec_line > c.line)
			abort();
		last_line = c.rec_line;
		size_t total = 0;
		for (size_t i = 0; i < c.nfields; i++) {
			if (c.fields[i].ptr[c.fields[i].len] != '\0')
				abort();
			total += c.fields[i].len;
		}
		if (total > INGEST_IMPORT_MAX_RECORD)
			abort();
	}
	ingest_csv_release(&c);
}

static int sink(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err)
{
	size_t *n = arg;
	for (size_t i = 0; i < b->n; i++) {
		const struct ingest_msg *m = &b->msgs[i];
		if (!m->type || !m->message_id || !m->body || (!m->user_id && !m->anonymous_id))
			abort();
		unsigned sum = 0;
		for (size_t j = 0; j < m->body_len; j++)
			sum += (unsigned char)m->body[j];
		dup[i] = (unsigned char)((sum + *n) & 1); /* pretend some were seen before */
		(*n)++;
	}
	return 0;
}

static void run_import(struct ingest_src *src, uint8_t ctl)
{
	static const char *const map[] = {"a=user_id", "b=", "c=x.y"};
	static const enum ingest_import_format formats[] = {INGEST_FORMAT_AUTO, INGEST_FORMAT_CSV, INGEST_FORMAT_NDJSON,
							    INGEST_FORMAT_AUTO};
	size_t written = 0;
	struct ingest_import_opts o = {
		.kind = ctl & 4 ? INGEST_IMPORT_EVENTS : INGEST_IMPORT_USERS,
		.format = formats[(ctl >> 3) & 3],
		.skip_bad = ctl & 2,
		.map = ctl & 64 ? map : NULL,
		.nmap = ctl & 64 ? 3 : 0,
		.received_at = NOW,
		.chunk = ctl & 32 ? 2 : 0,
		.write = sink,
		.write_arg = &written,
	};
	struct ingest_import_result res;
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = ingest_import_run(&o, src, &res, &err);
	if (rc < 0 && !err.message[0])
		abort();
	if (rc == 0 && res.imported + res.duplicates + res.skipped != res.rows)
		abort(); /* every row is accounted for */
	if (res.aborted && written)
		abort(); /* abort mode writes nothing */
	json_t *j = ingest_import_result_json(&res);
	if (!j)
		abort(); /* error messages are valid UTF-8 */
	json_decref(j);
	ingest_import_result_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	size_t n = size - 1;
	char *in = malloc(n ? n : 1);
	if (n)
		memcpy(in, data + 1, n);
	struct ingest_src src;
	FILE *f = NULL;
	if ((ctl & 128) && n) {
		f = fmemopen(in, n, "rb");
		if (!f)
			abort();
		ingest_src_init_file(&src, f);
	} else {
		ingest_src_init_mem(&src, in, n);
	}
	if (ctl & 1)
		run_import(&src, ctl);
	else
		read_csv(&src);
	ingest_src_release(&src);
	if (f)
		fclose(f);
	free(in);
	return 0;
}
