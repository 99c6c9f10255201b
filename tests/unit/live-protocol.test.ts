/**
 * The live protocol's parsing and windows, the diff between two answers, and
 * the canonical subscription key: pure functions, values worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import type { KpiResponse } from '../../kpi/index.js';
import { parseClientMessage, parseWindow, windowBounds, windowName } from '../../server/live/protocol.js';
import { canonicalSpec, subscriptionKey } from '../../server/live/subscription.js';
import { diffValues, flatten } from '../../server/live/values.js';

describe('windows', () => {
  it('reads today and last N minutes or hours, and spells each one way', () => {
    expect(parseWindow('today')).toEqual({ kind: 'today' });
    expect(parseWindow(' Today ')).toEqual({ kind: 'today' });
    expect(parseWindow('last 15m')).toEqual({ kind: 'last', seconds: 900 });
    expect(parseWindow('last 15 min')).toEqual({ kind: 'last', seconds: 900 });
    expect(parseWindow('last 1h')).toEqual({ kind: 'last', seconds: 3600 });
    expect(parseWindow('last 24 hours')).toEqual({ kind: 'last', seconds: 86400 });
    expect(windowName(parseWindow('last 60 min'))).toBe('last 1h');
    expect(windowName(parseWindow('last 90m'))).toBe('last 90m');
  });

  it.each(['yesterday', 'last 0m', 'last 25h', 'last 15s', 'last m', '', 'today please'])('refuses %j, naming the field', (text) => {
    expect(() => parseWindow(text)).toThrow(/^window:/);
  });

  it('ends after the current second and starts at local midnight for today', () => {
    // 2026-11-30T10:30:00.400+08:00
    const now = new Date('2026-11-30T02:30:00.400Z');
    expect(windowBounds({ kind: 'today' }, now, 'Asia/Shanghai')).toEqual({
      from: new Date('2026-11-29T16:00:00Z'), to: new Date('2026-11-30T02:30:01Z'),
    });
    expect(windowBounds({ kind: 'last', seconds: 900 }, now, 'Asia/Shanghai')).toEqual({
      from: new Date('2026-11-30T02:15:01Z'), to: new Date('2026-11-30T02:30:01Z'),
    });
    // Just after local midnight "today" is one second long, never empty.
    const midnight = new Date('2026-11-29T16:00:00Z');
    expect(windowBounds({ kind: 'today' }, midnight, 'Asia/Shanghai')).toEqual({ from: midnight, to: new Date('2026-11-29T16:00:01Z') });
  });
});

describe('client messages', () => {
  it('parses a subscribe with defaults', () => {
    expect(parseClientMessage('{"type":"subscribe","kpis":["offered"],"window":"today"}')).toEqual({
      ok: true,
      message: { type: 'subscribe', id: 'default', kpis: ['offered'], regions: undefined, by: [], window: { kind: 'today' }, step: undefined },
    });
    expect(parseClientMessage('{"type":"subscribe","id":"w.1","kpis":["offered"],"regions":["GD"],"by":["region"],"window":"last 5m","step":"1m","protocol":1}'))
      .toMatchObject({ ok: true, message: { id: 'w.1', regions: ['GD'], by: ['region'], window: { kind: 'last', seconds: 300 }, step: '1m' } });
    expect(parseClientMessage('{"type":"unsubscribe"}')).toEqual({ ok: true, message: { type: 'unsubscribe', id: 'default' } });
    expect(parseClientMessage('{"type":"ping","nonce":"a"}')).toEqual({ ok: true, message: { type: 'ping', nonce: 'a' } });
  });

  it.each([
    ['[1]', /JSON object/],
    ['null', /JSON object/],
    ['{"kpis":[]}', /^type:/],
    ['{"type":"subscribe","kpis":"offered","window":"today"}', /^kpis: must be an array/],
    ['{"type":"subscribe","kpis":[],"window":"today"}', /^kpis: give at least one/],
    ['{"type":"subscribe","kpis":[""],"window":"today"}', /^kpis:/],
    ['{"type":"subscribe","kpis":["offered"],"regions":"GD","window":"today"}', /^regions:/],
    ['{"type":"subscribe","kpis":["offered"],"by":[1],"window":"today"}', /^by:/],
    ['{"type":"subscribe","kpis":["offered"]}', /^window: required/],
    ['{"type":"subscribe","kpis":["offered"],"window":"today","protocol":2}', /^protocol: this server speaks protocol 1/],
    ['{"type":"subscribe","kpis":["offered"],"window":"today","extra":true}', /^extra: unknown field/],
    ['{"type":"unsubscribe","id":""}', /^id:/],
    ['{"type":"ping","nonce":{}}', /^nonce:/],
  ])('refuses %s with a message naming the field', (text, message) => {
    const result = parseClientMessage(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('SQM_BAD_REQUEST');
      expect(result.error.message).toMatch(message);
    }
  });

  it('names the subscription in an error when the message gave one', () => {
    expect(parseClientMessage('{"type":"subscribe","id":"wall","kpis":["offered"],"window":"never"}'))
      .toMatchObject({ ok: false, error: { id: 'wall' } });
  });
});

describe('subscription keys', () => {
  it('is the same however the same subscription is spelled', () => {
    const a = canonicalSpec(['answer_rate', 'offered'], ['GD', 'BJ'], ['region', 'queue'], { kind: 'today' }, undefined);
    const b = canonicalSpec(['offered', 'answer_rate', 'offered'], ['BJ', 'GD', 'BJ'], ['queue', 'region'], parseWindow('TODAY'), undefined);
    expect(a).toEqual({ kpis: ['offered', 'answer_rate'], regions: ['BJ', 'GD'], by: ['region', 'queue'], window: { kind: 'today' }, step: undefined });
    expect(subscriptionKey(b)).toBe(subscriptionKey(a));
  });

  it('differs when the window, step, regions or KPIs differ', () => {
    const base = subscriptionKey(canonicalSpec(['offered'], ['GD'], [], { kind: 'today' }, undefined));
    expect(subscriptionKey(canonicalSpec(['offered'], ['GD'], [], { kind: 'last', seconds: 900 }, undefined))).not.toBe(base);
    expect(subscriptionKey(canonicalSpec(['offered'], ['GD'], [], { kind: 'today' }, '5m'))).not.toBe(base);
    expect(subscriptionKey(canonicalSpec(['offered'], ['GD', 'BJ'], [], { kind: 'today' }, undefined))).not.toBe(base);
    expect(subscriptionKey(canonicalSpec(['offered', 'asa'], ['GD'], [], { kind: 'today' }, undefined))).not.toBe(base);
  });
});

describe('values and diffs', () => {
  const response = (points: Array<[string, string, number, number]>, t = '2026-11-30T02:00:00.000Z'): KpiResponse => ({
    from: t, to: t,
    series: points.map(([kpi, region, numerator, denominator]) => ({
      kpi, labels: { region }, points: [{ t, value: denominator === 0 ? null : numerator / denominator, numerator, denominator }],
    })),
  });

  it('sends only values new or different, and the keys that left', () => {
    const before = flatten(response([['answer_rate', 'GD', 1, 2], ['answer_rate', 'BJ', 1, 1], ['offered', 'SH', 0, 1]]), ['region'], false);
    const after = flatten(response([['answer_rate', 'GD', 2, 3], ['answer_rate', 'BJ', 1, 1], ['offered', 'GX', 1, 1]]), ['region'], false);
    expect(diffValues(before, after)).toEqual({
      changed: [
        { kpi: 'answer_rate', labels: { region: 'GD' }, value: 2 / 3, numerator: 2, denominator: 3 },
        { kpi: 'offered', labels: { region: 'GX' }, value: 1, numerator: 1, denominator: 1 },
      ],
      removed: [{ kpi: 'offered', labels: { region: 'SH' } }],
    });
    expect(diffValues(after, after)).toEqual({ changed: [], removed: [] });
  });

  it('keys values by time only with a step, so a sliding window without one is not a change', () => {
    const at10 = flatten(response([['offered', 'GD', 3, 1]], '2026-11-30T02:10:00.000Z'), ['region'], false);
    const at11 = flatten(response([['offered', 'GD', 3, 1]], '2026-11-30T02:11:00.000Z'), ['region'], false);
    expect(diffValues(at10, at11)).toEqual({ changed: [], removed: [] });
    const stepped10 = flatten(response([['offered', 'GD', 3, 1]], '2026-11-30T02:10:00.000Z'), ['region'], true);
    const stepped11 = flatten(response([['offered', 'GD', 3, 1]], '2026-11-30T02:11:00.000Z'), ['region'], true);
    expect(diffValues(stepped10, stepped11)).toEqual({
      changed: [{ kpi: 'offered', labels: { region: 'GD' }, t: '2026-11-30T02:11:00.000Z', value: 3, numerator: 3, denominator: 1 }],
      removed: [{ kpi: 'offered', labels: { region: 'GD' }, t: '2026-11-30T02:10:00.000Z' }],
    });
  });

  it('treats a value becoming null (denominator 0) as a change', () => {
    const before = flatten(response([['answer_rate', 'GD', 1, 2]]), ['region'], false);
    const after = flatten(response([['answer_rate', 'GD', 0, 0]]), ['region'], false);
    expect(diffValues(before, after).changed).toEqual([{ kpi: 'answer_rate', labels: { region: 'GD' }, value: null, numerator: 0, denominator: 0 }]);
  });
});
