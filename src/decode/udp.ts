/** UDP header, RFC 768. The payload length comes from the IP header; the UDP length is cross-checked. */
import { DecodeStatus, be16, type PacketView } from './view.js';

export function decodeUdp(buf: Buffer, off: number, end: number, wireEnd: number, view: PacketView): void {
  if (off + 8 > end) {
    view.status = DecodeStatus.Truncated;
    view.problem = 'UDP header';
    return;
  }
  view.hasPorts = true;
  view.l4Offset = off;
  view.srcPort = be16(buf, off);
  view.dstPort = be16(buf, off + 2);
  const udpLen = be16(buf, off + 4);
  const payload = off + 8;
  // A UDP length shorter than the IP payload means trailing bytes that are not UDP data.
  let payloadEnd = wireEnd;
  if (udpLen >= 8 && off + udpLen < wireEnd) payloadEnd = off + udpLen;
  view.payloadOffset = payload;
  view.payloadLength = payloadEnd > payload ? payloadEnd - payload : 0;
  view.payloadCaptured = end > payload ? Math.min(end, payloadEnd) - payload : 0;
}
