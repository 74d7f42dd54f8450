/**
 * Judging one flow: the three axes, each from its own evidence, then the verdict from the one
 * precedence table (precedence.ts).
 *   network      outcome.ts      the wire (conn_state, ICMP errors, who sent a reset)
 *   expectation  here            the catalog rows of the roles at both ends, their peers, protocol fit
 *   app_outcome  app-outcome.ts  the recognize stage's findings
 * Pure: same record and context, same judgement.
 */
import type { FlowRecord } from '../flow/record.js';
import type { RoleResolver } from '../topology/topology.js';
import { answeredBy, type HostTtls } from './answered-by.js';
import { appOutcome } from './app-outcome.js';
import { networkOutcome } from './outcome.js';
import { precedenceRule } from './precedence.js';
import { protocolFit } from './protocol-fit.js';
import type { CatalogAccess, CatalogMatch, Expectation, JudgedFlow, RowLike } from './types.js';

export interface JudgeContext {
  catalog: CatalogAccess;
  roles: RoleResolver;
  /** Time of the last packet of the capture, to tell "no answer" from "the capture ended". */
  captureEnd: number;
  /** The TTL of each host's own packets in the capture, to tell who sent a reset. */
  ttls?: HostTtls;
}

/** A row that names its peers only applies to them; an endpoint without a known role gets the benefit of the doubt. */
function peersAllow(ctx: JudgeContext, row: RowLike, otherRoles: readonly string[]): boolean {
  if (row.peers === undefined || row.peers.length === 0 || otherRoles.length === 0) return true;
  return ctx.catalog.peersFit(row, otherRoles);
}

function toMatch(rec: FlowRecord, row: RowLike, role: string, peerFit: boolean): CatalogMatch {
  const m: CatalogMatch = {
    id: row.id,
    role,
    direction: row.direction,
    service: row.service,
    ports: row.ports,
    transport: row.transport,
    protocol: row.protocol,
    fit: protocolFit(row.protocol, rec.app, rec.app_confidence),
  };
  if (row.peers !== undefined && row.peers.length > 0) m.peers = row.peers;
  if (!peerFit) m.peer_fit = false;
  return m;
}

export interface CatalogMatches {
  /** The rows that explain the flow; for `unexpected-peer`, the port's rows that name other peers. */
  matches: CatalogMatch[];
  /** True when rows have the port but none names the peer. */
  peerMismatch: boolean;
}

/**
 * The matches of a flow depend only on the roles at both ends, the transport, the port and what
 * the payload was recognised as; flows repeat the same few combinations (a scan: one per port),
 * so each result is computed once and shared by every flow that has it (nothing changes a judged
 * flow's `catalog` afterwards). Per flow this was a CatalogMatch object per row, a Set per peer
 * test, and the catalog's rows filtered again: 3.3 s of 18 s on the 1M-SYN scan of a client
 * block (docs/decisions.md, "analyze CPU per flow"). Bounded: the memo starts over at MEMO_SIZE.
 */
const MEMO_SIZE = 4096;
const matchMemo = new WeakMap<CatalogAccess, Map<string, CatalogMatches>>();
const NO_MATCHES: CatalogMatches = { matches: [], peerMismatch: false };

/**
 * The rows a flow matches: the responder's role listening on that port and transport, or the
 * originator's role allowed to send there, naming the other side as a peer (or any peer). When
 * the port's rows all name other peers, those rows, marked `peer_fit: false`.
 */
export function catalogMatches(
  rec: FlowRecord,
  ctx: JudgeContext,
  origRoles: readonly string[],
  respRoles: readonly string[],
): CatalogMatches {
  if (rec.proto !== 'tcp' && rec.proto !== 'udp') return NO_MATCHES;
  // A DCE/RPC connection to a port the endpoint mapper handed out is judged as the mapper's service.
  const port = rec.linked?.kind === 'dcerpc-endpoint' ? rec.linked.port : rec.resp_p;
  let memo = matchMemo.get(ctx.catalog);
  if (memo === undefined) matchMemo.set(ctx.catalog, (memo = new Map()));
  const key = `${origRoles.join('+')}>${respRoles.join('+')} ${rec.proto} ${port} ${rec.app ?? ''} ${rec.app_confidence ?? ''}`;
  let found = memo.get(key);
  if (found === undefined) {
    found = findCatalogMatches(rec, ctx, origRoles, respRoles, rec.proto, port);
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, found);
  }
  return found;
}

function findCatalogMatches(
  rec: FlowRecord,
  ctx: JudgeContext,
  origRoles: readonly string[],
  respRoles: readonly string[],
  transport: 'tcp' | 'udp',
  port: number,
): CatalogMatches {
  const fitting: CatalogMatch[] = [];
  const others: CatalogMatch[] = [];
  const seen = new Set<string>();
  const consider = (role: string, direction: 'inbound' | 'outbound', otherRoles: readonly string[]): void => {
    for (const row of ctx.catalog.match({ role, port, transport, direction })) {
      const key = `${row.id}|${role}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const peerFit = peersAllow(ctx, row, otherRoles);
      (peerFit ? fitting : others).push(toMatch(rec, row, role, peerFit));
    }
  };
  for (const role of respRoles) consider(role, 'inbound', origRoles);
  for (const role of origRoles) consider(role, 'outbound', respRoles);
  const peerMismatch = fitting.length === 0 && others.length > 0;
  const matches = peerMismatch ? others : fitting;
  // Several rows share a port (TCP 443 carries SIP, PSOM and the A/V relay): when the payload
  // says which one it is, the rows it contradicts are dropped; the rest are the candidates.
  if (matches.some((m) => m.fit === 'yes'))
    return { matches: matches.filter((m) => m.fit !== 'no'), peerMismatch };
  return { matches, peerMismatch };
}

function primaryRole(
  roles: readonly string[],
  matches: CatalogMatch[],
  direction: 'inbound' | 'outbound',
): string | null {
  const m = matches.find((x) => x.direction === direction);
  if (m) return m.role;
  return roles[0] ?? null;
}

function list(items: readonly string[], joiner = 'or'): string {
  const u = [...new Set(items)];
  return u.length <= 1 ? (u[0] ?? '') : `${u.slice(0, -1).join(', ')} ${joiner} ${u[u.length - 1]}`;
}

interface ExpectationResult {
  expectation: Expectation;
  reason: string;
  matches: CatalogMatch[];
}

function expectationOf(
  rec: FlowRecord,
  ctx: JudgeContext,
  origRoles: readonly string[],
  respRoles: readonly string[],
): ExpectationResult {
  const port = `${rec.proto.toUpperCase()} ${rec.resp_p}`;
  if (rec.icmp_quote !== undefined || (rec.proto !== 'tcp' && rec.proto !== 'udp'))
    return { expectation: 'outside', reason: `${rec.proto} is not held against the catalog`, matches: [] };
  // Audited: anything a server answers or sends, and traffic between two hosts the catalog has
  // roles for. A client talking to the rest of the world (or to a cloud the catalog does not
  // cover) is outside the audit.
  const isServer = (r: string): boolean => ctx.catalog.isServerRole(r);
  const known = (r: string): boolean => ctx.catalog.knowsRole(r);
  const audited =
    respRoles.some(isServer) || origRoles.some(isServer) || (respRoles.some(known) && origRoles.some(known));
  if (!audited) {
    const all = [...origRoles, ...respRoles];
    const unknown = all.filter((r) => !known(r));
    return {
      expectation: 'outside',
      reason:
        all.length === 0
          ? 'neither endpoint has a role in the topology'
          : unknown.length > 0
            ? `the catalog has no rows for ${list(unknown, 'and')}: not audited with it`
            : `no server role involved (${all.join(', ')} to an address outside the topology)`,
      matches: [],
    };
  }
  const { matches, peerMismatch } = catalogMatches(rec, ctx, origRoles, respRoles);
  if (matches.length === 0) {
    const who =
      respRoles.length > 0 ? `${respRoles.join('+')} answering` : `${origRoles.join('+')} sending to`;
    return { expectation: 'unexpected-port', reason: `no catalog row for ${who} ${port}`, matches };
  }
  const services = list(matches.map((m) => m.service));
  if (matches.every((m) => m.fit === 'no')) {
    const expected = list(matches.map((m) => m.protocol));
    return {
      expectation: 'mismatch',
      reason: `the catalog expects ${expected} on ${port}; the flow carries ${rec.app}`,
      matches,
    };
  }
  if (peerMismatch) {
    const m = matches[0];
    const peer = m.direction === 'inbound' ? rec.orig_h : rec.resp_h;
    const peerRoles = m.direction === 'inbound' ? origRoles : respRoles;
    const named = list(matches.flatMap((x) => x.peers ?? []));
    return {
      expectation: 'unexpected-peer',
      reason: `the peer ${peer} (${peerRoles.join('+')}) is not the ${named} the catalog names for ${m.role} ${port} (${services})`,
      matches,
    };
  }
  return {
    expectation: 'expected',
    reason: `expected: ${services} (${list(
      matches.map((m) => m.id),
      'and',
    )})`,
    matches,
  };
}

/**
 * Judges a record and returns the record itself as the judged flow: the verdict's fields are added
 * to it, in one order (one object shape), instead of copying its thirty-odd fields into a new
 * object (Object.assign({}, rec, …) cost 2.3 s of 13 s on the 1M-SYN scan, and an object spread
 * of records of varying shapes four times that: docs/decisions.md, "analyze CPU per flow").
 * `analyzeCaptures` judges each record once and keeps only the judged flow; `judgeFlow` is the
 * pure form, for callers that keep the record.
 */
export function judgeRecord(rec: FlowRecord, ctx: JudgeContext): JudgedFlow {
  const origRoles = ctx.catalog.hostRoles(ctx.roles.rolesOf(rec.orig_h));
  const respRoles = ctx.catalog.hostRoles(ctx.roles.rolesOf(rec.resp_h));
  const who = answeredBy(rec, ctx.ttls);
  const net = networkOutcome(rec, ctx.captureEnd, who?.answered_by);
  const exp = expectationOf(rec, ctx, origRoles, respRoles);
  const app = appOutcome(rec);
  const rule = precedenceRule(net.network, exp.expectation, app.app_outcome);

  let reason: string;
  if (rec.icmp_quote !== undefined) {
    const q = rec.icmp_quote;
    reason = `an ICMP error about ${q.proto} ${q.orig_h}:${q.orig_p} → ${q.resp_h}:${q.resp_p} (judged with that flow)`;
  } else if (rule.verdict === 'outside') {
    reason = rule.lead === 'network' ? net.reason : exp.reason;
  } else {
    // The deciding axis first, then what the other two add.
    const parts =
      rule.lead === 'network'
        ? [net.reason]
        : rule.lead === 'app'
          ? [app.reason, net.reason]
          : [exp.reason, net.reason];
    if (who !== undefined) parts.push(who.evidence.text);
    if (exp.expectation !== 'expected' && rule.lead !== 'expectation') parts.push(exp.reason);
    if (app.app_outcome === 'failed' && rule.lead !== 'app') parts.push(app.reason);
    reason = parts.join('; ');
  }

  // Object.assign rather than a spread: records differ in their optional fields, and a spread
  // into a literal cost about 4.4 KB per flow against 1.5 KB here (measured on 3,559 bench flows).
  const judged = Object.assign(rec, {
    orig_role: primaryRole(origRoles, exp.matches, 'outbound'),
    resp_role: primaryRole(respRoles, exp.matches, 'inbound'),
    catalog: exp.matches,
    network: net.network,
    network_reason: net.reason,
    expectation: exp.expectation,
    expectation_reason: exp.reason,
    app_outcome: app.app_outcome,
    verdict: rule.verdict,
    reason,
  }) as JudgedFlow;
  if (app.finding !== undefined) judged.app_outcome_finding = app.finding.kind;
  if (who !== undefined) {
    judged.answered_by = who.answered_by;
    judged.answered_by_evidence = who.evidence;
  }
  if (origRoles.length > 1) judged.orig_roles = [...origRoles];
  if (respRoles.length > 1) judged.resp_roles = [...respRoles];
  return judged;
}

/** Judges a record without changing it (a copy becomes the judged flow). Same record and context, same judgement. */
export function judgeFlow(rec: FlowRecord, ctx: JudgeContext): JudgedFlow {
  return judgeRecord(Object.assign({}, rec), ctx);
}
