/* tz.c — local-time arithmetic over ICU calendars (see tz.h).
 *
 * Design notes:
 *   - ICU does the zone work in two places only: the offset in force at an
 *     instant (zone_offset) and local wall time to instant (wall_to_utc),
 *     where ICU's UCAL_SKIPPED_WALL_TIME = NEXT_VALID and
 *     UCAL_REPEATED_WALL_TIME = FIRST give invariant 3 of tz.h. Calendar
 *     arithmetic on local dates (adding days, weekdays, month lengths) is
 *     plain proleptic Gregorian on day numbers, and the calendars are made
 *     proleptic too (no Julian cut-over in 1582) so both agree.
 *   - wall_to_utc is monotone within a local day: a later wall time never
 *     maps to an earlier instant. The searches rely on it to skip wall times
 *     before the local time of their starting instant.
 *   - Each thread owns a short most-recently-used list of open calendars
 *     (UCalendar is not thread-safe); only known zones enter it, so bad ids
 *     from user data cannot grow it. A pthread key destructor closes it. */
#include "core/tz.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#define DAY_MS	  86400000LL
#define MINUTE_MS 60000LL
#define TZ_ID_MAX 64

/* ---- per-thread zone cache ------------------------------------------------------- */

struct zone {
	char id[TZ_ID_MAX];
	UCalendar *cal;
	struct zone *next;
};

struct zone_cache {
	struct zone *head; /* most recently used first */
	int n;
};

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;

static void cache_free(void *p)
{
	struct zone_cache *k = p;
	struct zone *z = k->head;
	while (z) {
		struct zone *next = z->next;
		ucal_close(z->cal);
		free(z);
		z = next;
	}
	free(k);
}

static void cache_key_make(void)
{
	if (pthread_key_create(&cache_key, cache_free) != 0)
		abort(); /* out of keys: a resource bug, not bad input */
}

static struct zone_cache *cache_get(void)
{
	pthread_once(&cache_once, cache_key_make);
	struct zone_cache *k = pthread_getspecific(cache_key);
	if (!k) {
		k = xcalloc(1, sizeof *k);
		pthread_setspecific(cache_key, k);
	}
	return k;
}

void tz_thread_release(void)
{
	pthread_once(&cache_once, cache_key_make);
	struct zone_cache *k = pthread_getspecific(cache_key);
	if (k) {
		pthread_setspecific(cache_key, NULL);
		cache_free(k);
	}
}

/* Opens tz when ICU knows it as a system zone; NULL otherwise. */
static UCalendar *calendar_open(const char *tz)
{
	UChar id[TZ_ID_MAX], canon[128];
	int32_t n = 0;
	for (const char *p = tz; *p; p++) {
		if (n >= TZ_ID_MAX - 1 || (unsigned char)*p >= 0x80)
			return NULL;
		id[n++] = (UChar)*p;
	}
	if (n == 0)
		return NULL;
	UErrorCode st = U_ZERO_ERROR;
	UBool system = 0;
	int32_t cn = ucal_getCanonicalTimeZoneID(id, n, canon, 128, &system, &st);
	if (U_FAILURE(st) || !system || cn <= 0 || cn >= 128)
		return NULL;
	st = U_ZERO_ERROR;
	UCalendar *cal = ucal_open(canon, cn, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st)) {
		if (cal)
			ucal_close(cal);
		return NULL;
	}
	ucal_setAttribute(cal, UCAL_LENIENT, 1);
	ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
	ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
	ucal_setGregorianChange(cal, U_DATE_MIN, &st); /* proleptic Gregorian */
	if (U_FAILURE(st)) {
		ucal_close(cal);
		return NULL;
	}
	return cal;
}

/* This thread's calendar for tz, or NULL for an unknown zone. */
static UCalendar *zone_get(const char *tz)
{
	if (!tz)
		return NULL;
	struct zone_cache *k = cache_get();
	struct zone **pp = &k->head;
	for (struct zone *z = k->head; z; pp = &z->next, z = z->next) {
		if (strcmp(z->id, tz) == 0) {
			*pp = z->next; /* move to front */
			z->next = k->head;
			k->head = z;
			return z->cal;
		}
	}
	if (strlen(tz) >= TZ_ID_MAX)
		return NULL;
	UCalendar *cal = calendar_open(tz);
	if (!cal)
		return NULL;
	struct zone *z = xcalloc(1, sizeof *z);
	snprintf(z->id, sizeof z->id, "%s", tz);
	z->cal = cal;
	z->next = k->head;
	k->head = z;
	if (++k->n > TZ_CACHE_ZONES) {
		struct zone **last = &k->head;
		while ((*last)->next)
			last = &(*last)->next;
		ucal_close((*last)->cal);
		free(*last);
		*last = NULL;
		k->n--;
	}
	return cal;
}

/* ---- civil dates: clock_civil_from_days / clock_days_from_civil (core/clock.h) ---- */

/* 0 = Sunday; day 0 (1970-01-01) was a Thursday. */
static int weekday_of(int64_t day)
{
	int64_t w = (day + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int in_range(int64_t ms)
{
	return ms >= TZ_MIN_MS && ms <= TZ_MAX_MS;
}

/* ---- the two ICU primitives ----------------------------------------------------- */

static int zone_offset(UCalendar *cal, int64_t utc_ms, int32_t *off)
{
	UErrorCode st = U_ZERO_ERROR;
	ucal_setMillis(cal, (UDate)utc_ms, &st);
	int32_t zone = ucal_get(cal, UCAL_ZONE_OFFSET, &st);
	int32_t dst = ucal_get(cal, UCAL_DST_OFFSET, &st);
	if (U_FAILURE(st))
		return CAIRN_EINVAL;
	*off = zone + dst;
	return 0;
}

/* Local day number and milliseconds into that local day at utc_ms. */
static int local_day(UCalendar *cal, int64_t utc_ms, int64_t *day, int64_t *ms_of_day)
{
	int32_t off;
	if (!in_range(utc_ms) || zone_offset(cal, utc_ms, &off) != 0)
		return CAIRN_EINVAL;
	int64_t local = utc_ms + off;
	*day = floor_div(local, DAY_MS);
	*ms_of_day = local - *day * DAY_MS;
	return 0;
}

/* The instant of local wall time ms_of_day on local day `day` (invariant 3;
 * `last` picks the second occurrence of a repeated wall time instead). */
static int wall_to_utc(UCalendar *cal, int64_t day, int64_t ms_of_day, int last, int64_t *out)
{
	int64_t y;
	unsigned m, d;
	clock_civil_from_days(day, &y, &m, &d);
	if (y < 1 || y > 9999)
		return CAIRN_EINVAL;
	int32_t msd = (int32_t)ms_of_day;
	UErrorCode st = U_ZERO_ERROR;
	ucal_clear(cal);
	ucal_set(cal, UCAL_YEAR, (int32_t)y);
	ucal_set(cal, UCAL_MONTH, (int32_t)m - 1);
	ucal_set(cal, UCAL_DATE, (int32_t)d);
	ucal_set(cal, UCAL_HOUR_OF_DAY, msd / 3600000);
	ucal_set(cal, UCAL_MINUTE, msd / 60000 % 60);
	ucal_set(cal, UCAL_SECOND, msd / 1000 % 60);
	ucal_set(cal, UCAL_MILLISECOND, msd % 1000);
	if (last)
		ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_LAST);
	UDate t = ucal_getMillis(cal, &st);
	if (last)
		ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
	if (U_FAILURE(st))
		return CAIRN_EINVAL;
	*out = (int64_t)t;
	return 0;
}

/* ---- public API -------------------------------------------------------------------- */

int tz_valid(const char *tz)
{
	return zone_get(tz) != NULL;
}

int tz_offset_ms(const char *tz, int64_t utc_ms, int32_t *offset_ms)
{
	assert(offset_ms);
	UCalendar *cal = zone_get(tz);
	if (!cal || !in_range(utc_ms))
		return CAIRN_EINVAL;
	return zone_offset(cal, utc_ms, offset_ms);
}

int tz_local_parts(const char *tz, int64_t utc_ms, struct tz_parts *out)
{
	assert(out);
	UCalendar *cal = zone_get(tz);
	int64_t day, msd;
	if (!cal || local_day(cal, utc_ms, &day, &msd) != 0)
		return CAIRN_EINVAL;
	int64_t y;
	unsigned m, d;
	clock_civil_from_days(day, &y, &m, &d);
	out->year = (int)y;
	out->month = (int)m;
	out->day = (int)d;
	out->hour = (int)(msd / 3600000);
	out->minute = (int)(msd / MINUTE_MS % 60);
	out->second = (int)(msd / 1000 % 60);
	out->millisecond = (int)(msd % 1000);
	out->weekday = weekday_of(day);
	out->minute_of_day = (int)(msd / MINUTE_MS);
	return 0;
}

int tz_next_local(const char *tz, int64_t after_ms, int minute_of_day, unsigned weekday_mask, int64_t *out_ms)
{
	assert(out_ms);
	UCalendar *cal = zone_get(tz);
	int64_t day, msd;
	if (!cal || minute_of_day < -1 || minute_of_day > 1439 || (weekday_mask & ~0x7fu) ||
	    local_day(cal, after_ms, &day, &msd) != 0)
		return CAIRN_EINVAL;
	unsigned mask = weekday_mask ? weekday_mask : 0x7fu;
	/* Today may be allowed but its time passed: the same weekday a week on. */
	for (int i = 0; i <= 7; i++) {
		if (!(mask & (1u << weekday_of(day + i))))
			continue;
		if (minute_of_day < 0 && i == 0) {
			*out_ms = after_ms;
			return 0;
		}
		int64_t t;
		int64_t wall = minute_of_day < 0 ? 0 : minute_of_day * MINUTE_MS;
		if (wall_to_utc(cal, day + i, wall, 0, &t) != 0)
			return CAIRN_EINVAL;
		if (t >= after_ms) {
			*out_ms = t;
			return 0;
		}
	}
	return CAIRN_EINVAL; /* unreachable: some allowed day lies within 8 */
}

int tz_quiet_release(const char *tz, int64_t at_ms, int start_minute, int end_minute, int64_t *release_ms)
{
	assert(release_ms);
	UCalendar *cal = zone_get(tz);
	int64_t day, msd;
	if (!cal || start_minute < 0 || start_minute > 1439 || end_minute < 0 || end_minute > 1439 ||
	    local_day(cal, at_ms, &day, &msd) != 0)
		return CAIRN_EINVAL;
	int m = (int)(msd / MINUTE_MS);
	int quiet;
	if (start_minute == end_minute)
		quiet = 0;
	else if (start_minute < end_minute)
		quiet = m >= start_minute && m < end_minute;
	else
		quiet = m >= start_minute || m < end_minute;
	if (!quiet) {
		*release_ms = at_ms;
		return 0;
	}
	int64_t end_day = (start_minute > end_minute && m >= start_minute) ? day + 1 : day;
	int64_t t;
	if (wall_to_utc(cal, end_day, end_minute * MINUTE_MS, 0, &t) != 0)
		return CAIRN_EINVAL;
	/* at_ms in the second pass of a repeated hour: the end's second pass. */
	if (t < at_ms && wall_to_utc(cal, end_day, end_minute * MINUTE_MS, 1, &t) != 0)
		return CAIRN_EINVAL;
	*release_ms = t < at_ms ? at_ms : t;
	return 0;
}

int tz_add_local_days(const char *tz, int64_t utc_ms, int days, int minute_of_day, int64_t *out_ms)
{
	assert(out_ms);
	UCalendar *cal = zone_get(tz);
	int64_t day, msd;
	if (!cal || minute_of_day < -1 || minute_of_day > 1439 || local_day(cal, utc_ms, &day, &msd) != 0)
		return CAIRN_EINVAL;
	if (minute_of_day >= 0)
		msd = minute_of_day * MINUTE_MS;
	return wall_to_utc(cal, day + days, msd, 0, out_ms);
}

/* ---- cron ------------------------------------------------------------------------- */

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* 3-letter names for min.., or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
					  "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_field cron_fields[5] = {
	{"minute", 0, 59, NULL},	   {"hour", 0, 23, NULL},
	{"day-of-month", 1, 31, NULL},	   {"month", 1, 12, month_names},
	{"day-of-week", 0, 7, wday_names},
};

struct cron_parse {
	const struct cron_field *f;
	const char *text; /* the whole field, for messages */
	int len;
	struct cairn_err *err;
};

/* Records "cron <field> field "<text>": <detail>" and returns CAIRN_EUNPROC. */
static int cron_fail(struct cron_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cron_fail(struct cron_parse *p, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return cairn_err_set(p->err, CAIRN_EUNPROC, "invalid_cron", "", "cron %s field \"%.*s\": %s", p->f->name,
			     p->len, p->text, detail);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A number or a name at *s (advanced past it). */
static int cron_value(struct cron_parse *p, const char **s, const char *end, int *v)
{
	const char *q = *s;
	if (q < end && is_digit(*q)) {
		int n = 0, digits = 0;
		while (q < end && is_digit(*q)) {
			if (++digits > 4)
				return cron_fail(p, "%d... is out of range; this field takes %d-%d", n, p->f->min,
						 p->f->max);
			n = n * 10 + (*q - '0');
			q++;
		}
		*s = q;
		*v = n;
		return 0;
	}
	const char *w = q;
	while (q < end && ((lower(*q) >= 'a' && lower(*q) <= 'z')))
		q++;
	if (q == w) {
		char what[8];
		if (q < end)
			snprintf(what, sizeof what, "\"%c\"", *q);
		else
			snprintf(what, sizeof what, "nothing");
		return cron_fail(p, "expected a number or \"*\", found %s", what);
	}
	char word[16];
	int wl = (int)(q - w);
	if (!p->f->names) {
		snprintf(word, sizeof word, "%.*s", wl < 15 ? wl : 15, w);
		return cron_fail(p, "\"%s\" is not a number; this field takes %d-%d", word, p->f->min, p->f->max);
	}
	for (int i = 0; wl == 3 && p->f->names[i]; i++) {
		if (lower(w[0]) == p->f->names[i][0] && lower(w[1]) == p->f->names[i][1] &&
		    lower(w[2]) == p->f->names[i][2]) {
			*v = p->f->min + i;
			*s = q;
			return 0;
		}
	}
	snprintf(word, sizeof word, "%.*s", wl < 15 ? wl : 15, w);
	if (p->f->names == month_names)
		return cron_fail(p, "unknown month \"%s\"; use 1-12 or jan-dec", word);
	return cron_fail(p, "unknown weekday \"%s\"; use 0-7 (0 and 7 are Sunday) or sun-sat", word);
}

/* One comma-separated item: "*", "N", "N-M", each with an optional "/step". */
static int cron_item(struct cron_parse *p, const char *s, const char *end, uint64_t *bits)
{
	const struct cron_field *f = p->f;
	int lo, hi, step = 1, rc;
	if (s == end)
		return cron_fail(p, "an empty list item (two commas, or a comma at an end)");
	/* A weekday range left open ("*", "N/step") ends on Saturday, not on 7. */
	int open_max = f == &cron_fields[4] ? 6 : f->max;
	if (*s == '*') {
		lo = f->min;
		hi = open_max;
		s++;
	} else {
		rc = cron_value(p, &s, end, &lo);
		if (rc)
			return rc;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			rc = cron_value(p, &s, end, &hi);
			if (rc)
				return rc;
			if (f == &cron_fields[4] && hi == 0 && lo > 0)
				hi = 7; /* "mon-sun", "5-0": up to Sunday */
		} else if (s < end && *s == '/') {
			hi = open_max;
		}
	}
	if (s < end && *s == '/') {
		s++;
		step = 0;
		int digits = 0;
		while (s < end && is_digit(*s) && digits < 5) {
			step = step * 10 + (*s - '0');
			s++;
			digits++;
		}
		if (digits == 0 || step == 0)
			return cron_fail(p, "a step must be a whole number of at least 1, as in \"*/15\"");
	}
	if (s < end)
		return cron_fail(p, "unexpected \"%c\"; items are \"*\", N, N-M, each with an optional /step", *s);
	if (lo < f->min || lo > f->max)
		return cron_fail(p, "%d is out of range; this field takes %d-%d", lo, f->min, f->max);
	if (hi < f->min || hi > f->max)
		return cron_fail(p, "%d is out of range; this field takes %d-%d", hi, f->min, f->max);
	if (lo > hi)
		return cron_fail(p, "the range %d-%d goes backwards; split it in two, as in \"%d-%d,%d-%d\"", lo, hi,
				 lo, f->max == 7 ? 6 : f->max, f->min, hi);
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ull << (f == &cron_fields[4] && v == 7 ? 0 : v);
	return 0;
}

static int cron_field_parse(const struct cron_field *f, const char *s, int len, uint64_t *bits, struct cairn_err *err)
{
	struct cron_parse p = {f, s, len, err};
	const char *end = s + len;
	const char *item = s;
	*bits = 0;
	for (const char *q = s;; q++) {
		if (q == end || *q == ',') {
			int rc = cron_item(&p, item, q, bits);
			if (rc)
				return rc;
			if (q == end)
				break;
			item = q + 1;
		}
	}
	return 0;
}

static int days_in_month(int m, int64_t y)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int cron_day_matches(const struct tz_cron *c, int64_t day)
{
	int64_t y;
	unsigned m, d;
	clock_civil_from_days(day, &y, &m, &d);
	(void)y;
	if (!(c->month & (1u << m)))
		return 0;
	int md = (c->mday >> d) & 1;
	int wd = (c->wday >> weekday_of(day)) & 1;
	if (c->flags & (TZ_CRON_MDAY_STAR | TZ_CRON_WDAY_STAR))
		return md && wd;
	return md || wd;
}

int tz_cron_parse(const char *expr, struct tz_cron *out, struct cairn_err *err)
{
	assert(out);
	if (!expr)
		return cairn_err_set(err, CAIRN_EINVAL, "invalid_cron", "", "a cron expression is required");
	size_t n = strlen(expr);
	if (n > TZ_CRON_MAX_LEN)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_cron", "",
				     "the cron expression is %zu characters long; at most %d are allowed", n,
				     TZ_CRON_MAX_LEN);
	const char *start[5];
	int len[5];
	int count = 0;
	for (const char *q = expr; *q;) {
		if (*q == ' ' || *q == '\t') {
			q++;
			continue;
		}
		const char *w = q;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		if (count < 5) {
			start[count] = w;
			len[count] = (int)(q - w);
		}
		count++;
	}
	if (count != 5)
		return cairn_err_set(err, CAIRN_EUNPROC, "invalid_cron", "",
				     "a cron expression has 5 fields (minute hour day-of-month month day-of-week, "
				     "e.g. \"0 10 * * 1\"); \"%s\" has %d",
				     expr, count);
	uint64_t bits[5];
	for (int i = 0; i < 5; i++) {
		int rc = cron_field_parse(&cron_fields[i], start[i], len[i], &bits[i], err);
		if (rc)
			return rc;
	}
	struct tz_cron c = {0};
	c.minute = bits[0];
	c.hour = (uint32_t)bits[1];
	c.mday = (uint32_t)bits[2];
	c.month = (uint16_t)bits[3];
	c.wday = (uint8_t)bits[4];
	if (start[2][0] == '*')
		c.flags |= TZ_CRON_MDAY_STAR;
	if (start[4][0] == '*')
		c.flags |= TZ_CRON_WDAY_STAR;
	/* Days ANDed: a selected day of month must exist in a selected month. */
	if (c.flags) {
		int possible = 0;
		for (int m = 1; m <= 12 && !possible; m++)
			if (c.month & (1u << m))
				possible = (c.mday & ((2u << days_in_month(m, 2000)) - 2)) != 0;
		if (!possible)
			return cairn_err_set(err, CAIRN_EUNPROC, "invalid_cron", "",
					     "cron expression \"%s\" never matches: none of its months has any of its "
					     "days of the month",
					     expr);
	}
	*out = c;
	return 0;
}

int tz_cron_next(const struct tz_cron *c, const char *tz, int64_t after_ms, int64_t *out_ms)
{
	assert(c && out_ms);
	UCalendar *cal = zone_get(tz);
	int64_t day0, msd;
	if (!cal || local_day(cal, after_ms, &day0, &msd) != 0)
		return CAIRN_EINVAL;
	int first_minute = (int)(msd / MINUTE_MS);
	int64_t last_day = day0 + TZ_CRON_SEARCH_YEARS * 366;
	for (int64_t day = day0; day <= last_day; day++) {
		if (!cron_day_matches(c, day))
			continue;
		for (int h = 0; h < 24; h++) {
			if (!(c->hour & (1u << h)))
				continue;
			for (int m = 0; m < 60; m++) {
				if (!(c->minute & (1ull << m)))
					continue;
				/* wall_to_utc is monotone: earlier wall minutes of day0 map <= after_ms */
				if (day == day0 && h * 60 + m < first_minute)
					continue;
				int64_t t;
				if (wall_to_utc(cal, day, (h * 60 + m) * MINUTE_MS, 0, &t) != 0)
					return 1; /* past year 9999 */
				if (t > after_ms) {
					*out_ms = t;
					return 0;
				}
			}
		}
	}
	return 1;
}
