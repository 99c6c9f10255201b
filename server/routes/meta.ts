/**
 * `GET /api/v1/meta`: what the dashboard needs to label and judge numbers —
 * the regions the caller may see (code, zh and en names), the configured time
 * zone, the KPI catalogue with targets, floors, weights and directions, the
 * dashboard display settings, and who the caller is (role and region scope).
 *
 * Regions are limited to the caller's scope: a GD manager's dashboard lists GD
 * alone, so no view ever offers a region it would be refused.
 */
import type { FastifyInstance } from 'fastify';
import { kpiCatalogue } from '../../kpi/index.js';
import type { ServerContext } from '../app.js';
import { READ_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';

/** Defaults for `config.dashboard` (config/default.yaml documents them). */
export const DASHBOARD_DEFAULTS = { amberBand: 0.05, rotateSeconds: 20 } as const;

export interface MetaResponse {
  timezone: string;
  regions: { code: string; zh: string; en: string }[];
  kpis: ReturnType<typeof kpiCatalogue>;
  dashboard: { amberBand: number; rotateSeconds: number };
  me: { name: string; role: string; regions: string[] | null };
}

export default async function metaRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // The catalogue depends only on the frozen config: build it once.
  const kpis = kpiCatalogue(ctx.config);
  const dashboard = {
    amberBand: ctx.config.dashboard?.amberBand ?? DASHBOARD_DEFAULTS.amberBand,
    rotateSeconds: ctx.config.dashboard?.rotateSeconds ?? DASHBOARD_DEFAULTS.rotateSeconds,
  };

  app.get('/meta', { preHandler: requireRole(READ_ROLES) }, async (request): Promise<MetaResponse> => {
    const principal = request.principal;
    if (!principal) throw new ApiError('SQM_UNAUTHORIZED');
    const scope = principal.regions;
    const regions = ctx.config.regions
      .filter((r) => scope === null || scope.includes(r.code))
      .map((r) => ({ code: r.code, zh: r.zh, en: r.en }));
    return {
      timezone: ctx.config.timezone,
      regions,
      kpis,
      dashboard,
      me: { name: principal.name, role: principal.role, regions: scope === null ? null : [...scope] },
    };
  });
}
