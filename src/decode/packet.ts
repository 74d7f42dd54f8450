/**
 * Decodes one captured frame into the reusable PacketView: link layer, IP, then transport.
 * No allocation; the view points into the record's buffer.
 */
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { ETHERTYPE_GUESS_IP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, decodeLink } from './link.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import {
  DecodeStatus,
  Fragment,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type PacketView,
} from './view.js';

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
  const end = off + caplen;
  const net = decodeLink(buf, off, end, linkType, view);
  if (net < 0) return view.status;
  let type = view.etherType;
  if (type === ETHERTYPE_GUESS_IP) {
    if (net >= end) return truncated(view, 'IP header');
    const version = buf[net] >> 4;
    type = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
  }
  let l4: number;
  if (type === ETHERTYPE_IPV4) l4 = decodeIpv4(buf, net, end, view);
  else if (type === ETHERTYPE_IPV6) l4 = decodeIpv6(buf, net, end, view);
  else {
    view.status = DecodeStatus.NotIp;
    return view.status;
  }
  if (l4 < 0) return view.status;
  if (view.fragment === Fragment.Later) return view.status;
  const wireEnd = view.ipOffset + view.ipTotalLength;
  switch (view.proto) {
    case IPPROTO_TCP:
      decodeTcp(buf, l4, end, wireEnd, view);
      break;
    case IPPROTO_UDP:
      decodeUdp(buf, l4, end, wireEnd, view);
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
