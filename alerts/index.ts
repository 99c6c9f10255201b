/** The alert engine. See alerts/README.md. */
export * from './types.js';
export { AlertEventBus } from './bus.js';
export {
  createAlertEngine, instanceId, AlertRequestError,
  type AlertEngine, type AlertEngineDeps, type AlertMetrics, type RuleHealth, type RuleView, type EvaluationReport, type ImportReport,
} from './engine.js';
export { createAlertStore, type AlertStore, type HistoryRow, type InstanceQuery } from './alert-store.js';
export { createRecordingNotifier, createLoggingNotifier, type RecordingNotifier } from './recording-notifier.js';
export { validateRule, validateRules, type Rule, type RuleDefinition } from './rules/index.js';
export { silenceState, type Silence, type SilenceState } from './silences.js';
export type { HistoryEntry, InstanceRecord } from './state-machine.js';
