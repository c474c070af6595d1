/* store_test.c — migrations, the event log, identity and profile storage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_segment.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "/tmp/cairn-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = mkdir_tmp, .fini = rm_tmp);

Test(store, migrates_from_empty_to_latest)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
	int sv, ev, ls, le;
	store_schema_versions(st, &sv, &ev);
	store_schema_latest(&ls, &le);
	cr_assert_eq(sv, ls);
	cr_assert_eq(ev, le);
	store_close(st);
	/* opening again is a no-op */
	st = store_open(dir, &e);
	cr_assert_not_null(st);
	store_close(st);
}

Test(store, migrates_from_every_earlier_version_keeping_data)
{
	int ls, le;
	store_schema_latest(&ls, &le);
	for (int v = 1; v <= ls; v++) {
		char sub[128];
		snprintf(sub, sizeof sub, "%s/v%d", dir, v);
		struct cairn_err e = CAIRN_ERR_INIT;
		struct store *st = store_open_at(sub, v, v < le ? v : le, &e);
		cr_assert_not_null(st, "%s", e.message);
		int64_t ws;
		cr_assert_eq(store_workspace_create(st, "old", 1, &ws, &e), 0, "%s", e.message);
		store_close(st);
		st = store_open(sub, &e);
		cr_assert_not_null(st, "v%d: %s", v, e.message);
		int sv, ev;
		store_schema_versions(st, &sv, &ev);
		cr_assert_eq(sv, ls, "from v%d", v);
		int64_t found;
		cr_assert_eq(store_workspace_find(st, "old", &found, &e), 0, "data survives migration from v%d", v);
		cr_assert_eq(found, ws);
		/* every statement of the latest schema works on the migrated store */
		int64_t pid;
		cr_assert_eq(store_begin(st, &e), 0);
		cr_assert_eq(store_profile_create(st, ws, "u", 1, &pid, &e), 0, "%s", e.message);
		struct store_profile p;
		cr_assert_eq(store_profile_get(st, pid, &p, &e), 0);
		cr_assert_eq(store_profile_put(st, &p, &e), 0, "%s", e.message);
		store_profile_release(&p);
		/* and those of the aggregates, registered counters included (9) */
		int64_t ctr, found_ctr = 0, n = -1;
		cr_assert_eq(store_seg_counter_insert(st, ws, "E", "", "qty", 1, &ctr, &e), 0, "v%d: %s", v, e.message);
		cr_assert_eq(store_seg_counter_insert(st, ws, "E", "", "qty", 1, &ctr, &e), CAIRN_ECONFLICT);
		cairn_err_clear(&e);
		cr_assert_eq(store_seg_counter_add(st, ws, pid, ctr, 5, 2.5, &e), 0, "%s", e.message);
		cr_assert_eq(store_seg_apply(st, ws, pid, "E", 5, 0, STORE_SEG_STREAK_INC, &e), 0, "%s", e.message);
		cr_assert_eq(store_seg_merge(st, ws, pid, pid + 1, &e), 0, "%s", e.message);
		cr_assert_eq(store_seg_counter_find(st, ws, "E", "", NULL, &found_ctr, &e), 0);
		cr_assert_eq(found_ctr, ctr);
		cr_assert_eq(store_seg_count(st, ws, pid + 1, "E", 0, 10, &n, NULL, &e), 0);
		cr_assert_eq(n, 1);
		cr_assert_eq(store_commit(st, &e), 0);
		store_close(st);
	}
}

static struct store_event ev(const char *mid, const char *uid, int64_t ts)
{
	static const char body[] = "{\"type\":\"track\"}";
	return (struct store_event){.workspace_id = 1,
				    .type = "track",
				    .name = "E",
				    .message_id = mid,
				    .user_id = uid,
				    .ts = ts,
				    .received_at = ts,
				    .body = body,
				    .body_len = sizeof body - 1};
}

struct count {
	int n;
	int64_t last;
};

static int count_fn(const struct store_event *e, void *arg)
{
	struct count *c = arg;
	c->n++;
	cr_assert_gt(e->id, c->last, "ids grow");
	c->last = e->id;
	return 0;
}

Test(store, log_is_idempotent_on_message_id)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	struct store_event evs[4] = {ev("m1", "u", 1), ev("m2", "u", 2), ev("m1", "u", 3), ev("m3", "u", 4)};
	unsigned char dup[4];
	cr_assert_eq(store_log_append(st, evs, 4, dup, &e), 0, "%s", e.message);
	cr_assert_eq(dup[0], 0);
	cr_assert_eq(dup[2], 1, "a repeat within one batch is a duplicate");
	struct store_event again[2] = {ev("m2", "u", 5), ev("m4", "u", 6)};
	cr_assert_eq(store_log_append(st, again, 2, dup, &e), 0);
	cr_assert_eq(dup[0], 1);
	cr_assert_eq(dup[1], 0);
	/* the same messageId in another workspace is another message */
	struct store_event other = ev("m1", "u", 7);
	other.workspace_id = 2;
	cr_assert_eq(store_log_append(st, &other, 1, dup, &e), 0);
	cr_assert_eq(dup[0], 0);
	struct count c = {0, 0};
	cr_assert_eq(store_log_scan(st, 0, 100, count_fn, &c, &e), 0);
	cr_assert_eq(c.n, 5);
	cr_assert_eq(store_log_head(st), c.last);
	store_close(st);
}

Test(store, failed_batch_leaves_nothing)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	struct store_event evs[3] = {ev("a", "u", 1), ev("b", "u", 2), ev("c", "u", 3)};
	evs[2].type = NULL; /* violates NOT NULL: the third insert fails */
	unsigned char dup[3];
	cr_assert_lt(store_log_append(st, evs, 3, dup, &e), 0);
	cr_assert_str_eq(e.slug, "storage_error");
	cr_assert_eq(store_log_head(st), 0, "nothing of the batch is stored");
	/* and the idempotency index did not keep "a" either */
	cairn_err_clear(&e);
	struct store_event retry = ev("a", "u", 1);
	cr_assert_eq(store_log_append(st, &retry, 1, dup, &e), 0);
	cr_assert_eq(dup[0], 0);
	store_close(st);
}

Test(store, identities_profiles_and_merge)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	int64_t ws, a, b, found;
	cr_assert_eq(store_workspace_create(st, "w", 1, &ws, &e), 0);
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_profile_create(st, ws, NULL, 10, &a, &e), 0);
	cr_assert_eq(store_identity_link(st, ws, STORE_ID_ANON, "anon-1", a, 10, &e), 0);
	cr_assert_eq(store_tag_add(st, ws, a, "vip", 10, &e), 0);
	cr_assert_eq(store_profile_create(st, ws, "user-1", 20, &b, &e), 0);
	cr_assert_eq(store_identity_link(st, ws, STORE_ID_USER, "user-1", b, 20, &e), 0);
	cr_assert_eq(store_profile_merge(st, ws, a, b, &e), 0, "%s", e.message);
	cr_assert_eq(store_commit(st, &e), 0);
	cr_assert_eq(store_identity_find(st, ws, STORE_ID_ANON, "anon-1", &found), 0);
	cr_assert_eq(found, b);
	json_t *p = store_profile_json(st, ws, "anon-1", &e);
	cr_assert_not_null(p, "%s", e.message);
	cr_assert_str_eq(json_string_value(json_object_get(p, "id")), "user-1");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "tags"), 0)), "vip");
	json_decref(p);
	struct store_profile gone;
	cr_assert_eq(store_profile_get(st, a, &gone, &e), CAIRN_ENOTFOUND);
	store_close(st);
}

Test(store, unknown_key_and_workspace)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	unsigned char h[32] = {1};
	int64_t ws;
	int kind;
	cr_assert_eq(store_key_lookup(st, h, &ws, &kind, &e), CAIRN_ENOTFOUND);
	cr_assert_eq(store_workspace_find(st, "nope", &ws, &e), CAIRN_ENOTFOUND);
	cr_assert_eq(store_workspace_create(st, "w", 1, &ws, &e), 0);
	cr_assert_eq(store_key_add(st, ws, STORE_KEY_WRITE, h, "wk_", 1, 1, &e), 0);
	cr_assert_eq(store_key_lookup(st, h, &ws, &kind, &e), 0);
	cr_assert_eq(kind, STORE_KEY_WRITE);
	unsigned char h2[32] = {2};
	cr_assert_eq(store_key_add(st, ws, STORE_KEY_WRITE, h2, "wk_", 1, 2, &e), 0);
	cr_assert_eq(store_key_lookup(st, h, &ws, &kind, &e), CAIRN_ENOTFOUND, "rotation revokes the old key");
	cairn_err_clear(&e);
	cr_assert_eq(store_workspace_create(st, "w", 1, &ws, &e), CAIRN_ECONFLICT);
	store_close(st);
}

Test(store, dedup_survives_indexing_pruning_and_reopen)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	struct store_event a = ev("m-a", "u", 1), b = ev("m-b", "u", 2);
	unsigned char dup[1];
	cr_assert_eq(store_log_append(st, &a, 1, dup, &e), 0);
	cr_assert_eq(store_log_index(st, &e), 0, "%s", e.message);
	cr_assert_eq(store_log_index(st, &e), 0, "a second round prunes the in-memory keys");
	struct store_event again = ev("m-a", "u", 3);
	cr_assert_eq(store_log_append(st, &again, 1, dup, &e), 0);
	cr_assert_eq(dup[0], 1, "found in the on-disk index");
	cr_assert_eq(store_log_append(st, &b, 1, dup, &e), 0);
	cr_assert_eq(dup[0], 0);
	store_close(st); /* indexes what is left */
	st = store_open(dir, &e);
	struct store_event b2 = ev("m-b", "u", 4);
	cr_assert_eq(store_log_append(st, &b2, 1, dup, &e), 0);
	cr_assert_eq(dup[0], 1, "after a restart");
	store_close(st);
}
