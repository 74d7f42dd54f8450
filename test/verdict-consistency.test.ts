/**
 * A report never contradicts itself (issue 9), checked over every lab capture (both sides, with
 * the lab's topology and with roles inferred), every sample (with its topology) and every shared
 * capture (roles inferred):
 *  - every flow carries the three axes, and its verdict is the precedence table's for them;
 *  - no port of a role is both in a row with flows and in its "never observed", and none repeats;
 *  - a flow counts once per role table: the per-role counts add up to the judged flows of the role;
 *  - the summary's judged count is the flows held against the catalog, and no all-clear is printed
 *    where it is 0.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, sharedCaptures, skipReason } from './helpers/shared.js';
import { LAB_DIR, SIDES, scenarioNames, storedCapture } from './helpers/lab.js';
import { renderTable } from '../src/report/table.js';
import { loadTopologyFile, type Topology } from '../src/topology/topology.js';
import { analyzeCaptures } from '../src/verdict/analyze.js';
import type { Analysis } from '../src/verdict/analysis.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';
import { precedenceRule } from '../src/verdict/precedence.js';
import { APP_OUTCOMES, EXPECTATIONS, NETWORK_OUTCOMES, type JudgedFlow } from '../src/verdict/types.js';

const loaded = loadCatalogForAnalysis('lync2010', []);

/** Every way the analysis contradicts itself, as readable lines. */
function contradictions(a: Analysis): string[] {
  const bad: string[] = [];
  const flowName = (f: JudgedFlow): string => `${f.proto} ${f.orig_h}:${f.orig_p} > ${f.resp_h}:${f.resp_p}`;
  for (const f of a.flows) {
    if (
      !NETWORK_OUTCOMES.includes(f.network) ||
      !EXPECTATIONS.includes(f.expectation) ||
      !APP_OUTCOMES.includes(f.app_outcome)
    )
      bad.push(`${flowName(f)}: axes ${f.network} / ${f.expectation} / ${f.app_outcome}`);
    else if (precedenceRule(f.network, f.expectation, f.app_outcome).verdict !== f.verdict)
      bad.push(
        `${flowName(f)}: verdict ${f.verdict} is not the table's for ${f.network} / ${f.expectation} / ${f.app_outcome}`,
      );
    if ((f.answered_by === undefined) !== (f.answered_by_evidence === undefined))
      bad.push(`${flowName(f)}: answered_by without its evidence`);
  }
  const judged = a.flows.filter((f) => f.verdict !== 'outside');
  if (a.summary.judged !== judged.length)
    bad.push(`summary.judged ${a.summary.judged}, ${judged.length} flows judged`);
  const counted = Object.values(a.summary.verdicts).reduce((n, c) => n + (c ?? 0), 0);
  if (counted - (a.summary.verdicts.outside ?? 0) !== a.summary.judged)
    bad.push(
      `the verdict counts (${counted}, outside ${a.summary.verdicts.outside ?? 0}) disagree with summary.judged`,
    );

  // Per role: each judged flow of the role once; the flows' own attribution, computed here.
  const perRole = new Map<string, number>();
  for (const f of judged) {
    const roles =
      f.catalog.length > 0 ? new Set(f.catalog.map((m) => m.role)) : new Set([f.resp_role ?? f.orig_role]);
    for (const r of roles) if (r !== null) perRole.set(r, (perRole.get(r) ?? 0) + 1);
  }
  for (const role of a.roles) {
    const rowFlows = role.rows.reduce((n, r) => n + r.flows, 0);
    const unexpectedFlows = role.unexpected.reduce((n, u) => n + u.flows, 0);
    const want = perRole.get(role.role) ?? 0;
    if (rowFlows + unexpectedFlows !== want || role.flows !== want)
      bad.push(
        `${role.role}: rows ${rowFlows} + unexpected ${unexpectedFlows} (flows ${role.flows}), but ${want} judged flows of the role`,
      );
    const entryKeys = role.rows.map((r) => `${r.id}|${r.transport}`);
    if (new Set(entryKeys).size !== entryKeys.length)
      bad.push(`${role.role}: a table entry repeats: ${entryKeys.join(', ')}`);
    const portKeys = (transport: string, ports: string): string[] =>
      ports
        .split(', ')
        .flatMap((p) => (transport === 'both' ? [`tcp ${p}`, `udp ${p}`] : [`${transport} ${p}`]));
    const withFlows = new Set(role.rows.flatMap((r) => portKeys(r.transport, r.ports)));
    const never = role.not_seen.flatMap((n) => portKeys(n.transport, n.ports));
    for (const k of never)
      if (withFlows.has(k)) bad.push(`${role.role}: ${k} has flows and is "never observed"`);
    if (new Set(never).size !== never.length)
      bad.push(`${role.role}: "never observed" repeats: ${never.join(', ')}`);
    const seenIds = new Set(role.rows.flatMap((r) => r.ids));
    for (const n of role.not_seen)
      for (const r of n.rows)
        if (seenIds.has(r.id)) bad.push(`${role.role}: row ${r.id} has flows and is "never observed"`);
  }
  const table = renderTable(a, { width: 100 });
  if (a.summary.judged === 0 && /No failing required ports/.test(table))
    bad.push('an all-clear over nothing judged');
  if (a.summary.judged === 0 && !/NOTHING JUDGED/.test(table))
    bad.push('nothing judged, and the table does not say so');
  return bad;
}

async function check(path: string, topology?: Topology): Promise<void> {
  const { analysis } = await analyzeCaptures([path], { catalog: loaded, topology });
  expect(contradictions(analysis), path).toEqual([]);
}

const labTopology = loadTopologyFile(join(LAB_DIR, 'topology.json'), loaded.roleIds);
const labCases = scenarioNames().flatMap((s) => SIDES.map((side) => [s, side] as const));

describe('every lab capture', () => {
  it.each(labCases)('%s, %s side, with the lab topology and inferred', async (scenario, side) => {
    const path = storedCapture(scenario, side);
    if (!existsSync(path)) return;
    await check(path, labTopology);
    await check(path);
  });
});

describe('every sample', () => {
  const samples = readdirSync(join(REPO_ROOT, 'samples'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  it.each(samples)('%s', async (name) => {
    const dir = join(REPO_ROOT, 'samples', name);
    const capture = readdirSync(dir).find((f) => f.startsWith('capture.'))!;
    await check(join(dir, capture), loadTopologyFile(join(dir, 'topology.json'), loaded.roleIds));
  });
});

describe('every shared capture', () => {
  const skip = skipReason('consistency over shared captures');
  const files = sharedCaptures();
  it.skipIf(skip !== undefined)('has captures to check', () => {
    expect(files.length).toBeGreaterThan(40);
  });
  it.each(files.map((f) => [f.split('/').pop()!, f]))('%s', async (_name, path) => {
    await check(path);
  });
});
