/**
 * One contact-centre queue as an event-driven simulation: callers arrive, wait
 * in FIFO order, and are answered by the first free agent; each agent talks,
 * holds and wraps up for log-normal times; a waiting caller hangs up when their
 * patience runs out. Answer rate, service level, ASA and abandonment are not
 * drawn: they emerge from arrivals versus staff.
 */
import type { EventQueue } from './event-queue.js';
import type { Random } from './random.js';
import type { CallChannel, CallOutcome } from './records.js';

export interface QueueProfile {
  name: string;
  channel: CallChannel;
  /** Share of the region's contacts that come through this queue. */
  share: number;
  /** Log-normal [median seconds, sigma]. */
  talk: readonly [number, number];
  /** Share of calls put on hold, and how long. */
  holdShare: number;
  hold: readonly [number, number];
  wrap: readonly [number, number];
  /** How long a caller is willing to wait before hanging up. */
  patience: readonly [number, number];
}

export const QUEUE_PROFILES: readonly QueueProfile[] = [
  { name: 'hotline', channel: 'voice', share: 0.78, talk: [180, 0.5], holdShare: 0.3, hold: [40, 0.5], wrap: [25, 0.4], patience: [75, 0.9] },
  { name: 'online', channel: 'chat', share: 0.18, talk: [300, 0.6], holdShare: 0.1, hold: [30, 0.5], wrap: [20, 0.4], patience: [150, 0.8] },
  { name: 'video', channel: 'video', share: 0.04, talk: [240, 0.5], holdShare: 0.2, hold: [30, 0.5], wrap: [30, 0.4], patience: [60, 0.8] },
];

export const QUEUE_NAMES: readonly string[] = QUEUE_PROFILES.map((q) => q.name);

const logNormalMean = ([median, sigma]: readonly [number, number]): number => median * Math.exp((sigma * sigma) / 2);

/** Mean agent time per answered call (talk + hold + wrap), for staffing. */
export function meanHandleSeconds(profile: QueueProfile): number {
  return logNormalMean(profile.talk) + profile.holdShare * logNormalMean(profile.hold) + logNormalMean(profile.wrap);
}

/** Share of planned agents shown as paused (breaks, training): they take no calls. */
const PAUSED_SHARE = 0.1;
/** Callers left waiting after this wait may ask for a callback instead of just hanging up. */
const CALLBACK_AFTER_SECONDS = 60;
const CALLBACK_SHARE = 0.15;
/** Callers are overflowed once the queue's expected wait (waiting × AHT / agents) passes this. */
const OVERFLOW_EXPECTED_WAIT_SECONDS = 180;

export interface Caller {
  customer: string;
  enteredAt: number;
  /** The fault that made this customer call, if any. */
  faultId: string | undefined;
  /** 0 for a first contact, 1+ for a retry or a repeat contact. */
  attempt: number;
  state: 'waiting' | 'answered' | 'gone';
}

export interface CallEnd {
  queue: ContactQueue;
  caller: Caller;
  outcome: CallOutcome;
  answeredAt?: number;
  endedAt: number;
  talk?: number;
  hold?: number;
  wrap?: number;
  agent?: string;
  resolved?: boolean;
}

interface Agent {
  id: string;
  index: number;
  busy: boolean;
  leaving: boolean;
}

export interface QueueHooks {
  /** Called at the moment a call ends (all its times are ≤ now). */
  onEnd(end: CallEnd): void;
  /** Probability that an answered contact is resolved on this call. */
  resolveChance(caller: Caller, waitSeconds: number): number;
}

export class ContactQueue {
  private readonly agents: Agent[] = [];
  private readonly idle: Agent[] = [];
  private readonly freeIndexes: number[] = [];
  private nextAgentIndex = 1;
  private waiting: Caller[] = [];
  private head = 0;
  private waitingCount = 0;
  private planned = 0;
  private readonly meanHandle: number;

  constructor(
    readonly region: string,
    readonly profile: QueueProfile,
    private readonly events: EventQueue,
    private readonly rng: Random,
    private readonly hooks: QueueHooks,
  ) {
    this.meanHandle = meanHandleSeconds(profile);
  }

  get name(): string {
    return this.profile.name;
  }

  /** Agents taking calls (not counting those finishing a call before leaving). */
  get staffed(): number {
    return this.agents.filter((a) => !a.leaving).length;
  }

  arrive(customer: string, faultId: string | undefined, attempt: number): void {
    const t = this.events.now;
    const caller: Caller = { customer, enteredAt: t, faultId, attempt, state: 'waiting' };
    // When the expected wait is too long, the ACD routes new callers to a partner centre.
    const staffed = this.staffed;
    if (staffed === 0 || (this.waitingCount * this.meanHandle) / staffed > OVERFLOW_EXPECTED_WAIT_SECONDS) {
      caller.state = 'gone';
      const endedAt = t + this.rng.uniform(1, 4);
      this.events.at(endedAt, () => this.hooks.onEnd({ queue: this, caller, outcome: 'overflow', endedAt }));
      return;
    }
    if (this.waitingCount === 0 && this.idle.length > 0) {
      // Ring time before the agent picks up.
      this.answer(caller, this.idle.shift() as Agent, t + this.rng.uniform(1, 4));
      return;
    }
    this.waiting.push(caller);
    this.waitingCount++;
    const patience = this.rng.logNormal(this.profile.patience[0], this.profile.patience[1]);
    this.events.at(t + patience, () => this.abandon(caller));
  }

  private abandon(caller: Caller): void {
    if (caller.state !== 'waiting') return;
    caller.state = 'gone';
    this.waitingCount--;
    const t = this.events.now;
    const outcome: CallOutcome = t - caller.enteredAt >= CALLBACK_AFTER_SECONDS && this.rng.chance(CALLBACK_SHARE) ? 'callback' : 'abandoned';
    this.hooks.onEnd({ queue: this, caller, outcome, endedAt: t });
  }

  private answer(caller: Caller, agent: Agent, answeredAt: number): void {
    caller.state = 'answered';
    agent.busy = true;
    const p = this.profile;
    const talk = Math.max(5, this.rng.logNormal(p.talk[0], p.talk[1]));
    const hold = this.rng.chance(p.holdShare) ? this.rng.logNormal(p.hold[0], p.hold[1]) : 0;
    const wrap = this.rng.logNormal(p.wrap[0], p.wrap[1]);
    const endedAt = answeredAt + talk + hold;
    const resolved = this.rng.chance(this.hooks.resolveChance(caller, answeredAt - caller.enteredAt));
    this.events.at(endedAt, () => this.hooks.onEnd({
      queue: this, caller, outcome: 'answered', answeredAt, endedAt, talk, hold, wrap, agent: agent.id, resolved,
    }));
    this.events.at(endedAt + wrap, () => this.release(agent));
  }

  private release(agent: Agent): void {
    agent.busy = false;
    if (agent.leaving) {
      this.removeAgent(agent);
      return;
    }
    this.dispatch(agent);
  }

  /** Give a free agent the longest-waiting caller, or make them ready. */
  private dispatch(agent: Agent): void {
    const next = this.takeNextCaller();
    if (next) this.answer(next, agent, this.events.now + this.rng.uniform(1, 3));
    else this.idle.push(agent);
  }

  private takeNextCaller(): Caller | undefined {
    while (this.head < this.waiting.length) {
      const caller = this.waiting[this.head++] as Caller;
      if (caller.state === 'waiting') {
        this.waitingCount--;
        this.compact();
        return caller;
      }
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  /** Bring the number of agents on shift to `target`; busy agents finish their call before leaving. */
  setStaff(target: number): void {
    this.planned = target;
    let current = this.staffed;
    for (const agent of this.agents) {
      if (current >= target) break;
      if (agent.leaving) {
        agent.leaving = false;
        current++;
      }
    }
    while (current < target) {
      const index = this.freeIndexes.length > 0 ? (this.freeIndexes.shift() as number) : this.nextAgentIndex++;
      const agent: Agent = { id: `${this.region}-${this.profile.name}-${String(index).padStart(3, '0')}`, index, busy: false, leaving: false };
      this.agents.push(agent);
      current++;
      this.dispatch(agent);
    }
    // Ready agents log off first, then busy ones after their current call.
    while (current > target && this.idle.length > 0) {
      this.removeAgent(this.idle.pop() as Agent);
      current--;
    }
    for (let i = this.agents.length - 1; i >= 0 && current > target; i--) {
      const agent = this.agents[i] as Agent;
      if (!agent.leaving) {
        agent.leaving = true;
        current--;
      }
    }
  }

  private removeAgent(agent: Agent): void {
    const i = this.agents.indexOf(agent);
    if (i >= 0) this.agents.splice(i, 1);
    const j = this.idle.indexOf(agent);
    if (j >= 0) this.idle.splice(j, 1);
    this.freeIndexes.push(agent.index);
    this.freeIndexes.sort((a, b) => a - b);
  }

  /** The real-time state a wallboard shows. */
  state(): { waiting: number; longestWaitSeconds: number; agentsReady: number; agentsBusy: number; agentsPaused: number } {
    let longest = 0;
    for (let i = this.head; i < this.waiting.length; i++) {
      const caller = this.waiting[i] as Caller;
      if (caller.state === 'waiting') {
        longest = this.events.now - caller.enteredAt;
        break;
      }
    }
    let busy = 0;
    for (const agent of this.agents) if (agent.busy) busy++;
    return {
      waiting: this.waitingCount,
      longestWaitSeconds: Math.max(0, Math.floor(longest)),
      agentsReady: this.idle.length,
      agentsBusy: busy,
      agentsPaused: Math.round(this.planned * PAUSED_SHARE),
    };
  }
}
