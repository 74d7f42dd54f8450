/**
 * TLS and SSL 3.0 over TCP: the record layer (RFC 8446 section 5.1; RFC 5246 section 6.2 for TLS
 * 1.0-1.2), the handshake messages that travel in clear (RFC 8446 section 4: ClientHello 4.1.2,
 * ServerHello 4.1.3, HelloRetryRequest; RFC 5246 section 7.4), the extensions that say what the
 * client wants (server_name, RFC 6066 section 3; ALPN, RFC 7301 section 3.1; supported_versions,
 * RFC 8446 section 4.2.1) and alerts (RFC 8446 section 6; RFC 5246 section 7.2).
 *
 * Why: a TLS or MTLS negotiation that never completes is a classic Lync failure on 5061 (and on
 * 443/444/4443): a missing client certificate, an untrusted CA, a firewall that resets the
 * connection after the ClientHello. That shows in clear text: a ClientHello, then a reset,
 * silence or an alert instead of ServerHello and ChangeCipherSpec / application data.
 *
 * Only record headers and the two hello messages are parsed; record bodies are skipped without
 * being buffered, and a hello is reassembled (across records and TCP segments) only up to
 * MAX_HELLO bytes, so the memory per flow is bounded. Once the handshake outcome is known the
 * recognizer asks for no more of the flow.
 */
import { StreamBuffer } from './stream.js';
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

// RFC 8446 section 5.1 ContentType (24 is heartbeat, RFC 6520).
export const CT_CHANGE_CIPHER_SPEC = 20;
export const CT_ALERT = 21;
export const CT_HANDSHAKE = 22;
export const CT_APPLICATION_DATA = 23;
const CT_HEARTBEAT = 24;

// RFC 8446 section 4 HandshakeType.
export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_CERTIFICATE_REQUEST = 13;

/** RFC 5246 section 6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes. */
const MAX_RECORD = 16384 + 2048;
/** The longest hello we reassemble (a ClientHello with post-quantum key shares is ~2 KB). */
const MAX_HELLO = 32 * 1024;
/** Records looked at per flow before we stop (a TLS 1.3 server flight is a handful). */
const MAX_RECORDS = 256;
/** Handshake message types and alerts kept in the detail, per flow. */
const MAX_LISTED = 16;

/** RFC 8446 section 4.1.3: the ServerHello random that marks a HelloRetryRequest (SHA-256 of "HelloRetryRequest"). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

const HANDSHAKE_NAMES: Record<number, string> = {
  0: 'hello_request',
  1: 'client_hello',
  2: 'server_hello',
  3: 'hello_verify_request',
  4: 'new_session_ticket',
  5: 'end_of_early_data',
  8: 'encrypted_extensions',
  11: 'certificate',
  12: 'server_key_exchange',
  13: 'certificate_request',
  14: 'server_hello_done',
  15: 'certificate_verify',
  16: 'client_key_exchange',
  20: 'finished',
  21: 'certificate_url',
  22: 'certificate_status',
  24: 'key_update',
  254: 'message_hash',
};

/** RFC 8446 section 6 AlertDescription, plus the older codes of RFC 5246 section 7.2 and RFC 7507. */
const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** A few cipher suites by name (IANA TLS Cipher Suites registry); others print as hex. */
const CIPHER_NAMES: Record<number, string> = {
  0x0004: 'TLS_RSA_WITH_RC4_128_MD5',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0018: 'TLS_DH_anon_WITH_RC4_128_MD5',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x003c: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  0x003d: 'TLS_RSA_WITH_AES_256_CBC_SHA256',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0xc027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  0xc028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
};

export function hex4(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

/** RFC 8701: GREASE values (0x?A?A with equal bytes) mean nothing and are left out of reports. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** "TLS 1.2" for 0x0303, "SSL 3.0" for 0x0300, "TLS 1.3 draft 23" for 0x7f17, hex otherwise. */
export function versionName(v: number): string {
  if (v === 0x0300) return 'SSL 3.0';
  if (v >= 0x0301 && v <= 0x0304) return `TLS 1.${v - 0x0301}`;
  if (v >> 8 === 0x7f) return `TLS 1.3 draft ${v & 0xff}`;
  if (v === 0x0002) return 'SSL 2.0';
  return hex4(v);
}

export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? `alert_${description}`;
}

export function handshakeName(type: number): string {
  return HANDSHAKE_NAMES[type] ?? `handshake_${type}`;
}

export function cipherName(suite: number): string {
  return CIPHER_NAMES[suite] ?? hex4(suite);
}

// ------------------------------------------------------------------------------- record header

/**
 * Whether 5 bytes at `o` are a plausible TLS record header (RFC 8446 section 5.1): a known content
 * type, major version 3, minor 0-4 (SSL 3.0 to TLS 1.3; TLS 1.3 writes 0x0303 in records),
 * and a length within RFC 5246's bound. Zero-length records are legal only for application data.
 */
export function recordHeaderValid(b: Uint8Array, o: number): boolean {
  const type = b[o];
  if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT) return false;
  if (b[o + 1] !== 3 || b[o + 2] > 4) return false;
  const length = (b[o + 3] << 8) | b[o + 4];
  if (length > MAX_RECORD) return false;
  return length > 0 || type === CT_APPLICATION_DATA;
}

/**
 * How sure we are that a payload starts with TLS records. A ClientHello or ServerHello whose
 * lengths agree with each other scores 0.9; other plausible records (a capture that starts
 * mid-stream) score less. Allocation-free.
 */
export function tlsScore(p: Payload): number {
  const b = p.buf;
  const o = p.offset;
  const n = p.length;
  if (n >= 5 && recordHeaderValid(b, o)) {
    const type = b[o];
    const length = (b[o + 3] << 8) | b[o + 4];
    if (type === CT_HANDSHAKE) {
      if (n < 9) return 0.6;
      const hsType = b[o + 5];
      const hsLength = (b[o + 6] << 16) | (b[o + 7] << 8) | b[o + 8];
      if (hsType === HS_CLIENT_HELLO || hsType === HS_SERVER_HELLO) {
        // version(2) random(32) session_id(1+) cipher(s) compression: at least 38 bytes.
        if (hsLength < 38 || hsLength > MAX_HELLO) return 0;
        if (n >= 11 && (b[o + 9] !== 3 || b[o + 10] > 4)) return 0;
        if (n >= 44 && b[o + 43] > 32) return 0;
        // A hello longer than its record continues in the next record (RFC 8446 section 5.1 allows
        // that): plausible, but less sure than one that fits.
        return hsLength + 4 > length ? 0.7 : 0.9;
      }
      // Another handshake message at the start of a payload: a plausible mid-stream record.
      return hsLength + 4 <= length || length === 16384 ? 0.6 : 0;
    }
    if (type === CT_CHANGE_CIPHER_SPEC) return length === 1 && n >= 6 && b[o + 5] === 1 ? 0.75 : 0;
    if (type === CT_ALERT) {
      if (length === 2) return n >= 7 && (b[o + 5] === 1 || b[o + 5] === 2) ? 0.7 : 0;
      return 0.55;
    }
    if (type === CT_HEARTBEAT) return 0;
    // Application data: better if the payload ends with this record or the next header is valid too.
    if (n === 5 + length) return 0.7;
    if (n >= 5 + length + 5) return recordHeaderValid(b, o + 5 + length) ? 0.75 : 0;
    return 0.6;
  }
  // The first 3-4 bytes of a record header alone (a segment cut very early): a weak claim.
  if ((n === 3 || n === 4) && b[o] === CT_HANDSHAKE && b[o + 1] === 3 && b[o + 2] <= 4) return 0.5;
  // SSL 2.0-compatible ClientHello (RFC 5246 appendix E.2): 2-byte header with the high bit set,
  // msg_type 1, version 3.x.
  if (n >= 5 && (b[o] & 0x80) !== 0 && b[o + 2] === 1 && b[o + 3] === 3 && b[o + 4] <= 4) {
    const length = ((b[o] & 0x7f) << 8) | b[o + 1];
    return length >= 9 + 3 && length <= 16384 ? 0.7 : 0;
  }
  return 0;
}

// ------------------------------------------------------------------------------- hello parsing

export interface ClientHelloInfo {
  legacyVersion: number;
  sessionIdLength: number;
  cipherSuites: number[];
  compressionMethods: number;
  extensions: number[];
  sni?: string;
  alpn?: string[];
  supportedVersions?: number[];
}

export interface ServerHelloInfo {
  legacyVersion: number;
  /** supported_versions in the ServerHello (TLS 1.3), else undefined. */
  selectedVersion?: number;
  cipherSuite: number;
  compressionMethod: number;
  sessionIdLength: number;
  helloRetryRequest: boolean;
  alpn?: string;
  extensions: number[];
  /** The 32-byte random is all zeros (the MS-TURN pseudo-TLS answer has one). */
  zeroRandom: boolean;
}

/** A bounds-checked reader over one hello body; every read returns -1 past the end. */
class Reader {
  constructor(
    readonly b: Buffer,
    public i: number,
    readonly end: number,
  ) {}
  u8(): number {
    return this.i + 1 <= this.end ? this.b[this.i++] : -1;
  }
  u16(): number {
    if (this.i + 2 > this.end) return -1;
    const v = (this.b[this.i] << 8) | this.b[this.i + 1];
    this.i += 2;
    return v;
  }
  skip(n: number): boolean {
    if (n < 0 || this.i + n > this.end) return false;
    this.i += n;
    return true;
  }
}

/** RFC 6066 section 3 ServerNameList: the first host_name (name_type 0). */
function parseSni(b: Buffer, start: number, end: number): string | undefined {
  const r = new Reader(b, start, end);
  const listLength = r.u16();
  if (listLength < 0 || r.i + listLength > end) return undefined;
  const listEnd = r.i + listLength;
  while (r.i + 3 <= listEnd) {
    const type = r.u8();
    const length = r.u16();
    if (length < 0 || r.i + length > listEnd) return undefined;
    if (type === 0) return b.toString('latin1', r.i, r.i + length);
    r.skip(length);
  }
  return undefined;
}

/** RFC 7301 section 3.1 ProtocolNameList. */
function parseAlpn(b: Buffer, start: number, end: number): string[] | undefined {
  const r = new Reader(b, start, end);
  const listLength = r.u16();
  if (listLength < 0 || r.i + listLength > end) return undefined;
  const listEnd = r.i + listLength;
  const out: string[] = [];
  while (r.i < listEnd && out.length < MAX_LISTED) {
    const length = r.u8();
    if (length <= 0 || r.i + length > listEnd) break;
    out.push(b.toString('latin1', r.i, r.i + length));
    r.skip(length);
  }
  return out;
}

/**
 * Walks an extensions block (RFC 8446 section 4.2: u16 total length, then type/length/data),
 * calling `on` for each extension. Returns the list of types, or undefined when lengths disagree.
 */
function walkExtensions(
  r: Reader,
  on: (type: number, start: number, end: number) => void,
): number[] | undefined {
  const types: number[] = [];
  if (r.i === r.end) return types; // TLS 1.0-1.2 hellos may end without extensions.
  const total = r.u16();
  if (total < 0 || r.i + total > r.end) return undefined;
  const end = r.i + total;
  while (r.i + 4 <= end) {
    const type = r.u16();
    const length = r.u16();
    if (r.i + length > end) return undefined;
    if (types.length < 64) types.push(type);
    on(type, r.i, r.i + length);
    r.skip(length);
  }
  return r.i === end ? types : undefined;
}

/** RFC 8446 section 4.1.2 ClientHello body (after the 4-byte handshake header). */
export function parseClientHello(b: Buffer, start: number, end: number): ClientHelloInfo | undefined {
  const r = new Reader(b, start, end);
  const legacyVersion = r.u16();
  if (legacyVersion >> 8 !== 3 || !r.skip(32)) return undefined;
  const sessionIdLength = r.u8();
  if (sessionIdLength < 0 || sessionIdLength > 32 || !r.skip(sessionIdLength)) return undefined;
  const suitesLength = r.u16();
  if (suitesLength < 2 || suitesLength % 2 !== 0 || r.i + suitesLength > end) return undefined;
  const cipherSuites: number[] = [];
  for (let k = 0; k < suitesLength; k += 2) {
    const s = r.u16();
    if (!isGrease(s) && cipherSuites.length < 128) cipherSuites.push(s);
  }
  const compressionMethods = r.u8();
  if (compressionMethods < 1 || !r.skip(compressionMethods)) return undefined;
  const info: ClientHelloInfo = {
    legacyVersion,
    sessionIdLength,
    cipherSuites,
    compressionMethods,
    extensions: [],
  };
  const types = walkExtensions(r, (type, s, e) => {
    if (type === 0) info.sni = parseSni(b, s, e);
    else if (type === 16) info.alpn = parseAlpn(b, s, e);
    else if (type === 43) {
      // supported_versions in a ClientHello: u8 length, then u16 versions.
      const length = s < e ? b[s] : 0;
      const versions: number[] = [];
      for (let k = s + 1; k + 1 < e && k < s + 1 + length; k += 2) {
        const v = (b[k] << 8) | b[k + 1];
        if (!isGrease(v)) versions.push(v);
      }
      info.supportedVersions = versions;
    }
  });
  if (types === undefined) return undefined;
  info.extensions = types.filter((t) => !isGrease(t));
  return info;
}

/** RFC 8446 section 4.1.3 ServerHello body (RFC 5246 section 7.4.1.3 for earlier versions). */
export function parseServerHello(b: Buffer, start: number, end: number): ServerHelloInfo | undefined {
  const r = new Reader(b, start, end);
  const legacyVersion = r.u16();
  if (legacyVersion >> 8 !== 3 || r.i + 32 > end) return undefined;
  const randomStart = r.i;
  let zeroRandom = true;
  for (let k = 0; k < 32; k++) if (b[randomStart + k] !== 0) zeroRandom = false;
  const helloRetryRequest = b.compare(HRR_RANDOM, 0, 32, randomStart, randomStart + 32) === 0;
  r.skip(32);
  const sessionIdLength = r.u8();
  if (sessionIdLength < 0 || sessionIdLength > 32 || !r.skip(sessionIdLength)) return undefined;
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  if (compressionMethod < 0) return undefined;
  const info: ServerHelloInfo = {
    legacyVersion,
    cipherSuite,
    compressionMethod,
    sessionIdLength,
    helloRetryRequest,
    extensions: [],
    zeroRandom,
  };
  const types = walkExtensions(r, (type, s, e) => {
    if (type === 43 && e - s === 2) info.selectedVersion = (b[s] << 8) | b[s + 1];
    else if (type === 16) info.alpn = parseAlpn(b, s, e)?.[0];
  });
  if (types === undefined) return undefined;
  info.extensions = types;
  return info;
}

// ------------------------------------------------------------------------------- stream state

interface Direction {
  /** Bytes of this direction have arrived. */
  seen: boolean;
  /** The first bytes came after a gap (the capture started mid-stream). */
  midstream: boolean;
  /** Record framing was lost (bytes that are not TLS, or a gap we could not resynchronise after). */
  lost: boolean;
  hdr: Uint8Array;
  hdrLength: number;
  /** The record being read: content type, and body bytes still to come. */
  type: number;
  left: number;
  /** The current record's length (alerts: 2 means a plaintext alert). */
  recordLength: number;
  /** Handshake reassembly: header and (for hellos) the body; other messages' bodies are skipped. */
  hs: StreamBuffer;
  hsSkip: number;
  /** Records after this point are encrypted (after ChangeCipherSpec, or a TLS 1.3 server after its ServerHello). */
  encrypted: boolean;
  ccs: boolean;
  records: number;
  appData: number;
  alert: Uint8Array;
  alertLength: number;
}

interface AlertSeen {
  from: 'orig' | 'resp';
  level: string;
  description: string;
  code: number;
}

export interface TlsState {
  orig: Direction;
  resp: Direction;
  records: number;
  clientHello?: ClientHelloInfo;
  serverHello?: ServerHelloInfo;
  /** Direction of the ClientHello (normally the originator). */
  clientIsOrig: boolean;
  helloRetry: boolean;
  sslv2Hello: boolean;
  hsMessages: string[];
  certificateRequested: boolean;
  /** The client's Certificate message in TLS 1.0-1.2: true when it carries a certificate, false when empty. */
  clientCertificate?: boolean;
  alerts: AlertSeen[];
  encryptedAlerts: number;
  /** TLS 1.3 after the ServerHello: client application-data records, and server ones after the client's first. */
  t13Client: number;
  t13ServerAfterClient: number;
  gaps: number;
  malformedHello: boolean;
  /** Time of the first alert / the end of the handshake, for the finding. */
  firstTs: number;
  lastTs: number;
}

function newDirection(): Direction {
  return {
    seen: false,
    midstream: false,
    lost: false,
    // Small typed arrays live inside the JS heap: no ArrayBuffer per flow direction, and no slice
    // of Node's buffer pool that would keep a whole 8 KB pool alive for the life of the flow.
    hdr: new Uint8Array(5),
    hdrLength: 0,
    type: 0,
    left: 0,
    recordLength: 0,
    hs: new StreamBuffer(MAX_HELLO + 4),
    hsSkip: 0,
    encrypted: false,
    ccs: false,
    records: 0,
    appData: 0,
    alert: new Uint8Array(2),
    alertLength: 0,
  };
}

function isTls13(s: TlsState): boolean {
  const sh = s.serverHello;
  if (sh === undefined) return false;
  const v = sh.selectedVersion ?? sh.legacyVersion;
  return v === 0x0304 || v >> 8 === 0x7f;
}

/** TLS 1.3 was negotiated, or (before the ServerHello) offered by the client. */
function tls13Possible(s: TlsState): boolean {
  if (s.serverHello !== undefined) return isTls13(s);
  const offered = s.clientHello?.supportedVersions;
  return offered !== undefined && offered.some((v) => v === 0x0304 || v >> 8 === 0x7f);
}

/** Whether the handshake is known to have completed (see the completion rules in `finish`). */
export function handshakeComplete(s: TlsState): boolean {
  if (s.serverHello === undefined || s.serverHello.helloRetryRequest) {
    // Application data both ways without a visible hello: a session we joined after its handshake.
    return false;
  }
  const client = s.clientIsOrig ? s.orig : s.resp;
  const server = s.clientIsOrig ? s.resp : s.orig;
  if (isTls13(s)) return s.t13Client >= 2 || s.t13ServerAfterClient > 0;
  return (client.ccs && server.ccs) || client.appData > 0 || server.appData > 0;
}

function onHandshakeMessage(s: TlsState, fromOrig: boolean, type: number, length: number): void {
  if (s.hsMessages.length < MAX_LISTED) s.hsMessages.push(handshakeName(type));
  const fromClient = fromOrig === s.clientIsOrig;
  if (type === HS_CERTIFICATE_REQUEST && !fromClient) s.certificateRequested = true;
  // RFC 5246 section 7.4.6: an empty certificate_list is 3 bytes (its own u24 length of 0).
  if (type === HS_CERTIFICATE && fromClient && s.clientCertificate === undefined)
    s.clientCertificate = length > 3;
}

function onHello(s: TlsState, fromOrig: boolean, type: number, body: Buffer): void {
  if (type === HS_CLIENT_HELLO) {
    const ch = parseClientHello(body, 0, body.length);
    if (ch === undefined) {
      s.malformedHello = true;
      return;
    }
    // After a HelloRetryRequest the client sends a second ClientHello: keep the first's SNI/ALPN.
    if (s.clientHello === undefined) {
      s.clientHello = ch;
      s.clientIsOrig = fromOrig;
    }
    return;
  }
  const sh = parseServerHello(body, 0, body.length);
  if (sh === undefined) {
    s.malformedHello = true;
    return;
  }
  if (sh.helloRetryRequest) {
    s.helloRetry = true;
    return;
  }
  s.serverHello = sh;
  // TLS 1.3: everything the server sends after its ServerHello is encrypted (RFC 8446 section 2).
  if (isTls13(s)) (fromOrig ? s.orig : s.resp).encrypted = true;
}

/** Handshake-protocol bytes of one direction, in order (RFC 8446 section 4: type u8, length u24, body). */
function feedHandshake(
  s: TlsState,
  d: Direction,
  fromOrig: boolean,
  b: Buffer,
  off: number,
  len: number,
): void {
  const hs = d.hs;
  while (len > 0) {
    if (d.hsSkip > 0) {
      const n = Math.min(d.hsSkip, len);
      d.hsSkip -= n;
      off += n;
      len -= n;
      continue;
    }
    if (hs.length < 4) {
      const n = Math.min(4 - hs.length, len);
      hs.append(b, off, n);
      off += n;
      len -= n;
      if (hs.length < 4) return;
    }
    const v = hs.view();
    const type = v[0];
    const length = (v[1] << 16) | (v[2] << 8) | v[3];
    const wanted = (type === HS_CLIENT_HELLO || type === HS_SERVER_HELLO) && length <= MAX_HELLO;
    if (!wanted) {
      onHandshakeMessage(s, fromOrig, type, length);
      hs.clear();
      d.hsSkip = length;
      continue;
    }
    const n = Math.min(4 + length - hs.length, len);
    hs.append(b, off, n);
    off += n;
    len -= n;
    if (hs.length === 4 + length) {
      onHandshakeMessage(s, fromOrig, type, length);
      onHello(s, fromOrig, type, hs.view().subarray(4));
      hs.clear();
    }
  }
}

function onRecordStart(s: TlsState, d: Direction, fromOrig: boolean, ts: number): void {
  const fromClient = fromOrig === s.clientIsOrig;
  switch (d.type) {
    case CT_CHANGE_CIPHER_SPEC:
      d.ccs = true;
      break;
    case CT_ALERT:
      d.alertLength = 0;
      if (d.recordLength !== 2) s.encryptedAlerts++;
      break;
    case CT_APPLICATION_DATA:
      d.appData++;
      if (s.serverHello !== undefined && isTls13(s)) {
        if (fromClient) s.t13Client++;
        else if (s.t13Client > 0) s.t13ServerAfterClient++;
      }
      break;
    default:
      break;
  }
  if (s.firstTs === 0) s.firstTs = ts;
  s.lastTs = ts;
}

function onRecordBody(
  s: TlsState,
  d: Direction,
  fromOrig: boolean,
  b: Buffer,
  off: number,
  len: number,
): void {
  if (d.type === CT_HANDSHAKE) {
    if (!d.encrypted) feedHandshake(s, d, fromOrig, b, off, len);
  } else if (d.type === CT_ALERT && d.recordLength === 2) {
    for (let k = 0; k < len && d.alertLength < 2; k++) d.alert[d.alertLength++] = b[off + k];
    if (d.alertLength === 2 && s.alerts.length < MAX_LISTED) {
      const level = d.alert[0];
      s.alerts.push({
        from: fromOrig ? 'orig' : 'resp',
        level: level === 1 ? 'warning' : level === 2 ? 'fatal' : `level_${level}`,
        description: alertName(d.alert[1]),
        code: d.alert[1],
      });
    }
  }
}

/** Record-layer bytes of one direction (RFC 8446 section 5.1: type, version, u16 length, fragment). */
function feedRecords(
  s: TlsState,
  d: Direction,
  fromOrig: boolean,
  b: Buffer,
  off: number,
  len: number,
  ts: number,
): void {
  const end = off + len;
  let i = off;
  while (i < end && !d.lost) {
    if (d.left === 0) {
      while (d.hdrLength < 5 && i < end) d.hdr[d.hdrLength++] = b[i++];
      if (d.hdrLength < 5) return;
      d.hdrLength = 0;
      if (!recordHeaderValid(d.hdr, 0)) {
        d.lost = true;
        return;
      }
      // The ChangeCipherSpec switches the records after it, not itself; in TLS 1.3 it is only a
      // compatibility no-op (RFC 8446 appendix D.4) and encryption starts with the ServerHello.
      if (d.ccs && !tls13Possible(s)) d.encrypted = true;
      d.type = d.hdr[0];
      d.recordLength = (d.hdr[3] << 8) | d.hdr[4];
      d.left = d.recordLength;
      d.records++;
      s.records++;
      onRecordStart(s, d, fromOrig, ts);
      continue;
    }
    const n = Math.min(d.left, end - i);
    onRecordBody(s, d, fromOrig, b, i, n);
    d.left -= n;
    i += n;
  }
}

/** SSL 2.0-compatible ClientHello (RFC 5246 appendix E.2): the version it offers, then we stop. */
function sslv2Hello(s: TlsState, p: Payload): void {
  const b = p.buf;
  const o = p.offset;
  s.sslv2Hello = true;
  s.clientHello = {
    legacyVersion: (b[o + 3] << 8) | b[o + 4],
    sessionIdLength: 0,
    cipherSuites: [],
    compressionMethods: 0,
    extensions: [],
  };
}

export function startTls(): TlsState {
  return {
    orig: newDirection(),
    resp: newDirection(),
    records: 0,
    clientIsOrig: true,
    helloRetry: false,
    sslv2Hello: false,
    hsMessages: [],
    certificateRequested: false,
    alerts: [],
    encryptedAlerts: 0,
    t13Client: 0,
    t13ServerAfterClient: 0,
    gaps: 0,
    malformedHello: false,
    firstTs: 0,
    lastTs: 0,
  };
}

export function feedTls(s: TlsState, p: Payload, ctx: PacketContext): boolean {
  const d = ctx.fromOrig ? s.orig : s.resp;
  if (!d.seen) {
    d.seen = true;
    d.midstream = ctx.gap;
    if (
      ctx.fromOrig &&
      s.records === 0 &&
      p.length >= 5 &&
      !recordHeaderValid(p.buf, p.offset) &&
      tlsScore(p) > 0
    ) {
      // The SSL 2.0 record is skipped as a whole (2-byte header and body); TLS records follow it.
      sslv2Hello(s, p);
      d.type = 0;
      d.left = 2 + (((p.buf[p.offset] & 0x7f) << 8) | p.buf[p.offset + 1]);
    }
  } else if (ctx.gap) {
    // Missing bytes: drop partial state and resynchronise if this payload starts with a record.
    s.gaps++;
    d.hdrLength = 0;
    d.left = 0;
    d.hsSkip = 0;
    d.hs.clear();
    d.lost = !(p.length >= 5 && recordHeaderValid(p.buf, p.offset));
  }
  if (d.lost) return !(s.orig.lost && s.resp.lost);
  feedRecords(s, d, ctx.fromOrig, p.buf, p.offset, p.length, ctx.ts);
  if (s.orig.lost && s.resp.lost) return false;
  if (s.records >= MAX_RECORDS) return false;
  // Done once the handshake completed and both hellos (or a mid-stream session) were seen.
  return !handshakeComplete(s);
}

// ------------------------------------------------------------------------------- the result

/** How the connection ended, from Zeek's conn_state. */
function ending(connState: string): { how: 'reset' | 'closed' | 'silence'; by?: 'client' | 'server' } {
  if (connState === 'RSTO' || connState === 'RSTOS0') return { how: 'reset', by: 'client' };
  if (connState === 'RSTR' || connState === 'RSTRH') return { how: 'reset', by: 'server' };
  if (
    connState === 'SF' ||
    connState === 'S2' ||
    connState === 'S3' ||
    connState === 'SH' ||
    connState === 'SHR'
  )
    return { how: 'closed' };
  return { how: 'silence' };
}

function endingText(e: { how: string; by?: string }): string {
  if (e.how === 'reset') return `the ${e.by} reset the connection`;
  if (e.how === 'closed') return 'the connection was closed';
  return 'nothing more came before the flow ended';
}

/**
 * Silence that ended with the capture, within the inactivity timeout: the answer may simply not
 * have been captured, so an unfinished handshake proves nothing.
 */
function cutByCaptureEnd(end: FlowEnd): boolean {
  return ending(end.connState).how === 'silence' && end.endReason === 'end-of-capture';
}

/**
 * A handshake that began in the capture (a ClientHello was seen) and did not complete:
 * no ServerHello, a fatal alert, or (TLS 1.2 and earlier) no ChangeCipherSpec / application data
 * after the hellos; for TLS 1.3 no encrypted traffic from the client after the server's flight.
 */
function handshakeFinding(s: TlsState, end: FlowEnd, label: string): Finding | undefined {
  if (s.clientHello === undefined || s.sslv2Hello || handshakeComplete(s)) return undefined;
  const e = ending(end.connState);
  const fatal = s.alerts.find((a) => a.level === 'fatal');
  if (fatal === undefined && cutByCaptureEnd(end)) return undefined;
  const serverPort = s.clientIsOrig ? end.respPort : end.origPort;
  const detail: Record<string, unknown> = {
    stage: s.serverHello !== undefined ? 'after_server_hello' : 'after_client_hello',
    ended: e.how,
    conn_state: end.connState,
    port: serverPort,
  };
  if (e.by !== undefined) detail.ended_by = e.by;
  if (s.clientHello.sni !== undefined) detail.sni = s.clientHello.sni;
  if (s.certificateRequested) detail.client_certificate_requested = true;
  if (s.clientCertificate !== undefined) detail.client_certificate_sent = s.clientCertificate;
  let message: string;
  if (fatal !== undefined) {
    const who = (fatal.from === 'orig') === s.clientIsOrig ? 'client' : 'server';
    detail.reason = 'alert';
    detail.alert = { from: who, level: fatal.level, description: fatal.description, code: fatal.code };
    message = `${label} handshake on port ${serverPort} failed: the ${who} sent a fatal alert ${fatal.description} (${fatal.code})`;
  } else if (s.serverHello === undefined) {
    detail.reason = s.helloRetry ? 'no-server-hello-after-retry' : e.how === 'silence' ? 'no-answer' : e.how;
    message =
      e.how === 'silence'
        ? `${label} handshake on port ${serverPort} failed: no ServerHello came back after the ClientHello`
        : `${label} handshake on port ${serverPort} failed: ${endingText(e)} after the ClientHello, before any ServerHello`;
  } else {
    detail.reason = 'incomplete';
    const what = isTls13(s)
      ? 'no encrypted traffic from the client followed the server flight'
      : 'no ChangeCipherSpec or application data followed the hellos';
    message = `${label} handshake on port ${serverPort} did not complete: ${what}; ${endingText(e)}`;
  }
  if (s.certificateRequested && s.clientCertificate === false)
    message += ' (the server asked for a client certificate and the client sent none)';
  return {
    kind: 'tls-handshake-failed',
    severity: 'error',
    message,
    ts: s.lastTs || undefined,
    detail,
  };
}

/** The TLS result; `label` names the protocol in finding messages ("TLS", "PSOM (TLS)"). */
export function finishTls(s: TlsState, end: FlowEnd, label = 'TLS'): AppResult {
  const detail: Record<string, unknown> = {};
  const ch = s.clientHello;
  const sh = s.serverHello;
  if (sh !== undefined) detail.version = versionName(sh.selectedVersion ?? sh.legacyVersion);
  if (ch !== undefined) {
    if (ch.sni !== undefined) detail.sni = ch.sni;
    detail.client_version = versionName(ch.legacyVersion);
    if (ch.supportedVersions !== undefined)
      detail.client_supported_versions = ch.supportedVersions.map(versionName);
    if (ch.alpn !== undefined) detail.alpn = ch.alpn;
    if (!s.sslv2Hello) detail.client_cipher_suites = ch.cipherSuites.length;
    if (s.sslv2Hello) detail.sslv2_client_hello = true;
  }
  if (sh !== undefined) {
    detail.cipher_suite = cipherName(sh.cipherSuite);
    if (sh.alpn !== undefined) detail.server_alpn = sh.alpn;
  }
  if (s.helloRetry) detail.hello_retry_request = true;
  if (s.hsMessages.length > 0) detail.handshake = s.hsMessages;
  if (s.certificateRequested) detail.client_certificate_requested = true;
  if (s.clientCertificate !== undefined) detail.client_certificate_sent = s.clientCertificate;
  if (s.alerts.length > 0)
    detail.alerts = s.alerts.map((a) => ({
      from: a.from,
      level: a.level,
      description: a.description,
    }));
  if (s.encryptedAlerts > 0) detail.encrypted_alerts = s.encryptedAlerts;
  const midstream = ch === undefined && sh === undefined;
  if (midstream) detail.handshake_complete = 'not seen (the capture started mid-session)';
  else detail.handshake_complete = handshakeComplete(s);
  if (detail.handshake_complete === false && cutByCaptureEnd(end))
    detail.capture_ended_during_handshake = true;
  detail.records = { orig: s.orig.records, resp: s.resp.records };
  if (s.gaps > 0 || s.orig.midstream || s.resp.midstream) detail.gaps = true;
  if (s.malformedHello) detail.malformed_hello = true;

  const findings: Finding[] = [];
  const f = handshakeFinding(s, end, label);
  if (f !== undefined) findings.push(f);

  const validRecords = s.orig.records + s.resp.records;
  // Evidence that fell apart: a hello that does not parse, or one plausible header followed by
  // bytes that are not TLS records.
  const fellApart =
    s.malformedHello || (s.orig.lost && s.orig.records <= 1) || (s.resp.lost && s.resp.records <= 1);
  if (ch === undefined && sh === undefined && fellApart)
    return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
  const confidence = ch !== undefined || sh !== undefined ? 0.95 : validRecords >= 4 ? 0.8 : 0.6;
  return { app: 'tls', confidence, detail, findings };
}

export const tls: Recognizer<TlsState> = {
  app: 'tls',
  transports: ['tcp'],
  detect: (p: Payload): number => tlsScore(p),
  start: startTls,
  feed: feedTls,
  finish: (s: TlsState, end: FlowEnd): AppResult => finishTls(s, end),
};
