/* store_templates.h — message templates and their immutable versions.
 *
 * A template is a workspace-scoped id ("welcome-1") with a sequence of
 * versions 1, 2, 3, …. A version holds the whole template — name, channel,
 * locale and body (a JSON object of Liquid sources) — and is never changed
 * once written, so a message sent with (id, version) can always be shown as
 * it was sent. Tables (state.db, migration 3):
 *
 *   templates          (workspace_id, template_id) → latest version number,
 *                      its name/channel/locale (for listing), created_at,
 *                      updated_at, archived_at
 *   template_versions  (workspace_id, template_id, version) → name, channel,
 *                      locale, body, created_at
 *
 * Invariants:
 *   1. templates.version is the highest version stored for the id, and
 *      versions 1 … templates.version all exist (dense, never reused).
 *   2. A version row is written once and never updated or deleted.
 *   3. Deleting archives (sets archived_at): every version stays readable.
 *      Creating an archived id again restores it as its next version, so
 *      an (id, version) pair always means the same content.
 *   4. Writes run in one store_begin/store_commit transaction on the
 *      calling thread's connection; a failure leaves nothing half-written.
 *
 * The store does not validate bodies (api_templates.c parses the Liquid
 * before saving); it stores what it is given. All template SQL lives in
 * store_templates.c. Errors follow store.h: 0 or a negative CAIRN_E* with
 * err filled. */
#ifndef STORE_STORE_TEMPLATES_H
#define STORE_STORE_TEMPLATES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* What a client saves: borrowed strings and body (the store copies). */
struct store_template_draft {
	const char *id;
	const char *name;
	const char *channel;
	const char *locale; /* or NULL */
	json_t *body;	    /* a JSON object */
};

/* One version of a template, owned by the holder (store_template_release). */
struct store_template {
	char *id;
	char *name;
	char *channel;
	char *locale; /* or NULL */
	json_t *body; /* NULL when a list was asked without bodies */
	int64_t version;
	int64_t latest_version; /* the template's latest version */
	int64_t created_at;	/* when version 1 was saved, ms */
	int64_t updated_at;	/* when this version was saved, ms */
	int64_t archived_at;	/* 0 unless the template is archived */
};
void store_template_release(struct store_template *t);

/* A page of a list: items (owned), and the cursor continuing it or NULL. */
struct store_template_page {
	struct store_template *items;
	size_t n;
	char *next_cursor;
};
void store_template_page_release(struct store_template_page *p);

/* Saves d as version 1 of d->id, or — when d->id is archived and restore
 * is 1 — restores it as its next version. CAIRN_ECONFLICT (template_exists)
 * when a live template has the id, or an archived one and restore is 0.
 * out (OUT) is the stored version. */
int store_template_create(struct store *st, int64_t ws, const struct store_template_draft *d, int restore, int64_t now,
			  struct store_template *out, struct cairn_err *err);

/* Saves d as the next version of d->id. When d equals the latest version
 * (name, channel, locale and body) nothing is written, *created (OUT) is 0
 * and out is the latest version: a retried update is harmless. Otherwise,
 * when expect_version > 0 and the latest version is not expect_version,
 * CAIRN_ECONFLICT (version_conflict). CAIRN_ENOTFOUND when no live template
 * has the id. */
int store_template_update(struct store *st, int64_t ws, const struct store_template_draft *d, int64_t expect_version,
			  int64_t now, struct store_template *out, int *created, struct cairn_err *err);

/* version 0: the latest version of a live template (CAIRN_ENOTFOUND, slug
 * template_not_found or template_archived, when there is none). version > 0:
 * that version, also of an archived template (history stays readable). */
int store_template_get(struct store *st, int64_t ws, const char *id, int64_t version, struct store_template *out,
		       struct cairn_err *err);

/* Archives a live template (soft delete). out (OUT) is its latest version
 * with archived_at set. CAIRN_ENOTFOUND when there is no live template. */
int store_template_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct store_template *out,
			   struct cairn_err *err);

/* Templates of ws by id, at most limit (1–1000), each as its latest
 * version. channel NULL = all; archived 0 = live ones, 1 = archived ones.
 * with_body 0 leaves item bodies NULL. cursor NULL or a next_cursor of an
 * earlier page (CAIRN_EINVAL, bad_cursor, for anything else). */
int store_templates_list(struct store *st, int64_t ws, const char *channel, int archived, int with_body, int limit,
			 const char *cursor, struct store_template_page *out, struct cairn_err *err);

/* Versions of a template (live or archived), newest first; paging as for
 * store_templates_list. CAIRN_ENOTFOUND when the id was never saved. */
int store_template_versions(struct store *st, int64_t ws, const char *id, int with_body, int limit, const char *cursor,
			    struct store_template_page *out, struct cairn_err *err);

/* ---- the data templates render with (CONVENTIONS §6) --------------------- */

/* The `user` object for a user or anonymous id: every trait as a key, then
 * `id` (the user id, or null), `anonymous_id`, `tags`, `computed` (an
 * object) — these four win over traits of the same name — and, unless a
 * trait has the name, `anonymous_ids`, `lifecycle_stage`, `consent`,
 * `groups`, `first_seen`, `last_seen`. A new object, or NULL with
 * CAIRN_ENOTFOUND (user_not_found). */
json_t *store_template_user(struct store *st, int64_t ws, const char *id, struct cairn_err *err);

/* The workspace's name for `workspace.name` (malloc'd), or NULL. */
char *store_template_workspace_name(struct store *st, int64_t ws);

#endif
