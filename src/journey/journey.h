/* journey.h — journey definitions (CONVENTIONS §5; docs/journeys.md): the
 * parsed, immutable form every part of the journey engine shares — the API
 * (drafts, publish), the engine (triggers, steps, timers), the simulator and
 * the graph export.
 *
 *   json ──jny_parse──► struct jny_def ──jny_check──► publishable
 *                            │
 *                            ├─► jny_to_json (normalized, round trips)
 *                            └─► jny_graph (DOT / Mermaid)
 *
 * Invariants:
 *   1. A struct jny_def is immutable after jny_parse and safe to share
 *      between threads. It keeps no reference to the JSON it came from.
 *   2. A parsed definition is structurally valid: node ids unique and
 *      slug-like, every `next`-like reference resolved to a node index,
 *      `start` resolved, every condition parsed (cond.h), durations
 *      positive, weights positive, every field of the right type. What can
 *      only be judged against the workspace or the whole graph (templates
 *      exist, unreachable nodes, loops without a wait, conditions that can
 *      never hold, waits beyond the goal window) is jny_check's job.
 *   3. Errors name the JSON path of the fault ("nodes[3].next",
 *      "trigger.where.all[0].op") and, for node faults, the node id in the
 *      message, so a marketer can find it.
 *
 * Errors follow core/err.h: CAIRN_EUNPROC, slug "invalid_journey". */
#ifndef JOURNEY_JOURNEY_H
#define JOURNEY_JOURNEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/buf.h"
#include "core/err.h"

#define JNY_MAX_NODES	  500
#define JNY_MAX_ID	  64	     /* bytes of a node id */
#define JNY_MAX_DEF_BYTES (1u << 20) /* a definition's JSON */
#define JNY_MAX_BRANCHES  32
#define JNY_MAX_VARIANTS  16
#define JNY_MAX_EXIT_ON	  32				 /* entries of exit_on */
#define JNY_MAX_WAIT_MS	  (2LL * 366 * 24 * 3600 * 1000) /* two years */
#define JNY_NONE	  (-1)				 /* no node */

enum jny_trigger_type {
	JT_EVENT,	      /* "event": name + optional where on its properties */
	JT_SEGMENT_ENTERED,   /* "segment_entered": segment id */
	JT_SEGMENT_EXITED,    /* "segment_exited": segment id */
	JT_TRAIT_CHANGED,     /* "trait_changed": trait, optional from / to values */
	JT_DATE,	      /* "date": trait, offset, local time */
	JT_CONTENT_PUBLISHED, /* "content_published" */
	JT_MANUAL,	      /* "manual": API / CLI enrolment only */
	JT_BROADCAST,	      /* "broadcast": a segment, once (at) or recurring (cron) */
};

enum jny_node_type {
	JN_SEND,
	JN_WAIT,
	JN_WAIT_EVENT,
	JN_BRANCH,
	JN_SPLIT,
	JN_UPDATE,
	JN_WEBHOOK,
	JN_SLACK,
	JN_GOAL,
	JN_EXIT,
};

enum jny_reentry {
	JR_NEVER,  /* once per user, ever */
	JR_AFTER,  /* again once reentry_after_ms passed since the last entry */
	JR_ALWAYS, /* again whenever the trigger fires and the user is not in it */
};

/* An event pattern: trigger, exit_on, goal, wait_event. */
struct jny_event_match {
	char *event;
	struct cond *where; /* on the event's properties; NULL = any */
};

struct jny_branch {
	struct cond *when; /* about the user (traits, tags, events, …) */
	int next;
};

struct jny_variant {
	char *name;
	int weight; /* > 0 */
	int next;
};

/* A content variant of a send node (A/B test of the message itself). */
struct jny_send_variant {
	char *name;
	int weight; /* > 0 */
	char *template_id;
	json_t *inline_template; /* owned; exactly one of the two is set */
};

struct jny_node {
	char *id;
	enum jny_node_type type;
	int next; /* JNY_NONE for exit, branch, split, and a last node */

	/* send */
	char *channel;				/* "email", "sms", "kakao", "push", "webhook", "slack" */
	char *template_id;			/* NULL when inline */
	json_t *inline_template;		/* {"subject","html","text"} / {"text"} …; owned */
	struct jny_send_variant *send_variants; /* NULL unless "variants" given */
	size_t nsend_variants;
	char **fallback; /* channels to try in order when the first fails */
	size_t nfallback;
	int advertising; /* -1 = the journey's setting, 0 / 1 given */

	/* wait: duration, then (optionally) the next local time / weekday */
	int64_t duration_ms; /* 0 = none */
	int until_minute;    /* minute of the local day, -1 = none */
	unsigned weekdays;   /* bit 0 = Sunday … bit 6 = Saturday; 0 = any day */

	/* wait_event: the event, and what happens without it */
	struct jny_event_match wait;
	int64_t timeout_ms;
	int timeout_next;

	/* branch: first branch whose `when` holds, else `else_next` */
	struct jny_branch *branches;
	size_t nbranches;
	int else_next;

	/* split: weighted variants; holdout_pct of users leave as holdout */
	struct jny_variant *variants;
	size_t nvariants;
	int holdout_pct; /* 0–99 */

	/* update */
	char **tags_add, **tags_remove;
	size_t ntags_add, ntags_remove;
	json_t *set_traits; /* object, owned, or NULL */
	char *lifecycle;
	json_t *score; /* {"name": delta}, owned, or NULL */

	/* webhook / slack */
	char *url;
	char *body; /* Liquid */
	char *slack_channel;
	char *text; /* Liquid */
};

struct jny_def {
	char *name;
	struct {
		enum jny_trigger_type type;
		struct jny_event_match match; /* event */
		char *segment;		      /* segment_entered / segment_exited / broadcast */
		char *trait;		      /* trait_changed / date */
		json_t *from, *to;	      /* trait_changed: owned scalars, NULL = any;
					       * JSON null = the trait had / has no value */
		int64_t offset_ms;	      /* date: signed */
		int at_minute;		      /* date / broadcast: local minute of day, -1 = none;
					       * broadcast: once, at each user's next such time */
		char *cron;		      /* broadcast: recurring (5-field cron, single-spaced), or NULL */
		int64_t at_ms;		      /* broadcast: once at, 0 = when published */
	} trigger;
	enum jny_reentry reentry;
	int64_t reentry_after_ms;
	struct jny_event_match *exit_on;
	size_t nexit_on;
	int has_goal;
	struct jny_event_match goal;
	int64_t goal_within_ms;	    /* attribution window from entry, 0 = none */
	int quiet_start, quiet_end; /* local minutes; -1 = no quiet hours */
	int advertising;	    /* default for send nodes: marketing (1) or informational (0) */
	char *timezone;		    /* fallback zone for users without one; NULL = the workspace's */
	json_t *layout;		    /* the web builder's node positions {id: {x, y}}; the engine ignores it */
	struct jny_node *nodes;
	size_t nnodes;
	int start;
};

/* Parses a definition (borrowed JSON). NULL with err (CAIRN_EUNPROC,
 * "invalid_journey", field = JSON path) when it is not valid (invariant 2). */
struct jny_def *jny_parse(const json_t *json, struct cairn_err *err);
void jny_free(struct jny_def *d);
/* The normalized JSON form (new reference): jny_parse(jny_to_json(d)) is
 * an equal definition. */
json_t *jny_to_json(const struct jny_def *d);
/* The index of a node id, or JNY_NONE. */
int jny_node_index(const struct jny_def *d, const char *id);
const char *jny_node_type_name(enum jny_node_type t);
const char *jny_trigger_type_name(enum jny_trigger_type t);

/* One transition out of a node, as the graph, the checks and the simulator
 * walk them. */
enum jny_edge_kind {
	JE_NEXT,    /* `next` (for wait_event: the event came) */
	JE_TIMEOUT, /* wait_event's `timeout_next` */
	JE_BRANCH,  /* branches[index].next */
	JE_ELSE,    /* branch `else` */
	JE_VARIANT, /* split variants[index].next */
};
struct jny_edge {
	int to; /* a node index, never JNY_NONE */
	enum jny_edge_kind kind;
	int index; /* branch or variant index, else 0 */
};
#define JNY_MAX_EDGES (JNY_MAX_BRANCHES + 2)
/* OUT: out[0 .. return) = the transitions out of n that lead to a node, in
 * order (next, timeout; branches then else; variants). A missing target
 * (the user exits there) has no edge. out holds JNY_MAX_EDGES. */
size_t jny_edges(const struct jny_node *n, struct jny_edge *out);

/* ---- checks before publishing (journey_check.c) ---------------------------- */

/* What the checks ask about the workspace; a NULL callback skips that check. */
struct jny_check_env {
	void *arg;
	/* 1 when a template with that id exists for the channel, 0 when not, <0 failure */
	int (*template_exists)(void *arg, const char *channel, const char *template_id);
	/* 1 when a live segment has that id */
	int (*segment_exists)(void *arg, const char *segment_id);
};

/* One problem found by jny_check. */
struct jny_problem {
	char *node;    /* node id, or NULL for the journey as a whole */
	char *field;   /* JSON path, e.g. "nodes[2].template" */
	char *code;    /* "unreachable_node", "loop_without_wait", "missing_template",
			* "unknown_channel", "condition_never_holds", "wait_beyond_goal",
			* "unknown_segment", … */
	char *message; /* a sentence a person can act on, naming the node */
};

struct jny_problems {
	struct jny_problem *items;
	size_t n;
};
void jny_problems_release(struct jny_problems *p);

/* Every problem that would stop d from being published, in node order
 * (empty = publishable). 0, or <0 when a callback failed (err filled). */
int jny_check(const struct jny_def *d, const struct jny_check_env *env, struct jny_problems *out,
	      struct cairn_err *err);
/* The problems as the API's 422 body:
 * {"error":{"code":"invalid_journey","message":<first>,"field":<first>,
 *           "problems":[{"node","field","code","message"},…]}} (new reference). */
json_t *jny_problems_json(const struct jny_problems *p);

/* ---- views (journey_graph.c) ---------------------------------------------- */

enum jny_graph_format { JNY_GRAPH_DOT, JNY_GRAPH_MERMAID };
/* Appends the graph of d to out: one vertex per node (label: id and what it
 * does), one edge per transition (labelled with the branch / variant /
 * timeout it stands for); optional per-node counts ("entered 120 ·
 * waiting 14"): NULL for none, or an array of d->nnodes entries in node
 * order. */
struct jny_node_counts {
	int64_t entered, waiting, exited, converted;
};
void jny_graph(const struct jny_def *d, enum jny_graph_format fmt, const struct jny_node_counts *counts,
	       struct buf *out);

#endif
