/**
 * MS-TURN over TCP 443 to the Lync / OCS A/V Edge: media relay that only looks like TLS.
 *
 * The client opens with a fixed fake TLS 1.0 ClientHello (record `16 03 01 00 2d`, one cipher
 * suite 0x0018 TLS_DH_anon_WITH_RC4_128_MD5, null compression, no extensions); the Edge answers
 * with a fixed record (`16 03 01 00 4e`) holding a ServerHello (32-byte random, zero in the
 * captures libnice was written against, a 32-byte session id, suite 0x0018) and an empty
 * ServerHelloDone. No key exchange follows: from then on each message is framed by a 4-byte
 * header, type 0x02 (TURN control: an MS-TURN message) or 0x03 (end-to-end data), a zero byte,
 * and a 16-bit big-endian length.
 *
 * Sources: [MS-TURN] (learn.microsoft.com/openspecs/office_protocols/ms-turn) for the TURN
 * messages; the byte layout of the pseudo handshake and the framing is documented by libnice's
 * implementation of it, `socket/pseudossl.c` (the "MSOC" handshake) and
 * `socket/udp-turn-over-tcp.c` (the OC2007 framing). No public capture of it exists, so the tests
 * build it byte by byte from that description.
 *
 * A plain TLS recognizer would call this HTTPS; it is media, so we claim it more confidently.
 * Control frames are decoded with the STUN / MS-TURN parser (stun.ts): methods, classes, requests
 * without a response, error responses. Work is bounded: data frame bodies are skipped, control
 * bodies gathered up to MAX_CONTROL bytes, and at most MAX_MESSAGES framed messages counted.
 */
import { StreamBuffer } from './stream.js';
import {
  addStunMessage,
  newStunMessage,
  newStunStats,
  parseStun,
  stunDetail,
  stunFindings,
  type StunStats,
} from './stun.js';
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';
import { recordHeaderValid } from './tls.js';

/** Wildcard in a template: matches every byte value. */
const ANY = -1;

function template(parts: (number[] | [typeof ANY, number])[]): Int16Array {
  const out: number[] = [];
  for (const part of parts) {
    if (part[0] === ANY && part.length === 2) for (let k = 0; k < part[1]; k++) out.push(ANY);
    else out.push(...part);
  }
  return Int16Array.from(out);
}

/** RFC 5246 section 7.4.1.2 ClientHello as the pseudo-TLS client sends it: 5 + 45 bytes. */
const CLIENT_HELLO = template([
  [0x16, 0x03, 0x01, 0x00, 0x2d], // record: handshake, TLS 1.0, 45 bytes
  [0x01, 0x00, 0x00, 0x29], // client_hello, 41 bytes
  [0x03, 0x01], // client_version TLS 1.0
  [ANY, 32], // random
  [0x00], // session_id: empty
  [0x00, 0x02, 0x00, 0x18], // one cipher suite, 0x0018
  [0x01, 0x00], // one compression method, null; no extensions
]);

/** The Edge's answer: ServerHello (4 + 70 bytes) and ServerHelloDone (4 bytes) in one 78-byte record. */
const SERVER_HELLO = template([
  [0x16, 0x03, 0x01, 0x00, 0x4e], // record: handshake, TLS 1.0, 78 bytes
  [0x02, 0x00, 0x00, 0x46], // server_hello, 70 bytes
  [0x03, 0x01], // server_version TLS 1.0
  [ANY, 32], // random (all zero from the Edge)
  [0x20], // session_id: 32 bytes
  [ANY, 32],
  [0x00, 0x18], // cipher suite 0x0018
  [0x00], // null compression
  [0x0e, 0x00, 0x00, 0x00], // server_hello_done, empty
]);

const RANDOM_START = 11;
const RANDOM_END = 43;

/** The 0x02 / 0x03 frame types (libnice MS_TURN_CONTROL_MESSAGE, MS_TURN_END_TO_END_DATA). */
const FRAME_CONTROL = 0x02;
const FRAME_DATA = 0x03;
/** Framed messages counted per flow before we stop looking. */
const MAX_MESSAGES = 4096;
/** Longest control message decoded (longer ones are counted only). */
const MAX_CONTROL = 2048;
/** One parse target reused for every control message (stun.ts fills it in place). */
const SCRATCH = newStunMessage();

/** Whether the payload's bytes agree with the template from its start (as far as both go). */
function matchesFromStart(p: Payload, t: Int16Array): boolean {
  const n = Math.min(p.length, t.length);
  for (let k = 0; k < n; k++) if (t[k] !== ANY && p.buf[p.offset + k] !== t[k]) return false;
  return true;
}

/** 0.97 for a whole pseudo hello, 0.92 for its first 11+ bytes (a hello cut across segments). */
export function msTurnTcpScore(p: Payload): number {
  for (const t of [CLIENT_HELLO, SERVER_HELLO]) {
    if (p.length < 11 || !matchesFromStart(p, t)) continue;
    return p.length >= t.length ? 0.97 : 0.92;
  }
  return 0;
}

interface Side {
  seen: boolean;
  /** Bytes of the pseudo hello matched so far, and whether they all matched. */
  helloMatched: number;
  helloOk: boolean;
  /** This side's first bytes were a valid TLS record header. */
  firstLooksTls: boolean;
  /** The hello bytes at the start of this side did not match: what came instead. */
  other?: 'tls' | 'other';
  randomZero: boolean;
  hdr: Uint8Array;
  hdrLength: number;
  left: number;
  /** The control frame being gathered (equal to `control` while its body is collected), else -1. */
  controlBodies: number;
  body: StreamBuffer;
  control: number;
  data: number;
  bytes: number;
  framingError: boolean;
}

export interface MsTurnTcpState {
  orig: Side;
  resp: Side;
  messages: number;
  capped: boolean;
  gaps: number;
  /** Which side sent the pseudo ClientHello (normally the originator). */
  clientIsOrig: boolean;
  /** The control messages, decoded by the STUN / MS-TURN parser. */
  turn: StunStats;
  undecodedControl: number;
}

function newSide(): Side {
  return {
    seen: false,
    helloMatched: 0,
    helloOk: true,
    firstLooksTls: false,
    randomZero: true,
    // A small typed array lives inside the JS heap: no ArrayBuffer, no pinned slice of Node's buffer pool.
    hdr: new Uint8Array(4),
    hdrLength: 0,
    left: 0,
    controlBodies: -1,
    body: new StreamBuffer(MAX_CONTROL),
    control: 0,
    data: 0,
    bytes: 0,
    framingError: false,
  };
}

/** Matches hello bytes against the template; returns how many payload bytes it used. */
function feedHello(
  side: Side,
  t: Int16Array,
  b: Buffer,
  off: number,
  len: number,
  isServer: boolean,
): number {
  const n = Math.min(len, t.length - side.helloMatched);
  for (let k = 0; k < n; k++) {
    const at = side.helloMatched + k;
    const v = b[off + k];
    if (t[at] !== ANY && v !== t[at]) {
      side.helloOk = false;
      side.other = side.firstLooksTls ? 'tls' : 'other';
      return len;
    }
    if (isServer && at >= RANDOM_START && at < RANDOM_END && v !== 0) side.randomZero = false;
  }
  side.helloMatched += n;
  return n;
}

/** The 4-byte framing after the handshake: type, zero, u16 length, then `length` bytes. */
function feedFrames(
  s: MsTurnTcpState,
  side: Side,
  b: Buffer,
  off: number,
  len: number,
  fromOrig: boolean,
  ts: number,
): void {
  const end = off + len;
  let i = off;
  while (i < end && !side.framingError && !s.capped) {
    if (side.left > 0) {
      const n = Math.min(side.left, end - i);
      // A control frame's body is gathered (bounded) and decoded as one MS-TURN message.
      if (side.control === side.controlBodies) side.body.append(b, i, n);
      side.left -= n;
      i += n;
      if (side.left === 0 && side.control === side.controlBodies) decodeControl(s, side, fromOrig, ts);
      continue;
    }
    while (side.hdrLength < 4 && i < end) side.hdr[side.hdrLength++] = b[i++];
    if (side.hdrLength < 4) return;
    side.hdrLength = 0;
    const type = side.hdr[0];
    if ((type !== FRAME_CONTROL && type !== FRAME_DATA) || side.hdr[1] !== 0) {
      side.framingError = true;
      return;
    }
    const length = (side.hdr[2] << 8) | side.hdr[3];
    if (type === FRAME_CONTROL) {
      side.control++;
      // Gather the body when it is small enough (MS-TURN control messages are a few hundred bytes).
      side.body.clear();
      if (length <= MAX_CONTROL && length > 0) side.controlBodies = side.control;
    } else side.data++;
    side.bytes += length;
    side.left = length;
    if (++s.messages >= MAX_MESSAGES) s.capped = true;
  }
}

/** One gathered control frame: an MS-TURN / STUN message (stun.ts), added to the flow's TURN statistics. */
function decodeControl(s: MsTurnTcpState, side: Side, fromOrig: boolean, ts: number): void {
  const v = side.body.view();
  side.controlBodies = -1;
  if (parseStun(v, 0, v.length, true, SCRATCH)) addStunMessage(s.turn, v, 0, SCRATCH, fromOrig, ts);
  else s.undecodedControl++;
  side.body.clear();
}

function feed(s: MsTurnTcpState, p: Payload, ctx: PacketContext): boolean {
  const side = ctx.fromOrig ? s.orig : s.resp;
  let off = p.offset;
  let len = p.length;
  if (!side.seen) {
    side.seen = true;
    side.firstLooksTls = p.length >= 5 && recordHeaderValid(p.buf, p.offset);
    // Whoever sends the server's hello is the Edge (the flow may have been picked up mid-way).
    if (p.length >= 11 && matchesFromStart(p, SERVER_HELLO)) s.clientIsOrig = !ctx.fromOrig;
  } else if (ctx.gap) {
    s.gaps++;
    side.hdrLength = 0;
    side.left = 0;
    side.controlBodies = -1;
    // A frame header at the start of the payload lets us go on; otherwise stop counting this side.
    const t = p.buf[p.offset];
    side.framingError = !(
      p.length >= 4 &&
      (t === FRAME_CONTROL || t === FRAME_DATA) &&
      p.buf[p.offset + 1] === 0
    );
  }
  const isServer = ctx.fromOrig !== s.clientIsOrig;
  const t = isServer ? SERVER_HELLO : CLIENT_HELLO;
  if (side.helloOk && side.helloMatched < t.length) {
    const used = feedHello(side, t, p.buf, off, len, isServer);
    off += used;
    len -= used;
  }
  if (side.helloOk && side.helloMatched === t.length && len > 0)
    feedFrames(s, side, p.buf, off, len, ctx.fromOrig, ctx.ts);
  if (s.capped) return false;
  const done = (x: Side): boolean => !x.helloOk || x.framingError;
  return !(done(s.orig) && done(s.resp));
}

function ending(connState: string): string {
  if (connState === 'RSTR' || connState === 'RSTRH') return 'the server reset the connection';
  if (connState === 'RSTO' || connState === 'RSTOS0') return 'the client reset the connection';
  if (
    connState === 'SF' ||
    connState === 'S2' ||
    connState === 'S3' ||
    connState === 'SH' ||
    connState === 'SHR'
  )
    return 'the connection was closed';
  return 'no answer came before the flow ended';
}

function finish(s: MsTurnTcpState, end: FlowEnd): AppResult {
  const client = s.clientIsOrig ? s.orig : s.resp;
  const server = s.clientIsOrig ? s.resp : s.orig;
  const clientHello = client.helloOk && client.helloMatched === CLIENT_HELLO.length;
  const serverHello = server.helloOk && server.helloMatched === SERVER_HELLO.length;
  if (!clientHello && !serverHello) return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
  const detail: Record<string, unknown> = {
    handshake: 'pseudo-tls',
    client_hello: clientHello,
    server_hello: serverHello,
    cipher_suite: 'TLS_DH_anon_WITH_RC4_128_MD5',
  };
  if (serverHello) detail.server_random_zero = server.randomZero;
  const side = (x: Side): Record<string, number> => ({ control: x.control, data: x.data, bytes: x.bytes });
  detail.messages = { client: side(client), server: side(server) };
  if (client.framingError || server.framingError)
    detail.framing_error = client.framingError ? (server.framingError ? 'both' : 'client') : 'server';
  if (s.turn.messages > 0) detail.turn = stunDetail(s.turn);
  if (s.undecodedControl > 0) detail.undecoded_control = s.undecodedControl;
  if (s.capped) detail.counted_first = MAX_MESSAGES;
  if (s.gaps > 0) detail.gaps = true;

  const findings: Finding[] = [];
  const serverPort = s.clientIsOrig ? end.respPort : end.origPort;
  // Silence cut short by the end of the capture proves nothing (the answer may not have been captured).
  const cutByCaptureEnd =
    server.other === undefined &&
    ending(end.connState).startsWith('no answer') &&
    end.endReason === 'end-of-capture';
  if (cutByCaptureEnd) detail.capture_ended_during_handshake = true;
  if (clientHello && !serverHello && !cutByCaptureEnd) {
    let message: string;
    const fd: Record<string, unknown> = { conn_state: end.connState, port: serverPort };
    if (server.other !== undefined) {
      fd.reason = server.other === 'tls' ? 'real-tls-answer' : 'other-answer';
      message =
        server.other === 'tls'
          ? `MS-TURN over TCP ${serverPort}: the server answered the pseudo-TLS hello with a real TLS handshake; this port does not lead to an A/V Edge relay (a web server or reverse proxy?)`
          : `MS-TURN over TCP ${serverPort}: the server answered the pseudo-TLS hello with something that is not the A/V Edge's answer`;
    } else {
      fd.reason = server.seen ? 'short-answer' : 'no-answer';
      message = `MS-TURN over TCP ${serverPort}: the A/V Edge did not answer the pseudo-TLS hello; ${ending(end.connState)}`;
    }
    findings.push({ kind: 'ms-turn-tcp-handshake-failed', severity: 'error', message, detail: fd });
  }
  findings.push(...stunFindings(s.turn));
  return { app: 'ms-turn-tcp', confidence: clientHello && serverHello ? 0.99 : 0.9, detail, findings };
}

export const msTurnTcp: Recognizer<MsTurnTcpState> = {
  app: 'ms-turn-tcp',
  transports: ['tcp'],
  detect: (p: Payload): number => msTurnTcpScore(p),
  start: (): MsTurnTcpState => ({
    orig: newSide(),
    resp: newSide(),
    messages: 0,
    capped: false,
    gaps: 0,
    clientIsOrig: true,
    turn: newStunStats(),
    undecodedControl: 0,
  }),
  feed,
  finish,
};
