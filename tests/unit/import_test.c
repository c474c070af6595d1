/* import_test.c — the CSV reader, bulk import (abort and skip modes,
 * deterministic messageIds, chunking, write failures) and export round trips
 * against a temporary store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jsonx.h"
#include "engine/engine.h"
#include "ingest/ingest_import.h"

static const int64_t NOW = 1767225600000; /* 2026-01-01T00:00:00Z */

/* ---- CSV reader ---------------------------------------------------------------------- */

struct csv_fixture {
	struct ingest_src src;
	struct ingest_csv csv;
};

static void csv_open(struct csv_fixture *f, const char *text, size_t len)
{
	ingest_src_init_mem(&f->src, text, len);
	ingest_csv_init(&f->csv, &f->src);
}

static void csv_close(struct csv_fixture *f)
{
	ingest_csv_release(&f->csv);
	ingest_src_release(&f->src);
}

static int next(struct csv_fixture *f, struct cairn_err *e)
{
	cairn_err_clear(e);
	return ingest_csv_next(&f->csv, e);
}

static void expect_field(const struct ingest_csv *c, size_t i, const char *want)
{
	cr_assert_lt(i, c->nfields, "field %zu of %zu", i, c->nfields);
	cr_assert_eq(c->fields[i].len, strlen(want), "field %zu: '%s' (%zu) vs '%s'", i, c->fields[i].ptr,
		     c->fields[i].len, want);
	cr_assert_eq(memcmp(c->fields[i].ptr, want, strlen(want)), 0, "field %zu: '%s' vs '%s'", i, c->fields[i].ptr,
		     want);
}

Test(import, csv_quotes_commas_and_doubled_quotes)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "a,\"b,c\",\"d\"\"e\",\"\",f\"g,\n";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1, "%s", e.message);
	cr_assert_eq(f.csv.nfields, 6);
	expect_field(&f.csv, 0, "a");
	expect_field(&f.csv, 1, "b,c");
	expect_field(&f.csv, 2, "d\"e");
	expect_field(&f.csv, 3, "");
	expect_field(&f.csv, 4, "f\"g"); /* a quote inside an unquoted field is literal */
	expect_field(&f.csv, 5, "");
	cr_assert_eq(next(&f, &e), 0);
	csv_close(&f);
}

Test(import, csv_quoted_newlines_keep_line_numbers)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "id,note\n1,\"two\nlines\"\n2,\"three\r\nmore\nlines\"\n3,x\n";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 1);
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 2);
	expect_field(&f.csv, 1, "two\nlines");
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 4);
	expect_field(&f.csv, 1, "three\r\nmore\nlines"); /* inside quotes, bytes are kept as they are */
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 7);
	expect_field(&f.csv, 0, "3");
	cr_assert_eq(next(&f, &e), 0);
	csv_close(&f);
}

Test(import, csv_crlf_bom_and_korean)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "\xEF\xBB\xBFuser_id,name\r\nu1,김철수\r\nu2,\"이영희, 님\"\r\n";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	expect_field(&f.csv, 0, "user_id"); /* the BOM is not part of the first name */
	expect_field(&f.csv, 1, "name");
	cr_assert_eq(next(&f, &e), 1);
	expect_field(&f.csv, 1, "김철수"); /* no stray \r */
	cr_assert_eq(next(&f, &e), 1);
	expect_field(&f.csv, 1, "이영희, 님");
	cr_assert_eq(f.csv.rec_line, 3);
	cr_assert_eq(next(&f, &e), 0);
	csv_close(&f);
}

Test(import, csv_blank_lines_and_missing_final_newline)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "a,b\n\n\r\n1,2\n\n3,4";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 4, "blank lines are skipped but counted");
	expect_field(&f.csv, 1, "2");
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 6);
	expect_field(&f.csv, 1, "4");
	cr_assert_eq(next(&f, &e), 0);
	csv_close(&f);
}

Test(import, csv_unclosed_quote_is_an_error_with_its_line)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "a,b\n1,2\n3,\"oops\n4,5\n";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(next(&f, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "line 3: field 2 opens a quote that is never closed"), "%s", e.message);
	cr_assert_eq(next(&f, &e), 0);
	csv_close(&f);
}

Test(import, csv_text_after_closing_quote_is_reported_and_reading_goes_on)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *t = "a,b\n\"x\"y,2\n3,4\n";
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(next(&f, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "line 2: field 1 has text after its closing quote"), "%s", e.message);
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(f.csv.rec_line, 3);
	expect_field(&f.csv, 0, "3");
	csv_close(&f);
}

Test(import, csv_utf16_is_refused)
{
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char t[] = "\xFF\xFEu\0i\0d\0";
	csv_open(&f, t, sizeof t - 1);
	cr_assert_eq(next(&f, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "UTF-16"), "%s", e.message);
	csv_close(&f);
}

Test(import, csv_streams_fields_larger_than_the_read_window)
{
	FILE *fp = tmpfile();
	cr_assert_not_null(fp);
	size_t big = 150 * 1024;
	fputs("id,blob\n1,\"", fp);
	for (size_t i = 0; i < big; i++)
		fputc(i % 1000 == 999 ? '\n' : (i % 100 == 50 ? '"' : 'x'), fp);
	fputs("\"\n2,end\n", fp);
	rewind(fp);
	struct ingest_src src;
	struct ingest_csv c;
	struct cairn_err e = CAIRN_ERR_INIT;
	ingest_src_init_file(&src, fp);
	ingest_csv_init(&c, &src);
	/* every 100th byte is a lone '"' which closes the quote early: invalid */
	cr_assert_eq(ingest_csv_next(&c, &e), 1);
	cairn_err_clear(&e);
	cr_assert_eq(ingest_csv_next(&c, &e), CAIRN_EINVAL, "%s", e.message);
	ingest_csv_release(&c);
	ingest_src_release(&src);

	/* the same size with doubled quotes is one valid field */
	rewind(fp);
	cr_assert_eq(ftruncate(fileno(fp), 0), 0);
	fputs("id,blob\n1,\"", fp);
	size_t quotes = 0, newlines = 0;
	for (size_t i = 0; i < big; i++) {
		if (i % 1000 == 999) {
			fputc('\n', fp);
			newlines++;
		} else if (i % 100 == 50) {
			fputs("\"\"", fp);
			quotes++;
		} else {
			fputc('x', fp);
		}
	}
	fputs("\"\n2,end\n", fp);
	rewind(fp);
	ingest_src_init_file(&src, fp);
	ingest_csv_init(&c, &src);
	cr_assert_eq(ingest_csv_next(&c, &e), 1);
	cr_assert_eq(ingest_csv_next(&c, &e), 1, "%s", e.message);
	cr_assert_eq(c.fields[1].len, big);
	size_t q = 0;
	for (size_t i = 0; i < big; i++)
		q += c.fields[1].ptr[i] == '"';
	cr_assert_eq(q, quotes);
	cr_assert_eq(ingest_csv_next(&c, &e), 1);
	cr_assert_eq(c.rec_line, 3 + newlines);
	cr_assert_eq(ingest_src_offset(&src), (uint64_t)ftell(fp));
	ingest_csv_release(&c);
	ingest_src_release(&src);
	fclose(fp);
}

Test(import, csv_row_longer_than_the_limit)
{
	size_t n = INGEST_IMPORT_MAX_RECORD + 10;
	char *t = malloc(n + 16);
	memcpy(t, "a\n", 2);
	memset(t + 2, 'z', n);
	memcpy(t + 2 + n, "\nb\n", 4);
	struct csv_fixture f;
	struct cairn_err e = CAIRN_ERR_INIT;
	csv_open(&f, t, strlen(t));
	cr_assert_eq(next(&f, &e), 1);
	cr_assert_eq(next(&f, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "line 2: the row is longer than 256 KB"), "%s", e.message);
	cr_assert_eq(next(&f, &e), 1);
	expect_field(&f.csv, 0, "b");
	csv_close(&f);
	free(t);
}

/* ---- import without a store: a write function that records ---------------------------- */

struct capture {
	size_t calls;
	size_t fail_on_call; /* 1-based; 0 never */
	size_t largest;
	json_t *msgs; /* every message written, parsed */
	json_t *types, *ids;
};

static int capture_write(struct ingest_batch *b, unsigned char *dup, void *arg, struct cairn_err *err)
{
	struct capture *c = arg;
	c->calls++;
	if (c->fail_on_call && c->calls == c->fail_on_call)
		return cairn_err_set(err, CAIRN_EIO, "disk_full", "", "disk full");
	if (b->n > c->largest)
		c->largest = b->n;
	for (size_t i = 0; i < b->n; i++) {
		json_t *v = json_loadb(b->msgs[i].body, b->msgs[i].body_len, 0, NULL);
		cr_assert_not_null(v, "a written body is JSON");
		json_array_append_new(c->msgs, v);
		json_array_append_new(c->types, json_string(b->msgs[i].type));
		json_array_append_new(c->ids, json_string(b->msgs[i].message_id));
		dup[i] = 0;
	}
	return 0;
}

static void capture_init(struct capture *c)
{
	memset(c, 0, sizeof *c);
	c->msgs = json_array();
	c->types = json_array();
	c->ids = json_array();
}

static void capture_release(struct capture *c)
{
	json_decref(c->msgs);
	json_decref(c->types);
	json_decref(c->ids);
}

struct run {
	enum ingest_import_kind kind;
	enum ingest_import_format format;
	int skip_bad;
	const char *const *map;
	size_t nmap;
	size_t chunk;
};

static int run_mem(const struct run *r, const char *input, struct capture *cap, struct ingest_import_result *res,
		   struct cairn_err *err)
{
	struct ingest_import_opts o = {
		.kind = r->kind,
		.format = r->format,
		.skip_bad = r->skip_bad,
		.map = r->map,
		.nmap = r->nmap,
		.received_at = NOW,
		.chunk = r->chunk,
		.write = capture_write,
		.write_arg = cap,
	};
	struct ingest_src src;
	ingest_src_init_mem(&src, input, strlen(input));
	cairn_err_clear(err);
	int rc = ingest_import_run(&o, &src, res, err);
	ingest_src_release(&src);
	return rc;
}

static json_t *msg_at(struct capture *c, size_t i)
{
	json_t *m = json_array_get(c->msgs, i);
	cr_assert_not_null(m, "message %zu of %zu", i, json_array_size(c->msgs));
	return m;
}

static const char *path_str(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

static const struct run USERS_CSV = {.kind = INGEST_IMPORT_USERS, .format = INGEST_FORMAT_CSV};
static const struct run USERS_NDJSON = {.kind = INGEST_IMPORT_USERS, .format = INGEST_FORMAT_NDJSON};
static const struct run EVENTS = {.kind = INGEST_IMPORT_EVENTS, .format = INGEST_FORMAT_NDJSON};

Test(import, users_csv_rows_become_validated_identify_messages)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	const char *csv = "\xEF\xBB\xBFuserId,email,name,consent.email,consent.topics.news,tags,plan\r\n"
			  "u1,a@x.kr,김철수,subscribed,unsubscribed,\"vip, 신규\",pro\r\n"
			  "u2,,이영희,,,,\r\n";
	cr_assert_eq(run_mem(&USERS_CSV, csv, &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.rows, 2);
	cr_assert_eq(res.imported, 2);
	cr_assert_eq(res.skipped, 0);
	cr_assert_eq(json_array_size(cap.msgs), 3, "identify, tags, identify");
	json_t *m = msg_at(&cap, 0);
	cr_assert_str_eq(path_str(m, "type", NULL, NULL), "identify");
	cr_assert_str_eq(path_str(m, "userId", NULL, NULL), "u1");
	cr_assert_str_eq(path_str(m, "traits", "name", NULL), "김철수");
	cr_assert_str_eq(path_str(m, "traits", "plan", NULL), "pro", "values stay strings");
	cr_assert_str_eq(path_str(m, "traits", "consent", "email"), "subscribed");
	cr_assert_str_eq(
		json_string_value(json_object_get(
			json_object_get(json_object_get(json_object_get(m, "traits"), "consent"), "topics"), "news")),
		"unsubscribed");
	cr_assert_str_eq(path_str(m, "context", "consent_source", NULL), "import");
	cr_assert_str_eq(path_str(m, "context", "library", "name"), "cairn-import");
	cr_assert_eq(strncmp(path_str(m, "messageId", NULL, NULL), "imp_", 4), 0);
	cr_assert_eq(strlen(path_str(m, "messageId", NULL, NULL)), 36);
	json_t *tags = msg_at(&cap, 1);
	cr_assert_str_eq(json_string_value(json_array_get(cap.types, 1)), "tags");
	json_t *add = json_object_get(json_object_get(tags, "properties"), "add");
	cr_assert_eq(json_array_size(add), 2);
	cr_assert_str_eq(json_string_value(json_array_get(add, 1)), "신규");
	json_t *m2 = msg_at(&cap, 2);
	cr_assert_null(json_object_get(json_object_get(m2, "traits"), "email"), "an empty cell sets nothing");
	cr_assert_null(json_object_get(json_object_get(m2, "context"), "consent_source"));
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, ragged_row_is_reported_with_its_line)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	const char *csv = "user_id,email\nu1,a@x\nu2,b@x,extra\n\nu3\nu4,\"d@x\"\n";
	cr_assert_eq(run_mem(&USERS_CSV, csv, &cap, &res, &e), CAIRN_EUNPROC);
	cr_assert_eq(res.rows, 4);
	cr_assert_eq(res.skipped, 2);
	cr_assert_eq(res.nerrors, 2);
	cr_assert_eq(res.errors[0].line, 3);
	cr_assert(strstr(res.errors[0].message, "the row has 3 fields but the header has 2"), "%s",
		  res.errors[0].message);
	cr_assert_eq(res.errors[1].line, 5);
	cr_assert(strstr(e.message, "2 of 4 rows are bad (first: line 3"), "%s", e.message);
	cr_assert(res.aborted);
	cr_assert_eq(cap.calls, 0, "abort mode writes nothing");
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, skip_mode_writes_good_rows_and_lists_bad_ones)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = USERS_CSV;
	r.skip_bad = 1;
	const char *csv = "user_id,email,timezone,lifecycle_stage\n"
			  "u1,a@x,Asia/Seoul,lead\n"
			  "u2,b@x,Mars/Olympus,\n"
			  ",c@x,,\n"
			  "u4,d@x,,wizard\n"
			  "u5,e@x,,\n";
	cr_assert_eq(run_mem(&r, csv, &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.rows, 5);
	cr_assert_eq(res.imported, 2);
	cr_assert_eq(res.skipped, 3);
	cr_assert_not(res.aborted);
	cr_assert_eq(res.errors[0].line, 3);
	cr_assert_str_eq(res.errors[0].message, "traits.timezone: must be an IANA time zone such as \"Asia/Seoul\"");
	cr_assert_eq(res.errors[1].line, 4);
	cr_assert(strstr(res.errors[1].message, "user_id is empty"), "%s", res.errors[1].message);
	cr_assert_eq(res.errors[2].line, 5);
	cr_assert(strstr(res.errors[2].message, "traits.lifecycle_stage"), "%s", res.errors[2].message);
	cr_assert_str_eq(path_str(msg_at(&cap, 1), "userId", NULL, NULL), "u5");
	json_t *j = ingest_import_result_json(&res);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "errors"), 0), "line")), 3);
	json_decref(j);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, map_renames_and_drops_columns)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	const char *map[] = {"member_no=user_id", " 이름 = name", "secret="};
	struct run r = USERS_CSV;
	r.map = map;
	r.nmap = 3;
	cr_assert_eq(run_mem(&r, "member_no,이름,secret,grade\n42,박지민,hunter2,gold\n", &cap, &res, &e), 0, "%s",
		     e.message);
	json_t *m = msg_at(&cap, 0);
	cr_assert_str_eq(path_str(m, "userId", NULL, NULL), "42");
	cr_assert_str_eq(path_str(m, "traits", "name", NULL), "박지민");
	cr_assert_str_eq(path_str(m, "traits", "grade", NULL), "gold");
	cr_assert_null(json_object_get(json_object_get(m, "traits"), "secret"));
	cr_assert_null(json_object_get(json_object_get(m, "traits"), "이름"));
	ingest_import_result_release(&res);

	const char *bad[] = {"nope=user_id"};
	r.map = bad;
	r.nmap = 1;
	cr_assert_eq(run_mem(&r, "user_id\nu\n", &cap, &res, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "names a column the header does not have"), "%s", e.message);
	ingest_import_result_release(&res);
	const char *notutf8[] = {"user_id=\xff\xfe"};
	r.map = notutf8;
	cr_assert_eq(run_mem(&r, "user_id\nu\n", &cap, &res, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "not valid UTF-8"), "%s", e.message);
	ingest_import_result_release(&res);
	const char *noeq[] = {"user_id"};
	r.map = noeq;
	cr_assert_eq(run_mem(&r, "user_id\nu\n", &cap, &res, &e), CAIRN_EINVAL);
	cr_assert(strstr(e.message, "column=trait"), "%s", e.message);
	ingest_import_result_release(&res);
	r.format = INGEST_FORMAT_NDJSON;
	cr_assert_eq(run_mem(&r, "{\"userId\":\"u\"}\n", &cap, &res, &e), CAIRN_EINVAL, "no --map for NDJSON");
	ingest_import_result_release(&res);
	cr_assert_eq(cap.calls, 1);
	capture_release(&cap);
}

Test(import, header_problems_stop_the_import)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct {
		const char *csv, *want;
	} cases[] = {
		{"email,name\na@x,b\n", "the header has no user_id column"},
		{"user_id,email,email\nu,a,b\n", "names column 'email' twice"},
		{"user_id,userId\nu,v\n", "both give the userId"},
		{"user_id,address,address.city\nu,a,b\n", "columns 'address' and 'address.city' conflict"},
		{"user_id,a..b\nu,x\n", "not a usable trait name"},
		{"", "The CSV is empty"},
		{"user_id,\"x\n", "never closed"},
		{"user_id,\xff\n", "not valid UTF-8"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(run_mem(&USERS_CSV, cases[i].csv, &cap, &res, &e), CAIRN_EINVAL, "case %zu", i);
		cr_assert(strstr(e.message, cases[i].want), "case %zu: %s", i, e.message);
		ingest_import_result_release(&res);
	}
	/* a long Korean column name, quoted in a message cut to fit: still UTF-8 */
	struct buf h;
	buf_init(&h, 0);
	buf_adds(&h, "user_id,");
	for (int i = 0; i < 300; i++)
		buf_adds(&h, "가");
	buf_adds(&h, ",");
	for (int i = 0; i < 300; i++)
		buf_adds(&h, "가");
	buf_adds(&h, "\nu,1,2\n");
	cr_assert_eq(run_mem(&USERS_CSV, h.ptr, &cap, &res, &e), CAIRN_EINVAL);
	json_t *msg = json_string(e.message);
	cr_assert_not_null(msg, "the message is valid UTF-8: %s", e.message);
	json_decref(msg);
	ingest_import_result_release(&res);
	buf_release(&h);
	cr_assert_eq(cap.calls, 0);
	capture_release(&cap);
}

Test(import, unnamed_columns_must_stay_empty)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = USERS_CSV;
	r.skip_bad = 1;
	cr_assert_eq(run_mem(&r, "user_id,email,,\nu1,a@x,,\nu2,b@x,,oops\n", &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.imported, 1);
	cr_assert_eq(res.errors[0].line, 3);
	cr_assert(strstr(res.errors[0].message, "column 4 has a value but no name"), "%s", res.errors[0].message);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, traits_column_is_merged_under_the_columns)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = USERS_CSV;
	r.skip_bad = 1;
	const char *csv =
		"user_id,plan,consent.sms,traits\n"
		"u1,pro,subscribed,\"{\"\"plan\"\":\"\"free\"\",\"\"age\"\":31,\"\"consent\"\":{\"\"email\"\":"
		"\"\"unsubscribed\"\"}}\"\n"
		"u2,,,[1]\n"
		"u3,,,{bad\n";
	cr_assert_eq(run_mem(&r, csv, &cap, &res, &e), 0, "%s", e.message);
	json_t *m = msg_at(&cap, 0);
	cr_assert_str_eq(path_str(m, "traits", "plan", NULL), "pro", "the column wins");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(m, "traits"), "age")), 31,
		     "typed values via JSON");
	cr_assert_str_eq(path_str(m, "traits", "consent", "sms"), "subscribed");
	cr_assert_str_eq(path_str(m, "traits", "consent", "email"), "unsubscribed", "objects merge key by key");
	cr_assert_eq(res.skipped, 2);
	cr_assert(strstr(res.errors[0].message, "the traits column must be a JSON object, not an array"), "%s",
		  res.errors[0].message);
	cr_assert(strstr(res.errors[1].message, "the traits column is not valid JSON"), "%s", res.errors[1].message);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, ndjson_bad_line_is_reported_with_its_line)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	const char *nd = "{\"userId\":\"u1\",\"traits\":{\"email\":\"a@x\"}}\r\n"
			 "\n"
			 "   \n"
			 "{\"userId\":\"u2\",\"traits\":{\"email\":7}}\n"
			 "[1,2]\n"
			 "{\"userId\":\"u3\",\"traits\":{\"name\":\"\xff\"}}\n"
			 "{\"type\":\"track\",\"userId\":\"u4\",\"event\":\"X\"}\n"
			 "{\"traits\":{}}";
	cr_assert_eq(run_mem(&USERS_NDJSON, nd, &cap, &res, &e), CAIRN_EUNPROC);
	cr_assert_eq(res.rows, 6);
	cr_assert_eq(res.skipped, 5);
	size_t lines[] = {4, 5, 6, 7, 8};
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(res.errors[i].line, lines[i], "error %zu at line %zu", i, res.errors[i].line);
	cr_assert_str_eq(res.errors[0].message, "traits.email: must be a string, not a number");
	cr_assert(strstr(res.errors[1].message, "must be a JSON object, not an array"), "%s", res.errors[1].message);
	cr_assert(strstr(res.errors[2].message, "not valid UTF-8"), "%s", res.errors[2].message);
	cr_assert(strstr(res.errors[3].message, "takes identify messages, not \"track\""), "%s", res.errors[3].message);
	cr_assert(strstr(res.errors[4].message, "userId: every message needs a userId or an anonymousId"), "%s",
		  res.errors[4].message);
	cr_assert_eq(cap.calls, 0);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, events_need_a_type_and_internal_events_are_refused)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = EVENTS;
	r.skip_bad = 1;
	const char *nd = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Order Completed\",\"messageId\":\"m-1\","
			 "\"timestamp\":\"2025-12-01T10:00:00+09:00\",\"sentAt\":\"2025-12-01T01:00:05Z\","
			 "\"properties\":{\"revenue\":39000}}\n"
			 "{\"userId\":\"u1\",\"event\":\"X\"}\n"
			 "{\"type\":\"tags\",\"userId\":\"u1\",\"properties\":{\"add\":[\"x\"]}}\n"
			 "{\"type\":\"batch\",\"userId\":\"u1\"}\n"
			 "{\"type\":\"track\",\"userId\":\"u1\"}\n"
			 "{\"type\":\"page\",\"anonymousId\":\"a1\",\"name\":\"홈\"}\n"
			 "{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"a1\"}\n";
	cr_assert_eq(run_mem(&r, nd, &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.imported, 3);
	cr_assert_eq(res.skipped, 4);
	cr_assert(strstr(res.errors[0].message, "type: must be one of identify, track, page, screen, group, alias (got "
						"nothing)"),
		  "%s", res.errors[0].message);
	cr_assert(strstr(res.errors[1].message, "written by cairn itself"), "%s", res.errors[1].message);
	cr_assert(strstr(res.errors[2].message, "(got \"batch\")"), "%s", res.errors[2].message);
	cr_assert(strstr(res.errors[3].message, "event: track needs an event name"), "%s", res.errors[3].message);
	json_t *m = msg_at(&cap, 0);
	cr_assert_str_eq(path_str(m, "messageId", NULL, NULL), "m-1", "a messageId in the file is kept");
	cr_assert_null(json_object_get(m, "sentAt"), "sentAt is dropped: no skew correction for history");
	cr_assert_str_eq(json_string_value(json_array_get(cap.ids, 0)), "m-1");
	cr_assert_str_eq(json_string_value(json_array_get(cap.types, 1)), "page");
	cr_assert_str_eq(json_string_value(json_array_get(cap.types, 2)), "alias");
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, message_ids_are_deterministic)
{
	struct capture a, b;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&a);
	capture_init(&b);
	const char *csv = "user_id,email,tags\nu1,a@x,t1\nu1,a@x,t1\n";
	cr_assert_eq(run_mem(&USERS_CSV, csv, &a, &res, &e), 0, "%s", e.message);
	ingest_import_result_release(&res);
	cr_assert_eq(run_mem(&USERS_CSV, csv, &b, &res, &e), 0, "%s", e.message);
	ingest_import_result_release(&res);
	cr_assert(json_equal(a.ids, b.ids), "the same file gives the same ids");
	cr_assert_eq(json_array_size(a.ids), 4);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			cr_assert_str_neq(json_string_value(json_array_get(a.ids, i)),
					  json_string_value(json_array_get(a.ids, j)), "ids %zu and %zu differ", i, j);
	/* another header (or map) gives other ids */
	struct capture c;
	capture_init(&c);
	cr_assert_eq(run_mem(&USERS_CSV, "user_id,email,tags,x\nu1,a@x,t1,\nu1,a@x,t1,\n", &c, &res, &e), 0);
	ingest_import_result_release(&res);
	cr_assert_str_neq(json_string_value(json_array_get(a.ids, 0)), json_string_value(json_array_get(c.ids, 0)));
	capture_release(&a);
	capture_release(&b);
	capture_release(&c);
}

Test(import, format_is_sniffed)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = {.kind = INGEST_IMPORT_USERS, .format = INGEST_FORMAT_AUTO};
	cr_assert_eq(run_mem(&r, "\xEF\xBB\xBF \n{\"userId\":\"n1\"}\n", &cap, &res, &e), 0, "%s", e.message);
	ingest_import_result_release(&res);
	cr_assert_eq(run_mem(&r, "user_id\nc1\n", &cap, &res, &e), 0, "%s", e.message);
	ingest_import_result_release(&res);
	cr_assert_eq(run_mem(&r, "", &cap, &res, &e), 0, "an empty input imports nothing");
	cr_assert_eq(res.rows, 0);
	ingest_import_result_release(&res);
	cr_assert_str_eq(path_str(msg_at(&cap, 0), "userId", NULL, NULL), "n1");
	cr_assert_str_eq(path_str(msg_at(&cap, 1), "userId", NULL, NULL), "c1");
	cr_assert_eq(ingest_import_format_guess("a/b.CSV"), INGEST_FORMAT_CSV);
	cr_assert_eq(ingest_import_format_guess("x.jsonl"), INGEST_FORMAT_NDJSON);
	cr_assert_eq(ingest_import_format_guess("x.d/file"), INGEST_FORMAT_AUTO);
	cr_assert_eq(ingest_import_format_guess("-"), INGEST_FORMAT_AUTO);
	r.kind = INGEST_IMPORT_EVENTS;
	r.format = INGEST_FORMAT_CSV;
	cr_assert_eq(run_mem(&r, "type\ntrack\n", &cap, &res, &e), CAIRN_EINVAL);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, chunks_never_split_a_row)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct run r = USERS_CSV;
	r.chunk = 3;
	/* each row is an identify and a tags message */
	const char *csv = "user_id,tags\nu1,a\nu2,b\nu3,c\nu4,\nu5,e\n";
	cr_assert_eq(run_mem(&r, csv, &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.imported, 5);
	cr_assert_eq(res.messages, 9);
	cr_assert_eq(json_array_size(cap.msgs), 9);
	cr_assert_leq(cap.largest, 3);
	cr_assert_eq(cap.calls, 4, "[u1 u1'] [u2 u2'] [u3 u3' u4] [u5 u5']");
	for (size_t i = 0; i + 1 < json_array_size(cap.types); i++)
		if (!strcmp(json_string_value(json_array_get(cap.types, i + 1)), "tags"))
			cr_assert_str_eq(json_string_value(json_array_get(cap.types, i)), "identify");
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, write_failure_reports_how_far_it_got)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	cap.fail_on_call = 2;
	struct run r = USERS_CSV;
	r.chunk = 2;
	cr_assert_eq(run_mem(&r, "user_id\nu1\nu2\nu3\nu4\nu5\n", &cap, &res, &e), CAIRN_EIO);
	cr_assert_eq(res.imported, 2);
	cr_assert(strstr(e.message, "failed after 2 rows were written (disk full)"), "%s", e.message);
	cr_assert(strstr(e.message, "not stored twice"), "%s", e.message);
	ingest_import_result_release(&res);
	capture_release(&cap);
}

Test(import, errors_are_all_counted_but_listed_up_to_the_limit)
{
	struct capture cap;
	struct ingest_import_result res;
	struct cairn_err e = CAIRN_ERR_INIT;
	capture_init(&cap);
	struct buf in;
	buf_init(&in, 0);
	buf_adds(&in, "user_id,a\n");
	for (int i = 0; i < INGEST_IMPORT_MAX_ERRORS + 20; i++)
		buf_adds(&in, "u,1,2\n");
	buf_adds(&in, "good,1\n");
	struct run r = USERS_CSV;
	r.skip_bad = 1;
	cr_assert_eq(run_mem(&r, in.ptr, &cap, &res, &e), 0, "%s", e.message);
	cr_assert_eq(res.skipped, INGEST_IMPORT_MAX_ERRORS + 20);
	cr_assert_eq(res.nerrors, INGEST_IMPORT_MAX_ERRORS);
	cr_assert(res.errors_truncated);
	cr_assert_eq(res.imported, 1);
	json_t *j = ingest_import_result_json(&res);
	cr_assert(json_is_true(json_object_get(j, "errors_truncated")));
	json_decref(j);
	ingest_import_result_release(&res);
	buf_release(&in);
	capture_release(&cap);
}

/* ---- against a store ------------------------------------------------------------------------ */

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "/tmp/cairn-import-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct store *open_ws(const char *sub, int64_t *ws)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(path, &e);
	cr_assert_not_null(st, "%s", e.message);
	if (store_workspace_find(st, "default", ws, &e) < 0) {
		cairn_err_clear(&e);
		cr_assert_eq(store_workspace_create(st, "default", NOW, ws, &e), 0, "%s", e.message);
	}
	return st;
}

/* Imports input into st and applies it; returns ingest_import_run's code. */
static int import_into(struct store *st, int64_t ws, enum ingest_import_kind kind, enum ingest_import_format fmt,
		       int skip_bad, const char *input, size_t len, struct ingest_import_result *res)
{
	struct ingest_import_store sink = {.st = st, .ws = ws, .nshards = 16, .received_at = NOW};
	struct ingest_import_opts o = {
		.kind = kind,
		.format = fmt,
		.skip_bad = skip_bad,
		.received_at = NOW,
		.spool_dir = dir,
		.write = ingest_import_write_store,
		.write_arg = &sink,
	};
	struct ingest_src src;
	ingest_src_init_mem(&src, input, len);
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = ingest_import_run(&o, &src, res, &e);
	ingest_src_release(&src);
	struct cairn_err ae = CAIRN_ERR_INIT;
	cr_assert_eq(engine_catch_up(st, &ae), 0, "%s", ae.message);
	return rc;
}

static int to_buf(const char *p, size_t n, void *arg)
{
	return buf_add(arg, p, n);
}

static json_t *profile(struct store *st, int64_t ws, const char *id)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *p = store_profile_json(st, ws, id, &e);
	cr_assert_not_null(p, "%s: %s", id, e.message);
	return p;
}

static const char KOREAN_CSV[] = "\xEF\xBB\xBFuser_id,anonymous_id,email,phone,name,lifecycle_stage,consent.email,"
				 "tags,created_at,traits\r\n"
				 "u1,dev-1,kim@example.kr,+82 10-1234-5678,김철수,lead,subscribed,\"vip,서울\","
				 "2025-03-01T09:00:00+09:00,\"{\"\"points\"\":1200,\"\"consent\"\":{\"\"topics\"\":{"
				 "\"\"news\"\":\"\"unsubscribed\"\"}}}\"\r\n"
				 "u2,,lee@example.kr,,\"이영희, \"\"님\"\"\",,,,,\r\n"
				 ",dev-9,,,익명,,,,,\r\n";

Test(import, abort_mode_against_a_store_changes_nothing, .init = mkdir_tmp, .fini = rm_tmp)
{
	int64_t ws;
	struct store *st = open_ws("a", &ws);
	struct ingest_import_result res;
	const char *csv = "user_id,email,phone\nu1,a@x,010\nu2,b@x,\"010\"x\nu3,c@x,030\n";
	cr_assert_eq(import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, csv, strlen(csv), &res),
		     CAIRN_EUNPROC);
	cr_assert_eq(res.errors[0].line, 3);
	ingest_import_result_release(&res);
	cr_assert_eq(store_log_head(st), 0, "nothing was written");
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(store_profile_json(st, ws, "u1", &e));
	store_close(st);
}

Test(import, users_land_in_profiles_and_reimport_stores_nothing_twice, .init = mkdir_tmp, .fini = rm_tmp)
{
	int64_t ws;
	struct store *st = open_ws("a", &ws);
	struct ingest_import_result res;
	cr_assert_eq(
		import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, KOREAN_CSV, strlen(KOREAN_CSV), &res),
		0);
	cr_assert_eq(res.imported, 3);
	ingest_import_result_release(&res);
	int64_t head = store_log_head(st);
	cr_assert_eq(head, 4, "3 identify + 1 tags");

	json_t *p = profile(st, ws, "u1");
	json_t *t = json_object_get(p, "traits");
	cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "김철수");
	cr_assert_str_eq(json_string_value(json_object_get(t, "phone")), "+82 10-1234-5678");
	cr_assert_eq(json_integer_value(json_object_get(t, "points")), 1200);
	cr_assert_str_eq(json_string_value(json_object_get(p, "lifecycle_stage")), "lead");
	json_t *consent = json_object_get(p, "consent");
	cr_assert_str_eq(path_str(consent, "email", "status", NULL), "subscribed");
	cr_assert_str_eq(path_str(consent, "email", "source", NULL), "import");
	cr_assert_str_eq(path_str(json_object_get(consent, "topics"), "news", "status", NULL), "unsubscribed");
	cr_assert_eq(json_array_size(json_object_get(p, "tags")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "anonymous_ids"), 0)), "dev-1");
	json_decref(p);
	p = profile(st, ws, "u2");
	cr_assert_str_eq(path_str(p, "traits", "name", NULL), "이영희, \"님\"");
	json_decref(p);
	p = profile(st, ws, "dev-9");
	cr_assert(json_is_null(json_object_get(p, "id")), "an anonymous-only profile");
	json_decref(p);

	/* the same file again (and again in skip mode): nothing new */
	for (int skip = 0; skip <= 1; skip++) {
		cr_assert_eq(import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, skip, KOREAN_CSV,
					 strlen(KOREAN_CSV), &res),
			     0);
		cr_assert_eq(res.imported, 0);
		cr_assert_eq(res.duplicates, 3);
		cr_assert_eq(res.messages, 0);
		ingest_import_result_release(&res);
		cr_assert_eq(store_log_head(st), head, "stored nothing twice");
	}
	/* a crash after some chunks: re-running finishes the rest only */
	const char *more = "user_id\nx1\nx2\n";
	cr_assert_eq(
		import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, more, strlen("user_id\nx1\n"), &res), 0);
	ingest_import_result_release(&res);
	cr_assert_eq(import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, more, strlen(more), &res), 0);
	cr_assert_eq(res.imported, 1);
	cr_assert_eq(res.duplicates, 1);
	ingest_import_result_release(&res);
	cr_assert_eq(store_log_head(st), head + 2);
	store_close(st);
}

/* Everything of a profile that import rebuilds (not times). */
static json_t *essence(json_t *p)
{
	json_t *consent = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(p, "consent"), k, v) {
		if (strcmp(k, "topics"))
			json_object_set(consent, k, json_object_get(v, "status"));
	}
	json_object_foreach (json_object_get(json_object_get(p, "consent"), "topics"), k, v) {
		json_object_set(consent, k, json_object_get(v, "status"));
	}
	return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:o}", "id", json_object_get(p, "id"), "anonymous_ids",
			 json_object_get(p, "anonymous_ids"), "user_ids", json_object_get(p, "user_ids"), "traits",
			 json_object_get(p, "traits"), "tags", json_object_get(p, "tags"), "lifecycle",
			 json_object_get(p, "lifecycle_stage"), "groups", json_object_get(p, "groups"), "consent",
			 consent);
}

static json_t *export_essence(struct store *st, int64_t ws)
{
	struct buf out;
	buf_init(&out, 0);
	struct cairn_err e = CAIRN_ERR_INIT;
	size_t n;
	cr_assert_eq(ingest_export_users(st, ws, INGEST_FORMAT_NDJSON, 0, to_buf, &out, &n, &e), 0, "%s", e.message);
	json_t *all = json_object();
	char *save = NULL;
	for (char *line = strtok_r(out.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *p = json_loads(line, 0, NULL);
		cr_assert_not_null(p, "%s", line);
		const char *id = jsonx_str(p, "id");
		if (!id)
			id = json_string_value(json_array_get(json_object_get(p, "anonymous_ids"), 0));
		json_object_set_new(all, id, essence(p));
		json_decref(p);
	}
	cr_assert_eq(json_object_size(all), n);
	buf_release(&out);
	return all;
}

static void dump_diff(json_t *a, json_t *b)
{
	char *sa = json_dumps(a, JSON_SORT_KEYS | JSON_INDENT(1));
	char *sb = json_dumps(b, JSON_SORT_KEYS | JSON_INDENT(1));
	cr_log_error("before: %s\nafter: %s", sa, sb);
	free(sa);
	free(sb);
}

Test(import, export_round_trip_ndjson_rebuilds_profiles, .init = mkdir_tmp, .fini = rm_tmp)
{
	int64_t ws, ws2;
	struct store *st = open_ws("a", &ws);
	struct ingest_import_result res;
	cr_assert_eq(
		import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, KOREAN_CSV, strlen(KOREAN_CSV), &res),
		0);
	ingest_import_result_release(&res);
	/* more identity: a second device, an alias, a group */
	const char *ev = "{\"type\":\"identify\",\"userId\":\"u1\",\"anonymousId\":\"dev-2\"}\n"
			 "{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"old-u1\"}\n"
			 "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"traits\":{\"plan\":\"ent\"}}\n";
	cr_assert_eq(import_into(st, ws, INGEST_IMPORT_EVENTS, INGEST_FORMAT_NDJSON, 0, ev, strlen(ev), &res), 0);
	ingest_import_result_release(&res);

	struct buf out;
	buf_init(&out, 0);
	struct cairn_err e = CAIRN_ERR_INIT;
	size_t n;
	cr_assert_eq(ingest_export_users(st, ws, INGEST_FORMAT_NDJSON, 0, to_buf, &out, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 3);
	struct store *st2 = open_ws("b", &ws2);
	cr_assert_eq(import_into(st2, ws2, INGEST_IMPORT_USERS, INGEST_FORMAT_NDJSON, 0, out.ptr, out.len, &res), 0);
	cr_assert_eq(res.imported, 3);
	ingest_import_result_release(&res);
	json_t *a = export_essence(st, ws), *b = export_essence(st2, ws2);
	if (!json_equal(a, b))
		dump_diff(a, b);
	cr_assert(json_equal(a, b), "an exported store imports back to the same profiles");
	/* importing the export twice stores nothing twice */
	int64_t head = store_log_head(st2);
	cr_assert_eq(import_into(st2, ws2, INGEST_IMPORT_USERS, INGEST_FORMAT_NDJSON, 0, out.ptr, out.len, &res), 0);
	cr_assert_eq(res.duplicates, 3);
	ingest_import_result_release(&res);
	cr_assert_eq(store_log_head(st2), head);
	json_decref(a);
	json_decref(b);
	buf_release(&out);
	store_close(st2);
	store_close(st);
}

Test(import, export_round_trip_csv, .init = mkdir_tmp, .fini = rm_tmp)
{
	int64_t ws, ws2;
	struct store *st = open_ws("a", &ws);
	struct ingest_import_result res;
	cr_assert_eq(
		import_into(st, ws, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, KOREAN_CSV, strlen(KOREAN_CSV), &res),
		0);
	ingest_import_result_release(&res);
	struct buf out;
	buf_init(&out, 0);
	struct cairn_err e = CAIRN_ERR_INIT;
	size_t n;
	cr_assert_eq(ingest_export_users(st, ws, INGEST_FORMAT_CSV, INGEST_EXPORT_CSV_BOM, to_buf, &out, &n, &e), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(strncmp(out.ptr,
			     "\xEF\xBB\xBFuser_id,anonymous_id,email,phone,name,first_name,last_name,"
			     "lifecycle_stage,tags,created_at,traits\r\n",
			     strlen("\xEF\xBB\xBFuser_id,anonymous_id,email,phone,name,first_name,last_name,"
				    "lifecycle_stage,tags,created_at,traits\r\n")),
		     0, "%s", out.ptr);
	cr_assert(strstr(out.ptr, "\"이영희, \"\"님\"\"\""), "%s", out.ptr);
	struct store *st2 = open_ws("b", &ws2);
	cr_assert_eq(import_into(st2, ws2, INGEST_IMPORT_USERS, INGEST_FORMAT_CSV, 0, out.ptr, out.len, &res), 0);
	cr_assert_eq(res.imported, 3);
	ingest_import_result_release(&res);
	json_t *a = export_essence(st, ws), *b = export_essence(st2, ws2);
	/* the CSV has the first anonymous id only, and no groups */
	if (!json_equal(a, b))
		dump_diff(a, b);
	cr_assert(json_equal(a, b));
	/* a second CSV export is byte for byte the first */
	struct buf out2;
	buf_init(&out2, 0);
	cr_assert_eq(ingest_export_users(st2, ws2, INGEST_FORMAT_CSV, INGEST_EXPORT_CSV_BOM, to_buf, &out2, &n, &e), 0);
	cr_assert_str_eq(out2.ptr, out.ptr);
	json_decref(a);
	json_decref(b);
	buf_release(&out);
	buf_release(&out2);
	store_close(st2);
	store_close(st);
}

Test(import, events_export_import_round_trip, .init = mkdir_tmp, .fini = rm_tmp)
{
	int64_t ws, ws2;
	struct store *st = open_ws("a", &ws);
	struct ingest_import_result res;
	const char *ev =
		"{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Order Completed\","
		"\"timestamp\":\"2025-12-24T21:00:00+09:00\",\"properties\":{\"revenue\":59000,\"currency\":\"KRW\"}}\n"
		"{\"type\":\"page\",\"anonymousId\":\"a-1\",\"name\":\"상품\",\"timestamp\":\"2025-12-24T11:59:00Z\"}\n"
		"{\"type\":\"identify\",\"userId\":\"u1\",\"anonymousId\":\"a-1\",\"traits\":{\"name\":\"최\"}}\n";
	cr_assert_eq(import_into(st, ws, INGEST_IMPORT_EVENTS, INGEST_FORMAT_NDJSON, 0, ev, strlen(ev), &res), 0);
	cr_assert_eq(res.imported, 3);
	ingest_import_result_release(&res);
	/* a management-API change is internal: left out unless asked for */
	struct ingest_batch b;
	json_t *payload = json_pack("{s:[s]}", "add", "vip");
	ingest_internal_message("tags", "u1", NULL, payload, NOW, &b);
	json_decref(payload);
	struct store_event sev;
	unsigned char dup;
	struct cairn_err e = CAIRN_ERR_INIT;
	ingest_batch_events(&b, ws, 16, NOW, &sev);
	cr_assert_eq(store_log_append(st, &sev, 1, &dup, &e), 0);
	ingest_batch_release(&b);

	struct buf out, all;
	buf_init(&out, 0);
	buf_init(&all, 0);
	size_t n, nall;
	cr_assert_eq(ingest_export_events(st, ws, 0, to_buf, &out, &n, &e), 0, "%s", e.message);
	cr_assert_eq(ingest_export_events(st, ws, 1, to_buf, &all, &nall, &e), 0, "%s", e.message);
	cr_assert_eq(n, 3);
	cr_assert_eq(nall, 4);
	struct store *st2 = open_ws("b", &ws2);
	cr_assert_eq(import_into(st2, ws2, INGEST_IMPORT_EVENTS, INGEST_FORMAT_NDJSON, 0, out.ptr, out.len, &res), 0,
		     "%s", res.nerrors ? res.errors[0].message : "");
	cr_assert_eq(res.imported, 3);
	cr_assert_eq(res.duplicates, 0);
	ingest_import_result_release(&res);
	/* the exported messageIds are kept, so importing into the same store is a no-op */
	cr_assert_eq(import_into(st, ws, INGEST_IMPORT_EVENTS, INGEST_FORMAT_NDJSON, 0, out.ptr, out.len, &res), 0);
	cr_assert_eq(res.duplicates, 3);
	ingest_import_result_release(&res);
	cr_assert_eq(import_into(st2, ws2, INGEST_IMPORT_EVENTS, INGEST_FORMAT_NDJSON, 0, all.ptr, all.len, &res),
		     CAIRN_EUNPROC, "internal events are refused");
	ingest_import_result_release(&res);

	struct buf out2;
	buf_init(&out2, 0);
	cr_assert_eq(ingest_export_events(st2, ws2, 0, to_buf, &out2, &n, &e), 0);
	cr_assert_eq(n, 3);
	/* same events, same times and ids; only receivedAt is the import's */
	char *s1 = NULL, *s2 = NULL;
	char *l1 = strtok_r(out.ptr, "\n", &s1), *l2 = strtok_r(out2.ptr, "\n", &s2);
	for (; l1 && l2; l1 = strtok_r(NULL, "\n", &s1), l2 = strtok_r(NULL, "\n", &s2)) {
		json_t *j1 = json_loads(l1, 0, NULL), *j2 = json_loads(l2, 0, NULL);
		json_object_del(j1, "receivedAt");
		json_object_del(j2, "receivedAt");
		if (!json_equal(j1, j2))
			dump_diff(j1, j2);
		cr_assert(json_equal(j1, j2));
		json_decref(j1);
		json_decref(j2);
	}
	cr_assert_null(l1);
	cr_assert_null(l2);
	json_t *p = profile(st2, ws2, "a-1");
	cr_assert_str_eq(json_string_value(json_object_get(p, "id")), "u1", "identity rules apply to imported events");
	json_decref(p);
	buf_release(&out);
	buf_release(&all);
	buf_release(&out2);
	store_close(st2);
	store_close(st);
}
