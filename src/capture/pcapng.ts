/**
 * pcapng: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
 * A file is one or more sections; each starts with a Section Header Block (SHB) whose
 * byte-order magic fixes the endianness of that section. Interface Description Blocks
 * (IDB) give each interface its link type, snaplen and timestamp resolution; packets
 * come in Enhanced (EPB), Simple (SPB) or obsolete Packet Blocks (PB). Every other block
 * (name resolution, statistics, decryption secrets, custom, unknown) is skipped by its length.
 */
import { u16, u32, hex32 } from './bytes.js';
import { CaptureError } from './errors.js';
import { MAX_BLOCK_LENGTH, MAX_PACKET_LENGTH } from './limits.js';
import type { CaptureRecord } from './record.js';
import type { ReadContext } from './context.js';

export const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

export interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second is 10^decimalDigits, or 2^binaryShift when binaryShift >= 0. */
  decimalDigits: number;
  binaryShift: number;
  /** if_tsoffset: seconds to add to every timestamp. */
  tsOffset: number;
}

export interface PcapngInfo {
  sections: number;
  interfaces: number;
  /** Byte order of the first section. */
  littleEndian: boolean;
  /** Link types seen in interface descriptions, in order of first appearance. */
  linkTypes: number[];
}

export function isPcapngMagic(buf: Buffer, off: number): boolean {
  return u32(buf, off, false) === BLOCK_SHB;
}

function parseInterface(buf: Buffer, start: number, blockLen: number, le: boolean): PcapngInterface {
  const iface: PcapngInterface = {
    linkType: u16(buf, start + 8, le),
    snaplen: u32(buf, start + 12, le),
    decimalDigits: 6,
    binaryShift: -1,
    tsOffset: 0,
  };
  let o = start + 16;
  const end = start + blockLen - 4;
  while (o + 4 <= end) {
    const code = u16(buf, o, le);
    const len = u16(buf, o + 2, le);
    if (code === OPT_ENDOFOPT) break;
    const value = o + 4;
    if (value + len > end) break; // a damaged option list ends the options, not the file
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const v = buf[value];
      if (v & 0x80) {
        iface.binaryShift = v & 0x7f;
      } else {
        iface.decimalDigits = v;
      }
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      const hi = u32(buf, value + (le ? 4 : 0), le);
      const lo = u32(buf, value + (le ? 0 : 4), le);
      // Signed 64-bit seconds; offsets beyond 2^53 are not meaningful timestamps anyway.
      iface.tsOffset = (hi | 0) * 4294967296 + lo;
    }
    o = value + ((len + 3) & ~3);
  }
  return iface;
}

// Results of divmod64 (module scratch, so the per-packet path allocates nothing).
let quotientHi = 0;
let quotientLo = 0;
let remainder = 0;

/** 10^d units per second, and nanoseconds per unit, for if_tsresol 10^-d (d <= 9). */
const DECIMAL_UNITS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const NS_PER_DECIMAL_UNIT = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

/**
 * Divides the unsigned 64-bit value hi:lo by `d` (1 <= d <= 2^37) exactly, in 16-bit limbs:
 * every intermediate value stays below 2^53, where doubles are exact integers. Sets
 * quotientHi:quotientLo and remainder.
 */
function divmod64(hi: number, lo: number, d: number): void {
  let r = hi >>> 16;
  const q3 = Math.floor(r / d);
  r = (r - q3 * d) * 65536 + (hi & 0xffff);
  const q2 = Math.floor(r / d);
  r = (r - q2 * d) * 65536 + (lo >>> 16);
  const q1 = Math.floor(r / d);
  r = (r - q1 * d) * 65536 + (lo & 0xffff);
  const q0 = Math.floor(r / d);
  remainder = r - q0 * d;
  quotientHi = q3 * 65536 + q2;
  quotientLo = q1 * 65536 + q0;
}

/**
 * Converts a 64-bit count of timestamp units (hi:lo) to seconds and nanoseconds, exactly: the
 * fraction is truncated to the nanosecond, as wiretap does, and no step rounds (nanosecond and
 * finer counts of today exceed 2^53, so plain double arithmetic would be off by some ns).
 * draft-ietf-opsawg-pcapng section 4.2: if_tsresol is 10^-n, or 2^-n when its high bit is set;
 * if_tsoffset is added in whole seconds.
 */
export function setTimestamp(rec: CaptureRecord, hi: number, lo: number, iface: PcapngInterface): void {
  let sec: number;
  let nsec: number;
  const shift = iface.binaryShift;
  if (shift < 0 && iface.decimalDigits <= 9) {
    // The common resolutions, 10^-6 (the pcapng default) and 10^-9: long division of hi:lo by
    // 10^d <= 10^9 in a 32-bit then two 16-bit steps. Every partial value stays below 2^53 and the
    // quotients are far from rounding, so each floor is exact, with no 64-bit arithmetic.
    const perSecond = DECIMAL_UNITS[iface.decimalDigits];
    const qHigh = Math.floor(hi / perSecond);
    let rest = hi - qHigh * perSecond;
    let part = rest * 65536 + (lo >>> 16);
    const qMid = Math.floor(part / perSecond);
    rest = part - qMid * perSecond;
    part = rest * 65536 + (lo & 0xffff);
    const qLow = Math.floor(part / perSecond);
    rest = part - qLow * perSecond;
    rec.tsSec = qHigh * 4294967296 + qMid * 65536 + qLow + iface.tsOffset;
    rec.tsNsec = rest * NS_PER_DECIMAL_UNIT[iface.decimalDigits];
    return;
  }
  if (shift >= 0) {
    // units = sec * 2^shift + frac; nsec = floor(frac * 10^9 / 2^shift) = floor(frac * 5^9 / 2^(shift-9)).
    let fracHi: number;
    let fracLo: number;
    if (shift < 32) {
      const unit = 2 ** shift;
      sec = hi * 2 ** (32 - shift) + Math.floor(lo / unit);
      fracHi = 0;
      fracLo = lo % unit;
    } else if (shift < 64) {
      const unit = 2 ** (shift - 32);
      sec = Math.floor(hi / unit);
      fracHi = hi % unit;
      fracLo = lo;
    } else {
      sec = 0;
      fracHi = hi;
      fracLo = lo;
    }
    if (shift <= 9) {
      nsec = Math.floor((fracLo * 1e9) / 2 ** shift);
    } else {
      // frac * 5^9 as high * 2^32 + low, both exact (5^9 < 2^21), then shifted right by shift - 9.
      const lowProduct = fracLo * 1953125;
      const low = lowProduct % 4294967296;
      const high = fracHi * 1953125 + Math.floor(lowProduct / 4294967296);
      const t = shift - 9;
      nsec = t >= 32 ? Math.floor(high / 2 ** (t - 32)) : high * 2 ** (32 - t) + Math.floor(low / 2 ** t);
    }
  } else {
    // Finer than a nanosecond: floor(floor(units / 10^(d-9)) / 10^9), in steps of at most 10^11 (< 2^37).
    let h = hi;
    let l = lo;
    for (let k = iface.decimalDigits - 9; k > 0; k -= 11) {
      divmod64(h, l, 10 ** Math.min(k, 11));
      h = quotientHi;
      l = quotientLo;
    }
    divmod64(h, l, 1e9);
    nsec = remainder;
    sec = quotientHi * 4294967296 + quotientLo;
  }
  rec.tsSec = sec + iface.tsOffset;
  rec.tsNsec = nsec;
}

/** What the block walk carries from block to block. */
interface PcapngState {
  info: PcapngInfo;
  /** Byte order of the current section. */
  le: boolean;
  interfaces: PcapngInterface[];
  /** The latest packet time, given to simple packet blocks (they have none). */
  lastSec: number;
  lastNsec: number;
}

/**
 * Reads blocks from the current position (which must be an SHB) to the end of the input,
 * emitting every packet. Returns what it learned about sections and interfaces.
 */
export async function readPcapngBlocks(ctx: ReadContext, rec: CaptureRecord): Promise<PcapngInfo> {
  const { win, name } = ctx;
  const st: PcapngState = {
    info: { sections: 0, interfaces: 0, littleEndian: true, linkTypes: [] },
    le: true,
    interfaces: [],
    lastSec: 0,
    lastNsec: 0,
  };
  for (;;) {
    // The blocks wholly inside the window, without awaiting anything; then more bytes.
    const need = walkWholeBlocks(st, ctx, rec);
    if (await win.ensure(need)) continue;
    if (win.available === 0) return st.info;
    if (need === 12)
      throw new CaptureError(
        name,
        win.offset,
        `truncated block header: ${win.available} bytes before the end of the file`,
      );
    throw new CaptureError(
      name,
      win.offset,
      `truncated block: length ${need}, only ${win.available} bytes before the end of the file`,
    );
  }
}

/**
 * Handles every block that lies whole inside the window, advancing `win.pos` past each; returns
 * the bytes the next block needs (12 for its header, else its length), which are not all there.
 * Synchronous on purpose: the per-packet loop stays a plain loop that V8 optimizes as one.
 */
function walkWholeBlocks(st: PcapngState, ctx: ReadContext, rec: CaptureRecord): number {
  const { win, name } = ctx;
  const buf = win.buf;
  const end = win.end;
  const info = st.info;
  for (;;) {
    const p = win.pos;
    if (end - p < 12) return 12;
    const blockOffset = win.base + p;
    let le = st.le;
    const type = u32(buf, p, le);
    if (type === BLOCK_SHB || u32(buf, p, !le) === BLOCK_SHB) {
      const bom = u32(buf, p + 8, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (u32(buf, p + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else
        throw new CaptureError(
          name,
          blockOffset + 8,
          `section header has a bad byte-order magic ${hex32(bom)}`,
        );
    } else if (info.sections === 0) {
      throw new CaptureError(name, blockOffset, 'pcapng file does not start with a section header block');
    }
    const blockLen = u32(buf, p + 4, le);
    if (blockLen < 12 || blockLen % 4 !== 0 || blockLen > MAX_BLOCK_LENGTH)
      throw new CaptureError(
        name,
        blockOffset,
        `block of type ${hex32(type)} has an impossible length ${blockLen}` +
          (blockLen > MAX_BLOCK_LENGTH
            ? ` (limit ${MAX_BLOCK_LENGTH})`
            : ' (must be a multiple of 4, at least 12)'),
      );
    if (end - p < blockLen) return blockLen;
    if (type === BLOCK_SHB) {
      // A new section: its byte order, and interfaces numbered from 0 again.
      st.le = le;
      if (info.sections === 0) info.littleEndian = le;
      info.sections++;
      st.interfaces = [];
    }
    const trailer = u32(buf, p + blockLen - 4, le);
    if (trailer !== blockLen)
      throw new CaptureError(
        name,
        blockOffset,
        `block length ${blockLen} does not match its trailing length ${trailer}`,
      );
    const blockType = u32(buf, p, le);
    // The consumer may look at the window's offset (progress, errors): past this block from here on.
    win.pos = p + blockLen;
    if (blockType === BLOCK_EPB || blockType === BLOCK_PB)
      emitPacketBlock(st, ctx, rec, p, blockLen, blockType);
    else if (blockType === BLOCK_SPB) emitSimplePacketBlock(st, ctx, rec, p, blockLen);
    else if (blockType === BLOCK_IDB) {
      if (blockLen < 20)
        throw new CaptureError(name, blockOffset, `interface block too short (${blockLen} bytes)`);
      const iface = parseInterface(buf, p, blockLen, le);
      st.interfaces.push(iface);
      info.interfaces++;
      if (!info.linkTypes.includes(iface.linkType)) info.linkTypes.push(iface.linkType);
    } else if (blockType === BLOCK_SHB) {
      if (blockLen < 28)
        throw new CaptureError(name, blockOffset, `section header block too short (${blockLen} bytes)`);
    }
  }
}

/** An Enhanced Packet Block, or the obsolete Packet Block, at buf[p] (section 4.3, appendix A). */
function emitPacketBlock(
  st: PcapngState,
  ctx: ReadContext,
  rec: CaptureRecord,
  p: number,
  blockLen: number,
  blockType: number,
): void {
  const { win, name } = ctx;
  const buf = win.buf;
  const le = st.le;
  const blockOffset = win.base + p;
  if (blockLen < 32) throw new CaptureError(name, blockOffset, `packet block too short (${blockLen} bytes)`);
  const ifId = blockType === BLOCK_EPB ? u32(buf, p + 8, le) : u16(buf, p + 8, le);
  const iface = st.interfaces[ifId];
  if (iface === undefined)
    throw new CaptureError(
      name,
      blockOffset,
      `packet refers to interface ${ifId}, but the section describes ${st.interfaces.length}`,
    );
  const caplen = u32(buf, p + 20, le);
  const origLen = u32(buf, p + 24, le);
  if (caplen > MAX_PACKET_LENGTH)
    throw new CaptureError(
      name,
      blockOffset,
      `packet block claims a ${caplen}-byte packet, bigger than the maximum of ${MAX_PACKET_LENGTH}`,
    );
  if (28 + caplen + 4 > blockLen)
    throw new CaptureError(
      name,
      blockOffset,
      `packet length ${caplen} does not fit in its ${blockLen}-byte block`,
    );
  if (iface.snaplen !== 0 && caplen > iface.snaplen)
    ctx.warn(blockOffset, `packet length ${caplen} exceeds interface ${ifId}'s snaplen ${iface.snaplen}`);
  setTimestamp(rec, u32(buf, p + 12, le), u32(buf, p + 16, le), iface);
  st.lastSec = rec.tsSec;
  st.lastNsec = rec.tsNsec;
  rec.buf = buf;
  rec.offset = p + 28;
  rec.caplen = caplen;
  rec.origLen = origLen;
  rec.linkType = iface.linkType;
  rec.interfaceId = ifId;
  rec.fileOffset = blockOffset;
  ctx.emit(rec);
}

/** A Simple Packet Block at buf[p] (section 4.4): interface 0, no timestamp. */
function emitSimplePacketBlock(
  st: PcapngState,
  ctx: ReadContext,
  rec: CaptureRecord,
  p: number,
  blockLen: number,
): void {
  const { win, name } = ctx;
  const buf = win.buf;
  const blockOffset = win.base + p;
  const iface = st.interfaces[0];
  if (iface === undefined)
    throw new CaptureError(name, blockOffset, 'simple packet block, but the section describes no interface');
  if (blockLen < 16)
    throw new CaptureError(name, blockOffset, `simple packet block too short (${blockLen} bytes)`);
  const origLen = u32(buf, p + 8, st.le);
  // Section 4.4: the captured length is the original length cut to the interface's snaplen
  // (0: no limit), and the block must hold that many bytes (as wiretap checks too).
  const caplen = iface.snaplen !== 0 && origLen > iface.snaplen ? iface.snaplen : origLen;
  if (caplen > MAX_PACKET_LENGTH)
    throw new CaptureError(
      name,
      blockOffset,
      `simple packet block claims a ${caplen}-byte packet, bigger than the maximum of ${MAX_PACKET_LENGTH}`,
    );
  if (16 + caplen > blockLen)
    throw new CaptureError(
      name,
      blockOffset,
      `simple packet block of ${blockLen} bytes is too short for its ${caplen}-byte packet`,
    );
  // An SPB has no timestamp; we give it the previous packet's so that flow durations stay sane.
  rec.tsSec = st.lastSec;
  rec.tsNsec = st.lastNsec;
  rec.buf = buf;
  rec.offset = p + 12;
  rec.caplen = caplen;
  rec.origLen = origLen;
  rec.linkType = iface.linkType;
  rec.interfaceId = 0;
  rec.fileOffset = blockOffset;
  ctx.emit(rec);
}
