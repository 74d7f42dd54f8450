/**
 * One verdict per flow: the catalog rows it matches (the responder's role listening on that port and
 * transport, or the originator's role allowed to send there), whether the application protocol fits,
 * and what happened on the wire (outcome.ts). Pure: same record and context, same verdict.
 */
import type { FlowRecord } from '../flow/record.js';
import type { RoleResolver } from '../topology/topology.js';
import { flowOutcome } from './outcome.js';
import { protocolFit } from './protocol-fit.js';
import type { CatalogAccess, CatalogMatch, JudgedFlow, RowLike, Verdict } from './types.js';

export interface JudgeContext {
  catalog: CatalogAccess;
  roles: RoleResolver;
  /** Time of the last packet of the capture, to tell "no answer" from "the capture ended". */
  captureEnd: number;
}

/** A row that names its peers only applies to them; an endpoint without a known role gets the benefit of the doubt. */
function peersAllow(ctx: JudgeContext, row: RowLike, otherRoles: readonly string[]): boolean {
  if (row.peers === undefined || row.peers.length === 0 || otherRoles.length === 0) return true;
  return ctx.catalog.peersFit(row, otherRoles);
}

export function catalogMatches(
  rec: FlowRecord,
  ctx: JudgeContext,
  origRoles: readonly string[],
  respRoles: readonly string[],
): CatalogMatch[] {
  if (rec.proto !== 'tcp' && rec.proto !== 'udp') return [];
  const transport = rec.proto;
  // A DCE/RPC connection to a port the endpoint mapper handed out is judged as the mapper's service.
  const port = rec.linked?.kind === 'dcerpc-endpoint' ? rec.linked.port : rec.resp_p;
  const matches: CatalogMatch[] = [];
  const seen = new Set<string>();
  const add = (row: RowLike, role: string, direction: 'inbound' | 'outbound'): void => {
    const key = `${row.id}|${role}`;
    if (seen.has(key)) return;
    seen.add(key);
    matches.push({
      id: row.id,
      role,
      direction,
      service: row.service,
      ports: row.ports,
      transport: row.transport,
      protocol: row.protocol,
      fit: protocolFit(row.protocol, rec.app, rec.app_confidence),
    });
  };
  for (const role of respRoles)
    for (const row of ctx.catalog.match({ role, port, transport, direction: 'inbound' }))
      if (peersAllow(ctx, row, origRoles)) add(row, role, 'inbound');
  for (const role of origRoles)
    for (const row of ctx.catalog.match({ role, port, transport, direction: 'outbound' }))
      if (peersAllow(ctx, row, respRoles)) add(row, role, 'outbound');
  // Several rows share a port (TCP 443 carries SIP, PSOM and the A/V relay): when the payload
  // says which one it is, the rows it contradicts are dropped.
  if (matches.some((m) => m.fit === 'yes')) return matches.filter((m) => m.fit !== 'no');
  return matches;
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

export function judgeFlow(rec: FlowRecord, ctx: JudgeContext): JudgedFlow {
  const origRoles = ctx.catalog.hostRoles(ctx.roles.rolesOf(rec.orig_h));
  const respRoles = ctx.catalog.hostRoles(ctx.roles.rolesOf(rec.resp_h));
  const matches = catalogMatches(rec, ctx, origRoles, respRoles);
  const { outcome, reason: wire } = flowOutcome(rec, ctx.captureEnd);
  let verdict: Verdict;
  let reason: string;

  // Judged against the catalog: anything a server answers or sends, and traffic between two hosts
  // of the topology. A client talking to the rest of the world is outside the audit.
  const isServer = (r: string): boolean => ctx.catalog.isServerRole(r);
  const judged =
    respRoles.some(isServer) || origRoles.some(isServer) || (respRoles.length > 0 && origRoles.length > 0);
  if (outcome === 'not-judged' || rec.icmp_quote !== undefined) {
    verdict = 'outside';
    reason = rec.icmp_quote
      ? `an ICMP error about ${rec.icmp_quote.proto} ${rec.icmp_quote.orig_h}:${rec.icmp_quote.orig_p} → ${rec.icmp_quote.resp_h}:${rec.icmp_quote.resp_p} (judged with that flow)`
      : wire;
  } else if (matches.length === 0) {
    if (judged) {
      verdict = 'unexpected';
      const who =
        respRoles.length > 0 ? `${respRoles.join('+')} answering` : `${origRoles.join('+')} sending to`;
      reason = `no catalog row for ${who} ${rec.proto.toUpperCase()} ${rec.resp_p}; ${wire}`;
    } else {
      verdict = 'outside';
      reason =
        respRoles.length === 0 && origRoles.length === 0
          ? 'neither endpoint has a role in the topology'
          : `no server role involved (${[...origRoles, ...respRoles].join(', ')} to an address outside the topology)`;
    }
  } else {
    const fits = matches.some((m) => m.fit === 'yes');
    const misfit = !fits && matches.every((m) => m.fit === 'no');
    switch (outcome) {
      case 'refused':
      case 'filtered':
      case 'one-way':
      case 'incomplete':
        verdict = outcome;
        reason = wire;
        break;
      case 'no-answer':
        verdict = 'blocked';
        reason = wire;
        break;
      default:
        if (misfit) {
          verdict = 'mismatch';
          const expected = [...new Set(matches.map((m) => m.protocol))].join(' or ');
          reason = `the catalog expects ${expected} on ${rec.proto.toUpperCase()} ${rec.resp_p}; the flow carries ${rec.app}`;
        } else {
          verdict = 'ok';
          reason = wire;
        }
    }
  }

  // Object.assign rather than a spread: records differ in their optional fields, and a spread
  // into a literal cost about 4.4 KB per flow against 1.5 KB here (measured on 3,559 bench flows).
  const judgedFlow: JudgedFlow = Object.assign({}, rec, {
    orig_role: primaryRole(origRoles, matches, 'outbound'),
    resp_role: primaryRole(respRoles, matches, 'inbound'),
    catalog: matches,
    verdict,
    reason,
  });
  if (origRoles.length > 1) judgedFlow.orig_roles = [...origRoles];
  if (respRoles.length > 1) judgedFlow.resp_roles = [...respRoles];
  return judgedFlow;
}
