/**
 * Scenario files: parsed from YAML, validated with errors that name the field,
 * and played by the model at their offsets (repeating when asked).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { createModel } from '../../simulator/model.js';
import { loadScenario, parseScenario, SCENARIO_DIR, ScenarioError } from '../../simulator/scenario.js';

const config = loadConfig();
const REGIONS = config.regions.map((r) => r.code);

function problems(text: string): string[] {
  try {
    parseScenario(text, 'test.yaml', REGIONS);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).problems;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenarios', () => {
  it('loads the demo: a critical fibre cut in GD at T+3 min, calls tripled for 20 min', () => {
    const demo = loadScenario('demo', REGIONS);
    expect(demo.name).toBe('demo');
    expect(demo.repeatEvery).toBe(7200);
    expect(demo.events).toEqual([{
      kind: 'fault', at: 180, region: 'GD', domain: 'transmission', severity: 'critical', cause: 'fibre cut', site: 'GD-SZ-0731',
      customersAffected: 180000, acknowledgeAfter: 240, restoreAfter: 1200, callMultiplier: 3, ticketMultiplier: 8,
    }]);
  });

  it('ships only valid scenario files', () => {
    const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('demo.yaml');
    for (const file of files) expect(() => loadScenario(file.slice(0, -5), REGIONS), file).not.toThrow();
  });

  it('parses durations in s, m, h, d or plain seconds, and sorts events by time', () => {
    const s = parseScenario(`
name: t
events:
  - { at: 1.5h, kind: staffing, region: SH, duration: 30m, factor: 0.5 }
  - { at: 90, kind: surge, region: BJ, queue: online, duration: 2d, callMultiplier: 2 }
`, 'inline', REGIONS);
    expect(s.events.map((e) => [e.kind, e.at])).toEqual([['surge', 90], ['staffing', 5400]]);
    expect(s.events[0]).toMatchObject({ duration: 172800, queue: 'online' });
  });

  it('names the field in every error', () => {
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: fault, region: GD, domain: fibre, severity: critical }'))
      .toEqual(['events/0/domain: must be one of wireless, transmission, core, broadband, power']);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: fault, region: GD, domain: core }'))
      .toEqual(["events/0: must have required property 'severity'"]);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: surge, region: GD, duration: 5m, callMultiplier: 2, colour: red }'))
      .toEqual(['events/0: unknown field "colour"']);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: flood, region: GD }'))
      .toEqual(['events/0/kind: must be one of fault, surge, staffing']);
    expect(problems('name: x\nevents:\n  - { at: soon, kind: surge, region: GD, duration: 5m, callMultiplier: 2 }'))
      .toEqual(['events/0/at: must be a duration such as 90s, 3m, 1.5h (or seconds)']);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: surge, region: ZZ, duration: 5m, callMultiplier: 2 }'))
      .toEqual(['events/0/region: unknown region "ZZ"']);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: staffing, region: GD, queue: fax, duration: 5m, factor: 0.5 }'))
      .toEqual(['events/0/queue: must be one of hotline, online, video']);
    expect(problems('name: x\nevents:\n  - { at: 3m, kind: surge, region: GD, duration: 0m, callMultiplier: 2 }'))
      .toEqual(['events/0/duration: must be longer than 0']);
    expect(problems('name: x\nevents:\n  - { at: 0, kind: fault, region: GD, domain: core, severity: major, acknowledgeAfter: 2h, restoreAfter: 1h }'))
      .toEqual(['events/0/acknowledgeAfter: must not be later than restoreAfter']);
    expect(problems('name: x\nrepeatEvery: 1h\nevents:\n  - { at: 2h, kind: surge, region: GD, duration: 5m, callMultiplier: 2 }'))
      .toEqual(['events/0/at: must be earlier than repeatEvery']);
    expect(problems('events: []')).toEqual(["(top level): must have required property 'name'"]);
    expect(problems('name: [unclosed')[0]).toMatch(/^not valid YAML: /);
  });

  it('reports an unknown scenario name with the ones that exist', () => {
    expect(() => loadScenario('nope', REGIONS)).toThrow(/no such scenario \(known: .*demo.*\)/);
  });

  it('is played at its offsets and replayed every repeatEvery', () => {
    const start = Date.parse('2026-11-30T10:00:00+08:00') / 1000;
    const scenario = parseScenario(`
name: twice
repeatEvery: 1h
events:
  - { at: 1m, kind: fault, region: GD, domain: power, severity: minor, cause: test, restoreAfter: 10m }
`, 'inline', REGIONS);
    const model = createModel({ config, seed: 2, start, regions: ['GD'], scenario, backgroundFaults: false });
    const faults = model.advanceTo(start + 2 * 3600 + 30).faults.filter((f) => f.restoredAt !== undefined);
    expect(faults.map((f) => [f.detectedAt, f.restoredAt])).toEqual([
      ['2026-11-30T10:01:00+08:00', '2026-11-30T10:11:00+08:00'],
      ['2026-11-30T11:01:00+08:00', '2026-11-30T11:11:00+08:00'],
    ]);
  });
});
