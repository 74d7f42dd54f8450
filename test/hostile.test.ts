/**
 * Hostile captures (issue 14): inputs crafted to make the tool slow or large, built on the fly by
 * scripts/fuzz/hostile.mjs (none is stored).
 *
 * - The flow table's hash is keyed per run: flows whose two endpoints are equal (the old hash gave
 *   them all one value) and flows chosen to collide under the old hash cost what as many ordinary
 *   flows cost. Work is counted, not timed: the table's probes (slots looked at per lookup).
 * - The key decides where a flow sits, never what is written out: two keys, the same records.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPacketView, Fragment } from '../src/decode/view.js';
import { FlowIndex } from '../src/flow/flow-index.js';
import { FragmentPorts } from '../src/flow/fragments.js';
import {
  fixedHashKey,
  packetTupleHash,
  quoteTupleHash,
  randomHashKey,
  wordsTupleHash,
} from '../src/flow/keyed-hash.js';
import { readFlows } from '../src/flow/read.js';
import { readFlowRecords } from '../src/recognize/records.js';
import type { FlowRecord } from '../src/flow/record.js';
import {
  COLLISION_BITS,
  equalEndpoints,
  oldFlowHash,
  oldHashCollisions,
  udpFlows,
} from '../scripts/fuzz/hostile.mjs';
import { writePcap } from './helpers/capture-writer.js';
import { sharedAvailable, sharedCapture } from './helpers/shared.js';
import { mixedTrace } from './helpers/traffic.js';
import { writeFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'lpa-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'equal-endpoints' | 'old-hash-collisions' | 'ordinary';
const generators: Record<Kind, (o: { count: number; out: string }) => { flows: number }> = {
  'equal-endpoints': equalEndpoints,
  'old-hash-collisions': oldHashCollisions,
  ordinary: udpFlows,
};

/** Reads a generated capture through the flow stage; its flows and the table's probes. */
async function probesOf(kind: Kind, count: number): Promise<{ flows: number; probes: number }> {
  const out = join(dir, `${kind}-${count}.pcap`);
  generators[kind]({ count, out });
  let flows = 0;
  const r = await readFlows([out], { onFlow: () => flows++ });
  rmSync(out);
  return { flows, probes: r.stats.probes };
}

describe('keyed flow hash: crafted flows cost what ordinary flows cost', () => {
  it('the generated collisions do collide under the old hash', () => {
    const out = join(dir, 'check.pcap');
    // Every pair's old hash agrees in the bits that chose the slot: one probe chain for all.
    const { flows } = oldHashCollisions({ count: 400, out });
    expect(flows).toBe(400);
    expect(oldFlowHash(0x0a000001, 40000, 0x0a000001, 40000, 17)).toBe(
      oldFlowHash(0x0a000002, 50000, 0x0a000002, 50000, 17),
    );
    rmSync(out);
    expect(COLLISION_BITS).toBe(18);
  });

  it('equal-endpoint and old-hash-colliding flows: probes linear in their number, within 2x of ordinary flows', async () => {
    const result: Record<string, { flows: number; probes: number }> = {};
    for (const kind of Object.keys(generators) as Kind[])
      for (const n of [10_000, 40_000]) result[`${kind} ${n}`] = await probesOf(kind, n);
    const perFlow = Object.fromEntries(
      Object.entries(result).map(([k, v]) => [k, Math.round((v.probes / v.flows) * 100) / 100]),
    );
    console.log('probes per flow:', perFlow);
    for (const kind of Object.keys(generators) as Kind[]) {
      expect(result[`${kind} 10000`].flows).toBe(10_000);
      expect(result[`${kind} 40000`].flows).toBe(40_000);
      // Linear: 4 times the flows, at most 5 times the work (quadratic would be 16 times).
      expect(result[`${kind} 40000`].probes).toBeLessThan(5 * result[`${kind} 10000`].probes);
      expect(result[`${kind} 40000`].probes).toBeLessThan(2 * result['ordinary 40000'].probes);
    }
    // One flow per packet: each packet's lookup ends after a few slots.
    expect(result['equal-endpoints 40000'].probes / 40_000).toBeLessThan(4);
  }, 60_000);
});

describe('the keyed hash', () => {
  it('one value for a 5-tuple whichever way it is read: a packet, either direction, a quoted packet, address words', () => {
    const key = randomHashKey();
    const v = createPacketView();
    const cases: [number, number[], number[]][] = [
      [4, [0, 0, 0, 0xc0a80001], [0, 0, 0, 0x0a000001]],
      [4, [0, 0, 0, 0x0a000001], [0, 0, 0, 0x0a000001]],
      [6, [0x20010db8, 0, 0xdeadbeef, 1], [0xfe800000, 0, 0, 0xffffffff]],
      [6, [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 1]],
    ];
    for (const [version, a, b] of cases)
      for (const [sport, dport] of [
        [40000, 5061],
        [5061, 5061],
      ]) {
        const values = new Set<number>();
        for (const flip of [false, true]) {
          const [s, d, sp, dp] = flip ? [b, a, dport, sport] : [a, b, sport, dport];
          v.ipVersion = v.quoteIpVersion = version;
          [v.src0, v.src1, v.src2, v.src3] = s;
          [v.dst0, v.dst1, v.dst2, v.dst3] = d;
          [v.quoteSrc0, v.quoteSrc1, v.quoteSrc2, v.quoteSrc3] = s;
          [v.quoteDst0, v.quoteDst1, v.quoteDst2, v.quoteDst3] = d;
          values.add(packetTupleHash(key, v, sp, dp, 17));
          values.add(quoteTupleHash(key, v, sp, dp, 17));
          values.add(wordsTupleHash(key, version, 17, s, sp, d, dp));
        }
        expect(values.size).toBe(1);
        const [h] = values;
        expect(h).toBeGreaterThan(0);
        expect(h).toBeLessThan(2 ** 30);
      }
    // Another key, another value (the key is used at all).
    v.ipVersion = 4;
    v.src3 = 1;
    v.dst3 = 2;
    expect(packetTupleHash(fixedHashKey(1, 2), v, 1, 2, 6)).not.toBe(
      packetTupleHash(fixedHashKey(3, 4), v, 1, 2, 6),
    );
  });
});

function tinyView() {
  const v = createPacketView();
  v.ipVersion = 4;
  v.proto = 17;
  v.src0 = v.src1 = v.src2 = 0;
  v.dst0 = v.dst1 = v.dst2 = 0;
  v.dst3 = 0x0a000001;
  return v;
}

describe('fragment cache: bounded, keyed, the same answers under any key', () => {
  it('remembers the last 4096 first fragments whatever the key, and finds each in a few probes', () => {
    const answers: string[] = [];
    for (const key of [fixedHashKey(1, 2), fixedHashKey(-7, 99), randomHashKey()]) {
      const cache = new FragmentPorts(key);
      const v = tinyView();
      // 10,000 datagrams from one host with consecutive IDs (the old slot hash was linear in the ID).
      for (let i = 0; i < 10_000; i++) {
        v.src3 = 0x0a000002;
        v.fragmentId = i;
        v.fragment = Fragment.First;
        cache.remember(v, 1000 + (i % 50000), 53);
      }
      const before = cache.probes;
      const found: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        v.fragmentId = i;
        const e = cache.find(v);
        if (e >= 0) {
          expect(cache.sourcePort(e)).toBe(1000 + (i % 50000));
          found.push(i);
        }
      }
      expect(found.length).toBe(4096);
      expect(found[0]).toBe(10_000 - 4096);
      expect((cache.probes - before) / 10_000).toBeLessThan(4);
      answers.push(found.join(','));
    }
    expect(new Set(answers).size).toBe(1);
  });
});

describe('the flow index of the second pass (--write-pcap)', () => {
  it('50,000 flows on one 5-tuple, one after another: each frame finds its own, no scan of the others', () => {
    const index = new FlowIndex<FlowRecord>();
    const words = (w3: number) => ({ version: 4, words: [0, 0, 0, w3] as [number, number, number, number] });
    const recs: FlowRecord[] = [];
    for (let i = 0; i < 50_000; i++) {
      const rec = {
        ip_proto: 6,
        orig_h: '10.0.0.1',
        orig_p: 40000,
        resp_h: '10.0.0.2',
        resp_p: 5061,
        first_frame: 2 * i + 1,
        last_frame: 2 * i + 2,
      } as FlowRecord;
      recs.push(rec);
    }
    // Added in another order than their frames (problems first, say): the index sorts them once.
    for (let i = recs.length - 1; i >= 0; i--) index.add(recs[i], words(0x0a000001), words(0x0a000002));
    const v = createPacketView();
    v.ipVersion = 4;
    v.proto = 6;
    v.hasPorts = true;
    v.fragment = Fragment.None;
    v.src0 = v.src1 = v.src2 = v.dst0 = v.dst1 = v.dst2 = 0;
    const started = process.cpuUsage();
    for (let f = 1; f <= 100_000; f++) {
      const back = f % 4 === 0;
      v.src3 = back ? 0x0a000002 : 0x0a000001;
      v.dst3 = back ? 0x0a000001 : 0x0a000002;
      v.srcPort = back ? 5061 : 40000;
      v.dstPort = back ? 40000 : 5061;
      expect(index.find(v, f)).toBe(recs[(f - 1) >> 1]);
      expect(index.fromOrig).toBe(!back);
    }
    const used = process.cpuUsage(started);
    // A scan of the list per packet would be 2.5e9 comparisons (minutes); the binary search is 17 per packet.
    expect(used.user + used.system).toBeLessThan(20e6);
    v.src3 = 0x0a000001;
    v.dst3 = 0x0a000002;
    v.srcPort = 40000;
    v.dstPort = 5061;
    expect(index.find(v, 200_001)).toBeNull();
  });
});

describe('the output does not depend on the key', () => {
  const inputs: [string, () => string][] = [
    [
      'mixed synthetic trace',
      () => {
        const p = join(dir, 'mixed.pcap');
        writeFileSync(p, writePcap(mixedTrace().packets));
        return p;
      },
    ],
    [
      'old-hash collisions',
      () => {
        const p = join(dir, 'collisions.pcap');
        oldHashCollisions({ count: 5000, out: p });
        return p;
      },
    ],
  ];
  if (sharedAvailable())
    for (const name of [
      'fragmented-1.pcap',
      'ipv6-fragmented-dns.pcap',
      'icmp-destunreach-udp.pcap',
      'sip.pcap',
      'synscan.pcap',
    ])
      inputs.push([name, () => sharedCapture(name)]);
  else console.warn('hostile: ../shared is absent, the key test runs on synthetic captures only');

  it.each(inputs)('%s: the same records in the same order under three keys', async (_name, path) => {
    const file = path();
    const outputs: string[] = [];
    for (const hashKey of [fixedHashKey(0, 0), fixedHashKey(0x12345678, -0x789abcd), randomHashKey()]) {
      const lines: string[] = [];
      await readFlowRecords([file], {
        hashKey,
        maxFlows: 1000,
        onRecord: (r) => lines.push(JSON.stringify(r)),
      });
      outputs.push(lines.join('\n'));
    }
    expect(outputs[0].length).toBeGreaterThan(0);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });
});
