// sms.ts — SMS length as Korean carriers count it: EUC-KR bytes (what the
// server's dlv_sms_measure does with iconv CP949): ASCII is 1 byte, every
// other character 2 (Hangul, Hanja, symbols; a character EUC-KR lacks, such
// as an emoji, is also counted 2). Up to 90 bytes is an SMS, up to 2,000 an
// LMS; longer is refused. Advertising text starts with "(광고) ".

export const SMS_MAX_BYTES = 90;
export const LMS_MAX_BYTES = 2000;
export const AD_PREFIX = '(광고)';

export type SmsKind = 'sms' | 'lms' | 'too_long';

/** EUC-KR byte count of text. */
export function smsBytes(text: string): number {
  let n = 0;
  for (const ch of text) n += ch.codePointAt(0)! < 0x80 ? 1 : 2;
  return n;
}

export function smsKind(bytes: number): SmsKind {
  return bytes <= SMS_MAX_BYTES ? 'sms' : bytes <= LMS_MAX_BYTES ? 'lms' : 'too_long';
}

/** The text as an advertising message is sent: "(광고) " first, once. */
export function withAdPrefix(text: string): string {
  return text.startsWith(AD_PREFIX) ? text : `${AD_PREFIX} ${text}`;
}

/** Everything the SMS preview shows about a text. */
export function measureSms(text: string, advertising = false): { text: string; bytes: number; kind: SmsKind } {
  const t = advertising ? withAdPrefix(text) : text;
  const bytes = smsBytes(t);
  return { text: t, bytes, kind: smsKind(bytes) };
}
