/**
 * Admin page logic: a rule's per-region overrides as editable table rows and
 * back, with the numbers checked before anything is sent; generic record
 * lists shown as tables.
 */
import type { KpiRule } from './types.js';

export const ADMIN_PAGES = ['rules', 'receivers', 'policies', 'silences', 'users', 'tokens'] as const;
export type AdminPage = (typeof ADMIN_PAGES)[number];

export interface OverrideRow {
  region: string;
  warning: string;
  critical: string;
}

export function overrideRows(rule: KpiRule): OverrideRow[] {
  return Object.entries(rule.overrides ?? {}).map(([region, o]) => ({
    region,
    warning: o.thresholds?.warning === undefined ? '' : String(o.thresholds.warning),
    critical: o.thresholds?.critical === undefined ? '' : String(o.thresholds.critical),
  }));
}

export interface RuleEdit {
  warning: string;
  critical: string;
  when: 'below' | 'above';
  overrides: OverrideRow[];
}

/** A threshold field: empty = not set; otherwise a finite number, or an error naming the field. */
function threshold(text: string, field: string, errors: string[]): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) {
    errors.push(field);
    return undefined;
  }
  return value;
}

/**
 * The rule with the edited thresholds and overrides, or the fields that are
 * not numbers. A region listed twice keeps its last row; rows without a region are dropped.
 */
export function applyRuleEdit(rule: KpiRule, edit: RuleEdit): { rule: KpiRule; errors: string[] } {
  const errors: string[] = [];
  const thresholds: KpiRule['thresholds'] = {};
  const warning = threshold(edit.warning, 'thresholds.warning', errors);
  const critical = threshold(edit.critical, 'thresholds.critical', errors);
  if (warning !== undefined) thresholds.warning = warning;
  if (critical !== undefined) thresholds.critical = critical;
  const overrides: NonNullable<KpiRule['overrides']> = {};
  for (const row of edit.overrides) {
    const region = row.region.trim().toUpperCase();
    if (!region) continue;
    const t: { warning?: number; critical?: number } = {};
    const w = threshold(row.warning, `overrides.${region}.warning`, errors);
    const c = threshold(row.critical, `overrides.${region}.critical`, errors);
    if (w !== undefined) t.warning = w;
    if (c !== undefined) t.critical = c;
    overrides[region] = { ...(rule.overrides?.[region] ?? {}), thresholds: t };
  }
  return { rule: { ...rule, when: edit.when, thresholds, overrides }, errors };
}

/** Columns for a list of records: the union of their keys, in first-seen order, secrets left out. */
export function recordColumns(records: readonly Record<string, unknown>[]): string[] {
  const columns: string[] = [];
  for (const record of records) for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  return columns.filter((c) => !/secret|password|hash|digest|sha256|^token$/i.test(c));
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
