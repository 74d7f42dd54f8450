/**
 * The catalogs' vocabulary against the code's: every protocol label a row of any built-in
 * catalog uses has an entry in the verdict stage's protocol-fit table (so a flow on that row can
 * be a mismatch); every role and group id of every catalog is accepted in a topology and renders
 * in the reports; and the role ids the topology code hands out (role inference, the Microsoft 365
 * cloud role) are roles or groups of the catalogs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProducts, loadCatalog, rowsForHost } from '../src/catalog/index.js';
import { renderCatalogTable } from '../src/report/catalog.js';
import { CLOUD_ROLE } from '../src/topology/cloud.js';
import { topologyFromDocument } from '../src/topology/topology.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';
import { FIT_LABELS, protocolFit } from '../src/verdict/protocol-fit.js';
import { REPO_ROOT } from './helpers/shared.js';

const products = listProducts();

describe('protocol labels', () => {
  it.each(products)('%s: every row protocol has a protocol-fit entry', (product) => {
    const c = loadCatalog(product);
    const missing = [...new Set(c.rows.map((r) => r.protocol))].filter((p) => !FIT_LABELS.has(p));
    expect(missing).toEqual([]);
    // And the entry is used: a confident payload of another protocol is a misfit, not "unknown".
    for (const label of new Set(c.rows.map((r) => r.protocol))) {
      const fit = protocolFit(label, 'smb', 0.99);
      if (label === 'smb' || label === 'tcp') expect(fit, label).toBe('yes');
      else expect(fit, label).toBe('no');
    }
  });

  it('the label the issue names, psom-mtls, is known', () => {
    expect(FIT_LABELS.has('psom-mtls')).toBe(true);
    expect(protocolFit('psom-mtls', 'tls', 0.9)).toBe('yes');
  });
});

describe('role ids', () => {
  it.each(products)(
    '%s: every role and group is accepted in a topology and renders in the reports',
    (product) => {
      const loaded = loadCatalogForAnalysis(product, []);
      const c = loaded.catalog;
      const ids = [...Object.keys(c.roles), ...Object.keys(c.groups)];
      const topology = topologyFromDocument(
        { roles: Object.fromEntries(ids.map((id, i) => [id, [`192.0.2.${i + 1}`]])) },
        'vocabulary',
        loaded.roleIds,
      );
      expect(topology.entries.map((e) => e.role)).toEqual(ids);
      for (const id of ids) {
        const text = renderCatalogTable({ catalog: c, query: { role: id }, rows: rowsForHost(c, [id]) }, 160);
        expect(text, id).toContain(`ports for role ${id}`);
        const description = c.roles[id]?.description ?? `group of ${c.groups[id].join(', ')}`;
        expect(text, id).toContain(description.slice(0, 40));
      }
      // Rows name only roles and groups of their catalog (the loader checks it; here for every product).
      for (const r of c.rows)
        for (const name of [...r.roles, ...r.peers.filter((p) => p !== 'any')])
          expect(ids, r.id).toContain(name);
    },
  );

  it('the roles role inference and the cloud ranges hand out are roles or groups of every catalog', () => {
    const source = ['src/topology/infer.ts', 'src/topology/cloud.ts']
      .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    // Role ids in the code: literals that are a role somewhere, and whatever is assigned as `role: '...'`.
    const all = new Set(
      products.flatMap((p) => {
        const c = loadCatalog(p);
        return [...Object.keys(c.roles), ...Object.keys(c.groups)];
      }),
    );
    const literals = [
      ...[...source.matchAll(/'([a-z][a-z0-9-]*)'/g)].map((m) => m[1]).filter((l) => all.has(l)),
      ...[...source.matchAll(/role: '([^']+)'/g)].map((m) => m[1]),
    ];
    const used = [...new Set([...literals, CLOUD_ROLE])];
    expect(used).toEqual(
      expect.arrayContaining(['client', 'phone', 'pstn-gateway', 'front-end', 'microsoft-365']),
    );
    for (const product of products) {
      const c = loadCatalog(product);
      const known = new Set([...Object.keys(c.roles), ...Object.keys(c.groups)]);
      // Teams has no Lync server roles: what inference gives on premises does not apply there.
      const expected = product.startsWith('teams') ? ['client', CLOUD_ROLE] : used;
      expect(
        expected.filter((r) => !known.has(r)),
        product,
      ).toEqual([]);
    }
  });
});
