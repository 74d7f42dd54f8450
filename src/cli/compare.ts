/**
 * `lync-port-audit compare A B`: two captures of the same traffic, taken at two points of its path
 * (the client's side and the server's side of a firewall), as one report where every flow is
 * counted once and each problem says on which segment of the path it happened.
 * Wiring only: options → compare/compare.ts → the chosen report. Exit status as `analyze`: 0, 1
 * when --fail-on finds something, 2 for usage, input or output errors, 130/143 interrupted (run.ts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { packageVersion } from './version.js';
import type { Topology } from '../topology/topology.js';
import { COMPARE_MAX_RECORDS } from '../verdict/analyze.js';
import type { LoadedCatalog } from '../verdict/catalog-access.js';
import { compareCaptures } from '../compare/compare.js';
import { DEFAULT_MAX_PACKETS } from '../compare/evidence.js';
import { NatError, parseNat, type NatMapping } from '../compare/nat.js';
import type { Point } from '../compare/types.js';
import { renderCompareTable } from '../report/compare-table.js';
import { compareHtmlPieces } from '../report/compare-html.js';
import { catalogFirewallRules } from '../report/html-firewall.js';
import { terminalWidth } from '../report/table.js';
import { describeWritten, pcapFlow, writeFlowPackets, type PcapFlow } from '../report/write-pcap.js';
import type { PcapngWriter } from '../report/pcapng-writer.js';
import { addCatalogOptions } from './catalog-options.js';
import { addFlowTableOptions } from './flows.js';
import { ndjsonWriter, writePieces, type Output } from './output.js';
import { loadCatalogAndTopology, openReportOutputs } from './run-setup.js';
import { OUT_FILE_HELP, exitStatusHelp, sayLine, startRun, type Run } from './run.js';
import { OutputError } from '../report/output-file.js';
import { jsonReportPieces } from '../report/json.js';
import { positiveInt, type FlowTableCliOptions } from './options.js';
import { createProgress } from './progress.js';
import { summaryLines } from './summary.js';
import { failing, type FailOn } from './fail-on.js';
import { collectSelect, flowFilter } from './select.js';

type Format = 'table' | 'json' | 'ndjson' | 'html';

interface CompareCliOptions extends FlowTableCliOptions {
  clientSide: Point;
  topology?: string;
  role: string[];
  infer?: boolean;
  catalog?: string;
  product?: string;
  mediaPorts: string[];
  nat: NatMapping[];
  format: Format;
  out?: string;
  failOn: FailOn;
  maxRecords?: number;
  maxPackets?: number;
  writePcap?: string;
  select: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectNat(value: string, previous: NatMapping[]): NatMapping[] {
  try {
    return [...previous, parseNat(value)];
  } catch (err) {
    if (err instanceof NatError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

export function registerCompare(program: Command): void {
  const base = program
    .command('compare')
    .description(
      'compare two captures of the same traffic taken at two points of its path (client side and server side): each flow once, and where on the path its packets died',
    )
    .argument('<a>', 'capture A (pcap or pcapng, plain or gzip): by default the one nearer the client')
    .argument('<b>', 'capture B: by default the one nearer the server')
    .addOption(
      new Option('--client-side <a|b>', 'which capture is nearer the client')
        .choices(['a', 'b'])
        .default('a'),
    )
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
    .option(
      '--nat <inside=outside>',
      'a NAT between the points: an address (or address:port) in the client-side capture and what it becomes in the server-side one, e.g. 10.0.1.5=192.0.2.7 (repeatable; without it, flows are still matched by what a NAT keeps)',
      collectNat,
      [],
    );
  const cmd = addCatalogOptions(base)
    .option(
      '--media-ports <range>',
      'override a media port range, e.g. client-audio=50000-50019 (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['table', 'json', 'ndjson', 'html'])
        .default('table'),
    )
    .option('-o, --out <file>', 'write the report to a file instead of standard output')
    .addOption(
      new Option(
        '--fail-on <what>',
        'exit with status 1 when flows have these verdicts: blocked (blocked, refused, filtered, one-way), failed, unexpected (unexpected, mismatch), any, none',
      )
        .choices(['blocked', 'failed', 'unexpected', 'any', 'none'])
        .default('none'),
    )
    .option(
      '--write-pcap <file>',
      "also write the packets of the problem flows (or those --select picks) from both captures as pcapng, each flow's first packet commented with its verdict and where it died",
    )
    .option(
      '--select <what>',
      'which flows --write-pcap writes: verdict=blocked,refused, port=5061, proto=udp, role=front-end, or all (repeatable: all must match)',
      collectSelect,
      [],
    )
    .option(
      '--max-records <n>',
      `flows kept per capture (beyond, they are judged and counted, not compared; default ${COMPARE_MAX_RECORDS})`,
      positiveInt('--max-records', 50_000_000),
    )
    .option(
      '--max-packets <n>',
      `packets of each capture kept for the comparison (about 32 bytes each; default ${DEFAULT_MAX_PACKETS})`,
      positiveInt('--max-packets', 100_000_000),
    );
  addFlowTableOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  lync-port-audit compare client-side.pcapng server-side.pcapng --topology topology.json
  lync-port-audit compare --nat 10.0.1.5=192.0.2.7 --format html -o path.html inside.pcap outside.pcap
${OUT_FILE_HELP}
${exitStatusHelp(true)}`,
    )
    .action(async (a: string, b: string, opts: CompareCliOptions) => {
      process.exitCode = await runCompare(a, b, opts);
    });
}

function fail(message: string): number {
  sayLine(`lync-port-audit: ${message}`);
  return 2;
}

export async function runCompare(a: string, b: string, opts: CompareCliOptions): Promise<number> {
  if (a === '-' || b === '-')
    return fail('compare reads each capture on its own: give two files, not standard input');
  const setup = loadCatalogAndTopology(opts);
  if (typeof setup === 'string') return fail(setup);
  const { loaded, given } = setup;
  const run = startRun();
  // The outputs before any capture is read: a path that cannot be written fails now.
  const opened = await openReportOutputs(run, opts.out, opts.writePcap);
  if (typeof opened === 'string') return fail(opened);
  const { output, pcap } = opened;
  try {
    return run.finish(await compareRun(a, b, opts, loaded, given, run, output, pcap));
  } finally {
    pcap?.discard();
  }
}

async function compareRun(
  a: string,
  b: string,
  opts: CompareCliOptions,
  loaded: LoadedCatalog,
  given: Topology,
  run: Run,
  output: Output,
  pcap: PcapngWriter | undefined,
): Promise<number> {
  const progress = createProgress(opts.progress !== false);
  const { comparison, runs } = await compareCaptures(a, b, {
    catalog: loaded,
    topology: given,
    infer: opts.infer,
    clientSide: opts.clientSide,
    nat: opts.nat,
    maxRecords: opts.maxRecords,
    maxPackets: opts.maxPackets,
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    seed: opts.seed,
    keepDuplicates: opts.keepDuplicates,
    duplicateWindow: opts.duplicateWindow,
    tool: { name: 'lync-port-audit', version: packageVersion() },
    signal: run.signal,
    onProgress: (input, consumed, total) => progress.update(input, consumed, total),
  });
  progress.stop();
  if (run.outputFailed) {
    await output.close();
    return 0;
  }
  if (opts.format === 'ndjson') {
    const writer = ndjsonWriter(output);
    for (const f of comparison.flows) {
      await writer.ready();
      if (output.broken) break;
      writer.write(f);
    }
    writer.flush();
  } else if (opts.format === 'json') await writePieces(output, jsonReportPieces(comparison));
  else if (opts.format === 'html')
    await writePieces(
      output,
      compareHtmlPieces(comparison, { firewallRules: catalogFirewallRules(loaded.catalog, given) }),
    );
  else
    output.write(
      renderCompareTable(comparison, {
        width: terminalWidth(process.env, process.stdout.isTTY ? process.stdout.columns : undefined),
      }),
    );
  const complete = run.interrupted === undefined;
  const partial = await output.close(complete);
  for (const [point, r] of Object.entries(runs))
    for (const line of summaryLines(
      r.captures,
      r.stats,
      r.duplicates,
      // Each line gets "a: " or two more spaces in front: the room for them.
      process.stderr.isTTY ? terminalWidth(process.env, process.stderr.columns) - 3 : undefined,
      r.recognizerFaults,
    ))
      run.say(`${line.startsWith('  ') ? '  ' : `${point}: `}${line}`);
  if (partial !== undefined) run.say(`lync-port-audit: interrupted: the partial report is in ${partial}`);
  if (pcap !== undefined && !run.outputFailed) {
    if (!complete) {
      pcap.discard();
      run.say(`lync-port-audit: interrupted: ${opts.writePcap!} not written`);
    } else {
      const selected = flowFilter(opts.select ?? []);
      const chosen: Record<Point, PcapFlow[]> = { a: [], b: [] };
      for (const f of comparison.flows) {
        if (!selected(f)) continue;
        for (const point of f.seen_at) {
          const side = f[point]!;
          chosen[point].push(
            pcapFlow({ ...f, ...side, verdict: f.verdict, network: f.network, reason: f.reason }, [
              `capture ${point}: ${point === 'a' ? a : b}`,
            ]),
          );
        }
      }
      try {
        const written = await writeFlowPackets(
          pcap,
          [
            { label: 'capture a', inputs: [a], flows: chosen.a },
            { label: 'capture b', inputs: [b], flows: chosen.b },
          ],
          { keepDuplicates: opts.keepDuplicates, duplicateWindow: opts.duplicateWindow, signal: run.signal },
        );
        if (run.interrupted !== undefined)
          run.say(`lync-port-audit: interrupted: the packets written so far are in ${pcap.keepPartial()}`);
        else {
          pcap.close();
          run.say(describeWritten(written, opts.writePcap!));
        }
      } catch (err) {
        if (!(err instanceof OutputError)) throw err;
        run.fail(err);
      }
    }
  }
  if (Object.values(runs).some((r) => r.captures.some((c) => c.error !== undefined))) return 2;
  return comparison.flows.some((f) => failing(f.verdict, opts.failOn)) ? 1 : 0;
}
