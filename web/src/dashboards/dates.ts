// dates.ts — the date range of the dashboards, in the workspace's time zone:
// "YYYY-MM-DD" days become the UTC instants of their midnights there.

/** Today's date ("YYYY-MM-DD") in the zone. */
export function todayIn(tz: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Adds n days to a "YYYY-MM-DD" date. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Offset (ms) of the zone from UTC at instant t. */
function offsetAt(t: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz || 'UTC', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(t));
  const v = (k: string) => Number(parts.find((p) => p.type === k)?.value);
  const asUtc = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour') % 24, v('minute'), v('second'));
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** The instant (ms) of midnight starting `day` in the zone. */
export function zonedMidnight(day: string, tz: string): number {
  const [y, m, d] = day.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offsetAt(guess, tz);
  const again = guess - offsetAt(t, tz); // across a DST change
  if (again !== t) t = again;
  return t;
}

/** The API's from/to (RFC 3339) for a range of whole days, both included. */
export function rangeQuery(from: string, to: string, tz: string): { from: string; to: string } {
  return {
    from: new Date(zonedMidnight(from, tz)).toISOString(),
    to: new Date(zonedMidnight(addDays(to, 1), tz) - 1).toISOString(),
  };
}

export type Range = { from: string; to: string };

export function lastDays(n: number, tz: string, now = new Date()): Range {
  const to = todayIn(tz, now);
  return { from: addDays(to, -(n - 1)), to };
}
