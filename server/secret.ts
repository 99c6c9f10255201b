/**
 * The server secret keys customer-id hashing (and, later, session signing).
 * SQM_SECRET wins; otherwise one is generated once into the data directory and
 * reused, so hashes stay stable across restarts. Several collectors feeding one
 * store must share SQM_SECRET.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadOrCreateSecret(dataDir: string, fromEnv: string | undefined): string {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'secret');
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8').trim();
    if (text.length >= 32) return text;
    throw new Error(`${path}: the stored secret is too short; delete it to generate a new one (customer hashes will change)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
