import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../app.js';

export default async function ingestRoutes(_app: FastifyInstance, _ctx: ServerContext): Promise<void> {}
