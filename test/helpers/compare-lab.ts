/**
 * `compare` on a lab scenario's two captures (client side as A, server side as B): for every flow
 * whose expected.json entry has a "compare" block, the flow must be in the comparison exactly
 * once, with the segment, direction, losses and injected answer the block names.
 */
import { join } from 'node:path';
import { runCli } from './cli.js';
import { LAB_DIR, type FlowExpectation, type Scenario } from './lab.js';
import type { Comparison, ComparedFlow } from '../../src/compare/types.js';

export function compareLab(client: string, server: string, extra: string[] = []): Comparison {
  const run = runCli([
    'compare',
    '--no-progress',
    '--format',
    'json',
    '--topology',
    join(LAB_DIR, 'topology.json'),
    ...extra,
    client,
    server,
  ]);
  if (run.status !== 0) throw new Error(`compare ${client} ${server} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Comparison;
}

/** The compared flows that are this expected flow, found by the client-side tuple (A's view), else B's. */
function flowsFor(c: Comparison, f: FlowExpectation): ComparedFlow[] {
  const at = (s: ComparedFlow['a'], h: string, p: number, sh: string, sp: number): boolean =>
    s !== undefined && s.orig_h === h && s.orig_p === p && s.resp_h === sh && s.resp_p === sp;
  const serverClient = f.nat?.client ?? f.client;
  const serverPort = f.nat?.client_port ?? f.client_port;
  return c.flows.filter(
    (x) =>
      x.proto === f.proto &&
      (at(x.a, f.client, f.client_port, f.server, f.server_port) ||
        at(x.b, serverClient, serverPort, f.server, f.server_port)),
  );
}

export function compareScenarios(scenarios: Iterable<Scenario>): Scenario[] {
  return [...scenarios].filter((s) => s.flows.some((f) => f.compare !== undefined));
}

/** Every way the comparison differs from the scenario's compare blocks, as readable lines. */
export function checkCompare(s: Scenario, c: Comparison): string[] {
  const bad: string[] = [];
  for (const f of s.flows) {
    const want = f.compare;
    if (!want) continue;
    const where = `${s.scenario} ${f.id}`;
    const found = flowsFor(c, f);
    if (found.length !== 1) {
      bad.push(`${where}: ${found.length} compared flows, want exactly 1`);
      continue;
    }
    const got = found[0];
    const actual: Record<string, unknown> = {
      seen_at: got.seen_at,
      finding: got.path.finding,
      segment: got.path.segment,
      direction: got.path.direction,
      lost_a_to_b: got.lost_a_to_b,
      lost_b_to_a: got.lost_b_to_a,
      injected: got.injected,
    };
    if (want.injected_by) {
      const i = got.injected_by;
      actual.injected_by = i && {
        kind: i.kind,
        seen_at: i.seen_at,
        address: i.address,
        ttl: i.ttl,
        ...(want.injected_by.endpoint_ttl !== undefined ? { endpoint_ttl: i.endpoint_ttl } : {}),
      };
    }
    if (want.matched_by !== undefined) actual.matched_by = got.path.matched_by;
    for (const [k, v] of Object.entries(want))
      if (typeof v === 'object' && v !== null && 'min' in v) {
        if (typeof actual[k] !== 'number' || (actual[k] as number) < (v as { min: number }).min)
          bad.push(
            `${where}: ${k} ${JSON.stringify(actual[k])}, want at least ${(v as { min: number }).min}`,
          );
      } else if (JSON.stringify(actual[k]) !== JSON.stringify(v))
        bad.push(`${where}: ${k} ${JSON.stringify(actual[k])}, want ${JSON.stringify(v)} (${got.path.text})`);
    // The segment is in the words every report prints, next to the verdict's own reason.
    if (want.finding !== 'passed' && !got.reason.includes(got.path.text))
      bad.push(`${where}: the reason does not say where: ${got.reason}`);
  }
  return bad;
}
