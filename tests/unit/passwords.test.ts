import { describe, expect, it } from 'vitest';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from '../../server/people/passwords.js';

describe('password hashing (scrypt)', () => {
  it('records its parameters and a per-user salt, and verifies', async () => {
    const a = await hashPassword('correct horse battery staple', 14);
    const b = await hashPassword('correct horse battery staple', 14);
    expect(a).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    // Same password, different salts: different hashes.
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery staple', b)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('treats the same text in composed and decomposed Unicode as one password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait 2026', 14);
    expect(await verifyPassword('cafe\u0301 au lait 2026', hash)).toBe(true);
  });

  it('refuses hashes it cannot read or whose cost is out of range, without running them', async () => {
    const good = await hashPassword('pass phrase here', 14);
    const parts = good.split('$');
    expect(await verifyPassword('pass phrase here', 'plain-text-password')).toBe(false);
    expect(await verifyPassword('pass phrase here', '')).toBe(false);
    // 2^30 would need 128 GiB: refused, not attempted.
    expect(await verifyPassword('pass phrase here', ['scrypt', '30', ...parts.slice(2)].join('$'))).toBe(false);
    expect(await verifyPassword('pass phrase here', ['scrypt', '14', '99', ...parts.slice(3)].join('$'))).toBe(false);
    // A changed digest fails.
    const digest = parts[5]!;
    const flipped = (digest[0] === 'A' ? 'B' : 'A') + digest.slice(1);
    expect(await verifyPassword('pass phrase here', [...parts.slice(0, 5), flipped].join('$'))).toBe(false);
  });

  it('refuses a cost outside 10..20 when hashing', async () => {
    await expect(hashPassword('x', 9)).rejects.toThrow(/log2N/);
    await expect(hashPassword('x', 21)).rejects.toThrow(/log2N/);
  });

  it('asks for a rehash when the stored cost is below the configured one', async () => {
    const cheap = await hashPassword('pass phrase here', 14);
    expect(needsRehash(cheap, 14)).toBe(false);
    expect(needsRehash(cheap, 15)).toBe(true);
    expect(needsRehash('garbage', 14)).toBe(true);
  });

  it('keeps one dummy hash per cost, which no password matches by accident', async () => {
    const d = await dummyHash(14);
    expect(await dummyHash(14)).toBe(d);
    expect(d.startsWith('scrypt$14$')).toBe(true);
    expect(await verifyPassword('', d)).toBe(false);
  });
});
