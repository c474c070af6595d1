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

void api_analytics_messages(struct http_request *r, void *app)
{
	struct app *a = app;
	static const char *const bys[] = {"channel", "journey", "node", "variant", "template", "day", NULL};
	const char *by = http_query(r, "by");
	if (by) {
		size_t i;
		for (i = 0; bys[i] && strcmp(bys[i], by); i++)
			;
		if (!bys[i]) {
			http_errorf(r, CAIRN_EINVAL, "invalid_query", "by",
				    "by is one of channel, journey, node, variant, template or day.");
			return;
		}
	}
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
