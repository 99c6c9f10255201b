/**
 * A child process a test may kill with any signal and start again, as a crash
 * and a supervisor's restart would: the part the throw-away ClickHouse server
 * (clickhouse-server.ts) and the SQM service (sqm-process.ts) share.
 */
import type { ChildProcess } from 'node:child_process';

export interface RestartableProcess {
  /** The running process, if any. */
  readonly child: ChildProcess | undefined;
  readonly running: boolean;
  /** Spawn it; throws if it is still running. */
  spawn(): ChildProcess;
  /** Send a signal (SIGKILL by default) and wait until the process has exited; nothing if it is not running. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const alive = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

// Whatever is still running when the test process exits (a failed test, a timeout) is killed,
// so it does not outlive the run holding ports and directories.
const everyChild = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of everyChild) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function restartableProcess(what: string, spawnIt: () => ChildProcess): RestartableProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  return {
    get child() {
      return child;
    },
    get running() {
      return alive(child);
    },
    spawn() {
      if (alive(child)) throw new Error(`${what} is already running`);
      const proc = spawnIt();
      child = proc;
      everyChild.add(proc);
      exited = new Promise<void>((resolve) => proc.once('exit', () => {
        everyChild.delete(proc);
        resolve();
      }));
      return proc;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!alive(child)) return;
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * Poll `url` until it answers 2xx (start-up, not an assertion). Throws with `log()` when the
 * process exits first or `timeoutMs` passes, killing it in the second case.
 */
export async function waitUntilAnswers(
  target: RestartableProcess, url: string, timeoutMs: number, log: () => string,
): Promise<void> {
  const child = target.child;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (!target.running || target.child !== child) {
      throw new Error(`exited during start-up (code ${child?.exitCode}, signal ${child?.signalCode}) before ${url} answered:\n${log()}`);
    }
    if (Date.now() > deadline) {
      await target.kill('SIGKILL');
      throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
