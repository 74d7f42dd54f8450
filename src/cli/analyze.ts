/**
 * `lync-port-audit analyze`: flows with verdicts, per role, against the port catalog.
 * Wiring only: capture → flows (with the recognize stage) → topology (given or inferred) →
 * verdicts → the chosen report. Exit status: 0 when --fail-on finds nothing, 1 when it does,
 * 2 for usage or input errors (after printing whatever could be read).
 */
import { Option, type Command } from 'commander';
import { packageVersion } from './version.js';
import { readFlows } from '../flow/read.js';
import { toFlowRecord, type FlowRecord } from '../flow/record.js';
import { RECOGNIZERS, attachApp, createAppObserver } from '../recognize/index.js';
import { buildCalls } from '../recognize/calls.js';
import { linkRpcFlows } from '../recognize/rpc-links.js';
import { RoleInference } from '../topology/infer.js';
import {
  RoleResolver,
  TopologyError,
  emptyTopology,
  loadTopologyFile,
  mergeTopologies,
  topologyFromRoleOptions,
  type Topology,
} from '../topology/topology.js';
import type { Analysis, AnalysisSummary } from '../verdict/analysis.js';
import { loadCatalogForAnalysis, type LoadedCatalog } from '../verdict/catalog-access.js';
import { judgeFlow } from '../verdict/judge.js';
import { RoleAggregator } from '../verdict/roles.js';
import {
  CONNECTIVITY_PROBLEMS,
  EXPECTATION_PROBLEMS,
  isProblem,
  type JudgedFlow,
  type Verdict,
} from '../verdict/types.js';
import { renderTable } from '../report/table.js';
import { renderHtml } from '../report/html.js';
import { addFlowTableOptions } from './flows.js';
import { ndjsonWriter, openOutput } from './output.js';
import { positiveInt, type FlowTableCliOptions } from './options.js';
import { createProgress } from './progress.js';
import { heapTick } from './heap.js';
import { summaryLines } from './summary.js';

type Format = 'table' | 'json' | 'ndjson' | 'html';
type FailOn = 'blocked' | 'unexpected' | 'any' | 'none';

/** Flow records kept for the report and the cross-flow steps (about 3 KB each). */
const DEFAULT_MAX_RECORDS = 100_000;

function withInferred(given: Topology, inferred: Topology): Topology {
  return given.source === 'none' ? inferred : mergeTopologies(given, inferred);
}

interface AnalyzeOptions extends FlowTableCliOptions {
  maxRecords?: number;
  topology?: string;
  role: string[];
  catalog?: string;
  mediaPorts: string[];
  format: Format;
  out?: string;
  failOn: FailOn;
  infer?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerAnalyze(program: Command): void {
  const cmd = program
    .command('analyze')
    .description(
      'judge every flow against the Lync port catalog, per server role: what worked, what was blocked, what nobody expected',
    )
    .argument('<capture...>', 'pcap or pcapng files, plain or gzip; "-" reads standard input')
    .option(
      '-t, --topology <file>',
      'topology file (JSON or YAML): {"roles": {"front-end": ["10.0.0.10"], "client": ["10.1.0.0/16"]}}',
    )
    .option(
      '-r, --role <role=addr>',
      'give a role to addresses or CIDR blocks, e.g. front-end=10.0.0.10 (repeatable)',
      collect,
      [],
    )
    .option('--infer', 'also infer roles for hosts the topology does not mention')
    .option('-c, --catalog <name|file>', 'built-in catalog name or a catalog file', 'lync2010')
    .option(
      '--media-ports <range>',
      'override a media port range, e.g. client-audio=50000-50019 or server-video=57501-65535 (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['table', 'json', 'ndjson', 'html'])
        .default('table'),
    )
    .option('-o, --out <file>', 'write the report to a file instead of standard output')
    .option(
      '--max-records <n>',
      `flows kept for the report (beyond, they are judged as they end and counted, not listed; default ${DEFAULT_MAX_RECORDS})`,
      positiveInt('--max-records', 50_000_000),
    )
    .addOption(
      new Option(
        '--fail-on <what>',
        'exit with status 1 when flows have these verdicts: blocked (blocked, refused, filtered, one-way), unexpected (unexpected, mismatch), any, none',
      )
        .choices(['blocked', 'unexpected', 'any', 'none'])
        .default('none'),
    );
  addFlowTableOptions(cmd).action(async (captures: string[], opts: AnalyzeOptions) => {
    process.exitCode = await runAnalyze(captures, opts);
  });
}

function failing(verdict: Verdict, failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  if (failOn === 'blocked') return CONNECTIVITY_PROBLEMS.has(verdict);
  if (failOn === 'unexpected') return EXPECTATION_PROBLEMS.has(verdict);
  return isProblem(verdict);
}

function fail(message: string): number {
  process.stderr.write(`lync-port-audit: ${message}\n`);
  return 2;
}

export async function runAnalyze(captures: string[], opts: AnalyzeOptions): Promise<number> {
  // Catalog and topology first: a usage error should not cost a read of a 10 GB capture.
  let loaded: LoadedCatalog;
  try {
    loaded = loadCatalogForAnalysis(opts.catalog ?? 'lync2010', opts.mediaPorts ?? []);
  } catch (err) {
    return fail((err as Error).message);
  }
  let given: Topology = emptyTopology();
  try {
    if (opts.topology) given = loadTopologyFile(opts.topology, loaded.roleIds);
    if (opts.role.length > 0)
      given = mergeTopologies(given, topologyFromRoleOptions(opts.role, loaded.roleIds));
  } catch (err) {
    if (err instanceof TopologyError) return fail(err.message);
    throw err;
  }
  const inferring = given.source === 'none' || opts.infer === true;
  const streaming = opts.format === 'ndjson' && !inferring;

  const output = openOutput(opts.out);
  const writer = opts.format === 'ndjson' ? ndjsonWriter(output) : undefined;
  const progress = createProgress(opts.progress !== false);
  const apps = createAppObserver(RECOGNIZERS);
  const inference = new RoleInference();
  const seed = opts.seed ?? 0;
  const records: FlowRecord[] = [];
  const judged: JudgedFlow[] = [];
  const resolver = new RoleResolver(given);
  const aggregator = new RoleAggregator(loaded.access);
  let firstTs = Infinity;
  let lastTs = -Infinity;
  const verdicts: Partial<Record<Verdict, number>> = {};
  let problems = 0;
  let failed = false;
  /** Every judged flow goes through here: counted, aggregated per role, then written or kept. */
  const take = (j: JudgedFlow, keep = true): void => {
    verdicts[j.verdict] = (verdicts[j.verdict] ?? 0) + 1;
    if (isProblem(j.verdict)) problems++;
    if (failing(j.verdict, opts.failOn)) failed = true;
    aggregator.add(j);
    if (streaming) writer!.write(j);
    else if (keep) judged.push(j);
  };
  // Past --max-records flows, memory must stop growing: the topology is fixed (inferred from the
  // evidence so far), and each further flow is judged as it ends, counted, and not kept.
  const maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  let frozen: Topology | undefined;
  let overflowResolver: RoleResolver | undefined;
  let overflowed = 0;

  const result = await readFlows(captures, {
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    otherTimeout: opts.udpTimeout,
    isLikelyServerPort: (port) => (port > 0 && port < 1024) || loaded.serverPorts.has(port),
    observer: apps.observer,
    onFlow: (flow, now) => {
      const rec = attachApp(toFlowRecord(flow, seed), apps.finish(flow));
      if (rec.ts < firstTs) firstTs = rec.ts;
      if (rec.ts + rec.duration > lastTs) lastTs = rec.ts + rec.duration;
      if (inferring) inference.add(rec);
      // Streaming NDJSON with a given topology judges each flow as it ends (bounded memory, no
      // cross-flow links); every other report keeps the records for the cross-flow steps.
      if (streaming) take(judgeFlow(rec, { catalog: loaded.access, roles: resolver, captureEnd: now }));
      else if (records.length < maxRecords) records.push(rec);
      else {
        if (overflowResolver === undefined) {
          frozen = inferring ? withInferred(given, inference.infer(loaded.listenPorts)) : given;
          overflowResolver = new RoleResolver(frozen);
        }
        overflowed++;
        take(judgeFlow(rec, { catalog: loaded.access, roles: overflowResolver, captureEnd: now }), false);
      }
    },
    beforeRead: () => writer?.ready(),
    onProgress: (input, consumed, total) => {
      progress.update(input, consumed, total);
      heapTick();
    },
  });
  progress.stop();

  let topology = given;
  if (frozen !== undefined) topology = frozen;
  else if (inferring) topology = withInferred(given, inference.infer(loaded.listenPorts));
  // Cross-flow steps: DCE/RPC follow-on connections, and the call view from SIP and SDP.
  const rpcLinked = linkRpcFlows(records);
  const calls = buildCalls(records);
  const finalResolver = inferring ? new RoleResolver(topology) : resolver;
  for (const rec of records)
    take(judgeFlow(rec, { catalog: loaded.access, roles: finalResolver, captureEnd: lastTs }));
  records.length = 0;
  for (const e of topology.entries) aggregator.declareRole(e.role);

  const roles = aggregator.summaries();

  const notes: string[] = [];
  if (result.stats.evicted > 0)
    notes.push(
      `${result.stats.evicted} flows were written out early because more than ${opts.maxFlows ?? 'the default number of'} flows were live at once (--max-flows)`,
    );
  for (const c of result.captures)
    if (c.error) notes.push(`input error: ${c.error.message}; the report covers the packets before it`);
  if (rpcLinked > 0)
    notes.push(
      `${rpcLinked} flows go to ports the DCE/RPC endpoint mapper handed out; they are judged as its TCP 135 service`,
    );
  if (streaming) notes.push('streamed: DCE/RPC follow-on connections and calls are not linked across flows');
  if (overflowed > 0)
    notes.push(
      `${overflowed} flows beyond --max-records ${maxRecords} were judged as they ended: they count in the verdicts and roles but are not listed, and are not linked across flows` +
        (inferring ? '; roles were inferred from the flows before them' : ''),
    );
  if (inferring && topology.inferred.length === 0)
    notes.push('no roles could be inferred: give a topology with --topology or --role');

  const roleMap: Record<string, string[]> = {};
  for (const e of topology.entries) (roleMap[e.role] ??= []).push(e.prefix.text);
  const summary: AnalysisSummary = {
    tool: { name: 'lync-port-audit', version: packageVersion() },
    captures: result.captures.map((c) => ({
      name: c.name,
      format: c.gzip ? `gzip ${c.format}` : c.format,
      packets: c.packets,
      warnings: c.warningCount,
      ...(c.error ? { error: c.error.message } : {}),
    })),
    packets: result.stats.packets,
    flows: result.stats.flows,
    first_ts: Number.isFinite(firstTs) ? firstTs : null,
    last_ts: Number.isFinite(lastTs) ? lastTs : null,
    catalog: { product: loaded.product, title: loaded.title },
    topology: { source: topology.source, roles: roleMap, inferred: topology.inferred },
    verdicts,
    problems,
    notes,
  };
  const analysis: Analysis = { summary, roles, calls, flows: judged };

  if (opts.format === 'ndjson') {
    if (!streaming) for (const j of judged) writer!.write(j);
    await writer!.end();
  } else {
    const text =
      opts.format === 'json'
        ? JSON.stringify(analysis, null, 2) + '\n'
        : opts.format === 'html'
          ? renderHtml(analysis)
          : renderTable(analysis, { width: process.stdout.columns });
    output.stream.write(text);
    await output.close();
  }
  for (const line of summaryLines(result.captures, result.stats)) process.stderr.write(line + '\n');
  if (result.captures.some((c) => c.error !== undefined)) return 2;
  return failed ? 1 : 0;
}
