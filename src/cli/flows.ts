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

interface FlowsOptions extends FlowTableCliOptions {
  out?: string;
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
    .option('-o, --out <file>', 'write the records to a file instead of standard output');
  addFlowTableOptions(cmd).action(async (captures: string[], opts: FlowsOptions) => {
    process.exitCode = await runFlows(captures, opts);
  });
}

export async function runFlows(captures: string[], opts: FlowsOptions): Promise<number> {
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
  for (const line of summaryLines(result.captures, result.stats, result.duplicates))
    process.stderr.write(line + '\n');
  return result.captures.some((c) => c.error !== undefined) ? 2 : 0;
}
