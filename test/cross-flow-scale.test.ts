/**
 * The cross-flow steps of analyze stay linear (issue 16): the call view (negotiated media and ICE
 * candidate pairs), DCE/RPC follow-on links and role inference, on captures built so that many
 * calls' SDP answers name one busy endpoint (test/helpers/calls-gen.ts). The call view's work is
 * counted (index lookups per call: a constant); each step's CPU time for 4x the input is held to
 * at most 6x, as 4 runs over the small input against one over the big one (the minimum of 3
 * tries each, every measurement above 0.3 s), which a quadratic step fails by far: before the
 * pair index, 100 / 400 such calls with ICE took 5 / 50 s.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from './helpers/capture-writer.js';
import { ANCHOR, ANCHOR_PORT, offerer, sharedAnswerCalls, type CallsOptions } from './helpers/calls-gen.js';
import { Trace, TcpConn } from './helpers/traffic.js';
import { readFlowRecords } from '../src/recognize/records.js';
import { buildCalls, type CallWork } from '../src/recognize/calls.js';
import { linkRpcFlows } from '../src/recognize/rpc-links.js';
import { MAX_CANDIDATES, MAX_MEDIA } from '../src/recognize/sdp.js';
import { RoleInference } from '../src/topology/infer.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';
import type { FlowRecord } from '../src/flow/record.js';
import type { Packet } from './helpers/capture-writer.js';

async function recordsOf(packets: Packet[]): Promise<FlowRecord[]> {
  const path = join(mkdtempSync(join(tmpdir(), 'lpa-scale-')), 'c.pcap');
  writeFileSync(path, writePcap(packets));
  const records: FlowRecord[] = [];
  await readFlowRecords([path], { onRecord: (r) => records.push(r) });
  return records;
}

const callRecords = (n: number, o: CallsOptions): Promise<FlowRecord[]> => recordsOf(sharedAnswerCalls(n, o));

function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * CPU times of the same amount of work on the small and the big input: `reps` runs of `step`
 * over the small one against reps / 4 over the big one (4x the size), each the minimum of 3
 * tries. Linear work gives a ratio near 1; "4x the input within 6x the time" is a ratio under 1.5.
 */
function ratio(step: (big: boolean) => void, reps: number): { small: number; big: number; ratio: number } {
  let small = Infinity;
  let big = Infinity;
  for (let i = 0; i < 3; i++) {
    small = Math.min(
      small,
      cpuMs(() => {
        for (let k = 0; k < reps; k++) step(false);
      }),
    );
    big = Math.min(
      big,
      cpuMs(() => {
        for (let k = 0; k < reps / 4; k++) step(true);
      }),
    );
  }
  return { small, big, ratio: big / small };
}

/**
 * Holds a step to "4x the input within 6x the CPU time": the small side's repetitions are doubled
 * until they take 300 ms (which also warms the step up), then both sides are measured.
 */
function expectLinear(step: (big: boolean) => void): void {
  let reps = 4;
  while (
    cpuMs(() => {
      for (let k = 0; k < reps; k++) step(false);
    }) < 300
  )
    reps *= 2;
  const r = ratio(step, reps);
  expect(r.ratio, JSON.stringify({ reps, ...r })).toBeLessThan(1.5);
}

describe('the call view when every answer names one endpoint', () => {
  it('judges each call against its own media flow only (status, packets, ICE pairs)', async () => {
    const records = await callRecords(6, { ice: true });
    const calls = buildCalls(records);
    expect(calls).toHaveLength(6);
    for (const [i, call] of calls.entries()) {
      expect(call.media).toHaveLength(MAX_MEDIA);
      for (const [k, m] of call.media.entries()) {
        expect(m).toMatchObject({
          offer: `${offerer(i)}:${20000 + 2 * k}`,
          answer: `${ANCHOR}:${ANCHOR_PORT + 2 * k}`,
          status: 'both-ways',
          to_answerer: 1,
          to_offerer: 1,
          // 16 x 16 candidate pairs; the media endpoints' pair is the one that carried traffic.
          ice: {
            offer_candidates: MAX_CANDIDATES,
            answer_candidates: MAX_CANDIDATES,
            pairs_tried: 1,
            pairs_answered: 1,
          },
        });
        expect(m.flows).toHaveLength(1);
        // The pair listed is the one that carried the stream, with its flow.
        expect(m.ice!.pairs).toEqual([
          {
            transport: 'udp',
            offer: `${offerer(i)}:${20000 + 2 * k}`,
            answer: `${ANCHOR}:${ANCHOR_PORT + 2 * k}`,
            answered: true,
            community_id: m.flows[0],
          },
        ]);
      }
    }
    // Every stream's flow is a different one.
    expect(new Set(calls.flatMap((c) => c.media.flatMap((m) => m.flows))).size).toBe(6 * MAX_MEDIA);
  });

  for (const ice of [false, true]) {
    it(`${ice ? 'with' : 'without'} ICE: a constant number of lookups per call${ice ? ', and 4x the calls within 6x the CPU time' : ''}`, async () => {
      const n = ice ? 25 : 50;
      const small = await callRecords(n, { ice });
      const big = await callRecords(4 * n, { ice });
      const ws: CallWork = { lookups: 0 };
      const wb: CallWork = { lookups: 0 };
      expect(buildCalls(small, ws)).toHaveLength(n);
      expect(buildCalls(big, wb)).toHaveLength(4 * n);
      // Per stream at most: 2 endpoint lookups and 1 pair; with ICE 2 x 16 endpoints and 16 x 16
      // pairs more (candidates no flow has are skipped without their pairs).
      const perStream = 3 + (ice ? 2 * MAX_CANDIDATES + MAX_CANDIDATES * MAX_CANDIDATES : 0);
      expect(ws.lookups).toBeGreaterThanOrEqual(n * MAX_MEDIA * 3);
      expect(ws.lookups).toBeLessThanOrEqual(n * MAX_MEDIA * perStream);
      expect(wb.lookups).toBe(4 * ws.lookups);
      if (ice) expectLinear((b) => void buildCalls(b ? big : small));
    }, 120_000);
  }
});

/*
 * DCE/RPC links and role inference are single passes over the records with Map lookups (no loop
 * over the records inside another): their CPU time per record is too small to time at a useful
 * size without cache effects dominating, so these tests hold what they find at 4x the size.
 */
describe('other cross-flow steps', () => {
  /**
   * n clients, each with an endpoint-mapper connection to one server (TCP 135) and the
   * connection to the port it announced, and a SIP over TLS connection to it (TCP 5061).
   */
  async function serverRecords(n: number): Promise<FlowRecord[]> {
    const t = new Trace(1_600_000_000);
    for (let i = 0; i < n; i++) {
      const client = offerer(i);
      new TcpConn(t, { client, server: ANCHOR, cport: 50000, sport: 135 })
        .handshake()
        .exchange(72, 100)
        .close();
      new TcpConn(t, { client, server: ANCHOR, cport: 50001, sport: 49152 + (i % 16000) })
        .handshake()
        .close();
      new TcpConn(t, { client, server: ANCHOR, cport: 50002, sport: 5061 })
        .handshake()
        .exchange(200, 300)
        .close();
    }
    const records = await recordsOf(t.packets);
    // What dcerpc.ts reports for a mapper answer (its parsing is tested on real bytes elsewhere).
    for (const [i, r] of records.filter((x) => x.resp_p === 135).entries()) {
      r.app = 'dcerpc';
      r.app_detail = { epm_endpoints: [{ port: 49152 + (i % 16000), protocol: 'tcp', ip: ANCHOR }] };
    }
    return records;
  }

  let records: FlowRecord[];
  beforeAll(async () => {
    records = await serverRecords(2000);
  }, 120_000);

  it('DCE/RPC links: every follow-on connection to the one server linked to its own mapper flow', () => {
    expect(linkRpcFlows(records)).toBe(2000);
    const mappers = new Set(records.filter((r) => r.resp_p === 135).map((r) => r.community_id));
    const linked = records.filter((r) => r.linked !== undefined);
    expect(new Set(linked.map((r) => r.linked!.mapper))).toEqual(mappers);
  });

  it('role inference: the server and each of its 2,000 clients', () => {
    const { listenPorts } = loadCatalogForAnalysis('lync2010', []);
    const inference = new RoleInference();
    for (const r of records) inference.add(r);
    const inferred = inference.infer(listenPorts).inferred;
    expect(inferred.filter((e) => e.address === ANCHOR).map((e) => e.role)).toEqual(['front-end']);
    expect(inferred.filter((e) => e.role === 'client')).toHaveLength(2000);
  });
});
