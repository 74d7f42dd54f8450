/**
 * GRE header: RFC 2784 section 2 (checksum present bit, protocol type), RFC 2890 section 2 (key
 * and sequence number), RFC 1701 section 2.1 (the routing present bit and its source route
 * entries), and PPTP's enhanced GRE (RFC 2637 section 4.1: version 1, a key field holding the
 * payload length and the call id, an optional acknowledgment number).
 */
import { be16, be32, type PacketView } from './view.js';

const GRE_CHECKSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQUENCE = 0x1000;
/** Enhanced GRE only: an acknowledgment number follows. */
const GRE_ACK = 0x0080;
const GRE_VERSION = 0x0007;

export const GRE_FLAG_SEQUENCE = GRE_SEQUENCE;

/**
 * Decodes the GRE header at `off`. Returns the offset of its payload (whose protocol type, an
 * EtherType, is left in view.greProtocol), or -1 when the header is cut short or of a version we
 * do not know (only 0 and 1 exist).
 */
export function decodeGre(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + 4 > end) return -1;
  const flags = be16(buf, off);
  const version = flags & GRE_VERSION;
  if (version > 1) return -1;
  let p = off + 4;
  // Checksum and offset: present when either the checksum or the routing bit is set (RFC 1701).
  if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) !== 0) p += 4;
  view.greHasKey = (flags & GRE_KEY) !== 0;
  if (view.greHasKey) {
    if (p + 4 > end) return -1;
    view.greKey = be32(buf, p);
    p += 4;
  }
  if ((flags & GRE_SEQUENCE) !== 0) p += 4;
  if (version === 1 && (flags & GRE_ACK) !== 0) p += 4;
  if ((flags & GRE_ROUTING) !== 0) {
    // Source route entries (RFC 1701 section 2.1): address family (2), offset (1), length (1),
    // then `length` bytes; the list ends with an entry of family 0 and length 0. Bounded by `end`.
    for (;;) {
      if (p + 4 > end) return -1;
      const length = buf[p + 3];
      const family = be16(buf, p);
      p += 4 + length;
      if (family === 0 && length === 0) break;
    }
  }
  if (p > end) return -1;
  view.greFlags = flags;
  view.greProtocol = be16(buf, off + 2);
  return p;
}

/** Whether the GRE header just decoded carries a sequence number (what tells ERSPAN II from I). */
export function greHasSequence(view: PacketView): boolean {
  return (view.greFlags & GRE_SEQUENCE) !== 0;
}

export function greVersion(view: PacketView): number {
  return view.greFlags & GRE_VERSION;
}
