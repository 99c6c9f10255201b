/**
 * Serves the built dashboard (dashboard/dist) at `/`, with a single-page-app
 * fallback: a GET for a path outside /api that is not a file gets index.html,
 * so a bookmarked deep link still opens the app.
 *
 * Static files need no authentication: they hold no data. Every number the app
 * shows comes from the authenticated /api routes.
 *
 * `ensureDashboardBuilt()` lets `npm start` and `npm run demo` build the app
 * (vite, in a child process) when dist/ is missing, before the server listens.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';

/** The repository root: the nearest folder up from here whose package.json is SQM's (works from source and from tsc's dist/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sqm') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the SQM repository root (package.json named "sqm")');
    dir = parent;
  }
}

export const DASHBOARD_SOURCE_DIR = join(repositoryRoot(), 'dashboard');
export const DASHBOARD_DIST_DIR = join(DASHBOARD_SOURCE_DIR, 'dist');

export function dashboardIsBuilt(distDir: string = DASHBOARD_DIST_DIR): boolean {
  return existsSync(join(distDir, 'index.html'));
}

/**
 * Build the dashboard with vite in a child process (vite is a dev dependency:
 * a production install ships a prebuilt dist/ instead), into dashboard/dist or
 * `outDir` (tests build their own copy). Resolves when the build succeeded;
 * rejects with vite's own error output otherwise.
 */
export function buildDashboard(options: { outDir?: string } = {}): Promise<void> {
  const viteBin = join(repositoryRoot(), 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(viteBin)) {
    return Promise.reject(new Error(`vite is not installed (${viteBin}); install dev dependencies or ship a built dashboard/dist`));
  }
  return new Promise((resolve, reject) => {
    const args = [viteBin, 'build', '--config', join(DASHBOARD_SOURCE_DIR, 'vite.config.ts'), '--logLevel', 'warn'];
    if (options.outDir) args.push('--outDir', options.outDir);
    const child = spawn(process.execPath, args, {
      cwd: repositoryRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`dashboard build failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  });
}

/** Build the dashboard unless dist/ already has it. A failed build is logged, not fatal: the API still serves. */
export async function ensureDashboardBuilt(logger: Logger): Promise<void> {
  const log = logger.child({ module: 'dashboard' });
  if (dashboardIsBuilt()) return;
  log.info({ dir: DASHBOARD_DIST_DIR }, 'dashboard not built yet: building it (once)');
  const started = Date.now();
  try {
    await buildDashboard();
    log.info({ ms: Date.now() - started }, 'dashboard built');
  } catch (error) {
    log.error({ err: error }, 'dashboard build failed: the API runs, the dashboard does not');
  }
}

export interface DashboardRouteOptions {
  /** The built app (default dashboard/dist). */
  distDir?: string;
}

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>SQM</title>
<p>The SQM dashboard is not built. Run <code>npm run build:dashboard</code> (or restart with <code>npm start</code>, which builds it).</p>
<p>仪表盘尚未构建：请运行 <code>npm run build:dashboard</code>。</p>`;

/** A path with a file extension in its last segment: a missing asset, never a page. */
const LOOKS_LIKE_FILE = /\/[^/]*\.[A-Za-z0-9]{1,8}$/;

export default async function dashboardRoutes(app: FastifyInstance, options: DashboardRouteOptions): Promise<void> {
  const distDir = resolve(options.distDir ?? DASHBOARD_DIST_DIR);
  const built = dashboardIsBuilt(distDir);

  if (built) {
    await app.register(fastifyStatic, {
      root: distDir,
      // One route per built file, listed at start-up: nothing outside dist/ can be asked for.
      wildcard: false,
      cacheControl: false,
      setHeaders(reply, path) {
        // Vite names assets by content hash, so they never change; index.html must always be fresh.
        void reply.header('cache-control', path.startsWith(join(distDir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/api' || path.startsWith('/api/') || LOOKS_LIKE_FILE.test(path)) return reply.callNotFound();
    if (!built) return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE);
    return reply.sendFile('index.html');
  });
}
