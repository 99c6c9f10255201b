/**
 * Demo mode (`SQM_DEMO=1`, `npm run demo`): the simulator runs inside the
 * service and sends its traffic through the service's own ingest API.
 *
 * - Live traffic starts at once, from two minutes back (caught up in a few
 *   seconds), so the current minute has KPIs within seconds of start; the demo
 *   scenario's incident follows three minutes later.
 * - On first start (no `demo-state.json` in the data directory) seven days of
 *   history are backfilled in the background through the same ingest path.
 *   History and live traffic come from two models, so at hand-over the
 *   history's still-open tickets and faults are closed (resolved / restored at
 *   the hand-over time) instead of staying open for ever and skewing backlog and
 *   SLA KPIs. Those closing snapshots carry no customer (only its hash is
 *   stored), which only affects repeat-complaint matching of those few tickets.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqmConfig } from '../config/index.js';
import { backfill, createIngestClient, startSimulator, type SimulatorHandle } from '../simulator/index.js';
import { latestFaults, latestTickets, NEVER } from '../kpi/family.js';
import { sql, type Store } from '../store/index.js';
import type { Logger } from './logger.js';

export interface DemoOptions {
  baseUrl: string;
  /** A token with the ingest role. */
  token: string;
  config: SqmConfig;
  store: Store;
  dataDir: string;
  logger: Logger;
  backfillDays?: number;
}

export interface DemoHandle {
  stop(): Promise<void>;
  /** Settles when the first-start backfill (if any) has finished. */
  readonly history: Promise<void>;
}

interface DemoState {
  backfilledAt: string;
  days: number;
}

const LIVE_LEAD_SECONDS = 120;

export function startDemo(options: DemoOptions): DemoHandle {
  const logger = options.logger.child({ module: 'demo' });
  const statePath = join(options.dataDir, 'demo-state.json');
  const liveStart = new Date(Date.now() - LIVE_LEAD_SECONDS * 1000);
  const live: SimulatorHandle = startSimulator({
    baseUrl: options.baseUrl,
    token: options.token,
    scenario: 'demo',
    start: liveStart,
    speed: 60,
    config: options.config,
    logger,
    onFatal: (error) => logger.error({ err: error }, 'live simulator stopped'),
  });
  const abort = new AbortController();

  const history = (async () => {
    if (existsSync(statePath)) {
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as DemoState;
      logger.info({ backfilledAt: state.backfilledAt }, 'history already backfilled');
      return;
    }
    const days = options.backfillDays ?? 7;
    logger.info({ days }, 'backfilling history');
    let lastTenth = -1;
    const result = await backfill({
      baseUrl: options.baseUrl,
      token: options.token,
      days,
      until: liveStart,
      seed: 1,
      config: options.config,
      logger,
      queueSampleSeconds: 300,
      signal: abort.signal,
      onProgress: (p) => {
        const tenth = Math.floor(p.fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          logger.info({ percent: tenth * 10, simulatedTo: p.simulatedTo, accepted: p.accepted }, 'backfill progress');
        }
      },
    });
    await handOver(options, liveStart, logger);
    const state: DemoState = { backfilledAt: new Date().toISOString(), days };
    writeFileSync(statePath, JSON.stringify(state, null, 2) + '\n');
    logger.info({ accepted: result.stats.accepted, seconds: result.stats.seconds }, 'history backfilled');
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) logger.error({ err: error }, 'backfill failed; it will be tried again at the next start');
  });

  return {
    history,
    async stop() {
      abort.abort();
      await Promise.allSettled([live.stop(), history]);
    },
  };
}

/** Close the history's tickets and faults that are still open, at the hand-over time. */
async function handOver(options: DemoOptions, liveStart: Date, logger: Logger): Promise<void> {
  const { tickets, faults } = await closingSnapshots(options.store, liveStart, new Date());
  const client = createIngestClient({ baseUrl: options.baseUrl, token: options.token, logger });
  for (let i = 0; i < tickets.length; i += 5000) await client.send('tickets', tickets.slice(i, i + 5000));
  for (let i = 0; i < faults.length; i += 5000) await client.send('faults', faults.slice(i, i + 5000));
  logger.info({ tickets: tickets.length, faults: faults.length }, 'history handed over: open items closed');
}

/**
 * Closing snapshots (resolved / restored at `at`) for tickets and faults opened
 * before `before` whose newest snapshot is still open.
 */
export async function closingSnapshots(store: Store, before: Date, at: Date): Promise<{ tickets: object[]; faults: object[] }> {
  const iso = (epoch: number) => new Date(epoch * 1000).toISOString();
  const stamp = at.toISOString();
  const beforeSeconds = Math.floor(before.getTime() / 1000);
  // The newest snapshots, read as the KPIs read them (kpi/family.ts); NEVER marks an absent time.
  const tickets = await store.query<{
    id: string; region: string; channel: string; category: string; priority: string;
    opened: number; responded: number; reopens: number;
  }>(sql`
    SELECT id, region, channel, category, priority, opened, responded, reopens FROM ${latestTickets(store)}
    WHERE resolved = ${NEVER} AND opened < ${beforeSeconds}
    ORDER BY id`);
  const faults = await store.query<{
    id: string; region: string; domain: string; severity: string; detected: number; acked: number;
  }>(sql`
    SELECT id, region, domain, severity, detected, acked FROM ${latestFaults(store)}
    WHERE restored = ${NEVER} AND detected < ${beforeSeconds}
    ORDER BY id`);
  return {
    tickets: tickets.map((t) => ({
      id: t.id, region: t.region, channel: t.channel, category: t.category, priority: t.priority,
      openedAt: iso(t.opened), firstResponseAt: t.responded !== NEVER ? iso(t.responded) : stamp,
      resolvedAt: stamp, status: 'resolved', reopenCount: Number(t.reopens), updatedAt: stamp,
    })),
    faults: faults.map((f) => ({
      id: f.id, region: f.region, domain: f.domain, severity: f.severity, detectedAt: iso(f.detected),
      acknowledgedAt: f.acked !== NEVER ? iso(f.acked) : stamp, restoredAt: stamp, updatedAt: stamp,
    })),
  };
}
