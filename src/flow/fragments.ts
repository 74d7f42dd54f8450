/**
 * Remembers the ports of recent first fragments, so that later IPv4/IPv6 fragments (which carry
 * no transport header) can be counted to their flow: the ports of the last RING datagrams whose
 * first fragment was seen, in typed arrays (no allocation per packet, bounded memory). A datagram
 * whose first fragment is older than the last RING ones is forgotten, and its later fragments are
 * counted as unattributed.
 *
 * Which datagrams are remembered depends only on the order of the packets, never on the hash:
 * the entries are a ring in arrival order, and the hash (keyed-hash.ts, with the flow table's
 * random key) only finds them, through an open-addressing index twice the ring's size. So the
 * output is the same on every run, and a capture cannot aim its datagrams at one probe chain.
 */
import type { PacketView } from '../decode/view.js';
import { datagramHash, type HashKey } from './keyed-hash.js';

/** First fragments remembered. */
const RING = 4096;
const INDEX = RING * 2;
const IMASK = INDEX - 1;
const WORDS = 10; // proto, id, 4 src words, 4 dst words

export class FragmentPorts {
  private readonly keys = new Float64Array(RING * WORDS);
  private readonly ports = new Int32Array(RING * 2);
  /** The hash of each ring entry (0: the entry is unused). */
  private readonly ringHashes = new Int32Array(RING);
  /** Index slots: ring position + 1 (0: empty), and the entry's hash, for probing without the keys. */
  private readonly slots = new Int32Array(INDEX);
  private readonly slotHashes = new Int32Array(INDEX);
  /** The ring position the next new datagram takes (the oldest entry once the ring is full). */
  private next = 0;
  /** Slots looked at by find (for the tests that hold probe chains short). */
  probes = 0;

  constructor(private readonly key: HashKey) {}

  /**
   * Remembers the ports of the first fragment in `v` (a first fragment sent again overwrites its
   * entry's ports). The key is read from the view, not passed word by word: 32-bit address words
   * passed as arguments would be boxed.
   */
  remember(v: PacketView, sport: number, dport: number): void {
    const hash = datagramHash(this.key, v);
    let pos = this.lookup(v, hash);
    if (pos < 0) {
      pos = this.next;
      this.next = (pos + 1) % RING;
      if (this.ringHashes[pos] !== 0) this.unindex(pos);
      this.store(v, pos, hash);
    }
    this.ports[pos * 2] = sport;
    this.ports[pos * 2 + 1] = dport;
  }

  /** The entry holding the ports of the datagram `v` is a fragment of, or -1; read them with sourcePort/destPort. */
  find(v: PacketView): number {
    return this.lookup(v, datagramHash(this.key, v));
  }

  sourcePort(entry: number): number {
    return this.ports[entry * 2];
  }

  destPort(entry: number): number {
    return this.ports[entry * 2 + 1];
  }

  private lookup(v: PacketView, hash: number): number {
    const slots = this.slots;
    const slotHashes = this.slotHashes;
    for (let i = hash & IMASK; ; i = (i + 1) & IMASK) {
      this.probes++;
      const s = slots[i];
      if (s === 0) return -1;
      if (slotHashes[i] === hash && this.matches(v, s - 1)) return s - 1;
    }
  }

  private matches(v: PacketView, pos: number): boolean {
    const k = pos * WORDS;
    const keys = this.keys;
    return (
      keys[k] === v.proto &&
      keys[k + 1] === v.fragmentId &&
      keys[k + 2] === v.src0 &&
      keys[k + 3] === v.src1 &&
      keys[k + 4] === v.src2 &&
      keys[k + 5] === v.src3 &&
      keys[k + 6] === v.dst0 &&
      keys[k + 7] === v.dst1 &&
      keys[k + 8] === v.dst2 &&
      keys[k + 9] === v.dst3
    );
  }

  private store(v: PacketView, pos: number, hash: number): void {
    const k = pos * WORDS;
    const keys = this.keys;
    keys[k] = v.proto;
    keys[k + 1] = v.fragmentId;
    keys[k + 2] = v.src0;
    keys[k + 3] = v.src1;
    keys[k + 4] = v.src2;
    keys[k + 5] = v.src3;
    keys[k + 6] = v.dst0;
    keys[k + 7] = v.dst1;
    keys[k + 8] = v.dst2;
    keys[k + 9] = v.dst3;
    this.ringHashes[pos] = hash;
    const slots = this.slots;
    let i = hash & IMASK;
    while (slots[i] !== 0) i = (i + 1) & IMASK;
    slots[i] = pos + 1;
    this.slotHashes[i] = hash;
  }

  /** Takes ring entry `pos` out of the index (backward-shift deletion, as in table.ts). */
  private unindex(pos: number): void {
    const slots = this.slots;
    const slotHashes = this.slotHashes;
    let i = this.ringHashes[pos] & IMASK;
    while (slots[i] !== pos + 1) i = (i + 1) & IMASK;
    slots[i] = 0;
    for (let j = (i + 1) & IMASK; ; j = (j + 1) & IMASK) {
      const s = slots[j];
      if (s === 0) break;
      const k = slotHashes[j] & IMASK;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      slots[i] = s;
      slotHashes[i] = slotHashes[j];
      slots[j] = 0;
      i = j;
    }
    this.ringHashes[pos] = 0;
  }
}
