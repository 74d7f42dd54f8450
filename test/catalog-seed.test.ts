/**
 * The built-in catalog against the seed: every row of both seed tables (../shared/seed, parsed
 * here from its text) appears in catalog/lync2010.json with its role, its ports (corrected where
 * the errata say), its transport and a fitting protocol label; corrected rows keep the seed's
 * text; and no catalog row claims the seed as its source without a seed row behind it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, type CatalogRow } from '../src/catalog/index.js';
import { SEED_DIR } from './helpers/shared.js';

const SEED_FILE = join(SEED_DIR, 'lync-server-2010-ports.txt');

function seedSkipReason(): string | undefined {
  if (existsSync(SEED_FILE)) return undefined;
  const reason = `catalog vs seed: skipped, ${SEED_FILE} is absent (../shared is not in this checkout)`;
  console.warn(reason);
  return reason;
}

interface SeedRow {
  table: 'server' | 'client';
  line: string;
  who: string;
  service?: string;
  ports: string;
  protocol: string;
  notes: string;
}

/** The two pipe-separated tables: "Required Server Ports" (5 fields) and "Required Client Ports" (4). */
function parseSeed(text: string): SeedRow[] {
  const rows: SeedRow[] = [];
  let table: SeedRow['table'] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === 'Required Server Ports') table = 'server';
    else if (line === 'Required Client Ports') table = 'client';
    else if (line.startsWith('Note:')) table = undefined;
    if (table === undefined || !line.includes(' | ')) continue;
    const fields = line
      .replace(/\s*\|\s*$/, '')
      .split(' | ')
      .map((f) => f.trim());
    if (fields[0] === 'Server role' || fields[0] === 'Component') continue;
    if (table === 'server') {
      expect(fields, line).toHaveLength(5);
      const [who, service, ports, protocol, notes] = fields;
      rows.push({ table, line, who, service, ports, protocol, notes });
    } else {
      expect(fields, line).toHaveLength(4);
      const [who, ports, protocol, notes] = fields;
      rows.push({ table, line, who, ports, protocol, notes });
    }
  }
  return rows;
}

const ROLE_OF: Record<string, string> = {
  'Front End Servers': 'front-end',
  'Front End Servers that also run a Collocated Mediation Server': 'collocated-mediation',
  'Front End Servers where the Central Management store resides': 'cms',
  'All internal servers': 'internal-servers',
  Directors: 'director',
  'Mediation Servers': 'mediation',
  Clients: 'client',
};

function roleOf(who: string): string {
  if (who.startsWith('Microsoft Lync 2010 Phone Edition')) return 'phone';
  const role = ROLE_OF[who];
  if (role === undefined) throw new Error(`seed role not mapped: ${who}`);
  return role;
}

function transportOf(protocol: string): 'tcp' | 'udp' | 'both' {
  if (protocol.startsWith('TCP/UDP')) return 'both';
  if (protocol.startsWith('UDP') || protocol === 'DHCP') return 'udp';
  if (/^(TCP|HTTPS?|DCOM)/.test(protocol)) return 'tcp';
  throw new Error(`seed protocol not mapped: ${protocol}`);
}

/** Whether the catalog's protocol label says what the seed's Protocol column says. */
function protocolFits(seed: string, label: string): boolean {
  if (seed === 'HTTPS') return label === 'https';
  if (seed === 'HTTP') return label === 'http';
  if (seed === 'DHCP') return label === 'dhcp';
  if (seed.startsWith('DCOM')) return label === 'dcom-rpc';
  if (seed.includes('PSOM/TLS')) return label === 'psom-tls';
  if (seed.includes('STUN/MSTURN')) return label === 'stun-msturn';
  if (seed.includes('(MTLS)')) return label.endsWith('-mtls');
  if (seed.replace(/\s/g, '').includes('(TLS)')) return /-m?tls$/.test(label);
  return true; // plain "TCP", "TCP/UDP": any label
}

/** The errata (../shared/research/microsoft-ports.md), applied here independently of the catalog. */
function expectedPorts(seed: SeedRow): string {
  return seed.ports.replace(/\b65335\b/, '65535');
}

function isErratum(seed: SeedRow): boolean {
  return (
    seed.ports.includes('65335') ||
    (seed.who === 'Mediation Servers' && seed.ports === '5070') ||
    (seed.table === 'client' && seed.ports === '3478')
  );
}

describe.skipIf(seedSkipReason())('catalog/lync2010.json holds every seed row', () => {
  const seedText = existsSync(SEED_FILE) ? readFileSync(SEED_FILE, 'utf8') : '';
  const seedRows = seedText === '' ? [] : parseSeed(seedText);
  const catalog = loadCatalog('lync2010');

  /** The catalog row for a seed row: same role (named on the row), ports, transport, and its note or text. */
  function rowFor(seed: SeedRow): CatalogRow[] {
    const role = roleOf(seed.who);
    return catalog.rows.filter(
      (r) =>
        r.roles.includes(role) &&
        r.ports === expectedPorts(seed) &&
        r.transport === transportOf(seed.protocol) &&
        (r.seed?.text.split('\n').includes(seed.line) === true || r.notes.startsWith(seed.notes)),
    );
  }

  it('parses both seed tables completely (36 server rows, 12 client rows)', () => {
    expect(seedRows.filter((r) => r.table === 'server')).toHaveLength(36);
    expect(seedRows.filter((r) => r.table === 'client')).toHaveLength(12);
  });

  it('finds exactly one catalog row per seed row, with a fitting protocol label', () => {
    const problems: string[] = [];
    for (const seed of seedRows) {
      const found = rowFor(seed);
      if (found.length !== 1) problems.push(`${found.length} rows for: ${seed.line}`);
      else if (!protocolFits(seed.protocol, found[0].protocol))
        problems.push(`${found[0].id}: protocol ${found[0].protocol} does not fit "${seed.protocol}"`);
    }
    expect(problems).toEqual([]);
  });

  it('marks exactly the errata rows corrected and keeps the seed text in them', () => {
    for (const seed of seedRows) {
      const [row] = rowFor(seed);
      if (isErratum(seed)) {
        expect(row.corrected, row.id).toBeDefined();
        expect(row.corrected?.summary.length).toBeGreaterThan(10);
        expect(row.corrected?.source.url).toMatch(/^https:\/\//);
        expect(row.seed?.text.split('\n'), row.id).toContain(seed.line);
        if (seed.ports !== expectedPorts(seed)) expect(row.seed?.ports).toBe(seed.ports);
      } else {
        expect(row.corrected, row.id).toBeUndefined();
      }
    }
    // 65335 → 65535 twice, the two Mediation 5070 rows merged into one, the client 3478 note.
    expect(catalog.rows.filter((r) => r.corrected !== undefined).map((r) => r.id)).toEqual([
      'fe-av-conferencing-video-media',
      'fe-app-sharing-media',
      'med-5070-from-front-end',
      'client-3478-stun-msturn',
    ]);
  });

  it('merges the two Mediation 5070 rows into one MTLS listener', () => {
    const rows = seedRows.filter((s) => s.who === 'Mediation Servers' && s.ports === '5070').map(rowFor);
    expect(rows).toHaveLength(2);
    expect(rows[0][0].id).toBe(rows[1][0].id);
    expect(rows[0][0].protocol).toBe('sip-mtls');
  });

  it('marks 5060 optional and says it is otherwise unused', () => {
    const rows = seedRows.filter((s) => s.ports === '5060').flatMap(rowFor);
    expect(rows.map((r) => r.id)).toEqual(['fe-5060-sip-static-routes', 'dir-5060-sip-static-routes']);
    for (const r of rows) {
      expect(r.optional).toBe(true);
      expect(r.notes).toMatch(/no longer uses TCP 5060/);
    }
  });

  it('keeps corrected rows’ seed text verbatim from the seed file', () => {
    const lines = new Set(seedText.split(/\r?\n/).map((l) => l.trim()));
    for (const row of catalog.rows.filter((r) => r.seed !== undefined))
      for (const line of row.seed?.text.split('\n') ?? [])
        expect(lines.has(line), `${row.id}: ${line}`).toBe(true);
  });

  it('has no seed-sourced row without a seed row behind it', () => {
    const matched = new Set(seedRows.flatMap(rowFor).map((r) => r.id));
    const claimed = catalog.rows.filter((r) => r.source.ref === 'seed').map((r) => r.id);
    expect(claimed.filter((id) => !matched.has(id))).toEqual([]);
    expect(claimed).toHaveLength(47); // 48 seed rows, two of them merged
  });
});
