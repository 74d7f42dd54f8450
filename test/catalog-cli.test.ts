/**
 * `lync-port-audit catalog`, run as a user runs it (bin/lync-port-audit on dist/): JSON, CSV and
 * table output for a role and between two roles, media port overrides, user catalog files, and
 * the usage errors (exit status 2, a message on stderr, nothing on stdout).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listProducts, loadCatalog } from '../src/catalog/index.js';
import { runCli } from './helpers/cli.js';
import { parseCsv } from './helpers/csv.js';
import { REPO_ROOT } from './helpers/shared.js';

interface JsonRow {
  id: string;
  roles: string[];
  direction: string;
  peers: string[];
  service: string;
  ports: string;
  transport: string;
  protocol: string;
  notes: string;
  source: { ref: string; detail?: string };
  corrected?: { summary: string; source: { ref: string } };
  seed?: { text: string; ports?: string };
  overridden?: { setting: string; was: string };
}

/** catalog --format json prints a catalog file, with what it was asked in `generated`. */
interface JsonDoc {
  generated: { by: string; from: string; query: Record<string, string> };
  product: string;
  title: string;
  sources: Record<string, { title: string; url?: string }>;
  rows: JsonRow[];
}

const tmp = mkdtempSync(join(tmpdir(), 'lpa-catalog-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function json(args: string[]): JsonDoc {
  const r = runCli(['catalog', ...args, '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as JsonDoc;
}

function errorRun(args: string[]): string {
  const r = runCli(['catalog', ...args]);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('lync-port-audit catalog', () => {
  it('--role front-end --format json: the Front End rows with ports as written and their sources', () => {
    const doc = json(['--role', 'front-end']);
    expect(doc.product).toBe('lync2010');
    expect(doc.generated.query).toEqual({ role: 'front-end' });
    for (const row of doc.rows) {
      expect(
        ['front-end', 'internal-servers'].some((r) => row.roles.includes(r)),
        row.id,
      ).toBe(true);
      for (const field of ['id', 'service', 'ports', 'transport', 'protocol', 'notes'] as const)
        expect(typeof row[field], `${row.id}.${field}`).toBe('string');
      expect(doc.sources[row.source.ref]?.title, row.id).toBeTruthy();
    }
    const sip = doc.rows.find((r) => r.id === 'fe-5061-sip');
    expect(sip).toMatchObject({
      roles: ['front-end'],
      direction: 'inbound',
      ports: '5061',
      transport: 'tcp',
      protocol: 'sip-tls',
      source: { ref: 'seed' },
    });
    expect(doc.sources.seed.url).toBe(
      'https://mimanu.com/2011/02/microsoft-lync-server-and-client-2010.html',
    );
    const video = doc.rows.find((r) => r.id === 'fe-av-conferencing-video-media');
    expect(video?.ports).toBe('57501-65535');
    expect(video?.transport).toBe('both');
    expect(video?.seed?.ports).toBe('57501-65335');
    expect(video?.corrected?.summary).toMatch(/typo/);
    expect(doc.rows.find((r) => r.id === 'servers-audio-media')?.ports).toBe('49152-57500');
    expect(doc.rows.some((r) => r.roles.includes('mediation') || r.roles.includes('client'))).toBe(false);
  });

  it('--from client --to edge-external lists both sides', () => {
    const doc = json(['--from', 'client', '--to', 'edge-external']);
    expect(doc.generated.query).toEqual({ from: 'client', to: 'edge-external' });
    expect(
      doc.rows.map((r) => `${r.roles.join('+')} ${r.direction} ${r.transport} ${r.ports} ${r.protocol}`),
    ).toEqual([
      'client outbound tcp 443 sip-tls',
      'client outbound tcp 443 psom-tls',
      'client outbound tcp 443 stun-msturn',
      'client outbound udp 3478 stun-msturn',
      'client outbound tcp 5061 sip-mtls',
      'edge-external inbound tcp 443 sip-tls',
      'edge-external inbound tcp 443 psom-tls',
      'edge-external inbound tcp 443 stun-msturn',
      'edge-external inbound udp 3478 stun-msturn',
    ]);
  });

  it('the table marks corrected rows and explains the mark', () => {
    const r = runCli(['catalog', '--from', 'client', '--to', 'edge-external']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ports that must be open from client to edge-external, 9 rows');
    expect(r.stdout).toMatch(/udp 3478 \*/);
    expect(r.stdout).toContain('* corrected from the seed table');
    expect(r.stdout).toContain('client-3478-stun-msturn: the seed');
    expect(r.stdout).toContain('L10-edge: https://learn.microsoft.com/');
  });

  it('--format csv: one record per row, RFC 4180 quoting, the same rows as JSON', () => {
    const r = runCli(['catalog', '--role', 'mediation', '--format', 'csv']);
    expect(r.status, r.stderr).toBe(0);
    const [head, ...records] = parseCsv(r.stdout);
    expect(head.slice(0, 8)).toEqual([
      'id',
      'roles',
      'direction',
      'peers',
      'service',
      'ports',
      'transport',
      'protocol',
    ]);
    const byId = new Map(records.map((rec) => [rec[0], Object.fromEntries(head.map((h, i) => [h, rec[i]]))]));
    expect([...byId.keys()]).toEqual(json(['--role', 'mediation']).rows.map((row) => row.id));
    for (const rec of records) expect(rec).toHaveLength(head.length);
    expect(byId.get('servers-audio-media')).toMatchObject({
      roles: 'internal-servers',
      ports: '49152-57500',
      transport: 'both',
      protocol: 'rtp-media',
    });
    // Notes with commas survive the quoting.
    expect(byId.get('servers-audio-media')?.notes).toContain(
      'Front End Servers (for Lync Server Conferencing Attendant service,',
    );
    expect(byId.get('med-5070-from-front-end')?.corrected).toMatch(/one MTLS listener/);
  });

  it('--media-ports overrides a range and the output says so', () => {
    const doc = json([
      '--role',
      'client',
      '--media-ports',
      'client-audio=50000+20',
      '--media-ports',
      'client-video=50020-50039',
    ]);
    expect(doc.rows.find((r) => r.id === 'client-audio-media')).toMatchObject({
      ports: '50000-50019',
      overridden: { setting: 'client-audio', was: '1024-65535' },
    });
    expect(doc.rows.find((r) => r.id === 'client-video-media')?.ports).toBe('50020-50039');
    const table = runCli(['catalog', '--role', 'client', '--media-ports', 'client-audio=50000+20']).stdout;
    expect(table).toContain('50000-50019 †');
    expect(table).toContain('client-audio-media: client-audio 50000-50019 (catalog: 1024-65535)');
  });

  it('--catalog reads a user file that extends the built-in catalog', () => {
    const file = join(tmp, 'site.json');
    writeFileSync(
      file,
      JSON.stringify({
        extends: 'lync2010',
        product: 'site',
        removeRows: ['fe-5060-sip-static-routes'],
        rows: [],
      }),
    );
    const doc = json(['--catalog', file, '--role', 'front-end']);
    expect(doc.product).toBe('site');
    expect(doc.rows.some((r) => r.id === 'fe-5060-sip-static-routes')).toBe(false);
    expect(doc.rows.some((r) => r.id === 'fe-5061-sip')).toBe(true);
  });

  it('an unknown role: exit 2 and the list of valid roles', () => {
    const err = errorRun(['--role', 'frontend']);
    expect(err).toContain('unknown role "frontend"');
    expect(err).toContain(
      'front-end, cms, collocated-mediation, director, mediation, edge-internal, edge-external',
    );
    expect(err).toContain('groups: internal-servers');
    expect(errorRun(['--from', 'client', '--to', 'edge'])).toContain('unknown role "edge"');
  });

  it('usage errors: exit 2', () => {
    expect(errorRun(['--from', 'client'])).toContain('--from and --to go together');
    expect(errorRun(['--role', 'client', '--from', 'client', '--to', 'phone'])).toContain(
      '--role ROLE and --from/--to cannot be used together',
    );
    expect(errorRun(['--format', 'xml'])).toContain("argument 'xml' is invalid");
    expect(errorRun(['--media-ports', 'client-voice=1-2'])).toContain('unknown media range "client-voice"');
    expect(errorRun(['--catalog', 'nope.json'])).toContain('nope.json: no such catalog file');
  });

  it('a broken catalog file: exit 2, one line naming the row and field', () => {
    const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'catalog', 'lync2010.json'), 'utf8')) as {
      rows: Array<Record<string, unknown>>;
    };
    doc.rows[1].ports = '70000';
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify(doc));
    const err = errorRun(['--catalog', file]);
    expect(err).toBe(
      `lync-port-audit: ${file}: rows[1] (id "fe-5061-sip"): ports: "70000": port 70000 is outside 1-65535\n`,
    );
  });

  it('--help explains the command', () => {
    const r = runCli(['catalog', '--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const text of [
      '--role <role|role=addr>',
      '--from <role>',
      '--topology <file>',
      '--diff <catalogs...>',
      '--product <name>',
      'nftables',
      'windows-firewall',
      '--media-ports',
      'inbound rows are ports the role listens on',
    ])
      expect(r.stdout).toContain(text);
  });

  it('--format json is a catalog file: read back with --catalog it gives the same catalog, for every product', () => {
    for (const product of listProducts()) {
      const r = runCli(['catalog', '--product', product, '--format', 'json']);
      expect(r.status, r.stderr).toBe(0);
      const file = join(tmp, `${product}-out.json`);
      writeFileSync(file, r.stdout);
      const back = loadCatalog(file);
      const original = loadCatalog(product);
      expect(back.rows, product).toEqual(original.rows);
      expect(back.roles, product).toEqual(original.roles);
      expect(back.roleAddresses, product).toEqual(original.roleAddresses);
      expect(back.endpoints, product).toEqual(original.endpoints);
      // And once more through the CLI: the same document.
      const again = runCli(['catalog', '--catalog', file, '--format', 'json']);
      expect(again.status, again.stderr).toBe(0);
      const strip = (text: string): unknown => ({ ...(JSON.parse(text) as JsonDoc), generated: undefined });
      expect(strip(again.stdout)).toEqual(strip(r.stdout));
    }
  });

  it('--format json with --role and --media-ports: the narrowed catalog reads back, overrides marked', () => {
    const r = runCli([
      'catalog',
      '--role',
      'client',
      '--media-ports',
      'client-audio=50000+20',
      '--format',
      'json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as JsonDoc & { generated: { mediaPorts: Record<string, string> } };
    expect(doc.generated.mediaPorts).toEqual({ 'client-audio': '50000-50019' });
    const file = join(tmp, 'client-narrow.json');
    writeFileSync(file, r.stdout);
    const back = loadCatalog(file);
    expect(back.rows.map((x) => x.id)).toEqual(doc.rows.map((x) => x.id));
    expect(back.rows.find((x) => x.id === 'client-audio-media')).toMatchObject({
      ports: '50000-50019',
      overridden: { setting: 'client-audio', was: '1024-65535' },
    });
  });

  it('--diff lync2010 sfb2019: rows added, removed with the reason, changed field by field', () => {
    const r = runCli(['catalog', '--diff', 'lync2010', 'sfb2019', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as {
      added: JsonRow[];
      removed: Array<{ row: JsonRow; why?: { product: string; summary: string; source: string } }>;
      changed: Array<{ id: string; fields: Record<string, { from: unknown; to: unknown }>; why: unknown[] }>;
      roles: { added: string[]; removed: string[] };
    };
    const added = d.added.map((x) => x.id);
    for (const id of ['servers-1434-sql-browser', 'fe-8060-web-mtls', 'fe-8061-web-mtls', 'fe-5086-mobility'])
      expect(added).toContain(id);
    // XMPP came with Lync 2013 and went with Skype for Business 2019: in neither catalog.
    expect(added.some((id) => id.includes('xmpp'))).toBe(false);
    const removed = new Map(d.removed.map((x) => [x.row.id, x.why]));
    expect(removed.get('archiving-1801-msmq')).toMatchObject({ product: 'lync2013', source: 'L13-ARCH' });
    expect(removed.get('edge-ext-av-media-tcp-in')).toMatchObject({ product: 'sfb2015', source: 'S15-EDGE' });
    const focus = d.changed.find((c) => c.id === 'fe-444-focus-https');
    expect(focus?.fields.peers).toEqual({
      from: ['internal-servers'],
      to: ['internal-servers', 'survivable-branch'],
    });
    expect(d.roles.added).toEqual(expect.arrayContaining(['office-web-apps', 'survivable-branch']));
    const table = runCli(['catalog', '--diff', 'sfb2015', 'sfb2019']);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toContain('0 rows added, 3 removed');
    expect(table.stdout).toMatch(
      /- edge-ext-5269-xmpp-in: .*\n {8}why: sfb2019: XMPP is not supported in Skype for Business Server 2019/,
    );
  });

  it('--diff teams-2022072800 teams: the endpoints version and the published addresses', () => {
    const r = runCli(['catalog', '--diff', 'teams-2022072800', 'teams']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Endpoints list version: 2022072800 -> 2023073100');
    expect(r.stdout).toContain(
      'm365-media-relay: +52.122.0.0/15 +2603:1063::/39 -52.120.0.0/14 -2603:1063::/38',
    );
    expect(errorRun(['--diff', 'lync2010'])).toContain('--diff takes two catalogs');
    expect(errorRun(['--diff', 'lync2010', 'sfb2019', '--role', 'client'])).toContain(
      '--diff compares whole catalogs',
    );
  });

  it('--catalog and --product work the same in catalog and analyze', () => {
    const sample = join(REPO_ROOT, 'samples', 'edge-udp-blocked', 'capture.pcapng');
    for (const args of [
      ['--product', 'sfb2019'],
      ['--catalog', 'sfb2019'],
      ['--catalog', join(REPO_ROOT, 'catalog', 'sfb2019.json')],
    ]) {
      const c = runCli(['catalog', ...args, '--format', 'json']);
      expect(c.status, c.stderr).toBe(0);
      expect((JSON.parse(c.stdout) as JsonDoc).product).toBe('sfb2019');
      const a = runCli(['analyze', '--no-progress', ...args, '--format', 'json', sample]);
      expect(a.status, a.stderr).toBe(0);
      expect(
        (JSON.parse(a.stdout) as { summary: { catalog: { product: string } } }).summary.catalog.product,
      ).toBe('sfb2019');
    }
    for (const command of [['catalog'], ['analyze', '--no-progress', sample]]) {
      const unknown = runCli([...command, '--product', 'lync2099']);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain(
        '--product lync2099: no such built-in catalog; the built-in catalogs are',
      );
      const both = runCli([...command, '--product', 'sfb2019', '--catalog', 'lync2013']);
      expect(both.status).toBe(2);
      expect(both.stderr).toMatch(/cannot be used with/);
    }
  });
});
