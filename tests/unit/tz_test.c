/* tz_test.c — local-time arithmetic (core/tz): zones, DST gaps and repeats,
 * quiet hours, weekday waits, date triggers, cron. Expected instants are
 * written as RFC 3339 with the local offset, parsed by core/clock. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/tz.h"

#define NY  "America/New_York"
#define KST "Asia/Seoul"

static int64_t T(const char *rfc3339)
{
	int64_t ms = 0;
	cr_assert_eq(clock_parse_rfc3339(rfc3339, &ms), 0, "bad test time %s", rfc3339);
	return ms;
}

/* Asserts got == want and shows both as RFC 3339 when not. */
#define assert_at(got, want_str)                                                                                       \
	do {                                                                                                           \
		int64_t want_ = T(want_str);                                                                           \
		char g_[CLOCK_RFC3339_LEN], w_[CLOCK_RFC3339_LEN];                                                     \
		clock_format_rfc3339((got), g_);                                                                       \
		clock_format_rfc3339(want_, w_);                                                                       \
		cr_assert_eq((got), want_, "got %s, want %s (%s)", g_, w_, want_str);                                  \
	} while (0)

static int64_t next_local(const char *tz, const char *after, int minute, unsigned mask)
{
	int64_t out = 0;
	cr_assert_eq(tz_next_local(tz, T(after), minute, mask, &out), 0);
	return out;
}

static int64_t quiet(const char *tz, const char *at, int start, int end)
{
	int64_t out = 0;
	cr_assert_eq(tz_quiet_release(tz, T(at), start, end, &out), 0);
	return out;
}

static int64_t add_days(const char *tz, const char *at, int days, int minute)
{
	int64_t out = 0;
	cr_assert_eq(tz_add_local_days(tz, T(at), days, minute, &out), 0);
	return out;
}

static struct tz_cron cron(const char *expr)
{
	struct tz_cron c;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(tz_cron_parse(expr, &c, &err), 0, "%s: %s", expr, err.message);
	return c;
}

static int64_t cron_next(const char *expr, const char *tz, const char *after)
{
	struct tz_cron c = cron(expr);
	int64_t out = 0;
	cr_assert_eq(tz_cron_next(&c, tz, T(after), &out), 0, "%s after %s", expr, after);
	return out;
}

/* ---- zones ---------------------------------------------------------------------- */

Test(tz, known_and_unknown_zones)
{
	cr_assert(tz_valid(KST));
	cr_assert(tz_valid(NY));
	cr_assert(tz_valid("UTC"));
	cr_assert(tz_valid("Etc/UTC"));
	cr_assert(tz_valid("US/Eastern"), "links are zones too");
	cr_assert_not(tz_valid("Mars/Olympus_Mons"));
	cr_assert_not(tz_valid("asia/seoul"), "ids are case-sensitive");
	cr_assert_not(tz_valid("+09:00"));
	cr_assert_not(tz_valid("GMT+09:00"), "custom offsets are not zones");
	cr_assert_not(tz_valid(""));
	cr_assert_not(tz_valid(NULL));
	cr_assert_not(tz_valid("Asia/Seoul\xc3\xa9"));
	char longid[200];
	memset(longid, 'A', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	cr_assert_not(tz_valid(longid));
}

Test(tz, unknown_zone_is_einval_and_writes_nothing)
{
	const char *bad = "Nowhere/Land";
	int64_t now = T("2026-03-02T10:00:00+09:00");
	int32_t off = 7;
	struct tz_parts p = {.year = 7};
	int64_t out = 7;
	cr_assert_eq(tz_offset_ms(bad, now, &off), CAIRN_EINVAL);
	cr_assert_eq(tz_local_parts(bad, now, &p), CAIRN_EINVAL);
	cr_assert_eq(tz_next_local(bad, now, 540, 0, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_quiet_release(bad, now, 1260, 480, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_add_local_days(bad, now, 1, -1, &out), CAIRN_EINVAL);
	struct tz_cron c = cron("0 10 * * 1");
	cr_assert_eq(tz_cron_next(&c, bad, now, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_cron_next(&c, NULL, now, &out), CAIRN_EINVAL);
	cr_assert_eq(off, 7);
	cr_assert_eq(p.year, 7);
	cr_assert_eq(out, 7);
}

Test(tz, arguments_out_of_range_are_einval)
{
	int64_t now = T("2026-03-02T10:00:00+09:00");
	int64_t out;
	struct tz_parts p;
	cr_assert_eq(tz_next_local(KST, now, 1440, 0, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_next_local(KST, now, -2, 0, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_next_local(KST, now, 540, 0x80, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_quiet_release(KST, now, 1440, 480, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_quiet_release(KST, now, 1260, -1, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_add_local_days(KST, now, 1, 1440, &out), CAIRN_EINVAL);
	cr_assert_eq(tz_local_parts(KST, TZ_MAX_MS + 1, &p), CAIRN_EINVAL);
	cr_assert_eq(tz_local_parts(KST, TZ_MIN_MS - 1, &p), CAIRN_EINVAL);
	cr_assert_eq(tz_local_parts("UTC", TZ_MIN_MS, &p), 0);
	cr_assert_eq(p.year, 1);
	cr_assert_eq(tz_local_parts("UTC", TZ_MAX_MS, &p), 0);
	cr_assert_eq(p.year, 9999);
	cr_assert_eq(TZ_MIN_MS, clock_days_from_civil(1, 1, 2) * 86400000);
	cr_assert_eq(TZ_MAX_MS, clock_days_from_civil(9999, 12, 31) * 86400000);
	cr_assert_eq(tz_add_local_days("UTC", TZ_MAX_MS, 1, -1, &out), CAIRN_EINVAL, "past year 9999");
}

/* ---- offsets and local parts ----------------------------------------------------------- */

Test(tz, seoul_is_plus_nine_all_year)
{
	int32_t off;
	cr_assert_eq(tz_offset_ms(KST, T("2026-01-15T00:00:00Z"), &off), 0);
	cr_assert_eq(off, 9 * 3600000);
	cr_assert_eq(tz_offset_ms(KST, T("2026-07-15T00:00:00Z"), &off), 0);
	cr_assert_eq(off, 9 * 3600000);

	struct tz_parts p;
	cr_assert_eq(tz_local_parts(KST, T("2026-03-01T15:30:45.250Z"), &p), 0);
	cr_assert_eq(p.year, 2026);
	cr_assert_eq(p.month, 3);
	cr_assert_eq(p.day, 2);
	cr_assert_eq(p.hour, 0);
	cr_assert_eq(p.minute, 30);
	cr_assert_eq(p.second, 45);
	cr_assert_eq(p.millisecond, 250);
	cr_assert_eq(p.weekday, 1, "2026-03-02 is a Monday");
	cr_assert_eq(p.minute_of_day, 30);
}

Test(tz, utc)
{
	int32_t off = 1;
	cr_assert_eq(tz_offset_ms("UTC", T("2026-07-01T00:00:00Z"), &off), 0);
	cr_assert_eq(off, 0);
	struct tz_parts p;
	cr_assert_eq(tz_local_parts("UTC", T("2026-12-31T23:59:59.999Z"), &p), 0);
	cr_assert_eq(p.year, 2026);
	cr_assert_eq(p.month, 12);
	cr_assert_eq(p.day, 31);
	cr_assert_eq(p.minute_of_day, 1439);
	cr_assert_eq(p.weekday, 4, "a Thursday");
	assert_at(next_local("UTC", "2026-03-02T10:00:00Z", 9 * 60, 0), "2026-03-03T09:00:00Z");
	assert_at(add_days("UTC", "2024-02-28T06:00:00Z", 1, -1), "2024-02-29T06:00:00Z");
	/* proleptic Gregorian far back, no Julian cut-over */
	struct tz_parts q;
	cr_assert_eq(tz_local_parts("UTC", clock_days_from_civil(1000, 3, 1) * 86400000, &q), 0);
	cr_assert_eq(q.year, 1000);
	cr_assert_eq(q.month, 3);
	cr_assert_eq(q.day, 1);
	int64_t out;
	cr_assert_eq(tz_add_local_days("UTC", clock_days_from_civil(1000, 2, 28) * 86400000, 1, -1, &out), 0);
	cr_assert_eq(out, clock_days_from_civil(1000, 3, 1) * 86400000, "1000 was not a Gregorian leap year");
}

Test(tz, new_york_offsets_across_both_2026_changes)
{
	int32_t off;
	/* spring forward: 02:00 EST -> 03:00 EDT on 2026-03-08 (07:00Z) */
	cr_assert_eq(tz_offset_ms(NY, T("2026-03-08T06:59:59.999Z"), &off), 0);
	cr_assert_eq(off, -5 * 3600000);
	cr_assert_eq(tz_offset_ms(NY, T("2026-03-08T07:00:00Z"), &off), 0);
	cr_assert_eq(off, -4 * 3600000);
	/* fall back: 02:00 EDT -> 01:00 EST on 2026-11-01 (06:00Z) */
	cr_assert_eq(tz_offset_ms(NY, T("2026-11-01T05:59:59.999Z"), &off), 0);
	cr_assert_eq(off, -4 * 3600000);
	cr_assert_eq(tz_offset_ms(NY, T("2026-11-01T06:00:00Z"), &off), 0);
	cr_assert_eq(off, -5 * 3600000);

	struct tz_parts p;
	cr_assert_eq(tz_local_parts(NY, T("2026-03-08T07:00:00Z"), &p), 0);
	cr_assert_eq(p.hour, 3, "02:xx never shows on the clock");
	cr_assert_eq(p.minute, 0);
	/* the repeated hour: both instants read 01:30 */
	cr_assert_eq(tz_local_parts(NY, T("2026-11-01T05:30:00Z"), &p), 0);
	cr_assert_eq(p.minute_of_day, 90);
	cr_assert_eq(tz_local_parts(NY, T("2026-11-01T06:30:00Z"), &p), 0);
	cr_assert_eq(p.minute_of_day, 90);
	cr_assert_eq(p.day, 1);
	cr_assert_eq(p.weekday, 0);
}

/* ---- tz_next_local ------------------------------------------------------------------- */

Test(tz, next_local_time_in_seoul)
{
	assert_at(next_local(KST, "2026-03-02T08:00:00+09:00", 540, 0), "2026-03-02T09:00:00+09:00");
	assert_at(next_local(KST, "2026-03-02T09:00:00+09:00", 540, 0), "2026-03-02T09:00:00+09:00");
	assert_at(next_local(KST, "2026-03-02T09:00:00.001+09:00", 540, 0), "2026-03-03T09:00:00+09:00");
	/* the local date, not the UTC one: 23:30Z on Mar 1 is 08:30 on Mar 2 in Seoul */
	assert_at(next_local(KST, "2026-03-01T23:30:00Z", 540, 0), "2026-03-02T09:00:00+09:00");
}

Test(tz, next_local_weekday_masks)
{
	/* from Wednesday 2026-03-04 to the next Monday 09:00 */
	assert_at(next_local(KST, "2026-03-04T12:00:00+09:00", 540, TZ_MON), "2026-03-09T09:00:00+09:00");
	assert_at(next_local(KST, "2026-03-09T08:00:00+09:00", 540, TZ_MON), "2026-03-09T09:00:00+09:00");
	assert_at(next_local(KST, "2026-03-09T09:00:01+09:00", 540, TZ_MON), "2026-03-16T09:00:00+09:00");
	/* Friday after 10:00 -> Monday */
	assert_at(next_local(KST, "2026-03-06T11:00:00+09:00", 600, TZ_WEEKDAYS), "2026-03-09T10:00:00+09:00");
	assert_at(next_local(KST, "2026-03-06T09:00:00+09:00", 600, TZ_WEEKDAYS), "2026-03-06T10:00:00+09:00");
	/* any time on a weekend day */
	assert_at(next_local(KST, "2026-03-04T12:00:00+09:00", -1, TZ_SAT | TZ_SUN), "2026-03-07T00:00:00+09:00");
	assert_at(next_local(KST, "2026-03-07T13:00:00+09:00", -1, TZ_SAT | TZ_SUN), "2026-03-07T13:00:00+09:00");
	assert_at(next_local(KST, "2026-03-04T12:00:00+09:00", -1, TZ_ANY_DAY), "2026-03-04T12:00:00+09:00");
	/* weekdays are local: Sunday 20:00Z is Monday 05:00 in Seoul */
	assert_at(next_local(KST, "2026-03-08T20:00:00Z", -1, TZ_MON), "2026-03-08T20:00:00Z");
}

Test(tz, next_local_spring_forward_gap)
{
	/* 02:30 does not exist on 2026-03-08 in New York: the end of the gap */
	assert_at(next_local(NY, "2026-03-08T00:00:00-05:00", 150, 0), "2026-03-08T03:00:00-04:00");
	assert_at(next_local(NY, "2026-03-08T03:00:00-04:00", 150, 0), "2026-03-08T03:00:00-04:00");
	assert_at(next_local(NY, "2026-03-08T03:10:00-04:00", 150, 0), "2026-03-09T02:30:00-04:00");
	assert_at(next_local(NY, "2026-03-07T03:00:00-05:00", 150, 0), "2026-03-08T03:00:00-04:00");
	/* a time after the gap keeps its wall time under the new offset */
	assert_at(next_local(NY, "2026-03-08T00:00:00-05:00", 600, 0), "2026-03-08T10:00:00-04:00");
	/* start of a day that begins with a gap in another zone: Santiago on 2026-09-06 springs 00:00 -> 01:00 */
	int64_t out;
	cr_assert_eq(tz_next_local("America/Santiago", T("2026-09-05T12:00:00-04:00"), -1, TZ_SUN, &out), 0);
	assert_at(out, "2026-09-06T01:00:00-03:00");
}

Test(tz, next_local_fall_back_repeat_is_the_first_occurrence)
{
	assert_at(next_local(NY, "2026-11-01T00:00:00-04:00", 90, 0), "2026-11-01T01:30:00-04:00");
	/* after the first 01:30 the day's 01:30 is spent: the next is tomorrow, not 01:30 EST */
	assert_at(next_local(NY, "2026-11-01T01:45:00-04:00", 90, 0), "2026-11-02T01:30:00-05:00");
	assert_at(next_local(NY, "2026-11-01T01:10:00-05:00", 90, 0), "2026-11-02T01:30:00-05:00");
	assert_at(next_local(NY, "2026-10-31T12:00:00-04:00", 9 * 60, TZ_SUN), "2026-11-01T09:00:00-05:00");
}

/* ---- quiet hours ------------------------------------------------------------------- */

Test(tz, quiet_hours_in_seoul_wrap_midnight)
{
	const int s = TZ_QUIET_START_DEFAULT, e = TZ_QUIET_END_DEFAULT;
	assert_at(quiet(KST, "2026-03-02T20:59:00+09:00", s, e), "2026-03-02T20:59:00+09:00");
	assert_at(quiet(KST, "2026-03-02T20:59:59.999+09:00", s, e), "2026-03-02T20:59:59.999+09:00");
	assert_at(quiet(KST, "2026-03-02T21:00:00+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-02T23:59:59.999+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-03T00:00:00+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-03T03:00:00+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-03T07:59:59+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-03T08:00:00+09:00", s, e), "2026-03-03T08:00:00+09:00");
	assert_at(quiet(KST, "2026-03-03T12:00:00+09:00", s, e), "2026-03-03T12:00:00+09:00");
	/* in UTC terms 12:00Z is 21:00 KST */
	assert_at(quiet(KST, "2026-03-02T12:00:00Z", s, e), "2026-03-02T23:00:00Z");
}

Test(tz, quiet_hours_plain_and_empty_windows)
{
	assert_at(quiet(KST, "2026-03-02T12:30:00+09:00", 720, 780), "2026-03-02T13:00:00+09:00");
	assert_at(quiet(KST, "2026-03-02T13:00:00+09:00", 720, 780), "2026-03-02T13:00:00+09:00");
	assert_at(quiet(KST, "2026-03-02T11:59:00+09:00", 720, 780), "2026-03-02T11:59:00+09:00");
	assert_at(quiet(KST, "2026-03-02T22:00:00+09:00", 600, 600), "2026-03-02T22:00:00+09:00");
}

Test(tz, quiet_hours_across_dst)
{
	/* the window ends at 08:00 local: EDT the night before, EST the morning of 2026-11-01 */
	assert_at(quiet(NY, "2026-10-31T21:00:00-04:00", 1260, 480), "2026-11-01T08:00:00-05:00");
	assert_at(quiet(NY, "2026-03-07T22:00:00-05:00", 1260, 480), "2026-03-08T08:00:00-04:00");
	/* an end time inside the spring gap: when the gap ends */
	assert_at(quiet(NY, "2026-03-08T01:30:00-05:00", 60, 150), "2026-03-08T03:00:00-04:00");
	/* inside the second pass of the repeated hour: that pass's end */
	assert_at(quiet(NY, "2026-11-01T01:10:00-04:00", 60, 90), "2026-11-01T01:30:00-04:00");
	assert_at(quiet(NY, "2026-11-01T01:10:00-05:00", 60, 90), "2026-11-01T01:30:00-05:00");
}

/* ---- date triggers ------------------------------------------------------------------ */

Test(tz, add_local_days_for_date_triggers)
{
	/* 3 days before trial_ends_at at 10:00 local; the local date counts (Mar 5 05:00 KST = Mar 4 20:00Z) */
	assert_at(add_days(KST, "2026-03-04T20:00:00Z", -3, 600), "2026-03-02T10:00:00+09:00");
	assert_at(add_days(KST, "2026-03-05T09:00:00+09:00", 7, -1), "2026-03-12T09:00:00+09:00");
	assert_at(add_days(KST, "2026-02-27T09:00:00+09:00", 2, -1), "2026-03-01T09:00:00+09:00");
	assert_at(add_days(KST, "2026-03-05T09:15:30.125+09:00", 0, -1), "2026-03-05T09:15:30.125+09:00");
	assert_at(add_days(KST, "2026-03-05T09:15:30+09:00", 0, 0), "2026-03-05T00:00:00+09:00");
	assert_at(add_days(KST, "2026-12-31T23:00:00+09:00", 1, -1), "2027-01-01T23:00:00+09:00");
}

Test(tz, add_local_days_across_dst_keeps_the_wall_time)
{
	/* a local day is 23 hours long on 2026-03-08 and 25 on 2026-11-01 */
	assert_at(add_days(NY, "2026-03-07T10:00:00-05:00", 1, -1), "2026-03-08T10:00:00-04:00");
	assert_at(add_days(NY, "2026-10-31T12:00:00-04:00", 1, -1), "2026-11-01T12:00:00-05:00");
	assert_at(add_days(NY, "2026-11-03T10:00:00-05:00", -3, 600), "2026-10-31T10:00:00-04:00");
	assert_at(add_days(NY, "2026-03-10T18:00:00-04:00", -5, 600), "2026-03-05T10:00:00-05:00");
	/* into the gap and the repeat */
	assert_at(add_days(NY, "2026-03-07T02:30:00-05:00", 1, -1), "2026-03-08T03:00:00-04:00");
	assert_at(add_days(NY, "2026-10-31T01:30:00-04:00", 1, -1), "2026-11-01T01:30:00-04:00");
}

/* ---- cron ---------------------------------------------------------------------------- */

Test(tz_cron, parses_fields_into_bits)
{
	struct tz_cron c = cron("*/15 9-17 * * mon-fri");
	cr_assert_eq(c.minute, (1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45));
	cr_assert_eq(c.hour, 0x3fe00u);
	cr_assert_eq(c.mday, 0xfffffffeu);
	cr_assert_eq(c.month, 0x1ffeu);
	cr_assert_eq(c.wday, TZ_WEEKDAYS);
	cr_assert_eq(c.flags, TZ_CRON_MDAY_STAR);

	cr_assert_eq(cron("0 0 * * 0").wday, TZ_SUN);
	cr_assert_eq(cron("0 0 * * 7").wday, TZ_SUN, "7 is Sunday too");
	cr_assert_eq(cron("0 0 * * 1-7").wday, 0x7f);
	cr_assert_eq(cron("0 0 * * mon-sun").wday, 0x7f, "a range may end on Sunday");
	cr_assert_eq(cron("0 0 * * fri-0").wday, TZ_FRI | TZ_SAT | TZ_SUN);
	cr_assert_eq(cron("0 0 * * sun-sun").wday, TZ_SUN);
	cr_assert_eq(cron("0 0 * * sun-tue").wday, TZ_SUN | TZ_MON | TZ_TUE);
	cr_assert_eq(cron("0 0 * * SAT,Sun").wday, TZ_SAT | TZ_SUN);
	cr_assert_eq(cron("0 0 * jan-mar,Dec *").month, 0x100eu);
	cr_assert_eq(cron("1-30/5 * * * *").minute,
		     (1ull << 1) | (1ull << 6) | (1ull << 11) | (1ull << 16) | (1ull << 21) | (1ull << 26));
	cr_assert_eq(cron("0/20 * * * *").minute, (1ull << 0) | (1ull << 20) | (1ull << 40));
	cr_assert_eq(cron("0 0 * * 1/2").wday, TZ_MON | TZ_WED | TZ_FRI, "an open weekday range ends on Saturday");
	cr_assert_eq(cron("0 0 * * */2").wday, TZ_SUN | TZ_TUE | TZ_THU | TZ_SAT);
	cr_assert_eq(cron("0 0 * * 5-7").wday, TZ_FRI | TZ_SAT | TZ_SUN);
	cr_assert_eq(cron("\t0  10 1,15 * *\t").mday, (1u << 1) | (1u << 15));
	cr_assert_eq(cron("0 10 1,15 * 1").flags, 0, "both day fields restricted");
	cr_assert_eq(cron("0 10 */2 * 1").flags, TZ_CRON_MDAY_STAR, "a starred step counts as '*' (Vixie)");
}

static void assert_cron_error(const char *expr, const char *needle)
{
	struct tz_cron c = {.minute = 7};
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(tz_cron_parse(expr, &c, &err), CAIRN_EUNPROC, "%s should be refused", expr);
	cr_assert_eq(err.code, CAIRN_EUNPROC);
	cr_assert_str_eq(err.slug, "invalid_cron");
	cr_assert(strstr(err.message, needle), "%s: message \"%s\" lacks \"%s\"", expr, err.message, needle);
	cr_assert_eq(c.minute, 7, "out untouched on error");
}

Test(tz_cron, invalid_expressions_say_what_to_fix)
{
	assert_cron_error("0 10 * *", "has 5 fields");
	assert_cron_error("0 10 * * 1 2026", "has 6");
	assert_cron_error("", "has 0");
	assert_cron_error("   ", "has 0");
	assert_cron_error("60 * * * *", "minute field \"60\": 60 is out of range; this field takes 0-59");
	assert_cron_error("0 24 * * *", "hour field \"24\": 24 is out of range; this field takes 0-23");
	assert_cron_error("0 0 0 * *", "day-of-month field \"0\": 0 is out of range; this field takes 1-31");
	assert_cron_error("0 0 * 13 *", "this field takes 1-12");
	assert_cron_error("0 0 * * 8", "day-of-week field \"8\": 8 is out of range; this field takes 0-7");
	assert_cron_error("0 22-2 * * *", "the range 22-2 goes backwards; split it in two, as in \"22-23,0-2\"");
	assert_cron_error("*/0 * * * *", "a step must be a whole number of at least 1");
	assert_cron_error("*/ * * * *", "a step must be");
	assert_cron_error("0 0 * * funday", "unknown weekday \"funday\"");
	assert_cron_error("0 0 * foo *", "unknown month \"foo\"; use 1-12 or jan-dec");
	assert_cron_error("mon * * * *", "\"mon\" is not a number; this field takes 0-59");
	assert_cron_error("1,,2 * * * *", "an empty list item");
	assert_cron_error("1, * * * *", "an empty list item");
	assert_cron_error("1-2-3 * * * *", "unexpected \"-\"");
	assert_cron_error("? * * * *", "expected a number or \"*\", found \"?\"");
	assert_cron_error("1- * * * *", "found nothing");
	assert_cron_error("99999 * * * *", "9999... is out of range; this field takes 0-59");
	assert_cron_error("0 0 30 2 *", "never matches");
	assert_cron_error("0 0 31 4,6,9,11 *", "never matches");
	char longexpr[TZ_CRON_MAX_LEN + 10];
	memset(longexpr, '1', sizeof longexpr - 1);
	longexpr[sizeof longexpr - 1] = '\0';
	assert_cron_error(longexpr, "at most 256");

	struct tz_cron c;
	struct cairn_err err = CAIRN_ERR_INIT;
	cr_assert_eq(tz_cron_parse(NULL, &c, &err), CAIRN_EINVAL);
	cr_assert_eq(tz_cron_parse("0 0 31 4,5 *", &c, NULL), 0, "May has a 31st");
	cr_assert_eq(tz_cron_parse("0 0 30 2 1", &c, NULL), 0, "both restricted: any Monday in February");
}

Test(tz_cron, weekly_monday_at_ten)
{
	assert_at(cron_next("0 10 * * 1", KST, "2026-03-04T12:00:00+09:00"), "2026-03-09T10:00:00+09:00");
	assert_at(cron_next("0 10 * * 1", KST, "2026-03-09T09:59:59.999+09:00"), "2026-03-09T10:00:00+09:00");
	/* strictly after */
	assert_at(cron_next("0 10 * * 1", KST, "2026-03-09T10:00:00+09:00"), "2026-03-16T10:00:00+09:00");
	assert_at(cron_next("0 10 * * 1", "UTC", "2026-03-09T10:00:00+09:00"), "2026-03-09T10:00:00Z");
	assert_at(cron_next("0 10 * * 1", NY, "2026-03-04T12:00:00-05:00"), "2026-03-09T10:00:00-04:00");
}

Test(tz_cron, business_hours_every_quarter_hour)
{
	const char *e = "*/15 9-17 * * mon-fri";
	assert_at(cron_next(e, KST, "2026-03-09T09:07:00+09:00"), "2026-03-09T09:15:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-09T09:15:00+09:00"), "2026-03-09T09:30:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-09T17:45:00+09:00"), "2026-03-10T09:00:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-06T17:50:00+09:00"), "2026-03-09T09:00:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-07T03:00:00+09:00"), "2026-03-09T09:00:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-09T08:59:59+09:00"), "2026-03-09T09:00:00+09:00");
}

Test(tz_cron, first_of_the_month)
{
	assert_at(cron_next("0 0 1 * *", KST, "2026-03-02T10:00:00+09:00"), "2026-04-01T00:00:00+09:00");
	assert_at(cron_next("0 0 1 * *", KST, "2026-12-15T00:00:00+09:00"), "2027-01-01T00:00:00+09:00");
	assert_at(cron_next("0 0 1 * *", NY, "2026-10-15T00:00:00-04:00"), "2026-11-01T00:00:00-04:00");
	assert_at(cron_next("0 0 1 * *", NY, "2026-11-01T00:00:00-04:00"), "2026-12-01T00:00:00-05:00");
	assert_at(cron_next("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
	assert_at(cron_next("0 9 31 * *", KST, "2026-04-01T00:00:00+09:00"), "2026-05-31T09:00:00+09:00");
}

Test(tz_cron, both_day_fields_restricted_means_either)
{
	/* the 10th of the month or any Friday */
	const char *e = "0 12 10 * 5";
	assert_at(cron_next(e, KST, "2026-03-01T00:00:00+09:00"), "2026-03-06T12:00:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-06T12:00:00+09:00"), "2026-03-10T12:00:00+09:00");
	assert_at(cron_next(e, KST, "2026-03-10T12:00:00+09:00"), "2026-03-13T12:00:00+09:00");
	/* with one field starred (here by a step) they are ANDed: odd days that are Fridays */
	const char *a = "0 12 */2 * fri";
	assert_at(cron_next(a, KST, "2026-03-01T00:00:00+09:00"), "2026-03-13T12:00:00+09:00");
	assert_at(cron_next(a, KST, "2026-03-13T12:00:00+09:00"), "2026-03-27T12:00:00+09:00");
}

Test(tz_cron, dst_gap_fires_once_at_its_end_and_repeat_fires_once)
{
	assert_at(cron_next("30 2 * * *", NY, "2026-03-07T03:00:00-05:00"), "2026-03-08T03:00:00-04:00");
	assert_at(cron_next("30 2 * * *", NY, "2026-03-08T03:00:00-04:00"), "2026-03-09T02:30:00-04:00");
	/* every 15 minutes through the gap: 02:00-02:45 collapse into 03:00, then 03:15 */
	assert_at(cron_next("*/15 * * * *", NY, "2026-03-08T01:45:00-05:00"), "2026-03-08T03:00:00-04:00");
	assert_at(cron_next("*/15 * * * *", NY, "2026-03-08T03:00:00-04:00"), "2026-03-08T03:15:00-04:00");
	/* the repeated 01:30 fires the first time only */
	assert_at(cron_next("30 1 * * *", NY, "2026-11-01T00:00:00-04:00"), "2026-11-01T01:30:00-04:00");
	assert_at(cron_next("30 1 * * *", NY, "2026-11-01T01:30:00-04:00"), "2026-11-02T01:30:00-05:00");
	assert_at(cron_next("*/30 * * * *", NY, "2026-11-01T01:30:00-04:00"), "2026-11-01T02:00:00-05:00");
	assert_at(cron_next("*/30 * * * *", NY, "2026-11-01T01:10:00-05:00"), "2026-11-01T02:00:00-05:00");
}

Test(tz_cron, nothing_within_the_bound_returns_one)
{
	/* Feb 30, built by hand (the parser refuses it) */
	struct tz_cron c = {
		.minute = 1, .hour = 1, .mday = 1u << 30, .month = 1u << 2, .wday = 0x7f, .flags = TZ_CRON_WDAY_STAR};
	int64_t out = 7;
	cr_assert_eq(tz_cron_next(&c, KST, T("2026-03-02T00:00:00Z"), &out), 1);
	cr_assert_eq(out, 7);
	/* the search stops at year 9999 */
	struct tz_cron y = cron("0 0 1 1 *");
	cr_assert_eq(tz_cron_next(&y, "UTC", T("9999-06-01T00:00:00Z"), &out), 1);
}

/* ---- threads and the cache ---------------------------------------------------------- */

static void *worker(void *arg)
{
	const char *tz = arg;
	for (int i = 0; i < 200; i++) {
		int64_t out;
		if (tz_next_local(tz, T("2026-03-04T12:00:00Z") + i * 3600000LL, 540, TZ_MON, &out) != 0)
			return (void *)1;
		struct tz_parts p;
		if (tz_local_parts(tz, out, &p) != 0 || p.minute_of_day != 540 || p.weekday != 1)
			return (void *)1;
	}
	return NULL;
}

Test(tz, threads_each_keep_their_own_calendars)
{
	const char *zones[] = {KST, NY, "UTC", "Europe/Berlin", KST, NY, "Australia/Lord_Howe", "Asia/Kolkata"};
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, worker, (void *)zones[i]), 0);
	for (int i = 0; i < 8; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		cr_assert_null(rc, "thread %d (%s)", i, zones[i]);
	}
}

Test(tz, cache_evicts_and_reopens)
{
	const char *zones[] = {"Europe/London",	   "Europe/Paris",     "Europe/Berlin",	    "Europe/Madrid",
			       "Europe/Rome",	   "Europe/Oslo",      "Asia/Tokyo",	    "Asia/Shanghai",
			       "Asia/Kolkata",	   "Asia/Dubai",       "Africa/Cairo",	    "Africa/Lagos",
			       "America/Chicago",  "America/Denver",   "America/Phoenix",   "America/Los_Angeles",
			       "Pacific/Auckland", "Australia/Sydney", "America/Sao_Paulo", KST};
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
			cr_assert(tz_valid(zones[i]), "%s", zones[i]);
		int32_t off;
		cr_assert_eq(tz_offset_ms("Asia/Tokyo", T("2026-03-02T00:00:00Z"), &off), 0);
		cr_assert_eq(off, 9 * 3600000);
		cr_assert_eq(tz_offset_ms("Asia/Kolkata", T("2026-03-02T00:00:00Z"), &off), 0);
		cr_assert_eq(off, 5 * 3600000 + 30 * 60000);
		tz_thread_release();
	}
	tz_thread_release(); /* twice is fine */
	cr_assert(tz_valid(KST));
	tz_thread_release();
}
