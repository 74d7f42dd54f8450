/**
 * Differential tests on captures the tests build themselves: each scenario is a few packets
 * written to a temporary pcap; the flows must match tshark's conversation tables
 * (`tshark -q -z conv,tcp -z conv,udp`: frames and bytes per direction, one row per
 * conversation) and carry the conn_state and history Zeek would log for the same packets.
 *
 * The expected Zeek values follow Zeek's own code, which src/flow/tcp-state.ts ports:
 * TCPSessionAdapter::UpdateStateMachine for the endpoint states, TCP_Endpoint CheckHistory for
 * the letters (upper case from the originator, lower case from the responder; S syn, h syn-ack,
 * A pure ack, D data, F fin, R rst, T retransmission; each letter once per direction except
 * repeats with a new sequence number), base/protocols/conn/main.zeek conn_state() for the
 * summary, and UDPAnalyzer::DeliverPacket for UDP ('D'/'d' on every datagram, even an empty one).
 * Which side is the originator follows Zeek's TCPAnalyzer/UDPAnalyzer::WantConnection: the
 * SYN's sender; without a SYN, the receiver of a packet sent from a likely server port (< 1024)
 * to one that is not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowRecord } from '../src/flow/record.js';
import { writePcap } from './helpers/capture-writer.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { ourRows, tsharkRows } from './helpers/conversations.js';
import {
  ACK,
  ETH_IPV4,
  ETH_IPV6,
  FIN,
  PROTO_TCP,
  PROTO_UDP,
  PSH,
  RST,
  SYN,
  TPID_8021AD,
  TPID_8021Q,
  ethernet,
  filler,
  fragmentHeaderBody,
  fragmentIpv4,
  ipv4,
  ipv6,
  tcp,
  udp,
} from './helpers/packets.js';
import { tsharkAvailable, tsharkConversations } from './helpers/tshark.js';
import { TcpConn, Trace, udpFrame, unreachableFrame } from './helpers/traffic.js';

const C = '192.0.2.10';
const S = '198.51.100.20';
const C6 = '2001:db8::10';
const S6 = '2001:db8:1::20';

interface Expected {
  /** "proto orig_p>resp_p", the flow's identity within its scenario. */
  flow: string;
  conn_state: string;
  history?: string;
  orig_pkts?: number;
  resp_pkts?: number;
  /** Payload bytes (Zeek orig_bytes/resp_bytes: from sequence numbers for TCP). */
  orig_bytes?: number;
  resp_bytes?: number;
  orig_from?: string;
  ts?: number;
  duration?: number;
  vlan?: number;
  fragments?: number;
  icmp?: { type: number; code: number; about: 'orig' | 'resp' };
}

interface Scenario {
  name: string;
  build: (t: Trace) => void;
  flows: Expected[];
  /** tshark reassembles IP fragments and counts a datagram once: compare datagrams, not frames. */
  fragmented?: boolean;
}

const conn = (t: Trace, cport: number, sport = 443, l2 = {}): TcpConn =>
  new TcpConn(t, { client: C, server: S, cport, sport }, l2);

const SCENARIOS: Scenario[] = [
  {
    name: 'handshake, request and response, client closes',
    build: (t) => conn(t, 40001).handshake().exchange(120, 1300).close(),
    flows: [
      {
        flow: 'tcp 40001>443',
        conn_state: 'SF',
        history: 'ShADadFf',
        orig_pkts: 6,
        resp_pkts: 4,
        orig_bytes: 120,
        resp_bytes: 1300,
        orig_from: 'syn',
      },
    ],
  },
  {
    name: 'server closes first',
    build: (t) =>
      conn(t, 40002)
        .handshake()
        .exchange(10, 20)
        .send(false, FIN | ACK)
        .send(true, FIN | ACK)
        .send(false, ACK),
    flows: [{ flow: 'tcp 40002>443', conn_state: 'SF', history: 'ShADadfF', orig_bytes: 10, resp_bytes: 20 }],
  },
  {
    // REJ: "Connection attempt rejected": the responder's RST answers the SYN.
    name: 'SYN answered by RST-ACK',
    build: (t) =>
      conn(t, 40003, 5061)
        .send(true, SYN)
        .send(false, RST | ACK),
    flows: [{ flow: 'tcp 40003>5061', conn_state: 'REJ', history: 'Sr', orig_pkts: 1, resp_pkts: 1 }],
  },
  {
    // S0: "Connection attempt seen, no reply". The retransmitted SYN has the same sequence
    // number, so CheckHistory does not repeat the S.
    name: 'SYN with no answer, retransmitted',
    build: (t) =>
      conn(t, 40004, 5061)
        .send(true, SYN)
        .retransmit(true, SYN, 0, 1_000_000)
        .retransmit(true, SYN, 0, 2_000_000),
    flows: [{ flow: 'tcp 40004>5061', conn_state: 'S0', history: 'S', orig_pkts: 3, resp_pkts: 0 }],
  },
  {
    name: 'established, never closed',
    build: (t) => conn(t, 40005).handshake().exchange(5, 7),
    flows: [{ flow: 'tcp 40005>443', conn_state: 'S1', history: 'ShADad' }],
  },
  {
    // S2: "established, close attempt by originator seen (but no reply from responder)".
    name: 'only the originator closes',
    build: (t) =>
      conn(t, 40006)
        .handshake()
        .exchange(5, 7)
        .send(true, FIN | ACK),
    flows: [{ flow: 'tcp 40006>443', conn_state: 'S2', history: 'ShADadF' }],
  },
  {
    // S3: "established, close attempt by responder seen (but no reply from originator)".
    name: 'only the responder closes',
    build: (t) =>
      conn(t, 40007)
        .handshake()
        .exchange(5, 7)
        .send(false, FIN | ACK),
    flows: [{ flow: 'tcp 40007>443', conn_state: 'S3', history: 'ShADadf' }],
  },
  {
    name: 'originator resets an established connection',
    build: (t) =>
      conn(t, 40008)
        .handshake()
        .exchange(5, 7)
        .send(true, RST | ACK),
    flows: [{ flow: 'tcp 40008>443', conn_state: 'RSTO', history: 'ShADadR' }],
  },
  {
    name: 'responder resets an established connection',
    build: (t) =>
      conn(t, 40009)
        .handshake()
        .exchange(5, 7)
        .send(false, RST | ACK),
    flows: [{ flow: 'tcp 40009>443', conn_state: 'RSTR', history: 'ShADadr' }],
  },
  {
    // RSTOS0: "Originator sent a SYN followed by a RST, we never saw a SYN-ACK from the responder".
    name: 'SYN then the originator resets',
    build: (t) => conn(t, 40010).send(true, SYN).send(true, RST),
    flows: [{ flow: 'tcp 40010>443', conn_state: 'RSTOS0', history: 'SR' }],
  },
  {
    // RSTRH: "Responder sent a SYN ACK followed by a RST, we never saw a SYN from the (purported)
    // originator". The SYN-ACK comes from 443, so both Zeek and we take its receiver as originator.
    name: 'SYN-ACK then RST from the responder, SYN not captured',
    build: (t) =>
      conn(t, 40011)
        .send(false, SYN | ACK)
        .send(false, RST),
    flows: [{ flow: 'tcp 40011>443', conn_state: 'RSTRH', history: 'hr', orig_pkts: 0, resp_pkts: 2 }],
  },
  {
    // SH: "Originator sent a SYN followed by a FIN, we never saw a SYN ACK from the responder".
    name: 'SYN then FIN, no answer',
    build: (t) => conn(t, 40012).send(true, SYN).send(true, FIN),
    flows: [{ flow: 'tcp 40012>443', conn_state: 'SH', history: 'SF' }],
  },
  {
    // SHR: "Responder sent a SYN ACK followed by a FIN, we never saw a SYN from the originator".
    name: 'SYN-ACK then FIN from the responder',
    build: (t) =>
      conn(t, 40013)
        .send(false, SYN | ACK)
        .send(false, FIN | ACK),
    flows: [{ flow: 'tcp 40013>443', conn_state: 'SHR', history: 'hf' }],
  },
  {
    // OTH: "No SYN seen, just midstream traffic". The first packet comes from 443, so its
    // receiver is the originator (orig_from says how that was decided).
    name: 'capture starts mid-connection',
    build: (t) =>
      conn(t, 40014)
        .send(false, ACK | PSH, 100)
        .send(true, ACK)
        .send(true, ACK | PSH, 30)
        .send(false, ACK),
    flows: [{ flow: 'tcp 40014>443', conn_state: 'OTH', history: 'dADa', orig_from: 'server-port' }],
  },
  {
    // A data segment sent twice: 'T' (Zeek's retransmission letter, first at 1, then 10, 100, ...).
    name: 'retransmitted data',
    build: (t) =>
      conn(t, 40015)
        .handshake()
        .send(true, ACK | PSH, 50)
        .retransmit(true, ACK | PSH, 50)
        .send(false, ACK)
        .send(false, ACK | PSH, 60)
        .send(true, ACK)
        .close(),
    flows: [
      { flow: 'tcp 40015>443', conn_state: 'SF', history: 'ShADTadFf', orig_bytes: 50, resp_bytes: 60 },
    ],
  },
  {
    // Sequence numbers wrap past 2^32 in both directions (RFC 9293 3.4: arithmetic modulo 2^32).
    name: 'sequence numbers wrapping around',
    build: (t) =>
      new TcpConn(t, { client: C, server: S, cport: 40021, sport: 443, cisn: 0xffffff00, sisn: 0xfffffff0 })
        .handshake()
        .exchange(1000, 3000)
        .close(),
    flows: [
      { flow: 'tcp 40021>443', conn_state: 'SF', history: 'ShADadFf', orig_bytes: 1000, resp_bytes: 3000 },
    ],
  },
  {
    // A new SYN with another initial sequence number on the same 5-tuple is a new connection
    // (tshark: "TCP port numbers reused", a new conversation row).
    name: 'port reuse with a new ISN',
    build: (t) => {
      new TcpConn(t, { client: C, server: S, cport: 40016, sport: 443, cisn: 7000 })
        .handshake()
        .exchange(10, 20)
        .close();
      new TcpConn(t, { client: C, server: S, cport: 40016, sport: 443, cisn: 9_000_000 })
        .handshake()
        .exchange(30, 40)
        .close();
    },
    flows: [
      { flow: 'tcp 40016>443', conn_state: 'SF', history: 'ShADadFf', orig_bytes: 10, resp_bytes: 20 },
      { flow: 'tcp 40016>443', conn_state: 'SF', history: 'ShADadFf', orig_bytes: 30, resp_bytes: 40 },
    ],
  },
  {
    // Merged or multi-interface captures are not always in time order: the flow spans from the
    // earliest to the latest packet (tshark's conversation table: start = min, duration = max - min).
    name: 'UDP with timestamps out of order',
    build: (t) =>
      t
        .add(udpFrame(C, S, 50011, 3478, 10), 500_000)
        .add(udpFrame(S, C, 3478, 50011, 10), -100_000)
        .add(udpFrame(C, S, 50011, 3478, 10), 50_000),
    flows: [{ flow: 'udp 50011>3478', conn_state: 'SF', ts: 1_700_000_000.4, duration: 0.1 }],
  },
  {
    name: 'UDP request and response',
    build: (t) => t.add(udpFrame(C, S, 50000, 3478, 100)).add(udpFrame(S, C, 3478, 50000, 120)),
    flows: [{ flow: 'udp 50000>3478', conn_state: 'SF', history: 'Dd', orig_bytes: 100, resp_bytes: 120 }],
  },
  {
    name: 'UDP one way',
    build: (t) => t.add(udpFrame(C, S, 50001, 5004, 160)).add(udpFrame(C, S, 50001, 5004, 160)),
    flows: [{ flow: 'udp 50001>5004', conn_state: 'S0', history: 'D', orig_pkts: 2, resp_pkts: 0 }],
  },
  {
    // Only the reply was captured: it comes from port 53, so the client is the originator (SHR).
    name: 'UDP reply only',
    build: (t) => t.add(udpFrame(S, C, 53, 50002, 80)),
    flows: [{ flow: 'udp 50002>53', conn_state: 'SHR', history: 'd', orig_pkts: 0, resp_pkts: 1 }],
  },
  {
    // Zeek's UDP analyzer records 'D'/'d' for every datagram, an empty one too (UDP.cc DeliverPacket).
    name: 'UDP datagrams without payload',
    build: (t) => t.add(udpFrame(C, S, 50003, 7000, 0)).add(udpFrame(S, C, 7000, 50003, 0)),
    flows: [{ flow: 'udp 50003>7000', conn_state: 'SF', history: 'Dd', orig_bytes: 0, resp_bytes: 0 }],
  },
  {
    // The ICMP error quotes the UDP datagram's IP header and first 8 bytes (RFC 792): it is
    // attached to the UDP flow, and is a flow of its own (type 3, code 3 as Community ID ports).
    name: 'ICMP port unreachable answering UDP',
    build: (t) => {
      const original = ipv4({
        src: C,
        dst: S,
        proto: PROTO_UDP,
        payload: udp({ src: C, dst: S, sport: 50004, dport: 3479, payload: filler(40) }),
      });
      t.add(ethernet(ETH_IPV4, original)).add(unreachableFrame(S, original, 3));
    },
    flows: [
      {
        flow: 'udp 50004>3479',
        conn_state: 'S0',
        history: 'D',
        orig_pkts: 1,
        resp_pkts: 0,
        icmp: { type: 3, code: 3, about: 'orig' },
      },
      { flow: 'icmp 3>3', conn_state: 'OTH', orig_pkts: 1 },
    ],
  },
  {
    // RFC 4443 section 3.1: ICMPv6 destination unreachable, code 4 = port unreachable.
    name: 'ICMPv6 port unreachable answering UDP over IPv6',
    build: (t) => {
      const original = ipv6({
        src: C6,
        dst: S6,
        next: PROTO_UDP,
        payload: udp({ src: C6, dst: S6, sport: 50005, dport: 3480, payload: filler(40) }),
      });
      t.add(ethernet(ETH_IPV6, original)).add(unreachableFrame(S6, original, 4, 48));
    },
    flows: [
      { flow: 'udp 50005>3480', conn_state: 'S0', icmp: { type: 1, code: 4, about: 'orig' } },
      { flow: 'icmp 1>4', conn_state: 'OTH' },
    ],
  },
  {
    name: 'ICMP host unreachable answering a SYN',
    build: (t) => {
      const syn = ipv4({
        src: C,
        dst: S,
        proto: PROTO_TCP,
        payload: tcp({ src: C, dst: S, sport: 40017, dport: 5061, seq: 1, flags: SYN }),
      });
      t.add(ethernet(ETH_IPV4, syn)).add(unreachableFrame('203.0.113.1', syn, 1));
    },
    flows: [
      { flow: 'tcp 40017>5061', conn_state: 'S0', history: 'S', icmp: { type: 3, code: 1, about: 'orig' } },
      { flow: 'icmp 3>1', conn_state: 'OTH' },
    ],
  },
  {
    name: 'TCP in an 802.1Q VLAN',
    build: (t) =>
      conn(t, 40018, 5061, { vlans: [[TPID_8021Q, 100]] })
        .handshake()
        .exchange(10, 20)
        .close(),
    flows: [{ flow: 'tcp 40018>5061', conn_state: 'SF', history: 'ShADadFf', vlan: 100 }],
  },
  {
    // 802.1ad (QinQ): the outer S-tag's VLAN is the one reported.
    name: 'UDP in QinQ',
    build: (t) => {
      const vlans: [number, number][] = [
        [TPID_8021AD, 200],
        [TPID_8021Q, 300],
      ];
      t.add(udpFrame(C, S, 50006, 3478, 80, { vlans })).add(udpFrame(S, C, 3478, 50006, 90, { vlans }));
    },
    flows: [{ flow: 'udp 50006>3478', conn_state: 'SF', history: 'Dd', vlan: 200 }],
  },
  {
    name: 'MPLS and PPPoE encapsulations',
    build: (t) => {
      const ip = ipv4({
        src: C,
        dst: S,
        proto: PROTO_UDP,
        payload: udp({ src: C, dst: S, sport: 50007, dport: 53, payload: filler(30) }),
      });
      // One MPLS label (RFC 3032: label 16, bottom of stack, TTL 64), then the IPv4 packet.
      t.add(ethernet(0x8847, Buffer.concat([Buffer.from([0x00, 0x01, 0x01, 0x40]), ip])));
      // PPPoE session (RFC 2516): ver/type 0x11, code 0, session 0x0001, length, PPP protocol 0x0021 (IPv4).
      const back = ipv4({
        src: S,
        dst: C,
        proto: PROTO_UDP,
        payload: udp({ src: S, dst: C, sport: 53, dport: 50007, payload: filler(50) }),
      });
      const pppoe = Buffer.alloc(8);
      pppoe[0] = 0x11;
      pppoe.writeUInt16BE(1, 2);
      pppoe.writeUInt16BE(back.length + 2, 4);
      pppoe.writeUInt16BE(0x0021, 6);
      t.add(ethernet(0x8864, Buffer.concat([pppoe, back])));
    },
    flows: [{ flow: 'udp 50007>53', conn_state: 'SF', history: 'Dd', orig_bytes: 30, resp_bytes: 50 }],
  },
  {
    name: 'IPv4 with options',
    build: (t) => {
      // Router Alert (RFC 2113): type 148, length 4; IHL becomes 6.
      const options = Buffer.from([148, 4, 0, 0]);
      const seg = (
        src: string,
        dst: string,
        sport: number,
        dport: number,
        flags: number,
        seq: number,
        ack: number,
      ): Buffer =>
        ethernet(
          ETH_IPV4,
          ipv4({
            src,
            dst,
            proto: PROTO_TCP,
            options,
            payload: tcp({ src, dst, sport, dport, flags, seq, ack }),
          }),
        );
      t.add(seg(C, S, 40019, 443, SYN, 100, 0))
        .add(seg(S, C, 443, 40019, SYN | ACK, 900, 101))
        .add(seg(C, S, 40019, 443, ACK, 101, 901));
    },
    flows: [{ flow: 'tcp 40019>443', conn_state: 'S1', history: 'ShA' }],
  },
  {
    // Hop-by-hop, destination options and a routing header (RFC 8200 section 4) before TCP.
    name: 'IPv6 with extension headers',
    build: (t) =>
      new TcpConn(
        t,
        { client: C6, server: S6, cport: 40020, sport: 443 },
        { extensions: [{ type: 0 }, { type: 60 }, { type: 43 }] },
      )
        .handshake()
        .exchange(70, 80)
        .close(),
    flows: [{ flow: 'tcp 40020>443', conn_state: 'SF', history: 'ShADadFf', orig_bytes: 70, resp_bytes: 80 }],
  },
  {
    // An atomic fragment (RFC 8200 section 4.5: offset 0, M = 0) is a whole datagram.
    name: 'IPv6 atomic fragment',
    build: (t) =>
      t.add(
        udpFrame(C6, S6, 50008, 53, 30, {
          extensions: [{ type: 44, body: fragmentHeaderBody(0, false, 77) }],
        }),
      ),
    flows: [{ flow: 'udp 50008>53', conn_state: 'S0', history: 'D', orig_pkts: 1 }],
  },
  {
    // A 3000-byte datagram in three fragments, answered by a small one; the later fragments are
    // counted to the flow found from the first fragment's ports (same source, destination, id).
    name: 'IPv4 fragmented UDP',
    fragmented: true,
    build: (t) => {
      const big = {
        src: C,
        dst: S,
        proto: PROTO_UDP,
        id: 4242,
        payload: udp({ src: C, dst: S, sport: 50009, dport: 5004, payload: filler(3000) }),
      };
      for (const f of fragmentIpv4(big, 1480)) t.add(ethernet(ETH_IPV4, f));
      t.add(udpFrame(S, C, 5004, 50009, 20));
    },
    flows: [
      {
        flow: 'udp 50009>5004',
        conn_state: 'SF',
        orig_pkts: 3,
        resp_pkts: 1,
        fragments: 2,
        orig_bytes: 3000,
        resp_bytes: 20,
      },
    ],
  },
  {
    name: 'IPv6 fragmented UDP',
    fragmented: true,
    build: (t) => {
      const whole = udp({ src: C6, dst: S6, sport: 50010, dport: 5004, payload: filler(2000) });
      for (let off = 0; off < whole.length; off += 1232) {
        const piece = whole.subarray(off, Math.min(off + 1232, whole.length));
        const more = off + 1232 < whole.length;
        t.add(
          ethernet(
            ETH_IPV6,
            ipv6({
              src: C6,
              dst: S6,
              next: PROTO_UDP,
              payload: piece,
              extensions: [{ type: 44, body: fragmentHeaderBody(off, more, 0xabcd) }],
            }),
          ),
        );
      }
    },
    flows: [{ flow: 'udp 50010>5004', conn_state: 'S0', orig_pkts: 2, fragments: 1, orig_bytes: 2000 }],
  },
];

const dir = mkdtempSync(join(tmpdir(), 'lpa-synthetic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTshark = tsharkAvailable();
if (!hasTshark) console.warn('synthetic flows: the tshark comparisons are skipped, tshark is not installed');

function capture(s: Scenario, index: number): string {
  const t = new Trace();
  s.build(t);
  const path = join(dir, `scenario-${index}.pcap`);
  writeFileSync(path, writePcap(t.packets));
  return path;
}

function flowsOf(path: string): FlowRecord[] {
  const run = runCli(['flows', '--no-progress', path]);
  expect(run.status, run.stderr).toBe(0);
  return parseNdjson<FlowRecord>(run.stdout);
}

describe('synthetic scenarios', () => {
  it.each(SCENARIOS.map((s, i) => [s.name, s, i] as const))('%s', (_name, scenario, index) => {
    const path = capture(scenario, index);
    const flows = flowsOf(path);
    expect(flows.map((f) => `${f.proto} ${f.orig_p}>${f.resp_p}`)).toEqual(scenario.flows.map((e) => e.flow));
    scenario.flows.forEach((e, i) => {
      const f = flows[i];
      const got: Record<string, unknown> = { flow: e.flow, conn_state: f.conn_state };
      for (const k of Object.keys(e) as (keyof Expected)[]) {
        if (k === 'flow' || k === 'conn_state') continue;
        if (k === 'icmp') got.icmp = f.icmp && { type: f.icmp.type, code: f.icmp.code, about: f.icmp.about };
        else got[k] = f[k];
      }
      expect(got).toEqual(e);
    });
    if (!hasTshark) return;
    const rows = tsharkConversations(path);
    if (!scenario.fragmented) {
      expect(ourRows(flows)).toEqual(tsharkRows(rows));
      return;
    }
    // tshark reassembles the datagram and counts it once, on the frame that completes it.
    const datagrams = flows
      .filter((f) => f.proto === 'udp')
      .reduce((n, f) => n + f.orig_pkts + f.resp_pkts - (f.fragments ?? 0), 0);
    expect(rows.reduce((n, r) => n + r.framesAB + r.framesBA, 0)).toBe(datagrams);
  });
});
