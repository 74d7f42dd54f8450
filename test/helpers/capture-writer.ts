/**
 * Writes capture files byte by byte for tests: classic pcap (µs or ns magic, either byte order,
 * the "modified" variant) and pcapng with any mix of blocks (SHB per section and byte order,
 * IDB with if_tsresol / if_tsoffset, EPB, SPB, obsolete PB, NRB, ISB, custom and unknown
 * blocks). The layouts follow draft-ietf-opsawg-pcap (classic) and draft-ietf-opsawg-pcapng
 * (pcapng); nothing here shares code with src/capture, so the reader is tested against an
 * independent writer (and against tshark, which reads what this writes).
 */

/** A packet with a timestamp in whole seconds and nanoseconds. */
export interface Packet {
  data: Buffer;
  sec: number;
  nsec: number;
  /** On-the-wire length when the capture cut the packet (default: data.length). */
  origLen?: number;
}

class Out {
  private readonly chunks: Buffer[] = [];
  constructor(readonly le: boolean) {}
  u8(v: number): this {
    this.chunks.push(Buffer.of(v & 0xff));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v & 0xffff);
    else b.writeUInt16BE(v & 0xffff);
    this.chunks.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.chunks.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
    else b.writeBigUInt64BE(BigInt.asUintN(64, v));
    this.chunks.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.chunks.push(b);
    return this;
  }
  pad4(): this {
    const len = this.length;
    if (len % 4) this.chunks.push(Buffer.alloc(4 - (len % 4)));
    return this;
  }
  get length(): number {
    return this.chunks.reduce((s, c) => s + c.length, 0);
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

// ---------------------------------------------------------------- classic pcap

export interface PcapOptions {
  linkType?: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
  /** The 24-byte-record "modified" format of Kuznetzov's patches (magic a1b2cd34). */
  modified?: boolean;
}

export function pcapHeader(opts: PcapOptions = {}): Buffer {
  const magic = opts.modified ? 0xa1b2cd34 : opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4;
  return new Out(!opts.bigEndian)
    .u32(magic)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(opts.snaplen ?? 262144)
    .u32(opts.linkType ?? 1)
    .done();
}

export function pcapRecord(p: Packet, opts: PcapOptions = {}): Buffer {
  const o = new Out(!opts.bigEndian)
    .u32(p.sec)
    .u32(opts.nanosecond ? p.nsec : Math.floor(p.nsec / 1000))
    .u32(p.data.length)
    .u32(p.origLen ?? p.data.length);
  // Modified pcap: ifindex (4), protocol (2), pkt_type (1), pad (1).
  if (opts.modified) o.u32(0).u16(0).u8(0).u8(0);
  return o.bytes(p.data).done();
}

export function writePcap(packets: Packet[], opts: PcapOptions = {}): Buffer {
  return Buffer.concat([pcapHeader(opts), ...packets.map((p) => pcapRecord(p, opts))]);
}

// ---------------------------------------------------------------- pcapng

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_NRB = 4;
export const BT_ISB = 5;
export const BT_EPB = 6;
export const BT_DSB = 0x0a;
export const BT_CUSTOM = 0x00000bad;
export const BT_CUSTOM_NOCOPY = 0x40000bad;

/** Wraps a block body: type, total length, body padded to 4, total length again. */
export function block(type: number, body: Buffer, le: boolean): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  return new Out(le)
    .u32(type)
    .u32(total)
    .bytes(body)
    .bytes(Buffer.alloc(padded - body.length))
    .u32(total)
    .done();
}

/** Options list: [code, value] pairs, each padded to 4, then opt_endofopt. */
export function options(list: [number, Buffer][], le: boolean): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const o = new Out(le);
  for (const [code, value] of list) o.u16(code).u16(value.length).bytes(value).pad4();
  return o.u16(0).u16(0).done();
}

export function shb(le: boolean, opts: [number, Buffer][] = []): Buffer {
  // Byte-order magic, version 1.0, section length -1 (unknown).
  const body = new Out(le).u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n).bytes(options(opts, le)).done();
  return block(BT_SHB, body, le);
}

export interface Interface {
  linkType: number;
  snaplen?: number;
  /** The raw if_tsresol byte: 6 → µs (default), 9 → ns, 0x80 | n → 2^-n. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: bigint;
}

export function idb(iface: Interface, le: boolean): Buffer {
  const opts: [number, Buffer][] = [];
  if (iface.tsresol !== undefined) opts.push([9, Buffer.of(iface.tsresol)]);
  if (iface.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (le) v.writeBigInt64LE(iface.tsoffset);
    else v.writeBigInt64BE(iface.tsoffset);
    opts.push([14, v]);
  }
  const body = new Out(le)
    .u16(iface.linkType)
    .u16(0)
    .u32(iface.snaplen ?? 0)
    .bytes(options(opts, le))
    .done();
  return block(BT_IDB, body, le);
}

/** Timestamp units per second for an if_tsresol byte. */
export function unitsPerSecond(tsresol = 6): bigint {
  return tsresol & 0x80 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
}

/**
 * The 64-bit timestamp in the interface's units for a packet at sec.nsec, before if_tsoffset
 * (which the writer subtracts, so that readers that add it get sec.nsec back). Fractions that
 * the resolution cannot hold are truncated, as a capturing host would.
 */
export function timestampUnits(p: Packet, iface: Interface): bigint {
  const units = unitsPerSecond(iface.tsresol);
  const sec = BigInt(p.sec) - (iface.tsoffset ?? 0n);
  return sec * units + (BigInt(p.nsec) * units) / 1_000_000_000n;
}

export function epb(
  ifId: number,
  units: bigint,
  p: Packet,
  le: boolean,
  opts: [number, Buffer][] = [],
): Buffer {
  const body = new Out(le)
    .u32(ifId)
    .u32(Number(units >> 32n))
    .u32(Number(units & 0xffffffffn))
    .u32(p.data.length)
    .u32(p.origLen ?? p.data.length)
    .bytes(p.data)
    .pad4()
    .bytes(options(opts, le))
    .done();
  return block(BT_EPB, body, le);
}

/** Obsolete Packet Block (draft-ietf-opsawg-pcapng appendix A): 16-bit interface id and drop count. */
export function pb(ifId: number, units: bigint, p: Packet, le: boolean): Buffer {
  const body = new Out(le)
    .u16(ifId)
    .u16(0)
    .u32(Number(units >> 32n))
    .u32(Number(units & 0xffffffffn))
    .u32(p.data.length)
    .u32(p.origLen ?? p.data.length)
    .bytes(p.data)
    .pad4()
    .done();
  return block(BT_PB, body, le);
}

/** Simple Packet Block: original length then the data (cut to the snaplen of interface 0). */
export function spb(p: Packet, le: boolean): Buffer {
  return block(
    BT_SPB,
    new Out(le)
      .u32(p.origLen ?? p.data.length)
      .bytes(p.data)
      .done(),
    le,
  );
}

/** Name Resolution Block with one IPv4 record and the end record. */
export function nrb(le: boolean): Buffer {
  const name = Buffer.from('host.example\0');
  const rec = new Out(le)
    .u16(1)
    .u16(4 + name.length)
    .bytes(Buffer.of(192, 0, 2, 1))
    .bytes(name)
    .pad4()
    .done();
  return block(BT_NRB, Buffer.concat([rec, new Out(le).u16(0).u16(0).done()]), le);
}

/** Interface Statistics Block for interface `ifId` (no options). */
export function isb(ifId: number, le: boolean): Buffer {
  return block(BT_ISB, new Out(le).u32(ifId).u32(0).u32(0).done(), le);
}

/** Custom block (draft section 4.8): a Private Enterprise Number then opaque data. */
export function customBlock(le: boolean, copyable = true): Buffer {
  const body = new Out(le).u32(32473).bytes(Buffer.from('opaque custom data')).done();
  return block(copyable ? BT_CUSTOM : BT_CUSTOM_NOCOPY, body, le);
}

/** A block of a type nobody has assigned (reserved local-use range 0x80000000+). */
export function unknownBlock(le: boolean, length = 20): Buffer {
  return block(0x80001234, Buffer.alloc(length, 0xee), le);
}

/**
 * A whole section: SHB, one IDB per interface, then every packet as an EPB on its interface.
 * `packetBlock` chooses EPB (default) or the obsolete PB.
 */
export function section(
  interfaces: Interface[],
  packets: { iface: number; packet: Packet }[],
  le = true,
  packetBlock: 'epb' | 'pb' = 'epb',
): Buffer {
  const parts = [shb(le), ...interfaces.map((i) => idb(i, le))];
  for (const { iface, packet } of packets) {
    const units = timestampUnits(packet, interfaces[iface]);
    parts.push(packetBlock === 'epb' ? epb(iface, units, packet, le) : pb(iface, units, packet, le));
  }
  return Buffer.concat(parts);
}

/** One interface, every packet an EPB: the pcapng equivalent of writePcap. */
export function writePcapng(
  packets: Packet[],
  iface: Interface = { linkType: 1, tsresol: 9 },
  le = true,
): Buffer {
  return section(
    [iface],
    packets.map((packet) => ({ iface: 0, packet })),
    le,
  );
}

/** Byte-swaps a little-endian classic pcap into the big-endian one a SPARC or PowerPC host writes. */
export function pcapToBigEndian(le: Buffer): Buffer {
  const out = Buffer.from(le);
  const swap32 = (o: number): void => {
    out.writeUInt32BE(le.readUInt32LE(o), o);
  };
  const magic = le.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('not a little-endian pcap');
  swap32(0);
  out.writeUInt16BE(le.readUInt16LE(4), 4);
  out.writeUInt16BE(le.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) swap32(o);
  for (let p = 24; p + 16 <= le.length;) {
    const caplen = le.readUInt32LE(p + 8);
    for (const o of [0, 4, 8, 12]) swap32(p + o);
    p += 16 + caplen;
  }
  return out;
}

/** Where the structures of a well-formed capture end: the file header, then every record or block. */
export interface Layout {
  /** End of the pcap file header (24), or of the first SHB. */
  headerEnd: number;
  /** Every record (pcap) or block (pcapng) after the header: its start, end, and whether it is a packet. */
  records: { start: number; end: number; packet: boolean }[];
}

/** Walks a well-formed pcap or pcapng file (independently of src/capture) to find its record boundaries. */
export function layout(bytes: Buffer): Layout {
  const be = bytes.readUInt32BE(0);
  const records: Layout['records'] = [];
  if (be === BT_SHB) {
    let le = true;
    for (let p = 0; p + 12 <= bytes.length;) {
      if (bytes.readUInt32BE(p) === BT_SHB) le = bytes.readUInt32LE(p + 8) === 0x1a2b3c4d;
      const type = le ? bytes.readUInt32LE(p) : bytes.readUInt32BE(p);
      const len = le ? bytes.readUInt32LE(p + 4) : bytes.readUInt32BE(p + 4);
      records.push({ start: p, end: p + len, packet: type === BT_EPB || type === BT_SPB || type === BT_PB });
      p += len;
    }
    const first = records.shift()!;
    return { headerEnd: first.end, records };
  }
  const le =
    bytes.readUInt32LE(0) === 0xa1b2c3d4 ||
    bytes.readUInt32LE(0) === 0xa1b23c4d ||
    bytes.readUInt32LE(0) === 0xa1b2cd34;
  const hdr = bytes.readUInt32LE(0) === 0xa1b2cd34 || be === 0xa1b2cd34 ? 24 : 16;
  for (let p = 24; p + hdr <= bytes.length;) {
    const caplen = le ? bytes.readUInt32LE(p + 8) : bytes.readUInt32BE(p + 8);
    records.push({ start: p, end: p + hdr + caplen, packet: true });
    p += hdr + caplen;
  }
  return { headerEnd: 24, records };
}
