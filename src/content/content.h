/* content.h — a message body: its channel's shape, checked on save, and
 * rendered for one user. Shared by the templates API (save, preview), the
 * journey engine (a send node's template or inline body), the simulator
 * and delivery, so a body means the same thing everywhere.
 *
 *   body (json) ──content_check──► normalized body (what a save stores)
 *        │
 *        └──content_render(data)──► rendered (json, the body's shape)
 *                                   + report: used / missing / unknown filters
 *
 *   template id[, version] ──content_render_template──► rendered, channel
 *
 * Invariants:
 *   1. A body is channel-shaped and the shapes are ONE table (content.c,
 *      struct content_channel): which keys exist, which are required, which
 *      hold a list of buttons or a map. Nothing else knows a channel's keys.
 *   2. Every string in a body is a Liquid source (src/template/tpl.h),
 *      parsed in lax mode by content_check, so a body that was checked
 *      (every saved template) always parses.
 *   3. Errors name the path of the field in the body ("body.subject",
 *      "body.buttons[0].url_mobile", "body.data.deep_link") and carry the
 *      template engine's slug and line/column message. content_check keeps
 *      the engine's code (template_too_large is 413 on save); content_render
 *      reports every fault of the body or its render as CAIRN_EUNPROC (422).
 *   4. `rendered` has the body's shape: top-level keys in table order,
 *      `buttons` an array of objects, `data` an object, value by value. It
 *      is valid JSON text: a source that renders to bytes that are not UTF-8
 *      is an error (template_error), never a lossy string.
 *   5. `{% render 'footer' %}` / `{% include 'footer' %}` resolve to the
 *      saved template `footer` of the same workspace (its latest live
 *      version), taking the same top-level body field as the source being
 *      rendered (`html` inside `html`); `render 'footer.text'` names the
 *      field. A missing partial is a render error, not a check error (the
 *      partial may be saved later).
 *   6. Bodies and data are borrowed and never changed (reference counts
 *      aside: a normalized body shares the values of the body it came
 *      from). Rendering takes nothing from the caller that outlives the
 *      call, so any number of threads may render at once, each with its
 *      own store connection (store.h). The template engine's per-thread
 *      pool stays with the thread: a thread that renders rarely (an HTTP
 *      pool thread) gives it back with tpl_thread_cleanup().
 *
 * Errors follow core/err.h: 0 or a negative CAIRN_E* code, err filled, and
 * every OUT parameter NULL / empty on failure. */
#ifndef CONTENT_CONTENT_H
#define CONTENT_CONTENT_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define CONTENT_MAX_BUTTONS 5 /* Kakao buttons of one message */

/* For messages: every channel name, in table order. */
#define CONTENT_CHANNEL_LIST "email, sms, kakao, push, webhook or slack"

/* ---- channels ----------------------------------------------------------- */

enum content_field_kind {
	CONTENT_TEXT,	 /* a Liquid string */
	CONTENT_BUTTONS, /* an array of objects of Liquid strings, each with a name */
	CONTENT_MAP,	 /* an object of Liquid strings */
};

struct content_field {
	const char *key;
	enum content_field_kind kind;
};

/* One channel's body shape (read only; a row of the table). */
struct content_channel {
	const char *name;
	const char *label;		      /* for messages: "An email template" */
	const struct content_field fields[6]; /* ends at key NULL */
	const char *required[3];	      /* each a non-empty string; ends at NULL */
	const char *one_of[3];		      /* at least one a non-empty string; ends at NULL */
};

/* The channel named name ("email", "sms", …), or NULL (also for NULL). */
const struct content_channel *content_channel_find(const char *name);

/* The same, or NULL with err as a save reports it: CAIRN_EUNPROC,
 * unknown_channel (or missing_field for NULL), field "channel". */
const struct content_channel *content_channel_get(const char *name, struct cairn_err *err);

/* ---- checking a body (what a save does) --------------------------------- */

/* Checks body against the channel: no key outside the channel's fields,
 * each value of the right kind, every source parsed (lax), and — when
 * require is 1 — the required fields present (an editor's draft preview
 * passes 0). *normalized (OUT; may be NULL) is the body as a save stores
 * it: the channel's keys in table order, nulls dropped (a new object whose
 * values are shared with body). body NULL is missing_field "body". */
int content_check(const char *channel, const json_t *body, int require, json_t **normalized, struct cairn_err *err);

/* ---- rendering ----------------------------------------------------------- */

/* What the sources of a render read. Each member is a new array (of
 * strings, in order of first use, no repeats) owned by the holder:
 * content_report_release. */
struct content_report {
	json_t *used;		 /* every variable a source reads ("user.first_name") */
	json_t *missing;	 /* those the data does not provide */
	json_t *unknown_filters; /* filters the engine does not know (lax passes input through) */
};
void content_report_release(struct content_report *r);

/* How to render; a zeroed struct (or NULL) is the default. */
struct content_opts {
	int strict;	/* strict syntax, and a missing variable or unknown
			 * filter is an error (a preview's "mode":"strict") */
	int64_t now_ms; /* "now" of the date filter; 0 = clock_now_ms() */
};

/* Renders body (of channel) with data (borrowed; normally built by the
 * caller per CONVENTIONS §6, `user` from store_template_user) for the
 * workspace ws, whose saved templates serve as partials. Required fields
 * are not checked (a draft renders; a saved body was checked on save).
 * *rendered (OUT) is a new object of the body's shape (invariant 4).
 * report (may be NULL) receives what the sources read. Errors: CAIRN_EUNPROC
 * with the field's path — unknown_channel, unknown_field, invalid_field,
 * template_syntax, the engine's render slugs (a missing partial, strict
 * mode's undefined variable, a limit), template_error for output that is
 * not UTF-8. Lax, with the default clock. */
int content_render(struct store *st, int64_t ws, const char *channel, const json_t *body, json_t *data,
		   json_t **rendered, struct content_report *report, struct cairn_err *err);

/* content_render with options (opts may be NULL). */
int content_render_opts(struct store *st, int64_t ws, const char *channel, const json_t *body, json_t *data,
			const struct content_opts *opts, json_t **rendered, struct content_report *report,
			struct cairn_err *err);

/* Renders the saved template template_id of ws — version 0: its latest
 * version; otherwise that version — with data, for sending.
 *
 * An archived (deleted) template is never rendered, whatever the version:
 * archiving means "stop sending this"; a journey or a queued message that
 * still names it fails with CAIRN_ENOTFOUND, slug template_archived. (Its
 * versions stay readable through store_template_get, and the API's preview
 * of a given version still works: showing is not sending.)
 *
 * *rendered (OUT) as for content_render; *channel_out (OUT, may be NULL) is
 * the template's channel (malloc'd, caller frees). Callers that must also
 * record the version or locale they sent load the template with
 * store_template_get, check archived_at and call content_render on its body.
 * Errors: the store's (CAIRN_ENOTFOUND template_not_found, version_not_found,
 * template_archived), CAIRN_EIO storage_error for a stored template of an
 * unknown channel, and content_render's. */
int content_render_template(struct store *st, int64_t ws, const char *template_id, int64_t version, json_t *data,
			    json_t **rendered, char **channel_out, struct cairn_err *err);

#endif
