/**
 * Finds the flow record a decoded packet belongs to, for the passes that read a capture again
 * once its flows are known (`--write-pcap`, `compare`): by 5-tuple, as the flow table keyed it,
 * and by frame number, since one 5-tuple can carry several flows one after the other (a reused
 * port, a flow that timed out). A later IP fragment (no ports) goes to the flow of its addresses
 * and protocol that has fragments; an ICMP error can be looked up by the packet it quotes.
 *
 * Per packet: a hash of the view's 5-tuple (integers, as table.ts computes its own), one Map
 * lookup and a scan of the few records on that 5-tuple. Nothing is allocated for TCP and UDP.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, Fragment, type PacketView } from '../decode/view.js';
import { icmpPorts } from './community-id.js';

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

function mixWords(h: number, w0: number, w1: number, w2: number, w3: number): number {
  h = Math.imul(h ^ w0, 0x85ebca6b) ^ (h >>> 13);
  h = Math.imul(h ^ w1, 0xc2b2ae35) ^ (h >>> 16);
  h = Math.imul(h ^ w2, 0x27d4eb2f) ^ (h >>> 15);
  return Math.imul(h ^ w3, 0x165667b1) ^ (h >>> 13);
}

/** One endpoint's hash; a flow's is the XOR of both plus its protocol, so either direction gives it. */
function endpoint(w0: number, w1: number, w2: number, w3: number, port: number): number {
  return mixWords(Math.imul(port + 0x9e37, 0x9e3779b1), w0, w1, w2, w3);
}

function key(proto: number, a: number, b: number): number {
  return (a ^ b ^ Math.imul(proto + 1, 0x2545f491)) | 0;
}

export class FlowIndex<T extends FlowKeyFields> {
  private readonly byTuple = new Map<number, Entry<T>[]>();
  private readonly byAddresses = new Map<number, Entry<T>[]>();
  /** Set by find(): whether the packet went from the record's originator. */
  fromOrig = true;

  /** Indexes a record; `orig` and `resp` are its addresses as words (topology/address.ts parses them). */
  add(rec: T, orig: AddressWords, resp: AddressWords): void {
    const o = { w: orig.words };
    const r = { w: resp.words };
    const e: Entry<T> = { rec, version: orig.version, o: o.w, r: r.w };
    const tuple = key(
      rec.ip_proto,
      endpoint(o.w[0], o.w[1], o.w[2], o.w[3], rec.orig_p),
      endpoint(r.w[0], r.w[1], r.w[2], r.w[3], rec.resp_p),
    );
    push(this.byTuple, tuple, e);
    if ((rec.fragments ?? 0) > 0) {
      const pair = key(
        rec.ip_proto,
        endpoint(o.w[0], o.w[1], o.w[2], o.w[3], 0),
        endpoint(r.w[0], r.w[1], r.w[2], r.w[3], 0),
      );
      push(this.byAddresses, pair, e);
    }
  }

  /** The record the packet in `view`, frame number `frame`, belongs to; null when none does. */
  find(view: PacketView, frame: number): T | null {
    const proto = view.proto;
    let sport = 0;
    let dport = 0;
    if (view.fragment === Fragment.Later) return this.findFragment(view, frame);
    if (view.hasPorts) {
      sport = view.srcPort;
      dport = view.dstPort;
    } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && view.icmpType >= 0) {
      const ports = icmpPorts(proto, view.icmpType, view.icmpCode);
      sport = ports.sport;
      dport = ports.dport;
    }
    const list = this.byTuple.get(
      key(
        proto,
        endpoint(view.src0, view.src1, view.src2, view.src3, sport),
        endpoint(view.dst0, view.dst1, view.dst2, view.dst3, dport),
      ),
    );
    if (list === undefined) return null;
    for (const e of list) {
      const rec = e.rec;
      if (
        frame < rec.first_frame ||
        frame > rec.last_frame ||
        rec.ip_proto !== proto ||
        e.version !== view.ipVersion
      )
        continue;
      if (rec.orig_p === sport && rec.resp_p === dport && same(e.o, view, true) && same(e.r, view, false)) {
        this.fromOrig = true;
        return rec;
      }
      if (rec.orig_p === dport && rec.resp_p === sport && same(e.o, view, false) && same(e.r, view, true)) {
        this.fromOrig = false;
        return rec;
      }
    }
    return null;
  }

  /**
   * For an ICMP error (view.quoteValid): the record of the packet it quotes that was live at `ts`
   * (or ended at most `slack` seconds before it: the error can follow the last packet), or null.
   */
  findQuoted(view: PacketView, ts: number, slack: number, timeOf: (rec: T) => [number, number]): T | null {
    if (!view.quoteValid) return null;
    const sport = view.quoteHasPorts ? view.quoteSrcPort : 0;
    const dport = view.quoteHasPorts ? view.quoteDstPort : 0;
    const list = this.byTuple.get(
      key(
        view.quoteProto,
        endpoint(view.quoteSrc0, view.quoteSrc1, view.quoteSrc2, view.quoteSrc3, sport),
        endpoint(view.quoteDst0, view.quoteDst1, view.quoteDst2, view.quoteDst3, dport),
      ),
    );
    if (list === undefined) return null;
    for (const e of list) {
      const rec = e.rec;
      const [first, last] = timeOf(rec);
      if (ts < first || ts > last + slack || rec.ip_proto !== view.quoteProto) continue;
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
      if (rec.orig_p === sport && rec.resp_p === dport && q(e.o, true) && q(e.r, false)) return rec;
      if (rec.orig_p === dport && rec.resp_p === sport && q(e.o, false) && q(e.r, true)) return rec;
    }
    return null;
  }

  private findFragment(view: PacketView, frame: number): T | null {
    const list = this.byAddresses.get(
      key(
        view.proto,
        endpoint(view.src0, view.src1, view.src2, view.src3, 0),
        endpoint(view.dst0, view.dst1, view.dst2, view.dst3, 0),
      ),
    );
    if (list === undefined) return null;
    for (const e of list) {
      const rec = e.rec;
      if (frame < rec.first_frame || frame > rec.last_frame || rec.ip_proto !== view.proto) continue;
      if (same(e.o, view, true) && same(e.r, view, false)) {
        this.fromOrig = true;
        return rec;
      }
      if (same(e.o, view, false) && same(e.r, view, true)) {
        this.fromOrig = false;
        return rec;
      }
    }
    return null;
  }
}

function push<T>(map: Map<number, Entry<T>[]>, k: number, e: Entry<T>): void {
  const list = map.get(k);
  if (list === undefined) map.set(k, [e]);
  else list.push(e);
}

function same(w: [number, number, number, number], view: PacketView, src: boolean): boolean {
  return src
    ? w[3] === view.src3 && w[2] === view.src2 && w[1] === view.src1 && w[0] === view.src0
    : w[3] === view.dst3 && w[2] === view.dst2 && w[1] === view.dst1 && w[0] === view.dst0;
}
