/* api_analytics.c — reports from the analytics rollups, as JSON or CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/analytics.h"
#include "api/api.h"
#include "api/api_analytics.h"
#include "app/app.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "store/store_analytics.h"
#include "store/store_journey.h"

#define DEFAULT_DAYS 30
#define DAY_MS	     86400000LL

/* from / to as RFC 3339 or a date; default: the last 30 days. */
static int period(struct http_request *r, int64_t *from, int64_t *to)
{
	const char *f = http_query(r, "from"), *t = http_query(r, "to");
	*to = clock_now_ms();
	if (t && clock_parse_rfc3339(t, to) < 0) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "to", "to must be a date or time such as 2026-03-31.");
		return -1;
	}
	*from = *to - (DEFAULT_DAYS - 1) * DAY_MS;
	if (f && clock_parse_rfc3339(f, from) < 0) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "from",
			    "from must be a date or time such as 2026-03-01.");
		return -1;
	}
	if (*from > *to) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "from", "from must not be after to.");
		return -1;
	}
	return 0;
}

/* ?by: absent, or one of allowed (NULL-terminated); else a 400 naming them. */
static int grouping(struct http_request *r, const char *by, const char *const *allowed)
{
	if (!by)
		return 0;
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; allowed[i]; i++) {
		if (!strcmp(allowed[i], by))
			return 0;
		off += (size_t)snprintf(list + off, off < sizeof list ? sizeof list - off : 0, "%s%s", i ? ", " : "",
					allowed[i]);
	}
	http_errorf(r, CAIRN_EINVAL, "invalid_query", "by", "by is one of %s.", list);
	return -1;
}

static void csv_field(struct buf *b, const char *s)
{
	buf_addch(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_addch(b, '"');
		buf_addch(b, *p);
	}
	buf_addch(b, '"');
}

static void csv_value(struct buf *b, json_t *v)
{
	if (json_is_string(v)) {
		csv_field(b, json_string_value(v));
	} else if (json_is_integer(v)) {
		buf_addf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		buf_addf(b, "%.4f", json_real_value(v));
	} else if (json_is_boolean(v)) {
		buf_adds(b, json_is_true(v) ? "true" : "false");
	} else if (json_is_array(v) && json_array_size(v) && !json_is_object(json_array_get(v, 0))) {
		struct buf t; /* a list of scalars: one field, values split by ';' */
		buf_init(&t, BUF_MAX_RENDER);
		size_t i;
		json_t *e;
		json_array_foreach (v, i, e) {
			if (i)
				buf_addch(&t, ';');
			char *x = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
			buf_adds(&t, json_is_string(e) ? json_string_value(e) : x);
			free(x);
		}
		csv_field(b, t.ptr);
		buf_release(&t);
	} else if (!json_is_null(v) && v) {
		char *x = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		csv_field(b, x);
		free(x);
	}
}

/* Answers resp as JSON, or with ?format=csv the rows under key (an array
 * of objects, or an object of objects — each becomes a row with "key") as
 * CSV, the columns those of the first row. Steals resp. */
static void reply(struct http_request *r, json_t *resp, const char *key, const char *filename)
{
	const char *format = http_query(r, "format");
	if (!format || !strcmp(format, "json")) {
		http_json(r, 200, resp);
		return;
	}
	if (strcmp(format, "csv")) {
		json_decref(resp);
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "format", "format is json (the default) or csv.");
		return;
	}
	json_t *rows = json_object_get(resp, key), *list = json_array();
	if (json_is_object(rows)) {
		const char *k;
		json_t *v;
		json_object_foreach (rows, k, v) {
			json_t *row = json_pack("{s:s}", "key", k);
			json_object_update(row, v);
			json_array_append_new(list, row);
		}
	} else if (json_is_array(rows)) {
		json_array_extend(list, rows);
	}
	struct buf b;
	buf_init(&b, BUF_MAX_RESPONSE);
	json_t *first = json_array_get(list, 0);
	const char *k;
	json_t *v;
	int col = 0;
	json_object_foreach (first, k, v)
		buf_addf(&b, "%s%s", col++ ? "," : "", k);
	buf_adds(&b, "\r\n");
	size_t i;
	json_t *row;
	json_array_foreach (list, i, row) {
		col = 0;
		json_object_foreach (first, k, v) {
			if (col++)
				buf_addch(&b, ',');
			csv_value(&b, json_object_get(row, k));
		}
		buf_adds(&b, "\r\n");
	}
	json_decref(list);
	json_decref(resp);
	char disp[128];
	snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", filename);
	http_header_add(r, "Content-Disposition", disp);
	http_text(r, 200, "text/csv; charset=utf-8", b.ptr, b.len);
	buf_release(&b);
}

void api_analytics_messages(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const bys[] = {"channel", "journey", "node", "variant", "template", "day", NULL};
	const char *by = http_query(r, "by");
	if (grouping(r, by, bys) < 0)
		return;
	const char *format = http_query(r, "format");
	if (format && strcmp(format, "json") && strcmp(format, "csv")) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "format", "format is json (the default) or csv.");
		return;
	}
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *rows = stats_messages_report(a->st, http_workspace(r), by, http_query(r, "journey_id"), from, to, &err);
	if (!rows) {
		http_error(r, &err);
		return;
	}
	if (format && !strcmp(format, "csv")) {
		static const char *const rates[] = {"open_rate",	"click_rate",  "click_to_open_rate",
						    "unsubscribe_rate", "bounce_rate", "complaint_rate"};
		struct buf b;
		buf_init(&b, BUF_MAX_RESPONSE);
		buf_addf(&b, "%s", by ? by : "all");
		for (size_t c = 0; stats_message_columns[c]; c++)
			buf_addf(&b, ",%s,unique_%s", stats_message_columns[c], stats_message_columns[c]);
		for (size_t c = 0; c < sizeof rates / sizeof rates[0]; c++)
			buf_addf(&b, ",%s", rates[c]);
		buf_adds(&b, "\r\n");
		size_t i;
		json_t *row;
		json_array_foreach (rows, i, row) {
			csv_field(&b, jsonx_str(row, "key") ? jsonx_str(row, "key") : "");
			for (size_t c = 0; stats_message_columns[c]; c++) {
				char u[80];
				snprintf(u, sizeof u, "unique_%s", stats_message_columns[c]);
				buf_addf(&b, ",%lld,%lld",
					 (long long)json_integer_value(json_object_get(row, stats_message_columns[c])),
					 (long long)json_integer_value(json_object_get(row, u)));
			}
			for (size_t c = 0; c < sizeof rates / sizeof rates[0]; c++)
				buf_addf(&b, ",%.4f", json_real_value(json_object_get(row, rates[c])));
			buf_adds(&b, "\r\n");
		}
		json_decref(rows);
		http_header_add(r, "Content-Disposition", "attachment; filename=\"messages.csv\"");
		http_text(r, 200, "text/csv; charset=utf-8", b.ptr, b.len);
		buf_release(&b);
		return;
	}
	http_json(r, 200,
		  json_pack("{s:o,s:o,s:o,s:s?}", "data", rows, "from", jsonx_time(from), "to", jsonx_time(to), "by",
			    by));
}

/* POST /api/v1/analytics/funnel {"steps":["Email Sent","Email Opened",…],
 * "within":{"days":7},"from","to"}: how many users did each step, in
 * order, each within the window of their first step. */
void api_analytics_funnel(struct http_request *r, void *app)
{
	struct app *a = app;
	json_t *b = http_body_json(r);
	if (!b)
		return;
	struct cairn_err err = CAIRN_ERR_INIT;
	static const char *const keys[] = {"steps", "within", "from", "to", NULL};
	json_t *steps = json_object_get(b, "steps");
	int rc = api_only_keys(b, keys, "a funnel", &err);
	size_t n = json_array_size(steps);
	const char *names[STORE_AN_FUNNEL_MAX];
	if (rc == 0 && (!json_is_array(steps) || n < 2 || n > STORE_AN_FUNNEL_MAX))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", "steps",
				   "steps is a list of 2 to %d event names, in order, e.g. [\"Email Sent\",\"Email "
				   "Opened\",\"Email Link Clicked\",\"Order Completed\"].",
				   STORE_AN_FUNNEL_MAX);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *st = json_array_get(steps, i);
		const char *name = json_is_string(st) ? json_string_value(st) : jsonx_str(st, "event");
		if (!name || !*name) {
			char f[32];
			snprintf(f, sizeof f, "steps[%zu]", i);
			rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", f,
					   "Each step is an event name (or {\"event\": name}).");
		}
		names[i] = name;
	}
	int64_t window = 7 * DAY_MS;
	json_t *w = json_object_get(b, "within");
	if (rc == 0 && w) {
		static const struct {
			const char *k;
			int64_t ms;
		} units[] = {{"minutes", 60000LL}, {"hours", 3600000LL}, {"days", DAY_MS}, {"weeks", 7 * DAY_MS}};
		window = 0;
		const char *k;
		json_t *v;
		json_object_foreach (w, k, v) {
			size_t u;
			for (u = 0; u < 4 && strcmp(units[u].k, k); u++)
				;
			if (u == 4 || !json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 100000)
				rc = cairn_err_set(
					&err, CAIRN_EUNPROC, "invalid_field", "within",
					"within is a duration such as {\"days\":7} (minutes, hours, days, weeks).");
			else
				window += json_integer_value(v) * units[u].ms;
		}
	}
	int64_t to = clock_now_ms(), from = to - (DEFAULT_DAYS - 1) * DAY_MS;
	const char *fs = jsonx_str(b, "from"), *ts = jsonx_str(b, "to");
	if (rc == 0 && ((ts && clock_parse_rfc3339(ts, &to) < 0) || (fs && clock_parse_rfc3339(fs, &from) < 0)))
		rc = cairn_err_set(&err, CAIRN_EUNPROC, "invalid_field", fs ? "from" : "to",
				   "from and to are dates or times such as 2026-03-01.");
	if (rc == 0 && !fs)
		from = to - (DEFAULT_DAYS - 1) * DAY_MS;
	int64_t users[STORE_AN_FUNNEL_MAX] = {0};
	if (rc == 0) {
		api_read_barrier(a);
		rc = store_an_funnel(a->st, http_workspace(r), names, n, from, to, window, users, &err);
	}
	if (rc < 0) {
		json_decref(b);
		http_error(r, &err);
		return;
	}
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, json_pack("{s:s,s:I,s:f,s:f}", "event", names[i], "users",
						     (json_int_t)users[i], "rate_from_previous",
						     i == 0	    ? 1.0
						     : users[i - 1] ? (double)users[i] / (double)users[i - 1]
								    : 0.0,
						     "rate_from_start",
						     users[0] ? (double)users[i] / (double)users[0] : 0.0));
	json_t *resp = json_pack("{s:o,s:I,s:o,s:o}", "steps", out, "within_ms", (json_int_t)window, "from",
				 jsonx_time(from), "to", jsonx_time(to));
	json_decref(b);
	reply(r, resp, "steps", "funnel");
}

/* ---- seed 000's stage KPIs ---------------------------------------------------------------- */

static const struct {
	const char *name, *from, *to;
	int within_days;
} kpi_defaults[] = {
	{"activation", "Signed Up", "Order Completed", 7},
	{"engagement", "Email Sent", "Email Link Clicked", 3},
	{"conversion", "Product Added", "Order Completed", 3},
	{"retention", "Order Completed", "Order Completed", 30},
};

/* GET /api/v1/analytics/kpis?from&to: each stage as the share of users who
 * did its first event in the period and its second within the window;
 * reactivation as the share of active users back after a long silence.
 * The workspace setting "kpis" overrides any definition. */
void api_analytics_kpis(struct http_request *r, void *app)
{
	struct app *a = app;
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	int64_t ws = http_workspace(r);
	char *set = store_setting_get(a->st, ws, "kpis");
	json_t *custom = set ? jsonx_loadb(set, strlen(set), 0, NULL) : NULL;
	free(set);
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *out = json_object();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof kpi_defaults / sizeof kpi_defaults[0]; i++) {
		const char *steps[2] = {kpi_defaults[i].from, kpi_defaults[i].to};
		int64_t within = kpi_defaults[i].within_days * DAY_MS;
		json_t *c = json_object_get(custom, kpi_defaults[i].name);
		json_t *cs = json_object_get(c, "steps");
		if (json_array_size(cs) == 2 && json_is_string(json_array_get(cs, 0)) &&
		    json_is_string(json_array_get(cs, 1))) {
			steps[0] = json_string_value(json_array_get(cs, 0));
			steps[1] = json_string_value(json_array_get(cs, 1));
		}
		json_t *wd = json_object_get(json_object_get(c, "within"), "days");
		if (json_is_integer(wd) && json_integer_value(wd) > 0 && json_integer_value(wd) <= 3660)
			within = json_integer_value(wd) * DAY_MS;
		int64_t users[2] = {0, 0};
		rc = store_an_funnel(a->st, ws, steps, 2, from, to, within, users, &err);
		json_object_set_new(out, kpi_defaults[i].name,
				    json_pack("{s:{s:[s,s],s:{s:I}},s:I,s:I,s:f}", "definition", "steps", steps[0],
					      steps[1], "within", "days", (json_int_t)(within / DAY_MS), "users",
					      (json_int_t)users[0], "converted", (json_int_t)users[1], "rate",
					      users[0] ? (double)users[1] / (double)users[0] : 0.0));
	}
	int64_t inactive_days = 30, active = 0, back = 0;
	json_t *idays = json_object_get(json_object_get(custom, "reactivation"), "inactive_days");
	if (json_is_integer(idays) && json_integer_value(idays) > 0 && json_integer_value(idays) <= 3660)
		inactive_days = json_integer_value(idays);
	if (rc == 0)
		rc = store_an_reactivated(a->st, ws, from, to, inactive_days * DAY_MS, &active, &back, &err);
	json_decref(custom);
	if (rc < 0) {
		json_decref(out);
		http_error(r, &err);
		return;
	}
	json_object_set_new(out, "reactivation",
			    json_pack("{s:{s:I},s:I,s:I,s:f}", "definition", "inactive_days", (json_int_t)inactive_days,
				      "active_users", (json_int_t)active, "reactivated", (json_int_t)back, "rate",
				      active ? (double)back / (double)active : 0.0));
	reply(r, json_pack("{s:o,s:o,s:o}", "kpis", out, "from", jsonx_time(from), "to", jsonx_time(to)), "kpis",
	      "kpis");
}

/* GET /api/v1/analytics/attribution?by=channel|journey|node|template|day&from&to:
 * conversions (Order Completed) and their revenue, each credited to the
 * message that last touched the user within 7 days before it. */
void api_analytics_attribution(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const bys[] = {"channel", "journey", "node", "template", "day", NULL};
	const char *by = http_query(r, "by");
	if (grouping(r, by, bys) < 0)
		return;
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *rows = stats_attribution_report(a->st, http_workspace(r), by, from, to, &err);
	if (!rows) {
		http_error(r, &err);
		return;
	}
	reply(r,
	      json_pack("{s:o,s:s,s:i,s:o,s:o}", "data", rows, "conversion_event", STATS_CONVERSION_EVENT,
			"window_days", (int)(STATS_ATTRIBUTION_MS / DAY_MS), "from", jsonx_time(from), "to",
			jsonx_time(to)),
	      "data", "attribution");
}

static int64_t interval_ms(const char *name)
{
	if (!name || !strcmp(name, "day"))
		return DAY_MS;
	if (!strcmp(name, "hour"))
		return 3600000LL;
	if (!strcmp(name, "week"))
		return 7 * DAY_MS;
	return 0;
}

/* GET /api/v1/analytics/series?event=&interval=hour|day|week&from&to */
void api_analytics_series(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *event = http_query(r, "event");
	int64_t iv = interval_ms(http_query(r, "interval"));
	if (!event || !*event) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "event",
			    "event is required, e.g. ?event=Order%%20Completed.");
		return;
	}
	if (!iv) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "interval",
			    "interval is hour, day (the default) or week.");
		return;
	}
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	if ((to - from) / iv > 10000) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "interval",
			    "That is more than 10,000 points; choose a longer interval or a shorter period.");
		return;
	}
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *rows = store_an_series(a->st, http_workspace(r), event, from, to, iv, &err);
	if (!rows) {
		http_error(r, &err);
		return;
	}
	/* every bucket, zeroes included, with its start time */
	json_t *pts = json_array();
	size_t j = 0, nb = (size_t)((to - from) / iv) + 1;
	for (size_t b = 0; b < nb; b++) {
		json_t *row = json_array_get(rows, j);
		int hit = row && json_integer_value(json_object_get(row, "bucket")) == (json_int_t)b;
		json_array_append_new(pts,
				      json_pack("{s:o,s:I,s:I}", "at", jsonx_time(from + (int64_t)b * iv), "events",
						hit ? json_integer_value(json_object_get(row, "events")) : 0, "users",
						hit ? json_integer_value(json_object_get(row, "users")) : 0));
		if (hit)
			j++;
	}
	json_decref(rows);
	reply(r, json_pack("{s:s,s:I,s:o}", "event", event, "interval_ms", (json_int_t)iv, "data", pts), "data",
	      "series");
}

/* GET /api/v1/analytics/cohorts?first=Signed Up&again=Order Completed&period=week&periods=8&from&to:
 * retention (and revisit rate: again = any visit event) by cohort. */
void api_analytics_cohorts(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *first = http_query(r, "first"), *again = http_query(r, "again");
	int64_t pm = interval_ms(http_query(r, "period"));
	const char *ps = http_query(r, "periods");
	long periods = ps ? strtol(ps, NULL, 10) : 8;
	if (!first || !again || !*first || !*again) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", first ? "again" : "first",
			    "first and again are event names, e.g. ?first=Signed%%20Up&again=Order%%20Completed.");
		return;
	}
	if (!pm || pm < DAY_MS || periods < 1 || periods > 52) {
		http_errorf(r, CAIRN_EINVAL, "invalid_query", "period",
			    "period is day, week (the default is day) and periods 1 to 52.");
		return;
	}
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *rows = store_an_cohorts(a->st, http_workspace(r), first, again, from, to, pm, (int)periods, &err);
	if (!rows) {
		http_error(r, &err);
		return;
	}
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row) {
		int64_t users = json_integer_value(json_object_get(row, "users"));
		json_object_set_new(row, "start",
				    jsonx_time(from + json_integer_value(json_object_get(row, "cohort")) * pm));
		json_t *rates = json_array();
		size_t k;
		json_t *n;
		json_array_foreach (json_object_get(row, "returned"), k, n)
			json_array_append_new(rates,
					      json_real(users ? (double)json_integer_value(n) / (double)users : 0));
		json_object_set_new(row, "rates", rates);
	}
	reply(r,
	      json_pack("{s:s,s:s,s:I,s:o}", "first", first, "again", again, "period_ms", (json_int_t)pm, "data", rows),
	      "data", "cohorts");
}

/* GET /api/v1/analytics/segments?event=Order Completed&from&to: a scoreboard
 * of the live segments. */
void api_analytics_segments(struct http_request *r, void *app)
{
	struct app *a = app;
	const char *event = http_query(r, "event");
	if (!event || !*event)
		event = STATS_CONVERSION_EVENT;
	int64_t from, to;
	if (period(r, &from, &to) < 0)
		return;
	api_read_barrier(a);
	struct cairn_err err = CAIRN_ERR_INIT;
	json_t *rows = store_an_segments(a->st, http_workspace(r), event, from, to, &err);
	if (!rows) {
		http_error(r, &err);
		return;
	}
	reply(r,
	      json_pack("{s:s,s:o,s:o,s:o}", "event", event, "from", jsonx_time(from), "to", jsonx_time(to), "data",
			rows),
	      "data", "segments");
}
