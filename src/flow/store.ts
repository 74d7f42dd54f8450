/**
 * The live flows' numbers, in typed arrays: one row per flow table slot, five arrays (flow and
 * endpoint fields, by type) per chunk of CHUNK_ROWS slots, a chunk added when the slots in use
 * reach it (up to the table's cap). About 400 bytes a flow
 * outside the garbage-collected heap, where a flow of three plain objects with boxed doubles took
 * about 1 KB on it, plus the collector's slack (docs/decisions.md, "Memory per live flow").
 * flow.ts has the handles that read and write a row by field name.
 */

/** Doubles of a flow row (times, frame numbers, counts that can pass 2^32). */
export const enum FL_F {
  ID = 0,
  FIRST_TS = 1,
  LAST_TS = 2,
  FIRST_FRAME = 3,
  LAST_FRAME = 4,
  QUEUED_TS = 5,
  QUEUED_FRAME = 6,
  FRAGMENTS = 7,
  ICMP_ERROR_COUNT = 8,
  STRIDE = 9,
}

/** 32-bit integers of a flow row. */
export const enum FL_I {
  HASH = 0,
  PROTO = 1,
  IP_VERSION = 2,
  ORIG_FROM = 3,
  VLAN_ID = 4,
  END_REASON = 5,
  LIST = 6,
  QUEUE_INDEX = 7,
  INSPECT = 8,
  STRIDE = 9,
}

/** Doubles of an endpoint row (byte and packet counters, unwrapped sequence offsets). */
export const enum EP_F {
  PKTS = 0,
  PAYLOAD_BYTES = 1,
  IP_BYTES = 2,
  FRAME_BYTES = 3,
  LAST_REL = 4,
  ACK_REL = 5,
  HIST_LAST_SYN = 6,
  HIST_LAST_FIN = 7,
  HIST_LAST_RST = 8,
  RXMIT = 9,
  RXMIT_THRESHOLD = 10,
  ZERO_WINDOW = 11,
  ZERO_WINDOW_THRESHOLD = 12,
  STRIDE = 13,
}

/** Unsigned 32-bit words of an endpoint row: the address and TCP sequence numbers. */
export const enum EP_U {
  A0 = 0,
  A1 = 1,
  A2 = 2,
  A3 = 3,
  START_SEQ = 4,
  LAST_SEQ = 5,
  ACK_SEQ = 6,
  STRIDE = 7,
}

/** Small integers of an endpoint row. */
export const enum EP_I {
  PORT = 0,
  STATE = 1,
  PREV_STATE = 2,
  FIN_COUNT = 3,
  HIST_SEEN = 4,
  TTL = 5,
  RST_TTL = 6,
  STRIDE = 7,
}

/** Bytes one flow takes in the store (its row and its two endpoint rows). */
export const BYTES_PER_FLOW =
  FL_F.STRIDE * 8 + FL_I.STRIDE * 4 + 2 * (EP_F.STRIDE * 8 + EP_U.STRIDE * 4 + EP_I.STRIDE * 4);

/** Rows per chunk: the store grows a chunk at a time, so it never copies rows or holds two copies. */
export const CHUNK_ROWS = 4096;

/**
 * CHUNK_ROWS flow rows (and their endpoint rows). A handle keeps its chunk: the arrays of a chunk
 * never change, so growing the store is allocating one more chunk (about 1.6 MB).
 */
export class FlowStore {
  readonly flF = new Float64Array(CHUNK_ROWS * FL_F.STRIDE);
  readonly flI = new Int32Array(CHUNK_ROWS * FL_I.STRIDE);
  readonly epF = new Float64Array(CHUNK_ROWS * 2 * EP_F.STRIDE);
  readonly epU = new Uint32Array(CHUNK_ROWS * 2 * EP_U.STRIDE);
  readonly epI = new Int32Array(CHUNK_ROWS * 2 * EP_I.STRIDE);
}
