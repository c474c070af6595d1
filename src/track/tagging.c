/* tagging.c — auto-tagging rules as data (tagging.h; docs/tagging.md).
 *
 * Per rule kind, what moves a tag:
 *
 *   event      matching event applied ──► add / remove (cause_event_id)
 *   absence    trigger applied ──► tagging_due(rule, profile) = ts + within
 *              "unless" event applied ──► due row deleted (cancelled)
 *              tick at due_at ──► add / remove (due_at)
 *   condition  not-true --(eval true: apply/tick)--> true      add / remove
 *              true --(eval false: apply/tick)--> not-true     remove the
 *                                     "add" tags if remove_when_false
 *
 * Invariants:
 *   1. Effects happen in the step's transaction: store_tag_add/remove and
 *      engine_emit of Tag Added / Tag Removed, and only when the profile's
 *      tag really changes (has_tag is read first).
 *   2. Emitted events carry a dedup key naming the occurrence (direction,
 *      rule, profile, tag, and the cause: the event id or the due time), so
 *      a step retried after a rollback emits the same messageId.
 *   3. A condition rule's state (tagging_state) is its value at the last
 *      evaluation; tags change only on a transition, so a tag removed by
 *      hand is not put back while the condition stays true.
 *   4. A condition rule is not re-evaluated on the Tag Added / Removed
 *      events it emitted itself (no rule can feed itself forever).
 *
 * Saving a rule (and installing the defaults) registers, in the same
 * transaction, the event counters its conditions need (segment.h invariant
 * 5), so `where` filters and sums are read from per-user buckets.
 *
 * Parsed rules are cached per workspace for the engine thread; any save or
 * archive bumps `generation` and the cache is rebuilt on the next step.
 * Loading a workspace's rules installs its defaults the first time
 * (tagging_defaults), so old and new workspaces both get seed 001's table. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond/cond.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "engine/engine.h"
#include "segment/segment.h"
#include "store/store_seg_live.h"
#include "store/store_tagging.h"
#include "track/tagging.h"

#define RULE_NAME_MAX 200
#define WITHIN_MAX_MS (366LL * 24 * 3600 * 1000)
#define KEY_MAX	      1024

enum rule_kind { RK_EVENT, RK_ABSENCE, RK_COND };

struct rule {
	char *id, *name;
	enum rule_kind kind;
	int enabled;
	char *event;	    /* when.event */
	struct cond *where; /* when.where, or NULL */
	struct cond *cond;  /* when.condition */
	struct cond *if_c;  /* if, or NULL */
	char *unless_event; /* absence */
	struct cond *unless_where;
	int64_t within_ms;
	char **add, **remove;
	size_t nadd, nremove;
	int remove_when_false;
	int uses_time;
};

struct tag_ws {
	int64_t ws;
	struct rule *rules;
	size_t n;
	struct tag_ws *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tag_ws *cache;
static uint64_t cache_gen;
static _Atomic uint64_t generation = 1;

void trk_tagging_invalidate(void)
{
	atomic_fetch_add(&generation, 1);
}

/* ---- the default rules (seed 001) ------------------------------------------ */

static const char *const default_rules[][2] = {
	{"disengaged",
	 "{\"name\":\"3 unopened emails in a row → disengaged (메일 3회 연속 미오픈 → 관심 저하)\","
	 "\"when\":{\"condition\":{\"computed\":\"consecutive_unopened_emails\",\"op\":\"gte\",\"value\":3}},"
	 "\"add\":[\"disengaged\"],\"remove_when_false\":true}"},
	{"interest-topic",
	 "{\"name\":\"Content click → interest:<topic> (특정 콘텐츠 클릭 → 관심 주제)\","
	 "\"when\":{\"event\":\"Email Link Clicked\",\"where\":{\"property\":\"link_kind\",\"op\":\"eq\","
	 "\"value\":\"content\"}},\"add\":[\"interest:{{ event.properties.link_topic }}\"]}"},
	{"hesitant",
	 "{\"name\":\"Purchase click, no order in 3 days → hesitant (구매 링크 클릭 후 미전환 → 전환 유보)\","
	 "\"when\":{\"event\":\"Email Link Clicked\",\"where\":{\"property\":\"link_kind\",\"op\":\"eq\","
	 "\"value\":\"purchase\"}},\"unless\":{\"event\":\"Order Completed\",\"within\":{\"days\":3}},"
	 "\"add\":[\"hesitant\"]}"},
	{"review-target",
	 "{\"name\":\"Review click → review-target (후기 콘텐츠 클릭 → 후기 활용 대상)\","
	 "\"when\":{\"event\":\"Email Link Clicked\",\"where\":{\"property\":\"link_kind\",\"op\":\"eq\","
	 "\"value\":\"review\"}},\"add\":[\"review-target\"]}"},
	{"order-clears-hesitant", "{\"name\":\"Order Completed removes hesitant\","
				  "\"when\":{\"event\":\"Order Completed\"},\"remove\":[\"hesitant\"]}"},
};

/* ---- validation and compilation ---------------------------------------------- */

static int unproc(struct cairn_err *err, const char *field, const char *msg)
{
	return cairn_err_set(err, CAIRN_EUNPROC, "invalid_rule", field, "%s", msg);
}

static int only_keys(const json_t *obj, const char *prefix, const char *const *allowed, struct cairn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, k);
		if (!ok) {
			char path[128];
			snprintf(path, sizeof path, "%s%s", prefix, k);
			return cairn_err_set(err, CAIRN_EUNPROC, "unknown_field", path,
					     "Unknown field '%s' in a tagging rule.", path);
		}
	}
	return 0;
}

struct where_check {
	const char *path;
	struct cairn_err *err;
};

static int where_leaf(void *arg, const struct cond_dep *d)
{
	struct where_check *w = arg;
	if (d->kind != COND_PROPERTY || d->uses_now)
		return unproc(w->err, w->path,
			      "An event filter may only test the event's properties ({\"property\":…}), without "
			      "within_last / not_within_last.");
	return 0;
}

/* A `where` filter: property leaves only. NULL with err. */
static struct cond *parse_where(const json_t *j, const char *path, struct cairn_err *err)
{
	struct cond *c = cond_parse_at(j, path, err);
	if (!c)
		return NULL;
	struct where_check w = {path, err};
	if (cond_visit(c, where_leaf, &w) != 0) {
		cond_free(c);
		return NULL;
	}
	return c;
}

static int user_leaf(void *arg, const struct cond_dep *d)
{
	struct where_check *w = arg;
	if (d->kind == COND_PROPERTY && !d->in_where)
		return unproc(w->err, w->path,
			      "A condition rule describes the user, not one event: \"property\" is only allowed inside "
			      "an event's \"where\".");
	return 0;
}

static int event_name_ok(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= COND_MAX_NAME;
}

/* {"minutes"|"hours"|"days"|"weeks": n, …} → ms; <0 with err. */
static int parse_duration(const json_t *j, const char *path, int64_t *ms, struct cairn_err *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"minutes", 60e3}, {"hours", 3600e3}, {"days", 86400e3}, {"weeks", 7 * 86400e3}};
	const char *msg =
		"within must be a duration such as {\"days\":3} (minutes, hours, days, weeks; at most 366 days).";
	if (!json_is_object(j) || json_object_size(j) == 0)
		return unproc(err, path, msg);
	double total = 0;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)j, k, v) {
		size_t i;
		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			if (!strcmp(units[i].unit, k))
				break;
		}
		if (i == sizeof units / sizeof units[0] || !json_is_number(v) || json_number_value(v) < 0)
			return unproc(err, path, msg);
		total += json_number_value(v) * units[i].ms;
	}
	if (total < 1 || total > (double)WITHIN_MAX_MS)
		return unproc(err, path, msg);
	*ms = (int64_t)total;
	return 0;
}

static json_t *duration_json(int64_t ms)
{
	if (ms % 86400000 == 0)
		return json_pack("{s:I}", "days", (json_int_t)(ms / 86400000));
	if (ms % 3600000 == 0)
		return json_pack("{s:I}", "hours", (json_int_t)(ms / 3600000));
	if (ms % 60000 == 0)
		return json_pack("{s:I}", "minutes", (json_int_t)(ms / 60000));
	return json_pack("{s:f}", "minutes", (double)ms / 60000.0);
}

/* Checks the {{ event.properties.x }} parts of a tag; 1 when it has any,
 * 0 when none, <0 when malformed. */
static int tag_template(const char *t)
{
	int any = 0;
	for (const char *p = strstr(t, "{{"); p; p = strstr(p, "{{")) {
		const char *end = strstr(p + 2, "}}");
		if (!end)
			return -1;
		const char *a = p + 2;
		while (a < end && *a == ' ')
			a++;
		const char *b = end;
		while (b > a && b[-1] == ' ')
			b--;
		static const char pre[] = "event.properties.";
		size_t n = (size_t)(b - a);
		if (n <= sizeof pre - 1 || strncmp(a, pre, sizeof pre - 1) != 0)
			return -1;
		for (const char *q = a + sizeof pre - 1; q < b; q++) {
			char ch = *q;
			int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				 ch == '_' || ch == '-' || ch == '.';
			if (!ok)
				return -1;
		}
		any = 1;
		p = end + 2;
	}
	return strstr(t, "}}") && !any ? -1 : any;
}

static int parse_tags(const json_t *j, const char *key, int templates_ok, char ***out, size_t *n, struct cairn_err *err)
{
	*out = NULL;
	*n = 0;
	if (!j)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "%s", key);
	if (!json_is_array(j) || json_array_size(j) > TRK_TAGGING_TAGS_MAX)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_rule", path,
				     "%s must be a list of at most %d tags, such as [\"interest:marketing\"].", key,
				     TRK_TAGGING_TAGS_MAX);
	*out = xcalloc(json_array_size(j) + 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach (j, i, v) {
		snprintf(path, sizeof path, "%s[%zu]", key, i);
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > TRK_TAGGING_TAG_MAX)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_rule", path,
					     "A tag is a string of 1 to %d bytes.", TRK_TAGGING_TAG_MAX);
		int t = tag_template(json_string_value(v));
		if (t < 0)
			return unproc(err, path,
				      "A tag may only interpolate {{ event.properties.NAME }} (NAME: letters, digits, "
				      "_ - .).");
		if (t > 0 && !templates_ok)
			return unproc(
				err, path,
				"Only event rules without \"unless\" can use {{ event.properties.… }} in a tag: the "
				"others fire without an event at hand.");
		(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rule_release(struct rule *r)
{
	free(r->id);
	free(r->name);
	free(r->event);
	cond_free(r->where);
	cond_free(r->cond);
	cond_free(r->if_c);
	free(r->unless_event);
	cond_free(r->unless_where);
	strv_free(r->add, r->nadd);
	strv_free(r->remove, r->nremove);
	memset(r, 0, sizeof *r);
}

/* Validates def and compiles it into out (released by the caller on
 * success; on failure nothing is left to release). */
static int rule_compile(const json_t *def, const char *default_name, struct rule *out, struct cairn_err *err)
{
	static const char *const top[] = {"id",	 "name",   "enabled",		"when",	      "if",	    "unless",
					  "add", "remove", "remove_when_false", "created_at", "updated_at", NULL};
	static const char *const when_keys[] = {"event", "where", "condition", NULL};
	static const char *const unless_keys[] = {"event", "where", "within", NULL};
	memset(out, 0, sizeof *out);
	int rc = 0;
	if (!json_is_object(def))
		return unproc(err, "", "A tagging rule is a JSON object.");
	if (only_keys(def, "", top, err) < 0)
		return CAIRN_EUNPROC;
	json_t *name = json_object_get(def, "name");
	if (name &&
	    (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 4 * RULE_NAME_MAX))
		return unproc(err, "name", "name must be a string of 1 to 200 characters.");
	json_t *en = json_object_get(def, "enabled");
	if (en && !json_is_boolean(en))
		return unproc(err, "enabled", "enabled must be true or false.");
	out->enabled = en ? json_is_true(en) : 1;
	out->name = xstrdup(name ? json_string_value(name) : default_name ? default_name : "");
	json_t *when = json_object_get(def, "when");
	json_t *unless = json_object_get(def, "unless");
	json_t *rwf = json_object_get(def, "remove_when_false");
	json_t *ifj = json_object_get(def, "if");
	if (!json_is_object(when)) {
		rc = unproc(err, "when",
			    "when is required: {\"event\":\"Email Link Clicked\",\"where\":…} or {\"condition\":…}.");
		goto fail;
	}
	if (only_keys(when, "when.", when_keys, err) < 0) {
		rc = CAIRN_EUNPROC;
		goto fail;
	}
	json_t *wev = json_object_get(when, "event"), *wcond = json_object_get(when, "condition");
	if (!!wev == !!wcond) {
		rc = unproc(err, "when", "when needs exactly one of \"event\" and \"condition\".");
		goto fail;
	}
	if (wcond) {
		out->kind = RK_COND;
		if (json_object_get(when, "where")) {
			rc = unproc(err, "when.where", "where filters an event; a condition rule has none.");
			goto fail;
		}
		if (unless || ifj) {
			rc = unproc(err, unless ? "unless" : "if",
				    "A condition rule has no \"unless\" or \"if\": put everything in when.condition.");
			goto fail;
		}
		out->cond = cond_parse_at(wcond, "when.condition", err);
		if (!out->cond) {
			rc = CAIRN_EUNPROC;
			goto fail;
		}
		struct where_check w = {"when.condition", err};
		if (cond_visit(out->cond, user_leaf, &w) != 0) {
			rc = CAIRN_EUNPROC;
			goto fail;
		}
		out->uses_time = cond_uses_time(out->cond);
		if (rwf && !json_is_boolean(rwf)) {
			rc = unproc(err, "remove_when_false", "remove_when_false must be true or false.");
			goto fail;
		}
		out->remove_when_false = rwf && json_is_true(rwf);
	} else {
		out->kind = unless ? RK_ABSENCE : RK_EVENT;
		if (rwf) {
			rc = unproc(err, "remove_when_false", "remove_when_false belongs to condition rules only.");
			goto fail;
		}
		if (!event_name_ok(wev)) {
			rc = unproc(err, "when.event",
				    "when.event must be an event name such as \"Email Link Clicked\".");
			goto fail;
		}
		out->event = xstrdup(json_string_value(wev));
		json_t *wh = json_object_get(when, "where");
		if (wh && !(out->where = parse_where(wh, "when.where", err))) {
			rc = CAIRN_EUNPROC;
			goto fail;
		}
		if (ifj && !(out->if_c = cond_parse_at(ifj, "if", err))) {
			rc = CAIRN_EUNPROC;
			goto fail;
		}
		if (unless) {
			if (!json_is_object(unless) || only_keys(unless, "unless.", unless_keys, err) < 0) {
				rc = unproc(err, "unless",
					    "unless must be {\"event\":\"Order "
					    "Completed\",\"where\":…,\"within\":{\"days\":3}}.");
				goto fail;
			}
			json_t *uev = json_object_get(unless, "event");
			if (!event_name_ok(uev)) {
				rc = unproc(err, "unless.event",
					    "unless.event must be an event name such as \"Order Completed\".");
				goto fail;
			}
			out->unless_event = xstrdup(json_string_value(uev));
			json_t *uw = json_object_get(unless, "where");
			if (uw && !(out->unless_where = parse_where(uw, "unless.where", err))) {
				rc = CAIRN_EUNPROC;
				goto fail;
			}
			rc = parse_duration(json_object_get(unless, "within"), "unless.within", &out->within_ms, err);
			if (rc < 0)
				goto fail;
		}
	}
	int templates_ok = out->kind == RK_EVENT;
	rc = parse_tags(json_object_get(def, "add"), "add", templates_ok, &out->add, &out->nadd, err);
	if (rc == 0)
		rc = parse_tags(json_object_get(def, "remove"), "remove", templates_ok, &out->remove, &out->nremove,
				err);
	if (rc < 0)
		goto fail;
	if (out->nadd + out->nremove == 0) {
		rc = unproc(err, "add", "A rule needs at least one tag in \"add\" or \"remove\".");
		goto fail;
	}
	return 0;
fail:
	rule_release(out);
	return rc < 0 ? rc : CAIRN_EUNPROC;
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *rule_to_json(const struct rule *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "enabled", json_boolean(r->enabled));
	json_t *when = json_object();
	if (r->kind == RK_COND) {
		json_object_set_new(when, "condition", cond_to_json(r->cond));
	} else {
		json_object_set_new(when, "event", json_string(r->event));
		if (r->where)
			json_object_set_new(when, "where", cond_to_json(r->where));
	}
	json_object_set_new(o, "when", when);
	if (r->if_c)
		json_object_set_new(o, "if", cond_to_json(r->if_c));
	if (r->kind == RK_ABSENCE) {
		json_t *u = json_pack("{s:s}", "event", r->unless_event);
		if (r->unless_where)
			json_object_set_new(u, "where", cond_to_json(r->unless_where));
		json_object_set_new(u, "within", duration_json(r->within_ms));
		json_object_set_new(o, "unless", u);
	}
	json_object_set_new(o, "add", strv_json(r->add, r->nadd));
	json_object_set_new(o, "remove", strv_json(r->remove, r->nremove));
	if (r->kind == RK_COND)
		json_object_set_new(o, "remove_when_false", json_boolean(r->remove_when_false));
	return o;
}

json_t *trk_tagging_normalize(const json_t *def, const char *default_name, struct cairn_err *err)
{
	struct rule r;
	if (rule_compile(def, default_name, &r, err) < 0)
		return NULL;
	json_t *o = rule_to_json(&r);
	rule_release(&r);
	return o;
}

/* ---- definitions (the API) ------------------------------------------------------ */

/* Registers the event counters a rule's user conditions need (when.condition
 * and if; a `where` on the current event needs none), inside the caller's
 * transaction (segment.h invariant 5). */
static int rule_counters_register(struct store *st, int64_t ws, const json_t *normalized, struct cairn_err *err)
{
	struct rule r;
	if (rule_compile(normalized, NULL, &r, err) < 0)
		return err->code ? err->code : CAIRN_EUNPROC;
	int rc = r.cond ? seg_counters_register(st, ws, r.cond, err) : 0;
	if (rc == 0 && r.if_c)
		rc = seg_counters_register(st, ws, r.if_c, err);
	rule_release(&r);
	return rc;
}

int trk_tagging_defaults_install(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	int rc = store_tagging_defaults_claim(st, ws, now, err);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < sizeof default_rules / sizeof default_rules[0]; i++) {
		json_error_t je;
		json_t *j = json_loads(default_rules[i][1], 0, &je);
		json_t *norm = j ? trk_tagging_normalize(j, default_rules[i][0], err) : NULL;
		json_decref(j);
		if (!norm) /* a broken built-in rule is a bug */
			return cairn_err_set(err, CAIRN_EIO, "internal", "", "default tagging rule '%s' is invalid",
					     default_rules[i][0]);
		char *text = json_dumps(norm, JSON_COMPACT);
		struct cairn_err e = CAIRN_ERR_INIT;
		rc = store_tagging_rule_insert(st, ws, default_rules[i][0], text, now, &e);
		free(text);
		if (rc == 0)
			rc = rule_counters_register(st, ws, norm, &e);
		json_decref(norm);
		if (rc == CAIRN_ECONFLICT)
			continue; /* the workspace made its own first */
		if (rc < 0) {
			*err = e;
			return rc;
		}
	}
	trk_tagging_invalidate();
	return 1;
}

int trk_tagging_defaults_ensure(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	rc = trk_tagging_defaults_install(st, ws, now, err);
	if (rc >= 0 && store_commit(st, err) < 0)
		rc = CAIRN_EIO;
	if (rc < 0)
		store_rollback(st);
	trk_tagging_invalidate();
	seg_counters_invalidate();
	return rc < 0 ? rc : 0;
}

int trk_tagging_save(struct store *st, int64_t ws, const char *id, const json_t *normalized, int create, int64_t now,
		     struct cairn_err *err)
{
	char *text = json_dumps(normalized, JSON_COMPACT);
	int rc = store_begin(st, err);
	if (rc == 0)
		rc = trk_tagging_defaults_install(st, ws, now, err) < 0 ? CAIRN_EIO : 0;
	if (rc == 0)
		rc = create ? store_tagging_rule_insert(st, ws, id, text, now, err)
			    : store_tagging_rule_update(st, ws, id, text, now, err);
	free(text);
	if (rc == 0)
		rc = rule_counters_register(st, ws, normalized, err);
	if (rc == 0) {
		trk_tagging_invalidate(); /* under the write lock: the next step sees it */
		rc = store_commit(st, err);
	}
	if (rc < 0)
		store_rollback(st);
	trk_tagging_invalidate();
	seg_counters_invalidate(); /* after the commit (or rollback) of new counters */
	return rc;
}

int trk_tagging_archive(struct store *st, int64_t ws, const char *id, int64_t now, struct cairn_err *err)
{
	int rc = store_begin(st, err);
	if (rc < 0)
		return rc;
	rc = trk_tagging_defaults_install(st, ws, now, err) < 0 ? CAIRN_EIO : 0;
	if (rc == 0)
		rc = store_tagging_rule_archive(st, ws, id, now, err);
	if (rc == 0) {
		trk_tagging_invalidate();
		rc = store_commit(st, err);
	}
	if (rc < 0)
		store_rollback(st);
	trk_tagging_invalidate();
	return rc;
}

/* ---- the cache ------------------------------------------------------------------ */

static void ws_free(struct tag_ws *w)
{
	for (size_t i = 0; i < w->n; i++)
		rule_release(&w->rules[i]);
	free(w->rules);
	free(w);
}

/* The workspace's rules (cache_lock held; inside a transaction). NULL with err. */
static struct tag_ws *ws_get(struct store *st, int64_t ws, struct cairn_err *err)
{
	uint64_t gen = atomic_load(&generation);
	if (gen != cache_gen) {
		while (cache) {
			struct tag_ws *next = cache->next;
			ws_free(cache);
			cache = next;
		}
		cache_gen = gen;
	}
	for (struct tag_ws *w = cache; w; w = w->next) {
		if (w->ws == ws)
			return w;
	}
	/* installing bumps the generation: if this step rolls back, the next
	 * one reloads and installs again */
	if (trk_tagging_defaults_install(st, ws, clock_now_ms(), err) < 0)
		return NULL;
	struct store_tagging_page p;
	if (store_tagging_rules_list(st, ws, 0, NULL, &p, err) < 0)
		return NULL;
	struct tag_ws *w = xcalloc(1, sizeof *w);
	w->ws = ws;
	w->rules = xcalloc(p.n ? p.n : 1, sizeof *w->rules);
	for (size_t i = 0; i < p.n; i++) {
		json_error_t je;
		json_t *j = json_loads(p.items[i].definition, 0, &je);
		struct cairn_err e = CAIRN_ERR_INIT;
		struct rule *r = &w->rules[w->n];
		if (j && rule_compile(j, p.items[i].id, r, &e) == 0) {
			r->id = xstrdup(p.items[i].id);
			if (r->enabled)
				w->n++;
			else
				rule_release(r);
		}
		json_decref(j);
	}
	store_tagging_page_release(&p);
	w->next = cache;
	cache = w;
	return w;
}

static const struct rule *rule_find(const struct tag_ws *w, const char *id)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!strcmp(w->rules[i].id, id))
			return &w->rules[i];
	}
	return NULL;
}

/* ---- effects ---------------------------------------------------------------------- */

/* One engine step for one profile: what the rules need, opened lazily. */
struct step {
	struct store *st;
	int64_t ws, pid, now;
	const struct store_event *ev; /* NULL in a tick */
	json_t *msg;		      /* the event's message, parsed once */
	int parsed;
	struct seg_ctx sc;
	int ctx_open;
};

static json_t *step_msg(struct step *x)
{
	if (!x->parsed && x->ev && x->ev->body) {
		json_error_t je;
		x->msg = json_loadb(x->ev->body, x->ev->body_len, 0, &je);
		x->parsed = 1;
	}
	return x->msg;
}

static json_t *step_props(struct step *x)
{
	json_t *m = step_msg(x);
	json_t *p = m ? json_object_get(m, "properties") : NULL;
	return json_is_object(p) ? p : NULL;
}

static int in_segment(void *arg, const char *segment_id)
{
	struct seg_ctx *sc = arg;
	struct cairn_err e = CAIRN_ERR_INIT;
	return store_seg_member_get(sc->st, sc->ws, segment_id, sc->profile_id, NULL, &e);
}

/* Evaluates c for the step's profile: 1, 0, or <0 (CAIRN_ENOTFOUND when
 * the profile is gone). */
static int step_eval(struct step *x, const struct cond *c, struct cairn_err *err)
{
	if (!x->ctx_open) {
		int rc = seg_ctx_init(&x->sc, x->st, x->ws, x->pid, step_msg(x), err);
		if (rc < 0)
			return rc;
		x->sc.cond.now_ms = x->now;
		x->sc.cond.in_segment = in_segment;
		x->ctx_open = 1;
	}
	return cond_eval(c, &x->sc.cond, err);
}

static void step_release(struct step *x)
{
	if (x->ctx_open)
		seg_ctx_release(&x->sc);
	json_decref(x->msg);
}

/* A property by dotted path as tag text into b; 0, or -1 when missing or
 * not a string / number. */
static int prop_text(const json_t *props, const char *path, size_t n, struct buf *b)
{
	const json_t *v = props;
	while (v && n) {
		const char *dot = memchr(path, '.', n);
		size_t len = dot ? (size_t)(dot - path) : n;
		char key[COND_MAX_NAME + 1];
		if (len == 0 || len > COND_MAX_NAME)
			return -1;
		memcpy(key, path, len);
		key[len] = '\0';
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += dot ? len + 1 : len;
		n -= dot ? len + 1 : len;
	}
	if (json_is_string(v) && json_string_length(v) > 0)
		return buf_add(b, json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		return buf_addf(b, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return buf_addf(b, "%g", json_real_value(v));
	return -1;
}

/* The tag t with its {{ event.properties.x }} parts filled from props
 * (malloc'd), or NULL when a value is missing (the tag is skipped). */
static char *tag_render(const char *t, const json_t *props)
{
	if (!strstr(t, "{{"))
		return xstrdup(t);
	struct buf b;
	buf_init(&b, TRK_TAGGING_TAG_MAX + 1);
	const char *p = t;
	int ok = 1;
	for (const char *open = strstr(p, "{{"); ok && open; open = strstr(p, "{{")) {
		const char *end = strstr(open + 2, "}}");
		const char *a = open + 2;
		while (*a == ' ')
			a++;
		const char *z = end;
		while (z > a && z[-1] == ' ')
			z--;
		a += strlen("event.properties.");
		ok = buf_add(&b, p, (size_t)(open - p)) == 0 && prop_text(props, a, (size_t)(z - a), &b) == 0;
		p = end + 2;
	}
	if (ok)
		ok = buf_adds(&b, p) == 0;
	char *out = ok && b.len > 0 && b.len <= TRK_TAGGING_TAG_MAX ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
	return out;
}

/* Adds (adding = 1) or removes the tags of list for the step's profile,
 * emitting Tag Added / Tag Removed for each real change. why holds the
 * cause properties (borrowed); cause names the occurrence for dedup keys. */
static int change_tags(struct step *x, const struct rule *r, char **list, size_t n, int adding, const json_t *why,
		       const char *cause, int64_t ts, struct cairn_err *err)
{
	json_t *props = step_props(x);
	for (size_t i = 0; i < n; i++) {
		char *tag = tag_render(list[i], props);
		if (!tag)
			continue;
		int has = store_tagging_has_tag(x->st, x->ws, x->pid, tag, err);
		int rc = has < 0 ? has : 0;
		if (rc == 0 && adding == !has) {
			rc = adding ? store_tag_add(x->st, x->ws, x->pid, tag, ts, err)
				    : store_tag_remove(x->st, x->ws, x->pid, tag, err);
			if (rc == 0) {
				char key[KEY_MAX];
				snprintf(key, sizeof key, "tag-%s:%s:%lld:%s:%s", adding ? "add" : "remove", r->id,
					 (long long)x->pid, tag, cause);
				json_t *ep =
					json_pack("{s:s,s:s,s:s}", "tag", tag, "rule_id", r->id, "rule_name", r->name);
				json_object_update(ep, (json_t *)why);
				rc = engine_emit(x->st, x->ws, x->pid, adding ? "Tag Added" : "Tag Removed", ep, key,
						 ts, err);
			}
		}
		free(tag);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int fire(struct step *x, const struct rule *r, const json_t *why, const char *cause, int64_t ts,
		struct cairn_err *err)
{
	int rc = change_tags(x, r, r->add, r->nadd, 1, why, cause, ts, err);
	if (rc == 0)
		rc = change_tags(x, r, r->remove, r->nremove, 0, why, cause, ts, err);
	return rc;
}

/* Re-evaluates a condition rule for the step's profile. */
static int cond_rule_eval(struct step *x, const struct rule *r, const json_t *why, const char *cause,
			  struct cairn_err *err)
{
	int yes = step_eval(x, r->cond, err);
	if (yes < 0)
		return yes;
	int was = store_tagging_state_get(x->st, x->ws, r->id, x->pid, err);
	if (was < 0)
		return was;
	int rc = 0;
	if (yes && !was) {
		rc = store_tagging_state_set(x->st, x->ws, r->id, x->pid, 1, err);
		if (rc == 0)
			rc = fire(x, r, why, cause, x->now, err);
	} else if (!yes && was) {
		rc = store_tagging_state_set(x->st, x->ws, r->id, x->pid, 0, err);
		if (rc == 0 && r->remove_when_false)
			rc = change_tags(x, r, r->add, r->nadd, 0, why, cause, x->now, err);
	}
	if (rc < 0 || !r->uses_time)
		return rc;
	int64_t next = INT64_MAX;
	rc = cond_next_change(r->cond, &x->sc.cond, &next, err);
	if (rc < 0)
		return rc;
	if (next == INT64_MAX)
		return store_tagging_due_delete(x->st, x->ws, r->id, x->pid, err);
	if (next <= x->now)
		next = x->now + 1;
	return store_tagging_due_set(x->st, x->ws, r->id, x->pid, next, NULL, 0, err);
}

static int where_ok(struct step *x, const struct cond *where)
{
	return !where || cond_eval_where(where, step_props(x)) == 1;
}

/* Whether ev is a Tag Added / Removed that rule r emitted (invariant 4). */
static int own_echo(struct step *x, const struct rule *r)
{
	const struct store_event *ev = x->ev;
	if (!ev->name || (strcmp(ev->name, "Tag Added") && strcmp(ev->name, "Tag Removed")))
		return 0;
	const char *rid = jsonx_str(step_props(x), "rule_id");
	return rid && !strcmp(rid, r->id);
}

int trk_tagging_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	pthread_mutex_lock(&cache_lock);
	struct tag_ws *w = ws_get(st, ev->workspace_id, err);
	int rc = w ? 0 : CAIRN_EIO;
	struct step x = {.st = st, .ws = ev->workspace_id, .pid = profile_id, .now = clock_now_ms(), .ev = ev};
	int is_track = ev->type && !strcmp(ev->type, "track") && ev->name;
	char cause[32];
	snprintf(cause, sizeof cause, "e%lld", (long long)ev->id);
	json_t *why = json_pack("{s:s}", "cause_event_id", ev->message_id ? ev->message_id : "");
	for (size_t i = 0; rc == 0 && w && i < w->n; i++) {
		const struct rule *r = &w->rules[i];
		if (r->kind == RK_COND) {
			if (!(is_track && own_echo(&x, r)) && seg_cond_depends_on(r->cond, ev))
				rc = cond_rule_eval(&x, r, why, cause, err);
			continue;
		}
		if (!is_track)
			continue;
		if (r->kind == RK_ABSENCE && !strcmp(ev->name, r->unless_event) && where_ok(&x, r->unless_where)) {
			rc = store_tagging_due_delete(st, x.ws, r->id, profile_id, err);
			if (rc < 0)
				break;
		}
		if (strcmp(ev->name, r->event) || !where_ok(&x, r->where))
			continue;
		if (r->if_c) {
			int yes = step_eval(&x, r->if_c, err);
			if (yes <= 0) {
				rc = yes;
				continue;
			}
		}
		if (r->kind == RK_EVENT)
			rc = fire(&x, r, why, cause, x.now, err);
		else
			rc = store_tagging_due_set(st, x.ws, r->id, profile_id, ev->ts + r->within_ms, ev->message_id,
						   1, err);
	}
	json_decref(why);
	step_release(&x);
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

/* One due row: fire an absence rule, or re-evaluate a condition rule. */
static int tick_one(struct store *st, const struct store_tagging_due *d, int64_t now, struct cairn_err *err)
{
	struct tag_ws *w = ws_get(st, d->ws, err);
	if (!w)
		return CAIRN_EIO;
	int rc = store_tagging_due_delete(st, d->ws, d->rule, d->profile_id, err);
	const struct rule *r = rc == 0 ? rule_find(w, d->rule) : NULL;
	if (!r || r->kind == RK_EVENT) /* archived, disabled, or no longer timed */
		return rc;
	struct step x = {.st = st, .ws = d->ws, .pid = d->profile_id, .now = now};
	struct cairn_err e = CAIRN_ERR_INIT;
	char cause[32];
	snprintf(cause, sizeof cause, "t%lld", (long long)d->due_at);
	json_t *why = json_pack("{s:o}", "due_at", jsonx_time(d->due_at));
	if (d->cause && r->kind == RK_ABSENCE)
		json_object_set_new(why, "cause_event_id", json_string(d->cause));
	if (r->kind == RK_COND) {
		rc = cond_rule_eval(&x, r, why, cause, &e);
	} else {
		rc = r->if_c ? step_eval(&x, r->if_c, &e) : 1;
		if (rc > 0)
			rc = fire(&x, r, why, cause, d->due_at, &e);
	}
	json_decref(why);
	step_release(&x);
	if (rc == CAIRN_ENOTFOUND) /* merged away or erased */
		return 0;
	if (rc < 0)
		*err = e;
	return rc < 0 ? rc : 0;
}

int trk_tagging_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	struct store_tagging_due *due;
	size_t n;
	if (store_tagging_due_list(st, now_ms, TRK_TAGGING_TICK_MAX, &due, &n, err) < 0)
		return CAIRN_EIO;
	pthread_mutex_lock(&cache_lock);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = tick_one(st, &due[i], now_ms, err);
	pthread_mutex_unlock(&cache_lock);
	store_tagging_due_free(due, n);
	return rc;
}
