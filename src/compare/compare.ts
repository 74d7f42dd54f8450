/**
 * `compare A B`: two captures of the same traffic taken at two points of its path, as one report
 * in which every flow is counted once and says where on the path its packets died.
 *
 * Each capture is analysed as `analyze` does (verdict/analyze.ts), with a bounded fingerprint of
 * every packet kept on the side (evidence.ts); the flows and packets are matched across the two
 * (match.ts), the clock offset is estimated from the matched packets, and each flow's path is
 * judged (path.ts). The flow's verdict is the one the capture on its originator's side gave (what
 * the originator experienced), its reason extended with where it happened; the per-role tables
 * are built from these flows, so that each counts once.
 */
import { displayFilter } from '../flow/display-filter.js';
import type { FlowRecord } from '../flow/record.js';
import { RoleAggregator } from '../verdict/roles.js';
import {
  COMPARE_MAX_RECORDS,
  analyzeCaptures,
  type AnalyzeCapturesOptions,
  type AnalyzeCapturesResult,
} from '../verdict/analyze.js';
import { isProblem, type JudgedFlow, type Verdict } from '../verdict/types.js';
import type { AnalysisSummary } from '../verdict/analysis.js';
import { CaptureEvidence, DEFAULT_MAX_PACKETS, PacketKind } from './evidence.js';
import { matchFlows, sideFlows, type FlowPair } from './match.js';
import type { NatMapping } from './nat.js';
import { HostSides, judgePath, learnSides, pointName, type PathContext, type PathResult } from './path.js';
import type {
  CaptureSide,
  ComparedFlow,
  Comparison,
  InjectedPacket,
  PathFinding,
  Point,
  SideView,
} from './types.js';

export interface CompareOptions extends Omit<
  AnalyzeCapturesOptions,
  'stream' | 'onJudged' | 'onPacket' | 'stdin'
> {
  /** Which capture is nearer the client (default a, the first given). */
  clientSide?: Point;
  nat?: readonly NatMapping[];
  /** Packets of each capture kept for the comparison (evidence.ts). */
  maxPackets?: number;
  /** Called before each capture is read (the CLI's progress). */
  onCapture?: (point: Point, name: string) => void;
}

export interface CompareResult {
  comparison: Comparison;
  runs: Record<Point, AnalyzeCapturesResult>;
}

/** The flow as one capture saw it; a problem flow gets its Wireshark filter in each capture. */
function sideView(rec: JudgedFlow, problem: boolean): SideView {
  const filter = rec.display_filter ?? (problem ? displayFilter(rec) : undefined);
  return {
    ts: rec.ts,
    duration: rec.duration,
    first_frame: rec.first_frame,
    last_frame: rec.last_frame,
    orig_h: rec.orig_h,
    orig_p: rec.orig_p,
    resp_h: rec.resp_h,
    resp_p: rec.resp_p,
    conn_state: rec.conn_state,
    history: rec.history,
    orig_pkts: rec.orig_pkts,
    resp_pkts: rec.resp_pkts,
    verdict: rec.verdict,
    network: rec.network,
    ...(filter !== undefined ? { display_filter: filter } : {}),
  };
}

function quoteKey(point: Point, proto: string, h1: string, p1: number, h2: string, p2: number): string {
  const x = `${h1}|${p1}`;
  const y = `${h2}|${p2}`;
  return `${point}|${proto}|${x < y ? `${x}|${y}` : `${y}|${x}`}`;
}

const recordQuoteKey = (point: Point, r: FlowRecord): string =>
  quoteKey(point, r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p);

/** Which capture saw the flow start: the side of its originator, where it was seen there. */
function verdictSide(pair: FlowPair, result: PathResult, clientSide: Point): Point {
  const origin = result.origin;
  if (origin === 'a' && pair.a) return 'a';
  if (origin === 'b' && pair.b) return 'b';
  if (pair.a && pair.b) return clientSide;
  return pair.a ? 'a' : 'b';
}

export async function compareCaptures(a: string, b: string, opts: CompareOptions): Promise<CompareResult> {
  const clientSide = opts.clientSide ?? 'a';
  const max = opts.maxPackets ?? DEFAULT_MAX_PACKETS;
  const maxFlows = opts.maxRecords ?? COMPARE_MAX_RECORDS;
  const evA = new CaptureEvidence(max, maxFlows);
  const evB = new CaptureEvidence(max, maxFlows);
  const read = async (point: Point, input: string, ev: CaptureEvidence): Promise<AnalyzeCapturesResult> => {
    opts.onCapture?.(point, input);
    return analyzeCaptures([input], {
      ...opts,
      maxRecords: maxFlows,
      listLateProblems: false,
      onPacket: ev.observe,
    });
  };
  const runA = await read('a', a, evA);
  const runB = await read('b', b, evB);
  const flowsA = sideFlows('a', runA.analysis.flows, evA);
  const flowsB = sideFlows('b', runB.analysis.flows, evB);
  const { pairs, clock } = matchFlows(flowsA, flowsB, evA, evB, { nat: opts.nat ?? [], clientSide });
  const sides = new HostSides();
  for (const p of pairs) learnSides(p, evA, evB, sides);
  const span = (r: AnalyzeCapturesResult): { first: number; last: number } | null => {
    const s = r.spans[0];
    return s?.first != null && s.last != null ? { first: s.first, last: s.last } : null;
  };
  const spans = { a: span(runA), b: span(runB) };
  // Both spans on A's clock (B's moved back by the offset), then the time both ran, on each clock.
  const off = clock.offset ?? 0;
  const bOnA = spans.b && { first: spans.b.first - off, last: spans.b.last - off };
  const union =
    spans.a && bOnA && spans.a.first <= bOnA.last && bOnA.first <= spans.a.last
      ? { first: Math.min(spans.a.first, bOnA.first), last: Math.max(spans.a.last, bOnA.last) }
      : undefined;
  const ctx: PathContext = {
    evA,
    evB,
    windows: union ? { a: union, b: { first: union.first + off, last: union.last + off } } : spans,
    spans,
    ttls: { a: hostTtls(evA), b: hostTtls(evB) },
    offset: clock.offset ?? 0,
    clientSide,
    sides,
  };

  // ICMP errors first: one injected on the way is the answer to the flow it quotes.
  const isIcmpError = (p: FlowPair): boolean => (p.a ?? p.b)!.rec.icmp_quote !== undefined;
  const results = new Map<FlowPair, PathResult>();
  const injectedIcmp = new Map<string, InjectedPacket>();
  for (const p of pairs.filter(isIcmpError)) {
    const r = judgePath(p, ctx);
    results.set(p, r);
    if (!r.injected) continue;
    const q = (r.injected.seen_at === 'a' ? p.a : p.b)?.rec.icmp_quote;
    if (q)
      injectedIcmp.set(
        quoteKey(r.injected.seen_at, q.proto, q.orig_h, q.orig_p, q.resp_h, q.resp_p),
        r.injected,
      );
  }
  for (const p of pairs) {
    if (results.has(p)) continue;
    const quoted = (['a', 'b'] as const)
      .map((pt) => {
        const f = pt === 'a' ? p.a : p.b;
        return f ? injectedIcmp.get(recordQuoteKey(pt, f.rec)) : undefined;
      })
      .find((x) => x !== undefined);
    results.set(p, judgePath(p, ctx, quoted));
  }

  const flows: ComparedFlow[] = [];
  const findings: Partial<Record<PathFinding, number>> = {};
  const matched = { '5-tuple': 0, 'nat-mapping': 0, 'nat-fingerprint': 0 };
  let onlyA = 0;
  let onlyB = 0;
  for (const p of pairs) {
    const r = results.get(p)!;
    const from = verdictSide(p, r, clientSide);
    const rec = (from === 'a' ? p.a : p.b)!.rec;
    findings[r.path.finding] = (findings[r.path.finding] ?? 0) + 1;
    if (p.a && p.b) matched[p.matchedBy!]++;
    else if (p.a) onlyA++;
    else onlyB++;
    const noted = r.path.finding !== 'passed' && r.path.finding !== 'local';
    const flow: ComparedFlow = {
      ...rec,
      reason: noted ? `${rec.reason}; on the path: ${r.path.text}` : rec.reason,
      seen_at: [...(p.a ? (['a'] as const) : []), ...(p.b ? (['b'] as const) : [])],
      lost_a_to_b: r.lost.a_to_b.count,
      lost_b_to_a: r.lost.b_to_a.count,
      ...(r.lost.a_to_b.firstFrame !== undefined
        ? { lost_a_to_b_first_frame: r.lost.a_to_b.firstFrame }
        : {}),
      ...(r.lost.b_to_a.firstFrame !== undefined
        ? { lost_b_to_a_first_frame: r.lost.b_to_a.firstFrame }
        : {}),
      injected: r.injected !== undefined,
      ...(r.injected ? { injected_by: r.injected } : {}),
      path: r.path,
      verdict_from: from,
      ...(p.a ? { a: sideView(p.a.rec, isProblem(rec.verdict)) } : {}),
      ...(p.b ? { b: sideView(p.b.rec, isProblem(rec.verdict)) } : {}),
    };
    flows.push(flow);
  }
  flows.sort((x, y) => x.ts - y.ts);

  // Per role, each flow once.
  const aggregator = new RoleAggregator(opts.catalog.access);
  const verdicts: Partial<Record<Verdict, number>> = {};
  let judged = 0;
  let problems = 0;
  for (const f of flows) {
    aggregator.add(f);
    verdicts[f.verdict] = (verdicts[f.verdict] ?? 0) + 1;
    if (f.verdict !== 'outside') judged++;
    if (isProblem(f.verdict)) problems++;
  }
  const sa = runA.analysis.summary;
  const sb = runB.analysis.summary;
  const roleMap: Record<string, string[]> = {};
  for (const s of [sa, sb])
    for (const [role, addrs] of Object.entries(s.topology.roles))
      roleMap[role] = [...new Set([...(roleMap[role] ?? []), ...addrs])];
  for (const role of Object.keys(roleMap)) aggregator.declareRole(role);

  const captureSide = (
    point: Point,
    name: string,
    run: AnalyzeCapturesResult,
    ev: CaptureEvidence,
  ): CaptureSide => {
    const s = run.analysis.summary;
    return {
      name,
      side: point === clientSide ? 'client' : 'server',
      packets: s.packets,
      flows: s.flows,
      first_ts: span(run)?.first ?? null,
      last_ts: span(run)?.last ?? null,
      compared_packets: ev.count,
    };
  };
  const notes: string[] = [];
  if (!union && spans.a && spans.b)
    notes.push(`the two captures do not overlap in time: no packet can be judged lost between them`);
  const clockText =
    clock.offset === null
      ? 'clock offset: unknown (no packet was seen at both points)'
      : `clock offset: ${pointName('b', clientSide)} runs ${formatOffset(clock.offset)} against ${pointName('a', clientSide)}, from ${clock.packets} packets seen at both points${clock.transit !== undefined ? `; one-way transit between the points ${formatOffset(clock.transit, false)}` : ''}`;
  for (const [point, ev, name] of [
    ['a', evA, a],
    ['b', evB, b],
  ] as const)
    if (ev.dropped > 0)
      notes.push(
        `${name}: only its first ${ev.count} packets were compared (--max-packets); the ${ev.dropped} after them count in the flows, and losses after ${pointName(point, clientSide)} stopped keeping them are not judged`,
      );
  for (const [run, name] of [
    [runA, a],
    [runB, b],
  ] as const) {
    const unlisted = run.analysis.summary.flows - run.analysis.flows.length;
    if (unlisted > 0)
      notes.push(
        `${name}: ${unlisted} flows beyond --max-records ${maxFlows} were not compared and are not counted in this report (raise --max-records)`,
      );
  }
  for (const [s, name] of [
    [sa, a],
    [sb, b],
  ] as const)
    for (const n of s.notes) if (!/ flows beyond --max-records /.test(n)) notes.push(`${name}: ${n}`);
  const nat = (opts.nat ?? []).map((m) => m.text);
  // Ctrl-C during either read: the comparison covers what both had read, and says so first.
  const partial = sa.partial === true || sb.partial === true;
  if (partial) {
    const stopped = [sa, sb].flatMap((s) => s.captures.filter((c) => c.stopped === true));
    const unread = (
      [
        [sa, a],
        [sb, b],
      ] as const
    )
      .filter(([s]) => s.captures.length === 0)
      .map(([, name]) => name);
    notes.unshift(
      `partial report: the read was stopped${stopped.map((c) => ` after ${c.packets} packets of ${c.name}`).join(' and')}` +
        `${unread.length > 0 ? `; ${unread.join(' and ')} not read` : ''}; packets not read count as neither seen nor lost`,
    );
  }
  const faults = (sa.recognizer_faults ?? 0) + (sb.recognizer_faults ?? 0);
  const summary: AnalysisSummary = {
    tool: sa.tool,
    captures: [...sa.captures, ...sb.captures],
    ...(partial ? { partial: true } : {}),
    packets: sa.packets + sb.packets,
    ...((sa.duplicates_dropped ?? 0) + (sb.duplicates_dropped ?? 0) > 0
      ? { duplicates_dropped: (sa.duplicates_dropped ?? 0) + (sb.duplicates_dropped ?? 0) }
      : {}),
    flows: flows.length,
    first_ts: minOf(sa.first_ts, sb.first_ts),
    last_ts: maxOf(sa.last_ts, sb.last_ts),
    catalog: sa.catalog,
    topology: {
      source: sa.topology.source,
      roles: roleMap,
      inferred: [...sa.topology.inferred, ...sb.topology.inferred],
    },
    judged,
    verdicts,
    problems,
    ...(faults > 0 ? { recognizer_faults: faults } : {}),
    notes,
  };
  const comparison: Comparison = {
    summary,
    compare: {
      a: captureSide('a', a, runA, evA),
      b: captureSide('b', b, runB, evB),
      clock_offset: clock.offset,
      clock_offset_packets: clock.packets,
      clock_text: clockText,
      ...(clock.transit !== undefined ? { transit: clock.transit } : {}),
      matched,
      only_a: onlyA,
      only_b: onlyB,
      nat,
      findings,
    },
    roles: aggregator.summaries(opts.listLimits),
    // The call view of the capture nearer the client (the other sees the same calls).
    calls: (clientSide === 'a' ? runA : runB).analysis.calls,
    flows,
  };
  return { comparison, runs: { a: runA, b: runB } };
}

/** Each host's TTL at one point: its first packet that is neither a reset nor an ICMP error. */
function hostTtls(ev: CaptureEvidence): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < ev.count; i++) {
    const k = ev.kind[i];
    if (k === PacketKind.Rst || k === PacketKind.IcmpError) continue;
    const f = ev.flows[ev.flow[i]];
    const host = ev.dir[i] === 0 ? f.src : f.dst;
    if (!out.has(host)) out.set(host, ev.ttl[i]);
  }
  return out;
}

function minOf(x: number | null, y: number | null): number | null {
  return x === null ? y : y === null ? x : Math.min(x, y);
}

function maxOf(x: number | null, y: number | null): number | null {
  return x === null ? y : y === null ? x : Math.max(x, y);
}

/** Seconds with a sign, to the microsecond ("+0.000012 s", "-3600.250 s"); never "-0.000000". */
export function formatOffset(seconds: number, signed = true): string {
  const digits = Math.abs(seconds) >= 1 ? 3 : 6;
  const text = Math.abs(seconds).toFixed(digits);
  const zero = Number(text) === 0;
  const sign = seconds < 0 && !zero ? '-' : signed ? '+' : '';
  return `${sign}${text} s`;
}
