/**
 * Matching traffic against the built-in catalog: rows per role (groups expanded, hosts carrying
 * several roles), per flow (role, port, transport, direction), between two roles, the likely
 * server ports, and media port overrides.
 */
import { describe, expect, it } from 'vitest';
import {
  CatalogError,
  applyMediaPortOverrides,
  assertRole,
  fixedServicePorts,
  hostRoles,
  loadCatalog,
  matchRows,
  parseMediaPortOverrides,
  rowsBetween,
  rowsForHost,
  rowsForRole,
  type Direction,
  type Transport,
} from '../src/catalog/index.js';

const catalog = loadCatalog('lync2010');

function ids(role: string, port: number, transport: Transport, direction: Direction): string[] {
  return matchRows(catalog, { role, port, transport, direction }).map((r) => r.id);
}

describe('rowsForRole', () => {
  it('includes the rows of groups the role belongs to', () => {
    const fe = rowsForRole(catalog, 'front-end').map((r) => r.id);
    expect(fe).toContain('fe-5061-sip');
    expect(fe).toContain('servers-audio-media'); // "All internal servers"
    expect(fe).not.toContain('med-5070-from-front-end');
    expect(fe).not.toContain('fe-med-5070-from-front-end'); // collocated Mediation is its own role
    expect(rowsForRole(catalog, 'edge-internal').map((r) => r.id)).not.toContain('servers-audio-media');
  });

  it('a group stands for all its members', () => {
    const all = rowsForRole(catalog, 'internal-servers').map((r) => r.id);
    for (const id of ['fe-5061-sip', 'dir-5061-sip', 'med-5067-from-gateway-tls', 'servers-audio-media'])
      expect(all).toContain(id);
  });

  it('has no rows for an unknown role; assertRole lists the valid ones', () => {
    expect(rowsForRole(catalog, 'exchange')).toEqual([]);
    expect(() => assertRole(catalog, 'exchange')).toThrow(CatalogError);
    expect(() => assertRole(catalog, 'exchange')).toThrow(
      /valid roles: front-end, .*groups: internal-servers/,
    );
  });

  it('a host carrying cms or a collocated Mediation Server is a front-end too', () => {
    expect(hostRoles(catalog, ['cms'])).toEqual(['cms', 'front-end']);
    expect(hostRoles(catalog, ['collocated-mediation', 'cms'])).toEqual([
      'collocated-mediation',
      'front-end',
      'cms',
    ]);
    const host = rowsForHost(catalog, ['cms']).map((r) => r.id);
    expect(host).toContain('cms-445-replication-push');
    expect(host).toContain('fe-5061-sip');
    expect(new Set(host).size).toBe(host.length);
  });
});

describe('matchRows', () => {
  it('matches a listener by port and transport', () => {
    expect(ids('front-end', 5061, 'tcp', 'inbound')).toEqual(['fe-5061-sip']);
    expect(ids('front-end', 5061, 'udp', 'inbound')).toEqual([]);
    expect(ids('front-end', 5061, 'tcp', 'outbound')).toEqual([]);
    expect(ids('director', 5061, 'tcp', 'inbound')).toEqual(['dir-5061-sip']);
  });

  it('matches media ranges with the corrected upper end (65535, not 65335)', () => {
    expect(ids('front-end', 50000, 'udp', 'inbound')).toEqual(['servers-audio-media']);
    expect(ids('front-end', 60000, 'udp', 'inbound')).toEqual(['fe-av-conferencing-video-media']);
    expect(ids('front-end', 65400, 'tcp', 'inbound')).toEqual([
      'fe-av-conferencing-video-media',
      'fe-app-sharing-media',
    ]);
    expect(ids('mediation', 50000, 'tcp', 'inbound')).toEqual(['servers-audio-media']);
  });

  it('has one Mediation 5070 listener, and collocated Mediation rows of its own', () => {
    expect(ids('mediation', 5070, 'tcp', 'inbound')).toEqual(['med-5070-from-front-end']);
    expect(ids('collocated-mediation', 5070, 'tcp', 'inbound')).toEqual(['fe-med-5070-from-front-end']);
    expect(ids('collocated-mediation', 5081, 'tcp', 'outbound')).toEqual(['fe-med-5081-to-gateway-tcp']);
  });

  it('outbound rows match the port on the other side', () => {
    expect(ids('client', 3478, 'udp', 'outbound')).toEqual(['client-3478-stun-msturn']);
    expect(ids('client', 3478, 'tcp', 'outbound')).toEqual([]);
    expect(ids('client', 443, 'tcp', 'outbound')).toEqual([
      'client-443-sip-tls',
      'client-443-psom-tls',
      'client-443-stun-msturn',
    ]);
    expect(ids('client', 67, 'udp', 'outbound')).toEqual(['client-dhcp']);
    expect(ids('cms', 445, 'tcp', 'outbound')).toEqual(['cms-445-replication-push']);
  });

  it('knows the Edge, both sides', () => {
    expect(ids('edge-external', 443, 'tcp', 'inbound')).toEqual([
      'edge-ext-443-sip-tls',
      'edge-ext-443-psom-tls',
      'edge-ext-443-stun-in',
    ]);
    expect(ids('edge-external', 3478, 'udp', 'inbound')).toEqual(['edge-ext-3478-stun-in']);
    expect(ids('edge-external', 55000, 'tcp', 'inbound')).toEqual(['edge-ext-av-media-tcp-in']);
    expect(ids('edge-external', 55000, 'udp', 'inbound')).toEqual(['edge-ext-av-media-udp-in-ocs2007']);
    expect(ids('edge-external', 53, 'udp', 'outbound')).toEqual(['edge-ext-53-dns-out']);
    for (const [port, transport] of [
      [5061, 'tcp'],
      [5062, 'tcp'],
      [8057, 'tcp'],
      [443, 'tcp'],
      [3478, 'udp'],
      [4443, 'tcp'],
    ] as const)
      expect(ids('edge-internal', port, transport, 'inbound'), `${transport} ${port}`).toHaveLength(1);
  });

  it('client media: any port 1024-65535 by default', () => {
    expect(ids('client', 6891, 'tcp', 'inbound')).toEqual([
      'client-6891-file-transfer-legacy',
      'client-audio-media',
      'client-video-media',
      'client-file-transfer-media',
      'client-app-sharing-media',
    ]);
    expect(ids('client', 40000, 'udp', 'inbound')).toEqual(['client-audio-media', 'client-video-media']);
    expect(ids('client', 1000, 'udp', 'inbound')).toEqual([]);
  });
});

describe('rowsBetween', () => {
  const between = (from: string, to: string): string[] => rowsBetween(catalog, from, to).map((r) => r.id);

  it('client to edge-external: the client’s outbound rows towards the Edge, the Edge’s listeners', () => {
    expect(between('client', 'edge-external')).toEqual([
      'client-443-sip-tls',
      'client-443-psom-tls',
      'client-443-stun-msturn',
      'client-3478-stun-msturn',
      'client-5061-sip-mtls',
      'edge-ext-443-sip-tls',
      'edge-ext-443-psom-tls',
      'edge-ext-443-stun-in',
      'edge-ext-3478-stun-in',
    ]);
  });

  it('respects peers: the gateway reaches 5067/5068 but not the Front End’s 5070', () => {
    const ids2 = between('pstn-gateway', 'mediation');
    expect(ids2).toContain('med-5067-from-gateway-tls');
    expect(ids2).toContain('med-5068-from-gateway-tcp');
    expect(ids2).toContain('servers-audio-media');
    expect(ids2).not.toContain('med-5070-from-front-end');
    expect(between('front-end', 'mediation')).toContain('med-5070-from-front-end');
  });

  it('cms to a front-end: the replication push and the listener it reaches', () => {
    const ids2 = between('cms', 'front-end');
    expect(ids2[0]).toBe('cms-445-replication-push');
    expect(ids2).toContain('servers-445-cms-replication');
    expect(between('cms', 'edge-internal')).toContain('edge-int-4443-cms-replication');
    expect(between('client', 'edge-internal')).not.toContain('edge-int-4443-cms-replication');
  });

  it('reverse proxy to the pool and Director', () => {
    expect(between('reverse-proxy', 'front-end')).toEqual(
      expect.arrayContaining(['rp-4443-to-pool', 'rp-8080-to-pool', 'fe-4443-external-web']),
    );
    expect(between('reverse-proxy', 'director')).toEqual(
      expect.arrayContaining(['rp-4443-to-pool', 'dir-4443-external-web']),
    );
  });
});

describe('fixedServicePorts', () => {
  it('holds single listening ports, never ranges', () => {
    const ports = fixedServicePorts(catalog);
    for (const p of [5061, 444, 135, 8057, 5067, 5068, 5070, 3478, 443, 4443, 445, 67, 5081])
      expect(ports.has(p), String(p)).toBe(true);
    for (const p of [1024, 49152, 57500, 50000, 6891]) expect(ports.has(p), String(p)).toBe(false);
  });
});

describe('media port overrides', () => {
  it('parses FIRST-LAST, START+COUNT and comma lists', () => {
    expect(parseMediaPortOverrides(['client-audio=50000-50019'])).toEqual({ 'client-audio': '50000-50019' });
    expect(parseMediaPortOverrides(['client-audio=50020+20', 'server-video=57501+8034'])).toEqual({
      'client-audio': '50020-50039',
      'server-video': '57501-65534',
    });
    expect(parseMediaPortOverrides(['client-video=58000+20,client-app-sharing=42000+20'])).toEqual({
      'client-video': '58000-58019',
      'client-app-sharing': '42000-42019',
    });
  });

  it('rejects bad values with the option named', () => {
    expect(() => parseMediaPortOverrides(['client-voice=1-2'])).toThrow(
      /--media-ports client-voice=1-2: unknown media range "client-voice"; use one of client-audio/,
    );
    expect(() => parseMediaPortOverrides(['client-audio=5000'])).toThrow(
      /expected FIRST-LAST .* or START\+COUNT/,
    );
    expect(() => parseMediaPortOverrides(['client-audio=6000-5000'])).toThrow(
      'range 6000-5000 ends before it starts',
    );
    expect(() => parseMediaPortOverrides(['client-audio=65530+10'])).toThrow('are not all within 1-65535');
    expect(() => parseMediaPortOverrides(['client-audio'])).toThrow('give a range');
    expect(() => parseMediaPortOverrides(['client-audio=1-2', 'client-audio=3-4'])).toThrow(
      'client-audio is given twice',
    );
  });

  it('returns a new catalog with the client or server rows changed and marked', () => {
    const o = applyMediaPortOverrides(
      catalog,
      parseMediaPortOverrides(['client-audio=50000+20', 'server-audio=49152-53247', 'client-video=58000+20']),
    );
    const row = (id: string) => o.rows.find((r) => r.id === id);
    expect(row('client-audio-media')).toMatchObject({
      ports: '50000-50019',
      portRanges: [[50000, 50019]],
      overridden: { setting: 'client-audio', was: '1024-65535' },
    });
    expect(row('servers-audio-media')?.ports).toBe('49152-53247');
    expect(row('client-app-sharing-media')?.ports).toBe('1024-65535');
    // The original is untouched.
    expect(catalog.rows.find((r) => r.id === 'client-audio-media')?.ports).toBe('1024-65535');
    expect(
      matchRows(o, { role: 'client', port: 50010, transport: 'udp', direction: 'inbound' }).map((r) => r.id),
    ).toEqual(['client-audio-media']);
    expect(matchRows(o, { role: 'client', port: 40000, transport: 'udp', direction: 'inbound' })).toEqual([]);
    expect(
      matchRows(o, { role: 'front-end', port: 55000, transport: 'udp', direction: 'inbound' }).map(
        (r) => r.id,
      ),
    ).toEqual([]);
  });

  it('refuses a range the catalog does not have', () => {
    expect(() => applyMediaPortOverrides(catalog, { 'server-file-transfer': '1-2' })).toThrow(
      /lync2010 has no server file-transfer range; it has client-audio, .*server-app-sharing/,
    );
  });
});
