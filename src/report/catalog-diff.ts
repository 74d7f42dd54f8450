/**
 * `catalog --diff A B`: what changed between two catalogs, as text (one line per row, the why
 * from the extending file where there is one) or as JSON (the same, with whole rows).
 */
import type { CatalogDiff, CatalogRow, RowDiff } from '../catalog/index.js';
import { escapeTerminal } from './escape.js';
import { toJson } from './json.js';
import { fileRow } from './catalog.js';

function rowLine(row: CatalogRow): string {
  const t = row.transport === 'both' ? 'tcp+udp' : row.transport;
  const dir = row.direction === 'inbound' ? 'in from' : 'out to';
  return `${row.roles.join(', ')} ${dir} ${row.peers.join(', ')}: ${t} ${row.ports} ${row.protocol} (${row.service})`;
}

function value(v: unknown): string {
  if (v === undefined) return '(none)';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function changeLine(d: RowDiff): string {
  const fields = Object.entries(d.fields)
    .map(([f, { from, to }]) => `${f} ${value(from)} -> ${value(to)}`)
    .join('; ');
  const why = d.changes.map((c) => `${c.product}: ${c.summary} [${c.source.ref}]`).join('; ');
  return `${d.id}: ${fields}${why !== '' ? `\n      why: ${why}` : ''}`;
}

export function renderDiffTable(diff: CatalogDiff): string {
  const { from, to } = diff;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const out = [
    escapeTerminal(
      `${from.title} (${from.product}) -> ${to.title} (${to.product}): ${plural(diff.added.length, 'row')} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.reworded.length} reworded.`,
    ),
  ];
  if (diff.endpoints !== undefined)
    out.push(
      `Endpoints list version: ${diff.endpoints.from ?? '(none)'} -> ${diff.endpoints.to ?? '(none)'}`,
    );
  const section = (title: string, lines: string[]): void => {
    if (lines.length === 0) return;
    // Text may come from a user's catalog file: escaped line by line (a "why" is a line of its own).
    out.push(
      '',
      `${title} (${lines.length}):`,
      ...lines.flatMap((l) => l.split('\n').map((part) => escapeTerminal(`  ${part}`))),
    );
  };
  section(
    `Added in ${to.product}`,
    diff.added.map((r) => `+ ${r.id}: ${rowLine(r)} [${r.source.ref}]`),
  );
  section(
    `Removed in ${to.product}`,
    diff.removed.map(
      ({ row, why }) =>
        `- ${row.id}: ${rowLine(row)}${why?.summary !== undefined ? `\n      why: ${why.product}: ${why.summary}${why.source !== undefined ? ` [${why.source.ref}]` : ''}` : ''}`,
    ),
  );
  section(
    'Changed',
    diff.changed.map((d) => `~ ${changeLine(d)}`),
  );
  section(
    'Reworded (notes or source only)',
    diff.reworded.map(
      (d) => `~ ${d.id}${d.changes.length > 0 ? `: ${d.changes.map((c) => c.summary).join('; ')}` : ''}`,
    ),
  );
  if (diff.roles.added.length > 0 || diff.roles.removed.length > 0)
    out.push(
      '',
      escapeTerminal(
        `Roles added: ${diff.roles.added.join(', ') || '(none)'}; removed: ${diff.roles.removed.join(', ') || '(none)'}`,
      ),
    );
  section(
    'Published addresses',
    diff.addresses.map(
      (a) => `${a.role}: ${[...a.added.map((x) => `+${x}`), ...a.removed.map((x) => `-${x}`)].join(' ')}`,
    ),
  );
  return out.join('\n') + '\n';
}

export function renderDiffJson(diff: CatalogDiff): string {
  const doc = {
    from: { product: diff.from.product, title: diff.from.title, endpoints: diff.from.endpoints?.version },
    to: { product: diff.to.product, title: diff.to.title, endpoints: diff.to.endpoints?.version },
    added: diff.added.map(fileRow),
    removed: diff.removed.map(({ row, why }) => ({
      row: fileRow(row),
      ...(why !== undefined
        ? { why: { product: why.product, summary: why.summary, source: why.source?.ref } }
        : {}),
    })),
    changed: diff.changed.map((d) => ({
      id: d.id,
      fields: d.fields,
      why: d.changes.map((c) => ({ product: c.product, summary: c.summary, source: c.source.ref })),
    })),
    reworded: diff.reworded.map((d) => d.id),
    roles: diff.roles,
    addresses: diff.addresses,
    ...(diff.endpoints !== undefined ? { endpoints: diff.endpoints } : {}),
  };
  return toJson(doc, 2) + '\n';
}
