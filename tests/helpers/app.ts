/**
 * Build a real SQM app over a test store, with one token per role.
 * Tokens come through `tokenEnv`, the same path an operator's config uses.
 */
import type { FastifyInstance } from 'fastify';
import { loadConfig, validateConfigObject, type SqmConfig } from '../../config/index.js';
import { buildServer, type BuildServerOptions } from '../../server/app.js';
import type { Store } from '../../store/index.js';

export const TOKENS = {
  admin: 'test-admin-token-0123456789',
  ingest: 'test-ingest-token-0123456789',
  viewer: 'test-viewer-token-0123456789',
  executive: 'test-executive-token-0123456',
  managerGD: 'test-manager-gd-token-012345',
  supervisor: 'test-supervisor-token-012345',
} as const;

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export function testConfig(overrides: Partial<SqmConfig> = {}): SqmConfig {
  const base = structuredClone(loadConfig()) as SqmConfig;
  const config = {
    ...base,
    tokens: [
      { name: 'ingest', role: 'ingest', tokenEnv: 'SQM_TEST_INGEST_TOKEN' },
      { name: 'viewer', role: 'viewer', tokenEnv: 'SQM_TEST_VIEWER_TOKEN' },
      { name: 'exec', role: 'executive', tokenEnv: 'SQM_TEST_EXEC_TOKEN' },
      { name: 'gd-manager', role: 'manager', tokenEnv: 'SQM_TEST_MANAGER_GD_TOKEN', regions: ['GD'] },
      { name: 'supervisor', role: 'supervisor', tokenEnv: 'SQM_TEST_SUPERVISOR_TOKEN' },
    ],
    // Tests make many quick requests from one address, some with wrong tokens on purpose: generous
    // limits here; the tests of the limits themselves set their own. The cheapest scrypt cost allowed.
    security: {
      passwords: { scryptLog2N: 14 },
      login: { perIpPerMinute: 100_000, maxFailuresPerIp: 100_000 },
      rateLimit: { perPrincipal: 1_000_000, ingestPerPrincipal: 1_000_000, anonymousPerIp: 1_000_000, badCredentialsPerIp: 1_000_000 },
    },
    ...overrides,
  };
  return validateConfigObject(config, 'test config');
}

export async function buildTestApp(
  store: Store,
  options: {
    config?: SqmConfig; now?: () => Date; alertNotifier?: BuildServerOptions['alertNotifier']; dashboardDir?: string; roles?: BuildServerOptions['roles'];
  } = {},
): Promise<FastifyInstance> {
  return buildServer({
    config: options.config ?? testConfig(),
    store,
    secret: TEST_SECRET,
    bootstrapAdminToken: TOKENS.admin,
    env: {
      SQM_TEST_INGEST_TOKEN: TOKENS.ingest,
      SQM_TEST_VIEWER_TOKEN: TOKENS.viewer,
      SQM_TEST_EXEC_TOKEN: TOKENS.executive,
      SQM_TEST_MANAGER_GD_TOKEN: TOKENS.managerGD,
      SQM_TEST_SUPERVISOR_TOKEN: TOKENS.supervisor,
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.alertNotifier ? { alertNotifier: options.alertNotifier } : {}),
    ...(options.dashboardDir ? { dashboardDir: options.dashboardDir } : {}),
    ...(options.roles ? { roles: options.roles } : {}),
  });
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
