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

/** What the record walk needs besides the window: fixed for the whole file. */
interface PcapLayout {
  le: boolean;
  hdrLen: number;
  snaplen: number;
  fcsLength: number;
  /** Multiplier from the file's timestamp fraction to nanoseconds, and the fraction's bound. */
  fracDivisor: number;
  fracLimit: number;
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
  const layout: PcapLayout = {
    le: header.littleEndian,
    hdrLen: header.recordHeaderLength,
    // libpcap treats a snaplen of 0 or above the maximum as "the maximum".
    snaplen: header.snaplen > 0 && header.snaplen <= MAX_PACKET_LENGTH ? header.snaplen : MAX_PACKET_LENGTH,
    fcsLength: header.fcsLength,
    fracDivisor: header.nanosecond ? 1 : 1000, // to nanoseconds
    fracLimit: header.nanosecond ? 1e9 : 1e6,
  };
  rec.linkType = header.linkType;
  rec.interfaceId = 0;
  const hdrLen = layout.hdrLen;
  for (;;) {
    // The records wholly inside the window, without awaiting anything; then more bytes.
    const need = emitWhole(layout, ctx, rec);
    if (await win.ensure(need)) continue;
    if (win.available === 0) return;
    if (win.available < hdrLen)
      throw new CaptureError(
        name,
        win.offset,
        `truncated record header: ${win.available} of ${hdrLen} bytes before the end of the file`,
      );
    const caplen = u32(win.buf, win.pos + 8, layout.le);
    throw new CaptureError(
      name,
      win.offset,
      `truncated record: header says ${caplen} bytes of packet, only ${win.available - hdrLen} before the end of the file`,
    );
  }
}

/**
 * Emits every record that lies whole inside the window, advancing `win.pos` past each; returns
 * the bytes the next record needs (its header, or header and packet), which are not all there.
 * Synchronous on purpose: the per-packet loop stays a plain loop that V8 optimizes as one.
 */
function emitWhole(layout: PcapLayout, ctx: ReadContext, rec: CaptureRecord): number {
  const win = ctx.win;
  const { le, hdrLen, snaplen } = layout;
  const b = win.buf;
  const end = win.end;
  let q = win.pos;
  for (;;) {
    if (end - q < hdrLen) {
      win.pos = q;
      return hdrLen;
    }
    const caplen = u32(b, q + 8, le);
    if (caplen > MAX_PACKET_LENGTH) {
      win.pos = q;
      throw new CaptureError(
        ctx.name,
        win.offset,
        `record claims a ${caplen}-byte packet, bigger than the maximum of ${MAX_PACKET_LENGTH}`,
      );
    }
    const total = hdrLen + caplen;
    if (end - q < total) {
      win.pos = q;
      return total;
    }
    if (caplen > snaplen)
      ctx.warn(win.base + q, `record length ${caplen} exceeds the file's snaplen ${snaplen}`);
    let sec = u32(b, q, le);
    let frac = u32(b, q + 4, le);
    if (frac >= layout.fracLimit) {
      ctx.warn(win.base + q, `timestamp fraction ${frac} is out of range`);
      sec += Math.floor(frac / layout.fracLimit);
      frac %= layout.fracLimit;
    }
    rec.buf = b;
    rec.offset = q + hdrLen;
    rec.caplen = caplen - (layout.fcsLength <= caplen ? layout.fcsLength : caplen);
    rec.origLen = u32(b, q + 12, le);
    rec.tsSec = sec;
    rec.tsNsec = frac * layout.fracDivisor;
    rec.fileOffset = win.base + q;
    q += total;
    // The consumer may look at the window's offset (progress, errors): keep it current.
    win.pos = q;
    ctx.emit(rec);
  }
}
