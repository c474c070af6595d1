/* store_journey.h — journeys, their running instances, timers, step history
 * and the message outbox: every line of their SQL (the rules are in
 * src/journey/; docs/journeys.md).
 *
 * Tables (state.db, the journeys migration step):
 *   journeys         (workspace_id, journey_id) → name, status (draft | live |
 *                    paused | archived), draft (definition JSON text),
 *                    draft_rev, live_version, created_at, updated_at
 *   journey_versions (workspace_id, journey_id, version) → definition
 *                    (normalized JSON text, immutable), published_at
 *   jny_instances    instance_id → workspace, journey, version, profile, node
 *                    (current node id), state (active | waiting | exited),
 *                    wait_event, variant, entered_at, updated_at, exited_at,
 *                    exit_reason, converted_at, steps
 *   jny_entries      (workspace_id, journey_id, profile_id) → last_entered_at,
 *                    entries: what the re-entry policy looks at
 *   jny_timers       instance_id → due_at, kind; indexed by due_at, so
 *                    waiting users cost nothing until due
 *   jny_steps        (instance_id, seq) → node, at, reason: the history
 *   jny_node_stats   (workspace_id, journey_id, node) → entered, exited,
 *                    converted
 *   messages         message_id → who, which journey step, channel, template,
 *                    rendered content, status (queued → delivery), send_at
 *   journey_tests    (workspace_id, journey_id, name) → input, expected
 *                    (a saved simulation and its result), version
 *   ws_settings      (workspace_id, key) → value (JSON text)
 *
 * Invariants:
 *   1. A version row is never changed after insert.
 *   2. An instance has at most one timer (the primary key), and none once
 *      exited.
 *   3. A step's instance update, its step rows, its timer and its messages
 *      are written in the caller's one transaction (the engine's batch or
 *      tick), so a crash leaves all or none.
 *   4. messages.message_id is derived from (instance, step seq), so the
 *      same step can never queue a message twice.
 *
 * Writes run inside the caller's store_begin/store_commit. Errors: 0 or a
 * negative CAIRN_E* with err filled (CAIRN_EIO for SQLite). */
#ifndef STORE_STORE_JOURNEY_H
#define STORE_STORE_JOURNEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_deliver.h"

/* ---- definitions --------------------------------------------------------- */

struct store_journey {
	char *id, *name, *status, *draft;
	int64_t draft_rev, live_version, created_at, updated_at;
};
void store_journey_release(struct store_journey *j);

struct store_journey_page {
	struct store_journey *items;
	size_t n;
	char *next_cursor;
};
void store_journey_page_release(struct store_journey_page *p);

/* A new draft (rev 1); CAIRN_ECONFLICT (journey_exists). */
int store_journey_create(struct store *st, int64_t ws, const char *id, const char *name, const char *draft, int64_t now,
			 struct cairn_err *err);
/* CAIRN_ENOTFOUND (journey_not_found) when absent. */
int store_journey_get(struct store *st, int64_t ws, const char *id, struct store_journey *out, struct cairn_err *err);
/* Every journey of ws but archived ones (unless archived = 1: only those). */
int store_journey_list(struct store *st, int64_t ws, int archived, int limit, const char *cursor,
		       struct store_journey_page *out, struct cairn_err *err);
/* Replaces name and draft; expect_rev > 0 must equal the stored draft_rev
 * (else CAIRN_ECONFLICT, "draft_changed"). The new rev into *rev. */
int store_journey_save_draft(struct store *st, int64_t ws, const char *id, const char *name, const char *draft,
			     int64_t expect_rev, int64_t now, int64_t *rev, struct cairn_err *err);
/* Freezes definition as the next version, makes it live. *version (OUT). */
int store_journey_publish(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			  int64_t *version, struct cairn_err *err);
int store_journey_set_status(struct store *st, int64_t ws, const char *id, const char *status, int64_t now,
			     struct cairn_err *err);
/* A version's definition text (caller frees), or NULL with err
 * (CAIRN_ENOTFOUND "version_not_found"). */
char *store_journey_version(struct store *st, int64_t ws, const char *id, int64_t version, int64_t *published_at,
			    struct cairn_err *err);
/* Versions as [{"version","published_at"}] newest first (new reference). */
json_t *store_journey_versions_json(struct store *st, int64_t ws, const char *id, struct cairn_err *err);

/* Every live or paused journey of every workspace, for the engine's cache. */
typedef int (*store_journey_fn)(void *arg, int64_t ws, const char *id, const char *status, int64_t version,
				const char *definition);
int store_journeys_running(struct store *st, store_journey_fn fn, void *arg, struct cairn_err *err);

/* ---- instances ------------------------------------------------------------- */

struct store_jny_instance {
	int64_t instance_id, ws, version, profile_id;
	char journey_id[128];
	char node[96];
	char state[16];	      /* active | waiting | exited */
	char wait_event[256]; /* "" when not waiting for an event */
	char variant[96];     /* "" when no split chose one */
	char exit_reason[256];
	int64_t entered_at, updated_at, exited_at, converted_at, steps;
	int64_t goal_until; /* exited, goal not reached: listens for it until then */
	/* its timer, read with it (not written by store_jny_save) */
	int64_t timer_due; /* 0 = none */
	char timer_kind[16];
};

/* The profile's instances that have not exited, and those that exited but
 * still listen for their goal at now (goal_until ≥ now), oldest first
 * (caller frees *out). */
int store_jny_active(struct store *st, int64_t ws, int64_t profile_id, int64_t now, struct store_jny_instance **out,
		     size_t *n, struct cairn_err *err);
int store_jny_get(struct store *st, int64_t instance_id, struct store_jny_instance *out, struct cairn_err *err);
/* Inserts in (instance_id assigned) and records the entry for re-entry. */
int store_jny_insert(struct store *st, struct store_jny_instance *in, struct cairn_err *err);
int store_jny_save(struct store *st, const struct store_jny_instance *in, struct cairn_err *err);
/* Instances of a journey still running on another version than `version`:
 * fn(instance_id, node) for each (ids read first; fn may write). */
typedef int (*store_jny_inst_fn)(void *arg, int64_t instance_id, const char *node);
int store_jny_on_other_versions(struct store *st, int64_t ws, const char *journey_id, int64_t version,
				store_jny_inst_fn fn, void *arg, struct cairn_err *err);
/* Moves an instance to another version (same node id). */
int store_jny_set_version(struct store *st, int64_t instance_id, int64_t version, struct cairn_err *err);
/* 1 when the profile is in the journey now, 0 when not; *last_entered (OUT,
 * may be NULL) the last entry time or 0. <0 on failure. */
int store_jny_entry(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id, int64_t *last_entered,
		    struct cairn_err *err);

/* ---- timers ------------------------------------------------------------------ */

int store_jny_timer_set(struct store *st, int64_t ws, int64_t instance_id, int64_t due_at, const char *kind,
			struct cairn_err *err);
int store_jny_timer_clear(struct store *st, int64_t instance_id, struct cairn_err *err);
struct store_jny_timer {
	int64_t instance_id, due_at;
	char kind[16];
};
/* Up to max timers due at or before now, earliest first. */
int store_jny_timers_due(struct store *st, int64_t now, struct store_jny_timer *out, size_t max, size_t *n,
			 struct cairn_err *err);
/* The earliest due time after `after` of anything time-driven — journey
 * timers and schedules, segment and tagging re-checks — or INT64_MAX. The
 * virtual clock steps through these so each happens at its own time. */
int64_t store_next_due(struct store *st, int64_t after);

/* ---- scheduled entries (date triggers, broadcasts) ------------------------------ */

/* profile_id 0 = the journey's broadcast. kind "date" | "broadcast" | "local". */
int store_jny_schedule_set(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id, int64_t due_at,
			   const char *kind, struct cairn_err *err);
int store_jny_schedule_clear(struct store *st, int64_t ws, const char *journey_id, int64_t profile_id,
			     struct cairn_err *err);
/* Drops every schedule of a journey (re-publish, archive). */
int store_jny_schedule_drop(struct store *st, int64_t ws, const char *journey_id, struct cairn_err *err);
struct store_jny_schedule {
	int64_t ws, profile_id, due_at;
	char journey_id[128];
	char kind[16];
};
/* Up to max schedules of live journeys due at or before now, earliest first. */
int store_jny_schedules_due(struct store *st, int64_t now, struct store_jny_schedule *out, size_t max, size_t *n,
			    struct cairn_err *err);
/* Calls fn(profile_id) for every member of a live segment. */
typedef int (*store_jny_pid_fn)(void *arg, int64_t profile_id);
int store_jny_segment_members(struct store *st, int64_t ws, const char *segment_id, store_jny_pid_fn fn, void *arg,
			      struct cairn_err *err);

/* ---- history and counts ----------------------------------------------------- */

int store_jny_step_add(struct store *st, const struct store_jny_instance *in, const char *node, int64_t at,
		       const char *reason, struct cairn_err *err);
/* Adds to a node's counters (entered / exited / converted). */
int store_jny_stat_add(struct store *st, int64_t ws, const char *journey_id, int64_t version, const char *node,
		       int entered, int exited, int converted, struct cairn_err *err);
/* {"node": {"entered","waiting","exited","converted"}, …} (new reference).
 * OUT: *by_version, the same per version ({"1":{node:{…}},…}; new). */
json_t *store_jny_stats_json(struct store *st, int64_t ws, const char *journey_id, json_t **by_version,
			     struct cairn_err *err);
/* The profile's journey steps, newest first: [{"journey_id","version",
 * "instance_id","node","at","reason"}] (new reference). */
json_t *store_jny_history_json(struct store *st, int64_t ws, int64_t profile_id, int limit, struct cairn_err *err);

/* The profile's journey steps with lo < at ≤ hi, newest first, shaped as
 * timeline items: {"type":"journey_step","journey_id","version","node",
 * "reason","timestamp"} (new reference). */
json_t *store_jny_steps_between(struct store *st, int64_t ws, int64_t profile_id, int64_t lo, int64_t hi,
				struct cairn_err *err);

/* The event that started instance_id (JSON text), kept for its later
 * messages' `event`; get returns a malloc'd copy or NULL. */
int store_jny_entry_event_put(struct store *st, int64_t instance_id, const char *event, struct cairn_err *err);
char *store_jny_entry_event_get(struct store *st, int64_t instance_id);

/* ---- saved simulations (cairn journey check) ---------------------------------- */

/* Saves (replaces) a test case: its input ({"user","events","start"}) and
 * the result it gave on version. */
int store_journey_test_put(struct store *st, int64_t ws, const char *journey_id, const char *name, const char *input,
			   const char *expected, int64_t version, int64_t now, struct cairn_err *err);
/* Every test of a journey (journey_id) or of every journey (NULL):
 * fn(ws, journey_id, name, input, expected, version). */
typedef int (*store_journey_test_fn)(void *arg, int64_t ws, const char *journey_id, const char *name, const char *input,
				     const char *expected, int64_t version);
int store_journey_tests(struct store *st, int64_t ws, const char *journey_id, store_journey_test_fn fn, void *arg,
			struct cairn_err *err);

/* ---- workspace settings ------------------------------------------------------- */

/* The value (JSON text, caller frees) or NULL when unset. */
char *store_setting_get(struct store *st, int64_t ws, const char *key);
int store_setting_put(struct store *st, int64_t ws, const char *key, const char *value, int64_t now,
		      struct cairn_err *err);

#endif
