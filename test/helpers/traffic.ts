/**
 * Builds synthetic traffic for tests: a timeline of Ethernet frames with TCP connections that keep
 * their own sequence numbers, UDP exchanges and ICMP errors. Written to pcap/pcapng by
 * capture-writer.ts; tshark and the CLI then read the same bytes.
 */
import { isIPv4 } from 'node:net';
import type { Packet } from './capture-writer.js';
import {
  ACK,
  ETH_IPV4,
  ETH_IPV6,
  FIN,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  RST,
  SYN,
  ethernet,
  filler,
  icmp,
  ipv4,
  ipv6,
  tcp,
  udp,
  type Ipv6Extension,
} from './packets.js';

export interface L2 {
  /** VLAN tags, outermost first: [tpid, vid]. */
  vlans?: [number, number][];
  /** IPv6 extension headers to put before the transport header. */
  extensions?: Ipv6Extension[];
}

/** Wraps a transport segment in IPv4 or IPv6 (chosen by the address) and Ethernet. */
export function ipFrame(
  src: string,
  dst: string,
  proto: number,
  segment: Buffer,
  l2: L2 = {},
  id = 1,
): Buffer {
  if (isIPv4(src)) return ethernet(ETH_IPV4, ipv4({ src, dst, proto, payload: segment, id }), l2);
  return ethernet(ETH_IPV6, ipv6({ src, dst, next: proto, payload: segment, extensions: l2.extensions }), l2);
}

export class Trace {
  readonly packets: Packet[] = [];
  private ns: bigint;

  constructor(startSec = 1_700_000_000) {
    this.ns = BigInt(startSec) * 1_000_000_000n;
  }

  /** Appends a frame `gapUs` microseconds after the previous one (whole µs, so µs formats lose nothing). */
  add(data: Buffer, gapUs = 1000, origLen?: number): this {
    this.ns += BigInt(Math.round(gapUs * 1000));
    this.packets.push({
      data,
      sec: Number(this.ns / 1_000_000_000n),
      nsec: Number(this.ns % 1_000_000_000n),
      origLen,
    });
    return this;
  }

  /** Moves the clock forward without a packet (to cross idle timeouts). */
  wait(seconds: number): this {
    this.ns += BigInt(Math.round(seconds * 1e9));
    return this;
  }
}

export interface TcpEnds {
  client: string;
  server: string;
  cport: number;
  sport: number;
  /** Initial sequence numbers. */
  cisn?: number;
  sisn?: number;
}

/** One TCP connection that tracks both sides' next sequence numbers, so segments are consistent. */
export class TcpConn {
  private cseq: number;
  private sseq: number;

  constructor(
    private readonly trace: Trace,
    private readonly ends: TcpEnds,
    private readonly l2: L2 = {},
  ) {
    this.cseq = ends.cisn ?? 1000;
    this.sseq = ends.sisn ?? 5000;
  }

  /** Sends a segment; SYN and FIN take one sequence number, as does each payload byte (RFC 9293 3.4). */
  send(fromClient: boolean, flags: number, payloadLength = 0, gapUs = 1000): this {
    const used = payloadLength + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    this.emit(fromClient, flags, payloadLength, fromClient ? this.cseq : this.sseq, gapUs);
    if (!(flags & RST)) {
      if (fromClient) this.cseq = (this.cseq + used) >>> 0;
      else this.sseq = (this.sseq + used) >>> 0;
    }
    return this;
  }

  /** Sends the same segment as the side's last one again (same sequence number): a retransmission. */
  retransmit(fromClient: boolean, flags: number, payloadLength = 0, gapUs = 1000): this {
    const used = payloadLength + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const next = fromClient ? this.cseq : this.sseq;
    return this.emit(fromClient, flags, payloadLength, (next - used) >>> 0, gapUs);
  }

  /** Sends a segment with an explicit sequence number (for out-of-window and scan tests). */
  sendAt(fromClient: boolean, flags: number, seq: number, payloadLength = 0, gapUs = 1000): this {
    return this.emit(fromClient, flags, payloadLength, seq, gapUs);
  }

  private emit(fromClient: boolean, flags: number, payloadLength: number, seq: number, gapUs: number): this {
    const e = this.ends;
    const ack = flags & ACK ? (fromClient ? this.sseq : this.cseq) : 0;
    const seg = tcp({
      src: fromClient ? e.client : e.server,
      dst: fromClient ? e.server : e.client,
      sport: fromClient ? e.cport : e.sport,
      dport: fromClient ? e.sport : e.cport,
      seq,
      ack,
      flags,
      payload: filler(payloadLength, fromClient ? 0 : 13),
    });
    this.trace.add(
      ipFrame(fromClient ? e.client : e.server, fromClient ? e.server : e.client, PROTO_TCP, seg, this.l2),
      gapUs,
    );
    return this;
  }

  handshake(): this {
    return this.send(true, SYN)
      .send(false, SYN | ACK)
      .send(true, ACK);
  }

  /** Client request, server response, each acknowledged. */
  exchange(request: number, response: number): this {
    return this.send(true, ACK | 0x08, request)
      .send(false, ACK, 0)
      .send(false, ACK | 0x08, response)
      .send(true, ACK);
  }

  /** Client closes first: FIN, FIN-ACK, ACK. */
  close(): this {
    return this.send(true, FIN | ACK)
      .send(false, FIN | ACK)
      .send(true, ACK);
  }
}

export function udpFrame(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  length: number,
  l2: L2 = {},
): Buffer {
  return ipFrame(src, dst, PROTO_UDP, udp({ src, dst, sport, dport, payload: filler(length) }), l2);
}

/**
 * An ICMP destination unreachable (type 3 / ICMPv6 type 1) from `reporter` that quotes the
 * first bytes of `original` (an IP packet), as RFC 792 and RFC 4443 section 3.1 prescribe.
 */
export function unreachableFrame(reporter: string, original: Buffer, code: number, quoteBytes = 28): Buffer {
  const v4 = original[0] >> 4 === 4;
  const origSrc = v4 ? original.subarray(12, 16) : original.subarray(8, 24);
  const to = v4 ? [...origSrc].join('.') : ipv6Text(origSrc);
  const quote = original.subarray(0, Math.min(original.length, quoteBytes));
  if (v4) return ipFrame(reporter, to, PROTO_ICMP, icmp(3, code, 0, quote));
  return ipFrame(reporter, to, PROTO_ICMPV6, icmp(1, code, 0, quote, { src: reporter, dst: to }));
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/**
 * A small mixed trace used by the format tests: a TCP session (IPv4 and IPv6), a refused
 * connection, UDP both ways, an ICMP port unreachable answering a UDP datagram, and a frame cut
 * by a snaplen. Timestamps are whole microseconds so that every format holds them exactly.
 */
export function mixedTrace(): Trace {
  const t = new Trace();
  const c = '192.0.2.10';
  const s = '198.51.100.20';
  new TcpConn(t, { client: c, server: s, cport: 40001, sport: 443 }).handshake().exchange(200, 1400).close();
  new TcpConn(t, { client: c, server: s, cport: 40002, sport: 5061 }).send(true, SYN).send(false, RST | ACK);
  t.add(udpFrame(c, s, 50000, 3478, 100)).add(udpFrame(s, c, 3478, 50000, 120));
  const original = ipv4({
    src: c,
    dst: s,
    proto: PROTO_UDP,
    payload: udp({ src: c, dst: s, sport: 50001, dport: 3479, payload: filler(40) }),
  });
  t.add(ethernet(ETH_IPV4, original)).add(unreachableFrame(s, original, 3));
  new TcpConn(t, { client: '2001:db8::10', server: '2001:db8:1::20', cport: 40003, sport: 443 })
    .handshake()
    .exchange(10, 20)
    .close();
  const long = udpFrame(c, s, 50002, 5004, 400);
  t.add(long.subarray(0, 96), 1000, long.length);
  return t;
}
