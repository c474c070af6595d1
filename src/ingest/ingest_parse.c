/* ingest_parse.c — validation and normalization of Tracking API bodies.
 *
 * A request is validated whole before anything is stored: the first bad
 * message rejects the batch, and the error names its index and field
 * ("batch[3].userId"). Normalization makes every stored message carry
 * type, messageId, timestamp (skew-corrected), receivedAt and, when sent,
 * originalTimestamp and sentAt, so readers never re-derive them. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/shard.h"
#include "core/xalloc.h"
#include "ingest/ingest.h"

static const char *const kind_names[] = {"identify", "track", "page", "screen", "group", "alias", "batch"};

int ingest_kind_from_name(const char *name)
{
	if (!strcmp(name, "import"))
		return INGEST_BATCH;
	for (int i = 0; i <= INGEST_BATCH; i++)
		if (!strcmp(kind_names[i], name))
			return i;
	return -1;
}

const char *ingest_kind_name(enum ingest_kind k)
{
	return kind_names[k];
}

static const char *const consent_statuses[] = {"subscribed", "unsubscribed", "unknown"};
static const char *const lifecycle_stages[] = {"subscriber", "lead", "mql", "sql", "opportunity", "customer", "dormant"};

static int in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

struct ctx {
	struct cairn_err *err;
	char path[96]; /* "" for a single message, "batch[3]" in a batch */
};

static int fail(struct ctx *c, const char *field, const char *fmt, const char *a, const char *b)
{
	char where[160];
	if (c->path[0])
		snprintf(where, sizeof where, "%s.%s", c->path, field);
	else
		snprintf(where, sizeof where, "%s", field);
	char msg[400];
	snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
	return cairn_err_set(c->err, CAIRN_EINVAL, "invalid_message", where, "%s: %s", where, msg);
}

/* An id may be sent as a string or a number (Segment coerces numbers). */
static int get_id(struct ctx *c, json_t *msg, const char *key, char **out)
{
	json_t *v = json_object_get(msg, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (json_string_length(v) == 0)
			return 0;
		if (json_string_length(v) > 1024)
			return fail(c, key, "is longer than 1024 characters%s%s", NULL, NULL);
		*out = xstrndup(json_string_value(v), json_string_length(v));
		return 0;
	}
	if (json_is_integer(v)) {
		char n[32];
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
		*out = xstrdup(n);
		json_object_set_new(msg, key, json_string(n));
		return 0;
	}
	return fail(c, key, "must be a string, not %s%s", jsonx_type_name(v), NULL);
}

static int get_time(struct ctx *c, json_t *msg, const char *key, int64_t *ms, int *present)
{
	json_t *v = json_object_get(msg, key);
	*present = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || clock_parse_rfc3339(json_string_value(v), ms) < 0)
		return fail(c, key, "must be an ISO 8601 date-time such as 2026-03-02T10:00:00+09:00%s%s", NULL, NULL);
	*present = 1;
	return 0;
}

static int check_object(struct ctx *c, json_t *msg, const char *key)
{
	json_t *v = json_object_get(msg, key);
	if (v && !json_is_object(v) && !json_is_null(v))
		return fail(c, key, "must be an object, not %s%s", jsonx_type_name(v), NULL);
	return 0;
}

static int valid_timezone(const char *tz)
{
	UChar id[128], canon[128];
	int32_t n = 0;
	for (const char *p = tz; *p; p++) {
		if (n >= 127 || (unsigned char)*p >= 0x80)
			return 0;
		id[n++] = (UChar)*p;
	}
	UErrorCode status = U_ZERO_ERROR;
	UBool system = 0;
	ucal_getCanonicalTimeZoneID(id, n, canon, 128, &system, &status);
	return U_SUCCESS(status) && system;
}

static int check_consent(struct ctx *c, json_t *consent)
{
	if (!json_is_object(consent))
		return fail(c, "traits.consent", "must be an object such as {\"email\":\"subscribed\"}%s%s", NULL, NULL);
	const char *ch;
	json_t *v;
	json_object_foreach(consent, ch, v)
	{
		if (!strcmp(ch, "topics")) {
			if (!json_is_object(v))
				return fail(c, "traits.consent.topics", "must be an object of topic: status%s%s", NULL, NULL);
			const char *t;
			json_t *s;
			json_object_foreach(v, t, s)
			{
				if (!json_is_string(s) || !in_list(json_string_value(s), consent_statuses, 3))
					return fail(c, "traits.consent.topics",
						    "topic '%s' must be \"subscribed\", \"unsubscribed\" or \"unknown\"%s", t,
						    NULL);
			}
			continue;
		}
		if (!json_is_string(v) || !in_list(json_string_value(v), consent_statuses, 3))
			return fail(c, "traits.consent", "channel '%s' must be \"subscribed\", \"unsubscribed\" or \"unknown\"%s",
				    ch, NULL);
	}
	return 0;
}

/* Reserved traits have types users rely on; everything else is free-form. */
static int check_traits(struct ctx *c, json_t *traits)
{
	static const char *const string_traits[] = {"email", "phone", "first_name", "last_name", "name",
						    "locale", "preferred_channel"};
	if (!traits)
		return 0;
	for (size_t i = 0; i < sizeof string_traits / sizeof string_traits[0]; i++) {
		json_t *v = json_object_get(traits, string_traits[i]);
		if (v && !json_is_string(v) && !json_is_null(v)) {
			char f[64];
			snprintf(f, sizeof f, "traits.%s", string_traits[i]);
			return fail(c, f, "must be a string, not %s%s", jsonx_type_name(v), NULL);
		}
	}
	json_t *tz = json_object_get(traits, "timezone");
	if (tz && !json_is_null(tz) && (!json_is_string(tz) || !valid_timezone(json_string_value(tz))))
		return fail(c, "traits.timezone", "must be an IANA time zone such as \"Asia/Seoul\"%s%s", NULL, NULL);
	json_t *ca = json_object_get(traits, "created_at");
	int64_t ms;
	if (ca && json_is_string(ca) && clock_parse_rfc3339(json_string_value(ca), &ms) < 0)
		return fail(c, "traits.created_at", "must be an ISO 8601 date-time%s%s", NULL, NULL);
	json_t *lc = json_object_get(traits, "lifecycle_stage");
	if (lc && !json_is_null(lc) &&
	    (!json_is_string(lc) ||
	     !in_list(json_string_value(lc), lifecycle_stages, sizeof lifecycle_stages / sizeof lifecycle_stages[0])))
		return fail(c, "traits.lifecycle_stage",
			    "must be one of subscriber, lead, mql, sql, opportunity, customer, dormant%s%s", NULL, NULL);
	json_t *consent = json_object_get(traits, "consent");
	if (consent && !json_is_null(consent))
		return check_consent(c, consent);
	return 0;
}

static void new_message_id(char *out, size_t cap)
{
	unsigned char r[16];
	randombytes_buf(r, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static void msg_release(struct ingest_msg *m)
{
	free(m->type);
	free(m->name);
	free(m->message_id);
	free(m->user_id);
	free(m->anonymous_id);
	free(m->body);
	memset(m, 0, sizeof *m);
}

/* Validates and normalizes msg in place; fills m. */
static int one_message(struct ctx *c, json_t *msg, enum ingest_kind kind, int64_t received_at, int check_size,
		       struct ingest_msg *m)
{
	memset(m, 0, sizeof *m);
	if (!json_is_object(msg))
		return fail(c, "type", "each message must be an object, not %s%s", jsonx_type_name(msg), NULL);
	if (check_size) {
		size_t sz = json_dumpb(msg, NULL, 0, JSON_COMPACT);
		if (sz > INGEST_MAX_MESSAGE) {
			char where[128];
			snprintf(where, sizeof where, "%s", c->path[0] ? c->path : "message");
			return cairn_err_set(c->err, CAIRN_ETOOBIG, "message_too_large", where,
					     "%s is %zu bytes; a message may be at most 32 KB.", where, sz);
		}
	}
	if (kind == INGEST_BATCH) {
		const char *t = jsonx_str(msg, "type");
		int k = t ? ingest_kind_from_name(t) : -1;
		if (k < 0 || k == INGEST_BATCH)
			return fail(c, "type",
				    "must be one of identify, track, page, screen, group, alias (got %s)%s",
				    t ? t : "nothing", NULL);
		kind = (enum ingest_kind)k;
	}
	if (get_id(c, msg, "userId", &m->user_id) < 0 || get_id(c, msg, "anonymousId", &m->anonymous_id) < 0)
		return -1;
	if (!m->user_id && !m->anonymous_id)
		return fail(c, "userId", "every message needs a userId or an anonymousId%s%s", NULL, NULL);
	if (check_object(c, msg, "properties") < 0 || check_object(c, msg, "traits") < 0 ||
	    check_object(c, msg, "context") < 0 || check_object(c, msg, "integrations") < 0)
		return -1;
	json_t *traits = json_object_get(msg, "traits");
	if (!traits) /* analytics.js sends identify traits in context.traits too */
		traits = json_object_get(json_object_get(msg, "context"), "traits");
	if (kind == INGEST_IDENTIFY || kind == INGEST_GROUP) {
		if (json_is_object(traits) && kind == INGEST_IDENTIFY && check_traits(c, traits) < 0)
			return -1;
	}
	const char *name = NULL;
	json_t *ev = json_object_get(msg, "event");
	switch (kind) {
	case INGEST_TRACK:
		if (!json_is_string(ev) || json_string_length(ev) == 0)
			return fail(c, "event", "track needs an event name (a non-empty string)%s%s", NULL, NULL);
		if (json_string_length(ev) > 200)
			return fail(c, "event", "is longer than 200 characters%s%s", NULL, NULL);
		name = json_string_value(ev);
		break;
	case INGEST_PAGE:
	case INGEST_SCREEN: {
		json_t *n = json_object_get(msg, "name");
		if (n && !json_is_string(n) && !json_is_null(n))
			return fail(c, "name", "must be a string%s%s", NULL, NULL);
		name = json_is_string(n) ? json_string_value(n) : NULL;
		break;
	}
	case INGEST_GROUP: {
		char *gid = NULL;
		if (get_id(c, msg, "groupId", &gid) < 0)
			return -1;
		if (!gid)
			return fail(c, "groupId", "group needs a groupId%s%s", NULL, NULL);
		free(gid);
		break;
	}
	case INGEST_ALIAS: {
		char *prev = NULL;
		if (get_id(c, msg, "previousId", &prev) < 0)
			return -1;
		if (!prev)
			return fail(c, "previousId", "alias needs a previousId%s%s", NULL, NULL);
		if (!m->user_id) {
			free(prev);
			return fail(c, "userId", "alias needs a userId%s%s", NULL, NULL);
		}
		free(prev);
		break;
	}
	default:
		break;
	}
	json_t *mid = json_object_get(msg, "messageId");
	char idbuf[48];
	if (mid && !json_is_null(mid)) {
		if (!json_is_string(mid) || json_string_length(mid) == 0)
			return fail(c, "messageId", "must be a non-empty string%s%s", NULL, NULL);
		if (json_string_length(mid) >= INGEST_MAX_MESSAGE_ID)
			return fail(c, "messageId", "must be under 100 characters%s%s", NULL, NULL);
		m->message_id = xstrdup(json_string_value(mid));
	} else {
		new_message_id(idbuf, sizeof idbuf);
		m->message_id = xstrdup(idbuf);
		json_object_set_new(msg, "messageId", json_string(idbuf));
	}

	int64_t ts = received_at, sent = 0, t1;
	int has_ts, has_orig, has_sent;
	if (get_time(c, msg, "timestamp", &t1, &has_ts) < 0)
		return -1;
	if (has_ts) {
		ts = t1;
	} else {
		if (get_time(c, msg, "originalTimestamp", &t1, &has_orig) < 0)
			return -1;
		if (has_orig)
			ts = t1;
		has_ts = has_orig;
	}
	if (get_time(c, msg, "sentAt", &sent, &has_sent) < 0)
		return -1;
	if (has_ts && has_sent) {
		/* the client's clock is off by (sentAt - receivedAt); so is timestamp */
		if (!json_object_get(msg, "originalTimestamp"))
			json_object_set(msg, "originalTimestamp", json_object_get(msg, "timestamp"));
		ts = received_at - (sent - ts);
	}
	json_object_set_new(msg, "type", json_string(kind_names[kind]));
	json_object_set_new(msg, "timestamp", jsonx_time(ts));
	json_object_set_new(msg, "receivedAt", jsonx_time(received_at));
	json_object_del(msg, "writeKey");

	m->type = xstrdup(kind_names[kind]);
	m->name = name ? xstrdup(name) : NULL;
	m->ts = ts;
	m->body = json_dumps(msg, JSON_COMPACT);
	m->body_len = strlen(m->body);
	return 0;
}

int ingest_parse(enum ingest_kind kind, const char *body, size_t len, int64_t received_at, struct ingest_batch *out,
		 struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	if (len > INGEST_MAX_REQUEST)
		return cairn_err_set(err, CAIRN_ETOOBIG, "request_too_large", "",
				     "The request is %zu bytes; a request may be at most 500 KB. Send smaller batches.", len);
	json_t *root = jsonx_parse(body, len, INGEST_MAX_DEPTH, 1, err);
	if (!root)
		return err->code;
	struct ctx c = {.err = err, .path = ""};
	int rc = 0;
	json_t *wk = json_object_get(root, "writeKey");
	if (json_is_string(wk))
		out->write_key = xstrdup(json_string_value(wk));
	int check_size = len > INGEST_MAX_MESSAGE;
	if (kind == INGEST_BATCH) {
		json_t *arr = json_object_get(root, "batch");
		if (!json_is_array(arr)) {
			rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_batch", "batch",
					   "The body needs a \"batch\" array of messages.");
			goto done;
		}
		size_t n = json_array_size(arr);
		if (n > INGEST_MAX_BATCH) {
			rc = cairn_err_set(err, CAIRN_ETOOBIG, "batch_too_large", "batch",
					   "The batch has %zu messages; send at most 2500 per request.", n);
			goto done;
		}
		json_t *shared_ctx = json_object_get(root, "context");
		json_t *shared_int = json_object_get(root, "integrations");
		out->msgs = xcalloc(n ? n : 1, sizeof *out->msgs);
		for (size_t i = 0; i < n; i++) {
			json_t *m = json_array_get(arr, i);
			snprintf(c.path, sizeof c.path, "batch[%zu]", i);
			if (json_is_object(m)) {
				/* batch-level context and integrations apply to every message */
				if (json_is_object(shared_ctx) && !json_object_get(m, "context"))
					json_object_set(m, "context", shared_ctx);
				if (json_is_object(shared_int) && !json_object_get(m, "integrations"))
					json_object_set(m, "integrations", shared_int);
			}
			rc = one_message(&c, m, INGEST_BATCH, received_at, check_size, &out->msgs[i]);
			out->n = i + 1;
			if (rc < 0)
				goto done;
		}
	} else {
		out->msgs = xcalloc(1, sizeof *out->msgs);
		out->n = 1;
		rc = one_message(&c, root, kind, received_at, check_size, &out->msgs[0]);
	}
done:
	json_decref(root);
	if (rc < 0) {
		ingest_batch_release(out);
		return err->code ? err->code : rc;
	}
	return 0;
}

void ingest_batch_release(struct ingest_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		msg_release(&b->msgs[i]);
	free(b->msgs);
	free(b->write_key);
	memset(b, 0, sizeof *b);
}

void ingest_batch_events(const struct ingest_batch *b, int64_t workspace_id, unsigned nshards, int64_t received_at,
			 struct store_event *out)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ingest_msg *m = &b->msgs[i];
		/* the shard follows the best-known identity at ingest time */
		const char *who = m->user_id ? m->user_id : m->anonymous_id;
		out[i] = (struct store_event){
			.workspace_id = workspace_id,
			.shard = shard_of(workspace_id, who, strlen(who), nshards),
			.type = m->type,
			.name = m->name,
			.message_id = m->message_id,
			.user_id = m->user_id,
			.anonymous_id = m->anonymous_id,
			.ts = m->ts,
			.received_at = received_at,
			.body = m->body,
			.body_len = m->body_len,
		};
	}
}

int ingest_internal_message(const char *type, const char *user_id, const char *anonymous_id, json_t *payload,
			    int64_t now, struct ingest_batch *out)
{
	memset(out, 0, sizeof *out);
	char idbuf[48];
	new_message_id(idbuf, sizeof idbuf);
	json_t *msg = json_pack("{s:s,s:s,s:O,s:o,s:o}", "type", type, "messageId", idbuf, "properties", payload,
				"timestamp", jsonx_time(now), "receivedAt", jsonx_time(now));
	if (user_id)
		json_object_set_new(msg, "userId", json_string(user_id));
	if (anonymous_id)
		json_object_set_new(msg, "anonymousId", json_string(anonymous_id));
	out->msgs = xcalloc(1, sizeof *out->msgs);
	out->n = 1;
	struct ingest_msg *m = &out->msgs[0];
	m->type = xstrdup(type);
	m->message_id = xstrdup(idbuf);
	m->user_id = user_id ? xstrdup(user_id) : NULL;
	m->anonymous_id = anonymous_id ? xstrdup(anonymous_id) : NULL;
	m->ts = now;
	m->body = json_dumps(msg, JSON_COMPACT);
	m->body_len = strlen(m->body);
	json_decref(msg);
	return 0;
}
