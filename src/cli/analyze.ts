/**
 * `lync-port-audit analyze`: flows with verdicts, per role, against the port catalog.
 * Wiring only: options → the analysis (verdict/analyze.ts) → the chosen report. Exit status: 0 when --fail-on finds nothing, 1 when it does,
 * 2 for usage or input errors (after printing whatever could be read).
 */
import { Option, type Command } from 'commander';
import { packageVersion } from './version.js';
import type { Topology } from '../topology/topology.js';
import { DEFAULT_MAX_RECORDS, analyzeCaptures } from '../verdict/analyze.js';
import type { LoadedCatalog } from '../verdict/catalog-access.js';
import { addCatalogOptions, catalogSpec } from './catalog-options.js';
import { SUMMARY_LIST_LIMITS, captureSummary, mergeSummaries } from '../verdict/merge.js';
import { renderTable, terminalWidth } from '../report/table.js';
import { htmlPieces } from '../report/html.js';
import { catalogFirewallRules } from '../report/html-firewall.js';
import { addFlowTableOptions } from './flows.js';
import { ndjsonWriter, writePieces, type Output } from './output.js';
import { loadCatalogAndTopology, openReportOutputs } from './run-setup.js';
import { OUT_FILE_HELP, exitStatusHelp, sayLine, startRun, type Run } from './run.js';
import { OutputError } from '../report/output-file.js';
import { jsonReportPieces, toJson } from '../report/json.js';
import { plural } from '../report/format.js';
import { positiveInt, type FlowTableCliOptions } from './options.js';
import { createProgress } from './progress.js';
import { heapTick } from './heap.js';
import { summaryLines } from './summary.js';
import { overlapNote } from '../flow/overlap.js';
import { failing, type FailOn } from './fail-on.js';
import { analyzeEach, defaultJobs } from './each.js';
import { InputError, expandInputs } from './inputs.js';
import { mergedFails, mergedPieces, type MergedFormat } from './merge.js';
import { collectSelect, flowFilter } from './select.js';
import { describeWritten, pcapFlow, writeFlowPackets, type PcapFlow } from '../report/write-pcap.js';
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
  addFlowTableOptions(cmd)
    .addHelpText(
      'after',
      `
Roles come from --topology, --role, or are inferred from the traffic (--infer adds inferred roles
to given ones). The table lists PROBLEMS first, then each role's required ports; --format json is
everything (flows, calls, roles), ndjson one judged flow per line, html one self-contained page,
summary one JSON line for \`merge\`.

Examples:
  lync-port-audit analyze capture.pcapng --topology topology.json
  lync-port-audit analyze --role front-end=10.0.0.10 --role edge-internal=10.0.0.20 capture.pcapng
  lync-port-audit analyze --format html -o report.html --fail-on blocked capture.pcapng
  lync-port-audit analyze --write-pcap problems.pcapng --select port=5061 capture.pcapng
  tcpdump -i eth0 -U -w - | lync-port-audit analyze --topology topology.json -   (Ctrl-C: the report so far)
  lync-port-audit analyze --each --format summary -o site-a.ndjson 'site-a/*.pcapng'
${OUT_FILE_HELP}
--write-pcap FILE is checked the same way before reading, and also written as FILE.partial.
${exitStatusHelp(true)}`,
    )
    .action(async (captures: string[], opts: AnalyzeOptions) => {
      process.exitCode = await runAnalyze(captures, opts);
    });
}

function fail(message: string): number {
  sayLine(`lync-port-audit: ${message}`);
  return 2;
}

export async function runAnalyze(captures: string[], opts: AnalyzeOptions): Promise<number> {
  // Catalog and topology first: a usage error should not cost a read of a 10 GB capture.
  const setup = loadCatalogAndTopology(opts);
  if (typeof setup === 'string') return fail(setup);
  const { loaded, given } = setup;
  if (opts.each === true) {
    if (opts.writePcap !== undefined) return fail('--write-pcap cannot be combined with --each');
    if (opts.format === 'ndjson')
      return fail(
        '--format ndjson cannot be combined with --each: use --format summary (one JSON line per capture) or json',
      );
  } else if (opts.writePcap !== undefined && captures.includes('-'))
    return fail('--write-pcap reads the captures twice, so it needs files, not standard input');

  const run = startRun();
  // The outputs next, also before any capture is read: a path that cannot be written fails now.
  const opened = await openReportOutputs(run, opts.out, opts.writePcap);
  if (typeof opened === 'string') return fail(opened);
  const { output, pcap } = opened;
  try {
    const status =
      opts.each === true
        ? await analyzeEachRun(captures, opts, given, run, output)
        : await analyzeOnce(captures, opts, loaded, given, run, output, pcap);
    return run.finish(status);
  } finally {
    pcap?.discard();
  }
}

async function analyzeOnce(
  captures: string[],
  opts: AnalyzeOptions,
  loaded: LoadedCatalog,
  given: Topology,
  run: Run,
  output: Output,
  pcap: PcapngWriter | undefined,
): Promise<number> {
  const selected = flowFilter(opts.select ?? []);
  const chosen: PcapFlow[] = [];
  const writer = opts.format === 'ndjson' ? ndjsonWriter(output) : undefined;
  const progress = createProgress(opts.progress !== false);
  let failed = false;
  const result = await analyzeCaptures(captures, {
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
    signal: run.signal,
    onProgress: (input, consumed, total) => {
      progress.update(input, consumed, total);
      heapTick();
    },
  });
  progress.stop();
  // A reader that went away or a failed output: nothing more to write or say.
  if (run.outputFailed) {
    await output.close();
    return 0;
  }
  const { analysis } = result;
  if (writer) {
    for (const j of analysis.flows) writer.write(j);
    writer.flush();
  } else if (opts.format === 'json') await writePieces(output, jsonReportPieces(analysis));
  else if (opts.format === 'html')
    await writePieces(
      output,
      htmlPieces(analysis, { firewallRules: catalogFirewallRules(loaded.catalog, given) }),
    );
  else
    output.write(
      opts.format === 'summary'
        ? toJson(captureSummary(captures.join(', '), result)) + '\n'
        : renderTable(analysis, {
            width: terminalWidth(process.env, process.stdout.isTTY ? process.stdout.columns : undefined),
          }),
    );
  const complete = run.interrupted === undefined;
  const partial = await output.close(complete);
  for (const line of summaryLines(
    result.captures,
    result.stats,
    result.duplicates,
    undefined,
    result.recognizerFaults,
  ))
    run.say(line);
  for (const o of result.overlaps) run.say(`warning: ${overlapNote(o)}`);
  if (partial !== undefined) run.say(`lync-port-audit: interrupted: the partial report is in ${partial}`);
  if (pcap !== undefined && !run.outputFailed) {
    if (!complete) {
      // The packets of the problem flows so far would need a second read that Ctrl-C just stopped.
      pcap.discard();
      run.say(`lync-port-audit: interrupted: ${opts.writePcap!} not written`);
    } else
      try {
        const written = await writeFlowPackets(pcap, [{ label: '', inputs: captures, flows: chosen }], {
          keepDuplicates: opts.keepDuplicates,
          duplicateWindow: opts.duplicateWindow,
          signal: run.signal,
        });
        if (run.interrupted !== undefined) {
          run.say(`lync-port-audit: interrupted: the packets written so far are in ${pcap.keepPartial()}`);
        } else {
          pcap.close();
          run.say(describeWritten(written, opts.writePcap!));
        }
      } catch (err) {
        if (!(err instanceof OutputError)) throw err;
        run.fail(err);
      }
  }
  if (result.captures.some((c) => c.error !== undefined)) return 2;
  return failed ? 1 : 0;
}

/** `--each`: every capture on its own in worker threads, then merged (as `merge` does). */
async function analyzeEachRun(
  captures: string[],
  opts: AnalyzeOptions,
  given: Topology,
  run: Run,
  output: Output,
): Promise<number> {
  let inputs: string[];
  try {
    inputs = expandInputs(captures);
  } catch (err) {
    await output.close();
    if (err instanceof InputError) {
      run.say(`lync-port-audit: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const tool = { name: 'lync-port-audit', version: packageVersion() };
  const { docs, failed, interrupted } = await analyzeEach(
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
    { jobs: opts.jobs ?? defaultJobs(), progress: opts.progress !== false, signal: run.signal },
  );
  if (run.outputFailed) {
    await output.close();
    return 0;
  }
  const merged = mergeSummaries(docs, tool);
  if (interrupted.length > 0)
    merged.summary.notes.unshift(
      `partial report: ${run.interrupted !== undefined ? 'interrupted' : 'stopped'} before ${interrupted.length} of ${inputs.length} captures were read to the end (${interrupted.slice(0, 5).join(', ')}${interrupted.length > 5 ? ', ...' : ''}); they are not in this report`,
    );
  if (interrupted.length > 0) merged.summary.partial = true;
  if (opts.format === 'summary') for (const d of docs) output.write(toJson(d) + '\n');
  else await writePieces(output, mergedPieces(merged, opts.format as MergedFormat)); // not ndjson: refused above
  const partial = await output.close(run.interrupted === undefined);
  run.say(
    `lync-port-audit: ${plural(inputs.length, 'capture')}, ${failed.length} failed${interrupted.length > 0 ? `, ${interrupted.length} interrupted` : ''}; ${plural(merged.summary.packets, 'packet')}, ${plural(merged.summary.flows, 'flow')}, ${plural(merged.summary.problems, 'problem')}`,
  );
  for (const f of failed) run.say(`error: ${f.message}`);
  if (partial !== undefined) run.say(`lync-port-audit: interrupted: the partial report is in ${partial}`);
  if (failed.length > 0) return 2;
  return mergedFails(merged, opts.failOn) ? 1 : 0;
}
