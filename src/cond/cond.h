/* cond.h — the condition language (CONVENTIONS §4; docs/conditions.md).
 *
 * One parser, one validator and one evaluator for every place that asks a
 * yes/no question about a user: segments, tagging rules, journey branches
 * and trigger filters. The module knows nothing about storage: whatever it
 * cannot read from the JSON it is handed (traits, the current event) it asks
 * of the caller through the coarse callbacks of struct cond_ctx, which a
 * provider can answer from per-user aggregates (event name + optional
 * property filter + time window) instead of scanning a user's history.
 *
 *   struct cairn_err err = CAIRN_ERR_INIT;
 *   struct cond *c = cond_parse(json, &err);        // immutable tree
 *   int yes = cond_eval(c, &ctx, &err);              // any thread
 *   cond_free(c);
 *
 * Invariants:
 *   1. A struct cond is immutable after cond_parse: any number of threads
 *      may evaluate, visit or serialize it at once. It keeps no reference to
 *      the JSON it was parsed from.
 *   2. A parsed condition is valid: every operator has an operand of the
 *      shape it needs, every duration is positive and bounded, depth is at
 *      most COND_MAX_DEPTH and the tree has at most COND_MAX_NODES nodes.
 *      The evaluator therefore never meets a malformed node.
 *   3. Each negative operator (ne, not_in, not_exists, not_within_last) is
 *      exactly the negation of its positive twin (eq, in, exists,
 *      within_last) for every input, including a missing value and a value
 *      of another type. Every other operator is false on a missing value.
 *   4. cond_to_json(cond_parse(j)) parses again to an equal condition, and
 *      cond_to_json of that is identical (normalized form is a fixed point).
 *
 * Errors follow core/err.h: CAIRN_EUNPROC (slug "invalid_condition") with
 * err->field the JSON path of the fault, e.g. "all[1].count.op", prefixed by
 * the caller's path when given ("condition.all[1].count.op"). */
#ifndef COND_COND_H
#define COND_COND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define COND_MAX_DEPTH	     16				      /* nested condition objects, `where` included */
#define COND_MAX_NODES	     512			      /* condition objects in one tree */
#define COND_MAX_LIST	     1000			      /* values in one in/not_in list */
#define COND_MAX_NAME	     256			      /* bytes of a trait, event, tag, … name */
#define COND_MAX_STRING	     4096			      /* bytes of a string operand */
#define COND_MAX_DURATION_MS (100LL * 366 * 24 * 3600 * 1000) /* ~100 years */

/* What a node is. */
enum cond_kind {
	COND_ALL,
	COND_ANY,
	COND_NOT,
	COND_TRAIT,    /* a profile trait */
	COND_PROPERTY, /* a property of the current event (or, inside `where`, of the event filtered) */
	COND_EVENT,    /* count / sum of past events, optionally filtered and windowed */
	COND_SEGMENT,
	COND_TAG,
	COND_CONSENT,
	COND_SCORE,
	COND_COMPUTED, /* a computed trait */
};

struct cond;
struct cond_dep;

/* Compiles json (borrowed, not kept) into a condition the caller frees with
 * cond_free. Returns NULL with err filled (CAIRN_EUNPROC, "invalid_condition",
 * field = JSON path) when json is not a valid condition. */
struct cond *cond_parse(const json_t *json, struct cairn_err *err);
/* The same, with `path` (e.g. "condition" or "branches[2].when", may be NULL
 * or "") put in front of every err->field, so an API handler can report the
 * path within its own request body. */
struct cond *cond_parse_at(const json_t *json, const char *path, struct cairn_err *err);
/* Validates without keeping the result. Returns 0, or CAIRN_EUNPROC with err
 * filled exactly as cond_parse_at would. */
int cond_validate_json(const json_t *json, const char *path, struct cairn_err *err);
void cond_free(struct cond *c);

/* The normalized JSON form (new reference): keys in a fixed order, durations
 * as given but without zero units, numbers and strings exactly as parsed. */
json_t *cond_to_json(const struct cond *c);
/* The normalized form as compact JSON with sorted keys (caller frees): a
 * stable key for caching and for naming aggregates. */
char *cond_to_text(const struct cond *c);
enum cond_kind cond_kind(const struct cond *c);

/* ---- evaluation --------------------------------------------------------- */

/* One aggregate the evaluator needs: the events named `name` whose
 * properties satisfy `where` (NULL: every such event), with a timestamp in
 * [since_ms, until_ms]. A provider that keeps aggregates per
 * (name, where_key) can answer without reading events; one that scans
 * events tests each with cond_eval_where(where, properties). */
struct cond_event_query {
	const char *name;
	const struct cond *where; /* borrowed; NULL = no filter */
	const char *where_key;	  /* cond_to_text(where), "" when where is NULL */
	int64_t since_ms;	  /* inclusive; 0 = all time */
	int64_t until_ms;	  /* inclusive; always ctx->now_ms */
	const char *property;	  /* event_sum only: the property summed */
};

/* What a condition is evaluated against. Every pointer may be NULL: NULL
 * traits/event read as "no such value"; a NULL callback makes a condition
 * that needs it fail with CAIRN_EINVAL ("cannot be answered here"). Strings
 * passed to callbacks are borrowed for the duration of the call. Callbacks
 * return 0 on success, <0 on failure (the evaluation then fails with
 * CAIRN_EIO); has_tag/in_segment return 1 yes, 0 no, <0 failure. */
struct cond_ctx {
	int64_t now_ms; /* from core/clock.h, or a virtual time in tests */
	json_t *traits; /* the profile's traits object (borrowed) */
	json_t *event;	/* the current event message; its properties under "properties" */
	void *arg;	/* passed to every callback */
	int (*event_count)(void *arg, const struct cond_event_query *q, int64_t *out);
	/* Sum of q->property over the matching events; non-numeric or missing
	 * values count as 0 and numeric strings as their number. */
	int (*event_sum)(void *arg, const struct cond_event_query *q, double *out);
	/* Optional, for cond_next_change only: the earliest timestamp of a
	 * matching event in [since_ms, until_ms]. Returns 0 and *out_ms, 1 when
	 * there is none, <0 on failure. An earlier time than the truth (e.g. the
	 * start of a daily bucket) is allowed; it only causes an early recheck. */
	int (*event_oldest)(void *arg, const struct cond_event_query *q, int64_t *out_ms);
	int (*has_tag)(void *arg, const char *tag);
	int (*in_segment)(void *arg, const char *segment_id);
	/* "subscribed" | "unsubscribed" | "unknown"; NULL is read as "unknown".
	 * channel is "email", "sms", "kakao", "push", "night" or "topics.<name>". */
	const char *(*consent)(void *arg, const char *channel);
	/* Returns 0 with *value (0–100) and *percentile (0–100) for a known
	 * score, 1 when the user has no such score, <0 on failure. */
	int (*score)(void *arg, const char *name, double *value, double *percentile);
	/* Returns 0 with *value (borrowed; JSON null or NULL = missing), or <0. */
	int (*computed)(void *arg, const char *name, json_t **value);
};

/* Evaluates c. Returns 1 (true), 0 (false) or a negative CAIRN_E* code with
 * err filled (a callback failed or is missing). all/any stop at the first
 * deciding child; children are tried cheapest first (values, tags, consent
 * before event aggregates), which never changes the result. */
int cond_eval(const struct cond *c, const struct cond_ctx *ctx, struct cairn_err *err);
/* Evaluates a `where` filter (or any condition made only of all/any/not and
 * property leaves) against one event's properties object (borrowed; NULL
 * reads as {}). Returns 1 or 0; a leaf of another kind reads as false. A
 * `where` is a pure function of the event's properties (the parser refuses
 * the clock-relative operators inside it), so a provider may evaluate it
 * once per event as the event arrives and keep only the aggregates. */
int cond_eval_where(const struct cond *where, const json_t *properties);

/* Reads a value by name as conditions do (the whole name as one key, else
 * split on '.'); borrowed, NULL when absent. */
const json_t *cond_lookup_path(const json_t *obj, const char *path);

/* ---- set evaluation (cond_set.c) ------------------------------------------ */

/* Answers a condition for a whole population at once (segment previews,
 * initial fills): users are slots 0 .. 64·nwords − 1 of bitsets. The
 * provider answers one leaf at a time as two bitsets: YES, the users for
 * whom the leaf holds, and MAYBE, those it could not decide (e.g. a count
 * whose window cuts a day bucket); users in neither do not satisfy it. It
 * returns 0, 1 when it cannot answer that leaf at all (every live user is
 * then MAYBE), or <0 with err filled. */
struct cond_set_provider {
	void *arg;
	size_t nwords;
	const uint64_t *live; /* the slots that are users; results never leave it */
	int (*leaf)(void *arg, const struct cond_dep *leaf, int64_t now_ms, uint64_t *yes, uint64_t *maybe,
		    struct cairn_err *err);
};

/* Fills yes and maybe (nwords each): c holds for every user in yes, fails
 * for every user in neither, and must be decided with cond_eval for the
 * users in maybe (disjoint from yes). Exact when the provider answered
 * every leaf exactly. 0, or the provider's negative code. */
int cond_eval_set(const struct cond *c, const struct cond_set_provider *p, int64_t now_ms, uint64_t *yes,
		  uint64_t *maybe, struct cairn_err *err);

/* For providers: a value leaf (trait, computed, property) applied to value
 * (NULL = missing); 1 or 0, exactly as cond_eval would. */
int cond_leaf_test_value(const struct cond *leaf, const json_t *value, int64_t now_ms);
/* An event leaf's tests (count, or "at least once", and sum) on the
 * matching events' count and sum of its `sum` property. 1 or 0. */
int cond_leaf_test_event(const struct cond *leaf, int64_t count, double sum);
/* An event leaf's window at now_ms: [since, until] inclusive, since 0 = all time. */
void cond_leaf_event_window(const struct cond *leaf, int64_t now_ms, int64_t *since_ms, int64_t *until_ms);

/* ---- introspection ------------------------------------------------------ */

/* One leaf a condition depends on, as handed to a cond_visit callback. */
struct cond_dep {
	enum cond_kind kind;	 /* never ALL / ANY / NOT */
	const char *name;	 /* trait or property path, event name, segment id, tag,
				  * consent channel, score or computed name */
	const struct cond *node; /* the leaf itself */
	int in_where;		 /* 1 for property leaves inside an event's `where` */
	/* COND_EVENT only: */
	const struct cond *where; /* NULL = no filter */
	const char *where_key;	  /* "" when no filter */
	int64_t window_ms;	  /* 0 = all time */
	const char *sum_property; /* NULL unless the condition has `sum` */
	int has_count;		  /* 1 when counted (explicitly or the implicit "at least once") */
	/* leaves with an operator: 1 when the operator is relative to now
	 * (within_last / not_within_last) */
	int uses_now;
};

/* Calls fn for every leaf, depth first in document order (the property
 * leaves of a `where` right after their event leaf). A non-zero return from
 * fn stops the walk and is returned. */
typedef int (*cond_visit_fn)(void *arg, const struct cond_dep *dep);
int cond_visit(const struct cond *c, cond_visit_fn fn, void *arg);

/* The longest look-back of any time-relative clause (event `within`,
 * within_last / not_within_last) in ms; 0 when there is none. An event
 * clause without `within` looks at all time and is not counted here:
 * see cond_visit's window_ms. */
int64_t cond_max_window_ms(const struct cond *c);
/* 1 when the value can change with the clock alone (no new event, trait or
 * tag): the condition has an event clause with `within` or a
 * within_last / not_within_last operator. */
int cond_uses_time(const struct cond *c);
/* For live segments: the earliest time after ctx->now_ms at which c's value
 * may change with the clock alone, i.e. c's value is the same at every
 * instant in (now, *out_ms) unless the user's data changes. INT64_MAX when
 * no time-relative clause can change. Conservative: the answer is never
 * later than the true change, and may be earlier (the engine re-evaluates,
 * finds no change, and asks again). A windowed event clause uses
 * ctx->event_oldest; without it the answer is now + 1 ms for that clause.
 * Returns 0, or a negative code with err filled. */
int cond_next_change(const struct cond *c, const struct cond_ctx *ctx, int64_t *out_ms, struct cairn_err *err);

#endif
