/**
 * What `compare` says about two captures of the same traffic taken at two points of its path:
 * capture A (the first given) and capture B. One of them is nearer the client (--client-side,
 * default A). In JSON each flow is counted once and carries, next to the flow fields and verdict
 * of `analyze`:
 *
 *   "seen_at": ["a", "b"],            the captures the flow appears in
 *   "lost_a_to_b": 3,                 packets that passed A towards B and never reached B
 *   "lost_b_to_a": 0,
 *   "injected": true,                 a reset or ICMP error seen at one point that the endpoint
 *   "injected_by": { ... },           beyond the other point never sent (something between did)
 *   "path": { "finding": "forward-path-dropped", "segment": "between", "direction": "a_to_b",
 *             "text": "dropped between the client capture (a) and the server capture (b): ..." },
 *   "a": { frames, endpoints and verdict as capture A saw the flow }, "b": { ... }
 */
import type { Analysis, AnalysisSummary } from '../verdict/analysis.js';
import type { ConnState } from '../flow/conn-state.js';
import type { JudgedFlow, NetworkOutcome, Verdict } from '../verdict/types.js';

export type Point = 'a' | 'b';

/**
 * What the comparison found for one flow:
 * - `passed`: seen at both points, nothing lost on the way.
 * - `forward-path-dropped` / `forward-path-loss`: the originator's packets passed the point on
 *   its side and none (or only some) reached the other point.
 * - `return-path-dropped` / `return-path-loss`: the answer passed the point on the responder's
 *   side and none (or only some) reached the originator's point: a firewall that drops the return
 *   path only.
 * - `injected-reset` / `injected-icmp`: a reset or an ICMP error reached one point without passing
 *   the other: a device between the points sent it.
 * - `not-answered-beyond`: the originator's packets passed both points and no answer came back to
 *   either: the responder, or something beyond the far point, did not answer.
 * - `refused-beyond`: the reset or ICMP error passed both points: it came from beyond the far point.
 * - `only-at-a` / `only-at-b`: seen at one point only, while the other capture was running, and
 *   nothing of it was lost on the way (it did not take the path through the other point).
 * - `outside-other-capture`: seen at one point only, at times the other capture did not cover.
 * - `local`: both endpoints are on the same side of both points.
 * - `not-compared`: its packets were past the bound of what the comparison keeps (--max-packets,
 *   --max-records); it is counted and judged as `analyze` judges it, not compared.
 */
export const PATH_FINDINGS = [
  'passed',
  'forward-path-dropped',
  'forward-path-loss',
  'return-path-dropped',
  'return-path-loss',
  'injected-reset',
  'injected-icmp',
  'not-answered-beyond',
  'refused-beyond',
  'only-at-a',
  'only-at-b',
  'outside-other-capture',
  'local',
  'not-compared',
] as const;
export type PathFinding = (typeof PATH_FINDINGS)[number];

/**
 * Where on the path: `between` the two capture points; `beyond-a` / `beyond-b`: past that point,
 * on the side away from the other point (the endpoint there, or something on its way to it).
 */
export type Segment = 'between' | 'beyond-a' | 'beyond-b';

export type Direction = 'a_to_b' | 'b_to_a' | 'both';

export interface InjectedPacket {
  kind: 'tcp-reset' | 'icmp';
  /** The capture it was seen at (and not at the other). */
  seen_at: Point;
  /** Its frame number in that capture. */
  frame: number;
  /** Its source address (a reset carries the far endpoint's; an ICMP error its sender's). */
  address: string;
  /** TTL (IPv4) or hop limit (IPv6) as captured. */
  ttl: number;
  /** TTL of the far endpoint's own packets at the same point, when any were seen. */
  endpoint_ttl?: number;
  /** ICMP type and name, for an ICMP error. */
  icmp?: string;
  text: string;
}

export interface FlowPath {
  finding: PathFinding;
  segment: Segment | null;
  direction: Direction | null;
  /** The finding in words, with the segment and the packets: what the reports print. */
  text: string;
  /** The endpoint on each point's side, as that point's capture shows it (null when unknown). */
  a_side: string | null;
  b_side: string | null;
  /** How the flow was found in both captures: the same 5-tuple, a --nat mapping, or what a NAT keeps. */
  matched_by?: '5-tuple' | 'nat-mapping' | 'nat-fingerprint';
  /** Packets found at both points. */
  matched_packets: number;
}

/** The flow as one capture saw it. */
export interface SideView {
  ts: number;
  duration: number;
  first_frame: number;
  last_frame: number;
  orig_h: string;
  orig_p: number;
  resp_h: string;
  resp_p: number;
  conn_state: ConnState;
  history: string;
  orig_pkts: number;
  resp_pkts: number;
  verdict: Verdict;
  network: NetworkOutcome;
  display_filter?: string;
}

export interface ComparedFlow extends JudgedFlow {
  seen_at: Point[];
  lost_a_to_b: number;
  lost_b_to_a: number;
  /** Frame (in A) of the first packet lost from A towards B, and (in B) from B towards A. */
  lost_a_to_b_first_frame?: number;
  lost_b_to_a_first_frame?: number;
  injected: boolean;
  injected_by?: InjectedPacket;
  path: FlowPath;
  /** The capture whose view of the flow gave the verdict and the flow fields (the originator's side). */
  verdict_from: Point;
  a?: SideView;
  b?: SideView;
}

export interface CaptureSide {
  name: string;
  /** Which end of the path this capture is nearer. */
  side: 'client' | 'server';
  packets: number;
  flows: number;
  first_ts: number | null;
  last_ts: number | null;
  /** Packets kept for the comparison (the rest are counted, not compared). */
  compared_packets: number;
}

export interface ComparisonInfo {
  a: CaptureSide;
  b: CaptureSide;
  /**
   * Seconds to add to a time of capture A to get capture B's clock for the same moment, estimated
   * from matched packets (the median each way, averaged so that the transit time cancels); null
   * when no packet was seen at both points.
   */
  clock_offset: number | null;
  /** Packet pairs the offset comes from. */
  clock_offset_packets: number;
  /** The offset in words, as the reports print it. */
  clock_text: string;
  /** One-way transit time between the points (half the difference of the two directions), when both were seen. */
  transit?: number;
  /** Flows seen at both points, by how they were matched. */
  matched: { '5-tuple': number; 'nat-mapping': number; 'nat-fingerprint': number };
  only_a: number;
  only_b: number;
  /** The --nat mappings given, as parsed. */
  nat: string[];
  /** Flows per finding. */
  findings: Partial<Record<PathFinding, number>>;
}

export interface Comparison extends Analysis {
  summary: AnalysisSummary;
  compare: ComparisonInfo;
  flows: ComparedFlow[];
}
