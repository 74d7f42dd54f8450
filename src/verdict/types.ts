/**
 * What a judged flow carries. Three questions are answered apart, each from its own evidence,
 * and the verdict is derived from them by one precedence table (precedence.ts):
 *
 *   network      did the network let it through?          from the wire only (outcome.ts)
 *   expectation  is it expected (port, role, peer, protocol)? from the catalog (judge.ts)
 *   app_outcome  did the application on top of it work?    from the recognize stage's findings (app-outcome.ts)
 *
 * and, for a reset or an ICMP error, who sent it (answered-by.ts). In JSON every judged flow has
 * these fields next to the flow record's own:
 *
 *   "network": "refused", "network_reason": "ICMP port-unreachable from 10.77.1.1 ...",
 *   "expectation": "unexpected-peer", "expectation_reason": "the catalog names pstn-gateway ...",
 *   "app_outcome": "not-seen",
 *   "answered_by": "path",
 *   "answered_by_evidence": { "kind": "icmp", "reporter": "10.77.1.1", "answer_ttl": 64,
 *                             "responder_ttl": 63, "responder_ttl_from": "other-flows",
 *                             "field": "ttl", "text": "..." },
 *   "verdict": "refused", "reason": "..."
 */
import type { FlowRecord } from '../flow/record.js';
import type { Fit } from './protocol-fit.js';

/**
 * Did the network let it through? `answered`: the responder answered (TCP handshake completed,
 * datagrams both ways). `no-answer`: nothing came back (SYN unanswered, UDP without reply).
 * `refused`: TCP reset to the SYN, ICMP port-unreachable, or a reset that a device on the path
 * sent into an established connection. `filtered`: ICMP administratively prohibited, host or net
 * unreachable. `one-way`: media or a UDP stream in one direction only, or a TCP handshake whose
 * SYN-ACK was never acknowledged (history `Sh`). `incomplete`: the capture
 * started or ended mid-flow. `not-judged`: not TCP or UDP (ICMP, other IP protocols).
 */
export const NETWORK_OUTCOMES = [
  'answered',
  'no-answer',
  'refused',
  'filtered',
  'one-way',
  'incomplete',
  'not-judged',
] as const;
export type NetworkOutcome = (typeof NETWORK_OUTCOMES)[number];

/**
 * Is it expected? `expected`: a catalog row of the role has this port and transport, names this
 * peer (or any peer), and the recognised protocol fits (or nothing was recognised).
 * `unexpected-port`: no row of the role has this port and transport. `unexpected-peer`: the role
 * has the port, but every such row names other peers. `mismatch`: the port's rows expect another
 * protocol than the one recognised. `outside`: no server role at either end (not audited).
 */
export const EXPECTATIONS = [
  'expected',
  'unexpected-port',
  'unexpected-peer',
  'mismatch',
  'outside',
] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

/**
 * Did the application on top work? `worked`: a protocol was recognised and talked both ways
 * without failing. `failed`: the hosts talked and the protocol said no (a TLS alert from either
 * side, a TLS or MS-TURN pseudo-TLS handshake the server never answered, a DCE/RPC bind
 * rejected, a STUN or SMB refusal, an HTTP 5xx, DHCP without the Lync options).
 * `not-seen`: nothing the recognisers could judge (no payload, or an unknown one).
 */
export const APP_OUTCOMES = ['worked', 'failed', 'not-seen'] as const;
export type AppOutcome = (typeof APP_OUTCOMES)[number];

/**
 * Who sent the reset or the ICMP error: `responder` (the server's own host: same TTL or hop limit
 * as its other packets, or the ICMP error comes from the destination address), `path` (a router
 * or firewall on the way: the ICMP error comes from another address, or the reset arrives with a
 * TTL that puts its sender closer than the server), `unknown` (nothing to compare with).
 */
export const ANSWERED_BY = ['responder', 'path', 'unknown'] as const;
export type AnsweredBy = (typeof ANSWERED_BY)[number];

/** The evidence behind `answered_by`. TTLs are IPv4's; for IPv6 they are hop limits (`field`). */
export interface AnsweredByEvidence {
  /** What answered: a TCP reset, or an ICMP error. */
  kind: 'tcp-reset' | 'icmp';
  /** Which side's packet it answered for: the host whose own packets it is compared with. */
  host: string;
  field: 'ttl' | 'hop_limit';
  /** TTL (hop limit) of the reset or ICMP error as captured. */
  answer_ttl?: number;
  /** TTL (hop limit) of `host`'s own packets as captured, when any were seen. */
  responder_ttl?: number;
  /** Where `responder_ttl` comes from: this flow's other packets, or the host's packets in other flows. */
  responder_ttl_from?: 'this-flow' | 'other-flows';
  /** The ICMP error's sender. */
  reporter?: string;
  /** The comparison in words, for reports. */
  text: string;
}

export const VERDICTS = [
  'ok',
  'blocked',
  'refused',
  'filtered',
  'failed',
  'unexpected',
  'mismatch',
  'one-way',
  'incomplete',
  'outside',
] as const;

/**
 * Derived from the three axes by precedence.ts. ok: expected, answered, and the application did
 * not fail. blocked: no answer. refused: TCP reset or ICMP port-unreachable. filtered: ICMP
 * administratively prohibited or host/net unreachable. one-way: media or UDP in one direction
 * only. (blocked, refused, filtered and one-way mean the network stopped it, and only that.)
 * failed: the network let it through and the application failed (a certificate, not a firewall
 * rule). unexpected: a port no row of the role has, or a peer the port's rows do not name.
 * mismatch: a catalog port carrying another protocol. incomplete: the capture started or ended
 * mid-flow. outside: neither endpoint has a server role in the topology (not judged).
 */
export type Verdict = (typeof VERDICTS)[number];

/** Verdicts that mean the network did not let traffic through: what `--fail-on blocked` looks for. */
export const CONNECTIVITY_PROBLEMS: ReadonlySet<Verdict> = new Set([
  'blocked',
  'refused',
  'filtered',
  'one-way',
]);
/** The application failed on top of a working network: what `--fail-on failed` looks for. */
export const APPLICATION_PROBLEMS: ReadonlySet<Verdict> = new Set(['failed']);
/** Verdicts about traffic nobody expected: what `--fail-on unexpected` looks for. */
export const EXPECTATION_PROBLEMS: ReadonlySet<Verdict> = new Set(['unexpected', 'mismatch']);

/** A verdict an administrator has to act on: any kind of problem (what `--fail-on any` looks for). */
export function isProblem(v: Verdict): boolean {
  return CONNECTIVITY_PROBLEMS.has(v) || APPLICATION_PROBLEMS.has(v) || EXPECTATION_PROBLEMS.has(v);
}

/** The catalog row shape the verdict stage relies on (the catalog stage's CatalogRow has at least these). */
export interface RowLike {
  id: string;
  roles: string[];
  direction: 'inbound' | 'outbound';
  /** The roles on the other side, when the source says; absent means any. */
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
  /** Whether the catalog knows this role (a role it has no rows or entry for is not audited). */
  knowsRole(role: string): boolean;
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
  /** The row's peers, when it names them. */
  peers?: string[];
  /** Present (false) when the row names other peers than the other side's roles: `unexpected-peer`. */
  peer_fit?: false;
}

export interface JudgedFlow extends FlowRecord {
  /** The role of each endpoint that the verdict used (null when the address has no role). */
  orig_role: string | null;
  resp_role: string | null;
  /** All roles of the endpoint, when a host carries several. */
  orig_roles?: string[];
  resp_roles?: string[];
  /**
   * The catalog rows the flow matched: where several rows share the port and the payload cannot
   * tell them apart, all of them (the candidates); for `unexpected-peer`, the port's rows (each
   * with `peer_fit: false`).
   */
  catalog: CatalogMatch[];
  network: NetworkOutcome;
  network_reason: string;
  expectation: Expectation;
  expectation_reason: string;
  app_outcome: AppOutcome;
  /** The finding that decided `app_outcome` (its kind; the message is in app_findings and the reason). */
  app_outcome_finding?: string;
  /** For a flow answered by a reset or an ICMP error: who sent it, and the evidence. */
  answered_by?: AnsweredBy;
  answered_by_evidence?: AnsweredByEvidence;
  verdict: Verdict;
  /** The verdict's reason in words: the deciding axis first, then what the others add. */
  reason: string;
}
