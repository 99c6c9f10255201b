/**
 * Dashboard logic outside the views: hash routes and the kiosk token, both
 * languages complete, the API client (token, cookie, errors), the manager's
 * at-risk list and silence matchers, the admin rule editor, and the rule
 * preview replayed on KPI buckets.
 */
import { describe, expect, it } from 'vitest';
import { applyRuleEdit, overrideRows, recordColumns } from '../../dashboard/src/lib/admin.js';
import { ApiFailure, asRuleView, createApiClient, isNotAvailable, kpiQueryString, unwrapList } from '../../dashboard/src/lib/api.js';
import { MESSAGES, t } from '../../dashboard/src/lib/i18n.js';
import { riskItems, silenceMatchers, sortInbox, trendWindow } from '../../dashboard/src/lib/manager.js';
import { gridCells } from '../../dashboard/src/lib/region-grid.js';
import { defaultView, parseHash, regionsParam, routeHash, takeToken, viewsFor } from '../../dashboard/src/lib/router.js';
import { durationSeconds, previewStep, replayRule } from '../../dashboard/src/lib/rule-preview.js';
import type { AlertInstance, KpiResponse, KpiRule } from '../../dashboard/src/lib/types.js';

describe('router', () => {
  it('parses views, sub-pages and parameters from the hash', () => {
    const route = parseHash('#/admin/rules?x=1');
    expect([route.view, route.sub, route.params.get('x')]).toEqual(['admin', 'rules', '1']);
    expect(parseHash('#/nowhere').view).toBeNull();
    expect(parseHash('').view).toBeNull();
    expect(routeHash('scorecard', null, { period: 'week' })).toBe('#/scorecard?period=week');
  });

  it('takes a kiosk token once and gives the hash without it', () => {
    expect(takeToken('#/wallboard?kiosk=1&token=abc&regions=GD,BJ')).toEqual({ token: 'abc', hash: '#/wallboard?kiosk=1&regions=GD%2CBJ' });
    expect(takeToken('#/wallboard?token=abc')).toEqual({ token: 'abc', hash: '#/wallboard' });
    expect(takeToken('#/wallboard?kiosk=1')).toEqual({ token: null, hash: '#/wallboard?kiosk=1' });
  });

  it('keeps known regions only, once each', () => {
    expect(regionsParam('gd, BJ,XX,GD', ['GD', 'BJ', 'SH'])).toEqual(['GD', 'BJ']);
    expect(regionsParam('XX', ['GD'])).toBeNull();
    expect(regionsParam(null, ['GD'])).toBeNull();
  });

  it('sends each role where its work is, and shows admin pages to admins only', () => {
    expect([defaultView('executive'), defaultView('manager'), defaultView('supervisor'), defaultView('viewer')]).toEqual(['scorecard', 'manager', 'wallboard', 'wallboard']);
    expect(viewsFor('viewer')).toEqual(['wallboard', 'manager', 'scorecard']);
    expect(viewsFor('admin')).toContain('admin');
    expect(viewsFor('ingest')).toEqual([]);
  });
});

describe('i18n', () => {
  it('has every label in both languages, with the same placeholders', () => {
    const zh = MESSAGES.zh;
    const en = MESSAGES.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(zh[key].length, key).toBeGreaterThan(0);
      expect(en[key].length, key).toBeGreaterThan(0);
      expect(placeholders(en[key]), key).toEqual(placeholders(zh[key]));
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('zh', 'wallboard.stale', { time: '10:31:05' })).toBe('数据已过期：最后更新于 10:31:05');
    expect(t('en', 'wallboard.stale', { time: '10:31:05' })).toBe('Data stale since 10:31:05');
    expect(t('en', 'wallboard.stale')).toBe('Data stale since {time}');
  });
});

describe('API client', () => {
  function recorder(status: number, body: unknown) {
    const requests: { url: string; init: RequestInit }[] = [];
    const fetch = async (url: RequestInfo | URL, init?: RequestInit) => {
      requests.push({ url: String(url), init: init ?? {} });
      return new Response(body === undefined ? '' : JSON.stringify(body), { status });
    };
    return { requests, fetch: fetch as typeof globalThis.fetch };
  }

  it('writes KPI queries as RECORDS.md describes', () => {
    expect(kpiQueryString({ kpis: ['answer_rate', 'csat'], from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-01T01:00:00Z'), regions: ['GD', 'BJ'], by: ['region'], step: '5m' }))
      .toBe('kpi=answer_rate%2Ccsat&from=2026-12-01T00%3A00%3A00.000Z&to=2026-12-01T01%3A00%3A00.000Z&region=GD%2CBJ&by=region&step=5m');
  });

  it('sends the bearer token and same-origin credentials (a session cookie works too)', async () => {
    const r = recorder(200, { timezone: 'Asia/Shanghai' });
    let token: string | null = 'tok-1';
    const api = createApiClient({ token: () => token, fetch: r.fetch });
    await api.meta();
    token = null;
    await api.meta();
    expect(r.requests[0]!.url).toBe('/api/v1/meta');
    expect((r.requests[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok-1');
    expect(r.requests[0]!.init.credentials).toBe('same-origin');
    expect((r.requests[1]!.init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it('turns error bodies into ApiFailure, tells the app about a 401, and marks missing endpoints', async () => {
    let signedOut = 0;
    const r401 = recorder(401, { error: { code: 'SQM_UNAUTHORIZED', message: 'Unknown or revoked token' } });
    const api = createApiClient({ token: () => 'x', fetch: r401.fetch, onUnauthorized: () => signedOut++ });
    await expect(api.meta()).rejects.toMatchObject({ status: 401, code: 'SQM_UNAUTHORIZED', message: 'Unknown or revoked token' });
    expect(signedOut).toBe(1);
    const r404 = recorder(404, { error: { code: 'SQM_NOT_FOUND', message: 'No route' } });
    const error = await createApiClient({ token: () => 'x', fetch: r404.fetch }).alerts().catch((e: unknown) => e);
    expect(isNotAvailable(error)).toBe(true);
    const down = createApiClient({ token: () => 'x', fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
    await expect(down.meta()).rejects.toMatchObject({ status: 0, code: 'SQM_NETWORK' });
  });

  it('accepts lists bare or wrapped, and rules as the server lists them or as bare definitions', async () => {
    expect(unwrapList([1, 2], ['alerts'])).toEqual([1, 2]);
    expect(unwrapList({ alerts: [3] }, ['alerts'])).toEqual([3]);
    expect(() => unwrapList({ nope: 1 }, ['alerts'])).toThrow(ApiFailure);
    const definition = { id: 'r', kpi: 'answer_rate', when: 'below', thresholds: { warning: 0.95 } } as KpiRule;
    expect(asRuleView(definition)).toEqual({ id: 'r', kind: 'kpi', source: 'api', enabled: true, definition });
    const view = { id: 'r', kind: 'kpi', source: 'config' as const, enabled: true, definition };
    expect(asRuleView(view)).toBe(view);
    const r = recorder(200, { rule: { ...view, source: 'api' } });
    const saved = await createApiClient({ token: () => 'x', fetch: r.fetch }).saveRule(definition);
    expect([r.requests[0]!.init.method, r.requests[0]!.url, JSON.parse(String(r.requests[0]!.init.body))]).toEqual(['PUT', '/api/v1/rules/r', definition]);
    expect(saved.source).toBe('api');
  });
});

const alert = (over: Partial<AlertInstance>): AlertInstance => ({
  id: 'x', ruleId: 'answer-rate', ruleKind: 'kpi', labels: { rule: 'answer-rate', region: 'GD' }, state: 'firing', severity: 'warning',
  value: 0.9, threshold: 0.95, volume: 100, since: '2026-12-01T01:00:00Z', firingSince: '2026-12-01T01:00:00Z', acknowledged: null,
  silencedBy: [], route: 'default', summary: { zh: '', en: '' }, ...over,
});

describe('regional manager', () => {
  const now = new Date('2026-12-01T02:00:00Z');

  it('lists SLA items of my regions, nearest deadline (or longest overdue) first', () => {
    const items = riskItems([
      alert({ id: 'a', ruleKind: 'sla', labels: { rule: 'tickets', region: 'GD' }, items: [
        { kind: 'ticket', id: 'T-9', target: 'resolution', deadline: '2026-12-01T05:00:00Z', elapsed: 0.8 },
        { kind: 'ticket', id: 'T-2', target: 'response', deadline: '2026-12-01T02:30:00Z', elapsed: 0.9 },
      ] }),
      alert({ id: 'b', ruleKind: 'sla', labels: { rule: 'faults', region: 'GD' }, items: [{ kind: 'fault', id: 'F-1', target: 'restore', deadline: '2026-12-01T01:50:00Z', elapsed: 1.04 }] }),
      alert({ id: 'c', ruleKind: 'sla', labels: { rule: 'faults', region: 'BJ' }, items: [{ kind: 'fault', id: 'F-7', target: 'restore', deadline: '2026-12-01T01:00:00Z', elapsed: 1.2 }] }),
      alert({ id: 'd' }),
    ], ['GD'], now);
    expect(items.map((i) => [i.id, i.remainingMs / 60_000, i.instanceId])).toEqual([['F-1', -10, 'b'], ['T-2', 30, 'a'], ['T-9', 180, 'a']]);
  });

  it('silences exactly the instance: its rule and every label, as name=value matchers', () => {
    expect(silenceMatchers(alert({ ruleId: 'svc', labels: { rule: 'svc', region: 'GD', queue: 'hotline' } }))).toEqual(['rule=svc', 'region=GD', 'queue=hotline']);
  });

  it('puts firing before pending, critical before warning, newest first', () => {
    const sorted = sortInbox([
      alert({ id: 'p', state: 'pending', severity: 'critical' }),
      alert({ id: 'w-old', severity: 'warning', firingSince: '2026-12-01T00:00:00Z' }),
      alert({ id: 'w-new', severity: 'warning', firingSince: '2026-12-01T01:30:00Z' }),
      alert({ id: 'c', severity: 'critical' }),
    ]);
    expect(sorted.map((a) => a.id)).toEqual(['c', 'w-new', 'w-old', 'p']);
  });

  it('trend windows end at the next minute; a week uses hourly buckets on whole hours', () => {
    const at = new Date('2026-12-01T02:07:30Z');
    const day = trendWindow('today', at, 'Asia/Shanghai');
    expect([day.from.toISOString(), day.to.toISOString(), day.step]).toEqual(['2026-11-30T16:00:00.000Z', '2026-12-01T02:08:00.000Z', '15m']);
    const week = trendWindow('7d', at, 'Asia/Shanghai');
    expect([week.from.toISOString(), week.step]).toEqual(['2026-11-24T02:00:00.000Z', '1h']);
  });
});

describe('admin rule editor', () => {
  const rule: KpiRule = {
    id: 'answer-rate', kpi: 'answer_rate', window: '15m', when: 'below', thresholds: { warning: 0.95, critical: 0.9 },
    overrides: { XZ: { thresholds: { warning: 0.9, critical: 0.85 } } }, minVolume: 30,
  };

  it('turns overrides into rows and edited rows back into overrides', () => {
    expect(overrideRows(rule)).toEqual([{ region: 'XZ', warning: '0.9', critical: '0.85' }]);
    const { rule: edited, errors } = applyRuleEdit(rule, {
      warning: '0.93', critical: ' 0.9 ', when: 'below',
      overrides: [{ region: 'XZ', warning: '0.9', critical: '0.85' }, { region: 'gd', warning: '0.92', critical: '' }, { region: '', warning: '1', critical: '1' }],
    });
    expect(errors).toEqual([]);
    expect(edited).toEqual({ ...rule, thresholds: { warning: 0.93, critical: 0.9 }, overrides: { XZ: { thresholds: { warning: 0.9, critical: 0.85 } }, GD: { thresholds: { warning: 0.92 } } } });
  });

  it('names every field that is not a number', () => {
    const { errors } = applyRuleEdit(rule, { warning: 'abc', critical: '0.9', when: 'below', overrides: [{ region: 'GD', warning: '1e', critical: '0.8' }] });
    expect(errors).toEqual(['thresholds.warning', 'overrides.GD.warning']);
  });

  it('lists record fields without secrets', () => {
    expect(recordColumns([{ id: 'a', name: 'n', secret: 's' }, { id: 'b', url: 'u', tokenSha256: 'x', passwordHash: 'h' }])).toEqual(['id', 'name', 'url']);
  });
});

describe('rule preview', () => {
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const at = (i: number) => new Date(t0 + i * 900_000).toISOString();
  const series = (region: string, points: [value: number | null, volume: number][]) => ({
    kpi: 'answer_rate', labels: { region }, points: points.map(([value, denominator], i) => ({ t: at(i), value, numerator: (value ?? 0) * denominator, denominator })),
  });
  const response: KpiResponse = {
    from: at(0), to: at(6), step: '15m',
    series: [
      // GD: fine, critical, thin (not judged), still critical, between threshold and clear (stays), recovered past clear.
      series('GD', [[0.97, 50], [0.85, 50], [0.5, 10], [0.89, 50], [0.955, 50], [0.97, 50]]),
      // XZ: 0.88 is below the global critical 0.90 but XZ's override puts critical at 0.85: a warning; it clears at 0.92.
      series('XZ', [[0.88, 50], [0.88, 50], [null, 0], [0.95, 50], [0.95, 50], [0.95, 50]]),
    ],
  };
  const rule: KpiRule = {
    id: 'answer-rate', kpi: 'answer_rate', window: '15m', when: 'below', for: '2m', minVolume: 30,
    thresholds: { warning: 0.95, critical: 0.9 }, clear: { warning: 0.96, critical: 0.92 },
    overrides: { XZ: { thresholds: { warning: 0.9, critical: 0.85 }, clear: { warning: 0.92 } } },
  };

  it('fires after `for`, skips thin buckets, holds until the value recovers past `clear`, and applies overrides', () => {
    expect(replayRule(rule, response, '15m').firings).toEqual([
      { labels: { region: 'XZ' }, severity: 'warning', from: new Date(t0 + 120_000).toISOString(), to: at(3), value: 0.88 },
      { labels: { region: 'GD' }, severity: 'critical', from: new Date(t0 + 900_000 + 120_000).toISOString(), to: at(5), value: 0.85 },
    ]);
  });

  it('with a `for` longer than a bucket, fires only once the condition has held that long', () => {
    const firings = replayRule({ ...rule, for: '20m' }, response, '15m').firings;
    // GD pending from bucket 1 (00:15); 20 minutes later is 00:35, inside bucket 3 (00:45 is its start): fires at 00:45.
    expect(firings.find((f) => f.labels.region === 'GD')!.from).toBe(at(3));
  });

  it('uses the rule window as the bucket when the KPI API has that step', () => {
    expect([previewStep({ window: '5m' }), previewStep({ window: '1h' }), previewStep({ window: '4h' }), previewStep({ window: undefined })]).toEqual(['5m', '1h', '15m', '15m']);
    expect([durationSeconds('90s'), durationSeconds('2h'), durationSeconds('x')]).toEqual([90, 7200, null]);
  });
});

describe('region grid', () => {
  it('places the 31 regions on the map grid, each in its own cell, and extra regions below', () => {
    const codes = ['AH', 'BJ', 'CQ', 'FJ', 'GD', 'GS', 'GX', 'GZ', 'HA', 'HB', 'HE', 'HI', 'HL', 'HN', 'JL', 'JS', 'JX', 'LN', 'NM', 'NX', 'QH', 'SC', 'SD', 'SH', 'SN', 'SX', 'TJ', 'XJ', 'XZ', 'YN', 'ZJ'];
    const cells = gridCells([...codes, 'ZZ']);
    expect(new Set(cells.map((c) => `${c.row},${c.column}`)).size).toBe(32);
    expect(cells.find((c) => c.code === 'HI')).toEqual({ code: 'HI', row: 6, column: 4 });
    expect(cells.find((c) => c.code === 'ZZ')).toEqual({ code: 'ZZ', row: 7, column: 0 });
  });
});
