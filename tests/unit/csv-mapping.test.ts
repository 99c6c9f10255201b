import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  emptyMapping, loadMappingFile, mergeMappings, parseFixedSpec, parseMapSpec, parseValuesSpec, resolvePlan, MappingError,
} from '../../collector/sources/csv-mapping.js';

const dir = mkdtempSync(join(tmpdir(), 'sqm-mapping-'));
function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('flag syntax', () => {
  it('--map splits on the last "=" so headers may contain one', () => {
    expect(parseMapSpec('Call Id=id, Date=enteredAt,a=b=outcome')).toEqual({ 'Call Id': 'id', Date: 'enteredAt', 'a=b': 'outcome' });
  });
  it('--fixed splits on the first "=" so values may contain one', () => {
    expect(parseFixedSpec('region=GD,queue=a=b')).toEqual({ region: 'GD', queue: 'a=b' });
  });
  it('--values reads "Header:from=to,…" and several columns separated by ";"', () => {
    expect(parseValuesSpec('Answered (Y/N):Y=answered,N=abandoned; Kanal: Telefon=voice')).toEqual({
      'Answered (Y/N)': { Y: 'answered', N: 'abandoned' },
      Kanal: { Telefon: 'voice' },
    });
    expect(parseValuesSpec('Time: 10:00=a')).toEqual({ Time: { '10:00': 'a' } });
  });
  it('rejects malformed specs with the offending part', () => {
    expect(() => parseMapSpec('Call Id')).toThrow('--map: "Call Id" is not "Header=field"');
    expect(() => parseFixedSpec('=GD')).toThrow('--fixed: "=GD" is not "field=value"');
    expect(() => parseValuesSpec('Answered Y=answered')).toThrow('--values: "Answered Y=answered" is not "Header:from=to,from=to"');
    expect(() => parseValuesSpec('A:Y')).toThrow('--values: "Y" in "A" is not "from=to"');
  });
});

describe('mapping file', () => {
  it('reads columns, fixed values, value maps and the time zone', () => {
    const path = yamlFile('ok.yaml', [
      'kind: calls',
      'columns: { "Call Id": id, "Answered (Y/N)": outcome }',
      'fixed: { region: GD, talkSeconds: 0 }',
      'values:',
      '  "Answered (Y/N)": { Y: answered, N: abandoned, 1: answered }',
      'timezone: Asia/Shanghai',
    ].join('\n'));
    expect(loadMappingFile(path)).toEqual({
      kind: 'calls',
      columns: { 'Call Id': 'id', 'Answered (Y/N)': 'outcome' },
      fixed: { region: 'GD', talkSeconds: '0' },
      values: { 'Answered (Y/N)': { Y: 'answered', N: 'abandoned', 1: 'answered' } },
      timezone: 'Asia/Shanghai',
    });
  });
  it('names the key at fault', () => {
    expect(() => loadMappingFile(yamlFile('a.yaml', 'colums: {a: id}'))).toThrow(/unknown key "colums" \(expected kind, columns, fixed, values, timezone, delimiter\)/);
    expect(() => loadMappingFile(yamlFile('b.yaml', 'columns: [a, b]'))).toThrow(/: columns: must be a map of name: value/);
    expect(() => loadMappingFile(yamlFile('c.yaml', 'fixed: { region: [GD] }'))).toThrow(/fixed\."region": must be a single value \(text or number\), got a list/);
    expect(() => loadMappingFile(yamlFile('d.yaml', 'values: { A: { Y: { x: 1 } } }'))).toThrow(/values\."A"\."Y": must be a single value/);
    expect(() => loadMappingFile(yamlFile('e.yaml', 'timezone: 8'))).toThrow(/timezone: must be text/);
    expect(() => loadMappingFile(yamlFile('f.yaml', 'columns: {a: ['))).toThrow(/not valid YAML/);
    expect(() => loadMappingFile(join(dir, 'missing.yaml'))).toThrow(/cannot read it \(ENOENT\)/);
  });
  it('flags given after a file win key by key', () => {
    const merged = mergeMappings(
      { columns: { A: 'id', B: 'queue' }, fixed: { region: 'GD' }, values: { B: { x: '1' } } },
      { columns: { B: 'agent' }, fixed: {}, values: { B: { y: '2' } }, timezone: 'UTC' },
    );
    expect(merged).toEqual({ columns: { A: 'id', B: 'agent' }, fixed: { region: 'GD' }, values: { B: { x: '1', y: '2' } }, timezone: 'UTC' });
  });
});

describe('resolvePlan', () => {
  const header = ['Call Id', 'region', 'Answered (Y/N)', 'Notes'];
  it('maps headers, keeps field-named headers and lists the ignored ones', () => {
    const plan = resolvePlan('calls', header, {
      columns: { 'Call Id': 'id', 'Answered (Y/N)': 'outcome' }, fixed: { channel: 'voice' }, values: { 'Answered (Y/N)': { Y: 'answered' } },
    });
    expect(plan.columns.map((c) => c?.field ?? null)).toEqual(['id', 'region', 'outcome', null]);
    expect([...plan.columns[2]!.values!]).toEqual([['Y', 'answered']]);
    expect(plan.fixed).toEqual([['channel', 'voice']]);
    expect(plan.ignoredColumns).toEqual(['Notes']);
  });
  it('an explicit mapping takes a field away from a column of that name', () => {
    const plan = resolvePlan('calls', ['id', 'Ticket'], { columns: { Ticket: 'id' }, fixed: {}, values: {} });
    expect(plan.columns.map((c) => c?.field ?? null)).toEqual([null, 'id']);
  });
  it('refuses mistakes before any row is read, naming them', () => {
    const m = (over: Partial<ReturnType<typeof emptyMapping>>) => ({ ...emptyMapping(), ...over });
    expect(() => resolvePlan('calls', header, m({ columns: { 'Call ID': 'id' } }))).toThrow('map: the file has no column "Call ID" (its columns: Call Id, region, Answered (Y/N), Notes)');
    expect(() => resolvePlan('calls', header, m({ columns: { 'Call Id': 'callId' } }))).toThrow(/map: "Call Id=callId": calls has no field "callId" \(fields: id, region, /);
    expect(() => resolvePlan('calls', header, m({ fixed: { regio: 'GD' } }))).toThrow(/fixed: calls has no field "regio"/);
    expect(() => resolvePlan('calls', header, m({ fixed: { region: 'GD' } }))).toThrow('fixed: the field "region" is fixed and also filled by the column "region"');
    expect(() => resolvePlan('calls', header, m({ values: { 'Answered (Y/N)': { Y: 'answered' } } })))
      .toThrow('values: the column "Answered (Y/N)" has a value map but is not mapped to a field; add --map "Answered (Y/N)=<field>"');
    expect(() => resolvePlan('calls', header, m({ columns: { 'Call Id': 'id', Notes: 'id' } }))).toThrow('map: the field "id" is mapped from two columns, "Call Id" and "Notes"');
    expect(() => resolvePlan('calls', ['a', 'a'], m({}))).toThrow('line 1: the header names the column "a" twice');
    expect(() => resolvePlan('calls', header, m({ timezone: 'Mars/Olympus' }))).toThrow('timezone: unknown time zone "Mars/Olympus"');
    expect(() => resolvePlan('calls', header, m({ delimiter: ';;' }))).toThrow(MappingError);
  });
});
