/**
 * Errors found while reading a capture. Every one names the input and the byte offset
 * (in the decompressed byte stream) where the problem starts, so that a user can look
 * at it with `xxd -s OFFSET` or compare with what tshark says about the same file.
 */
export class CaptureError extends Error {
  constructor(
    /** The name the user gave for the input (a path, or "-" for standard input). */
    readonly source: string,
    /** Byte offset in the (decompressed) capture where the bad structure starts. */
    readonly offset: number,
    /** What is wrong, in one line, without the file name or offset. */
    readonly problem: string,
    /** The exception behind an "unexpected failure" (its stack says which stage failed: the fuzz campaign sorts by it). */
    cause?: unknown,
  ) {
    super(`${source}: byte ${offset}: ${problem}`, cause === undefined ? undefined : { cause });
    this.name = 'CaptureError';
  }
}

/** A problem that does not stop reading (for example a packet longer than the interface's snaplen). */
export interface CaptureWarning {
  offset: number;
  problem: string;
}
