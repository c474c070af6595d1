/* ingest_parse.c — validation and normalization of Tracking API bodies.
 *
 * A request is validated whole before anything is stored: the first bad
 * message rejects the batch, and the error names its index and field
 * ("batch[3].userId").
 *
 * Speed: a message is stored as the bytes the client sent; the normalized
 * fields (type, messageId, ids, skew-corrected timestamp, receivedAt) are
 * log columns that readers merge in (store_read.c). Re-serializing every
 * message with jansson cost more than parsing it, so it is done only when the
 * stored bytes must differ from the sent ones (a batch-level context to
 * copy in, a writeKey to drop). To know each message's bytes, a batch is
 * walked element by element with jansson's JSON_DISABLE_EOF_CHECK, which
 * reports where each value ends (docs/decisions/0005-raw-message-bodies.md). */
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
static const char *const lifecycle_stages[] = {"subscriber",  "lead",	  "mql",    "sql",
					       "opportunity", "customer", "dormant"};

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
		return fail(c, "traits.consent", "must be an object such as {\"email\":\"subscribed\"}%s%s", NULL,
			    NULL);
	const char *ch;
	json_t *v;
	json_object_foreach (consent, ch, v) {
		if (!strcmp(ch, "topics")) {
			if (!json_is_object(v))
				return fail(c, "traits.consent.topics", "must be an object of topic: status%s%s", NULL,
					    NULL);
			const char *t;
			json_t *s;
			json_object_foreach (v, t, s) {
				if (!json_is_string(s) || !in_list(json_string_value(s), consent_statuses, 3))
					return fail(
						c, "traits.consent.topics",
						"topic '%s' must be \"subscribed\", \"unsubscribed\" or \"unknown\"%s",
						t, NULL);
			}
			continue;
		}
		if (!json_is_string(v) || !in_list(json_string_value(v), consent_statuses, 3))
			return fail(c, "traits.consent",
				    "channel '%s' must be \"subscribed\", \"unsubscribed\" or \"unknown\"%s", ch, NULL);
	}
	return 0;
}

/* Reserved traits have types users rely on; everything else is free-form. */
static int check_traits(struct ctx *c, json_t *traits)
{
	static const char *const string_traits[] = {"email", "phone",  "first_name",	   "last_name",
						    "name",  "locale", "preferred_channel"};
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
			    "must be one of subscriber, lead, mql, sql, opportunity, customer, dormant%s%s", NULL,
			    NULL);
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
	free(m->owned);
	memset(m, 0, sizeof *m);
}

/* What the batch around a message contributes. */
struct shared {
	json_t *context, *integrations;
	int64_t sent_at;
	int has_sent_at;
};

/* Validates msg, whose bytes as sent are raw[0..raw_len); fills m. */
static int one_message(struct ctx *c, json_t *msg, enum ingest_kind kind, int64_t received_at, const char *raw,
		       size_t raw_len, const struct shared *sh, struct ingest_msg *m)
{
	memset(m, 0, sizeof *m);
	if (!json_is_object(msg))
		return fail(c, "type", "each message must be an object, not %s%s", jsonx_type_name(msg), NULL);
	if (raw_len > INGEST_MAX_MESSAGE) {
		char where[128];
		snprintf(where, sizeof where, "%s", c->path[0] ? c->path : "message");
		return cairn_err_set(c->err, CAIRN_ETOOBIG, "message_too_large", where,
				     "%s is %zu bytes; a message may be at most 32 KB.", where, raw_len);
	}
	if (kind == INGEST_BATCH) {
		const char *t = jsonx_str(msg, "type");
		int k = t ? ingest_kind_from_name(t) : -1;
		if (k < 0 || k == INGEST_BATCH)
			return fail(c, "type", "must be one of identify, track, page, screen, group, alias (got %s)%s",
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
	default: break;
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
	if (!has_sent && sh && sh->has_sent_at) {
		sent = sh->sent_at;
		has_sent = 1;
	}
	if (has_ts && has_sent) /* the client's clock is off by (sentAt - receivedAt); so is timestamp */
		ts = received_at - (sent - ts);

	m->type = xstrdup(kind_names[kind]);
	m->name = name ? xstrdup(name) : NULL;
	m->ts = ts;
	/* store the bytes as sent unless they must change */
	int copy_ctx = sh && json_is_object(sh->context) && !json_object_get(msg, "context");
	int copy_int = sh && json_is_object(sh->integrations) && !json_object_get(msg, "integrations");
	if (copy_ctx || copy_int || json_object_get(msg, "writeKey")) {
		if (copy_ctx)
			json_object_set(msg, "context", sh->context);
		if (copy_int)
			json_object_set(msg, "integrations", sh->integrations);
		json_object_del(msg, "writeKey");
		m->owned = json_dumps(msg, JSON_COMPACT);
		m->body = m->owned;
		m->body_len = strlen(m->owned);
	} else {
		m->body = raw;
		m->body_len = raw_len;
	}
	return 0;
}

/* ---- walking a batch ---------------------------------------------------- */

static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

static void line_col(const char *p, size_t at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++) {
		if (p[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int syntax_error(struct cairn_err *err, const char *p, size_t at, const char *what)
{
	int line, col;
	line_col(p, at, &line, &col);
	return cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "",
			     "The body is not valid JSON: %s (line %d, column %d).", what, line, col);
}

/* Parses the JSON value at p[i] with jansson; *end is the byte after it. */
static json_t *value_at(const char *p, size_t i, size_t n, size_t *end, struct cairn_err *err)
{
	json_error_t je;
	json_t *v = jsonx_loadb(p + i, n - i, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (json_error_code(&je) == json_error_null_character)
			syntax_error(err, p, i + (size_t)(je.position > 0 ? je.position : 0),
				     "strings may not contain the NUL character (\\u0000)");
		else if (json_error_code(&je) == json_error_invalid_utf8)
			cairn_err_set(err, CAIRN_EINVAL, "invalid_utf8", "",
				      "The body is not valid UTF-8 (near byte %zu); send UTF-8 text.",
				      i + (size_t)je.position);
		else
			syntax_error(err, p, i + (size_t)(je.position > 0 ? je.position : 0), je.text);
		return NULL;
	}
	if (jsonx_depth(v, INGEST_MAX_DEPTH) > INGEST_MAX_DEPTH) {
		json_decref(v);
		cairn_err_set(err, CAIRN_EINVAL, "too_deep", "",
			      "The JSON is nested more than %d levels deep; flatten it.", INGEST_MAX_DEPTH);
		return NULL;
	}
	*end = i + (size_t)je.position;
	return v;
}

/* Walks {"batch":[m0, m1, …], other keys…}: every value is parsed by
 * jansson; this only steps over the punctuation of the two outer levels to
 * learn where each message's bytes are. */
static int parse_batch(const char *p, size_t n, int64_t received_at, struct ingest_batch *out, struct cairn_err *err)
{
	struct shared sh = {0};
	json_t *items = json_array(), *seen = json_object();
	size_t *starts = NULL, *ends = NULL, cap = 0, count = 0;
	int rc = 0, seen_batch = 0;
	size_t i = skip_ws(p, 0, n);
	if (i >= n || p[i] != '{') {
		rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "",
				   "The body must be a JSON object with a \"batch\" array.");
		goto done;
	}
	i = skip_ws(p, i + 1, n);
	int first = 1;
	while (rc == 0) {
		if (i < n && p[i] == '}' && first) {
			i++;
			break;
		}
		size_t end;
		json_t *key = value_at(p, i, n, &end, err);
		if (!key) {
			rc = -1;
			break;
		}
		if (!json_is_string(key)) {
			json_decref(key);
			rc = syntax_error(err, p, i, "expected a string key");
			break;
		}
		i = skip_ws(p, end, n);
		if (i >= n || p[i] != ':') {
			json_decref(key);
			rc = syntax_error(err, p, i, "expected ':'");
			break;
		}
		i = skip_ws(p, i + 1, n);
		const char *k = json_string_value(key);
		if (json_object_get(seen, k)) { /* as JSON_REJECT_DUPLICATES does */
			char what[96];
			snprintf(what, sizeof what, "duplicate object key '%.60s'", k);
			json_decref(key);
			rc = syntax_error(err, p, i, what);
			break;
		}
		json_object_set_new(seen, k, json_true());
		if (!strcmp(k, "batch")) {
			seen_batch++;
			if (i >= n || p[i] != '[') {
				json_decref(key);
				rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_batch", "batch",
						   "\"batch\" must be an array of messages.");
				break;
			}
			i = skip_ws(p, i + 1, n);
			if (i < n && p[i] == ']') {
				i++;
			} else {
				for (;;) {
					json_t *m = value_at(p, i, n, &end, err);
					if (!m) {
						rc = -1;
						break;
					}
					if (count == INGEST_MAX_BATCH) {
						json_decref(m);
						rc = cairn_err_set(err, CAIRN_ETOOBIG, "batch_too_large", "batch",
								   "The batch has more than 2500 messages; send at "
								   "most 2500 per request.");
						break;
					}
					xgrow((void **)&starts, &cap, count + 1, sizeof *starts);
					ends = xrealloc(ends, cap * sizeof *ends);
					starts[count] = i;
					ends[count] = end;
					count++;
					json_array_append_new(items, m);
					i = skip_ws(p, end, n);
					if (i < n && p[i] == ',') {
						i = skip_ws(p, i + 1, n);
						continue;
					}
					if (i < n && p[i] == ']') {
						i++;
						break;
					}
					rc = syntax_error(err, p, i, "expected ',' or ']' in the batch");
					break;
				}
			}
		} else {
			json_t *v = value_at(p, i, n, &end, err);
			if (!v) {
				json_decref(key);
				rc = -1;
				break;
			}
			if (!strcmp(k, "context"))
				sh.context = json_incref(v);
			else if (!strcmp(k, "integrations"))
				sh.integrations = json_incref(v);
			else if (!strcmp(k, "writeKey") && json_is_string(v))
				out->write_key = xstrdup(json_string_value(v));
			else if (!strcmp(k, "sentAt") && json_is_string(v) &&
				 clock_parse_rfc3339(json_string_value(v), &sh.sent_at) == 0)
				sh.has_sent_at = 1;
			json_decref(v);
			i = end;
		}
		json_decref(key);
		if (rc)
			break;
		i = skip_ws(p, i, n);
		first = 0;
		if (i < n && p[i] == ',') {
			i = skip_ws(p, i + 1, n);
			continue;
		}
		if (i < n && p[i] == '}') {
			i++;
			break;
		}
		rc = syntax_error(err, p, i, "expected ',' or '}'");
	}
	if (rc == 0 && skip_ws(p, i, n) != n)
		rc = syntax_error(err, p, i, "unexpected data after the JSON object");
	if (rc == 0 && !seen_batch)
		rc = cairn_err_set(err, CAIRN_EINVAL, "invalid_batch", "batch",
				   "The body needs a \"batch\" array of messages.");
	if (rc == 0) {
		struct ctx c = {.err = err, .path = ""};
		out->msgs = xcalloc(count ? count : 1, sizeof *out->msgs);
		for (size_t k = 0; k < count && rc == 0; k++) {
			snprintf(c.path, sizeof c.path, "batch[%zu]", k);
			rc = one_message(&c, json_array_get(items, k), INGEST_BATCH, received_at, p + starts[k],
					 ends[k] - starts[k], &sh, &out->msgs[k]);
			out->n = k + 1;
		}
	}
done:
	json_decref(items);
	json_decref(seen);
	json_decref(sh.context);
	json_decref(sh.integrations);
	free(starts);
	free(ends);
	return rc < 0 ? (err->code ? err->code : rc) : 0;
}

int ingest_parse(enum ingest_kind kind, const char *body, size_t len, int64_t received_at, struct ingest_batch *out,
		 struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	if (len > INGEST_MAX_REQUEST)
		return cairn_err_set(err, CAIRN_ETOOBIG, "request_too_large", "",
				     "The request is %zu bytes; a request may be at most 500 KB. Send smaller batches.",
				     len);
	if (len == 0)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "",
				     "The request body is empty; send a JSON object.");
	int rc;
	if (kind == INGEST_BATCH) {
		rc = parse_batch(body, len, received_at, out, err);
	} else {
		json_t *root = jsonx_parse(body, len, INGEST_MAX_DEPTH, 1, err);
		if (!root)
			return err->code;
		json_t *wk = json_object_get(root, "writeKey");
		if (json_is_string(wk))
			out->write_key = xstrdup(json_string_value(wk));
		struct ctx c = {.err = err, .path = ""};
		out->msgs = xcalloc(1, sizeof *out->msgs);
		out->n = 1;
		/* trailing whitespace is not part of the message */
		size_t n = len;
		while (n && (body[n - 1] == ' ' || body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == '\t'))
			n--;
		size_t start = skip_ws(body, 0, n);
		rc = one_message(&c, root, kind, received_at, body + start, n - start, NULL, &out->msgs[0]);
		json_decref(root);
	}
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

void ingest_batch_take(struct ingest_batch *into, struct ingest_batch *from)
{
	into->msgs = xrealloc(into->msgs, (into->n + from->n + 1) * sizeof *into->msgs);
	memcpy(into->msgs + into->n, from->msgs, from->n * sizeof *from->msgs);
	into->n += from->n;
	free(from->msgs);
	free(from->write_key);
	memset(from, 0, sizeof *from);
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
	m->owned = json_dumps(msg, JSON_COMPACT);
	m->body = m->owned;
	m->body_len = strlen(m->owned);
	json_decref(msg);
	return 0;
}
