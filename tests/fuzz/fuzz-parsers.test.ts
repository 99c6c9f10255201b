/**
 * Property-based fuzzing of the input parsers that need no store (issue 7,
 * "Fuzzing"): the CSV reader, the queue_log parser, importer and tailer, config
 * loading, and the live WebSocket message parser. Generated garbage is mixed
 * with known-good input; the good input must come through unchanged and the
 * garbage must be refused with a reason, never a throw.
 *
 * Seeded and bounded (tests/fuzz/fuzz-settings.ts says how to run more).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvRowReader, type RowEvent } from '../../collector/sources/csv-rows.js';
import { importQueueLog, parseQueueLogLine } from '../../collector/sources/queue-log.js';
import { QueueLogTailer } from '../../collector/sources/queue-log-tail.js';
import { ConfigError, loadConfig, validateConfigObject } from '../../config/load.js';
import { parseClientMessage } from '../../server/live/protocol.js';
import { captureSink } from '../helpers/capture-sink.js';
import { BASIC_CALLS, QUEUES } from '../helpers/queue-log-fixtures.js';
import { FUZZ_SEED, fuzzRuns } from './fuzz-settings.js';

const opts = (own: number) => ({ seed: FUZZ_SEED, numRuns: fuzzRuns(own) });

/** Cut a buffer at the given points (any byte, mid-character included). */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  out.push(bytes.subarray(start));
  return out;
}

describe('CSV reader', () => {
  const readAll = (parts: Buffer[]): RowEvent[] => {
    const events: RowEvent[] = [];
    const reader = new CsvRowReader((e) => events.push(e), { maxRecordBytes: 4096 });
    for (const p of parts) reader.write(p);
    reader.end();
    return events;
  };

  /** A clean row: cells with no quote, comma or line break, not all blank. */
  const cleanRow = fc.array(fc.string({ maxLength: 8 }).map((s) => s.replace(/["\r\n,]/g, '')), { minLength: 3, maxLength: 3 })
    .filter((cells) => cells.some((c) => c.trim() !== ''));
  /** A line of quote abuse with an even count of quotes, or random bytes with no quote or newline. */
  const abuse = fc.oneof(
    fc.constantFrom('a"b"c,d,e', '"x"y,1,2', '""",",z', 'q,"",""""'),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a.filter((b) => b !== 0x22 && b !== 0x0a && b !== 0x0d)).toString('latin1')),
  );

  it('never throws, reads the same however the bytes are cut, and keeps every clean row with its line number', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof({ weight: 3, arbitrary: cleanRow.map((cells) => ({ cells })) }, { weight: 2, arbitrary: abuse.map((text) => ({ text })) }), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.option(fc.nat({ max: 30 }), { nil: undefined }),
      (lines, cuts, unclosedAt) => {
        // At most one odd quote, so it cannot pair up with another and swallow the lines between.
        const text = lines.map((l, i) => (i === unclosedAt ? '"open,1,2' : 'cells' in l ? l.cells.join(',') : l.text)).join('\n') + '\n';
        const bytes = Buffer.from(text, 'latin1');
        const whole = readAll([bytes]);
        expect(readAll(chunks(bytes, cuts))).toEqual(whole);
        const lineNumbers = whole.map((e) => e.line);
        expect(lineNumbers).toEqual([...lineNumbers].sort((a, b) => a - b));
        lines.forEach((l, i) => {
          if (!('cells' in l) || i === unclosedAt) return;
          // The reader trims cells (spreadsheet exports pad them).
          const cells = l.cells.map((c) => c.trim());
          expect(whole).toContainEqual({ type: 'row', line: i + 1, cells });
        });
        if (unclosedAt !== undefined && unclosedAt < lines.length) expect(whole.find((e) => e.line === unclosedAt + 1)?.type).toBe('bad');
      },
    ), opts(200));
  });
});

describe('queue_log', () => {
  const BASIC = readFileSync(new URL('../fixtures/queue_log/basic.queue_log', import.meta.url), 'utf8').trimEnd().split('\n');
  const FIXTURE_IDS = new Set(BASIC_CALLS.map((c) => c.value.id));

  it('parseQueueLogLine never throws on any text', () => {
    fc.assert(fc.property(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 12 }).map((f) => f.join('|'))),
      (line) => {
        const parsed = parseQueueLogLine(line);
        if (parsed !== null && 'error' in parsed) expect(parsed.error.length).toBeGreaterThan(0);
      },
    ), opts(200));
  });

  /**
   * Garbage that cannot touch the fixture's calls: random text, random bytes
   * (invalid UTF-8), huge fields, and well-formed lines for other call ids or
   * unmapped queues, at times inside the fixture's hour.
   */
  const garbage = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 120 }).map((s) => Buffer.from(s.replace(/[\r\n]/g, ' '))),
    fc.uint8Array({ minLength: 1, maxLength: 80 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a && b !== 0x7c))),
    fc.integer({ min: 1000, max: 100_000 }).map((n) => Buffer.from(`1764466050|x|support|a|${'E'.repeat(n)}`)),
    fc.tuple(fc.integer({ min: 1764466000, max: 1764466300 }), fc.constantFrom('support', 'sales', 'nowhere', 'NONE'), fc.constantFrom('ENTERQUEUE', 'CONNECT', 'ABANDON', 'COMPLETECALLER', 'BOGUS', 'connect'), fc.array(fc.string({ maxLength: 6 }).map((s) => s.replace(/[|\r\n]/g, '')), { maxLength: 5 }))
      .map(([t, q, e, data]) => Buffer.from(`${t}|fz-${t}.${data.length}|${q}|SIP/9|${e}|${data.join('|')}`)),
  );

  /** The fixture's lines in order with garbage between them, as bytes; and where each fixture line ended up. */
  const mixed = fc.array(fc.array(garbage, { maxLength: 3 }), { minLength: BASIC.length, maxLength: BASIC.length }).map((gaps) => {
    const out: Buffer[] = [];
    const lineOf: number[] = [];
    let n = 0;
    BASIC.forEach((line, i) => {
      for (const g of gaps[i]!) {
        out.push(g, Buffer.from('\n'));
        n++;
      }
      out.push(Buffer.from(`${line}\n`));
      lineOf.push(++n);
    });
    return { bytes: Buffer.concat(out), lineOf };
  });

  /** The fixture's calls as they must come out, with the line numbers they now have. */
  const expectedCalls = (lineOf: number[]) => BASIC_CALLS.map((c) => ({ index: lineOf[c.index - 1]!, value: c.value }));
  const fixtureRecords = (records: { index: number; value?: unknown }[]) =>
    records.filter((r) => FIXTURE_IDS.has((r.value as { id?: string } | undefined)?.id ?? ''))
      .sort((a, b) => a.index - b.index);

  it('import: garbage lines between the fixture lose none of its calls, and never throw', async () => {
    await fc.assert(fc.asyncProperty(mixed, fc.array(fc.nat(), { maxLength: 6 }), async ({ bytes, lineOf }, cuts) => {
      const sink = captureSink();
      const summary = await importQueueLog({ input: Readable.from(chunks(bytes, cuts)), queues: QUEUES, sink, source: 'fuzz' });
      expect(fixtureRecords(sink.records)).toEqual(expectedCalls(lineOf));
      expect(summary.linesRead).toBe(lineOf[lineOf.length - 1]);
    }), opts(60));
  });

  it('tailer: the same mix, read in small chunks across polls, gives the same calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqm-fuzz-tail-'));
    let run = 0;
    await fc.assert(fc.asyncProperty(mixed, fc.integer({ min: 256, max: 4096 }), async ({ bytes, lineOf }, chunk) => {
      const path = join(dir, `queue_log-${++run}`);
      const errors: Error[] = [];
      const sink = captureSink();
      const tailer = new QueueLogTailer({ path, queues: QUEUES, sink, readChunkBytes: chunk, onError: (e) => errors.push(e) });
      const half = Math.floor(bytes.length / 2);
      writeFileSync(path, bytes.subarray(0, half));
      await tailer.pollOnce();
      writeFileSync(path, bytes);
      for (let i = 0; i < 3; i++) await tailer.pollOnce();
      await tailer.stop();
      expect(errors).toEqual([]);
      expect(fixtureRecords(sink.records)).toEqual(expectedCalls(lineOf));
    }), opts(20));
  });
});

describe('config', () => {
  const base = loadConfig();

  /** Only ConfigError may come out: it names the field for the operator. */
  const judge = (attempt: () => unknown): void => {
    try {
      attempt();
    } catch (error) {
      expect(error, String((error as Error)?.stack)).toBeInstanceOf(ConfigError);
      expect((error as Error).message.length).toBeGreaterThan(0);
    }
  };

  it('validateConfigObject: any value, or the default config with one field replaced, is accepted or refused with a ConfigError', () => {
    const paths: string[][] = [];
    const walk = (v: unknown, path: string[]): void => {
      paths.push(path);
      if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) if (path.length < 4) walk(c, [...path, k]);
    };
    walk(base, []);
    fc.assert(fc.property(
      fc.oneof(
        fc.anything({ maxDepth: 3 }).map((v) => () => v),
        fc.tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.oneof(fc.anything({ maxDepth: 2 }), fc.constantFrom(1e308, -1, '', 'x'.repeat(10_000), null, [], {})))
          .map(([path, value]) => () => {
            const copy = structuredClone(base) as unknown as Record<string, unknown>;
            let at = copy;
            for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
            at[path[path.length - 1]!] = value;
            return copy;
          }),
      ),
      (make) => judge(() => validateConfigObject(make(), 'fuzz')),
    ), opts(200));
  });

  it('loadConfig: random YAML text (deep nesting, alias bombs, bytes) is refused with a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqm-fuzz-config-'));
    const path = join(dir, 'config.yaml');
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.integer({ min: 100, max: 20_000 }).map((n) => Buffer.from('a: ' + '['.repeat(n) + ']'.repeat(n))),
      fc.integer({ min: 100, max: 5000 }).map((n) => Buffer.from('- '.repeat(n) + 'x')),
      fc.constant(Buffer.from('a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n')),
      fc.constant(Buffer.from('a: 1\na: 2\n')),
    );
    fc.assert(fc.property(text, (bytes) => {
      writeFileSync(path, bytes);
      judge(() => loadConfig(path));
    }), opts(100));
  });
});

describe('live protocol', () => {
  const validSubscribe = { type: 'subscribe', id: 'w1', kpis: ['service-level'], regions: ['GD'], window: 'today' };

  it('parseClientMessage never throws; anything malformed is a SQM_BAD_REQUEST naming what is wrong', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.integer({ min: 100, max: 50_000 }).map((n) => '{"type":"subscribe","kpis":' + '['.repeat(n) + ']'.repeat(n) + '}'),
      fc.tuple(fc.constantFrom('type', 'id', 'kpis', 'regions', 'by', 'window', 'step', 'protocol', 'nonce', 'zz', '__proto__'), fc.jsonValue({ maxDepth: 3 }))
        .map(([k, v]) => JSON.stringify({ ...validSubscribe, [k]: v })),
      fc.tuple(fc.constantFrom('ping', 'unsubscribe'), fc.jsonValue({ maxDepth: 2 })).map(([type, v]) => JSON.stringify({ type, nonce: v, id: v })),
    );
    fc.assert(fc.property(text, (message) => {
      const result = parseClientMessage(message);
      if (!result.ok) {
        expect(result.error.code).toBe('SQM_BAD_REQUEST');
        expect(result.error.message.length).toBeGreaterThan(0);
      }
    }), opts(300));
    expect(parseClientMessage(JSON.stringify(validSubscribe)).ok).toBe(true);
  });
});
