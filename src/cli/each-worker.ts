/**
 * The worker thread of an `--each` run (each.ts): it takes one capture at a time from the main
 * thread and analyses it on its own (analyze: the capture summary; flows: its records, written to
 * a file of its own that the main thread copies out in input order). A worker serves many
 * captures, so code it has optimised for one capture runs at full speed for the next.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { readFlowRecords } from '../recognize/records.js';
import { analyzeCaptures } from '../verdict/analyze.js';
import { loadCatalogForAnalysis, type LoadedCatalog } from '../verdict/catalog-access.js';
import { SUMMARY_LIST_LIMITS, captureSummary } from '../verdict/merge.js';
import { summaryLines } from './summary.js';
import { escapeJsonText } from '../report/json.js';
import type { EachJob, WorkerReply } from './each.js';

const port = parentPort;
if (port === null) throw new Error('each-worker.ts runs as a worker thread');

const catalogs = new Map<string, LoadedCatalog>();

function catalogFor(name: string, mediaPorts: readonly string[]): LoadedCatalog {
  const key = JSON.stringify([name, mediaPorts]);
  let c = catalogs.get(key);
  if (c === undefined) catalogs.set(key, (c = loadCatalogForAnalysis(name, mediaPorts)));
  return c;
}

/** Progress at most every 200 ms per capture: enough for a status line, little traffic. */
function progressSender(id: number): (input: string, consumed: number, total: number | undefined) => void {
  let last = 0;
  return (_input, consumed, total) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    port!.postMessage({ type: 'progress', id, consumed, total } satisfies WorkerReply);
  };
}

async function run(job: EachJob): Promise<WorkerReply> {
  const onProgress = progressSender(job.id);
  if (job.kind === 'analyze') {
    const result = await analyzeCaptures([job.input], {
      catalog: catalogFor(job.catalog, job.mediaPorts),
      topology: job.topology,
      infer: job.infer,
      maxRecords: job.maxRecords,
      maxFlows: job.maxFlows,
      tcpTimeout: job.tcpTimeout,
      udpTimeout: job.udpTimeout,
      seed: job.seed,
      tool: job.tool,
      listLimits: SUMMARY_LIST_LIMITS,
      onProgress,
    });
    return {
      type: 'analyzed',
      id: job.id,
      doc: captureSummary(job.input, result),
      lines: summaryLines(result.captures, result.stats, 0, undefined, result.recognizerFaults),
      error: result.captures.find((c) => c.error !== undefined)?.error?.message,
    };
  }
  const out = createWriteStream(job.recordsFile);
  let batch = '';
  let flows = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const ok = out.write(escapeJsonText(batch));
    batch = '';
    if (!ok) await once(out, 'drain');
  };
  const prefix = `{"capture":${JSON.stringify(job.input)},`;
  const result = await readFlowRecords([job.input], {
    seed: job.seed,
    maxFlows: job.maxFlows,
    tcpTimeout: job.tcpTimeout,
    udpTimeout: job.udpTimeout,
    otherTimeout: job.udpTimeout,
    onRecord: (record) => {
      flows++;
      // The record as `flows` prints it, with the capture it came from first.
      batch += prefix + JSON.stringify(record).slice(1) + '\n';
    },
    beforeRead: () => (batch.length >= 64 * 1024 ? flush() : undefined),
    onProgress,
  });
  await flush();
  out.end();
  await once(out, 'finish');
  return {
    type: 'flows',
    id: job.id,
    flows,
    lines: summaryLines(result.captures, result.stats, 0, undefined, result.recognizerFaults),
    packets: result.stats.packets,
    error: result.captures.find((c) => c.error !== undefined)?.error?.message,
  };
}

port.on('message', (job: EachJob) => {
  run(job).then(
    (reply) => port.postMessage(reply),
    (err: unknown) =>
      port.postMessage({
        type: 'failed',
        id: job.id,
        message: err instanceof Error ? err.message : String(err),
      } satisfies WorkerReply),
  );
});
