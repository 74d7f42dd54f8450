/** `lync-port-audit flows`: one NDJSON record per flow, a summary on stderr. */
import type { Command } from 'commander';
import { readFlowRecords } from '../recognize/records.js';
import { ndjsonWriter } from './output.js';
import { OUT_FILE_HELP, exitStatusHelp, sayLine, startRun, type Run } from './run.js';
import { OutputError } from '../report/output-file.js';
import {
  positiveInt,
  positiveMilliseconds,
  positiveSeconds,
  uint16,
  type FlowTableCliOptions,
} from './options.js';
import { summaryLines } from './summary.js';
import { createProgress } from './progress.js';
import { heapTick } from './heap.js';
import { defaultJobs, flowsEach } from './each.js';
import { InputError, expandInputs } from './inputs.js';

interface FlowsOptions extends FlowTableCliOptions {
  out?: string;
  each?: boolean;
  jobs?: number;
}

export function addFlowTableOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-flows <n>',
      'most flows kept in memory at once (oldest are written out early)',
      positiveInt('--max-flows', 50_000_000),
    )
    .option('--tcp-timeout <seconds>', 'TCP inactivity timeout', positiveSeconds('--tcp-timeout'))
    .option('--udp-timeout <seconds>', 'UDP and ICMP inactivity timeout', positiveSeconds('--udp-timeout'))
    .option('--seed <n>', 'Community ID seed', uint16('--seed'), 0)
    .option(
      '--keep-duplicates',
      'count exact duplicate frames (a mirror of both ports of a link) instead of dropping them',
    )
    .option(
      '--duplicate-window <ms>',
      'an identical frame within this many milliseconds of another is a duplicate (default 0.5)',
      positiveMilliseconds('--duplicate-window'),
    )
    .option('--no-progress', 'no progress bar on stderr');
}

export function registerFlows(program: Command): void {
  const cmd = program
    .command('flows')
    .description(
      'print one NDJSON record per bidirectional flow (Zeek conn.log fields, Community ID), then a summary on stderr',
    )
    .argument('<capture...>', 'pcap or pcapng files, plain or gzip; "-" reads standard input')
    .option('-o, --out <file>', 'write the records to a file instead of standard output')
    .option(
      '--each',
      'read every capture (files, folders, quoted globs) on its own, several at once; each record gets its "capture"',
    )
    .option(
      '-j, --jobs <n>',
      `captures read at once with --each (default: the number of cores, ${defaultJobs()} here)`,
      positiveInt('--jobs', 256),
    );
  addFlowTableOptions(cmd)
    .addHelpText(
      'after',
      `
Each record: ts, uid, community_id, orig_h/orig_p, resp_h/resp_p, proto, conn_state (Zeek's S0,
SF, REJ, ...), history, packet and byte counts per side, first_frame/last_frame, and app (the
protocol recognised in the payload: tls, sip, stun, rtp, ...). Records come out as flows end.

Examples:
  lync-port-audit flows capture.pcapng | jq -c 'select(.conn_state == "S0")'
  lync-port-audit flows -o flows.ndjson ring-0.pcap ring-1.pcap ring-2.pcap
  tcpdump -i eth0 -U -w - 'port 5061' | lync-port-audit flows -
  lync-port-audit flows --each -o all.ndjson 'site-*/client-*.pcapng'
${OUT_FILE_HELP}
${exitStatusHelp(false)}`,
    )
    .action(async (captures: string[], opts: FlowsOptions) => {
      process.exitCode = await runFlows(captures, opts);
    });
}

export async function runFlows(captures: string[], opts: FlowsOptions): Promise<number> {
  const run = startRun();
  try {
    return run.finish(
      await (opts.each === true ? runFlowsEach(captures, opts, run) : flowsOnce(captures, opts, run)),
    );
  } catch (err) {
    run.finish(0);
    if (err instanceof OutputError) {
      sayLine(`lync-port-audit: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

async function flowsOnce(captures: string[], opts: FlowsOptions, run: Run): Promise<number> {
  const output = run.openOutput(opts.out);
  const writer = ndjsonWriter(output);
  const progress = createProgress(opts.progress !== false);
  const result = await readFlowRecords(captures, {
    seed: opts.seed,
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    otherTimeout: opts.udpTimeout,
    keepDuplicates: opts.keepDuplicates,
    duplicateWindow: opts.duplicateWindow,
    onRecord: (record) => writer.write(record),
    beforeRead: () => writer.ready(),
    signal: run.signal,
    onProgress: (input, consumed, total) => {
      progress.update(input, consumed, total);
      heapTick();
    },
  });
  progress.stop();
  writer.flush();
  const partial = await output.close(run.interrupted === undefined);
  for (const line of summaryLines(
    result.captures,
    result.stats,
    result.duplicates,
    undefined,
    result.recognizerFaults,
  ))
    run.say(line);
  if (partial !== undefined)
    run.say(`lync-port-audit: interrupted: the records read so far are in ${partial}`);
  return result.captures.some((c) => c.error !== undefined) ? 2 : 0;
}

/** `--each`: every capture read on its own in worker threads; records in input order. */
async function runFlowsEach(captures: string[], opts: FlowsOptions, run: Run): Promise<number> {
  const output = run.openOutput(opts.out);
  let inputs: string[];
  try {
    inputs = expandInputs(captures);
  } catch (err) {
    if (err instanceof InputError) {
      await output.close();
      run.say(`lync-port-audit: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const { failed, lines } = await flowsEach(
    inputs,
    (input, id, recordsFile) => ({
      kind: 'flows',
      id,
      input,
      recordsFile,
      seed: opts.seed,
      maxFlows: opts.maxFlows,
      tcpTimeout: opts.tcpTimeout,
      udpTimeout: opts.udpTimeout,
    }),
    output,
    { jobs: opts.jobs ?? defaultJobs(), progress: opts.progress !== false, signal: run.signal },
  );
  const partial = await output.close(run.interrupted === undefined);
  for (const line of lines) if (!line.startsWith('lync-port-audit:')) run.say(line);
  run.say(`lync-port-audit: ${inputs.length} captures, ${failed.length} failed`);
  for (const f of failed) if (!lines.some((l) => l.includes(f.message))) run.say(`error: ${f.message}`);
  if (partial !== undefined)
    run.say(`lync-port-audit: interrupted: the records read so far are in ${partial}`);
  return failed.length > 0 ? 2 : 0;
}
