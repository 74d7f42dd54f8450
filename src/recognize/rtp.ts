/**
 * RTP and RTCP (RFC 3550): header checks and per-stream statistics, also for SRTP/SRTCP (RFC 3711),
 * whose headers stay in clear.
 *
 * - RTP fixed header (RFC 3550 section 5.1): version 2, padding, extension, CSRC count, marker,
 *   7-bit payload type, 16-bit sequence number, 32-bit timestamp, SSRC.
 * - RTCP (section 6.4): version 2, packet type 200-204 (SR, RR, SDES, BYE, APP), 205/206 feedback
 *   (RFC 4585), 207 XR (RFC 3611); a 16-bit length in 32-bit words minus one. Several RTCP packets
 *   form a compound datagram (section 6.1). In SRTCP everything after the first header is
 *   encrypted, so the chain of lengths is followed only as far as it holds.
 * - RTP/RTCP on one port (RFC 5761 section 4): the second byte 192-223 is RTCP (RTP payload types
 *   64-95 are avoided for that reason).
 * - Validity of a stream: RFC 3550 appendix A.1's probation, a source counts once MIN_SEQUENTIAL
 *   packets arrived in sequence. That is what keeps random bytes that start with 0x80 from being
 *   called RTP: one header is easy to fake, a run of consecutive sequence numbers of one SSRC is not.
 * - Loss (A.3): expected (extended highest sequence - base + 1) minus received, with 16-bit wrap.
 * - Interarrival jitter (section 6.4.1, A.8): J += (|D| - J) / 16 in timestamp units, reported in
 *   milliseconds. It needs the clock rate: fixed for static payload types (RFC 3551 section 6),
 *   a guess for dynamic ones (Lync's usual numbers, ../shared/research/microsoft-ports.md section
 *   3), checked against the timestamps once half a second of the stream was seen.
 *
 * Per packet the work is a scan of at most STREAMS_CAP streams and some arithmetic: no allocation.
 */

export const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;
/** Streams tracked per flow; a new SSRC then replaces an unvalidated one, or is counted as dropped. */
export const STREAMS_CAP = 8;
/** Seconds of a stream after which the clock rate is estimated from its timestamps. */
const ESTIMATE_AFTER = 0.5;

/** RFC 3551 section 6, tables 4 and 5: clock rates of the static payload types. */
const STATIC_RATES: Record<number, number> = {
  0: 8000,
  3: 8000,
  4: 8000,
  5: 8000,
  6: 16000,
  7: 8000,
  8: 8000,
  9: 8000,
  10: 44100,
  11: 44100,
  12: 8000,
  13: 8000,
  14: 90000,
  15: 8000,
  16: 11025,
  17: 22050,
  18: 8000,
  25: 90000,
  26: 90000,
  28: 90000,
  31: 90000,
  32: 90000,
  33: 90000,
  34: 90000,
};

/**
 * Lync / Skype for Business dynamic payload types and their usual clock rates (research file
 * section 3: x-msrta, SIREN, G7221, G726, G722, SILK, RED, telephone-event, RTVideo, H.264UC,
 * ULPFEC). Only a guess: SDP decides, and other software uses the same numbers differently.
 */
const LYNC_RATES: Record<number, [number, string]> = {
  97: [8000, 'RED'],
  101: [8000, 'telephone-event'],
  103: [8000, 'SILK/8000'],
  104: [16000, 'SILK/16000'],
  111: [16000, 'SIREN'],
  112: [16000, 'G7221'],
  114: [16000, 'x-msrta/16000'],
  115: [8000, 'x-msrta/8000'],
  116: [8000, 'AAL2-G726-32'],
  117: [8000, 'G722'],
  118: [8000, 'CN'],
  121: [90000, 'x-rtvc1'],
  122: [90000, 'X-H264UC'],
  123: [90000, 'x-ulpfecuc'],
};

/** Rates an estimate snaps to (audio codecs and the 90 kHz video clock). */
const COMMON_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 90000];

const SOURCE_NONE = 0;
const SOURCE_STATIC = 1;
const SOURCE_LYNC = 2;
const SOURCE_ESTIMATED = 3;
const SOURCE_LYNC_CONFIRMED = 4;
const SOURCE_NAMES = [
  '',
  'static-payload-type',
  'lync-payload-type-guess',
  'estimated-from-timestamps',
  'lync-payload-type-matches-timestamps',
];

function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** RFC 5761 section 4: a second byte of 192-223 after a version-2 first byte is RTCP. */
export function isRtcpType(secondByte: number): boolean {
  return secondByte >= 192 && secondByte <= 223;
}

/**
 * Length of the RTP header at buf[off, off + len) (fixed part, CSRCs, extension), or -1 when the
 * bytes cannot be RTP (RFC 3550 section 5.1). The payload may be SRTP: it is not looked at.
 */
export function rtpHeaderLength(b: Buffer, off: number, len: number): number {
  if (len < 12) return -1;
  const b0 = b[off];
  if ((b0 & 0xc0) !== 0x80) return -1;
  if (isRtcpType(b[off + 1])) return -1;
  let h = 12 + 4 * (b0 & 0x0f);
  if (h > len) return -1;
  if (b0 & 0x10) {
    // Header extension (section 5.3.1): 16-bit profile, 16-bit length in words.
    if (h + 4 > len) return -1;
    h += 4 + 4 * u16(b, off + h + 2);
    if (h > len) return -1;
  }
  return h;
}

/**
 * How many RTCP packets are chained at buf[off, off + len) (section 6.1), 0 when the first is not
 * RTCP. `exact` (out[0]) tells whether the chain covers the datagram exactly (plain compound
 * RTCP); SRTCP's encrypted rest and trailer break the chain after the first packet.
 */
export function rtcpChain(b: Buffer, off: number, len: number, out: Int32Array): number {
  const end = off + len;
  let p = off;
  let n = 0;
  while (p + 8 <= end) {
    const b0 = b[p];
    const pt = b[p + 1];
    if ((b0 & 0xc0) !== 0x80 || pt < 200 || pt > 207) break;
    const size = (u16(b, p + 2) + 1) * 4;
    if (p + size > end) break;
    n++;
    p += size;
  }
  out[0] = p === end ? 1 : 0;
  return n;
}

export interface RtpStream {
  ssrc: number;
  fromOrig: boolean;
  pt: number;
  /** Up to 4 payload types seen (RED, comfort noise and DTMF share the SSRC). */
  pts: number[];
  packets: number;
  validated: boolean;
  // RFC 3550 A.1
  maxSeq: number;
  cycles: number;
  baseSeq: number;
  badSeq: number;
  probation: number;
  received: number;
  // A.8
  rate: number;
  rateSource: number;
  jitter: number;
  /** Jitter updates made with a known rate (0: no jitter to report). */
  jitterSamples: number;
  lastArrival: number;
  lastRtpTs: number;
  hasLast: boolean;
  estimated: boolean;
  firstArrival: number;
  firstRtpTs: number;
  lastSeenArrival: number;
  lastSeenRtpTs: number;
}

export interface RtpStats {
  streams: RtpStream[];
  dropped: number;
  packets: number;
  rtcpPackets: number;
  rtcpFromOrig: number;
  rtcpFromResp: number;
  /** Count per RTCP type 200..207. */
  rtcpTypes: Int32Array;
  rtcpCompound: number;
  /** Compound datagrams whose packet lengths chain exactly to the datagram's end (plain, not SRTCP). */
  rtcpExact: number;
  /** Sender SSRCs of RTCP packets (at most 4) and how often each was seen. */
  rtcpSsrcs: number[];
  rtcpSsrcCounts: number[];
  chain: Int32Array;
  /**
   * The stream the last RTP packet of each direction belonged to: a call's packets come in long
   * runs of one SSRC per direction, so addRtp rarely needs findStream's scan. A stream that
   * findStream replaces is forgotten here too (see forget).
   */
  lastOrig: RtpStream | null;
  lastResp: RtpStream | null;
}

export function newRtpStats(): RtpStats {
  return {
    streams: [],
    dropped: 0,
    packets: 0,
    rtcpPackets: 0,
    rtcpFromOrig: 0,
    rtcpFromResp: 0,
    rtcpTypes: new Int32Array(8),
    rtcpCompound: 0,
    rtcpExact: 0,
    rtcpSsrcs: [],
    rtcpSsrcCounts: [],
    chain: new Int32Array(1),
    lastOrig: null,
    lastResp: null,
  };
}

function initialRate(pt: number, s: RtpStream): void {
  const fixed = STATIC_RATES[pt];
  if (fixed !== undefined) {
    s.rate = fixed;
    s.rateSource = SOURCE_STATIC;
    return;
  }
  const lync = LYNC_RATES[pt];
  if (lync !== undefined) {
    s.rate = lync[0];
    s.rateSource = SOURCE_LYNC;
    return;
  }
  s.rate = 0;
  s.rateSource = SOURCE_NONE;
}

function newStream(ssrc: number, fromOrig: boolean, pt: number, seq: number): RtpStream {
  const s: RtpStream = {
    ssrc,
    fromOrig,
    pt,
    pts: [pt],
    packets: 0,
    validated: false,
    maxSeq: (seq - 1) & 0xffff,
    cycles: 0,
    baseSeq: seq,
    badSeq: RTP_SEQ_MOD + 1,
    probation: MIN_SEQUENTIAL,
    received: 0,
    rate: 0,
    rateSource: SOURCE_NONE,
    jitter: 0,
    jitterSamples: 0,
    lastArrival: 0,
    lastRtpTs: 0,
    hasLast: false,
    estimated: false,
    firstArrival: 0,
    firstRtpTs: 0,
    lastSeenArrival: 0,
    lastSeenRtpTs: 0,
  };
  initialRate(pt, s);
  return s;
}

/** RFC 3550 A.1 init_seq. */
function initSeq(s: RtpStream, seq: number): void {
  s.baseSeq = seq;
  s.maxSeq = seq;
  s.badSeq = RTP_SEQ_MOD + 1;
  s.cycles = 0;
  s.received = 0;
}

/** RFC 3550 A.1 update_seq: returns 1 for a packet that counts, 2 for one in sequence order, 0 otherwise. */
function updateSeq(s: RtpStream, seq: number): number {
  const udelta = (seq - s.maxSeq) & 0xffff;
  if (s.probation > 0) {
    if (seq === ((s.maxSeq + 1) & 0xffff)) {
      s.probation--;
      s.maxSeq = seq;
      if (s.probation === 0) {
        initSeq(s, seq);
        s.received++;
        s.validated = true;
        return 2;
      }
    } else {
      s.probation = MIN_SEQUENTIAL - 1;
      s.maxSeq = seq;
    }
    return 0;
  }
  let inOrder = false;
  if (udelta < MAX_DROPOUT) {
    if (seq < s.maxSeq) s.cycles += RTP_SEQ_MOD;
    s.maxSeq = seq;
    inOrder = true;
  } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
    // A very large jump: the source restarted if the next packet follows this one.
    if (seq === s.badSeq) {
      initSeq(s, seq);
      s.hasLast = false;
    } else {
      s.badSeq = (seq + 1) & 0xffff;
      return 0;
    }
  }
  s.received++;
  return inOrder ? 2 : 1;
}

function snapRate(rate: number): number {
  let best = 0;
  let bestErr = Infinity;
  for (const r of COMMON_RATES) {
    const err = Math.abs(rate - r) / r;
    if (err < bestErr) {
      best = r;
      bestErr = err;
    }
  }
  return bestErr <= 0.15 ? best : 0;
}

/**
 * Section 6.4.1 / A.8: the jitter update for the packet just recorded in s.lastSeenArrival (seconds)
 * and s.lastSeenRtpTs. Read from the stream rather than passed: doubles and 32-bit timestamps
 * passed to a call V8 does not inline are boxed, one allocation per media packet.
 */
function updateJitter(s: RtpStream): void {
  const arrival = s.lastSeenArrival;
  const rtpTs = s.lastSeenRtpTs;
  if (!s.hasLast) {
    s.firstArrival = arrival;
    s.firstRtpTs = rtpTs;
  } else {
    if (!s.estimated && arrival - s.firstArrival >= ESTIMATE_AFTER) estimateRate(s, arrival, rtpTs);
    if (s.rate > 0) {
      // D(i,j) = (Rj - Ri) - (Sj - Si), both in timestamp units; the RTP difference is signed 32-bit.
      const d = (arrival - s.lastArrival) * s.rate - ((rtpTs - s.lastRtpTs) | 0);
      s.jitter += (Math.abs(d) - s.jitter) / 16;
      s.jitterSamples++;
    }
  }
  s.hasLast = true;
  s.lastArrival = arrival;
  s.lastRtpTs = rtpTs;
}

/** Checks a dynamic payload type's guessed rate (or finds one) from half a second of timestamps. */
function estimateRate(s: RtpStream, arrival: number, rtpTs: number): void {
  s.estimated = true;
  if (s.rateSource === SOURCE_STATIC) return;
  const ticks = (rtpTs - s.firstRtpTs) | 0;
  const snapped = ticks > 0 ? snapRate(ticks / (arrival - s.firstArrival)) : 0;
  if (snapped === 0) return;
  if (snapped === s.rate) {
    if (s.rateSource === SOURCE_LYNC) s.rateSource = SOURCE_LYNC_CONFIRMED;
    return;
  }
  s.rate = snapped;
  s.jitter = 0;
  s.jitterSamples = 0;
  s.rateSource = SOURCE_ESTIMATED;
}

function findStream(
  st: RtpStats,
  ssrc: number,
  fromOrig: boolean,
  pt: number,
  seq: number,
): RtpStream | null {
  const list = st.streams;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (s.ssrc === ssrc && s.fromOrig === fromOrig) return s;
  }
  if (list.length < STREAMS_CAP) {
    const s = newStream(ssrc, fromOrig, pt, seq);
    list.push(s);
    return s;
  }
  // Full: a source that never passed probation and saw one packet makes room (garbage, or a stray).
  for (let i = 0; i < list.length; i++) {
    if (!list[i].validated && list[i].packets <= 1) {
      forget(st, list[i]);
      list[i] = newStream(ssrc, fromOrig, pt, seq);
      return list[i];
    }
  }
  st.dropped++;
  return null;
}

/** A stream leaving the list must not be found through the last-stream cache either. */
function forget(st: RtpStats, s: RtpStream): void {
  if (st.lastOrig === s) st.lastOrig = null;
  if (st.lastResp === s) st.lastResp = null;
}

/**
 * The stream of `ssrc` in this direction: the direction's last one when it matches (the same
 * stream findStream would find, as the list holds one stream per SSRC and direction), else
 * findStream's, which becomes the direction's last.
 */
function streamOf(st: RtpStats, ssrc: number, fromOrig: boolean, pt: number, seq: number): RtpStream | null {
  const last = fromOrig ? st.lastOrig : st.lastResp;
  if (last !== null && last.ssrc === ssrc) return last;
  const s = findStream(st, ssrc, fromOrig, pt, seq);
  if (fromOrig) st.lastOrig = s;
  else st.lastResp = s;
  return s;
}

/** Adds one RTP packet (header already checked by rtpHeaderLength) that arrived at `at.ts`. */
export function addRtp(st: RtpStats, b: Buffer, off: number, fromOrig: boolean, at: { ts: number }): void {
  const arrival = at.ts;
  st.packets++;
  const pt = b[off + 1] & 0x7f;
  const seq = u16(b, off + 2);
  const rtpTs = u32(b, off + 4);
  const ssrc = u32(b, off + 8);
  const s = streamOf(st, ssrc, fromOrig, pt, seq);
  if (s === null) return;
  s.packets++;
  if (pt !== s.pt) {
    s.pt = pt;
    if (s.pts.length < 4 && !s.pts.includes(pt)) s.pts.push(pt);
  }
  s.lastSeenArrival = arrival;
  s.lastSeenRtpTs = rtpTs;
  const r = updateSeq(s, seq);
  if (r === 2) updateJitter(s);
}

/** Adds one RTCP datagram (the first packet already checked). */
export function addRtcp(st: RtpStats, b: Buffer, off: number, len: number, fromOrig: boolean): number {
  const n = rtcpChain(b, off, len, st.chain);
  if (n === 0) return 0;
  st.rtcpPackets++;
  if (fromOrig) st.rtcpFromOrig++;
  else st.rtcpFromResp++;
  if (n > 1) {
    st.rtcpCompound++;
    if (st.chain[0] === 1) st.rtcpExact++;
  }
  st.rtcpTypes[b[off + 1] - 200]++;
  let p = off;
  for (let i = 0; i < n; i++) {
    if (i > 0) st.rtcpTypes[b[p + 1] - 200]++;
    p += (u16(b, p + 2) + 1) * 4;
  }
  const ssrc = u32(b, off + 4);
  const k = st.rtcpSsrcs.indexOf(ssrc);
  if (k >= 0) st.rtcpSsrcCounts[k]++;
  else if (st.rtcpSsrcs.length < 4) {
    st.rtcpSsrcs.push(ssrc);
    st.rtcpSsrcCounts.push(1);
  }
  return n;
}

/** Whether the RTCP seen holds together on its own: a sender SSRC seen twice, or an exact compound. */
export function rtcpConsistent(st: RtpStats): boolean {
  if (st.rtcpExact > 0) return true;
  for (const c of st.rtcpSsrcCounts) if (c >= 2) return true;
  return false;
}

export function validatedStreams(st: RtpStats): number {
  let n = 0;
  for (const s of st.streams) if (s.validated) n++;
  return n;
}

function ssrcHex(ssrc: number): string {
  return '0x' + ssrc.toString(16).padStart(8, '0');
}

const RTCP_NAMES = ['SR', 'RR', 'SDES', 'BYE', 'APP', 'RTPFB', 'PSFB', 'XR'];

/** The `rtp` part of app_detail: one entry per stream (validated ones, or all when `all`). */
export function rtpDetail(st: RtpStats, all: boolean): Record<string, unknown> {
  const streams: Record<string, unknown>[] = [];
  for (const s of st.streams) {
    if (!s.validated && !all) continue;
    if (!s.estimated && s.rateSource !== SOURCE_STATIC && s.hasLast) finalEstimate(s);
    const expected = s.validated ? s.cycles + s.maxSeq - s.baseSeq + 1 : 0;
    const e: Record<string, unknown> = {
      ssrc: ssrcHex(s.ssrc),
      dir: s.fromOrig ? 'orig' : 'resp',
      pt: s.pts[0],
      packets: s.packets,
      lost: Math.max(0, expected - s.received),
    };
    if (s.pts.length > 1) e.pts = s.pts;
    if (!s.validated) e.validated = false;
    if (s.rate > 0 && s.validated) {
      e.clock_rate = s.rate;
      e.clock_rate_source = SOURCE_NAMES[s.rateSource];
      const lync = LYNC_RATES[s.pts[0]];
      if ((s.rateSource === SOURCE_LYNC || s.rateSource === SOURCE_LYNC_CONFIRMED) && lync !== undefined)
        e.codec_guess = lync[1];
      if (s.jitterSamples > 0) e.jitter_ms = Math.round((s.jitter / s.rate) * 1000 * 100) / 100;
    }
    streams.push(e);
  }
  const d: Record<string, unknown> = { packets: st.packets, streams };
  if (st.dropped > 0) d.dropped_streams_packets = st.dropped;
  return d;
}

/** For a short stream of an unknown payload type: a rate from whatever span there is (no jitter then). */
function finalEstimate(s: RtpStream): void {
  if (s.rateSource !== SOURCE_NONE) return;
  const span = s.lastSeenArrival - s.firstArrival;
  const ticks = (s.lastSeenRtpTs - s.firstRtpTs) | 0;
  if (span < 0.1 || ticks <= 0) return;
  const snapped = snapRate(ticks / span);
  if (snapped === 0) return;
  s.rate = snapped;
  s.rateSource = SOURCE_ESTIMATED;
}

export function rtcpDetail(st: RtpStats): Record<string, unknown> {
  const types: Record<string, number> = {};
  for (let i = 0; i < 8; i++) if (st.rtcpTypes[i] > 0) types[RTCP_NAMES[i]] = st.rtcpTypes[i];
  return {
    packets: st.rtcpPackets,
    from_orig: st.rtcpFromOrig,
    from_resp: st.rtcpFromResp,
    types,
    compound: st.rtcpCompound,
    ssrcs: st.rtcpSsrcs.map(ssrcHex),
  };
}

/** Packets of validated streams per direction: [orig, resp]. */
export function rtpDirections(st: RtpStats): [number, number] {
  let o = 0;
  let r = 0;
  for (const s of st.streams)
    if (s.validated) {
      if (s.fromOrig) o += s.packets;
      else r += s.packets;
    }
  return [o, r];
}
