/* tpl_date.c — time parsing and Ruby strftime for the date filter.
 *
 * Inputs: "now"/"today" (the render's clock: tpl_render_opts.now_ms or the
 * process clock, virtual in tests), epoch seconds (number or digit string),
 * ISO 8601 / RFC 3339, RFC 2822 and "March 14, 2016 10:00"-style strings.
 *
 * Zones: an input with an offset keeps it (as Ruby's Time.parse does); one
 * without is a wall time, printed as written. A time-zone argument (an IANA
 * name, resolved with ICU's calendar — the TZ environment variable is never
 * touched) converts absolute times into that zone and supplies %z/%Z. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/clock.h"
#include "template/tpl_int.h"

/* has_offset values */
enum { T_ABS = 0, T_OFFSET = 1, T_WALL = 2 };

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static const char *const months[] = {"january", "february", "march",	 "april",   "may",	"june",
				     "july",	"august",   "september", "october", "november", "december"};
static const char *const mon_cap[] = {"January", "February", "March",	  "April",   "May",	 "June",
				      "July",	 "August",   "September", "October", "November", "December"};
static const char *const day_cap[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

static int month_of(const char *w, size_t n)
{
	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++) {
		size_t ml = strlen(months[m]);
		if (n > ml)
			continue;
		int ok = 1;
		for (size_t i = 0; i < n && ok; i++)
			ok = lower((unsigned char)w[i]) == months[m][i];
		if (ok && (n == ml || n == 3 || (m == 8 && n == 4)))
			return m + 1;
	}
	return 0;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int64_t num(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n && i < 18; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Parses a date-time string. Returns 0 and fills the fields, or -1. */
static int parse_str(const char *s, size_t n, int64_t *y, int *mo, int *d, int *h, int *mi, int *sec, int *ms, int *off,
		     int *has_off)
{
	const char *e = s + n, *c = s;
	*y = -1;
	*mo = *d = -1;
	*h = *mi = *sec = *ms = 0;
	*off = 0;
	*has_off = 0;
	int have_time = 0, pm = -1;
	int64_t nums[4];
	size_t numl[4];
	int nn = 0;
	while (c < e) {
		unsigned char ch = (unsigned char)*c;
		if (is_digit(ch)) {
			const char *b = c;
			while (c < e && is_digit((unsigned char)*c))
				c++;
			size_t l = (size_t)(c - b);
			/* YYYY-MM-DD or YYYY/MM/DD */
			if (l == 4 && *y < 0 && c + 5 < e + 1 && (c < e && (*c == '-' || *c == '/')) && c + 1 < e &&
			    is_digit((unsigned char)c[1])) {
				char sep = *c;
				const char *x = c + 1, *mb = x;
				while (x < e && is_digit((unsigned char)*x))
					x++;
				if (x - mb > 2 || x >= e || *x != sep)
					return -1;
				const char *db = x + 1, *de = db;
				while (de < e && is_digit((unsigned char)*de))
					de++;
				if (de == db || de - db > 2)
					return -1;
				*y = num(b, 4);
				*mo = (int)num(mb, (size_t)(x - mb));
				*d = (int)num(db, (size_t)(de - db));
				c = de;
				if (c < e && (*c == 'T' || *c == 't'))
					c++;
				continue;
			}
			/* HH:MM[:SS[.frac]] */
			if (l <= 2 && c < e && *c == ':' && !have_time) {
				*h = (int)num(b, l);
				const char *x = c + 1, *mb = x;
				while (x < e && is_digit((unsigned char)*x))
					x++;
				if (x - mb != 2)
					return -1;
				*mi = (int)num(mb, 2);
				if (x < e && *x == ':') {
					const char *sb = ++x;
					while (x < e && is_digit((unsigned char)*x))
						x++;
					if (x - sb != 2)
						return -1;
					*sec = (int)num(sb, 2);
					if (x < e && (*x == '.' || *x == ',')) {
						const char *fb = ++x;
						while (x < e && is_digit((unsigned char)*x))
							x++;
						int f = 0, k = 0;
						for (const char *q = fb; q < x && k < 3; q++, k++)
							f = f * 10 + (*q - '0');
						for (; k < 3; k++)
							f *= 10;
						*ms = f;
					}
				}
				have_time = 1;
				c = x;
				continue;
			}
			if (nn < 4) {
				nums[nn] = num(b, l);
				numl[nn++] = l;
			} else
				return -1;
			continue;
		}
		if ((ch == '+' || ch == '-') && have_time && c + 1 < e && is_digit((unsigned char)c[1])) {
			const char *x = c + 1, *b = x;
			while (x < e && is_digit((unsigned char)*x))
				x++;
			int hh, mm = 0;
			if (x - b == 4) {
				hh = (int)num(b, 2);
				mm = (int)num(b + 2, 2);
			} else if (x - b <= 2) {
				hh = (int)num(b, (size_t)(x - b));
				if (x < e && *x == ':' && x + 2 < e + 0 + 1 && x + 2 <= e) {
					mm = (int)num(x + 1, 2);
					x += 3;
				}
			} else
				return -1;
			*off = (ch == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
			*has_off = 1;
			c = x;
			continue;
		}
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
			const char *b = c;
			while (c < e && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
				c++;
			size_t l = (size_t)(c - b);
			int m = month_of(b, l);
			if (m) {
				*mo = m;
				continue;
			}
			if (l == 1 && (*b == 'Z' || *b == 'z') && have_time) {
				*has_off = 1;
				continue;
			}
			if ((l == 3 && (lower(b[0]) == 'u' || lower(b[0]) == 'g')) &&
			    ((lower(b[1]) == 't' && lower(b[2]) == 'c') ||
			     (lower(b[1]) == 'm' && lower(b[2]) == 't'))) {
				*has_off = 1;
				continue;
			}
			if (l == 2 && lower(b[1]) == 'm' && (lower(b[0]) == 'a' || lower(b[0]) == 'p')) {
				pm = lower(b[0]) == 'p';
				continue;
			}
			static const char *const wd[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
			int okw = 0;
			for (int i = 0; i < 7 && !okw; i++)
				okw = l >= 3 && lower(b[0]) == wd[i][0] && lower(b[1]) == wd[i][1] &&
				      lower(b[2]) == wd[i][2];
			if (okw || (l == 2 && ((lower(b[0]) == 's' && lower(b[1]) == 't') ||
					       (lower(b[0]) == 'n' && lower(b[1]) == 'd') ||
					       (lower(b[0]) == 'r' && lower(b[1]) == 'd') ||
					       (lower(b[0]) == 't' && lower(b[1]) == 'h'))))
				continue;
			if (l == 2 && lower(b[0]) == 'a' && lower(b[1]) == 't')
				continue;
			return -1;
		}
		if (ch == ' ' || ch == ',' || ch == '.' || ch == '-' || ch == '/' || ch == '\t' || ch == '(' ||
		    ch == ')') {
			c++;
			continue;
		}
		return -1;
	}
	if (*y < 0) {
		/* month word with day and year numbers */
		if (*mo < 0 || nn < 1)
			return -1;
		int di = -1, yi = -1;
		for (int i = 0; i < nn; i++) {
			if (numl[i] == 4 && yi < 0)
				yi = i;
			else if (numl[i] <= 2 && di < 0)
				di = i;
		}
		if (yi < 0 || di < 0)
			return -1;
		*y = nums[yi];
		*d = (int)nums[di];
	}
	if (pm >= 0) {
		if (*h == 12)
			*h = 0;
		if (pm)
			*h += 12;
	}
	if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *sec > 60)
		return -1;
	return 0;
}

int tpl_time_parse(struct rs *rs, struct tval v, int64_t *ms, int *offset_s, int *has_offset)
{
	*offset_s = 0;
	*has_offset = T_ABS;
	if (v.t == TV_INT) {
		if (v.i > 253402300799LL || v.i < -62135596800LL)
			return -1;
		*ms = v.i * 1000;
		return 0;
	}
	if (v.t == TV_FLOAT) {
		if (!(v.f < 253402300799.0 && v.f > -62135596800.0))
			return -1;
		*ms = (int64_t)(v.f * 1000.0);
		return 0;
	}
	if (v.t != TV_STR || v.s.n == 0 || v.s.n > 200)
		return -1;
	const char *s = v.s.p;
	size_t n = v.s.n;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if ((n == 3 && lower(s[0]) == 'n' && lower(s[1]) == 'o' && lower(s[2]) == 'w') ||
	    (n == 5 && strncasecmp(s, "today", 5) == 0)) {
		*ms = rs->now_ms;
		return 0;
	}
	size_t i = (n && s[0] == '-') ? 1 : 0;
	int digits = i < n;
	for (size_t k = i; k < n; k++)
		if (!is_digit((unsigned char)s[k]))
			digits = 0;
	if (digits) {
		if (n - i > 12)
			return -1;
		int64_t sec = num(s + i, n - i);
		*ms = (i ? -sec : sec) * 1000;
		return 0;
	}
	int64_t y;
	int mo, d, h, mi, sec, msec, off, has;
	if (parse_str(s, n, &y, &mo, &d, &h, &mi, &sec, &msec, &off, &has) < 0)
		return -1;
	if (y < 0 || y > 9999)
		return -1;
	int64_t days = clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = days * 86400000LL + (int64_t)h * 3600000 + (int64_t)mi * 60000 + (int64_t)sec * 1000 + msec -
	      (int64_t)off * 1000;
	*offset_s = off;
	*has_offset = has ? T_OFFSET : T_WALL;
	return 0;
}

/* ---- zones (ICU) ------------------------------------------------------------------- */

struct tzc {
	char name[64];
	UCalendar *cal;
	int valid;
	struct tzc *next;
};

void tpl_date_cache_free(struct rs *rs)
{
	struct tzc *z = rs->tz_cache;
	while (z) {
		struct tzc *n = z->next;
		if (z->cal)
			ucal_close(z->cal);
		free(z);
		z = n;
	}
	rs->tz_cache = NULL;
}

static struct tzc *zone(struct rs *rs, const char *tz)
{
	for (struct tzc *z = rs->tz_cache; z; z = z->next)
		if (strcmp(z->name, tz) == 0)
			return z;
	struct tzc *z = calloc(1, sizeof *z);
	if (!z)
		abort();
	snprintf(z->name, sizeof z->name, "%s", tz);
	z->next = rs->tz_cache;
	rs->tz_cache = z;
	UChar uz[64];
	UErrorCode st = U_ZERO_ERROR;
	int32_t ul = 0;
	if (strlen(tz) >= 63)
		return z;
	u_strFromUTF8(uz, 64, &ul, tz, -1, &st);
	if (U_FAILURE(st))
		return z;
	UChar canon[128];
	UBool sys = 0;
	st = U_ZERO_ERROR;
	ucal_getCanonicalTimeZoneID(uz, ul, canon, 128, &sys, &st);
	if (U_FAILURE(st) || !sys)
		return z;
	st = U_ZERO_ERROR;
	z->cal = ucal_open(uz, ul, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st)) {
		z->cal = NULL;
		return z;
	}
	z->valid = 1;
	return z;
}

/* ---- strftime ---------------------------------------------------------------------- */

struct tm_f {
	int64_t year;
	int mon, mday, hour, min, sec, msec, wday, yday;
	int off;
	int64_t epoch_s;
	char zname[32];
};

static void civil(int64_t days, int64_t *y, int *m, int *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yy + (*m <= 2);
}

static void fields_from(int64_t local_ms, struct tm_f *t)
{
	int64_t days = local_ms >= 0 ? local_ms / 86400000 : -((-local_ms + 86399999) / 86400000);
	int64_t rem = local_ms - days * 86400000;
	civil(days, &t->year, &t->mon, &t->mday);
	t->hour = (int)(rem / 3600000);
	t->min = (int)(rem / 60000 % 60);
	t->sec = (int)(rem / 1000 % 60);
	t->msec = (int)(rem % 1000);
	int64_t w = (days + 4) % 7;
	t->wday = (int)(w < 0 ? w + 7 : w);
	t->yday = (int)(days - clock_days_from_civil(t->year, 1, 1));
}

static int days_in_year(int64_t y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 366 : 365;
}

/* ISO 8601 week: the week (Monday first) holding the year's first Thursday
 * is week 1; the week-year is the year of that week's Thursday. */
static void iso_week(const struct tm_f *t, int64_t *gy, int *wk)
{
	int wd = (t->wday + 6) % 7;
	int thu = t->yday - wd + 3;
	int64_t y = t->year;
	if (thu < 0) {
		y--;
		thu += days_in_year(y);
	} else if (thu >= days_in_year(y)) {
		thu -= days_in_year(y);
		y++;
	}
	*gy = y;
	*wk = thu / 7 + 1;
}

static void emit(struct buf *b, const char *s, size_t n, int width, char pad, int upper, int lpad_num)
{
	(void)lpad_num;
	for (int i = (int)n; i < width; i++)
		buf_addch(b, pad);
	if (!upper) {
		buf_add(b, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		buf_addch(b, (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i]);
}

static void emit_num(struct buf *b, int64_t v, int defw, char defpad, int width, char pad, int nopad)
{
	char tmp[32];
	int neg = v < 0;
	int n = snprintf(tmp, sizeof tmp, "%lld", (long long)(neg ? -v : v));
	int w = width >= 0 ? width : defw;
	char p = pad ? pad : defpad;
	if (nopad)
		w = 0;
	if (neg)
		buf_addch(b, '-');
	for (int i = n + neg; i < w; i++)
		buf_addch(b, p);
	buf_add(b, tmp, (size_t)n);
}

static void fmt(struct buf *b, const char *f, size_t fn, const struct tm_f *t, int depth)
{
	for (size_t i = 0; i < fn; i++) {
		if (f[i] != '%' || i + 1 >= fn) {
			buf_addch(b, f[i]);
			continue;
		}
		size_t start = i++;
		int nopad = 0, upper = 0, swap = 0, colons = 0, width = -1;
		char pad = 0;
		for (; i < fn; i++) {
			if (f[i] == '-')
				nopad = 1;
			else if (f[i] == '_')
				pad = ' ';
			else if (f[i] == '0')
				pad = '0';
			else if (f[i] == '^')
				upper = 1;
			else if (f[i] == '#')
				swap = 1;
			else
				break;
		}
		while (i < fn && f[i] >= '1' && f[i] <= '9' && width < 0) {
			width = 0;
			while (i < fn && f[i] >= '0' && f[i] <= '9') {
				width = width * 10 + (f[i] - '0');
				if (width > 256)
					width = 256;
				i++;
			}
		}
		while (i < fn && f[i] == ':') {
			colons++;
			i++;
		}
		if (i >= fn) {
			buf_add(b, f + start, fn - start);
			return;
		}
		char c = f[i];
		const char *s = NULL;
		char tmp[64];
		int h12 = t->hour % 12 == 0 ? 12 : t->hour % 12;
		switch (c) {
		case 'Y': emit_num(b, t->year, 1, '0', width, pad, nopad); break;
		case 'C': emit_num(b, t->year / 100, 2, '0', width, pad, nopad); break;
		case 'y': emit_num(b, ((t->year % 100) + 100) % 100, 2, '0', width, pad, nopad); break;
		case 'm': emit_num(b, t->mon, 2, '0', width, pad, nopad); break;
		case 'd': emit_num(b, t->mday, 2, '0', width, pad, nopad); break;
		case 'e': emit_num(b, t->mday, 2, ' ', width, pad, nopad); break;
		case 'j': emit_num(b, t->yday + 1, 3, '0', width, pad, nopad); break;
		case 'H': emit_num(b, t->hour, 2, '0', width, pad, nopad); break;
		case 'k': emit_num(b, t->hour, 2, ' ', width, pad, nopad); break;
		case 'I': emit_num(b, h12, 2, '0', width, pad, nopad); break;
		case 'l': emit_num(b, h12, 2, ' ', width, pad, nopad); break;
		case 'M': emit_num(b, t->min, 2, '0', width, pad, nopad); break;
		case 'S': emit_num(b, t->sec, 2, '0', width, pad, nopad); break;
		case 'L':
		case 'N': {
			int w = width > 0 ? width : (c == 'L' ? 3 : 9);
			snprintf(tmp, sizeof tmp, "%03d000000000000000000000", t->msec);
			if (w > 24)
				w = 24;
			buf_add(b, tmp, (size_t)w);
			break;
		}
		case 's': emit_num(b, t->epoch_s, 1, '0', width, pad, nopad); break;
		case 'u': emit_num(b, t->wday == 0 ? 7 : t->wday, 1, '0', width, pad, nopad); break;
		case 'w': emit_num(b, t->wday, 1, '0', width, pad, nopad); break;
		case 'U': emit_num(b, (t->yday + 7 - t->wday) / 7, 2, '0', width, pad, nopad); break;
		case 'W': emit_num(b, (t->yday + 7 - (t->wday + 6) % 7) / 7, 2, '0', width, pad, nopad); break;
		case 'G':
		case 'g':
		case 'V': {
			int64_t gy;
			int wk;
			iso_week(t, &gy, &wk);
			if (c == 'G')
				emit_num(b, gy, 1, '0', width, pad, nopad);
			else if (c == 'g')
				emit_num(b, ((gy % 100) + 100) % 100, 2, '0', width, pad, nopad);
			else
				emit_num(b, wk, 2, '0', width, pad, nopad);
			break;
		}
		case 'B':
		case 'b':
		case 'h':
			s = mon_cap[t->mon - 1];
			emit(b, s, c == 'B' ? strlen(s) : 3, width, pad ? pad : ' ', upper || swap, 0);
			break;
		case 'A':
		case 'a':
			s = day_cap[t->wday];
			emit(b, s, c == 'A' ? strlen(s) : 3, width, pad ? pad : ' ', upper || swap, 0);
			break;
		case 'p':
		case 'P':
			s = t->hour < 12 ? (c == 'p' ? "AM" : "am") : (c == 'p' ? "PM" : "pm");
			if (swap && c == 'p')
				s = t->hour < 12 ? "am" : "pm";
			emit(b, s, 2, width, pad ? pad : ' ', upper, 0);
			break;
		case 'z': {
			int o = t->off, neg = o < 0;
			if (neg)
				o = -o;
			if (colons == 1)
				snprintf(tmp, sizeof tmp, "%c%02d:%02d", neg ? '-' : '+', o / 3600, o / 60 % 60);
			else if (colons >= 2)
				snprintf(tmp, sizeof tmp, "%c%02d:%02d:%02d", neg ? '-' : '+', o / 3600, o / 60 % 60,
					 o % 60);
			else
				snprintf(tmp, sizeof tmp, "%c%02d%02d", neg ? '-' : '+', o / 3600, o / 60 % 60);
			emit(b, tmp, strlen(tmp), width, pad ? pad : '0', 0, 0);
			break;
		}
		case 'Z': emit(b, t->zname, strlen(t->zname), width, pad ? pad : ' ', upper, 0); break;
		case 'n': buf_addch(b, '\n'); break;
		case 't': buf_addch(b, '\t'); break;
		case '%': buf_addch(b, '%'); break;
		case 'c':
		case 'D':
		case 'x':
		case 'F':
		case 'X':
		case 'T':
		case 'r':
		case 'R':
		case 'v':
		case '+': {
			const char *sub = c == 'c'		   ? "%a %b %e %H:%M:%S %Y"
					  : (c == 'D' || c == 'x') ? "%m/%d/%y"
					  : c == 'F'		   ? "%Y-%m-%d"
					  : (c == 'X' || c == 'T') ? "%H:%M:%S"
					  : c == 'r'		   ? "%I:%M:%S %p"
					  : c == 'R'		   ? "%H:%M"
					  : c == 'v'		   ? "%e-%^b-%Y"
								   : "%a %b %e %H:%M:%S %Z %Y";
			if (depth < 2) {
				struct buf inner;
				buf_init(&inner, 4096);
				fmt(&inner, sub, strlen(sub), t, depth + 1);
				emit(b, inner.ptr, inner.len, width, pad ? pad : ' ', upper, 0);
				buf_release(&inner);
			}
			break;
		}
		default: buf_add(b, f + start, i + 1 - start);
		}
	}
}

int tpl_strftime(struct rs *rs, struct buf *b, const char *f, size_t fn, int64_t ms, const char *tz, int offset_s,
		 int has_offset)
{
	struct tm_f t;
	memset(&t, 0, sizeof t);
	if (tz) {
		struct tzc *z = zone(rs, tz);
		if (!z->valid)
			return -1;
		UErrorCode st = U_ZERO_ERROR;
		if (has_offset == T_WALL) {
			/* a wall time without zone: it is in tz */
			int64_t wall = ms;
			ucal_setMillis(z->cal, (UDate)wall, &st);
			int32_t o = ucal_get(z->cal, UCAL_ZONE_OFFSET, &st) + ucal_get(z->cal, UCAL_DST_OFFSET, &st);
			ucal_setMillis(z->cal, (UDate)(wall - o), &st);
			o = ucal_get(z->cal, UCAL_ZONE_OFFSET, &st) + ucal_get(z->cal, UCAL_DST_OFFSET, &st);
			ms = wall - o;
		}
		ucal_setMillis(z->cal, (UDate)ms, &st);
		int32_t o = ucal_get(z->cal, UCAL_ZONE_OFFSET, &st) + ucal_get(z->cal, UCAL_DST_OFFSET, &st);
		if (U_FAILURE(st))
			return -1;
		t.off = o / 1000;
		fields_from(ms + o, &t);
		UChar un[32];
		st = U_ZERO_ERROR;
		int dst = ucal_inDaylightTime(z->cal, &st);
		st = U_ZERO_ERROR;
		int32_t l = ucal_getTimeZoneDisplayName(z->cal, dst ? UCAL_SHORT_DST : UCAL_SHORT_STANDARD, "en_US", un,
							32, &st);
		if (U_SUCCESS(st)) {
			int32_t ol = 0;
			u_strToUTF8(t.zname, sizeof t.zname, &ol, un, l, &st);
			if (U_FAILURE(st))
				t.zname[0] = '\0';
		}
	} else {
		t.off = has_offset == T_OFFSET ? offset_s : 0;
		fields_from(ms + (int64_t)t.off * 1000, &t);
		if (t.off == 0)
			snprintf(t.zname, sizeof t.zname, "UTC");
		else
			snprintf(t.zname, sizeof t.zname, "%c%02d:%02d", t.off < 0 ? '-' : '+', abs(t.off) / 3600,
				 abs(t.off) / 60 % 60);
	}
	t.epoch_s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	fmt(b, f, fn, &t, 0);
	return 0;
}
