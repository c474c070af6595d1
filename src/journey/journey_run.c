/* journey_run.c — the step executor (journey_run.h). */
#include "journey/journey_run.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/tz.h"

#define REASON_MAX 512

unsigned jny_bucket(const char *journey_id, const char *user_key, const char *node_id)
{
	crypto_generichash_state s;
	unsigned char h[8];
	crypto_generichash_init(&s, NULL, 0, sizeof h);
	const char *parts[3] = {journey_id, user_key, node_id};
	for (int i = 0; i < 3; i++) /* NUL-separated, so ("ab","c") ≠ ("a","bc") */
		crypto_generichash_update(&s, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
	crypto_generichash_final(&s, h, sizeof h);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (unsigned)(v % 10000);
}

int jny_event_matches(const struct jny_event_match *m, const char *event, const json_t *properties)
{
	if (!m->event || !event || strcmp(m->event, event))
		return 0;
	return !m->where || cond_eval_where(m->where, properties);
}

int jny_triggered_by(const struct jny_def *d, const char *event, const json_t *properties)
{
	switch (d->trigger.type) {
	case JT_EVENT: return jny_event_matches(&d->trigger.match, event, properties);
	case JT_SEGMENT_ENTERED:
	case JT_SEGMENT_EXITED: {
		const char *want = d->trigger.type == JT_SEGMENT_ENTERED ? "Segment Entered" : "Segment Exited";
		const char *seg = json_string_value(json_object_get(properties, "segment_id"));
		return !strcmp(event, want) && seg && d->trigger.segment && !strcmp(seg, d->trigger.segment);
	}
	default: return 0;
	}
}

int jny_may_enter(const struct jny_def *d, int in_now, int64_t last_entered, int64_t now)
{
	if (in_now)
		return 0; /* never twice at once */
	if (!last_entered)
		return 1;
	switch (d->reentry) {
	case JR_NEVER: return 0;
	case JR_AFTER: return now - last_entered >= d->reentry_after_ms;
	default: return 1;
	}
}

/* "2026-03-04T01:00:00.000Z (10:00 Asia/Seoul)" */
static void fmt_time(const char *tz, int64_t ms, char *out, size_t cap)
{
	char utc[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, utc);
	struct tz_parts p;
	if (tz_local_parts(tz, ms, &p) == 0)
		snprintf(out, cap, "%s (%s %02d:%02d %s)", utc,
			 (const char *[]){"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}[p.weekday % 7], p.hour,
			 p.minute, tz);
	else
		snprintf(out, cap, "%s", utc);
}

/* "2 days 3 hours" */
static void fmt_duration(int64_t ms, char *out, size_t cap)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {{7 * 86400000LL, "week"},
		     {86400000LL, "day"},
		     {3600000LL, "hour"},
		     {60000LL, "minute"},
		     {1000LL, "second"}};
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
		int64_t n = ms / units[i].ms;
		if (!n)
			continue;
		ms -= n * units[i].ms;
		int w = snprintf(out + len, cap - len, "%s%lld %s%s", len ? " " : "", (long long)n, units[i].unit,
				 n == 1 ? "" : "s");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	if (!len)
		snprintf(out, cap, "0 seconds");
}

static void set_timer(struct jny_inst *in, int64_t due, const char *kind)
{
	in->state = JNY_WAITING;
	in->due_at = due;
	snprintf(in->timer_kind, sizeof in->timer_kind, "%s", kind);
}

static int leave(struct jny_inst *in, const struct jny_host *h, const char *reason, struct cairn_err *err)
{
	in->state = JNY_EXITED;
	in->due_at = 0;
	in->timer_kind[0] = '\0';
	in->waiting_event = 0;
	size_t n = strnlen(reason, sizeof in->exit_reason - 1);
	memcpy(in->exit_reason, reason, n);
	in->exit_reason[n] = '\0';
	return h->exited ? h->exited(h->arg, reason, err) : 0;
}

static int step(const struct jny_host *h, const struct jny_node *n, const char *reason, struct cairn_err *err)
{
	return h->step ? h->step(h->arg, n, reason, err) : 0;
}

/* A failed callback's code, as the header promises (never a bare -1). */
static int failed(int rc, const struct cairn_err *err)
{
	return err->code < 0 ? err->code : rc < 0 ? rc : CAIRN_EIO;
}

/* Picks a weighted entry by a bucket in [0, 10000). */
static size_t pick_weighted(const int *weights, size_t n, unsigned bucket)
{
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += weights[i];
	int64_t x = (int64_t)bucket * total / 10000, acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc += weights[i];
		if (x < acc)
			return i;
	}
	return n - 1;
}

/* 1 when the send is held (timer set), 0 to go on, <0 failure. */
static int hold_send(const struct jny_def *d, const struct jny_node *n, struct jny_inst *in, const struct jny_host *h,
		     int advertising, int *skip, struct cairn_err *err)
{
	char when[96], reason[REASON_MAX];
	*skip = 0;
	if (advertising && d->quiet_start >= 0 && d->quiet_end >= 0) {
		int64_t release;
		if (tz_quiet_release(h->tz, h->now, d->quiet_start, d->quiet_end, &release) == 0 && release > h->now) {
			fmt_time(h->tz, release, when, sizeof when);
			snprintf(reason, sizeof reason,
				 "held by quiet hours (%02d:%02d–%02d:%02d local, advertising message) until %s",
				 d->quiet_start / 60, d->quiet_start % 60, d->quiet_end / 60, d->quiet_end % 60, when);
			set_timer(in, release, "quiet");
			int r = step(h, n, reason, err);
			return r < 0 ? failed(r, err) : 1;
		}
	}
	if (h->capped && advertising) { /* caps limit marketing; receipts always go */
		int64_t until = 0;
		int rc = h->capped(h->arg, n->channel, &until, skip, err);
		if (rc < 0)
			return failed(rc, err);
		if (rc == 0)
			*skip = 0; /* the policy matters only when capped */
		if (rc > 0 && *skip) {
			snprintf(reason, sizeof reason, "skipped: the %s frequency cap is reached", n->channel);
			int r = step(h, n, reason, err);
			return r < 0 ? failed(r, err) : 0;
		}
		if (rc > 0) {
			fmt_time(h->tz, until, when, sizeof when);
			snprintf(reason, sizeof reason, "held by the %s frequency cap until %s", n->channel, when);
			set_timer(in, until, "cap");
			int r = step(h, n, reason, err);
			return r < 0 ? failed(r, err) : 1;
		}
	}
	return 0;
}

static int do_send(const struct jny_def *d, const struct jny_node *n, struct jny_inst *in, const struct jny_host *h,
		   struct cairn_err *err)
{
	int advertising = n->advertising >= 0 ? n->advertising : d->advertising;
	int skip;
	int held = hold_send(d, n, in, h, advertising, &skip, err);
	if (held != 0 || skip)
		return held < 0 ? failed(held, err) : held;
	const char *tid = n->template_id, *vname = NULL;
	const json_t *inl = n->inline_template;
	char reason[REASON_MAX];
	if (n->nsend_variants) {
		int w[JNY_MAX_VARIANTS];
		size_t k = n->nsend_variants < JNY_MAX_VARIANTS ? n->nsend_variants : JNY_MAX_VARIANTS;
		for (size_t i = 0; i < k; i++)
			w[i] = n->send_variants[i].weight;
		const struct jny_send_variant *v =
			&n->send_variants[pick_weighted(w, k, jny_bucket(h->journey_id, h->user_key, n->id))];
		tid = v->template_id;
		inl = v->inline_template;
		vname = v->name;
	}
	int sent = h->send ? h->send(h->arg, n, n->channel, tid, inl, vname, advertising, err) : 0;
	if (sent != 0)
		return sent < 0 ? failed(sent, err) : 0;
	snprintf(reason, sizeof reason, "sent %s %s%s%s%s%s", n->channel, tid ? "template '" : "inline message",
		 tid ? tid : "", tid ? "'" : "", vname ? ", variant " : "", vname ? vname : "");
	int r = step(h, n, reason, err);
	return r < 0 ? failed(r, err) : 0;
}

static int do_wait(const struct jny_node *n, struct jny_inst *in, const struct jny_host *h, struct cairn_err *err)
{
	int64_t due = h->now + n->duration_ms;
	if (n->until_minute >= 0 || n->weekdays) {
		if (tz_next_local(h->tz, due, n->until_minute, n->weekdays, &due) < 0)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_timezone", "",
					     "Node \"%s\": cannot compute local time in zone '%s'.", n->id, h->tz);
	}
	char when[96], dur[64], reason[REASON_MAX];
	fmt_time(h->tz, due, when, sizeof when);
	fmt_duration(due - h->now, dur, sizeof dur);
	snprintf(reason, sizeof reason, "waiting %s, until %s", dur, when);
	set_timer(in, due, "wait");
	return step(h, n, reason, err);
}

static int do_branch(const struct jny_node *n, const struct jny_host *h, int *next, struct cairn_err *err)
{
	char reason[REASON_MAX];
	for (size_t i = 0; i < n->nbranches; i++) {
		int yes = h->user ? cond_eval(n->branches[i].when, h->user, err) : 0;
		if (yes < 0)
			return yes;
		if (yes) {
			char *text = cond_to_text(n->branches[i].when);
			snprintf(reason, sizeof reason, "branch %zu held: %.400s", i + 1, text);
			free(text);
			*next = n->branches[i].next;
			return step(h, n, reason, err);
		}
	}
	*next = n->else_next;
	snprintf(reason, sizeof reason, "no branch held: else");
	return step(h, n, reason, err);
}

/* *next = JNY_NONE and *holdout = 1 for the holdout group. */
static int do_split(const struct jny_node *n, struct jny_inst *in, const struct jny_host *h, int *next, int *holdout,
		    struct cairn_err *err)
{
	unsigned b = jny_bucket(h->journey_id, h->user_key, n->id);
	char reason[REASON_MAX];
	*holdout = 0;
	if ((int)(b % 100) < n->holdout_pct) {
		*holdout = 1;
		*next = JNY_NONE;
		snprintf(in->variant, sizeof in->variant, "holdout");
		snprintf(reason, sizeof reason, "holdout (%d%% of users; this user's bucket is %u)", n->holdout_pct,
			 b % 100);
		return step(h, n, reason, err);
	}
	int w[JNY_MAX_VARIANTS];
	size_t k = n->nvariants < JNY_MAX_VARIANTS ? n->nvariants : JNY_MAX_VARIANTS;
	for (size_t i = 0; i < k; i++)
		w[i] = n->variants[i].weight;
	/* a second, independent draw for the variant: the holdout draw used b % 100 */
	const struct jny_variant *v = &n->variants[pick_weighted(w, k, (b / 100) * 100 + (b * 7919) % 100)];
	snprintf(in->variant, sizeof in->variant, "%s", v->name);
	snprintf(reason, sizeof reason, "variant %s (weight %d)", v->name, v->weight);
	*next = v->next;
	return step(h, n, reason, err);
}

/* Walks from node until a wait, a held send or an exit. resume: node is
 * the one the user was already at (a held send released), not a new visit. */
static int run_from(const struct jny_def *d, struct jny_inst *in, const struct jny_host *h, int node, int resume,
		    struct cairn_err *err)
{
	in->state = JNY_ACTIVE;
	in->due_at = 0;
	in->timer_kind[0] = '\0';
	in->waiting_event = 0;
	for (int guard = 0;; guard++) {
		if (node == JNY_NONE)
			return leave(in, h, "completed", err);
		if (guard > JNY_MAX_NODES)
			return cairn_err_set(
				err, CAIRN_EUNPROC, "journey_loop", "",
				"Journey '%s' went through %d nodes without waiting; add a wait to its loop.",
				h->journey_id, JNY_MAX_NODES);
		const struct jny_node *n = &d->nodes[node];
		in->node = node;
		int rc = 0, next = n->next, holdout = 0;
		if (!(resume && guard == 0) && h->entered && (rc = h->entered(h->arg, n, err)) < 0)
			return failed(rc, err);
		switch (n->type) {
		case JN_SEND:
			rc = do_send(d, n, in, h, err);
			if (rc > 0)
				return 0; /* held */
			break;
		case JN_WAIT: return do_wait(n, in, h, err);
		case JN_WAIT_EVENT: {
			char when[96], reason[REASON_MAX];
			int64_t due = h->now + n->timeout_ms;
			fmt_time(h->tz, due, when, sizeof when);
			snprintf(reason, sizeof reason, "waiting for %s until %s", n->wait.event, when);
			set_timer(in, due, "timeout");
			in->waiting_event = 1;
			return step(h, n, reason, err);
		}
		case JN_BRANCH: rc = do_branch(n, h, &next, err); break;
		case JN_SPLIT:
			rc = do_split(n, in, h, &next, &holdout, err);
			if (rc == 0 && holdout)
				return leave(in, h, "holdout", err);
			break;
		case JN_UPDATE:
			rc = h->update ? h->update(h->arg, n, err) : 0;
			if (rc == 0)
				rc = step(h, n, "profile updated", err);
			break;
		case JN_WEBHOOK:
		case JN_SLACK:
			rc = h->notify ? h->notify(h->arg, n, err) : 0;
			if (rc == 0)
				rc = step(h, n, n->type == JN_WEBHOOK ? "webhook queued" : "slack message queued", err);
			break;
		case JN_GOAL: {
			/* a conversion, once, within the journey goal's window (if any) */
			int counts = !in->converted_at && (!d->has_goal || !d->goal_within_ms ||
							   h->now - in->entered_at <= d->goal_within_ms);
			if (counts) {
				in->converted_at = h->now;
				rc = h->goal ? h->goal(h->arg, n, err) : 0;
			}
			if (rc == 0)
				rc = step(h, n,
					  counts	     ? "goal node reached: converted"
					  : in->converted_at ? "goal node reached (already converted)"
							     : "goal node reached after the goal window: not counted",
					  err);
			break;
		}
		case JN_EXIT: rc = step(h, n, "exit", err); return rc < 0 ? rc : leave(in, h, "exit node", err);
		}
		if (rc < 0)
			return rc;
		node = next;
	}
}

int jny_run(const struct jny_def *d, struct jny_inst *in, const struct jny_host *h, enum jny_cause cause,
	    struct cairn_err *err)
{
	if (in->state == JNY_EXITED)
		return 0;
	if (cause == JNY_ENTER) {
		in->entered_at = h->now;
		return run_from(d, in, h, d->start, 0, err);
	}
	if (in->node < 0 || (size_t)in->node >= d->nnodes)
		return leave(in, h, "node no longer exists", err);
	const struct jny_node *n = &d->nodes[in->node];
	if (cause == JNY_EVENT)
		return run_from(d, in, h, n->next, 0, err);
	if (!strcmp(in->timer_kind, "timeout") && n->type == JN_WAIT_EVENT) {
		char dur[64], reason[REASON_MAX];
		fmt_duration(n->timeout_ms, dur, sizeof dur);
		snprintf(reason, sizeof reason, "no %s within %s: timeout", n->wait.event, dur);
		int r = step(h, n, reason, err);
		if (r < 0)
			return failed(r, err);
		return run_from(d, in, h, n->timeout_next, 0, err);
	}
	if (!strcmp(in->timer_kind, "quiet") || !strcmp(in->timer_kind, "cap"))
		return run_from(d, in, h, in->node, 1, err); /* the held send, again */
	return run_from(d, in, h, n->next, 0, err);
}

/* 1 when the journey goal's window (from entry) is still open at now. */
static int goal_open(const struct jny_def *d, const struct jny_inst *in, int64_t now)
{
	return d->has_goal && !in->converted_at && (!d->goal_within_ms || now - in->entered_at <= d->goal_within_ms);
}

int jny_on_event(const struct jny_def *d, struct jny_inst *in, const struct jny_host *h, const char *event,
		 const json_t *properties, int *changed, struct cairn_err *err)
{
	*changed = 0;
	/* the goal first: an event that is both the goal and an exit converts,
	 * then ends; a user who already left converts within the window too */
	if (goal_open(d, in, h->now) && jny_event_matches(&d->goal, event, properties)) {
		in->converted_at = h->now;
		*changed = 1;
		int r = h->goal ? h->goal(h->arg, NULL, err) : 0;
		if (r < 0)
			return failed(r, err);
	}
	if (in->state == JNY_EXITED)
		return 0;
	for (size_t i = 0; i < d->nexit_on; i++) {
		if (jny_event_matches(&d->exit_on[i], event, properties)) {
			char reason[300];
			snprintf(reason, sizeof reason, "exit_on: %s", event);
			*changed = 1;
			return leave(in, h, reason, err);
		}
	}
	if (in->waiting_event && in->node >= 0 && (size_t)in->node < d->nnodes) {
		const struct jny_node *n = &d->nodes[in->node];
		if (n->type == JN_WAIT_EVENT && jny_event_matches(&n->wait, event, properties)) {
			char reason[300];
			snprintf(reason, sizeof reason, "%s happened", event);
			*changed = 1;
			int r = step(h, n, reason, err);
			if (r < 0)
				return failed(r, err);
			return jny_run(d, in, h, JNY_EVENT, err);
		}
	}
	return 0;
}

int64_t jny_goal_until(const struct jny_def *d, const struct jny_inst *in)
{
	if (!d->has_goal || in->converted_at || !d->goal_within_ms)
		return 0;
	return in->entered_at + d->goal_within_ms;
}

int jny_cap_rule(const json_t *caps, const char *channel, int64_t *max, int64_t *per_ms, int *skip)
{
	const json_t *cap = json_object_get(caps, channel);
	const char *when = json_string_value(json_object_get(cap, "when_capped"));
	*max = json_integer_value(json_object_get(cap, "max"));
	*per_ms = json_integer_value(json_object_get(cap, "per_ms"));
	*skip = when && !strcmp(when, "skip");
	return *max > 0 && *per_ms > 0;
}
