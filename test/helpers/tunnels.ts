/**
 * Wraps captured frames in the tunnels a switch mirror or a router uses, byte by byte from the
 * specifications (independently of src/decode): GRE (RFC 2784 checksum, RFC 2890 key and
 * sequence number), transparent Ethernet bridging, ERSPAN types I, II and III
 * (draft-foschiano-erspan-03), VXLAN (RFC 7348), over IPv4 or IPv6. tshark dissects the result,
 * so the tests can hold our decapsulation against it on real inner bytes.
 */
import { ETH_IPV4, ETH_IPV6, ethernet, internetChecksum, ipv4, ipv6, udp } from './packets.js';

export interface GreOptions {
  protocol: number;
  key?: number;
  sequence?: number;
  checksum?: boolean;
}

export function greHeader(o: GreOptions, payload: Buffer): Buffer {
  let flags = 0;
  if (o.checksum) flags |= 0x8000;
  if (o.key !== undefined) flags |= 0x2000;
  if (o.sequence !== undefined) flags |= 0x1000;
  const words: Buffer[] = [];
  const base = Buffer.alloc(4);
  base.writeUInt16BE(flags, 0);
  base.writeUInt16BE(o.protocol, 2);
  words.push(base);
  const checksum = Buffer.alloc(4);
  if (o.checksum) words.push(checksum);
  if (o.key !== undefined) {
    const k = Buffer.alloc(4);
    k.writeUInt32BE(o.key >>> 0, 0);
    words.push(k);
  }
  if (o.sequence !== undefined) {
    const s = Buffer.alloc(4);
    s.writeUInt32BE(o.sequence >>> 0, 0);
    words.push(s);
  }
  // RFC 2784 section 2.5: the checksum covers the GRE header and its payload.
  if (o.checksum) checksum.writeUInt16BE(internetChecksum(...words, payload), 0);
  return Buffer.concat([...words, payload]);
}

/** ERSPAN type II header (section 4.1): version 1, VLAN, COS 0, encapsulation 0, session, index. */
export function erspanII(session: number, vlan: number, index: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE((1 << 12) | (vlan & 0x0fff), 0);
  h.writeUInt16BE(session & 0x03ff, 2);
  h.writeUInt32BE(index & 0xfffff, 4);
  return h;
}

/** ERSPAN type III header (section 4.2), with the 8-byte platform subheader when `platform`. */
export function erspanIII(session: number, timestamp: number, frameType: number, platform: boolean): Buffer {
  const h = Buffer.alloc(platform ? 20 : 12);
  h.writeUInt16BE(2 << 12, 0);
  h.writeUInt16BE(session & 0x03ff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt16BE(0, 8); // security group tag
  h.writeUInt16BE(((frameType & 0x1f) << 10) | (3 << 1) | (platform ? 1 : 0), 10);
  if (platform) h.writeUInt32BE(0x12345678, 16); // platform id 0 in the first word, a timestamp
  return h;
}

/** VXLAN header (RFC 7348 section 5): the I flag and the VNI. */
export function vxlanHeader(vni: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUIntBE(vni & 0xffffff, 4, 3);
  return h;
}

export interface Outer {
  src: string;
  dst: string;
  vlan?: number;
  id?: number;
}

/** An outer Ethernet + IPv4/IPv6 frame around a transport payload of protocol `proto`. */
export function outerFrame(o: Outer, proto: number, payload: Buffer): Buffer {
  const v6 = o.src.includes(':');
  const ip = v6
    ? ipv6({ src: o.src, dst: o.dst, next: proto, payload })
    : ipv4({ src: o.src, dst: o.dst, proto, payload, id: o.id ?? 1, ttl: 62 });
  return ethernet(v6 ? ETH_IPV6 : ETH_IPV4, ip, {
    src: '02:00:00:00:aa:01',
    dst: '02:00:00:00:aa:02',
    vlans: o.vlan !== undefined ? [[0x8100, o.vlan]] : [],
  });
}

export const IPPROTO_GRE = 47;
export const IPPROTO_UDP = 17;

/** VXLAN: UDP to 4789 from a per-flow source port, as Linux picks one from the inner flow's hash. */
export function vxlanFrame(o: Outer, vni: number, frame: Buffer, sport: number): Buffer {
  const payload = Buffer.concat([vxlanHeader(vni), frame]);
  return outerFrame(o, IPPROTO_UDP, udp({ src: o.src, dst: o.dst, sport, dport: 4789, payload }));
}
