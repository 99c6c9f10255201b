/**
 * The traffic model in simulated time: reproducible, shaped by the daily curve,
 * KPIs that emerge from load versus staff, the demo incident, and records that
 * all satisfy RECORDS.md.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { createModel, type ModelOptions } from '../../simulator/model.js';
import { loadScenario, type Scenario } from '../../simulator/scenario.js';
import { dailyCurve } from '../../simulator/daily-curve.js';
import { agentsNeeded, erlangC, serviceLevel } from '../../simulator/staffing.js';
import { createRandom } from '../../simulator/random.js';
import type { CallRecord, RecordBatch } from '../../simulator/records.js';

const config = loadConfig();
const REGION_CODES = config.regions.map((r) => r.code);
/** Monday 30 November 2026, 10:00 Beijing time. */
const MON_10 = Date.parse('2026-11-30T10:00:00+08:00') / 1000;
const epoch = (iso: string): number => Date.parse(iso) / 1000;

function run(options: Partial<ModelOptions> & { until: number }): RecordBatch {
  const model = createModel({ config, seed: 11, start: MON_10, ...options });
  return model.advanceTo(options.until);
}

interface Tally { answered: number; offered: number; withinSl: number; waitSum: number }

/** answered / (calls − abandons under 5 s), per RECORDS.md/KPIS.md, over the calls given. */
function tally(calls: readonly CallRecord[]): Tally {
  const t: Tally = { answered: 0, offered: 0, withinSl: 0, waitSum: 0 };
  for (const c of calls) {
    const wait = epoch(c.answeredAt ?? c.endedAt) - epoch(c.enteredAt);
    if (c.outcome === 'abandoned' && wait < 5) continue;
    t.offered++;
    if (c.outcome === 'answered') {
      t.answered++;
      t.waitSum += wait;
      if (wait <= 20) t.withinSl++;
    }
  }
  return t;
}

/** Answer rate per minute (by enteredAt) for one region, minutes counted from `start`. */
function answerRateByMinute(calls: readonly CallRecord[], region: string, start: number, minutes: number): (number | null)[] {
  const buckets: CallRecord[][] = Array.from({ length: minutes }, () => []);
  for (const c of calls) {
    if (c.region !== region) continue;
    const m = Math.floor((epoch(c.enteredAt) - start) / 60);
    if (m >= 0 && m < minutes) buckets[m]?.push(c);
  }
  return buckets.map((b) => {
    const t = tally(b);
    return t.offered === 0 ? null : t.answered / t.offered;
  });
}

/** The longest run of consecutive minutes whose answer rate is below `threshold`: [first minute, length]. */
function longestRunBelow(rates: readonly (number | null)[], threshold: number): [number, number] {
  let best: [number, number] = [-1, 0];
  let start = -1;
  rates.forEach((r, i) => {
    if (r !== null && r < threshold) {
      if (start < 0) start = i;
      if (i - start + 1 > best[1]) best = [start, i - start + 1];
    } else start = -1;
  });
  return best;
}

describe('random numbers and staffing maths', () => {
  it('repeats a sequence for the same seed and differs for another', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
  });

  it('draws Poisson counts with the right mean', () => {
    const rng = createRandom(5);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += rng.poisson(3.5);
    expect(sum / 20_000).toBeCloseTo(3.5, 1);
  });

  it('computes Erlang C and sizes a queue by hand-checked values', () => {
    // 2 Erlangs on 3 agents: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19; C = 3B / (3 − 2(1 − B)) = 4/9.
    expect(erlangC(3, 2)).toBeCloseTo(4 / 9, 10);
    // Service level within 20 s at AHT 200 s: 1 − 4/9 · e^(−(3−2)·20/200).
    expect(serviceLevel(3, 0.01, 200, 20)).toBeCloseTo(1 - (4 / 9) * Math.exp(-0.1), 10);
    // 3 agents give 0.598 < 0.85; 4 agents: C(4,2) = 4/23, SL = 1 − 4/23·e^(−0.2) = 0.858.
    expect(agentsNeeded(0.01, 200)).toBe(4);
  });
});

describe('simulator model', () => {
  it('is deterministic: the same seed gives the same records, another seed different ones', () => {
    const opts = { regions: ['GD', 'BJ', 'XZ'], until: MON_10 + 1800 };
    const a = run(opts);
    const b = run(opts);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.calls.length).toBeGreaterThan(100);
    const c = run({ ...opts, seed: 12 });
    expect(JSON.stringify(c.calls)).not.toBe(JSON.stringify(a.calls));
    // Each region draws from its own stream: GD alone gives exactly GD's part of a larger run.
    const gdAlone = run({ regions: ['GD'], until: MON_10 + 1800 });
    expect(JSON.stringify(gdAlone.calls)).toBe(JSON.stringify(a.calls.filter((r) => r.region === 'GD')));
  });

  it('follows the daily curve: night volume far below the 10:00 peak, peaks at 10:00 and 20:00', () => {
    // Knots average 21.08 / 24 = 0.878333, so 10:00 on a weekday is 1.6 / 0.874167 and Saturday is 15 % lower.
    expect(dailyCurve(MON_10)).toBeCloseTo(1.6 / (21.08 / 24), 6);
    expect(dailyCurve(epoch('2026-12-05T10:00:00+08:00'))).toBeCloseTo((0.85 * 1.6) / (21.08 / 24), 6);
    expect(dailyCurve(epoch('2026-11-30T10:30:00+08:00'))).toBeCloseTo((1.6 + 1.45) / 2 / (21.08 / 24), 6);

    const midnight = epoch('2026-12-01T00:00:00+08:00'); // a Tuesday
    const batch = createModel({ config, seed: 3, start: midnight, regions: ['GD'], backgroundFaults: false }).advanceTo(midnight + 86400 + 3600);
    const perHour = new Array<number>(24).fill(0);
    for (const c of batch.calls) {
      const h = Math.floor((epoch(c.enteredAt) - midnight) / 3600);
      if (h >= 0 && h < 24) perHour[h] = (perHour[h] ?? 0) + 1;
    }
    const at = (h: number): number => perHour[h] ?? 0;
    const night = (at(2) + at(3) + at(4)) / 3;
    expect(at(10)).toBeGreaterThan(500);
    expect(night).toBeLessThan(0.1 * at(10));
    expect(at(10)).toBeGreaterThan(1.5 * at(7));
    expect(at(20)).toBeGreaterThan(1.1 * at(17));
    const top = [...perHour.keys()].sort((x, y) => at(y) - at(x)).slice(0, 2).sort((x, y) => x - y);
    expect(top[0]).toBeGreaterThanOrEqual(9);
    expect(top[0]).toBeLessThanOrEqual(11);
    expect(top[1]).toBeGreaterThanOrEqual(19);
    expect(top[1]).toBeLessThanOrEqual(21);
  });

  it('lets KPIs emerge: with staffing fixed, more load lowers answer rate and service level and raises ASA', () => {
    const surge = (m: number): Scenario => ({ name: 'load', events: [{ kind: 'surge', at: 0, region: 'GD', duration: 7200, callMultiplier: m }] });
    const measure = (scenario: Scenario | undefined): Tally => {
      const batch = run({ regions: ['GD'], scenario, backgroundFaults: false, until: MON_10 + 3 * 3600 });
      // Calls that entered in the two hours of the test (the extra hour lets them finish).
      return tally(batch.calls.filter((c) => epoch(c.enteredAt) < MON_10 + 7200));
    };
    const base = measure(undefined);
    const busier = measure(surge(1.3));
    const overloaded = measure(surge(1.8));
    const ar = (t: Tally): number => t.answered / t.offered;
    const sl = (t: Tally): number => t.withinSl / t.offered;
    const asa = (t: Tally): number => t.waitSum / t.answered;
    expect(busier.offered).toBeGreaterThan(1.2 * base.offered);
    expect(ar(base)).toBeGreaterThan(0.95);
    expect(sl(base)).toBeGreaterThan(0.8);
    expect(ar(busier)).toBeLessThan(ar(base) - 0.03);
    expect(ar(overloaded)).toBeLessThan(ar(busier) - 0.1);
    expect(sl(overloaded)).toBeLessThan(sl(busier));
    expect(sl(busier)).toBeLessThan(sl(base));
    expect(asa(overloaded)).toBeGreaterThan(asa(busier));
    expect(asa(busier)).toBeGreaterThan(asa(base));
  });

  it('lets KPIs emerge from staff too: the same load with 70 % of the staff answers fewer calls', () => {
    const short: Scenario = { name: 'short', events: [{ kind: 'staffing', at: 0, region: 'GD', duration: 7200, factor: 0.7 }] };
    const base = tally(run({ regions: ['GD'], backgroundFaults: false, until: MON_10 + 3 * 3600 }).calls.filter((c) => epoch(c.enteredAt) < MON_10 + 7200));
    const fewer = tally(run({ regions: ['GD'], backgroundFaults: false, scenario: short, until: MON_10 + 3 * 3600 }).calls.filter((c) => epoch(c.enteredAt) < MON_10 + 7200));
    expect(fewer.answered / fewer.offered).toBeLessThan(base.answered / base.offered - 0.1);
  });

  it('plays the demo incident at 03:00 too: calls caused by the fault do not shrink with the night trickle', () => {
    const demo = loadScenario('demo', REGION_CODES);
    const night = Date.parse('2026-11-30T03:00:00+08:00') / 1000;
    const batch = run({ scenario: demo, regions: ['GD'], start: night, until: night + 75 * 60 });
    const gd = answerRateByMinute(batch.calls, 'GD', night, 60);
    const [first, length] = longestRunBelow(gd, 0.9);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(first).toBeGreaterThanOrEqual(3);
    // The fault draws at least the day's mean rate: for GD about 11,000 contacts a day, 7–8 a minute.
    const during = batch.calls.filter((c) => {
      const m = (epoch(c.enteredAt) - night) / 60;
      return m >= 5 && m < 20;
    });
    expect(during.length / 15).toBeGreaterThan(5);
  });

  it('plays the demo scenario: GD answer rate below 0.90 for at least 10 minutes, then recovers; other regions do not dip', () => {
    const demo = loadScenario('demo', REGION_CODES);
    // 75 minutes so calls that entered in the first hour have ended.
    const batch = run({ scenario: demo, until: MON_10 + 75 * 60 });
    const gd = answerRateByMinute(batch.calls, 'GD', MON_10, 60);
    const [first, length] = longestRunBelow(gd, 0.9);
    expect(length).toBeGreaterThanOrEqual(10);
    // It starts with the fault (T+3 min) and is over well before the hour ends.
    expect(first).toBeGreaterThanOrEqual(3);
    expect(first).toBeLessThanOrEqual(5);
    expect(first + length).toBeLessThanOrEqual(40);
    // Before the fault and after recovery, GD answers more than 95 % of its calls.
    const gdCalls = batch.calls.filter((c) => c.region === 'GD');
    const inMinutes = (from: number, to: number): CallRecord[] => gdCalls.filter((c) => {
      const m = (epoch(c.enteredAt) - MON_10) / 60;
      return m >= from && m < to;
    });
    const before = tally(inMinutes(0, 3));
    const after = tally(inMinutes(first + length + 5, 60));
    expect(before.answered / before.offered).toBeGreaterThan(0.95);
    expect(after.offered).toBeGreaterThan(100);
    expect(after.answered / after.offered).toBeGreaterThan(0.95);
    // The incident is GD's alone (small queues have the odd bad minute, never a ten-minute dip).
    for (const code of REGION_CODES.filter((c) => c !== 'GD')) {
      const rates = answerRateByMinute(batch.calls, code, MON_10, 60);
      expect(longestRunBelow(rates, 0.9)[1], code).toBeLessThan(10);
      const hour = tally(batch.calls.filter((c) => c.region === code && epoch(c.enteredAt) < MON_10 + 3600));
      expect(hour.answered / hour.offered, code).toBeGreaterThan(0.9);
    }
    // The fault itself is sent: detected at T+3, acknowledged at T+7, restored at T+23.
    const fault = batch.faults.filter((f) => f.region === 'GD' && f.cause === 'fibre cut').at(-1);
    expect(fault).toMatchObject({ severity: 'critical', domain: 'transmission', detectedAt: '2026-11-30T10:03:00+08:00', acknowledgedAt: '2026-11-30T10:07:00+08:00', restoredAt: '2026-11-30T10:23:00+08:00' });
    // And it drives fault tickets in GD.
    const faultTickets = new Set(batch.tickets.filter((t) => t.region === 'GD' && t.category === 'fault').map((t) => t.id));
    const otherFaultTickets = new Set(batch.tickets.filter((t) => t.region === 'SD' && t.category === 'fault').map((t) => t.id));
    expect(faultTickets.size).toBeGreaterThan(5 * Math.max(1, otherFaultTickets.size));
  });
});

// ---- record validity (RECORDS.md), checked independently of the generator's own constants ----

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/;
const ENUMS = {
  callChannel: ['voice', 'chat', 'video'],
  outcome: ['answered', 'abandoned', 'callback', 'overflow'],
  ticketChannel: ['hotline', 'app', 'web', 'wechat', 'sms', 'store', 'social'],
  category: ['complaint', 'fault', 'inquiry', 'request'],
  priority: ['urgent', 'high', 'normal', 'low'],
  status: ['open', 'in_progress', 'pending', 'resolved', 'closed'],
  domain: ['wireless', 'transmission', 'core', 'broadband', 'power'],
  severity: ['critical', 'major', 'minor'],
  touchpoint: ['call', 'ticket', 'fault', 'store'],
};
const FIELDS = {
  calls: ['id', 'region', 'queue', 'channel', 'enteredAt', 'answeredAt', 'endedAt', 'outcome', 'talkSeconds', 'holdSeconds', 'wrapSeconds', 'agent', 'customer', 'resolved'],
  tickets: ['id', 'region', 'channel', 'category', 'priority', 'openedAt', 'firstResponseAt', 'resolvedAt', 'closedAt', 'status', 'reopenCount', 'customer', 'updatedAt'],
  faults: ['id', 'region', 'site', 'domain', 'severity', 'detectedAt', 'acknowledgedAt', 'restoredAt', 'customersAffected', 'cause', 'updatedAt'],
  surveys: ['id', 'region', 'channel', 'touchpoint', 'refId', 'answeredAt', 'csat', 'nps', 'ces', 'customer'],
  queues: ['region', 'queue', 'at', 'waiting', 'longestWaitSeconds', 'agentsReady', 'agentsBusy', 'agentsPaused'],
  subscribers: ['region', 'asOf', 'subscribers'],
} as const;

function problemsOf(kind: keyof typeof FIELDS, r: Record<string, unknown>, notAfter: number): string[] {
  const p: string[] = [];
  for (const key of Object.keys(r)) if (!(FIELDS[kind] as readonly string[]).includes(key)) p.push(`unknown field ${key}`);
  if (!REGION_CODES.includes(r.region as string)) p.push(`region ${String(r.region)}`);
  const time = (f: string, required: boolean): number | undefined => {
    const v = r[f];
    if (v === undefined) {
      if (required) p.push(`${f} missing`);
      return undefined;
    }
    if (typeof v !== 'string' || !ISO.test(v)) {
      p.push(`${f} not ISO-8601 with offset: ${String(v)}`);
      return undefined;
    }
    const t = epoch(v);
    if (t > notAfter) p.push(`${f} in the future: ${v}`);
    return t;
  };
  const ordered = (names: string[]): void => {
    const ts = names.map((n) => [n, r[n] === undefined ? undefined : epoch(r[n] as string)] as const).filter(([, t]) => t !== undefined);
    for (let i = 1; i < ts.length; i++) if ((ts[i]?.[1] as number) < (ts[i - 1]?.[1] as number)) p.push(`${ts[i]?.[0]} before ${ts[i - 1]?.[0]}`);
  };
  const str = (f: string, required = true): void => {
    const v = r[f];
    if (v === undefined ? required : typeof v !== 'string' || v.length === 0 || v.length > 256) p.push(`${f}: ${String(v)}`);
  };
  const int = (f: string, min: number, max: number, required = true): void => {
    const v = r[f];
    if (v === undefined ? required : !Number.isInteger(v) || (v as number) < min || (v as number) > max) p.push(`${f}: ${String(v)}`);
  };
  const oneOf = (f: string, values: readonly string[]): void => {
    if (!values.includes(r[f] as string)) p.push(`${f}: ${String(r[f])}`);
  };
  switch (kind) {
    case 'calls': {
      str('id'); str('queue'); str('agent', false); str('customer', false);
      oneOf('channel', ENUMS.callChannel); oneOf('outcome', ENUMS.outcome);
      time('enteredAt', true); time('endedAt', true); time('answeredAt', false);
      ordered(['enteredAt', 'answeredAt', 'endedAt']);
      const answered = r.outcome === 'answered';
      if (answered !== (r.answeredAt !== undefined)) p.push('answeredAt present iff answered');
      for (const f of ['talkSeconds', 'holdSeconds', 'wrapSeconds']) int(f, 0, 86400, answered);
      if (!answered && (r.talkSeconds !== undefined || r.agent !== undefined || r.resolved !== undefined)) p.push('unanswered call with talk/agent/resolved');
      if (r.resolved !== undefined && typeof r.resolved !== 'boolean') p.push('resolved not boolean');
      break;
    }
    case 'tickets': {
      str('id'); str('customer', false);
      oneOf('channel', ENUMS.ticketChannel); oneOf('category', ENUMS.category); oneOf('priority', ENUMS.priority); oneOf('status', ENUMS.status);
      for (const f of ['openedAt', 'updatedAt']) time(f, true);
      for (const f of ['firstResponseAt', 'resolvedAt', 'closedAt']) time(f, false);
      ordered(['openedAt', 'firstResponseAt', 'resolvedAt', 'closedAt', 'updatedAt']);
      int('reopenCount', 0, 1000, false);
      if (r.status === 'open' && r.firstResponseAt !== undefined) p.push('open ticket with a first response');
      if ((r.status === 'resolved' || r.status === 'closed') && r.resolvedAt === undefined) p.push(`${String(r.status)} without resolvedAt`);
      if (r.status === 'closed' && r.closedAt === undefined) p.push('closed without closedAt');
      if ((r.status === 'in_progress' || r.status === 'pending') && r.resolvedAt !== undefined) p.push('unresolved status with resolvedAt');
      break;
    }
    case 'faults': {
      str('id'); str('site', false); str('cause', false);
      oneOf('domain', ENUMS.domain); oneOf('severity', ENUMS.severity);
      time('detectedAt', true); time('updatedAt', true); time('acknowledgedAt', false); time('restoredAt', false);
      ordered(['detectedAt', 'acknowledgedAt', 'restoredAt', 'updatedAt']);
      int('customersAffected', 0, 1e9, false);
      break;
    }
    case 'surveys': {
      str('id'); str('channel'); str('refId', false); str('customer', false);
      oneOf('touchpoint', ENUMS.touchpoint);
      time('answeredAt', true);
      int('csat', 1, 5, false); int('nps', 0, 10, false); int('ces', 1, 7, false);
      if (r.csat === undefined && r.nps === undefined && r.ces === undefined) p.push('survey without a score');
      break;
    }
    case 'queues': {
      str('queue'); time('at', true);
      int('waiting', 0, 1e6); int('longestWaitSeconds', 0, 86400);
      int('agentsReady', 0, 1e5, false); int('agentsBusy', 0, 1e5, false); int('agentsPaused', 0, 1e5, false);
      break;
    }
    case 'subscribers': {
      if (typeof r.asOf !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(r.asOf)) p.push(`asOf: ${String(r.asOf)}`);
      int('subscribers', 0, 2e9);
      break;
    }
  }
  return p;
}

describe('simulated records', () => {
  it('are all valid per RECORDS.md, never in the future, and snapshots advance', () => {
    const model = createModel({ config, seed: 9, start: MON_10, regions: ['GD', 'XZ', 'SH'], scenario: loadScenario('demo', REGION_CODES) });
    const problems: string[] = [];
    const seen = { calls: 0, tickets: 0, faults: 0, surveys: 0, queues: 0, subscribers: 0 };
    const statuses = new Set<string>();
    const outcomes = new Set<string>();
    const callIds = new Set<string>();
    const lastStamp = new Map<string, number>();
    // Two days in uneven steps, so tickets go all the way to closed and records cross step boundaries.
    for (let t = MON_10; t < MON_10 + 2 * 86400;) {
      t += 1337;
      const batch = model.advanceTo(t);
      for (const kind of Object.keys(seen) as (keyof typeof seen)[]) {
        for (const record of batch[kind] as unknown as Record<string, unknown>[]) {
          seen[kind]++;
          for (const problem of problemsOf(kind, record, t)) if (problems.length < 20) problems.push(`${kind} ${JSON.stringify(record)}: ${problem}`);
          if (kind === 'tickets' || kind === 'faults') {
            const stamp = epoch(record.updatedAt as string);
            const key = `${kind}:${String(record.id)}`;
            if (stamp <= (lastStamp.get(key) ?? -Infinity)) problems.push(`${key}: updatedAt does not advance`);
            lastStamp.set(key, stamp);
          }
          if (kind === 'tickets') statuses.add(record.status as string);
          if (kind === 'calls') {
            outcomes.add(record.outcome as string);
            if (callIds.has(record.id as string)) problems.push(`duplicate call id ${String(record.id)}`);
            callIds.add(record.id as string);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(0);
    expect([...statuses].sort()).toEqual(['closed', 'in_progress', 'open', 'pending', 'resolved']);
    expect([...outcomes].sort()).toEqual(['abandoned', 'answered', 'callback', 'overflow']);
    // Subscribers once a day: at the start and at each Beijing midnight.
    expect(seen.subscribers).toBe(3 * 3);
  });

  it('samples every queue every 5 seconds', () => {
    const batch = run({ regions: ['BJ'], until: MON_10 + 60 });
    // t = 0, 5, …, 60: 13 samples for each of the three queues.
    expect(batch.queues.length).toBe(13 * 3);
    expect(new Set(batch.queues.map((q) => q.queue))).toEqual(new Set(['hotline', 'online', 'video']));
    expect(batch.queues.filter((q) => q.queue === 'hotline').map((q) => q.at).slice(0, 3)).toEqual([
      '2026-11-30T10:00:00+08:00', '2026-11-30T10:00:05+08:00', '2026-11-30T10:00:10+08:00',
    ]);
  });

  it('plans staff by hour with the daily curve', () => {
    const model = createModel({ config, seed: 1, start: MON_10, regions: ['GD'] });
    const plan = model.staffingPlan('GD', MON_10);
    const hotline = plan.hotline as number[];
    expect(hotline).toHaveLength(24);
    expect(hotline[3]).toBeLessThan((hotline[10] as number) / 4);
    expect(hotline[10]).toBeGreaterThan(30);
  });
});
