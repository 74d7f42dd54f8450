/**
 * STUN, TURN and Microsoft's MS-TURN: message parsing and per-flow statistics.
 *
 * Formats (all share the 20-byte header: 16-bit type with the two top bits zero, 16-bit length
 * of the attributes, then 16 bytes):
 * - RFC 8489 (formerly RFC 5389) section 5: bytes 4-7 are the magic cookie 0x2112A442, a 96-bit
 *   transaction id follows, attributes are padded to 4 bytes (section 14) so the length is a
 *   multiple of 4. Methods: Binding (ICE checks, RFC 8445), TURN's Allocate, Refresh, Send, Data,
 *   CreatePermission, ChannelBind (RFC 8656 section 18), TCP relay methods (RFC 6062).
 * - MS-TURN ([MS-TURN] 2.2.2, the draft-rosenberg-midcom-turn-08 layout Lync uses): a 128-bit
 *   transaction id and no cookie; the first attribute must be MAGIC-COOKIE (type 0x000F, value
 *   0x72C64BC6, [MS-TURN] 2.2.2.8, checked as bytes 20-27). Attributes may be unpadded, NONCE
 *   and REALM swap codes (0x0014 nonce, 0x0015 realm), and the message types differ: 0x0004 is a
 *   Send request that gets no response and 0x0115 is the Data indication. Teams' servers send the
 *   same layout with the RFC cookie value in bytes 4-7 (teams.pcap); we call both MS-TURN.
 * - RFC 3489 "classic" STUN: no cookie, no MAGIC-COOKIE attribute; Binding and Shared Secret only.
 * - TURN ChannelData (RFC 8656 section 12.4): channel number 0x4000-0x4FFF (0x7FFF in RFC 5766),
 *   16-bit length, data; padded to 4 bytes over TCP. MS-TURN's multiplexed channel 0xFF10 carries
 *   an 8-byte session id before the data ([MS-TURN] 2.2.3, as Wireshark's packet-stun.c reads it).
 * - MS-Version (0x8008, [MS-TURN] 2.2.2.17): 1 ICE, 2 MS-ICE2, 3 SHA-256, 4 IPv6, 5/6 multiplexed
 *   TURN; 2 or less means the peer speaks only the RFC 3489bis-02 message format, 3 or more RFC 5389.
 *
 * Everything here reads bytes in place and writes into caller-owned objects: no allocation per
 * message except the first time a flow shows a new username, realm or error (bounded).
 */
import type { Finding } from './types.js';
import { hex, shortText } from './text.js';

export const STUN_COOKIE = 0x2112a442;
export const MS_MAGIC_COOKIE = 0x72c64bc6;
export const MS_MULTIPLEX_CHANNEL = 0xff10;
export const STUN_HEADER = 20;

export const FORMAT_RFC5389 = 1;
export const FORMAT_MS_TURN = 2;
export const FORMAT_RFC3489 = 3;
const FORMAT_NAMES = ['', 'rfc5389', 'ms-turn', 'rfc3489'];

export const CLASS_REQUEST = 0;
export const CLASS_INDICATION = 1;
export const CLASS_SUCCESS = 2;
export const CLASS_ERROR = 3;
const CLASS_NAMES = ['request', 'indication', 'success', 'error'];

/** Synthetic method numbers for MS-TURN types that have no RFC method (above the 12-bit range). */
const MS_SEND = 0x1004;
const MS_DATA = 0x1007;
const MS_SET_ACTIVE_DESTINATION = 0x1006;

const METHOD_NAMES: Record<number, string> = {
  0x001: 'Binding',
  0x002: 'SharedSecret',
  0x003: 'Allocate',
  0x004: 'Refresh',
  0x006: 'Send',
  0x007: 'Data',
  0x008: 'CreatePermission',
  0x009: 'ChannelBind',
  0x00a: 'Connect',
  0x00b: 'ConnectionBind',
  0x00c: 'ConnectionAttempt',
  0x080: 'GoogPing',
  [MS_SEND]: 'Send',
  [MS_DATA]: 'Data',
  [MS_SET_ACTIVE_DESTINATION]: 'SetActiveDestination',
};

export function methodName(method: number): string {
  return METHOD_NAMES[method] ?? `0x${method.toString(16).padStart(3, '0')}`;
}

export function className(cls: number): string {
  return CLASS_NAMES[cls] ?? 'unknown';
}

/** One parsed message; one object is reused for every message (fields are offsets into the buffer). */
export interface StunMessage {
  type: number;
  method: number;
  cls: number;
  format: number;
  /** Bytes 4-7 hold 0x2112A442. */
  cookie: boolean;
  /** 20 + the header's length field: the whole message, which may be more than was captured. */
  total: number;
  /** The message claims more bytes than are there (snaplen cut); attributes were read as far as possible. */
  truncated: boolean;
  /** False when the attributes are not 4-byte aligned (MS-TURN allows that). */
  padded: boolean;
  /** A request that wants a response (every request but MS-TURN's Send). */
  expectsResponse: boolean;
  attributes: number;
  errorCode: number;
  errorReasonOff: number;
  errorReasonLen: number;
  usernameOff: number;
  usernameLen: number;
  realmOff: number;
  realmLen: number;
  softwareOff: number;
  softwareLen: number;
  dataOff: number;
  dataLen: number;
  msVersion: number;
  msStreamType: number;
  channelNumber: number;
  lifetime: number;
  iceControlling: boolean;
  iceControlled: boolean;
  useCandidate: boolean;
  messageIntegrity: boolean;
}

export function newStunMessage(): StunMessage {
  return {
    type: 0,
    method: 0,
    cls: 0,
    format: 0,
    cookie: false,
    total: 0,
    truncated: false,
    padded: true,
    expectsResponse: false,
    attributes: 0,
    errorCode: 0,
    errorReasonOff: 0,
    errorReasonLen: 0,
    usernameOff: 0,
    usernameLen: -1,
    realmOff: 0,
    realmLen: -1,
    softwareOff: 0,
    softwareLen: -1,
    dataOff: 0,
    dataLen: -1,
    msVersion: -1,
    msStreamType: -1,
    channelNumber: -1,
    lifetime: -1,
    iceControlling: false,
    iceControlled: false,
    useCandidate: false,
    messageIntegrity: false,
  };
}

function resetAttributes(m: StunMessage): void {
  m.attributes = 0;
  m.errorCode = 0;
  m.usernameLen = -1;
  m.realmLen = -1;
  m.softwareLen = -1;
  m.dataLen = -1;
  m.msVersion = -1;
  m.msStreamType = -1;
  m.channelNumber = -1;
  m.lifetime = -1;
  m.iceControlling = false;
  m.iceControlled = false;
  m.useCandidate = false;
  m.messageIntegrity = false;
}

function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** RFC 8489 section 5: the method bits M0-M11 and class bits C0, C1 interleaved in the type. */
function decodeType(type: number, m: StunMessage): void {
  m.cls = ((type >> 4) & 1) | ((type >> 7) & 2);
  m.method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
}

/** [MS-TURN] 2.2.2: the types whose meaning differs from the RFC reading. */
function decodeMsTurnType(type: number, m: StunMessage): void {
  switch (type) {
    case 0x0004:
      m.method = MS_SEND;
      m.cls = CLASS_REQUEST;
      return;
    case 0x0115:
      m.method = MS_DATA;
      m.cls = CLASS_INDICATION;
      return;
    case 0x0006:
    case 0x0106:
    case 0x0116:
      m.method = MS_SET_ACTIVE_DESTINATION;
      m.cls = type === 0x0006 ? CLASS_REQUEST : type === 0x0106 ? CLASS_SUCCESS : CLASS_ERROR;
      return;
    default:
      decodeType(type, m);
  }
}

/** RFC 3489 section 11.1 message types (Binding and Shared Secret request/response/error). */
function classicType(type: number): boolean {
  switch (type) {
    case 0x0001:
    case 0x0101:
    case 0x0111:
    case 0x0002:
    case 0x0102:
    case 0x0112:
      return true;
    default:
      return false;
  }
}

/**
 * Walks the attributes in buf[start, end). `padded`: RFC 8489 section 14 alignment. `exact`: the
 * walk must end exactly at `end` (a complete message); otherwise it may stop at a cut.
 */
function walkAttributes(
  b: Buffer,
  start: number,
  end: number,
  padded: boolean,
  exact: boolean,
  ms: boolean,
  m: StunMessage,
): boolean {
  resetAttributes(m);
  let p = start;
  while (p + 4 <= end) {
    const t = u16(b, p);
    const l = u16(b, p + 2);
    const v = p + 4;
    if (v + l > end) return !exact;
    m.attributes++;
    switch (t) {
      case 0x0006:
        m.usernameOff = v;
        m.usernameLen = l;
        break;
      case 0x0008:
        m.messageIntegrity = true;
        break;
      case 0x0009:
        // RFC 8489 section 14.8: class (hundreds) in the low 3 bits of byte 2, number in byte 3.
        if (l >= 4) {
          m.errorCode = (b[v + 2] & 7) * 100 + b[v + 3];
          m.errorReasonOff = v + 4;
          m.errorReasonLen = l - 4;
        }
        break;
      case 0x000c:
        if (l >= 2) m.channelNumber = u16(b, v);
        break;
      case 0x000d:
        if (l >= 4) m.lifetime = u32(b, v);
        break;
      case 0x0013:
        m.dataOff = v;
        m.dataLen = l;
        break;
      case 0x0014:
        // REALM in RFC 8489 section 14.9; NONCE in MS-TURN ([MS-TURN] 2.2.2.10).
        if (!ms) {
          m.realmOff = v;
          m.realmLen = l;
        }
        break;
      case 0x0015:
        // NONCE in RFC 8489 section 14.10; REALM in MS-TURN ([MS-TURN] 2.2.2.11).
        if (ms) {
          m.realmOff = v;
          m.realmLen = l;
        }
        break;
      case 0x0025:
        m.useCandidate = true;
        break;
      case 0x8008:
        if (l >= 4) m.msVersion = u32(b, v);
        break;
      case 0x8022:
        m.softwareOff = v;
        m.softwareLen = l;
        break;
      case 0x8029:
        m.iceControlled = true;
        break;
      case 0x802a:
        m.iceControlling = true;
        break;
      case 0x8055:
        // MS-Service-Quality ([MS-TURN] 2.2.2.20): stream type 1 audio, 2 video, 3 supplemental video, 4 data.
        if (l >= 2) m.msStreamType = u16(b, v);
        break;
    }
    p = v + (padded ? (l + 3) & ~3 : l);
  }
  // A cut message may end inside an attribute or its padding; a whole one must end exactly.
  return !exact || p === end;
}

/**
 * Parses the STUN message at buf[off, off + avail). Returns false when the bytes are not one.
 * `datagram`: the bytes are a whole UDP datagram, which must hold exactly one message (RFC 8489
 * section 6.3), unless it was cut by the snaplen (`captured` < real size is not known here, so a
 * message longer than the bytes is accepted as truncated only when a cookie vouches for it).
 */
export function parseStun(b: Buffer, off: number, avail: number, datagram: boolean, m: StunMessage): boolean {
  if (avail < STUN_HEADER) return false;
  const type = u16(b, off);
  if (type & 0xc000) return false;
  const length = u16(b, off + 2);
  const total = STUN_HEADER + length;
  const cookie = u32(b, off + 4) === STUN_COOKIE;
  const msAttr =
    avail >= 28 &&
    length >= 8 &&
    u16(b, off + 20) === 0x000f &&
    u16(b, off + 22) === 4 &&
    u32(b, off + 24) === MS_MAGIC_COOKIE;
  m.type = type;
  m.cookie = cookie;
  m.total = total;
  m.truncated = total > avail;
  if (datagram && total < avail) return false;
  if (m.truncated && !cookie && !msAttr) return false;
  const end = off + Math.min(total, avail);
  const exact = !m.truncated;
  if (msAttr) {
    m.format = FORMAT_MS_TURN;
    decodeMsTurnType(type, m);
    m.padded = true;
    if (!walkAttributes(b, off + STUN_HEADER, end, true, exact, true, m)) {
      m.padded = false;
      if (!walkAttributes(b, off + STUN_HEADER, end, false, exact, true, m)) return false;
    }
  } else if (cookie) {
    m.format = FORMAT_RFC5389;
    decodeType(type, m);
    // RFC 8489 section 5: the length is a multiple of 4; methods above 0xFF collide with DTLS (RFC 7983).
    if ((length & 3) !== 0 || m.method > 0xff) return false;
    m.padded = true;
    if (!walkAttributes(b, off + STUN_HEADER, end, true, exact, false, m)) return false;
  } else {
    if (!classicType(type) || (length & 3) !== 0) return false;
    m.format = FORMAT_RFC3489;
    decodeType(type, m);
    m.padded = true;
    if (!walkAttributes(b, off + STUN_HEADER, end, true, exact, false, m)) return false;
  }
  m.expectsResponse = m.cls === CLASS_REQUEST && m.method !== MS_SEND;
  return true;
}

/**
 * The size of a TURN ChannelData message at buf[off, off + avail) (RFC 8656 section 12.4, or
 * MS-TURN's multiplexed channel), or -1. Over UDP the datagram is the message, with or without
 * the padding to 4 bytes; over TCP the caller frames it with channelDataFrame.
 */
export function channelDataLength(b: Buffer, off: number, avail: number, datagram: boolean): number {
  if (avail < 4) return -1;
  const channel = u16(b, off);
  const length = u16(b, off + 2);
  if (!validChannel(channel)) return -1;
  if (channel === MS_MULTIPLEX_CHANNEL && length < 8) return -1;
  const total = 4 + length;
  if (datagram && avail !== total && avail !== ((total + 3) & ~3)) return -1;
  return total;
}

/** RFC 5766 allowed 0x4000-0x7FFF; RFC 8656 narrowed it to 0x4000-0x4FFF. Plus MS-TURN's 0xFF10. */
export function validChannel(channel: number): boolean {
  return (channel >= 0x4000 && channel <= 0x7fff) || channel === MS_MULTIPLEX_CHANNEL;
}

// --- Per-flow statistics -------------------------------------------------------------------

/** Kinds of data relayed inside TURN (ChannelData, Send/Data indications), by RFC 7983 first byte. */
export const INNER_STUN = 0;
export const INNER_DTLS = 1;
export const INNER_RTP = 2;
export const INNER_RTCP = 3;
export const INNER_OTHER = 4;
const INNER_NAMES = ['stun', 'dtls', 'rtp', 'rtcp', 'other'];

export function innerKind(b: Buffer, off: number, len: number): number {
  if (len < 2) return INNER_OTHER;
  const c = b[off];
  if (c <= 3) return INNER_STUN;
  if (c >= 20 && c <= 63) return INNER_DTLS;
  if (c >= 128 && c <= 191) return b[off + 1] >= 192 && b[off + 1] <= 223 ? INNER_RTCP : INNER_RTP;
  return INNER_OTHER;
}

/** Requests whose answer we wait for, per flow. Older answered entries make room for new ones. */
const TX_CAP = 32;
const TX_ID = 16;
const TX_USED = 1;
const TX_ANSWERED = 2;
const TX_FROM_ORIG = 4;
/** Findings listed one by one; past this, one summary finding. */
const FINDINGS_CAP = 8;
const TYPES_CAP = 32;
const ERRORS_CAP = 8;
const CHANNELS_CAP = 4;
const UNMATCHED_CAP = 8;

interface ErrorSeen {
  code: number;
  reason: string;
  method: number;
  count: number;
  ts: number;
}

export interface StunStats {
  messages: number;
  byFormat: [number, number, number, number];
  /** Messages per (format << 16 | type). */
  types: Map<number, number>;
  requests: number;
  answered: number;
  retransmits: number;
  untracked: number;
  unmatchedResponses: number;
  unmatchedIds: string[];
  truncated: number;
  unpadded: number;
  txIds: Buffer | null;
  txTs: Float64Array | null;
  txMethod: Uint16Array | null;
  txFormat: Uint8Array | null;
  txFlags: Uint8Array | null;
  txSends: Uint16Array | null;
  txNext: number;
  errors: ErrorSeen[];
  msVersion: number;
  msStreamType: number;
  usernames: string[];
  realm: string | undefined;
  software: string | undefined;
  iceControlling: number;
  iceControlled: number;
  useCandidate: number;
  lifetime: number;
  channelData: number;
  msMultiplexed: number;
  channels: number[];
  relayed: [number, number, number, number, number];
  fromOrig: number;
  fromResp: number;
}

export function newStunStats(): StunStats {
  return {
    messages: 0,
    byFormat: [0, 0, 0, 0],
    types: new Map(),
    requests: 0,
    answered: 0,
    retransmits: 0,
    untracked: 0,
    unmatchedResponses: 0,
    unmatchedIds: [],
    truncated: 0,
    unpadded: 0,
    txIds: null,
    txTs: null,
    txMethod: null,
    txFormat: null,
    txFlags: null,
    txSends: null,
    txNext: 0,
    errors: [],
    msVersion: -1,
    msStreamType: -1,
    usernames: [],
    realm: undefined,
    software: undefined,
    iceControlling: 0,
    iceControlled: 0,
    useCandidate: 0,
    lifetime: -1,
    channelData: 0,
    msMultiplexed: 0,
    channels: [],
    relayed: [0, 0, 0, 0, 0],
    fromOrig: 0,
    fromResp: 0,
  };
}

/**
 * A transaction id as Wireshark shows it: RFC 8489's is the 96 bits after the cookie; MS-TURN and
 * RFC 3489 use all 128 bits (an MS-TURN id that starts with the cookie value is shown like RFC 8489's).
 */
function transactionIdHex(b: Buffer, at: number): string {
  const cookie = u32(b, at) === STUN_COOKIE;
  return hex(b, at + (cookie ? 4 : 0), cookie ? 12 : 16);
}

/** Index of the tracked transaction with the id at b[idOff, idOff + 16), or -1. */
function findTx(s: StunStats, b: Buffer, idOff: number): number {
  const ids = s.txIds!;
  const flags = s.txFlags!;
  for (let i = 0; i < TX_CAP; i++) {
    if ((flags[i] & TX_USED) === 0) continue;
    const base = i * TX_ID;
    let j = 0;
    while (j < TX_ID && ids[base + j] === b[idOff + j]) j++;
    if (j === TX_ID) return i;
  }
  return -1;
}

/** A free slot, else the oldest answered one, else -1 (then the request is counted as untracked). */
function freeTx(s: StunStats): number {
  const flags = s.txFlags!;
  for (let k = 0; k < TX_CAP; k++) {
    const i = (s.txNext + k) % TX_CAP;
    if ((flags[i] & TX_USED) === 0 || (flags[i] & TX_ANSWERED) !== 0) {
      s.txNext = (i + 1) % TX_CAP;
      return i;
    }
  }
  return -1;
}

function trackRequest(
  s: StunStats,
  b: Buffer,
  off: number,
  m: StunMessage,
  fromOrig: boolean,
  ts: number,
): void {
  if (s.txIds === null) {
    s.txIds = Buffer.alloc(TX_CAP * TX_ID);
    s.txTs = new Float64Array(TX_CAP);
    s.txMethod = new Uint16Array(TX_CAP);
    s.txFormat = new Uint8Array(TX_CAP);
    s.txFlags = new Uint8Array(TX_CAP);
    s.txSends = new Uint16Array(TX_CAP);
  }
  const idOff = off + 4;
  const i = findTx(s, b, idOff);
  if (i >= 0) {
    s.retransmits++;
    s.txSends![i]++;
    return;
  }
  s.requests++;
  const slot = freeTx(s);
  if (slot < 0) {
    s.untracked++;
    return;
  }
  b.copy(s.txIds, slot * TX_ID, idOff, idOff + TX_ID);
  s.txTs![slot] = ts;
  s.txMethod![slot] = m.method;
  s.txFormat![slot] = m.format;
  s.txFlags![slot] = TX_USED | (fromOrig ? TX_FROM_ORIG : 0);
  s.txSends![slot] = 1;
}

function unmatched(s: StunStats, b: Buffer, off: number): void {
  s.unmatchedResponses++;
  // Kept so that a cross-flow step can pair them with requests sent on another 5-tuple (anycast relays).
  if (s.unmatchedIds.length < UNMATCHED_CAP) s.unmatchedIds.push(transactionIdHex(b, off + 4));
}

function matchResponse(s: StunStats, b: Buffer, off: number): void {
  if (s.txIds === null) {
    unmatched(s, b, off);
    return;
  }
  const i = findTx(s, b, off + 4);
  if (i < 0) {
    unmatched(s, b, off);
    return;
  }
  if ((s.txFlags![i] & TX_ANSWERED) === 0) {
    s.txFlags![i] |= TX_ANSWERED;
    s.answered++;
  }
}

/** Adds one parsed message (at buf[off]) to the flow's statistics. */
export function addStunMessage(
  s: StunStats,
  b: Buffer,
  off: number,
  m: StunMessage,
  fromOrig: boolean,
  ts: number,
): void {
  s.messages++;
  s.byFormat[m.format]++;
  if (fromOrig) s.fromOrig++;
  else s.fromResp++;
  if (m.truncated) s.truncated++;
  if (!m.padded) s.unpadded++;
  const key = (m.format << 16) | m.type;
  const seen = s.types.get(key);
  if (seen !== undefined) s.types.set(key, seen + 1);
  else if (s.types.size < TYPES_CAP) s.types.set(key, 1);
  if (m.cls === CLASS_REQUEST) {
    if (m.expectsResponse) trackRequest(s, b, off, m, fromOrig, ts);
  } else if (m.cls === CLASS_SUCCESS || m.cls === CLASS_ERROR) {
    matchResponse(s, b, off);
  }
  if (m.cls === CLASS_ERROR && m.errorCode > 0) addError(s, b, m, ts);
  if (m.msVersion >= 0 && m.msVersion > s.msVersion) s.msVersion = m.msVersion;
  if (m.msStreamType >= 0) s.msStreamType = m.msStreamType;
  if (m.iceControlling) s.iceControlling++;
  if (m.iceControlled) s.iceControlled++;
  if (m.useCandidate) s.useCandidate++;
  if (m.lifetime >= 0) s.lifetime = m.lifetime;
  if (m.usernameLen > 0 && s.usernames.length < 2) {
    const u = shortText(b, m.usernameOff, m.usernameLen);
    if (!s.usernames.includes(u)) s.usernames.push(u);
  }
  if (m.realmLen > 0 && s.realm === undefined) s.realm = shortText(b, m.realmOff, m.realmLen);
  if (m.softwareLen > 0 && s.software === undefined) s.software = shortText(b, m.softwareOff, m.softwareLen);
  if (m.dataLen > 0) s.relayed[innerKind(b, m.dataOff, m.dataLen)]++;
}

function addError(s: StunStats, b: Buffer, m: StunMessage, ts: number): void {
  for (const e of s.errors)
    if (e.code === m.errorCode && e.method === m.method) {
      e.count++;
      return;
    }
  if (s.errors.length >= ERRORS_CAP) return;
  s.errors.push({
    code: m.errorCode,
    reason: shortText(b, m.errorReasonOff, m.errorReasonLen),
    method: m.method,
    count: 1,
    ts,
  });
}

/** Adds one ChannelData message; `dataOff`/`dataLen` locate the relayed bytes. */
export function addChannelData(
  s: StunStats,
  channel: number,
  b: Buffer,
  dataOff: number,
  dataLen: number,
  fromOrig: boolean,
): void {
  s.channelData++;
  if (fromOrig) s.fromOrig++;
  else s.fromResp++;
  if (channel === MS_MULTIPLEX_CHANNEL) s.msMultiplexed++;
  if (s.channels.length < CHANNELS_CAP && !s.channels.includes(channel)) s.channels.push(channel);
  s.relayed[innerKind(b, dataOff, dataLen)]++;
}

/** Whether the flow is TURN (relay) rather than plain STUN/ICE. */
function isTurn(s: StunStats): boolean {
  if (s.channelData > 0) return true;
  for (const key of s.types.keys()) {
    const method = decodeKey(key).method;
    if (method !== 0x001 && method !== 0x002 && method !== 0x080) return true;
  }
  return false;
}

/** Method and class of a `types` key (format << 16 | type); used when building the detail only. */
const scratch = newStunMessage();
function decodeKey(key: number): StunMessage {
  if (key >>> 16 === FORMAT_MS_TURN) decodeMsTurnType(key & 0xffff, scratch);
  else decodeType(key & 0xffff, scratch);
  return scratch;
}

function typeName(key: number): string {
  const m = decodeKey(key);
  return `${methodName(m.method)} ${className(m.cls)}`;
}

/** The `stun` part of app_detail. */
export function stunDetail(s: StunStats): Record<string, unknown> {
  const formats: string[] = [];
  for (let f = 1; f <= 3; f++) if (s.byFormat[f] > 0) formats.push(FORMAT_NAMES[f]);
  const messages: Record<string, number> = {};
  for (const [key, n] of s.types) {
    const name = typeName(key);
    messages[name] = (messages[name] ?? 0) + n;
  }
  const d: Record<string, unknown> = {
    messages: s.messages,
    formats,
    turn: isTurn(s),
    types: messages,
    transactions: {
      requests: s.requests,
      answered: s.answered,
      unanswered: unansweredCount(s),
      retransmits: s.retransmits,
      unmatched_responses: s.unmatchedResponses,
      ...(s.unmatchedIds.length > 0 ? { unmatched_response_ids: s.unmatchedIds } : {}),
      ...(s.untracked > 0 ? { untracked: s.untracked } : {}),
    },
  };
  if (s.msVersion >= 0) {
    d.ms_version = s.msVersion;
    d.ms_ice_format = s.msVersion <= 2 ? 'rfc3489bis-02' : 'rfc5389';
  }
  if (s.msStreamType >= 0)
    d.ms_stream_type =
      ['none', 'audio', 'video', 'supplemental-video', 'data'][s.msStreamType] ?? s.msStreamType;
  if (s.unpadded > 0) d.unpadded_messages = s.unpadded;
  if (s.truncated > 0) d.truncated_messages = s.truncated;
  if (s.usernames.length > 0) d.usernames = s.usernames;
  if (s.realm !== undefined) d.realm = s.realm;
  if (s.software !== undefined) d.software = s.software;
  if (s.iceControlling + s.iceControlled + s.useCandidate > 0)
    d.ice = { controlling: s.iceControlling, controlled: s.iceControlled, use_candidate: s.useCandidate };
  if (s.lifetime >= 0) d.lifetime = s.lifetime;
  if (s.channelData > 0) {
    d.channel_data = s.channelData;
    d.channels = s.channels.map((c) => `0x${c.toString(16)}`);
    if (s.msMultiplexed > 0) d.ms_multiplexed = s.msMultiplexed;
  }
  const relayed: Record<string, number> = {};
  for (let k = 0; k < INNER_NAMES.length; k++) if (s.relayed[k] > 0) relayed[INNER_NAMES[k]] = s.relayed[k];
  if (Object.keys(relayed).length > 0) d.relayed = relayed;
  if (s.errors.length > 0)
    d.errors = s.errors.map((e) => ({
      code: e.code,
      reason: e.reason,
      method: methodName(e.method),
      count: e.count,
    }));
  return d;
}

function unansweredCount(s: StunStats): number {
  if (s.txFlags === null) return 0;
  let n = 0;
  for (let i = 0; i < TX_CAP; i++) if ((s.txFlags[i] & (TX_USED | TX_ANSWERED)) === TX_USED) n++;
  return n + s.untracked;
}

/** 401 and 438 are the normal TURN authentication round (RFC 8489 section 9.2); 487 an ICE role switch. */
function errorSeverity(code: number): Finding['severity'] {
  return code === 401 || code === 438 || code === 487 ? 'info' : 'warning';
}

/** Findings: requests that got no response (with their transaction ids) and error responses. */
export function stunFindings(s: StunStats): Finding[] {
  const out: Finding[] = [];
  if (s.txFlags !== null) {
    const pending: number[] = [];
    for (let i = 0; i < TX_CAP; i++)
      if ((s.txFlags[i] & (TX_USED | TX_ANSWERED)) === TX_USED) pending.push(i);
    pending.sort((a, b) => s.txTs![a] - s.txTs![b]);
    for (const i of pending.slice(0, FINDINGS_CAP)) {
      const id = transactionIdHex(s.txIds!, i * TX_ID);
      const method = methodName(s.txMethod![i]);
      const sends = s.txSends![i];
      out.push({
        kind: 'stun-no-response',
        severity: 'warning',
        message: `STUN ${method} request ${id} got no response on this 5-tuple${sends > 1 ? ` (sent ${sends} times)` : ''}`,
        ts: s.txTs![i],
        detail: {
          transaction_id: id,
          method,
          format: FORMAT_NAMES[s.txFormat![i]],
          sent: sends,
          from: (s.txFlags![i] & TX_FROM_ORIG) !== 0 ? 'orig' : 'resp',
        },
      });
    }
    const more = pending.length - Math.min(pending.length, FINDINGS_CAP) + s.untracked;
    if (more > 0)
      out.push({
        kind: 'stun-no-response',
        severity: 'warning',
        message: `${more} more STUN requests got no response`,
        detail: { count: more },
      });
  }
  for (const e of s.errors)
    out.push({
      kind: 'stun-error-response',
      severity: errorSeverity(e.code),
      message: `STUN ${methodName(e.method)} error ${e.code} ${e.reason}`.trimEnd(),
      ts: e.ts,
      detail: { code: e.code, reason: e.reason, method: methodName(e.method), count: e.count },
    });
  return out;
}
