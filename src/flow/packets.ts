/**
 * A second read of captures whose flows are already known (`--write-pcap`, `compare`): every
 * frame decoded as readFlows() decodes it (tunnels, VXLAN's outer and inner packets, the same
 * exact duplicates dropped), handed to `onPacket` with its record, without a flow table. Frame
 * numbers continue across inputs as in the first read, so they are the records' frame numbers.
 */
import { readCapture, type CaptureSummary } from '../capture/reader.js';
import type { CaptureRecord } from '../capture/record.js';
import { decodeInner, decodePacket } from '../decode/packet.js';
import { DecodeStatus, createPacketView, type PacketView } from '../decode/view.js';
import { DuplicateFilter } from './duplicates.js';

export interface ReadPacketsOptions {
  keepDuplicates?: boolean;
  duplicateWindow?: number;
  /** Called as each input starts: its index in `inputs` and the number of its first frame. */
  onInput?: (index: number, firstFrame: number) => void;
  signal?: AbortSignal;
}

/**
 * Calls onPacket(view, rec) for each decoded IP packet (view.status Ok); a VXLAN frame twice,
 * outer then inner (view.secondPass). view.ts is set.
 */
export async function readPackets(
  inputs: string[],
  options: ReadPacketsOptions,
  onPacket: (view: PacketView, rec: CaptureRecord) => void,
): Promise<CaptureSummary[]> {
  const view = createPacketView();
  const duplicates = options.keepDuplicates === true ? null : new DuplicateFilter(options.duplicateWindow);
  const captures: CaptureSummary[] = [];
  const onRecord = (rec: CaptureRecord): void => {
    if (decodePacket(rec.buf, rec.offset, rec.caplen, rec.linkType, view) !== DecodeStatus.Ok) return;
    if (
      duplicates !== null &&
      duplicates.isDuplicate(view, rec.buf, rec.offset, rec.caplen, rec.origLen, rec.tsSec, rec.tsNsec)
    )
      return;
    view.ts = rec.tsSec + rec.tsNsec / 1e9;
    onPacket(view, rec);
    if (view.innerLink > 0 && decodeInner(rec.buf, rec.offset, rec.caplen, view) === DecodeStatus.Ok)
      onPacket(view, rec);
  };
  let nextIndex = 1;
  for (let i = 0; i < inputs.length; i++) {
    if (options.signal?.aborted === true) break;
    options.onInput?.(i, nextIndex);
    const summary = await readCapture(inputs[i], { onRecord, firstIndex: nextIndex, signal: options.signal });
    nextIndex += summary.packets;
    captures.push(summary);
  }
  return captures;
}
