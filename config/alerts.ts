/**
 * The `alerts:` section (ALERTING.md): calendars for rules' `activeHours`,
 * maintenance windows (weekly recurring silences) and the seed rules. Rules are
 * only checked to be objects here; alerts/config-check.ts validates each one
 * with the same schema and checks the API and YAML import use, and
 * config/load.ts reports its problems with the rest.
 */
import type { CalendarConfig, Weekday } from '../alerts/calendar.js';
import type { RuleDefinition } from '../alerts/rules/types.js';

export interface MaintenanceWindowConfig {
  id: string;
  /** Label matchers (`region=GD`, `rule=~answer-.*`, `severity!=critical`); all must match. */
  matchers: string[];
  days: Weekday[];
  /** Local `HH:MM`; an end before the start runs past midnight. */
  start: string;
  end: string;
  /** The configuration's `timezone` when absent. */
  timezone?: string;
  reason?: string;
}

export interface AlertsConfig {
  calendars?: Record<string, CalendarConfig>;
  maintenanceWindows?: MaintenanceWindowConfig[];
  /** Seed rules; rules created or edited through the API are kept in the store and win. */
  rules?: RuleDefinition[];
}

const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const HHMM = '^([01]\\d|2[0-3]):[0-5]\\d$';
const HHMM_END = '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$';
const RANGE = '^([01]\\d|2[0-3]):[0-5]\\d-(([01]\\d|2[0-3]):[0-5]\\d|24:00)$';
const DATE = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$';
const NAME = '^[a-z0-9][a-z0-9_-]{0,63}$';
const zone = { type: 'string', minLength: 1, maxLength: 64 };

export const alertsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    calendars: {
      type: 'object',
      maxProperties: 100,
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['hours'],
        properties: {
          timezone: zone,
          hours: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(WEEKDAY_NAMES.map((d) => [d, { type: 'array', maxItems: 24, items: { type: 'string', pattern: RANGE } }])),
          },
          holidays: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: DATE } },
        },
      },
    },
    maintenanceWindows: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'matchers', 'days', 'start', 'end'],
        properties: {
          id: { type: 'string', pattern: NAME },
          matchers: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 3, maxLength: 300 } },
          days: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: WEEKDAY_NAMES } },
          start: { type: 'string', pattern: HHMM },
          end: { type: 'string', pattern: HHMM_END },
          timezone: zone,
          reason: { type: 'string', maxLength: 500 },
        },
      },
    },
    rules: { type: 'array', maxItems: 10_000, items: { type: 'object' } },
  },
} as const;
