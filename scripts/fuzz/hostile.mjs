/**
 * Crafted captures that once made lync-port-audit slow or large (issue 14), built on the fly so
 * that none is stored in the repository. Each writes a classic pcap (Ethernet, microsecond
 * timestamps, little-endian) with correct IPv4 header checksums; the same arguments give the
 * same bytes.
 *
 * - `equal-endpoints`: UDP flows whose two endpoints are the same address and port. The old
 *   flow hash, endpointHash(a) ^ endpointHash(b), was 0 for all of them: one probe chain.
 * - `old-hash-collisions`: UDP flows between two sets of endpoints chosen so that the old hash of
 *   every pair agrees in its low 18 bits (the table index at the default --max-flows): found by
 *   brute force over ports, as anyone could offline, since that hash had no key.
 * - `udp-flows`: ordinary UDP flows from distinct clients to one server port (the baseline, and
 *   "100k UDP flows to one server"), optionally answered.
 * - `syn-scan`: SYNs from distinct sources to one port (a scan from spoofed addresses), 10,000 a
 *   second: at the default --max-flows the table is full and evicts for most of the capture.
 * - `sip-flows`: SIP from distinct clients to one registrar on 5060 (issue 16 section 3), every
 *   flow left open so that all are live at the end: even flows over UDP, odd ones over TCP (a
 *   handshake, no FIN). Each sends REGISTER (answered 200) and INVITE with an SDP offer (answered
 *   100 and 200 with an SDP answer); every fourth flow also OPTIONS (answered 200).
 *
 * Usage: node scripts/fuzz/hostile.mjs <kind> --count N --out FILE.pcap [--port P] [--replies]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KINDS = ['equal-endpoints', 'old-hash-collisions', 'udp-flows', 'syn-scan', 'sip-flows'];

const OUT_SIZE = 1 << 20;

/** A streaming classic-pcap writer: packets are built in place in a 1 MiB buffer. */
class PcapWriter {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(OUT_SIZE);
    this.pos = 0;
    this.packets = 0;
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(65535, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
  }

  /**
   * One Ethernet + IPv4 packet at time `us` (microseconds), with an L4 header of `l4len` bytes
   * written by `fill(buf, offset)`.
   */
  ipv4(us, src, dst, proto, l4len, fill) {
    const len = 14 + 20 + l4len;
    if (this.pos + 16 + len > OUT_SIZE) this.flush();
    const b = this.buf;
    let p = this.pos;
    b.writeUInt32LE(Math.floor(us / 1e6), p);
    b.writeUInt32LE(us % 1e6, p + 4);
    b.writeUInt32LE(len, p + 8);
    b.writeUInt32LE(len, p + 12);
    p += 16;
    // Ethernet: locally administered MACs, EtherType IPv4.
    b.writeUInt32BE(0x02000000, p);
    b.writeUInt16BE(0x0001, p + 4);
    b.writeUInt32BE(0x02000000, p + 6);
    b.writeUInt16BE(0x0002, p + 10);
    b.writeUInt16BE(0x0800, p + 12);
    p += 14;
    b[p] = 0x45;
    b[p + 1] = 0;
    b.writeUInt16BE(20 + l4len, p + 2);
    b.writeUInt16BE(this.packets & 0xffff, p + 4);
    b.writeUInt16BE(0x4000, p + 6); // DF
    b[p + 8] = 64;
    b[p + 9] = proto;
    b.writeUInt16BE(0, p + 10);
    b.writeUInt32BE(src >>> 0, p + 12);
    b.writeUInt32BE(dst >>> 0, p + 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (b[p + i] << 8) | b[p + i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, p + 10);
    fill(b, p + 20);
    this.pos = p + 20 + l4len;
    this.packets++;
  }

  /** A UDP datagram with `payload` bytes of zeros (checksum 0: none, RFC 768). */
  udp(us, src, sport, dst, dport, payload = 8) {
    this.ipv4(us, src, dst, 17, 8 + payload, (b, p) => {
      b.writeUInt16BE(sport, p);
      b.writeUInt16BE(dport, p + 2);
      b.writeUInt16BE(8 + payload, p + 4);
      b.writeUInt16BE(0, p + 6);
      b.fill(0, p + 8, p + 8 + payload);
    });
  }

  /** A bare TCP segment with `flags` (no options, no payload; checksum left 0). */
  tcp(us, src, sport, dst, dport, seq, flags) {
    this.ipv4(us, src, dst, 6, 20, (b, p) => {
      b.writeUInt16BE(sport, p);
      b.writeUInt16BE(dport, p + 2);
      b.writeUInt32BE(seq >>> 0, p + 4);
      b.writeUInt32BE(0, p + 8);
      b[p + 12] = 0x50;
      b[p + 13] = flags;
      b.writeUInt16BE(64240, p + 14);
      b.writeUInt32BE(0, p + 16);
    });
  }

  /** A UDP datagram carrying the bytes of `data`. */
  udpData(us, src, sport, dst, dport, data) {
    this.ipv4(us, src, dst, 17, 8 + data.length, (b, p) => {
      b.writeUInt16BE(sport, p);
      b.writeUInt16BE(dport, p + 2);
      b.writeUInt16BE(8 + data.length, p + 4);
      b.writeUInt16BE(0, p + 6);
      data.copy(b, p + 8);
    });
  }

  /** A TCP segment with `flags` and the bytes of `data` (no options; checksum left 0). */
  tcpData(us, src, sport, dst, dport, seq, ack, flags, data) {
    this.ipv4(us, src, dst, 6, 20 + data.length, (b, p) => {
      b.writeUInt16BE(sport, p);
      b.writeUInt16BE(dport, p + 2);
      b.writeUInt32BE(seq >>> 0, p + 4);
      b.writeUInt32BE(ack >>> 0, p + 8);
      b[p + 12] = 0x50;
      b[p + 13] = flags;
      b.writeUInt16BE(64240, p + 14);
      b.writeUInt32BE(0, p + 16);
      data.copy(b, p + 20);
    });
  }

  flush() {
    writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
    return this.packets;
  }
}

/** 10.a.b.c for n = a.b.c (n below 2^24). */
function addr10(n) {
  return ((10 << 24) | (n & 0xffffff)) >>> 0;
}

const START_US = 1_700_000_000 * 1e6;

/** `count` UDP flows of one datagram each, both endpoints the same address and port. */
export function equalEndpoints({ count, out, port = 40000 }) {
  const w = new PcapWriter(out);
  for (let i = 0; i < count; i++) {
    const a = addr10(0x010000 + i);
    w.udp(START_US + i * 100, a, port, a, port);
  }
  return { packets: w.close(), flows: count };
}

/** `count` UDP flows from distinct clients to one server port, each answered when `replies`. */
export function udpFlows({ count, out, port = 3478, replies = false }) {
  const w = new PcapWriter(out);
  const server = addr10(0x000a0a);
  for (let i = 0; i < count; i++) {
    const client = addr10(0x100000 + i);
    const cport = 50000 + (i % 10000);
    const t = START_US + i * 100;
    w.udp(t, client, cport, server, port);
    if (replies) w.udp(t + 20, server, port, client, cport);
  }
  return { packets: w.close(), flows: count };
}

/** `count` SYNs from distinct sources (a scan from spoofed addresses) to one port, 10,000 a second. */
export function synScan({ count, out, port = 5061 }) {
  const w = new PcapWriter(out);
  const target = addr10(0x000a0a);
  for (let i = 0; i < count; i++) {
    const src = addr10(0x100000 + i);
    w.tcp(START_US + i * 100, src, 1024 + (i % 60000), target, port, Math.imul(i, 0x9e3779b1), 0x02);
  }
  return { packets: w.close(), flows: count };
}

function dotted(a) {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The messages of one SIP flow of `sipFlows`, in order: [from client?, text]. */
function sipDialogue(i, client, cport, server, transport, options) {
  const c = dotted(client);
  const sv = dotted(server);
  const user = `user${i}`;
  const tag = `t${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16)}`;
  const via = (b) => `Via: SIP/2.0/${transport} ${c}:${cport};branch=z9hG4bK${b}${i}`;
  const common = (cseq, method, callId, toTag) => [
    `From: "User ${i}" <sip:${user}@example.com>;tag=${tag}`,
    `To: <sip:${method === 'REGISTER' ? user : 'echo'}@example.com>${toTag ? ';tag=s' + i : ''}`,
    `Call-ID: ${callId}${i}@${c}`,
    `CSeq: ${cseq} ${method}`,
  ];
  const sdp = (addr, port) =>
    [
      'v=0',
      `o=- ${1000 + i} 1 IN IP4 ${addr}`,
      's=session',
      `c=IN IP4 ${addr}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 0 8 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n');
  const msg = (start, headers, body = '', type = 'application/sdp') =>
    [
      start,
      ...headers,
      'Max-Forwards: 70',
      'User-Agent: hostile-sip/1.0',
      ...(body.length > 0 ? [`Content-Type: ${type}`] : []),
      `Content-Length: ${body.length}`,
      '',
      body,
    ].join('\r\n');
  const out = [
    [
      true,
      msg(`REGISTER sip:example.com SIP/2.0`, [
        via('r'),
        ...common(1, 'REGISTER', 'reg', false),
        `Contact: <sip:${user}@${c}:${cport}>`,
        'Expires: 3600',
      ]),
    ],
    [false, msg('SIP/2.0 200 OK', [via('r'), ...common(1, 'REGISTER', 'reg', true), 'Expires: 3600'])],
  ];
  if (options)
    out.push(
      [true, msg(`OPTIONS sip:${sv} SIP/2.0`, [via('o'), ...common(1, 'OPTIONS', 'opt', false)])],
      [
        false,
        msg('SIP/2.0 200 OK', [
          via('o'),
          ...common(1, 'OPTIONS', 'opt', true),
          'Allow: INVITE, ACK, BYE, OPTIONS',
        ]),
      ],
    );
  out.push(
    [
      true,
      msg(
        `INVITE sip:echo@example.com SIP/2.0`,
        [via('i'), ...common(1, 'INVITE', 'call', false), `Contact: <sip:${user}@${c}:${cport}>`],
        sdp(c, 20000 + (i % 20000) * 2),
      ),
    ],
    [false, msg('SIP/2.0 100 Trying', [via('i'), ...common(1, 'INVITE', 'call', false)])],
    [
      false,
      msg(
        'SIP/2.0 200 OK',
        [via('i'), ...common(1, 'INVITE', 'call', true), `Contact: <sip:echo@${sv}:5060>`],
        sdp(sv, 30000 + (i % 15000) * 2),
      ),
    ],
  );
  return out.map(([fromClient, text]) => [fromClient, Buffer.from(text, 'latin1')]);
}

/**
 * `count` SIP flows from distinct clients to one registrar on `port`, all left open (live at the
 * end of the capture), 10,000 flows a second: even ones over UDP, odd ones over TCP.
 */
export function sipFlows({ count, out, port = 5060 }) {
  const w = new PcapWriter(out);
  const server = addr10(0x000a0a);
  for (let i = 0; i < count; i++) {
    const client = addr10(0x100000 + i);
    const cport = 1024 + (i % 60000);
    const t = START_US + i * 100;
    const udp = i % 2 === 0;
    const msgs = sipDialogue(i, client, cport, server, udp ? 'UDP' : 'TCP', i % 4 < 2);
    if (udp) {
      msgs.forEach(([fromClient, data], k) => {
        if (fromClient) w.udpData(t + k, client, cport, server, port, data);
        else w.udpData(t + k, server, port, client, cport, data);
      });
      continue;
    }
    let cseq = Math.imul(i, 0x9e3779b1) >>> 0;
    let sseq = Math.imul(i, 0x85ebca6b) >>> 0;
    w.tcpData(t, client, cport, server, port, cseq, 0, 0x02, Buffer.alloc(0));
    w.tcpData(t + 1, server, port, client, cport, sseq, cseq + 1, 0x12, Buffer.alloc(0));
    cseq = (cseq + 1) >>> 0;
    sseq = (sseq + 1) >>> 0;
    w.tcpData(t + 2, client, cport, server, port, cseq, sseq, 0x10, Buffer.alloc(0));
    msgs.forEach(([fromClient, data], k) => {
      if (fromClient) {
        w.tcpData(t + 3 + k, client, cport, server, port, cseq, sseq, 0x18, data);
        cseq = (cseq + data.length) >>> 0;
      } else {
        w.tcpData(t + 3 + k, server, port, client, cport, sseq, cseq, 0x18, data);
        sseq = (sseq + data.length) >>> 0;
      }
    });
  }
  return { packets: w.close(), flows: count };
}

/**
 * The flow table's endpoint hash before it was keyed (src/flow/table.ts until issue 14), for an
 * IPv4 address (words 0-2 zero) and a port.
 */
export function oldEndpointHash(addr, port) {
  let h = Math.imul(addr ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ 0 ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ 0 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ 0 ^ (h >>> 16), 0x27d4eb2f);
  return Math.imul(h ^ port ^ (h >>> 15), 0x165667b1) >>> 2;
}

/** The old flow hash: symmetric, so it was the XOR of the two endpoints' hashes. */
export function oldFlowHash(a, aPort, b, bPort, proto) {
  const h =
    (oldEndpointHash(a, aPort) ^ oldEndpointHash(b, bPort) ^ Math.imul(proto + 1, 0x9e3779b1)) & 0x3fffffff;
  return h === 0 ? 1 : h;
}

/** Bits of the old hash that picked the slot at the default --max-flows (2^18 slots). */
export const COLLISION_BITS = 18;

/** `n` endpoints (address, port) in 10.<net>.0.0/16 whose old hash has its low COLLISION_BITS bits zero. */
function zeroEndpoints(net, n) {
  const mask = (1 << COLLISION_BITS) - 1;
  const found = [];
  for (let host = 1; found.length < n && host < 0x10000; host++) {
    const a = addr10((net << 16) | host);
    for (let port = 1024; port < 65536 && found.length < n; port++)
      if ((oldEndpointHash(a, port) & mask) === 0) found.push([a, port]);
  }
  return found;
}

/**
 * `count` UDP flows, one datagram each, between endpoints of 10.1/16 and of 10.2/16 whose old
 * hashes all agree in their low COLLISION_BITS bits: every pair of a side-A and a side-B endpoint
 * (the XOR of two zeros), so about 2*sqrt(count) endpoints are searched for.
 */
export function oldHashCollisions({ count, out }) {
  const side = Math.ceil(Math.sqrt(count));
  const as = zeroEndpoints(1, side);
  const bs = zeroEndpoints(2, side);
  const w = new PcapWriter(out);
  let n = 0;
  for (const [a, ap] of as)
    for (const [b, bp] of bs) {
      if (n === count) break;
      w.udp(START_US + n * 100, a, ap, b, bp);
      n++;
    }
  return { packets: w.close(), flows: n };
}

export function generateHostile(kind, options) {
  if (kind === 'equal-endpoints') return equalEndpoints(options);
  if (kind === 'old-hash-collisions') return oldHashCollisions(options);
  if (kind === 'udp-flows') return udpFlows(options);
  if (kind === 'syn-scan') return synScan(options);
  if (kind === 'sip-flows') return sipFlows(options);
  throw new Error(`unknown kind ${kind}: ${KINDS.join(', ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, ...rest] = process.argv.slice(2);
  const opts = { count: 10000, out: '' };
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--count') opts.count = Number(rest[++i]);
    else if (rest[i] === '--out') opts.out = rest[++i];
    else if (rest[i] === '--port') opts.port = Number(rest[++i]);
    else if (rest[i] === '--replies') opts.replies = true;
    else throw new Error(`unknown option ${rest[i]}`);
  }
  if (!KINDS.includes(kind) || !opts.out) {
    process.stderr.write(
      `usage: node scripts/fuzz/hostile.mjs <${KINDS.join('|')}> --count N --out FILE.pcap\n`,
    );
    process.exit(2);
  }
  const r = generateHostile(kind, opts);
  process.stderr.write(`${opts.out}: ${r.packets} packets, ${r.flows} flows\n`);
}
