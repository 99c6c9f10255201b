/**
 * bench:alerts — does alert evaluation cost follow rules, not regions?
 *
 * 1. Loads the same synthetic data (calls, tickets, faults, surveys for all 31
 *    regions over the last two hours; deterministic) into a fresh embedded store.
 * 2. Evaluates 20 KPI rules (one per KPI across the four families) with the
 *    configuration's 31 regions and the same 20 rules with a configuration of
 *    1 region, on the same data, taking turns `--runs` times (default 5); prints
 *    the median and the best run of each. Each rule is ONE query for all its
 *    regions, so the ratio should stay well under 2.
 * 3. Latency with `for: 0`: the time from POSTing (through the ingest API) the calls
 *    that push GD below the threshold to the notifier being called — once with an
 *    immediate evaluation, once with the rule on its own timer (`every: 1s`, so up
 *    to a second of waiting for the next tick is part of it).
 * 4. Prints the figures and writes bench/out/alerts.json.
 *
 * Not a test: figures vary with the machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAlertEngine, createRecordingNotifier, type AlertEvent, type RecordingNotifier } from '../alerts/index.js';
import { loadConfig, validateConfigObject, type SqmConfig } from '../config/index.js';
import { createKpiEngine } from '../kpi/index.js';
import { buildServer } from '../server/app.js';
import { createLogger } from '../server/logger.js';
import { migrate, openEmbeddedStore, type Store } from '../store/index.js';
import { argValue } from './args.js';
import { createRandom } from '../simulator/random.js';

const CALLS = argValue('--calls', 200_000);
const RUNS = argValue('--runs', 5);
const TOKEN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

/** 20 rules, one per KPI, over every family; `for: 0`, thresholds tight enough that many fire. */
const rulesNamed = (prefix: string) => [
  ['answer_rate', 'below', 0.95, '15m'], ['service_level', 'below', 0.8, '15m'], ['abandon_rate', 'above', 0.05, '15m'],
  ['asa', 'above', 20, '15m'], ['aht', 'above', 600, '15m'], ['fcr', 'below', 0.85, '1h'],
  ['response_sla', 'below', 0.95, '2h'], ['resolution_sla', 'below', 0.9, '2h'], ['mean_response_hours', 'above', 1, '2h'],
  ['complaints', 'above', 50, '2h'], ['complaint_rate', 'above', 1, '2h'], ['backlog', 'above', 100, '2h'], ['at_risk', 'above', 10, '2h'],
  ['mttr_hours', 'above', 4, '2h'], ['mtta_minutes', 'above', 15, '2h'], ['restore_sla', 'below', 0.95, '2h'], ['open_faults', 'above', 5, '2h'],
  ['csat', 'below', 0.9, '2h'], ['nps', 'below', 30, '2h'], ['ces', 'below', 5, '2h'],
].map(([kpi, when, warning, window]) => ({
  id: `${prefix}-${String(kpi).replaceAll('_', '-')}`, kpi, by: ['region'], window, when, thresholds: { warning }, for: '0', minVolume: 1,
}));

function configWith(regions: number, rules: unknown[]): SqmConfig {
  const base = structuredClone(loadConfig()) as SqmConfig;
  return validateConfigObject({
    ...base,
    regions: regions === 1 ? base.regions.filter((r) => r.code === 'GD') : base.regions,
    alerts: { rules },
  }, 'bench');
}

async function loadData(store: Store, regions: string[], end: number): Promise<void> {
  // The simulator's seeded generator, so every run sends the same rows.
  const seeded = createRandom(20261130);
  const random = () => seeded.next();
  const ingestedAt = end;
  const calls = [];
  for (let i = 0; i < CALLS; i++) {
    const region = regions[i % regions.length] as string;
    const enteredAt = end - 1 - Math.floor(random() * 7200);
    const wait = Math.floor(random() * random() * 90);
    const answered = random() < 0.92;
    calls.push({
      id: `c${i}`, region, queue: `${region.toLowerCase()}-q${i % 3}`, channel: 'voice', enteredAt,
      answeredAt: answered ? enteredAt + wait : null, endedAt: enteredAt + wait + 200, outcome: answered ? 'answered' : 'abandoned',
      waitSeconds: wait, talkSeconds: answered ? 180 : null, holdSeconds: null, wrapSeconds: answered ? 20 : null,
      agent: '', customer: '', resolved: answered ? (random() < 0.85 ? 1 : 0) : null, ingestedAt,
    });
  }
  await store.insert('calls', calls);
  const tickets = [];
  const faults = [];
  const surveys = [];
  for (let i = 0; i < CALLS / 20; i++) {
    const region = regions[i % regions.length] as string;
    const openedAt = end - Math.floor(random() * 4 * 3600);
    const responded = random() < 0.8 ? openedAt + Math.floor(random() * 5 * 3600) : null;
    const resolved = responded !== null && random() < 0.5 ? responded + Math.floor(random() * 3600) : null;
    tickets.push({
      id: `t${i}`, region, channel: 'hotline', category: random() < 0.3 ? 'complaint' : 'inquiry', priority: random() < 0.5 ? 'high' : 'normal',
      openedAt, firstResponseAt: responded !== null && responded < end ? responded : null, resolvedAt: resolved !== null && resolved < end ? resolved : null,
      closedAt: null, status: 'open', reopenCount: 0, customer: `cust${i % 5000}`, updatedAt: openedAt, ingestedAt,
    });
    surveys.push({
      id: `s${i}`, region, channel: 'voice', touchpoint: 'call', refId: '', answeredAt: end - 1 - Math.floor(random() * 7200),
      csat: 1 + Math.floor(random() * 5), nps: Math.floor(random() * 11), ces: 1 + Math.floor(random() * 7), customer: '', ingestedAt,
    });
    if (i % 10 === 0) {
      const detectedAt = end - Math.floor(random() * 6 * 3600);
      faults.push({
        id: `f${i}`, region, site: '', domain: 'wireless', severity: random() < 0.3 ? 'critical' : 'major', detectedAt,
        acknowledgedAt: detectedAt + 600, restoredAt: random() < 0.5 ? Math.min(end - 1, detectedAt + 3 * 3600) : null,
        customersAffected: 1000, cause: '', updatedAt: detectedAt, ingestedAt,
      });
    }
  }
  await store.insert('tickets', tickets);
  await store.insert('faults', faults);
  await store.insert('surveys', surveys);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

interface Timing {
  medianMs: number;
  minMs: number;
  runsMs: number[];
  events: number;
  errors: number;
}

/** One timed evaluation of every rule by a fresh engine (its state loaded, and the engine warmed, outside the timing). */
async function timeOnce(store: Store, config: SqmConfig, at: Date, notifier: RecordingNotifier): Promise<{ ms: number; errors: number }> {
  const kpis = createKpiEngine({ store, config, now: () => at });
  const engine = createAlertEngine({ store, config, kpis, notifier, logger: createLogger('silent'), now: () => at, concurrency: 1 });
  await engine.evaluate(new Date(at.getTime() - 60_000));
  const started = performance.now();
  const report = await engine.evaluate(at);
  return { ms: performance.now() - started, errors: report.errors };
}

/**
 * The two configurations take turns (31, 1, 31, 1…) so that a noisy neighbour
 * slows both alike; the first round warms up and is dropped.
 */
async function timeBoth(store: Store, configs: [SqmConfig, SqmConfig], at: Date): Promise<[Timing, Timing]> {
  const notifiers = [createRecordingNotifier(), createRecordingNotifier()];
  const runs: number[][] = [[], []];
  const errors = [0, 0];
  for (let round = 0; round < RUNS + 1; round++) {
    for (const k of [0, 1]) {
      const { ms, errors: e } = await timeOnce(store, configs[k] as SqmConfig, at, notifiers[k] as RecordingNotifier);
      if (round > 0) (runs[k] as number[]).push(ms);
      errors[k] = (errors[k] as number) + e;
    }
  }
  const timing = (k: number): Timing => ({
    medianMs: median(runs[k] as number[]), minMs: Math.min(...(runs[k] as number[])), runsMs: runs[k] as number[],
    events: (notifiers[k] as RecordingNotifier).events.length, errors: errors[k] as number,
  });
  return [timing(0), timing(1)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-bench-alerts-'));
  try {
    const store = await openEmbeddedStore({ dataDir: dir, database: 'sqm_bench_alerts' });
    await migrate(store);
    // Different rule ids per run, so neither starts from the other's stored instances.
    const all = configWith(31, rulesNamed('r31'));
    const one = configWith(1, rulesNamed('r1'));
    const RULES = all.alerts?.rules ?? [];
    const end = Math.floor(Date.now() / 60_000) * 60; // a whole minute: the rules read the per-minute rollups
    const at = new Date(end * 1000);
    process.stdout.write(`bench:alerts  ${RULES.length} rules, ${CALLS.toLocaleString('en')} calls and ${(CALLS / 20).toLocaleString('en')} tickets/surveys over 2 h, ${RUNS} runs each\n`);
    await loadData(store, all.regions.map((r) => r.code), end);

    const [wide, narrow] = await timeBoth(store, [all, one], at);
    const ratio = wide.medianMs / narrow.medianMs;
    const ratioOfBest = wide.minMs / narrow.minMs;
    process.stdout.write(
      `  31 regions: ${wide.medianMs.toFixed(0)} ms per evaluation of all ${RULES.length} rules (median; runs ${wide.runsMs.map((x) => x.toFixed(0)).join(', ')})\n` +
      `   1 region:  ${narrow.medianMs.toFixed(0)} ms (runs ${narrow.runsMs.map((x) => x.toFixed(0)).join(', ')})\n` +
      `  ratio 31 / 1: ${ratio.toFixed(2)} of the medians, ${ratioOfBest.toFixed(2)} of the best runs (aim: under 2)${wide.errors + narrow.errors > 0 ? `  — ${wide.errors + narrow.errors} rule errors!` : ''}\n`,
    );

    // Latency: ingest → notifier, `for: 0`, through the real app. Each measurement pushes its own region down.
    const measure = async (timers: boolean, region: string): Promise<number> => {
      const latencyRule = { id: `latency-${region.toLowerCase()}`, kpi: 'answer_rate', window: '15m', every: '1s', when: 'below', thresholds: { critical: 0.5 }, for: '0', minVolume: 10 };
      const latencyConfig = validateConfigObject({ ...structuredClone(loadConfig()), alerts: { rules: [latencyRule] } }, 'bench');
      let resolveEvent: (event: AlertEvent) => void = () => undefined;
      const fired = new Promise<AlertEvent>((resolve) => { resolveEvent = resolve; });
      const notifier = createRecordingNotifier((event) => {
        if (event.type === 'firing' && event.instance.labels.region === region) resolveEvent(event);
      });
      const app = await buildServer({ config: latencyConfig, store, secret: SECRET, bootstrapAdminToken: TOKEN, alertNotifier: notifier });
      await app.ready();
      await app.alertEngine.evaluate(); // settle: the region is ok with the data so far
      // The engine's timers are unref'd (the HTTP server keeps a real process alive); here nothing else would.
      const keepAlive = setInterval(() => undefined, 1000);
      if (timers) await app.alertEngine.start();
      const now = Math.floor(Date.now() / 1000);
      const records = Array.from({ length: 2000 }, (_, i) => ({
        id: `latency-${region}-${i}`, region, queue: `${region.toLowerCase()}-q0`, channel: 'voice', enteredAt: now - 60 + (i % 50), endedAt: now - 10 + (i % 5), outcome: 'abandoned',
      }));
      const started = performance.now();
      const res = await app.inject({
        method: 'POST', url: '/api/v1/ingest/calls', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify(records),
      });
      if (res.statusCode !== 200) throw new Error(`ingest failed: ${res.body}`);
      if (!timers) await app.alertEngine.evaluate();
      await fired;
      const ms = performance.now() - started;
      clearInterval(keepAlive);
      await app.close();
      return ms;
    };
    const immediate = await measure(false, 'GD');
    const timed = await measure(true, 'SH');
    process.stdout.write(
      `  ingest → notifier (for: 0): ${immediate.toFixed(0)} ms with an evaluation right after the ingest; ` +
      `${timed.toFixed(0)} ms with the rule on its own 1 s timer\n`,
    );

    mkdirSync('bench/out', { recursive: true });
    writeFileSync('bench/out/alerts.json', JSON.stringify({
      at: new Date().toISOString(), rules: RULES.length, calls: CALLS, runs: RUNS,
      regions31: wide, regions1: narrow, ratio, ratioOfBest,
      latencyMs: { immediateEvaluation: immediate, ownTimerEvery1s: timed },
    }, null, 2) + '\n');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:alerts failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
