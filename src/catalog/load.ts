/**
 * Loading a catalog: a built-in one by product name (catalog/<product>.json) or a user file
 * (`--catalog FILE`), which may extend another with "extends" (a product name or a path relative
 * to the file). Every file is checked against the schema, then the merged catalog's references;
 * any problem is one CatalogError line naming the file, the row and the field.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkFile,
  checkReferences,
  rowPorts,
  type MergedCatalog,
  type PlacedRemoval,
  type PlacedRow,
} from './check.js';
import { CatalogError } from './errors.js';
import { validateCatalogFile } from './schema.js';
import type {
  Catalog,
  CatalogFile,
  CatalogRow,
  CatalogSource,
  Disagreement,
  MediaPortKey,
  MediaPortSetting,
  RemovedRow,
  RoleAddresses,
  SourceRef,
} from './types.js';

export const DEFAULT_PRODUCT = 'lync2010';

/** catalog/ at the package root (from src/catalog or dist/catalog alike). */
export const CATALOG_DIR = fileURLToPath(new URL('../../catalog/', import.meta.url));

const SCHEMA_FILE = /\.schema\.json$/;

/** The built-in catalogs' product names (catalog/*.json, the schema aside). */
export function listProducts(): string[] {
  return readdirSync(CATALOG_DIR)
    .filter((f) => f.endsWith('.json') && !SCHEMA_FILE.test(f))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

interface Located {
  path: string;
  /** How messages name the file. */
  label: string;
  builtin?: string;
}

function locateCatalog(spec: string, relativeTo: string | undefined): Located {
  if (/^[a-z0-9][a-z0-9._-]*$/.test(spec) && !spec.endsWith('.json') && listProducts().includes(spec))
    return { path: resolve(CATALOG_DIR, `${spec}.json`), label: `catalog/${spec}.json`, builtin: spec };
  const path = isAbsolute(spec) || relativeTo === undefined ? resolve(spec) : resolve(relativeTo, spec);
  if (existsSync(path)) return { path, label: relativeTo === undefined ? spec : path };
  const products = listProducts().join(', ');
  if (/[/\\]|\.json$/i.test(spec)) throw new CatalogError(`${spec}: no such catalog file`);
  throw new CatalogError(
    `unknown catalog "${spec}": the built-in catalogs are ${products}; or give a catalog file's path`,
  );
}

function readJson(loc: Located): unknown {
  let text: string;
  try {
    text = readFileSync(loc.path, 'utf8');
  } catch (err) {
    throw new CatalogError(`${loc.label}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CatalogError(`${loc.label}: not valid JSON: ${(err as Error).message}`);
  }
}

function fileProduct(loc: Located): string {
  return basename(loc.path).replace(/\.json$/i, '');
}

/** Reads one file and, through "extends", the catalogs under it; returns them merged. */
function loadMerged(spec: string, relativeTo: string | undefined, chain: string[]): MergedCatalog {
  const loc = locateCatalog(spec, relativeTo);
  if (chain.includes(loc.path))
    throw new CatalogError(
      `${loc.label}: "extends" loops back to itself (${[...chain, loc.path].join(' → ')})`,
    );
  const data = readJson(loc);
  validateCatalogFile(data, loc.label);
  const doc: CatalogFile = data;
  checkFile(doc, loc.label);
  if (loc.builtin !== undefined && doc.product !== loc.builtin)
    throw new CatalogError(
      `${loc.label}: product is "${doc.product}", expected "${loc.builtin}" (the file's name)`,
    );
  const product = doc.product ?? fileProduct(loc);
  const placed: PlacedRow[] = doc.rows.map((row, index) => ({
    row,
    origin: { file: loc.label, index },
    changes: [],
  }));
  if (doc.extends === undefined)
    return {
      // The schema requires product, title and roles when there is no "extends".
      product,
      title: doc.title ?? product,
      description: doc.description,
      sources: doc.sources ?? {},
      roles: doc.roles ?? {},
      groups: doc.groups ?? {},
      protocols: doc.protocols ?? {},
      mediaPorts: doc.mediaPorts ?? {},
      endpoints: doc.endpoints,
      roleAddresses: doc.roleAddresses ?? {},
      removed: [],
      rows: placed,
    };
  const base = loadMerged(doc.extends, dirname(loc.path), [...chain, loc.path]);
  const rows = applyRemovals(base, doc, loc.label, product);
  applyChanges(rows, base, doc, loc.label, product);
  for (const p of placed) {
    const at = rows.findIndex((r) => r.row.id === p.row.id);
    if (at >= 0) rows[at] = p;
    else rows.push(p);
  }
  return {
    product,
    title: doc.title ?? `${base.title} (${product})`,
    description: doc.description ?? base.description,
    extends: base.product,
    sources: { ...base.sources, ...doc.sources },
    roles: { ...base.roles, ...doc.roles },
    groups: { ...base.groups, ...doc.groups },
    protocols: { ...base.protocols, ...doc.protocols },
    mediaPorts: { ...base.mediaPorts, ...doc.mediaPorts },
    endpoints: doc.endpoints ?? base.endpoints,
    roleAddresses: { ...base.roleAddresses, ...doc.roleAddresses },
    removed: [...base.removed, ...removals(doc, product)],
    rows,
  };
}

function removals(doc: CatalogFile, product: string): PlacedRemoval[] {
  return (doc.removeRows ?? []).map((r) => (typeof r === 'string' ? { id: r, product } : { ...r, product }));
}

/** The base rows less the ones the file removes (each must be a row of the base). */
function applyRemovals(base: MergedCatalog, doc: CatalogFile, label: string, product: string): PlacedRow[] {
  const removed = new Set(removals(doc, product).map((r) => r.id));
  for (const id of removed)
    if (!base.rows.some((p) => p.row.id === id))
      throw new CatalogError(`${label}: removeRows: "${id}" is not a row of ${base.product}`);
  return base.rows.filter((p) => !removed.has(p.row.id));
}

/** Applies the file's changeRows in place: the fields given replace the base row's, and the change is recorded. */
function applyChanges(
  rows: PlacedRow[],
  base: MergedCatalog,
  doc: CatalogFile,
  label: string,
  product: string,
): void {
  (doc.changeRows ?? []).forEach((change, index) => {
    const at = rows.findIndex((r) => r.row.id === change.id);
    if (at < 0)
      throw new CatalogError(
        `${label}: changeRows[${index}]: "${change.id}" is not a row of ${base.product}`,
      );
    if (doc.rows.some((r) => r.id === change.id))
      throw new CatalogError(
        `${label}: changeRows[${index}]: "${change.id}" is also replaced whole in rows; do one or the other`,
      );
    const { id, summary, source, ...fields } = change;
    if (Object.keys(fields).length === 0)
      throw new CatalogError(`${label}: changeRows[${index}] (id "${id}"): changes no field`);
    const before = rows[at];
    rows[at] = {
      row: { ...before.row, ...fields },
      origin: { file: label, index: before.origin.index, change: index },
      changes: [...before.changes, { product, summary, source }],
    };
  });
}

function resolveSource(merged: MergedCatalog, ref: SourceRef): CatalogSource {
  const info = merged.sources[ref.ref];
  const out: CatalogSource = { ref: ref.ref, title: info.title };
  if (info.url !== undefined) out.url = info.url;
  if (ref.detail !== undefined) out.detail = ref.detail;
  return out;
}

function resolveDisagreement(merged: MergedCatalog, d: Disagreement<SourceRef>): Disagreement {
  return {
    texts: d.texts.map((t) => ({ source: resolveSource(merged, t.source), text: t.text })),
    chosen: d.chosen,
    why: d.why,
  };
}

function buildRow(merged: MergedCatalog, placed: PlacedRow): CatalogRow {
  const { row } = placed;
  const out: CatalogRow = {
    id: row.id,
    roles: [...row.roles],
    direction: row.direction,
    peers: [...row.peers],
    service: row.service,
    ports: row.ports,
    portRanges: rowPorts(placed),
    transport: row.transport,
    protocol: row.protocol,
    notes: row.notes,
    source: resolveSource(merged, row.source),
  };
  if (row.peersSource !== undefined) out.peersSource = resolveSource(merged, row.peersSource);
  if (row.optional !== undefined) out.optional = row.optional;
  if (row.media !== undefined) out.media = row.media;
  if (row.seed !== undefined) out.seed = { ...row.seed };
  if (row.corrected !== undefined)
    out.corrected = { summary: row.corrected.summary, source: resolveSource(merged, row.corrected.source) };
  if (row.disagreement !== undefined) out.disagreement = resolveDisagreement(merged, row.disagreement);
  // A file written by `catalog --format json` carries the changes of the chain it came from.
  const changes = [...(row.changes ?? []), ...placed.changes];
  if (changes.length > 0)
    out.changes = changes.map((c) => ({ ...c, source: resolveSource(merged, c.source) }));
  if (row.overridden !== undefined) out.overridden = { ...row.overridden };
  return out;
}

function buildRoleAddresses(merged: MergedCatalog): Record<string, RoleAddresses> {
  const out: Record<string, RoleAddresses> = {};
  for (const [role, info] of Object.entries(merged.roleAddresses)) {
    const { source, disagreement, ...rest } = info;
    out[role] = { ...rest, addresses: [...info.addresses], source: resolveSource(merged, source) };
    if (disagreement !== undefined) out[role].disagreement = resolveDisagreement(merged, disagreement);
  }
  return out;
}

function buildRemoved(merged: MergedCatalog): RemovedRow[] {
  return merged.removed.map((r) => {
    const out: RemovedRow = { id: r.id, product: r.product };
    if (r.summary !== undefined) out.summary = r.summary;
    if (r.source !== undefined) out.source = resolveSource(merged, r.source);
    if (r.disagreement !== undefined) out.disagreement = resolveDisagreement(merged, r.disagreement);
    return out;
  });
}

/**
 * Loads a catalog: a built-in product name (default lync2010) or the path of a catalog file.
 * Throws a CatalogError whose one-line message names the file, the row and the field at fault.
 */
export function loadCatalog(nameOrPath: string = DEFAULT_PRODUCT): Catalog {
  const merged = loadMerged(nameOrPath, undefined, []);
  checkReferences(merged, locateCatalog(nameOrPath, undefined).label);
  const mediaPorts: Partial<Record<MediaPortKey, MediaPortSetting>> = {};
  for (const [key, s] of Object.entries(merged.mediaPorts) as Array<
    [MediaPortKey, NonNullable<MergedCatalog['mediaPorts'][MediaPortKey]>]
  >)
    mediaPorts[key] = { ...s, source: resolveSource(merged, s.source) };
  const catalog: Catalog = {
    product: merged.product,
    title: merged.title,
    sources: merged.sources,
    roles: merged.roles,
    groups: merged.groups,
    protocols: merged.protocols,
    mediaPorts,
    roleAddresses: buildRoleAddresses(merged),
    removed: buildRemoved(merged),
    rows: merged.rows.map((p) => buildRow(merged, p)),
  };
  if (merged.endpoints !== undefined)
    catalog.endpoints = { ...merged.endpoints, source: resolveSource(merged, merged.endpoints.source) };
  if (merged.description !== undefined) catalog.description = merged.description;
  if (merged.extends !== undefined) catalog.extends = merged.extends;
  return catalog;
}
