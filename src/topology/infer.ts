/**
 * Inferring roles from the traffic when the user gives no topology: a host that answers on ports
 * only one role listens on is that role (5067/5068/5070: Mediation; 444, 5062-5065, 8057: Front
 * End; UDP 3478: an A/V Edge). Only answered traffic counts: an unanswered SYN (a port scan, a
 * blocked port) proves nothing about what listens there. Addresses in Microsoft 365's published
 * Teams / Skype for Business Online ranges are the `microsoft-365` role (cloud.ts), whatever they
 * answer. A host that talks to those servers, or to Microsoft 365, is a client; a host whose DHCP
 * requests carry the vendor class MS-UC-Client is a client, CPE-OCPHONE a phone (Lync Phone
 * Edition); a host that only sends SIP to a Mediation Server's gateway ports is a PSTN gateway.
 * Every inferred role carries its evidence in words, and reports show it.
 * Streaming: evidence is accumulated in flat, bounded maps (only the distinctive ports a role
 * listens on, contacts per host capped), then grouped per host and resolved once.
 */
import type { FlowRecord } from '../flow/record.js';
import { isPrivateAddress, parsePrefix } from './address.js';
import { CLOUD_ROLE, cloudRange } from './cloud.js';
import type { RoleEvidence, Topology } from './topology.js';

/**
 * Addresses in numeric order (10.1.1.9 before 10.1.1.10). One collator for the whole sort:
 * localeCompare with options builds one per call (126 ms for 1,700 inferred hosts).
 */
const NUMERIC_ORDER = new Intl.Collator('en', { numeric: true });

/**
 * Bounds of the evidence (a scan of a /8 must not grow it without limit). The evidence is kept in
 * flat maps keyed by strings (JS Maps: no attacker-chosen probe chains), about 100 bytes an entry:
 * 100,000 hosts each with two Maps cost 54 MB on the 1M-SYN scan (docs/decisions.md, "analyze memory").
 */
const MAX_LISTENS = 50_000;
const MAX_CONTACTS = 100_000;
const MAX_HOSTS = 100_000;
/** Servers one host's contacts remember (a client uses a handful). */
const MAX_CONTACTS_PER_HOST = 1000;
const MAX_DHCP_XIDS = 10_000;
/** Ports too common to say anything about a Lync role on their own. */
const GENERIC_PORTS = new Set([53, 67, 68, 80, 135, 443, 445, 8080]);
const CLIENT_ROLES = new Set(['client', 'phone']);
/** DHCP option 60 vendor classes of Lync endpoints ([MS-DHCPN] / the Lync 2010 DHCP notes). */
const MS_UC_CLIENT = 'MS-UC-Client';
const CPE_OCPHONE = 'CPE-OCPHONE';

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
  listens: [string, PortEvidence][];
  /** Servers this host contacted: "tcp/5061@10.0.0.10" → flows. */
  contacts: [string, number][];
  /** The Lync vendor class (option 60) of this host's DHCP requests. */
  dhcpVendorClass?: string;
}

/** How much evidence was not kept because a bound was reached (a note says so). */
export interface InferenceCaps {
  listens: number;
  contacts: number;
  hosts: number;
}

interface DhcpMessageLike {
  op?: string;
  xid?: string;
  ciaddr?: string;
  yiaddr?: string;
  vendor_class?: string;
}

export class RoleInference {
  /**
   * "10.0.0.10 tcp/5061" → counts of flows where that host was the responder on that port. Only
   * the distinctive ports that `infer` scores are kept (when the constructor is given them).
   */
  private readonly listens = new Map<string, PortEvidence>();
  /** "10.0.0.5 tcp/5061@10.0.0.10": flows from a host to a server's port. */
  private readonly contacts = new Map<string, number>();
  /** Distinct contacts per originating host (bounded by MAX_HOSTS hosts). */
  private readonly contactsPerHost = new Map<string, number>();
  /** The Lync vendor class (option 60) of each host's DHCP requests. */
  private readonly vendors = new Map<string, string>();
  /** DHCP requests from 0.0.0.0 with a Lync vendor class, by transaction id, until a reply offers the address. */
  private readonly pendingVendors = new Map<string, string>();
  /** DHCP replies' offered addresses (yiaddr), by transaction id. */
  private readonly offers = new Map<string, string>();
  private readonly distinctive: ReadonlySet<number> | undefined;
  readonly dropped: InferenceCaps = { listens: 0, contacts: 0, hosts: 0 };

  /** `listenPorts`: the ports `infer` will be given, so that evidence on other ports is not kept. */
  constructor(listenPorts?: ReadonlyMap<string, readonly ListenPort[]>) {
    if (listenPorts !== undefined)
      this.distinctive = new Set(
        [...rolesByPort(listenPorts).keys()].map((k) => {
          const [transport, port] = k.split('/');
          return portKey(transport === 'udp' ? 'udp' : 'tcp', Number(port));
        }),
      );
  }

  add(rec: FlowRecord): void {
    if (rec.proto !== 'tcp' && rec.proto !== 'udp') return;
    // Strings are built only for evidence that is kept: on a scan from a million sources, most
    // flows come from hosts beyond MAX_HOSTS on ports no role is inferred from, and building
    // their keys was 2.1 s of 8.9 s (docs/decisions.md, "analyze CPU per flow").
    let key: string | undefined;
    if (this.distinctive === undefined || this.distinctive.has(portKey(rec.proto, rec.resp_p))) {
      key = `${rec.proto}/${rec.resp_p}`;
      const lk = `${rec.resp_h} ${key}`;
      let e = this.listens.get(lk);
      if (e === undefined && this.listens.size < MAX_LISTENS) {
        e = { answered: 0, attempted: 0 };
        this.listens.set(lk, e);
      }
      // Answered by the responder itself: packets back that are not only a reset to the SYN.
      const answered = rec.resp_pkts > 0 && rec.conn_state !== 'REJ' && rec.conn_state !== 'RSTRH';
      if (e === undefined) this.dropped.listens++;
      else if (answered) e.answered++;
      else e.attempted++;
    }
    // A host's contacts are kept with its count in contactsPerHost, so a host not counted there
    // has none: beyond MAX_HOSTS hosts, its flow is dropped without looking its contact up.
    const per = this.contactsPerHost.get(rec.orig_h);
    if (per === undefined && this.contactsPerHost.size >= MAX_HOSTS) this.dropped.hosts++;
    else {
      const c = `${rec.orig_h} ${key ?? `${rec.proto}/${rec.resp_p}`}@${rec.resp_h}`;
      const n = this.contacts.get(c);
      if (n !== undefined) this.contacts.set(c, n + 1);
      else if (this.contacts.size >= MAX_CONTACTS) this.dropped.contacts++;
      else if ((per ?? 0) < MAX_CONTACTS_PER_HOST) {
        this.contacts.set(c, 1);
        this.contactsPerHost.set(rec.orig_h, (per ?? 0) + 1);
      }
    }
    if (rec.app === 'dhcp') this.addDhcp(rec);
  }

  /** True when some evidence was not kept (a bound was reached). */
  capped(): boolean {
    return this.dropped.listens + this.dropped.contacts + this.dropped.hosts > 0;
  }

  /**
   * The vendor class of each DHCP request, given to the address it is about: the client's own
   * address (ciaddr, as a DHCPINFORM carries it), the request's source when it has one, or the
   * address a server's reply with the same transaction id offers (yiaddr: a DHCPDISCOVER comes
   * from 0.0.0.0, and its OFFER is a flow of its own), RFC 2131 sections 4.1 and 4.3.
   */
  private addDhcp(rec: FlowRecord): void {
    const messages = rec.app_detail?.messages;
    if (!Array.isArray(messages)) return;
    for (const m of messages as DhcpMessageLike[]) {
      if (m.xid === undefined) continue;
      if (m.op === 'reply' && m.yiaddr !== undefined) {
        if (this.offers.size < MAX_DHCP_XIDS) this.offers.set(m.xid, m.yiaddr);
        continue;
      }
      if (m.op !== 'request' || (m.vendor_class !== MS_UC_CLIENT && m.vendor_class !== CPE_OCPHONE)) continue;
      const address = m.ciaddr ?? (rec.orig_h !== '0.0.0.0' && rec.orig_p === 68 ? rec.orig_h : undefined);
      if (address !== undefined) this.setVendor(address, m.vendor_class);
      else if (this.pendingVendors.size < MAX_DHCP_XIDS) this.pendingVendors.set(m.xid, m.vendor_class);
    }
  }

  private setVendor(address: string, vendor: string): void {
    const had = this.vendors.get(address);
    if (had === undefined && this.vendors.size >= MAX_DHCP_XIDS) return;
    // A phone's class is the more specific: it wins over MS-UC-Client seen for the same address.
    if (had !== CPE_OCPHONE) this.vendors.set(address, vendor);
  }

  /**
   * Resolves the evidence into a topology. `listenPorts` maps each server role to the fixed ports
   * its catalog rows say it listens on.
   */
  infer(listenPorts: ReadonlyMap<string, readonly ListenPort[]>): Topology {
    for (const [xid, vendor] of this.pendingVendors) {
      const offered = this.offers.get(xid);
      if (offered !== undefined) this.setVendor(offered, vendor);
    }
    const byPort = rolesByPort(listenPorts);
    // The evidence grouped per host (temporary: the flat maps are what the read keeps).
    const hosts = new Map<string, HostEvidence>();
    const host = (address: string): HostEvidence => {
      let h = hosts.get(address);
      if (h === undefined) {
        h = { listens: [], contacts: [] };
        hosts.set(address, h);
      }
      return h;
    };
    for (const [k, e] of this.listens) {
      const sp = k.indexOf(' ');
      host(k.slice(0, sp)).listens.push([k.slice(sp + 1), e]);
    }
    for (const [k, n] of this.contacts) {
      const sp = k.indexOf(' ');
      const c = k.slice(sp + 1);
      host(k.slice(0, sp)).contacts.push([c, n]);
      host(c.slice(c.indexOf('@') + 1));
    }
    for (const [address, vendor] of this.vendors) host(address).dhcpVendorClass = vendor;
    const evidence: RoleEvidence[] = [];
    const serverRoles = new Map<string, string[]>();
    // Microsoft 365 first: a Teams relay answers UDP 3478 as an A/V Edge does, but it is not one.
    for (const address of hosts.keys()) {
      const range = cloudRange(address);
      if (range === undefined) continue;
      evidence.push({ role: CLOUD_ROLE, address, evidence: `in ${range.prefix.text}, ${range.source}` });
      serverRoles.set(address, [CLOUD_ROLE]);
    }
    for (const [address, h] of hosts) {
      if (serverRoles.has(address)) continue;
      const score = new Map<string, { points: number; ports: string[] }>();
      for (const [key, e] of h.listens) {
        const roles = byPort.get(key);
        // Only answered traffic says what listens: an unanswered SYN proves nothing.
        if (!roles || e.answered === 0) continue;
        const text = `${key.replace('/', ' ').toUpperCase()} (answered ${e.answered}${e.attempted > 0 ? `, unanswered ${e.attempted}` : ''})`;
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
    // Clients, phones and PSTN gateways: who talks to the servers and the cloud found above (not
    // to other clients: that would make everyone a client of everyone), and the DHCP evidence.
    for (const [address, h] of hosts) {
      if (serverRoles.has(address)) continue;
      let toServers = 0;
      let toMediation = 0;
      let toCloud = 0;
      const examples: string[] = [];
      for (const [c, n] of h.contacts) {
        const [key, server] = c.split('@');
        const roles = serverRoles.get(server);
        if (!roles) continue;
        const port = Number(key.split('/')[1]);
        if (roles.includes('mediation') && (port === 5067 || port === 5068)) toMediation += n;
        else if (roles.includes(CLOUD_ROLE)) toCloud += n;
        else toServers += n;
        if (examples.length < 3) examples.push(`${key.replace('/', ' ').toUpperCase()} to ${server}`);
      }
      const vendor = h.dhcpVendorClass;
      let role: string | undefined;
      let why = '';
      if (vendor === CPE_OCPHONE) {
        role = 'phone';
        why = `DHCP vendor class ${CPE_OCPHONE} (Lync Phone Edition)`;
      } else if (toMediation > 0 && toServers === 0 && toCloud === 0 && vendor === undefined) {
        role = 'pstn-gateway';
        why = `sends SIP to the Mediation Server: ${examples.join(', ')}`;
      } else if (vendor === MS_UC_CLIENT || toServers > 0 || toMediation > 0 || toCloud > 0) {
        role = 'client';
        const reasons: string[] = [];
        if (vendor === MS_UC_CLIENT) reasons.push(`DHCP vendor class ${MS_UC_CLIENT}`);
        if (toServers + toMediation > 0 || toCloud > 0)
          reasons.push(
            `${toCloud > 0 && toServers + toMediation === 0 ? 'talks to Microsoft 365' : 'connects to servers'}: ${examples.join(', ')}`,
          );
        why = reasons.join('; ');
      }
      if (role === undefined) continue;
      evidence.push({ role, address, evidence: why });
    }
    evidence.sort((a, b) => a.role.localeCompare(b.role) || NUMERIC_ORDER.compare(a.address, b.address));
    return {
      source: 'inferred',
      entries: evidence.map((e) => ({ role: e.role, prefix: parsePrefix(e.address) })),
      inferred: evidence,
    };
  }
}

/** A transport and port as one number (the distinctive-port test, without a string per flow). */
function portKey(transport: 'tcp' | 'udp', port: number): number {
  return transport === 'udp' ? port + 0x10000 : port;
}

/** Which server roles listen on each distinctive port ("tcp/5061" → roles). */
function rolesByPort(listenPorts: ReadonlyMap<string, readonly ListenPort[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [role, ports] of listenPorts) {
    if (CLIENT_ROLES.has(role)) continue;
    for (const p of ports) {
      if (GENERIC_PORTS.has(p.port)) continue;
      const key = `${p.transport}/${p.port}`;
      const list = out.get(key) ?? [];
      if (!list.includes(role)) list.push(role);
      out.set(key, list);
    }
  }
  return out;
}
