/**
 * Human text of a notice, in Chinese and English, shared by every channel so
 * an e-mail, a WeCom card and a DingTalk message say the same thing: rule,
 * region (with its Chinese or English name), severity, value against
 * threshold, volume, since when, and a link to the dashboard.
 *
 * Renderers work per language; `language: both` puts Chinese first, then
 * English, because the operator's staff read Chinese first.
 */
import type { Severity } from '../types.js';
import type { Language, Notification, NotificationAlert, ValueUnit } from './types.js';

export type Lang = 'zh' | 'en';

/** The languages a notice is written in, in order. */
export function languagesOf(language: Language): Lang[] {
  return language === 'both' ? ['zh', 'en'] : [language];
}

const SEVERITY: Record<Severity, Record<Lang, string>> = {
  critical: { zh: '严重', en: 'CRITICAL' },
  warning: { zh: '警告', en: 'WARNING' },
};
const RESOLVED: Record<Lang, string> = { zh: '已恢复', en: 'RESOLVED' };

const KIND: Record<Notification['kind'], Record<Lang, string>> = {
  firing: { zh: '新告警', en: 'New alert' },
  update: { zh: '告警更新', en: 'Alert update' },
  resolved: { zh: '告警恢复', en: 'Resolved' },
  repeat: { zh: '仍在告警', en: 'Still firing' },
};

/** The highest severity among firing alerts, or null when none fires. */
export function topSeverity(notification: Notification): Severity | null {
  let top: Severity | null = null;
  for (const alert of notification.alerts) {
    if (alert.status !== 'firing') continue;
    if (alert.severity === 'critical') return 'critical';
    if (alert.severity === 'warning') top = 'warning';
  }
  return top;
}

/** `严重` / `CRITICAL`, or `已恢复` / `RESOLVED`, for a notice or one alert. */
export function statusWord(status: 'firing' | 'resolved', severity: Severity | null, lang: Lang): string {
  if (status === 'resolved') return RESOLVED[lang];
  return SEVERITY[severity ?? 'warning'][lang];
}

export function ruleName(alert: NotificationAlert, lang: Lang): string {
  return alert.kpi ? alert.kpi[lang] : alert.ruleId;
}

export function regionName(alert: NotificationAlert, lang: Lang): string | null {
  if (alert.region) return `${alert.region[lang]} (${alert.region.code})`;
  return alert.labels.region ?? null;
}

function trimNumber(value: number, digits: number): string {
  return Number(value.toFixed(digits)).toString();
}

/** A value in its unit: 0.875 ratio → `87.5%`, 35 seconds → `35 秒` / `35 s`. */
export function formatValue(value: number | null, unit: ValueUnit | null, lang: Lang): string {
  if (value === null || !Number.isFinite(value)) return lang === 'zh' ? '无数据' : 'no data';
  switch (unit) {
    case 'ratio':
      return `${trimNumber(value * 100, 1)}%`;
    case 'seconds':
      return lang === 'zh' ? `${trimNumber(value, 1)} 秒` : `${trimNumber(value, 1)} s`;
    case 'minutes':
      return lang === 'zh' ? `${trimNumber(value, 1)} 分钟` : `${trimNumber(value, 1)} min`;
    case 'hours':
      return lang === 'zh' ? `${trimNumber(value, 2)} 小时` : `${trimNumber(value, 2)} h`;
    case 'per_million':
      return lang === 'zh' ? `${trimNumber(value, 2)} 件/百万用户` : `${trimNumber(value, 2)} per million`;
    case 'burn_rate':
      return `${trimNumber(value, 1)}×`;
    case 'count':
      return trimNumber(value, 0);
    default:
      return trimNumber(value, 4);
  }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * `2026-11-30 09:12 (UTC+08:00)`: local wall time in the configured zone with
 * its offset, which reads the same in both languages and cannot be misread
 * by someone in another zone.
 */
export function formatTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  const offsetMinutes = Math.round((local - Math.floor(date.getTime() / 60_000) * 60_000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${get('year')}-${pad(get('month'))}-${pad(get('day'))} ${pad(get('hour'))}:${pad(get('minute'))} (UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)})`;
}

/** `【严重】人工接通率 — 广东 (GD)` or `[CRITICAL] Answer rate — Guangdong (GD)`. */
export function alertHeadline(alert: NotificationAlert, lang: Lang): string {
  const word = statusWord(alert.status, alert.severity, lang);
  const region = regionName(alert, lang);
  const what = region ? `${ruleName(alert, lang)} — ${region}` : ruleName(alert, lang);
  return lang === 'zh' ? `【${word}】${what}` : `[${word}] ${what}`;
}

/**
 * The notice's title (an e-mail subject, a robot card's title): severity,
 * rule and region of the group, and how many alerts it holds.
 */
export function title(notification: Notification, lang: Lang): string {
  const first = notification.alerts[0];
  if (!first) return lang === 'zh' ? 'SQM 告警' : 'SQM alert';
  const head = alertHeadline({ ...first, status: notification.status, severity: topSeverity(notification) ?? first.severity }, lang);
  const n = notification.alerts.length;
  if (n === 1) return head;
  return lang === 'zh' ? `${head} 等 ${n} 条` : `${head} and ${n - 1} more`;
}

/** The lines describing one alert (no markup). */
export function alertLines(alert: NotificationAlert, lang: Lang, timeZone: string): string[] {
  const unit = alert.ruleKind === 'burn_rate' ? 'burn_rate' : alert.ruleKind === 'sla' ? 'count' : (alert.kpi?.unit ?? null);
  const value = formatValue(alert.value, unit, lang);
  const threshold = formatValue(alert.threshold, unit, lang);
  const volume = alert.volume === null ? null : trimNumber(alert.volume, 0);
  const lines: string[] = [];
  if (lang === 'zh') {
    lines.push(`当前值 ${value}，阈值 ${threshold}${volume === null ? '' : `，样本量 ${volume}`}`);
    if (alert.previousSeverity && alert.severity && alert.previousSeverity !== alert.severity && alert.status === 'firing') {
      lines.push(`级别：${SEVERITY[alert.previousSeverity].zh} → ${SEVERITY[alert.severity].zh}`);
    }
    lines.push(`开始于 ${formatTime(alert.startsAt, timeZone)}`);
    if (alert.endsAt) lines.push(`恢复于 ${formatTime(alert.endsAt, timeZone)}`);
    if (alert.summary.zh) lines.push(alert.summary.zh);
    if (alert.acknowledged) {
      lines.push(`已确认：${alert.acknowledged.by}，${formatTime(alert.acknowledged.at, timeZone)}${alert.acknowledged.comment ? `（${alert.acknowledged.comment}）` : ''}`);
    }
    if (alert.projectedMissAt) lines.push(`按当前速度，预计 ${formatTime(alert.projectedMissAt, timeZone)} 无法达成今日目标`);
  } else {
    lines.push(`Value ${value} vs threshold ${threshold}${volume === null ? '' : `, volume ${volume}`}`);
    if (alert.previousSeverity && alert.severity && alert.previousSeverity !== alert.severity && alert.status === 'firing') {
      lines.push(`Severity: ${SEVERITY[alert.previousSeverity].en} → ${SEVERITY[alert.severity].en}`);
    }
    lines.push(`Since ${formatTime(alert.startsAt, timeZone)}`);
    if (alert.endsAt) lines.push(`Resolved at ${formatTime(alert.endsAt, timeZone)}`);
    if (alert.summary.en) lines.push(alert.summary.en);
    if (alert.acknowledged) {
      lines.push(`Acknowledged by ${alert.acknowledged.by} at ${formatTime(alert.acknowledged.at, timeZone)}${alert.acknowledged.comment ? ` ("${alert.acknowledged.comment}")` : ''}`);
    }
    if (alert.projectedMissAt) lines.push(`At this pace today's target is missed at ${formatTime(alert.projectedMissAt, timeZone)}`);
  }
  for (const item of (alert.items ?? []).slice(0, MAX_ITEMS)) {
    const pct = `${Math.round(item.elapsed * 100)}%`;
    lines.push(lang === 'zh'
      ? `· ${item.kind === 'ticket' ? '工单' : '故障'} ${item.id}：${item.target} 时限 ${formatTime(item.deadline, timeZone)}，已用 ${pct}`
      : `· ${item.kind} ${item.id}: ${item.target} deadline ${formatTime(item.deadline, timeZone)}, ${pct} elapsed`);
  }
  const more = (alert.items?.length ?? 0) - MAX_ITEMS;
  if (more > 0) lines.push(lang === 'zh' ? `· 另有 ${more} 项` : `· and ${more} more`);
  return lines;
}

/** Items listed per SLA alert; the rest are counted. */
const MAX_ITEMS = 10;
/** Alerts listed per notice; the rest are counted, so a bad day is one readable message. */
export const MAX_ALERTS = 20;

export function linkText(lang: Lang): string {
  return lang === 'zh' ? '查看详情' : 'Open in dashboard';
}

function kindLine(notification: Notification, lang: Lang): string {
  const firing = notification.alerts.filter((a) => a.status === 'firing').length;
  const resolved = notification.alerts.length - firing;
  const kind = KIND[notification.kind][lang];
  if (lang === 'zh') return `${kind}：${firing} 条告警中${resolved > 0 ? `，${resolved} 条已恢复` : ''}`;
  return `${kind}: ${firing} firing${resolved > 0 ? `, ${resolved} resolved` : ''}`;
}

/** Plain text (e-mail text part, webhook `text`). */
export function renderText(notification: Notification): string {
  const blocks: string[] = [];
  for (const lang of languagesOf(notification.language)) {
    const lines = [title(notification, lang), kindLine(notification, lang), ''];
    for (const alert of notification.alerts.slice(0, MAX_ALERTS)) {
      lines.push(alertHeadline(alert, lang), ...alertLines(alert, lang, notification.timezone), `${linkText(lang)}: ${alert.url}`, '');
    }
    const more = notification.alerts.length - MAX_ALERTS;
    if (more > 0) lines.push(lang === 'zh' ? `另有 ${more} 条告警未列出` : `${more} more alerts not listed`, '');
    blocks.push(lines.join('\n').trimEnd());
  }
  return blocks.join('\n\n----\n\n') + '\n';
}

/** Characters that would turn plain text into markdown syntax. */
function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, '\\$1');
}

/**
 * Markdown for the robots (WeCom and DingTalk read the same small subset:
 * headings, bold, links, block quotes). Paragraphs are separated by blank
 * lines, which both render as line breaks. Cut to `maxBytes` of UTF-8 on a
 * paragraph boundary, saying how much was left out.
 */
export function renderMarkdown(notification: Notification, maxBytes: number): string {
  const paragraphs: string[] = [];
  for (const lang of languagesOf(notification.language)) {
    paragraphs.push(`### ${escapeMarkdown(title(notification, lang))}`, escapeMarkdown(kindLine(notification, lang)));
    for (const alert of notification.alerts.slice(0, MAX_ALERTS)) {
      paragraphs.push(`**${escapeMarkdown(alertHeadline(alert, lang))}**`);
      for (const line of alertLines(alert, lang, notification.timezone)) paragraphs.push(`> ${escapeMarkdown(line)}`);
      paragraphs.push(`[${linkText(lang)}](${alert.url})`);
    }
    const more = notification.alerts.length - MAX_ALERTS;
    if (more > 0) paragraphs.push(lang === 'zh' ? `另有 ${more} 条告警未列出` : `${more} more alerts not listed`);
  }
  return fitParagraphs(paragraphs, maxBytes);
}

function fitParagraphs(paragraphs: string[], maxBytes: number): string {
  const whole = paragraphs.join('\n\n');
  if (Buffer.byteLength(whole, 'utf8') <= maxBytes) return whole;
  const cut = '\n\n…（内容过长已截断 / message cut）';
  const budget = maxBytes - Buffer.byteLength(cut, 'utf8');
  let out = '';
  for (const p of paragraphs) {
    const next = out ? `${out}\n\n${p}` : p;
    if (Buffer.byteLength(next, 'utf8') > budget) break;
    out = next;
  }
  return out + cut;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** An e-mail's HTML part: one section per language, one block per alert. */
export function renderHtml(notification: Notification): string {
  const sections: string[] = [];
  for (const lang of languagesOf(notification.language)) {
    const alerts = notification.alerts.slice(0, MAX_ALERTS).map((alert) => {
      const color = alert.status === 'resolved' ? '#2e7d32' : alert.severity === 'critical' ? '#c62828' : '#ef6c00';
      const lines = alertLines(alert, lang, notification.timezone).map((l) => `<li>${escapeHtml(l)}</li>`).join('');
      return `<div style="border-left:4px solid ${color};padding:4px 12px;margin:12px 0">`
        + `<p style="margin:4px 0;font-weight:bold;color:${color}">${escapeHtml(alertHeadline(alert, lang))}</p>`
        + `<ul style="margin:4px 0;padding-left:18px">${lines}</ul>`
        + `<p style="margin:4px 0"><a href="${escapeHtml(alert.url)}">${escapeHtml(linkText(lang))}</a></p></div>`;
    });
    const more = notification.alerts.length - MAX_ALERTS;
    if (more > 0) alerts.push(`<p>${escapeHtml(lang === 'zh' ? `另有 ${more} 条告警未列出` : `${more} more alerts not listed`)}</p>`);
    sections.push(`<section lang="${lang === 'zh' ? 'zh-CN' : 'en'}">`
      + `<h2 style="font-size:18px">${escapeHtml(title(notification, lang))}</h2>`
      + `<p>${escapeHtml(kindLine(notification, lang))}</p>${alerts.join('')}</section>`);
  }
  return '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
    + `<body style="font-family:sans-serif">${sections.join('<hr>')}</body></html>`;
}

/** The e-mail subject: rule, region and severity, in the receiver's language(s). */
export function subject(notification: Notification): string {
  return languagesOf(notification.language).map((lang) => title(notification, lang)).join(' | ');
}
