/**
 * IPv6 header (RFC 8200 section 3) and the extension headers that may precede the transport
 * header (section 4): hop-by-hop, routing, fragment, destination options, AH (RFC 4302),
 * mobility (RFC 6275), HIP and shim6. ESP (50) and "no next header" (59) end the chain.
 */
import { DecodeStatus, Fragment, be16, be32, type PacketView } from './view.js';

const EXT_HOP_BY_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DEST_OPTS = 60;
const EXT_MOBILITY = 135;
const EXT_HIP = 139;
const EXT_SHIM6 = 140;

/** Decodes the IPv6 header and extension chain at `off`; returns the transport header offset or -1. */
export function decodeIpv6(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + 40 > end) {
    view.status = DecodeStatus.Truncated;
    view.problem = 'IPv6 header';
    return -1;
  }
  if (buf[off] >> 4 !== 6) {
    view.status = DecodeStatus.Malformed;
    view.problem = 'IPv6 version';
    return -1;
  }
  let payload = be16(buf, off + 4);
  if (payload === 0) payload = end - off - 40; // jumbogram or offload: trust the capture
  view.ipVersion = 6;
  view.ipOffset = off;
  view.ipTotalLength = 40 + payload;
  view.ttl = buf[off + 7];
  view.src0 = be32(buf, off + 8);
  view.src1 = be32(buf, off + 12);
  view.src2 = be32(buf, off + 16);
  view.src3 = be32(buf, off + 20);
  view.dst0 = be32(buf, off + 24);
  view.dst1 = be32(buf, off + 28);
  view.dst2 = be32(buf, off + 32);
  view.dst3 = be32(buf, off + 36);
  view.fragment = Fragment.None;
  view.fragmentOffset = 0;
  view.moreFragments = false;
  view.fragmentId = 0;
  let next = buf[off + 6];
  let p = off + 40;
  // Bounded: each extension header is at least 8 bytes, and p only grows.
  for (;;) {
    if (
      next === EXT_HOP_BY_HOP ||
      next === EXT_ROUTING ||
      next === EXT_DEST_OPTS ||
      next === EXT_MOBILITY ||
      next === EXT_HIP ||
      next === EXT_SHIM6
    ) {
      if (p + 2 > end) return truncatedExt(view);
      const len = (buf[p + 1] + 1) * 8;
      next = buf[p];
      p += len;
      continue;
    }
    if (next === EXT_AH) {
      if (p + 2 > end) return truncatedExt(view);
      const len = (buf[p + 1] + 2) * 4;
      next = buf[p];
      p += len;
      continue;
    }
    if (next === EXT_FRAGMENT) {
      if (p + 8 > end) return truncatedExt(view);
      const fo = be16(buf, p + 2);
      const fragOffset = fo & 0xfff8;
      const more = (fo & 1) !== 0;
      view.fragmentOffset = fragOffset;
      view.moreFragments = more;
      view.fragmentId = be32(buf, p + 4);
      view.fragment = fragOffset > 0 ? Fragment.Later : more ? Fragment.First : Fragment.None;
      next = buf[p];
      p += 8;
      continue;
    }
    break;
  }
  if (p > off + view.ipTotalLength) {
    view.status = DecodeStatus.Malformed;
    view.problem = 'IPv6 extension headers';
    return -1;
  }
  view.proto = next;
  view.ipHeaderLength = p - off;
  return p;
}

function truncatedExt(view: PacketView): number {
  view.status = DecodeStatus.Truncated;
  view.problem = 'IPv6 extension header';
  return -1;
}

/** RFC 5952 text form of an IPv6 address given as four 32-bit words. */
export function ipv6ToString(w0: number, w1: number, w2: number, w3: number): string {
  const groups = [
    w0 >>> 16,
    w0 & 0xffff,
    w1 >>> 16,
    w1 & 0xffff,
    w2 >>> 16,
    w2 & 0xffff,
    w3 >>> 16,
    w3 & 0xffff,
  ];
  // Longest run of zero groups (at least two) becomes "::" (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5).
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff)
    return `::ffff:${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}
