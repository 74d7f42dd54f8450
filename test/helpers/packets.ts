/**
 * A small packet builder for tests: Ethernet (with 802.1Q / QinQ tags), IPv4 (options, fragments),
 * IPv6 (extension headers, fragments), TCP, UDP, ICMP and ICMPv6, with real checksums, so that
 * tshark dissects the frames the tests write exactly as it would dissect captured ones.
 * Everything returns plain Buffers; nothing here is on the code path under test.
 */
import { isIPv4 } from 'node:net';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_ARP = 0x0806;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** Address text to bytes (4 for IPv4, 16 for IPv6; "::" shorthand accepted). */
export function addressBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 1071 Internet checksum over the concatenation of `parts`. */
export function internetChecksum(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i += 2) sum += all.readUInt16BE(i);
  if (all.length % 2) sum += all[all.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(src: Buffer, dst: Buffer, proto: number, length: number): Buffer {
  if (src.length === 4) {
    const p = Buffer.alloc(12);
    src.copy(p, 0);
    dst.copy(p, 4);
    p[9] = proto;
    p.writeUInt16BE(length, 10);
    return p;
  }
  // RFC 8200 section 8.1.
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = proto;
  return p;
}

export interface Ethernet {
  src?: string;
  dst?: string;
  /** VLAN tags, outermost first: [tpid, vid]. */
  vlans?: [number, number][];
}

export function ethernet(etherType: number, payload: Buffer, opts: Ethernet = {}): Buffer {
  const mac = (s: string | undefined, d: string): Buffer =>
    Buffer.from((s ?? d).split(':').map((x) => parseInt(x, 16)));
  const tags = (opts.vlans ?? []).map(([tpid, vid]) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(tpid, 0);
    b.writeUInt16BE(vid & 0x0fff, 2);
    return b;
  });
  // Each tag's TPID sits where the EtherType would be; the real EtherType follows the last tag.
  const head = Buffer.concat([mac(opts.dst, '00:00:5e:00:53:02'), mac(opts.src, '00:00:5e:00:53:01')]);
  const typeField = Buffer.alloc(2);
  typeField.writeUInt16BE(etherType, 0);
  const chunks: Buffer[] = [head];
  for (let i = 0; i < tags.length; i++) {
    const tpid = tags[i].subarray(0, 2);
    chunks.push(tpid, tags[i].subarray(2, 4));
  }
  chunks.push(typeField, payload);
  const frame = Buffer.concat(chunks);
  // Ethernet minimum frame (without FCS) is 60 bytes: pad like a NIC does (IEEE 802.3 clause 3.2.8).
  return frame.length < 60 ? Buffer.concat([frame, Buffer.alloc(60 - frame.length)]) : frame;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  id?: number;
  ttl?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  /** IP options (padded to a multiple of 4 here). */
  options?: Buffer;
  /** Total length to write instead of the real one (for malformed-header tests). */
  totalLength?: number;
}

export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const optLen = (opts.length + 3) & ~3;
  const ihl = 20 + optLen;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.totalLength ?? ihl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  let frag = (o.fragmentOffset ?? 0) / 8;
  if (o.moreFragments) frag |= 0x2000;
  if (o.dontFragment) frag |= 0x4000;
  h.writeUInt16BE(frag, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  addressBytes(o.src).copy(h, 12);
  addressBytes(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

/** An IPv6 extension header: next-header values 0, 43, 60 (length in 8-octet units) or 44 (fragment). */
export interface Ipv6Extension {
  type: number;
  /** Body after the next-header and length bytes; padded to make the header a multiple of 8. */
  body?: Buffer;
}

export interface Ipv6Options {
  src: string;
  dst: string;
  next: number;
  payload: Buffer;
  hopLimit?: number;
  extensions?: Ipv6Extension[];
}

/** RFC 8200 section 4.5 fragment header body: offset (bytes), M flag, identification. */
export function fragmentHeaderBody(offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 0);
  b.writeUInt32BE(id >>> 0, 2);
  return b;
}

export function ipv6(o: Ipv6Options): Buffer {
  const exts = o.extensions ?? [];
  const chain: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1].type : o.next;
    const body = exts[i].body ?? Buffer.alloc(6);
    const total = (body.length + 2 + 7) & ~7;
    const b = Buffer.alloc(total);
    b[0] = next;
    // The fragment header's second byte is reserved; every other one counts 8-octet units beyond the first.
    b[1] = exts[i].type === 44 ? 0 : total / 8 - 1;
    body.copy(b, 2);
    chain.push(b);
  }
  const ext = Buffer.concat(chain);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(ext.length + o.payload.length, 4);
  h[6] = exts.length > 0 ? exts[0].type : o.next;
  h[7] = o.hopLimit ?? 64;
  addressBytes(o.src).copy(h, 8);
  addressBytes(o.dst).copy(h, 24);
  return Buffer.concat([h, ext, o.payload]);
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface TcpOptions {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  payload?: Buffer;
  /** Raw TCP options, padded to a multiple of 4. */
  options?: Buffer;
}

export function tcp(o: TcpOptions): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hl = 20 + ((opts.length + 3) & ~3);
  const payload = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(hl);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (hl / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  opts.copy(h, 20);
  const seg = Buffer.concat([h, payload]);
  const src = addressBytes(o.src);
  const dst = addressBytes(o.dst);
  seg.writeUInt16BE(internetChecksum(pseudoHeader(src, dst, PROTO_TCP, seg.length), seg), 16);
  return seg;
}

export interface UdpOptions {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

export function udp(o: UdpOptions): Buffer {
  const seg = Buffer.alloc(8 + o.payload.length);
  seg.writeUInt16BE(o.sport, 0);
  seg.writeUInt16BE(o.dport, 2);
  seg.writeUInt16BE(seg.length, 4);
  o.payload.copy(seg, 8);
  const sum = internetChecksum(
    pseudoHeader(addressBytes(o.src), addressBytes(o.dst), PROTO_UDP, seg.length),
    seg,
  );
  seg.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return seg;
}

/** ICMPv4 (RFC 792) or, with src/dst given as IPv6, ICMPv6 (RFC 4443, checksum over the pseudo-header). */
export function icmp(
  type: number,
  code: number,
  rest: number,
  body: Buffer,
  v6?: { src: string; dst: string },
): Buffer {
  const m = Buffer.alloc(8 + body.length);
  m[0] = type;
  m[1] = code;
  m.writeUInt32BE(rest >>> 0, 4);
  body.copy(m, 8);
  const sum = v6
    ? internetChecksum(pseudoHeader(addressBytes(v6.src), addressBytes(v6.dst), PROTO_ICMPV6, m.length), m)
    : internetChecksum(m);
  m.writeUInt16BE(sum, 2);
  return m;
}

/** Splits an IPv4 packet's payload into fragments of at most `size` bytes (a multiple of 8). */
export function fragmentIpv4(o: Ipv4Options, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < o.payload.length; off += size) {
    const piece = o.payload.subarray(off, Math.min(off + size, o.payload.length));
    out.push(
      ipv4({ ...o, payload: piece, fragmentOffset: off, moreFragments: off + size < o.payload.length }),
    );
  }
  return out;
}

/** Deterministic filler bytes (a text pattern, so that payloads are easy to recognise in hex dumps). */
export function filler(length: number, seed = 0): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = 0x41 + ((i + seed) % 26);
  return b;
}

/** A small deterministic PRNG (mulberry32), so that "random" tests repeat exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/**
 * Frames an IP packet for a link type (https://www.tcpdump.org/linktypes.html). `hostLittleEndian`
 * is the byte order of the capturing host, which DLT_NULL's address family is written in.
 */
export function linkFrame(linkType: number, ip: Buffer, hostLittleEndian = true): Buffer {
  const v6 = ip[0] >> 4 === 6;
  const etherType = v6 ? ETH_IPV6 : ETH_IPV4;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernet(etherType, ip);
    case LINKTYPE_NULL: {
      // AF_INET is 2 everywhere; AF_INET6 is 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
      const h = Buffer.alloc(4);
      if (hostLittleEndian) h.writeUInt32LE(v6 ? 30 : 2);
      else h.writeUInt32BE(v6 ? 24 : 2);
      return Buffer.concat([h, ip]);
    }
    case LINKTYPE_LOOP: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(v6 ? 28 : 2);
      return Buffer.concat([h, ip]);
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ip;
    case LINKTYPE_LINUX_SLL: {
      // Packet type 0 (to us), ARPHRD_ETHER, 6-byte address, protocol type last.
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0);
      h.writeUInt16BE(1, 2);
      h.writeUInt16BE(6, 4);
      Buffer.from([0, 0, 0x5e, 0, 0x53, 1]).copy(h, 6);
      h.writeUInt16BE(etherType, 14);
      return Buffer.concat([h, ip]);
    }
    case LINKTYPE_LINUX_SLL2: {
      // Protocol type first, reserved, interface index, ARPHRD_ETHER, packet type, address length, address.
      const h = Buffer.alloc(20);
      h.writeUInt16BE(etherType, 0);
      h.writeUInt32BE(3, 4);
      h.writeUInt16BE(1, 8);
      h[10] = 4; // outgoing
      h[11] = 6;
      Buffer.from([0, 0, 0x5e, 0, 0x53, 1]).copy(h, 12);
      return Buffer.concat([h, ip]);
    }
    default:
      throw new Error(`no framing for link type ${linkType}`);
  }
}
