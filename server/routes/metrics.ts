/**
 * `GET /metrics`: SQM's metrics in the Prometheus text format, outside /api so
 * an operator's Prometheus needs no SQM user. A scrape is allowed when it
 * comes from an address in `metrics.allow` (loopback by default) or carries the
 * metrics bearer token (`metrics.sha256` or `metrics.tokenEnv`); a token that is
 * presented must be the right one, wherever the request comes from.
 */
import { BlockList } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseCidr } from '../../config/cidr.js';
import type { ServerContext } from '../app.js';
import { sha256 } from '../auth.js';
import { ApiError } from '../errors.js';
import { metricsSettings, type SqmMetrics } from '../metrics.js';
import { BEARER_SCHEME, DOCUMENTATION_ONLY, errorResponses } from '../openapi.js';

export interface MetricsRouteOptions extends ServerContext {
  metrics: SqmMetrics;
  /** Where `metrics.tokenEnv` is looked up. */
  env: NodeJS.ProcessEnv;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) is checked as `10.1.2.3`. */
function plainAddress(ip: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return { address: mapped[1] as string, family: 'ipv4' };
  return { address: ip, family: ip.includes(':') ? 'ipv6' : 'ipv4' };
}

export function buildAllowList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const cidr = parseCidr(range);
    // config/load.ts refuses a bad range at start-up; this only guards direct callers.
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}

export default async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const settings = metricsSettings(options.config);
  if (!settings.enabled) {
    // Answered here, not left to a catch-all (the dashboard's) that would serve a page with 200.
    app.get('/metrics', { schema: { hide: true } }, async () => {
      throw new ApiError('SQM_NOT_FOUND', 'Metrics are disabled (config metrics.enabled)');
    });
    return;
  }
  const allow = buildAllowList(settings.allow);
  let tokenDigest: Buffer | undefined;
  if (settings.sha256) tokenDigest = Buffer.from(settings.sha256.toLowerCase(), 'hex');
  else if (settings.tokenEnv && options.env[settings.tokenEnv]) tokenDigest = sha256(options.env[settings.tokenEnv] as string);

  const checkAccess = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (typeof header === 'string') {
      const match = BEARER.exec(header);
      if (!tokenDigest || !match || !timingSafeEqual(sha256(match[1] as string), tokenDigest)) {
        throw new ApiError('SQM_UNAUTHORIZED', 'Not the metrics token');
      }
      return;
    }
    const { address, family } = plainAddress(request.ip);
    if (allow.check(address, family)) return;
    if (tokenDigest) throw new ApiError('SQM_UNAUTHORIZED', 'Send the metrics token: Authorization: Bearer <token>');
    throw new ApiError('SQM_FORBIDDEN', `Scrapes from ${request.ip} are not allowed (config metrics.allow)`);
  };

  app.get('/metrics', {
    onRequest: checkAccess,
    ...DOCUMENTATION_ONLY,
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description:
        'The Prometheus text format: process metrics, records ingested and rejected by kind, ingest batch and store latency, ' +
        'live clients, alert evaluations and instances, notifications by channel, and sqm_kpi_value{kpi,region} (today). ' +
        'Allowed from the addresses in config metrics.allow, or anywhere with the metrics bearer token.',
      security: [{ [BEARER_SCHEME]: [] }, {}],
      response: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errorResponses(401, 403),
      },
    },
  }, async (_request, reply) => {
    const text = await options.metrics.render();
    return reply.header('content-type', options.metrics.contentType).send(text);
  });
}
