/**
 * DHCP with what Lync clients and phones send (../shared/research/microsoft-ports.md section 3):
 * a DHCPINFORM with option 60 "MS-UC-Client" and option 55 asking for 43 and 120; the answer's
 * option 43 sub-options 1-5 and option 120 (RFC 3361). Messages are built byte by byte from RFC 2131
 * figure 1 and RFC 2132; tshark, where installed, decodes the same file and must agree.
 */
import { describe, expect, it } from 'vitest';
import { recognizeTrace, udpDatagram, writeTrace } from './helpers/app.js';
import { tsharkFields, tsharkSkipReason } from './helpers/tshark.js';
import { Trace } from './helpers/traffic.js';
import { dhcpMessage, dnsName, ip, opt } from './helpers/dhcp-bytes.js';
import { domainNames, parseDhcp, sipServers } from '../src/recognize/dhcp.js';
import type { FlowRecord } from '../src/flow/record.js';

const CLIENT = '10.1.1.50';
const SERVER = '10.1.1.5';

function lyncInform(xid: number): Buffer {
  return dhcpMessage({
    op: 1,
    xid,
    ciaddr: CLIENT,
    options: [opt(53, [8]), opt(60, 'MS-UC-Client'), opt(55, [1, 3, 6, 43, 120])],
  });
}

/** Option 43 sub-options as the Lync DHCP server (DHCPUtil) configures them. */
const OPTION_43 = Buffer.concat([
  opt(1, 'MS-UC-Client'),
  opt(2, 'https'),
  opt(3, 'webpool.contoso.com'),
  opt(4, '443'),
  opt(5, '/CertProv/CertProvisioningService.svc'),
]);

function lyncAck(xid: number, with43 = true, with120 = true): Buffer {
  const options = [opt(53, [5]), opt(54, ip(SERVER))];
  if (with43) options.push(opt(43, OPTION_43));
  if (with120) options.push(opt(120, Buffer.concat([Buffer.of(0), dnsName('pool01.contoso.com')])));
  return dhcpMessage({ op: 2, xid, ciaddr: CLIENT, options });
}

function dhcpFlows(records: FlowRecord[]): FlowRecord[] {
  return records.filter((r) => r.app === 'dhcp');
}

describe('DHCP recognizer', () => {
  it('a Lync DHCPINFORM broadcast and its DHCPACK in a flow of its own: decoded, no finding', async () => {
    const t = new Trace();
    udpDatagram(t, CLIENT, '255.255.255.255', 68, 67, lyncInform(0x11223344));
    udpDatagram(t, SERVER, CLIENT, 67, 68, lyncAck(0x11223344));
    const [inform, ack] = dhcpFlows(await recognizeTrace(t, 'dhcp-lync'));
    expect(inform.app_detail).toMatchObject({
      message_types: { INFORM: 1 },
      vendor_classes: ['MS-UC-Client'],
      lync: ['MS-UC-Client'],
      messages: [{ op: 'request', type: 'INFORM', xid: '0x11223344', requested_options: [1, 3, 6, 43, 120] }],
    });
    expect(inform.app_findings).toBeUndefined();
    expect(ack.app_detail).toMatchObject({
      messages: [
        {
          type: 'ACK',
          server_id: SERVER,
          ms_uc: {
            uc_identifier: 'MS-UC-Client',
            url_scheme: 'https',
            web_server_fqdn: 'webpool.contoso.com',
            web_server_port: '443',
            cert_prov_path: '/CertProv/CertProvisioningService.svc',
          },
          sip_servers: { encoding: 'domain', servers: ['pool01.contoso.com'] },
        },
      ],
    });
  });

  it('a Lync DHCPINFORM that nobody answers is a dhcp-inform-unanswered finding', async () => {
    const t = new Trace();
    udpDatagram(t, CLIENT, '255.255.255.255', 68, 67, lyncInform(0x55667788));
    udpDatagram(t, CLIENT, '255.255.255.255', 68, 67, lyncInform(0x55667788));
    const [inform] = dhcpFlows(await recognizeTrace(t, 'dhcp-unanswered'));
    expect(inform.app_findings).toHaveLength(1);
    expect(inform.app_findings?.[0]).toMatchObject({
      kind: 'dhcp-inform-unanswered',
      severity: 'warning',
      detail: { xid: '0x55667788', requested_options: [1, 3, 6, 43, 120] },
    });
  });

  it('an answer without options 43 and 120 is dhcp-lync-options-missing; a non-Lync INFORM is no finding', async () => {
    const t = new Trace();
    udpDatagram(t, CLIENT, '255.255.255.255', 68, 67, lyncInform(0x0a0b0c0d));
    udpDatagram(t, SERVER, CLIENT, 67, 68, lyncAck(0x0a0b0c0d, false, false));
    udpDatagram(
      t,
      '10.1.1.51',
      '255.255.255.255',
      68,
      67,
      dhcpMessage({ op: 1, xid: 0x99, ciaddr: '10.1.1.51', options: [opt(53, [8]), opt(60, 'MSFT 5.0')] }),
    );
    const flows = dhcpFlows(await recognizeTrace(t, 'dhcp-missing'));
    expect(flows[0].app_findings?.[0]).toMatchObject({
      kind: 'dhcp-lync-options-missing',
      detail: { missing: [43, 120] },
    });
    expect(flows.find((f) => f.orig_h === '10.1.1.51')?.app_findings).toBeUndefined();
  });

  it('option 120 with IPv4 addresses, options overloaded into the file field, a phone vendor class', async () => {
    const msg = dhcpMessage({
      op: 2,
      xid: 7,
      yiaddr: '10.2.2.20',
      options: [opt(53, [5]), opt(52, [1]), opt(60, 'CPE-OCPHONE')],
      fileOptions: [opt(120, [1, 10, 0, 0, 5, 10, 0, 0, 6])],
    });
    const m = parseDhcp(msg, 0, msg.length, false);
    expect(m).toMatchObject({
      type: 'ACK',
      vendor_class: 'CPE-OCPHONE',
      sip_servers: { encoding: 'ipv4', servers: ['10.0.0.5', '10.0.0.6'] },
    });
  });

  it('RFC 1035 names with a compression pointer, and loops cut off', () => {
    const v = Buffer.concat([dnsName('a.contoso.com'), Buffer.of(1, 0x62, 0xc0, 2)]);
    expect(domainNames(v)).toEqual(['a.contoso.com', 'b.contoso.com']);
    expect(domainNames(Buffer.of(0xc0, 0))).toEqual([]); // points at itself
    expect(sipServers(Buffer.of(0, 3, 0x61))).toEqual({ encoding: 'domain', servers: [] }); // label runs off the end
  });

  it('truncated messages and garbage on 67/68 do not throw', () => {
    const full = lyncAck(1);
    for (let n = 0; n <= full.length; n++) expect(() => parseDhcp(full, 0, n, true)).not.toThrow();
    const garbage = Buffer.alloc(300, 0xff);
    garbage[0] = 1;
    expect(() => parseDhcp(garbage, 0, garbage.length, false)).not.toThrow();
  });
});

const noTshark = tsharkSkipReason('DHCP recognizer vs tshark (synthetic)');

describe.skipIf(noTshark !== undefined)(
  'DHCP recognizer agrees with tshark on the synthetic messages',
  () => {
    it('message type, vendor class, parameter request list, option 43 sub-options, option 120', async () => {
      const t = new Trace();
      udpDatagram(t, CLIENT, '255.255.255.255', 68, 67, lyncInform(0x01020304));
      udpDatagram(t, SERVER, CLIENT, 67, 68, lyncAck(0x01020304));
      const path = writeTrace(t, 'dhcp-tshark');
      const rows = tsharkFields(path, [
        'dhcp.option.dhcp',
        'dhcp.option.vendor_class_id',
        'dhcp.option.request_list_item',
        'dhcp.option.sip_server.name',
      ]);
      const flows = dhcpFlows(await recognizeTrace(t, 'dhcp-tshark'));
      const types: Record<string, string> = { '8': 'INFORM', '5': 'ACK' };
      const ours = flows.map((f) => (f.app_detail?.messages as { type: string }[])[0]);
      expect(ours.map((m) => m.type)).toEqual(rows.map((r) => types[r[0]]));
      expect((ours[0] as { vendor_class?: string }).vendor_class).toBe(rows[0][1]);
      expect((ours[0] as { requested_options?: number[] }).requested_options?.join(',')).toBe(rows[0][2]);
      expect((ours[1] as { sip_servers?: { servers: string[] } }).sip_servers?.servers.join(',')).toBe(
        rows[1][3],
      );
    });
  },
);
