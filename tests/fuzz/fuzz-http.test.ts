/**
 * Property-based fuzzing of the HTTP input paths (issue 7, "Fuzzing"), on every
 * backend: POST /api/v1/ingest/{kind} (JSON array and NDJSON, every kind),
 * POST /api/v1/import/{kind} (CSV with mappings) and GET /api/v1/kpis.
 *
 * Generated bad input (wrong types, random bytes, invalid UTF-8, deep nesting,
 * huge numbers and strings, CSV quote abuse) is mixed with generated VALID
 * records. Each property checks that the answer is never a 5xx, that every
 * valid record is stored exactly once (read back from the store) and that
 * every bad one is refused and kept in dead_letters under its index.
 *
 * Runs are few and seeded so `npm test` stays fast and repeatable. To fuzz
 * harder: SQM_FUZZ_RUNS=2000 SQM_FUZZ_SEED=$RANDOM npx vitest run tests/fuzz
 * (a failure prints the seed and path that reproduce it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { sql, type Store } from '../../store/index.js';
import { KPI_IDS } from '../../kpi/catalogue.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';
import { bearer, buildTestApp, testConfig, TOKENS } from '../helpers/app.js';
import { FUZZ_SEED, fuzzRuns } from './fuzz-settings.js';

// The fixed clock: 2026-11-30T01:20:02Z; records are up to an hour older.
const NOW_SEC = 1796001602;
const NOW = new Date(NOW_SEC * 1000);
const T = NOW_SEC - 300;

/** Statuses an input path may answer; anything else (a 5xx above all) is a bug. */
const ALLOWED = new Set([200, 400, 401, 403, 404, 413, 415]);
const MAX_BODY = 512 * 1024;
const MAX_RECORDS = 400;

type Kind = 'calls' | 'tickets' | 'faults' | 'surveys' | 'queues' | 'subscribers';
const KINDS: Kind[] = ['calls', 'tickets', 'faults', 'surveys', 'queues', 'subscribers'];
const REGIONS = ['BJ', 'GD', 'SH', 'ZJ', 'XZ'];

/** Every generated record gets a fresh number, so ids never repeat across runs or backends' checks. */
let serial = 0;
const next = (): number => ++serial;

interface Valid { key: string; value: Record<string, unknown> }

/**
 * A valid record's shape, made into a record only when it is sent: fast-check
 * replays generated values while shrinking, and a replayed id would be a
 * (rightly dropped) duplicate rather than a new record.
 */
interface ValidSpec { kind: Kind; region: string; age: number; count: number }
const make = (s: ValidSpec): Valid => validRecord(s.kind, next(), s.region, s.age, s.count);

/** A valid record of `kind`, keyed by what identifies its row (id, queue name, or asOf date). */
function validRecord(kind: Kind, n: number, region: string, age: number, count: number): Valid {
  const at = T - age;
  switch (kind) {
    case 'calls': {
      const id = `fz-c-${n}`;
      return { key: id, value: { id, region, queue: 'q1', channel: 'voice', enteredAt: at, answeredAt: at + 12, endedAt: at + 100, outcome: 'answered', talkSeconds: count } };
    }
    case 'tickets': {
      const id = `fz-t-${n}`;
      return { key: id, value: { id, region, channel: 'app', category: 'inquiry', priority: 'low', openedAt: at, status: 'open', updatedAt: at } };
    }
    case 'faults': {
      const id = `fz-f-${n}`;
      return { key: id, value: { id, region, domain: 'power', severity: 'minor', detectedAt: at, updatedAt: at, customersAffected: count } };
    }
    case 'surveys': {
      const id = `fz-s-${n}`;
      return { key: id, value: { id, region, channel: 'web', touchpoint: 'store', answeredAt: at, nps: count % 11 } };
    }
    case 'queues': {
      const queue = `fz-q-${n}`;
      return { key: queue, value: { region, queue, at, waiting: count, longestWaitSeconds: 33, agentsBusy: 7 } };
    }
    case 'subscribers': {
      // One date per record (counting back from the day before NOW), so each is its own (region, asOf) row.
      const asOf = new Date(Date.UTC(2026, 10, 29) - n * 86_400_000).toISOString().slice(0, 10);
      return { key: asOf, value: { region: 'XZ', asOf, subscribers: 3_000_000 + count } };
    }
  }
}

const specArb = (kind: Kind): fc.Arbitrary<ValidSpec> =>
  fc.record({ kind: fc.constant(kind), region: fc.constantFrom(...REGIONS), age: fc.integer({ min: 0, max: 3600 }), count: fc.integer({ min: 0, max: 5000 }) });
/** For bad records built from a valid one: their ids never matter, they are refused. */
const validArb = (kind: Kind): fc.Arbitrary<Valid> => specArb(kind).map(make);

/** Nested arrays/objects `depth` deep, built as text (fast-check's own recursion would be slow this deep). */
const deepJson = (depth: number, object: boolean): string =>
  object ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);

/** A value of a type no record field accepts. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.integer({ min: 2, max: 3000 }).map((d) => JSON.parse(deepJson(d, false)) as unknown),
);

/**
 * A record that must be refused, as JSON text: a valid one broken in a way no
 * field rule forgives, or something that is no record at all.
 */
const badRecordJson = (kind: Kind): fc.Arbitrary<string> => fc.oneof(
  // no record at all: any JSON value (an object of random keys misses the required fields)
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  // nested far deeper than any parser should recurse
  fc.tuple(fc.integer({ min: 1000, max: 20_000 }), fc.boolean()).map(([d, o]) => deepJson(d, o)),
  // an unknown field
  fc.tuple(validArb(kind), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))
    .map(([v, k, x]) => JSON.stringify({ ...v.value, [`zz_${k}`]: x })),
  // the required region missing, of a wrong type, or not a configured code
  fc.tuple(validArb(kind), fc.oneof(fc.constant(undefined), fc.constant(null), wrongType, fc.string({ maxLength: 300 }).filter((s) => !REGIONS.includes(s) && !/^[A-Z]{2}$/.test(s))))
    .map(([v, region]) => JSON.stringify({ ...v.value, region })),
  // huge numbers and strings where bounded ones belong
  fc.tuple(validArb(kind), fc.constantFrom(1e300, -1, 1.5, 2 ** 53 + 2, 1e21), fc.integer({ min: 300, max: 20_000 }))
    .map(([v, big, len]) => {
      const r: Record<string, unknown> = { ...v.value };
      if (kind === 'subscribers') r.subscribers = big;
      else if (kind === 'queues') r.queue = 'q'.repeat(len);
      else r.id = `fz-huge-${'x'.repeat(len)}`;
      return JSON.stringify(r);
    }),
  // half a surrogate pair (a JSON \ud800 escape) in a value or a field name: no store takes it as UTF-8
  fc.tuple(validArb(kind), fc.constantFrom('\ud800', 'a\udbff', '\udc00z'), fc.boolean())
    .map(([v, half, inName]) => JSON.stringify(inName ? { ...v.value, [`zz${half}`]: 1 } : { ...v.value, [kind === 'queues' ? 'queue' : kind === 'subscribers' ? 'asOf' : 'id']: `fz${half}` })),
  // a time far beyond maxFutureSeconds, or text that is no time
  fc.tuple(validArb(kind), fc.oneof(fc.constant(1e15), fc.constant('2026-13-45T99:00:00Z'), fc.constant('soon'), fc.constant(NOW_SEC + 100_000)))
    .map(([v, t]) => {
      const field = { calls: 'enteredAt', tickets: 'openedAt', faults: 'detectedAt', surveys: 'answeredAt', queues: 'at', subscribers: 'asOf' }[kind];
      return JSON.stringify({ ...v.value, [field]: kind === 'subscribers' ? 'not-a-date' : t });
    }),
);

/** One NDJSON line that is not a record: random text or bytes (invalid UTF-8 among them), never blank, no newline. */
const garbageLine: fc.Arbitrary<Buffer> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.constantFrom('{', '[1,', '{"id":', '"\\ud800"', 'null', '{}', '\u0000').map((s) => Buffer.from(s)),
).map((b) => Buffer.from(b.filter((x) => x !== 0x0a)))
  .filter((b) => /\S/.test(b.toString('utf8')) && b.toString('utf8').charCodeAt(0) !== 0xfeff);

type Item = { valid: ValidSpec } | { bad: Buffer };

const itemsArb = (kind: Kind, ndjson: boolean): fc.Arbitrary<Item[]> => fc.array(
  fc.oneof(
    { weight: 3, arbitrary: specArb(kind).map((valid): Item => ({ valid })) },
    { weight: 2, arbitrary: badRecordJson(kind).map((s): Item => ({ bad: Buffer.from(s) })) },
    { weight: ndjson ? 1 : 0, arbitrary: garbageLine.map((bad): Item => ({ bad })) },
  ),
  { minLength: 1, maxLength: 12 },
);

const ROW_TABLE: Record<Kind, { table: 'calls' | 'tickets' | 'faults' | 'surveys' | 'queue_states' | 'subscribers'; key: string }> = {
  calls: { table: 'calls', key: 'id' },
  tickets: { table: 'tickets', key: 'id' },
  faults: { table: 'faults', key: 'id' },
  surveys: { table: 'surveys', key: 'id' },
  queues: { table: 'queue_states', key: 'queue' },
  subscribers: { table: 'subscribers', key: 'toString(asOf)' },
};

describe.each(BACKENDS)('fuzzing the input paths on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  /** Dead-letter batches already looked at: each request's rejections are read as the one new batch. */
  const seenBatches = new Set<string>(['-']);

  beforeAll(async () => {
    store = await openTestStore(backend);
    const base = testConfig();
    // Small limits so the 413 paths are reachable by generated input; no batching wait, so runs are quick.
    const config = testConfig({ ingest: { ...base.ingest, maxBodyBytes: MAX_BODY, maxRecordsPerRequest: MAX_RECORDS, batchMaxWaitMs: 0 } });
    app = await buildTestApp(store, { now: () => NOW, config });
    await app.ready();
  });
  // A property that failed part-way leaves dead letters unread; the next one must not count them.
  beforeEach(async () => {
    if (store) await newDeadLetters();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  /** How many rows each key has in the kind's table. */
  async function storedCounts(kind: Kind, keys: string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const { table, key } = ROW_TABLE[kind];
    const rows = await store.query<{ k: string; n: number }>(sql`
      SELECT ${sql.raw(key)} AS k, toUInt32(count()) AS n FROM ${store.table(table)}
      WHERE ${sql.raw(key)} IN ${sql.list(keys)} GROUP BY k`);
    return new Map(rows.map((r) => [r.k, Number(r.n)]));
  }

  /** Dead letters of batches not seen before: [recordIndex, raw] sorted by index. */
  async function newDeadLetters(): Promise<{ recordIndex: number; raw: string; kind: string }[]> {
    const rows = await store.query<{ batchId: string; recordIndex: number; raw: string; kind: string }>(sql`
      SELECT toString(batchId) AS batchId, recordIndex, raw, kind FROM ${store.table('dead_letters')}
      WHERE toString(batchId) NOT IN ${sql.list([...seenBatches])} ORDER BY recordIndex`);
    for (const r of rows) seenBatches.add(r.batchId);
    return rows.map(({ recordIndex, raw, kind }) => ({ recordIndex: Number(recordIndex), raw, kind }));
  }

  const post = (url: string, body: Buffer | string, type: string | undefined, token: string | undefined = TOKENS.ingest) =>
    app.inject({
      method: 'POST', url,
      headers: { ...(token === undefined ? {} : bearer(token)), ...(type === undefined ? {} : { 'content-type': type }) },
      payload: body,
    });

  /** Send the mix; check the answer, the stored rows and the dead letters against what was generated. */
  async function checkMix(kind: Kind, items: Item[], ndjson: boolean, crlf: boolean, blankEvery: number): Promise<void> {
    const parts: Buffer[] = [];
    const expectedBad: { index: number; text?: string }[] = [];
    const valid: string[] = [];
    let index = 0;
    for (const item of items) {
      if (ndjson && blankEvery > 0 && index % blankEvery === 1) {
        parts.push(Buffer.from('   ')); // a blank line: skipped, yet it still counts as a line
        index++;
      }
      const made = 'valid' in item ? make(item.valid) : undefined;
      const text = made ? Buffer.from(JSON.stringify(made.value)) : (item as { bad: Buffer }).bad;
      if (made) valid.push(made.key);
      else expectedBad.push({ index, ...(ndjson && Buffer.from(text.toString('utf8')).equals(text) ? { text: text.toString('utf8') } : {}) });
      parts.push(text);
      index++;
    }
    const body = ndjson
      ? Buffer.concat(parts.flatMap((p) => [p, Buffer.from(crlf ? '\r\n' : '\n')]))
      : Buffer.concat([Buffer.from('['), ...parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from(','), p])), Buffer.from(']')]);
    const res = await post(`/api/v1/ingest/${kind}`, body, ndjson ? 'application/x-ndjson' : 'application/json');
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    const answer = res.json() as { accepted: number; rejected: { index: number; errors: string[] }[] };
    expect(answer.accepted).toBe(valid.length);
    expect(answer.rejected.map((r) => r.index)).toEqual(expectedBad.map((b) => b.index));
    for (const r of answer.rejected) expect(r.errors.length).toBeGreaterThan(0);

    const counts = await storedCounts(kind, valid);
    expect(valid.map((k) => counts.get(k) ?? 0)).toEqual(valid.map(() => 1));

    const dead = await newDeadLetters();
    expect(dead.map((d) => d.recordIndex)).toEqual(expectedBad.map((b) => b.index));
    expect(dead.every((d) => d.kind === kind)).toBe(true);
    // What arrived as a line of valid UTF-8 is kept as it arrived.
    for (const [i, bad] of expectedBad.entries()) if (bad.text !== undefined && bad.text.length < 20_000) expect(dead[i]!.raw).toBe(bad.text.replace(/\r$/, ''));
  }

  for (const format of ['JSON array', 'NDJSON'] as const) {
    it(`ingest (${format}): every valid record stored once, every bad one a dead letter at its index, for every kind`, async () => {
      const ndjson = format === 'NDJSON';
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...KINDS).chain((kind) => fc.tuple(fc.constant(kind), itemsArb(kind, ndjson))),
          fc.boolean(), fc.integer({ min: 0, max: 4 }),
          async ([kind, items], crlf, blankEvery) => checkMix(kind, items, ndjson, crlf, blankEvery),
        ),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(60) },
      );
    });
  }

  it('ingest: random bodies, content types, kinds and tokens never get a 5xx and store nothing unasked', async () => {
    const before = await store.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${store.table('calls')}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...KINDS), fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s))),
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
          fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => Buffer.from(s)),
          fc.integer({ min: 1, max: 30_000 }).map((d) => Buffer.from(deepJson(d, d % 2 === 0))),
          fc.constant(Buffer.alloc(MAX_BODY + 1, 0x20)), // over the body limit: 413
          fc.constant(Buffer.from(`[${Array.from({ length: MAX_RECORDS + 1 }, () => '{}').join(',')}]`)), // too many records: 413
          fc.constant(Buffer.from(Array.from({ length: MAX_RECORDS + 1 }, () => '{}').join('\n'))),
        ),
        fc.constantFrom<string | undefined>('application/json', 'application/x-ndjson', 'application/json; charset=latin1', 'text/csv', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', undefined),
        fc.constantFrom<string | undefined>(TOKENS.ingest, TOKENS.viewer, 'not-a-token', undefined),
        async (kind, body, type, token) => {
          const res = await post(`/api/v1/ingest/${kind}`, body, type, token);
          expect(ALLOWED.has(res.statusCode), `status ${res.statusCode}: ${res.body.slice(0, 300)}`).toBe(true);
          if (res.statusCode >= 400) expect(res.body).not.toMatch(/\n\s+at /); // no stack trace
        },
      ),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(80) },
    );
    await newDeadLetters();
    // Random bodies hold no record with every required field, so no call row was added.
    const after = await store.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${store.table('calls')}`);
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
  });

  describe('CSV import', () => {
    type Mapping = 'plain' | 'renamed' | 'fixed-region' | 'coded-outcome';
    /** A cell that makes the row unacceptable wherever it lands in the outcome column (a closed enum). */
    const badOutcome: fc.Arbitrary<{ cell: Buffer; unclosed: boolean }> = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `zz${s.replace(/[",\r\n]/g, '')}`),
      // quote abuse with an even count of quotes (an odd one would open a quoted field over the next lines)
      fc.constantFrom('zz"x"y', '"ans"wered', 'x""', '""zz""', '"zz""'),
      fc.integer({ min: 300, max: 8000 }).map((n) => 'z'.repeat(n)),
    ).map((s) => ({ cell: Buffer.from(s), unclosed: false })).chain((c) => fc.oneof(
      fc.constant(c),
      // invalid UTF-8 in the cell
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => ({ cell: Buffer.concat([Buffer.from('zz'), Buffer.from(a.map((b) => 0x80 | (b & 0x3f)))]), unclosed: false })),
    ));

    type Row = { valid: ValidSpec } | { badCell: Buffer } | { wrongCount: number } | { unclosed: true };

    const rowArb = (): fc.Arbitrary<Row> => fc.oneof(
      { weight: 4, arbitrary: specArb('calls').map((valid): Row => ({ valid })) },
      { weight: 2, arbitrary: badOutcome.map((b): Row => ({ badCell: b.cell })) },
      { weight: 1, arbitrary: fc.constantFrom(1, 3, 12).map((n): Row => ({ wrongCount: n })) },
    );

    function csvFor(mapping: Mapping, rows: Row[], unclosedAt: number | undefined, crlf: boolean) {
      const withRegion = mapping !== 'fixed-region';
      const header = ['id', ...(withRegion ? [mapping === 'renamed' ? 'Region Code' : 'region'] : []), 'queue', 'channel', 'enteredAt', 'answeredAt', 'endedAt', 'Outcome', 'talkSeconds'];
      const eol = crlf ? '\r\n' : '\n';
      const lines: Buffer[] = [Buffer.from(header.join(','))];
      const validKeys: string[] = [];
      const badLines: number[] = [];
      rows.forEach((row, i) => {
        const line = i + 2;
        if (i === unclosedAt) {
          // An opening quote never closed: the row is refused, and reading resumes on the next line.
          lines.push(Buffer.from(`fz-open-${next()},${withRegion ? 'GD,' : ''}q1,voice,${T},,${T + 5},"abandoned,0`));
          badLines.push(line);
          return;
        }
        if ('wrongCount' in row) {
          lines.push(Buffer.from(Array.from({ length: row.wrongCount }, (_, k) => `c${k}`).join(',')));
          badLines.push(line);
          return;
        }
        const v = make('valid' in row ? row.valid : { kind: 'calls', region: 'GD', age: 10, count: 5 });
        const r = v.value;
        const region = withRegion ? [String(r.region)] : [];
        const outcome = 'badCell' in row ? row.badCell : Buffer.from(mapping === 'coded-outcome' ? 'ANS' : String(r.outcome));
        lines.push(Buffer.concat([
          Buffer.from([r.id, ...region, r.queue, r.channel, r.enteredAt, r.answeredAt, r.endedAt].join(',') + ','),
          outcome,
          Buffer.from(`,${String(r.talkSeconds)}`),
        ]));
        if ('valid' in row) validKeys.push(v.key);
        else badLines.push(line);
      });
      const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from(eol)]));
      const query = new URLSearchParams();
      query.append('map', 'Outcome=outcome');
      if (mapping === 'renamed') query.append('map', 'Region Code=region');
      if (mapping === 'fixed-region') query.append('fixed', 'region=GD');
      if (mapping === 'coded-outcome') query.append('values', 'Outcome:ANS=answered,ABD=abandoned');
      return { body, query: query.toString(), validKeys, badLines };
    }

    it('every valid row stored once, every bad row (quote abuse, invalid UTF-8, wrong width, huge cells) refused by its line', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Mapping>('plain', 'renamed', 'fixed-region', 'coded-outcome'),
          fc.array(rowArb(), { minLength: 1, maxLength: 15 }),
          fc.option(fc.nat({ max: 14 }), { nil: undefined }),
          fc.boolean(),
          async (mapping, rows, unclosed, crlf) => {
            const unclosedAt = unclosed !== undefined && unclosed < rows.length ? unclosed : undefined;
            const { body, query, validKeys, badLines } = csvFor(mapping, rows, unclosedAt, crlf);
            const res = await post(`/api/v1/import/calls?${query}`, body, 'text/csv');
            expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
            const summary = res.json() as { rowsRead: number; accepted: number; rejected: number; rejectedRows: { line: number }[] };
            expect(summary.accepted).toBe(validKeys.length);
            expect(summary.rejected).toBe(badLines.length);
            expect(summary.rowsRead).toBe(rows.length);
            expect(summary.rejectedRows.map((r) => r.line)).toEqual(badLines.slice(0, 20));
            const counts = await storedCounts('calls', validKeys);
            expect(validKeys.map((k) => counts.get(k) ?? 0)).toEqual(validKeys.map(() => 1));
            expect((await newDeadLetters()).map((d) => d.recordIndex)).toEqual(badLines);
          },
        ),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(50) },
      );
    });

    it('random CSV bodies and mapping parameters never get a 5xx', async () => {
      const spec = fc.string({ unit: 'binary', maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...KINDS),
          fc.oneof(
            fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
            fc.array(fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }), { maxLength: 20 }).map((rows) => Buffer.from(rows.map((r) => r.join(',')).join('\n'))),
            fc.constantFrom('"', '"""', 'id\n"', 'a,"b\n"c', '\ufeff', 'id,region\n\u0000,GD\n').map((s) => Buffer.from(s)),
          ),
          fc.array(fc.tuple(fc.constantFrom('map', 'fixed', 'values', 'timezone', 'delimiter', 'other'), spec), { maxLength: 4 }),
          async (kind, body, params) => {
            const query = new URLSearchParams(params).toString();
            const res = await post(`/api/v1/import/${kind}?${query}`, body, 'text/csv');
            expect(ALLOWED.has(res.statusCode), `status ${res.statusCode}: ${res.body.slice(0, 300)}`).toBe(true);
          },
        ),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(80) },
      );
      await newDeadLetters();
    });
  });

  it('GET /kpis: random query strings never get a 5xx, and a well-formed one is answered', async () => {
    const value = fc.oneof(
      fc.constantFrom(...KPI_IDS, ...REGIONS, 'minute', 'hour', 'day', 'week', 'month', 'region', 'queue', 'channel',
        '2026-11-30T00:00:00Z', '2026-11-29T00:00:00+08:00', String(NOW_SEC), '1e300', '-1', 'NaN', ''),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 300, max: 5000 }).map((n) => 'x'.repeat(n)),
    );
    const param = fc.tuple(fc.constantFrom('kpi', 'from', 'to', 'region', 'by', 'step', 'kpi[]', 'x', '__proto__', 'constructor'), value);
    const rawGarbage = fc.constantFrom('%', '%zz', '%C3', '%ff%fe', '&&&', '=', 'kpi=%E0%A4%A', 'a[b][c][d]=1');
    await fc.assert(
      fc.asyncProperty(
        fc.array(param, { maxLength: 8 }), fc.option(rawGarbage, { nil: undefined }),
        fc.constantFrom(TOKENS.viewer, TOKENS.managerGD, 'nope'),
        async (params, raw, token) => {
          const query = new URLSearchParams(params).toString() + (raw === undefined ? '' : `&${raw}`);
          const res = await app.inject({ method: 'GET', url: `/api/v1/kpis?${query}`, headers: bearer(token) });
          expect(ALLOWED.has(res.statusCode), `status ${res.statusCode} for ${query.slice(0, 200)}: ${res.body.slice(0, 300)}`).toBe(true);
          if (res.statusCode >= 400) expect(res.body).not.toMatch(/\n\s+at /);
        },
      ),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(100) },
    );
    const ok = await app.inject({
      method: 'GET', url: `/api/v1/kpis?kpi=${KPI_IDS[0]}&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&region=GD`, headers: bearer(TOKENS.viewer),
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });
});
