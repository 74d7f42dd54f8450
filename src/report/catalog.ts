/**
 * Renders catalog rows for the `catalog` command: a terminal table (corrected rows marked, with a
 * legend), JSON (one document) and CSV (RFC 4180 quoting). Catalog text may come from a user's
 * file, so the table escapes control characters like any other rendered text.
 */
import { drawTable, type TableDrawer } from './draw-table.js';
import { escapeTerminal } from './escape.js';
import { toJson } from './json.js';
import type {
  Catalog,
  CatalogFile,
  CatalogFileRow,
  CatalogSource,
  Disagreement,
  MediaPortKey,
  RoleAddresses,
  SourceRef,
} from '../catalog/index.js';
import { mediaScope, type CatalogRow } from '../catalog/index.js';
import type { FirewallPlan } from './firewall.js';

/**
 * What the rows were selected for, as the output reports it: one role, the traffic from one role
 * to another (and back, with bothWays), or every row.
 */
export type CatalogQuery =
  { role: string } | { from: string; to: string; bothWays?: boolean } | Record<string, never>;

export interface CatalogView {
  catalog: Catalog;
  query: CatalogQuery;
  rows: CatalogRow[];
  /** Roles a host with the queried role carries too (shown in the heading). */
  carriedRoles?: string[];
  /** The table without the notes: the service and the row id only. */
  brief?: boolean;
}

/** A resolved citation back in the form a catalog file writes it. */
function refOf(source: CatalogSource): SourceRef {
  return source.detail !== undefined ? { ref: source.ref, detail: source.detail } : { ref: source.ref };
}

function disagreementOf(d: Disagreement): Disagreement<SourceRef> {
  return {
    texts: d.texts.map((x) => ({ source: refOf(x.source), text: x.text })),
    chosen: d.chosen,
    why: d.why,
  };
}

/** A row as a catalog file writes it (the loader reads it back as the same row). */
export function fileRow(row: CatalogRow): CatalogFileRow {
  const out: CatalogFileRow = {
    id: row.id,
    roles: row.roles,
    direction: row.direction,
    peers: row.peers,
    service: row.service,
    ports: row.ports,
    transport: row.transport,
    protocol: row.protocol,
    notes: row.notes,
    source: refOf(row.source),
  };
  if (row.peersSource !== undefined) out.peersSource = refOf(row.peersSource);
  if (row.optional !== undefined) out.optional = row.optional;
  if (row.media !== undefined) out.media = row.media;
  if (row.seed !== undefined) out.seed = row.seed;
  if (row.corrected !== undefined)
    out.corrected = { summary: row.corrected.summary, source: refOf(row.corrected.source) };
  if (row.disagreement !== undefined) out.disagreement = disagreementOf(row.disagreement);
  if (row.changes !== undefined)
    out.changes = row.changes.map((c) => ({
      product: c.product,
      summary: c.summary,
      source: refOf(c.source),
    }));
  if (row.overridden !== undefined) out.overridden = row.overridden;
  return out;
}

/**
 * JSON: a complete, self-contained catalog file (every source, role, group and protocol of the
 * catalog, its "extends" chain resolved) holding the selected rows, so that the output can be
 * given back with --catalog. `generated` says which catalog and which question it came from.
 */
export function renderCatalogJson(view: CatalogView, generatedBy: string): string {
  const c = view.catalog;
  const doc: CatalogFile = {
    generated: {
      by: generatedBy,
      from: c.extends !== undefined ? `${c.product} (extends ${c.extends})` : c.product,
      query: view.query,
      ...(view.rows.some((r) => r.overridden !== undefined)
        ? {
            mediaPorts: Object.fromEntries(
              view.rows.filter((r) => r.overridden).map((r) => [r.overridden!.setting, r.ports]),
            ),
          }
        : {}),
    },
    product: c.product,
    title: c.title,
    ...(c.description !== undefined ? { description: c.description } : {}),
    sources: c.sources,
    roles: c.roles,
    groups: c.groups,
    protocols: c.protocols,
    mediaPorts: Object.fromEntries(
      Object.entries(c.mediaPorts).map(([k, s]) => [k, { ...s, source: refOf(s.source) }]),
    ),
    ...(c.endpoints !== undefined
      ? { endpoints: { ...c.endpoints, source: refOf(c.endpoints.source) } }
      : {}),
    roleAddresses: Object.fromEntries(
      Object.entries(c.roleAddresses).map(([role, a]): [string, RoleAddresses<SourceRef>] => {
        const { source, disagreement, ...rest } = a;
        return [
          role,
          {
            ...rest,
            source: refOf(source),
            ...(disagreement !== undefined ? { disagreement: disagreementOf(disagreement) } : {}),
          },
        ];
      }),
    ),
    rows: view.rows.map(fileRow),
  };
  return toJson(doc, 2) + '\n';
}

const CSV_COLUMNS = [
  'id',
  'roles',
  'direction',
  'peers',
  'service',
  'ports',
  'transport',
  'protocol',
  'optional',
  'media',
  'corrected',
  'seed_ports',
  'overridden_from',
  'notes',
  'source',
  'source_url',
  'from_roles',
  'from_addresses',
  'to_roles',
  'to_addresses',
] as const;

/** RFC 4180 §2: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The two sides of a row's rules, and their addresses ("any"; empty where none is known). */
function sides(
  plan: FirewallPlan,
  rowId: string,
): Record<'from_roles' | 'from_addresses' | 'to_roles' | 'to_addresses', string> {
  const rules = plan.rules.filter((r) => r.row.id === rowId);
  const side = (pick: 'from' | 'to'): [string, string] => {
    const roles = [...new Set(rules.map((r) => r[pick]))];
    if (roles.includes('any')) return [roles.join(' '), 'any'];
    const addresses = roles.flatMap((role) => {
      const s = plan.sets.get(role);
      return s === undefined ? [] : [...s.v4, ...s.v6];
    });
    return [roles.join(' '), [...new Set(addresses)].join(' ')];
  };
  const [fromRoles, fromAddresses] = side('from');
  const [toRoles, toAddresses] = side('to');
  return {
    from_roles: fromRoles,
    from_addresses: fromAddresses,
    to_roles: toRoles,
    to_addresses: toAddresses,
  };
}

/**
 * CSV, one record per row: the row's fields, then the firewall rule it makes: which roles open
 * the traffic and which receive it, with their addresses (from the topology or the catalog).
 */
export function renderCatalogCsv(view: CatalogView, plan: FirewallPlan): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of view.rows) {
    const source =
      row.source.detail !== undefined ? `${row.source.ref}: ${row.source.detail}` : row.source.ref;
    const values: Record<(typeof CSV_COLUMNS)[number], string> = {
      id: row.id,
      roles: row.roles.join(' '),
      direction: row.direction,
      peers: (row.peers ?? []).join(' '),
      service: row.service,
      ports: row.ports,
      transport: row.transport,
      protocol: row.protocol,
      optional: row.optional === true ? 'yes' : '',
      media: row.media ?? '',
      corrected: row.corrected?.summary ?? '',
      seed_ports: row.seed?.ports ?? '',
      overridden_from: row.overridden?.was ?? '',
      notes: row.notes,
      source,
      source_url: row.source.url ?? '',
      ...sides(plan, row.id),
    };
    lines.push(CSV_COLUMNS.map((c) => csvField(values[c])).join(','));
  }
  return lines.join('\n') + '\n';
}

function heading(view: CatalogView): string {
  const { catalog, query, rows } = view;
  const n = `${rows.length} row${rows.length === 1 ? '' : 's'}`;
  const name = `${catalog.title} (${catalog.product}${catalog.extends !== undefined ? `, extends ${catalog.extends}` : ''})`;
  if ('role' in query) {
    const info = catalog.roles[query.role];
    const what = info?.description ?? `group of ${(catalog.groups[query.role] ?? []).join(', ')}`;
    const carried =
      view.carriedRoles !== undefined && view.carriedRoles.length > 0
        ? ` (with ${view.carriedRoles.join(', ')}, which such a host also carries)`
        : '';
    return `${name}: ports for role ${query.role}${carried}, ${n}.\n${query.role}: ${escapeTerminal(what)}`;
  }
  const endpoints =
    catalog.endpoints !== undefined
      ? `\nAddresses: ${escapeTerminal(catalog.endpoints.list)}, version ${escapeTerminal(catalog.endpoints.version)}.`
      : '';
  if ('from' in query)
    return `${name}: ports that must be open from ${query.from} to ${query.to}${query.bothWays === true ? ' and back' : ''}, ${n}.${endpoints}`;
  return `${name}: every required port, ${n}.${endpoints}`;
}

function directionCell(row: CatalogRow): string {
  const peers =
    row.peers !== undefined ? ` ${row.direction === 'inbound' ? 'from' : 'to'} ${row.peers.join(', ')}` : '';
  return `${row.direction === 'inbound' ? 'in' : 'out'}${peers}`;
}

/** "tcp 5061", "tcp+udp 57501-65535 *": transport, ports as written, and the row's marks. */
function portCell(row: CatalogRow): string {
  const transport = row.transport === 'both' ? 'tcp+udp' : row.transport;
  const marks = `${row.corrected !== undefined ? ' *' : ''}${row.overridden !== undefined ? ' †' : ''}${row.disagreement !== undefined ? ' ‡' : ''}`;
  return `${transport} ${row.ports}${marks}`;
}

function briefCell(row: CatalogRow): string {
  return escapeTerminal(`${row.optional === true ? '(optional) ' : ''}${row.service} [${row.id}]`);
}

function notesCell(row: CatalogRow): string {
  const text = `${row.optional === true ? '(optional) ' : ''}${row.service}: ${row.notes}`;
  return `${escapeTerminal(text)}\n[${escapeTerminal(row.id)}; source ${escapeTerminal(row.source.ref)}]`;
}

/** A column as wide as its widest cell (up to `max`), plus cli-table3's padding. */
function fit(cells: string[], max: number): number {
  return Math.min(max, Math.max(...cells.map((c) => c.length))) + 2;
}

/**
 * The readable terminal table, with the legend, the corrections and the sources below it; `draw`
 * is for the tests, which hold the drawing to cli-table3's (report/draw-table.ts).
 */
export function renderCatalogTable(view: CatalogView, width = 140, draw: TableDrawer = drawTable): string {
  const { catalog, rows } = view;
  const out = [heading(view), ''];
  if (rows.length === 0) {
    out.push('No catalog row matches.');
    return out.join('\n') + '\n';
  }
  const columns = [
    ['Role', ...rows.map((r) => escapeTerminal(r.roles.join(', ')))],
    ['Direction', ...rows.map(directionCell)],
    ['Port', ...rows.map(portCell)],
    ['Protocol', ...rows.map((r) => escapeTerminal(r.protocol))],
  ];
  const widths = columns.map((c) => fit(c, 24));
  const rest = Math.max(32, width - widths.reduce((a, b) => a + b, 0) - (widths.length + 2));
  const head = [...columns.map((c) => c[0]), view.brief === true ? 'Service [row]' : 'Service: notes'];
  const cells = rows.map((row, i) => [
    ...columns.map((c) => c[i + 1]),
    view.brief === true ? briefCell(row) : notesCell(row),
  ]);
  // Wrapped as cli-table3's wordWrap does (report/draw-table.ts): ~1 s of CPU for 82 rows with it.
  out.push(draw([head, ...cells], [...widths, rest], true), '');
  out.push('in: the role listens on the ports; out: the role connects (or sends) to the ports on the peer.');
  const corrected = rows.filter((r) => r.corrected !== undefined);
  if (corrected.length > 0) {
    out.push('* corrected from the seed table (the seed text is kept in --format json):');
    for (const r of corrected)
      out.push(
        `    ${r.id}: ${escapeTerminal(r.corrected?.summary ?? '')} (${r.corrected?.source.ref ?? ''})`,
      );
  }
  const disagreeing = rows.filter((r) => r.disagreement !== undefined);
  if (disagreeing.length > 0) {
    out.push('‡ the sources disagree (both texts are kept in --format json); the row follows:');
    for (const r of disagreeing)
      out.push(
        `    ${r.id}: ${escapeTerminal(r.disagreement?.chosen ?? '')}. ${escapeTerminal(r.disagreement?.why ?? '')}`,
      );
  }
  const changed = rows.filter((r) => r.changes !== undefined && r.changes.length > 0);
  if (changed.length > 0) {
    out.push(`Changed by the catalogs ${catalog.product} extends:`);
    for (const r of changed)
      for (const c of r.changes ?? [])
        out.push(
          `    ${r.id} (${c.product}): ${escapeTerminal(c.summary)} (${escapeTerminal(c.source.ref)})`,
        );
  }
  const overridden = rows.filter((r) => r.overridden !== undefined);
  if (overridden.length > 0) {
    out.push('† media range set by --media-ports:');
    for (const r of overridden)
      out.push(`    ${r.id}: ${r.overridden?.setting} ${r.ports} (catalog: ${r.overridden?.was})`);
  }
  const keys = [
    ...new Set(
      rows.flatMap((r) => {
        const scope = mediaScope(catalog, r);
        return scope === undefined || r.media === undefined ? [] : [`${scope}-${r.media}` as MediaPortKey];
      }),
    ),
  ];
  if (keys.length > 0) {
    out.push('Media ranges administrators change (--media-ports KEY=FIRST-LAST or KEY=START+COUNT):');
    for (const key of keys) {
      const s = catalog.mediaPorts[key];
      const detail =
        s === undefined
          ? ''
          : ` ${s.setting}${s.whenEnabled !== undefined ? `; ${s.whenEnabled} once enabled` : ''}`;
      out.push(`    ${key}:${escapeTerminal(detail)}`);
    }
  }
  const refs = [
    ...new Set(
      rows.flatMap((r) => [
        r.source.ref,
        ...(r.corrected ? [r.corrected.source.ref] : []),
        ...(r.peersSource ? [r.peersSource.ref] : []),
        ...(r.disagreement?.texts.map((x) => x.source.ref) ?? []),
        ...(r.changes?.map((c) => c.source.ref) ?? []),
      ]),
    ),
  ];
  out.push('Sources:');
  for (const ref of refs) {
    const s = catalog.sources[ref];
    out.push(`    ${ref}: ${escapeTerminal(s?.url ?? s?.title ?? '')}`);
  }
  return out.join('\n') + '\n';
}
