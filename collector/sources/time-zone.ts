/**
 * Wall-clock text without an offset (`2026-11-30 09:15:02`, what spreadsheets
 * export) read in a named time zone, turned into ISO-8601 with the offset that
 * zone had at that moment. The collector refuses times without an offset, so
 * the zone must be chosen by whoever imports the file (default: the
 * configuration's time zone).
 */

const BARE_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at the instant `epochMs`, in minutes. */
export function zoneOffsetMinutes(timeZone: string, epochMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - Math.floor(epochMs / 1000) * 1000) / 60_000);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * ISO-8601 with offset for a bare local time in `timeZone`, or undefined when
 * `text` is not a bare local time. A wall time that a DST change skips or
 * repeats takes the offset in force just before the change.
 */
export function localToIso(text: string, timeZone: string): string | undefined {
  const m = BARE_LOCAL.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Two passes: the offset at the guessed instant, then at the corrected one.
  let offset = zoneOffsetMinutes(timeZone, asUtc);
  offset = zoneOffsetMinutes(timeZone, asUtc - offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad(second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
