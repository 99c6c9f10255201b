/**
 * The simulator's HTTP side against a real local node:http server: NDJSON
 * bodies, the bearer token, retries after 503 + Retry-After, fatal 401, logged
 * rejections, batch splitting on 413, and a backfill with bounded concurrency.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../config/index.js';
import { backfill, startSimulator } from '../../simulator/runner.js';
import { retryAfterMs } from '../../simulator/ingest-client.js';

const config = loadConfig();
const TOKEN = 'sim-test-token-0123456789';
const MON_10 = Date.parse('2026-11-30T10:00:00+08:00');
const KINDS = ['calls', 'tickets', 'faults', 'surveys', 'queues', 'subscribers'];
const TIME_FIELDS = ['enteredAt', 'answeredAt', 'endedAt', 'openedAt', 'firstResponseAt', 'resolvedAt', 'closedAt', 'updatedAt', 'detectedAt', 'acknowledgedAt', 'restoredAt', 'at'];

interface Received {
  kind: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
  records: Record<string, unknown>[];
  /** The fake clock when the request arrived (ms). */
  clock: number;
  arrivedAt: number;
  status: number;
}

type Reply = { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number };

interface TestServer {
  url: string;
  received: Received[];
  maxInFlight: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A stand-in for SQM's ingest route; `reply` decides each answer (default: 200, all accepted). */
async function startServer(reply: (r: Received, n: number) => Reply | undefined, clock: () => number = Date.now): Promise<TestServer> {
  const received: Received[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const lines = body.split('\n');
      const r: Received = {
        kind: (req.url ?? '').replace('/api/v1/ingest/', ''),
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
        // NDJSON: one JSON record per line; the body ends with a newline.
        records: lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>),
        clock: clock(),
        arrivedAt: Date.now(),
        status: 200,
      };
      expect(lines.at(-1)).toBe('');
      const answer = reply(r, received.length) ?? { status: 200, body: { accepted: r.records.length, rejected: [] } };
      r.status = answer.status;
      received.push(r);
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
        inFlight--;
      }, answer.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const silent = pino({ level: 'silent' });

describe('Retry-After', () => {
  it('reads seconds or an HTTP date, defaults to 1 s and caps at 60 s', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs(new Date(1_000_000 + 3000).toUTCString(), 1_000_000)).toBe(3000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs('soon')).toBe(1000);
    expect(retryAfterMs('3600')).toBe(60_000);
  });
});

describe('live simulator over HTTP', () => {
  it('posts NDJSON with the bearer token, never a future time, and retries a 503 after Retry-After', async () => {
    // A fake clock running 300× real time from Monday 10:00, so calls finish within a second or two.
    const wallStart = Date.now();
    const clock = (): number => MON_10 + (Date.now() - wallStart) * 300;
    let refused = false;
    const server = await startServer((r) => {
      if (r.kind === 'calls' && !refused) {
        refused = true;
        return { status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'SQM_UNAVAILABLE', message: 'busy' } } };
      }
      return undefined;
    }, clock);
    const sim = startSimulator({
      baseUrl: `${server.url}/`, token: TOKEN, seed: 4, config, regions: ['GD'], logger: silent,
      now: () => new Date(clock()), intervalMs: 20,
    });
    await until(() => server.received.filter((r) => r.kind === 'calls' && r.status === 200).length >= 2);
    await sim.stop();
    await expect(sim.done).resolves.toBeUndefined();

    for (const r of server.received) {
      expect(KINDS).toContain(r.kind);
      expect(r.path).toBe(`/api/v1/ingest/${r.kind}`);
      expect(r.contentType).toBe('application/x-ndjson');
      expect(r.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.records.length).toBeGreaterThan(0);
      for (const record of r.records) {
        expect(record.region).toBe('GD');
        for (const f of TIME_FIELDS) {
          if (record[f] === undefined) continue;
          expect(record[f]).toMatch(/\+08:00$/);
          // Never ahead of the clock the simulator runs on (the server rejects future times).
          expect(Date.parse(record[f] as string)).toBeLessThanOrEqual(r.clock);
        }
      }
    }
    // The refused batch came back unchanged, after the second Retry-After asked for.
    const callRequests = server.received.filter((r) => r.kind === 'calls');
    const [refusedReq, retried] = callRequests;
    expect(refusedReq?.status).toBe(503);
    expect(retried?.body).toBe(refusedReq?.body);
    expect((retried?.arrivedAt ?? 0) - (refusedReq?.arrivedAt ?? 0)).toBeGreaterThanOrEqual(950);
    // Everything answered 200 counts as accepted; nothing was lost or sent twice.
    const acceptedLines = server.received.filter((r) => r.status === 200).reduce((n, r) => n + r.records.length, 0);
    expect(sim.stats.accepted).toBe(acceptedLines);
    expect(sim.stats.retries).toBe(1);
    expect(sim.stats.pending).toBe(0);
    const generated = Object.values(sim.stats.generated).reduce((a, b) => a + b, 0);
    expect(generated).toBe(acceptedLines);
    const callIds = callRequests.filter((r) => r.status === 200).flatMap((r) => r.records.map((c) => c.id));
    expect(new Set(callIds).size).toBe(callIds.length);
    expect(callIds.length).toBe(sim.stats.generated.calls);
  });

  it('with `speed`, replays from a start in the past faster than real time, but never past now', async () => {
    const wallStart = Date.now();
    const clock = (): number => MON_10 + (Date.now() - wallStart);
    const server = await startServer(() => undefined, clock);
    const sim = startSimulator({
      baseUrl: server.url, token: TOKEN, config, regions: ['BJ'], logger: silent, intervalMs: 10,
      now: () => new Date(clock()), start: new Date(MON_10 - 600_000), speed: 3000,
    });
    // 600 simulated seconds at 3000× take 0.2 s; after that the simulation keeps pace with the clock.
    await until(() => sim.model.time * 1000 >= MON_10);
    expect(Date.now() - wallStart).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 200));
    await sim.stop();
    expect(clock() - sim.model.time * 1000).toBeLessThan(1000);
    const samples = server.received.filter((r) => r.kind === 'queues').flatMap((r) => r.records.map((q) => q.at as string));
    expect(samples[0]).toBe('2026-11-30T09:50:00+08:00');
    expect(samples.filter((t) => t <= '2026-11-30T10:00:00+08:00').length).toBe(121 * 3);
    for (const r of server.received) {
      for (const record of r.records) {
        for (const f of TIME_FIELDS) if (record[f] !== undefined) expect(Date.parse(record[f] as string)).toBeLessThanOrEqual(r.clock);
      }
    }
  });

  it('stops with a fatal error when the token is refused (401)', async () => {
    const server = await startServer(() => ({ status: 401, body: { error: { code: 'SQM_UNAUTHORIZED', message: 'Authentication required' } } }));
    const fatal: string[] = [];
    const sim = startSimulator({
      baseUrl: server.url, token: 'wrong', config, regions: ['BJ'], logger: silent, intervalMs: 20,
      onFatal: (e) => fatal.push(e.message),
    });
    await expect(sim.done).rejects.toThrow('SQM refused the token (401 SQM_UNAUTHORIZED: Authentication required)');
    expect(sim.stats.fatal).toBe('SQM refused the token (401 SQM_UNAUTHORIZED: Authentication required)');
    expect(fatal).toHaveLength(1);
    // One request per kind at most: nothing is retried after a 401.
    expect(server.received.length).toBeLessThanOrEqual(KINDS.length);
    await sim.stop();
  });

  it('fails at once when SQM cannot be reached', async () => {
    const server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    const sim = startSimulator({ baseUrl: url, token: TOKEN, config, regions: ['BJ'], logger: silent, onFatal: () => undefined });
    await expect(sim.done).rejects.toThrow(`cannot reach SQM at ${url} (ECONNREFUSED)`);
  });

  it('logs every rejected record: each one is a simulator bug', async () => {
    const server = await startServer((r) => r.kind === 'queues'
      ? { status: 200, body: { accepted: r.records.length - 1, rejected: [{ index: 0, errors: ['waiting: must be an integer'] }] } }
      : undefined);
    const { logger, lines } = capturingLogger();
    const sim = startSimulator({ baseUrl: server.url, token: TOKEN, config, regions: ['BJ'], logger, intervalMs: 20 });
    await until(() => server.received.some((r) => r.kind === 'queues'));
    await sim.stop();
    const first = server.received.find((r) => r.kind === 'queues');
    const logged = lines.find((l) => l.msg === 'ingest rejected a simulated record');
    expect(logged).toMatchObject({ level: 50, module: 'simulator', kind: 'queues', index: 0, errors: ['waiting: must be an integer'] });
    expect(logged?.record).toEqual(first?.records[0]);
    expect(sim.stats.rejected).toBe(server.received.filter((r) => r.kind === 'queues').length);
  });
});

describe('backfill over HTTP', () => {
  it('sends a day of history in bounded batches with a few requests in flight, ending at `until`', async () => {
    const untilMs = MON_10;
    let refusedOnce = false;
    const server = await startServer((r, n) => {
      if (n === 1 && !refusedOnce) {
        refusedOnce = true;
        return { status: 503, headers: { 'retry-after': '0' } };
      }
      return { status: 200, body: { accepted: r.records.length, rejected: [] }, delayMs: 30 };
    });
    const progress: number[] = [];
    const result = await backfill({
      baseUrl: server.url, token: TOKEN, days: 1, seed: 8, until: new Date(untilMs), now: () => new Date(untilMs + 3_600_000),
      config, regions: ['BJ', 'SH'], logger: silent, batchSize: 3000, concurrency: 3,
      onProgress: (p) => progress.push(p.fraction),
    });
    const ok = server.received.filter((r) => r.status === 200);
    const sent = ok.reduce((n, r) => n + r.records.length, 0);
    expect(result.stats.accepted).toBe(sent);
    expect(Object.values(result.stats.generated).reduce((a, b) => a + b, 0)).toBe(sent);
    expect(result.stats.generated.calls).toBeGreaterThan(3000);
    expect(result.stats.retries).toBe(1);
    for (const r of server.received) {
      expect(r.records.length).toBeLessThanOrEqual(3000);
      expect(r.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.contentType).toBe('application/x-ndjson');
    }
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    const records = ok.flatMap((r) => r.records.map((rec) => ({ kind: r.kind, rec })));
    for (const { rec } of records) {
      for (const f of TIME_FIELDS) if (rec[f] !== undefined) expect(Date.parse(rec[f] as string)).toBeLessThanOrEqual(untilMs);
    }
    // Sampled once a minute for history: 24 h × 60 + 1 samples × 3 queues × 2 regions.
    expect(records.filter((r) => r.kind === 'queues').length).toBe((24 * 60 + 1) * 3 * 2);
    // Subscribers at the start (Sunday) and at midnight (Monday), for both regions.
    expect(records.filter((r) => r.kind === 'subscribers').map((r) => `${String(r.rec.region)} ${String(r.rec.asOf)}`).sort())
      .toEqual(['BJ 2026-11-29', 'BJ 2026-11-30', 'SH 2026-11-29', 'SH 2026-11-30']);
    expect(progress.at(-1)).toBe(1);
    expect(result.model.time).toBe(untilMs / 1000);
    expect(result.stats.simulatedTo).toBe('2026-11-30T10:00:00+08:00');
  });

  it('splits a batch the server finds too large (413)', async () => {
    const server = await startServer((r) => (r.records.length > 1000
      ? { status: 413, body: { error: { code: 'SQM_BODY_TOO_LARGE', message: 'too large' } } }
      : undefined));
    const result = await backfill({
      baseUrl: server.url, token: TOKEN, days: 0.25, until: new Date(MON_10), config, regions: ['BJ'], logger: silent, batchSize: 2500, concurrency: 1,
    });
    const ok = server.received.filter((r) => r.status === 200);
    expect(ok.every((r) => r.records.length <= 1000)).toBe(true);
    expect(server.received.some((r) => r.status === 413)).toBe(true);
    expect(result.stats.accepted).toBe(ok.reduce((n, r) => n + r.records.length, 0));
    expect(result.stats.accepted).toBe(Object.values(result.stats.generated).reduce((a, b) => a + b, 0));
  });

  it('refuses a history that would end in the future, and reports a server that is down', async () => {
    await expect(backfill({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, days: 1, until: new Date(Date.now() + 3_600_000), config }))
      .rejects.toThrow('backfill: until is in the future');
    const server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    await expect(backfill({ baseUrl: url, token: TOKEN, days: 0.1, config, regions: ['BJ'], logger: silent }))
      .rejects.toThrow(`cannot reach SQM at ${url} (ECONNREFUSED)`);
  });

  it('hands its model to the live simulator, which continues from where the history ended', async () => {
    const wallStart = Date.now();
    const clock = (): number => MON_10 + (Date.now() - wallStart) * 300;
    const server = await startServer(() => undefined, clock);
    const result = await backfill({ baseUrl: server.url, token: TOKEN, days: 0.05, config, regions: ['BJ'], logger: silent, now: () => new Date(clock()) });
    // It caught up with the clock that ran on while it worked (to within a second, plus the last request).
    const end = result.model.time * 1000;
    expect(end).toBeGreaterThan(MON_10);
    expect(clock() - end).toBeLessThan(60_000);
    expect(result.model.queueSampleSeconds).toBe(60);
    const sim = startSimulator({ baseUrl: server.url, token: TOKEN, config, model: result.model, logger: silent, intervalMs: 20, now: () => new Date(clock()) });
    expect(result.model.queueSampleSeconds).toBe(5);
    const before = server.received.length;
    await until(() => server.received.slice(before).some((r) => r.kind === 'calls'));
    await sim.stop();
    const live = server.received.slice(before);
    // Live samples every 5 s, continuing after the history's last sample.
    const samples = [...new Set(live.filter((r) => r.kind === 'queues').flatMap((r) => r.records.map((q) => Date.parse(q.at as string))))].sort();
    expect(samples[0]).toBeGreaterThan(Math.floor(end / 60_000) * 60_000 - 1);
    expect(samples.slice(1).every((t, i) => t - (samples[i] as number) === 5000)).toBe(true);
    // Tickets opened during the history are carried on by the same model (same ids, later snapshots).
    const historyTickets = new Set(server.received.slice(0, before).filter((r) => r.kind === 'tickets').flatMap((r) => r.records.map((t) => t.id)));
    const ids = server.received.filter((r) => r.kind === 'tickets').flatMap((r) => r.records.map((t) => `${String(t.id)}@${String(t.updatedAt)}`));
    expect(new Set(ids).size).toBe(ids.length);
    expect(historyTickets.size).toBeGreaterThan(0);
  });
});
