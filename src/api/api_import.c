/* api_import.c — bulk import and export over HTTP.
 *
 *   POST /api/v1/import/users   CSV when Content-Type is text/csv, else NDJSON
 *                               (?format=csv|ndjson overrides); ?skip_bad=true;
 *                               ?map=member_no=user_id,nm=name
 *   POST /api/v1/import/events  NDJSON Tracking API messages; ?skip_bad=true
 *   GET  /api/v1/export/users   NDJSON, or ?format=csv (?bom=false)
 *   GET  /api/v1/export/events  NDJSON (?internal=true adds consent/tags/lifecycle)
 *
 * Imports run ingest_import_run over the request body and write through the
 * server's group-commit writer, then answer once the engine has applied the
 * rows, so a read right after sees them. The answer counts rows:
 * {"rows","imported","duplicates","skipped","errors":[{"line","message"}]};
 * in abort mode (no skip_bad) one bad row makes it 422 with the same fields
 * plus "error", and nothing is stored.
 *
 * Exports are buffered up to BUF_MAX_RESPONSE because src/http has no
 * streaming responses yet; `cairn export` streams any size. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "app/app.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "ingest/ingest_import.h"

#define IMPORT_APPLY_WAIT_MS 60000
#define EXPORT_APPLY_WAIT_MS 2000

/* Like app_append, without the wait (done once at the end) and keeping the
 * duplicate flags the counts need. */
struct api_sink {
	struct app *a;
	int64_t ws;
	int64_t received_at;
	int64_t last_id;
};

static int api_write(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err)
{
	struct api_sink *s = arg;
	struct store_event *evs = xcalloc(b->n ? b->n : 1, sizeof *evs);
	ingest_batch_events(b, s->ws, (unsigned)s->a->cfg->shards, s->received_at, evs);
	int rc = ingest_writer_append(s->a->writer, evs, b->n, dup, err);
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		if (!dup[i] && evs[i].id > s->last_id)
			s->last_id = evs[i].id;
	free(evs);
	return rc;
}

/* ?key=true|false|1|0 into *out (default 0); 400 sent and -1 if neither. */
static int query_bool(struct http_request *r, const char *key, int *out)
{
	const char *v = http_query(r, key);
	*out = 0;
	if (!v)
		return 0;
	if (!strcmp(v, "true") || !strcmp(v, "1") || !v[0]) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	http_errorf(r, CAIRN_EINVAL, "invalid_parameter", key, "%s must be true or false, not '%s'.", key, v);
	return -1;
}

static int content_type_is_csv(struct http_request *r)
{
	const char *ct = http_header(r, "Content-Type");
	return ct && (!strncasecmp(ct, "text/csv", 8) || !strncasecmp(ct, "application/csv", 15));
}

/* ?map=a=b,c=d into an arena-backed array of "a=b" specs. */
static size_t split_map(struct http_request *r, const char *spec, const char ***out)
{
	*out = NULL;
	if (!spec || !spec[0])
		return 0;
	size_t n = 1;
	for (const char *p = spec; *p; p++)
		n += *p == ',';
	const char **list = arena_alloc(http_arena(r), n * sizeof *list);
	size_t k = 0;
	const char *start = spec;
	for (const char *p = spec;; p++) {
		if (*p != ',' && *p)
			continue;
		list[k++] = arena_strndup(http_arena(r), start, (size_t)(p - start));
		if (!*p)
			break;
		start = p + 1;
	}
	*out = list;
	return k;
}

static void import_common(struct http_request *r, struct app *a, enum ingest_import_kind kind)
{
	int skip_bad;
	if (query_bool(r, "skip_bad", &skip_bad) < 0)
		return;
	int format = INGEST_FORMAT_NDJSON;
	const char *fq = http_query(r, "format");
	if (fq) {
		format = ingest_import_format_from_name(fq);
		if (format < 0) {
			http_errorf(r, CAIRN_EINVAL, "invalid_parameter", "format",
				    "format must be csv or ndjson, not '%s'.", fq);
			return;
		}
	} else if (content_type_is_csv(r)) {
		format = INGEST_FORMAT_CSV;
	}
	const char **map;
	size_t nmap = split_map(r, http_query(r, "map"), &map);
	int64_t now = clock_now_ms();
	struct api_sink sink = {.a = a, .ws = http_workspace(r), .received_at = now};
	struct ingest_import_opts o = {
		.kind = kind,
		.format = (enum ingest_import_format)format,
		.skip_bad = skip_bad,
		.map = map,
		.nmap = nmap,
		.received_at = now,
		.spool_dir = a->cfg->data_dir,
		.write = api_write,
		.write_arg = &sink,
	};
	const struct buf *body = http_body(r);
	struct ingest_src src;
	ingest_src_init_mem(&src, body->ptr, body->len);
	struct ingest_import_result res;
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = ingest_import_run(&o, &src, &res, &err);
	ingest_src_release(&src);
	if (sink.last_id)
		engine_wait_applied(a->engine, sink.last_id, IMPORT_APPLY_WAIT_MS);
	if (rc == 0) {
		http_json(r, 200, ingest_import_result_json(&res));
	} else if (rc == CAIRN_EUNPROC || res.rows) {
		/* the §2 error, with the counts and the bad rows beside it */
		json_t *out = ingest_import_result_json(&res);
		json_t *e = json_pack("{s:s,s:s}", "code", err.slug[0] ? err.slug : "import_failed", "message",
				      err.message);
		if (err.field[0])
			json_object_set_new(e, "field", json_string(err.field));
		json_object_set_new(out, "error", e);
		http_json(r, cairn_err_http_status(rc), out);
	} else {
		http_error(r, &err);
	}
	ingest_import_result_release(&res);
}

void api_import_users(struct http_request *r, void *app)
{
	import_common(r, app, INGEST_IMPORT_USERS);
}

void api_import_events(struct http_request *r, void *app)
{
	if (content_type_is_csv(r) && !http_query(r, "format")) {
		http_errorf(r, CAIRN_EINVAL, "invalid_format", "format",
			    "Events are imported from NDJSON (one Tracking API message a line), not CSV.");
		return;
	}
	import_common(r, app, INGEST_IMPORT_EVENTS);
}

/* ---- export ------------------------------------------------------------------------ */

static int buf_out(const char *p, size_t n, void *arg)
{
	return buf_add(arg, p, n);
}

static void export_send(struct http_request *r, int rc, struct buf *out, const struct cairn_err *err, const char *ctype,
			const char *filename, const char *cli)
{
	if (out->overflow) {
		http_errorf(
			r, CAIRN_ETOOBIG, "export_too_large", "",
			"The export is larger than %u MB, the most the API sends at once; run '%s --out FILE' on the "
			"server, which streams any size.",
			(unsigned)(BUF_MAX_RESPONSE / (1024u * 1024u)), cli);
	} else if (rc < 0) {
		http_error(r, err);
	} else {
		char disp[96];
		snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
		http_text(r, 200, ctype, out->ptr, out->len);
		http_header_add(r, "Content-Disposition", disp);
	}
	buf_release(out);
}

void api_export_users(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *fq = http_query(r, "format");
	int format = fq ? ingest_import_format_from_name(fq) : INGEST_FORMAT_NDJSON;
	if (format < 0) {
		http_errorf(r, CAIRN_EINVAL, "invalid_parameter", "format", "format must be ndjson or csv, not '%s'.",
			    fq);
		return;
	}
	int bom;
	if (query_bool(r, "bom", &bom) < 0)
		return;
	int no_bom = http_query(r, "bom") && !bom; /* a BOM unless ?bom=false */
	engine_wait_applied(a->engine, store_log_head(a->st), EXPORT_APPLY_WAIT_MS);
	struct buf out;
	buf_init(&out, BUF_MAX_RESPONSE);
	struct cairn_err err = CAIRN_ERR_INIT;
	size_t count;
	int csv = format == INGEST_FORMAT_CSV;
	int rc = ingest_export_users(a->st, http_workspace(r), (enum ingest_import_format)format,
				     no_bom ? 0 : INGEST_EXPORT_CSV_BOM, buf_out, &out, &count, &err);
	export_send(r, rc, &out, &err, csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
		    csv ? "users.csv" : "users.ndjson", "cairn export users");
}

void api_export_events(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *fq = http_query(r, "format");
	if (fq && ingest_import_format_from_name(fq) != INGEST_FORMAT_NDJSON) {
		http_errorf(r, CAIRN_EINVAL, "invalid_parameter", "format", "Events are exported as NDJSON only.");
		return;
	}
	int internal;
	if (query_bool(r, "internal", &internal) < 0)
		return;
	engine_wait_applied(a->engine, store_log_head(a->st), EXPORT_APPLY_WAIT_MS);
	struct buf out;
	buf_init(&out, BUF_MAX_RESPONSE);
	struct cairn_err err = CAIRN_ERR_INIT;
	size_t count;
	int rc = ingest_export_events(a->st, http_workspace(r), internal, buf_out, &out, &count, &err);
	export_send(r, rc, &out, &err, "application/x-ndjson; charset=utf-8", "events.ndjson", "cairn export events");
}
