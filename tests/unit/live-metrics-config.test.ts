/**
 * The `live:` and `metrics:` config sections: defaults, refusals that name the
 * field, and the address ranges of the metrics allow-list.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfigObject } from '../../config/index.js';
import { parseCidr } from '../../config/cidr.js';
import { LIVE_DEFAULTS, liveSettings } from '../../server/live/settings.js';
import { METRICS_DEFAULTS, metricsSettings } from '../../server/metrics.js';
import { buildAllowList } from '../../server/routes/metrics.js';

const base = () => structuredClone(loadConfig()) as unknown as Record<string, unknown>;

function problems(extra: Record<string, unknown>): string[] {
  try {
    validateConfigObject({ ...base(), ...extra }, 'test');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('live and metrics settings', () => {
  it('fills every field left out with its default', () => {
    const { live: _live, metrics: _metrics, ...rest } = base();
    const config = validateConfigObject(rest, 'test');
    expect(liveSettings(config)).toEqual(LIVE_DEFAULTS);
    expect(metricsSettings(config)).toEqual({ ...METRICS_DEFAULTS, sha256: undefined, tokenEnv: undefined });
    const partial = validateConfigObject({ ...rest, live: { tickMs: 500 } }, 'test');
    expect(liveSettings(partial)).toEqual({ ...LIVE_DEFAULTS, tickMs: 500 });
  });

  it('documents the defaults in config/default.yaml', () => {
    const config = loadConfig();
    expect(liveSettings(config)).toEqual(LIVE_DEFAULTS);
    expect(metricsSettings(config)).toMatchObject(METRICS_DEFAULTS);
  });

  it('refuses bad values, naming the field', () => {
    expect(problems({ live: { tickMs: 10 } })).toEqual(['live/tickMs: must be >= 100']);
    expect(problems({ live: { ticks: 1 } })).toEqual(['live: must NOT have additional properties "ticks"']);
    expect(problems({ metrics: { allow: ['10.0.0.0/33', 'localhost'] } })).toEqual([
      'metrics/allow/0: not an address or CIDR range: "10.0.0.0/33"',
      'metrics/allow/1: not an address or CIDR range: "localhost"',
    ]);
    expect(problems({ metrics: { sha256: 'a'.repeat(64), tokenEnv: 'SQM_METRICS_TOKEN' } })).toEqual(['metrics: give at most one of sha256 or tokenEnv']);
    expect(problems({ metrics: { sha256: 'not-hex' } })).toEqual(['metrics/sha256: must match pattern "^[0-9a-fA-F]{64}$"']);
  });
});

describe('address ranges', () => {
  it('reads addresses and CIDR ranges of both families', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('192.0.2.7')).toEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('::1/128')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    for (const bad of ['10.0.0.0/', '10.0.0.0/x', '::1/129', '300.0.0.1', 'example.com/8']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('checks an address against the list', () => {
    const list = buildAllowList(['127.0.0.1/32', '10.9.0.0/16', 'fd00::/8']);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(list.check('127.0.0.2', 'ipv4')).toBe(false);
    expect(list.check('10.9.255.1', 'ipv4')).toBe(true);
    expect(list.check('10.10.0.1', 'ipv4')).toBe(false);
    expect(list.check('fd12::1', 'ipv6')).toBe(true);
    expect(list.check('::1', 'ipv6')).toBe(false);
  });
});
