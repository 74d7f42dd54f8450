/**
 * A bidirectional flow (Zeek's "connection"): two endpoints, the originator and the responder,
 * with per-direction counters and, for TCP, Zeek's endpoint state machine fields.
 * Allocated once per flow; updated in place for every packet.
 */
import { WIDE_ZERO } from '../capture/bytes.js';
import { Fragment, IPPROTO_TCP, TCP_RST, type PacketView } from '../decode/view.js';
import type { FlowTunnel } from './tunnel.js';

/** Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h), in Zeek's order. */
export const enum TcpState {
  Inactive = 0,
  SynSent = 1,
  SynAckSent = 2,
  Partial = 3,
  Established = 4,
  Closed = 5,
  Reset = 6,
}

/** How the originator was chosen; anything but Syn means the capture may have started mid-flow. */
export const enum OrigFrom {
  /** It sent the first SYN. */
  Syn = 0,
  /** The first packet seen was the responder's SYN-ACK. */
  SynAck = 1,
  /** It sent the first packet seen (no handshake in the capture). */
  FirstPacket = 2,
  /** The first packet came from a well-known server port, so its receiver is taken as the originator. */
  ServerPort = 3,
}

export const ORIG_FROM_NAMES = ['syn', 'syn-ack', 'first-packet', 'server-port'] as const;

/** Why a flow was written out. */
export const enum EndReason {
  /** End of the capture: the flow may still have been going on. */
  EndOfCapture = 0,
  /** Idle longer than the transport's inactivity timeout. */
  Timeout = 1,
  /** Pushed out because the live-flow cap was reached (counted in the summary). */
  Evicted = 2,
  /** A new SYN with a different sequence number reused the same 5-tuple. */
  Reused = 3,
  /** TCP closed (FIN both ways or RST) and no packet came for the close linger time. */
  Closed = 4,
}

export const END_REASON_NAMES = ['end-of-capture', 'timeout', 'evicted', 'reused', 'closed'] as const;

export interface FlowEndpoint {
  /** Address as four 32-bit words (IPv4: words 0-2 are zero). */
  a0: number;
  a1: number;
  a2: number;
  a3: number;
  port: number;
  pkts: number;
  /** Payload bytes: for TCP from sequence numbers as Zeek does (see tcp-state.ts), else summed. */
  payloadBytes: number;
  ipBytes: number;
  /** Sum of frame lengths on the wire, as tshark's conversation table counts "Bytes". */
  frameBytes: number;
  // TCP (Zeek TCP_Endpoint), unused for other transports.
  state: TcpState;
  prevState: TcpState;
  startSeq: number;
  lastSeq: number;
  /** lastSeq relative to startSeq, unwrapped (can exceed 2^32 on long flows). */
  lastRel: number;
  ackSeq: number;
  ackRel: number;
  finCount: number;
  /** History bits already recorded (Zeek's hist_seen, one set per endpoint). */
  histSeen: number;
  histLastSyn: number;
  histLastFin: number;
  histLastRst: number;
  rxmit: number;
  rxmitThreshold: number;
  zeroWindow: number;
  zeroWindowThreshold: number;
  /**
   * TTL (IPv4) or hop limit (IPv6) of this side's first packet that is not a TCP reset, and of its
   * first reset; -1 until seen. A reset from a firewall arrives with another TTL than the server's
   * own packets (verdict/answered-by.ts).
   */
  ttl: number;
  rstTtl: number;
}

/** An ICMP error that answered a flow (destination unreachable, time exceeded, ...). */
export interface IcmpError {
  ts: number;
  type: number;
  code: number;
  /** Address of the host or router that sent the error. */
  reporter: string;
  /** True when the quoted packet was sent by the originator (the usual case: its packet was refused). */
  aboutOrig: boolean;
  /** TTL (hop limit) of the ICMP error itself as captured. */
  ttl: number;
}

export interface Flow {
  /** Sequential number in this run, 1-based (stable for a given input). */
  id: number;
  hash: number;
  proto: number;
  ipVersion: number;
  orig: FlowEndpoint;
  resp: FlowEndpoint;
  origFrom: OrigFrom;
  firstTs: number;
  lastTs: number;
  /** Frame numbers of the first and last packets (tshark's frame.number). */
  firstFrame: number;
  lastFrame: number;
  history: string;
  vlanId: number;
  /** Later IP fragments counted to this flow (they carry no ports). */
  fragments: number;
  icmpErrors: IcmpError[] | null;
  icmpErrorCount: number;
  /** For an ICMP error message's own flow: the 5-tuple of the packet it quotes. */
  icmpQuote: IcmpQuote | null;
  /** The tunnel (GRE, ERSPAN, VXLAN) its packets came out of, null for packets as captured. */
  tunnel: FlowTunnel | null;
  /** True while the payload observer wants to see this flow's packets. */
  inspect: boolean;
  /** Slot for the payload observer's per-flow state (the recognize stage). */
  app: unknown;
  endReason: EndReason;
  /** Timeout class (see table.ts), and the flow's place and key in that class's IdleQueue. */
  list: number;
  queueIndex: number;
  queuedTs: number;
  queuedFrame: number;
}

export interface IcmpQuote {
  proto: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  hasPorts: boolean;
}

export function createEndpoint(a0: number, a1: number, a2: number, a3: number, port: number): FlowEndpoint {
  // The 32-bit fields start as WIDE_ZERO (capture/bytes.ts), so that the first IPv6 address or TCP
  // sequence number of a run does not change every endpoint's layout mid-run; then the real words.
  const ep: FlowEndpoint = {
    a0: WIDE_ZERO,
    a1: WIDE_ZERO,
    a2: WIDE_ZERO,
    a3: WIDE_ZERO,
    port,
    pkts: 0,
    payloadBytes: 0,
    ipBytes: 0,
    frameBytes: 0,
    state: TcpState.Inactive,
    prevState: TcpState.Inactive,
    startSeq: WIDE_ZERO,
    lastSeq: WIDE_ZERO,
    lastRel: 0,
    ackSeq: WIDE_ZERO,
    ackRel: 0,
    finCount: 0,
    histSeen: 0,
    histLastSyn: -1,
    histLastFin: -1,
    histLastRst: -1,
    rxmit: 0,
    rxmitThreshold: 1,
    zeroWindow: 0,
    zeroWindowThreshold: 1,
    ttl: -1,
    rstTtl: -1,
  };
  ep.a0 = a0;
  ep.a1 = a1;
  ep.a2 = a2;
  ep.a3 = a3;
  return ep;
}

/** Notes the TTL (hop limit) of one of the side's packets: the first reset apart from the rest. */
export function noteTtl(ep: FlowEndpoint, view: PacketView): void {
  if (
    view.proto === IPPROTO_TCP &&
    view.fragment !== Fragment.Later &&
    view.tcpHeaderComplete &&
    (view.tcpFlags & TCP_RST) !== 0
  ) {
    if (ep.rstTtl < 0) ep.rstTtl = view.ttl;
  } else if (ep.ttl < 0) ep.ttl = view.ttl;
}

export function flipFlow(flow: Flow): void {
  const t = flow.orig;
  flow.orig = flow.resp;
  flow.resp = t;
}
