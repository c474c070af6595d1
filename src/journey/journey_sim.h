/* journey_sim.h — simulation: a journey run for one synthetic or recorded
 * user on a virtual clock, in memory. Waits fast-forward; nothing is sent
 * or stored; the result says which path the user took and why, and shows
 * each message rendered (SPEC §2; the "monthly test routine" of seed 001).
 *
 * The simulator is a second host of the same executor the engine runs
 * (journey_run.h), so a simulated path is the path the engine takes for the
 * same events (the crash test compares the two).
 *
 * Input user: {"user_id":…, "traits":{…}, "tags":[…], "segments":[…],
 * "consent":{"email":"subscribed",…}} (all optional). Events: an array of
 * Tracking API messages with "event", "timestamp" (RFC 3339) and
 * "properties"; "identify" messages ("type":"identify") change traits.
 *
 * Output: {"entered_at":…, "path":[{"node","at","reason"}…],
 * "messages":[{"node","channel","at","template","variant","subject","body",
 * "content"}…], "converted_at":…|null, "exited":"reason"|null} — exited null
 * when the user is still in the journey at the horizon (e.g. waiting). */
#ifndef JOURNEY_JOURNEY_SIM_H
#define JOURNEY_JOURNEY_SIM_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "journey/journey.h"
#include "store/store.h"

#define JNY_SIM_HORIZON_MS (400LL * 86400000) /* simulated time after the start */
#define JNY_SIM_MAX_EVENTS 10000

struct jny_sim_opts {
	struct store *st; /* for saved templates and workspace settings; may be NULL */
	int64_t ws;
	const char *journey_id;
	int64_t start_ms;   /* the clock's start; 0 = the first event's time, else now */
	int64_t horizon_ms; /* 0 = JNY_SIM_HORIZON_MS */
};

/* Simulates d for user and events (borrowed). A new object, or NULL with
 * err (CAIRN_EUNPROC with the field for bad input: "user.traits",
 * "events[3].timestamp", …). */
json_t *jny_simulate(const struct jny_def *d, const json_t *user, const json_t *events, const struct jny_sim_opts *o,
		     struct cairn_err *err);

/* The result as a readable table (one line per step and message). */
char *jny_sim_text(const json_t *result);

#endif
