/**
 * Silences, maintenance windows and calendars: Alertmanager-style matchers,
 * silence periods, weekly slots in a time zone (also past midnight), business
 * hours with holidays, and the checks on what the API and the configuration give.
 */
import { describe, expect, it } from 'vitest';
import { inCalendar, inWeeklySchedule, localTime, type CalendarConfig } from '../../alerts/calendar.js';
import {
  buildSilence, checkMaintenanceWindows, compileSilence, maintenanceWindowSilence, matcherMatches, parseMatcher,
  silencedBy, silenceRegion, silenceState, type Silence,
} from '../../alerts/silences.js';

const TZ = 'Asia/Shanghai';
const labels = { rule: 'answer-rate', region: 'GD', severity: 'warning' };

describe('matchers', () => {
  it.each([
    ['region=GD', true],
    ['region="GD"', true],
    ['region = GD', true],
    ['region!=GD', false],
    ['region!=BJ', true],
    ['rule=~answer-.*', true],
    ['rule=~answer', false], // anchored at both ends
    ['rule!~csat|mttr', true],
    ['severity=~warning|critical', true],
    ['queue=', true], // a missing label is the empty string
    ['queue!=', false],
  ])('%s matches GD\'s answer-rate warning: %s', (text, expected) => {
    expect(matcherMatches(parseMatcher(text), labels)).toBe(expected);
  });

  it.each([
    ['region', 'is not a matcher'],
    ['region~GD', 'is not a matcher'],
    ['=GD', 'is not a matcher'],
    ['rule=~(unclosed', 'not a valid regex'],
  ])('refuses "%s"', (text, message) => {
    expect(() => parseMatcher(text)).toThrow(message);
  });

  it('pins a silence to the region of its first region= matcher', () => {
    expect(silenceRegion(['rule=x', 'region=GD'])).toBe('GD');
    expect(silenceRegion(['region=~GD|BJ'])).toBe('');
    expect(silenceRegion(['region!=GD'])).toBe('');
  });
});

const T = Date.parse('2026-11-30T02:00:00Z'); // Monday 10:00 in Beijing
const at = (hours: number) => new Date(T + hours * 3600_000);

function silence(over: Partial<Silence> = {}): Silence {
  return {
    id: 's-1', matchers: ['region=GD'], startsAt: at(0).toISOString(), endsAt: at(2).toISOString(), author: 'a', reason: 'r',
    createdAt: at(0).toISOString(), schedule: null, source: 'api', expiredAt: null, ...over,
  };
}

describe('silences', () => {
  it('are pending before their start, active until their end (exclusive), expired after or once ended early', () => {
    expect(silenceState(silence(), at(-1))).toBe('pending');
    expect(silenceState(silence(), at(0))).toBe('active');
    expect(silenceState(silence(), at(1.99))).toBe('active');
    expect(silenceState(silence(), at(2))).toBe('expired');
    expect(silenceState(silence({ expiredAt: at(1).toISOString() }), at(1))).toBe('expired');
  });

  it('mute an instance only while active and when every matcher matches', () => {
    const list = [
      compileSilence(silence()),
      compileSilence(silence({ id: 's-2', matchers: ['region=GD', 'severity=critical'] })),
      compileSilence(silence({ id: 's-3', matchers: ['region=BJ'] })),
      compileSilence(silence({ id: 's-0', matchers: ['rule=~answer-.*'] })),
    ];
    expect(silencedBy(list, labels, at(1), TZ)).toEqual(['s-0', 's-1']);
    expect(silencedBy(list, labels, at(3), TZ)).toEqual([]);
  });

  it('as maintenance windows, mute only inside their weekly slots', () => {
    // Mondays 09:00-11:00 Beijing time.
    const window = compileSilence(maintenanceWindowSilence({ id: 'pbx', matchers: ['region=GD'], days: ['mon'], start: '09:00', end: '11:00' }));
    expect(window.silence).toMatchObject({ id: 'mw-pbx', source: 'config', endsAt: null, reason: 'maintenance window pbx' });
    expect(silencedBy([window], labels, at(0), TZ)).toEqual(['mw-pbx']); // Monday 10:00
    expect(silencedBy([window], labels, at(1), TZ)).toEqual([]); // 11:00: the end is exclusive
    expect(silencedBy([window], labels, at(-2), TZ)).toEqual([]); // 08:00
    expect(silencedBy([window], labels, at(24), TZ)).toEqual([]); // Tuesday 10:00
  });

  it('are built from an API request, with every problem named', () => {
    const now = at(0);
    const ok = buildSilence({ matchers: ['region=GD'], duration: '90m', reason: 'fibre cut' }, 'ops', now);
    expect(ok.problems).toEqual([]);
    expect(ok.silence).toMatchObject({ matchers: ['region=GD'], startsAt: now.toISOString(), endsAt: at(1.5).toISOString(), author: 'ops', source: 'api', schedule: null });
    expect(ok.silence?.id).toMatch(/^s-[0-9a-f]{16}$/);
    const window = buildSilence({ matchers: ['region=GD'], reason: 'weekly', schedule: { days: ['tue'], start: '23:00', end: '01:00', timezone: 'Asia/Urumqi' } }, 'ops', now);
    expect(window.silence).toMatchObject({ endsAt: null, schedule: { days: ['tue'], start: '23:00', end: '01:00', timezone: 'Asia/Urumqi' } });
    expect(buildSilence({ matchers: ['region=GD'], endsAt: '2026-11-30T09:00:00+08:00', reason: 'x' }, 'ops', now).problems).toEqual(['endsAt: must be after startsAt']);
    expect(buildSilence({ matchers: ['region=GD'], startsAt: '2026-11-30T08:00:00+08:00', endsAt: '2026-11-30T09:00:00+08:00', reason: 'x' }, 'ops', now).problems)
      .toEqual(['endsAt: must be in the future']);
    expect(buildSilence({ matchers: ['region=GD'], endsAt: '2026-12-01T00:00:00Z', duration: '1h', reason: 'x' }, 'ops', now).problems)
      .toEqual(['endsAt: give endsAt or duration, not both']);
    expect(buildSilence({ matchers: [], reason: '', colour: 1 }, 'ops', now).problems).toEqual([
      '(body): must NOT have additional properties "colour"',
      'matchers: must NOT have fewer than 1 items',
      'reason: must NOT have fewer than 1 characters',
    ]);
    expect(buildSilence({ matchers: ['region=GD'], duration: '1h', reason: 'x', schedule: { days: ['mon'], start: '02:00', end: '02:00', timezone: 'Nowhere/Land' } }, 'ops', now).problems)
      .toEqual(['schedule/end: must differ from start', 'schedule/timezone: unknown time zone "Nowhere/Land"']);
  });

  it('from the configuration are checked, naming the field', () => {
    expect(checkMaintenanceWindows([
      { id: 'a', matchers: ['region=GD'], days: ['mon'], start: '01:00', end: '02:00' },
      { id: 'a', matchers: ['severity!=critical'], days: ['mon'], start: '01:00', end: '02:00' },
    ])).toEqual([
      'alerts/maintenanceWindows/1/id: duplicate maintenance window "a"',
      'alerts/maintenanceWindows/1/matchers: at least one matcher must need a non-empty label value (e.g. region=GD), or the silence would mute everything',
    ]);
  });
});

describe('weekly schedules and calendars', () => {
  it('reads the local weekday, date and time in the zone', () => {
    expect(localTime(at(0), TZ)).toEqual({ weekday: 'mon', date: '2026-11-30', minutes: 600 });
    expect(localTime(at(0), 'America/New_York')).toEqual({ weekday: 'sun', date: '2026-11-29', minutes: 21 * 60 });
  });

  it('runs a slot past midnight into the next day', () => {
    const overnight = { days: ['tue' as const], start: '23:00', end: '01:00' };
    // Tuesday 2026-12-01 23:30 and Wednesday 00:30 Beijing time are inside; Wednesday 23:30 and Tuesday 00:30 are not.
    expect(inWeeklySchedule(overnight, new Date('2026-12-01T15:30:00Z'), TZ)).toBe(true);
    expect(inWeeklySchedule(overnight, new Date('2026-12-01T16:30:00Z'), TZ)).toBe(true);
    expect(inWeeklySchedule(overnight, new Date('2026-12-02T15:30:00Z'), TZ)).toBe(false);
    expect(inWeeklySchedule(overnight, new Date('2026-11-30T16:30:00Z'), TZ)).toBe(false);
    // The same instant in London is Tuesday 15:30: outside.
    expect(inWeeklySchedule({ ...overnight, timezone: 'Europe/London' }, new Date('2026-12-01T15:30:00Z'), TZ)).toBe(false);
  });

  it('knows business hours per weekday and holidays', () => {
    const calendar: CalendarConfig = { hours: { mon: ['08:00-12:00', '13:00-20:00'], sun: ['09:00-18:00'] }, holidays: ['2026-12-07'] };
    expect(inCalendar(calendar, at(0), TZ)).toBe(true); // Monday 10:00
    expect(inCalendar(calendar, at(2.5), TZ)).toBe(false); // Monday 12:30, lunch
    expect(inCalendar(calendar, at(10), TZ)).toBe(false); // Monday 20:00, closed (end exclusive)
    expect(inCalendar(calendar, at(24), TZ)).toBe(false); // Tuesday: no hours
    expect(inCalendar(calendar, at(-24), TZ)).toBe(true); // Sunday 10:00
    expect(inCalendar(calendar, at(7 * 24), TZ)).toBe(false); // Monday 2026-12-07: a holiday
    expect(inCalendar({ ...calendar, timezone: 'Europe/London' }, at(0), TZ)).toBe(false); // 02:00 Monday in London
  });
});
