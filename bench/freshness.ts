/**
 * bench:freshness — from a record's `200` to a wallboard seeing the KPI change.
 *
 * 1. Starts the real service (`server/main.ts`, embedded store, the default
 *    configuration: live tick every `live.tickMs`) in a child process.
 * 2. A live WebSocket client (bearer token) subscribes to today's `offered`
 *    calls for GD, by region.
 * 3. `--samples N` times (default 100): POST one answered GD call entered a few
 *    seconds ago, note when the `200` arrives, and wait for the client to
 *    receive GD's offered count changed (one higher). Between samples a pause of 0–500 ms
 *    (seeded), so the POSTs land at every phase of the tick.
 * 4. Prints p50, p99 and the maximum, and writes bench/out/freshness.json.
 *
 * The delay is the drain to the store (batching, the spool) plus up to one
 * tick plus the computation: with the default 1 s tick, about 0.5–1.5 s.
 * Not a test: figures vary with the machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { startOfLocalDay } from '../kpi/index.js';
import { liveSettings } from '../server/live/settings.js';
import { createRandom } from '../simulator/random.js';
import { argValue, percentile } from './args.js';
import { BenchLiveClient, clock } from './live-client.js';
import { BENCH_TOKEN, iso, postRecords, startService } from './service.js';

const SAMPLES = argValue('--samples', 100);
const REGION = 'GD';
const AIM_P99_MS = 2000;

async function main(): Promise<void> {
  const config = loadConfig();
  const tickMs = liveSettings(config).tickMs;
  process.stdout.write(`bench:freshness  ${SAMPLES} samples, ${REGION} offered today, live tick ${tickMs} ms, embedded store\n`);
  const work = mkdtempSync(join(tmpdir(), 'sqm-bench-freshness-'));
  const service = await startService({ dataDir: join(work, 'service') });
  let client: BenchLiveClient | undefined;
  try {
    client = await BenchLiveClient.connect(`${service.url.replace('http', 'ws')}/api/v1/live`, BENCH_TOKEN);
    await client.subscribe({ id: 'fresh', kpis: ['offered'], regions: [REGION], by: ['region'], window: 'today' });
    const labels = { region: REGION };
    let offered = client.value('fresh', 'offered', labels) ?? 0;
    const seeded = createRandom(20261201);
    const delays: number[] = [];
    let early = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const now = Math.floor(Date.now() / 1000);
      // Today in the configured zone, even a few seconds after local midnight.
      const enteredAt = Math.max(startOfLocalDay(now, config.timezone), now - 20);
      // Any change counts (not just "one more"), so a run across local midnight, when today starts again, does not hang.
      const before = offered;
      const seen = client.reached('fresh', 'offered', labels, (v) => v !== before, 30_000);
      await postRecords(service.url, 'calls', [{
        id: `fresh-${i}`, region: REGION, queue: 'gd-general', channel: 'voice',
        enteredAt: iso(enteredAt), answeredAt: iso(enteredAt + 2), endedAt: iso(now), outcome: 'answered', talkSeconds: Math.max(1, now - enteredAt - 2),
      }]);
      const acknowledged = clock();
      const at = await seen;
      // The update can beat the response to this process when the tick falls between the store write and the 200.
      if (at < acknowledged) early++;
      delays.push(Math.max(0, at - acknowledged));
      offered = client.value('fresh', 'offered', labels) ?? 0;
      await new Promise((r) => setTimeout(r, Math.floor(seeded.next() * 500)));
    }
    const report = {
      at: new Date().toISOString(),
      backend: 'embedded',
      tickMs,
      samples: delays.length,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      maxMs: Math.max(...delays),
      meanMs: delays.reduce((a, b) => a + b, 0) / delays.length,
      updateBeforeResponse: early,
      aimP99Ms: AIM_P99_MS,
      delaysMs: delays.map((d) => Math.round(d)),
    };
    process.stdout.write(
      `record 200 → live client sees the change: p50 ${report.p50Ms.toFixed(0)} ms, p99 ${report.p99Ms.toFixed(0)} ms, ` +
      `max ${report.maxMs.toFixed(0)} ms over ${report.samples} samples (aim p99 < ${AIM_P99_MS} ms; tick ${tickMs} ms)` +
      `${early > 0 ? `; ${early} update(s) arrived before the 200 (counted as 0)` : ''}\n`,
    );
    mkdirSync('bench/out', { recursive: true });
    writeFileSync('bench/out/freshness.json', JSON.stringify(report, null, 2) + '\n');
  } finally {
    await client?.close();
    await service.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:freshness failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
