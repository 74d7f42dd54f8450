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
  /** 1 when the originator is the slot's second endpoint row (flipFlow). */
  FLIP = 9,
  STRIDE = 10,
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
export const CHUNK_SHIFT = 12;
export const CHUNK_ROWS = 1 << CHUNK_SHIFT;
export const CHUNK_MASK = CHUNK_ROWS - 1;

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

/** What few flows carry besides numbers: ICMP errors about them, the quote of an ICMP error flow, a tunnel. */
export interface FlowExtras<E, Q, T> {
  icmpErrors: E | null;
  icmpQuote: Q | null;
  tunnel: T | null;
}

/**
 * Every slot's row (in chunks) and the few fields that hold objects, in arrays by slot: the
 * TCP/UDP history letters, the recognize stage's state, and the rare extras. A slot is a number;
 * the table works on slots, and hands the world a Flow handle bound to one (flow.ts).
 */
export class FlowRows<E = unknown, Q = unknown, T = unknown> {
  readonly chunks: FlowStore[] = [new FlowStore()];
  readonly histories: string[] = [];
  readonly apps: unknown[] = [];
  readonly extras: (FlowExtras<E, Q, T> | undefined)[] = [];

  /** Slots made so far (they are reused once free, never given back). */
  get size(): number {
    return this.histories.length;
  }

  /** A new slot (with a new chunk of rows when the last one is full). */
  add(): number {
    const slot = this.histories.length;
    if (slot >> CHUNK_SHIFT >= this.chunks.length) this.chunks.push(new FlowStore());
    this.histories.push('');
    this.apps.push(undefined);
    this.extras.push(undefined);
    return slot;
  }

  /** Lets go of what a slot's last flow held. */
  clear(slot: number): void {
    this.histories[slot] = '';
    this.apps[slot] = undefined;
    this.extras[slot] = undefined;
  }

  // Numbers of a slot's flow row (the table and the idle queues read these without a handle).
  flF(slot: number, field: FL_F): number {
    return this.chunks[slot >> CHUNK_SHIFT].flF[(slot & CHUNK_MASK) * FL_F.STRIDE + field];
  }
  setFlF(slot: number, field: FL_F, v: number): void {
    this.chunks[slot >> CHUNK_SHIFT].flF[(slot & CHUNK_MASK) * FL_F.STRIDE + field] = v;
  }
  flI(slot: number, field: FL_I): number {
    return this.chunks[slot >> CHUNK_SHIFT].flI[(slot & CHUNK_MASK) * FL_I.STRIDE + field];
  }
  setFlI(slot: number, field: FL_I, v: number): void {
    this.chunks[slot >> CHUNK_SHIFT].flI[(slot & CHUNK_MASK) * FL_I.STRIDE + field] = v;
  }
}
