/**
 * Where reports go: standard output or a file (--out), as a stream that respects back-pressure,
 * so that piping a huge NDJSON run into `less` or `head` never grows memory without bound.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ndjson from 'ndjson';

export interface Output {
  stream: Writable;
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

/** An NDJSON writer (the ndjson package) piped into an output; `write` returns false when it is full. */
export function ndjsonWriter(output: Output): {
  write(value: unknown): void;
  end(): Promise<void>;
  ready(): Promise<void> | undefined;
} {
  const serialize = ndjson.stringify();
  serialize.pipe(output.stream, { end: false });
  return {
    write(value: unknown): void {
      serialize.write(value);
    },
    ready(): Promise<void> | undefined {
      if (serialize.writableNeedDrain) return once(serialize, 'drain').then(() => output.ready());
      return output.ready();
    },
    async end(): Promise<void> {
      serialize.end();
      await once(serialize, 'end');
      await output.close();
    },
  };
}
