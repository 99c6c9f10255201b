/**
 * Stand-in notifiers for when the notification pipeline (alerts/notify/) is
 * not wired: one that only logs, and one that keeps every event (tests, the
 * bench). Both implement the same AlertNotifier contract as the pipeline.
 */
import type { Logger } from '../server/logger.js';
import type { AlertEvent, AlertNotifier } from './types.js';

export interface RecordingNotifier extends AlertNotifier {
  readonly events: AlertEvent[];
  clear(): void;
}

export function createRecordingNotifier(onEvent?: (event: AlertEvent) => void): RecordingNotifier {
  const events: AlertEvent[] = [];
  return {
    events,
    notify(event) {
      events.push(event);
      onEvent?.(event);
    },
    clear() {
      events.length = 0;
    },
  };
}

export function createLoggingNotifier(logger: Logger): AlertNotifier {
  const log = logger.child({ module: 'alerts' });
  return {
    notify(event) {
      log.info({ type: event.type, instance: event.instance.id, rule: event.instance.ruleId, labels: event.instance.labels,
        severity: event.instance.severity, silencedBy: event.instance.silencedBy }, 'alert event (no notification pipeline wired)');
    },
  };
}
