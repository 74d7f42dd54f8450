/**
 * Remembers the ports of recent first fragments, so that later IPv4/IPv6 fragments (which carry
 * no transport header) can be counted to their flow. A fixed-size direct-mapped cache in typed
 * arrays: no allocation per packet, bounded memory, and an entry is simply overwritten when a
 * newer datagram hashes to the same slot (that later fragment is then counted as unattributed).
 */
import type { PacketView } from '../decode/view.js';

const SIZE = 4096;
const MASK = SIZE - 1;
const WORDS = 10; // proto, id, 4 src words, 4 dst words

export class FragmentPorts {
  private readonly keys = new Float64Array(SIZE * WORDS);
  private readonly ports = new Int32Array(SIZE * 2).fill(-1);

  /** The slot a datagram (the view's protocol, addresses and fragment id) maps to. */
  private static slotOf(v: PacketView): number {
    let h = Math.imul(v.fragmentId ^ (v.proto << 16), 0x9e3779b1);
    h ^= Math.imul(v.src3, 0x85ebca6b);
    h ^= Math.imul(v.dst3, 0xc2b2ae35);
    h ^= Math.imul(v.src0 ^ v.dst0, 0x27d4eb2f);
    h ^= h >>> 15;
    return h & MASK;
  }

  /**
   * Remembers the ports of the first fragment in `v`. The key is read from the view (not passed
   * word by word: 32-bit address words passed as arguments would be boxed).
   */
  remember(v: PacketView, sport: number, dport: number): void {
    const slot = FragmentPorts.slotOf(v);
    const k = slot * WORDS;
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
    this.ports[slot * 2] = sport;
    this.ports[slot * 2 + 1] = dport;
  }

  /** The slot holding the ports of the datagram `v` is a fragment of, or -1; read them with sourcePort/destPort. */
  find(v: PacketView): number {
    const slot = FragmentPorts.slotOf(v);
    const k = slot * WORDS;
    const keys = this.keys;
    if (
      this.ports[slot * 2] >= 0 &&
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
    )
      return slot;
    return -1;
  }

  sourcePort(slot: number): number {
    return this.ports[slot * 2];
  }

  destPort(slot: number): number {
    return this.ports[slot * 2 + 1];
  }
}
