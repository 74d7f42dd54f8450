/**
 * The checks JSON Schema cannot express, each failing with one line that names the file, the row
 * (index and id) and the field: port bounds and range order, unique row ids, and references to
 * roles, groups, sources and protocol labels (which may live in an extended catalog).
 */
import { isIP } from 'node:net';
import { CatalogError } from './errors.js';
import { parsePorts, type PortRange } from './ports.js';
import { rowLabel } from './schema.js';
import {
  ANY_PEER,
  type CatalogFile,
  type CatalogFileRow,
  type Disagreement,
  type EndpointsList,
  type MediaPortKey,
  type ProtocolInfo,
  type RemovedRow,
  type RoleAddresses,
  type RoleInfo,
  type RowChange,
  type SourceInfo,
  type SourceRef,
} from './types.js';

/** Where a row came from, for messages: the file and its index in that file's `rows`. */
export interface RowOrigin {
  file: string;
  index: number;
  /** When an extending file changed the row: the index of that change in its changeRows. */
  change?: number;
}

export interface PlacedRow {
  row: CatalogFileRow;
  origin: RowOrigin;
  /** The changes extending files made to it (already applied to `row`), oldest first. */
  changes: Array<RowChange<SourceRef>>;
}

/** A removal as the merge keeps it, before its source is resolved. */
export type PlacedRemoval = Omit<RemovedRow, 'source' | 'disagreement'> & {
  source?: SourceRef;
  disagreement?: Disagreement<SourceRef>;
};

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
  endpoints?: EndpointsList<SourceRef>;
  roleAddresses: Record<string, RoleAddresses<SourceRef>>;
  removed: PlacedRemoval[];
  rows: PlacedRow[];
}

export function rowError(origin: RowOrigin, id: string, field: string, message: string): CatalogError {
  const where =
    origin.change === undefined ? rowLabel(origin.index, id) : `changeRows[${origin.change}] (id "${id}")`;
  return new CatalogError(`${origin.file}: ${where}: ${field}: ${message}`);
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
  for (const field of ['removeRows', 'changeRows'] as const)
    if (doc[field] !== undefined && doc.extends === undefined)
      throw new CatalogError(
        `${file}: ${field}: only a catalog that "extends" another can ${field === 'removeRows' ? 'remove' : 'change'} rows`,
      );
  const touched = new Map<string, string>();
  const note = (id: string, where: string): void => {
    const before = touched.get(id);
    if (before !== undefined)
      throw new CatalogError(
        `${file}: ${where}: row "${id}" is also in ${before}; give each base row one change`,
      );
    touched.set(id, where);
  };
  (doc.removeRows ?? []).forEach((r, i) => note(typeof r === 'string' ? r : r.id, `removeRows[${i}]`));
  (doc.changeRows ?? []).forEach((c, i) => note(c.id, `changeRows[${i}]`));
}

/** An address or CIDR block as catalogs write them ("52.112.0.0/14", "2603:1063::/39"). */
function validAddress(text: string): boolean {
  const [addr, bits, extra] = text.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
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
  for (const name of [...Object.keys(c.roles), ...Object.keys(c.groups)])
    if (name === ANY_PEER)
      throw new CatalogError(
        `${file}: "${ANY_PEER}" is a reserved peer (every address); a role or group cannot be named so`,
      );
  const roleOrGroup = (name: string): boolean => c.roles[name] !== undefined || c.groups[name] !== undefined;
  const validRoles = `roles: ${known(c.roles)}; groups: ${known(c.groups)}`;
  const unknownSource = (ref: SourceRef | undefined): string | undefined =>
    ref !== undefined && c.sources[ref.ref] === undefined
      ? `unknown source "${ref.ref}"; sources: ${known(c.sources)}`
      : undefined;
  const disagreementSources = (d: Disagreement<SourceRef> | undefined): Array<[string, SourceRef]> =>
    (d?.texts ?? []).map((t, i): [string, SourceRef] => [`disagreement.texts[${i}].source.ref`, t.source]);
  for (const [role, info] of Object.entries(c.roleAddresses)) {
    if (c.roles[role] === undefined)
      throw new CatalogError(
        `${file}: roleAddresses.${role}: unknown role "${role}"; roles: ${known(c.roles)}`,
      );
    for (const [field, ref] of [
      ['source.ref', info.source],
      ...disagreementSources(info.disagreement),
    ] as Array<[string, SourceRef]>) {
      const bad = unknownSource(ref);
      if (bad !== undefined) throw new CatalogError(`${file}: roleAddresses.${role}.${field}: ${bad}`);
    }
    info.addresses.forEach((a, i) => {
      if (!validAddress(a))
        throw new CatalogError(
          `${file}: roleAddresses.${role}.addresses[${i}]: "${a}" is not an IPv4 or IPv6 address or CIDR block`,
        );
    });
  }
  if (c.endpoints !== undefined) {
    const bad = unknownSource(c.endpoints.source);
    if (bad !== undefined) throw new CatalogError(`${file}: endpoints.source.ref: ${bad}`);
  }
  for (const r of c.removed)
    for (const [field, ref] of [['source.ref', r.source], ...disagreementSources(r.disagreement)] as Array<
      [string, SourceRef | undefined]
    >) {
      const bad = unknownSource(ref);
      if (bad !== undefined) throw new CatalogError(`${file}: removeRows (id "${r.id}"): ${field}: ${bad}`);
    }
  const checkProtocols = Object.keys(c.protocols).length > 0;
  for (const { row, origin, changes } of c.rows) {
    for (const field of ['roles', 'peers'] as const)
      for (const name of row[field])
        if (!roleOrGroup(name) && !(field === 'peers' && name === ANY_PEER))
          throw rowError(origin, row.id, field, `unknown role "${name}"; ${validRoles}`);
    if (row.peers.includes(ANY_PEER) && row.peers.length > 1)
      throw rowError(
        origin,
        row.id,
        'peers',
        `"${ANY_PEER}" already stands for every address; list it alone or name the roles`,
      );
    const refs: Array<[string, SourceRef | undefined]> = [
      ['source.ref', row.source],
      ['corrected.source.ref', row.corrected?.source],
      ['peersSource.ref', row.peersSource],
      ...disagreementSources(row.disagreement),
      ...[...(row.changes ?? []), ...changes].map((ch, i): [string, SourceRef] => [
        `changes[${i}] (${ch.product}).source.ref`,
        ch.source,
      ]),
    ];
    for (const [field, ref] of refs) {
      const bad = unknownSource(ref);
      if (bad !== undefined) throw rowError(origin, row.id, field, bad);
    }
    if (checkProtocols && c.protocols[row.protocol] === undefined)
      throw rowError(
        origin,
        row.id,
        'protocol',
        `unknown protocol label "${row.protocol}"; labels: ${known(c.protocols)}`,
      );
  }
}
