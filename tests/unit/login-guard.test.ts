import { describe, expect, it } from 'vitest';
import { LoginGuard } from '../../server/people/login-guard.js';

const MIN = 60_000;

function guard(overrides: Partial<ConstructorParameters<typeof LoginGuard>[0]> = {}) {
  let t = Date.parse('2026-11-30T08:00:00Z');
  const g = new LoginGuard({
    maxFailuresPerUser: 3, maxFailuresPerIp: 5, windowMs: 10 * MIN, lockoutMs: 15 * MIN, now: () => new Date(t), ...overrides,
  });
  return { g, advance: (ms: number) => { t += ms; } };
}

describe('login guard', () => {
  it('locks a name at its third failure within the window, for 15 minutes', () => {
    const { g, advance } = guard();
    expect(g.recordFailure('li', '10.0.0.1')).toEqual([]);
    advance(MIN);
    expect(g.recordFailure('li', '10.0.0.2')).toEqual([]);
    advance(MIN);
    expect(g.recordFailure('li', '10.0.0.3')).toEqual([{ scope: 'user', until: new Date('2026-11-30T08:17:00Z') }]);
    expect(g.check('li', '10.0.0.9')).toEqual({ scope: 'user', until: new Date('2026-11-30T08:17:00Z') });
    expect(g.check('wang', '10.0.0.9')).toBeUndefined();
    advance(15 * MIN - 1);
    expect(g.check('li', '10.0.0.9')).toBeDefined();
    advance(1);
    expect(g.check('li', '10.0.0.9')).toBeUndefined();
  });

  it('counts only failures inside the window', () => {
    const { g, advance } = guard();
    g.recordFailure('li', 'a');
    g.recordFailure('li', 'a');
    advance(10 * MIN);
    expect(g.recordFailure('li', 'a')).toEqual([]);
    expect(g.check('li', 'a')).toBeUndefined();
  });

  it('locks an address that fails across names', () => {
    const { g } = guard();
    for (const name of ['a', 'b', 'c', 'd']) expect(g.recordFailure(name, '10.9.9.9')).toEqual([]);
    expect(g.recordFailure('e', '10.9.9.9')).toEqual([{ scope: 'ip', until: new Date('2026-11-30T08:15:00Z') }]);
    expect(g.check('anyone', '10.9.9.9')?.scope).toBe('ip');
    expect(g.check('anyone', '10.9.9.8')).toBeUndefined();
  });

  it('clears a name on success, but not its address', () => {
    const { g } = guard();
    g.recordFailure('li', 'x');
    g.recordFailure('li', 'x');
    g.recordSuccess('li');
    expect(g.recordFailure('li', 'x')).toEqual([]);
    // The address has 3 failures now; two more lock it.
    g.recordFailure('wang', 'x');
    expect(g.recordFailure('zhao', 'x')).toEqual([{ scope: 'ip', until: expect.any(Date) }]);
  });

  it('forgets the oldest names first when full, so guessing random names cannot grow memory', () => {
    const { g } = guard({ maxEntries: 2 });
    g.recordFailure('first', 'ip1');
    g.recordFailure('first', 'ip1');
    g.recordFailure('second', 'ip2');
    g.recordFailure('third', 'ip3');
    // "first" was forgotten: one more failure does not lock it.
    expect(g.recordFailure('first', 'ip4')).toEqual([]);
  });
});
