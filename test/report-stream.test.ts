/**
 * The JSON and HTML reports are written in pieces as the output drains (report/json.ts
 * jsonPieces, report/html.ts htmlPieces, cli/output.ts writePieces), never built as one string:
 * the bytes must be the one-shot rendering's, byte for byte. JSON.stringify is the oracle of
 * jsonPieces (on odd values and on real analyses); the CLI's streamed JSON and HTML, to standard
 * output and to a file (a stream that asks to drain), are the one-shot toJson / renderHtml of the
 * same analysis made in-process, on the samples, the report capture (packet text that tries to
 * become markup) and a generated capture whose report is many batches long.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../bench/generate.mjs';
import { runCli } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';
import { writeReportCapture } from './helpers/report-capture.js';
import {
  BATCH_CHARS,
  batchedText,
  escapeJsonText,
  jsonPieces,
  jsonReportPieces,
  toJson,
} from '../src/report/json.js';
import { jsonForScriptPieces, pageData, renderHtml } from '../src/report/html.js';
import { buildPageModel } from '../src/report/html-model.js';
import { catalogFirewallRules } from '../src/report/html-firewall.js';
import { loadCatalogAndTopology } from '../src/cli/run-setup.js';
import { packageVersion } from '../src/cli/version.js';
import { analyzeCaptures } from '../src/verdict/analyze.js';
import type { Analysis } from '../src/verdict/analysis.js';

const tmp = mkdtempSync(join(tmpdir(), 'lpa-stream-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What jsonPieces must join to: JSON.stringify's text, or nothing where it has none. */
function stringified(value: unknown, indent: number): string {
  return (JSON.stringify(value, null, indent) as string | undefined) ?? '';
}

/** The page-data escaping of html.ts, one shot, as it was before the page was streamed. */
function jsonForScriptOneShot(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

describe('jsonPieces', () => {
  const odd: unknown[] = [
    {},
    [],
    { gone: undefined, fn: () => 1, sym: Symbol('s') },
    [undefined, () => 1, Symbol('s'), null],
    {
      empty: {},
      none: [],
      nested: { list: [1, { deep: [2, [3, {}]] }], nil: null, text: 'line\nbreak "quoted" \\ \u2028' },
      date: new Date(0),
      nan: NaN,
      inf: -Infinity,
      negZero: -0,
      '10': 'integer keys come first',
      '2': 'in ascending order',
      withToJson: { toJSON: () => ({ replaced: [1, 2] }) },
      rows: [[1, 2], [], [[]]],
      bare: Object.create(null) as object,
      allGone: { a: undefined },
      tail: undefined,
    },
    5,
    'text',
    null,
    true,
    undefined,
    [{ a: [{ b: 1 }] }],
    { x: { y: { z: {} } } },
  ];

  it('joins to JSON.stringify(value, null, indent) for odd values, at every indent', () => {
    odd.forEach((value, i) => {
      for (const indent of [0, 1, 2, 4])
        expect([...jsonPieces(value, indent)].join(''), `value ${i} at indent ${indent}`).toBe(
          stringified(value, indent),
        );
    });
  });

  it('writes each element of an array as one piece', () => {
    const flows = Array.from({ length: 1000 }, (_, i) => ({ i, nested: { list: [i, i + 1] } }));
    const pieces = [...jsonPieces({ summary: { n: 1 }, flows }, 2)];
    expect(pieces.join('')).toBe(JSON.stringify({ summary: { n: 1 }, flows }, null, 2));
    expect(pieces.length).toBeGreaterThan(flows.length);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(200);
  });

  it('escapes for terminals in batches as toJson escapes the whole', () => {
    // Terminal-unsafe code points on both sides of every batch boundary.
    const notes = Array.from({ length: 5000 }, (_, i) => `n${i} \u202e\u007f\u009b\u2028\u2066 é 😀`);
    const value = { summary: { notes }, flows: notes.map((reason, i) => ({ i, reason })) };
    for (const size of [1, 7, 100, 4096]) {
      const batches = [...batchedText(jsonPieces(value, 2), escapeJsonText, size)];
      expect(batches.join('')).toBe(toJson(value, 2));
      expect(batches.slice(0, -1).every((b) => b.length >= size)).toBe(true);
    }
    const report = [...jsonReportPieces(value)];
    expect(report.join('')).toBe(toJson(value, 2) + '\n');
    expect(report.length).toBeGreaterThan(5);
  });

  it('keeps the page data </script>-safe in every batch', () => {
    const hostile = "</script><!-- <script>alert('x')</script> & \u2028\u2029";
    const value = {
      t0: 1,
      strings: Array.from({ length: 20_000 }, (_, i) => `${i}${hostile}`),
      rows: [[1, [2]]],
    };
    const pieces = [...jsonForScriptPieces(value)];
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join('')).toBe(jsonForScriptOneShot(value));
    for (const p of pieces) expect(p).not.toMatch(/[<>&\u2028\u2029]/);
  });
});

interface Case {
  name: string;
  capture: string;
  topology?: string;
}

const samples: Case[] = readdirSync(join(REPO_ROOT, 'samples'))
  .filter((d) => statSync(join(REPO_ROOT, 'samples', d)).isDirectory())
  .map((d) => {
    const dir = join(REPO_ROOT, 'samples', d);
    const capture = readdirSync(dir).find((f) => f.startsWith('capture.'))!;
    return { name: d, capture: join(dir, capture), topology: join(dir, 'topology.json') };
  });
const report = writeReportCapture();
afterAll(() => rmSync(report.dir, { recursive: true, force: true }));
const generated = join(tmp, 'tcp.pcap');
generate({ packets: 40_000, seed: 5, out: generated, profile: 'tcp' });
const cases: Case[] = [
  ...samples,
  { name: 'report capture', capture: report.capture, topology: report.topology },
  { name: 'generated tcp, roles inferred', capture: generated },
];

/** The analysis the CLI makes of one capture, made in-process, and what its HTML page is given. */
async function oneShot(c: Case): Promise<{ analysis: Analysis; json: string; html: string }> {
  const setup = loadCatalogAndTopology({ topology: c.topology, role: [], mediaPorts: [] });
  if (typeof setup === 'string') throw new Error(setup);
  const { analysis } = await analyzeCaptures([c.capture], {
    catalog: setup.loaded,
    topology: setup.given,
    tool: { name: 'lync-port-audit', version: packageVersion() },
  });
  const firewallRules = catalogFirewallRules(setup.loaded.catalog, setup.given);
  return { analysis, json: toJson(analysis, 2) + '\n', html: renderHtml(analysis, { firewallRules }) };
}

function cli(c: Case, format: string, out?: string): string {
  const args = ['analyze', '--no-progress', '--format', format, c.capture];
  if (c.topology !== undefined) args.push('--topology', c.topology);
  if (out !== undefined) args.push('-o', out);
  const r = runCli(args, { timeoutMs: 120_000 });
  expect(r.status === 0 || r.status === 1, r.stderr).toBe(true);
  return out === undefined ? r.stdout : readFileSync(out, 'utf8');
}

describe('analyze --format json and html, streamed', () => {
  it.each(cases)(
    'are the one-shot renderings, byte for byte: $name',
    async (c) => {
      const { analysis, json, html } = await oneShot(c);
      expect([...jsonPieces(analysis, 2)].join('')).toBe(JSON.stringify(analysis, null, 2));
      const model = buildPageModel(analysis, {});
      expect([...jsonForScriptPieces(pageData(analysis, model.listed))].join('')).toBe(
        jsonForScriptOneShot(pageData(analysis, model.listed)),
      );
      const file = join(tmp, 'report');
      for (const out of [undefined, file]) {
        const streamedJson = cli(c, 'json', out);
        expect(streamedJson.length).toBe(json.length);
        expect(streamedJson === json, `json${out ? ' -o' : ''}`).toBe(true);
        const streamedHtml = cli(c, 'html', out);
        expect(streamedHtml.length).toBe(html.length);
        expect(streamedHtml === html, `html${out ? ' -o' : ''}`).toBe(true);
      }
      if (c.capture === generated) {
        // Many batches: the pieces and the drain between them are exercised, not one write.
        expect(json.length).toBeGreaterThan(10 * BATCH_CHARS);
        expect(html.length).toBeGreaterThan(4 * BATCH_CHARS);
      }
    },
    120_000,
  );
});
