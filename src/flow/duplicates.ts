/**
 * Exact duplicate frames: a SPAN session that mirrors both ports of a link (or both directions
 * of a VLAN) hands the capture every packet twice, a few microseconds apart, byte for byte the
 * same. Counted twice, every flow would show twice its packets and every retransmission count
 * would be wrong; `editcap -d` removes them the same way (an MD5 of each frame against the last
 * five frames).
 *
 * A decoded frame is a duplicate when one of the last RING frames, captured within `window`
 * seconds of it, has the same captured and wire lengths and the same fingerprint (below): its IP
 * and transport header fields (the IPv4 ID, the TCP flags, sequence numbers and window), its
 * transport checksum (which covers the whole payload and both addresses) and its first payload
 * word (RTP's sequence number). Two different frames pass that test only if they agree in all of
 * these within a few milliseconds: a host's own retransmission differs at least in its IP ID or
 * comes hundreds of milliseconds later. Frames that are not IP are not looked at (they are in no
 * flow). Typed arrays, no allocation, about 200 machine instructions a frame (docs/decisions.md).
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type PacketView } from '../decode/view.js';

/** Frames looked back at (editcap -d looks at 5): the two copies of a packet come close together. */
const RING = 8;
/** After a VXLAN header (whose inner packet is decoded later): the inner IP and transport headers. */
const INNER_HEADER_BYTES = 14 + 24;

/**
 * Default window: SPAN copies arrive microseconds apart (25 to 320 µs in the shared captures that
 * have them); a host's own resend comes hundreds of milliseconds later. `--duplicate-window`
 * widens it for a congested mirror port.
 */
export const DEFAULT_DUPLICATE_WINDOW = 0.0005;

export class DuplicateFilter {
  /** Frames dropped as duplicates so far. */
  dropped = 0;
  private readonly prints = new Int32Array(RING);
  private readonly caplens = new Int32Array(RING);
  private readonly wireLens = new Int32Array(RING);
  private readonly times = new Float64Array(RING);
  private next = 0;
  private filled = 0;

  constructor(private readonly window = DEFAULT_DUPLICATE_WINDOW) {}

  /**
   * True when buf[off, off+caplen), just decoded into `view`, repeats a recent frame (then it is
   * counted in `dropped`); otherwise the frame is remembered. The time comes as the record's two
   * integers, not as a double (a double argument to a call V8 does not inline is boxed: one
   * allocation per frame).
   */
  isDuplicate(
    view: PacketView,
    buf: Buffer,
    off: number,
    caplen: number,
    origLen: number,
    tsSec: number,
    tsNsec: number,
  ): boolean {
    const ts = tsSec + tsNsec / 1e9;
    const print = fingerprint(view, buf, caplen, off + caplen);
    const times = this.times;
    for (let i = 0; i < this.filled; i++) {
      if (this.prints[i] !== print || this.caplens[i] !== caplen || this.wireLens[i] !== origLen) continue;
      const dt = ts - times[i];
      if (dt <= this.window && dt >= -this.window) {
        this.dropped++;
        return true;
      }
    }
    const slot = this.next;
    this.prints[slot] = print;
    this.caplens[slot] = caplen;
    this.wireLens[slot] = origLen;
    times[slot] = ts;
    this.next = (slot + 1) & (RING - 1);
    if (this.filled < RING) this.filled++;
    return false;
  }
}

/**
 * A 30-bit hash (a small integer: never boxed) of what tells two packets apart, mostly from the
 * fields decoding already read: IP total length, TTL, the IPv4 ID, the addresses' low words, the
 * ports, TCP sequence and acknowledgment numbers and flags. The rest comes from the buffer: the transport checksum (it
 * covers the pseudo-header with both addresses, the ports, the window and the whole payload; the
 * ICMP header word with it), the first payload word, and for VXLAN the start of the inner IP
 * header. For a packet out of GRE or ERSPAN these are the inner packet's: the same
 * packet mirrored through two sessions (whose GRE sequence numbers differ) is the same packet.
 */
function fingerprint(view: PacketView, buf: Buffer, caplen: number, end: number): number {
  let h = Math.imul(caplen ^ 0x2545f491, 0x9e3779b1);
  h = mix(h, view.ipTotalLength | (view.ttl << 20) | (view.fragmentId << 28));
  h = mix(h, view.fragmentId);
  // The checksum is a ones' complement sum: blind to swapped addresses and to ports with the same
  // sum (41002 > 8058 and 41003 > 8057), so those go in on their own.
  h = mix(h, view.src3);
  h = mix(h, view.dst3);
  h = mix(h, (view.srcPort << 16) | view.dstPort);
  const proto = view.proto;
  const l4 = view.l4Offset;
  if (proto === IPPROTO_TCP) {
    h = mix(h, view.tcpSeq);
    h = mix(h, view.tcpAck);
    h = mix(h, (view.tcpFlags << 16) | half(buf, l4 + 16, end));
  } else if (proto === IPPROTO_UDP) h = mix(h, half(buf, l4 + 6, end));
  else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) h = mix(h, word(buf, l4, end));
  if (view.payloadOffset > 0) h = mix(h, word(buf, view.payloadOffset, end));
  if (view.innerLink > 0)
    for (let p = view.innerLink + 14; p < view.innerLink + INNER_HEADER_BYTES; p += 4)
      h = mix(h, word(buf, p, end));
  return h >>> 2;
}

function half(buf: Buffer, p: number, end: number): number {
  return p + 2 <= end ? (buf[p] << 8) | buf[p + 1] : 0;
}

function mix(h: number, w: number): number {
  return Math.imul(h ^ w, 0x85ebca6b) ^ (h >>> 13);
}

/** The big-endian 32-bit word at p, or a constant past the captured bytes. */
function word(buf: Buffer, p: number, end: number): number {
  if (p + 4 > end) return p < end ? buf[p] : 0x5bd1e995;
  return (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
}
