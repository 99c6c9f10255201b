/**
 * Column mapping for CSV files whose headers are not SQM's field names (real
 * exports never are). Three parts, from flags, query parameters or a YAML file:
 *
 *   columns  header → field         --map "Call Id=id,Date=enteredAt"
 *   fixed    field → constant       --fixed region=GD
 *   values   header → (cell → value) --values "Answered (Y/N):Y=answered,N=abandoned"
 *
 * A header that already is a field name maps to itself. Mistakes (an unknown
 * field, a header the file does not have) are errors naming the culprit,
 * raised before any row is read.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RecordKind } from '../index.js';
import { fieldNames } from './record-fields.js';
import { isValidTimeZone } from './time-zone.js';

export interface CsvMapping {
  columns: Record<string, string>;
  fixed: Record<string, string>;
  values: Record<string, Record<string, string>>;
  timezone?: string;
  delimiter?: string;
  kind?: string;
}

export class MappingError extends Error {
  override name = 'MappingError';
}

export function emptyMapping(): CsvMapping {
  return { columns: {}, fixed: {}, values: {} };
}

function splitList(spec: string): string[] {
  return spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** `--map "Call Id=id,Date=enteredAt"`: the last `=` splits, since field names never contain one. */
export function parseMapSpec(spec: string, into: Record<string, string> = {}): Record<string, string> {
  for (const pair of splitList(spec)) {
    const eq = pair.lastIndexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new MappingError(`--map: "${pair}" is not "Header=field"`);
    into[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return into;
}

/** `--fixed region=GD,channel=voice`: the first `=` splits, since the value may contain one. */
export function parseFixedSpec(spec: string, into: Record<string, string> = {}): Record<string, string> {
  for (const pair of splitList(spec)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new MappingError(`--fixed: "${pair}" is not "field=value"`);
    into[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return into;
}

/**
 * `--values "Answered (Y/N):Y=answered,N=abandoned"`; several columns are
 * separated by `;`. The header ends at the first `:` (cell values such as
 * `10:00` may contain one; a header with a `:` needs the mapping file).
 */
export function parseValuesSpec(spec: string, into: Record<string, Record<string, string>> = {}): Record<string, Record<string, string>> {
  for (const part of spec.split(';').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw new MappingError(`--values: "${part}" is not "Header:from=to,from=to"`);
    const header = part.slice(0, colon).trim();
    const map = (into[header] ??= {});
    for (const pair of splitList(part.slice(colon + 1))) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw new MappingError(`--values: "${pair}" in "${header}" is not "from=to"`);
      map[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
  }
  return into;
}

const MAPPING_KEYS = ['kind', 'columns', 'fixed', 'values', 'timezone', 'delimiter'];

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MappingError(`${where}: must be a map of name: value`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const text = scalar(v);
    if (text === undefined) throw new MappingError(`${where}."${k}": must be a single value (text or number), got ${Array.isArray(v) ? 'a list' : typeof v}`);
    out[k] = text;
  }
  return out;
}

/** Check a parsed YAML mapping document; every error names the key at fault. */
export function validateMappingObject(raw: unknown, source: string): CsvMapping {
  if (raw === null || raw === undefined) return emptyMapping();
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new MappingError(`${source}: must be a map with keys ${MAPPING_KEYS.join(', ')}`);
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!MAPPING_KEYS.includes(key)) throw new MappingError(`${source}: unknown key "${key}" (expected ${MAPPING_KEYS.join(', ')})`);
  }
  const mapping = emptyMapping();
  mapping.columns = stringMap(doc.columns, `${source}: columns`);
  mapping.fixed = stringMap(doc.fixed, `${source}: fixed`);
  if (doc.values !== undefined && doc.values !== null) {
    if (typeof doc.values !== 'object' || Array.isArray(doc.values)) throw new MappingError(`${source}: values: must be a map of header: {from: to}`);
    for (const [header, map] of Object.entries(doc.values)) mapping.values[header] = stringMap(map, `${source}: values."${header}"`);
  }
  for (const key of ['timezone', 'delimiter', 'kind'] as const) {
    if (doc[key] === undefined || doc[key] === null) continue;
    if (typeof doc[key] !== 'string') throw new MappingError(`${source}: ${key}: must be text`);
    mapping[key] = doc[key];
  }
  return mapping;
}

export function loadMappingFile(path: string): CsvMapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MappingError(`mapping file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new MappingError(`mapping file ${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return validateMappingObject(raw, `mapping file ${path}`);
}

/** Later mappings win key by key (flags over a mapping file). */
export function mergeMappings(...parts: CsvMapping[]): CsvMapping {
  const out = emptyMapping();
  for (const p of parts) {
    Object.assign(out.columns, p.columns);
    Object.assign(out.fixed, p.fixed);
    for (const [h, m] of Object.entries(p.values)) out.values[h] = { ...(out.values[h] ?? {}), ...m };
    if (p.timezone !== undefined) out.timezone = p.timezone;
    if (p.delimiter !== undefined) out.delimiter = p.delimiter;
    if (p.kind !== undefined) out.kind = p.kind;
  }
  return out;
}

/** What to do with each column of a file, worked out once from its header. */
export interface CsvPlan {
  /** Per column: the field it fills and its value map, or null when the column is not used. */
  columns: ({ field: string; values?: Map<string, string> } | null)[];
  fixed: [field: string, value: string][];
  ignoredColumns: string[];
}

export function resolvePlan(kind: RecordKind, header: readonly string[], mapping: CsvMapping): CsvPlan {
  const fields = fieldNames(kind);
  const known = new Set(fields);
  const fieldList = fields.join(', ');
  if (mapping.timezone !== undefined && !isValidTimeZone(mapping.timezone)) throw new MappingError(`timezone: unknown time zone "${mapping.timezone}"`);
  if (mapping.delimiter !== undefined && mapping.delimiter.length !== 1) throw new MappingError(`delimiter: must be one character, got "${mapping.delimiter}"`);

  const positions = new Map<string, number>();
  header.forEach((h, i) => {
    if (positions.has(h)) throw new MappingError(`line 1: the header names the column "${h}" twice`);
    positions.set(h, i);
  });
  for (const [h, field] of Object.entries(mapping.columns)) {
    if (!positions.has(h)) throw new MappingError(`map: the file has no column "${h}" (its columns: ${header.join(', ')})`);
    if (!known.has(field)) throw new MappingError(`map: "${h}=${field}": ${kind} has no field "${field}" (fields: ${fieldList})`);
  }
  for (const field of Object.keys(mapping.fixed)) {
    if (!known.has(field)) throw new MappingError(`fixed: ${kind} has no field "${field}" (fields: ${fieldList})`);
  }

  const explicit = new Map<string, string>(); // field → header that fills it
  for (const [h, field] of Object.entries(mapping.columns)) {
    const other = explicit.get(field);
    if (other !== undefined) throw new MappingError(`map: the field "${field}" is mapped from two columns, "${other}" and "${h}"`);
    explicit.set(field, h);
  }
  const plan: CsvPlan = { columns: [], fixed: [], ignoredColumns: [] };
  const filled = new Map<string, string>();
  header.forEach((h) => {
    let field: string | undefined = mapping.columns[h];
    // A header that is a field name maps to itself, unless the field is explicitly taken by another column.
    if (field === undefined && known.has(h) && !explicit.has(h)) field = h;
    if (field === undefined) {
      plan.columns.push(null);
      plan.ignoredColumns.push(h);
      return;
    }
    filled.set(field, h);
    const values = mapping.values[h];
    plan.columns.push(values ? { field, values: new Map(Object.entries(values)) } : { field });
  });
  for (const h of Object.keys(mapping.values)) {
    if (!positions.has(h)) throw new MappingError(`values: the file has no column "${h}" (its columns: ${header.join(', ')})`);
    if (plan.columns[positions.get(h)!] === null) {
      throw new MappingError(`values: the column "${h}" has a value map but is not mapped to a field; add --map "${h}=<field>"`);
    }
  }
  for (const [field, value] of Object.entries(mapping.fixed)) {
    const column = filled.get(field);
    if (column !== undefined) throw new MappingError(`fixed: the field "${field}" is fixed and also filled by the column "${column}"`);
    plan.fixed.push([field, value]);
  }
  return plan;
}
