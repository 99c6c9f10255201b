/**
 * App-wide state: the language (kept in localStorage), the API token (kept
 * in sessionStorage: it dies with the tab), /api/v1/meta once signed in, and
 * the one API client every view uses.
 */
import { createApiClient } from './api.js';
import type { SocketLike } from './wallboard-feed.js';
import { isLang } from './i18n.js';
import { observable } from './observable.js';
import type { Lang, Meta } from './types.js';

const TOKEN_KEY = 'sqm.token';
const LANG_KEY = 'sqm.lang';

function safeGet(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function safeSet(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // Storage blocked (private mode, kiosk policy): the session lasts until the page closes.
  }
}

let token: string | null = safeGet(() => sessionStorage, TOKEN_KEY);

export function getToken(): string | null {
  return token;
}

export function setToken(value: string | null): void {
  token = value;
  safeSet(() => sessionStorage, TOKEN_KEY, value);
}

const storedLang = safeGet(() => localStorage, LANG_KEY);
export const lang = observable<Lang>(isLang(storedLang) ? storedLang : 'zh');
lang.subscribe((value) => {
  safeSet(() => localStorage, LANG_KEY, value);
  if (typeof document !== 'undefined') document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en';
});

export const meta = observable<Meta | null>(null);

/** Set when the server answered 401: the app shows the login screen. */
export const signedOut = observable(false);

export const api = createApiClient({
  token: getToken,
  onUnauthorized: () => signedOut.set(true),
});

/**
 * Opens the live stream (/api/v1/live) when this browser is signed in by a
 * session cookie; undefined with a bearer token, which a browser cannot put on
 * a WebSocket (the wallboard then polls).
 */
export function liveConnector(): (() => SocketLike) | undefined {
  if (getToken() !== null || typeof WebSocket === 'undefined') return undefined;
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/live`;
  return () => new WebSocket(url) as unknown as SocketLike;
}
