/**
 * SIP (RFC 3261) over UDP, TCP and WebSocket (RFC 7118), plaintext: the 5060 / 5068 / 5070 ports
 * of gateways and Mediation servers, and anything else that speaks it.
 *
 * - Message syntax (RFC 3261 section 7): a request line "Method SP Request-URI SP SIP/2.0" or a
 *   status line "SIP/2.0 SP Status-Code SP Reason-Phrase", header lines, an empty line, a body of
 *   Content-Length bytes. Header names are case-insensitive and have compact forms (section 7.3.3);
 *   a line starting with whitespace continues the previous header (section 7.3.1).
 * - Framing (section 18.3): over TCP Content-Length delimits messages, several may share a
 *   segment and one may span several (a bounded StreamBuffer per direction). Over UDP a datagram
 *   normally holds one message; more are parsed if they follow. Keep-alive CRLFs (RFC 5626
 *   section 3.5.1) are skipped.
 * - SIP over WebSocket: after the HTTP Upgrade (RFC 6455 section 4, Sec-WebSocket-Protocol: sip),
 *   each text or binary WebSocket message carries one SIP message; client frames are masked.
 * - The SDP bodies (application/sdp, also inside multipart/alternative as Lync sends them) are
 *   summarised by sdp.ts: per dialog (Call-ID) the latest offer and answer, so that a later step
 *   can look for the media they promised.
 * - Findings: every 4xx, 5xx and 6xx response (401/407 challenges and 487 after CANCEL as info),
 *   with Lync's ms-diagnostics / ms-client-diagnostics header when present.
 *
 * No regular expression runs over packet bytes: headers are found by indexOf and line scanning,
 * and every text is bounded (MAX_HEADER, MAX_BODY) before it is looked at, so the work is linear
 * in the bytes of the flow.
 */
import { StreamBuffer } from './stream.js';
import { summarizeSdp, type SdpSummary } from './sdp.js';
import { commonString, shortString } from './text.js';
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

/** Largest header section parsed; beyond it the bytes are not a SIP message we handle. */
export const MAX_HEADER = 64 * 1024;
/** Largest body buffered (bigger ones are skipped over by their Content-Length). */
const MAX_BODY = 64 * 1024;
const STREAM_LIMIT = MAX_HEADER + MAX_BODY;
const MAX_DIALOGS = 8;
const MAX_FINDINGS = 16;
const MAX_COUNTS = 32;
const MAX_METHODS_PER_DIALOG = 12;
/** Messages listed one by one in app_detail (the first ones of the flow). */
const MAX_LOGGED = 16;
/** Messages per flow after which the recognizer stops reading (the picture is clear by then). */
const MAX_MESSAGES = 10_000;

const NEED_MORE = 0;
const INVALID = -1;

/** Compact header forms, RFC 3261 section 7.3.3 (and RFC 3265, 3515, 4028 for o, u, r, b, x). */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  c: 'content-type',
  l: 'content-length',
  m: 'contact',
  s: 'subject',
  k: 'supported',
  e: 'content-encoding',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
};

/** parseSipMessage's outputs besides its return value; `scanned` carries over between calls on one buffer. */
export interface ParseOut {
  msg: SipMessage;
  /** Bytes the buffered message needs in total (0: unknown yet). */
  need: number;
  /** Bytes already searched for the end of the header section. */
  scanned: number;
}

export interface SipMessage {
  request: boolean;
  method: string;
  uri: string;
  status: number;
  reason: string;
  callId?: string;
  cseqNum: number;
  cseqMethod: string;
  from?: string;
  fromTag?: string;
  to?: string;
  toTag?: string;
  via?: string;
  contentType?: string;
  contentLength: number;
  userAgent?: string;
  server?: string;
  diagnostics?: string;
  warning?: string;
  /** Offsets (in the parsed buffer) of the header section end and the body. */
  headerLength: number;
  bodyOff: number;
  bodyLen: number;
  /** The body is longer than MAX_BODY (skipped) or cut by the end of the bytes (truncated). */
  bodySkipped: number;
  truncated: boolean;
}

// --- byte-level checks (detect: no allocation) ---------------------------------------------

const SIP_VERSION = [0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30]; // "SIP/2.0"

function isTokenChar(c: number): boolean {
  // RFC 3261 section 25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x21 ||
    c === 0x25 ||
    c === 0x2a ||
    c === 0x5f ||
    c === 0x2b ||
    c === 0x60 ||
    c === 0x27 ||
    c === 0x7e
  );
}

function versionAt(b: Buffer, p: number, end: number): boolean {
  if (p + 7 > end) return false;
  for (let i = 0; i < 7; i++) {
    const c = b[p + i] | (i < 3 ? 0x20 : 0);
    if (c !== (SIP_VERSION[i] | (i < 3 ? 0x20 : 0))) return false;
  }
  return true;
}

/**
 * Offset past keep-alive bytes, or `end`: CRLFs (RFC 5626 section 3.5.1; RFC 3261 section 7.5 says
 * to ignore CRLFs before a start line) and the spaces, tabs or NULs some user agents send instead.
 */
function skipCrlf(b: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = b[p];
    if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09 && c !== 0x00) break;
    p++;
  }
  return p;
}

/**
 * Checks the start line at b[p] (section 7.1 / 7.2): returns the offset of its line end (CR or
 * LF), or -1. Looks at most 1024 bytes.
 */
export function startLineEnd(b: Buffer, p: number, end: number): number {
  const limit = Math.min(end, p + 1024);
  if (versionAt(b, p, limit)) {
    // Status-Line: SIP/2.0 SP 3DIGIT SP Reason-Phrase CRLF
    let q = p + 7;
    if (q + 4 > limit || b[q] !== 0x20) return -1;
    for (let i = 1; i <= 3; i++) if (b[q + i] < 0x30 || b[q + i] > 0x39) return -1;
    if (b[q + 1] < 0x31 || b[q + 1] > 0x36) return -1;
    q += 4;
    if (q < limit && b[q] !== 0x20 && b[q] !== 0x0d && b[q] !== 0x0a) return -1;
    for (; q < limit; q++) {
      const c = b[q];
      if (c === 0x0d || c === 0x0a) return q;
      // Reason-Phrase: text, UTF-8 allowed (section 25.1), no other control characters.
      if (c < 0x20 && c !== 0x09) return -1;
      if (c === 0x7f) return -1;
    }
    return -1;
  }
  // Request-Line: Method SP Request-URI SP SIP-Version CRLF
  let q = p;
  while (q < limit && isTokenChar(b[q])) q++;
  const methodLen = q - p;
  if (methodLen === 0 || methodLen > 32 || q >= limit || b[q] !== 0x20) return -1;
  q++;
  const uriStart = q;
  let colon = false;
  while (q < limit && b[q] > 0x20 && b[q] < 0x7f) {
    if (b[q] === 0x3a) colon = true;
    q++;
  }
  if (q - uriStart < 3 || !colon || q >= limit || b[q] !== 0x20) return -1;
  q++;
  if (!versionAt(b, q, limit)) return -1;
  q += 7;
  if (q < limit && (b[q] === 0x0d || b[q] === 0x0a)) return q;
  return -1;
}

function asciiCiAt(b: Buffer, p: number, end: number, lower: string): boolean {
  if (p + lower.length > end) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = b[p + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Case-insensitive search for a lower-case ASCII needle in b[p, end). */
function findCi(b: Buffer, p: number, end: number, lower: string): number {
  const first = lower.charCodeAt(0);
  for (let i = p; i + lower.length <= end; i++) {
    let c = b[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c === first && asciiCiAt(b, i, end, lower)) return i;
  }
  return -1;
}

/** An HTTP Upgrade to WebSocket for the "sip" subprotocol (RFC 7118 section 4). */
export function sipWebSocketUpgrade(b: Buffer, p: number, end: number): boolean {
  if (!asciiCiAt(b, p, end, 'get ')) return false;
  const limit = Math.min(end, p + 8192);
  const upgrade = findCi(b, p, limit, '\nupgrade:');
  if (upgrade < 0 || findCi(b, upgrade, Math.min(limit, upgrade + 64), 'websocket') < 0) return false;
  const proto = findCi(b, p, limit, '\nsec-websocket-protocol:');
  if (proto < 0) return false;
  let e = proto + 24;
  while (e < limit && b[e] !== 0x0a) e++;
  // The value is a comma-separated list; "sip" must be one of its tokens.
  for (let i = proto + 24; i + 3 <= e; i++) {
    if (asciiCiAt(b, i, e, 'sip') && !isTokenChar(b[i - 1]) && (i + 3 === e || !isTokenChar(b[i + 3])))
      return true;
  }
  return false;
}

// --- message parsing -----------------------------------------------------------------------

/**
 * Where the header section of the message at v[0..] ends (the offset after the empty line), or -1.
 * Accepts CRLF CRLF and bare LF LF. Jumps from LF to LF with indexOf: linear.
 */
function headerEnd(v: Buffer, from = 0): number {
  let i = v.indexOf(0x0a, from);
  while (i >= 0) {
    let j = i + 1;
    if (j < v.length && v[j] === 0x0d) j++;
    if (j < v.length && v[j] === 0x0a) return j + 1;
    i = v.indexOf(0x0a, i + 1);
  }
  return -1;
}

/**
 * Where the address of a From / To value starts: after its display-name when that is a
 * quoted-string (RFC 3261 section 25.1: name-addr = [ display-name ] LAQUOT addr-spec RAQUOT,
 * display-name = *(token LWS) / quoted-string, with quoted-pair "\\" escapes), so a "<" or ";"
 * inside the quotes is not taken for the address or its parameters. An unterminated quote: 0.
 */
function addressStart(value: string): number {
  let i = 0;
  while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  if (value[i] !== '"') return 0;
  for (i++; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i + 1;
  }
  return 0;
}

/** The name-addr's <...> (offsets of "<" and ">"), or undefined for a bare addr-spec. */
function angleBrackets(value: string): [number, number] | undefined {
  const lt = value.indexOf('<', addressStart(value));
  if (lt < 0) return undefined;
  const gt = value.indexOf('>', lt);
  return [lt, gt < 0 ? value.length : gt];
}

function tagOf(value: string): string | undefined {
  // The tag parameter (section 19.3) after the name-addr's closing '>' (or after the display name
  // if there is none).
  const lower = value.toLowerCase();
  const angles = angleBrackets(value);
  const i = lower.indexOf(';tag=', angles !== undefined ? angles[1] : addressStart(value));
  if (i < 0) return undefined;
  let e = i + 5;
  while (e < value.length && value[e] !== ';' && value[e] !== ' ' && value[e] !== ',' && value[e] !== '>')
    e++;
  return value.slice(i + 5, e);
}

/** The URI of a From / To value: inside <...> if present, else up to the first ';'. */
function uriOf(value: string): string {
  const angles = angleBrackets(value);
  if (angles !== undefined) return value.slice(angles[0] + 1, angles[1]);
  const rest = value.slice(addressStart(value));
  const semi = rest.indexOf(';');
  return (semi < 0 ? rest : rest.slice(0, semi)).trim();
}

function parseInteger(s: string, max: number): number {
  const t = s.trim();
  if (t.length === 0 || t.length > 9) return -1;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n <= max ? n : -1;
}

function applyHeader(m: SipMessage, rawName: string, value: string): void {
  if (rawName.length === 0 || rawName.length > 40) return;
  let name = rawName.toLowerCase();
  if (name.length === 1) name = COMPACT[name] ?? name;
  switch (name) {
    case 'call-id':
      if (m.callId === undefined) m.callId = value;
      break;
    case 'cseq': {
      const sp = value.indexOf(' ');
      if (sp > 0) {
        m.cseqNum = parseInteger(value.slice(0, sp), 0x7fffffff);
        m.cseqMethod = value.slice(sp + 1).trim();
      }
      break;
    }
    case 'from':
      if (m.from === undefined) {
        m.from = uriOf(value);
        m.fromTag = tagOf(value);
      }
      break;
    case 'to':
      if (m.to === undefined) {
        m.to = uriOf(value);
        m.toTag = tagOf(value);
      }
      break;
    case 'via':
      if (m.via === undefined) {
        const comma = value.indexOf(',');
        m.via = comma < 0 ? value : value.slice(0, comma);
      }
      break;
    case 'content-type':
      m.contentType = value;
      break;
    case 'content-length':
      m.contentLength = parseInteger(value, 0x7fffffff);
      break;
    case 'user-agent':
      m.userAgent = value;
      break;
    case 'server':
      m.server = value;
      break;
    case 'ms-diagnostics':
    case 'ms-client-diagnostics':
    case 'ms-diagnostics-public':
      if (m.diagnostics === undefined) m.diagnostics = value;
      break;
    case 'warning':
      if (m.warning === undefined) m.warning = value;
      break;
  }
}

function parseStartLine(line: string, m: SipMessage): boolean {
  if (line.length > 7 && line.slice(0, 8).toUpperCase() === 'SIP/2.0 ') {
    m.request = false;
    m.status = parseInteger(line.slice(8, 11), 699);
    m.reason = line.slice(12);
    return m.status >= 100;
  }
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.slice(sp2 + 1).toUpperCase() !== 'SIP/2.0') return false;
  m.request = true;
  m.method = line.slice(0, sp1);
  m.uri = line.slice(sp1 + 1, sp2);
  return true;
}

function newMessage(): SipMessage {
  return {
    request: false,
    method: '',
    uri: '',
    status: 0,
    reason: '',
    cseqNum: -1,
    cseqMethod: '',
    contentLength: -1,
    headerLength: 0,
    bodyOff: 0,
    bodyLen: 0,
    bodySkipped: 0,
    truncated: false,
  };
}

/**
 * Parses one message at the start of `v`. `stream`: TCP semantics (Content-Length frames the
 * message; an incomplete one returns NEED_MORE). Otherwise `v` is the rest of a datagram or a
 * WebSocket message, and a missing Content-Length means "the rest".
 * Returns the bytes the message occupies (header + body, even a skipped body), NEED_MORE or INVALID.
 */
export function parseSipMessage(v: Buffer, stream: boolean, out: ParseOut): number {
  out.need = 0;
  if (startLineEnd(v, 0, v.length) < 0)
    return v.length < 1024 && stream && v.indexOf(0x0a) < 0 ? NEED_MORE : INVALID;
  const window = v.length > MAX_HEADER ? v.subarray(0, MAX_HEADER) : v;
  // Resume the search for the empty line where the last call stopped (TCP: linear over segments).
  let end = headerEnd(window, Math.max(0, Math.min(out.scanned, window.length) - 3));
  const m = newMessage();
  if (end < 0) {
    if (v.length >= MAX_HEADER) return INVALID;
    out.scanned = window.length;
    if (stream) return NEED_MORE;
    // A datagram cut before the empty line (snaplen): read the headers there are.
    end = v.length;
    m.truncated = true;
  }
  const head = v.toString('latin1', 0, end);
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const first = head.charCodeAt(eol - 1) === 0x0d ? head.slice(0, eol - 1) : head.slice(0, eol);
  if (!parseStartLine(first, m)) return INVALID;
  let name = '';
  let value = '';
  let start = eol + 1;
  while (start < head.length) {
    let e = head.indexOf('\n', start);
    if (e < 0) e = head.length;
    const lineEnd = e > start && head.charCodeAt(e - 1) === 0x0d ? e - 1 : e;
    if (lineEnd === start) break;
    const c = head.charCodeAt(start);
    if (c === 0x20 || c === 0x09) {
      // Folded continuation of the previous header (section 7.3.1); bounded by the header section size.
      if (name.length > 0) value += ' ' + head.slice(start, lineEnd).trim();
    } else {
      if (name.length > 0) applyHeader(m, name, value);
      const colon = head.indexOf(':', start);
      if (colon < 0 || colon >= lineEnd) {
        name = '';
      } else {
        name = head.slice(start, colon).trim();
        value = head.slice(colon + 1, lineEnd).trim();
      }
    }
    start = e + 1;
  }
  if (name.length > 0) applyHeader(m, name, value);
  m.headerLength = end;
  m.bodyOff = end;
  const rest = v.length - end;
  let length = m.contentLength;
  if (length < 0) length = stream ? 0 : rest;
  if (length > MAX_BODY) {
    m.bodySkipped = length;
    m.bodyLen = 0;
    out.msg = m;
    return end + length;
  }
  if (length > rest) {
    if (stream) {
      out.need = end + length;
      return NEED_MORE;
    }
    m.truncated = true;
    length = rest;
  }
  m.bodyLen = length;
  out.msg = m;
  return end + length;
}

// --- SDP bodies ----------------------------------------------------------------------------

function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The boundary parameter of a multipart Content-Type (RFC 2046 section 5.1.1). */
function boundaryOf(contentType: string): string | undefined {
  const lower = contentType.toLowerCase();
  const i = lower.indexOf('boundary=');
  if (i < 0) return undefined;
  let s = contentType.slice(i + 9).trim();
  if (s.startsWith('"')) {
    const q = s.indexOf('"', 1);
    s = s.slice(1, q < 0 ? s.length : q);
  } else {
    const semi = s.indexOf(';');
    if (semi >= 0) s = s.slice(0, semi);
  }
  return s.length > 0 && s.length <= 70 ? s : undefined;
}

/** The first application/sdp part of a multipart body (Lync sends multipart/alternative SDP). */
function sdpPart(body: string, boundary: string): string | undefined {
  const delimiter = '--' + boundary;
  let i = body.indexOf(delimiter);
  let parts = 0;
  while (i >= 0 && parts < 8) {
    parts++;
    const startHead = i + delimiter.length;
    const next = body.indexOf(delimiter, startHead);
    const part = body.slice(startHead, next < 0 ? body.length : next);
    const blank = part.indexOf('\r\n\r\n');
    const blankLf = blank < 0 ? part.indexOf('\n\n') : -1;
    const headEnd = blank >= 0 ? blank : blankLf;
    if (headEnd >= 0) {
      const heads = part.slice(0, headEnd).toLowerCase();
      if (heads.includes('application/sdp')) return part.slice(headEnd + (blank >= 0 ? 4 : 2));
    }
    i = next;
  }
  return undefined;
}

function sdpOf(m: SipMessage, v: Buffer): SdpSummary | undefined {
  if (m.bodyLen === 0) return undefined;
  const type = mediaType(m.contentType);
  if (type === 'application/sdp') return summarizeSdp(v.toString('latin1', m.bodyOff, m.bodyOff + m.bodyLen));
  if (type.startsWith('multipart/')) {
    const boundary = boundaryOf(m.contentType!);
    if (boundary === undefined) return undefined;
    const part = sdpPart(v.toString('latin1', m.bodyOff, m.bodyOff + m.bodyLen), boundary);
    return part === undefined ? undefined : summarizeSdp(part);
  }
  return undefined;
}

// --- per-flow state ------------------------------------------------------------------------

interface SdpSide {
  from: 'orig' | 'resp';
  cseq: number;
  request: boolean;
  ts: number;
  sdp: SdpSummary;
}

interface SipDialog {
  call_id: string;
  from?: string;
  from_tag?: string;
  to?: string;
  to_tag?: string;
  methods: string[];
  invite_status?: number;
  bye: boolean;
  offer?: SdpSide;
  answer?: SdpSide;
  sdp_bodies: number;
}

interface SipDirection {
  /** Bytes of a message split across segments (null until one is; no storage between messages). */
  buf: StreamBuffer | null;
  /** TCP: a payload of this direction was fed (a gap before the first one loses no framing). */
  fed: boolean;
  /** Body bytes still to skip (a body larger than MAX_BODY). */
  skip: number;
  /** What parseSipMessage already knows about the message at the buffer's front. */
  scanned: number;
  need: number;
  /** Framing lost: wait for a segment that starts with a start line. */
  lost: boolean;
  /** WebSocket: the HTTP Upgrade head of this direction is behind us. */
  upgraded: boolean;
  /** WebSocket: a fragmented message being collected (null when none is). */
  fragments: Buffer[] | null;
  fragmentBytes: number;
}

/**
 * One message of the flow's first MAX_LOGGED, as the state keeps it: every field in the object
 * from the start (one fixed shape; fields added later would each grow a property array), absent
 * ones undefined or -1. `finish` turns it into the SipLogEntry the record lists.
 */
class SipLogRow {
  constructor(
    readonly fromOrig: boolean,
    readonly ts: number,
    readonly line: string,
    readonly cseq: string | undefined,
    readonly callId: string | undefined,
    readonly via: string | undefined,
    readonly contentType: string | undefined,
    readonly contentLength: number,
  ) {}
}

/** One message as app_detail lists it: the start line and the headers that identify it. */
interface SipLogEntry {
  from: 'orig' | 'resp';
  ts: number;
  line: string;
  cseq?: string;
  call_id?: string;
  via?: string;
  content_type?: string;
  content_length?: number;
}

export interface SipState {
  transport: 'udp' | 'tcp' | 'websocket';
  log: SipLogRow[];
  /** TCP and WebSocket stream state per direction (0 orig, 1 resp), made at its first payload. */
  dirs: [SipDirection | null, SipDirection | null];
  messages: number;
  /**
   * Messages per request method (a string key) and per response status (a number key), as
   * key, count pairs in the order first seen: one small array instead of two Maps.
   */
  tallies: (string | number)[];
  firstLine?: string;
  userAgent?: string;
  server?: string;
  dialogs: SipDialog[];
  dialogsDropped: number;
  findings: Finding[];
  findingsDropped: number;
  /** The responses reported as findings (null until the first). */
  findingKeys: Set<string> | null;
  keepalives: number;
  invalid: number;
  truncated: number;
  skippedBodies: number;
  resyncs: number;
  wsFrames: number;
  wsCompressed: number;
}

function newDirection(): SipDirection {
  return {
    buf: null,
    fed: false,
    skip: 0,
    scanned: 0,
    need: 0,
    lost: false,
    upgraded: false,
    fragments: null,
    fragmentBytes: 0,
  };
}

/**
 * `a` with `x` appended, as a new array of exactly the length it needs. The per-flow lists grow
 * by one now and then and live as long as the flow: a push would give each of them room for 17
 * elements (V8 grows a backing store by half plus 16), which for a flow's two or three dialogs,
 * methods and messages is most of what the list costs.
 */
function appended<T>(a: T[], x: T): T[] {
  return a.concat([x]);
}

/** Counts `key` in the tallies; a new key only while its kind (method or status) has fewer than MAX_COUNTS. */
function count(s: SipState, key: string | number): void {
  const t = s.tallies;
  let kinds = 0;
  for (let i = 0; i < t.length; i += 2) {
    if (t[i] === key) {
      t[i + 1] = (t[i + 1] as number) + 1;
      return;
    }
    if (typeof t[i] === typeof key) kinds++;
  }
  if (kinds < MAX_COUNTS) s.tallies = t.concat([key, 1]);
}

/** A string equal to `text` that the flow's dialogs hold already (From, To and tags repeat), else `text`. */
function dialogString(s: SipState, text: string): string {
  for (const d of s.dialogs) {
    if (d.from === text) return d.from;
    if (d.to === text) return d.to;
    if (d.from_tag === text) return d.from_tag;
    if (d.to_tag === text) return d.to_tag;
  }
  return text;
}

/** A string equal to `text` that the flow's log rows hold already (Via and CSeq repeat in responses), else `text`. */
function logString(s: SipState, text: string): string {
  for (const r of s.log) {
    if (r.via === text) return r.via;
    if (r.cseq === text) return r.cseq;
    if (r.line === text) return r.line;
  }
  return text;
}

function dialogFor(s: SipState, m: SipMessage): SipDialog | undefined {
  if (m.callId === undefined) return undefined;
  const id = shortString(m.callId, 128);
  for (const d of s.dialogs) if (d.call_id === id) return d;
  if (s.dialogs.length >= MAX_DIALOGS) {
    s.dialogsDropped++;
    return undefined;
  }
  const d: SipDialog = { call_id: id, methods: [], bye: false, sdp_bodies: 0 };
  s.dialogs = appended(s.dialogs, d);
  return d;
}

function errorSeverity(status: number, method: string): Finding['severity'] {
  // Authentication challenges (section 22) and the 487 that answers a CANCEL are routine.
  if (status === 401 || status === 407) return 'info';
  if (status === 487 && method.toUpperCase() === 'INVITE') return 'info';
  return 'warning';
}

function addErrorFinding(s: SipState, m: SipMessage, ts: number, fromOrig: boolean): void {
  const key = `${m.callId ?? ''}|${m.cseqNum}|${m.cseqMethod}|${m.status}`;
  if (s.findingKeys?.has(key) === true) return;
  if (s.findings.length >= MAX_FINDINGS) {
    s.findingsDropped++;
    return;
  }
  (s.findingKeys ??= new Set()).add(key);
  const method = shortString(m.cseqMethod, 32);
  const reason = shortString(m.reason, 96);
  const detail: Record<string, unknown> = {
    status: m.status,
    reason,
    method,
    from: fromOrig ? 'orig' : 'resp',
  };
  if (m.callId !== undefined) detail.call_id = shortString(m.callId, 128);
  if (m.diagnostics !== undefined) detail.ms_diagnostics = shortString(m.diagnostics, 256);
  if (m.warning !== undefined) detail.warning = shortString(m.warning, 256);
  s.findings.push({
    kind: 'sip-error-response',
    severity: errorSeverity(m.status, m.cseqMethod),
    message: `SIP ${m.status} ${reason} to ${method || 'request'}${
      m.diagnostics !== undefined ? ` (${shortString(m.diagnostics, 120)})` : ''
    }`,
    ts,
    detail,
  });
}

function recordSdp(d: SipDialog, m: SipMessage, sdp: SdpSummary, fromOrig: boolean, ts: number): void {
  const from = fromOrig ? 'orig' : 'resp';
  const side: SdpSide = { from, cseq: m.cseqNum, request: m.request, ts, sdp };
  const same = (x: SdpSide | undefined): boolean =>
    x !== undefined && x.from === from && x.cseq === m.cseqNum && x.request === m.request;
  // A retransmission (UDP, section 17) repeats the same CSeq from the same side: nothing new.
  if (same(d.offer) || same(d.answer)) return;
  d.sdp_bodies++;
  // RFC 3264 section 4: the SDP from the other side after an offer is its answer; anything else starts a new exchange.
  if (d.offer !== undefined && d.answer === undefined && d.offer.from !== from) d.answer = side;
  else {
    d.offer = side;
    d.answer = undefined;
  }
}

/**
 * The request methods of RFC 3261 and its extensions (RFC 3262, 3265, 3311, 3428, 3515, 3903,
 * 6086), each held once however many flows and dialogs name it.
 */
const METHODS = new Map(
  [
    'INVITE',
    'ACK',
    'BYE',
    'CANCEL',
    'OPTIONS',
    'REGISTER',
    'PRACK',
    'SUBSCRIBE',
    'NOTIFY',
    'PUBLISH',
    'INFO',
    'REFER',
    'MESSAGE',
    'UPDATE',
    'SERVICE',
    'NEGOTIATE',
    'BENOTIFY',
  ].map((m) => [m, m]),
);

/** A method name for the state: bounded, and the one shared string when it is a known method. */
function methodName(method: string): string {
  return METHODS.get(method) ?? shortString(method, 32);
}

/** The start line as reported; a status line ("200 OK") is held once across flows. */
function startLine(m: SipMessage): string {
  return m.request
    ? shortString(`${m.method} ${m.uri}`, 128)
    : commonString(shortString(`${m.status} ${m.reason}`, 128));
}

/**
 * The log row of a message; `line` is its start line, and `d` its dialog, whose Call-ID string
 * the row shares when the two cuts are the same (a Call-ID of at most 64 characters).
 */
function logRow(
  s: SipState,
  m: SipMessage,
  ctx: PacketContext,
  line: string,
  d: SipDialog | undefined,
): SipLogRow {
  let callId: string | undefined;
  if (m.callId !== undefined)
    callId = d !== undefined && m.callId.length <= 64 ? d.call_id : shortString(m.callId, 64);
  return new SipLogRow(
    ctx.fromOrig,
    ctx.ts,
    line,
    m.cseqNum >= 0 ? logString(s, shortString(`${m.cseqNum} ${m.cseqMethod}`, 48)) : undefined,
    callId,
    m.via !== undefined ? logString(s, shortString(m.via, 96)) : undefined,
    m.contentType !== undefined ? commonString(shortString(m.contentType, 64)) : undefined,
    m.contentLength,
  );
}

function logEntry(r: SipLogRow): SipLogEntry {
  const e: SipLogEntry = { from: r.fromOrig ? 'orig' : 'resp', ts: r.ts, line: r.line };
  if (r.cseq !== undefined) e.cseq = r.cseq;
  if (r.callId !== undefined) e.call_id = r.callId;
  if (r.via !== undefined) e.via = r.via;
  if (r.contentType !== undefined) e.content_type = r.contentType;
  if (r.contentLength >= 0) e.content_length = r.contentLength;
  return e;
}

function handleMessage(s: SipState, m: SipMessage, v: Buffer, ctx: PacketContext): void {
  s.messages++;
  const logged = s.log.length < MAX_LOGGED;
  const line = logged || s.firstLine === undefined ? startLine(m) : '';
  // The first message is also the first logged: first_line is the same string.
  if (s.firstLine === undefined) s.firstLine = line;
  const d = dialogFor(s, m);
  if (logged) s.log = appended(s.log, logRow(s, m, ctx, line, d));
  if (m.truncated) s.truncated++;
  if (m.bodySkipped > 0) s.skippedBodies++;
  count(s, m.request ? methodName(m.method) : m.status);
  if (m.userAgent !== undefined && s.userAgent === undefined) s.userAgent = shortString(m.userAgent, 128);
  if (m.server !== undefined && s.server === undefined) s.server = shortString(m.server, 128);
  if (d !== undefined) {
    const method = methodName(m.request ? m.method : m.cseqMethod);
    if (method.length > 0 && d.methods.length < MAX_METHODS_PER_DIALOG && !d.methods.includes(method))
      d.methods = appended(d.methods, method);
    if (d.from === undefined && m.from !== undefined) d.from = dialogString(s, shortString(m.from, 128));
    if (d.to === undefined && m.to !== undefined) d.to = dialogString(s, shortString(m.to, 128));
    if (d.from_tag === undefined && m.fromTag !== undefined)
      d.from_tag = dialogString(s, shortString(m.fromTag, 64));
    if (d.to_tag === undefined && m.toTag !== undefined) d.to_tag = dialogString(s, shortString(m.toTag, 64));
    if (!m.request && m.status >= 200 && m.cseqMethod.toUpperCase() === 'INVITE') d.invite_status = m.status;
    if (m.request && m.method === 'BYE') d.bye = true;
    const sdp = sdpOf(m, v);
    if (sdp !== undefined) recordSdp(d, m, sdp, ctx.fromOrig, ctx.ts);
  }
  if (!m.request && m.status >= 400) addErrorFinding(s, m, ctx.ts, ctx.fromOrig);
}

const parsed: ParseOut = { msg: newMessage(), need: 0, scanned: 0 };

/** A datagram or WebSocket message: one or more whole messages, keep-alives around them. */
function feedWhole(s: SipState, v: Buffer, ctx: PacketContext): void {
  let p = 0;
  while (p < v.length) {
    const q = skipCrlf(v, p, v.length);
    if (q > p) s.keepalives++;
    p = q;
    if (p >= v.length) return;
    const rest = v.subarray(p);
    parsed.scanned = 0;
    const n = parseSipMessage(rest, false, parsed);
    if (n <= 0) {
      s.invalid++;
      return;
    }
    handleMessage(s, parsed.msg, rest, ctx);
    p += Math.min(n, rest.length);
  }
}

/**
 * Parses the complete messages at the front of `view` (the direction's stream from a message
 * boundary on) and returns how many bytes of it are done with: all of them, but for an
 * incomplete message at the end (whose progress goes into `d.scanned` / `d.need`).
 */
function parseFront(s: SipState, d: SipDirection, view: Buffer, ctx: PacketContext): number {
  let pos = 0;
  for (;;) {
    const q = skipCrlf(view, pos, view.length);
    if (q > pos) {
      s.keepalives++;
      pos = q;
      continue;
    }
    const v = pos === 0 ? view : view.subarray(pos);
    if (v.length === 0 || v.length < d.need) return pos;
    parsed.scanned = d.scanned;
    const n = parseSipMessage(v, true, parsed);
    if (n === NEED_MORE) {
      d.scanned = parsed.scanned;
      d.need = parsed.need;
      return pos;
    }
    d.scanned = 0;
    d.need = 0;
    if (n === INVALID) {
      s.invalid++;
      d.lost = true;
      return view.length;
    }
    handleMessage(s, parsed.msg, v, ctx);
    if (n > v.length) {
      d.skip = n - v.length;
      return view.length;
    }
    pos += n;
  }
}

/**
 * TCP: parses every complete message of the stream, the bytes of an incomplete one kept in the
 * direction's buffer until the rest arrives. A segment that starts at a message boundary with
 * nothing buffered (most of them) is parsed where it is: the buffer gets storage only for a
 * message split across segments, and gives it back as soon as that message is complete, so a
 * live flow between messages holds no stream bytes.
 */
/** More than STREAM_LIMIT bytes without a complete message: not SIP framing, lost until a start line. */
function overflowed(s: SipState, d: SipDirection, buf: StreamBuffer): void {
  buf.clear();
  d.scanned = 0;
  d.need = 0;
  d.lost = true;
  s.invalid++;
}

function feedStream(s: SipState, d: SipDirection, p: Payload, ctx: PacketContext): void {
  let off = p.offset;
  let len = p.length;
  // Missing bytes after the direction's first payload: framing is lost until a message starts.
  if (ctx.gap && d.fed) {
    d.buf?.clear();
    d.skip = 0;
    d.scanned = 0;
    d.need = 0;
    d.lost = true;
  }
  d.fed = true;
  if (d.skip > 0) {
    const k = Math.min(d.skip, len);
    d.skip -= k;
    off += k;
    len -= k;
    if (len === 0) return;
  }
  if (d.lost) {
    // Resynchronise at a segment that starts with a start line (after optional CRLFs).
    const q = skipCrlf(p.buf, off, off + len);
    if (q >= off + len || startLineEnd(p.buf, q, off + len) < 0) return;
    d.lost = false;
    s.resyncs++;
    len -= q - off;
    off = q;
  }
  const buffered = d.buf !== null && d.buf.length > 0;
  if (!buffered && len <= STREAM_LIMIT) {
    const view = p.buf.subarray(off, off + len);
    const done = parseFront(s, d, view, ctx);
    if (done < len && !(d.buf ??= new StreamBuffer(STREAM_LIMIT)).append(view, done, len - done))
      overflowed(s, d, d.buf);
    return;
  }
  if (d.buf === null) d.buf = new StreamBuffer(STREAM_LIMIT);
  if (!d.buf.append(p.buf, off, len)) {
    overflowed(s, d, d.buf);
    return;
  }
  const done = parseFront(s, d, d.buf.view(), ctx);
  if (done >= d.buf.length) d.buf.clear();
  else d.buf.consume(done);
}

/** RFC 6455 section 5.2 frames after the Upgrade; each complete text/binary message is SIP. */
function feedWebSocket(s: SipState, d: SipDirection, p: Payload, ctx: PacketContext): void {
  if (d.buf === null) d.buf = new StreamBuffer(STREAM_LIMIT);
  if (ctx.gap) {
    d.buf.clear();
    d.lost = true;
  }
  if (d.lost) return;
  if (!d.buf.append(p.buf, p.offset, p.length)) {
    d.buf.clear();
    d.lost = true;
    return;
  }
  if (!d.upgraded) {
    const view = d.buf.view();
    const end = headerEnd(view.length > 8192 ? view.subarray(0, 8192) : view);
    if (end < 0) {
      if (view.length > 8192) d.lost = true;
      return;
    }
    d.upgraded = true;
    d.buf.consume(end);
  }
  for (;;) {
    const v = d.buf.view();
    if (v.length < 2) return;
    const b0 = v[0];
    const b1 = v[1];
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (v.length < 4) return;
      len = (v[2] << 8) | v[3];
      h = 4;
    } else if (len === 127) {
      if (v.length < 10) return;
      if (v.readUInt32BE(2) !== 0) {
        d.lost = true;
        return;
      }
      len = v.readUInt32BE(6);
      h = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const keyAt = h;
    if (masked) h += 4;
    if (h + len > STREAM_LIMIT) {
      d.lost = true;
      d.buf.clear();
      return;
    }
    if (v.length < h + len) return;
    s.wsFrames++;
    const opcode = b0 & 0x0f;
    if (opcode <= 2) {
      const data = Buffer.from(v.subarray(h, h + len));
      if (masked) for (let i = 0; i < len; i++) data[i] ^= v[keyAt + (i & 3)];
      if ((b0 & 0x40) !== 0) s.wsCompressed++;
      else if (d.fragmentBytes + len <= MAX_HEADER + MAX_BODY) {
        if (opcode !== 0) {
          d.fragments = null;
          d.fragmentBytes = 0;
        }
        const fragments = (d.fragments ??= []);
        fragments.push(data);
        d.fragmentBytes += len;
        if ((b0 & 0x80) !== 0) {
          d.fragments = null;
          d.fragmentBytes = 0;
          feedWhole(s, fragments.length === 1 ? fragments[0] : Buffer.concat(fragments), ctx);
        }
      }
    }
    d.buf.consume(h + len);
  }
}

function sideDetail(x: SdpSide | undefined): Record<string, unknown> | undefined {
  if (x === undefined) return undefined;
  return { from: x.from, in: x.request ? 'request' : 'response', cseq: x.cseq, ts: x.ts, ...x.sdp };
}

function dialogDetail(d: SipDialog): Record<string, unknown> {
  const { offer, answer, ...rest } = d;
  const out: Record<string, unknown> = { ...rest };
  if (offer !== undefined) out.offer = sideDetail(offer);
  if (answer !== undefined) out.answer = sideDetail(answer);
  return out;
}

export const sip: Recognizer<SipState> = {
  app: 'sip',
  transports: ['udp', 'tcp'],

  detect(p: Payload, ctx: PacketContext): number {
    const end = p.offset + p.length;
    const q = skipCrlf(p.buf, p.offset, end);
    if (q < end && startLineEnd(p.buf, q, end) >= 0) return 0.95;
    // Above HTTP's 0.9: an Upgrade to WebSocket for SIP is SIP's flow.
    if (ctx.transport === 'tcp' && sipWebSocketUpgrade(p.buf, p.offset, end)) return 0.95;
    return 0;
  },

  start(ctx: PacketContext): SipState {
    return {
      transport: ctx.transport,
      log: [],
      dirs: [null, null],
      messages: 0,
      tallies: [],
      dialogs: [],
      dialogsDropped: 0,
      findings: [],
      findingsDropped: 0,
      findingKeys: null,
      keepalives: 0,
      invalid: 0,
      truncated: 0,
      skippedBodies: 0,
      resyncs: 0,
      wsFrames: 0,
      wsCompressed: 0,
    };
  },

  feed(s: SipState, p: Payload, ctx: PacketContext): boolean {
    if (s.transport === 'tcp' && s.messages === 0 && s.wsFrames === 0 && ctx.fromOrig) {
      if (sipWebSocketUpgrade(p.buf, p.offset, p.offset + p.length)) s.transport = 'websocket';
    }
    if (s.transport === 'udp') feedWhole(s, p.buf.subarray(p.offset, p.offset + p.length), ctx);
    else {
      const i = ctx.fromOrig ? 0 : 1;
      const d = (s.dirs[i] ??= newDirection());
      if (s.transport === 'websocket') feedWebSocket(s, d, p, ctx);
      else feedStream(s, d, p, ctx);
    }
    if (s.messages < MAX_MESSAGES) return true;
    // Done looking: the stream state and its buffers go now, not when the flow ends.
    s.dirs[0] = s.dirs[1] = null;
    return false;
  },

  finish(s: SipState, end: FlowEnd): AppResult {
    void end;
    if (s.messages === 0) return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
    const requests: Record<string, number> = {};
    const responses: Record<string, number> = {};
    const t = s.tallies;
    for (let i = 0; i < t.length; i += 2) {
      const k = t[i];
      if (typeof k === 'string') requests[k] = t[i + 1] as number;
      else responses[String(k)] = t[i + 1] as number;
    }
    const detail: Record<string, unknown> = {
      transport: s.transport,
      messages: s.messages,
      first_line: s.firstLine,
      requests,
      responses,
    };
    if (s.userAgent !== undefined) detail.user_agent = s.userAgent;
    if (s.server !== undefined) detail.server = s.server;
    if (s.dialogs.length > 0) detail.dialogs = s.dialogs.map(dialogDetail);
    detail.first_messages = s.log.map(logEntry);
    if (s.dialogsDropped > 0) detail.dialogs_dropped_messages = s.dialogsDropped;
    if (s.keepalives > 0) detail.keepalives = s.keepalives;
    if (s.invalid > 0) detail.unparsed = s.invalid;
    if (s.truncated > 0) detail.truncated = s.truncated;
    if (s.skippedBodies > 0) detail.skipped_bodies = s.skippedBodies;
    if (s.resyncs > 0) detail.resyncs = s.resyncs;
    if (s.wsCompressed > 0) detail.websocket_compressed = s.wsCompressed;
    const findings = [...s.findings];
    if (s.findingsDropped > 0)
      findings.push({
        kind: 'sip-error-response',
        severity: 'warning',
        message: `${s.findingsDropped} more SIP error responses`,
        detail: { count: s.findingsDropped },
      });
    // Parsed messages and nothing unparseable: certain; some garbage in between: less so.
    const confidence = s.invalid === 0 ? 0.97 : s.messages > s.invalid ? 0.85 : 0.6;
    return { app: 'sip', confidence, detail, findings };
  },
};
