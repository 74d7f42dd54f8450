/**
 * Classic libpcap files: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html
 * A 24-byte file header then records of a 16-byte header and the packet bytes.
 * Microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magics in both byte orders, and the
 * "modified" pcap of Alexey Kuznetzov's patches (a1b2cd34) whose record header is 24 bytes.
 */
import { u32, hex32 } from './bytes.js';
import { CaptureError } from './errors.js';
import { MAX_PACKET_LENGTH } from './limits.js';
import type { CaptureRecord } from './record.js';
import type { ReadContext } from './context.js';

export const PCAP_HEADER_LENGTH = 24;

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  /** Bytes per record header: 16, or 24 for the modified format. */
  recordHeaderLength: number;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** LINKTYPE_* with the FCS flag bits of the high nibble removed. */
  linkType: number;
  /** Bytes of frame check sequence at the end of every packet (from the link-type field's FCS bits). */
  fcsLength: number;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;

/** Recognises the magic at the start of `buf`; undefined when it is not classic pcap. */
export function pcapMagic(
  buf: Buffer,
  off: number,
): { littleEndian: boolean; nanosecond: boolean; modified: boolean } | undefined {
  for (const le of [true, false]) {
    const m = u32(buf, off, le);
    if (m === MAGIC_US) return { littleEndian: le, nanosecond: false, modified: false };
    if (m === MAGIC_NS) return { littleEndian: le, nanosecond: true, modified: false };
    if (m === MAGIC_MODIFIED) return { littleEndian: le, nanosecond: false, modified: true };
  }
  return undefined;
}

export function parsePcapHeader(buf: Buffer, off: number, name: string): PcapHeader {
  const magic = pcapMagic(buf, off);
  if (!magic) throw new CaptureError(name, 0, `not a pcap file (magic ${hex32(u32(buf, off, false))})`);
  const le = magic.littleEndian;
  const rawLinkType = u32(buf, off + 20, le);
  // LINKTYPE field layout (draft-ietf-opsawg-pcap section 4): low 28 bits link type, bit 26 "FCS
  // length present", bits 28-31 the FCS length in 16-bit words.
  const fcsPresent = (rawLinkType & 0x04000000) !== 0;
  return {
    littleEndian: le,
    nanosecond: magic.nanosecond,
    recordHeaderLength: magic.modified ? 24 : 16,
    versionMajor: buf[off + 4 + (le ? 0 : 1)] | (buf[off + 5 - (le ? 0 : 1)] << 8),
    versionMinor: buf[off + 6 + (le ? 0 : 1)] | (buf[off + 7 - (le ? 0 : 1)] << 8),
    snaplen: u32(buf, off + 16, le),
    linkType: rawLinkType & 0x03ffffff,
    fcsLength: fcsPresent ? (rawLinkType >>> 28) * 2 : 0,
  };
}

/**
 * Reads every record after the file header and hands each to `ctx.emit`. Throws a
 * CaptureError naming the offset of the first record it cannot read; everything before
 * it has already been emitted.
 */
export async function readPcapRecords(
  header: PcapHeader,
  ctx: ReadContext,
  rec: CaptureRecord,
): Promise<void> {
  const { win, name } = ctx;
  const le = header.littleEndian;
  const hdrLen = header.recordHeaderLength;
  const fracDivisor = header.nanosecond ? 1 : 1000; // to nanoseconds
  const fracLimit = header.nanosecond ? 1e9 : 1e6;
  // libpcap treats a snaplen of 0 or above the maximum as "the maximum".
  const snaplen =
    header.snaplen > 0 && header.snaplen <= MAX_PACKET_LENGTH ? header.snaplen : MAX_PACKET_LENGTH;
  rec.linkType = header.linkType;
  rec.interfaceId = 0;
  for (;;) {
    if (win.end - win.pos < hdrLen && !(await win.ensure(hdrLen))) {
      if (win.available > 0)
        throw new CaptureError(
          name,
          win.offset,
          `truncated record header: ${win.available} of ${hdrLen} bytes before the end of the file`,
        );
      return;
    }
    const buf = win.buf;
    const p = win.pos;
    const caplen = u32(buf, p + 8, le);
    const origLen = u32(buf, p + 12, le);
    if (caplen > MAX_PACKET_LENGTH)
      throw new CaptureError(
        name,
        win.offset,
        `record claims a ${caplen}-byte packet, bigger than the maximum of ${MAX_PACKET_LENGTH}`,
      );
    if (caplen > snaplen)
      ctx.warn(win.offset, `record length ${caplen} exceeds the file's snaplen ${snaplen}`);
    const total = hdrLen + caplen;
    if (win.end - win.pos < total && !(await win.ensure(total)))
      throw new CaptureError(
        name,
        win.offset,
        `truncated record: header says ${caplen} bytes of packet, only ${win.available - hdrLen} before the end of the file`,
      );
    const b = win.buf;
    const q = win.pos;
    let sec = u32(b, q, le);
    let frac = u32(b, q + 4, le);
    if (frac >= fracLimit) {
      ctx.warn(win.offset, `timestamp fraction ${frac} is out of range`);
      sec += Math.floor(frac / fracLimit);
      frac %= fracLimit;
    }
    rec.buf = b;
    rec.offset = q + hdrLen;
    rec.caplen = caplen - (header.fcsLength <= caplen ? header.fcsLength : caplen);
    rec.origLen = origLen;
    rec.tsSec = sec;
    rec.tsNsec = frac * fracDivisor;
    rec.fileOffset = win.base + q;
    win.pos = q + total;
    ctx.emit(rec);
  }
}
