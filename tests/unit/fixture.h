/* fixture.h — the store every engine-level unit test starts from: a fresh
 * data directory under /tmp with the workspace "default" (id 1), on the
 * virtual clock at `now`. Criterion asserts; header-only so each test file
 * stays one translation unit. */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/log.h"
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

#endif
