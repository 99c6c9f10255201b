/**
 * Network faults: detected, acknowledged by the NOC, restored by field teams.
 * While a fault is open, the customers it cuts off call and open fault tickets,
 * so one outage shows up in the contact-centre and back-office KPIs too.
 */
import type { EventQueue } from './event-queue.js';
import type { Random } from './random.js';
import type { FaultDomain, FaultRecord, FaultSeverity } from './records.js';
import { isoBeijing, HOUR } from './time.js';

interface SeverityProfile {
  /** Background faults per day per 10 million subscribers. */
  perDayPer10M: number;
  /** Log-normal [median seconds, sigma]. */
  acknowledge: readonly [number, number];
  restore: readonly [number, number];
  customers: readonly [number, number];
  callMultiplier: number;
  ticketMultiplier: number;
}

// Restore medians sit well inside the deadlines (4 h / 8 h / 24 h), so a few
// percent of faults breach them, as in a network run to those targets.
export const SEVERITY_PROFILES: Readonly<Record<FaultSeverity, SeverityProfile>> = {
  critical: { perDayPer10M: 0.03, acknowledge: [300, 0.5], restore: [2 * HOUR, 0.4], customers: [150_000, 0.8], callMultiplier: 1.8, ticketMultiplier: 4 },
  major: { perDayPer10M: 0.25, acknowledge: [720, 0.5], restore: [3 * HOUR, 0.5], customers: [20_000, 0.8], callMultiplier: 1.25, ticketMultiplier: 2 },
  minor: { perDayPer10M: 1, acknowledge: [1800, 0.6], restore: [6 * HOUR, 0.6], customers: [1_500, 0.8], callMultiplier: 1.03, ticketMultiplier: 1.2 },
};

const DOMAIN_MIX: Readonly<Record<FaultDomain, number>> = { wireless: 0.4, broadband: 0.25, transmission: 0.15, power: 0.15, core: 0.05 };
const CAUSES: Readonly<Record<FaultDomain, readonly string[]>> = {
  wireless: ['base station outage', 'antenna feeder fault', 'cell overload'],
  transmission: ['fibre cut', 'microwave link down', 'optical transceiver failure'],
  core: ['MME overload', 'HSS database fault', 'signalling link failure'],
  broadband: ['OLT card failure', 'BRAS failure', 'DNS resolver outage'],
  power: ['mains power loss', 'battery exhaustion', 'rectifier failure'],
};

export interface FaultSpec {
  domain?: FaultDomain;
  severity: FaultSeverity;
  cause?: string | undefined;
  site?: string | undefined;
  customersAffected?: number | undefined;
  acknowledgeAfter?: number | undefined;
  restoreAfter?: number | undefined;
  callMultiplier?: number | undefined;
  ticketMultiplier?: number | undefined;
}

export interface Fault {
  id: string;
  region: string;
  site: string;
  domain: FaultDomain;
  severity: FaultSeverity;
  cause: string;
  customersAffected: number;
  detectedAt: number;
  acknowledgedAt?: number;
  restoredAt?: number;
  callMultiplier: number;
  ticketMultiplier: number;
  lastStamp: number;
  waiting: (() => void)[];
}

export interface FaultHooks {
  nextId(): string;
  emit(record: FaultRecord, at: number): void;
  onRestored(fault: Fault): void;
}

export class FaultDesk {
  private readonly open = new Map<string, Fault>();

  constructor(
    readonly region: string,
    private readonly events: EventQueue,
    private readonly rng: Random,
    private readonly hooks: FaultHooks,
  ) {}

  /** Background faults expected per day in a region of this size. */
  static ratePerDay(severity: FaultSeverity, subscribers: number): number {
    return (SEVERITY_PROFILES[severity].perDayPer10M * subscribers) / 10_000_000;
  }

  start(spec: FaultSpec): Fault {
    const t = this.events.now;
    const profile = SEVERITY_PROFILES[spec.severity];
    const domain = spec.domain ?? this.rng.weighted(DOMAIN_MIX);
    let acknowledgeAfter = spec.acknowledgeAfter ?? this.rng.logNormal(profile.acknowledge[0], profile.acknowledge[1]);
    // A scripted restore time wins: a drawn acknowledgement is moved before it, never the restore after it.
    if (spec.restoreAfter !== undefined && spec.acknowledgeAfter === undefined && acknowledgeAfter >= spec.restoreAfter) {
      acknowledgeAfter = spec.restoreAfter * this.rng.uniform(0.2, 0.6);
    }
    const restoreAfter = spec.restoreAfter ?? Math.max(this.rng.logNormal(profile.restore[0], profile.restore[1]), acknowledgeAfter + 60);
    const fault: Fault = {
      id: this.hooks.nextId(),
      region: this.region,
      site: spec.site ?? `${this.region}-${domain.slice(0, 2).toUpperCase()}${String(this.rng.int(10000)).padStart(4, '0')}`,
      domain,
      severity: spec.severity,
      cause: spec.cause ?? this.rng.pick(CAUSES[domain]),
      customersAffected: spec.customersAffected ?? Math.round(this.rng.logNormal(profile.customers[0], profile.customers[1])),
      detectedAt: t,
      callMultiplier: spec.callMultiplier ?? profile.callMultiplier,
      ticketMultiplier: spec.ticketMultiplier ?? profile.ticketMultiplier,
      lastStamp: -Infinity,
      waiting: [],
    };
    this.open.set(fault.id, fault);
    this.snapshot(fault);
    this.events.at(t + acknowledgeAfter, () => {
      fault.acknowledgedAt = this.events.now;
      this.snapshot(fault);
    });
    this.events.at(t + restoreAfter, () => {
      fault.restoredAt = this.events.now;
      this.open.delete(fault.id);
      this.snapshot(fault);
      for (const fn of fault.waiting.splice(0)) fn();
      this.hooks.onRestored(fault);
    });
    return fault;
  }

  /** Call volume factor from open faults: each adds its surge on top of normal traffic. */
  callMultiplier(): number {
    let m = 1;
    for (const fault of this.open.values()) m += fault.callMultiplier - 1;
    return m;
  }

  /**
   * The part of callMultiplier() − 1 that comes from critical faults: outages that
   * cut customers off, who call whatever the hour (see FAULT_CALL_FLOOR in region.ts).
   */
  criticalCallSurge(): number {
    let m = 0;
    for (const fault of this.open.values()) if (fault.severity === 'critical') m += fault.callMultiplier - 1;
    return m;
  }

  ticketMultiplier(): number {
    let m = 1;
    for (const fault of this.open.values()) m += fault.ticketMultiplier - 1;
    return m;
  }

  /** The open fault a surge caller is most likely calling about (the one with the largest surge). */
  likelyCause(): Fault | undefined {
    let best: Fault | undefined;
    for (const fault of this.open.values()) if (!best || fault.callMultiplier > best.callMultiplier) best = fault;
    return best;
  }

  isOpen(faultId: string): boolean {
    return this.open.has(faultId);
  }

  afterRestore(faultId: string, fn: () => void): void {
    const fault = this.open.get(faultId);
    if (fault) fault.waiting.push(fn);
    else fn();
  }

  private snapshot(fault: Fault): void {
    const stamp = Math.max(Math.floor(this.events.now), fault.lastStamp + 1);
    fault.lastStamp = stamp;
    const record: FaultRecord = {
      id: fault.id,
      region: fault.region,
      site: fault.site,
      domain: fault.domain,
      severity: fault.severity,
      detectedAt: isoBeijing(fault.detectedAt),
      ...(fault.acknowledgedAt === undefined ? {} : { acknowledgedAt: isoBeijing(fault.acknowledgedAt) }),
      ...(fault.restoredAt === undefined ? {} : { restoredAt: isoBeijing(fault.restoredAt) }),
      customersAffected: fault.customersAffected,
      cause: fault.cause,
      updatedAt: isoBeijing(stamp),
    };
    this.hooks.emit(record, stamp);
  }
}
