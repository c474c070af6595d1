/* journey_engine.h — journeys in the engine: triggers, steps and timers
 * against the store (the executor itself is journey_run.h).
 *
 *   engine batch, per event ─► jny_apply_event: exit_on / goal / wait_event
 *                                of the user's instances, then triggers
 *   engine tick ─► jny_tick: due timers, in transactions of JNY_TICK_BATCH
 *
 * Invariants:
 *   1. A step, its history rows, its timer, its messages and the events it
 *      emits are written in the transaction that applies the event (with
 *      the engine's cursor) or that deletes the fired timer: a crash leaves
 *      all or none of a step, and a restart resumes every instance from the
 *      rows (docs/decisions/0009-journey-steps.md).
 *   2. A user's events are applied in log order; a timer fires in the tick
 *      after it is due; an instance has one timer at most.
 *   3. Only live journeys advance. A paused journey keeps its users where
 *      they are: events do not move them and their timers wait; on resume,
 *      overdue timers fire at once. New entries need a live journey.
 *   4. The definition an instance runs is its own version's, never the
 *      draft's or a newer version's.
 *
 * Errors: 0 or a negative CAIRN_E* with err filled. */
#ifndef JOURNEY_JOURNEY_ENGINE_H
#define JOURNEY_JOURNEY_ENGINE_H

#include <stdint.h>

#include "core/err.h"
#include "journey/journey.h"
#include "store/store.h"

#define JNY_TICK_BATCH 1000 /* timers fired per transaction */

/* Engine stage, after tagging: the event's effect on journeys. Besides
 * track events it understands the internal event type "enroll"
 * ({"properties":{"journey_id":…}}), written by the enrolment API. */
int jny_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
/* Engine stage, BEFORE ingest applies the event: for an identify, keeps
 * the profile's traits as they were, so jny_apply_event can see what
 * changed (trait_changed triggers, date schedules). Engine thread only. */
void jny_before_event(struct store *st, const struct store_event *ev);
/* Fires every timer due at now (several transactions; each is followed by
 * engine_forward). *fired (OUT, may be NULL) counts them. */
int jny_tick(struct store *st, int64_t now, int64_t *fired, struct cairn_err *err);
/* Turns the journey stages off (0) or on (1, the default): `cairn rebuild
 * --check` replays the log without running journeys again — what they did
 * is in the log as the events they emitted. */
void jny_enable(int on);
/* Journeys were published, paused, resumed or archived: the engine reloads
 * its cache before its next step. */
void jny_invalidate(void);

/* ---- what the API does, each in its own transaction --------------------- */

/* Publishes the draft of id: parse, check (problems (OUT) non-empty → nothing
 * published, returns CAIRN_EUNPROC "invalid_journey"), freeze as the next
 * version, make it live. *version (OUT). */
int jny_publish(struct store *st, int64_t ws, const char *id, int64_t now, int64_t *version,
		struct jny_problems *problems, struct cairn_err *err);
/* jny_check against the workspace's templates and segments. */
int jny_check_in(struct store *st, int64_t ws, const struct jny_def *d, struct jny_problems *problems,
		 struct cairn_err *err);
/* action: "pause" (live → paused), "resume" (paused → live), "archive"
 * (→ archived; its users exit with reason "archived"), "restore"
 * (archived → draft). CAIRN_ECONFLICT when the journey is not in a state
 * the action applies to. */
int jny_set_status(struct store *st, int64_t ws, const char *id, const char *action, int64_t now,
		   struct cairn_err *err);
/* Moves the users on older versions of id to its live version, at the
 * node with the same id; users whose node the live version no longer has
 * exit (reason "migrated: node <id> removed"). *moved / *exited (OUT). */
int jny_migrate(struct store *st, int64_t ws, const char *id, int64_t now, int64_t *moved, int64_t *exited,
		struct cairn_err *err);
/* The definition of a version (0 = the live one), parsed; NULL with err. */
struct jny_def *jny_load(struct store *st, int64_t ws, const char *id, int64_t version, struct cairn_err *err);

#endif
