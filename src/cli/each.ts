/**
 * `analyze --each` and `flows --each`: many captures (one per client, a folder, a glob), each
 * analysed on its own, several at once in worker threads (each-worker.ts). p-queue bounds how
 * many run at once (`--jobs N`, default the number of cores); a pool keeps that many workers and
 * hands each the next capture, so a worker's optimised code serves many captures. Every capture
 * gets a line on stderr when it is done; one that fails is reported and the others go on.
 *
 * Analyze: each worker returns the capture's summary (verdict/merge.ts), the main thread merges
 * them in name order into one report per role, exactly as `merge` does with the same summaries.
 * Flows: each worker writes its capture's records to a file of its own; the main thread copies
 * them to the output in input order, so the output does not depend on which capture ended first.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import type { Topology } from '../topology/topology.js';
import type { CaptureSummaryDoc } from '../verdict/merge.js';
import type { Output } from './output.js';
import { terminalLine } from '../report/escape.js';

interface JobBase {
  id: number;
  input: string;
  maxFlows?: number;
  tcpTimeout?: number;
  udpTimeout?: number;
  seed?: number;
}

export interface AnalyzeJob extends JobBase {
  kind: 'analyze';
  catalog: string;
  mediaPorts: string[];
  topology: Topology;
  infer?: boolean;
  maxRecords?: number;
  tool: { name: string; version: string };
}

export interface FlowsJob extends JobBase {
  kind: 'flows';
  /** Where the worker writes the capture's NDJSON records. */
  recordsFile: string;
}

export type EachJob = AnalyzeJob | FlowsJob;

export type WorkerReply =
  | { type: 'progress'; id: number; consumed: number; total: number | undefined }
  | { type: 'analyzed'; id: number; doc: CaptureSummaryDoc; lines: string[]; error?: string }
  | { type: 'flows'; id: number; flows: number; packets: number; lines: string[]; error?: string }
  | { type: 'failed'; id: number; message: string };

type Done = Exclude<WorkerReply, { type: 'progress' }>;

export function defaultJobs(): number {
  return availableParallelism();
}

/** Idle workers, reused; one that broke is dropped and replaced by a new one on the next job. */
class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();

  run(job: EachJob, onProgress: (consumed: number, total: number | undefined) => void): Promise<Done> {
    const worker = this.idle.pop() ?? this.spawn();
    return new Promise<Done>((resolve) => {
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: WorkerReply): void => {
        if (m.id !== job.id) return;
        if (m.type === 'progress') {
          onProgress(m.consumed, m.total);
          return;
        }
        cleanup();
        this.idle.push(worker);
        resolve(m);
      };
      const broke = (message: string): void => {
        cleanup();
        this.all.delete(worker);
        void worker.terminate();
        resolve({ type: 'failed', id: job.id, message });
      };
      const onError = (err: Error): void => broke(`the analysis stopped: ${err.message}`);
      const onExit = (code: number): void => broke(`the worker thread exited (status ${code})`);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(job);
    });
  }

  private spawn(): Worker {
    // From the CLI bundle (dist/cli/bundle.js) and from dist/cli/each.js alike, the worker is the
    // compiled each-worker.js beside it.
    const w = new Worker(new URL('./each-worker.js', import.meta.url));
    this.all.add(w);
    return w;
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }
}

/** Per-file progress on stderr: a line per finished capture, and a live status line on a terminal. */
function eachProgress(
  total: number,
  live: boolean,
): {
  running(input: string, consumed: number, size: number | undefined): void;
  finished(input: string, text: string): void;
  stop(): void;
} {
  const running = new Map<string, string>();
  let done = 0;
  const tty = live && process.stderr.isTTY === true;
  const status = (): void => {
    if (!tty) return;
    const parts = [...running].map(([name, pct]) => `${name} ${pct}`);
    const line = `${done}/${total} done${parts.length > 0 ? `; reading ${parts.join(', ')}` : ''}`;
    const width = process.stderr.columns ?? 80;
    process.stderr.write(
      `\r\x1b[K${terminalLine(line.length > width - 1 ? line.slice(0, width - 2) + '…' : line)}`,
    );
  };
  return {
    running(input, consumed, size): void {
      running.set(
        input,
        size ? `${Math.min(100, Math.floor((consumed / size) * 100))}%` : `${(consumed / 1e6).toFixed(0)} MB`,
      );
      status();
    },
    finished(input, text): void {
      running.delete(input);
      done++;
      if (tty) process.stderr.write('\r\x1b[K');
      process.stderr.write(terminalLine(`lync-port-audit: [${done}/${total}] ${text}`) + '\n');
      status();
    },
    stop(): void {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

function count(n: number, word: string): string {
  return `${String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} ${word}${n === 1 ? '' : 's'}`;
}

export interface EachOptions {
  jobs: number;
  progress: boolean;
  /**
   * Stops the run (Ctrl-C, a failed output): captures not started are not read, the workers
   * still reading are stopped; those captures are listed in `interrupted`.
   */
  signal?: AbortSignal;
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Stops the pool's workers when `signal` aborts; returns the function that forgets the listener. */
function stopOnAbort(pool: WorkerPool, signal: AbortSignal | undefined): () => void {
  if (signal === undefined) return () => undefined;
  const stop = (): void => void pool.close();
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

export interface AnalyzeEachResult {
  /** The summaries of the captures that could be analysed (partial ones included), in input order. */
  docs: CaptureSummaryDoc[];
  /** Captures that failed: unreadable (partial results kept in docs) or an analysis that stopped. */
  failed: { input: string; message: string }[];
  /** Captures not read, or not to the end, because the run was stopped (EachOptions.signal). */
  interrupted: string[];
}

/** Analyses every capture on its own, `jobs` at a time; `makeJob` gives the job for one input. */
export async function analyzeEach(
  inputs: readonly string[],
  makeJob: (input: string, id: number) => AnalyzeJob,
  options: EachOptions,
): Promise<AnalyzeEachResult> {
  const pool = new WorkerPool();
  const queue = new PQueue({ concurrency: options.jobs });
  const progress = eachProgress(inputs.length, options.progress);
  const docs: (CaptureSummaryDoc | undefined)[] = new Array(inputs.length);
  const failed: { input: string; message: string }[] = [];
  const interrupted: string[] = [];
  const { signal } = options;
  const forget = stopOnAbort(pool, signal);
  try {
    await Promise.all(
      inputs.map((input, i) =>
        queue.add(async () => {
          if (aborted(signal)) {
            interrupted.push(input);
            return;
          }
          const r = await pool.run(makeJob(input, i), (c, t) => progress.running(input, c, t));
          if (r.type === 'failed' && aborted(signal)) {
            interrupted.push(input);
            progress.finished(input, `${input}: interrupted`);
          } else if (r.type === 'analyzed') {
            docs[i] = r.doc;
            const s = r.doc.summary;
            if (r.error !== undefined) failed.push({ input, message: r.error });
            progress.finished(
              input,
              `${input}: ${count(s.packets, 'packet')}, ${count(s.flows, 'flow')}, ${count(s.problems, 'problem')}` +
                (r.error !== undefined ? `; error: ${r.error}` : ''),
            );
          } else if (r.type === 'failed') {
            failed.push({ input, message: r.message });
            progress.finished(input, `${input}: error: ${r.message}`);
          }
        }),
      ),
    );
  } finally {
    forget();
    progress.stop();
    await pool.close();
  }
  return { docs: docs.filter((d): d is CaptureSummaryDoc => d !== undefined), failed, interrupted };
}

/**
 * Reads every capture on its own into records, `jobs` at a time, and writes them to `output` in
 * input order (each record with its `capture`). Returns the captures that failed.
 */
export async function flowsEach(
  inputs: readonly string[],
  makeJob: (input: string, id: number, recordsFile: string) => FlowsJob,
  output: Output,
  options: EachOptions,
): Promise<{ failed: { input: string; message: string }[]; lines: string[]; interrupted: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'lync-port-audit-each-'));
  const pool = new WorkerPool();
  const queue = new PQueue({ concurrency: options.jobs });
  const progress = eachProgress(inputs.length, options.progress);
  const failed: { input: string; message: string }[] = [];
  const interrupted: string[] = [];
  const { signal } = options;
  const forget = stopOnAbort(pool, signal);
  const lines: string[] = [];
  const finished: (Done | undefined)[] = new Array(inputs.length);
  const files = inputs.map((_, i) => join(dir, `${i}.ndjson`));
  let next = 0;
  let copying = Promise.resolve();
  /** Copies the records of every capture that is done and whose predecessors are all written. */
  const copyReady = (): void => {
    copying = copying.then(async () => {
      while (next < inputs.length && finished[next] !== undefined) {
        const r = finished[next]!;
        if (r.type === 'flows' && !output.broken)
          for await (const chunk of createReadStream(files[next])) {
            if (output.broken) break;
            output.write(chunk);
            await output.ready();
          }
        rmSync(files[next], { force: true });
        next++;
      }
    });
  };
  try {
    await Promise.all(
      inputs.map((input, i) =>
        queue.add(async () => {
          if (aborted(signal)) {
            interrupted.push(input);
            finished[i] = { type: 'failed', id: i, message: 'interrupted' };
            copyReady();
            return;
          }
          const r = await pool.run(makeJob(input, i, files[i]), (c, t) => progress.running(input, c, t));
          if (r.type === 'failed' && aborted(signal)) {
            interrupted.push(input);
            progress.finished(input, `${input}: interrupted`);
          } else if (r.type === 'flows') {
            lines.push(...r.lines);
            if (r.error !== undefined) failed.push({ input, message: r.error });
            progress.finished(
              input,
              `${input}: ${count(r.packets, 'packet')}, ${count(r.flows, 'flow')}` +
                (r.error !== undefined ? `; error: ${r.error}` : ''),
            );
          } else if (r.type === 'failed') {
            failed.push({ input, message: r.message });
            progress.finished(input, `${input}: error: ${r.message}`);
          }
          finished[i] = r;
          copyReady();
        }),
      ),
    );
    await copying;
  } finally {
    forget();
    progress.stop();
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { failed, lines, interrupted };
}
