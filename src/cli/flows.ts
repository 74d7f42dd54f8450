/** `lync-port-audit flows`: one NDJSON record per flow, a summary on stderr. */
import type { Command } from 'commander';
import { readFlowRecords } from '../recognize/records.js';
import { ndjsonWriter, openOutput } from './output.js';
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
  addFlowTableOptions(cmd).action(async (captures: string[], opts: FlowsOptions) => {
    process.exitCode = await runFlows(captures, opts);
  });
}

export async function runFlows(captures: string[], opts: FlowsOptions): Promise<number> {
  if (opts.each === true) return runFlowsEach(captures, opts);
  const output = openOutput(opts.out);
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
    onProgress: (input, consumed, total) => {
      progress.update(input, consumed, total);
      heapTick();
    },
  });
  progress.stop();
  await writer.end();
  for (const line of summaryLines(
    result.captures,
    result.stats,
    result.duplicates,
    undefined,
    result.recognizerFaults,
  ))
    process.stderr.write(line + '\n');
  return result.captures.some((c) => c.error !== undefined) ? 2 : 0;
}

/** `--each`: every capture read on its own in worker threads; records in input order. */
async function runFlowsEach(captures: string[], opts: FlowsOptions): Promise<number> {
  let inputs: string[];
  try {
    inputs = expandInputs(captures);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`lync-port-audit: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const output = openOutput(opts.out);
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
    { jobs: opts.jobs ?? defaultJobs(), progress: opts.progress !== false },
  );
  await output.close();
  for (const line of lines) if (!line.startsWith('lync-port-audit:')) process.stderr.write(line + '\n');
  process.stderr.write(`lync-port-audit: ${inputs.length} captures, ${failed.length} failed\n`);
  for (const f of failed)
    if (!lines.some((l) => l.includes(f.message))) process.stderr.write(`error: ${f.message}\n`);
  return failed.length > 0 ? 2 : 0;
}
