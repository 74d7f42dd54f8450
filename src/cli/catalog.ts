/**
 * `lync-port-audit catalog`: which ports must be open, for a role or between two roles, from the
 * built-in port catalog or a user's catalog file, with media ranges overridden as configured.
 */
import { Option, type Command } from 'commander';
import {
  DEFAULT_PRODUCT,
  applyMediaPortOverrides,
  assertRole,
  hostRoles,
  listProducts,
  loadCatalog,
  parseMediaPortOverrides,
  rowsBetween,
  rowsForHost,
  type Catalog,
  type CatalogRow,
} from '../catalog/index.js';
import {
  renderCatalogCsv,
  renderCatalogJson,
  renderCatalogTable,
  type CatalogQuery,
  type CatalogView,
} from '../report/catalog.js';

interface CatalogOptions {
  product?: string;
  catalog?: string;
  role?: string;
  from?: string;
  to?: string;
  mediaPorts?: string[];
  format: 'table' | 'json' | 'csv';
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const HELP_AFTER = `
Rows: inbound rows are ports the role listens on; outbound rows are ports on the peer that the
role connects (or sends) to. --from A --to B lists A's outbound rows towards B and B's inbound
rows open to A. Rows the errata corrected (e.g. the seed's 65335 typo) are marked and keep the
seed's text in --format json.

Media ranges (--media-ports, repeatable): client-audio, client-video, client-app-sharing,
client-file-transfer, server-audio, server-video, server-app-sharing; each =FIRST-LAST or
=START+COUNT, as set with Set-CsConferencingConfiguration (clients) or Set-CsConferenceServer
(servers).

Examples:
  lync-port-audit catalog --role front-end
  lync-port-audit catalog --from client --to edge-external
  lync-port-audit catalog --role client --media-ports client-audio=50000+20 --format csv
  lync-port-audit catalog --catalog my-catalog.json --format json   (a file may "extends": "lync2010")`;

export function registerCatalog(program: Command): void {
  program
    .command('catalog')
    .description(
      'list the ports that must be open: every row, those for one role, or those between two roles',
    )
    .addOption(
      new Option('--product <name>', `built-in catalog (${listProducts().join(', ')})`).conflicts('catalog'),
    )
    .option('--catalog <file>', 'a catalog file (JSON, see catalog/catalog.schema.json) or a built-in name')
    .addOption(
      new Option('--role <role>', 'only the rows for this role (or group)').conflicts(['from', 'to']),
    )
    .option('--from <role>', 'rows for traffic from this role ... (with --to)')
    .option('--to <role>', '... to this role (with --from)')
    .option('--media-ports <key=range>', 'override a media port range (repeatable)', collect)
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .addHelpText('after', HELP_AFTER)
    .action(function (this: Command, opts: CatalogOptions) {
      if ((opts.from === undefined) !== (opts.to === undefined))
        this.error('error: --from and --to go together');
      process.stdout.write(runCatalog(opts));
    });
}

function selectRows(
  catalog: Catalog,
  opts: CatalogOptions,
): { query: CatalogQuery; rows: CatalogRow[]; carried?: string[] } {
  if (opts.role !== undefined) {
    assertRole(catalog, opts.role);
    return {
      query: { role: opts.role },
      rows: rowsForHost(catalog, [opts.role]),
      carried: hostRoles(catalog, [opts.role]).slice(1),
    };
  }
  if (opts.from !== undefined && opts.to !== undefined) {
    assertRole(catalog, opts.from);
    assertRole(catalog, opts.to);
    return { query: { from: opts.from, to: opts.to }, rows: rowsBetween(catalog, opts.from, opts.to) };
  }
  return { query: {}, rows: catalog.rows };
}

/** Everything the command prints; throws a CatalogError (exit 2) for a bad catalog, role or range. */
export function runCatalog(opts: CatalogOptions): string {
  let catalog = loadCatalog(opts.catalog ?? opts.product ?? DEFAULT_PRODUCT);
  if (opts.mediaPorts !== undefined)
    catalog = applyMediaPortOverrides(catalog, parseMediaPortOverrides(opts.mediaPorts));
  const { query, rows, carried } = selectRows(catalog, opts);
  const view: CatalogView = { catalog, query, rows, carriedRoles: carried };
  if (opts.format === 'json') return renderCatalogJson(view);
  if (opts.format === 'csv') return renderCatalogCsv(view);
  return renderCatalogTable(view, process.stdout.isTTY ? process.stdout.columns : 140);
}
