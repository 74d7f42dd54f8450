/** Runs the built CLI (bin/lync-port-audit) the way a user would, and parses what it prints. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const BIN = join(REPO_ROOT, 'bin', 'lync-port-audit');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export function runCli(
  args: string[],
  options: { input?: Buffer | string; timeoutMs?: number; env?: Record<string, string> } = {},
): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    input: options.input,
    env: options.env ? { ...process.env, ...options.env } : undefined,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

export function parseNdjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/**
 * Runs the CLI without blocking, so that many small runs (fuzz cases) can go in parallel.
 * A run that outlives `timeoutMs` is killed and reported with its signal (a hang is a failure).
 */
export function runCliAsync(
  args: string[],
  options: { input?: Buffer; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the CLI may exit before reading all of stdin
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input);
  });
}

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the order of `items`. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
