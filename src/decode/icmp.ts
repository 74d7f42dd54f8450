/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443). For error messages the original packet's IP header
 * and first transport bytes are quoted after the 8-byte ICMP header (RFC 792 "Internet Header
 * + 64 bits of Original Data Datagram"; RFC 4443 section 2.4 (c)); we decode that quote so the
 * error can be attached to the flow it answers.
 */
import { IPPROTO_TCP, IPPROTO_UDP, be16, be32, type PacketView } from './view.js';

const IPPROTO_SCTP = 132;

/** ICMPv4 types that carry a quoted datagram: unreachable, source quench, redirect, time exceeded, parameter problem. */
export function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** ICMPv6 error types (RFC 4443 section 2.1: types 0-127 are errors; 1-4 are defined). */
export function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

export function decodeIcmp(
  buf: Buffer,
  off: number,
  end: number,
  wireEnd: number,
  v6: boolean,
  view: PacketView,
): void {
  view.l4Offset = off;
  view.quoteValid = false;
  view.quoteHasPorts = false;
  if (off + 4 > end) {
    view.icmpType = -1;
    view.icmpCode = -1;
    view.payloadOffset = off;
    view.payloadLength = 0;
    view.payloadCaptured = 0;
    return;
  }
  const type = buf[off];
  view.icmpType = type;
  view.icmpCode = buf[off + 1];
  view.payloadOffset = off + 8;
  view.payloadLength = wireEnd > off + 8 ? wireEnd - off - 8 : 0;
  view.payloadCaptured = end > off + 8 ? Math.min(end, wireEnd) - off - 8 : 0;
  if (v6 ? isIcmpv6Error(type) : isIcmpv4Error(type)) decodeQuote(buf, off + 8, Math.min(end, wireEnd), view);
}

function decodeQuote(buf: Buffer, off: number, end: number, view: PacketView): void {
  if (off + 1 > end) return;
  const version = buf[off] >> 4;
  let l4 = -1;
  let proto = 0;
  if (version === 4) {
    const ihl = (buf[off] & 0x0f) * 4;
    if (ihl < 20 || off + 20 > end) return;
    proto = buf[off + 9];
    view.quoteSrc0 = 0;
    view.quoteSrc1 = 0;
    view.quoteSrc2 = 0;
    view.quoteSrc3 = be32(buf, off + 12);
    view.quoteDst0 = 0;
    view.quoteDst1 = 0;
    view.quoteDst2 = 0;
    view.quoteDst3 = be32(buf, off + 16);
    const fragOffset = be16(buf, off + 6) & 0x1fff;
    if (fragOffset === 0) l4 = off + ihl;
  } else if (version === 6) {
    if (off + 40 > end) return;
    view.quoteSrc0 = be32(buf, off + 8);
    view.quoteSrc1 = be32(buf, off + 12);
    view.quoteSrc2 = be32(buf, off + 16);
    view.quoteSrc3 = be32(buf, off + 20);
    view.quoteDst0 = be32(buf, off + 24);
    view.quoteDst1 = be32(buf, off + 28);
    view.quoteDst2 = be32(buf, off + 32);
    view.quoteDst3 = be32(buf, off + 36);
    proto = buf[off + 6];
    let p = off + 40;
    // Walk the extension headers that can appear before a transport header (bounded by `end`).
    while ((proto === 0 || proto === 43 || proto === 60 || proto === 44) && p + 8 <= end) {
      if (proto === 44) {
        if ((be16(buf, p + 2) & 0xfff8) !== 0) {
          p = -1;
          break;
        }
        proto = buf[p];
        p += 8;
      } else {
        const next = buf[p];
        p += (buf[p + 1] + 1) * 8;
        proto = next;
      }
    }
    l4 = p;
  } else {
    return;
  }
  view.quoteValid = true;
  view.quoteIpVersion = version;
  view.quoteProto = proto;
  if (
    l4 >= 0 &&
    l4 + 4 <= end &&
    (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP)
  ) {
    view.quoteHasPorts = true;
    view.quoteSrcPort = be16(buf, l4);
    view.quoteDstPort = be16(buf, l4 + 2);
  }
}
