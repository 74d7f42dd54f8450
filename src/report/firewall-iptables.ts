/**
 * iptables-restore(8) input for the filter table's FORWARD chain (default DROP, established
 * traffic passed, then one ACCEPT per catalog rule), IPv4 for `iptables-restore` or IPv6 for
 * `ip6tables-restore`. Known addresses are written out (-s/-d lists); a role to fill in is an
 * ipset (`-m set --match-set lync_ROLE_v4`), whose `ipset create` line the header gives.
 */
import { ANY_PEER, type PortRange } from '../catalog/index.js';
import {
  headerLines,
  identifier,
  ruleComment,
  ruleSummary,
  type AddressSet,
  type FirewallPlan,
  type FirewallRule,
} from './firewall.js';

type Family = 4 | 6;

function ipsetName(role: string, family: Family): string {
  return `lync_${identifier(role)}_v${family}`;
}

/** An address match for one side: undefined (any), null (no address of this family), or the options. */
function side(set: AddressSet | undefined, family: Family, flag: '-s' | '-d'): string | undefined | null {
  if (set === undefined) return undefined;
  if (set.origin === 'none')
    return `-m set --match-set ${ipsetName(set.role, family)} ${flag === '-s' ? 'src' : 'dst'}`;
  const list = family === 4 ? set.v4 : set.v6;
  return list.length === 0 ? null : `${flag} ${list.join(',')}`;
}

/** --dport 5061, --dport 49152:57500, or -m multiport --dports 3478:3481,49152:53247. */
function dport(proto: 'tcp' | 'udp', ports: readonly PortRange[]): string {
  const one = ([lo, hi]: PortRange): string => (lo === hi ? String(lo) : `${lo}:${hi}`);
  if (ports.length === 1) return `-p ${proto} -m ${proto} --dport ${one(ports[0])}`;
  return `-p ${proto} -m multiport --dports ${ports.map(one).join(',')}`;
}

function ruleLines(plan: FirewallPlan, rule: FirewallRule, family: Family): string[] {
  const from = side(rule.from === ANY_PEER ? undefined : plan.sets.get(rule.from), family, '-s');
  const to = side(rule.to === ANY_PEER ? undefined : plan.sets.get(rule.to), family, '-d');
  if (from === null || to === null) return [];
  const protos = rule.transport === 'both' ? (['tcp', 'udp'] as const) : [rule.transport];
  return protos.map((proto) =>
    [
      '-A FORWARD',
      ...(from !== undefined ? [from] : []),
      ...(to !== undefined ? [to] : []),
      dport(proto, rule.ports),
      `-m comment --comment "${ruleComment(rule.row, 250)}"`,
      '-j ACCEPT',
    ].join(' '),
  );
}

export function renderIptables(plan: FirewallPlan, family: Family = 4): string {
  const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
  const out = headerLines(plan).map((l) => `# ${l}`);
  out.push(`# IPv${family} rules for ${tool} (check first with ${tool} --test FILE).`);
  const otherFamily = family === 4 ? 6 : 4;
  const hasOther = [...plan.sets.values()].some((s) => (otherFamily === 4 ? s.v4 : s.v6).length > 0);
  if (hasOther)
    out.push(
      `# Some roles also have IPv${otherFamily} addresses: --format ${family === 4 ? 'ip6tables' : 'iptables'} writes those rules.`,
    );
  const ipsets = [...plan.sets.values()].filter((s) => s.origin === 'none');
  if (ipsets.length > 0) {
    out.push('# Create and fill these ipsets first:');
    for (const s of ipsets)
      out.push(
        `#   ipset create ${ipsetName(s.role, family)} hash:net family ${family === 4 ? 'inet' : 'inet6'}`,
      );
  }
  out.push(
    '*filter',
    ':FORWARD DROP [0:0]',
    '-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A FORWARD -m conntrack --ctstate INVALID -j DROP',
  );
  for (const rule of plan.rules) {
    const lines = ruleLines(plan, rule, family);
    out.push(`# ${ruleSummary(rule)}${lines.length === 0 ? ` (no IPv${family} address on one side)` : ''}`);
    out.push(...lines);
  }
  out.push('COMMIT');
  return out.join('\n') + '\n';
}
