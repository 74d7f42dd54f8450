import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import {
  addressWords,
  dottedQuadValue,
  isPrivateAddress,
  parsePrefix,
  prefixContains,
} from '../src/topology/address.js';
import {
  RoleResolver,
  TopologyError,
  loadTopologyFile,
  topologyFromDocument,
  topologyFromRoleOptions,
} from '../src/topology/topology.js';

const ROLES = new Set(['front-end', 'mediation', 'client', 'edge-internal', 'cms']);

function contains(prefix: string, address: string): boolean {
  const a = addressWords(address)!;
  return prefixContains(parsePrefix(prefix), a.version, a.words);
}

describe('addresses and prefixes', () => {
  it('matches IPv4 CIDR blocks at every prefix length boundary', () => {
    expect(contains('10.1.0.0/16', '10.1.255.255')).toBe(true);
    expect(contains('10.1.0.0/16', '10.2.0.0')).toBe(false);
    expect(contains('10.0.0.10', '10.0.0.10')).toBe(true);
    expect(contains('10.0.0.10', '10.0.0.11')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('192.168.1.128/25', '192.168.1.127')).toBe(false);
    expect(contains('192.168.1.128/25', '192.168.1.200')).toBe(true);
  });

  it('matches IPv6 prefixes, including compressed forms and an embedded IPv4 tail', () => {
    expect(contains('fd77::/64', 'fd77::1')).toBe(true);
    expect(contains('fd77::/64', 'fd77:0:0:1::1')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '::ffff:10.9.8.7')).toBe(true);
    expect(contains('fd77::1', 'fd77::1')).toBe(true);
    // Families never match each other.
    expect(contains('0.0.0.0/0', '::1')).toBe(false);
  });

  it('rejects what is not an address with a message naming it', () => {
    expect(() => parsePrefix('10.0.0.300')).toThrow(/"10\.0\.0\.300" is not an IP address/);
    expect(() => parsePrefix('10.0.0.0/33')).toThrow(/prefix length must be 0-32/);
    expect(() => parsePrefix('fd00::/129')).toThrow(/0-128/);
    expect(() => parsePrefix('front-end')).toThrow(/not an IP address/);
  });

  it('reads a dotted quad in place exactly where net.isIP says IPv4, to the same value', () => {
    const texts = [
      '0.0.0.0',
      '10.0.0.10',
      '255.255.255.255',
      '192.168.1.200',
      '1.2.3.4',
      '256.0.0.1',
      '10.0.0',
      '10.0.0.10.1',
      '010.0.0.1',
      '10.00.0.1',
      '1.2.3.',
      '.1.2.3',
      '1..2.3',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.4a',
      '',
      '::ffff:1.2.3.4',
      'fd00::10',
      '1234.1.1.1',
      '1.2.3.-4',
    ];
    // And random quads, some with parts over 255 or leading zeros.
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      const part = (): string => {
        x = (x * 1103515245 + 12345) >>> 0;
        const v = x % 300;
        return x % 17 === 0 ? `0${v}` : String(v);
      };
      texts.push(`${part()}.${part()}.${part()}.${part()}`);
    }
    for (const t of texts) {
      const v = dottedQuadValue(t);
      if (isIP(t) === 4) {
        const [a, b, c, d] = t.split('.').map(Number);
        expect(v, t).toBe(((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
      } else expect(v, t).toBe(-1);
    }
  });

  it('knows private address space', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.1',
      'fd00::1',
      'fe80::1',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['172.32.0.1', '52.114.77.33', '2001:db8::1', '8.8.8.8'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});

describe('topology', () => {
  it('gives the most specific entry: a server inside a client block is a server, and may carry several roles', () => {
    const topo = topologyFromDocument(
      {
        roles: {
          client: ['10.1.0.0/16'],
          'front-end': ['10.1.0.10'],
          mediation: ['10.1.0.10'],
          cms: '10.1.0.10',
        },
      },
      'test',
      ROLES,
    );
    const r = new RoleResolver(topo);
    expect(r.rolesOf('10.1.0.10')).toEqual(['front-end', 'mediation', 'cms']);
    expect(r.rolesOf('10.1.3.4')).toEqual(['client']);
    expect(r.rolesOf('192.0.2.1')).toEqual([]);
  });

  it('resolves IPv4 and IPv6 hosts and prefixes, longest prefix first, the same on every lookup', () => {
    const topo = topologyFromDocument(
      {
        roles: {
          client: ['10.1.0.0/16', 'fd00:0:10:a01::/64', '::ffff:10.9.0.0/112'],
          'front-end': ['10.1.0.10', 'fd00:0:10:a01::10'],
          mediation: ['10.1.0.0/24', '10.1.0.0/24'],
          cms: ['10.1.0.0/24'],
        },
      },
      'test',
      ROLES,
    );
    const r = new RoleResolver(topo);
    for (let pass = 0; pass < 2; pass++) {
      expect(r.rolesOf('10.1.0.10')).toEqual(['front-end']);
      expect(r.rolesOf('10.1.0.77')).toEqual(['mediation', 'cms']);
      expect(r.rolesOf('10.1.3.4')).toEqual(['client']);
      expect(r.rolesOf('fd00:0:10:a01::10')).toEqual(['front-end']);
      expect(r.rolesOf('fd00:0:10:a01::99')).toEqual(['client']);
      expect(r.rolesOf('::ffff:10.9.1.2')).toEqual(['client']);
      expect(r.rolesOf('010.1.0.10')).toEqual([]);
      expect(r.rolesOf('not an address')).toEqual([]);
    }
  });

  it('reads JSON and YAML files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lpa-topo-'));
    writeFileSync(join(dir, 't.json'), JSON.stringify({ roles: { 'front-end': ['10.0.0.10'] } }));
    writeFileSync(join(dir, 't.yaml'), 'roles:\n  front-end:\n    - 10.0.0.10\n  client: [10.1.0.0/16]\n');
    expect(new RoleResolver(loadTopologyFile(join(dir, 't.json'), ROLES)).rolesOf('10.0.0.10')).toEqual([
      'front-end',
    ]);
    const y = new RoleResolver(loadTopologyFile(join(dir, 't.yaml'), ROLES));
    expect(y.rolesOf('10.1.9.9')).toEqual(['client']);
  });

  it('explains bad files and options in one line', () => {
    expect(() => topologyFromDocument({ roles: { 'front-end': ['10.0.0.x'] } }, 'f.json', ROLES)).toThrow(
      /f\.json: roles\.front-end\[0\]: "10\.0\.0\.x" is not an IP address/,
    );
    expect(() => topologyFromDocument({ roles: { frontend: ['10.0.0.1'] } }, 'f.json', ROLES)).toThrow(
      /unknown role "frontend" \(valid roles: .*front-end/,
    );
    expect(() => topologyFromDocument({ front: 1 }, 'f.json', ROLES)).toThrow(TopologyError);
    expect(() => topologyFromRoleOptions(['front-end'], ROLES)).toThrow(/expected ROLE=ADDRESS/);
    expect(() => topologyFromRoleOptions(['edge=1.2.3.4'], ROLES)).toThrow(/unknown role "edge"/);
    const ok = topologyFromRoleOptions(['front-end=10.0.0.10,10.0.0.11', 'client=10.1.0.0/16'], ROLES);
    expect(ok.entries.map((e) => `${e.role} ${e.prefix.text}`)).toEqual([
      'front-end 10.0.0.10',
      'front-end 10.0.0.11',
      'client 10.1.0.0/16',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'lpa-topo-'));
    writeFileSync(join(dir, 'bad.json'), '{"roles": ');
    expect(() => loadTopologyFile(join(dir, 'bad.json'), ROLES)).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadTopologyFile(join(dir, 'missing.json'), ROLES)).toThrow(
      /missing\.json: cannot read: ENOENT/,
    );
  });
});
