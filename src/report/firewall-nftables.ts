/**
 * nftables rules (nft(8), "table inet"): one named set per role and address family, and a
 * forward chain with a default drop that passes established traffic and each catalog rule.
 * The output is a complete file for `nft -f`: it deletes and recreates `table inet lync`, so
 * loading it twice leaves one copy.
 */
import { ANY_PEER, formatRange, type PortRange } from '../catalog/index.js';
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

/** A set's name for one family: front_end_v4. */
function setName(role: string, family: Family): string {
  return `${identifier(role)}_v${family}`;
}

/** The families a side can match: both for a set to fill in, those with addresses otherwise. */
function families(set: AddressSet | undefined): Family[] {
  if (set === undefined) return [4, 6]; // "any"
  if (set.origin === 'none') return [4, 6];
  return [...(set.v4.length > 0 ? [4 as const] : []), ...(set.v6.length > 0 ? [6 as const] : [])];
}

function declareSets(plan: FirewallPlan): string[] {
  const out: string[] = [];
  for (const set of plan.sets.values())
    for (const family of families(set)) {
      const elements = family === 4 ? set.v4 : set.v6;
      const why =
        set.origin === 'topology'
          ? `role ${set.role}, from the topology`
          : set.origin === 'catalog'
            ? `role ${set.role}, published addresses in the catalog`
            : `role ${set.role}: fill in its IPv${family} addresses`;
      out.push(`\tset ${setName(set.role, family)} {`, `\t\t# ${why}`);
      out.push(`\t\ttype ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`, '\t\tflags interval');
      if (elements.length > 0) out.push(`\t\telements = { ${elements.join(', ')} }`);
      out.push('\t}');
    }
  return out;
}

export function nftPorts(ports: readonly PortRange[]): string {
  const parts = ports.map(formatRange);
  return parts.length === 1 ? parts[0] : `{ ${parts.join(', ')} }`;
}

function ruleLines(plan: FirewallPlan, rule: FirewallRule): string[] {
  const from = rule.from === ANY_PEER ? undefined : plan.sets.get(rule.from);
  const to = rule.to === ANY_PEER ? undefined : plan.sets.get(rule.to);
  const l4 =
    rule.transport === 'both'
      ? `meta l4proto { tcp, udp } th dport ${nftPorts(rule.ports)}`
      : `${rule.transport} dport ${nftPorts(rule.ports)}`;
  const comment = `comment "${ruleComment(rule.row)}"`;
  if (from === undefined && to === undefined) return [`\t\t${l4} accept ${comment}`];
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    if (!families(from).includes(family) || !families(to).includes(family)) continue;
    const ip = family === 4 ? 'ip' : 'ip6';
    const match = [
      ...(from !== undefined ? [`${ip} saddr @${setName(from.role, family)}`] : []),
      ...(to !== undefined ? [`${ip} daddr @${setName(to.role, family)}`] : []),
    ].join(' ');
    lines.push(`\t\t${match} ${l4} accept ${comment}`);
  }
  return lines;
}

export function renderNftables(plan: FirewallPlan): string {
  const out = ['#!/usr/sbin/nft -f', ...headerLines(plan).map((l) => `# ${l}`)];
  out.push(
    '# Load with: nft -f FILE (check first with nft -c -f FILE). The chain drops what no rule passes.',
    '',
    'table inet lync',
    'delete table inet lync',
    'table inet lync {',
    ...declareSets(plan),
    '',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy drop;',
    '\t\tct state established,related accept',
    '\t\tct state invalid drop',
  );
  let skipped = 0;
  for (const rule of plan.rules) {
    const lines = ruleLines(plan, rule);
    out.push(`\t\t# ${ruleSummary(rule)}`);
    if (lines.length === 0) {
      skipped++;
      out.push('\t\t# (no rule: the two sides have no address family in common)');
    }
    out.push(...lines);
  }
  out.push('\t}', '}');
  if (skipped > 0)
    out.push(`# ${skipped} rule(s) left out: their two sides have no address family in common.`);
  return out.join('\n') + '\n';
}
