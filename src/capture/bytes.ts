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
