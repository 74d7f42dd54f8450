/** `lync-port-audit flows`: one NDJSON record per flow, a summary on stderr. */
import type { Command } from 'commander';
import { readFlows } from '../flow/read.js';
import { toFlowRecord } from '../flow/record.js';
import { RECOGNIZERS, attachApp, createAppObserver } from '../recognize/index.js';
import { ndjsonWriter, openOutput } from './output.js';
import { positiveInt, positiveSeconds, uint16, type FlowTableCliOptions } from './options.js';
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
      'count exact duplicate frames (a mirror of both ports of a link) instead of dropping those within 10 ms',
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
  const seed = opts.seed ?? 0;
  const apps = createAppObserver(RECOGNIZERS);
  const result = await readFlows(captures, {
    observer: apps.observer,
    maxFlows: opts.maxFlows,
    tcpTimeout: opts.tcpTimeout,
    udpTimeout: opts.udpTimeout,
    otherTimeout: opts.udpTimeout,
    keepDuplicates: opts.keepDuplicates,
    onFlow: (flow) => writer.write(attachApp(toFlowRecord(flow, seed), apps.finish(flow))),
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
