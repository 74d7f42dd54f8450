/**
 * What every run of `flows` on bad input must look like, whatever the bytes: it ends by itself
 * (no hang), exits 0 or 2, prints no stack trace and no "unexpected failure" (a decoder bug
 * caught by the reader), prints its summary, and for every bad input exactly one line
 * `error: <file>: byte N: <problem>`, with exit status 2 exactly when there is one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runFlows } from '../../src/cli/flows.js';
import type { CliResult } from './cli.js';

export interface Outcome {
  status: number | null;
  /** Packets read, from the summary line. */
  packets: number;
  /** The error lines, parsed. */
  errors: { name: string; offset: number; problem: string }[];
  stdout: string;
  stderr: string;
}

/** Checks the invariants; returns the problems found (empty when the run is well-behaved). */
export function checkOutcome(run: CliResult, names: string[]): { outcome: Outcome; problems: string[] } {
  const problems: string[] = [];
  const err = run.stderr;
  if (run.signal !== null) problems.push(`killed by ${run.signal} (hang or crash)`);
  if (run.status !== 0 && run.status !== 2) problems.push(`exit status ${run.status}`);
  if (/^\s+at\s/m.test(err) || /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/.test(err))
    problems.push('stack trace or JavaScript error on stderr');
  if (err.includes('unexpected failure'))
    problems.push('an exception escaped a decoder ("unexpected failure")');
  const m = /^lync-port-audit: ([\d,]+) packets/m.exec(err);
  if (!m) problems.push('no summary line');
  const errors: Outcome['errors'] = [];
  for (const line of err.split('\n')) {
    if (!line.startsWith('error: ')) continue;
    const name = names.find((n) => line.startsWith(`error: ${n}: `));
    const e = name === undefined ? null : /^: byte (\d+): (.+)$/.exec(line.slice(7 + name.length));
    if (name === undefined || e === null) {
      problems.push(`malformed error line: ${line}`);
      continue;
    }
    errors.push({ name, offset: Number(e[1]), problem: e[2] });
  }
  if ((run.status === 2) !== errors.length > 0)
    problems.push(`exit status ${run.status} with ${errors.length} error lines`);
  for (const n of names)
    if (errors.filter((e) => e.name === n).length > 1) problems.push(`more than one error line for ${n}`);
  return {
    outcome: {
      status: run.status,
      packets: m ? Number(m[1].replace(/,/g, '')) : -1,
      errors,
      stdout: run.stdout,
      stderr: err,
    },
    problems,
  };
}

/** Packets read from each input, from the summary's per-capture lines ("  <name>: ..., N packets"). */
export function packetsPerInput(stderr: string, names: string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const name = names.find((n) => line.startsWith(`  ${n}: `));
    const m = name === undefined ? null : /([\d,]+) packets$/.exec(line);
    if (name !== undefined && m) result.set(name, Number(m[1].replace(/,/g, '')));
  }
  return result;
}

/**
 * Runs the `flows` command's own code (runFlows, as the CLI calls it) in this process: fast
 * enough for hundreds of fuzz cases. The records go to a file (--out), stderr is captured.
 * Runs must not overlap (stderr is captured by replacing process.stderr.write).
 */
export async function flowsInProcess(path: string): Promise<CliResult> {
  const out = `${path}.ndjson`;
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  let status: number;
  try {
    status = await runFlows([path], { out, progress: false });
  } catch (err) {
    // An exception out of the command is exactly what must never happen: report it like a crash.
    chunks.push(`\n    at ${err instanceof Error ? err.stack : String(err)}\n`);
    status = 1;
  } finally {
    process.stderr.write = write;
  }
  return {
    status,
    signal: null,
    stdout: existsSync(out) ? readFileSync(out, 'utf8') : '',
    stderr: chunks.join(''),
  };
}
