/**
 * Matching observed traffic against the catalog. A flow's responder is matched with inbound rows
 * of its role on the responder port; its originator with outbound rows of its role on the same
 * (responder) port, because outbound rows give the port on the other side.
 */
import { inRanges } from './ports.js';
import { coversAny, hostRoles, rowsForRole } from './roles.js';
import type { Catalog, CatalogRow, Direction, Transport } from './types.js';

export interface MatchQuery {
  /** The role of the endpoint the row is about: the responder for inbound, the originator for outbound. */
  role: string;
  /** The responder's port (the port that was connected to or sent to). */
  port: number;
  transport: Transport;
  direction: Direction;
}

/** Rows of `q.role` (groups expanded) in `q.direction` whose ports and transport cover the flow. */
export function matchRows(catalog: Catalog, q: MatchQuery): CatalogRow[] {
  const out: CatalogRow[] = [];
  for (const row of rowsForRole(catalog, q.role)) {
    if (row.direction !== q.direction) continue;
    if (row.transport !== 'both' && row.transport !== q.transport) continue;
    if (inRanges(q.port, row.portRanges)) out.push(row);
  }
  return out;
}

/**
 * The rows that must be open for traffic from hosts with role `from` to hosts with role `to`:
 * outbound rows of `from` whose peers include `to` (or are "any"), then inbound rows of `to`
 * whose peers include `from` (or are "any"). Roles a host carries along count on both sides.
 */
export function rowsBetween(catalog: Catalog, from: string, to: string): CatalogRow[] {
  const fromRoles = hostRoles(catalog, [from]);
  const toRoles = hostRoles(catalog, [to]);
  const peerFits = (row: CatalogRow, other: string[]): boolean => coversAny(catalog, row.peers, other);
  const outbound = catalog.rows.filter(
    (row) =>
      row.direction === 'outbound' && coversAny(catalog, row.roles, fromRoles) && peerFits(row, toRoles),
  );
  const inbound = catalog.rows.filter(
    (row) =>
      row.direction === 'inbound' && coversAny(catalog, row.roles, toRoles) && peerFits(row, fromRoles),
  );
  return [...outbound, ...inbound];
}

/**
 * Single ports (not ranges) that some role listens on: inbound rows' ports and the peer ports of
 * outbound rows. The flow table uses them as "likely server ports" to orient flows.
 */
export function fixedServicePorts(catalog: Catalog): Set<number> {
  const ports = new Set<number>();
  for (const row of catalog.rows) for (const [lo, hi] of row.portRanges) if (lo === hi) ports.add(lo);
  return ports;
}
