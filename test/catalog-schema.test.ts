/**
 * Catalog files are checked at load: against catalog/catalog.schema.json (ajv) and by the loader
 * for what a schema cannot say. A broken file fails with one line naming the file, the row (index
 * and id) and the field. Also: user files that extend the built-in catalog.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogError, listProducts, loadCatalog, parsePorts } from '../src/catalog/index.js';
import { schemaDigest } from '../src/catalog/schema.js';
import { runCli } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';

type Json = Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'lpa-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let serial = 0;

function builtin(): Json & { rows: Json[] } {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'catalog', 'lync2010.json'), 'utf8')) as Json & {
    rows: Json[];
  };
}

function write(doc: unknown, name = `c${serial++}.json`): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return path;
}

/** Loads a file that must fail; returns the message (and checks it is one line). */
function failure(doc: unknown): string {
  const path = write(doc);
  try {
    loadCatalog(path);
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith(path)).toBe(true);
    return message;
  }
  throw new Error('expected the catalog to be rejected');
}

/** The built-in catalog with one row changed. */
function withRow(index: number, change: (row: Json) => void): Json {
  const doc = builtin();
  change(doc.rows[index]);
  return doc;
}

const MINIMAL = {
  product: 'tiny',
  title: 'Tiny',
  sources: { me: { title: 'me' } },
  roles: { web: { kind: 'server', description: 'a web server' } },
  rows: [
    {
      id: 'web-443',
      roles: ['web'],
      direction: 'inbound',
      peers: ['any'],
      service: 'web',
      ports: '443',
      transport: 'tcp',
      protocol: 'https',
      notes: '',
      source: { ref: 'me' },
    },
  ],
};

describe('the built-in catalog', () => {
  it('loads, and is listed', () => {
    expect(listProducts()).toContain('lync2010');
    const c = loadCatalog();
    expect(c.product).toBe('lync2010');
    expect(c.rows.length).toBeGreaterThan(70);
    expect(new Set(c.rows.map((r) => r.id)).size).toBe(c.rows.length);
  });

  it('documents every role and group it uses, and cites a source for every row', () => {
    const c = loadCatalog();
    for (const role of [
      'front-end',
      'director',
      'mediation',
      'edge-internal',
      'edge-external',
      'reverse-proxy',
      'pstn-gateway',
      'client',
      'phone',
      'cms',
      'collocated-mediation',
    ])
      expect(c.roles[role]?.description, role).toBeTruthy();
    expect(c.groups['internal-servers']).toEqual(['front-end', 'director', 'mediation']);
    expect(c.roles.cms.alsoCarries).toEqual(['front-end']);
    for (const row of c.rows) {
      expect(row.source.title, row.id).toBeTruthy();
      if (row.source.ref !== 'research') expect(row.source.url, row.id).toMatch(/^https:\/\//);
      expect(c.protocols[row.protocol], row.id).toBeDefined();
    }
  });
});

describe('broken catalog files are rejected with the row and field', () => {
  it('a missing field', () => {
    const m = failure(withRow(3, (r) => delete r.transport));
    expect(m).toContain('rows[3] (id "fe-135-dcom-rpc")');
    expect(m).toContain('missing required field "transport"');
  });

  it('a port above 65535', () => {
    const m = failure(withRow(1, (r) => (r.ports = '70000')));
    expect(m).toContain('rows[1] (id "fe-5061-sip"): ports:');
    expect(m).toContain('port 70000 is outside 1-65535');
  });

  it('a range that ends before it starts', () => {
    const m = failure(withRow(2, (r) => (r.ports = '5000-4000')));
    expect(m).toContain('rows[2] (id "fe-444-focus-https"): ports:');
    expect(m).toContain('range 5000-4000 ends before it starts');
  });

  it('ports that are not ports', () => {
    const m = failure(withRow(2, (r) => (r.ports = '5061a')));
    expect(m).toContain(
      'rows[2] (id "fe-444-focus-https"): ports: "5061a" is not valid: expected ports as written',
    );
  });

  it('an unknown transport', () => {
    const m = failure(withRow(4, (r) => (r.transport = 'sctp')));
    expect(m).toContain(
      'rows[4] (id "fe-5062-im-conferencing"): transport: "sctp" is not one of "tcp", "udp", "both"',
    );
  });

  it('an unknown direction', () => {
    const m = failure(withRow(4, (r) => (r.direction = 'in')));
    expect(m).toContain('direction: "in" is not one of "inbound", "outbound"');
  });

  it('a duplicate id', () => {
    const m = failure(withRow(5, (r) => (r.id = 'fe-5061-sip')));
    expect(m).toContain('rows[5] (id "fe-5061-sip"): id: duplicate id; rows[1] has the same id');
  });

  it('an unknown role', () => {
    const m = failure(withRow(0, (r) => (r.roles = ['frontend'])));
    expect(m).toContain(
      'rows[0] (id "fe-5060-sip-static-routes"): roles: unknown role "frontend"; roles: front-end',
    );
  });

  it('an unknown peer', () => {
    const m = failure(withRow(14, (r) => (r.peers = ['gateway'])));
    expect(m).toMatch(/rows\[14\] \(id "[^"]+"\): peers: unknown role "gateway"/);
  });

  it('a row without peers', () => {
    const m = failure(withRow(2, (r) => delete r.peers));
    expect(m).toContain('rows[2] (id "fe-444-focus-https"): missing required field "peers"');
  });

  it('"any" with other peers, and a role named "any"', () => {
    expect(failure(withRow(2, (r) => (r.peers = ['any', 'client'])))).toContain(
      'rows[2] (id "fe-444-focus-https"): peers: "any" already stands for every address',
    );
    const doc = builtin();
    (doc.roles as Json).any = { kind: 'external', description: 'everyone' };
    expect(failure(doc)).toContain('"any" is a reserved peer');
  });

  it('an unknown source for the peers or in a disagreement', () => {
    expect(failure(withRow(2, (r) => (r.peersSource = { ref: 'poster' })))).toContain(
      'rows[2] (id "fe-444-focus-https"): peersSource.ref: unknown source "poster"',
    );
    const m = failure(
      withRow(2, (r) => {
        r.disagreement = {
          texts: [
            { source: { ref: 'seed' }, text: 'a' },
            { source: { ref: 'blog' }, text: 'b' },
          ],
          chosen: 'seed',
          why: 'it is the table',
        };
      }),
    );
    expect(m).toContain('disagreement.texts[1].source.ref: unknown source "blog"');
  });

  it('role addresses that are not addresses', () => {
    const doc = builtin();
    doc.roleAddresses = {
      'federated-partner': { addresses: ['52.112.0.0/33'], source: { ref: 'research' } },
    };
    expect(failure(doc)).toContain(
      'roleAddresses.federated-partner.addresses[0]: "52.112.0.0/33" is not an IPv4 or IPv6 address or CIDR block',
    );
    doc.roleAddresses = { nobody: { addresses: ['52.112.0.0/14'], source: { ref: 'research' } } };
    expect(failure(doc)).toContain('roleAddresses.nobody: unknown role "nobody"');
  });

  it('an unknown field', () => {
    const m = failure(withRow(6, (r) => (r.port = 8058)));
    expect(m).toContain('rows[6] (id "fe-8058-web-conferencing-compat-psom"): unknown field "port"');
  });

  it('an unknown source', () => {
    const m = failure(withRow(7, (r) => (r.source = { ref: 'blog' })));
    expect(m).toContain('rows[7] (id "fe-5063-av-conferencing"): source.ref: unknown source "blog"');
  });

  it('an unknown protocol label', () => {
    const m = failure(withRow(7, (r) => (r.protocol = 'sips')));
    expect(m).toContain('protocol: unknown protocol label "sips"');
  });

  it('a row without an id', () => {
    const m = failure(withRow(7, (r) => delete r.id));
    expect(m).toContain('rows[7] (no id): missing required field "id"');
  });

  it('a bad role key', () => {
    const doc = builtin();
    (doc.roles as Json)['Front End'] = { kind: 'server', description: 'x' };
    expect(failure(doc)).toContain('roles: bad key "Front End"');
  });

  it('a standalone file without a product', () => {
    const rest: Json = { ...MINIMAL };
    delete rest.product;
    expect(failure(rest)).toContain('missing required field "product"');
  });

  it('text that is not JSON', () => {
    expect(failure('{"rows": [')).toContain('not valid JSON');
  });

  it('a file that does not exist, and a name that is no catalog', () => {
    expect(() => loadCatalog(join(dir, 'none.json'))).toThrow(/none\.json: no such catalog file/);
    expect(() => loadCatalog('lync2099')).toThrow(
      'unknown catalog "lync2099": the built-in catalogs are lync2010',
    );
  });
});

describe('user catalog files', () => {
  it('a small standalone catalog', () => {
    const c = loadCatalog(write(MINIMAL));
    expect(c.product).toBe('tiny');
    expect(c.rows[0].portRanges).toEqual([[443, 443]]);
    expect(c.rows[0].source).toEqual({ ref: 'me', title: 'me' });
  });

  it('extends the built-in catalog: adds, replaces and removes rows', () => {
    const path = write({
      extends: 'lync2010',
      product: 'contoso',
      roles: { 'exchange-um': { kind: 'server', description: 'Exchange Unified Messaging' } },
      removeRows: ['fe-5060-sip-static-routes'],
      rows: [
        {
          id: 'fe-5061-sip',
          roles: ['front-end'],
          direction: 'inbound',
          peers: ['client'],
          service: 'Front-End service',
          ports: '5061',
          transport: 'tcp',
          protocol: 'sip-mtls',
          notes: 'Only MTLS here.',
          source: { ref: 'research' },
        },
        {
          id: 'um-5065',
          roles: ['exchange-um'],
          direction: 'inbound',
          peers: ['front-end'],
          service: 'Exchange UM',
          ports: '5065',
          transport: 'tcp',
          protocol: 'sip-mtls',
          notes: 'Exchange UM SIP.',
          source: { ref: 'research' },
        },
      ],
    });
    const base = loadCatalog();
    const c = loadCatalog(path);
    expect(c.product).toBe('contoso');
    expect(c.extends).toBe('lync2010');
    // Without a title of its own, the base's title with the product name.
    expect(c.title).toBe('Lync Server 2010 (contoso)');
    expect(c.rows).toHaveLength(base.rows.length); // one removed, one added, one replaced
    expect(c.rows.find((r) => r.id === 'fe-5060-sip-static-routes')).toBeUndefined();
    expect(c.rows.find((r) => r.id === 'fe-5061-sip')?.protocol).toBe('sip-mtls');
    expect(c.rows.findIndex((r) => r.id === 'fe-5061-sip')).toBe(0); // replaced in place
    expect(c.rows.at(-1)?.id).toBe('um-5065');
    expect(c.roles['exchange-um'].kind).toBe('server');
    expect(c.roles['front-end']).toEqual(base.roles['front-end']);
  });

  it('an extending file may leave out product, title and roles; its errors name its own rows', () => {
    const m = failure({ extends: 'lync2010', rows: [{ ...MINIMAL.rows[0], roles: ['web'] }] });
    expect(m).toContain('rows[0] (id "web-443"): roles: unknown role "web"');
  });

  it('extends by relative path, and refuses a loop', () => {
    const base = write({ ...MINIMAL }, 'base.json');
    const child = write({ extends: './base.json', rows: [] }, 'child.json');
    expect(loadCatalog(child).rows.map((r) => r.id)).toEqual(['web-443']);
    write({ ...MINIMAL, extends: './loop-b.json' }, 'loop-a.json');
    write({ extends: './loop-a.json', rows: [] }, 'loop-b.json');
    expect(() => loadCatalog(join(dir, 'loop-a.json'))).toThrow(/"extends" loops back to itself/);
    expect(base).toContain('base.json');
  });

  it('removeRows must name rows of the base, and needs extends', () => {
    expect(failure({ extends: 'lync2010', removeRows: ['nope'], rows: [] })).toContain(
      'removeRows: "nope" is not a row of lync2010',
    );
    expect(failure({ ...MINIMAL, removeRows: ['web-443'] })).toContain(
      'removeRows: only a catalog that "extends"',
    );
  });

  it('changeRows changes a base row field by field and records the change', () => {
    const path = write({
      extends: 'lync2010',
      product: 'site-change',
      removeRows: [{ id: 'fe-5060-sip-static-routes', summary: 'no RCC here', source: { ref: 'research' } }],
      changeRows: [
        {
          id: 'fe-444-focus-https',
          summary: 'the Focus is reached by the Director only',
          source: { ref: 'L13', detail: 'Director 444' },
          peers: ['director'],
        },
      ],
      rows: [],
    });
    const base = loadCatalog();
    const c = loadCatalog(path);
    const row = c.rows.find((r) => r.id === 'fe-444-focus-https')!;
    const before = base.rows.find((r) => r.id === 'fe-444-focus-https')!;
    expect(row.peers).toEqual(['director']);
    expect({ ...row, peers: before.peers, changes: undefined }).toEqual({ ...before, changes: undefined });
    expect(row.changes).toEqual([
      {
        product: 'site-change',
        summary: 'the Focus is reached by the Director only',
        source: expect.objectContaining({ ref: 'L13', detail: 'Director 444' }) as unknown,
      },
    ]);
    expect(c.removed).toEqual([
      {
        id: 'fe-5060-sip-static-routes',
        product: 'site-change',
        summary: 'no RCC here',
        source: expect.objectContaining({ ref: 'research' }) as unknown,
      },
    ]);
    // The change keeps the row's place.
    expect(c.rows.findIndex((r) => r.id === 'fe-444-focus-https')).toBe(
      base.rows.findIndex((r) => r.id === 'fe-444-focus-https') - 1,
    );
  });

  it('changeRows: errors name the change', () => {
    const change = { id: 'fe-444-focus-https', summary: 's', source: { ref: 'research' } };
    expect(
      failure({ extends: 'lync2010', changeRows: [{ ...change, id: 'nope', ports: '1' }], rows: [] }),
    ).toContain('changeRows[0]: "nope" is not a row of lync2010');
    expect(failure({ extends: 'lync2010', changeRows: [change], rows: [] })).toContain(
      'changeRows[0] (id "fe-444-focus-https"): changes no field',
    );
    expect(failure({ extends: 'lync2010', changeRows: [{ ...change, ports: '99999' }], rows: [] })).toContain(
      'changeRows[0] (id "fe-444-focus-https"): ports: "99999": port 99999 is outside 1-65535',
    );
    expect(
      failure({ extends: 'lync2010', changeRows: [{ ...change, peers: ['nobody'] }], rows: [] }),
    ).toContain('changeRows[0] (id "fe-444-focus-https"): peers: unknown role "nobody"');
    expect(
      failure({
        extends: 'lync2010',
        removeRows: ['fe-444-focus-https'],
        changeRows: [{ ...change, ports: '444' }],
        rows: [],
      }),
    ).toContain('changeRows[0]: row "fe-444-focus-https" is also in removeRows[0]');
    expect(failure({ ...MINIMAL, changeRows: [{ ...change, ports: '1' }] })).toContain(
      'changeRows: only a catalog that "extends" another can change rows',
    );
  });
});

describe('parsePorts', () => {
  it('reads ports as written', () => {
    expect(parsePorts('5061')).toEqual([[5061, 5061]]);
    expect(parsePorts('49152-57500')).toEqual([[49152, 57500]]);
    expect(parsePorts('67/68')).toEqual([
      [67, 67],
      [68, 68],
    ]);
    expect(parsePorts('80,443,8080-8081')).toEqual([
      [80, 80],
      [443, 443],
      [8080, 8081],
    ]);
  });

  it('rejects what is not a port', () => {
    expect(() => parsePorts('0')).toThrow('port 0 is outside 1-65535');
    expect(() => parsePorts('65536')).toThrow('port 65536 is outside 1-65535');
    expect(() => parsePorts('10-9')).toThrow('range 10-9 ends before it starts');
    expect(() => parsePorts('')).toThrow(/expected a port/);
    expect(() => parsePorts('80/')).toThrow(/expected a port/);
  });
});

describe('the validator npm run build generates says what ajv says at run time', () => {
  // The CLI runs dist/, where schema.ts finds dist/catalog/schema-validator.cjs (ajv's standalone
  // code, built from the schema); these tests run src/, which compiles the schema with ajv.
  const prebuiltPath = join(REPO_ROOT, 'dist', 'catalog', 'schema-validator.cjs');

  it('was built from the schema on disk', () => {
    const mod = createRequire(import.meta.url)(prebuiltPath) as { schemaSha256: string; default: unknown };
    const schemaText = readFileSync(join(REPO_ROOT, 'catalog', 'catalog.schema.json'), 'utf8');
    expect(mod.schemaSha256).toBe(schemaDigest(schemaText));
    expect(typeof mod.default).toBe('function');
  });

  const broken: [string, unknown][] = [
    ['a missing field', withRow(3, (r) => delete r.transport)],
    ['ports that are not ports', withRow(2, (r) => (r.ports = '5061a'))],
    ['an unknown transport', withRow(4, (r) => (r.transport = 'sctp'))],
    ['an unknown field', withRow(0, (r) => (r.colour = 'blue'))],
    ['a wrong type', withRow(5, (r) => (r.roles = 'front-end'))],
    ['a bad role key', { ...MINIMAL, roles: { 'Web Server': { kind: 'server', description: 'x' } } }],
    ['a standalone file without a product', { ...MINIMAL, product: undefined }],
    ['not an object', [1, 2, 3]],
  ];
  it.each(broken)('%s', (_name, doc) => {
    const atRunTime = failure(doc);
    const path = write(doc);
    const run = runCli(['catalog', '--catalog', path]);
    expect(run.status).toBe(2);
    // The same message, for another copy of the same file.
    const fromCli = run.stderr.trim().replace(/^lync-port-audit: /, '');
    expect(fromCli.slice(path.length)).toBe(atRunTime.slice(atRunTime.indexOf(':')));
  });
});
