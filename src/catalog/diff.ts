/**
 * What changed between two catalogs (`catalog --diff A B`): rows matched by id, added, removed
 * (with the reason when B's chain of "extends" gives one) and changed field by field; roles
 * added and removed; published role addresses and the endpoints list version.
 */
import type { Catalog, CatalogRow, RemovedRow, RowChange } from './types.js';

/** The fields that change what a firewall must pass or what a flow is judged against. */
export const DIFF_FIELDS = [
  'roles',
  'direction',
  'peers',
  'service',
  'ports',
  'transport',
  'protocol',
  'optional',
  'media',
] as const;
export type DiffField = (typeof DIFF_FIELDS)[number];

export interface RowDiff {
  id: string;
  from: CatalogRow;
  to: CatalogRow;
  /** The fields that differ, with both values. */
  fields: Partial<Record<DiffField, { from: unknown; to: unknown }>>;
  /** True when only the notes or the source differ. */
  reworded: boolean;
  /** The changes B's extending files made to the row (the why). */
  changes: RowChange[];
}

export interface AddressDiff {
  role: string;
  added: string[];
  removed: string[];
}

export interface CatalogDiff {
  from: Catalog;
  to: Catalog;
  added: CatalogRow[];
  removed: Array<{ row: CatalogRow; why?: RemovedRow }>;
  changed: RowDiff[];
  /** Rows whose ports and peers are the same but whose notes or source are not. */
  reworded: RowDiff[];
  roles: { added: string[]; removed: string[] };
  addresses: AddressDiff[];
  endpoints?: { from?: string; to?: string };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function rowDiff(a: CatalogRow, b: CatalogRow): RowDiff {
  const fields: RowDiff['fields'] = {};
  for (const f of DIFF_FIELDS) if (!same(a[f], b[f])) fields[f] = { from: a[f], to: b[f] };
  const reworded = Object.keys(fields).length === 0 && (a.notes !== b.notes || !same(a.source, b.source));
  // The changes made after A: those B has that A has not.
  const before = a.changes?.length ?? 0;
  return { id: a.id, from: a, to: b, fields, reworded, changes: (b.changes ?? []).slice(before) };
}

export function diffCatalogs(a: Catalog, b: Catalog): CatalogDiff {
  const inA = new Map(a.rows.map((r) => [r.id, r]));
  const inB = new Map(b.rows.map((r) => [r.id, r]));
  const diffs = b.rows.filter((r) => inA.has(r.id)).map((r) => rowDiff(inA.get(r.id)!, r));
  const addresses: AddressDiff[] = [];
  for (const role of new Set([...Object.keys(a.roleAddresses), ...Object.keys(b.roleAddresses)])) {
    const x = a.roleAddresses[role]?.addresses ?? [];
    const y = b.roleAddresses[role]?.addresses ?? [];
    const d = { role, added: y.filter((v) => !x.includes(v)), removed: x.filter((v) => !y.includes(v)) };
    if (d.added.length > 0 || d.removed.length > 0) addresses.push(d);
  }
  const out: CatalogDiff = {
    from: a,
    to: b,
    added: b.rows.filter((r) => !inA.has(r.id)),
    removed: a.rows
      .filter((r) => !inB.has(r.id))
      .map((row) => {
        const why = b.removed.find((x) => x.id === row.id);
        return why === undefined ? { row } : { row, why };
      }),
    changed: diffs.filter((d) => Object.keys(d.fields).length > 0),
    reworded: diffs.filter((d) => d.reworded),
    roles: {
      added: Object.keys(b.roles).filter((r) => a.roles[r] === undefined),
      removed: Object.keys(a.roles).filter((r) => b.roles[r] === undefined),
    },
    addresses,
  };
  if (a.endpoints?.version !== b.endpoints?.version)
    out.endpoints = { from: a.endpoints?.version, to: b.endpoints?.version };
  return out;
}
