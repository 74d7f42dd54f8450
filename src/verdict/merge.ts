/**
 * Many captures, one answer: the per-capture summary (`analyze --format summary`) and the merge
 * of summaries into one report per role (`merge`, and `analyze --each`, which merges the same
 * summaries it makes in its workers: the two give the same report for the same captures).
 *
 * A summary keeps what the per-role tables need (each row's tallies per verdict and per axis, the
 * peers and hosts up to SUMMARY_LIST_LIMITS, the first failure), the counts, the topology, the
 * calls and the problem flows (up to SUMMARY_MAX_FLOWS). Merging sums the tallies, unites the
 * peer and host lists (exact while each summary's lists are complete; the counts say when not),
 * takes the earliest first failure, keeps a port as "never observed" only when no capture of the
 * role observed it, and says per row which captures failed there.
 */
import type { Call } from '../recognize/calls.js';
import type { RoleEvidence } from '../topology/topology.js';
import type { Analysis, AnalysisSummary, CaptureInfo } from './analysis.js';
import type { AnalyzeCapturesResult } from './analyze.js';
import {
  REPORT_LIST_LIMITS,
  emptyRowTallies,
  type ListLimits,
  type NotSeenPort,
  type PeerCount,
  type RoleSummary,
  type RowSummary,
  type UnexpectedPort,
} from './roles.js';
import { isProblem, type JudgedFlow, type Verdict } from './types.js';

export const SUMMARY_FORMAT = 'lync-port-audit-summary';
export const SUMMARY_VERSION = 1;
/** Peers and hosts a summary lists per row and role: merges are exact while no list is longer. */
export const SUMMARY_LIST_LIMITS: ListLimits = { peers: 1000, hosts: 1000 };
/** Problem flows a summary carries (the count of all of them is beside them). */
export const SUMMARY_MAX_FLOWS = 1000;
/** Problem flows a merged report lists, over all captures. */
export const MERGED_MAX_FLOWS = 10_000;
/** Captures named per row as failing there. */
const MAX_FAILING_CAPTURES = 10;
const MAX_NOTES = 200;

/** One capture's analysis, as `analyze --format summary` writes it (one JSON line). */
export interface CaptureSummaryDoc {
  format: typeof SUMMARY_FORMAT;
  version: typeof SUMMARY_VERSION;
  /** The capture's name as given on the command line (several inputs read as one: joined by ", "). */
  capture: string;
  summary: AnalysisSummary;
  roles: RoleSummary[];
  calls: Call[];
  /** Problem flows, at most SUMMARY_MAX_FLOWS of them. */
  problem_flows: JudgedFlow[];
  /** All problem flows of the capture (more than problem_flows holds when it was capped). */
  problem_flow_count: number;
}

/** A capture as the merged report lists it. */
export interface CaptureOverview {
  name: string;
  format: string;
  packets: number;
  flows: number;
  judged: number;
  problems: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The entries that failed in this capture: "edge-external udp 3478" (role, transport, ports). */
  failing: string[];
  error?: string;
  warnings: number;
}

/** A role table entry of the merged report: which captures failed there. */
export interface MergedRowSummary extends RowSummary {
  failing_captures: string[];
  failing_capture_count: number;
}

export interface MergedRoleSummary extends RoleSummary {
  rows: MergedRowSummary[];
}

export type MergedFlow = JudgedFlow & { capture: string };

/** The merged report: an Analysis (so every report format renders it) plus the captures. */
export interface MergedAnalysis extends Analysis {
  roles: MergedRoleSummary[];
  flows: MergedFlow[];
  captures: CaptureOverview[];
}

export class SummaryError extends Error {
  override name = 'SummaryError';
}

/** The summary of one analysed capture (analyzeCaptures run with `listLimits: SUMMARY_LIST_LIMITS`). */
export function captureSummary(capture: string, result: AnalyzeCapturesResult): CaptureSummaryDoc {
  const { analysis } = result;
  const problems = analysis.flows.filter((f) => isProblem(f.verdict));
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_VERSION,
    capture,
    summary: analysis.summary,
    roles: analysis.roles,
    calls: analysis.calls,
    problem_flows: problems.slice(0, SUMMARY_MAX_FLOWS),
    problem_flow_count: problems.length,
  };
}

/** Checks that a parsed JSON value is a summary this version reads; `where` names it in errors. */
export function checkSummary(doc: unknown, where: string): CaptureSummaryDoc {
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== SUMMARY_FORMAT)
    throw new SummaryError(
      `${where}: not a lync-port-audit summary (write one with "lync-port-audit analyze --format summary")`,
    );
  const d = doc as Partial<CaptureSummaryDoc>;
  if (d.version !== SUMMARY_VERSION)
    throw new SummaryError(
      `${where}: summary version ${String(d.version)}, this version reads ${SUMMARY_VERSION}`,
    );
  const ok =
    typeof d.capture === 'string' &&
    typeof d.summary === 'object' &&
    d.summary !== null &&
    Array.isArray(d.roles) &&
    Array.isArray(d.calls) &&
    Array.isArray(d.problem_flows) &&
    typeof d.problem_flow_count === 'number';
  if (!ok)
    throw new SummaryError(
      `${where}: summary is missing fields (capture, summary, roles, calls, problem_flows)`,
    );
  return d as CaptureSummaryDoc;
}

// ---------------------------------------------------------------------------------------------

function addTally<K extends string>(
  into: Partial<Record<K, number>>,
  from: Partial<Record<K, number>>,
): void {
  for (const [k, n] of Object.entries(from) as [K, number | undefined][]) into[k] = (into[k] ?? 0) + (n ?? 0);
}

function hasProblem(verdicts: Partial<Record<Verdict, number>>): boolean {
  return (Object.entries(verdicts) as [Verdict, number | undefined][]).some(
    ([v, n]) => (n ?? 0) > 0 && isProblem(v),
  );
}

function problemCount(verdicts: Partial<Record<Verdict, number>>): number {
  let n = 0;
  for (const [v, c] of Object.entries(verdicts) as [Verdict, number | undefined][])
    if (isProblem(v)) n += c ?? 0;
  return n;
}

const STATUS_RANK = { problem: 0, ok: 1, seen: 2 } as const;

/** A set that counts beyond the list it keeps: exact while every part was complete. */
function unite(
  parts: { list: readonly string[]; count: number }[],
  limit: number,
): { list: string[]; count: number } {
  const all = new Set<string>();
  let complete = true;
  let atLeast = 0;
  for (const p of parts) {
    for (const x of p.list) all.add(x);
    if (p.count > p.list.length) complete = false;
    atLeast = Math.max(atLeast, p.count);
  }
  const sorted = [...all].sort();
  return { list: sorted.slice(0, limit), count: complete ? all.size : Math.max(all.size, atLeast) };
}

interface RowParts {
  row: MergedRowSummary;
  peers: Map<string, PeerCount>;
  peerParts: { list: string[]; count: number }[];
  failing: string[];
}

interface RoleParts {
  role: string;
  hosts: { list: string[]; count: number }[];
  problems: number;
  flows: number;
  rows: Map<string, RowParts>;
  unexpected: Map<string, { port: UnexpectedPort; peers: { list: string[]; count: number }[] }>;
  /** Per port text: how many captures of this role listed it as never observed, per transport. */
  notSeen: Map<string, { port: NotSeenPort; tcp: number; udp: number }>;
  captures: number;
}

function mergeRow(into: RowParts, from: RowSummary, capture: string): void {
  const r = into.row;
  r.flows += from.flows;
  addTally(r.verdicts, from.verdicts);
  addTally(r.network, from.network);
  addTally(r.expectation, from.expectation);
  addTally(r.app_outcome, from.app_outcome);
  if (STATUS_RANK[from.status] < STATUS_RANK[r.status]) r.status = from.status;
  for (const p of from.problem_peers) {
    const key = `${p.peer}|${p.verdict}`;
    const have = into.peers.get(key);
    if (have) have.flows += p.flows;
    else into.peers.set(key, { ...p });
  }
  into.peerParts.push({
    list: [...new Set(from.problem_peers.map((p) => p.peer))],
    count: from.problem_peer_count,
  });
  if (
    from.first_failure !== undefined &&
    (r.first_failure === undefined || from.first_failure.ts < r.first_failure.ts)
  )
    r.first_failure = { ...from.first_failure };
  if (from.status === 'problem') into.failing.push(capture);
}

function newRow(from: RowSummary): RowParts {
  const row: MergedRowSummary = {
    ...from,
    ids: [...from.ids],
    services: [...from.services],
    ...emptyRowTallies(),
    failing_captures: [],
    failing_capture_count: 0,
  };
  delete row.first_failure;
  return { row, peers: new Map(), peerParts: [], failing: [] };
}

function mergeRoles(docs: readonly CaptureSummaryDoc[], limits: ListLimits): MergedRoleSummary[] {
  const roles = new Map<string, RoleParts>();
  for (const doc of docs) {
    for (const rs of doc.roles) {
      let acc = roles.get(rs.role);
      if (!acc) {
        acc = {
          role: rs.role,
          hosts: [],
          problems: 0,
          flows: 0,
          rows: new Map(),
          unexpected: new Map(),
          notSeen: new Map(),
          captures: 0,
        };
        roles.set(rs.role, acc);
      }
      acc.captures++;
      acc.hosts.push({ list: rs.hosts, count: rs.host_count });
      acc.problems += rs.problems;
      acc.flows += rs.flows;
      for (const row of rs.rows) {
        const key = `${row.id}|${row.transport}`;
        let parts = acc.rows.get(key);
        if (!parts) {
          parts = newRow(row);
          acc.rows.set(key, parts);
        }
        mergeRow(parts, row, doc.capture);
      }
      for (const u of rs.unexpected) {
        const key = `${u.proto}/${u.port}/${u.direction}`;
        let have = acc.unexpected.get(key);
        if (!have) {
          have = { port: { ...u, flows: 0, answered: 0, peers: [], peer_count: 0 }, peers: [] };
          acc.unexpected.set(key, have);
        }
        have.port.flows += u.flows;
        have.port.answered += u.answered;
        if (u.first_ts < have.port.first_ts) have.port.first_ts = u.first_ts;
        have.peers.push({ list: u.peers, count: u.peer_count });
      }
      for (const p of rs.not_seen) {
        let have = acc.notSeen.get(p.ports);
        if (!have) acc.notSeen.set(p.ports, (have = { port: p, tcp: 0, udp: 0 }));
        if (p.transport !== 'udp') have.tcp++;
        if (p.transport !== 'tcp') have.udp++;
      }
    }
  }

  const out: MergedRoleSummary[] = [];
  for (const acc of roles.values()) {
    const rows: MergedRowSummary[] = [];
    for (const parts of acc.rows.values()) {
      const r = parts.row;
      r.problem_peers = [...parts.peers.values()]
        .sort(
          (a, b) => b.flows - a.flows || a.peer.localeCompare(b.peer) || a.verdict.localeCompare(b.verdict),
        )
        .slice(0, limits.peers);
      r.problem_peer_count = unite(parts.peerParts, 0).count;
      const failing = [...new Set(parts.failing)].sort();
      r.failing_captures = failing.slice(0, MAX_FAILING_CAPTURES);
      r.failing_capture_count = failing.length;
      if (hasProblem(r.verdicts)) r.status = 'problem';
      rows.push(r);
    }
    rows.sort(
      (a, b) =>
        STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
        problemCount(b.verdicts) - problemCount(a.verdicts) ||
        a.id.localeCompare(b.id) ||
        a.transport.localeCompare(b.transport),
    );
    const unexpected = [...acc.unexpected.values()]
      .map(({ port, peers }) => {
        const u = unite(peers, limits.peers);
        return { ...port, peers: u.list, peer_count: u.count };
      })
      .sort((a, b) => b.flows - a.flows || a.port - b.port || a.proto.localeCompare(b.proto));
    // Never observed overall: every capture that had the role listed the port (per transport).
    const notSeen: NotSeenPort[] = [];
    for (const { port, tcp, udp } of acc.notSeen.values()) {
      const t = tcp === acc.captures;
      const u = udp === acc.captures;
      if (t || u) notSeen.push({ ...port, transport: t && u ? 'both' : t ? 'tcp' : 'udp' });
    }
    const hosts = unite(acc.hosts, limits.hosts);
    out.push({
      role: acc.role,
      hosts: hosts.list,
      host_count: hosts.count,
      problems: acc.problems,
      flows: acc.flows,
      rows,
      unexpected,
      not_seen: notSeen,
    });
  }
  return out.sort((a, b) => Number(b.problems > 0) - Number(a.problems > 0) || a.role.localeCompare(b.role));
}

function overview(doc: CaptureSummaryDoc): CaptureOverview {
  const s = doc.summary;
  const failing: string[] = [];
  for (const rs of doc.roles)
    for (const row of rs.rows)
      if (row.status === 'problem') failing.push(`${rs.role} ${row.transport} ${row.ports}`);
  const errors = s.captures.filter((c) => c.error !== undefined).map((c) => c.error as string);
  const o: CaptureOverview = {
    name: doc.capture,
    format: [...new Set(s.captures.map((c) => c.format))].join(', '),
    packets: s.packets,
    flows: s.flows,
    judged: s.judged,
    problems: s.problems,
    verdicts: { ...s.verdicts },
    failing,
    warnings: s.captures.reduce((n, c) => n + c.warnings, 0),
  };
  if (errors.length > 0) o.error = errors.join('; ');
  return o;
}

/**
 * Merges capture summaries into one report. The captures are taken in name order (then as given),
 * so the report does not depend on the order the summaries were made or listed in.
 */
export function mergeSummaries(
  input: readonly CaptureSummaryDoc[],
  tool: { name: string; version: string },
): MergedAnalysis {
  const docs = [...input].sort((a, b) => (a.capture < b.capture ? -1 : a.capture > b.capture ? 1 : 0));
  const notes: string[] = [];
  const catalogs = new Map<string, { product: string; title: string }>();
  for (const d of docs) catalogs.set(d.summary.catalog.product, d.summary.catalog);
  if (catalogs.size > 1)
    notes.push(
      `the captures were judged against different catalogs (${[...catalogs.keys()].join(', ')}): rows of the same id are counted together`,
    );
  const names = new Map<string, number>();
  for (const d of docs) names.set(d.capture, (names.get(d.capture) ?? 0) + 1);
  for (const [name, n] of names)
    if (n > 1) notes.push(`${name} appears ${n} times: each summary is counted (merge each capture once)`);

  const verdicts: Partial<Record<Verdict, number>> = {};
  const roleAddresses = new Map<string, Set<string>>();
  const inferred: RoleEvidence[] = [];
  const seenEvidence = new Set<string>();
  const sources = new Set<string>();
  const captures: CaptureInfo[] = [];
  let packets = 0;
  let flows = 0;
  let judged = 0;
  let problems = 0;
  let recognizerFaults = 0;
  let firstTs = Infinity;
  let lastTs = -Infinity;
  let noteCount = 0;
  for (const d of docs) {
    const s = d.summary;
    captures.push(...s.captures);
    packets += s.packets;
    flows += s.flows;
    judged += s.judged;
    problems += s.problems;
    recognizerFaults += s.recognizer_faults ?? 0;
    addTally(verdicts, s.verdicts);
    if (s.first_ts !== null && s.first_ts < firstTs) firstTs = s.first_ts;
    if (s.last_ts !== null && s.last_ts > lastTs) lastTs = s.last_ts;
    sources.add(s.topology.source);
    for (const [role, list] of Object.entries(s.topology.roles)) {
      let set = roleAddresses.get(role);
      if (!set) roleAddresses.set(role, (set = new Set()));
      for (const a of list) set.add(a);
    }
    for (const e of s.topology.inferred) {
      const key = `${e.role} ${e.address}`;
      if (seenEvidence.has(key)) continue;
      seenEvidence.add(key);
      inferred.push({ ...e, evidence: `${e.evidence} (in ${d.capture})` });
    }
    for (const note of s.notes) {
      noteCount++;
      if (notes.length < MAX_NOTES) notes.push(`${d.capture}: ${note}`);
    }
  }
  if (noteCount > MAX_NOTES) notes.push(`${noteCount - MAX_NOTES} more notes of single captures`);

  const merged: MergedFlow[] = [];
  let problemFlows = 0;
  for (const d of docs) {
    problemFlows += d.problem_flow_count;
    for (const f of d.problem_flows)
      if (merged.length < MERGED_MAX_FLOWS) merged.push({ ...f, capture: d.capture });
  }
  if (problemFlows > merged.length)
    notes.push(
      `${problemFlows - merged.length} of the ${problemFlows} problem flows are not listed (each summary carries up to ${SUMMARY_MAX_FLOWS}, the merged report up to ${MERGED_MAX_FLOWS}); the per-role counts include them`,
    );
  const first = docs[0]?.summary;
  const summary: AnalysisSummary = {
    tool,
    captures,
    packets,
    flows,
    first_ts: Number.isFinite(firstTs) ? firstTs : null,
    last_ts: Number.isFinite(lastTs) ? lastTs : null,
    catalog: first?.catalog ?? { product: '', title: '' },
    topology: {
      source: sources.size === 1 ? [...sources][0] : [...sources].sort().join('+') || 'none',
      roles: Object.fromEntries(
        [...roleAddresses].sort(([a], [b]) => a.localeCompare(b)).map(([r, set]) => [r, [...set]]),
      ),
      inferred,
    },
    judged,
    verdicts,
    problems,
    recognizer_faults: recognizerFaults,
    notes,
  };
  return {
    summary,
    roles: mergeRoles(docs, REPORT_LIST_LIMITS),
    calls: docs.flatMap((d) => d.calls),
    flows: merged,
    captures: docs.map(overview),
  };
}
