/**
 * The call view: for each SIP dialog seen in plaintext, its signalling, the media its SDP offer
 * and answer negotiated, and whether that media flowed (both ways, one way, or not at all); for
 * ICE, which candidate pairs were tried and which got STUN answers. Cross-flow and pure: it reads
 * the flow records (their app_detail from sip.ts and media.ts) after the capture has been read.
 * Work and memory are bounded by the records' own caps (dialogs, media and candidates per flow),
 * and linear in the records: flows are indexed once by endpoint pair (see pairKey).
 */
import { endpoint } from '../flow/endpoint.js';
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
  ice?: {
    offer_candidates: number;
    answer_candidates: number;
    pairs_tried: number;
    pairs_answered: number;
    /**
     * The pairs tried (flows seen between an offered and an answered candidate), answered first,
     * at most MAX_ICE_PAIRS of them; `pairs_tried` counts them all.
     */
    pairs: IcePair[];
  };
}

/** One ICE candidate pair that carried traffic: the offerer's candidate, the answerer's, and whether it got an answer. */
export interface IcePair {
  transport: 'udp' | 'tcp';
  offer: string;
  answer: string;
  answered: boolean;
  community_id: string;
}

/** Pairs listed per stream (RFC 8445 checks at most 100 by default; a call rarely tries more than a few dozen). */
const MAX_ICE_PAIRS = 32;

export interface Call {
  call_id: string;
  from?: string;
  to?: string;
  /** Final status of the INVITE, when the dialog had one. */
  invite_status?: number;
  bye: boolean;
  /** The signalling flows that carried the dialog, by Community ID (the first MAX_SIGNALLING). */
  signalling: string[];
  signalling_dropped?: number;
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

function dialogsOf(rec: FlowRecord): readonly (Dialog | undefined)[] {
  if (rec.app !== 'sip') return [];
  return array<Dialog | undefined>(rec.app_detail?.dialogs);
}

/**
 * Work done by buildCalls, for the tests that hold it linear: lookups in the pair index. Each
 * negotiated stream costs one, and each ICE candidate pair one more, however many flows and calls
 * share an endpoint.
 */
export interface CallWork {
  lookups: number;
}

/**
 * Every flow record between two endpoints over one transport, folded together: the same 5-tuple,
 * so one Community ID, seen as one or several records (again after a timeout, a reused port).
 */
interface PairFlows {
  community_id: string;
  /** Endpoint id of the end with the lower id, and the packets each end sent. */
  lo: number;
  loPkts: number;
  hiPkts: number;
  /** A record of it got an answer: a STUN response, or packets both ways. */
  answered: boolean;
}

/**
 * The flows by endpoint pair. Every endpoint seen in a flow ("udp 10.0.0.1 5004") gets a small
 * number; a pair of them is one Map key (lower id times 2^26 plus higher id: exact in a double
 * below 2^26 endpoints), the same whichever side originated. A lookup finds only the flow between
 * the two endpoints, never every flow of a busy one (a media anchor, a gateway: the per-endpoint
 * index this replaced made the call view quadratic there, issue 16); an ICE check of 16 x 16
 * candidates costs 32 endpoint lookups and 256 numeric ones.
 */
interface FlowIndex {
  endpoints: Map<string, number>;
  pairs: Map<number, PairFlows>;
}

const PAIR_SHIFT = 2 ** 26;

function endpointText(proto: string, host: string, port: number): string {
  return `${proto} ${host} ${port}`;
}

function pairOf(a: number, b: number): number {
  return a <= b ? a * PAIR_SHIFT + b : b * PAIR_SHIFT + a;
}

function stunAnswered(r: FlowRecord): boolean {
  const stun = r.app_detail?.stun as { transactions?: { answered?: number } } | undefined;
  return (stun?.transactions?.answered ?? 0) > 0;
}

/** Built once, in one pass over the records. */
function indexFlows(records: readonly FlowRecord[]): FlowIndex {
  const endpoints = new Map<string, number>();
  const pairs = new Map<number, PairFlows>();
  const id = (text: string): number => {
    let n = endpoints.get(text);
    if (n === undefined) {
      n = endpoints.size;
      endpoints.set(text, n);
    }
    return n;
  };
  for (const r of records) {
    if (r.proto !== 'udp' && r.proto !== 'tcp') continue;
    if (endpoints.size >= PAIR_SHIFT - 2) break;
    const o = id(endpointText(r.proto, r.orig_h, r.orig_p));
    const p = id(endpointText(r.proto, r.resp_h, r.resp_p));
    const k = pairOf(o, p);
    let pair = pairs.get(k);
    if (pair === undefined) {
      pair = { community_id: r.community_id, lo: Math.min(o, p), loPkts: 0, hiPkts: 0, answered: false };
      pairs.set(k, pair);
    }
    if (o === p) pair.loPkts += r.orig_pkts + r.resp_pkts;
    else if (o === pair.lo) {
      pair.loPkts += r.orig_pkts;
      pair.hiPkts += r.resp_pkts;
    } else {
      pair.loPkts += r.resp_pkts;
      pair.hiPkts += r.orig_pkts;
    }
    if (stunAnswered(r) || (r.orig_pkts > 0 && r.resp_pkts > 0)) pair.answered = true;
  }
  return { endpoints, pairs };
}

/** The id of an endpoint some flow has, or undefined (nothing was sent from or to it). */
function endpointId(
  index: FlowIndex,
  work: CallWork,
  proto: string,
  host: string | undefined,
  port: number | undefined,
): number | undefined {
  if (host === undefined || port === undefined) return undefined;
  work.lookups++;
  return index.endpoints.get(endpointText(proto, host, port));
}

function between(index: FlowIndex, work: CallWork, a: number, b: number): PairFlows | undefined {
  work.lookups++;
  return index.pairs.get(pairOf(a, b));
}

/** Packets endpoint `e` sent in the pair's flows. */
function sentBy(pair: PairFlows, e: number): number {
  return e === pair.lo ? pair.loPkts : pair.hiPkts;
}

/** A string field of a record's detail (or undefined): details are read as data, not trusted as typed. */
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A port field: an integer 1-65535, else undefined (port 0 rejects a stream, RFC 3264 section 6). */
function port(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535 ? v : undefined;
}

function array<T>(v: unknown): readonly T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function judgeMedia(
  index: FlowIndex,
  work: CallWork,
  type: string,
  offer: SdpMedia | undefined,
  answer: SdpMedia | undefined,
): CallMedia {
  const m: CallMedia = { type, flows: [], to_answerer: 0, to_offerer: 0, status: 'not-negotiated' };
  const oa = str(offer?.address);
  const op = port(offer?.port);
  const aa = str(answer?.address);
  const ap = port(answer?.port);
  if (oa !== undefined && op !== undefined) m.offer = `${oa}:${op}`;
  if (aa !== undefined && ap !== undefined) m.answer = `${aa}:${ap}`;
  m.protocol = str(offer?.protocol) ?? str(answer?.protocol);
  // Port 0 in the answer rejects the stream (RFC 3264 section 6).
  if (oa === undefined || op === undefined || aa === undefined || ap === undefined) return m;
  const proto = (m.protocol ?? '').toUpperCase().includes('TCP') ? 'tcp' : 'udp';
  const offerEnd = endpointId(index, work, proto, oa, op);
  const answerEnd = endpointId(index, work, proto, aa, ap);
  // Only the flow between the two negotiated endpoints (a NAT or relay in between shows up as
  // ICE pairs instead).
  const pair =
    offerEnd !== undefined && answerEnd !== undefined ? between(index, work, offerEnd, answerEnd) : undefined;
  if (pair !== undefined) {
    m.flows.push(pair.community_id);
    m.to_answerer = sentBy(pair, offerEnd!);
    // The same endpoint on both sides (a loop): its packets count once, as sent to the answerer.
    if (offerEnd !== answerEnd) m.to_offerer = sentBy(pair, answerEnd!);
  }
  m.status =
    m.to_answerer > 0 && m.to_offerer > 0
      ? 'both-ways'
      : m.to_answerer + m.to_offerer > 0
        ? 'one-way'
        : 'not-seen';
  const oc = array<SdpCandidate | undefined>(offer?.candidates);
  const ac = array<SdpCandidate | undefined>(answer?.candidates);
  if (oc.length > 0 || ac.length > 0) {
    let tried = 0;
    let answered = 0;
    const pairs = new Set<PairFlows>();
    // The answer's candidates as endpoint ids, per transport, looked up once each.
    const answerIds = new Map<string, (number | undefined)[]>();
    const idsOf = (t: string): (number | undefined)[] => {
      let ids = answerIds.get(t);
      if (ids === undefined) {
        ids = ac.map((b) => endpointId(index, work, t, str(b?.ip), port(b?.port)));
        answerIds.set(t, ids);
      }
      return ids;
    };
    // At most MAX_CANDIDATES (sdp.ts) on each side: a bounded number of lookups per stream.
    const listed: IcePair[] = [];
    for (const a of oc) {
      const t = (str(a?.transport) ?? 'udp').toLowerCase() === 'tcp' ? 'tcp' : 'udp';
      const aHost = str(a?.ip);
      const aPort = port(a?.port);
      const aId = endpointId(index, work, t, aHost, aPort);
      if (aId === undefined) continue;
      const ids = idsOf(t);
      for (let k = 0; k < ids.length; k++) {
        const bId = ids[k];
        if (bId === undefined) continue;
        const p = between(index, work, aId, bId);
        if (p === undefined || pairs.has(p)) continue;
        pairs.add(p);
        tried++;
        if (p.answered) answered++;
        listed.push({
          transport: t,
          offer: endpoint(aHost!, aPort!),
          answer: endpoint(str(ac[k]?.ip)!, port(ac[k]?.port)!),
          answered: p.answered,
          community_id: p.community_id,
        });
      }
    }
    // Answered pairs first (the one media took is among them), then in the order tried.
    listed.sort((x, y) => Number(y.answered) - Number(x.answered));
    m.ice = {
      offer_candidates: oc.length,
      answer_candidates: ac.length,
      pairs_tried: tried,
      pairs_answered: answered,
      pairs: listed.slice(0, MAX_ICE_PAIRS),
    };
  }
  return m;
}

/** Signalling flows listed per call; beyond, they are counted in `signalling_dropped`. */
const MAX_SIGNALLING = 16;

/**
 * Builds the call view from every flow record of a capture: one pass over the records, one index
 * of them by endpoint pair, then a bounded number of lookups per negotiated stream (linear in the
 * records; `work` counts the lookups).
 */
export function buildCalls(records: readonly FlowRecord[], work: CallWork = { lookups: 0 }): Call[] {
  const index = indexFlows(records);
  const calls = new Map<string, Call>();
  /** Per call, the signalling flows already listed (a Set: a call_id shared by many flows stays linear). */
  const legs = new Map<Call, Set<string>>();
  for (const rec of records) {
    for (const d of dialogsOf(rec)) {
      if (typeof d !== 'object' || d === null) continue;
      const id = str(d.call_id);
      const methods = array<unknown>(d.methods);
      // Calls only: an INVITE or an SDP exchange (REGISTER, OPTIONS, SUBSCRIBE dialogs are not calls).
      if (id === undefined || (!methods.includes('INVITE') && !d.offer && !d.answer)) continue;
      let call = calls.get(id);
      if (!call) {
        call = { call_id: id, bye: false, signalling: [], start_ts: rec.ts, media: [], findings: [] };
        calls.set(id, call);
        legs.set(call, new Set());
      }
      const seen = legs.get(call)!;
      if (!seen.has(rec.community_id)) {
        seen.add(rec.community_id);
        if (call.signalling.length < MAX_SIGNALLING) call.signalling.push(rec.community_id);
        else call.signalling_dropped = (call.signalling_dropped ?? 0) + 1;
      }
      call.start_ts = Math.min(call.start_ts, rec.ts);
      call.from ??= str(d.from);
      call.to ??= str(d.to);
      if (typeof d.invite_status === 'number') call.invite_status = d.invite_status;
      call.bye ||= d.bye === true;
      // The same dialog seen on two signalling legs negotiates the same media: judge it once.
      if (call.media.length > 0 || (!d.offer && !d.answer)) continue;
      const offered = array<SdpMedia | undefined>(d.offer?.media);
      const answered = array<SdpMedia | undefined>(d.answer?.media);
      for (let i = 0; i < Math.max(offered.length, answered.length); i++)
        call.media.push(
          judgeMedia(
            index,
            work,
            str(offered[i]?.type) ?? str(answered[i]?.type) ?? 'unknown',
            offered[i],
            answered[i],
          ),
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
