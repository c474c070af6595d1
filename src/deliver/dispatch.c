/* dispatch.c — the dispatcher thread (see dispatch.h).
 *
 * A message's life here: claimed (store row "sending") → prepare() applies
 * the policies and builds the wire bytes into a job → the job waits in
 * `waiting` until its provider has a free connection and a token → the
 * transfer runs in the multi handle → done() classifies the answer into an
 * outcome → commit() records a batch of outcomes in one transaction. */
#include "deliver/dispatch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "content/content.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "deliver/email.h"
#include "deliver/links.h"
#include "deliver/provider.h"
#include "deliver/secret.h"
#include "deliver/smtp.h"
#include "deliver/wire.h"
#include "engine/engine.h"
#include "store/store_deliver.h"
#include "store/store_journey.h"

#define CLAIM_BATCH  256
#define POLL_MS	     100 /* look for due messages at least this often */
#define RESP_MAX     (64 * 1024)
#define BACKOFF_MAX  (3600 * 1000LL)
#define CONFIG_CHECK 500 /* ms between provider-config checks */
#define DEFAULT_TZ   "Asia/Seoul"
#define AD_PREFIX    "(광고)"

/* ---- providers and keys, as loaded ------------------------------------------------ */

struct pstate {
	struct dlv_provider p;
	int inflight;
	double tokens;
	int64_t tok_mono;
	int fails;
	int64_t open_until; /* mono; circuit open until then */
	struct smtp_client **idle;
	size_t nidle, idle_cap;
};

struct dkey {
	int64_t ws;
	char *domain, *selector, *pem;
	int ed25519;
};

/* ---- jobs and outcomes --------------------------------------------------------------- */

struct job {
	struct job *next;
	struct store_dlv_msg m;
	json_t *content;
	struct pstate *ps;
	char to[320];
	char mail_from[320];
	char ref[EMAIL_MESSAGE_ID_MAX];
	char subject[256];
	char to_name[256];
	char *sender_info;	 /* the workspace's, when the provider has none */
	const struct dkey *dkim; /* the From domain's key, or NULL */
	int build_rc;		 /* set by the preparing thread: 0 ok, -1 failed (reason) */
	char reason[700];
	struct buf wire;
	CURL *easy;
	struct smtp_client *smtp;
	struct smtp_result sres;
	struct curl_slist *hdrs;
	struct buf resp;
	long retry_after_s;
	char errbuf[CURL_ERROR_SIZE];
};

enum emit { EMIT_NONE, EMIT_SENT, EMIT_FAILED };

struct outcome {
	struct store_dlv_msg m;
	json_t *content;
	char status[16], event[16];
	char *reason, *provider, *to, *ref;
	int attempts;
	int64_t at, send_at;
	enum emit emit;
	int fallback;  /* queue the next channel of the chain */
	int bounce;    /* hard bounce: suppress the address, emit Email Bounced */
	char *reroute; /* channel to reroute to (preferred channel) */
	char subject[256];
};

struct dlv_dispatcher {
	struct store *st;
	char *public_url, *data_dir;
	unsigned char link_key[DLV_LINK_KEY_BYTES];
	void (*on_commit)(void *);
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t idle_cond;
	int stopping;
	atomic_int kicked;
	uint64_t sync_req, sync_done;
	CURLM *multi;
	/* the thread's own state */
	struct pstate **ps;
	size_t nps;
	struct dkey **keys; /* each allocated once: jobs in preparation point at them */
	size_t nkeys;
	int64_t config_version, config_checked;
	struct job *waiting, *waiting_tail;
	size_t njobs; /* claimed and not yet an outcome */
	struct outcome *out;
	size_t nout, out_cap;
	int64_t first_out_mono;
	/* preparation threads: build MIME, sign DKIM, render provider bodies */
	pthread_t prep[DLV_PREP_THREADS];
	int nprep;
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	struct job *prep_head, *prep_tail;   /* to build */
	struct job *ready_head, *ready_tail; /* built */
	int prep_stop;
	int prep_idle; /* preparing threads waiting for work */
	/* per claim round: the last workspace's settings */
	int64_t set_ws;
	json_t *set_kill;
	char set_tz[64];
	char *set_sender;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers --------------------------------------------------------------------- */

int dlv_killed(const json_t *kill, const char *channel, const char *journey_id)
{
	if (!json_is_object(kill))
		return 0;
	if (json_is_true(json_object_get(kill, "global")))
		return 1;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(kill, "channels"), i, v)
		if (channel && json_is_string(v) && !strcmp(json_string_value(v), channel))
			return 1;
	json_array_foreach (json_object_get(kill, "journeys"), i, v)
		if (journey_id && json_is_string(v) && !strcmp(json_string_value(v), journey_id))
			return 1;
	return 0;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	store_dlv_msg_release(&j->m);
	json_decref(j->content);
	free(j->sender_info);
	buf_release(&j->wire);
	buf_release(&j->resp);
	curl_slist_free_all(j->hdrs);
	if (j->easy)
		curl_easy_cleanup(j->easy);
	free(j);
}

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Turns a job into an outcome (the job's message moves into it). */
static struct outcome *outcome_add(struct dlv_dispatcher *d, struct job *j, const char *status, const char *event,
				   const char *reason, int64_t send_at)
{
	if (d->nout == d->out_cap) {
		d->out_cap = d->out_cap ? d->out_cap * 2 : 64;
		d->out = xrealloc(d->out, d->out_cap * sizeof *d->out);
	}
	if (d->nout == 0)
		d->first_out_mono = clock_mono_ms();
	struct outcome *o = &d->out[d->nout++];
	memset(o, 0, sizeof *o);
	o->m = j->m;
	memset(&j->m, 0, sizeof j->m);
	o->content = j->content;
	j->content = NULL;
	snprintf(o->status, sizeof o->status, "%s", status);
	snprintf(o->event, sizeof o->event, "%s", event);
	o->reason = dupn(reason);
	o->provider = j->ps ? xstrdup(j->ps->p.id) : NULL;
	o->to = j->to[0] ? xstrdup(j->to) : NULL;
	o->ref = j->ref[0] ? xstrdup(j->ref) : NULL;
	o->attempts = o->m.attempts;
	o->at = clock_now_ms();
	o->send_at = send_at;
	snprintf(o->subject, sizeof o->subject, "%s", j->subject);
	d->njobs--;
	return o;
}

static void outcome_release(struct outcome *o)
{
	store_dlv_msg_release(&o->m);
	json_decref(o->content);
	free(o->reason);
	free(o->provider);
	free(o->to);
	free(o->ref);
	free(o->reroute);
}

/* ---- configuration: providers and DKIM keys ------------------------------------------- */

static void providers_free(struct dlv_dispatcher *d)
{
	for (size_t i = 0; i < d->nps; i++) {
		struct pstate *ps = d->ps[i];
		for (size_t k = 0; k < ps->nidle; k++)
			smtp_client_free(ps->idle[k]);
		free(ps->idle);
		dlv_provider_release(&ps->p);
		free(ps);
	}
	free(d->ps);
	d->ps = NULL;
	d->nps = 0;
	for (size_t i = 0; i < d->nkeys; i++) {
		struct dkey *k = d->keys[i];
		free(k->domain);
		free(k->selector);
		if (k->pem) {
			sodium_memzero(k->pem, strlen(k->pem));
			free(k->pem);
		}
		free(k);
	}
	free(d->keys);
	d->keys = NULL;
	d->nkeys = 0;
}

/* Reloads providers when their configuration changed. Providers with jobs
 * in flight are kept (retired when idle) — a reload only happens with none
 * in flight, which the caller checks. */
static void providers_refresh(struct dlv_dispatcher *d, int force)
{
	int64_t mono = clock_mono_ms();
	if (!force && mono - d->config_checked < CONFIG_CHECK)
		return;
	d->config_checked = mono;
	int64_t v = store_dlv_config_version(d->st);
	if (v == d->config_version && d->ps)
		return;
	if (d->njobs)
		return; /* jobs point at the loaded providers: reload when they are done */
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_provider *rows = NULL;
	size_t n = 0;
	if (store_dlv_providers(d->st, 0, NULL, &rows, &n, &err) < 0) {
		log_error("cannot load providers", "error", err.message, NULL);
		return;
	}
	providers_free(d);
	d->ps = xcalloc(n ? n : 1, sizeof *d->ps);
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].disabled) {
			struct pstate *ps = xcalloc(1, sizeof *ps);
			struct cairn_err e = CAIRN_ERR_INIT;
			if (dlv_provider_load(&rows[i], &ps->p, &e) == 0) {
				ps->tokens = ps->p.rate_per_sec > 0 ? ps->p.rate_per_sec : 0;
				ps->tok_mono = mono;
				d->ps[d->nps++] = ps;
			} else {
				log_error("provider not loaded", "provider", rows[i].id, "error", e.message, NULL);
				free(ps);
			}
		}
		store_dlv_provider_release(&rows[i]);
	}
	free(rows);
	d->config_version = v;
}

/* The DKIM key of ws's sender domain, loaded on first use (NULL: none). */
static const struct dkey *dkim_key(struct dlv_dispatcher *d, int64_t ws, const char *domain)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i]->ws == ws && !strcasecmp(d->keys[i]->domain, domain))
			return d->keys[i]->pem ? d->keys[i] : NULL;
	d->keys = xrealloc(d->keys, (d->nkeys + 1) * sizeof *d->keys);
	struct dkey *k = xcalloc(1, sizeof *k);
	d->keys[d->nkeys++] = k;
	k->ws = ws;
	k->domain = xstrdup(domain);
	struct store_dlv_domain row;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_domain_get(d->st, ws, domain, &row, &err) == 0) {
		size_t len;
		if (dlv_unseal(row.private_key, row.private_key_len, &k->pem, &len, &err) == 0) {
			k->selector = xstrdup(row.selector);
			k->ed25519 = !strcmp(row.algorithm, "ed25519");
		} else {
			log_error("cannot open a DKIM key", "domain", domain, "error", err.message, NULL);
		}
		store_dlv_domain_release(&row);
	}
	return k->pem ? k : NULL;
}

/* The providers of (ws, channel), by priority. */
static size_t providers_for(struct dlv_dispatcher *d, int64_t ws, const char *channel, struct pstate **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nps && n < cap; i++)
		if (d->ps[i]->p.ws == ws && !strcmp(d->ps[i]->p.channel, channel))
			out[n++] = d->ps[i];
	return n;
}

/* ---- workspace settings for a claim round ---------------------------------------------- */

static void settings_load(struct dlv_dispatcher *d, int64_t ws)
{
	if (d->set_ws == ws)
		return;
	json_decref(d->set_kill);
	free(d->set_sender);
	d->set_ws = ws;
	char *k = store_setting_get(d->st, ws, "kill_switch");
	d->set_kill = k ? jsonx_loadb(k, strlen(k), 0, NULL) : NULL;
	free(k);
	char *tz = store_setting_get(d->st, ws, "timezone");
	json_t *tzj = tz ? jsonx_loadb(tz, strlen(tz), JSON_DECODE_ANY, NULL) : NULL;
	snprintf(d->set_tz, sizeof d->set_tz, "%s",
		 json_is_string(tzj) && tz_valid(json_string_value(tzj)) ? json_string_value(tzj) : DEFAULT_TZ);
	json_decref(tzj);
	free(tz);
	char *s = store_setting_get(d->st, ws, "sender_info");
	json_t *sj = s ? jsonx_loadb(s, strlen(s), JSON_DECODE_ANY, NULL) : NULL;
	d->set_sender = json_is_string(sj) ? xstrdup(json_string_value(sj)) : NULL;
	json_decref(sj);
	free(s);
}

static void settings_forget(struct dlv_dispatcher *d)
{
	d->set_ws = 0;
}

/* ---- policies ------------------------------------------------------------------------------ */

/* The recipient's address for channel into j->to, or -1 with reason. */
static int resolve_address(struct job *j, const json_t *traits, char *reason, size_t cap)
{
	const char *ch = j->m.channel;
	json_t *rcpt = j->m.recipient ? jsonx_loadb(j->m.recipient, strlen(j->m.recipient), 0, NULL) : NULL;
	const char *v = NULL;
	int rc = 0;
	if (!strcmp(ch, "email")) {
		v = jsonx_str(rcpt, "email") ?: jsonx_str(traits, "email");
		if (!v || !dlv_email_valid(v)) {
			snprintf(reason, cap,
				 v ? "the email address \"%.200s\" is not valid"
				   : "the user has no email "
				     "address (trait email)",
				 v ? v : "");
			rc = -1;
		} else {
			snprintf(j->to, sizeof j->to, "%s", v);
		}
	} else if (!strcmp(ch, "sms") || !strcmp(ch, "kakao")) {
		v = jsonx_str(rcpt, "phone") ?: jsonx_str(traits, "phone") ?: jsonx_str(traits, "phone_number");
		struct cairn_err e = CAIRN_ERR_INIT;
		if (!v) {
			snprintf(reason, cap, "the user has no phone number (trait phone)");
			rc = -1;
		} else if (dlv_phone_normalize(v, j->to, sizeof j->to, &e) < 0) {
			snprintf(reason, cap, "%s", e.message);
			rc = -1;
		}
	} else if (!strcmp(ch, "push")) {
		v = jsonx_str(rcpt, "push_token") ?: jsonx_str(traits, "push_token") ?: jsonx_str(traits, "device_token");
		if (!v) {
			snprintf(reason, cap, "the user has no push token (trait push_token)");
			rc = -1;
		} else {
			snprintf(j->to, sizeof j->to, "%s", v);
		}
	} else if (!strcmp(ch, "webhook")) {
		v = jsonx_str(j->content, "url") ?: jsonx_str(rcpt, "url");
		if (!v) {
			snprintf(reason, cap, "the webhook message has no url");
			rc = -1;
		} else {
			snprintf(j->to, sizeof j->to, "%s", v);
		}
	} else {
		snprintf(j->to, sizeof j->to, "%s", jsonx_str(j->content, "channel") ?: "slack");
	}
	json_decref(rcpt);
	return rc;
}

/* The consent that blocks a marketing message, or NULL. */
static const char *consent_block(const struct job *j, const json_t *consent, char *reason, size_t cap)
{
	if (j->m.transactional || !consent)
		return NULL;
	const char *ch = j->m.channel;
	if (!strcmp(ch, "webhook") || !strcmp(ch, "slack"))
		return NULL;
	const char *st = jsonx_str(json_object_get(consent, "channel"), ch);
	if (st && !strcmp(st, "unsubscribed")) {
		snprintf(reason, cap, "consent: the user unsubscribed from %s", ch);
		return reason;
	}
	if (j->m.advertising && (!st || strcmp(st, "subscribed"))) {
		snprintf(reason, cap, "consent: an advertising message needs the user's opt-in for %s (consent is %s)",
			 ch, st ? st : "unknown");
		return reason;
	}
	if (j->m.topic) {
		const char *ts = jsonx_str(json_object_get(consent, "topic"), j->m.topic);
		if (ts && !strcmp(ts, "unsubscribed")) {
			snprintf(reason, cap, "consent: the user unsubscribed from the topic %s", j->m.topic);
			return reason;
		}
	}
	return NULL;
}

/* ---- fallback chains --------------------------------------------------------------------- */

/* The content of msg (channel from, content c) for channel to, or NULL when
 * it cannot be derived. */
static json_t *derive_content(const char *from, const json_t *c, const char *to)
{
	const char *text = NULL;
	if (!strcmp(to, "sms")) {
		text = jsonx_str(c, "fallback_text");
		if (!text && (!strcmp(from, "kakao") || !strcmp(from, "slack") || !strcmp(from, "sms")))
			text = jsonx_str(c, "text");
		if (!text && !strcmp(from, "push"))
			text = jsonx_str(c, "body");
		if (!text && !strcmp(from, "email"))
			text = jsonx_str(c, "text") ?: jsonx_str(c, "subject");
		return text ? json_pack("{s:s}", "text", text) : NULL;
	}
	if (!strcmp(to, "push")) {
		text = jsonx_str(c, "fallback_text") ?: jsonx_str(c, "text");
		return text ? json_pack("{s:s,s:s}", "title", jsonx_str(c, "title") ?: "", "body", text) : NULL;
	}
	return NULL;
}

/* The fallback chain of a message: its content's "_fallback", or sms for
 * a Kakao message with a fallback text. A new array. */
static json_t *chain_of(const struct store_dlv_msg *m, const json_t *content)
{
	json_t *fb = json_object_get(content, "_fallback");
	if (json_is_array(fb))
		return json_deep_copy(fb);
	if (!strcmp(m->channel, "kakao") && jsonx_str(content, "fallback_text"))
		return json_pack("[s]", "sms");
	return json_array();
}

/* Queues the next message of the chain (or `only` when given). */
static int queue_fallback(struct store *st, const struct outcome *o, const char *only, struct cairn_err *err)
{
	json_t *chain = chain_of(&o->m, o->content);
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach (chain, i, v) {
		const char *to = json_string_value(v);
		if (!to || (only && strcmp(only, to)))
			continue;
		json_t *c = derive_content(o->m.channel, o->content, to);
		if (!c)
			continue;
		json_t *rest = json_array();
		for (size_t k = i + 1; k < json_array_size(chain); k++)
			if (!only || strcmp(json_string_value(json_array_get(chain, k)) ?: "", to))
				json_array_append(rest, json_array_get(chain, k));
		if (json_array_size(rest))
			json_object_set_new(c, "_fallback", rest);
		else
			json_decref(rest);
		char id[200];
		snprintf(id, sizeof id, "%.150s-%s", o->m.message_id, to);
		char *text = json_dumps(c, JSON_COMPACT);
		json_decref(c);
		struct store_message nm = {.message_id = id,
					   .ws = o->m.ws,
					   .profile_id = o->m.profile_id,
					   .version = o->m.version,
					   .journey_id = o->m.journey_id,
					   .node = o->m.node,
					   .variant = o->m.variant,
					   .channel = to,
					   .template_id = o->m.template_id,
					   .advertising = o->m.advertising,
					   .transactional = o->m.transactional,
					   .topic = o->m.topic,
					   .recipient = o->m.recipient,
					   .parent_id = o->m.message_id,
					   .content = text,
					   .status = "queued",
					   .created_at = o->at,
					   .send_at = o->at};
		rc = store_message_insert(st, &nm, NULL, err);
		free(text);
		break;
	}
	json_decref(chain);
	return rc;
}

/* ---- building what goes on the wire ------------------------------------------------------ */

/* Korea's advertising rule for text channels: "(광고)" first. */
static void ad_prefix(json_t *content, const char *key)
{
	const char *t = jsonx_str(content, key);
	if (!t || !strncmp(t, AD_PREFIX, strlen(AD_PREFIX)))
		return;
	size_t n = strlen(t) + strlen(AD_PREFIX) + 2;
	char *s = xmalloc(n);
	snprintf(s, n, "%s %s", AD_PREFIX, t);
	json_object_set_new(content, key, json_string(s));
	free(s);
}

static int build_email(struct dlv_dispatcher *d, struct job *j, char *reason, size_t cap)
{
	const struct dlv_provider *p = &j->ps->p;
	const char *from = jsonx_str(j->content, "from") ?: p->from;
	if (!from || dlv_from_address(from, j->mail_from, sizeof j->mail_from) < 0) {
		snprintf(reason, cap, "no valid From address (give the provider or the template one)");
		return -1;
	}
	struct buf unsub, html;
	buf_init(&unsub, 4096);
	buf_init(&html, BUF_MAX_RENDER);
	const char *base = d->public_url;
	if (base && !strncmp(base, "https://", 8))
		dlv_link_unsubscribe(&unsub, d->link_key, base, j->m.message_id);
	const char *h = jsonx_str(j->content, "html");
	if (h && base)
		dlv_html_track(&html, h, strlen(h), d->link_key, base, j->m.message_id, 1, 1);
	const char *subject = jsonx_str(j->content, "subject") ?: "";
	snprintf(j->subject, sizeof j->subject, "%s", subject);
	struct email_in in = {.from = from,
			      .reply_to = p->reply_to,
			      .to = j->to,
			      .to_name = j->to_name[0] ? j->to_name : NULL,
			      .subject = subject,
			      .preheader = jsonx_str(j->content, "preheader"),
			      .html = h && base ? html.ptr : h,
			      .text = jsonx_str(j->content, "text"),
			      .unsubscribe_url = unsub.len ? unsub.ptr : NULL,
			      .unsubscribe_mailto = p->unsubscribe_mailto,
			      .advertising = j->m.advertising && !j->m.transactional,
			      .sender_info = p->sender_info ?: j->sender_info,
			      .optout_text = NULL,
			      .date_ms = clock_now_ms()};
	if (in.advertising && !in.unsubscribe_url && !in.unsubscribe_mailto)
		in.optout_text = "수신을 원하지 않으시면 회신으로 수신거부를 알려 주세요. "
				 "(To unsubscribe, reply to this email.)";
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = email_build(&in, &j->wire, j->ref, sizeof j->ref, &err);
	buf_release(&unsub);
	buf_release(&html);
	if (rc < 0) {
		snprintf(reason, cap, "the email cannot be built: %s", err.message);
		return -1;
	}
	const struct dkey *k = j->dkim;
	if (k && email_dkim_sign(&j->wire, k->domain, k->selector, k->pem, k->ed25519, &err) < 0) {
		snprintf(reason, cap, "DKIM signing failed: %s", err.message);
		return -1;
	}
	return 0;
}

/* The request body of an HTTP provider. */
static int build_http(struct dlv_dispatcher *d, struct job *j, char *reason, size_t cap)
{
	const struct dlv_provider *p = &j->ps->p;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *payload = NULL;
	if (!strcmp(j->m.channel, "webhook")) {
		const char *b = jsonx_str(j->content, "body") ?: "";
		buf_adds(&j->wire, b);
		return 0;
	}
	if (!strcmp(j->m.channel, "email")) {
		payload = json_pack("{s:s,s:s,s:s,s:s}", "to", j->to, "from", jsonx_str(j->content, "from") ?: p->from,
				    "subject", jsonx_str(j->content, "subject") ?: "", "message_id", j->m.message_id);
		const char *h = jsonx_str(j->content, "html");
		if (h && d->public_url) {
			struct buf html;
			buf_init(&html, BUF_MAX_RENDER);
			dlv_html_track(&html, h, strlen(h), d->link_key, d->public_url, j->m.message_id, 1, 1);
			json_object_set_new(payload, "html", json_stringn(html.ptr, html.len));
			buf_release(&html);
		} else if (h) {
			json_object_set_new(payload, "html", json_string(h));
		}
		if (jsonx_str(j->content, "text"))
			json_object_set_new(payload, "text", json_string(jsonx_str(j->content, "text")));
		snprintf(j->subject, sizeof j->subject, "%s", jsonx_str(j->content, "subject") ?: "");
	} else if (dlv_wire_payload(j->m.channel, j->content, j->to, &payload, &err) < 0) {
		snprintf(reason, cap, "%s", err.message);
		return -1;
	}
	int rc = 0;
	if (p->body) {
		json_t *data = json_pack("{s:O,s:s,s:{s:s,s:s,s:o,s:o}}", "payload", payload, "to", j->to, "message",
					 "id", j->m.message_id, "channel", j->m.channel, "journey_id",
					 j->m.journey_id ? json_string(j->m.journey_id) : json_null(), "template_id",
					 j->m.template_id ? json_string(j->m.template_id) : json_null());
		rc = tpl_render(p->body, data, NULL, &j->wire, &err);
		json_decref(data);
		if (rc < 0)
			snprintf(reason, cap, "the provider's body template failed: %s", err.message);
	} else {
		rc = jsonx_dump_buf(payload, &j->wire);
	}
	json_decref(payload);
	return rc < 0 ? -1 : 0;
}

static size_t resp_cb(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	if (j->resp.len + len <= RESP_MAX)
		buf_add(&j->resp, p, len);
	return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12))
		j->retry_after_s = strtol(p + 12, NULL, 10);
	return len;
}

/* Sets up the easy handle of an HTTP job (provider or webhook). */
static void http_setup(struct job *j)
{
	const struct dlv_provider *p = &j->ps->p;
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	j->easy = h;
	buf_init(&j->resp, RESP_MAX + 1);
	const char *url = !strcmp(j->m.channel, "webhook") ? j->to : p->url;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->wire.ptr ? j->wire.ptr : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->wire.len);
	if (p->method && !strcmp(p->method, "PUT"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, resp_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_PRIVATE, j);
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
	l = curl_slist_append(l, "User-Agent: cairn");
	l = curl_slist_append(l, "Expect:");
	const char *k;
	json_t *v;
	json_object_foreach (p->headers, k, v) {
		char line[2048];
		snprintf(line, sizeof line, "%s: %s", k, json_string_value(v));
		l = curl_slist_append(l, line);
	}
	if (!strcmp(j->m.channel, "webhook") && p->secret) {
		int64_t ts = clock_now_ms() / 1000;
		char sig[128], line[256];
		struct cairn_err e = CAIRN_ERR_INIT;
		if (dlv_webhook_sign(p->secret, j->m.message_id, ts, j->wire.ptr ? j->wire.ptr : "", j->wire.len, sig,
				     sizeof sig, &e) == 0) {
			snprintf(line, sizeof line, "webhook-id: %s", j->m.message_id);
			l = curl_slist_append(l, line);
			snprintf(line, sizeof line, "webhook-timestamp: %lld", (long long)ts);
			l = curl_slist_append(l, line);
			snprintf(line, sizeof line, "webhook-signature: %s", sig);
			l = curl_slist_append(l, line);
		}
	}
	j->hdrs = l;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
}

/* Writes a job to the file provider's outbox (development). */
static int file_write(struct dlv_dispatcher *d, struct job *j, char *reason, size_t cap)
{
	const struct dlv_provider *p = &j->ps->p;
	char dir[4096], path[4200];
	if (p->path)
		snprintf(dir, sizeof dir, "%s", p->path);
	else
		snprintf(dir, sizeof dir, "%s/outbox", d->data_dir ? d->data_dir : ".");
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/%s.jsonl", dir, j->m.channel);
	json_t *line = json_pack("{s:s,s:s,s:s,s:o,s:O}", "message_id", j->m.message_id, "channel", j->m.channel, "to",
				 j->to, "at", jsonx_time(clock_now_ms()), "content", j->content);
	if (j->wire.len)
		json_object_set_new(line, !strcmp(j->m.channel, "email") ? "mime" : "body",
				    json_stringn(j->wire.ptr, j->wire.len));
	char *s = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	FILE *f = fopen(path, "a");
	int ok = f && fprintf(f, "%s\n", s) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	free(s);
	if (!ok) {
		snprintf(reason, cap, "cannot write %.500s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(j->ref, sizeof j->ref, "file:%s.jsonl", j->m.channel);
	return 0;
}

/* ---- from claim to transfer ---------------------------------------------------------------- */

static int64_t backoff_ms(const struct dlv_provider *p, int round)
{
	int64_t b = p->retry_base_ms;
	for (int i = 1; i < round && b < BACKOFF_MAX; i++)
		b *= 2;
	if (b > BACKOFF_MAX)
		b = BACKOFF_MAX;
	if (b > 0) /* ±20 % jitter */
		b = b * 8 / 10 + (int64_t)randombytes_uniform((uint32_t)(b * 4 / 10 + 1));
	return b;
}

static void build(struct dlv_dispatcher *d, struct job *j);
static void built(struct dlv_dispatcher *d, struct job *j);

/* Applies the policies to a claimed message and builds it: the job either
 * becomes an outcome at once or waits for its provider. */
static void prepare(struct dlv_dispatcher *d, struct job *j)
{
	char reason[700] = "";
	int64_t now = clock_now_ms();
	const struct store_dlv_msg *m = &j->m;
	j->content = m->content ? jsonx_loadb(m->content, strlen(m->content), 0, NULL) : NULL;
	if (!j->content)
		j->content = json_object();
	settings_load(d, m->ws);
	/* kill switch: held until it is lifted */
	if (dlv_killed(d->set_kill, m->channel, m->journey_id)) {
		outcome_add(d, j, "held", "held", "kill_switch", STORE_DLV_NEVER);
		job_free(j);
		return;
	}
	struct store_dlv_person person;
	memset(&person, 0, sizeof person);
	struct cairn_err err = CAIRN_ERR_INIT;
	if (m->profile_id > 0 && store_dlv_person(d->st, m->ws, m->profile_id, &person, &err) < 0) {
		snprintf(reason, sizeof reason, "the user is gone: %s", err.message);
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_NONE;
		job_free(j);
		return;
	}
	const json_t *traits = person.traits;
	/* preferred channel among the fallbacks: go there instead */
	const char *pref = jsonx_str(traits, "preferred_channel");
	if (pref && strcmp(pref, m->channel)) {
		json_t *chain = chain_of(m, j->content);
		size_t i;
		json_t *v;
		int found = 0;
		json_array_foreach (chain, i, v)
			if (json_is_string(v) && !strcmp(json_string_value(v), pref))
				found = 1;
		json_decref(chain);
		json_t *probe = found ? derive_content(m->channel, j->content, pref) : NULL;
		if (probe) {
			json_decref(probe);
			snprintf(reason, sizeof reason, "routed to %s, the user's preferred channel", pref);
			struct outcome *o = outcome_add(d, j, "rerouted", "rerouted", reason, 0);
			o->reroute = xstrdup(pref);
			job_free(j);
			store_dlv_person_release(&person);
			return;
		}
	}
	if (resolve_address(j, traits, reason, sizeof reason) < 0) {
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_FAILED;
		o->fallback = 1;
		job_free(j);
		store_dlv_person_release(&person);
		return;
	}
	char why[300];
	int sup = store_dlv_suppressed(d->st, m->ws, m->channel, j->to, why, sizeof why, &err);
	if (sup == 1) {
		snprintf(reason, sizeof reason, "suppressed: %s is on the suppression list (%s)", j->to, why);
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_FAILED;
		o->fallback = 1;
		job_free(j);
		store_dlv_person_release(&person);
		return;
	}
	if (consent_block(j, person.consent, reason, sizeof reason)) {
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_FAILED;
		job_free(j);
		store_dlv_person_release(&person);
		return;
	}
	/* Korea's night rule: advertising waits for the morning without night consent */
	if (m->advertising && !m->transactional) {
		const char *night = jsonx_str(json_object_get(person.consent, "channel"), "night");
		const char *tz = jsonx_str(traits, "timezone");
		if (!tz_valid(tz))
			tz = d->set_tz;
		int64_t release = now;
		if ((!night || strcmp(night, "subscribed")) &&
		    tz_quiet_release(tz, now, TZ_QUIET_START_DEFAULT, TZ_QUIET_END_DEFAULT, &release) == 0 &&
		    release > now) {
			char when[CLOCK_RFC3339_LEN];
			clock_format_rfc3339(release, when);
			snprintf(reason, sizeof reason,
				 "quiet hours: no advertising 21:00–08:00 local time (%s) without night consent; held "
				 "until %s",
				 tz, when);
			outcome_add(d, j, "held", "held", reason, release);
			job_free(j);
			store_dlv_person_release(&person);
			return;
		}
		if (!strcmp(m->channel, "kakao") && jsonx_str(j->content, "template_code")) {
			snprintf(reason, sizeof reason,
				 "AlimTalk carries informational messages only; advertise through FriendTalk (a Kakao "
				 "message without template_code)");
			struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
			o->emit = EMIT_FAILED;
			o->fallback = 1;
			job_free(j);
			store_dlv_person_release(&person);
			return;
		}
		if (!strcmp(m->channel, "sms") || !strcmp(m->channel, "kakao")) {
			ad_prefix(j->content, "text");
			ad_prefix(j->content, "fallback_text");
		}
	}
	/* a provider: attempts rotate through the channel's providers */
	struct pstate *cand[16];
	size_t n = providers_for(d, m->ws, m->channel, cand, 16);
	if (n == 0) {
		snprintf(reason, sizeof reason, "no provider for the %s channel; add one with POST /api/v1/providers",
			 m->channel);
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_FAILED;
		o->fallback = 1;
		job_free(j);
		store_dlv_person_release(&person);
		return;
	}
	int64_t mono = clock_mono_ms();
	struct pstate *ps = NULL;
	int64_t soonest = INT64_MAX;
	for (size_t k = 0; k < n && !ps; k++) {
		struct pstate *c = cand[((size_t)m->attempts + k) % n];
		if (c->open_until <= mono)
			ps = c;
		else if (c->open_until < soonest)
			soonest = c->open_until;
	}
	if (!ps) {
		snprintf(reason, sizeof reason, "every %s provider is failing (circuit open); waiting", m->channel);
		outcome_add(d, j, "queued", "deferred", reason, now + (soonest - mono));
		job_free(j);
		store_dlv_person_release(&person);
		return;
	}
	j->ps = ps;
	/* what the preparing thread needs, copied: it touches no shared state */
	if (!strcmp(m->channel, "email")) {
		const char *name = jsonx_str(traits, "name");
		if (name)
			snprintf(j->to_name, sizeof j->to_name, "%s", name);
		else if (jsonx_str(traits, "first_name"))
			snprintf(j->to_name, sizeof j->to_name, "%s%s%s", jsonx_str(traits, "first_name"),
				 jsonx_str(traits, "last_name") ? " " : "", jsonx_str(traits, "last_name") ?: "");
		j->sender_info = d->set_sender ? xstrdup(d->set_sender) : NULL;
		char addr[320];
		const char *from = jsonx_str(j->content, "from") ?: ps->p.from;
		const char *at = from && dlv_from_address(from, addr, sizeof addr) == 0 ? strrchr(addr, '@') : NULL;
		j->dkim = at ? dkim_key(d, m->ws, at + 1) : NULL;
	}
	store_dlv_person_release(&person);
	if (d->nprep) {
		pthread_mutex_lock(&d->plock);
		if (d->prep_tail)
			d->prep_tail->next = j;
		else
			d->prep_head = j;
		d->prep_tail = j;
		if (d->prep_idle) /* a busy thread takes the next job itself */
			pthread_cond_signal(&d->pcond);
		pthread_mutex_unlock(&d->plock);
	} else {
		build(d, j);
		built(d, j);
	}
}

/* Builds a job's wire bytes (any thread). */
static void build(struct dlv_dispatcher *d, struct job *j)
{
	buf_init(&j->wire, BUF_MAX_RENDER * 2);
	const struct pstate *ps = j->ps;
	if (ps->p.type == DLV_P_SMTP || (ps->p.type == DLV_P_FILE && !strcmp(j->m.channel, "email")))
		j->build_rc = build_email(d, j, j->reason, sizeof j->reason);
	else if (ps->p.type == DLV_P_FILE)
		j->build_rc = 0;
	else
		j->build_rc = build_http(d, j, j->reason, sizeof j->reason);
}

/* A built job (dispatcher thread): an outcome, or on to wait for its provider. */
static void built(struct dlv_dispatcher *d, struct job *j)
{
	int rc = j->build_rc;
	if (rc == 0 && j->ps->p.type == DLV_P_FILE)
		rc = file_write(d, j, j->reason, sizeof j->reason) == 0 ? 1 : -1;
	if (rc < 0) {
		struct outcome *o = outcome_add(d, j, "failed", "failed", j->reason, 0);
		o->emit = EMIT_FAILED;
		o->fallback = 1;
		job_free(j);
		return;
	}
	if (rc == 1) {
		struct outcome *o = outcome_add(d, j, "sent", "sent", NULL, 0);
		o->emit = EMIT_SENT;
		job_free(j);
		return;
	}
	if (!d->waiting_tail)
		d->waiting = j;
	else
		d->waiting_tail->next = j;
	d->waiting_tail = j;
}

static void *prep_main(void *arg)
{
	struct dlv_dispatcher *d = arg;
	pthread_setname_np(pthread_self(), "cairn-dlv-prep");
	pthread_mutex_lock(&d->plock);
	for (;;) {
		while (!d->prep_head && !d->prep_stop) {
			d->prep_idle++;
			pthread_cond_wait(&d->pcond, &d->plock);
			d->prep_idle--;
		}
		if (!d->prep_head)
			break;
		struct job *j = d->prep_head;
		d->prep_head = j->next;
		if (!d->prep_head)
			d->prep_tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&d->plock);
		build(d, j);
		pthread_mutex_lock(&d->plock);
		int was_empty = !d->ready_head;
		if (d->ready_tail)
			d->ready_tail->next = j;
		else
			d->ready_head = j;
		d->ready_tail = j;
		if (was_empty) /* one wake-up per batch the dispatcher takes */
			curl_multi_wakeup(d->multi);
	}
	pthread_mutex_unlock(&d->plock);
	tpl_thread_cleanup();
	return NULL;
}

/* Takes the jobs the preparing threads finished. */
static void take_ready(struct dlv_dispatcher *d)
{
	if (!d->nprep)
		return;
	pthread_mutex_lock(&d->plock);
	struct job *j = d->ready_head;
	d->ready_head = d->ready_tail = NULL;
	pthread_mutex_unlock(&d->plock);
	while (j) {
		struct job *next = j->next;
		j->next = NULL;
		built(d, j);
		j = next;
	}
}

/* Starts waiting jobs whose provider has room and a token; keeps order
 * per provider. Returns ms until a token comes (0 when none awaited). */
static int64_t start_waiting(struct dlv_dispatcher *d)
{
	int64_t mono = clock_mono_ms(), wait = 0;
	struct job **pp = &d->waiting, *prev = NULL;
	for (size_t i = 0; i < d->nps; i++) { /* refill buckets */
		struct pstate *ps = d->ps[i];
		if (ps->p.rate_per_sec > 0) {
			ps->tokens += (double)(mono - ps->tok_mono) * ps->p.rate_per_sec / 1000.0;
			double burst = ps->p.rate_per_sec < 1 ? 1 : ps->p.rate_per_sec;
			if (ps->tokens > burst)
				ps->tokens = burst;
			ps->tok_mono = mono;
		}
	}
	/* providers that can start something now: none left, stop looking */
	size_t avail = 0;
	for (size_t i = 0; i < d->nps; i++)
		avail += d->ps[i]->inflight < d->ps[i]->p.concurrency;
	while (*pp && avail) {
		struct job *j = *pp;
		struct pstate *ps = j->ps;
		int room = ps->inflight < ps->p.concurrency;
		int token = ps->p.rate_per_sec <= 0 || ps->tokens >= 1.0;
		if (!room || !token) {
			if (room && !token) {
				int64_t w = (int64_t)((1.0 - ps->tokens) * 1000.0 / ps->p.rate_per_sec) + 1;
				if (!wait || w < wait)
					wait = w;
			}
			prev = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (d->waiting_tail == j)
			d->waiting_tail = prev;
		j->next = NULL;
		if (ps->p.rate_per_sec > 0)
			ps->tokens -= 1.0;
		if (++ps->inflight >= ps->p.concurrency)
			avail--;
		CURL *h;
		if (ps->p.type == DLV_P_SMTP) {
			if (ps->nidle) {
				j->smtp = ps->idle[--ps->nidle];
			} else {
				struct smtp_conf sc = {.url = ps->p.url,
						       .username = ps->p.username,
						       .password = ps->p.password,
						       .starttls = ps->p.starttls,
						       .timeout_ms = ps->p.timeout_ms};
				struct cairn_err e = CAIRN_ERR_INIT;
				j->smtp = smtp_client_new(&sc, &e);
			}
			struct cairn_err e = CAIRN_ERR_INIT;
			const char *rcpt[1] = {j->to};
			if (!j->smtp ||
			    smtp_start(j->smtp, j->mail_from, rcpt, 1, j->wire.ptr, j->wire.len, &j->sres, &e) < 0) {
				if (ps->inflight-- == ps->p.concurrency)
					avail++;
				struct outcome *o = outcome_add(d, j, "failed", "failed",
								e.message[0] ? e.message : "bad address", 0);
				o->emit = EMIT_FAILED;
				if (j->smtp)
					smtp_client_free(j->smtp);
				j->smtp = NULL;
				job_free(j);
				continue;
			}
			h = smtp_handle(j->smtp);
			curl_easy_setopt(h, CURLOPT_PRIVATE, j);
		} else {
			http_setup(j);
			h = j->easy;
		}
		curl_multi_add_handle(d->multi, h);
	}
	return wait;
}

/* A transfer finished: classify it into an outcome. */
static void done(struct dlv_dispatcher *d, struct job *j, CURLcode cc)
{
	struct pstate *ps = j->ps;
	ps->inflight--;
	enum dlv_class cls;
	char reason[700] = "";
	long status = 0;
	if (j->smtp) {
		curl_multi_remove_handle(d->multi, smtp_handle(j->smtp));
		struct cairn_err e = CAIRN_ERR_INIT;
		smtp_finish(j->smtp, (int)cc, &j->sres, &e);
		cls = j->sres.cls == SMTP_OK ? DLV_OK : j->sres.cls == SMTP_TRANSIENT ? DLV_TRANSIENT : DLV_PERMANENT;
		status = j->sres.code;
		snprintf(reason, sizeof reason, "%s", j->sres.text);
		if (ps->nidle == ps->idle_cap) {
			ps->idle_cap = ps->idle_cap ? ps->idle_cap * 2 : 4;
			ps->idle = xrealloc(ps->idle, ps->idle_cap * sizeof *ps->idle);
		}
		ps->idle[ps->nidle++] = j->smtp;
		j->smtp = NULL;
	} else {
		curl_multi_remove_handle(d->multi, j->easy);
		if (cc == CURLE_OK)
			curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
		buf_addch(&j->resp, '\0');
		cls = cc == CURLE_OK ? dlv_provider_classify(&ps->p, status, j->resp.ptr) : DLV_TRANSIENT;
		if (cc != CURLE_OK)
			snprintf(reason, sizeof reason, "%s: %s", ps->p.name,
				 j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
		else
			snprintf(reason, sizeof reason, "%s answered %ld: %.300s", ps->p.name, status,
				 j->resp.ptr ? j->resp.ptr : "");
		if (cls == DLV_OK) {
			json_t *r = j->resp.len ? jsonx_loadb(j->resp.ptr, strlen(j->resp.ptr), 0, NULL) : NULL;
			const char *id = jsonx_str(r, "message_id") ?: jsonx_str(r, "id");
			if (id)
				snprintf(j->ref, sizeof j->ref, "%s", id);
			json_decref(r);
		}
	}
	if (cls == DLV_OK) {
		ps->fails = 0;
		struct outcome *o = outcome_add(d, j, "sent", "sent", NULL, 0);
		o->emit = EMIT_SENT;
	} else if (cls == DLV_TRANSIENT) {
		if (++ps->fails >= DLV_BREAKER_FAILS) {
			ps->open_until = clock_mono_ms() + DLV_BREAKER_OPEN_MS;
			ps->fails = DLV_BREAKER_FAILS - 1; /* half open: one more failure re-opens */
			log_info("provider circuit open", "provider", ps->p.id, NULL);
		}
		int attempts = j->m.attempts + 1;
		struct pstate *cand[16];
		size_t n = providers_for(d, j->m.ws, j->m.channel, cand, 16);
		if (n == 0)
			n = 1;
		if (attempts >= ps->p.max_attempts) {
			char dead[800];
			snprintf(dead, sizeof dead, "gave up after %d attempts: %s", attempts, reason);
			j->m.attempts = attempts;
			struct outcome *o = outcome_add(d, j, "dead", "dead", dead, 0);
			o->emit = EMIT_FAILED;
			o->fallback = 1;
		} else {
			int64_t delay = attempts % (int)n ? 0 : backoff_ms(&ps->p, attempts / (int)n);
			if (j->retry_after_s > 0 && j->retry_after_s * 1000 > delay)
				delay = j->retry_after_s * 1000 > BACKOFF_MAX ? BACKOFF_MAX : j->retry_after_s * 1000;
			j->m.attempts = attempts;
			outcome_add(d, j, "queued", "retried", reason, clock_now_ms() + delay);
		}
	} else {
		ps->fails = 0;
		struct outcome *o = outcome_add(d, j, "failed", "failed", reason, 0);
		o->emit = EMIT_FAILED;
		o->fallback = 1;
		/* a mailbox that does not exist: never again (RFC 3463 5.1.x) */
		o->bounce = ps->p.type == DLV_P_SMTP && status >= 550 && status <= 553;
	}
	job_free(j);
}

/* ---- committing outcomes ---------------------------------------------------------------- */

json_t *dlv_event_props(const struct store_dlv_msg *m)
{
	json_t *p = json_pack("{s:s,s:s}", "message_id", m->message_id, "channel", m->channel);
	if (m->journey_id) {
		json_object_set_new(p, "journey_id", json_string(m->journey_id));
		json_object_set_new(p, "journey_version", json_integer(m->version));
		json_object_set_new(p, "node_id", json_string(m->node ? m->node : ""));
	}
	if (m->variant)
		json_object_set_new(p, "variant", json_string(m->variant));
	if (m->template_id)
		json_object_set_new(p, "template_id", json_string(m->template_id));
	if (m->topic)
		json_object_set_new(p, "topic", json_string(m->topic));
	return p;
}

static json_t *event_props(const struct outcome *o)
{
	json_t *p = dlv_event_props(&o->m);
	if (o->provider)
		json_object_set_new(p, "provider_id", json_string(o->provider));
	json_object_set_new(p, "transactional", json_boolean(o->m.transactional));
	return p;
}

static int record_one(struct dlv_dispatcher *d, struct outcome *o, struct cairn_err *err)
{
	struct store_dlv_outcome so = {.message_id = o->m.message_id,
				       .status = o->status,
				       .event = o->event,
				       .reason = o->reason,
				       .provider = o->provider,
				       .to_addr = o->to,
				       .provider_ref = o->ref,
				       .attempts = o->attempts,
				       .at = o->at,
				       .send_at = o->send_at};
	int changed = 0;
	if (store_dlv_record(d->st, &so, &changed, err) < 0)
		return -1;
	if (!changed)
		return 0;
	char key[300];
	int rc = 0;
	if (o->emit != EMIT_NONE && o->m.profile_id > 0) {
		int email = !strcmp(o->m.channel, "email");
		const char *name = o->emit == EMIT_SENT ? (email ? "Email Sent" : "Message Sent") : "Message Failed";
		json_t *props = event_props(o);
		if (o->emit == EMIT_SENT && email && o->subject[0])
			json_object_set_new(props, "email_subject", json_string(o->subject));
		if (o->emit == EMIT_FAILED) {
			json_object_set_new(props, "reason", json_string(o->reason ? o->reason : ""));
			json_object_set_new(props, "status", json_string(o->status));
		}
		snprintf(key, sizeof key, "dlv:%s:%s:%d", o->event, o->m.message_id, o->attempts);
		rc = engine_emit(d->st, o->m.ws, o->m.profile_id, name, props, key, o->at, err);
		if (rc == 0 && o->bounce) {
			json_t *bp = event_props(o);
			json_object_set_new(bp, "bounce_type", json_string("hard"));
			json_object_set_new(bp, "reason", json_string(o->reason ? o->reason : ""));
			snprintf(key, sizeof key, "dlv:bounce:%s", o->m.message_id);
			rc = engine_emit(d->st, o->m.ws, o->m.profile_id, "Email Bounced", bp, key, o->at, err);
		}
	}
	if (rc == 0 && o->bounce && o->to)
		rc = store_dlv_suppress(d->st, o->m.ws, o->m.channel, o->to, "hard bounce", o->m.message_id, o->at,
					err);
	if (rc == 0 && o->fallback)
		rc = queue_fallback(d->st, o, NULL, err);
	if (rc == 0 && o->reroute)
		rc = queue_fallback(d->st, o, o->reroute, err);
	return rc;
}

static void commit(struct dlv_dispatcher *d)
{
	if (!d->nout)
		return;
	for (int tries = 0;; tries++) {
		struct cairn_err err = CAIRN_ERR_INIT;
		int rc = store_begin(d->st, &err);
		for (size_t i = 0; rc == 0 && i < d->nout; i++)
			rc = record_one(d, &d->out[i], &err);
		if (rc == 0 && store_commit(d->st, &err) == 0)
			break;
		if (rc != 0)
			store_rollback(d->st);
		log_error("recording delivery outcomes failed; retrying", "error", err.message, NULL);
		if (tries > 50)
			break; /* the lease expires and a later round sends again */
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < d->nout; i++)
		outcome_release(&d->out[i]);
	d->nout = 0;
	if (d->on_commit)
		d->on_commit(d->arg);
}

/* Stopping: jobs still waiting for their provider go back to the queue
 * (due now) instead of holding the shutdown. */
static void requeue_waiting(struct dlv_dispatcher *d)
{
	while (d->waiting) {
		struct job *j = d->waiting;
		d->waiting = j->next;
		outcome_add(d, j, "queued", "requeued", "the server stopped before it was sent", clock_now_ms());
		job_free(j);
	}
	d->waiting_tail = NULL;
}

/* ---- the thread --------------------------------------------------------------------------- */

static void claim(struct dlv_dispatcher *d, size_t *claimed)
{
	*claimed = 0;
	size_t room = DLV_MAX_INFLIGHT - d->njobs;
	if (room > CLAIM_BATCH)
		room = CLAIM_BATCH;
	if (room == 0)
		return;
	int64_t now = clock_now_ms();
	struct store_dlv_msg *msgs = NULL;
	size_t n = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_claim(d->st, now, now + DLV_LEASE_MS, (int)room, &msgs, &n, &err) < 0) {
		log_error("claiming messages failed", "error", err.message, NULL);
		return;
	}
	settings_forget(d);
	for (size_t i = 0; i < n; i++) {
		struct job *j = xcalloc(1, sizeof *j);
		j->m = msgs[i];
		d->njobs++;
		prepare(d, j);
	}
	free(msgs);
	*claimed = n;
}

static void *dlv_main(void *arg)
{
	struct dlv_dispatcher *d = arg;
	pthread_setname_np(pthread_self(), "cairn-deliver");
	int64_t next_claim = 0;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		int stop = d->stopping;
		uint64_t req = d->sync_req;
		pthread_mutex_unlock(&d->lock);
		int kicked = atomic_exchange(&d->kicked, 0);
		providers_refresh(d, kicked);
		int64_t mono = clock_mono_ms();
		size_t claimed = 0;
		/* claim in large batches, when half the room is free: each claim
		 * is a transaction, and the wire waits while it runs */
		if (!stop && (kicked || mono >= next_claim) && d->njobs <= DLV_MAX_INFLIGHT / 2) {
			claim(d, &claimed);
			next_claim = claimed ? mono : mono + POLL_MS;
		}
		take_ready(d);
		int64_t token_wait = start_waiting(d);
		int running = 0;
		curl_multi_perform(d->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(d->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			done(d, j, msg->data.result);
		}
		/* refill the freed connections before the outcomes' transaction,
		 * so the providers work while the store does */
		take_ready(d);
		int64_t tw = start_waiting(d);
		if (tw && (!token_wait || tw < token_wait))
			token_wait = tw;
		curl_multi_perform(d->multi, &running);
		if (stop)
			requeue_waiting(d);
		int committed = 0;
		if (d->nout &&
		    (d->njobs == 0 || d->nout >= CLAIM_BATCH || clock_mono_ms() - d->first_out_mono >= DLV_COMMIT_MS)) {
			commit(d);
			committed = 1;
			next_claim = 0; /* a retry or a fallback may be due at once */
		}
		/* idle: the last claim (after the sync request) found nothing and
		 * nothing committed since could have made a message due */
		if (d->njobs == 0 && d->nout == 0 && claimed == 0 && !committed) {
			pthread_mutex_lock(&d->lock);
			if (req > d->sync_done) {
				d->sync_done = req;
				pthread_cond_broadcast(&d->idle_cond);
			}
			pthread_mutex_unlock(&d->lock);
		}
		if (stop && d->njobs == 0 && d->nout == 0)
			break;
		if (claimed)
			continue;
		int64_t wait = next_claim - clock_mono_ms();
		if (d->nout && wait > DLV_COMMIT_MS)
			wait = DLV_COMMIT_MS;
		if (token_wait && token_wait < wait)
			wait = token_wait;
		if (wait < 0)
			wait = 0;
		if (wait > POLL_MS)
			wait = POLL_MS;
		curl_multi_poll(d->multi, NULL, 0, (int)wait, NULL);
	}
	return NULL;
}

struct dlv_dispatcher *dlv_dispatcher_new(struct store *st, const struct dlv_opts *opts)
{
	pthread_once(&curl_once, curl_init_once);
	struct dlv_dispatcher *d = xcalloc(1, sizeof *d);
	d->st = st;
	d->public_url = opts && opts->public_url ? xstrdup(opts->public_url) : NULL;
	if (d->public_url) {
		size_t n = strlen(d->public_url);
		while (n && d->public_url[n - 1] == '/')
			d->public_url[--n] = '\0';
	}
	d->data_dir = opts && opts->data_dir ? xstrdup(opts->data_dir) : NULL;
	d->on_commit = opts ? opts->on_commit : NULL;
	d->arg = opts ? opts->arg : NULL;
	dlv_secret_derive("links", d->link_key);
	dlv_links_configure(d->public_url, d->link_key);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle_cond, NULL);
	d->multi = curl_multi_init();
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, 256L);
	/* a previous process died holding these: send them again (dispatch.h invariant 1) */
	int64_t n = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_reclaim(st, INT64_MAX, clock_now_ms(), &n, &err) < 0)
		log_error("requeueing messages failed", "error", err.message, NULL);
	else if (n) {
		char s[32];
		snprintf(s, sizeof s, "%lld", (long long)n);
		log_info("requeued messages left in flight by the previous run", "count", s, NULL);
	}
	pthread_mutex_init(&d->plock, NULL);
	pthread_cond_init(&d->pcond, NULL);
	for (int i = 0; i < DLV_PREP_THREADS; i++)
		if (pthread_create(&d->prep[d->nprep], NULL, prep_main, d) == 0)
			d->nprep++;
	pthread_create(&d->thread, NULL, dlv_main, d);
	return d;
}

void dlv_dispatcher_free(struct dlv_dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_mutex_unlock(&d->lock);
	curl_multi_wakeup(d->multi);
	pthread_join(d->thread, NULL);
	pthread_mutex_lock(&d->plock);
	d->prep_stop = 1;
	pthread_cond_broadcast(&d->pcond);
	pthread_mutex_unlock(&d->plock);
	for (int i = 0; i < d->nprep; i++)
		pthread_join(d->prep[i], NULL);
	pthread_mutex_destroy(&d->plock);
	pthread_cond_destroy(&d->pcond);
	/* jobs still waiting for capacity keep their lease: requeued at the next start */
	while (d->waiting) {
		struct job *j = d->waiting;
		d->waiting = j->next;
		job_free(j);
	}
	providers_free(d);
	curl_multi_cleanup(d->multi);
	json_decref(d->set_kill);
	free(d->set_sender);
	free(d->out);
	free(d->public_url);
	free(d->data_dir);
	sodium_memzero(d->link_key, sizeof d->link_key);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->idle_cond);
	free(d);
}

void dlv_dispatcher_kick(struct dlv_dispatcher *d)
{
	if (!d)
		return;
	atomic_store(&d->kicked, 1);
	curl_multi_wakeup(d->multi);
}

int dlv_dispatcher_sync(struct dlv_dispatcher *d, int timeout_ms)
{
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	uint64_t want = ++d->sync_req;
	pthread_mutex_unlock(&d->lock);
	dlv_dispatcher_kick(d);
	struct timespec ts;
	clock_deadline_after(&ts, timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&d->lock);
	while (d->sync_done < want && rc == 0)
		if (pthread_cond_timedwait(&d->idle_cond, &d->lock, &ts) == ETIMEDOUT)
			rc = -1;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* ---- a test send ---------------------------------------------------------------------------- */

int dlv_send_test(struct store *st, int64_t ws, const char *provider_id, const char *to, const char *public_url,
		  const char *data_dir, json_t **result, struct cairn_err *err)
{
	*result = NULL;
	pthread_once(&curl_once, curl_init_once);
	struct store_dlv_provider row;
	if (store_dlv_provider_get(st, ws, provider_id, &row, err) < 0)
		return err->code;
	struct dlv_dispatcher d;
	memset(&d, 0, sizeof d);
	d.st = st;
	d.public_url = NULL;
	(void)public_url;
	struct pstate ps;
	memset(&ps, 0, sizeof ps);
	int rc = dlv_provider_load(&row, &ps.p, err);
	const char *channel = row.channel;
	struct job *j = xcalloc(1, sizeof *j);
	j->ps = &ps;
	j->m.message_id = xstrdup("msg_test");
	j->m.channel = xstrdup(channel);
	j->m.ws = ws;
	j->m.transactional = 1;
	static const struct {
		const char *channel, *body;
	} samples[] = {
		{"email", "{\"subject\":\"cairn test message / 테스트 메시지\",\"text\":\"This is a test from cairn. "
			  "이것은 cairn의 테스트 메시지입니다.\"}"},
		{"sms", "{\"text\":\"[cairn] 테스트 메시지 (test message)\"}"},
		{"kakao", "{\"template_code\":\"TEST\",\"text\":\"[cairn] 테스트 메시지\"}"},
		{"push", "{\"title\":\"cairn\",\"body\":\"테스트 메시지 (test message)\"}"},
		{"webhook", "{\"body\":\"{\\\"type\\\":\\\"cairn.test\\\"}\"}"},
		{"slack", "{\"text\":\"cairn test message / 테스트 메시지\"}"},
	};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		if (!strcmp(samples[i].channel, channel))
			j->content = jsonx_loadb(samples[i].body, strlen(samples[i].body), 0, NULL);
	if (!j->content)
		j->content = json_object();
	char reason[700] = "";
	if (rc == 0) {
		if (!strcmp(channel, "webhook"))
			json_object_set_new(j->content, "url", json_string(to ? to : ""));
		if (!strcmp(channel, "email") && (!to || !dlv_email_valid(to)))
			rc = cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "to",
					   "Give \"to\" as the email address to send the test to.");
		else if ((!strcmp(channel, "sms") || !strcmp(channel, "kakao")) &&
			 (!to || dlv_phone_normalize(to, j->to, sizeof j->to, err) < 0))
			rc = cairn_err_set(err, CAIRN_EUNPROC, "invalid_phone", "to",
					   "Give \"to\" as the phone number to send the test to.");
		else if (!strcmp(channel, "webhook") &&
			 (!to || (strncmp(to, "http://", 7) && strncmp(to, "https://", 8))))
			rc = cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "to",
					   "Give \"to\" as the http(s) URL to send the test webhook to.");
		else if (strcmp(channel, "sms") && strcmp(channel, "kakao"))
			snprintf(j->to, sizeof j->to, "%s", to ? to : "test");
	}
	int64_t t0 = clock_mono_ms();
	json_t *res = NULL;
	if (rc == 0) {
		buf_init(&j->wire, BUF_MAX_RENDER * 2);
		char addr[320];
		const char *at =
			ps.p.from && dlv_from_address(ps.p.from, addr, sizeof addr) == 0 ? strrchr(addr, '@') : NULL;
		j->dkim = at && !strcmp(channel, "email") ? dkim_key(&d, ws, at + 1) : NULL;
		int b = ps.p.type == DLV_P_SMTP || (ps.p.type == DLV_P_FILE && !strcmp(channel, "email"))
				? build_email(&d, j, reason, sizeof reason)
			: ps.p.type == DLV_P_FILE ? 0
						  : build_http(&d, j, reason, sizeof reason);
		if (b < 0) {
			res = json_pack("{s:b,s:s,s:s}", "ok", 0, "class", "permanent", "reply", reason);
		} else if (ps.p.type == DLV_P_FILE) {
			d.data_dir = (char *)data_dir; /* a file provider without a path writes into <data>/outbox */
			int w = file_write(&d, j, reason, sizeof reason);
			res = json_pack("{s:b,s:s}", "ok", w == 0, "reply", w == 0 ? j->ref : reason);
		} else if (ps.p.type == DLV_P_SMTP) {
			struct smtp_conf sc = {.url = ps.p.url,
					       .username = ps.p.username,
					       .password = ps.p.password,
					       .starttls = ps.p.starttls,
					       .timeout_ms = ps.p.timeout_ms};
			struct smtp_client *c = smtp_client_new(&sc, err);
			struct smtp_result sr;
			memset(&sr, 0, sizeof sr);
			struct cairn_err e = CAIRN_ERR_INIT;
			const char *rcpt[1] = {j->to};
			if (c)
				smtp_send(c, j->mail_from, rcpt, 1, j->wire.ptr, j->wire.len, &sr, &e);
			smtp_client_free(c);
			res = json_pack("{s:b,s:s,s:i,s:s}", "ok", c && sr.cls == SMTP_OK, "class",
					!c			   ? "permanent"
					: sr.cls == SMTP_OK	   ? "success"
					: sr.cls == SMTP_TRANSIENT ? "transient"
								   : "permanent",
					"status", sr.code, "reply", c ? sr.text : err->message);
			cairn_err_clear(err);
		} else {
			http_setup(j);
			CURLcode cc = curl_easy_perform(j->easy);
			long status = 0;
			if (cc == CURLE_OK)
				curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
			buf_addch(&j->resp, '\0');
			enum dlv_class cls =
				cc == CURLE_OK ? dlv_provider_classify(&ps.p, status, j->resp.ptr) : DLV_TRANSIENT;
			res = json_pack("{s:b,s:s,s:i,s:s}", "ok", cls == DLV_OK, "class",
					cls == DLV_OK	       ? "success"
					: cls == DLV_TRANSIENT ? "transient"
							       : "permanent",
					"status", (int)status, "reply",
					cc == CURLE_OK ? (j->resp.ptr ? j->resp.ptr : "")
						       : (j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc)));
		}
		json_object_set_new(res, "ms", json_integer(clock_mono_ms() - t0));
	}
	providers_free(&d);
	job_free(j);
	dlv_provider_release(&ps.p);
	store_dlv_provider_release(&row);
	*result = res;
	return rc;
}
