/* journey_engine.c — journeys in the engine (journey_engine.h).
 *
 * Cache: the running (live or paused) journeys of every workspace, parsed
 * once, reloaded when jny_invalidate bumps the generation; definitions of
 * older versions that instances still run are parsed on first use and kept
 * (versions never change). Only the engine thread touches the cache.
 *
 * Host: each run gets a struct ehost that turns the executor's callbacks
 * into store writes in the current transaction: history, per-node counts,
 * messages (rendered now, with the user's data), profile updates (applied
 * at once and logged as internal events, so a rebuild from the log agrees),
 * emitted Journey Entered / Exited / Goal Reached events. */
#include "journey/journey_engine.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "deliver/links.h"
#include "engine/engine.h"
#include "journey/journey_run.h"
#include "segment/segment.h"
#include "store/store_journey.h"
#include "store/store_seg_index.h"
#include "store/store_seg_live.h"
#include "store/store_templates.h"

#define DEFAULT_TZ "Asia/Seoul" /* the seeds' market; a workspace setting overrides it */

/* ---- cache ---------------------------------------------------------------------- */

struct running {
	int64_t ws, version;
	char *id;
	int live; /* 0 = paused */
	struct jny_def *def;
};

struct old_version {
	int64_t ws, version;
	char *id;
	struct jny_def *def;
};

/* A workspace's journey settings: its time zone and frequency caps. */
struct ws_settings {
	int64_t ws;
	char tz[64];
	json_t *caps; /* "frequency_caps" as stored, or NULL */
};

static struct {
	int64_t generation;
	struct running *run;
	size_t nrun;
	struct old_version *old;
	size_t nold;
	struct ws_settings *set;
	size_t nset;
} cache = {-1, NULL, 0, NULL, 0, NULL, 0};
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER; /* cache.set (see ws_settings) */
static _Atomic int64_t generation;

void jny_invalidate(void)
{
	atomic_fetch_add(&generation, 1);
}

static atomic_int enabled = 1;

void jny_enable(int on)
{
	atomic_store(&enabled, on);
}

static void cache_clear_running(void)
{
	pthread_mutex_lock(&set_lock);
	for (size_t i = 0; i < cache.nset; i++)
		json_decref(cache.set[i].caps);
	free(cache.set);
	cache.set = NULL;
	cache.nset = 0;
	pthread_mutex_unlock(&set_lock);
	for (size_t i = 0; i < cache.nrun; i++) {
		free(cache.run[i].id);
		jny_free(cache.run[i].def);
	}
	free(cache.run);
	cache.run = NULL;
	cache.nrun = 0;
}

static int cache_add(void *arg, int64_t ws, const char *id, const char *status, int64_t version, const char *text)
{
	(void)arg;
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *j = jsonx_loadb(text, strlen(text), 0, NULL);
	struct jny_def *d = j ? jny_parse(j, &e) : NULL;
	json_decref(j);
	if (!d) {
		log_error("a published journey no longer parses; it is skipped", "journey", id, "error", e.message,
			  NULL);
		return 0;
	}
	cache.run = xrealloc(cache.run, (cache.nrun + 1) * sizeof *cache.run);
	cache.run[cache.nrun++] = (struct running){ws, version, xstrdup(id), !strcmp(status, "live"), d};
	return 0;
}

static int cache_load(struct store *st, struct cairn_err *err)
{
	int64_t g = atomic_load(&generation);
	if (g == cache.generation)
		return 0;
	cache_clear_running();
	if (store_journeys_running(st, cache_add, NULL, err) < 0)
		return CAIRN_EIO;
	cache.generation = g;
	return 0;
}

static struct running *running_of(int64_t ws, const char *id)
{
	for (size_t i = 0; i < cache.nrun; i++)
		if (cache.run[i].ws == ws && !strcmp(cache.run[i].id, id))
			return &cache.run[i];
	return NULL;
}

struct jny_def *jny_load(struct store *st, int64_t ws, const char *id, int64_t version, struct cairn_err *err)
{
	if (version == 0) {
		struct store_journey j;
		if (store_journey_get(st, ws, id, &j, err) < 0)
			return NULL;
		version = j.live_version;
		store_journey_release(&j);
		if (!version) {
			cairn_err_set(err, CAIRN_ENOTFOUND, "version_not_found", "version",
				      "Journey '%s' has not been published yet.", id);
			return NULL;
		}
	}
	char *text = store_journey_version(st, ws, id, version, NULL, err);
	if (!text)
		return NULL;
	json_t *j = jsonx_loadb(text, strlen(text), 0, NULL);
	free(text);
	struct jny_def *d = j ? jny_parse(j, err) : NULL;
	if (!j)
		cairn_err_set(err, CAIRN_EIO, "storage_error", "", "A stored journey version is not JSON.");
	json_decref(j);
	return d;
}

/* The definition an instance runs (invariant 4); borrowed from the cache. */
static const struct jny_def *def_of(struct store *st, int64_t ws, const char *id, int64_t version,
				    struct cairn_err *err)
{
	struct running *r = running_of(ws, id);
	if (r && r->version == version)
		return r->def;
	for (size_t i = 0; i < cache.nold; i++)
		if (cache.old[i].ws == ws && cache.old[i].version == version && !strcmp(cache.old[i].id, id))
			return cache.old[i].def;
	struct jny_def *d = jny_load(st, ws, id, version, err);
	if (!d)
		return NULL;
	cache.old = xrealloc(cache.old, (cache.nold + 1) * sizeof *cache.old);
	cache.old[cache.nold++] = (struct old_version){ws, version, xstrdup(id), d};
	return d;
}

/* ---- the host: executor callbacks over the store --------------------------------- */

struct ehost {
	struct store *st;
	int64_t ws, pid, now;
	struct store_jny_instance *row;
	const struct jny_def *def;
	char *user_id, *anon_id;
	const char *user_key;
	char tz[64];
	struct seg_ctx sc;
	int sc_open;
	json_t *event; /* the event that caused this run (borrowed), or NULL */
	const char *last_node;
};

static int h_step(void *arg, const struct jny_node *n, const char *reason, struct cairn_err *err)
{
	struct ehost *h = arg;
	if (store_jny_step_add(h->st, h->row, n->id, h->now, reason, err) < 0)
		return CAIRN_EIO;
	h->row->steps++;
	h->last_node = n->id;
	return 0;
}

static int h_entered(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct ehost *h = arg;
	return store_jny_stat_add(h->st, h->ws, h->row->journey_id, h->row->version, n->id, 1, 0, 0, err);
}

/* A key naming this step's occurrence, for message ids and emitted events. */
static void step_key(const struct ehost *h, const char *what, char *out, size_t cap)
{
	snprintf(out, cap, "jny:%s:%lld:%lld", what, (long long)h->row->instance_id, (long long)h->row->steps);
}

static json_t *render_data(struct ehost *h, const struct jny_node *n, const char *message_id, const char *channel,
			   struct cairn_err *err)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *user = store_template_user(h->st, h->ws, h->user_id ? h->user_id : h->anon_id, &e);
	if (!user) {
		*err = e;
		return NULL;
	}
	char *wsname = store_template_workspace_name(h->st, h->ws);
	json_t *data = json_pack("{s:o,s:{s:s,s:I,s:s},s:{s:s,s:s},s:{s:s}}", "user", user, "journey", "id",
				 h->row->journey_id, "version", (json_int_t)h->row->version, "node", n->id, "message",
				 "id", message_id, "channel", channel, "workspace", "name", wsname ? wsname : "");
	free(wsname);
	if (h->event) {
		json_object_set(data, "event", h->event);
	} else { /* after a wait: the event that started the journey */
		char *text = store_jny_entry_event_get(h->st, h->row->instance_id);
		json_t *ev = text ? jsonx_loadb(text, strlen(text), 0, NULL) : NULL;
		free(text);
		if (ev)
			json_object_set_new(data, "event", ev);
	}
	json_object_set_new(data, "links", dlv_links_json(message_id));
	return data;
}

/* The id of the message this step queues: "msg_" + a hash of the step's key. */
static void message_id(const struct ehost *h, char id[48])
{
	char key[160];
	step_key(h, "msg", key, sizeof key);
	unsigned char hash[16];
	crypto_generichash(hash, sizeof hash, (const unsigned char *)key, strlen(key), NULL, 0);
	memcpy(id, "msg_", 4);
	sodium_bin2hex(id + 4, 48 - 4, hash, sizeof hash);
}

static int queue_message(struct ehost *h, const struct jny_node *n, const char *channel, const char *template_id,
			 const char *variant, int advertising, json_t *content, struct cairn_err *err)
{
	char id[48];
	message_id(h, id);
	char *text = json_dumps(content, JSON_COMPACT);
	struct store_message m = {.message_id = id,
				  .ws = h->ws,
				  .profile_id = h->pid,
				  .instance_id = h->row->instance_id,
				  .version = h->row->version,
				  .journey_id = h->row->journey_id,
				  .node = n->id,
				  .variant = variant,
				  .channel = channel,
				  .template_id = template_id,
				  .advertising = advertising,
				  .content = text,
				  .status = "queued",
				  .created_at = h->now,
				  .send_at = h->now};
	int rc = store_message_insert(h->st, &m, NULL, err);
	free(text);
	return rc;
}

static int h_send(void *arg, const struct jny_node *n, const char *channel, const char *template_id,
		  const json_t *inline_tpl, const char *variant, int advertising, struct cairn_err *err)
{
	struct ehost *h = arg;
	char id[48];
	message_id(h, id);
	json_t *data = render_data(h, n, id, channel, err);
	if (!data)
		return err->code ? err->code : CAIRN_EIO;
	json_t *rendered = NULL;
	int rc = template_id ? content_render_template(h->st, h->ws, template_id, 0, data, &rendered, NULL, err)
			     : content_render(h->st, h->ws, channel, inline_tpl, data, &rendered, NULL, err);
	json_decref(data);
	if (rc < 0) {
		/* a template that cannot render is the marketer's to fix: the user
		 * moves on and the step says why; the engine does not stop */
		char reason[600];
		snprintf(reason, sizeof reason, "not sent: %.500s", err->message);
		cairn_err_clear(err);
		return h_step(h, n, reason, err) < 0 ? CAIRN_EIO : 1;
	}
	if (n->nfallback) { /* for delivery: the channels to try when this one fails */
		json_t *fb = json_array();
		for (size_t i = 0; i < n->nfallback; i++)
			json_array_append_new(fb, json_string(n->fallback[i]));
		json_object_set_new(rendered, "_fallback", fb);
	}
	rc = queue_message(h, n, channel, template_id, variant, advertising, rendered, err);
	json_decref(rendered);
	return rc;
}

/* Queues an internal event for the profile (applied again from the log:
 * idempotent, so a rebuild from the log agrees with what was done now). */
static int emit_internal(struct ehost *h, const char *type, const char *what, json_t *payload, const char *field,
			 struct cairn_err *err)
{
	char key[160];
	step_key(h, what, key, sizeof key);
	return engine_emit_message(h->st, h->ws, h->pid, type, NULL, field, payload, key, h->now, err);
}

static int h_update(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct ehost *h = arg;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n->ntags_add; i++)
		rc = store_tag_add(h->st, h->ws, h->pid, n->tags_add[i], h->now, err);
	for (size_t i = 0; rc == 0 && i < n->ntags_remove; i++)
		rc = store_tag_remove(h->st, h->ws, h->pid, n->tags_remove[i], err);
	if (rc == 0 && (n->ntags_add || n->ntags_remove)) {
		json_t *add = json_array(), *rm = json_array();
		for (size_t i = 0; i < n->ntags_add; i++)
			json_array_append_new(add, json_string(n->tags_add[i]));
		for (size_t i = 0; i < n->ntags_remove; i++)
			json_array_append_new(rm, json_string(n->tags_remove[i]));
		rc = emit_internal(h, "tags", "tags",
				   json_pack("{s:o,s:o,s:s,s:s}", "add", add, "remove", rm, "journey_id",
					     h->row->journey_id, "node", n->id),
				   "properties", err);
	}
	if (rc == 0 && (n->set_traits || n->lifecycle)) {
		struct store_profile p;
		rc = store_profile_get(h->st, h->pid, &p, err);
		if (rc == 0) {
			if (n->set_traits)
				json_object_update(p.traits, n->set_traits);
			if (n->lifecycle) {
				free(p.lifecycle);
				p.lifecycle = xstrdup(n->lifecycle);
			}
			p.updated_at = h->now;
			rc = store_profile_put(h->st, &p, err);
			store_profile_release(&p);
		}
		if (rc == 0 && n->set_traits)
			rc = emit_internal(h, "identify", "traits", json_deep_copy(n->set_traits), "traits", err);
		if (rc == 0 && n->lifecycle)
			rc = emit_internal(h, "lifecycle", "lifecycle", json_pack("{s:s}", "stage", n->lifecycle),
					   "properties", err);
	}
	if (rc == 0 && n->score) {
		char key[160];
		step_key(h, "score", key, sizeof key);
		rc = engine_emit(
			h->st, h->ws, h->pid, "Score Changed",
			json_pack("{s:O,s:s,s:s}", "scores", n->score, "journey_id", h->row->journey_id, "node", n->id),
			key, h->now, err);
	}
	return rc;
}

static int h_notify(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct ehost *h = arg;
	const char *channel = n->type == JN_WEBHOOK ? "webhook" : "slack";
	json_t *body = n->type == JN_WEBHOOK ? json_pack("{s:s}", "body", n->body ? n->body : "")
					     : json_pack("{s:s}", "text", n->text ? n->text : "");
	char id[48];
	message_id(h, id);
	json_t *data = render_data(h, n, id, channel, err);
	json_t *rendered = NULL;
	int rc = data ? content_render(h->st, h->ws, channel, body, data, &rendered, NULL, err) : CAIRN_EIO;
	json_decref(data);
	json_decref(body);
	if (rc < 0)
		return rc;
	/* where it goes travels with the message */
	json_object_set_new(rendered, n->type == JN_WEBHOOK ? "url" : "channel",
			    json_string(n->type == JN_WEBHOOK ? n->url : n->slack_channel));
	rc = queue_message(h, n, channel, NULL, NULL, 0, rendered, err);
	json_decref(rendered);
	return rc;
}

static int h_goal(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	struct ehost *h = arg;
	char key[160];
	step_key(h, "goal", key, sizeof key);
	const char *node = n ? n->id : h->row->node;
	if (store_jny_stat_add(h->st, h->ws, h->row->journey_id, h->row->version, node, 0, 0, 1, err) < 0)
		return CAIRN_EIO;
	return engine_emit(h->st, h->ws, h->pid, "Goal Reached",
			   json_pack("{s:s,s:I,s:s}", "journey_id", h->row->journey_id, "journey_version",
				     (json_int_t)h->row->version, "node_id", node),
			   key, h->now, err);
}

static void ws_settings(struct store *st, int64_t ws, char *tz, size_t cap, json_t **caps);

/* Frequency caps: the workspace setting "frequency_caps",
 * {"email":{"max":2,"per":{"days":7},"when_capped":"wait"|"skip"}, …}. */
static int h_capped(void *arg, const char *channel, int64_t *until, int *skip, struct cairn_err *err)
{
	struct ehost *h = arg;
	json_t *caps;
	ws_settings(h->st, h->ws, NULL, 0, &caps);
	int64_t max, per;
	int capped = jny_cap_rule(caps, channel, &max, &per, skip);
	json_decref(caps);
	if (!capped)
		return 0;
	int64_t count = 0, oldest = 0;
	if (store_message_window(h->st, h->ws, h->pid, channel, h->now - per, &count, &oldest, err) < 0)
		return CAIRN_EIO;
	if (count < max)
		return 0;
	*until = oldest + per + 1;
	return 1;
}

static int h_exited(void *arg, const char *reason, struct cairn_err *err)
{
	struct ehost *h = arg;
	char key[160];
	step_key(h, "exit", key, sizeof key);
	const char *node = h->last_node ? h->last_node : h->row->node; /* where the user was last */
	if (store_jny_stat_add(h->st, h->ws, h->row->journey_id, h->row->version, node, 0, 1, 0, err) < 0)
		return CAIRN_EIO;
	return engine_emit(h->st, h->ws, h->pid, "Journey Exited",
			   json_pack("{s:s,s:I,s:s,s:s}", "journey_id", h->row->journey_id, "journey_version",
				     (json_int_t)h->row->version, "node_id", node, "reason", reason),
			   key, h->now, err);
}

/* The workspace's settings, read once per cache generation (the settings
 * API invalidates). The API thread reaches this too (publish schedules
 * entries), so the list has its own lock and callers get copies: the
 * zone into tz, and the caps as a new reference (caps may be NULL). */
static void ws_settings(struct store *st, int64_t ws, char *tz, size_t cap, json_t **caps)
{
	pthread_mutex_lock(&set_lock);
	struct ws_settings *found = NULL;
	for (size_t i = 0; i < cache.nset && !found; i++)
		if (cache.set[i].ws == ws)
			found = &cache.set[i];
	if (!found) {
		struct ws_settings x;
		memset(&x, 0, sizeof x);
		x.ws = ws;
		char *text = store_setting_get(st, ws, "timezone");
		json_t *v = text ? jsonx_loadb(text, strlen(text), JSON_DECODE_ANY, NULL) : NULL;
		snprintf(x.tz, sizeof x.tz, "%s",
			 json_is_string(v) && tz_valid(json_string_value(v)) ? json_string_value(v) : DEFAULT_TZ);
		json_decref(v);
		free(text);
		text = store_setting_get(st, ws, "frequency_caps");
		x.caps = text ? jsonx_loadb(text, strlen(text), 0, NULL) : NULL;
		free(text);
		cache.set = xrealloc(cache.set, (cache.nset + 1) * sizeof *cache.set);
		cache.set[cache.nset] = x;
		found = &cache.set[cache.nset++];
	}
	if (tz)
		snprintf(tz, cap, "%s", found->tz);
	if (caps)
		*caps = json_incref(found->caps);
	pthread_mutex_unlock(&set_lock);
}

/* A user's zone: trait `timezone`, else the journey's, else the
 * workspace's setting, else DEFAULT_TZ. */
static void user_zone(struct store *st, int64_t ws, const struct jny_def *d, const json_t *traits, char *out,
		      size_t cap)
{
	const char *tz = jsonx_str(traits, "timezone");
	if (!tz || !tz_valid(tz))
		tz = d ? d->timezone : NULL;
	if (tz)
		snprintf(out, cap, "%s", tz);
	else
		ws_settings(st, ws, out, cap, NULL);
}

static int host_open(struct ehost *h, struct store *st, struct store_jny_instance *row, const struct jny_def *d,
		     json_t *event, struct jny_host *out, struct cairn_err *err)
{
	memset(h, 0, sizeof *h);
	h->st = st;
	h->ws = row->ws;
	h->pid = row->profile_id;
	h->now = clock_now_ms();
	h->row = row;
	h->def = d;
	h->event = event;
	if (store_profile_ids(st, row->profile_id, &h->user_id, &h->anon_id, err) < 0)
		return err->code;
	h->user_key = h->user_id ? h->user_id : h->anon_id ? h->anon_id : "";
	int rc = seg_ctx_init(&h->sc, st, row->ws, row->profile_id, NULL, err);
	if (rc < 0) {
		free(h->user_id);
		free(h->anon_id);
		return rc;
	}
	h->sc_open = 1;
	h->sc.cond.now_ms = h->now;
	user_zone(st, row->ws, d, h->sc.traits, h->tz, sizeof h->tz);
	*out = (struct jny_host){.arg = h,
				 .now = h->now,
				 .tz = h->tz,
				 .journey_id = row->journey_id,
				 .user_key = h->user_key,
				 .user = &h->sc.cond,
				 .step = h_step,
				 .entered = h_entered,
				 .send = h_send,
				 .update = h_update,
				 .notify = h_notify,
				 .goal = h_goal,
				 .capped = h_capped,
				 .exited = h_exited};
	return 0;
}

static void host_close(struct ehost *h)
{
	if (h->sc_open)
		seg_ctx_release(&h->sc);
	free(h->user_id);
	free(h->anon_id);
}

/* Ends an instance outside a run (archive, migration, a profile that is
 * gone): the same record a run's exit leaves — a history step, the exit
 * count at its node, the row and timer, and Journey Exited (when the
 * profile still exists to carry it). */
static int exit_outside(struct store *st, struct store_jny_instance *row, const char *reason, int64_t now,
			struct cairn_err *err)
{
	if (store_jny_step_add(st, row, row->node, now, reason, err) < 0)
		return CAIRN_EIO;
	row->steps++;
	snprintf(row->state, sizeof row->state, "exited");
	snprintf(row->exit_reason, sizeof row->exit_reason, "%s", reason);
	row->wait_event[0] = '\0';
	row->exited_at = row->updated_at = now;
	row->goal_until = 0;
	if (store_jny_save(st, row, err) < 0 || store_jny_timer_clear(st, row->instance_id, err) < 0 ||
	    store_jny_stat_add(st, row->ws, row->journey_id, row->version, row->node, 0, 1, 0, err) < 0)
		return CAIRN_EIO;
	char key[160];
	snprintf(key, sizeof key, "jny:exit:%lld:%lld", (long long)row->instance_id, (long long)row->steps);
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = engine_emit(st, row->ws, row->profile_id, "Journey Exited",
			     json_pack("{s:s,s:I,s:s,s:s}", "journey_id", row->journey_id, "journey_version",
				       (json_int_t)row->version, "node_id", row->node, "reason", reason),
			     key, now, &e);
	if (rc < 0 && rc != CAIRN_ENOTFOUND) {
		*err = e;
		return rc;
	}
	return 0;
}

/* ---- instance rows <-> executor state ------------------------------------------- */

static void to_inst(const struct jny_def *d, const struct store_jny_instance *row, struct jny_inst *in)
{
	memset(in, 0, sizeof *in);
	in->node = jny_node_index(d, row->node);
	in->state = !strcmp(row->state, "exited")    ? JNY_EXITED
		    : !strcmp(row->state, "waiting") ? JNY_WAITING
						     : JNY_ACTIVE;
	in->waiting_event = row->wait_event[0] != '\0';
	in->due_at = row->timer_due;
	snprintf(in->timer_kind, sizeof in->timer_kind, "%s", row->timer_kind);
	snprintf(in->variant, sizeof in->variant, "%s", row->variant);
	in->entered_at = row->entered_at;
	in->converted_at = row->converted_at;
}

/* Writes the executor's state back: the row, and its timer (invariant 1). */
static int save(struct store *st, const struct jny_def *d, const struct jny_inst *in, struct store_jny_instance *row,
		int64_t now, struct cairn_err *err)
{
	if (in->node >= 0 && (size_t)in->node < d->nnodes)
		snprintf(row->node, sizeof row->node, "%s", d->nodes[in->node].id);
	snprintf(row->state, sizeof row->state, "%s",
		 in->state == JNY_EXITED    ? "exited"
		 : in->state == JNY_WAITING ? "waiting"
					    : "active");
	const struct jny_node *n = in->node >= 0 && (size_t)in->node < d->nnodes ? &d->nodes[in->node] : NULL;
	snprintf(row->wait_event, sizeof row->wait_event, "%s",
		 in->waiting_event && n && n->wait.event ? n->wait.event : "");
	snprintf(row->variant, sizeof row->variant, "%s", in->variant);
	row->updated_at = now;
	row->converted_at = in->converted_at;
	if (in->state == JNY_EXITED) {
		row->exited_at = row->exited_at ? row->exited_at : now;
		snprintf(row->exit_reason, sizeof row->exit_reason, "%s", in->exit_reason);
	}
	row->goal_until = in->state == JNY_EXITED ? jny_goal_until(d, in) : 0;
	if (store_jny_save(st, row, err) < 0)
		return CAIRN_EIO;
	if (in->state == JNY_WAITING && in->due_at)
		return store_jny_timer_set(st, row->ws, row->instance_id, in->due_at, in->timer_kind, err);
	return store_jny_timer_clear(st, row->instance_id, err);
}

/* Runs one instance and saves it. */
static int advance(struct store *st, const struct jny_def *d, struct store_jny_instance *row, enum jny_cause cause,
		   const char *event, json_t *msg, struct cairn_err *err)
{
	struct ehost h;
	struct jny_host host;
	int rc = host_open(&h, st, row, d, msg, &host, err);
	if (rc == CAIRN_ENOTFOUND) { /* the profile is gone (merges move instances; this is a safety net) */
		cairn_err_clear(err);
		return exit_outside(st, row, "the user no longer exists", clock_now_ms(), err);
	}
	if (rc < 0)
		return rc;
	struct jny_inst in;
	to_inst(d, row, &in);
	if (event) {
		int changed = 0;
		rc = jny_on_event(d, &in, &host, event, json_object_get(msg, "properties"), &changed, err);
		if (rc == 0 && changed)
			rc = save(st, d, &in, row, h.now, err);
	} else {
		rc = jny_run(d, &in, &host, cause, err);
		if (rc == 0)
			rc = save(st, d, &in, row, h.now, err);
	}
	host_close(&h);
	return rc;
}

static int enter(struct store *st, struct running *r, int64_t pid, json_t *msg, int64_t cause_id, struct cairn_err *err)
{
	int64_t last = 0;
	int in_now = store_jny_entry(st, r->ws, r->id, pid, &last, err);
	if (in_now < 0)
		return in_now;
	int64_t now = clock_now_ms();
	if (!jny_may_enter(r->def, in_now, last, now))
		return 0;
	struct store_jny_instance row;
	memset(&row, 0, sizeof row);
	row.ws = r->ws;
	row.version = r->version;
	row.profile_id = pid;
	snprintf(row.journey_id, sizeof row.journey_id, "%s", r->id);
	snprintf(row.node, sizeof row.node, "%s", r->def->nodes[r->def->start].id);
	snprintf(row.state, sizeof row.state, "active");
	row.entered_at = row.updated_at = now;
	if (store_jny_insert(st, &row, err) < 0)
		return CAIRN_EIO;
	if (msg) { /* later steps' messages still see what started it */
		char *text = json_dumps(msg, JSON_COMPACT);
		int rc = store_jny_entry_event_put(st, row.instance_id, text, err);
		free(text);
		if (rc < 0)
			return CAIRN_EIO;
	}
	char key[160];
	snprintf(key, sizeof key, "jny:enter:%s:%lld:%lld", r->id, (long long)pid, (long long)cause_id);
	if (engine_emit(st, r->ws, pid, "Journey Entered",
			json_pack("{s:s,s:I}", "journey_id", r->id, "journey_version", (json_int_t)r->version), key,
			now, err) < 0)
		return CAIRN_EIO;
	return advance(st, r->def, &row, JNY_ENTER, NULL, msg, err);
}

/* ---- date triggers, trait changes, broadcasts -------------------------------------- */

/* A trait value as a date: RFC 3339 text or epoch milliseconds. */
static int date_of(const json_t *v, int64_t *ms)
{
	if (json_is_integer(v)) {
		*ms = json_integer_value(v);
		return 0;
	}
	return json_is_string(v) ? clock_parse_rfc3339(json_string_value(v), ms) : -1;
}

/* When a date trigger enters a user whose trait holds date: the local day
 * of date + offset, at the trigger's local time (or the same time of day).
 * 0 and *due, or -1 when there is no such time. */
static int date_due(const struct jny_def *d, const char *tz, const json_t *value, int64_t *due)
{
	int64_t date;
	if (date_of(value, &date) < 0)
		return -1;
	int64_t days = d->trigger.offset_ms / 86400000LL, rest = d->trigger.offset_ms % 86400000LL;
	return tz_add_local_days(tz, date + rest, (int)days, d->trigger.at_minute, due) == 0 ? 0 : -1;
}

/* (Re)schedules a date trigger's entry for one user from their traits. */
static int schedule_date(struct store *st, struct running *r, int64_t pid, const json_t *traits, int64_t now,
			 struct cairn_err *err)
{
	char tz[64];
	int64_t due;
	user_zone(st, r->ws, r->def, traits, tz, sizeof tz);
	const json_t *v = cond_lookup_path(traits, r->def->trigger.trait);
	if (!v || date_due(r->def, tz, v, &due) < 0 || due <= now)
		return store_jny_schedule_clear(st, r->ws, r->id, pid, err);
	return store_jny_schedule_set(st, r->ws, r->id, pid, due, "date", err);
}

/* The traits of a profile before the identify being applied (engine
 * thread only): jny_before_event keeps them for jny_apply_event. */
static struct {
	int64_t event_id;
	json_t *traits;
} before = {0, NULL};

static int watches_traits(int64_t ws)
{
	for (size_t i = 0; i < cache.nrun; i++)
		if (cache.run[i].ws == ws &&
		    (cache.run[i].def->trigger.type == JT_TRAIT_CHANGED || cache.run[i].def->trigger.type == JT_DATE))
			return 1;
	return 0;
}

void jny_before_event(struct store *st, const struct store_event *ev)
{
	json_decref(before.traits);
	before.traits = NULL;
	before.event_id = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (!atomic_load(&enabled) || !ev->type || strcmp(ev->type, "identify") || cache_load(st, &err) < 0 ||
	    !watches_traits(ev->workspace_id))
		return;
	int64_t pid = 0;
	if (!(ev->user_id && store_identity_find(st, ev->workspace_id, STORE_ID_USER, ev->user_id, &pid) == 0) &&
	    !(ev->anonymous_id &&
	      store_identity_find(st, ev->workspace_id, STORE_ID_ANON, ev->anonymous_id, &pid) == 0))
		pid = 0;
	struct store_profile p;
	if (pid && store_profile_get(st, pid, &p, &err) == 0) {
		before.traits = json_incref(p.traits);
		store_profile_release(&p);
	} else {
		before.traits = json_object(); /* a new user: every trait goes from nothing */
	}
	before.event_id = ev->id;
}

static int same_value(const json_t *a, const json_t *b)
{
	int na = !a || json_is_null(a), nb = !b || json_is_null(b);
	return na || nb ? na && nb : json_equal(a, b);
}

static int enter(struct store *st, struct running *r, int64_t pid, json_t *msg, int64_t cause_id,
		 struct cairn_err *err);

/* After an identify: trait_changed triggers and date schedules. */
static int traits_changed(struct store *st, const struct store_event *ev, int64_t pid, json_t *msg,
			  struct cairn_err *err)
{
	if (before.event_id != ev->id || !before.traits)
		return 0;
	struct store_profile p;
	if (store_profile_get(st, pid, &p, err) < 0)
		return err->code == CAIRN_ENOTFOUND ? 0 : CAIRN_EIO;
	int rc = 0;
	int64_t now = clock_now_ms();
	for (size_t i = 0; rc == 0 && i < cache.nrun; i++) {
		struct running *r = &cache.run[i];
		if (r->ws != ev->workspace_id || !r->live || !r->def->trigger.trait)
			continue;
		const json_t *was = cond_lookup_path(before.traits, r->def->trigger.trait);
		const json_t *is = cond_lookup_path(p.traits, r->def->trigger.trait);
		if (same_value(was, is))
			continue;
		if (r->def->trigger.type == JT_DATE)
			rc = schedule_date(st, r, pid, p.traits, now, err);
		else if (r->def->trigger.type == JT_TRAIT_CHANGED &&
			 (!r->def->trigger.from || same_value(r->def->trigger.from, was)) &&
			 (!r->def->trigger.to || same_value(r->def->trigger.to, is)))
			rc = enter(st, r, pid, msg, ev->id, err);
	}
	store_profile_release(&p);
	return rc;
}

/* A broadcast's run: every member of its segment enters now, or at their
 * next local at_minute; then the next run (cron) or none. */
struct bcast {
	struct store *st;
	struct running *r;
	int64_t now;
	struct cairn_err *err;
};

static int bcast_member(void *arg, int64_t pid)
{
	struct bcast *b = arg;
	if (b->r->def->trigger.at_minute < 0)
		return enter(b->st, b->r, pid, NULL, b->now, b->err);
	struct store_profile p;
	if (store_profile_get(b->st, pid, &p, b->err) < 0)
		return 0;
	char tz[64];
	int64_t due;
	user_zone(b->st, b->r->ws, b->r->def, p.traits, tz, sizeof tz);
	store_profile_release(&p);
	if (tz_next_local(tz, b->now, b->r->def->trigger.at_minute, 0, &due) < 0)
		return 0;
	return store_jny_schedule_set(b->st, b->r->ws, b->r->id, pid, due, "local", b->err);
}

static int next_broadcast(struct store *st, const struct running *r, int64_t after, int64_t *next)
{
	struct tz_cron c;
	struct cairn_err e = CAIRN_ERR_INIT;
	char tz[64];
	user_zone(st, r->ws, r->def, NULL, tz, sizeof tz);
	if (!r->def->trigger.cron || tz_cron_parse(r->def->trigger.cron, &c, &e) < 0)
		return -1;
	return tz_cron_next(&c, tz, after, next) == 0 ? 0 : -1;
}

static int fire_schedule(struct store *st, const struct store_jny_schedule *x, int64_t now, struct cairn_err *err)
{
	struct running *r = running_of(x->ws, x->journey_id);
	if (!r || !r->live)
		return store_jny_schedule_clear(st, x->ws, x->journey_id, x->profile_id, err);
	if (strcmp(x->kind, "broadcast")) {
		int rc = store_jny_schedule_clear(st, x->ws, x->journey_id, x->profile_id, err);
		return rc < 0 ? rc : enter(st, r, x->profile_id, NULL, x->due_at, err);
	}
	struct bcast b = {st, r, now, err};
	int rc = r->def->trigger.segment
			 ? store_jny_segment_members(st, x->ws, r->def->trigger.segment, bcast_member, &b, err)
			 : 0;
	int64_t next;
	if (rc == 0 && next_broadcast(st, r, now, &next) == 0)
		return store_jny_schedule_set(st, x->ws, x->journey_id, 0, next, "broadcast", err);
	return rc < 0 ? rc : store_jny_schedule_clear(st, x->ws, x->journey_id, 0, err);
}

struct backfill {
	struct store *st;
	struct running *r;
	int64_t now;
	struct cairn_err *err;
};

static int backfill_one(void *arg, int64_t pid, const char *json, size_t len)
{
	struct backfill *b = arg;
	if (!json)
		return 0;
	(void)len;
	struct store_profile p;
	if (store_profile_get(b->st, pid, &p, b->err) < 0)
		return 0;
	int rc = schedule_date(b->st, b->r, pid, p.traits, b->now, b->err);
	store_profile_release(&p);
	return rc;
}

/* After a publish (in its transaction): the schedules the new version's
 * trigger needs — every user's date entry, or the broadcast's first run. */
static int schedule_published(struct store *st, int64_t ws, const char *id, int64_t version, int64_t now,
			      struct cairn_err *err)
{
	if (store_jny_schedule_drop(st, ws, id, err) < 0)
		return CAIRN_EIO;
	struct jny_def *d = jny_load(st, ws, id, version, err);
	if (!d)
		return err->code ? err->code : CAIRN_EIO;
	struct running r = {ws, version, (char *)id, 1, d};
	int rc = 0;
	if (d->trigger.type == JT_DATE) {
		struct backfill b = {st, &r, now, err};
		rc = store_sx_trait(st, ws, 0, d->trigger.trait, backfill_one, &b, err);
		if (rc > 0)
			rc = 0; /* a name the store cannot read as a column: entries come with identifies */
	} else if (d->trigger.type == JT_BROADCAST) {
		int64_t first = d->trigger.at_ms ? d->trigger.at_ms : now;
		if (d->trigger.cron && !d->trigger.at_ms && next_broadcast(st, &r, now, &first) < 0)
			first = INT64_MAX;
		if (first != INT64_MAX)
			rc = store_jny_schedule_set(st, ws, id, 0, first, "broadcast", err);
	}
	jny_free(d);
	return rc;
}

/* ---- the engine stage ----------------------------------------------------------- */

static int ws_has_journeys(int64_t ws)
{
	for (size_t i = 0; i < cache.nrun; i++)
		if (cache.run[i].ws == ws)
			return 1;
	return 0;
}

/* Could an event of this name start a live journey of ws? */
static int may_start(int64_t ws, const char *name)
{
	for (size_t i = 0; name && i < cache.nrun; i++) {
		const struct running *r = &cache.run[i];
		if (r->ws != ws || !r->live)
			continue;
		enum jny_trigger_type t = r->def->trigger.type;
		if ((t == JT_EVENT && r->def->trigger.match.event && !strcmp(r->def->trigger.match.event, name)) ||
		    (t == JT_SEGMENT_ENTERED && !strcmp(name, "Segment Entered")) ||
		    (t == JT_SEGMENT_EXITED && !strcmp(name, "Segment Exited")))
			return 1;
	}
	return 0;
}

/* Does an event of this name matter to an instance: its exit_on, its goal
 * (not yet converted), or the wait_event it is at? */
static int listens(const struct jny_def *d, const struct store_jny_instance *row, const char *name)
{
	if (!strcmp(row->state, "exited")) /* only its goal, within the window */
		return d->has_goal && !row->converted_at && d->goal.event && !strcmp(d->goal.event, name);
	for (size_t i = 0; i < d->nexit_on; i++)
		if (d->exit_on[i].event && !strcmp(d->exit_on[i].event, name))
			return 1;
	if (d->has_goal && !row->converted_at && d->goal.event && !strcmp(d->goal.event, name))
		return 1;
	return row->wait_event[0] && !strcmp(row->wait_event, name);
}

int jny_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	if (!atomic_load(&enabled))
		return 0;
	if (cache_load(st, err) < 0)
		return CAIRN_EIO;
	int enroll = ev->type && !strcmp(ev->type, "enroll");
	int track = ev->type && !strcmp(ev->type, "track") && ev->name;
	int identify = ev->type && !strcmp(ev->type, "identify") && before.event_id == ev->id;
	if (!profile_id || (!enroll && !track && !identify) || !ws_has_journeys(ev->workspace_id))
		return 0;
	if (identify) {
		json_t *m = jsonx_loadb(ev->body, ev->body_len, 0, NULL);
		int rc = traits_changed(st, ev, profile_id, m, err);
		json_decref(m);
		return rc;
	}
	/* names first: most events concern no journey, and then neither the
	 * body is parsed nor a user's instance loaded */
	struct store_jny_instance *rows;
	size_t n;
	if (store_jny_active(st, ev->workspace_id, profile_id, clock_now_ms(), &rows, &n, err) < 0)
		return CAIRN_EIO;
	const struct jny_def **defs = xcalloc(n ? n : 1, sizeof *defs);
	int rc = 0, any = enroll || may_start(ev->workspace_id, ev->name);
	for (size_t i = 0; rc == 0 && track && i < n; i++) {
		struct running *r = running_of(rows[i].ws, rows[i].journey_id);
		if (!r || !r->live)
			continue; /* paused (invariant 3) or archived */
		defs[i] = def_of(st, rows[i].ws, rows[i].journey_id, rows[i].version, err);
		if (!defs[i])
			rc = CAIRN_EIO;
		else if (!listens(defs[i], &rows[i], ev->name))
			defs[i] = NULL;
		any |= defs[i] != NULL;
	}
	json_t *msg = rc == 0 && any ? jsonx_loadb(ev->body, ev->body_len, 0, NULL) : NULL;
	for (size_t i = 0; rc == 0 && msg && i < n; i++)
		if (defs[i])
			rc = advance(st, defs[i], &rows[i], JNY_EVENT, ev->name, msg, err);
	free(rows);
	free(defs);
	const json_t *props = json_object_get(msg, "properties");
	const char *target = enroll ? jsonx_str(props, "journey_id") : NULL;
	for (size_t i = 0; rc == 0 && msg && i < cache.nrun; i++) {
		struct running *r = &cache.run[i];
		if (r->ws != ev->workspace_id || !r->live)
			continue;
		int go = enroll ? target && !strcmp(target, r->id) : jny_triggered_by(r->def, ev->name, props);
		if (go)
			rc = enter(st, r, profile_id, msg, ev->id, err);
	}
	json_decref(msg);
	return rc;
}

int jny_tick(struct store *st, int64_t now, int64_t *fired, struct cairn_err *err)
{
	if (fired)
		*fired = 0;
	if (!atomic_load(&enabled))
		return 0;
	struct store_jny_timer *t = xmalloc(JNY_TICK_BATCH * sizeof *t);
	struct store_jny_schedule *sched = xmalloc(JNY_TICK_BATCH * sizeof *sched);
	int rc = 0;
	for (;;) {
		size_t n = 0;
		if (store_begin(st, err) < 0) {
			rc = CAIRN_EIO;
			break;
		}
		rc = cache_load(st, err);
		size_t ns = 0;
		if (rc == 0)
			rc = store_jny_schedules_due(st, now, sched, JNY_TICK_BATCH, &ns, err);
		for (size_t i = 0; rc == 0 && i < ns; i++)
			rc = fire_schedule(st, &sched[i], now, err);
		if (rc == 0)
			rc = store_jny_timers_due(st, now, t, JNY_TICK_BATCH, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct store_jny_instance row;
			rc = store_jny_get(st, t[i].instance_id, &row, err);
			if (rc == CAIRN_ENOTFOUND) {
				cairn_err_clear(err);
				rc = store_jny_timer_clear(st, t[i].instance_id, err);
				continue;
			}
			const struct jny_def *d = rc == 0 ? def_of(st, row.ws, row.journey_id, row.version, err) : NULL;
			if (rc == 0 && !d)
				rc = CAIRN_EIO;
			if (rc == 0)
				rc = advance(st, d, &row, JNY_TIMER, NULL, NULL, err);
		}
		if (rc == 0 && store_commit(st, err) < 0)
			rc = CAIRN_EIO;
		if (rc < 0) {
			store_rollback(st);
			break;
		}
		if (fired)
			*fired += (int64_t)n;
		if (engine_forward(st, err) < 0)
			log_error("forwarding emitted events failed; will retry", "error", err->message, NULL);
		if (n < JNY_TICK_BATCH && ns < JNY_TICK_BATCH)
			break; /* a full batch of either: look again */
	}
	free(t);
	free(sched);
	return rc;
}

/* ---- API operations ------------------------------------------------------------------ */

struct check_arg {
	struct store *st;
	int64_t ws;
};

static int template_exists(void *arg, const char *channel, const char *template_id)
{
	struct check_arg *a = arg;
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template t;
	if (store_template_get(a->st, a->ws, template_id, 0, &t, &e) < 0)
		return e.code == CAIRN_ENOTFOUND ? 0 : -1;
	int ok = !t.archived_at && (!channel || !t.channel || !strcmp(t.channel, channel));
	store_template_release(&t);
	return ok;
}

static int segment_exists(void *arg, const char *segment_id)
{
	struct check_arg *a = arg;
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_segment seg;
	if (store_segment_get(a->st, a->ws, segment_id, &seg, &e) < 0)
		return e.code == CAIRN_ENOTFOUND ? 0 : -1;
	int live = !seg.archived_at;
	store_segment_release(&seg);
	return live;
}

int jny_check_in(struct store *st, int64_t ws, const struct jny_def *d, struct jny_problems *problems,
		 struct cairn_err *err)
{
	struct check_arg ca = {st, ws};
	struct jny_check_env env = {&ca, template_exists, segment_exists};
	return jny_check(d, &env, problems, err);
}

int jny_publish(struct store *st, int64_t ws, const char *id, int64_t now, int64_t *version,
		struct jny_problems *problems, struct cairn_err *err)
{
	memset(problems, 0, sizeof *problems);
	struct store_journey j;
	if (store_journey_get(st, ws, id, &j, err) < 0)
		return err->code;
	if (!strcmp(j.status, "archived")) {
		store_journey_release(&j);
		return cairn_err_set(err, CAIRN_ECONFLICT, "journey_archived", "",
				     "Journey '%s' is archived; restore it before publishing.", id);
	}
	json_t *draft = jsonx_loadb(j.draft, strlen(j.draft), 0, NULL);
	store_journey_release(&j);
	struct jny_def *d = draft ? jny_parse(draft, err) : NULL;
	json_decref(draft);
	if (!d)
		return err->code ? err->code : CAIRN_EUNPROC;
	int rc = jny_check_in(st, ws, d, problems, err);
	if (rc == 0 && problems->n)
		rc = cairn_err_set(err, CAIRN_EUNPROC, "invalid_journey",
				   problems->items[0].field ? problems->items[0].field : "", "%s",
				   problems->items[0].message);
	json_t *norm = rc == 0 ? jny_to_json(d) : NULL;
	char *text = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(norm);
	jny_free(d);
	if (rc == 0 && (rc = store_begin(st, err)) == 0) {
		rc = store_journey_publish(st, ws, id, text, now, version, err);
		if (rc == 0)
			rc = schedule_published(st, ws, id, *version, now, err);
		if (rc == 0) {
			jny_invalidate();
			rc = store_commit(st, err);
		}
		if (rc < 0)
			store_rollback(st);
		jny_invalidate();
	}
	free(text);
	return rc;
}

struct archiving {
	struct store *st;
	int64_t now;
	struct cairn_err *err;
};

static int archive_one(void *arg, int64_t instance_id, const char *node)
{
	(void)node;
	struct archiving *a = arg;
	struct store_jny_instance row;
	if (store_jny_get(a->st, instance_id, &row, a->err) < 0)
		return CAIRN_EIO;
	return exit_outside(a->st, &row, "archived", a->now, a->err);
}

int jny_set_status(struct store *st, int64_t ws, const char *id, const char *action, int64_t now, struct cairn_err *err)
{
	static const struct {
		const char *action, *from, *from2, *to;
	} moves[] = {
		{"pause", "live", NULL, "paused"},
		{"resume", "paused", NULL, "live"},
		{"archive", "live", "paused", "archived"},
		{"restore", "archived", NULL, "draft"},
	};
	struct store_journey j;
	if (store_journey_get(st, ws, id, &j, err) < 0)
		return err->code;
	int rc = CAIRN_EINVAL;
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
		if (strcmp(moves[i].action, action))
			continue;
		int ok = !strcmp(j.status, moves[i].from) || (moves[i].from2 && !strcmp(j.status, moves[i].from2)) ||
			 (!strcmp(action, "archive") && !strcmp(j.status, "draft"));
		if (!ok) {
			rc = cairn_err_set(err, CAIRN_ECONFLICT, "journey_state", "",
					   "Journey '%s' is %s; it cannot %s.", id, j.status, action);
			break;
		}
		rc = store_begin(st, err);
		if (rc == 0)
			rc = store_journey_set_status(st, ws, id, moves[i].to, now, err);
		struct archiving ar = {st, now, err};
		if (rc == 0 && !strcmp(action, "archive")) /* every version: -1 is none */
			rc = store_jny_on_other_versions(st, ws, id, -1, archive_one, &ar, err);
		if (rc == 0 && !strcmp(action, "archive"))
			rc = store_jny_schedule_drop(st, ws, id, err);
		if (rc == 0) {
			jny_invalidate();
			rc = store_commit(st, err);
		}
		if (rc < 0)
			store_rollback(st);
		jny_invalidate();
		break;
	}
	store_journey_release(&j);
	if (rc == CAIRN_EINVAL)
		rc = cairn_err_set(err, CAIRN_EINVAL, "unknown_action", "", "Unknown action '%s'.", action);
	return rc;
}

/* ---- migration to the live version ------------------------------------------------------ */

struct migration {
	struct store *st;
	const struct jny_def *live;
	int64_t version, now, moved, exited;
	struct cairn_err *err;
};

static int migrate_one(void *arg, int64_t instance_id, const char *node)
{
	struct migration *m = arg;
	if (jny_node_index(m->live, node) >= 0) {
		m->moved++;
		return store_jny_set_version(m->st, instance_id, m->version, m->err);
	}
	struct store_jny_instance row;
	if (store_jny_get(m->st, instance_id, &row, m->err) < 0)
		return CAIRN_EIO;
	char reason[200];
	snprintf(reason, sizeof reason, "migrated: node %.96s removed", node);
	m->exited++;
	return exit_outside(m->st, &row, reason, m->now, m->err);
}

int jny_migrate(struct store *st, int64_t ws, const char *id, int64_t now, int64_t *moved, int64_t *exited,
		struct cairn_err *err)
{
	*moved = *exited = 0;
	struct store_journey j;
	if (store_journey_get(st, ws, id, &j, err) < 0)
		return err->code;
	int64_t version = j.live_version;
	store_journey_release(&j);
	if (!version)
		return cairn_err_set(err, CAIRN_ECONFLICT, "not_published", "",
				     "Journey '%s' has no published version to migrate to.", id);
	struct jny_def *live = jny_load(st, ws, id, version, err);
	if (!live)
		return err->code ? err->code : CAIRN_EIO;
	struct migration m = {st, live, version, now, 0, 0, err};
	int rc = store_begin(st, err);
	if (rc == 0)
		rc = store_jny_on_other_versions(st, ws, id, version, migrate_one, &m, err);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	jny_free(live);
	*moved = m.moved;
	*exited = m.exited;
	return rc;
}
