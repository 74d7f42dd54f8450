/**
 * Where reports go: standard output or a file (--out), as a stream that respects back-pressure,
 * so that piping a huge NDJSON run into `less` or `head` never grows memory without bound.
 *
 * Every command writes through here, so every way the output can fail ends the same way
 * (run.ts turns it into the exit status): a reader that went away (EPIPE, `| head`) stops the
 * run quietly; any other error (ENOSPC, EACCES, EIO...) is one OutputError, "cannot write OUT:
 * no space left on device". A file is opened (and its directory checked) when the output is
 * opened, before any capture is read, and is written as FILE.partial until close (output-file.ts).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { BATCH_CHARS, escapeJsonText } from '../report/json.js';
import { terminalLine } from '../report/escape.js';
import {
  commitOutputFile,
  discardOutputFile,
  keepPartialOutputFile,
  openOutputFile,
  outputError,
  type OutputError,
  type OutputFile,
} from '../report/output-file.js';

/** How messages name standard output. */
export const STANDARD_OUTPUT = 'standard output';

/** True once an Output writes to standard output: its failures are then the Output's to report. */
let stdoutTaken = false;

/**
 * Standard output outside a report (--help, --version): a reader that went away is quiet, any
 * other error is the same one line and exit status 2 as a report's.
 */
export function guardStandardOutput(): void {
  let reported = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (stdoutTaken || reported || err.code === 'EPIPE') return;
    reported = true;
    process.stderr.write(
      terminalLine(`lync-port-audit: ${outputError(STANDARD_OUTPUT, err).message}`) + '\n',
    );
    process.exitCode = 2;
  });
}

export interface Output {
  /** The path, or "standard output". */
  readonly name: string;
  /** True once the output failed in any way: further writes are dropped. */
  readonly broken: boolean;
  /** True when it failed because its reader went away (EPIPE): not an error. */
  readonly closedByReader: boolean;
  /** The failure that is an error, if any. */
  readonly error: OutputError | undefined;
  /** Writes text or bytes (dropped once broken). */
  write(chunk: string | Uint8Array): void;
  /** Resolves when the stream can take more, or has failed (awaited by the capture reader between reads). */
  ready(): Promise<void> | undefined;
  /**
   * Writes out what is pending and closes. A file is then named FILE; with `complete` false (an
   * interrupted run) it stays FILE.partial, whose path is returned. On failure FILE.partial is
   * removed. Never throws: a failure is in `error` / `closedByReader`.
   */
  close(complete?: boolean): Promise<string | undefined>;
}

/**
 * Opens standard output (`path` undefined or "-") or a file. Throws an OutputError when the file
 * cannot be written; `onFailure` is called once when a later write fails (the run stops reading).
 */
export function openOutput(path: string | undefined, onFailure?: () => void): Output {
  const toStdout = path === undefined || path === '-';
  const name = toStdout ? STANDARD_OUTPUT : path;
  const file: OutputFile | undefined = toStdout ? undefined : openOutputFile(path);
  if (toStdout) stdoutTaken = true;
  const stream: Writable =
    file === undefined
      ? process.stdout
      : createWriteStream(file.writtenPath, { fd: file.fd, autoClose: false });
  let error: OutputError | undefined;
  let closedByReader = false;
  let closed = false;
  const fail = (err: unknown): void => {
    if (closedByReader || error !== undefined) return;
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') closedByReader = true;
    else error = outputError(name, err);
    onFailure?.();
  };
  stream.on('error', fail);
  const broken = (): boolean => closedByReader || error !== undefined;
  /** Resolves once everything written so far has been handed to the system, or has failed. */
  const flushed = (): Promise<void> =>
    broken() || stream.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => {
          stream.write('', (err) => {
            if (err) fail(err);
            resolve();
          });
        });
  return {
    name,
    get broken(): boolean {
      return broken();
    },
    get closedByReader(): boolean {
      return closedByReader;
    },
    get error(): OutputError | undefined {
      return error;
    },
    write(chunk: string | Uint8Array): void {
      if (broken() || closed) return;
      try {
        stream.write(chunk);
      } catch (err) {
        fail(err);
      }
    },
    ready(): Promise<void> | undefined {
      if (broken() || !stream.writableNeedDrain) return undefined;
      return new Promise<void>((resolve) => {
        const done = (): void => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
      });
    },
    async close(complete = true): Promise<string | undefined> {
      if (closed) return undefined;
      closed = true;
      await flushed();
      if (file === undefined) return undefined;
      if (!broken())
        await new Promise<void>((resolve) => {
          stream.end(() => resolve());
          stream.once('error', () => resolve());
        });
      if (broken()) {
        discardOutputFile(file);
        return undefined;
      }
      if (!complete) return keepPartialOutputFile(file);
      try {
        commitOutputFile(file);
      } catch (err) {
        fail(err);
      }
      return undefined;
    },
  };
}

/**
 * Writes a report given in pieces (report/json.ts toJsonPieces, report/html.ts htmlPieces): the
 * small ones joined into batches of about BATCH_CHARS characters, and after each batch the output
 * is let drain, so that neither the report nor the stream's buffer is ever held whole (a 1M-packet
 * capture's JSON took 420 MB as one string: docs/decisions.md, "analyze memory"). Stops at once
 * when the output breaks (its reader went away, or a write failed).
 */
export async function writePieces(output: Output, pieces: Iterable<string>): Promise<void> {
  let batch = '';
  for (const piece of pieces) {
    if (output.broken) return;
    batch += piece;
    if (batch.length < BATCH_CHARS) continue;
    output.write(batch);
    batch = '';
    await output.ready();
  }
  if (batch.length > 0) output.write(batch);
}

/**
 * Newline-delimited JSON: `JSON.stringify(record)` and "\n" per record, byte for byte what the
 * ndjson package writes for plain data, without its object-mode Transform stream per record
 * (docs/decisions.md, "NDJSON writer"), with the characters a terminal would act on escaped
 * (report/json.ts). Records are joined into one string and handed to the
 * output when it passes BATCH_CHARS, and before every read of the input (`ready`), so a live
 * capture on stdin still sees its records as soon as the packets that ended them are read.
 */
export function ndjsonWriter(output: Output): {
  write(value: unknown): void;
  /** Writes what is batched (the output is closed by its owner). */
  flush(): void;
  ready(): Promise<void> | undefined;
} {
  let batch = '';
  const flush = (): void => {
    if (batch.length > 0 && !output.broken) output.write(escapeJsonText(batch));
    batch = '';
  };
  return {
    write(value: unknown): void {
      if (output.broken) return;
      batch += JSON.stringify(value) + '\n';
      if (batch.length >= BATCH_CHARS) flush();
    },
    flush,
    ready(): Promise<void> | undefined {
      flush();
      return output.ready();
    },
  };
}
