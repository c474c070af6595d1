// i18n.tsx — Korean and English. The language comes from the browser unless
// the user picked one (remembered in localStorage); dates are shown in the
// workspace's time zone. Each screen keeps its own dictionary beside it and
// calls useT(dict); keys missing in Korean fall back to English.
import { createContext, useContext, useMemo } from 'react';

export type Lang = 'en' | 'ko';
export type Dict = { en: Record<string, string>; ko: Partial<Record<string, string>> };

export function initialLang(): Lang {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('cairn.lang') : null;
  if (saved === 'en' || saved === 'ko') return saved;
  const nav = typeof navigator !== 'undefined' ? navigator.language || '' : '';
  return nav.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

export type Locale = { lang: Lang; setLang: (l: Lang) => void; timezone: string };
export const LocaleContext = createContext<Locale>({ lang: 'en', setLang: () => {}, timezone: 'UTC' });

export function useLocale(): Locale {
  return useContext(LocaleContext);
}

/** t(key, {n: 3}) → the string in the current language with {n} replaced. */
export function translate(dict: Dict, lang: Lang, key: string, vars?: Record<string, string | number>): string {
  let s = (lang === 'ko' ? dict.ko[key] : undefined) ?? dict.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function useT(dict: Dict) {
  const { lang } = useLocale();
  return useMemo(
    () => (key: string, vars?: Record<string, string | number>) => translate(dict, lang, key, vars),
    [dict, lang],
  );
}

/** An RFC 3339 time (or ms since epoch) in the workspace time zone. */
export function formatTime(t: string | number | null | undefined, lang: Lang, timezone: string, withSeconds = false): string {
  if (t === null || t === undefined || t === '') return '';
  const d = new Date(t);
  if (isNaN(d.getTime())) return String(t);
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
    timeZone: timezone || 'UTC',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined, hour12: false,
  }).format(d);
}

export function useFormat() {
  const { lang, timezone } = useLocale();
  return useMemo(
    () => ({
      time: (t: string | number | null | undefined, s = false) => formatTime(t, lang, timezone, s),
      num: (n: number | null | undefined, digits = 0) =>
        n === null || n === undefined ? '–' : n.toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-US', { maximumFractionDigits: digits }),
      pct: (r: number | null | undefined) =>
        r === null || r === undefined ? '–' : (r * 100).toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-US', { maximumFractionDigits: 1 }) + '%',
    }),
    [lang, timezone],
  );
}
