/**
 * The one place where the three axes become a verdict. Rules are tried in order; the first whose
 * three patterns all match decides. The order is the policy:
 *
 *  - a flow nobody audits (not TCP/UDP, or no server role at either end) is `outside`;
 *  - a connectivity problem on a port the role owns wins over any expectation note (a refused
 *    5068 from a peer the row does not name is `refused`, the peer is named in the reason), so a
 *    failing port is never hidden behind a softer label;
 *  - a port no row of the role has is `unexpected`, however the network treated it;
 *  - a port carrying another protocol is `mismatch` (the misfit explains any failure on top);
 *  - an application failure on a network that let the flow through is `failed`;
 *  - an answered flow from a peer the port's rows do not name is `unexpected`;
 *  - what remains is expected: `incomplete` when the capture cut it, `ok` when answered.
 *
 * Every one of the 7 × 5 × 3 combinations matches a rule (the last ones are total), and
 * test/verdict.test.ts checks each rule on hand-built records.
 */
import type { AppOutcome, Expectation, NetworkOutcome, Verdict } from './types.js';

type Pattern<T> = '*' | readonly T[];

export interface PrecedenceRule {
  network: Pattern<NetworkOutcome>;
  expectation: Pattern<Expectation>;
  app: Pattern<AppOutcome>;
  verdict: Verdict;
  /** Which axis the reason leads with: the one that decided. */
  lead: 'network' | 'expectation' | 'app';
  /** Why the rule is where it is. */
  why: string;
}

const OWNED: readonly Expectation[] = ['expected', 'unexpected-peer', 'mismatch'];

export const PRECEDENCE: readonly PrecedenceRule[] = [
  {
    network: ['not-judged'],
    expectation: '*',
    app: '*',
    verdict: 'outside',
    lead: 'network',
    why: 'only TCP and UDP are held against the catalog',
  },
  {
    network: '*',
    expectation: ['outside'],
    app: '*',
    verdict: 'outside',
    lead: 'expectation',
    why: 'no server role at either end: not audited',
  },
  {
    network: ['refused'],
    expectation: OWNED,
    app: '*',
    verdict: 'refused',
    lead: 'network',
    why: "a reset or ICMP port-unreachable on a port the role owns: the network's answer comes first",
  },
  {
    network: ['filtered'],
    expectation: OWNED,
    app: '*',
    verdict: 'filtered',
    lead: 'network',
    why: 'ICMP prohibited or unreachable on a port the role owns',
  },
  {
    network: ['no-answer'],
    expectation: OWNED,
    app: '*',
    verdict: 'blocked',
    lead: 'network',
    why: 'nothing came back on a port the role owns',
  },
  {
    network: ['one-way'],
    expectation: OWNED,
    app: '*',
    verdict: 'one-way',
    lead: 'network',
    why: 'traffic in one direction only on a port the role owns',
  },
  {
    network: '*',
    expectation: ['unexpected-port'],
    app: '*',
    verdict: 'unexpected',
    lead: 'expectation',
    why: 'no row of the role has the port: whatever the network did, nobody expected it',
  },
  {
    network: '*',
    expectation: ['mismatch'],
    app: '*',
    verdict: 'mismatch',
    lead: 'expectation',
    why: 'the port carries another protocol than its rows expect; that explains a failure on top',
  },
  {
    network: '*',
    expectation: '*',
    app: ['failed'],
    verdict: 'failed',
    lead: 'app',
    why: 'the network let it through and the application said no',
  },
  {
    network: '*',
    expectation: ['unexpected-peer'],
    app: '*',
    verdict: 'unexpected',
    lead: 'expectation',
    why: "the port's rows name other peers: it got through, from a peer nobody expected",
  },
  {
    network: ['incomplete'],
    expectation: '*',
    app: '*',
    verdict: 'incomplete',
    lead: 'network',
    why: 'the capture started or ended mid-flow',
  },
  {
    network: '*',
    expectation: '*',
    app: '*',
    verdict: 'ok',
    lead: 'network',
    why: 'expected, answered, and the application did not fail',
  },
];

function fits<T>(p: Pattern<T>, v: T): boolean {
  return p === '*' || p.includes(v);
}

/** The first rule of PRECEDENCE that matches the three axes. */
export function precedenceRule(
  network: NetworkOutcome,
  expectation: Expectation,
  app: AppOutcome,
): PrecedenceRule {
  for (const r of PRECEDENCE)
    if (fits(r.network, network) && fits(r.expectation, expectation) && fits(r.app, app)) return r;
  // Unreachable: the last rule matches everything.
  throw new Error(`no precedence rule for ${network} / ${expectation} / ${app}`);
}
