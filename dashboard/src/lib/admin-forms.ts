/**
 * The admin forms as plain data: form fields (strings, as inputs hold them)
 * → request bodies for the receivers, policies, users, tokens and silences
 * APIs, with every problem naming its field before anything is sent. The
 * server checks again (config/notifications.ts, server/routes/users.ts …);
 * these checks only save a round trip and point at the input.
 *
 * Secrets never pass through here: receivers name the environment variables
 * that hold them (`passwordEnv`, `keyEnv` …), as the server requires.
 */
import type { AdminRecord, RulePreview, Severity } from './types.js';

export const CHANNEL_TYPES = ['webhook', 'email', 'wecom', 'dingtalk', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export const ROLE_NAMES = ['admin', 'manager', 'supervisor', 'executive', 'viewer', 'ingest'] as const;

/** A problem with one field; `reason` is an i18n key suffix (`admin.err.<reason>`). */
export interface FieldProblem {
  field: string;
  reason: 'required' | 'id' | 'envName' | 'url' | 'email' | 'port' | 'duration' | 'region' | 'number' | 'password';
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const URL_RE = /^https?:\/\/\S+$/;
const EMAIL = /^[^@\s<>]+@[^@\s<>]+$/;
const DURATION = /^(0|(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$/;
const REGION = /^[A-Z]{2,3}$/;

/** `a, b  c` → ['a', 'b', 'c']. */
export function parseList(text: string): string[] {
  return text.split(/[\s,，]+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

function regionsOf(text: string, field: string, problems: FieldProblem[]): string[] {
  const regions = parseList(text).map((r) => r.toUpperCase());
  if (regions.some((r) => !REGION.test(r))) problems.push({ field, reason: 'region' });
  return regions;
}

export interface ReceiverForm {
  id: string;
  channel: ChannelType;
  description: string;
  regions: string;
  language: 'zh' | 'en' | 'both';
  url: string;
  authType: 'none' | 'bearer' | 'basic';
  authUsername: string;
  /** bearer: tokenEnv; basic: passwordEnv. */
  authEnv: string;
  to: string;
  cc: string;
  from: string;
  smtpHost: string;
  smtpPort: string;
  smtpUser: string;
  smtpPasswordEnv: string;
  keyEnv: string;
  accessTokenEnv: string;
  secretEnv: string;
}

export function emptyReceiverForm(): ReceiverForm {
  return {
    id: '', channel: 'webhook', description: '', regions: '', language: 'both', url: '', authType: 'none', authUsername: '', authEnv: '',
    to: '', cc: '', from: '', smtpHost: '', smtpPort: '25', smtpUser: '', smtpPasswordEnv: '', keyEnv: '', accessTokenEnv: '', secretEnv: '',
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const list = (v: unknown): string => (Array.isArray(v) ? v.map(String).join(', ') : '');

/** A receiver as the API lists it, back into the form (for editing). */
export function receiverForm(record: AdminRecord): ReceiverForm {
  const form = emptyReceiverForm();
  form.id = str(record.id);
  form.channel = (CHANNEL_TYPES as readonly string[]).includes(str(record.channel)) ? (record.channel as ChannelType) : 'webhook';
  form.description = str(record.description);
  form.regions = list(record.regions);
  form.language = record.language === 'zh' || record.language === 'en' ? record.language : 'both';
  const settings = obj(record[form.channel]);
  form.url = str(settings.url);
  const auth = obj(settings.auth);
  if (auth.type === 'bearer') Object.assign(form, { authType: 'bearer', authEnv: str(auth.tokenEnv) });
  if (auth.type === 'basic') Object.assign(form, { authType: 'basic', authUsername: str(auth.username), authEnv: str(auth.passwordEnv) });
  form.to = list(settings.to);
  form.cc = list(settings.cc);
  form.from = str(settings.from);
  const smtp = obj(settings.smtp);
  form.smtpHost = str(smtp.host);
  form.smtpPort = str(smtp.port) || '25';
  form.smtpUser = str(smtp.user);
  form.smtpPasswordEnv = str(smtp.passwordEnv);
  form.keyEnv = str(settings.keyEnv);
  form.accessTokenEnv = str(settings.accessTokenEnv);
  form.secretEnv = str(settings.secretEnv);
  return form;
}

/** The receiver body for POST/PUT /api/v1/receivers, or the fields at fault. */
export function receiverBody(form: ReceiverForm): { body: Obj; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const need = (value: string, field: string, re: RegExp, reason: FieldProblem['reason'], optional = false): string | undefined => {
    const v = value.trim();
    if (v === '') {
      if (!optional) problems.push({ field, reason: 'required' });
      return undefined;
    }
    if (!re.test(v)) problems.push({ field, reason });
    return v;
  };
  const id = need(form.id, 'id', ID, 'id');
  const body: Obj = { id, channel: form.channel };
  if (form.description.trim()) body.description = form.description.trim();
  const regions = regionsOf(form.regions, 'regions', problems);
  if (regions.length > 0) body.regions = regions;
  if (form.language !== 'both') body.language = form.language;
  const c = form.channel;
  const authOf = (): Obj | undefined => {
    if (form.authType === 'bearer') return { type: 'bearer', tokenEnv: need(form.authEnv, `${c}.auth.tokenEnv`, ENV_NAME, 'envName') };
    if (form.authType === 'basic') {
      const username = form.authUsername.trim();
      if (!username) problems.push({ field: `${c}.auth.username`, reason: 'required' });
      return { type: 'basic', username, passwordEnv: need(form.authEnv, `${c}.auth.passwordEnv`, ENV_NAME, 'envName') };
    }
    return undefined;
  };
  if (c === 'webhook' || c === 'alertmanager') {
    const settings: Obj = { url: need(form.url, `${c}.url`, URL_RE, 'url') };
    const auth = authOf();
    if (auth) settings.auth = auth;
    body[c] = settings;
  } else if (c === 'email') {
    const to = parseList(form.to);
    if (to.length === 0) problems.push({ field: 'email.to', reason: 'required' });
    else if (to.some((a) => !EMAIL.test(a))) problems.push({ field: 'email.to', reason: 'email' });
    const cc = parseList(form.cc);
    if (cc.some((a) => !EMAIL.test(a))) problems.push({ field: 'email.cc', reason: 'email' });
    const port = Number(form.smtpPort.trim());
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push({ field: 'email.smtp.port', reason: 'port' });
    const smtp: Obj = { host: need(form.smtpHost, 'email.smtp.host', /\S/, 'required'), port };
    if (form.smtpUser.trim()) smtp.user = form.smtpUser.trim();
    const passwordEnv = need(form.smtpPasswordEnv, 'email.smtp.passwordEnv', ENV_NAME, 'envName', true);
    if (passwordEnv) smtp.passwordEnv = passwordEnv;
    body.email = { to, ...(cc.length > 0 ? { cc } : {}), from: need(form.from, 'email.from', EMAIL, 'email'), smtp };
  } else if (c === 'wecom') {
    const settings: Obj = { keyEnv: need(form.keyEnv, 'wecom.keyEnv', ENV_NAME, 'envName') };
    const url = need(form.url, 'wecom.url', URL_RE, 'url', true);
    if (url) settings.url = url;
    body.wecom = settings;
  } else {
    const settings: Obj = { accessTokenEnv: need(form.accessTokenEnv, 'dingtalk.accessTokenEnv', ENV_NAME, 'envName') };
    const secretEnv = need(form.secretEnv, 'dingtalk.secretEnv', ENV_NAME, 'envName', true);
    if (secretEnv) settings.secretEnv = secretEnv;
    const url = need(form.url, 'dingtalk.url', URL_RE, 'url', true);
    if (url) settings.url = url;
    body.dingtalk = settings;
  }
  return { body, problems };
}

export interface PolicyStepForm {
  after: string;
  receivers: string;
}

export interface PolicyForm {
  id: string;
  description: string;
  groupBy: string;
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
  steps: PolicyStepForm[];
}

export function emptyPolicyForm(): PolicyForm {
  return { id: '', description: '', groupBy: 'rule, region', groupWait: '30s', groupInterval: '5m', repeatInterval: '4h', steps: [{ after: '0', receivers: 'dashboard' }] };
}

export function policyForm(record: AdminRecord): PolicyForm {
  const steps = Array.isArray(record.steps) ? record.steps.map((s) => ({ after: str(obj(s).after) || '0', receivers: list(obj(s).receivers) })) : [];
  return {
    id: str(record.id), description: str(record.description), groupBy: Array.isArray(record.groupBy) ? list(record.groupBy) : 'rule, region',
    groupWait: str(record.groupWait) || '30s', groupInterval: str(record.groupInterval) || '5m', repeatInterval: str(record.repeatInterval) || '4h',
    steps: steps.length > 0 ? steps : emptyPolicyForm().steps,
  };
}

/** The policy body for POST/PUT /api/v1/policies; `known` receiver ids are checked when given. */
export function policyBody(form: PolicyForm, known?: readonly string[]): { body: Obj; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const id = form.id.trim();
  if (!id) problems.push({ field: 'id', reason: 'required' });
  else if (!ID.test(id)) problems.push({ field: 'id', reason: 'id' });
  const duration = (value: string, field: string): string => {
    const v = value.trim();
    if (!DURATION.test(v)) problems.push({ field, reason: 'duration' });
    return v;
  };
  const body: Obj = {
    id,
    groupBy: parseList(form.groupBy),
    groupWait: duration(form.groupWait, 'groupWait'),
    groupInterval: duration(form.groupInterval, 'groupInterval'),
    repeatInterval: duration(form.repeatInterval, 'repeatInterval'),
  };
  if (form.description.trim()) body.description = form.description.trim();
  if (form.steps.length === 0) problems.push({ field: 'steps', reason: 'required' });
  body.steps = form.steps.map((step, i) => {
    const receivers = parseList(step.receivers);
    if (receivers.length === 0) problems.push({ field: `steps.${i}.receivers`, reason: 'required' });
    else if (known && receivers.some((r) => !known.includes(r))) problems.push({ field: `steps.${i}.receivers`, reason: 'id' });
    return { after: duration(step.after || '0', `steps.${i}.after`), receivers };
  });
  return { body, problems };
}

export interface UserForm {
  username: string;
  displayName: string;
  password: string;
  role: string;
  regions: string;
}

export function userBody(form: UserForm, minPassword = 12): { body: Obj; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const username = form.username.trim();
  if (!username) problems.push({ field: 'username', reason: 'required' });
  if (form.password.length < minPassword) problems.push({ field: 'password', reason: 'password' });
  const regions = regionsOf(form.regions, 'regions', problems);
  const body: Obj = { username, password: form.password, role: form.role };
  if (form.displayName.trim()) body.displayName = form.displayName.trim();
  // Admins see every region; a scoped role with no regions listed sees every region too (null).
  body.regions = form.role === 'admin' || regions.length === 0 ? null : regions;
  return { body, problems };
}

export interface TokenForm {
  name: string;
  role: string;
  regions: string;
  display: boolean;
  expiresInDays: string;
}

export function tokenBody(form: TokenForm): { body: Obj; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const name = form.name.trim();
  if (!name) problems.push({ field: 'name', reason: 'required' });
  const regions = regionsOf(form.regions, 'regions', problems);
  const body: Obj = { name, role: form.role, regions: form.role === 'admin' || regions.length === 0 ? null : regions };
  if (form.display) body.display = true;
  if (form.expiresInDays.trim()) {
    const days = Number(form.expiresInDays.trim());
    if (!Number.isInteger(days) || days < 1 || days > 3660) problems.push({ field: 'expiresInDays', reason: 'number' });
    else body.expiresInDays = days;
  }
  return { body, problems };
}

export interface SilenceForm {
  matchers: string;
  hours: string;
  reason: string;
}

/** A silence from now for `hours` hours; matchers one per line or comma-separated (`region=GD`). */
export function silenceBody(form: SilenceForm, now: Date): { body: Obj; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const matchers = form.matchers.split(/[\n,]+/).map((m) => m.trim()).filter(Boolean);
  if (matchers.length === 0) problems.push({ field: 'matchers', reason: 'required' });
  const hours = Number(form.hours.trim());
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 90) problems.push({ field: 'hours', reason: 'number' });
  if (!form.reason.trim()) problems.push({ field: 'reason', reason: 'required' });
  const endsAt = new Date(now.getTime() + (Number.isFinite(hours) ? hours : 0) * 3_600_000);
  return { body: { matchers, startsAt: now.toISOString(), endsAt: endsAt.toISOString(), reason: form.reason.trim() }, problems };
}

/** POST /rules/preview's answer as the page shows it: firing and pending intervals, newest data last. */
export interface ServerPreview {
  from: string;
  to: string;
  step?: string;
  intervals: { labels: Record<string, string>; state: 'pending' | 'firing'; severity: Severity | null; from: string; to: string | null; value: number | null }[];
}

export function fromServerPreview(body: unknown): RulePreview {
  const p = obj(obj(body).preview ?? body) as unknown as Partial<ServerPreview> & { firings?: RulePreview['firings'] };
  if (Array.isArray(p.firings)) return p as RulePreview;
  const intervals = Array.isArray(p.intervals) ? p.intervals : [];
  const pick = (state: 'pending' | 'firing') => intervals
    .filter((i) => i.state === state)
    .map((i) => ({ labels: i.labels, severity: i.severity ?? 'warning', from: i.from, to: i.to, value: i.value }));
  return { ...(p.from ? { from: p.from } : {}), ...(p.to ? { to: p.to } : {}), firings: pick('firing'), pending: pick('pending') };
}
