/**
 * Rule validation, the same for rules from the configuration, the API and a
 * YAML import: a JSON Schema per kind (ajv, so every structural error names its
 * field), then the checks a schema cannot express (the KPI exists and can be
 * cut that way, thresholds and clear thresholds on the right sides of each
 * other, overrides name known regions, the calendar exists). A valid definition
 * comes back normalised (durations in ms, defaults filled in).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { FAULT_SEVERITIES, TICKET_PRIORITIES, type SqmConfig } from '../../config/schema.js';
import { KPIS, isKpiId, type Dimension, type KpiId } from '../../kpi/index.js';
import { DURATION_PATTERN, parseDuration } from '../durations.js';
import type { RuleKind, Severity } from '../types.js';
import {
  NO_DATA_POLICIES, SEVERITIES,
  type BurnRateRule, type BurnRateRuleDefinition, type KpiRule, type KpiRuleDefinition, type Rule, type RuleCommon,
  type RuleDefinition, type SlaRule, type SlaRuleDefinition, type ThresholdSet, type Tiers,
} from './types.js';

export const RULE_KINDS: readonly RuleKind[] = ['kpi', 'sla', 'burn_rate'];
export const RULE_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const TICKET_CATEGORIES = ['complaint', 'fault', 'inquiry', 'request'] as const;

const DAY_MS = 86_400_000;
const LIMITS = {
  everyMinMs: 1000,
  everyMaxMs: DAY_MS,
  windowMaxMs: 31 * DAY_MS,
  forMaxMs: 7 * DAY_MS,
  burnWindowMaxMs: 3 * DAY_MS,
};

const duration = { type: 'string', pattern: DURATION_PATTERN, maxLength: 32 };
const tiers = {
  type: 'object',
  additionalProperties: false,
  properties: { warning: { type: 'number' }, critical: { type: 'number' } },
};
const countTiers = {
  type: 'object',
  additionalProperties: false,
  properties: { warning: { type: 'integer', minimum: 1 }, critical: { type: 'integer', minimum: 1 } },
};
const regionMap = (value: object) => ({
  type: 'object',
  maxProperties: 1000,
  propertyNames: { pattern: '^[A-Z]{2,3}$' },
  additionalProperties: value,
});
const stringList = (values: readonly string[]) => ({ type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...values] } });
const by = { type: 'array', maxItems: 4, uniqueItems: true, items: { type: 'string', maxLength: 32 } };

const common = {
  id: { type: 'string', pattern: RULE_ID_PATTERN },
  kind: { enum: [...RULE_KINDS] },
  description: { type: 'string', maxLength: 500 },
  enabled: { type: 'boolean' },
  every: duration,
  for: duration,
  keepFiringFor: duration,
  activeHours: { type: 'string', minLength: 1, maxLength: 64 },
  route: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' },
};

const SCHEMAS: Record<RuleKind, object> = {
  kpi: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kpi', 'window', 'when', 'thresholds'],
    properties: {
      ...common,
      kpi: { type: 'string', maxLength: 64 },
      by,
      window: duration,
      when: { enum: ['below', 'above'] },
      thresholds: { ...tiers, minProperties: 1 },
      clear: tiers,
      minVolume: { type: 'number', minimum: 0 },
      noData: { enum: [...NO_DATA_POLICIES] },
      overrides: regionMap({
        type: 'object',
        additionalProperties: false,
        properties: { thresholds: tiers, clear: tiers, minVolume: { type: 'number', minimum: 0 } },
      }),
    },
  },
  sla: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kind', 'source'],
    properties: {
      ...common,
      source: { enum: ['tickets', 'faults'] },
      categories: stringList(TICKET_CATEGORIES),
      priorities: stringList(TICKET_PRIORITIES),
      severities: stringList(FAULT_SEVERITIES),
      warningAt: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      thresholds: countTiers,
      maxItems: { type: 'integer', minimum: 1, maximum: 1000 },
      overrides: regionMap({ type: 'object', additionalProperties: false, properties: { thresholds: countTiers } }),
    },
  },
  burn_rate: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kind', 'kpi', 'windows'],
    properties: {
      ...common,
      kpi: { type: 'string', maxLength: 64 },
      by,
      target: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      windows: {
        type: 'array',
        minItems: 1,
        maxItems: 4,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['long', 'short', 'factor', 'severity'],
          properties: {
            long: duration,
            short: duration,
            factor: { type: 'number', exclusiveMinimum: 0 },
            severity: { enum: [...SEVERITIES] },
          },
        },
      },
      minVolume: { type: 'number', minimum: 0 },
      noData: { enum: [...NO_DATA_POLICIES] },
    },
  },
};

// verbose: errors carry the offending value, so a bad duration is quoted back.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validators = Object.fromEntries(RULE_KINDS.map((k) => [k, ajv.compile(SCHEMAS[k])])) as Record<RuleKind, ReturnType<typeof ajv.compile>>;

function describeError(e: ErrorObject, prefix: string): string {
  const field = e.instancePath ? prefix + e.instancePath.slice(1) : prefix.replace(/\/$/, '');
  if (e.keyword === 'pattern') {
    const pattern = (e.params as { pattern: string }).pattern;
    if (pattern === DURATION_PATTERN) return `${field}: not a duration: "${String(e.data)}" (e.g. 30s, 15m, 2h, 1d)`;
    if (pattern === RULE_ID_PATTERN) return `${field}: "${String(e.data)}" is not a rule id (lower-case letters, digits, - and _, at most 64)`;
  }
  const extra = e.keyword === 'additionalProperties'
    ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
    : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  return `${field || '(rule)'}: ${e.message ?? 'invalid'}${extra}`;
}

export interface RuleValidation {
  rule?: Rule;
  problems: string[];
}

/**
 * Validate one definition. `path` prefixes every problem (`alerts/rules/3/`),
 * so a message names the field wherever the rule came from.
 */
export function validateRule(raw: unknown, config: SqmConfig, path = ''): RuleValidation {
  const prefix = path && !path.endsWith('/') ? `${path}/` : path;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { problems: [`${prefix || '(rule)'}: must be an object`] };
  const kindValue = (raw as { kind?: unknown }).kind ?? 'kpi';
  if (!RULE_KINDS.includes(kindValue as RuleKind)) {
    return { problems: [`${prefix}kind: must be one of ${RULE_KINDS.join(', ')}`] };
  }
  const kind = kindValue as RuleKind;
  const validate = validators[kind];
  if (!validate(raw)) return { problems: (validate.errors ?? []).map((e) => describeError(e, prefix)) };
  const problems: string[] = [];
  const p = (field: string, message: string) => problems.push(`${prefix}${field}: ${message}`);
  const def = raw as RuleDefinition;
  const base = commonOf(def, kind, config, p);
  let rule: Rule | undefined;
  if (kind === 'kpi') rule = kpiRule(def as KpiRuleDefinition, base, config, p);
  else if (kind === 'sla') rule = slaRule(def as SlaRuleDefinition, base, config, p);
  else rule = burnRule(def as BurnRateRuleDefinition, base, config, p);
  return problems.length > 0 || !rule ? { problems } : { rule, problems };
}

/** Validate a list (ids must be unique); every problem names `path/<index>/field`. */
export function validateRules(raw: unknown, config: SqmConfig, path = 'rules'): { rules: Rule[]; problems: string[] } {
  if (!Array.isArray(raw)) return { rules: [], problems: [`${path}: must be a list of rules`] };
  const rules: Rule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const result = validateRule(item, config, `${path}/${i}`);
    problems.push(...result.problems);
    if (result.rule) {
      if (seen.has(result.rule.id)) problems.push(`${path}/${i}/id: duplicate rule id "${result.rule.id}"`);
      seen.add(result.rule.id);
      rules.push(result.rule);
    }
  });
  return { rules, problems };
}

type Problem = (field: string, message: string) => void;

function durationMs(text: string | undefined, fallback: number, field: string, p: Problem, min: number, max: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) {
    p(field, `not a duration: "${text}" (e.g. 30s, 15m, 2h, 1d)`);
    return fallback;
  }
  if (ms < min || ms > max) p(field, `must be between ${min / 1000}s and ${max / 1000}s`);
  return ms;
}

type Common = Omit<RuleCommon, 'tiers' | 'noData'>;

function commonOf(def: RuleDefinition, kind: RuleKind, config: SqmConfig, p: Problem): Common {
  const activeHours = def.activeHours ?? 'always';
  if (activeHours !== 'always' && !config.alerts?.calendars?.[activeHours]) {
    const known = Object.keys(config.alerts?.calendars ?? {});
    p('activeHours', `unknown calendar "${activeHours}"; use always${known.length ? ' or one of: ' + known.join(', ') : ''}`);
  }
  return {
    id: def.id,
    kind,
    description: def.description ?? '',
    enabled: def.enabled ?? true,
    everyMs: durationMs(def.every, 30_000, 'every', p, LIMITS.everyMinMs, LIMITS.everyMaxMs),
    forMs: durationMs(def.for, 0, 'for', p, 0, LIMITS.forMaxMs),
    keepFiringForMs: durationMs(def.keepFiringFor, 0, 'keepFiringFor', p, 0, LIMITS.forMaxMs),
    activeHours,
    route: def.route ?? 'default',
    definition: def,
  };
}

function checkKpi(kpi: string, p: Problem): KpiId | undefined {
  if (isKpiId(kpi)) return kpi;
  p('kpi', `unknown KPI "${kpi}"; valid: ${Object.keys(KPIS).join(', ')}`);
  return undefined;
}

function checkBy(kpi: KpiId | undefined, byList: string[] | undefined, p: Problem): Dimension[] {
  const dims = byList ?? ['region'];
  if (!kpi) return [];
  const allowed = KPIS[kpi].dimensions as readonly string[];
  const bad = dims.filter((d) => !allowed.includes(d));
  if (bad.length > 0) p('by', `${kpi} cannot be cut by ${bad.join(', ')}; valid: ${allowed.join(', ')}`);
  return dims as Dimension[];
}

function checkRegions(keys: string[], config: SqmConfig, p: Problem): void {
  const known = new Set(config.regions.map((r) => r.code));
  for (const key of keys) if (!known.has(key)) p(`overrides/${key}`, `unknown region "${key}"`);
}

/** Thresholds and clear thresholds on the right sides of each other, for one direction. */
function checkThresholds(set: ThresholdSet, when: 'below' | 'above', field: string, p: Problem): void {
  const { warning, critical } = set.thresholds;
  if (warning !== undefined && critical !== undefined) {
    if (when === 'below' && critical > warning) p(`${field}thresholds/critical`, `must not be above warning (${warning}) for a "below" rule`);
    if (when === 'above' && critical < warning) p(`${field}thresholds/critical`, `must not be below warning (${warning}) for an "above" rule`);
  }
  for (const tier of SEVERITIES) {
    const clear = set.clear[tier];
    const threshold = set.thresholds[tier];
    if (clear === undefined) continue;
    if (threshold === undefined) {
      p(`${field}clear/${tier}`, `has no threshold to clear (thresholds/${tier} is not set)`);
      continue;
    }
    if (when === 'below' && clear < threshold) p(`${field}clear/${tier}`, `must be at or above thresholds/${tier} (${threshold}): a "below" rule recovers upwards`);
    if (when === 'above' && clear > threshold) p(`${field}clear/${tier}`, `must be at or below thresholds/${tier} (${threshold}): an "above" rule recovers downwards`);
  }
}

const tiersOf = (t: Tiers): Severity[] => SEVERITIES.filter((s) => t[s] !== undefined);

function kpiRule(def: KpiRuleDefinition, base: Common, config: SqmConfig, p: Problem): KpiRule | undefined {
  const kpi = checkKpi(def.kpi, p);
  const byDims = checkBy(kpi, def.by, p);
  const windowMs = durationMs(def.window, 0, 'window', p, 1000, LIMITS.windowMaxMs);
  const thresholds = { ...def.thresholds };
  // A tier without a clear threshold clears where it triggers (no hysteresis).
  const clear: Tiers = {};
  for (const tier of tiersOf(thresholds)) clear[tier] = def.clear?.[tier] ?? thresholds[tier];
  const own: ThresholdSet = { thresholds, clear, minVolume: def.minVolume ?? 0 };
  checkThresholds({ ...own, clear: { ...def.clear } }, def.when, '', p);
  const overrides: Record<string, ThresholdSet> = {};
  checkRegions(Object.keys(def.overrides ?? {}), config, p);
  const known = new Set(config.regions.map((r) => r.code));
  for (const [region, o] of Object.entries(def.overrides ?? {})) {
    if (!known.has(region)) continue; // reported above; its thresholds would only add noise
    const merged: ThresholdSet = { thresholds: { ...thresholds, ...o.thresholds }, clear: {}, minVolume: o.minVolume ?? own.minVolume };
    for (const tier of tiersOf(merged.thresholds)) {
      const threshold = merged.thresholds[tier] as number;
      // An override that moves a threshold moves its clear by the same gap, unless it gives its own.
      const gap = (clear[tier] ?? threshold) - (thresholds[tier] ?? threshold);
      merged.clear[tier] = o.clear?.[tier] ?? (o.thresholds?.[tier] !== undefined ? threshold + gap : clear[tier] ?? threshold);
    }
    for (const tier of SEVERITIES) {
      if (o.clear?.[tier] !== undefined && merged.thresholds[tier] === undefined) p(`overrides/${region}/clear/${tier}`, `has no threshold to clear`);
    }
    // An override that changes nothing inherits the rule's own problems, already reported.
    if (o.thresholds || o.clear) checkThresholds(merged, def.when, `overrides/${region}/`, p);
    overrides[region] = merged;
  }
  if (!kpi) return undefined;
  return {
    ...base, kind: 'kpi', kpi, by: byDims, windowMs, when: def.when, ...own, overrides,
    noData: def.noData ?? 'keep',
    tiers: tiersOf(thresholds),
  };
}

function slaRule(def: SlaRuleDefinition, base: Common, config: SqmConfig, p: Problem): SlaRule {
  if (def.source === 'faults') {
    if (def.categories) p('categories', 'applies to tickets only (source: tickets)');
    if (def.priorities) p('priorities', 'applies to tickets only (source: tickets)');
  } else if (def.severities) p('severities', 'applies to faults only (source: faults)');
  const thresholds = { warning: def.thresholds?.warning ?? 1, critical: def.thresholds?.critical ?? 1 };
  checkRegions(Object.keys(def.overrides ?? {}), config, p);
  const overrides = Object.fromEntries(Object.entries(def.overrides ?? {}).map(([region, o]) => [region, { ...thresholds, ...o.thresholds }]));
  return {
    ...base, kind: 'sla', source: def.source,
    categories: def.categories ?? null, priorities: def.priorities ?? null, severities: def.severities ?? null,
    warningAt: def.warningAt ?? 0.75, thresholds, maxItems: def.maxItems ?? 50, overrides,
    // An SLA timer always has data: no open item is a count of 0.
    noData: 'ok',
    tiers: ['warning', 'critical'],
  };
}

function burnRule(def: BurnRateRuleDefinition, base: Common, config: SqmConfig, p: Problem): BurnRateRule | undefined {
  const kpi = checkKpi(def.kpi, p);
  const byDims = checkBy(kpi, def.by, p);
  if (kpi && KPIS[kpi].kind !== 'ratio') p('kpi', `${kpi} is not a ratio; a burn rate needs a ratio KPI with a target`);
  const target = def.target ?? (kpi ? config.targets[kpi]?.value : undefined);
  if (target === undefined) p('target', `no target: give one, or set targets.${def.kpi} in the configuration`);
  else if (!(target > 0 && target < 1)) p('target', `must be between 0 and 1 (exclusive), got ${target}`);
  const direction = kpi ? KPIS[kpi].direction : 'higher';
  const windows = def.windows.map((w, i) => {
    const longMs = durationMs(w.long, 0, `windows/${i}/long`, p, 60_000, LIMITS.burnWindowMaxMs);
    const shortMs = durationMs(w.short, 0, `windows/${i}/short`, p, 60_000, LIMITS.burnWindowMaxMs);
    if (longMs % 60_000 !== 0) p(`windows/${i}/long`, 'must be whole minutes');
    if (shortMs % 60_000 !== 0) p(`windows/${i}/short`, 'must be whole minutes');
    if (shortMs >= longMs) p(`windows/${i}/short`, `must be shorter than long (${w.long})`);
    return { longMs, shortMs, factor: w.factor, severity: w.severity };
  });
  if (!kpi || target === undefined) return undefined;
  const budget = direction === 'higher' ? 1 - target : target;
  const tiers = SEVERITIES.filter((s) => windows.some((w) => w.severity === s));
  return {
    ...base, kind: 'burn_rate', kpi, by: byDims, target, budget, direction, windows, minVolume: def.minVolume ?? 0,
    noData: def.noData ?? 'ok', tiers,
  };
}
