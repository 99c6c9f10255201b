/**
 * Checks of the `alerts:` section that its JSON Schema cannot express: every
 * seed rule through the same validation as the API's, calendar zones that
 * exist, maintenance-window matchers that parse. config/load.ts calls this at
 * start-up, so a bad rule stops the process with a message naming the field.
 */
import type { SqmConfig } from '../config/schema.js';
import { checkMaintenanceWindows, isValidTimeZone } from './silences.js';
import { validateRules } from './rules/validate.js';

export function checkAlertsConfig(config: SqmConfig): string[] {
  const section = config.alerts;
  if (!section) return [];
  const problems: string[] = [];
  for (const [name, calendar] of Object.entries(section.calendars ?? {})) {
    if (calendar.timezone !== undefined && !isValidTimeZone(calendar.timezone)) {
      problems.push(`alerts/calendars/${name}/timezone: unknown time zone "${calendar.timezone}"`);
    }
  }
  problems.push(...checkMaintenanceWindows(section.maintenanceWindows ?? []));
  problems.push(...validateRules(section.rules ?? [], config, 'alerts/rules').problems);
  return problems;
}
