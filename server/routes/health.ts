/**
 * `GET /healthz`: the process is alive. `GET /readyz`: the store answers and
 * every migration is applied. Neither needs a token, so neither returns data.
 */
import type { FastifyInstance } from 'fastify';
import { migrationsApplied } from '../../store/index.js';
import type { ServerContext } from '../app.js';

export default async function healthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      if (await migrationsApplied(ctx.store)) return { status: 'ready' };
      return reply.status(503).send({ status: 'not ready', reason: 'migrations pending' });
    } catch {
      return reply.status(503).send({ status: 'not ready', reason: 'store unreachable' });
    }
  });
}
