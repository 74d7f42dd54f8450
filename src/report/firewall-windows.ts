/**
 * Windows Firewall rules as PowerShell (New-NetFirewallRule, NetSecurity module), which is what
 * Lync and Skype for Business servers run: one rule per catalog row (two for a TCP+UDP row), on
 * the hosts of the row's role. An inbound row opens -LocalPort to the peers' -RemoteAddress; an
 * outbound row allows -RemotePort on the peers. Addresses are PowerShell variables at the top,
 * filled from the topology or the catalog, or left for the administrator.
 */
import { ANY_PEER, formatRange } from '../catalog/index.js';
import { headerLines, identifier, ruleComment, type FirewallPlan, type FirewallRule } from './firewall.js';

function variable(role: string): string {
  return `$lync_${identifier(role)}`;
}

/** A PowerShell single-quoted string (quotes doubled). */
function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function declareVariables(plan: FirewallPlan): string[] {
  const out: string[] = [];
  for (const set of plan.sets.values()) {
    const all = [...set.v4, ...set.v6];
    const why =
      set.origin === 'topology'
        ? 'from the topology'
        : set.origin === 'catalog'
          ? 'published addresses in the catalog'
          : 'fill in: addresses and CIDR blocks of this role';
    out.push(`${variable(set.role)} = @(${all.map(quote).join(', ')})  # role ${set.role}: ${why}`);
  }
  return out;
}

export function renderWindowsFirewall(plan: FirewallPlan): string {
  const out = headerLines(plan).map((l) => `# ${l}`);
  out.push(
    '# Windows Firewall is a host firewall: run each rule on the hosts of the role its comment names.',
    '# Needs the NetSecurity module (Windows Server 2012 and later) and an elevated PowerShell.',
    '',
    ...declareVariables(plan),
    '',
  );
  // One rule per row: the hosts it applies to and every remote side, gathered from the plan.
  const byRow = new Map<string, FirewallRule[]>();
  for (const rule of plan.rules) byRow.set(rule.row.id, [...(byRow.get(rule.row.id) ?? []), rule]);
  const group = quote(`lync-port-audit ${plan.catalog.product}`);
  for (const rules of byRow.values()) {
    const row = rules[0].row;
    const hosts = [...new Set(rules.map((r) => r.host))];
    const remotes = [...new Set(rules.map((r) => r.remote))];
    const remote = remotes.includes(ANY_PEER)
      ? 'Any'
      : remotes.length === 1
        ? variable(remotes[0])
        : `(${remotes.map(variable).join(' + ')})`;
    const inbound = row.direction === 'inbound';
    const ports = row.portRanges.map((p) => quote(formatRange(p))).join(',');
    out.push(
      `# ${row.id} on ${hosts.join(', ')} hosts: ${inbound ? 'inbound from' : 'outbound to'} ${remotes.join(', ')}, ${row.protocol}${row.optional === true ? ' (optional)' : ''}`,
    );
    const protocols = row.transport === 'both' ? ['TCP', 'UDP'] : [row.transport.toUpperCase()];
    for (const protocol of protocols) {
      const name = `lync-port-audit ${ruleComment(row)}${protocols.length > 1 ? ` (${protocol})` : ''}`;
      out.push(
        [
          'New-NetFirewallRule',
          `-DisplayName ${quote(name)}`,
          `-Group ${group}`,
          `-Direction ${inbound ? 'Inbound' : 'Outbound'}`,
          `-Protocol ${protocol}`,
          `${inbound ? '-LocalPort' : '-RemotePort'} ${ports}`,
          `-RemoteAddress ${remote}`,
          '-Action Allow',
        ].join(' '),
      );
    }
  }
  return out.join('\n') + '\n';
}
