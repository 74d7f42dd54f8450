/** The verdict vocabulary of issue 3, and what a judged flow carries. */
import type { FlowRecord } from '../flow/record.js';
import type { Fit } from './protocol-fit.js';

export const VERDICTS = [
  'ok',
  'blocked',
  'refused',
  'filtered',
  'unexpected',
  'mismatch',
  'one-way',
  'incomplete',
  'outside',
] as const;

/**
 * ok: expected by the catalog and answered. blocked: no answer (SYN unanswered, UDP without reply,
 * STUN request without response, TLS handshake that never completed). refused: TCP reset or ICMP
 * port-unreachable. filtered: ICMP administratively prohibited or host/net unreachable.
 * unexpected: no catalog row for this role, port and transport. mismatch: a catalog port carrying
 * another protocol. one-way: media or UDP in one direction only. incomplete: the capture started or
 * ended mid-flow. outside: neither endpoint has a server role in the topology (not judged).
 */
export type Verdict = (typeof VERDICTS)[number];

/** Verdicts that mean traffic did not get through: what `--fail-on blocked` looks for. */
export const CONNECTIVITY_PROBLEMS: ReadonlySet<Verdict> = new Set([
  'blocked',
  'refused',
  'filtered',
  'one-way',
]);
/** Verdicts about traffic nobody expected: what `--fail-on unexpected` looks for. */
export const EXPECTATION_PROBLEMS: ReadonlySet<Verdict> = new Set(['unexpected', 'mismatch']);

/** A verdict an administrator has to act on: either kind of problem (what `--fail-on any` looks for). */
export function isProblem(v: Verdict): boolean {
  return CONNECTIVITY_PROBLEMS.has(v) || EXPECTATION_PROBLEMS.has(v);
}

/** The catalog row shape the verdict stage relies on (the catalog stage's CatalogRow has at least these). */
export interface RowLike {
  id: string;
  roles: string[];
  direction: 'inbound' | 'outbound';
  peers?: string[];
  service: string;
  ports: string;
  transport: 'tcp' | 'udp' | 'both';
  protocol: string;
  optional?: boolean;
}

/** What the verdict stage needs from a catalog. */
export interface CatalogAccess {
  rowsForRole(role: string): RowLike[];
  match(q: {
    role: string;
    port: number;
    transport: 'tcp' | 'udp';
    direction: 'inbound' | 'outbound';
  }): RowLike[];
  /** Roles that are servers (not client or phone): traffic they originate is judged too. */
  isServerRole(role: string): boolean;
  /** A host's roles with the ones they imply (a cms host is a front-end too). */
  hostRoles(roles: readonly string[]): string[];
  /** Whether a row that names its peers applies when the other side has these roles (groups expanded). */
  peersFit(row: RowLike, otherRoles: readonly string[]): boolean;
}

export interface CatalogMatch {
  id: string;
  role: string;
  direction: 'inbound' | 'outbound';
  service: string;
  ports: string;
  transport: string;
  protocol: string;
  /** Whether the recognized application protocol fits the row ('unknown' when nothing was recognized). */
  fit: Fit;
}

export interface JudgedFlow extends FlowRecord {
  /** The role of each endpoint that the verdict used (null when the address has no role). */
  orig_role: string | null;
  resp_role: string | null;
  /** All roles of the endpoint, when a host carries several. */
  orig_roles?: string[];
  resp_roles?: string[];
  catalog: CatalogMatch[];
  verdict: Verdict;
  reason: string;
}
