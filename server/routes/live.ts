/**
 * `GET /api/v1/live`: the live WebSocket stream (protocol: server/live/README.md).
 *
 * The upgrade request is an ordinary /api request until the handshake: the
 * app's onRequest hook authenticates it and the role check below runs before
 * any upgrade, so an unknown token gets a 401 and an ingest token a 403, both
 * as plain HTTP answers. A GET without `Upgrade: websocket` is told what this is.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../app.js';
import { READ_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import type { LiveHub } from '../live/hub.js';
import { DOCUMENTATION_ONLY, errorResponses } from '../openapi.js';

export interface LiveRouteOptions extends ServerContext {
  hub: LiveHub;
}

const DESCRIPTION = [
  'A WebSocket (send `Upgrade: websocket`); JSON text frames, protocol version 1 (server/live/README.md).',
  '',
  'Client → server: `{"type":"subscribe","id":"wall","kpis":["answer_rate"],"regions":["GD"],"by":["region"],"window":"today"}`',
  '(window: `today` or `last <n>m` / `last <n>h`; optional `step`), `{"type":"unsubscribe","id":"wall"}`, `{"type":"ping"}`.',
  '',
  'Server → client: `hello`, then per subscription a `snapshot` (every value) and `update`s (only what changed) each tick;',
  '`alert` events for the subscribed regions as they happen; `heartbeat`; `error` (with the subscription `id` and a catalogue code).',
  'Regions outside the token\'s scope are an error, never silently dropped. Close codes: 1001 server shutting down,',
  '1013 too many clients, 4008 the client fell behind (reconnect and subscribe again).',
].join('\n');

export default async function liveRoutes(app: FastifyInstance, options: LiveRouteOptions): Promise<void> {
  const { hub } = options;
  app.route({
    method: 'GET',
    url: '/live',
    onRequest: requireRole(READ_ROLES),
    ...DOCUMENTATION_ONLY,
    schema: {
      tags: ['live'],
      summary: 'The live stream (WebSocket)',
      description: DESCRIPTION,
      response: {
        101: { description: 'Switching protocols: the WebSocket is open' },
        ...errorResponses(400, 401, 403),
      },
    },
    handler: async () => {
      throw new ApiError('SQM_BAD_REQUEST', 'This is a WebSocket endpoint: connect with Upgrade: websocket (protocol: server/live/README.md)');
    },
    wsHandler: (socket, request) => {
      // The onRequest hooks above have set the principal, or the upgrade never got here.
      if (!request.principal) {
        socket.close(1008, 'not authenticated');
        return;
      }
      hub.accept(socket, request.principal);
    },
  });
}
