/* template_test.c — the Liquid engine: every tag and filter, edge cases
 * Shopify documents, the domain filters, limits and the public API. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "template/tpl.h"

/* 2026-03-02T01:00:00Z */
#define NOW_MS 1772413200000LL

static json_t *partials;

static const struct tpl *partial(void *ud, const char *name, size_t len, struct cairn_err *err)
{
	(void)ud;
	static struct tpl *cache[16];
	static char names[16][64];
	json_t *s = partials ? json_object_getn(partials, name, len) : NULL;
	if (!s)
		return NULL;
	for (int i = 0; i < 16; i++) {
		if (cache[i] && strlen(names[i]) == len && !memcmp(names[i], name, len))
			return cache[i];
	}
	for (int i = 0; i < 16; i++) {
		if (!cache[i]) {
			snprintf(names[i], sizeof names[i], "%.*s", (int)len, name);
			cache[i] = tpl_parse(json_string_value(s), json_string_length(s), NULL, err);
			return cache[i];
		}
	}
	return NULL;
}

/* Renders src with data (JSON text or NULL); returns a malloc'd output or
 * NULL on error (message in *msg when given). */
static char *render_opts(const char *src, const char *data, enum tpl_syntax mode, const struct tpl_render_opts *ro,
			 char *msg, size_t msgn)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	struct tpl_opts po = {mode, 0, 0, NULL};
	json_t *d = data ? json_loads(data, 0, NULL) : NULL;
	if (data)
		cr_assert(d, "bad test data: %s", data);
	struct tpl *t = tpl_parse(src, strlen(src), &po, &err);
	char *res = NULL;
	if (t) {
		struct tpl_render_opts def = {0};
		def.now_ms = NOW_MS;
		def.partial = partial;
		if (!ro)
			ro = &def;
		struct buf out;
		buf_init(&out, BUF_MAX_RENDER);
		if (tpl_render(t, d, ro, &out, &err) == 0)
			res = buf_detach(&out, NULL);
		buf_release(&out);
		tpl_free(t);
	}
	if (!res && msg)
		snprintf(msg, msgn, "%s", err.message);
	json_decref(d);
	return res;
}

static char *render(const char *src, const char *data)
{
	return render_opts(src, data, TPL_LAX, NULL, NULL, 0);
}

#define CHECK(src, data, want)                                                                                         \
	do {                                                                                                           \
		char *got_ = render(src, data);                                                                        \
		cr_assert(got_ != NULL, "render failed: %s", src);                                                     \
		cr_expect_str_eq(got_, want, "template %s\n  got  [%s]\n  want [%s]", src, got_, want);                \
		free(got_);                                                                                            \
	} while (0)

#define CHECK_STRICT(src, data, want)                                                                                  \
	do {                                                                                                           \
		char *got_ = render_opts(src, data, TPL_STRICT, NULL, NULL, 0);                                        \
		cr_assert(got_ != NULL, "render failed: %s", src);                                                     \
		cr_expect_str_eq(got_, want, "template %s\n  got  [%s]\n  want [%s]", src, got_, want);                \
		free(got_);                                                                                            \
	} while (0)

#define CHECK_FAILS(src, data, mode, fragment)                                                                         \
	do {                                                                                                           \
		char msg_[600] = "";                                                                                   \
		char *got_ = render_opts(src, data, mode, NULL, msg_, sizeof msg_);                                    \
		cr_expect(got_ == NULL, "expected an error for %s, got [%s]", src, got_ ? got_ : "");                  \
		cr_expect(strstr(msg_, fragment) != NULL, "message [%s] lacks [%s]", msg_, fragment);                  \
		free(got_);                                                                                            \
	} while (0)

/* ---- output, lookups, literals ------------------------------------------------------- */

Test(template_output, text_and_variables)
{
	CHECK("plain text", NULL, "plain text");
	CHECK("", NULL, "");
	CHECK("Hi {{ name }}!", "{\"name\":\"Minji\"}", "Hi Minji!");
	CHECK("{{ missing }}|{{ missing.deep[0] }}", "{}", "|");
	CHECK("{{ nil }}{{ null }}{{ true }} {{ false }}", NULL, "true false");
	CHECK("{{ 1 }} {{ -2 }} {{ 2.50 }} {{ 1.0 }}", NULL, "1 -2 2.5 1.0");
	CHECK("{{ 'single' }} {{ \"double\" }}", NULL, "single double");
	CHECK("{{ a }}", "{\"a\":[1,[2,[3]],null,\"x\"]}", "123x");
	CHECK("{{ h }}", "{\"h\":{\"a\":1,\"b\":\"x\",\"c\":[1,2]}}", "{\"a\"=>1, \"b\"=>\"x\", \"c\"=>[1, 2]}");
	CHECK("{{ (1..4) }}", NULL, "1..4");
}

Test(template_output, dot_and_bracket_lookup)
{
	const char *d = "{\"u\":{\"name\":\"Kim\",\"tags\":[\"a\",\"b\",\"c\"],\"a:b\":{\"x\":1}},\"k\":\"name\"}";
	CHECK("{{ u.name }} {{ u['name'] }} {{ u[k] }} {{ u[\"a:b\"].x }}", d, "Kim Kim Kim 1");
	CHECK("{{ u.tags[0] }}{{ u.tags[-1] }} {{ u.tags.first }}{{ u.tags.last }} {{ u.tags.size }}", d, "ac ac 3");
	CHECK("{{ u.name.size }} {{ u.size }} {{ u.tags['first'] }}", d, "3 3 ");
	CHECK("{{ self.u.name }} {{ self[k] }}", "{\"u\":{\"name\":\"A\"},\"k\":\"u\"}", "A {\"name\"=>\"A\"}");
}

Test(template_output, truthiness_only_nil_and_false_are_falsy)
{
	CHECK("{% if 0 %}y{% endif %}{% if '' %}y{% endif %}{% if e %}y{% endif %}{% if a %}y{% endif %}",
	      "{\"e\":[],\"a\":{}}", "yyyy");
	CHECK("{% if nil %}n{% endif %}{% if false %}n{% endif %}{% if missing %}n{% endif %}", NULL, "");
}

Test(template_output, empty_and_blank)
{
	CHECK("{% if s == empty %}1{% endif %}{% if a == empty %}2{% endif %}{% if h == empty %}3{% endif %}",
	      "{\"s\":\"\",\"a\":[],\"h\":{}}", "123");
	CHECK("{% if s == blank %}1{% endif %}{% if n == blank %}2{% endif %}{% if x == blank %}3{% endif %}",
	      "{\"s\":\"  \",\"x\":\"x\"}", "12");
	CHECK("{% if true == empty %}no{% endif %}{% if 1 == blank %}no{% endif %}", NULL, "");
}

Test(template_output, comparisons_and_contains)
{
	CHECK("{% if 1 == 1.0 %}a{% endif %}{% if '1' == 1 %}b{% endif %}{% if 2 > 1 %}c{% endif %}"
	      "{% if 'b' > 'a' %}d{% endif %}{% if 1 != 2 %}e{% endif %}{% if 1 <> 1 %}f{% endif %}",
	      NULL, "acde");
	CHECK("{% if nil < 1 %}no{% endif %}{% if 1 >= nil %}no{% endif %}", NULL, "");
	CHECK("{% if s contains 'ell' %}a{% endif %}{% if arr contains 2 %}b{% endif %}{% if h contains 'k' %}c{% "
	      "endif %}"
	      "{% if arr contains '2' %}no{% endif %}",
	      "{\"s\":\"hello\",\"arr\":[1,2],\"h\":{\"k\":1}}", "abc");
}

Test(template_output, and_or_right_to_left)
{
	/* a or (b and c) */
	CHECK("{% if true or false and false %}y{% else %}n{% endif %}", NULL, "y");
	/* false and (true or true) */
	CHECK("{% if false and true or true %}y{% else %}n{% endif %}", NULL, "n");
}

Test(template_output, whitespace_control)
{
	CHECK("a  {{- 'b' -}}  c", NULL, "abc");
	CHECK("<p>\n  {%- if true -%}\n  yes\n  {%- endif -%}\n</p>", NULL, "<p>yes</p>");
	CHECK("x {%- assign a = 1 %} y", NULL, "x y");
	CHECK("foo {{-}} bar", NULL, "foobar");
}

/* ---- tags ----------------------------------------------------------------------------- */

Test(template_tags, assign_and_capture)
{
	CHECK("{% assign x = 'a' | upcase %}{{ x }}", NULL, "A");
	CHECK("{% for i in (1..2) %}{% assign last = i %}{% endfor %}{{ last }}", NULL, "2");
	CHECK("{% capture c %}<{{ 1 | plus: 1 }}>{% endcapture %}[{{ c }}]", NULL, "[<2>]");
	CHECK("{% assign my-var = 'hy' %}{{ my-var }}", NULL, "hy");
}

Test(template_tags, increment_decrement)
{
	CHECK("{% increment n %}{% increment n %}{% decrement n %}{{ n }}", NULL, "0111");
	CHECK("{% decrement d %}{% decrement d %}", NULL, "-1-2");
	CHECK("{% assign c = 10 %}{% increment c %}{{ c }}", NULL, "010");
}

Test(template_tags, if_elsif_else_unless)
{
	CHECK("{% if x == 1 %}one{% elsif x == 2 %}two{% else %}other{% endif %}", "{\"x\":2}", "two");
	CHECK("{% if x == 1 %}one{% elsif x == 2 %}two{% else %}other{% endif %}", "{\"x\":3}", "other");
	CHECK("{% unless x %}no x{% else %}x{% endunless %}", NULL, "no x");
	CHECK("{% unless x %}no x{% else %}x{% endunless %}", "{\"x\":0}", "x");
}

Test(template_tags, case_when)
{
	const char *t = "{% case v %}{% when 1, 2 %}low{% when 3 or 4 %}mid{% when 'x' %}ex{% else %}else{% endcase %}";
	CHECK(t, "{\"v\":2}", "low");
	CHECK(t, "{\"v\":4}", "mid");
	CHECK(t, "{\"v\":\"x\"}", "ex");
	CHECK(t, "{\"v\":9}", "else");
	CHECK(t, NULL, "else");
}

Test(template_tags, for_loops)
{
	const char *d = "{\"a\":[1,2,3,4,5]}";
	CHECK("{% for i in a %}{{ i }}{% endfor %}", d, "12345");
	CHECK("{% for i in a limit: 2 offset: 1 %}{{ i }}{% endfor %}", d, "23");
	CHECK("{% for i in a reversed %}{{ i }}{% endfor %}", d, "54321");
	CHECK("{% for i in (3..5) %}{{ i }}{% endfor %}", NULL, "345");
	CHECK("{% for i in (1..n) %}{{ i }}{% endfor %}", "{\"n\":3}", "123");
	CHECK("{% for i in empty %}x{% else %}none{% endfor %}", "{\"empty\":[]}", "none");
	CHECK("{% for i in a %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% "
	      "endfor %}",
	      d, "13");
	CHECK("{% for i in a limit: 2 %}{{ i }}{% endfor %}|{% for i in a offset: continue %}{{ i }}{% endfor %}", d,
	      "12|345");
	CHECK("{% for kv in h %}{{ kv[0] }}={{ kv[1] }};{% endfor %}", "{\"h\":{\"a\":1,\"b\":2}}", "a=1;b=2;");
}

Test(template_tags, forloop_object_and_parentloop)
{
	CHECK("{% for i in (1..3) %}{{ forloop.index }}{{ forloop.index0 }}{{ forloop.rindex }}{{ forloop.rindex0 }}"
	      "{{ forloop.first }}{{ forloop.last }}{{ forloop.length }} {% endfor %}",
	      NULL, "1032truefalse3 2121falsefalse3 3210falsetrue3 ");
	CHECK("{% for a in (1..2) %}{% for b in (1..2) %}{{ forloop.parentloop.index }}{{ forloop.index }} {% endfor "
	      "%}{% endfor %}",
	      NULL, "11 12 21 22 ");
}

Test(template_tags, cycle_and_groups)
{
	CHECK("{% for i in (1..4) %}{% cycle 'a', 'b', 'c' %}{% endfor %}", NULL, "abca");
	CHECK("{% cycle 'g1': 'x', 'y' %}{% cycle 'g2': 'x', 'y' %}{% cycle 'g1': 'x', 'y' %}", NULL, "xxy");
	/* an undefined group name is nil: such cycles share one counter, as in Shopify */
	CHECK("{% cycle g1: 'x', 'y' %}{% cycle g2: 'x', 'y' %}", NULL, "xy");
}

Test(template_tags, tablerow)
{
	CHECK("{% tablerow n in a cols: 2 %}{{ n }}{% endtablerow %}", "{\"a\":[1,2,3]}",
	      "<tr class=\"row1\">\n<td class=\"col1\">1</td><td class=\"col2\">2</td></tr>\n"
	      "<tr class=\"row2\"><td class=\"col1\">3</td></tr>\n");
	CHECK("{% tablerow n in (1..2) %}{{ tablerowloop.col }}{{ tablerowloop.col_last }}{% endtablerow %}", NULL,
	      "<tr class=\"row1\">\n<td class=\"col1\">1false</td><td class=\"col2\">2true</td></tr>\n");
}

Test(template_tags, raw_comment_inline_comment)
{
	CHECK("{% raw %}{{ x }}{% if %}{% endraw %}", NULL, "{{ x }}{% if %}");
	CHECK("a{% comment %} {{ x }} {% if %} {% endcomment %}b", NULL, "ab");
	CHECK("a{% # inline comment %}b", NULL, "ab");
}

Test(template_tags, liquid_and_echo)
{
	CHECK("{% liquid\n assign x = 'a'\n if x == 'a'\n  echo 'yes'\n endif\n # comment\n%}", NULL, "yes");
	CHECK("{% echo 'hi' | upcase %}", NULL, "HI");
}

Test(template_tags, render_isolated_with_for_as)
{
	partials = json_pack("{s:s,s:s,s:s}", "card", "[{{ card.t }}{{ outer }}{{ extra }}]", "item",
			     "{{ p.t }}{{ forloop.index }},", "assign", "{% assign leaked = 1 %}");
	CHECK("{% assign outer = 'X' %}{% render 'card', extra: 'e' %}", NULL, "[e]");
	CHECK("{% render 'card' with c %}", "{\"c\":{\"t\":\"T\"}}", "[T]");
	CHECK("{% render 'item' for ps as p %}", "{\"ps\":[{\"t\":\"a\"},{\"t\":\"b\"}]}", "a1,b2,");
	CHECK("{% render 'assign' %}{{ leaked }}", NULL, "");
	/* data stays visible in partials (global objects, as in Shopify) */
	CHECK("{% render 'card' %}", "{\"outer\":\"D\"}", "[D]");
	json_decref(partials);
	partials = NULL;
}

Test(template_tags, include_shares_scope)
{
	partials = json_pack("{s:s,s:s}", "set", "{% assign v = 'set' %}", "prod", "{{ prod.t }}/");
	CHECK("{% include 'set' %}{{ v }}", NULL, "set");
	CHECK("{% include 'prod' for ps %}", "{\"ps\":[{\"t\":\"a\"},{\"t\":\"b\"}]}", "a/b/");
	CHECK("{% assign n = 'prod' %}{% include n with x %}", "{\"x\":{\"t\":\"z\"}}", "z/");
	json_decref(partials);
	partials = NULL;
}

Test(template_tags, ifchanged)
{
	CHECK("{% for i in a %}{% ifchanged %}{{ i }}{% endifchanged %}{% endfor %}", "{\"a\":[1,1,2,2,1]}", "121");
}

/* ---- string filters --------------------------------------------------------------------- */

Test(template_filters, case_and_strip)
{
	CHECK("{{ 'Hello' | upcase }} {{ 'Hello' | downcase }} {{ 'hELLO wORLD' | capitalize }}", NULL,
	      "HELLO hello Hello world");
	CHECK("[{{ '  a b  ' | strip }}][{{ '  a' | lstrip }}][{{ 'a  ' | rstrip }}]", NULL, "[a b][a][a]");
	CHECK("{{ nil | upcase }}|{{ 5 | append: 1 }}", NULL, "|51");
}

Test(template_filters, replace_remove_append)
{
	CHECK("{{ 'a-b-a' | replace: 'a', 'x' }} {{ 'a-b-a' | replace_first: 'a', 'x' }} {{ 'a-b-a' | replace_last: "
	      "'a', 'x' }}",
	      NULL, "x-b-x x-b-a a-b-x");
	CHECK("{{ 'a-b-a' | remove: 'a' }} {{ 'a-b-a' | remove_first: 'a' }} {{ 'a-b-a' | remove_last: 'a' }}", NULL,
	      "-b- -b-a a-b-");
	CHECK("{{ 'b' | prepend: 'a' | append: 'c' }}", NULL, "abc");
}

Test(template_filters, split_join_slice)
{
	CHECK("{{ 'a,b,,c' | split: ',' | join: '|' }}", NULL, "a|b||c");
	CHECK("{{ ' a  b ' | split: ' ' | join: '|' }}", NULL, "a|b");
	CHECK("{{ 'abc' | split: '' | join: '.' }}", NULL, "a.b.c");
	CHECK("{{ 'hello' | slice: 1, 3 }} {{ 'hello' | slice: -3, 2 }} {{ 'hello' | slice: 9 }}|", NULL, "ell ll |");
	CHECK("{{ a | slice: -2, 2 | join }}", "{\"a\":[1,2,3]}", "2 3");
}

Test(template_filters, truncate_and_words)
{
	CHECK("{{ 'Ground control to Major Tom.' | truncate: 20 }}", NULL, "Ground control to...");
	CHECK("{{ 'Ground control' | truncate: 8, '' }}", NULL, "Ground c");
	CHECK("{{ 'short' | truncate: 20 }}", NULL, "short");
	CHECK("{{ 'Ground control to Major Tom.' | truncatewords: 3 }}", NULL, "Ground control to...");
	CHECK("{{ 'one two' | truncatewords: 5 }}", NULL, "one two");
	CHECK("{{ 'a b c' | truncatewords: 0, '--' }}", NULL, "a--");
}

Test(template_filters, html_and_url)
{
	CHECK("{{ \"<a href='x'>It's & \" | append: '\"you\"</a>' | escape }}", NULL,
	      "&lt;a href=&#39;x&#39;&gt;It&#39;s &amp; &quot;you&quot;&lt;/a&gt;");
	CHECK("{{ '&lt; & &amp; &#39;' | escape_once }}", NULL, "&lt; &amp; &amp; &#39;");
	CHECK("{{ '<p>Hi <b>there</b></p><script>x()</script><!-- c -->' | strip_html }}", NULL, "Hi there");
	CHECK("{{ 'a\nb' | newline_to_br }}|{{ 'a\r\nb\n' | strip_newlines }}", NULL, "a<br />\nb|ab");
	CHECK("{{ 'a b&c/d?é' | url_encode }}", NULL, "a+b%26c%2Fd%3F%C3%A9");
	CHECK("{{ 'a+b%26c' | url_decode }}", NULL, "a b&c");
	CHECK("{{ 'hello' | base64_encode }} {{ 'aGVsbG8=' | base64_decode }} {{ '>>?' | base64_url_safe_encode }}",
	      NULL, "aGVsbG8= hello Pj4_");
}

Test(template_filters, korean_text_counts_characters)
{
	const char *d = "{\"s\":\"안녕하세요 고객님\"}";
	CHECK("{{ s | size }} {{ s.size }}", d, "9 9");
	CHECK("{{ s | slice: 0, 2 }}|{{ s | slice: -3 }}|{{ s | slice: -3, 3 }}", d, "안녕|고|고객님");
	CHECK("{{ s | truncate: 6 }}", d, "안녕하...");
	CHECK("{{ s | truncate: 5, '…' }}", d, "안녕하세…");
	CHECK("{{ s | first }}{{ s | last }} {{ s | reverse }}", d, "안님 안녕하세요 고객님");
	CHECK("{{ 'ﬀ straße' | upcase }} {{ 'ÀÉÎ' | downcase }}", NULL, "FF STRASSE àéî");
	CHECK("{{ s | split: ' ' | last }}", d, "고객님");
}

/* ---- numbers ---------------------------------------------------------------------------- */

Test(template_filters, arithmetic_int_and_float)
{
	CHECK("{{ 4 | plus: 2 }} {{ 4 | minus: 6 }} {{ 3 | times: 4 }} {{ 7 | divided_by: 2 }}", NULL, "6 -2 12 3");
	CHECK("{{ 4.5 | plus: 1 }} {{ 0.1 | plus: 0.2 }} {{ 0.0725 | times: 100 }} {{ 7 | divided_by: 2.0 }}", NULL,
	      "5.5 0.3 7.25 3.5");
	CHECK("{{ '3' | plus: '4' }} {{ '1.5' | times: 2 }} {{ 'abc' | plus: 1 }} {{ nil | minus: 1 }}", NULL,
	      "7 3.0 1 -1");
	CHECK("{{ -7 | divided_by: 2 }} {{ 2.0 | divided_by: 4 }}", NULL, "-4 0.5");
}

Test(template_filters, modulo_negative_follows_divisor)
{
	CHECK("{{ 7 | modulo: 3 }} {{ -7 | modulo: 3 }} {{ 7 | modulo: -3 }} {{ 5.5 | modulo: 2 }}", NULL,
	      "1 2 -2 1.5");
}

Test(template_filters, round_ceil_floor_abs_clamp)
{
	CHECK("{{ 4.6 | round }} {{ 4.5 | round }} {{ -4.5 | round }} {{ 4.5612 | round: 2 }} {{ 1234 | round: -2 }}",
	      NULL, "5 5 -5 4.56 1200");
	CHECK("{{ 1.005 | round: 2 }} {{ 5 | round: 2 }}", NULL, "1.01 5");
	CHECK("{{ 4.1 | ceil }} {{ -4.1 | ceil }} {{ 4.9 | floor }} {{ -4.1 | floor }} {{ '3.2' | ceil }}", NULL,
	      "5 -4 4 -5 4");
	CHECK("{{ -3 | abs }} {{ -2.5 | abs }} {{ '-7' | abs }}", NULL, "3 2.5 7");
	CHECK("{{ 3 | at_least: 5 }} {{ 7 | at_least: 5 }} {{ 3 | at_most: 2 }} {{ 1.5 | at_most: 2 }}", NULL,
	      "5 7 2 1.5");
}

Test(template_filters, division_by_zero_is_an_error)
{
	CHECK_FAILS("{{ 1 | divided_by: 0 }}", NULL, TPL_LAX, "divided by 0");
	CHECK_FAILS("{{ 1 | modulo: 0 }}", NULL, TPL_LAX, "divided by 0");
}

/* ---- arrays ------------------------------------------------------------------------------- */

Test(template_filters, array_filters)
{
	const char *d =
		"{\"p\":[{\"n\":\"b\",\"ok\":true,\"v\":2},{\"n\":\"A\",\"ok\":false,\"v\":1},{\"n\":\"c\",\"v\":3}],"
		"\"w\":[\"b\",\"A\",\"c\",\"b\",null]}";
	CHECK("{{ p | map: 'n' | join: ',' }}", d, "b,A,c");
	CHECK("{{ p | where: 'ok' | map: 'n' | join }} {{ p | where: 'ok', false | map: 'n' | join }}", d, "b A");
	CHECK("{{ p | reject: 'ok' | map: 'n' | join }}", d, "A c");
	CHECK("{{ p | sort: 'v' | map: 'n' | join }} {{ p | sort_natural: 'n' | map: 'n' | join }}", d, "A b c A b c");
	CHECK("{{ w | compact | sort | join }} {{ w | compact | uniq | join }} {{ w | compact | sort_natural | join }}",
	      d, "A b b c b A c A b b c");
	CHECK("{{ p | sum: 'v' }} {{ p | find: 'v', 3 | map: 'n' }} {{ p | find_index: 'n', 'c' }} {{ p | has: 'ok' }}",
	      d, "6 c 2 true");
	CHECK("{{ w | first }}{{ w | last }} {{ w | size }} {{ w | reverse | compact | join: '' }}", d, "b 5 bcAb");
	CHECK("{{ a | concat: b | join }}", "{\"a\":[1],\"b\":[2,3]}", "1 2 3");
	CHECK("{{ a | sum }}", "{\"a\":[0.1,\"0.2\",1]}", "1.3");
}

/* ---- default, json, dates, money, t --------------------------------------------------------- */

Test(template_filters, default_filter)
{
	CHECK("{{ nil | default: 'd' }} {{ false | default: 'd' }} {{ '' | default: 'd' }} {{ 0 | default: 'd' }}",
	      NULL, "d d d 0");
	CHECK("{{ false | default: 'd', allow_false: true }} {{ a | default: 'd' }}", "{\"a\":[]}", "false d");
}

Test(template_filters, json_filter)
{
	CHECK("{{ u | json }}", "{\"u\":{\"n\":\"김\",\"a\":[1,2.5,null,true]}}",
	      "{\"n\":\"김\",\"a\":[1,2.5,null,true]}");
	CHECK("{{ 'say \"hi\"' | json }} {{ 3 | json }} {{ nil | json }}", NULL, "\"say \\\"hi\\\"\" 3 null");
}

Test(template_filters, date_formats)
{
	const char *d = "{\"t\":\"2026-03-02T01:05:09Z\"}";
	CHECK("{{ t | date: '%Y-%m-%d %H:%M:%S' }}", d, "2026-03-02 01:05:09");
	CHECK("{{ t | date: '%a %A %b %B %d %e %-d %j %y %I %p %M' }}", d,
	      "Mon Monday Mar March 02  2 2 061 26 01 AM 05");
	CHECK("{{ t | date: '%F %T %D %s %u %w %%' }}", d, "2026-03-02 01:05:09 03/02/26 1772413509 1 1 %");
	CHECK("{{ '2026-03-02 10:00:00 +0900' | date: '%H:%M %z' }}", NULL, "10:00 +0900");
	CHECK("{{ 'March 14, 2016' | date: '%b %d, %Y' }}", NULL, "Mar 14, 2016");
	CHECK("{{ 0 | date: '%Y-%m-%d' }} {{ '1700000000' | date: '%Y' }}", NULL, "1970-01-01 2023");
	CHECK("{{ 'now' | date: '%Y-%m-%d' }} {{ 'today' | date: '%Y' }}", NULL, "2026-03-02 2026");
	CHECK("{{ 'not a date' | date: '%Y' }}|{{ '' | date: '%Y' }}|{{ t | date: '' }}", d,
	      "not a date||2026-03-02T01:05:09Z");
}

Test(template_filters, date_with_time_zone)
{
	const char *d = "{\"t\":\"2026-03-02T01:00:00Z\"}";
	CHECK("{{ t | date: '%Y-%m-%d %H:%M', 'Asia/Seoul' }}", d, "2026-03-02 10:00");
	CHECK("{{ t | date: '%Y-%m-%d %H:%M %z', 'America/New_York' }}", d, "2026-03-01 20:00 -0500");
	CHECK("{{ '2026-07-01T12:00:00Z' | date: '%H:%M %z', 'America/New_York' }}", NULL, "08:00 -0400");
	CHECK("{{ 'now' | date: '%H:%M', 'Asia/Seoul' }}", NULL, "10:00");
	/* a wall time without offset is taken as local to the zone */
	CHECK("{{ '2026-03-02 09:30' | date: '%H:%M %z', 'Asia/Seoul' }}", NULL, "09:30 +0900");
	CHECK_FAILS("{{ t | date: '%Y', 'Mars/Olympus' }}", d, TPL_LAX, "Unknown time zone");
}

Test(template_filters, money)
{
	CHECK("{{ 15000 | money: 'KRW' }} {{ 1234567 | money: 'krw' }} {{ 999.6 | money: 'KRW' }}", NULL,
	      "₩15,000 ₩1,234,567 ₩1,000");
	CHECK("{{ 12.5 | money: 'USD' }} {{ 1234.567 | money }} {{ 0 | money: 'EUR' }} {{ -5 | money: 'GBP' }}", NULL,
	      "$12.50 $1,234.57 €0.00 -£5.00");
	CHECK("{{ '7' | money: 'CHF' }}", NULL, "CHF 7.00");
}

Test(template_filters, translations)
{
	const char *d = "{\"user\":{\"locale\":\"ko-KR\",\"name\":\"민수\"},\"_translations\":{"
			"\"en\":{\"hi\":\"Hello\",\"only_en\":\"EN\",\"mail\":{\"subject\":\"Subject\"}},"
			"\"ko\":{\"hi\":\"안녕하세요\",\"welcome\":\"{{ name }}님 환영합니다\"}}}";
	CHECK("{{ 'hi' | t }} {{ 'only_en' | t }} {{ 'mail.subject' | t }} {{ 'nope' | t }}", d,
	      "안녕하세요 EN Subject nope");
	CHECK("{{ 'welcome' | t: name: user.name }}", d, "민수님 환영합니다");
	CHECK("{{ 'hi' | t }}", "{\"_locale\":\"en\",\"_translations\":{\"en\":{\"hi\":\"Hello\"}}}", "Hello");
	CHECK("{{ 'hi' | t }}", NULL, "hi");
}

/* ---- modes, errors, limits ------------------------------------------------------------------ */

Test(template_modes, lax_vs_strict_parsing)
{
	CHECK("{{ 'X' | downcase) }}", NULL, "x");
	CHECK_FAILS("{{ 'X' | downcase) }}", NULL, TPL_STRICT, "Liquid syntax error");
	CHECK("{% if true && false %}y{% endif %}", NULL, "y");
	CHECK_FAILS("{% if true && false %}y{% endif %}", NULL, TPL_STRICT, "Unexpected character");
	CHECK_STRICT("{{ a.b | append: 'x', }}", "{\"a\":{\"b\":\"1\"}}", "1x");
}

Test(template_modes, unknown_things)
{
	CHECK("{{ v | no_such_filter }}", "{\"v\":1}", "1");
	struct tpl_render_opts ro = {0};
	ro.strict_filters = 1;
	char msg[600] = "";
	char *got = render_opts("{{ v | no_such_filter }}", "{\"v\":1}", TPL_LAX, &ro, msg, sizeof msg);
	cr_expect_null(got);
	cr_expect(strstr(msg, "Unknown filter 'no_such_filter'"));
	ro.strict_filters = 0;
	ro.strict_variables = 1;
	got = render_opts("{{ user.nme }}", "{\"user\":{\"name\":\"a\"}}", TPL_LAX, &ro, msg, sizeof msg);
	cr_expect_null(got);
	cr_expect(strstr(msg, "Undefined variable 'nme'"), "%s", msg);
}

Test(template_errors, syntax_errors_have_line_and_column)
{
	CHECK_FAILS("a\nb\n  {% endif %}", NULL, TPL_LAX, "(line 3, column 3): 'endif' without a matching 'if'");
	CHECK_FAILS("{% if x %}\n{% endfor %}", NULL, TPL_LAX, "'endfor' is not a valid delimiter for if tags");
	CHECK_FAILS("x\n {% for a in b %}", NULL, TPL_LAX, "(line 2, column 2): 'for' tag was never closed");
	CHECK_FAILS("{% nope %}", NULL, TPL_LAX, "Unknown tag 'nope'");
	CHECK_FAILS("{{ x ", NULL, TPL_LAX, "was not properly terminated");
	CHECK_FAILS("{% raw %}x", NULL, TPL_LAX, "'raw' tag was never closed");
	CHECK_FAILS("{% else %}", NULL, TPL_LAX, "'else' outside of an 'if' block");
	CHECK_FAILS("{% render name %}", NULL, TPL_STRICT, "quoted string");
}

Test(template_limits, hostile_templates_end_with_an_error)
{
	CHECK_FAILS("{% for i in (1..1000000000) %}{% endfor %}", NULL, TPL_LAX, "Loops ran more than");
	CHECK_FAILS("{% assign s = 'xxxxxxxxxx' %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}",
		    NULL, TPL_LAX, "larger than");
	CHECK_FAILS("{% for i in (1..100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}", NULL,
		    TPL_LAX, "The output is larger than");
	partials = json_pack("{s:s}", "loop", "{% render 'loop' %}");
	CHECK_FAILS("{% render 'loop' %}", NULL, TPL_LAX, "nested more than");
	json_decref(partials);
	partials = NULL;
	struct buf deep;
	buf_init(&deep, 0);
	for (int i = 0; i < 500; i++)
		buf_adds(&deep, "{% if true %}");
	CHECK_FAILS(deep.ptr, NULL, TPL_LAX, "Nesting too deep");
	buf_release(&deep);
	struct tpl_render_opts ro = {0};
	ro.limits.max_steps = 50;
	char msg[600] = "";
	char *got = render_opts("{% for i in (1..100) %}{{ i }}{% endfor %}", NULL, TPL_LAX, &ro, msg, sizeof msg);
	cr_expect_null(got);
	cr_expect(strstr(msg, "steps"), "%s", msg);
}

/* ---- API ------------------------------------------------------------------------------------- */

Test(template_api, parse_once_render_many)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *src = "{% for i in xs %}{{ i | times: 2 }},{% endfor %}";
	struct tpl *t = tpl_parse(src, strlen(src), NULL, &err);
	cr_assert_not_null(t);
	struct buf out;
	buf_init(&out, BUF_MAX_RENDER);
	for (int k = 0; k < 3; k++) {
		json_t *d = json_pack("{s:[i,i]}", "xs", k, k + 1);
		buf_reset(&out);
		cr_assert_eq(tpl_render(t, d, NULL, &out, &err), 0);
		char want[32];
		snprintf(want, sizeof want, "%d,%d,", 2 * k, 2 * (k + 1));
		cr_expect_str_eq(out.ptr, want);
		json_decref(d);
	}
	buf_release(&out);
	tpl_free(t);
	tpl_thread_cleanup();
}

Test(template_api, validate_lists_variables_and_filters)
{
	struct cairn_err err = CAIRN_ERR_INIT;
	const char *src = "{{ user.first_name | upcase }}{{ user.nope }}{% assign x = 1 %}{{ x | frob }}"
			  "{% for p in user.items %}{{ p.name }}{% endfor %}{% render 'footer' %}";
	struct tpl *t = tpl_parse(src, strlen(src), NULL, &err);
	cr_assert_not_null(t);
	json_t *data = json_loads("{\"user\":{\"first_name\":\"a\",\"items\":[]}}", 0, NULL);
	json_t *r = tpl_validate(t, data);
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cr_expect_str_eq(s, "{\"variables\":[\"user.first_name\",\"user.nope\",\"x\",\"user.items\",\"p.name\"],"
			    "\"filters\":[\"upcase\",\"frob\"],\"partials\":[\"footer\"],"
			    "\"unknown_variables\":[\"user.nope\"],\"unknown_filters\":[\"frob\"]}");
	free(s);
	json_decref(r);
	json_decref(data);
	tpl_free(t);
}

Test(template_api, filter_and_tag_tables)
{
	int n = 0, has_money = 0;
	for (const char *const *f = tpl_filter_names(); *f; f++, n++)
		has_money |= !strcmp(*f, "money");
	cr_expect_gt(n, 55);
	cr_expect(has_money);
	int tags = 0;
	for (const char *const *t = tpl_tag_names(); *t; t++)
		tags++;
	cr_expect_geq(tags, 19);
}
