/**
 * Decapsulation (issue 11, "Mirrored traffic"): GRE with and without key, sequence number and
 * checksum, transparent Ethernet bridging, ERSPAN types I, II and III (with and without the
 * platform subheader), VXLAN, over IPv4 and IPv6.
 *
 * The inner bytes are real: every frame of a lab capture (test/lab/captures/all-open, TLS, SIP,
 * RTP, STUN, DHCP, IPv6) is wrapped in each tunnel (test/helpers/tunnels.ts, written from the
 * specifications). Then
 *  - the flows of the wrapped capture are the flows of the original one, field for field (only
 *    the frame byte counts grow by the tunnel's headers), each with its `tunnel` (type, outer
 *    addresses, key / session / VNI); VXLAN's outer UDP flow is one more flow, as tshark and
 *    Zeek count it;
 *  - tshark's conversation table of the wrapped capture equals ours.
 * The real tunnel captures in ../shared/captures are checked against tshark in
 * flows-tshark.test.ts (conversations) and here (every frame's innermost packet and its outer
 * addresses and key, including the ICMP and GRE keepalives that carry no TCP or UDP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../src/capture/reader.js';
import type { FlowRecord } from '../src/flow/record.js';
import { writePcapng, type Packet } from './helpers/capture-writer.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { storedCapture } from './helpers/lab.js';
import { sharedCapture, skipReason } from './helpers/shared.js';
import { tsharkConversations, tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import {
  IPPROTO_GRE,
  erspanII,
  erspanIII,
  greHeader,
  outerFrame,
  vxlanFrame,
  type Outer,
} from './helpers/tunnels.js';

const V4: Outer = { src: '10.99.0.1', dst: '10.99.0.2' };
const V6: Outer = { src: '2001:db8:99::1', dst: '2001:db8:99::2' };

interface Variant {
  name: string;
  type: string;
  outer: Outer;
  /** The tunnel fields the inner flows must carry besides type and outer addresses. */
  fields: Record<string, number>;
  /** Why tshark cannot be the reference for this one (it does not dissect what is inside). */
  noTshark?: string;
  wrap: (frame: Buffer, i: number) => Buffer;
}

/** The IP packet of an Ethernet frame, and its GRE protocol type. */
function ipOf(frame: Buffer): { ip: Buffer; type: number } {
  return { ip: frame.subarray(14), type: frame.readUInt16BE(12) };
}

/**
 * VXLAN's UDP source port, from a hash of the inner frame's addresses and ports as RFC 7348
 * section 5 recommends (here: a sum of those bytes), so each inner flow has its outer flow.
 */
function vxlanPort(frame: Buffer): number {
  const v6 = frame.readUInt16BE(12) === 0x86dd;
  const [from, to] = v6 ? [22, 14 + 40 + 4] : [26, 14 + 20 + 4];
  let sum = 0;
  for (let i = from; i < Math.min(to, frame.length); i++) sum += frame[i];
  return 49152 + (sum % 16384);
}

const VARIANTS: Variant[] = [
  {
    name: 'GRE, IP inside',
    type: 'gre',
    outer: V4,
    fields: {},
    wrap: (f) => {
      const { ip, type } = ipOf(f);
      return outerFrame(V4, IPPROTO_GRE, greHeader({ protocol: type }, ip));
    },
  },
  {
    name: 'GRE with checksum, key and sequence number, outer VLAN',
    type: 'gre',
    outer: { ...V4, vlan: 42 },
    fields: { key: 0x01020304, outer_vlan: 42 },
    wrap: (f, i) => {
      const { ip, type } = ipOf(f);
      return outerFrame(
        { ...V4, vlan: 42 },
        IPPROTO_GRE,
        greHeader({ protocol: type, key: 0x01020304, sequence: i, checksum: true }, ip),
      );
    },
  },
  {
    name: 'MPLS in GRE (RFC 4023)',
    type: 'gre',
    outer: V4,
    fields: {},
    wrap: (f) => {
      // One label (16, bottom of stack, TTL 64), then the IP packet.
      const label = Buffer.from([0x00, 0x01, 0x01, 0x40]);
      return outerFrame(V4, IPPROTO_GRE, greHeader({ protocol: 0x8847 }, Buffer.concat([label, ipOf(f).ip])));
    },
  },
  {
    name: 'ERSPAN type III carrying IP frames (frame type 2)',
    type: 'erspan-iii',
    outer: V4,
    fields: { session: 9 },
    noTshark: 'TShark 4.0 shows frame type 2 as data, not IP; checked against the original capture only',
    wrap: (f, i) =>
      outerFrame(
        V4,
        IPPROTO_GRE,
        greHeader({ protocol: 0x22eb }, Buffer.concat([erspanIII(9, i, 2, false), ipOf(f).ip])),
      ),
  },
  {
    name: 'GRE transparent Ethernet bridging with a key',
    type: 'gre',
    outer: V4,
    fields: { key: 77 },
    wrap: (f) => outerFrame(V4, IPPROTO_GRE, greHeader({ protocol: 0x6558, key: 77 }, f)),
  },
  {
    name: 'ERSPAN type I',
    type: 'erspan-i',
    outer: V4,
    fields: {},
    wrap: (f) => outerFrame(V4, IPPROTO_GRE, greHeader({ protocol: 0x88be }, f)),
  },
  {
    name: 'ERSPAN type II',
    type: 'erspan-ii',
    outer: V4,
    fields: { session: 300 },
    wrap: (f, i) =>
      outerFrame(
        V4,
        IPPROTO_GRE,
        greHeader({ protocol: 0x88be, sequence: i }, Buffer.concat([erspanII(300, 0, 5), f])),
      ),
  },
  {
    name: 'ERSPAN type II over IPv6',
    type: 'erspan-ii',
    outer: V6,
    fields: { session: 1023 },
    wrap: (f, i) =>
      outerFrame(
        V6,
        IPPROTO_GRE,
        greHeader({ protocol: 0x88be, sequence: i }, Buffer.concat([erspanII(1023, 7, 1), f])),
      ),
  },
  {
    name: 'ERSPAN type III',
    type: 'erspan-iii',
    outer: V4,
    fields: { session: 301 },
    wrap: (f, i) =>
      outerFrame(
        V4,
        IPPROTO_GRE,
        greHeader({ protocol: 0x22eb }, Buffer.concat([erspanIII(301, i, 0, false), f])),
      ),
  },
  {
    name: 'ERSPAN type III with the platform subheader, with a sequence number',
    type: 'erspan-iii',
    outer: V4,
    fields: { session: 5 },
    wrap: (f, i) =>
      outerFrame(
        V4,
        IPPROTO_GRE,
        greHeader({ protocol: 0x22eb, sequence: i }, Buffer.concat([erspanIII(5, i * 1000, 0, true), f])),
      ),
  },
  {
    name: 'VXLAN',
    type: 'vxlan',
    outer: V4,
    fields: { vni: 5001 },
    wrap: (f) => vxlanFrame(V4, 5001, f, vxlanPort(f)),
  },
  {
    name: 'VXLAN over IPv6',
    type: 'vxlan',
    outer: V6,
    fields: { vni: 0xabcdef },
    wrap: (f) => vxlanFrame(V6, 0xabcdef, f, vxlanPort(f)),
  },
];

const tsharkSkip = tsharkSkipReason('tunnels vs tshark');
let dir = '';
let original: FlowRecord[] = [];
let frames: Packet[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lpa-tunnels-'));
  const source = storedCapture('all-open', 'client');
  const summary = await readCapture(source, {
    onRecord: (rec) =>
      frames.push({
        data: Buffer.from(rec.buf.subarray(rec.offset, rec.offset + rec.caplen)),
        sec: rec.tsSec,
        nsec: rec.tsNsec,
      }),
  });
  expect(summary.error).toBeUndefined();
  original = flowsOf(source);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  frames = [];
});

function flowsOf(capture: string): FlowRecord[] {
  const run = runCli(['flows', '--no-progress', capture]);
  expect(run.status, run.stderr).toBe(0);
  return parseNdjson<FlowRecord>(run.stdout);
}

const tuple = (f: FlowRecord): string => `${f.proto} ${f.orig_h}:${f.orig_p} > ${f.resp_h}:${f.resp_p}`;

/** Per unordered 5-tuple: frames and frame bytes each way, as the conversation table sums them. */
function conversations(rows: { key: string; ab: [number, number]; ba: [number, number] }[]): string[] {
  const sum = new Map<string, [number, number, number, number]>();
  for (const r of rows) {
    const s = sum.get(r.key) ?? [0, 0, 0, 0];
    s[0] += r.ab[0];
    s[1] += r.ab[1];
    s[2] += r.ba[0];
    s[3] += r.ba[1];
    sum.set(r.key, s);
  }
  return [...sum].map(([k, s]) => `${k}: ${s.join(' ')}`).sort();
}

function oriented(proto: string, x: string, y: string, xy: [number, number], yx: [number, number]) {
  return x <= y
    ? { key: `${proto} ${x} ${y}`, ab: xy, ba: yx }
    : { key: `${proto} ${y} ${x}`, ab: yx, ba: xy };
}

describe('tunnels wrapped around a real lab capture', () => {
  it.each(VARIANTS.map((v) => [v.name, v] as [string, Variant]))('%s', (_name, v) => {
    const capture = join(dir, `${v.type}-${VARIANTS.indexOf(v)}.pcapng`);
    writeFileSync(capture, writePcapng(frames.map((p, i) => ({ ...p, data: v.wrap(p.data, i + 1) }))));
    const flows = flowsOf(capture);
    const inner = flows.filter((f) => f.tunnel !== undefined);
    const outer = flows.filter((f) => f.tunnel === undefined);

    // The same flows as the original capture, with their tunnel.
    const strip = (f: FlowRecord): Partial<FlowRecord> => {
      const rest: Partial<FlowRecord> = { ...f };
      delete rest.orig_frame_bytes;
      delete rest.resp_frame_bytes;
      delete rest.tunnel;
      return rest;
    };
    expect(inner.map(strip)).toEqual(original.map(strip));
    for (const f of inner)
      expect(f.tunnel, tuple(f)).toEqual({
        type: v.type,
        outer_src: v.outer.src,
        outer_dst: v.outer.dst,
        ...v.fields,
      });

    // VXLAN keeps its outer UDP flow (all frames one way); GRE and ERSPAN leave none.
    if (v.type === 'vxlan') {
      for (const f of outer)
        expect(tuple(f)).toMatch(new RegExp(`^udp ${v.outer.src}:\\d+ > ${v.outer.dst}:4789$`));
      expect(outer.reduce((n, f) => n + f.orig_pkts + f.resp_pkts, 0)).toBe(frames.length);
    } else expect(outer).toEqual([]);

    if (tsharkSkip) return;
    if (v.noTshark) {
      console.info(`${v.name}: ${v.noTshark}`);
      return;
    }
    const ours = conversations(
      flows
        .filter((f) => f.proto === 'tcp' || f.proto === 'udp')
        .map((f) =>
          oriented(
            f.proto,
            endpoint(f.orig_h, f.orig_p),
            endpoint(f.resp_h, f.resp_p),
            [f.orig_pkts, f.orig_frame_bytes],
            [f.resp_pkts, f.resp_frame_bytes],
          ),
        ),
    );
    const theirs = conversations(
      tsharkConversations(capture).map((r) =>
        oriented(r.proto, r.a, r.b, [r.framesAB, bytes(r.bytesAB)], [r.framesBA, bytes(r.bytesBA)]),
      ),
    );
    expect(ours).toEqual(theirs);
  });
});

/** tshark prints IPv6 endpoints unbracketed ("fd77:1::10:40446"); so do we here. */
function endpoint(h: string, p: number): string {
  return `${h}:${p}`;
}

function bytes(s: string): number {
  if (!s.endsWith(' bytes')) throw new Error(`tshark rounded a byte count (${s})`);
  return Number(s.split(' ')[0]);
}

const SHARED_TUNNELS: Record<string, { type: string; key?: string }> = {
  'gre_sip.pcapng': { type: 'pptp', key: 'gre.key.call_id' },
  'erspan_sip_ipv4_udp.pcapng': { type: 'gre', key: 'gre.key' },
  'erspan-type-iii-ft-0.pcap': { type: 'erspan-iii', key: 'erspan.spanid' },
  'various_gre.pcap': { type: 'gre', key: 'gre.key' },
  'vxlan.pcap': { type: 'vxlan', key: 'vxlan.vni' },
};

const sharedSkip = skipReason('tunnel captures vs tshark') ?? tsharkSkip;

describe.skipIf(sharedSkip !== undefined)('real tunnel captures: every frame as tshark sees it', () => {
  it.each(Object.keys(SHARED_TUNNELS))('%s', (name) => {
    const capture = sharedCapture(name);
    const want = SHARED_TUNNELS[name];
    const flows = flowsOf(capture);
    // tshark per frame: all IP layers' addresses (outermost first), the innermost protocol, the key.
    const rows = tsharkFields(
      capture,
      [
        'frame.number',
        'ip.src',
        'ip.dst',
        'ip.proto',
        'ipv6.src',
        'ipv6.dst',
        'udp.srcport',
        'udp.dstport',
        'tcp.srcport',
        'tcp.dstport',
        want.key!,
      ],
      ['-E', 'occurrence=a'],
    );
    // Innermost packet of each frame, grouped by protocol and address pair.
    const theirs = new Map<string, number>();
    const outerOf = new Map<number, { src: string; dst: string; key: string; depth: number }>();
    const last = (list: string): string => list.split(',').pop()!;
    for (const [frame, src, dst, proto, src6, dst6, usp, udp, tsp, tdp, key] of rows) {
      const s = (src || src6).split(',');
      const d = (dst || dst6).split(',');
      if (!s[0]) continue; // not IP
      const p = last(proto);
      const ports = p === '17' ? [last(usp), last(udp)] : p === '6' ? [last(tsp), last(tdp)] : [];
      const k = group(p, s[s.length - 1], d[d.length - 1], ports);
      theirs.set(k, (theirs.get(k) ?? 0) + 1);
      outerOf.set(Number(frame), { src: s[0], dst: d[0], key: key.split(',')[0], depth: s.length });
    }
    const ours = new Map<string, number>();
    let tunnelled = 0;
    for (const f of flows) {
      // VXLAN's outer flows are checked by the conversation table (flows-tshark.test.ts): they
      // are the only flows besides the innermost packets.
      const ports = f.proto === 'tcp' || f.proto === 'udp' ? [String(f.orig_p), String(f.resp_p)] : [];
      const k = group(String(f.ip_proto), f.orig_h, f.resp_h, ports);
      if (f.resp_p === 4789 && f.tunnel === undefined && !theirs.has(k)) continue;
      ours.set(k, (ours.get(k) ?? 0) + f.orig_pkts + f.resp_pkts);
      if (f.tunnel) {
        tunnelled++;
        const o = outerOf.get(f.first_frame)!;
        expect(f.tunnel.type, tuple(f)).toBe(want.type);
        expect([f.tunnel.outer_src, f.tunnel.outer_dst], tuple(f)).toEqual([o.src, o.dst]);
        const id = f.tunnel.key ?? f.tunnel.call_id ?? f.tunnel.session ?? f.tunnel.vni;
        expect(id, `${tuple(f)} key`).toBe(Number(o.key));
      }
    }
    expect(tunnelled).toBeGreaterThan(0);
    expect([...ours].sort()).toEqual([...theirs].sort());
  });
});

/** Protocol, unordered addresses and (for TCP and UDP) unordered ports. */
function group(proto: string, a: string, b: string, ports: string[]): string {
  const ends = [a, b].sort().join(' ');
  return `${proto} ${ends} ${[...ports].sort().join(' ')}`.trim();
}
