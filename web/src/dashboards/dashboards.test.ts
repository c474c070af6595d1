import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';
import { addDays, lastDays, rangeQuery, todayIn, zonedMidnight } from './dates';

describe('toCsv', () => {
  it('quotes what needs quoting and joins lists', () => {
    expect(toCsv([{ a: 'x', b: 1 }, { a: 'y,z', b: null }, { a: 'say "hi"', b: [1, 2] }])).toBe(
      'a,b\r\nx,1\r\n"y,z",\r\n"say ""hi""",1;2\r\n',
    );
  });
  it('takes explicit columns', () => {
    expect(toCsv([{ a: 1, b: 2 }], ['b'])).toBe('b\r\n2\r\n');
    expect(toCsv([], ['a'])).toBe('a\r\n');
  });
});

describe('dates', () => {
  it('adds days across months', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
  it('midnight in Seoul is 15:00 UTC the day before', () => {
    expect(new Date(zonedMidnight('2026-03-02', 'Asia/Seoul')).toISOString()).toBe('2026-03-01T15:00:00.000Z');
    expect(new Date(zonedMidnight('2026-03-02', 'UTC')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
  });
  it('handles a DST change', () => {
    expect(new Date(zonedMidnight('2026-03-08', 'America/New_York')).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(new Date(zonedMidnight('2026-03-09', 'America/New_York')).toISOString()).toBe('2026-03-09T04:00:00.000Z');
  });
  it('a range includes both days', () => {
    expect(rangeQuery('2026-03-01', '2026-03-31', 'Asia/Seoul')).toEqual({ from: '2026-02-28T15:00:00.000Z', to: '2026-03-31T14:59:59.999Z' });
  });
  it('last 30 days ends today in the zone', () => {
    const now = new Date('2026-03-01T16:00:00Z'); // already March 2 in Seoul
    expect(todayIn('Asia/Seoul', now)).toBe('2026-03-02');
    expect(lastDays(30, 'Asia/Seoul', now)).toEqual({ from: '2026-02-01', to: '2026-03-02' });
  });
});
