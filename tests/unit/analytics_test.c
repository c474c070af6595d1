/* analytics_test.c — message rollups (src/analytics/analytics.c), their
 * reports, funnels and reactivation (src/store/store_analytics.c), through a
 * real store: Tracking API messages are appended to the log and the real
 * engine fills the timeline and the an_msg_* rollups. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "store/store_analytics.h"

#include "fixture.h"

#define HOUR 3600000LL
#define DAY  86400000LL
static const int64_t NOW = 1772413200000; /* 2026-03-02T01:00:00Z */
static const int64_t T0 = 1772409600000;  /* 2026-03-02T00:00:00Z, NOW's day */

static char dir[64];
static struct store *st;

static void open_store(void)
{
	st = fixture_open(dir, sizeof dir, "analytics", NOW);
}

static void close_store(void)
{
	fixture_close(st, dir);
}

TestSuite(analytics, .init = open_store, .fini = close_store);

static void catch_up(void)
{
	fixture_catch_up(st, 3);
}

/* Appends a Tracking API message of kind to the log of workspace ws (the
 * fixture's fixture_append, for any workspace). */
static void append_ws(int64_t ws, enum ingest_kind k, const char *body)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(ingest_parse(k, body, strlen(body), clock_now_ms(), &b, &e), 0, "%s: %s", body, e.message);
	struct store_event evs[4];
	unsigned char dup[4];
	ingest_batch_events(&b, ws, 16, clock_now_ms(), evs);
	cr_assert_eq(store_log_append(st, evs, b.n, dup, &e), 0, "%s", e.message);
	ingest_batch_release(&b);
}

/* Appends (without applying) a track of event by user at ts with the
 * properties props (a JSON object), in workspace ws. */
static void track_ws(int64_t ws, int64_t ts, const char *user, const char *event, const char *props)
{
	char t[CLOCK_RFC3339_LEN], body[1024];
	clock_format_rfc3339(ts, t);
	snprintf(body, sizeof body, "{\"userId\":\"%s\",\"event\":\"%s\",\"properties\":%s,\"timestamp\":\"%s\"}", user,
		 event, props, t);
	append_ws(ws, INGEST_TRACK, body);
}

static void track(int64_t ts, const char *user, const char *event, const char *props)
{
	track_ws(1, ts, user, event, props);
}

/* A message event for message mid; extra is more properties ("" or
 * ",\"k\":v,…"). */
static void msg_ev(int64_t ts, const char *event, const char *mid, const char *extra)
{
	char props[768];
	snprintf(props, sizeof props, "{\"message_id\":\"%s\"%s}", mid, extra);
	track(ts, "u1", event, props);
}

static json_t *report_ws(int64_t ws, const char *by, const char *journey, int64_t from, int64_t to)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *rows = stats_messages_report(st, ws, by, journey, from, to, &e);
	cr_assert_not_null(rows, "%s", e.message);
	cr_assert(json_is_array(rows));
	return rows;
}

static json_t *report(const char *by, const char *journey, int64_t from, int64_t to)
{
	return report_ws(1, by, journey, from, to);
}

/* The one row of rows whose key is key. */
static json_t *row_of(json_t *rows, const char *key)
{
	size_t i;
	json_t *r;
	json_array_foreach (rows, i, r) {
		const char *k = json_string_value(json_object_get(r, "key"));
		cr_assert_not_null(k, "every row has a key");
		if (!strcmp(k, key))
			return r;
	}
	char *text = json_dumps(rows, JSON_COMPACT);
	cr_assert_fail("no row %s in %s", key, text);
	free(text);
	return NULL;
}

static int64_t num(json_t *row, const char *k)
{
	json_t *v = json_object_get(row, k);
	cr_assert(json_is_integer(v), "%s is an integer", k);
	return json_integer_value(v);
}

static double rate(json_t *row, const char *k)
{
	json_t *v = json_object_get(row, k);
	cr_assert(json_is_real(v), "%s is a number", k);
	return json_real_value(v);
}

static void assert_rate(json_t *row, const char *k, double want)
{
	double got = rate(row, k);
	cr_assert(fabs(got - want) < 1e-9, "%s: %g, not %g", k, got, want);
}

/* key's list of keys, comma-separated, in report order. */
static const char *keys(json_t *rows)
{
	static char out[1024];
	out[0] = 0;
	size_t i;
	json_t *r;
	json_array_foreach (rows, i, r) {
		size_t n = strlen(out);
		snprintf(out + n, sizeof out - n, "%s%s", i ? "," : "", json_string_value(json_object_get(r, "key")));
	}
	return out;
}

static void funnel(const char *const *steps, size_t n, int64_t from, int64_t to, int64_t window, int64_t *users)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	for (size_t k = 0; k < n; k++)
		users[k] = -1;
	cr_assert_eq(store_an_funnel(st, 1, steps, n, from, to, window, users, &e), 0, "%s", e.message);
}

static void reactivated(int64_t from, int64_t to, int64_t inactive, int64_t *active, int64_t *back)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	*active = *back = -1;
	cr_assert_eq(store_an_reactivated(st, 1, from, to, inactive, active, back, &e), 0, "%s", e.message);
}

/* ---- message metrics ---------------------------------------------------- */

Test(analytics, totals_and_uniques)
{
	msg_ev(T0 + HOUR, "Email Sent", "m1", "");
	msg_ev(T0 + HOUR, "Email Sent", "m2", "");
	msg_ev(T0 + 2 * HOUR, "Email Delivered", "m1", "");
	msg_ev(T0 + 3 * HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + 4 * HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + 5 * HOUR, "Email Link Clicked", "m1", "");
	msg_ev(T0 + 5 * HOUR, "Email Link Clicked", "m1", "");
	msg_ev(T0 + 6 * HOUR, "Email Link Clicked", "m1", "");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0 + DAY - 1);
	cr_assert_eq(json_array_size(rows), 1, "no grouping: one row");
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "sent"), 2);
	cr_assert_eq(num(r, "unique_sent"), 2);
	cr_assert_eq(num(r, "delivered"), 1);
	cr_assert_eq(num(r, "unique_delivered"), 1);
	cr_assert_eq(num(r, "opened"), 2, "every open counts in the total");
	cr_assert_eq(num(r, "unique_opened"), 1, "one message opened");
	cr_assert_eq(num(r, "clicked"), 3);
	cr_assert_eq(num(r, "unique_clicked"), 1);
	/* metrics that never happened are reported as zero */
	static const char *const zero[] = {"unsubscribed", "bounced",	     "complained",
					   "failed",	   "opened_machine", "clicked_machine"};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		char u[64];
		snprintf(u, sizeof u, "unique_%s", zero[i]);
		cr_assert_eq(num(r, zero[i]), 0, "%s", zero[i]);
		cr_assert_eq(num(r, u), 0, "%s", u);
	}
	for (size_t c = 0; stats_message_columns[c]; c++)
		cr_assert_not_null(json_object_get(r, stats_message_columns[c]), "%s", stats_message_columns[c]);
	assert_rate(r, "open_rate", 0.5);
	assert_rate(r, "click_rate", 0.5);
	assert_rate(r, "click_to_open_rate", 1.0);
	json_decref(rows);
}

Test(analytics, every_metric_event)
{
	msg_ev(T0 + HOUR, "Email Sent", "e1", "");
	msg_ev(T0 + HOUR, "Message Sent", "s1", "");
	msg_ev(T0 + HOUR, "Message Sent", "s2", "");
	msg_ev(T0 + HOUR, "Message Sent", "s3", "");
	msg_ev(T0 + 2 * HOUR, "Message Delivered", "s1", "");
	msg_ev(T0 + 2 * HOUR, "Email Delivered", "e1", "");
	msg_ev(T0 + 3 * HOUR, "Unsubscribed", "e1", "");
	msg_ev(T0 + 3 * HOUR, "Email Bounced", "s2", "");
	msg_ev(T0 + 3 * HOUR, "Email Marked as Spam", "e1", "");
	msg_ev(T0 + 3 * HOUR, "Message Failed", "s3", "");
	msg_ev(T0 + 3 * HOUR, "Message Failed", "s3", "");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "sent"), 4, "Email Sent and Message Sent are both sent");
	cr_assert_eq(num(r, "delivered"), 2, "Email Delivered and Message Delivered");
	cr_assert_eq(num(r, "unsubscribed"), 1);
	cr_assert_eq(num(r, "bounced"), 1);
	cr_assert_eq(num(r, "complained"), 1, "Email Marked as Spam");
	cr_assert_eq(num(r, "failed"), 2);
	cr_assert_eq(num(r, "unique_failed"), 1);
	cr_assert_eq(num(r, "opened"), 0);
	assert_rate(r, "unsubscribe_rate", 0.25);
	assert_rate(r, "bounce_rate", 0.25);
	assert_rate(r, "complaint_rate", 0.25);
	assert_rate(r, "open_rate", 0);
	assert_rate(r, "click_to_open_rate", 0);
	json_decref(rows);
}

Test(analytics, machine_opens_and_clicks_apart)
{
	msg_ev(T0 + HOUR, "Email Sent", "m1", "");
	msg_ev(T0 + HOUR, "Email Sent", "m2", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1", ",\"machine\":true");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m2", ",\"machine\":true");
	msg_ev(T0 + 2 * HOUR, "Email Link Clicked", "m2", ",\"machine\":true");
	msg_ev(T0 + 3 * HOUR, "Email Opened", "m1", ",\"machine\":false");
	msg_ev(T0 + 3 * HOUR, "Email Link Clicked", "m1", "");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "opened"), 1, "machine opens are not people's");
	cr_assert_eq(num(r, "unique_opened"), 1);
	cr_assert_eq(num(r, "opened_machine"), 2);
	cr_assert_eq(num(r, "unique_opened_machine"), 2);
	cr_assert_eq(num(r, "clicked"), 1);
	cr_assert_eq(num(r, "clicked_machine"), 1);
	cr_assert_eq(num(r, "unique_clicked_machine"), 1);
	assert_rate(r, "open_rate", 0.5);
	assert_rate(r, "click_rate", 0.5);
	json_decref(rows);
}

Test(analytics, events_that_are_not_message_metrics_ignored)
{
	/* a metric without a message id, or with one that is not a string */
	track(T0 + HOUR, "u1", "Email Opened", "{}");
	track(T0 + HOUR, "u1", "Email Sent", "{\"channel\":\"email\"}");
	track(T0 + HOUR, "u1", "Email Sent", "{\"message_id\":42}");
	/* other names (names are exact) */
	msg_ev(T0 + HOUR, "Email Viewed", "m1", "");
	msg_ev(T0 + HOUR, "email opened", "m1", "");
	msg_ev(T0 + HOUR, "Order Completed", "m1", "");
	/* not a track: a page and a screen named like a metric */
	char t[CLOCK_RFC3339_LEN], body[512];
	clock_format_rfc3339(T0 + HOUR, t);
	snprintf(body, sizeof body,
		 "{\"userId\":\"u1\",\"name\":\"Email Opened\",\"properties\":{\"message_id\":\"m1\"},"
		 "\"timestamp\":\"%s\"}",
		 t);
	fixture_append(st, INGEST_PAGE, body);
	fixture_append(st, INGEST_SCREEN, body);
	catch_up();
	json_t *rows = report(NULL, NULL, T0 - 10 * DAY, T0 + 10 * DAY);
	cr_assert_eq(json_array_size(rows), 0, "nothing counted: %s", keys(rows));
	json_decref(rows);

	/* the same message's real open counts, and as the first (unique) one:
	 * the ignored ones did not mark m1 as seen */
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1", "");
	catch_up();
	rows = report(NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "opened"), 1);
	cr_assert_eq(num(r, "unique_opened"), 1);
	cr_assert_eq(num(r, "sent"), 0);
	json_decref(rows);
}

/* m1 email j1/n1 A t1: sent, opened; m2 email j1/n2 t2: sent; m3 sms j2/n1
 * t1: sent, delivered; m4 email (a broadcast) t2: sent, opened, clicked */
static void four_messages(void)
{
	msg_ev(T0 + HOUR, "Email Sent", "m1",
	       ",\"channel\":\"email\",\"journey_id\":\"j1\",\"node_id\":\"n1\",\"variant\":\"A\","
	       "\"template_id\":\"t1\"");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1",
	       ",\"channel\":\"email\",\"journey_id\":\"j1\",\"node_id\":\"n1\",\"variant\":\"A\","
	       "\"template_id\":\"t1\"");
	msg_ev(T0 + HOUR, "Email Sent", "m2",
	       ",\"channel\":\"email\",\"journey_id\":\"j1\",\"node_id\":\"n2\",\"template_id\":\"t2\"");
	msg_ev(T0 + HOUR, "Message Sent", "m3",
	       ",\"channel\":\"sms\",\"journey_id\":\"j2\",\"node_id\":\"n1\",\"template_id\":\"t1\"");
	msg_ev(T0 + 2 * HOUR, "Message Delivered", "m3",
	       ",\"channel\":\"sms\",\"journey_id\":\"j2\",\"node_id\":\"n1\",\"template_id\":\"t1\"");
	msg_ev(T0 + HOUR, "Email Sent", "m4", ",\"channel\":\"email\",\"template_id\":\"t2\"");
	msg_ev(T0 + 3 * HOUR, "Email Opened", "m4", ",\"channel\":\"email\",\"template_id\":\"t2\"");
	msg_ev(T0 + 3 * HOUR, "Email Link Clicked", "m4", ",\"channel\":\"email\",\"template_id\":\"t2\"");
	catch_up();
}

Test(analytics, grouped_by_channel)
{
	four_messages();
	json_t *rows = report("channel", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), "email,sms");
	json_t *r = row_of(rows, "email");
	cr_assert_eq(num(r, "sent"), 3);
	cr_assert_eq(num(r, "unique_opened"), 2);
	cr_assert_eq(num(r, "delivered"), 0);
	assert_rate(r, "open_rate", 2.0 / 3);
	assert_rate(r, "click_to_open_rate", 0.5);
	r = row_of(rows, "sms");
	cr_assert_eq(num(r, "sent"), 1);
	cr_assert_eq(num(r, "delivered"), 1);
	cr_assert_eq(num(r, "opened"), 0);
	assert_rate(r, "open_rate", 0);
	json_decref(rows);
}

Test(analytics, grouped_by_journey_node_variant)
{
	four_messages();
	json_t *rows = report("journey", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), ",j1,j2", "messages outside journeys have the empty key");
	cr_assert_eq(num(row_of(rows, "j1"), "sent"), 2);
	cr_assert_eq(num(row_of(rows, "j1"), "opened"), 1);
	cr_assert_eq(num(row_of(rows, "j2"), "sent"), 1);
	cr_assert_eq(num(row_of(rows, ""), "sent"), 1);
	cr_assert_eq(num(row_of(rows, ""), "clicked"), 1);
	json_decref(rows);

	rows = report("node", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), "/,j1/n1,j1/n2,j2/n1", "the key is journey/node");
	cr_assert_eq(num(row_of(rows, "j1/n1"), "sent"), 1);
	cr_assert_eq(num(row_of(rows, "j1/n1"), "unique_opened"), 1);
	cr_assert_eq(num(row_of(rows, "j1/n2"), "opened"), 0);
	cr_assert_eq(num(row_of(rows, "j2/n1"), "delivered"), 1, "node n1 of j2 is not n1 of j1");
	json_decref(rows);

	rows = report("variant", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), "//,j1/n1/A,j1/n2/,j2/n1/");
	cr_assert_eq(num(row_of(rows, "j1/n1/A"), "opened"), 1);
	json_decref(rows);

	/* one journey only */
	rows = report("node", "j1", T0, T0);
	cr_assert_str_eq(keys(rows), "j1/n1,j1/n2");
	json_decref(rows);
	rows = report(NULL, "j2", T0, T0);
	cr_assert_eq(json_array_size(rows), 1);
	cr_assert_eq(num(row_of(rows, ""), "sent"), 1);
	cr_assert_eq(num(row_of(rows, ""), "delivered"), 1);
	json_decref(rows);
	rows = report(NULL, "nope", T0, T0);
	cr_assert_eq(json_array_size(rows), 0);
	json_decref(rows);
}

Test(analytics, grouped_by_template)
{
	four_messages();
	json_t *rows = report("template", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), "t1,t2");
	json_t *r = row_of(rows, "t1");
	cr_assert_eq(num(r, "sent"), 2, "m1 (email) and m3 (sms)");
	cr_assert_eq(num(r, "opened"), 1);
	cr_assert_eq(num(r, "delivered"), 1);
	assert_rate(r, "open_rate", 0.5);
	r = row_of(rows, "t2");
	cr_assert_eq(num(r, "sent"), 2);
	cr_assert_eq(num(r, "clicked"), 1);
	assert_rate(r, "click_rate", 0.5);
	assert_rate(r, "click_to_open_rate", 1.0);
	json_decref(rows);
}

Test(analytics, grouped_by_day_and_period_bounds)
{
	msg_ev(T0 - 2 * DAY + HOUR, "Email Sent", "before", "");
	msg_ev(T0 - 1, "Email Sent", "eve", ""); /* 23:59:59.999 the day before from */
	msg_ev(T0, "Email Sent", "d0a", "");	 /* midnight opening from's day */
	msg_ev(T0 + 23 * HOUR, "Email Sent", "d0b", "");
	msg_ev(T0 + 23 * HOUR, "Email Opened", "d0b", "");
	msg_ev(T0 + DAY + HOUR, "Email Sent", "d1", "");
	msg_ev(T0 + 2 * DAY - 1, "Email Sent", "d1late", ""); /* last ms of to's day */
	msg_ev(T0 + 2 * DAY, "Email Sent", "after", "");      /* next midnight */
	catch_up();
	/* from and to fall inside their days: the days containing them count */
	int64_t from = NOW, to = T0 + DAY + 2 * HOUR;
	json_t *rows = report("day", NULL, from, to);
	cr_assert_str_eq(keys(rows), "2026-03-02T00:00:00.000Z,2026-03-03T00:00:00.000Z",
			 "the key is the day's midnight UTC");
	json_t *r = row_of(rows, "2026-03-02T00:00:00.000Z");
	cr_assert_eq(num(r, "sent"), 2);
	cr_assert_eq(num(r, "opened"), 1);
	assert_rate(r, "open_rate", 0.5);
	r = row_of(rows, "2026-03-03T00:00:00.000Z");
	cr_assert_eq(num(r, "sent"), 2);
	cr_assert_eq(num(r, "opened"), 0);
	json_decref(rows);

	rows = report(NULL, NULL, from, to);
	cr_assert_eq(num(row_of(rows, ""), "sent"), 4, "before, eve and after are outside the period");
	json_decref(rows);

	rows = report("day", NULL, T0 - 3 * DAY, T0 + 3 * DAY);
	cr_assert_str_eq(keys(rows),
			 "2026-02-28T00:00:00.000Z,2026-03-01T00:00:00.000Z,2026-03-02T00:00:00.000Z,"
			 "2026-03-03T00:00:00.000Z,2026-03-04T00:00:00.000Z",
			 "days without events have no row");
	json_decref(rows);

	rows = report(NULL, NULL, T0 + 3 * DAY, T0 + 9 * DAY);
	cr_assert_eq(json_array_size(rows), 0);
	json_decref(rows);
}

Test(analytics, rates_over_unique_sent)
{
	msg_ev(T0 + HOUR, "Email Sent", "m1", "");
	msg_ev(T0 + HOUR, "Email Sent", "m2", "");
	msg_ev(T0 + HOUR, "Email Sent", "m3", "");
	msg_ev(T0 + HOUR, "Email Sent", "m4", "");
	msg_ev(T0 + HOUR, "Email Sent", "m1", ""); /* a repeated Sent counts once in the rates */
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m2", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "m3", "");
	msg_ev(T0 + 3 * HOUR, "Email Link Clicked", "m1", "");
	msg_ev(T0 + 3 * HOUR, "Email Link Clicked", "m1", "");
	msg_ev(T0 + 3 * HOUR, "Unsubscribed", "m2", "");
	msg_ev(T0 + 3 * HOUR, "Email Bounced", "m4", "");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "sent"), 5);
	cr_assert_eq(num(r, "unique_sent"), 4);
	assert_rate(r, "open_rate", 3.0 / 4);
	assert_rate(r, "click_rate", 1.0 / 4);
	assert_rate(r, "click_to_open_rate", 1.0 / 3);
	assert_rate(r, "unsubscribe_rate", 1.0 / 4);
	assert_rate(r, "bounce_rate", 1.0 / 4);
	assert_rate(r, "complaint_rate", 0);
	json_decref(rows);
}

Test(analytics, rates_zero_when_nothing_sent)
{
	/* opens and clicks of a message whose Sent is not in the log */
	msg_ev(T0 + HOUR, "Email Opened", "m1", "");
	msg_ev(T0 + HOUR, "Email Link Clicked", "m1", "");
	msg_ev(T0 + HOUR, "Email Bounced", "m2", "");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "sent"), 0);
	cr_assert_eq(num(r, "unique_sent"), 0);
	assert_rate(r, "open_rate", 0);
	assert_rate(r, "click_rate", 0);
	assert_rate(r, "bounce_rate", 0);
	assert_rate(r, "unsubscribe_rate", 0);
	assert_rate(r, "complaint_rate", 0);
	assert_rate(r, "click_to_open_rate", 1.0);
	json_decref(rows);
}

Test(analytics, unsubscribed_counts_under_the_message_channel)
{
	msg_ev(T0 + HOUR, "Email Sent", "m1", ",\"channel\":\"email\"");
	msg_ev(T0 + HOUR, "Message Sent", "m2", ",\"channel\":\"sms\"");
	/* from the preference centre: channel is what was given up */
	msg_ev(T0 + 2 * HOUR, "Unsubscribed", "m1", ",\"channel\":\"all\",\"message_channel\":\"email\"");
	/* without message_channel, channel is the message's */
	msg_ev(T0 + 2 * HOUR, "Unsubscribed", "m2", ",\"channel\":\"sms\"");
	catch_up();
	json_t *rows = report("channel", NULL, T0, T0);
	cr_assert_str_eq(keys(rows), "email,sms", "no row for the channel given up");
	json_t *r = row_of(rows, "email");
	cr_assert_eq(num(r, "unsubscribed"), 1);
	assert_rate(r, "unsubscribe_rate", 1.0);
	r = row_of(rows, "sms");
	cr_assert_eq(num(r, "unsubscribed"), 1);
	assert_rate(r, "unsubscribe_rate", 1.0);
	json_decref(rows);
}

Test(analytics, workspaces_apart)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t ws2;
	cr_assert_eq(store_workspace_create(st, "other", NOW, &ws2, &e), 0, "%s", e.message);
	cr_assert_neq(ws2, 1);
	msg_ev(T0 + HOUR, "Email Sent", "w1", "");
	msg_ev(T0 + HOUR, "Email Opened", "w1", "");
	track_ws(ws2, T0 + HOUR, "u1", "Email Sent", "{\"message_id\":\"w2\"}");
	track_ws(ws2, T0 + HOUR, "u1", "Email Sent", "{\"message_id\":\"w3\"}");
	catch_up();
	json_t *rows = report(NULL, NULL, T0, T0);
	cr_assert_eq(num(row_of(rows, ""), "sent"), 1);
	json_decref(rows);
	rows = report_ws(ws2, NULL, NULL, T0, T0);
	cr_assert_eq(num(row_of(rows, ""), "sent"), 2);
	cr_assert_eq(num(row_of(rows, ""), "opened"), 0);
	json_decref(rows);
}

/* Message ids come from the event (a Tracking API client's, or a provider's
 * webhook), and an_msg_seen is keyed by (message_id, metric) only: the same
 * id in two workspaces is counted as unique in the first one only. */
Test(analytics, uniques_per_workspace)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t ws2;
	cr_assert_eq(store_workspace_create(st, "other", NOW, &ws2, &e), 0, "%s", e.message);
	msg_ev(T0 + HOUR, "Email Sent", "1001", "");
	msg_ev(T0 + 2 * HOUR, "Email Opened", "1001", "");
	track_ws(ws2, T0 + HOUR, "u1", "Email Sent", "{\"message_id\":\"1001\"}");
	track_ws(ws2, T0 + 2 * HOUR, "u1", "Email Opened", "{\"message_id\":\"1001\"}");
	catch_up();
	json_t *rows = report_ws(ws2, NULL, NULL, T0, T0);
	json_t *r = row_of(rows, "");
	cr_assert_eq(num(r, "sent"), 1);
	cr_assert_eq(num(r, "unique_sent"), 1, "workspace 2's message was sent");
	cr_assert_eq(num(r, "unique_opened"), 1);
	assert_rate(r, "open_rate", 1.0);
	json_decref(rows);
}

/* ---- funnels ------------------------------------------------------------ */

Test(analytics, funnel_ordered_within_the_window)
{
	static const char *const steps[] = {"A", "B", "C"};
	/* all three steps in order within the day */
	track(T0 + HOUR, "all", "A", "{}");
	track(T0 + 2 * HOUR, "all", "B", "{}");
	track(T0 + 3 * HOUR, "all", "C", "{}");
	/* C comes a millisecond after the window of A */
	track(T0 + HOUR, "late", "A", "{}");
	track(T0 + 2 * HOUR, "late", "B", "{}");
	track(T0 + HOUR + DAY + 1, "late", "C", "{}");
	/* B before A: only A counts, C without B does not */
	track(T0 + HOUR, "order", "B", "{}");
	track(T0 + 2 * HOUR, "order", "A", "{}");
	track(T0 + 3 * HOUR, "order", "C", "{}");
	catch_up();
	int64_t users[3];
	funnel(steps, 3, T0, T0 + 7 * DAY, DAY, users);
	cr_assert_eq(users[0], 3);
	cr_assert_eq(users[1], 2, "late and all did B after A");
	cr_assert_eq(users[2], 1, "only all did C within a day of A");

	/* a window long enough for late */
	funnel(steps, 3, T0, T0 + 7 * DAY, 2 * DAY, users);
	cr_assert_eq(users[0], 3);
	cr_assert_eq(users[1], 2);
	cr_assert_eq(users[2], 2);

	/* the last step exactly at the end of the window counts */
	funnel(steps, 3, T0, T0 + 7 * DAY, DAY + 1, users);
	cr_assert_eq(users[2], 2);

	/* one step, and a two-step prefix */
	funnel(steps, 1, T0, T0 + 7 * DAY, DAY, users);
	cr_assert_eq(users[0], 3);
	static const char *const bc[] = {"B", "C"};
	funnel(bc, 2, T0, T0 + 7 * DAY, DAY, users);
	cr_assert_eq(users[0], 3);
	cr_assert_eq(users[1], 3, "each did C within a day of their first B");
}

Test(analytics, funnel_first_step_in_the_period)
{
	static const char *const steps[] = {"A", "B"};
	track(T0 - HOUR, "early", "A", "{}"); /* before the period */
	track(T0 + HOUR, "early", "B", "{}");
	track(T0 + HOUR, "in", "A", "{}");
	track(T0 + 8 * DAY, "in", "B", "{}"); /* after the period, within the window */
	/* the window runs from the first A in the period, not a later one */
	track(T0 + HOUR, "again", "A", "{}");
	track(T0 + 3 * DAY, "again", "A", "{}");
	track(T0 + 3 * DAY + HOUR, "again", "B", "{}");
	track(T0 + 9 * DAY, "outside", "A", "{}");
	catch_up();
	int64_t users[2];
	funnel(steps, 2, T0, T0 + 7 * DAY, 10 * DAY, users);
	cr_assert_eq(users[0], 2, "early's and outside's A are not in the period");
	cr_assert_eq(users[1], 2, "in's B may fall after the period");
	funnel(steps, 2, T0, T0 + 7 * DAY, 2 * DAY, users);
	cr_assert_eq(users[0], 2);
	cr_assert_eq(users[1], 0, "again's B is 3 days after its first A");
}

Test(analytics, funnel_repeated_step_needs_a_later_event)
{
	static const char *const steps[] = {"Order Completed", "Order Completed"};
	track(T0 + HOUR, "once", "Order Completed", "{}");
	track(T0 + HOUR, "twice", "Order Completed", "{}");
	track(T0 + 5 * HOUR, "twice", "Order Completed", "{}");
	/* two orders in the same millisecond are two events */
	track(T0 + 2 * HOUR, "same_ms", "Order Completed", "{}");
	track(T0 + 2 * HOUR, "same_ms", "Order Completed", "{}");
	catch_up();
	int64_t users[3];
	funnel(steps, 2, T0, T0 + 7 * DAY, 7 * DAY, users);
	cr_assert_eq(users[0], 3);
	cr_assert_eq(users[1], 2, "a single order is not its own second step");
	static const char *const three[] = {"Order Completed", "Order Completed", "Order Completed"};
	funnel(three, 3, T0, T0 + 7 * DAY, 7 * DAY, users);
	cr_assert_eq(users[0], 3);
	cr_assert_eq(users[1], 2);
	cr_assert_eq(users[2], 0, "nobody has three orders");
	track(T0 + 2 * HOUR, "same_ms", "Order Completed", "{}");
	catch_up();
	funnel(three, 3, T0, T0 + 7 * DAY, 7 * DAY, users);
	cr_assert_eq(users[2], 1, "three orders in one millisecond");
}

Test(analytics, funnel_same_millisecond_ordered_by_log_id)
{
	static const char *const steps[] = {"A", "B"};
	/* logged A then B, same time: in order */
	track(T0 + HOUR, "ab", "A", "{}");
	track(T0 + HOUR, "ab", "B", "{}");
	/* logged B then A, same time: B is not after A */
	track(T0 + HOUR, "ba", "B", "{}");
	track(T0 + HOUR, "ba", "A", "{}");
	catch_up();
	int64_t users[2];
	funnel(steps, 2, T0, T0 + DAY, HOUR, users);
	cr_assert_eq(users[0], 2);
	cr_assert_eq(users[1], 1, "only ab's B was logged after its A");
	/* with the time the log order does not matter */
	track(T0 + HOUR + 1, "ba", "B", "{}");
	catch_up();
	funnel(steps, 2, T0, T0 + DAY, HOUR, users);
	cr_assert_eq(users[1], 2);
}

Test(analytics, funnel_step_count_checked)
{
	static const char *const steps[STORE_AN_FUNNEL_MAX + 1] = {"A", "B", "C", "D", "E", "F", "G", "H", "I"};
	int64_t users[STORE_AN_FUNNEL_MAX + 1];
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_an_funnel(st, 1, steps, 0, T0, T0 + DAY, DAY, users, &e), CAIRN_EINVAL);
	cairn_err_clear(&e);
	cr_assert_eq(store_an_funnel(st, 1, steps, STORE_AN_FUNNEL_MAX + 1, T0, T0 + DAY, DAY, users, &e),
		     CAIRN_EINVAL);
	cairn_err_clear(&e);
	for (size_t k = 0; k < STORE_AN_FUNNEL_MAX; k++)
		track(T0 + HOUR + (int64_t)k, "u", steps[k], "{}");
	catch_up();
	funnel(steps, STORE_AN_FUNNEL_MAX, T0, T0 + DAY, DAY, users);
	for (size_t k = 0; k < STORE_AN_FUNNEL_MAX; k++)
		cr_assert_eq(users[k], 1, "step %zu", k + 1);
}

/* ---- reactivation ------------------------------------------------------- */

Test(analytics, reactivated_after_inactivity)
{
	int64_t from = T0, to = T0 + 7 * DAY;
	track(from - 40 * DAY, "back", "Visited", "{}");
	track(from + HOUR, "back", "Visited", "{}");
	track(from + 2 * DAY, "back", "Visited", "{}");
	track(from + 2 * HOUR, "new", "Signed Up", "{}");
	track(from - DAY, "regular", "Visited", "{}");
	track(from + HOUR, "regular", "Visited", "{}");
	track(from - 40 * DAY, "gone", "Visited", "{}");
	track(to + HOUR, "later", "Visited", "{}");
	catch_up();
	int64_t active, back;
	reactivated(from, to, 30 * DAY, &active, &back);
	cr_assert_eq(active, 3, "back, new and regular");
	cr_assert_eq(back, 1, "back was away 40 days; new has no earlier event");
	reactivated(from, to, 60 * DAY, &active, &back);
	cr_assert_eq(active, 3);
	cr_assert_eq(back, 0, "40 days is not 60");
	/* the gap is to the first event in the period */
	reactivated(from, to, 40 * DAY + HOUR - 1, &active, &back);
	cr_assert_eq(back, 1);
	reactivated(from, to, 40 * DAY + HOUR, &active, &back);
	cr_assert_eq(back, 0, "more than inactive_ms earlier");
	/* a period with nobody */
	reactivated(to + 2 * DAY, to + 3 * DAY, 30 * DAY, &active, &back);
	cr_assert_eq(active, 0);
	cr_assert_eq(back, 0);
}

/* ---- rebuilt from the log ----------------------------------------------- */

static char *snapshot(void)
{
	static const char *const bys[] = {NULL, "channel", "journey", "node", "variant", "template", "day"};
	json_t *all = json_array();
	for (size_t i = 0; i < sizeof bys / sizeof bys[0]; i++)
		json_array_append_new(all, report(bys[i], NULL, T0 - 10 * DAY, T0 + 10 * DAY));
	static const char *const steps[] = {"Email Sent", "Email Opened", "Email Link Clicked"};
	int64_t users[3];
	funnel(steps, 3, T0 - 10 * DAY, T0 + 10 * DAY, 3 * DAY, users);
	int64_t active, back;
	reactivated(T0, T0 + 10 * DAY, 3 * DAY, &active, &back);
	json_array_append_new(all, json_pack("[I,I,I,I,I]", (json_int_t)users[0], (json_int_t)users[1],
					     (json_int_t)users[2], (json_int_t)active, (json_int_t)back));
	char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(all);
	return text;
}

Test(analytics, rebuilt_identically_from_the_log)
{
	four_messages();
	msg_ev(T0 - 5 * DAY, "Email Sent", "old", ",\"channel\":\"email\",\"template_id\":\"t1\"");
	msg_ev(T0 + DAY, "Email Opened", "old", ",\"channel\":\"email\",\"template_id\":\"t1\",\"machine\":true");
	msg_ev(T0 + DAY, "Email Opened", "old", ",\"channel\":\"email\",\"template_id\":\"t1\"");
	msg_ev(T0 + DAY, "Email Opened", "m1",
	       ",\"channel\":\"email\",\"journey_id\":\"j1\",\"node_id\":\"n1\",\"variant\":\"A\","
	       "\"template_id\":\"t1\"");
	msg_ev(T0 + 2 * DAY, "Unsubscribed", "m4", ",\"channel\":\"all\",\"message_channel\":\"email\"");
	track(T0 + 2 * DAY, "u2", "Email Sent", "{\"message_id\":\"m5\",\"channel\":\"email\"}");
	catch_up();
	char *before = snapshot();
	cr_assert(strstr(before, "\"opened_machine\":1"), "%s", before);

	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_reset_derived(st, &e), 0, "%s", e.message);
	json_t *rows = report(NULL, NULL, T0 - 10 * DAY, T0 + 10 * DAY);
	cr_assert_eq(json_array_size(rows), 0, "the rollups are emptied");
	json_decref(rows);

	catch_up();
	char *after = snapshot();
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
}
