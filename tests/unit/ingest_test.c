/* ingest_test.c — Tracking API validation/normalization and the applier. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"

static const int64_t NOW = 1767225600000; /* 2026-01-01T00:00:00Z */

static int parse(enum ingest_kind k, const char *body, struct ingest_batch *b, struct cairn_err *e)
{
	return ingest_parse(k, body, strlen(body), NOW, b, e);
}

static json_t *body_of(const struct ingest_msg *m)
{
	json_t *v = json_loads(m->body, 0, NULL);
	cr_assert_not_null(v);
	return v;
}

Test(ingest_parse, track_is_normalized)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(parse(INGEST_TRACK, "{\"userId\":42,\"event\":\"Order Completed\",\"properties\":{\"revenue\":1}}",
			   &b, &e),
		     0, "%s", e.message);
	cr_assert_eq(b.n, 1);
	cr_assert_str_eq(b.msgs[0].type, "track");
	cr_assert_str_eq(b.msgs[0].user_id, "42", "numeric ids become strings");
	cr_assert_str_eq(b.msgs[0].name, "Order Completed");
	cr_assert_eq(strlen(b.msgs[0].message_id), 36, "a messageId is assigned");
	cr_assert_eq(b.msgs[0].ts, NOW);
	json_t *v = body_of(&b.msgs[0]);
	cr_assert_str_eq(json_string_value(json_object_get(v, "event")), "Order Completed", "stored as sent");
	json_decref(v);
	ingest_batch_release(&b);
}

Test(ingest_parse, batch_messages_keep_their_bytes)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *body = "{ \"sentAt\":\"2026-01-01T01:00:00Z\", \"batch\" : [ {\"type\":\"track\",\"userId\":\"u\","
			   "\"event\":\"A\",\"timestamp\":\"2026-01-01T00:59:00Z\"} "
			   ",\n{\"type\":\"page\",\"anonymousId\":\"x\"}]}";
	cr_assert_eq(parse(INGEST_BATCH, body, &b, &e), 0, "%s", e.message);
	cr_assert_eq(b.n, 2);
	cr_assert_eq(strncmp(b.msgs[0].body, "{\"type\":\"track\"", 15), 0);
	cr_assert_eq(b.msgs[0].body[b.msgs[0].body_len - 1], '}');
	cr_assert_eq(b.msgs[0].ts, NOW - 60000, "the batch's sentAt corrects skew");
	cr_assert_eq(strcmp(b.msgs[1].body, "{\"type\":\"page\",\"anonymousId\":\"x\"}]}"), 0);
	cr_assert_eq(b.msgs[1].body_len, strlen("{\"type\":\"page\",\"anonymousId\":\"x\"}"));
	ingest_batch_release(&b);
	const char *bad[] = {"{\"batch\":[{}",
			     "{\"batch\":[1 2]}",
			     "{\"batch\":[],\"batch\":[]}",
			     "{\"batch\":[]} x",
			     "{\"batch\":[],}",
			     "{}",
			     "{\"a\":}",
			     "{\"context\":{},\"context\":{},\"batch\":[]}",
			     "{\"writeKey\":\"a\",\"writeKey\":\"b\",\"batch\":[]}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cairn_err_clear(&e);
		cr_assert_lt(parse(INGEST_BATCH, bad[i], &b, &e), 0, "%s", bad[i]);
		cr_assert_eq(e.code, CAIRN_EINVAL, "%s", bad[i]);
	}
}

Test(ingest_parse, sent_at_corrects_clock_skew)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	/* the client's clock is one hour fast; the event happened 5 s before sending */
	cr_assert_eq(parse(INGEST_TRACK,
			   "{\"anonymousId\":\"a\",\"event\":\"E\",\"timestamp\":\"2026-01-01T00:59:55Z\","
			   "\"sentAt\":\"2026-01-01T01:00:00Z\"}",
			   &b, &e),
		     0, "%s", e.message);
	cr_assert_eq(b.msgs[0].ts, NOW - 5000);
	ingest_batch_release(&b);
	/* RudderStack's originalTimestamp alone gives the time */
	cr_assert_eq(parse(INGEST_TRACK,
			   "{\"anonymousId\":\"a\",\"event\":\"E\",\"originalTimestamp\":\"2025-12-31T00:00:00Z\"}", &b,
			   &e),
		     0);
	cr_assert_eq(b.msgs[0].ts, NOW - 86400000);
	ingest_batch_release(&b);
}

struct bad_case {
	enum ingest_kind kind;
	const char *body;
	int code;
	const char *field;
};

Test(ingest_parse, bad_input_is_rejected_with_a_field)
{
	static const struct bad_case cases[] = {
		{INGEST_TRACK, "{\"event\":\"E\"}", CAIRN_EINVAL, "userId"},
		{INGEST_TRACK, "{\"userId\":\"u\"}", CAIRN_EINVAL, "event"},
		{INGEST_TRACK, "{\"userId\":{},\"event\":\"E\"}", CAIRN_EINVAL, "userId"},
		{INGEST_TRACK, "{\"userId\":\"u\",\"event\":\"E\",\"properties\":[]}", CAIRN_EINVAL, "properties"},
		{INGEST_TRACK, "{\"userId\":\"u\",\"event\":\"E\",\"timestamp\":\"soon\"}", CAIRN_EINVAL, "timestamp"},
		{INGEST_ALIAS, "{\"userId\":\"u\"}", CAIRN_EINVAL, "previousId"},
		{INGEST_GROUP, "{\"userId\":\"u\"}", CAIRN_EINVAL, "groupId"},
		{INGEST_IDENTIFY, "{\"userId\":\"u\",\"traits\":{\"email\":5}}", CAIRN_EINVAL, "traits.email"},
		{INGEST_IDENTIFY, "{\"userId\":\"u\",\"traits\":{\"timezone\":\"Mars/Base\"}}", CAIRN_EINVAL,
		 "traits.timezone"},
		{INGEST_IDENTIFY, "{\"userId\":\"u\",\"traits\":{\"consent\":{\"email\":\"yes\"}}}", CAIRN_EINVAL,
		 "traits.consent"},
		{INGEST_BATCH,
		 "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"},{\"type\":\"nope\",\"userId\":"
		 "\"u\"}]}",
		 CAIRN_EINVAL, "batch[1].type"},
		{INGEST_BATCH, "{\"batch\":{}}", CAIRN_EINVAL, "batch"},
		{INGEST_TRACK, "[]", CAIRN_EINVAL, ""},
		{INGEST_TRACK,
		 "{\"userId\":\"u\",\"event\":\"E\",\"messageId\":"
		 "\"012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678"
		 "9\"}",
		 CAIRN_EINVAL, "messageId"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ingest_batch b;
		struct cairn_err e = CAIRN_ERR_INIT;
		int rc = parse(cases[i].kind, cases[i].body, &b, &e);
		cr_assert_eq(rc, cases[i].code, "case %zu (%s): got %d %s", i, cases[i].body, rc, e.message);
		cr_assert_str_eq(e.field, cases[i].field, "case %zu: %s", i, e.message);
		cr_assert_eq(b.n, 0, "nothing is returned on error");
		cr_assert_gt(strlen(e.message), 10);
	}
}

Test(ingest_parse, limits)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	size_t big = 40 * 1024;
	char *body = malloc(big + 100);
	int n = snprintf(body, 100, "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"x\":\"");
	memset(body + n, 'a', big);
	memcpy(body + n + big, "\"}}", 4);
	cr_assert_eq(parse(INGEST_TRACK, body, &b, &e), CAIRN_ETOOBIG);
	free(body);
	cairn_err_clear(&e);
	/* 2,501 messages */
	size_t cap = 2501 * 60 + 32;
	body = malloc(cap);
	size_t at = (size_t)snprintf(body, cap, "{\"batch\":[");
	for (int i = 0; i < 2501; i++)
		at += (size_t)snprintf(body + at, cap - at, "%s{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"}",
				       i ? "," : "");
	snprintf(body + at, cap - at, "]}");
	cr_assert_eq(parse(INGEST_BATCH, body, &b, &e), CAIRN_ETOOBIG, "%s", e.message);
	free(body);
}

Test(ingest_parse, batch_context_and_write_key)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(parse(INGEST_BATCH,
			   "{\"writeKey\":\"wk_x\",\"context\":{\"library\":{\"name\":\"x\"}},\"batch\":["
			   "{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"name\":\"김민준\"}},"
			   "{\"type\":\"page\",\"anonymousId\":\"a\",\"name\":\"Home\"}]}",
			   &b, &e),
		     0, "%s", e.message);
	cr_assert_str_eq(b.write_key, "wk_x");
	cr_assert_eq(b.n, 2);
	cr_assert_str_eq(b.msgs[1].name, "Home");
	json_t *v = body_of(&b.msgs[1]);
	cr_assert_not_null(json_object_get(json_object_get(v, "context"), "library"));
	cr_assert_null(json_object_get(v, "writeKey"));
	json_decref(v);
	ingest_batch_release(&b);
}

/* ---- the applier, through a real store ------------------------------------ */

static char dir[64];
static struct store *st;

static void open_store(void)
{
	log_set_level(LOG_WARN);
	snprintf(dir, sizeof dir, "/tmp/cairn-ingest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	struct cairn_err e = CAIRN_ERR_INIT;
	st = store_open(dir, &e);
	cr_assert_not_null(st);
}

static void close_store(void)
{
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void send(enum ingest_kind k, const char *body)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(parse(k, body, &b, &e), 0, "%s: %s", body, e.message);
	struct store_event evs[8];
	unsigned char dup[8];
	ingest_batch_events(&b, 1, 16, NOW, evs);
	cr_assert_eq(store_log_append(st, evs, b.n, dup, &e), 0);
	ingest_batch_release(&b);
	cr_assert_eq(engine_catch_up(st, &e), 0, "%s", e.message);
}

static json_t *profile(const char *id)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *p = store_profile_json(st, 1, id, &e);
	cr_assert_not_null(p, "%s: %s", id, e.message);
	return p;
}

TestSuite(ingest_apply, .init = open_store, .fini = close_store);

Test(ingest_apply, anonymous_history_belongs_to_the_user_after_identify)
{
	send(INGEST_TRACK, "{\"anonymousId\":\"dev-1\",\"event\":\"Product Viewed\"}");
	send(INGEST_IDENTIFY, "{\"anonymousId\":\"dev-1\",\"userId\":\"u1\",\"traits\":{\"email\":\"A@B.kr\"}}");
	send(INGEST_TRACK, "{\"anonymousId\":\"dev-2\",\"event\":\"App Opened\"}");
	send(INGEST_TRACK, "{\"anonymousId\":\"dev-2\",\"userId\":\"u1\",\"event\":\"Logged In\"}");
	json_t *p = profile("u1");
	cr_assert_eq(json_array_size(json_object_get(p, "anonymous_ids")), 2, "two devices");
	json_decref(p);
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	cr_assert_eq(store_profile_resolve(st, 1, "u1", &pid, &e), 0);
	char *cursor = NULL;
	json_t *tl = store_timeline_json(st, 1, pid, 50, NULL, &cursor, &e);
	cr_assert_eq(json_array_size(tl), 4, "every event of both devices is u1's");
	json_decref(tl);
	/* the anonymous id now resolves to the user */
	p = profile("dev-1");
	cr_assert_str_eq(json_string_value(json_object_get(p, "id")), "u1");
	json_decref(p);
}

Test(ingest_apply, traits_merge_and_null_removes)
{
	send(INGEST_IDENTIFY,
	     "{\"userId\":\"u\",\"traits\":{\"plan\":\"free\",\"name\":\"김민준\",\"city\":\"Seoul\"}}");
	send(INGEST_IDENTIFY,
	     "{\"userId\":\"u\",\"traits\":{\"plan\":\"pro\",\"city\":null,\"lifecycle_stage\":\"lead\"}}");
	json_t *p = profile("u");
	json_t *t = json_object_get(p, "traits");
	cr_assert_str_eq(json_string_value(json_object_get(t, "plan")), "pro");
	cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "김민준");
	cr_assert_null(json_object_get(t, "city"));
	cr_assert_str_eq(json_string_value(json_object_get(p, "lifecycle_stage")), "lead");
	json_decref(p);
}

Test(ingest_apply, consent_with_time_and_source)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"u\",\"context\":{\"consent_source\":\"signup_form\"},"
			      "\"traits\":{\"consent\":{\"email\":\"subscribed\",\"sms\":\"unsubscribed\","
			      "\"topics\":{\"newsletter\":\"subscribed\"}}}}");
	send(INGEST_IDENTIFY, "{\"userId\":\"u\",\"traits\":{\"consent\":{\"email\":\"unsubscribed\"}}}");
	json_t *p = profile("u");
	json_t *c = json_object_get(p, "consent");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "email"), "status")), "unsubscribed");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "email"), "source")), "api");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "sms"), "source")), "signup_form");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(c, "topics"), "newsletter"),
							   "status")),
			 "subscribed");
	cr_assert_null(json_object_get(json_object_get(p, "traits"), "consent"), "consent is not a plain trait");
	json_decref(p);
}

Test(ingest_apply, alias_and_groups)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"old-id\",\"traits\":{\"a\":1}}");
	send(INGEST_IDENTIFY, "{\"userId\":\"new-id\",\"traits\":{\"b\":2}}");
	send(INGEST_ALIAS, "{\"previousId\":\"old-id\",\"userId\":\"new-id\"}");
	send(INGEST_GROUP, "{\"userId\":\"new-id\",\"groupId\":\"acme\",\"traits\":{\"plan\":\"enterprise\"}}");
	json_t *p = profile("old-id");
	cr_assert_str_eq(json_string_value(json_object_get(p, "id")), "new-id");
	json_t *t = json_object_get(p, "traits");
	cr_assert_eq(json_integer_value(json_object_get(t, "a")), 1);
	cr_assert_eq(json_integer_value(json_object_get(t, "b")), 2);
	json_t *g = json_array_get(json_object_get(p, "groups"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(g, "id")), "acme");
	json_decref(p);
}

Test(ingest_apply, shared_device_moves_to_the_new_user)
{
	send(INGEST_IDENTIFY, "{\"anonymousId\":\"kiosk\",\"userId\":\"alice\"}");
	send(INGEST_IDENTIFY, "{\"anonymousId\":\"kiosk\",\"userId\":\"bob\"}");
	json_t *a = profile("alice"), *b = profile("bob");
	json_t *k = profile("kiosk");
	cr_assert_str_eq(json_string_value(json_object_get(k, "id")), "bob");
	json_decref(k);
	cr_assert_eq(json_array_size(json_object_get(a, "anonymous_ids")), 0);
	json_decref(a);
	json_decref(b);
}

Test(ingest_apply, search_finds_korean_names_email_and_phone)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"u1\",\"traits\":{\"name\":\"김민준\",\"email\":\"MJ@Example.com\","
			      "\"phone\":\"+821012345678\"}}");
	send(INGEST_IDENTIFY, "{\"userId\":\"u2\",\"traits\":{\"name\":\"이서연\"}}");
	const char *queries[] = {"민준", "mj@example", "1012345", "u1"};
	for (size_t i = 0; i < 4; i++) {
		struct cairn_err e = CAIRN_ERR_INIT;
		char *cursor = NULL;
		json_t *r = store_profiles_search(st, 1, queries[i], 10, NULL, &cursor, &e);
		cr_assert_eq(json_array_size(r), 1, "query %s", queries[i]);
		json_decref(r);
	}
}
