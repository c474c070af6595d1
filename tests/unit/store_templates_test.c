/* store_templates_test.c — templates and versions in the store: create,
 * version bumps, optimistic concurrency, lists and their cursors, archive
 * and restore, survival across reopen, concurrent writers, migration from
 * the schema before templates, and the `user` object templates see. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_templates.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "/tmp/cairn-tpl-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store_templates, .init = mkdir_tmp, .fini = rm_tmp);

static struct store *open_ws(int64_t *ws)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
	if (store_workspace_find(st, "w", ws, &e) < 0) {
		cairn_err_clear(&e);
		cr_assert_eq(store_workspace_create(st, "w", 1, ws, &e), 0, "%s", e.message);
	}
	return st;
}

/* An email draft whose subject is `subject` (the body is owned by the
 * caller: json_decref(d.body)). */
static struct store_template_draft email(const char *id, const char *subject)
{
	return (struct store_template_draft){
		.id = id,
		.name = "Welcome",
		.channel = "email",
		.locale = "ko-KR",
		.body = json_pack("{s:s,s:s}", "subject", subject, "html",
				  "<p>{{ user.first_name }}님, 안녕하세요</p>"),
	};
}

static void create_ok(struct store *st, int64_t ws, const char *id, const char *channel, int64_t now)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template_draft d = email(id, "hi");
	d.channel = channel;
	struct store_template out;
	cr_assert_eq(store_template_create(st, ws, &d, 1, now, &out, &e), 0, "%s: %s", id, e.message);
	store_template_release(&out);
	json_decref(d.body);
}

Test(store_templates, create_then_get_latest)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template_draft d = email("welcome-1", "{{ user.first_name }}님, 환영합니다");
	struct store_template out, got;
	cr_assert_eq(store_template_create(st, ws, &d, 1, 1000, &out, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 1);
	cr_assert_eq(out.latest_version, 1);
	cr_assert_eq(out.created_at, 1000);
	cr_assert_eq(out.updated_at, 1000);
	cr_assert_eq(out.archived_at, 0);
	cr_assert_eq(store_template_get(st, ws, "welcome-1", 0, &got, &e), 0, "%s", e.message);
	cr_assert_str_eq(got.id, "welcome-1");
	cr_assert_str_eq(got.name, "Welcome");
	cr_assert_str_eq(got.channel, "email");
	cr_assert_str_eq(got.locale, "ko-KR");
	cr_assert(json_equal(got.body, d.body), "the body round-trips, Korean included");
	store_template_release(&got);
	store_template_release(&out);
	/* no locale is NULL, not "" */
	struct store_template_draft d2 = email("no-locale", "x");
	d2.locale = NULL;
	cr_assert_eq(store_template_create(st, ws, &d2, 1, 1000, &out, &e), 0);
	cr_assert_null(out.locale);
	store_template_release(&out);
	json_decref(d2.body);
	json_decref(d.body);
	store_close(st);
}

Test(store_templates, create_twice_conflicts_per_workspace)
{
	int64_t ws, ws2;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_workspace_create(st, "other", 1, &ws2, &e), 0);
	create_ok(st, ws, "welcome-1", "email", 1);
	struct store_template_draft d = email("welcome-1", "again");
	struct store_template out;
	cr_assert_eq(store_template_create(st, ws, &d, 1, 2, &out, &e), CAIRN_ECONFLICT);
	cr_assert_str_eq(e.slug, "template_exists");
	cr_assert_str_eq(e.field, "id");
	cr_assert_null(out.id, "out is empty on failure");
	/* the first version is untouched */
	struct store_template got;
	cairn_err_clear(&e);
	cr_assert_eq(store_template_get(st, ws, "welcome-1", 0, &got, &e), 0);
	cr_assert_eq(got.version, 1);
	cr_assert_str_eq(json_string_value(json_object_get(got.body, "subject")), "hi");
	store_template_release(&got);
	/* the same id in another workspace is another template */
	cr_assert_eq(store_template_create(st, ws2, &d, 1, 3, &out, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 1);
	store_template_release(&out);
	json_decref(d.body);
	store_close(st);
}

Test(store_templates, update_bumps_version_and_keeps_old_ones)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "welcome-1", "email", 100);
	struct store_template out;
	int created;
	for (int v = 2; v <= 4; v++) {
		char subject[32];
		snprintf(subject, sizeof subject, "subject %d", v);
		struct store_template_draft d = email("welcome-1", subject);
		cr_assert_eq(store_template_update(st, ws, &d, v - 1, 100 * v, &out, &created, &e), 0, "%s", e.message);
		cr_assert_eq(created, 1);
		cr_assert_eq(out.version, v);
		cr_assert_eq(out.updated_at, 100 * v);
		cr_assert_eq(out.created_at, 100, "created_at is the first version's");
		store_template_release(&out);
		json_decref(d.body);
	}
	/* every version is still there, as written */
	for (int v = 1; v <= 4; v++) {
		struct store_template got;
		cr_assert_eq(store_template_get(st, ws, "welcome-1", v, &got, &e), 0, "%s", e.message);
		cr_assert_eq(got.version, v);
		cr_assert_eq(got.latest_version, 4);
		cr_assert_eq(got.updated_at, 100 * v);
		char want[32];
		snprintf(want, sizeof want, "subject %d", v);
		cr_assert_str_eq(json_string_value(json_object_get(got.body, "subject")), v == 1 ? "hi" : want);
		store_template_release(&got);
	}
	struct store_template got;
	cr_assert_eq(store_template_get(st, ws, "welcome-1", 5, &got, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "version_not_found");
	store_close(st);
}

Test(store_templates, stale_version_conflicts_and_writes_nothing)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "t", "email", 1);
	struct store_template out;
	int created;
	struct store_template_draft a = email("t", "alice's edit"), b = email("t", "bob's edit");
	/* both loaded version 1; Alice saves first */
	cr_assert_eq(store_template_update(st, ws, &a, 1, 2, &out, &created, &e), 0);
	store_template_release(&out);
	cr_assert_eq(store_template_update(st, ws, &b, 1, 3, &out, &created, &e), CAIRN_ECONFLICT);
	cr_assert_str_eq(e.slug, "version_conflict");
	cr_assert_str_eq(e.field, "version");
	cr_assert(strstr(e.message, "version 2"), "the message names the latest version: %s", e.message);
	cr_assert_eq(created, 0);
	struct store_template_page p;
	cairn_err_clear(&e);
	cr_assert_eq(store_template_versions(st, ws, "t", 1, 50, NULL, &p, &e), 0);
	cr_assert_eq(p.n, 2, "Bob's stale save wrote nothing");
	cr_assert_str_eq(json_string_value(json_object_get(p.items[0].body, "subject")), "alice's edit");
	store_template_page_release(&p);
	/* Bob reloads version 2 and saves: version 3 */
	cr_assert_eq(store_template_update(st, ws, &b, 2, 4, &out, &created, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 3);
	store_template_release(&out);
	json_decref(a.body);
	json_decref(b.body);
	store_close(st);
}

Test(store_templates, identical_update_is_a_no_op_even_when_retried_late)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "t", "email", 1);
	struct store_template_draft d = email("t", "new");
	struct store_template out;
	int created;
	cr_assert_eq(store_template_update(st, ws, &d, 1, 2, &out, &created, &e), 0);
	cr_assert_eq(created, 1);
	store_template_release(&out);
	/* the response was lost; the client retries with the version it had */
	cr_assert_eq(store_template_update(st, ws, &d, 1, 3, &out, &created, &e), 0, "%s", e.message);
	cr_assert_eq(created, 0);
	cr_assert_eq(out.version, 2);
	cr_assert_eq(out.updated_at, 2);
	store_template_release(&out);
	/* key order does not make a body different */
	json_t *reordered = json_pack("{s:O,s:O}", "html", json_object_get(d.body, "html"), "subject",
				      json_object_get(d.body, "subject"));
	struct store_template_draft d2 = d;
	d2.body = reordered;
	cr_assert_eq(store_template_update(st, ws, &d2, 0, 4, &out, &created, &e), 0);
	cr_assert_eq(created, 0);
	store_template_release(&out);
	/* but a locale change is a change */
	d2.locale = "en";
	cr_assert_eq(store_template_update(st, ws, &d2, 0, 5, &out, &created, &e), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(out.version, 3);
	cr_assert_str_eq(out.locale, "en");
	store_template_release(&out);
	json_decref(reordered);
	json_decref(d.body);
	store_close(st);
}

Test(store_templates, update_of_unknown_template_is_not_found)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template_draft d = email("nope", "x");
	struct store_template out;
	int created;
	cr_assert_eq(store_template_update(st, ws, &d, 0, 1, &out, &created, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "template_not_found");
	cairn_err_clear(&e);
	cr_assert_eq(store_template_get(st, ws, "nope", 0, &out, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	struct store_template_page p;
	cr_assert_eq(store_template_versions(st, ws, "nope", 0, 10, NULL, &p, &e), CAIRN_ENOTFOUND);
	json_decref(d.body);
	store_close(st);
}

/* Follows next_cursor through every page of the list; returns the ids. */
static int list_all(struct store *st, int64_t ws, const char *channel, int archived, int limit, char ids[][16],
		    int *pages)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	char *cursor = NULL;
	int n = 0;
	*pages = 0;
	do {
		struct store_template_page p;
		cr_assert_eq(store_templates_list(st, ws, channel, archived, 0, limit, cursor, &p, &e), 0, "%s",
			     e.message);
		free(cursor);
		cursor = p.next_cursor ? strdup(p.next_cursor) : NULL;
		cr_assert_leq(p.n, (size_t)limit);
		for (size_t i = 0; i < p.n; i++) {
			cr_assert_null(p.items[i].body, "lists leave bodies out unless asked");
			snprintf(ids[n++], 16, "%s", p.items[i].id);
		}
		(*pages)++;
		store_template_page_release(&p);
	} while (cursor);
	return n;
}

Test(store_templates, list_pages_by_id_and_filters_by_channel)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	static const char *const ids[] = {"g", "b", "e", "a", "f", "c", "d"};
	for (int i = 0; i < 7; i++)
		create_ok(st, ws, ids[i], i % 2 ? "sms" : "email", i);
	char got[16][16];
	int pages;
	int n = list_all(st, ws, NULL, 0, 3, got, &pages);
	cr_assert_eq(n, 7);
	cr_assert_eq(pages, 3);
	for (int i = 0; i < 7; i++) {
		char want[2] = {(char)('a' + i), 0};
		cr_assert_str_eq(got[i], want, "in id order, each once");
	}
	/* an exact multiple of the page size ends without an empty page */
	n = list_all(st, ws, NULL, 0, 7, got, &pages);
	cr_assert_eq(n, 7);
	cr_assert_eq(pages, 1);
	n = list_all(st, ws, "sms", 0, 2, got, &pages);
	cr_assert_eq(n, 3, "b, a, c are sms");
	cr_assert_str_eq(got[0], "a");
	cr_assert_str_eq(got[2], "c");
	n = list_all(st, ws, "push", 0, 2, got, &pages);
	cr_assert_eq(n, 0);
	/* bodies when asked */
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template_page p;
	cr_assert_eq(store_templates_list(st, ws, NULL, 0, 1, 1, NULL, &p, &e), 0);
	cr_assert(json_is_object(p.items[0].body));
	store_template_page_release(&p);
	/* cursors this API did not make are refused */
	cr_assert_eq(store_templates_list(st, ws, NULL, 0, 0, 10, "garbage", &p, &e), CAIRN_EINVAL);
	cr_assert_str_eq(e.slug, "bad_cursor");
	cairn_err_clear(&e);
	cr_assert_eq(store_template_versions(st, ws, "a", 0, 10, "t:a", &p, &e), CAIRN_EINVAL);
	store_close(st);
}

Test(store_templates, versions_list_newest_first_in_pages)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "t", "email", 1);
	for (int v = 2; v <= 5; v++) {
		char s[16];
		snprintf(s, sizeof s, "v%d", v);
		struct store_template_draft d = email("t", s);
		struct store_template out;
		int created;
		cr_assert_eq(store_template_update(st, ws, &d, 0, v, &out, &created, &e), 0);
		store_template_release(&out);
		json_decref(d.body);
	}
	int64_t want = 5;
	char *cursor = NULL;
	int pages = 0;
	do {
		struct store_template_page p;
		cr_assert_eq(store_template_versions(st, ws, "t", 0, 2, cursor, &p, &e), 0, "%s", e.message);
		free(cursor);
		cursor = p.next_cursor ? strdup(p.next_cursor) : NULL;
		for (size_t i = 0; i < p.n; i++) {
			cr_assert_eq(p.items[i].version, want--);
			cr_assert_eq(p.items[i].latest_version, 5);
		}
		pages++;
		store_template_page_release(&p);
	} while (cursor);
	cr_assert_eq(want, 0, "all five versions, each once");
	cr_assert_eq(pages, 3);
	store_close(st);
}

Test(store_templates, archive_hides_keeps_history_and_restores)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "t", "email", 1);
	create_ok(st, ws, "u", "email", 1);
	struct store_template out;
	cr_assert_eq(store_template_archive(st, ws, "t", 50, &out, &e), 0, "%s", e.message);
	cr_assert_eq(out.archived_at, 50);
	store_template_release(&out);
	cr_assert_eq(store_template_get(st, ws, "t", 0, &out, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "template_archived");
	cairn_err_clear(&e);
	cr_assert_eq(store_template_get(st, ws, "t", 1, &out, &e), 0, "a version stays readable");
	cr_assert_eq(out.archived_at, 50);
	store_template_release(&out);
	char got[8][16];
	int pages;
	cr_assert_eq(list_all(st, ws, NULL, 0, 10, got, &pages), 1);
	cr_assert_str_eq(got[0], "u");
	cr_assert_eq(list_all(st, ws, NULL, 1, 10, got, &pages), 1);
	cr_assert_str_eq(got[0], "t");
	/* archived twice: not found; updating an archived one: not found */
	cr_assert_eq(store_template_archive(st, ws, "t", 60, &out, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	struct store_template_draft d = email("t", "back");
	int created;
	cr_assert_eq(store_template_update(st, ws, &d, 0, 70, &out, &created, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	/* a create that must not restore (a generated id) conflicts */
	cr_assert_eq(store_template_create(st, ws, &d, 0, 80, &out, &e), CAIRN_ECONFLICT);
	cairn_err_clear(&e);
	/* creating it again restores it as the next version */
	cr_assert_eq(store_template_create(st, ws, &d, 1, 90, &out, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 2);
	cr_assert_eq(out.archived_at, 0);
	cr_assert_eq(out.created_at, 1, "the template keeps its history");
	store_template_release(&out);
	cr_assert_eq(list_all(st, ws, NULL, 0, 10, got, &pages), 2);
	json_decref(d.body);
	store_close(st);
}

Test(store_templates, everything_survives_reopen)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	create_ok(st, ws, "welcome-1", "email", 10);
	struct store_template_draft d = email("welcome-1", "두 번째");
	struct store_template out;
	int created;
	cr_assert_eq(store_template_update(st, ws, &d, 1, 20, &out, &created, &e), 0);
	store_template_release(&out);
	create_ok(st, ws, "gone", "sms", 30);
	cr_assert_eq(store_template_archive(st, ws, "gone", 40, &out, &e), 0);
	store_template_release(&out);
	store_close(st);

	st = open_ws(&ws);
	cr_assert_eq(store_template_get(st, ws, "welcome-1", 0, &out, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 2);
	cr_assert(json_equal(out.body, d.body));
	cr_assert_eq(out.created_at, 10);
	cr_assert_eq(out.updated_at, 20);
	store_template_release(&out);
	cr_assert_eq(store_template_get(st, ws, "welcome-1", 1, &out, &e), 0);
	cr_assert_str_eq(json_string_value(json_object_get(out.body, "subject")), "hi");
	store_template_release(&out);
	cr_assert_eq(store_template_get(st, ws, "gone", 0, &out, &e), CAIRN_ENOTFOUND, "still archived");
	/* and the numbering continues */
	cairn_err_clear(&e);
	struct store_template_draft d3 = email("welcome-1", "세 번째");
	cr_assert_eq(store_template_update(st, ws, &d3, 2, 50, &out, &created, &e), 0, "%s", e.message);
	cr_assert_eq(out.version, 3);
	store_template_release(&out);
	json_decref(d3.body);
	json_decref(d.body);
	store_close(st);
}

struct writer_arg {
	struct store *st;
	int64_t ws;
	int thread;
	int failures;
};

#define WRITERS 4
#define WRITES	10

/* Saves WRITES different bodies without a version: each must become its
 * own version, whatever the other threads do at the same time. */
static void *writer(void *p)
{
	struct writer_arg *w = p;
	for (int i = 0; i < WRITES; i++) {
		char s[32];
		snprintf(s, sizeof s, "thread %d write %d", w->thread, i);
		struct store_template_draft d = email("shared", s);
		struct store_template out;
		struct cairn_err e = CAIRN_ERR_INIT;
		int created;
		if (store_template_update(w->st, w->ws, &d, 0, i, &out, &created, &e) < 0 || !created)
			w->failures++;
		store_template_release(&out);
		json_decref(d.body);
	}
	return NULL;
}

Test(store_templates, concurrent_saves_get_dense_distinct_versions)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	create_ok(st, ws, "shared", "email", 0);
	pthread_t th[WRITERS];
	struct writer_arg args[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		args[i] = (struct writer_arg){st, ws, i, 0};
		pthread_create(&th[i], NULL, writer, &args[i]);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(args[i].failures, 0);
	}
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template_page p;
	cr_assert_eq(store_template_versions(st, ws, "shared", 1, 1000, NULL, &p, &e), 0);
	cr_assert_eq(p.n, 1 + WRITERS * WRITES);
	for (size_t i = 0; i < p.n; i++)
		cr_assert_eq(p.items[i].version, (int64_t)(p.n - i), "versions are 1..N with no gap or repeat");
	store_template_page_release(&p);
	store_close(st);
}

Test(store_templates, migrates_a_store_made_before_templates)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open_at(dir, 2, -1, &e);
	cr_assert_not_null(st, "%s", e.message);
	int64_t ws;
	cr_assert_eq(store_workspace_create(st, "w", 1, &ws, &e), 0);
	store_close(st);
	st = open_ws(&ws);
	create_ok(st, ws, "after-upgrade", "slack", 1);
	store_close(st);
}

Test(store_templates, user_object_has_traits_id_tags_and_computed)
{
	int64_t ws, pid;
	struct store *st = open_ws(&ws);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_profile_create(st, ws, "u-1", 10, &pid, &e), 0);
	cr_assert_eq(store_identity_link(st, ws, STORE_ID_USER, "u-1", pid, 10, &e), 0);
	cr_assert_eq(store_identity_link(st, ws, STORE_ID_ANON, "anon-9", pid, 10, &e), 0);
	cr_assert_eq(store_tag_add(st, ws, pid, "vip", 10, &e), 0);
	struct store_profile p;
	cr_assert_eq(store_profile_get(st, pid, &p, &e), 0);
	json_decref(p.traits);
	p.traits = json_pack("{s:s,s:s,s:s,s:s}", "first_name", "민수", "email", "minsu@example.com", "id", "a trait",
			     "tags", "a trait");
	cr_assert_eq(store_profile_put(st, &p, &e), 0, "%s", e.message);
	store_profile_release(&p);
	cr_assert_eq(store_commit(st, &e), 0);

	json_t *u = store_template_user(st, ws, "u-1", &e);
	cr_assert_not_null(u, "%s", e.message);
	cr_assert_str_eq(json_string_value(json_object_get(u, "first_name")), "민수");
	cr_assert_str_eq(json_string_value(json_object_get(u, "email")), "minsu@example.com");
	cr_assert_str_eq(json_string_value(json_object_get(u, "id")), "u-1", "the user id wins over a trait 'id'");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(u, "tags"), 0)), "vip");
	cr_assert_str_eq(json_string_value(json_object_get(u, "anonymous_id")), "anon-9");
	cr_assert(json_is_object(json_object_get(u, "computed")));
	json_decref(u);
	/* the anonymous id finds the same person */
	u = store_template_user(st, ws, "anon-9", &e);
	cr_assert_not_null(u);
	cr_assert_str_eq(json_string_value(json_object_get(u, "id")), "u-1");
	json_decref(u);
	cr_assert_null(store_template_user(st, ws, "nobody", &e));
	cr_assert_eq(e.code, CAIRN_ENOTFOUND);
	char *name = store_template_workspace_name(st, ws);
	cr_assert_str_eq(name, "w");
	free(name);
	store_close(st);
}
