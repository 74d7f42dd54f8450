/**
 * Decodes one captured frame into the reusable PacketView: link layer, IP (out of any GRE or
 * ERSPAN tunnel, see tunnel.ts), then transport. No allocation; the view points into the
 * record's buffer.
 */
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ETHERTYPE_GUESS_IP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, decodeLink } from './link.js';
import { decodeTcp } from './tcp.js';
import { MAX_TUNNEL_DEPTH, decapsulateGre, enterTunnel } from './tunnel.js';
import { decodeUdp } from './udp.js';
import {
  DecodeStatus,
  Fragment,
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TunnelKind,
  type PacketView,
} from './view.js';
import { VXLAN_PORT, decodeVxlan } from './vxlan.js';

const IPPROTO_SCTP = 132;

/**
 * Decodes buf[off, off+caplen) captured on an interface of `linkType`.
 * Returns view.status; when it is Ok, the IP fields are valid, and the transport fields are
 * valid unless the packet is a later fragment or a protocol we do not decode.
 */
export function decodePacket(
  buf: Buffer,
  off: number,
  caplen: number,
  linkType: number,
  view: PacketView,
): DecodeStatus {
  view.status = DecodeStatus.Ok;
  view.problem = '';
  view.linkType = linkType;
  view.vlanTags = 0;
  view.vlanId = -1;
  view.ipVersion = 0;
  view.tunnel = TunnelKind.None;
  view.tunnelDepth = 0;
  view.innerLink = 0;
  view.secondPass = false;
  resetTransport(view);
  const end = off + caplen;
  const net = decodeLink(buf, off, end, linkType, view);
  if (net < 0) return view.status;
  return decodeNetwork(buf, net, end, view);
}

/**
 * After decodePacket left a VXLAN packet in the view (view.innerLink is set): decodes the inner
 * Ethernet frame in its place, with the outer packet kept as the tunnel. `off` and `caplen` are
 * the record's, as given to decodePacket. Returns the status, NotIp when the inner frame is not
 * IP (an ARP); the view is then the outer packet still, already counted.
 */
export function decodeInner(buf: Buffer, off: number, caplen: number, view: PacketView): DecodeStatus {
  const link = view.innerLink;
  view.innerLink = 0;
  const end = off + caplen;
  const net = enterTunnel(buf, link, -1, 0, end, view, TunnelKind.Vxlan, view.vxlanVni, true);
  if (net < 0) return DecodeStatus.NotIp;
  view.secondPass = true;
  resetTransport(view);
  return decodeNetwork(buf, net, end, view);
}

function resetTransport(view: PacketView): void {
  view.hasPorts = false;
  view.proto = 0;
  view.srcPort = 0;
  view.dstPort = 0;
  view.tcpFlags = 0;
  view.tcpHeaderComplete = false;
  view.payloadOffset = 0;
  view.payloadLength = 0;
  view.payloadCaptured = 0;
  view.quoteValid = false;
}

/** IP (following GRE tunnels), then the transport, from the network header at `net`. */
function decodeNetwork(buf: Buffer, net: number, end: number, view: PacketView): DecodeStatus {
  let l4: number;
  for (;;) {
    let type = view.etherType;
    if (type === ETHERTYPE_GUESS_IP) {
      if (net >= end) return truncated(view, 'IP header');
      const version = buf[net] >> 4;
      type = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
    }
    if (type === ETHERTYPE_IPV4) l4 = decodeIpv4(buf, net, end, view);
    else if (type === ETHERTYPE_IPV6) l4 = decodeIpv6(buf, net, end, view);
    else {
      view.status = DecodeStatus.NotIp;
      return view.status;
    }
    if (l4 < 0) return view.status;
    if (view.fragment !== Fragment.None || view.proto !== IPPROTO_GRE) break;
    // GRE (not fragmented: later fragments could not be matched to their inner flow).
    const inner = decapsulateGre(buf, l4, Math.min(end, view.ipOffset + view.ipTotalLength), view);
    if (inner < 0) break;
    net = inner;
  }
  if (view.fragment === Fragment.Later) return view.status;
  const wireEnd = view.ipOffset + view.ipTotalLength;
  switch (view.proto) {
    case IPPROTO_TCP:
      decodeTcp(buf, l4, end, wireEnd, view);
      break;
    case IPPROTO_UDP:
      decodeUdp(buf, l4, end, wireEnd, view);
      if (
        view.dstPort === VXLAN_PORT &&
        view.hasPorts &&
        view.fragment === Fragment.None &&
        view.tunnelDepth < MAX_TUNNEL_DEPTH
      ) {
        const link = decodeVxlan(buf, view.payloadOffset, Math.min(end, wireEnd), view);
        if (link > 0) view.innerLink = link;
      }
      break;
    case IPPROTO_ICMP:
      decodeIcmp(buf, l4, end, wireEnd, false, view);
      break;
    case IPPROTO_ICMPV6:
      decodeIcmp(buf, l4, end, wireEnd, true, view);
      break;
    case IPPROTO_SCTP:
      // Ports only (RFC 9260 section 3.1): enough to keep SCTP associations apart as flows.
      if (l4 + 4 <= end) {
        view.hasPorts = true;
        view.l4Offset = l4;
        view.srcPort = (buf[l4] << 8) | buf[l4 + 1];
        view.dstPort = (buf[l4 + 2] << 8) | buf[l4 + 3];
      }
      break;
    default:
      break;
  }
  return view.status;
}

function truncated(view: PacketView, what: string): DecodeStatus {
  view.status = DecodeStatus.Truncated;
  view.problem = what;
  return view.status;
}
