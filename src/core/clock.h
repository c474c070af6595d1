/* clock.h — the one source of time.
 *
 * Nothing else calls time(), gettimeofday() or clock_gettime(CLOCK_REALTIME).
 * The process clock is either real or virtual. A virtual clock only moves
 * when clock_virtual_set/advance is called (tests, simulation, demos), and
 * waiters registered with clock_wait_until wake when it reaches their time.
 *
 * Times are int64 milliseconds since the Unix epoch, UTC. */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void);
/* The real time even on a virtual clock: only for the lifetime of
 * credentials (login sessions), which must not end because a test or demo
 * moved business time forward. Never for business timers. */
int64_t clock_wall_ms(void);
/* Monotonic milliseconds for measuring durations and timeouts (always real). */
int64_t clock_mono_ms(void);
int clock_is_virtual(void);
/* Switches the process to a virtual clock at ms. */
void clock_virtual_start(int64_t ms);
/* Moves the virtual clock; never backwards. Returns the new time. */
int64_t clock_virtual_set(int64_t ms);
int64_t clock_virtual_advance(int64_t delta_ms);

/* A deadline ms from now for pthread_cond_timedwait (which measures real
 * time): for polls and housekeeping waits, never for business timers. */
struct timespec;
void clock_deadline_after(struct timespec *ts, int64_t ms);

/* RFC 3339 in UTC with milliseconds: "2026-03-02T01:00:00.000Z".
 * out must hold CLOCK_RFC3339_LEN bytes. */
#define CLOCK_RFC3339_LEN 48
void clock_format_rfc3339(int64_t ms, char *out);
/* Parses RFC 3339 / ISO 8601 date-times ("2026-03-02T10:00:00+09:00",
 * "...Z", fractional seconds, a space instead of 'T', or a plain date).
 * Returns 0 and sets *ms, or -1. */
int clock_parse_rfc3339(const char *s, int64_t *ms);
/* Days from 1970-01-01 for a proleptic Gregorian date. */
int64_t clock_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Its inverse: the proleptic Gregorian date of day z (0 = 1970-01-01). */
void clock_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
