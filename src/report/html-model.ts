/**
 * What the HTML page shows, computed from the analysis and nothing else: the verdict in one
 * sentence, the problems as cards (who, since when, why, what to change, a Wireshark filter), the
 * role x port matrix, the timeline per role pair, the call ladders and the flow rows the page's
 * table lists. Pure data: html.ts turns it into markup, the page script into an interactive table.
 */
import type { Call } from '../recognize/calls.js';
import type { Analysis } from '../verdict/analysis.js';
import { entryMatches, type RoleSummary, type RowSummary } from '../verdict/roles.js';
import {
  APPLICATION_PROBLEMS,
  CONNECTIVITY_PROBLEMS,
  EXPECTATION_PROBLEMS,
  VERDICTS,
  isProblem,
  type JudgedFlow,
  type Verdict,
} from '../verdict/types.js';
import { groupHosts, type HostGroup } from './cidr.js';
import { endpoint, plural, portLabel } from './format.js';
import { orderProblemFlows, problemRank } from './table.js';

/** How a matrix cell, a card or a flow reads at a glance. */
export type Status = 'ok' | 'fail' | 'app' | 'unexpected' | 'seen' | 'never';

/** Each status with its icon (the shapes differ, so colour is never the only cue) and meaning. */
export const STATUSES: Record<Status, { icon: string; label: string; meaning: string }> = {
  fail: {
    icon: '✕',
    label: 'failing',
    meaning: 'traffic did not get through: no answer, refused, filtered, or one way only',
  },
  app: {
    icon: '!',
    label: 'application failure',
    meaning: 'the network let it through but the application on top failed (e.g. a TLS alert)',
  },
  unexpected: {
    icon: '?',
    label: 'unexpected',
    meaning: 'no catalog row expects this port, peer or protocol here',
  },
  ok: { icon: '✓', label: 'ok', meaning: 'expected by the catalog and answered' },
  seen: {
    icon: '◐',
    label: 'seen, not judged',
    meaning: 'flows were seen but the capture cut them before they showed an answer or a failure',
  },
  never: {
    icon: '○',
    label: 'never seen',
    meaning: 'a catalog port of this role no flow used (informational)',
  },
};

const APP_PROBLEMS: ReadonlySet<string> = APPLICATION_PROBLEMS;

export function verdictStatus(v: Verdict | string, bothWays = false): Status {
  if (CONNECTIVITY_PROBLEMS.has(v as Verdict)) return 'fail';
  if (APP_PROBLEMS.has(v)) return 'app';
  if (EXPECTATION_PROBLEMS.has(v as Verdict)) return 'unexpected';
  if (v === 'ok') return 'ok';
  if (v === 'incomplete' && bothWays) return 'ok';
  return 'seen';
}

function rowStatus(row: RowSummary): Status {
  const present = Object.keys(row.verdicts).filter((v) => (row.verdicts[v as Verdict] ?? 0) > 0);
  for (const s of ['fail', 'app', 'unexpected'] as const)
    if (present.some((v) => verdictStatus(v) === s)) return s;
  return row.status === 'ok' ? 'ok' : 'seen';
}

/** What each problem verdict means for the port, in the words of the verdict sentence. */
const VERDICT_PHRASE: Record<string, string> = {
  blocked: 'gets no answer',
  refused: 'is refused',
  filtered: 'is filtered',
  'one-way': 'flows one way only',
  failed: 'fails in the application',
  mismatch: 'carries another protocol',
  unexpected: 'comes from a peer the catalog does not name there',
};

/** Why it happens and what to change, per verdict (the catalog's rule text comes with the card). */
const VERDICT_ADVICE: Record<string, string> = {
  blocked:
    'Nothing answered: a firewall on the path drops the traffic, or nothing listens. Allow it through every firewall between the peers; if it is allowed, check that the service listens.',
  refused:
    'The attempt was rejected (a TCP reset or ICMP port unreachable): no service listens, or a firewall rejects it. The reporter in the reason tells which: the server itself, or a router on the way.',
  filtered:
    'A router or firewall answered "administratively prohibited" or "unreachable": a rule rejects it. Allow it on the device that sent the ICMP error.',
  'one-way':
    'Packets went one way and nothing came back: the return direction is dropped, or NAT changes the path. Allow the return traffic as well (UDP needs both directions).',
  failed:
    'The network let it through but the application failed on top: this is not a firewall rule (for TLS, check certificates and protocol versions).',
  mismatch:
    'The port carries another protocol than the catalog expects (for example plaintext SIP on the TLS port): fix the client or server configuration, not the firewall.',
  'unexpected-peer':
    "The role has this port, but not for this peer: the catalog names other peers. Check the peer's role in the topology, or whether the traffic should take another path (through the Director, the Edge or the Mediation Server).",
  unexpected:
    'No catalog row explains this traffic. If the service should not be reachable, close it; if it is legitimate, describe it in a catalog file (--catalog).',
};

/** What the catalog's firewall rule generator is asked for: one card's required port between its peers. */
export interface FixRequest {
  role: string;
  /** Catalog row id (absent for a port no catalog row explains). */
  rowId?: string;
  service: string;
  direction: 'inbound' | 'outbound';
  transport: string;
  ports: string;
  /** The role's own addresses the failing flows used, and the peers on the other side. */
  hosts: string[];
  peers: string[];
  /** The roles of those peers, when known (for a rule between two roles). */
  peerRoles: string[];
}

/** A rule text in one of the catalog command's formats (nftables, iptables, windows-firewall, csv). */
export interface FirewallRule {
  format: string;
  text: string;
}

export type FirewallRules = (request: FixRequest) => FirewallRule[];

export interface Card {
  id: string;
  status: Status;
  /** "UDP 3478 to edge-internal" */
  title: string;
  service: string;
  role: string;
  verdicts: Partial<Record<string, number>>;
  flows: number;
  /** Peers on the other side, grouped by CIDR, and how many distinct ones. */
  affected: HostGroup[];
  affectedCount: number;
  since?: number;
  until?: number;
  /** The first failing flow's reason, as the verdict stage wrote it. */
  reason: string;
  advice: string;
  fix: FixRequest;
  /** "Allow UDP 3478 from 10.1.0.5 to 10.0.0.20 (edge-internal)" */
  change: string;
  rules: FirewallRule[];
  /** Wireshark display filter for the card's failing flows. */
  filter: string;
  /** The flow key the page filters its table by (see flowKeys). */
  key: string;
  firstFrame?: number;
  lastFrame?: number;
}

export interface MatrixCell {
  key: string;
  label: string;
  service: string;
  status: Status;
  direction: 'inbound' | 'outbound';
  flows: number;
  verdicts: Partial<Record<string, number>>;
  optional?: boolean;
}

export interface MatrixRole {
  role: string;
  hosts: HostGroup[];
  hostCount: number;
  cells: MatrixCell[];
  counts: Partial<Record<Status, number>>;
}

export interface Lane {
  label: string;
  /** Flows starting in each bin, and how many of them were problems. */
  total: number[];
  problems: number[];
  firstFailure?: number;
  flows: number;
}

export interface Timeline {
  start: number;
  end: number;
  bins: number;
  lanes: Lane[];
}

export interface LadderMessage {
  ts: number;
  from: number;
  to: number;
  line: string;
  cseq?: string;
}

export interface Ladder {
  call: Call;
  parties: { endpoint: string; role: string | null }[];
  messages: LadderMessage[];
  /** Messages per signalling flow are listed up to the recognizer's cap; true when one hit it. */
  capped: boolean;
}

export interface PageModel {
  sentence: string;
  judged: number;
  cards: Card[];
  matrix: MatrixRole[];
  timeline: Timeline | null;
  ladders: Ladder[];
  topology: { role: string; given: string[]; groups: HostGroup[]; count: number }[];
  /** Flows the page lists, problems first when not all fit, and what was aggregated instead. */
  listed: JudgedFlow[];
  aggregated: { key: string; label: string; verdict: string; flows: number }[];
  /** Flows judged but not kept by the analysis (beyond --max-records). */
  unlisted: number;
}

export interface ModelOptions {
  /** Most flows the page lists one by one (beyond, aggregated). */
  maxFlows?: number;
  firewallRules?: FirewallRules;
  timelineBins?: number;
}

export const DEFAULT_PAGE_FLOWS = 100_000;

/** Roles whose outbound failures show up on the server side's inbound card (as in the terminal). */
const CLIENT_SIDE = new Set(['client', 'phone']);

/** A role table entry's key: its row ids (one, or the candidates) and the transport its flows used. */
export function rowKey(role: string, row: Pick<RowSummary, 'id' | 'transport'>): string {
  return `${role}|${row.id}|${row.transport}`;
}

export function unexpectedKey(role: string, proto: string, port: number, direction: string): string {
  return `${role}|unexpected|${proto}/${port}/${direction === 'inbound' ? 'in' : 'out'}`;
}

/**
 * The matrix cells (and cards) a flow counts in, as the role tables count it (verdict/roles.ts):
 * per role of its catalog rows, the entry of the rows that go to that role's table; with no row,
 * the unexpected port of the role that answered (or sent it).
 */
export function flowKeys(f: JudgedFlow): string[] {
  if (f.verdict === 'outside') return [];
  const transport = f.proto === 'udp' ? 'udp' : 'tcp';
  if (f.catalog.length > 0)
    return [...new Set(f.catalog.map((m) => m.role))].map((role) => {
      const ids = [...new Set(entryMatches(f, role).map((m) => m.id))].sort();
      return rowKey(role, { id: ids.join(' | '), transport });
    });
  const inbound = f.resp_role !== null;
  const role = f.resp_role ?? f.orig_role;
  return role === null ? [] : [unexpectedKey(role, f.proto, f.resp_p, inbound ? 'inbound' : 'outbound')];
}

function hostFilter(host: string): string {
  return host.includes(':') ? `ipv6.addr==${host}` : `ip.addr==${host}`;
}

/** A display filter for a set of flows: each server endpoint with its peers, or the ports alone when many. */
export function displayFilter(flows: readonly JudgedFlow[]): string {
  const terms = new Set<string>();
  const ports = new Map<string, Set<number>>();
  for (const f of flows) {
    const p = f.proto === 'tcp' || f.proto === 'udp' ? f.proto : 'ip';
    terms.add(p === 'ip' ? hostFilter(f.resp_h) : `(${hostFilter(f.resp_h)} && ${p}.port==${f.resp_p})`);
    if (p !== 'ip') {
      const set = ports.get(p) ?? new Set<number>();
      set.add(f.resp_p);
      ports.set(p, set);
    }
  }
  if (terms.size <= 6) return [...terms].join(' || ');
  return [...ports]
    .map(([p, set]) =>
      set.size === 1 ? `${p}.port==${[...set][0]}` : `${p}.port in {${[...set].join(' ')}}`,
    )
    .join(' || ');
}

function verdictPhrase(verdicts: Partial<Record<string, number>>): string {
  const problems = Object.keys(verdicts)
    .filter((v) => (verdicts[v] ?? 0) > 0 && VERDICT_PHRASE[v] !== undefined)
    .sort(
      (a, b) =>
        problemRank(a as Verdict) - problemRank(b as Verdict) ||
        VERDICTS.indexOf(a as Verdict) - VERDICTS.indexOf(b as Verdict),
    );
  return problems.map((v) => VERDICT_PHRASE[v]).join(' or ');
}

function span(flows: readonly JudgedFlow[]): {
  since?: number;
  until?: number;
  first?: number;
  last?: number;
} {
  let since: number | undefined;
  let until: number | undefined;
  let first: number | undefined;
  let last: number | undefined;
  for (const f of flows) {
    if (since === undefined || f.ts < since) since = f.ts;
    const end = f.ts + f.duration;
    if (until === undefined || end > until) until = end;
    if (first === undefined || f.first_frame < first) first = f.first_frame;
    if (last === undefined || f.last_frame > last) last = f.last_frame;
  }
  return { since, until, first, last };
}

/** For a row with a port range: the few ports the failing flows used ("UDP 50020"), else undefined. */
function observedPorts(flows: readonly JudgedFlow[], rowPorts: string): string | undefined {
  if (!/[-,]/.test(rowPorts)) return undefined;
  const ports = [...new Set(flows.map((f) => `${f.proto.toUpperCase()} ${f.resp_p}`))];
  return ports.length === 0 || ports.length > 3 ? undefined : ports.join(', ');
}

function changeText(
  status: Status,
  label: string,
  peers: HostGroup[],
  hosts: string[],
  role: string,
  inbound: boolean,
  worst?: string,
): string {
  const peerText = peers.map((g) => g.label).join(', ') || 'its peers';
  const hostText = hosts.slice(0, 4).join(', ') + (hosts.length > 4 ? ` (+${hosts.length - 4})` : '');
  const to = `${hostText || role} (${role})`;
  if (worst === 'mismatch')
    return `No firewall change: make ${label} on ${to} carry the protocol the catalog expects.`;
  if (worst === 'unexpected')
    return `Check that ${peerText} should reach ${label} on ${to} directly; if so, give it its role in the topology.`;
  if (status === 'unexpected') return `Close ${label} to ${to}, or add it to the catalog if it is needed.`;
  if (worst === 'one-way')
    return `Allow ${label} both ways between ${peerText} and ${to}: the return direction got nothing.`;
  if (status === 'app') return `No firewall change: fix the application on ${to}.`;
  return inbound ? `Allow ${label} from ${peerText} to ${to}.` : `Allow ${label} from ${to} to ${peerText}.`;
}

function buildCards(analysis: Analysis, byKey: Map<string, JudgedFlow[]>, rules?: FirewallRules): Card[] {
  const cards: Card[] = [];
  const problemFlowsOf = (key: string): JudgedFlow[] =>
    (byKey.get(key) ?? []).filter((f) => isProblem(f.verdict));
  for (const r of analysis.roles) {
    for (const row of r.rows) {
      if (row.status !== 'problem' || (row.direction === 'outbound' && CLIENT_SIDE.has(r.role))) continue;
      const key = rowKey(r.role, row);
      const flows = problemFlowsOf(key);
      const inbound = row.direction === 'inbound';
      const peers = flows.map((f) => (inbound ? f.orig_h : f.resp_h));
      const hosts = [...new Set(flows.map((f) => (inbound ? f.resp_h : f.orig_h)))];
      const peerRoles = [
        ...new Set(flows.map((f) => (inbound ? f.orig_role : f.resp_role)).filter((x) => x !== null)),
      ];
      const label = portLabel(row.transport, row.ports);
      const seen = observedPorts(flows, row.ports);
      const status = rowStatus(row);
      const affected = groupHosts(peers.length > 0 ? peers : row.problem_peers.map((p) => p.peer));
      const s = span(flows);
      const worst =
        row.first_failure?.verdict ??
        Object.keys(row.verdicts)
          .filter((v) => isProblem(v as Verdict) || APP_PROBLEMS.has(v))
          .sort((a, b) => problemRank(a as Verdict) - problemRank(b as Verdict))[0];
      const fix: FixRequest = {
        role: r.role,
        rowId: row.id,
        service: row.service,
        direction: row.direction,
        transport: row.transport,
        ports: row.ports,
        hosts,
        peers: [...new Set(peers)],
        peerRoles: peerRoles as string[],
      };
      cards.push({
        id: `card-${cards.length + 1}`,
        status,
        title: `${seen ?? label} ${inbound ? 'to' : 'from'} ${r.role}`,
        service: seen !== undefined ? `${row.service} (${label})` : row.service,
        role: r.role,
        verdicts: row.verdicts,
        flows:
          flows.length ||
          Object.entries(row.verdicts).reduce((n, [v, c]) => n + (isProblem(v as Verdict) ? (c ?? 0) : 0), 0),
        affected,
        affectedCount: Math.max(row.problem_peer_count, new Set(peers).size),
        since: s.since ?? row.first_failure?.ts,
        until: s.until,
        reason: row.first_failure?.reason ?? '',
        advice: VERDICT_ADVICE[worst === 'unexpected' ? 'unexpected-peer' : (worst ?? 'blocked')] ?? '',
        fix,
        change: changeText(status, label, affected, hosts, r.role, inbound, worst),
        rules: rules ? rules(fix) : [],
        filter: displayFilter(flows),
        key,
        firstFrame: s.first,
        lastFrame: s.last,
      });
    }
  }
  for (const r of analysis.roles) {
    for (const u of r.unexpected) {
      const key = unexpectedKey(r.role, u.proto, u.port, u.direction);
      const flows = byKey.get(key) ?? [];
      const inbound = u.direction === 'inbound';
      const label = `${u.proto.toUpperCase()} ${u.port}`;
      const hosts = [...new Set(flows.map((f) => (inbound ? f.resp_h : f.orig_h)))];
      const peers = flows.map((f) => (inbound ? f.orig_h : f.resp_h));
      const affected = groupHosts(peers.length > 0 ? peers : u.peers);
      const s = span(flows);
      const fix: FixRequest = {
        role: r.role,
        service: 'no catalog row',
        direction: u.direction,
        transport: u.proto,
        ports: String(u.port),
        hosts,
        peers: [...new Set(peers.length > 0 ? peers : u.peers)],
        peerRoles: [
          ...new Set(flows.map((f) => (inbound ? f.orig_role : f.resp_role)).filter((x) => x !== null)),
        ] as string[],
      };
      cards.push({
        id: `card-${cards.length + 1}`,
        status: 'unexpected',
        title: `${label} ${inbound ? 'to' : 'from'} ${r.role}`,
        service: `no catalog row; ${plural(u.answered, 'flow')} answered`,
        role: r.role,
        verdicts: { unexpected: u.flows },
        flows: u.flows,
        affected,
        affectedCount: u.peer_count,
        since: s.since ?? u.first_ts,
        until: s.until,
        reason: flows[0]?.reason ?? '',
        advice: VERDICT_ADVICE.unexpected,
        fix,
        change: changeText('unexpected', label, affected, hosts, r.role, inbound),
        rules: [],
        filter: displayFilter(flows),
        key,
        firstFrame: s.first,
        lastFrame: s.last,
      });
    }
  }
  const order: Record<Status, number> = { fail: 0, app: 1, unexpected: 2, seen: 3, ok: 4, never: 5 };
  return cards.sort((a, b) => order[a.status] - order[b.status] || (a.since ?? 0) - (b.since ?? 0));
}

function roleList(roles: string[]): string {
  if (roles.length <= 1) return roles.join('');
  return `${roles.slice(0, -1).join(', ')} and ${roles[roles.length - 1]}`;
}

/** One clause per port and what happens to it, naming every role it happens to. */
function clauses(cards: readonly Card[]): string {
  const groups = new Map<string, { label: string; phrase: string; roles: string[] }>();
  for (const c of cards) {
    const m = / (to|from) (\S+)$/.exec(c.title);
    const label = m ? c.title.slice(0, m.index) : c.title;
    const dir = m ? m[1] : 'to';
    const phrase = verdictPhrase(c.verdicts);
    const k = `${label}|${dir}|${phrase}`;
    const g = groups.get(k) ?? { label: `${label} ${dir}`, phrase, roles: [] };
    if (!g.roles.includes(c.role)) g.roles.push(c.role);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => `${g.label} ${roleList(g.roles)} ${g.phrase}`).join('; ');
}

export interface Tally {
  /** Flows judged (every verdict but outside). */
  judged: number;
  ok: number;
  /** Cut by the capture before they showed an answer or a failure. */
  incomplete: number;
}

/** The verdict in one sentence: what fails, on which port, to which roles; never an all-clear over nothing. */
export function verdictSentence(cards: readonly Card[], tally: Tally): string {
  const { judged, ok, incomplete } = tally;
  if (judged === 0)
    return 'Nothing was judged: no flow involved a role of the topology, so this capture says nothing about the ports.';
  const failing = cards.filter((c) => c.status === 'fail' || c.status === 'app');
  const wrongProtocol = cards.filter((c) => c.status === 'unexpected' && c.fix.rowId !== undefined);
  const unexpected = cards.filter((c) => c.status === 'unexpected' && c.fix.rowId === undefined);
  const parts: string[] = [];
  const count = (list: readonly Card[], what: string): string =>
    `${plural(list.length, what)} ${list.length === 1 ? 'is' : 'are'}`;
  if (failing.length > 0) parts.push(`${count(failing, 'required port')} failing: ${clauses(failing)}`);
  if (wrongProtocol.length > 0)
    parts.push(
      `${plural(wrongProtocol.length, 'required port')} ${wrongProtocol.length === 1 ? 'sees' : 'see'} traffic the catalog does not expect: ${clauses(wrongProtocol)}`,
    );
  if (unexpected.length > 0)
    parts.push(
      `${plural(unexpected.length, 'port')} ${unexpected.length === 1 ? 'carries' : 'carry'} traffic no catalog row expects: ${unexpected
        .map((c) => c.title)
        .join('; ')}`,
    );
  if (parts.length > 0) return parts.join('. ') + '.';
  if (ok === 0)
    return `No failing required ports, but none was seen to work either: ${plural(incomplete, 'judged flow')} ${incomplete === 1 ? 'was' : 'were'} cut by the capture before showing an answer.`;
  const cut = judged - ok;
  return `No failing required ports: ${plural(ok, 'judged flow')} got through${cut > 0 ? `; ${cut} more ${cut === 1 ? 'was' : 'were'} cut by the capture before showing an answer` : ''}.`;
}

function buildMatrix(analysis: Analysis, hostsOf: Map<string, Set<string>>): MatrixRole[] {
  return analysis.roles.map((r: RoleSummary) => {
    const cells: MatrixCell[] = [];
    for (const row of r.rows)
      cells.push({
        key: rowKey(r.role, row),
        label: portLabel(row.transport, row.ports),
        service: row.service,
        status: rowStatus(row),
        direction: row.direction,
        flows: row.flows,
        verdicts: row.verdicts,
      });
    for (const u of r.unexpected)
      cells.push({
        key: unexpectedKey(r.role, u.proto, u.port, u.direction),
        label: `${u.proto.toUpperCase()} ${u.port}`,
        service: 'no catalog row',
        status: 'unexpected',
        direction: u.direction,
        flows: u.flows,
        verdicts: { unexpected: u.flows },
      });
    for (const n of r.not_seen)
      cells.push({
        key: `${r.role}|never|${n.transport} ${n.ports}`,
        label: portLabel(n.transport, n.ports),
        service: [...new Set(n.rows.map((x) => x.service))].join('; '),
        status: 'never',
        direction: n.rows.some((x) => x.direction === 'inbound') ? 'inbound' : 'outbound',
        flows: 0,
        verdicts: {},
        ...(n.optional ? { optional: true } : {}),
      });
    const counts: Partial<Record<Status, number>> = {};
    for (const c of cells) counts[c.status] = (counts[c.status] ?? 0) + 1;
    const hosts = hostsOf.get(r.role) ?? new Set(r.hosts);
    return {
      role: r.role,
      hosts: groupHosts(hosts),
      hostCount: Math.max(r.host_count, hosts.size),
      cells,
      counts,
    };
  });
}

function buildTimeline(analysis: Analysis, bins: number): Timeline | null {
  const { first_ts: start, last_ts: end } = analysis.summary;
  const judged = analysis.flows.filter((f) => f.verdict !== 'outside');
  if (start === null || end === null || judged.length === 0) return null;
  const width = Math.max(end - start, 1e-6);
  const lanes = new Map<string, Lane>();
  for (const f of judged) {
    const label = `${f.orig_role ?? 'no role'} → ${f.resp_role ?? 'no role'}`;
    let lane = lanes.get(label);
    if (!lane) {
      lane = {
        label,
        total: new Array<number>(bins).fill(0),
        problems: new Array<number>(bins).fill(0),
        flows: 0,
      };
      lanes.set(label, lane);
    }
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(((f.ts - start) / width) * bins)));
    lane.total[bin]++;
    lane.flows++;
    const status = verdictStatus(f.verdict);
    if (status === 'fail' || status === 'app') {
      lane.problems[bin]++;
      if (lane.firstFailure === undefined || f.ts < lane.firstFailure) lane.firstFailure = f.ts;
    }
  }
  const list = [...lanes.values()].sort(
    (a, b) =>
      Number(b.firstFailure !== undefined) - Number(a.firstFailure !== undefined) || b.flows - a.flows,
  );
  return { start, end, bins, lanes: list };
}

interface LogEntry {
  from?: string;
  ts?: number;
  line?: string;
  cseq?: string;
  call_id?: string;
}

function buildLadder(call: Call, byCid: Map<string, JudgedFlow>): Ladder {
  const parties: Ladder['parties'] = [];
  const party = (host: string, port: number, role: string | null): number => {
    const ep = endpoint(host, port);
    let i = parties.findIndex((p) => p.endpoint === ep);
    if (i < 0) i = parties.push({ endpoint: ep, role }) - 1;
    return i;
  };
  const messages: LadderMessage[] = [];
  let capped = false;
  for (const cid of call.signalling) {
    const f = byCid.get(cid);
    if (!f) continue;
    const log = f.app_detail?.first_messages;
    if (!Array.isArray(log)) continue;
    if (typeof f.app_detail?.messages === 'number' && f.app_detail.messages > log.length) capped = true;
    const o = party(f.orig_h, f.orig_p, f.orig_role);
    const r = party(f.resp_h, f.resp_p, f.resp_role);
    for (const e of log as LogEntry[]) {
      // The log keeps 64 characters of the Call-ID; the call's may be longer.
      if (e.call_id !== undefined && !call.call_id.startsWith(e.call_id)) continue;
      messages.push({
        ts: e.ts ?? f.ts,
        from: e.from === 'resp' ? r : o,
        to: e.from === 'resp' ? o : r,
        line: e.line ?? '?',
        ...(e.cseq !== undefined ? { cseq: e.cseq } : {}),
      });
    }
  }
  messages.sort((a, b) => a.ts - b.ts);
  return { call, parties, messages, capped };
}

function aggregate(flows: readonly JudgedFlow[]): PageModel['aggregated'] {
  const groups = new Map<string, { key: string; label: string; verdict: string; flows: number }>();
  for (const f of flows) {
    const label = `${f.orig_role ?? 'no role'} → ${f.resp_role ?? 'no role'} ${f.proto.toUpperCase()} ${f.resp_p}`;
    const k = `${label}|${f.verdict}`;
    const g = groups.get(k);
    if (g) g.flows++;
    else groups.set(k, { key: k, label, verdict: f.verdict, flows: 1 });
  }
  return [...groups.values()].sort((a, b) => b.flows - a.flows);
}

export function buildPageModel(analysis: Analysis, options: ModelOptions = {}): PageModel {
  const byKey = new Map<string, JudgedFlow[]>();
  const byCid = new Map<string, JudgedFlow>();
  const hostsOf = new Map<string, Set<string>>();
  const addHost = (role: string | null, host: string): void => {
    if (role === null) return;
    const set = hostsOf.get(role) ?? new Set<string>();
    set.add(host);
    hostsOf.set(role, set);
  };
  for (const f of analysis.flows) {
    for (const k of flowKeys(f)) {
      const list = byKey.get(k);
      if (list) list.push(f);
      else byKey.set(k, [f]);
    }
    byCid.set(f.community_id, f);
    addHost(f.orig_role, f.orig_h);
    addHost(f.resp_role, f.resp_h);
  }
  const judged = analysis.summary.judged;
  const cards = buildCards(analysis, byKey, options.firewallRules);
  const max = options.maxFlows ?? DEFAULT_PAGE_FLOWS;
  let listed: JudgedFlow[] = analysis.flows;
  let aggregated: PageModel['aggregated'] = [];
  if (analysis.flows.length > max) {
    // Problems first, so that no failing flow is aggregated away while an ok one is listed.
    const problems = orderProblemFlows(analysis.flows);
    const rest = analysis.flows.filter((f) => !isProblem(f.verdict));
    listed = [...problems, ...rest].slice(0, max);
    const kept = new Set(listed);
    aggregated = aggregate(analysis.flows.filter((f) => !kept.has(f)));
  }
  const topology = Object.entries(analysis.summary.topology.roles).map(([role, addrs]) => {
    const single = addrs.filter((a) => !a.includes('/'));
    return {
      role,
      given: addrs.filter((a) => a.includes('/')),
      groups: groupHosts(single),
      count: single.length,
    };
  });
  const v = analysis.summary.verdicts;
  return {
    sentence: verdictSentence(cards, { judged, ok: v.ok ?? 0, incomplete: v.incomplete ?? 0 }),
    judged,
    cards,
    matrix: buildMatrix(analysis, hostsOf),
    timeline: buildTimeline(analysis, options.timelineBins ?? 60),
    ladders: analysis.calls.map((c) => buildLadder(c, byCid)),
    topology,
    listed,
    aggregated,
    unlisted: Math.max(0, judgedTotal(analysis) - analysis.flows.length),
  };
}

function judgedTotal(analysis: Analysis): number {
  return Object.values(analysis.summary.verdicts).reduce((n, c) => n + (c ?? 0), 0);
}
