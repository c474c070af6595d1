/* tagging.h — auto-tagging rules, run by the engine (SPEC §4, seed 001;
 * docs/tagging.md).
 *
 * trk_tagging_apply runs for every applied event (in the batch transaction,
 * after live segments); trk_tagging_tick runs in its own transaction when
 * the engine is idle (at most every 200 ms) and after the virtual clock
 * moves, for rules that fire on time alone ("no order within 3 days").
 * Both may emit events with engine_emit. 0 or a negative CAIRN_E*.
 *
 * A rule is data (JSON); three kinds, told apart by their keys:
 *   event      {"when":{"event":E,"where":C?},"if":C?,"add":[…],"remove":[…]}
 *   absence    the same plus "unless":{"event":F,"where":C?,"within":D}
 *   condition  {"when":{"condition":C},"add":[…],"remove":[…],
 *               "remove_when_false":bool}
 * The API stores and edits them through the functions below; storage is
 * store/store_tagging.h. */
#ifndef TRACK_TAGGING_H
#define TRACK_TAGGING_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define TRK_TAGGING_TICK_MAX 1000 /* due rows handled per tick */
#define TRK_TAGGING_TAG_MAX  200  /* bytes of a tag, after interpolation */
#define TRK_TAGGING_TAGS_MAX 50	  /* tags in one "add" or "remove" list */

int trk_tagging_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err);
int trk_tagging_tick(struct store *st, int64_t now_ms, struct cairn_err *err);

/* Checks a rule definition (a request body without "id"; borrowed) and
 * returns its normalized form (a new object: name, enabled, when, if,
 * unless, add, remove, remove_when_false), or NULL with err:
 * CAIRN_EUNPROC and err->field the JSON path of the fault ("when.where.op",
 * "add[1]"). A missing name becomes default_name. */
json_t *trk_tagging_normalize(const json_t *def, const char *default_name, struct cairn_err *err);

/* Installs the default rules (seed 001's table) when ws has never had
 * them; must run inside a transaction. 1 installed now, 0 already had
 * them, <0 with err. The engine calls it the first time it loads a
 * workspace's rules; trk_tagging_defaults_ensure does the same in its own
 * transaction (for the API). */
int trk_tagging_defaults_install(struct store *st, int64_t ws, int64_t now, struct cairn_err *err);
int trk_tagging_defaults_ensure(struct store *st, int64_t ws, int64_t now, struct cairn_err *err);

/* Saves a normalized definition (create = 1: new id, CAIRN_ECONFLICT when a
 * live rule has it; 0: replace, CAIRN_ENOTFOUND) in its own transaction;
 * the engine uses it from its next step. */
int trk_tagging_save(struct store *st, int64_t ws, const char *id, const json_t *normalized, int create, int64_t now,
		     struct cairn_err *err);
/* Archives a rule (its pending absence timers and condition state go);
 * tags it already added stay. CAIRN_ENOTFOUND. */
int trk_tagging_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err);

/* Tells the engine's cache that definitions changed (save / archive call
 * it themselves). */
void trk_tagging_invalidate(void);

#endif
