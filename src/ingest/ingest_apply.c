/* ingest_apply.c — identity resolution and profile updates for one logged
 * event. Runs on the engine thread inside its transaction, in log order, so
 * the events of one user are applied one at a time and in order.
 *
 * Identity rules (Segment's semantics):
 *   1. A userId names one profile. An anonymousId names the profile it was
 *      last seen with.
 *   2. identify/track with userId U and anonymousId A, where A's profile is
 *      still anonymous: that profile becomes U's (or is merged into U's
 *      existing profile), so A's earlier events count for U.
 *   3. If A's profile already belongs to another user V (a shared device), A
 *      moves to U from now on; V keeps its history.
 *   4. alias(previousId P, userId U): P's profile (user or anonymous) is
 *      merged into U's; P stays a lookup key for U.
 *   5. Merging keeps the surviving profile's trait values on conflict, the
 *      union of identities, tags, groups and timeline, and the earliest
 *      first_seen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/xalloc.h"
#include "ingest/ingest.h"

/* An id field as a string (ids may arrive as numbers); NULL if absent. */
static const char *id_of(json_t *msg, const char *key, char *tmp, size_t cap)
{
	json_t *v = json_object_get(msg, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(tmp, cap, "%lld", (long long)json_integer_value(v));
		return tmp;
	}
	return NULL;
}

static int merge_into(struct store *st, int64_t ws, int64_t from, int64_t into, int64_t now, struct cairn_err *err)
{
	struct store_profile pf, pi;
	if (store_profile_get(st, from, &pf, err) < 0)
		return -1;
	if (store_profile_get(st, into, &pi, err) < 0) {
		store_profile_release(&pf);
		return -1;
	}
	/* into's values win: start from `from` and overlay `into` */
	json_object_update(pf.traits, pi.traits);
	json_decref(pi.traits);
	pi.traits = json_incref(pf.traits);
	if (pf.first_seen < pi.first_seen)
		pi.first_seen = pf.first_seen;
	if (pf.last_seen > pi.last_seen)
		pi.last_seen = pf.last_seen;
	if (!pi.lifecycle && pf.lifecycle) {
		pi.lifecycle = pf.lifecycle;
		pf.lifecycle = NULL;
	}
	pi.updated_at = now;
	int rc = store_profile_merge(st, ws, from, into, err);
	if (rc == 0)
		rc = store_profile_put(st, &pi, err);
	store_profile_release(&pf);
	store_profile_release(&pi);
	return rc;
}

/* Sets the user id of an anonymous profile. */
static int claim(struct store *st, int64_t ws, int64_t pid, const char *uid, int64_t now, struct cairn_err *err)
{
	struct store_profile p;
	if (store_profile_get(st, pid, &p, err) < 0)
		return -1;
	free(p.user_id);
	p.user_id = xstrdup(uid);
	p.updated_at = now;
	int rc = store_profile_put(st, &p, err);
	store_profile_release(&p);
	if (rc == 0)
		rc = store_identity_link(st, ws, STORE_ID_USER, uid, pid, now, err);
	return rc;
}

static int is_anonymous(struct store *st, int64_t pid, struct cairn_err *err, int *anon)
{
	struct store_profile p;
	if (store_profile_get(st, pid, &p, err) < 0)
		return -1;
	*anon = p.user_id == NULL;
	store_profile_release(&p);
	return 0;
}

static int resolve(struct store *st, int64_t ws, const char *uid, const char *aid, int64_t now, int64_t *out,
		   struct cairn_err *err)
{
	int64_t pu = 0, pa = 0;
	int has_u = uid && store_identity_find(st, ws, STORE_ID_USER, uid, &pu) == 0;
	int has_a = aid && store_identity_find(st, ws, STORE_ID_ANON, aid, &pa) == 0;
	int anon = 0;
	if (!uid) {
		if (has_a) {
			*out = pa;
			return 0;
		}
		if (store_profile_create(st, ws, NULL, now, out, err) < 0)
			return -1;
		return store_identity_link(st, ws, STORE_ID_ANON, aid, *out, now, err);
	}
	if (has_u) {
		*out = pu;
		if (!aid || (has_a && pa == pu))
			return 0;
		if (has_a) {
			if (is_anonymous(st, pa, err, &anon) < 0)
				return -1;
			if (anon)
				return merge_into(st, ws, pa, pu, now, err);
		}
		return store_identity_link(st, ws, STORE_ID_ANON, aid, pu, now, err);
	}
	if (has_a) {
		if (is_anonymous(st, pa, err, &anon) < 0)
			return -1;
		if (anon) {
			*out = pa;
			return claim(st, ws, pa, uid, now, err);
		}
	}
	if (store_profile_create(st, ws, uid, now, out, err) < 0 ||
	    store_identity_link(st, ws, STORE_ID_USER, uid, *out, now, err) < 0)
		return -1;
	return aid ? store_identity_link(st, ws, STORE_ID_ANON, aid, *out, now, err) : 0;
}

static int apply_consent(struct store *st, int64_t ws, int64_t pid, json_t *consent, int64_t at, const char *source,
			 struct cairn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach (consent, k, v) {
		if (!strcmp(k, "source"))
			continue; /* the management API's source, not a channel */
		if (!strcmp(k, "topics") && json_is_object(v)) {
			const char *t;
			json_t *s;
			json_object_foreach (v, t, s) {
				if (json_is_string(s) && store_consent_put(st, ws, pid, "topic", t,
									   json_string_value(s), at, source, err) < 0)
					return -1;
			}
		} else if (json_is_string(v)) {
			if (store_consent_put(st, ws, pid, "channel", k, json_string_value(v), at, source, err) < 0)
				return -1;
		}
	}
	return 0;
}

static const char *consent_source(json_t *msg, const char *dflt)
{
	const char *s = jsonx_str(json_object_get(msg, "context"), "consent_source");
	if (!s)
		s = jsonx_str(json_object_get(msg, "properties"), "source");
	return s ? s : dflt;
}

static int apply_identify(struct store *st, int64_t ws, int64_t pid, json_t *msg, const struct store_event *ev,
			  struct cairn_err *err)
{
	json_t *traits = json_object_get(msg, "traits");
	if (!json_is_object(traits))
		traits = json_object_get(json_object_get(msg, "context"), "traits");
	if (!json_is_object(traits))
		return 0;
	struct store_profile p;
	if (store_profile_get(st, pid, &p, err) < 0)
		return -1;
	json_t *consent = json_object_get(traits, "consent");
	int rc = 0;
	if (json_is_object(consent))
		rc = apply_consent(st, ws, pid, consent, ev->ts, consent_source(msg, "api"), err);
	const char *k;
	json_t *v;
	json_object_foreach (traits, k, v) {
		if (!strcmp(k, "consent"))
			continue;
		if (!strcmp(k, "lifecycle_stage") && json_is_string(v)) {
			free(p.lifecycle);
			p.lifecycle = xstrdup(json_string_value(v));
			continue;
		}
		if (json_is_null(v))
			json_object_del(p.traits, k);
		else
			json_object_set(p.traits, k, v);
	}
	p.updated_at = ev->ts > p.updated_at ? ev->ts : p.updated_at;
	if (rc == 0)
		rc = store_profile_put(st, &p, err);
	store_profile_release(&p);
	return rc;
}

int ingest_apply_event(struct store *st, const struct store_event *ev, int64_t *profile_id, struct cairn_err *err)
{
	int64_t ws = ev->workspace_id, pid;
	int rc = resolve(st, ws, ev->user_id, ev->anonymous_id, ev->ts, &pid, err);
	if (rc < 0)
		return rc;
	/* track, page and screen change nothing but the timeline: skip the JSON */
	int plain = !strcmp(ev->type, "track") || !strcmp(ev->type, "page") || !strcmp(ev->type, "screen");
	json_t *msg = NULL, *props = NULL;
	if (!plain) {
		msg = jsonx_loadb(ev->body, ev->body_len, 0, NULL);
		if (!msg) /* the engine skips it (logged) instead of stopping on it */
			return cairn_err_set(err, CAIRN_EUNPROC, "corrupt_event", "",
					     "Event %lld in the log is not JSON.", (long long)ev->id);
		props = json_object_get(msg, "properties");
	}
	if (plain) {
		/* nothing else to do */
	} else if (!strcmp(ev->type, "identify")) {
		rc = apply_identify(st, ws, pid, msg, ev, err);
	} else if (!strcmp(ev->type, "group")) {
		char tmp[32];
		const char *gid = id_of(msg, "groupId", tmp, sizeof tmp);
		rc = store_group_put(st, ws, gid, json_object_get(msg, "traits"), ev->ts, err);
		if (rc == 0)
			rc = store_group_member_add(st, ws, gid, pid, ev->ts, err);
	} else if (!strcmp(ev->type, "alias")) {
		char tmp[32];
		const char *prev = id_of(msg, "previousId", tmp, sizeof tmp);
		int64_t pp;
		if (store_identity_find(st, ws, STORE_ID_USER, prev, &pp) < 0 &&
		    store_identity_find(st, ws, STORE_ID_ANON, prev, &pp) < 0)
			pp = 0;
		if (pp && pp != pid)
			rc = merge_into(st, ws, pp, pid, ev->ts, err);
		if (rc == 0 && !pp)
			rc = store_identity_link(st, ws, STORE_ID_USER, prev, pid, ev->ts, err);
	} else if (!strcmp(ev->type, "consent")) {
		rc = apply_consent(st, ws, pid, props, ev->ts, consent_source(msg, "api"), err);
	} else if (!strcmp(ev->type, "tags")) {
		size_t i;
		json_t *t;
		json_array_foreach (json_object_get(props, "add"), i, t) {
			if (rc == 0 && json_is_string(t))
				rc = store_tag_add(st, ws, pid, json_string_value(t), ev->ts, err);
		}
		json_array_foreach (json_object_get(props, "remove"), i, t) {
			if (rc == 0 && json_is_string(t))
				rc = store_tag_remove(st, ws, pid, json_string_value(t), err);
		}
	} else if (!strcmp(ev->type, "lifecycle")) {
		struct store_profile p;
		rc = store_profile_get(st, pid, &p, err);
		if (rc == 0) {
			free(p.lifecycle);
			p.lifecycle = xstrdup(jsonx_str(props, "stage") ? jsonx_str(props, "stage") : "");
			p.updated_at = ev->ts;
			rc = store_profile_put(st, &p, err);
			store_profile_release(&p);
		}
	}
	if (rc == 0)
		rc = store_timeline_add(st, ws, pid, ev, err);
	if (rc == 0 && profile_id)
		*profile_id = pid;
	json_decref(msg);
	return rc;
}
