/**
 * Region scope, checked the same way on every route that returns regional
 * data (KPIs now; alert lists, scorecards and exports reuse it):
 *
 * 1. the unscoped caller sees the other region, so the data is there to leak;
 * 2. the scoped caller asking for the other region gets 403;
 * 3. asking for its own region and the other one together: 403, not a silent half;
 * 4. asking for every region (no region parameter): 200 with its own regions alone;
 * 5. asking for its own region: 200 with its own region alone.
 *
 * `probe.request(regions)` builds the request (undefined: ask for all regions);
 * `probe.regionsOf(body)` lists the regions present in a 200 answer.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';

export interface ScopeProbe {
  name: string;
  request: (regions: string[] | undefined) => InjectOptions;
  regionsOf: (body: unknown) => string[];
}

export interface ScopeCallers {
  /** Headers of an unscoped caller (admin or executive). */
  unscoped: Record<string, string>;
  /** Headers of the caller scoped to `own`. */
  scoped: Record<string, string>;
  own: string;
  other: string;
}

async function run(app: FastifyInstance, probe: ScopeProbe, regions: string[] | undefined, headers: Record<string, string>) {
  const options = probe.request(regions);
  return app.inject({ ...options, headers: { ...(options.headers as Record<string, string> | undefined), ...headers } });
}

export async function expectRegionScope(app: FastifyInstance, probe: ScopeProbe, callers: ScopeCallers): Promise<void> {
  const { own, other } = callers;
  const label = (step: string) => `${probe.name}: ${step}`;

  const everything = await run(app, probe, undefined, callers.unscoped);
  expect(everything.statusCode, label('unscoped, all regions')).toBe(200);
  expect(probe.regionsOf(everything.json()), label('the fixture must hold the other region\'s data')).toContain(other);

  const foreign = await run(app, probe, [other], callers.scoped);
  expect(foreign.statusCode, label(`scoped, asking for ${other}`)).toBe(403);
  expect(foreign.json().error.code).toBe('SQM_FORBIDDEN');
  expect(foreign.body, label('a refusal carries no data')).not.toMatch(/"value"|"numerator"/);

  const mixed = await run(app, probe, [own, other], callers.scoped);
  expect(mixed.statusCode, label(`scoped, asking for ${own} and ${other}`)).toBe(403);

  const all = await run(app, probe, undefined, callers.scoped);
  expect(all.statusCode, label('scoped, all regions')).toBe(200);
  const seen = probe.regionsOf(all.json());
  expect(seen.length, label('scoped, all regions: some data')).toBeGreaterThan(0);
  expect([...new Set(seen)], label('scoped, all regions: its own alone')).toEqual([own]);

  const mine = await run(app, probe, [own], callers.scoped);
  expect(mine.statusCode, label(`scoped, asking for ${own}`)).toBe(200);
  expect([...new Set(probe.regionsOf(mine.json()))]).toEqual([own]);
}
