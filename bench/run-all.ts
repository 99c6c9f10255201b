/**
 * npm run bench — every benchmark, each in its own child process (chDB binds one
 * data directory per process), then bench/REPORT.md from the figures of this
 * one run: the machine, the aims of issue 7 with met / not met, and the other
 * figures each benchmark measured.
 *
 *   npm run bench                  the full run (about 35 minutes) → bench/REPORT.md (committed)
 *   npm run bench -- --quick       small sizes, to try it (about 6 minutes) → bench/out/REPORT.md
 *   npm run bench -- --only a,b    only those benchmarks (names below) → bench/out/REPORT.md
 * Only a full run of every benchmark replaces the committed report.
 *
 * Every benchmark writes bench/out/<name>.json (read here) and prints its own
 * figures; its output is also kept in bench/out/<name>.log. A benchmark that
 * fails is reported as such and the others still run; the exit code is then 1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { argFlag } from './args.js';
import { CLICKHOUSE_SERVER_BIN } from './clickhouse.js';

const QUICK = argFlag('--quick');
const OUT = join('bench', 'out');

interface Bench {
  name: string;
  script: string;
  full: string[];
  quick: string[];
  /** Why it cannot run here, if it cannot. */
  skip?: () => string | undefined;
}

const BENCHES: Bench[] = [
  { name: 'ingest', script: 'ingest.ts', full: ['--records', '1000000'], quick: ['--records', '100000'] },
  {
    name: 'ingest-server', script: 'ingest.ts', full: ['--records', '1000000', '--store', 'server'], quick: ['--records', '100000', '--store', 'server'],
    skip: () => (existsSync(CLICKHOUSE_SERVER_BIN) ? undefined : `${CLICKHOUSE_SERVER_BIN} is not installed (apt-get install clickhouse-server)`),
  },
  { name: 'freshness', script: 'freshness.ts', full: ['--samples', '200'], quick: ['--samples', '100'] },
  { name: 'query', script: 'query.ts', full: ['--small', '1000000', '--large', '50000000'], quick: ['--small', '200000', '--large', '2000000', '--runs', '5'] },
  { name: 'alerts', script: 'alerts.ts', full: [], quick: ['--calls', '20000', '--runs', '3'] },
  { name: 'live', script: 'live.ts', full: [], quick: ['--clients', '200', '--ticks', '10'] },
  { name: 'dashboard', script: 'dashboard.ts', full: [], quick: ['--seconds', '10'] },
  { name: 'soak', script: 'soak.ts', full: ['--minutes', '10', '--warmup-minutes', '1'], quick: ['--minutes', '1', '--warmup-minutes', '1'] },
  // The same on a ClickHouse server: the service's memory without the embedded engine's, to tell whose growth it is.
  {
    name: 'soak-server', script: 'soak.ts',
    full: ['--minutes', '10', '--warmup-minutes', '1', '--store', 'server'], quick: ['--minutes', '1', '--warmup-minutes', '1', '--store', 'server'],
    skip: () => (existsSync(CLICKHOUSE_SERVER_BIN) ? undefined : `${CLICKHOUSE_SERVER_BIN} is not installed (apt-get install clickhouse-server)`),
  },
];

interface Outcome {
  bench: Bench;
  args: string[];
  seconds: number;
  /** The benchmark's JSON, when it succeeded. */
  result?: Record<string, unknown>;
  error?: string;
  /** It could not run here (a missing binary); not a failure. */
  skipped?: boolean;
}

function selected(): Bench[] {
  const args = process.argv.slice(2);
  const i = args.indexOf('--only');
  if (i < 0) return BENCHES;
  const names = (args[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only: give benchmark names separated by commas (${BENCHES.map((b) => b.name).join(', ')})${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  return BENCHES.filter((b) => names.includes(b.name));
}

async function runOne(bench: Bench): Promise<Outcome> {
  const args = QUICK ? bench.quick : bench.full;
  const json = join(OUT, `${bench.name}.json`);
  const skipped = bench.skip?.();
  if (skipped) return { bench, args, seconds: 0, error: `skipped: ${skipped}`, skipped: true };
  // A stale file from an earlier run must not pass for this run's figures.
  rmSync(json, { force: true });
  const log = createWriteStream(join(OUT, `${bench.name}.log`));
  process.stdout.write(`\n=== ${bench.name}: tsx bench/${bench.script} ${args.join(' ')}\n`);
  const started = Date.now();
  // Every benchmark on the embedded store unless it starts its own server: a URL in the caller's environment is not for them.
  const env = { ...process.env };
  delete env.SQM_CLICKHOUSE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', join('bench', bench.script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer, to: NodeJS.WriteStream) => {
    to.write(chunk);
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-2000);
  };
  child.stdout.on('data', (chunk: Buffer) => keep(chunk, process.stdout));
  child.stderr.on('data', (chunk: Buffer) => keep(chunk, process.stderr));
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  await new Promise((resolve) => log.end(resolve));
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0) return { bench, args, seconds, error: `exit ${code}: ${lastLines(tail, 3)}` };
  if (!existsSync(json)) return { bench, args, seconds, error: `wrote no ${json}` };
  return { bench, args, seconds, result: JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown> };
}

const lastLines = (text: string, n: number) => text.trim().split('\n').slice(-n).join(' / ').replaceAll('|', '\\|');

// ---------------------------------------------------------------------------
// The report.

/** A benchmark's JSON, read by field name (each bench's writer is its schema). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const n0 = (x: number) => Math.round(x).toLocaleString('en');
const f2 = (x: number) => x.toFixed(2);
const ms = (x: number) => `${n0(x)} ms`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
const mark = (met: boolean) => (met ? '**met**' : '**not met**');

interface AimRow {
  aim: string;
  measured: string;
  met: boolean | undefined;
}

function aimRows(results: Map<string, Outcome>): AimRow[] {
  const rows: AimRow[] = [];
  const missing = (name: string) => {
    const outcome = results.get(name);
    return outcome ? `not measured (${outcome.error ?? 'no result'})` : 'not run';
  };
  const ingest: Json = results.get('ingest')?.result;
  rows.push({
    aim: 'Ingest over HTTP vs the engine\'s own bulk load of the same rows, embedded store: ratio ≥ 0.4',
    measured: ingest
      ? `${f2(ingest.ratio)} (${n0(ingest.http.recordsPerSecond)} vs ${n0(ingest.bulkLoad.recordsPerSecond)} records/s, ${n0(ingest.records)} records)`
      : missing('ingest'),
    met: ingest ? ingest.ratio >= 0.4 : undefined,
  });
  const fresh: Json = results.get('freshness')?.result;
  rows.push({
    aim: 'Freshness, a record\'s 200 → a live WebSocket client sees the KPI change: p99 < 2 s',
    measured: fresh
      ? `p99 ${ms(fresh.p99Ms)}, p50 ${ms(fresh.p50Ms)} (${fresh.samples} samples; live tick ${ms(fresh.tickMs)})`
      : missing('freshness'),
    met: fresh ? fresh.p99Ms < 2000 : undefined,
  });
  const query: Json = results.get('query')?.result;
  const sizes = query ? `${n0(query.large.historyCalls)} vs ${n0(query.small.historyCalls)} calls of history` : '';
  rows.push({
    aim: 'KPI query "today by region", 50 M vs 1 M call records in history: ratio < 2 (the rollups, whole-minute window)',
    measured: query ? `${f2(query.ratio)} (${ms(query.large.rollups.medianMs)} vs ${ms(query.small.rollups.medianMs)}, medians; ${sizes})` : missing('query'),
    met: query ? query.ratio < 2 : undefined,
  });
  rows.push({
    aim: 'The same on the raw table (the live stream\'s window ends after the current second): ratio < 2',
    measured: query ? `${f2(query.rawRatio)} (${ms(query.large.raw.medianMs)} vs ${ms(query.small.raw.medianMs)}, medians)` : missing('query'),
    met: query ? query.rawRatio < 2 : undefined,
  });
  const soak: Json = results.get('soak')?.result;
  const soakWhat = soak ? `${soak.minutes} min at ${soak.callsPerSecond} calls/s after ${soak.warmupMinutes} min warm-up` : '';
  rows.push({
    aim: 'Soak at a steady ingest rate: memory growth < 10 % (resident memory)',
    measured: soak ? `${pct(soak.rssMiB.growth)} (${soak.rssMiB.start} → ${soak.rssMiB.end} MiB; ${soakWhat})` : missing('soak'),
    met: soak ? soak.rssMiB.growth < 0.1 : undefined,
  });
  rows.push({
    aim: 'The same for the V8 heap in use',
    measured: soak ? `${pct(soak.heapUsedMiB.growth)} (${soak.heapUsedMiB.start} → ${soak.heapUsedMiB.end} MiB)` : missing('soak'),
    met: soak ? soak.heapUsedMiB.growth < 0.1 : undefined,
  });
  const alerts: Json = results.get('alerts')?.result;
  rows.push({
    aim: 'Alert evaluation, 31 regions vs 1 (20 rules, same data): ratio < 2 (bench/README.md; the issue sets no figure)',
    measured: alerts ? `${f2(alerts.ratio)} (${ms(alerts.regions31.medianMs)} vs ${ms(alerts.regions1.medianMs)} per evaluation, medians)` : missing('alerts'),
    met: alerts ? alerts.ratio < 2 : undefined,
  });
  return rows;
}

function details(results: Map<string, Outcome>): string[] {
  const out: string[] = [];
  const section = (name: string, title: string, body: (r: Json) => string[]) => {
    const outcome = results.get(name);
    if (!outcome) return;
    out.push(`### ${title}`, '', `\`tsx bench/${outcome.bench.script}${outcome.args.length ? ' ' + outcome.args.join(' ') : ''}\` — ${n0(outcome.seconds)} s`, '');
    if (!outcome.result) {
      out.push(`Not measured: ${outcome.error ?? 'no result'}.`, '');
      return;
    }
    out.push(...body(outcome.result), '');
  };
  const ingest = (r: Json) => [
    `- ${n0(r.records)} call records (${r.payloadMiB} MiB of NDJSON) in batches of ${n0(r.batch)}, ${r.inFlight} requests in flight, to the service in a child process on the ${r.store} store (${r.engineVersion}).`,
    `- HTTP ingest: ${n0(r.http.recordsPerSecond)} records/s (${r.http.seconds} s).`,
    `- Engine bulk load (${r.bulkLoad.path}): ${n0(r.bulkLoad.recordsPerSecond)} records/s (${r.bulkLoad.seconds} s).`,
    `- Ratio: **${f2(r.ratio)}**${r.aim === null ? ' (no aim on the server)' : ` (aim ≥ ${r.aim})`}.`,
  ];
  section('ingest', 'Ingest, embedded store', ingest);
  section('ingest-server', 'Ingest, ClickHouse server (a throw-away clickhouse-server on loopback)', ingest);
  section('freshness', 'Freshness', (r) => [
    `- One answered GD call per POST, ${r.samples} samples, 0–500 ms apart; a live client subscribed to GD's offered calls today (embedded store, live tick ${ms(r.tickMs)}).`,
    `- Record 200 → client sees the new count: p50 ${ms(r.p50Ms)}, p99 **${ms(r.p99Ms)}**, max ${ms(r.maxMs)}, mean ${ms(r.meanMs)}.`,
    ...(r.updateBeforeResponse > 0 ? [`- ${r.updateBeforeResponse} update(s) reached the client before the 200 did (counted as 0 ms).`] : []),
  ]);
  section('query', 'KPI query time: today by region', (r) => [
    `- ${r.kpis.join(', ')} from local midnight to 18:00, by region, ${r.regions} regions, through the KPI engine on the embedded store; ${n0(r.todayCalls)} calls that day (${n0(r.offeredToday)} offered) at both sizes, history over the ${r.historyDays} days before.`,
    `- History generated in the engine (INSERT … SELECT FROM numbers(), the views filling the rollups) at ${n0(r.generationCallsPerSecond)} calls/s.`,
    '',
    '| history calls | parts (calls + calls_1m) | rollups, median | raw table, median |',
    '|---:|---:|---:|---:|',
    ...[r.small, r.large].map((s: Json) => `| ${n0(s.historyCalls)} | ${s.callsParts} + ${s.rollupParts} | ${ms(s.rollups.medianMs)} | ${ms(s.raw.medianMs)} |`),
    '',
    `- Ratio large / small: **${f2(r.ratio)}** through the rollups, **${f2(r.rawRatio)}** on the raw table (medians of ${r.runs} runs each, taking turns).`,
  ]);
  section('alerts', 'Alert evaluation', (r) => [
    `- ${r.rules} rules over ${n0(r.calls)} calls (two hours), evaluated ${r.runs} times each way, taking turns.`,
    `- 31 regions: ${ms(r.regions31.medianMs)} per evaluation; 1 region: ${ms(r.regions1.medianMs)} (medians). Ratio **${f2(r.ratio)}** (of the best runs ${f2(r.ratioOfBest)}).`,
    `- Ingest → notifier with \`for: 0\`: ${ms(r.latencyMs.immediateEvaluation)} with an evaluation right after the ingest, ${ms(r.latencyMs.ownTimerEvery1s)} with the rule on its own 1 s timer.`,
  ]);
  section('live', 'Live stream fan-out', (r) => [
    `| run | subscriptions | tick → last client p50 / p99 | server CPU per tick p50 |`,
    '|---|---:|---:|---:|',
    ...r.results.map((x: Json) => `| ${x.label} | ${x.subscriptions} | ${ms(x.lastClientMs.p50)} / ${ms(x.lastClientMs.p99)} | ${ms(x.serverCpuMsPerTick.p50)} |`),
    '',
    `- ${r.ticks} hand-driven ticks per run, ${r.backend} store.`,
  ]);
  section('dashboard', 'Dashboard', (r) => {
    const lines = [
      ...Object.entries(r.bundle.views as Record<string, Json>).map(([view, v]) => `- First visit, ${view}: ${(v.gzip / 1024).toFixed(1)} kB gzipped.`),
    ];
    if (r.firstRender) lines.push(`- Wallboard cold: first contentful paint ${ms(r.firstRender.firstContentfulPaintMs ?? NaN)}, tiles with data ${ms(r.firstRender.firstTilesWithDataMs)}.`);
    for (const [transport, c] of Object.entries((r.cpu ?? {}) as Record<string, Json>)) {
      lines.push(`- Browser CPU over ${transport} for ${c.wallSeconds} s: ${c.cpuPercent} % (heap ${c.jsHeapMB} MB).`);
    }
    if (!r.cpu) lines.push('- No browser figures: chromium is not installed here.');
    return lines;
  });
  const soak = (r: Json) => [
    `- ${r.callsPerSecond} calls/s and queue samples for every queue every 5 s, ${r.warmupMinutes} min warm-up then ${r.minutes} min, a live client holding the wallboard's subscriptions, ${r.backend} store; ${n0(r.callsSent)} calls sent, ${n0(r.liveUpdates)} live updates received.`,
    `- Resident memory ${r.rssMiB.start} → ${r.rssMiB.end} MiB (**${pct(r.rssMiB.growth)}**); V8 heap used ${r.heapUsedMiB.start} → ${r.heapUsedMiB.end} MiB (**${pct(r.heapUsedMiB.growth)}**); ` +
      `outside the heap (buffers) ${r.externalMiB.start} → ${r.externalMiB.end} MiB. Start: median of the 30 s after the warm-up; end: median of the last 30 s (readings every 5 s from /metrics).`,
    `- Each second's POSTs took p50 ${ms(r.postMs.p50)}, p99 ${ms(r.postMs.p99)}${r.secondsLate > 0 ? `; ${r.secondsLate} seconds fell behind schedule` : ''}.`,
  ];
  section('soak', 'Soak, embedded store (the engine\'s memory is part of the service\'s)', soak);
  section('soak-server', 'Soak, ClickHouse server (the service\'s own memory; no aim)', soak);
  return out;
}

function machine(): string[] {
  const cpu = cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  let chdb = 'unknown';
  try {
    chdb = (JSON.parse(readFileSync(join('node_modules', 'chdb', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not installed
  }
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}; memory ${(totalmem() / 1024 ** 3).toFixed(0)} GiB; Linux ${release()}`,
    `- Node ${process.version}; chdb ${chdb}; commit ${commit} (plus any uncommitted changes)`,
    `- Shared machine: other work may have run beside the benchmarks, which is why most figures are ratios of two things measured side by side.`,
  ];
}

function report(outcomes: Outcome[], startedAt: Date, seconds: number): string {
  const results = new Map(outcomes.map((o) => [o.bench.name, o]));
  const rows = aimRows(results);
  return [
    '# SQM benchmark report',
    '',
    `Written by \`npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (bench/run-all.ts) from the figures of one run, started ${startedAt.toISOString()}, ${n0(seconds / 60)} min in all.` +
      (QUICK ? ' **A quick run: sizes far below the aims\' conditions, for trying the suite; not the figures of record.**' : ''),
    '',
    ...machine(),
    '',
    '## Aims (issue 7)',
    '',
    '| aim | measured | |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.aim} | ${r.measured} | ${r.met === undefined ? '—' : mark(r.met)} |`),
    '',
    '## Each benchmark',
    '',
    ...details(results),
  ].join('\n');
}

async function main(): Promise<void> {
  const benches = selected();
  mkdirSync(OUT, { recursive: true });
  const startedAt = new Date();
  process.stdout.write(`npm run bench${QUICK ? ' (quick)' : ''}: ${benches.map((b) => b.name).join(', ')}\n`);
  const outcomes: Outcome[] = [];
  for (const bench of benches) outcomes.push(await runOne(bench));
  const text = report(outcomes, startedAt, (Date.now() - startedAt.getTime()) / 1000);
  const path = !QUICK && benches.length === BENCHES.length ? join('bench', 'REPORT.md') : join(OUT, 'REPORT.md');
  writeFileSync(path, text);
  process.stdout.write(`\nwrote ${path}\n`);
  const failed = outcomes.filter((o) => o.error && !o.skipped);
  for (const o of outcomes) if (o.error) process.stderr.write(`${o.bench.name}: ${o.error}\n`);
  if (failed.length > 0) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
