/**
 * Numbered migrations (`store/migrations/NNN_name.sql`), applied at start-up in
 * order, each recorded in `schema_migrations`. Every statement is written to be
 * idempotent (`IF NOT EXISTS`), so a migration interrupted half-way is simply
 * applied again, and running the migrator twice is a no-op.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterStatements } from './cluster.js';
import { sql, Sql } from './sql.js';
import type { Store } from './store.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Split a migration file into statements: `;` at the end of a line ends one. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2] as string,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    });
  }
  const versions = migrations.map((m) => m.version);
  if (new Set(versions).size !== versions.length) throw new Error(`duplicate migration numbers in ${dir}`);
  return migrations;
}

/**
 * The `{db}` placeholder is the only substitution a migration gets, and its
 * value is the store's database identifier (checked against a strict pattern).
 */
function bind(statement: string, store: Store): Sql {
  return sql.raw(statement.replaceAll('{db}', store.database.quoted));
}

/** The statements to run for one migration statement: itself, or its cluster form (store/cluster.ts). */
export function statementsFor(statement: string, store: Store): Sql[] {
  const texts = store.cluster ? clusterStatements(statement, store.cluster) : [statement];
  return texts.map((text) => bind(text, store));
}

// The bookkeeping table, written like a migration so cluster mode derives its form the same way.
const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS {db}.schema_migrations
    (version UInt32, name String, checksum String, appliedAt DateTime('UTC'))
    ENGINE = MergeTree() ORDER BY version`;

export interface MigrationReport {
  applied: number[];
  alreadyApplied: number[];
}

export async function migrate(store: Store, migrations: Migration[] = loadMigrations()): Promise<MigrationReport> {
  for (const statement of statementsFor(SCHEMA_MIGRATIONS_DDL, store)) await store.command(statement);
  const rows = await store.query<{ version: number }>(
    sql`SELECT DISTINCT version FROM ${store.table('schema_migrations')}`,
  );
  const done = new Set(rows.map((r) => Number(r.version)));
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    if (done.has(migration.version)) {
      report.alreadyApplied.push(migration.version);
      continue;
    }
    for (const statement of migration.statements) {
      for (const bound of statementsFor(statement, store)) await store.command(bound);
    }
    await store.insert('schema_migrations', [{
      version: migration.version,
      name: migration.name,
      checksum: migration.checksum,
      appliedAt: Math.floor(Date.now() / 1000),
    }]);
    report.applied.push(migration.version);
  }
  return report;
}

/** True when every known migration is recorded as applied (used by /readyz). */
export async function migrationsApplied(store: Store, migrations: Migration[] = loadMigrations()): Promise<boolean> {
  const rows = await store.query<{ version: number }>(
    sql`SELECT DISTINCT version FROM ${store.table('schema_migrations')}`,
  );
  const done = new Set(rows.map((r) => Number(r.version)));
  return migrations.every((m) => done.has(m.version));
}
