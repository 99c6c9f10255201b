/**
 * `npm run simulate -- --backfill 30d`           30 days of history, then exit
 * `npm run simulate -- --live [--scenario demo]`  live traffic until Ctrl-C
 * `npm run simulate -- --backfill 7d --live`      history, then live from where it ended
 *
 * Options: --url (default $SQM_URL or http://127.0.0.1:8080), --token (default
 * $SQM_TOKEN; an ingest token), --seed N, --volume X, --regions GD,BJ, --until ISO.
 * Prints progress and a one-line summary; exits 1 with a one-line message on a
 * fatal error (server down, token refused).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../config/index.js';
import { backfill, startSimulator } from './runner.js';
import { loadScenario } from './scenario.js';
import { parseDuration } from './time.js';
import type { TrafficModel } from './model.js';

const USAGE = 'usage: npm run simulate -- (--backfill 30d | --live [--scenario demo]) [--url URL] [--token TOKEN] [--seed N] [--volume X] [--regions GD,BJ] [--until ISO]';

class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n`);
  process.exit(1);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        backfill: { type: 'string' },
        live: { type: 'boolean', default: false },
        scenario: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        seed: { type: 'string', default: '1' },
        volume: { type: 'string' },
        regions: { type: 'string' },
        until: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.backfill === undefined && !args.live) throw new UsageError('give --backfill DAYS, --live, or both');
  const baseUrl = args.url ?? process.env.SQM_URL ?? 'http://127.0.0.1:8080';
  const token = args.token ?? process.env.SQM_TOKEN;
  if (!token) throw new UsageError('no token: pass --token or set SQM_TOKEN (a token with the ingest role)');
  const seed = Number(args.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${args.seed}"`);
  const volume = args.volume === undefined ? undefined : Number(args.volume);
  if (volume !== undefined && !(volume > 0)) throw new UsageError(`--volume must be a positive number, got "${args.volume}"`);
  const regions = args.regions?.split(',').map((r) => r.trim().toUpperCase()).filter(Boolean);
  const until = args.until === undefined ? undefined : Date.parse(args.until);
  if (until !== undefined && Number.isNaN(until)) throw new UsageError(`--until is not a date-time: "${args.until}"`);
  if (until !== undefined && args.live) throw new UsageError('--until is for a backfill alone; live traffic continues from now');

  const config = loadConfig(process.env.SQM_CONFIG || undefined);
  const known = config.regions.map((r) => r.code);
  for (const r of regions ?? []) if (!known.includes(r)) throw new UsageError(`--regions: unknown region "${r}"`);
  // Validate the scenario before sending anything.
  const scenario = args.scenario === undefined ? undefined : loadScenario(args.scenario, known);
  const logger = pino({ level: process.env.SQM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const tty = process.stdout.isTTY;

  let model: TrafficModel | undefined;
  if (args.backfill !== undefined) {
    const days = /^[0-9]+$/.test(args.backfill) ? Number(args.backfill) : parseDuration(args.backfill) / 86400;
    let lastPrint = 0;
    const result = await backfill({
      baseUrl, token, days, seed, config, logger, volume, regions,
      ...(until === undefined ? {} : { until: until / 1000 }),
      onProgress: (p) => {
        if (Date.now() - lastPrint < (tty ? 250 : 5000)) return;
        lastPrint = Date.now();
        const line = `backfill ${(p.fraction * 100).toFixed(1)}% (to ${p.simulatedTo}): ${fmt(p.accepted)} accepted, ${fmt(p.rejected)} rejected`;
        process.stdout.write(tty ? `\r${line}   ` : `${line}\n`);
      },
    });
    const s = result.stats;
    if (tty) process.stdout.write('\n');
    process.stdout.write(`backfill done: ${days} days (${s.from} → ${s.simulatedTo}), ${fmt(s.accepted)} records accepted, ${fmt(s.rejected)} rejected, ${fmt(s.requests)} requests in ${s.seconds.toFixed(1)} s\n`);
    model = result.model;
  }
  if (!args.live) return;

  // A fatal error is printed once, as the exit message, rather than also logged.
  const handle = startSimulator({ baseUrl, token, seed, config, logger, volume, regions, scenario, model, onFatal: () => undefined });
  const began = Date.now();
  const status = (): string => {
    const s = handle.stats;
    return `live ${Math.round((Date.now() - began) / 1000)} s (to ${s.simulatedTo}): ${fmt(s.generated.calls)} calls, ${fmt(s.accepted)} records accepted, ${fmt(s.rejected)} rejected`;
  };
  process.stdout.write(`live traffic to ${baseUrl}${scenario ? ` with scenario "${scenario.name}"` : ''}; Ctrl-C to stop\n`);
  const timer = setInterval(() => process.stdout.write(tty ? `\r${status()}   ` : `${status()}\n`), tty ? 1000 : 10_000);
  const shutdown = (): void => {
    void handle.stop();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  try {
    await handle.done;
  } finally {
    clearInterval(timer);
    if (tty) process.stdout.write('\n');
  }
  process.stdout.write(`${status().replace(/^live/, 'live done:')}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) fail(`${error.message}\n${USAGE}`);
  fail((error as Error).message.split('\n').map((line) => line.trim().replace(/^- /, '')).join(' '));
});
