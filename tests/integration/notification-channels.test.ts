/**
 * Every channel against a real receiver: e-mail to Debian's aiosmtpd (read
 * back from its maildir), Prometheus Alertmanager (queried through its own
 * API), and webhook, WeCom and DingTalk to a local HTTP receiver that checks
 * the exact payload and the DingTalk signature. These tests touch no store.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { alertmanagerPayload, createAlertmanagerChannel } from '../../alerts/notifiers/alertmanager.js';
import { createDingtalkChannel, dingtalkPayload } from '../../alerts/notifiers/dingtalk.js';
import { createEmailChannel } from '../../alerts/notifiers/email.js';
import { renderMarkdown } from '../../alerts/notifiers/render.js';
import { ChannelError, type ChannelDeps, type Notification } from '../../alerts/notifiers/types.js';
import { createWebhookChannel, webhookPayload } from '../../alerts/notifiers/webhook.js';
import { createWecomChannel, WECOM_MAX_BYTES } from '../../alerts/notifiers/wecom.js';
import { noticeContext, toNotificationAlert } from '../../alerts/notify/notice.js';
import type { AlertInstance } from '../../alerts/types.js';
import { createLogger } from '../../server/logger.js';
import { instance } from '../helpers/alert-fixtures.js';
import { alertmanagerSkipReason, startAlertmanager, type AlertmanagerServer } from '../helpers/alertmanager.js';
import { freePort } from '../helpers/free-port.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { smtpSkipReason, startSmtpServer, type SmtpServer } from '../helpers/smtp-server.js';

const context = noticeContext(loadConfig());
const ENV = {
  SQM_TEST_HOOK_TOKEN: 'hook-token-123',
  SQM_TEST_HOOK_PASSWORD: 'p@ss:word',
  SQM_TEST_WECOM_KEY: '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa',
  SQM_TEST_DING_TOKEN: 'ding-access-token',
  SQM_TEST_DING_SECRET: 'SEC0123456789abcdef0123456789abcdef',
};

function deps(now = () => new Date()): ChannelDeps {
  return { fetch, env: ENV, logger: createLogger('silent'), now };
}

function notice(instances: AlertInstance[], overrides: Partial<Notification> = {}): Notification {
  const status = overrides.status ?? 'firing';
  return {
    id: 'notice-42',
    kind: status === 'firing' ? 'firing' : 'resolved',
    status,
    policy: 'regional-managers',
    receiver: 'test',
    channel: 'webhook',
    language: 'both',
    groupKey: '{rule="answer-rate",region="GD"}',
    groupLabels: { rule: 'answer-rate', region: 'GD' },
    alerts: instances.map((i) => toNotificationAlert(i, {
      event: status === 'firing' ? 'firing' : 'resolved', status, previousSeverity: null,
      endsAt: status === 'resolved' ? (overrides.createdAt ?? '2026-11-30T01:30:00.000Z') : null,
    }, context)),
    createdAt: '2026-11-30T01:00:30.000Z',
    validUntil: '2026-11-30T05:10:30.000Z',
    timezone: 'Asia/Shanghai',
    ...overrides,
  };
}

const signal = () => new AbortController().signal;

const smtpSkip = smtpSkipReason();
if (smtpSkip) process.stderr.write(`[sqm tests] e-mail channel tests SKIPPED: ${smtpSkip}\n`);

describe.skipIf(!!smtpSkip)(smtpSkip ? `e-mail (SKIPPED: ${smtpSkip})` : 'e-mail to a real SMTP server (aiosmtpd)', () => {
  let smtp: SmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp?.stop();
  });

  it('delivers a message with a subject naming severity, rule and region, and text and HTML parts in Chinese and English', async () => {
    const channel = createEmailChannel({
      to: ['gd-manager@example.cn'], cc: ['director@example.cn'], from: 'SQM 告警 <sqm@example.cn>',
      smtp: { host: '127.0.0.1', port: smtp.port },
    }, deps(), 5000);
    await channel.send(notice([instance('GD')]), signal());
    channel.close?.();
    const messages = smtp.messages();
    expect(messages).toHaveLength(1);
    const mail = messages[0]!;
    expect(mail.subject).toBe('【严重】人工接通率 — 广东 (GD) | [CRITICAL] Answer rate — Guangdong (GD)');
    expect(mail.from).toBe('SQM 告警 <sqm@example.cn>');
    expect(mail.to).toBe('gd-manager@example.cn');
    expect(mail.headers.cc).toBe('director@example.cn');
    expect(mail.headers['x-sqm-notification-id']).toBe('notice-42');
    expect(mail.contentType).toBe('multipart/alternative');
    expect(mail.parts.map((p) => [p.contentType, p.charset])).toEqual([['text/plain', 'utf-8'], ['text/html', 'utf-8']]);
    const [text, html] = [mail.parts[0]!.text, mail.parts[1]!.text];
    for (const body of [text, html]) {
      expect(body).toContain('当前值 87.5%，阈值 90%，样本量 412');
      expect(body).toContain('开始于 2026-11-30 09:00 (UTC+08:00)');
      expect(body).toContain('Value 87.5% vs threshold 90%, volume 412');
      expect(body).toContain('http://localhost:8080/alerts/answer-rate%3AGD');
    }
    expect(html).toContain('<section lang="zh-CN">');
    // Chinese comes first for a receiver that reads both.
    expect(text.indexOf('当前值')).toBeLessThan(text.indexOf('Value'));
  });

  it('writes in the receiver\'s one language when it has one', async () => {
    const channel = createEmailChannel({ to: ['bj@example.cn'], from: 'sqm@example.cn', smtp: { host: '127.0.0.1', port: smtp.port } }, deps(), 5000);
    await channel.send(notice([instance('BJ')], { language: 'en', id: 'notice-en' }), signal());
    channel.close?.();
    const mail = smtp.messages().find((m) => m.headers['x-sqm-notification-id'] === 'notice-en')!;
    expect(mail.subject).toBe('[CRITICAL] Answer rate — Beijing (BJ)');
    expect(mail.parts[0]!.text).not.toContain('当前值');
  });
});

describe('e-mail failures', () => {
  it('an SMTP server that is down is a retryable failure naming the server', async () => {
    const port = await freePort();
    const channel = createEmailChannel({ to: ['x@example.cn'], from: 'sqm@example.cn', smtp: { host: '127.0.0.1', port } }, deps(), 2000);
    const error = await channel.send(notice([instance('GD')]), signal()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as ChannelError).permanent).toBe(false);
    expect((error as ChannelError).message).toMatch(new RegExp(`^SMTP 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('a password variable that is not set is a permanent failure naming the variable', async () => {
    const channel = createEmailChannel({
      to: ['x@example.cn'], from: 'sqm@example.cn', smtp: { host: '127.0.0.1', port: 25, user: 'sqm', passwordEnv: 'SQM_NOT_SET_ANYWHERE' },
    }, deps(), 2000);
    await expect(channel.send(notice([instance('GD')]), signal())).rejects.toMatchObject({
      permanent: true, message: 'SMTP password: the environment variable SQM_NOT_SET_ANYWHERE is not set',
    });
  });
});

const amSkip = alertmanagerSkipReason();
if (amSkip) process.stderr.write(`[sqm tests] Alertmanager channel tests SKIPPED: ${amSkip}\n`);

describe.skipIf(!!amSkip)(amSkip ? `Alertmanager (SKIPPED: ${amSkip})` : 'Prometheus Alertmanager (a real one)', () => {
  let am: AlertmanagerServer;
  beforeAll(async () => {
    am = await startAlertmanager();
  });
  afterAll(async () => {
    await am?.stop();
  });

  // Alertmanager judges startsAt/endsAt against its own (real) clock, so these notices use real times.
  const real = (offsetSeconds: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000).toISOString();

  it('posts to /api/v2/alerts; the alert is there with its labels, annotations and times, and resolving it ends it', async () => {
    const channel = createAlertmanagerChannel({ url: am.url }, deps());
    const startsAt = real(-300);
    const gd = instance('GD', { firingSince: startsAt, since: startsAt });
    const validUntil = real(4 * 3600);
    await channel.send(notice([gd], { createdAt: real(0), validUntil }), signal());
    const alerts = await am.alerts(['alertname="answer-rate"', 'region="GD"']);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.labels).toEqual({ alertname: 'answer-rate', rule: 'answer-rate', region: 'GD', severity: 'critical', source: 'sqm' });
    expect(alert.annotations).toMatchObject({
      summary: 'GD answer rate 87.5%, below 90%',
      summary_zh: 'GD 人工接通率 87.5%，低于 90%',
      value: '0.875', threshold: '0.9', volume: '412', region_zh: '广东', region_en: 'Guangdong',
      sqm_instance_id: 'answer-rate:GD',
    });
    expect(Date.parse(alert.startsAt)).toBe(Date.parse(startsAt));
    expect(Date.parse(alert.endsAt)).toBe(Date.parse(validUntil));
    expect(alert.generatorURL).toBe('http://localhost:8080/alerts/answer-rate%3AGD');
    expect(['active', 'unprocessed']).toContain(alert.status.state);

    const resolvedAt = real(-1);
    await channel.send(notice([gd], { status: 'resolved', createdAt: resolvedAt, validUntil }), signal());
    // A resolved alert leaves the list of alerts that are active, silenced, inhibited or unprocessed.
    expect(await am.alerts(['alertname="answer-rate"', 'region="GD"'])).toEqual([]);
  });

  it('a payload Alertmanager refuses is a permanent failure with its message', async () => {
    const channel = createAlertmanagerChannel({ url: am.url }, deps());
    // startsAt after endsAt: Alertmanager answers 400.
    const bad = notice([instance('SH', { firingSince: real(3600) })], { createdAt: real(0), validUntil: real(60) });
    const error = await channel.send(bad, signal()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect((error as ChannelError).permanent).toBe(true);
    expect((error as ChannelError).message).toMatch(/answered HTTP 400/);
    expect(alertmanagerPayload(bad)).toHaveLength(1);
  });
});

describe('webhook, WeCom and DingTalk to a local HTTP receiver', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('webhook: the documented JSON payload, exactly, with a bearer token from the environment', async () => {
    receiver.requests.length = 0;
    receiver.respond(() => ({ status: 204, body: '' }));
    const n = notice([instance('GD'), instance('BJ', { severity: 'warning' })]);
    await createWebhookChannel({ url: `${receiver.url}/hooks/sqm`, auth: { type: 'bearer', tokenEnv: 'SQM_TEST_HOOK_TOKEN' } }, deps()).send(n, signal());
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/sqm');
    expect(request.headers.authorization).toBe('Bearer hook-token-123');
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.headers['x-sqm-notification-id']).toBe('notice-42');
    expect(request.body).toEqual(JSON.parse(JSON.stringify(webhookPayload(n))));
    expect(request.body).toMatchObject({
      version: '1', source: 'sqm', id: 'notice-42', kind: 'firing', status: 'firing',
      alerts: [
        { instanceId: 'answer-rate:GD', rule: 'answer-rate', severity: 'critical', value: 0.875, threshold: 0.9, volume: 412, region: { code: 'GD', zh: '广东', en: 'Guangdong' } },
        { instanceId: 'answer-rate:BJ', severity: 'warning', region: { code: 'BJ', zh: '北京', en: 'Beijing' } },
      ],
    });
  });

  it('webhook: basic auth; a 5xx is retryable, a 4xx is not', async () => {
    receiver.requests.length = 0;
    receiver.respond(() => ({ status: 503, body: 'busy' }));
    const channel = createWebhookChannel({ url: `${receiver.url}/h`, auth: { type: 'basic', username: 'sqm', passwordEnv: 'SQM_TEST_HOOK_PASSWORD' } }, deps());
    const busy = await channel.send(notice([instance('GD')]), signal()).then(() => undefined, (e: unknown) => e as ChannelError);
    expect(receiver.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('sqm:p@ss:word').toString('base64')}`);
    expect(busy).toMatchObject({ permanent: false, message: `http://127.0.0.1:${new URL(receiver.url).port}/h answered HTTP 503: busy` });
    receiver.respond(() => ({ status: 401, body: 'who are you' }));
    const refused = await channel.send(notice([instance('GD')]), signal()).then(() => undefined, (e: unknown) => e as ChannelError);
    expect(refused).toMatchObject({ permanent: true });
  });

  it('WeCom robot: markdown to the robot URL with its key from the environment', async () => {
    receiver.requests.length = 0;
    receiver.respond(() => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' }));
    const n = notice([instance('GD')], { language: 'zh' });
    await createWecomChannel({ url: `${receiver.url}/cgi-bin/webhook/send`, keyEnv: 'SQM_TEST_WECOM_KEY' }, deps()).send(n, signal());
    const request = receiver.requests[0]!;
    expect(request.path).toBe('/cgi-bin/webhook/send');
    expect(request.query.get('key')).toBe(ENV.SQM_TEST_WECOM_KEY);
    expect(request.body).toEqual({ msgtype: 'markdown', markdown: { content: renderMarkdown(n, WECOM_MAX_BYTES) } });
    expect((request.body as { markdown: { content: string } }).markdown.content).toBe([
      '### 【严重】人工接通率 — 广东 (GD)',
      '新告警：1 条告警中',
      '**【严重】人工接通率 — 广东 (GD)**',
      '> 当前值 87.5%，阈值 90%，样本量 412',
      '> 开始于 2026-11-30 09:00 (UTC+08:00)',
      '> GD 人工接通率 87.5%，低于 90%',
      '[查看详情](http://localhost:8080/alerts/answer-rate%3AGD)',
    ].join('\n\n'));
  });

  it('WeCom robot: a non-zero errcode is a failure with the robot\'s message', async () => {
    receiver.respond(() => ({ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' }));
    await expect(createWecomChannel({ url: `${receiver.url}/cgi-bin/webhook/send`, keyEnv: 'SQM_TEST_WECOM_KEY' }, deps()).send(notice([instance('GD')]), signal()))
      .rejects.toMatchObject({ message: 'WeCom robot refused the message: errcode 93000 invalid webhook url' });
  });

  it('DingTalk robot: markdown with title and text, access token, timestamp and a signature the receiver verifies', async () => {
    receiver.requests.length = 0;
    receiver.respond((req) => {
      // The robot's own check: sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
      const timestamp = req.query.get('timestamp') ?? '';
      const expected = createHmac('sha256', ENV.SQM_TEST_DING_SECRET).update(`${timestamp}\n${ENV.SQM_TEST_DING_SECRET}`).digest('base64');
      const ok = req.query.get('sign') === expected && req.query.get('access_token') === ENV.SQM_TEST_DING_TOKEN;
      return { status: 200, body: ok ? '{"errcode":0,"errmsg":"ok"}' : '{"errcode":310000,"errmsg":"sign not match"}' };
    });
    const fixed = new Date('2026-11-30T01:00:31.234Z');
    const n = notice([instance('GD')]);
    await createDingtalkChannel({ url: `${receiver.url}/robot/send`, accessTokenEnv: 'SQM_TEST_DING_TOKEN', secretEnv: 'SQM_TEST_DING_SECRET' }, deps(() => fixed)).send(n, signal());
    const request = receiver.requests[0]!;
    expect(request.path).toBe('/robot/send');
    expect(request.query.get('timestamp')).toBe(String(fixed.getTime()));
    // The base64 signature travels URL-encoded: no raw "+", "/" or "=" in the query string.
    const rawQuery = new URL(`http://x${request.path}?${request.query.toString()}`).search;
    expect(rawQuery).not.toMatch(/sign=[^&]*[+/=]/);
    expect(request.body).toEqual(dingtalkPayload(n));
    expect(request.body).toMatchObject({ msgtype: 'markdown', markdown: { title: '【严重】人工接通率 — 广东 (GD)' } });
  });

  it('DingTalk robot: a wrong secret is refused by the receiver and reported', async () => {
    const channel = createDingtalkChannel(
      { url: `${receiver.url}/robot/send`, accessTokenEnv: 'SQM_TEST_DING_TOKEN', secretEnv: 'SQM_TEST_WRONG_SECRET' },
      { ...deps(), env: { ...ENV, SQM_TEST_WRONG_SECRET: 'SECnot-the-right-one' } },
    );
    await expect(channel.send(notice([instance('GD')]), signal())).rejects.toMatchObject({ message: 'DingTalk robot refused the message: errcode 310000 sign not match' });
  });

  it('a robot key that is not set fails at once, naming the variable, and nothing is sent', async () => {
    receiver.requests.length = 0;
    await expect(createWecomChannel({ url: `${receiver.url}/x`, keyEnv: 'SQM_UNSET_KEY' }, deps()).send(notice([instance('GD')]), signal()))
      .rejects.toMatchObject({ permanent: true, message: 'WeCom robot key: the environment variable SQM_UNSET_KEY is not set' });
    expect(receiver.requests).toHaveLength(0);
  });
});
