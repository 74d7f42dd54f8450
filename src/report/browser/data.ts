/**
 * The flow rows the HTML page embeds, shared by the writer (html.ts) and the page script: one
 * array per flow, texts interned in one string table (hosts, roles, verdicts and reasons repeat
 * across thousands of flows), times in milliseconds from the capture's first flow. -1 is "none".
 */
export const COL = {
  ts: 0,
  dur: 1,
  proto: 2,
  origH: 3,
  origP: 4,
  respH: 5,
  respP: 6,
  origRole: 7,
  respRole: 8,
  verdict: 9,
  status: 10,
  app: 11,
  reason: 12,
  first: 13,
  last: 14,
  cid: 15,
  problem: 16,
  keys: 17,
  info: 18,
} as const;

export type Row = [
  ts: number,
  dur: number,
  proto: number,
  origH: number,
  origP: number,
  respH: number,
  respP: number,
  origRole: number,
  respRole: number,
  verdict: number,
  status: number,
  app: number,
  reason: number,
  first: number,
  last: number,
  cid: number,
  problem: 0 | 1,
  /** The matrix cells (role|row id) the flow counts in, as string indices. */
  keys: number[],
  /** What the application said that identifies the flow: a TLS SNI, a SIP User-Agent, an HTTP Host. */
  info: number,
];

export interface PageData {
  /** Seconds since the epoch that row times count from. */
  t0: number;
  strings: string[];
  rows: Row[];
  /** Sort rank of each verdict (most severe first). */
  rank: Record<string, number>;
  /** The icon of each status, as the legend shows it. */
  icons: Record<string, string>;
}
