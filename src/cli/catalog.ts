/**
 * `lync-port-audit catalog`: which ports must be open, for a role or between two roles, from a
 * built-in catalog or a user's catalog file, with media ranges overridden as configured; as a
 * table, a catalog file (JSON), CSV, or firewall rules (nftables, iptables, Windows Firewall)
 * with the addresses of a topology. `--diff A B` shows what changed between two catalogs.
 */
import { Option, type Command } from 'commander';
import {
  applyMediaPortOverrides,
  assertRole,
  CatalogError,
  diffCatalogs,
  hostRoles,
  loadCatalog,
  parseMediaPortOverrides,
  rowsBetween,
  rowsForHost,
  type Catalog,
  type CatalogRow,
} from '../catalog/index.js';
import {
  emptyTopology,
  loadTopologyFile,
  mergeTopologies,
  topologyFromRoleOptions,
  TopologyError,
  type Topology,
} from '../topology/topology.js';
import {
  renderCatalogCsv,
  renderCatalogJson,
  renderCatalogTable,
  type CatalogQuery,
  type CatalogView,
} from '../report/catalog.js';
import { renderDiffJson, renderDiffTable } from '../report/catalog-diff.js';
import { planFirewall } from '../report/firewall.js';
import { renderIptables } from '../report/firewall-iptables.js';
import { renderNftables } from '../report/firewall-nftables.js';
import { renderWindowsFirewall } from '../report/firewall-windows.js';
import { addCatalogOptions, catalogSpec, type CatalogChoice } from './catalog-options.js';
import { packageVersion } from './version.js';
import { exitStatusHelp, sayLine, startRun } from './run.js';
import { OutputError } from '../report/output-file.js';

const FORMATS = ['table', 'json', 'csv', 'nftables', 'iptables', 'ip6tables', 'windows-firewall'] as const;
type Format = (typeof FORMATS)[number];

interface CatalogOptions extends CatalogChoice {
  /** A role to list (no "="), and/or ROLE=ADDR[,ADDR...] addresses (repeatable). */
  role?: string[];
  from?: string;
  to?: string;
  bothWays?: boolean;
  topology?: string;
  mediaPorts?: string[];
  diff?: string[];
  brief?: boolean;
  format: Format;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const HELP_AFTER = `
Rows: inbound rows are ports the role listens on; outbound rows are ports on the peer that the
role connects (or sends) to. Every row names its peers (roles, groups, or "any"). --from A --to B
lists A's outbound rows towards B and B's inbound rows open to A: what a firewall between A and B
must pass (--both-ways adds the rows from B to A). Rows the errata corrected are marked * and keep
the seed's text; rows whose sources disagree are marked ‡ and keep both texts in --format json.

Firewall rules (--format nftables, iptables, ip6tables, windows-firewall, csv): with --topology FILE
or --role ROLE=ADDR the rules carry those addresses (a host with cms carries front-end too);
roles the topology does not place use the catalog's published addresses (Microsoft 365 in teams)
or a named set (ipset, PowerShell variable) you fill in. Each rule's comment names its row.

--role takes a role to list (--role front-end) and, with "=", addresses (--role front-end=10.0.0.10).
--format json prints a catalog file: give it back with --catalog (it reads the same rows).

Media ranges (--media-ports, repeatable): client-audio, client-video, client-app-sharing,
client-file-transfer, server-audio, server-video, server-app-sharing; each =FIRST-LAST or
=START+COUNT, as set with Set-CsConferencingConfiguration (clients) or Set-CsConferenceServer
(servers). They change the rows and the rules alike.

Examples:
  lync-port-audit catalog --product sfb2019 --role front-end
  lync-port-audit catalog --from client --to front-end --brief
  lync-port-audit catalog --from client --to front-end --both-ways --topology topology.json --format nftables
  lync-port-audit catalog --product teams --from sbc --to dr-sip-proxy --format iptables
  lync-port-audit catalog --role edge-internal --role edge-internal=172.25.33.10 --format windows-firewall
  lync-port-audit catalog --role client --media-ports client-audio=50000+20 --format csv
  lync-port-audit catalog --diff lync2010 sfb2019
  lync-port-audit catalog --catalog my-catalog.json --format json   (a file may "extends": "lync2010")`;

export function registerCatalog(program: Command): void {
  const cmd = program
    .command('catalog')
    .description(
      'list the ports that must be open (every row, one role, or between two roles), as a table, a catalog file, CSV or firewall rules; or compare two catalogs',
    );
  addCatalogOptions(cmd)
    .option(
      '--role <role|role=addr>',
      'the rows for this role (or group); with "=", addresses (repeatable)',
      collect,
    )
    .option('--from <role>', 'rows for traffic from this role ... (with --to)')
    .option('--to <role>', '... to this role (with --from)')
    .option('--both-ways', 'with --from/--to: also the rows for traffic from --to to --from')
    .option(
      '-t, --topology <file>',
      'addresses for the firewall rules: {"roles": {"front-end": ["10.0.0.10"]}}',
    )
    .option('--media-ports <key=range>', 'override a media port range (repeatable)', collect)
    .option(
      '--diff <catalogs...>',
      'what changed between two catalogs (names or files): --diff lync2010 sfb2019',
    )
    .option('--brief', 'the table without the notes: role, direction, port, protocol, service and row id')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .addHelpText('after', HELP_AFTER + '\n' + exitStatusHelp(false))
    .action(async function (this: Command, opts: CatalogOptions) {
      const text = runCatalog(opts, (message) => this.error(`error: ${message}`));
      process.exitCode = await printCatalog(text);
    });
}

/** Standard output, as every command writes it: a closed pipe is quiet, a failed write one line. */
async function printCatalog(text: string): Promise<number> {
  const run = startRun();
  try {
    const output = run.openOutput(undefined);
    output.write(text);
    await output.close();
    return run.finish(0);
  } catch (err) {
    run.finish(0);
    if (!(err instanceof OutputError)) throw err;
    sayLine(`lync-port-audit: ${err.message}`);
    return 2;
  }
}

function splitRoleOptions(values: readonly string[]): { select?: string; addresses: string[] } {
  const select = values.filter((v) => !v.includes('='));
  if (select.length > 1)
    throw new CatalogError(
      `--role ${select[1]}: one role at a time (given: ${select.join(', ')}); addresses go as --role ROLE=ADDR`,
    );
  return { select: select[0], addresses: values.filter((v) => v.includes('=')) };
}

function selectRows(
  catalog: Catalog,
  select: string | undefined,
  opts: CatalogOptions,
): { query: CatalogQuery; rows: CatalogRow[]; carried?: string[] } {
  if (select !== undefined) {
    assertRole(catalog, select);
    return {
      query: { role: select },
      rows: rowsForHost(catalog, [select]),
      carried: hostRoles(catalog, [select]).slice(1),
    };
  }
  if (opts.from !== undefined && opts.to !== undefined) {
    assertRole(catalog, opts.from);
    assertRole(catalog, opts.to);
    const forward = rowsBetween(catalog, opts.from, opts.to);
    const back = opts.bothWays === true ? rowsBetween(catalog, opts.to, opts.from) : [];
    const rows = [...forward, ...back.filter((r) => !forward.includes(r))];
    return {
      query: { from: opts.from, to: opts.to, ...(opts.bothWays === true ? { bothWays: true } : {}) },
      rows,
    };
  }
  return { query: {}, rows: catalog.rows };
}

function loadTopology(catalog: Catalog, file: string | undefined, roleOptions: string[]): Topology {
  const roles = new Set([...Object.keys(catalog.roles), ...Object.keys(catalog.groups)]);
  try {
    let t = file !== undefined ? loadTopologyFile(file, roles) : emptyTopology();
    if (roleOptions.length > 0) t = mergeTopologies(t, topologyFromRoleOptions(roleOptions, roles));
    return t;
  } catch (err) {
    if (err instanceof TopologyError) throw new CatalogError(err.message);
    throw err;
  }
}

/** The command line as the header of generated rules says it (arguments with spaces quoted). */
function commandLine(): string {
  const args = process.argv
    .slice(3)
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return ['lync-port-audit', 'catalog', ...args].join(' ');
}

function loadWithMedia(spec: string, mediaPorts: string[] | undefined): Catalog {
  const catalog = loadCatalog(spec);
  return mediaPorts !== undefined
    ? applyMediaPortOverrides(catalog, parseMediaPortOverrides(mediaPorts))
    : catalog;
}

/**
 * Everything the command prints; throws a CatalogError (exit 2) for a bad catalog, role, range or
 * topology, and calls `usage` for options that do not go together.
 */
export function runCatalog(opts: CatalogOptions, usage: (message: string) => never): string {
  const { select, addresses } = splitRoleOptions(opts.role ?? []);
  if (opts.diff !== undefined) {
    if (opts.diff.length !== 2) usage('--diff takes two catalogs: --diff lync2010 sfb2019');
    if (
      select !== undefined ||
      opts.from !== undefined ||
      opts.topology !== undefined ||
      addresses.length > 0
    )
      usage('--diff compares whole catalogs: leave out --role, --from, --to and --topology');
    if (opts.format !== 'table' && opts.format !== 'json') usage('--diff prints a table or --format json');
    const [a, b] = opts.diff.map((spec) => loadWithMedia(spec, opts.mediaPorts));
    const diff = diffCatalogs(a, b);
    return opts.format === 'json' ? renderDiffJson(diff) : renderDiffTable(diff);
  }
  if ((opts.from === undefined) !== (opts.to === undefined)) usage('--from and --to go together');
  if (select !== undefined && opts.from !== undefined)
    usage('--role ROLE and --from/--to cannot be used together');
  if (opts.bothWays === true && opts.from === undefined) usage('--both-ways goes with --from and --to');
  const catalog = loadWithMedia(catalogSpec(opts), opts.mediaPorts);
  const { query, rows, carried } = selectRows(catalog, select, opts);
  const view: CatalogView = { catalog, query, rows, carriedRoles: carried, brief: opts.brief };
  const topologyGiven = opts.topology !== undefined || addresses.length > 0;
  const topology = topologyGiven ? loadTopology(catalog, opts.topology, addresses) : undefined;
  if (opts.format === 'json' || opts.format === 'table') {
    if (topologyGiven)
      usage(`--topology and --role ROLE=ADDR are for rules: --format ${FORMATS.slice(2).join(', ')}`);
    return opts.format === 'json'
      ? renderCatalogJson(view, `lync-port-audit ${packageVersion()} catalog`)
      : renderCatalogTable(view, process.stdout.isTTY ? process.stdout.columns : 140);
  }
  const plan = planFirewall({
    catalog,
    query,
    rows,
    topology,
    topologyLabel: [opts.topology, ...(addresses.length > 0 ? ['--role'] : [])].filter(Boolean).join(' and '),
    command: commandLine(),
  });
  switch (opts.format) {
    case 'csv':
      return renderCatalogCsv(view, plan);
    case 'nftables':
      return renderNftables(plan);
    case 'iptables':
      return renderIptables(plan, 4);
    case 'ip6tables':
      return renderIptables(plan, 6);
    case 'windows-firewall':
      return renderWindowsFirewall(plan);
  }
}
