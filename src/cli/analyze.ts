/**
 * `lync-port-audit analyze`: flows with verdicts, per role, against the port catalog.
 * Wiring only: options → the analysis (verdict/analyze.ts) → the chosen report. Exit status: 0 when --fail-on finds nothing, 1 when it does,
 * 2 for usage or input errors (after printing whatever could be read).
 */
import { Option, type Command } from 'commander';
import { packageVersion } from './version.js';
import {
  TopologyError,
  emptyTopology,
  loadTopologyFile,
  mergeTopologies,
  topologyFromRoleOptions,
  type Topology,
} from '../topology/topology.js';
import { DEFAULT_MAX_RECORDS, analyzeCaptures } from '../verdict/analyze.js';
import { loadCatalogForAnalysis, type LoadedCatalog } from '../verdict/catalog-access.js';
import { addCatalogOptions, catalogSpec } from './catalog-options.js';
import { SUMMARY_LIST_LIMITS, captureSummary, mergeSummaries } from '../verdict/merge.js';
import { renderTable, terminalWidth } from '../report/table.js';
import { renderHtml } from '../report/html.js';
import { catalogFirewallRules } from '../report/html-firewall.js';
import { addFlowTableOptions } from './flows.js';
import { ndjsonWriter, openOutput } from './output.js';
import { positiveInt, type FlowTableCliOptions } from './options.js';
import { createProgress } from './progress.js';
import { heapTick } from './heap.js';
import { summaryLines } from './summary.js';
import { overlapNote } from '../flow/overlap.js';
import { failing, type FailOn } from './fail-on.js';
import { analyzeEach, defaultJobs } from './each.js';
import { InputError, expandInputs } from './inputs.js';
import { mergedFails, renderMerged } from './merge.js';
import { collectSelect, flowFilter } from './select.js';
import {
  describeWritten,
  openPcap,
  pcapFlow,
  writeFlowPackets,
  type PcapFlow,
} from '../report/write-pcap.js';
import type { PcapngWriter } from '../report/pcapng-writer.js';

type Format = 'table' | 'json' | 'ndjson' | 'html' | 'summary';

interface AnalyzeOptions extends FlowTableCliOptions {
  maxRecords?: number;
  topology?: string;
  role: string[];
  catalog?: string;
  product?: string;
  mediaPorts: string[];
  format: Format;
  out?: string;
  failOn: FailOn;
  infer?: boolean;
  each?: boolean;
  jobs?: number;
  writePcap?: string;
  select: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerAnalyze(program: Command): void {
  const base = program
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
    .option('--infer', 'also infer roles for hosts the topology does not mention');
  const cmd = addCatalogOptions(base)
    .option(
      '--media-ports <range>',
      'override a media port range, e.g. client-audio=50000-50019 or server-video=57501-65535 (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['table', 'json', 'ndjson', 'html', 'summary'])
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
        'exit with status 1 when flows have these verdicts: blocked (the network stopped them: blocked, refused, filtered, one-way), failed (the application failed: TLS alerts, ...), unexpected (unexpected, mismatch), any, none',
      )
        .choices(['blocked', 'failed', 'unexpected', 'any', 'none'])
        .default('none'),
    )
    .option(
      '--write-pcap <file>',
      "also write the packets of the problem flows (or those --select picks) as pcapng for Wireshark, each flow's first packet commented with its verdict and reason",
    )
    .option(
      '--select <what>',
      'which flows --write-pcap writes: verdict=blocked,refused, port=5061, proto=udp, role=front-end, or all (repeatable: all must match)',
      collectSelect,
      [],
    )
    .option(
      '--each',
      'analyse every capture (files, folders, quoted globs) on its own, several at once, then merge them per role',
    )
    .option(
      '-j, --jobs <n>',
      `captures analysed at once with --each (default: the number of cores, ${defaultJobs()} here)`,
      positiveInt('--jobs', 256),
    );
  addFlowTableOptions(cmd).action(async (captures: string[], opts: AnalyzeOptions) => {
    process.exitCode = await runAnalyze(captures, opts);
  });
}

function fail(message: string): number {
  process.stderr.write(`lync-port-audit: ${message}\n`);
  return 2;
}

export async function runAnalyze(captures: string[], opts: AnalyzeOptions): Promise<number> {
  // Catalog and topology first: a usage error should not cost a read of a 10 GB capture.
  let loaded: LoadedCatalog;
  try {
    loaded = loadCatalogForAnalysis(catalogSpec(opts), opts.mediaPorts ?? []);
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

  if (opts.each === true) {
    if (opts.writePcap !== undefined) return fail('--write-pcap cannot be combined with --each');
    return runAnalyzeEach(captures, opts, given);
  }
  // --write-pcap reads the captures a second time: files only, and the file is opened first.
  let pcap: PcapngWriter | undefined;
  if (opts.writePcap !== undefined) {
    if (captures.includes('-'))
      return fail('--write-pcap reads the captures twice, so it needs files, not standard input');
    try {
      pcap = openPcap(opts.writePcap, `lync-port-audit ${packageVersion()}`);
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  const selected = flowFilter(opts.select ?? []);
  const chosen: PcapFlow[] = [];
  const output = openOutput(opts.out);
  const writer = opts.format === 'ndjson' ? ndjsonWriter(output) : undefined;
  const progress = createProgress(opts.progress !== false);
  let failed = false;
  const run = await analyzeCaptures(captures, {
    catalog: loaded,
    topology: given,
    infer: opts.infer,
    maxRecords: opts.maxRecords,
    // A summary lists more peers and hosts per row, so that merging summaries stays exact.
    listLimits: opts.format === 'summary' ? SUMMARY_LIST_LIMITS : undefined,
    // NDJSON with a given topology streams each judged flow as it ends.
    stream: opts.format === 'ndjson',
    onJudged: (j, streamed) => {
      if (failing(j.verdict, opts.failOn)) failed = true;
      if (pcap !== undefined && selected(j)) chosen.push(pcapFlow(j));
      if (streamed) writer!.write(j);
    },
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    seed: opts.seed,
    keepDuplicates: opts.keepDuplicates,
    duplicateWindow: opts.duplicateWindow,
    tool: { name: 'lync-port-audit', version: packageVersion() },
    beforeRead: () => writer?.ready(),
    onProgress: (input, consumed, total) => {
      progress.update(input, consumed, total);
      heapTick();
    },
  });
  progress.stop();
  const { analysis } = run;

  if (writer) {
    for (const j of analysis.flows) writer.write(j);
    await writer.end();
  } else {
    const text =
      opts.format === 'summary'
        ? JSON.stringify(captureSummary(captures.join(', '), run)) + '\n'
        : opts.format === 'json'
          ? JSON.stringify(analysis, null, 2) + '\n'
          : opts.format === 'html'
            ? renderHtml(analysis, { firewallRules: catalogFirewallRules(loaded.catalog, given) })
            : renderTable(analysis, {
                width: terminalWidth(process.env, process.stdout.isTTY ? process.stdout.columns : undefined),
              });
    output.stream.write(text);
    await output.close();
  }
  for (const line of summaryLines(run.captures, run.stats, run.duplicates, undefined, run.recognizerFaults))
    process.stderr.write(line + '\n');
  for (const o of run.overlaps) process.stderr.write(`warning: ${overlapNote(o)}\n`);
  if (pcap !== undefined) {
    try {
      const written = await writeFlowPackets(pcap, [{ label: '', inputs: captures, flows: chosen }], {
        keepDuplicates: opts.keepDuplicates,
        duplicateWindow: opts.duplicateWindow,
      });
      pcap.close();
      process.stderr.write(describeWritten(written, opts.writePcap!) + '\n');
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  if (run.captures.some((c) => c.error !== undefined)) return 2;
  return failed ? 1 : 0;
}

/** `--each`: every capture on its own in worker threads, then merged (as `merge` does). */
async function runAnalyzeEach(captures: string[], opts: AnalyzeOptions, given: Topology): Promise<number> {
  if (opts.format === 'ndjson')
    return fail(
      '--format ndjson cannot be combined with --each: use --format summary (one JSON line per capture) or json',
    );
  let inputs: string[];
  try {
    inputs = expandInputs(captures);
  } catch (err) {
    if (err instanceof InputError) return fail(err.message);
    throw err;
  }
  const tool = { name: 'lync-port-audit', version: packageVersion() };
  const output = openOutput(opts.out);
  const { docs, failed } = await analyzeEach(
    inputs,
    (input, id) => ({
      kind: 'analyze',
      id,
      input,
      catalog: catalogSpec(opts),
      mediaPorts: opts.mediaPorts ?? [],
      topology: given,
      infer: opts.infer,
      maxRecords: opts.maxRecords,
      maxFlows: opts.maxFlows,
      tcpTimeout: opts.tcpTimeout,
      udpTimeout: opts.udpTimeout,
      seed: opts.seed,
      tool,
    }),
    { jobs: opts.jobs ?? defaultJobs(), progress: opts.progress !== false },
  );
  const merged = mergeSummaries(docs, tool);
  if (opts.format === 'summary') for (const d of docs) output.stream.write(JSON.stringify(d) + '\n');
  else output.stream.write(renderMerged(merged, opts.format));
  await output.close();
  process.stderr.write(
    `lync-port-audit: ${inputs.length} captures, ${failed.length} failed; ${merged.summary.packets} packets, ${merged.summary.flows} flows, ${merged.summary.problems} problems\n`,
  );
  for (const f of failed) process.stderr.write(`error: ${f.message}\n`);
  if (failed.length > 0) return 2;
  return mergedFails(merged, opts.failOn) ? 1 : 0;
}
