/**
 * Where on the path a flow's packets died. The two capture points split the path into three
 * segments: beyond A (from point A to the endpoint on A's side), between the points, and beyond
 * B. Which endpoint is on which side comes from the TTL: a packet that travels from A to B
 * through a router is seen at B with a lower TTL than at A (RFC 791 section 3.2); a host's side,
 * once known from one flow, holds for its other flows.
 *
 * Then every packet of the flow is one of:
 * - seen at both points (it passed the segment between them);
 * - seen at the point on its sender's side only, while the other capture was running when it
 *   should have arrived: lost between the points (`lost_a_to_b`, `lost_b_to_a`);
 * - seen at the point on its receiver's side only, without passing the point on its sender's
 *   side: something between the points sent it. For a reset or an ICMP error that is an
 *   injected answer (a firewall's "reject"), not the far endpoint's own;
 * - seen at times the other capture did not cover: not judged.
 */
import { PacketKind, type CaptureEvidence } from './evidence.js';
import type { FlowPair, SideFlow } from './match.js';
import type { Direction, FlowPath, InjectedPacket, PathFinding, Point, Segment } from './types.js';

/** Seconds before the end of a capture in which a packet may simply not have arrived yet. */
const END_MARGIN = 0.25;

export interface PathContext {
  evA: CaptureEvidence;
  evB: CaptureEvidence;
  /**
   * When each capture was running, as far as the comparison assumes: a capture's own packets
   * span only the time it saw traffic, so when the two overlap, both are taken to run from the
   * first packet of either to the last of either (a flow dropped before the server side saw
   * anything is the case that matters most). Null when the capture had no packets.
   */
  windows: Record<Point, { first: number; last: number } | null>;
  /** Each capture's own first and last packet, to say when a judged packet lies outside them. */
  spans: Record<Point, { first: number; last: number } | null>;
  /** TTL of each host's first packet (not a reset, not an ICMP error) at each point. */
  ttls: Record<Point, Map<string, number>>;
  /** B's clock minus A's (0 when unknown). */
  offset: number;
  clientSide: Point;
  sides: HostSides;
}

/** Which side of the points a host is on, learned from the TTLs of its packets seen at both. */
export class HostSides {
  private readonly votes: Record<Point, Map<string, [number, number]>> = { a: new Map(), b: new Map() };

  vote(point: Point, host: string, side: Point): void {
    const v = this.votes[point].get(host) ?? [0, 0];
    v[side === 'a' ? 0 : 1]++;
    this.votes[point].set(host, v);
  }

  side(point: Point, host: string): Point | undefined {
    const v = this.votes[point].get(host);
    if (!v || v[0] === v[1]) return undefined;
    return v[0] > v[1] ? 'a' : 'b';
  }
}

const other = (p: Point): Point => (p === 'a' ? 'b' : 'a');

/** The capture's evidence and the flow's two ends, by the pair's direction (A's, or B's for a B-only flow). */
function endAddress(f: SideFlow, end: number): string {
  return end === 0 ? f.ev!.src : f.ev!.dst;
}

/** The pair's direction of a row of side `point` (B's rows are flipped into A's terms). */
function pairDir(pair: FlowPair, point: Point, ev: CaptureEvidence, row: number): number {
  return point === 'b' && pair.a ? ev.dir[row] ^ pair.flip : ev.dir[row];
}

/** Learns host sides from a pair's matched packets (the TTL falls along the way). */
export function learnSides(
  pair: FlowPair,
  evA: CaptureEvidence,
  evB: CaptureEvidence,
  sides: HostSides,
): void {
  if (!pair.a?.ev || !pair.b?.ev) return;
  pair.matchA.forEach((rb, i) => {
    if (rb < 0) return;
    const ra = pair.a!.rows[i];
    if (evA.ttl[ra] === evB.ttl[rb]) return;
    const from: Point = evA.ttl[ra] > evB.ttl[rb] ? 'a' : 'b';
    sides.vote('a', endAddress(pair.a!, evA.dir[ra]), from);
    sides.vote('b', endAddress(pair.b!, evB.dir[rb]), from);
  });
}

interface Tally {
  rows: number[];
  kinds: Map<PacketKind, number>;
}

const newTally = (): Tally => ({ rows: [], kinds: new Map() });

function count(t: Tally, kind: PacketKind, row: number): void {
  t.rows.push(row);
  t.kinds.set(kind, (t.kinds.get(kind) ?? 0) + 1);
}

const KIND_WORDS: Record<PacketKind, [string, string]> = {
  [PacketKind.Other]: ['packet', 'packets'],
  [PacketKind.Syn]: ['SYN', 'SYNs'],
  [PacketKind.SynAck]: ['SYN-ACK', 'SYN-ACKs'],
  [PacketKind.Rst]: ['reset', 'resets'],
  [PacketKind.Fin]: ['FIN', 'FINs'],
  [PacketKind.Data]: ['data packet', 'data packets'],
  [PacketKind.Ack]: ['ACK', 'ACKs'],
  [PacketKind.IcmpError]: ['ICMP error', 'ICMP errors'],
};

/** "3 SYNs", "2 SYN-ACKs and 1 ACK", "12 data packets". */
export function describeKinds(kinds: Map<PacketKind, number>): string {
  const parts = [...kinds]
    .sort((x, y) => x[0] - y[0])
    .map(([k, n]) => `${n} ${KIND_WORDS[k][n === 1 ? 0 : 1]}`);
  return parts.length <= 1
    ? (parts[0] ?? 'no packets')
    : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

export interface PathResult {
  path: FlowPath;
  /** The side of the flow's originator. */
  origin: Point;
  lost: Record<'a_to_b' | 'b_to_a', { count: number; firstFrame?: number }>;
  injected?: InjectedPacket;
}

/** How a report names a capture point: "the client capture (a)". */
export function pointName(point: Point, clientSide: Point): string {
  return `the ${point === clientSide ? 'client' : 'server'} capture (${point})`;
}

/**
 * `quotedInjected`: an ICMP error about this flow that reached one point without passing the
 * other (judged first, as a flow of its own).
 */
export function judgePath(pair: FlowPair, ctx: PathContext, quotedInjected?: InjectedPacket): PathResult {
  const { evA, evB } = ctx;
  const evOf = (p: Point): CaptureEvidence => (p === 'a' ? evA : evB);
  const seen: Point[] = [];
  if (pair.a) seen.push('a');
  if (pair.b) seen.push('b');
  const base = (pair.a ?? pair.b)!;
  const name = (p: Point): string => pointName(p, ctx.clientSide);
  const short = (p: Point): string => `the ${p === ctx.clientSide ? 'client' : 'server'} capture`;

  // Each end's address as each capture shows it (pair direction d: end d).
  const address = (point: Point, end: number): string | undefined => {
    const f = point === 'a' ? pair.a : pair.b;
    if (!f?.ev) return undefined;
    return endAddress(f, point === 'b' && pair.a ? end ^ pair.flip : end);
  };
  // Each end's side: its own packets' TTLs in this pair, else what other flows taught, else the
  // originator is on the client's side.
  const local = new HostSides();
  learnSides(pair, evA, evB, local);
  const sideOf = (end: number): Point | undefined => {
    for (const s of [local, ctx.sides])
      for (const p of ['a', 'b'] as const) {
        const h = address(p, end);
        const side = h === undefined ? undefined : s.side(p, h);
        if (side) return side;
      }
    return undefined;
  };
  const origEnd = (() => {
    const f = base;
    if (!f.ev) return 0;
    const d = f.rec.orig_h === f.ev.src && (f.rec.orig_p === f.ev.srcPort || f.ev.srcPort === 0) ? 0 : 1;
    return f.point === 'b' && pair.a ? d ^ pair.flip : d;
  })();
  const isIcmpFlow = base.rec.proto === 'icmp';
  let side0 = sideOf(0);
  let side1 = sideOf(1);
  if (side0 === undefined && side1 !== undefined) side0 = other(side1);
  if (side1 === undefined && side0 !== undefined) side1 = other(side0);
  if (side0 === undefined || side1 === undefined) {
    // An ICMP error seen at one point only: its receiver is on that point's side. Anything else:
    // the originator is on the client's side.
    const origSide: Point = isIcmpFlow && seen.length === 1 ? other(seen[0]) : ctx.clientSide;
    side0 = origEnd === 0 ? origSide : other(origSide);
    side1 = other(side0);
  }
  const sideOfEnd = (end: number): Point => (end === 0 ? side0! : side1!);

  // Judged when the other capture was surely running when the packet should have got there: up
  // to its own last packet, or (the two taken to run together) up to shortly before the end of both.
  const inWindow = (point: Point, t: number): boolean => {
    const w = ctx.windows[point];
    const own = ctx.spans[point];
    const ev = evOf(point);
    if (w === null || t >= ev.cutTs || t < w.first - 0.001) return false;
    return t <= w.last - END_MARGIN || (own !== null && t <= own.last);
  };
  const toClock = (from: Point, t: number): number => (from === 'a' ? t + ctx.offset : t - ctx.offset);

  const passed = { a_to_b: newTally(), b_to_a: newTally() };
  const lost = { a_to_b: newTally(), b_to_a: newTally() };
  let outside = 0;
  let appeared = 0;
  let injected: InjectedPacket | undefined;
  const endTtl = (point: Point, end: number): number | undefined => {
    const f = point === 'a' ? pair.a : pair.b;
    if (!f) return undefined;
    const ev = evOf(point);
    for (const r of f.rows)
      if (
        pairDir(pair, point, ev, r) === end &&
        ev.kind[r] !== PacketKind.Rst &&
        ev.kind[r] !== PacketKind.IcmpError
      )
        return ev.ttl[r];
    const host = address(point, end);
    return host === undefined ? undefined : ctx.ttls[point].get(host);
  };
  // Judged packets the other capture's own packets do not span (it may not have been running).
  let beforeOther = 0;
  let afterOther = 0;
  const ownSpan = (point: Point, t: number): boolean => {
    const s = ctx.spans[point];
    return s !== null && t >= s.first - 0.001 && t <= s.last;
  };
  for (const point of seen) {
    const f = (point === 'a' ? pair.a : pair.b)!;
    const ev = evOf(point);
    const match = point === 'a' ? pair.matchA : pair.matchB;
    const far = other(point);
    f.rows.forEach((r, i) => {
      const end = pairDir(pair, point, ev, r);
      const from = sideOfEnd(end);
      const kind = ev.kind[r] as PacketKind;
      const way = from === 'a' ? 'a_to_b' : 'b_to_a';
      if (match[i] >= 0) {
        if (point === 'a') count(passed[way], kind, r);
        return;
      }
      const there = toClock(point, ev.ts[r]);
      if (!inWindow(far, there)) {
        outside++;
        return;
      }
      if (!ownSpan(far, there)) {
        if (there < (ctx.spans[far]?.first ?? Infinity)) beforeOther++;
        else afterOther++;
      }
      if (from === point) {
        count(lost[way], kind, r);
        return;
      }
      // It reached this point from the other point's direction without passing the other point.
      appeared++;
      if (injected === undefined && (kind === PacketKind.Rst || kind === PacketKind.IcmpError)) {
        const address = endAddress(f, ev.dir[r]);
        const ttl = ev.ttl[r];
        const endpointTtl = kind === PacketKind.Rst ? endTtl(point, end) : undefined;
        const sender = kind === PacketKind.Rst ? address : undefined;
        injected = {
          kind: kind === PacketKind.Rst ? 'tcp-reset' : 'icmp',
          seen_at: point,
          frame: ev.frame[r],
          address,
          ttl,
          ...(endpointTtl !== undefined ? { endpoint_ttl: endpointTtl } : {}),
          text:
            kind === PacketKind.Rst
              ? `a reset from ${sender}'s address (TTL ${ttl}${endpointTtl !== undefined ? `; ${sender}'s own packets arrive with ${endpointTtl}` : ''}) reached ${name(point)} without passing ${name(far)}: a device between the two sent it, not ${sender}`
              : `an ICMP error from ${address} (TTL ${ttl}) reached ${name(point)} without passing ${name(far)}: ${address} is between the two`,
        };
      }
    });
  }

  if (injected === undefined) injected = quotedInjected;
  const origSide = sideOfEnd(origEnd);
  const respSide = sideOfEnd(origEnd ^ 1);
  const near = origSide;
  const farPoint = respSide;
  const fwd: 'a_to_b' | 'b_to_a' = near === 'a' ? 'a_to_b' : 'b_to_a';
  const ret: 'a_to_b' | 'b_to_a' = fwd === 'a_to_b' ? 'b_to_a' : 'a_to_b';
  const lostFwd = lost[fwd].rows.length;
  const lostRet = lost[ret].rows.length;
  const arrivedFwd = passed[fwd].rows.length;
  const arrivedRet = passed[ret].rows.length;
  const origHost = address(near, origEnd) ?? address(farPoint, origEnd) ?? base.rec.orig_h;
  const respHost = address(farPoint, origEnd ^ 1) ?? address(near, origEnd ^ 1) ?? base.rec.resp_h;
  const dirOf = (w: 'a_to_b' | 'b_to_a'): Direction => w;

  let finding: PathFinding;
  let segment: Segment | null = null;
  let direction: Direction | null = null;
  let text: string;
  const lossText = (): string => {
    if (lostFwd === 0) return '';
    return arrivedFwd === 0
      ? `${describeKinds(lost[fwd].kinds)} from ${origHost} passed ${short(near)}, none arrived at ${short(farPoint)}`
      : `${lostFwd} of ${lostFwd + arrivedFwd} packets from ${origHost} (${describeKinds(lost[fwd].kinds)}) passed ${short(near)} and never arrived at ${short(farPoint)}`;
  };
  const retText = (): string =>
    arrivedRet === 0
      ? `the answer (${describeKinds(lost[ret].kinds)} from ${respHost}) was seen at ${short(farPoint)}, never at ${short(near)}`
      : `${lostRet} of ${lostRet + arrivedRet} packets from ${respHost} (${describeKinds(lost[ret].kinds)}) were seen at ${short(farPoint)}, never at ${short(near)}`;

  const unkept = [pair.a, pair.b].some((f) => f !== undefined && (f.ev === undefined || f.rows.length === 0));
  if (unkept && pair.matched === 0) {
    finding = 'not-compared';
    text =
      'its packets were past what the comparison keeps (--max-packets, --max-records): judged as analyze judges it, not compared';
  } else if (origSide === respSide) {
    finding = 'local';
    text = `both ends are on the ${origSide === ctx.clientSide ? 'client' : 'server'} capture's side: the flow does not cross the path between the captures`;
  } else if (injected !== undefined) {
    finding = injected.kind === 'tcp-reset' ? 'injected-reset' : 'injected-icmp';
    segment = 'between';
    direction = lostFwd > 0 ? dirOf(fwd) : injected.seen_at === 'a' ? 'b_to_a' : 'a_to_b';
    const loss = lossText();
    text = `${injected.kind === 'tcp-reset' ? 'reset' : 'rejected'} between ${name('a')} and ${name('b')}: ${injected.text}${loss ? `; ${loss}` : ''}`;
  } else if (lostFwd > 0) {
    finding = arrivedFwd === 0 ? 'forward-path-dropped' : 'forward-path-loss';
    segment = 'between';
    direction = dirOf(fwd);
    text = `${arrivedFwd === 0 ? 'dropped' : 'lost'} between ${name(near)} and ${name(farPoint)}: ${lossText()}`;
    if (lostRet > 0) {
      direction = 'both';
      text += `; and ${retText()}`;
    }
  } else if (lostRet > 0) {
    finding = arrivedRet === 0 ? 'return-path-dropped' : 'return-path-loss';
    segment = 'between';
    direction = dirOf(ret);
    text = `${arrivedRet === 0 ? 'return path dropped' : 'return path lossy'} between ${name(farPoint)} and ${name(near)}: ${retText()}`;
  } else if (seen.length === 2) {
    const far = farPoint === 'a' ? pair.a! : pair.b!;
    const ev = evOf(farPoint);
    const fromResp = [...far.rows].filter((r) => pairDir(pair, farPoint, ev, r) === (origEnd ^ 1));
    // What the originator's side made of it: a refusal that passed both points came from beyond.
    const network = (near === 'a' ? pair.a! : pair.b!).rec.network;
    const refused = network === 'refused' || network === 'filtered';
    if (arrivedFwd > 0 && fromResp.length === 0 && !refused) {
      finding = 'not-answered-beyond';
      segment = farPoint === 'a' ? 'beyond-a' : 'beyond-b';
      direction = dirOf(fwd);
      text = `not answered beyond ${name(farPoint)}: ${describeKinds(passed[fwd].kinds)} from ${origHost} passed both captures, and no answer came back to either: ${respHost}, or something past ${short(farPoint)}, did not answer`;
    } else if (refused) {
      finding = 'refused-beyond';
      segment = farPoint === 'a' ? 'beyond-a' : 'beyond-b';
      direction = dirOf(fwd);
      text = `refused beyond ${name(farPoint)}: the refusal was seen at both captures, so it came from ${respHost} or something past ${short(farPoint)}, not from between the captures`;
    } else {
      finding = 'passed';
      text = `seen at both captures; nothing was lost between them (${pair.matched} packets at both)`;
    }
  } else if (outside > 0 && appeared === 0) {
    finding = 'outside-other-capture';
    text = `seen only at ${name(seen[0])}, at times ${name(other(seen[0]))} did not cover`;
  } else {
    finding = seen[0] === 'a' ? 'only-at-a' : 'only-at-b';
    text = `seen only at ${name(seen[0])}: ${appeared > 0 ? `${appeared} packets from the other side's direction never passed ${name(other(seen[0]))}` : 'nothing of it headed for the other capture'}`;
  }
  if (beforeOther + afterOther > 0 && segment === 'between') {
    const n = beforeOther + afterOther;
    const when =
      afterOther === 0
        ? 'before the first packet'
        : beforeOther === 0
          ? 'after the last packet'
          : 'outside the packets';
    text += ` (${n === 1 ? 'that packet came' : `${n} of these came`} ${when} of the other capture: if it was not running then, that is no loss)`;
  }
  const firstFrame = (t: Tally, ev: CaptureEvidence): number | undefined =>
    t.rows.length > 0 ? ev.frame[t.rows[0]] : undefined;
  return {
    origin: origSide,
    path: {
      finding,
      segment,
      direction,
      text,
      a_side: (side0 === 'a' ? address('a', 0) : address('a', 1)) ?? null,
      b_side: (side0 === 'b' ? address('b', 0) : address('b', 1)) ?? null,
      ...(pair.matchedBy ? { matched_by: pair.matchedBy } : {}),
      matched_packets: pair.matched,
    },
    lost: {
      a_to_b: { count: lost.a_to_b.rows.length, firstFrame: firstFrame(lost.a_to_b, evA) },
      b_to_a: { count: lost.b_to_a.rows.length, firstFrame: firstFrame(lost.b_to_a, evB) },
    },
    injected,
  };
}
