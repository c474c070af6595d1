/* journey_test.c — journey definitions (src/journey/journey_def.c,
 * journey_check.c, journey_graph.c): the two seed journeys (001's welcome
 * series, 000's cart abandonment), every trigger and node type, every
 * validation error with its JSON path, round trips through the normalized
 * form, each publish check, and the DOT / Mermaid export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "journey/journey.h"

#define MIN_MS	60000LL
#define HOUR_MS 3600000LL
#define DAY_MS	86400000LL

/* Seed 001: subscribe → day 0 intro, day 2 top 3, day 5 problem solving,
 * day 7 reviews + offer. */
static const char welcome_src[] =
	"{\"name\":\"Welcome series\","
	" \"trigger\":{\"type\":\"event\",\"event\":\"Signed Up\"},"
	" \"goal\":{\"event\":\"Order Completed\",\"within\":{\"days\":14}},"
	" \"nodes\":["
	"  {\"id\":\"day0-intro\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"welcome-intro\","
	"   \"next\":\"wait-2d\"},"
	"  {\"id\":\"wait-2d\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"day2-top3\"},"
	"  {\"id\":\"day2-top3\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"welcome-top3\","
	"   \"next\":\"wait-3d\"},"
	"  {\"id\":\"wait-3d\",\"type\":\"wait\",\"duration\":{\"days\":3},\"next\":\"day5-solve\"},"
	"  {\"id\":\"day5-solve\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"welcome-problem-solving\","
	"   \"next\":\"wait-2d-again\"},"
	"  {\"id\":\"wait-2d-again\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"day7-reviews\"},"
	"  {\"id\":\"day7-reviews\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"welcome-reviews-offer\"}]}";

/* Seed 000: Checkout Started → 1 hour → reminder → 1 day → last call, until
 * the order is completed. */
static const char cart_src[] =
	"{\"name\":\"Cart abandonment\","
	" \"trigger\":{\"type\":\"event\",\"event\":\"Checkout Started\"},"
	" \"entry\":{\"reentry\":{\"after\":{\"days\":1}}},"
	" \"exit_on\":[{\"event\":\"Order Completed\"}],"
	" \"goal\":{\"event\":\"Order Completed\",\"within\":{\"days\":3}},"
	" \"nodes\":["
	"  {\"id\":\"wait-1h\",\"type\":\"wait\",\"duration\":{\"hours\":1},\"next\":\"reminder\"},"
	"  {\"id\":\"reminder\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"cart-reminder\","
	"   \"next\":\"wait-1d\"},"
	"  {\"id\":\"wait-1d\",\"type\":\"wait\",\"duration\":{\"days\":1},\"next\":\"last-call\"},"
	"  {\"id\":\"last-call\",\"type\":\"send\",\"channel\":\"kakao\",\"template\":\"cart-last-call\","
	"   \"fallback\":[\"sms\"]}]}";

/* CONVENTIONS §5's example, with every node type. */
static const char conventions_src[] =
	"{\"name\":\"Welcome series\",\"trigger\":{\"type\":\"event\",\"event\":\"Signed Up\","
	"  \"where\":{\"property\":\"plan\",\"op\":\"eq\",\"value\":\"free\"}},"
	" \"entry\":{\"reentry\":\"never\"},"
	" \"exit_on\":[{\"event\":\"Order Completed\"}],"
	" \"goal\":{\"event\":\"Order Completed\",\"within\":{\"days\":7}},"
	" \"quiet_hours\":{\"start\":\"21:00\",\"end\":\"08:00\"},"
	" \"start\":\"intro\","
	" \"nodes\":["
	"  {\"id\":\"intro\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"welcome-1\",\"next\":\"w2\"},"
	"  {\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"top3\"},"
	"  {\"id\":\"top3\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"top-3\",\"next\":\"clicked?\"},"
	"  {\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"Email Link Clicked\","
	"   \"where\":{\"property\":\"link_kind\",\"op\":\"eq\",\"value\":\"content\"},"
	"   \"timeout\":{\"days\":5},\"next\":\"tag\",\"timeout_next\":\"b\"},"
	"  "
	"{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"}"
	","
	"   \"next\":\"s\"}],\"else\":\"wh\"},"
	"  {\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":50,\"next\":\"sl\"},"
	"   {\"name\":\"B\",\"weight\":50,\"next\":\"g\"}],\"holdout\":10},"
	"  {\"id\":\"tag\",\"type\":\"update\",\"tags_add\":[\"interest:marketing\"],\"set\":{\"k\":\"v\"},"
	"   \"lifecycle\":\"mql\",\"score\":{\"lead\":10},\"next\":\"end\"},"
	"  {\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"https://example.com/hook\",\"body\":\"{{ user.id }}\","
	"   \"next\":\"end\"},"
	"  {\"id\":\"sl\",\"type\":\"slack\",\"channel\":\"#sales\",\"text\":\"New lead {{ user.email }}\","
	"   \"next\":\"end\"},"
	"  {\"id\":\"g\",\"type\":\"goal\",\"next\":\"end\"},"
	"  {\"id\":\"end\",\"type\":\"exit\"}]}";

static json_t *load(const char *src)
{
	json_error_t je;
	json_t *j = json_loads(src, JSON_DECODE_ANY, &je);
	cr_assert_not_null(j, "bad test JSON (%s): %s", je.text, src);
	return j;
}

static struct jny_def *parse_ok(const char *src)
{
	json_t *j = load(src);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(j, &err);
	json_decref(j);
	cr_assert_not_null(d, "refused: %s: %s (%s)", err.field, err.message, src);
	cr_assert_eq(err.code, 0);
	return d;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

/* ---- the seeds ------------------------------------------------------------ */

Test(journey_parse, seed_001_welcome_series)
{
	struct jny_def *d = parse_ok(welcome_src);
	cr_assert_str_eq(d->name, "Welcome series");
	cr_assert_eq(d->trigger.type, JT_EVENT);
	cr_assert_str_eq(d->trigger.match.event, "Signed Up");
	cr_assert_null(d->trigger.match.where);
	cr_assert_eq(d->reentry, JR_NEVER);
	cr_assert_eq(d->nexit_on, 0);
	cr_assert(d->has_goal);
	cr_assert_eq(d->goal_within_ms, 14 * DAY_MS);
	/* advertising by default, so quiet hours 21:00–08:00 */
	cr_assert_eq(d->advertising, 1);
	cr_assert_eq(d->quiet_start, 21 * 60);
	cr_assert_eq(d->quiet_end, 8 * 60);
	cr_assert_null(d->timezone);
	cr_assert_eq(d->nnodes, 7);
	cr_assert_eq(d->start, 0);
	/* day 0, 2, 5, 7: the waits add up */
	static const char *const sends[] = {"welcome-intro", "welcome-top3", "welcome-problem-solving",
					    "welcome-reviews-offer"};
	static const int64_t day_of_send[] = {0, 2, 5, 7};
	int64_t t = 0;
	size_t nsend = 0;
	for (int i = d->start; i != JNY_NONE; i = d->nodes[i].next) {
		const struct jny_node *n = &d->nodes[i];
		if (n->type == JN_WAIT) {
			cr_assert_eq(n->until_minute, -1);
			t += n->duration_ms;
			continue;
		}
		cr_assert_eq(n->type, JN_SEND);
		cr_assert_str_eq(n->channel, "email");
		cr_assert_str_eq(n->template_id, sends[nsend]);
		cr_assert_null(n->inline_template);
		cr_assert_eq(n->advertising, -1);
		cr_assert_eq(t, day_of_send[nsend] * DAY_MS, "%s on day %lld", sends[nsend], (long long)(t / DAY_MS));
		nsend++;
	}
	cr_assert_eq(nsend, 4);
	cr_assert_eq(d->nodes[6].next, JNY_NONE, "the last step has no next: the user exits");
	cr_assert_eq(jny_node_index(d, "day5-solve"), 4);
	cr_assert_eq(jny_node_index(d, "nope"), JNY_NONE);
	jny_free(d);
}

Test(journey_parse, seed_000_cart_abandonment)
{
	struct jny_def *d = parse_ok(cart_src);
	cr_assert_str_eq(d->trigger.match.event, "Checkout Started");
	cr_assert_eq(d->reentry, JR_AFTER);
	cr_assert_eq(d->reentry_after_ms, DAY_MS);
	cr_assert_eq(d->nexit_on, 1);
	cr_assert_str_eq(d->exit_on[0].event, "Order Completed");
	cr_assert_null(d->exit_on[0].where);
	cr_assert_eq(d->nnodes, 4);
	cr_assert_eq(d->nodes[0].type, JN_WAIT);
	cr_assert_eq(d->nodes[0].duration_ms, HOUR_MS);
	cr_assert_eq(d->nodes[0].next, 1);
	cr_assert_str_eq(d->nodes[1].template_id, "cart-reminder");
	cr_assert_eq(d->nodes[2].duration_ms, DAY_MS);
	cr_assert_str_eq(d->nodes[3].channel, "kakao");
	cr_assert_eq(d->nodes[3].nfallback, 1);
	cr_assert_str_eq(d->nodes[3].fallback[0], "sms");
	cr_assert_eq(d->nodes[3].next, JNY_NONE);
	jny_free(d);
}

Test(journey_parse, conventions_example_every_node_type)
{
	struct jny_def *d = parse_ok(conventions_src);
	cr_assert_eq(d->start, 0);
	cr_assert_not_null(d->trigger.match.where);
	const struct jny_node *n = &d->nodes[3];
	cr_assert_str_eq(n->id, "clicked?");
	cr_assert_eq(n->type, JN_WAIT_EVENT);
	cr_assert_str_eq(n->wait.event, "Email Link Clicked");
	cr_assert_not_null(n->wait.where);
	cr_assert_eq(n->timeout_ms, 5 * DAY_MS);
	cr_assert_eq(n->next, 6);
	cr_assert_eq(n->timeout_next, 4);
	n = &d->nodes[4];
	cr_assert_eq(n->nbranches, 1);
	cr_assert_eq(n->branches[0].next, 5);
	cr_assert_eq(n->else_next, 7);
	cr_assert_eq(n->next, JNY_NONE);
	n = &d->nodes[5];
	cr_assert_eq(n->nvariants, 2);
	cr_assert_str_eq(n->variants[1].name, "B");
	cr_assert_eq(n->variants[1].weight, 50);
	cr_assert_eq(n->variants[1].next, 9);
	cr_assert_eq(n->holdout_pct, 10);
	n = &d->nodes[6];
	cr_assert_eq(n->ntags_add, 1);
	cr_assert_str_eq(n->tags_add[0], "interest:marketing");
	cr_assert_str_eq(json_string_value(json_object_get(n->set_traits, "k")), "v");
	cr_assert_str_eq(n->lifecycle, "mql");
	cr_assert_eq(json_integer_value(json_object_get(n->score, "lead")), 10);
	cr_assert_str_eq(d->nodes[7].url, "https://example.com/hook");
	cr_assert_str_eq(d->nodes[7].body, "{{ user.id }}");
	cr_assert_str_eq(d->nodes[8].slack_channel, "#sales");
	cr_assert_eq(d->nodes[9].type, JN_GOAL);
	cr_assert_eq(d->nodes[10].type, JN_EXIT);
	cr_assert_str_eq(jny_node_type_name(JN_WAIT_EVENT), "wait_event");
	cr_assert_str_eq(jny_node_type_name(JN_EXIT), "exit");
	cr_assert_str_eq(jny_trigger_type_name(JT_SEGMENT_EXITED), "segment_exited");
	cr_assert_str_eq(jny_trigger_type_name(JT_BROADCAST), "broadcast");
	jny_free(d);
}

/* ---- the other shapes ------------------------------------------------------- */

#define NODES(x)   "{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"nodes\":[" x "]}"
#define TRIGGER(x) "{\"name\":\"t\",\"trigger\":" x ",\"nodes\":[{\"id\":\"a\",\"type\":\"exit\"}]}"
#define TOP(x)	   "{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"}," x ",\"nodes\":[{\"id\":\"a\",\"type\":\"exit\"}]}"

Test(journey_parse, triggers)
{
	struct jny_def *d = parse_ok(TRIGGER("{\"type\":\"segment_entered\",\"segment\":\"vip\"}"));
	cr_assert_eq(d->trigger.type, JT_SEGMENT_ENTERED);
	cr_assert_str_eq(d->trigger.segment, "vip");
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"trait_changed\",\"trait\":\"plan\",\"from\":\"free\",\"to\":\"pro\"}"));
	cr_assert_eq(d->trigger.type, JT_TRAIT_CHANGED);
	cr_assert_str_eq(json_string_value(d->trigger.from), "free");
	cr_assert_str_eq(json_string_value(d->trigger.to), "pro");
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"trait_changed\",\"trait\":\"plan\",\"from\":null}"));
	cr_assert(json_is_null(d->trigger.from), "null = the trait had no value");
	cr_assert_null(d->trigger.to, "absent = any value");
	jny_free(d);
	d = parse_ok(
		TRIGGER("{\"type\":\"date\",\"trait\":\"trial_ends_at\",\"offset\":{\"days\":-3},\"at\":\"10:00\"}"));
	cr_assert_eq(d->trigger.type, JT_DATE);
	cr_assert_eq(d->trigger.offset_ms, -3 * DAY_MS);
	cr_assert_eq(d->trigger.at_minute, 600);
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"date\",\"trait\":\"birthday\"}"));
	cr_assert_eq(d->trigger.offset_ms, 0);
	cr_assert_eq(d->trigger.at_minute, -1);
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"content_published\"}"));
	cr_assert_eq(d->trigger.type, JT_CONTENT_PUBLISHED);
	jny_free(d);
	d = parse_ok(
		TRIGGER("{\"type\":\"broadcast\",\"segment\":\"all-users\",\"at\":\"2026-03-02T10:00:00+09:00\"}"));
	cr_assert_eq(d->trigger.type, JT_BROADCAST);
	cr_assert_eq(d->trigger.at_ms, 1772413200000LL);
	cr_assert_null(d->trigger.cron);
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"all-users\",\"cron\":\"0  10 * *   mon-fri\"}"));
	cr_assert_str_eq(d->trigger.cron, "0 10 * * mon-fri", "single-spaced");
	cr_assert_eq(d->trigger.at_ms, 0);
	jny_free(d);
	d = parse_ok(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"all-users\",\"at\":\"10:00\"}"));
	cr_assert_eq(d->trigger.at_minute, 600);
	cr_assert_eq(d->trigger.at_ms, 0);
	jny_free(d);
	static const char *const crons[] = {"*/15 * * * *", "0 9-18/3 1,15 jan-jun,dec 1-5", "30 8 * * sun",
					    "0 0 1 * 0-7", "5 4 * * fri-sun"};
	for (size_t i = 0; i < sizeof crons / sizeof crons[0]; i++) {
		char src[256];
		snprintf(src, sizeof src, TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"%s\"}"),
			 crons[i]);
		jny_free(parse_ok(src));
	}
}

Test(journey_parse, rules)
{
	struct jny_def *d = parse_ok(TOP("\"advertising\":false"));
	cr_assert_eq(d->advertising, 0);
	cr_assert_eq(d->quiet_start, -1, "informational journeys have no default quiet hours");
	jny_free(d);
	d = parse_ok(TOP("\"quiet_hours\":false"));
	cr_assert_eq(d->advertising, 1);
	cr_assert_eq(d->quiet_start, -1);
	jny_free(d);
	d = parse_ok(TOP("\"quiet_hours\":{\"start\":\"22:30\",\"end\":\"07:00\"},\"advertising\":false"));
	cr_assert_eq(d->quiet_start, 22 * 60 + 30);
	cr_assert_eq(d->quiet_end, 7 * 60);
	jny_free(d);
	d = parse_ok(TOP("\"entry\":{\"reentry\":\"always\"},\"timezone\":\"Asia/Seoul\""));
	cr_assert_eq(d->reentry, JR_ALWAYS);
	cr_assert_str_eq(d->timezone, "Asia/Seoul");
	jny_free(d);
	d = parse_ok(TOP("\"entry\":{}"));
	cr_assert_eq(d->reentry, JR_NEVER);
	jny_free(d);
	d = parse_ok(TOP("\"goal\":{\"event\":\"Order Completed\",\"where\":{\"property\":\"revenue\",\"op\":\"gte\","
			 "\"value\":50000}}"));
	cr_assert(d->has_goal);
	cr_assert_eq(d->goal_within_ms, 0);
	cr_assert_not_null(d->goal.where);
	jny_free(d);
}

Test(journey_parse, node_variants)
{
	struct jny_def *d = parse_ok(NODES(
		"{\"id\":\"ab\",\"type\":\"send\",\"channel\":\"email\",\"advertising\":false,\"variants\":["
		" {\"name\":\"short\",\"weight\":70,\"template\":\"promo-a\"},"
		" {\"name\":\"long\",\"weight\":30,\"template\":{\"subject\":\"Hi {{ user.name "
		"}}\",\"html\":\"<p>…</p>\"}}],"
		" \"next\":\"w\"},"
		"{\"id\":\"w\",\"type\":\"wait\",\"duration\":{\"weeks\":1,\"hours\":12},"
		" \"until\":{\"time\":\"10:00\",\"weekdays\":[\"sat\",\"mon\"]},\"next\":\"sms\"},"
		"{\"id\":\"sms\",\"type\":\"send\",\"channel\":\"sms\",\"template\":{\"text\":\"{{ user.name }}님\"},"
		" \"next\":\"w2\"},"
		"{\"id\":\"w2\",\"type\":\"wait\",\"until\":{\"weekdays\":[\"sun\"]}}"));
	const struct jny_node *n = &d->nodes[0];
	cr_assert_null(n->template_id);
	cr_assert_null(n->inline_template);
	cr_assert_eq(n->nsend_variants, 2);
	cr_assert_str_eq(n->send_variants[0].template_id, "promo-a");
	cr_assert_eq(n->send_variants[0].weight, 70);
	cr_assert_null(n->send_variants[1].template_id);
	cr_assert_not_null(n->send_variants[1].inline_template);
	cr_assert_eq(n->advertising, 0);
	n = &d->nodes[1];
	cr_assert_eq(n->duration_ms, 7 * DAY_MS + 12 * HOUR_MS);
	cr_assert_eq(n->until_minute, 600);
	cr_assert_eq(n->weekdays, (1u << 1) | (1u << 6));
	n = &d->nodes[2];
	cr_assert_str_eq(json_string_value(json_object_get(n->inline_template, "text")), "{{ user.name }}님");
	n = &d->nodes[3];
	cr_assert_eq(n->duration_ms, 0);
	cr_assert_eq(n->until_minute, -1);
	cr_assert_eq(n->weekdays, 1u);
	jny_free(d);
}

Test(journey_parse, references_may_point_forward_and_start_elsewhere)
{
	struct jny_def *d = parse_ok("{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"start\":\"b\",\"nodes\":["
				     "{\"id\":\"a\",\"type\":\"exit\"},"
				     "{\"id\":\"b\",\"type\":\"goal\",\"next\":\"a\"}]}");
	cr_assert_eq(d->start, 1);
	cr_assert_eq(d->nodes[1].next, 0);
	jny_free(d);
}

/* ---- every error with its path ---------------------------------------------- */

struct bad_case {
	const char *src;
	const char *field;
	const char *says; /* a piece of the message */
};

#define SEND_A "{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\"}"

static const struct bad_case bad_cases[] = {
	/* the whole */
	{"[]", "", "JSON object"},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"nodes\":[],\"colour\":1}", "colour",
	 "Unknown key \"colour\" in a journey; allowed: name, trigger, entry, exit_on, goal, quiet_hours, advertising, "
	 "timezone, start, nodes"},
	{"{\"trigger\":{\"type\":\"manual\"},\"nodes\":[]}", "name", "Missing \"name\""},
	{"{\"name\":\"\",\"trigger\":{\"type\":\"manual\"},\"nodes\":[]}", "name", "empty"},
	{"{\"name\":7,\"trigger\":{\"type\":\"manual\"},\"nodes\":[]}", "name", "must be a string"},
	{"{\"name\":\"t\",\"nodes\":[]}", "trigger", "Missing \"trigger\""},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"}}", "nodes", "Missing \"nodes\""},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"nodes\":[]}", "nodes", "at least one node"},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"nodes\":{}}", "nodes", "must be a list"},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"start\":\"zz\",\"nodes\":[" SEND_A "]}", "start",
	 "names \"zz\", but no node has that id"},
	{"{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"start\":1,\"nodes\":[" SEND_A "]}", "start",
	 "must be the id of a node"},
	/* trigger */
	{TRIGGER("\"event\""), "trigger", "must be an object"},
	{TRIGGER("{\"event\":\"x\"}"), "trigger.type", "Missing or non-text \"type\""},
	{TRIGGER("{\"type\":\"webhook\"}"), "trigger.type",
	 "Unknown trigger type \"webhook\"; use event, segment_entered, segment_exited, trait_changed, date, "
	 "content_published, manual or broadcast"},
	{TRIGGER("{\"type\":\"event\"}"), "trigger.event", "Missing \"event\""},
	{TRIGGER("{\"type\":\"event\",\"event\":\"\"}"), "trigger.event", "empty"},
	{TRIGGER("{\"type\":\"event\",\"event\":\"A\",\"segment\":\"s\"}"), "trigger.segment",
	 "Unknown key \"segment\" in an event trigger; allowed: type, event, where"},
	{TRIGGER("{\"type\":\"event\",\"event\":\"A\",\"where\":{\"tag\":\"vip\"}}"), "trigger.where.tag",
	 "only property conditions"},
	{TRIGGER("{\"type\":\"event\",\"event\":\"A\",\"where\":{\"all\":[{\"property\":\"p\",\"op\":\"exists\"},"
		 "{\"property\":\"q\",\"op\":\"eq\"}]}}"),
	 "trigger.where.all[1].value", "Missing \"value\""},
	{TRIGGER("{\"type\":\"event\",\"event\":\"A\",\"where\":{\"property\":\"d\",\"op\":\"within_last\","
		 "\"value\":{\"days\":1}}}"),
	 "trigger.where.op", "cannot be used inside \"where\""},
	{TRIGGER("{\"type\":\"segment_entered\"}"), "trigger.segment", "Missing \"segment\""},
	{TRIGGER("{\"type\":\"segment_exited\",\"segment\":\"VIP list\"}"), "trigger.segment",
	 "not a valid segment id"},
	{TRIGGER("{\"type\":\"trait_changed\",\"from\":1}"), "trigger.trait", "Missing \"trait\""},
	{TRIGGER("{\"type\":\"trait_changed\",\"trait\":\"plan\",\"to\":[\"pro\"]}"), "trigger.to",
	 "must be a text, a number, true/false, or null"},
	{TRIGGER("{\"type\":\"trait_changed\",\"trait\":\"plan\",\"from\":\"pro\",\"to\":\"pro\"}"), "trigger.to",
	 "the same value"},
	{TRIGGER("{\"type\":\"date\",\"trait\":\"t\",\"offset\":{\"days\":-3,\"hours\":2}}"), "trigger.offset.hours",
	 "Mixed signs"},
	{TRIGGER("{\"type\":\"date\",\"trait\":\"t\",\"offset\":{\"days\":1.5}}"), "trigger.offset.days",
	 "whole number"},
	{TRIGGER("{\"type\":\"date\",\"trait\":\"t\",\"offset\":{\"months\":1}}"), "trigger.offset.months",
	 "Unknown duration unit \"months\""},
	{TRIGGER("{\"type\":\"date\",\"trait\":\"t\",\"at\":\"25:00\"}"), "trigger.at", "\"HH:MM\""},
	{TRIGGER("{\"type\":\"date\",\"trait\":\"t\",\"at\":\"9:00\"}"), "trigger.at", "\"HH:MM\""},
	{TRIGGER("{\"type\":\"manual\",\"event\":\"A\"}"), "trigger.event",
	 "Unknown key \"event\" in a manual trigger; allowed: type."},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"at\":\"tomorrow\"}"), "trigger.at",
	 "must be a date-time"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"at\":\"10:00\",\"cron\":\"0 10 * * *\"}"), "trigger.cron",
	 "not both"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * *\"}"), "trigger.cron",
	 "A cron expression has 5 fields"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * * * *\"}"), "trigger.cron",
	 "A cron expression has 5 fields"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"60 10 * * *\"}"), "trigger.cron",
	 "Cron minute field \"60\": 60 is out of range"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 18-9 * * *\"}"), "trigger.cron",
	 "Cron hour field \"18-9\": the range 18-9 goes backwards"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 0 * *\"}"), "trigger.cron",
	 "Cron day-of-month field \"0\""},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * 13 *\"}"), "trigger.cron",
	 "Cron month field \"13\""},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * * 8\"}"), "trigger.cron",
	 "Cron day-of-week field \"8\""},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * * mon,\"}"), "trigger.cron",
	 "day-of-week"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"*/0 * * * *\"}"), "trigger.cron",
	 "Cron minute field \"*/0\""},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 10 * * funday\"}"), "trigger.cron",
	 "day-of-week"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":5}"), "trigger.cron", "must be a text"},
	{TRIGGER("{\"type\":\"broadcast\",\"segment\":\"s\",\"cron\":\"0 0 30 2 *\"}"), "trigger.cron",
	 "never matches"},
	/* rules */
	{TOP("\"entry\":{\"reentry\":\"sometimes\"}"), "entry.reentry", "\"never\", \"always\" or {\"after\""},
	{TOP("\"entry\":{\"reentry\":{\"after\":{\"days\":0}}}"), "entry.reentry.after", "zero"},
	{TOP("\"entry\":{\"reentry\":{\"after\":{\"days\":1},\"x\":1}}"), "entry.reentry.x", "Unknown key"},
	{TOP("\"entry\":{\"mode\":\"never\"}"), "entry.mode", "allowed: reentry"},
	{TOP("\"exit_on\":[]"), "exit_on", "empty"},
	{TOP("\"exit_on\":[{\"event\":\"A\"},\"B\"]"), "exit_on[1]", "Each exit_on entry is an object"},
	{TOP("\"exit_on\":[{\"event\":\"A\",\"where\":{\"event\":\"B\"}}]"), "exit_on[0].where.event",
	 "only property conditions"},
	{TOP("\"exit_on\":[{\"where\":{}}]"), "exit_on[0].event", "Missing \"event\""},
	{TOP("\"goal\":{\"event\":\"A\",\"within\":{\"days\":-7}}"), "goal.within.days", "0 or more"},
	{TOP("\"goal\":{\"event\":\"A\",\"within\":7}"), "goal.within", "A duration is an object"},
	{TOP("\"goal\":{\"event\":\"A\",\"by\":7}"), "goal.by", "allowed: event, where, within"},
	{TOP("\"quiet_hours\":true"), "quiet_hours", "or false"},
	{TOP("\"quiet_hours\":{\"start\":\"21:00\"}"), "quiet_hours.end", "Missing \"end\""},
	{TOP("\"quiet_hours\":{\"start\":\"21:00\",\"end\":\"21:00\"}"), "quiet_hours.end", "same time"},
	{TOP("\"advertising\":\"yes\""), "advertising", "must be true or false"},
	{TOP("\"timezone\":\"Mars/Olympus\""), "timezone", "not a known IANA time zone"},
	{TOP("\"timezone\":\"+09:00\""), "timezone", "not a known IANA time zone"},
	/* nodes in general */
	{NODES("5"), "nodes[0]", "Each node is an object"},
	{NODES("{\"type\":\"exit\"}"), "nodes[0].id", "Missing \"id\""},
	{NODES("{\"id\":\"has space\",\"type\":\"exit\"}"), "nodes[0].id", "letters, digits and _ ? : . -"},
	{NODES("{\"id\":\"\",\"type\":\"exit\"}"), "nodes[0].id", "1 to 64 characters"},
	{NODES("{\"id\":\"a\",\"type\":\"exit\"},{\"id\":\"a\",\"type\":\"exit\"}"), "nodes[1].id",
	 "\"a\" is already used by nodes[0]"},
	{NODES("{\"id\":\"a\"}"), "nodes[0].type", "Node \"a\": Missing or non-text \"type\""},
	{NODES("{\"id\":\"a\",\"type\":\"email\"}"), "nodes[0].type",
	 "Node \"a\": Unknown node type \"email\"; use send, wait, wait_event, branch, split, update, webhook, slack, "
	 "goal or exit."},
	{NODES("{\"id\":\"a\",\"type\":\"exit\",\"next\":\"a\"}"), "nodes[0].next",
	 "Node \"a\": Unknown key \"next\" in an exit node; allowed: id, type."},
	{NODES("{\"id\":\"a\",\"type\":\"goal\",\"next\":\"b\"}"), "nodes[0].next",
	 "Node \"a\": \"next\" names \"b\", but no node has that id."},
	{NODES("{\"id\":\"a\",\"type\":\"goal\",\"next\":[\"b\"]}"), "nodes[0].next", "must be the id of a node"},
	/* send */
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"template\":\"t\"}"), "nodes[0].channel",
	 "Node \"s1\": Missing \"channel\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"fax\",\"template\":\"t\"}"), "nodes[0].channel",
	 "Node \"s1\": Unknown channel \"fax\"; use email, sms, kakao, push, webhook or slack."},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\"}"), "nodes[0].template",
	 "Node \"s1\": Missing \"template\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"Welcome 1\"}"),
	 "nodes[0].template", "\"Welcome 1\" is not a valid template id"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":{}}"), "nodes[0].template",
	 "an inline template"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":5}"), "nodes[0].template",
	 "must be a template id"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"variants\":[]}"),
	 "nodes[0].variants", "either \"template\" or \"variants\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[]}"), "nodes[0].variants",
	 "empty"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[{\"name\":\"A\",\"weight\":1,"
	       "\"template\":\"a\"},{\"name\":\"A\",\"weight\":1,\"template\":\"b\"}]}"),
	 "nodes[0].variants[1].name", "Node \"s1\": Two variants are named \"A\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[{\"name\":\"A\",\"weight\":0,"
	       "\"template\":\"a\"}]}"),
	 "nodes[0].variants[0].weight", "from 1 to 10000"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[{\"name\":\"A\","
	       "\"template\":\"a\"}]}"),
	 "nodes[0].variants[0].weight", "Missing \"weight\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[{\"name\":\"A\",\"weight\":5}]}"),
	 "nodes[0].variants[0].template", "Missing \"template\""},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"variants\":[{\"name\":\"A\",\"weight\":5,"
	       "\"template\":\"a\",\"next\":\"x\"}]}"),
	 "nodes[0].variants[0].next", "allowed: name, weight, template"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"fallback\":[\"sms\","
	       "\"email\"]}"),
	 "nodes[0].fallback[1]", "other than the node's own"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"fallback\":[\"sms\","
	       "\"sms\"]}"),
	 "nodes[0].fallback[1]", "not listed twice"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"fallback\":\"sms\"}"),
	 "nodes[0].fallback", "must be a list"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"advertising\":1}"),
	 "nodes[0].advertising", "true or false"},
	{NODES("{\"id\":\"s1\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"subject\":\"x\"}"),
	 "nodes[0].subject",
	 "Node \"s1\": Unknown key \"subject\" in a send node; allowed: id, type, channel, template, variants, "
	 "fallback, advertising, next."},
	/* wait */
	{NODES("{\"id\":\"w2\",\"type\":\"wait\"}"), "nodes[0].duration", "Node \"w2\": A wait needs \"duration\""},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":0}}"), "nodes[0].duration",
	 "Node \"w2\": This duration is zero"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":800}}"), "nodes[0].duration.days",
	 "longer than two years"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":700,\"weeks\":10}}"), "nodes[0].duration",
	 "longer than two years"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":2,\"seconds\":1}}"),
	 "nodes[0].duration.seconds", "Unknown duration unit \"seconds\""},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"duration\":\"2d\"}"), "nodes[0].duration",
	 "A duration is an object"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":{}}"), "nodes[0].until", "needs \"time\""},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":\"10:00\"}"), "nodes[0].until", "must be an object"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":{\"time\":\"10:0\"}}"), "nodes[0].until.time", "HH:MM"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":{\"time\":\"10:00\",\"weekdays\":[\"mon\",\"Tuesday\"]}}"),
	 "nodes[0].until.weekdays[1]", "Each weekday is one of"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":{\"weekdays\":[\"mon\",\"mon\"]}}"),
	 "nodes[0].until.weekdays[1]", "listed once"},
	{NODES("{\"id\":\"w2\",\"type\":\"wait\",\"until\":{\"time\":\"10:00\",\"tz\":\"UTC\"}}"), "nodes[0].until.tz",
	 "allowed: time, weekdays"},
	/* wait_event */
	{NODES("{\"id\":\"clicked?\",\"type\":\"wait_event\",\"timeout\":{\"days\":1}}"), "nodes[0].event",
	 "Node \"clicked?\": Missing \"event\""},
	{NODES("{\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"E\"}"), "nodes[0].timeout",
	 "Missing \"timeout\""},
	{NODES("{\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"weeks\":200}}"),
	 "nodes[0].timeout.weeks", "two years"},
	{NODES("{\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"days\":1},"
	       "\"where\":{\"trait\":\"plan\",\"op\":\"exists\"}}"),
	 "nodes[0].where.trait", "Node \"clicked?\": Inside \"where\" only property conditions"},
	{NODES("{\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"days\":1},"
	       "\"timeout_next\":\"nowhere\"}"),
	 "nodes[0].timeout_next", "\"timeout_next\" names \"nowhere\""},
	/* branch */
	{NODES("{\"id\":\"b\",\"type\":\"branch\"}"), "nodes[0].branches", "Node \"b\": Missing \"branches\""},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[]}"), "nodes[0].branches", "empty"},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"next\":\"b\"}]}"), "nodes[0].branches[0].when",
	 "Missing \"when\""},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"tag\":\"a\"},\"goto\":\"b\"}]}"),
	 "nodes[0].branches[0].goto", "allowed: when, next"},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"tag\":\"a\"}},{\"when\":{\"all\":["
	       "{\"tag\":\"a\"},{\"trait\":\"x\",\"op\":\"between\",\"value\":[1]}]}}]}"),
	 "nodes[0].branches[1].when.all[1].value", "Node \"b\": \"between\" needs a list of two values"},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"all\":[{\"tag\":\"a\"},{\"any\":["
	       "{\"tag\":\"b\"},{\"not\":{\"property\":\"revenue\",\"op\":\"gt\",\"value\":1}}]}]}}]}"),
	 "nodes[0].branches[0].when.all[1].any[1].not.property", "A branch condition is about the user"},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"event\":\"Order Completed\",\"where\":"
	       "{\"property\":\"revenue\",\"op\":\"gt\",\"value\":1}},\"next\":\"b2\"}]},"
	       "{\"id\":\"b2\",\"type\":\"branch\",\"branches\":[{\"when\":{\"any\":[]}}]}"),
	 "nodes[1].branches[0].when.any", "Node \"b2\": \"any\" is empty"},
	{NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"tag\":\"a\"}}],\"else\":\"zz\"}"),
	 "nodes[0].else", "\"else\" names \"zz\""},
	/* split */
	{NODES("{\"id\":\"s\",\"type\":\"split\"}"), "nodes[0].variants", "Missing \"variants\""},
	{NODES("{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":-1}]}"),
	 "nodes[0].variants[0].weight", "from 1 to 10000"},
	{NODES("{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":1.5}]}"),
	 "nodes[0].variants[0].weight", "whole number"},
	{NODES("{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"weight\":1}]}"), "nodes[0].variants[0].name",
	 "Missing \"name\""},
	{NODES("{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":1}],\"holdout\":100}"),
	 "nodes[0].holdout", "from 0 to 99"},
	{NODES("{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":1,\"next\":\"q\"}]}"),
	 "nodes[0].variants[0].next", "no node has that id"},
	/* update */
	{NODES("{\"id\":\"u\",\"type\":\"update\"}"), "nodes[0]", "Node \"u\": An update node needs at least one"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"tags_add\":[\"a\",\"\"]}"), "nodes[0].tags_add[1]",
	 "Each tag is a non-empty text"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"tags_add\":[\"a\",\"a\"]}"), "nodes[0].tags_add[1]",
	 "listed twice"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"tags_add\":[\"a\"],\"tags_remove\":[\"b\",\"a\"]}"),
	 "nodes[0].tags_remove[1]", "both added and removed"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"set\":{}}"), "nodes[0].set", "must be an object of traits"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"set\":{\"consent\":{}}}"), "nodes[0].set.consent",
	 "can't change consent"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"lifecycle\":\"vip\"}"), "nodes[0].lifecycle",
	 "Unknown lifecycle stage \"vip\""},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"score\":{\"lead\":0}}"), "nodes[0].score.lead", "not 0"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"score\":{\"lead\":\"10\"}}"), "nodes[0].score.lead",
	 "whole number from -100 to 100"},
	{NODES("{\"id\":\"u\",\"type\":\"update\",\"score\":10}"), "nodes[0].score", "{\"lead\": 10}"},
	/* webhook, slack */
	{NODES("{\"id\":\"wh\",\"type\":\"webhook\"}"), "nodes[0].url", "Missing \"url\""},
	{NODES("{\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"ftp://x\"}"), "nodes[0].url", "http:// or https://"},
	{NODES("{\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"https://\"}"), "nodes[0].url", "with a host"},
	{NODES("{\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"https://a b\"}"), "nodes[0].url", "no spaces"},
	{NODES("{\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"https://x\",\"body\":{\"a\":1}}"), "nodes[0].body",
	 "must be a string"},
	{NODES("{\"id\":\"sl\",\"type\":\"slack\",\"text\":\"hi\"}"), "nodes[0].channel", "Missing \"channel\""},
	{NODES("{\"id\":\"sl\",\"type\":\"slack\",\"channel\":\"#a b\",\"text\":\"hi\"}"), "nodes[0].channel",
	 "no spaces"},
	{NODES("{\"id\":\"sl\",\"type\":\"slack\",\"channel\":\"#sales\"}"), "nodes[0].text", "Missing \"text\""},
	/* the first fault wins, later nodes are still named right */
	{NODES(SEND_A ",{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"top3\"}"),
	 "nodes[1].next", "Node \"w2\": \"next\" names \"top3\""},
};

static void check_bad(const struct bad_case *c)
{
	json_t *j = load(c->src);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d = jny_parse(j, &err);
	json_decref(j);
	cr_expect_null(d, "%s should be refused", c->src);
	jny_free(d);
	cr_expect_eq(err.code, CAIRN_EUNPROC, "%s", c->src);
	cr_expect_eq(cairn_err_http_status(err.code), 422);
	cr_expect_str_eq(err.slug, "invalid_journey", "%s", c->src);
	cr_expect_str_eq(err.field, c->field, "%s: field %s, want %s (%s)", c->src, err.field, c->field, err.message);
	cr_expect(strstr(err.message, c->says) != NULL, "%s: message \"%s\" lacks \"%s\"", c->src, err.message,
		  c->says);
}

Test(journey_validate, every_error_names_its_path)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		check_bad(&bad_cases[i]);
}

Test(journey_validate, limits)
{
	/* JNY_MAX_NODES nodes parse, one more does not */
	for (int n = JNY_MAX_NODES; n <= JNY_MAX_NODES + 1; n++) {
		json_t *nodes = json_array();
		for (int i = 0; i < n; i++) {
			char id[16], next[16];
			snprintf(id, sizeof id, "n%d", i);
			snprintf(next, sizeof next, "n%d", i + 1);
			json_t *node = json_pack("{s:s,s:s}", "id", id, "type", i + 1 < n ? "goal" : "exit");
			if (i + 1 < n)
				json_object_set_new(node, "next", json_string(next));
			json_array_append_new(nodes, node);
		}
		json_t *j = json_pack("{s:s,s:{s:s},s:o}", "name", "big", "trigger", "type", "manual", "nodes", nodes);
		struct cairn_err err = CAIRN_ERR_INIT;
		struct jny_def *d = jny_parse(j, &err);
		json_decref(j);
		if (n == JNY_MAX_NODES) {
			cr_assert_not_null(d, "%s", err.message);
			cr_assert_eq(d->nodes[d->nnodes - 2].next, (int)d->nnodes - 1);
		} else {
			cr_assert_null(d);
			cr_assert_str_eq(err.field, "nodes");
		}
		jny_free(d);
	}
	/* a 64-byte id is fine, 65 is not; every allowed character */
	char src[512];
	snprintf(src, sizeof src, NODES("{\"id\":\"%s\",\"type\":\"exit\"}"),
		 "aZ09_?:.-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	jny_free(parse_ok(src));
	snprintf(src, sizeof src, NODES("{\"id\":\"%s\",\"type\":\"exit\"}"),
		 "aZ09_?:.-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	check_bad(&(struct bad_case){src, "nodes[0].id", "1 to 64"});
	/* the longest wait is two years */
	jny_free(parse_ok(NODES("{\"id\":\"w\",\"type\":\"wait\",\"duration\":{\"days\":732}}")));
	check_bad(
		&(struct bad_case){NODES("{\"id\":\"w\",\"type\":\"wait\",\"duration\":{\"days\":732,\"minutes\":1}}"),
				   "nodes[0].duration", "two years"});
	/* long user text in a message stays whole UTF-8 */
	char big[2048];
	size_t k = 0;
	k += (size_t)snprintf(
		big + k, sizeof big - k,
		NODES("{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\","
		      "\"template\":\"t\",\"%s\":1}"),
		"한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어"
		"한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어한국어");
	json_t *j = load(big);
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_null(jny_parse(j, &err));
	json_decref(j);
	json_t *m = json_pack("{s:s,s:s}", "m", err.message, "f", err.field);
	cr_assert_not_null(m, "message and field are valid UTF-8");
	json_decref(m);
}

/* ---- round trips ------------------------------------------------------------- */

static void round_trip(const char *src)
{
	struct jny_def *d1 = parse_ok(src);
	json_t *j1 = jny_to_json(d1);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_def *d2 = jny_parse(j1, &err);
	cr_assert_not_null(d2, "normalized form refused: %s: %s", err.field, err.message);
	json_t *j2 = jny_to_json(d2);
	char *s1 = dump(j1), *s2 = dump(j2);
	cr_assert_str_eq(s1, s2, "not a fixed point:\n%s\n%s", s1, s2);
	cr_assert_eq(d1->nnodes, d2->nnodes);
	cr_assert_eq(d1->start, d2->start);
	cr_assert_eq(d1->quiet_start, d2->quiet_start);
	cr_assert_eq(d1->quiet_end, d2->quiet_end);
	cr_assert_eq(d1->advertising, d2->advertising);
	cr_assert_eq(d1->trigger.offset_ms, d2->trigger.offset_ms);
	cr_assert_eq(d1->trigger.at_ms, d2->trigger.at_ms);
	for (size_t i = 0; i < d1->nnodes; i++) {
		cr_assert_eq(d1->nodes[i].next, d2->nodes[i].next);
		cr_assert_eq(d1->nodes[i].duration_ms, d2->nodes[i].duration_ms);
		cr_assert_eq(d1->nodes[i].weekdays, d2->nodes[i].weekdays);
	}
	free(s1);
	free(s2);
	json_decref(j1);
	json_decref(j2);
	jny_free(d1);
	jny_free(d2);
}

Test(journey_json, round_trips)
{
	round_trip(welcome_src);
	round_trip(cart_src);
	round_trip(conventions_src);
	round_trip(TRIGGER("{\"type\":\"date\",\"trait\":\"trial_ends_at\",\"offset\":{\"weeks\":-1,\"hours\":-3},"
			   "\"at\":\"10:00\"}"));
	round_trip(TRIGGER("{\"type\":\"trait_changed\",\"trait\":\"plan\",\"from\":null,\"to\":3.5}"));
	round_trip(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"vip\",\"cron\":\"0 10 * * 1\"}"));
	round_trip(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"vip\",\"at\":\"2026-03-02T10:00:00+09:00\"}"));
	round_trip(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"vip\",\"at\":\"09:30\"}"));
	round_trip(TRIGGER("{\"type\":\"segment_exited\",\"segment\":\"vip\"}"));
	round_trip(TRIGGER("{\"type\":\"content_published\"}"));
	round_trip(TOP("\"advertising\":false,\"timezone\":\"America/New_York\",\"entry\":{\"reentry\":\"always\"}"));
	round_trip(TOP("\"quiet_hours\":false"));
	round_trip(NODES("{\"id\":\"ab\",\"type\":\"send\",\"channel\":\"email\",\"advertising\":true,\"variants\":["
			 "{\"name\":\"a\",\"weight\":1,\"template\":\"x\"},{\"name\":\"b\",\"weight\":2,\"template\":"
			 "{\"subject\":\"s\",\"text\":\"t\"}}],\"fallback\":[\"push\",\"sms\"],\"next\":\"w\"},"
			 "{\"id\":\"w\",\"type\":\"wait\",\"until\":{\"time\":\"09:00\",\"weekdays\":[\"sun\",\"sat\","
			 "\"wed\"]}}"));
}

Test(journey_json, normalized_form)
{
	struct jny_def *d = parse_ok("{\"nodes\":[{\"next\":\"b\",\"type\":\"wait\",\"id\":\"a\","
				     "\"duration\":{\"weeks\":2,\"minutes\":90}},{\"id\":\"b\",\"type\":\"exit\"}],"
				     "\"trigger\":{\"event\":\"E\",\"type\":\"event\"},\"name\":\"n\"}");
	json_t *j = jny_to_json(d);
	char *s = dump(j);
	cr_assert_str_eq(s, "{\"name\":\"n\",\"trigger\":{\"type\":\"event\",\"event\":\"E\"},\"entry\":{\"reentry\":"
			    "\"never\"},\"quiet_hours\":{\"start\":\"21:00\",\"end\":\"08:00\"},\"advertising\":true,"
			    "\"start\":\"a\",\"nodes\":[{\"id\":\"a\",\"type\":\"wait\",\"duration\":{\"days\":14,"
			    "\"hours\":1,\"minutes\":30},\"next\":\"b\"},{\"id\":\"b\",\"type\":\"exit\"}]}");
	free(s);
	json_decref(j);
	jny_free(d);
}

/* ---- publish checks ------------------------------------------------------------ */

struct fake_ws {
	const char *templates[8]; /* "channel/id" */
	const char *segments[8];
	int fail;
	int template_calls;
};

static int fake_template(void *arg, const char *channel, const char *id)
{
	struct fake_ws *w = arg;
	char key[160];
	w->template_calls++;
	if (w->fail)
		return -1;
	snprintf(key, sizeof key, "%s/%s", channel, id);
	for (size_t i = 0; i < 8 && w->templates[i]; i++) {
		if (!strcmp(w->templates[i], key))
			return 1;
	}
	return 0;
}

static int fake_segment(void *arg, const char *id)
{
	struct fake_ws *w = arg;
	if (w->fail)
		return -1;
	for (size_t i = 0; i < 8 && w->segments[i]; i++) {
		if (!strcmp(w->segments[i], id))
			return 1;
	}
	return 0;
}

static void check(const char *src, struct fake_ws *ws, struct jny_problems *out)
{
	struct jny_def *d = parse_ok(src);
	struct jny_check_env env = {ws, fake_template, fake_segment};
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(jny_check(d, ws ? &env : NULL, out, &err), 0, "%s", err.message);
	jny_free(d);
}

/* Every problem, one a line, for assertion messages (static buffer). */
static const char *listing(const struct jny_problems *p)
{
	static char out[8192];
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < p->n && k < sizeof out; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "\n%s %s: %s", p->items[i].code, p->items[i].field,
				      p->items[i].message);
	return out;
}

static void expect_problem(const struct jny_problems *p, size_t i, const char *node, const char *field,
			   const char *code, const char *says)
{
	cr_assert_lt(i, p->n, "only %zu problems", p->n);
	const struct jny_problem *x = &p->items[i];
	if (node)
		cr_expect_str_eq(x->node, node);
	else
		cr_expect_null(x->node, "journey-wide, got %s", x->node);
	cr_expect_str_eq(x->field, field, "problem %zu: %s", i, x->message);
	cr_expect_str_eq(x->code, code, "problem %zu: %s", i, x->message);
	cr_expect(strstr(x->message, says) != NULL, "problem %zu: \"%s\" lacks \"%s\"", i, x->message, says);
}

Test(journey_check, seeds_are_publishable)
{
	struct fake_ws ws = {{"email/welcome-intro", "email/welcome-top3", "email/welcome-problem-solving",
			      "email/welcome-reviews-offer", "email/cart-reminder", "kakao/cart-last-call"},
			     {NULL},
			     0,
			     0};
	struct jny_problems p;
	check(welcome_src, &ws, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	cr_assert_eq(ws.template_calls, 4);
	jny_problems_release(&p);
	check(cart_src, &ws, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
	/* no callbacks: workspace checks are skipped */
	struct jny_def *d = parse_ok(conventions_src);
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(jny_check(d, NULL, &p, &err), 0);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
	jny_free(d);
}

Test(journey_check, missing_templates_and_segments)
{
	struct fake_ws ws = {{"email/here", "sms/here"}, {"vip"}, 0, 0};
	struct jny_problems p;
	check("{\"name\":\"t\",\"trigger\":{\"type\":\"segment_entered\",\"segment\":\"gone\"},\"nodes\":["
	      "{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"here\",\"next\":\"b\"},"
	      "{\"id\":\"b\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"missing\",\"next\":\"c\"},"
	      "{\"id\":\"c\",\"type\":\"send\",\"channel\":\"push\",\"template\":\"here\",\"next\":\"d\"},"
	      "{\"id\":\"d\",\"type\":\"send\",\"channel\":\"sms\",\"variants\":[{\"name\":\"A\",\"weight\":1,"
	      " \"template\":\"here\"},{\"name\":\"B\",\"weight\":1,\"template\":\"nope\"},{\"name\":\"C\",\"weight\":"
	      "1,"
	      " \"template\":{\"text\":\"inline\"}}],\"next\":\"e\"},"
	      "{\"id\":\"e\",\"type\":\"branch\",\"branches\":[{\"when\":{\"any\":[{\"segment\":\"vip\"},"
	      " {\"not\":{\"segment\":\"lapsed\"}}]}}]}]}",
	      &ws, &p);
	cr_assert_eq(p.n, 5, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, NULL, "trigger.segment", "unknown_segment", "no live segment \"gone\"");
	expect_problem(&p, 1, "b", "nodes[1].template", "missing_template",
		       "Node \"b\": there is no email template \"missing\"");
	expect_problem(&p, 2, "c", "nodes[2].template", "missing_template", "no push template \"here\"");
	expect_problem(&p, 3, "d", "nodes[3].variants[1].template", "missing_template", "no sms template \"nope\"");
	expect_problem(&p, 4, "e", "nodes[4].branches[0].when.any[1].not.segment", "unknown_segment",
		       "Node \"e\": there is no live segment \"lapsed\"");
	jny_problems_release(&p);
	/* broadcasts too */
	check(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"vip\",\"cron\":\"0 10 * * 1\"}"), &ws, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
	check(TRIGGER("{\"type\":\"broadcast\",\"segment\":\"newsletter\"}"), &ws, &p);
	cr_assert_eq(p.n, 1, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, NULL, "trigger.segment", "unknown_segment", "\"newsletter\"");
	jny_problems_release(&p);
}

Test(journey_check, callback_failure)
{
	struct fake_ws ws = {{NULL}, {NULL}, 1, 0};
	struct jny_def *d = parse_ok(welcome_src);
	struct jny_check_env env = {&ws, fake_template, fake_segment};
	struct cairn_err err = CAIRN_ERR_INIT;
	struct jny_problems p;
	cr_assert_eq(jny_check(d, &env, &p, &err), CAIRN_EIO);
	cr_assert_eq(err.code, CAIRN_EIO);
	cr_assert_str_eq(err.field, "nodes[0].template");
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	cr_assert_null(p.items);
	jny_free(d);
}

Test(journey_check, unreachable_nodes)
{
	struct jny_problems p;
	check(NODES("{\"id\":\"a\",\"type\":\"goal\",\"next\":\"c\"},"
		    "{\"id\":\"b\",\"type\":\"goal\",\"next\":\"c\"},"
		    "{\"id\":\"c\",\"type\":\"exit\"},"
		    "{\"id\":\"d\",\"type\":\"exit\"}"),
	      NULL, &p);
	cr_assert_eq(p.n, 2, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "b", "nodes[1]", "unreachable_node", "no path from the start node \"a\" leads here");
	expect_problem(&p, 1, "d", "nodes[3]", "unreachable_node", "Node \"d\"");
	jny_problems_release(&p);
}

Test(journey_check, loops_without_wait)
{
	struct jny_problems p;
	/* a → b → c → a, with no wait: one problem at the loop's first node;
	 * d → w (wait 1 day) → d is fine; e → e too is a loop */
	check(NODES("{\"id\":\"a\",\"type\":\"update\",\"tags_add\":[\"x\"],\"next\":\"b\"},"
		    "{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"tag\":\"y\"},\"next\":\"c\"}],"
		    " \"else\":\"d\"},"
		    "{\"id\":\"c\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"next\":\"a\"},"
		    "{\"id\":\"d\",\"type\":\"goal\",\"next\":\"w\"},"
		    "{\"id\":\"w\",\"type\":\"wait\",\"duration\":{\"days\":1},\"next\":\"sp\"},"
		    "{\"id\":\"sp\",\"type\":\"split\",\"variants\":[{\"name\":\"again\",\"weight\":1,\"next\":\"d\"},"
		    " {\"name\":\"on\",\"weight\":1,\"next\":\"e\"}]},"
		    "{\"id\":\"e\",\"type\":\"wait\",\"until\":{\"time\":\"10:00\"},\"next\":\"e\"}"),
	      NULL, &p);
	cr_assert_eq(p.n, 2, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "a", "nodes[0]", "loop_without_wait", "Node \"a\": a → b → c → a is a loop with no wait");
	expect_problem(&p, 1, "e", "nodes[6]", "loop_without_wait", "e → e is a loop");
	jny_problems_release(&p);
	/* a wait_event in the loop is a wait */
	check(NODES("{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t\",\"next\":\"we\"},"
		    "{\"id\":\"we\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"hours\":1},\"timeout_next\":"
		    "\"a\"}"),
	      NULL, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
}

Test(journey_check, conditions_that_never_hold)
{
	struct jny_problems p;
	check("{\"name\":\"t\",\"trigger\":{\"type\":\"event\",\"event\":\"E\",\"where\":{\"all\":["
	      " {\"property\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"property\":\"plan\",\"op\":\"eq\",\"value\":"
	      "\"free\"}]}},"
	      "\"exit_on\":[{\"event\":\"X\",\"where\":{\"all\":[{\"property\":\"n\",\"op\":\"eq\",\"value\":1},"
	      " {\"property\":\"n\",\"op\":\"eq\",\"value\":1.0}]}}],"
	      "\"goal\":{\"event\":\"G\",\"where\":{\"any\":[{\"all\":[{\"property\":\"a\",\"op\":\"exists\"},"
	      " {\"property\":\"a\",\"op\":\"not_exists\"}]},{\"all\":[{\"property\":\"r\",\"op\":\"gt\",\"value\":100}"
	      ","
	      " {\"property\":\"r\",\"op\":\"lte\",\"value\":100}]}]}},"
	      "\"nodes\":["
	      "{\"id\":\"b\",\"type\":\"branch\",\"branches\":["
	      " {\"when\":{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},{\"tag\":\"x\"},"
	      "  {\"all\":[{\"trait\":\"plan\",\"op\":\"ne\",\"value\":\"pro\"}]}]},\"next\":\"we\"},"
	      " {\"when\":{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},"
	      "  {\"trait\":\"plan\",\"op\":\"in\",\"value\":[\"free\",\"team\"]}]},\"next\":\"we\"},"
	      " {\"when\":{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"},"
	      "  {\"trait\":\"tier\",\"op\":\"eq\",\"value\":\"free\"}]},\"next\":\"we\"},"
	      " {\"when\":{\"all\":[{\"tag\":\"x\"},{\"any\":[{\"event\":\"O\",\"count\":{\"op\":\"lt\",\"value\":0}},"
	      "  "
	      "{\"all\":[{\"score\":\"lead\",\"op\":\"gte\",\"value\":50},{\"score\":\"lead\",\"op\":\"lt\",\"value\":"
	      "50}]}]}]},"
	      "  \"next\":\"we\"}],"
	      " \"else\":\"we\"},"
	      "{\"id\":\"we\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"days\":1},\"where\":{\"all\":["
	      " {\"property\":\"k\",\"op\":\"eq\",\"value\":\"x\"},{\"property\":\"k\",\"op\":\"not_in\",\"value\":["
	      "\"x\",\"y\"]}]}}]}",
	      NULL, &p);
	cr_assert_eq(p.n, 6, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, NULL, "trigger.where", "condition_never_holds",
		       "the condition at trigger.where can never be true: these two parts can't both be true: "
		       "{\"property\":\"plan\",\"op\":\"eq\",\"value\":\"pro\"} and "
		       "{\"property\":\"plan\",\"op\":\"eq\",\"value\":\"free\"}");
	/* exit_on[0]: 1 and 1.0 are the same number: no problem */
	expect_problem(&p, 1, NULL, "goal.where", "condition_never_holds", "none of the alternatives");
	expect_problem(&p, 2, "b", "nodes[0].branches[0].when", "condition_never_holds",
		       "{\"trait\":\"plan\",\"op\":\"ne\",\"value\":\"pro\"}");
	expect_problem(&p, 3, "b", "nodes[0].branches[1].when", "condition_never_holds",
		       "{\"trait\":\"plan\",\"op\":\"in\",\"value\":[\"free\",\"team\"]}");
	/* branches[2]: different traits, fine */
	expect_problem(&p, 4, "b", "nodes[0].branches[3].when.all[1]", "condition_never_holds",
		       "none of the alternatives");
	expect_problem(&p, 5, "we", "nodes[1].where", "condition_never_holds",
		       "{\"property\":\"k\",\"op\":\"not_in\",\"value\":[\"x\",\"y\"]}");
	jny_problems_release(&p);
	/* the wait_event filter alone */
	check(NODES("{\"id\":\"we\",\"type\":\"wait_event\",\"event\":\"E\",\"timeout\":{\"days\":1},\"where\":{"
		    "\"all\":["
		    " {\"property\":\"k\",\"op\":\"eq\",\"value\":\"x\"},{\"property\":\"k\",\"op\":\"not_in\","
		    "\"value\":[\"x\",\"y\"]}]}}"),
	      NULL, &p);
	cr_assert_eq(p.n, 1, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "we", "nodes[0].where", "condition_never_holds", "Node \"we\"");
	jny_problems_release(&p);
	/* things that can hold are left alone */
	check(NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":["
		    " {\"when\":{\"all\":[{\"trait\":\"n\",\"op\":\"eq\",\"value\":\"5\"},{\"trait\":\"n\",\"op\":"
		    "\"eq\",\"value\":5}]}},"
		    " {\"when\":{\"all\":[{\"trait\":\"n\",\"op\":\"gte\",\"value\":5},{\"trait\":\"n\",\"op\":\"lte\","
		    "\"value\":5}]}},"
		    " {\"when\":{\"all\":[{\"trait\":\"p\",\"op\":\"eq\",\"value\":\"a\"},{\"trait\":\"p\",\"op\":"
		    "\"ne\",\"value\":\"b\"}]}},"
		    " {\"when\":{\"any\":[{\"all\":[{\"tag\":\"a\"},{\"not\":{\"tag\":\"a\"}}]}]}},"
		    " {\"when\":{\"event\":\"O\",\"count\":{\"op\":\"lte\",\"value\":0}}}]}"),
	      NULL, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
}

Test(journey_check, waits_beyond_the_goal_window)
{
	struct jny_problems p;
	/* welcome series with a goal node after day 7 but a 5-day window */
	check("{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"goal\":{\"event\":\"Order Completed\","
	      "\"within\":{\"days\":5}},\"nodes\":["
	      "{\"id\":\"w2\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"ev\"},"
	      "{\"id\":\"ev\",\"type\":\"wait_event\",\"event\":\"Email Opened\",\"timeout\":{\"days\":3,\"hours\":12},"
	      " \"next\":\"g1\",\"timeout_next\":\"g2\"},"
	      "{\"id\":\"g1\",\"type\":\"goal\"},"
	      "{\"id\":\"g2\",\"type\":\"goal\",\"next\":\"back\"},"
	      "{\"id\":\"back\",\"type\":\"wait\",\"duration\":{\"days\":30},\"next\":\"w2\"}]}",
	      NULL, &p);
	cr_assert_eq(p.n, 1, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "g2", "nodes[3]", "wait_beyond_goal",
		       "Node \"g2\": users can reach this goal after waiting 5 days 12 hours (w2 → ev → g2), longer "
		       "than the goal's window of 5 days (goal.within)");
	jny_problems_release(&p);
	/* no window, no check */
	check("{\"name\":\"t\",\"trigger\":{\"type\":\"manual\"},\"goal\":{\"event\":\"O\"},\"nodes\":["
	      "{\"id\":\"w\",\"type\":\"wait\",\"duration\":{\"days\":200},\"next\":\"g\"},{\"id\":\"g\",\"type\":"
	      "\"goal\"}]}",
	      NULL, &p);
	cr_assert_eq(p.n, 0, "%zu problems:%s", p.n, listing(&p));
	jny_problems_release(&p);
}

Test(journey_check, problems_in_node_order_and_as_json)
{
	struct fake_ws ws = {{NULL}, {NULL}, 0, 0};
	struct jny_problems p;
	check(NODES("{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t1\"},"
		    "{\"id\":\"b\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"t2\"}"),
	      &ws, &p);
	cr_assert_eq(p.n, 3, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "a", "nodes[0].template", "missing_template", "\"t1\"");
	expect_problem(&p, 1, "b", "nodes[1]", "unreachable_node", "Node \"b\"");
	expect_problem(&p, 2, "b", "nodes[1].template", "missing_template", "\"t2\"");
	json_t *j = jny_problems_json(&p);
	json_t *e = json_object_get(j, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "code")), "invalid_journey");
	cr_assert_str_eq(json_string_value(json_object_get(e, "field")), "nodes[0].template");
	cr_assert_str_eq(json_string_value(json_object_get(e, "message")), p.items[0].message);
	json_t *list = json_object_get(e, "problems");
	cr_assert_eq(json_array_size(list), 3);
	char *s = dump(json_array_get(list, 1));
	cr_assert_str_eq(s,
			 "{\"node\":\"b\",\"field\":\"nodes[1]\",\"code\":\"unreachable_node\",\"message\":\"Node "
			 "\\\"b\\\": no path from the start node \\\"a\\\" leads here; connect it with a \\\"next\\\" "
			 "or remove it.\"}");
	free(s);
	json_decref(j);
	jny_problems_release(&p);
	jny_problems_release(&p); /* twice is harmless */
	/* journey-wide problems have "node": null */
	struct jny_problems q;
	check(TRIGGER("{\"type\":\"segment_entered\",\"segment\":\"x\"}"), &ws, &q);
	j = jny_problems_json(&q);
	cr_assert(json_is_null(
		json_object_get(json_array_get(json_object_get(json_object_get(j, "error"), "problems"), 0), "node")));
	json_decref(j);
	jny_problems_release(&q);
}

/* ---- graph export ------------------------------------------------------------ */

static const char graph_src[] =
	"{\"name\":\"g\",\"trigger\":{\"type\":\"event\",\"event\":\"Say \\\"hi\\\"\"},\"nodes\":["
	"{\"id\":\"hello\",\"type\":\"send\",\"channel\":\"email\",\"template\":\"hi\",\"next\":\"clicked?\"},"
	"{\"id\":\"clicked?\",\"type\":\"wait_event\",\"event\":\"Email Link Clicked\",\"timeout\":{\"days\":2},"
	" \"next\":\"b\",\"timeout_next\":\"end\"},"
	"{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"all\":[{\"trait\":\"plan\",\"op\":\"eq\","
	" \"value\":\"pro\"},{\"tag\":\"vip\"}]},\"next\":\"s\"}],\"else\":\"end\"},"
	"{\"id\":\"s\",\"type\":\"split\",\"variants\":[{\"name\":\"A\",\"weight\":70,\"next\":\"n1\"},"
	" {\"name\":\"B\",\"weight\":30,\"next\":\"end\"}],\"holdout\":10},"
	"{\"id\":\"n1\",\"type\":\"wait\",\"duration\":{\"days\":1},\"next\":\"end\"},"
	"{\"id\":\"end\",\"type\":\"exit\"}]}";

static char *graph(const char *src, enum jny_graph_format fmt, const struct jny_node_counts *counts)
{
	struct jny_def *d = parse_ok(src);
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	jny_graph(d, fmt, counts, &b);
	jny_free(d);
	cr_assert_eq(b.overflow, 0);
	return buf_detach(&b, NULL);
}

Test(journey_graph, dot)
{
	char *s = graph(graph_src, JNY_GRAPH_DOT, NULL);
	cr_assert_str_eq(
		s, "digraph journey {\n"
		   "\trankdir=TB;\n"
		   "\tnode [shape=box];\n"
		   "\t\"@trigger\" [shape=oval, label=\"trigger: Say \\\"hi\\\"\"];\n"
		   "\t\"hello\" [label=\"hello\\nsend email: hi\"];\n"
		   "\t\"clicked?\" [shape=ellipse, label=\"clicked?\\nwait for Email Link Clicked\\nup to 2 days\"];\n"
		   "\t\"b\" [shape=diamond, label=\"b\\nbranch\"];\n"
		   "\t\"s\" [shape=diamond, label=\"s\\nsplit, holdout 10%\"];\n"
		   "\t\"n1\" [shape=ellipse, label=\"n1\\nwait 1 day\"];\n"
		   "\t\"end\" [shape=doublecircle, label=\"end\\nexit\"];\n"
		   "\t\"@trigger\" -> \"hello\";\n"
		   "\t\"hello\" -> \"clicked?\";\n"
		   "\t\"clicked?\" -> \"b\" [label=\"Email Link Clicked\"];\n"
		   "\t\"clicked?\" -> \"end\" [label=\"timeout\"];\n"
		   "\t\"b\" -> \"s\" [label=\"plan = pro and tag vip\"];\n"
		   "\t\"b\" -> \"end\" [label=\"else\"];\n"
		   "\t\"s\" -> \"n1\" [label=\"A (70)\"];\n"
		   "\t\"s\" -> \"end\" [label=\"B (30)\"];\n"
		   "\t\"n1\" -> \"end\";\n"
		   "}\n");
	free(s);
}

Test(journey_graph, mermaid)
{
	char *s = graph(graph_src, JNY_GRAPH_MERMAID, NULL);
	/* "clicked?" is no Mermaid id, "end" is a keyword and "n1" looks like a
	 * generated id: they become n<index> */
	cr_assert_str_eq(s, "flowchart TD\n"
			    "    n_trigger([\"trigger: Say #quot;hi#quot;\"])\n"
			    "    hello[\"hello<br/>send email: hi\"]\n"
			    "    n1(\"clicked?<br/>wait for Email Link Clicked<br/>up to 2 days\")\n"
			    "    b{\"b<br/>branch\"}\n"
			    "    s{\"s<br/>split, holdout 10%\"}\n"
			    "    n4(\"n1<br/>wait 1 day\")\n"
			    "    n5((\"end<br/>exit\"))\n"
			    "    n_trigger --> hello\n"
			    "    hello --> n1\n"
			    "    n1 -->|\"Email Link Clicked\"| b\n"
			    "    n1 -->|\"timeout\"| n5\n"
			    "    b -->|\"plan = pro and tag vip\"| s\n"
			    "    b -->|\"else\"| n5\n"
			    "    s -->|\"A (70)\"| n4\n"
			    "    s -->|\"B (30)\"| n5\n"
			    "    n4 --> n5\n");
	free(s);
}

Test(journey_graph, counts_and_escaping)
{
	static const char src[] =
		"{\"name\":\"g\",\"trigger\":{\"type\":\"broadcast\",\"segment\":\"vip\",\"cron\":\"0 10 * * 1\"},"
		"\"nodes\":[{\"id\":\"u\",\"type\":\"update\",\"tags_add\":[\"<b>&#x|`\"],\"score\":{\"lead\":-5},"
		"\"next\":\"sl\"},{\"id\":\"sl\",\"type\":\"slack\",\"channel\":\"#sales\",\"text\":\"x\"}]}";
	struct jny_node_counts counts[2] = {{120, 14, 3, 0}, {90, 0, 0, 2}};
	char *s = graph(src, JNY_GRAPH_MERMAID, counts);
	cr_assert_str_eq(s, "flowchart TD\n"
			    "    n_trigger([\"trigger: broadcast to vip (cron 0 10 * * 1)\"])\n"
			    "    u[\"u<br/>update: +#lt;b#gt;#amp;#35;x#124;#96;, score lead -5<br/>entered 120 · "
			    "waiting 14 · exited 3\"]\n"
			    "    sl[\"sl<br/>slack #35;sales<br/>entered 90 · waiting 0 · converted 2\"]\n"
			    "    n_trigger --> u\n"
			    "    u --> sl\n");
	free(s);
	s = graph(src, JNY_GRAPH_DOT, counts);
	cr_assert(strstr(s, "\t\"u\" [label=\"u\\nupdate: +<b>&#x|`, score lead -5\\nentered 120 · waiting 14 · "
			    "exited 3\"];\n"),
		  "%s", s);
	free(s);
	/* a webhook shows its host only: hook URLs carry secrets */
	s = graph(NODES("{\"id\":\"wh\",\"type\":\"webhook\",\"url\":\"https://user:pw@hooks.example.com:8443/T0/"
			"secret?token=x\"}"),
		  JNY_GRAPH_DOT, NULL);
	cr_assert(strstr(s, "\t\"wh\" [label=\"wh\\nwebhook hooks.example.com:8443\"];\n"), "%s", s);
	cr_assert_null(strstr(s, "secret"));
	free(s);
	/* a long condition is cut on the edge */
	s = graph(NODES("{\"id\":\"b\",\"type\":\"branch\",\"branches\":[{\"when\":{\"any\":[{\"tag\":\"aaaaaaaaaa\"},"
			"{\"tag\":\"bbbbbbbbbb\"},{\"tag\":\"cccccccccc\"}]},\"next\":\"x\"}]},{\"id\":\"x\",\"type\":"
			"\"exit\"}"),
		  JNY_GRAPH_DOT, NULL);
	cr_assert(strstr(s, "\t\"b\" -> \"x\" [label=\"tag aaaaaaaaaa or tag bbbbbbbbbb or tag…\"];\n"), "%s", s);
	free(s);
}

Test(journey_check, inline_templates_are_checked_as_a_save_would)
{
	struct jny_problems p;
	check("{\"name\":\"t\",\"trigger\":{\"type\":\"event\",\"event\":\"Signed Up\"},\"nodes\":["
	      "{\"id\":\"a\",\"type\":\"send\",\"channel\":\"email\",\"template\":{\"subject\":\"Hi\",\"html\":\"{% if x %}hi\"},"
	      "\"next\":\"b\"},"
	      "{\"id\":\"b\",\"type\":\"send\",\"channel\":\"email\",\"template\":{\"subject\":\"\",\"text\":\"x\"},\"next\":\"c\"},"
	      "{\"id\":\"c\",\"type\":\"send\",\"channel\":\"sms\",\"template\":{\"text\":\"{{ user.name }}\"},\"next\":\"d\"},"
	      "{\"id\":\"d\",\"type\":\"exit\"}]}",
	      NULL, &p);
	cr_assert_eq(p.n, 2, "%zu problems:%s", p.n, listing(&p));
	expect_problem(&p, 0, "a", "nodes[0].template.html", "template_syntax", "never closed");
	expect_problem(&p, 1, "b", "nodes[1].template.subject", "missing_field", "subject");
	jny_problems_release(&p);
}
