import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfigObject, type SqmConfig } from '../../config/index.js';

const base = (): SqmConfig => structuredClone(loadConfig()) as SqmConfig;
const problems = (queues: unknown): string[] => {
  try {
    validateConfigObject({ ...base(), queueLog: { queues } }, 'test');
  } catch (error) {
    return (error as ConfigError).problems;
  }
  return [];
};

describe('queueLog configuration', () => {
  it('is optional and, when given, maps Asterisk queue names to regions', () => {
    expect(base().queueLog).toBeUndefined();
    const config = validateConfigObject({ ...base(), queueLog: { queues: { support: { region: 'GD', queue: 'hotline', channel: 'chat' } } } }, 'test');
    expect(config.queueLog?.queues.support).toEqual({ region: 'GD', queue: 'hotline', channel: 'chat' });
  });

  it('names the queue and field at fault', () => {
    expect(problems({ sales: { region: 'ZZ' } })).toEqual(['queueLog/queues/sales/region: unknown region "ZZ"']);
    expect(problems({ sales: { region: 'GD', channel: 'fax' } })).toEqual(['queueLog/queues/sales/channel: must be equal to one of the allowed values (voice, chat, video)']);
    expect(problems({ sales: { queue: 'x' } })).toEqual(["queueLog/queues/sales: must have required property 'region'"]);
    expect(problems({ 'a|b': { region: 'GD' } })).toEqual(['queueLog/queues/a|b: not a queue_log queue name (at most 128 characters, no "|" or line break)']);
  });
});
