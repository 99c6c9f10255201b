/**
 * Load the configuration: one YAML file (SQM_CONFIG, default config/default.yaml)
 * plus SQM_* environment variables. Validated once, then frozen. Errors name
 * the field (`regions/4/code: must match pattern …`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { configSchema, ROLES, type Role, type SqmConfig } from './schema.js';
import { parseCidr } from './cidr.js';
import { checkNotificationsConfig } from './notifications.js';
import { checkAlertsConfig } from '../alerts/config-check.js';

export const DEFAULT_CONFIG_PATH = join(dirname(fileURLToPath(import.meta.url)), 'default.yaml');

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(`invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`);
  }
}

/** Settings that come from the environment (ARCHITECTURE.md, "Configuration"). */
export interface ServiceSettings {
  port: number;
  host: string;
  dataDir: string;
  clickhouseUrl: string | undefined;
  /** SQM_CLICKHOUSE_CLUSTER: spread the tables over this cluster (store/cluster.ts); needs SQM_CLICKHOUSE_URL. */
  clickhouseCluster: string | undefined;
  configPath: string;
  demo: boolean;
  bootstrapAdminToken: string | undefined;
  secret: string | undefined;
  logLevel: string;
  /**
   * SQM_ROLES (ARCHITECTURE.md, "One process or many"): default all three. Only `alerts` changes
   * what a process does today: without it the process neither evaluates alerts nor sends
   * notifications, so several collectors can share a cluster beside exactly one evaluator.
   */
  roles: ServiceRole[];
}

export const SERVICE_ROLES = ['collector', 'api', 'alerts'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readServiceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const problems: string[] = [];
  const port = env.SQM_PORT === undefined ? 8080 : Number(env.SQM_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`SQM_PORT: must be a port number (0-65535), got "${env.SQM_PORT}"`);
  const demo = env.SQM_DEMO ?? '0';
  if (demo !== '0' && demo !== '1') problems.push(`SQM_DEMO: must be 0 or 1, got "${demo}"`);
  const url = env.SQM_CLICKHOUSE_URL || undefined;
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push(`SQM_CLICKHOUSE_URL: must be an http(s) URL, got "${url}"`);
    } catch {
      problems.push(`SQM_CLICKHOUSE_URL: not a URL: "${url}"`);
    }
  }
  const cluster = env.SQM_CLICKHOUSE_CLUSTER || undefined;
  if (cluster !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(cluster)) {
      problems.push(`SQM_CLICKHOUSE_CLUSTER: must be a cluster name from remote_servers (letters, digits, _), got "${cluster}"`);
    }
    if (url === undefined) problems.push('SQM_CLICKHOUSE_CLUSTER: needs SQM_CLICKHOUSE_URL (the embedded store has no cluster)');
  }
  const token = env.SQM_BOOTSTRAP_ADMIN_TOKEN || undefined;
  if (token !== undefined && token.length < 16) problems.push('SQM_BOOTSTRAP_ADMIN_TOKEN: must be at least 16 characters');
  const secret = env.SQM_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) problems.push('SQM_SECRET: must be at least 32 characters');
  const roles = (env.SQM_ROLES || SERVICE_ROLES.join(',')).split(',').map((r) => r.trim()).filter((r) => r.length > 0);
  const unknownRoles = roles.filter((r) => !(SERVICE_ROLES as readonly string[]).includes(r));
  if (unknownRoles.length > 0 || roles.length === 0) {
    problems.push(`SQM_ROLES: a comma-separated list of ${SERVICE_ROLES.join(', ')}, got "${env.SQM_ROLES}"`);
  }
  const logLevel = env.SQM_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`SQM_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return {
    port,
    host: env.SQM_HOST ?? '0.0.0.0',
    dataDir: env.SQM_DATA_DIR ?? './data',
    clickhouseUrl: url,
    clickhouseCluster: cluster,
    configPath: env.SQM_CONFIG ?? DEFAULT_CONFIG_PATH,
    demo: demo === '1',
    bootstrapAdminToken: token,
    secret,
    logLevel,
    roles: [...new Set(roles)] as ServiceRole[],
  };
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile(configSchema);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Validate a parsed configuration object; `source` names it in errors. */
export function validateConfigObject(raw: unknown, source: string): SqmConfig {
  if (!validateConfig(raw)) {
    const problems = (validateConfig.errors ?? []).map((e) => {
      const field = e.instancePath ? e.instancePath.slice(1) : '(top level)';
      const extra = e.keyword === 'additionalProperties'
        ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
      return `${field}: ${e.message ?? 'invalid'}${extra}`;
    });
    throw new ConfigError(source, problems);
  }
  const config = raw as unknown as SqmConfig;
  const problems: string[] = [];
  if (!isValidTimeZone(config.timezone)) problems.push(`timezone: unknown time zone "${config.timezone}"`);
  const seen = new Set<string>();
  config.regions.forEach((r, i) => {
    if (seen.has(r.code)) problems.push(`regions/${i}/code: duplicate region "${r.code}"`);
    seen.add(r.code);
  });
  config.tokens.forEach((t, i) => {
    if ((t.sha256 === undefined) === (t.tokenEnv === undefined)) problems.push(`tokens/${i}: give exactly one of sha256 or tokenEnv`);
    for (const code of t.regions ?? []) if (!seen.has(code)) problems.push(`tokens/${i}/regions: unknown region "${code}"`);
  });
  for (const [name, queue] of Object.entries(config.queueLog?.queues ?? {})) {
    // The name is matched against queue_log's third field, which can hold neither "|" nor a line break.
    if (name.length > 128 || /[|\r\n]/.test(name)) problems.push(`queueLog/queues/${name}: not a queue_log queue name (at most 128 characters, no "|" or line break)`);
    if (!seen.has(queue.region)) problems.push(`queueLog/queues/${name}/region: unknown region "${queue.region}"`);
  }
  const session = config.security?.session;
  if (session?.idleMinutes !== undefined && session.absoluteHours !== undefined && session.idleMinutes > session.absoluteHours * 60) {
    problems.push('security/session/idleMinutes: longer than absoluteHours, so it would never apply');
  }
  problems.push(...checkNotificationsConfig(config.notifications, seen));
  problems.push(...checkAlertsConfig(config));
  const metrics = config.metrics;
  if (metrics?.sha256 !== undefined && metrics.tokenEnv !== undefined) problems.push('metrics: give at most one of sha256 or tokenEnv');
  metrics?.allow?.forEach((range, i) => {
    if (!parseCidr(range)) problems.push(`metrics/allow/${i}: not an address or CIDR range: "${range}"`);
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(config);
}

export function loadConfig(path: string = DEFAULT_CONFIG_PATH): SqmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(path, [`not valid YAML: ${(error as Error).message}`]);
  }
  return validateConfigObject(raw, path);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
