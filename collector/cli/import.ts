/**
 * `npm run import -- --kind calls FILE.csv [--map …] [--fixed …] [--values …]
 *   [--mapping f.yaml] [--timezone Asia/Shanghai] [--delimiter ';'] [--url …] [--token …] [--json]`
 * `npm run import -- --kind queue_log FILE`
 *
 * Sends the file's records to a running SQM over HTTP (SQM_URL, SQM_TOKEN).
 * Exit code 0 when the file was read, even with rejected rows; 1 on a fatal
 * error (unreadable file, server down, token refused), with a one-line message.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { RECORD_KINDS, type RecordKind } from '../index.js';
import { emptyMapping, loadMappingFile, mergeMappings, parseFixedSpec, parseMapSpec, parseValuesSpec } from '../sources/csv-mapping.js';
import { importCsv } from '../sources/csv.js';
import { importQueueLog } from '../sources/queue-log.js';
import { CliError, configFrom, httpSinkFrom, progressReporter, runCli } from './common.js';
import { formatCsvSummary, formatQueueLogSummary } from './format.js';

const USAGE = `usage: npm run import -- --kind <${[...RECORD_KINDS, 'queue_log'].join('|')}> FILE
  [--map "Header=field,…"] [--fixed "field=value,…"] [--values "Header:from=to,…"] [--mapping FILE.yaml]
  [--timezone ZONE] [--delimiter CHAR] [--url URL] [--token TOKEN] [--json]`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        kind: { type: 'string' },
        map: { type: 'string', multiple: true },
        fixed: { type: 'string', multiple: true },
        values: { type: 'string', multiple: true },
        mapping: { type: 'string' },
        timezone: { type: 'string' },
        delimiter: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message} (--help for usage)`);
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`give exactly one file (${USAGE.split('\n')[0]})`);
  const file = positionals[0]!;

  const fileMapping = flags.mapping ? loadMappingFile(flags.mapping) : emptyMapping();
  const kindText = flags.kind ?? fileMapping.kind;
  if (!kindText) throw new CliError(`--kind is required (${[...RECORD_KINDS, 'queue_log'].join(', ')})`);
  if (kindText !== 'queue_log' && !(RECORD_KINDS as readonly string[]).includes(kindText)) {
    throw new CliError(`unknown --kind "${kindText}" (${[...RECORD_KINDS, 'queue_log'].join(', ')})`);
  }

  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${file}: not a file`);
    size = st.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const config = configFrom(env);
  const { sink } = httpSinkFrom(flags, env);
  const progress = progressReporter(size);
  const input = createReadStream(file);
  try {
    if (kindText === 'queue_log') {
      const queues = config.queueLog?.queues ?? {};
      if (Object.keys(queues).length === 0) {
        throw new CliError('the configuration maps no queues (queueLog.queues); every call would be unmapped. See collector/sources/README.md');
      }
      const summary = await importQueueLog({
        input, queues, sink, source: `queue_log:${basename(file)}`,
        onProgress: (p) => progress.update(p.bytesRead, `${p.linesRead} lines, ${p.calls} calls`),
      });
      progress.done();
      process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : formatQueueLogSummary(file, summary));
      return 0;
    }
    const mapping = mergeMappings(fileMapping, {
      columns: (flags.map ?? []).reduce((acc, spec) => parseMapSpec(spec, acc), {} as Record<string, string>),
      fixed: (flags.fixed ?? []).reduce((acc, spec) => parseFixedSpec(spec, acc), {} as Record<string, string>),
      values: (flags.values ?? []).reduce((acc, spec) => parseValuesSpec(spec, acc), {} as Record<string, Record<string, string>>),
      ...(flags.timezone ? { timezone: flags.timezone } : {}),
      ...(flags.delimiter ? { delimiter: flags.delimiter } : {}),
    });
    const summary = await importCsv({
      kind: kindText as RecordKind, input, mapping, timezone: config.timezone, sink, source: `csv:${basename(file)}`,
      onProgress: (p) => progress.update(p.bytesRead, `${p.rowsRead} rows, ${p.accepted} accepted, ${p.rejected} rejected`),
    });
    progress.done();
    process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : formatCsvSummary(file, summary));
    return 0;
  } catch (error) {
    progress.done();
    const code = (error as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) throw new CliError(`cannot read ${file}: ${code}`);
    throw error;
  } finally {
    input.destroy();
  }
}

runCli('sqm import', () => main(process.argv.slice(2), process.env));
