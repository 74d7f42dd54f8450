/**
 * The library: what the command line does, as functions and typed records.
 *
 * - `flowRecords(files)`: read captures into flow records (Zeek conn.log fields, Community ID, the
 *   recognised application), as an async iterable; `readFlowRecords` is the same with a callback.
 * - `analyzeCaptures(files, { catalog, topology })`: the whole `analyze` pipeline, one function,
 *   with `loadCatalogForAnalysis()` and a topology from `loadTopologyFile()`,
 *   `topologyFromDocument()` or `topologyFromRoleOptions()` (none: roles are inferred).
 * - `captureSummary()` / `mergeSummaries()`: one capture's summary (run analyzeCaptures with
 *   `listLimits: SUMMARY_LIST_LIMITS`) and the merge of many, as `analyze --each` and `merge` do.
 * - `renderTable()` / `renderHtml()`: the reports of `analyze`, from its result.
 * - `compareCaptures(a, b, { catalog, topology, nat })`: the `compare` pipeline (two captures of
 *   one path, each flow once, where its packets died), with `renderCompareTable()` / `renderCompareHtml()`.
 *
 * See "Using it as a library" in the README, and examples/library.mjs (run by test/library.test.ts).
 */
import type { FlowRecord } from './flow/record.js';
import {
  readFlowRecords,
  type ReadFlowRecordsOptions,
  type ReadFlowRecordsResult,
} from './recognize/records.js';

// Reading captures.
export { readCapture, type CaptureFormat, type CaptureSummary, type ReadOptions } from './capture/reader.js';
export type { CaptureRecord } from './capture/record.js';
export { CaptureError, type CaptureWarning } from './capture/errors.js';

// Flows and their records.
export {
  readFlowRecords,
  type ReadFlowRecordsOptions,
  type ReadFlowRecordsResult,
} from './recognize/records.js';
export type { RecognizerFault, RecognizerFaults } from './recognize/faults.js';
export type { ReadFlowsResult } from './flow/read.js';
export type { FlowTableStats } from './flow/table.js';
export type { FlowRecord, IcmpErrorRecord } from './flow/record.js';
export type { ConnState } from './flow/conn-state.js';
export { RECOGNIZERS } from './recognize/index.js';
export type { AppName, AppResult, Finding, Recognizer } from './recognize/types.js';
export type { Call, CallMedia } from './recognize/calls.js';

// Catalog and topology.
export { CatalogError, listProducts, DEFAULT_PRODUCT } from './catalog/index.js';
export type { Catalog, CatalogRow } from './catalog/index.js';
export { loadCatalogForAnalysis, type LoadedCatalog } from './verdict/catalog-access.js';
export {
  TopologyError,
  emptyTopology,
  loadTopologyFile,
  mergeTopologies,
  topologyFromDocument,
  topologyFromRoleOptions,
  type RoleEntry,
  type RoleEvidence,
  type Topology,
} from './topology/topology.js';

// Analysis: verdicts per flow and per role.
export {
  DEFAULT_MAX_RECORDS,
  analyzeCaptures,
  type AnalyzeCapturesOptions,
  type AnalyzeCapturesResult,
} from './verdict/analyze.js';
export type { Analysis, AnalysisSummary, CaptureInfo } from './verdict/analysis.js';
export type { FirstFailure, PeerCount, RoleSummary, RowSummary, UnexpectedPort } from './verdict/roles.js';
export {
  CONNECTIVITY_PROBLEMS,
  EXPECTATION_PROBLEMS,
  VERDICTS,
  isProblem,
  type CatalogMatch,
  type JudgedFlow,
  type Verdict,
} from './verdict/types.js';

// Many captures: a summary per capture, merged into one report per role (as `merge` does).
export {
  SUMMARY_LIST_LIMITS,
  captureSummary,
  checkSummary,
  mergeSummaries,
  type CaptureOverview,
  type CaptureSummaryDoc,
  type MergedAnalysis,
  type MergedRoleSummary,
  type MergedRowSummary,
} from './verdict/merge.js';

// Two captures of one path, compared (as `compare` does).
export { compareCaptures, type CompareOptions, type CompareResult } from './compare/compare.js';
export { parseNat, type NatMapping } from './compare/nat.js';
export type {
  ComparedFlow,
  Comparison,
  ComparisonInfo,
  FlowPath,
  InjectedPacket,
  PathFinding,
  Point,
  SideView,
} from './compare/types.js';

// Reports.
export { renderTable, type TableOptions } from './report/table.js';
export { renderHtml } from './report/html.js';
export { renderCompareTable } from './report/compare-table.js';
export { renderCompareHtml } from './report/compare-html.js';

/** Records buffered ahead of a slow consumer before the reader waits (then it reads on at half). */
const DEFAULT_AHEAD = 4096;

export interface FlowRecordsOptions extends Omit<
  ReadFlowRecordsOptions,
  'onRecord' | 'beforeRead' | 'signal'
> {
  /** Records that may wait unread before the reader pauses (default 4096). */
  ahead?: number;
}

export interface FlowRecordStream extends AsyncIterable<FlowRecord> {
  /**
   * The capture summaries (with any read error), flow table counts and recogniser faults, once
   * the read is over.
   */
  readonly result: Promise<ReadFlowRecordsResult>;
}

/**
 * Reads captures (one file, or several read in order as one capture) into flow records, in the
 * order the flows end. Reading follows the consumer: at most about `ahead` records (plus one read window's worth) wait unread, so a
 * loop that stops early (`break`) stops the read, and a slow one holds it back. Bad input does not
 * throw: the records before it are delivered and `result` carries the error per capture.
 */
export function flowRecords(inputs: string | string[], options: FlowRecordsOptions = {}): FlowRecordStream {
  const { ahead = DEFAULT_AHEAD, ...readOptions } = options;
  const queue: (FlowRecord | undefined)[] = [];
  let head = 0;
  let finished = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const stop = new AbortController();
  const result = readFlowRecords(typeof inputs === 'string' ? [inputs] : inputs, {
    ...readOptions,
    signal: stop.signal,
    onRecord: (record) => {
      queue.push(record);
      wakeConsumer?.();
    },
    beforeRead: () =>
      queue.length - head < ahead
        ? undefined
        : new Promise<void>((resolve) => {
            wakeReader = resolve;
          }),
  }).finally(() => {
    finished = true;
    wakeConsumer?.();
  });
  // The caller may only iterate; a failure then surfaces through the iterator, not as unhandled.
  result.catch(() => undefined);

  async function* iterate(): AsyncGenerator<FlowRecord> {
    try {
      for (;;) {
        while (head < queue.length) {
          const record = queue[head] as FlowRecord;
          queue[head++] = undefined;
          if (wakeReader !== undefined && queue.length - head <= ahead / 2) {
            const wake = wakeReader;
            wakeReader = undefined;
            wake();
          }
          yield record;
        }
        queue.length = 0;
        head = 0;
        if (finished) break;
        await new Promise<void>((resolve) => {
          wakeConsumer = resolve;
        });
        wakeConsumer = undefined;
      }
      await result;
    } finally {
      if (!finished) {
        stop.abort();
        wakeReader?.();
        await result.catch(() => undefined);
      }
    }
  }
  return { result, [Symbol.asyncIterator]: iterate };
}
