/**
 * PPP inside GRE (PPTP, RFC 2637): the HDLC-like address and control bytes 0xff 0x03 (RFC 1662
 * section 3.1; absent with address-and-control-field compression), then the protocol field
 * (RFC 1661 section 2: one byte when its value is odd, with protocol-field compression).
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './link.js';
import type { PacketView } from './view.js';

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/** Decodes the PPP header at `off`; returns the offset of an IP packet (view.etherType says which), or -1. */
export function decodePpp(buf: Buffer, off: number, end: number, view: PacketView): number {
  let p = off;
  if (p + 2 <= end && buf[p] === 0xff && buf[p + 1] === 0x03) p += 2;
  if (p >= end) return -1;
  let proto: number;
  if ((buf[p] & 1) === 1) proto = buf[p++];
  else {
    if (p + 2 > end) return -1;
    proto = (buf[p] << 8) | buf[p + 1];
    p += 2;
  }
  if (proto === PPP_IPV4) view.etherType = ETHERTYPE_IPV4;
  else if (proto === PPP_IPV6) view.etherType = ETHERTYPE_IPV6;
  else return -1;
  return p;
}
