/** Endian-aware integer reads. Small enough that V8 inlines them into the record loops. */

export function u16(buf: Buffer, off: number, le: boolean): number {
  return le ? buf[off] | (buf[off + 1] << 8) : (buf[off] << 8) | buf[off + 1];
}

export function u32(buf: Buffer, off: number, le: boolean): number {
  return le
    ? (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16)) + buf[off + 3] * 0x1000000
    : buf[off] * 0x1000000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
}

export function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/**
 * Zero for fields that will hold 32-bit values (address words, TCP sequence numbers, offsets).
 * V8 keeps a field in the representation of the values it has seen: one that held only small
 * integers (31 bits) must change when the first larger value arrives (an IPv6 address word, most
 * sequence numbers), and every function optimized for the old layout is thrown away then,
 * mid-run. -0 is not a small integer, so these fields start as doubles and never change. It
 * reads as 0 and prints as "0".
 */
export const WIDE_ZERO = -0;
