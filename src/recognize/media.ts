/**
 * The media recognizer: one flow that carries any mix of STUN / TURN / MS-TURN, RTP, RTCP, DTLS
 * and ZRTP, which is what an ICE candidate pair looks like (STUN connectivity checks, then SRTP
 * and SRTCP on the same 5-tuple).
 *
 * UDP: each datagram is sorted by its first byte as RFC 7983 section 7 prescribes: 0-3 STUN,
 * 16-19 ZRTP, 20-63 DTLS, 64-79 TURN ChannelData, 128-191 RTP or RTCP (RFC 5761 section 4 splits
 * those by the second byte), plus MS-TURN's multiplexed channel 0xFF10.
 * TCP: ICE-TCP frames each packet with a 2-byte length (RFC 4571, RFC 6544 section 3); STUN and
 * TURN over TCP put messages back to back (RFC 8489 section 6.2.2, ChannelData padded to 4 bytes,
 * RFC 8656 section 12.5). Each direction's framing is found from its first bytes.
 *
 * The flow's `app` is its main protocol: 'rtp' when an RTP stream held together (RFC 3550 A.1
 * probation: consecutive sequence numbers of one SSRC), else 'rtcp', else 'stun'. `app_detail`
 * lists every protocol seen (`protocols`) and a part per protocol (stun, rtp, rtcp). Lync media
 * is SRTP with dynamic payload types (research file section 3), so nothing here depends on the
 * payload type; STUN on the same 5-tuple (ICE) raises the confidence in RTP that is otherwise thin.
 *
 * Hot path: one StunMessage and the per-flow statistics are reused; no allocation per packet.
 */
import { StreamBuffer } from './stream.js';
import {
  MS_MULTIPLEX_CHANNEL,
  STUN_COOKIE,
  MS_MAGIC_COOKIE,
  addChannelData,
  addStunMessage,
  channelDataLength,
  newStunMessage,
  newStunStats,
  parseStun,
  stunDetail,
  stunFindings,
  validChannel,
  FORMAT_RFC3489,
  type StunStats,
} from './stun.js';
import {
  addRtcp,
  addRtp,
  isRtcpType,
  newRtpStats,
  rtcpChain,
  rtcpConsistent,
  rtcpDetail,
  rtpDetail,
  rtpDirections,
  rtpHeaderLength,
  validatedStreams,
  type RtpStats,
} from './rtp.js';
import type { AppName, AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

const P_STUN = 0;
const P_RTP = 1;
const P_RTCP = 2;
const P_DTLS = 3;
const P_ZRTP = 4;
const PROTOCOL_NAMES = ['stun', 'rtp', 'rtcp', 'dtls', 'zrtp'];

/** Datagrams / frames fed without any evidence before the recognizer lets the flow go. */
const GIVE_UP_AFTER = 24;
/** Largest STUN message buffered over TCP (the 16-bit length plus header). */
const TCP_STUN_MAX = 0xffff + 20;
const TCP_BUFFER = 0x10000 + 64;

const FRAMING_UNKNOWN = 0;
const FRAMING_STUN = 1;
const FRAMING_RFC4571 = 2;
const FRAMING_LOST = 3;

interface TcpDirection {
  framing: number;
  buf: StreamBuffer;
  /** Bytes of the current frame still to skip (RTP bodies are not buffered). */
  skip: number;
  frames: number;
}

export interface MediaState {
  stun: StunStats | null;
  rtp: RtpStats | null;
  /** Packet index at which each protocol was first seen (-1: never), for the `protocols` order. */
  firstSeen: Int32Array;
  dtls: number;
  zrtp: number;
  unclassified: number;
  fed: number;
  evidence: number;
  tcp: [TcpDirection, TcpDirection] | null;
  msg: ReturnType<typeof newStunMessage>;
}

/** One StunMessage for detect (which must not allocate) across all flows. */
const detectMsg = newStunMessage();
const detectChain = new Int32Array(1);

function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** DTLS record header (RFC 9147 section 4): content type 20-26, version 0xFEFF / 0xFEFD / 0xFEFC. */
function looksDtls(b: Buffer, off: number, len: number): boolean {
  return len >= 13 && b[off] >= 20 && b[off] <= 26 && b[off + 1] === 0xfe && b[off + 2] >= 0xfc;
}

/** The first RTCP packet of a datagram: version 2, type 200-207, length within the bytes. */
function rtcpFirst(b: Buffer, off: number, len: number): boolean {
  return rtcpChain(b, off, len, detectChain) > 0;
}

// --- detect ----------------------------------------------------------------------------------

function detectDatagram(b: Buffer, off: number, len: number): number {
  if (len < 4) return 0;
  const c = b[off];
  if (c <= 3) {
    if (!parseStun(b, off, len, true, detectMsg)) return 0;
    return detectMsg.format === FORMAT_RFC3489 ? (detectMsg.attributes > 0 ? 0.7 : 0.6) : 0.95;
  }
  if (c >= 128 && c <= 191) {
    if (isRtcpType(b[off + 1])) return rtcpFirst(b, off, len) ? 0.6 : 0;
    return rtpHeaderLength(b, off, len) >= 0 ? 0.5 : 0;
  }
  if (c >= 64 && c <= 79) return channelDataLength(b, off, len, true) > 0 ? 0.5 : 0;
  if (c === 0xff && u16(b, off) === MS_MULTIPLEX_CHANNEL) {
    const total = channelDataLength(b, off, len, true);
    return total > 12 && b[off + 12] <= 3 ? 0.6 : 0;
  }
  return 0;
}

/** A STUN header at b[off] that a cookie vouches for (the message may continue in later segments). */
function stunHeaderAt(b: Buffer, off: number, len: number): boolean {
  if (len < 8 || (b[off] & 0xc0) !== 0) return false;
  if (u32(b, off + 4) === STUN_COOKIE)
    return (u16(b, off + 2) & 3) === 0 || (len >= 28 && msCookieAt(b, off));
  return len >= 28 && msCookieAt(b, off);
}

function msCookieAt(b: Buffer, off: number): boolean {
  return u16(b, off + 20) === 0x000f && u16(b, off + 22) === 4 && u32(b, off + 24) === MS_MAGIC_COOKIE;
}

/** An RFC 4571 frame at b[off] holding RTP or RTCP whose length is consistent with what follows. */
function rfc4571MediaAt(b: Buffer, off: number, len: number): boolean {
  if (len < 14) return false;
  const frame = u16(b, off);
  if (frame < 12) return false;
  const body = off + 2;
  const avail = Math.min(frame, len - 2);
  const media = isRtcpType(b[body + 1]) ? rtcpFirst(b, body, avail) : rtpHeaderLength(b, body, avail) >= 0;
  if (!media) return false;
  // The next frame, when it starts inside these bytes, must look like media too.
  const next = body + frame;
  if (next + 3 <= off + len) return b[next + 2] >= 128 && b[next + 2] <= 191;
  return true;
}

function detectStream(b: Buffer, off: number, len: number): number {
  if (stunHeaderAt(b, off, len)) return 0.9;
  // RFC 4571 framing: the STUN cookie sits two bytes later (RFC 6544; Wireshark checks offset 6).
  if (len >= 10 && u16(b, off) >= 20 && stunHeaderAt(b, off + 2, len - 2)) return 0.9;
  return rfc4571MediaAt(b, off, len) ? 0.5 : 0;
}

// --- feed ------------------------------------------------------------------------------------

function seen(s: MediaState, p: number): void {
  if (s.firstSeen[p] < 0) s.firstSeen[p] = s.fed;
}

function stunOf(s: MediaState): StunStats {
  if (s.stun === null) s.stun = newStunStats();
  return s.stun;
}

function rtpOf(s: MediaState): RtpStats {
  if (s.rtp === null) s.rtp = newRtpStats();
  return s.rtp;
}

/** One RTP packet whose header rtpHeaderLength accepted. */
function feedRtp(s: MediaState, b: Buffer, off: number, ctx: PacketContext): void {
  const st = rtpOf(s);
  // The flow's first RTP packet is when RTP was first seen (firstSeen is set by nothing else):
  // later packets need not read firstSeen, one memory access less per media packet.
  if (st.packets === 0) seen(s, P_RTP);
  addRtp(st, b, off, ctx.fromOrig, ctx);
  s.evidence++;
}

/** One datagram, or one de-framed TCP message (`datagram` false: a STUN message may be cut). */
function feedMessage(
  s: MediaState,
  b: Buffer,
  off: number,
  len: number,
  datagram: boolean,
  ctx: PacketContext,
): void {
  if (len < 1) return;
  const c = b[off];
  if (c <= 3) {
    if (parseStun(b, off, len, datagram, s.msg)) {
      addStunMessage(stunOf(s), b, off, s.msg, ctx.fromOrig, ctx.ts);
      seen(s, P_STUN);
      s.evidence++;
      return;
    }
  } else if (c >= 128 && c <= 191 && len >= 8) {
    if (isRtcpType(b[off + 1])) {
      if (addRtcp(rtpOf(s), b, off, len, ctx.fromOrig) > 0) {
        seen(s, P_RTCP);
        s.evidence++;
        return;
      }
    } else if (rtpHeaderLength(b, off, len) >= 0) {
      feedRtp(s, b, off, ctx);
      return;
    }
  } else if (c >= 20 && c <= 63) {
    if (looksDtls(b, off, len)) {
      s.dtls++;
      seen(s, P_DTLS);
      return;
    }
  } else if (c >= 16 && c <= 19) {
    // ZRTP (RFC 6189 section 5): first byte 0x10, magic cookie 'ZRTP' at bytes 4-7.
    if (len >= 12 && u32(b, off + 4) === 0x5a525450) {
      s.zrtp++;
      seen(s, P_ZRTP);
      return;
    }
  } else if ((c >= 64 && c <= 127) || c === 0xff) {
    const total = channelDataLength(b, off, len, datagram);
    if (total > 0) {
      const channel = u16(b, off);
      const inner = channel === MS_MULTIPLEX_CHANNEL ? 12 : 4;
      const dataLen = Math.min(total, len) - inner;
      addChannelData(stunOf(s), channel, b, off + inner, dataLen, ctx.fromOrig);
      // A relayed STUN message in MS-TURN's multiplexed channel still counts as STUN traffic.
      if (
        channel === MS_MULTIPLEX_CHANNEL &&
        dataLen >= 20 &&
        parseStun(b, off + inner, dataLen, true, s.msg)
      )
        addStunMessage(stunOf(s), b, off + inner, s.msg, ctx.fromOrig, ctx.ts);
      seen(s, P_STUN);
      s.evidence++;
      return;
    }
  }
  s.unclassified++;
}

/** Nothing recognisable for a while: not a media flow after all. */
function keepFeeding(s: MediaState): boolean {
  return s.evidence > 0 || s.fed < GIVE_UP_AFTER;
}

/**
 * `feed` for one UDP datagram of a media flow (what `feed` does with ctx.transport 'udp'); it
 * reads only ctx.fromOrig and ctx.ts. The app observer calls it directly for UDP media flows,
 * which are most packets of a call capture: an RTP datagram (the usual case, SRTP) goes straight
 * to the stream statistics; anything else takes feedMessage's full sort, which checks RTP again.
 * Small on purpose, so that V8 inlines it into the observer (feedMessage is too big for that).
 */
export function feedMediaDatagram(
  s: MediaState,
  b: Buffer,
  off: number,
  len: number,
  ctx: PacketContext,
): boolean {
  s.fed++;
  if (rtpHeaderLength(b, off, len) >= 0) feedRtp(s, b, off, ctx);
  else feedMessage(s, b, off, len, true, ctx);
  return keepFeeding(s);
}

function newTcpDirection(): TcpDirection {
  return { framing: FRAMING_UNKNOWN, buf: new StreamBuffer(TCP_BUFFER), skip: 0, frames: 0 };
}

/** Finds a direction's framing from its first bytes (at least 28 buffered, or what there is). */
function chooseFraming(b: Buffer, off: number, len: number): number {
  if (len >= 1 && (b[off] & 0xc0) === 0 && stunHeaderAt(b, off, len)) return FRAMING_STUN;
  if (len >= 10 && stunHeaderAt(b, off + 2, len - 2)) return FRAMING_RFC4571;
  if (rfc4571MediaAt(b, off, len)) return FRAMING_RFC4571;
  return FRAMING_LOST;
}

/** Parses whole frames off the front of a direction's buffer. */
function pumpTcp(s: MediaState, d: TcpDirection, ctx: PacketContext): void {
  for (;;) {
    const view = d.buf.view();
    const n = view.length;
    if (n === 0) return;
    if (d.framing === FRAMING_UNKNOWN) {
      if (n < 8) return;
      const f = chooseFraming(view, 0, n);
      // MS-TURN shows itself at bytes 20-27 only: with fewer bytes, wait for more before giving up.
      if (f === FRAMING_LOST && n < 28) return;
      d.framing = f;
    }
    if (d.framing === FRAMING_LOST) {
      d.buf.clear();
      return;
    }
    let header: number;
    let total: number;
    let needWhole: boolean;
    if (d.framing === FRAMING_RFC4571) {
      if (n < 2) return;
      header = 2;
      total = 2 + u16(view, 0);
      // STUN inside must be parsed whole; for RTP/RTCP the first bytes are enough.
      needWhole = n > 2 && view[2] <= 3;
    } else {
      if (n < 4) return;
      header = 0;
      const c = view[0];
      if ((c & 0xc0) === 0) {
        total = 20 + u16(view, 2);
        needWhole = true;
      } else if (validChannel(u16(view, 0))) {
        total = (4 + u16(view, 2) + 3) & ~3;
        needWhole = false;
      } else {
        d.framing = FRAMING_LOST;
        continue;
      }
    }
    if (total > TCP_STUN_MAX) {
      d.framing = FRAMING_LOST;
      continue;
    }
    const enough = needWhole ? total : Math.min(total, header + 64);
    if (n < enough) return;
    d.frames++;
    feedMessage(s, view, header, Math.min(total, n) - header, d.framing === FRAMING_RFC4571, ctx);
    if (n >= total) d.buf.consume(total);
    else {
      d.skip = total - n;
      d.buf.clear();
    }
  }
}

function feedTcp(s: MediaState, p: Payload, ctx: PacketContext): void {
  if (s.tcp === null) s.tcp = [newTcpDirection(), newTcpDirection()];
  const d = s.tcp[ctx.fromOrig ? 0 : 1];
  let off = p.offset;
  let len = p.length;
  if (ctx.gap) {
    // Bytes are missing: the frame boundary is lost; try again from this segment's start.
    d.buf.clear();
    d.skip = 0;
    if (d.framing !== FRAMING_LOST) d.framing = FRAMING_UNKNOWN;
  }
  if (d.framing === FRAMING_LOST) {
    s.unclassified++;
    return;
  }
  if (d.skip > 0) {
    const k = Math.min(d.skip, len);
    d.skip -= k;
    off += k;
    len -= k;
  }
  if (len === 0) return;
  if (!d.buf.append(p.buf, off, len)) {
    d.buf.clear();
    d.framing = FRAMING_LOST;
    return;
  }
  pumpTcp(s, d, ctx);
}

// --- finish ----------------------------------------------------------------------------------

function stunValid(s: MediaState): boolean {
  const st = s.stun;
  if (st === null) return false;
  // ChannelData alone is a weak sign (four bytes of header): want a STUN message or repeats.
  return st.messages > 0 || st.channelData >= 2;
}

function rtpVerdict(s: MediaState, stunContext: boolean): number {
  const r = s.rtp;
  if (r === null || r.packets === 0) return 0;
  const valid = validatedStreams(r);
  if (valid > 0) return r.packets >= 10 ? 0.95 : 0.85;
  // ICE context: one or two RTP packets of one or two sources on a pair that just passed STUN
  // checks are believable; many unrelated SSRCs are noise.
  if (stunContext && r.streams.length <= 2) return 0.6;
  return 0;
}

function rtcpVerdict(s: MediaState, context: boolean): number {
  const r = s.rtp;
  if (r === null || r.rtcpPackets === 0) return 0;
  if (rtcpConsistent(r)) return 0.8;
  return context ? 0.6 : 0;
}

function oneWayFinding(r: RtpStats, end: FlowEnd): Finding | undefined {
  const [o, rsp] = rtpDirections(r);
  if (o > 0 && rsp > 0) return undefined;
  if (o === 0 && rsp === 0) return undefined;
  const from = o > 0 ? 'orig' : 'resp';
  const packets = o + rsp;
  const reverseRtcp = from === 'orig' ? r.rtcpFromResp : r.rtcpFromOrig;
  const otherPkts = from === 'orig' ? end.respPkts : end.origPkts;
  return {
    kind: 'rtp-one-way',
    severity: 'warning',
    message: `RTP flowed only from ${from} (${packets} packets); none came back on this 5-tuple${
      otherPkts === 0 ? ' (nothing at all did)' : ''
    }`,
    detail: { from, packets, reverse_packets: otherPkts, reverse_rtcp: reverseRtcp },
  };
}

function finishMedia(s: MediaState, end: FlowEnd): AppResult {
  const stunOk = stunValid(s);
  const rtpConf = rtpVerdict(s, stunOk || s.dtls > 0);
  const rtcpConf = rtcpVerdict(s, stunOk || rtpConf > 0 || s.dtls > 0);
  const accepted = [stunOk, rtpConf > 0, rtcpConf > 0, s.dtls > 0 && (stunOk || rtpConf > 0), s.zrtp > 0];
  let app: AppName = 'unknown';
  let confidence = 0;
  if (rtpConf > 0) {
    app = 'rtp';
    confidence = rtpConf;
  } else if (rtcpConf > 0) {
    app = 'rtcp';
    confidence = rtcpConf;
  } else if (stunOk) {
    app = 'stun';
    const st = s.stun!;
    confidence = st.byFormat[FORMAT_RFC3489] === st.messages && st.messages > 0 ? 0.75 : 0.95;
    if (st.messages === 0) confidence = 0.6;
  }
  if (app === 'unknown') return { app, confidence: 0, detail: {}, findings: [] };
  // RTP riding on ICE checks is more certain than RTP alone.
  if (app !== 'stun' && stunOk) confidence = Math.min(0.99, confidence + 0.05);

  const order: number[] = [];
  for (let p = 0; p < PROTOCOL_NAMES.length; p++) if (accepted[p] && s.firstSeen[p] >= 0) order.push(p);
  order.sort((a, b) => s.firstSeen[a] - s.firstSeen[b]);
  const detail: Record<string, unknown> = { protocols: order.map((p) => PROTOCOL_NAMES[p]) };
  if (s.tcp !== null) {
    const f = [s.tcp[0].framing, s.tcp[1].framing];
    detail.framing = f.includes(FRAMING_RFC4571) ? 'rfc4571' : f.includes(FRAMING_STUN) ? 'stun' : 'lost';
  }
  const findings: Finding[] = [];
  if (stunOk) {
    detail.stun = stunDetail(s.stun!);
    findings.push(...stunFindings(s.stun!));
  }
  if (rtpConf > 0) {
    detail.rtp = rtpDetail(s.rtp!, validatedStreams(s.rtp!) === 0);
    const f = oneWayFinding(s.rtp!, end);
    if (f !== undefined) findings.push(f);
  }
  if (rtcpConf > 0) detail.rtcp = rtcpDetail(s.rtp!);
  if (s.dtls > 0 && accepted[P_DTLS]) detail.dtls = { records: s.dtls };
  if (s.zrtp > 0) detail.zrtp = { messages: s.zrtp };
  if (s.unclassified > 0) detail.unclassified = s.unclassified;
  return { app, confidence, detail, findings };
}

export const media: Recognizer<MediaState> = {
  app: 'rtp',
  transports: ['udp', 'tcp'],

  detect(p: Payload, ctx: PacketContext): number {
    return ctx.transport === 'udp'
      ? detectDatagram(p.buf, p.offset, p.length)
      : detectStream(p.buf, p.offset, p.length);
  },

  start(): MediaState {
    return {
      stun: null,
      rtp: null,
      firstSeen: new Int32Array(PROTOCOL_NAMES.length).fill(-1),
      dtls: 0,
      zrtp: 0,
      unclassified: 0,
      fed: 0,
      evidence: 0,
      tcp: null,
      msg: newStunMessage(),
    };
  },

  feed(s: MediaState, p: Payload, ctx: PacketContext): boolean {
    if (ctx.transport === 'udp') return feedMediaDatagram(s, p.buf, p.offset, p.length, ctx);
    s.fed++;
    feedTcp(s, p, ctx);
    // Both directions lost their framing: nothing more will parse.
    const lost = s.tcp !== null && s.tcp[0].framing === FRAMING_LOST && s.tcp[1].framing === FRAMING_LOST;
    return keepFeeding(s) && !lost;
  },

  finish: finishMedia,
};
