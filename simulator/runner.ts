/**
 * Running the model against a live SQM: `startSimulator` in real time (records
 * batched per kind and POSTed about every second), `backfill` for days of
 * history as fast as the server takes them. Both use the ingest API only.
 */
import { loadConfig, type SqmConfig } from '../config/index.js';
import { createLogger, type Logger } from '../server/logger.js';
import { createIngestClient, IngestError, sleep, type IngestClient } from './ingest-client.js';
import { createModel, toEpochSeconds, type TrafficModel } from './model.js';
import { BATCH_KINDS, emptyBatch, type BatchKind, type RecordBatch } from './records.js';
import { loadScenario, type Scenario } from './scenario.js';
import { isoBeijing, DAY } from './time.js';

export interface SendStats {
  generated: Record<BatchKind, number>;
  accepted: number;
  rejected: number;
  requests: number;
  retries: number;
}

export interface SimulatorStats extends SendStats {
  startedAt: string;
  /** The simulation clock: every record up to here has been generated. */
  simulatedTo: string;
  /** Records generated but not yet accepted by the server. */
  pending: number;
  /** Set when the simulator stopped on an error it cannot retry. */
  fatal?: string;
}

export interface StartSimulatorOptions {
  baseUrl: string;
  /** A token with the `ingest` role. */
  token: string;
  /** A scenario, or its name (`demo` → simulator/scenarios/demo.yaml) or path. */
  scenario?: Scenario | string | undefined;
  seed?: number | undefined;
  /**
   * Simulated seconds per real second while the simulated clock is behind the
   * real one (with `start` in the past, or a backfilled model); it never runs
   * ahead of `now`, since the server rejects future times.
   */
  speed?: number | undefined;
  /** The clock (tests pass a fake one). */
  now?: (() => Date) | undefined;
  /** Where the simulated clock starts (default: now). */
  start?: Date | number | undefined;
  /** Continue a model, e.g. the one `backfill` returns, instead of starting a new one. */
  model?: TrafficModel | undefined;
  config?: SqmConfig | undefined;
  logger?: Logger | undefined;
  volume?: number | undefined;
  regions?: readonly string[] | undefined;
  /** How often to advance and send (default 1000 ms). */
  intervalMs?: number | undefined;
  /** Largest request (default 10,000 records). */
  batchSize?: number | undefined;
  /** Called once if the simulator stops on a fatal error (instead of logging it). */
  onFatal?: ((error: IngestError) => void) | undefined;
}

export interface SimulatorHandle {
  /** Stop advancing, send what is generated up to now, and resolve. */
  stop(): Promise<void>;
  readonly stats: SimulatorStats;
  /** Resolves after stop(); rejects if the simulator stopped on a fatal error. */
  readonly done: Promise<void>;
  readonly model: TrafficModel;
}

const zeroCounts = (): Record<BatchKind, number> => ({ calls: 0, tickets: 0, faults: 0, surveys: 0, queues: 0, subscribers: 0 });

function resolveScenario(scenario: Scenario | string | undefined, config: SqmConfig): Scenario | undefined {
  if (scenario === undefined) return undefined;
  return typeof scenario === 'string' ? loadScenario(scenario, config.regions.map((r) => r.code)) : scenario;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function startSimulator(options: StartSimulatorOptions): SimulatorHandle {
  const config = options.config ?? loadConfig();
  const logger = (options.logger ?? createLogger('warn')).child({ module: 'simulator' });
  const now = options.now ?? (() => new Date());
  const nowSeconds = (): number => now().getTime() / 1000;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error('startSimulator: speed must be positive');
  const intervalMs = options.intervalMs ?? 1000;
  const batchSize = options.batchSize ?? 10_000;
  const scenario = resolveScenario(options.scenario, config);

  const wallStart = nowSeconds();
  const start = options.start === undefined ? wallStart : toEpochSeconds(options.start);
  if (start > wallStart) throw new Error('startSimulator: start is in the future');
  const model = options.model ?? createModel({
    config, seed: options.seed ?? 1, start, volume: options.volume, regions: options.regions,
  });
  model.queueSampleSeconds = 5;
  if (scenario) model.addScenario(scenario, Math.max(model.time, wallStart));
  const simStart = model.time;

  const abort = new AbortController();
  const client = createIngestClient({ baseUrl: options.baseUrl, token: options.token, logger, signal: abort.signal });
  const pending: RecordBatch = emptyBatch();
  const stats: SimulatorStats = {
    startedAt: new Date(wallStart * 1000).toISOString(),
    simulatedTo: isoBeijing(model.time),
    pending: 0,
    generated: zeroCounts(),
    accepted: 0,
    rejected: 0,
    requests: 0,
    retries: 0,
  };

  const take = (batch: RecordBatch): void => {
    for (const kind of BATCH_KINDS) {
      const records = batch[kind] as object[];
      if (records.length === 0) continue;
      stats.generated[kind] += records.length;
      for (const r of records) (pending[kind] as object[]).push(r);
      stats.pending += records.length;
    }
    stats.simulatedTo = isoBeijing(model.time);
  };

  const advance = (): void => {
    const t = nowSeconds();
    const target = speed === 1 ? t : Math.min(t, simStart + (t - wallStart) * speed);
    if (target >= model.time) take(model.advanceTo(target));
  };

  const flush = async (via: IngestClient): Promise<void> => {
    // Kinds go in parallel; within a kind, batches go in order.
    await Promise.all(BATCH_KINDS.map(async (kind) => {
      const records = pending[kind] as object[];
      while (records.length > 0) {
        const chunk = records.slice(0, batchSize);
        await via.send(kind, chunk);
        records.splice(0, chunk.length);
        stats.pending -= chunk.length;
      }
    }));
  };

  const syncClientStats = (via: IngestClient, base: SendStats): void => {
    stats.accepted = base.accepted + via.stats.accepted;
    stats.rejected = base.rejected + via.stats.rejected;
    stats.requests = base.requests + via.stats.requests;
    stats.retries = base.retries + via.stats.retries;
  };
  const zero: SendStats = { generated: zeroCounts(), accepted: 0, rejected: 0, requests: 0, retries: 0 };

  let stopping = false;
  const loop = async (): Promise<void> => {
    try {
      while (!stopping) {
        advance();
        await flush(client);
        syncClientStats(client, zero);
        if (!stopping) await sleep(intervalMs, abort.signal).catch(() => undefined);
      }
    } catch (error) {
      syncClientStats(client, zero);
      if (error instanceof IngestError && !error.fatal) {
        // stopped while waiting to retry: fall through to the final flush
      } else {
        const fatal = error instanceof IngestError ? error : new IngestError((error as Error).message, true);
        stats.fatal = fatal.message;
        // A caller with its own handler reports the error itself (the CLI prints one line).
        if (options.onFatal) options.onFatal(fatal);
        else logger.error({ err: fatal.message }, 'simulator stopped');
        throw fatal;
      }
    }
    // Last records up to now, with a short deadline so shutdown stays quick.
    const last = { ...stats };
    const finalClient = createIngestClient({ baseUrl: options.baseUrl, token: options.token, logger, maxRetryMs: 5000 });
    try {
      advance();
      await flush(finalClient);
    } catch (error) {
      logger.warn({ err: (error as Error).message, unsent: stats.pending }, 'simulator stopped with records unsent');
    }
    syncClientStats(finalClient, last);
  };

  const done = loop();
  done.catch(() => undefined); // awaited by callers who care; never an unhandled rejection
  return {
    stats,
    done,
    model,
    async stop() {
      stopping = true;
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}

export interface BackfillOptions {
  baseUrl: string;
  token: string;
  /** Days of history to generate, ending at `until`. */
  days: number;
  seed?: number | undefined;
  /** End of the history (default: now, then catching up with the clock while it runs). */
  until?: Date | number | undefined;
  now?: (() => Date) | undefined;
  config?: SqmConfig | undefined;
  logger?: Logger | undefined;
  volume?: number | undefined;
  regions?: readonly string[] | undefined;
  scenario?: Scenario | string | undefined;
  /** Records per request (default 10,000). */
  batchSize?: number | undefined;
  /** Requests in flight at once (default 4). */
  concurrency?: number | undefined;
  /** Queue-state sample interval for history (default 60 s; live traffic uses 5 s). */
  queueSampleSeconds?: number | undefined;
  onProgress?: ((progress: BackfillProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface BackfillProgress extends SendStats {
  from: string;
  to: string;
  simulatedTo: string;
  /** 0–1 of the simulated span done. */
  fraction: number;
}

export interface BackfillResult {
  stats: BackfillProgress & { seconds: number };
  /** The model at the end of the history; pass it to startSimulator to continue live. */
  model: TrafficModel;
}

/** Simulated time per step: small enough to keep memory flat, large enough to batch well. */
const BACKFILL_STEP_SECONDS = 900;

export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  const config = options.config ?? loadConfig();
  const logger = (options.logger ?? createLogger('warn')).child({ module: 'simulator' });
  const now = options.now ?? (() => new Date());
  const nowSeconds = (): number => now().getTime() / 1000;
  if (!(options.days > 0) || options.days > 3660) throw new Error('backfill: days must be between 0 and 3660');
  const batchSize = options.batchSize ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const until = options.until === undefined ? nowSeconds() : toEpochSeconds(options.until);
  if (until > nowSeconds() + 1) throw new Error('backfill: until is in the future');
  const from = until - options.days * DAY;
  const model = createModel({
    config,
    seed: options.seed ?? 1,
    start: from,
    volume: options.volume,
    regions: options.regions,
    queueSampleSeconds: options.queueSampleSeconds ?? 60,
    scenario: resolveScenario(options.scenario, config),
  });
  const client = createIngestClient({ baseUrl: options.baseUrl, token: options.token, logger, ...(options.signal ? { signal: options.signal } : {}) });
  const started = Date.now();
  const buffers: RecordBatch = emptyBatch();
  const generated = zeroCounts();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const progress = (): BackfillProgress => ({
    from: isoBeijing(from),
    to: isoBeijing(until),
    simulatedTo: isoBeijing(model.time),
    fraction: Math.min(1, (model.time - from) / (until - from)),
    generated: { ...generated },
    ...client.stats,
  });

  const dispatch = async (kind: BatchKind, records: object[]): Promise<void> => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const request: Promise<void> = client.send(kind, records)
      .then(() => undefined, (error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  const collect = async (batch: RecordBatch, all: boolean): Promise<void> => {
    for (const kind of BATCH_KINDS) {
      const buffer = buffers[kind] as object[];
      for (const r of batch[kind] as object[]) buffer.push(r);
      generated[kind] += (batch[kind] as object[]).length;
      while (buffer.length >= batchSize || (all && buffer.length > 0)) {
        await dispatch(kind, buffer.splice(0, batchSize));
      }
    }
  };

  try {
    for (let t = from; t < until;) {
      if (options.signal?.aborted) throw new IngestError('backfill aborted', true);
      t = Math.min(until, t + BACKFILL_STEP_SECONDS);
      await collect(model.advanceTo(t), false);
      options.onProgress?.(progress());
    }
    const drain = async (): Promise<void> => {
      await collect(emptyBatch(), true);
      while (inFlight.size > 0) await Promise.race(inFlight);
      if (failure) throw failure;
    };
    await drain();
    // The clock moved on while we worked: catch up so live traffic continues without a gap.
    if (options.until === undefined) {
      for (let i = 0; i < 100 && nowSeconds() - model.time >= 1; i++) {
        await collect(model.advanceTo(nowSeconds()), false);
        await drain();
      }
    }
  } catch (error) {
    await Promise.allSettled(inFlight);
    throw error;
  }
  const stats = { ...progress(), seconds: (Date.now() - started) / 1000 };
  options.onProgress?.(stats);
  return { stats, model };
}
