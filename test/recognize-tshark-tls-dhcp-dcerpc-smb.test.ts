/**
 * TLS, PSOM, MS-TURN over TCP, DHCP, DCE/RPC and SMB against tshark's dissectors on every real
 * capture in ../shared/captures.
 *
 * tshark 4.0's view of a flow: the protocols in `frame.protocols` of its frames (the first IP
 * header and transport ports of each frame give the 5-tuple). tshark names `tls` (TLS on a known
 * port or found by its heuristic), `dhcp` (also for BOOTP messages), `dcerpc`, and `smb` / `smb2` /
 * `nbss` for SMB; SMB wins over DCE/RPC carried in SMB named pipes, as in our labels. Our label must
 * agree for every such flow (psom counts as tls on 8057/8058, ms-turn-tcp as tls since tshark
 * cannot tell the pseudo-TLS from TLS); the agreement rate over all captures is printed and must be
 * at least 95%, and every disagreement is listed in EXPLAINED with its reason.
 *
 * Where both agree, the fields are compared one by one: SNI, ClientHello version, ALPN list, the
 * ServerHello's version (supported_versions, else legacy) and cipher suite; DHCP message types,
 * transaction ids, vendor class, parameter request list and option 120 addresses; the ports handed
 * out in EPM towers and DCOM string bindings; SMB dialects and failed statuses.
 */
import { describe, expect, it } from 'vitest';
import { basename } from 'node:path';
import { recognizeFiles } from './helpers/app.js';
import { sharedCaptures, skipReason } from './helpers/shared.js';
import { tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import { cipherName, versionName } from '../src/recognize/tls.js';
import { dialectName, ntStatusName } from '../src/recognize/smb.js';
import type { FlowRecord } from '../src/flow/record.js';

const FIELDS = [
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'tls.handshake.version',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.ciphersuite',
  'tls.handshake.extensions_alpn_str',
  'dhcp.option.dhcp',
  'dhcp.id',
  'dhcp.option.vendor_class_id',
  'dhcp.option.request_list_item',
  'dhcp.option.sip_server.address',
  'epm.proto.tcp_port',
  'dcom.dualstringarray.network_addr',
  'smb2.dialect',
  'smb2.flags.response',
  'smb2.nt_status',
  'smb.dialect.index',
  'smb.flags.response',
  'smb.nt_status',
] as const;
type Field = (typeof FIELDS)[number];

/**
 * Disagreements, keyed "capture|flow key", with the reason. Each one must still occur.
 */
const EXPLAINED: Record<string, string> = {};

/** Flows we label with one of these protocols where tshark names none of them, with the reason. */
const EXTRA: Record<string, string> = {};

const MINE = new Set(['tls', 'psom', 'ms-turn-tcp', 'dhcp', 'dcerpc', 'smb']);

/** Our label for a tshark protocol set, or undefined when tshark names none of ours. */
function tsharkLabel(protocols: Set<string>): string | undefined {
  if (protocols.has('smb') || protocols.has('smb2') || protocols.has('nbss')) return 'smb';
  if (protocols.has('dcerpc')) return 'dcerpc';
  if (protocols.has('tls') || protocols.has('ssl')) return 'tls';
  if (protocols.has('dhcp') || protocols.has('bootp')) return 'dhcp';
  return undefined;
}

function sameLabel(ours: string | undefined, theirs: string): boolean {
  if (ours === theirs) return true;
  return theirs === 'tls' && (ours === 'psom' || ours === 'ms-turn-tcp');
}

/** IPv6 text in one form (eight hex groups, no compression) so both sides' keys match. */
function canonicalHost(h: string): string {
  if (!h.includes(':')) return h;
  const [head, tail] = h.includes('::') ? h.split('::') : [h, undefined];
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const groups = tail === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function flowKey(proto: string, h1: string, p1: number, h2: string, p2: number): string {
  const x = `${canonicalHost(h1)}:${p1}`;
  const y = `${canonicalHost(h2)}:${p2}`;
  return x <= y ? `${proto} ${x} ${y}` : `${proto} ${y} ${x}`;
}

interface TFlow {
  protocols: Set<string>;
  frames: Record<Field, string>[];
}

function tsharkFlows(capture: string): Map<string, TFlow> {
  const rows = tsharkFields(capture, [...FIELDS]);
  const flows = new Map<string, TFlow>();
  for (const row of rows) {
    const f = Object.fromEntries(FIELDS.map((name, k) => [name, row[k] ?? ''])) as Record<Field, string>;
    const first = (v: string): string => v.split(',')[0];
    const src = first(f['ip.src']) || first(f['ipv6.src']);
    const dst = first(f['ip.dst']) || first(f['ipv6.dst']);
    const tcp = f['tcp.srcport'] !== '';
    const udp = !tcp && f['udp.srcport'] !== '';
    if (src === '' || (!tcp && !udp)) continue;
    const sp = Number(first(tcp ? f['tcp.srcport'] : f['udp.srcport']));
    const dp = Number(first(tcp ? f['tcp.dstport'] : f['udp.dstport']));
    const key = flowKey(tcp ? 'tcp' : 'udp', src, sp, dst, dp);
    let flow = flows.get(key);
    if (flow === undefined) flows.set(key, (flow = { protocols: new Set(), frames: [] }));
    for (const p of f['frame.protocols'].split(':')) flow.protocols.add(p);
    flow.frames.push(f);
  }
  return flows;
}

function values(v: string): string[] {
  return v === '' ? [] : v.split(',');
}

let fieldChecks = 0;

/** Field-by-field comparison of one agreeing flow; returns the differences found. */
function compareFields(label: string, ours: FlowRecord, t: TFlow): string[] {
  const d = (ours.app_detail ?? {}) as Record<string, unknown>;
  const diffs: string[] = [];
  const check = (what: string, mine: unknown, theirs: unknown): void => {
    fieldChecks++;
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      diffs.push(`${what}: ours ${JSON.stringify(mine)}, tshark ${JSON.stringify(theirs)}`);
  };
  if (label === 'tls' && ours.app !== 'ms-turn-tcp') {
    const ch = t.frames.find((f) => values(f['tls.handshake.type']).includes('1'));
    const sh = t.frames.find(
      (f) => values(f['tls.handshake.type']).includes('2') && !values(f['tls.handshake.type']).includes('1'),
    );
    if (ch !== undefined) {
      if (ch['tls.handshake.extensions_server_name'] !== '')
        check('sni', d.sni, ch['tls.handshake.extensions_server_name']);
      check(
        'client_version',
        d.client_version,
        versionName(parseInt(values(ch['tls.handshake.version'])[0], 16)),
      );
      const alpn = values(ch['tls.handshake.extensions_alpn_str']);
      if (alpn.length > 0) check('alpn', d.alpn, alpn);
    }
    if (sh !== undefined) {
      const supported = values(sh['tls.handshake.extensions.supported_version']);
      const v = supported.length > 0 ? supported[0] : values(sh['tls.handshake.version'])[0];
      check('version', d.version, versionName(parseInt(v, 16)));
      check(
        'cipher_suite',
        d.cipher_suite,
        cipherName(parseInt(values(sh['tls.handshake.ciphersuite'])[0], 16)),
      );
    }
  } else if (label === 'dhcp') {
    const names: Record<string, string> = {
      1: 'DISCOVER',
      2: 'OFFER',
      3: 'REQUEST',
      4: 'DECLINE',
      5: 'ACK',
      6: 'NAK',
      7: 'RELEASE',
      8: 'INFORM',
    };
    const messages = (d.messages ?? []) as {
      type?: string;
      xid: string;
      vendor_class?: string;
      requested_options?: number[];
      sip_servers?: { servers: string[] };
    }[];
    // One DHCP message per frame, in the same order on both sides.
    messages.forEach((m, k) => {
      const f = t.frames[k];
      if (f === undefined) return;
      check(
        `type ${k}`,
        m.type,
        f['dhcp.option.dhcp'] === '' ? undefined : (names[f['dhcp.option.dhcp']] ?? f['dhcp.option.dhcp']),
      );
      check(`xid ${k}`, parseInt(m.xid, 16), parseInt(f['dhcp.id'], 16));
      if (f['dhcp.option.vendor_class_id'] !== '')
        check(`vendor class ${k}`, m.vendor_class, f['dhcp.option.vendor_class_id']);
      if (f['dhcp.option.request_list_item'] !== '')
        check(
          `request list ${k}`,
          m.requested_options,
          values(f['dhcp.option.request_list_item']).map(Number),
        );
      if (f['dhcp.option.sip_server.address'] !== '')
        check(`option 120 ${k}`, m.sip_servers?.servers, values(f['dhcp.option.sip_server.address']));
    });
  } else if (label === 'dcerpc') {
    const theirs = new Set<number>();
    for (const f of t.frames) {
      for (const p of values(f['epm.proto.tcp_port'])) if (Number(p) > 0) theirs.add(Number(p));
      for (const a of values(f['dcom.dualstringarray.network_addr'])) {
        const open = a.indexOf('[');
        if (open > 0 && a.endsWith(']')) theirs.add(Number(a.slice(open + 1, -1)));
      }
    }
    check('epm_ports', ((d.epm_ports ?? []) as number[]).slice().sort(), [...theirs].sort());
  } else if (label === 'smb') {
    const responses2 = t.frames.filter(
      (f) => f['smb2.flags.response'] !== '' && values(f['smb2.flags.response']).includes('1'),
    );
    const dialects = responses2.flatMap((f) => values(f['smb2.dialect']));
    if (dialects.length > 0)
      check('dialect', d.dialect, dialectName(parseInt(dialects[dialects.length - 1], 16)));
    const smb1Index = t.frames.map((f) => f['smb.dialect.index']).find((v) => v !== '');
    if (smb1Index !== undefined && dialects.length === 0)
      check('smb1 dialect', d.dialect, ((d.client_dialects ?? []) as string[])[Number(smb1Index)]);
    const routine = new Set([
      0xc0000016, 0xc0000034, 0xc0000011, 0xc0000225, 0xc000019c, 0xc0000010, 0xc0000120, 0xc000000f,
    ]);
    const failed = new Set<string>();
    for (const f of t.frames)
      for (const s of [...values(f['smb2.nt_status']), ...values(f['smb.nt_status'])]) {
        const code = parseInt(s, 16) >>> 0;
        if (code >>> 30 === 3 && !routine.has(code)) failed.add(ntStatusName(code));
      }
    const errors = ((d.errors ?? []) as { status: string }[]).map((e) => e.status);
    check('failed statuses', [...new Set(errors)].sort(), [...failed].sort());
  }
  return diffs;
}

const captures = sharedCaptures();
const skip =
  skipReason('TLS/DHCP/DCE-RPC/SMB vs tshark') ?? tsharkSkipReason('TLS/DHCP/DCE-RPC/SMB vs tshark');

describe.skipIf(skip !== undefined)(
  'TLS, DHCP, DCE/RPC and SMB labels agree with tshark on the real captures',
  () => {
    it('every flow tshark names one of these protocols; fields compared where both agree', async () => {
      let named = 0;
      let agreed = 0;
      const seenExplained = new Set<string>();
      const seenExtra = new Set<string>();
      const unexplained: string[] = [];
      const extra: string[] = [];
      const fieldDiffs: string[] = [];
      const perLabel: Record<string, [number, number]> = {};
      for (const capture of captures) {
        const name = basename(capture);
        const theirs = tsharkFlows(capture);
        const ours = new Map<string, FlowRecord>();
        for (const r of await recognizeFiles([capture])) {
          if (r.proto !== 'tcp' && r.proto !== 'udp') continue;
          const key = flowKey(r.proto, r.orig_h, r.orig_p, r.resp_h, r.resp_p);
          // Several flows per 5-tuple (a UDP flow split by the idle timeout): keep a labelled one.
          if (!ours.has(key) || ours.get(key)?.app === undefined) ours.set(key, r);
        }
        for (const [key, t] of theirs) {
          const label = tsharkLabel(t.protocols);
          if (label === undefined) continue;
          named++;
          const counts = (perLabel[label] ??= [0, 0]);
          counts[0]++;
          const mine = ours.get(key);
          const id = `${name}|${key}`;
          if (mine !== undefined && sameLabel(mine.app, label)) {
            agreed++;
            counts[1]++;
            for (const diff of compareFields(label, mine, t)) fieldDiffs.push(`${id}: ${diff}`);
          } else if (EXPLAINED[id] !== undefined) seenExplained.add(id);
          else
            unexplained.push(
              `${id}: tshark ${label}, ours ${mine?.app ?? '(none)'} ${JSON.stringify(mine?.app_detail ?? {})}`,
            );
        }
        // Flows we label with one of these protocols where tshark names none of them.
        for (const [key, r] of ours) {
          if (r.app === undefined || !MINE.has(r.app)) continue;
          const t = theirs.get(key);
          if (t !== undefined && tsharkLabel(t.protocols) !== undefined) continue;
          const id = `${name}|${key}`;
          if (EXTRA[id] !== undefined) seenExtra.add(id);
          else
            extra.push(
              `${id}: ours ${r.app}, tshark ${t === undefined ? '(no frames)' : [...t.protocols].join(':')}`,
            );
        }
      }
      const rate = named === 0 ? 1 : agreed / named;
      const byLabel = Object.entries(perLabel)
        .map(([l, [n, a]]) => `${l} ${a}/${n}`)
        .join(', ');
      console.log(
        `TLS/DHCP/DCE-RPC/SMB vs tshark: ${agreed}/${named} flows agree (${(rate * 100).toFixed(1)}%): ${byLabel}; ` +
          `${fieldChecks} field comparisons`,
      );
      expect(unexplained, unexplained.join('\n')).toEqual([]);
      expect(
        Object.keys(EXPLAINED).filter((k) => !seenExplained.has(k)),
        'explained disagreements that no longer occur',
      ).toEqual([]);
      expect(extra, extra.join('\n')).toEqual([]);
      expect(
        Object.keys(EXTRA).filter((k) => !seenExtra.has(k)),
        'explained extra labels that no longer occur',
      ).toEqual([]);
      expect(fieldDiffs, fieldDiffs.join('\n')).toEqual([]);
      expect(rate).toBeGreaterThanOrEqual(0.95);
      expect(named).toBeGreaterThan(50);
    }, 300_000);
  },
);
