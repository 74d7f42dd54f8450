/**
 * Per role: every catalog row with how many flows matched it, how they ended (ok, blocked, refused,
 * filtered, ...), which peers were affected and when it first failed; the ports nobody expected;
 * and the rows never observed (informational). Streaming: flows are added one by one, memory is
 * bounded by roles × rows plus the capped peer lists.
 */
import type { CatalogAccess, JudgedFlow, RowLike, Verdict } from './types.js';
import { isProblem } from './types.js';

const MAX_PEERS = 10;
const MAX_HOSTS = 50;

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
}

export interface RowSummary {
  id: string;
  service: string;
  ports: string;
  transport: string;
  protocol: string;
  direction: 'inbound' | 'outbound';
  optional?: boolean;
  flows: number;
  verdicts: Partial<Record<Verdict, number>>;
  /**
   * 'problem' when any flow failed; 'ok' when flows got through (ok, or incomplete with packets both
   * ways); 'seen' when the only flows were cut by the capture before showing either.
   */
  status: 'problem' | 'ok' | 'seen' | 'not-seen';
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

export interface RoleSummary {
  role: string;
  hosts: string[];
  host_count: number;
  problems: number;
  rows: RowSummary[];
  unexpected: UnexpectedPort[];
  not_seen: {
    id: string;
    service: string;
    ports: string;
    transport: string;
    direction: string;
    optional?: boolean;
  }[];
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
  problems: number;
}

export class RoleAggregator {
  private readonly roles = new Map<string, RoleAcc>();

  constructor(private readonly catalog: CatalogAccess) {}

  private role(role: string): RoleAcc {
    let acc = this.roles.get(role);
    if (!acc) {
      acc = { hosts: new Set(), rows: new Map(), unexpected: new Map(), problems: 0 };
      this.roles.set(role, acc);
    }
    return acc;
  }

  /** Makes sure a role appears in the report even if no flow touched it (its rows are then "not seen"). */
  declareRole(role: string): void {
    this.role(role);
  }

  add(flow: JudgedFlow): void {
    const rolesOf = (main: string | null, all: string[] | undefined): string[] => all ?? (main ? [main] : []);
    for (const r of rolesOf(flow.orig_role, flow.orig_roles)) addHost(this.role(r), flow.orig_h);
    for (const r of rolesOf(flow.resp_role, flow.resp_roles)) addHost(this.role(r), flow.resp_h);
    if (flow.verdict === 'outside') return;
    for (const m of flow.catalog) {
      const acc = this.role(m.role);
      let row = acc.rows.get(m.id);
      if (!row) {
        row = {
          row: {
            id: m.id,
            service: m.service,
            ports: m.ports,
            transport: m.transport,
            protocol: m.protocol,
            direction: m.direction,
            flows: 0,
            verdicts: {},
            status: 'seen',
            problem_peers: [],
            problem_peer_count: 0,
          },
          peers: new Map(),
          working: 0,
        };
        acc.rows.set(m.id, row);
      }
      const r = row.row;
      r.flows++;
      r.verdicts[flow.verdict] = (r.verdicts[flow.verdict] ?? 0) + 1;
      // Traffic both ways proves the port works even when the capture cut the flow short.
      if (
        flow.verdict === 'ok' ||
        (flow.verdict === 'incomplete' && flow.orig_pkts > 0 && flow.resp_pkts > 0)
      )
        row.working++;
      if (isProblem(flow.verdict)) {
        acc.problems++;
        const peer = m.direction === 'inbound' ? flow.orig_h : flow.resp_h;
        const key = `${peer}|${flow.verdict}`;
        const pc = row.peers.get(key);
        if (pc) pc.flows++;
        else row.peers.set(key, { peer, verdict: flow.verdict, flows: 1 });
        if (r.first_failure === undefined || flow.ts < r.first_failure.ts)
          r.first_failure = {
            ts: flow.ts,
            verdict: flow.verdict,
            peer,
            reason: flow.reason,
            community_id: flow.community_id,
          };
      }
    }
    if (flow.verdict === 'unexpected') {
      const inbound = flow.resp_role !== null;
      const role = inbound ? flow.resp_role! : flow.orig_role!;
      const acc = this.role(role);
      acc.problems++;
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
      if (flow.resp_pkts > 0 && flow.conn_state !== 'REJ') u.port.answered++;
      if (flow.ts < u.port.first_ts) u.port.first_ts = flow.ts;
      u.peers.add(inbound ? flow.orig_h : flow.resp_h);
    }
  }

  summaries(): RoleSummary[] {
    const out: RoleSummary[] = [];
    for (const [role, acc] of this.roles) {
      const rows: RowSummary[] = [];
      for (const { row, peers, working } of acc.rows.values()) {
        const all = [...peers.values()].sort((a, b) => b.flows - a.flows);
        row.problem_peers = all.slice(0, MAX_PEERS);
        row.problem_peer_count = new Set(all.map((p) => p.peer)).size;
        const problems = Object.entries(row.verdicts).some(([v, n]) => n! > 0 && isProblem(v as Verdict));
        row.status = problems ? 'problem' : working > 0 ? 'ok' : 'seen';
        rows.push(row);
      }
      rows.sort((a, b) => rank(a) - rank(b) || problemCount(b) - problemCount(a) || a.id.localeCompare(b.id));
      const seenIds = new Set(rows.map((r) => r.id));
      const notSeen = this.catalog
        .rowsForRole(role)
        .filter((r: RowLike) => !seenIds.has(r.id))
        .map((r: RowLike) => {
          const item: RoleSummary['not_seen'][number] = {
            id: r.id,
            service: r.service,
            ports: r.ports,
            transport: r.transport,
            direction: r.direction,
          };
          if (r.optional) item.optional = true;
          return item;
        });
      const unexpected = [...acc.unexpected.values()]
        .map(({ port, peers }) => ({
          ...port,
          peers: [...peers].slice(0, MAX_PEERS),
          peer_count: peers.size,
        }))
        .sort((a, b) => b.flows - a.flows || a.port - b.port);
      const hosts = [...acc.hosts].sort();
      out.push({
        role,
        hosts: hosts.slice(0, MAX_HOSTS),
        host_count: hosts.length,
        problems: acc.problems,
        rows,
        unexpected,
        not_seen: notSeen,
      });
    }
    // Roles with problems first, then by name.
    return out.sort(
      (a, b) => Number(b.problems > 0) - Number(a.problems > 0) || a.role.localeCompare(b.role),
    );
  }
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
