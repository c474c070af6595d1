/* deliver_fuzz.c — libFuzzer harness for what delivery reads from users:
 * provider configurations (deliver/provider) and the wire checks
 * (deliver/wire).
 *
 * The input is tried as:
 *   - a provider's JSON body, created from nothing and as a PATCH over a
 *     valid row of each type (smtp with a password, http with headers and a
 *     body template, webhook with its secret, file). A refusal must be a
 *     CAIRN_E* with a message (and err.code equal to what was returned); an
 *     accepted row must keep its secrets out of its config, show them only by
 *     name, load again (secrets open, body parses), classify replies into
 *     the three classes, and accept its own body again as a PATCH with the
 *     same config and secrets (a fixed point);
 *   - text for dlv_sms_measure, dlv_phone_normalize (E.164 out, and
 *     normalizing its output gives it back), dlv_email_valid and
 *     dlv_from_address;
 *   - a rendered body for dlv_wire_payload on every channel.
 * The sealing key comes from CAIRN_SECRET_KEY, set before dlv_secret_init.
 * Any crash, leak, sanitizer report or abort is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonx.h"
#include "deliver/provider.h"
#include "deliver/secret.h"
#include "deliver/wire.h"

#define WS  1
#define NOW 1767225600000LL

static const char *const base_src[] = {
	"{\"channel\":\"email\",\"type\":\"smtp\",\"url\":\"smtp://mx.example.com:587\","
	"\"from\":\"Shop <news@shop.example>\",\"username\":\"apikey\",\"password\":\"hunter2-hunter2\"}",
	"{\"channel\":\"sms\",\"type\":\"http\",\"url\":\"https://api.example.com/send\",\"method\":\"POST\","
	"\"headers\":{\"Authorization\":\"Bearer tok-123456\"},\"body\":\"{{ payload | json }}\","
	"\"success\":[\"2xx\"],\"transient\":[\"429\",\"5xx\"],\"success_contains\":\"ok\"}",
	"{\"channel\":\"webhook\",\"type\":\"webhook\"}",
	"{\"channel\":\"email\",\"type\":\"file\",\"from\":\"dev@shop.example\"}",
};
#define NBASE (sizeof base_src / sizeof base_src[0])

static struct store_dlv_provider base[NBASE];

static const char *const secret_keys[] = {"password", "headers", "secret"};

static void check_err(int rc, const struct cairn_err *err)
{
	if (rc >= 0 || err->code != rc || !err->message[0] || !err->slug[0])
		abort();
	/* the message and field are fit for a JSON error body (valid UTF-8) */
	json_t *m = json_pack("{s:s,s:s}", "message", err->message, "field", err->field);
	if (!m)
		abort();
	json_decref(m);
}

/* Opens row's sealed secrets (new reference; an empty object when none). */
static json_t *open_secrets(const struct store_dlv_provider *row)
{
	if (!row->secret)
		return json_object();
	char *plain = NULL;
	size_t n = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (dlv_unseal(row->secret, row->secret_len, &plain, &n, &err) < 0)
		abort();
	json_t *s = jsonx_loadb(plain, n, 0, NULL);
	free(plain);
	if (!json_is_object(s) || json_object_size(s) == 0)
		abort();
	return s;
}

/* What every accepted row must satisfy. */
static void check_row(const struct store_dlv_provider *row, const char *shown)
{
	if (!row->id || !row->channel || !row->type || !row->name || !json_is_object(row->config))
		abort();
	if (row->ws != WS || row->updated_at != NOW)
		abort();
	for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++) {
		if (json_object_get(row->config, secret_keys[i]))
			abort();
	}
	json_t *secrets = open_secrets(row);

	/* the API's view names the secrets, and only them */
	json_t *view = dlv_provider_json(row);
	if (!view)
		abort();
	json_t *names = json_object_get(view, "secrets");
	if (!json_is_array(names) || json_array_size(names) != json_object_size(secrets) ||
	    json_object_get(view, "secrets_error"))
		abort();
	size_t i;
	json_t *nm;
	json_array_foreach (names, i, nm) {
		if (!json_object_get(secrets, json_string_value(nm)))
			abort();
	}
	char *text = json_dumps(view, JSON_COMPACT);
	if (!text)
		abort();
	free(text);
	json_decref(view);

	struct dlv_provider p;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (dlv_provider_load(row, &p, &err) < 0)
		abort(); /* accepted but does not load */
	if (strcmp(p.id, row->id) || strcmp(p.channel, row->channel))
		abort();
	const char *pw = jsonx_str(secrets, "password");
	if ((pw == NULL) != (p.password == NULL) || (pw && strcmp(pw, p.password)))
		abort();
	if (p.type == DLV_P_WEBHOOK) {
		if (!p.secret || strncmp(p.secret, "whsec_", 6))
			abort();
		if (shown && strcmp(shown, p.secret))
			abort();
	}
	static const long statuses[] = {0, -1, 100, 200, 201, 204, 302, 400, 404, 408, 429, 500, 503, 599, 999};
	for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++) {
		enum dlv_class c = dlv_provider_classify(&p, statuses[k], k % 2 ? "ok" : NULL);
		if (c != DLV_OK && c != DLV_TRANSIENT && c != DLV_PERMANENT)
			abort();
		if (statuses[k] <= 0 && c != DLV_TRANSIENT)
			abort();
	}
	dlv_provider_release(&p);
	json_decref(secrets);
}

static void try_provider(const json_t *body, const struct store_dlv_provider *existing)
{
	struct store_dlv_provider row;
	char *shown = NULL;
	struct cairn_err err = CAIRN_ERR_INIT;
	int rc = dlv_provider_from_json(body, existing, WS, NOW, &row, &shown, &err);
	if (rc < 0) {
		check_err(rc, &err);
		if (shown || row.id || row.secret || row.config)
			abort();
		return;
	}
	if (err.code)
		abort();
	if (existing && (strcmp(row.id, existing->id) || row.created_at != existing->created_at))
		abort();
	if (shown && (row.channel == NULL || strcmp(row.type, "webhook")))
		abort();
	check_row(&row, shown);

	/* the same body again, as a PATCH over what it made, changes nothing
	 * (but "secret": null, which asks for a new webhook secret each time) */
	if (json_is_null(json_object_get(body, "secret"))) {
		store_dlv_provider_release(&row);
		free(shown);
		return;
	}
	struct store_dlv_provider again;
	char *shown2 = NULL;
	struct cairn_err err2 = CAIRN_ERR_INIT;
	if (dlv_provider_from_json(body, &row, WS, NOW, &again, &shown2, &err2) < 0)
		abort();
	if (shown2 || !json_equal(row.config, again.config) || strcmp(row.name, again.name) ||
	    row.priority != again.priority || row.disabled != again.disabled)
		abort();
	json_t *s1 = open_secrets(&row), *s2 = open_secrets(&again);
	if (!json_equal(s1, s2))
		abort();
	json_decref(s1);
	json_decref(s2);
	store_dlv_provider_release(&again);
	store_dlv_provider_release(&row);
	free(shown);
}

static void try_text(const char *text)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	size_t bytes = 99;
	enum dlv_sms_kind kind = DLV_LMS;
	int rc = dlv_sms_measure(text, &bytes, &kind, &err);
	if (rc == 0) {
		if (bytes == 0 || bytes > DLV_LMS_MAX_BYTES || kind != (bytes > DLV_SMS_MAX_BYTES ? DLV_LMS : DLV_SMS))
			abort();
	} else {
		check_err(rc, &err);
		if (bytes != 0 || kind != DLV_SMS)
			abort();
	}

	char phone[32], again[32];
	cairn_err_clear(&err);
	rc = dlv_phone_normalize(text, phone, sizeof phone, &err);
	if (rc == 0) {
		size_t n = strlen(phone);
		if (phone[0] != '+' || n < 9 || n > 16 || strspn(phone + 1, "0123456789") != n - 1)
			abort();
		/* normalizing the output gives it back */
		if (dlv_phone_normalize(phone, again, sizeof again, &err) != 0 || strcmp(phone, again))
			abort();
	} else {
		check_err(rc, &err);
		if (phone[0])
			abort();
	}

	if (dlv_email_valid(text)) {
		if (strlen(text) > 254 || !strchr(text, '@'))
			abort();
		char addr[320];
		if (dlv_from_address(text, addr, sizeof addr) == 0 && !dlv_email_valid(addr))
			abort();
	}
	char addr[320];
	if (dlv_from_address(text, addr, sizeof addr) == 0 && !dlv_email_valid(addr))
		abort();
}

static void try_wire(const json_t *rendered)
{
	static const struct {
		const char *channel, *to;
	} chans[] = {
		{"email", "ada@example.com"},
		{"sms", "+821012345678"},
		{"kakao", "+821012345678"},
		{"push", "fcm-token-1"},
		{"webhook", NULL},
		{"slack", NULL},
		{"fax", "x"},
	};
	for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
		json_t *out = (json_t *)1;
		struct cairn_err err = CAIRN_ERR_INIT;
		int rc = dlv_wire_payload(chans[i].channel, rendered, chans[i].to, &out, &err);
		if (rc == 0) {
			if (!out || err.code)
				abort();
			if (strcmp(chans[i].channel, "webhook") && !json_is_object(out))
				abort();
			char *text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
			if (!text)
				abort();
			free(text);
			json_decref(out);
		} else {
			check_err(rc, &err);
			if (out)
				abort();
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("CAIRN_SECRET_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
	struct cairn_err err = CAIRN_ERR_INIT;
	if (dlv_secret_init(NULL, &err) < 0)
		abort();
	for (size_t i = 0; i < NBASE; i++) {
		json_t *b = jsonx_loadb(base_src[i], strlen(base_src[i]), 0, NULL);
		char *shown = NULL;
		if (!b || dlv_provider_from_json(b, NULL, WS, NOW - 1000, &base[i], &shown, &err) < 0)
			abort();
		free(shown);
		json_decref(b);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	try_text(text);
	free(text);

	json_t *j = jsonx_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	try_provider(j, NULL);
	for (size_t i = 0; i < NBASE; i++)
		try_provider(j, &base[i]);
	try_wire(j);
	json_decref(j);
	return 0;
}
