/**
 * The fuzz campaign's inputs (scripts/fuzz/run.mjs): a corpus of real and generated captures, a
 * model of a capture's structure (classic pcap records, pcapng blocks, the packets inside them
 * and their application payloads), and the mutations, each one a function of a seeded PRNG so
 * that (campaign seed, case number) always gives the same bytes.
 *
 * Container mutations: bit flips, byte overwrites, length fields set to 0, 1, 2^31-1, 2^32-1 or
 * off by one (pcap caplen/origlen, pcapng block total lengths at both ends, EPB captured and
 * original lengths, option lengths, section length), duplicated and deleted records and blocks,
 * wrong byte-order magic, out-of-range interface ids, extreme if_tsresol and if_tsoffset, huge
 * and zero snaplens, extreme timestamps, truncation, packets out of order, TCP sequence and
 * acknowledgment numbers moved (overlaps, holes, wraps) and resends that disagree, gzip. Payload mutations of real messages
 * (SIP, SDP, TLS, STUN/MS-TURN, RTP, DHCP, DCE/RPC, SMB, HTTP) on their ports: bit flips,
 * integer fields at extremes, text edits (numbers, repeated and dropped lines, line ends),
 * truncation and growth with the IP and UDP lengths kept consistent, payloads swapped between
 * packets. Nothing here shares code with src/: the model is written from the format drafts
 * (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { sfc32 } from '../../bench/generate.mjs';

// ------------------------------------------------------------------------------------ PRNG

/** sfc32, the bench generator's PRNG: returns 32-bit unsigned integers. */
export { sfc32 };

/** A PRNG with helpers, for case `index` of campaign `seed`. */
export function caseRandom(seed, index) {
  const next = sfc32(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  const r = {
    u32: next,
    /** An integer in [0, n). */
    int: (n) => (n <= 0 ? 0 : next() % n),
    chance: (p) => next() / 4294967296 < p,
    pick: (list) => list[next() % list.length],
  };
  return r;
}

// ------------------------------------------------------------------------------ the model

const SHB = 0x0a0d0d0a;
const IDB = 1;
const SPB = 3;
const EPB = 6;
const BOM = 0x1a2b3c4d;

function u32(buf, p, le) {
  return le ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
}
function w32(buf, p, v, le) {
  if (le) buf.writeUInt32LE(v >>> 0, p);
  else buf.writeUInt32BE(v >>> 0, p);
}
function u16(buf, p, le) {
  return le ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
}
function w16(buf, p, v, le) {
  if (le) buf.writeUInt16LE(v & 0xffff, p);
  else buf.writeUInt16BE(v & 0xffff, p);
}

/**
 * Parses a capture into { kind: 'pcap', le, recHdr, header, records: [{ hdr, data }], linkType }
 * or { kind: 'pcapng', blocks: [{ type, le, body }] }; null when it is neither (or damaged).
 */
export function parseCapture(bytes) {
  if (bytes.length < 24) return null;
  const be = bytes.readUInt32BE(0);
  if (be === SHB) return parsePcapng(bytes);
  const magics = { 0xa1b2c3d4: 16, 0xa1b23c4d: 16, 0xa1b2cd34: 24 };
  const leMagic = bytes.readUInt32LE(0);
  const le = magics[leMagic] !== undefined;
  if (!le && magics[be] === undefined) return null;
  const recHdr = magics[le ? leMagic : be];
  const header = Buffer.from(bytes.subarray(0, 24));
  const records = [];
  for (let p = 24; p + recHdr <= bytes.length;) {
    const caplen = u32(bytes, p + 8, le);
    if (p + recHdr + caplen > bytes.length) break;
    records.push({
      hdr: Buffer.from(bytes.subarray(p, p + recHdr)),
      data: Buffer.from(bytes.subarray(p + recHdr, p + recHdr + caplen)),
    });
    p += recHdr + caplen;
  }
  return { kind: 'pcap', le, recHdr, header, records, linkType: u32(header, 20, le) & 0xffff };
}

function parsePcapng(bytes) {
  const blocks = [];
  let le = true;
  for (let p = 0; p + 12 <= bytes.length;) {
    if (bytes.readUInt32BE(p) === SHB) {
      if (bytes.readUInt32LE(p + 8) === BOM) le = true;
      else if (bytes.readUInt32BE(p + 8) === BOM) le = false;
      else return blocks.length > 0 ? { kind: 'pcapng', blocks } : null;
    }
    const type = u32(bytes, p, le);
    const len = u32(bytes, p + 4, le);
    if (len < 12 || len % 4 !== 0 || p + len > bytes.length) break;
    blocks.push({ type, le, body: Buffer.from(bytes.subarray(p + 8, p + len - 4)) });
    p += len;
  }
  return blocks.length > 0 ? { kind: 'pcapng', blocks } : null;
}

/** The bytes of a model (a block's total length follows its body, whatever the body became). */
export function serialize(m) {
  if (m.kind === 'pcap') {
    const parts = [m.header];
    for (const r of m.records) parts.push(r.hdr, r.data);
    return Buffer.concat(parts);
  }
  const parts = [];
  for (const b of m.blocks) {
    const pad = (4 - (b.body.length % 4)) % 4;
    const len = 12 + b.body.length + pad;
    const head = Buffer.alloc(8);
    w32(head, 0, b.type, b.le);
    w32(head, 4, len, b.le);
    const tail = Buffer.alloc(4 + pad);
    w32(tail, pad, len, b.le);
    parts.push(head, b.body, tail);
  }
  return Buffer.concat(parts);
}

/**
 * The packets of a model, each { data, linkType, set(newData) }: `set` writes a changed packet
 * back, with the record's (or block's) lengths made to match.
 */
export function packetsOf(m) {
  const out = [];
  if (m.kind === 'pcap') {
    for (const r of m.records)
      out.push({
        data: r.data,
        linkType: m.linkType,
        set(data) {
          this.data = data;
          r.data = data;
          w32(r.hdr, 8, data.length, m.le);
          w32(r.hdr, 12, data.length, m.le);
        },
      });
    return out;
  }
  let links = [];
  for (const b of m.blocks) {
    if (b.type === SHB) links = [];
    else if (b.type === IDB && b.body.length >= 8) links.push(u16(b.body, 0, b.le));
    else if (b.type === EPB && b.body.length >= 20) {
      const caplen = u32(b.body, 12, b.le);
      if (20 + caplen > b.body.length) continue;
      const ifid = u32(b.body, 0, b.le);
      const optStart = 20 + caplen + ((4 - (caplen % 4)) % 4);
      out.push({
        data: Buffer.from(b.body.subarray(20, 20 + caplen)),
        linkType: links[ifid] ?? 1,
        set(data) {
          this.data = data;
          const pad = (4 - (data.length % 4)) % 4;
          const head = Buffer.from(b.body.subarray(0, 20));
          w32(head, 12, data.length, b.le);
          w32(head, 16, data.length, b.le);
          b.body = Buffer.concat([head, data, Buffer.alloc(pad), b.body.subarray(optStart)]);
        },
      });
    } else if (b.type === SPB && b.body.length >= 4) {
      out.push({
        data: Buffer.from(b.body.subarray(4)),
        linkType: links[0] ?? 1,
        set(data) {
          this.data = data;
          const head = Buffer.alloc(4);
          w32(head, 0, data.length, b.le);
          b.body = Buffer.concat([head, data]);
        },
      });
    }
  }
  return out;
}

/**
 * Where a packet's IP header, transport header and payload are, for the link types in the
 * corpus: { ip, version, proto, l4, sport, dport, payload, payloadEnd } or null.
 */
export function locate(data, linkType) {
  let p = 0;
  let eth = -1;
  if (linkType === 1) {
    p = 12;
    eth = data.length >= 14 ? data.readUInt16BE(12) : -1;
    p = 14;
    while ((eth === 0x8100 || eth === 0x88a8) && p + 4 <= data.length) {
      eth = data.readUInt16BE(p + 2);
      p += 4;
    }
  } else if (linkType === 113) {
    if (data.length < 16) return null;
    eth = data.readUInt16BE(14);
    p = 16;
  } else if (linkType === 276) {
    if (data.length < 20) return null;
    eth = data.readUInt16BE(0);
    p = 20;
  } else if (linkType === 0 || linkType === 108) p = 4;
  else if (linkType !== 101 && linkType !== 228 && linkType !== 229 && linkType !== 12 && linkType !== 14)
    return null;
  if (eth >= 0 && eth !== 0x0800 && eth !== 0x86dd) return null;
  if (p >= data.length) return null;
  const version = data[p] >> 4;
  let proto;
  let l4;
  let ipEnd;
  if (version === 4) {
    if (p + 20 > data.length) return null;
    const ihl = (data[p] & 15) * 4;
    if ((data.readUInt16BE(p + 6) & 0x1fff) !== 0) return null; // a later fragment
    proto = data[p + 9];
    l4 = p + ihl;
    ipEnd = Math.min(data.length, p + data.readUInt16BE(p + 2));
  } else if (version === 6) {
    if (p + 40 > data.length) return null;
    proto = data[p + 6];
    l4 = p + 40;
    ipEnd = Math.min(data.length, l4 + data.readUInt16BE(p + 4));
    while ((proto === 0 || proto === 43 || proto === 60) && l4 + 8 <= data.length) {
      proto = data[l4];
      l4 += 8 + data[l4 + 1] * 8;
    }
  } else return null;
  if (proto === 6 && l4 + 20 <= data.length) {
    const payload = l4 + (data[l4 + 12] >> 4) * 4;
    return {
      ip: p,
      version,
      proto,
      l4,
      sport: data.readUInt16BE(l4),
      dport: data.readUInt16BE(l4 + 2),
      payload,
      payloadEnd: Math.max(payload, ipEnd),
    };
  }
  if (proto === 17 && l4 + 8 <= data.length)
    return {
      ip: p,
      version,
      proto,
      l4,
      sport: data.readUInt16BE(l4),
      dport: data.readUInt16BE(l4 + 2),
      payload: l4 + 8,
      payloadEnd: Math.max(l4 + 8, ipEnd),
    };
  return null;
}

/** The packet with its payload replaced, IPv4/IPv6 and UDP lengths (and the IPv4 checksum) made to match. */
export function withPayload(data, at, payload) {
  const out = Buffer.concat([data.subarray(0, at.payload), payload]);
  const ipLen = out.length - at.ip;
  if (at.version === 4) {
    out.writeUInt16BE(Math.min(ipLen, 0xffff), at.ip + 2);
    out.writeUInt16BE(0, at.ip + 10);
    const ihl = (out[at.ip] & 15) * 4;
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += out.readUInt16BE(at.ip + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    out.writeUInt16BE(~sum & 0xffff, at.ip + 10);
  } else out.writeUInt16BE(Math.min(ipLen - 40, 0xffff), at.ip + 4);
  if (at.proto === 17) out.writeUInt16BE(Math.min(out.length - at.l4, 0xffff), at.l4 + 4);
  return out;
}

// ------------------------------------------------------------------------------- mutations

const EXTREMES = [0, 1, 0x7fffffff, 0xffffffff];
const INT_VALUES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** A length value: one of the extremes, or the current one off by one. */
function lengthValue(r, current) {
  if (r.chance(0.4)) return (current + (r.chance(0.5) ? 1 : -1)) >>> 0;
  if (r.chance(0.2)) return (current + r.pick([4, -4, 8, 0x10000])) >>> 0;
  return r.pick(EXTREMES);
}

/** Fields holding lengths, as [offset, size, le] in the serialized bytes (recomputed from the model). */
function lengthFields(m) {
  const fields = [];
  if (m.kind === 'pcap') {
    fields.push([16, 4, m.le]); // snaplen
    let p = 24;
    for (const r of m.records) {
      fields.push([p + 8, 4, m.le], [p + 12, 4, m.le]);
      p += r.hdr.length + r.data.length;
    }
    return fields;
  }
  let p = 0;
  for (const b of m.blocks) {
    const len = 12 + b.body.length + ((4 - (b.body.length % 4)) % 4);
    fields.push([p + 4, 4, b.le], [p + len - 4, 4, b.le]);
    if (b.type === SHB) fields.push([p + 16, 4, b.le], [p + 20, 4, b.le]); // section length (64 bits)
    if (b.type === IDB) fields.push([p + 12, 4, b.le]); // snaplen
    if (b.type === EPB) fields.push([p + 20, 4, b.le], [p + 24, 4, b.le]); // captured, original length
    if (b.type === SPB) fields.push([p + 8, 4, b.le]);
    // Option lengths: options start after the fixed part (SHB 16, IDB 8, EPB 20 + data).
    let o = -1;
    if (b.type === SHB) o = 16;
    else if (b.type === IDB) o = 8;
    else if (b.type === EPB && b.body.length >= 20) {
      const cap = u32(b.body, 12, b.le);
      o = 20 + cap + ((4 - (cap % 4)) % 4);
    }
    while (o >= 0 && o + 4 <= b.body.length) {
      const code = u16(b.body, o, b.le);
      const olen = u16(b.body, o + 2, b.le);
      fields.push([p + 8 + o + 2, 2, b.le]);
      if (code === 0) break;
      o += 4 + olen + ((4 - (olen % 4)) % 4);
    }
    p += len;
  }
  return fields;
}

/** Sets one length field of the serialized capture. */
function mutateLength(bytes, m, r) {
  const fields = lengthFields(m);
  if (fields.length === 0) return bitFlip(bytes, r);
  const [at, size, le] = r.pick(fields);
  if (at + size > bytes.length) return bitFlip(bytes, r);
  const out = Buffer.from(bytes);
  if (size === 2) w16(out, at, lengthValue(r, u16(out, at, le)) & 0xffff, le);
  else w32(out, at, lengthValue(r, u32(out, at, le)), le);
  return out;
}

function bitFlip(bytes, r) {
  const out = Buffer.from(bytes);
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) {
    const span = r.chance(0.5) ? Math.min(512, out.length) : out.length;
    out[r.int(span)] ^= 1 << r.int(8);
  }
  return out;
}

function overwrite(bytes, r) {
  const out = Buffer.from(bytes);
  const n = 1 + r.int(16);
  const at = r.int(out.length);
  const value = r.pick([0x00, 0xff, -1]);
  for (let i = at; i < Math.min(out.length, at + n); i++) out[i] = value < 0 ? r.int(256) : value;
  return out;
}

/** A copy of a record or block, inserted next to it or elsewhere; or one deleted. */
function duplicateOrDelete(m, r) {
  const list = m.kind === 'pcap' ? m.records : m.blocks;
  if (list.length === 0) return;
  const i = r.int(list.length);
  if (r.chance(0.5) && list.length > 1) {
    list.splice(i, 1);
    return;
  }
  const item = list[i];
  const copy =
    m.kind === 'pcap'
      ? { hdr: Buffer.from(item.hdr), data: Buffer.from(item.data) }
      : { ...item, body: Buffer.from(item.body) };
  const times = r.chance(0.1) ? 50 : 1;
  for (let k = 0; k < times; k++) list.splice(r.chance(0.5) ? i : r.int(list.length + 1), 0, copy);
}

function wrongMagic(bytes, m, r) {
  const out = Buffer.from(bytes);
  if (m.kind === 'pcap') {
    const v = r.pick([0xd4c3b2a1, 0x4d3cb2a1, 0xa1b2c3d4, 0xa1b23c4d, 0x34cdb2a1, r.u32()]);
    out.writeUInt32BE(v, 0);
    return out;
  }
  // The byte-order magic of one section (swapped or garbage), or a block type changed.
  let p = 0;
  const shbs = [];
  const starts = [];
  for (const b of m.blocks) {
    if (b.type === SHB) shbs.push(p);
    starts.push([p, b.le]);
    p += 12 + b.body.length + ((4 - (b.body.length % 4)) % 4);
  }
  if (r.chance(0.6) && shbs.length > 0) {
    const at = r.pick(shbs) + 8;
    if (at + 4 <= out.length) out.writeUInt32BE(r.pick([0x4d3c2b1a, 0x1a2b3c4d, r.u32()]), at);
  } else {
    const [at, le] = r.pick(starts);
    w32(out, at, r.pick([SHB, IDB, 2, SPB, 4, 5, EPB, 0x80000001, 0xbad, 0]), le);
  }
  return out;
}

/** Sets an EPB's interface id out of range (or an IDB's link type to something odd). */
function interfaceId(m, r) {
  if (m.kind === 'pcap') {
    w32(m.header, 20, r.pick([0, 101, 0xffff, 0x7fffffff, 147, 276, 0xffffffff]), m.le);
    return;
  }
  // Each EPB with the number of interfaces its section has declared so far (the first id out of range).
  const epbs = [];
  let ifaces = 0;
  for (const b of m.blocks) {
    if (b.type === SHB) ifaces = 0;
    else if (b.type === IDB) ifaces++;
    else if (b.type === EPB && b.body.length >= 4) epbs.push({ b, ifaces });
  }
  if (epbs.length === 0) return;
  const n = r.chance(0.2) ? epbs.length : 1;
  for (let k = 0; k < n; k++) {
    const e = r.pick(epbs);
    // The block's own byte order: in a big-endian section a little-endian write is not "one past".
    w32(e.b.body, 0, r.pick([e.ifaces, e.ifaces + 1, 0xffff, 0x7fffffff, 0xffffffff]), e.b.le);
  }
}

/** Puts an extreme if_tsresol (code 9) or if_tsoffset (code 14) in an IDB, replacing any there. */
function tsOption(m, r) {
  if (m.kind === 'pcap') {
    // Classic pcap has no resolution option: extreme timestamps instead.
    const rec = m.records.length > 0 ? r.pick(m.records) : null;
    if (rec) {
      w32(rec.hdr, 0, r.pick([0, 0xffffffff, 0x7fffffff]), m.le);
      w32(rec.hdr, 4, r.pick([0, 999999, 1000000, 0xffffffff]), m.le);
    }
    return;
  }
  const idbs = m.blocks.filter((b) => b.type === IDB && b.body.length >= 8);
  if (idbs.length === 0) return;
  const b = r.pick(idbs);
  const tsresol = r.chance(0.7);
  const option = Buffer.alloc(tsresol ? 8 : 12);
  w16(option, 0, tsresol ? 9 : 14, b.le);
  w16(option, 2, tsresol ? 1 : 8, b.le);
  if (tsresol) option[4] = r.pick([0, 1, 9, 19, 20, 63, 64, 127, 0x80, 0x80 | 30, 0x80 | 63, 0xff]);
  else {
    const v = r.pick([0n, 1n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x100000000n]);
    if (b.le) option.writeBigUInt64LE(v, 4);
    else option.writeBigUInt64BE(v, 4);
  }
  const end = Buffer.alloc(4);
  b.body = Buffer.concat([b.body.subarray(0, 8), option, end]);
}

function snaplen(bytes, m, r) {
  const v = r.pick([0, 1, 14, 0x7fffffff, 0xffffffff, 65535 * 1000, 262145]);
  if (m.kind === 'pcap') {
    w32(m.header, 16, v, m.le);
    return;
  }
  const idbs = m.blocks.filter((b) => b.type === IDB && b.body.length >= 8);
  if (idbs.length > 0) {
    const b = r.pick(idbs);
    w32(b.body, 4, v, b.le);
  }
}

/** Well-known ports of the protocols the recognizers read, for choosing which payloads to damage. */
const PROTOCOL_PORTS = new Set([
  5060, 5061, 5062, 5063, 5064, 5065, 5066, 5067, 5068, 5069, 5070, 5071, 5072, 5073, 5075, 5076, 5080, 5086,
  5087, 443, 444, 4443, 8057, 8058, 3478, 3479, 3480, 3481, 50000, 67, 68, 135, 445, 139, 80, 8080,
]);

function interesting(at) {
  return (
    PROTOCOL_PORTS.has(at.sport) || PROTOCOL_PORTS.has(at.dport) || (at.sport >= 1024 && at.dport >= 1024)
  );
}

function isText(buf) {
  let printable = 0;
  const n = Math.min(buf.length, 64);
  for (let i = 0; i < n; i++)
    if ((buf[i] >= 0x20 && buf[i] < 0x7f) || buf[i] === 10 || buf[i] === 13) printable++;
  return n > 8 && printable === n;
}

/** One edit of a text payload (SIP, SDP, HTTP): numbers, lines and line ends. */
function textEdit(payload, r) {
  let s = payload.toString('latin1');
  const lines = s.split('\r\n');
  const k = r.int(6);
  if (k === 0) {
    // A number made extreme: Content-Length, CSeq, ports, SDP m= and c= lines, Expires.
    const numbers = [...s.matchAll(/\d+/g)];
    if (numbers.length > 0) {
      const m = r.pick(numbers);
      const v = r.pick([
        '0',
        '-1',
        '4294967295',
        '2147483648',
        '99999999999999999999',
        '65536',
        '1e308',
        'NaN',
      ]);
      s = s.slice(0, m.index) + v + s.slice(m.index + m[0].length);
    }
  } else if (k === 1 && lines.length > 1) {
    const i = r.int(lines.length);
    const times = r.pick([2, 10, 200]);
    lines.splice(i, 0, ...Array(times).fill(lines[i]));
    s = lines.join('\r\n');
  } else if (k === 2 && lines.length > 1) {
    lines.splice(r.int(lines.length), 1);
    s = lines.join('\r\n');
  } else if (k === 3) s = r.chance(0.5) ? s.replace(/\r\n/g, '\n') : s.replace(/\r\n/g, '\r');
  else if (k === 4) {
    // A very long token or header value.
    const at = r.int(s.length + 1);
    s =
      s.slice(0, at) +
      r.pick(['a', ';', ' ', ':', '=', '<', '%', '\0']).repeat(r.pick([100, 4000, 20000])) +
      s.slice(at);
  } else {
    const cut = r.int(s.length + 1);
    s = s.slice(0, cut);
  }
  return Buffer.from(s, 'latin1');
}

/** One edit of a binary payload (TLS, STUN, RTP, DHCP, DCE/RPC, SMB). */
function binaryEdit(payload, r) {
  const out = Buffer.from(payload);
  if (out.length === 0) return out;
  const k = r.int(6);
  if (k === 0) {
    const n = 1 + r.int(6);
    for (let i = 0; i < n; i++) out[r.int(out.length)] ^= 1 << r.int(8);
  } else if (k === 1 || k === 2) {
    // An integer field (a length, a count, an offset) at an extreme: 1, 2 or 4 bytes, either order.
    const size = r.pick([1, 2, 2, 4, 4]);
    const at = r.int(Math.max(1, Math.min(out.length - size + 1, k === 1 ? 64 : out.length)));
    if (at + size > out.length) return out;
    const v = r.pick(INT_VALUES);
    if (size === 1) out[at] = v & 0xff;
    else if (size === 2) (r.chance(0.5) ? out.writeUInt16BE : out.writeUInt16LE).call(out, v & 0xffff, at);
    else (r.chance(0.5) ? out.writeUInt32BE : out.writeUInt32LE).call(out, v >>> 0, at);
  } else if (k === 3) return out.subarray(0, r.int(out.length));
  else if (k === 4) {
    // The message repeated: more records, attributes or PDUs than anyone sends.
    const times = r.pick([2, 8, 40]);
    return Buffer.concat(Array(times).fill(out)).subarray(0, 65000);
  } else {
    const at = r.int(out.length);
    out.fill(r.pick([0, 0xff]), at, Math.min(out.length, at + 1 + r.int(32)));
  }
  return out;
}

/**
 * The application protocol of a payload, for labelling payload mutations (so the campaign's report
 * shows how many cases damaged each protocol): by content first (the recognisers' own markers),
 * then by well-known port. Draws nothing from the PRNG, so labels never change which bytes a case has.
 */
export function payloadProtocol(at, payload) {
  const ports = (...list) => list.includes(at.sport) || list.includes(at.dport);
  const b = payload;
  const text = b.length >= 4 ? b.subarray(0, Math.min(b.length, 2048)).toString('latin1') : '';
  // SMB (MS-SMB2 2.2.1, MS-CIFS 2.2.3.1): the protocol id right after the 4-byte NetBIOS/direct-TCP header.
  if (b.length >= 8 && (b[4] === 0xff || b[4] === 0xfe) && b.toString('latin1', 5, 8) === 'SMB') return 'smb';
  if (ports(445, 139)) return 'smb';
  // DCE/RPC connection-oriented PDU (C706 12.6.3.1): version 5, minor 0 or 1, packet type up to 20.
  if (b.length >= 16 && b[0] === 5 && b[1] <= 1 && b[2] <= 20) return 'dcerpc';
  if (ports(135)) return 'dcerpc';
  if (at.proto === 17 && ports(67, 68)) return 'dhcp';
  // TLS record (RFC 8446 5.1): content type 20-23, legacy version 3.x.
  if (b.length >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] === 3) return 'tls';
  // STUN (RFC 5389 6) with the magic cookie, or MS-TURN (no cookie) on the TURN ports.
  if (b.length >= 20 && (b[0] & 0xc0) === 0 && b.readUInt32BE(4) === 0x2112a442) return 'stun';
  if (b.length >= 20 && (b[0] & 0xc0) === 0 && ports(3478, 3479, 3480, 3481)) return 'stun';
  if (
    /^(INVITE|ACK|BYE|CANCEL|OPTIONS|REGISTER|SUBSCRIBE|NOTIFY|INFO|MESSAGE|PRACK|UPDATE|REFER|SERVICE|BENOTIFY|NEGOTIATE) |^SIP\/2\.0 /.test(
      text,
    )
  )
    return /(^|\n)v=0\r?\n/.test(text) ? 'sip+sdp' : 'sip';
  if (/^v=0\r?\n/.test(text)) return 'sdp';
  if (/^(GET|POST|PUT|HEAD|CONNECT) |^HTTP\/1\./.test(text)) return 'http';
  // RTP / RTCP (RFC 3550 5.1, 6.4): version 2 on UDP; payload types 200-207 are RTCP.
  if (at.proto === 17 && b.length >= 8 && b[0] >> 6 === 2) return b[1] >= 200 && b[1] <= 207 ? 'rtcp' : 'rtp';
  return at.proto === 6 ? 'tcp-other' : 'udp-other';
}

/**
 * Damages the payloads of 1 to 4 packets (or swaps two packets' payloads); returns the protocols
 * of the payloads it damaged (sorted, distinct), or false when there was no payload.
 */
function mutatePayloads(m, r) {
  const packets = packetsOf(m)
    .map((p) => ({ p, at: locate(p.data, p.linkType) }))
    .filter((x) => x.at !== null && x.at.payloadEnd > x.at.payload && x.at.payloadEnd <= x.p.data.length);
  if (packets.length === 0) return false;
  const preferred = packets.filter((x) => interesting(x.at));
  const pool = preferred.length > 0 && r.chance(0.8) ? preferred : packets;
  if (r.chance(0.1) && pool.length > 1) {
    const a = r.pick(pool);
    const b = r.pick(pool);
    const pa = a.p.data.subarray(a.at.payload, a.at.payloadEnd);
    const pb = b.p.data.subarray(b.at.payload, b.at.payloadEnd);
    const protocols = [...new Set([payloadProtocol(a.at, pa), payloadProtocol(b.at, pb)])].sort();
    a.p.set(withPayload(a.p.data, a.at, Buffer.from(pb)));
    b.p.set(withPayload(b.p.data, b.at, Buffer.from(pa)));
    return protocols;
  }
  const n = 1 + r.int(4);
  const protocols = new Set();
  for (let i = 0; i < n; i++) {
    const x = r.pick(pool);
    const payload = x.p.data.subarray(x.at.payload, x.at.payloadEnd);
    protocols.add(payloadProtocol(x.at, payload));
    const edited = isText(payload) && r.chance(0.8) ? textEdit(payload, r) : binaryEdit(payload, r);
    const max = 65535 - (x.at.payload - x.at.ip);
    x.p.set(withPayload(x.p.data, x.at, edited.length > max ? edited.subarray(0, max) : edited));
    x.at = locate(x.p.data, x.p.linkType) ?? x.at;
  }
  return [...protocols].sort();
}

/** Damages 1-3 packets' link, IP and transport headers (the first 80 bytes). */
function mutateHeaders(m, r) {
  const packets = packetsOf(m);
  if (packets.length === 0) return;
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const p = r.pick(packets);
    const data = Buffer.from(p.data);
    if (data.length === 0) continue;
    const at = r.int(Math.min(80, data.length));
    if (r.chance(0.5)) data[at] ^= 1 << r.int(8);
    else data[at] = r.pick([0, 0xff, r.int(256)]);
    p.set(data);
  }
}

/** Moves packets out of order: one record or block to another place, or a short run reversed. */
function reorder(m, r) {
  const list = m.kind === 'pcap' ? m.records : m.blocks;
  if (list.length < 2) return;
  const i = r.int(list.length);
  if (r.chance(0.5)) {
    const [item] = list.splice(i, 1);
    list.splice(r.int(list.length + 1), 0, item);
  } else {
    const n = Math.min(list.length - i, 2 + r.int(20));
    list.splice(i, n, ...list.slice(i, i + n).reverse());
  }
}

/**
 * TCP segments with moved sequence or acknowledgment numbers (overlaps, holes, wraps, far
 * jumps), or a copy of a segment with other bytes at the same sequence number (an overlap that
 * disagrees): what stream reassembly must survive.
 */
function tcpSequence(m, r) {
  const segments = packetsOf(m)
    .map((p) => ({ p, at: locate(p.data, p.linkType) }))
    .filter((x) => x.at !== null && x.at.proto === 6);
  if (segments.length === 0) return false;
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const x = r.pick(segments);
    const data = Buffer.from(x.p.data);
    const field = x.at.l4 + (r.chance(0.7) ? 4 : 8);
    const old = data.readUInt32BE(field);
    const delta = r.pick([1, -1, 2, -100, 1000, 65536, 0x7fffffff, 0x80000000, -0x10000]);
    data.writeUInt32BE(r.chance(0.2) ? r.pick(INT_VALUES) >>> 0 : (old + delta) >>> 0, field);
    if (r.chance(0.3))
      data[x.at.l4 + 13] = r.pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x3f, 0x00, 0x03]);
    x.p.set(data);
  }
  if (r.chance(0.3) && m.kind === 'pcap') {
    // A resend of a segment with different bytes (the first record with payload), next to it.
    const withData = segments.filter((x) => x.at.payloadEnd > x.at.payload);
    if (withData.length > 0) {
      const x = r.pick(withData);
      const i = m.records.findIndex((rec) => rec.data === x.p.data);
      if (i >= 0) {
        const copy = { hdr: Buffer.from(m.records[i].hdr), data: Buffer.from(m.records[i].data) };
        for (let k = x.at.payload; k < x.at.payloadEnd; k++) copy.data[k] ^= 0x5a;
        m.records.splice(i + 1, 0, copy);
      }
    }
  }
  return true;
}

/** Keeps a window of at most `max` records or packet blocks (with every header and interface block). */
function window(m, r, max) {
  if (m.kind === 'pcap') {
    if (m.records.length > max) {
      const start = r.int(m.records.length - max + 1);
      m.records = m.records.slice(start, start + max);
    }
    return;
  }
  const packetIdx = [];
  m.blocks.forEach((b, i) => {
    if (b.type === EPB || b.type === SPB || b.type === 2) packetIdx.push(i);
  });
  if (packetIdx.length <= max) return;
  const start = r.int(packetIdx.length - max + 1);
  const keep = new Set(packetIdx.slice(start, start + max));
  m.blocks = m.blocks.filter((b, i) => keep.has(i) || !(b.type === EPB || b.type === SPB || b.type === 2));
}

export const MUTATIONS = [
  'bit-flip',
  'overwrite',
  'length-field',
  'duplicate-delete',
  'wrong-magic',
  'interface-id',
  'ts-option',
  'snaplen',
  'truncate',
  'headers',
  'payload',
  'payload',
  'payload',
  'payload',
  'splice',
  'reorder',
  'tcp-sequence',
  'tcp-sequence',
];

/** Packets kept from a corpus capture: bounded inputs keep each case short (and time comparable). */
export const MAX_WINDOW = 400;

/**
 * Case `index` of campaign `seed` over `corpus` ([{ name, bytes }]): { bytes, label, base,
 * mutations }. Mostly one mutation, sometimes two or three; 8% of cases are then gzipped, 2% have
 * the gzip stream itself damaged.
 */
export function makeCase(corpus, seed, index) {
  const r = caseRandom(seed, index);
  const base = r.pick(corpus);
  const applied = [];
  let m = parseCapture(base.bytes);
  let bytes = base.bytes;
  if (m !== null) {
    window(m, r, r.chance(0.1) ? MAX_WINDOW * 4 : 1 + r.int(MAX_WINDOW));
    bytes = serialize(m);
  }
  const rounds = r.chance(0.7) ? 1 : 2 + r.int(2);
  for (let k = 0; k < rounds; k++) {
    const kind = r.pick(MUTATIONS);
    applied.push(kind);
    m = parseCapture(bytes);
    if (kind === 'bit-flip' || m === null) bytes = bitFlip(bytes, r);
    else if (kind === 'overwrite') bytes = overwrite(bytes, r);
    else if (kind === 'length-field') bytes = mutateLength(bytes, m, r);
    else if (kind === 'wrong-magic') bytes = wrongMagic(bytes, m, r);
    else if (kind === 'truncate') bytes = bytes.subarray(0, r.int(bytes.length + 1));
    else {
      if (kind === 'duplicate-delete') duplicateOrDelete(m, r);
      else if (kind === 'interface-id') interfaceId(m, r);
      else if (kind === 'ts-option') tsOption(m, r);
      else if (kind === 'snaplen') snaplen(bytes, m, r);
      else if (kind === 'headers') mutateHeaders(m, r);
      else if (kind === 'reorder') reorder(m, r);
      else if (kind === 'tcp-sequence') {
        if (!tcpSequence(m, r)) mutateHeaders(m, r);
      } else if (kind === 'payload') {
        const protocols = mutatePayloads(m, r);
        if (!protocols) mutateHeaders(m, r);
        else applied[applied.length - 1] = `payload(${protocols.join(',')})`;
      } else if (kind === 'splice') {
        const other = parseCapture(r.pick(corpus).bytes);
        if (other !== null && other.kind === m.kind) {
          window(other, r, 1 + r.int(50));
          if (m.kind === 'pcap') m.records.splice(r.int(m.records.length + 1), 0, ...other.records);
          else m.blocks.splice(r.int(m.blocks.length + 1), 0, ...other.blocks);
        } else duplicateOrDelete(m, r);
      }
      bytes = serialize(m);
    }
  }
  let gzip = false;
  if (r.chance(0.1)) {
    gzip = true;
    bytes = gzipSync(bytes, { level: 1 });
    if (r.chance(0.2)) {
      bytes = r.chance(0.5) ? bitFlip(bytes, r) : bytes.subarray(0, r.int(bytes.length + 1));
      applied.push('gzip-damage');
    }
  }
  return { bytes, base: base.name, mutations: applied, gzip };
}

/** Decompresses corpus files that are gzip (the campaign mutates the capture inside). */
export function corpusEntry(name, bytes) {
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return { name, bytes: gunzipSync(bytes) };
    } catch {
      return { name, bytes };
    }
  }
  return { name, bytes };
}
