/* api_tracking.c — what recipients do with a message comes back: the open
 * pixel, click redirects, and unsubscribing (page, form and RFC 8058
 * one-click). Public routes: the link's signature (src/deliver/links.h) is
 * the only credential, checked before anything is recorded or redirected.
 *
 * Each hit becomes a CONVENTIONS §3 event on the recipient's timeline,
 * appended to the log like a Tracking API call, so tags, segments, journeys
 * (wait_event, goals) and analytics see it: Email Opened, Email Link Clicked,
 * Unsubscribed (with the consent change, source "unsubscribe_link"). Opens and
 * clicks by mail-privacy proxies, prefetchers and link scanners are recorded
 * with "machine": true, so they are never counted as a person's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/api_tracking.h"
#include "app/app.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/dispatch.h"
#include "deliver/links.h"
#include "deliver/secret.h"
#include "ingest/ingest.h"
#include "store/store_deliver.h"

/* A 1×1 transparent GIF. */
static const unsigned char pixel_gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
					  0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
					  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
					  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

/* User agents of machines that fetch images or follow links for a person:
 * mail privacy proxies, image caches, security scanners, previewers. */
static const char *const machine_agents[] = {
	"GoogleImageProxy",
	"YahooMailProxy",
	"ggpht.com",
	"Outlook-iOS",
	"Barracuda",
	"Mimecast",
	"Proofpoint",
	"Symantec",
	"Trend Micro",
	"Cisco",
	"FireEye",
	"bot",
	"Bot",
	"crawler",
	"spider",
	"Spider",
	"preview",
	"Preview",
	"curl/",
	"python-requests",
	"Go-http-client",
	"Java/",
	"HeadlessChrome",
	"facebookexternalhit",
	"Slackbot",
	"LinkedInBot",
	"WhatsApp",
	NULL,
};

static int machine_agent(const char *ua)
{
	if (!ua || !*ua)
		return 1;		/* people's mail apps always say who they are */
	if (!strcmp(ua, "Mozilla/5.0")) /* Apple Mail Privacy Protection's proxy */
		return 1;
	for (size_t i = 0; machine_agents[i]; i++)
		if (strstr(ua, machine_agents[i]))
			return 1;
	return 0;
}

static int plain_topic(const char *t);

static void link_key(unsigned char key[DLV_LINK_KEY_BYTES])
{
	dlv_secret_derive("links", key);
}

/* A small bilingual page (Korean first when the browser prefers it). */
static void page(struct http_request *r, int status, const char *title_ko, const char *title_en, const char *body_ko,
		 const char *body_en, const char *form_action, const char *button_ko, const char *button_en)
{
	const char *al = http_header(r, "Accept-Language");
	int ko_first = !al || !strncasecmp(al, "ko", 2) || strstr(al, "ko") != NULL;
	struct buf b;
	buf_init(&b, 64 * 1024);
	buf_addf(&b,
		 "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		 "<meta name=\"referrer\" content=\"no-referrer\"><title>%s</title>"
		 "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
		 "color:#1a1a1a}h1{font-size:1.4rem}p{line-height:1.6}button{font-size:1rem;padding:.6rem 1.2rem;"
		 "border:0;border-radius:.4rem;background:#1f4fd1;color:#fff;cursor:pointer}"
		 "hr{border:0;border-top:1px solid #ddd;margin:2rem 0}</style></head><body>",
		 ko_first ? "ko" : "en", ko_first ? title_ko : title_en);
	for (int pass = 0; pass < 2; pass++) {
		int ko = (pass == 0) == ko_first;
		buf_addf(&b, "<section lang=\"%s\"><h1>%s</h1><p>%s</p>", ko ? "ko" : "en", ko ? title_ko : title_en,
			 ko ? body_ko : body_en);
		if (form_action && pass == 0)
			buf_addf(&b,
				 "<form method=\"post\" action=\"%s\"><button type=\"submit\">%s / %s</button></form>",
				 form_action, ko ? button_ko : button_en, ko ? button_en : button_ko);
		buf_adds(&b, "</section>");
		if (pass == 0)
			buf_adds(&b, "<hr>");
	}
	buf_adds(&b, "</body></html>");
	http_header_add(r, "Cache-Control", "no-store");
	http_header_add(r, "X-Robots-Tag", "noindex");
	http_text(r, status, "text/html; charset=utf-8", b.ptr, b.len);
	buf_release(&b);
}

static void invalid_link(struct http_request *r)
{
	page(r, 400, "올바르지 않은 링크입니다", "This link is not valid",
	     "링크가 잘렸거나 바뀌었습니다. 받은 메일의 링크를 그대로 열어 주세요.",
	     "The link was cut or changed. Open the link exactly as it came in the email.", NULL, NULL, NULL);
}

/* The message a link names, when its signature holds. */
static int message_of(struct app *a, const char *id, struct store_dlv_msg *m)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	return store_dlv_message_get(a->st, id, m, &err);
}

/* Appends the recipient's events (a batch of Tracking API messages, each
 * without its user: filled in here) to the log. */
/* The batch body of msgs for m's recipient (user ids filled in; msgs is
 * stolen), or NULL — with err set on a failure, unset when there is nobody
 * to record it for (an address without a user). */
static char *batch_text(struct app *a, const struct store_dlv_msg *m, json_t *msgs, struct cairn_err *err)
{
	char *uid = NULL, *aid = NULL;
	if (m->profile_id <= 0 || store_profile_ids(a->st, m->profile_id, &uid, &aid, err) < 0) {
		json_decref(msgs);
		free(uid);
		free(aid);
		return NULL;
	}
	size_t i;
	json_t *msg;
	json_array_foreach (msgs, i, msg) {
		json_object_set_new(msg, uid ? "userId" : "anonymousId", json_string(uid ? uid : aid));
		json_t *ctx = json_object_get(msg, "context");
		if (!ctx)
			json_object_set_new(msg, "context", ctx = json_object());
		json_object_set_new(ctx, "library", json_pack("{s:s}", "name", "cairn-tracking"));
	}
	free(uid);
	free(aid);
	json_t *body = json_pack("{s:o}", "batch", msgs);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* Pages (unsubscribe, preferences) and webhooks append and answer after
 * the engine applied what they recorded. */
static int append_for(struct app *a, const struct store_dlv_msg *m, json_t *msgs, struct cairn_err *err)
{
	char *text = batch_text(a, m, msgs, err);
	if (!text)
		return err->code;
	struct ingest_batch b;
	/* the batch points into text: free it after the append */
	int rc = ingest_parse(INGEST_BATCH, text, strlen(text), clock_now_ms(), &b, err);
	if (rc == 0) {
		rc = app_append(a, &b, m->ws, err);
		ingest_batch_release(&b);
	}
	free(text);
	return rc;
}

/* A pixel or click hit: like a Tracking API call, the request is parked
 * while the group commit makes its event durable, and answered then (the
 * HTTP threads stay free for other hits). */
struct hit_job {
	struct ingest_job job;
	struct ingest_batch batch;
	char *text;
	char *location; /* a click's destination, or NULL for the pixel */
	struct http_request *r;
};

static void answer_hit(struct http_request *r, const char *location)
{
	if (location) {
		http_header_add(r, "Location", location);
		http_header_add(r, "Cache-Control", "no-store");
		http_header_add(r, "Referrer-Policy", "no-referrer");
		http_text(r, 302, "text/plain; charset=utf-8", "", 0);
	} else {
		http_header_add(r, "Cache-Control", "no-store, no-cache, must-revalidate, private");
		http_text(r, 200, "image/gif", (const char *)pixel_gif, sizeof pixel_gif);
	}
}

static void hit_done(struct ingest_job *job)
{
	struct hit_job *h = (struct hit_job *)job;
	if (job->status < 0) /* the person gets where they were going all the same */
		log_error("recording a tracking hit failed", "error", job->err.message, NULL);
	struct http_request *r = h->r;
	answer_hit(r, h->location);
	ingest_batch_release(&h->batch);
	free(job->events);
	free(job->dup);
	free(h->text);
	free(h->location);
	free(h);
	http_resume(r);
}

/* Records msgs for m and answers (pixel when location is NULL, else 302). */
static void record_hit(struct http_request *r, struct app *a, const struct store_dlv_msg *m, json_t *msgs,
		       const char *location)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct hit_job *h = xcalloc(1, sizeof *h);
	int64_t now = clock_now_ms();
	h->text = batch_text(a, m, msgs, &err);
	if (!h->text || ingest_parse(INGEST_BATCH, h->text, strlen(h->text), now, &h->batch, &err) < 0) {
		if (err.code)
			log_error("recording a tracking hit failed", "error", err.message, NULL);
		free(h->text);
		free(h);
		answer_hit(r, location);
		return;
	}
	h->location = location ? xstrdup(location) : NULL;
	h->r = r;
	size_t n = h->batch.n;
	h->job.events = xcalloc(n ? n : 1, sizeof *h->job.events);
	h->job.dup = xcalloc(n ? n : 1, 1);
	h->job.n = n;
	h->job.done = hit_done;
	ingest_batch_events(&h->batch, m->ws, (unsigned)a->cfg->shards, now, h->job.events);
	http_suspend(r);
	ingest_writer_submit(a->writer, &h->job);
}

static json_t *track(const char *event, json_t *props, const char *ua)
{
	json_t *m = json_pack("{s:s,s:s,s:o}", "type", "track", "event", event, "properties", props);
	if (ua)
		json_object_set_new(m, "context", json_pack("{s:s}", "userAgent", ua));
	return m;
}

void api_track_open(struct http_request *r, void *app)
{
	struct app *a = app;
	/* always the pixel: a mail client shows nothing either way */
	const char *file = http_param(r, 0);
	const char *sig = http_query(r, "s");
	char id[128];
	size_t n = strlen(file);
	unsigned char key[DLV_LINK_KEY_BYTES];
	link_key(key);
	if (n > 4 && n - 4 < sizeof id && !strcmp(file + n - 4, ".gif") && sig) {
		memcpy(id, file, n - 4);
		id[n - 4] = '\0';
		struct store_dlv_msg m;
		if (dlv_link_verify(key, 'o', id, NULL, NULL, NULL, sig) && message_of(a, id, &m) == 0) {
			const char *ua = http_header(r, "User-Agent");
			json_t *p = dlv_event_props(&m);
			json_object_set_new(p, "machine", json_boolean(machine_agent(ua)));
			record_hit(r, a, &m, json_pack("[o]", track("Email Opened", p, ua)), NULL);
			store_dlv_msg_release(&m);
			return;
		}
	}
	answer_hit(r, NULL);
}

void api_track_click(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = http_param(r, 0);
	const char *url = http_query(r, "u"), *kind = http_query(r, "k"), *topic = http_query(r, "t");
	const char *sig = http_query(r, "s");
	unsigned char key[DLV_LINK_KEY_BYTES];
	link_key(key);
	/* only a link this server signed redirects, and only to http(s) */
	if (!url || !sig || !dlv_link_verify(key, 'c', id, url, kind, topic, sig) ||
	    (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) || strpbrk(url, "\r\n")) {
		invalid_link(r);
		return;
	}
	struct store_dlv_msg m;
	if (message_of(a, id, &m) < 0) { /* the person gets where they were going */
		answer_hit(r, url);
		return;
	}
	const char *ua = http_header(r, "User-Agent");
	json_t *p = dlv_event_props(&m);
	json_object_set_new(p, "url", json_string(url));
	json_object_set_new(p, "link_kind", json_string(kind && *kind ? kind : "content"));
	if (topic && *topic)
		json_object_set_new(p, "link_topic", json_string(topic));
	json_object_set_new(p, "machine", json_boolean(machine_agent(ua)));
	record_hit(r, a, &m, json_pack("[o]", track("Email Link Clicked", p, ua)), url);
	store_dlv_msg_release(&m);
}

/* GET shows the page; POST (its form, or a mail client's RFC 8058
 * one-click "List-Unsubscribe=One-Click") unsubscribes. */
void api_track_unsubscribe(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = http_param(r, 0), *sig = http_query(r, "s");
	unsigned char key[DLV_LINK_KEY_BYTES];
	link_key(key);
	struct store_dlv_msg m;
	if (!sig || !dlv_link_verify(key, 'u', id, NULL, NULL, NULL, sig) || message_of(a, id, &m) < 0) {
		invalid_link(r);
		return;
	}
	char what_ko[300], what_en[300];
	if (plain_topic(m.topic)) { /* shown on the page: only names that need no escaping */
		snprintf(what_ko, sizeof what_ko, "‘%.200s’ 소식", m.topic);
		snprintf(what_en, sizeof what_en, "“%.200s” messages", m.topic);
	} else {
		snprintf(what_ko, sizeof what_ko, "%s", !strcmp(m.channel, "email") ? "이메일" : m.channel);
		snprintf(what_en, sizeof what_en, "%s messages", m.channel);
	}
	if (!strcmp(http_method(r), "GET")) {
		char action[400], ko[600], en[600];
		snprintf(action, sizeof action, "/t/u/%s?s=%s", id, sig);
		snprintf(ko, sizeof ko,
			 "더 이상 %s을(를) 받지 않으려면 아래 버튼을 눌러 주세요. 거래 안내(주문, 결제)는 계속 "
			 "발송됩니다.",
			 what_ko);
		snprintf(en, sizeof en,
			 "Press the button to stop receiving %s. Messages about your orders and payments still come.",
			 what_en);
		page(r, 200, "수신 거부", "Unsubscribe", ko, en, action, "수신 거부하기", "Unsubscribe");
		store_dlv_msg_release(&m);
		return;
	}
	json_t *consent =
		m.topic ? json_pack("{s:{s:s}}", "topics", m.topic, "unsubscribed")
			: json_pack("{s:s}", !strcmp(m.channel, "kakao") ? "kakao" : m.channel, "unsubscribed");
	json_t *ident = json_pack("{s:s,s:{s:o},s:{s:s}}", "type", "identify", "traits", "consent", consent, "context",
				  "consent_source", "unsubscribe_link");
	json_t *p = dlv_event_props(&m);
	json_object_set_new(p, "one_click", json_boolean(http_body(r) && strstr(http_body(r)->ptr, "One-Click")));
	json_t *ev = track("Unsubscribed", p, http_header(r, "User-Agent"));
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = append_for(a, &m, json_pack("[o,o]", ident, ev), &err);
	if (rc < 0) {
		store_dlv_msg_release(&m);
		page(r, 503, "잠시 후 다시 시도해 주세요", "Please try again in a moment",
		     "수신 거부를 저장하지 못했습니다.", "Your unsubscribe could not be saved.", NULL, NULL, NULL);
		return;
	}
	char ko[600], en[600];
	snprintf(ko, sizeof ko, "%s 수신 거부가 처리되었습니다.", what_ko);
	snprintf(en, sizeof en, "You will no longer receive %s.", what_en);
	store_dlv_msg_release(&m);
	page(r, 200, "수신 거부 완료", "Unsubscribed", ko, en, NULL, NULL, NULL);
}

/* ---- the preference centre ----------------------------------------------------------- */

static const struct {
	const char *key, *ko, *en;
} pref_channels[] = {
	{"email", "이메일", "Email"},
	{"sms", "문자 메시지(SMS)", "Text messages (SMS)"},
	{"kakao", "카카오톡", "KakaoTalk"},
	{"push", "앱 푸시", "App push"},
	{"night", "야간(21시–8시) 광고 수신", "Advertising at night (21:00–08:00)"},
};
#define NPREF (sizeof pref_channels / sizeof pref_channels[0])

/* Is field name checked in a form body (application/x-www-form-urlencoded)? */
static int form_has(const char *body, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = body; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=')
			return 1;
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* Topic names are letters, digits, '-', '_' and '.' (form fields stay plain). */
static int plain_topic(const char *t)
{
	if (!t || !*t || strlen(t) > 64)
		return 0;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return 0;
	return 1;
}

static const char *consent_status(const json_t *consent, const char *scope, const char *name)
{
	const char *v = jsonx_str(json_object_get(consent, scope), name);
	return v ? v : "unknown";
}

void api_track_preferences(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *id = http_param(r, 0), *sig = http_query(r, "s");
	unsigned char key[DLV_LINK_KEY_BYTES];
	link_key(key);
	struct store_dlv_msg m;
	if (!sig || !dlv_link_verify(key, 'p', id, NULL, NULL, NULL, sig) || message_of(a, id, &m) < 0) {
		invalid_link(r);
		return;
	}
	struct store_dlv_person person;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (m.profile_id <= 0 || store_dlv_person(a->st, m.ws, m.profile_id, &person, &err) < 0) {
		store_dlv_msg_release(&m);
		invalid_link(r);
		return;
	}
	/* the topics to offer: the message's and every one the user has a say on */
	json_t *topics = json_array();
	if (plain_topic(m.topic))
		json_array_append_new(topics, json_string(m.topic));
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(person.consent, "topic"), k, v)
		if (plain_topic(k) && (!m.topic || strcmp(k, m.topic)))
			json_array_append_new(topics, json_string(k));
	if (!strcmp(http_method(r), "POST")) {
		const char *body = http_body(r) ? http_body(r)->ptr : "";
		json_t *consent = json_object(), *tc = json_object(), *events = json_array();
		for (size_t i = 0; i < NPREF; i++) {
			const char *want = form_has(body, pref_channels[i].key) ? "subscribed" : "unsubscribed";
			const char *had = consent_status(person.consent, "channel", pref_channels[i].key);
			if (strcmp(had, want)) {
				json_object_set_new(consent, pref_channels[i].key, json_string(want));
				if (!strcmp(want, "unsubscribed")) {
					json_t *p = dlv_event_props(&m);
					/* channel: what was unsubscribed (CONVENTIONS §3); the
					 * message it came from keeps its own for analytics */
					json_object_set_new(p, "message_channel", json_string(m.channel));
					json_object_set_new(p, "channel", json_string(pref_channels[i].key));
					json_array_append_new(events,
							      track("Unsubscribed", p, http_header(r, "User-Agent")));
				}
			}
		}
		size_t i;
		json_array_foreach (topics, i, v) {
			char field[80];
			snprintf(field, sizeof field, "topic.%s", json_string_value(v));
			const char *want = form_has(body, field) ? "subscribed" : "unsubscribed";
			if (strcmp(consent_status(person.consent, "topic", json_string_value(v)), want)) {
				json_object_set_new(tc, json_string_value(v), json_string(want));
				if (!strcmp(want, "unsubscribed")) {
					json_t *p = dlv_event_props(&m);
					json_object_set_new(p, "topic", json_string(json_string_value(v)));
					json_array_append_new(events,
							      track("Unsubscribed", p, http_header(r, "User-Agent")));
				}
			}
		}
		if (json_object_size(tc))
			json_object_set_new(consent, "topics", tc);
		else
			json_decref(tc);
		int rc = 0;
		if (json_object_size(consent)) {
			json_t *ident = json_pack("{s:s,s:{s:O},s:{s:s}}", "type", "identify", "traits", "consent",
						  consent, "context", "consent_source", "preference_centre");
			json_array_insert_new(events, 0, ident);
			rc = append_for(a, &m, events, &err);
		} else {
			json_decref(events);
		}
		json_decref(consent);
		json_decref(topics);
		store_dlv_person_release(&person);
		store_dlv_msg_release(&m);
		if (rc < 0)
			page(r, 503, "잠시 후 다시 시도해 주세요", "Please try again in a moment",
			     "설정을 저장하지 못했습니다.", "Your choices could not be saved.", NULL, NULL, NULL);
		else
			page(r, 200, "저장되었습니다", "Saved", "수신 설정이 저장되었습니다.",
			     "Your choices are saved.", NULL, NULL, NULL);
		return;
	}
	/* the form: one checkbox per channel and topic, as the user has them now */
	struct buf f;
	buf_init(&f, 64 * 1024);
	buf_adds(&f, "<fieldset><legend>채널 / Channels</legend>");
	for (size_t i = 0; i < NPREF; i++) {
		const char *st = consent_status(person.consent, "channel", pref_channels[i].key);
		buf_addf(&f, "<p><label><input type=\"checkbox\" name=\"%s\"%s> %s / %s</label></p>",
			 pref_channels[i].key, !strcmp(st, "subscribed") ? " checked" : "", pref_channels[i].ko,
			 pref_channels[i].en);
	}
	buf_adds(&f, "</fieldset>");
	if (json_array_size(topics)) {
		buf_adds(&f, "<fieldset><legend>주제 / Topics</legend>");
		size_t i;
		json_array_foreach (topics, i, v) {
			const char *st = consent_status(person.consent, "topic", json_string_value(v));
			buf_addf(&f, "<p><label><input type=\"checkbox\" name=\"topic.%s\"%s> %s</label></p>",
				 json_string_value(v), strcmp(st, "unsubscribed") ? " checked" : "",
				 json_string_value(v));
		}
		buf_adds(&f, "</fieldset>");
	}
	char action[400];
	snprintf(action, sizeof action, "/t/p/%s?s=%s", id, sig);
	struct buf form;
	buf_init(&form, 64 * 1024);
	buf_addf(&form,
		 "받고 싶은 소식을 고르세요. Choose what you want to receive.</p>"
		 "<form method=\"post\" action=\"%s\">%s<button type=\"submit\">저장 / Save</button></form><p>",
		 action, f.ptr);
	page(r, 200, "수신 설정", "Your preferences", form.ptr, "Messages about your orders and payments always come.",
	     NULL, NULL, NULL);
	buf_release(&f);
	buf_release(&form);
	json_decref(topics);
	store_dlv_person_release(&person);
	store_dlv_msg_release(&m);
}

/* ---- providers' delivery webhooks ---------------------------------------------------------- */

#define HOOK_MAX_EVENTS 1000

enum hook_kind { HOOK_IGNORE, HOOK_DELIVERED, HOOK_BOUNCED, HOOK_COMPLAINED };

/* One event of a provider's webhook, in the generic shape or SendGrid's
 * event webhook: what happened, to which message, and why. */
static enum hook_kind hook_event(const json_t *e, const char **id, const char **ref, const char **bounce_type,
				 const char **reason)
{
	const char *ev = jsonx_str(e, "event");
	*id = jsonx_str(e, "message_id") ?: jsonx_str(e, "cairn_message_id");
	*ref = jsonx_str(e, "provider_ref") ?: jsonx_str(e, "smtp-id") ?: jsonx_str(e, "sg_message_id");
	*reason = jsonx_str(e, "reason") ?: jsonx_str(e, "response");
	*bounce_type = jsonx_str(e, "bounce_type");
	if (!ev)
		return HOOK_IGNORE;
	if (!strcmp(ev, "delivered"))
		return HOOK_DELIVERED;
	if (!strcmp(ev, "bounced") || !strcmp(ev, "bounce") || !strcmp(ev, "dropped")) {
		/* SendGrid: type "bounce" is permanent, "blocked" a refusal that may pass later */
		const char *t = jsonx_str(e, "type");
		if (!*bounce_type)
			*bounce_type = t && !strcmp(t, "blocked") ? "soft" : "hard";
		return HOOK_BOUNCED;
	}
	if (!strcmp(ev, "complained") || !strcmp(ev, "spamreport") || !strcmp(ev, "complaint"))
		return HOOK_COMPLAINED;
	return HOOK_IGNORE; /* deferred, processed, open, click: ours come from our own links */
}

/* POST /hooks/delivery/{provider}?s=…: a JSON array of events (or
 * {"events":[…]}, or one event). Answers how many were recorded. */
void api_hook_delivery(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *pid = http_param(r, 0), *sig = http_query(r, "s");
	unsigned char key[DLV_LINK_KEY_BYTES];
	link_key(key);
	int64_t ws =
		sig && dlv_link_verify(key, 'h', pid, NULL, NULL, NULL, sig) ? store_dlv_provider_ws(a->st, pid) : 0;
	if (!ws) {
		http_errorf(
			r, CAIRN_EAUTH, "invalid_webhook_url", "",
			"This webhook URL is not one cairn made; copy webhook_url from GET /api/v1/providers/{id}.");
		return;
	}
	const struct buf *b = http_body(r);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *body = b ? jsonx_parse(b->ptr, b->len, 16, 0, &err) : NULL;
	if (!body) {
		http_errorf(r, CAIRN_EINVAL, "invalid_json", "", "The body must be JSON: an array of events.");
		return;
	}
	json_t *events = json_is_array(body)				  ? body
			 : json_is_array(json_object_get(body, "events")) ? json_object_get(body, "events")
									  : NULL;
	json_t *one = events ? NULL : json_pack("[O]", body);
	if (one)
		events = one;
	if (json_array_size(events) > HOOK_MAX_EVENTS) {
		json_decref(body);
		json_decref(one);
		http_errorf(r, CAIRN_ETOOBIG, "too_many_events", "", "At most %d events per request.", HOOK_MAX_EVENTS);
		return;
	}
	size_t i, recorded = 0, unknown = 0, ignored = 0;
	json_t *e;
	json_array_foreach (events, i, e) {
		const char *id, *ref, *btype, *reason;
		enum hook_kind k = json_is_object(e) ? hook_event(e, &id, &ref, &btype, &reason) : HOOK_IGNORE;
		if (k == HOOK_IGNORE) {
			ignored++;
			continue;
		}
		struct store_dlv_msg m;
		struct cairn_err e2 = CAIRN_ERR_INIT;
		char bare[256];
		int found = -1;
		if (id && store_dlv_message_get(a->st, id, &m, &e2) == 0) {
			found = m.ws == ws ? 0 : -1;
			if (found < 0)
				store_dlv_msg_release(&m);
		}
		if (found < 0 && ref) { /* "<abc@host>" as SendGrid quotes the Message-ID */
			snprintf(bare, sizeof bare, "%s", ref[0] == '<' ? ref + 1 : ref);
			size_t n = strlen(bare);
			if (n && bare[n - 1] == '>')
				bare[n - 1] = '\0';
			found = store_dlv_message_by_ref(a->st, ws, bare, &m, &e2);
		}
		if (found < 0) {
			unknown++;
			continue;
		}
		int email = !strcmp(m.channel, "email");
		json_t *p = dlv_event_props(&m);
		json_object_set_new(p, "provider_id", json_string(pid));
		if (reason)
			json_object_set_new(p, "reason", json_string(reason));
		const char *name = k == HOOK_DELIVERED ? (email ? "Email Delivered" : "Message Delivered")
				   : k == HOOK_BOUNCED ? (email ? "Email Bounced" : "Message Failed")
						       : "Email Marked as Spam";
		if (k == HOOK_BOUNCED)
			json_object_set_new(p, "bounce_type", json_string(btype));
		int64_t now = clock_now_ms();
		const char *hist = k == HOOK_DELIVERED ? "delivered" : k == HOOK_BOUNCED ? "bounced" : "complained";
		/* an address that bounced for good or complained is never sent to again */
		int suppress = (k == HOOK_BOUNCED && !strcmp(btype, "hard")) || k == HOOK_COMPLAINED;
		struct cairn_err e3 = CAIRN_ERR_INIT;
		int rc = store_begin(a->st, &e3);
		if (rc == 0)
			rc = store_dlv_history_add(a->st, m.message_id, now, hist, reason, pid, m.attempts, &e3);
		if (rc == 0 && suppress) {
			char to[320] = "";
			json_t *msg = store_message_json(a->st, ws, m.message_id, &e3);
			snprintf(to, sizeof to, "%s", jsonx_str(msg, "to") ?: "");
			json_decref(msg);
			if (to[0])
				rc = store_dlv_suppress(a->st, ws, m.channel, to,
							k == HOOK_COMPLAINED ? "complaint" : "hard bounce",
							m.message_id, now, &e3);
		}
		if (rc == 0)
			rc = store_commit(a->st, &e3);
		else
			store_rollback(a->st);
		if (rc == 0)
			rc = append_for(a, &m, json_pack("[o]", track(name, p, NULL)), &e3);
		else
			json_decref(p);
		store_dlv_msg_release(&m);
		if (rc < 0) {
			json_decref(body);
			json_decref(one);
			http_error(r, &e3);
			return;
		}
		recorded++;
	}
	json_decref(body);
	json_decref(one);
	http_json(r, 200,
		  json_pack("{s:I,s:I,s:I}", "recorded", (json_int_t)recorded, "unknown", (json_int_t)unknown,
			    "ignored", (json_int_t)ignored));
}
