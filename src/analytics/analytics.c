/* analytics.c — message metrics as rollups (see analytics.h). */
#include "analytics/analytics.h"

#include <stdio.h>
#include <string.h>

#include "core/jsonx.h"
#include "store/store_analytics.h"

#define DAY_MS 86400000LL

static const struct {
	const char *event, *metric, *machine_metric;
} events[] = {
	{"Email Sent", "sent", NULL},
	{"Message Sent", "sent", NULL},
	{"Email Delivered", "delivered", NULL},
	{"Message Delivered", "delivered", NULL},
	{"Email Opened", "opened", "opened_machine"},
	{"Email Link Clicked", "clicked", "clicked_machine"},
	{"Unsubscribed", "unsubscribed", NULL},
	{"Email Bounced", "bounced", NULL},
	{"Email Marked as Spam", "complained", NULL},
	{"Message Failed", "failed", NULL},
};

const char *const stats_message_columns[] = {
	"sent",	      "delivered", "opened",	     "clicked",		"unsubscribed", "bounced",
	"complained", "failed",	   "opened_machine", "clicked_machine", NULL,
};

int stats_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	if (!ev->type || strcmp(ev->type, "track") || !ev->name)
		return 0;
	if (!strcmp(ev->name, STATS_CONVERSION_EVENT)) {
		json_t *msg = jsonx_loadb(ev->body, ev->body_len, 0, NULL);
		json_t *rev = json_object_get(json_object_get(msg, "properties"), "revenue");
		double revenue = json_is_number(rev) ? json_number_value(rev) : 0;
		json_decref(msg);
		return store_an_attribute(st, ev->workspace_id, profile_id, ev->ts, STATS_ATTRIBUTION_MS, revenue, err);
	}
	size_t i;
	for (i = 0; i < sizeof events / sizeof events[0]; i++)
		if (!strcmp(ev->name, events[i].event))
			break;
	if (i == sizeof events / sizeof events[0])
		return 0;
	json_t *msg = jsonx_loadb(ev->body, ev->body_len, 0, NULL);
	json_t *p = json_object_get(msg, "properties");
	const char *mid = jsonx_str(p, "message_id");
	int rc = 0;
	if (mid) {
		const char *metric = events[i].machine_metric && json_is_true(json_object_get(p, "machine"))
					     ? events[i].machine_metric
					     : events[i].metric;
		struct store_an_hit h = {.ws = ev->workspace_id,
					 .day = ev->ts / DAY_MS,
					 .message_id = mid,
					 .metric = metric,
					 /* an Unsubscribed from the preference centre names
					  * the channel given up; the message's is message_channel */
					 .channel = jsonx_str(p, "message_channel") ?: jsonx_str(p, "channel"),
					 .journey_id = jsonx_str(p, "journey_id"),
					 .node = jsonx_str(p, "node_id"),
					 .variant = jsonx_str(p, "variant"),
					 .template_id = jsonx_str(p, "template_id")};
		rc = store_an_msg_add(st, &h, err);
	}
	json_decref(msg);
	return rc;
}

static double rate(json_t *row, const char *num, const char *den)
{
	char u[80];
	snprintf(u, sizeof u, "unique_%s", num);
	double n = (double)json_integer_value(json_object_get(row, u));
	snprintf(u, sizeof u, "unique_%s", den);
	double d = (double)json_integer_value(json_object_get(row, u));
	return d > 0 ? n / d : 0;
}

json_t *stats_messages_report(struct store *st, int64_t ws, const char *by, const char *journey_id, int64_t from_ms,
			      int64_t to_ms, struct cairn_err *err)
{
	json_t *rows = store_an_msg_report(st, ws, by, journey_id, from_ms / DAY_MS, to_ms / DAY_MS, err);
	if (!rows)
		return NULL;
	/* the funnel's last step: conversions credited to these messages (the
	 * attribution rollup has no variant dimension, nor a journey filter) */
	json_t *conv = (!by || strcmp(by, "variant")) && !journey_id
			       ? store_an_attrib_report(st, ws, by, from_ms / DAY_MS, to_ms / DAY_MS, err)
			       : NULL;
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row) {
		for (size_t c = 0; stats_message_columns[c]; c++) {
			char u[80];
			snprintf(u, sizeof u, "unique_%s", stats_message_columns[c]);
			if (!json_object_get(row, stats_message_columns[c])) {
				json_object_set_new(row, stats_message_columns[c], json_integer(0));
				json_object_set_new(row, u, json_integer(0));
			}
		}
		/* of the messages sent (deliveries are reported by some providers only) */
		const char *base = "sent";
		json_object_set_new(row, "open_rate", json_real(rate(row, "opened", base)));
		json_object_set_new(row, "click_rate", json_real(rate(row, "clicked", base)));
		json_object_set_new(row, "click_to_open_rate", json_real(rate(row, "clicked", "opened")));
		json_object_set_new(row, "unsubscribe_rate", json_real(rate(row, "unsubscribed", base)));
		json_object_set_new(row, "bounce_rate", json_real(rate(row, "bounced", "sent")));
		json_object_set_new(row, "complaint_rate", json_real(rate(row, "complained", base)));
		if (conv) {
			size_t k;
			json_t *cr, *hit = NULL;
			json_array_foreach (conv, k, cr)
				if (!strcmp(jsonx_str(cr, "key") ?: "", jsonx_str(row, "key") ?: ""))
					hit = cr;
			int64_t n = hit ? json_integer_value(json_object_get(hit, "conversions")) : 0;
			int64_t sent = json_integer_value(json_object_get(row, "unique_sent"));
			json_object_set_new(row, "conversions", json_integer(n));
			json_object_set_new(row, "revenue",
					    json_real(hit ? json_real_value(json_object_get(hit, "revenue")) : 0));
			json_object_set_new(row, "conversion_rate", json_real(sent ? (double)n / (double)sent : 0));
		}
		if (by && !strcmp(by, "day")) { /* the key is the day number: show the date */
			int64_t day = 0;
			sscanf(jsonx_str(row, "key"), "%lld", (long long *)&day);
			json_object_set_new(row, "key", jsonx_time(day * DAY_MS));
		}
	}
	json_decref(conv);
	return rows;
}

json_t *stats_attribution_report(struct store *st, int64_t ws, const char *by, int64_t from_ms, int64_t to_ms,
				 struct cairn_err *err)
{
	json_t *rows = store_an_attrib_report(st, ws, by, from_ms / DAY_MS, to_ms / DAY_MS, err);
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row) {
		if (by && !strcmp(by, "day")) {
			int64_t day = 0;
			sscanf(jsonx_str(row, "key"), "%lld", (long long *)&day);
			json_object_set_new(row, "key", jsonx_time(day * DAY_MS));
		}
	}
	return rows;
}
