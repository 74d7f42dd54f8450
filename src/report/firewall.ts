/**
 * Firewall rules from catalog rows: which role opens (or sends first) to which role, on which
 * ports, with which addresses. One plan, rendered by one file per format (firewall-nftables.ts,
 * firewall-iptables.ts, firewall-windows.ts, and the address columns of the catalog CSV).
 *
 * An inbound row of role R with peers P is traffic from each of P to R on the row's ports; an
 * outbound row is traffic from R to each of P. `--from A --to B` narrows both sides to A and B.
 * Addresses come from the topology (a host whose role carries R along, such as a cms host for
 * front-end, counts as R), then from the catalog's own role addresses (Microsoft 365 services);
 * a role with neither gets a named set the administrator fills in. "any" has no address test.
 */
import { isIP } from 'node:net';
import {
  ANY_PEER,
  hostRoles,
  rowsBetween,
  type Catalog,
  type CatalogRow,
  type PortRange,
} from '../catalog/index.js';
import type { Topology } from '../topology/topology.js';
import type { CatalogQuery } from './catalog.js';

/** The addresses of one role (or group), by family. */
export interface AddressSet {
  role: string;
  v4: string[];
  v6: string[];
  /** topology: from --topology/--role; catalog: the catalog's published addresses; none: to fill in. */
  origin: 'topology' | 'catalog' | 'none';
}

/** One allowed flow: `from` opens (or sends first) to `to` on `ports`. */
export interface FirewallRule {
  row: CatalogRow;
  /** A role or group id, or "any". */
  from: string;
  to: string;
  transport: CatalogRow['transport'];
  ports: PortRange[];
  /** The role whose host runs the row (the listener of an inbound row, the opener of an outbound row). */
  host: string;
  /** The other side, as the host sees it. */
  remote: string;
}

export interface FirewallPlan {
  catalog: Catalog;
  query: CatalogQuery;
  rows: CatalogRow[];
  rules: FirewallRule[];
  /** Every role a rule names (not "any"), in first-use order. */
  sets: Map<string, AddressSet>;
  /** How the command was asked, for the header comment. */
  command: string;
  /** Where the addresses came from, in words, for the header comment. */
  addressesFrom: string;
}

/** The concrete roles a role or group stands for. */
function members(catalog: Catalog, name: string): string[] {
  return catalog.groups[name] ?? [name];
}

/** Between two roles: which rows carry traffic from --from to --to, and (with bothWays) back. */
interface Between {
  forward: ReadonlySet<string>;
  back: ReadonlySet<string>;
}

function pairs(
  catalog: Catalog,
  query: CatalogQuery,
  between: Between | undefined,
  row: CatalogRow,
): Array<[string, string]> {
  if ('from' in query && between !== undefined)
    return [
      ...(between.forward.has(row.id) ? [[query.from, query.to] as [string, string]] : []),
      ...(between.back.has(row.id) ? [[query.to, query.from] as [string, string]] : []),
    ];
  const peers = row.peers.includes(ANY_PEER) ? [ANY_PEER] : row.peers.flatMap((p) => members(catalog, p));
  const own = 'role' in query ? [query.role] : row.roles.flatMap((r) => members(catalog, r));
  const out: Array<[string, string]> = [];
  for (const r of own) for (const p of peers) out.push(row.direction === 'inbound' ? [p, r] : [r, p]);
  // A row of role and peer in the same group (the internal servers among themselves) names each pair once.
  return out.filter(([a, b], i) => out.findIndex(([c, d]) => c === a && d === b) === i);
}

function splitFamilies(addresses: readonly string[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addresses) (isIP(a.split('/')[0]) === 6 ? v6 : v4).push(a);
  return { v4, v6 };
}

/**
 * The addresses of a role: topology entries whose role is it or carries it along (groups: their
 * members'), else the catalog's published addresses, else none.
 */
function addressSet(catalog: Catalog, topology: Topology | undefined, role: string): AddressSet {
  const wanted = new Set(members(catalog, role));
  const fromTopology: string[] = [];
  for (const e of topology?.entries ?? [])
    if (hostRoles(catalog, [e.role]).some((r) => wanted.has(r)) && !fromTopology.includes(e.prefix.text))
      fromTopology.push(e.prefix.text);
  if (fromTopology.length > 0) return { role, ...splitFamilies(fromTopology), origin: 'topology' };
  const published = [...wanted].flatMap((r) => catalog.roleAddresses[r]?.addresses ?? []);
  if (published.length > 0) return { role, ...splitFamilies(published), origin: 'catalog' };
  return { role, v4: [], v6: [], origin: 'none' };
}

export interface PlanOptions {
  catalog: Catalog;
  query: CatalogQuery;
  rows: CatalogRow[];
  topology?: Topology;
  /** The topology as the user gave it ("topology.json", "--role"), for the header. */
  topologyLabel?: string;
  command: string;
}

export function planFirewall(o: PlanOptions): FirewallPlan {
  const rules: FirewallRule[] = [];
  const sets = new Map<string, AddressSet>();
  const use = (role: string): void => {
    if (role !== ANY_PEER && !sets.has(role)) sets.set(role, addressSet(o.catalog, o.topology, role));
  };
  const q = o.query;
  const between: Between | undefined =
    'from' in q
      ? {
          forward: new Set(rowsBetween(o.catalog, q.from, q.to).map((r) => r.id)),
          back: new Set(q.bothWays === true ? rowsBetween(o.catalog, q.to, q.from).map((r) => r.id) : []),
        }
      : undefined;
  for (const row of o.rows)
    for (const [from, to] of pairs(o.catalog, o.query, between, row)) {
      use(from);
      use(to);
      const host = row.direction === 'inbound' ? to : from;
      rules.push({
        row,
        from,
        to,
        transport: row.transport,
        ports: row.portRanges,
        host,
        remote: host === to ? from : to,
      });
    }
  const origins = new Set([...sets.values()].map((s) => s.origin));
  const words: string[] = [];
  if (origins.has('topology')) words.push(`the topology (${o.topologyLabel ?? 'given'})`);
  if (origins.has('catalog'))
    words.push(
      `the catalog's published addresses${o.catalog.endpoints ? ` (${o.catalog.endpoints.list}, version ${o.catalog.endpoints.version})` : ''}`,
    );
  const addressesFrom =
    words.length === 0
      ? 'no addresses given (--topology FILE or --role ROLE=ADDR): every set is yours to fill in'
      : `addresses from ${words.join(' and ')}${origins.has('none') ? '; sets without addresses are yours to fill in' : ''}`;
  return { catalog: o.catalog, query: o.query, rows: o.rows, rules, sets, command: o.command, addressesFrom };
}

/** A role id as an identifier (nftables set, ipset, PowerShell variable): letters, digits, underscores. */
export function identifier(role: string): string {
  return role.replace(/[^A-Za-z0-9]/g, '_');
}

/**
 * A rule comment: the row id and the service, as text no firewall syntax can be broken by
 * (catalog files come from users): printable ASCII without quotes or backslashes, at most `max`.
 */
export function ruleComment(row: CatalogRow, max = 120): string {
  const text = `${row.id}: ${row.service}`
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/["'`\\$;]/g, '');
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** "front-end inbound TCP 5061 from client (sip-tls), optional": a rule's comment line. */
export function ruleSummary(rule: FirewallRule): string {
  const t = rule.transport === 'both' ? 'TCP+UDP' : rule.transport.toUpperCase();
  const mark = rule.row.optional === true ? ', optional' : '';
  const overridden = rule.row.overridden ? `, ${rule.row.overridden.setting} set by --media-ports` : '';
  return `${rule.from} -> ${rule.to} ${t} ${rule.row.ports} (${ruleComment(rule.row)}; ${rule.row.protocol}${mark}${overridden})`;
}

/** The header every format starts with (each line is given the format's comment prefix). */
export function headerLines(plan: FirewallPlan): string[] {
  const c = plan.catalog;
  const what =
    'from' in plan.query
      ? `from ${plan.query.from} to ${plan.query.to}${plan.query.bothWays === true ? ' and back' : ''}`
      : 'role' in plan.query
        ? `for role ${plan.query.role}`
        : 'for every row';
  const lines = [
    `Generated by: ${plan.command}`,
    `Catalog: ${c.title} (${c.product}${c.endpoints ? `, endpoints version ${c.endpoints.version}` : ''}); rules ${what}: ${plan.rows.length} rows, ${plan.rules.length} allowed flows.`,
    `${plan.addressesFrom[0].toUpperCase()}${plan.addressesFrom.slice(1)}.`,
  ];
  const empty = [...plan.sets.values()].filter((s) => s.origin === 'none').map((s) => s.role);
  if (empty.length > 0) lines.push(`To fill in: ${empty.join(', ')}.`);
  return lines;
}
