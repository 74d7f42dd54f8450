/**
 * A keyed hash for the structures fed from packets (the flow table, the fragment cache, the
 * second-pass flow index): HalfSipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012, and the 32-bit HalfSipHash of the reference implementation; Linux uses it for its
 * hash tables on 32-bit machines) with a 64-bit key drawn at random once per run. A capture cannot
 * choose 5-tuples that land in one probe chain when it cannot know the key: the old unkeyed
 * `endpointHash(a) ^ endpointHash(b)` gave every flow whose two endpoints are equal the same hash,
 * and anyone could compute collisions offline (docs/decisions.md, "Keyed flow hash").
 *
 * Everything works on 32-bit integers in locals and one module-level scratch array: no allocation.
 * The results are 30-bit small integers (never boxed across a call). The key only decides where an
 * entry sits in a table, never the order in which anything is written out.
 */
import { randomFillSync } from 'node:crypto';
import type { PacketView } from '../decode/view.js';

/** A HalfSipHash key: two 32-bit words. */
export type HashKey = Int32Array;

/** A fresh random key (crypto.randomFillSync: a capture cannot predict it). */
export function randomHashKey(): HashKey {
  const key = new Int32Array(2);
  randomFillSync(key);
  return key;
}

/** A fixed key, for tests that need the same layout every run. */
export function fixedHashKey(k0: number, k1: number): HashKey {
  return Int32Array.of(k0, k1);
}

/** The message words of the hash being computed (never more than 12). */
const words = new Int32Array(12);

/**
 * HalfSipHash-1-3 of words[0, n): one SipRound per 32-bit message word, three to finalise; the
 * length byte of the final block is the message length in bytes (4n), as in the reference code.
 * Returns a nonzero 30-bit integer.
 */
function halfSip13(key: HashKey, n: number): number {
  const k0 = key[0];
  const k1 = key[1];
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  for (let i = 0; i <= n; i++) {
    // The last "word" is the final block: no tail bytes (whole words only), the length in the top byte.
    const m = i < n ? words[i] : (n * 4) << 24;
    v3 ^= m;
    // SipRound (HalfSipHash rotations 5, 16, 8, 7, 13, 16).
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  }
  const h = (v1 ^ v3) & 0x3fffffff;
  return h === 0 ? 1 : h;
}

/**
 * Finishes the hash of a bidirectional 5-tuple whose two endpoint addresses the caller has put
 * in words[2..5] (a) and words[6..9] (b): the same for both directions, because the endpoints go
 * in in a canonical order (the lower address, then port, first; words compared unsigned). IPv4
 * (words 0-2 zero) hashes 4 words, IPv6 10. The addresses go through the Int32Array rather than
 * as arguments: a 32-bit word above 2^30 passed to a call that is not inlined is a boxed number.
 */
function finishTuple(key: HashKey, version: number, proto: number, aPort: number, bPort: number): number {
  const w = words;
  let d = 0;
  for (let i = 2; i < 6 && d === 0; i++) if (w[i] !== w[i + 4]) d = w[i] >>> 0 < w[i + 4] >>> 0 ? -1 : 1;
  if (d === 0) d = aPort <= bPort ? -1 : 1;
  if (d > 0) {
    for (let i = 2; i < 6; i++) {
      const t = w[i];
      w[i] = w[i + 4];
      w[i + 4] = t;
    }
    const t = aPort;
    aPort = bPort;
    bPort = t;
  }
  w[0] = (version << 8) | (proto & 0xff);
  w[1] = ((aPort & 0xffff) << 16) | (bPort & 0xffff);
  if (version === 6) return halfSip13(key, 10);
  w[2] = w[5];
  w[3] = w[9];
  return halfSip13(key, 4);
}

/** The flow hash of a decoded packet's 5-tuple (its own addresses, the given ports). */
export function packetTupleHash(
  key: HashKey,
  view: PacketView,
  sport: number,
  dport: number,
  proto: number,
): number {
  const w = words;
  if (view.ipVersion === 4) {
    // The common case without the scratch copy and the loop: the words in canonical order directly.
    const a = view.src3 >>> 0;
    const b = view.dst3 >>> 0;
    const aFirst = a < b || (a === b && sport <= dport);
    w[0] = (4 << 8) | (proto & 0xff);
    w[1] = aFirst ? ((sport & 0xffff) << 16) | (dport & 0xffff) : ((dport & 0xffff) << 16) | (sport & 0xffff);
    w[2] = aFirst ? a : b;
    w[3] = aFirst ? b : a;
    return halfSip13(key, 4);
  }
  w[2] = view.src0;
  w[3] = view.src1;
  w[4] = view.src2;
  w[5] = view.src3;
  w[6] = view.dst0;
  w[7] = view.dst1;
  w[8] = view.dst2;
  w[9] = view.dst3;
  return finishTuple(key, view.ipVersion, proto, sport, dport);
}

/** The flow hash of the packet an ICMP error quotes. */
export function quoteTupleHash(
  key: HashKey,
  view: PacketView,
  sport: number,
  dport: number,
  proto: number,
): number {
  const w = words;
  w[2] = view.quoteSrc0;
  w[3] = view.quoteSrc1;
  w[4] = view.quoteSrc2;
  w[5] = view.quoteSrc3;
  w[6] = view.quoteDst0;
  w[7] = view.quoteDst1;
  w[8] = view.quoteDst2;
  w[9] = view.quoteDst3;
  return finishTuple(key, view.quoteIpVersion, proto, sport, dport);
}

/** The flow hash of a 5-tuple given as address words (once per record, not per packet). */
export function wordsTupleHash(
  key: HashKey,
  version: number,
  proto: number,
  a: readonly number[],
  aPort: number,
  b: readonly number[],
  bPort: number,
): number {
  const w = words;
  for (let i = 0; i < 4; i++) {
    w[2 + i] = a[i];
    w[6 + i] = b[i];
  }
  return finishTuple(key, version, proto, aPort, bPort);
}

/**
 * The hash of the datagram a fragment belongs to: protocol, IP identification, source and
 * destination addresses, in that direction (RFC 791 section 3.2, RFC 8200 section 4.5).
 */
export function datagramHash(key: HashKey, view: PacketView): number {
  const w = words;
  w[0] = view.proto;
  w[1] = view.fragmentId;
  w[2] = view.src3;
  w[3] = view.dst3;
  if (view.ipVersion !== 6) return halfSip13(key, 4);
  w[4] = view.src0;
  w[5] = view.src1;
  w[6] = view.src2;
  w[7] = view.dst0;
  w[8] = view.dst1;
  w[9] = view.dst2;
  return halfSip13(key, 10);
}
