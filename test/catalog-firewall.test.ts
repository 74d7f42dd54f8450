/**
 * Firewall rules out of the catalog (`catalog --format nftables|iptables|ip6tables|windows-firewall|csv`):
 * nftables output is checked by `nft -c -f`, iptables output by `iptables-restore --test` in a
 * network namespace of its own (each skipped with the reason where the tool or root is missing);
 * every rule names its row; --from/--to narrows; addresses come from --topology, --role
 * ROLE=ADDR or the catalog's published ones; --media-ports moves the media rules. The lab's
 * catalog-client-fe scenario loads exactly what the CLI prints (held here), and the lab test
 * checks what the router then passes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listProducts, loadCatalog, rowsBetween } from '../src/catalog/index.js';
import { runCli } from './helpers/cli.js';
import { parseCsv } from './helpers/csv.js';
import { REPO_ROOT } from './helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'lpa-firewall-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const LAB_TOPOLOGY = 'test/lab/topology.json';

function rules(args: string[]): string {
  const r = runCli(['catalog', ...args]);
  expect(r.stderr).toBe('');
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function save(text: string, name: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** Why a tool check cannot run here, or undefined when it can. */
function toolSkip(tool: string, probe: string[]): string | undefined {
  const r = spawnSync(tool, probe, { encoding: 'utf8' });
  if (r.error !== undefined) return `${tool} is not installed (CI installs it)`;
  if (r.status !== 0) return `${tool} cannot run here: ${(r.stderr || r.stdout).trim().split('\n')[0]}`;
  return undefined;
}

const nftSkip = ((): string | undefined => {
  const why = toolSkip('nft', ['--version']);
  if (why !== undefined) return why;
  const probe = save('table inet lpa_probe { }\n', 'probe.nft');
  return toolSkip('nft', ['-c', '-f', probe]);
})();
if (nftSkip !== undefined) console.warn(`firewall rules: nft -c checks skipped, ${nftSkip}`);

/** iptables-restore --test, in a network namespace of its own so nothing on the host changes. */
const iptablesSkip = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'iptables-restore needs root (a network namespace of its own)';
  return (
    toolSkip('iptables-restore', ['--version']) ??
    toolSkip('unshare', ['--net', 'iptables-restore', '--version'])
  );
})();
if (iptablesSkip !== undefined)
  console.warn(`firewall rules: iptables-restore --test skipped, ${iptablesSkip}`);

function nftCheck(text: string, name: string): void {
  const r = spawnSync('nft', ['-c', '-f', save(text, name)], { encoding: 'utf8' });
  expect(r.stderr, name).toBe('');
  expect(r.status, name).toBe(0);
}

function iptablesCheck(text: string, tool: 'iptables-restore' | 'ip6tables-restore', name: string): void {
  const r = spawnSync('unshare', ['--net', tool, '--test', save(text, name)], { encoding: 'utf8' });
  expect(r.stderr, name).toBe('');
  expect(r.status, name).toBe(0);
}

/** The row ids the rules' comments name, in order, each once. */
function commentIds(text: string, pattern: RegExp): string[] {
  return [...new Set([...text.matchAll(pattern)].map((m) => m[1]))];
}

describe('nftables', () => {
  it.skipIf(nftSkip !== undefined).each(listProducts())(
    '%s: every row, named sets to fill in: nft -c accepts it',
    (product) => {
      const text = rules(['--product', product, '--format', 'nftables']);
      expect(text).toContain('table inet lync {');
      expect(text).toContain('type filter hook forward priority filter; policy drop;');
      nftCheck(text, `${product}-all.nft`);
      // Every row of the catalog is a rule (or two, one per address family), named in its comment.
      expect(commentIds(text, /comment "([^:"]+):/g).sort()).toEqual(
        loadCatalog(product)
          .rows.map((r) => r.id)
          .sort(),
      );
    },
  );

  it.skipIf(nftSkip !== undefined)(
    '--from client --to front-end --topology: real addresses, only those two roles',
    () => {
      const text = rules([
        '--from',
        'client',
        '--to',
        'front-end',
        '--topology',
        LAB_TOPOLOGY,
        '--format',
        'nftables',
      ]);
      nftCheck(text, 'client-fe.nft');
      expect(text).toContain('elements = { 10.77.1.0/25 }');
      expect(text).toContain('elements = { fd77:2::10 }');
      expect([...text.matchAll(/\tset (\S+) \{/g)].map((m) => m[1])).toEqual([
        'client_v4',
        'client_v6',
        'front_end_v4',
        'front_end_v6',
      ]);
      const ids = commentIds(text, /comment "([^:"]+):/g);
      expect(ids).toEqual(rowsBetween(loadCatalog('lync2010'), 'client', 'front-end').map((r) => r.id));
      // The rows the issue names for a client and a Front End, and none of the server-to-server listeners.
      for (const port of ['5061', '8057', '8058', '443', '80', '49152-57500', '57501-65535'])
        expect(text, port).toMatch(
          new RegExp(`ip saddr @client_v4 ip daddr @front_end_v4 .*dport ${port} accept`),
        );
      for (const port of [
        '135',
        '444',
        '445',
        '448',
        '5060',
        '5062',
        '5063',
        '5064',
        '5065',
        '5070',
        '5071',
        '5072',
        '5073',
        '5075',
        '5076',
        '5080',
        '8404',
      ])
        expect(text, port).not.toMatch(new RegExp(`dport ${port} accept`));
      // --from/--to is one way: nothing from the Front End to the client.
      expect(text).not.toContain('saddr @front_end_v4');
    },
  );

  it.skipIf(nftSkip !== undefined)(
    '--from edge-external --to client: the relay traffic, not the Edge’s DNS and CRL lookups',
    () => {
      const text = rules(['--from', 'edge-external', '--to', 'client', '--format', 'nftables']);
      nftCheck(text, 'edge-client.nft');
      expect(commentIds(text, /comment "([^:"]+):/g)).toEqual([
        'edge-ext-443-stun-out',
        'edge-ext-3478-stun-out',
        'client-audio-media',
        'client-video-media',
        'client-file-transfer-media',
        'client-app-sharing-media',
      ]);
      expect(text).not.toMatch(/dport (53|80) /);
    },
  );

  it.skipIf(nftSkip !== undefined)(
    '--role with addresses, a role carried along (cms is a front-end), and "any"',
    () => {
      const text = rules([
        '--role',
        'edge-external',
        '--role',
        'edge-external=203.0.113.5',
        '--role',
        'cms=10.0.0.5',
        '--role',
        'front-end=10.0.0.10',
        '--format',
        'nftables',
      ]);
      nftCheck(text, 'edge.nft');
      // Inbound from any address: no source test; the Edge's own address as the destination.
      expect(text).toMatch(
        /\n\t\tip daddr @edge_external_v4 tcp dport 443 accept comment "edge-ext-443-sip-tls: /,
      );
      // The Edge has no IPv6 address here: no IPv6 rule for it.
      expect(text).not.toContain('edge_external_v6');
      const cms = rules([
        '--from',
        'cms',
        '--to',
        'edge-internal',
        '--role',
        'cms=10.0.0.5',
        '--role',
        'edge-internal=10.0.1.20',
        '--format',
        'nftables',
      ]);
      expect(cms).toMatch(/ip saddr @cms_v4 ip daddr @edge_internal_v4 tcp dport 4443 accept/);
      const fe = rules([
        '--from',
        'client',
        '--to',
        'front-end',
        '--role',
        'cms=10.0.0.5',
        '--role',
        'front-end=10.0.0.10',
        '--format',
        'nftables',
      ]);
      // A host with cms carries front-end: it is in the front-end set.
      expect(fe).toContain('elements = { 10.0.0.5, 10.0.0.10 }');
    },
  );

  it.skipIf(nftSkip !== undefined)('media ranges follow --media-ports', () => {
    const text = rules([
      '--from',
      'front-end',
      '--to',
      'client',
      '--media-ports',
      'client-audio=50000+20',
      '--media-ports',
      'client-video=50020-50039',
      '--format',
      'nftables',
    ]);
    nftCheck(text, 'media.nft');
    expect(text).toMatch(/th dport 50000-50019 accept comment "client-audio-media: /);
    expect(text).toMatch(/th dport 50020-50039 accept comment "client-video-media: /);
    expect(text).toContain('client-audio set by --media-ports');
    expect(text).toMatch(/tcp dport 1024-65535 accept comment "client-app-sharing-media: /);
  });

  it.skipIf(nftSkip !== undefined)(
    'teams: the Microsoft 365 roles carry the published addresses of the endpoints list',
    () => {
      const text = rules([
        '--product',
        'teams',
        '--from',
        'client',
        '--to',
        'm365-media-relay',
        '--format',
        'nftables',
      ]);
      nftCheck(text, 'teams.nft');
      expect(text).toContain('endpoints version 2023073100');
      expect(text).toContain('elements = { 13.107.64.0/18, 52.112.0.0/14, 52.122.0.0/15 }');
      expect(text).toContain('elements = { 2603:1063::/39 }');
      expect(text).toMatch(/ip daddr @m365_media_relay_v4 udp dport 3478-3481 accept/);
      const old = rules([
        '--product',
        'teams-2022072800',
        '--from',
        'client',
        '--to',
        'm365-media-relay',
        '--format',
        'nftables',
      ]);
      expect(old).toContain('elements = { 13.107.64.0/18, 52.112.0.0/14, 52.120.0.0/14 }');
      const sbc = rules([
        '--product',
        'teams',
        '--from',
        'sbc',
        '--to',
        'dr-sip-proxy',
        '--role',
        'sbc=198.51.100.7',
        '--format',
        'nftables',
      ]);
      nftCheck(sbc, 'sbc.nft');
      expect(sbc).toContain(
        'elements = { 52.114.148.0, 52.114.132.46, 52.114.75.24, 52.114.76.76, 52.114.7.24, 52.114.14.70, 52.114.16.74, 52.114.20.29 }',
      );
    },
  );

  it('text from a user catalog cannot break out of a rule comment', () => {
    const file = save(
      JSON.stringify({
        extends: 'lync2010',
        product: 'hostile',
        changeRows: [
          {
            id: 'fe-5061-sip',
            summary: 'test',
            source: { ref: 'research' },
            service: "SIP\" accept; drop \\ $(reboot) `x` 'y' é\u202e",
          },
        ],
        rows: [],
      }),
      'hostile.json',
    );
    const text = rules(['--catalog', file, '--from', 'client', '--to', 'front-end', '--format', 'nftables']);
    const line = text.split('\n').find((l) => l.includes('comment "fe-5061-sip'))!;
    expect(line).toMatch(/comment "fe-5061-sip: SIP accept drop {2}\(reboot\) x y e"$/);
    if (nftSkip === undefined) nftCheck(text, 'hostile.nft');
    const ps = rules([
      '--catalog',
      file,
      '--from',
      'client',
      '--to',
      'front-end',
      '--format',
      'windows-firewall',
    ]);
    expect(ps).toContain("-DisplayName 'lync-port-audit fe-5061-sip: SIP accept drop  (reboot) x y e'");
  });
});

describe('the lab router loads what the CLI prints', () => {
  it('test/lab/scenarios/catalog-client-fe/rules.nft is the output of its command', () => {
    const stored = readFileSync(
      join(REPO_ROOT, 'test', 'lab', 'scenarios', 'catalog-client-fe', 'rules.nft'),
      'utf8',
    );
    const command = /^# {3}lync-port-audit (catalog .*)$/m.exec(stored)![1].split(' ');
    const generated = rules(command.slice(1));
    expect(stored.slice(stored.indexOf('#!/usr/sbin/nft -f'))).toBe(generated);
    expect(stored).toContain('include "addresses.nft"');
    if (nftSkip === undefined) nftCheck(generated, 'lab.nft');
  });
});

describe('iptables', () => {
  it.skipIf(iptablesSkip !== undefined)(
    'iptables-restore --test accepts the IPv4 rules, ip6tables-restore the IPv6 ones',
    () => {
      for (const product of listProducts()) {
        // Every role placed (IPv4 and IPv6), so that no rule needs an ipset: iptables-restore sees every rule.
        const c = loadCatalog(product);
        const roles = Object.keys(c.roles);
        const topology = save(
          JSON.stringify({
            roles: Object.fromEntries(roles.map((id, i) => [id, [`10.9.${i}.0/24`, `fd09:${i}::/64`]])),
          }),
          `${product}-topology.json`,
        );
        const args = ['--product', product, '--topology', topology];
        const v4 = rules([...args, '--format', 'iptables']);
        iptablesCheck(v4, 'iptables-restore', `${product}.v4`);
        const v6 = rules([...args, '--format', 'ip6tables']);
        iptablesCheck(v6, 'ip6tables-restore', `${product}.v6`);
      }
    },
  );

  it('one ACCEPT per row and transport, with the row in the comment; ipsets where addresses are missing', () => {
    const text = rules([
      '--from',
      'client',
      '--to',
      'front-end',
      '--topology',
      LAB_TOPOLOGY,
      '--format',
      'iptables',
    ]);
    expect(text).toContain(
      '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    );
    expect(text).toContain(
      '-A FORWARD -s 10.77.1.0/25 -d 10.77.2.10 -p tcp -m tcp --dport 5061 -m comment --comment "fe-5061-sip: Front-End service" -j ACCEPT',
    );
    expect(text).toContain(
      '-p udp -m udp --dport 49152:57500 -m comment --comment "servers-audio-media: Various" -j ACCEPT',
    );
    expect(text).toContain('-p udp -m multiport --dports 67,68');
    expect(text).toContain('--format ip6tables writes those rules');
    expect(text.trimEnd().endsWith('COMMIT')).toBe(true);
    const v6 = rules([
      '--from',
      'client',
      '--to',
      'front-end',
      '--topology',
      LAB_TOPOLOGY,
      '--format',
      'ip6tables',
    ]);
    expect(v6).toContain('-s fd77:1::10 -d fd77:2::10 -p tcp -m tcp --dport 5061');
    const sets = rules(['--from', 'client', '--to', 'front-end', '--format', 'iptables']);
    expect(sets).toContain('#   ipset create lync_client_v4 hash:net family inet');
    expect(sets).toContain(
      '-m set --match-set lync_client_v4 src -m set --match-set lync_front_end_v4 dst -p tcp -m tcp --dport 5061',
    );
  });
});

describe('Windows Firewall', () => {
  it('one New-NetFirewallRule per row (per protocol), with the row, direction, ports and remote addresses', () => {
    const text = rules(['--role', 'front-end', '--topology', LAB_TOPOLOGY, '--format', 'windows-firewall']);
    const lines = text.split('\n').filter((l) => l.startsWith('New-NetFirewallRule'));
    const c = loadCatalog('lync2010');
    const rows = c.rows.filter((r) =>
      r.roles.some((x) => x === 'front-end' || c.groups[x]?.includes('front-end')),
    );
    expect(lines).toHaveLength(rows.reduce((n, r) => n + (r.transport === 'both' ? 2 : 1), 0));
    for (const l of lines) {
      expect(l).toMatch(
        /^New-NetFirewallRule -DisplayName 'lync-port-audit [a-z0-9.-]+: [^']+' -Group 'lync-port-audit lync2010' -Direction (Inbound|Outbound) -Protocol (TCP|UDP) -(LocalPort|RemotePort) '[\d-]+'(,'[\d-]+')* -RemoteAddress (Any|\$lync_[a-z_]+|\(\$lync_[a-z_]+( \+ \$lync_[a-z_]+)+\)) -Action Allow$/,
      );
      expect(/-Direction Inbound/.test(l)).toBe(/-LocalPort/.test(l));
    }
    expect(text).toContain(
      "New-NetFirewallRule -DisplayName 'lync-port-audit fe-5061-sip: Front-End service' -Group 'lync-port-audit lync2010' -Direction Inbound -Protocol TCP -LocalPort '5061' -RemoteAddress ($lync_client + $lync_phone + $lync_front_end + $lync_director + $lync_mediation + $lync_edge_internal + $lync_archiving_monitoring) -Action Allow",
    );
    expect(text).toContain(
      "$lync_client = @('10.77.1.0/25', 'fd77:1::10')  # role client: from the topology",
    );
    expect(text).toContain('$lync_director = @()  # role director: fill in');
    expect(text).toMatch(
      /fe-av-conferencing-video-media: Lync Server Audio\/Video Conferencing service \(UDP\)' .* -Protocol UDP -LocalPort '57501-65535'/,
    );
    const edge = rules(['--role', 'edge-external', '--format', 'windows-firewall']);
    expect(edge).toMatch(
      /edge-ext-443-sip-tls: Access Edge service' .* -Direction Inbound -Protocol TCP -LocalPort '443' -RemoteAddress Any -Action Allow/,
    );
    expect(edge).toMatch(
      /edge-ext-53-dns-out: Access Edge service \(TCP\)' .* -Direction Outbound -Protocol TCP -RemotePort '53' -RemoteAddress \$lync_dns_server/,
    );
  });
});

describe('CSV', () => {
  it('adds the rule’s two sides and their addresses to each row', () => {
    const text = rules([
      '--from',
      'client',
      '--to',
      'front-end',
      '--both-ways',
      '--topology',
      LAB_TOPOLOGY,
      '--format',
      'csv',
    ]);
    const [head, ...records] = parseCsv(text);
    const col = (name: string): number => head.indexOf(name);
    const sip = records.find((r) => r[0] === 'fe-5061-sip')!;
    expect(sip[col('from_roles')]).toBe('client');
    expect(sip[col('from_addresses')]).toBe('10.77.1.0/25 fd77:1::10');
    expect(sip[col('to_roles')]).toBe('front-end');
    expect(sip[col('to_addresses')]).toBe('10.77.2.10 fd77:2::10');
    const audio = records.find((r) => r[0] === 'client-audio-media')!;
    expect([audio[col('from_roles')], audio[col('to_roles')]]).toEqual(['front-end', 'client']);
    const [h, ...edge] = parseCsv(rules(['--role', 'edge-external', '--format', 'csv']));
    const sipTls = edge.find((r) => r[0] === 'edge-ext-443-sip-tls')!;
    expect(sipTls.slice(h.indexOf('from_roles'))).toEqual(['any', 'any', 'edge-external', '']);
  });
});

describe('usage', () => {
  it('addresses go with a rules format; the topology is checked against the catalog', () => {
    const r = runCli(['catalog', '--topology', LAB_TOPOLOGY]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--topology and --role ROLE=ADDR are for rules');
    const bad = runCli(['catalog', '--role', 'frontend=10.0.0.1', '--format', 'nftables']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--role frontend=10.0.0.1: unknown role "frontend"');
    const two = runCli(['catalog', '--role', 'client', '--role', 'director', '--format', 'nftables']);
    expect(two.status).toBe(2);
    expect(two.stderr).toContain('--role director: one role at a time');
    const back = runCli(['catalog', '--both-ways']);
    expect(back.status).toBe(2);
    expect(back.stderr).toContain('--both-ways goes with --from and --to');
  });
});
