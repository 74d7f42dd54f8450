/**
 * What `compare` keeps of every packet of one capture: enough to find the same packet in the
 * other capture and to say what it was, and nothing more. Each packet is a row of parallel typed
 * arrays (about 32 bytes, no object per packet), up to a bound; a flow is one small record made
 * at its first packet.
 *
 * The same packet seen at two points of its path keeps, even through a NAT (RFC 3022 section 2.1
 * rewrites addresses, ports and checksums only): its IPv4 identification, its TCP flags, its
 * payload bytes and length, and its TCP sequence number relative to the first one seen in its
 * direction (a firewall that randomises initial sequence numbers shifts every one by the same
 * offset). Two keys are kept per packet, each a hash of some of these:
 *
 *   keyId   IPv4 ID, TCP sequence number, length, flags, payload   (IPv6 has no ID outside fragments)
 *   keySeq  relative sequence, length, flags, payload              (UDP: length and payload alone)
 *
 * so that a path that rewrites one of them (an IP ID-rewriting NAT, a capture that started
 * mid-connection at one point only) still matches on the other (match.ts picks, per flow and
 * direction, the key that pairs more packets).
 */
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  type PacketView,
} from '../decode/view.js';
import { isIcmpv4Error, isIcmpv6Error } from '../decode/icmp.js';
import type { Flow } from '../flow/flow.js';
import { addressString } from '../flow/table.js';

/** Packets kept per capture by default (about 32 MB); beyond, packets are counted, not compared. */
export const DEFAULT_MAX_PACKETS = 1_000_000;

/** The flags a path keeps and that tell packets apart (PSH and URG are left out: some stacks differ). */
const KEPT_FLAGS = TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK;
/** Payload bytes hashed: enough to tell apart packets of the same length (RTP, SIP, TLS records). */
const HASHED_PAYLOAD = 64;

/**
 * keyId is distinctive: an IPv4 ID other than 0 (Linux sends 0 in SYN-ACKs and resets), or a TCP
 * sequence number (a random initial one, RFC 9293 section 3.4.1, and its offset).
 */
export const MARK_ID = 1;
/** keySeq is distinctive: the packet carries payload (every bare SYN of every flow shares one). */
export const MARK_SEQ = 2;

/** What a packet is, for the words of a report ("3 SYNs", "a reset", "an ICMP error"). */
export const enum PacketKind {
  Other = 0,
  Syn = 1,
  SynAck = 2,
  Rst = 3,
  Fin = 4,
  /** TCP with payload, or a UDP datagram. */
  Data = 5,
  /** A TCP segment without payload, SYN, FIN or RST (an ACK). */
  Ack = 6,
  IcmpError = 7,
}

/** One flow of one capture, as first seen. */
export interface EvidenceFlow {
  index: number;
  /** The flow's first frame, protocol and ports (ICMP: type and code): what finds its flow record. */
  firstFrame: number;
  proto: number;
  ports: [number, number];
  /** The first packet's source and destination: direction 0 is from `src`. */
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Words of the first source address, to tell the direction of later packets. */
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  /** First TCP sequence number seen in each direction (NaN before one was seen). */
  seqBase: [number, number];
  /** Packets of this flow that were kept, and all its packets. */
  kept: number;
  packets: number;
}

/** Mixes one more 32-bit value into a hash (murmur3's finaliser steps). */
function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593) ^ (h >>> 13);
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hashBytes(buf: Buffer, start: number, end: number): number {
  let h = 0x2545f491;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h;
}

/**
 * An ICMP error's fingerprint: the parts of the datagram it quotes that a NAT does not rewrite
 * (RFC 5508 section 4.2: a NAT translates the quoted addresses and ports back): the quoted IPv4
 * ID or IPv6 payload length, the quoted protocol, and the quoted TCP sequence number.
 */
function quoteFingerprint(view: PacketView, buf: Buffer, end: number): number {
  const q = view.payloadOffset;
  let h = mix(0x3c6ef372, (view.icmpType << 8) | view.icmpCode);
  if (view.ipVersion === 4 && q + 20 <= end) {
    const ihl = (buf[q] & 0x0f) * 4;
    h = mix(h, (buf[q + 4] << 8) | buf[q + 5]);
    h = mix(h, buf[q + 9]);
    if (buf[q + 9] === IPPROTO_TCP && q + ihl + 8 <= end) h = mix(h, buf.readInt32BE(q + ihl + 4));
  } else if (view.ipVersion === 6 && q + 40 <= end) {
    h = mix(h, (buf[q + 4] << 8) | buf[q + 5]);
    h = mix(h, buf[q + 6]);
    if (buf[q + 6] === IPPROTO_TCP && q + 48 <= end) h = mix(h, buf.readInt32BE(q + 44));
  }
  return h;
}

/** The packets and flows of one capture. */
export class CaptureEvidence {
  readonly flows: EvidenceFlow[] = [];
  /** Packets kept (rows of the arrays below). */
  count = 0;
  /** Packets not kept because the bound was reached. */
  dropped = 0;
  /** Flows not followed because the flow bound was reached (their packets are not kept either). */
  droppedFlows = 0;
  /** Capture time of the first packet not kept (Infinity while every packet is kept). */
  cutTs = Infinity;
  flow = new Int32Array(1024);
  frame = new Int32Array(1024);
  ts = new Float64Array(1024);
  /** 0: from the flow's first source, 1: towards it. */
  dir = new Uint8Array(1024);
  keyId = new Int32Array(1024);
  keySeq = new Int32Array(1024);
  kind = new Uint8Array(1024);
  ttl = new Uint8Array(1024);
  /** Payload bytes on the wire. */
  len = new Int32Array(1024);
  /** MARK_* bits: which keys tell this packet apart from its flow's other packets. */
  marks = new Uint8Array(1024);
  /** By flow id: the table hands out one reused Flow handle for every flow (flow.ts), so the id is what tells flows apart. */
  private readonly byFlow = new Map<number, EvidenceFlow>();

  /**
   * `maxFlows`: flows followed at most (the analysis keeps as many records, DEFAULT_MAX_RECORDS;
   * a scan's million one-packet flows must not grow this without bound).
   */
  constructor(
    readonly maxPackets = DEFAULT_MAX_PACKETS,
    readonly maxFlows = 100_000,
  ) {}

  /** The flow table's onPacket observer (src/flow/table.ts): one row per packet. */
  readonly observe = (flow: Flow, view: PacketView, buf: Buffer, frame: number): void => {
    let f = this.byFlow.get(flow.id);
    if (f === undefined) {
      if (this.flows.length >= this.maxFlows) {
        if (flow.firstFrame === frame) this.droppedFlows++;
        return;
      }
      f = {
        index: this.flows.length,
        firstFrame: flow.firstFrame,
        proto: flow.proto,
        ports: [flow.orig.port, flow.resp.port],
        src: addressString(view.ipVersion, view.src0, view.src1, view.src2, view.src3),
        srcPort: view.hasPorts ? view.srcPort : 0,
        dst: addressString(view.ipVersion, view.dst0, view.dst1, view.dst2, view.dst3),
        dstPort: view.hasPorts ? view.dstPort : 0,
        s0: view.src0,
        s1: view.src1,
        s2: view.src2,
        s3: view.src3,
        seqBase: [NaN, NaN],
        kept: 0,
        packets: 0,
      };
      this.byFlow.set(flow.id, f);
      this.flows.push(f);
    }
    f.packets++;
    if (this.count >= this.maxPackets) {
      if (this.dropped === 0) this.cutTs = view.ts;
      this.dropped++;
      return;
    }
    if (this.count === this.flow.length) this.grow();
    const i = this.count++;
    f.kept++;
    const dir =
      view.src3 === f.s3 &&
      view.src2 === f.s2 &&
      view.src1 === f.s1 &&
      view.src0 === f.s0 &&
      (!view.hasPorts || view.srcPort === f.srcPort)
        ? 0
        : 1;
    const end = view.payloadOffset + view.payloadCaptured;
    const proto = view.proto;
    let kind = PacketKind.Other;
    let flags = 0;
    let pay: number;
    let rel = 0;
    if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && view.quoteValid) {
      const error = proto === IPPROTO_ICMP ? isIcmpv4Error(view.icmpType) : isIcmpv6Error(view.icmpType);
      if (error) kind = PacketKind.IcmpError;
      pay = quoteFingerprint(view, buf, end);
    } else {
      pay = hashBytes(buf, view.payloadOffset, Math.min(end, view.payloadOffset + HASHED_PAYLOAD));
      if (proto === IPPROTO_TCP && view.tcpHeaderComplete) {
        flags = view.tcpFlags & KEPT_FLAGS;
        if (Number.isNaN(f.seqBase[dir])) f.seqBase[dir] = view.tcpSeq;
        rel = (view.tcpSeq - f.seqBase[dir]) | 0;
        if ((flags & TCP_RST) !== 0) kind = PacketKind.Rst;
        else if ((flags & TCP_SYN) !== 0) kind = (flags & TCP_ACK) !== 0 ? PacketKind.SynAck : PacketKind.Syn;
        else if ((flags & TCP_FIN) !== 0) kind = PacketKind.Fin;
        else kind = view.payloadLength > 0 ? PacketKind.Data : PacketKind.Ack;
      } else if (proto === IPPROTO_UDP) kind = PacketKind.Data;
    }
    const len = view.payloadLength;
    const base = mix(mix(pay, len), flags);
    this.flow[i] = f.index;
    this.frame[i] = frame;
    this.ts[i] = view.ts;
    this.dir[i] = dir;
    const tcp = proto === IPPROTO_TCP && view.tcpHeaderComplete;
    this.keyId[i] = fmix(
      mix(mix(base, view.ipVersion === 4 ? view.fragmentId : -1), tcp ? view.tcpSeq | 0 : 0),
    );
    this.keySeq[i] = fmix(mix(base, rel));
    this.kind[i] = kind;
    this.ttl[i] = view.ttl;
    this.len[i] = len;
    this.marks[i] =
      ((view.ipVersion === 4 && view.fragmentId !== 0) || tcp ? MARK_ID : 0) |
      (len > 0 || kind === PacketKind.IcmpError ? MARK_SEQ : 0);
  };

  private grow(): void {
    const n = Math.min(this.flow.length * 2, Math.max(this.maxPackets, 1));
    const widen = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.flow = widen(this.flow, (k) => new Int32Array(k));
    this.frame = widen(this.frame, (k) => new Int32Array(k));
    this.ts = widen(this.ts, (k) => new Float64Array(k));
    this.dir = widen(this.dir, (k) => new Uint8Array(k));
    this.keyId = widen(this.keyId, (k) => new Int32Array(k));
    this.keySeq = widen(this.keySeq, (k) => new Int32Array(k));
    this.kind = widen(this.kind, (k) => new Uint8Array(k));
    this.ttl = widen(this.ttl, (k) => new Uint8Array(k));
    this.len = widen(this.len, (k) => new Int32Array(k));
    this.marks = widen(this.marks, (k) => new Uint8Array(k));
  }

  /** Each flow's kept packets, in capture order: row indices grouped by flow. */
  packetsByFlow(): Int32Array[] {
    const out = this.flows.map((f) => new Int32Array(f.kept));
    const fill = new Int32Array(this.flows.length);
    for (let i = 0; i < this.count; i++) {
      const f = this.flow[i];
      out[f][fill[f]++] = i;
    }
    return out;
  }
}

/** The key a flow record is found by: its first frame, protocol and ports (either order). */
export function recordKey(firstFrame: number, proto: number, p1: number, p2: number): string {
  return `${firstFrame}/${proto}/${Math.min(p1, p2)}/${Math.max(p1, p2)}`;
}
