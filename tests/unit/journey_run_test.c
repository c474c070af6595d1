/* journey_run_test.c — the step executor (src/journey/journey_run.c) against
 * a fake host on a virtual clock: every node type, the journey rules
 * (exit_on, goal window, re-entry, quiet hours, frequency caps, the
 * runaway-loop guard), local times in Asia/Seoul and in America/New_York
 * across the 2026 daylight-saving changes, deterministic splits and send
 * variants, and the reason reported for each node reached.
 *
 * Definitions are written with single quotes for readability; def() turns
 * them into JSON. Times are RFC 3339; the reasons print instants as
 * "<UTC> (<weekday> <HH:MM> <zone>)". */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/tz.h"
#include "journey/journey.h"
#include "journey/journey_run.h"

#define MIN_MS	  60000LL
#define HOUR_MS	  3600000LL
#define DAY_MS	  86400000LL
#define MAX_STEPS 1024
#define MAX_CALLS 64

/* ---- the fake host --------------------------------------------------------- */

struct rec_step {
	char node[JNY_MAX_ID + 1];
	char reason[600];
	int64_t at;
};

struct rec_send {
	char node[JNY_MAX_ID + 1];
	char channel[16];
	char template_id[64]; /* "" when inline */
	char *inline_tpl;     /* compact JSON, or NULL */
	char variant[96];     /* "" when none */
	int advertising;
	size_t nfallback;
	char fallback0[16];
	int64_t at;
};

struct rig {
	struct jny_def *d;
	struct jny_inst in;
	struct jny_host h;
	struct cond_ctx ctx;
	struct cairn_err err;
	json_t *traits;
	const char *tags[8];

	struct rec_step *steps; /* MAX_STEPS */
	size_t nsteps;
	struct rec_send sends[MAX_CALLS];
	size_t nsends;
	char updates[MAX_CALLS][JNY_MAX_ID + 1];
	size_t nupdates;
	char notifies[MAX_CALLS][JNY_MAX_ID + 1];
	size_t nnotifies;
	char goals[MAX_CALLS][JNY_MAX_ID + 1]; /* "(journey)" for the journey goal */
	size_t ngoals;
	char exits[MAX_CALLS][300];
	size_t nexits;

	int send_rc;	      /* what send answers: 0 queued, 1 not sent */
	int cap_rc;	      /* what capped answers while cap_times > 0 */
	int cap_times;	      /* how many more calls answer cap_rc; then free */
	int64_t cap_until;    /* *until when capped */
	int cap_skip;	      /* *skip when capped */
	int cap_calls;	      /* how often capped was asked */
	char cap_channel[16]; /* the channel last asked about */
};

/* One rig per test: Criterion runs each test in its own process. */
static struct rig R;

static int64_t T(const char *rfc3339)
{
	int64_t ms = 0;
	cr_assert_eq(clock_parse_rfc3339(rfc3339, &ms), 0, "bad time %s", rfc3339);
	return ms;
}

static int f_step(void *arg, const struct jny_node *n, const char *reason, struct cairn_err *err)
{
	struct rig *r = arg;
	cr_assert_lt(r->nsteps, MAX_STEPS);
	struct rec_step *s = &r->steps[r->nsteps++];
	snprintf(s->node, sizeof s->node, "%s", n->id);
	snprintf(s->reason, sizeof s->reason, "%s", reason);
	s->at = r->h.now;
	return 0;
}

static int f_send(void *arg, const struct jny_node *n, const char *channel, const char *template_id,
		  const json_t *inline_tpl, const char *variant, int advertising, struct cairn_err *err)
{
	struct rig *r = arg;
	cr_assert_lt(r->nsends, MAX_CALLS);
	cr_assert((template_id == NULL) != (inline_tpl == NULL), "exactly one of template id and inline");
	struct rec_send *s = &r->sends[r->nsends++];
	snprintf(s->node, sizeof s->node, "%s", n->id);
	snprintf(s->channel, sizeof s->channel, "%s", channel);
	snprintf(s->template_id, sizeof s->template_id, "%s", template_id ? template_id : "");
	s->inline_tpl = inline_tpl ? json_dumps(inline_tpl, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	snprintf(s->variant, sizeof s->variant, "%s", variant ? variant : "");
	s->advertising = advertising;
	s->nfallback = n->nfallback;
	snprintf(s->fallback0, sizeof s->fallback0, "%s", n->nfallback ? n->fallback[0] : "");
	s->at = r->h.now;
	return r->send_rc;
}

static int f_update(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct rig *r = arg;
	if (r->nupdates < MAX_CALLS) /* loops count beyond what is kept */
		snprintf(r->updates[r->nupdates], JNY_MAX_ID + 1, "%s", n->id);
	r->nupdates++;
	return 0;
}

static int f_notify(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct rig *r = arg;
	cr_assert_lt(r->nnotifies, MAX_CALLS);
	snprintf(r->notifies[r->nnotifies++], JNY_MAX_ID + 1, "%s", n->id);
	return 0;
}

static int f_goal(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct rig *r = arg;
	cr_assert_lt(r->ngoals, MAX_CALLS);
	snprintf(r->goals[r->ngoals++], JNY_MAX_ID + 1, "%s", n ? n->id : "(journey)");
	return 0;
}

static int f_capped(void *arg, const char *channel, int64_t *until, int *skip, struct cairn_err *err)
{
	struct rig *r = arg;
	r->cap_calls++;
	snprintf(r->cap_channel, sizeof r->cap_channel, "%s", channel);
	if (r->cap_times <= 0)
		return 0;
	r->cap_times--;
	*until = r->cap_until;
	*skip = r->cap_skip;
	return r->cap_rc;
}

static int f_exited(void *arg, const char *reason, struct cairn_err *err)
{
	struct rig *r = arg;
	cr_assert_lt(r->nexits, MAX_CALLS);
	snprintf(r->exits[r->nexits++], sizeof r->exits[0], "%s", reason);
	return 0;
}

static int f_has_tag(void *arg, const char *tag)
{
	struct rig *r = arg;
	for (size_t i = 0; i < 8 && r->tags[i]; i++) {
		if (!strcmp(r->tags[i], tag))
			return 1;
	}
	return 0;
}

/* A definition written with single quotes. */
static struct jny_def *def(const char *src)
{
	char *s = strdup(src);
	for (char *p = s; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	cr_assert_not_null(j, "bad JSON (%s): %s", je.text, s);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(j, &err);
	cr_assert_not_null(d, "jny_parse: %s (%s)", err.message, err.field);
	json_decref(j);
	free(s);
	return d;
}

/* Forgets what was recorded and puts a fresh instance before the start. */
static void rig_reset(void)
{
	for (size_t i = 0; i < R.nsends; i++)
		free(R.sends[i].inline_tpl);
	R.nsteps = R.nsends = R.nupdates = R.nnotifies = R.ngoals = R.nexits = 0;
	R.cap_calls = 0;
	memset(&R.in, 0, sizeof R.in);
	R.in.node = JNY_NONE;
	R.err = (struct cairn_err)CAIRN_ERR_INIT;
}

static void set_now(int64_t now)
{
	R.h.now = now;
	R.ctx.now_ms = now;
}

/* The rig for one definition, user "u1" of journey "j1" at now in tz, with
 * traits {"plan":"pro","country":"KR"} and the tag "vip". */
static void rig_open(const char *src, const char *now, const char *tz)
{
	memset(&R, 0, sizeof R);
	R.steps = calloc(MAX_STEPS, sizeof *R.steps);
	R.d = def(src);
	R.traits = json_pack("{s:s,s:s}", "plan", "pro", "country", "KR");
	R.tags[0] = "vip";
	R.ctx = (struct cond_ctx){.traits = R.traits, .arg = &R, .has_tag = f_has_tag};
	R.h = (struct jny_host){.arg = &R,
				.tz = tz,
				.journey_id = "j1",
				.user_key = "u1",
				.user = &R.ctx,
				.step = f_step,
				.send = f_send,
				.update = f_update,
				.notify = f_notify,
				.goal = f_goal,
				.capped = f_capped,
				.exited = f_exited};
	set_now(T(now));
	rig_reset();
}

static void rig_close(void)
{
	rig_reset();
	jny_free(R.d);
	json_decref(R.traits);
	free(R.steps);
}

static void enter(void)
{
	int rc = jny_run(R.d, &R.in, &R.h, JNY_ENTER, &R.err);
	cr_assert_eq(rc, 0, "jny_run(ENTER) = %d: %s", rc, R.err.message);
}

/* The timer is due: the clock moves to it and the instance runs. */
static void fire(void)
{
	cr_assert_eq(R.in.state, JNY_WAITING, "no timer to fire (state %d)", R.in.state);
	set_now(R.in.due_at);
	int rc = jny_run(R.d, &R.in, &R.h, JNY_TIMER, &R.err);
	cr_assert_eq(rc, 0, "jny_run(TIMER) = %d: %s", rc, R.err.message);
}

/* An event for the user (properties written with single quotes, or NULL);
 * returns *changed. */
static int event_at(const char *when, const char *name, const char *props)
{
	set_now(T(when));
	json_t *p = NULL;
	if (props) {
		char *s = strdup(props);
		for (char *c = s; *c; c++) {
			if (*c == '\'')
				*c = '"';
		}
		p = json_loads(s, 0, NULL);
		cr_assert_not_null(p, "bad properties %s", s);
		free(s);
	}
	int changed = -1;
	int rc = jny_on_event(R.d, &R.in, &R.h, name, p, &changed, &R.err);
	cr_assert_eq(rc, 0, "jny_on_event = %d: %s", rc, R.err.message);
	json_decref(p);
	return changed;
}

static void expect_step(size_t i, const char *node, const char *reason)
{
	cr_assert_lt(i, R.nsteps, "only %zu steps, wanted step %zu (%s)", R.nsteps, i, node);
	cr_expect_str_eq(R.steps[i].node, node, "step %zu", i);
	if (reason)
		cr_expect_str_eq(R.steps[i].reason, reason, "step %zu at %s:\n  got  %s\n  want %s", i, node,
				 R.steps[i].reason, reason);
}

/* The nodes reported, in order: expect_path("a", "b", NULL). */
static void expect_path(const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	size_t i = 0;
	for (const char *id = first; id; id = va_arg(ap, const char *), i++) {
		cr_assert_lt(i, R.nsteps, "path ends after %zu steps; expected %s next", R.nsteps, id);
		cr_expect_str_eq(R.steps[i].node, id, "step %zu (reason: %s)", i, R.steps[i].reason);
	}
	va_end(ap);
	cr_expect_eq(R.nsteps, i, "%zu steps, expected %zu (last: %s)", R.nsteps, i,
		     R.nsteps ? R.steps[R.nsteps - 1].reason : "");
}

static void expect_timer(const char *kind, const char *due)
{
	cr_assert_eq(R.in.state, JNY_WAITING, "state %d, expected waiting", R.in.state);
	cr_expect_str_eq(R.in.timer_kind, kind);
	char got[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(R.in.due_at, got);
	cr_expect_eq(R.in.due_at, T(due), "timer at %s, expected %s", got, due);
}

static void expect_exited(const char *reason)
{
	cr_assert_eq(R.in.state, JNY_EXITED, "state %d, expected exited", R.in.state);
	cr_expect_str_eq(R.in.exit_reason, reason);
	cr_expect_eq(R.in.due_at, 0);
	cr_expect_str_eq(R.in.timer_kind, "");
	cr_expect_eq(R.in.waiting_event, 0);
	cr_assert_eq(R.nexits, 1, "host->exited called %zu times", R.nexits);
	cr_expect_str_eq(R.exits[0], reason);
}

/* Definitions: a manual trigger and the given nodes / rules. */
#define JOURNEY(rules, nodes) "{'name':'t','trigger':{'type':'manual'}," rules "'nodes':[" nodes "]}"
#define NOQUIET		      "'quiet_hours':false,"

/* Monday 2026-03-02 10:00 in Seoul. */
#define MON10_KST "2026-03-02T10:00:00+09:00"
#define SEOUL	  "Asia/Seoul"
#define NEWYORK	  "America/New_York"

/* ---- send ------------------------------------------------------------------ */

Test(journey_run_send, template_id)
{
	rig_open(JOURNEY("", "{'id':'hello','type':'send','channel':'email','template':'welcome-1'}"), MON10_KST,
		 SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1);
	cr_expect_str_eq(R.sends[0].node, "hello");
	cr_expect_str_eq(R.sends[0].channel, "email");
	cr_expect_str_eq(R.sends[0].template_id, "welcome-1");
	cr_expect_null(R.sends[0].inline_tpl);
	cr_expect_str_eq(R.sends[0].variant, "");
	cr_expect_eq(R.sends[0].advertising, 1, "a journey is advertising unless it says otherwise");
	cr_expect_eq(R.sends[0].at, T(MON10_KST));
	expect_path("hello", NULL);
	expect_step(0, "hello", "sent email template 'welcome-1'");
	expect_exited("completed");
	cr_expect_eq(R.in.entered_at, T(MON10_KST));
	rig_close();
}

Test(journey_run_send, inline_template)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'m','type':'send','channel':'sms','template':{'text':'Hi {{ name }}'}}"),
		 MON10_KST, SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1);
	cr_expect_str_eq(R.sends[0].channel, "sms");
	cr_expect_str_eq(R.sends[0].template_id, "");
	cr_expect_str_eq(R.sends[0].inline_tpl, "{\"text\":\"Hi {{ name }}\"}");
	expect_step(0, "m", "sent sms inline message");
	rig_close();
}

Test(journey_run_send, fallback_list_reaches_the_host)
{
	rig_open(JOURNEY(NOQUIET,
			 "{'id':'m','type':'send','channel':'kakao','template':'k1','fallback':['sms','email'],"
			 "'next':'x'},{'id':'x','type':'exit'}"),
		 MON10_KST, SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1, "one message decided; the host walks the fallback list");
	cr_expect_str_eq(R.sends[0].channel, "kakao", "the node's own channel first");
	cr_expect_eq(R.sends[0].nfallback, 2);
	cr_expect_str_eq(R.sends[0].fallback0, "sms");
	expect_path("m", "x", NULL);
	expect_exited("exit node");
	rig_close();
}

Test(journey_run_send, informational_node_flag)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'m','type':'send','channel':'email','template':'receipt','advertising':false,"
				  "'next':'n'},{'id':'n','type':'send','channel':'email','template':'promo'}"),
		 MON10_KST, SEOUL);
	enter();
	cr_assert_eq(R.nsends, 2);
	cr_expect_eq(R.sends[0].advertising, 0);
	cr_expect_eq(R.sends[1].advertising, 1);
	rig_close();
}

Test(journey_run_send, host_declines_and_the_path_goes_on)
{
	/* send answers 1: the host recorded the step itself (e.g. the template
	 * cannot render); the executor reports nothing more for it and moves on */
	rig_open(JOURNEY(NOQUIET, "{'id':'m','type':'send','channel':'email','template':'broken','next':'u'},"
				  "{'id':'u','type':'update','tags_add':['x']}"),
		 MON10_KST, SEOUL);
	R.send_rc = 1;
	enter();
	cr_expect_eq(R.nsends, 1);
	expect_path("u", NULL);
	expect_exited("completed");
	rig_close();
}

#define SEND_VARIANTS                                                                                                  \
	"{'id':'m','type':'send','channel':'email','variants':[{'name':'A','weight':70,'template':'offer-a'},"         \
	"{'name':'B','weight':30,'template':{'subject':'B','html':'<p>B</p>'}}]}"

Test(journey_run_send, variants_deterministic_per_user)
{
	rig_open(JOURNEY(NOQUIET, SEND_VARIANTS), MON10_KST, SEOUL);
	int seen_a = 0, seen_b = 0;
	for (int u = 0; u < 50; u++) {
		char key[32], first[96];
		snprintf(key, sizeof key, "user-%d", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		cr_assert_eq(R.nsends, 1);
		snprintf(first, sizeof first, "%s", R.sends[0].variant);
		if (!strcmp(first, "A")) {
			seen_a++;
			cr_expect_str_eq(R.sends[0].template_id, "offer-a");
			cr_expect_null(R.sends[0].inline_tpl);
			expect_step(0, "m", "sent email template 'offer-a', variant A");
		} else {
			seen_b++;
			cr_expect_str_eq(first, "B");
			cr_expect_str_eq(R.sends[0].template_id, "");
			cr_expect_str_eq(R.sends[0].inline_tpl, "{\"html\":\"<p>B</p>\",\"subject\":\"B\"}");
			expect_step(0, "m", "sent email inline message, variant B");
		}
		/* the same user again: the same variant */
		rig_reset();
		enter();
		cr_expect_str_eq(R.sends[0].variant, first, "user %s changed variant", key);
	}
	cr_expect(seen_a > 0 && seen_b > 0, "A %d, B %d", seen_a, seen_b);
	rig_close();
}

Test(journey_run_send, variants_distribution)
{
	rig_open(JOURNEY(NOQUIET, SEND_VARIANTS), MON10_KST, SEOUL);
	int a = 0;
	for (int u = 0; u < 10000; u++) {
		char key[32];
		snprintf(key, sizeof key, "synthetic-%d", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		a += !strcmp(R.sends[0].variant, "A");
	}
	cr_expect(a >= 6800 && a <= 7200, "variant A (weight 70) went to %d of 10000", a);
	rig_close();
}

/* ---- wait ------------------------------------------------------------------ */

#define AFTER_WAIT ",'next':'after'},{'id':'after','type':'update','tags_add':['x']}"

Test(journey_run_wait, duration)
{
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'days':2}" AFTER_WAIT), MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-04T01:00:00Z");
	cr_expect_eq(R.in.node, 0);
	expect_path("w", NULL);
	expect_step(0, "w", "waiting 2 days, until 2026-03-04T01:00:00.000Z (Wed 10:00 Asia/Seoul)");
	fire();
	expect_path("w", "after", NULL);
	cr_expect_eq(R.steps[1].at, T("2026-03-04T10:00:00+09:00"));
	expect_exited("completed");
	rig_close();
}

Test(journey_run_wait, duration_mixed_units)
{
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'days':1,'hours':3,'minutes':30}" AFTER_WAIT),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-03T13:30:00+09:00");
	expect_step(0, "w", "waiting 1 day 3 hours 30 minutes, until 2026-03-03T04:30:00.000Z (Tue 13:30 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait, until_local_time_next_day)
{
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'time':'09:00'}" AFTER_WAIT), MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-03T09:00:00+09:00");
	expect_step(0, "w", "waiting 23 hours, until 2026-03-03T00:00:00.000Z (Tue 09:00 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait, until_local_time_same_day)
{
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'time':'09:00'}" AFTER_WAIT),
		 "2026-03-02T07:15:00+09:00", SEOUL);
	enter();
	expect_timer("wait", "2026-03-02T09:00:00+09:00");
	expect_step(0, "w", "waiting 1 hour 45 minutes, until 2026-03-02T00:00:00.000Z (Mon 09:00 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait, until_weekday_and_time)
{
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'time':'10:00','weekdays':['fri']}" AFTER_WAIT),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-06T10:00:00+09:00");
	expect_step(0, "w", "waiting 4 days, until 2026-03-06T01:00:00.000Z (Fri 10:00 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait, until_weekday_only)
{
	/* no time: the start of the next allowed local day */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'weekdays':['wed','thu']}" AFTER_WAIT), MON10_KST,
		 SEOUL);
	enter();
	expect_timer("wait", "2026-03-04T00:00:00+09:00");
	expect_step(0, "w", "waiting 1 day 14 hours, until 2026-03-03T15:00:00.000Z (Wed 00:00 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait, duration_then_local_time)
{
	/* 1 day from Monday 10:00 is Tuesday 10:00: the next 09:00 is Wednesday */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'days':1},'until':{'time':'09:00'}" AFTER_WAIT),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-04T09:00:00+09:00");
	expect_step(0, "w", "waiting 1 day 23 hours, until 2026-03-04T00:00:00.000Z (Wed 09:00 Asia/Seoul)");
	rig_close();

	/* 1 hour from 07:30 is 08:30: 09:00 the same day */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'hours':1},'until':{'time':'09:00'}" AFTER_WAIT),
		 "2026-03-02T07:30:00+09:00", SEOUL);
	enter();
	expect_timer("wait", "2026-03-02T09:00:00+09:00");
	rig_close();
}

Test(journey_run_wait, duration_then_weekday_and_time)
{
	/* 2 days from Monday 10:00 is Wednesday 10:00; the next Monday 09:00 is a week on */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'days':2},'until':{'time':'09:00','weekdays':['mon']"
			     "}" AFTER_WAIT),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-09T09:00:00+09:00");
	expect_step(0, "w", "waiting 6 days 23 hours, until 2026-03-09T00:00:00.000Z (Mon 09:00 Asia/Seoul)");
	rig_close();
}

/* ---- wait_event ------------------------------------------------------------ */

#define WAIT_EVENT_JOURNEY                                                                                             \
	JOURNEY(NOQUIET, "{'id':'clicked?','type':'wait_event','event':'Email Link Clicked',"                          \
			 "'where':{'property':'link_kind','op':'eq','value':'purchase'},'timeout':{'days':5},"         \
			 "'next':'tag','timeout_next':'help'},"                                                        \
			 "{'id':'tag','type':'update','tags_add':['interest:buying']},"                                \
			 "{'id':'help','type':'send','channel':'email','template':'need-help'}")

Test(journey_run_wait_event, waits_with_a_timeout)
{
	rig_open(WAIT_EVENT_JOURNEY, MON10_KST, SEOUL);
	enter();
	expect_timer("timeout", "2026-03-07T10:00:00+09:00");
	cr_expect_eq(R.in.waiting_event, 1);
	expect_path("clicked?", NULL);
	expect_step(0, "clicked?",
		    "waiting for Email Link Clicked until 2026-03-07T01:00:00.000Z (Sat 10:00 Asia/Seoul)");
	rig_close();
}

Test(journey_run_wait_event, matching_event_takes_next)
{
	rig_open(WAIT_EVENT_JOURNEY, MON10_KST, SEOUL);
	enter();
	/* another event, and the right event failing `where`: nothing moves */
	cr_expect_eq(event_at("2026-03-03T10:00:00+09:00", "Email Opened", "{'link_kind':'purchase'}"), 0);
	cr_expect_eq(event_at("2026-03-03T11:00:00+09:00", "Email Link Clicked", "{'link_kind':'review'}"), 0);
	cr_expect_eq(event_at("2026-03-03T11:30:00+09:00", "Email Link Clicked", NULL), 0);
	expect_timer("timeout", "2026-03-07T10:00:00+09:00");
	cr_expect_eq(R.in.waiting_event, 1);
	expect_path("clicked?", NULL);

	cr_expect_eq(event_at("2026-03-03T12:00:00+09:00", "Email Link Clicked", "{'link_kind':'purchase'}"), 1);
	expect_path("clicked?", "clicked?", "tag", NULL);
	expect_step(1, "clicked?", "Email Link Clicked happened");
	cr_expect_eq(R.nupdates, 1);
	cr_expect_eq(R.nsends, 0, "the timeout path is not taken");
	expect_exited("completed");
	rig_close();
}

Test(journey_run_wait_event, timeout_takes_timeout_next)
{
	rig_open(WAIT_EVENT_JOURNEY, MON10_KST, SEOUL);
	enter();
	fire();
	expect_path("clicked?", "clicked?", "help", NULL);
	expect_step(1, "clicked?", "no Email Link Clicked within 5 days: timeout");
	cr_expect(strstr(R.steps[1].reason, "Email Link Clicked") != NULL, "the reason names the event");
	cr_assert_eq(R.nsends, 1);
	cr_expect_str_eq(R.sends[0].template_id, "need-help");
	cr_expect_eq(R.sends[0].at, T("2026-03-07T10:00:00+09:00"));
	cr_expect_eq(R.nupdates, 0);
	expect_exited("completed");
	/* the event after the timeout changes nothing */
	cr_expect_eq(event_at("2026-03-08T10:00:00+09:00", "Email Link Clicked", "{'link_kind':'purchase'}"), 0);
	cr_expect_eq(R.nupdates, 0);
	rig_close();
}

Test(journey_run_wait_event, timeout_without_timeout_next_completes)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'e','type':'wait_event','event':'Order Completed','timeout':{'hours':6},"
				  "'next':'x'},{'id':'x','type':'exit'}"),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("timeout", "2026-03-02T16:00:00+09:00");
	fire();
	expect_step(1, "e", "no Order Completed within 6 hours: timeout");
	expect_exited("completed");
	rig_close();
}

/* ---- branch ---------------------------------------------------------------- */

#define BRANCH_JOURNEY(b1, b2)                                                                                         \
	JOURNEY(NOQUIET, "{'id':'b','type':'branch','branches':[{'when':" b1 ",'next':'one'},{'when':" b2 ","          \
			 "'next':'two'}],'else':'other'},"                                                             \
			 "{'id':'one','type':'exit'},{'id':'two','type':'exit'},{'id':'other','type':'exit'}")

Test(journey_run_branch, second_branch_holds)
{
	rig_open(BRANCH_JOURNEY("{'trait':'plan','op':'eq','value':'free'}", "{'tag':'vip'}"), MON10_KST, SEOUL);
	enter();
	expect_path("b", "two", NULL);
	cr_expect(!strncmp(R.steps[0].reason, "branch 2 held: ", 15), "reason: %s", R.steps[0].reason);
	cr_expect(strstr(R.steps[0].reason, "vip") != NULL, "the reason shows the condition: %s", R.steps[0].reason);
	expect_exited("exit node");
	rig_close();
}

Test(journey_run_branch, first_matching_branch_wins)
{
	rig_open(BRANCH_JOURNEY("{'trait':'plan','op':'eq','value':'pro'}", "{'tag':'vip'}"), MON10_KST, SEOUL);
	enter();
	expect_path("b", "one", NULL);
	cr_expect(!strncmp(R.steps[0].reason, "branch 1 held: ", 15), "reason: %s", R.steps[0].reason);
	cr_expect(strstr(R.steps[0].reason, "plan") && strstr(R.steps[0].reason, "pro"), "reason: %s",
		  R.steps[0].reason);
	rig_close();
}

Test(journey_run_branch, else_when_none_holds)
{
	rig_open(BRANCH_JOURNEY("{'trait':'country','op':'eq','value':'JP'}", "{'not':{'tag':'vip'}}"), MON10_KST,
		 SEOUL);
	enter();
	expect_path("b", "other", NULL);
	expect_step(0, "b", "no branch held: else");
	rig_close();
}

Test(journey_run_branch, no_else_completes)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'b','type':'branch','branches':[{'when':{'tag':'gone'},'next':'x'}]},"
				  "{'id':'x','type':'exit'}"),
		 MON10_KST, SEOUL);
	enter();
	expect_path("b", NULL);
	expect_exited("completed");
	rig_close();
}

/* ---- split ----------------------------------------------------------------- */

#define SPLIT_JOURNEY(holdout)                                                                                         \
	JOURNEY(NOQUIET, "{'id':'s','type':'split','variants':[{'name':'A','weight':50,'next':'a'},"                   \
			 "{'name':'B','weight':50,'next':'b'}]" holdout "},"                                           \
			 "{'id':'a','type':'update','tags_add':['a']},{'id':'b','type':'update','tags_add':['b']}")

Test(journey_run_split, variant_reason_and_path)
{
	rig_open(SPLIT_JOURNEY(""), MON10_KST, SEOUL);
	enter();
	cr_assert_eq(R.nsteps, 2);
	const char *v = R.in.variant;
	cr_assert(!strcmp(v, "A") || !strcmp(v, "B"), "variant %s", v);
	char want[160];
	snprintf(want, sizeof want, "variant %s (weight 50)", v);
	expect_step(0, "s", want);
	expect_step(1, !strcmp(v, "A") ? "a" : "b", "profile updated");
	expect_exited("completed");
	rig_close();
}

Test(journey_run_split, same_user_same_variant)
{
	rig_open(SPLIT_JOURNEY(",'holdout':10"), MON10_KST, SEOUL);
	for (int u = 0; u < 200; u++) {
		char key[32], first[96];
		snprintf(key, sizeof key, "user-%d", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		snprintf(first, sizeof first, "%s", R.in.variant);
		for (int again = 0; again < 3; again++) {
			rig_reset();
			set_now(T(MON10_KST) + again * DAY_MS); /* the time does not matter */
			enter();
			cr_assert_str_eq(R.in.variant, first, "user %s", key);
		}
		set_now(T(MON10_KST));
	}
	rig_close();
}

Test(journey_run_split, holdout_leaves)
{
	rig_open(SPLIT_JOURNEY(",'holdout':10"), MON10_KST, SEOUL);
	int found = 0;
	for (int u = 0; u < 1000 && !found; u++) {
		char key[32];
		snprintf(key, sizeof key, "user-%d", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		if (strcmp(R.in.variant, "holdout"))
			continue;
		found = 1;
		expect_path("s", NULL);
		cr_expect(!strncmp(R.steps[0].reason, "holdout (10% of users", 21), "reason: %s", R.steps[0].reason);
		expect_exited("holdout");
		cr_expect_eq(R.nupdates, 0);
	}
	cr_expect(found, "no holdout user among 1000");
	rig_close();
}

Test(journey_run_split, distribution_with_holdout)
{
	rig_open(SPLIT_JOURNEY(",'holdout':10"), MON10_KST, SEOUL);
	int a = 0, b = 0, hold = 0;
	for (int u = 0; u < 10000; u++) {
		char key[32];
		snprintf(key, sizeof key, "synthetic-%d", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		if (!strcmp(R.in.variant, "A"))
			a++;
		else if (!strcmp(R.in.variant, "B"))
			b++;
		else if (!strcmp(R.in.variant, "holdout"))
			hold++;
		else
			cr_assert_fail("variant %s", R.in.variant);
	}
	cr_expect(hold >= 800 && hold <= 1200, "holdout 10%%: %d of 10000", hold);
	cr_expect(a >= 4300 && a <= 4700, "A (50%% of the rest): %d of 10000", a);
	cr_expect(b >= 4300 && b <= 4700, "B (50%% of the rest): %d of 10000", b);
	/* among users not held out, the variants keep their weights */
	cr_expect(a * 100 >= (a + b) * 48 && a * 100 <= (a + b) * 52, "A %d of %d", a, a + b);
	rig_close();
}

Test(journey_run_split, distribution_three_ways)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'s','type':'split','variants':[{'name':'small','weight':1},"
				  "{'name':'mid','weight':3},{'name':'big','weight':6}]}"),
		 MON10_KST, SEOUL);
	int n[3] = {0, 0, 0};
	for (int u = 0; u < 10000; u++) {
		char key[32];
		snprintf(key, sizeof key, "%d@example.com", u);
		R.h.user_key = key;
		rig_reset();
		enter();
		n[!strcmp(R.in.variant, "mid") + 2 * !strcmp(R.in.variant, "big")]++;
	}
	cr_expect(n[0] >= 800 && n[0] <= 1200, "small (10%%): %d", n[0]);
	cr_expect(n[1] >= 2800 && n[1] <= 3200, "mid (30%%): %d", n[1]);
	cr_expect(n[2] >= 5800 && n[2] <= 6200, "big (60%%): %d", n[2]);
	rig_close();
}

Test(journey_run_split, independent_per_node_and_journey)
{
	/* two 50/50 splits in a row: the second draw must not repeat the first */
	rig_open(JOURNEY(NOQUIET,
			 "{'id':'s1','type':'split','variants':[{'name':'A','weight':1,'next':'s2'},"
			 "{'name':'B','weight':1,'next':'s2'}]},"
			 "{'id':'s2','type':'split','variants':[{'name':'A','weight':1},{'name':'B','weight':1}]}"),
		 MON10_KST, SEOUL);
	int same_node = 0, same_journey = 0;
	for (int u = 0; u < 10000; u++) {
		char key[32], first[600], second[600];
		snprintf(key, sizeof key, "synthetic-%d", u);
		R.h.user_key = key;
		R.h.journey_id = "j1";
		rig_reset();
		enter();
		cr_assert_eq(R.nsteps, 2);
		snprintf(first, sizeof first, "%s", R.steps[0].reason);
		snprintf(second, sizeof second, "%s", R.steps[1].reason);
		same_node += !strcmp(first, second);
		R.h.journey_id = "j2";
		rig_reset();
		enter();
		same_journey += !strcmp(R.steps[0].reason, first);
	}
	cr_expect(same_node >= 4800 && same_node <= 5200, "s1 and s2 agree for %d of 10000", same_node);
	cr_expect(same_journey >= 4800 && same_journey <= 5200, "j1 and j2 agree for %d of 10000", same_journey);
	rig_close();
}

Test(journey_run_split, bucket)
{
	unsigned b = jny_bucket("j1", "u1", "s");
	cr_expect_lt(b, 10000u);
	cr_expect_eq(jny_bucket("j1", "u1", "s"), b, "stable");
	/* the parts are separated: ("ab","c") is not ("a","bc") */
	int differ = 0;
	for (int i = 0; i < 20; i++) {
		char x[32], y[32];
		snprintf(x, sizeof x, "u%d", i);
		snprintf(y, sizeof y, "u%dn", i);
		differ += jny_bucket("j", x, "node") != jny_bucket("j", y, "ode");
	}
	cr_expect_gt(differ, 15);
	/* every value of [0, 10000) is reachable in practice: a crude spread check */
	int low = 0;
	for (int i = 0; i < 10000; i++) {
		char k[32];
		snprintf(k, sizeof k, "%d", i);
		low += jny_bucket("j", k, "n") < 5000;
	}
	cr_expect(low >= 4800 && low <= 5200, "%d below 5000", low);
}

/* ---- update, webhook, slack, goal node, exit, end of path ------------------ */

Test(journey_run_nodes, every_action_node)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'tag','type':'update','tags_add':['interest:marketing'],'set':{'k':'v'},"
				  "'lifecycle':'mql','score':{'lead':10},'next':'wh'},"
				  "{'id':'wh','type':'webhook','url':'https://example.com/hook','body':'{{ user.id }}',"
				  "'next':'sl'},"
				  "{'id':'sl','type':'slack','channel':'#sales','text':'new lead','next':'g'},"
				  "{'id':'g','type':'goal','next':'end'},"
				  "{'id':'end','type':'exit'},"
				  "{'id':'never','type':'update','tags_add':['x']}"),
		 MON10_KST, SEOUL);
	enter();
	expect_path("tag", "wh", "sl", "g", "end", NULL);
	expect_step(0, "tag", "profile updated");
	expect_step(1, "wh", "webhook queued");
	expect_step(2, "sl", "slack message queued");
	expect_step(3, "g", "goal node reached: converted");
	expect_step(4, "end", "exit");
	cr_assert_eq(R.nupdates, 1);
	cr_expect_str_eq(R.updates[0], "tag");
	cr_assert_eq(R.nnotifies, 2);
	cr_expect_str_eq(R.notifies[0], "wh");
	cr_expect_str_eq(R.notifies[1], "sl");
	cr_assert_eq(R.ngoals, 1);
	cr_expect_str_eq(R.goals[0], "g");
	expect_exited("exit node");
	cr_expect_eq(R.in.node, 4, "the instance rests on the exit node");
	/* an exited instance does nothing more */
	cr_expect_eq(jny_run(R.d, &R.in, &R.h, JNY_TIMER, &R.err), 0);
	cr_expect_eq(R.nsteps, 5);
	cr_expect_eq(R.nexits, 1);
	rig_close();
}

Test(journey_run_nodes, end_of_path_completes)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'a','type':'update','tags_add':['x'],'next':'w'},"
				  "{'id':'w','type':'wait','duration':{'hours':1},'next':'b'},"
				  "{'id':'b','type':'slack','channel':'#ops','text':'done'}"),
		 MON10_KST, SEOUL);
	enter();
	expect_path("a", "w", NULL);
	cr_expect_eq(R.nexits, 0);
	fire();
	expect_path("a", "w", "b", NULL);
	expect_exited("completed");
	rig_close();
}

Test(journey_run_nodes, node_removed_under_a_timer)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'w','type':'wait','duration':{'hours':1}}"), MON10_KST, SEOUL);
	enter();
	R.in.node = 7; /* a later version without it */
	fire();
	expect_exited("node no longer exists");
	rig_close();
}

/* ---- rules: exit_on --------------------------------------------------------- */

#define EXIT_ON_RULES                                                                                                  \
	"'exit_on':[{'event':'Order "                                                                                  \
	"Completed'},{'event':'Unsubscribed','where':{'property':'channel','op':'eq','value':'email'}}],"

static void expect_exit_on(const char *event)
{
	char want[128];
	snprintf(want, sizeof want, "exit_on: %s", event);
	expect_exited(want);
	size_t steps = R.nsteps, sends = R.nsends;
	/* nothing runs after: neither the old timer nor another event */
	cr_expect_eq(jny_run(R.d, &R.in, &R.h, JNY_TIMER, &R.err), 0);
	cr_expect_eq(event_at("2026-03-20T10:00:00+09:00", event, "{'channel':'email'}"), 0);
	cr_expect_eq(R.nsteps, steps);
	cr_expect_eq(R.nsends, sends);
	cr_expect_eq(R.nexits, 1);
}

Test(journey_run_exit_on, from_a_wait)
{
	rig_open(JOURNEY(EXIT_ON_RULES, "{'id':'w','type':'wait','duration':{'days':3},'next':'m'},"
					"{'id':'m','type':'send','channel':'email','template':'t'}"),
		 MON10_KST, SEOUL);
	enter();
	expect_timer("wait", "2026-03-05T10:00:00+09:00");
	cr_expect_eq(event_at("2026-03-03T10:00:00+09:00", "Cart Viewed", NULL), 0);
	cr_expect_eq(R.in.state, JNY_WAITING);
	cr_expect_eq(event_at("2026-03-03T11:00:00+09:00", "Order Completed", "{'revenue':30}"), 1);
	expect_exit_on("Order Completed");
	cr_expect_eq(R.nsends, 0);
	rig_close();
}

Test(journey_run_exit_on, where_filters)
{
	rig_open(JOURNEY(EXIT_ON_RULES, "{'id':'w','type':'wait','duration':{'days':3}}"), MON10_KST, SEOUL);
	enter();
	cr_expect_eq(event_at("2026-03-03T10:00:00+09:00", "Unsubscribed", "{'channel':'sms'}"), 0);
	cr_expect_eq(R.in.state, JNY_WAITING);
	cr_expect_eq(event_at("2026-03-03T11:00:00+09:00", "Unsubscribed", "{'channel':'email'}"), 1);
	expect_exit_on("Unsubscribed");
	rig_close();
}

Test(journey_run_exit_on, from_a_wait_event)
{
	rig_open(JOURNEY(EXIT_ON_RULES, "{'id':'e','type':'wait_event','event':'Order Completed','timeout':{'days':1},"
					"'next':'thanks','timeout_next':'nudge'},"
					"{'id':'thanks','type':'send','channel':'email','template':'thanks'},"
					"{'id':'nudge','type':'send','channel':'email','template':'nudge'}"),
		 MON10_KST, SEOUL);
	enter();
	cr_expect_eq(R.in.waiting_event, 1);
	/* exit_on wins over the wait_event for the same event */
	cr_expect_eq(event_at("2026-03-02T12:00:00+09:00", "Order Completed", NULL), 1);
	expect_exit_on("Order Completed");
	expect_path("e", NULL);
	rig_close();
}

Test(journey_run_exit_on, from_a_held_send)
{
	/* held by quiet hours at 23:00, the order comes at 07:00: no message at 08:00 */
	rig_open(JOURNEY(EXIT_ON_RULES, "{'id':'m','type':'send','channel':'email','template':'t'}"),
		 "2026-03-02T23:00:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-03-03T08:00:00+09:00");
	cr_expect_eq(event_at("2026-03-03T07:00:00+09:00", "Order Completed", NULL), 1);
	expect_exit_on("Order Completed");
	cr_expect_eq(R.nsends, 0);
	rig_close();

	/* held by a frequency cap */
	rig_open(JOURNEY(NOQUIET EXIT_ON_RULES, "{'id':'m','type':'send','channel':'sms','template':'t'}"), MON10_KST,
		 SEOUL);
	R.cap_rc = 1;
	R.cap_times = 1;
	R.cap_until = T("2026-03-04T00:00:00+09:00");
	enter();
	expect_timer("cap", "2026-03-04T00:00:00+09:00");
	cr_expect_eq(event_at("2026-03-03T07:00:00+09:00", "Order Completed", NULL), 1);
	expect_exit_on("Order Completed");
	cr_expect_eq(R.nsends, 0);
	rig_close();
}

/* ---- rules: goal ------------------------------------------------------------ */

#define GOAL_JOURNEY(goal)                                                                                             \
	JOURNEY(NOQUIET goal, "{'id':'w','type':'wait','duration':{'days':30},'next':'m'},"                            \
			      "{'id':'m','type':'send','channel':'email','template':'t'}")

Test(journey_run_goal, within_the_window_converts_once)
{
	rig_open(GOAL_JOURNEY("'goal':{'event':'Order Completed','where':{'property':'revenue','op':'gt','value':0},"
			      "'within':{'days':7}},"),
		 MON10_KST, SEOUL);
	enter();
	cr_expect_eq(event_at("2026-03-03T10:00:00+09:00", "Order Completed", "{'revenue':0}"), 0, "where not met");
	cr_expect_eq(R.ngoals, 0);
	cr_expect_eq(event_at("2026-03-08T10:00:00+09:00", "Order Completed", "{'revenue':25}"), 1);
	cr_expect_eq(R.in.converted_at, T("2026-03-08T10:00:00+09:00"));
	cr_assert_eq(R.ngoals, 1);
	cr_expect_str_eq(R.goals[0], "(journey)");
	/* the goal does not end the journey */
	expect_timer("wait", "2026-04-01T10:00:00+09:00");
	/* a second order: converted once */
	cr_expect_eq(event_at("2026-03-08T12:00:00+09:00", "Order Completed", "{'revenue':40}"), 0);
	cr_expect_eq(R.ngoals, 1);
	cr_expect_eq(R.in.converted_at, T("2026-03-08T10:00:00+09:00"));
	rig_close();
}

Test(journey_run_goal, after_the_window_does_not_convert)
{
	rig_open(GOAL_JOURNEY("'goal':{'event':'Order Completed','within':{'days':7}},"), MON10_KST, SEOUL);
	enter();
	cr_expect_eq(event_at("2026-03-09T10:01:00+09:00", "Order Completed", NULL), 0);
	cr_expect_eq(R.ngoals, 0);
	cr_expect_eq(R.in.converted_at, 0);
	cr_expect_eq(R.in.state, JNY_WAITING);
	rig_close();
}

Test(journey_run_goal, without_a_window_any_time)
{
	rig_open(GOAL_JOURNEY("'goal':{'event':'Order Completed'},"), MON10_KST, SEOUL);
	enter();
	cr_expect_eq(event_at("2026-03-30T10:00:00+09:00", "Order Completed", NULL), 1);
	cr_expect_eq(R.ngoals, 1);
	rig_close();
}

Test(journey_run_goal, goal_event_also_moves_a_wait_event)
{
	rig_open(
		JOURNEY(NOQUIET "'goal':{'event':'Order Completed','within':{'days':7}},",
			"{'id':'e','type':'wait_event','event':'Order Completed','timeout':{'days':2},'next':'thanks'},"
			"{'id':'thanks','type':'send','channel':'email','template':'thanks'}"),
		MON10_KST, SEOUL);
	enter();
	cr_expect_eq(event_at("2026-03-03T10:00:00+09:00", "Order Completed", NULL), 1);
	cr_expect_eq(R.ngoals, 1);
	cr_expect_eq(R.in.converted_at, T("2026-03-03T10:00:00+09:00"));
	expect_path("e", "e", "thanks", NULL);
	expect_exited("completed");
	rig_close();
}

/* ---- rules: re-entry and triggers ------------------------------------------- */

Test(journey_run_entry, reentry_never)
{
	struct jny_def *d = def(JOURNEY("'entry':{'reentry':'never'},", "{'id':'x','type':'exit'}"));
	int64_t now = T(MON10_KST);
	cr_expect_eq(jny_may_enter(d, 0, 0, now), 1, "first time");
	cr_expect_eq(jny_may_enter(d, 1, 0, now), 0, "already in it");
	cr_expect_eq(jny_may_enter(d, 0, now - 400 * DAY_MS, now), 0, "once per user, ever");
	jny_free(d);
	d = def(JOURNEY("", "{'id':'x','type':'exit'}"));
	cr_expect_eq(d->reentry, JR_NEVER, "never is the default");
	cr_expect_eq(jny_may_enter(d, 0, now - DAY_MS, now), 0);
	jny_free(d);
}

Test(journey_run_entry, reentry_after_days)
{
	struct jny_def *d = def(JOURNEY("'entry':{'reentry':{'after':{'days':30}}},", "{'id':'x','type':'exit'}"));
	int64_t last = T("2026-02-01T10:00:00+09:00");
	cr_expect_eq(jny_may_enter(d, 0, 0, T(MON10_KST)), 1, "first time");
	cr_expect_eq(jny_may_enter(d, 0, last, T("2026-03-03T09:59:00+09:00")), 0, "29 days 23:59 later");
	cr_expect_eq(jny_may_enter(d, 0, last, T("2026-03-03T10:00:00+09:00")), 1, "30 days later");
	cr_expect_eq(jny_may_enter(d, 0, last, T("2026-06-03T10:00:00+09:00")), 1);
	cr_expect_eq(jny_may_enter(d, 1, last, T("2026-06-03T10:00:00+09:00")), 0, "never twice at once");
	jny_free(d);
}

Test(journey_run_entry, reentry_always)
{
	struct jny_def *d = def(JOURNEY("'entry':{'reentry':'always'},", "{'id':'x','type':'exit'}"));
	int64_t now = T(MON10_KST);
	cr_expect_eq(jny_may_enter(d, 0, 0, now), 1);
	cr_expect_eq(jny_may_enter(d, 0, now - MIN_MS, now), 1);
	cr_expect_eq(jny_may_enter(d, 0, now, now), 1);
	cr_expect_eq(jny_may_enter(d, 1, now - DAY_MS, now), 0, "never twice at once");
	jny_free(d);
}

Test(journey_run_entry, triggers)
{
	struct jny_def *d =
		def("{'name':'t','trigger':{'type':'event','event':'Signed Up',"
		    "'where':{'property':'source','op':'eq','value':'ads'}},'nodes':[{'id':'x','type':'exit'}]}");
	json_t *ads = json_pack("{s:s}", "source", "ads"), *seo = json_pack("{s:s}", "source", "seo");
	cr_expect_eq(jny_triggered_by(d, "Signed Up", ads), 1);
	cr_expect_eq(jny_triggered_by(d, "Signed Up", seo), 0);
	cr_expect_eq(jny_triggered_by(d, "Signed Up", NULL), 0);
	cr_expect_eq(jny_triggered_by(d, "Signed In", ads), 0);
	cr_expect_eq(jny_event_matches(&d->trigger.match, "Signed Up", ads), 1);
	cr_expect_eq(jny_event_matches(&d->trigger.match, "signed up", ads), 0, "names are case-sensitive");
	jny_free(d);

	d = def("{'name':'t','trigger':{'type':'segment_entered','segment':'vip'},'nodes':[{'id':'x','type':'exit'}]}");
	json_t *vip = json_pack("{s:s}", "segment_id", "vip"), *other = json_pack("{s:s}", "segment_id", "new");
	cr_expect_eq(jny_triggered_by(d, "Segment Entered", vip), 1);
	cr_expect_eq(jny_triggered_by(d, "Segment Entered", other), 0);
	cr_expect_eq(jny_triggered_by(d, "Segment Exited", vip), 0);
	jny_free(d);

	d = def("{'name':'t','trigger':{'type':'segment_exited','segment':'vip'},'nodes':[{'id':'x','type':'exit'}]}");
	cr_expect_eq(jny_triggered_by(d, "Segment Exited", vip), 1);
	cr_expect_eq(jny_triggered_by(d, "Segment Entered", vip), 0);
	jny_free(d);

	d = def(JOURNEY("", "{'id':'x','type':'exit'}"));
	cr_expect_eq(jny_triggered_by(d, "Signed Up", ads), 0, "manual journeys start only by enrolment");
	jny_free(d);

	struct jny_event_match any = {.event = "Order Completed", .where = NULL};
	cr_expect_eq(jny_event_matches(&any, "Order Completed", NULL), 1);
	cr_expect_eq(jny_event_matches(&any, NULL, NULL), 0);
	json_decref(ads);
	json_decref(seo);
	json_decref(vip);
	json_decref(other);
}

/* ---- rules: quiet hours ------------------------------------------------------ */

#define ONE_SEND(rules, adv)                                                                                           \
	JOURNEY(rules, "{'id':'m','type':'send','channel':'email','template':'promo'" adv ",'next':'x'},"              \
		       "{'id':'x','type':'update','tags_add':['sent']}")

Test(journey_run_quiet, advertising_held_until_the_window_ends)
{
	/* the default quiet hours, 21:00–08:00 local */
	rig_open(ONE_SEND("", ""), "2026-03-02T22:30:00+09:00", SEOUL);
	enter();
	cr_expect_eq(R.nsends, 0);
	expect_timer("quiet", "2026-03-03T08:00:00+09:00");
	cr_expect_eq(R.in.node, 0);
	expect_path("m", NULL);
	expect_step(0, "m",
		    "held by quiet hours (21:00–08:00 local, advertising message) until 2026-03-02T23:00:00.000Z "
		    "(Tue 08:00 Asia/Seoul)");
	fire();
	cr_assert_eq(R.nsends, 1);
	cr_expect_eq(R.sends[0].at, T("2026-03-03T08:00:00+09:00"));
	expect_path("m", "m", "x", NULL);
	expect_step(1, "m", "sent email template 'promo'");
	expect_exited("completed");
	rig_close();
}

Test(journey_run_quiet, edges_of_the_window)
{
	/* 07:59 is inside; 08:00 and 20:59 are outside; 21:00 is inside */
	rig_open(ONE_SEND("", ""), "2026-03-02T07:59:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-03-02T08:00:00+09:00");
	rig_close();

	const char *outside[] = {"2026-03-02T08:00:00+09:00", "2026-03-02T20:59:00+09:00"};
	for (size_t i = 0; i < 2; i++) {
		rig_open(ONE_SEND("", ""), outside[i], SEOUL);
		enter();
		cr_expect_eq(R.nsends, 1, "at %s", outside[i]);
		rig_close();
	}

	rig_open(ONE_SEND("", ""), "2026-03-02T21:00:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-03-03T08:00:00+09:00");
	rig_close();
}

Test(journey_run_quiet, custom_window)
{
	rig_open(ONE_SEND("'quiet_hours':{'start':'12:00','end':'13:30'},", ""), "2026-03-02T12:10:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-03-02T13:30:00+09:00");
	expect_step(0, "m",
		    "held by quiet hours (12:00–13:30 local, advertising message) until 2026-03-02T04:30:00.000Z "
		    "(Mon 13:30 Asia/Seoul)");
	rig_close();
	/* the default night window no longer applies */
	rig_open(ONE_SEND("'quiet_hours':{'start':'12:00','end':'13:30'},", ""), "2026-03-02T23:00:00+09:00", SEOUL);
	enter();
	cr_expect_eq(R.nsends, 1);
	rig_close();
}

Test(journey_run_quiet, informational_send_not_held)
{
	rig_open(ONE_SEND("", ",'advertising':false"), "2026-03-02T23:30:00+09:00", SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1);
	cr_expect_eq(R.sends[0].advertising, 0);
	expect_path("m", "x", NULL);
	rig_close();

	/* an informational journey: no quiet hours unless it asks for them */
	rig_open(ONE_SEND("'advertising':false,", ""), "2026-03-02T23:30:00+09:00", SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1);
	cr_expect_eq(R.sends[0].advertising, 0);
	rig_close();

	/* an advertising node in an informational journey with quiet hours */
	rig_open(ONE_SEND("'advertising':false,'quiet_hours':{'start':'21:00','end':'08:00'},", ",'advertising':true"),
		 "2026-03-02T23:30:00+09:00", SEOUL);
	enter();
	cr_expect_eq(R.nsends, 0);
	expect_timer("quiet", "2026-03-03T08:00:00+09:00");
	rig_close();
}

Test(journey_run_quiet, disabled)
{
	rig_open(ONE_SEND("'quiet_hours':false,", ""), "2026-03-02T23:30:00+09:00", SEOUL);
	enter();
	cr_assert_eq(R.nsends, 1);
	cr_expect_eq(R.sends[0].advertising, 1);
	expect_exited("completed");
	rig_close();
}

Test(journey_run_quiet, new_york_spring_forward)
{
	/* Saturday 22:00 EST; the window ends Sunday 08:00 EDT (12:00Z, not 13:00Z) */
	rig_open(ONE_SEND("", ""), "2026-03-07T22:00:00-05:00", NEWYORK);
	enter();
	expect_timer("quiet", "2026-03-08T08:00:00-04:00");
	expect_step(0, "m",
		    "held by quiet hours (21:00–08:00 local, advertising message) until 2026-03-08T12:00:00.000Z "
		    "(Sun 08:00 America/New_York)");
	fire();
	cr_expect_eq(R.nsends, 1);
	rig_close();

	/* 01:30 EST, in the hour before the gap */
	rig_open(ONE_SEND("", ""), "2026-03-08T01:30:00-05:00", NEWYORK);
	enter();
	expect_timer("quiet", "2026-03-08T12:00:00Z");
	rig_close();

	/* a window ending inside the gap (02:30 does not exist): released when the gap ends, 03:00 EDT */
	rig_open(ONE_SEND("'quiet_hours':{'start':'22:00','end':'02:30'},", ""), "2026-03-08T01:00:00-05:00", NEWYORK);
	enter();
	expect_timer("quiet", "2026-03-08T03:00:00-04:00");
	rig_close();
}

Test(journey_run_quiet, new_york_fall_back)
{
	/* Saturday 22:00 EDT; the window ends Sunday 08:00 EST (13:00Z) */
	rig_open(ONE_SEND("", ""), "2026-10-31T22:00:00-04:00", NEWYORK);
	enter();
	expect_timer("quiet", "2026-11-01T08:00:00-05:00");
	expect_step(0, "m",
		    "held by quiet hours (21:00–08:00 local, advertising message) until 2026-11-01T13:00:00.000Z "
		    "(Sun 08:00 America/New_York)");
	rig_close();

	/* 01:30 EST, the second 01:30 of the night */
	rig_open(ONE_SEND("", ""), "2026-11-01T01:30:00-05:00", NEWYORK);
	enter();
	expect_timer("quiet", "2026-11-01T13:00:00Z");
	rig_close();
}

Test(journey_run_quiet, seoul_has_no_dst)
{
	/* the same wall times the night New York springs forward */
	rig_open(ONE_SEND("", ""), "2026-03-08T22:00:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-03-08T23:00:00Z");
	rig_close();
	rig_open(ONE_SEND("", ""), "2026-11-01T01:30:00+09:00", SEOUL);
	enter();
	expect_timer("quiet", "2026-10-31T23:00:00Z");
	rig_close();
}

/* ---- rules: frequency caps ---------------------------------------------------- */

Test(journey_run_caps, wait_until_release)
{
	rig_open(ONE_SEND(NOQUIET, ""), MON10_KST, SEOUL);
	R.cap_rc = 1;
	R.cap_times = 1;
	R.cap_until = T("2026-03-04T09:30:00+09:00");
	enter();
	cr_expect_eq(R.cap_calls, 1);
	cr_expect_str_eq(R.cap_channel, "email");
	cr_expect_eq(R.nsends, 0);
	expect_timer("cap", "2026-03-04T09:30:00+09:00");
	expect_path("m", NULL);
	expect_step(0, "m", "held by the email frequency cap until 2026-03-04T00:30:00.000Z (Wed 09:30 Asia/Seoul)");
	fire();
	cr_expect_eq(R.cap_calls, 2, "asked again at release");
	cr_assert_eq(R.nsends, 1);
	cr_expect_eq(R.sends[0].at, T("2026-03-04T09:30:00+09:00"));
	expect_path("m", "m", "x", NULL);
	expect_exited("completed");
	rig_close();
}

Test(journey_run_caps, still_capped_at_release)
{
	rig_open(ONE_SEND(NOQUIET, ""), MON10_KST, SEOUL);
	R.cap_rc = 1;
	R.cap_times = 2;
	R.cap_until = T("2026-03-03T10:00:00+09:00");
	enter();
	expect_timer("cap", "2026-03-03T10:00:00+09:00");
	R.cap_until = T("2026-03-05T10:00:00+09:00");
	fire();
	expect_timer("cap", "2026-03-05T10:00:00+09:00");
	cr_expect_eq(R.nsends, 0);
	fire();
	cr_expect_eq(R.nsends, 1);
	rig_close();
}

Test(journey_run_caps, skip_moves_on)
{
	rig_open(ONE_SEND(NOQUIET, ""), MON10_KST, SEOUL);
	R.cap_rc = 1;
	R.cap_times = 1;
	R.cap_skip = 1;
	enter();
	cr_expect_eq(R.nsends, 0);
	expect_path("m", "x", NULL);
	expect_step(0, "m", "skipped: the email frequency cap is reached");
	expect_exited("completed");
	rig_close();
}

Test(journey_run_caps, quiet_hours_first_then_cap)
{
	rig_open(ONE_SEND("", ""), "2026-03-02T23:00:00+09:00", SEOUL);
	R.cap_rc = 1;
	R.cap_times = 1;
	R.cap_until = T("2026-03-03T12:00:00+09:00");
	enter();
	expect_timer("quiet", "2026-03-03T08:00:00+09:00");
	fire();
	expect_timer("cap", "2026-03-03T12:00:00+09:00");
	fire();
	cr_expect_eq(R.nsends, 1);
	expect_path("m", "m", "m", "x", NULL);
	rig_close();
}

/* ---- the runaway-loop guard ---------------------------------------------------- */

Test(journey_run_guard, loop_without_a_wait_fails)
{
	rig_open(JOURNEY(NOQUIET,
			 "{'id':'a','type':'update','tags_add':['x'],'next':'b'},"
			 "{'id':'b','type':'branch','branches':[{'when':{'tag':'never'},'next':'c'}],'else':'a'},"
			 "{'id':'c','type':'exit'}"),
		 MON10_KST, SEOUL);
	int rc = jny_run(R.d, &R.in, &R.h, JNY_ENTER, &R.err);
	cr_expect_eq(rc, CAIRN_EUNPROC);
	cr_expect_eq(R.err.code, CAIRN_EUNPROC);
	cr_expect_str_eq(R.err.slug, "journey_loop");
	cr_expect(strstr(R.err.message, "wait") != NULL, "message: %s", R.err.message);
	cr_expect(R.nsteps > JNY_MAX_NODES - 1 && R.nsteps <= JNY_MAX_NODES + 1, "stopped after %zu steps", R.nsteps);
	rig_close();
}

Test(journey_run_guard, loop_with_a_wait_runs)
{
	rig_open(JOURNEY(NOQUIET, "{'id':'a','type':'update','tags_add':['x'],'next':'w'},"
				  "{'id':'w','type':'wait','duration':{'days':1},'next':'a'}"),
		 MON10_KST, SEOUL);
	enter();
	for (int i = 0; i < 10; i++)
		fire();
	cr_expect_eq(R.nupdates, 11);
	expect_timer("wait", "2026-03-13T10:00:00+09:00");
	rig_close();
}

Test(journey_run_guard, longest_path_is_not_a_loop)
{
	/* JNY_MAX_NODES nodes in a row without a wait: allowed */
	json_t *nodes = json_array();
	for (int i = 0; i < JNY_MAX_NODES; i++) {
		char id[16], next[16];
		snprintf(id, sizeof id, "n%d", i);
		snprintf(next, sizeof next, "n%d", i + 1);
		json_t *n = json_pack("{s:s,s:s,s:[s]}", "id", id, "type", "update", "tags_add", "x");
		if (i + 1 < JNY_MAX_NODES)
			json_object_set_new(n, "next", json_string(next));
		json_array_append_new(nodes, n);
	}
	json_t *j = json_pack("{s:s,s:{s:s},s:o}", "name", "long", "trigger", "type", "manual", "nodes", nodes);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(j, &err);
	cr_assert_not_null(d, "%s", err.message);
	json_decref(j);
	rig_open(JOURNEY("", "{'id':'x','type':'exit'}"), MON10_KST, SEOUL);
	jny_free(R.d);
	R.d = d;
	enter();
	cr_expect_eq(R.nsteps, JNY_MAX_NODES);
	expect_exited("completed");
	rig_close();
}

/* ---- time zones: "wait until 09:00" across DST ---------------------------------- */

#define WAIT_9 JOURNEY("", "{'id':'w','type':'wait','until':{'time':'09:00'}" AFTER_WAIT)

Test(journey_run_tz, new_york_spring_forward)
{
	/* Saturday 20:00 EST → Sunday 09:00 EDT: 12 hours, not 13 */
	rig_open(WAIT_9, "2026-03-07T20:00:00-05:00", NEWYORK);
	enter();
	expect_timer("wait", "2026-03-08T09:00:00-04:00");
	expect_step(0, "w", "waiting 12 hours, until 2026-03-08T13:00:00.000Z (Sun 09:00 America/New_York)");
	rig_close();

	/* from before the gap, two days of waiting */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'days':1},'until':{'time':'09:00'}" AFTER_WAIT),
		 "2026-03-07T10:00:00-05:00", NEWYORK);
	enter();
	/* + 1 day = Sunday 11:00 EDT; the next 09:00 is Monday 09:00 EDT */
	expect_timer("wait", "2026-03-09T09:00:00-04:00");
	expect_step(0, "w", "waiting 1 day 22 hours, until 2026-03-09T13:00:00.000Z (Mon 09:00 America/New_York)");
	rig_close();
}

Test(journey_run_tz, new_york_wait_into_the_gap)
{
	/* 02:30 does not exist on 2026-03-08: the first instant after the gap */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'time':'02:30'}" AFTER_WAIT),
		 "2026-03-08T00:00:00-05:00", NEWYORK);
	enter();
	expect_timer("wait", "2026-03-08T03:00:00-04:00");
	rig_close();
}

Test(journey_run_tz, new_york_fall_back)
{
	/* Saturday 20:00 EDT → Sunday 09:00 EST: 14 hours */
	rig_open(WAIT_9, "2026-10-31T20:00:00-04:00", NEWYORK);
	enter();
	expect_timer("wait", "2026-11-01T09:00:00-05:00");
	expect_step(0, "w", "waiting 14 hours, until 2026-11-01T14:00:00.000Z (Sun 09:00 America/New_York)");
	rig_close();

	/* 01:30 occurs twice: its first occurrence (EDT) */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','until':{'time':'01:30'}" AFTER_WAIT),
		 "2026-11-01T00:10:00-04:00", NEWYORK);
	enter();
	expect_timer("wait", "2026-11-01T01:30:00-04:00");
	rig_close();
}

Test(journey_run_tz, new_york_weekly_across_dst)
{
	/* Monday 09:00 each week, before and after the change: 13:00Z then 14:00Z */
	rig_open(JOURNEY("", "{'id':'w','type':'wait','duration':{'minutes':1},"
			     "'until':{'time':'09:00','weekdays':['mon']},'next':'w'}"),
		 "2026-10-26T09:00:00-04:00", NEWYORK);
	enter();
	expect_timer("wait", "2026-11-02T14:00:00Z");
	expect_step(0, "w", "waiting 1 week 1 hour, until 2026-11-02T14:00:00.000Z (Mon 09:00 America/New_York)");
	fire();
	expect_timer("wait", "2026-11-09T14:00:00Z");
	expect_step(1, "w", "waiting 1 week, until 2026-11-09T14:00:00.000Z (Mon 09:00 America/New_York)");
	rig_close();
}

Test(journey_run_tz, seoul_same_instants_all_year)
{
	rig_open(WAIT_9, "2026-03-07T20:00:00+09:00", SEOUL);
	enter();
	expect_timer("wait", "2026-03-08T00:00:00Z");
	expect_step(0, "w", "waiting 13 hours, until 2026-03-08T00:00:00.000Z (Sun 09:00 Asia/Seoul)");
	rig_close();
	rig_open(WAIT_9, "2026-10-31T20:00:00+09:00", SEOUL);
	enter();
	expect_timer("wait", "2026-11-01T00:00:00Z");
	rig_close();
}

/* ---- reasons: every node reached, once ------------------------------------------ */

Test(journey_run_reasons, each_node_once)
{
	rig_open(JOURNEY(NOQUIET,
			 "{'id':'hi','type':'send','channel':'email','template':'welcome-1','next':'w'},"
			 "{'id':'w','type':'wait','duration':{'days':2},'next':'b'},"
			 "{'id':'b','type':'branch','branches':[{'when':{'tag':'vip'},'next':'s'}],'else':'x'},"
			 "{'id':'s','type':'split','variants':[{'name':'only','weight':1,'next':'u'}]},"
			 "{'id':'u','type':'update','tags_add':['done'],'next':'g'},"
			 "{'id':'g','type':'goal','next':'x'},"
			 "{'id':'x','type':'exit'}"),
		 MON10_KST, SEOUL);
	enter();
	fire();
	expect_path("hi", "w", "b", "s", "u", "g", "x", NULL);
	for (size_t i = 0; i < R.nsteps; i++)
		cr_expect_neq(R.steps[i].reason[0], '\0', "step %zu has no reason", i);
	expect_step(1, "w", "waiting 2 days, until 2026-03-04T01:00:00.000Z (Wed 10:00 Asia/Seoul)");
	cr_expect(strstr(R.steps[2].reason, "branch 1") != NULL, "%s", R.steps[2].reason);
	expect_step(3, "s", "variant only (weight 1)");
	cr_expect_str_eq(R.in.variant, "only");
	/* the steps after the wait happen at its end */
	for (size_t i = 2; i < R.nsteps; i++)
		cr_expect_eq(R.steps[i].at, T("2026-03-04T10:00:00+09:00"));
	rig_close();
}

Test(journey_run_reasons, without_a_user_context_no_branch_holds)
{
	rig_open(BRANCH_JOURNEY("{'tag':'vip'}", "{'trait':'plan','op':'eq','value':'pro'}"), MON10_KST, SEOUL);
	R.h.user = NULL;
	enter();
	expect_path("b", "other", NULL);
	expect_step(0, "b", "no branch held: else");
	rig_close();
}
