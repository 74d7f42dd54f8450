/**
 * Loading a catalog: a built-in one by product name (catalog/<product>.json) or a user file
 * (`--catalog FILE`), which may extend another with "extends" (a product name or a path relative
 * to the file). Every file is checked against the schema, then the merged catalog's references;
 * any problem is one CatalogError line naming the file, the row and the field.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkFile, checkReferences, rowPorts, type MergedCatalog, type PlacedRow } from './check.js';
import { CatalogError } from './errors.js';
import { validateCatalogFile } from './schema.js';
import type {
  Catalog,
  CatalogFile,
  CatalogRow,
  CatalogSource,
  MediaPortKey,
  MediaPortSetting,
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
  const placed: PlacedRow[] = doc.rows.map((row, index) => ({ row, origin: { file: loc.label, index } }));
  if (doc.extends === undefined)
    return {
      // The schema requires product, title and roles when there is no "extends".
      product: doc.product ?? fileProduct(loc),
      title: doc.title ?? fileProduct(loc),
      description: doc.description,
      sources: doc.sources ?? {},
      roles: doc.roles ?? {},
      groups: doc.groups ?? {},
      protocols: doc.protocols ?? {},
      mediaPorts: doc.mediaPorts ?? {},
      rows: placed,
    };
  const base = loadMerged(doc.extends, dirname(loc.path), [...chain, loc.path]);
  const removed = new Set(doc.removeRows ?? []);
  for (const id of removed)
    if (!base.rows.some((p) => p.row.id === id))
      throw new CatalogError(`${loc.label}: removeRows: "${id}" is not a row of ${base.product}`);
  const rows = base.rows.filter((p) => !removed.has(p.row.id));
  for (const p of placed) {
    const at = rows.findIndex((r) => r.row.id === p.row.id);
    if (at >= 0) rows[at] = p;
    else rows.push(p);
  }
  return {
    product: doc.product ?? fileProduct(loc),
    title: doc.title ?? `${base.title} (${fileProduct(loc)})`,
    description: doc.description ?? base.description,
    extends: base.product,
    sources: { ...base.sources, ...doc.sources },
    roles: { ...base.roles, ...doc.roles },
    groups: { ...base.groups, ...doc.groups },
    protocols: { ...base.protocols, ...doc.protocols },
    mediaPorts: { ...base.mediaPorts, ...doc.mediaPorts },
    rows,
  };
}

function resolveSource(merged: MergedCatalog, ref: SourceRef): CatalogSource {
  const info = merged.sources[ref.ref];
  const out: CatalogSource = { ref: ref.ref, title: info.title };
  if (info.url !== undefined) out.url = info.url;
  if (ref.detail !== undefined) out.detail = ref.detail;
  return out;
}

function buildRow(merged: MergedCatalog, placed: PlacedRow): CatalogRow {
  const { row } = placed;
  const out: CatalogRow = {
    id: row.id,
    roles: [...row.roles],
    direction: row.direction,
    service: row.service,
    ports: row.ports,
    portRanges: rowPorts(placed),
    transport: row.transport,
    protocol: row.protocol,
    notes: row.notes,
    source: resolveSource(merged, row.source),
  };
  if (row.peers !== undefined) out.peers = [...row.peers];
  if (row.optional !== undefined) out.optional = row.optional;
  if (row.media !== undefined) out.media = row.media;
  if (row.seed !== undefined) out.seed = { ...row.seed };
  if (row.corrected !== undefined)
    out.corrected = { summary: row.corrected.summary, source: resolveSource(merged, row.corrected.source) };
  return out;
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
    rows: merged.rows.map((p) => buildRow(merged, p)),
  };
  if (merged.description !== undefined) catalog.description = merged.description;
  if (merged.extends !== undefined) catalog.extends = merged.extends;
  return catalog;
}
