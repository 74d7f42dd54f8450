/**
 * IPv4 header, RFC 791 section 3.1. Options are skipped by IHL. A total length of 0 is what
 * Linux captures show for TCP segmentation offload; then the captured length is used instead.
 */
import { DecodeStatus, Fragment, be16, be32, type PacketView } from './view.js';

/** Decodes the IPv4 header at `off`; returns the transport header offset or -1. */
export function decodeIpv4(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + 20 > end) {
    view.status = DecodeStatus.Truncated;
    view.problem = 'IPv4 header';
    return -1;
  }
  const first = buf[off];
  const ihl = (first & 0x0f) * 4;
  if (first >> 4 !== 4 || ihl < 20) {
    view.status = DecodeStatus.Malformed;
    view.problem = first >> 4 !== 4 ? 'IPv4 version' : 'IPv4 header length';
    return -1;
  }
  let total = be16(buf, off + 2);
  if (total === 0) total = end - off;
  if (total < ihl) {
    view.status = DecodeStatus.Malformed;
    view.problem = 'IPv4 total length';
    return -1;
  }
  if (off + ihl > end) {
    view.status = DecodeStatus.Truncated;
    view.problem = 'IPv4 options';
    return -1;
  }
  view.ipVersion = 4;
  view.ipOffset = off;
  view.ipHeaderLength = ihl;
  view.ipTotalLength = total;
  view.ttl = buf[off + 8];
  view.proto = buf[off + 9];
  view.src0 = 0;
  view.src1 = 0;
  view.src2 = 0;
  view.src3 = be32(buf, off + 12);
  view.dst0 = 0;
  view.dst1 = 0;
  view.dst2 = 0;
  view.dst3 = be32(buf, off + 16);
  const frag = be16(buf, off + 6);
  const fragOffset = (frag & 0x1fff) * 8;
  const more = (frag & 0x2000) !== 0;
  view.fragmentOffset = fragOffset;
  view.moreFragments = more;
  view.fragmentId = be16(buf, off + 4);
  view.fragment = fragOffset > 0 ? Fragment.Later : more ? Fragment.First : Fragment.None;
  return off + ihl;
}

/** Dotted quad of an address word. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}
