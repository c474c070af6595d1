/* store_tagging.h — auto-tagging rules: every line of their SQL (the rules
 * themselves run in src/track/tagging.c; docs/tagging.md).
 *
 * Tables (state.db, the tagging migration step):
 *   tagging_rules     (workspace_id, rule_id) → definition (normalized rule
 *                     JSON text), created_at, updated_at, archived_at
 *   tagging_defaults  workspace_id → installed_at: the workspace has had its
 *                     default rules installed once (never again, so deleted
 *                     defaults stay deleted)
 *   tagging_state     (workspace_id, rule_id, profile_id): the condition of a
 *                     condition rule was true at its last evaluation
 *   tagging_due       (workspace_id, rule_id, profile_id) → due_at, cause:
 *                     an absence rule fires at due_at unless cancelled; a
 *                     time-relative condition rule is re-evaluated at due_at.
 *                     Indexed by due_at for trk_tagging_tick.
 *
 * Invariants:
 *   1. An archived rule has no state and no due rows.
 *   2. At most one due row per (rule, profile).
 *
 * Writes run inside the caller's store_begin/store_commit. Statements are
 * prepared per call (as store_seg_live.c, for the same reason). Errors: 0 or
 * a negative CAIRN_E* with err filled (CAIRN_EIO for SQLite). */
#ifndef STORE_STORE_TAGGING_H
#define STORE_STORE_TAGGING_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* A stored rule, owned by the holder (store_tagging_rule_release). */
struct store_tagging_rule {
	char *id;
	char *definition; /* normalized rule JSON text */
	int64_t created_at, updated_at;
};
void store_tagging_rule_release(struct store_tagging_rule *r);

struct store_tagging_page {
	struct store_tagging_rule *items;
	size_t n;
	char *next_cursor; /* or NULL */
};
void store_tagging_page_release(struct store_tagging_page *p);

/* Creates id, or restores it when archived. CAIRN_ECONFLICT (rule_exists)
 * when a live rule has the id. */
int store_tagging_rule_insert(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			      struct cairn_err *err);
/* Replaces the definition of a live rule; CAIRN_ENOTFOUND. */
int store_tagging_rule_update(struct store *st, int64_t ws, const char *id, const char *definition, int64_t now,
			      struct cairn_err *err);
/* Archives a live rule and drops its state and due rows; CAIRN_ENOTFOUND. */
int store_tagging_rule_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err);
/* A live rule: 0 and out, or CAIRN_ENOTFOUND (rule_not_found). */
int store_tagging_rule_get(struct store *st, int64_t ws, const char *id, struct store_tagging_rule *out,
			   struct cairn_err *err);
/* Live rules by id, at most limit (0 = all); cursor NULL or a next_cursor
 * (CAIRN_EINVAL bad_cursor otherwise). */
int store_tagging_rules_list(struct store *st, int64_t ws, int limit, const char *cursor,
			     struct store_tagging_page *out, struct cairn_err *err);

/* Marks ws as having its defaults: 1 when this call marked it (the caller
 * installs them now, in the same transaction), 0 when it already was. */
int store_tagging_defaults_claim(struct store *st, int64_t ws, int64_t now, struct cairn_err *err);

/* 1 when the profile has tag, 0 when not, <0. */
int store_tagging_has_tag(struct store *st, int64_t ws, int64_t profile_id, const char *tag, struct cairn_err *err);

/* Condition state: get → 1 / 0 / <0; set on = 1 inserts, 0 deletes. */
int store_tagging_state_get(struct store *st, int64_t ws, const char *rule, int64_t profile_id, struct cairn_err *err);
int store_tagging_state_set(struct store *st, int64_t ws, const char *rule, int64_t profile_id, int on,
			    struct cairn_err *err);

/* Schedules (ws, rule, profile) at due_at with cause (an event's messageId,
 * may be NULL). keep_earlier = 1 leaves an existing row alone (an absence
 * rule counts from its first unanswered trigger); 0 replaces it. */
int store_tagging_due_set(struct store *st, int64_t ws, const char *rule, int64_t profile_id, int64_t due_at,
			  const char *cause, int keep_earlier, struct cairn_err *err);
/* Drops the due row of (ws, rule, profile), if any. */
int store_tagging_due_delete(struct store *st, int64_t ws, const char *rule, int64_t profile_id, struct cairn_err *err);
struct store_tagging_due {
	int64_t ws;
	char *rule;
	int64_t profile_id;
	int64_t due_at;
	char *cause; /* or NULL */
};
/* The earliest due rows with due_at <= now, at most limit, into *out (freed
 * with store_tagging_due_free). */
int store_tagging_due_list(struct store *st, int64_t now, int limit, struct store_tagging_due **out, size_t *n,
			   struct cairn_err *err);
void store_tagging_due_free(struct store_tagging_due *d, size_t n);

#endif
