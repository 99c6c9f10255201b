/**
 * One region's operation: its contact-centre queues, back office, network
 * faults and customers, wired together. A caller the centre cannot help may
 * call again or get a ticket; a fault brings surge calls and fault tickets;
 * contacts are followed by surveys.
 */
import { ContactQueue, QUEUE_PROFILES, meanHandleSeconds, type CallEnd, type Caller, type QueueProfile } from './contact-centre.js';
import { CustomerPool } from './customers.js';
import { dailyCurve, meanCurve } from './daily-curve.js';
import type { EventQueue } from './event-queue.js';
import { FaultDesk, type Fault, type FaultSpec } from './faults.js';
import type { Random } from './random.js';
import type { CallRecord, FaultRecord, SurveyRecord, TicketCategory, TicketChannel, TicketRecord, SurveyTouchpoint } from './records.js';
import { agentsNeeded, workersNeeded } from './staffing.js';
import { callLatent, faultLatent, scoresFrom, ticketLatent } from './surveys.js';
import { TicketDesk, meanWorkHours, type Ticket, type TicketDeadlines } from './tickets.js';
import { isoBeijing, DAY, HOUR } from './time.js';

/** Contacts per day per million subscribers on an average weekday (before `volume`). */
export const CONTACTS_PER_MILLION_PER_DAY = 200;
/** Tickets per day per million subscribers opened outside the hotline (app, web, stores …). */
export const OTHER_TICKETS_PER_MILLION_PER_DAY = 15;

const SHORT_ABANDON_SECONDS = 5;
const TICKET_AFTER_UNRESOLVED = 0.4;
const REPEAT_AFTER_UNRESOLVED = 0.3;
const RETRY_AFTER_ABANDON = 0.4;
const RETRY_AFTER_OVERFLOW = 0.3;
const SURVEY_AFTER_CALL = 0.12;
const SURVEY_AFTER_TICKET = 0.15;
/** Expected share of calls that end unresolved (for sizing the back office). */
const EXPECTED_UNRESOLVED = 0.13;

const OTHER_CHANNELS: Readonly<Record<Exclude<TicketChannel, 'hotline'>, number>> = {
  app: 0.3, wechat: 0.25, web: 0.15, store: 0.15, sms: 0.08, social: 0.07,
};
const OTHER_CATEGORIES: Readonly<Record<TicketCategory, number>> = { complaint: 0.2, fault: 0.15, inquiry: 0.35, request: 0.3 };
const HOTLINE_CATEGORIES: Readonly<Record<TicketCategory, number>> = { complaint: 0.35, fault: 0.15, inquiry: 0.2, request: 0.3 };

export type Emit = {
  (kind: 'calls', record: CallRecord, at: number): void;
  (kind: 'tickets', record: TicketRecord, at: number): void;
  (kind: 'faults', record: FaultRecord, at: number): void;
  (kind: 'surveys', record: SurveyRecord, at: number): void;
};

interface Window {
  from: number;
  to: number;
  queue: string | undefined;
}

export interface RegionOptions {
  code: string;
  index: number;
  subscribers: number;
  volume: number;
  deadlines: TicketDeadlines;
  events: EventQueue;
  rng: Random;
  emit: Emit;
  nextId(letter: 'C' | 'T' | 'F' | 'S'): string;
}

/**
 * Calls caused by an open CRITICAL fault (an outage) come from the customers it
 * cut off, who call when their service drops whatever the hour: they follow the
 * daily curve by day but never fall below the day's mean rate at night. (A fibre
 * cut at 03:00 still floods the hotline; multiplying the night's trickle would
 * hide it.) Lesser faults scale ordinary traffic, which follows the curve.
 */
/**
 * The back office is rostered for this share of its capacity. Tickets arrive in
 * bursts (faults, unresolved calls) that the plan does not foresee; planning
 * closer to 1 lets a bad day's backlog grow without end, and the repeat calls it
 * causes feed it further.
 */
export const BACK_OFFICE_UTILISATION = 0.6;

export const FAULT_CALL_FLOOR = 1;

export class RegionSim {
  readonly code: string;
  readonly queues: ContactQueue[];
  readonly desk: TicketDesk;
  readonly faults: FaultDesk;
  private readonly customers: CustomerPool;
  private readonly events: EventQueue;
  private readonly rng: Random;
  private surges: (Window & { calls: number; tickets: number })[] = [];
  private staffing: (Window & { factor: number })[] = [];

  constructor(private readonly o: RegionOptions) {
    this.code = o.code;
    this.events = o.events;
    this.rng = o.rng;
    this.customers = new CustomerPool(o.index, Math.max(2000, Math.round((o.subscribers / 1e6) * 300)));
    this.queues = QUEUE_PROFILES.map((profile) => new ContactQueue(o.code, profile, o.events, o.rng, {
      onEnd: (end) => this.callEnded(end),
      resolveChance: (caller, wait) => this.resolveChance(caller, wait),
    }));
    this.faults = new FaultDesk(o.code, o.events, o.rng, {
      nextId: () => o.nextId('F'),
      emit: (record, at) => o.emit('faults', record, at),
      onRestored: (fault) => this.faultRestored(fault),
    });
    this.desk = new TicketDesk(o.code, o.events, o.rng, o.deadlines, {
      nextId: () => o.nextId('T'),
      emit: (record, at) => o.emit('tickets', record, at),
      afterFault: (id, fn) => this.faults.afterRestore(id, fn),
      onResolved: (ticket) => this.ticketResolved(ticket),
    });
  }

  /** Contacts per day on an average weekday. */
  get contactsPerDay(): number {
    return (this.o.subscribers / 1e6) * CONTACTS_PER_MILLION_PER_DAY * this.o.volume;
  }

  private get otherTicketsPerDay(): number {
    return (this.o.subscribers / 1e6) * OTHER_TICKETS_PER_MILLION_PER_DAY * this.o.volume;
  }

  // ---- arrivals ---------------------------------------------------------------

  /** Draw the contacts and tickets that arrive in [from, from + seconds). */
  arrivals(from: number, seconds: number): void {
    const mid = from + seconds / 2;
    const curve = dailyCurve(mid);
    this.surges = this.surges.filter((s) => s.to > from);
    for (const queue of this.queues) {
      const ordinary = curve * this.surgeMultiplier(queue.name, mid);
      const critical = this.faults.criticalCallSurge();
      const faultDriven = curve * (this.faults.callMultiplier() - 1 - critical) + Math.max(curve, FAULT_CALL_FLOOR) * critical;
      const lambda = (this.contactsPerDay * queue.profile.share * (ordinary + faultDriven) * seconds) / DAY;
      const faultShare = ordinary + faultDriven > 0 ? faultDriven / (ordinary + faultDriven) : 0;
      const n = this.rng.poisson(lambda);
      for (let i = 0; i < n; i++) {
        this.events.at(from + this.rng.next() * seconds, () => this.newContact(queue, faultShare));
      }
    }
    const ticketFactor = this.ticketMultiplier(mid);
    const n = this.rng.poisson((this.otherTicketsPerDay * curve * ticketFactor * seconds) / DAY);
    for (let i = 0; i < n; i++) {
      this.events.at(from + this.rng.next() * seconds, () => {
        // Above-normal tickets during a fault are mostly about the fault.
        const fault = this.faults.likelyCause();
        const surgeShare = (this.faults.ticketMultiplier() - 1) / this.faults.ticketMultiplier();
        const aboutFault = fault !== undefined && this.rng.chance(surgeShare);
        this.desk.open({
          channel: this.rng.weighted(OTHER_CHANNELS),
          category: aboutFault ? 'fault' : this.rng.weighted(OTHER_CATEGORIES),
          customer: this.customers.pick(this.rng),
          faultId: aboutFault ? fault.id : undefined,
        });
      });
    }
  }

  private newContact(queue: ContactQueue, faultShare: number): void {
    const fault = this.faults.likelyCause();
    let faultId: string | undefined;
    if (fault && this.rng.chance(faultShare)) faultId = fault.id;
    queue.arrive(this.customers.pick(this.rng), faultId, 0);
  }

  /** Scenario surges scale a queue's ordinary traffic (which follows the daily curve). */
  surgeMultiplier(queue: string, t: number): number {
    let m = 1;
    for (const s of this.surges) if (s.from <= t && t < s.to && (s.queue === undefined || s.queue === queue)) m += s.calls - 1;
    return Math.max(0, m);
  }

  private ticketMultiplier(t: number): number {
    let m = this.faults.ticketMultiplier();
    for (const s of this.surges) if (s.from <= t && t < s.to) m += s.tickets - 1;
    return Math.max(0, m);
  }

  // ---- staffing -----------------------------------------------------------------

  /** Agents the planner rosters for a queue in the hour starting at `hourStart` (before scenario factors). */
  plannedAgents(profile: QueueProfile, hourStart: number): number {
    const rate = (this.contactsPerDay * profile.share * meanCurve(hourStart, HOUR)) / DAY;
    return agentsNeeded(rate, meanHandleSeconds(profile));
  }

  plannedWorkers(hourStart: number): number {
    const ticketsPerDay = this.otherTicketsPerDay + this.contactsPerDay * EXPECTED_UNRESOLVED * TICKET_AFTER_UNRESOLVED;
    return workersNeeded((ticketsPerDay * meanCurve(hourStart, HOUR)) / 24, meanWorkHours(), BACK_OFFICE_UTILISATION);
  }

  /** Put the plan for the current hour (times any scenario factor) on shift. */
  restaff(): void {
    const t = this.events.now;
    const hourStart = Math.floor(t / HOUR) * HOUR;
    this.staffing = this.staffing.filter((s) => s.to > t);
    for (const queue of this.queues) {
      let factor = 1;
      for (const s of this.staffing) if (s.from <= t && t < s.to && (s.queue === undefined || s.queue === queue.name)) factor *= s.factor;
      queue.setStaff(Math.round(this.plannedAgents(queue.profile, hourStart) * factor));
    }
    this.desk.setWorkers(this.plannedWorkers(hourStart));
  }

  // ---- scenario hooks -------------------------------------------------------------

  addSurge(from: number, to: number, queue: string | undefined, calls: number, tickets: number): void {
    this.surges.push({ from, to, queue, calls, tickets });
  }

  addStaffing(from: number, to: number, queue: string | undefined, factor: number): void {
    this.staffing.push({ from, to, queue, factor });
    this.events.at(from, () => this.restaff());
    this.events.at(to, () => this.restaff());
  }

  startFault(spec: FaultSpec): Fault {
    return this.faults.start(spec);
  }

  /** Background faults for [from, from + seconds): rare, and rarer the more severe. */
  backgroundFaults(from: number, seconds: number): void {
    for (const severity of ['critical', 'major', 'minor'] as const) {
      const n = this.rng.poisson((FaultDesk.ratePerDay(severity, this.o.subscribers) * seconds) / DAY);
      for (let i = 0; i < n; i++) this.events.at(from + this.rng.next() * seconds, () => this.faults.start({ severity }));
    }
  }

  // ---- consequences of contacts --------------------------------------------------------

  private resolveChance(caller: Caller, wait: number): number {
    let p = 0.9 - 0.15 * Math.min(1, wait / 300);
    if (caller.attempt > 0) p -= 0.05;
    // An agent cannot fix an outage: callers about an open fault leave unresolved.
    if (caller.faultId !== undefined && this.faults.isOpen(caller.faultId)) p -= 0.6;
    return Math.max(0.05, p);
  }

  private callEnded(end: CallEnd): void {
    const { caller, queue } = end;
    const id = this.o.nextId('C');
    const record: CallRecord = {
      id,
      region: this.code,
      queue: queue.name,
      channel: queue.profile.channel,
      enteredAt: isoBeijing(caller.enteredAt),
      ...(end.answeredAt === undefined ? {} : { answeredAt: isoBeijing(end.answeredAt) }),
      endedAt: isoBeijing(end.endedAt),
      outcome: end.outcome,
      ...(end.outcome === 'answered' ? {
        talkSeconds: Math.round(end.talk ?? 0),
        holdSeconds: Math.round(end.hold ?? 0),
        wrapSeconds: Math.round(end.wrap ?? 0),
        agent: end.agent as string,
      } : {}),
      customer: caller.customer,
      ...(end.resolved === undefined ? {} : { resolved: end.resolved }),
    };
    this.o.emit('calls', record, this.events.now);

    const t = this.events.now;
    const wait = (end.answeredAt ?? end.endedAt) - caller.enteredAt;
    if (end.outcome === 'answered') {
      if (!end.resolved) {
        if (this.rng.chance(TICKET_AFTER_UNRESOLVED)) {
          const faultId = caller.faultId !== undefined && this.faults.isOpen(caller.faultId) ? caller.faultId : undefined;
          this.desk.open({ channel: 'hotline', category: faultId ? 'fault' : this.rng.weighted(HOTLINE_CATEGORIES), customer: caller.customer, faultId });
        }
        if (this.rng.chance(REPEAT_AFTER_UNRESOLVED)) this.again(queue, caller, t + this.rng.logNormal(2 * HOUR, 0.8));
      }
      if (this.rng.chance(SURVEY_AFTER_CALL)) {
        this.survey('call', queue.profile.channel, id, caller.customer, t + this.rng.logNormal(300, 0.8), callLatent(wait, end.resolved === true));
      }
    } else if (end.outcome === 'abandoned' && wait >= SHORT_ABANDON_SECONDS) {
      if (this.rng.chance(RETRY_AFTER_ABANDON)) this.again(queue, caller, t + this.rng.logNormal(180, 0.7));
    } else if (end.outcome === 'overflow') {
      if (this.rng.chance(RETRY_AFTER_OVERFLOW)) this.again(queue, caller, t + this.rng.logNormal(300, 0.7));
    }
  }

  /** The same customer tries again later (a retry or a repeat contact). */
  private again(queue: ContactQueue, caller: Caller, at: number): void {
    this.events.at(at, () => {
      const faultId = caller.faultId !== undefined && this.faults.isOpen(caller.faultId) ? caller.faultId : undefined;
      queue.arrive(caller.customer, faultId, caller.attempt + 1);
    });
  }

  private ticketResolved(ticket: Ticket): void {
    if (!this.rng.chance(SURVEY_AFTER_TICKET) || ticket.resolvedAt === undefined) return;
    const latent = ticketLatent(
      (ticket.firstResponseAt ?? ticket.resolvedAt) > ticket.responseDeadline,
      ticket.resolvedAt > ticket.resolutionDeadline,
      ticket.reopenCount > 0,
    );
    this.survey('ticket', ticket.channel, ticket.id, ticket.customer, ticket.resolvedAt + this.rng.logNormal(2 * HOUR, 0.8), latent);
  }

  private faultRestored(fault: Fault): void {
    const outageHours = ((fault.restoredAt ?? fault.detectedAt) - fault.detectedAt) / HOUR;
    const n = Math.min(30, this.rng.poisson(fault.customersAffected / 20_000));
    for (let i = 0; i < n; i++) {
      this.survey('fault', 'sms', fault.id, this.customers.pick(this.rng), this.events.now + this.rng.logNormal(2 * HOUR, 0.6), faultLatent(outageHours));
    }
  }

  private survey(touchpoint: SurveyTouchpoint, channel: string, refId: string, customer: string, at: number, latent: number): void {
    const scores = scoresFrom(this.rng, latent);
    const answeredAt = Math.floor(at);
    const record: SurveyRecord = {
      id: this.o.nextId('S'),
      region: this.code,
      channel,
      touchpoint,
      refId,
      answeredAt: isoBeijing(answeredAt),
      ...scores,
      customer,
    };
    this.o.emit('surveys', record, answeredAt);
  }

  // ---- gauges ----------------------------------------------------------------------

  queueStates(): { queue: string; waiting: number; longestWaitSeconds: number; agentsReady: number; agentsBusy: number; agentsPaused: number }[] {
    return this.queues.map((q) => ({ queue: q.name, ...q.state() }));
  }
}
