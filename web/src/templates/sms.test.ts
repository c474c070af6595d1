import { describe, expect, it } from 'vitest';
import { AD_PREFIX, measureSms, smsBytes, smsKind, withAdPrefix } from './sms';

describe('smsBytes (EUC-KR as Korean carriers count)', () => {
  it('counts ASCII as 1 byte', () => {
    expect(smsBytes('')).toBe(0);
    expect(smsBytes('Hello, world!')).toBe(13);
    expect(smsBytes('a\nb')).toBe(3);
    expect(smsBytes('a\r\nb')).toBe(4);
  });
  it('counts Hangul as 2 bytes', () => {
    expect(smsBytes('안녕하세요')).toBe(10);
    expect(smsBytes('주문 A-1001 출발')).toBe(2 * 4 + 1 + 6 + 1);
  });
  it('counts other non-ASCII characters (symbols, Hanja, emoji) as 2', () => {
    expect(smsBytes('₩')).toBe(2);
    expect(smsBytes('·')).toBe(2);
    expect(smsBytes('韓')).toBe(2);
    expect(smsBytes('😀')).toBe(2); // one code point, skipped by the converter and counted 2
  });
  it('counts the advertising prefix', () => {
    expect(smsBytes(AD_PREFIX)).toBe(6);
    expect(smsBytes(withAdPrefix('hi'))).toBe(9);
  });
});

describe('smsKind', () => {
  it('switches from SMS to LMS above 90 bytes', () => {
    expect(smsKind(90)).toBe('sms');
    expect(smsKind(91)).toBe('lms');
    expect(smsKind(2000)).toBe('lms');
    expect(smsKind(2001)).toBe('too_long');
  });
  it('45 Hangul syllables fit an SMS, 46 do not', () => {
    expect(measureSms('가'.repeat(45)).kind).toBe('sms');
    expect(measureSms('가'.repeat(46)).kind).toBe('lms');
  });
});

describe('advertising', () => {
  it('adds "(광고) " once', () => {
    expect(withAdPrefix('세일')).toBe('(광고) 세일');
    expect(withAdPrefix('(광고) 세일')).toBe('(광고) 세일');
  });
  it('the prefix can push a message into LMS', () => {
    const t = 'a'.repeat(85);
    expect(measureSms(t).kind).toBe('sms');
    expect(measureSms(t, true)).toEqual({ text: '(광고) ' + t, bytes: 92, kind: 'lms' });
  });
});
