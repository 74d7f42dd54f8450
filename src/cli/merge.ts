/**
 * `lync-port-audit merge <summary...>`: combines capture summaries (`analyze --format summary`,
 * one JSON line per capture, from any number of machines) into one report per role, the report
 * `analyze --each` prints for the same captures. Exit status: 0, 1 when --fail-on finds what it
 * names, 2 when a summary file cannot be read (the others are still merged and reported).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { htmlPieces } from '../report/html.js';
import { renderCaptures } from '../report/captures.js';
import { renderTable, terminalWidth } from '../report/table.js';
import {
  SummaryError,
  checkSummary,
  mergeSummaries,
  type CaptureSummaryDoc,
  type MergedAnalysis,
} from '../verdict/merge.js';
import type { Verdict } from '../verdict/types.js';
import { FAIL_ON_CHOICES, failing, type FailOn } from './fail-on.js';
import { OUT_FILE_HELP, exitStatusHelp, sayLine, startRun } from './run.js';
import { OutputError } from '../report/output-file.js';
import { jsonReportPieces } from '../report/json.js';
import { writePieces } from './output.js';
import { plural } from '../report/format.js';
import { pcapMagic } from '../capture/pcap.js';
import { isPcapngMagic } from '../capture/pcapng.js';
import { packageVersion } from './version.js';

export type MergedFormat = 'table' | 'json' | 'html';

interface MergeOptions {
  format: MergedFormat;
  out?: string;
  failOn: FailOn;
}

/**
 * A capture given where a summary belongs, named by its first four bytes (the reader's own pcap
 * and pcapng magic tests, and the gzip magic), so that it is said in words and never read whole
 * as text.
 */
function captureKind(file: string): string | undefined {
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 4, null);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n < 4) return undefined;
  if (isPcapngMagic(head, 0)) return 'pcapng';
  return pcapMagic(head, 0) !== undefined ? 'pcap' : undefined;
}

/** Reads summary files: each a JSON summary, or summaries one per line. Unreadable files are reported. */
export function readSummaries(files: readonly string[]): { docs: CaptureSummaryDoc[]; errors: string[] } {
  const docs: CaptureSummaryDoc[] = [];
  const errors: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      const capture = file === '-' ? undefined : captureKind(file);
      if (capture !== undefined) {
        errors.push(
          `${file}: ${capture === 'gzip' ? 'is gzip-compressed (a capture?)' : `is a ${capture} capture`}, not a summary: merge combines what \`analyze --format summary\` writes (or run \`analyze --each\` on the captures)`,
        );
        continue;
      }
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      errors.push(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      continue;
    }
    const lines = text.split('\n');
    let found = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.length === 0) continue;
      const where = lines.length > 2 ? `${file}: line ${i + 1}` : file;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (err) {
        // A pretty-printed single summary spans lines: try the whole file once.
        if (found === 0) {
          try {
            docs.push(checkSummary(JSON.parse(text), file));
            found++;
          } catch (whole) {
            errors.push(
              whole instanceof SummaryError ? whole.message : `${where}: not JSON: ${(err as Error).message}`,
            );
          }
        } else errors.push(`${where}: not JSON: ${(err as Error).message}`);
        break;
      }
      try {
        docs.push(checkSummary(doc, where));
        found++;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (found === 0 && !errors.some((e) => e.startsWith(file)))
      errors.push(`${file}: no summary in this file`);
  }
  return { docs, errors };
}

/** The merged report in the chosen format, in pieces for writePieces (output.ts). */
export function mergedPieces(merged: MergedAnalysis, format: MergedFormat): Iterable<string> {
  if (format === 'json') return jsonReportPieces(merged);
  if (format === 'html') return htmlPieces(merged);
  const width = terminalWidth(process.env, process.stdout.isTTY ? process.stdout.columns : undefined);
  return [renderCaptures(merged, width) + renderTable(merged, { width })];
}

export function mergedFails(merged: MergedAnalysis, failOn: FailOn): boolean {
  return (Object.entries(merged.summary.verdicts) as [Verdict, number | undefined][]).some(
    ([v, n]) => (n ?? 0) > 0 && failing(v, failOn),
  );
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description(
      'merge capture summaries (analyze --format summary, from any number of machines) into one report per role',
    )
    .argument(
      '<summary...>',
      'summary files: one JSON summary each, or one summary per line; "-" reads standard input',
    )
    .addOption(
      new Option('-f, --format <format>', 'report format')
        .choices(['table', 'json', 'html'])
        .default('table'),
    )
    .option('-o, --out <file>', 'write the report to a file instead of standard output')
    .addOption(
      new Option(
        '--fail-on <what>',
        'exit with status 1 when merged flows have these verdicts (as for analyze)',
      )
        .choices([...FAIL_ON_CHOICES])
        .default('none'),
    )
    .addHelpText(
      'after',
      `
Examples:
  # on each machine (or batch job), one summary per capture
  lync-port-audit analyze --format summary -o client-07.summary.json client-07.pcapng
  # in one place: the report per role, and which captures fail where
  lync-port-audit merge *.summary.json
  lync-port-audit merge --format html -o report.html site-a/*.json site-b/*.json
${OUT_FILE_HELP}
${exitStatusHelp(true)}`,
    )
    .action(async (files: string[], opts: MergeOptions) => {
      process.exitCode = await runMerge(files, opts);
    });
}

async function runMerge(files: string[], opts: MergeOptions): Promise<number> {
  const run = startRun();
  let output;
  try {
    // Opened before the summaries are read, as analyze opens it before the captures.
    output = run.openOutput(opts.out);
  } catch (err) {
    run.finish(0);
    if (!(err instanceof OutputError)) throw err;
    sayLine(`lync-port-audit: ${err.message}`);
    return 2;
  }
  const { docs, errors } = readSummaries(files);
  for (const e of errors) run.say(`lync-port-audit: ${e}`);
  if (docs.length === 0) {
    await output.close();
    run.say('lync-port-audit: no summaries to merge');
    return run.finish(2);
  }
  const merged = mergeSummaries(docs, { name: 'lync-port-audit', version: packageVersion() });
  await writePieces(output, mergedPieces(merged, opts.format));
  const partial = await output.close(run.interrupted === undefined);
  run.say(
    `lync-port-audit: merged ${plural(docs.length, 'capture summary', 'capture summaries')}: ${plural(merged.summary.packets, 'packet')}, ${plural(merged.summary.flows, 'flow')}, ${plural(merged.summary.problems, 'problem')}`,
  );
  if (partial !== undefined) run.say(`lync-port-audit: interrupted: the report is in ${partial}`);
  // A capture that could not be read (in full) when it was analysed fails the merge as it fails --each.
  if (errors.length > 0 || merged.captures.some((c) => c.error !== undefined)) return run.finish(2);
  return run.finish(mergedFails(merged, opts.failOn) ? 1 : 0);
}
