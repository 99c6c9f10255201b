/**
 * What the HTTP channels share: secrets read from the environment by name,
 * auth headers, and one POST that turns every way of failing into a
 * ChannelError with a message an operator can act on.
 */
import type { HttpAuthConfig } from '../../config/notifications.js';
import { ChannelError } from './types.js';

/** The value of the environment variable `name`; a clear error when it is unset. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ChannelError(`${what}: the environment variable ${name} is not set`, true);
  return value;
}

export function authHeader(auth: HttpAuthConfig | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  if (!auth) return {};
  if (auth.type === 'bearer') return { authorization: `Bearer ${secretFromEnv(env, auth.tokenEnv, 'bearer token')}` };
  const password = secretFromEnv(env, auth.passwordEnv, 'basic-auth password');
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${password}`, 'utf8').toString('base64')}` };
}

/** A URL for logs and errors: no query string, no credentials (robot keys ride in the query). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

const MAX_ERROR_BODY = 300;

export interface PostResult {
  status: number;
  body: string;
}

/**
 * POST a JSON body. A network error, a timeout (the signal) or a 5xx is worth
 * retrying; a 4xx other than 408 and 429 means the receiver refuses this
 * request as it stands (bad key, bad payload), so retrying cannot help.
 */
export async function postJson(
  fetchImpl: typeof fetch,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PostResult> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
  } catch (error) {
    if (signal.aborted) throw new ChannelError(`no answer from ${redactUrl(url)} in time (timed out)`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new ChannelError(`cannot reach ${redactUrl(url)}: ${detail}`);
  }
  let text = '';
  try {
    text = await response.text();
  } catch (error) {
    if (signal.aborted) throw new ChannelError(`no answer from ${redactUrl(url)} in time (timed out)`);
    throw new ChannelError(`reading the answer of ${redactUrl(url)} failed: ${(error as Error).message}`);
  }
  if (response.status < 200 || response.status >= 300) {
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    throw new ChannelError(`${redactUrl(url)} answered HTTP ${response.status}: ${text.slice(0, MAX_ERROR_BODY)}`, permanent);
  }
  return { status: response.status, body: text };
}

/**
 * The robots (WeCom, DingTalk) answer HTTP 200 with `{"errcode":0,"errmsg":"ok"}`;
 * any other errcode is a refusal (rate limit, bad key, bad signature).
 */
export function checkRobotAnswer(result: PostResult, robot: string): void {
  let parsed: { errcode?: unknown; errmsg?: unknown };
  try {
    parsed = JSON.parse(result.body) as typeof parsed;
  } catch {
    throw new ChannelError(`${robot} answered something that is not JSON: ${result.body.slice(0, MAX_ERROR_BODY)}`);
  }
  if (parsed.errcode !== 0) {
    throw new ChannelError(`${robot} refused the message: errcode ${String(parsed.errcode)} ${String(parsed.errmsg ?? '')}`.trim());
  }
}
