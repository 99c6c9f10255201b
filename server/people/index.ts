/**
 * People: users (with scrypt passwords), server-side sessions, API and display
 * tokens, and the login guard. `createPeople` builds them once per app.
 */
import type { Store } from '../../store/index.js';
import type { SecuritySettings } from '../security.js';
import { ApiTokenStore } from './api-tokens.js';
import { LoginGuard } from './login-guard.js';
import { SessionStore } from './sessions.js';
import { UserDirectory } from './users.js';

export * from './api-tokens.js';
export * from './login-guard.js';
export * from './passwords.js';
export * from './sessions.js';
export * from './users.js';
export { USERNAME_PATTERN, TOKEN_NAME_PATTERN } from './rows.js';

export interface People {
  users: UserDirectory;
  sessions: SessionStore;
  tokens: ApiTokenStore;
  guard: LoginGuard;
}

export function createPeople(options: { store: Store; now: () => Date; security: SecuritySettings }): People {
  const { store, now, security } = options;
  const minute = 60_000;
  return {
    users: new UserDirectory({ store, now }),
    sessions: new SessionStore({ store, now }),
    tokens: new ApiTokenStore({ store, now }),
    guard: new LoginGuard({
      maxFailuresPerUser: security.login.maxFailuresPerUser,
      maxFailuresPerIp: security.login.maxFailuresPerIp,
      windowMs: security.login.failureWindowMinutes * minute,
      lockoutMs: security.login.lockoutMinutes * minute,
      now,
    }),
  };
}
