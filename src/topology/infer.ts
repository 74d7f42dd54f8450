/**
 * Inferring roles from the traffic when the user gives no topology: a host that answers (or is
 * asked) on ports only one role listens on is that role (5067/5068/5070: Mediation; 444, 5062-5065,
 * 8057: Front End; UDP 3478: an A/V Edge); a host that talks to those servers on their ports is a
 * client. Every inferred role carries its evidence in words, and reports show it.
 * Streaming: evidence is accumulated per host (bounded by MAX_HOSTS), then resolved once.
 */
import type { FlowRecord } from '../flow/record.js';
import { isPrivateAddress, parsePrefix } from './address.js';
import type { RoleEvidence, Topology } from './topology.js';

/**
 * Addresses in numeric order (10.1.1.9 before 10.1.1.10). One collator for the whole sort:
 * localeCompare with options builds one per call (126 ms for 1,700 inferred hosts).
 */
const NUMERIC_ORDER = new Intl.Collator('en', { numeric: true });

const MAX_HOSTS = 100_000;
/** Ports too common to say anything about a Lync role on their own. */
const GENERIC_PORTS = new Set([53, 67, 68, 80, 135, 443, 445, 8080]);
const CLIENT_ROLES = new Set(['client', 'phone']);

export interface ListenPort {
  port: number;
  transport: 'tcp' | 'udp';
}

interface PortEvidence {
  answered: number;
  attempted: number;
}

interface HostEvidence {
  /** "tcp/5061" → counts of flows where this host was the responder. */
  listens: Map<string, PortEvidence>;
  /** Servers this host contacted: "tcp/5061@10.0.0.10" → flows. */
  contacts: Map<string, number>;
  dhcpVendorClass?: string;
}

export class RoleInference {
  private readonly hosts = new Map<string, HostEvidence>();

  private host(address: string): HostEvidence | undefined {
    let h = this.hosts.get(address);
    if (!h) {
      if (this.hosts.size >= MAX_HOSTS) return undefined;
      h = { listens: new Map(), contacts: new Map() };
      this.hosts.set(address, h);
    }
    return h;
  }

  add(rec: FlowRecord): void {
    if (rec.proto !== 'tcp' && rec.proto !== 'udp') return;
    const key = `${rec.proto}/${rec.resp_p}`;
    const resp = this.host(rec.resp_h);
    if (resp) {
      const e = resp.listens.get(key) ?? { answered: 0, attempted: 0 };
      const answered = rec.resp_pkts > 0 && rec.conn_state !== 'REJ';
      if (answered) e.answered++;
      else e.attempted++;
      resp.listens.set(key, e);
    }
    const orig = this.host(rec.orig_h);
    if (orig) {
      const c = `${key}@${rec.resp_h}`;
      if (orig.contacts.size < 1000 || orig.contacts.has(c))
        orig.contacts.set(c, (orig.contacts.get(c) ?? 0) + 1);
      const vendor = rec.app === 'dhcp' ? (rec.app_detail?.vendor_class as string | undefined) : undefined;
      if (vendor !== undefined) orig.dhcpVendorClass = vendor;
    }
  }

  /**
   * Resolves the evidence into a topology. `listenPorts` maps each server role to the fixed ports
   * its catalog rows say it listens on.
   */
  infer(listenPorts: ReadonlyMap<string, readonly ListenPort[]>): Topology {
    // Which roles listen on each distinctive port.
    const rolesByPort = new Map<string, string[]>();
    for (const [role, ports] of listenPorts) {
      if (CLIENT_ROLES.has(role)) continue;
      for (const p of ports) {
        if (GENERIC_PORTS.has(p.port)) continue;
        const key = `${p.transport}/${p.port}`;
        const list = rolesByPort.get(key) ?? [];
        if (!list.includes(role)) list.push(role);
        rolesByPort.set(key, list);
      }
    }
    const evidence: RoleEvidence[] = [];
    const serverRoles = new Map<string, string[]>();
    for (const [address, h] of this.hosts) {
      const score = new Map<string, { points: number; ports: string[] }>();
      for (const [key, e] of h.listens) {
        const roles = rolesByPort.get(key);
        if (!roles) continue;
        const text = `${key.replace('/', ' ').toUpperCase()} (${e.answered > 0 ? `answered ${e.answered}` : `asked ${e.attempted}, never answered`})`;
        for (const role of roles) {
          const s = score.get(role) ?? { points: 0, ports: [] };
          s.points += 1 / roles.length;
          s.ports.push(text);
          score.set(role, s);
        }
      }
      if (score.size === 0) continue;
      const best = Math.max(...[...score.values()].map((s) => s.points));
      let chosen = [...score.entries()].filter(([, s]) => s.points >= 1 || s.points === best);
      // Edge interfaces share their ports; the address tells the outside from the inside.
      const edges = chosen.filter(([r]) => r === 'edge-internal' || r === 'edge-external');
      if (edges.length === 2) {
        const drop = isPrivateAddress(address) ? 'edge-external' : 'edge-internal';
        chosen = chosen.filter(([r]) => r !== drop);
      }
      // 5061 alone is any SIP server: call it a Front End (the registrar clients meet first).
      if (chosen.length > 1 && chosen.every(([, s]) => s.points < 1)) {
        const order = ['front-end', 'director', 'mediation', 'edge-internal', 'edge-external'];
        chosen.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
        chosen = chosen.slice(0, 1);
      }
      const roles = chosen.map(([r]) => r);
      serverRoles.set(address, roles);
      for (const [role, s] of chosen)
        evidence.push({
          role,
          address,
          evidence: `${s.ports.slice(0, 4).join(', ')}${s.ports.length > 4 ? ', ...' : ''}`,
        });
    }
    // Clients and PSTN gateways: who talks to the servers found above, on their ports.
    for (const [address, h] of this.hosts) {
      if (serverRoles.has(address)) continue;
      let toServers = 0;
      let toMediation = 0;
      const examples: string[] = [];
      for (const [c, n] of h.contacts) {
        const [key, server] = c.split('@');
        const roles = serverRoles.get(server);
        if (!roles) continue;
        const port = Number(key.split('/')[1]);
        if (roles.includes('mediation') && (port === 5067 || port === 5068)) toMediation += n;
        else toServers += n;
        if (examples.length < 3) examples.push(`${key.replace('/', ' ').toUpperCase()} to ${server}`);
      }
      if (toMediation > 0 && toServers === 0) {
        evidence.push({
          role: 'pstn-gateway',
          address,
          evidence: `sends SIP to the Mediation Server: ${examples.join(', ')}`,
        });
        serverRoles.set(address, ['pstn-gateway']);
      } else if (h.dhcpVendorClass === 'CPE-OCPHONE') {
        evidence.push({ role: 'phone', address, evidence: 'DHCP vendor class CPE-OCPHONE' });
        serverRoles.set(address, ['phone']);
      } else if (toServers > 0 || h.dhcpVendorClass === 'MS-UC-Client') {
        const why =
          toServers > 0 ? `connects to servers: ${examples.join(', ')}` : 'DHCP vendor class MS-UC-Client';
        evidence.push({ role: 'client', address, evidence: why });
        serverRoles.set(address, ['client']);
      }
    }
    evidence.sort((a, b) => a.role.localeCompare(b.role) || NUMERIC_ORDER.compare(a.address, b.address));
    return {
      source: 'inferred',
      entries: evidence.map((e) => ({ role: e.role, prefix: parsePrefix(e.address) })),
      inferred: evidence,
    };
  }
}
