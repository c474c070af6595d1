/* api_segments.c — the segments resource (api_segments.h). Definitions and
 * membership live in segment/seg_live.c; this file checks requests and
 * shapes responses. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_segments.h"
#include "api/api.h"
#include "app/app.h"
#include "cond/cond.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/xalloc.h"
#include "segment/seg_live.h"
#include "store/store_seg_live.h"
#include "store/store_segment.h"

#define SEGMENT_ID_MAX	     64
#define SEGMENT_NAME_MAX     200
#define CREATE_ATTEMPTS	     5
#define EXPORT_MAX	     (512u * 1024u * 1024u)
#define HISTORY_DAYS_DEFAULT 30
#define HISTORY_DAYS_MAX     366

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static json_t *segment_json(const struct store_segment *s)
{
	json_error_t je;
	json_t *cond = s->condition ? json_loads(s->condition, 0, &je) : NULL;
	json_t *o = json_pack("{s:s,s:s,s:o,s:I}", "id", s->id, "name", s->name, "condition", cond ? cond : json_null(),
			      "size", (json_int_t)s->size);
	json_object_set_new(o, "created_at", jsonx_time(s->created_at));
	json_object_set_new(o, "updated_at", jsonx_time(s->updated_at));
	return o;
}

/* The segment id of the path; sends 404 when it cannot name one. */
static const char *path_id(struct http_request *r)
{
	const char *id = http_param(r, 0);
	if (slug_valid(id, SEGMENT_ID_MAX))
		return id;
	http_errorf(r, CAIRN_ENOTFOUND, "segment_not_found", "", "No segment '%s' in this workspace.", id ? id : "");
	return NULL;
}

/* Parses and checks req's condition (required unless optional). *c (OUT)
 * NULL when absent and optional. */
static int read_condition(struct app *a, int64_t ws, json_t *req, const char *self, int optional, struct cond **c,
			  struct cairn_err *err)
{
	*c = NULL;
	json_t *cj = json_object_get(req, "condition");
	if (!cj) {
		if (optional)
			return 0;
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "condition",
				     "condition is required: a condition object such as {\"tag\":\"vip\"}.");
	}
	*c = cond_parse_at(cj, "condition", err);
	if (!*c)
		return CAIRN_EUNPROC;
	if (seg_live_check(a->st, ws, *c, self, err) < 0) {
		cond_free(*c);
		*c = NULL;
		return CAIRN_EUNPROC;
	}
	return 0;
}

static int read_name(json_t *req, int optional, const char **name, struct cairn_err *err)
{
	json_t *v = json_object_get(req, "name");
	if (!v && optional)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || utf8_chars(json_string_value(v)) > SEGMENT_NAME_MAX)
		return cairn_err_set(err, CAIRN_EUNPROC, v ? "invalid_field" : "missing_field", "name",
				     "name must be a string of 1 to %d characters, such as \"At risk\".",
				     SEGMENT_NAME_MAX);
	*name = json_string_value(v);
	return 0;
}

static void send_segment(struct http_request *r, struct app *a, int status, const char *id)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_segment s;
	if (store_segment_get(a->st, http_workspace(r), id, &s, &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, status, segment_json(&s));
	store_segment_release(&s);
}

void api_segment_create(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"id", "name", "condition", NULL};
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = NULL;
	const char *name = NULL;
	int64_t ws = http_workspace(r);
	json_t *idj = json_object_get(req, "id");
	char id[SEGMENT_ID_MAX + 1];
	if (api_only_keys(req, allowed, "a segment", &err) < 0)
		goto fail;
	if (idj && (!json_is_string(idj) || !slug_valid(json_string_value(idj), SEGMENT_ID_MAX))) {
		cairn_err_set(
			&err, CAIRN_EUNPROC, "invalid_id", "id",
			"id must be 1 to %d lowercase letters, digits, '-' or '_', starting with a letter or digit "
			"(like \"at-risk\"); leave it out to have one made from the name.",
			SEGMENT_ID_MAX);
		goto fail;
	}
	if (read_name(req, 0, &name, &err) < 0)
		goto fail;
	if (idj)
		snprintf(id, sizeof id, "%s", json_string_value(idj));
	else
		slug_from_name(name, "segment", id, sizeof id);
	if (read_condition(a, ws, req, id, 0, &c, &err) < 0)
		goto fail;
	api_read_barrier(a);
	int rc = CAIRN_ECONFLICT;
	for (int attempt = 0; attempt < CREATE_ATTEMPTS && rc == CAIRN_ECONFLICT; attempt++) {
		if (attempt > 0) {
			cairn_err_clear(&err);
			slug_from_name(name, "segment", id, sizeof id);
			slug_add_suffix(id, sizeof id);
		}
		rc = seg_live_save(a->st, ws, id, name, c, 1, clock_now_ms(), &err);
		if (idj)
			break;
	}
	if (rc < 0)
		goto fail;
	char loc[128];
	snprintf(loc, sizeof loc, "/api/v1/segments/%s", id);
	http_header_add(r, "Location", loc);
	send_segment(r, a, 201, id);
	cond_free(c);
	json_decref(req);
	return;
fail:
	http_error(r, &err);
	cond_free(c);
	json_decref(req);
}

void api_segment_update(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"id", "name", "condition", NULL};
	const char *id = path_id(r);
	if (!id)
		return;
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = NULL;
	const char *name = NULL;
	int64_t ws = http_workspace(r);
	struct store_segment cur = {0};
	json_t *idj = json_object_get(req, "id");
	if (api_only_keys(req, allowed, "a segment", &err) < 0)
		goto fail;
	if (idj && !(json_is_string(idj) && !strcmp(json_string_value(idj), id))) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_id", "id", "id cannot change; leave it out or send '%s'.",
			      id);
		goto fail;
	}
	if (store_segment_get(a->st, ws, id, &cur, &err) < 0 || read_name(req, 1, &name, &err) < 0 ||
	    read_condition(a, ws, req, id, 1, &c, &err) < 0)
		goto fail;
	if (!c) {
		json_error_t je;
		json_t *j = json_loads(cur.condition, 0, &je);
		c = j ? cond_parse(j, &err) : NULL;
		json_decref(j);
		if (!c) {
			cairn_err_set(&err, CAIRN_EIO, "storage_error", "",
				      "The stored condition of '%s' is unreadable.", id);
			goto fail;
		}
	}
	api_read_barrier(a);
	if (seg_live_save(a->st, ws, id, name ? name : cur.name, c, 0, clock_now_ms(), &err) < 0)
		goto fail;
	send_segment(r, a, 200, id);
	store_segment_release(&cur);
	cond_free(c);
	json_decref(req);
	return;
fail:
	http_error(r, &err);
	store_segment_release(&cur);
	cond_free(c);
	json_decref(req);
}

void api_segment_get(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	api_read_barrier(a);
	send_segment(r, a, 200, id);
}

void api_segment_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (seg_live_archive(a->st, http_workspace(r), id, clock_now_ms(), &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:s,s:b}", "id", id, "archived", 1));
}

void api_segments_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_segment_page p;
	if (store_segments_list(a->st, http_workspace(r), limit, http_query(r, "cursor"), &p, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *data = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(data, segment_json(&p.items[i]));
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor",
				p.next_cursor ? json_string(p.next_cursor) : json_null());
	store_segment_page_release(&p);
	http_json(r, 200, out);
}

void api_segment_preview(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const allowed[] = {"condition", NULL};
	json_t *req = http_body_json(r);
	if (!req)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct cond *c = NULL;
	int64_t ws = http_workspace(r), count = 0;
	if (api_only_keys(req, allowed, "a segment", &err) < 0 || read_condition(a, ws, req, NULL, 0, &c, &err) < 0) {
		http_error(r, &err);
		json_decref(req);
		return;
	}
	api_read_barrier(a);
	json_t *sample = json_array();
	if (seg_live_preview(a->st, ws, c, clock_now_ms(), &count, sample, &err) < 0) {
		json_decref(sample);
		http_error(r, &err);
	} else {
		http_json(r, 200, json_pack("{s:I,s:o}", "count", (json_int_t)count, "sample", sample));
	}
	cond_free(c);
	json_decref(req);
}

void api_segment_members(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	const char *id = path_id(r);
	if (!id || http_limit(r, &limit) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_segment s;
	if (store_segment_get(a->st, http_workspace(r), id, &s, &err) < 0) {
		http_error(r, &err);
		return;
	}
	store_segment_release(&s);
	char *next = NULL;
	json_t *data =
		store_seg_members_json(a->st, http_workspace(r), id, limit, http_query(r, "cursor"), &next, &err);
	if (!data) {
		http_error(r, &err);
		return;
	}
	json_t *out = json_pack("{s:o,s:o}", "data", data, "next_cursor", next ? json_string(next) : json_null());
	free(next);
	http_json(r, 200, out);
}

struct export
{
	struct buf out;
	int csv;
};

/* A CSV field, quoted when it needs to be (RFC 4180). */
static int csv_field(struct buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n"))
		return buf_adds(b, s);
	int rc = buf_addch(b, '"');
	for (; *s && rc == 0; s++)
		rc = *s == '"' ? buf_adds(b, "\"\"") : buf_addch(b, *s);
	return rc == 0 ? buf_addch(b, '"') : rc;
}

static int export_one(const char *id, int64_t entered_at, void *arg)
{
	struct export *x = arg;
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(entered_at, t);
	if (x->csv) {
		if (csv_field(&x->out, id) < 0)
			return 1;
		return buf_addf(&x->out, ",%s\r\n", t) < 0;
	}
	if (buf_adds(&x->out, "{\"id\":\"") < 0 || buf_add_json_str(&x->out, id, strlen(id)) < 0)
		return 1;
	return buf_addf(&x->out, "\",\"entered_at\":\"%s\"}\n", t) < 0;
}

void api_segment_export(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	const char *format = http_query(r, "format");
	if (format && strcmp(format, "ndjson") && strcmp(format, "csv")) {
		http_errorf(r, CAIRN_EINVAL, "bad_query", "format", "format must be ndjson or csv, not '%s'.", format);
		return;
	}
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_segment s;
	if (store_segment_get(a->st, http_workspace(r), id, &s, &err) < 0) {
		http_error(r, &err);
		return;
	}
	store_segment_release(&s);
	struct export x;
	x.csv = format && !strcmp(format, "csv");
	buf_init(&x.out, EXPORT_MAX);
	if (x.csv)
		buf_adds(&x.out, "id,entered_at\r\n");
	int rc = store_seg_members_each(a->st, http_workspace(r), id, export_one, &x, &err);
	if (rc < 0) {
		http_error(r, &err);
	} else if (rc > 0) {
		http_errorf(r, CAIRN_ETOOBIG, "export_too_large", "", "The export is larger than %u MB.",
			    EXPORT_MAX >> 20);
	} else {
		char disp[160];
		snprintf(disp, sizeof disp, "attachment; filename=\"segment-%s.%s\"", id, x.csv ? "csv" : "ndjson");
		http_text(r, 200, x.csv ? "text/csv; charset=utf-8" : "application/x-ndjson", x.out.ptr, x.out.len);
		http_header_add(r, "Content-Disposition", disp);
	}
	buf_release(&x.out);
}

struct history {
	json_t *data;
	int64_t from, to;  /* days */
	int64_t day, size; /* the last row seen */
	int have;
};

static void history_fill(struct history *h, int64_t upto)
{
	for (int64_t d = h->day + 1; h->have && d < upto; d++) {
		if (d < h->from)
			continue;
		char t[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(d * STORE_SEG_DAY_MS, t);
		t[10] = '\0';
		json_array_append_new(h->data, json_pack("{s:s,s:I}", "date", t, "size", (json_int_t)h->size));
	}
}

static int history_row(int64_t day, int64_t size, void *arg)
{
	struct history *h = arg;
	history_fill(h, day);
	if (day >= h->from) {
		char t[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(day * STORE_SEG_DAY_MS, t);
		t[10] = '\0';
		json_array_append_new(h->data, json_pack("{s:s,s:I}", "date", t, "size", (json_int_t)size));
	}
	h->day = day;
	h->size = size;
	h->have = 1;
	return 0;
}

void api_segment_history(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = path_id(r);
	if (!id)
		return;
	int64_t days = HISTORY_DAYS_DEFAULT;
	const char *q = http_query(r, "days");
	if (q) {
		char *end;
		long long v = strtoll(q, &end, 10);
		if (end == q || *end || v < 1 || v > HISTORY_DAYS_MAX) {
			http_errorf(r, CAIRN_EINVAL, "bad_query", "days", "days must be a whole number from 1 to %d.",
				    HISTORY_DAYS_MAX);
			return;
		}
		days = v;
	}
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_segment s;
	if (store_segment_get(a->st, http_workspace(r), id, &s, &err) < 0) {
		http_error(r, &err);
		return;
	}
	store_segment_release(&s);
	struct history h = {.data = json_array()};
	h.to = store_seg_day(clock_now_ms());
	h.from = h.to - days + 1;
	if (store_seg_sizes_each(a->st, http_workspace(r), id, h.from, history_row, &h, &err) < 0) {
		json_decref(h.data);
		http_error(r, &err);
		return;
	}
	history_fill(&h, h.to + 1);
	http_json(r, 200, json_pack("{s:s,s:o}", "id", id, "data", h.data));
}
