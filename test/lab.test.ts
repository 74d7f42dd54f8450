/**
 * End-to-end on the lab's captures: real peers (openssl, sipp, coturn, socat, a DHCPINFORM
 * client) behind an nftables firewall whose rules are the ground truth, captured on both sides
 * of the router. For every flow that a scenario's expected.json lists, the capture of each side
 * must hold that flow with the state the rule implies (dropped TCP: S0 with only the client's
 * SYNs; reset: REJ; ICMP reject: the icmp field with type and code; dropped UDP: S0; one-way:
 * packets in one direction only), or must not hold it where the firewall stopped it first; and
 * nothing else may be in the capture but the ICMP errors about those flows.
 *
 * The stored captures (test/lab/captures, made by `sudo test/lab/run.sh --store all`) are always
 * checked. The live lab runs too when this process is root with network namespaces and the peers
 * installed (CI installs them); otherwise the reason is printed. LPA_LAB=stored skips the live
 * run, LPA_LAB=live makes an unavailable lab a failure.
 *
 * The flows come from `analyze` with the lab's topology, so each flow's verdict and the per-role
 * tallies (server role, port/transport → verdicts) are checked against expected.json as well.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';
import {
  inCidr,
  LAB_DIR,
  loadScenario,
  loadTopology,
  runLiveLab,
  scenarioNames,
  SCENARIOS_DIR,
  SIDES,
  storedCapture,
  type CountExpectation,
  type FlowExpectation,
  type LiveLab,
  type RoleExpectation,
  type Scenario,
  type Side,
  type SideExpectation,
} from './helpers/lab.js';
import type { Analysis } from '../src/verdict/analysis.js';
import { checkCompare, compareLab, compareScenarios } from './helpers/compare-lab.js';
import { VERDICTS as ALL_VERDICTS, type JudgedFlow } from '../src/verdict/types.js';

const names = scenarioNames();
const scenarios = new Map<string, Scenario>(names.map((n) => [n, loadScenario(n)]));
const labTopology = loadTopology(join(LAB_DIR, 'topology.json'));
const runSh = readFileSync(join(LAB_DIR, 'run.sh'), 'utf8');
/** Every verdict a judged flow can get: the lab must show each (outside is not judged). */
const VERDICTS: string[] = ALL_VERDICTS.filter((v) => v !== 'outside');
/** The axis fields a scenario may pin down, compared as they are. */
const AXES = ['network', 'expectation', 'app_outcome', 'app_outcome_finding', 'answered_by'] as const;

/**
 * The capture's flows as `analyze` judges them with the lab's topology: every field of `flows`
 * plus roles, catalog rows and the verdict, so both the wire facts and the verdicts are checked.
 */
function flowsOf(capture: string): JudgedFlow[] {
  const run = runCli([
    'analyze',
    '--no-progress',
    '--format',
    'json',
    '--topology',
    join(LAB_DIR, 'topology.json'),
    capture,
  ]);
  if (run.status !== 0) throw new Error(`analyze ${capture} exited ${run.status}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as Analysis).flows;
}

const key = (proto: string, a: string, ap: number, b: string, bp: number): string =>
  `${proto} ${a}:${ap} > ${b}:${bp}`;
/** The flow's 5-tuple in one side's capture (behind the router's NAT, the client as the server sees it). */
const flowKey = (f: FlowExpectation, side: Side = 'client'): string =>
  side === 'server' && f.nat
    ? key(f.proto, f.nat.client, f.nat.client_port, f.server, f.server_port)
    : key(f.proto, f.client, f.client_port, f.server, f.server_port);

function countOk(actual: number, want: CountExpectation): boolean {
  return typeof want === 'number' ? actual === want : actual >= want.min;
}

/** Every way one side's record differs from its expectation, as readable lines. */
function checkSide(f: FlowExpectation, want: SideExpectation, rec: JudgedFlow | undefined): string[] {
  const where = `${f.id} (${flowKey(f)})`;
  if (want.seen === false)
    return rec ? [`${where}: must not be in this capture, found ${rec.conn_state} ${rec.history}`] : [];
  if (!rec) return [`${where}: not in this capture`];
  const bad: string[] = [];
  if (want.verdict !== undefined && rec.verdict !== want.verdict)
    bad.push(`${where}: verdict ${rec.verdict} (${rec.reason}), want ${want.verdict}`);
  if (want.conn_state !== undefined && rec.conn_state !== want.conn_state)
    bad.push(`${where}: conn_state ${rec.conn_state} (history ${rec.history}), want ${want.conn_state}`);
  if (want.history !== undefined && rec.history !== want.history)
    bad.push(`${where}: history ${rec.history}, want ${want.history}`);
  for (const c of want.history_excludes ?? '')
    if (rec.history.includes(c)) bad.push(`${where}: history ${rec.history} has '${c}'`);
  if (want.orig_pkts !== undefined && !countOk(rec.orig_pkts, want.orig_pkts))
    bad.push(`${where}: orig_pkts ${rec.orig_pkts}, want ${JSON.stringify(want.orig_pkts)}`);
  if (want.resp_pkts !== undefined && !countOk(rec.resp_pkts, want.resp_pkts))
    bad.push(`${where}: resp_pkts ${rec.resp_pkts}, want ${JSON.stringify(want.resp_pkts)}`);
  for (const axis of AXES)
    if (want[axis] !== undefined && rec[axis] !== want[axis])
      bad.push(`${where}: ${axis} ${rec[axis]} (${rec.reason}), want ${want[axis]}`);
  if (want.answered_by_evidence) {
    const got = rec.answered_by_evidence as Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(want.answered_by_evidence))
      if (got?.[k] !== v) bad.push(`${where}: answered_by_evidence.${k} ${String(got?.[k])}, want ${v}`);
  }
  if (want.icmp) {
    const got = rec.icmp
      ? {
          type: rec.icmp.type,
          code: rec.icmp.code,
          reporter: rec.icmp.reporter,
          about: rec.icmp.about,
          count: rec.icmp.count,
        }
      : undefined;
    if (JSON.stringify(got) !== JSON.stringify(want.icmp))
      bad.push(`${where}: icmp ${JSON.stringify(got)}, want ${JSON.stringify(want.icmp)}`);
  } else if (rec.icmp) {
    bad.push(`${where}: unexpected ICMP error ${rec.icmp.name}`);
  }
  return bad;
}

function checkCapture(s: Scenario, side: Side, capture: string, records = flowsOf(capture)): void {
  const byKey = new Map(
    records.map((r) => [key(r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p), r] as [string, JudgedFlow]),
  );
  const problems: string[] = [];
  const expectedKeys = new Set<string>();
  for (const f of s.flows) {
    const k = flowKey(f, side);
    expectedKeys.add(k);
    let rec = byKey.get(k);
    if (!rec) {
      const reversed = byKey.get(key(f.proto, f.server, f.server_port, f.client, f.client_port));
      if (reversed) problems.push(`${f.id}: found with the server as originator`);
      rec = undefined;
    }
    problems.push(...checkSide(f, f.capture[side], rec));
  }
  // Nothing else: the lab makes no background traffic, so any other flow is a lab bug or a
  // flow-table bug. The firewall's ICMP errors are flows of their own, about an expected flow.
  for (const r of records) {
    const k = key(r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p);
    if (expectedKeys.has(k)) continue;
    const q = r.icmp_quote;
    if (r.proto === 'icmp' && q && expectedKeys.has(key(q.proto, q.orig_h, q.orig_p, q.resp_h, q.resp_p)))
      continue;
    problems.push(`extra flow ${k} ${r.conn_state} ${r.history}`);
  }
  // Per role, as analyze judged them: the server role's port/transport → verdict counts.
  const tallies: Record<string, Record<string, Record<string, number>>> = {};
  for (const r of records) {
    if (!expectedKeys.has(key(r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p)) || r.resp_role === null)
      continue;
    const row = ((tallies[r.resp_role] ??= {})[`${r.resp_p}/${r.proto}`] ??= {});
    row[r.verdict] = (row[r.verdict] ?? 0) + 1;
  }
  if (JSON.stringify(sortKeys(tallies)) !== JSON.stringify(sortKeys(s.roles[side])))
    problems.push(
      `per-role verdicts ${JSON.stringify(sortKeys(tallies))}, want ${JSON.stringify(sortKeys(s.roles[side]))}`,
    );
  expect(problems, `${s.scenario} ${side}: ${capture}`).toEqual([]);
}

function sortKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/** The per-role tallies that the flows' verdicts imply; expected.json must say the same. */
function rolesFromFlows(s: Scenario): RoleExpectation {
  const out = { client: {}, server: {} } as RoleExpectation;
  for (const side of SIDES)
    for (const f of s.flows) {
      const want = f.capture[side];
      if (want.seen === false || !want.verdict) continue;
      const role = (out[side][f.server_role] ??= {});
      const row = (role[`${f.server_port}/${f.proto}`] ??= {});
      row[want.verdict] = (row[want.verdict] ?? 0) + 1;
    }
  return out;
}

describe('lab scenarios are consistent', () => {
  it('there are scenarios for every case the lab must prove', () => {
    const verdicts = new Set(
      [...scenarios.values()].flatMap((s) =>
        s.flows.flatMap((f) => SIDES.map((side) => f.capture[side].verdict).filter(Boolean)),
      ),
    );
    expect([...verdicts].sort()).toEqual([...VERDICTS].sort());
  });

  it.each(names)('%s: steps, flows, roles, rules and topology agree', (name) => {
    const s = scenarios.get(name)!;
    const dir = join(SCENARIOS_DIR, name);
    expect(s.scenario).toBe(name);
    expect(readFileSync(join(dir, 'rules.nft'), 'utf8')).toContain('include "addresses.nft"');
    // The scenario's topology is the lab's, and it places every flow's ends in their roles only.
    const topo = loadTopology(join(dir, 'topology.json'));
    expect(topo).toEqual(labTopology);
    const rolesOf = (addr: string): string[] =>
      Object.entries(topo.roles)
        .filter(([, blocks]) => blocks.some((b) => inCidr(addr, b)))
        .map(([role]) => role);
    const ids = new Set<string>();
    for (const f of s.flows) {
      expect(ids.has(f.id), `duplicate flow id ${f.id}`).toBe(false);
      ids.add(f.id);
      expect(s.steps, f.id).toContain(f.step);
      expect(rolesOf(f.client), `${f.id} client`).toEqual([f.client_role]);
      expect(rolesOf(f.server), `${f.id} server`).toEqual([f.server_role]);
      for (const side of SIDES) {
        const want = f.capture[side];
        if (want.seen !== false) expect(VERDICTS, `${f.id} ${side}`).toContain(want.verdict);
      }
    }
    for (const step of s.steps) {
      expect(runSh, `run.sh has no step ${step}`).toContain(`during:${step})`);
      expect(
        s.flows.some((f) => f.step === step),
        `step ${step} makes no listed flow`,
      ).toBe(true);
    }
    expect(s.roles).toEqual(rolesFromFlows(s));
  });
});

describe('stored lab captures', () => {
  const cases = names.flatMap((n) => SIDES.map((side) => [n, side] as [string, Side]));
  it.for(cases)('%s, %s side', ([name, side], ctx) => {
    const capture = storedCapture(name, side);
    if (!existsSync(capture)) {
      console.warn(`lab: ${capture} is missing; make it with sudo test/lab/run.sh --store ${name}`);
      ctx.skip();
    }
    checkCapture(scenarios.get(name)!, side, capture);
  });
});

describe('live lab', () => {
  let lab: LiveLab = {};
  beforeAll(async () => {
    lab = await runLiveLab();
    return () => {
      if (lab.dir && process.env.LPA_LAB_KEEP !== '1') rmSync(lab.dir, { recursive: true, force: true });
    };
  }, 630_000);

  const cases = names.flatMap((n) => SIDES.map((side) => [n, side] as [string, Side]));
  it.for(cases)('%s, %s side', ([name, side], ctx) => {
    if (!lab.dir) {
      ctx.skip();
      return;
    }
    checkCapture(scenarios.get(name)!, side, join(lab.dir, name, `${side}.pcapng`));
  });

  // compare on the fresh pair, as test/compare-lab.test.ts does on the stored ones.
  const compared = compareScenarios(scenarios.values()).map((s) => [s.scenario, s] as [string, Scenario]);
  it.for(compared)('%s, compare client.pcapng server.pcapng', ([name, s], ctx) => {
    if (!lab.dir) {
      ctx.skip();
      return;
    }
    const c = compareLab(join(lab.dir, name, 'client.pcapng'), join(lab.dir, name, 'server.pcapng'));
    expect(checkCompare(s, c)).toEqual([]);
  });
});

describe('samples made by the lab', () => {
  const lines = readFileSync(join(LAB_DIR, 'samples.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/) as [string, string, Side, string]);

  it('npm start analyses the headline sample', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toContain('samples/edge-udp-blocked/capture.pcapng');
    expect(lines.map((l) => l[0])).toContain('edge-udp-blocked');
  });

  it.for(lines)('%s (from %s, %s side, %s)', ([sample, scenario, side, fmt]) => {
    const dir = join(REPO_ROOT, 'samples', sample);
    const capture = join(dir, `capture.${fmt}`);
    expect(existsSync(capture), capture).toBe(true);
    expect(readFileSync(join(dir, 'README.md'), 'utf8').length).toBeGreaterThan(200);
    expect(loadTopology(join(dir, 'topology.json'))).toEqual(labTopology);
    // The sample is the stored capture of that scenario side (pcap or pcapng), so the same flows.
    const records = flowsOf(capture);
    expect(records).toEqual(flowsOf(storedCapture(scenario, side)));
    checkCapture(scenarios.get(scenario)!, side, capture, records);
  });
});
