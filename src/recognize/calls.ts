/**
 * The call view: for each SIP dialog seen in plaintext, its signalling, the media its SDP offer
 * and answer negotiated, and whether that media flowed (both ways, one way, or not at all); for
 * ICE, which candidate pairs were tried and which got STUN answers. Cross-flow and pure: it reads
 * the flow records (their app_detail from sip.ts and media.ts) after the capture has been read.
 * Work and memory are bounded by the records' own caps (dialogs, media and candidates per flow).
 */
import type { FlowRecord } from '../flow/record.js';
import type { Finding } from './types.js';

export interface CallMedia {
  type: string;
  /** Address:port each side asked to receive on (c= and m= lines). */
  offer?: string;
  answer?: string;
  protocol?: string;
  /** Flows between the negotiated endpoints, by Community ID. */
  flows: string[];
  /** Packets from the offerer's media endpoint to the answerer's, and back. */
  to_answerer: number;
  to_offerer: number;
  status: 'both-ways' | 'one-way' | 'not-seen' | 'not-negotiated';
  ice?: { offer_candidates: number; answer_candidates: number; pairs_tried: number; pairs_answered: number };
}

export interface Call {
  call_id: string;
  from?: string;
  to?: string;
  /** Final status of the INVITE, when the dialog had one. */
  invite_status?: number;
  bye: boolean;
  signalling: string[];
  start_ts: number;
  media: CallMedia[];
  findings: Finding[];
}

interface SdpCandidate {
  ip?: string;
  port?: number;
  transport?: string;
}

interface SdpMedia {
  type?: string;
  port?: number;
  address?: string;
  protocol?: string;
  candidates?: SdpCandidate[];
}

interface SdpSide {
  ts?: number;
  media?: SdpMedia[];
}

interface Dialog {
  call_id?: string;
  methods?: string[];
  from?: string;
  to?: string;
  invite_status?: number;
  bye?: boolean;
  offer?: SdpSide;
  answer?: SdpSide;
}

function dialogsOf(rec: FlowRecord): Dialog[] {
  if (rec.app !== 'sip') return [];
  const d = rec.app_detail?.dialogs;
  return Array.isArray(d) ? (d as Dialog[]) : [];
}

function endpointKey(proto: string, host: string, port: number): string {
  return `${proto} ${host} ${port}`;
}

/** Flows indexed by each of their endpoints, so a negotiated address:port finds its media quickly. */
function indexFlows(records: readonly FlowRecord[]): Map<string, FlowRecord[]> {
  const index = new Map<string, FlowRecord[]>();
  for (const r of records) {
    if (r.proto !== 'udp' && r.proto !== 'tcp') continue;
    for (const k of [endpointKey(r.proto, r.orig_h, r.orig_p), endpointKey(r.proto, r.resp_h, r.resp_p)]) {
      const list = index.get(k);
      if (list) list.push(r);
      else index.set(k, [r]);
    }
  }
  return index;
}

/** Packets sent from endpoint (host, port) in a flow (0 when that endpoint is not in the flow). */
function sentBy(r: FlowRecord, host: string, port: number): number {
  if (r.orig_h === host && r.orig_p === port) return r.orig_pkts;
  if (r.resp_h === host && r.resp_p === port) return r.resp_pkts;
  return 0;
}

function stunAnswered(r: FlowRecord): boolean {
  const stun = r.app_detail?.stun as { transactions?: { answered?: number } } | undefined;
  return (stun?.transactions?.answered ?? 0) > 0;
}

function judgeMedia(
  index: Map<string, FlowRecord[]>,
  type: string,
  offer: SdpMedia | undefined,
  answer: SdpMedia | undefined,
): CallMedia {
  const m: CallMedia = { type, flows: [], to_answerer: 0, to_offerer: 0, status: 'not-negotiated' };
  if (offer?.address && offer.port) m.offer = `${offer.address}:${offer.port}`;
  if (answer?.address && answer.port) m.answer = `${answer.address}:${answer.port}`;
  m.protocol = offer?.protocol ?? answer?.protocol;
  // Port 0 in the answer rejects the stream (RFC 3264 section 6).
  if (!offer?.address || !offer.port || !answer?.address || !answer.port) return m;
  const proto = (m.protocol ?? '').toUpperCase().includes('TCP') ? 'tcp' : 'udp';
  const seen = new Set<string>();
  for (const r of index.get(endpointKey(proto, answer.address, answer.port)) ?? []) {
    const fromOffer = sentBy(r, offer.address, offer.port);
    const fromAnswer = sentBy(r, answer.address, answer.port);
    if (fromOffer === 0 && fromAnswer === 0) continue;
    // Only flows between the two negotiated endpoints (a NAT or relay in between shows up as
    // ICE pairs instead).
    const other =
      r.orig_h === answer.address && r.orig_p === answer.port ? [r.resp_h, r.resp_p] : [r.orig_h, r.orig_p];
    if (other[0] !== offer.address || other[1] !== offer.port) continue;
    if (seen.has(r.community_id)) continue;
    seen.add(r.community_id);
    m.flows.push(r.community_id);
    m.to_answerer += fromOffer;
    m.to_offerer += fromAnswer;
  }
  m.status =
    m.to_answerer > 0 && m.to_offerer > 0
      ? 'both-ways'
      : m.to_answerer + m.to_offerer > 0
        ? 'one-way'
        : 'not-seen';
  const oc = offer.candidates ?? [];
  const ac = answer.candidates ?? [];
  if (oc.length > 0 || ac.length > 0) {
    let tried = 0;
    let answered = 0;
    const pairs = new Set<string>();
    for (const a of oc)
      for (const b of ac) {
        if (!a.ip || !a.port || !b.ip || !b.port) continue;
        const t = (a.transport ?? 'udp').toLowerCase() === 'tcp' ? 'tcp' : 'udp';
        for (const r of index.get(endpointKey(t, b.ip, b.port)) ?? []) {
          if (sentBy(r, a.ip, a.port) === 0 && sentBy(r, b.ip, b.port) === 0) continue;
          const ends = [`${r.orig_h}:${r.orig_p}`, `${r.resp_h}:${r.resp_p}`];
          if (!ends.includes(`${a.ip}:${a.port}`) || !ends.includes(`${b.ip}:${b.port}`)) continue;
          if (pairs.has(r.community_id)) continue;
          pairs.add(r.community_id);
          tried++;
          if (stunAnswered(r) || (r.orig_pkts > 0 && r.resp_pkts > 0)) answered++;
        }
      }
    m.ice = {
      offer_candidates: oc.length,
      answer_candidates: ac.length,
      pairs_tried: tried,
      pairs_answered: answered,
    };
  }
  return m;
}

/** Builds the call view from every flow record of a capture. */
export function buildCalls(records: readonly FlowRecord[]): Call[] {
  const index = indexFlows(records);
  const calls = new Map<string, Call>();
  for (const rec of records) {
    for (const d of dialogsOf(rec)) {
      // Calls only: an INVITE or an SDP exchange (REGISTER, OPTIONS, SUBSCRIBE dialogs are not calls).
      if (!d.call_id || (!d.methods?.includes('INVITE') && !d.offer && !d.answer)) continue;
      let call = calls.get(d.call_id);
      if (!call) {
        call = { call_id: d.call_id, bye: false, signalling: [], start_ts: rec.ts, media: [], findings: [] };
        calls.set(d.call_id, call);
      }
      if (!call.signalling.includes(rec.community_id)) call.signalling.push(rec.community_id);
      call.start_ts = Math.min(call.start_ts, rec.ts);
      call.from ??= d.from;
      call.to ??= d.to;
      if (d.invite_status !== undefined) call.invite_status = d.invite_status;
      call.bye ||= d.bye === true;
      // The same dialog seen on two signalling legs negotiates the same media: judge it once.
      if (call.media.length > 0 || (!d.offer && !d.answer)) continue;
      const offered = d.offer?.media ?? [];
      const answered = d.answer?.media ?? [];
      for (let i = 0; i < Math.max(offered.length, answered.length); i++)
        call.media.push(
          judgeMedia(index, offered[i]?.type ?? answered[i]?.type ?? 'unknown', offered[i], answered[i]),
        );
    }
  }
  for (const call of calls.values()) {
    for (const m of call.media) {
      if (m.status === 'not-seen')
        call.findings.push({
          kind: 'sdp-media-not-seen',
          severity: 'warning',
          message: `${m.type} media negotiated between ${m.offer} and ${m.answer} never appeared in the capture`,
        });
      else if (m.status === 'one-way')
        call.findings.push({
          kind: 'sdp-media-one-way',
          severity: 'error',
          message: `${m.type} media between ${m.offer} and ${m.answer} flowed one way only (${m.to_answerer} packets to the answerer, ${m.to_offerer} back)`,
        });
      if (m.ice && m.ice.pairs_tried > 0 && m.ice.pairs_answered === 0)
        call.findings.push({
          kind: 'ice-no-answer',
          severity: 'error',
          message: `${m.type}: ${m.ice.pairs_tried} ICE candidate pairs were tried and none got an answer`,
        });
    }
    if (call.invite_status !== undefined && call.invite_status >= 400)
      call.findings.push({
        kind: 'call-failed',
        severity: call.invite_status === 487 ? 'info' : 'error',
        message: `the INVITE was answered ${call.invite_status}`,
      });
  }
  return [...calls.values()].sort((a, b) => a.start_ts - b.start_ts);
}
