/**
 * Hash routing without a package: `#/wallboard?kiosk=1&regions=GD,BJ`,
 * `#/manager`, `#/scorecard?period=month`, `#/admin/rules`. Hash routes need
 * no server rewrite rules and survive a kiosk browser's restart.
 */

export const VIEWS = ['wallboard', 'manager', 'scorecard', 'admin'] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View | null;
  /** The part after the view (`rules` in `#/admin/rules`). */
  sub: string | null;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const [path = '', query = ''] = text.split('?', 2);
  const [first, second] = path.split('/').filter((s) => s.length > 0);
  const view = (VIEWS as readonly string[]).includes(first ?? '') ? (first as View) : null;
  return { view, sub: second ?? null, params: new URLSearchParams(query) };
}

export function routeHash(view: View, sub: string | null = null, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/${view}${sub ? `/${sub}` : ''}${query ? `?${query}` : ''}`;
}

/**
 * A kiosk URL may carry a display token once (`…&token=…`): return it and the
 * hash without it, so it does not linger in the address bar or the history.
 */
export function takeToken(hash: string): { token: string | null; hash: string } {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const [path = '', query = ''] = text.split('?', 2);
  const params = new URLSearchParams(query);
  const token = params.get('token');
  if (token === null) return { token: null, hash };
  params.delete('token');
  const rest = params.toString();
  return { token: token.trim() || null, hash: `#${path}${rest ? `?${rest}` : ''}` };
}

export const READ_ROLES = ['admin', 'executive', 'manager', 'supervisor', 'viewer'];

/** Who may open which view (the server checks again on every API call). */
export const VIEW_ROLES: Record<View, readonly string[]> = {
  wallboard: READ_ROLES,
  manager: READ_ROLES,
  scorecard: READ_ROLES,
  admin: ['admin'],
};

export function viewsFor(role: string): View[] {
  return VIEWS.filter((v) => VIEW_ROLES[v].includes(role));
}

/** Where a role lands after signing in. */
export function defaultView(role: string): View {
  switch (role) {
    case 'executive':
      return 'scorecard';
    case 'manager':
    case 'admin':
      return 'manager';
    default:
      return 'wallboard';
  }
}

/** `GD,BJ` → ['GD','BJ'], upper-cased, unknown codes dropped (they would only earn a 400). */
export function regionsParam(value: string | null, known: readonly string[]): string[] | null {
  if (!value) return null;
  const wanted = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => known.includes(s));
  return wanted.length > 0 ? [...new Set(wanted)] : null;
}
