/**
 * The people tables through their classes: newest version wins, deletion and
 * re-creation, sparse session touches, and how soon a second SQM process (a
 * second instance over the same store) sees a change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Store } from '../../store/index.js';
import { ApiTokenStore, SessionStore, UserDirectory, type UserRecord } from '../../server/people/index.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';
import { testClock } from '../helpers/people.js';

const user = (over: Partial<UserRecord> = {}): UserRecord => ({
  username: 'li.wei',
  displayName: '李伟',
  role: 'manager',
  regions: ['GD'],
  disabled: false,
  passwordHash: 'scrypt$14$8$1$salt$hash',
  sessionsNotBefore: 0,
  createdAt: '2026-11-30T08:00:00.000Z',
  createdBy: 'admin',
  updatedAt: '2026-11-30T08:00:00.000Z',
  updatedBy: 'admin',
  ...over,
});

describe.each(BACKENDS)('people tables on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('keeps the newest version of a user, deletes, and re-creates', async () => {
    const clock = testClock('2026-11-30T08:00:00Z');
    const users = new UserDirectory({ store, now: clock.now });
    await users.save(user());
    await users.save(user({ role: 'viewer', regions: null, displayName: 'Li Wei', updatedAt: '2026-11-30T09:00:00.000Z' }));
    await users.save(user({ username: 'a.first', regions: ['BJ', 'GD'] }));
    // A second process reads the store, not this one's cache.
    const other = new UserDirectory({ store, now: clock.now });
    expect(await other.get('li.wei')).toEqual(user({ role: 'viewer', regions: null, displayName: 'Li Wei', updatedAt: '2026-11-30T09:00:00.000Z' }));
    expect((await other.list()).map((u) => [u.username, u.regions])).toEqual([['a.first', ['BJ', 'GD']], ['li.wei', null]]);
    expect(await other.count()).toBe(2);

    await users.delete((await users.get('li.wei'))!, 'admin');
    expect(await users.get('li.wei')).toBeUndefined();
    expect(await users.count()).toBe(1);
    const third = new UserDirectory({ store, now: clock.now });
    expect(await third.get('li.wei')).toBeUndefined();

    await users.save(user({ role: 'supervisor', regions: ['SH'] }));
    const fourth = new UserDirectory({ store, now: clock.now });
    expect(await fourth.get('li.wei')).toMatchObject({ role: 'supervisor', regions: ['SH'], disabled: false });
  });

  it('sees another process\'s user change once its 10 s cache is stale', async () => {
    const clock = testClock('2026-11-30T08:00:00Z');
    const mine = new UserDirectory({ store, now: clock.now });
    const theirs = new UserDirectory({ store, now: clock.now });
    await mine.save(user({ username: 'cache.check' }));
    expect((await theirs.get('cache.check'))?.disabled).toBe(false);
    await mine.save(user({ username: 'cache.check', disabled: true }));
    clock.advance(9_999);
    expect((await theirs.get('cache.check'))?.disabled).toBe(false);
    clock.advance(1);
    expect((await theirs.get('cache.check'))?.disabled).toBe(true);
  });

  it('stores a session use at most once a minute, and revocation for every process', async () => {
    const clock = testClock('2026-11-30T08:00:00Z');
    const sessions = new SessionStore({ store, now: clock.now });
    const { id, session } = await sessions.create({ kind: 'user', subject: 'li.wei', lifetimeSeconds: 3600, idleSeconds: 600, ip: '10.0.0.1', userAgent: 'test' });
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = async () => (await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${store.table('sessions')} WHERE idHash = ${session.idHash}`))[0]!.n;
    expect(Number(await rows())).toBe(1);
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      await sessions.touch(session);
    }
    // 50 s of use: nothing stored yet. At 60 s: one more row.
    expect(Number(await rows())).toBe(1);
    clock.advance(10_000);
    await sessions.touch(session);
    expect(Number(await rows())).toBe(2);

    const other = new SessionStore({ store, now: clock.now });
    expect(await other.find(id)).toMatchObject({ subject: 'li.wei', kind: 'user', lastSeenAtMs: Date.parse('2026-11-30T08:01:00Z'), revoked: false, ip: '10.0.0.1' });
    expect(await other.find('A'.repeat(43))).toBeUndefined();
    expect(await other.find('not even the right shape')).toBeUndefined();
    await sessions.revoke(session);
    const third = new SessionStore({ store, now: clock.now });
    expect((await third.find(id))?.revoked).toBe(true);
  });

  it('finds API tokens by their secret only while active and unexpired, in every process', async () => {
    const clock = testClock('2026-11-30T08:00:00Z');
    const tokens = new ApiTokenStore({ store, now: clock.now });
    const other = new ApiTokenStore({ store, now: clock.now });
    const { token, record } = await tokens.create({
      name: 'wallboard', role: 'viewer', regions: ['GD'], display: true, expiresAt: new Date('2026-12-01T08:00:00Z'), createdBy: 'admin',
    });
    expect(await tokens.lookup(token)).toMatchObject({ id: record.id, regions: ['GD'], display: true });
    expect(await other.lookup(token)).toMatchObject({ id: record.id });
    expect(await other.lookup(token + 'x')).toBeUndefined();
    expect(await other.lookup('not-one-of-ours')).toBeUndefined();
    expect(await other.activeById(record.id)).toMatchObject({ name: 'wallboard' });

    await tokens.revoke(record, 'admin');
    expect(await tokens.lookup(token)).toBeUndefined();
    // The other process notices within its 10 s refresh.
    clock.advance(10_000);
    expect(await other.lookup(token)).toBeUndefined();
    expect(await other.activeById(record.id)).toBeUndefined();
    expect((await other.get(record.id))?.revoked).toBe(true);

    const second = await tokens.create({ name: 'expiring', role: 'ingest', regions: null, display: false, expiresAt: new Date('2026-11-30T09:00:00Z'), createdBy: 'admin' });
    expect(await tokens.lookup(second.token)).toBeDefined();
    clock.set('2026-11-30T09:00:00Z');
    expect(await tokens.lookup(second.token)).toBeUndefined();
  });
});
