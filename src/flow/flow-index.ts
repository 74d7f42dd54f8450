/**
 * Finds the flow record a decoded packet belongs to, for the passes that read a capture again
 * once its flows are known (`--write-pcap`, `compare`): by 5-tuple, as the flow table keyed it,
 * and by frame number, since one 5-tuple can carry several flows one after the other (a reused
 * port, a flow that timed out). A later IP fragment (no ports) gets the ports of its datagram's
 * first fragment from the same cache the flow table uses (fragments.ts), so it goes to the flow
 * the table counted it to; an ICMP error can be looked up by the packet it quotes.
 *
 * Per packet: the flow table's keyed hash of the view's 5-tuple (keyed-hash.ts: a capture cannot
 * make its records share a key), one Map lookup, and a binary search by frame number among the
 * records of that 5-tuple (one 5-tuple can carry a million flows one after another: a scan that
 * reuses its source port), which are sorted by first frame once, before the first lookup.
 * Nothing is allocated for TCP and UDP.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, Fragment, type PacketView } from '../decode/view.js';
import { icmpPorts } from './community-id.js';
import { FragmentPorts } from './fragments.js';
import {
  packetTupleHash,
  quoteTupleHash,
  randomHashKey,
  wordsTupleHash,
  type HashKey,
} from './keyed-hash.js';

/** What the index needs of a record (a FlowRecord has it all). */
export interface FlowKeyFields {
  ip_proto: number;
  orig_h: string;
  orig_p: number;
  resp_h: string;
  resp_p: number;
  first_frame: number;
  last_frame: number;
  fragments?: number;
}

interface Entry<T> {
  rec: T;
  version: number;
  o: [number, number, number, number];
  r: [number, number, number, number];
}

/** An address as the flow stage keeps it: IP version and four 32-bit words (IPv4 in word 3). */
export interface AddressWords {
  version: number;
  words: [number, number, number, number];
}

/** Same-5-tuple records looked at, latest first, for the flow an ICMP error quotes. */
const QUOTED_CANDIDATES = 4;

export class FlowIndex<T extends FlowKeyFields> {
  private readonly key: HashKey = randomHashKey();
  private readonly byTuple = new Map<number, Entry<T>[]>();
  private readonly fragments = new FragmentPorts(this.key);
  private sorted = true;
  /** Set by find(): whether the packet went from the record's originator. */
  fromOrig = true;

  /** Indexes a record; `orig` and `resp` are its addresses as words (topology/address.ts parses them). */
  add(rec: T, orig: AddressWords, resp: AddressWords): void {
    const e: Entry<T> = { rec, version: orig.version, o: orig.words, r: resp.words };
    const h = wordsTupleHash(this.key, orig.version, rec.ip_proto, e.o, rec.orig_p, e.r, rec.resp_p);
    const list = this.byTuple.get(h);
    if (list === undefined) this.byTuple.set(h, [e]);
    else {
      list.push(e);
      this.sorted = false;
    }
  }

  /** The record the packet in `view`, frame number `frame`, belongs to; null when none does. */
  find(view: PacketView, frame: number): T | null {
    const proto = view.proto;
    let sport = 0;
    let dport = 0;
    if (view.fragment === Fragment.Later) {
      const entry = this.fragments.find(view);
      if (entry < 0) return null;
      sport = this.fragments.sourcePort(entry);
      dport = this.fragments.destPort(entry);
    } else if (view.hasPorts) {
      sport = view.srcPort;
      dport = view.dstPort;
      if (view.fragment === Fragment.First) this.fragments.remember(view, sport, dport);
    } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && view.icmpType >= 0) {
      const ports = icmpPorts(proto, view.icmpType, view.icmpCode);
      sport = ports.sport;
      dport = ports.dport;
    }
    const list = this.byTuple.get(packetTupleHash(this.key, view, sport, dport, proto));
    if (list === undefined) return null;
    // The last record of this 5-tuple that started at or before the frame is the only one it can
    // be in: the flows of one 5-tuple follow each other (one ends before the next starts).
    for (let i = this.startingBefore(list, frame); i >= 0; i--) {
      const e = list[i];
      const rec = e.rec;
      if (rec.ip_proto !== proto || e.version !== view.ipVersion) continue;
      const forward =
        rec.orig_p === sport && rec.resp_p === dport && same(e.o, view, true) && same(e.r, view, false);
      if (
        !forward &&
        !(rec.orig_p === dport && rec.resp_p === sport && same(e.o, view, false) && same(e.r, view, true))
      )
        continue;
      if (frame > rec.last_frame) return null;
      this.fromOrig = forward;
      return rec;
    }
    return null;
  }

  /**
   * For an ICMP error (view.quoteValid) in frame `frame`: the record of the packet it quotes that
   * was live at `ts` (or ended at most `slack` seconds before it: the error can follow the last
   * packet), among the last few of that 5-tuple that started before the error; or null.
   */
  findQuoted(
    view: PacketView,
    frame: number,
    ts: number,
    slack: number,
    timeOf: (rec: T) => [number, number],
  ): T | null {
    if (!view.quoteValid) return null;
    const sport = view.quoteHasPorts ? view.quoteSrcPort : 0;
    const dport = view.quoteHasPorts ? view.quoteDstPort : 0;
    const list = this.byTuple.get(quoteTupleHash(this.key, view, sport, dport, view.quoteProto));
    if (list === undefined) return null;
    let candidates = 0;
    for (let i = this.startingBefore(list, frame); i >= 0 && candidates < QUOTED_CANDIDATES; i--) {
      const e = list[i];
      const rec = e.rec;
      if (rec.ip_proto !== view.quoteProto || e.version !== view.quoteIpVersion) continue;
      const q = (w: [number, number, number, number], src: boolean): boolean =>
        src
          ? w[3] === view.quoteSrc3 &&
            w[2] === view.quoteSrc2 &&
            w[1] === view.quoteSrc1 &&
            w[0] === view.quoteSrc0
          : w[3] === view.quoteDst3 &&
            w[2] === view.quoteDst2 &&
            w[1] === view.quoteDst1 &&
            w[0] === view.quoteDst0;
      const forward = rec.orig_p === sport && rec.resp_p === dport && q(e.o, true) && q(e.r, false);
      if (!forward && !(rec.orig_p === dport && rec.resp_p === sport && q(e.o, false) && q(e.r, true)))
        continue;
      candidates++;
      const [first, last] = timeOf(rec);
      if (ts >= first && ts <= last + slack) return rec;
    }
    return null;
  }

  /** The position of the last record in `list` whose first frame is at most `frame` (-1: none). */
  private startingBefore(list: Entry<T>[], frame: number): number {
    if (!this.sorted) {
      for (const l of this.byTuple.values()) if (l.length > 1) l.sort(byFirstFrame);
      this.sorted = true;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].rec.first_frame <= frame) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}

function byFirstFrame<T extends FlowKeyFields>(a: Entry<T>, b: Entry<T>): number {
  return a.rec.first_frame - b.rec.first_frame;
}

function same(w: [number, number, number, number], view: PacketView, src: boolean): boolean {
  return src
    ? w[3] === view.src3 && w[2] === view.src2 && w[1] === view.src1 && w[0] === view.src0
    : w[3] === view.dst3 && w[2] === view.dst2 && w[1] === view.dst1 && w[0] === view.dst0;
}
