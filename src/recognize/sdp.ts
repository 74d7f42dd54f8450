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
import { shortString } from './text.js';

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

function text(s: unknown, max = 64): string | undefined {
  if (s === undefined || s === null) return undefined;
  return shortString(String(s), max);
}

/** Splits on single spaces, ignoring empty tokens. */
function tokens(line: string): string[] {
  return line.split(' ').filter((t) => t.length > 0);
}

/** RFC 8839 section 5.1 grammar: foundation component transport priority address port "typ" type [raddr a rport p] [tcptype t]. */
function ice19(parts: string[], syntax: string): SdpCandidate | undefined {
  if (parts.length < 8 || parts[6] !== 'typ') return undefined;
  const port = Number(parts[5]);
  if (!Number.isInteger(port)) return undefined;
  const c: SdpCandidate = {
    foundation: text(parts[0], 32),
    component: Number(parts[1]) || 0,
    transport: text(parts[2], 16) ?? '',
    priority: text(parts[3], 16),
    ip: text(parts[4], 64) ?? '',
    port,
    type: text(parts[7], 16),
    syntax,
  };
  for (let i = 8; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'raddr') c.raddr = text(parts[i + 1], 64);
    else if (parts[i] === 'rport') c.rport = Number(parts[i + 1]) || 0;
    else if (parts[i] === 'tcptype') c.tcptype = text(parts[i + 1], 16);
  }
  return c;
}

/** MS-ICE version 1 (draft-ietf-mmusic-ice-06 era, Lync 2007/2010): ufrag component password transport q address port. */
function msIce1(parts: string[]): SdpCandidate | undefined {
  if (parts.length < 7) return undefined;
  const port = Number(parts[6]);
  if (!Number.isInteger(port) || !decimalFraction(parts[4])) return undefined;
  return {
    component: Number(parts[1]) || 0,
    transport: text(parts[3], 16) ?? '',
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

interface ParsedCandidate {
  foundation: string;
  component: number;
  transport: string;
  priority: number | string;
  ip: string;
  port: number;
  type: string;
  raddr?: string;
  rport?: number;
  tcptype?: string;
}

/** Summary of one SDP body; undefined when it does not parse as SDP at all. */
export function summarizeSdp(body: string): SdpSummary | undefined {
  let sdp: ReturnType<typeof parse>;
  try {
    sdp = parse(boundedSdp(body));
  } catch {
    return undefined;
  }
  if (!Array.isArray(sdp.media)) return undefined;
  const session = sdp.connection?.ip;
  const summary: SdpSummary = { media: [] };
  if (sdp.origin?.address !== undefined) summary.origin_address = text(sdp.origin.address);
  if (session !== undefined) summary.address = text(session);
  let unparsed = 0;
  for (const m of sdp.media) {
    if (summary.media.length >= MAX_MEDIA) {
      summary.media_dropped = (summary.media_dropped ?? 0) + 1;
      continue;
    }
    const media: SdpMedia = {
      type: text(m.type, 32) ?? '',
      port: Number(m.port) || 0,
      protocol: text(m.protocol, 32) ?? '',
      candidates: [],
    };
    const address = m.connection?.ip ?? session;
    if (address !== undefined) media.address = text(address);
    if (m.rtcp !== undefined) {
      media.rtcp_port = Number(m.rtcp.port) || 0;
      if (m.rtcp.address !== undefined) media.rtcp_address = text(m.rtcp.address);
    }
    if (m.payloads !== undefined) media.payloads = text(m.payloads, 64);
    const direction = m.direction ?? sdp.direction;
    if (direction !== undefined) media.direction = direction;
    if (m.crypto !== undefined && m.crypto.length > 0) media.crypto = true;
    const ufrag = m.iceUfrag ?? sdp.iceUfrag;
    if (ufrag !== undefined) media.ice_ufrag = text(ufrag, 32);
    const add = (c: SdpCandidate | undefined): void => {
      if (c === undefined) return;
      if (media.candidates.length < MAX_CANDIDATES) media.candidates.push(c);
      else media.candidates_dropped = (media.candidates_dropped ?? 0) + 1;
    };
    for (const c of (m.candidates ?? []) as ParsedCandidate[]) {
      add({
        foundation: text(c.foundation, 32),
        component: Number(c.component) || 0,
        transport: text(c.transport, 16) ?? '',
        priority: text(c.priority, 16),
        ip: text(c.ip) ?? '',
        port: Number(c.port) || 0,
        type: text(c.type, 16),
        ...(c.raddr !== undefined ? { raddr: text(c.raddr) } : {}),
        ...(c.rport !== undefined ? { rport: Number(c.rport) || 0 } : {}),
        ...(c.tcptype !== undefined ? { tcptype: text(c.tcptype, 16) } : {}),
        syntax: 'ice',
      });
    }
    for (const inv of m.invalid ?? []) {
      const v = inv.value;
      if (v.startsWith('candidate:')) {
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
    summary.media.push(media);
  }
  unparsed += (sdp.invalid ?? []).length;
  if (unparsed > 0) summary.unparsed_lines = unparsed;
  return summary;
}
