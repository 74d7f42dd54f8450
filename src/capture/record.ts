/**
 * One packet record as read from a capture. The reader owns a single instance and
 * overwrites it for every packet (no allocation per packet): a consumer must copy
 * anything it wants to keep before its callback returns. `buf[offset, offset+caplen)`
 * holds the captured bytes.
 */
import { WIDE_ZERO } from './bytes.js';

export interface CaptureRecord {
  buf: Buffer;
  offset: number;
  /** Bytes captured (may be less than origLen when the capture used a snaplen). */
  caplen: number;
  /** Length of the packet on the wire. */
  origLen: number;
  /** Timestamp: whole seconds since the epoch, and nanoseconds within that second. */
  tsSec: number;
  tsNsec: number;
  /** LINKTYPE_* value of the interface the packet was captured on. */
  linkType: number;
  /** Interface index in the pcapng section (0 for classic pcap). */
  interfaceId: number;
  /** Byte offset of the record (or pcapng block) in the decompressed input. */
  fileOffset: number;
  /** 1-based packet number, counted across all inputs of one run, as tshark numbers frames. */
  index: number;
}

export function createRecord(): CaptureRecord {
  return {
    buf: Buffer.alloc(0),
    offset: 0,
    caplen: 0,
    origLen: 0,
    tsSec: 0,
    tsNsec: 0,
    linkType: 0,
    interfaceId: 0,
    // Past 1 GiB an offset is no small integer: start wide (see WIDE_ZERO).
    fileOffset: WIDE_ZERO,
    index: 0,
  };
}

/** The record's timestamp as fractional seconds (microsecond precision is kept for current dates). */
export function recordTime(rec: CaptureRecord): number {
  return rec.tsSec + rec.tsNsec / 1e9;
}
