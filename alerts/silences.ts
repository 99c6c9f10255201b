/**
 * Silences and maintenance windows (ALERTING.md "Acknowledge, silence,
 * escalate"). A silence is a set of label matchers with a start, an end, an
 * author and a reason; a maintenance window is a silence that recurs weekly
 * (a `schedule`), from the configuration or the API. Silenced instances are
 * still evaluated and shown; only notifications stop (the pipeline stays quiet
 * for events whose `silencedBy` is not empty).
 *
 * Matchers follow Alertmanager: `label=value`, `label!=value`, `label=~regex`,
 * `label!~regex`, the regex anchored at both ends; a missing label is the
 * empty string. `severity` matches the instance's current severity.
 */
import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';
import type { MaintenanceWindowConfig } from '../config/alerts.js';
import { inWeeklySchedule, WEEKDAYS, type WeeklySchedule } from './calendar.js';
import { parseDuration } from './durations.js';
import type { AlertInstance } from './types.js';

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  label: string;
  op: MatchOperator;
  value: string;
  regex?: RegExp;
}

export interface Silence {
  id: string;
  matchers: string[];
  startsAt: string;
  /** Null only for an open-ended maintenance window. */
  endsAt: string | null;
  author: string;
  reason: string;
  createdAt: string;
  /** A maintenance window: active only inside these weekly slots. */
  schedule: WeeklySchedule | null;
  source: 'api' | 'config';
  /** Set when someone ended the silence early. */
  expiredAt: string | null;
}

export type SilenceState = 'pending' | 'active' | 'expired';

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;
const MAX_REGEX_LENGTH = 200;

/** Parse one matcher; throws an Error whose message says what is wrong. */
export function parseMatcher(text: string): Matcher {
  const match = MATCHER.exec(text);
  if (!match) throw new Error(`"${text}" is not a matcher (label=value, label!=value, label=~regex, label!~regex)`);
  const [, label, op, rawValue] = match as unknown as [string, string, MatchOperator, string];
  const value = rawValue.length >= 2 && rawValue.startsWith('"') && rawValue.endsWith('"') ? rawValue.slice(1, -1) : rawValue;
  if (op === '=~' || op === '!~') {
    if (value.length > MAX_REGEX_LENGTH) throw new Error(`"${text}": the regex is longer than ${MAX_REGEX_LENGTH} characters`);
    try {
      return { label, op, value, regex: new RegExp(`^(?:${value})$`) };
    } catch (error) {
      throw new Error(`"${text}": not a valid regex (${(error as Error).message})`);
    }
  }
  return { label, op, value };
}

export function matcherMatches(m: Matcher, labels: Record<string, string>): boolean {
  const actual = labels[m.label] ?? '';
  switch (m.op) {
    case '=': return actual === m.value;
    case '!=': return actual !== m.value;
    case '=~': return (m.regex as RegExp).test(actual);
    case '!~': return !(m.regex as RegExp).test(actual);
  }
}

/** The labels silences match against: the instance's labels plus its current severity. */
export function matchLabels(instance: Pick<AlertInstance, 'labels' | 'severity'>): Record<string, string> {
  return { ...instance.labels, severity: instance.severity ?? '' };
}

export function silenceState(silence: Silence, at: Date): SilenceState {
  const t = at.getTime();
  const end = Math.min(
    silence.endsAt === null ? Infinity : Date.parse(silence.endsAt),
    silence.expiredAt === null ? Infinity : Date.parse(silence.expiredAt),
  );
  if (t >= end) return 'expired';
  if (t < Date.parse(silence.startsAt)) return 'pending';
  return 'active';
}

/** A compiled silence, ready to be matched many times. */
export interface CompiledSilence {
  silence: Silence;
  matchers: Matcher[];
}

export function compileSilence(silence: Silence): CompiledSilence {
  return { silence, matchers: silence.matchers.map(parseMatcher) };
}

/** Does the silence mute these labels at `at` (inside its period and, for a maintenance window, inside a slot)? */
export function silenceMutes(compiled: CompiledSilence, labels: Record<string, string>, at: Date, timezone: string): boolean {
  const { silence } = compiled;
  if (silenceState(silence, at) !== 'active') return false;
  if (silence.schedule && !inWeeklySchedule(silence.schedule, at, timezone)) return false;
  return compiled.matchers.every((m) => matcherMatches(m, labels));
}

/** Ids of the silences muting these labels at `at`, sorted. */
export function silencedBy(silences: readonly CompiledSilence[], labels: Record<string, string>, at: Date, timezone: string): string[] {
  return silences.filter((s) => silenceMutes(s, labels, at, timezone)).map((s) => s.silence.id).sort();
}

/** The region an equality matcher pins the silence to, '' when none (used to scope managers). */
export function silenceRegion(matchers: readonly string[]): string {
  for (const text of matchers) {
    try {
      const m = parseMatcher(text);
      if (m.label === 'region' && m.op === '=') return m.value;
    } catch {
      // Invalid matchers never reach the store; nothing to pin.
    }
  }
  return '';
}

/** Problems with a list of matchers, each naming `<field>/<index>`. */
export function checkMatchers(matchers: readonly string[], field: string): string[] {
  const problems: string[] = [];
  const parsed: Matcher[] = [];
  matchers.forEach((text, i) => {
    try {
      parsed.push(parseMatcher(text));
    } catch (error) {
      problems.push(`${field}/${i}: ${(error as Error).message}`);
    }
  });
  // As in Alertmanager: a silence whose every matcher matches the empty string would mute everything.
  if (problems.length === 0 && parsed.every((m) => matcherMatches(m, {}))) {
    problems.push(`${field}: at least one matcher must need a non-empty label value (e.g. region=GD), or the silence would mute everything`);
  }
  return problems;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function checkSchedule(schedule: WeeklySchedule, field: string): string[] {
  const problems: string[] = [];
  if (schedule.start === schedule.end) problems.push(`${field}/end: must differ from start`);
  if (schedule.timezone !== undefined && !isValidTimeZone(schedule.timezone)) problems.push(`${field}/timezone: unknown time zone "${schedule.timezone}"`);
  return problems;
}

/** What POST /silences accepts. */
export interface SilenceInput {
  matchers: string[];
  startsAt?: string;
  endsAt?: string;
  /** Instead of endsAt: how long from the start (`2h`). */
  duration?: string;
  reason: string;
  schedule?: WeeklySchedule;
}

const ISO = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})$';
const silenceInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['matchers', 'reason'],
  properties: {
    matchers: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 3, maxLength: 300 } },
    startsAt: { type: 'string', pattern: ISO },
    endsAt: { type: 'string', pattern: ISO },
    duration: { type: 'string', maxLength: 32 },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['days', 'start', 'end'],
      properties: {
        days: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...WEEKDAYS] } },
        start: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
        end: { type: 'string', pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$' },
        timezone: { type: 'string', minLength: 1, maxLength: 64 },
      },
    },
  },
} as const;
const validateInput = new Ajv({ allErrors: true, strict: true }).compile(silenceInputSchema);

const MAX_SILENCE_MS = 366 * 86_400_000;

/** Check an API request and build the silence, or list every problem (naming the field). */
export function buildSilence(raw: unknown, author: string, now: Date): { silence?: Silence; problems: string[] } {
  if (!validateInput(raw)) {
    return {
      problems: (validateInput.errors ?? []).map((e) => {
        const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : '';
        return `${e.instancePath ? e.instancePath.slice(1) : '(body)'}: ${e.message ?? 'invalid'}${extra}`;
      }),
    };
  }
  const input = raw as SilenceInput;
  const problems = checkMatchers(input.matchers, 'matchers');
  const startsAt = input.startsAt ? new Date(input.startsAt) : now;
  if (!Number.isFinite(startsAt.getTime())) problems.push('startsAt: not a time');
  let endsAt: Date | null = null;
  if (input.endsAt !== undefined && input.duration !== undefined) problems.push('endsAt: give endsAt or duration, not both');
  if (input.endsAt !== undefined) endsAt = new Date(input.endsAt);
  if (input.duration !== undefined) {
    const ms = parseDuration(input.duration);
    if (ms === undefined || ms <= 0) problems.push(`duration: not a duration: "${input.duration}" (e.g. 30m, 2h)`);
    else endsAt = new Date(startsAt.getTime() + ms);
  }
  if (endsAt === null && !input.schedule) problems.push('endsAt: required (or duration); only a maintenance window (schedule) may be open-ended');
  if (endsAt !== null) {
    if (!Number.isFinite(endsAt.getTime())) problems.push('endsAt: not a time');
    else if (endsAt.getTime() <= startsAt.getTime()) problems.push('endsAt: must be after startsAt');
    else if (endsAt.getTime() <= now.getTime()) problems.push('endsAt: must be in the future');
    else if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_MS) problems.push('endsAt: a silence may last at most 366 days');
  }
  if (input.schedule) problems.push(...checkSchedule(input.schedule, 'schedule'));
  if (problems.length > 0) return { problems };
  return {
    problems,
    silence: {
      id: `s-${randomBytes(8).toString('hex')}`,
      matchers: [...input.matchers],
      startsAt: startsAt.toISOString(),
      endsAt: endsAt ? endsAt.toISOString() : null,
      author,
      reason: input.reason,
      createdAt: now.toISOString(),
      schedule: input.schedule ? { ...input.schedule, days: [...input.schedule.days] } : null,
      source: 'api',
      expiredAt: null,
    },
  };
}

/** Problems with the configuration's maintenance windows, naming `alerts/maintenanceWindows/<i>/…`. */
export function checkMaintenanceWindows(windows: readonly MaintenanceWindowConfig[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  windows.forEach((w, i) => {
    const field = `alerts/maintenanceWindows/${i}`;
    if (ids.has(w.id)) problems.push(`${field}/id: duplicate maintenance window "${w.id}"`);
    ids.add(w.id);
    problems.push(...checkMatchers(w.matchers, `${field}/matchers`));
    problems.push(...checkSchedule(w, field));
  });
  return problems;
}

/** A configured maintenance window as a silence (always in force, active inside its weekly slots). */
export function maintenanceWindowSilence(w: MaintenanceWindowConfig): Silence {
  return {
    id: `mw-${w.id}`,
    matchers: [...w.matchers],
    startsAt: new Date(0).toISOString(),
    endsAt: null,
    author: 'configuration',
    reason: w.reason ?? `maintenance window ${w.id}`,
    createdAt: new Date(0).toISOString(),
    schedule: { days: [...w.days], start: w.start, end: w.end, ...(w.timezone ? { timezone: w.timezone } : {}) },
    source: 'config',
    expiredAt: null,
  };
}
