/**
 * Reads one capture input (pcap or pcapng, plain or gzip, file or stdin) and calls `onRecord`
 * for every packet, in file order, with a reused record (see record.ts). Bad input never throws
 * out of here: the first unreadable structure ends the read, and the summary carries the
 * CaptureError (file name and byte offset) with every packet before it already delivered.
 */
import { u32, hex32 } from './bytes.js';
import type { ReadContext } from './context.js';
import { CaptureError, type CaptureWarning } from './errors.js';
import { MAX_KEPT_WARNINGS } from './limits.js';
import { parsePcapHeader, pcapMagic, readPcapRecords, PCAP_HEADER_LENGTH } from './pcap.js';
import { isPcapngMagic, readPcapngBlocks } from './pcapng.js';
import { createRecord, type CaptureRecord } from './record.js';
import { openSource, type ByteSource } from './source.js';
import { ByteWindow } from './window.js';

export type CaptureFormat = 'pcap' | 'pcapng' | 'unknown';

export interface CaptureSummary {
  name: string;
  format: CaptureFormat;
  gzip: boolean;
  littleEndian: boolean;
  /** 'us' or 'ns' for classic pcap; per-interface in pcapng (not summarised). */
  timestampResolution?: 'us' | 'ns';
  linkTypes: number[];
  sections?: number;
  interfaces?: number;
  packets: number;
  /** Sum of captured bytes, and of on-the-wire lengths. */
  capturedBytes: number;
  wireBytes: number;
  /** Bytes of input consumed (decompressed). */
  bytesRead: number;
  warnings: CaptureWarning[];
  warningCount: number;
  /** The error that ended the read early, if any. */
  error?: CaptureError;
  /** True when ReadOptions.signal stopped the read before the end of the input (not an error). */
  stopped?: boolean;
}

export interface ReadOptions {
  /** Called for each packet; the record is reused, copy what you keep. */
  onRecord: (rec: CaptureRecord) => void;
  /** Packet numbering continues from here (for several inputs in one run). */
  firstIndex?: number;
  /** Called now and then with bytes consumed from the raw input, for progress bars. */
  onProgress?: (consumed: number, total: number | undefined) => void;
  /** Standard input to use for "-" (tests pass their own stream). */
  stdin?: NodeJS.ReadableStream;
  /** Awaited before each read from the input (back-pressure from a slow consumer). */
  beforeRead?: () => Promise<void> | undefined;
  /**
   * Stops the read (Ctrl-C, a closed output): within one read window, and at once while waiting
   * for standard input or for the output. The summary then says `stopped`, with no error.
   */
  signal?: AbortSignal;
}

/** Known file magics that are not captures we read, so that the message can say what the file is. */
function describeForeignMagic(buf: Buffer, off: number, length: number): string {
  if (length < 4) return `file is too short to be a capture (${length} bytes)`;
  const head = buf.toString('latin1', off, off + 4);
  if (head === 'GMBU')
    return 'this is a Microsoft Network Monitor capture; convert it with "editcap -F pcapng IN OUT"';
  if (buf.toString('latin1', off, off + 8) === 'snoop\0\0\0')
    return 'this is a snoop capture; convert it with "editcap -F pcapng IN OUT"';
  if (head === 'MZ\x90\0' || head.startsWith('PK'))
    return 'this is not a capture file (archive or executable)';
  return `not a pcap or pcapng file (magic ${hex32(u32(buf, off, false))})`;
}

export async function readCapture(name: string, options: ReadOptions): Promise<CaptureSummary> {
  const summary: CaptureSummary = {
    name,
    format: 'unknown',
    gzip: false,
    littleEndian: true,
    linkTypes: [],
    packets: 0,
    capturedBytes: 0,
    wireBytes: 0,
    bytesRead: 0,
    warnings: [],
    warningCount: 0,
  };
  let source: ByteSource;
  try {
    source = await openSource(name, options.stdin);
  } catch (err) {
    summary.error = err instanceof CaptureError ? err : new CaptureError(name, 0, String(err));
    return summary;
  }
  summary.gzip = source.gzip;
  const win = new ByteWindow(source, undefined, options.beforeRead, options.signal);
  let index = options.firstIndex ?? 1;
  const onRecord = options.onRecord;
  const onProgress = options.onProgress;
  let nextProgress = 0;
  const ctx: ReadContext = {
    name,
    win,
    emit(rec: CaptureRecord): void {
      rec.index = index++;
      summary.packets++;
      summary.capturedBytes += rec.caplen;
      summary.wireBytes += rec.origLen;
      onRecord(rec);
      if (onProgress !== undefined && summary.packets >= nextProgress) {
        nextProgress = summary.packets + 65536;
        onProgress(source.consumed(), source.size);
      }
    },
    warn(offset: number, problem: string): void {
      summary.warningCount++;
      if (summary.warnings.length < MAX_KEPT_WARNINGS) summary.warnings.push({ offset, problem });
    },
  };
  const rec = createRecord();
  try {
    if (!(await win.ensure(4))) {
      throw new CaptureError(
        name,
        0,
        win.available === 0 ? 'file is empty' : describeForeignMagic(win.buf, 0, win.available),
      );
    }
    if (isPcapngMagic(win.buf, win.pos)) {
      summary.format = 'pcapng';
      const info = await readPcapngBlocks(ctx, rec);
      summary.littleEndian = info.littleEndian;
      summary.linkTypes = info.linkTypes;
      summary.sections = info.sections;
      summary.interfaces = info.interfaces;
    } else if (pcapMagic(win.buf, win.pos)) {
      summary.format = 'pcap';
      if (!(await win.ensure(PCAP_HEADER_LENGTH)))
        throw new CaptureError(name, 0, `truncated pcap file header: ${win.available} of 24 bytes`);
      const header = parsePcapHeader(win.buf, win.pos, name);
      summary.littleEndian = header.littleEndian;
      summary.timestampResolution = header.nanosecond ? 'ns' : 'us';
      summary.linkTypes = [header.linkType];
      win.pos += PCAP_HEADER_LENGTH;
      await readPcapRecords(header, ctx, rec);
    } else {
      await win.ensure(8);
      throw new CaptureError(name, 0, describeForeignMagic(win.buf, win.pos, win.available));
    }
  } catch (err) {
    if (err instanceof CaptureError) summary.error = err;
    else if (options.signal?.aborted === true) summary.stopped = true;
    else
      summary.error = new CaptureError(
        name,
        win.offset,
        `unexpected failure: ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
  } finally {
    summary.bytesRead = win.offset + win.available;
    if (onProgress !== undefined) onProgress(source.consumed(), source.size);
    await source.close().catch(() => undefined);
  }
  return summary;
}
