/**
 * `--nat INSIDE=OUTSIDE`: a translation the user knows, between the address (and port) a host has
 * in the capture nearer the client (INSIDE) and the one it has in the capture nearer the server
 * (OUTSIDE): "10.77.1.10=192.0.2.7" (any port), "10.77.1.10:40061=192.0.2.7:61061" (one port),
 * "[fd77:1::10]:443=[2001:db8::7]:443" for IPv6.
 */
import { addressString } from '../flow/table.js';
import { parsePrefix } from '../topology/address.js';

export interface NatMapping {
  inside: string;
  insidePort?: number;
  outside: string;
  outsidePort?: number;
  text: string;
}

export class NatError extends Error {}

function endpointOf(text: string, what: string): { host: string; port?: number } {
  let host = text.trim();
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (v6) {
    host = v6[1];
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const v4 = /^([^:]+):(\d+)$/.exec(host);
    if (v4) {
      host = v4[1];
      port = Number(v4[2]);
    }
  }
  const prefix = (() => {
    try {
      return parsePrefix(host);
    } catch {
      return undefined;
    }
  })();
  if (prefix === undefined || host.includes('/'))
    throw new NatError(`--nat: ${what} "${text}" is not an address (or [address]:port, address:port)`);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw new NatError(`--nat: ${what} port in "${text}" must be 1-65535`);
  const w = prefix.words;
  // The flow records' spelling of the address (IPv6 compressed as they print it).
  return { host: addressString(prefix.version, w[0], w[1], w[2], w[3]), port };
}

export function parseNat(spec: string): NatMapping {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new NatError(`--nat must be INSIDE=OUTSIDE (e.g. 10.77.1.10=192.0.2.7), not "${spec}"`);
  const inside = endpointOf(spec.slice(0, eq), 'INSIDE');
  const outside = endpointOf(spec.slice(eq + 1), 'OUTSIDE');
  if ((inside.port === undefined) !== (outside.port === undefined))
    throw new NatError(`--nat: give a port on both sides or on neither, not "${spec}"`);
  return {
    inside: inside.host,
    insidePort: inside.port,
    outside: outside.host,
    outsidePort: outside.port,
    text: spec.trim(),
  };
}

/** The endpoint as the server-side capture shows it, for an endpoint of the client-side capture. */
export function translate(
  mappings: readonly NatMapping[],
  host: string,
  port: number,
): { host: string; port: number } | undefined {
  for (const m of mappings)
    if (m.insidePort !== undefined && m.inside === host && m.insidePort === port)
      return { host: m.outside, port: m.outsidePort! };
  for (const m of mappings)
    if (m.insidePort === undefined && m.inside === host) return { host: m.outside, port };
  return undefined;
}
