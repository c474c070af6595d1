/* content_test.c — message bodies (src/content/content.h): the channel
 * table, content_check's field checks and normalized body, rendering an
 * inline body and a saved template (with partials) for a user's data, the
 * report of used / missing variables and unknown filters, and errors with
 * their body paths. A real store in a temp dir. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "store/store.h"
#include "store/store_templates.h"
#include "template/tpl.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof dir, "/tmp/cairn-content-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(content, .init = mkdir_tmp, .fini = rm_tmp);

static struct store *open_ws(int64_t *ws)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store *st = store_open(dir, &e);
	cr_assert_not_null(st, "%s", e.message);
	cr_assert_eq(store_workspace_create(st, "w", 1, ws, &e), 0, "%s", e.message);
	return st;
}

/* Saves a template the way the API does: content_check, then the store. */
static void save(struct store *st, int64_t ws, const char *id, const char *channel, json_t *body)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *norm;
	cr_assert_eq(content_check(channel, body, 1, &norm, &e), 0, "%s: %s", id, e.message);
	struct store_template_draft d = {.id = id, .name = id, .channel = channel, .locale = "ko-KR", .body = norm};
	struct store_template out;
	cr_assert_eq(store_template_create(st, ws, &d, 1, 1000, &out, &e), 0, "%s: %s", id, e.message);
	store_template_release(&out);
	json_decref(norm);
	json_decref(body);
}

/* The user u-1, first_name 민수, tagged vip. */
static void add_user(struct store *st, int64_t ws)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	int64_t pid;
	cr_assert_eq(store_begin(st, &e), 0);
	cr_assert_eq(store_profile_create(st, ws, "u-1", 10, &pid, &e), 0, "%s", e.message);
	cr_assert_eq(store_identity_link(st, ws, STORE_ID_USER, "u-1", pid, 10, &e), 0, "%s", e.message);
	cr_assert_eq(store_tag_add(st, ws, pid, "vip", 10, &e), 0, "%s", e.message);
	struct store_profile p;
	cr_assert_eq(store_profile_get(st, pid, &p, &e), 0);
	json_decref(p.traits);
	p.traits = json_pack("{s:s,s:i}", "first_name", "민수", "points", 1500);
	cr_assert_eq(store_profile_put(st, &p, &e), 0, "%s", e.message);
	store_profile_release(&p);
	cr_assert_eq(store_commit(st, &e), 0);
}

/* {"user": <u-1 as templates see it>} */
static json_t *user_data(struct store *st, int64_t ws)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *u = store_template_user(st, ws, "u-1", &e);
	cr_assert_not_null(u, "%s", e.message);
	return json_pack("{s:o}", "user", u);
}

static const char *str_at(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v) {
		if (!strcmp(json_string_value(v), s))
			return 1;
	}
	return 0;
}

/* ---- the channel table ---------------------------------------------------------- */

Test(content, channel_table)
{
	static const char *const names[] = {"email", "sms", "kakao", "push", "webhook", "slack"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct content_channel *ch = content_channel_find(names[i]);
		cr_assert_not_null(ch, "%s", names[i]);
		cr_assert_str_eq(ch->name, names[i]);
		cr_assert(strstr(CONTENT_CHANNEL_LIST, names[i]), "the list names %s", names[i]);
	}
	cr_assert_null(content_channel_find("fax"));
	cr_assert_null(content_channel_find(NULL));
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(content_channel_get("fax", &e));
	cr_assert_eq(e.code, CAIRN_EUNPROC);
	cr_assert_str_eq(e.slug, "unknown_channel");
	cr_assert_str_eq(e.field, "channel");
	cr_assert(strstr(e.message, "'fax'"), "%s", e.message);
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_null(content_channel_get(NULL, &e2));
	cr_assert_str_eq(e2.slug, "missing_field");
}

/* ---- a saved template for a user ----------------------------------------------------- */

Test(content, renders_a_saved_email_with_partials_for_a_user)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	add_user(st, ws);
	save(st, ws, "footer", "email",
	     json_pack("{s:s,s:s,s:s}", "subject", "-", "html", "<footer>{{ workspace.name }} 드림</footer>", "text",
		       "-- {{ user.first_name }}님께"));
	save(st, ws, "welcome", "email",
	     json_pack("{s:s,s:s,s:s}", "subject", "{{ user.first_name }}님, 안녕하세요",
		       /* same field (html from html), and a named field */
		       "html", "<p>{{ user.points }}점</p>{% render 'footer' %}", "text",
		       "{{ user.tags | join: ',' }} {% render 'footer.text' %}"));
	json_t *data = user_data(st, ws);
	json_object_set_new(data, "workspace", json_pack("{s:s}", "name", "카페"));
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *r;
	char *channel;
	cr_assert_eq(content_render_template(st, ws, "welcome", 0, data, &r, &channel, &e), 0, "%s", e.message);
	cr_assert_eq(e.code, 0, "err stays untouched on success");
	cr_assert_str_eq(channel, "email");
	cr_assert_str_eq(str_at(r, "subject"), "민수님, 안녕하세요");
	cr_assert_str_eq(str_at(r, "html"), "<p>1500점</p><footer>카페 드림</footer>");
	cr_assert_str_eq(str_at(r, "text"), "vip -- 민수님께");
	cr_assert_eq(json_object_size(r), 3, "only the body's fields");
	free(channel);
	json_decref(r);

	/* a pinned version renders as it was; channel_out may be NULL */
	struct store_template_draft d = {.id = "welcome",
					 .name = "welcome",
					 .channel = "email",
					 .body = json_pack("{s:s,s:s}", "subject", "v2", "text", "v2")};
	struct store_template out;
	int created;
	cr_assert_eq(store_template_update(st, ws, &d, 0, 2000, &out, &created, &e), 0, "%s", e.message);
	store_template_release(&out);
	json_decref(d.body);
	cr_assert_eq(content_render_template(st, ws, "welcome", 1, data, &r, NULL, &e), 0, "%s", e.message);
	cr_assert_str_eq(str_at(r, "subject"), "민수님, 안녕하세요");
	json_decref(r);
	cr_assert_eq(content_render_template(st, ws, "welcome", 0, data, &r, NULL, &e), 0, "%s", e.message);
	cr_assert_str_eq(str_at(r, "subject"), "v2");
	json_decref(r);
	json_decref(data);
	store_close(st);
}

Test(content, archived_and_unknown_templates_are_not_rendered)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	save(st, ws, "gone", "sms", json_pack("{s:s}", "text", "hi"));
	struct cairn_err e = CAIRN_ERR_INIT;
	struct store_template t;
	cr_assert_eq(store_template_archive(st, ws, "gone", 2000, &t, &e), 0, "%s", e.message);
	store_template_release(&t);
	json_t *data = json_object(), *r = (json_t *)1;
	char *channel = (char *)1;
	cr_assert_eq(content_render_template(st, ws, "gone", 0, data, &r, &channel, &e), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e.slug, "template_archived");
	cr_assert_null(r);
	cr_assert_null(channel);
	/* a given version of an archived template is not sent either */
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render_template(st, ws, "gone", 1, data, &r, NULL, &e2), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e2.slug, "template_archived");
	struct cairn_err e3 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render_template(st, ws, "nope", 0, data, &r, NULL, &e3), CAIRN_ENOTFOUND);
	cr_assert_str_eq(e3.slug, "template_not_found");
	/* a partial that is archived or missing is a render error at the field */
	struct cairn_err e4 = CAIRN_ERR_INIT;
	json_t *body = json_pack("{s:s,s:s}", "subject", "s", "html", "{% render 'gone' %}");
	cr_assert_eq(content_render(st, ws, "email", body, data, &r, NULL, &e4), CAIRN_EUNPROC);
	cr_assert_str_eq(e4.field, "body.html");
	cr_assert(strstr(e4.message, "gone"), "%s", e4.message);
	json_decref(body);
	json_decref(data);
	store_close(st);
}

/* ---- inline bodies ---------------------------------------------------------------- */

Test(content, renders_an_inline_sms_body_and_reports_variables)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	add_user(st, ws);
	json_t *data = user_data(st, ws);
	json_t *body = json_pack("{s:s}", "text",
				 "[카페] {{ user.first_name }}님, {{ user.nickname }} {{ user.points | plus: 500 }}점 "
				 "{{ user.first_name | shout }}");
	struct cairn_err e = CAIRN_ERR_INIT;
	struct content_report rep;
	json_t *r;
	cr_assert_eq(content_render(st, ws, "sms", body, data, &r, &rep, &e), 0, "%s", e.message);
	cr_assert_str_eq(str_at(r, "text"), "[카페] 민수님,  2000점 민수");
	cr_assert(has(rep.used, "user.first_name") && has(rep.used, "user.nickname") && has(rep.used, "user.points"));
	cr_assert_eq(json_array_size(rep.used), 3, "no repeats");
	cr_assert(has(rep.missing, "user.nickname"));
	cr_assert_eq(json_array_size(rep.missing), 1);
	cr_assert(has(rep.unknown_filters, "shout"));
	content_report_release(&rep);
	cr_assert_null(rep.used);
	json_decref(r);

	/* strict: the missing variable is an error at the field */
	struct content_opts strict = {.strict = 1};
	cr_assert_eq(content_render_opts(st, ws, "sms", body, data, &strict, &r, &rep, &e), CAIRN_EUNPROC);
	cr_assert_str_eq(e.field, "body.text");
	cr_assert(strstr(e.message, "nickname"), "%s", e.message);
	cr_assert_null(r);
	cr_assert_null(rep.used, "no report on failure");
	json_decref(body);

	/* now_ms drives the date filter */
	struct content_opts at = {.now_ms = 1772409600000LL}; /* 2026-03-02T00:00:00Z */
	body = json_pack("{s:s}", "text", "{{ 'now' | date: '%Y-%m-%d' }}");
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render_opts(st, ws, "sms", body, data, &at, &r, NULL, &e2), 0, "%s", e2.message);
	cr_assert_str_eq(str_at(r, "text"), "2026-03-02");
	json_decref(r);
	json_decref(body);
	json_decref(data);
	store_close(st);
}

Test(content, renders_a_kakao_body_with_buttons)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	json_t *body = json_pack("{s:s,s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "template_code", "ORDER_SHIPPED", "text",
				 "{{ user.first_name }}님, 주문 {{ event.properties.order_id }} 출발", "buttons",
				 "name", "주문 조회", "type", "WL", "url_mobile",
				 "https://shop.example/o/{{ event.properties.order_id }}", "name",
				 "{{ 'faq' | upcase }}", "type", "WL", "url_mobile", "https://shop.example/faq");
	json_t *data =
		json_pack("{s:{s:s},s:{s:{s:i}}}", "user", "first_name", "지민", "event", "properties", "order_id", 42);
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *r;
	cr_assert_eq(content_render(st, ws, "kakao", body, data, &r, NULL, &e), 0, "%s", e.message);
	cr_assert_str_eq(str_at(r, "text"), "지민님, 주문 42 출발");
	json_t *b = json_object_get(r, "buttons");
	cr_assert_eq(json_array_size(b), 2);
	cr_assert_str_eq(str_at(json_array_get(b, 0), "name"), "주문 조회");
	cr_assert_str_eq(str_at(json_array_get(b, 0), "url_mobile"), "https://shop.example/o/42");
	cr_assert_str_eq(str_at(json_array_get(b, 1), "name"), "FAQ");
	json_decref(r);

	/* a save checks it too, and keeps the table's key order */
	json_t *norm;
	cr_assert_eq(content_check("kakao", body, 1, &norm, &e), 0, "%s", e.message);
	const char *first = json_object_iter_key(json_object_iter(norm));
	cr_assert_str_eq(first, "template_code");
	json_decref(norm);
	json_decref(body);
	json_decref(data);
	store_close(st);
}

/* ---- checking ------------------------------------------------------------------------ */

Test(content, check_normalizes)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	json_t *body = json_pack("{s:s,s:n,s:s}", "html", "<p>hi</p>", "preheader", "subject", "{{ x }}");
	json_t *norm;
	cr_assert_eq(content_check("email", body, 1, &norm, &e), 0, "%s", e.message);
	cr_assert_eq(json_object_size(norm), 2, "null means absent");
	cr_assert_str_eq(json_object_iter_key(json_object_iter(norm)), "subject", "table order");
	json_decref(norm);
	cr_assert_eq(content_check("email", body, 1, NULL, &e), 0, "normalized may be NULL");
	json_decref(body);
	/* a draft (require 0) need not be complete */
	body = json_pack("{s:s}", "html", "x");
	cr_assert_eq(content_check("email", body, 0, NULL, &e), 0, "%s", e.message);
	json_decref(body);
}

/* One body content_check refuses, and how. */
struct bad_body {
	const char *channel;
	const char *body; /* JSON text; NULL = no body */
	int code;
	const char *slug, *field;
};

static const struct bad_body bad_bodies[] = {
	{"fax", "{\"text\":\"x\"}", CAIRN_EUNPROC, "unknown_channel", "channel"},
	{NULL, "{\"text\":\"x\"}", CAIRN_EUNPROC, "missing_field", "channel"},
	{"sms", NULL, CAIRN_EUNPROC, "missing_field", "body"},
	{"sms", "\"hi\"", CAIRN_EUNPROC, "invalid_field", "body"},
	{"email", "{\"subject\":\"x\",\"subjcet\":\"y\",\"html\":\"h\"}", CAIRN_EUNPROC, "unknown_field",
	 "body.subjcet"},
	{"email", "{\"html\":\"x\"}", CAIRN_EUNPROC, "missing_field", "body.subject"},
	{"email", "{\"subject\":\"x\"}", CAIRN_EUNPROC, "missing_field", "body.html"},
	{"push", "{}", CAIRN_EUNPROC, "missing_field", "body.title"},
	{"email", "{\"subject\":\"x\",\"html\":\"<p>\\n{% if a %}x{% endfor %}\"}", CAIRN_EUNPROC, "template_syntax",
	 "body.html"},
	{"sms", "{\"text\":3}", CAIRN_EUNPROC, "invalid_field", "body.text"},
	{"kakao",
	 "{\"template_code\":\"T\",\"text\":\"t\",\"buttons\":[{\"name\":\"b\",\"url_mobile\":\"https://x/{{ a\"}]}",
	 CAIRN_EUNPROC, "template_syntax", "body.buttons[0].url_mobile"},
	{"kakao", "{\"template_code\":\"T\",\"text\":\"t\",\"buttons\":[{\"name\":\"a\"},{\"type\":\"WL\"}]}",
	 CAIRN_EUNPROC, "missing_field", "body.buttons[1].name"},
	{"kakao", "{\"template_code\":\"T\",\"text\":\"t\",\"buttons\":[1]}", CAIRN_EUNPROC, "invalid_field",
	 "body.buttons[0]"},
	{"kakao",
	 "{\"template_code\":\"T\",\"text\":\"t\",\"buttons\":[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":\"3\"},"
	 "{\"name\":\"4\"},{\"name\":\"5\"},{\"name\":\"6\"}]}",
	 CAIRN_EUNPROC, "invalid_field", "body.buttons"},
	{"push", "{\"title\":\"t\",\"data\":{\"deep_link\":\"app://{% for %}\"}}", CAIRN_EUNPROC, "template_syntax",
	 "body.data.deep_link"},
	{"push", "{\"title\":\"t\",\"data\":[]}", CAIRN_EUNPROC, "invalid_field", "body.data"},
};

Test(content, errors_name_the_field)
{
	for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
		const struct bad_body *c = &bad_bodies[i];
		json_t *body = c->body ? json_loads(c->body, JSON_DECODE_ANY, NULL) : NULL;
		cr_assert(!c->body || body, "case %zu parses", i);
		struct cairn_err e = CAIRN_ERR_INIT;
		json_t *norm = (json_t *)1;
		cr_assert_eq(content_check(c->channel, body, 1, &norm, &e), c->code, "case %zu: %s", i, e.message);
		cr_assert_null(norm, "case %zu", i);
		cr_assert_str_eq(e.slug, c->slug, "case %zu: %s", i, e.message);
		cr_assert_str_eq(e.field, c->field, "case %zu: %s", i, e.message);
		json_decref(body);
	}
}

Test(content, messages_say_what_to_do)
{
	json_t *body = json_pack("{s:s,s:s}", "subject", "x", "subjcet", "y");
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_lt(content_check("email", body, 1, NULL, &e), 0);
	cr_assert_str_eq(
		e.message,
		"body.subjcet is not a field of the email channel; use subject, preheader, html, text or from.");
	json_decref(body);
	body = json_pack("{s:s,s:s}", "subject", "x", "html", "<p>\n{% if a %}x{% endfor %}");
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_lt(content_check("email", body, 1, NULL, &e2), 0);
	cr_assert(strstr(e2.message, "line 2, column"), "%s", e2.message);
	json_decref(body);
	struct cairn_err e3 = CAIRN_ERR_INIT;
	cr_assert_null(content_channel_get("fax", &e3));
	cr_assert(strstr(e3.message, CONTENT_CHANNEL_LIST ", not 'fax'"), "%s", e3.message);
}

Test(content, too_large_is_413_on_save_and_422_when_rendering)
{
	size_t n = TPL_DEFAULT_MAX_SOURCE + 1;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	json_t *body = json_pack("{s:s}", "text", big), *r;
	free(big);
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(content_check("sms", body, 1, NULL, &e), CAIRN_ETOOBIG);
	cr_assert_str_eq(e.slug, "template_too_large");
	cr_assert_str_eq(e.field, "body.text");
	int64_t ws;
	struct store *st = open_ws(&ws);
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render(st, ws, "sms", body, NULL, &r, NULL, &e2), CAIRN_EUNPROC);
	cr_assert_str_eq(e2.slug, "template_too_large");
	cr_assert_null(r);
	json_decref(body);

	/* rendering refuses a bad shape with the same paths as a save */
	body = json_pack("{s:s}", "nope", "x");
	struct cairn_err e3 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render(st, ws, "slack", body, NULL, &r, NULL, &e3), CAIRN_EUNPROC);
	cr_assert_str_eq(e3.slug, "unknown_field");
	cr_assert_str_eq(e3.field, "body.nope");
	struct cairn_err e4 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render(st, ws, "fax", body, NULL, &r, NULL, &e4), CAIRN_EUNPROC);
	cr_assert_str_eq(e4.slug, "unknown_channel");
	json_decref(body);
	store_close(st);
}

Test(content, a_render_that_is_not_utf8_is_an_error)
{
	int64_t ws;
	struct store *st = open_ws(&ws);
	/* "/w==" is the single byte 0xFF */
	json_t *body = json_pack("{s:s,s:s}", "title", "ok", "body", "{{ '/w==' | base64_decode }}");
	struct cairn_err e = CAIRN_ERR_INIT;
	struct content_report rep;
	json_t *r;
	cr_assert_eq(content_render(st, ws, "push", body, NULL, &r, &rep, &e), CAIRN_EUNPROC);
	cr_assert_str_eq(e.slug, "template_error");
	cr_assert_str_eq(e.field, "body.body");
	cr_assert(strstr(e.message, "UTF-8"), "%s", e.message);
	cr_assert_null(r);
	cr_assert_null(rep.used);
	/* a runtime error names its field too */
	json_decref(body);
	body = json_pack("{s:s,s:{s:s}}", "title", "t", "data", "n", "{{ 1 | divided_by: 0 }}");
	struct cairn_err e2 = CAIRN_ERR_INIT;
	cr_assert_eq(content_render(st, ws, "push", body, NULL, &r, NULL, &e2), CAIRN_EUNPROC);
	cr_assert_str_eq(e2.field, "body.data.n");
	json_decref(body);
	store_close(st);
}
