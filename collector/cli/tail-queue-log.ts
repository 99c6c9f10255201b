/**
 * `tsx collector/cli/tail-queue-log.ts FILE [--state PATH] [--from-end] [--interval MS] [--url …] [--token …]`
 *
 * Follows a live Asterisk queue_log and sends each finished call to a running
 * SQM over HTTP (SQM_URL, SQM_TOKEN). The state file (default FILE's name +
 * `.sqm-tail.json` in the current directory) keeps the place across restarts.
 * Stops on SIGINT/SIGTERM after saving its state. A refused token is fatal
 * (exit 1); a server that is down is retried every interval.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { QueueLogTailer } from '../sources/queue-log-tail.js';
import { SinkFatalError } from '../sources/sink.js';
import { CliError, configFrom, httpSinkFrom, runCli } from './common.js';
import { formatQueueLogProblems } from './format.js';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        state: { type: 'string' },
        'from-end': { type: 'boolean' },
        interval: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
      },
    });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const { values: flags, positionals } = parsed;
  if (positionals.length !== 1) throw new CliError('usage: tail-queue-log FILE [--state PATH] [--from-end] [--interval MS] [--url URL] [--token TOKEN]');
  const file = positionals[0]!;
  const interval = flags.interval === undefined ? 1000 : Number(flags.interval);
  if (!Number.isInteger(interval) || interval < 50) throw new CliError(`--interval: a whole number of milliseconds ≥ 50, got "${flags.interval}"`);
  const config = configFrom(env);
  const queues = config.queueLog?.queues ?? {};
  if (Object.keys(queues).length === 0) {
    throw new CliError('the configuration maps no queues (queueLog.queues); every call would be unmapped. See collector/sources/README.md');
  }
  const { sink, url } = httpSinkFrom(flags, env);
  const statePath = flags.state ?? `${basename(file)}.sqm-tail.json`;

  let fatal: Error | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const tailer = new QueueLogTailer({
    path: file,
    statePath,
    queues,
    sink,
    pollIntervalMs: interval,
    fromEnd: Boolean(flags['from-end']),
    onReport: (r) => {
      if (r.accepted > 0 || r.rejected > 0) process.stderr.write(`sent ${r.accepted + r.rejected} calls: ${r.accepted} accepted, ${r.rejected} rejected (${r.openCalls} in progress)\n`);
      for (const row of r.rejectedRows) process.stderr.write(`  line ${row.line}: ${row.errors.join('; ')}\n`);
      for (const line of formatQueueLogProblems(r)) process.stderr.write(`${line}\n`);
    },
    onError: (error) => {
      // A refused token will not get better by waiting; a server that is down might.
      if (error instanceof SinkFatalError && (error.status === 401 || error.status === 403)) {
        fatal = error;
        finish();
      } else {
        process.stderr.write(`tail: ${error.message}; retrying\n`);
      }
    },
  });
  process.stderr.write(`following ${file} → ${url} (state: ${statePath})\n`);
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  tailer.start();
  await finished;
  await tailer.stop();
  if (fatal) throw fatal;
  process.stderr.write(`stopped; state saved in ${statePath}\n`);
  return 0;
}

runCli('sqm tail-queue-log', () => main(process.argv.slice(2), process.env));
