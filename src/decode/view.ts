/**
 * The decoded view of one packet: numbers and offsets into the record's buffer, never copies.
 * Like gopacket's DecodingLayerParser, one PacketView is allocated up front and overwritten
 * for every packet, so decoding allocates nothing. Addresses are kept as four 32-bit words
 * (IPv4 uses word 3 only, words 0-2 are zero) so that IPv4 and IPv6 share one code path.
 */
import { WIDE_ZERO } from '../capture/bytes.js';

/** How far decoding got. */
export const enum DecodeStatus {
  /** IP decoded; transport fields are valid when `proto` is one we decode and not a non-first fragment. */
  Ok = 0,
  /** A link-layer frame that does not carry IP (ARP, LLDP, STP, ...). */
  NotIp = 1,
  /** A link type we do not decode. */
  UnknownLink = 2,
  /** The capture cut the packet before the headers we need (snaplen or damaged record). */
  Truncated = 3,
  /** Headers that contradict themselves (IPv4 IHL < 5, TCP data offset < 5, ...). */
  Malformed = 4,
}

export const enum Fragment {
  None = 0,
  /** First fragment: the transport header (and ports) are here. */
  First = 1,
  /** Later fragment: no transport header; only the IP fragment id links it to its flow. */
  Later = 2,
}

/**
 * The tunnel a packet came out of (decode/tunnel.ts). Switch mirrors send copies of the traffic
 * inside GRE, ERSPAN or VXLAN; the inner packet is the one that is judged.
 */
export const enum TunnelKind {
  None = 0,
  /** GRE (RFC 2784, RFC 2890) with IP, Ethernet (transparent bridging), MPLS or Cisco MetaData inside. */
  Gre = 1,
  /** PPTP's enhanced GRE (RFC 2637 section 4.1) carrying PPP. */
  Pptp = 2,
  /** ERSPAN type I (GRE 0x88be without a sequence number): the mirrored frame right after GRE. */
  ErspanI = 3,
  /** ERSPAN type II (GRE 0x88be with a sequence number, an 8-byte ERSPAN header). */
  ErspanII = 4,
  /** ERSPAN type III (GRE 0x22eb, a 12-byte header and an optional 8-byte platform header). */
  ErspanIII = 5,
  /** VXLAN (RFC 7348) on UDP 4789. */
  Vxlan = 6,
}

export const TUNNEL_NAMES = ['', 'gre', 'pptp', 'erspan-i', 'erspan-ii', 'erspan-iii', 'vxlan'] as const;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface PacketView {
  /**
   * Capture time in seconds, set by whoever feeds the view to the flow table. It travels in the
   * view (a double field, updated in place) rather than as an argument: a double passed to a call
   * V8 does not inline is boxed, one heap allocation per packet.
   */
  ts: number;
  status: DecodeStatus;
  /** Why decoding stopped, for Truncated/Malformed (a constant string, not built per packet). */
  problem: string;
  linkType: number;
  /** Number of 802.1Q/802.1ad tags skipped. */
  vlanTags: number;
  /** Outer VLAN id, or -1. */
  vlanId: number;
  /** EtherType (or equivalent) of the link payload; 0 when the link type has none. */
  etherType: number;

  ipVersion: number;
  ipOffset: number;
  /** Bytes of IP header including IPv6 extension headers before the transport header. */
  ipHeaderLength: number;
  /** IP total length on the wire (IPv4 total length, IPv6 40 + payload length). */
  ipTotalLength: number;
  ttl: number;
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
  /** Transport protocol number (after IPv6 extension headers). */
  proto: number;
  fragment: Fragment;
  fragmentId: number;
  fragmentOffset: number;
  moreFragments: boolean;

  /** True when srcPort/dstPort are valid (TCP, UDP, SCTP first fragment; ICMP uses type/code instead). */
  hasPorts: boolean;
  l4Offset: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  tcpSeq: number;
  tcpAck: number;
  tcpWindow: number;
  tcpHeaderLength: number;
  /** False for a tiny first fragment that holds the ports but not the whole TCP header (no flags). */
  tcpHeaderComplete: boolean;

  /** Application payload: offset in the buffer, length on the wire, and bytes actually captured. */
  payloadOffset: number;
  payloadLength: number;
  payloadCaptured: number;

  icmpType: number;
  icmpCode: number;
  /** For ICMP errors: the quoted original packet's header, so that the error can find its flow. */
  quoteValid: boolean;
  quoteIpVersion: number;
  quoteProto: number;
  quoteSrc0: number;
  quoteSrc1: number;
  quoteSrc2: number;
  quoteSrc3: number;
  quoteDst0: number;
  quoteDst1: number;
  quoteDst2: number;
  quoteDst3: number;
  quoteHasPorts: boolean;
  quoteSrcPort: number;
  quoteDstPort: number;

  /**
   * The outermost tunnel the IP fields above came out of (TunnelKind.None for a packet on the
   * wire as captured): its kind, its outer addresses, and its key (GRE key, PPTP call id, ERSPAN
   * session id or VXLAN VNI; tunnelHasKey is false when the header has none).
   */
  tunnel: TunnelKind;
  tunnelDepth: number;
  tunnelIpVersion: number;
  tunnelSrc0: number;
  tunnelSrc1: number;
  tunnelSrc2: number;
  tunnelSrc3: number;
  tunnelDst0: number;
  tunnelDst1: number;
  tunnelDst2: number;
  tunnelDst3: number;
  tunnelKey: number;
  tunnelHasKey: boolean;
  /** The outer frame's VLAN id, or -1. */
  tunnelVlan: number;
  /**
   * For a tunnel whose outer UDP flow is a flow of its own (VXLAN): where the inner Ethernet frame
   * starts, 0 when there is none. The view then holds the outer packet; decodeInner() turns it
   * into the inner one.
   */
  innerLink: number;
  /**
   * True while the view holds the inner packet of a frame whose outer packet was already given to
   * the flow table (VXLAN): the frame is not counted as a packet twice.
   */
  secondPass: boolean;

  // Fields of the tunnel headers just decoded (each decoder writes its own, as gopacket's layers do).
  greFlags: number;
  greProtocol: number;
  greKey: number;
  greHasKey: boolean;
  erspanSession: number;
  erspanFrameType: number;
  vxlanVni: number;
}

export function createPacketView(): PacketView {
  return {
    ts: 0.5,
    status: DecodeStatus.Ok,
    problem: '',
    linkType: 0,
    vlanTags: 0,
    vlanId: -1,
    etherType: 0,
    ipVersion: 0,
    ipOffset: 0,
    ipHeaderLength: 0,
    ipTotalLength: 0,
    ttl: 0,
    src0: WIDE_ZERO,
    src1: WIDE_ZERO,
    src2: WIDE_ZERO,
    src3: WIDE_ZERO,
    dst0: WIDE_ZERO,
    dst1: WIDE_ZERO,
    dst2: WIDE_ZERO,
    dst3: WIDE_ZERO,
    proto: 0,
    fragment: Fragment.None,
    fragmentId: 0,
    fragmentOffset: 0,
    moreFragments: false,
    hasPorts: false,
    l4Offset: 0,
    srcPort: 0,
    dstPort: 0,
    tcpFlags: 0,
    tcpSeq: WIDE_ZERO,
    tcpAck: WIDE_ZERO,
    tcpWindow: 0,
    tcpHeaderLength: 0,
    tcpHeaderComplete: false,
    payloadOffset: 0,
    payloadLength: 0,
    payloadCaptured: 0,
    icmpType: 0,
    icmpCode: 0,
    quoteValid: false,
    quoteIpVersion: 0,
    quoteProto: 0,
    quoteSrc0: WIDE_ZERO,
    quoteSrc1: WIDE_ZERO,
    quoteSrc2: WIDE_ZERO,
    quoteSrc3: WIDE_ZERO,
    quoteDst0: WIDE_ZERO,
    quoteDst1: WIDE_ZERO,
    quoteDst2: WIDE_ZERO,
    quoteDst3: WIDE_ZERO,
    quoteHasPorts: false,
    quoteSrcPort: 0,
    quoteDstPort: 0,
    tunnel: TunnelKind.None,
    tunnelDepth: 0,
    tunnelIpVersion: 0,
    tunnelSrc0: WIDE_ZERO,
    tunnelSrc1: WIDE_ZERO,
    tunnelSrc2: WIDE_ZERO,
    tunnelSrc3: WIDE_ZERO,
    tunnelDst0: WIDE_ZERO,
    tunnelDst1: WIDE_ZERO,
    tunnelDst2: WIDE_ZERO,
    tunnelDst3: WIDE_ZERO,
    tunnelKey: WIDE_ZERO,
    tunnelHasKey: false,
    tunnelVlan: -1,
    innerLink: 0,
    secondPass: false,
    greFlags: 0,
    greProtocol: 0,
    greKey: WIDE_ZERO,
    greHasKey: false,
    erspanSession: 0,
    erspanFrameType: 0,
    vxlanVni: 0,
  };
}

export function be16(buf: Buffer, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function be32(buf: Buffer, off: number): number {
  return buf[off] * 0x1000000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
}
