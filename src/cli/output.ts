/**
 * Where reports go: standard output or a file (--out), as a stream that respects back-pressure,
 * so that piping a huge NDJSON run into `less` or `head` never grows memory without bound.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface Output {
  stream: Writable;
  /** True once the reader of the output went away (EPIPE): further records are dropped quietly. */
  readonly broken: boolean;
  /** Resolves when the stream can take more (awaited by the capture reader between reads). */
  ready(): Promise<void> | undefined;
  close(): Promise<void>;
}

export function openOutput(path: string | undefined): Output {
  const stream: Writable = path === undefined || path === '-' ? process.stdout : createWriteStream(path);
  let broken = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) is not an error worth a stack trace: stop writing quietly.
    if (err.code === 'EPIPE') broken = true;
    else throw err;
  });
  return {
    stream,
    get broken(): boolean {
      return broken;
    },
    ready(): Promise<void> | undefined {
      if (broken || !stream.writableNeedDrain) return undefined;
      return once(stream, 'drain').then(() => undefined);
    },
    async close(): Promise<void> {
      if (stream === process.stdout) {
        if (stream.writableNeedDrain) await once(stream, 'drain');
        return;
      }
      stream.end();
      await once(stream, 'finish');
    },
  };
}

/** Records are written in batches of about this many characters (see ndjsonWriter). */
const BATCH_CHARS = 64 * 1024;

/**
 * Newline-delimited JSON: `JSON.stringify(record)` and "\n" per record, byte for byte what the
 * ndjson package writes for plain data, without its object-mode Transform stream per record
 * (docs/decisions.md, "NDJSON writer"). Records are joined into one string and handed to the
 * output when it passes BATCH_CHARS, and before every read of the input (`ready`), so a live
 * capture on stdin still sees its records as soon as the packets that ended them are read.
 */
export function ndjsonWriter(output: Output): {
  write(value: unknown): void;
  end(): Promise<void>;
  ready(): Promise<void> | undefined;
} {
  let batch = '';
  const flush = (): void => {
    if (batch.length > 0 && !output.broken) output.stream.write(batch);
    batch = '';
  };
  return {
    write(value: unknown): void {
      batch += JSON.stringify(value) + '\n';
      if (batch.length >= BATCH_CHARS) flush();
    },
    ready(): Promise<void> | undefined {
      flush();
      return output.ready();
    },
    async end(): Promise<void> {
      flush();
      await output.close();
    },
  };
}
