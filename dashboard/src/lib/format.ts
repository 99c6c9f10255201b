/**
 * Numbers, KPI values, changes and times formatted for the language (Intl),
 * with times always in the configured time zone. Formatters are cached: the
 * wallboard formats dozens of values every second.
 */
import type { Lang, Unit } from './types.js';

export const LOCALES: Record<Lang, string> = { zh: 'zh-CN', en: 'en-US' };

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${lang}|${JSON.stringify(options)}`;
  let formatter = cache.get(key) as Intl.NumberFormat | undefined;
  if (!formatter) {
    formatter = new Intl.NumberFormat(LOCALES[lang], options);
    cache.set(key, formatter);
  }
  return formatter;
}

function dateFormat(lang: Lang, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${lang}|${timeZone}|${JSON.stringify(options)}`;
  let formatter = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(LOCALES[lang], { timeZone, ...options });
    cache.set(key, formatter);
  }
  return formatter;
}

/** The placeholder for "no value" (an empty denominator): never 0 and never 100 % (KPIS.md). */
export const NO_VALUE = '—';

export function formatNumber(value: number | null | undefined, lang: Lang, fractionDigits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return numberFormat(lang, { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits }).format(value);
}

const UNIT_STYLE: Partial<Record<Unit, { unit: string; digits: number }>> = {
  seconds: { unit: 'second', digits: 0 },
  minutes: { unit: 'minute', digits: 1 },
  hours: { unit: 'hour', digits: 1 },
};

/**
 * A KPI value in its unit: ratios as percentages with one decimal, durations
 * with their unit word (zh 秒 / en sec), counts as whole numbers, NPS signed.
 */
export function formatKpiValue(value: number | null | undefined, unit: Unit, lang: Lang): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  switch (unit) {
    case 'ratio':
      return numberFormat(lang, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
    case 'count':
      return numberFormat(lang, { maximumFractionDigits: 0 }).format(value);
    case 'per_million':
      return numberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
    case 'nps':
      return numberFormat(lang, { signDisplay: 'exceptZero', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
    case 'ces':
      return numberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
    case 'seconds':
    case 'minutes':
    case 'hours': {
      const style = UNIT_STYLE[unit]!;
      return numberFormat(lang, {
        style: 'unit', unit: style.unit, unitDisplay: 'short',
        minimumFractionDigits: style.digits, maximumFractionDigits: style.digits,
      }).format(value);
    }
  }
}

/**
 * The change between two values of a KPI, signed: ratios in percentage points
 * (a rate going from 90 % to 92 % is +2.0 pp, not +2.2 %), other units in their own unit.
 */
export function formatChange(current: number | null | undefined, previous: number | null | undefined, unit: Unit, lang: Lang): string {
  if (current === null || current === undefined || previous === null || previous === undefined) return NO_VALUE;
  const delta = current - previous;
  if (unit === 'ratio') {
    const points = numberFormat(lang, { signDisplay: 'exceptZero', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(delta * 100);
    return lang === 'zh' ? `${points}个百分点` : `${points} pp`;
  }
  const digits = unit === 'count' ? 0 : unit === 'seconds' ? 0 : unit === 'ces' ? 2 : 1;
  const signed = numberFormat(lang, { signDisplay: 'exceptZero', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(delta);
  const style = UNIT_STYLE[unit];
  if (!style) return signed;
  // Reuse Intl's unit word, with our sign.
  const unitText = numberFormat(lang, { style: 'unit', unit: style.unit, unitDisplay: 'short', minimumFractionDigits: digits, maximumFractionDigits: digits })
    .format(Math.abs(delta));
  const sign = signed.startsWith('+') || signed.startsWith('-') || signed.startsWith('−') ? signed[0] : '';
  return `${sign}${unitText}`;
}

/** The quality index (0–100) with one decimal. */
export function formatIndex(value: number | null | undefined, lang: Lang): string {
  return formatNumber(value, lang, 1);
}

export type DateStyle = 'time' | 'time-seconds' | 'date' | 'date-time' | 'month' | 'weekday-date';

const DATE_STYLES: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  'time-seconds': { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  date: { year: 'numeric', month: '2-digit', day: '2-digit' },
  'date-time': { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  month: { year: 'numeric', month: 'long' },
  'weekday-date': { weekday: 'short', month: 'short', day: 'numeric' },
};

/** A time in the configured zone, for the language. */
export function formatDate(date: Date | string | number | null | undefined, lang: Lang, timeZone: string, style: DateStyle = 'date-time'): string {
  if (date === null || date === undefined) return NO_VALUE;
  const instant = date instanceof Date ? date : new Date(date);
  if (!Number.isFinite(instant.getTime())) return NO_VALUE;
  return dateFormat(lang, timeZone, DATE_STYLES[style]).format(instant);
}

/** "3 min", "2 h 5 min": a duration for deadlines and ages, rounded to minutes. */
export function formatDuration(ms: number, lang: Lang): string {
  const negative = ms < 0;
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const unit = (value: number, name: 'hour' | 'minute') =>
    numberFormat(lang, { style: 'unit', unit: name, unitDisplay: 'short', maximumFractionDigits: 0 }).format(value);
  const text = hours > 0 ? (rest > 0 ? `${unit(hours, 'hour')} ${unit(rest, 'minute')}` : unit(hours, 'hour')) : unit(minutes, 'minute');
  return negative ? `-${text}` : text;
}
