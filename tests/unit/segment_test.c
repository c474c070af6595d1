/* segment_test.c — per-user aggregates, computed traits and the condition
 * provider (src/segment/, src/store/store_segment.c), through a real store
 * and the engine's applier. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "segment/segment.h"
#include "store/store_segment.h"

#define DAY  STORE_SEG_DAY_MS
#define HOUR 3600000LL
static const int64_t NOW = 1772413200000; /* 2026-03-02T01:00:00Z (10:00 KST) */

static char dir[64];
static struct store *st;

static void open_store(void)
{
	log_set_level(LOG_WARN);
	clock_virtual_start(NOW);
	snprintf(dir, sizeof dir, "/tmp/cairn-seg-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	struct cairn_err e = CAIRN_ERR_INIT;
	st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
}

static void close_store(void)
{
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* Logs one message and lets the engine apply it. */
static void send(enum ingest_kind k, const char *body)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(ingest_parse(k, body, strlen(body), NOW, &b, &e), 0, "%s: %s", body, e.message);
	struct store_event evs[4];
	unsigned char dup[4];
	ingest_batch_events(&b, 1, 16, NOW, evs);
	cr_assert_eq(store_log_append(st, evs, b.n, dup, &e), 0);
	ingest_batch_release(&b);
	cr_assert_eq(engine_catch_up(st, &e), 0, "%s", e.message);
}

/* A track event of user at time ts with properties (JSON text or NULL). */
static void track(const char *user, const char *event, int64_t ts, const char *props)
{
	char t[CLOCK_RFC3339_LEN], body[1024];
	clock_format_rfc3339(ts, t);
	snprintf(body, sizeof body, "{\"userId\":\"%s\",\"event\":\"%s\",\"timestamp\":\"%s\",\"properties\":%s}", user,
		 event, t, props ? props : "{}");
	send(INGEST_TRACK, body);
}

static int64_t pid_of(const char *user)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid = 0;
	cr_assert_eq(store_profile_resolve(st, 1, user, &pid, &e), 0, "%s", e.message);
	return pid;
}

static int64_t count(const char *user, const char *name, int64_t since, int64_t until, double *revenue)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t n = -1;
	cr_assert_eq(store_seg_count(st, 1, pid_of(user), name, since, until, &n, revenue, &e), 0, "%s", e.message);
	return n;
}

static json_t *computed_at(const char *user, int64_t now)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *c = seg_computed_json(st, 1, pid_of(user), now, &e);
	cr_assert_not_null(c, "%s", e.message);
	return c;
}

static json_int_t int_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

/* Evaluates condition text for user at now (0 = the clock). */
static int eval_at(const char *user, const char *text, int64_t now)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s: %s", text, je.text);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct cond *c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_not_null(c, "%s: %s (%s)", text, e.message, e.field);
	struct seg_ctx sc;
	cr_assert_eq(seg_ctx_init(&sc, st, 1, pid_of(user), NULL, &e), 0, "%s", e.message);
	if (now)
		sc.cond.now_ms = now;
	int r = cond_eval(c, &sc.cond, &e);
	seg_ctx_release(&sc);
	cond_free(c);
	return r;
}

static int eval(const char *user, const char *text)
{
	return eval_at(user, text, 0);
}

TestSuite(seg_aggregates, .init = open_store, .fini = close_store);

Test(seg_aggregates, day_buckets_across_days)
{
	int64_t d0 = store_seg_day(NOW) * DAY; /* today 00:00Z */
	track("u1", "Product Viewed", d0 - 2 * DAY + 5 * HOUR, NULL);
	track("u1", "Product Viewed", d0 - 2 * DAY + 20 * HOUR, NULL);
	track("u1", "Product Viewed", d0 - DAY + 1 * HOUR, NULL);
	track("u1", "Product Viewed", d0 + 30 * 60000, NULL);
	track("u1", "Signed Up", d0 - 2 * DAY, NULL);
	cr_assert_eq(count("u1", "Product Viewed", 0, NOW, NULL), 4, "all time");
	cr_assert_eq(count("u1", "Signed Up", 0, NOW, NULL), 1, "per name");
	cr_assert_eq(count("u1", "Nothing", 0, NOW, NULL), 0);
	/* whole days */
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY, d0 - DAY - 1, NULL), 2);
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY, d0 - 1, NULL), 3);
	/* a window that cuts a day in two is exact to the millisecond */
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY + 12 * HOUR, NOW, NULL), 3);
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY + 20 * HOUR, NOW, NULL), 3, "both ends included");
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY + 20 * HOUR + 1, NOW, NULL), 2);
	cr_assert_eq(count("u1", "Product Viewed", d0, d0 + 29 * 60000, NULL), 0, "until cuts today");
	cr_assert_eq(count("u1", "Product Viewed", d0 - 2 * DAY + 6 * HOUR, d0 - 2 * DAY + 21 * HOUR, NULL), 1,
		     "inside one day");
	/* the buckets: one row per (name, day) */
	int64_t oldest = 0;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_seg_oldest(st, 1, pid_of("u1"), "Product Viewed", d0 - DAY - 5, NOW, &oldest, &e), 0);
	cr_assert_eq(oldest, d0 - DAY + HOUR);
	cr_assert_eq(store_seg_oldest(st, 1, pid_of("u1"), "Product Viewed", NOW - 1, NOW, &oldest, &e), 1, "none");
}

Test(seg_aggregates, revenue_sums)
{
	track("u1", "Order Completed", NOW - 3 * DAY, "{\"revenue\":15000,\"currency\":\"KRW\"}");
	track("u1", "Order Completed", NOW - 2 * DAY, "{\"revenue\":\"2500.5\"}");
	track("u1", "Order Completed", NOW - DAY, "{\"total\":99}");
	track("u1", "Order Completed", NOW - HOUR, "{\"revenue\":\"abc\"}");
	track("u1", "Product Added", NOW - HOUR, "{\"revenue\":7}");
	double rev = -1;
	cr_assert_eq(count("u1", "Order Completed", 0, NOW, &rev), 4);
	cr_assert_float_eq(rev, 17500.5, 1e-9);
	cr_assert_eq(count("u1", "Order Completed", NOW - 2 * DAY - HOUR, NOW, &rev), 3);
	cr_assert_float_eq(rev, 2500.5, 1e-9, "a cut day's revenue is read from its events");
	cr_assert_eq(count("u1", "Product Added", 0, NOW, &rev), 1);
	cr_assert_float_eq(rev, 7, 1e-9);
	cr_assert_float_eq(store_seg_revenue_of(NULL), 0, 1e-9);
}

Test(seg_aggregates, only_track_events_and_skipped_events_count_nothing)
{
	send(INGEST_PAGE, "{\"userId\":\"u1\",\"name\":\"Email Sent\"}");
	send(INGEST_IDENTIFY, "{\"userId\":\"u1\",\"traits\":{\"plan\":\"pro\"}}");
	cr_assert_eq(count("u1", "Email Sent", 0, NOW, NULL), 0, "a page named like an event is not one");
	json_t *c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 0);
	json_decref(c);
}

Test(seg_aggregates, merge_adds_up)
{
	track("a", "Order Completed", NOW - DAY, "{\"revenue\":100}");
	track("a", "Email Sent", NOW - 2 * HOUR, NULL);
	track("b", "Order Completed", NOW - DAY, "{\"revenue\":50}");
	track("b", "Order Completed", NOW - 2 * DAY, "{\"revenue\":1}");
	track("b", "Email Sent", NOW - 3 * HOUR, NULL);
	track("b", "Email Sent", NOW - 3 * HOUR, NULL);
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pa = pid_of("a"), pb = pid_of("b");
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_seg_merge(st, 1, pb, pa, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	double rev;
	cr_assert_eq(count("a", "Order Completed", 0, NOW, &rev), 3);
	cr_assert_float_eq(rev, 151, 1e-9);
	int64_t n = -1;
	cr_assert_eq(store_seg_count(st, 1, pb, "Order Completed", 0, NOW, &n, NULL, &e), 0);
	cr_assert_eq(n, 0, "nothing left on the merged profile");
	json_t *c = computed_at("a", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 1, "the later email event's streak wins");
	json_decref(c);
}

/* The statement cache follows the connection: a second store on the same
 * thread works, and closing either leaks nothing (ASan). */
Test(seg_aggregates, statements_follow_the_connection)
{
	track("u1", "Email Sent", NOW, NULL);
	char dir2[64];
	snprintf(dir2, sizeof dir2, "/tmp/cairn-seg2-XXXXXX");
	cr_assert_not_null(mkdtemp(dir2));
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st2 = store_open(dir2, &e);
	cr_assert_not_null(st2);
	int64_t n = -1;
	cr_assert_eq(store_seg_count(st2, 1, 1, "Email Sent", 0, NOW, &n, NULL, &e), 0, "%s", e.message);
	cr_assert_eq(n, 0);
	store_close(st2);
	cr_assert_eq(count("u1", "Email Sent", 0, NOW, NULL), 1);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir2);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(seg_computed, .init = open_store, .fini = close_store);

Test(seg_computed, windows_slide_with_the_clock)
{
	track("u1", "Email Sent", NOW - 5 * DAY, NULL);
	track("u1", "Email Sent", NOW - 20 * DAY, NULL);
	track("u1", "Email Sent", NOW - 60 * DAY, NULL);
	track("u1", "Email Sent", NOW - 100 * DAY, NULL);
	track("u1", "Email Opened", NOW - 5 * DAY + HOUR, NULL);
	track("u1", "Email Link Clicked", NOW - 5 * DAY + 2 * HOUR, NULL);
	json_t *c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "email_sent_7d"), 1);
	cr_assert_eq(int_of(c, "email_sent_30d"), 2);
	cr_assert_eq(int_of(c, "email_sent_90d"), 3);
	cr_assert_eq(int_of(c, "email_opened_7d"), 1);
	cr_assert_eq(int_of(c, "email_clicked_30d"), 1);
	cr_assert_float_eq(json_real_value(json_object_get(c, "open_rate_30d")), 0.5, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(c, "click_rate_30d")), 0.5, 1e-9);
	json_decref(c);
	/* ten days later, with no new event */
	c = computed_at("u1", NOW + 10 * DAY);
	cr_assert_eq(int_of(c, "email_sent_7d"), 0);
	cr_assert_eq(int_of(c, "email_sent_30d"), 2, "20 + 10 = 30 days ago: the window includes its start");
	cr_assert_eq(int_of(c, "email_sent_90d"), 3);
	json_decref(c);
	c = computed_at("u1", NOW + 10 * DAY + 1);
	cr_assert_eq(int_of(c, "email_sent_30d"), 1, "one millisecond later it has left");
	json_decref(c);
	c = computed_at("u1", NOW + 200 * DAY);
	cr_assert_eq(int_of(c, "email_sent_90d"), 0);
	cr_assert(json_is_null(json_object_get(c, "open_rate_30d")), "no rate without sends");
	json_decref(c);
}

Test(seg_computed, consecutive_unopened_resets_on_open_and_click)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"u1\",\"traits\":{}}");
	json_t *c = computed_at("u1", NOW);
	json_decref(c);
	for (int i = 0; i < 3; i++)
		track("u1", "Email Sent", NOW - (10 - i) * HOUR, NULL);
	c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 3);
	json_decref(c);
	track("u1", "Email Opened", NOW - 6 * HOUR, NULL);
	c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 0);
	json_decref(c);
	track("u1", "Email Sent", NOW - 5 * HOUR, NULL);
	track("u1", "Email Sent", NOW - 4 * HOUR, NULL);
	track("u1", "Email Delivered", NOW - 4 * HOUR, NULL);
	c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 2, "other email events change nothing");
	json_decref(c);
	track("u1", "Email Link Clicked", NOW - 3 * HOUR, NULL);
	c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 0);
	json_decref(c);
}

Test(seg_computed, orders_and_days_since_last_order)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"u1\",\"traits\":{}}");
	json_t *c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "order_count"), 0, "a user without events has zero orders");
	cr_assert(json_is_null(json_object_get(c, "last_order_at")));
	cr_assert(json_is_null(json_object_get(c, "days_since_last_order")));
	json_decref(c);
	track("u1", "Order Completed", NOW - 40 * DAY, "{\"revenue\":30000}");
	track("u1", "Order Completed", NOW - 3 * DAY - HOUR, "{\"revenue\":12000.25}");
	c = computed_at("u1", NOW);
	cr_assert_eq(int_of(c, "order_count"), 2);
	cr_assert_float_eq(json_real_value(json_object_get(c, "revenue_total")), 42000.25, 1e-9);
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(NOW - 3 * DAY - HOUR, t);
	cr_assert_str_eq(json_string_value(json_object_get(c, "last_order_at")), t);
	cr_assert_eq(int_of(c, "days_since_last_order"), 3);
	clock_format_rfc3339(NOW - 40 * DAY, t);
	cr_assert_str_eq(json_string_value(json_object_get(c, "first_seen_at")), t);
	json_decref(c);
	c = computed_at("u1", NOW + 27 * DAY);
	cr_assert_eq(int_of(c, "days_since_last_order"), 30, "derived from the clock when read");
	json_decref(c);
	track("u1", "Order Completed", NOW - DAY, "{\"revenue\":8000}");
	c = computed_at("u1", NOW);
	cr_assert(json_is_integer(json_object_get(c, "revenue_total")) == 0);
	cr_assert_eq(int_of(c, "order_count"), 3);
	json_decref(c);
}

Test(seg_computed, profile_json_includes_computed)
{
	track("u1", "Email Sent", NOW - HOUR, NULL);
	track("u1", "Email Sent", NOW - HOUR, NULL);
	track("u1", "Order Completed", NOW - 2 * DAY, "{\"revenue\":15000}");
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *p = store_profile_json(st, 1, "u1", &e);
	cr_assert_not_null(p, "%s", e.message);
	json_t *c = json_object_get(p, "computed");
	cr_assert(json_is_object(c));
	cr_assert_eq(int_of(c, "consecutive_unopened_emails"), 2);
	cr_assert_eq(int_of(c, "email_sent_7d"), 2);
	cr_assert_eq(int_of(c, "order_count"), 1);
	cr_assert_eq(int_of(c, "revenue_total"), 15000);
	cr_assert_eq(int_of(c, "days_since_last_order"), 2);
	json_decref(p);
}

TestSuite(seg_ctx, .init = open_store, .fini = close_store);

Test(seg_ctx, conditions_through_the_provider)
{
	send(INGEST_IDENTIFY, "{\"userId\":\"u1\",\"traits\":{\"plan\":\"pro\",\"email\":\"a@b.kr\"}}");
	for (int i = 0; i < 3; i++)
		track("u1", "Email Sent", NOW - (5 - i) * HOUR, NULL);
	track("u1", "Product Viewed", NOW - 2 * DAY, NULL);
	track("u1", "Product Viewed", NOW - 8 * DAY, NULL);
	track("u1", "Order Completed", NOW - 40 * DAY, "{\"revenue\":70000,\"currency\":\"KRW\"}");
	track("u1", "Order Completed", NOW - 10 * DAY, "{\"revenue\":50000,\"currency\":\"USD\"}");
	cr_assert_eq(eval("u1", "{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gte\",\"value\":3}"), 1);
	cr_assert_eq(eval("u1", "{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gt\",\"value\":3}"), 0);
	cr_assert_eq(eval("u1", "{\"computed\":\"no_such_trait\",\"op\":\"not_exists\"}"), 1);
	cr_assert_eq(eval("u1", "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}"), 1);
	const char *viewed7 =
		"{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gte\",\"value\":2},\"within\":{\"days\":7}}";
	const char *viewed9 =
		"{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gte\",\"value\":2},\"within\":{\"days\":9}}";
	cr_assert_eq(eval("u1", viewed7), 0);
	cr_assert_eq(eval("u1", viewed9), 1);
	cr_assert_eq(eval_at("u1", viewed9, NOW + 2 * DAY), 0, "the window slides with now");
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0},"
				"\"within\":{\"days\":7}}"),
		     1);
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"eq\","
				"\"value\":120000}}"),
		     1);
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"eq\","
				"\"value\":50000},\"within\":{\"days\":30}}"),
		     1);
	/* where: the slow path over the user's events */
	cr_assert_eq(eval("u1",
			  "{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\","
			  "\"value\":\"KRW\"},\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":70000}}"),
		     1);
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\","
				"\"value\":\"KRW\"},\"within\":{\"days\":30}}"),
		     0);
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"in\","
				"\"value\":[\"KRW\",\"USD\"]},\"count\":{\"op\":\"eq\",\"value\":2}}"),
		     1);
	cr_assert_eq(eval("u1", "{\"event\":\"Order Completed\",\"sum\":{\"property\":\"currency\",\"op\":\"eq\","
				"\"value\":0}}"),
		     1, "a non-numeric property sums to 0");
	cr_assert_eq(eval("u1", "{\"consent\":{\"channel\":\"sms\",\"is\":\"unknown\"}}"), 1);
	cr_assert_eq(eval("u1", "{\"tag\":\"vip\"}"), 0);
	cr_assert_eq(eval("u1", "{\"score\":\"lead\",\"op\":\"ne\",\"value\":1}"), 1, "unknown score is missing");
	cr_assert_eq(eval("u1", "{\"segment\":\"vip\"}"), CAIRN_EINVAL, "segments cannot be answered yet");
}

Test(seg_ctx, tags_and_consent)
{
	track("u1", "Signed Up", NOW - HOUR, NULL);
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid = pid_of("u1");
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_tag_add(st, 1, pid, "interest:marketing", NOW, &e), 0);
	cr_assert_eq(store_consent_put(st, 1, pid, "channel", "email", "subscribed", NOW, "api", &e), 0);
	cr_assert_eq(store_consent_put(st, 1, pid, "topic", "news", "unsubscribed", NOW, "api", &e), 0);
	cr_assert_eq(store_commit(st, &e), 0);
	cr_assert_eq(eval("u1", "{\"tag\":\"interest:marketing\"}"), 1);
	cr_assert_eq(eval("u1", "{\"not\":{\"tag\":\"disengaged\"}}"), 1);
	cr_assert_eq(eval("u1", "{\"consent\":{\"channel\":\"email\",\"is\":\"subscribed\"}}"), 1);
	cr_assert_eq(eval("u1", "{\"consent\":{\"channel\":\"topics.news\",\"is\":\"unsubscribed\"}}"), 1);
	cr_assert_eq(eval("u1", "{\"consent\":{\"channel\":\"topics.sale\",\"is\":\"unknown\"}}"), 1);
}

Test(seg_ctx, eval_user_and_oldest)
{
	track("u1", "Email Link Clicked", NOW - 2 * DAY, "{\"link_kind\":\"content\"}");
	track("u1", "Email Link Clicked", NOW - DAY, "{\"link_kind\":\"purchase\"}");
	json_t *j = json_loads("{\"all\":[{\"event\":\"Email Link Clicked\",\"where\":{\"property\":\"link_kind\","
			       "\"op\":\"eq\",\"value\":\"purchase\"},\"within\":{\"days\":3}},"
			       "{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0},"
			       "\"within\":{\"days\":3}}]}",
			       0, NULL);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct cond *c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_not_null(c, "%s", e.message);
	int yes = -1;
	cr_assert_eq(seg_eval_user(st, 1, "u1", c, &yes, &e), 0, "%s", e.message);
	cr_assert_eq(yes, 1, "hesitant");
	/* the next change: when the purchase click leaves its 3-day window */
	struct seg_ctx sc;
	cr_assert_eq(seg_ctx_init(&sc, st, 1, pid_of("u1"), NULL, &e), 0);
	int64_t next = 0;
	cr_assert_eq(cond_next_change(c, &sc.cond, &next, &e), 0, "%s", e.message);
	cr_assert_leq(next, NOW - DAY + 3 * DAY + 1);
	cr_assert_gt(next, NOW);
	seg_ctx_release(&sc);
	cr_assert_eq(seg_eval_user(st, 1, "nobody", c, &yes, &e), CAIRN_ENOTFOUND);
	cond_free(c);
}

static int depends(const char *cond_json, const char *type, const char *name)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *j = json_loads(cond_json, 0, NULL);
	struct cond *c = cond_parse(j, &e);
	cr_assert_not_null(c, "%s", e.message);
	struct store_event ev = {.type = type, .name = name};
	int r = seg_cond_depends_on(c, &ev);
	cond_free(c);
	json_decref(j);
	return r;
}

Test(seg_deps, events_that_can_change_a_condition)
{
	const char *unopened = "{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gte\",\"value\":3}";
	cr_assert(depends(unopened, "track", "Email Sent"));
	cr_assert(depends(unopened, "track", "Email Opened"));
	cr_assert_not(depends(unopened, "track", "Product Viewed"));
	cr_assert_not(depends(unopened, "identify", NULL));
	cr_assert(depends(unopened, "alias", NULL), "a merge can change anything");
	const char *plan = "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}";
	cr_assert(depends(plan, "identify", NULL));
	cr_assert_not(depends(plan, "track", "Order Completed"));
	const char *orders = "{\"event\":\"Order Completed\",\"count\":{\"op\":\"gte\",\"value\":2}}";
	cr_assert(depends(orders, "track", "Order Completed"));
	cr_assert_not(depends(orders, "track", "Email Sent"));
	const char *tag = "{\"tag\":\"vip\"}";
	cr_assert(depends(tag, "tags", NULL));
	cr_assert(depends(tag, "track", "Tag Added"));
	cr_assert_not(depends(tag, "track", "Order Completed"));
	cr_assert(depends("{\"computed\":\"last_seen_at\",\"op\":\"exists\"}", "track", "Anything"),
		  "any-event traits depend on every event");
}

TestSuite(seg_rfm, .init = open_store, .fini = close_store);

Test(seg_rfm, quintiles_over_customers_once_a_day)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t ws;
	cr_assert_eq(store_workspace_create(st, "w", 1, &ws, &e), 0);
	cr_assert_eq(ws, 1);
	/* c0 … c9: customer i ordered i+1 times, i+1 days before NOW - 20 days, spending 1000·(i+1) each time */
	for (int i = 0; i < 10; i++) {
		char user[16], props[64];
		snprintf(user, sizeof user, "c%d", i);
		snprintf(props, sizeof props, "{\"revenue\":%d}", 1000 * (i + 1));
		for (int k = 0; k <= i; k++)
			track(user, "Order Completed", NOW - (int64_t)(20 + 10 - i) * 86400000 + k, props);
	}
	track("browser", "Product Viewed", NOW - 86400000, NULL);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(seg_rfm_tick(st, NOW, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	json_t *best = computed_at("c9", NOW), *worst = computed_at("c0", NOW), *none = computed_at("browser", NOW);
	cr_assert_eq(int_of(best, "rfm_r"), 5);
	cr_assert_eq(int_of(best, "rfm_f"), 5);
	cr_assert_eq(int_of(best, "rfm_m"), 5);
	cr_assert_str_eq(json_string_value(json_object_get(best, "rfm_score")), "555");
	cr_assert_str_eq(json_string_value(json_object_get(worst, "rfm_score")), "111");
	cr_assert(json_is_null(json_object_get(none, "rfm_r")), "no order, no score");
	json_decref(best);
	json_decref(worst);
	json_decref(none);
	cr_assert_eq(eval_at("c9", "{\"computed\":\"rfm_r\",\"op\":\"gte\",\"value\":4}", NOW), 1);
	/* the same day again changes nothing; a new order only counts at tomorrow's run */
	track("c0", "Order Completed", NOW - 1000, "{\"revenue\":999999}");
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(seg_rfm_tick(st, NOW, &e), 0);
	cr_assert_eq(store_commit(st, &e), 0);
	worst = computed_at("c0", NOW);
	cr_assert_str_eq(json_string_value(json_object_get(worst, "rfm_score")), "111");
	json_decref(worst);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(seg_rfm_tick(st, NOW + 86400000, &e), 0);
	cr_assert_eq(store_commit(st, &e), 0);
	worst = computed_at("c0", NOW + 86400000);
	cr_assert_eq(int_of(worst, "rfm_r"), 5, "the most recent order now");
	cr_assert_eq(int_of(worst, "rfm_m"), 5, "the biggest spender now");
	json_decref(worst);
}

/* ---- registered counters ---------------------------------------------------- */

static struct cond *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s: %s", text, je.text);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct cond *c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_not_null(c, "%s: %s (%s)", text, e.message, e.field);
	return c;
}

/* Saves what uses a condition, as the API does: register in a transaction,
 * commit, invalidate. */
static void reg(const char *text)
{
	struct cond *c = parse(text);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(seg_counters_register(st, 1, c, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0, "%s", e.message);
	seg_counters_invalidate();
	cond_free(c);
}

/* One filtered aggregate: the events named name passing where (text or
 * NULL), summing property (or NULL). */
struct agg {
	const char *name;
	struct cond *where;
	char *where_key;
	const char *property;
};

static struct agg agg_of(const char *name, const char *where, const char *property)
{
	struct agg a = {.name = name, .property = property};
	a.where = where ? parse(where) : NULL;
	a.where_key = where ? cond_to_text(a.where) : strdup("");
	return a;
}

static void agg_free(struct agg *a)
{
	cond_free(a->where);
	free(a->where_key);
}

static int agg_match(const json_t *properties, double *value, void *arg)
{
	const struct agg *a = arg;
	return seg_event_matches(a->where, a->property, properties, value);
}

struct slow {
	const struct agg *a;
	int64_t n;
	double sum;
};

static int slow_one(int64_t ts, const json_t *properties, void *arg)
{
	struct slow *s = arg;
	double v;
	if (agg_match(properties, &v, (void *)s->a)) {
		s->n++;
		s->sum += v;
	}
	return 0;
}

/* By reading every event of the name (what a counter must equal). */
static int64_t slow_count(const char *user, const struct agg *a, int64_t since, int64_t until, double *sum)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct slow s = {a, 0, 0};
	cr_assert_eq(store_seg_scan(st, 1, pid_of(user), a->name, since, until, slow_one, &s, &e), 0, "%s", e.message);
	*sum = s.sum;
	return s.n;
}

/* From the registered counter's buckets (it must exist). */
static int64_t ctr_count(const char *user, const struct agg *a, int64_t since, int64_t until, double *sum)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_seg_series sr = {.name = a->name, .match = agg_match, .arg = (void *)a};
	cr_assert_eq(store_seg_counter_find(st, 1, a->name, a->where_key, a->property, &sr.counter_id, &e), 0,
		     "a counter of %s %s %s", a->name, a->where_key, a->property ? a->property : "");
	int64_t n = -1;
	cr_assert_eq(store_seg_series_count(st, 1, pid_of(user), &sr, since, until, &n, sum, &e), 0, "%s", e.message);
	return n;
}

/* The counter and the slow path agree on [since, until]; returns the count. */
static int64_t same(const char *user, const struct agg *a, int64_t since, int64_t until, double *sum)
{
	double s1 = -1, s2 = -2;
	int64_t n1 = ctr_count(user, a, since, until, &s1), n2 = slow_count(user, a, since, until, &s2);
	cr_assert_eq(n1, n2, "count over [%lld, %lld]: counter %lld, events %lld", (long long)since, (long long)until,
		     (long long)n1, (long long)n2);
	cr_assert_float_eq(s1, s2, 1e-9, "sum over [%lld, %lld]", (long long)since, (long long)until);
	if (sum)
		*sum = s1;
	return n1;
}

#define PURCHASE "{\"property\":\"link_kind\",\"op\":\"eq\",\"value\":\"purchase\"}"
#define CLICKED_PURCHASE_QTY                                                                                           \
	"{\"event\":\"Email Link Clicked\",\"where\":" PURCHASE ",\"sum\":{\"property\":\"item.qty\",\"op\":\"gte\","  \
	"\"value\":1}}"

TestSuite(seg_counters, .init = open_store, .fini = close_store);

Test(seg_counters, backfill_and_live_counts_equal_the_events)
{
	int64_t d0 = store_seg_day(NOW) * DAY, d3 = d0 - 3 * DAY;
	/* before the counter exists: the backfill must find these */
	track("u1", "Email Link Clicked", d3 + 5 * HOUR, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":2}}");
	track("u1", "Email Link Clicked", d3 + 20 * HOUR, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":\"3\"}}");
	track("u1", "Email Link Clicked", d0 - 2 * DAY + HOUR, "{\"link_kind\":\"content\",\"item\":{\"qty\":50}}");
	track("u1", "Email Link Clicked", d0 - DAY + 2 * HOUR, "{\"link_kind\":\"purchase\"}");
	track("u2", "Email Link Clicked", d3 + HOUR, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":7}}");
	reg(CLICKED_PURCHASE_QTY);
	/* after: the engine counts these */
	track("u1", "Email Link Clicked", d3 + 10 * HOUR, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":4}}");
	track("u1", "Email Link Clicked", d0 + 10 * 60000, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":1}}");
	track("u1", "Email Link Clicked", d0 + 20 * 60000, "{\"link_kind\":\"review\",\"item\":{\"qty\":1}}");
	track("u1", "Email Opened", d0 + 20 * 60000, "{\"link_kind\":\"purchase\"}");
	struct agg a = agg_of("Email Link Clicked", PURCHASE, "item.qty");
	double sum;
	cr_assert_eq(same("u1", &a, 0, NOW, &sum), 5, "all time");
	cr_assert_float_eq(sum, 10, 1e-9);
	/* whole days come from the buckets alone */
	cr_assert_eq(same("u1", &a, d3, d0 - 1, &sum), 4);
	cr_assert_float_eq(sum, 9, 1e-9);
	cr_assert_eq(same("u2", &a, d3, d0 - 1, &sum), 1, "every profile is backfilled");
	cr_assert_float_eq(sum, 7, 1e-9);
	/* windows that cut a day are exact to the millisecond */
	cr_assert_eq(same("u1", &a, d3 + 12 * HOUR, NOW, &sum), 3);
	cr_assert_float_eq(sum, 4, 1e-9);
	cr_assert_eq(same("u1", &a, d3 + 10 * HOUR, NOW, NULL), 4, "both ends included");
	cr_assert_eq(same("u1", &a, d3 + 10 * HOUR + 1, d3 + 20 * HOUR, NULL), 1);
	cr_assert_eq(same("u1", &a, d0, d0 + 9 * 60000, NULL), 0, "until cuts today");
	cr_assert_eq(same("u1", &a, d3 + 6 * HOUR, d3 + 19 * HOUR, &sum), 1, "inside one day");
	cr_assert_float_eq(sum, 4, 1e-9);
	/* a count with the same filter is answered by the same counter */
	struct agg counted = agg_of("Email Link Clicked", PURCHASE, NULL);
	int64_t any = 0;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_seg_counter_find(st, 1, counted.name, counted.where_key, NULL, &any, &e), 0);
	/* the oldest matching event: the content click of d0 − 2 days is not one */
	struct store_seg_series sr = {.name = a.name, .counter_id = any, .match = agg_match, .arg = &counted};
	int64_t oldest = 0;
	cr_assert_eq(store_seg_series_oldest(st, 1, pid_of("u1"), &sr, d0 - 2 * DAY, NOW, &oldest, &e), 0);
	cr_assert_eq(oldest, d0 - DAY + 2 * HOUR);
	agg_free(&counted);
	agg_free(&a);
}

Test(seg_counters, which_leaves_register_what)
{
	reg("{\"all\":[{\"event\":\"Order Completed\",\"count\":{\"op\":\"gte\",\"value\":2}},"
	    "{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":5}},"
	    "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}]}");
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_seg_counter *v;
	size_t n;
	cr_assert_eq(store_seg_counters_list(st, 1, &v, &n, &e), 0);
	cr_assert_eq(n, 0, "the day buckets answer names and revenue");
	store_seg_counters_free(v, n);
	const char *krw = "{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\","
			  "\"value\":\"KRW\"},\"sum\":{\"property\":\"revenue\",\"op\":\"gte\",\"value\":5}}";
	reg(krw);
	reg(krw);
	reg("{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\",\"value\":\"KRW\"},"
	    "\"within\":{\"days\":3}}");
	reg("{\"not\":{\"event\":\"Order Completed\",\"sum\":{\"property\":\"items\",\"op\":\"gt\",\"value\":9}}}");
	cr_assert_eq(store_seg_counters_list(st, 1, &v, &n, &e), 0);
	cr_assert_eq(n, 2, "one per (name, where, property); a count reuses a sum's counter");
	cr_assert_str_eq(v[0].where_text, "{\"op\":\"eq\",\"property\":\"currency\",\"value\":\"KRW\"}");
	cr_assert_str_eq(v[0].property, "revenue");
	cr_assert_str_eq(v[1].where_text, "");
	cr_assert_str_eq(v[1].property, "items");
	store_seg_counters_free(v, n);
}

/* The provider answers through counters once registered, and gives what
 * reading the events gave before. */
Test(seg_counters, conditions_answer_the_same_through_counters)
{
	track("u1", "Order Completed", NOW - 40 * DAY, "{\"revenue\":70000,\"currency\":\"KRW\",\"items\":2}");
	track("u1", "Order Completed", NOW - 10 * DAY - HOUR, "{\"revenue\":50000,\"currency\":\"USD\",\"items\":1}");
	track("u1", "Order Completed", NOW - 10 * DAY, "{\"revenue\":\"9000\",\"currency\":\"KRW\",\"items\":\"4\"}");
	track("u1", "Order Completed", NOW - HOUR, "{\"revenue\":1000,\"currency\":\"KRW\"}");
	const char *conds[] = {
		"{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\",\"value\":\"KRW\"},"
		"\"sum\":{\"property\":\"revenue\",\"op\":\"eq\",\"value\":10000},\"within\":{\"days\":10}}",
		"{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\",\"value\":\"KRW\"},"
		"\"count\":{\"op\":\"eq\",\"value\":2},\"within\":{\"days\":30}}",
		"{\"event\":\"Order Completed\",\"sum\":{\"property\":\"items\",\"op\":\"eq\",\"value\":7}}",
		"{\"event\":\"Order Completed\",\"sum\":{\"property\":\"items\",\"op\":\"eq\",\"value\":4},"
		"\"within\":{\"hours\":241}}",
	};
	/* now: the windows start mid-day; +1 h: the 10-day window has lost an order */
	const int64_t nows[] = {NOW, NOW + HOUR, NOW + 30 * 60000};
	int before[4][3];
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 3; k++)
			before[i][k] = eval_at("u1", conds[i], nows[k]);
	}
	cr_assert_eq(before[0][0], 1);
	cr_assert_eq(before[0][1], 0);
	cr_assert_eq(before[2][0], 1);
	for (int i = 0; i < 4; i++)
		reg(conds[i]);
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 3; k++)
			cr_assert_eq(eval_at("u1", conds[i], nows[k]), before[i][k], "%s at +%lld ms", conds[i],
				     (long long)(nows[k] - NOW));
	}
	/* and they follow new events */
	track("u1", "Order Completed", NOW - 2 * HOUR, "{\"revenue\":1,\"currency\":\"KRW\",\"items\":1}");
	cr_assert_eq(eval("u1", conds[0]), 0, "10001 now");
	cr_assert_eq(eval("u1", conds[1]), 0, "3 KRW orders in 30 days");
	cr_assert_eq(eval("u1", conds[2]), 0, "8 items");
	/* the next change comes from the counter's buckets */
	struct cond *c = parse(conds[1]);
	struct seg_ctx sc;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(seg_ctx_init(&sc, st, 1, pid_of("u1"), NULL, &e), 0);
	int64_t next = 0;
	cr_assert_eq(cond_next_change(c, &sc.cond, &next, &e), 0, "%s", e.message);
	cr_assert_gt(next, NOW);
	cr_assert_leq(next, NOW - 10 * DAY + 30 * DAY + 1, "when the KRW order of 10 days ago leaves");
	seg_ctx_release(&sc);
	cond_free(c);
}

Test(seg_counters, merge_moves_the_buckets)
{
	track("a", "Order Completed", NOW - DAY, "{\"currency\":\"KRW\",\"items\":1}");
	track("b", "Order Completed", NOW - DAY, "{\"currency\":\"KRW\",\"items\":2}");
	track("b", "Order Completed", NOW - 3 * DAY, "{\"currency\":\"KRW\",\"items\":4}");
	track("b", "Order Completed", NOW - 3 * DAY, "{\"currency\":\"USD\",\"items\":8}");
	reg("{\"event\":\"Order Completed\",\"where\":{\"property\":\"currency\",\"op\":\"eq\",\"value\":\"KRW\"},"
	    "\"sum\":{\"property\":\"items\",\"op\":\"gte\",\"value\":1}}");
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pa = pid_of("a"), pb = pid_of("b");
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_profile_merge(st, 1, pb, pa, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	struct agg a =
		agg_of("Order Completed", "{\"property\":\"currency\",\"op\":\"eq\",\"value\":\"KRW\"}", "items");
	double sum;
	int64_t d0 = store_seg_day(NOW) * DAY;
	cr_assert_eq(same("a", &a, 0, d0 - 1, &sum), 3, "whole days: the buckets were added up");
	cr_assert_float_eq(sum, 7, 1e-9);
	struct store_seg_series sr = {.name = a.name, .match = agg_match, .arg = &a};
	cr_assert_eq(store_seg_counter_find(st, 1, a.name, a.where_key, a.property, &sr.counter_id, &e), 0);
	int64_t n = -1;
	cr_assert_eq(store_seg_series_count(st, 1, pb, &sr, 0, NOW, &n, NULL, &e), 0);
	cr_assert_eq(n, 0, "nothing left on the merged profile");
	agg_free(&a);
}

/* A replay of the log (cairn rebuild) gives the buckets live counting gave:
 * the definition is kept, its buckets are derived. */
Test(seg_counters, a_replay_rebuilds_the_buckets)
{
	track("u1", "Email Link Clicked", NOW - 2 * DAY, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":2}}");
	reg(CLICKED_PURCHASE_QTY);
	track("u1", "Email Link Clicked", NOW - DAY, "{\"link_kind\":\"purchase\",\"item\":{\"qty\":3}}");
	track("u1", "Email Link Clicked", NOW - DAY, "{\"link_kind\":\"content\",\"item\":{\"qty\":9}}");
	struct agg a = agg_of("Email Link Clicked", PURCHASE, "item.qty");
	int64_t d0 = store_seg_day(NOW) * DAY;
	double sum;
	cr_assert_eq(same("u1", &a, 0, d0 - 1, &sum), 2);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_reset_derived(st, &e), 0, "%s", e.message);
	seg_counters_invalidate();
	cr_assert_eq(engine_catch_up(st, &e), 0, "%s", e.message);
	double again;
	cr_assert_eq(same("u1", &a, 0, d0 - 1, &again), 2);
	cr_assert_float_eq(again, sum, 1e-9);
	cr_assert_float_eq(again, 5, 1e-9);
	agg_free(&a);
}
