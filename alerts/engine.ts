/**
 * The alert engine: loads rules (configuration seed + the store), instances
 * and silences; evaluates each rule on its own timer (`every`) with ONE query
 * for all its label sets; runs the state machine; writes every change and
 * transition to the store BEFORE telling the notifier, so a restarted engine
 * goes on where it stopped and never sends an event twice.
 *
 * Exactly one process evaluates (server/main.ts starts it after listen). Tests
 * build it without timers and call `evaluate(at)` with a controllable clock.
 *
 * One failing rule never stops the others: each evaluation catches its own
 * errors, keeps its instances' states, and marks the rule's health.
 */
import { createHash } from 'node:crypto';
import type { SqmConfig } from '../config/index.js';
import type { KpiEngine } from '../kpi/index.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../server/logger.js';
import { createAlertStore, type AlertStore } from './alert-store.js';
import { inCalendar } from './calendar.js';
import { evaluateRule as observe, validateRule, validateRules, type Observation, type Rule, type RuleDefinition } from './rules/index.js';
import {
  buildSilence, compileSilence, maintenanceWindowSilence, matchLabels, silencedBy, silenceState,
  type CompiledSilence, type Silence,
} from './silences.js';
import {
  acknowledge as ackRecord, AlertStateError, applySilences, markError, newRecord, outsideActiveHours, resolveForRuleChange, step,
  type EventType, type HistoryEntry, type InstanceRecord, type StepResult,
} from './state-machine.js';
import { instanceUrl, summarise } from './summary.js';
import type { AlertEvent, AlertInstance, AlertInstanceView, AlertNotifier, InstanceState } from './types.js';

/** What the engine reports to /metrics (server/metrics.ts implements it). */
export interface AlertMetrics {
  alertEvaluated(ruleKind: string, seconds: number, outcome: 'ok' | 'error'): void;
  setAlertInstances(counts: Partial<Record<InstanceState, number>>): void;
}

export interface AlertEngineDeps {
  store: Store;
  config: SqmConfig;
  kpis: KpiEngine;
  notifier: AlertNotifier;
  logger: Logger;
  now?: () => Date;
  metrics?: AlertMetrics;
  /** Rules evaluated at once by `evaluate()` (default 4). */
  concurrency?: number;
}

export interface RuleHealth {
  /** `inactive`: outside its active hours at the last evaluation; `invalid`: a stored definition no longer validates. */
  state: 'unknown' | 'ok' | 'error' | 'inactive' | 'invalid';
  message: string | null;
  /** Failed evaluations since start. */
  errors: number;
  lastEvaluatedAt: string | null;
  lastDurationMs: number | null;
}

export interface RuleView {
  id: string;
  kind: Rule['kind'];
  /** `config`: the configuration's seed, untouched; `api`: created or edited through the API (kept in the store). */
  source: 'config' | 'api';
  enabled: boolean;
  definition: RuleDefinition;
  health: RuleHealth;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface EvaluationReport {
  at: string;
  rules: number;
  errors: number;
  events: number;
}

export interface ImportReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

/** A request the engine refuses; routes map `kind` to an API error. */
export class AlertRequestError extends Error {
  override name = 'AlertRequestError';
  constructor(readonly kind: 'invalid' | 'not_found' | 'conflict', message: string, readonly problems: string[] = []) {
    super(message);
  }
}

export interface AlertEngine extends AlertInstanceView {
  /** Load state and start one timer per rule (each also runs once at once). */
  start(): Promise<void>;
  /** Stop the timers and wait for evaluations in flight. */
  stop(): Promise<void>;
  /** Evaluate every enabled rule at `at` (default now), for tests and the bench. */
  evaluate(at?: Date): Promise<EvaluationReport>;
  /** Evaluate one rule at `at` (default now). */
  evaluateRule(id: string, at?: Date): Promise<void>;
  /** Every instance in memory (ok ones included). */
  instances(): AlertInstance[];
  listRules(): Promise<RuleView[]>;
  getRule(id: string): Promise<RuleView | undefined>;
  /** Validate without saving: the problems, each naming its field. */
  checkRule(definition: unknown): string[];
  createRule(definition: unknown, actor: string): Promise<RuleView>;
  updateRule(id: string, definition: unknown, actor: string): Promise<RuleView>;
  /** Delete a rule; its instances resolve with `rule_changed`. Returns how many were pending or firing. */
  deleteRule(id: string, actor: string): Promise<{ resolved: number }>;
  importRules(definitions: unknown, mode: 'merge' | 'replace', actor: string): Promise<ImportReport>;
  exportRules(): Promise<RuleDefinition[]>;
  acknowledge(instanceId: string, by: string, comment?: string): Promise<AlertInstance>;
  /** Every silence in force or pending, the configuration's maintenance windows included. */
  silences(): Promise<Silence[]>;
  createSilence(input: unknown, author: string): Promise<Silence>;
  expireSilence(id: string, by: string): Promise<Silence>;
}

/** Stable id of an instance: a hash of the rule id and the labels. */
export function instanceId(ruleId: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels).sort().map((k) => [k, labels[k]]);
  return createHash('sha256').update(JSON.stringify([ruleId, sorted])).digest('hex').slice(0, 16);
}

/** What identifies the label sets a rule produces: changing it resolves the rule's instances. */
function identityOf(rule: Rule): string {
  const by = rule.kind === 'sla' ? ['region'] : rule.by;
  return JSON.stringify([rule.kind, rule.kind === 'sla' ? rule.source : rule.kpi, by]);
}

/** The parts of a record worth a store write (values of an ok instance are not). */
function significant(record: InstanceRecord): string {
  const i = record.instance;
  const active = i.state !== 'ok';
  return JSON.stringify({
    ...record,
    instance: {
      ...i,
      summary: undefined,
      value: active ? i.value : undefined,
      volume: active ? i.volume : undefined,
      threshold: active ? i.threshold : undefined,
      items: active ? i.items?.map((x) => `${x.id}/${x.target}/${x.elapsed >= 1}`) : undefined,
      projectedMissAt: active ? i.projectedMissAt : undefined,
    },
  });
}

interface EffectiveRule {
  rule: Rule;
  source: 'config' | 'api';
  updatedAt: string | null;
  updatedBy: string | null;
}

interface Change {
  before: InstanceRecord | undefined;
  result: StepResult;
  /** Remove the instance (its rule is gone). */
  drop?: boolean;
}

export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { store, config, kpis, notifier } = deps;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ module: 'alerts' });
  const db: AlertStore = createAlertStore(store);
  const tz = config.timezone;

  const configRules = new Map<string, Rule>();
  {
    const { rules, problems } = validateRules(config.alerts?.rules ?? [], config, 'alerts/rules');
    // config/load.ts refuses a bad configuration; this only guards configs built in code.
    for (const problem of problems) log.error({ problem }, 'invalid rule in the configuration: skipped');
    for (const rule of rules) configRules.set(rule.id, rule);
  }
  const rules = new Map<string, EffectiveRule>();
  const invalid = new Map<string, { definition: RuleDefinition; problems: string[]; updatedAt: string; updatedBy: string }>();
  const records = new Map<string, InstanceRecord>();
  const apiSilences = new Map<string, Silence>();
  let compiled: CompiledSilence[] = [];
  const configSilences = (config.alerts?.maintenanceWindows ?? []).map(maintenanceWindowSilence);
  const health = new Map<string, RuleHealth>();
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  let started = false;
  let loading: Promise<void> | undefined;

  // One change at a time: evaluations query concurrently, but apply and persist in turn.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  const healthOf = (id: string): RuleHealth => {
    let h = health.get(id);
    if (!h) health.set(id, (h = { state: 'unknown', message: null, errors: 0, lastEvaluatedAt: null, lastDurationMs: null }));
    return h;
  };

  function recompileSilences(): void {
    compiled = [...configSilences, ...apiSilences.values()].map(compileSilence);
  }

  function load(): Promise<void> {
    loading ??= (async () => {
      for (const [id, rule] of configRules) rules.set(id, { rule, source: 'config', updatedAt: null, updatedBy: null });
      for (const row of await db.readRules()) {
        if (row.deleted) {
          rules.delete(row.id);
          continue;
        }
        const result = validateRule(row.definition, config, `rule ${row.id}`);
        if (!result.rule) {
          // A stored rule the current configuration rejects (a calendar removed…): shown, not evaluated.
          rules.delete(row.id);
          invalid.set(row.id, { definition: row.definition as RuleDefinition, problems: result.problems, updatedAt: row.updatedAt, updatedBy: row.updatedBy });
          log.error({ rule: row.id, problems: result.problems }, 'stored rule no longer validates: not evaluated');
          continue;
        }
        rules.set(row.id, { rule: result.rule, source: 'api', updatedAt: row.updatedAt, updatedBy: row.updatedBy });
      }
      for (const record of await db.readInstances()) records.set(record.instance.id, record);
      for (const silence of await db.readSilences()) apiSilences.set(silence.id, silence);
      recompileSilences();
      log.info({ rules: rules.size, instances: records.size, silences: apiSilences.size }, 'alert state loaded');
    })().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  }

  function ruleInstances(ruleId: string): InstanceRecord[] {
    return [...records.values()].filter((r) => r.instance.ruleId === ruleId);
  }

  /** Silences, summary and link; then persist everything, then update memory, then notify. */
  async function commit(changes: Change[], at: Date): Promise<number> {
    const writes: { record: InstanceRecord; deleted?: boolean }[] = [];
    const history: HistoryEntry[] = [];
    const outgoing: { type: EventType; record: InstanceRecord }[] = [];
    const next: { record: InstanceRecord; drop: boolean }[] = [];
    for (const change of changes) {
      let { record } = change.result;
      const entries = [...change.result.history];
      const events = [...change.result.events];
      if (!change.drop) {
        const muted = applySilences(record, silencedBy(compiled, matchLabels(record.instance), at, tz), at);
        record = muted.record;
        entries.push(...muted.history);
        // A firing or resolved event already carries silencedBy; an update for the silence alone is only needed without one.
        if (events.length === 0) events.push(...muted.events);
      }
      const effective = rules.get(record.instance.ruleId)?.rule;
      if (effective) record.instance.summary = summarise(record.instance, effective, config);
      record.instance.url = instanceUrl(record.instance, config);
      const worthWriting = change.drop || entries.length > 0 || events.length > 0 ||
        (change.before ? significant(change.before) !== significant(record) : record.instance.state !== 'ok');
      if (worthWriting) writes.push({ record, ...(change.drop ? { deleted: true } : {}) });
      history.push(...entries);
      for (const type of events) outgoing.push({ type, record });
      next.push({ record, drop: Boolean(change.drop) });
    }
    // Persist first: if the store refuses, nothing is sent and nothing is remembered, so the next evaluation retries.
    if (writes.length > 0) await db.writeInstances(writes, at);
    if (history.length > 0) await db.writeHistory(history);
    for (const { record, drop } of next) {
      if (drop) records.delete(record.instance.id);
      else records.set(record.instance.id, record);
    }
    for (const { type, record } of outgoing) {
      const event: AlertEvent = { type, at: at.toISOString(), instance: structuredClone(record.instance) };
      try {
        notifier.notify(event);
      } catch (error) {
        log.error({ err: error, instance: record.instance.id, type }, 'the notifier threw; the event is recorded in history');
      }
    }
    if (deps.metrics) {
      const counts: Partial<Record<InstanceState, number>> = {};
      for (const r of records.values()) counts[r.instance.state] = (counts[r.instance.state] ?? 0) + 1;
      deps.metrics.setAlertInstances(counts);
    }
    return outgoing.length;
  }

  function noDataObservation(record: InstanceRecord): Observation {
    return { labels: record.instance.labels, status: 'no_data', value: null, volume: null, crossed: null, uncleared: null, thresholds: {} };
  }

  async function evaluateOne(rule: Rule, at: Date): Promise<{ events: number; error: boolean }> {
    const h = healthOf(rule.id);
    const startedAt = performance.now();
    const finish = (state: RuleHealth['state'], message: string | null) => {
      const seconds = (performance.now() - startedAt) / 1000;
      h.state = state;
      h.message = message;
      h.lastEvaluatedAt = at.toISOString();
      h.lastDurationMs = Math.round(seconds * 1000);
      deps.metrics?.alertEvaluated(rule.kind, seconds, state === 'error' ? 'error' : 'ok');
    };
    const current = () => rules.get(rule.id)?.rule === rule;

    if (rule.activeHours !== 'always') {
      const calendar = config.alerts?.calendars?.[rule.activeHours];
      if (calendar && !inCalendar(calendar, at, tz)) {
        const events = await exclusive(async () => {
          if (!current()) return 0;
          return commit(ruleInstances(rule.id).map((before) => ({ before, result: outsideActiveHours(before, at) })), at);
        });
        finish('inactive', `outside the active hours of calendar "${rule.activeHours}"`);
        return { events, error: false };
      }
    }

    let observations: Observation[];
    try {
      observations = await observe(rule, { store, config, kpis, at });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      h.errors++;
      log.warn({ rule: rule.id, err: error }, 'rule evaluation failed; its instances keep their state');
      try {
        await exclusive(async () => {
          if (!current()) return 0;
          return commit(ruleInstances(rule.id).map((before) => ({ before, result: markError(before, message, at) })), at);
        });
      } catch (storeError) {
        log.error({ rule: rule.id, err: storeError }, 'could not record the rule error');
      }
      finish('error', message);
      return { events: 0, error: true };
    }

    try {
      const events = await exclusive(async () => {
        // Deleted or replaced while its query ran: the new definition decides next time.
        if (!current()) return 0;
        const seen = new Set<string>();
        const changes: Change[] = [];
        for (const obs of observations) {
          const id = instanceId(rule.id, obs.labels);
          if (seen.has(id)) continue;
          seen.add(id);
          const before = records.get(id);
          changes.push({ before, result: step(before ?? newRecord(id, rule, obs.labels, at), obs, rule, at) });
        }
        // A label set that saw data before and none now is "no data" for its own instance, with its own labels.
        for (const before of ruleInstances(rule.id)) {
          if (!seen.has(before.instance.id)) changes.push({ before, result: step(before, noDataObservation(before), rule, at) });
        }
        return commit(changes, at);
      });
      finish('ok', null);
      return { events, error: false };
    } catch (error) {
      h.errors++;
      log.error({ rule: rule.id, err: error }, 'could not save the evaluation; it will be retried');
      finish('error', `could not save the evaluation: ${error instanceof Error ? error.message : String(error)}`);
      return { events: 0, error: true };
    }
  }

  function runScheduled(id: string): void {
    if (running.has(id)) return; // the previous evaluation is still going: skip this tick, do not pile up
    const effective = rules.get(id);
    if (!effective || !effective.rule.enabled) return;
    const run = evaluateOne(effective.rule, now()).then(() => undefined, (error: unknown) => {
      log.error({ rule: id, err: error }, 'unexpected evaluation failure');
    }).finally(() => running.delete(id));
    running.set(id, run);
  }

  function schedule(id: string): void {
    unschedule(id);
    const effective = rules.get(id);
    if (!started || !effective || !effective.rule.enabled) return;
    const timer = setInterval(() => runScheduled(id), effective.rule.everyMs);
    timer.unref();
    timers.set(id, timer);
    runScheduled(id);
  }

  function unschedule(id: string): void {
    const timer = timers.get(id);
    if (timer) clearInterval(timer);
    timers.delete(id);
  }

  function view(id: string): RuleView | undefined {
    const effective = rules.get(id);
    if (effective) {
      return {
        id, kind: effective.rule.kind, source: effective.source, enabled: effective.rule.enabled,
        definition: effective.rule.definition, health: { ...healthOf(id) },
        updatedAt: effective.updatedAt, updatedBy: effective.updatedBy,
      };
    }
    const bad = invalid.get(id);
    if (!bad) return undefined;
    return {
      id, kind: bad.definition.kind ?? 'kpi', source: 'api', enabled: false, definition: bad.definition,
      health: { state: 'invalid', message: bad.problems.join('; '), errors: 0, lastEvaluatedAt: null, lastDurationMs: null },
      updatedAt: bad.updatedAt, updatedBy: bad.updatedBy,
    };
  }

  function validated(definition: unknown, path = ''): Rule {
    const result = validateRule(definition, config, path);
    if (!result.rule) throw new AlertRequestError('invalid', `invalid rule: ${result.problems.join('; ')}`, result.problems);
    return result.rule;
  }

  /** Resolve and drop a rule's instances (rule deleted, or it now measures something else). */
  async function retire(ruleId: string, at: Date, message: string): Promise<number> {
    const mine = ruleInstances(ruleId);
    await commit(mine.map((before) => ({ before, result: resolveForRuleChange(before, at, message), drop: true })), at);
    return mine.filter((r) => r.instance.state === 'firing' || r.instance.state === 'pending').length;
  }

  /** Save a definition and make it effective (inside `exclusive`). */
  async function put(rule: Rule, actor: string, at: Date): Promise<void> {
    const previous = rules.get(rule.id);
    await db.writeRule(rule.id, rule.definition, actor, at);
    if (previous && identityOf(previous.rule) !== identityOf(rule)) {
      await retire(rule.id, at, 'the rule now measures something else');
    }
    if (!rule.enabled) await retire(rule.id, at, 'the rule was disabled');
    invalid.delete(rule.id);
    rules.set(rule.id, { rule, source: 'api', updatedAt: at.toISOString(), updatedBy: actor });
    schedule(rule.id);
  }

  async function remove(id: string, actor: string, at: Date): Promise<number> {
    await db.writeRule(id, null, actor, at);
    unschedule(id);
    rules.delete(id);
    invalid.delete(id);
    health.delete(id);
    return retire(id, at, 'the rule was deleted');
  }

  async function reapplySilences(at: Date): Promise<void> {
    const changes: Change[] = [...records.values()].map((before) => ({ before, result: { record: before, history: [], events: [] } }));
    await commit(changes, at);
  }

  const engine: AlertEngine = {
    get(id) {
      const record = records.get(id);
      return record ? structuredClone(record.instance) : undefined;
    },

    instances() {
      return [...records.values()].map((r) => structuredClone(r.instance));
    },

    async start() {
      await load();
      started = true;
      for (const id of rules.keys()) schedule(id);
      log.info({ rules: timers.size }, 'alert engine started');
    },

    async stop() {
      started = false;
      for (const id of [...timers.keys()]) unschedule(id);
      await Promise.all(running.values());
      await queue;
    },

    async evaluate(at) {
      await load();
      const instant = at ?? now();
      const list = [...rules.values()].map((r) => r.rule).filter((r) => r.enabled);
      const report: EvaluationReport = { at: instant.toISOString(), rules: list.length, errors: 0, events: 0 };
      const limit = Math.max(1, deps.concurrency ?? 4);
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(limit, list.length) }, async () => {
        while (next < list.length) {
          const rule = list[next++] as Rule;
          const outcome = await evaluateOne(rule, instant);
          report.events += outcome.events;
          if (outcome.error) report.errors++;
        }
      }));
      return report;
    },

    async evaluateRule(id, at) {
      await load();
      const effective = rules.get(id);
      if (!effective) throw new AlertRequestError('not_found', `no rule "${id}"`);
      await evaluateOne(effective.rule, at ?? now());
    },

    async listRules() {
      await load();
      const ids = [...new Set([...rules.keys(), ...invalid.keys()])].sort();
      return ids.map((id) => view(id) as RuleView);
    },

    async getRule(id) {
      await load();
      return view(id);
    },

    checkRule(definition) {
      return validateRule(definition, config).problems;
    },

    async createRule(definition, actor) {
      await load();
      const rule = validated(definition);
      return exclusive(async () => {
        if (rules.has(rule.id) || invalid.has(rule.id)) throw new AlertRequestError('conflict', `rule "${rule.id}" already exists; change it with PUT /rules/${rule.id}`);
        await put(rule, actor, now());
        return view(rule.id) as RuleView;
      });
    },

    async updateRule(id, definition, actor) {
      await load();
      if (definition && typeof definition === 'object' && !Array.isArray(definition) && (definition as { id?: unknown }).id === undefined) {
        definition = { ...definition, id };
      }
      const rule = validated(definition);
      if (rule.id !== id) throw new AlertRequestError('invalid', `id: "${rule.id}" does not match the rule in the path ("${id}")`, [`id: must be "${id}"`]);
      return exclusive(async () => {
        if (!rules.has(id) && !invalid.has(id)) throw new AlertRequestError('not_found', `no rule "${id}"`);
        await put(rule, actor, now());
        return view(id) as RuleView;
      });
    },

    async deleteRule(id, actor) {
      await load();
      return exclusive(async () => {
        if (!rules.has(id) && !invalid.has(id)) throw new AlertRequestError('not_found', `no rule "${id}"`);
        return { resolved: await remove(id, actor, now()) };
      });
    },

    async importRules(definitions, mode, actor) {
      await load();
      const { rules: incoming, problems } = validateRules(definitions, config, 'rules');
      if (problems.length > 0) throw new AlertRequestError('invalid', `the import has ${problems.length} problem(s); nothing was changed`, problems);
      return exclusive(async () => {
        const at = now();
        const report: ImportReport = { created: [], updated: [], unchanged: [], deleted: [] };
        for (const rule of incoming) {
          const existing = rules.get(rule.id);
          if (existing && JSON.stringify(existing.rule.definition) === JSON.stringify(rule.definition)) {
            report.unchanged.push(rule.id);
            continue;
          }
          await put(rule, actor, at);
          (existing || invalid.has(rule.id) ? report.updated : report.created).push(rule.id);
        }
        if (mode === 'replace') {
          const keep = new Set(incoming.map((r) => r.id));
          for (const id of [...rules.keys(), ...invalid.keys()]) {
            if (keep.has(id)) continue;
            await remove(id, actor, at);
            report.deleted.push(id);
          }
        }
        return report;
      });
    },

    async exportRules() {
      await load();
      return [...rules.keys()].sort().map((id) => (rules.get(id) as EffectiveRule).rule.definition);
    },

    async acknowledge(id, by, comment) {
      await load();
      return exclusive(async () => {
        const before = records.get(id);
        if (!before) throw new AlertRequestError('not_found', `no alert "${id}"`);
        let result: StepResult;
        try {
          result = ackRecord(before, by, comment, now());
        } catch (error) {
          if (error instanceof AlertStateError) throw new AlertRequestError('conflict', error.message);
          throw error;
        }
        if (result.events.length === 0) return structuredClone(before.instance);
        const at = now();
        await db.writeAck(before.instance, by, comment ?? '', at);
        await commit([{ before, result }], at);
        return structuredClone((records.get(id) as InstanceRecord).instance);
      });
    },

    async silences() {
      await load();
      const at = now();
      return [...configSilences, ...apiSilences.values()].filter((s) => silenceState(s, at) !== 'expired');
    },

    async createSilence(input, author) {
      await load();
      const at = now();
      const { silence, problems } = buildSilence(input, author, at);
      if (!silence) throw new AlertRequestError('invalid', `invalid silence: ${problems.join('; ')}`, problems);
      return exclusive(async () => {
        await db.writeSilence(silence, at);
        apiSilences.set(silence.id, silence);
        recompileSilences();
        await reapplySilences(at);
        return silence;
      });
    },

    async expireSilence(id, by) {
      await load();
      return exclusive(async () => {
        const at = now();
        const silence = apiSilences.get(id);
        if (!silence) {
          if (configSilences.some((s) => s.id === id)) throw new AlertRequestError('conflict', `"${id}" is a maintenance window from the configuration; change it there`);
          throw new AlertRequestError('not_found', `no silence "${id}"`);
        }
        if (silenceState(silence, at) === 'expired') return silence;
        const expired: Silence = { ...silence, expiredAt: at.toISOString() };
        await db.writeSilence(expired, at);
        apiSilences.set(id, expired);
        recompileSilences();
        log.info({ silence: id, by }, 'silence expired');
        await reapplySilences(at);
        return expired;
      });
    },
  };
  return engine;
}
