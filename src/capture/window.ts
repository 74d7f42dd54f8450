/**
 * A sliding window over a ByteSource: the readers parse records in place inside one
 * reusable buffer and only ask for more bytes when a record crosses the buffer's end.
 * The buffer grows only when a single record is larger than it, and never past the
 * caller's hard limit, so an untrusted length can never make us allocate without bound.
 */
import type { ByteSource } from './source.js';

/**
 * 1 MiB, measured (docs/decisions.md, "Window size"): large enough that the cost of a read is
 * spread over thousands of packets, small enough that the bytes just read are still in the
 * core's L2 cache when the parser walks them (4 MiB was 20% slower to read and parse).
 */
const DEFAULT_SIZE = 1 << 20;

export class ByteWindow {
  buf: Buffer;
  /** Index in `buf` of the first unconsumed byte. */
  pos = 0;
  /** Index in `buf` one past the last valid byte. */
  end = 0;
  /** Absolute input offset of `buf[0]`. */
  base = 0;
  eof = false;

  constructor(
    private readonly source: ByteSource,
    size = DEFAULT_SIZE,
    private readonly beforeRead?: () => Promise<void> | undefined,
    /** Stops the read: checked before each read, and ends a wait (for stdin, for the output) at once. */
    private readonly signal?: AbortSignal,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Absolute offset of the next unconsumed byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /**
   * Makes at least `n` bytes available from `pos`. Resolves false when the input ends first
   * (the bytes that are there stay available). `n` must already be checked against a sane limit.
   */
  async ensure(n: number): Promise<boolean> {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.end -= this.pos;
      this.base += this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    while (this.end < n) {
      if (this.beforeRead !== undefined) {
        const waiting = this.beforeRead();
        if (waiting !== undefined) await this.unlessAborted(waiting);
      }
      this.signal?.throwIfAborted();
      const got = await this.unlessAborted(this.source.read(this.buf, this.end, this.buf.length - this.end));
      if (got === 0) {
        this.eof = true;
        return false;
      }
      this.end += got;
    }
    return true;
  }

  /**
   * `p`, or the signal's reason as soon as it is aborted: a read from a quiet standard input (a
   * live capture with no traffic) must not hold up Ctrl-C. The read itself is left to the
   * source's close.
   */
  private unlessAborted<T>(p: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal === undefined) return p;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      );
    });
  }
}
