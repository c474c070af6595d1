/* seg_index_test.c — the in-memory segment index (src/segment/seg_index.c,
 * src/cond/cond_set.c): a preview through the index equals a per-user
 * evaluation of every user, before and after the data change (refresh from
 * commits), for every kind of leaf it answers and a few it leaves to
 * per-user decisions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "segment/seg_index.h"
#include "segment/seg_live.h"
#include "segment/segment.h"
#include "store/store_segment.h"

#include "fixture.h"

#define DAY   STORE_SEG_DAY_MS
#define USERS 120
static const int64_t NOW = 1772413200000; /* 2026-03-02T01:00:00Z */

static char dir[64];
static struct store *st;
static struct seg_index *ix;

static void open_store(void)
{
	st = fixture_open(dir, sizeof dir, "segx", NOW);
	ix = seg_index_attach(st);
}

static void close_store(void)
{
	seg_index_detach(ix);
	fixture_close(st, dir);
}

TestSuite(seg_index, .init = open_store, .fini = close_store);

static void send(enum ingest_kind k, const char *body)
{
	fixture_append(st, k, body);
}

static void catch_up(void)
{
	fixture_catch_up(st, 3);
}

static void track_at(int u, const char *event, int64_t ts, double revenue)
{
	char t[CLOCK_RFC3339_LEN], body[512];
	clock_format_rfc3339(ts, t);
	snprintf(body, sizeof body,
		 "{\"userId\":\"u%d\",\"event\":\"%s\",\"timestamp\":\"%s\",\"properties\":{\"revenue\":%g}}", u, event,
		 t, revenue);
	send(INGEST_TRACK, body);
}

static void identify(int u, const char *traits)
{
	char body[512];
	snprintf(body, sizeof body, "{\"userId\":\"u%d\",\"traits\":%s}", u, traits);
	send(INGEST_IDENTIFY, body);
}

static void tag(int u, const char *t, int add)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	char id[16];
	snprintf(id, sizeof id, "u%d", u);
	cr_assert_eq(store_profile_resolve(st, 1, id, &pid, &e), 0, "%s", e.message);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(add ? store_tag_add(st, 1, pid, t, NOW, &e) : store_tag_remove(st, 1, pid, t, &e), 0, "%s",
		     e.message);
	cr_assert_eq(store_commit(st, &e), 0);
}

/* A deterministic population: traits, tags, and events placed around the
 * 30-day window's edge (NOW − 30 days is 01:00 of its day, so a bucket of
 * that day with events at 00:30 and 02:00 is cut by the window). */
static void populate(void)
{
	for (int u = 0; u < USERS; u++) {
		char traits[256];
		snprintf(traits, sizeof traits, "{\"plan\":\"%s\",\"age\":%d,\"address\":{\"city\":\"%s\"}%s}",
			 u % 3 == 0 ? "pro" : "free", 18 + u % 50, u % 2 ? "Seoul" : "Busan",
			 u % 7 == 0 ? ",\"vip_since\":\"2026-02-20T00:00:00Z\"" : "");
		identify(u, traits);
		for (int k = 0; k < u % 6; k++)
			track_at(u, "Product Viewed", NOW - (int64_t)(k * 3 + 1) * DAY, 0);
		if (u % 5 == 0) {
			int64_t edge = NOW - 30 * DAY; /* 01:00 of that day */
			track_at(u, "Product Viewed", edge - 1800000, 0);
			track_at(u, "Product Viewed", edge + 3600000, 0);
		}
		if (u % 4 == 1)
			track_at(u, "Order Completed", NOW - (int64_t)(u % 40) * DAY, 10.5 * (u % 9));
	}
	catch_up();
	for (int u = 0; u < USERS; u += 4)
		tag(u, "vip", 1);
}

static const char *const conditions[] = {
	"{\"tag\":\"vip\"}",
	"{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}",
	"{\"trait\":\"age\",\"op\":\"between\",\"value\":[20,30]}",
	"{\"trait\":\"address.city\",\"op\":\"eq\",\"value\":\"Seoul\"}",
	"{\"trait\":\"vip_since\",\"op\":\"not_exists\"}",
	"{\"trait\":\"vip_since\",\"op\":\"within_last\",\"value\":{\"days\":14}}",
	"{\"event\":\"Product Viewed\"}",
	"{\"event\":\"Product Viewed\",\"count\":{\"op\":\"gte\",\"value\":3},\"within\":{\"days\":30}}",
	"{\"event\":\"Product Viewed\",\"count\":{\"op\":\"eq\",\"value\":0},\"within\":{\"days\":7}}",
	"{\"event\":\"Product Viewed\",\"count\":{\"op\":\"lt\",\"value\":2},\"within\":{\"days\":30}}",
	"{\"event\":\"Order Completed\",\"sum\":{\"property\":\"revenue\",\"op\":\"gt\",\"value\":40}}",
	"{\"event\":\"Order Completed\",\"where\":{\"property\":\"revenue\",\"op\":\"gt\",\"value\":20}}",
	"{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"event\":\"Product "
	"Viewed\",\"count\":{\"op\":\"gte\",\"value\":3},\"within\":{\"days\":30}},{\"tag\":\"vip\"}]}",
	"{\"any\":[{\"tag\":\"vip\"},{\"not\":{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"free\"}}]}",
	"{\"not\":{\"event\":\"Product Viewed\",\"within\":{\"days\":30}}}",
	"{\"all\":[{\"consent\":{\"channel\":\"email\",\"is\":\"unknown\"}},{\"tag\":\"vip\"}]}",
	"{\"computed\":\"order_count\",\"op\":\"gte\",\"value\":1}",
	"{\"not\":{\"any\":[{\"tag\":\"nobody\"},{\"trait\":\"age\",\"op\":\"gt\",\"value\":60}]}}",
};

/* The count of a per-user evaluation of every user. */
static int64_t truth(const struct cond *c)
{
	int64_t n = 0;
	for (int u = 0; u < USERS + 10; u++) {
		char id[16];
		snprintf(id, sizeof id, "u%d", u);
		int yes = 0;
		struct cairn_err e = CAIRN_ERR_INIT;
		int rc = seg_eval_user(st, 1, id, c, &yes, &e);
		if (rc == CAIRN_ENOTFOUND)
			continue;
		cr_assert_eq(rc, 0, "%s: %s", id, e.message);
		n += yes;
	}
	return n;
}

static void check_all(const char *when)
{
	for (size_t i = 0; i < sizeof conditions / sizeof conditions[0]; i++) {
		json_error_t je;
		json_t *j = json_loads(conditions[i], 0, &je);
		cr_assert_not_null(j, "%s", je.text);
		struct cairn_err e = CAIRN_ERR_INIT;
		struct cond *c = cond_parse(j, &e);
		json_decref(j);
		cr_assert_not_null(c, "%s: %s", conditions[i], e.message);
		int64_t count = -1;
		json_t *sample = json_array();
		cr_assert_eq(seg_live_preview(st, 1, c, clock_now_ms(), &count, sample, &e), 0, "%s", e.message);
		int64_t want = truth(c);
		cr_assert_eq(count, want, "%s %s: index %lld, per user %lld", when, conditions[i], (long long)count,
			     (long long)want);
		cr_assert_eq((int64_t)json_array_size(sample), want < SEG_LIVE_SAMPLE ? want : SEG_LIVE_SAMPLE);
		json_decref(sample);
		cond_free(c);
	}
}

Test(seg_index, preview_equals_per_user_evaluation)
{
	populate();
	check_all("initial");
}

Test(seg_index, changes_after_the_columns_were_built_are_seen)
{
	populate();
	check_all("initial");
	/* traits, tags, new events, new users, time passing */
	for (int u = 0; u < USERS; u += 3)
		identify(u, "{\"plan\":\"free\",\"address\":{\"city\":\"Seoul\"}}");
	for (int u = 1; u < USERS; u += 5)
		track_at(u, "Product Viewed", NOW - DAY / 2, 0);
	for (int u = USERS; u < USERS + 10; u++) {
		identify(u, "{\"plan\":\"pro\",\"age\":25}");
		for (int k = 0; k < 4; k++)
			track_at(u, "Product Viewed", NOW - (int64_t)k * DAY - 1000, 0);
	}
	catch_up();
	for (int u = 0; u < USERS; u += 8)
		tag(u, "vip", 0);
	for (int u = USERS; u < USERS + 10; u += 2)
		tag(u, "vip", 1);
	check_all("after changes");
	clock_virtual_set(NOW + 9 * DAY);
	check_all("nine days later");
}

Test(seg_index, anything_changed_drops_and_rebuilds)
{
	populate();
	check_all("initial");
	struct cairn_err e = CAIRN_ERR_INIT;
	/* a change the index is told nothing precise about */
	cr_assert_eq(store_begin(st, &e), 0);
	store_touch_all(st);
	cr_assert_eq(store_commit(st, &e), 0);
	for (int u = 0; u < USERS; u += 2)
		tag(u, "vip", 1);
	check_all("after a full invalidation");
}
