/**
 * ERSPAN, Cisco's encapsulated remote SPAN (draft-foschiano-erspan-03), carried in GRE:
 * - type I: GRE protocol 0x88be without a sequence number; the mirrored frame follows GRE at once;
 * - type II: GRE protocol 0x88be with a sequence number; an 8-byte header (section 4.1): version 1
 *   (4 bits), VLAN (12), COS (3), encapsulation type (2), truncated (1), session id (10), reserved
 *   (12), index (20);
 * - type III: GRE protocol 0x22eb; a 12-byte header (section 4.2): version 2, VLAN, COS, BSO (2),
 *   T, session id (10), timestamp (32), security group tag (16), P (1), frame type (5), hardware id
 *   (6), direction (1), granularity (2), O (1); with O set, an 8-byte platform-specific subheader.
 *   Frame type 0 is Ethernet, 2 is an IP packet without its Ethernet header.
 */
import { be16, type PacketView } from './view.js';

export const GRE_PROTO_ERSPAN_I_II = 0x88be;
export const GRE_PROTO_ERSPAN_III = 0x22eb;

const ERSPAN_II_LENGTH = 8;
const ERSPAN_III_LENGTH = 12;
const ERSPAN_III_PLATFORM_LENGTH = 8;
export const ERSPAN_FRAME_ETHERNET = 0;
export const ERSPAN_FRAME_IP = 2;

/** Decodes an ERSPAN type II header; returns the offset of the mirrored Ethernet frame, or -1. */
export function decodeErspanII(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + ERSPAN_II_LENGTH > end) return -1;
  if (buf[off] >> 4 !== 1) return -1;
  view.erspanSession = be16(buf, off + 2) & 0x03ff;
  view.erspanFrameType = ERSPAN_FRAME_ETHERNET;
  return off + ERSPAN_II_LENGTH;
}

/**
 * Decodes an ERSPAN type III header; returns the offset of the mirrored frame (an Ethernet frame,
 * or an IP packet when view.erspanFrameType is ERSPAN_FRAME_IP), or -1.
 */
export function decodeErspanIII(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + ERSPAN_III_LENGTH > end) return -1;
  if (buf[off] >> 4 !== 2) return -1;
  view.erspanSession = be16(buf, off + 2) & 0x03ff;
  const word = be16(buf, off + 10);
  view.erspanFrameType = (word >> 10) & 0x1f;
  let p = off + ERSPAN_III_LENGTH;
  if ((word & 0x0001) !== 0) p += ERSPAN_III_PLATFORM_LENGTH;
  return p <= end ? p : -1;
}
