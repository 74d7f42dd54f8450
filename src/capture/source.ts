/**
 * Byte sources: a capture file, standard input, either one gzip-compressed.
 * Compression is detected by the gzip magic (RFC 1952 section 2.3.1: 1f 8b), never by the file name.
 * Everything is pulled on demand, so memory stays bounded whatever the input size.
 */
import { open as openCallback, readSync } from 'node:fs';
import { open, stat as statPath, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureError } from './errors.js';

export interface ByteSource {
  /** The name to use in messages: the path, or "-" for standard input. */
  readonly name: string;
  /** True when the bytes are being decompressed from gzip. */
  readonly gzip: boolean;
  /** Size of the input in bytes when known (a plain file), for progress reporting. */
  readonly size: number | undefined;
  /** Bytes consumed from the underlying file so far (compressed bytes for gzip), for progress. */
  consumed(): number;
  /**
   * Copy up to `length` bytes into `target` at `offset`. Resolves to the number of bytes
   * copied; 0 means the end of the input.
   */
  read(target: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** Pulls bytes from a Node stream: chunks are copied out as the reader asks for them. */
class StreamSource implements ByteSource {
  private chunk: Buffer | undefined;
  private chunkPos = 0;
  private done = false;
  private readonly iterator: AsyncIterator<Buffer>;
  private produced = 0;

  constructor(
    readonly name: string,
    readonly gzip: boolean,
    stream: AsyncIterable<Buffer>,
    readonly size: number | undefined,
    private readonly rawConsumed: () => number,
    private readonly onClose: () => Promise<void>,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  consumed(): number {
    return this.rawConsumed();
  }

  async read(target: Buffer, offset: number, length: number): Promise<number> {
    let copied = 0;
    while (copied < length) {
      if (this.chunk === undefined || this.chunkPos >= this.chunk.length) {
        if (this.done) break;
        // Return what we have rather than wait for more: the reader asks again when it needs it.
        if (copied > 0) break;
        let next: IteratorResult<Buffer>;
        try {
          next = await this.iterator.next();
        } catch (err) {
          throw new CaptureError(this.name, this.produced, describeStreamError(err, this.gzip));
        }
        if (next.done) {
          this.done = true;
          break;
        }
        this.chunk = next.value;
        this.chunkPos = 0;
        continue;
      }
      const n = Math.min(length - copied, this.chunk.length - this.chunkPos);
      this.chunk.copy(target, offset + copied, this.chunkPos, this.chunkPos + n);
      this.chunkPos += n;
      copied += n;
    }
    this.produced += copied;
    return copied;
  }

  async close(): Promise<void> {
    this.done = true;
    // The underlying stream first: an async generator's return() waits for a pending next(), and
    // a read stopped by Ctrl-C may still wait for a quiet standard input.
    await this.onClose();
    await this.iterator.return?.();
  }
}

/**
 * Reads a plain file with positional reads straight into the caller's buffer (no intermediate
 * copy). The reads are synchronous on purpose: an asynchronous read runs on a libuv worker
 * thread, so the bytes land in another core's cache and the parser then fetches them from
 * memory, and each read costs a thread-pool round trip; a local file read does not block for
 * long. The event loop still turns whenever the output asks for it (`beforeRead` awaits drain).
 */
class FileSource implements ByteSource {
  readonly gzip = false;
  private position = 0;

  constructor(
    readonly name: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  consumed(): number {
    return this.position;
  }

  async read(target: Buffer, offset: number, length: number): Promise<number> {
    const bytesRead = readSync(this.handle.fd, target, offset, length, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function describeStreamError(err: unknown, gzip: boolean): string {
  const message = err instanceof Error ? err.message : String(err);
  return gzip ? `gzip data is damaged: ${message}` : `read failed: ${message}`;
}

/**
 * Opens a capture input. `name` is a path, or "-" for standard input. Gzip input is
 * recognised by its first two bytes and decompressed as it is read.
 */
export async function openSource(
  name: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<ByteSource> {
  if (name === '-') return openStream(name, stdin as Readable);
  let handle: FileHandle;
  try {
    if ((await statPath(name)).isFIFO()) return await openFifo(name);
    handle = await open(name, 'r');
  } catch (err) {
    throw new CaptureError(name, 0, `cannot open: ${openFailure(err)}`);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new CaptureError(name, 0, 'cannot open: is a directory');
    // A character device cannot be read at a position (pread fails with ESPIPE): read it in
    // order, as standard input is, and close the handle with the stream.
    if (!stat.isFile()) {
      const stream = handle.createReadStream({ autoClose: true, highWaterMark: 1 << 20 });
      return await openStream(name, stream);
    }
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    if (bytesRead === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1) {
      const raw = handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 });
      let rawBytes = 0;
      raw.on('data', (c: string | Buffer) => {
        rawBytes += c.length;
      });
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      raw.on('error', (e) => gunzip.destroy(e));
      raw.pipe(gunzip);
      return new StreamSource(
        name,
        true,
        gunzip,
        stat.size,
        () => rawBytes,
        async () => {
          raw.destroy();
          gunzip.destroy();
          await handle.close();
        },
      );
    }
    return new FileSource(name, handle, stat.size);
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function openFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'is a directory'
        : (err as Error).message;
}

/**
 * A named pipe: `mkfifo` fed by a capture still being taken, or a process substitution
 * (`analyze <(tcpdump -w - ...)` passes /dev/fd/63). It cannot be read at a position (pread fails
 * with ESPIPE), and a blocking read of it on the thread pool would keep the process alive after
 * Ctrl-C until the writer sends more or closes. So it is read as standard input is: as a libuv
 * pipe (non-blocking), which `destroy()` closes at once. The open itself waits for a writer, as
 * `cat` does.
 */
async function openFifo(name: string): Promise<ByteSource> {
  const fd = await new Promise<number>((resolve, reject) =>
    openCallback(name, 'r', (err, fd) => (err ? reject(err) : resolve(fd))),
  );
  return openStream(name, new Socket({ fd, readable: true, writable: false }));
}

/** Wraps a stream (standard input, a pipe from tcpdump), decompressing it when it starts with the gzip magic. */
export async function openStream(name: string, stream: Readable): Promise<ByteSource> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 2) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    headLen += chunk.length;
  }
  let rawBytes = headLen;
  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      rawBytes += next.value.length;
      yield next.value;
    }
  }
  const first = Buffer.concat(head, Math.min(headLen, 2));
  const isGzip = first.length === 2 && first[0] === GZIP_MAGIC_0 && first[1] === GZIP_MAGIC_1;
  const close = async (): Promise<void> => {
    // Destroyed, not only returned: a pending read (a stopped run on a quiet pipe) ends with it.
    stream.destroy();
    await iterator.return?.();
  };
  if (!isGzip) return new StreamSource(name, false, replay(), undefined, () => rawBytes, close);
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const replayed = Readable.from(replay());
  replayed.on('error', (e) => gunzip.destroy(e));
  replayed.pipe(gunzip);
  return new StreamSource(
    name,
    true,
    gunzip,
    undefined,
    () => rawBytes,
    async () => {
      replayed.destroy();
      gunzip.destroy();
      await close();
    },
  );
}
