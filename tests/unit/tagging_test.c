/* tagging_test.c — auto-tagging rules (src/track/tagging.c,
 * src/store/store_tagging.c) through a real store and the engine. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "store/store_segment.h"
#include "store/store_tagging.h"
#include "track/tagging.h"

#include "fixture.h"

#define DAY STORE_SEG_DAY_MS
static const int64_t NOW = 1772413200000; /* 2026-03-02T01:00:00Z */

static char dir[64];
static struct store *st;

static void open_store(void)
{
	st = fixture_open(dir, sizeof dir, "tag", NOW);
}

static void close_store(void)
{
	fixture_close(st, dir);
}

TestSuite(tagging, .init = open_store, .fini = close_store);

static void catch_up(void)
{
	fixture_catch_up(st, 5);
}

static void send(enum ingest_kind k, const char *body)
{
	fixture_append(st, k, body);
	catch_up();
}

static void track(const char *user, const char *event)
{
	char t[CLOCK_RFC3339_LEN], body[512];
	clock_format_rfc3339(clock_now_ms(), t);
	snprintf(body, sizeof body, "{\"userId\":\"%s\",\"event\":\"%s\",\"timestamp\":\"%s\"}", user, event, t);
	send(INGEST_TRACK, body);
}

static void identify(const char *user, const char *traits)
{
	char body[512];
	snprintf(body, sizeof body, "{\"userId\":\"%s\",\"traits\":%s}", user, traits);
	send(INGEST_IDENTIFY, body);
}

static void track_props(const char *user, const char *event, const char *props)
{
	char t[CLOCK_RFC3339_LEN], body[1024];
	clock_format_rfc3339(clock_now_ms(), t);
	snprintf(body, sizeof body, "{\"userId\":\"%s\",\"event\":\"%s\",\"properties\":%s,\"timestamp\":\"%s\"}", user,
		 event, props, t);
	send(INGEST_TRACK, body);
}

static int has_tag(const char *user, const char *tag)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	cr_assert_eq(store_profile_resolve(st, 1, user, &pid, &e), 0, "%s", e.message);
	int rc = store_tagging_has_tag(st, 1, pid, tag, &e);
	cr_assert_geq(rc, 0, "%s", e.message);
	return rc;
}

static size_t emitted(const char *name)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	char *cursor = NULL;
	json_t *list = store_events_json(st, 1, name, 1000, NULL, &cursor, &e);
	cr_assert_not_null(list, "%s", e.message);
	size_t n = json_array_size(list);
	json_decref(list);
	free(cursor);
	return n;
}

static void tick(int64_t now)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_begin(st, &e), 0, "%s", e.message);
	cr_assert_eq(trk_tagging_tick(st, now, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0, "%s", e.message);
	catch_up();
}

static void save(const char *id, const char *text, int create)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *n = trk_tagging_normalize(j, id, &e);
	json_decref(j);
	cr_assert_not_null(n, "%s (%s)", e.message, e.field);
	cr_assert_eq(trk_tagging_save(st, 1, id, n, create, clock_now_ms(), &e), 0, "%s", e.message);
	json_decref(n);
}

static const char *invalid_field(const char *text)
{
	static char field[128];
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *n = trk_tagging_normalize(j, "x", &e);
	json_decref(j);
	cr_assert_null(n, "%s should be refused", text);
	cr_assert_eq(e.code, CAIRN_EUNPROC);
	snprintf(field, sizeof field, "%s", e.field);
	return field;
}

Test(tagging, validation_names_the_path)
{
	cr_assert_str_eq(invalid_field("{\"add\":[\"x\"]}"), "when");
	cr_assert_str_eq(
		invalid_field("{\"when\":{\"event\":\"E\",\"where\":{\"property\":\"a\",\"op\":\"bad\",\"value\":1}},"
			      "\"add\":[\"x\"]}"),
		"when.where.op");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\",\"where\":{\"tag\":\"a\"}},\"add\":[\"x\"]}"),
			 "when.where");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\"},\"add\":[\"ok\",\"{{ user.x }}\"]}"), "add[1]");
	cr_assert_str_eq(
		invalid_field("{\"when\":{\"event\":\"E\"},\"unless\":{\"event\":\"F\",\"within\":{\"days\":3}},"
			      "\"add\":[\"{{ event.properties.t }}\"]}"),
		"add[0]");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\"},\"unless\":{\"event\":\"F\"},\"add\":[\"x\"]}"),
			 "unless.within");
	cr_assert_str_eq(
		invalid_field("{\"when\":{\"condition\":{\"property\":\"a\",\"op\":\"exists\"}},\"add\":[\"x\"]}"),
		"when.condition");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\"},\"add\":[]}"), "add");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\"},\"add\":[\"x\"],\"bogus\":1}"), "bogus");
	cr_assert_str_eq(invalid_field("{\"when\":{\"event\":\"E\"},\"if\":{\"trait\":\"a\"},\"add\":[\"x\"]}"),
			 "if.op");
}

Test(tagging, defaults_installed_once)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(trk_tagging_defaults_ensure(st, 1, NOW, &e), 0, "%s", e.message);
	struct store_tagging_page p;
	cr_assert_eq(store_tagging_rules_list(st, 1, 0, NULL, &p, &e), 0);
	cr_assert_eq(p.n, 5);
	store_tagging_page_release(&p);
	cr_assert_eq(trk_tagging_archive(st, 1, "review-target", NOW, &e), 0, "%s", e.message);
	cr_assert_eq(trk_tagging_defaults_ensure(st, 1, NOW, &e), 0);
	cr_assert_eq(store_tagging_rules_list(st, 1, 0, NULL, &p, &e), 0);
	cr_assert_eq(p.n, 4, "a deleted default stays deleted");
	store_tagging_page_release(&p);
}

Test(tagging, event_rule_with_interpolation_and_if)
{
	save("topic",
	     "{\"when\":{\"event\":\"Viewed\",\"where\":{\"property\":\"kind\",\"op\":\"eq\",\"value\":\"blog\"}},"
	     "\"if\":{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},"
	     "\"add\":[\"topic:{{ event.properties.topic }}\"],\"remove\":[\"cold\"]}",
	     1);
	identify("u1", "{\"plan\":\"pro\"}");
	identify("u2", "{\"plan\":\"free\"}");
	track_props("u1", "Viewed", "{\"kind\":\"blog\",\"topic\":\"seo\"}");
	track_props("u2", "Viewed", "{\"kind\":\"blog\",\"topic\":\"seo\"}");
	track_props("u1", "Viewed", "{\"kind\":\"video\",\"topic\":\"ads\"}");
	track_props("u1", "Viewed", "{\"kind\":\"blog\"}");
	cr_assert(has_tag("u1", "topic:seo"));
	cr_assert_not(has_tag("u2", "topic:seo"), "if is false for u2");
	cr_assert_not(has_tag("u1", "topic:ads"), "where is false");
	size_t added = emitted("Tag Added");
	track_props("u1", "Viewed", "{\"kind\":\"blog\",\"topic\":\"seo\"}");
	cr_assert_eq(emitted("Tag Added"), added, "no event when the tag does not change");
}

Test(tagging, absence_fires_on_tick_and_is_cancelled)
{
	save("slow",
	     "{\"when\":{\"event\":\"Clicked\"},\"unless\":{\"event\":\"Bought\",\"within\":{\"days\":3}},"
	     "\"add\":[\"slow\"]}",
	     1);
	track_props("a", "Clicked", "{}");
	track_props("b", "Clicked", "{}");
	clock_virtual_advance(DAY);
	track_props("b", "Bought", "{}");
	tick(NOW + 2 * DAY);
	cr_assert_not(has_tag("a", "slow"), "not before 3 days");
	tick(NOW + 3 * DAY);
	cr_assert(has_tag("a", "slow"));
	cr_assert_not(has_tag("b", "slow"), "cancelled by the order");
	struct cairn_err e = CAIRN_ERR_INIT;
	char *cursor = NULL;
	json_t *list = store_events_json(st, 1, "Tag Added", 10, NULL, &cursor, &e);
	cr_assert_eq(json_array_size(list), 1);
	char *text = json_dumps(list, JSON_COMPACT);
	cr_assert(strstr(text, "\"rule_id\":\"slow\"") && strstr(text, "\"due_at\""), "%s", text);
	free(text);
	json_decref(list);
	free(cursor);
	tick(NOW + 10 * DAY);
	cr_assert_eq(emitted("Tag Added"), 1, "fires once");
}

Test(tagging, condition_rule_adds_and_removes)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(trk_tagging_defaults_ensure(st, 1, NOW, &e), 0, "%s", e.message);
	track("c", "Email Sent");
	track("c", "Email Sent");
	cr_assert_not(has_tag("c", "disengaged"));
	track("c", "Email Sent");
	cr_assert(has_tag("c", "disengaged"));
	track("c", "Email Opened");
	cr_assert_not(has_tag("c", "disengaged"));
	cr_assert_eq(emitted("Tag Added"), 1);
	cr_assert_eq(emitted("Tag Removed"), 1);
}

Test(tagging, time_condition_rule_reevaluated_by_tick)
{
	save("quiet",
	     "{\"when\":{\"condition\":{\"event\":\"Visited\",\"count\":{\"op\":\"eq\",\"value\":0},"
	     "\"within\":{\"days\":7}}},\"add\":[\"quiet\"],\"remove_when_false\":true}",
	     1);
	track_props("q", "Visited", "{}");
	cr_assert_not(has_tag("q", "quiet"));
	clock_virtual_advance(8 * DAY);
	tick(clock_now_ms());
	cr_assert(has_tag("q", "quiet"));
	track_props("q", "Visited", "{}");
	cr_assert_not(has_tag("q", "quiet"));
}
