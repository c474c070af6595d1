/* ingest_import.h — bulk import and export of users and events.
 *
 * Import turns a file (CSV or NDJSON) into Tracking API messages and puts
 * them in the event log; the engine applies them like any other event.
 * Export streams profiles or events out without holding them all in memory.
 * Below HTTP and the CLI: both `cairn import` and POST /api/v1/import/…
 * call ingest_import_run with their own way to write (ingest_import_write_fn).
 *
 * Invariants:
 *   1. Every message an import writes has passed ingest_parse, the same
 *      validation and normalization as /v1/identify and /v1/batch. The one
 *      exception is the internal "tags" message built for a `tags` column,
 *      checked here with the management API's rules (1–200 characters).
 *   2. messageIds are deterministic: "imp_" + 32 hex digits of BLAKE2b over
 *      (kind, format, CSV header and --map, the line number, the row's
 *      bytes). A message that carries its own messageId keeps it. Re-running
 *      the same import therefore stores nothing twice (the log's idempotency
 *      index drops the duplicates), which is also how a crash mid-write is
 *      recovered: run it again.
 *   3. Abort mode (the default): pass 1 reads and validates EVERY row and
 *      spools the normalized messages to an unlinked temporary file; if any
 *      row is bad nothing is written. Pass 2 writes the spool in chunks of
 *      INGEST_IMPORT_CHUNK messages, one transaction each; a row's messages
 *      never straddle two chunks.
 *   4. Skip mode: one pass; good rows are written in chunks as they come,
 *      bad rows are counted and listed.
 *   5. Memory is bounded whatever the input size: one record (at most
 *      INGEST_IMPORT_MAX_RECORD bytes), one chunk, and at most
 *      INGEST_IMPORT_MAX_ERRORS listed errors.
 *
 *   read row --ok--> [abort: spool | skip: chunk] --chunk full / end--> write
 *       \--bad--> error list --(abort mode, at end)--> nothing written
 *
 * Errors: 0 or a negative CAIRN_E* with err filled (STYLE §4). Row errors
 * are not function errors: they go to the result's list, each with its line
 * number and a reason such as "traits.email: must be a string, not a number".
 */
#ifndef INGEST_INGEST_IMPORT_H
#define INGEST_INGEST_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "ingest/ingest.h"
#include "store/store.h"

#define INGEST_IMPORT_MAX_RECORD  (256u * 1024u) /* one CSV record or NDJSON line */
#define INGEST_IMPORT_MAX_COLUMNS 1024
#define INGEST_IMPORT_MAX_TAGS	  1000 /* per row */
#define INGEST_IMPORT_CHUNK	  1000 /* messages per write (transaction) */
#define INGEST_IMPORT_MAX_ERRORS  1000 /* listed; all are counted */

/* ---- a byte source: a FILE (streamed) or memory -------------------------- */
struct ingest_src {
	FILE *f;		/* NULL for memory */
	const unsigned char *p; /* the window: memory, or own for a FILE */
	size_t len, pos;
	unsigned char *own;
	uint64_t offset; /* bytes consumed before p[0] */
	int eof;	 /* nothing more will come into the window */
	int error;	 /* errno of a read failure, or 0 */
};

/* The source borrows p (memory) or f (not closed by release). */
void ingest_src_init_mem(struct ingest_src *s, const void *p, size_t n);
void ingest_src_init_file(struct ingest_src *s, FILE *f);
void ingest_src_release(struct ingest_src *s);
/* Bytes consumed so far (progress). */
uint64_t ingest_src_offset(const struct ingest_src *s);

/* ---- RFC 4180 CSV reader -------------------------------------------------- */
/* Fields are separated by ',' and records by CRLF or LF; a field in double
 * quotes may hold ',', newlines and "" (one quote). A leading UTF-8 BOM is
 * skipped; a UTF-16 BOM is an error. A quote inside an unquoted field is
 * taken literally; text after a closing quote is an error. Completely empty
 * lines are skipped. Pure: no I/O beyond the source. */
struct ingest_csv_field {
	size_t off, len;
	const char *ptr; /* NUL-terminated (the field itself may hold NULs) */
};

struct ingest_csv {
	struct ingest_src *src;
	size_t line;	 /* line number of the next byte, from 1 */
	size_t rec_line; /* OUT: the line the last record started on */
	size_t nfields;	 /* OUT: fields of the last record */
	struct ingest_csv_field *fields;
	/* private */
	struct buf rec;
	size_t cap;
	int started;
};

void ingest_csv_init(struct ingest_csv *c, struct ingest_src *src);
void ingest_csv_release(struct ingest_csv *c);
/* Reads the next record: 1 (fields set), 0 at the end, CAIRN_EINVAL for a
 * malformed record ("line 7: a quoted field is never closed …"; the reader
 * has consumed it and can go on), or CAIRN_EIO when reading fails. */
int ingest_csv_next(struct ingest_csv *c, struct cairn_err *err);

/* ---- import ---------------------------------------------------------------- */
enum ingest_import_kind { INGEST_IMPORT_USERS, INGEST_IMPORT_EVENTS };
enum ingest_import_format { INGEST_FORMAT_AUTO, INGEST_FORMAT_CSV, INGEST_FORMAT_NDJSON };

/* "csv" / "ndjson" (also "jsonl", "json") to a format; -1 if unknown. */
int ingest_import_format_from_name(const char *name);
/* The format a file name suggests (".csv", ".ndjson", ".jsonl", ".json"),
 * or INGEST_FORMAT_AUTO. */
enum ingest_import_format ingest_import_format_guess(const char *path);

/* Appends the messages of b durably, in order, in ONE transaction; dup[i]
 * (OUT) is 1 when message i was already stored. Returns 0 or CAIRN_E*. */
typedef int (*ingest_import_write_fn)(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err);

enum ingest_import_phase {
	INGEST_PHASE_READ,  /* reading (and, in skip mode, writing) */
	INGEST_PHASE_WRITE, /* abort mode, pass 2 */
};

struct ingest_import_progress {
	enum ingest_import_phase phase;
	uint64_t bytes; /* input bytes read */
	size_t rows;	/* data rows read */
	size_t written; /* rows written (imported + duplicates) */
	size_t total;	/* rows to write in INGEST_PHASE_WRITE, else 0 */
};

struct ingest_import_opts {
	enum ingest_import_kind kind;
	enum ingest_import_format format; /* AUTO: NDJSON if the input starts with '{', else CSV */
	int skip_bad;			  /* 0: any bad row aborts and nothing is written */
	const char *const *map;		  /* "column=trait" renames (CSV only); "column=" drops */
	size_t nmap;
	int64_t received_at;   /* receivedAt, and timestamp when a row has none */
	const char *spool_dir; /* abort mode's temporary file; NULL: $TMPDIR or /tmp */
	size_t chunk;	       /* messages per write; 0: INGEST_IMPORT_CHUNK */
	ingest_import_write_fn write;
	void *write_arg;
	/* Called every few hundred rows and at the end of each phase; may be NULL. */
	void (*progress)(const struct ingest_import_progress *p, void *arg);
	void *progress_arg;
};

struct ingest_import_error {
	size_t line;
	char *message; /* the reason, without "line N: " */
};

struct ingest_import_result {
	size_t rows;	   /* data rows read (not the header, not blank lines) */
	size_t imported;   /* rows with at least one newly stored message */
	size_t duplicates; /* rows already stored by an earlier run: nothing written */
	size_t skipped;	   /* bad rows (left out in skip mode; the abort's cause otherwise) */
	size_t messages;   /* messages newly stored */
	int aborted;	   /* abort mode found bad rows: nothing was written */
	struct ingest_import_error *errors;
	size_t nerrors; /* listed: at most INGEST_IMPORT_MAX_ERRORS */
	int errors_truncated;
};

/* Runs an import from src. res (OUT) is filled in every case and must be
 * released. Returns 0 (skip mode may have skipped rows), CAIRN_EUNPROC when
 * abort mode found bad rows (res lists them; nothing written), CAIRN_EINVAL
 * for input that cannot be imported at all (no header, no id column, bad
 * --map, UTF-16 …), or CAIRN_EIO when reading or writing failed (err says
 * how many rows were written before; a re-run finishes the job). */
int ingest_import_run(const struct ingest_import_opts *o, struct ingest_src *src, struct ingest_import_result *res,
		      struct cairn_err *err);
void ingest_import_result_release(struct ingest_import_result *res);
/* {"rows":…,"imported":…,"duplicates":…,"skipped":…,"errors":[{"line":…,
 * "message":…}]} plus "errors_truncated":true and "aborted":true when so.
 * New reference. */
json_t *ingest_import_result_json(const struct ingest_import_result *res);

/* A write function that appends straight to a store (the CLI, tests). */
struct ingest_import_store {
	struct store *st;
	int64_t ws;
	unsigned nshards;
	int64_t received_at;
	int64_t last_id; /* OUT: highest event id written */
};
int ingest_import_write_store(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err);

/* ---- export ---------------------------------------------------------------- */
/* Receives output bytes; returns 0, or -1 to stop (the caller's own error). */
typedef int (*ingest_out_fn)(const char *p, size_t n, void *arg);

#define INGEST_EXPORT_CSV_BOM 1 /* flags: start CSV with a UTF-8 BOM (Excel) */

/* Streams every profile of ws: NDJSON (one GET /api/v1/users/{id} object a
 * line) or CSV with the columns user_id, anonymous_id, email, phone, name,
 * first_name, last_name, lifecycle_stage, tags (JSON array), created_at,
 * traits (JSON object of the other traits, consent included). A reserved
 * column (email … created_at) holds its trait when that is a string.
 * *count (OUT) is the number of profiles written. CAIRN_EIO when out fails (err set
 * unless out set it) or the store does. */
int ingest_export_users(struct store *st, int64_t ws, enum ingest_import_format format, int flags, ingest_out_fn out,
			void *arg, size_t *count, struct cairn_err *err);
/* Streams the events of ws in log order as NDJSON (the stored, normalized
 * messages). Internal events (consent, tags, lifecycle, written by the
 * management API) only when internal is set: import does not take them. */
int ingest_export_events(struct store *st, int64_t ws, int internal, ingest_out_fn out, void *arg, size_t *count,
			 struct cairn_err *err);

#endif
