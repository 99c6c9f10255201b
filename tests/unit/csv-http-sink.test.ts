/**
 * The HTTP sink and the import CLI against a real local HTTP server that plays
 * SQM's ingest endpoint and checks the exact NDJSON it is sent.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../collector/sources/sink.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
/** A port nothing listens on (fetch refuses well-known ports such as 9 outright). */
let closedUrl: string;
let seen: Seen[] = [];
/** What the fake SQM answers next: status, headers and body per request, in order (the last one repeats). */
let answers: { status: number; headers?: Record<string, string>; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = answers.length > 1 ? answers.shift()! : answers[0] ?? { status: 200, body: null };
      let payload = answer.body;
      if (payload === 'echo') {
        // Accept everything except lines whose record has region XX, like the real collector would.
        const lines = body.split('\n').filter((l) => l !== '');
        const rejected = lines.flatMap((l, index) => ((JSON.parse(l) as { region?: string }).region === 'XX' ? [{ index, errors: ['region: unknown region "XX"'] }] : []));
        payload = { accepted: lines.length - rejected.length, rejected };
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  answers = [{ status: 200, body: 'echo' }];
});

describe('createHttpSink', () => {
  it('posts NDJSON with the token and maps the answer\'s 0-based lines back to file lines', async () => {
    const sink = createHttpSink({ url: `${base}/`, token: 'tok-123' });
    const outcome = await sink.send('calls', [
      { index: 2, value: { id: 'a', region: 'GD' } },
      { index: 3, raw: 'x,"y', parseError: 'Quote Not Closed' },
      { index: 5, value: { id: 'b', region: 'XX', note: '换行\n"quoted"' } },
    ], 'csv:t.csv');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/api/v1/ingest/calls');
    expect(seen[0]!.headers['content-type']).toBe('application/x-ndjson');
    expect(seen[0]!.headers.authorization).toBe('Bearer tok-123');
    // The unreadable row is not sent; a newline inside a value stays escaped on its line.
    expect(seen[0]!.body).toBe('{"id":"a","region":"GD"}\n{"id":"b","region":"XX","note":"换行\\n\\"quoted\\""}\n');
    expect(outcome).toEqual({
      accepted: 1,
      rejected: [
        { index: 3, errors: ['(record): Quote Not Closed'] },
        { index: 5, errors: ['region: unknown region "XX"'] }, // NDJSON line 1 → file line 5
      ],
    });
  });

  it('sends nothing when every row was unreadable', async () => {
    const sink = createHttpSink({ url: base, token: 't' });
    expect(await sink.send('calls', [{ index: 4, raw: 'x', parseError: 'bad' }], 's')).toEqual({ accepted: 0, rejected: [{ index: 4, errors: ['(record): bad'] }] });
    expect(seen).toHaveLength(0);
  });

  it('waits Retry-After on 503 and tries again', async () => {
    answers = [{ status: 503, headers: { 'retry-after': '2' }, body: { error: { code: 'SQM_UNAVAILABLE', message: 'busy' } } }, { status: 200, body: 'echo' }];
    const waits: number[] = [];
    const sink = createHttpSink({ url: base, token: 't', sleep: async (ms) => { waits.push(ms); } });
    expect(await sink.send('surveys', [{ index: 2, value: { id: 's' } }], 's')).toEqual({ accepted: 1, rejected: [] });
    expect(waits).toEqual([2000]);
    expect(seen.map((s) => s.body)).toEqual(['{"id":"s"}\n', '{"id":"s"}\n']);
  });

  it('fails with one clear message on a refused token, another status, a bad answer or no server', async () => {
    const sink = createHttpSink({ url: base, token: 't', sleep: async () => {} });
    answers = [{ status: 401, body: { error: { code: 'SQM_UNAUTHORIZED', message: 'Unknown or revoked token' } } }];
    await expect(sink.send('calls', [{ index: 2, value: {} }], 's')).rejects.toThrow('SQM refused the token (HTTP 401): Unknown or revoked token');
    answers = [{ status: 403, body: { error: { message: 'The role "viewer" may not use this route' } } }];
    await expect(sink.send('calls', [{ index: 2, value: {} }], 's')).rejects.toMatchObject({ status: 403 });
    answers = [{ status: 413, body: { error: { message: 'too large' } } }];
    await expect(sink.send('calls', [{ index: 2, value: {} }], 's')).rejects.toThrow('SQM answered HTTP 413 for calls: too large');
    answers = [{ status: 200, body: { ok: true } }];
    await expect(sink.send('calls', [{ index: 2, value: {} }], 's')).rejects.toThrow(/answered 200 without \{accepted, rejected\}/);
    const down = createHttpSink({ url: closedUrl, token: 't' });
    await expect(down.send('calls', [{ index: 2, value: {} }], 's')).rejects.toThrow(`cannot reach SQM at ${closedUrl}: ECONNREFUSED`);
    expect(() => createHttpSink({ url: 'ftp://x', token: 't' })).toThrow('not an http(s) URL: "ftp://x"');
  });
});

describe('import CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-cli-'));
  const cli = join(process.cwd(), 'collector/cli/import.ts');
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');

  function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(tsx, [cli, ...args], { env: { ...process.env, SQM_URL: base, SQM_TOKEN: 'cli-token', ...env } }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  it('imports a foreign CSV through flags and prints the summary; rejected rows still exit 0', async () => {
    const file = join(dir, 'export.csv');
    writeFileSync(file, 'Call Id,Province,Answered (Y/N)\nC1,GD,Y\nC2,XX,N\nC3,GD,"bad"x\n');
    const { code, stdout, stderr } = await runCli(['--kind', 'calls', file, '--map', 'Call Id=id,Province=region', '--map', 'Answered (Y/N)=outcome', '--values', 'Answered (Y/N):Y=answered,N=abandoned', '--fixed', 'channel=voice']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(seen.map((s) => [s.url, s.headers.authorization, s.body])).toEqual([[
      '/api/v1/ingest/calls', 'Bearer cli-token',
      '{"id":"C1","region":"GD","outcome":"answered","channel":"voice"}\n{"id":"C2","region":"XX","outcome":"abandoned","channel":"voice"}\n',
    ]]);
    expect(stdout).toContain(`${file} (calls): 3 rows read, 1 accepted, 2 rejected`);
    expect(stdout).toContain('line 3: region: unknown region "XX"');
    expect(stdout).toMatch(/line 4: \(record\): Invalid Closing Quote/);
  }, 30_000);

  it('exits 1 with one line when the server refuses the token, is down, or the file is missing', async () => {
    const file = join(dir, 'one.csv');
    writeFileSync(file, 'id,region\nA,GD\n');
    answers = [{ status: 401, body: { error: { code: 'SQM_UNAUTHORIZED', message: 'Unknown or revoked token' } } }];
    const refused = await runCli(['--kind', 'calls', file]);
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'sqm import: SQM refused the token (HTTP 401): Unknown or revoked token\n' });
    const down = await runCli(['--kind', 'calls', file], { SQM_URL: closedUrl });
    expect(down).toMatchObject({ code: 1, stderr: `sqm import: cannot reach SQM at ${closedUrl}: ECONNREFUSED\n` });
    const missing = await runCli(['--kind', 'calls', join(dir, 'nope.csv')]);
    expect(missing).toMatchObject({ code: 1, stderr: `sqm import: cannot read ${join(dir, 'nope.csv')}: ENOENT\n` });
    const badKind = await runCli(['--kind', 'call', file]);
    expect(badKind.stderr).toBe('sqm import: unknown --kind "call" (calls, tickets, faults, surveys, queues, subscribers, queue_log)\n');
    const badMap = await runCli(['--kind', 'calls', file, '--map', 'Nope=id']);
    expect(badMap).toMatchObject({ code: 1, stderr: 'sqm import: map: the file has no column "Nope" (its columns: id, region)\n' });
  }, 60_000);

  it('imports a queue_log with the queues the configuration maps', async () => {
    const config = join(dir, 'sqm.yaml');
    const { readFileSync } = await import('node:fs');
    const defaults = readFileSync(join(process.cwd(), 'config/default.yaml'), 'utf8');
    writeFileSync(config, `${defaults}\nqueueLog:\n  queues:\n    sales: { region: BJ }\n`);
    const log = join(dir, 'queue_log');
    writeFileSync(log, '1764466030|c.1|sales|NONE|ENTERQUEUE||13900000001|1\n1764466090|c.1|sales|NONE|EXITWITHTIMEOUT|1|1|60\n1764466091|d.1|other|NONE|ENTERQUEUE||1|1\n');
    const { code, stdout } = await runCli(['--kind', 'queue_log', log], { SQM_CONFIG: config });
    expect(code).toBe(0);
    expect(seen.map((s) => s.body)).toEqual([
      '{"id":"sales:c.1","region":"BJ","queue":"sales","channel":"voice","enteredAt":1764466030,"endedAt":1764466090,"outcome":"overflow","customer":"13900000001"}\n',
    ]);
    expect(stdout).toContain('3 lines read, 1 calls, 1 accepted, 0 rejected, 0 unfinished');
    expect(stdout).toContain('unmapped queue "other": 1 lines skipped (first at lines 3)');
  }, 30_000);
});
