import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { alertmanagerPayload, alertsEndpoint } from '../../alerts/notifiers/alertmanager.js';
import { dingtalkPayload, dingtalkSign } from '../../alerts/notifiers/dingtalk.js';
import { emailMessage } from '../../alerts/notifiers/email.js';
import { formatTime, formatValue, renderHtml, renderMarkdown, renderText, subject, title } from '../../alerts/notifiers/render.js';
import type { Notification } from '../../alerts/notifiers/types.js';
import { webhookPayload } from '../../alerts/notifiers/webhook.js';
import { wecomPayload, WECOM_MAX_BYTES } from '../../alerts/notifiers/wecom.js';
import { alertUrl, kpiOf, noticeContext, toNotificationAlert } from '../../alerts/notify/notice.js';
import type { AlertInstance } from '../../alerts/types.js';
import { instance } from '../helpers/alert-fixtures.js';

const context = noticeContext(loadConfig());

function notice(instances: AlertInstance[], overrides: Partial<Notification> = {}, status: 'firing' | 'resolved' = 'firing'): Notification {
  return {
    id: 'n-1',
    kind: status === 'firing' ? 'firing' : 'resolved',
    status,
    policy: 'regional-managers',
    receiver: 'gd-manager',
    channel: 'email',
    language: 'both',
    groupKey: '{rule="answer-rate",region="GD"}',
    groupLabels: { rule: 'answer-rate', region: 'GD' },
    alerts: instances.map((i) => toNotificationAlert(i, {
      event: status === 'firing' ? 'firing' : 'resolved',
      status,
      previousSeverity: null,
      endsAt: status === 'resolved' ? '2026-11-30T02:30:00.000Z' : null,
    }, context)),
    createdAt: '2026-11-30T01:00:30.000Z',
    validUntil: '2026-11-30T05:10:30.000Z',
    timezone: 'Asia/Shanghai',
    ...overrides,
  };
}

describe('message text', () => {
  it('formats times in the configured zone with its offset', () => {
    expect(formatTime('2026-11-30T01:12:45Z', 'Asia/Shanghai')).toBe('2026-11-30 09:12 (UTC+08:00)');
    expect(formatTime('2026-11-30T23:30:00Z', 'Asia/Shanghai')).toBe('2026-12-01 07:30 (UTC+08:00)');
    expect(formatTime('2026-07-01T12:00:00Z', 'America/New_York')).toBe('2026-07-01 08:00 (UTC-04:00)');
  });

  it('formats values by unit in both languages', () => {
    expect(formatValue(0.875, 'ratio', 'zh')).toBe('87.5%');
    expect(formatValue(0.9, 'ratio', 'en')).toBe('90%');
    expect(formatValue(35, 'seconds', 'zh')).toBe('35 秒');
    expect(formatValue(35, 'seconds', 'en')).toBe('35 s');
    expect(formatValue(4.25, 'hours', 'zh')).toBe('4.25 小时');
    expect(formatValue(null, 'ratio', 'zh')).toBe('无数据');
    expect(formatValue(14.4, 'burn_rate', 'en')).toBe('14.4×');
  });

  it('finds the KPI a rule watches for its names and unit', () => {
    expect(kpiOf(instance('GD'))).toEqual({ id: 'answer_rate', zh: '人工接通率', en: 'Answer rate', unit: 'ratio' });
    expect(kpiOf(instance('GD', { ruleId: 'gd-special', labels: { rule: 'gd-special', region: 'GD', kpi: 'csat' } }))?.id).toBe('csat');
    expect(kpiOf(instance('GD', { ruleId: 'ticket-deadlines', ruleKind: 'sla' }))).toBeNull();
  });

  it('links to the dashboard: the instance\'s own absolute link, a relative one joined, or the alert page', () => {
    expect(alertUrl(instance('GD', { url: 'https://sqm.example.cn/alerts/x' }), 'http://localhost:8080')).toBe('https://sqm.example.cn/alerts/x');
    expect(alertUrl(instance('GD', { url: '/alerts/answer-rate%3AGD' }), 'https://sqm.example.cn/')).toBe('https://sqm.example.cn/alerts/answer-rate%3AGD');
    expect(alertUrl(instance('GD'), 'https://sqm.example.cn')).toBe('https://sqm.example.cn/alerts/answer-rate%3AGD');
  });

  it('titles say severity, rule and region, in Chinese and English', () => {
    const n = notice([instance('GD')]);
    expect(title(n, 'zh')).toBe('【严重】人工接通率 — 广东 (GD)');
    expect(title(n, 'en')).toBe('[CRITICAL] Answer rate — Guangdong (GD)');
    expect(subject(n)).toBe('【严重】人工接通率 — 广东 (GD) | [CRITICAL] Answer rate — Guangdong (GD)');
    expect(subject({ ...n, language: 'zh' })).toBe('【严重】人工接通率 — 广东 (GD)');
    const two = notice([instance('GD', { severity: 'warning' }), instance('BJ')]);
    expect(title(two, 'zh')).toBe('【严重】人工接通率 — 广东 (GD) 等 2 条');
    expect(title(two, 'en')).toBe('[CRITICAL] Answer rate — Guangdong (GD) and 1 more');
    expect(title(notice([instance('GD')], {}, 'resolved'), 'en')).toBe('[RESOLVED] Answer rate — Guangdong (GD)');
  });

  it('the text says value vs threshold, volume, since when and where to look, Chinese first', () => {
    const text = renderText(notice([instance('GD', { acknowledged: { by: '张伟', at: '2026-11-30T01:05:00Z', comment: '已联系班长' } })]));
    expect(text).toBe([
      '【严重】人工接通率 — 广东 (GD)',
      '新告警：1 条告警中',
      '',
      '【严重】人工接通率 — 广东 (GD)',
      '当前值 87.5%，阈值 90%，样本量 412',
      '开始于 2026-11-30 09:00 (UTC+08:00)',
      'GD 人工接通率 87.5%，低于 90%',
      '已确认：张伟，2026-11-30 09:05 (UTC+08:00)（已联系班长）',
      '查看详情: http://localhost:8080/alerts/answer-rate%3AGD',
      '',
      '----',
      '',
      '[CRITICAL] Answer rate — Guangdong (GD)',
      'New alert: 1 firing',
      '',
      '[CRITICAL] Answer rate — Guangdong (GD)',
      'Value 87.5% vs threshold 90%, volume 412',
      'Since 2026-11-30 09:00 (UTC+08:00)',
      'GD answer rate 87.5%, below 90%',
      'Acknowledged by 张伟 at 2026-11-30 09:05 (UTC+08:00) ("已联系班长")',
      'Open in dashboard: http://localhost:8080/alerts/answer-rate%3AGD',
      '',
    ].join('\n'));
  });

  it('lists the items of an SLA alert and the projected miss of a burn-rate alert', () => {
    const sla = instance('GD', {
      ruleId: 'ticket-deadlines', ruleKind: 'sla', value: 2, threshold: 1, volume: null,
      items: [
        { kind: 'ticket', id: 'T-1', target: 'resolution', deadline: '2026-11-30T04:00:00Z', elapsed: 1.05 },
        { kind: 'fault', id: 'F-9', target: 'restore', deadline: '2026-11-30T03:00:00Z', elapsed: 0.8 },
      ],
    });
    const text = renderText(notice([sla], { language: 'en' }));
    expect(text).toContain('Value 2 vs threshold 1\n');
    expect(text).toContain('· ticket T-1: resolution deadline 2026-11-30 12:00 (UTC+08:00), 105% elapsed');
    expect(text).toContain('· fault F-9: restore deadline 2026-11-30 11:00 (UTC+08:00), 80% elapsed');
    const burn = instance('GD', { ruleId: 'answer-rate-budget', ruleKind: 'burn_rate', value: 14.4, threshold: 14.4, projectedMissAt: '2026-11-30T09:00:00Z' });
    expect(renderText(notice([burn], { language: 'zh' }))).toContain('按当前速度，预计 2026-11-30 17:00 (UTC+08:00) 无法达成今日目标');
  });

  it('HTML escapes what the engine wrote', () => {
    const html = renderHtml(notice([instance('GD', { summary: { zh: '<script>x</script>', en: 'a & b' } })]));
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('a &amp; b');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<section lang="zh-CN">');
    expect(html).toContain('<section lang="en">');
  });

  it('robot markdown stays within WeCom\'s 4096 bytes, cut on a paragraph and saying so', () => {
    const many = Array.from({ length: 60 }, (_, i) => instance(['GD', 'BJ', 'SH', 'ZJ', 'JS'][i % 5]!, {
      id: `answer-rate:${i}`, summary: { zh: '接通率持续下降，请立即检查排班与话务分配。'.repeat(3), en: 'Answer rate keeps falling; check staffing and routing now. '.repeat(2) },
    }));
    const content = wecomPayload(notice(many)).markdown.content;
    expect(Buffer.byteLength(content, 'utf8')).toBeLessThanOrEqual(WECOM_MAX_BYTES);
    expect(content.endsWith('…（内容过长已截断 / message cut）')).toBe(true);
    expect(content.startsWith('### 【严重】人工接通率 — 广东 (GD) 等 60 条')).toBe(true);
    const short = renderMarkdown(notice([instance('GD')]), WECOM_MAX_BYTES);
    expect(short).toContain('**【严重】人工接通率 — 广东 (GD)**');
    expect(short).toContain('> 当前值 87.5%，阈值 90%，样本量 412');
    expect(short).toContain('[查看详情](http://localhost:8080/alerts/answer-rate%3AGD)');
  });
});

describe('channel payloads', () => {
  it('signs DingTalk requests as documented: base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))', () => {
    // Worked out independently with Python's hmac, hashlib and base64.
    expect(dingtalkSign('SEC0123456789abcdef', 1700000000000)).toBe('TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=');
    const payload = dingtalkPayload(notice([instance('GD')]));
    expect(payload.msgtype).toBe('markdown');
    expect(payload.markdown.title).toBe('【严重】人工接通率 — 广东 (GD)');
  });

  it('Alertmanager: labels, annotations, endsAt from validUntil while firing, the resolve time once resolved', () => {
    const firing = alertmanagerPayload(notice([instance('GD')]));
    expect(firing).toEqual([{
      labels: { rule: 'answer-rate', region: 'GD', alertname: 'answer-rate', source: 'sqm', severity: 'critical' },
      annotations: {
        summary: 'GD answer rate 87.5%, below 90%',
        summary_zh: 'GD 人工接通率 87.5%，低于 90%',
        sqm_instance_id: 'answer-rate:GD',
        dashboard_url: 'http://localhost:8080/alerts/answer-rate%3AGD',
        value: '0.875',
        threshold: '0.9',
        volume: '412',
        region_zh: '广东',
        region_en: 'Guangdong',
      },
      startsAt: '2026-11-30T01:00:00.000Z',
      endsAt: '2026-11-30T05:10:30.000Z',
      generatorURL: 'http://localhost:8080/alerts/answer-rate%3AGD',
    }]);
    const resolved = alertmanagerPayload(notice([instance('GD')], {}, 'resolved'));
    expect(resolved[0]!.endsAt).toBe('2026-11-30T02:30:00.000Z');
    expect(alertsEndpoint('http://am:9093/')).toBe('http://am:9093/api/v2/alerts');
  });

  it('Alertmanager: after a severity change the old label set is ended, so it does not linger', () => {
    const n = notice([instance('GD')]);
    n.alerts[0]!.previousSeverity = 'warning';
    const payload = alertmanagerPayload(n);
    expect(payload.map((a) => [a.labels.severity, a.endsAt])).toEqual([
      ['critical', '2026-11-30T05:10:30.000Z'],
      ['warning', '2026-11-30T01:00:30.000Z'],
    ]);
  });

  it('webhook payload: the documented fields, no engine internals', () => {
    const payload = webhookPayload(notice([instance('GD')]));
    expect(Object.keys(payload)).toEqual(['version', 'source', 'id', 'kind', 'status', 'policy', 'receiver', 'groupKey', 'groupLabels', 'createdAt', 'title', 'text', 'alerts']);
    expect(payload.title).toEqual({ zh: '【严重】人工接通率 — 广东 (GD)', en: '[CRITICAL] Answer rate — Guangdong (GD)' });
    expect(payload.alerts[0]).toMatchObject({ instanceId: 'answer-rate:GD', rule: 'answer-rate', kpi: 'answer_rate', region: { code: 'GD', zh: '广东', en: 'Guangdong' }, value: 0.875 });
    expect(payload.alerts[0]).not.toHaveProperty('instance');
  });

  it('e-mail: both parts, Cc only when given, the notice id as a header', () => {
    const settings = { to: ['gd@example.cn'], from: 'SQM <sqm@example.cn>', smtp: { host: '127.0.0.1', port: 25 } };
    const message = emailMessage(settings, notice([instance('GD')]));
    expect(message.subject).toBe('【严重】人工接通率 — 广东 (GD) | [CRITICAL] Answer rate — Guangdong (GD)');
    expect(message).not.toHaveProperty('cc');
    expect(message.headers).toEqual({ 'X-SQM-Notification-Id': 'n-1' });
    expect(message.text).toContain('当前值 87.5%');
    expect(message.html).toContain('当前值 87.5%');
  });
});
