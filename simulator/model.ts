/**
 * The traffic model: every configured region simulated together on one event
 * clock. `advanceTo(t)` runs the simulation up to `t` and returns the records
 * whose times are all ≤ t, so nothing it returns is ever in the future.
 *
 * A region's draws come from its own random stream, so one region's traffic does
 * not change when others are added or left out (tests can simulate just GD).
 */
import type { SqmConfig } from '../config/index.js';
import { EventQueue } from './event-queue.js';
import { createRandom, hashString } from './random.js';
import { emptyBatch, type BatchKind, type RecordBatch } from './records.js';
import { RegionSim, type Emit } from './region.js';
import type { Scenario, ScenarioEvent } from './scenario.js';
import { QUEUE_PROFILES } from './contact-centre.js';
import { beijingDate, nextBeijingHour, nextBeijingMidnight, isoBeijing, DAY, HOUR } from './time.js';

/** Arrivals are drawn per slot: short enough that a scenario surge starts within seconds of its time. */
const SLOT_SECONDS = 10;
/** Subscriber counts drift up about 2 % a year from the configured figure (reference 2024-01-01). */
const SUBSCRIBER_GROWTH_PER_DAY = 0.02 / 365;
const SUBSCRIBER_REFERENCE = Date.UTC(2024, 0, 1) / 1000;

export interface ModelOptions {
  config: Pick<SqmConfig, 'regions' | 'ticketDeadlines'>;
  seed: number;
  /** Where the simulation clock starts: epoch seconds or a Date. */
  start: number | Date;
  scenario?: Scenario | undefined;
  /** Simulate only these regions (default: all configured). */
  regions?: readonly string[] | undefined;
  /** Multiplies all contact and ticket volumes (1 = about 200 contacts a day per million subscribers). */
  volume?: number | undefined;
  /** Seconds between queue-state samples (default 5). */
  queueSampleSeconds?: number | undefined;
  /** Random faults besides the scenario's (default true). */
  backgroundFaults?: boolean | undefined;
}

export const toEpochSeconds = (t: number | Date): number => (t instanceof Date ? t.getTime() / 1000 : t);

export class TrafficModel {
  readonly regions: RegionSim[];
  private readonly events: EventQueue;
  private batch: RecordBatch = emptyBatch();
  private sampleSeconds: number;
  private readonly runTag: string;
  private readonly counters = new Map<string, number>();

  constructor(private readonly options: ModelOptions) {
    const start = toEpochSeconds(options.start);
    if (!Number.isFinite(start)) throw new Error('model: start is not a valid time');
    this.events = new EventQueue(start);
    this.sampleSeconds = options.queueSampleSeconds ?? 5;
    // Ids carry the run (seed and start), so a rerun of the same backfill sends the same ids
    // (stored once), while a new run never collides with an earlier one.
    this.runTag = hashString(`${options.seed}:${Math.floor(start)}`).toString(36);
    const wanted = options.regions ? new Set(options.regions) : undefined;
    const root = createRandom(options.seed);
    const volume = options.volume ?? 1;
    this.regions = options.config.regions.flatMap((region, index) => {
      if (wanted && !wanted.has(region.code)) return [];
      return [new RegionSim({
        code: region.code,
        index,
        subscribers: region.subscribers ?? 10_000_000,
        volume,
        deadlines: options.config.ticketDeadlines,
        events: this.events,
        rng: root.fork(`region:${region.code}`),
        emit: this.emit,
        nextId: (letter) => this.nextId(region.code, letter),
      })];
    });
    if (wanted) {
      const unknown = [...wanted].filter((code) => !this.regions.some((r) => r.code === code));
      if (unknown.length > 0) throw new Error(`model: unknown region(s) ${unknown.join(', ')}`);
    }
    this.schedule(start, options.backgroundFaults ?? true);
    if (options.scenario) this.addScenario(options.scenario, start);
  }

  /** The simulation clock (epoch seconds). */
  get time(): number {
    return this.events.now;
  }

  get queueSampleSeconds(): number {
    return this.sampleSeconds;
  }

  set queueSampleSeconds(seconds: number) {
    if (!(seconds >= 1)) throw new Error('model: queueSampleSeconds must be at least 1');
    if (seconds === this.sampleSeconds) return;
    this.sampleSeconds = seconds;
    // Start the new cadence at once (the sampler scheduled for the old one retires itself).
    this.startSampling(this.events.now);
  }

  region(code: string): RegionSim | undefined {
    return this.regions.find((r) => r.code === code);
  }

  /** Run to `t` and hand over every record completed by then. */
  advanceTo(t: number | Date): RecordBatch {
    const target = toEpochSeconds(t);
    if (target > this.events.now) this.events.runUntil(target);
    const out = this.batch;
    this.batch = emptyBatch();
    return out;
  }

  /** The roster for one Beijing day: agents per queue for each hour 00–23 (before scenario factors). */
  staffingPlan(code: string, day: number | Date): Record<string, number[]> {
    const region = this.region(code);
    if (!region) throw new Error(`model: region ${code} is not simulated`);
    const midnight = nextBeijingMidnight(toEpochSeconds(day)) - DAY;
    return Object.fromEntries(QUEUE_PROFILES.map((p) => [p.name, Array.from({ length: 24 }, (_, h) => region.plannedAgents(p, midnight + h * HOUR))]));
  }

  /** Play a scenario from `start` (repeating every `repeatEvery` if set). */
  addScenario(scenario: Scenario, start: number | Date = this.time): void {
    const from = toEpochSeconds(start);
    const cycle = (k: number): void => {
      const base = from + k * (scenario.repeatEvery ?? 0);
      for (const event of scenario.events) this.events.at(base + event.at, () => this.apply(event));
      if (scenario.repeatEvery !== undefined) this.events.at(base + scenario.repeatEvery, () => cycle(k + 1));
    };
    cycle(0);
  }

  private apply(event: ScenarioEvent): void {
    const region = this.region(event.region);
    if (!region) return; // a region this run does not simulate
    const t = this.events.now;
    switch (event.kind) {
      case 'fault':
        region.startFault(event);
        break;
      case 'surge':
        region.addSurge(t, t + event.duration, event.queue, event.callMultiplier, event.ticketMultiplier ?? 1);
        break;
      case 'staffing':
        region.addStaffing(t, t + event.duration, event.queue, event.factor);
        break;
    }
  }

  private readonly emit = ((kind: BatchKind, record: never, at: number): void => {
    if (at <= this.events.now) (this.batch[kind] as unknown[]).push(record);
    else this.events.at(at, () => (this.batch[kind] as unknown[]).push(record));
  }) as Emit;

  private nextId(region: string, letter: string): string {
    const key = `${region}${letter}`;
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return `${region}-${letter}${this.runTag}-${n.toString(36)}`;
  }

  private schedule(start: number, backgroundFaults: boolean): void {
    const ev = this.events;
    // Arrivals, slot by slot; the first slot runs to the next boundary.
    const slot = (from: number): void => {
      const to = (Math.floor(from / SLOT_SECONDS) + 1) * SLOT_SECONDS;
      for (const region of this.regions) region.arrivals(from, to - from);
      ev.at(to, () => slot(to));
    };
    // Rosters change on the hour; background faults are drawn an hour at a time.
    const hourly = (from: number): void => {
      const to = nextBeijingHour(from);
      for (const region of this.regions) {
        region.restaff();
        if (backgroundFaults) region.backgroundFaults(from, to - from);
      }
      ev.at(to, () => hourly(to));
    };
    const subscribers = (): void => {
      const days = (ev.now - SUBSCRIBER_REFERENCE) / DAY;
      const asOf = beijingDate(ev.now);
      for (const region of this.regions) {
        const base = this.options.config.regions.find((r) => r.code === region.code)?.subscribers ?? 10_000_000;
        this.batch.subscribers.push({ region: region.code, asOf, subscribers: Math.round(base * (1 + SUBSCRIBER_GROWTH_PER_DAY * days)) });
      }
      ev.at(nextBeijingMidnight(ev.now), subscribers);
    };
    ev.at(start, () => hourly(start));
    ev.at(start, () => slot(start));
    ev.at(start, subscribers);
    this.startSampling(start);
  }

  private samplerGeneration = 0;

  /** Queue-state samples on multiples of the sample interval, from `from` on. */
  private startSampling(from: number): void {
    const ev = this.events;
    const generation = ++this.samplerGeneration;
    const sample = (): void => {
      if (generation !== this.samplerGeneration) return;
      const at = isoBeijing(ev.now);
      for (const region of this.regions) {
        for (const state of region.queueStates()) this.batch.queues.push({ region: region.code, at, ...state });
      }
      ev.at((Math.floor(ev.now / this.sampleSeconds) + 1) * this.sampleSeconds, sample);
    };
    // Strictly after `from` when switching, so no instant is sampled twice.
    const first = Math.ceil(from / this.sampleSeconds) * this.sampleSeconds;
    ev.at(generation > 1 && first <= from ? first + this.sampleSeconds : first, sample);
  }
}

export function createModel(options: ModelOptions): TrafficModel {
  return new TrafficModel(options);
}
