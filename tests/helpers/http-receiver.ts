/**
 * A local HTTP receiver standing in for a webhook endpoint, a WeCom robot or a
 * DingTalk robot: it records every request (method, path, query, headers,
 * parsed JSON body) and answers what the test tells it to.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  raw: string;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** How to answer the next requests (default: 200 with the robots' `{"errcode":0,"errmsg":"ok"}`). */
  respond(handler: (request: ReceivedRequest) => { status: number; body: string } | 'hang'): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let handler: (request: ReceivedRequest) => { status: number; body: string } | 'hang' = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: keep the text
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: ReceivedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, raw };
      requests.push(request);
      const answer = handler(request);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(next) {
      handler = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
