/**
 * The tunnel a flow's packets came through (decode/tunnel.ts): kept per flow from its first
 * tunnelled packet, with up to MAX_OTHER_TUNNELS more when other tunnels carry the same flow (a
 * SPAN session per direction, two collectors). A packet through the known tunnel costs a few
 * number comparisons and allocates nothing.
 */
import { TUNNEL_NAMES, TunnelKind, type PacketView } from '../decode/view.js';
import type { Flow } from './flow.js';
import { addressString } from './table.js';

const MAX_OTHER_TUNNELS = 3;

export interface FlowTunnel {
  kind: TunnelKind;
  ipVersion: number;
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
  key: number;
  hasKey: boolean;
  vlan: number;
  others: FlowTunnel[] | null;
}

/** What the flow record says about a tunnel: its type, outer addresses, and key under its own name. */
export interface TunnelRecord {
  type: (typeof TUNNEL_NAMES)[number];
  outer_src: string;
  outer_dst: string;
  /** GRE key (RFC 2890). */
  key?: number;
  /** PPTP call id. */
  call_id?: number;
  /** ERSPAN session id. */
  session?: number;
  /** VXLAN network identifier. */
  vni?: number;
  /** VLAN id of the outer frame. */
  outer_vlan?: number;
  /** Other tunnels that carried packets of the same flow. */
  also?: Omit<TunnelRecord, 'also'>[];
}

export function tunnelOf(view: PacketView): FlowTunnel {
  return {
    kind: view.tunnel,
    ipVersion: view.tunnelIpVersion,
    src0: view.tunnelSrc0,
    src1: view.tunnelSrc1,
    src2: view.tunnelSrc2,
    src3: view.tunnelSrc3,
    dst0: view.tunnelDst0,
    dst1: view.tunnelDst1,
    dst2: view.tunnelDst2,
    dst3: view.tunnelDst3,
    key: view.tunnelKey,
    hasKey: view.tunnelHasKey,
    vlan: view.tunnelVlan,
    others: null,
  };
}

/** Same tunnel, in either direction (the two ends of a GRE tunnel swap outer addresses). */
function sameTunnel(t: FlowTunnel, view: PacketView): boolean {
  if (t.kind !== view.tunnel || t.key !== view.tunnelKey || t.ipVersion !== view.tunnelIpVersion)
    return false;
  const forward =
    t.src3 === view.tunnelSrc3 &&
    t.dst3 === view.tunnelDst3 &&
    t.src2 === view.tunnelSrc2 &&
    t.dst2 === view.tunnelDst2 &&
    t.src1 === view.tunnelSrc1 &&
    t.dst1 === view.tunnelDst1 &&
    t.src0 === view.tunnelSrc0 &&
    t.dst0 === view.tunnelDst0;
  if (forward) return true;
  return (
    t.src3 === view.tunnelDst3 &&
    t.dst3 === view.tunnelSrc3 &&
    t.src2 === view.tunnelDst2 &&
    t.dst2 === view.tunnelSrc2 &&
    t.src1 === view.tunnelDst1 &&
    t.dst1 === view.tunnelSrc1 &&
    t.src0 === view.tunnelDst0 &&
    t.dst0 === view.tunnelSrc0
  );
}

/** Records the tunnel of a tunnelled packet (view.tunnel is not None) on its flow. */
export function noteTunnel(flow: Flow, view: PacketView): void {
  const first = flow.tunnel;
  if (first === null) {
    flow.tunnel = tunnelOf(view);
    return;
  }
  if (sameTunnel(first, view)) return;
  const others = first.others;
  if (others !== null) {
    for (const t of others) if (sameTunnel(t, view)) return;
    if (others.length >= MAX_OTHER_TUNNELS) return;
    others.push(tunnelOf(view));
  } else first.others = [tunnelOf(view)];
}

function record(t: FlowTunnel): Omit<TunnelRecord, 'also'> {
  const rec: Omit<TunnelRecord, 'also'> = {
    type: TUNNEL_NAMES[t.kind],
    outer_src: addressString(t.ipVersion, t.src0, t.src1, t.src2, t.src3),
    outer_dst: addressString(t.ipVersion, t.dst0, t.dst1, t.dst2, t.dst3),
  };
  if (t.hasKey) {
    if (t.kind === TunnelKind.Gre) rec.key = t.key;
    else if (t.kind === TunnelKind.Pptp) rec.call_id = t.key;
    else if (t.kind === TunnelKind.Vxlan) rec.vni = t.key;
    else if (t.kind === TunnelKind.ErspanI) rec.key = t.key;
    else rec.session = t.key;
  }
  if (t.vlan >= 0) rec.outer_vlan = t.vlan;
  return rec;
}

export function tunnelRecord(t: FlowTunnel): TunnelRecord {
  const rec: TunnelRecord = record(t);
  if (t.others !== null) rec.also = t.others.map(record);
  return rec;
}
