/**
 * The live flow table: finds the flow of every decoded packet, creates flows, keeps TCP state,
 * and writes flows out (through `onFlowEnd`) when they close, go idle, are evicted by the cap,
 * or the capture ends. Memory is bounded by `maxFlows`.
 *
 * Hot path, allocation-free for packets of existing flows: a keyed symmetric hash of the 5-tuple
 * (keyed-hash.ts: a random key per table, so that no capture can choose colliding flows) indexes an open-addressing table (linear probing, backward-shift deletion) of flow objects.
 * Idleness is kept per timeout class in an IdleQueue (idle-queue.ts) that a flow's packets do not
 * touch: expiry looks at queue tops only, and only once the clock reaches the earliest deadline.
 */
import { ipv4ToString } from '../decode/ipv4.js';
import { ipv6ToString } from '../decode/ipv6.js';
import { isIcmpv4Error, isIcmpv6Error } from '../decode/icmp.js';
import {
  DecodeStatus,
  Fragment,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_SYN,
  TunnelKind,
  type PacketView,
} from '../decode/view.js';
import { icmpPorts } from './community-id.js';
import {
  EndReason,
  Flow,
  OrigFrom,
  TcpState,
  flipFlow,
  noteTtl,
  type IcmpError,
  type IcmpQuote,
} from './flow.js';
import { FragmentPorts } from './fragments.js';
import { IdleQueue } from './idle-queue.js';
import { CHUNK_MASK, CHUNK_SHIFT, EP_I, EP_U, FL_F, FL_I, FlowRows } from './store.js';
import { packetTupleHash, quoteTupleHash, randomHashKey, type HashKey } from './keyed-hash.js';
import { tcpFinished, updateTcp } from './tcp-state.js';
import { noteTunnel, tunnelOf, type FlowTunnel } from './tunnel.js';

/** Sees the payload-carrying packets of flows whose `inspect` flag is set (the recognize stage); the time is `view.ts`. */
export type PayloadObserver = (flow: Flow, fromOrig: boolean, view: PacketView, buf: Buffer) => void;

/**
 * Sees every packet attributed to a flow, after the flow's counters took it (`compare` keeps a
 * bounded fingerprint of each, src/compare/evidence.ts); `frame` is the packet's frame number.
 */
export type PacketObserver = (flow: Flow, view: PacketView, buf: Buffer, frame: number) => void;

export interface FlowTableOptions {
  /** Most flows kept at once; the least recently active one is written out to make room. */
  maxFlows?: number;
  /** Inactivity timeouts in seconds (Zeek's defaults: TCP 300, UDP 60, ICMP 60). */
  tcpTimeout?: number;
  udpTimeout?: number;
  otherTimeout?: number;
  /** Seconds a finished TCP flow (FIN both ways, or RST) lingers for stray packets. */
  closeLinger?: number;
  /** Ports on which a packet's sender is probably the server (used when no SYN says who started). */
  isLikelyServerPort?: (port: number, proto: number) => boolean;
  observer?: PayloadObserver;
  onPacket?: PacketObserver;
  onFlowEnd: (flow: Flow) => void;
  /** The flow hash's key (default: a random one per table; tests fix it). */
  hashKey?: HashKey;
}

export interface FlowTableStats {
  packets: number;
  /** Packets attributed to a flow. */
  flowPackets: number;
  notIp: number;
  unknownLink: number;
  unknownLinkTypes: Map<number, number>;
  truncated: number;
  malformed: number;
  flows: number;
  liveFlows: number;
  peakLiveFlows: number;
  timedOut: number;
  closed: number;
  evicted: number;
  reused: number;
  fragmentsAttributed: number;
  fragmentsUnattributed: number;
  icmpErrorsAttached: number;
  icmpErrorsUnmatched: number;
  /**
   * Table slots looked at by flow lookups (packets and ICMP errors): about one per lookup when the
   * hash spreads flows well; the tests hold crafted captures to that (test/hostile.test.ts).
   */
  probes: number;
}

const LIST_TCP_OPEN = 0;
const LIST_TCP_CLOSED = 1;
const LIST_UDP = 2;
const LIST_OTHER = 3;
const LIST_COUNT = 4;
const MAX_KEPT_ICMP_ERRORS = 8;
/** Zeek's HIST_DATA_PKT bit, reused for UDP's 'D'/'d'. */
const HIST_DATA = 0x20;

export const DEFAULT_MAX_FLOWS = 131072;
/** Slots the table starts with; it doubles as live flows grow (see `grow`). */
const INITIAL_CAPACITY = 4096;
/**
 * Seconds of slack when deciding that no queued flow can have expired yet: far more than the
 * rounding error of `lastTs + timeout` on epoch timestamps (about 1e-7 s), so skipping the
 * check never skips an expiry; the exact comparison is still the one in `expire`.
 */
const EXPIRY_SLACK = 1e-3;

export function defaultLikelyServerPort(port: number): boolean {
  return port > 0 && port < 1024;
}

export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0,
    flowPackets: 0,
    notIp: 0,
    unknownLink: 0,
    unknownLinkTypes: new Map(),
    truncated: 0,
    malformed: 0,
    flows: 0,
    liveFlows: 0,
    peakLiveFlows: 0,
    timedOut: 0,
    closed: 0,
    evicted: 0,
    reused: 0,
    fragmentsAttributed: 0,
    fragmentsUnattributed: 0,
    icmpErrorsAttached: 0,
    icmpErrorsUnmatched: 0,
    probes: 0,
  };

  private readonly maxFlows: number;
  /**
   * Open addressing in two parallel typed arrays: `hashes[i]` is the (never zero) hash of the
   * flow in store slot `entries[i]`, 0 when the entry is empty, so that a probe compares integers
   * in one small array and reads the store only when the hash matches. The table starts small and
   * doubles while it is more than half full, up to `maxCapacity` (twice `maxFlows`): a capture
   * with a few hundred live flows probes a few KB that stay in cache, not a 1 MB array.
   */
  private entries: Int32Array;
  private hashes: Int32Array;
  private mask: number;
  private readonly maxCapacity: number;
  /** The live flows: their rows (store.ts), by slot; freed slots are reused, last freed first. */
  private readonly rows = new FlowRows<IcmpError[], IcmpQuote, FlowTunnel>();
  private readonly freeSlots: number[] = [];
  /**
   * The handles the table binds to a slot to hand a flow out (flow.ts): `current` for the packet
   * being added, `ending` for a flow being written out (that can happen while `current` is bound,
   * when a new flow evicts an old one), `other` for the flow an ICMP error is about.
   */
  private readonly current = new Flow(this.rows);
  private readonly ending = new Flow(this.rows);
  private readonly other = new Flow(this.rows);
  /** The live flows of each timeout class (LIST_*), for expiry and eviction. */
  private readonly queues: IdleQueue[] = [
    new IdleQueue(this.rows),
    new IdleQueue(this.rows),
    new IdleQueue(this.rows),
    new IdleQueue(this.rows),
  ];
  /** Slots found idle by one `expire`, written out together in a fixed order (reused). */
  private readonly expired: number[] = [];
  private readonly timeouts: number[];
  private readonly fragments: FragmentPorts;
  private readonly hashKey: HashKey;
  private readonly isLikelyServerPort: (port: number, proto: number) => boolean;
  private readonly observer: PayloadObserver | undefined;
  private readonly onPacket: PacketObserver | undefined;
  private readonly onFlowEnd: (flow: Flow) => void;
  private now = -Infinity;
  /**
   * Below this capture time no queued flow can be past its timeout, so `expire` need not run. It
   * is a lower bound: `expire` sets it from the queue tops, and queueing a flow can only lower it
   * (`lowerExpiry`); a flow's own packets only move its deadline later, which leaves it valid.
   */
  private nextExpiry = -Infinity;
  private nextId = 1;

  constructor(options: FlowTableOptions) {
    this.maxFlows = Math.max(16, options.maxFlows ?? DEFAULT_MAX_FLOWS);
    let capacity = 64;
    while (capacity < this.maxFlows * 2) capacity *= 2;
    this.maxCapacity = capacity;
    const initial = Math.min(capacity, INITIAL_CAPACITY);
    this.entries = new Int32Array(initial);
    this.hashes = new Int32Array(initial);
    this.mask = initial - 1;
    this.timeouts = [
      options.tcpTimeout ?? 300,
      options.closeLinger ?? 5,
      options.udpTimeout ?? 60,
      options.otherTimeout ?? 60,
    ];
    this.hashKey = options.hashKey ?? randomHashKey();
    this.fragments = new FragmentPorts(this.hashKey);
    this.isLikelyServerPort = options.isLikelyServerPort ?? defaultLikelyServerPort;
    this.observer = options.observer;
    this.onPacket = options.onPacket;
    this.onFlowEnd = options.onFlowEnd;
  }

  /**
   * Accounts one decoded packet captured at `view.ts`. `frameLength` is the on-the-wire length,
   * `frame` its number.
   */
  add(view: PacketView, buf: Buffer, frameLength: number, frame: number): void {
    const ts = view.ts;
    const stats = this.stats;
    // The inner packet of a VXLAN frame comes after its outer packet: one frame, counted once.
    if (!view.secondPass) stats.packets++;
    const status = view.status;
    if (status !== DecodeStatus.Ok) {
      if (status === DecodeStatus.NotIp) stats.notIp++;
      else if (status === DecodeStatus.UnknownLink) {
        stats.unknownLink++;
        stats.unknownLinkTypes.set(view.linkType, (stats.unknownLinkTypes.get(view.linkType) ?? 0) + 1);
      } else if (status === DecodeStatus.Truncated) stats.truncated++;
      else stats.malformed++;
      return;
    }
    if (ts > this.now) {
      this.now = ts;
      if (ts >= this.nextExpiry) this.expire();
    }
    const proto = view.proto;
    let sport = 0;
    let dport = 0;
    let oneWayIcmp = false;
    let extraFragment = false;
    if (view.fragment === Fragment.Later) {
      const slot = this.fragments.find(view);
      if (slot < 0) {
        stats.fragmentsUnattributed++;
        return;
      }
      sport = this.fragments.sourcePort(slot);
      dport = this.fragments.destPort(slot);
    } else if (view.hasPorts) {
      sport = view.srcPort;
      dport = view.dstPort;
      if (view.fragment === Fragment.First) {
        // A first fragment of a datagram whose first fragment we already saw (an overlapping
        // resend) adds a packet but not a datagram: count it with the fragments.
        extraFragment = this.fragments.find(view) >= 0;
        this.fragments.remember(view, sport, dport);
      }
    } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      if (view.icmpType >= 0) {
        const ports = icmpPorts(proto, view.icmpType, view.icmpCode);
        sport = ports.sport;
        dport = ports.dport;
        oneWayIcmp = ports.oneWay;
        if (
          view.quoteValid &&
          (proto === IPPROTO_ICMP ? isIcmpv4Error(view.icmpType) : isIcmpv6Error(view.icmpType))
        )
          this.attachIcmpError(view);
      }
    } else if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      // TCP or UDP without a readable header (cut by the snaplen): cannot be keyed by ports.
      stats.truncated++;
      return;
    }

    const hash = packetTupleHash(this.hashKey, view, sport, dport, proto);
    const found = this.lookup(hash, proto, view, sport, dport);
    let flow: Flow | null = found < 0 ? null : this.current.bind(found);
    let fromOrig = true;
    if (flow !== null) {
      fromOrig = flow.orig.port === sport && this.srcIsOrig(flow, view);
      // A new SYN with another initial sequence number starts a new connection on the same
      // 5-tuple (tshark's "TCP port numbers reused"), so the old one is written out.
      if (
        proto === IPPROTO_TCP &&
        view.fragment !== Fragment.Later &&
        view.tcpHeaderComplete &&
        (view.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN
      ) {
        const ep = fromOrig ? flow.orig : flow.resp;
        if (ep.state !== TcpState.Inactive && view.tcpSeq !== ep.startSeq) {
          this.stats.reused++;
          this.remove(found, EndReason.Reused);
          flow = null;
        }
      }
    }
    if (flow === null) {
      flow = this.create(hash, proto, view, sport, dport, oneWayIcmp, frame);
      fromOrig = flow.orig.port === sport && this.srcIsOrig(flow, view);
    }

    stats.flowPackets++;
    const ep = fromOrig ? flow.orig : flow.resp;
    ep.pkts++;
    ep.ipBytes += view.ipTotalLength;
    ep.frameBytes += frameLength;
    noteTtl(ep, view);
    // Packets can come out of time order (merged captures, several interfaces): keep the earliest
    // and latest times, as tshark's conversation table does, so a duration is never negative.
    if (ts > flow.lastTs) flow.lastTs = ts;
    else if (ts < flow.firstTs) flow.firstTs = ts;
    flow.lastFrame = frame;
    if (extraFragment) flow.fragments++;
    if (view.tunnel !== TunnelKind.None) noteTunnel(flow, view);
    if (view.fragment === Fragment.Later) {
      flow.fragments++;
      stats.fragmentsAttributed++;
      // The fragment's data continues the datagram's payload (RFC 791 section 3.2, RFC 8200
      // section 4.5): with the first fragment's share, a complete datagram counts its whole UDP
      // payload, as Zeek's orig_bytes does after reassembly. (TCP counts from sequence numbers.)
      if (proto !== IPPROTO_TCP) ep.payloadBytes += view.ipTotalLength - view.ipHeaderLength;
    } else if (proto === IPPROTO_TCP) {
      if (view.tcpHeaderComplete) updateTcp(flow, fromOrig, view);
    } else {
      ep.payloadBytes += view.payloadLength;
      // Zeek's UDP history: 'D' the first time the originator sends a datagram, 'd' for the
      // responder; an empty datagram counts too (UDPAnalyzer::DeliverPacket checks no length).
      // Other protocols keep the letter for packets that carry payload.
      if ((proto === IPPROTO_UDP || view.payloadLength > 0) && (ep.histSeen & HIST_DATA) === 0) {
        ep.histSeen |= HIST_DATA;
        flow.history += ep === flow.orig ? 'D' : 'd';
      }
    }
    if (flow.inspect && view.payloadCaptured > 0 && this.observer !== undefined)
      this.observer(flow, flow.orig === ep, view, buf);
    if (this.onPacket !== undefined) this.onPacket(flow, view, buf, frame);
    // A finished connection lingers only briefly (closeLinger) for stray packets.
    if (proto === IPPROTO_TCP && flow.list !== LIST_TCP_CLOSED && tcpFinished(flow))
      this.requeue(flow.slot, LIST_TCP_CLOSED);
  }

  /** Writes out every live flow (end of capture), in the order they started. */
  finish(): void {
    this.finishInParts(Infinity)();
  }

  /**
   * Ends the live flows in start order, `part` of them per call of the function returned (true
   * while some are left): a caller that writes records to a slow file waits for it between parts,
   * so the end of a capture with 100k+ live flows does not queue every record in memory at once.
   * No packet may be added in between.
   */
  finishInParts(part: number): () => boolean {
    const live: number[] = [];
    // A loop, not push(...slots): a spread of 100k+ flows would overflow the call's arguments.
    for (const q of this.queues) for (const slot of q.slots()) live.push(slot);
    const rows = this.rows;
    live.sort((a, b) => rows.flF(a, FL_F.ID) - rows.flF(b, FL_F.ID));
    let i = 0;
    return () => {
      const end = Math.min(live.length, i + part);
      for (; i < end; i++) this.remove(live[i], EndReason.EndOfCapture);
      return i < live.length;
    };
  }

  /** Capture time of the latest packet seen (the flow table's clock). */
  get currentTime(): number {
    return this.now;
  }

  /** Flows live right now (for tests and progress). */
  get liveCount(): number {
    return this.stats.liveFlows;
  }

  private srcIsOrig(flow: Flow, view: PacketView): boolean {
    const o = flow.orig;
    return o.a3 === view.src3 && o.a2 === view.src2 && o.a1 === view.src1 && o.a0 === view.src0;
  }

  /**
   * The slot of the live flow of this 5-tuple (either direction), or -1. Reads the store rows
   * directly: the two endpoint rows of a slot, in whichever order the flow holds them.
   */
  private lookup(hash: number, proto: number, view: PacketView, sport: number, dport: number): number {
    const hashes = this.hashes;
    const mask = this.mask;
    const chunks = this.rows.chunks;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      this.stats.probes++;
      const h = hashes[i];
      if (h === 0) return -1;
      if (h !== hash) continue;
      const slot = this.entries[i];
      const s = chunks[slot >> CHUNK_SHIFT];
      const row = slot & CHUNK_MASK;
      const fi = row * FL_I.STRIDE;
      if (s.flI[fi + FL_I.PROTO] !== proto || s.flI[fi + FL_I.IP_VERSION] !== view.ipVersion) continue;
      const u = s.epU;
      const ei = s.epI;
      const a = row * 2 * EP_U.STRIDE;
      const b = a + EP_U.STRIDE;
      const ap = ei[row * 2 * EP_I.STRIDE + EP_I.PORT];
      const bp = ei[(row * 2 + 1) * EP_I.STRIDE + EP_I.PORT];
      if (
        ap === sport &&
        bp === dport &&
        u[a + EP_U.A3] === view.src3 &&
        u[b + EP_U.A3] === view.dst3 &&
        u[a + EP_U.A2] === view.src2 &&
        u[b + EP_U.A2] === view.dst2 &&
        u[a + EP_U.A1] === view.src1 &&
        u[b + EP_U.A1] === view.dst1 &&
        u[a + EP_U.A0] === view.src0 &&
        u[b + EP_U.A0] === view.dst0
      )
        return slot;
      if (
        ap === dport &&
        bp === sport &&
        u[a + EP_U.A3] === view.dst3 &&
        u[b + EP_U.A3] === view.src3 &&
        u[a + EP_U.A2] === view.dst2 &&
        u[b + EP_U.A2] === view.src2 &&
        u[a + EP_U.A1] === view.dst1 &&
        u[b + EP_U.A1] === view.src1 &&
        u[a + EP_U.A0] === view.dst0 &&
        u[b + EP_U.A0] === view.src0
      )
        return slot;
    }
  }

  private create(
    hash: number,
    proto: number,
    view: PacketView,
    sport: number,
    dport: number,
    oneWayIcmp: boolean,
    frame: number,
  ): Flow {
    const ts = view.ts;
    if (this.stats.liveFlows >= this.maxFlows) this.evictOldest();
    const slot = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.rows.add();
    this.rows.setFlI(slot, FL_I.FLIP, 0);
    const flow = this.current.bind(slot);
    const o = flow.orig;
    const r = flow.resp;
    o.reset(sport);
    r.reset(dport);
    o.a0 = view.src0;
    o.a1 = view.src1;
    o.a2 = view.src2;
    o.a3 = view.src3;
    r.a0 = view.dst0;
    r.a1 = view.dst1;
    r.a2 = view.dst2;
    r.a3 = view.dst3;
    flow.id = this.nextId++;
    flow.hash = hash;
    flow.proto = proto;
    flow.ipVersion = view.ipVersion;
    flow.origFrom = OrigFrom.FirstPacket;
    flow.firstTs = ts;
    flow.lastTs = ts;
    flow.firstFrame = frame;
    flow.lastFrame = frame;
    flow.vlanId = view.vlanId;
    flow.fragments = 0;
    flow.icmpErrorCount = 0;
    flow.tunnel = view.tunnel === TunnelKind.None ? null : tunnelOf(view);
    flow.inspect = this.observer !== undefined;
    flow.history = '';
    flow.endReason = EndReason.EndOfCapture;
    flow.list = proto === IPPROTO_TCP ? LIST_TCP_OPEN : proto === IPPROTO_UDP ? LIST_UDP : LIST_OTHER;
    flow.queueIndex = -1;
    flow.queuedTs = ts;
    flow.queuedFrame = frame;
    if (proto === IPPROTO_TCP && view.fragment !== Fragment.Later && view.tcpHeaderComplete) {
      const syn = (view.tcpFlags & TCP_SYN) !== 0;
      const ack = (view.tcpFlags & TCP_ACK) !== 0;
      if (syn && !ack) flow.origFrom = OrigFrom.Syn;
      else if (syn && ack) {
        flipFlow(flow);
        flow.origFrom = OrigFrom.SynAck;
      } else if (this.serverSide(sport, dport, proto)) {
        flipFlow(flow);
        flow.origFrom = OrigFrom.ServerPort;
      }
    } else if (proto === IPPROTO_UDP && this.serverSide(sport, dport, proto)) {
      flipFlow(flow);
      flow.origFrom = OrigFrom.ServerPort;
    } else if (oneWayIcmp && view.quoteValid) {
      const q = quoteAddresses(view);
      flow.icmpQuote = {
        proto: view.quoteProto,
        src: q.src,
        dst: q.dst,
        srcPort: view.quoteHasPorts ? view.quoteSrcPort : 0,
        dstPort: view.quoteHasPorts ? view.quoteDstPort : 0,
        hasPorts: view.quoteHasPorts,
      };
    }
    if ((this.stats.liveFlows + 1) * 2 > this.hashes.length && this.hashes.length < this.maxCapacity)
      this.grow();
    this.place(slot, hash);
    this.enqueue(slot, flow.list);
    const stats = this.stats;
    stats.flows++;
    stats.liveFlows++;
    if (stats.liveFlows > stats.peakLiveFlows) stats.peakLiveFlows = stats.liveFlows;
    return flow;
  }

  /** True when the packet's source port looks like the server's and its destination port does not. */
  private serverSide(sport: number, dport: number, proto: number): boolean {
    return this.isLikelyServerPort(sport, proto) && !this.isLikelyServerPort(dport, proto);
  }

  private attachIcmpError(view: PacketView): void {
    const ts = view.ts;
    const qproto = view.quoteProto;
    const sport = view.quoteHasPorts ? view.quoteSrcPort : 0;
    const dport = view.quoteHasPorts ? view.quoteDstPort : 0;
    const hash = quoteTupleHash(this.hashKey, view, sport, dport, qproto);
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      this.stats.probes++;
      const h = this.hashes[i];
      if (h === 0) break;
      if (h !== hash) continue;
      const f = this.other.bind(this.entries[i]);
      if (f.proto !== qproto || f.ipVersion !== view.quoteIpVersion) continue;
      const o = f.orig;
      const r = f.resp;
      const forward =
        o.port === sport &&
        r.port === dport &&
        o.a0 === view.quoteSrc0 &&
        o.a1 === view.quoteSrc1 &&
        o.a2 === view.quoteSrc2 &&
        o.a3 === view.quoteSrc3 &&
        r.a0 === view.quoteDst0 &&
        r.a1 === view.quoteDst1 &&
        r.a2 === view.quoteDst2 &&
        r.a3 === view.quoteDst3;
      const backward =
        !forward &&
        o.port === dport &&
        r.port === sport &&
        o.a0 === view.quoteDst0 &&
        o.a1 === view.quoteDst1 &&
        o.a2 === view.quoteDst2 &&
        o.a3 === view.quoteDst3 &&
        r.a0 === view.quoteSrc0 &&
        r.a1 === view.quoteSrc1 &&
        r.a2 === view.quoteSrc2 &&
        r.a3 === view.quoteSrc3;
      if (!forward && !backward) continue;
      f.icmpErrorCount++;
      this.stats.icmpErrorsAttached++;
      let errors = f.icmpErrors;
      if (errors === null) f.icmpErrors = errors = [];
      if (errors.length < MAX_KEPT_ICMP_ERRORS)
        errors.push({
          ts,
          type: view.icmpType,
          code: view.icmpCode,
          reporter: addressString(view.ipVersion, view.src0, view.src1, view.src2, view.src3),
          aboutOrig: forward,
          ttl: view.ttl,
        });
      return;
    }
    this.stats.icmpErrorsUnmatched++;
  }

  /** Writes out the flows idle past their list's timeout at the table's clock (`now`). */
  private expire(): void {
    const now = this.now;
    const rows = this.rows;
    const expired = this.expired;
    let next = Infinity;
    for (let l = 0; l < LIST_COUNT; l++) {
      const queue = this.queues[l];
      const limit = now - this.timeouts[l];
      for (let top = queue.top(); top >= 0 && rows.flF(top, FL_F.QUEUED_TS) < limit; top = queue.top()) {
        if (rows.flF(top, FL_F.LAST_TS) < limit) expired.push(queue.pop());
        else queue.refreshTop();
      }
      // Written out in the order of their last packets, each class in turn.
      if (expired.length > 1)
        expired.sort((a, b) => rows.flF(a, FL_F.LAST_FRAME) - rows.flF(b, FL_F.LAST_FRAME));
      for (const slot of expired) {
        if (l === LIST_TCP_CLOSED) this.stats.closed++;
        else this.stats.timedOut++;
        this.remove(slot, l === LIST_TCP_CLOSED ? EndReason.Closed : EndReason.Timeout);
      }
      expired.length = 0;
      const top = queue.top();
      if (top >= 0) {
        const deadline = rows.flF(top, FL_F.QUEUED_TS) + this.timeouts[l];
        if (deadline < next) next = deadline;
      }
    }
    this.nextExpiry = next - EXPIRY_SLACK;
  }

  /** Writes out the least recently active flow (the oldest last packet) to make room. */
  private evictOldest(): void {
    const rows = this.rows;
    let oldest = -1;
    for (const queue of this.queues) {
      // A top with packets since it was queued is not necessarily the oldest: requeue it and look again.
      let top = queue.top();
      while (top >= 0 && rows.flF(top, FL_F.QUEUED_FRAME) !== rows.flF(top, FL_F.LAST_FRAME)) {
        queue.refreshTop();
        top = queue.top();
      }
      if (top >= 0 && (oldest < 0 || rows.flF(top, FL_F.LAST_TS) < rows.flF(oldest, FL_F.LAST_TS)))
        oldest = top;
    }
    if (oldest >= 0) {
      this.stats.evicted++;
      this.remove(oldest, EndReason.Evicted);
    }
  }

  /** Writes the flow in `slot` out (onFlowEnd) and frees the slot. */
  private remove(slot: number, reason: EndReason): void {
    const rows = this.rows;
    this.queues[rows.flI(slot, FL_I.LIST)].remove(slot);
    const entries = this.entries;
    const hashes = this.hashes;
    const mask = this.mask;
    let i = rows.flI(slot, FL_I.HASH) & mask;
    while (hashes[i] === 0 || entries[i] !== slot) i = (i + 1) & mask;
    hashes[i] = 0;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const h = hashes[j];
      if (h === 0) break;
      const k = h & mask;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      entries[i] = entries[j];
      hashes[i] = h;
      hashes[j] = 0;
      i = j;
    }
    this.stats.liveFlows--;
    rows.setFlI(slot, FL_I.END_REASON, reason);
    this.onFlowEnd(this.ending.bind(slot));
    // The slot goes back to the pool: whoever got the flow has kept what it needs.
    rows.clear(slot);
    this.freeSlots.push(slot);
  }

  /** Puts slot `slot` (hash `hash`) in the first free entry of its probe sequence. */
  private place(slot: number, hash: number): void {
    const mask = this.mask;
    let i = hash & mask;
    while (this.hashes[i] !== 0) i = (i + 1) & mask;
    this.entries[i] = slot;
    this.hashes[i] = hash;
  }

  /** Doubles the table: only while the number of live flows reaches a new high, so rarely. */
  private grow(): void {
    const oldEntries = this.entries;
    const oldHashes = this.hashes;
    const capacity = oldHashes.length * 2;
    this.entries = new Int32Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldHashes.length; i++)
      if (oldHashes[i] !== 0) this.place(oldEntries[i], oldHashes[i]);
  }

  /** Puts a flow in the queue of timeout class `list`, keyed by its latest packet. */
  private enqueue(slot: number, list: number): void {
    this.rows.setFlI(slot, FL_I.LIST, list);
    this.queues[list].push(slot);
    // Its deadline may be earlier than the bound: a shorter timeout, or out-of-order times.
    const deadline = this.rows.flF(slot, FL_F.QUEUED_TS) + this.timeouts[list] - EXPIRY_SLACK;
    if (deadline < this.nextExpiry) this.nextExpiry = deadline;
  }

  /** Moves a flow to another timeout class. */
  private requeue(slot: number, list: number): void {
    this.queues[this.rows.flI(slot, FL_I.LIST)].remove(slot);
    this.enqueue(slot, list);
  }
}

function quoteAddresses(view: PacketView): { src: string; dst: string } {
  return {
    src: addressString(view.quoteIpVersion, view.quoteSrc0, view.quoteSrc1, view.quoteSrc2, view.quoteSrc3),
    dst: addressString(view.quoteIpVersion, view.quoteDst0, view.quoteDst1, view.quoteDst2, view.quoteDst3),
  };
}

export function addressString(version: number, w0: number, w1: number, w2: number, w3: number): string {
  return version === 4 ? ipv4ToString(w3) : ipv6ToString(w0, w1, w2, w3);
}
