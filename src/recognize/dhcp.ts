/**
 * DHCP (RFC 2131 section 2, the BOOTP-layout message; RFC 2132, the options) over UDP 67/68, with
 * what Lync clients and phones ask for:
 * - a DHCPINFORM carrying option 60 (vendor class identifier) `MS-UC-Client` (case-sensitive) and
 *   option 55 (parameter request list) asking for 43 and 120;
 * - the answer's option 43 (vendor-specific information, RFC 2132 section 8.4, encapsulated
 *   sub-options) with sub-options 1-5: UC identifier, URL scheme, web server FQDN, port,
 *   certificate provisioning path (../shared/research/microsoft-ports.md section 3);
 * - option 120 (RFC 3361 section 3): SIP servers as domain names (encoding 0, RFC 1035 section 3.1
 *   names) or IPv4 addresses (encoding 1);
 * - the phones' vendor class `CPE-OCPHONE`.
 * Long options split into several instances are concatenated (RFC 3396), and options overloaded
 * into the sname/file fields (option 52, RFC 2132 section 9.3) are read too.
 *
 * A Lync DHCPINFORM that gets no DHCPACK is a finding. The answer usually travels in a flow of
 * its own (the INFORM is broadcast to 255.255.255.255:67, the ACK comes from the server's address),
 * so answers are remembered by transaction id (bounded, see ANSWERS) and looked up when the INFORM's
 * flow ends, which is after the answer arrived in any capture where it arrived at all.
 */
import type { AppResult, FlowEnd, Finding, PacketContext, Payload, Recognizer } from './types.js';

const MAGIC_COOKIE = 0x63825363;
/** op(1) htype(1) hlen(1) hops(1) xid(4) secs(2) flags(2) ciaddr yiaddr siaddr giaddr chaddr(16) sname(64) file(128). */
const FIXED = 236;
const OPTIONS_AT = 240;
/** Messages parsed per flow, and kept in the detail. */
const MAX_MESSAGES = 32;
const MAX_LISTED = 8;

const MESSAGE_TYPES: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
  9: 'FORCERENEW',
  10: 'LEASEQUERY',
  11: 'LEASEUNASSIGNED',
  12: 'LEASEUNKNOWN',
  13: 'LEASEACTIVE',
};

export const MS_UC_CLIENT = 'MS-UC-Client';
export const CPE_OCPHONE = 'CPE-OCPHONE';

/** Option 43 sub-options of the MS-UC-Client vendor class. */
const MS_UC_SUBOPTIONS: Record<number, string> = {
  1: 'uc_identifier',
  2: 'url_scheme',
  3: 'web_server_fqdn',
  4: 'web_server_port',
  5: 'cert_prov_path',
};

function isDhcpPort(port: number): boolean {
  return port === 67 || port === 68;
}

/** 0.95 with the magic cookie; BOOTP or a snaplen-cut message on ports 67/68 scores less. Allocation-free. */
export function dhcpScore(p: Payload, ctx: PacketContext): number {
  const b = p.buf;
  const o = p.offset;
  const n = p.length;
  if (n < 28) return 0;
  const op = b[o];
  if ((op !== 1 && op !== 2) || b[o + 2] > 16 || b[o + 1] === 0) return 0;
  if (n >= OPTIONS_AT && b.readUInt32BE(o + FIXED) === MAGIC_COOKIE) return 0.95;
  if (!isDhcpPort(ctx.origPort) || !isDhcpPort(ctx.respPort)) return 0;
  return n >= FIXED ? 0.6 : 0.55;
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function hexBytes(b: Buffer, start: number, end: number): string {
  return b.toString('hex', start, end);
}

function mac(b: Buffer, at: number, length: number): string {
  const parts: string[] = [];
  for (let k = 0; k < length; k++) parts.push(b[at + k].toString(16).padStart(2, '0'));
  return parts.join(':');
}

function printable(b: Buffer): boolean {
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

/**
 * Collects the options of one area (RFC 2132 section 2: code, length, value; 0 pad; 255 end).
 * Repeated codes are concatenated (RFC 3396). Returns false when an option runs past the end.
 */
function collectOptions(b: Buffer, start: number, end: number, into: Map<number, Buffer[]>): boolean {
  let i = start;
  while (i < end) {
    const code = b[i];
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) return true;
    if (i + 1 >= end) return false;
    const length = b[i + 1];
    if (i + 2 + length > end) return false;
    const list = into.get(code);
    const value = b.subarray(i + 2, i + 2 + length);
    if (list === undefined) into.set(code, [value]);
    else list.push(value);
    i += 2 + length;
  }
  return true;
}

/** RFC 1035 section 3.1 names, with section 4.1.4 pointers into the same option (bounded). */
export function domainNames(v: Buffer, start = 0): string[] {
  const names: string[] = [];
  let i = start;
  while (i < v.length && names.length < 16) {
    const labels: string[] = [];
    let at = i;
    let jumps = 0;
    let next = -1;
    for (;;) {
      if (at >= v.length) return names;
      const len = v[at];
      if (len === 0) {
        if (next < 0) next = at + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (at + 1 >= v.length || ++jumps > 8) return names;
        if (next < 0) next = at + 2;
        at = ((len & 0x3f) << 8) | v[at + 1];
        continue;
      }
      if (at + 1 + len > v.length) return names;
      labels.push(v.toString('latin1', at + 1, at + 1 + len));
      at += 1 + len;
    }
    names.push(labels.join('.'));
    i = next;
  }
  return names;
}

export interface SipServers {
  encoding: 'domain' | 'ipv4' | number;
  servers: string[];
}

/** RFC 3361 section 3: the first byte is the encoding, the rest the servers. */
export function sipServers(v: Buffer): SipServers | undefined {
  if (v.length < 1) return undefined;
  const enc = v[0];
  if (enc === 0) return { encoding: 'domain', servers: domainNames(v, 1) };
  if (enc === 1) {
    const servers: string[] = [];
    for (let k = 1; k + 4 <= v.length && servers.length < 16; k += 4) servers.push(ipv4(v, k));
    return { encoding: 'ipv4', servers };
  }
  return { encoding: enc, servers: [] };
}

/** Option 43 as encapsulated sub-options (RFC 2132 section 8.4: code, length, value). */
export function msUcSubOptions(v: Buffer): Record<string, string | number> | undefined {
  const out: Record<string, string | number> = {};
  let i = 0;
  while (i + 2 <= v.length) {
    const code = v[i];
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    const length = v[i + 1];
    if (i + 2 + length > v.length) return undefined;
    const value = v.subarray(i + 2, i + 2 + length);
    const name = MS_UC_SUBOPTIONS[code] ?? `suboption_${code}`;
    out[name] = printable(value)
      ? value.toString('latin1')
      : length === 2
        ? value.readUInt16BE(0)
        : value.toString('hex');
    i += 2 + length;
  }
  return out;
}

export interface DhcpMessage {
  op: 'request' | 'reply';
  type?: string;
  xid: string;
  client_mac?: string;
  ciaddr?: string;
  yiaddr?: string;
  giaddr?: string;
  vendor_class?: string;
  requested_options?: number[];
  ms_uc?: Record<string, string | number>;
  option_43_length?: number;
  sip_servers?: SipServers;
  server_id?: string;
  host_name?: string;
  truncated?: boolean;
  bootp?: boolean;
}

function concat(list: Buffer[] | undefined): Buffer | undefined {
  if (list === undefined) return undefined;
  return list.length === 1 ? list[0] : Buffer.concat(list);
}

/** One DHCP/BOOTP message (RFC 2131 figure 1), as far as it was captured. */
export function parseDhcp(b: Buffer, o: number, n: number, msUcFlow: boolean): DhcpMessage | undefined {
  if (n < 28) return undefined;
  const op = b[o];
  if (op !== 1 && op !== 2) return undefined;
  const msg: DhcpMessage = { op: op === 1 ? 'request' : 'reply', xid: '0x' + hexBytes(b, o + 4, o + 8) };
  const zero = (at: number): boolean => b.readUInt32BE(at) === 0;
  if (!zero(o + 12)) msg.ciaddr = ipv4(b, o + 12);
  if (!zero(o + 16)) msg.yiaddr = ipv4(b, o + 16);
  if (!zero(o + 24)) msg.giaddr = ipv4(b, o + 24);
  // chaddr as a MAC address for Ethernet (htype 1, hlen 6).
  if (n >= 34 && b[o + 1] === 1 && b[o + 2] === 6) msg.client_mac = mac(b, o + 28, 6);
  if (n < OPTIONS_AT || b.readUInt32BE(o + FIXED) !== MAGIC_COOKIE) {
    if (n >= OPTIONS_AT) msg.bootp = true;
    else msg.truncated = true;
    return msg;
  }
  const options = new Map<number, Buffer[]>();
  if (!collectOptions(b, o + OPTIONS_AT, o + n, options)) msg.truncated = true;
  // RFC 2132 section 9.3: option 52 says the file (1), sname (2) or both (3) fields hold options too.
  const overload = options.get(52)?.[0]?.[0] ?? 0;
  if (overload & 1) collectOptions(b, o + 108, o + 236, options);
  if (overload & 2) collectOptions(b, o + 44, o + 108, options);

  const type = options.get(53)?.[0];
  if (type !== undefined && type.length >= 1) msg.type = MESSAGE_TYPES[type[0]] ?? `TYPE_${type[0]}`;
  const vendor = concat(options.get(60));
  if (vendor !== undefined) msg.vendor_class = vendor.toString('latin1');
  const prl = concat(options.get(55));
  if (prl !== undefined) msg.requested_options = [...prl];
  const v43 = concat(options.get(43));
  if (v43 !== undefined) {
    // The MS-UC-Client layout applies when this message or its flow said MS-UC-Client, or when
    // sub-option 1 itself is the UC identifier.
    const sub = msUcSubOptions(v43);
    const msUc = msg.vendor_class === MS_UC_CLIENT || msUcFlow || sub?.uc_identifier === MS_UC_CLIENT;
    if (msUc && sub !== undefined) msg.ms_uc = sub;
    else msg.option_43_length = v43.length;
  }
  const v120 = concat(options.get(120));
  if (v120 !== undefined) msg.sip_servers = sipServers(v120);
  const sid = options.get(54)?.[0];
  if (sid !== undefined && sid.length === 4) msg.server_id = ipv4(sid, 0);
  const host = concat(options.get(12));
  if (host !== undefined) msg.host_name = host.toString('latin1');
  return msg;
}

// ------------------------------------------------------------------------------- answers seen

interface Answer {
  ts: number;
  has43: boolean;
  has120: boolean;
}

/**
 * DHCPACKs seen in this process, by transaction id and client MAC, for the "INFORM without an
 * answer" finding across flows. Bounded (oldest out first); an entry counts only for an INFORM
 * sent up to ANSWER_WINDOW seconds before it, so a stale entry cannot answer a later capture.
 */
const ANSWERS = new Map<string, Answer>();
const MAX_ANSWERS = 4096;
const ANSWER_WINDOW = 60;

function answerKey(m: DhcpMessage): string {
  return `${m.xid}/${m.client_mac ?? ''}`;
}

function rememberAnswer(m: DhcpMessage, ts: number): void {
  if (ANSWERS.size >= MAX_ANSWERS) {
    const oldest = ANSWERS.keys().next();
    if (!oldest.done) ANSWERS.delete(oldest.value);
  }
  ANSWERS.set(answerKey(m), {
    ts,
    has43: m.ms_uc !== undefined || m.option_43_length !== undefined,
    has120: m.sip_servers !== undefined,
  });
}

// ------------------------------------------------------------------------------- the recognizer

interface Inform {
  msg: DhcpMessage;
  ts: number;
}

export interface DhcpState {
  messages: DhcpMessage[];
  count: number;
  types: Record<string, number>;
  vendorClasses: string[];
  msUc: boolean;
  lyncInforms: Inform[];
}

function feed(s: DhcpState, p: Payload, ctx: PacketContext): boolean {
  const m = parseDhcp(p.buf, p.offset, p.length, s.msUc);
  if (m === undefined) return s.count < MAX_MESSAGES;
  s.count++;
  const typeName = m.type ?? (m.bootp ? 'BOOTP' : m.truncated ? 'TRUNCATED' : 'NO_TYPE');
  s.types[typeName] = (s.types[typeName] ?? 0) + 1;
  if (s.messages.length < MAX_LISTED) s.messages.push(m);
  if (m.vendor_class !== undefined && !s.vendorClasses.includes(m.vendor_class) && s.vendorClasses.length < 8)
    s.vendorClasses.push(m.vendor_class);
  if (m.vendor_class === MS_UC_CLIENT) s.msUc = true;
  if (
    m.op === 'request' &&
    m.type === 'INFORM' &&
    m.vendor_class === MS_UC_CLIENT &&
    s.lyncInforms.length < 8
  )
    s.lyncInforms.push({ msg: m, ts: ctx.ts });
  if (m.op === 'reply' && m.type === 'ACK') rememberAnswer(m, ctx.ts);
  return s.count < MAX_MESSAGES;
}

function findings(s: DhcpState): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const inf of s.lyncInforms) {
    const key = answerKey(inf.msg);
    if (seen.has(key)) continue;
    seen.add(key);
    const answer = ANSWERS.get(key);
    const answered = answer !== undefined && answer.ts >= inf.ts && answer.ts - inf.ts <= ANSWER_WINDOW;
    const detail: Record<string, unknown> = { xid: inf.msg.xid };
    if (inf.msg.client_mac !== undefined) detail.client_mac = inf.msg.client_mac;
    if (inf.msg.ciaddr !== undefined) detail.ciaddr = inf.msg.ciaddr;
    if (inf.msg.requested_options !== undefined) detail.requested_options = inf.msg.requested_options;
    if (!answered) {
      out.push({
        kind: 'dhcp-inform-unanswered',
        severity: 'warning',
        message: `Lync DHCPINFORM (vendor class MS-UC-Client, xid ${inf.msg.xid}) got no DHCPACK: no DHCP server answered with the Lync options 43 and 120`,
        ts: inf.ts,
        detail,
      });
    } else if (!answer.has120 || !answer.has43) {
      const missing = [answer.has43 ? undefined : 43, answer.has120 ? undefined : 120].filter(
        (x) => x !== undefined,
      );
      out.push({
        kind: 'dhcp-lync-options-missing',
        severity: 'warning',
        message: `The DHCPACK to a Lync DHCPINFORM (xid ${inf.msg.xid}) lacks option ${missing.join(' and ')}: the client cannot find its Registrar or certificate service this way`,
        ts: answer.ts,
        detail: { ...detail, missing },
      });
    }
  }
  return out;
}

function finish(s: DhcpState, end: FlowEnd): AppResult {
  void end;
  if (s.count === 0) return { app: 'unknown', confidence: 0, detail: {}, findings: [] };
  const detail: Record<string, unknown> = {
    message_types: s.types,
    messages: s.messages,
  };
  if (s.count > s.messages.length) detail.message_count = s.count;
  if (s.vendorClasses.length > 0) detail.vendor_classes = s.vendorClasses;
  const lync = s.vendorClasses.filter((v) => v === MS_UC_CLIENT || v === CPE_OCPHONE);
  if (lync.length > 0) detail.lync = lync;
  const withCookie = s.messages.some((m) => m.type !== undefined);
  return { app: 'dhcp', confidence: withCookie ? 0.95 : 0.6, detail, findings: findings(s) };
}

export const dhcp: Recognizer<DhcpState> = {
  app: 'dhcp',
  transports: ['udp'],
  detect: dhcpScore,
  start: (): DhcpState => ({
    messages: [],
    count: 0,
    types: {},
    vendorClasses: [],
    msUc: false,
    lyncInforms: [],
  }),
  feed,
  finish,
};
