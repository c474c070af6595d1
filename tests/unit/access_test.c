/* access_test.c — members, login sessions and API keys in the store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_access.h"

static char dir[64];
static struct store *st;
static int64_t ws;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/cairn-access-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	struct cairn_err e = CAIRN_ERR_INIT;
	st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
	cr_assert_eq(store_workspace_create(st, "default", 1000, &ws, &e), 0);
	cr_assert_eq(store_member_put(st, ws, "Owner@Example.com", "$argon2id$x", "owner", 1000, &e), 0);
}

static void teardown(void)
{
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(access, .init = setup, .fini = teardown);

Test(access, members_are_found_by_email_in_any_case)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_member m;
	cr_assert_eq(store_member_find(st, "owner@example.com", &m, &e), 0);
	cr_assert_str_eq(m.role, "owner");
	cr_assert_str_eq(m.workspace, "default");
	int64_t id = m.member_id;
	store_member_release(&m);
	cr_assert_eq(store_member_get(st, id, &m, &e), 0);
	cr_assert_str_eq(m.email, "Owner@Example.com");
	store_member_release(&m);
	cr_assert_eq(store_member_find(st, "nobody@example.com", &m, &e), CAIRN_ENOTFOUND);
}

Test(access, sessions_live_until_they_expire_or_are_deleted)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	unsigned char h1[32], h2[32];
	memset(h1, 1, 32);
	memset(h2, 2, 32);
	cr_assert_eq(store_session_put(st, h1, ws, 7, "csrf-one", 1000, 5000, &e), 0);
	int64_t w, member;
	char csrf[64];
	cr_assert_eq(store_session_get(st, h1, 4999, &w, &member, csrf, &e), 0);
	cr_assert_eq(w, ws);
	cr_assert_eq(member, 7);
	cr_assert_str_eq(csrf, "csrf-one");
	cr_assert_eq(store_session_get(st, h1, 5000, &w, &member, csrf, &e), CAIRN_ENOTFOUND, "expired");
	cr_assert_eq(store_session_get(st, h2, 2000, &w, &member, csrf, &e), CAIRN_ENOTFOUND);
	/* a new login prunes expired sessions */
	cr_assert_eq(store_session_put(st, h2, ws, 7, "csrf-two", 6000, 9000, &e), 0);
	cr_assert_eq(store_session_put(st, h1, ws, 7, "csrf-three", 6000, 9000, &e), 0, "the expired row is gone");
	cr_assert_eq(store_session_delete(st, h1, &e), 0);
	cr_assert_eq(store_session_get(st, h1, 7000, &w, &member, csrf, &e), CAIRN_ENOTFOUND);
	cr_assert_eq(store_session_get(st, h2, 7000, &w, &member, csrf, &e), 0);
}

Test(access, keys_are_listed_created_and_revoked_but_never_the_last_of_a_kind)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	unsigned char a[32], b[32];
	memset(a, 0xa, 32);
	memset(b, 0xb, 32);
	int64_t ida, idb;
	cr_assert_eq(store_key_create(st, ws, STORE_KEY_SECRET, a, "sk_AAAA", 1000, &ida, &e), 0);
	cr_assert_eq(store_key_revoke(st, ws, ida, 2000, &e), CAIRN_ECONFLICT, "the only secret key");
	cr_assert_eq(store_key_create(st, ws, STORE_KEY_SECRET, b, "sk_BBBB", 1500, &idb, &e), 0);
	cr_assert_eq(store_key_revoke(st, ws, ida, 2000, &e), 0);
	cr_assert_eq(store_key_revoke(st, ws, ida, 2100, &e), 0, "revoking twice is fine");
	cr_assert_eq(store_key_revoke(st, ws, 4242, 2000, &e), CAIRN_ENOTFOUND);
	int64_t w;
	int kind;
	cr_assert_eq(store_key_lookup(st, a, &w, &kind, &e), CAIRN_ENOTFOUND);
	cr_assert_eq(store_key_lookup(st, b, &w, &kind, &e), 0);
	json_t *o = store_keys_json(st, ws, &e);
	cr_assert_not_null(o);
	json_t *d = json_object_get(o, "data");
	cr_assert_eq(json_array_size(d), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 0), "prefix")), "sk_BBBB");
	cr_assert(json_is_null(json_object_get(json_array_get(d, 0), "revoked_at")));
	cr_assert(json_is_string(json_object_get(json_array_get(d, 1), "revoked_at")));
	json_decref(o);
}
