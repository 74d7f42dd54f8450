/**
 * compare on crafted captures must grow linearly: one 5-tuple reused by thousands of connections
 * (the pairing by start time would be quadratic), and thousands of NAT'd flows whose packets all
 * carry the same fingerprint (every one would vote for every other). CPU time of the comparison
 * (process.cpuUsage, the minimum of 3 runs) at two sizes, four times apart: linear work grows
 * about 4 times, quadratic 16; the bound is generous. Also, the answers stay right: every reused
 * connection pairs with its own copy, and no crafted NAT flow is matched on a fingerprint shared
 * by all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ETH_IPV4, PROTO_TCP, SYN, ethernet, ipv4, tcp } from './helpers/packets.js';
import { writePcap, type Packet } from './helpers/capture-writer.js';
import { compareCaptures } from '../src/compare/compare.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-compare-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const catalog = loadCatalogForAnalysis('lync2010', []);

function syn(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  seq: number,
  id: number,
  ttl: number,
): Buffer {
  const seg = tcp({ src, dst, sport, dport, seq, flags: SYN });
  return ethernet(ETH_IPV4, ipv4({ src, dst, proto: PROTO_TCP, payload: seg, id, ttl }));
}

/** n connections on one reused 5-tuple, and n NAT'd SYNs that all share one IP ID and sequence number. */
function captures(n: number): [string, string] {
  const a: Packet[] = [];
  const b: Packet[] = [];
  for (let i = 0; i < n; i++) {
    const sec = 1_800_000_000 + i;
    // Reused tuple: a new initial sequence number each time (a new connection, flow/table.ts).
    a.push({
      data: syn('10.0.0.1', 40000, '10.0.0.2', 443, 1000 + i * 7919, 1 + (i % 60000), 64),
      sec,
      nsec: 0,
    });
    b.push({
      data: syn('10.0.0.1', 40000, '10.0.0.2', 443, 1000 + i * 7919, 1 + (i % 60000), 63),
      sec,
      nsec: 1000,
    });
    // Behind a NAT that rewrites source address and port, every SYN with the same ID and sequence.
    a.push({ data: syn(`10.1.${i >> 8}.${i & 255}`, 5000, '10.0.0.3', 80, 1, 7, 64), sec, nsec: 500_000 });
    b.push({ data: syn('192.0.2.1', 10000 + i, '10.0.0.3', 80, 1, 7, 63), sec, nsec: 501_000 });
  }
  const pa = join(dir, `a-${n}.pcap`);
  const pb = join(dir, `b-${n}.pcap`);
  writeFileSync(pa, writePcap(a));
  writeFileSync(pb, writePcap(b));
  return [pa, pb];
}

async function cpuOf(
  a: string,
  b: string,
): Promise<{ cpu: number; result: Awaited<ReturnType<typeof compareCaptures>> }> {
  let best = Infinity;
  let result: Awaited<ReturnType<typeof compareCaptures>> | undefined;
  for (let run = 0; run < 3; run++) {
    const start = process.cpuUsage();
    result = await compareCaptures(a, b, { catalog, tcpTimeout: 1, udpTimeout: 1 });
    const used = process.cpuUsage(start);
    best = Math.min(best, used.user + used.system);
  }
  return { cpu: best, result: result! };
}

describe('compare on crafted captures', () => {
  it('grows linearly, and pairs only what is the same packet', async () => {
    const small = 600;
    const large = 2400;
    const s = await cpuOf(...captures(small));
    const l = await cpuOf(...captures(large));
    for (const [n, { result }] of [
      [small, s],
      [large, l],
    ] as const) {
      const flows = result.comparison.flows;
      const reused = flows.filter((f) => f.resp_p === 443);
      expect(reused).toHaveLength(n);
      expect(reused.every((f) => f.seen_at.length === 2 && f.a!.first_frame === f.b!.first_frame)).toBe(true);
      // The NAT'd SYNs share one fingerprint: no evidence of which is which, so none is paired.
      const natted = flows.filter((f) => f.resp_p === 80);
      expect(natted).toHaveLength(2 * n);
      expect(natted.every((f) => f.seen_at.length === 1)).toBe(true);
    }
    expect(l.cpu / s.cpu).toBeLessThan(10);
  }, 120_000);
});
