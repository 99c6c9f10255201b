/**
 * POST /api/v1/rules/preview on every backend: a KPI rule replayed every 5
 * minutes with its 15-minute window through the real state machine, with the
 * states and intervals worked out by hand below; the one-query bucket method
 * agrees with evaluating the rule at each step; bad input names its field.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRule, type Rule } from '../../alerts/index.js';
import { previewRule as replay } from '../../alerts/preview.js';
import { createKpiEngine } from '../../kpi/index.js';
import type { Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp, testConfig } from '../helpers/app.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

// Now is 2026-11-30 02:15 UTC; the preview runs from 00:15 to 02:15 (25 evaluations at 5 minutes).
const NOW = Date.parse('2026-11-30T02:15:00Z');
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00.000Z`);
const iso = (hhmm: string) => at(hhmm).toISOString();

const answerRate = {
  id: 'answer-rate-preview', kpi: 'answer_rate', by: ['region'], window: '15m', when: 'below',
  thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 },
  for: '10m', minVolume: 10, noData: 'keep',
};

let seq = 0;
/** `answered` then `abandoned` calls entering 5 s apart from `hhmm`, all ended within 200 s (inside one 5-minute bucket). */
function calls(region: string, hhmm: string, answered: number, abandoned: number) {
  const start = at(hhmm).getTime() / 1000;
  return Array.from({ length: answered + abandoned }, (_, i) => {
    const enteredAt = start + i * 5;
    const id = `p-${region}-${++seq}`;
    return i < answered
      ? { id, region, queue: 'q1', channel: 'voice', enteredAt, answeredAt: enteredAt + 10, endedAt: enteredAt + 100, outcome: 'answered', talkSeconds: 90 }
      : { id, region, queue: 'q1', channel: 'voice', enteredAt, endedAt: enteredAt + 30, outcome: 'abandoned' };
  });
}

describe.each(BACKENDS)('rule preview on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  const config = testConfig();

  const preview = (payload: unknown, token: string = TOKENS.admin) => app.inject({
    method: 'POST', url: '/api/v1/rules/preview', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(payload),
  });
  const twoHours = { rule: answerRate, from: iso('00:15'), to: iso('02:15'), step: '5m' };

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store, { config, now: () => new Date(NOW) });
    await app.ready();
    // GD: 16 of 20 answered at 01:30 (0.80, critical), 20 of 20 at 01:45 and at 02:00.
    // BJ: 9 of 10 at 01:00 (0.90: warning, not critical, which needs < 0.90), then nothing.
    // SH: 3 of 5 at 01:30, a thin sample (minVolume 10): never judged.
    const records = [...calls('GD', '01:30', 16, 4), ...calls('GD', '01:45', 20, 0), ...calls('GD', '02:00', 20, 0), ...calls('BJ', '01:00', 9, 1), ...calls('SH', '01:30', 3, 2)];
    const res = await app.inject({
      method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(records),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rejected).toEqual([]);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('replays the rule and answers the states and intervals worked out by hand, with one query', async () => {
    const res = await preview(twoHours);
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json().preview;
    expect(p).toMatchObject({ rule: 'answer-rate-preview', kind: 'kpi', step: '5m', method: 'buckets', evaluations: 25, queries: 1, from: iso('00:15'), to: iso('02:15') });
    expect(p.series).toHaveLength(config.regions.length);

    const gd = p.series.find((s: { labels: { region: string } }) => s.labels.region === 'GD');
    expect(gd.labels).toEqual({ region: 'GD' });
    expect(gd.thresholds).toEqual({ warning: 0.95, critical: 0.9 });
    const byT = (t: string) => gd.points.find((x: { t: string }) => x.t === iso(t));
    // Window [01:20, 01:35) holds the 01:30 bucket: 16/20 = 0.8 < 0.90 → pending (for 10m).
    expect(byT('01:30')).toEqual({ t: iso('01:30'), value: null, volume: 0, status: 'no_data', state: 'ok', severity: null });
    expect(byT('01:35')).toEqual({ t: iso('01:35'), value: 0.8, volume: 20, status: 'value', state: 'pending', severity: 'critical' });
    expect(byT('01:40')).toMatchObject({ value: 0.8, state: 'pending', severity: 'critical' });
    // Held 10 minutes since 01:35 → firing at 01:45.
    expect(byT('01:45')).toMatchObject({ value: 0.8, state: 'firing', severity: 'critical' });
    // Window [01:35, 01:50): 20/20 = 1.0, past both clear values; keepFiringFor 0 → resolved, then ok.
    expect(byT('01:50')).toMatchObject({ value: 1, volume: 20, state: 'resolved' });
    expect(byT('01:55')).toMatchObject({ value: 1, state: 'ok', severity: null });
    // Window [02:00, 02:15): the 02:00 bucket only.
    expect(byT('02:15')).toMatchObject({ value: 1, volume: 20, state: 'ok' });

    const sh = p.series.find((s: { labels: { region: string } }) => s.labels.region === 'SH');
    expect(sh.points.find((x: { t: string }) => x.t === iso('01:35'))).toMatchObject({ value: 0.6, volume: 5, status: 'insufficient_volume', state: 'ok' });

    // BJ: 0.90 from 01:05 to 01:15 (pending, firing at 01:15 after 10 minutes); then no data under noData: keep → stays firing.
    expect(p.intervals).toEqual([
      { labels: { region: 'BJ' }, state: 'pending', severity: 'warning', from: iso('01:05'), to: iso('01:15'), value: 0.9 },
      { labels: { region: 'BJ' }, state: 'firing', severity: 'warning', from: iso('01:15'), to: null, value: 0.9 },
      { labels: { region: 'GD' }, state: 'pending', severity: 'critical', from: iso('01:35'), to: iso('01:45'), value: 0.8 },
      { labels: { region: 'GD' }, state: 'firing', severity: 'critical', from: iso('01:45'), to: iso('01:50'), value: 0.8 },
    ]);
  });

  it('the bucket method agrees with evaluating the rule at every step', async () => {
    const rule = validateRule(answerRate, config).rule as Rule;
    const deps = { store, config, kpis: createKpiEngine({ store, config }) };
    const range = { from: at('00:15'), to: at('02:15'), step: '5m' as const };
    const fast = await replay(rule, deps, range);
    const slow = await replay(rule, deps, { ...range, method: 'per-evaluation' });
    expect(fast.method).toBe('buckets');
    expect(slow).toMatchObject({ method: 'per-evaluation', queries: 25 });
    expect(slow.intervals).toEqual(fast.intervals);
    expect(slow.series).toEqual(fast.series);
  });

  it('overrides change a region\'s thresholds; a window that is not whole steps is evaluated per step', async () => {
    // GD's override: warning below 0.85, critical below 0.7 → 0.80 is only a warning for GD.
    const rule = { ...answerRate, window: '20m', overrides: { GD: { thresholds: { warning: 0.85, critical: 0.7 } } } };
    const res = await preview({ ...twoHours, rule, step: '15m' });
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json().preview;
    // 00:15 … 02:15 at 15 minutes is 9 evaluations, each its own query (20m is not a whole number of 15m steps).
    expect(p).toMatchObject({ method: 'per-evaluation', evaluations: 9, queries: 9 });
    // BJ at 01:15, window [00:55, 01:15): 0.9 → pending; from 01:30 on no data under noData: keep leaves the state unjudged → pending to the end.
    // GD at 01:45, window [01:25, 01:45): 0.8 → warning (override) → pending; at 02:00, [01:40, 02:00): 1.0 → ok.
    expect(p.intervals).toEqual([
      { labels: { region: 'BJ' }, state: 'pending', severity: 'warning', from: iso('01:15'), to: null, value: 0.9 },
      { labels: { region: 'GD' }, state: 'pending', severity: 'warning', from: iso('01:45'), to: iso('02:00'), value: 0.8 },
    ]);
  });

  it('defaults to the last 24 hours at 5 minutes', async () => {
    const res = await preview({ rule: answerRate });
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json().preview;
    expect(p).toMatchObject({ from: new Date(NOW - 86_400_000).toISOString(), to: new Date(NOW).toISOString(), evaluations: 289, queries: 1, step: '5m' });
    expect(p.intervals.map((i: { labels: { region: string }; state: string }) => `${i.labels.region}:${i.state}`)).toEqual(['BJ:pending', 'BJ:firing', 'GD:pending', 'GD:firing']);
  });

  it('refuses bad input with the field named, and non-admins', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^rule: required/],
      [{ rule: { ...answerRate, thresholds: undefined } }, /rule\/thresholds|rule: .*thresholds/],
      [{ rule: { ...answerRate, kpi: 'nope' } }, /rule\/kpi/],
      [{ rule: answerRate, from: 'yesterday' }, /^from: must be an ISO 8601/],
      [{ rule: answerRate, step: '2m' }, /^step: must be one of 1m, 5m, 15m/],
      [{ rule: answerRate, from: iso('02:15'), to: iso('00:15') }, /^from: must be before to/],
      [{ rule: answerRate, from: '2026-11-20T00:00:00Z', to: iso('02:15') }, /^to: the range is longer than 7 days/],
      [{ rule: answerRate, window: '24h' }, /^body: unknown field "window"/],
      // A gauge KPI is evaluated per step: 7 days at 5 minutes would be 2017 queries.
      [{ rule: { ...answerRate, kpi: 'calls_waiting', when: 'above', thresholds: { warning: 5 }, clear: undefined }, from: '2026-11-23T02:15:00Z', to: iso('02:15') }, /^step: /],
    ];
    for (const [payload, message] of cases) {
      const res = await preview(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('SQM_BAD_REQUEST');
      expect(res.json().error.message).toMatch(message);
      expect(res.body).not.toMatch(/\bat .*\.ts:\d+/);
    }
    expect((await preview(twoHours, TOKENS.viewer)).statusCode).toBe(403);
    expect((await preview(twoHours, TOKENS.managerGD)).statusCode).toBe(403);
  });
});
