/* tz.h — local-time arithmetic in a user's time zone (ICU).
 *
 * What the journey engine asks of wall-clock time: wait until a local time
 * and/or weekday, hold a message through quiet hours, compute "3 days before
 * trial_ends_at at 10:00 local", and run 5-field cron schedules in a zone.
 * Zone rules come from ICU (libicu); this module never encodes any itself.
 *
 * Invariants:
 *   1. Every instant in and out is int64 milliseconds since the Unix epoch,
 *      UTC. Nothing here reads the clock: callers pass `now` (core/clock.h).
 *   2. A zone is an IANA id ICU knows as a system zone ("Asia/Seoul",
 *      "America/New_York", "UTC", also links such as "US/Eastern"); ids are
 *      case-sensitive and ASCII. Offsets ("+09:00", "GMT+9") are not zones.
 *   3. Local wall time to instant, the one rule used everywhere: a wall time
 *      that does not exist (spring-forward gap: 02:30 on 2026-03-08 in
 *      America/New_York) means the first instant after the gap (03:00 EDT);
 *      one that occurs twice (fall back: 01:30 on 2026-11-01) means its first
 *      occurrence (01:30 EDT). So each local day has exactly one instant for
 *      each wall minute, and a schedule fires at most once per local minute.
 *      The only exception is tz_quiet_release, which answers "when does the
 *      window end after at_ms" and so may pick the second occurrence.
 *   4. Dates are proleptic Gregorian; instants and the local dates computed
 *      from them must lie in [TZ_MIN_MS, TZ_MAX_MS] (years 1 to 9999).
 *   5. Return values: 0 on success; CAIRN_EINVAL (core/err.h) for an unknown
 *      zone or an argument out of range; OUT parameters are written only on
 *      success. A NULL OUT pointer is a bug (assert).
 *   6. Thread-safe. ICU calendars are not, so each thread keeps its own small
 *      cache of opened zones (most recently used first, at most
 *      TZ_CACHE_ZONES), freed when the thread exits. The main thread's
 *      cache is not freed by exit(): call tz_thread_release at shutdown to
 *      give it back (valgrind calls it "still reachable" otherwise). */
#ifndef CORE_TZ_H
#define CORE_TZ_H

#include <stdint.h>

struct cairn_err;

#define TZ_MIN_MS (-62135510400000LL) /* 0001-01-02T00:00:00Z */
#define TZ_MAX_MS (253402214400000LL) /* 9999-12-31T00:00:00Z */

#define TZ_CACHE_ZONES 16 /* zones kept open per thread */

/* Weekday masks for tz_next_local: bit 0 = Sunday ... bit 6 = Saturday. */
#define TZ_SUN	    (1u << 0)
#define TZ_MON	    (1u << 1)
#define TZ_TUE	    (1u << 2)
#define TZ_WED	    (1u << 3)
#define TZ_THU	    (1u << 4)
#define TZ_FRI	    (1u << 5)
#define TZ_SAT	    (1u << 6)
#define TZ_WEEKDAYS (TZ_MON | TZ_TUE | TZ_WED | TZ_THU | TZ_FRI)
#define TZ_ANY_DAY  0u

/* The default quiet hours for advertising messages: 21:00-08:00 local. */
#define TZ_QUIET_START_DEFAULT (21 * 60)
#define TZ_QUIET_END_DEFAULT   (8 * 60)

/* 1 when tz is a known IANA zone id, else 0 (also for NULL). */
int tz_valid(const char *tz);

/* OUT: *offset_ms = the total UTC offset (standard + daylight) in force at
 * utc_ms, e.g. 32400000 for Asia/Seoul. */
int tz_offset_ms(const char *tz, int64_t utc_ms, int32_t *offset_ms);

struct tz_parts {
	int year;	   /* 1-9999 */
	int month;	   /* 1-12 */
	int day;	   /* 1-31 */
	int hour;	   /* 0-23 */
	int minute;	   /* 0-59 */
	int second;	   /* 0-59 */
	int millisecond;   /* 0-999 */
	int weekday;	   /* 0 = Sunday ... 6 = Saturday */
	int minute_of_day; /* hour * 60 + minute, 0-1439 */
};

/* OUT: *out = the local wall time of utc_ms in tz. */
int tz_local_parts(const char *tz, int64_t utc_ms, struct tz_parts *out);

/* OUT: *out_ms = the earliest instant >= after_ms whose local wall time is
 * minute_of_day (0-1439) on a day allowed by weekday_mask (TZ_SUN...; 0 =
 * every day), under invariant 3 (each day's one instant for that minute).
 * minute_of_day -1 means any time: after_ms itself when its local day is
 * allowed, else the start (first instant) of the next allowed local day.
 * CAIRN_EINVAL also for minute_of_day outside -1..1439 or mask bits above 6. */
int tz_next_local(const char *tz, int64_t after_ms, int minute_of_day, unsigned weekday_mask, int64_t *out_ms);

/* Quiet hours [start_minute, end_minute) in local time, both 0-1439; the
 * window wraps midnight when start > end and is empty when start == end.
 * OUT: *release_ms = at_ms when at_ms is outside the window, else the
 * instant the window ends (local end_minute, the first such instant after
 * at_ms; a nonexistent end time means the end of the DST gap). */
int tz_quiet_release(const char *tz, int64_t at_ms, int start_minute, int end_minute, int64_t *release_ms);

/* OUT: *out_ms = the local date of utc_ms plus days (may be negative) at
 * minute_of_day (0-1439), or at the same local time of day (to the
 * millisecond) when minute_of_day is -1; invariant 3 for gaps and repeats.
 * For date triggers: tz_add_local_days(tz, trial_ends_at, -3, 600, &t). */
int tz_add_local_days(const char *tz, int64_t utc_ms, int days, int minute_of_day, int64_t *out_ms);

/* A parsed 5-field cron schedule: a plain value the caller owns (no
 * release). Fields: minute hour day-of-month month day-of-week. */
struct tz_cron {
	uint64_t minute; /* bit m: minute m, 0-59 */
	uint32_t hour;	 /* bit h: hour h, 0-23 */
	uint32_t mday;	 /* bit d: day of month d, 1-31 */
	uint16_t month;	 /* bit m: month m, 1-12 */
	uint8_t wday;	 /* bit w: weekday w, 0 = Sunday ... 6 */
	uint8_t flags;	 /* TZ_CRON_* */
};
/* The day field began with '*' ("*", or "*" with a step): as in Vixie
 * cron, the day fields are then ANDed; when neither does (both restricted),
 * a day matches when either field matches. */
#define TZ_CRON_MDAY_STAR 0x1
#define TZ_CRON_WDAY_STAR 0x2

#define TZ_CRON_MAX_LEN 256 /* longest expression accepted */

/* Parses "minute hour day-of-month month day-of-week", fields separated by
 * spaces or tabs. Each field is a comma list of "*", "N", "N-M", each
 * optionally followed by "/step" (every 15 minutes is "*" "/15", written
 * without the space; "1-30/5"; "N/step" means N-max/step).
 * Months take jan-dec, weekdays sun-sat (any case); weekdays are 0-7 with 0
 * and 7 both Sunday, and a range may end on Sunday ("mon-sun", "5-0").
 * CAIRN_EUNPROC (slug "invalid_cron", no field) with a message naming the
 * field and the fix, for bad syntax, values out of range, backwards ranges,
 * or day fields that can never match ("0 0 30 2 *"). CAIRN_EINVAL when expr
 * is NULL. OUT: *out, only on success. */
int tz_cron_parse(const char *expr, struct tz_cron *out, struct cairn_err *err);

/* OUT: *out_ms = the start of the first local minute strictly after after_ms
 * that matches c in tz (invariant 3 maps wall minutes to instants: a minute
 * in a DST gap fires when the gap ends, a repeated minute once, the first
 * time). Returns 1 (and leaves *out_ms) when nothing matches within
 * TZ_CRON_SEARCH_YEARS local years or before year 9999. */
#define TZ_CRON_SEARCH_YEARS 28
int tz_cron_next(const struct tz_cron *c, const char *tz, int64_t after_ms, int64_t *out_ms);

/* Closes the calling thread's cached zones now (they are reopened on the
 * next call). Threads do this by themselves at exit; the main thread
 * should call it at shutdown. */
void tz_thread_release(void);

#endif
