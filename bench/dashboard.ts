/**
 * bench:dashboard — what the dashboard costs a browser.
 *
 * 1. Builds the dashboard fresh (vite) and reports every chunk's size, raw and
 *    gzipped, and per view the gzipped bytes a first visit loads (the entry,
 *    the view's chunk and everything it imports statically).
 * 2. Starts SQM in this process on a fresh embedded store, backfills two hours
 *    of simulated traffic for all 31 regions, and keeps the simulator running
 *    live (records every second).
 * 3. In Debian's chromium: time to first render of the kiosk wallboard (first
 *    contentful paint, and the first tiles with data), then the browser's CPU
 *    (Chrome's own task time, over wall time) while the wallboard takes a tick
 *    every second for `--seconds` (default 60), over the live stream (display
 *    token → session cookie → WebSocket) and over polling (bearer token).
 * 4. Prints the figures and writes bench/out/dashboard.json.
 *
 * Not a test: figures vary with the machine.
 */
import { readFileSync, readdirSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../config/index.js';
import { buildServer } from '../server/app.js';
import { buildDashboard } from '../server/routes/dashboard.js';
import { backfill, startSimulator } from '../simulator/index.js';
import { migrate, openEmbeddedStore } from '../store/index.js';
import { HAVE_CHROMIUM, NO_CHROMIUM_MESSAGE, launchChromium } from '../tests/e2e/support/browser.js';
import { argValue } from './args.js';

const SECONDS = argValue('--seconds', 60);
const ADMIN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

interface Chunk {
  file: string;
  bytes: number;
  gzip: number;
  imports: string[];
}

function chunks(dist: string): Map<string, Chunk> {
  const out = new Map<string, Chunk>();
  const assets = join(dist, 'assets');
  for (const file of readdirSync(assets)) {
    const text = readFileSync(join(assets, file));
    // Static imports only (`import"./x.js"`, `from"./x.js"`); `import("./x.js")` is a lazy chunk, not loaded up front.
    const imports = file.endsWith('.js') ? [...text.toString('utf8').matchAll(/(?:import|from)\s*["']\.\/([^"']+\.js)["']/g)].map((m) => m[1]!) : [];
    out.set(file, { file, bytes: statSync(join(assets, file)).size, gzip: gzipSync(text, { level: 9 }).length, imports });
  }
  return out;
}

function closure(start: string, all: Map<string, Chunk>): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !all.has(file)) return;
    seen.add(file);
    for (const dep of all.get(file)!.imports) visit(dep);
  };
  visit(start);
  return seen;
}

async function bundleReport(dist: string) {
  const all = chunks(dist);
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const entry = /src="\/assets\/([^"]+\.js)"/.exec(html)?.[1];
  const entryCss = [...html.matchAll(/href="\/assets\/([^"]+\.css)"/g)].map((m) => m[1]!);
  if (!entry) throw new Error('no entry script in index.html');
  const base = new Set([...closure(entry, all), ...entryCss]);
  const views: Record<string, { files: string[]; gzip: number; bytes: number }> = {};
  for (const view of ['Wallboard', 'Manager', 'Scorecard', 'Admin']) {
    const chunk = [...all.keys()].find((f) => f.startsWith(`${view}-`) && f.endsWith('.js'));
    if (!chunk) continue;
    const files = new Set([...base, ...closure(chunk, all)]);
    // A view's CSS chunk shares its dependencies' names (vite emits one per chunk that has styles).
    for (const f of all.keys()) if (f.endsWith('.css') && [...files].some((js) => js.replace(/-[\w-]+\.js$/, '') === f.replace(/-[\w-]+\.css$/, ''))) files.add(f);
    views[view] = {
      files: [...files].sort(),
      gzip: [...files].reduce((sum, f) => sum + (all.get(f)?.gzip ?? 0), 0),
      bytes: [...files].reduce((sum, f) => sum + (all.get(f)?.bytes ?? 0), 0),
    };
  }
  return { chunks: [...all.values()].sort((a, b) => b.bytes - a.bytes), entry, views };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sqm-bench-dashboard-'));
  const dist = join(work, 'dist');
  process.stdout.write('building the dashboard…\n');
  await buildDashboard({ outDir: dist });
  const bundle = await bundleReport(dist);

  process.stdout.write('\nchunks (raw / gzipped):\n');
  for (const c of bundle.chunks) process.stdout.write(`  ${c.file.padEnd(36)} ${kB(c.bytes).padStart(10)} ${kB(c.gzip).padStart(10)}\n`);
  process.stdout.write('\nfirst visit per view (entry + view + static imports, gzipped):\n');
  for (const [view, v] of Object.entries(bundle.views)) process.stdout.write(`  ${view.padEnd(10)} ${kB(v.gzip).padStart(10)}  (${v.files.length} files, ${kB(v.bytes)} raw)\n`);

  if (!HAVE_CHROMIUM) {
    process.stdout.write(`\n${NO_CHROMIUM_MESSAGE}: browser figures skipped\n`);
    writeResult({ bundle });
    rmSync(work, { recursive: true, force: true });
    return;
  }

  const config = loadConfig();
  const store = await openEmbeddedStore({ dataDir: join(work, 'data'), database: 'sqm_bench' });
  await migrate(store);
  const app = await buildServer({ config, store, secret: SECRET, bootstrapAdminToken: ADMIN, dashboardDir: dist });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  process.stdout.write('\nbackfilling 2 hours of traffic for 31 regions…\n');
  const history = await backfill({ baseUrl, token: ADMIN, days: 2 / 24, seed: 7, config, queueSampleSeconds: 5 });
  const simulator = startSimulator({ baseUrl, token: ADMIN, model: history.model, config });

  const made = await fetch(`${baseUrl}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-wall', role: 'viewer', display: true }),
  });
  const displayToken = made.ok ? ((await made.json()) as { token: string }).token : null;

  const browser = await launchChromium();
  const result: Record<string, unknown> = { bundle, seconds: SECONDS };
  try {
    // Time to first render, cold (a new context: empty cache).
    {
      const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
      const page = await context.newPage();
      const started = Date.now();
      await page.goto(`${baseUrl}/#/wallboard?kiosk=1&token=${ADMIN}`);
      await page.waitForSelector('[data-tile="answer_rate"] .value:not([data-value=""])', { timeout: 60_000 });
      const firstData = Date.now() - started;
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
      result.firstRender = { firstContentfulPaintMs: fcp === null ? null : Math.round(fcp), firstTilesWithDataMs: firstData };
      process.stdout.write(`\nwallboard, cold: first contentful paint ${fcp === null ? '—' : Math.round(fcp)} ms, tiles with data ${firstData} ms\n`);
      await context.close();
    }

    const transports: { name: 'live' | 'polling'; token: string }[] = [
      ...(displayToken ? [{ name: 'live' as const, token: displayToken }] : []),
      { name: 'polling', token: ADMIN },
    ];
    const cpu: Record<string, unknown> = {};
    for (const transport of transports) {
      const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
      const page = await context.newPage();
      await page.goto(`${baseUrl}/#/wallboard?kiosk=1&token=${encodeURIComponent(transport.token)}`);
      await page.waitForSelector(`[data-view="wallboard"][data-transport="${transport.name}"]`, { timeout: 60_000 });
      await page.waitForSelector('[data-tile="answer_rate"] .value:not([data-value=""])', { timeout: 60_000 });
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const metrics = async () => Object.fromEntries(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
      // Count the updates the page actually showed: the "updated" stamp changes each time.
      await page.evaluate(() => {
        const w = window as unknown as { __updates: number };
        w.__updates = 0;
        new MutationObserver(() => { w.__updates++; }).observe(document.querySelector('.wb-header')!, { subtree: true, characterData: true, childList: true });
      });
      const before = await metrics();
      const t0 = Date.now();
      await page.waitForTimeout(SECONDS * 1000);
      const after = await metrics();
      const wall = (Date.now() - t0) / 1000;
      const updates = await page.evaluate(() => (window as unknown as { __updates: number }).__updates);
      const task = (after.TaskDuration ?? 0) - (before.TaskDuration ?? 0);
      const script = (after.ScriptDuration ?? 0) - (before.ScriptDuration ?? 0);
      const layout = (after.LayoutDuration ?? 0) - (before.LayoutDuration ?? 0) + (after.RecalcStyleDuration ?? 0) - (before.RecalcStyleDuration ?? 0);
      const figures = {
        wallSeconds: Math.round(wall * 10) / 10,
        cpuPercent: Math.round((task / wall) * 1000) / 10,
        scriptPercent: Math.round((script / wall) * 1000) / 10,
        layoutAndStylePercent: Math.round((layout / wall) * 1000) / 10,
        headerMutations: updates,
        jsHeapMB: Math.round(((after.JSHeapUsedSize ?? 0) / 1048576) * 10) / 10,
        domNodes: after.Nodes,
      };
      cpu[transport.name] = figures;
      process.stdout.write(`wallboard over ${transport.name.padEnd(7)} for ${figures.wallSeconds} s: browser CPU ${figures.cpuPercent} % (script ${figures.scriptPercent} %, layout+style ${figures.layoutAndStylePercent} %), heap ${figures.jsHeapMB} MB, ${figures.domNodes} DOM nodes\n`);
      await context.close();
    }
    result.cpu = cpu;
  } finally {
    await browser.close();
    await simulator.stop();
    await app.close();
    await store.close();
    rmSync(work, { recursive: true, force: true });
  }
  writeResult(result);
}

function writeResult(result: Record<string, unknown>): void {
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true });
  const path = join(import.meta.dirname, 'out', 'dashboard.json');
  writeFileSync(path, JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2));
  process.stdout.write(`\nwrote ${path}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:dashboard failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
