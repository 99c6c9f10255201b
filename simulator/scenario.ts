/**
 * Scenarios: scripted incidents in YAML (simulator/scenarios/*.yaml), validated
 * with ajv; every error names the field (`events/0/severity: must be …`).
 *
 *   name: demo
 *   repeatEvery: 2h            # optional: replay the events every period
 *   events:
 *     - { at: 3m, kind: fault, region: GD, domain: transmission, severity: critical,
 *         restoreAfter: 20m, callMultiplier: 3 }
 *     - { at: 40m, kind: surge, region: BJ, duration: 15m, callMultiplier: 1.5 }
 *     - { at: 1h, kind: staffing, region: SH, duration: 30m, factor: 0.6 }
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { FAULT_DOMAINS, FAULT_SEVERITIES, type FaultDomain, type FaultSeverity } from './records.js';
import { QUEUE_NAMES } from './contact-centre.js';
import { parseDuration } from './time.js';

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

export interface FaultEvent {
  kind: 'fault';
  /** Seconds after the scenario starts. */
  at: number;
  region: string;
  domain: FaultDomain;
  severity: FaultSeverity;
  cause?: string;
  site?: string;
  customersAffected?: number;
  /** Seconds from detection to acknowledgement / restoration (the model draws them when absent). */
  acknowledgeAfter?: number;
  restoreAfter?: number;
  /** Calls in the region are multiplied by this while the fault lasts (severity default when absent). */
  callMultiplier?: number;
  ticketMultiplier?: number;
}

export interface SurgeEvent {
  kind: 'surge';
  at: number;
  region: string;
  queue?: string;
  duration: number;
  callMultiplier: number;
  ticketMultiplier?: number;
}

export interface StaffingEvent {
  kind: 'staffing';
  at: number;
  region: string;
  queue?: string;
  duration: number;
  /** Agents on shift are multiplied by this (0.5 = half the planned staff). */
  factor: number;
}

export type ScenarioEvent = FaultEvent | SurgeEvent | StaffingEvent;

export interface Scenario {
  name: string;
  description?: string;
  repeatEvery?: number;
  events: ScenarioEvent[];
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid scenario (${source}):\n  - ${problems.join('\n  - ')}`);
  }
}

const duration = {
  anyOf: [
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(s|m|h|d)$' },
    { type: 'number', minimum: 0 },
  ],
};
const region = { type: 'string', pattern: '^[A-Z]{2,3}$' };
const multiplier = { type: 'number', minimum: 0, maximum: 100 };
const queue = { enum: [...QUEUE_NAMES] };

const scenarioSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'events'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    description: { type: 'string', maxLength: 2000 },
    repeatEvery: duration,
    events: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { type: 'string' } },
        discriminator: { propertyName: 'kind' },
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'at', 'region', 'domain', 'severity'],
            properties: {
              kind: { const: 'fault' },
              at: duration,
              region,
              domain: { enum: [...FAULT_DOMAINS] },
              severity: { enum: [...FAULT_SEVERITIES] },
              cause: { type: 'string', minLength: 1, maxLength: 200 },
              site: { type: 'string', minLength: 1, maxLength: 100 },
              customersAffected: { type: 'integer', minimum: 0 },
              acknowledgeAfter: duration,
              restoreAfter: duration,
              callMultiplier: multiplier,
              ticketMultiplier: multiplier,
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'at', 'region', 'duration', 'callMultiplier'],
            properties: {
              kind: { const: 'surge' },
              at: duration,
              region,
              queue,
              duration: duration,
              callMultiplier: multiplier,
              ticketMultiplier: multiplier,
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'at', 'region', 'duration', 'factor'],
            properties: {
              kind: { const: 'staffing' },
              at: duration,
              region,
              queue,
              duration: duration,
              factor: { type: 'number', minimum: 0, maximum: 10 },
            },
          },
        ],
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, discriminator: true });
const validateScenario = ajv.compile(scenarioSchema);

function describeAjvError(e: { instancePath: string; keyword: string; message?: string | undefined; params: unknown }): string {
  const field = e.instancePath ? e.instancePath.slice(1) : '(top level)';
  const params = e.params as { additionalProperty?: string; allowedValues?: unknown[]; tag?: string; tagValue?: unknown };
  if (e.keyword === 'additionalProperties') return `${field}: unknown field "${params.additionalProperty}"`;
  if (e.keyword === 'enum') return `${field}: must be one of ${(params.allowedValues ?? []).join(', ')}`;
  if (e.keyword === 'discriminator') return `${field}/kind: must be one of fault, surge, staffing`;
  if (e.keyword === 'anyOf') return `${field}: must be a duration such as 90s, 3m, 1.5h (or seconds)`;
  return `${field}: ${e.message ?? 'invalid'}`;
}

/**
 * Validate a parsed scenario object. `regions`, when given, are the configured
 * region codes; an event in any other region is an error, not a new region.
 */
export function validateScenarioObject(raw: unknown, source: string, regions?: readonly string[]): Scenario {
  if (!validateScenario(raw)) {
    const errors = (validateScenario.errors ?? [])
      // anyOf reports each failed branch and then itself; the anyOf line says it all.
      .filter((e, _i, all) => !all.some((o) => o.keyword === 'anyOf' && o.instancePath === e.instancePath && o !== e))
      .map(describeAjvError);
    throw new ScenarioError(source, [...new Set(errors)]);
  }
  const input = raw as {
    name: string;
    description?: string;
    repeatEvery?: string | number;
    events: (Record<string, unknown> & { kind: ScenarioEvent['kind']; at: string | number; region: string })[];
  };
  const problems: string[] = [];
  const known = regions ? new Set(regions) : undefined;
  const events: ScenarioEvent[] = input.events.map((e, i) => {
    if (known && !known.has(e.region)) problems.push(`events/${i}/region: unknown region "${e.region}"`);
    const converted: Record<string, unknown> = { ...e, at: parseDuration(e.at) };
    for (const key of ['duration', 'acknowledgeAfter', 'restoreAfter'] as const) {
      if (e[key] === undefined) continue;
      converted[key] = parseDuration(e[key] as string | number);
      if (key !== 'acknowledgeAfter' && converted[key] === 0) problems.push(`events/${i}/${key}: must be longer than 0`);
    }
    if (e.kind === 'fault' && converted.acknowledgeAfter !== undefined && converted.restoreAfter !== undefined
      && (converted.acknowledgeAfter as number) > (converted.restoreAfter as number)) {
      problems.push(`events/${i}/acknowledgeAfter: must not be later than restoreAfter`);
    }
    return converted as unknown as ScenarioEvent;
  });
  const repeatEvery = input.repeatEvery === undefined ? undefined : parseDuration(input.repeatEvery);
  if (repeatEvery === 0) problems.push('repeatEvery: must be longer than 0');
  if (repeatEvery !== undefined) {
    events.forEach((e, i) => {
      if (e.at >= repeatEvery) problems.push(`events/${i}/at: must be earlier than repeatEvery`);
    });
  }
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return {
    name: input.name,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(repeatEvery === undefined ? {} : { repeatEvery }),
    events: events.sort((a, b) => a.at - b.at),
  };
}

export function parseScenario(text: string, source: string, regions?: readonly string[]): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ScenarioError(source, [`not valid YAML: ${(error as Error).message}`]);
  }
  return validateScenarioObject(raw, source, regions);
}

/** Load a scenario by name (`demo` → simulator/scenarios/demo.yaml) or by file path. */
export function loadScenario(nameOrPath: string, regions?: readonly string[]): Scenario {
  const byName = /^[a-z0-9-]+$/.test(nameOrPath);
  const path = byName ? join(SCENARIO_DIR, `${nameOrPath}.yaml`) : nameOrPath;
  if (byName && !existsSync(path)) {
    const known = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    throw new ScenarioError(nameOrPath, [`no such scenario (known: ${known.join(', ')}; or give a file path)`]);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseScenario(text, path, regions);
}
