/**
 * `GET /healthz`: the process is alive. `GET /readyz`: the store answers, every
 * migration is applied and the ingest spool is taking records; the body shows
 * the spool's backlog either way (counts only, so neither route needs a token).
 * A collector-only process (SQM_ROLES=collector) is ready while its spool takes
 * records, store or not: that is what the spool is for, and a load balancer
 * that took every collector out during a ClickHouse outage would lose records.
 */
import type { FastifyInstance } from 'fastify';
import { migrationsApplied } from '../../store/index.js';
import type { ServerContext } from '../app.js';

export default async function healthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const stats = ctx.collector.spoolStats();
    const spool = {
      records: stats.records,
      bytes: stats.bytes,
      maxBytes: stats.maxBytes,
      oldestSeconds: Math.round(stats.oldestSeconds * 10) / 10,
      storeFailing: stats.storeFailing,
    };
    const notReady = (reason: string) => reply.status(503).send({ status: 'not ready', reason, spool });
    // A full spool refuses records: a load balancer should send them to another collector.
    if (stats.refusing) return notReady('ingest spool over its quota');
    const collectorOnly = !ctx.roles.includes('api') && ctx.roles.includes('collector');
    try {
      if (!(await migrationsApplied(ctx.store))) return notReady('migrations pending');
    } catch {
      if (collectorOnly) return { status: 'ready', store: 'unreachable', spool };
      return notReady('store unreachable');
    }
    return { status: 'ready', spool };
  });
}
