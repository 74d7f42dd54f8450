/**
 * Remembers the ports of recent first fragments, so that later IPv4/IPv6 fragments (which carry
 * no transport header) can be counted to their flow. A fixed-size direct-mapped cache in typed
 * arrays: no allocation per packet, bounded memory, and an entry is simply overwritten when a
 * newer datagram hashes to the same slot (that later fragment is then counted as unattributed).
 */
const SIZE = 4096;
const MASK = SIZE - 1;
const WORDS = 10; // proto, id, 4 src words, 4 dst words

export class FragmentPorts {
  private readonly keys = new Float64Array(SIZE * WORDS);
  private readonly ports = new Int32Array(SIZE * 2).fill(-1);

  private static hash(proto: number, id: number, s3: number, d3: number, s0: number, d0: number): number {
    let h = Math.imul(id ^ (proto << 16), 0x9e3779b1);
    h ^= Math.imul(s3, 0x85ebca6b);
    h ^= Math.imul(d3, 0xc2b2ae35);
    h ^= Math.imul(s0 ^ d0, 0x27d4eb2f);
    h ^= h >>> 15;
    return h & MASK;
  }

  remember(
    proto: number,
    id: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
    sport: number,
    dport: number,
  ): void {
    const slot = FragmentPorts.hash(proto, id, s3, d3, s0, d0);
    const k = slot * WORDS;
    const keys = this.keys;
    keys[k] = proto;
    keys[k + 1] = id;
    keys[k + 2] = s0;
    keys[k + 3] = s1;
    keys[k + 4] = s2;
    keys[k + 5] = s3;
    keys[k + 6] = d0;
    keys[k + 7] = d1;
    keys[k + 8] = d2;
    keys[k + 9] = d3;
    this.ports[slot * 2] = sport;
    this.ports[slot * 2 + 1] = dport;
  }

  /** Returns the slot holding the datagram's ports, or -1; read them with sourcePort/destPort. */
  find(
    proto: number,
    id: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
  ): number {
    const slot = FragmentPorts.hash(proto, id, s3, d3, s0, d0);
    const k = slot * WORDS;
    const keys = this.keys;
    if (
      this.ports[slot * 2] >= 0 &&
      keys[k] === proto &&
      keys[k + 1] === id &&
      keys[k + 2] === s0 &&
      keys[k + 3] === s1 &&
      keys[k + 4] === s2 &&
      keys[k + 5] === s3 &&
      keys[k + 6] === d0 &&
      keys[k + 7] === d1 &&
      keys[k + 8] === d2 &&
      keys[k + 9] === d3
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
