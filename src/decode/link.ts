/**
 * Link layers: find where the IP packet starts in a frame.
 * Link type numbers: https://www.tcpdump.org/linktypes.html
 * Each function returns the offset of the network-layer packet and sets view.etherType,
 * or returns -1 with view.status set when there is no IP packet to decode.
 */
import { DecodeStatus, be16, type PacketView } from './view.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_BSD12 = 12; // DLT_RAW on OpenBSD
export const LINKTYPE_RAW_BSD14 = 14; // DLT_RAW on BSD/OS
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD1 = 0x9100;
const ETHERTYPE_QINQ_OLD2 = 0x9200;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MC = 0x8848;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
/** Pseudo EtherType for "look at the IP version nibble" (raw IP, MPLS payload). */
export const ETHERTYPE_GUESS_IP = -1;

export const LINK_NAMES: Record<number, string> = {
  0: 'null',
  1: 'ethernet',
  12: 'raw',
  14: 'raw',
  101: 'raw',
  108: 'loop',
  113: 'linux-sll',
  228: 'ipv4',
  229: 'ipv6',
  276: 'linux-sll2',
};

export function isKnownLinkType(linkType: number): boolean {
  return LINK_NAMES[linkType] !== undefined;
}

/**
 * After an EtherType: skip 802.1Q / 802.1ad tags (IEEE 802.1Q section 9), MPLS label stacks
 * (RFC 3032) and PPPoE session headers (RFC 2516) until an IP EtherType appears.
 */
export function skipTags(buf: Buffer, off: number, end: number, etherType: number, view: PacketView): number {
  for (;;) {
    if (
      etherType === ETHERTYPE_VLAN ||
      etherType === ETHERTYPE_QINQ ||
      etherType === ETHERTYPE_QINQ_OLD1 ||
      etherType === ETHERTYPE_QINQ_OLD2
    ) {
      if (off + 4 > end) return truncated(view, 'VLAN tag');
      if (view.vlanTags === 0) view.vlanId = be16(buf, off) & 0x0fff;
      view.vlanTags++;
      etherType = be16(buf, off + 2);
      off += 4;
      continue;
    }
    if (etherType === ETHERTYPE_MPLS || etherType === ETHERTYPE_MPLS_MC) {
      // Labels until the bottom-of-stack bit; the payload type is not signalled, so guess by IP version.
      for (;;) {
        if (off + 4 > end) return truncated(view, 'MPLS label');
        const bottom = buf[off + 2] & 0x01;
        off += 4;
        if (bottom) break;
      }
      etherType = ETHERTYPE_GUESS_IP;
      break;
    }
    if (etherType === ETHERTYPE_PPPOE_SESSION) {
      if (off + 8 > end) return truncated(view, 'PPPoE header');
      const pppProto = be16(buf, off + 6);
      off += 8;
      if (pppProto === 0x0021) etherType = ETHERTYPE_IPV4;
      else if (pppProto === 0x0057) etherType = ETHERTYPE_IPV6;
      else etherType = pppProto | 0x10000; // not IP; keep it distinct from real EtherTypes
      break;
    }
    break;
  }
  view.etherType = etherType;
  return off;
}

function truncated(view: PacketView, what: string): number {
  view.status = DecodeStatus.Truncated;
  view.problem = what;
  return -1;
}

/** Address family values of DLT_NULL/DLT_LOOP that mean IPv6 on the various BSDs, Linux and Windows. */
function nullFamilyToEtherType(family: number): number {
  if (family === 2) return ETHERTYPE_IPV4;
  if (family === 10 || family === 23 || family === 24 || family === 28 || family === 30)
    return ETHERTYPE_IPV6;
  return 0;
}

/**
 * Returns the offset of the network-layer header inside buf[off, end), or -1.
 * view.etherType says what is there (IPv4, IPv6, or ETHERTYPE_GUESS_IP).
 */
export function decodeLink(
  buf: Buffer,
  off: number,
  end: number,
  linkType: number,
  view: PacketView,
): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (off + 14 > end) return truncated(view, 'Ethernet header');
      const type = be16(buf, off + 12);
      if (type < 0x0600) {
        // IEEE 802.3 length field: LLC/SNAP frames (STP, CDP, ...), never IP in practice.
        view.etherType = 0;
        view.status = DecodeStatus.NotIp;
        return -1;
      }
      return skipTags(buf, off + 14, end, type, view);
    }
    case LINKTYPE_LINUX_SLL: {
      // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html: 16 bytes, protocol type last.
      if (off + 16 > end) return truncated(view, 'Linux cooked header');
      return skipTags(buf, off + 16, end, be16(buf, off + 14), view);
    }
    case LINKTYPE_LINUX_SLL2: {
      // https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html: 20 bytes, protocol type first.
      if (off + 20 > end) return truncated(view, 'Linux cooked v2 header');
      return skipTags(buf, off + 20, end, be16(buf, off), view);
    }
    case LINKTYPE_NULL: {
      // 4-byte address family in the byte order of the capturing host.
      if (off + 4 > end) return truncated(view, 'loopback header');
      const family =
        buf[off] === 0 && buf[off + 1] === 0 ? be16(buf, off + 2) : buf[off] | (buf[off + 1] << 8);
      let type = nullFamilyToEtherType(family);
      // Some stacks put an EtherType in the second half of the header instead of an address
      // family (Wireshark's packet-null.c accepts it too): 0f 00 08 00 is IPv4.
      if (type === 0) {
        const ether = be16(buf, off + 2);
        if (ether === ETHERTYPE_IPV4 || ether === ETHERTYPE_IPV6) type = ether;
      }
      view.etherType = type;
      return off + 4;
    }
    case LINKTYPE_LOOP: {
      if (off + 4 > end) return truncated(view, 'loopback header');
      view.etherType = nullFamilyToEtherType(be16(buf, off + 2));
      return off + 4;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD12:
    case LINKTYPE_RAW_BSD14:
      view.etherType = ETHERTYPE_GUESS_IP;
      return off;
    case LINKTYPE_IPV4:
      view.etherType = ETHERTYPE_IPV4;
      return off;
    case LINKTYPE_IPV6:
      view.etherType = ETHERTYPE_IPV6;
      return off;
    default:
      view.status = DecodeStatus.UnknownLink;
      view.problem = 'link type';
      return -1;
  }
}
