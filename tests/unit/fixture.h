/* fixture.h — the store every engine-level unit test starts from: a fresh
 * data directory under /tmp with the workspace "default" (id 1), on the
 * virtual clock at `now`. Criterion asserts; header-only so each test file
 * stays one translation unit. */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "store/store.h"

/* Opens a fresh store in dir (64 bytes, filled here) named after tag. */
static inline struct store *fixture_open(char *dir, size_t cap, const char *tag, int64_t now)
{
	log_set_level(LOG_WARN);
	clock_virtual_start(now);
	snprintf(dir, cap, "/tmp/cairn-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(dir));
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
	int64_t ws;
	if (store_workspace_find(st, "default", &ws, &e) < 0) {
		cairn_err_clear(&e);
		cr_assert_eq(store_workspace_create(st, "default", now, &ws, &e), 0, "%s", e.message);
	}
	return st;
}

/* Closes the store and removes its directory. */
static inline void fixture_close(struct store *st, const char *dir)
{
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* Appends one Tracking API request of kind (at most 4 messages) to the log
 * of workspace 1, as the writer would; the engine has not applied it yet. */
static inline void fixture_append(struct store *st, enum ingest_kind k, const char *body)
{
	struct ingest_batch b;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(ingest_parse(k, body, strlen(body), clock_now_ms(), &b, &e), 0, "%s: %s", body, e.message);
	struct store_event evs[4];
	unsigned char dup[4];
	ingest_batch_events(&b, 1, 16, clock_now_ms(), evs);
	cr_assert_eq(store_log_append(st, evs, b.n, dup, &e), 0);
	ingest_batch_release(&b);
}

/* Applies the log, then what the engine emitted, `rounds` times over (an
 * emitted event can cause another). */
static inline void fixture_catch_up(struct store *st, int rounds)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	for (int i = 0; i < rounds; i++) {
		cr_assert_eq(engine_catch_up(st, &e), 0, "%s", e.message);
		cr_assert_eq(engine_forward(st, &e), 0, "%s", e.message);
	}
}

#endif
