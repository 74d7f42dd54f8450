/**
 * VXLAN, RFC 7348 section 5: on UDP destination port 4789, an 8-byte header (flags with the I bit
 * that says the VNI is valid, 24 reserved bits, the 24-bit VNI, 8 reserved bits), then the inner
 * Ethernet frame.
 */
import type { PacketView } from './view.js';

export const VXLAN_PORT = 4789;
const VXLAN_HEADER_LENGTH = 8;
const VXLAN_FLAG_VNI = 0x08;

/** Decodes the VXLAN header at `off`; returns the offset of the inner Ethernet frame, or -1. */
export function decodeVxlan(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (off + VXLAN_HEADER_LENGTH + 14 > end) return -1;
  if ((buf[off] & VXLAN_FLAG_VNI) === 0) return -1;
  view.vxlanVni = (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
  return off + VXLAN_HEADER_LENGTH;
}
