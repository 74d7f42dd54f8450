/** TCP header, RFC 9293 section 3.1. Options are validated by the data offset and read on demand. */
import { DecodeStatus, Fragment, be16, be32, type PacketView } from './view.js';

export function decodeTcp(buf: Buffer, off: number, end: number, wireEnd: number, view: PacketView): void {
  if (off + 20 > end) {
    if (view.fragment === Fragment.First && off + 4 <= end && wireEnd < off + 20) {
      // A tiny first fragment (RFC 1858 section 3.1): the ports are here, the flags are in the
      // next fragment. Enough to give the fragments their flow.
      view.hasPorts = true;
      view.tcpHeaderComplete = false;
      view.l4Offset = off;
      view.srcPort = be16(buf, off);
      view.dstPort = be16(buf, off + 2);
      view.payloadOffset = wireEnd;
      view.payloadLength = 0;
      view.payloadCaptured = 0;
      return;
    }
    view.status = DecodeStatus.Truncated;
    view.problem = 'TCP header';
    return;
  }
  let dataOffset = (buf[off + 12] >> 4) * 4;
  if (dataOffset < 20 || off + dataOffset > wireEnd) {
    if (dataOffset >= 20 && view.fragment === Fragment.First) {
      // The options continue in the next fragment; the fixed header (and the flags) are here.
      dataOffset = wireEnd - off;
    } else {
      view.status = DecodeStatus.Malformed;
      view.problem = 'TCP data offset';
      return;
    }
  }
  view.hasPorts = true;
  view.tcpHeaderComplete = true;
  view.l4Offset = off;
  view.srcPort = be16(buf, off);
  view.dstPort = be16(buf, off + 2);
  view.tcpSeq = be32(buf, off + 4);
  view.tcpAck = be32(buf, off + 8);
  view.tcpFlags = buf[off + 13];
  view.tcpWindow = be16(buf, off + 14);
  view.tcpHeaderLength = dataOffset;
  const payload = off + dataOffset;
  view.payloadOffset = payload;
  view.payloadLength = wireEnd - payload;
  view.payloadCaptured = end > payload ? Math.min(end, wireEnd) - payload : 0;
}

export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted: boolean;
  timestamp?: [number, number];
}

/** Reads the options of a TCP header (RFC 9293 section 3.2). Not on the per-packet path. */
export function readTcpOptions(buf: Buffer, tcpOffset: number, headerLength: number): TcpOptions {
  const result: TcpOptions = { sackPermitted: false };
  let p = tcpOffset + 20;
  const end = Math.min(tcpOffset + headerLength, buf.length);
  while (p < end) {
    const kind = buf[p];
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = buf[p + 1];
    if (len < 2 || p + len > end) break;
    if (kind === 2 && len === 4) result.mss = be16(buf, p + 2);
    else if (kind === 3 && len === 3) result.windowScale = buf[p + 2];
    else if (kind === 4) result.sackPermitted = true;
    else if (kind === 8 && len === 10) result.timestamp = [be32(buf, p + 2), be32(buf, p + 6)];
    p += len;
  }
  return result;
}
