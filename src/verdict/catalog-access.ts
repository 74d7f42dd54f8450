/**
 * The catalog as the verdict stage and the analyze command use it: loaded (built-in or a user
 * file), with media port overrides applied, and indexed for the questions asked per flow.
 */
import {
  applyMediaPortOverrides,
  coversAny,
  fixedServicePorts,
  hostRoles,
  loadCatalog,
  matchRows,
  parseMediaPortOverrides,
  rowsForRole,
  type Catalog,
} from '../catalog/index.js';
import { CLOUD_ROLE } from '../topology/cloud.js';
import type { ListenPort } from '../topology/infer.js';
import type { CatalogAccess, RowLike } from './types.js';

export interface LoadedCatalog {
  catalog: Catalog;
  product: string;
  title: string;
  access: CatalogAccess;
  /** Every role id the catalog knows (topology files are checked against it). */
  roleIds: ReadonlySet<string>;
  /** Single ports some role listens on: the flow table's "likely server ports". */
  serverPorts: ReadonlySet<number>;
  /** For role inference: the fixed ports each role listens on. */
  listenPorts: ReadonlyMap<string, readonly ListenPort[]>;
}

export function catalogAccess(catalog: Catalog): CatalogAccess {
  const cache = new Map<string, RowLike[]>();
  const hostCache = new Map<string, string[]>();
  const audited = auditedRoles(catalog);
  return {
    rowsForRole(role: string): RowLike[] {
      let rows = cache.get(role);
      if (rows === undefined) {
        rows = rowsForRole(catalog, role);
        cache.set(role, rows);
      }
      return rows;
    },
    match(q) {
      return matchRows(catalog, q);
    },
    isServerRole(role: string): boolean {
      return catalog.roles[role]?.kind === 'server';
    },
    knowsRole(role: string): boolean {
      return audited.has(role);
    },
    hostRoles(roles: readonly string[]): string[] {
      if (roles.length === 0) return [];
      const key = roles.join('+');
      let all = hostCache.get(key);
      if (all === undefined) {
        all = hostRoles(catalog, roles);
        hostCache.set(key, all);
      }
      return all;
    },
    peersFit(row, otherRoles) {
      return row.peers === undefined || coversAny(catalog, row.peers, otherRoles);
    },
  };
}

export function loadCatalogForAnalysis(
  nameOrPath: string,
  mediaPortOptions: readonly string[],
): LoadedCatalog {
  let catalog = loadCatalog(nameOrPath);
  if (mediaPortOptions.length > 0)
    catalog = applyMediaPortOverrides(catalog, parseMediaPortOverrides(mediaPortOptions));
  // Microsoft 365 is a role of its own whatever the catalog (topology/cloud.ts); a catalog without
  // rows for it leaves its traffic outside the audit.
  const roleIds = new Set([...Object.keys(catalog.roles), ...Object.keys(catalog.groups ?? {}), CLOUD_ROLE]);
  const listenPorts = new Map<string, ListenPort[]>();
  for (const role of Object.keys(catalog.roles)) {
    const ports: ListenPort[] = [];
    for (const row of rowsForRole(catalog, role)) {
      if (row.direction !== 'inbound') continue;
      for (const [lo, hi] of row.portRanges) {
        if (lo !== hi) continue;
        if (row.transport === 'tcp' || row.transport === 'both') ports.push({ port: lo, transport: 'tcp' });
        if (row.transport === 'udp' || row.transport === 'both') ports.push({ port: lo, transport: 'udp' });
      }
    }
    listenPorts.set(role, ports);
  }
  return {
    catalog,
    product: catalog.product,
    title: catalog.title,
    access: catalogAccess(catalog),
    roleIds,
    serverPorts: fixedServicePorts(catalog),
    listenPorts,
  };
}

/**
 * The roles a catalog audits: declared, and named by a row, as the row's role or as one of its
 * peers (groups expanded). A role declared only so that topologies and inference can name it
 * (lync2010's microsoft-365, whose rows are in the teams catalog) is not audited: its traffic is
 * outside the audit rather than "unexpected" against rows that were never meant to cover it.
 */
function auditedRoles(catalog: Catalog): Set<string> {
  const named = new Set<string>();
  const add = (name: string): void => {
    named.add(name);
    for (const member of catalog.groups[name] ?? []) named.add(member);
  };
  for (const row of catalog.rows) {
    row.roles.forEach(add);
    row.peers.forEach(add);
  }
  const out = new Set<string>();
  for (const id of [...Object.keys(catalog.roles), ...Object.keys(catalog.groups)])
    if (named.has(id) || (catalog.groups[id] ?? []).some((m) => named.has(m))) out.add(id);
  return out;
}
