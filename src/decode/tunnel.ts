/**
 * Decapsulation: the packet that a switch mirror or a tunnel carries is the one that is judged.
 * GRE (with IPv4, IPv6, Ethernet by transparent bridging, MPLS, PPP, Cisco MetaData, or ERSPAN
 * types I, II and III inside) replaces the outer packet in the view: no flow is kept for the GRE
 * packets themselves, as Zeek keeps none. VXLAN runs on UDP, and its outer UDP flow stays a flow
 * of its own (tshark's conversation table and Zeek's conn.log both count it): decodePacket leaves
 * the outer packet in the view and the inner frame's offset in view.innerLink, and decodeInner()
 * then turns the view into the inner packet.
 *
 * The outermost tunnel's addresses, kind and key are kept in the view's tunnel fields. Nothing
 * here allocates; a tunnel whose payload is not IP (a GRE keepalive, CDP, ARP in VXLAN) leaves
 * the view as it was, so the packet counts as the outer packet it is.
 */
import { decodeErspanII, decodeErspanIII, ERSPAN_FRAME_ETHERNET, ERSPAN_FRAME_IP } from './erspan.js';
import { GRE_PROTO_ERSPAN_I_II, GRE_PROTO_ERSPAN_III } from './erspan.js';
import { decodeGre, greHasSequence, greVersion } from './gre.js';
import {
  ETHERTYPE_GUESS_IP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_MPLS,
  ETHERTYPE_MPLS_MC,
  LINKTYPE_ETHERNET,
  decodeLink,
  skipTags,
} from './link.js';
import { decodePpp } from './ppp.js';
import { DecodeStatus, TunnelKind, be16, type PacketView } from './view.js';

/** Transparent Ethernet bridging (RFC 1701 protocol types): an Ethernet frame inside GRE. */
const GRE_PROTO_TEB = 0x6558;
/** PPP inside PPTP's enhanced GRE (RFC 2637 section 4.1). */
const GRE_PROTO_PPP = 0x880b;
/**
 * Cisco MetaData (the security group tag of Cisco TrustSec). Inside GRE its 8 bytes are the
 * inner EtherType (2), version (1), length (1), option (2) and the tag (2), then the packet, as
 * Wireshark's packet-cisco-metadata.c dissects it.
 */
const GRE_PROTO_CMD = 0x8909;
const CMD_GRE_LENGTH = 8;

/** Tunnels inside tunnels are followed this deep (GRE keepalives are themselves GRE in GRE). */
export const MAX_TUNNEL_DEPTH = 4;

/**
 * For an IP packet whose protocol is GRE, `off` being the GRE header: the offset of the inner
 * IP header (view.etherType says IPv4 or IPv6, and the tunnel is entered), or -1 with the view
 * as it was.
 */
export function decapsulateGre(buf: Buffer, off: number, end: number, view: PacketView): number {
  if (view.tunnelDepth >= MAX_TUNNEL_DEPTH) return -1;
  const payload = decodeGre(buf, off, end, view);
  if (payload < 0) return -1;
  const outerType = view.etherType;
  const pptp = greVersion(view) === 1;
  let kind = pptp ? TunnelKind.Pptp : TunnelKind.Gre;
  let hasKey = view.greHasKey;
  // The enhanced GRE key field is the payload length (high half) and the call id (low half).
  let key = pptp ? view.greKey % 0x10000 : view.greKey;
  let link = -1;
  let net = -1;
  let type = 0;
  switch (view.greProtocol) {
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6:
      net = payload;
      type = view.greProtocol;
      break;
    case GRE_PROTO_TEB:
      link = payload;
      break;
    case GRE_PROTO_PPP:
      net = decodePpp(buf, payload, end, view);
      type = view.etherType;
      view.etherType = outerType;
      break;
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MC: {
      // MPLS in GRE (RFC 4023): the label stack, then IP (the version nibble says which).
      const status = view.status;
      const problem = view.problem;
      net = skipTags(buf, payload, end, view.greProtocol, view);
      type = view.etherType;
      view.status = status;
      view.problem = problem;
      view.etherType = outerType;
      break;
    }
    case GRE_PROTO_CMD:
      if (payload + CMD_GRE_LENGTH > end) return -1;
      type = be16(buf, payload);
      net = payload + CMD_GRE_LENGTH;
      break;
    case GRE_PROTO_ERSPAN_I_II:
      if (greHasSequence(view)) {
        link = decodeErspanII(buf, payload, end, view);
        if (link < 0) return -1;
        kind = TunnelKind.ErspanII;
        key = view.erspanSession;
        hasKey = true;
      } else {
        link = payload;
        kind = TunnelKind.ErspanI;
      }
      break;
    case GRE_PROTO_ERSPAN_III: {
      const p = decodeErspanIII(buf, payload, end, view);
      if (p < 0) return -1;
      kind = TunnelKind.ErspanIII;
      key = view.erspanSession;
      hasKey = true;
      if (view.erspanFrameType === ERSPAN_FRAME_ETHERNET) link = p;
      else if (view.erspanFrameType === ERSPAN_FRAME_IP) {
        net = p;
        type = ETHERTYPE_GUESS_IP;
      } else return -1;
      break;
    }
    default:
      return -1;
  }
  if (link < 0 && net < 0) return -1;
  return enterTunnel(buf, link, net, type, end, view, kind, key, hasKey);
}

/**
 * Enters a tunnel whose payload starts at `link` (an Ethernet frame) or, when link is -1, at
 * `net` (a network packet of EtherType `type`). Returns the inner IP header's offset with the
 * tunnel recorded in the view, or -1 with the view as it was when the payload is not IP.
 */
export function enterTunnel(
  buf: Buffer,
  link: number,
  net: number,
  type: number,
  end: number,
  view: PacketView,
  kind: TunnelKind,
  key: number,
  hasKey: boolean,
): number {
  const outerType = view.etherType;
  const outerVlan = view.vlanId;
  const outerTags = view.vlanTags;
  const status = view.status;
  const problem = view.problem;
  if (link >= 0) {
    view.vlanTags = 0;
    view.vlanId = -1;
    net = decodeLink(buf, link, end, LINKTYPE_ETHERNET, view);
    type = view.etherType;
  }
  if (net >= 0 && net < end && type === ETHERTYPE_GUESS_IP) {
    const version = buf[net] >> 4;
    type = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
  }
  const version = type === ETHERTYPE_IPV4 ? 4 : type === ETHERTYPE_IPV6 ? 6 : 0;
  if (net < 0 || net >= end || version === 0 || buf[net] >> 4 !== version) {
    view.etherType = outerType;
    view.vlanId = outerVlan;
    view.vlanTags = outerTags;
    view.status = status;
    view.problem = problem;
    return -1;
  }
  if (view.tunnelDepth === 0) {
    view.tunnel = kind;
    view.tunnelIpVersion = view.ipVersion;
    view.tunnelSrc0 = view.src0;
    view.tunnelSrc1 = view.src1;
    view.tunnelSrc2 = view.src2;
    view.tunnelSrc3 = view.src3;
    view.tunnelDst0 = view.dst0;
    view.tunnelDst1 = view.dst1;
    view.tunnelDst2 = view.dst2;
    view.tunnelDst3 = view.dst3;
    view.tunnelKey = key;
    view.tunnelHasKey = hasKey;
    view.tunnelVlan = outerVlan;
  }
  view.tunnelDepth++;
  // An IP packet carried straight in the tunnel has no VLAN of its own (the outer one is the tunnel's).
  if (link < 0) {
    view.vlanTags = 0;
    view.vlanId = -1;
  }
  view.status = DecodeStatus.Ok;
  view.etherType = type;
  return net;
}
