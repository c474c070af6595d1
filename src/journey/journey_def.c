/* journey_def.c — journey definitions: JSON → struct jny_def (parser and
 * validator in one pass), and back to the normalized JSON form.
 *
 * The parser walks the JSON once, keeping the path of the current value in
 * a struct buf ("nodes[3].branches[0].next"), and stops at the first fault:
 * the error names that path and, inside a node, the node's id ("Node
 * \"w2\": …"), and says what to write instead. Each trigger type and each
 * node type is one row of a table below (its name, the keys it allows, its
 * parse function); the same tables give jny_*_type_name and the "allowed:"
 * lists of the messages.
 *
 * Node references (`next`, `else`, `timeout_next`, …) are resolved in the
 * same pass: before the nodes are parsed, the string ids of every node are
 * put in a sorted index, so a node may name one that comes after it.
 *
 * Conditions are parsed by cond.h with the full JSON path as prefix; their
 * errors are re-issued under this module's slug. Event filters (`where`) are
 * parsed inside a stand-in event condition so that cond's own rules for a
 * `where` (property leaves only, no clock-relative operators) apply with
 * cond's own messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/slug.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "journey/journey.h"

#define SLUG	     "invalid_journey"
#define MAX_NAME     200	 /* bytes of a journey name */
#define MAX_REF_ID   64		 /* template and segment ids (their resources' limit) */
#define MAX_URL	     2048	 /* bytes of a webhook URL */
#define MAX_TEXT     (64 * 1024) /* bytes of a webhook body or Slack text */
#define MAX_LIST     100	 /* tags in tags_add / tags_remove, traits in set, scores */
#define MAX_WEIGHT   10000	 /* a variant's weight */
#define MAX_FALLBACK 5		 /* channels in a fallback chain */
#define MAX_SCORE    100	 /* |delta| of a score change */
#define MAX_EXIT_ON  JNY_MAX_EXIT_ON

static const char *const channels[] = {"email", "sms", "kakao", "push", "webhook", "slack", NULL};
#define CHANNEL_LIST "email, sms, kakao, push, webhook or slack"
static const char *const lifecycles[] = {"subscriber",	"lead",	    "mql",     "sql",
					 "opportunity", "customer", "dormant", NULL};
/* Weekday names, bit i = day i (0 = Sunday); written out Monday first. */
static const char *const weekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct id_entry {
	const char *id;
	int index;
};

struct parser {
	struct buf path; /* JSON path of the value being parsed */
	struct cairn_err *err;
	const char *node;     /* id of the node being parsed (already valid), or NULL */
	struct id_entry *ids; /* string ids of every node, sorted by (id, index) */
	size_t nids;
};

/* ---- paths and errors --------------------------------------------------- */

static size_t push_key(struct parser *p, const char *key)
{
	size_t mark = p->path.len;
	if (p->path.len)
		buf_addch(&p->path, '.');
	buf_adds(&p->path, key);
	return mark;
}

static size_t push_index(struct parser *p, size_t i)
{
	size_t mark = p->path.len;
	buf_addf(&p->path, "[%zu]", i);
	return mark;
}

static void pop(struct parser *p, size_t mark)
{
	buf_truncate(&p->path, mark);
}

/* The length of s cut to at most max bytes without splitting a UTF-8
 * sequence, so messages and paths quoting user text stay valid UTF-8. */
static int clip(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return (int)n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* printf arguments quoting user text in a message: "%.*s", QUOTE(s). */
#define QUOTE(s) clip((s), 64), (s)

/* Records the error at field with the node prefix. Returns -1. */
static int vfail_at(struct parser *p, const char *field, const char *fmt, va_list ap)
{
	struct buf msg, f;
	buf_init(&msg, 16384);
	buf_init(&f, 4096);
	if (p->node)
		buf_addf(&msg, "Node \"%s\": ", p->node);
	buf_vaddf(&msg, fmt, ap);
	buf_adds(&f, field);
	buf_truncate(&msg, (size_t)clip(msg.ptr, sizeof p->err->message - 1));
	buf_truncate(&f, (size_t)clip(f.ptr, sizeof p->err->field - 1));
	cairn_err_set(p->err, CAIRN_EUNPROC, SLUG, f.ptr, "%s", msg.ptr);
	buf_release(&msg);
	buf_release(&f);
	return -1;
}

/* Records the error for the current path, or for path.key when key is set.
 * Always returns -1 so callers can `return fail(…)`. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, const char *key, const char *fmt, ...)
{
	size_t mark = key ? push_key(p, key) : p->path.len;
	va_list ap;
	va_start(ap, fmt);
	vfail_at(p, p->path.ptr, fmt, ap);
	va_end(ap);
	pop(p, mark);
	return -1;
}

/* The same at path[i] of the current path. */
__attribute__((format(printf, 3, 4))) static int fail_index(struct parser *p, size_t i, const char *fmt, ...)
{
	size_t mark = push_index(p, i);
	va_list ap;
	va_start(ap, fmt);
	vfail_at(p, p->path.ptr, fmt, ap);
	va_end(ap);
	pop(p, mark);
	return -1;
}

/* The same at an explicit field. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *p, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(p, field, fmt, ap);
	va_end(ap);
	return -1;
}

/* Re-issues a condition error (its field already holds the full path). */
static int fail_cond(struct parser *p, const struct cairn_err *ce)
{
	return fail_at(p, ce->field, "%s", ce->message);
}

/* ---- small readers ------------------------------------------------------ */

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		if (!strcmp(s, list[i]))
			return 1;
	}
	return 0;
}

/* Unknown keys are errors: every key of obj must be in allowed (NULL-ended)
 * or in also (NULL-ended, may be NULL). what: "a wait node". */
static int check_keys(struct parser *p, const json_t *obj, const char *const *allowed, const char *const *also,
		      const char *what)
{
	const char *key;
	const json_t *v;
	json_object_foreach ((json_t *)obj, key, v) {
		if (in_list(key, allowed) || (also && in_list(key, also)))
			continue;
		struct buf list;
		buf_init(&list, 1024);
		for (size_t i = 0; allowed[i]; i++)
			buf_addf(&list, "%s%s", list.len ? ", " : "", allowed[i]);
		for (size_t i = 0; also && also[i]; i++)
			buf_addf(&list, "%s%s", list.len ? ", " : "", also[i]);
		fail(p, key, "Unknown key \"%.*s\" in %s; allowed: %s.", QUOTE(key), what,
		     list.len ? list.ptr : "none");
		buf_release(&list);
		return -1;
	}
	return 0;
}

/* A string at obj.key of 1..max bytes into *out (owned copy; NULL when
 * absent and not required). what names it for messages ("event name"). */
static int get_str(struct parser *p, const json_t *obj, const char *key, int required, size_t max, const char *what,
		   char **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			return fail(p, key, "Missing \"%s\": give the %s.", key, what);
		return 0;
	}
	if (!json_is_string(v))
		return fail(p, key, "\"%s\" must be a string (the %s), not %s.", key, what, jsonx_type_name(v));
	if (json_string_length(v) == 0)
		return fail(p, key, "\"%s\" is empty: give the %s.", key, what);
	if (json_string_length(v) > max)
		return fail(p, key, "The %s is longer than %zu bytes.", what, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(p, key, "The %s contains a NUL character.", what);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* A template or segment id: a slug of at most MAX_REF_ID characters. */
static int get_slug(struct parser *p, const json_t *obj, const char *key, const char *what, char **out)
{
	if (get_str(p, obj, key, 1, MAX_REF_ID, what, out) < 0)
		return -1;
	if (!slug_valid(*out, MAX_REF_ID)) {
		fail(p, key,
		     "\"%.*s\" is not a valid %s: use lower-case letters, digits, - and _, starting with a "
		     "letter or digit (e.g. \"welcome-1\").",
		     QUOTE(*out), what);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int get_bool(struct parser *p, const json_t *obj, const char *key, int *out)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(p, key, "\"%s\" must be true or false, not %s.", key, jsonx_type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* An integer in [lo, hi] at obj.key; *out untouched when absent. */
static int get_int(struct parser *p, const json_t *obj, const char *key, json_int_t lo, json_int_t hi, const char *what,
		   int *out)
{
	const json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(p, key, "\"%s\" must be a whole number from %lld to %lld (%s).", key, (long long)lo,
			    (long long)hi, what);
	*out = (int)json_integer_value(v);
	return 0;
}

static const char *const dur_units[] = {"weeks", "days", "hours", "minutes"};
static const int64_t dur_unit_ms[] = {7LL * 86400000, 86400000, 3600000, 60000};

/* A duration (the condition language's shape) at the current path: an
 * object of weeks, days, hours, minutes, whole numbers. signed_ok: units may
 * be negative (all of the same sign) and the total may be 0; otherwise each
 * is ≥ 0 and the total > 0. |total| ≤ max_ms (described by max_text). */
static int parse_dur(struct parser *p, const json_t *j, int signed_ok, int64_t max_ms, const char *max_text,
		     int64_t *out)
{
	*out = 0;
	if (!json_is_object(j) || json_object_size(j) == 0)
		return fail(p, NULL, "A duration is an object like {\"days\": 2} using weeks, days, hours or minutes.");
	const char *key;
	const json_t *v;
	int sign = 0;
	int64_t total = 0;
	json_object_foreach ((json_t *)j, key, v) {
		size_t u = 0;
		while (u < 4 && strcmp(key, dur_units[u]))
			u++;
		if (u == 4)
			return fail(p, key, "Unknown duration unit \"%.*s\": use weeks, days, hours or minutes.",
				    QUOTE(key));
		if (!json_is_integer(v) || (!signed_ok && json_integer_value(v) < 0))
			return fail(p, key,
				    signed_ok ? "\"%s\" must be a whole number (negative for before)."
					      : "\"%s\" must be a whole number, 0 or more.",
				    key);
		json_int_t x = json_integer_value(v);
		if (x > max_ms / dur_unit_ms[u] || x < -(max_ms / dur_unit_ms[u]))
			return fail(p, key, "This duration is longer than %s.", max_text);
		if (x != 0) {
			int s = x > 0 ? 1 : -1;
			if (sign && s != sign)
				return fail(p, key,
					    "Mixed signs in one duration: write every unit negative (before) or "
					    "every unit positive (after).");
			sign = s;
		}
		total += x * dur_unit_ms[u];
	}
	if (total > max_ms || total < -max_ms)
		return fail(p, NULL, "This duration is longer than %s.", max_text);
	if (total == 0 && !signed_ok)
		return fail(p, NULL, "This duration is zero; give a length such as {\"days\": 2}.");
	*out = total;
	return 0;
}

/* A duration at obj.key; *out = 0 when absent and not required. */
static int get_dur(struct parser *p, const json_t *obj, const char *key, int required, int signed_ok, int64_t max_ms,
		   const char *max_text, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!v) {
		if (required)
			return fail(p, key, "Missing \"%s\": give a duration such as {\"days\": 2}.", key);
		return 0;
	}
	size_t mark = push_key(p, key);
	int rc = parse_dur(p, v, signed_ok, max_ms, max_text, out);
	pop(p, mark);
	return rc;
}

#define WAIT_LIMIT JNY_MAX_WAIT_MS, "two years"
#define LONG_LIMIT COND_MAX_DURATION_MS, "100 years"

/* "HH:MM" → minute of the day, or -1. */
static int hhmm(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++) {
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	}
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

/* A local time "HH:MM" at obj.key into *minute (untouched when absent). */
static int get_time(struct parser *p, const json_t *obj, const char *key, int required, int *minute)
{
	const json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return fail(p, key, "Missing \"%s\": give a local time such as \"10:00\".", key);
		return 0;
	}
	int m = json_is_string(v) ? hhmm(json_string_value(v)) : -1;
	if (m < 0)
		return fail(p, key, "\"%s\" must be a local time \"HH:MM\" from \"00:00\" to \"23:59\".", key);
	*minute = m;
	return 0;
}

/* ---- node ids and references -------------------------------------------- */

static int valid_node_id(const char *s, size_t len)
{
	if (len == 0 || len > JNY_MAX_ID)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			 c == '?' || c == ':' || c == '.' || c == '-';
		if (!ok)
			return 0;
	}
	return 1;
}

static int id_cmp(const void *a, const void *b)
{
	const struct id_entry *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The lowest index of a node whose "id" is s, or JNY_NONE. */
static int find_id(const struct parser *p, const char *s)
{
	size_t lo = 0, hi = p->nids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->ids[mid].id, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nids && !strcmp(p->ids[lo].id, s))
		return p->ids[lo].index;
	return JNY_NONE;
}

/* A node reference at obj.key (a node id) into *out; JNY_NONE when absent. */
static int get_ref(struct parser *p, const json_t *obj, const char *key, int *out)
{
	const json_t *v = json_object_get(obj, key);
	*out = JNY_NONE;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(p, key, "\"%s\" must be the id of a node (a string), not %s.", key, jsonx_type_name(v));
	int i = find_id(p, json_string_value(v));
	if (i == JNY_NONE)
		return fail(p, key, "\"%s\" names \"%.*s\", but no node has that id.", key,
			    QUOTE(json_string_value(v)));
	*out = i;
	return 0;
}

/* ---- conditions ----------------------------------------------------------- */

/* An event filter at obj.where (property conditions only): parsed inside a
 * stand-in {"event": …, "where": W} so cond's rules and messages for a
 * `where` apply, with paths under the current path. *out NULL if absent. */
static int get_where(struct parser *p, const json_t *obj, struct cond **out)
{
	const json_t *w = json_object_get(obj, "where");
	*out = NULL;
	if (!w)
		return 0;
	json_t *wrap = json_object();
	json_object_set_new(wrap, "event", json_string("event"));
	json_object_set_new(wrap, "where", json_deep_copy(w));
	struct cairn_err ce = CAIRN_ERR_INIT;
	struct cond *c = cond_parse_at(wrap, p->path.ptr, &ce);
	json_decref(wrap);
	if (!c)
		return fail_cond(p, &ce);
	cond_free(c);
	size_t mark = push_key(p, "where");
	*out = cond_parse_at(w, p->path.ptr, &ce);
	pop(p, mark);
	if (!*out)
		return fail_cond(p, &ce);
	return 0;
}

/* The path (appended to path) of the first property leaf of a parsed
 * condition's JSON that is not inside an event's `where`; 1 when found. */
static int find_property_leaf(const json_t *c, struct buf *path)
{
	static const char *const lists[] = {"all", "any"};
	for (size_t k = 0; k < 2; k++) {
		const json_t *a = json_object_get(c, lists[k]);
		if (!json_is_array(a))
			continue;
		for (size_t i = 0; i < json_array_size(a); i++) {
			size_t mark = path->len;
			buf_addf(path, ".%s[%zu]", lists[k], i);
			if (find_property_leaf(json_array_get(a, i), path))
				return 1;
			buf_truncate(path, mark);
		}
		return 0;
	}
	const json_t *n = json_object_get(c, "not");
	if (n) {
		size_t mark = path->len;
		buf_adds(path, ".not");
		if (find_property_leaf(n, path))
			return 1;
		buf_truncate(path, mark);
		return 0;
	}
	if (json_object_get(c, "property")) {
		buf_adds(path, ".property");
		return 1;
	}
	return 0;
}

/* A condition about the user at obj.key (branch `when`): any kind but
 * `property` outside an event's `where`. */
static int get_when(struct parser *p, const json_t *obj, const char *key, struct cond **out)
{
	const json_t *w = json_object_get(obj, key);
	*out = NULL;
	if (!w)
		return fail(p, key, "Missing \"%s\": give a condition such as {\"tag\": \"vip\"}.", key);
	size_t mark = push_key(p, key);
	struct cairn_err ce = CAIRN_ERR_INIT;
	struct cond *c = cond_parse_at(w, p->path.ptr, &ce);
	if (!c) {
		pop(p, mark);
		return fail_cond(p, &ce);
	}
	struct buf at;
	buf_init(&at, 8192);
	buf_adds(&at, p->path.ptr);
	pop(p, mark);
	int rc = 0;
	if (find_property_leaf(w, &at)) {
		rc = fail_at(p, at.ptr, "%s",
			     "A branch condition is about the user: \"property\" (a property of one event) can "
			     "only be used inside an event's \"where\", e.g. {\"event\": \"Order Completed\", "
			     "\"where\": {\"property\": …}}.");
		cond_free(c);
		c = NULL;
	}
	buf_release(&at);
	*out = c;
	return rc;
}

/* {"event": name, "where": C?} of obj into m. */
static int get_match(struct parser *p, const json_t *obj, struct jny_event_match *m)
{
	if (get_str(p, obj, "event", 1, COND_MAX_NAME, "event name", &m->event) < 0)
		return -1;
	return get_where(p, obj, &m->where);
}

static void match_release(struct jny_event_match *m)
{
	free(m->event);
	cond_free(m->where);
	m->event = NULL;
	m->where = NULL;
}

/* ---- triggers ------------------------------------------------------------- */

static int trig_event(struct parser *p, const json_t *t, struct jny_def *d)
{
	return get_match(p, t, &d->trigger.match);
}

static int trig_segment(struct parser *p, const json_t *t, struct jny_def *d)
{
	return get_slug(p, t, "segment", "segment id", &d->trigger.segment);
}

static int trig_trait_changed(struct parser *p, const json_t *t, struct jny_def *d)
{
	static const char *const keys[] = {"from", "to"};
	json_t **slots[] = {&d->trigger.from, &d->trigger.to};
	if (get_str(p, t, "trait", 1, COND_MAX_NAME, "trait name", &d->trigger.trait) < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(t, keys[i]);
		if (!v)
			continue;
		if (json_is_object(v) || json_is_array(v))
			return fail(p, keys[i],
				    "\"%s\" must be a text, a number, true/false, or null (no value); leave it out "
				    "for any value.",
				    keys[i]);
		if (json_is_string(v) && json_string_length(v) > COND_MAX_STRING)
			return fail(p, keys[i], "\"%s\" is longer than %d bytes.", keys[i], COND_MAX_STRING);
		*slots[i] = json_deep_copy(v);
	}
	if (d->trigger.from && d->trigger.to && json_equal(d->trigger.from, d->trigger.to))
		return fail(p, "to",
			    "\"from\" and \"to\" are the same value, so the trait can never change from one "
			    "to the other.");
	return 0;
}

static int trig_date(struct parser *p, const json_t *t, struct jny_def *d)
{
	if (get_str(p, t, "trait", 1, COND_MAX_NAME, "name of the date trait", &d->trigger.trait) < 0)
		return -1;
	if (get_dur(p, t, "offset", 0, 1, LONG_LIMIT, &d->trigger.offset_ms) < 0)
		return -1;
	return get_time(p, t, "at", 0, &d->trigger.at_minute);
}

static int trig_none(struct parser *p, const json_t *t, struct jny_def *d)
{
	return 0;
}

/* Drops a UTF-8 sequence cut short at the end of s (a message another
 * module truncated to its buffer). */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), k = n;
	while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k == 0 || (unsigned char)s[k - 1] < 0xC0)
		return;
	unsigned char lead = (unsigned char)s[k - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (k - 1) < need)
		s[k - 1] = '\0';
}

/* Validates a 5-field cron expression with the engine's own parser
 * (core/tz.h); *norm gets the fields joined by single spaces (owned). */
static int parse_cron(struct parser *p, const char *cron, char **norm)
{
	struct tz_cron c;
	struct cairn_err ce = CAIRN_ERR_INIT;
	if (tz_cron_parse(cron, &c, &ce) < 0) {
		utf8_trim(ce.message);
		size_t n = strlen(ce.message);
		if (ce.message[0] >= 'a' && ce.message[0] <= 'z')
			ce.message[0] = (char)(ce.message[0] - 'a' + 'A');
		return fail(p, "cron", "%s%s", ce.message, n && ce.message[n - 1] != '.' ? "." : "");
	}
	struct buf out;
	buf_init(&out, 1024);
	for (const char *s = cron; *s;) {
		size_t gap = strspn(s, " \t");
		s += gap;
		size_t len = strcspn(s, " \t");
		if (len)
			buf_addf(&out, "%s%.*s", out.len ? " " : "", (int)len, s);
		s += len;
	}
	*norm = buf_detach(&out, NULL);
	return 0;
}

static int trig_broadcast(struct parser *p, const json_t *t, struct jny_def *d)
{
	if (get_slug(p, t, "segment", "segment id", &d->trigger.segment) < 0)
		return -1;
	const json_t *at = json_object_get(t, "at");
	const json_t *cron = json_object_get(t, "cron");
	if (at && cron)
		return fail(p, "cron", "Give either \"at\" (once) or \"cron\" (recurring), not both.");
	if (at) {
		const char *s = json_is_string(at) ? json_string_value(at) : "";
		int64_t ms = 0;
		int m = hhmm(s);
		if (m >= 0)
			d->trigger.at_minute = m;
		else if (clock_parse_rfc3339(s, &ms) == 0 && ms > 0 && ms < 253402300800000LL)
			d->trigger.at_ms = ms;
		else
			return fail(p, "at",
				    "\"at\" must be a date-time such as \"2026-03-02T10:00:00+09:00\" (once, at that "
				    "instant) or a local time \"10:00\" (once, at each user's next 10:00).");
	}
	if (cron) {
		if (!json_is_string(cron) || json_string_length(cron) > TZ_CRON_MAX_LEN)
			return fail(p, "cron", "\"cron\" must be a text such as \"0 10 * * 1\" (Mondays at 10:00).");
		return parse_cron(p, json_string_value(cron), &d->trigger.cron);
	}
	return 0;
}

struct trigger_def {
	const char *name;
	enum jny_trigger_type type;
	const char *const keys[4]; /* besides "type" */
	int (*parse)(struct parser *p, const json_t *t, struct jny_def *d);
};

static const struct trigger_def trigger_defs[] = {
	{"event", JT_EVENT, {"event", "where", NULL}, trig_event},
	{"segment_entered", JT_SEGMENT_ENTERED, {"segment", NULL}, trig_segment},
	{"segment_exited", JT_SEGMENT_EXITED, {"segment", NULL}, trig_segment},
	{"trait_changed", JT_TRAIT_CHANGED, {"trait", "from", "to", NULL}, trig_trait_changed},
	{"date", JT_DATE, {"trait", "offset", "at", NULL}, trig_date},
	{"content_published", JT_CONTENT_PUBLISHED, {NULL}, trig_none},
	{"manual", JT_MANUAL, {NULL}, trig_none},
	{"broadcast", JT_BROADCAST, {"segment", "at", "cron", NULL}, trig_broadcast},
};
#define NTRIGGERS (sizeof trigger_defs / sizeof trigger_defs[0])
#define TRIGGER_LIST                                                                                                   \
	"event, segment_entered, segment_exited, trait_changed, date, content_published, manual or broadcast"

static const char *const type_key[] = {"type", NULL};

static int parse_trigger(struct parser *p, const json_t *root, struct jny_def *d)
{
	const json_t *t = json_object_get(root, "trigger");
	if (!t)
		return fail(p, "trigger",
			    "Missing \"trigger\": say what starts the journey, e.g. {\"type\": \"event\", \"event\": "
			    "\"Signed Up\"}.");
	size_t mark = push_key(p, "trigger");
	int rc = -1;
	const struct trigger_def *td = NULL;
	if (!json_is_object(t)) {
		fail(p, NULL, "\"trigger\" must be an object like {\"type\": \"event\", \"event\": \"Signed Up\"}.");
		goto out;
	}
	const json_t *ty = json_object_get(t, "type");
	if (!json_is_string(ty)) {
		fail(p, "type", "Missing or non-text \"type\": use %s.", TRIGGER_LIST);
		goto out;
	}
	for (size_t i = 0; i < NTRIGGERS && !td; i++) {
		if (!strcmp(json_string_value(ty), trigger_defs[i].name))
			td = &trigger_defs[i];
	}
	if (!td) {
		fail(p, "type", "Unknown trigger type \"%.*s\"; use %s.", QUOTE(json_string_value(ty)), TRIGGER_LIST);
		goto out;
	}
	char what[64];
	snprintf(what, sizeof what, "%s %s trigger", strchr("aeiou", td->name[0]) ? "an" : "a", td->name);
	if (check_keys(p, t, type_key, td->keys, what) < 0)
		goto out;
	d->trigger.type = td->type;
	rc = td->parse(p, t, d);
out:
	pop(p, mark);
	return rc;
}

/* ---- nodes ---------------------------------------------------------------- */

static int is_channel(const char *s)
{
	return in_list(s, channels);
}

/* A template at obj.key: an id, or an inline object (kept as given). */
static int get_template(struct parser *p, const json_t *obj, const char *key, char **id, json_t **inl)
{
	const json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		return get_slug(p, obj, key, "template id", id);
	if (json_is_object(v) && json_object_size(v) > 0) {
		*inl = json_deep_copy(v);
		return 0;
	}
	return fail(p, key,
		    "\"%s\" must be a template id such as \"welcome-1\", or an inline template such as "
		    "{\"subject\": …, \"html\": …} (email) or {\"text\": …} (SMS).",
		    key);
}

/* The array at obj.key into *arr with 1..max elements. */
static int get_array(struct parser *p, const json_t *obj, const char *key, size_t max, const char *what,
		     const json_t **arr)
{
	const json_t *a = json_object_get(obj, key);
	*arr = a;
	if (!json_is_array(a))
		return fail(p, key, "\"%s\" must be a list of %s.", key, what);
	if (json_array_size(a) == 0)
		return fail(p, key, "\"%s\" is empty: list at least one of the %s, or leave it out.", key, what);
	if (json_array_size(a) > max)
		return fail(p, key, "\"%s\" has more than %zu %s.", key, max, what);
	return 0;
}

/* A variant's name at obj.name, unique among names[0..n). */
static int get_variant_name(struct parser *p, const json_t *obj, const char *const *names, size_t n, char **out)
{
	if (get_str(p, obj, "name", 1, JNY_MAX_ID, "variant name", out) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], *out))
			return fail(p, "name", "Two variants are named \"%.*s\"; give each its own name.", QUOTE(*out));
	}
	return 0;
}

static int parse_send_variants(struct parser *p, const json_t *o, struct jny_node *n)
{
	static const char *const keys[] = {"name", "weight", "template", NULL};
	const json_t *a;
	if (get_array(p, o, "variants", JNY_MAX_VARIANTS, "variants", &a) < 0)
		return -1;
	const char *names[JNY_MAX_VARIANTS];
	n->send_variants = xcalloc(json_array_size(a), sizeof *n->send_variants);
	n->nsend_variants = json_array_size(a);
	size_t mark = push_key(p, "variants");
	int rc = 0;
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		const json_t *v = json_array_get(a, i);
		struct jny_send_variant *sv = &n->send_variants[i];
		size_t m2 = push_index(p, i);
		if (!json_is_object(v))
			rc = fail(p, NULL,
				  "Each variant is an object like {\"name\": \"A\", \"weight\": 50, "
				  "\"template\": \"welcome-a\"}.");
		else if (check_keys(p, v, keys, NULL, "a message variant") < 0)
			rc = -1;
		else if (get_variant_name(p, v, names, i, &sv->name) < 0)
			rc = -1;
		else
			names[i] = sv->name;
		if (rc == 0 && !json_object_get(v, "weight"))
			rc = fail(p, "weight", "Missing \"weight\": a whole number such as 50.");
		if (rc == 0)
			rc = get_int(p, v, "weight", 1, MAX_WEIGHT, "the variant's share", &sv->weight);
		if (rc == 0 && !json_object_get(v, "template"))
			rc = fail(p, "template", "Missing \"template\": give a template id or an inline template.");
		if (rc == 0)
			rc = get_template(p, v, "template", &sv->template_id, &sv->inline_template);
		pop(p, m2);
	}
	pop(p, mark);
	return rc;
}

static int node_send(struct parser *p, const json_t *o, struct jny_node *n)
{
	if (get_str(p, o, "channel", 1, 32, "channel", &n->channel) < 0)
		return -1;
	if (!is_channel(n->channel))
		return fail(p, "channel", "Unknown channel \"%.*s\"; use %s.", QUOTE(n->channel), CHANNEL_LIST);
	int has_t = json_object_get(o, "template") != NULL;
	int has_v = json_object_get(o, "variants") != NULL;
	if (has_t && has_v)
		return fail(p, "variants", "Give either \"template\" or \"variants\", not both.");
	if (!has_t && !has_v)
		return fail(p, "template",
			    "Missing \"template\": give a template id such as \"welcome-1\", an inline template, "
			    "or \"variants\" to test several messages.");
	if (has_t && get_template(p, o, "template", &n->template_id, &n->inline_template) < 0)
		return -1;
	if (has_v && parse_send_variants(p, o, n) < 0)
		return -1;
	if (json_object_get(o, "fallback")) {
		const json_t *a;
		if (get_array(p, o, "fallback", MAX_FALLBACK, "channels to try next", &a) < 0)
			return -1;
		n->fallback = xcalloc(json_array_size(a), sizeof *n->fallback);
		size_t mark = push_key(p, "fallback");
		for (size_t i = 0; i < json_array_size(a); i++) {
			const json_t *c = json_array_get(a, i);
			const char *s = json_is_string(c) ? json_string_value(c) : "";
			int bad = !is_channel(s) || !strcmp(s, n->channel);
			for (size_t k = 0; k < i && !bad; k++)
				bad = !strcmp(s, n->fallback[k]);
			if (bad) {
				fail_index(p, i,
					   "Each fallback is a channel (%s) other than the node's own and not listed "
					   "twice.",
					   CHANNEL_LIST);
				pop(p, mark);
				return -1;
			}
			n->fallback[i] = xstrdup(s);
			n->nfallback = i + 1;
		}
		pop(p, mark);
	}
	int adv = -1;
	if (get_bool(p, o, "advertising", &adv) < 0)
		return -1;
	n->advertising = adv;
	return get_ref(p, o, "next", &n->next);
}

static int node_wait(struct parser *p, const json_t *o, struct jny_node *n)
{
	static const char *const until_keys[] = {"time", "weekdays", NULL};
	const json_t *until = json_object_get(o, "until");
	if (!json_object_get(o, "duration") && !until)
		return fail(p, "duration",
			    "A wait needs \"duration\" (e.g. {\"days\": 2}), \"until\" (e.g. {\"time\": \"10:00\"}), "
			    "or both.");
	if (get_dur(p, o, "duration", 0, 0, WAIT_LIMIT, &n->duration_ms) < 0)
		return -1;
	if (until) {
		size_t mark = push_key(p, "until");
		int rc = 0;
		if (!json_is_object(until))
			rc = fail(p, NULL,
				  "\"until\" must be an object like {\"time\": \"10:00\", \"weekdays\": [\"mon\"]}.");
		else if (check_keys(p, until, until_keys, NULL, "\"until\"") < 0)
			rc = -1;
		else if (!json_object_get(until, "time") && !json_object_get(until, "weekdays"))
			rc = fail(p, NULL,
				  "\"until\" needs \"time\" (e.g. \"10:00\"), \"weekdays\" (e.g. "
				  "[\"mon\", \"tue\"]) or both.");
		else
			rc = get_time(p, until, "time", 0, &n->until_minute);
		const json_t *wd = rc == 0 ? json_object_get(until, "weekdays") : NULL;
		if (wd) {
			const json_t *a;
			rc = get_array(p, until, "weekdays", 7, "weekdays", &a);
			size_t m2 = push_key(p, "weekdays");
			for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
				const json_t *x = json_array_get(a, i);
				int day = -1;
				for (int k = 0; k < 7 && json_is_string(x); k++) {
					if (!strcmp(json_string_value(x), weekdays[k]))
						day = k;
				}
				if (day < 0 || (n->weekdays & (1u << day)))
					rc = fail_index(p, i,
							"Each weekday is one of \"mon\", \"tue\", \"wed\", \"thu\", "
							"\"fri\", \"sat\", \"sun\", listed once.");
				else
					n->weekdays |= 1u << day;
			}
			pop(p, m2);
		}
		pop(p, mark);
		if (rc < 0)
			return -1;
	}
	return get_ref(p, o, "next", &n->next);
}

static int node_wait_event(struct parser *p, const json_t *o, struct jny_node *n)
{
	if (get_match(p, o, &n->wait) < 0)
		return -1;
	if (get_dur(p, o, "timeout", 1, 0, WAIT_LIMIT, &n->timeout_ms) < 0)
		return -1;
	if (get_ref(p, o, "next", &n->next) < 0)
		return -1;
	return get_ref(p, o, "timeout_next", &n->timeout_next);
}

static int node_branch(struct parser *p, const json_t *o, struct jny_node *n)
{
	static const char *const keys[] = {"when", "next", NULL};
	const json_t *a;
	if (!json_object_get(o, "branches"))
		return fail(
			p, "branches",
			"Missing \"branches\": a list like [{\"when\": {\"tag\": \"vip\"}, \"next\": \"vip-offer\"}].");
	if (get_array(p, o, "branches", JNY_MAX_BRANCHES, "branches", &a) < 0)
		return -1;
	n->branches = xcalloc(json_array_size(a), sizeof *n->branches);
	n->nbranches = json_array_size(a);
	for (size_t i = 0; i < n->nbranches; i++)
		n->branches[i].next = JNY_NONE;
	size_t mark = push_key(p, "branches");
	int rc = 0;
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		const json_t *b = json_array_get(a, i);
		size_t m2 = push_index(p, i);
		if (!json_is_object(b))
			rc = fail(p, NULL,
				  "Each branch is an object like {\"when\": {\"tag\": \"vip\"}, \"next\": "
				  "\"vip-offer\"}.");
		else if (check_keys(p, b, keys, NULL, "a branch") < 0)
			rc = -1;
		else if (get_when(p, b, "when", &n->branches[i].when) < 0)
			rc = -1;
		else
			rc = get_ref(p, b, "next", &n->branches[i].next);
		pop(p, m2);
	}
	pop(p, mark);
	if (rc < 0)
		return -1;
	return get_ref(p, o, "else", &n->else_next);
}

static int node_split(struct parser *p, const json_t *o, struct jny_node *n)
{
	static const char *const keys[] = {"name", "weight", "next", NULL};
	const json_t *a;
	if (!json_object_get(o, "variants"))
		return fail(
			p, "variants",
			"Missing \"variants\": a list like [{\"name\": \"A\", \"weight\": 50, \"next\": \"a\"}, …].");
	if (get_array(p, o, "variants", JNY_MAX_VARIANTS, "variants", &a) < 0)
		return -1;
	const char *names[JNY_MAX_VARIANTS];
	n->variants = xcalloc(json_array_size(a), sizeof *n->variants);
	n->nvariants = json_array_size(a);
	for (size_t i = 0; i < n->nvariants; i++)
		n->variants[i].next = JNY_NONE;
	size_t mark = push_key(p, "variants");
	int rc = 0;
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		const json_t *v = json_array_get(a, i);
		struct jny_variant *sv = &n->variants[i];
		size_t m2 = push_index(p, i);
		if (!json_is_object(v))
			rc = fail(p, NULL,
				  "Each variant is an object like {\"name\": \"A\", \"weight\": 50, \"next\": \"a\"}.");
		else if (check_keys(p, v, keys, NULL, "a split variant") < 0)
			rc = -1;
		else if (get_variant_name(p, v, names, i, &sv->name) < 0)
			rc = -1;
		else
			names[i] = sv->name;
		if (rc == 0 && !json_object_get(v, "weight"))
			rc = fail(p, "weight", "Missing \"weight\": a whole number such as 50.");
		if (rc == 0)
			rc = get_int(p, v, "weight", 1, MAX_WEIGHT, "the variant's share", &sv->weight);
		if (rc == 0)
			rc = get_ref(p, v, "next", &sv->next);
		pop(p, m2);
	}
	pop(p, mark);
	if (rc < 0)
		return -1;
	return get_int(p, o, "holdout", 0, 99, "the percentage of users held out", &n->holdout_pct);
}

/* tags_add / tags_remove: lists of distinct tags. */
static int get_tags(struct parser *p, const json_t *o, const char *key, char ***out, size_t *nout)
{
	const json_t *a;
	if (!json_object_get(o, key))
		return 0;
	if (get_array(p, o, key, MAX_LIST, "tags", &a) < 0)
		return -1;
	*out = xcalloc(json_array_size(a), sizeof **out);
	size_t mark = push_key(p, key);
	int rc = 0;
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		const json_t *t = json_array_get(a, i);
		if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > COND_MAX_NAME ||
		    strlen(json_string_value(t)) != json_string_length(t)) {
			rc = fail_index(p, i,
					"Each tag is a non-empty text of at most %d bytes, e.g. "
					"\"interest:marketing\".",
					COND_MAX_NAME);
			break;
		}
		for (size_t k = 0; k < i && rc == 0; k++) {
			if (!strcmp((*out)[k], json_string_value(t)))
				rc = fail_index(p, i, "The tag \"%.*s\" is listed twice.", QUOTE((*out)[k]));
		}
		if (rc == 0) {
			(*out)[i] = xstrdup(json_string_value(t));
			*nout = i + 1;
		}
	}
	pop(p, mark);
	return rc;
}

static int node_update(struct parser *p, const json_t *o, struct jny_node *n)
{
	if (get_tags(p, o, "tags_add", &n->tags_add, &n->ntags_add) < 0)
		return -1;
	if (get_tags(p, o, "tags_remove", &n->tags_remove, &n->ntags_remove) < 0)
		return -1;
	for (size_t i = 0; i < n->ntags_remove; i++) {
		for (size_t k = 0; k < n->ntags_add; k++) {
			if (strcmp(n->tags_remove[i], n->tags_add[k]))
				continue;
			size_t mark = push_key(p, "tags_remove");
			fail_index(p, i, "The tag \"%.*s\" is both added and removed.", QUOTE(n->tags_add[k]));
			pop(p, mark);
			return -1;
		}
	}
	const json_t *set = json_object_get(o, "set");
	if (set) {
		if (!json_is_object(set) || json_object_size(set) == 0)
			return fail(p, "set",
				    "\"set\" must be an object of traits and values, e.g. {\"plan\": \"pro\"} "
				    "(null removes a trait).");
		if (json_object_size(set) > MAX_LIST)
			return fail(p, "set", "\"set\" has more than %d traits.", MAX_LIST);
		const char *k;
		const json_t *v;
		json_object_foreach ((json_t *)set, k, v) {
			size_t mark = push_key(p, "set");
			int rc = 0;
			if (strlen(k) == 0 || strlen(k) > COND_MAX_NAME)
				rc = fail(p, k, "A trait name is 1 to %d bytes.", COND_MAX_NAME);
			else if (!strcmp(k, "consent"))
				rc = fail(p, k,
					  "A journey can't change consent; consent comes from the user (identify, "
					  "preference page, unsubscribe).");
			pop(p, mark);
			if (rc < 0)
				return -1;
		}
		n->set_traits = json_deep_copy(set);
	}
	if (get_str(p, o, "lifecycle", 0, 32, "lifecycle stage", &n->lifecycle) < 0)
		return -1;
	if (n->lifecycle && !in_list(n->lifecycle, lifecycles))
		return fail(
			p, "lifecycle",
			"Unknown lifecycle stage \"%.*s\"; use subscriber, lead, mql, sql, opportunity, customer or "
			"dormant.",
			QUOTE(n->lifecycle));
	const json_t *score = json_object_get(o, "score");
	if (score) {
		if (!json_is_object(score) || json_object_size(score) == 0)
			return fail(p, "score", "\"score\" must be an object of score changes, e.g. {\"lead\": 10}.");
		if (json_object_size(score) > MAX_LIST)
			return fail(p, "score", "\"score\" has more than %d scores.", MAX_LIST);
		const char *k;
		const json_t *v;
		json_object_foreach ((json_t *)score, k, v) {
			size_t mark = push_key(p, "score");
			int rc = 0;
			if (strlen(k) == 0 || strlen(k) > COND_MAX_NAME)
				rc = fail(p, k, "A score name is 1 to %d bytes.", COND_MAX_NAME);
			else if (!json_is_integer(v) || json_integer_value(v) == 0 ||
				 json_integer_value(v) > MAX_SCORE || json_integer_value(v) < -MAX_SCORE)
				rc = fail(p, k, "A score change is a whole number from -%d to %d, not 0.", MAX_SCORE,
					  MAX_SCORE);
			pop(p, mark);
			if (rc < 0)
				return -1;
		}
		n->score = json_deep_copy(score);
	}
	if (!n->ntags_add && !n->ntags_remove && !n->set_traits && !n->lifecycle && !n->score)
		return fail(p, NULL,
			    "An update node needs at least one of tags_add, tags_remove, set, lifecycle or "
			    "score.");
	return get_ref(p, o, "next", &n->next);
}

/* http:// or https://, a host, no spaces or control characters. */
static int valid_url(const char *u)
{
	const char *rest;
	if (!strncasecmp(u, "https://", 8))
		rest = u + 8;
	else if (!strncasecmp(u, "http://", 7))
		rest = u + 7;
	else
		return 0;
	if (!*rest || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
		return 0;
	for (const unsigned char *s = (const unsigned char *)u; *s; s++) {
		if (*s <= 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

static int node_webhook(struct parser *p, const json_t *o, struct jny_node *n)
{
	if (get_str(p, o, "url", 1, MAX_URL, "URL to call", &n->url) < 0)
		return -1;
	if (!valid_url(n->url))
		return fail(p, "url", "\"url\" must be an http:// or https:// address with a host and no spaces.");
	if (get_str(p, o, "body", 0, MAX_TEXT, "request body (Liquid)", &n->body) < 0)
		return -1;
	return get_ref(p, o, "next", &n->next);
}

static int node_slack(struct parser *p, const json_t *o, struct jny_node *n)
{
	if (get_str(p, o, "channel", 1, 80, "Slack channel, e.g. \"#sales\"", &n->slack_channel) < 0)
		return -1;
	for (const char *s = n->slack_channel; *s; s++) {
		if ((unsigned char)*s <= 0x20)
			return fail(p, "channel", "A Slack channel has no spaces, e.g. \"#sales\".");
	}
	if (get_str(p, o, "text", 1, MAX_TEXT, "message text (Liquid)", &n->text) < 0)
		return -1;
	return get_ref(p, o, "next", &n->next);
}

static int node_goal(struct parser *p, const json_t *o, struct jny_node *n)
{
	return get_ref(p, o, "next", &n->next);
}

static int node_exit(struct parser *p, const json_t *o, struct jny_node *n)
{
	return 0;
}

struct node_def {
	const char *name;
	enum jny_node_type type;
	const char *const keys[8]; /* besides id and type */
	int (*parse)(struct parser *p, const json_t *o, struct jny_node *n);
	const char *what; /* for messages */
};

/* In enum order (jny_node_type_name indexes it). */
static const struct node_def node_defs[] = {
	{"send",
	 JN_SEND,
	 {"channel", "template", "variants", "fallback", "advertising", "next", NULL},
	 node_send,
	 "a send node"},
	{"wait", JN_WAIT, {"duration", "until", "next", NULL}, node_wait, "a wait node"},
	{"wait_event",
	 JN_WAIT_EVENT,
	 {"event", "where", "timeout", "next", "timeout_next", NULL},
	 node_wait_event,
	 "a wait_event node"},
	{"branch", JN_BRANCH, {"branches", "else", NULL}, node_branch, "a branch node"},
	{"split", JN_SPLIT, {"variants", "holdout", NULL}, node_split, "a split node"},
	{"update",
	 JN_UPDATE,
	 {"tags_add", "tags_remove", "set", "lifecycle", "score", "next", NULL},
	 node_update,
	 "an update node"},
	{"webhook", JN_WEBHOOK, {"url", "body", "next", NULL}, node_webhook, "a webhook node"},
	{"slack", JN_SLACK, {"channel", "text", "next", NULL}, node_slack, "a slack node"},
	{"goal", JN_GOAL, {"next", NULL}, node_goal, "a goal node"},
	{"exit", JN_EXIT, {NULL}, node_exit, "an exit node"},
};
#define NNODE_DEFS     (sizeof node_defs / sizeof node_defs[0])
#define NODE_TYPE_LIST "send, wait, wait_event, branch, split, update, webhook, slack, goal or exit"

static const char *const node_common_keys[] = {"id", "type", NULL};

static void node_init(struct jny_node *n)
{
	memset(n, 0, sizeof *n);
	n->next = JNY_NONE;
	n->timeout_next = JNY_NONE;
	n->else_next = JNY_NONE;
	n->until_minute = -1;
	n->advertising = -1;
}

static int parse_node(struct parser *p, const json_t *o, size_t i, struct jny_node *n)
{
	if (!json_is_object(o))
		return fail(p, NULL, "Each node is an object like {\"id\": \"intro\", \"type\": \"send\", …}, not %s.",
			    jsonx_type_name(o));
	const json_t *id = json_object_get(o, "id");
	if (!id)
		return fail(p, "id", "Missing \"id\": every node needs a unique id such as \"intro\".");
	if (!json_is_string(id) || !valid_node_id(json_string_value(id), json_string_length(id)))
		return fail(p, "id",
			    "A node id is 1 to %d characters of letters, digits and _ ? : . - (e.g. \"clicked?\").",
			    JNY_MAX_ID);
	int first = find_id(p, json_string_value(id));
	if (first != (int)i)
		return fail(p, "id", "The node id \"%s\" is already used by nodes[%d]; ids must be unique.",
			    json_string_value(id), first);
	n->id = xstrdup(json_string_value(id));
	p->node = n->id;
	const json_t *ty = json_object_get(o, "type");
	if (!json_is_string(ty))
		return fail(p, "type", "Missing or non-text \"type\": use %s.", NODE_TYPE_LIST);
	const struct node_def *nd = NULL;
	for (size_t k = 0; k < NNODE_DEFS && !nd; k++) {
		if (!strcmp(json_string_value(ty), node_defs[k].name))
			nd = &node_defs[k];
	}
	if (!nd)
		return fail(p, "type", "Unknown node type \"%.*s\"; use %s.", QUOTE(json_string_value(ty)),
			    NODE_TYPE_LIST);
	n->type = nd->type;
	if (check_keys(p, o, node_common_keys, nd->keys, nd->what) < 0)
		return -1;
	return nd->parse(p, o, n);
}

static int parse_nodes(struct parser *p, const json_t *root, struct jny_def *d)
{
	const json_t *a = json_object_get(root, "nodes");
	if (!a)
		return fail(p, "nodes",
			    "Missing \"nodes\": the steps of the journey, e.g. [{\"id\": \"intro\", "
			    "\"type\": \"send\", …}].");
	if (!json_is_array(a) || json_array_size(a) == 0)
		return fail(p, "nodes", "\"nodes\" must be a list of at least one node.");
	if (json_array_size(a) > JNY_MAX_NODES)
		return fail(p, "nodes", "A journey has at most %d nodes.", JNY_MAX_NODES);
	d->nnodes = json_array_size(a);
	d->nodes = xcalloc(d->nnodes, sizeof *d->nodes);
	for (size_t i = 0; i < d->nnodes; i++)
		node_init(&d->nodes[i]);
	/* the index of every string id, so references may point forward */
	p->ids = xcalloc(d->nnodes, sizeof *p->ids);
	for (size_t i = 0; i < d->nnodes; i++) {
		const json_t *id = json_object_get(json_array_get(a, i), "id");
		if (json_is_string(id)) {
			p->ids[p->nids].id = json_string_value(id);
			p->ids[p->nids].index = (int)i;
			p->nids++;
		}
	}
	qsort(p->ids, p->nids, sizeof *p->ids, id_cmp);
	size_t mark = push_key(p, "nodes");
	int rc = 0;
	for (size_t i = 0; i < d->nnodes && rc == 0; i++) {
		size_t m2 = push_index(p, i);
		rc = parse_node(p, json_array_get(a, i), i, &d->nodes[i]);
		p->node = NULL;
		pop(p, m2);
	}
	pop(p, mark);
	return rc;
}

/* ---- journey rules ---------------------------------------------------------- */

static int parse_entry(struct parser *p, const json_t *root, struct jny_def *d)
{
	static const char *const keys[] = {"reentry", NULL};
	static const char *const after_keys[] = {"after", NULL};
	const json_t *e = json_object_get(root, "entry");
	if (!e)
		return 0;
	size_t mark = push_key(p, "entry");
	int rc = 0;
	const json_t *r = json_is_object(e) ? json_object_get(e, "reentry") : NULL;
	if (!json_is_object(e))
		rc = fail(p, NULL, "\"entry\" must be an object like {\"reentry\": \"never\"}.");
	else if (check_keys(p, e, keys, NULL, "\"entry\"") < 0)
		rc = -1;
	else if (!r || (json_is_string(r) && !strcmp(json_string_value(r), "never")))
		d->reentry = JR_NEVER;
	else if (json_is_string(r) && !strcmp(json_string_value(r), "always"))
		d->reentry = JR_ALWAYS;
	else if (json_is_object(r) && json_object_get(r, "after")) {
		size_t m2 = push_key(p, "reentry");
		if (check_keys(p, r, after_keys, NULL, "\"reentry\"") < 0 ||
		    get_dur(p, r, "after", 1, 0, LONG_LIMIT, &d->reentry_after_ms) < 0)
			rc = -1;
		pop(p, m2);
		d->reentry = JR_AFTER;
	} else {
		rc = fail(p, "reentry", "\"reentry\" must be \"never\", \"always\" or {\"after\": {\"days\": 30}}.");
	}
	pop(p, mark);
	return rc;
}

static int parse_exit_on(struct parser *p, const json_t *root, struct jny_def *d)
{
	static const char *const keys[] = {"event", "where", NULL};
	const json_t *a;
	if (!json_object_get(root, "exit_on"))
		return 0;
	if (get_array(p, root, "exit_on", MAX_EXIT_ON, "events that end the journey", &a) < 0)
		return -1;
	d->exit_on = xcalloc(json_array_size(a), sizeof *d->exit_on);
	d->nexit_on = json_array_size(a);
	size_t mark = push_key(p, "exit_on");
	int rc = 0;
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		const json_t *x = json_array_get(a, i);
		size_t m2 = push_index(p, i);
		if (!json_is_object(x))
			rc = fail(p, NULL, "Each exit_on entry is an object like {\"event\": \"Order Completed\"}.");
		else if (check_keys(p, x, keys, NULL, "an exit_on entry") < 0)
			rc = -1;
		else
			rc = get_match(p, x, &d->exit_on[i]);
		pop(p, m2);
	}
	pop(p, mark);
	return rc;
}

static int parse_goal(struct parser *p, const json_t *root, struct jny_def *d)
{
	static const char *const keys[] = {"event", "where", "within", NULL};
	const json_t *g = json_object_get(root, "goal");
	if (!g)
		return 0;
	size_t mark = push_key(p, "goal");
	int rc = 0;
	if (!json_is_object(g))
		rc = fail(
			p, NULL,
			"\"goal\" must be an object like {\"event\": \"Order Completed\", \"within\": {\"days\": 7}}.");
	else if (check_keys(p, g, keys, NULL, "\"goal\"") < 0)
		rc = -1;
	else if (get_match(p, g, &d->goal) < 0)
		rc = -1;
	else
		rc = get_dur(p, g, "within", 0, 0, LONG_LIMIT, &d->goal_within_ms);
	d->has_goal = 1;
	pop(p, mark);
	return rc;
}

static int parse_quiet(struct parser *p, const json_t *root, struct jny_def *d)
{
	static const char *const keys[] = {"start", "end", NULL};
	const json_t *q = json_object_get(root, "quiet_hours");
	if (get_bool(p, root, "advertising", &d->advertising) < 0)
		return -1;
	if (!q) {
		d->quiet_start = d->advertising ? 21 * 60 : -1;
		d->quiet_end = d->advertising ? 8 * 60 : -1;
		return 0;
	}
	if (json_is_false(q))
		return 0;
	if (!json_is_object(q))
		return fail(p, "quiet_hours",
			    "\"quiet_hours\" must be {\"start\": \"21:00\", \"end\": \"08:00\"} or false (none).");
	size_t mark = push_key(p, "quiet_hours");
	int rc = check_keys(p, q, keys, NULL, "\"quiet_hours\"");
	if (rc == 0)
		rc = get_time(p, q, "start", 1, &d->quiet_start);
	if (rc == 0)
		rc = get_time(p, q, "end", 1, &d->quiet_end);
	if (rc == 0 && d->quiet_start == d->quiet_end)
		rc = fail(p, "end", "Quiet hours start and end at the same time; give a range such as 21:00 to 08:00.");
	pop(p, mark);
	return rc;
}

static const char *const top_keys[] = {"name",	      "trigger",  "entry", "exit_on", "goal", "quiet_hours",
				       "advertising", "timezone", "start", "nodes",   "layout", NULL};

/* "layout": where the web builder drew each node, {"intro": {"x": 0, "y": 80}}.
 * Kept with the definition so a drawn journey looks the same when reopened;
 * node ids that no longer exist are dropped. */
static int parse_layout(struct parser *p, const json_t *root, struct jny_def *d)
{
	const json_t *l = json_object_get(root, "layout");
	if (!l || json_is_null(l))
		return 0;
	if (!json_is_object(l))
		return fail(p, "layout", "\"layout\" is an object of node positions like {\"intro\": {\"x\": 0, \"y\": 80}}.");
	json_t *out = json_object();
	const char *id;
	json_t *pos;
	json_object_foreach ((json_t *)l, id, pos) {
		const json_t *x = json_object_get(pos, "x"), *y = json_object_get(pos, "y");
		if (!json_is_object(pos) || json_object_size(pos) != 2 || !json_is_number(x) || !json_is_number(y)) {
			json_decref(out);
			size_t mark = push_key(p, "layout");
			fail(p, id, "A node position is {\"x\": number, \"y\": number}.");
			pop(p, mark);
			return -1;
		}
		if (find_id(p, id) >= 0)
			json_object_set_new(out, id, json_pack("{s:f,s:f}", "x", json_number_value(x), "y", json_number_value(y)));
	}
	d->layout = out;
	return 0;
}

struct jny_def *jny_parse(const json_t *json, struct cairn_err *err)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct parser p;
	memset(&p, 0, sizeof p);
	buf_init(&p.path, 8192);
	p.err = err ? err : &local;
	struct jny_def *d = xcalloc(1, sizeof *d);
	d->trigger.at_minute = -1;
	d->quiet_start = d->quiet_end = -1;
	d->advertising = 1;
	d->start = JNY_NONE;
	int rc = -1;
	if (!json_is_object(json)) {
		fail(&p, NULL, "A journey definition is a JSON object with \"name\", \"trigger\" and \"nodes\".");
		goto out;
	}
	if (check_keys(&p, json, top_keys, NULL, "a journey") < 0)
		goto out;
	if (get_str(&p, json, "name", 1, MAX_NAME, "journey's name", &d->name) < 0)
		goto out;
	if (parse_trigger(&p, json, d) < 0 || parse_entry(&p, json, d) < 0 || parse_exit_on(&p, json, d) < 0 ||
	    parse_goal(&p, json, d) < 0 || parse_quiet(&p, json, d) < 0)
		goto out;
	if (get_str(&p, json, "timezone", 0, 64, "time zone (IANA, e.g. \"Asia/Seoul\")", &d->timezone) < 0)
		goto out;
	if (d->timezone && !tz_valid(d->timezone)) {
		fail(&p, "timezone", "\"%.*s\" is not a known IANA time zone; use a name such as \"Asia/Seoul\".",
		     QUOTE(d->timezone));
		goto out;
	}
	if (parse_nodes(&p, json, d) < 0)
		goto out;
	if (get_ref(&p, json, "start", &d->start) < 0 || parse_layout(&p, json, d) < 0)
		goto out;
	if (d->start == JNY_NONE)
		d->start = 0;
	rc = 0;
out:
	free(p.ids);
	buf_release(&p.path);
	if (rc < 0) {
		jny_free(d);
		return NULL;
	}
	return d;
}

/* ---- freeing -------------------------------------------------------------- */

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void node_release(struct jny_node *n)
{
	free(n->id);
	free(n->channel);
	free(n->template_id);
	json_decref(n->inline_template);
	for (size_t i = 0; i < n->nsend_variants; i++) {
		free(n->send_variants[i].name);
		free(n->send_variants[i].template_id);
		json_decref(n->send_variants[i].inline_template);
	}
	free(n->send_variants);
	free_strs(n->fallback, n->nfallback);
	match_release(&n->wait);
	for (size_t i = 0; i < n->nbranches; i++)
		cond_free(n->branches[i].when);
	free(n->branches);
	for (size_t i = 0; i < n->nvariants; i++)
		free(n->variants[i].name);
	free(n->variants);
	free_strs(n->tags_add, n->ntags_add);
	free_strs(n->tags_remove, n->ntags_remove);
	json_decref(n->set_traits);
	free(n->lifecycle);
	json_decref(n->score);
	free(n->url);
	free(n->body);
	free(n->slack_channel);
	free(n->text);
}

void jny_free(struct jny_def *d)
{
	if (!d)
		return;
	free(d->name);
	json_decref(d->layout);
	match_release(&d->trigger.match);
	free(d->trigger.segment);
	free(d->trigger.trait);
	json_decref(d->trigger.from);
	json_decref(d->trigger.to);
	free(d->trigger.cron);
	for (size_t i = 0; i < d->nexit_on; i++)
		match_release(&d->exit_on[i]);
	free(d->exit_on);
	match_release(&d->goal);
	free(d->timezone);
	for (size_t i = 0; i < d->nnodes; i++)
		node_release(&d->nodes[i]);
	free(d->nodes);
	free(d);
}

/* ---- names and lookups ---------------------------------------------------- */

int jny_node_index(const struct jny_def *d, const char *id)
{
	for (size_t i = 0; i < d->nnodes; i++) {
		if (!strcmp(d->nodes[i].id, id))
			return (int)i;
	}
	return JNY_NONE;
}

const char *jny_node_type_name(enum jny_node_type t)
{
	if ((size_t)t >= NNODE_DEFS)
		return "unknown";
	return node_defs[t].name;
}

const char *jny_trigger_type_name(enum jny_trigger_type t)
{
	if ((size_t)t >= NTRIGGERS)
		return "unknown";
	return trigger_defs[t].name;
}

static void edge_add(struct jny_edge *out, size_t *k, int to, enum jny_edge_kind kind, int index)
{
	if (to == JNY_NONE)
		return;
	out[*k].to = to;
	out[*k].kind = kind;
	out[*k].index = index;
	(*k)++;
}

size_t jny_edges(const struct jny_node *n, struct jny_edge *out)
{
	size_t k = 0;
	switch (n->type) {
	case JN_BRANCH:
		for (size_t i = 0; i < n->nbranches && i < JNY_MAX_BRANCHES; i++)
			edge_add(out, &k, n->branches[i].next, JE_BRANCH, (int)i);
		edge_add(out, &k, n->else_next, JE_ELSE, 0);
		break;
	case JN_SPLIT:
		for (size_t i = 0; i < n->nvariants && i < JNY_MAX_VARIANTS; i++)
			edge_add(out, &k, n->variants[i].next, JE_VARIANT, (int)i);
		break;
	case JN_WAIT_EVENT:
		edge_add(out, &k, n->next, JE_NEXT, 0);
		edge_add(out, &k, n->timeout_next, JE_TIMEOUT, 0);
		break;
	default: edge_add(out, &k, n->next, JE_NEXT, 0); break;
	}
	return k;
}

/* ---- back to JSON ------------------------------------------------------- */

/* A duration in days, hours and minutes (no zero units; signed). */
static json_t *dur_json(int64_t ms)
{
	static const char *const units[] = {"days", "hours", "minutes"};
	static const int64_t unit_ms[] = {86400000, 3600000, 60000};
	json_t *o = json_object();
	int64_t left = ms;
	for (size_t i = 0; i < 3; i++) {
		int64_t q = left / unit_ms[i];
		left -= q * unit_ms[i];
		if (q)
			json_object_set_new(o, units[i], json_integer((json_int_t)q));
	}
	return o;
}

static json_t *time_json(int minute)
{
	char s[8];
	snprintf(s, sizeof s, "%02d:%02d", (minute / 60) % 100, minute % 60);
	return json_string(s);
}

static void match_json(json_t *o, const struct jny_event_match *m)
{
	json_object_set_new(o, "event", json_string(m->event));
	if (m->where)
		json_object_set_new(o, "where", cond_to_json(m->where));
}

static void ref_json(json_t *o, const char *key, const struct jny_def *d, int idx)
{
	if (idx != JNY_NONE)
		json_object_set_new(o, key, json_string(d->nodes[idx].id));
}

static json_t *template_json(const char *id, const json_t *inl)
{
	return id ? json_string(id) : json_deep_copy(inl);
}

static json_t *strs_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *trigger_json(const struct jny_def *d)
{
	json_t *t = json_object();
	json_object_set_new(t, "type", json_string(jny_trigger_type_name(d->trigger.type)));
	switch (d->trigger.type) {
	case JT_EVENT: match_json(t, &d->trigger.match); break;
	case JT_SEGMENT_ENTERED:
	case JT_SEGMENT_EXITED: json_object_set_new(t, "segment", json_string(d->trigger.segment)); break;
	case JT_TRAIT_CHANGED:
		json_object_set_new(t, "trait", json_string(d->trigger.trait));
		if (d->trigger.from)
			json_object_set_new(t, "from", json_deep_copy(d->trigger.from));
		if (d->trigger.to)
			json_object_set_new(t, "to", json_deep_copy(d->trigger.to));
		break;
	case JT_DATE:
		json_object_set_new(t, "trait", json_string(d->trigger.trait));
		if (d->trigger.offset_ms)
			json_object_set_new(t, "offset", dur_json(d->trigger.offset_ms));
		if (d->trigger.at_minute >= 0)
			json_object_set_new(t, "at", time_json(d->trigger.at_minute));
		break;
	case JT_CONTENT_PUBLISHED:
	case JT_MANUAL: break;
	case JT_BROADCAST:
		json_object_set_new(t, "segment", json_string(d->trigger.segment));
		if (d->trigger.at_ms)
			json_object_set_new(t, "at", jsonx_time(d->trigger.at_ms));
		else if (d->trigger.at_minute >= 0)
			json_object_set_new(t, "at", time_json(d->trigger.at_minute));
		if (d->trigger.cron)
			json_object_set_new(t, "cron", json_string(d->trigger.cron));
		break;
	}
	return t;
}

static json_t *node_json(const struct jny_def *d, const struct jny_node *n)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(n->id));
	json_object_set_new(o, "type", json_string(jny_node_type_name(n->type)));
	switch (n->type) {
	case JN_SEND:
		json_object_set_new(o, "channel", json_string(n->channel));
		if (n->send_variants) {
			json_t *a = json_array();
			for (size_t i = 0; i < n->nsend_variants; i++) {
				const struct jny_send_variant *v = &n->send_variants[i];
				json_array_append_new(a, json_pack("{s:s,s:i,s:o}", "name", v->name, "weight",
								   v->weight, "template",
								   template_json(v->template_id, v->inline_template)));
			}
			json_object_set_new(o, "variants", a);
		} else {
			json_object_set_new(o, "template", template_json(n->template_id, n->inline_template));
		}
		if (n->nfallback)
			json_object_set_new(o, "fallback", strs_json(n->fallback, n->nfallback));
		if (n->advertising >= 0)
			json_object_set_new(o, "advertising", json_boolean(n->advertising));
		break;
	case JN_WAIT:
		if (n->duration_ms)
			json_object_set_new(o, "duration", dur_json(n->duration_ms));
		if (n->until_minute >= 0 || n->weekdays) {
			json_t *u = json_object();
			if (n->until_minute >= 0)
				json_object_set_new(u, "time", time_json(n->until_minute));
			if (n->weekdays) {
				json_t *a = json_array();
				for (int k = 1; k <= 7; k++) {
					if (n->weekdays & (1u << (k % 7)))
						json_array_append_new(a, json_string(weekdays[k % 7]));
				}
				json_object_set_new(u, "weekdays", a);
			}
			json_object_set_new(o, "until", u);
		}
		break;
	case JN_WAIT_EVENT:
		match_json(o, &n->wait);
		json_object_set_new(o, "timeout", dur_json(n->timeout_ms));
		ref_json(o, "next", d, n->next);
		ref_json(o, "timeout_next", d, n->timeout_next);
		return o;
	case JN_BRANCH: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->nbranches; i++) {
			json_t *b = json_object();
			json_object_set_new(b, "when", cond_to_json(n->branches[i].when));
			ref_json(b, "next", d, n->branches[i].next);
			json_array_append_new(a, b);
		}
		json_object_set_new(o, "branches", a);
		ref_json(o, "else", d, n->else_next);
		break;
	}
	case JN_SPLIT: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->nvariants; i++) {
			json_t *v =
				json_pack("{s:s,s:i}", "name", n->variants[i].name, "weight", n->variants[i].weight);
			ref_json(v, "next", d, n->variants[i].next);
			json_array_append_new(a, v);
		}
		json_object_set_new(o, "variants", a);
		json_object_set_new(o, "holdout", json_integer(n->holdout_pct));
		break;
	}
	case JN_UPDATE:
		if (n->ntags_add)
			json_object_set_new(o, "tags_add", strs_json(n->tags_add, n->ntags_add));
		if (n->ntags_remove)
			json_object_set_new(o, "tags_remove", strs_json(n->tags_remove, n->ntags_remove));
		if (n->set_traits)
			json_object_set_new(o, "set", json_deep_copy(n->set_traits));
		if (n->lifecycle)
			json_object_set_new(o, "lifecycle", json_string(n->lifecycle));
		if (n->score)
			json_object_set_new(o, "score", json_deep_copy(n->score));
		break;
	case JN_WEBHOOK:
		json_object_set_new(o, "url", json_string(n->url));
		if (n->body)
			json_object_set_new(o, "body", json_string(n->body));
		break;
	case JN_SLACK:
		json_object_set_new(o, "channel", json_string(n->slack_channel));
		json_object_set_new(o, "text", json_string(n->text));
		break;
	case JN_GOAL:
	case JN_EXIT: break;
	}
	ref_json(o, "next", d, n->next);
	return o;
}

json_t *jny_to_json(const struct jny_def *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "trigger", trigger_json(d));
	json_t *entry = json_object();
	if (d->reentry == JR_AFTER)
		json_object_set_new(entry, "reentry", json_pack("{s:o}", "after", dur_json(d->reentry_after_ms)));
	else
		json_object_set_new(entry, "reentry", json_string(d->reentry == JR_ALWAYS ? "always" : "never"));
	json_object_set_new(o, "entry", entry);
	if (d->nexit_on) {
		json_t *a = json_array();
		for (size_t i = 0; i < d->nexit_on; i++) {
			json_t *x = json_object();
			match_json(x, &d->exit_on[i]);
			json_array_append_new(a, x);
		}
		json_object_set_new(o, "exit_on", a);
	}
	if (d->has_goal) {
		json_t *g = json_object();
		match_json(g, &d->goal);
		if (d->goal_within_ms)
			json_object_set_new(g, "within", dur_json(d->goal_within_ms));
		json_object_set_new(o, "goal", g);
	}
	if (d->quiet_start >= 0)
		json_object_set_new(
			o, "quiet_hours",
			json_pack("{s:o,s:o}", "start", time_json(d->quiet_start), "end", time_json(d->quiet_end)));
	else
		json_object_set_new(o, "quiet_hours", json_false());
	json_object_set_new(o, "advertising", json_boolean(d->advertising));
	if (d->timezone)
		json_object_set_new(o, "timezone", json_string(d->timezone));
	json_object_set_new(o, "start", json_string(d->nodes[d->start].id));
	json_t *nodes = json_array();
	for (size_t i = 0; i < d->nnodes; i++)
		json_array_append_new(nodes, node_json(d, &d->nodes[i]));
	json_object_set_new(o, "nodes", nodes);
	if (d->layout && json_object_size(d->layout))
		json_object_set(o, "layout", d->layout);
	return o;
}
