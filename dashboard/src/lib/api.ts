/**
 * Every call the dashboard makes to the SQM server goes through this module,
 * so a new or changed endpoint is one edit here. Views never call fetch.
 *
 * Authentication: a bearer token when the user gave one (sessionStorage), and
 * always `credentials: 'same-origin'`, so a session cookie from
 * /api/v1/auth/login works as well.
 *
 * Endpoints of later issues (alerts, silences, rules, receivers, users, tokens)
 * may answer 404 on a server that does not have them yet: callers test
 * `isNotAvailable(error)` and show an empty state instead of an error.
 */
import type {
  AdminRecord, AlertHistoryEntry, AlertInstance, KpiQuery, KpiResponse, KpiRule, Meta, RulePreview, RuleView, Silence, SilenceInput,
} from './types.js';
import { fromServerPreview } from './admin-forms.js';

export class ApiFailure extends Error {
  override name = 'ApiFailure';
  constructor(
    /** HTTP status, or 0 when the server could not be reached (network error, timeout). */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The endpoint does not exist on this server (yet). */
export function isNotAvailable(error: unknown): boolean {
  return error instanceof ApiFailure && (error.status === 404 || error.status === 405 || error.status === 501);
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiFailure && error.status === 401;
}

export interface ApiClientOptions {
  /** Prefix for every path (default '' = same origin). */
  baseUrl?: string;
  /** The bearer token to send, if any (read on every call, so logging in or out needs no new client). */
  token: () => string | null;
  /** Called once per 401, so the app can show the login screen. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
  /** Abort a request that takes longer (ms); default 10 s, so a hung server shows as stale data. */
  timeoutMs?: number;
}

/** `KpiQuery` as URL parameters (RECORDS.md "KPI query"). */
export function kpiQueryString(query: KpiQuery): string {
  const params = new URLSearchParams();
  params.set('kpi', query.kpis.join(','));
  params.set('from', query.from.toISOString());
  params.set('to', query.to.toISOString());
  if (query.regions && query.regions.length > 0) params.set('region', query.regions.join(','));
  if (query.by && query.by.length > 0) params.set('by', query.by.join(','));
  if (query.step) params.set('step', query.step);
  return params.toString();
}

/** Lists may come bare or wrapped (`{ instances: [...] }`, `{ items: [...] }`): accept both, so a server-side envelope change does not break a view. */
export function unwrapList<T>(body: unknown, keys: readonly string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of keys) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  throw new ApiFailure(200, 'SQM_UNEXPECTED_BODY', `expected a list (${keys.join(', ')})`);
}

const LIST_KEYS = ['items', 'data', 'results'];

/** A listed rule: the server's RuleView, or a bare definition from a server that lists definitions. */
export function asRuleView(item: RuleView | KpiRule): RuleView {
  if ('definition' in item && item.definition && typeof item.definition === 'object') return item as RuleView;
  const definition = item as KpiRule;
  return { id: definition.id, kind: definition.kind ?? 'kpi', source: 'api', enabled: definition.enabled !== false, definition };
}

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    // X-SQM-Request: the server's CSRF check for cookie sessions (a cross-site form cannot set it).
    const headers: Record<string, string> = { accept: 'application/json', 'x-sqm-request': '1' };
    const token = options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        signal: controller.signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const aborted = controller.signal.aborted;
      throw new ApiFailure(0, aborted ? 'SQM_TIMEOUT' : 'SQM_NETWORK', aborted ? `no answer within ${timeoutMs} ms` : String((error as Error).message ?? error));
    } finally {
      clearTimeout(timer);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      if (response.status === 401) options.onUnauthorized?.();
      throw new ApiFailure(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText, error?.details);
    }
    return parsed as T;
  }

  const enc = encodeURIComponent;

  return {
    request,
    meta: () => request<Meta>('GET', '/api/v1/meta'),
    kpis: (query: KpiQuery) => request<KpiResponse>('GET', `/api/v1/kpis?${kpiQueryString(query)}`),

    // Sessions (issue 5): username/password login sets a session cookie.
    login: (username: string, password: string) => request<unknown>('POST', '/api/v1/auth/login', { username, password }),
    /** A wallboard's display token exchanged for a long session cookie (then no token needs keeping). */
    displayLogin: (token: string) => request<unknown>('POST', '/api/v1/auth/display', { token }),
    logout: () => request<unknown>('POST', '/api/v1/auth/logout', {}),

    // Alerts (issue 4, ALERTING.md).
    alerts: async (params: { state?: string; region?: string } = {}) => {
      const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][]).toString();
      return unwrapList<AlertInstance>(await request('GET', `/api/v1/alerts${query ? `?${query}` : ''}`), ['instances', 'alerts', ...LIST_KEYS]);
    },
    alertHistory: async (id: string) => unwrapList<AlertHistoryEntry>(await request('GET', `/api/v1/alerts/${enc(id)}/history`), ['history', 'entries', ...LIST_KEYS]),
    acknowledge: (id: string, comment: string) => request<unknown>('POST', `/api/v1/alerts/${enc(id)}/ack`, { comment }),
    silences: async () => unwrapList<Silence>(await request('GET', '/api/v1/silences'), ['silences', ...LIST_KEYS]),
    createSilence: (silence: SilenceInput) => request<{ silence: Silence }>('POST', '/api/v1/silences', silence),
    expireSilence: (id: string) => request<unknown>('DELETE', `/api/v1/silences/${enc(id)}`),

    // Admin (issues 4 and 5).
    rules: async () => unwrapList<RuleView | KpiRule>(await request('GET', '/api/v1/rules'), ['rules', ...LIST_KEYS]).map(asRuleView),
    /** PUT the definition as written (the server keeps its own bookkeeping). */
    saveRule: async (definition: KpiRule) => {
      const body = await request<unknown>('PUT', `/api/v1/rules/${enc(definition.id)}`, definition);
      const wrapped = body && typeof body === 'object' && 'rule' in body ? (body as { rule: unknown }).rule : body;
      // A server that answers without the rule (204, {}) stored what was sent.
      return asRuleView(wrapped && typeof wrapped === 'object' && 'id' in wrapped ? (wrapped as RuleView | KpiRule) : definition);
    },
    /** A server-side replay; the admin page replays on KPI buckets itself when this answers 404 (lib/rule-preview.ts). */
    previewRule: async (definition: KpiRule): Promise<RulePreview> => {
      // 1-minute steps come closest to the engine's cadence (`every`, often 30 s), so a short `for` shows as it would fire;
      // a rule the server can only replay with one query per step refuses that many (400 on `step`): then 5 minutes.
      try {
        return fromServerPreview(await request<unknown>('POST', '/api/v1/rules/preview', { rule: definition, step: '1m' }));
      } catch (error) {
        if (!(error instanceof ApiFailure && error.status === 400 && error.message.startsWith('step:'))) throw error;
        return fromServerPreview(await request<unknown>('POST', '/api/v1/rules/preview', { rule: definition, step: '5m' }));
      }
    },
    receivers: async () => unwrapList<AdminRecord>(await request('GET', '/api/v1/receivers'), ['receivers', ...LIST_KEYS]),
    policies: async () => unwrapList<AdminRecord>(await request('GET', '/api/v1/policies'), ['policies', ...LIST_KEYS]),
    users: async () => unwrapList<AdminRecord>(await request('GET', '/api/v1/users'), ['users', ...LIST_KEYS]),
    tokens: async () => unwrapList<AdminRecord>(await request('GET', '/api/v1/tokens'), ['tokens', ...LIST_KEYS]),
    createReceiver: (body: unknown) => request<AdminRecord>('POST', '/api/v1/receivers', body),
    updateReceiver: (id: string, body: unknown) => request<AdminRecord>('PUT', `/api/v1/receivers/${enc(id)}`, body),
    deleteReceiver: (id: string) => request<unknown>('DELETE', `/api/v1/receivers/${enc(id)}`),
    createPolicy: (body: unknown) => request<AdminRecord>('POST', '/api/v1/policies', body),
    updatePolicy: (id: string, body: unknown) => request<AdminRecord>('PUT', `/api/v1/policies/${enc(id)}`, body),
    deletePolicy: (id: string) => request<unknown>('DELETE', `/api/v1/policies/${enc(id)}`),
    createUser: (body: unknown) => request<AdminRecord>('POST', '/api/v1/users', body),
    /** Disable or enable, reset the password, change role or regions. */
    updateUser: (username: string, body: unknown) => request<AdminRecord>('PATCH', `/api/v1/users/${enc(username)}`, body),
    /** The answer carries `token`, shown this once. */
    createToken: (body: unknown) => request<AdminRecord & { token: string }>('POST', '/api/v1/tokens', body),
    revokeToken: (id: string) => request<unknown>('DELETE', `/api/v1/tokens/${enc(id)}`),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
