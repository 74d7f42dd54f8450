/**
 * Role vocabulary: roles, groups ("internal-servers" stands for its member roles) and roles a
 * host always carries with another (a cms host is a front-end too). rowsForRole answers per role;
 * rowsForHost answers for a host that carries several roles.
 */
import { CatalogError } from './errors.js';
import { ANY_PEER, type Catalog, type CatalogRow } from './types.js';

export function isKnownRole(catalog: Catalog, role: string): boolean {
  return catalog.roles[role] !== undefined || catalog.groups[role] !== undefined;
}

/** "roles: a, b, ...; groups: g (= a, b)": for messages that list what is valid. */
export function describeRoles(catalog: Catalog): string {
  const groups = Object.entries(catalog.groups).map(([g, m]) => `${g} (= ${m.join(', ')})`);
  return `roles: ${Object.keys(catalog.roles).join(', ')}${groups.length > 0 ? `; groups: ${groups.join(', ')}` : ''}`;
}

/** Throws a CatalogError listing the valid roles and groups unless `role` is one of them. */
export function assertRole(catalog: Catalog, role: string): void {
  if (!isKnownRole(catalog, role))
    throw new CatalogError(`unknown role "${role}" in ${catalog.product}; valid ${describeRoles(catalog)}`);
}

/** A host's roles with the ones they imply (alsoCarries, followed transitively), in a stable order. */
export function hostRoles(catalog: Catalog, roles: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (r: string): void => {
    if (out.includes(r)) return;
    out.push(r);
    for (const other of catalog.roles[r]?.alsoCarries ?? []) visit(other);
  };
  roles.forEach(visit);
  return out;
}

/** The concrete roles a role or group name stands for. */
function concrete(catalog: Catalog, name: string): string[] {
  return catalog.groups[name] ?? [name];
}

/**
 * Whether a row's role list (or peer list) covers any of `roles` (groups expanded on both sides).
 * A peer list of "any" covers every role.
 */
export function coversAny(catalog: Catalog, listed: readonly string[], roles: readonly string[]): boolean {
  if (listed.includes(ANY_PEER)) return true;
  const wanted = new Set(roles.flatMap((r) => concrete(catalog, r)));
  for (const name of listed) {
    if (wanted.has(name)) return true;
    for (const member of concrete(catalog, name)) if (wanted.has(member)) return true;
  }
  return false;
}

const cache = new WeakMap<Catalog, Map<string, CatalogRow[]>>();

/**
 * The rows that apply to `role` (a role or a group), in catalog order: rows that name it, or a
 * group it belongs to (a group name stands for all its members). Unknown roles have no rows.
 * Roles a host carries along (alsoCarries) are not added: use rowsForHost for that.
 */
export function rowsForRole(catalog: Catalog, role: string): CatalogRow[] {
  let byRole = cache.get(catalog);
  if (byRole === undefined) {
    byRole = new Map();
    cache.set(catalog, byRole);
  }
  let rows = byRole.get(role);
  if (rows === undefined) {
    rows = isKnownRole(catalog, role)
      ? catalog.rows.filter((row) => coversAny(catalog, row.roles, [role]))
      : [];
    byRole.set(role, rows);
  }
  return rows;
}

/** The rows for a host carrying `roles` and the roles they imply, each row once, in catalog order. */
export function rowsForHost(catalog: Catalog, roles: readonly string[]): CatalogRow[] {
  const all = hostRoles(catalog, roles);
  return catalog.rows.filter((row) => coversAny(catalog, row.roles, all));
}
