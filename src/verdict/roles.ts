/**
 * Per role: the ports that carried traffic, each with how many flows and how they ended (ok,
 * blocked, refused, failed, ...), which peers were affected and when it first failed; the ports
 * nobody expected; and the ports never observed (informational).
 *
 * A flow counts once in each role's table: the rows of that role it matched form one entry. When
 * several rows share a port and the payload cannot tell them apart (TCP 443 on an Edge: Access
 * Edge SIP, Web Conferencing PSOM, A/V Edge), the entry names the candidates; when the payload
 * can, the entry is that row alone. A flow with no row of the role goes to `unexpected`.
 * "never observed" lists each port (transport and port range) of the role no flow touched, once.
 * Streaming: flows are added one by one; memory is bounded by roles × entries plus capped lists.
 */
import type {
  AnsweredBy,
  AppOutcome,
  CatalogAccess,
  CatalogMatch,
  Expectation,
  JudgedFlow,
  NetworkOutcome,
  RowLike,
  Verdict,
} from './types.js';
import { isProblem } from './types.js';

/** How many peers and hosts a role summary lists (the counts beside them are exact). */
export interface ListLimits {
  peers: number;
  hosts: number;
}

export const REPORT_LIST_LIMITS: ListLimits = { peers: 10, hosts: 50 };

export interface PeerCount {
  peer: string;
  verdict: Verdict;
  flows: number;
}

export interface FirstFailure {
  ts: number;
  verdict: Verdict;
  peer: string;
  reason: string;
  community_id: string;
  answered_by?: AnsweredBy;
  /** The failing flow in Wireshark: its display filter and its first and last frame numbers. */
  display_filter?: string;
  first_frame: number;
  last_frame: number;
}

/** One entry of a role's table: a catalog row, or the candidate rows that share a port. */
export interface RowSummary {
  /** The entry's catalog rows: one, or the candidates the payload could not tell apart. */
  ids: string[];
  /** The ids joined with " | ": a stable key for the entry. */
  id: string;
  /** The services in words: "Access Edge service, Web Conferencing Edge service or A/V Edge service". */
  service: string;
  services: string[];
  /** The rows' ports as the catalog writes them (one value, or several joined with ", "). */
  ports: string;
  /** The transport the flows used (a row for both transports shows as one entry per transport seen). */
  transport: 'tcp' | 'udp';
  protocol: string;
  direction: 'inbound' | 'outbound';
  optional?: boolean;
  flows: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The same flows counted per axis. */
  network: Partial<Record<NetworkOutcome, number>>;
  expectation: Partial<Record<Expectation, number>>;
  app_outcome: Partial<Record<AppOutcome, number>>;
  /**
   * 'problem' when any flow's verdict is a problem; 'ok' when flows got through (ok, or incomplete
   * with packets both ways); 'seen' when the only flows were cut by the capture before showing either.
   */
  status: 'problem' | 'ok' | 'seen';
  problem_peers: PeerCount[];
  problem_peer_count: number;
  first_failure?: FirstFailure;
}

export interface UnexpectedPort {
  proto: string;
  port: number;
  /** "inbound": the role answered (or was asked) on this port; "outbound": the role sent to it. */
  direction: 'inbound' | 'outbound';
  flows: number;
  /** Flows the responder answered (the service is reachable), as opposed to attempts that got nothing. */
  answered: number;
  peers: string[];
  peer_count: number;
  first_ts: number;
}

/** A port of the role that no flow touched, with the rows that have it. */
export interface NotSeenPort {
  ports: string;
  /** 'both' when neither transport of a TCP-and-UDP row was seen. */
  transport: 'tcp' | 'udp' | 'both';
  rows: { id: string; service: string; direction: 'inbound' | 'outbound'; optional?: boolean }[];
  /** Every row on this port is optional. */
  optional?: boolean;
}

export interface RoleSummary {
  role: string;
  hosts: string[];
  host_count: number;
  /** Flows of this role's table whose verdict is a problem. */
  problems: number;
  /** Flows counted in this role's table (rows and unexpected ports): each judged flow of the role once. */
  flows: number;
  rows: RowSummary[];
  unexpected: UnexpectedPort[];
  not_seen: NotSeenPort[];
}

interface RowAcc {
  row: RowSummary;
  peers: Map<string, PeerCount>;
  /** Flows that show the port working: ok, or cut by the capture with packets both ways. */
  working: number;
}

interface RoleAcc {
  hosts: Set<string>;
  rows: Map<string, RowAcc>;
  unexpected: Map<string, { port: UnexpectedPort; peers: Set<string> }>;
  /** "tcp 443": the ports (transport and the rows' port text) some flow touched. */
  touched: Set<string>;
  /** Row ids some flow counted in. */
  rowIds: Set<string>;
  problems: number;
  flows: number;
}

/** A table entry's counters before any flow: what a new entry (or a merge of entries) starts from. */
export function emptyRowTallies(): Pick<
  RowSummary,
  | 'flows'
  | 'verdicts'
  | 'network'
  | 'expectation'
  | 'app_outcome'
  | 'status'
  | 'problem_peers'
  | 'problem_peer_count'
> {
  return {
    flows: 0,
    verdicts: {},
    network: {},
    expectation: {},
    app_outcome: {},
    status: 'seen',
    problem_peers: [],
    problem_peer_count: 0,
  };
}

function count<K extends string>(tally: Partial<Record<K, number>>, key: K): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

function list(items: readonly string[], joiner: string): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} ${joiner} ${items[items.length - 1]}`;
}

/**
 * The matches of `flow` that go to `role`'s table: the inbound ones when the role answered, else
 * the outbound ones (a flow between two hosts of one role counts once, as the responder's).
 */
export function entryMatches(flow: JudgedFlow, role: string): CatalogMatch[] {
  const mine = flow.catalog.filter((m) => m.role === role);
  const inbound = mine.filter((m) => m.direction === 'inbound');
  return inbound.length > 0 ? inbound : mine;
}

/** The distinct roles of a catalog match list, once per (shared) list. */
const rolesOfMatches = new WeakMap<readonly CatalogMatch[], string[]>();
function catalogRoles(matches: readonly CatalogMatch[]): string[] {
  let roles = rolesOfMatches.get(matches);
  if (roles === undefined) rolesOfMatches.set(matches, (roles = [...new Set(matches.map((m) => m.role))]));
  return roles;
}

/** A flow's catalog rows for one role table, their ids, and the table row they count on. */
interface RowKey {
  matches: CatalogMatch[];
  ids: string[];
  key: string;
}

/** The role tables a judged flow counts in: the roles of its catalog rows, or the role nobody expected it for. */
export function flowRoleTables(flow: JudgedFlow): string[] {
  if (flow.verdict === 'outside') return [];
  if (flow.catalog.length > 0) return [...new Set(flow.catalog.map((m) => m.role))];
  const role = flow.resp_role ?? flow.orig_role;
  return role === null ? [] : [role];
}

export class RoleAggregator {
  private readonly roles = new Map<string, RoleAcc>();

  constructor(private readonly catalog: CatalogAccess) {}

  private role(role: string): RoleAcc {
    let acc = this.roles.get(role);
    if (!acc) {
      acc = {
        hosts: new Set(),
        rows: new Map(),
        unexpected: new Map(),
        touched: new Set(),
        rowIds: new Set(),
        problems: 0,
        flows: 0,
      };
      this.roles.set(role, acc);
    }
    return acc;
  }

  /** Makes sure a role appears in the report even if no flow touched it (its ports are then "never observed"). */
  declareRole(role: string): void {
    this.role(role);
  }

  add(flow: JudgedFlow): void {
    const rolesOf = (main: string | null, all: string[] | undefined): string[] => all ?? (main ? [main] : []);
    for (const r of rolesOf(flow.orig_role, flow.orig_roles)) addHost(this.role(r), flow.orig_h);
    for (const r of rolesOf(flow.resp_role, flow.resp_roles)) addHost(this.role(r), flow.resp_h);
    if (flow.verdict === 'outside') return;
    if (flow.catalog.length === 0) {
      this.addUnexpected(flow);
      return;
    }
    for (const role of catalogRoles(flow.catalog)) this.addToRow(flow, role);
  }

  /**
   * The row key of a flow's matches for a role, per matches array: judged flows share their
   * `catalog` array with every flow of the same roles, port and payload (judge.ts), so the
   * filtering, sorting and joining is done once per array rather than once per flow.
   */
  private readonly rowKeys = new WeakMap<readonly CatalogMatch[], Map<string, RowKey>>();

  private rowKey(flow: JudgedFlow, role: string, transport: 'tcp' | 'udp'): RowKey {
    let perArray = this.rowKeys.get(flow.catalog);
    if (perArray === undefined) this.rowKeys.set(flow.catalog, (perArray = new Map()));
    const k = `${role}|${transport}`;
    let found = perArray.get(k);
    if (found === undefined) {
      const matches = entryMatches(flow, role);
      const ids = [...new Set(matches.map((m) => m.id))].sort();
      found = { matches, ids, key: `${ids.join(' | ')}|${transport}` };
      perArray.set(k, found);
    }
    return found;
  }

  private addToRow(flow: JudgedFlow, role: string): void {
    const acc = this.role(role);
    acc.flows++;
    const transport = flow.proto === 'udp' ? 'udp' : 'tcp';
    const { matches, ids, key } = this.rowKey(flow, role, transport);
    let row = acc.rows.get(key);
    if (!row) {
      const services = [...new Set(matches.map((m) => m.service))];
      const rowsById = new Map(this.catalog.rowsForRole(role).map((r) => [r.id, r]));
      const optional = ids.every((id) => rowsById.get(id)?.optional === true);
      row = {
        row: {
          ids,
          id: ids.join(' | '),
          service: list(services, 'or'),
          services,
          ports: [...new Set(matches.map((m) => m.ports))].join(', '),
          transport,
          protocol: list([...new Set(matches.map((m) => m.protocol))], 'or'),
          direction: matches[0].direction,
          ...emptyRowTallies(),
        },
        peers: new Map(),
        working: 0,
      };
      if (optional) row.row.optional = true;
      acc.rows.set(key, row);
      for (const m of matches) {
        acc.touched.add(`${transport} ${m.ports}`);
        acc.rowIds.add(m.id);
      }
    }
    const r = row.row;
    r.flows++;
    count(r.verdicts, flow.verdict);
    count(r.network, flow.network);
    count(r.expectation, flow.expectation);
    count(r.app_outcome, flow.app_outcome);
    // Traffic both ways proves the port works even when the capture cut the flow short.
    if (flow.verdict === 'ok' || (flow.verdict === 'incomplete' && flow.orig_pkts > 0 && flow.resp_pkts > 0))
      row.working++;
    if (!isProblem(flow.verdict)) return;
    acc.problems++;
    const peer = r.direction === 'inbound' ? flow.orig_h : flow.resp_h;
    const peerKey = `${peer}|${flow.verdict}`;
    const pc = row.peers.get(peerKey);
    if (pc) pc.flows++;
    else if (row.peers.size < 10_000) row.peers.set(peerKey, { peer, verdict: flow.verdict, flows: 1 });
    if (r.first_failure === undefined || flow.ts < r.first_failure.ts) {
      r.first_failure = {
        ts: flow.ts,
        verdict: flow.verdict,
        peer,
        reason: flow.reason,
        community_id: flow.community_id,
        first_frame: flow.first_frame,
        last_frame: flow.last_frame,
      };
      if (flow.answered_by !== undefined) r.first_failure.answered_by = flow.answered_by;
      if (flow.display_filter !== undefined) r.first_failure.display_filter = flow.display_filter;
    }
  }

  private addUnexpected(flow: JudgedFlow): void {
    const inbound = flow.resp_role !== null;
    const role = flow.resp_role ?? flow.orig_role;
    if (role === null) return;
    const acc = this.role(role);
    acc.flows++;
    if (isProblem(flow.verdict)) acc.problems++;
    const key = `${flow.proto}/${flow.resp_p}/${inbound ? 'in' : 'out'}`;
    let u = acc.unexpected.get(key);
    if (!u) {
      u = {
        port: {
          proto: flow.proto,
          port: flow.resp_p,
          direction: inbound ? 'inbound' : 'outbound',
          flows: 0,
          answered: 0,
          peers: [],
          peer_count: 0,
          first_ts: flow.ts,
        },
        peers: new Set(),
      };
      acc.unexpected.set(key, u);
    }
    u.port.flows++;
    // Whether the unexpected service actually answered: reachable is worse than merely tried.
    if (
      flow.network === 'answered' ||
      (flow.network === 'incomplete' && flow.resp_pkts > 0 && flow.conn_state !== 'REJ')
    )
      u.port.answered++;
    if (flow.ts < u.port.first_ts) u.port.first_ts = flow.ts;
    if (u.peers.size < 10_000) u.peers.add(inbound ? flow.orig_h : flow.resp_h);
  }

  summaries(limits: ListLimits = REPORT_LIST_LIMITS): RoleSummary[] {
    const out: RoleSummary[] = [];
    for (const [role, acc] of this.roles) {
      const rows: RowSummary[] = [];
      for (const { row, peers, working } of acc.rows.values()) {
        const all = [...peers.values()].sort((a, b) => b.flows - a.flows);
        row.problem_peers = all.slice(0, limits.peers);
        row.problem_peer_count = new Set(all.map((p) => p.peer)).size;
        const problems = Object.entries(row.verdicts).some(([v, n]) => n! > 0 && isProblem(v as Verdict));
        row.status = problems ? 'problem' : working > 0 ? 'ok' : 'seen';
        rows.push(row);
      }
      rows.sort((a, b) => rank(a) - rank(b) || problemCount(b) - problemCount(a) || a.id.localeCompare(b.id));
      const unexpected = [...acc.unexpected.values()]
        .map(({ port, peers }) => ({
          ...port,
          peers: [...peers].slice(0, limits.peers),
          peer_count: peers.size,
        }))
        .sort((a, b) => b.flows - a.flows || a.port - b.port);
      const hosts = [...acc.hosts].sort();
      out.push({
        role,
        hosts: hosts.slice(0, limits.hosts),
        host_count: hosts.length,
        problems: acc.problems,
        flows: acc.flows,
        rows,
        unexpected,
        not_seen: notSeen(this.catalog.rowsForRole(role), acc),
      });
    }
    // Roles with problems first, then by name.
    return out.sort(
      (a, b) => Number(b.problems > 0) - Number(a.problems > 0) || a.role.localeCompare(b.role),
    );
  }
}

/**
 * The role's ports that no flow touched, each once, in catalog order: a row no flow counted in
 * adds each of its transports whose port is not already in the table (a port a flow touched in
 * one direction is not "never observed" in the other).
 */
function notSeen(catalogRows: readonly RowLike[], acc: RoleAcc): NotSeenPort[] {
  const byPorts = new Map<string, { tcp: boolean; udp: boolean; rows: NotSeenPort['rows'] }>();
  for (const r of catalogRows) {
    if (acc.rowIds.has(r.id)) continue;
    const tcp = r.transport !== 'udp' && !acc.touched.has(`tcp ${r.ports}`);
    const udp = r.transport !== 'tcp' && !acc.touched.has(`udp ${r.ports}`);
    if (!tcp && !udp) continue;
    // Grouped by ports (with the transports left untouched), so each port is listed once.
    let g = byPorts.get(r.ports);
    if (!g) {
      g = { tcp: false, udp: false, rows: [] };
      byPorts.set(r.ports, g);
    }
    g.tcp ||= tcp;
    g.udp ||= udp;
    const item: NotSeenPort['rows'][number] = { id: r.id, service: r.service, direction: r.direction };
    if (r.optional) item.optional = true;
    g.rows.push(item);
  }
  const out: NotSeenPort[] = [];
  for (const [ports, g] of byPorts) {
    const entry: NotSeenPort = {
      ports,
      transport: g.tcp && g.udp ? 'both' : g.tcp ? 'tcp' : 'udp',
      rows: g.rows,
    };
    if (g.rows.every((r) => r.optional)) entry.optional = true;
    out.push(entry);
  }
  return out;
}

function addHost(acc: RoleAcc, host: string): void {
  if (acc.hosts.size < 10_000) acc.hosts.add(host);
}

function rank(r: RowSummary): number {
  return r.status === 'problem' ? 0 : r.status === 'ok' ? 1 : 2;
}

function problemCount(r: RowSummary): number {
  let n = 0;
  for (const [v, c] of Object.entries(r.verdicts)) if (isProblem(v as Verdict)) n += c ?? 0;
  return n;
}
