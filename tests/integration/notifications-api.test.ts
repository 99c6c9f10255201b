/**
 * /api/v1/receivers, /api/v1/policies and /api/v1/notifications over the real
 * app and store: admin-only definitions that survive a restart and never show
 * a secret, and the log scoped to a manager's regions in the query.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreNotificationLog, type LogEntry } from '../../alerts/notify/index.js';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, testConfig, TOKENS } from '../helpers/app.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');

function logEntry(overrides: Partial<LogEntry>): LogEntry {
  return {
    atMs: Date.parse('2026-11-30T10:00:00.000Z'), seq: 0, id: 'row', noticeId: 'n', policy: 'regional-managers', groupKey: '{}', receiver: 'ops',
    channel: 'webhook', kind: 'firing', instanceIds: ['answer-rate:GD'], rules: ['answer-rate'], regions: ['GD'], status: 'sent',
    attempt: 1, maxAttempts: 5, error: '', reason: '', durationMs: 12, nextAttemptAtMs: 0, ...overrides,
  };
}

describe.each(BACKENDS)('notifications API (%s)', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  const config = testConfig({
    notifications: {
      receivers: [{
        id: 'gd-mail', channel: 'email', regions: ['GD'], language: 'zh',
        email: { to: ['gd@example.cn'], from: 'sqm@example.cn', smtp: { host: 'smtp.example.cn', port: 465, user: 'sqm', passwordEnv: 'SQM_SMTP_PASSWORD' } },
      }],
      policies: [{ id: 'regional-managers', steps: [{ receivers: ['dashboard', 'gd-mail'] }] }],
    },
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store, { config, now: () => NOW });
    await app.ready();
    await new StoreNotificationLog(store).write([
      logEntry({ id: 'a', seq: 1, atMs: Date.parse('2026-11-30T10:00:00Z') }),
      logEntry({ id: 'b', seq: 2, atMs: Date.parse('2026-11-30T10:05:00Z'), regions: ['BJ'], instanceIds: ['answer-rate:BJ'], status: 'retrying', error: 'cannot reach http://x/: ECONNREFUSED', nextAttemptAtMs: Date.parse('2026-11-30T10:05:10Z') }),
      logEntry({ id: 'c', seq: 3, atMs: Date.parse('2026-11-30T10:06:00Z'), regions: ['BJ', 'GD'], channel: 'wecom', receiver: 'robot' }),
      logEntry({ id: 'd', seq: 4, atMs: Date.parse('2026-11-28T10:00:00Z'), status: 'failed', attempt: 5 }),
      logEntry({ id: 'e', seq: 5, atMs: Date.parse('2026-11-30T11:00:00Z'), regions: [], instanceIds: ['burn:all'], status: 'suppressed', receiver: '', channel: '', reason: 'silenced by s-1' }),
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = (url: string, token: string = TOKENS.admin) => app.inject({ method: 'GET', url, headers: bearer(token) });
  const send = (method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token: string = TOKENS.admin) =>
    app.inject({ method, url, headers: bearer(token), ...(body === undefined ? {} : { payload: body as object }) });

  describe('receivers and policies', () => {
    it('lists the built-in dashboard and the configured receivers, with environment-variable names and never a secret', async () => {
      const res = await get('/api/v1/receivers');
      expect(res.statusCode).toBe(200);
      const { receivers } = res.json() as { receivers: Record<string, unknown>[] };
      expect(receivers.map((r) => [r.id, r.channel, r.source])).toEqual([['dashboard', 'dashboard', 'builtin'], ['gd-mail', 'email', 'config']]);
      expect(receivers[1]).toMatchObject({ email: { smtp: { user: 'sqm', passwordEnv: 'SQM_SMTP_PASSWORD' } } });
      expect(res.body).not.toMatch(/"password"|"token"|"key"|"secret"/);
    });

    it('is for admins only', async () => {
      for (const token of [TOKENS.executive, TOKENS.managerGD, TOKENS.viewer, TOKENS.supervisor, TOKENS.ingest]) {
        expect((await get('/api/v1/receivers', token)).statusCode).toBe(403);
        expect((await get('/api/v1/policies', token)).statusCode).toBe(403);
        expect((await send('POST', '/api/v1/receivers', { id: 'x', channel: 'webhook', webhook: { url: 'http://a/b' } }, token)).statusCode).toBe(403);
      }
    });

    it('creates, reads, replaces and deletes a receiver and a policy, and records who did it', async () => {
      const hook = { id: 'ops-hook', channel: 'webhook', description: '运维值班', webhook: { url: 'https://ops.example.cn/hook', auth: { type: 'bearer', tokenEnv: 'SQM_OPS_TOKEN' } } };
      const created = await send('POST', '/api/v1/receivers', hook);
      expect(created.statusCode).toBe(201);
      expect(created.json()).toEqual({ ...hook, source: 'api', updatedAt: NOW.toISOString(), updatedBy: 'bootstrap-admin' });
      expect((await get('/api/v1/receivers/ops-hook')).json()).toMatchObject({ id: 'ops-hook', source: 'api' });

      const policy = { id: 'ops-escalation', groupBy: ['rule'], steps: [{ receivers: ['gd-mail'] }, { after: '15m', receivers: ['ops-hook'] }] };
      const createdPolicy = await send('POST', '/api/v1/policies', policy);
      expect(createdPolicy.statusCode).toBe(201);
      expect(createdPolicy.json()).toMatchObject({ ...policy, source: 'api' });
      const policies = (await get('/api/v1/policies')).json() as { policies: { id: string; source: string }[] };
      expect(policies.policies.map((p) => [p.id, p.source])).toEqual([['regional-managers', 'config'], ['ops-escalation', 'api']]);

      const replaced = await send('PUT', '/api/v1/receivers/ops-hook', { ...hook, webhook: { url: 'https://ops.example.cn/hook2' } });
      expect(replaced.statusCode).toBe(200);
      expect(replaced.json()).toMatchObject({ webhook: { url: 'https://ops.example.cn/hook2' } });
      expect(replaced.json()).not.toHaveProperty('webhook.auth');

      const inUse = await send('DELETE', '/api/v1/receivers/ops-hook');
      expect(inUse.statusCode).toBe(409);
      expect(inUse.json().error).toMatchObject({ code: 'SQM_CONFLICT', message: 'receiver "ops-hook" is used by the policies ops-escalation; remove it from them first' });
      expect((await send('DELETE', '/api/v1/policies/ops-escalation')).statusCode).toBe(204);
      expect((await send('DELETE', '/api/v1/receivers/ops-hook')).statusCode).toBe(204);
      expect((await get('/api/v1/receivers/ops-hook')).statusCode).toBe(404);

      // Every change is in the audit log, with who made it.
      const audit = await get('/api/v1/audit?action=receiver.*,policy.*');
      expect(audit.statusCode).toBe(200);
      const entries = (audit.json() as { entries: { action: string; target: string; actor: string }[] }).entries;
      expect(entries.map((e) => [e.action, e.target, e.actor]).reverse()).toEqual([
        ['receiver.create', 'ops-hook', 'bootstrap-admin'],
        ['policy.create', 'ops-escalation', 'bootstrap-admin'],
        ['receiver.update', 'ops-hook', 'bootstrap-admin'],
        ['policy.delete', 'ops-escalation', 'bootstrap-admin'],
        ['receiver.delete', 'ops-hook', 'bootstrap-admin'],
      ]);
    });

    it('keeps API-made definitions across a restart', async () => {
      expect((await send('POST', '/api/v1/receivers', { id: 'kept', channel: 'alertmanager', alertmanager: { url: 'http://am:9093' } })).statusCode).toBe(201);
      const restarted = await buildTestApp(store, { config, now: () => NOW });
      try {
        const res = await restarted.inject({ method: 'GET', url: '/api/v1/receivers/kept', headers: bearer(TOKENS.admin) });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ id: 'kept', channel: 'alertmanager', source: 'api' });
      } finally {
        await restarted.close();
      }
    });

    it('refuses bad bodies with 400 naming the field, and changes to configured or built-in ones with 409', async () => {
      const inline = await send('POST', '/api/v1/receivers', { id: 'robot', channel: 'wecom', wecom: { key: 'abc' } });
      expect(inline.statusCode).toBe(400);
      expect(inline.json().error.details.problems).toEqual([
        'wecom: must have required property \'keyEnv\'',
        'wecom: must NOT have additional properties "key" (secrets are never stored: name an environment variable with keyEnv)',
      ]);
      const noBody = await app.inject({ method: 'POST', url: '/api/v1/receivers', headers: { ...bearer(TOKENS.admin), 'content-type': 'application/json' }, payload: '' });
      expect(noBody.statusCode).toBe(400);
      const badId = await send('POST', '/api/v1/policies', { id: 'Bad Id', steps: [] });
      expect(badId.statusCode).toBe(400);
      expect(badId.json().error.message).toMatch(/id: must match pattern/);
      expect(badId.json().error.message).toMatch(/steps: must NOT have fewer than 1 items/);
      const configured = await send('PUT', '/api/v1/receivers/gd-mail', { id: 'gd-mail', channel: 'webhook', webhook: { url: 'http://a/b' } });
      expect(configured.statusCode).toBe(409);
      expect(configured.json().error.message).toBe('receiver "gd-mail" is defined in the configuration file; change it there');
      expect((await send('DELETE', '/api/v1/receivers/dashboard')).statusCode).toBe(409);
      expect((await send('POST', '/api/v1/receivers', { id: 'dashboard', channel: 'dashboard' })).statusCode).toBe(400);
      expect((await send('PUT', '/api/v1/policies/nope', { id: 'nope', steps: [{ receivers: ['dashboard'] }] })).statusCode).toBe(404);
      const renamed = await send('POST', '/api/v1/receivers', { id: 'r1', channel: 'webhook', webhook: { url: 'http://a/b' } });
      expect(renamed.statusCode).toBe(201);
      const rename = await send('PUT', '/api/v1/receivers/r1', { id: 'r2', channel: 'webhook', webhook: { url: 'http://a/b' } });
      expect(rename.statusCode).toBe(400);
      expect(rename.json().error.message).toBe('id: "r2" does not match the path\'s "r1" (ids cannot be renamed)');
    });
  });

  describe('the notification log', () => {
    const ids = (res: { json(): unknown }) => (res.json() as { items: { id: string }[] }).items.map((i) => i.id);

    it('admins and executives see every region, newest first, within the last 24 h by default', async () => {
      for (const token of [TOKENS.admin, TOKENS.executive]) {
        const res = await get('/api/v1/notifications', token);
        expect(res.statusCode).toBe(200);
        expect(ids(res)).toEqual(['e', 'c', 'b', 'a']);
      }
      const body = (await get('/api/v1/notifications')).json() as { from: string; to: string; items: Record<string, unknown>[] };
      expect(body.from).toBe('2026-11-29T12:00:00.000Z');
      expect(body.to).toBe(NOW.toISOString());
      expect(body.items.find((i) => i.id === 'b')).toEqual({
        id: 'b', at: '2026-11-30T10:05:00.000Z', noticeId: 'n', policy: 'regional-managers', groupKey: '{}', receiver: 'ops', channel: 'webhook',
        kind: 'firing', instanceIds: ['answer-rate:BJ'], rules: ['answer-rate'], regions: ['BJ'], status: 'retrying', attempt: 1, maxAttempts: 5,
        error: 'cannot reach http://x/: ECONNREFUSED', reason: null, durationMs: 12, nextAttemptAt: '2026-11-30T10:05:10.000Z',
      });
    });

    it('a manager sees only rows of their regions, and asking for another region is 403', async () => {
      expect(ids(await get('/api/v1/notifications', TOKENS.managerGD))).toEqual(['c', 'a']);
      expect(ids(await get('/api/v1/notifications?region=GD', TOKENS.managerGD))).toEqual(['c', 'a']);
      expect((await get('/api/v1/notifications?region=BJ', TOKENS.managerGD)).statusCode).toBe(403);
      expect(ids(await get('/api/v1/notifications?region=BJ'))).toEqual(['c', 'b']);
    });

    it('filters by status, channel, receiver, instance and time, with a limit', async () => {
      expect(ids(await get('/api/v1/notifications?status=retrying,suppressed'))).toEqual(['e', 'b']);
      expect(ids(await get('/api/v1/notifications?channel=wecom'))).toEqual(['c']);
      expect(ids(await get('/api/v1/notifications?receiver=ops'))).toEqual(['b', 'a']);
      expect(ids(await get('/api/v1/notifications?instance=answer-rate:BJ'))).toEqual(['b']);
      expect(ids(await get('/api/v1/notifications?from=2026-11-28T00:00:00Z&to=2026-11-30T10:05:00Z'))).toEqual(['a', 'd']);
      expect(ids(await get('/api/v1/notifications?limit=2'))).toEqual(['e', 'c']);
    });

    it('refuses viewers, and bad filters with a 400 that lists what is valid', async () => {
      expect((await get('/api/v1/notifications', TOKENS.viewer)).statusCode).toBe(403);
      const status = await get('/api/v1/notifications?status=lost');
      expect(status.statusCode).toBe(400);
      expect(status.json().error.message).toBe('unknown status: lost; valid: sent, retrying, failed, suppressed, superseded');
      expect((await get('/api/v1/notifications?channel=fax')).json().error.message).toBe('unknown channel: fax; valid: dashboard, webhook, email, wecom, dingtalk, alertmanager');
      expect((await get('/api/v1/notifications?limit=0')).statusCode).toBe(400);
      expect((await get('/api/v1/notifications?from=yesterday')).json().error.message).toBe('from is not an ISO-8601 time with an offset: "yesterday"');
      expect((await get('/api/v1/notifications?from=2026-11-30T11:00:00Z&to=2026-11-30T10:00:00Z')).statusCode).toBe(400);
      expect((await get('/api/v1/notifications?region=QQ')).statusCode).toBe(400);
    });
  });
});
