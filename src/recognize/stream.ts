/**
 * A bounded byte accumulator for stream parsers (SIP over TCP, TLS records split across
 * segments): append what arrives, parse complete messages from the front, drop what was parsed.
 * It never holds more than `limit` bytes; past that the parser is told to give up or resync.
 */
/** The storage of a StreamBuffer that holds nothing (shared: nothing is ever written to it). */
const NONE = Buffer.alloc(0);
/** Smallest storage a StreamBuffer takes when bytes first arrive; it doubles from there as needed. */
const FIRST_SIZE = 512;

export class StreamBuffer {
  /**
   * Allocated when bytes first arrive, unzeroed and from Node's shared pool (below 4 KB): only
   * bytes appended are ever read. Given back by `clear`, so a flow whose parser is done with its
   * buffer (a TLS direction after its hellos) holds no bytes for the rest of its life.
   */
  private data: Buffer = NONE;
  private start = 0;
  private end = 0;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.end - this.start;
  }

  /** Bytes of storage held (0 when it holds none): what the buffer costs its flow. */
  get capacity(): number {
    return this.data.length;
  }

  /** Appends bytes; returns false (and keeps nothing of them) when the limit would be exceeded. */
  append(buf: Buffer, offset: number, length: number): boolean {
    if (this.length + length > this.limit) return false;
    if (this.end + length > this.data.length) {
      const needed = this.length + length;
      if (needed <= this.data.length && this.start > 0) {
        this.data.copy(this.data, 0, this.start, this.end);
      } else {
        const size = Math.min(this.limit, Math.max(needed, FIRST_SIZE, this.data.length * 2));
        const bigger = Buffer.allocUnsafe(size);
        this.data.copy(bigger, 0, this.start, this.end);
        this.data = bigger;
      }
      this.end -= this.start;
      this.start = 0;
    }
    buf.copy(this.data, this.end, offset, offset + length);
    this.end += length;
    return true;
  }

  /** The buffered bytes (a view, valid until the next append, consume or clear). */
  view(): Buffer {
    return this.data.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Drops the buffered bytes and gives the storage back. */
  clear(): void {
    this.data = NONE;
    this.start = 0;
    this.end = 0;
  }
}
