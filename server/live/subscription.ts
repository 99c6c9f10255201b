/**
 * One distinct live subscription, shared by every client that asked for the
 * same thing. Its key is canonical (KPIs, dimensions and regions in a fixed
 * order, the window spelled one way, regions resolved against the asker's
 * scope), so "GD answer_rate today" from a GD manager and from an admin who
 * named GD are the same computation.
 *
 * Each computation is ONE KPI engine query (itself one store query per KPI
 * family), whatever the number of members. Its result is diffed against the
 * previous one; the diff is serialised once and the same bytes go to every
 * member (only the member's own subscription id differs, spliced in front).
 * A member that joined since the last computation gets a snapshot instead.
 */
import { DIMENSIONS, KPI_IDS, type Dimension, type KpiEngine, type KpiId, type Step } from '../../kpi/index.js';
import { StoreError } from '../../store/index.js';
import type { Logger } from '../logger.js';
import type { ErrorCode } from '../errors.js';
import { windowBounds, windowName, type LiveWindow } from './protocol.js';
import { diffValues, flatten, type LiveValues } from './values.js';

export interface SubscriptionSpec {
  kpis: KpiId[];
  /** Sorted; never empty (a principal without a scope and no regions asked gets every configured region). */
  regions: string[];
  by: Dimension[];
  window: LiveWindow;
  step: Step | undefined;
}

/** KPIs and dimensions in catalogue order, regions sorted: one spelling per subscription. */
export function canonicalSpec(kpis: readonly KpiId[], regions: readonly string[], by: readonly Dimension[], window: LiveWindow, step: Step | undefined): SubscriptionSpec {
  return {
    kpis: KPI_IDS.filter((k) => kpis.includes(k)),
    regions: [...new Set(regions)].sort(),
    by: DIMENSIONS.filter((d) => by.includes(d)),
    window,
    step,
  };
}

export function subscriptionKey(spec: SubscriptionSpec): string {
  return JSON.stringify([spec.kpis, spec.regions, spec.by, windowName(spec.window), spec.step ?? null]);
}

/** A client's use of a shared subscription. */
export interface SubscriptionMember {
  /** The client's name for the subscription (spliced into every message). */
  readonly id: string;
  /** False until the member has had its snapshot; updates go only to ready members. */
  ready: boolean;
  send(data: Buffer): void;
}

export type ComputeOutcome = 'ok' | 'error' | 'oversized';

export interface SubscriptionDeps {
  kpis: KpiEngine;
  now: () => Date;
  timezone: string;
  maxValues: number;
  logger: Logger;
}

/** `{"type":"<type>","id":<id>,` + the shared body without its opening brace. */
function framed(type: string, id: string, tail: string): Buffer {
  return Buffer.from(`{"type":"${type}","id":${JSON.stringify(id)},${tail}`);
}

export class SharedSubscription {
  readonly members = new Set<SubscriptionMember>();
  readonly regionSet: ReadonlySet<string>;
  private values: LiveValues | undefined;
  private seq = 0;
  private meta: { at: string; window: { name: string; from: string; to: string } } | undefined;
  private snapshotTail: string | undefined;
  private running: Promise<ComputeOutcome> | undefined;
  /** The last computation failed; members were told once and are not told again until it recovers. */
  private failing = false;
  /** Computations run (for tests and the bench: one per tick however many members). */
  computations = 0;

  constructor(readonly key: string, readonly spec: SubscriptionSpec, private readonly deps: SubscriptionDeps) {
    this.regionSet = new Set(spec.regions);
  }

  get computing(): boolean {
    return this.running !== undefined;
  }

  get hasValues(): boolean {
    return this.values !== undefined;
  }

  /** Add (or re-add) a member: a snapshot now if there is a current answer, else when the running or next computation ends. */
  join(member: SubscriptionMember): void {
    member.ready = false;
    this.members.add(member);
    if (this.values && !this.running) this.sendSnapshot(member);
  }

  leave(member: SubscriptionMember): void {
    this.members.delete(member);
  }

  /** Compute now, or join the computation already running: never two at once. */
  compute(): Promise<ComputeOutcome> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<ComputeOutcome> {
    this.computations++;
    const now = this.deps.now();
    const { from, to } = windowBounds(this.spec.window, now, this.deps.timezone);
    const spec = this.spec;
    let next: LiveValues;
    let window: { name: string; from: string; to: string };
    try {
      const response = await this.deps.kpis.query({ kpis: spec.kpis, from, to, regions: spec.regions, by: spec.by, step: spec.step });
      next = flatten(response, spec.by, spec.step !== undefined);
      window = { name: windowName(spec.window), from: response.from, to: response.to };
    } catch (error) {
      this.fail(error);
      return 'error';
    }
    if (next.size > this.deps.maxValues) {
      this.broadcastError(
        'SQM_BAD_REQUEST',
        `this subscription has ${next.size} values, more than the ${this.deps.maxValues} allowed: ask for fewer KPIs, regions or dimensions, or a larger step`,
        () => true,
      );
      return 'oversized';
    }
    const at = now.toISOString();
    if (this.values) {
      const diff = diffValues(this.values, next);
      if (diff.changed.length > 0 || diff.removed.length > 0) {
        this.seq++;
        const tail = JSON.stringify({ seq: this.seq, at, window, changed: diff.changed, removed: diff.removed }).slice(1);
        this.broadcast('update', tail, (m) => m.ready);
      }
    } else {
      this.seq = 1;
    }
    this.values = next;
    this.meta = { at, window };
    this.snapshotTail = undefined;
    this.failing = false;
    for (const member of this.members) if (!member.ready) this.sendSnapshot(member);
    return 'ok';
  }

  private sendSnapshot(member: SubscriptionMember): void {
    if (!this.values || !this.meta) return;
    this.snapshotTail ??= JSON.stringify({
      seq: this.seq,
      at: this.meta.at,
      window: this.meta.window,
      subscription: {
        kpis: this.spec.kpis, regions: this.spec.regions, by: this.spec.by, window: windowName(this.spec.window), step: this.spec.step ?? null,
      },
      values: [...this.values.values()],
    }).slice(1);
    member.ready = true;
    member.send(framed('snapshot', member.id, this.snapshotTail));
  }

  /** One serialisation per distinct member id, shared by every member with that id. */
  private broadcast(type: string, tail: string, to: (member: SubscriptionMember) => boolean): void {
    const byId = new Map<string, Buffer>();
    for (const member of this.members) {
      if (!to(member)) continue;
      let data = byId.get(member.id);
      if (!data) byId.set(member.id, (data = framed(type, member.id, tail)));
      member.send(data);
    }
  }

  private broadcastError(code: ErrorCode, message: string, to: (member: SubscriptionMember) => boolean): void {
    this.broadcast('error', JSON.stringify({ code, message }).slice(1), to);
  }

  private fail(error: unknown): void {
    const storeError = error instanceof StoreError;
    this.deps.logger.warn({ err: error, subscription: this.key }, 'live subscription computation failed');
    const code: ErrorCode = storeError ? 'SQM_STORE_ERROR' : 'SQM_INTERNAL';
    const message = storeError
      ? 'The store did not answer; the next tick retries'
      : 'Internal error computing this subscription; the next tick retries';
    // Members waiting for a snapshot hear of every failure; the others once, until it recovers.
    const wasFailing = this.failing;
    this.failing = true;
    this.broadcastError(code, message, (m) => !m.ready || !wasFailing);
  }
}
