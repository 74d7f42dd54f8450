/**
 * Capture → decode → flows: reads one or more inputs in order as one continuous capture (for
 * example the files of a tcpdump ring buffer) and hands every finished flow to `onFlow`.
 */
import { readCapture, type CaptureSummary } from '../capture/reader.js';
import type { CaptureRecord } from '../capture/record.js';
import { decodeInner, decodePacket } from '../decode/packet.js';
import { DecodeStatus, createPacketView } from '../decode/view.js';
import { DuplicateFilter } from './duplicates.js';
import type { Flow } from './flow.js';
import { FlowTable, type FlowTableOptions, type FlowTableStats } from './table.js';

/** Live flows ended per step at the end of the input (about 2 MB of NDJSON records). */
const FINISH_PART = 4096;

export interface ReadFlowsOptions extends Omit<FlowTableOptions, 'onFlowEnd'> {
  /** Each finished flow, with the capture time of the latest packet read so far. */
  onFlow: (flow: Flow, now: number) => void;
  /** Awaited before each read from an input: lets a slow consumer (a pipe) hold the reader back. */
  beforeRead?: () => Promise<void> | undefined;
  onProgress?: (input: string, consumed: number, total: number | undefined) => void;
  stdin?: NodeJS.ReadableStream;
  /** Count exact duplicate frames (a mirror of both ports of a link) as often as they appear. */
  keepDuplicates?: boolean;
  /** Seconds within which an identical frame is a duplicate (flow/duplicates.ts). */
  duplicateWindow?: number;
  /**
   * Stops the read: within one read window, and at once while waiting for standard input or for
   * `beforeRead`; the capture read then is `stopped` (capture/reader.ts), the ones after it are not read.
   */
  signal?: AbortSignal;
}

export interface ReadFlowsResult {
  captures: CaptureSummary[];
  stats: FlowTableStats;
  /** Exact duplicate frames dropped (their frame numbers are kept: the next frame is not renumbered). */
  duplicates: number;
  /**
   * Per input, in order: the capture times of its earliest and latest packet (null when it had
   * none), and its first frame number. Two inputs whose times overlap are not one capture cut in
   * pieces (a ring buffer) but two captures of the same time (flow/overlap.ts).
   */
  spans: InputSpan[];
}

export interface InputSpan {
  name: string;
  firstFrame: number;
  packets: number;
  first: number | null;
  last: number | null;
}

export async function readFlows(inputs: string[], options: ReadFlowsOptions): Promise<ReadFlowsResult> {
  const table: FlowTable = new FlowTable({
    ...options,
    onFlowEnd: (flow) => options.onFlow(flow, table.currentTime),
  });
  const view = createPacketView();
  const captures: CaptureSummary[] = [];
  const duplicates = options.keepDuplicates === true ? null : new DuplicateFilter(options.duplicateWindow);
  let nextIndex = 1;
  // The current input's earliest and latest time, in a typed array: a double kept in a closure
  // variable would be boxed on every write (one allocation per packet).
  const span = new Float64Array([Infinity, -Infinity]);
  const spans: InputSpan[] = [];
  const { signal, beforeRead } = options;
  const onRecord = (rec: CaptureRecord): void => {
    const t = rec.tsSec + rec.tsNsec / 1e9;
    if (t < span[0]) span[0] = t;
    if (t > span[1]) span[1] = t;
    decodePacket(rec.buf, rec.offset, rec.caplen, rec.linkType, view);
    if (
      duplicates !== null &&
      view.status === DecodeStatus.Ok &&
      duplicates.isDuplicate(view, rec.buf, rec.offset, rec.caplen, rec.origLen, rec.tsSec, rec.tsNsec)
    )
      return;
    view.ts = t;
    table.add(view, rec.buf, rec.origLen, rec.index);
    // VXLAN: the outer UDP packet was its own flow's; now the frame it carries.
    if (view.innerLink > 0 && decodeInner(rec.buf, rec.offset, rec.caplen, view) === DecodeStatus.Ok)
      table.add(view, rec.buf, rec.origLen, rec.index);
  };
  for (const input of inputs) {
    if (signal?.aborted === true) break;
    span[0] = Infinity;
    span[1] = -Infinity;
    const summary = await readCapture(input, {
      onRecord,
      firstIndex: nextIndex,
      stdin: options.stdin,
      beforeRead,
      signal,
      onProgress: options.onProgress ? (c, t) => options.onProgress?.(input, c, t) : undefined,
    });
    spans.push({
      name: input,
      firstFrame: nextIndex,
      packets: summary.packets,
      first: Number.isFinite(span[0]) ? span[0] : null,
      last: Number.isFinite(span[1]) ? span[1] : null,
    });
    nextIndex += summary.packets;
    captures.push(summary);
  }
  // The flows still live, written out in parts with the output's pace in between (beforeRead
  // waits for a full output to drain, as it does between reads).
  const more = table.finishInParts(FINISH_PART);
  while (more()) await beforeRead?.();
  return { captures, stats: table.stats, duplicates: duplicates?.dropped ?? 0, spans };
}
