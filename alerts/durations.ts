/**
 * Durations as rules write them: `30s`, `15m`, `2h`, `1d`, or compound
 * (`1h30m`), and `0` for none. Kept to whole seconds, because every time the
 * store holds is a whole second.
 */

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds of a duration, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const match = DURATION.exec(text);
  if (!match || text.length === 0) return undefined;
  const [, d, h, m, s] = match;
  const seconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
}

/** The JSON-Schema pattern of a duration (the same grammar as parseDuration). */
export const DURATION_PATTERN = '^(0|(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?)$';

/** `90000` → `1m30s`: the shortest text that parses back to the same value. */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  if (seconds === 0) return '0';
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(seconds / size);
    if (n > 0) {
      out += `${n}${unit}`;
      seconds -= n * size;
    }
  }
  return out;
}
