/**
 * Ties DCE/RPC follow-on connections to the endpoint-mapper exchange that announced their port.
 * The mapper on TCP 135 hands out dynamic ports (Windows: 49152-65535, KB929851) that overlap
 * Lync's media ranges; without this link a DCOM connection to such a port would look like media,
 * or like traffic nobody expected. dcerpc.ts reports the announced ports as app_detail.epm_endpoints.
 */
import type { FlowRecord } from '../flow/record.js';

interface Endpoint {
  port?: number;
  protocol?: string;
  ip?: string;
}

/** "host port" → the Community ID of the mapper flow that announced it. */
export function rpcEndpoints(records: readonly FlowRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of records) {
    if (r.app !== 'dcerpc') continue;
    const eps = r.app_detail?.epm_endpoints;
    if (!Array.isArray(eps)) continue;
    for (const e of eps as Endpoint[]) {
      if (typeof e.port !== 'number' || (e.protocol !== undefined && e.protocol !== 'tcp')) continue;
      // An endpoint without an address lives on the host that answered the mapper.
      const host = typeof e.ip === 'string' ? e.ip : r.resp_h;
      if (!out.has(`${host} ${e.port}`)) out.set(`${host} ${e.port}`, r.community_id);
    }
  }
  return out;
}

/** Marks the flows that connect to an announced endpoint (record.linked), and returns how many. */
export function linkRpcFlows(records: readonly FlowRecord[]): number {
  const endpoints = rpcEndpoints(records);
  let linked = 0;
  if (endpoints.size === 0) return 0;
  for (const r of records) {
    if (r.proto !== 'tcp' || r.resp_p === 135) continue;
    const mapper = endpoints.get(`${r.resp_h} ${r.resp_p}`);
    if (mapper === undefined) continue;
    r.linked = { kind: 'dcerpc-endpoint', mapper, port: 135 };
    linked++;
  }
  return linked;
}
