/**
 * The notification dispatcher: the engine's AlertNotifier. It turns alert
 * events into notices, the way Alertmanager does (ALERTING.md
 * "Notifications"), and walks escalation policies ("Acknowledge, silence,
 * escalate").
 *
 * - The dashboard is always on: every event of an instance that is not
 *   silenced is published on the alert bus at once, ungrouped.
 * - People are reached through the instance's policy (`route`). Each step of
 *   the policy is taken `after` the instance started firing, while it still
 *   fires, is not silenced and is not acknowledged; a step adds the instance
 *   to one group per receiver (receivers scoped to regions only get their
 *   regions' alerts).
 * - A group (policy × receiver × group labels) waits `groupWait` before its
 *   first notice, then sends at most once per `groupInterval` while it
 *   changes, and repeats an unchanged firing group every `repeatInterval`.
 *   An alert that resolves before anyone was told is never sent; one that
 *   was told gets a resolve notice.
 * - Silenced instances notify nobody (the bus included); each such event is
 *   logged as `suppressed`; the dashboard still shows them, marked silenced.
 * - Every attempt is logged. A failed send is retried with exponential
 *   back-off up to `retry.attempts`; every send is isolated and bounded by
 *   `retry.timeout`, so one channel that hangs or fails never holds up another.
 *
 * Time comes from `now` and `tick(now)`: tests drive the clock and never sleep;
 * `start()` ticks every second for real.
 */
import { randomUUID } from 'node:crypto';
import type { SqmConfig } from '../../config/index.js';
import { parseDuration, type ReceiverConfig } from '../../config/notifications.js';
import type { Logger } from '../../server/logger.js';
import type { AlertEventBus } from '../bus.js';
import { createDashboardChannel } from '../notifiers/dashboard.js';
import { createChannel } from '../notifiers/index.js';
import { ChannelError, type Channel, type Notification } from '../notifiers/types.js';
import type { AlertEvent, AlertInstance, AlertInstanceView, AlertNotifier, Severity } from '../types.js';
import { resolvePolicy, type Definitions, type ResolvedPolicy } from './definitions.js';
import type { LogEntry, LogStatus, NotificationLogSink } from './log.js';
import { compareAlerts, groupKeyOf, groupLabelsOf, noticeContext, toNotificationAlert, type NoticeContext } from './notice.js';
import type { StateStore } from './state.js';

/** Where receivers and policies come from (NotificationDefinitions, or a fixed set in tests). */
export interface DefinitionProvider {
  fromConfig(): Definitions;
  load(): Promise<Definitions>;
  /** Changes when definitions were written in this process (definitionsGeneration). */
  generation?(): number;
}

export interface DispatcherOptions {
  config: SqmConfig;
  definitions: DefinitionProvider;
  alertBus: AlertEventBus;
  log: NotificationLogSink;
  state?: StateStore;
  logger: Logger;
  now?: () => Date;
  /** The engine's instances; without it, the last event's copy of an instance is used. */
  instances?: AlertInstanceView;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Make a channel for a receiver (tests inject failing or recording channels). */
  createChannel?: (receiver: ReceiverConfig) => Channel;
  /** Counters (server/metrics.ts): every delivered notice, and every failed attempt (retried or final). */
  metrics?: NotificationMetrics;
  /** Called for every log entry. */
  onLog?: (entry: LogEntry) => void;
  /** How often to re-read definitions written by other processes (default 60 s). */
  refreshMs?: number;
}

/** What the dispatcher reports to /metrics (the shape of server/metrics.ts's counters). */
export interface NotificationMetrics {
  notificationSent(channel: string): void;
  notificationFailed(channel: string): void;
}

/** One alert as one group remembers it. */
interface TrackedAlert {
  instance: AlertInstance;
  status: 'firing' | 'resolved';
  resolvedAt: string | null;
  /** What this receiver was last told (successfully, or finally given up on), or null. */
  notified: { status: 'firing' | 'resolved'; severity: Severity | null } | null;
  /** A silenced-at-flush exclusion was logged already. */
  silencedLogged?: boolean;
}

interface PendingDelivery {
  notification: Notification;
  /** The attempt number of the next try. */
  attempt: number;
  nextAttemptAtMs: number;
}

interface GroupState {
  key: string;
  policy: string;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  createdAtMs: number;
  nextFlushAtMs: number;
  lastSentAtMs: number | null;
  alerts: Record<string, TrackedAlert>;
  pending: PendingDelivery | null;
}

interface EscalationState {
  key: string;
  policy: string;
  instanceId: string;
  /** When the instance started firing (ms): steps count from here. */
  startMs: number;
  nextStep: number;
  instance: AlertInstance;
}

export interface GroupSnapshot {
  policy: string;
  receiver: string;
  groupKey: string;
  alerts: { instanceId: string; status: 'firing' | 'resolved'; notified: boolean }[];
  nextFlushAt: string;
  lastSentAt: string | null;
  retryDueAt: string | null;
}

export interface RetrySettings {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export function retrySettings(config: SqmConfig): RetrySettings {
  const retry = config.notifications?.retry ?? {};
  return {
    attempts: retry.attempts ?? 5,
    initialDelayMs: parseDuration(retry.initialDelay ?? '10s'),
    maxDelayMs: parseDuration(retry.maxDelay ?? '5m'),
    timeoutMs: parseDuration(retry.timeout ?? '10s'),
  };
}

/** Delay before attempt `attempt + 1` after attempt `attempt` failed: initial × 2^(attempt−1), capped. */
export function backoffMs(attempt: number, settings: RetrySettings): number {
  return Math.min(settings.initialDelayMs * 2 ** (attempt - 1), settings.maxDelayMs);
}

function isSilenced(instance: AlertInstance): boolean {
  return instance.silencedBy.length > 0;
}

function timeMs(iso: string | null | undefined, fallback: number): number {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms : fallback;
}

export class NotificationDispatcher implements AlertNotifier {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly retry: RetrySettings;
  private readonly context: NoticeContext;
  private readonly dashboard: Channel;
  private readonly refreshMs: number;
  private instances: AlertInstanceView | undefined;

  private definitions: Definitions;
  private policies = new Map<string, ResolvedPolicy>();
  private loadedGeneration = -1;
  private loadedAtMs = Number.NEGATIVE_INFINITY;

  private readonly groups = new Map<string, GroupState>();
  private readonly escalations = new Map<string, EscalationState>();
  private readonly channels = new Map<string, { fingerprint: string; channel: Channel }>();
  private readonly inFlight = new Set<string>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly dirty = new Set<string>();
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastSeq = 0;
  private readonly pendingLog: LogEntry[] = [];
  private logScheduled = false;
  private persistScheduled = false;

  constructor(private readonly options: DispatcherOptions) {
    this.logger = options.logger.child({ module: 'notify' });
    this.now = options.now ?? (() => new Date());
    this.retry = retrySettings(options.config);
    this.context = noticeContext(options.config);
    this.dashboard = createDashboardChannel(options.alertBus);
    this.refreshMs = options.refreshMs ?? 60_000;
    this.instances = options.instances;
    this.definitions = options.definitions.fromConfig();
    this.indexPolicies();
  }

  /** The engine's instance view (the engine may be built after the dispatcher). */
  setInstanceView(view: AlertInstanceView): void {
    this.instances = view;
  }

  /** Load definitions and saved state, then tick every `intervalMs` (0: never, tests tick by hand). */
  async start(options: { intervalMs?: number } = {}): Promise<void> {
    await this.reload();
    await this.restore();
    const intervalMs = options.intervalMs ?? 1000;
    if (intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => {
        // A slow tick (a store that lags) is not stacked under the next one.
        if (this.ticking) return;
        this.ticking = true;
        this.advance(this.now())
          .catch((error: unknown) => this.logger.error({ err: error }, 'notification tick failed'))
          .finally(() => {
            this.ticking = false;
          });
      }, intervalMs);
      this.timer.unref();
    }
  }

  /** Stop ticking, wait for sends and writes in progress, release channels. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
    for (const { channel } of this.channels.values()) channel.close?.();
    this.channels.clear();
  }

  /** Re-read receivers and policies. A store error keeps the ones already loaded. */
  async reload(nowMs: number = this.now().getTime()): Promise<void> {
    try {
      const generation = this.options.definitions.generation?.() ?? 0;
      this.definitions = await this.options.definitions.load();
      this.indexPolicies();
      this.loadedGeneration = generation;
      this.loadedAtMs = nowMs;
    } catch (error) {
      this.logger.error({ err: error }, 'cannot load notification receivers and policies; keeping the previous ones');
    }
  }

  /** Load groups and escalations saved by a previous run (or by the process this one took over from). */
  async restore(): Promise<void> {
    if (!this.options.state) return;
    const saved = await this.options.state.loadAll();
    for (const [key, value] of saved) {
      if (key.startsWith('group:')) this.groups.set(key, value as GroupState);
      else if (key.startsWith('esc:')) this.escalations.set(key, value as EscalationState);
    }
    this.logger.info({ groups: this.groups.size, escalations: this.escalations.size }, 'notification state restored');
  }

  private indexPolicies(): void {
    const policies = new Map<string, ResolvedPolicy>();
    for (const [id, entry] of this.definitions.policies) {
      try {
        policies.set(id, resolvePolicy(entry.definition));
      } catch (error) {
        this.logger.error({ err: error, policy: id }, 'policy cannot be used');
      }
    }
    this.policies = policies;
  }

  // ---------------------------------------------------------------- events

  notify(event: AlertEvent): void {
    try {
      this.handle(event);
    } catch (error) {
      // The engine must never fail because a notice could not be prepared.
      this.logger.error({ err: error, instance: event.instance.id }, 'notification event not handled');
    }
    this.persist();
  }

  private handle(event: AlertEvent): void {
    const instance = event.instance;
    const nowMs = this.now().getTime();
    if (isSilenced(instance)) {
      this.logger.info({ instance: instance.id, silencedBy: instance.silencedBy, type: event.type }, 'alert silenced: nobody notified');
      this.writeLog([this.entry({
        atMs: nowMs, noticeId: '', policy: instance.route, groupKey: '', receiver: '', channel: '', kind: event.type,
        instances: [instance], status: 'suppressed', reason: `silenced by ${instance.silencedBy.join(', ')}`,
      })]);
    }
    // Silenced instances are still shown, marked silenced (ALERTING.md): the wallboard gets every
    // event with its `silencedBy`; only people are spared.
    this.publishLive(event, nowMs);

    const policy = this.policies.get(instance.route);
    if (!policy) {
      if (!isSilenced(instance)) {
        this.logger.warn({ instance: instance.id, route: instance.route }, 'no notification policy of this name: only the dashboard was told');
        this.writeLog([this.entry({
          atMs: nowMs, noticeId: '', policy: instance.route, groupKey: '', receiver: '', channel: '', kind: event.type,
          instances: [instance], status: 'suppressed', reason: `no notification policy named "${instance.route}"`,
        })]);
      }
      return;
    }
    const escKey = `esc:${policy.id}|${instance.id}`;
    if (event.type === 'resolved') {
      this.deleteKey(this.escalations, escKey);
      for (const group of this.groupsHolding(instance.id)) {
        const tracked = group.alerts[instance.id] as TrackedAlert;
        if (isSilenced(instance)) {
          // A silenced instance's resolution is not told either; forget it.
          delete group.alerts[instance.id];
        } else {
          tracked.instance = instance;
          tracked.status = 'resolved';
          tracked.resolvedAt = event.at;
        }
        this.dirty.add(group.key);
      }
      return;
    }
    // firing or update
    if (instance.state !== 'firing' && event.type === 'update') {
      this.refreshTracked(instance);
      return;
    }
    let escalation = this.escalations.get(escKey);
    const tracked = this.groupsHolding(instance.id);
    if (!escalation && (event.type === 'firing' || tracked.length === 0)) {
      escalation = {
        key: escKey,
        policy: policy.id,
        instanceId: instance.id,
        startMs: timeMs(instance.firingSince, timeMs(event.at, nowMs)),
        nextStep: 0,
        instance,
      };
      this.escalations.set(escKey, escalation);
    }
    if (escalation) {
      escalation.instance = instance;
      this.dirty.add(escKey);
    }
    this.refreshTracked(instance);
    if (escalation) this.advanceEscalation(escalation, nowMs);
  }

  /** Newest copy of a firing instance into every group holding it (severity changes become updates). */
  private refreshTracked(instance: AlertInstance): void {
    for (const group of this.groupsHolding(instance.id)) {
      const tracked = group.alerts[instance.id] as TrackedAlert;
      if (tracked.status === 'firing' || instance.state === 'firing') {
        tracked.instance = instance;
        if (instance.state === 'firing') {
          tracked.status = 'firing';
          tracked.resolvedAt = null;
        }
        this.dirty.add(group.key);
      }
    }
  }

  private groupsHolding(instanceId: string): GroupState[] {
    return [...this.groups.values()].filter((g) => g.alerts[instanceId] !== undefined);
  }

  private publishLive(event: AlertEvent, nowMs: number): void {
    const status: 'firing' | 'resolved' = event.type === 'resolved' ? 'resolved' : 'firing';
    const notification: Notification = {
      id: randomUUID(),
      kind: event.type,
      status,
      policy: event.instance.route,
      receiver: 'dashboard',
      channel: 'dashboard',
      language: 'both',
      groupKey: '',
      groupLabels: {},
      alerts: [toNotificationAlert(event.instance, { event: event.type, status, previousSeverity: null, endsAt: status === 'resolved' ? event.at : null }, this.context)],
      createdAt: event.at,
      validUntil: event.at,
      timezone: this.options.config.timezone,
    };
    // Publishing on the in-process bus is synchronous and cannot fail for the sender.
    void this.dashboard.send(notification, new AbortController().signal);
    this.writeLog([this.entry({
      atMs: nowMs, noticeId: notification.id, policy: event.instance.route, groupKey: '', receiver: 'dashboard', channel: 'dashboard',
      kind: event.type, instances: [event.instance], status: 'sent', attempt: 1, maxAttempts: 1,
    })]);
  }

  // ---------------------------------------------------------------- escalation

  /** The engine's current copy; the last event's when the engine does not know it (yet). */
  private currentInstance(escalation: EscalationState): AlertInstance {
    return this.instances?.get(escalation.instanceId) ?? escalation.instance;
  }

  /** Take every step that is due, unless the instance stopped firing, is silenced (wait) or acknowledged (stop). */
  private advanceEscalation(escalation: EscalationState, nowMs: number): void {
    const policy = this.policies.get(escalation.policy);
    if (!policy) {
      this.deleteKey(this.escalations, escalation.key);
      return;
    }
    while (escalation.nextStep < policy.steps.length) {
      const step = policy.steps[escalation.nextStep] as ResolvedPolicy['steps'][number];
      if (nowMs < escalation.startMs + step.afterMs) return;
      const instance = this.currentInstance(escalation);
      if (instance.state !== 'firing') {
        this.deleteKey(this.escalations, escalation.key);
        return;
      }
      escalation.instance = instance;
      if (isSilenced(instance)) return; // held: the step is taken if the silence ends first
      if (instance.acknowledged) {
        this.logger.info({ instance: instance.id, by: instance.acknowledged.by, step: escalation.nextStep }, 'escalation stopped: acknowledged');
        this.writeLog([this.entry({
          atMs: nowMs, noticeId: '', policy: policy.id, groupKey: '', receiver: step.receivers.join(','), channel: '',
          kind: 'escalation', instances: [instance], status: 'suppressed',
          reason: `escalation step ${escalation.nextStep + 1} not taken: acknowledged by ${instance.acknowledged.by}`,
        })]);
        this.deleteKey(this.escalations, escalation.key);
        return;
      }
      for (const receiverId of step.receivers) this.addToGroup(policy, receiverId, instance, nowMs);
      escalation.nextStep++;
      this.dirty.add(escalation.key);
    }
    this.deleteKey(this.escalations, escalation.key);
  }

  private addToGroup(policy: ResolvedPolicy, receiverId: string, instance: AlertInstance, nowMs: number): void {
    const receiver = this.definitions.receivers.get(receiverId)?.definition;
    if (!receiver) {
      this.logger.warn({ policy: policy.id, receiver: receiverId }, 'policy names an unknown receiver');
      return;
    }
    // The dashboard already has every event, live.
    if (receiver.channel === 'dashboard') return;
    if (receiver.regions && !receiver.regions.includes(instance.labels.region ?? '')) return;
    const groupLabels = groupLabelsOf(instance, policy.groupBy);
    const groupKey = groupKeyOf(groupLabels);
    const key = `group:${policy.id}|${receiver.id}|${groupKey}`;
    let group = this.groups.get(key);
    if (!group) {
      group = {
        key, policy: policy.id, receiver: receiver.id, groupKey, groupLabels,
        createdAtMs: nowMs, nextFlushAtMs: nowMs + policy.groupWaitMs, lastSentAtMs: null, alerts: {}, pending: null,
      };
      this.groups.set(key, group);
    }
    const existing = group.alerts[instance.id];
    group.alerts[instance.id] = { instance, status: 'firing', resolvedAt: null, notified: existing?.notified ?? null };
    this.dirty.add(key);
  }

  // ---------------------------------------------------------------- ticking

  /** Advance to `now`: take due escalation steps, flush due groups, retry due sends; resolves when those sends are done. */
  async tick(now: Date = this.now()): Promise<void> {
    const launched = await this.advance(now);
    await Promise.allSettled(launched);
    await this.idle();
  }

  /** Wait for every send and store write in progress. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
    this.persist();
    // Writes queued while waiting join the chain; wait until it stops growing.
    let last: Promise<void>;
    do {
      last = this.writes;
      await last;
    } while (last !== this.writes);
  }

  private async advance(now: Date): Promise<Promise<void>[]> {
    const nowMs = now.getTime();
    const generation = this.options.definitions.generation?.() ?? 0;
    if (generation !== this.loadedGeneration || nowMs - this.loadedAtMs >= this.refreshMs) await this.reload(nowMs);
    for (const escalation of [...this.escalations.values()]) this.advanceEscalation(escalation, nowMs);
    const launched: Promise<void>[] = [];
    for (const group of [...this.groups.values()]) {
      if (this.inFlight.has(group.key)) continue;
      if (nowMs >= group.nextFlushAtMs) {
        const delivery = this.flush(group, nowMs);
        if (delivery) {
          launched.push(delivery);
          continue;
        }
      }
      const pending = this.groups.get(group.key)?.pending;
      if (pending && nowMs >= pending.nextAttemptAtMs) {
        launched.push(this.track(this.deliver(group, pending.notification, pending.attempt, nowMs)));
      }
    }
    this.persist();
    return launched;
  }

  private track(delivery: Promise<void>): Promise<void> {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
    return delivery;
  }

  /** Decide whether the group has something to say now; if so, start sending it. */
  private flush(group: GroupState, nowMs: number): Promise<void> | undefined {
    const policy = this.policies.get(group.policy);
    const receiver = this.definitions.receivers.get(group.receiver)?.definition;
    if (!policy || !receiver) {
      this.logger.warn({ policy: group.policy, receiver: group.receiver }, 'policy or receiver removed: its pending notices are dropped');
      this.deleteKey(this.groups, group.key);
      return undefined;
    }
    group.nextFlushAtMs = nowMs + policy.groupIntervalMs;
    this.dirty.add(group.key);

    const include: TrackedAlert[] = [];
    const silencedNow: AlertInstance[] = [];
    for (const [id, tracked] of Object.entries(group.alerts)) {
      const current = this.instances?.get(id);
      // Take the engine's newest numbers (value, acknowledgement) for alerts that still fire.
      if (tracked.status === 'firing' && current && current.state === 'firing') tracked.instance = current;
      const silenced = isSilenced(current ?? tracked.instance);
      if (silenced) {
        if (tracked.status === 'resolved') delete group.alerts[id];
        else if (!tracked.silencedLogged) {
          tracked.silencedLogged = true;
          silencedNow.push(tracked.instance);
        }
        continue;
      }
      tracked.silencedLogged = false;
      if (tracked.status === 'firing') include.push(tracked);
      else if (tracked.notified?.status === 'firing') include.push(tracked);
      // Resolved before this receiver was told it fired: never sent.
      else delete group.alerts[id];
    }
    if (silencedNow.length > 0) {
      this.writeLog([this.entry({
        atMs: nowMs, noticeId: '', policy: group.policy, groupKey: group.groupKey, receiver: group.receiver, channel: receiver.channel,
        kind: 'firing', instances: silencedNow, status: 'suppressed',
        reason: `silenced by ${[...new Set(silencedNow.flatMap((i) => i.silencedBy))].join(', ')}`,
      })]);
    }

    const firing = include.filter((t) => t.status === 'firing');
    const newlyFiring = firing.some((t) => t.notified?.status !== 'firing');
    const severityChanged = firing.some((t) => t.notified?.status === 'firing' && t.notified.severity !== t.instance.severity);
    const resolved = include.length - firing.length;
    const changed = newlyFiring || severityChanged || resolved > 0;
    const repeatDue = firing.length > 0 && group.lastSentAtMs !== null && nowMs - group.lastSentAtMs >= policy.repeatIntervalMs;
    if (!changed && !repeatDue) {
      if (group.pending && this.isStale(group, group.pending.notification)) {
        // A retry still due would now say something untrue (an alert fired that has since resolved, unseen).
        this.writeLog([this.entryFor(group.pending.notification, {
          atMs: nowMs, status: 'superseded', attempt: group.pending.attempt - 1, reason: 'out of date: its alerts changed before it could be delivered',
        })]);
        group.pending = null;
      }
      if (Object.keys(group.alerts).length === 0 && !group.pending) this.deleteKey(this.groups, group.key);
      return undefined;
    }

    const kind: Notification['kind'] = newlyFiring ? 'firing' : firing.length === 0 ? 'resolved' : changed ? 'update' : 'repeat';
    const alerts = include.map((t) => {
      const wasFiring = t.notified?.status === 'firing';
      const status = t.status;
      return toNotificationAlert(t.instance, {
        event: status === 'resolved' ? 'resolved' : wasFiring ? 'update' : 'firing',
        status,
        previousSeverity: status === 'firing' && wasFiring && t.notified?.severity !== t.instance.severity ? (t.notified?.severity ?? null) : null,
        endsAt: status === 'resolved' ? t.resolvedAt : null,
      }, this.context);
    }).sort(compareAlerts);
    const notification: Notification = {
      id: randomUUID(),
      kind,
      status: firing.length > 0 ? 'firing' : 'resolved',
      policy: policy.id,
      receiver: receiver.id,
      channel: receiver.channel,
      language: receiver.language ?? 'both',
      groupKey: group.groupKey,
      groupLabels: group.groupLabels,
      alerts,
      createdAt: new Date(nowMs).toISOString(),
      validUntil: new Date(nowMs + policy.repeatIntervalMs + 2 * policy.groupIntervalMs).toISOString(),
      timezone: this.options.config.timezone,
    };
    if (group.pending) {
      // The new notice says everything the retried one would have, and more.
      this.writeLog([this.entryFor(group.pending.notification, {
        atMs: nowMs, status: 'superseded', attempt: group.pending.attempt - 1, reason: `replaced by notice ${notification.id}`,
      })]);
      group.pending = null;
    }
    return this.track(this.deliver(group, notification, 1, nowMs));
  }

  /** True when a notice no longer matches what the group holds (an alert gone, resolved, or of another severity). */
  private isStale(group: GroupState, notification: Notification): boolean {
    return notification.alerts.some((a) => {
      const tracked = group.alerts[a.instanceId];
      return !tracked || tracked.status !== a.status || (a.status === 'firing' && tracked.instance.severity !== a.severity);
    });
  }

  private channelFor(receiver: ReceiverConfig): Channel {
    const fingerprint = JSON.stringify(receiver);
    const cached = this.channels.get(receiver.id);
    if (cached && cached.fingerprint === fingerprint) return cached.channel;
    cached?.channel.close?.();
    const channel = this.options.createChannel
      ? this.options.createChannel(receiver)
      : createChannel(receiver, {
        fetch: this.options.fetch ?? fetch,
        env: this.options.env ?? process.env,
        logger: this.logger,
        // Robots check signatures against the real time, whatever the dispatcher's clock.
        now: () => new Date(),
        bus: this.options.alertBus,
        timeoutMs: this.retry.timeoutMs,
      });
    this.channels.set(receiver.id, { fingerprint, channel });
    return channel;
  }

  /** One attempt, isolated: its own timeout, its own log row; never throws. */
  private async deliver(group: GroupState, notification: Notification, attempt: number, nowMs: number): Promise<void> {
    this.inFlight.add(group.key);
    const started = performance.now();
    let failure: ChannelError | undefined;
    try {
      const receiver = this.definitions.receivers.get(group.receiver)?.definition;
      if (!receiver) throw new ChannelError(`receiver "${group.receiver}" no longer exists`, true);
      await this.sendWithTimeout(this.channelFor(receiver), notification);
    } catch (error) {
      failure = error instanceof ChannelError ? error : new ChannelError((error as Error)?.message ?? String(error));
    } finally {
      this.inFlight.delete(group.key);
    }
    const durationMs = performance.now() - started;
    const current = this.groups.get(group.key) === group ? group : undefined;
    if (!failure) {
      this.writeLog([this.entryFor(notification, { atMs: nowMs, status: 'sent', attempt, durationMs })]);
      if (current) {
        this.markNotified(current, notification, nowMs);
        current.pending = null;
      }
    } else {
      const final = failure.permanent || attempt >= this.retry.attempts;
      const nextAttemptAtMs = final ? 0 : nowMs + backoffMs(attempt, this.retry);
      this.writeLog([this.entryFor(notification, {
        atMs: nowMs, status: final ? 'failed' : 'retrying', attempt, durationMs, error: failure.message, nextAttemptAtMs,
        ...(failure.permanent ? { reason: 'permanent failure: not retried' } : {}),
      })]);
      this.logger.warn({ receiver: group.receiver, notice: notification.id, attempt, final, err: failure.message }, 'notification not delivered');
      if (current) {
        if (final) {
          // Bounded attempts: this content is given up on; the next change or repeat tries again.
          this.markNotified(current, notification, nowMs);
          current.pending = null;
        } else {
          current.pending = { notification, attempt: attempt + 1, nextAttemptAtMs };
        }
      }
    }
    if (current) {
      if (Object.keys(current.alerts).length === 0 && !current.pending) this.deleteKey(this.groups, current.key);
      else this.dirty.add(current.key);
    }
    this.persist();
  }

  private async sendWithTimeout(channel: Channel, notification: Notification): Promise<void> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ChannelError(`timed out after ${this.retry.timeoutMs} ms`));
      }, this.retry.timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([channel.send(notification, controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private markNotified(group: GroupState, notification: Notification, nowMs: number): void {
    group.lastSentAtMs = nowMs;
    for (const alert of notification.alerts) {
      const tracked = group.alerts[alert.instanceId];
      if (!tracked) continue;
      if (alert.status === 'resolved') {
        if (tracked.status === 'resolved') delete group.alerts[alert.instanceId];
      } else {
        tracked.notified = { status: 'firing', severity: alert.severity };
      }
    }
  }

  // ---------------------------------------------------------------- log and state

  private entry(e: {
    atMs: number; noticeId: string; policy: string; groupKey: string; receiver: string; channel: string; kind: string;
    instances: AlertInstance[]; status: LogStatus; attempt?: number; maxAttempts?: number; error?: string; reason?: string;
    durationMs?: number; nextAttemptAtMs?: number;
  }): LogEntry {
    // Real microseconds, strictly increasing: rows of one logical instant keep the order they were made in.
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return {
      atMs: e.atMs,
      seq: this.lastSeq,
      id: randomUUID(),
      noticeId: e.noticeId,
      policy: e.policy,
      groupKey: e.groupKey,
      receiver: e.receiver,
      channel: e.channel,
      kind: e.kind,
      instanceIds: e.instances.map((i) => i.id),
      rules: [...new Set(e.instances.map((i) => i.ruleId))],
      regions: [...new Set(e.instances.map((i) => i.labels.region).filter((r): r is string => !!r))],
      status: e.status,
      attempt: e.attempt ?? 0,
      maxAttempts: e.maxAttempts ?? 0,
      error: e.error ?? '',
      reason: e.reason ?? '',
      durationMs: e.durationMs ?? 0,
      nextAttemptAtMs: e.nextAttemptAtMs ?? 0,
    };
  }

  private entryFor(n: Notification, e: { atMs: number; status: LogStatus; attempt: number; durationMs?: number; error?: string; reason?: string; nextAttemptAtMs?: number }): LogEntry {
    return this.entry({
      ...e,
      noticeId: n.id, policy: n.policy, groupKey: n.groupKey, receiver: n.receiver, channel: n.channel, kind: n.kind,
      instances: n.alerts.map((a) => a.instance), maxAttempts: this.retry.attempts,
    });
  }

  private writeLog(entries: LogEntry[]): void {
    for (const entry of entries) {
      this.options.onLog?.(entry);
      if (entry.status === 'sent') this.options.metrics?.notificationSent(entry.channel);
      else if (entry.status === 'retrying' || entry.status === 'failed') this.options.metrics?.notificationFailed(entry.channel);
    }
    // Entries made together (31 regions firing in one evaluation) go to the store in one insert.
    this.pendingLog.push(...entries);
    if (this.logScheduled) return;
    this.logScheduled = true;
    this.enqueue(async () => {
      this.logScheduled = false;
      const batch = this.pendingLog.splice(0);
      await this.options.log.write(batch);
    }, 'notification log write failed');
  }

  private deleteKey<T>(map: Map<string, T>, key: string): void {
    if (map.delete(key)) this.dirty.add(key);
  }

  /**
   * Queue one write of every changed group and escalation, after earlier
   * writes. Changes made before the write starts join it, and it saves their
   * newest state.
   */
  private persist(): void {
    const state = this.options.state;
    if (!state || this.dirty.size === 0 || this.persistScheduled) return;
    this.persistScheduled = true;
    this.enqueue(async () => {
      this.persistScheduled = false;
      const changes = new Map<string, unknown | null>();
      for (const key of this.dirty) changes.set(key, structuredClone(this.groups.get(key) ?? this.escalations.get(key) ?? null));
      this.dirty.clear();
      await state.save(changes);
    }, 'notification state write failed');
  }

  private enqueue(write: () => Promise<void>, message: string): void {
    this.writes = this.writes.then(write).catch((error: unknown) => this.logger.error({ err: error }, message));
  }

  /** What each group holds now (tests, diagnostics). */
  snapshot(): GroupSnapshot[] {
    return [...this.groups.values()].map((g) => ({
      policy: g.policy,
      receiver: g.receiver,
      groupKey: g.groupKey,
      alerts: Object.entries(g.alerts).map(([instanceId, t]) => ({ instanceId, status: t.status, notified: t.notified?.status === 'firing' })),
      nextFlushAt: new Date(g.nextFlushAtMs).toISOString(),
      lastSentAt: g.lastSentAtMs === null ? null : new Date(g.lastSentAtMs).toISOString(),
      retryDueAt: g.pending ? new Date(g.pending.nextAttemptAtMs).toISOString() : null,
    }));
  }

  /** Escalations in progress: instance id → next step index. */
  escalationSnapshot(): { policy: string; instanceId: string; nextStep: number }[] {
    return [...this.escalations.values()].map((e) => ({ policy: e.policy, instanceId: e.instanceId, nextStep: e.nextStep }));
  }
}
