/**
 * A real WebSocket client (`ws`) for the live stream, with a queue of the
 * messages received, so a test reads them in order and can prove that nothing
 * else arrived (`roundTrip`: a ping whose pong comes back after everything the
 * server sent before it, TCP keeping the order). Waits have generous timeouts
 * as a safety net only; no assertion depends on timing.
 */
import WebSocket, { type ClientOptions } from 'ws';

/** A server message, loosely typed: tests assert its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LiveMessage = Record<string, any>;

const WAIT_MS = 20_000;

export class LiveTestClient {
  private readonly queue: LiveMessage[] = [];
  private waiter: (() => void) | undefined;
  private nonce = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;
  /** The `hello` the server sent first. */
  hello: LiveMessage = {};

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.queue.push(JSON.parse(data.toString()) as LiveMessage);
      this.wake();
    });
    socket.on('ping', () => { this.pings++; });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Connect and consume the `hello` message. */
  static async connect(url: string, token: string, options: ClientOptions = {}): Promise<LiveTestClient> {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...options });
    const client = new LiveTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    client.hello = await client.next();
    if (client.hello.type !== 'hello') throw new Error(`expected hello, got ${JSON.stringify(client.hello)}`);
    return client;
  }

  /** The HTTP status a refused upgrade answered with. */
  static refusal(url: string, token: string | undefined): Promise<number> {
    const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return new Promise((resolve, reject) => {
      socket.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.once('open', () => {
        socket.close();
        reject(new Error('the upgrade was accepted'));
      });
      socket.once('error', () => { /* reported through unexpected-response */ });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The next message, whatever it is. */
  async next(): Promise<LiveMessage> {
    const deadline = Date.now() + WAIT_MS;
    while (this.queue.length === 0) {
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error('the socket closed while waiting for a message');
      if (Date.now() > deadline) throw new Error('no message arrived');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 500);
      });
    }
    return this.queue.shift()!;
  }

  /** Every message the server sent before answering a ping sent now. */
  async roundTrip(): Promise<LiveMessage[]> {
    const nonce = ++this.nonce;
    this.send({ type: 'ping', nonce });
    const before: LiveMessage[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type === 'pong' && m.nonce === nonce) return before;
      before.push(m);
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    return this.closed;
  }
}
