/**
 * The back office: tickets (work orders) wait for a first response and then for
 * resolution, worked by a team with its own hourly capacity, earliest deadline
 * first. When tickets arrive faster than the team works, backlog grows and SLA
 * compliance falls; nothing is drawn from a target. Each change of a ticket is
 * sent as a snapshot with its own updatedAt.
 */
import type { EventQueue } from './event-queue.js';
import type { Random } from './random.js';
import type { TicketCategory, TicketChannel, TicketPriority, TicketRecord, TicketStatus } from './records.js';
import { isoBeijing, HOUR } from './time.js';

export type TicketDeadlines = Readonly<Record<TicketPriority, { responseHours: number; resolutionHours: number }>>;

const PRIORITY_MIX: Readonly<Record<TicketCategory, Readonly<Record<TicketPriority, number>>>> = {
  complaint: { urgent: 0.05, high: 0.45, normal: 0.45, low: 0.05 },
  fault: { urgent: 0.2, high: 0.4, normal: 0.35, low: 0.05 },
  inquiry: { urgent: 0, high: 0.05, normal: 0.6, low: 0.35 },
  request: { urgent: 0.02, high: 0.1, normal: 0.58, low: 0.3 },
};

/** Share of tickets settled at the first response (an answer is all an inquiry needs). */
const FIRST_TOUCH: Readonly<Record<TicketCategory, number>> = { complaint: 0.1, fault: 0.05, inquiry: 0.6, request: 0.3 };
/** Log-normal [median minutes, sigma] of the work to resolve. */
const RESOLVE_WORK: Readonly<Record<TicketCategory, readonly [number, number]>> = {
  complaint: [45, 0.7], fault: [20, 0.7], inquiry: [15, 0.7], request: [30, 0.7],
};
const RESPOND_WORK: readonly [number, number] = [6, 0.5];
const PENDING_SHARE = 0.2;
const REOPEN_SHARE = 0.05;

/** Mean worker-hours per ticket (for sizing the team), over a typical category mix. */
export function meanWorkHours(): number {
  const mix: Record<TicketCategory, number> = { complaint: 0.25, fault: 0.15, inquiry: 0.3, request: 0.3 };
  const mean = ([m, s]: readonly [number, number]): number => m * Math.exp((s * s) / 2);
  let minutes = mean(RESPOND_WORK);
  for (const c of Object.keys(mix) as TicketCategory[]) minutes += mix[c] * (1 - FIRST_TOUCH[c]) * mean(RESOLVE_WORK[c]);
  return minutes / 60;
}

export interface Ticket {
  id: string;
  region: string;
  channel: TicketChannel;
  category: TicketCategory;
  priority: TicketPriority;
  customer: string;
  faultId: string | undefined;
  openedAt: number;
  firstResponseAt?: number;
  resolvedAt?: number;
  closedAt?: number;
  status: TicketStatus;
  reopenCount: number;
  responseDeadline: number;
  resolutionDeadline: number;
  /** The last updatedAt sent, so every snapshot gets a later one. */
  lastStamp: number;
}

interface Task {
  ticket: Ticket;
  type: 'respond' | 'resolve';
  deadline: number;
  seq: number;
}

export interface TicketSpec {
  channel: TicketChannel;
  category: TicketCategory;
  customer: string;
  faultId?: string | undefined;
}

export interface DeskHooks {
  nextId(): string;
  /** Send a snapshot once the clock reaches `at`. */
  emit(record: TicketRecord, at: number): void;
  /** Run `fn` once the fault is restored (at once if it already is). */
  afterFault(faultId: string, fn: () => void): void;
  onResolved(ticket: Ticket): void;
}

export class TicketDesk {
  private readonly tasks: Task[] = [];
  private seq = 0;
  private idle = 0;
  private busy = 0;
  private target = 0;
  /** Tickets not yet resolved. */
  backlog = 0;

  constructor(
    readonly region: string,
    private readonly events: EventQueue,
    private readonly rng: Random,
    private readonly deadlines: TicketDeadlines,
    private readonly hooks: DeskHooks,
  ) {}

  open(spec: TicketSpec): Ticket {
    const t = this.events.now;
    const priority = this.rng.weighted(PRIORITY_MIX[spec.category]);
    const d = this.deadlines[priority];
    const ticket: Ticket = {
      id: this.hooks.nextId(),
      region: this.region,
      channel: spec.channel,
      category: spec.category,
      priority,
      customer: spec.customer,
      faultId: spec.faultId,
      openedAt: t,
      status: 'open',
      reopenCount: 0,
      responseDeadline: t + d.responseHours * HOUR,
      resolutionDeadline: t + d.resolutionHours * HOUR,
      lastStamp: -Infinity,
    };
    this.backlog++;
    this.snapshot(ticket);
    this.enqueue(ticket, 'respond', ticket.responseDeadline);
    return ticket;
  }

  setWorkers(target: number): void {
    this.target = target;
    while (this.idle + this.busy < target) {
      this.idle++;
      this.dispatch();
    }
    // Idle workers go home at once; busy ones finish their task first (see finish()).
    while (this.idle + this.busy > target && this.idle > 0) this.idle--;
  }

  get workers(): number {
    return this.idle + this.busy;
  }

  private enqueue(ticket: Ticket, type: Task['type'], deadline: number): void {
    const heap = this.tasks;
    const task: Task = { ticket, type, deadline, seq: this.seq++ };
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(task, heap[p] as Task)) break;
      heap[i] = heap[p] as Task;
      i = p;
    }
    heap[i] = task;
    this.dispatch();
  }

  private before(a: Task, b: Task): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private popTask(): Task | undefined {
    const heap = this.tasks;
    if (heap.length === 0) return undefined;
    const top = heap[0] as Task;
    const last = heap.pop() as Task;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < heap.length && this.before(heap[l] as Task, best)) {
          m = l;
          best = heap[l] as Task;
        }
        if (r < heap.length && this.before(heap[r] as Task, best)) m = r;
        if (m === i) break;
        heap[i] = heap[m] as Task;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }

  private dispatch(): void {
    while (this.idle > 0 && this.tasks.length > 0) {
      const task = this.popTask() as Task;
      this.idle--;
      this.busy++;
      const [median, sigma] = task.type === 'respond' ? RESPOND_WORK : RESOLVE_WORK[task.ticket.category];
      const minutes = this.rng.logNormal(median, sigma);
      this.events.at(this.events.now + minutes * 60, () => this.finish(task));
    }
  }

  private finish(task: Task): void {
    this.busy--;
    if (this.idle + this.busy < this.target) this.idle++;
    if (task.type === 'respond') this.responded(task.ticket);
    else this.resolve(task.ticket);
    this.dispatch();
  }

  private responded(ticket: Ticket): void {
    const t = this.events.now;
    ticket.firstResponseAt = t;
    if (ticket.faultId === undefined && this.rng.chance(FIRST_TOUCH[ticket.category])) {
      this.resolve(ticket);
      return;
    }
    const queueResolution = (): void => this.enqueue(ticket, 'resolve', ticket.resolutionDeadline);
    if (this.rng.chance(PENDING_SHARE)) {
      // Waiting for the customer (a document, a visit); the clock keeps running.
      ticket.status = 'pending';
      this.snapshot(ticket);
      this.events.at(t + this.rng.logNormal(3 * HOUR, 0.8), () => {
        ticket.status = 'in_progress';
        this.snapshot(ticket);
        queueResolution();
      });
      return;
    }
    ticket.status = 'in_progress';
    this.snapshot(ticket);
    // A fault ticket cannot be resolved before the network is restored.
    if (ticket.faultId !== undefined) this.hooks.afterFault(ticket.faultId, queueResolution);
    else queueResolution();
  }

  private resolve(ticket: Ticket): void {
    const t = this.events.now;
    ticket.resolvedAt = t;
    ticket.status = 'resolved';
    this.backlog--;
    this.snapshot(ticket);
    this.hooks.onResolved(ticket);
    if (ticket.category === 'complaint' && ticket.reopenCount === 0 && this.rng.chance(REOPEN_SHARE)) {
      this.events.at(t + this.rng.logNormal(6 * HOUR, 0.7), () => {
        ticket.reopenCount++;
        ticket.status = 'in_progress';
        delete ticket.resolvedAt;
        this.backlog++;
        this.snapshot(ticket);
        this.enqueue(ticket, 'resolve', Math.max(ticket.resolutionDeadline, this.events.now + 4 * HOUR));
      });
      return;
    }
    this.events.at(t + this.rng.logNormal(20 * HOUR, 0.6), () => {
      ticket.closedAt = this.events.now;
      ticket.status = 'closed';
      this.snapshot(ticket);
    });
  }

  /** Send the ticket's current state; each snapshot's updatedAt is later than the last. */
  private snapshot(ticket: Ticket): void {
    const stamp = Math.max(Math.floor(this.events.now), ticket.lastStamp + 1);
    ticket.lastStamp = stamp;
    const record: TicketRecord = {
      id: ticket.id,
      region: ticket.region,
      channel: ticket.channel,
      category: ticket.category,
      priority: ticket.priority,
      openedAt: isoBeijing(ticket.openedAt),
      ...(ticket.firstResponseAt === undefined ? {} : { firstResponseAt: isoBeijing(ticket.firstResponseAt) }),
      ...(ticket.resolvedAt === undefined ? {} : { resolvedAt: isoBeijing(ticket.resolvedAt) }),
      ...(ticket.closedAt === undefined ? {} : { closedAt: isoBeijing(ticket.closedAt) }),
      status: ticket.status,
      reopenCount: ticket.reopenCount,
      customer: ticket.customer,
      updatedAt: isoBeijing(stamp),
    };
    this.hooks.emit(record, stamp);
  }
}
