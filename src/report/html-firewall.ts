/**
 * The rules a problem card proposes, from the catalog command's own rule generator
 * (firewall.ts and one renderer per format): the card's catalog rows, between the failing peers'
 * role and the card's role, with the topology's addresses. The HTML page shows them as they are.
 */
import type { Catalog } from '../catalog/index.js';
import type { Topology } from '../topology/topology.js';
import type { CatalogQuery } from './catalog.js';
import { planFirewall } from './firewall.js';
import { renderIptables } from './firewall-iptables.js';
import { renderNftables } from './firewall-nftables.js';
import { renderWindowsFirewall } from './firewall-windows.js';
import type { FirewallRules } from './html-model.js';

export function catalogFirewallRules(catalog: Catalog, topology?: Topology): FirewallRules {
  return (q) => {
    if (q.rowId === undefined) return [];
    const ids = new Set(q.rowId.split(' | '));
    const rows = catalog.rows.filter((r) => ids.has(r.id));
    if (rows.length === 0) return [];
    const peer = q.peerRoles.length === 1 ? q.peerRoles[0] : undefined;
    const query: CatalogQuery =
      peer === undefined
        ? { role: q.role }
        : q.direction === 'inbound'
          ? { from: peer, to: q.role }
          : { from: q.role, to: peer };
    const plan = planFirewall({
      catalog,
      query,
      rows,
      topology,
      command:
        'from' in query
          ? `lync-port-audit catalog --from ${query.from} --to ${query.to}`
          : `lync-port-audit catalog --role ${q.role}`,
    });
    if (plan.rules.length === 0) return [];
    return [
      { format: 'nftables', text: renderNftables(plan) },
      { format: 'iptables', text: renderIptables(plan, 4) },
      { format: 'windows-firewall', text: renderWindowsFirewall(plan) },
    ];
  };
}
