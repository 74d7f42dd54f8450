/**
 * What an SDP body (RFC 4566 / RFC 8866) offers or answers, for the cross-flow check that the media
 * it negotiated really flowed: per m= line the media type, port, transport protocol, the
 * connection address (media-level c= or else the session's, RFC 8866 section 5.7), the RTCP port
 * (RFC 3605 a=rtcp), the direction, and the ICE candidates (RFC 8839 section 5.1 a=candidate;
 * Lync's TCP-ACT / TCP-PASS transports, its MS-ICE version 1 candidates "a=candidate:<ufrag> 1
 * <password> UDP <q> <ip> <port>", and a=x-candidate-ipv6 from [MS-SDPEXT]).
 *
 * Parsing is sdp-transform's (per-line anchored regular expressions). Its input is bounded here
 * first: at most MAX_BODY bytes, MAX_LINES lines, and lines longer than MAX_LINE are dropped, so
 * no regular expression ever sees more than a short line of packet text.
 */
import { createRequire } from 'node:module';
import { commonString, shortString } from './text.js';

/** sdp-transform is loaded with the first SDP body, not at startup (most runs never see one). */
let sdpTransform: typeof import('sdp-transform') | undefined;
function parse(sdp: string): ReturnType<typeof import('sdp-transform').parse> {
  sdpTransform ??= createRequire(import.meta.url)('sdp-transform') as typeof import('sdp-transform');
  return sdpTransform.parse(sdp);
}

const MAX_BODY = 32 * 1024;
const MAX_LINES = 512;
const MAX_LINE = 1024;
/** Media sections and candidates kept per SDP. */
export const MAX_MEDIA = 8;
export const MAX_CANDIDATES = 16;

export interface SdpCandidate {
  foundation?: string;
  component: number;
  transport: string;
  priority?: string;
  ip: string;
  port: number;
  type?: string;
  raddr?: string;
  rport?: number;
  tcptype?: string;
  /** 'ice' (RFC 8839), 'ms-ice1' (Lync 2007/2010 MS-ICE version 1), 'x-candidate-ipv6'. */
  syntax: string;
}

export interface SdpMedia {
  type: string;
  port: number;
  protocol: string;
  /** Where the peer wants this media sent: the media's c= address, else the session's. */
  address?: string;
  rtcp_port?: number;
  rtcp_address?: string;
  payloads?: string;
  direction?: string;
  crypto?: boolean;
  ice_ufrag?: string;
  candidates: SdpCandidate[];
  candidates_dropped?: number;
}

export interface SdpSummary {
  origin_address?: string;
  address?: string;
  media: SdpMedia[];
  media_dropped?: number;
  /** Lines sdp-transform did not understand and we did not either (counted, not kept). */
  unparsed_lines?: number;
}

/** Cuts the body to what the parser may see: bounded size, line count and line length. */
export function boundedSdp(text: string): string {
  const body = text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text;
  const out: string[] = [];
  let start = 0;
  while (start < body.length && out.length < MAX_LINES) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    let line = body.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0 && line.length <= MAX_LINE) out.push(line);
    start = end + 1;
  }
  return out.join('\r\n') + '\r\n';
}

/*
 * sdp-transform's result is loosely typed data, not the shape its typings promise: every captured
 * group goes through `toIntIfInt` (lib/parser.js), so any field may be a number where a string is
 * declared ("c=IN IP4 7" gives ip 7, "a=0" gives invalid[].value 0, "a=NaN" gives NaN), any
 * optional group may be missing, and the m= regular expression may match nothing (a media object
 * with no type, port or protocol). Every read below goes through these guards, which accept a
 * string or a finite number and nothing else.
 */

/** A string field of the parse, as bounded text (numbers as their decimal form), or undefined. */
function text(s: unknown, max = 64): string | undefined {
  if (typeof s === 'string') return shortString(s, max);
  if (typeof s === 'number' && Number.isFinite(s)) return shortString(String(s), max);
  return undefined;
}

/** A port or count: a non-negative integer (a number, or a string of 1 to 10 decimal digits), else 0. */
function int(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : 0;
  if (typeof v !== 'string' || v.length === 0 || v.length > 10) return 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + (c - 0x30);
  }
  return n <= 0xffffffff ? n : 0;
}

/** text() for a field of few values (media type, protocol, direction, transport): held once across flows. */
function word(s: unknown, max = 64): string | undefined {
  const t = text(s, max);
  return t === undefined ? undefined : commonString(t);
}

/** The raw text of a field (for prefix checks on unparsed lines), or undefined. */
function raw(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** A field that should be an object (a named group like `connection` or `rtcp`). */
function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** A field that should be an array (a pushed group like `candidates` or `invalid`). */
function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Splits on single spaces, ignoring empty tokens. */
function tokens(line: string): string[] {
  return line.split(' ').filter((t) => t.length > 0);
}

/** RFC 8839 section 5.1 grammar: foundation component transport priority address port "typ" type [raddr a rport p] [tcptype t]. */
function ice19(parts: string[], syntax: string): SdpCandidate | undefined {
  if (parts.length < 8 || parts[6] !== 'typ') return undefined;
  const port = int(parts[5]);
  if (port === 0 && parts[5] !== '0') return undefined;
  const c: SdpCandidate = {
    foundation: text(parts[0], 32),
    component: int(parts[1]),
    transport: word(parts[2], 16) ?? '',
    priority: text(parts[3], 16),
    ip: text(parts[4], 64) ?? '',
    port,
    type: word(parts[7], 16),
    syntax,
  };
  for (let i = 8; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'raddr') c.raddr = text(parts[i + 1], 64);
    else if (parts[i] === 'rport') c.rport = int(parts[i + 1]);
    else if (parts[i] === 'tcptype') c.tcptype = word(parts[i + 1], 16);
  }
  return c;
}

/** MS-ICE version 1 (draft-ietf-mmusic-ice-06 era, Lync 2007/2010): ufrag component password transport q address port. */
function msIce1(parts: string[]): SdpCandidate | undefined {
  if (parts.length < 7) return undefined;
  const port = int(parts[6]);
  if ((port === 0 && parts[6] !== '0') || !decimalFraction(parts[4])) return undefined;
  return {
    component: int(parts[1]),
    transport: word(parts[3], 16) ?? '',
    priority: text(parts[4], 16),
    ip: text(parts[5], 64) ?? '',
    port,
    syntax: 'ms-ice1',
  };
}

/** "0.830"-style q-values of MS-ICE version 1 (digits and dots only). */
function decimalFraction(s: string): boolean {
  if (s.length === 0 || s.length > 8) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

/** One candidate sdp-transform parsed (RFC 8839 grammar), every field read through the guards. */
function parsedCandidate(v: unknown): SdpCandidate | undefined {
  const c = record(v);
  if (c === undefined) return undefined;
  const out: SdpCandidate = {
    foundation: text(c.foundation, 32),
    component: int(c.component),
    transport: word(c.transport, 16) ?? '',
    priority: text(c.priority, 16),
    ip: text(c.ip) ?? '',
    port: int(c.port),
    type: word(c.type, 16),
    syntax: 'ice',
  };
  if (c.raddr !== undefined) out.raddr = text(c.raddr);
  if (c.rport !== undefined) out.rport = int(c.rport);
  if (c.tcptype !== undefined) out.tcptype = word(c.tcptype, 16);
  return out;
}

/** Summary of one SDP body; undefined when it does not parse as SDP at all. */
export function summarizeSdp(body: string): SdpSummary | undefined {
  let parsed: unknown;
  try {
    parsed = parse(boundedSdp(body));
  } catch {
    return undefined;
  }
  const sdp = record(parsed);
  if (sdp === undefined || !Array.isArray(sdp.media)) return undefined;
  const session = text(record(sdp.connection)?.ip);
  const summary: SdpSummary = { media: [] };
  let origin = text(record(sdp.origin)?.address);
  // The origin's address is most often the session's: one string for both.
  if (origin !== undefined && origin === session) origin = session;
  if (origin !== undefined) summary.origin_address = origin;
  if (session !== undefined) summary.address = session;
  let unparsed = 0;
  for (const item of sdp.media as unknown[]) {
    const m = record(item);
    if (m === undefined) continue;
    if (summary.media.length >= MAX_MEDIA) {
      summary.media_dropped = (summary.media_dropped ?? 0) + 1;
      continue;
    }
    const media: SdpMedia = {
      type: word(m.type, 32) ?? '',
      port: int(m.port),
      protocol: word(m.protocol, 32) ?? '',
      candidates: [],
    };
    let address = text(record(m.connection)?.ip) ?? session;
    if (address !== undefined && address === session) address = session;
    if (address !== undefined) media.address = address;
    const rtcp = record(m.rtcp);
    if (rtcp !== undefined) {
      media.rtcp_port = int(rtcp.port);
      const rtcpAddress = text(rtcp.address);
      if (rtcpAddress !== undefined) media.rtcp_address = rtcpAddress;
    }
    const payloads = word(m.payloads, 64);
    if (payloads !== undefined) media.payloads = payloads;
    const direction = word(m.direction, 16) ?? word(sdp.direction, 16);
    if (direction !== undefined) media.direction = direction;
    if (list(m.crypto).length > 0) media.crypto = true;
    const ufrag = text(m.iceUfrag, 32) ?? text(sdp.iceUfrag, 32);
    if (ufrag !== undefined) media.ice_ufrag = ufrag;
    const add = (c: SdpCandidate | undefined): void => {
      if (c === undefined) return;
      if (media.candidates.length < MAX_CANDIDATES) media.candidates.push(c);
      else media.candidates_dropped = (media.candidates_dropped ?? 0) + 1;
    };
    for (const c of list(m.candidates)) {
      const candidate = parsedCandidate(c);
      if (candidate !== undefined) add(candidate);
      else unparsed++;
    }
    for (const inv of list(m.invalid)) {
      // "a=0" comes back as the number 0: a line we do not understand, like any other.
      const v = raw(record(inv)?.value);
      if (v === undefined) unparsed++;
      else if (v.startsWith('candidate:')) {
        const parts = tokens(v.slice('candidate:'.length));
        const c = ice19(parts, 'ice') ?? msIce1(parts);
        if (c !== undefined) add(c);
        else unparsed++;
      } else if (v.startsWith('x-candidate-ipv6:')) {
        const c = ice19(tokens(v.slice('x-candidate-ipv6:'.length)), 'x-candidate-ipv6');
        if (c !== undefined) add(c);
        else unparsed++;
      } else unparsed++;
    }
    // Exactly as long as they are (push leaves room for 17): these live as long as the flow.
    media.candidates = media.candidates.slice();
    summary.media.push(media);
  }
  summary.media = summary.media.slice();
  unparsed += list(sdp.invalid).length;
  if (unparsed > 0) summary.unparsed_lines = unparsed;
  return summary;
}
