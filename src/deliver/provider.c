/* provider.c — provider configurations (see provider.h). One table says
 * which fields each type has, which are secrets and which are required. */
#include "deliver/provider.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/content.h"
#include "core/jsonx.h"
#include "core/xalloc.h"
#include "deliver/links.h"
#include "deliver/secret.h"
#include "deliver/smtp.h"
#include "deliver/wire.h"

#define T_SMTP	  (1u << DLV_P_SMTP)
#define T_HTTP	  (1u << DLV_P_HTTP)
#define T_WEBHOOK (1u << DLV_P_WEBHOOK)
#define T_FILE	  (1u << DLV_P_FILE)
#define T_ALL	  (T_SMTP | T_HTTP | T_WEBHOOK | T_FILE)

enum pkind { PK_STR, PK_INT, PK_NUM, PK_OBJ, PK_ARR };

static const struct pfield {
	const char *key;
	enum pkind kind;
	unsigned types;
	int secret;
	unsigned required; /* types that require it */
	const char *help;
} fields[] = {
	{"url", PK_STR, T_SMTP | T_HTTP, 0, T_SMTP | T_HTTP, "smtp://host:port, or the HTTP API's https:// URL"},
	{"from", PK_STR, T_SMTP | T_HTTP | T_FILE, 0, T_SMTP, "\"Name <addr@domain>\""},
	{"reply_to", PK_STR, T_SMTP | T_HTTP | T_FILE, 0, 0, "an address"},
	{"username", PK_STR, T_SMTP, 0, 0, "the SMTP AUTH user"},
	{"password", PK_STR, T_SMTP, 1, 0, "the SMTP AUTH password"},
	{"starttls", PK_INT, T_SMTP, 0, 0, "0 never, 1 when offered, 2 required"},
	{"method", PK_STR, T_HTTP, 0, 0, "POST or PUT"},
	{"headers", PK_OBJ, T_HTTP, 1, 0, "an object of header values, e.g. {\"Authorization\":\"Bearer …\"}"},
	{"body", PK_STR, T_HTTP, 0, 0, "a Liquid template of the request body"},
	{"success", PK_ARR, T_HTTP, 0, 0, "status patterns such as [\"2xx\"]"},
	{"transient", PK_ARR, T_HTTP, 0, 0, "status patterns such as [\"429\",\"5xx\"]"},
	{"success_contains", PK_STR, T_HTTP, 0, 0, "a text a successful reply contains"},
	{"secret", PK_STR, T_WEBHOOK, 1, 0, "\"whsec_…\" (made when absent)"},
	{"path", PK_STR, T_FILE, 0, 0, "a directory"},
	{"timeout_ms", PK_INT, T_ALL, 0, 0, "milliseconds, 100 to 120000"},
	{"concurrency", PK_INT, T_ALL, 0, 0, "1 to 64"},
	{"rate_per_sec", PK_NUM, T_ALL, 0, 0, "messages per second, 0 for no limit"},
	{"max_attempts", PK_INT, T_ALL, 0, 0, "1 to 20"},
	{"retry_base_ms", PK_INT, T_ALL, 0, 0, "milliseconds, 0 to 3600000"},
	{"sender_info", PK_STR, T_ALL, 0, 0, "the advertising footer's sender line"},
	{"unsubscribe_mailto", PK_STR, T_SMTP | T_HTTP | T_FILE, 0, 0, "an address"},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static const char *const type_names[] = {"smtp", "http", "webhook", "file"};

static int type_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof type_names / sizeof type_names[0]; i++)
		if (!strcmp(type_names[i], name))
			return (int)i;
	return -1;
}

static int bad(struct cairn_err *err, const char *field, const char *fmt, const char *a, const char *b)
{
	return cairn_err_set(err, CAIRN_EUNPROC, "invalid_provider", field, fmt, a, b);
}

int dlv_from_address(const char *from, char *out, size_t cap)
{
	if (!from)
		return -1;
	const char *lt = strrchr(from, '<');
	const char *p = lt ? lt + 1 : from;
	size_t n = lt ? strcspn(p, ">") : strlen(p);
	while (!lt && n && (*p == ' ')) {
		p++;
		n--;
	}
	while (n && p[n - 1] == ' ')
		n--;
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return dlv_email_valid(out) ? 0 : -1;
}

static int check_http_url(const char *url, struct cairn_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		 (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https")) &&
		 curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	for (const char *p = url; ok && *p; p++)
		if ((unsigned char)*p <= ' ')
			ok = 0;
	return ok ? 0 : bad(err, "url", "url must be an http:// or https:// URL with a host, not \"%s\"%s.", url, "");
}

static int check_pattern(const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) != 3)
		return -1;
	if (s[0] < '1' || s[0] > '5')
		return -1;
	if (!strcmp(s + 1, "xx"))
		return 0;
	return (s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') ? 0 : -1;
}

/* Checks one field's value by the table and its meaning. */
static int check_field(const struct pfield *f, json_t *v, const char *channel, struct cairn_err *err)
{
	char path[64];
	snprintf(path, sizeof path, "%s", f->key);
	switch (f->kind) {
	case PK_STR:
		if (!json_is_string(v) || !*json_string_value(v))
			return bad(err, path, "%s must be a non-empty string: %s.", f->key, f->help);
		break;
	case PK_INT:
		if (!json_is_integer(v))
			return bad(err, path, "%s must be an integer: %s.", f->key, f->help);
		break;
	case PK_NUM:
		if (!json_is_number(v) || json_number_value(v) < 0)
			return bad(err, path, "%s must be a number ≥ 0: %s.", f->key, f->help);
		break;
	case PK_OBJ:
		if (!json_is_object(v))
			return bad(err, path, "%s must be an object: %s.", f->key, f->help);
		break;
	case PK_ARR:
		if (!json_is_array(v))
			return bad(err, path, "%s must be an array: %s.", f->key, f->help);
		break;
	}
	const char *s = json_string_value(v);
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;
	if (!strcmp(f->key, "from") || !strcmp(f->key, "reply_to") || !strcmp(f->key, "unsubscribe_mailto")) {
		char addr[320];
		const char *a = s;
		if (!strcmp(f->key, "unsubscribe_mailto") && !strncasecmp(a, "mailto:", 7))
			a += 7;
		if (dlv_from_address(a, addr, sizeof addr) < 0 || strpbrk(s, "\r\n"))
			return bad(err, path,
				   "%s must be an email address such as \"Shop <news@shop.example>\", not \"%s\".",
				   f->key, s);
	} else if (!strcmp(f->key, "starttls") && (i < 0 || i > 2)) {
		return bad(err, path, "starttls must be 0 (never), 1 (when offered) or 2 (required)%s%s.", "", "");
	} else if (!strcmp(f->key, "method") && strcmp(s, "POST") && strcmp(s, "PUT")) {
		return bad(err, path, "method must be POST or PUT, not %s%s.", s, "");
	} else if (!strcmp(f->key, "timeout_ms") && (i < 100 || i > 120000)) {
		return bad(err, path, "timeout_ms must be between 100 and 120000%s%s.", "", "");
	} else if (!strcmp(f->key, "concurrency") && (i < 1 || i > 64)) {
		return bad(err, path, "concurrency must be between 1 and 64%s%s.", "", "");
	} else if (!strcmp(f->key, "max_attempts") && (i < 1 || i > 20)) {
		return bad(err, path, "max_attempts must be between 1 and 20%s%s.", "", "");
	} else if (!strcmp(f->key, "retry_base_ms") && (i < 0 || i > 3600000)) {
		return bad(err, path, "retry_base_ms must be between 0 and 3600000%s%s.", "", "");
	} else if (!strcmp(f->key, "headers")) {
		const char *k;
		json_t *hv;
		json_object_foreach (v, k, hv) {
			if (!json_is_string(hv) || strpbrk(json_string_value(hv), "\r\n") || !*k ||
			    strpbrk(k, ": \r\n"))
				return bad(err, "headers",
					   "headers must map header names to one-line strings; \"%s\" does not%s.", k,
					   "");
		}
	} else if (!strcmp(f->key, "success") || !strcmp(f->key, "transient")) {
		size_t k;
		json_t *e;
		json_array_foreach (v, k, e) {
			if (check_pattern(e) < 0)
				return bad(
					err, path,
					"%s must list status codes or classes such as \"2xx\", \"429\" or \"5xx\"%s.",
					f->key, "");
		}
	} else if (!strcmp(f->key, "body")) {
		struct tpl *t = tpl_parse(s, strlen(s), NULL, err);
		if (!t) {
			snprintf(err->field, sizeof err->field, "body");
			return CAIRN_EUNPROC;
		}
		tpl_free(t);
	} else if (!strcmp(f->key, "secret")) {
		char sig[128];
		struct cairn_err e = CAIRN_ERR_INIT;
		if (strncmp(s, "whsec_", 6) || strlen(s) < 6 + 16 ||
		    dlv_webhook_sign(s, "probe", 0, "", 0, sig, sizeof sig, &e) < 0)
			return bad(err, path,
				   "secret must be a Standard Webhooks secret: \"whsec_\" and at least 12 bytes in "
				   "base64%s%s.",
				   "", "");
	}
	(void)channel;
	return 0;
}

int dlv_provider_from_json(const json_t *body, const struct store_dlv_provider *existing, int64_t ws, int64_t now,
			   struct store_dlv_provider *out, char **shown_secret, struct cairn_err *err)
{
	memset(out, 0, sizeof *out);
	*shown_secret = NULL;
	if (!json_is_object(body))
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_body", "", "The body must be a JSON object.");
	const char *channel = existing ? existing->channel : jsonx_str(body, "channel");
	const char *type = existing ? existing->type : jsonx_str(body, "type");
	if (existing && ((json_object_get(body, "channel") && strcmp(jsonx_str(body, "channel") ?: "", channel)) ||
			 (json_object_get(body, "type") && strcmp(jsonx_str(body, "type") ?: "", type))))
		return cairn_err_set(err, CAIRN_EUNPROC, "immutable_field", "type",
				     "A provider's channel and type cannot change; create another provider.");
	if (!content_channel_get(channel, err))
		return CAIRN_EUNPROC;
	int t = type_of(type);
	if (t < 0)
		return bad(err, "type", "type must be smtp, http, webhook or file, not \"%s\"%s.", type ? type : "",
			   "");
	if ((t == DLV_P_SMTP && strcmp(channel, "email")) || (t == DLV_P_WEBHOOK && strcmp(channel, "webhook")) ||
	    (t == DLV_P_HTTP && !strcmp(channel, "webhook")))
		return bad(err, "type", "A %s provider cannot serve the %s channel.", type, channel);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)body, k, v) {
		if (!strcmp(k, "channel") || !strcmp(k, "type") || !strcmp(k, "name") || !strcmp(k, "priority") ||
		    !strcmp(k, "disabled") || !strcmp(k, "id"))
			continue;
		size_t i;
		for (i = 0; i < NFIELDS; i++)
			if (!strcmp(fields[i].key, k))
				break;
		if (i == NFIELDS || !(fields[i].types & (1u << t)))
			return bad(err, k, "%s is not a setting of a %s provider.", k, type);
		if (!json_is_null(v) && check_field(&fields[i], v, channel, err) < 0)
			return CAIRN_EUNPROC;
	}
	/* merge: the existing config and secrets, then the body */
	json_t *config = existing ? json_deep_copy(existing->config) : json_object();
	json_t *secrets = NULL;
	if (existing && existing->secret) {
		char *plain = NULL;
		size_t n;
		if (dlv_unseal(existing->secret, existing->secret_len, &plain, &n, err) < 0) {
			json_decref(config);
			return CAIRN_EIO;
		}
		secrets = jsonx_loadb(plain, n, 0, NULL);
		sodium_memzero(plain, n);
		free(plain);
	}
	if (!secrets)
		secrets = json_object();
	for (size_t i = 0; i < NFIELDS; i++) {
		json_t *val = json_object_get(body, fields[i].key);
		if (!val)
			continue;
		json_t *dst = fields[i].secret ? secrets : config;
		if (json_is_null(val))
			json_object_del(dst, fields[i].key);
		else
			json_object_set(dst, fields[i].key, val);
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		if ((fields[i].required & (1u << t)) && !json_object_get(config, fields[i].key) &&
		    !json_object_get(secrets, fields[i].key)) {
			json_decref(config);
			json_decref(secrets);
			return bad(err, fields[i].key, "%s is required: %s.", fields[i].key, fields[i].help);
		}
	}
	int rc = 0;
	const char *url = jsonx_str(config, "url");
	if (t == DLV_P_SMTP) {
		struct smtp_conf sc = {.url = url};
		struct smtp_client *c = smtp_client_new(&sc, err);
		if (!c)
			rc = CAIRN_EUNPROC;
		smtp_client_free(c);
	} else if (t == DLV_P_HTTP) {
		rc = check_http_url(url, err);
		if (rc == 0 && !strcmp(channel, "email") && !json_object_get(config, "from"))
			rc = bad(err, "from", "from is required for an email provider: %s%s.", "\"Name <addr@domain>\"",
				 "");
	}
	if (rc == 0 && t == DLV_P_WEBHOOK && !json_object_get(secrets, "secret")) {
		char *sec = dlv_webhook_secret_new();
		json_object_set_new(secrets, "secret", json_string(sec));
		*shown_secret = sec;
	}
	if (rc < 0) {
		json_decref(config);
		json_decref(secrets);
		return rc;
	}
	out->ws = ws;
	if (existing) {
		out->id = xstrdup(existing->id);
		out->created_at = existing->created_at;
		out->priority = existing->priority;
		out->disabled = existing->disabled;
		out->name = xstrdup(existing->name);
	} else {
		unsigned char rnd[8];
		randombytes_buf(rnd, sizeof rnd);
		char id[4 + 2 * sizeof rnd + 1];
		memcpy(id, "prv_", 4);
		sodium_bin2hex(id + 4, sizeof id - 4, rnd, sizeof rnd);
		out->id = xstrdup(id);
		out->created_at = now;
		out->name = NULL;
	}
	const char *name = jsonx_str(body, "name");
	if (name) {
		free(out->name);
		out->name = xstrdup(name);
	}
	if (!out->name) {
		char def[64];
		snprintf(def, sizeof def, "%s %s", channel, type);
		out->name = xstrdup(def);
	}
	if (json_is_integer(json_object_get(body, "priority")))
		out->priority = (int)json_integer_value(json_object_get(body, "priority"));
	if (json_is_boolean(json_object_get(body, "disabled")))
		out->disabled = json_is_true(json_object_get(body, "disabled"));
	out->channel = xstrdup(channel);
	out->type = xstrdup(type);
	out->config = config;
	out->updated_at = now;
	if (json_object_size(secrets)) {
		char *plain = json_dumps(secrets, JSON_COMPACT);
		dlv_seal(plain, strlen(plain), &out->secret, &out->secret_len);
		sodium_memzero(plain, strlen(plain));
		free(plain);
	}
	json_decref(secrets);
	return 0;
}

json_t *dlv_provider_json(const struct store_dlv_provider *row)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:b,s:O,s:o,s:o}", "id", row->id, "channel", row->channel, "type",
			      row->type, "name", row->name, "priority", row->priority, "disabled", row->disabled,
			      "config", row->config, "created_at", jsonx_time(row->created_at), "updated_at",
			      jsonx_time(row->updated_at));
	json_t *names = json_array();
	if (row->secret) {
		char *plain = NULL;
		size_t n;
		struct cairn_err e = CAIRN_ERR_INIT;
		if (dlv_unseal(row->secret, row->secret_len, &plain, &n, &e) == 0) {
			json_t *s = jsonx_loadb(plain, n, 0, NULL);
			const char *k;
			json_t *v;
			json_object_foreach (s, k, v)
				json_array_append_new(names, json_string(k));
			json_decref(s);
			sodium_memzero(plain, n);
			free(plain);
		} else {
			json_object_set_new(o, "secrets_error", json_string(e.message));
		}
	}
	json_object_set_new(o, "secrets", names);
	/* where the provider posts delivered / bounced / complained */
	json_object_set_new(o, "webhook_url", dlv_links_hook_url(row->id));
	return o;
}

static char *cfg_dup(const json_t *o, const char *k)
{
	const char *s = jsonx_str(o, k);
	return s ? xstrdup(s) : NULL;
}

static int cfg_int(const json_t *o, const char *k, int def)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

int dlv_provider_load(const struct store_dlv_provider *row, struct dlv_provider *p, struct cairn_err *err)
{
	memset(p, 0, sizeof *p);
	json_t *secrets = NULL;
	if (row->secret) {
		char *plain = NULL;
		size_t n;
		if (dlv_unseal(row->secret, row->secret_len, &plain, &n, err) < 0)
			return CAIRN_EIO;
		secrets = jsonx_loadb(plain, n, 0, NULL);
		sodium_memzero(plain, n);
		free(plain);
	}
	const json_t *c = row->config;
	p->ws = row->ws;
	p->id = xstrdup(row->id);
	p->channel = xstrdup(row->channel);
	p->name = xstrdup(row->name);
	p->type = (enum dlv_ptype)type_of(row->type);
	p->priority = row->priority;
	p->timeout_ms = cfg_int(c, "timeout_ms", 10000);
	p->concurrency = cfg_int(c, "concurrency", 4);
	p->max_attempts = cfg_int(c, "max_attempts", 6);
	p->retry_base_ms = cfg_int(c, "retry_base_ms", 30000);
	json_t *rate = json_object_get(c, "rate_per_sec");
	p->rate_per_sec = json_is_number(rate) ? json_number_value(rate) : 0;
	p->url = cfg_dup(c, "url");
	p->from = cfg_dup(c, "from");
	p->reply_to = cfg_dup(c, "reply_to");
	p->username = cfg_dup(c, "username");
	p->password = cfg_dup(secrets, "password");
	p->sender_info = cfg_dup(c, "sender_info");
	p->unsubscribe_mailto = cfg_dup(c, "unsubscribe_mailto");
	p->starttls = cfg_int(c, "starttls", 1);
	p->method = cfg_dup(c, "method");
	json_t *h = json_object_get(secrets, "headers");
	p->headers = h ? json_incref(h) : NULL;
	const char *body = jsonx_str(c, "body");
	int rc = 0;
	if (body && !(p->body = tpl_parse(body, strlen(body), NULL, err)))
		rc = CAIRN_EUNPROC;
	json_t *suc = json_object_get(c, "success"), *tr = json_object_get(c, "transient");
	p->success = suc ? json_incref(suc) : json_pack("[s]", "2xx");
	p->transient = tr ? json_incref(tr) : json_pack("[s,s,s]", "408", "429", "5xx");
	p->success_contains = cfg_dup(c, "success_contains");
	p->secret = cfg_dup(secrets, "secret");
	p->path = cfg_dup(c, "path");
	json_decref(secrets);
	if (rc < 0)
		dlv_provider_release(p);
	return rc;
}

void dlv_provider_release(struct dlv_provider *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->channel);
	free(p->name);
	free(p->url);
	free(p->from);
	free(p->reply_to);
	free(p->username);
	if (p->password) {
		sodium_memzero(p->password, strlen(p->password));
		free(p->password);
	}
	free(p->sender_info);
	free(p->unsubscribe_mailto);
	free(p->method);
	json_decref(p->headers);
	tpl_free(p->body);
	json_decref(p->success);
	json_decref(p->transient);
	free(p->success_contains);
	if (p->secret) {
		sodium_memzero(p->secret, strlen(p->secret));
		free(p->secret);
	}
	free(p->path);
	memset(p, 0, sizeof *p);
}

static int matches(const json_t *patterns, long status)
{
	size_t i;
	json_t *v;
	char code[8];
	snprintf(code, sizeof code, "%03ld", status);
	json_array_foreach (patterns, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		if (s[0] == code[0] && ((s[1] == 'x' && s[2] == 'x') || (s[1] == code[1] && s[2] == code[2])))
			return 1;
	}
	return 0;
}

enum dlv_class dlv_provider_classify(const struct dlv_provider *p, long status, const char *body)
{
	if (status <= 0)
		return DLV_TRANSIENT;
	if (matches(p->success, status))
		return (!p->success_contains || (body && strstr(body, p->success_contains))) ? DLV_OK : DLV_PERMANENT;
	if (matches(p->transient, status))
		return DLV_TRANSIENT;
	return DLV_PERMANENT;
}
