/**
 * Finding the same flow, and the same packets, in two captures of one path.
 *
 * Flows: first by 5-tuple (the client-side capture's endpoints translated by --nat mappings),
 * one flow per tuple on each side paired at once, several (a port reused) by the nearest start
 * time; then, for what is left, by what a NAT keeps (evidence.ts): each leftover flow of A votes,
 * with its first packets' fingerprints, for the leftover flows of B that hold the same packets.
 *
 * Packets: within a pair of flows, per direction, the same fingerprint in time order (a
 * retransmission pairs with its own copy, not the original's). The clock offset between the
 * captures comes from the pairs: a packet that travels from A to B is seen at B later by the
 * transit time, one that travels back earlier by it, so the medians of both directions averaged
 * cancel the transit out (the TTL tells the direction: a router between the points lowers it,
 * RFC 791 section 3.2 "Time to Live", RFC 8200 section 3 "Hop Limit").
 */
import type { JudgedFlow } from '../verdict/types.js';
import { MARK_ID, MARK_SEQ, recordKey, type CaptureEvidence, type EvidenceFlow } from './evidence.js';
import { translate, type NatMapping } from './nat.js';
import type { Point } from './types.js';

/** One flow as one capture holds it. */
export interface SideFlow {
  point: Point;
  rec: JudgedFlow;
  /** Its packet evidence (absent when the flow started after the evidence bound). */
  ev: EvidenceFlow | undefined;
  /** Its kept packets: rows of the capture's evidence, in capture order. */
  rows: Int32Array;
}

export interface FlowPair {
  a?: SideFlow;
  b?: SideFlow;
  matchedBy?: '5-tuple' | 'nat-mapping' | 'nat-fingerprint';
  /** 0 when A's direction 0 is B's direction 0, 1 when the two captures saw the flow start from opposite ends. */
  flip: number;
  /** Per position in a.rows: the matched row of B's evidence, or -1; and the other way. */
  matchA: Int32Array;
  matchB: Int32Array;
  matched: number;
  /** Matched packets whose fingerprint tells them apart from other flows' (evidence.ts MARK_*). */
  strong: number;
}

export interface ClockEstimate {
  offset: number | null;
  packets: number;
  transit?: number;
}

/** Seconds within which, once the offset is known, two sightings can be the same packet. */
const MATCH_TOLERANCE = 5;
/** Packets of a leftover flow that vote for its NAT partner. */
const VOTING_PACKETS = 32;
/** A fingerprint shared by more packets than this is no evidence of a NAT partner (and would cost). */
const MAX_VOTERS = 64;
/** Flows on one reused 5-tuple paired by nearest start time; beyond, simply in time order. */
const MAX_REUSE_OPTIONS = 4096;

/** The flows of one capture with their evidence, found by first frame, protocol and ports. */
export function sideFlows(point: Point, flows: readonly JudgedFlow[], ev: CaptureEvidence): SideFlow[] {
  const byKey = new Map<string, EvidenceFlow>();
  for (const f of ev.flows) byKey.set(recordKey(f.firstFrame, f.proto, f.ports[0], f.ports[1]), f);
  const rows = ev.packetsByFlow();
  return flows.map((rec) => {
    const e = byKey.get(recordKey(rec.first_frame, rec.ip_proto, rec.orig_p, rec.resp_p));
    return { point, rec, ev: e, rows: e ? rows[e.index] : new Int32Array(0) };
  });
}

/** Appends to the list under `key`, making it when there is none. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function median(values: number[]): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Pairs the packets of two flows, per direction, by the fingerprint that pairs more of them.
 * `offset` (when known) keeps pairs within MATCH_TOLERANCE of each other.
 */
export function pairPackets(
  a: SideFlow,
  b: SideFlow,
  evA: CaptureEvidence,
  evB: CaptureEvidence,
  flip: number,
  offset: number | null,
): { matchA: Int32Array; matchB: Int32Array; matched: number; strong: number } {
  const matchA = new Int32Array(a.rows.length).fill(-1);
  const matchB = new Int32Array(b.rows.length).fill(-1);
  let matched = 0;
  let strong = 0;
  const posB = new Map<number, number>();
  b.rows.forEach((row, i) => posB.set(row, i));
  for (let d = 0; d < 2; d++) {
    const rowsA = a.rows.filter((r) => evA.dir[r] === d);
    const rowsB = b.rows.filter((r) => evB.dir[r] === (d ^ flip));
    if (rowsA.length === 0 || rowsB.length === 0) continue;
    let best: [number, number][] = [];
    let bestMark = MARK_ID;
    for (const which of ['id', 'seq'] as const) {
      const keyA = which === 'id' ? evA.keyId : evA.keySeq;
      const keyB = which === 'id' ? evB.keyId : evB.keySeq;
      const queues = new Map<number, { rows: number[]; next: number }>();
      for (const r of rowsB) {
        const q = queues.get(keyB[r]);
        if (q) q.rows.push(r);
        else queues.set(keyB[r], { rows: [r], next: 0 });
      }
      const pairs: [number, number][] = [];
      for (const ra of rowsA) {
        const q = queues.get(keyA[ra]);
        if (!q) continue;
        while (q.next < q.rows.length) {
          const rb = q.rows[q.next];
          const gap = offset === null ? 0 : evB.ts[rb] - evA.ts[ra] - offset;
          if (gap < -MATCH_TOLERANCE) {
            q.next++; // too early for this packet, and so for every later one
            continue;
          }
          if (gap > MATCH_TOLERANCE) break;
          q.next++;
          pairs.push([ra, rb]);
          break;
        }
      }
      if (pairs.length > best.length) {
        best = pairs;
        bestMark = which === 'id' ? MARK_ID : MARK_SEQ;
      }
    }
    const posA = new Map<number, number>();
    a.rows.forEach((row, i) => posA.set(row, i));
    for (const [ra, rb] of best) {
      matchA[posA.get(ra)!] = rb;
      matchB[posB.get(rb)!] = ra;
      matched++;
      if (evA.marks[ra] & bestMark) strong++;
    }
  }
  return { matchA, matchB, matched, strong };
}

/** The clock offset (B minus A) from every matched packet, with the direction its TTL shows. */
export function estimateClock(
  pairs: readonly FlowPair[],
  evA: CaptureEvidence,
  evB: CaptureEvidence,
): ClockEstimate {
  const toB: number[] = [];
  const toA: number[] = [];
  const level: number[] = [];
  for (const p of pairs) {
    if (!p.a || !p.b) continue;
    p.matchA.forEach((rb, i) => {
      if (rb < 0) return;
      const ra = p.a!.rows[i];
      const d = evB.ts[rb] - evA.ts[ra];
      if (evA.ttl[ra] > evB.ttl[rb]) toB.push(d);
      else if (evA.ttl[ra] < evB.ttl[rb]) toA.push(d);
      else level.push(d);
    });
  }
  const packets = toB.length + toA.length + level.length;
  if (toB.length > 0 && toA.length > 0) {
    const mb = median(toB);
    const ma = median(toA);
    return { offset: (mb + ma) / 2, packets, transit: (mb - ma) / 2 };
  }
  if (packets === 0) return { offset: null, packets };
  return { offset: median([...toB, ...toA, ...level]), packets };
}

export interface MatchOptions {
  nat: readonly NatMapping[];
  /** The capture nearer the client: its endpoints are the INSIDE of --nat mappings. */
  clientSide: Point;
}

export interface MatchResult {
  pairs: FlowPair[];
  clock: ClockEstimate;
}

export function matchFlows(
  flowsA: SideFlow[],
  flowsB: SideFlow[],
  evA: CaptureEvidence,
  evB: CaptureEvidence,
  opts: MatchOptions,
): MatchResult {
  // Endpoints as the server-side capture shows them (the client side's translated by --nat).
  const inside = opts.clientSide;
  const show = (point: Point, h: string, p: number): string => {
    const t = point === inside ? translate(opts.nat, h, p) : undefined;
    return t ? `${t.host}|${t.port}` : `${h}|${p}`;
  };
  const keyOf = (f: SideFlow): { key: string; mapped: boolean } => {
    const r = f.rec;
    const o = show(f.point, r.orig_h, r.orig_p);
    const s = show(f.point, r.resp_h, r.resp_p);
    const mapped = o !== `${r.orig_h}|${r.orig_p}` || s !== `${r.resp_h}|${r.resp_p}`;
    return { key: o < s ? `${r.ip_proto}|${o}|${s}` : `${r.ip_proto}|${s}|${o}`, mapped };
  };
  const groupsA = new Map<string, SideFlow[]>();
  const groupsB = new Map<string, SideFlow[]>();
  const mappedKey = new Set<string>();
  for (const f of flowsA) {
    const { key, mapped } = keyOf(f);
    if (mapped) mappedKey.add(key);
    push(groupsA, key, f);
  }
  for (const f of flowsB) {
    const { key, mapped } = keyOf(f);
    if (mapped) mappedKey.add(key);
    push(groupsB, key, f);
  }
  const pairs: FlowPair[] = [];
  const usedA = new Set<SideFlow>();
  const usedB = new Set<SideFlow>();
  const pairUp = (
    a: SideFlow,
    b: SideFlow,
    by: FlowPair['matchedBy'],
    flip: number,
    offset: number | null,
  ): FlowPair => {
    const m = pairPackets(a, b, evA, evB, flip, offset);
    usedA.add(a);
    usedB.add(b);
    const p: FlowPair = { a, b, matchedBy: by, flip, ...m };
    pairs.push(p);
    return p;
  };
  // Whether the two captures saw the flow's first packet come from the same end.
  const orientation = (a: SideFlow, b: SideFlow): number =>
    a.ev && b.ev && show('a', a.ev.src, a.ev.srcPort) !== show('b', b.ev.src, b.ev.srcPort) ? 1 : 0;
  // 1. One flow per 5-tuple on each side.
  for (const [key, as] of groupsA) {
    const bs = groupsB.get(key);
    if (!bs || as.length !== 1 || bs.length !== 1) continue;
    const a = as[0];
    const b = bs[0];
    pairUp(a, b, mappedKey.has(key) ? 'nat-mapping' : '5-tuple', orientation(a, b), null);
  }
  // The same 5-tuple without one packet in common is not the same flow (another time, a port
  // reused): both stay flows of their own.
  for (let i = pairs.length - 1; i >= 0; i--) {
    const p = pairs[i];
    if (p.strong > 0 || p.a!.rows.length === 0 || p.b!.rows.length === 0) continue;
    usedA.delete(p.a!);
    usedB.delete(p.b!);
    pairs.splice(i, 1);
  }
  let clock = estimateClock(pairs, evA, evB);
  // 2. A tuple used more than once (ports reused): the nearest start times, once the offset is known.
  const shift = clock.offset ?? 0;
  for (const [key, as] of groupsA) {
    const bs = groupsB.get(key);
    if (!bs || (as.length === 1 && bs.length === 1)) continue;
    const options: { a: SideFlow; b: SideFlow; gap: number }[] = [];
    const gap = (a: SideFlow, b: SideFlow): number => Math.abs(b.rec.ts - a.rec.ts - shift);
    if (as.length * bs.length <= MAX_REUSE_OPTIONS) {
      for (const a of as) for (const b of bs) options.push({ a, b, gap: gap(a, b) });
      options.sort((x, y) => x.gap - y.gap);
    } else {
      // A crafted capture reusing one tuple thousands of times: pair in time order, linear.
      const byTs = (x: SideFlow, y: SideFlow): number => x.rec.ts - y.rec.ts;
      const sa = [...as].sort(byTs);
      const sb = [...bs].sort(byTs);
      for (let i = 0; i < Math.min(sa.length, sb.length); i++)
        options.push({ a: sa[i], b: sb[i], gap: gap(sa[i], sb[i]) });
    }
    for (const o of options) {
      if (usedA.has(o.a) || usedB.has(o.b) || o.gap > o.a.rec.duration + o.b.rec.duration + MATCH_TOLERANCE)
        continue;
      const p = pairUp(
        o.a,
        o.b,
        mappedKey.has(key) ? 'nat-mapping' : '5-tuple',
        orientation(o.a, o.b),
        clock.offset,
      );
      if (p.strong === 0 && o.a.rows.length > 0 && o.b.rows.length > 0) {
        pairs.pop();
        usedA.delete(o.a);
        usedB.delete(o.b);
      }
    }
  }
  // 3. What a NAT keeps: leftover flows of A vote, packet by packet, for leftover flows of B.
  const leftB = flowsB.filter((f) => !usedB.has(f) && f.ev);
  const ownerB = new Map<number, SideFlow>();
  const byId = new Map<number, number[]>();
  const bySeq = new Map<number, number[]>();
  for (const f of leftB)
    for (const r of f.rows.subarray(0, VOTING_PACKETS)) {
      ownerB.set(r, f);
      if (evB.marks[r] & MARK_ID) push(byId, evB.keyId[r], r);
      if (evB.marks[r] & MARK_SEQ) push(bySeq, evB.keySeq[r], r);
    }
  const candidates: { a: SideFlow; b: SideFlow; votes: number }[] = [];
  for (const a of flowsA) {
    if (usedA.has(a) || !a.ev) continue;
    const votes = new Map<SideFlow, number>();
    for (const ra of a.rows.subarray(0, VOTING_PACKETS)) {
      const seen = new Set<SideFlow>();
      const look = (list: number[] | undefined): void => {
        if (list === undefined || list.length > MAX_VOTERS) return;
        for (const rb of list) {
          const b = ownerB.get(rb)!;
          if (b.rec.ip_proto !== a.rec.ip_proto || seen.has(b)) continue;
          if (clock.offset !== null && Math.abs(evB.ts[rb] - evA.ts[ra] - clock.offset) > MATCH_TOLERANCE)
            continue;
          seen.add(b);
          votes.set(b, (votes.get(b) ?? 0) + 1);
        }
      };
      if (evA.marks[ra] & MARK_ID) look(byId.get(evA.keyId[ra]));
      if (evA.marks[ra] & MARK_SEQ) look(bySeq.get(evA.keySeq[ra]));
    }
    for (const [b, n] of votes) {
      const portsA = [a.rec.orig_p, a.rec.resp_p];
      const sharesPort = portsA.includes(b.rec.orig_p) || portsA.includes(b.rec.resp_p);
      if (n >= 2 || sharesPort) candidates.push({ a, b, votes: n });
    }
  }
  candidates.sort((x, y) => y.votes - x.votes);
  for (const c of candidates) {
    if (usedA.has(c.a) || usedB.has(c.b)) continue;
    const straight = pairPackets(c.a, c.b, evA, evB, 0, clock.offset);
    const crossed = pairPackets(c.a, c.b, evA, evB, 1, clock.offset);
    const flip = crossed.matched > straight.matched ? 1 : 0;
    if ((flip ? crossed : straight).strong === 0) continue;
    pairUp(c.a, c.b, 'nat-fingerprint', flip, clock.offset);
  }
  clock = estimateClock(pairs, evA, evB);
  for (const f of flowsA) if (!usedA.has(f)) pairs.push(single(f));
  for (const f of flowsB) if (!usedB.has(f)) pairs.push(single(f));
  return { pairs, clock };
}

function single(f: SideFlow): FlowPair {
  const none = new Int32Array(f.rows.length).fill(-1);
  return f.point === 'a'
    ? { a: f, flip: 0, matchA: none, matchB: new Int32Array(0), matched: 0, strong: 0 }
    : { b: f, flip: 0, matchA: new Int32Array(0), matchB: none, matched: 0, strong: 0 };
}
