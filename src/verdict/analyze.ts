/**
 * The analysis pipeline as one library function: capture → flows (with the recognize stage) →
 * topology (given or inferred) → verdicts → per-role aggregates. `lync-port-audit analyze` is this
 * function plus option parsing and a report; a program that wants the same answer calls it directly.
 */
import type { CaptureSummary } from '../capture/reader.js';
import type { FlowRecord } from '../flow/record.js';
import type { FlowTableStats, PacketObserver } from '../flow/table.js';
import type { InputSpan } from '../flow/read.js';
import { OverlapEvidence, overlapNote, type InputOverlap } from '../flow/overlap.js';
import { displayFilter } from '../flow/display-filter.js';
import { readFlowRecords } from '../recognize/records.js';
import { buildCalls, type Call } from '../recognize/calls.js';
import { addFault, faultMessage, faultWarning, type RecognizerFaults } from '../recognize/faults.js';
import { linkRpcFlows } from '../recognize/rpc-links.js';
import type { Recognizer } from '../recognize/types.js';
import { RoleInference } from '../topology/infer.js';
import { RoleResolver, emptyTopology, mergeTopologies, type Topology } from '../topology/topology.js';
import type { Analysis, AnalysisSummary } from './analysis.js';
import type { LoadedCatalog } from './catalog-access.js';
import { HostTtls } from './answered-by.js';
import { judgeRecord } from './judge.js';
import { RoleAggregator, type ListLimits } from './roles.js';
import { ScanDetector, scanNote } from './scan.js';
import { isProblem, type JudgedFlow, type Verdict } from './types.js';

/**
 * Flow records kept for the report and the cross-flow steps (about 3 KB each, judged: twice
 * that). 100,000 made `analyze --format json` of the 1M-SYN scan peak at 832 MB; beyond this many,
 * flows are judged as they end and counted in every tally (docs/decisions.md, "analyze memory").
 */
export const DEFAULT_MAX_RECORDS = 10_000;

/** `compare` pairs every kept flow's packets, so it keeps more (its own memory bound, --max-records). */
export const COMPARE_MAX_RECORDS = 100_000;

export interface AnalyzeCapturesOptions {
  catalog: LoadedCatalog;
  /** The roles given by the user (a topology file, --role); empty to infer them all. */
  topology?: Topology;
  /** Also infer roles for hosts the given topology does not mention (always on when it is empty). */
  infer?: boolean;
  /** Flow records kept for the listing and the cross-flow steps; beyond, flows are judged as they end. */
  maxRecords?: number;
  /**
   * List the problem flows judged beyond maxRecords too (up to as many again; default true).
   * `compare` says no: it pairs only the flows whose packets it kept.
   */
  listLateProblems?: boolean;
  /**
   * Streaming: each judged flow is handed to `onJudged` as it ends and none is kept (only with a
   * given topology and no inference: the cross-flow links are then not made).
   */
  stream?: boolean;
  /**
   * Every judged flow, in the order it was judged; `streamed` is true when the run streams (the
   * flow is handed over as it ends and not kept in analysis.flows).
   */
  onJudged?: (flow: JudgedFlow, streamed: boolean) => void;
  maxFlows?: number;
  tcpTimeout?: number;
  udpTimeout?: number;
  /** Community ID seed. */
  seed?: number;
  /** Count exact duplicate frames (a mirror of both ports of a link) instead of dropping them. */
  keepDuplicates?: boolean;
  /** Seconds within which an identical frame is a duplicate (flow/duplicates.ts). */
  duplicateWindow?: number;
  /** The recognizers offered every flow's payload (default: all of them). */
  recognizers?: readonly Recognizer[];
  /** How many peers and hosts the role summaries list (default: the report's 10 and 50). */
  listLimits?: ListLimits;
  tool?: { name: string; version: string };
  beforeRead?: () => Promise<void> | undefined;
  onProgress?: (input: string, consumed: number, total: number | undefined) => void;
  stdin?: NodeJS.ReadableStream;
  /**
   * Stops the read (Ctrl-C): the flows read so far are judged and reported, the summary says
   * `partial` with the signal's reason (an Error's message) in its first note.
   */
  signal?: AbortSignal;
  /** Every packet attributed to a flow (`compare` fingerprints them: src/compare/evidence.ts). */
  onPacket?: PacketObserver;
}

export interface AnalyzeCapturesResult {
  analysis: Analysis;
  /** True when the flows were handed to onJudged as they ended and not kept in analysis.flows. */
  streamed: boolean;
  captures: CaptureSummary[];
  stats: FlowTableStats;
  /** Exact duplicate frames dropped before decoding. */
  duplicates: number;
  /** Each input's time span and first frame. */
  spans: InputSpan[];
  /** Inputs that look like two captures of the same traffic (a note says so; `compare` is for them). */
  overlaps: InputOverlap[];
  /** Recogniser and cross-flow step faults (each cost one flow's details, or one step's results). */
  recognizerFaults: RecognizerFaults;
}

/** Notes listing the first recogniser faults (the reports show notes; stderr has them all). */
const FAULT_NOTES = 5;

/**
 * Runs a cross-flow step of the recognize stage: a fault in it costs its results (`fallback`),
 * counted and reported with the recogniser faults, never the analysis.
 */
function crossFlow<T>(faults: RecognizerFaults, name: 'calls' | 'rpc-links', step: () => T, fallback: T): T {
  try {
    return step();
  } catch (err) {
    addFault(faults, {
      recognizer: name,
      stage: 'cross-flow',
      frame: 0,
      flow: '',
      message: faultMessage(err),
    });
    return fallback;
  }
}

function withInferred(given: Topology, inferred: Topology): Topology {
  return given.source === 'none' ? inferred : mergeTopologies(given, inferred);
}

export async function analyzeCaptures(
  inputs: string[],
  opts: AnalyzeCapturesOptions,
): Promise<AnalyzeCapturesResult> {
  const loaded = opts.catalog;
  const given = opts.topology ?? emptyTopology();
  const inferring = given.source === 'none' || opts.infer === true;
  const streaming = opts.stream === true && !inferring;
  const inference = new RoleInference(loaded.listenPorts);
  const seed = opts.seed ?? 0;
  const records: FlowRecord[] = [];
  const judged: JudgedFlow[] = [];
  const resolver = new RoleResolver(given);
  const aggregator = new RoleAggregator(loaded.access);
  const ttls = new HostTtls();
  const scans = new ScanDetector();
  const overlap = new OverlapEvidence();
  let firstTs = Infinity;
  let lastTs = -Infinity;
  const verdicts: Partial<Record<Verdict, number>> = {};
  let problems = 0;
  let judgedCount = 0;
  /** Every judged flow goes through here: counted, aggregated per role, then handed on or kept. */
  const take = (j: JudgedFlow, keep = true): void => {
    verdicts[j.verdict] = (verdicts[j.verdict] ?? 0) + 1;
    if (j.verdict !== 'outside') judgedCount++;
    if (isProblem(j.verdict)) {
      problems++;
      // Every problem says how to find it in Wireshark (with its first_frame and last_frame).
      j.display_filter = displayFilter(j);
    }
    aggregator.add(j);
    opts.onJudged?.(j, streaming);
    if (keep && !streaming) judged.push(j);
  };
  // Past maxRecords flows, memory must stop growing: the topology is fixed (inferred from the
  // evidence so far), and each further flow is judged as it ends, counted, and not kept.
  const maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  let frozen: Topology | undefined;
  let overflowResolver: RoleResolver | undefined;
  let overflowed = 0;
  // Problem flows past maxRecords are still listed, up to as many again, after the kept ones: a
  // failing flow is never only a count. (The records themselves are not kept: no cross-flow links.)
  const lateProblems: JudgedFlow[] = [];
  let lateProblemCount = 0;
  const listLate = opts.listLateProblems !== false && !streaming;

  const result = await readFlowRecords(inputs, {
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    otherTimeout: opts.udpTimeout,
    isLikelyServerPort: (port) => (port > 0 && port < 1024) || loaded.serverPorts.has(port),
    seed,
    recognizers: opts.recognizers,
    stdin: opts.stdin,
    keepDuplicates: opts.keepDuplicates,
    duplicateWindow: opts.duplicateWindow,
    onPacket: opts.onPacket,
    onRecord: (rec, now) => {
      if (rec.ts < firstTs) firstTs = rec.ts;
      if (rec.ts + rec.duration > lastTs) lastTs = rec.ts + rec.duration;
      if (inferring) inference.add(rec);
      ttls.add(rec);
      scans.add(rec);
      if (inputs.length > 1) overlap.add(rec);
      // Streaming with a given topology judges each flow as it ends (bounded memory, no
      // cross-flow links); otherwise the records are kept for the cross-flow steps.
      if (streaming)
        take(judgeRecord(rec, { catalog: loaded.access, roles: resolver, captureEnd: now, ttls }));
      else if (records.length < maxRecords) records.push(rec);
      else {
        if (overflowResolver === undefined) {
          frozen = inferring ? withInferred(given, inference.infer(loaded.listenPorts)) : given;
          overflowResolver = new RoleResolver(frozen);
        }
        overflowed++;
        const j = judgeRecord(rec, {
          catalog: loaded.access,
          roles: overflowResolver,
          captureEnd: now,
          ttls,
        });
        take(j, false);
        if (isProblem(j.verdict)) {
          lateProblemCount++;
          if (listLate && lateProblems.length < maxRecords) lateProblems.push(j);
        }
      }
    },
    beforeRead: opts.beforeRead,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });

  let topology = given;
  if (frozen !== undefined) topology = frozen;
  else if (inferring) topology = withInferred(given, inference.infer(loaded.listenPorts));
  // Cross-flow steps: DCE/RPC follow-on connections, and the call view from SIP and SDP.
  const faults = result.recognizerFaults;
  const rpcLinked = crossFlow(faults, 'rpc-links', () => linkRpcFlows(records), 0);
  const calls = crossFlow<Call[]>(faults, 'calls', () => buildCalls(records), []);
  const finalResolver = inferring ? new RoleResolver(topology) : resolver;
  for (const rec of records)
    take(judgeRecord(rec, { catalog: loaded.access, roles: finalResolver, captureEnd: lastTs, ttls }));
  records.length = 0;
  for (const e of topology.entries) aggregator.declareRole(e.role);

  const roles = aggregator.summaries(opts.listLimits);

  const notes: string[] = [];
  const stopped = result.captures.find((c) => c.stopped === true);
  if (stopped !== undefined) {
    const reason = opts.signal?.reason;
    notes.push(
      `partial report: ${reason instanceof Error ? reason.message : 'the read was stopped'} after ${stopped.packets} packets of ${stopped.name} (byte ${stopped.bytesRead}); ` +
        'only the packets read before are judged, flows still open then as they were',
    );
  }
  const overlaps = overlap.overlaps(result.spans);
  for (const o of overlaps) notes.push(overlapNote(o));
  if (result.stats.evicted > 0)
    notes.push(
      `${result.stats.evicted} flows were written out early because more than ${opts.maxFlows ?? 'the default number of'} flows were live at once (--max-flows)`,
    );
  for (const c of result.captures)
    if (c.error) notes.push(`input error: ${c.error.message}; the report covers the packets before it`);
  if (result.duplicates > 0)
    notes.push(
      `${result.duplicates} exact duplicate frames were dropped (a mirror that copies both directions of a link sends each packet twice; --keep-duplicates counts them)`,
    );
  if (rpcLinked > 0)
    notes.push(
      `${rpcLinked} flows go to ports the DCE/RPC endpoint mapper handed out; they are judged as its TCP 135 service`,
    );
  if (streaming) notes.push('streamed: DCE/RPC follow-on connections and calls are not linked across flows');
  if (overflowed > 0) {
    const unlistedProblems = lateProblemCount - lateProblems.length;
    notes.push(
      `${judged.length + lateProblems.length} of ${judged.length + overflowed} flows listed; ${overflowed} flows beyond --max-records ${maxRecords} were judged as they ended: they count in the verdicts and roles, ` +
        (lateProblems.length > 0
          ? `the ${lateProblems.length} problem flows among them are listed after the others${unlistedProblems > 0 ? ` (the first ${lateProblems.length}: ${unlistedProblems} more are counted only)` : ''}, the rest are not, `
          : 'but are not listed, ') +
        'and none is linked across flows' +
        (inferring ? '; roles were inferred from the flows before them' : ''),
    );
    judged.push(...lateProblems);
  }
  if (inferring && inference.capped()) {
    const d = inference.dropped;
    notes.push(
      `role inference kept bounded evidence: ${d.listens + d.contacts + d.hosts} flows' evidence was not kept (${d.hosts} from hosts beyond the first 100,000, ${d.contacts + d.listens} beyond the evidence bounds); roles rest on the evidence kept`,
    );
  }
  for (const scan of scans.scans().slice(0, 5)) notes.push(scanNote(scan));
  for (const f of faults.first.slice(0, FAULT_NOTES)) notes.push(faultWarning(f));
  if (faults.count > FAULT_NOTES)
    notes.push(`${faults.count - FAULT_NOTES} more recogniser faults (each listed on stderr up to 20)`);
  if (inferring && topology.inferred.length === 0)
    notes.push('no roles could be inferred: give a topology with --topology or --role');

  const roleMap: Record<string, string[]> = {};
  for (const e of topology.entries) (roleMap[e.role] ??= []).push(e.prefix.text);
  const summary: AnalysisSummary = {
    tool: opts.tool ?? { name: 'lync-port-audit', version: '' },
    captures: result.captures.map((c) => ({
      name: c.name,
      format: c.gzip ? `gzip ${c.format}` : c.format,
      packets: c.packets,
      warnings: c.warningCount,
      ...(c.error ? { error: c.error.message } : {}),
      ...(c.stopped === true ? { stopped: true } : {}),
    })),
    ...(stopped !== undefined ? { partial: true } : {}),
    packets: result.stats.packets + result.duplicates,
    ...(result.duplicates > 0 ? { duplicates_dropped: result.duplicates } : {}),
    flows: result.stats.flows,
    first_ts: Number.isFinite(firstTs) ? firstTs : null,
    last_ts: Number.isFinite(lastTs) ? lastTs : null,
    catalog: { product: loaded.product, title: loaded.title },
    topology: { source: topology.source, roles: roleMap, inferred: topology.inferred },
    judged: judgedCount,
    verdicts,
    problems,
    recognizer_faults: faults.count,
    notes,
  };
  return {
    analysis: { summary, roles, calls, flows: judged },
    streamed: streaming,
    captures: result.captures,
    stats: result.stats,
    duplicates: result.duplicates,
    spans: result.spans,
    overlaps,
    recognizerFaults: faults,
  };
}
