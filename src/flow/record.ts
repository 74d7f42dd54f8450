/**
 * The flow record written by `flows` and carried by `analyze`: Zeek conn.log field names
 * where Zeek has one (ts, duration, proto, orig_h, ..., conn_state, history, orig_ip_bytes),
 * plus the Community ID and the fields this tool adds. Every field is documented in the README.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../decode/view.js';
import { communityId, icmpPorts, wordsToBytes } from './community-id.js';
import { connState, type ConnState } from './conn-state.js';
import { END_REASON_NAMES, ORIG_FROM_NAMES, type Flow, type FlowEndpoint } from './flow.js';
import { icmpErrorName } from './icmp-names.js';
import { addressString } from './table.js';
import { tcpPayloadSize } from './tcp-state.js';
import { tunnelRecord, type TunnelRecord } from './tunnel.js';

export interface IcmpErrorRecord {
  type: number;
  code: number;
  name: string;
  count: number;
  first_ts: number;
  reporter: string;
  /** Which side's packet the error quotes: "orig" when the originator's packet was refused. */
  about: 'orig' | 'resp';
  /** TTL (IPv4) or hop limit (IPv6) of the first ICMP error as captured. */
  ttl: number;
}

/**
 * TTL (IPv4) or hop limit (IPv6) as captured: of each side's first packet that is not a TCP
 * reset, and of each side's first reset. Who sent a reset is read from these (answered_by).
 */
export interface TtlRecord {
  orig?: number;
  resp?: number;
  orig_rst?: number;
  resp_rst?: number;
}

export interface FlowRecord {
  ts: number;
  duration: number;
  proto: string;
  ip_proto: number;
  orig_h: string;
  orig_p: number;
  resp_h: string;
  resp_p: number;
  conn_state: ConnState;
  history: string;
  orig_pkts: number;
  orig_bytes: number;
  resp_pkts: number;
  resp_bytes: number;
  orig_ip_bytes: number;
  resp_ip_bytes: number;
  orig_frame_bytes: number;
  resp_frame_bytes: number;
  community_id: string;
  orig_from: (typeof ORIG_FROM_NAMES)[number];
  end_reason: (typeof END_REASON_NAMES)[number];
  first_frame: number;
  last_frame: number;
  /** Set on problem flows by `analyze` and `compare`: a Wireshark display filter for the flow (display-filter.ts). */
  display_filter?: string;
  ttl: TtlRecord;
  vlan?: number;
  /** The tunnel (GRE, ERSPAN, VXLAN) the flow's packets were decapsulated from. */
  tunnel?: TunnelRecord;
  fragments?: number;
  icmp?: IcmpErrorRecord;
  icmp_quote?: { proto: string; orig_h: string; orig_p: number; resp_h: string; resp_p: number };
  /**
   * Set by cross-flow steps: this flow belongs to another exchange (a DCE/RPC connection to a
   * port the endpoint mapper on `port` 135 announced in flow `mapper`).
   */
  linked?: { kind: 'dcerpc-endpoint'; mapper: string; port: number };
  /** From the recognize stage: the application protocol, what it said, and problems it showed. */
  app?: string;
  app_confidence?: number;
  app_detail?: Record<string, unknown>;
  app_findings?: {
    kind: string;
    severity: string;
    message: string;
    ts?: number;
    detail?: Record<string, unknown>;
  }[];
}

const SCTP = 132;

export function protoName(proto: number): string {
  if (proto === IPPROTO_TCP) return 'tcp';
  if (proto === IPPROTO_UDP) return 'udp';
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) return 'icmp';
  if (proto === SCTP) return 'sctp';
  return `ip-${proto}`;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function flowCommunityId(flow: Flow, seed = 0): string {
  const o = flow.orig;
  const r = flow.resp;
  let oneWay = false;
  if (flow.proto === IPPROTO_ICMP || flow.proto === IPPROTO_ICMPV6)
    oneWay = icmpPorts(flow.proto, o.port, 0).oneWay;
  return communityId(
    {
      proto: flow.proto,
      src: wordsToBytes(flow.ipVersion, o.a0, o.a1, o.a2, o.a3),
      dst: wordsToBytes(flow.ipVersion, r.a0, r.a1, r.a2, r.a3),
      sport: o.port,
      dport: r.port,
      oneWay,
    },
    seed,
  );
}

function ttlRecord(o: FlowEndpoint, r: FlowEndpoint): TtlRecord {
  const t: TtlRecord = {};
  if (o.ttl >= 0) t.orig = o.ttl;
  if (r.ttl >= 0) t.resp = r.ttl;
  if (o.rstTtl >= 0) t.orig_rst = o.rstTtl;
  if (r.rstTtl >= 0) t.resp_rst = r.rstTtl;
  return t;
}

export function toFlowRecord(flow: Flow, seed = 0): FlowRecord {
  const o = flow.orig;
  const r = flow.resp;
  const tcp = flow.proto === IPPROTO_TCP;
  const rec: FlowRecord = {
    ts: round6(flow.firstTs),
    duration: round6(flow.lastTs - flow.firstTs),
    proto: protoName(flow.proto),
    ip_proto: flow.proto,
    orig_h: addressString(flow.ipVersion, o.a0, o.a1, o.a2, o.a3),
    orig_p: o.port,
    resp_h: addressString(flow.ipVersion, r.a0, r.a1, r.a2, r.a3),
    resp_p: r.port,
    conn_state: connState(flow),
    history: flow.history,
    orig_pkts: o.pkts,
    orig_bytes: tcp ? tcpPayloadSize(o, r) : o.payloadBytes,
    resp_pkts: r.pkts,
    resp_bytes: tcp ? tcpPayloadSize(r, o) : r.payloadBytes,
    orig_ip_bytes: o.ipBytes,
    resp_ip_bytes: r.ipBytes,
    orig_frame_bytes: o.frameBytes,
    resp_frame_bytes: r.frameBytes,
    community_id: flowCommunityId(flow, seed),
    orig_from: ORIG_FROM_NAMES[flow.origFrom],
    end_reason: END_REASON_NAMES[flow.endReason],
    first_frame: flow.firstFrame,
    last_frame: flow.lastFrame,
    ttl: ttlRecord(o, r),
  };
  if (flow.vlanId >= 0) rec.vlan = flow.vlanId;
  if (flow.tunnel !== null) rec.tunnel = tunnelRecord(flow.tunnel);
  if (flow.fragments > 0) rec.fragments = flow.fragments;
  if (flow.icmpErrors !== null && flow.icmpErrors.length > 0) {
    const first = flow.icmpErrors[0];
    rec.icmp = {
      type: first.type,
      code: first.code,
      name: icmpErrorName(flow.ipVersion, first.type, first.code),
      count: flow.icmpErrorCount,
      first_ts: round6(first.ts),
      reporter: first.reporter,
      about: first.aboutOrig ? 'orig' : 'resp',
      ttl: first.ttl,
    };
  }
  if (flow.icmpQuote !== null) {
    const q = flow.icmpQuote;
    rec.icmp_quote = {
      proto: protoName(q.proto),
      orig_h: q.src,
      orig_p: q.srcPort,
      resp_h: q.dst,
      resp_p: q.dstPort,
    };
  }
  return rec;
}
