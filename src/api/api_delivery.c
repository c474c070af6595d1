/* api_delivery.c — messages (send, list, show, replay), providers, sender
 * domains and suppressions. The dispatcher (src/deliver/dispatch.h) does
 * the sending; these handlers queue, configure and show. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_delivery.h"
#include "app/app.h"
#include "content/content.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "deliver/dispatch.h"
#include "deliver/email.h"
#include "deliver/links.h"
#include "deliver/provider.h"
#include "deliver/secret.h"
#include "deliver/wire.h"
#include "store/store_deliver.h"
#include "store/store_templates.h"
#include "template/tpl.h"

/* ---- messages ------------------------------------------------------------------------------ */

void api_messages_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	int64_t ws = http_workspace(r), pid = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	api_read_barrier(a);
	const char *uid = http_query(r, "user_id");
	if (uid && store_profile_resolve(a->st, ws, uid, &pid, &err) < 0) {
		http_error(r, &err);
		return;
	}
	struct store_dlv_filter f = {.profile_id = pid,
				     .journey_id = http_query(r, "journey_id"),
				     .status = http_query(r, "status"),
				     .channel = http_query(r, "channel")};
	char *next = NULL;
	json_t *list = store_messages_json(a->st, ws, &f, limit, http_query(r, "cursor"), &next, &err);
	if (!list) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o,s:o}", "data", list, "next_cursor", next ? json_string(next) : json_null()));
	free(next);
}

void api_message_get(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *m = store_message_json(a->st, http_workspace(r), http_param(r, 0), &err);
	if (!m) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, m);
}

void api_messages_stats(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *c = store_dlv_counts(a->st, http_workspace(r), &err);
	if (!c) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o}", "by_status", c));
}

static void replay(struct http_request *r, struct app *a, const char *id, const char *status, const char *channel)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	int64_t n = 0;
	if (store_dlv_replay(a->st, http_workspace(r), id, status, channel, clock_now_ms(), &n, &err) < 0) {
		http_error(r, &err);
		return;
	}
	dlv_dispatcher_kick(a->dlv);
	http_json(r, 202, json_pack("{s:I}", "replayed", (json_int_t)n));
}

void api_message_replay(struct http_request *r, void *app)
{
	replay(r, app, http_param(r, 0), NULL, NULL);
}

void api_messages_replay(struct http_request *r, void *app)
{
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char *const keys[] = {"status", "channel", NULL};
	const char *status = jsonx_str(b, "status") ?: "dead";
	if (api_only_keys(b, keys, "a replay", &err) < 0 || (strcmp(status, "dead") && strcmp(status, "failed"))) {
		cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "status",
			      "status must be \"dead\" (the default) or \"failed\".");
		json_decref(b);
		http_error(r, &err);
		return;
	}
	const char *channel = jsonx_str(b, "channel");
	if (channel && !content_channel_get(channel, &err)) {
		json_decref(b);
		http_error(r, &err);
		return;
	}
	char st[16], ch[16];
	snprintf(st, sizeof st, "%s", status);
	snprintf(ch, sizeof ch, "%s", channel ? channel : "");
	json_decref(b);
	replay(r, app, NULL, st, ch[0] ? ch : NULL);
}

/* The message id of a send: from the idempotency key, or random. */
static void send_id(int64_t ws, const char *key, char out[40])
{
	unsigned char h[16];
	if (key) {
		char buf[400];
		snprintf(buf, sizeof buf, "send:%lld:%s", (long long)ws, key);
		crypto_generichash(h, sizeof h, (const unsigned char *)buf, strlen(buf), NULL, 0);
	} else {
		randombytes_buf(h, sizeof h);
	}
	memcpy(out, "msg_", 4);
	sodium_bin2hex(out + 4, 36, h, sizeof h);
}

/* Checks `to` against the channel; OUT: *recipient (JSON text or NULL),
 * *pid (0 when the recipient is only an address). */
static int send_recipient(struct app *a, int64_t ws, const json_t *to, const char *channel, int64_t *pid,
			  char **recipient, json_t **user, struct cairn_err *err)
{
	*pid = 0;
	*recipient = NULL;
	*user = NULL;
	if (!to && !strcmp(channel, "slack")) { /* the provider's URL is the address */
		*user = json_object();
		return 0;
	}
	if (!json_is_object(to))
		return cairn_err_set(
			err, CAIRN_EUNPROC, "invalid_field", "to",
			"to must be an object: {\"user_id\":…}, {\"email\":…}, {\"phone\":…} or, for a webhook, "
			"{\"url\":…}.");
	static const char *const keys[] = {"user_id", "anonymous_id", "email", "phone", "push_token", "url", NULL};
	if (api_only_keys(to, keys, "a recipient", err) < 0) {
		snprintf(err->field, sizeof err->field, "to");
		return CAIRN_EUNPROC;
	}
	const char *uid = jsonx_str(to, "user_id") ?: jsonx_str(to, "anonymous_id");
	const char *email = jsonx_str(to, "email"), *phone = jsonx_str(to, "phone");
	if (uid) {
		if (store_profile_resolve(a->st, ws, uid, pid, err) < 0) {
			cairn_err_clear(err);
			return cairn_err_set(err, CAIRN_EUNPROC, "unknown_user", "to.user_id",
					     "There is no user %s; identify them first.", uid);
		}
		*user = store_template_user(a->st, ws, uid, err);
		if (!*user)
			return CAIRN_EIO;
	}
	if (email && !dlv_email_valid(email))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_address", "to.email",
				     "\"%s\" is not an email address such as name@example.com.", email);
	char norm[32];
	if (phone && dlv_phone_normalize(phone, norm, sizeof norm, err) < 0) {
		snprintf(err->field, sizeof err->field, "to.phone");
		return CAIRN_EUNPROC;
	}
	const char *url = jsonx_str(to, "url");
	if (!strcmp(channel, "webhook") &&
	    (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strpbrk(url, " \r\n")))
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_field", "to.url",
				     "A webhook is sent to to.url, an http:// or https:// URL.");
	json_t *rc = json_object();
	if (url)
		json_object_set_new(rc, "url", json_string(url));
	if (email)
		json_object_set_new(rc, "email", json_string(email));
	if (phone)
		json_object_set_new(rc, "phone", json_string(norm));
	if (jsonx_str(to, "push_token"))
		json_object_set_new(rc, "push_token", json_string(jsonx_str(to, "push_token")));
	/* the address the channel needs must be there now */
	const json_t *traits = *user;
	int has = 1;
	if (!strcmp(channel, "email"))
		has = email || jsonx_str(traits, "email");
	else if (!strcmp(channel, "sms") || !strcmp(channel, "kakao"))
		has = phone || jsonx_str(traits, "phone") || jsonx_str(traits, "phone_number");
	else if (!strcmp(channel, "push"))
		has = jsonx_str(to, "push_token") || jsonx_str(traits, "push_token") ||
		      jsonx_str(traits, "device_token");
	if (!has) {
		json_decref(rc);
		return cairn_err_set(err, CAIRN_EUNPROC, "no_address", "to",
				     "There is no %s address for this recipient: give one in \"to\" or set the "
				     "user's trait.",
				     channel);
	}
	if (!uid && !email && !phone && !jsonx_str(to, "push_token") && !url && strcmp(channel, "slack")) {
		json_decref(rc);
		return cairn_err_set(err, CAIRN_EUNPROC, "missing_field", "to",
				     "to needs user_id, email, phone or push_token.");
	}
	if (json_object_size(rc))
		*recipient = json_dumps(rc, JSON_COMPACT);
	json_decref(rc);
	if (!*user)
		*user = json_object();
	if (email && !json_object_get(*user, "email"))
		json_object_set_new(*user, "email", json_string(email));
	return 0;
}

void api_messages_send(struct http_request *r, void *app)
{
	struct app *a = app;
	int64_t ws = http_workspace(r);
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char *const keys[] = {
		"to",	 "channel", "template",	       "data", "transactional", "advertising",
		"topic", "send_at", "idempotency_key", NULL};
	json_t *user = NULL, *rendered = NULL, *data = NULL;
	char *recipient = NULL, *tpl_channel = NULL;
	int64_t pid = 0, send_at = clock_now_ms();
	const char *tpl_id = NULL;
	json_t *tv = json_object_get(b, "template");
	const char *channel = jsonx_str(b, "channel");
	json_t *tr = json_object_get(b, "transactional"), *ad = json_object_get(b, "advertising");
	const char *topic = jsonx_str(b, "topic");
	const char *key = jsonx_str(b, "idempotency_key") ?: http_header(r, "Idempotency-Key");
	int rc = api_only_keys(b, keys, "a send", &err);
	if (rc == 0 && ((tr && !json_is_boolean(tr)) || (ad && !json_is_boolean(ad))))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field",
				   tr && !json_is_boolean(tr) ? "transactional" : "advertising",
				   "transactional and advertising are true or false.");
	int transactional = tr ? json_is_true(tr) : 1, advertising = ad ? json_is_true(ad) : 0;
	if (rc == 0 && json_object_get(b, "send_at") &&
	    (!jsonx_str(b, "send_at") || clock_parse_rfc3339(jsonx_str(b, "send_at"), &send_at) < 0))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "send_at",
				   "send_at must be an RFC 3339 time such as 2026-03-02T10:00:00+09:00.");
	if (rc == 0 && key && (strlen(key) == 0 || strlen(key) > 200))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "idempotency_key",
				   "idempotency_key must be 1 to 200 characters.");
	if (rc == 0 && json_object_get(b, "data") && !json_is_object(json_object_get(b, "data")))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "data", "data must be an object.");
	if (rc == 0 && json_is_string(tv)) {
		tpl_id = json_string_value(tv);
		struct store_template t;
		if (store_template_get(a->st, ws, tpl_id, 0, &t, &err) < 0) {
			cairn_err_clear(&err);
			rc = cairn_err_set(&err, CAIRN_EUNPROC, "unknown_template", "template",
					   "There is no template %s.", tpl_id);
		} else {
			tpl_channel = xstrdup(t.channel);
			store_template_release(&t);
			if (!channel)
				channel = tpl_channel;
			else if (strcmp(channel, tpl_channel))
				rc = cairn_err_set(&err, CAIRN_EUNPROC, "channel_mismatch", "channel",
						   "Template %s is a %s template, not %s.", tpl_id, tpl_channel,
						   channel);
		}
	} else if (rc == 0 && !json_is_object(tv)) {
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "missing_field", "template",
				   "template is required: a template id, or an inline body such as "
				   "{\"subject\":…,\"html\":…}.");
	}
	if (rc == 0 && !channel)
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "missing_field", "channel",
				   "channel is required with an inline template (%s).", CONTENT_CHANNEL_LIST);
	if (rc == 0 && !content_channel_get(channel, &err))
		rc = CAIRN_EUNPROC;
	if (rc == 0 && json_is_object(tv) && content_check(channel, tv, 1, NULL, &err) < 0) {
		if (strncmp(err.field, "body", 4) == 0) {
			char f[sizeof err.field];
			snprintf(f, sizeof f, "template%.110s", err.field + 4);
			memcpy(err.field, f, sizeof f);
		}
		rc = err.code;
	}
	if (rc == 0)
		rc = send_recipient(a, ws, json_object_get(b, "to"), channel, &pid, &recipient, &user, &err);
	char id[40];
	send_id(ws, key, id);
	if (rc == 0) {
		char *wsname = store_template_workspace_name(a->st, ws);
		data = json_pack("{s:O,s:{s:s,s:s},s:{s:s},s:O}", "user", user, "message", "id", id, "channel", channel,
				 "workspace", "name", wsname ? wsname : "", "data",
				 json_object_get(b, "data") ?: json_object_get(b, "to"));
		free(wsname);
		if (!json_object_get(b, "data"))
			json_object_set_new(data, "data", json_object());
		json_object_set_new(data, "links", dlv_links_json(id));
		const char *k;
		json_t *v;
		json_object_foreach (json_object_get(b, "data"), k, v)
			if (!json_object_get(data, k))
				json_object_set(data, k, v);
		rc = tpl_id ? content_render_template(a->st, ws, tpl_id, 0, data, &rendered, NULL, &err)
			    : content_render(a->st, ws, channel, tv, data, &rendered, NULL, &err);
		tpl_thread_cleanup();
	}
	int inserted = 0;
	if (rc == 0) {
		char *content = json_dumps(rendered, JSON_COMPACT);
		struct store_message m = {.message_id = id,
					  .ws = ws,
					  .profile_id = pid,
					  .channel = channel,
					  .template_id = tpl_id,
					  .advertising = advertising,
					  .transactional = transactional,
					  .topic = topic,
					  .recipient = recipient,
					  .content = content,
					  .status = "queued",
					  .created_at = clock_now_ms(),
					  .send_at = send_at};
		rc = store_begin(a->st, &err);
		if (rc == 0)
			rc = store_message_insert(a->st, &m, &inserted, &err);
		if (rc == 0)
			rc = store_commit(a->st, &err);
		else
			store_rollback(a->st);
		free(content);
	}
	json_decref(b);
	json_decref(user);
	json_decref(rendered);
	json_decref(data);
	free(recipient);
	free(tpl_channel);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	dlv_dispatcher_kick(a->dlv);
	http_json(r, inserted ? 202 : 200,
		  json_pack("{s:s,s:s,s:b}", "id", id, "status", "queued", "duplicate", !inserted));
}

/* ---- providers ----------------------------------------------------------------------------- */

static void provider_saved(struct http_request *r, struct app *a, struct store_dlv_provider *row, char *shown,
			   int status)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_provider_put(a->st, row, &err) < 0) {
		free(shown);
		store_dlv_provider_release(row);
		http_error(r, &err);
		return;
	}
	json_t *o = dlv_provider_json(row);
	if (shown) {
		json_object_set_new(o, "secret", json_string(shown));
		sodium_memzero(shown, strlen(shown));
		free(shown);
	}
	store_dlv_provider_release(row);
	dlv_dispatcher_kick(a->dlv);
	http_json(r, status, o);
}

void api_providers_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_provider row;
	char *shown = NULL;
	int rc = dlv_provider_from_json(b, NULL, http_workspace(r), clock_now_ms(), &row, &shown, &err);
	json_decref(b);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	provider_saved(r, a, &row, shown, 201);
}

void api_providers_list(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_provider *rows = NULL;
	size_t n = 0;
	if (store_dlv_providers(a->st, http_workspace(r), http_query(r, "channel"), &rows, &n, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, dlv_provider_json(&rows[i]));
		store_dlv_provider_release(&rows[i]);
	}
	free(rows);
	http_json(r, 200, json_pack("{s:o,s:n}", "data", list, "next_cursor"));
}

void api_provider_get(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_provider row;
	if (store_dlv_provider_get(a->st, http_workspace(r), http_param(r, 0), &row, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *o = dlv_provider_json(&row);
	store_dlv_provider_release(&row);
	http_json(r, 200, o);
}

void api_provider_update(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store_dlv_provider cur, row;
	if (store_dlv_provider_get(a->st, http_workspace(r), http_param(r, 0), &cur, &err) < 0) {
		http_error(r, &err);
		return;
	}
	json_t *b = http_body_json(r);
	if (!b) {
		store_dlv_provider_release(&cur);
		return;
	}
	char *shown = NULL;
	int rc = dlv_provider_from_json(b, &cur, http_workspace(r), clock_now_ms(), &row, &shown, &err);
	json_decref(b);
	store_dlv_provider_release(&cur);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	provider_saved(r, a, &row, shown, 200);
}

void api_provider_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_provider_delete(a->st, http_workspace(r), http_param(r, 0), &err) < 0) {
		http_error(r, &err);
		return;
	}
	dlv_dispatcher_kick(a->dlv);
	http_json(r, 200, json_pack("{s:s,s:b}", "id", http_param(r, 0), "deleted", 1));
}

void api_provider_test(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *res = NULL;
	int rc = dlv_send_test(a->st, http_workspace(r), http_param(r, 0), jsonx_str(b, "to"), a->cfg->public_url,
			       a->cfg->data_dir, &res, &err);
	json_decref(b);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, res);
}

/* ---- sender domains ------------------------------------------------------------------------- */

static int valid_label_chars(const char *s, int dots)
{
	if (!s || !*s || strlen(s) > 253)
		return 0;
	int has_dot = 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (c == '.') {
			if (p == s || p[1] == '\0' || p[1] == '.')
				return 0;
			has_dot = 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			     c == '_')) {
			return 0;
		}
	}
	return !dots || has_dot;
}

void api_domains_create(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char *const keys[] = {"domain", "selector", "algorithm", NULL};
	const char *domain = jsonx_str(b, "domain"), *selector = jsonx_str(b, "selector") ?: "cairn";
	const char *alg = jsonx_str(b, "algorithm") ?: "rsa";
	int rc = api_only_keys(b, keys, "a sender domain", &err);
	if (rc == 0 && !valid_label_chars(domain, 1))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "domain",
				   "domain must be a domain name such as mail.example.com.");
	if (rc == 0 && !valid_label_chars(selector, 0))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "selector",
				   "selector must be letters, digits, '-' or '_' (e.g. \"cairn\" or \"s2026\").");
	if (rc == 0 && strcmp(alg, "rsa") && strcmp(alg, "ed25519"))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "algorithm",
				   "algorithm must be \"rsa\" (RSA-2048, read by every receiver) or \"ed25519\".");
	struct store_dlv_domain existing;
	if (rc == 0 && store_dlv_domain_get(a->st, http_workspace(r), domain, &existing, &err) == 0) {
		store_dlv_domain_release(&existing);
		rc = cairn_err_set(&err, CAIRN_ECONFLICT, "domain_exists", "domain",
				   "%s is already a sender domain; delete it first to make a new key.", domain);
	}
	if (rc == 0)
		cairn_err_clear(&err);
	char *pem = NULL, *txt = NULL;
	if (rc == 0)
		rc = email_dkim_keygen(!strcmp(alg, "ed25519"), &pem, &txt, &err);
	if (rc == 0) {
		struct store_dlv_domain d = {.ws = http_workspace(r),
					     .domain = (char *)domain,
					     .selector = (char *)selector,
					     .algorithm = (char *)alg,
					     .dns_value = txt,
					     .created_at = clock_now_ms()};
		dlv_seal(pem, strlen(pem), &d.private_key, &d.private_key_len);
		rc = store_dlv_domain_put(a->st, &d, &err);
		free(d.private_key);
	}
	if (pem) {
		sodium_memzero(pem, strlen(pem));
		free(pem);
	}
	if (rc < 0) {
		free(txt);
		json_decref(b);
		http_error(r, &err);
		return;
	}
	char name[600];
	snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain);
	json_t *o = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s}]}", "domain", domain, "selector", selector, "algorithm",
			      alg, "dns_records", "type", "TXT", "name", name, "value", txt);
	free(txt);
	json_decref(b);
	dlv_dispatcher_kick(a->dlv);
	http_json(r, 201, o);
}

void api_domains_list(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *l = store_dlv_domains_json(a->st, http_workspace(r), &err);
	if (!l) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o,s:n}", "data", l, "next_cursor"));
}

void api_domain_get(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *l = store_dlv_domains_json(a->st, http_workspace(r), &err);
	if (!l) {
		http_error(r, &err);
		return;
	}
	size_t i;
	json_t *d;
	json_array_foreach (l, i, d) {
		if (!strcmp(jsonx_str(d, "domain"), http_param(r, 0))) {
			http_json(r, 200, json_incref(d));
			json_decref(l);
			return;
		}
	}
	json_decref(l);
	http_errorf(r, CAIRN_ENOTFOUND, "domain_not_found", "domain", "There is no sender domain %s.",
		    http_param(r, 0));
}

void api_domain_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_domain_delete(a->st, http_workspace(r), http_param(r, 0), &err) < 0) {
		http_error(r, &err);
		return;
	}
	dlv_dispatcher_kick(a->dlv);
	http_json(r, 200, json_pack("{s:s,s:b}", "domain", http_param(r, 0), "deleted", 1));
}

/* ---- suppressions --------------------------------------------------------------------------- */

void api_suppressions_list(struct http_request *r, void *app)
{
	struct app *a = app;
	int limit;
	if (http_limit(r, &limit) < 0)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	char *next = NULL;
	json_t *l = store_dlv_suppressions_json(a->st, http_workspace(r), limit, http_query(r, "cursor"), &next, &err);
	if (!l) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200, json_pack("{s:o,s:o}", "data", l, "next_cursor", next ? json_string(next) : json_null()));
	free(next);
}

void api_suppressions_add(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char *const keys[] = {"channel", "address", "reason", NULL};
	const char *channel = jsonx_str(b, "channel"), *address = jsonx_str(b, "address");
	int rc = api_only_keys(b, keys, "a suppression", &err);
	if (rc == 0 && !content_channel_get(channel, &err))
		rc = CAIRN_EUNPROC;
	char norm[32];
	if (rc == 0 && !address)
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "missing_field", "address", "address is required.");
	if (rc == 0 && !strcmp(channel, "email") && !dlv_email_valid(address))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_address", "address", "\"%s\" is not an email address.",
				   address);
	if (rc == 0 && (!strcmp(channel, "sms") || !strcmp(channel, "kakao"))) {
		if (dlv_phone_normalize(address, norm, sizeof norm, &err) < 0) {
			snprintf(err.field, sizeof err.field, "address");
			rc = CAIRN_EUNPROC;
		} else {
			address = norm;
		}
	}
	if (rc == 0)
		rc = store_dlv_suppress(a->st, http_workspace(r), channel, address, jsonx_str(b, "reason") ?: "manual",
					NULL, clock_now_ms(), &err);
	json_t *o = rc == 0 ? json_pack("{s:s,s:s,s:s}", "channel", channel, "address", address, "reason",
					jsonx_str(b, "reason") ?: "manual")
			    : NULL;
	json_decref(b);
	if (rc < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 201, o);
}

void api_suppression_delete(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (store_dlv_unsuppress(a->st, http_workspace(r), http_param(r, 0), http_param(r, 1), &err) < 0) {
		http_error(r, &err);
		return;
	}
	http_json(r, 200,
		  json_pack("{s:s,s:s,s:b}", "channel", http_param(r, 0), "address", http_param(r, 1), "deleted", 1));
}
