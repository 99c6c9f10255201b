import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, validateConfigObject } from '../../config/index.js';
import { parseDuration, type NotificationsConfig } from '../../config/notifications.js';
import { resolvePolicy } from '../../alerts/notify/definitions.js';

function problemsOf(notifications: unknown): string[] {
  try {
    validateConfigObject({ ...structuredClone(loadConfig()), notifications }, 'test');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('the notifications section', () => {
  it('ships a regional-managers policy that reaches the dashboard, with Alertmanager\'s grouping defaults', () => {
    const section = loadConfig().notifications!;
    // `default` serves rules that name no route.
    expect(section.policies?.map((p) => [p.id, p.steps.map((s) => s.receivers)])).toEqual([['regional-managers', [['dashboard']]], ['default', [['dashboard']]]]);
    expect(resolvePolicy(section.policies![0]!)).toEqual({
      id: 'regional-managers', groupBy: ['rule', 'region'], groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000,
      steps: [{ afterMs: 0, receivers: ['dashboard'] }],
    });
    expect(section.receivers).toEqual([]);
  });

  it('has a commented example of every channel that validates once uncommented', () => {
    const text = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
    const lines = text.split('\n');
    const start = lines.indexOf('notifications:');
    let end = lines.findIndex((l, i) => i > start && /^\S/.test(l) && !l.startsWith('#'));
    if (end < 0) end = lines.length;
    // Examples are commented as `#  key` or `#- item`; prose is `# Text`.
    const section = lines.slice(start, end).map((l) => l.replace(/^(\s*)#(?=( {2,}\S|- ))/, '$1')).join('\n').replace('receivers: []', 'receivers:');
    const notifications = (parseYaml(section) as { notifications: NotificationsConfig }).notifications;
    const config = validateConfigObject({ ...structuredClone(loadConfig()), notifications }, 'uncommented examples');
    expect(config.notifications?.receivers?.map((r) => r.channel).sort()).toEqual(['alertmanager', 'dingtalk', 'email', 'webhook', 'wecom']);
    expect(config.notifications?.policies?.[0]?.steps.map((s) => s.after ?? '0')).toEqual(['0', '0s', '15m', '60m']);
  });

  it('names the field of every problem', () => {
    expect(problemsOf({
      receivers: [
        { id: 'a', channel: 'email' },
        { id: 'a', channel: 'webhook', webhook: { url: 'http://x/y' }, wecom: { keyEnv: 'K' }, regions: ['QQ'] },
        { id: 'b', channel: 'webhook', webhook: { url: 'http://x/y', auth: { type: 'bearer', username: 'u', passwordEnv: 'P' } } },
        { id: 'c', channel: 'email', email: { to: ['a@b.cn'], from: 'c@d.cn', smtp: { host: 'h', port: 25, user: 'u' } } },
        { id: 'dashboard', channel: 'dashboard' },
      ],
      policies: [
        { id: 'p', groupInterval: '0', steps: [{ after: '1h', receivers: ['a'] }, { after: '15m', receivers: ['zzz'] }] },
        { id: 'p', steps: [{ receivers: ['dashboard'] }] },
      ],
    })).toEqual([
      'notifications/receivers/0/email: required for channel "email"',
      'notifications/receivers/1/id: duplicate receiver "a"',
      'notifications/receivers/1/wecom: not allowed for channel "webhook"',
      'notifications/receivers/1/regions/0: unknown region "QQ"',
      'notifications/receivers/2/webhook/auth: bearer auth takes exactly tokenEnv',
      'notifications/receivers/3/email/smtp: give both user and passwordEnv, or neither',
      'notifications/receivers/4/id: "dashboard" is built in; do not declare it',
      'notifications/policies/0/steps/1/after: steps must be in time order (15m comes before the previous step)',
      'notifications/policies/0/steps/1/receivers/0: unknown receiver "zzz"',
      'notifications/policies/0/groupInterval: must be more than 0',
      'notifications/policies/1/id: duplicate policy "p"',
    ]);
  });

  it('refuses an inline secret through the schema, naming the field', () => {
    const problems = problemsOf({ receivers: [{ id: 'r', channel: 'dingtalk', dingtalk: { accessTokenEnv: 'T', secret: 'SECabc' } }] });
    expect(problems).toEqual(['notifications/receivers/0/dingtalk: must NOT have additional properties "secret"']);
  });

  it('reads durations as the rules do', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('5 minutes')).toThrow('not a duration: "5 minutes"');
  });
});
