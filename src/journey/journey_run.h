/* journey_run.h — what a journey does for one user: the step executor shared
 * by the engine (src/journey/journey_engine.c, against the store) and the
 * simulator (journey_sim.c, in memory on a virtual clock). Pure: every
 * effect and every fact about the user goes through struct jny_host, so
 * both hosts take exactly the same path for the same inputs.
 *
 *   enter ─► jny_run(JNY_ENTER) ─► send / branch / split / update / … ─► wait
 *                                     (steps recorded through host->step)  │
 *   timer due ─► jny_run(JNY_TIMER) ◄──────────────────────────────────────┘
 *   event ─► jny_on_event: exit_on, goal, wait_event ─► jny_run(JNY_EVENT)
 *
 * Invariants:
 *   1. jny_run stops only at a wait (a timer is set: in->due_at), a
 *      wait_event (timer for its timeout), a held send (quiet hours or a
 *      frequency cap: timer at release), or an exit (in->state EXITED).
 *   2. Every node reached is reported once through host->step with a
 *      reason a person can read ("waiting 2 days, until …", "branch 2
 *      held: …", "held by quiet hours until …"); a decision at a node is
 *      part of that reason.
 *   3. Deterministic: the same definition, instance, host answers and now
 *      give the same path. Splits and send variants hash (journey, user,
 *      node) — never a random number.
 *   4. A run is bounded: more than JNY_MAX_NODES nodes without a wait fails
 *      with CAIRN_EUNPROC (publish checks refuse such loops anyway). */
#ifndef JOURNEY_JOURNEY_RUN_H
#define JOURNEY_JOURNEY_RUN_H

#include <jansson.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/err.h"
#include "journey/journey.h"

enum jny_state {
	JNY_ACTIVE,
	JNY_WAITING, /* a timer is set (wait, held send, or wait_event's timeout) */
	JNY_EXITED,
};

/* One user's place in one journey version. */
struct jny_inst {
	int node; /* current node index; JNY_NONE before entering */
	enum jny_state state;
	int64_t due_at;	     /* when WAITING: the timer */
	char timer_kind[16]; /* "wait" | "timeout" | "quiet" | "cap" */
	int waiting_event;   /* 1 while at a wait_event node */
	char variant[96];    /* the last split's variant, "" if none */
	char exit_reason[256];
	int64_t entered_at, converted_at;
};

struct jny_host {
	void *arg;
	int64_t now;
	const char *tz;		     /* the user's zone, fallback applied; never NULL */
	const char *journey_id;	     /* for hashing */
	const char *user_key;	     /* stable per user, for hashing */
	const struct cond_ctx *user; /* branch conditions (now_ms = now) */
	/* A node reached, with the reason (invariant 2). A held send released
	 * and a wait_event's outcome are reported as further steps of the same
	 * visit. */
	int (*step)(void *arg, const struct jny_node *n, const char *reason, struct cairn_err *err);
	/* Once per visit of a node, before its first step (per-node counts).
	 * May be NULL. */
	int (*entered)(void *arg, const struct jny_node *n, struct cairn_err *err);
	/* A message decided: template_id or inline_tpl (one is NULL); variant
	 * name or NULL. Returns 0 (queued), 1 when it was not sent and the
	 * host recorded the step and why (e.g. the template cannot render),
	 * or <0. */
	int (*send)(void *arg, const struct jny_node *n, const char *channel, const char *template_id,
		    const json_t *inline_tpl, const char *variant, int advertising, struct cairn_err *err);
	int (*update)(void *arg, const struct jny_node *n, struct cairn_err *err);
	int (*notify)(void *arg, const struct jny_node *n, struct cairn_err *err); /* webhook, slack */
	/* The journey goal (n = NULL) or a goal node reached. */
	int (*goal)(void *arg, const struct jny_node *n, struct cairn_err *err);
	/* Frequency cap of channel at now (asked for advertising sends only:
	 * receipts are never capped): 0 = free; 1 = capped, with *until
	 * (when a slot frees) and *skip (the workspace says skip, not wait).
	 * NULL = no caps. */
	int (*capped)(void *arg, const char *channel, int64_t *until, int *skip, struct cairn_err *err);
	/* The user left (any reason), after the last step. May be NULL. */
	int (*exited)(void *arg, const char *reason, struct cairn_err *err);
};

enum jny_cause { JNY_ENTER, JNY_TIMER, JNY_EVENT };

/* Advances in (invariant 1). in->due_at / timer_kind / state say what the
 * host must persist. 0, or a negative CAIRN_E* (a host callback's, or
 * CAIRN_EUNPROC for a runaway loop) with err filled. */
int jny_run(const struct jny_def *d, struct jny_inst *in, const struct jny_host *h, enum jny_cause cause,
	    struct cairn_err *err);

/* An event for a user in the journey: the goal converts it (once, within
 * its window from entry — also after the user left), exit_on ends it, and
 * a matching wait_event moves it on.
 * *changed (OUT) is 1 when in changed. 0 or <0 as jny_run. */
int jny_on_event(const struct jny_def *d, struct jny_inst *in, const struct jny_host *h, const char *event,
		 const json_t *properties, int *changed, struct cairn_err *err);

/* Until when an exited instance still listens for its goal: entered_at +
 * the goal window, or 0 (no goal, no window, or already converted). */
int64_t jny_goal_until(const struct jny_def *d, const struct jny_inst *in);
/* The frequency cap for channel in a workspace's "frequency_caps" setting
 * ({"email":{"max","per_ms","when_capped"}}, as the settings API stores
 * it): 1 with *max, *per_ms and *skip, 0 when the channel has no cap. */
int jny_cap_rule(const json_t *caps, const char *channel, int64_t *max, int64_t *per_ms, int *skip);
/* Does the event start the journey? (event triggers; segment triggers
 * match Segment Entered / Exited of their segment.) */
int jny_triggered_by(const struct jny_def *d, const char *event, const json_t *properties);
/* May a user enter now? in_now: already in it; last_entered: 0 = never. */
int jny_may_enter(const struct jny_def *d, int in_now, int64_t last_entered, int64_t now);
/* Does the event match the pattern (name and `where` on its properties)? */
int jny_event_matches(const struct jny_event_match *m, const char *event, const json_t *properties);
/* A stable number in [0, 10000) for (journey, user, node). */
unsigned jny_bucket(const char *journey_id, const char *user_key, const char *node_id);

#endif
