/* seg_live_test.c — live segments (src/segment/seg_live.c,
 * src/store/store_seg_live.c) through a real store and the engine. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "segment/seg_live.h"
#include "store/store_seg_live.h"
#include "store/store_segment.h"

#include "fixture.h"

#define DAY STORE_SEG_DAY_MS
static const int64_t NOW = 1772413200000; /* 2026-03-02T01:00:00Z */

static char dir[64];
static struct store *st;

static void open_store(void)
{
	st = fixture_open(dir, sizeof dir, "segl", NOW);
}

static void close_store(void)
{
	fixture_close(st, dir);
}

TestSuite(seg_live, .init = open_store, .fini = close_store);

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

static void save(const char *id, const char *text, int create)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	cr_assert_not_null(j, "%s", je.text);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct cond *c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_not_null(c, "%s", e.message);
	cr_assert_eq(seg_live_check(st, 1, c, id, &e), 0, "%s", e.message);
	cr_assert_eq(seg_live_save(st, 1, id, id, c, create, clock_now_ms(), &e), 0, "%s", e.message);
	cond_free(c);
}

static int member(const char *seg, const char *user)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	cr_assert_eq(store_profile_resolve(st, 1, user, &pid, &e), 0, "%s", e.message);
	int rc = store_seg_member_get(st, 1, seg, pid, NULL, &e);
	cr_assert_geq(rc, 0, "%s", e.message);
	return rc;
}

static int64_t size_of(const char *seg)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_segment s;
	cr_assert_eq(store_segment_get(st, 1, seg, &s, &e), 0, "%s", e.message);
	int64_t n = s.size;
	store_segment_release(&s);
	return n;
}

/* Segment events of the workspace named name (emitted and forwarded). */
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
	cr_assert_eq(seg_live_tick(st, now, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0, "%s", e.message);
	catch_up();
}

Test(seg_live, store_definitions_and_conflicts)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_segment_insert(st, 1, "a", "A", "{\"tag\":\"x\"}", NOW, &e), 0, "%s", e.message);
	cr_assert_eq(store_segment_insert(st, 1, "a", "A", "{\"tag\":\"x\"}", NOW, &e), CAIRN_ECONFLICT);
	cairn_err_clear(&e);
	cr_assert_eq(store_segment_insert(st, 1, "b", "B", "{\"tag\":\"y\"}", NOW, &e), 0, "%s", e.message);
	cr_assert_eq(store_seg_member_add(st, 1, "a", 7, NOW, &e), 0);
	cr_assert_eq(store_seg_member_add(st, 1, "a", 7, NOW, &e), 0, "adding twice is harmless");
	cr_assert_eq(store_seg_due_set(st, 1, "a", 7, NOW + 5, &e), 0);
	cr_assert_eq(store_commit(st, &e), 0);
	cr_assert_eq(size_of("a"), 1);

	struct store_segment_page p;
	cr_assert_eq(store_segments_list(st, 1, 1, NULL, &p, &e), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.items[0].id, "a");
	cr_assert_not_null(p.next_cursor);
	char *cur = strdup(p.next_cursor);
	store_segment_page_release(&p);
	cr_assert_eq(store_segments_list(st, 1, 1, cur, &p, &e), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.items[0].id, "b");
	cr_assert_null(p.next_cursor);
	store_segment_page_release(&p);
	free(cur);
	cr_assert_eq(store_segments_list(st, 1, 1, "zz", &p, &e), CAIRN_EINVAL);
	cairn_err_clear(&e);

	struct store_seg_due *d;
	size_t n;
	cr_assert_eq(store_seg_due_list(st, NOW + 4, 10, &d, &n, &e), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_seg_due_list(st, NOW + 5, 10, &d, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(d[0].profile_id, 7);
	store_seg_due_free(d, n);

	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_segment_archive(st, 1, "a", NOW, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	cr_assert_eq(store_segment_get(st, 1, "a", &(struct store_segment){0}, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	cr_assert_eq(store_seg_due_list(st, NOW + 5, 10, &d, &n, &e), 0);
	cr_assert_eq(n, 0, "archiving drops due rows");
	store_seg_due_free(d, n);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_segment_insert(st, 1, "a", "A again", "{\"tag\":\"z\"}", NOW, &e), 0, "restores: %s",
		     e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	cr_assert_eq(size_of("a"), 0);
}

Test(seg_live, trait_segment_enter_and_exit_emit_events)
{
	identify("u1", "{\"plan\":\"pro\"}");
	identify("u2", "{\"plan\":\"free\"}");
	save("pro", "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}", 1);
	cr_assert(member("pro", "u1"));
	cr_assert(!member("pro", "u2"));
	cr_assert_eq(size_of("pro"), 1);
	cr_assert_eq(emitted("Segment Entered"), 0, "the initial fill emits nothing");

	identify("u2", "{\"plan\":\"pro\"}");
	cr_assert(member("pro", "u2"));
	cr_assert_eq(emitted("Segment Entered"), 1);
	identify("u1", "{\"plan\":\"free\"}");
	cr_assert(!member("pro", "u1"));
	cr_assert_eq(emitted("Segment Exited"), 1);
	cr_assert_eq(size_of("pro"), 1);

	/* a track event cannot change a trait segment: nothing emitted again */
	track("u2", "Page Viewed");
	cr_assert_eq(emitted("Segment Entered"), 1);

	/* a user created by a plain track event enters a "not" segment at once */
	save("not-pro", "{\"trait\":\"plan\",\"op\":\"ne\",\"value\":\"pro\"}", 1);
	track("u3", "Anything");
	cr_assert(member("not-pro", "u3"));
}

Test(seg_live, at_risk_enters_with_time_alone)
{
	track("b1", "Order Completed");
	save("at-risk",
	     "{\"all\":[{\"event\":\"Order Completed\",\"count\":{\"op\":\"gte\",\"value\":1}},"
	     "{\"event\":\"Order Completed\",\"count\":{\"op\":\"eq\",\"value\":0},\"within\":{\"days\":30}}]}",
	     1);
	cr_assert(!member("at-risk", "b1"));
	tick(NOW + 29 * DAY);
	cr_assert(!member("at-risk", "b1"));
	clock_virtual_set(NOW + 31 * DAY);
	tick(NOW + 31 * DAY);
	cr_assert(member("at-risk", "b1"), "enters on day 31 with no new event");
	cr_assert_eq(emitted("Segment Entered"), 1);
	tick(NOW + 31 * DAY + 1000);
	cr_assert_eq(emitted("Segment Entered"), 1, "a later tick changes nothing");

	track("b1", "Order Completed");
	cr_assert(!member("at-risk", "b1"));
	cr_assert_eq(emitted("Segment Exited"), 1);
	clock_virtual_set(NOW + 62 * DAY);
	tick(NOW + 62 * DAY);
	cr_assert(member("at-risk", "b1"));
	cr_assert_eq(emitted("Segment Entered"), 2);
}

Test(seg_live, update_recomputes_and_check_refuses)
{
	identify("p1", "{\"plan\":\"pro\"}");
	save("s", "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}", 1);
	cr_assert(member("s", "p1"));
	save("s", "{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"free\"}", 0);
	cr_assert(!member("s", "p1"));
	cr_assert_eq(size_of("s"), 0);

	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *j = json_loads("{\"property\":\"revenue\",\"op\":\"gt\",\"value\":1}", 0, NULL);
	struct cond *c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_eq(seg_live_check(st, 1, c, "x", &e), CAIRN_EUNPROC);
	cr_assert_str_eq(e.field, "condition");
	cond_free(c);
	cairn_err_clear(&e);
	j = json_loads("{\"segment\":\"missing\"}", 0, NULL);
	c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_eq(seg_live_check(st, 1, c, "x", &e), CAIRN_EUNPROC);
	cond_free(c);

	json_t *sample = json_array();
	int64_t n = 0;
	j = json_loads("{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}", 0, NULL);
	c = cond_parse(j, &e);
	json_decref(j);
	cr_assert_eq(seg_live_preview(st, 1, c, clock_now_ms(), &n, sample, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(json_string_value(json_array_get(sample, 0)), "p1");
	cond_free(c);
	json_decref(sample);
}
