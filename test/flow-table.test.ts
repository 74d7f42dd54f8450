/**
 * The flow table's memory bound: with --max-flows N no more than N flows are live at once; the
 * least recently active flow is written out early (end_reason "evicted"), the evictions are
 * counted in the summary, and no packet is lost: every packet lands in exactly one emitted flow.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowRecord } from '../src/flow/record.js';
import { writePcap } from './helpers/capture-writer.js';
import { parseNdjson, runCli } from './helpers/cli.js';
import { TcpConn, Trace, udpFrame } from './helpers/traffic.js';

const dir = mkdtempSync(join(tmpdir(), 'lpa-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * 4000 UDP flows opened one after another, then answered in the same order, and 500 TCP
 * connections interleaved: with a cap of 1000 live flows, most flows are evicted before their
 * answer comes, and the answer starts a new flow.
 */
function manyFlows(): { path: string; packets: number } {
  const t = new Trace();
  const tcp: TcpConn[] = [];
  for (let i = 0; i < 4000; i++) {
    const client = `10.${(i >> 8) & 0xff}.${i & 0xff}.1`;
    t.add(udpFrame(client, '192.0.2.53', 20000 + (i % 30000), 3478, 40), 10);
    if (i % 8 === 0) {
      const c = new TcpConn(t, { client, server: '192.0.2.80', cport: 40000 + (i % 20000), sport: 443 });
      c.send(true, 0x02, 0, 10);
      tcp.push(c);
    }
  }
  for (let i = 0; i < 4000; i++) {
    const client = `10.${(i >> 8) & 0xff}.${i & 0xff}.1`;
    t.add(udpFrame('192.0.2.53', client, 3478, 20000 + (i % 30000), 60), 10);
  }
  for (const c of tcp) c.send(false, 0x12, 0, 10).send(true, 0x10, 0, 10);
  const path = join(dir, 'many-flows.pcap');
  writeFileSync(path, writePcap(t.packets));
  return { path, packets: t.packets.length };
}

function summary(stderr: string): { packets: number; flows: number; evicted: number; peak: number } {
  const m =
    /^lync-port-audit: ([\d,]+) packets, ([\d,]+) flows \(.*?([\d,]+) evicted by the ([\d,]+)-flow peak\)/m.exec(
      stderr,
    );
  expect(m, stderr).not.toBeNull();
  const num = (s: string): number => Number(s.replace(/,/g, ''));
  return { packets: num(m![1]), flows: num(m![2]), evicted: num(m![3]), peak: num(m![4]) };
}

describe('--max-flows bounds the live flows', () => {
  const { path, packets } = manyFlows();

  it('evictions are counted and every packet is in exactly one emitted flow', () => {
    const r = runCli(['flows', '--no-progress', '--max-flows', '1000', path]);
    expect(r.status, r.stderr).toBe(0);
    const flows = parseNdjson<FlowRecord>(r.stdout);
    const s = summary(r.stderr);
    expect(s.packets).toBe(packets);
    expect(s.peak).toBe(1000);
    expect(s.flows).toBe(flows.length);
    const evicted = flows.filter((f) => f.end_reason === 'evicted').length;
    expect(s.evicted).toBe(evicted);
    // Far more flows than the cap were opened, so many were evicted: each UDP answer after its
    // flow's eviction starts a flow of its own (from 3478, not a likely server port, so the
    // answering side is its originator, S0).
    expect(evicted).toBeGreaterThan(3000);
    expect(flows.filter((f) => f.proto === 'udp' && f.orig_h === '192.0.2.53').length).toBeGreaterThan(3000);
    expect(flows.reduce((n, f) => n + f.orig_pkts + f.resp_pkts, 0)).toBe(packets);
  });

  it('without the cap pressure the same capture gives one flow per conversation', () => {
    const r = runCli(['flows', '--no-progress', path]);
    expect(r.status, r.stderr).toBe(0);
    const flows = parseNdjson<FlowRecord>(r.stdout);
    const s = summary(r.stderr);
    expect(s.evicted).toBe(0);
    expect(flows).toHaveLength(4500);
    expect(flows.filter((f) => f.proto === 'udp').every((f) => f.conn_state === 'SF')).toBe(true);
    expect(flows.filter((f) => f.proto === 'tcp').every((f) => f.conn_state === 'S1')).toBe(true);
    expect(flows.reduce((n, f) => n + f.orig_pkts + f.resp_pkts, 0)).toBe(packets);
  });
});

describe('the end of the capture', () => {
  it('writes out every flow still live, even 150,000 of them', () => {
    // One datagram each from 150,000 sources: all live when the capture ends (no timeout passes).
    const t = new Trace();
    const n = 150_000;
    for (let i = 0; i < n; i++)
      t.add(
        udpFrame(`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, '192.0.2.53', 40000, 3478, 8),
        1,
      );
    const path = join(dir, 'many-live.pcap');
    writeFileSync(path, writePcap(t.packets));
    const r = runCli(['flows', '--no-progress', '--max-flows', '200000', path]);
    expect(r.status, r.stderr).toBe(0);
    const s = summary(r.stderr);
    expect(s.flows).toBe(n);
    expect(s.peak).toBe(n);
    expect(s.evicted).toBe(0);
    const flows = parseNdjson<FlowRecord>(r.stdout);
    expect(flows).toHaveLength(n);
    expect(flows.every((f) => f.end_reason === 'end-of-capture')).toBe(true);
    // In the order they started.
    expect(flows.every((f, i) => i === 0 || f.first_frame > flows[i - 1].first_frame)).toBe(true);
  });
});
