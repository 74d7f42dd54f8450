/**
 * A bidirectional flow (Zeek's "connection"): two endpoints, the originator and the responder,
 * with per-direction counters and, for TCP, Zeek's endpoint state machine fields.
 *
 * The numbers live in the flow table's typed arrays (store.ts: about 400 bytes a flow, off the
 * garbage-collected heap), one row per table slot; the few fields that hold objects are in arrays
 * by slot. A `Flow` is a handle bound to one slot at a time, with a property for each field: the
 * table hands the same few handles to every callback, bound to the flow in question. So a Flow
 * (and its `orig` and `resp`) is valid during the call it is passed to, and no longer: keep what
 * you need (toFlowRecord, flow.id) inside the call. Nothing is allocated per packet or per flow.
 */
import { Fragment, IPPROTO_TCP, TCP_RST, type PacketView } from '../decode/view.js';
import {
  CHUNK_MASK,
  CHUNK_SHIFT,
  EP_F,
  EP_I,
  EP_U,
  FL_F,
  FL_I,
  type FlowRows,
  type FlowStore,
} from './store.js';
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

/**
 * One side of a flow: a handle on row `k` (the flow's row * 2 + side) of its chunk's endpoint arrays.
 * Address words and TCP sequence numbers are unsigned 32-bit; counters are doubles.
 */
export class FlowEndpoint {
  constructor(
    private s: FlowStore,
    private k = 0,
  ) {}

  /** Points the handle at endpoint row `k` of chunk `s`. */
  bind(s: FlowStore, k: number): void {
    this.s = s;
    this.k = k;
  }

  /** Address as four 32-bit words (IPv4: words 0-2 are zero). */
  get a0(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.A0];
  }
  set a0(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.A0] = v;
  }
  get a1(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.A1];
  }
  set a1(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.A1] = v;
  }
  get a2(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.A2];
  }
  set a2(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.A2] = v;
  }
  get a3(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.A3];
  }
  set a3(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.A3] = v;
  }
  get port(): number {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.PORT];
  }
  set port(v: number) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.PORT] = v;
  }
  get pkts(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.PKTS];
  }
  set pkts(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.PKTS] = v;
  }
  /** Payload bytes: for TCP from sequence numbers as Zeek does (see tcp-state.ts), else summed. */
  get payloadBytes(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.PAYLOAD_BYTES];
  }
  set payloadBytes(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.PAYLOAD_BYTES] = v;
  }
  get ipBytes(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.IP_BYTES];
  }
  set ipBytes(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.IP_BYTES] = v;
  }
  /** Sum of frame lengths on the wire, as tshark's conversation table counts "Bytes". */
  get frameBytes(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.FRAME_BYTES];
  }
  set frameBytes(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.FRAME_BYTES] = v;
  }
  // TCP (Zeek TCP_Endpoint), unused for other transports.
  get state(): TcpState {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.STATE];
  }
  set state(v: TcpState) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.STATE] = v;
  }
  get prevState(): TcpState {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.PREV_STATE];
  }
  set prevState(v: TcpState) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.PREV_STATE] = v;
  }
  get startSeq(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.START_SEQ];
  }
  set startSeq(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.START_SEQ] = v;
  }
  get lastSeq(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.LAST_SEQ];
  }
  set lastSeq(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.LAST_SEQ] = v;
  }
  /** lastSeq relative to startSeq, unwrapped (can exceed 2^32 on long flows). */
  get lastRel(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.LAST_REL];
  }
  set lastRel(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.LAST_REL] = v;
  }
  get ackSeq(): number {
    return this.s.epU[this.k * EP_U.STRIDE + EP_U.ACK_SEQ];
  }
  set ackSeq(v: number) {
    this.s.epU[this.k * EP_U.STRIDE + EP_U.ACK_SEQ] = v;
  }
  get ackRel(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.ACK_REL];
  }
  set ackRel(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.ACK_REL] = v;
  }
  get finCount(): number {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.FIN_COUNT];
  }
  set finCount(v: number) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.FIN_COUNT] = v;
  }
  /** History bits already recorded (Zeek's hist_seen, one set per endpoint). */
  get histSeen(): number {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.HIST_SEEN];
  }
  set histSeen(v: number) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.HIST_SEEN] = v;
  }
  get histLastSyn(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_SYN];
  }
  set histLastSyn(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_SYN] = v;
  }
  get histLastFin(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_FIN];
  }
  set histLastFin(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_FIN] = v;
  }
  get histLastRst(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_RST];
  }
  set histLastRst(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.HIST_LAST_RST] = v;
  }
  get rxmit(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.RXMIT];
  }
  set rxmit(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.RXMIT] = v;
  }
  get rxmitThreshold(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.RXMIT_THRESHOLD];
  }
  set rxmitThreshold(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.RXMIT_THRESHOLD] = v;
  }
  get zeroWindow(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.ZERO_WINDOW];
  }
  set zeroWindow(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.ZERO_WINDOW] = v;
  }
  get zeroWindowThreshold(): number {
    return this.s.epF[this.k * EP_F.STRIDE + EP_F.ZERO_WINDOW_THRESHOLD];
  }
  set zeroWindowThreshold(v: number) {
    this.s.epF[this.k * EP_F.STRIDE + EP_F.ZERO_WINDOW_THRESHOLD] = v;
  }
  /**
   * TTL (IPv4) or hop limit (IPv6) of this side's first packet that is not a TCP reset, and of its
   * first reset; -1 until seen. A reset from a firewall arrives with another TTL than the server's
   * own packets (verdict/answered-by.ts).
   */
  get ttl(): number {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.TTL];
  }
  set ttl(v: number) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.TTL] = v;
  }
  get rstTtl(): number {
    return this.s.epI[this.k * EP_I.STRIDE + EP_I.RST_TTL];
  }
  set rstTtl(v: number) {
    this.s.epI[this.k * EP_I.STRIDE + EP_I.RST_TTL] = v;
  }

  /** Starts the endpoint of a new flow: its address and port, every counter and state at rest. */
  reset(port: number): void {
    const s = this.s;
    const u = this.k * EP_U.STRIDE;
    for (let j = EP_U.START_SEQ; j < EP_U.STRIDE; j++) s.epU[u + j] = 0;
    const f = this.k * EP_F.STRIDE;
    for (let j = 0; j < EP_F.STRIDE; j++) s.epF[f + j] = 0;
    s.epF[f + EP_F.HIST_LAST_SYN] = -1;
    s.epF[f + EP_F.HIST_LAST_FIN] = -1;
    s.epF[f + EP_F.HIST_LAST_RST] = -1;
    s.epF[f + EP_F.RXMIT_THRESHOLD] = 1;
    s.epF[f + EP_F.ZERO_WINDOW_THRESHOLD] = 1;
    const i = this.k * EP_I.STRIDE;
    for (let j = 0; j < EP_I.STRIDE; j++) s.epI[i + j] = 0;
    s.epI[i + EP_I.PORT] = port;
    s.epI[i + EP_I.TTL] = -1;
    s.epI[i + EP_I.RST_TTL] = -1;
  }
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

/** A flow: a handle bound to one slot of the table's store, and its two endpoints. */
export class Flow {
  /** The two sides; flipFlow swaps them when the first packet turns out to be the responder's. */
  orig: FlowEndpoint;
  resp: FlowEndpoint;
  /** The slot the handle is bound to. */
  slot = -1;
  private s: FlowStore;
  private row = 0;
  private readonly first: FlowEndpoint;
  private readonly second: FlowEndpoint;

  constructor(private readonly rows: FlowRows<IcmpError[], IcmpQuote, FlowTunnel>) {
    this.s = rows.chunks[0];
    this.first = new FlowEndpoint(this.s);
    this.second = new FlowEndpoint(this.s);
    this.orig = this.first;
    this.resp = this.second;
  }

  /** Binds the handle (and its endpoints) to `slot`; returns it. */
  bind(slot: number): this {
    const s = this.rows.chunks[slot >> CHUNK_SHIFT];
    const row = slot & CHUNK_MASK;
    this.s = s;
    this.row = row;
    this.slot = slot;
    this.first.bind(s, row * 2);
    this.second.bind(s, row * 2 + 1);
    const flipped = s.flI[row * FL_I.STRIDE + FL_I.FLIP] !== 0;
    this.orig = flipped ? this.second : this.first;
    this.resp = flipped ? this.first : this.second;
    return this;
  }

  /** True when the originator is the slot's second endpoint row (flipFlow). */
  get flipped(): boolean {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.FLIP] !== 0;
  }
  set flipped(v: boolean) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.FLIP] = v ? 1 : 0;
  }
  /** Zeek's history letters. */
  get history(): string {
    return this.rows.histories[this.slot];
  }
  set history(v: string) {
    this.rows.histories[this.slot] = v;
  }
  /** Slot for the payload observer's per-flow state (the recognize stage). */
  get app(): unknown {
    return this.rows.apps[this.slot];
  }
  set app(v: unknown) {
    this.rows.apps[this.slot] = v;
  }
  get icmpErrors(): IcmpError[] | null {
    return this.rows.extras[this.slot]?.icmpErrors ?? null;
  }
  set icmpErrors(v: IcmpError[] | null) {
    if (v === null && this.rows.extras[this.slot] === undefined) return;
    this.extras().icmpErrors = v;
  }
  /** For an ICMP error message's own flow: the 5-tuple of the packet it quotes. */
  get icmpQuote(): IcmpQuote | null {
    return this.rows.extras[this.slot]?.icmpQuote ?? null;
  }
  set icmpQuote(v: IcmpQuote | null) {
    if (v === null && this.rows.extras[this.slot] === undefined) return;
    this.extras().icmpQuote = v;
  }
  /** The tunnel (GRE, ERSPAN, VXLAN) its packets came out of, null for packets as captured. */
  get tunnel(): FlowTunnel | null {
    return this.rows.extras[this.slot]?.tunnel ?? null;
  }
  set tunnel(v: FlowTunnel | null) {
    if (v === null && this.rows.extras[this.slot] === undefined) return;
    this.extras().tunnel = v;
  }

  private extras(): {
    icmpErrors: IcmpError[] | null;
    icmpQuote: IcmpQuote | null;
    tunnel: FlowTunnel | null;
  } {
    let e = this.rows.extras[this.slot];
    if (e === undefined) {
      e = { icmpErrors: null, icmpQuote: null, tunnel: null };
      this.rows.extras[this.slot] = e;
    }
    return e;
  }

  /** Sequential number in this run, 1-based (stable for a given input). */
  get id(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.ID];
  }
  set id(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.ID] = v;
  }
  get firstTs(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.FIRST_TS];
  }
  set firstTs(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.FIRST_TS] = v;
  }
  get lastTs(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.LAST_TS];
  }
  set lastTs(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.LAST_TS] = v;
  }
  /** Frame numbers of the first and last packets (tshark's frame.number). */
  get firstFrame(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.FIRST_FRAME];
  }
  set firstFrame(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.FIRST_FRAME] = v;
  }
  get lastFrame(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.LAST_FRAME];
  }
  set lastFrame(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.LAST_FRAME] = v;
  }
  /** Later IP fragments counted to this flow (they carry no ports). */
  get fragments(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.FRAGMENTS];
  }
  set fragments(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.FRAGMENTS] = v;
  }
  get icmpErrorCount(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.ICMP_ERROR_COUNT];
  }
  set icmpErrorCount(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.ICMP_ERROR_COUNT] = v;
  }
  /** The time (and frame) at which the flow was queued in its IdleQueue (idle-queue.ts). */
  get queuedTs(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.QUEUED_TS];
  }
  set queuedTs(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.QUEUED_TS] = v;
  }
  get queuedFrame(): number {
    return this.s.flF[this.row * FL_F.STRIDE + FL_F.QUEUED_FRAME];
  }
  set queuedFrame(v: number) {
    this.s.flF[this.row * FL_F.STRIDE + FL_F.QUEUED_FRAME] = v;
  }
  get hash(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.HASH];
  }
  set hash(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.HASH] = v;
  }
  get proto(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.PROTO];
  }
  set proto(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.PROTO] = v;
  }
  get ipVersion(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.IP_VERSION];
  }
  set ipVersion(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.IP_VERSION] = v;
  }
  get origFrom(): OrigFrom {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.ORIG_FROM];
  }
  set origFrom(v: OrigFrom) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.ORIG_FROM] = v;
  }
  get vlanId(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.VLAN_ID];
  }
  set vlanId(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.VLAN_ID] = v;
  }
  get endReason(): EndReason {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.END_REASON];
  }
  set endReason(v: EndReason) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.END_REASON] = v;
  }
  /** Timeout class (see table.ts), and the flow's place in that class's IdleQueue. */
  get list(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.LIST];
  }
  set list(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.LIST] = v;
  }
  get queueIndex(): number {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.QUEUE_INDEX];
  }
  set queueIndex(v: number) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.QUEUE_INDEX] = v;
  }
  /** True while the payload observer wants to see this flow's packets. */
  get inspect(): boolean {
    return this.s.flI[this.row * FL_I.STRIDE + FL_I.INSPECT] !== 0;
  }
  set inspect(v: boolean) {
    this.s.flI[this.row * FL_I.STRIDE + FL_I.INSPECT] = v ? 1 : 0;
  }
}

export interface IcmpQuote {
  proto: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  hasPorts: boolean;
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
  flow.flipped = !flow.flipped;
}
