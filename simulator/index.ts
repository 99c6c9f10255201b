/**
 * The traffic simulator: a model of a telecom operator's customer service that
 * produces realistic records and sends them through the real ingest API.
 * See simulator/README.md.
 */
export { startSimulator, backfill } from './runner.js';
export type { StartSimulatorOptions, SimulatorHandle, SimulatorStats, BackfillOptions, BackfillProgress, BackfillResult } from './runner.js';
export { createModel, TrafficModel, type ModelOptions } from './model.js';
export { loadScenario, parseScenario, validateScenarioObject, ScenarioError, SCENARIO_DIR } from './scenario.js';
export type { Scenario, ScenarioEvent, FaultEvent, SurgeEvent, StaffingEvent } from './scenario.js';
export { createIngestClient, IngestError } from './ingest-client.js';
export type * from './records.js';
