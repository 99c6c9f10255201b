/**
 * Password hashing with scrypt (node:crypto). A stored hash records its own
 * parameters and salt — `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<hash b64url>` —
 * so the cost can be raised later without invalidating older hashes.
 *
 * Verification compares in constant time, and refuses parameters outside a
 * sane range, so a tampered row cannot make one login cost gigabytes of memory.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** 2^15 × r 8 × 128 bytes = 32 MiB per hash; Node's default maxmem (32 MiB) is just too small. */
export const DEFAULT_LOG2_N = 15;
const MIN_LOG2_N = 10;
const MAX_LOG2_N = 20;
/** Longer passwords only cost us time; 1024 characters is more than any pass-phrase. */
export const MAX_PASSWORD_LENGTH = 1024;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function options(log2N: number, r: number, p: number): ScryptOptions {
  // maxmem must exceed 128 × N × r; leave headroom.
  return { N: 2 ** log2N, r, p, maxmem: 256 * 2 ** log2N * r + 1024 * 1024 };
}

export async function hashPassword(password: string, log2N: number = DEFAULT_LOG2_N): Promise<string> {
  if (!Number.isInteger(log2N) || log2N < MIN_LOG2_N || log2N > MAX_LOG2_N) {
    throw new RangeError(`scrypt cost log2N must be an integer in ${MIN_LOG2_N}..${MAX_LOG2_N}`);
  }
  const salt = randomBytes(SALT_LENGTH);
  const r = 8;
  const p = 1;
  const key = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options(log2N, r, p));
  return `scrypt$${log2N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

/** True when `password` matches `stored`; false for a wrong password or a hash this code cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = FORMAT.exec(stored);
  if (!match) return false;
  const log2N = Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  if (log2N < MIN_LOG2_N || log2N > MAX_LOG2_N || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(match[4] as string, 'base64url');
  const expected = Buffer.from(match[5] as string, 'base64url');
  const actual = await scrypt(password.normalize('NFC'), salt, expected.length, options(log2N, r, p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password, verified against when the user name is unknown,
 * so an unknown name takes as long to refuse as a wrong password (no user
 * enumeration by timing).
 */
const dummies = new Map<number, Promise<string>>();
export function dummyHash(log2N: number = DEFAULT_LOG2_N): Promise<string> {
  let hash = dummies.get(log2N);
  if (!hash) {
    hash = hashPassword(randomBytes(16).toString('hex'), log2N);
    dummies.set(log2N, hash);
  }
  return hash;
}

/** True when a stored hash is cheaper than the configured cost: it is rehashed at the next good login. */
export function needsRehash(stored: string, log2N: number): boolean {
  const match = FORMAT.exec(stored);
  return !match || Number(match[1]) < log2N;
}
