/* deliver_test.c — the outbox and what delivery keeps (store/store_deliver),
 * provider configurations (deliver/provider) and sealed secrets
 * (deliver/secret).
 *
 * store_deliver: every edge of the message state machine drawn in
 * store_deliver.h (claim order and due times, record losing to a reclaim,
 * replay, release of kill-switch holds), the history as the API shows it,
 * the pending count, and the provider, domain and suppression tables.
 * provider: each validation error names its field; secrets are sealed,
 * kept over a PATCH, never shown; replies classify by status patterns.
 * secret: where the key comes from, and that a blob opens only under its
 * own key, undamaged.
 *
 * dlv_secret_init sets process-global state: every suite that seals saves
 * CAIRN_SECRET_KEY, sets its own, and restores it (and re-initialises) in
 * its fini. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/jsonx.h"
#include "deliver/provider.h"
#include "deliver/secret.h"
#include "deliver/wire.h"
#include "fixture.h"
#include "store/store_deliver.h"

#define T0  1767225600000LL /* 2026-01-01T00:00:00Z */
#define WS  1
#define SEC 1000LL
#define HR  3600000LL

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100"

/* ---- CAIRN_SECRET_KEY saved and restored around a test -------------------- */

static char *saved_key;
static int had_key;
static char secret_dir[64];

static void key_save(void)
{
	const char *v = getenv("CAIRN_SECRET_KEY");
	had_key = v != NULL;
	saved_key = v ? strdup(v) : NULL;
	snprintf(secret_dir, sizeof secret_dir, "/tmp/cairn-secret-XXXXXX");
	cr_assert_not_null(mkdtemp(secret_dir));
}

/* Restores the variable as it was and initialises again from it (or from
 * the test's own directory, which then goes). */
static void key_restore(void)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	if (had_key) {
		setenv("CAIRN_SECRET_KEY", saved_key, 1);
		cr_assert_eq(dlv_secret_init(NULL, &e), 0, "%s", e.message);
	} else {
		unsetenv("CAIRN_SECRET_KEY");
		cr_assert_eq(dlv_secret_init(secret_dir, &e), 0, "%s", e.message);
	}
	free(saved_key);
	saved_key = NULL;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", secret_dir);
	cr_assert_eq(system(cmd), 0);
}

static void key_use(const char *value)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(setenv("CAIRN_SECRET_KEY", value, 1), 0);
	cr_assert_eq(dlv_secret_init(secret_dir, &e), 0, "%s", e.message);
	cr_assert(dlv_secret_ready());
}

/* ==== store_deliver ========================================================= */

static struct store *st;
static char dir[64];
static int64_t ws2;

static void store_setup(void)
{
	st = fixture_open(dir, sizeof dir, "dlv", T0);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_workspace_create(st, "other", T0, &ws2, &e), 0, "%s", e.message);
	cr_assert_neq(ws2, WS);
}

static void store_teardown(void)
{
	fixture_close(st, dir);
}

TestSuite(store_deliver, .init = store_setup, .fini = store_teardown);

/* Queues one message as a journey step would. */
static void msg_put(const char *id, int64_t ws, const char *channel, int transactional, const char *status,
		    int64_t created, int64_t send_at)
{
	struct store_message m = {
		.message_id = id,
		.ws = ws,
		.profile_id = 1,
		.journey_id = "welcome",
		.version = 1,
		.node = "intro",
		.channel = channel,
		.template_id = "welcome-1",
		.transactional = transactional,
		.content = "{\"subject\":\"Hi\",\"html\":\"<p>Hi</p>\"}",
		.status = status,
		.created_at = created,
		.send_at = send_at,
	};
	struct cairn_err e = CAIRN_ERR_INIT;
	int inserted = 0;
	cr_assert_eq(store_message_insert(st, &m, &inserted, &e), 0, "%s", e.message);
	cr_assert_eq(inserted, 1, "%s was there already", id);
}

/* Claims; returns how many, their ids joined by ',' in claim order. */
static size_t claim(int64_t now, int64_t lease_until, int limit, char *ids, size_t cap)
{
	struct store_dlv_msg *v = NULL;
	size_t n = 99;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_claim(st, now, lease_until, limit, &v, &n, &e), 0, "%s", e.message);
	ids[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(ids + len, cap - len, "%s%s", i ? "," : "", v[i].message_id);
		cr_assert_lt(len, cap);
		store_dlv_msg_release(&v[i]);
	}
	if (n == 0)
		cr_assert_null(v);
	free(v);
	return n;
}

/* Records an outcome for id; returns *changed. */
static int record(const char *id, const char *status, const char *event, const char *reason, int attempts, int64_t at,
		  int64_t send_at)
{
	struct store_dlv_outcome o = {
		.message_id = id,
		.status = status,
		.event = event,
		.reason = reason,
		.provider = "prv_1",
		.to_addr = "ada@example.com",
		.provider_ref = "<ref@example.com>",
		.attempts = attempts,
		.at = at,
		.send_at = send_at,
	};
	struct cairn_err e = CAIRN_ERR_INIT;
	int changed = -1;
	cr_assert_eq(store_dlv_record(st, &o, &changed, &e), 0, "%s", e.message);
	return changed;
}

static json_t *msg_get(int64_t ws, const char *id)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *m = store_message_json(st, ws, id, &e);
	cr_assert_not_null(m, "%s: %s", id, e.message);
	return m;
}

static void expect_msg(const char *id, const char *status, int attempts)
{
	json_t *m = msg_get(WS, id);
	cr_assert_str_eq(jsonx_str(m, "status"), status, "%s", id);
	cr_assert_eq(json_integer_value(json_object_get(m, "attempts")), attempts, "%s", id);
	json_decref(m);
}

/* The k-th entry of m's history, not counting "sending" rows (a claim may
 * write one; these tests are about the other edges). */
static json_t *hist(const json_t *m, size_t k)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(m, "history"), i, e) {
		if (!strcmp(jsonx_str(e, "status"), "sending"))
			continue;
		if (k-- == 0)
			return e;
	}
	cr_assert_fail("no history entry %zu", k);
	return NULL;
}

/* The history's statuses joined by ',' ("sending" rows left out), checking
 * that they are in time order. */
static void expect_history(int64_t ws, const char *id, const char *want)
{
	json_t *m = msg_get(ws, id);
	json_t *h = json_object_get(m, "history");
	cr_assert(json_is_array(h));
	char got[512] = "";
	const char *prev_at = "";
	size_t len = 0, i;
	json_t *e;
	json_array_foreach (h, i, e) {
		const char *at = jsonx_str(e, "at");
		cr_assert_not_null(at);
		cr_assert_geq(strcmp(at, prev_at), 0, "%s: history out of order at %zu", id, i);
		prev_at = at;
		if (!strcmp(jsonx_str(e, "status"), "sending"))
			continue;
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", len ? "," : "", jsonx_str(e, "status"));
		cr_assert_lt(len, sizeof got);
	}
	cr_assert_str_eq(got, want, "%s", id);
	json_decref(m);
}

static void expect_time(const json_t *v, int64_t ms)
{
	json_t *want = jsonx_time(ms);
	cr_assert(json_equal(v, want), "%s != %s", json_string_value(v), json_string_value(want));
	json_decref(want);
}

Test(store_deliver, claim_takes_transactional_first_and_only_what_is_due_once)
{
	msg_put("m_mkt", WS, "email", 0, "queued", T0 - 10 * SEC, T0 - 10 * SEC);
	msg_put("m_future", WS, "email", 0, "queued", T0 - 9 * SEC, T0 + 60 * SEC);
	msg_put("m_held", WS, "email", 0, "held", T0 - 8 * SEC, T0 - 1 * SEC);
	msg_put("m_tx", WS, "email", 1, "queued", T0 - 5 * SEC, T0 - 5 * SEC); /* made last */
	char ids[256];

	/* one slot: the transactional row, though the marketing one is older */
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 1, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m_tx");
	/* then marketing by send_at; the held row is due, the future one not */
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 2);
	cr_assert_str_eq(ids, "m_mkt,m_held");
	/* claimed rows are not claimed again */
	cr_assert_eq(claim(T0 + SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 0);
	expect_msg("m_tx", "sending", 0);
	expect_msg("m_held", "sending", 0);
	expect_msg("m_future", "queued", 0);
	/* due at its send_at */
	cr_assert_eq(claim(T0 + 60 * SEC - 1, T0 + 90 * SEC, 10, ids, sizeof ids), 0);
	cr_assert_eq(claim(T0 + 60 * SEC, T0 + 90 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m_future");
}

Test(store_deliver, claim_returns_the_row_and_limit_zero_claims_nothing)
{
	msg_put("m1", WS, "sms", 1, "queued", T0 - SEC, T0 - SEC);
	struct store_dlv_msg *v = NULL;
	size_t n = 7;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_claim(st, T0, T0 + SEC, 0, &v, &n, &e), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
	cr_assert_eq(store_dlv_claim(st, T0, T0 + SEC, 5, &v, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].message_id, "m1");
	cr_assert_eq(v[0].ws, WS);
	cr_assert_eq(v[0].profile_id, 1);
	cr_assert_str_eq(v[0].channel, "sms");
	cr_assert_str_eq(v[0].journey_id, "welcome");
	cr_assert_str_eq(v[0].content, "{\"subject\":\"Hi\",\"html\":\"<p>Hi</p>\"}");
	cr_assert_eq(v[0].transactional, 1);
	cr_assert_eq(v[0].attempts, 0);
	cr_assert_eq(v[0].send_at, T0 - SEC);
	store_dlv_msg_release(&v[0]);
	free(v);
}

Test(store_deliver, insert_keeps_an_existing_message_id)
{
	msg_put("m1", WS, "email", 0, "queued", T0, T0);
	struct store_message m = {.message_id = "m1",
				  .ws = WS,
				  .profile_id = 2,
				  .channel = "sms",
				  .content = "{}",
				  .status = "queued",
				  .created_at = T0 + 1,
				  .send_at = T0 + 1};
	struct cairn_err e = CAIRN_ERR_INIT;
	int inserted = 7;
	cr_assert_eq(store_message_insert(st, &m, &inserted, &e), 0, "%s", e.message);
	cr_assert_eq(inserted, 0);
	json_t *j = msg_get(WS, "m1");
	cr_assert_str_eq(jsonx_str(j, "channel"), "email");
	json_decref(j);
}

Test(store_deliver, record_changes_a_sending_row_and_writes_history)
{
	msg_put("m1", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(record("m1", "queued", "retried", "timeout", 1, T0 + SEC, T0 + 60 * SEC), 1);
	json_t *m = msg_get(WS, "m1");
	cr_assert_str_eq(jsonx_str(m, "status"), "queued");
	cr_assert_eq(json_integer_value(json_object_get(m, "attempts")), 1);
	cr_assert_str_eq(jsonx_str(m, "reason"), "timeout");
	cr_assert_str_eq(jsonx_str(m, "provider_id"), "prv_1");
	cr_assert_str_eq(jsonx_str(m, "to"), "ada@example.com");
	expect_time(json_object_get(m, "send_at"), T0 + 60 * SEC);
	json_t *h1 = hist(m, 1);
	cr_assert_str_eq(jsonx_str(h1, "status"), "retried");
	cr_assert_str_eq(jsonx_str(h1, "reason"), "timeout");
	cr_assert_str_eq(jsonx_str(h1, "provider_id"), "prv_1");
	cr_assert_eq(json_integer_value(json_object_get(h1, "attempt")), 1);
	expect_time(json_object_get(h1, "at"), T0 + SEC);
	json_decref(m);
	/* not "sending" any more: a second outcome changes nothing */
	cr_assert_eq(record("m1", "sent", "sent", NULL, 1, T0 + 2 * SEC, 0), 0);
	expect_history(WS, "m1", "queued,retried");
	/* the retry is due at its new send_at */
	cr_assert_eq(claim(T0 + 59 * SEC, T0 + 90 * SEC, 10, ids, sizeof ids), 0);
	cr_assert_eq(claim(T0 + 60 * SEC, T0 + 90 * SEC, 10, ids, sizeof ids), 1);
}

Test(store_deliver, record_after_a_reclaim_does_nothing)
{
	msg_put("m1", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + SEC, 10, ids, sizeof ids), 1);
	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_reclaim(st, T0 + 2 * SEC, T0 + 2 * SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	/* the dispatcher that lost its lease answers late */
	cr_assert_eq(record("m1", "sent", "sent", NULL, 1, T0 + 3 * SEC, 0), 0);
	expect_msg("m1", "queued", 0);
	expect_history(WS, "m1", "queued,requeued");
	json_t *m = msg_get(WS, "m1");
	cr_assert(json_is_null(json_object_get(m, "sent_at")));
	json_decref(m);
	/* claimed again, the new outcome counts */
	cr_assert_eq(claim(T0 + 4 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(record("m1", "sent", "sent", NULL, 1, T0 + 5 * SEC, 0), 1);
	expect_msg("m1", "sent", 1);
	expect_history(WS, "m1", "queued,requeued,sent");
	m = msg_get(WS, "m1");
	expect_time(json_object_get(m, "sent_at"), T0 + 5 * SEC);
	json_decref(m);
}

Test(store_deliver, reclaim_requeues_only_expired_leases_with_history)
{
	msg_put("m1", WS, "email", 0, "queued", T0 - 2 * SEC, T0 - 2 * SEC);
	msg_put("m2", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + SEC, 1, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m1");
	cr_assert_eq(claim(T0, T0 + 10 * SEC, 1, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m2");
	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	/* a lease ending exactly now is not yet expired */
	cr_assert_eq(store_dlv_reclaim(st, T0 + SEC, T0 + SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_dlv_reclaim(st, T0 + 5 * SEC, T0 + 5 * SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	expect_msg("m1", "queued", 0);
	expect_msg("m2", "sending", 0);
	expect_history(WS, "m1", "queued,requeued");
	expect_history(WS, "m2", "queued");
	json_t *m = msg_get(WS, "m1");
	json_t *h1 = hist(m, 1);
	cr_assert_not_null(strstr(jsonx_str(h1, "reason"), "dispatcher"));
	expect_time(json_object_get(h1, "at"), T0 + 5 * SEC);
	json_decref(m);
	/* requeued means claimable again */
	cr_assert_eq(claim(T0 + 5 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m1");
}

Test(store_deliver, replay_refuses_unknown_and_not_replayable_messages)
{
	msg_put("m_sent", WS, "email", 0, "sent", T0 - SEC, T0 - SEC);
	msg_put("m_q", WS, "email", 0, "queued", T0 - SEC, T0 + HR);
	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_replay(st, WS, "m_sent", NULL, NULL, T0, &n, &e), CAIRN_ECONFLICT);
	cr_assert_eq(e.code, CAIRN_ECONFLICT);
	cr_assert_str_eq(e.slug, "not_replayable");
	cr_assert_str_eq(e.field, "id");
	cr_assert_eq(n, 0);
	expect_msg("m_sent", "sent", 0);
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_replay(st, WS, "m_q", NULL, NULL, T0, &n, &e), CAIRN_ECONFLICT);
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_replay(st, WS, "m_nope", NULL, NULL, T0, &n, &e), CAIRN_ENOTFOUND);
	cr_assert_eq(e.code, CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "message_not_found");
	cr_assert_eq(n, 0);
}

Test(store_deliver, replay_puts_a_dead_message_back_to_queued)
{
	msg_put("m1", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(record("m1", "dead", "dead", "mailbox full", 6, T0 + SEC, 0), 1);
	expect_msg("m1", "dead", 6);
	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	/* another workspace does not see it */
	cr_assert_eq(store_dlv_replay(st, ws2, "m1", NULL, NULL, T0 + 2 * SEC, &n, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_replay(st, WS, "m1", NULL, NULL, T0 + 2 * SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	json_t *m = msg_get(WS, "m1");
	cr_assert_str_eq(jsonx_str(m, "status"), "queued");
	cr_assert_eq(json_integer_value(json_object_get(m, "attempts")), 0);
	cr_assert(json_is_null(json_object_get(m, "reason")));
	expect_time(json_object_get(m, "send_at"), T0 + 2 * SEC);
	json_decref(m);
	expect_history(WS, "m1", "queued,dead,replayed");
	/* and it is claimable again */
	cr_assert_eq(claim(T0 + 2 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m1");
}

Test(store_deliver, replay_in_bulk_by_status_and_channel)
{
	msg_put("dead_email", WS, "email", 0, "dead", T0 - 5 * SEC, T0 - 5 * SEC);
	msg_put("dead_sms", WS, "sms", 0, "dead", T0 - 4 * SEC, T0 - 4 * SEC);
	msg_put("failed_email", WS, "email", 0, "failed", T0 - 3 * SEC, T0 - 3 * SEC);
	msg_put("failed_sms", WS, "sms", 0, "failed", T0 - 2 * SEC, T0 - 2 * SEC);
	msg_put("sent_email", WS, "email", 0, "sent", T0 - SEC, T0 - SEC);
	msg_put("dead_other_ws", ws2, "email", 0, "dead", T0 - SEC, T0 - SEC);
	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_replay(st, WS, NULL, "dead", "email", T0, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	expect_msg("dead_email", "queued", 0);
	expect_msg("dead_sms", "dead", 0);
	expect_history(WS, "dead_email", "queued,replayed");
	cr_assert_eq(store_dlv_replay(st, WS, NULL, "failed", NULL, T0, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 2);
	expect_msg("failed_email", "queued", 0);
	expect_msg("failed_sms", "queued", 0);
	expect_msg("dead_sms", "dead", 0);
	/* no status: every dead or failed one left, of this workspace only */
	cr_assert_eq(store_dlv_replay(st, WS, NULL, NULL, NULL, T0, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	expect_msg("dead_sms", "queued", 0);
	expect_msg("sent_email", "sent", 0);
	json_t *m = msg_get(ws2, "dead_other_ws");
	cr_assert_str_eq(jsonx_str(m, "status"), "dead");
	json_decref(m);
	cr_assert_eq(store_dlv_replay(st, WS, NULL, "dead", NULL, T0, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 0);
}

Test(store_deliver, release_lifts_kill_switch_holds_only)
{
	msg_put("m_kill", WS, "email", 0, "queued", T0 - 3 * SEC, T0 - 3 * SEC);
	msg_put("m_quiet", WS, "email", 0, "queued", T0 - 2 * SEC, T0 - 2 * SEC);
	msg_put("m_kill_other", ws2, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[128];
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 3);
	cr_assert_eq(record("m_kill", "held", "held", "kill_switch", 0, T0 + SEC, STORE_DLV_NEVER), 1);
	cr_assert_eq(record("m_quiet", "held", "held", "quiet_hours", 0, T0 + SEC, T0 + 8 * HR), 1);
	cr_assert_eq(record("m_kill_other", "held", "held", "kill_switch", 0, T0 + SEC, STORE_DLV_NEVER), 1);
	/* a kill-switch hold is never due, and shows no send_at */
	cr_assert_eq(claim(T0 + 2 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 0);
	cr_assert_eq(store_dlv_pending(st, T0 + 365 * 24 * HR), 1); /* m_quiet only */
	json_t *m = msg_get(WS, "m_kill");
	cr_assert(json_is_null(json_object_get(m, "send_at")));
	json_decref(m);

	int64_t n = -1;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_release(st, WS, "kill_switch", T0 + 5 * SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 1);
	m = msg_get(WS, "m_kill");
	cr_assert_str_eq(jsonx_str(m, "status"), "queued");
	cr_assert(json_is_null(json_object_get(m, "reason")));
	expect_time(json_object_get(m, "send_at"), T0 + 5 * SEC);
	json_decref(m);
	expect_history(WS, "m_kill", "queued,held,resumed");
	expect_msg("m_quiet", "held", 0);
	m = msg_get(ws2, "m_kill_other");
	cr_assert_str_eq(jsonx_str(m, "status"), "held");
	json_decref(m);
	cr_assert_eq(claim(T0 + 5 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_str_eq(ids, "m_kill");
	/* nothing more to release */
	cr_assert_eq(store_dlv_release(st, WS, "kill_switch", T0 + 6 * SEC, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, 0);
}

Test(store_deliver, message_json_history_starts_queued_in_order)
{
	msg_put("m1", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(record("m1", "queued", "retried", "503 busy", 1, T0 + SEC, T0 + 10 * SEC), 1);
	cr_assert_eq(claim(T0 + 10 * SEC, T0 + 40 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(record("m1", "sent", "sent", NULL, 2, T0 + 11 * SEC, 0), 1);
	json_t *m = msg_get(WS, "m1");
	cr_assert_str_eq(jsonx_str(m, "id"), "m1");
	cr_assert_str_eq(jsonx_str(m, "status"), "sent");
	cr_assert_str_eq(jsonx_str(json_object_get(m, "content"), "subject"), "Hi");
	cr_assert_str_eq(jsonx_str(json_object_get(m, "journey"), "id"), "welcome");
	json_t *h = json_object_get(m, "history");
	cr_assert_str_eq(jsonx_str(json_array_get(h, 0), "status"), "queued");
	expect_time(json_object_get(json_array_get(h, 0), "at"), T0 - SEC);
	cr_assert_str_eq(jsonx_str(hist(m, 1), "status"), "retried");
	cr_assert_str_eq(jsonx_str(hist(m, 1), "reason"), "503 busy");
	cr_assert_str_eq(jsonx_str(hist(m, 2), "status"), "sent");
	cr_assert_null(json_object_get(hist(m, 2), "reason"));
	cr_assert_eq(json_integer_value(json_object_get(hist(m, 2), "attempt")), 2);
	json_decref(m);
	expect_history(WS, "m1", "queued,retried,sent");
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(store_message_json(st, WS, "m_nope", &e));
	cr_assert_eq(e.code, CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	cr_assert_null(store_message_json(st, ws2, "m1", &e));
	cr_assert_eq(e.code, CAIRN_ENOTFOUND);
}

static void expect_list(const struct store_dlv_filter *f, int limit, const char *cursor, const char *want, char **next)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *a = store_messages_json(st, WS, f, limit, cursor, next, &e);
	cr_assert_not_null(a, "%s", e.message);
	char got[256] = "";
	size_t len = 0, i;
	json_t *v;
	json_array_foreach (a, i, v) {
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "", jsonx_str(v, "id"));
		cr_assert_lt(len, sizeof got);
	}
	cr_assert_str_eq(got, want);
	json_decref(a);
}

Test(store_deliver, messages_json_lists_newest_first_with_filters_and_cursor)
{
	msg_put("m_a", WS, "email", 0, "queued", T0 - 3 * SEC, T0 - 3 * SEC);
	msg_put("m_b", WS, "sms", 0, "sent", T0 - 2 * SEC, T0 - 2 * SEC);
	msg_put("m_c", WS, "email", 0, "queued", T0 - SEC, T0 - SEC);
	msg_put("m_other", ws2, "email", 0, "queued", T0, T0);
	char *next = NULL;
	expect_list(NULL, 10, NULL, "m_c,m_b,m_a", &next);
	cr_assert_null(next);
	expect_list(NULL, 2, NULL, "m_c,m_b", &next);
	cr_assert_not_null(next);
	char *page2 = NULL;
	expect_list(NULL, 2, next, "m_a", &page2);
	cr_assert_null(page2);
	free(next);
	struct store_dlv_filter by_channel = {.channel = "sms"};
	expect_list(&by_channel, 10, NULL, "m_b", &next);
	struct store_dlv_filter by_status = {.status = "queued", .journey_id = "welcome"};
	expect_list(&by_status, 10, NULL, "m_c,m_a", &next);
	struct store_dlv_filter by_profile = {.profile_id = 2};
	expect_list(&by_profile, 10, NULL, "", &next);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(store_messages_json(st, WS, NULL, 10, "garbage", &next, &e));
	cr_assert_eq(e.code, CAIRN_EINVAL);
	cr_assert_null(next);
}

Test(store_deliver, pending_counts_due_queued_and_held_and_sending)
{
	msg_put("m_sending", WS, "email", 0, "queued", T0 - 5 * SEC, T0 - 5 * SEC);
	char ids[64];
	cr_assert_eq(claim(T0, T0 + 30 * SEC, 10, ids, sizeof ids), 1);
	cr_assert_eq(store_dlv_pending(st, T0), 1);
	msg_put("q_due", WS, "email", 0, "queued", T0 - SEC, T0);
	msg_put("q_future", WS, "email", 1, "queued", T0 - SEC, T0 + 10 * SEC);
	msg_put("h_due", ws2, "sms", 0, "held", T0 - SEC, T0 - SEC);
	msg_put("h_never", WS, "email", 0, "held", T0 - SEC, STORE_DLV_NEVER);
	msg_put("sent", WS, "email", 0, "sent", T0 - SEC, T0 - SEC);
	msg_put("dead", WS, "email", 0, "dead", T0 - SEC, T0 - SEC);
	msg_put("failed", WS, "email", 0, "failed", T0 - SEC, T0 - SEC);
	cr_assert_eq(store_dlv_pending(st, T0 - 2 * SEC), 1);
	cr_assert_eq(store_dlv_pending(st, T0), 3); /* sending, q_due, h_due (over every workspace) */
	cr_assert_eq(store_dlv_pending(st, T0 + 10 * SEC), 4);
	/* a claimed row still counts, once */
	cr_assert_eq(claim(T0 + 10 * SEC, T0 + 30 * SEC, 10, ids, sizeof ids), 3);
	cr_assert_eq(store_dlv_pending(st, T0 + 10 * SEC), 4);
	cr_assert_eq(record("m_sending", "sent", "sent", NULL, 1, T0 + 11 * SEC, 0), 1);
	cr_assert_eq(store_dlv_pending(st, T0 + 10 * SEC), 3);
}

Test(store_deliver, counts_by_status)
{
	msg_put("a", WS, "email", 0, "queued", T0, T0);
	msg_put("b", WS, "email", 0, "queued", T0, T0);
	msg_put("c", WS, "email", 0, "dead", T0, T0);
	msg_put("d", ws2, "email", 0, "sent", T0, T0);
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *c = store_dlv_counts(st, WS, &e);
	cr_assert_not_null(c, "%s", e.message);
	json_t *want = json_pack("{s:i,s:i}", "queued", 2, "dead", 1);
	cr_assert(json_equal(c, want));
	json_decref(want);
	json_decref(c);
}

Test(store_deliver, suppressions_add_check_list_delete)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	char reason[64] = "";
	cr_assert_eq(store_dlv_suppressed(st, WS, "email", "ada@example.com", reason, sizeof reason, &e), 0);
	cr_assert_eq(store_dlv_suppress(st, WS, "email", "ada@example.com", "hard_bounce", "m1", T0, &e), 0, "%s",
		     e.message);
	cr_assert_eq(store_dlv_suppress(st, WS, "sms", "+821012345678", "unsubscribed", NULL, T0 + 1, &e), 0, "%s",
		     e.message);
	/* a second suppression keeps the first reason */
	cr_assert_eq(store_dlv_suppress(st, WS, "email", "ada@example.com", "complaint", "m2", T0 + 2, &e), 0, "%s",
		     e.message);
	cr_assert_eq(store_dlv_suppressed(st, WS, "email", "ada@example.com", reason, sizeof reason, &e), 1);
	cr_assert_str_eq(reason, "hard_bounce");
	cr_assert_eq(store_dlv_suppressed(st, WS, "email", "ada@example.com", NULL, 0, &e), 1);
	cr_assert_eq(store_dlv_suppressed(st, WS, "sms", "ada@example.com", NULL, 0, &e), 0);
	cr_assert_eq(store_dlv_suppressed(st, ws2, "email", "ada@example.com", NULL, 0, &e), 0);
	cr_assert_eq(store_dlv_suppressed(st, WS, "email", "bob@example.com", NULL, 0, &e), 0);

	char *next = NULL;
	json_t *a = store_dlv_suppressions_json(st, WS, 10, NULL, &next, &e);
	cr_assert_not_null(a, "%s", e.message);
	cr_assert_null(next);
	cr_assert_eq(json_array_size(a), 2);
	json_t *first = json_array_get(a, 0);
	cr_assert_str_eq(jsonx_str(first, "channel"), "email");
	cr_assert_str_eq(jsonx_str(first, "address"), "ada@example.com");
	cr_assert_str_eq(jsonx_str(first, "reason"), "hard_bounce");
	cr_assert_str_eq(jsonx_str(first, "message_id"), "m1");
	expect_time(json_object_get(first, "created_at"), T0);
	cr_assert(json_is_null(json_object_get(json_array_get(a, 1), "message_id")));
	json_decref(a);
	/* one a page */
	a = store_dlv_suppressions_json(st, WS, 1, NULL, &next, &e);
	cr_assert_eq(json_array_size(a), 1);
	cr_assert_not_null(next);
	json_decref(a);
	char *next2 = NULL;
	a = store_dlv_suppressions_json(st, WS, 1, next, &next2, &e);
	cr_assert_eq(json_array_size(a), 1);
	cr_assert_str_eq(jsonx_str(json_array_get(a, 0), "channel"), "sms");
	cr_assert_null(next2);
	json_decref(a);
	free(next);

	cr_assert_eq(store_dlv_unsuppress(st, WS, "email", "ada@example.com", &e), 0, "%s", e.message);
	cr_assert_eq(store_dlv_suppressed(st, WS, "email", "ada@example.com", NULL, 0, &e), 0);
	cr_assert_eq(store_dlv_unsuppress(st, WS, "email", "ada@example.com", &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "suppression_not_found");
	cairn_err_clear(&e);
	a = store_dlv_suppressions_json(st, WS, 10, NULL, &next, &e);
	cr_assert_eq(json_array_size(a), 1);
	json_decref(a);
}

Test(store_deliver, domain_put_get_delete_keeps_the_key_blob)
{
	unsigned char key[48];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 37 + 1); /* with a 0 byte inside */
	key[5] = 0;
	struct store_dlv_domain d = {.ws = WS,
				     .domain = "mail.example.com",
				     .selector = "s2026",
				     .algorithm = "ed25519",
				     .dns_value = "v=DKIM1; k=ed25519; p=AAAA",
				     .private_key = key,
				     .private_key_len = sizeof key,
				     .created_at = T0};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_domain_put(st, &d, &e), 0, "%s", e.message);
	struct store_dlv_domain got;
	cr_assert_eq(store_dlv_domain_get(st, WS, "mail.example.com", &got, &e), 0, "%s", e.message);
	cr_assert_eq(got.ws, WS);
	cr_assert_str_eq(got.domain, "mail.example.com");
	cr_assert_str_eq(got.selector, "s2026");
	cr_assert_str_eq(got.algorithm, "ed25519");
	cr_assert_str_eq(got.dns_value, "v=DKIM1; k=ed25519; p=AAAA");
	cr_assert_eq(got.private_key_len, sizeof key);
	cr_assert_arr_eq(got.private_key, key, sizeof key);
	cr_assert_eq(got.created_at, T0);
	store_dlv_domain_release(&got);
	cr_assert_null(got.private_key);

	json_t *a = store_dlv_domains_json(st, WS, &e);
	cr_assert_not_null(a, "%s", e.message);
	cr_assert_eq(json_array_size(a), 1);
	json_t *d0 = json_array_get(a, 0);
	cr_assert_null(json_object_get(d0, "private_key"));
	json_t *rec = json_array_get(json_object_get(d0, "dns_records"), 0);
	cr_assert_str_eq(jsonx_str(rec, "type"), "TXT");
	cr_assert_str_eq(jsonx_str(rec, "name"), "s2026._domainkey.mail.example.com");
	cr_assert_str_eq(jsonx_str(rec, "value"), "v=DKIM1; k=ed25519; p=AAAA");
	json_decref(a);
	a = store_dlv_domains_json(st, ws2, &e);
	cr_assert_eq(json_array_size(a), 0);
	json_decref(a);

	cr_assert_eq(store_dlv_domain_get(st, ws2, "mail.example.com", &got, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_domain_delete(st, WS, "mail.example.com", &e), 0, "%s", e.message);
	cr_assert_eq(store_dlv_domain_get(st, WS, "mail.example.com", &got, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "domain_not_found");
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_domain_delete(st, WS, "mail.example.com", &e), CAIRN_ENOTFOUND);
}

static void provider_put(int64_t ws, const char *id, const char *channel, int priority, int64_t created,
			 int64_t updated, const char *name)
{
	static const unsigned char blob[] = {0x00, 0x01, 0xfe, 0xff, 0x10};
	struct store_dlv_provider p = {.ws = ws,
				       .id = (char *)id,
				       .channel = (char *)channel,
				       .type = "file",
				       .name = (char *)name,
				       .config = json_pack("{s:s}", "path", "/tmp/outbox"),
				       .secret = (unsigned char *)blob,
				       .secret_len = sizeof blob,
				       .priority = priority,
				       .created_at = created,
				       .updated_at = updated};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_provider_put(st, &p, &e), 0, "%s", e.message);
	json_decref(p.config);
}

static void expect_providers(int64_t ws, const char *channel, const char *want)
{
	struct store_dlv_provider *v = NULL;
	size_t n = 0;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_providers(st, ws, channel, &v, &n, &e), 0, "%s", e.message);
	char got[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "," : "", v[i].id);
		store_dlv_provider_release(&v[i]);
	}
	free(v);
	cr_assert_str_eq(got, want);
}

Test(store_deliver, providers_put_get_list_in_order_delete)
{
	provider_put(WS, "p_c", "email", 2, T0, T0, "C");
	provider_put(WS, "p_a", "email", 1, T0 + 2, T0 + 2, "A");
	provider_put(WS, "p_b", "email", 1, T0 + 1, T0 + 1, "B");
	provider_put(WS, "p_s", "sms", 0, T0, T0, "S");
	provider_put(ws2, "p_x", "email", 0, T0, T0, "X");
	expect_providers(WS, "email", "p_b,p_a,p_c");
	expect_providers(WS, NULL, "p_b,p_a,p_c,p_s");
	expect_providers(WS, "push", "");
	expect_providers(0, "email", "p_b,p_a,p_c,p_x");

	struct store_dlv_provider p;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_provider_get(st, WS, "p_a", &p, &e), 0, "%s", e.message);
	cr_assert_eq(p.ws, WS);
	cr_assert_str_eq(p.id, "p_a");
	cr_assert_str_eq(p.channel, "email");
	cr_assert_str_eq(p.type, "file");
	cr_assert_str_eq(p.name, "A");
	cr_assert_str_eq(jsonx_str(p.config, "path"), "/tmp/outbox");
	cr_assert_eq(p.secret_len, 5);
	cr_assert_arr_eq(p.secret, ((unsigned char[]){0x00, 0x01, 0xfe, 0xff, 0x10}), 5);
	cr_assert_eq(p.priority, 1);
	cr_assert_eq(p.disabled, 0);
	cr_assert_eq(p.created_at, T0 + 2);
	cr_assert_eq(p.updated_at, T0 + 2);
	store_dlv_provider_release(&p);

	/* put replaces by (ws, id) */
	provider_put(WS, "p_a", "email", 3, T0 + 2, T0 + 9, "A2");
	expect_providers(WS, "email", "p_b,p_c,p_a");
	cr_assert_eq(store_dlv_provider_get(st, WS, "p_a", &p, &e), 0, "%s", e.message);
	cr_assert_str_eq(p.name, "A2");
	store_dlv_provider_release(&p);

	cr_assert_eq(store_dlv_provider_get(st, ws2, "p_a", &p, &e), CAIRN_ENOTFOUND);
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_provider_delete(st, WS, "p_a", &e), 0, "%s", e.message);
	cr_assert_eq(store_dlv_provider_get(st, WS, "p_a", &p, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "provider_not_found");
	cairn_err_clear(&e);
	cr_assert_eq(store_dlv_provider_delete(st, WS, "p_a", &e), CAIRN_ENOTFOUND);
	expect_providers(WS, "email", "p_b,p_c");
}

Test(store_deliver, provider_without_secret_reads_back_null)
{
	struct store_dlv_provider p = {.ws = WS,
				       .id = "p1",
				       .channel = "sms",
				       .type = "file",
				       .name = "dev",
				       .config = json_object(),
				       .created_at = T0,
				       .updated_at = T0};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_provider_put(st, &p, &e), 0, "%s", e.message);
	json_decref(p.config);
	struct store_dlv_provider got;
	cr_assert_eq(store_dlv_provider_get(st, WS, "p1", &got, &e), 0, "%s", e.message);
	cr_assert_null(got.secret);
	cr_assert_eq(got.secret_len, 0);
	cr_assert(json_is_object(got.config));
	store_dlv_provider_release(&got);
}

Test(store_deliver, config_version_changes_with_providers_and_domains)
{
	int64_t v0 = store_dlv_config_version(st);
	cr_assert_geq(v0, 0);
	provider_put(WS, "p1", "email", 0, T0, T0, "one");
	int64_t v1 = store_dlv_config_version(st);
	cr_assert_neq(v1, v0);
	cr_assert_eq(store_dlv_config_version(st), v1, "stable while nothing changes");
	provider_put(WS, "p1", "email", 0, T0, T0 + 5 * SEC, "one, edited");
	int64_t v2 = store_dlv_config_version(st);
	cr_assert_neq(v2, v1);
	unsigned char key[4] = {1, 2, 3, 4};
	struct store_dlv_domain d = {.ws = WS,
				     .domain = "example.com",
				     .selector = "cairn",
				     .algorithm = "rsa",
				     .dns_value = "v=DKIM1",
				     .private_key = key,
				     .private_key_len = sizeof key,
				     .created_at = T0 + 6 * SEC};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(store_dlv_domain_put(st, &d, &e), 0, "%s", e.message);
	int64_t v3 = store_dlv_config_version(st);
	cr_assert_neq(v3, v2);
	cr_assert_eq(store_dlv_domain_delete(st, WS, "example.com", &e), 0, "%s", e.message);
	int64_t v4 = store_dlv_config_version(st);
	cr_assert_neq(v4, v3);
	cr_assert_eq(store_dlv_provider_delete(st, WS, "p1", &e), 0, "%s", e.message);
	int64_t v5 = store_dlv_config_version(st);
	cr_assert_neq(v5, v4);
	/* a provider of another workspace counts too */
	provider_put(ws2, "p2", "sms", 0, T0, T0 + 7 * SEC, "two");
	cr_assert_neq(store_dlv_config_version(st), v5);
}

/* ==== provider ============================================================== */

static void provider_setup(void)
{
	key_save();
	key_use(KEY_A);
}

TestSuite(provider, .init = provider_setup, .fini = key_restore);

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *b = json_loads(text, 0, &je);
	cr_assert_not_null(b, "%s: %s", text, je.text);
	return b;
}

static int prov_at(const char *text, const struct store_dlv_provider *existing, int64_t now,
		   struct store_dlv_provider *out, char **shown, struct cairn_err *e)
{
	json_t *b = parse(text);
	int rc = dlv_provider_from_json(b, existing, WS, now, out, shown, e);
	json_decref(b);
	return rc;
}

static void prov_ok(const char *text, const struct store_dlv_provider *existing, int64_t now,
		    struct store_dlv_provider *out, char **shown)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	char *sh = NULL;
	cr_assert_eq(prov_at(text, existing, now, out, &sh, &e), 0, "%s: %s (%s)", text, e.message, e.field);
	cr_assert_eq(e.code, 0, "err left untouched on success");
	if (shown)
		*shown = sh;
	else
		free(sh);
}

/* text is refused with 422 naming field. */
static void prov_422(const char *text, const struct store_dlv_provider *existing, const char *field)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_dlv_provider out;
	char *shown = (char *)"unset";
	int rc = prov_at(text, existing, T0, &out, &shown, &e);
	cr_assert_eq(rc, CAIRN_EUNPROC, "%s: rc %d (%s)", text, rc, e.message);
	cr_assert_eq(e.code, CAIRN_EUNPROC, "%s: err.code %d", text, e.code);
	cr_assert_str_eq(e.field, field, "%s: %s", text, e.message);
	cr_assert_neq(e.message[0], '\0');
	cr_assert_null(shown);
	cr_assert_null(out.id);
	cr_assert_null(out.secret);
}

static void load_ok(const struct store_dlv_provider *row, struct dlv_provider *p)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_provider_load(row, p, &e), 0, "%s", e.message);
}

#define SMTP_OK                                                                                                        \
	"\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"smtps://smtp.example.com:465\","                            \
	"\"from\":\"Shop <news@shop.example>\""
#define PASSWORD "pw-S3cr3t-do-not-leak"

Test(provider, every_required_field_is_named_when_missing)
{
	prov_422("{\"channel\":\"email\",\"type\":\"smtp\",\"from\":\"a@shop.example\"}", NULL, "url");
	prov_422("{\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"smtp://mx.example:587\"}", NULL, "from");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\"}", NULL, "url");
	prov_422("{\"channel\":\"email\",\"type\":\"http\",\"url\":\"https://api.example/send\"}", NULL, "from");
	prov_422("{\"type\":\"file\"}", NULL, "channel");
	prov_422("{\"channel\":\"sms\"}", NULL, "type");
	/* webhook and file need nothing more */
	struct store_dlv_provider row;
	prov_ok("{\"channel\":\"webhook\",\"type\":\"webhook\"}", NULL, T0, &row, NULL);
	store_dlv_provider_release(&row);
	prov_ok("{\"channel\":\"sms\",\"type\":\"file\"}", NULL, T0, &row, NULL);
	cr_assert_str_eq(row.name, "sms file");
	cr_assert_null(row.secret);
	store_dlv_provider_release(&row);
	/* null is "absent" for a required field */
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":null}", NULL, "url");
	struct cairn_err e = CAIRN_ERR_INIT;
	char *shown = NULL;
	json_t *arr = json_array();
	cr_assert_eq(dlv_provider_from_json(arr, NULL, WS, T0, &row, &shown, &e), CAIRN_EINVAL);
	json_decref(arr);
}

Test(provider, urls_are_checked_per_type)
{
	prov_422("{\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"http://mail.example.com\","
		 "\"from\":\"a@shop.example\"}",
		 NULL, "url");
	prov_422("{\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"smtp://user:pw@mail.example.com\","
		 "\"from\":\"a@shop.example\"}",
		 NULL, "url");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"ftp://x\"}", NULL, "url");
	/* a webhook secret that could not sign */
	prov_422("{\"channel\":\"webhook\",\"type\":\"webhook\",\"secret\":\"whsec_!!!\"}", NULL, "secret");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"smtp://x.example\"}", NULL, "url");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://\"}", NULL, "url");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://a.example/x y\"}", NULL, "url");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"\"}", NULL, "url");
	struct store_dlv_provider row;
	prov_ok("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://api.example.com/v1/send\"}", NULL, T0, &row,
		NULL);
	cr_assert_str_eq(jsonx_str(row.config, "url"), "https://api.example.com/v1/send");
	store_dlv_provider_release(&row);
}

Test(provider, type_must_serve_the_channel)
{
	prov_422("{\"channel\":\"sms\",\"type\":\"smtp\",\"url\":\"smtp://mx.example\",\"from\":\"a@shop.example\"}",
		 NULL, "type");
	prov_422("{\"channel\":\"email\",\"type\":\"webhook\"}", NULL, "type");
	prov_422("{\"channel\":\"webhook\",\"type\":\"http\",\"url\":\"https://x.example\"}", NULL, "type");
	prov_422("{\"channel\":\"sms\",\"type\":\"carrier-pigeon\"}", NULL, "type");
	prov_422("{\"channel\":\"fax\",\"type\":\"file\"}", NULL, "channel");
}

Test(provider, unknown_and_foreign_fields_are_named)
{
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"bogus\":1}", NULL, "bogus");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"password\":\"p\"}", NULL,
		 "password");
	prov_422("{" SMTP_OK ",\"path\":\"/tmp\"}", NULL, "path");
	prov_422("{\"channel\":\"webhook\",\"type\":\"webhook\",\"unsubscribe_mailto\":\"u@shop.example\"}", NULL,
		 "unsubscribe_mailto");
}

Test(provider, field_values_are_checked)
{
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\","
		 "\"headers\":{\"X-A\":\"a\\r\\nX-Injected: 1\"}}",
		 NULL, "headers");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"headers\":{\"X-A\":\"a\\n\"}}",
		 NULL, "headers");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"headers\":{\"Bad: k\":\"v\"}}",
		 NULL, "headers");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"headers\":{\"X-N\":5}}", NULL,
		 "headers");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"headers\":[]}", NULL,
		 "headers");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"success\":[\"2x\"]}", NULL,
		 "success");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"success\":[\"200\",5]}", NULL,
		 "success");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"transient\":[\"6xx\"]}", NULL,
		 "transient");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"success\":\"2xx\"}", NULL,
		 "success");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"method\":\"GET\"}", NULL,
		 "method");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"timeout_ms\":5}", NULL,
		 "timeout_ms");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"concurrency\":0}", NULL,
		 "concurrency");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"max_attempts\":21}", NULL,
		 "max_attempts");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"rate_per_sec\":-1}", NULL,
		 "rate_per_sec");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"retry_base_ms\":\"1s\"}", NULL,
		 "retry_base_ms");
	prov_422("{" SMTP_OK ",\"starttls\":3}", NULL, "starttls");
	prov_422("{\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"smtp://mx.example\",\"from\":\"not an address\"}",
		 NULL, "from");
	prov_422("{" SMTP_OK ",\"reply_to\":\"a@b.example\\r\\nBcc: x@evil.example\"}", NULL, "reply_to");
	prov_422("{" SMTP_OK ",\"username\":\"\"}", NULL, "username");
	prov_422("{\"channel\":\"webhook\",\"type\":\"webhook\",\"secret\":\"abc\"}", NULL, "secret");
}

Test(provider, body_template_with_a_syntax_error_names_body)
{
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"body\":\"{{ payload.to \"}",
		 NULL, "body");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"body\":\"{% if %}x{% endif "
		 "%}\"}",
		 NULL, "body");
	prov_422("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\",\"body\":\"{% for x in y %}\"}",
		 NULL, "body");
	struct store_dlv_provider row;
	prov_ok("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\","
		"\"body\":\"to={{ payload.to }}&text={{ payload.text | url_encode }}\"}",
		NULL, T0, &row, NULL);
	struct dlv_provider p;
	load_ok(&row, &p);
	cr_assert_not_null(p.body);
	dlv_provider_release(&p);
	store_dlv_provider_release(&row);
}

Test(provider, password_is_sealed_and_loads_back)
{
	struct store_dlv_provider row;
	prov_ok("{" SMTP_OK ",\"username\":\"apikey\",\"password\":\"" PASSWORD "\",\"starttls\":2}", NULL, T0, &row,
		NULL);
	cr_assert_eq(strncmp(row.id, "prv_", 4), 0);
	cr_assert_eq(strlen(row.id), 4 + 16);
	cr_assert_eq(row.ws, WS);
	cr_assert_str_eq(row.channel, "email");
	cr_assert_str_eq(row.type, "smtp");
	cr_assert_str_eq(row.name, "email smtp");
	cr_assert_eq(row.created_at, T0);
	cr_assert_eq(row.updated_at, T0);
	cr_assert_null(json_object_get(row.config, "password"));
	cr_assert_str_eq(jsonx_str(row.config, "username"), "apikey");
	char *cfg = json_dumps(row.config, JSON_COMPACT);
	cr_assert_null(strstr(cfg, PASSWORD));
	free(cfg);
	cr_assert_not_null(row.secret);
	cr_assert_gt(row.secret_len, strlen(PASSWORD));
	cr_assert_null(memmem(row.secret, row.secret_len, PASSWORD, strlen(PASSWORD)));
	cr_assert_null(memmem(row.secret, row.secret_len, "password", 8), "even the key name is sealed");

	struct dlv_provider p;
	load_ok(&row, &p);
	cr_assert_eq(p.type, DLV_P_SMTP);
	cr_assert_str_eq(p.password, PASSWORD);
	cr_assert_str_eq(p.username, "apikey");
	cr_assert_str_eq(p.url, "smtps://smtp.example.com:465");
	cr_assert_str_eq(p.from, "Shop <news@shop.example>");
	cr_assert_eq(p.starttls, 2);
	cr_assert_eq(p.timeout_ms, 10000);
	cr_assert_eq(p.concurrency, 4);
	cr_assert_eq(p.max_attempts, 6);
	cr_assert_eq(p.retry_base_ms, 30000);
	cr_assert_eq(p.rate_per_sec, 0);
	dlv_provider_release(&p);
	store_dlv_provider_release(&row);
}

Test(provider, patch_keeps_or_removes_the_password)
{
	struct store_dlv_provider row, r2, r3, r4;
	prov_ok("{" SMTP_OK ",\"name\":\"Main\",\"priority\":3,\"password\":\"" PASSWORD "\"}", NULL, T0, &row, NULL);
	prov_ok("{\"from\":\"Other <other@shop.example>\",\"timeout_ms\":5000}", &row, T0 + SEC, &r2, NULL);
	cr_assert_str_eq(r2.id, row.id);
	cr_assert_str_eq(r2.name, "Main");
	cr_assert_eq(r2.priority, 3);
	cr_assert_eq(r2.created_at, T0);
	cr_assert_eq(r2.updated_at, T0 + SEC);
	cr_assert_not_null(r2.secret);
	struct dlv_provider p;
	load_ok(&r2, &p);
	cr_assert_str_eq(p.password, PASSWORD);
	cr_assert_str_eq(p.from, "Other <other@shop.example>");
	cr_assert_str_eq(p.url, "smtps://smtp.example.com:465");
	cr_assert_eq(p.timeout_ms, 5000);
	dlv_provider_release(&p);

	prov_ok("{\"password\":\"new-pass\"}", &r2, T0 + 2 * SEC, &r3, NULL);
	load_ok(&r3, &p);
	cr_assert_str_eq(p.password, "new-pass");
	dlv_provider_release(&p);

	prov_ok("{\"password\":null,\"timeout_ms\":null}", &r3, T0 + 3 * SEC, &r4, NULL);
	cr_assert_null(r4.secret);
	cr_assert_null(json_object_get(r4.config, "timeout_ms"));
	load_ok(&r4, &p);
	cr_assert_null(p.password);
	cr_assert_eq(p.timeout_ms, 10000);
	dlv_provider_release(&p);
	json_t *j = dlv_provider_json(&r4);
	cr_assert_eq(json_array_size(json_object_get(j, "secrets")), 0);
	json_decref(j);

	/* channel and type stay; a required field cannot be removed */
	prov_422("{\"type\":\"http\"}", &row, "type");
	prov_422("{\"channel\":\"sms\"}", &row, "type");
	prov_422("{\"url\":null}", &row, "url");
	store_dlv_provider_release(&row);
	store_dlv_provider_release(&r2);
	store_dlv_provider_release(&r3);
	store_dlv_provider_release(&r4);
}

Test(provider, webhook_secret_is_made_shown_once_and_kept)
{
	struct store_dlv_provider row, r2;
	char *shown = NULL;
	prov_ok("{\"channel\":\"webhook\",\"type\":\"webhook\"}", NULL, T0, &row, &shown);
	cr_assert_not_null(shown);
	cr_assert_eq(strncmp(shown, "whsec_", 6), 0, "%s", shown);
	cr_assert_gt(strlen(shown), 6 + 16);
	cr_assert_null(json_object_get(row.config, "secret"));
	cr_assert_null(memmem(row.secret, row.secret_len, shown, strlen(shown)));
	struct dlv_provider p;
	load_ok(&row, &p);
	cr_assert_eq(p.type, DLV_P_WEBHOOK);
	cr_assert_str_eq(p.secret, shown);
	char sig[64];
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_webhook_sign(p.secret, "msg_1", 1700000000, "{}", 2, sig, sizeof sig, &e), 0, "%s", e.message);
	dlv_provider_release(&p);

	/* a PATCH without secret keeps it and shows nothing */
	char *shown2 = (char *)"unset";
	prov_ok("{\"timeout_ms\":5000}", &row, T0 + SEC, &r2, &shown2);
	cr_assert_null(shown2);
	load_ok(&r2, &p);
	cr_assert_str_eq(p.secret, shown);
	dlv_provider_release(&p);
	store_dlv_provider_release(&r2);

	/* a given secret is used as given, not shown back */
	prov_ok("{\"channel\":\"webhook\",\"type\":\"webhook\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}",
		NULL, T0, &r2, &shown2);
	cr_assert_null(shown2);
	load_ok(&r2, &p);
	cr_assert_str_eq(p.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	dlv_provider_release(&p);
	store_dlv_provider_release(&r2);
	free(shown);
	store_dlv_provider_release(&row);
}

Test(provider, json_names_secrets_and_never_shows_them)
{
	struct store_dlv_provider row;
	prov_ok("{" SMTP_OK ",\"password\":\"" PASSWORD "\"}", NULL, T0, &row, NULL);
	json_t *j = dlv_provider_json(&row);
	cr_assert_not_null(j);
	json_t *want = json_pack("[s]", "password");
	cr_assert(json_equal(json_object_get(j, "secrets"), want));
	json_decref(want);
	cr_assert_str_eq(jsonx_str(j, "id"), row.id);
	cr_assert_str_eq(jsonx_str(j, "type"), "smtp");
	cr_assert_str_eq(jsonx_str(json_object_get(j, "config"), "url"), "smtps://smtp.example.com:465");
	cr_assert_null(json_object_get(json_object_get(j, "config"), "password"));
	char *text = json_dumps(j, JSON_COMPACT);
	cr_assert_null(strstr(text, PASSWORD), "%s", text);
	free(text);
	json_decref(j);
	store_dlv_provider_release(&row);

	prov_ok("{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\","
		"\"headers\":{\"Authorization\":\"Bearer tok-XYZ-123\"}}",
		NULL, T0, &row, NULL);
	cr_assert_null(json_object_get(row.config, "headers"));
	j = dlv_provider_json(&row);
	want = json_pack("[s]", "headers");
	cr_assert(json_equal(json_object_get(j, "secrets"), want));
	json_decref(want);
	text = json_dumps(j, JSON_COMPACT);
	cr_assert_null(strstr(text, "tok-XYZ"), "%s", text);
	cr_assert_null(strstr(text, "Authorization"), "%s", text);
	free(text);
	json_decref(j);
	struct dlv_provider p;
	load_ok(&row, &p);
	cr_assert_str_eq(jsonx_str(p.headers, "Authorization"), "Bearer tok-XYZ-123");
	dlv_provider_release(&p);
	store_dlv_provider_release(&row);
}

Test(provider, row_sealed_under_another_key_does_not_load)
{
	struct store_dlv_provider row;
	prov_ok("{" SMTP_OK ",\"password\":\"" PASSWORD "\"}", NULL, T0, &row, NULL);
	key_use(KEY_B);
	struct dlv_provider p;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_provider_load(&row, &p, &e), CAIRN_EIO);
	cr_assert_str_eq(e.slug, "secret_unreadable");
	json_t *j = dlv_provider_json(&row);
	cr_assert_not_null(json_object_get(j, "secrets_error"));
	cr_assert_eq(json_array_size(json_object_get(j, "secrets")), 0);
	json_decref(j);
	/* a PATCH cannot merge what it cannot open */
	struct store_dlv_provider r2;
	char *shown = NULL;
	cairn_err_clear(&e);
	cr_assert_eq(prov_at("{\"timeout_ms\":5000}", &row, T0, &r2, &shown, &e), CAIRN_EIO);
	store_dlv_provider_release(&row);
}

static struct dlv_provider http_provider(const char *extra)
{
	char text[512];
	snprintf(text, sizeof text, "{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://x.example\"%s}", extra);
	struct store_dlv_provider row;
	prov_ok(text, NULL, T0, &row, NULL);
	struct dlv_provider p;
	load_ok(&row, &p);
	store_dlv_provider_release(&row);
	return p;
}

Test(provider, classify_by_status_patterns)
{
	struct dlv_provider p = http_provider("");
	cr_assert_eq(dlv_provider_classify(&p, 200, ""), DLV_OK);
	cr_assert_eq(dlv_provider_classify(&p, 201, NULL), DLV_OK);
	cr_assert_eq(dlv_provider_classify(&p, 299, ""), DLV_OK);
	cr_assert_eq(dlv_provider_classify(&p, 429, ""), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, 408, ""), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, 500, ""), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, 503, ""), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, 400, ""), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 404, ""), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 302, ""), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 0, NULL), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, -1, NULL), DLV_TRANSIENT);
	dlv_provider_release(&p);

	p = http_provider(",\"success_contains\":\"\\\"ok\\\":true\"");
	cr_assert_eq(dlv_provider_classify(&p, 200, "{\"ok\":false}"), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 200, NULL), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 200, "{\"id\":1,\"ok\":true}"), DLV_OK);
	cr_assert_eq(dlv_provider_classify(&p, 503, "{\"ok\":true}"), DLV_TRANSIENT);
	dlv_provider_release(&p);

	p = http_provider(",\"success\":[\"202\"]");
	cr_assert_eq(dlv_provider_classify(&p, 200, ""), DLV_PERMANENT);
	cr_assert_eq(dlv_provider_classify(&p, 202, ""), DLV_OK);
	cr_assert_eq(dlv_provider_classify(&p, 503, ""), DLV_TRANSIENT);
	dlv_provider_release(&p);

	p = http_provider(",\"transient\":[\"4xx\"]");
	cr_assert_eq(dlv_provider_classify(&p, 404, ""), DLV_TRANSIENT);
	cr_assert_eq(dlv_provider_classify(&p, 503, ""), DLV_PERMANENT);
	dlv_provider_release(&p);
}

Test(provider, from_address)
{
	char out[64];
	cr_assert_eq(dlv_from_address("Shop <news@shop.example>", out, sizeof out), 0);
	cr_assert_str_eq(out, "news@shop.example");
	cr_assert_eq(dlv_from_address("  ada@example.com ", out, sizeof out), 0);
	cr_assert_str_eq(out, "ada@example.com");
	cr_assert_eq(dlv_from_address("Just a name", out, sizeof out), -1);
	cr_assert_eq(dlv_from_address("Shop <>", out, sizeof out), -1);
	cr_assert_eq(dlv_from_address(NULL, out, sizeof out), -1);
	cr_assert_eq(dlv_from_address("news@shop.example", out, 8), -1);
}

/* ==== secret ================================================================ */

TestSuite(secret, .init = key_save, .fini = key_restore);

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", secret_dir, name);
}

static void seal_str(const char *s, unsigned char **blob, size_t *len)
{
	dlv_seal(s, strlen(s), blob, len);
	cr_assert_eq(*len, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + strlen(s));
}

static void expect_opens(const unsigned char *blob, size_t len, const char *want)
{
	char *plain = NULL;
	size_t n = 0;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_unseal(blob, len, &plain, &n, &e), 0, "%s", e.message);
	cr_assert_eq(n, strlen(want));
	cr_assert_str_eq(plain, want);
	free(plain);
}

static void expect_closed(const unsigned char *blob, size_t len)
{
	char *plain = (char *)"unset";
	size_t n = 7;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_unseal(blob, len, &plain, &n, &e), CAIRN_EIO);
	cr_assert_eq(e.code, CAIRN_EIO);
	cr_assert_str_eq(e.slug, "secret_unreadable");
	cr_assert_null(plain);
	cr_assert_eq(n, 0);
}

/* Opens blob with key directly (libsodium), proving which key sealed it. */
static int opens_with(const unsigned char *blob, size_t len, const unsigned char key[32])
{
	unsigned char plain[256];
	cr_assert_lt(len, sizeof plain);
	return crypto_secretbox_open_easy(plain, blob + crypto_secretbox_NONCEBYTES, len - crypto_secretbox_NONCEBYTES,
					  blob, key) == 0;
}

Test(secret, env_hex_key_is_the_key)
{
	key_use(KEY_A);
	unsigned char raw[32];
	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)i;
	unsigned char *blob;
	size_t len;
	seal_str("hello", &blob, &len);
	cr_assert(opens_with(blob, len, raw));
	expect_opens(blob, len, "hello");
	free(blob);
	char path[128];
	path_in(path, sizeof path, "secret.key");
	cr_assert_neq(access(path, F_OK), 0, "no key file with CAIRN_SECRET_KEY set");
}

Test(secret, passphrase_is_hashed_to_a_key)
{
	key_use("correct horse battery staple");
	unsigned char *blob;
	size_t len;
	seal_str("hello", &blob, &len);
	unsigned char raw[32] = {0};
	memcpy(raw, "correct horse battery staple", 28);
	cr_assert_not(opens_with(blob, len, raw), "the passphrase's bytes are not the key");
	key_use("correct horse battery staple");
	expect_opens(blob, len, "hello");
	key_use("correct horse battery stapler");
	expect_closed(blob, len);
	free(blob);
	/* 64 characters that are not hex are a passphrase too */
	key_use("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	seal_str("x", &blob, &len);
	expect_opens(blob, len, "x");
	key_use(KEY_A);
	expect_closed(blob, len);
	free(blob);
	char path[128];
	path_in(path, sizeof path, "secret.key");
	cr_assert_neq(access(path, F_OK), 0);
}

Test(secret, key_file_is_made_0600_and_reused)
{
	unsetenv("CAIRN_SECRET_KEY");
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_secret_init(secret_dir, &e), 0, "%s", e.message);
	char path[128], tmp[140];
	path_in(path, sizeof path, "secret.key");
	path_in(tmp, sizeof tmp, "secret.key.tmp");
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert(S_ISREG(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", (unsigned)(sb.st_mode & 0777));
	cr_assert_eq(sb.st_size, 32);
	cr_assert_neq(access(tmp, F_OK), 0, "no temporary file left");
	unsigned char k1[32];
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(k1, 1, sizeof k1, f), sizeof k1);
	fclose(f);
	unsigned char *blob;
	size_t len;
	seal_str("kept", &blob, &len);
	cr_assert(opens_with(blob, len, k1), "sealed with the file's key");

	/* a second init reads the same file, unchanged */
	cr_assert_eq(dlv_secret_init(secret_dir, &e), 0, "%s", e.message);
	unsigned char k2[32];
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(k2, 1, sizeof k2, f), sizeof k2);
	fclose(f);
	cr_assert_arr_eq(k1, k2, sizeof k1);
	expect_opens(blob, len, "kept");

	/* another directory is another installation */
	char other[128];
	snprintf(other, sizeof other, "%s/other", secret_dir);
	cr_assert_eq(mkdir(other, 0700), 0);
	cr_assert_eq(dlv_secret_init(other, &e), 0, "%s", e.message);
	expect_closed(blob, len);
	cr_assert_eq(dlv_secret_init(secret_dir, &e), 0, "%s", e.message);
	expect_opens(blob, len, "kept");
	free(blob);
}

Test(secret, key_file_of_the_wrong_size_or_no_directory_fails)
{
	unsetenv("CAIRN_SECRET_KEY");
	char path[128];
	path_in(path, sizeof path, "secret.key");
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite("0123456789abcdef", 1, 16, f), 16);
	fclose(f);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(dlv_secret_init(secret_dir, &e), CAIRN_EINVAL);
	cr_assert_str_eq(e.slug, "secret_key_invalid");
	cairn_err_clear(&e);
	cr_assert_eq(dlv_secret_init("/nonexistent/cairn-no-such-dir", &e), CAIRN_EIO);
	cr_assert_str_eq(e.slug, "secret_key_unwritable");
	/* an empty CAIRN_SECRET_KEY is no key: the file is used */
	setenv("CAIRN_SECRET_KEY", "", 1);
	cairn_err_clear(&e);
	cr_assert_eq(dlv_secret_init(secret_dir, &e), CAIRN_EINVAL);
	cr_assert_eq(unlink(path), 0);
}

Test(secret, tampered_or_short_blobs_do_not_open)
{
	key_use(KEY_A);
	unsigned char *blob;
	size_t len;
	seal_str("the secret", &blob, &len);
	expect_opens(blob, len, "the secret");
	size_t at[] = {0, crypto_secretbox_NONCEBYTES, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
		       len - 1};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		blob[at[i]] ^= 0x01;
		expect_closed(blob, len);
		blob[at[i]] ^= 0x01;
	}
	expect_closed(blob, len - 1);
	expect_closed(blob, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES - 1);
	expect_closed(blob, 0);
	expect_opens(blob, len, "the secret");
	free(blob);
	/* nonces are fresh: the same text seals differently */
	unsigned char *b1, *b2;
	size_t l1, l2;
	seal_str("same", &b1, &l1);
	seal_str("same", &b2, &l2);
	cr_assert_eq(l1, l2);
	cr_assert_neq(memcmp(b1, b2, l1), 0);
	free(b1);
	free(b2);
	/* an empty secret round-trips */
	seal_str("", &b1, &l1);
	expect_opens(b1, l1, "");
	free(b1);
}

Test(secret, blob_from_key_a_does_not_open_under_key_b)
{
	key_use(KEY_A);
	unsigned char *blob;
	size_t len;
	seal_str("under A", &blob, &len);
	key_use(KEY_B);
	expect_closed(blob, len);
	key_use(KEY_A);
	expect_opens(blob, len, "under A");
	free(blob);
}

Test(secret, derived_keys_depend_on_purpose_and_key)
{
	key_use(KEY_A);
	unsigned char a1[DLV_SECRET_KEY_BYTES], a2[DLV_SECRET_KEY_BYTES], other[DLV_SECRET_KEY_BYTES],
		b1[DLV_SECRET_KEY_BYTES];
	dlv_secret_derive("links", a1);
	dlv_secret_derive("links", a2);
	dlv_secret_derive("unsubscribe", other);
	cr_assert_arr_eq(a1, a2, sizeof a1);
	cr_assert_arr_neq(a1, other, sizeof a1);
	unsigned char raw[32];
	for (int i = 0; i < 32; i++)
		raw[i] = (unsigned char)i;
	cr_assert_arr_neq(a1, raw, sizeof a1, "not the key itself");
	key_use(KEY_B);
	dlv_secret_derive("links", b1);
	cr_assert_arr_neq(a1, b1, sizeof a1);
}
