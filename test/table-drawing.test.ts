/**
 * The terminal report's tables are drawn by report/draw-table.ts, which writes the rows of
 * printable ASCII itself (cli-table3 took ~0.9 s on a scan's 3,000-row report) and must give
 * cli-table3's bytes. cli-table3 is the oracle: the whole report is rendered twice, once as it
 * ships and once with the tables drawn by cli-table3 as the report drew them before (one table,
 * the head and every row, fixed column widths, no word wrap), over the samples, a generated
 * capture with a SYN scan of a Front End (hundreds of unexpected ports), and the same analyses
 * with hostile service names (escapes, wide and combining characters, emoji, long words) at
 * widths from 40 to 160; and the catalog command's tables (cli-table3's own word wrap) of every
 * built-in catalog, as they are and with hostile text. Direct draws of random cells cover the cut
 * of lines longer than their column and the word wrap's corners (runs of spaces, empty lines).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import CliTable3 from 'cli-table3';
import { generate, sfc32 } from '../bench/generate.mjs';
import { REPO_ROOT } from './helpers/shared.js';
import { listProducts, loadCatalog } from '../src/catalog/index.js';
import { renderCatalogTable, type CatalogView } from '../src/report/catalog.js';
import { drawTable } from '../src/report/draw-table.js';
import { escapeTerminal } from '../src/report/escape.js';
import { renderTable } from '../src/report/table.js';
import { loadTopologyFile } from '../src/topology/topology.js';
import { analyzeCaptures } from '../src/verdict/analyze.js';
import type { Analysis } from '../src/verdict/analysis.js';
import { loadCatalogForAnalysis } from '../src/verdict/catalog-access.js';

/** The report's tables as cli-table3 drew them before report/draw-table.ts. */
function cliTable3(
  rows: readonly (readonly string[])[],
  widths: readonly number[],
  wordWrap = false,
): string {
  const t = new CliTable3({
    head: [...rows[0]],
    colWidths: [...widths],
    wordWrap,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
  for (const r of rows.slice(1)) t.push([...r]);
  return t.toString();
}

const WIDTHS = [40, 60, 80, 100, 160];

function expectSameAsCliTable3(a: Analysis): void {
  for (const width of WIDTHS)
    expect(renderTable(a, { width }), `width ${width}`).toBe(renderTable(a, { width }, cliTable3));
}

/** Text a hostile catalog or packet could carry, escaped as every renderer escapes it. */
const HOSTILE = [
  '\x1b[31mred\x07 bell',
  '日本語のサービス名',
  '📞 call ☎ ©',
  'e\u0301te\u0301 naïve',
  'x'.repeat(70),
  'back\\slash \u202eevil\u202c done',
  '\x1b\x1b\x1b\x1b\x1b\x1b\x1b',
  'tab\there\r\nnew line',
  'A/V Edge service (ascii, long enough to wrap in a narrow column)',
];

/** The analysis with hostile service names on its rows (role tables) and unexpected ports' peers. */
function withHostileText(a: Analysis): Analysis {
  const b = structuredClone(a);
  let k = 0;
  for (const r of b.roles) {
    for (const row of r.rows) row.service = HOSTILE[k++ % HOSTILE.length];
    for (const u of r.unexpected) u.peers = [...u.peers, escapeTerminal(HOSTILE[k++ % HOSTILE.length])];
  }
  return b;
}

const loaded = loadCatalogForAnalysis('lync2010', []);

async function analyze(capture: string, topologyFile: string): Promise<Analysis> {
  const topology = loadTopologyFile(topologyFile, loaded.roleIds);
  return (await analyzeCaptures([capture], { catalog: loaded, topology })).analysis;
}

const samples = readdirSync(join(REPO_ROOT, 'samples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    const dir = join(REPO_ROOT, 'samples', d.name);
    const capture = readdirSync(dir).find((f) => f.startsWith('capture.'))!;
    return { name: d.name, capture: join(dir, capture), topology: join(dir, 'topology.json') };
  });

describe('the report tables are cli-table3 bytes', () => {
  it.each(samples)('sample $name, as it is and with hostile service names', async (s) => {
    const a = await analyze(s.capture, s.topology);
    expect(a.roles.some((r) => r.rows.length > 0)).toBe(true);
    expectSameAsCliTable3(a);
    expectSameAsCliTable3(withHostileText(a));
  });

  describe('a generated capture with a SYN scan of a Front End', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lpa-table-'));
    let scan: Analysis;
    beforeAll(async () => {
      // Seed 2 puts a 1,024-port scan of a Front End in the first 60,000 packets.
      const capture = join(tmp, 'tcp.pcap');
      generate({ packets: 60_000, seed: 2, out: capture, profile: 'tcp' });
      scan = await analyze(capture, join(REPO_ROOT, 'bench', 'topology.json'));
    }, 60_000);
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('lists hundreds of unexpected ports, drawn as cli-table3 draws them', () => {
      const unexpected = scan.roles.reduce((n, r) => n + r.unexpected.length, 0);
      expect(unexpected).toBeGreaterThan(500);
      const text = renderTable(scan, { width: 80 });
      expect(text).toContain(`UNEXPECTED: ${unexpected} ports no catalog row explains`);
      expectSameAsCliTable3(scan);
    });

    it('with hostile text in the cells', () => {
      expectSameAsCliTable3(withHostileText(scan));
    });

    it('never splits an escape across lines where the columns have room for one', () => {
      // The Service column of the role tables is at least 10 wide from 80 columns on.
      for (const width of [80, 100, 160]) {
        const text = renderTable(withHostileText(scan), { width });
        for (const line of text.split('\n').filter((l) => l.startsWith('│')))
          for (const cell of line.split('│'))
            expect(
              cell.replace(/\\(?:\\|x[0-9a-f]{2}|u\{[0-9a-f]+\})/g, ''),
              `${width}: ${line}`,
            ).not.toContain('\\');
      }
    });
  });
});

describe('the catalog tables (cli-table3 wordWrap) are cli-table3 bytes', () => {
  // cli-table3 takes ~1 s a catalog table, so: each catalog as the command prints it to a pipe
  // (140 columns), and two of them narrow, brief and with hostile text.
  const same = (view: CatalogView, width: number): void =>
    expect(renderCatalogTable(view, width), `${view.catalog.product} ${width}`).toBe(
      renderCatalogTable(view, width, cliTable3),
    );

  it.each(listProducts())('%s at 140 columns', (product) => {
    const catalog = loadCatalog(product);
    same({ catalog, query: {}, rows: catalog.rows }, 140);
  });

  it.each(['lync2010', 'teams'])('%s narrow, brief, and with hostile service names and notes', (product) => {
    const catalog = loadCatalog(product);
    const hostile = catalog.rows.map((r, i) => ({
      ...r,
      service: HOSTILE[i % HOSTILE.length],
      notes: `${HOSTILE[(i + 3) % HOSTILE.length]}  two  spaces ${'y'.repeat(i % 90)} end `,
    }));
    same({ catalog, query: {}, rows: catalog.rows }, 60);
    same({ catalog, query: {}, rows: catalog.rows, brief: true }, 100);
    same({ catalog, query: {}, rows: hostile }, 80);
    same({ catalog, query: {}, rows: hostile, brief: true }, 40);
  });
});

describe('drawTable against cli-table3, random cells', () => {
  const rand32 = sfc32(7);
  const below = (n: number): number => rand32() % n;
  const PIECES = [
    'a',
    'port',
    ' ',
    '\n',
    'x'.repeat(12),
    '\\x1b',
    '\x1b[1m',
    '日本',
    '📞',
    'e\u0301',
    '…',
    '\t',
    '',
  ];
  const randomCell = (): string => {
    let s = '';
    for (let n = below(6); n > 0; n--) s += PIECES[below(PIECES.length)];
    return s;
  };

  it('gives the same text for 4,000 random tables, ASCII and not, lines that fit and lines cut, wrapped or not', () => {
    for (let t = 0; t < 4000; t++) {
      const columns = 1 + below(6);
      const widths = Array.from({ length: columns }, () => 1 + below(16));
      const wordWrap = t % 4 >= 2;
      // Half the tables are ASCII only (drawn by draw-table itself), half mix in other text.
      const ascii = t % 2 === 0;
      const rows = Array.from({ length: 1 + below(8) }, () =>
        Array.from({ length: columns }, () =>
          ascii ? randomCell().replace(/[^\x20-\x7e\n]/g, 'z') : randomCell(),
        ),
      );
      expect(drawTable(rows, widths, wordWrap), JSON.stringify({ rows, widths, wordWrap })).toBe(
        cliTable3(rows, widths, wordWrap),
      );
    }
  });
});
