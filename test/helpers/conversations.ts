/**
 * Compares our flow records with tshark's conversation tables row by row: each TCP/UDP
 * conversation, oriented by its sorted endpoints, with frames and bytes per direction. Used by
 * the differential tests on captures the tests build themselves (every row is exact there:
 * the captures are small, so tshark prints bytes, not kB).
 */
import type { FlowRecord } from '../../src/flow/record.js';
import type { ConvRow } from './tshark.js';

function orient(proto: string, x: string, y: string, xy: [number, number], yx: [number, number]): string {
  const [a, b, ab, ba] = x <= y ? [x, y, xy, yx] : [y, x, yx, xy];
  return `${proto} ${a} <-> ${b}: ${ab[0]} frames ${ab[1]} bytes -> , ${ba[0]} frames ${ba[1]} bytes <-`;
}

/** Our TCP/UDP flows as conversation rows (sorted), frames and frame bytes per direction. */
export function ourRows(flows: FlowRecord[]): string[] {
  return flows
    .filter((f) => f.proto === 'tcp' || f.proto === 'udp')
    .map((f) =>
      orient(
        f.proto,
        `${f.orig_h}:${f.orig_p}`,
        `${f.resp_h}:${f.resp_p}`,
        [f.orig_pkts, f.orig_frame_bytes],
        [f.resp_pkts, f.resp_frame_bytes],
      ),
    )
    .sort();
}

/** tshark's rows in the same form; bytes must be exact ("N bytes"). */
export function tsharkRows(rows: ConvRow[]): string[] {
  const bytes = (s: string): number => {
    if (!s.endsWith(' bytes'))
      throw new Error(`tshark rounded a byte count (${s}); keep test captures small`);
    return Number(s.split(' ')[0]);
  };
  return rows
    .map((r) => orient(r.proto, r.a, r.b, [r.framesAB, bytes(r.bytesAB)], [r.framesBA, bytes(r.bytesBA)]))
    .sort();
}
