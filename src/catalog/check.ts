/**
 * The checks JSON Schema cannot express, each failing with one line that names the file, the row
 * (index and id) and the field: port bounds and range order, unique row ids, and references to
 * roles, groups, sources and protocol labels (which may live in an extended catalog).
 */
import { CatalogError } from './errors.js';
import { parsePorts, type PortRange } from './ports.js';
import { rowLabel } from './schema.js';
import type {
  CatalogFile,
  CatalogFileRow,
  MediaPortKey,
  ProtocolInfo,
  RoleInfo,
  SourceInfo,
} from './types.js';

/** Where a row came from, for messages: the file and its index in that file's `rows`. */
export interface RowOrigin {
  file: string;
  index: number;
}

export interface PlacedRow {
  row: CatalogFileRow;
  origin: RowOrigin;
}

/** A catalog after `extends` is resolved, before rows are parsed. */
export interface MergedCatalog {
  product: string;
  title: string;
  description?: string;
  extends?: string;
  sources: Record<string, SourceInfo>;
  roles: Record<string, RoleInfo>;
  groups: Record<string, string[]>;
  protocols: Record<string, ProtocolInfo>;
  mediaPorts: NonNullable<CatalogFile['mediaPorts']>;
  rows: PlacedRow[];
}

export function rowError(origin: RowOrigin, id: string, field: string, message: string): CatalogError {
  return new CatalogError(`${origin.file}: ${rowLabel(origin.index, id)}: ${field}: ${message}`);
}

/** Per file: row ids are unique (an extending file may reuse a base id: that replaces the base row), removeRows only with extends. */
export function checkFile(doc: CatalogFile, file: string): void {
  const seen = new Map<string, number>();
  doc.rows.forEach((row, index) => {
    const first = seen.get(row.id);
    if (first !== undefined)
      throw rowError({ file, index }, row.id, 'id', `duplicate id; rows[${first}] has the same id`);
    seen.set(row.id, index);
  });
  if (doc.removeRows !== undefined && doc.extends === undefined)
    throw new CatalogError(`${file}: removeRows: only a catalog that "extends" another can remove rows`);
}

/** Parses a row's ports, naming the row on failure. */
export function rowPorts(placed: PlacedRow): PortRange[] {
  try {
    return parsePorts(placed.row.ports);
  } catch (err) {
    if (err instanceof CatalogError) throw rowError(placed.origin, placed.row.id, 'ports', err.message);
    throw err;
  }
}

function known(names: Record<string, unknown>): string {
  const list = Object.keys(names);
  return list.length === 0 ? '(none defined)' : list.join(', ');
}

/** Every role, group, source and protocol a row (or a group, role or media setting) names exists. */
export function checkReferences(c: MergedCatalog, file: string): void {
  for (const [group, members] of Object.entries(c.groups)) {
    if (c.roles[group] !== undefined)
      throw new CatalogError(`${file}: groups.${group}: "${group}" is both a role and a group`);
    for (const m of members)
      if (c.roles[m] === undefined)
        throw new CatalogError(`${file}: groups.${group}: unknown role "${m}"; roles: ${known(c.roles)}`);
  }
  for (const [role, info] of Object.entries(c.roles))
    for (const other of info.alsoCarries ?? [])
      if (c.roles[other] === undefined)
        throw new CatalogError(
          `${file}: roles.${role}.alsoCarries: unknown role "${other}"; roles: ${known(c.roles)}`,
        );
  for (const [key, setting] of Object.entries(c.mediaPorts) as Array<
    [MediaPortKey, { source: { ref: string } }]
  >)
    if (c.sources[setting.source.ref] === undefined)
      throw new CatalogError(
        `${file}: mediaPorts.${key}.source.ref: unknown source "${setting.source.ref}"; sources: ${known(c.sources)}`,
      );
  const roleOrGroup = (name: string): boolean => c.roles[name] !== undefined || c.groups[name] !== undefined;
  const validRoles = `roles: ${known(c.roles)}; groups: ${known(c.groups)}`;
  const checkProtocols = Object.keys(c.protocols).length > 0;
  for (const { row, origin } of c.rows) {
    for (const field of ['roles', 'peers'] as const)
      for (const name of row[field] ?? [])
        if (!roleOrGroup(name))
          throw rowError(origin, row.id, field, `unknown role "${name}"; ${validRoles}`);
    if (c.sources[row.source.ref] === undefined)
      throw rowError(
        origin,
        row.id,
        'source.ref',
        `unknown source "${row.source.ref}"; sources: ${known(c.sources)}`,
      );
    if (row.corrected !== undefined && c.sources[row.corrected.source.ref] === undefined)
      throw rowError(
        origin,
        row.id,
        'corrected.source.ref',
        `unknown source "${row.corrected.source.ref}"; sources: ${known(c.sources)}`,
      );
    if (checkProtocols && c.protocols[row.protocol] === undefined)
      throw rowError(
        origin,
        row.id,
        'protocol',
        `unknown protocol label "${row.protocol}"; labels: ${known(c.protocols)}`,
      );
  }
}
