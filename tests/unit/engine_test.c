/* engine_test.c — the engine's outbox: emitted events reach the log once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"

static char dir[64];
static struct store *st;

static void open_store(void)
{
	log_set_level(LOG_WARN);
	snprintf(dir, sizeof dir, "/tmp/cairn-engine-XXXXXX");
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

TestSuite(engine, .init = open_store, .fini = close_store);

static void send(const char *body)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(ingest_parse(INGEST_TRACK, body, strlen(body), 1000, &b, &e), 0, "%s", e.message);
	struct store_event ev;
	unsigned char dup;
	ingest_batch_events(&b, 1, 16, 1000, &ev);
	cr_assert_eq(store_log_append(st, &ev, 1, &dup, &e), 0);
	ingest_batch_release(&b);
	cr_assert_eq(engine_catch_up(st, &e), 0, "%s", e.message);
}

static int count_named(const struct store_event *ev, void *arg)
{
	if (ev->name && !strcmp(ev->name, "Segment Entered"))
		(*(int *)arg)++;
	return 0;
}

static int emitted(void)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int n = 0;
	cr_assert_eq(store_log_scan(st, 0, 1000, count_named, &n, &e), 0);
	return n;
}

static void emit(const char *key)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	cr_assert_eq(store_profile_resolve(st, 1, "u1", &pid, &e), 0);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(engine_emit(st, 1, pid, "Segment Entered", json_pack("{s:s}", "segment_id", "vip"), key, 5000, &e),
		     0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
}

Test(engine, emitted_events_reach_the_log_exactly_once)
{
	send("{\"userId\":\"u1\",\"event\":\"Order Completed\"}");
	emit("seg-enter:vip:u1:1");
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(engine_forward(st, &e), 0, "%s", e.message);
	cr_assert_eq(emitted(), 1);
	cr_assert_eq(engine_forward(st, &e), 0);
	cr_assert_eq(emitted(), 1, "the outbox was emptied");
	emit("seg-enter:vip:u1:1"); /* the same occurrence again (a replayed step) */
	cr_assert_eq(engine_forward(st, &e), 0);
	cr_assert_eq(emitted(), 1, "the log drops the repeat");
	emit("seg-enter:vip:u1:2");
	cr_assert_eq(engine_catch_up(st, &e), 0);
	cr_assert_eq(engine_forward(st, &e), 0);
	cr_assert_eq(emitted(), 2);
	/* the emitted event is applied like any other: it is on the timeline */
	int64_t pid;
	char *cursor = NULL;
	cr_assert_eq(store_profile_resolve(st, 1, "u1", &pid, &e), 0);
	cr_assert_eq(engine_catch_up(st, &e), 0);
	json_t *tl = store_timeline_json(st, 1, pid, 10, NULL, &cursor, &e);
	int seen = 0;
	size_t i;
	json_t *ev;
	json_array_foreach (tl, i, ev) {
		const char *name = json_string_value(json_object_get(ev, "event"));
		if (name && !strcmp(name, "Segment Entered")) {
			seen++;
			cr_assert_str_eq(json_string_value(json_object_get(ev, "userId")), "u1");
			cr_assert_str_eq(
				json_string_value(json_object_get(json_object_get(ev, "properties"), "segment_id")),
				"vip");
		}
	}
	cr_assert_eq(seen, 2);
	json_decref(tl);
	free(cursor);
}
