/* ingest_import.c — bulk import (CSV, NDJSON) and streaming export.
 *
 * See ingest_import.h for the invariants. How a row becomes messages:
 *
 *   users CSV     one identify {userId, anonymousId, traits} per row; a
 *                 column `a.b` sets traits.a.b; `traits` (a JSON object) is
 *                 merged under the columns; `tags` adds tags (an internal
 *                 "tags" message after the identify).
 *   users NDJSON  an identify-shaped object per line, used as is; or a line
 *                 as `cairn export users` writes it (a profile: "id",
 *                 "anonymous_ids", "user_ids", "traits", "consent", "tags",
 *                 "lifecycle_stage", "groups"), turned into the identify,
 *                 alias, group and tags messages that rebuild it.
 *   events NDJSON one Tracking API message per line, with its "type".
 *
 * Every message then takes the same road: "sentAt" is dropped (a file has
 * no send time; skew correction would move history to today), a missing
 * messageId is derived from the row (invariant 2), and ingest_parse
 * validates and normalizes it. */
#include "ingest/ingest_import.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/jsonx.h"
#include "core/shard.h"
#include "core/xalloc.h"

#define SRC_WINDOW     (64u * 1024u)
#define SNIFF_BYTES    4096u
#define PROGRESS_EVERY 512
#define KIND_TAGS      100 /* beside enum ingest_kind: the internal "tags" message */
#define TAG_MAX_BYTES  200

/* ==== byte source ============================================================ */

void ingest_src_init_mem(struct ingest_src *s, const void *p, size_t n)
{
	memset(s, 0, sizeof *s);
	s->p = p;
	s->len = n;
	s->eof = 1;
}

void ingest_src_init_file(struct ingest_src *s, FILE *f)
{
	memset(s, 0, sizeof *s);
	s->f = f;
	s->own = xmalloc(SRC_WINDOW);
	s->p = s->own;
}

void ingest_src_release(struct ingest_src *s)
{
	free(s->own);
	memset(s, 0, sizeof *s);
}

uint64_t ingest_src_offset(const struct ingest_src *s)
{
	return s->offset + s->pos;
}

/* Makes at least k (<= SRC_WINDOW) bytes available unless the input ends
 * first; returns how many are. */
static size_t src_fill(struct ingest_src *s, size_t k)
{
	while (s->len - s->pos < k && !s->eof) {
		size_t keep = s->len - s->pos;
		memmove(s->own, s->own + s->pos, keep);
		s->offset += s->pos;
		s->pos = 0;
		s->len = keep;
		size_t want = SRC_WINDOW - keep;
		size_t got = fread(s->own + keep, 1, want, s->f);
		s->len += got;
		if (got < want) { /* fread is short only at the end or on error */
			if (ferror(s->f))
				s->error = errno ? errno : EIO;
			s->eof = 1;
		}
	}
	return s->len - s->pos;
}

static int src_getc(struct ingest_src *s)
{
	if (s->pos == s->len && src_fill(s, 1) == 0)
		return -1;
	return s->p[s->pos++];
}

static int src_peekc(struct ingest_src *s)
{
	if (s->pos == s->len && src_fill(s, 1) == 0)
		return -1;
	return s->p[s->pos];
}

/* Skips a UTF-8 byte order mark; refuses UTF-16. */
static int src_skip_bom(struct ingest_src *s, struct cairn_err *err)
{
	size_t n = src_fill(s, 3);
	const unsigned char *q = s->p + s->pos;
	if (n >= 3 && q[0] == 0xEF && q[1] == 0xBB && q[2] == 0xBF) {
		s->pos += 3;
		return 0;
	}
	if (n >= 2 && ((q[0] == 0xFF && q[1] == 0xFE) || (q[0] == 0xFE && q[1] == 0xFF)))
		return cairn_err_set(
			err, CAIRN_EINVAL, "unsupported_encoding", "",
			"The input is UTF-16; save it as UTF-8 (in Excel: \"CSV UTF-8\") and import it again.");
	return 0;
}

static int src_read_failed(struct ingest_src *s, struct cairn_err *err)
{
	return cairn_err_set(err, CAIRN_EIO, "read_failed", "", "Reading the input failed: %s.", strerror(s->error));
}

/* ==== CSV reader =============================================================== */

enum csv_state { CSV_FIELD_START, CSV_UNQUOTED, CSV_QUOTED, CSV_QUOTE_SEEN };

void ingest_csv_init(struct ingest_csv *c, struct ingest_src *src)
{
	memset(c, 0, sizeof *c);
	c->src = src;
	c->line = 1;
	buf_init(&c->rec, INGEST_IMPORT_MAX_RECORD);
}

void ingest_csv_release(struct ingest_csv *c)
{
	buf_release(&c->rec);
	free(c->fields);
	memset(c, 0, sizeof *c);
}

static void csv_field_begin(struct ingest_csv *c, char *problem, size_t cap)
{
	if (c->nfields == INGEST_IMPORT_MAX_COLUMNS) {
		if (!problem[0])
			snprintf(problem, cap, "the row has more than %u fields", INGEST_IMPORT_MAX_COLUMNS);
		return; /* the rest lands in the last field; the row is reported */
	}
	xgrow((void **)&c->fields, &c->cap, c->nfields + 1, sizeof *c->fields);
	c->fields[c->nfields].off = c->rec.len;
	c->nfields++;
}

/* 1 record, 2 an empty line (skipped), 0 the end, or an error. */
static int csv_record(struct ingest_csv *c, struct cairn_err *err)
{
	struct ingest_src *s = c->src;
	char problem[200] = "";
	int st = CSV_FIELD_START;
	int any = 0;
	int quoted = 0;
	buf_reset(&c->rec);
	c->nfields = 0;
	c->rec_line = c->line;
	csv_field_begin(c, problem, sizeof problem);
	for (;;) {
		int ch = src_getc(s);
		if (ch < 0) {
			if (s->error)
				return src_read_failed(s, err);
			if (!any) {
				c->nfields = 0;
				return 0;
			}
			if (st == CSV_QUOTED && !problem[0])
				snprintf(problem, sizeof problem,
					 "field %zu opens a quote that is never closed (a stray '\"'? inside a quoted "
					 "field "
					 "write a quote as \"\")",
					 c->nfields);
			break;
		}
		any = 1;
		if (st == CSV_QUOTED) {
			if (ch == '"') {
				st = CSV_QUOTE_SEEN;
				continue;
			}
			if (ch == '\n')
				c->line++;
			buf_addch(&c->rec, (char)ch);
			continue;
		}
		if (st == CSV_QUOTE_SEEN) {
			if (ch == '"') { /* "" inside quotes is one quote */
				buf_addch(&c->rec, '"');
				st = CSV_QUOTED;
				continue;
			}
			st = CSV_UNQUOTED;
			int ends = ch == ',' || ch == '\n' || (ch == '\r' && src_peekc(s) == '\n');
			if (!ends && !problem[0])
				snprintf(problem, sizeof problem,
					 "field %zu has text after its closing quote (inside a quoted field write a "
					 "quote "
					 "as \"\")",
					 c->nfields);
		} else if (st == CSV_FIELD_START && ch == '"') {
			st = CSV_QUOTED;
			quoted = 1;
			continue;
		}
		if (ch == ',') {
			buf_addch(&c->rec, '\0');
			csv_field_begin(c, problem, sizeof problem);
			st = CSV_FIELD_START;
			continue;
		}
		if (ch == '\n') {
			c->line++;
			break;
		}
		if (ch == '\r' && src_peekc(s) == '\n')
			continue;
		buf_addch(&c->rec, (char)ch);
		st = CSV_UNQUOTED;
	}
	buf_addch(&c->rec, '\0');
	if (c->rec.overflow && !problem[0])
		snprintf(problem, sizeof problem, "the row is longer than %u KB", INGEST_IMPORT_MAX_RECORD / 1024);
	if (problem[0])
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_csv", "", "line %zu: %s", c->rec_line, problem);
	if (c->nfields == 1 && c->rec.len == 1 && !quoted)
		return 2;
	for (size_t i = 0; i < c->nfields; i++) {
		size_t end = i + 1 < c->nfields ? c->fields[i + 1].off : c->rec.len;
		c->fields[i].len = end - 1 - c->fields[i].off;
		c->fields[i].ptr = c->rec.ptr + c->fields[i].off;
	}
	return 1;
}

int ingest_csv_next(struct ingest_csv *c, struct cairn_err *err)
{
	if (!c->started) {
		c->started = 1;
		int rc = src_skip_bom(c->src, err);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		int rc = csv_record(c, err);
		if (rc != 2)
			return rc;
	}
}

/* ==== import state ============================================================== */

enum col_role { ROLE_TRAIT, ROLE_USER_ID, ROLE_ANON_ID, ROLE_TRAITS_JSON, ROLE_TAGS, ROLE_DROPPED, ROLE_UNNAMED };

struct col {
	char *name;   /* trimmed header name */
	char *target; /* from --map, or NULL */
	enum col_role role;
	char **path; /* ROLE_TRAIT: traits.a.b → {"a","b"} */
	size_t depth;
};

struct row_msg {
	json_t *j;
	int kind;	/* enum ingest_kind or KIND_TAGS */
	char where[48]; /* prefix for its errors, e.g. "groups[2]" */
};

/* The messages one row turns into, before validation. */
struct msgset {
	struct row_msg *m;
	size_t n, cap;
};

/* Messages waiting to be written, with row boundaries for the counts. */
struct chunk {
	struct ingest_batch b;
	size_t cap;
	size_t *row_n;
	size_t nrows, rows_cap;
	unsigned char *dup;
	size_t dup_cap;
};

struct imp {
	const struct ingest_import_opts *o;
	struct ingest_src *src;
	struct ingest_import_result *res;
	enum ingest_import_format format;
	size_t chunk_max;
	unsigned char base[32]; /* digest of what every row's messageId depends on */
	struct ingest_csv csv;
	struct col *cols;
	size_t ncols;
	struct buf line; /* NDJSON */
	size_t line_no, rec_line;
	FILE *spool;
	size_t spooled_rows;
	struct chunk ch;
};

static void ms_add(struct msgset *ms, json_t *j, int kind, const char *where_fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void ms_add(struct msgset *ms, json_t *j, int kind, const char *where_fmt, ...)
{
	xgrow((void **)&ms->m, &ms->cap, ms->n + 1, sizeof *ms->m);
	struct row_msg *m = &ms->m[ms->n++];
	m->j = j;
	m->kind = kind;
	va_list ap;
	va_start(ap, where_fmt);
	vsnprintf(m->where, sizeof m->where, where_fmt, ap);
	va_end(ap);
}

static void ms_release(struct msgset *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		json_decref(ms->m[i].j);
	free(ms->m);
	memset(ms, 0, sizeof *ms);
}

/* "line 7: reason" → "reason" (the line is kept apart in results). */
static const char *strip_line(const char *msg)
{
	if (strncmp(msg, "line ", 5) != 0)
		return msg;
	const char *p = msg + 5;
	while (*p >= '0' && *p <= '9')
		p++;
	return p[0] == ':' && p[1] == ' ' ? p + 2 : msg;
}

/* Drops a UTF-8 sequence cut short at the end of s (messages are truncated
 * to fit struct cairn_err and may quote the input). */
static void utf8_trim_tail(char *s)
{
	size_t n = strlen(s);
	size_t i = n;
	while (i > 0 && i + 4 > n && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < want)
		s[i - 1] = '\0';
}

static void row_error(struct imp *im, size_t line, const char *reason)
{
	struct ingest_import_result *r = im->res;
	r->skipped++;
	if (r->nerrors >= INGEST_IMPORT_MAX_ERRORS) {
		r->errors_truncated = 1;
		return;
	}
	if (!r->errors)
		r->errors = xcalloc(INGEST_IMPORT_MAX_ERRORS, sizeof *r->errors);
	r->errors[r->nerrors].line = line;
	r->errors[r->nerrors].message = xstrdup(reason);
	utf8_trim_tail(r->errors[r->nerrors].message);
	r->nerrors++;
}

static void report(struct imp *im, enum ingest_import_phase phase, size_t total)
{
	if (!im->o->progress)
		return;
	struct ingest_import_progress p = {
		.phase = phase,
		.bytes = ingest_src_offset(im->src),
		.rows = im->res->rows,
		.written = im->res->imported + im->res->duplicates,
		.total = total,
	};
	im->o->progress(&p, im->o->progress_arg);
}

/* ==== deterministic messageIds ================================================= */

static void hash_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	crypto_generichash_update(h, b, sizeof b);
}

static void hash_bytes(crypto_generichash_state *h, const void *p, size_t n)
{
	hash_u64(h, n);
	crypto_generichash_update(h, p, n);
}

static void base_begin(struct imp *im, crypto_generichash_state *h)
{
	static const char *const kinds[] = {"users", "events"};
	static const char *const formats[] = {"auto", "csv", "ndjson"};
	crypto_generichash_init(h, NULL, 0, 32);
	hash_bytes(h, "cairn-import/1", 14);
	hash_bytes(h, kinds[im->o->kind], strlen(kinds[im->o->kind]));
	hash_bytes(h, formats[im->format], strlen(formats[im->format]));
}

static void row_begin(struct imp *im, crypto_generichash_state *h, size_t line)
{
	crypto_generichash_init(h, NULL, 0, 32);
	crypto_generichash_update(h, im->base, sizeof im->base);
	hash_u64(h, line);
}

/* "imp_" + 32 hex digits for the k-th message of a row. */
static void derive_message_id(const unsigned char digest[32], size_t k, char out[40])
{
	unsigned char in[40], h[16];
	memcpy(in, digest, 32);
	for (int i = 0; i < 8; i++)
		in[32 + i] = (unsigned char)((uint64_t)k >> (8 * i));
	crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
	memcpy(out, "imp_", 4);
	sodium_bin2hex(out + 4, 33, h, sizeof h);
}

/* ==== JSON helpers ================================================================ */

/* Parses untrusted JSON text that must be an object, with the flags and
 * depth limit of jsonx_parse, into messages that fit a row. */
static json_t *parse_object(const char *p, size_t n, const char *what, struct cairn_err *e)
{
	json_error_t je;
	json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!v) {
		if (json_error_code(&je) == json_error_invalid_utf8)
			cairn_err_set(e, CAIRN_EINVAL, "invalid_utf8", "",
				      "%s is not valid UTF-8 (column %d); save the file as UTF-8", what, je.column);
		else
			cairn_err_set(e, CAIRN_EINVAL, "invalid_json", "", "%s is not valid JSON: %s (column %d)", what,
				      je.text, je.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		cairn_err_set(e, CAIRN_EINVAL, "invalid_json", "", "%s must be a JSON object, not %s", what,
			      jsonx_type_name(v));
		json_decref(v);
		return NULL;
	}
	if (jsonx_depth(v, INGEST_MAX_DEPTH) > INGEST_MAX_DEPTH) {
		cairn_err_set(e, CAIRN_EINVAL, "too_deep", "", "%s is nested more than %d levels deep", what,
			      INGEST_MAX_DEPTH);
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Adds what src has and dst lacks, recursing into objects both have:
 * dst's values win. */
static void merge_missing(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach (src, k, v) {
		json_t *d = json_object_get(dst, k);
		if (!d)
			json_object_set(dst, k, v);
		else if (json_is_object(d) && json_is_object(v))
			merge_missing(d, v);
	}
}

static void set_path(json_t *root, char *const *path, size_t depth, json_t *v)
{
	json_t *o = root;
	for (size_t i = 0; i + 1 < depth; i++) {
		json_t *c = json_object_get(o, path[i]);
		if (!json_is_object(c)) {
			c = json_object();
			json_object_set_new(o, path[i], c);
		}
		o = c;
	}
	json_object_set_new(o, path[depth - 1], v);
}

static int check_tags(const json_t *a, const char *where, struct cairn_err *e)
{
	if (!json_is_array(a))
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_tags", where, "%s: must be an array of tags, not %s",
				     where, jsonx_type_name(a));
	if (json_array_size(a) > INGEST_IMPORT_MAX_TAGS)
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_tags", where, "%s: has more than %d tags", where,
				     INGEST_IMPORT_MAX_TAGS);
	size_t i;
	json_t *t;
	json_array_foreach (a, i, t) {
		if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > TAG_MAX_BYTES)
			return cairn_err_set(e, CAIRN_EINVAL, "invalid_tags", where,
					     "%s[%zu]: a tag must be a string of 1 to %d bytes", where, i,
					     TAG_MAX_BYTES);
	}
	return 0;
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* A `tags` cell: a JSON array of strings, or tags separated by commas. */
static json_t *parse_tags_cell(const char *v, size_t n, struct cairn_err *e)
{
	size_t i = 0;
	while (i < n && is_space((unsigned char)v[i]))
		i++;
	json_t *a;
	if (i < n && v[i] == '[') {
		json_error_t je;
		a = json_loadb(v, n, JSON_REJECT_DUPLICATES, &je);
		if (!a) {
			cairn_err_set(e, CAIRN_EINVAL, "invalid_tags", "tags",
				      "tags: is not a valid JSON array: %s (write [\"a\",\"b\"] or a,b)", je.text);
			return NULL;
		}
	} else {
		a = json_array();
		size_t start = 0;
		for (size_t k = 0; k <= n; k++) {
			if (k < n && v[k] != ',')
				continue;
			size_t s = start, end = k;
			while (s < end && is_space((unsigned char)v[s]))
				s++;
			while (end > s && is_space((unsigned char)v[end - 1]))
				end--;
			if (end > s)
				json_array_append_new(a, json_stringn(v + s, end - s));
			start = k + 1;
		}
	}
	if (check_tags(a, "tags", e) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* {"type":"tags","userId"|"anonymousId","properties":{"add":[…]}}; the rest
 * (messageId, timestamps) is added when the row is finalized. */
static json_t *tags_message(json_t *uid, json_t *aid, json_t *tags)
{
	json_t *m = json_pack("{s:s,s:{s:O}}", "type", "tags", "properties", "add", tags);
	if (uid)
		json_object_set(m, "userId", uid);
	if (aid)
		json_object_set(m, "anonymousId", aid);
	return m;
}

/* Profile consent as exported ({"email":{"status":…},"topics":{…}}) or as
 * identify takes it ({"email":"subscribed"}) → identify's shape. */
static json_t *consent_flat(const json_t *consent)
{
	json_t *flat = json_object();
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)consent, k, v) {
		if (!strcmp(k, "topics") && json_is_object(v)) {
			json_t *topics = json_object();
			const char *t;
			json_t *tv;
			json_object_foreach (v, t, tv) {
				const char *s = json_is_object(tv) ? jsonx_str(tv, "status") : json_string_value(tv);
				json_object_set_new(topics, t, s ? json_string(s) : json_deep_copy(tv));
			}
			if (json_object_size(topics))
				json_object_set_new(flat, "topics", topics);
			else
				json_decref(topics);
			continue;
		}
		const char *s = json_is_object(v) ? jsonx_str(v, "status") : json_string_value(v);
		json_object_set_new(flat, k, s ? json_string(s) : json_deep_copy(v));
	}
	return flat;
}

static json_t *import_context(int consent)
{
	json_t *ctx = json_pack("{s:{s:s,s:s}}", "library", "name", "cairn-import", "version", "1");
	if (consent)
		json_object_set_new(ctx, "consent_source", json_string("import"));
	return ctx;
}

/* Consent given on an identify is recorded with source "import" unless the
 * message names its own source. */
static void mark_consent_source(json_t *msg)
{
	json_t *traits = json_object_get(msg, "traits");
	if (!json_is_object(json_object_get(traits, "consent")))
		return;
	json_t *ctx = json_object_get(msg, "context");
	if (!ctx) {
		ctx = json_object();
		json_object_set_new(msg, "context", ctx);
	}
	if (json_is_object(ctx) && !json_object_get(ctx, "consent_source"))
		json_object_set_new(ctx, "consent_source", json_string("import"));
}

/* ==== CSV: header and rows ========================================================= */

static void trim(const char **p, size_t *n)
{
	while (*n && is_space((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_space((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* "user_id", "userId", "USERID" … all name the same column. */
static int name_is(const char *name, const char *want)
{
	char norm[32];
	size_t n = 0;
	for (const char *p = name; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof norm)
			return 0;
		norm[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	}
	norm[n] = '\0';
	return !strcmp(norm, want);
}

static void cols_free(struct imp *im)
{
	for (size_t i = 0; i < im->ncols; i++) {
		free(im->cols[i].name);
		free(im->cols[i].target);
		for (size_t d = 0; d < im->cols[i].depth; d++)
			free(im->cols[i].path[d]);
		free(im->cols[i].path);
	}
	free(im->cols);
	im->cols = NULL;
	im->ncols = 0;
}

static int split_path(struct col *c, const char *t, struct cairn_err *err)
{
	size_t n = strlen(t);
	size_t start = 0;
	for (size_t k = 0; k <= n; k++) {
		if (k < n && t[k] != '.')
			continue;
		if (k == start)
			return cairn_err_set(
				err, CAIRN_EINVAL, "invalid_header", c->name,
				"Column '%s': '%s' is not a usable trait name (an empty part between dots).", c->name,
				t);
		c->path = xrealloc(c->path, (c->depth + 1) * sizeof *c->path);
		c->path[c->depth++] = xstrndup(t + start, k - start);
		start = k + 1;
	}
	return 0;
}

static int path_is_prefix(const struct col *a, const struct col *b)
{
	if (a->depth > b->depth)
		return 0;
	for (size_t i = 0; i < a->depth; i++)
		if (strcmp(a->path[i], b->path[i]))
			return 0;
	return 1;
}

static int apply_map(struct imp *im, struct cairn_err *err)
{
	for (size_t m = 0; m < im->o->nmap; m++) {
		const char *spec = im->o->map[m];
		const char *eq = strchr(spec, '=');
		if (!eq)
			return cairn_err_set(
				err, CAIRN_EINVAL, "invalid_map", "map",
				"The column map '%s' needs the form column=trait (column= drops a column).", spec);
		const char *cname = spec;
		size_t clen = (size_t)(eq - spec);
		trim(&cname, &clen);
		const char *tname = eq + 1;
		size_t tlen = strlen(tname);
		trim(&tname, &tlen);
		json_t *ok = json_stringn(spec, strlen(spec)); /* names become JSON keys */
		json_decref(ok);
		if (!ok)
			return cairn_err_set(err, CAIRN_EINVAL, "invalid_map", "map",
					     "A column map is not valid UTF-8 text.");
		struct col *found = NULL;
		for (size_t i = 0; i < im->ncols && !found; i++)
			if (strlen(im->cols[i].name) == clen && !memcmp(im->cols[i].name, cname, clen))
				found = &im->cols[i];
		if (!found)
			return cairn_err_set(err, CAIRN_EINVAL, "invalid_map", "map",
					     "The column map '%s' names a column the header does not have.", spec);
		if (found->target)
			return cairn_err_set(err, CAIRN_EINVAL, "invalid_map", "map", "Column '%s' is mapped twice.",
					     found->name);
		found->target = xstrndup(tname, tlen);
	}
	return 0;
}

static int assign_roles(struct imp *im, size_t line, struct cairn_err *err)
{
	struct col *uid = NULL, *aid = NULL, *tj = NULL, *tg = NULL;
	for (size_t i = 0; i < im->ncols; i++) {
		struct col *c = &im->cols[i];
		const char *t = c->target ? c->target : c->name;
		struct col **slot = NULL;
		if (!c->name[0] && !c->target) {
			c->role = ROLE_UNNAMED;
			continue;
		}
		if (!t[0]) {
			c->role = ROLE_DROPPED;
			continue;
		}
		if (name_is(t, "userid")) {
			c->role = ROLE_USER_ID;
			slot = &uid;
		} else if (name_is(t, "anonymousid")) {
			c->role = ROLE_ANON_ID;
			slot = &aid;
		} else if (!strcmp(t, "traits")) {
			c->role = ROLE_TRAITS_JSON;
			slot = &tj;
		} else if (!strcmp(t, "tags")) {
			c->role = ROLE_TAGS;
			slot = &tg;
		} else {
			c->role = ROLE_TRAIT;
			if (split_path(c, t, err) < 0)
				return err->code;
			continue;
		}
		if (*slot)
			return cairn_err_set(
				err, CAIRN_EINVAL, "invalid_header", "",
				"line %zu: columns '%s' and '%s' both give the %s; drop one, or map one away "
				"(--map '%s=').",
				line, (*slot)->name, c->name, t, c->name);
		*slot = c;
	}
	if (!uid && !aid)
		return cairn_err_set(err, CAIRN_EINVAL, "no_id_column", "",
				     "line %zu: the header has no user_id column (userId, anonymous_id and anonymousId "
				     "work too); rename the id column, or map it: --map member_no=user_id.",
				     line);
	for (size_t i = 0; i < im->ncols; i++) {
		for (size_t j = 0; j < im->ncols; j++) {
			const struct col *a = &im->cols[i], *b = &im->cols[j];
			if (i == j || a->role != ROLE_TRAIT || b->role != ROLE_TRAIT || !path_is_prefix(a, b))
				continue;
			return cairn_err_set(err, CAIRN_EINVAL, "invalid_header", "",
					     "line %zu: columns '%s' and '%s' %s; a trait is either a value or an "
					     "object of values.",
					     line, a->name, b->name,
					     a->depth == b->depth ? "give the same trait" : "conflict");
		}
	}
	return 0;
}

static int csv_header(struct imp *im, struct cairn_err *err)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = ingest_csv_next(&im->csv, &e);
	if (rc == 0)
		return cairn_err_set(
			err, CAIRN_EINVAL, "empty_csv", "",
			"The CSV is empty: its first row must be a header naming the columns (user_id, email, "
			"…).");
	if (rc < 0 && strncmp(e.message, "line ", 5) != 0)
		return cairn_err_set(err, rc, e.slug, "", "%s", e.message);
	if (rc < 0)
		return cairn_err_set(err, rc, e.slug, "", "%s (in the header row)", e.message);
	size_t line = im->csv.rec_line;
	im->ncols = im->csv.nfields;
	im->cols = xcalloc(im->ncols, sizeof *im->cols);
	crypto_generichash_state h;
	base_begin(im, &h);
	for (size_t i = 0; i < im->ncols; i++) {
		const struct ingest_csv_field *f = &im->csv.fields[i];
		hash_bytes(&h, f->ptr, f->len);
		json_t *ok = json_stringn(f->ptr, f->len);
		if (!ok || memchr(f->ptr, '\0', f->len)) {
			json_decref(ok);
			return cairn_err_set(
				err, CAIRN_EINVAL, "invalid_utf8", "",
				"line %zu: the header is not valid UTF-8; save the file as UTF-8 (in Excel: "
				"\"CSV UTF-8\").",
				line);
		}
		json_decref(ok);
		const char *p = f->ptr;
		size_t n = f->len;
		trim(&p, &n);
		im->cols[i].name = xstrndup(p, n);
		for (size_t j = 0; j < i; j++)
			if (n && !strcmp(im->cols[j].name, im->cols[i].name))
				return cairn_err_set(err, CAIRN_EINVAL, "invalid_header", "",
						     "line %zu: the header names column '%s' twice.", line,
						     im->cols[i].name);
	}
	for (size_t m = 0; m < im->o->nmap; m++)
		hash_bytes(&h, im->o->map[m], strlen(im->o->map[m]));
	crypto_generichash_final(&h, im->base, sizeof im->base);
	if (apply_map(im, err) < 0)
		return err->code;
	return assign_roles(im, line, err);
}

/* One CSV data row → one identify (+ a tags message). */
static int csv_row(struct imp *im, struct msgset *ms, unsigned char digest[32], struct cairn_err *e)
{
	const struct ingest_csv *c = &im->csv;
	crypto_generichash_state h;
	row_begin(im, &h, c->rec_line);
	for (size_t i = 0; i < c->nfields; i++)
		hash_bytes(&h, c->fields[i].ptr, c->fields[i].len);
	crypto_generichash_final(&h, digest, 32);
	if (c->nfields != im->ncols)
		return cairn_err_set(e, CAIRN_EINVAL, "ragged_row", "",
				     "the row has %zu fields but the header has %zu (a missing or extra ',', or a ',' "
				     "inside a value that is not quoted?)",
				     c->nfields, im->ncols);
	json_t *uid = NULL, *aid = NULL, *extra = NULL, *tags = NULL;
	json_t *traits = json_object();
	int rc = 0;
	for (size_t i = 0; i < im->ncols && rc == 0; i++) {
		const struct col *col = &im->cols[i];
		const struct ingest_csv_field *f = &c->fields[i];
		if (f->len == 0 || col->role == ROLE_DROPPED)
			continue;
		if (col->role == ROLE_UNNAMED) {
			rc = cairn_err_set(e, CAIRN_EINVAL, "unnamed_column", "",
					   "column %zu has a value but no name in the header; name it, or empty it",
					   i + 1);
			break;
		}
		json_t *s = memchr(f->ptr, '\0', f->len) ? NULL : json_stringn(f->ptr, f->len);
		if (!s) {
			rc = cairn_err_set(
				e, CAIRN_EINVAL, "invalid_utf8", col->name,
				"column '%s' is not valid UTF-8 text; save the file as UTF-8 (in Excel: \"CSV "
				"UTF-8\")",
				col->name);
			break;
		}
		switch (col->role) {
		case ROLE_USER_ID: uid = s; break;
		case ROLE_ANON_ID: aid = s; break;
		case ROLE_TRAITS_JSON:
			json_decref(s);
			extra = parse_object(f->ptr, f->len, "the traits column", e);
			if (!extra)
				rc = e->code;
			break;
		case ROLE_TAGS:
			json_decref(s);
			tags = parse_tags_cell(f->ptr, f->len, e);
			if (!tags)
				rc = e->code;
			break;
		default: set_path(traits, col->path, col->depth, s); break;
		}
	}
	if (rc == 0 && !uid && !aid)
		rc = cairn_err_set(e, CAIRN_EINVAL, "missing_id", "user_id",
				   "user_id is empty; every row needs a user_id (or an anonymous_id)");
	if (rc == 0) {
		if (extra)
			merge_missing(traits, extra);
		int consent = json_object_get(traits, "consent") != NULL;
		json_t *msg = json_pack("{s:s,s:O,s:o}", "type", "identify", "traits", traits, "context",
					import_context(consent));
		if (uid)
			json_object_set(msg, "userId", uid);
		if (aid)
			json_object_set(msg, "anonymousId", aid);
		ms_add(ms, msg, INGEST_IDENTIFY, "%s", "");
		if (tags && json_array_size(tags))
			ms_add(ms, tags_message(uid, aid, tags), KIND_TAGS, "%s", "");
	}
	json_decref(uid);
	json_decref(aid);
	json_decref(extra);
	json_decref(tags);
	json_decref(traits);
	return rc;
}

/* ==== NDJSON rows =================================================================== */

/* 1 a line in im->line, 0 the end, CAIRN_EINVAL a line too long (consumed),
 * CAIRN_EIO. Blank lines are skipped. */
static int ndjson_next(struct imp *im, struct cairn_err *e)
{
	struct ingest_src *s = im->src;
	for (;;) {
		buf_reset(&im->line);
		im->rec_line = im->line_no;
		int any = 0;
		for (;;) {
			size_t avail = s->len - s->pos;
			if (!avail)
				avail = src_fill(s, 1);
			if (!avail)
				break;
			any = 1;
			const unsigned char *q = s->p + s->pos;
			const unsigned char *nl = memchr(q, '\n', avail);
			size_t n = nl ? (size_t)(nl - q) : avail;
			buf_add(&im->line, q, n);
			s->pos += n + (nl ? 1 : 0);
			if (nl) {
				im->line_no++;
				break;
			}
		}
		if (s->error)
			return src_read_failed(s, e);
		if (!any)
			return 0;
		if (im->line.overflow)
			return cairn_err_set(e, CAIRN_EINVAL, "line_too_long", "",
					     "line %zu: the line is longer than %u KB (a message may be at most 32 KB)",
					     im->rec_line, INGEST_IMPORT_MAX_RECORD / 1024);
		size_t n = im->line.len;
		while (n && (im->line.ptr[n - 1] == '\r' || im->line.ptr[n - 1] == ' ' || im->line.ptr[n - 1] == '\t'))
			n--;
		buf_truncate(&im->line, n);
		size_t k = 0;
		while (k < n && is_space((unsigned char)im->line.ptr[k]))
			k++;
		if (k < n)
			return 1;
	}
}

static int str_array(const json_t *v, const char *key, struct cairn_err *e)
{
	if (!v || json_is_null(v))
		return 0;
	size_t i;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach (v, i, x) {
			if (!json_is_string(x) || !json_string_length(x))
				return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", key,
						     "%s[%zu]: must be a non-empty string", key, i);
		}
		return 0;
	}
	return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", key, "%s: must be an array of strings, not %s", key,
			     jsonx_type_name(v));
}

/* A line as `cairn export users` writes it → the messages that rebuild the
 * profile: identify (traits, lifecycle, consent), one identify per further
 * anonymous id, alias per earlier user id, group per group, tags. */
static int profile_row(json_t *p, struct msgset *ms, struct cairn_err *e)
{
	json_t *id = json_object_get(p, "id");
	json_t *anon = json_object_get(p, "anonymous_ids");
	json_t *uids = json_object_get(p, "user_ids");
	json_t *traits = json_object_get(p, "traits");
	json_t *consent = json_object_get(p, "consent");
	json_t *tags = json_object_get(p, "tags");
	json_t *groups = json_object_get(p, "groups");
	json_t *lc = json_object_get(p, "lifecycle_stage");
	if (id && !json_is_null(id) && (!json_is_string(id) || !json_string_length(id)))
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "id",
				     "id: must be a non-empty string or null");
	if (!json_is_string(id))
		id = NULL;
	if (str_array(anon, "anonymous_ids", e) < 0 || str_array(uids, "user_ids", e) < 0)
		return e->code;
	if (traits && !json_is_null(traits) && !json_is_object(traits))
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "traits", "traits: must be an object, not %s",
				     jsonx_type_name(traits));
	if (consent && !json_is_null(consent) && !json_is_object(consent))
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "consent",
				     "consent: must be an object, not %s", jsonx_type_name(consent));
	if (groups && !json_is_null(groups) && !json_is_array(groups))
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "groups", "groups: must be an array, not %s",
				     jsonx_type_name(groups));
	if (tags && !json_is_null(tags) && check_tags(tags, "tags", e) < 0)
		return e->code;
	json_t *aid0 = json_array_get(anon, 0);
	if (!id && !aid0)
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "id",
				     "id: a profile needs an id or at least one anonymous id");

	json_t *t = json_is_object(traits) ? json_deep_copy(traits) : json_object();
	if (lc && !json_is_null(lc))
		json_object_set(t, "lifecycle_stage", lc);
	int has_consent = 0;
	if (json_is_object(consent)) {
		json_t *flat = consent_flat(consent);
		has_consent = json_object_size(flat) > 0;
		if (has_consent)
			json_object_set_new(t, "consent", flat);
		else
			json_decref(flat);
	}
	json_t *who_key = id ? id : aid0;
	const char *who_field = id ? "userId" : "anonymousId";
	json_t *msg =
		json_pack("{s:s,s:o,s:o}", "type", "identify", "traits", t, "context", import_context(has_consent));
	if (id)
		json_object_set(msg, "userId", id);
	if (aid0)
		json_object_set(msg, "anonymousId", aid0);
	ms_add(ms, msg, INGEST_IDENTIFY, "%s", "");
	size_t i;
	json_t *v;
	if (id) {
		json_array_foreach (anon, i, v) {
			if (i > 0)
				ms_add(ms,
				       json_pack("{s:s,s:O,s:O}", "type", "identify", "userId", id, "anonymousId", v),
				       INGEST_IDENTIFY, "anonymous_ids[%zu]", i);
		}
		json_array_foreach (uids, i, v) {
			if (!json_equal(v, id))
				ms_add(ms, json_pack("{s:s,s:O,s:O}", "type", "alias", "userId", id, "previousId", v),
				       INGEST_ALIAS, "user_ids[%zu]", i);
		}
	}
	json_array_foreach (groups, i, v) {
		if (!json_is_object(v))
			return cairn_err_set(e, CAIRN_EINVAL, "invalid_profile", "groups",
					     "groups[%zu]: must be an object", i);
		json_t *g = json_pack("{s:s,s:O}", "type", "group", who_field, who_key);
		json_t *gid = json_object_get(v, "id");
		json_t *gtraits = json_object_get(v, "traits");
		if (gid)
			json_object_set(g, "groupId", gid);
		if (json_is_object(gtraits))
			json_object_set(g, "traits", gtraits);
		ms_add(ms, g, INGEST_GROUP, "groups[%zu]", i);
	}
	if (json_array_size(tags))
		ms_add(ms, tags_message(id, id ? NULL : aid0, tags), KIND_TAGS, "%s", "");
	return 0;
}

static int ndjson_row(struct imp *im, struct msgset *ms, unsigned char digest[32], struct cairn_err *e)
{
	crypto_generichash_state h;
	row_begin(im, &h, im->rec_line);
	hash_bytes(&h, im->line.ptr, im->line.len);
	crypto_generichash_final(&h, digest, 32);
	json_t *o = parse_object(im->line.ptr, im->line.len, "the line", e);
	if (!o)
		return e->code;
	const char *type = jsonx_str(o, "type");
	json_t *tv = json_object_get(o, "type");
	if (im->o->kind == INGEST_IMPORT_USERS) {
		int profile = json_object_get(o, "id") && !json_object_get(o, "userId") &&
			      !json_object_get(o, "anonymousId") && !tv;
		if (profile) {
			int rc = profile_row(o, ms, e);
			json_decref(o);
			return rc;
		}
		if (tv && (!type || strcmp(type, "identify"))) {
			cairn_err_set(e, CAIRN_EINVAL, "invalid_type", "type",
				      "type: a users import takes identify messages, not %s%s%s (import other messages "
				      "as events)",
				      type ? "\"" : "", type ? type : jsonx_type_name(tv), type ? "\"" : "");
			json_decref(o);
			return e->code;
		}
		mark_consent_source(o);
		ms_add(ms, o, INGEST_IDENTIFY, "%s", "");
		return 0;
	}
	int k = type ? ingest_kind_from_name(type) : -1;
	if (k < 0 || k == INGEST_BATCH) {
		int internal =
			type && (!strcmp(type, "consent") || !strcmp(type, "tags") || !strcmp(type, "lifecycle"));
		if (internal)
			cairn_err_set(
				e, CAIRN_EINVAL, "invalid_type", "type",
				"type: \"%s\" events are written by cairn itself (the management API) and cannot be "
				"imported; send consent as traits.consent on identify",
				type);
		else
			cairn_err_set(e, CAIRN_EINVAL, "invalid_type", "type",
				      "type: must be one of identify, track, page, screen, group, alias (got %s%s%s)",
				      type ? "\"" : "", type ? type : (tv ? jsonx_type_name(tv) : "nothing"),
				      type ? "\"" : "");
		json_decref(o);
		return e->code;
	}
	if (k == INGEST_IDENTIFY)
		mark_consent_source(o);
	ms_add(ms, o, k, "%s", "");
	return 0;
}

/* ==== validation: messages → struct ingest_msg ====================================== */

static int validated_msg(struct imp *im, json_t *j, int kind, const char *where, struct ingest_msg *out,
			 struct cairn_err *e)
{
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return cairn_err_set(e, CAIRN_EINVAL, "invalid_message", "", "the message cannot be encoded as JSON");
	struct ingest_batch b;
	struct cairn_err pe = CAIRN_ERR_INIT;
	int rc = ingest_parse((enum ingest_kind)kind, text, strlen(text), im->o->received_at, &b, &pe);
	if (rc < 0) {
		free(text);
		return cairn_err_set(e, rc, pe.slug, pe.field, "%s%s%s", where, where[0] ? ": " : "", pe.message);
	}
	*out = b.msgs[0];
	b.n = 0; /* the message now belongs to out */
	ingest_batch_release(&b);
	if (!out->owned) { /* the body points into text: give the message its own copy */
		out->owned = xstrndup(out->body, out->body_len);
		out->body = out->owned;
	}
	free(text);
	return 0;
}

/* The internal "tags" message, shaped like ingest_internal_message's. */
static int internal_msg(struct imp *im, json_t *j, struct ingest_msg *out, struct cairn_err *e)
{
	json_object_set_new(j, "timestamp", jsonx_time(im->o->received_at));
	json_object_set_new(j, "receivedAt", jsonx_time(im->o->received_at));
	const char *uid = jsonx_str(j, "userId"), *aid = jsonx_str(j, "anonymousId");
	memset(out, 0, sizeof *out);
	out->type = xstrdup("tags");
	out->message_id = xstrdup(jsonx_str(j, "messageId"));
	out->user_id = uid ? xstrdup(uid) : NULL;
	out->anonymous_id = aid ? xstrdup(aid) : NULL;
	out->ts = im->o->received_at;
	out->owned = json_dumps(j, JSON_COMPACT);
	out->body = out->owned;
	out->body_len = strlen(out->owned);
	if (out->body_len > INGEST_MAX_MESSAGE)
		return cairn_err_set(e, CAIRN_ETOOBIG, "message_too_large", "tags",
				     "tags: the tags make a message of %zu bytes; a message may be at most 32 KB",
				     out->body_len);
	return 0;
}

static int finalize(struct imp *im, struct msgset *ms, const unsigned char digest[32], struct ingest_batch *out,
		    struct cairn_err *e)
{
	memset(out, 0, sizeof *out);
	out->msgs = xcalloc(ms->n, sizeof *out->msgs);
	for (size_t k = 0; k < ms->n; k++) {
		json_t *j = ms->m[k].j;
		json_object_del(j, "sentAt");
		json_t *mid = json_object_get(j, "messageId");
		if (!mid || json_is_null(mid)) {
			char id[40];
			derive_message_id(digest, k, id);
			json_object_set_new(j, "messageId", json_string(id));
		}
		int rc = ms->m[k].kind == KIND_TAGS
				 ? internal_msg(im, j, &out->msgs[k], e)
				 : validated_msg(im, j, ms->m[k].kind, ms->m[k].where, &out->msgs[k], e);
		out->n = k + 1; /* a half-built message is released too */
		if (rc < 0) {
			ingest_batch_release(out);
			return rc;
		}
	}
	return 0;
}

/* ==== output: spool (abort mode) and chunks ============================================ */

static int spool_open(struct imp *im, struct cairn_err *err)
{
	const char *dir = im->o->spool_dir;
	if (!dir || !dir[0])
		dir = getenv("TMPDIR");
	if (!dir || !dir[0])
		dir = "/tmp";
	struct buf path;
	buf_init(&path, 4096);
	buf_addf(&path, "%s/.cairn-import-XXXXXX", dir);
	int fd = path.overflow ? -1 : mkstemp(path.ptr);
	if (fd < 0) {
		int rc =
			cairn_err_set(err, CAIRN_EIO, "spool_failed", "",
				      "Cannot create a temporary file in %s to check the import before writing it: %s.",
				      dir, strerror(errno));
		buf_release(&path);
		return rc;
	}
	unlink(path.ptr); /* gone when closed, whatever happens */
	buf_release(&path);
	im->spool = fdopen(fd, "w+b");
	if (!im->spool) {
		close(fd);
		return cairn_err_set(err, CAIRN_EIO, "spool_failed", "", "Cannot open a temporary file: %s.",
				     strerror(errno));
	}
	return 0;
}

static void put_u64(FILE *f, uint64_t v)
{
	fwrite(&v, sizeof v, 1, f);
}

static void put_str(FILE *f, const char *s, size_t n)
{
	put_u64(f, s ? (uint64_t)n : UINT64_MAX);
	if (s && n)
		fwrite(s, 1, n, f);
}

static void spool_put(struct imp *im, const struct ingest_batch *row)
{
	FILE *f = im->spool;
	put_u64(f, row->n);
	for (size_t i = 0; i < row->n; i++) {
		const struct ingest_msg *m = &row->msgs[i];
		put_u64(f, (uint64_t)m->ts);
		put_str(f, m->type, m->type ? strlen(m->type) : 0);
		put_str(f, m->name, m->name ? strlen(m->name) : 0);
		put_str(f, m->message_id, m->message_id ? strlen(m->message_id) : 0);
		put_str(f, m->user_id, m->user_id ? strlen(m->user_id) : 0);
		put_str(f, m->anonymous_id, m->anonymous_id ? strlen(m->anonymous_id) : 0);
		put_str(f, m->body, m->body_len);
	}
	im->spooled_rows++;
}

static int get_u64(FILE *f, uint64_t *v)
{
	return fread(v, sizeof *v, 1, f) == 1 ? 0 : -1;
}

static int get_str(FILE *f, char **s, size_t *len)
{
	uint64_t n;
	*s = NULL;
	if (get_u64(f, &n) < 0)
		return -1;
	if (n == UINT64_MAX)
		return 0;
	if (n > INGEST_MAX_REQUEST)
		return -1;
	*s = xmalloc((size_t)n + 1);
	if (n && fread(*s, 1, (size_t)n, f) != n)
		return -1;
	(*s)[n] = '\0';
	if (len)
		*len = (size_t)n;
	return 0;
}

/* 1 a row, 0 the end, -1 a damaged spool. */
static int spool_get(struct imp *im, struct ingest_batch *row)
{
	FILE *f = im->spool;
	uint64_t n;
	memset(row, 0, sizeof *row);
	if (get_u64(f, &n) < 0)
		return feof(f) && !ferror(f) ? 0 : -1;
	if (n == 0 || n > INGEST_IMPORT_MAX_RECORD) /* a message takes at least a byte of its row */
		return -1;
	row->msgs = xcalloc((size_t)n, sizeof *row->msgs);
	for (size_t i = 0; i < n; i++) {
		struct ingest_msg *m = &row->msgs[i];
		uint64_t ts;
		row->n = i + 1;
		if (get_u64(f, &ts) < 0 || get_str(f, &m->type, NULL) < 0 || get_str(f, &m->name, NULL) < 0 ||
		    get_str(f, &m->message_id, NULL) < 0 || get_str(f, &m->user_id, NULL) < 0 ||
		    get_str(f, &m->anonymous_id, NULL) < 0 || get_str(f, &m->owned, &m->body_len) < 0 || !m->type ||
		    !m->message_id || !m->owned || (!m->user_id && !m->anonymous_id)) {
			ingest_batch_release(row);
			return -1;
		}
		m->ts = (int64_t)ts;
		m->body = m->owned;
	}
	return 1;
}

static void chunk_reset(struct chunk *ch)
{
	ingest_batch_release(&ch->b);
	ch->cap = 0;
	ch->nrows = 0;
}

static int chunk_flush(struct imp *im, enum ingest_import_phase phase, struct cairn_err *err)
{
	struct chunk *ch = &im->ch;
	struct ingest_import_result *res = im->res;
	if (!ch->b.n)
		return 0;
	xgrow((void **)&ch->dup, &ch->dup_cap, ch->b.n, 1);
	memset(ch->dup, 0, ch->b.n);
	struct cairn_err we = CAIRN_ERR_INIT;
	int rc = im->o->write(&ch->b, ch->dup, im->o->write_arg, &we);
	if (rc < 0) {
		rc = cairn_err_set(
			err, we.code ? we.code : CAIRN_EIO, "write_failed", "",
			"Writing to the event log failed after %zu rows were written (%s). Run the same import "
			"again to finish it: rows already written are recognized and not stored twice.",
			res->imported + res->duplicates, we.message[0] ? we.message : "no reason given");
	} else {
		size_t at = 0;
		for (size_t r = 0; r < ch->nrows; r++) {
			int fresh = 0;
			for (size_t i = 0; i < ch->row_n[r]; i++) {
				if (!ch->dup[at + i]) {
					fresh = 1;
					res->messages++;
				}
			}
			at += ch->row_n[r];
			if (fresh)
				res->imported++;
			else
				res->duplicates++;
		}
	}
	chunk_reset(ch);
	report(im, phase, phase == INGEST_PHASE_WRITE ? im->spooled_rows : 0);
	return rc;
}

/* Takes the row's messages (row is released). A row never straddles two
 * chunks, so a crash between chunks leaves whole rows. */
static int chunk_add(struct imp *im, struct ingest_batch *row, enum ingest_import_phase phase, struct cairn_err *err)
{
	struct chunk *ch = &im->ch;
	int rc = 0;
	if (ch->b.n && ch->b.n + row->n > im->chunk_max)
		rc = chunk_flush(im, phase, err);
	if (rc == 0) {
		xgrow((void **)&ch->b.msgs, &ch->cap, ch->b.n + row->n, sizeof *ch->b.msgs);
		memcpy(ch->b.msgs + ch->b.n, row->msgs, row->n * sizeof *row->msgs);
		ch->b.n += row->n;
		xgrow((void **)&ch->row_n, &ch->rows_cap, ch->nrows + 1, sizeof *ch->row_n);
		ch->row_n[ch->nrows++] = row->n;
		row->n = 0; /* the messages now belong to the chunk */
	}
	ingest_batch_release(row);
	return rc;
}

/* ==== the passes ======================================================================= */

static int do_row(struct imp *im, size_t line, struct cairn_err *err)
{
	struct msgset ms = {0};
	struct cairn_err e = CAIRN_ERR_INIT;
	unsigned char digest[32];
	struct ingest_batch row;
	int rc = im->format == INGEST_FORMAT_CSV ? csv_row(im, &ms, digest, &e) : ndjson_row(im, &ms, digest, &e);
	if (rc == 0)
		rc = finalize(im, &ms, digest, &row, &e);
	ms_release(&ms);
	if (rc < 0) {
		row_error(im, line, e.message);
		return 0;
	}
	if (im->o->skip_bad)
		return chunk_add(im, &row, INGEST_PHASE_READ, err);
	if (!im->res->skipped) /* once a row is bad nothing will be written: stop spooling */
		spool_put(im, &row);
	ingest_batch_release(&row);
	return 0;
}

static int read_failed(struct imp *im, const struct cairn_err *e, struct cairn_err *err)
{
	size_t done = im->res->imported + im->res->duplicates;
	if (done)
		return cairn_err_set(
			err, e->code, e->slug, "",
			"%s %zu rows were written before; run the import again once the input reads: they are "
			"not stored twice.",
			e->message, done);
	return cairn_err_set(err, e->code, e->slug, "", "%s Nothing was imported.", e->message);
}

static int read_all(struct imp *im, struct cairn_err *err)
{
	int rc;
	if (im->format == INGEST_FORMAT_CSV) {
		ingest_csv_init(&im->csv, im->src);
		rc = csv_header(im, err);
		if (rc < 0)
			return rc;
	} else {
		crypto_generichash_state h;
		base_begin(im, &h);
		crypto_generichash_final(&h, im->base, sizeof im->base);
		im->line_no = 1;
		rc = src_skip_bom(im->src, err);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		struct cairn_err e = CAIRN_ERR_INIT;
		int csv = im->format == INGEST_FORMAT_CSV;
		rc = csv ? ingest_csv_next(&im->csv, &e) : ndjson_next(im, &e);
		if (rc == 0)
			break;
		if (rc == CAIRN_EIO)
			return read_failed(im, &e, err);
		size_t line = csv ? im->csv.rec_line : im->rec_line;
		im->res->rows++;
		if (rc < 0)
			row_error(im, line, strip_line(e.message));
		else if (do_row(im, line, err) < 0)
			return err->code;
		if (im->res->rows % PROGRESS_EVERY == 0)
			report(im, INGEST_PHASE_READ, 0);
	}
	report(im, INGEST_PHASE_READ, 0);
	return 0;
}

static int write_spool(struct imp *im, struct cairn_err *err)
{
	if (fflush(im->spool) != 0 || ferror(im->spool) || fseek(im->spool, 0, SEEK_SET) != 0)
		return cairn_err_set(err, CAIRN_EIO, "spool_failed", "",
				     "Writing the import's temporary file failed (%s); nothing was imported.",
				     strerror(errno));
	for (;;) {
		struct ingest_batch row;
		int rc = spool_get(im, &row);
		if (rc == 0)
			break;
		if (rc < 0)
			return cairn_err_set(
				err, CAIRN_EIO, "spool_failed", "",
				"Reading back the import's temporary file failed after %zu rows were written; run "
				"the import again: rows already written are not stored twice.",
				im->res->imported + im->res->duplicates);
		if (chunk_add(im, &row, INGEST_PHASE_WRITE, err) < 0)
			return err->code;
	}
	return chunk_flush(im, INGEST_PHASE_WRITE, err);
}

static int resolve_format(struct imp *im, struct cairn_err *err)
{
	const struct ingest_import_opts *o = im->o;
	enum ingest_import_format f = o->format;
	if (f == INGEST_FORMAT_AUTO && o->kind == INGEST_IMPORT_EVENTS)
		f = INGEST_FORMAT_NDJSON;
	if (f == INGEST_FORMAT_AUTO) {
		size_t n = src_fill(im->src, SNIFF_BYTES);
		const unsigned char *q = im->src->p + im->src->pos;
		size_t i = n >= 3 && q[0] == 0xEF && q[1] == 0xBB && q[2] == 0xBF ? 3 : 0;
		while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\r' || q[i] == '\n'))
			i++;
		f = i == n || q[i] == '{' ? INGEST_FORMAT_NDJSON : INGEST_FORMAT_CSV;
	}
	im->format = f;
	if (o->kind == INGEST_IMPORT_EVENTS && f == INGEST_FORMAT_CSV)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_format", "format",
				     "Events are imported from NDJSON (one Tracking API message per line), not CSV.");
	if (o->nmap && f != INGEST_FORMAT_CSV)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_map", "map",
				     "A column map (--map, ?map=) renames CSV columns; it does not apply to NDJSON.");
	return 0;
}

int ingest_import_run(const struct ingest_import_opts *o, struct ingest_src *src, struct ingest_import_result *res,
		      struct cairn_err *err)
{
	memset(res, 0, sizeof *res);
	struct imp im;
	memset(&im, 0, sizeof im);
	im.o = o;
	im.src = src;
	im.res = res;
	im.chunk_max = o->chunk ? o->chunk : INGEST_IMPORT_CHUNK;
	buf_init(&im.line, INGEST_IMPORT_MAX_RECORD);
	int rc = resolve_format(&im, err);
	if (rc == 0 && !o->skip_bad)
		rc = spool_open(&im, err);
	if (rc == 0)
		rc = read_all(&im, err);
	if (rc == 0 && o->skip_bad)
		rc = chunk_flush(&im, INGEST_PHASE_READ, err);
	if (rc == 0 && !o->skip_bad && res->skipped) {
		res->aborted = 1;
		const struct ingest_import_error *first = res->nerrors ? &res->errors[0] : NULL;
		rc = cairn_err_set(
			err, CAIRN_EUNPROC, "invalid_rows", "",
			"%zu of %zu rows %s bad (first: line %zu: %s); nothing was imported. Fix %s, or skip "
			"bad rows (cairn import --skip-bad, or ?skip_bad=true).",
			res->skipped, res->rows, res->skipped == 1 ? "is" : "are", first ? first->line : 0,
			first ? first->message : "", res->skipped == 1 ? "it" : "them");
	} else if (rc == 0 && !o->skip_bad) {
		rc = write_spool(&im, err);
	}
	if (im.spool)
		fclose(im.spool);
	if (im.format == INGEST_FORMAT_CSV)
		ingest_csv_release(&im.csv);
	buf_release(&im.line);
	cols_free(&im);
	chunk_reset(&im.ch);
	free(im.ch.row_n);
	free(im.ch.dup);
	if (rc < 0)
		utf8_trim_tail(err->message); /* it may quote the input, cut to fit */
	return rc;
}

void ingest_import_result_release(struct ingest_import_result *res)
{
	for (size_t i = 0; i < res->nerrors; i++)
		free(res->errors[i].message);
	free(res->errors);
	memset(res, 0, sizeof *res);
}

json_t *ingest_import_result_json(const struct ingest_import_result *res)
{
	json_t *errors = json_array();
	for (size_t i = 0; i < res->nerrors; i++)
		json_array_append_new(errors, json_pack("{s:I,s:s}", "line", (json_int_t)res->errors[i].line, "message",
							res->errors[i].message));
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:o}", "rows", (json_int_t)res->rows, "imported",
			      (json_int_t)res->imported, "duplicates", (json_int_t)res->duplicates, "skipped",
			      (json_int_t)res->skipped, "errors", errors);
	if (res->errors_truncated)
		json_object_set_new(o, "errors_truncated", json_true());
	if (res->aborted)
		json_object_set_new(o, "aborted", json_true());
	return o;
}

int ingest_import_format_from_name(const char *name)
{
	if (!strcasecmp(name, "csv"))
		return INGEST_FORMAT_CSV;
	if (!strcasecmp(name, "ndjson") || !strcasecmp(name, "jsonl") || !strcasecmp(name, "json"))
		return INGEST_FORMAT_NDJSON;
	return -1;
}

enum ingest_import_format ingest_import_format_guess(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (!dot || strchr(dot, '/'))
		return INGEST_FORMAT_AUTO;
	int f = ingest_import_format_from_name(dot + 1);
	if (f < 0 && !strcasecmp(dot + 1, "ldjson"))
		f = INGEST_FORMAT_NDJSON;
	return f < 0 ? INGEST_FORMAT_AUTO : (enum ingest_import_format)f;
}

int ingest_import_write_store(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err)
{
	struct ingest_import_store *s = arg;
	struct store_event *evs = xcalloc(b->n ? b->n : 1, sizeof *evs);
	ingest_batch_events(b, s->ws, s->nshards ? s->nshards : SHARD_DEFAULT_COUNT, s->received_at, evs);
	int rc = store_log_append(s->st, evs, b->n, dup, err);
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		if (!dup[i] && evs[i].id > s->last_id)
			s->last_id = evs[i].id;
	free(evs);
	return rc;
}

/* ==== export ============================================================================ */

struct export_ctx {
	ingest_out_fn out;
	void *arg;
	struct buf line;
	size_t count;
	int failed;
	int internal;
};

static int export_emit(struct export_ctx *x)
{
	if (x->line.overflow || x->out(x->line.ptr, x->line.len, x->arg) < 0) {
		x->failed = 1;
		return -1;
	}
	x->count++;
	return 0;
}

static int user_ndjson(json_t *p, void *arg)
{
	struct export_ctx *x = arg;
	buf_reset(&x->line);
	jsonx_dump_buf(p, &x->line);
	buf_addch(&x->line, '\n');
	return export_emit(x);
}

static const char *const csv_columns[] = {"user_id",   "anonymous_id",	  "email", "phone",	 "name",  "first_name",
					  "last_name", "lifecycle_stage", "tags",  "created_at", "traits"};
#define NCSV_COLUMNS (sizeof csv_columns / sizeof csv_columns[0])

static void csv_cell(struct buf *b, const char *s, size_t n, int first)
{
	if (!first)
		buf_addch(b, ',');
	if (!s)
		return;
	int quote = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
	if (!quote) {
		buf_add(b, s, n);
		return;
	}
	buf_addch(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addch(b, '"');
		buf_addch(b, s[i]);
	}
	buf_addch(b, '"');
}

static void csv_cell_str(struct buf *b, const char *s)
{
	csv_cell(b, s, s ? strlen(s) : 0, 0);
}

/* A string trait goes in its own column and leaves the traits JSON. */
static void csv_take_trait(struct buf *b, json_t *traits, const char *key)
{
	json_t *v = json_object_get(traits, key);
	if (!json_is_string(v)) {
		csv_cell(b, NULL, 0, 0);
		return;
	}
	csv_cell(b, json_string_value(v), json_string_length(v), 0);
	json_object_del(traits, key);
}

static void csv_cell_json(struct buf *b, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	csv_cell_str(b, text);
	free(text);
}

static int user_csv(json_t *p, void *arg)
{
	struct export_ctx *x = arg;
	struct buf *b = &x->line;
	json_t *src = json_object_get(p, "traits");
	json_t *traits = json_is_object(src) ? json_deep_copy(src) : json_object();
	buf_reset(b);
	const char *id = jsonx_str(p, "id");
	csv_cell(b, id, id ? strlen(id) : 0, 1);
	csv_cell_str(b, json_string_value(json_array_get(json_object_get(p, "anonymous_ids"), 0)));
	for (size_t i = 2; i <= 6; i++)
		csv_take_trait(b, traits, csv_columns[i]);
	csv_cell_str(b, jsonx_str(p, "lifecycle_stage"));
	json_t *tags = json_object_get(p, "tags");
	if (json_array_size(tags))
		csv_cell_json(b, tags);
	else
		csv_cell(b, NULL, 0, 0);
	csv_take_trait(b, traits, "created_at"); /* the trait: cairn's own times are in NDJSON */
	json_t *consent = json_object_get(p, "consent");
	if (json_is_object(consent)) {
		json_t *flat = consent_flat(consent);
		if (json_object_size(flat))
			json_object_set(traits, "consent", flat);
		json_decref(flat);
	}
	if (json_object_size(traits))
		csv_cell_json(b, traits);
	else
		csv_cell(b, NULL, 0, 0);
	buf_adds(b, "\r\n");
	json_decref(traits);
	return export_emit(x);
}

static int export_finish(struct export_ctx *x, int rc, size_t *count, struct cairn_err *err)
{
	if (x->failed && !err->code)
		rc = cairn_err_set(err, CAIRN_EIO, "write_failed", "",
				   x->line.overflow ? "A record is too large to export."
						    : "Writing the export failed.");
	else if (x->failed)
		rc = err->code;
	if (count)
		*count = x->count;
	buf_release(&x->line);
	return rc < 0 ? rc : 0;
}

int ingest_export_users(struct store *st, int64_t ws, enum ingest_import_format format, int flags, ingest_out_fn out,
			void *arg, size_t *count, struct cairn_err *err)
{
	struct export_ctx x = {.out = out, .arg = arg};
	buf_init(&x.line, BUF_MAX_DEFAULT);
	int rc = 0;
	if (format == INGEST_FORMAT_CSV) {
		if (flags & INGEST_EXPORT_CSV_BOM)
			buf_adds(&x.line, "\xEF\xBB\xBF");
		for (size_t i = 0; i < NCSV_COLUMNS; i++) {
			if (i)
				buf_addch(&x.line, ',');
			buf_adds(&x.line, csv_columns[i]);
		}
		buf_adds(&x.line, "\r\n");
		if (out(x.line.ptr, x.line.len, arg) < 0)
			x.failed = 1;
		else
			rc = store_profiles_each(st, ws, user_csv, &x, err);
	} else {
		rc = store_profiles_each(st, ws, user_ndjson, &x, err);
	}
	return export_finish(&x, rc, count, err);
}

static int event_line(const char *text, size_t len, void *arg)
{
	struct export_ctx *x = arg;
	if (!x->internal) {
		json_t *v = json_loadb(text, len, 0, NULL);
		const char *t = jsonx_str(v, "type");
		int k = t ? ingest_kind_from_name(t) : -1;
		json_decref(v);
		if (k < 0 || k == INGEST_BATCH)
			return 0;
	}
	buf_reset(&x->line);
	buf_add(&x->line, text, len);
	buf_addch(&x->line, '\n');
	return export_emit(x);
}

int ingest_export_events(struct store *st, int64_t ws, int internal, ingest_out_fn out, void *arg, size_t *count,
			 struct cairn_err *err)
{
	struct export_ctx x = {.out = out, .arg = arg, .internal = internal};
	buf_init(&x.line, BUF_MAX_DEFAULT);
	int rc = store_events_each(st, ws, event_line, &x, err);
	return export_finish(&x, rc, count, err);
}
