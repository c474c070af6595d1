/* journey_sim.c — simulation of one user through a journey (journey_sim.h).
 *
 * The user lives in memory: traits, tags, segments, consent, and the events
 * seen so far (for the condition language's counts and sums). Time is a
 * loop over two sources — the user's next event and the instance's timer —
 * taking whichever comes first, so waits cost nothing. */
#include "journey/journey_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "journey/journey_run.h"
#include "store/store_journey.h"
#include "store/store_segment.h"

struct sim_event {
	int64_t ts;
	const json_t *msg; /* borrowed from the caller's array */
	const char *name;  /* NULL for identify */
};

struct sim {
	const struct jny_def *d;
	const struct jny_sim_opts *o;
	json_t *traits, *tags, *segments, *consent; /* owned */
	struct sim_event *evs;
	size_t nev, seen; /* evs[0 .. seen) have happened */
	int64_t now;
	char user_key[256], tz[64];
	struct cond_ctx cc;
	json_t *path, *messages; /* borrowed from result */
	const json_t *cur_event;
	int64_t converted_at;
};

/* ---- the user, for conditions ------------------------------------------------------ */

static int ev_scan(struct sim *s, const struct cond_event_query *q, int64_t *count, double *sum)
{
	*count = 0;
	*sum = 0;
	for (size_t i = 0; i < s->seen; i++) {
		const struct sim_event *e = &s->evs[i];
		if (!e->name || strcmp(e->name, q->name) || e->ts < q->since_ms || e->ts > q->until_ms)
			continue;
		const json_t *props = json_object_get(e->msg, "properties");
		if (q->where && !cond_eval_where(q->where, props))
			continue;
		(*count)++;
		if (q->property)
			*sum += store_seg_number_of(json_object_get(props, q->property));
	}
	return 0;
}

static int cb_count(void *arg, const struct cond_event_query *q, int64_t *out)
{
	double sum;
	return ev_scan(arg, q, out, &sum);
}

static int cb_sum(void *arg, const struct cond_event_query *q, double *out)
{
	int64_t n;
	return ev_scan(arg, q, &n, out);
}

static int in_list(const json_t *list, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach (list, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), v))
			return 1;
	return 0;
}

static int cb_tag(void *arg, const char *tag)
{
	return in_list(((struct sim *)arg)->tags, tag);
}

static int cb_segment(void *arg, const char *id)
{
	return in_list(((struct sim *)arg)->segments, id);
}

static const char *cb_consent(void *arg, const char *channel)
{
	return jsonx_str(((struct sim *)arg)->consent, channel);
}

static int cb_score(void *arg, const char *name, double *value, double *pct)
{
	(void)arg, (void)name, (void)value, (void)pct;
	return 1; /* no scores in a simulation: unknown */
}

static int cb_computed(void *arg, const char *name, json_t **value)
{
	(void)arg, (void)name;
	*value = NULL; /* computed traits are not simulated: missing */
	return 0;
}

/* ---- the host ------------------------------------------------------------------------ */

static json_t *time_json(int64_t ms)
{
	return jsonx_time(ms);
}

static int h_step(void *arg, const struct jny_node *n, const char *reason, struct cairn_err *err)
{
	(void)err;
	struct sim *s = arg;
	json_array_append_new(s->path,
			      json_pack("{s:s,s:o,s:s}", "node", n->id, "at", time_json(s->now), "reason", reason));
	return 0;
}

static json_t *user_data(struct sim *s)
{
	json_t *u = json_deep_copy(s->traits);
	json_object_set_new(u, "id", json_string(s->user_key));
	json_object_set(u, "tags", s->tags);
	return u;
}

static const char *first_text(const json_t *r, const char *const *keys)
{
	for (; *keys; keys++)
		if (json_is_string(json_object_get(r, *keys)))
			return json_string_value(json_object_get(r, *keys));
	return NULL;
}

/* Renders and records one message; a template that cannot render is shown
 * with its error (the engine records the same as "not sent"). */
static int record_message(struct sim *s, const struct jny_node *n, const char *channel, const char *template_id,
			  const json_t *body, const char *variant)
{
	json_t *data =
		json_pack("{s:o,s:{s:s,s:s},s:{s:s}}", "user", user_data(s), "journey", "id",
			  s->o->journey_id ? s->o->journey_id : "", "node", n->id, "message", "channel", channel);
	if (s->cur_event)
		json_object_set(data, "event", (json_t *)s->cur_event);
	json_t *rendered = NULL;
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc;
	if (template_id && !s->o->st)
		rc = cairn_err_set(&e, CAIRN_ENOTFOUND, "template_not_found", "",
				   "Template '%s' is saved in a store; simulate with --data to render it.",
				   template_id);
	else if (template_id)
		rc = content_render_template(s->o->st, s->o->ws, template_id, 0, data, &rendered, NULL, &e);
	else
		rc = content_render(s->o->st, s->o->ws, channel, body, data, &rendered, NULL, &e);
	json_decref(data);
	json_t *m = json_pack("{s:s,s:s,s:o}", "node", n->id, "channel", channel, "at", time_json(s->now));
	json_object_set_new(m, "template", template_id ? json_string(template_id) : json_null());
	json_object_set_new(m, "variant", variant ? json_string(variant) : json_null());
	if (rc < 0) {
		json_object_set_new(m, "error", json_string(e.message));
	} else {
		static const char *const subj[] = {"subject", "title", NULL};
		static const char *const text[] = {"text", "html", "body", "message", NULL};
		const char *sub = first_text(rendered, subj), *txt = first_text(rendered, text);
		json_object_set_new(m, "subject", sub ? json_string(sub) : json_null());
		json_object_set_new(m, "body", txt ? json_string(txt) : json_null());
		json_object_set_new(m, "content", rendered);
	}
	json_array_append_new(s->messages, m);
	return rc < 0 ? 1 : 0;
}

static int h_send(void *arg, const struct jny_node *n, const char *channel, const char *template_id,
		  const json_t *inline_tpl, const char *variant, int advertising, struct cairn_err *err)
{
	(void)advertising;
	struct sim *s = arg;
	if (record_message(s, n, channel, template_id, inline_tpl, variant) == 0)
		return 0;
	char reason[600];
	snprintf(reason, sizeof reason, "not sent: %.500s",
		 json_string_value(
			 json_object_get(json_array_get(s->messages, json_array_size(s->messages) - 1), "error")));
	h_step(s, n, reason, err);
	return 1;
}

static int h_update(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	(void)err;
	struct sim *s = arg;
	for (size_t i = 0; i < n->ntags_add; i++)
		if (!in_list(s->tags, n->tags_add[i]))
			json_array_append_new(s->tags, json_string(n->tags_add[i]));
	for (size_t i = 0; i < n->ntags_remove; i++) {
		size_t k;
		json_t *x;
		json_array_foreach (s->tags, k, x) {
			if (!strcmp(json_string_value(x), n->tags_remove[i])) {
				json_array_remove(s->tags, k);
				break;
			}
		}
	}
	if (n->set_traits)
		json_object_update(s->traits, n->set_traits);
	return 0;
}

static int h_notify(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	(void)err;
	struct sim *s = arg;
	json_t *body = n->type == JN_WEBHOOK ? json_pack("{s:s}", "body", n->body ? n->body : "")
					     : json_pack("{s:s}", "text", n->text ? n->text : "");
	record_message(s, n, n->type == JN_WEBHOOK ? "webhook" : "slack", NULL, body, NULL);
	json_decref(body);
	return 0;
}

static int h_goal(void *arg, const struct jny_node *n, struct cairn_err *err)
{
	(void)n, (void)err;
	struct sim *s = arg;
	if (!s->converted_at)
		s->converted_at = s->now;
	return 0;
}

/* Frequency caps as the workspace has them (store needed), over the
 * messages this simulation queued. */
static int h_capped(void *arg, const char *channel, int64_t *until, int *skip, struct cairn_err *err)
{
	(void)err;
	struct sim *s = arg;
	if (!s->o->st)
		return 0;
	char *text = store_setting_get(s->o->st, s->o->ws, "frequency_caps");
	json_t *caps = text ? jsonx_loadb(text, strlen(text), 0, NULL) : NULL;
	free(text);
	int64_t max, per;
	int capped = jny_cap_rule(caps, channel, &max, &per, skip);
	json_decref(caps);
	if (!capped)
		return 0;
	int64_t count = 0, oldest = 0;
	size_t i;
	json_t *m;
	json_array_foreach (s->messages, i, m) {
		int64_t at;
		if (strcmp(jsonx_str(m, "channel") ? jsonx_str(m, "channel") : "", channel) ||
		    json_object_get(m, "error") || clock_parse_rfc3339(jsonx_str(m, "at"), &at) < 0 ||
		    at < s->now - per)
			continue;
		if (!count || at < oldest)
			oldest = at;
		count++;
	}
	if (count < max)
		return 0;
	*until = oldest + per + 1;
	return 1;
}

/* ---- input ------------------------------------------------------------------------------ */

static int load_events(struct sim *s, const json_t *events, struct cairn_err *err)
{
	if (events && !json_is_array(events))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "events",
				     "events must be a list of Tracking API messages.");
	size_t n = json_array_size(events);
	if (n > JNY_SIM_MAX_EVENTS)
		return cairn_err_set(err, CAIRN_EUNPROC, "too_many_events", "events",
				     "A simulation takes at most %d events.", JNY_SIM_MAX_EVENTS);
	s->evs = xcalloc(n ? n : 1, sizeof *s->evs);
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(events, i);
		char path[64];
		const char *type = jsonx_str(m, "type");
		const char *name = jsonx_str(m, "event");
		const char *ts = jsonx_str(m, "timestamp");
		int identify = type && !strcmp(type, "identify");
		snprintf(path, sizeof path, "events[%zu]", i);
		if (!json_is_object(m) || (!identify && !name))
			return cairn_err_set(
				err, CAIRN_EUNPROC, "invalid_field", path,
				"%s must be a track message with \"event\" (or an identify with \"traits\").", path);
		snprintf(path, sizeof path, "events[%zu].timestamp", i);
		if (!ts || clock_parse_rfc3339(ts, &s->evs[i].ts) < 0)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path,
					     "%s must be an RFC 3339 time such as \"2026-03-02T10:00:00+09:00\".",
					     path);
		s->evs[i].msg = m;
		s->evs[i].name = identify ? NULL : name;
	}
	s->nev = n;
	/* stable by time: equal times keep the given order */
	for (size_t i = 1; i < n; i++) {
		struct sim_event x = s->evs[i];
		size_t k = i;
		for (; k > 0 && s->evs[k - 1].ts > x.ts; k--)
			s->evs[k] = s->evs[k - 1];
		s->evs[k] = x;
	}
	return 0;
}

static int load_user(struct sim *s, const json_t *user, struct cairn_err *err)
{
	static const struct {
		const char *key;
		json_type type;
	} shapes[] = {
		{"traits", JSON_OBJECT}, {"tags", JSON_ARRAY}, {"segments", JSON_ARRAY}, {"consent", JSON_OBJECT}};
	json_t **slots[] = {&s->traits, &s->tags, &s->segments, &s->consent};
	if (user && !json_is_object(user))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "user", "user must be an object.");
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(user, shapes[i].key);
		if (v && json_typeof(v) != shapes[i].type) {
			char path[32];
			snprintf(path, sizeof path, "user.%s", shapes[i].key);
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", path, "%s must be %s.", path,
					     shapes[i].type == JSON_OBJECT ? "an object" : "a list");
		}
		*slots[i] = v ? json_deep_copy(v) : shapes[i].type == JSON_OBJECT ? json_object() : json_array();
	}
	const char *uid = jsonx_str(user, "user_id");
	snprintf(s->user_key, sizeof s->user_key, "%s", uid ? uid : "simulated-user");
	const char *tz = jsonx_str(s->traits, "timezone");
	if (!tz || !tz_valid(tz))
		tz = s->d->timezone ? s->d->timezone : "Asia/Seoul";
	snprintf(s->tz, sizeof s->tz, "%s", tz);
	return 0;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void host_at(struct sim *s, struct jny_host *h)
{
	s->cc.now_ms = s->now;
	*h = (struct jny_host){.arg = s,
			       .now = s->now,
			       .tz = s->tz,
			       .journey_id = s->o->journey_id ? s->o->journey_id : "",
			       .user_key = s->user_key,
			       .user = &s->cc,
			       .step = h_step,
			       .send = h_send,
			       .update = h_update,
			       .notify = h_notify,
			       .goal = h_goal,
			       .capped = h_capped};
}

static int entered_by(const struct jny_def *d, const struct sim_event *e)
{
	return e->name && jny_triggered_by(d, e->name, json_object_get(e->msg, "properties"));
}

static int simulate(struct sim *s, int64_t start, int64_t horizon, struct jny_inst *in, int *entered,
		    struct cairn_err *err)
{
	int by_event = s->d->trigger.type == JT_EVENT || s->d->trigger.type == JT_SEGMENT_ENTERED ||
		       s->d->trigger.type == JT_SEGMENT_EXITED;
	struct jny_host h;
	s->now = start;
	*entered = 0;
	if (!by_event) {
		host_at(s, &h);
		*entered = 1;
		if (jny_run(s->d, in, &h, JNY_ENTER, err) < 0)
			return -1;
	}
	while (in->state != JNY_EXITED) {
		int have_ev = s->seen < s->nev;
		int have_timer = *entered && in->state == JNY_WAITING && in->due_at;
		if (!have_ev && !have_timer)
			break;
		int take_ev = have_ev && (!have_timer || s->evs[s->seen].ts <= in->due_at);
		int64_t at = take_ev ? s->evs[s->seen].ts : in->due_at;
		if (at > horizon)
			break;
		s->now = at > s->now ? at : s->now;
		host_at(s, &h);
		if (!take_ev) {
			if (jny_run(s->d, in, &h, JNY_TIMER, err) < 0)
				return -1;
			continue;
		}
		const struct sim_event *e = &s->evs[s->seen++];
		s->cur_event = e->msg;
		if (!e->name) {
			json_object_update(s->traits, json_object_get(e->msg, "traits"));
		} else if (!*entered) {
			if (entered_by(s->d, e)) {
				*entered = 1;
				if (jny_run(s->d, in, &h, JNY_ENTER, err) < 0)
					return -1;
			}
		} else {
			int changed;
			if (jny_on_event(s->d, in, &h, e->name, json_object_get(e->msg, "properties"), &changed, err) <
			    0)
				return -1;
		}
		s->cur_event = NULL;
	}
	/* after leaving, the goal still counts within its window */
	int64_t until = *entered ? jny_goal_until(s->d, in) : 0;
	while (in->state == JNY_EXITED && until && s->seen < s->nev && s->evs[s->seen].ts <= until &&
	       s->evs[s->seen].ts <= horizon) {
		const struct sim_event *e = &s->evs[s->seen++];
		s->now = e->ts > s->now ? e->ts : s->now;
		host_at(s, &h);
		int changed;
		if (e->name &&
		    jny_on_event(s->d, in, &h, e->name, json_object_get(e->msg, "properties"), &changed, err) < 0)
			return -1;
		until = jny_goal_until(s->d, in);
	}
	return 0;
}

json_t *jny_simulate(const struct jny_def *d, const json_t *user, const json_t *events, const struct jny_sim_opts *o,
		     struct cairn_err *err)
{
	struct sim s;
	memset(&s, 0, sizeof s);
	s.d = d;
	s.o = o;
	json_t *result = NULL;
	if (load_user(&s, user, err) < 0 || load_events(&s, events, err) < 0)
		goto out;
	s.cc = (struct cond_ctx){.traits = s.traits,
				 .arg = &s,
				 .event_count = cb_count,
				 .event_sum = cb_sum,
				 .has_tag = cb_tag,
				 .in_segment = cb_segment,
				 .consent = cb_consent,
				 .score = cb_score,
				 .computed = cb_computed};
	int64_t start = o->start_ms ? o->start_ms : s.nev ? s.evs[0].ts : clock_now_ms();
	int64_t horizon = start + (o->horizon_ms ? o->horizon_ms : JNY_SIM_HORIZON_MS);
	result = json_pack("{s:[],s:[]}", "path", "messages");
	s.path = json_object_get(result, "path");
	s.messages = json_object_get(result, "messages");
	struct jny_inst in;
	memset(&in, 0, sizeof in);
	in.node = JNY_NONE;
	int entered;
	if (simulate(&s, start, horizon, &in, &entered, err) < 0) {
		json_decref(result);
		result = NULL;
		goto out;
	}
	json_object_set_new(result, "entered_at", entered ? time_json(in.entered_at) : json_null());
	int64_t conv = in.converted_at ? in.converted_at : s.converted_at;
	json_object_set_new(result, "converted_at", conv ? time_json(conv) : json_null());
	if (!entered)
		json_object_set_new(result, "exited", json_string("never entered: no event started the journey"));
	else
		json_object_set_new(result, "exited",
				    in.state == JNY_EXITED ? json_string(in.exit_reason) : json_null());
	if (entered && in.state != JNY_EXITED && in.node >= 0)
		json_object_set_new(result, "waiting_at",
				    json_pack("{s:s,s:o}", "node", d->nodes[in.node].id, "until",
					      in.due_at ? time_json(in.due_at) : json_null()));
out:
	json_decref(s.traits);
	json_decref(s.tags);
	json_decref(s.segments);
	json_decref(s.consent);
	free(s.evs);
	return result;
}

char *jny_sim_text(const json_t *r)
{
	struct buf b;
	buf_init(&b, BUF_MAX_RESPONSE);
	buf_addf(&b, "%-26s  %-16s  %s\n", "AT", "NODE", "WHAT");
	size_t i, k = 0;
	json_t *p, *msgs = json_object_get(r, "messages");
	json_array_foreach (json_object_get(r, "path"), i, p) {
		buf_addf(&b, "%-26s  %-16s  %s\n", jsonx_str(p, "at"), jsonx_str(p, "node"), jsonx_str(p, "reason"));
		/* the messages of this node right after its step */
		for (; k < json_array_size(msgs); k++) {
			json_t *m = json_array_get(msgs, k);
			if (strcmp(jsonx_str(m, "node"), jsonx_str(p, "node")) ||
			    strcmp(jsonx_str(m, "at"), jsonx_str(p, "at")))
				break;
			const char *sub = jsonx_str(m, "subject"), *body = jsonx_str(m, "body");
			buf_addf(&b, "%-26s  %-16s    %s: %s%s%.120s\n", "", "", jsonx_str(m, "channel"),
				 sub ? sub : "", sub ? " — " : "",
				 body			 ? body
				 : jsonx_str(m, "error") ? jsonx_str(m, "error")
							 : "");
		}
	}
	const char *ex = jsonx_str(r, "exited");
	buf_addf(&b, "%s\n", ex ? ex : "still in the journey");
	char *out = xstrdup(b.ptr);
	buf_release(&b);
	return out;
}
