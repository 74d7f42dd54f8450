/**
 * Builds a large, deterministic classic-pcap capture (Ethernet, microsecond timestamps) that
 * looks like what a mirror port next to a Lync / Skype for Business pool sees:
 *
 * - audio calls: ICE connectivity checks (STUN binding request/response) on the media 5-tuple,
 *   then SRTP both ways at 20 ms (~200-byte frames) with RTCP every 5 s (rtcp-mux); some calls
 *   are one-way (the callee's media is blocked); some also carry a video stream; calls through
 *   the Edge first run a TURN allocation (401 challenge, then success) to UDP 3478; failed
 *   candidate pairs leave binding requests that nobody answers;
 * - short TLS sessions (443, 444, 4443, 8057, 5061): handshake, TLS records in MSS-sized
 *   segments with delayed ACKs, FIN close (a few close with RST instead);
 * - long-lived SIP/TLS registrations on 5061 with a SIP exchange every 5-30 s;
 * - SYNs that nobody answers (retransmitted at +1 s, +3 s, +7 s) and SYNs refused with RST;
 * - about one session in ten over IPv6.
 *
 * The `tcp` profile (`--profile tcp`) is the same pool seen where TCP dominates (a mirror in front
 * of the Front End pool and the reverse proxy at sign-in time): many short TLS sessions with real
 * hellos (ClientHello with SNI and ALPN, ServerHello, Certificate, ChangeCipherSpec), plaintext
 * SIP registrations on TCP 5060 (REGISTER, 401 with an NTLM challenge, REGISTER, 200), about
 * 2,000 SIP/TLS registrations on 5061 kept alive, HTTP on 80 (lyncdiscover), SYN scans of a Front
 * End (closed ports answer RST, open ones SYN-ACK and the scanner resets) and of an address a
 * firewall drops, the same trickle of unanswered and refused SYNs, and a few calls: about 30,000
 * flows per million packets against 3,600 in the default `media` profile.
 *
 * Sessions start as Poisson arrivals and run concurrently; a binary heap keyed by each session's
 * next packet time interleaves them, so the file is in time order. Traffic is stationary from
 * the first packet: like a real capture, it starts in the middle of things, with the SIP
 * registrations and calls that are already under way (their handshakes are before the capture),
 * so the number of concurrent flows is the same after 1M packets as after 5M; only the
 * duration grows.
 * Checksums (IPv4 header, TCP, UDP) are correct. The same seed and packet count give the same bytes.
 *
 * Usage: node bench/generate.mjs --packets 1000000 [--seed 1] [--profile media|tcp] --out FILE.pcap
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Bump when the output changes, so that bench/run.mjs rebuilds stale captures. */
export const GENERATOR_VERSION = 3;

/** The traffic mixes: `media` (80% SRTP) and `tcp` (short TCP/TLS sessions, scans, registrations). */
export const PROFILES = ['media', 'tcp'];

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG: sfc32 (Chris Doty-Humphrey's small fast counting generator); the fuzz
// campaign (scripts/fuzz/mutate.mjs) draws from the same one.

export function sfc32(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

// ---------------------------------------------------------------------------------------------
// Output: a 4 MiB buffer flushed with writeSync; packets are built in place.

const OUT_SIZE = 1 << 22;

class PcapWriter {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(OUT_SIZE);
    this.pos = 0;
    this.packets = 0;
    this.bytes = 0;
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.pos = 24;
  }

  /** Reserves a record of `len` bytes at time `tUs`; returns the offset of the frame in `buf`. */
  record(tUs, len) {
    if (this.pos + 16 + len > OUT_SIZE) this.flush();
    const b = this.buf;
    const p = this.pos;
    const sec = Math.floor(tUs / 1e6);
    b.writeUInt32LE(sec, p);
    b.writeUInt32LE(tUs - sec * 1e6, p + 4);
    b.writeUInt32LE(len, p + 8);
    b.writeUInt32LE(len, p + 12);
    this.pos = p + 16 + len;
    this.packets++;
    this.bytes += 16 + len;
    return p + 16;
  }

  flush() {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Hosts and headers.

const V4 = 4;
const V6 = 6;

function host(version, v4, v6suffix, macLow) {
  const mac = Buffer.from([0x00, 0x15, 0x5d, (macLow >>> 16) & 0xff, (macLow >>> 8) & 0xff, macLow & 0xff]);
  const addr = Buffer.alloc(version === V4 ? 4 : 16);
  if (version === V4) addr.writeUInt32BE(v4 >>> 0, 0);
  else {
    addr.writeUInt32BE(0xfd000000, 0); // fd00:10::/64 style unique-local prefix
    addr.writeUInt32BE(0x00100000 | ((v4 >>> 16) & 0xffff), 4);
    addr.writeUInt32BE(0, 8);
    addr.writeUInt32BE(v6suffix >>> 0, 12);
  }
  return { version, addr, mac, nextPort: 49152 + (macLow % 16000), nextMedia: 50000 + (macLow % 20) * 2 };
}

function ip4(a, b, c, d) {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Ones-complement sum of buf[start, end) as 16-bit big-endian words (RFC 1071). */
function sum16(buf, start, end, acc) {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (i < end) acc += buf[i] << 8;
  return acc;
}

function fold(acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return ~acc & 0xffff;
}

const GATEWAY_MAC = Buffer.from([0x00, 0x00, 0x5e, 0x00, 0x01, 0x01]);
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/**
 * Writes Ethernet + IP headers for a packet from `src` to `dst` carrying `l4len` bytes of
 * transport header and payload; returns the transport header offset.
 */
function writeIp(w, tUs, src, dst, proto, l4len, ipId) {
  const v6 = src.version === V6;
  const len = 14 + (v6 ? 40 : 20) + l4len;
  const b = w.buf;
  const f = w.record(tUs, len);
  // Clients sit behind the gateway; the mirror sees the gateway's MAC on one side.
  dst.mac.copy(b, f);
  GATEWAY_MAC.copy(b, f + 6);
  b[f + 12] = v6 ? 0x86 : 0x08;
  b[f + 13] = v6 ? 0xdd : 0x00;
  const ip = f + 14;
  if (v6) {
    b.writeUInt32BE(0x60000000, ip);
    b.writeUInt16BE(l4len, ip + 4);
    b[ip + 6] = proto;
    b[ip + 7] = 64;
    src.addr.copy(b, ip + 8);
    dst.addr.copy(b, ip + 24);
    return ip + 40;
  }
  b[ip] = 0x45;
  b[ip + 1] = proto === IPPROTO_UDP ? 0xb8 : 0; // media is marked EF (DSCP 46)
  b.writeUInt16BE(20 + l4len, ip + 2);
  b.writeUInt16BE(ipId & 0xffff, ip + 4);
  b[ip + 6] = 0x40; // DF
  b[ip + 7] = 0;
  b[ip + 8] = 128;
  b[ip + 9] = proto;
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  src.addr.copy(b, ip + 12);
  dst.addr.copy(b, ip + 16);
  b.writeUInt16BE(fold(sum16(b, ip, ip + 20, 0)), ip + 10);
  return ip + 20;
}

/** Pseudo-header sum for the transport checksum (RFC 9293 3.1, RFC 8200 8.1). */
function pseudoSum(src, dst, proto, l4len) {
  let acc = sum16(src.addr, 0, src.addr.length, 0);
  acc = sum16(dst.addr, 0, dst.addr.length, acc);
  return acc + proto + l4len;
}

// ---------------------------------------------------------------------------------------------
// The generator proper.

export function generate({ packets, seed = 1, out, profile = 'media' }) {
  if (!PROFILES.includes(profile)) throw new Error(`unknown profile ${profile} (${PROFILES.join(', ')})`);
  const tcpHeavy = profile === 'tcp';
  const rand32 = sfc32(seed);
  const rand = () => rand32() / 4294967296;
  const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const expo = (mean) => -Math.log(1 - rand()) * mean;
  const chance = (p) => rand() < p;
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];

  // Random bytes that stand in for encrypted payload (SRTP, TLS): copied from random offsets.
  const noise = Buffer.allocUnsafe(1 << 20);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE(rand32(), i);
  const fill = (b, off, len) => {
    const from = Math.floor(rand() * (noise.length - len));
    noise.copy(b, off, from, from + len);
  };

  // Hosts: 2000 internal clients (200 of them with IPv6 too), the Front End pool, the Edge's
  // internal interface, the reverse proxy, and a few outside addresses that never answer.
  const clients4 = [];
  const clients6 = [];
  for (let i = 0; i < 2000; i++) {
    const v4 = ip4(10, 1, 1 + (i >> 8), i & 0xff);
    clients4.push(host(V4, v4, 0, 0x010000 + i));
    if (i < 200) clients6.push(host(V6, v4, 0x1000 + i, 0x020000 + i));
  }
  const servers = (version) => {
    const mk = (v4, suffix, mac) => host(version, v4, suffix, mac);
    return {
      frontEnds: [
        mk(ip4(10, 0, 0, 10), 0x10, 0x30010),
        mk(ip4(10, 0, 0, 11), 0x11, 0x30011),
        mk(ip4(10, 0, 0, 12), 0x12, 0x30012),
      ],
      edge: mk(ip4(10, 0, 1, 5), 0x105, 0x30105),
      proxy: mk(ip4(10, 0, 0, 20), 0x20, 0x30020),
      dark: [
        mk(ip4(203, 0, 113, 7), 0xd7, 0x40007),
        mk(ip4(198, 51, 100, 99), 0xd9, 0x40009),
        mk(ip4(10, 0, 9, 9), 0x909, 0x40909),
      ],
    };
  };
  const net = { [V4]: { clients: clients4, ...servers(V4) }, [V6]: { clients: clients6, ...servers(V6) } };
  const family = () => (chance(0.1) ? net[V6] : net[V4]);
  const ephemeral = (h) => {
    h.nextPort += between(1, 3);
    if (h.nextPort > 65535) h.nextPort = 49152;
    return h.nextPort;
  };
  const mediaPort = (h) => {
    h.nextMedia += 2;
    if (h.nextMedia >= 50040) h.nextMedia = 50000;
    return h.nextMedia;
  };

  const tmp = `${out}.partial`;
  const w = new PcapWriter(tmp);
  const counts = {
    calls: 0,
    oneWay: 0,
    video: 0,
    edgeCalls: 0,
    tls: 0,
    sip: 0,
    unanswered: 0,
    refused: 0,
    ipv6: 0,
    ...(tcpHeavy ? { sipTcp: 0, http: 0, scans: 0, scanProbes: 0 } : {}),
  };
  let ipId = 1;

  // --- packet writers -------------------------------------------------------------------------

  function tcp(tUs, from, to, flags, len, options, filler, first) {
    const hl = 20 + options;
    const l4 = writeIp(w, tUs, from.h, to.h, IPPROTO_TCP, hl + len, ipId++);
    const b = w.buf;
    b.writeUInt16BE(from.port, l4);
    b.writeUInt16BE(to.port, l4 + 2);
    b.writeUInt32BE(from.seq >>> 0, l4 + 4);
    b.writeUInt32BE(flags & 0x10 ? to.seq >>> 0 : 0, l4 + 8);
    b[l4 + 12] = (hl / 4) << 4;
    b[l4 + 13] = flags;
    b.writeUInt16BE(flags & 0x02 ? 64240 : 513, l4 + 14); // window (scaled after the handshake)
    b[l4 + 16] = 0;
    b[l4 + 17] = 0;
    b[l4 + 18] = 0;
    b[l4 + 19] = 0;
    if (options === 12) {
      // MSS 1460, NOP, window scale 8, NOP, NOP, SACK permitted (RFC 9293 3.2, RFC 7323, RFC 2018).
      b.writeUInt32BE(0x020405b4, l4 + 20);
      b.writeUInt32BE(0x01030308, l4 + 24);
      b.writeUInt32BE(0x01010402, l4 + 28);
    }
    if (len > 0) {
      if (filler) filler(b, l4 + hl, len, first);
      else fill(b, l4 + hl, len);
    }
    b.writeUInt16BE(
      fold(sum16(b, l4, l4 + hl + len, pseudoSum(from.h, to.h, IPPROTO_TCP, hl + len))),
      l4 + 16,
    );
    from.seq = (from.seq + len + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0)) >>> 0;
  }

  function udp(tUs, src, sport, dst, dport, len, filler) {
    const l4 = writeIp(w, tUs, src, dst, IPPROTO_UDP, 8 + len, ipId++);
    const b = w.buf;
    b.writeUInt16BE(sport, l4);
    b.writeUInt16BE(dport, l4 + 2);
    b.writeUInt16BE(8 + len, l4 + 4);
    b[l4 + 6] = 0;
    b[l4 + 7] = 0;
    filler(b, l4 + 8, len);
    const c = fold(sum16(b, l4, l4 + 8 + len, pseudoSum(src, dst, IPPROTO_UDP, 8 + len)));
    b.writeUInt16BE(c === 0 ? 0xffff : c, l4 + 6);
  }

  // TLS records (RFC 8446 5.1): one record per message, its header at the start of the first
  // segment, opaque (encrypted-looking) bytes after.
  const tlsMessage = (type, total) => (b, off, len, first) => {
    fill(b, off, len);
    if (first && len >= 5) {
      b[off] = type;
      b[off + 1] = 3;
      b[off + 2] = 3;
      b.writeUInt16BE(Math.min(total - 5, 16384), off + 3);
    }
  };
  const TLS_HANDSHAKE = 22;
  const TLS_DATA = 23;

  /** A filler that copies `msg` across the segments of one message, in order. */
  const copier = (msg) => {
    let pos = 0;
    return (b, off, len) => {
      msg.copy(b, off, pos, pos + len);
      pos += len;
    };
  };
  const u16 = (n) => [(n >> 8) & 0xff, n & 0xff];
  const u24 = (n) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const randomBytes = (n) => {
    const b = Buffer.allocUnsafe(n);
    fill(b, 0, n);
    return b;
  };
  /** A TLS record (RFC 8446 5.1) around `body`. */
  const tlsRecord = (type, version, body) =>
    Buffer.concat([Buffer.from([type, 3, version, ...u16(body.length)]), body]);
  /** A handshake message (RFC 8446 4): type, 24-bit length, body. */
  const handshake = (type, body) => Buffer.concat([Buffer.from([type, ...u24(body.length)]), body]);
  const extension = (type, body) => Buffer.concat([Buffer.from([...u16(type), ...u16(body.length)]), body]);
  const vector16 = (body) => Buffer.concat([Buffer.from(u16(body.length)), body]);
  /** A TLS 1.2 ClientHello (RFC 5246 7.4.1.2) with server_name (RFC 6066 3) and, when given, ALPN (RFC 7301). */
  const clientHello = (sni, alpn) => {
    const name = Buffer.from(sni, 'ascii');
    const suites = [
      0xc030, 0xc02f, 0xc028, 0xc027, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f,
    ];
    const exts = [
      extension(0x0000, vector16(Buffer.concat([Buffer.from([0]), vector16(name)]))),
      extension(0x000a, vector16(Buffer.from([0, 0x1d, 0, 0x17, 0, 0x18]))),
      extension(0x000b, Buffer.from([1, 0])),
      extension(0x000d, vector16(Buffer.from([4, 1, 5, 1, 2, 1, 4, 3, 5, 3, 2, 3, 2, 2, 6, 1, 6, 3]))),
      extension(0x0017, Buffer.alloc(0)),
      extension(0xff01, Buffer.from([0])),
    ];
    if (alpn) {
      const list = Buffer.concat(
        alpn.map((a) => Buffer.concat([Buffer.from([a.length]), Buffer.from(a, 'ascii')])),
      );
      exts.push(extension(0x0010, vector16(list)));
    }
    const body = Buffer.concat([
      Buffer.from([3, 3]),
      randomBytes(32),
      Buffer.from([32]),
      randomBytes(32),
      vector16(Buffer.from(suites.flatMap(u16))),
      Buffer.from([1, 0]),
      vector16(Buffer.concat(exts)),
    ]);
    return tlsRecord(TLS_HANDSHAKE, 1, handshake(1, body));
  };
  /** ServerHello, Certificate (an opaque chain of `certBytes`), ServerHelloDone in one record. */
  const serverFlight = (certBytes) => {
    const hello = handshake(
      2,
      Buffer.concat([
        Buffer.from([3, 3]),
        randomBytes(32),
        Buffer.from([32]),
        randomBytes(32),
        Buffer.from([0xc0, 0x30, 0]),
        vector16(Buffer.concat([extension(0xff01, Buffer.from([0])), extension(0x0017, Buffer.alloc(0))])),
      ]),
    );
    const chain = [certBytes >> 1, certBytes - (certBytes >> 1)].map((n) =>
      Buffer.concat([Buffer.from(u24(n)), Buffer.from([0x30, 0x82]), randomBytes(n - 2)]),
    );
    const list = Buffer.concat(chain);
    const cert = handshake(11, Buffer.concat([Buffer.from(u24(list.length)), list]));
    return tlsRecord(TLS_HANDSHAKE, 3, Buffer.concat([hello, cert, handshake(14, Buffer.alloc(0))]));
  };
  const CCS = tlsRecord(20, 3, Buffer.from([1]));
  const CLIENT_FINISH = Buffer.concat([
    tlsRecord(TLS_HANDSHAKE, 3, handshake(16, Buffer.concat([Buffer.from([65]), randomBytes(65)]))),
    CCS,
    tlsRecord(TLS_HANDSHAKE, 3, randomBytes(40)),
  ]);
  const SERVER_FINISH = Buffer.concat([CCS, tlsRecord(TLS_HANDSHAKE, 3, randomBytes(40))]);
  const clientHellos = tcpHeavy
    ? {
        443: ['lyncdiscover.contoso.com', 'webext.contoso.com', 'meet.contoso.com', 'dialin.contoso.com'].map(
          (n) => clientHello(n, ['h2', 'http/1.1']),
        ),
        4443: ['webext.contoso.com', 'meet.contoso.com'].map((n) => clientHello(n, ['http/1.1'])),
        default: [
          'pool01.contoso.local',
          'fe01.contoso.local',
          'fe02.contoso.local',
          'fe03.contoso.local',
        ].map((n) => clientHello(n)),
      }
    : {};
  const serverFlights = tcpHeavy ? [2600, 3400, 4100, 4900].map(serverFlight) : [];

  /** Plaintext SIP (RFC 3261 7) as a Lync client sends it on TCP 5060. */
  const sipRegister = (user, c, s, cseq, auth) =>
    Buffer.from(
      `REGISTER sip:contoso.com SIP/2.0\r\n` +
        `Via: SIP/2.0/TCP ${hostText(c.h)}:${c.port};branch=z9hG4bK${user.toString(16)}${cseq}\r\n` +
        `Max-Forwards: 70\r\n` +
        `From: <sip:user${user}@contoso.com>;tag=${(user * 7919).toString(16)};epid=${user.toString(16)}a1\r\n` +
        `To: <sip:user${user}@contoso.com>\r\n` +
        `Call-ID: ${user.toString(16)}c0ffee${c.port}\r\n` +
        `CSeq: ${cseq} REGISTER\r\n` +
        `Contact: <sip:${hostText(c.h)}:${c.port};transport=tcp;ms-opaque=d3470f2e1d>;methods="INVITE, MESSAGE, INFO, SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace;+sip.instance="<urn:uuid:${user.toString(16).padStart(8, '0')}-0000-5000-8000-00155d000001>"\r\n` +
        `User-Agent: UCCAPI/16.0.5339.1000 OC/16.0.5339.1000 (Skype for Business)\r\n` +
        `Supported: gruu-10, adhoclist, msrtc-event-categories, ms-ucmgmt, com.microsoft.msrtc.presence\r\n` +
        `Event: registration\r\n` +
        (auth
          ? `Authorization: NTLM qop="auth", realm="SIP Communications Service", opaque="8b3f61c2", targetname="fe01.contoso.local", version=4, gssapi-data="TlRMTVNTUAADAAAAGAAYAHgAAAAYABgAkAAAAA4ADgBIAAAA", crand="${user.toString(16)}", cnum="1", response="0100000000000000"\r\n`
          : '') +
        `Content-Length: 0\r\n\r\n`,
      'latin1',
    );
  const sipResponse = (user, c, s, cseq, status, reason, extra) =>
    Buffer.from(
      `SIP/2.0 ${status} ${reason}\r\n` +
        `Via: SIP/2.0/TCP ${hostText(c.h)}:${c.port};branch=z9hG4bK${user.toString(16)}${cseq};received=${hostText(c.h)};ms-received-port=${c.port};ms-received-cid=${cseq}A00\r\n` +
        `From: <sip:user${user}@contoso.com>;tag=${(user * 7919).toString(16)};epid=${user.toString(16)}a1\r\n` +
        `To: <sip:user${user}@contoso.com>;tag=${(user * 104729).toString(16)}\r\n` +
        `Call-ID: ${user.toString(16)}c0ffee${c.port}\r\n` +
        `CSeq: ${cseq} REGISTER\r\n` +
        extra +
        `Server: RTC/6.0\r\n` +
        `Content-Length: 0\r\n\r\n`,
      'latin1',
    );
  const hostText = (h) =>
    h.version === V4
      ? `${h.addr[0]}.${h.addr[1]}.${h.addr[2]}.${h.addr[3]}`
      : `[${[0, 2, 4, 6, 8, 10, 12, 14].map((i) => h.addr.readUInt16BE(i).toString(16)).join(':')}]`;

  // STUN (RFC 5389 section 6): type, length, magic cookie, transaction id, then attributes.
  const stunFiller = (type) => (b, off, len) => {
    fill(b, off, len);
    b.writeUInt16BE(type, off);
    b.writeUInt16BE(len - 20, off + 2);
    b.writeUInt32BE(0x2112a442, off + 4);
    // One opaque attribute spanning the rest (USERNAME / XOR-MAPPED-ADDRESS sized as Lync sends them).
    if (len >= 24) {
      b.writeUInt16BE(type === 0x0001 || type === 0x0003 ? 0x0006 : 0x0020, off + 20);
      b.writeUInt16BE(len - 24, off + 22);
    }
  };
  // Attributes are padded to 4 bytes, so a STUN message length is a multiple of 4.
  const stunSize = (lo, hi) => between(lo, hi) & ~3;
  const STUN_BIND_REQ = stunFiller(0x0001);
  const STUN_BIND_OK = stunFiller(0x0101);
  const TURN_ALLOC_REQ = stunFiller(0x0003);
  const TURN_ALLOC_ERR = stunFiller(0x0113);
  const TURN_ALLOC_OK = stunFiller(0x0103);

  // RTP (RFC 3550 5.1) with an SRTP tail; RTCP sender reports share the port (rtcp-mux, RFC 5761).
  const rtpFiller = (stream, pt) => (b, off, len) => {
    fill(b, off, len);
    b[off] = 0x80;
    b[off + 1] = pt;
    b.writeUInt16BE(stream.seq & 0xffff, off + 2);
    b.writeUInt32BE(stream.ts >>> 0, off + 4);
    b.writeUInt32BE(stream.ssrc, off + 8);
    stream.seq++;
  };
  // A sender report (RFC 3550 6.4.1) with one to three report blocks: 28 + 24 * blocks bytes.
  const rtcpFiller = (stream) => (b, off, len) => {
    fill(b, off, len);
    b[off] = 0x80 | ((len - 28) / 24);
    b[off + 1] = 200;
    b.writeUInt16BE(len / 4 - 1, off + 2);
    b.writeUInt32BE(stream.ssrc, off + 4);
  };

  // --- sessions (generators yield the time of their next packet, then write it) ---------------

  const MSS = 1460;

  function* sendTcpData(t, from, to, bytes, tlsType, filler = tlsMessage(tlsType, bytes)) {
    // A message of `bytes` in MSS-sized segments, back to back; the receiver ACKs every second one.
    let seg = 0;
    while (bytes > 0) {
      const len = Math.min(bytes, MSS);
      yield t;
      tcp(t, from, to, len === bytes ? 0x18 : 0x10, len, 0, filler, seg === 0);
      bytes -= len;
      seg++;
      t += between(5, 120);
      if (seg % 2 === 0 && bytes > 0) {
        yield t;
        tcp(t, to, from, 0x10, 0, 0);
        t += between(5, 50);
      }
    }
    return t;
  }

  /** A TLS session; `remaining` (microseconds) makes it one already established when the capture starts. */
  function* tlsSession(start, net, server, port, longLived, remaining) {
    const client = pick(net.clients);
    const c = { h: client, port: ephemeral(client), seq: rand32() };
    const s = { h: server, port, seq: rand32() };
    const rtt = between(300, 30000);
    let t = start;
    if (remaining !== undefined) {
      yield* tlsExchanges(t, c, s, rtt, start + remaining);
      return;
    }
    t = yield* tcpHandshake(t, c, s, rtt);
    // TLS 1.2 handshake: ClientHello; ServerHello + Certificate chain + ServerHelloDone; client
    // key exchange + Finished; server Finished.
    if (tcpHeavy) {
      // The real messages: the recognizer parses these hellos as it would on a live pool.
      const hello = pick(clientHellos[port] ?? clientHellos.default);
      t = yield* sendTcpData(t + 50, c, s, hello.length, 0, copier(hello));
      t += rtt / 2;
      const flight = pick(serverFlights);
      t = yield* sendTcpData(t, s, c, flight.length, 0, copier(flight));
      t += rtt / 2;
      t = yield* sendTcpData(t, c, s, CLIENT_FINISH.length, 0, copier(CLIENT_FINISH));
      t += rtt / 2;
      t = yield* sendTcpData(t, s, c, SERVER_FINISH.length, 0, copier(SERVER_FINISH));
    } else {
      t = yield* sendTcpData(t + 50, c, s, between(180, 520), TLS_HANDSHAKE);
      t += rtt / 2;
      t = yield* sendTcpData(t, s, c, between(2800, 5200), TLS_HANDSHAKE);
      t += rtt / 2;
      t = yield* sendTcpData(t, c, s, between(120, 330), TLS_HANDSHAKE);
      t += rtt / 2;
      t = yield* sendTcpData(t, s, c, between(50, 280), TLS_HANDSHAKE);
    }
    t += rtt / 2;
    yield t;
    tcp(t, c, s, 0x10, 0, 0);
    if (longLived) {
      yield* tlsExchanges(t, c, s, rtt, start + between(60, 900) * 1e6);
      return;
    }
    let rounds = between(1, 6);
    while (rounds-- > 0) {
      t += Math.floor(expo(400000));
      // Request (HTTP over TLS, or a SIP transaction), response, final ACK.
      t = yield* sendTcpData(t, c, s, between(200, 1800), TLS_DATA);
      t += rtt / 2 + between(200, 20000);
      t = yield* sendTcpData(t, s, c, Math.floor(200 + expo(6000)), TLS_DATA);
      t += rtt / 2;
      yield t;
      tcp(t, c, s, 0x10, 0, 0);
    }
    t += Math.floor(expo(2e6));
    if (chance(0.05)) {
      // Some clients close TLS sessions with RST rather than FIN (Zeek: RSTO).
      yield t;
      tcp(t, c, s, 0x14, 0, 0);
      return;
    }
    yield* tcpClose(t, c, s, rtt);
  }

  /** A SIP registration's life after its handshake: a SIP exchange every 5-30 s until `end`, then FIN. */
  function* tlsExchanges(t, c, s, rtt, end) {
    for (;;) {
      t += between(5e6, 30e6);
      if (t > end) break;
      t = yield* sendTcpData(t, c, s, between(500, 1500), TLS_DATA);
      t += rtt / 2 + between(200, 20000);
      t = yield* sendTcpData(t, s, c, between(300, 900), TLS_DATA);
      t += rtt / 2;
      yield t;
      tcp(t, c, s, 0x10, 0, 0);
    }
    yield* tcpClose(t + between(1e5, 2e6), c, s, rtt);
  }

  /** The three-way handshake (RFC 9293 3.5) with MSS, window scale and SACK options; returns the time after it. */
  function* tcpHandshake(t, c, s, rtt) {
    yield t;
    tcp(t, c, s, 0x02, 0, 12);
    t += rtt / 2;
    yield t;
    tcp(t, s, c, 0x12, 0, 12);
    t += rtt / 2;
    yield t;
    tcp(t, c, s, 0x10, 0, 0);
    return t;
  }

  /** Orderly close (RFC 9293 3.6): FIN from one side, FIN-ACK, final ACK. */
  function* tcpClose(t, c, s, rtt) {
    const [a, z] = chance(0.7) ? [c, s] : [s, c];
    yield t;
    tcp(t, a, z, 0x11, 0, 0);
    t += rtt / 2;
    yield t;
    tcp(t, z, a, 0x11, 0, 0);
    t += rtt / 2;
    yield t;
    tcp(t, a, z, 0x10, 0, 0);
  }

  function* unansweredSyn(start, net) {
    // A SYN to a port a firewall drops silently: retransmitted with the same ISN (Zeek: S0).
    const client = pick(net.clients);
    const c = { h: client, port: ephemeral(client), seq: rand32() };
    const s = { h: pick(net.dark), port: pick([443, 5061, 5062, 3478, 8057, 50001]), seq: 0 };
    const isn = c.seq;
    let t = start;
    for (const delay of [0, 1e6, 2e6, 4e6]) {
      t += delay;
      yield t;
      c.seq = isn;
      tcp(t, c, s, 0x02, 0, 12);
    }
  }

  function* refusedSyn(start, net) {
    // A SYN answered with RST-ACK (nothing listening; Zeek: REJ); a third of clients retry once.
    const client = pick(net.clients);
    const server = pick(net.frontEnds);
    const port = pick([5062, 5063, 5065, 5066, 5070, 5086, 8058]);
    let t = start;
    const tries = chance(0.33) ? 2 : 1;
    for (let i = 0; i < tries; i++) {
      const c = { h: client, port: ephemeral(client), seq: rand32() };
      const s = { h: server, port, seq: 0 };
      yield t;
      tcp(t, c, s, 0x02, 0, 12);
      t += between(200, 3000);
      yield t;
      tcp(t, s, c, 0x14, 0, 0);
      t += between(300000, 600000);
    }
  }

  /** A plaintext SIP registration on TCP 5060: REGISTER, 401 NTLM challenge, REGISTER, 200 OK, later FIN. */
  function* sipTcpRegistration(start, net) {
    const client = pick(net.clients);
    const c = { h: client, port: ephemeral(client), seq: rand32() };
    const s = { h: pick(net.frontEnds), port: 5060, seq: rand32() };
    const user = between(1000, 99999);
    const rtt = between(300, 20000);
    let t = start;
    t = yield* tcpHandshake(t, c, s, rtt);
    const send = function* (from, to, msg) {
      t = yield* sendTcpData(t, from, to, msg.length, 0, copier(msg));
      t += rtt / 2 + between(100, 5000);
    };
    yield* send(c, s, sipRegister(user, c, s, 1, false));
    yield* send(
      s,
      c,
      sipResponse(
        user,
        c,
        s,
        1,
        401,
        'Unauthorized',
        `WWW-Authenticate: NTLM realm="SIP Communications Service", targetname="fe01.contoso.local", version=4\r\n`,
      ),
    );
    yield* send(c, s, sipRegister(user, c, s, 2, true));
    yield* send(
      s,
      c,
      sipResponse(
        user,
        c,
        s,
        2,
        200,
        'OK',
        `Contact: <sip:${hostText(c.h)}:${c.port};transport=tcp>;expires=7200\r\nExpires: 7200\r\n`,
      ),
    );
    yield t;
    tcp(t, c, s, 0x10, 0, 0);
    yield* tcpClose(t + Math.floor(expo(3e6)), c, s, rtt);
  }

  /** HTTP on 80 (RFC 9112): a lyncdiscover GET and its redirect to HTTPS, then FIN. */
  function* httpSession(start, net) {
    const client = pick(net.clients);
    const c = { h: client, port: ephemeral(client), seq: rand32() };
    const s = { h: net.proxy, port: 80, seq: rand32() };
    const rtt = between(300, 20000);
    let t = start;
    t = yield* tcpHandshake(t, c, s, rtt);
    const req = Buffer.from(
      'GET /?sipuri=sip:user@contoso.com HTTP/1.1\r\nHost: lyncdiscover.contoso.com\r\nAccept: application/vnd.microsoft.rtc.autodiscover+xml;v=1\r\nUser-Agent: ACOMO\r\nConnection: close\r\n\r\n',
      'latin1',
    );
    t = yield* sendTcpData(t, c, s, req.length, 0, copier(req));
    t += rtt / 2 + between(500, 10000);
    const res = Buffer.from(
      'HTTP/1.1 301 Moved Permanently\r\nLocation: https://lyncdiscover.contoso.com/?sipuri=sip:user@contoso.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      'latin1',
    );
    t = yield* sendTcpData(t, s, c, res.length, 0, copier(res));
    yield* tcpClose(t + rtt / 2, s, c, rtt);
  }

  /**
   * A SYN scan (nmap -sS) of 1,024 ports in random order at ~1,000 probes/s: a listening port
   * answers SYN-ACK and the scanner resets; a closed one answers RST-ACK; behind a firewall that
   * drops, nothing answers.
   */
  function* synScan(start, target, filtered) {
    const scanner = pick(clients4);
    const order = Array.from({ length: 1024 }, (_, i) => i + 1);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const open = new Set([80, 135, 443, 444, 445]);
    const sport = between(40000, 60000);
    let t = start;
    for (const port of order) {
      counts.scanProbes++;
      const c = { h: scanner, port: sport, seq: rand32() };
      const s = { h: target, port, seq: rand32() };
      yield t;
      tcp(t, c, s, 0x02, 0, 4);
      if (!filtered) {
        const answer = t + between(100, 900);
        // The answer (and the scanner's reset) come while the scan goes on.
        schedule(
          (function* () {
            yield answer;
            if (open.has(port)) {
              tcp(answer, s, c, 0x12, 0, 12);
              yield answer + 30;
              tcp(answer + 30, c, s, 0x04, 0, 0);
            } else tcp(answer, s, c, 0x14, 0, 0);
          })(),
        );
      }
      t += between(500, 1500);
    }
  }

  function* stunExchange(t, a, aPort, b, bPort, pairs, answered) {
    // ICE connectivity checks (RFC 8445 7.2): binding requests, answered on the same 5-tuple.
    for (let i = 0; i < pairs; i++) {
      yield t;
      udp(t, a, aPort, b, bPort, stunSize(88, 124), STUN_BIND_REQ);
      if (answered) {
        t += between(400, 20000);
        yield t;
        udp(t, b, bPort, a, aPort, stunSize(60, 92), STUN_BIND_OK);
      }
      t += answered ? between(5000, 50000) : 100000 * 2 ** i;
    }
    return t;
  }

  function* mediaStream(t, end, src, sport, dst, dport, video) {
    // One direction of an SRTP stream: audio every 20 ms (~200-byte frames), or video at
    // ~15 frames/s of one to three ~1100-byte packets; RTCP every 5 s.
    const stream = { seq: between(0, 65535), ts: rand32(), ssrc: rand32() };
    const rtp = rtpFiller(stream, video ? 122 : 114);
    const rtcp = rtcpFiller(stream);
    let nextRtcp = t + between(1e6, 5e6);
    while (t < end) {
      if (t >= nextRtcp) {
        yield t;
        udp(t, src, sport, dst, dport, 28 + 24 * between(1, 3), rtcp);
        nextRtcp += 5e6;
      }
      if (video) {
        const n = between(1, 3);
        for (let i = 0; i < n; i++) {
          yield t + i * 40;
          udp(t + i * 40, src, sport, dst, dport, between(900, 1180), rtp);
        }
        stream.ts += 6000;
        t += 66667 + between(-3000, 3000);
      } else {
        yield t;
        udp(t, src, sport, dst, dport, between(150, 178), rtp);
        stream.ts += 320;
        t += 20000 + between(-1500, 1500);
      }
    }
  }

  /** A call; `remaining` (microseconds) makes it one whose media is already flowing when the capture starts. */
  function* call(start, remaining) {
    const net = family();
    const caller = pick(net.clients);
    const viaEdge = chance(0.35);
    const callee = viaEdge ? net.edge : pick(net.clients);
    const aPort = mediaPort(caller);
    const bPort = viaEdge ? 3478 : mediaPort(callee);
    const oneWay = chance(0.1);
    const video = chance(0.1);
    counts.calls++;
    if (oneWay) counts.oneWay++;
    if (video) counts.video++;
    if (viaEdge) counts.edgeCalls++;
    if (net === netV6) counts.ipv6++;
    let t = start;
    if (remaining !== undefined) {
      const end = start + remaining;
      schedule(mediaStream(t + between(0, 19999), end, caller, aPort, callee, bPort, false));
      if (!oneWay) schedule(mediaStream(t + between(0, 19999), end, callee, bPort, caller, aPort, false));
      if (video) {
        const wPort = viaEdge ? 3478 : bPort + 20;
        schedule(mediaStream(t + between(0, 66666), end, caller, aPort + 20, callee, wPort, true));
        if (!oneWay)
          schedule(mediaStream(t + between(0, 66666), end, callee, wPort, caller, aPort + 20, true));
      }
      return;
    }
    if (viaEdge) {
      // MS-TURN allocation on the Edge's internal interface: 401 challenge, then success.
      const rtt = between(500, 5000);
      yield t;
      udp(t, caller, aPort, callee, bPort, stunSize(84, 108), TURN_ALLOC_REQ);
      t += rtt;
      yield t;
      udp(t, callee, bPort, caller, aPort, stunSize(100, 140), TURN_ALLOC_ERR);
      t += between(1000, 5000);
      yield t;
      udp(t, caller, aPort, callee, bPort, stunSize(180, 240), TURN_ALLOC_REQ);
      t += rtt;
      yield t;
      udp(t, callee, bPort, caller, aPort, stunSize(100, 130), TURN_ALLOC_OK);
      t += between(1000, 20000);
    }
    // Failed candidate pairs: checks toward addresses that never answer (a blocked UDP path).
    const failed = between(0, 2);
    for (let i = 0; i < failed; i++)
      schedule(stunExchange(t + i * 3000, caller, aPort, pick(net.dark), between(50000, 59999), 4, false));
    t = yield* stunExchange(t, caller, aPort, callee, bPort, between(2, 5), true);
    const end = t + Math.floor(20e6 + expo(70e6));
    schedule(mediaStream(t, end, caller, aPort, callee, bPort, false));
    if (!oneWay) schedule(mediaStream(t + between(0, 19999), end, callee, bPort, caller, aPort, false));
    if (video) {
      const vPort = aPort + 20;
      const wPort = viaEdge ? 3478 : bPort + 20;
      schedule(mediaStream(t + 500000, end, caller, vPort, callee, wPort, true));
      if (!oneWay) schedule(mediaStream(t + 520000, end, callee, wPort, caller, vPort, true));
    }
  }

  const netV6 = net[V6];

  // Arrivals: each kind of session is a Poisson process.
  function* arrivals(ratePerSec, start) {
    let t = 0;
    for (;;) {
      t += Math.floor(expo(1e6 / ratePerSec));
      yield t;
      start(t);
    }
  }

  // --- the scheduler: a binary heap of (time, session) ----------------------------------------

  const T0 = Date.UTC(2024, 2, 5, 9, 0, 0) * 1000; // microseconds
  const heapT = [];
  const heapG = [];
  const heapSeq = [];
  let seqNo = 0;
  function less(i, j) {
    return heapT[i] < heapT[j] || (heapT[i] === heapT[j] && heapSeq[i] < heapSeq[j]);
  }
  function swap(i, j) {
    [heapT[i], heapT[j]] = [heapT[j], heapT[i]];
    [heapG[i], heapG[j]] = [heapG[j], heapG[i]];
    [heapSeq[i], heapSeq[j]] = [heapSeq[j], heapSeq[i]];
  }
  function push(t, g) {
    let i = heapT.length;
    heapT.push(t);
    heapG.push(g);
    heapSeq.push(seqNo++);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  }
  function pop() {
    const last = heapT.length - 1;
    swap(0, last);
    heapT.pop();
    const g = heapG.pop();
    heapSeq.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heapT.length && less(l, m)) m = l;
      if (r < heapT.length && less(r, m)) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
    return g;
  }
  /** Adds a session: it runs up to its first `yield` now, and is resumed at the times it yields. */
  function schedule(gen) {
    const r = gen.next();
    if (!r.done) push(r.value, gen);
  }

  /** The same trickle in both profiles: SYNs nobody answers and SYNs refused, two a second each. */
  function scheduleFailedSyns() {
    schedule(
      arrivals(2, (t) => {
        counts.unanswered++;
        schedule(unansweredSyn(t, family()));
      }),
    );
    schedule(
      arrivals(2, (t) => {
        counts.refused++;
        schedule(refusedSyn(t, family()));
      }),
    );
  }

  if (tcpHeavy) scheduleTcpHeavy();
  else scheduleMedia();

  function scheduleMedia() {
    // Rates chosen for a pool of ~2000 users at a busy hour: ~45 concurrent calls, a few HTTPS
    // sessions per second, one SIP registration refresh per second, a trickle of failures.
    // What is under way when the capture starts (rate x mean duration of each long-lived kind):
    // ~45 calls (remaining time: the memoryless part of their duration plus up to 20 s) and ~480
    // SIP registrations (remaining time up to their 900 s maximum).
    for (let i = 0; i < 45; i++) schedule(call(0, Math.floor(between(0, 20e6) + expo(70e6))));
    for (let i = 0; i < 480; i++) {
      const n = family();
      schedule(tlsSession(0, n, pick(n.frontEnds), 5061, true, between(1, 900) * 1e6));
    }
    schedule(arrivals(0.5, (t) => schedule(call(t))));
    schedule(
      arrivals(10, (t) => {
        const n = family();
        counts.tls++;
        const r = rand();
        const [server, port] =
          r < 0.55
            ? [n.proxy, 443]
            : r < 0.7
              ? [pick(n.frontEnds), 444]
              : r < 0.8
                ? [n.proxy, 4443]
                : r < 0.9
                  ? [pick(n.frontEnds), 8057]
                  : [pick(n.frontEnds), 5061];
        schedule(tlsSession(t, n, server, port, false));
      }),
    );
    schedule(
      arrivals(1, (t) => {
        counts.sip++;
        const n = family();
        schedule(tlsSession(t, n, pick(n.frontEnds), 5061, true));
      }),
    );
    scheduleFailedSyns();
  }

  // The TCP-heavy mix (see the top of the file): ~150 short TLS sessions a second with real
  // hellos, ~2,000 SIP/TLS registrations already up (a refresh each 5-30 s), 8 plaintext SIP
  // registrations and 5 HTTP sessions a second, a SYN scan every 40 s on average, a few calls.
  function scheduleTcpHeavy() {
    for (let i = 0; i < 5; i++) schedule(call(0, Math.floor(between(0, 20e6) + expo(70e6))));
    for (let i = 0; i < 2000; i++) {
      const n = family();
      schedule(tlsSession(0, n, pick(n.frontEnds), 5061, true, between(1, 900) * 1e6));
    }
    schedule(arrivals(0.05, (t) => schedule(call(t))));
    schedule(
      arrivals(150, (t) => {
        const n = family();
        counts.tls++;
        const r = rand();
        const [server, port] =
          r < 0.5
            ? [n.proxy, 443]
            : r < 0.7
              ? [pick(n.frontEnds), 444]
              : r < 0.8
                ? [n.proxy, 4443]
                : [pick(n.frontEnds), 5061];
        schedule(tlsSession(t, n, server, port, false));
      }),
    );
    schedule(
      arrivals(2.2, (t) => {
        counts.sip++;
        const n = family();
        schedule(tlsSession(t, n, pick(n.frontEnds), 5061, true));
      }),
    );
    schedule(
      arrivals(8, (t) => {
        counts.sipTcp++;
        schedule(sipTcpRegistration(t, family()));
      }),
    );
    schedule(
      arrivals(5, (t) => {
        counts.http++;
        schedule(httpSession(t, family()));
      }),
    );
    schedule(
      arrivals(1 / 40, (t) => {
        counts.scans++;
        const filtered = chance(0.3);
        schedule(synScan(t, filtered ? pick(net[V4].dark) : pick(net[V4].frontEnds), filtered));
      }),
    );
    scheduleFailedSyns();
  }

  // Every session step writes at most one packet, at the time it yielded, and the heap resumes
  // sessions in time order: so the file is in time order and stops at exactly `packets`.
  let lastT = 0;
  const record = w.record.bind(w);
  w.record = (tUs, len) => {
    const rel = Math.floor(tUs);
    if (rel < lastT) throw new Error(`generator bug: packet at ${rel} after one at ${lastT}`);
    lastT = rel;
    return record(T0 + rel, len);
  };

  while (w.packets < packets && heapT.length > 0) {
    const g = pop();
    const r = g.next();
    if (!r.done) push(r.value, g);
  }
  w.close();
  renameSync(tmp, out);
  return { packets: w.packets, bytes: 24 + w.bytes, seconds: lastT / 1e6, counts };
}

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { packets: 1_000_000, seed: 1, out: undefined, profile: 'media' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--packets') opts.packets = Number(argv[++i]);
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--profile') opts.profile = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.packets) || opts.packets <= 0)
    throw new Error('--packets must be a positive integer');
  opts.out ??= `bench/out/${opts.profile === 'media' ? 'lync' : `lync-${opts.profile}`}-${opts.packets}-s${opts.seed}.pcap`;
  return opts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const t = process.hrtime.bigint();
  const r = generate(opts);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(
    `${opts.out}: ${r.packets} packets, ${(r.bytes / 1e6).toFixed(1)} MB, ${r.seconds.toFixed(1)} s of traffic, built in ${(ms / 1000).toFixed(1)} s`,
  );
  console.log(JSON.stringify(r.counts));
}
