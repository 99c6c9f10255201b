/**
 * The admin forms' bodies and checks (dashboard/src/lib/admin-forms.ts): what
 * each form sends, and that every problem names its field before a request.
 */
import { describe, expect, it } from 'vitest';
import {
  emptyPolicyForm, emptyReceiverForm, fromServerPreview, parseList, policyBody, policyForm, receiverBody, receiverForm, silenceBody, tokenBody, userBody,
} from '../../dashboard/src/lib/admin-forms.js';

describe('admin forms', () => {
  it('splits lists on commas, spaces and the full-width comma', () => {
    expect(parseList(' a, b  c，d ,')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a webhook receiver with a bearer token names the environment variable, never a secret', () => {
    const form = { ...emptyReceiverForm(), id: 'ops-hook', url: 'https://ops.example/hook', authType: 'bearer' as const, authEnv: 'OPS_TOKEN', regions: 'gd, bj' };
    expect(receiverBody(form)).toEqual({
      body: { id: 'ops-hook', channel: 'webhook', regions: ['GD', 'BJ'], webhook: { url: 'https://ops.example/hook', auth: { type: 'bearer', tokenEnv: 'OPS_TOKEN' } } },
      problems: [],
    });
    expect(receiverBody({ ...form, authEnv: 'sk-live-123' }).problems).toEqual([{ field: 'webhook.auth.tokenEnv', reason: 'envName' }]);
    expect(receiverBody({ ...form, id: 'Ops Hook', url: 'ftp://x' }).problems).toEqual([{ field: 'id', reason: 'id' }, { field: 'webhook.url', reason: 'url' }]);
  });

  it('an e-mail receiver checks addresses and the port; it round-trips through the listed record', () => {
    const form = { ...emptyReceiverForm(), id: 'noc-mail', channel: 'email' as const, to: 'a@x.cn, b@x.cn', from: 'sqm@x.cn', smtpHost: 'smtp.x.cn', smtpPort: '587', smtpUser: 'sqm', smtpPasswordEnv: 'SMTP_PASSWORD', language: 'zh' as const };
    const { body, problems } = receiverBody(form);
    expect(problems).toEqual([]);
    expect(body).toEqual({ id: 'noc-mail', channel: 'email', language: 'zh', email: { to: ['a@x.cn', 'b@x.cn'], from: 'sqm@x.cn', smtp: { host: 'smtp.x.cn', port: 587, user: 'sqm', passwordEnv: 'SMTP_PASSWORD' } } });
    expect(receiverBody(receiverForm({ ...body, source: 'api' })).body).toEqual(body);
    expect(receiverBody({ ...form, to: 'nobody', smtpPort: '70000' }).problems).toEqual([{ field: 'email.to', reason: 'email' }, { field: 'email.smtp.port', reason: 'port' }]);
  });

  it('wecom and dingtalk need their key variables', () => {
    expect(receiverBody({ ...emptyReceiverForm(), id: 'w', channel: 'wecom' }).problems).toEqual([{ field: 'wecom.keyEnv', reason: 'required' }]);
    expect(receiverBody({ ...emptyReceiverForm(), id: 'd', channel: 'dingtalk', accessTokenEnv: 'DT', secretEnv: 'DT_SEC' }).body).toEqual({ id: 'd', channel: 'dingtalk', dingtalk: { accessTokenEnv: 'DT', secretEnv: 'DT_SEC' } });
  });

  it('a policy: steps with delays and receivers, grouping; unknown receivers and bad durations named', () => {
    const form = { ...emptyPolicyForm(), id: 'night', steps: [{ after: '0', receivers: 'dashboard' }, { after: '15m', receivers: 'ops-hook, noc-mail' }] };
    const { body, problems } = policyBody(form, ['dashboard', 'ops-hook', 'noc-mail']);
    expect(problems).toEqual([]);
    expect(body).toEqual({ id: 'night', groupBy: ['rule', 'region'], groupWait: '30s', groupInterval: '5m', repeatInterval: '4h', steps: [{ after: '0', receivers: ['dashboard'] }, { after: '15m', receivers: ['ops-hook', 'noc-mail'] }] });
    expect(policyBody(policyForm(body)).body).toEqual(body);
    expect(policyBody({ ...form, groupWait: '5 minutes', steps: [{ after: '1x', receivers: '' }, { after: '1h', receivers: 'ghost' }] }, ['dashboard']).problems).toEqual([
      { field: 'groupWait', reason: 'duration' }, { field: 'steps.0.receivers', reason: 'required' }, { field: 'steps.0.after', reason: 'duration' }, { field: 'steps.1.receivers', reason: 'id' },
    ]);
  });

  it('users and tokens: regions for scoped roles, null for admins; short passwords and bad days named', () => {
    expect(userBody({ username: 'li', displayName: '', password: 'long-enough-pass', role: 'manager', regions: 'gd' })).toEqual({ body: { username: 'li', password: 'long-enough-pass', role: 'manager', regions: ['GD'] }, problems: [] });
    expect(userBody({ username: 'root2', displayName: '', password: 'long-enough-pass', role: 'admin', regions: 'GD' }).body.regions).toBeNull();
    expect(userBody({ username: '', displayName: '', password: 'short', role: 'viewer', regions: 'G1' }).problems).toEqual([
      { field: 'username', reason: 'required' }, { field: 'password', reason: 'password' }, { field: 'regions', reason: 'region' },
    ]);
    expect(tokenBody({ name: 'tv', role: 'viewer', regions: 'GD,BJ', display: true, expiresInDays: '30' })).toEqual({ body: { name: 'tv', role: 'viewer', regions: ['GD', 'BJ'], display: true, expiresInDays: 30 }, problems: [] });
    expect(tokenBody({ name: 'tv', role: 'viewer', regions: '', display: false, expiresInDays: '0' }).problems).toEqual([{ field: 'expiresInDays', reason: 'number' }]);
  });

  it('a silence runs from now for the hours given', () => {
    const now = new Date('2026-11-30T02:00:00Z');
    expect(silenceBody({ matchers: 'region=GD\nrule=answer-rate', hours: '1.5', reason: 'works' }, now)).toEqual({
      body: { matchers: ['region=GD', 'rule=answer-rate'], startsAt: '2026-11-30T02:00:00.000Z', endsAt: '2026-11-30T03:30:00.000Z', reason: 'works' }, problems: [],
    });
    expect(silenceBody({ matchers: '', hours: 'x', reason: ' ' }, now).problems.map((p) => p.field)).toEqual(['matchers', 'hours', 'reason']);
  });

  it('the server preview becomes firing and pending lists', () => {
    const interval = (state: string, from: string, to: string | null) => ({ labels: { region: 'GD' }, state, severity: 'critical', from, to, value: 0.8 });
    expect(fromServerPreview({ preview: { from: 'a', to: 'b', intervals: [interval('pending', 't1', 't2'), interval('firing', 't2', null)] } })).toEqual({
      from: 'a', to: 'b',
      pending: [{ labels: { region: 'GD' }, severity: 'critical', from: 't1', to: 't2', value: 0.8 }],
      firings: [{ labels: { region: 'GD' }, severity: 'critical', from: 't2', to: null, value: 0.8 }],
    });
  });
});
