/**
 * One fuzz case through the library, as `flows` and `analyze` would run it, and what counts as a
 * failure: an exception out of the library, an "unexpected failure" read error (an exception
 * the reader caught: a decoder or flow table bug), a recogniser fault (caught and counted by the
 * recognize stage), a read error whose offset lies past the end of the input, or a control
 * character in the table output (terminal escape injection). Each failure is sorted by the first
 * frame of its stack inside the code: reader (capture, decode), flow, recognizer, analyze
 * (topology, verdict, catalog), report.
 *
 * `lib` is the library: dist/index.js for the campaign, src/index.ts for the test slice.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusEntry } from './mutate.mjs';

const STAGES = {
  capture: 'reader',
  decode: 'reader',
  flow: 'flow',
  recognize: 'recognizer',
  topology: 'analyze',
  verdict: 'analyze',
  catalog: 'analyze',
  report: 'report',
  cli: 'report',
};

/** The stage an exception came from: the first stack frame in src/ or dist/. */
export function stageOf(err, fallback) {
  const stack = err instanceof Error ? String(err.stack ?? '') : '';
  for (const line of stack.split('\n')) {
    const m =
      /[/\\](?:src|dist)[/\\](capture|decode|flow|recognize|topology|verdict|catalog|report|cli)[/\\]/.exec(
        line,
      );
    if (m) return STAGES[m[1]];
  }
  return fallback;
}

function fault(stage, err, where) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { stage: stageOf(e, stage), where, message: e.message, stack: String(e.stack ?? '') };
}

/**
 * Recogniser faults the library caught itself (app-observer.ts stops that recogniser for that
 * flow and counts it: the run goes on, but it is still a bug to fix). No stack is kept there:
 * the message names the recogniser, the stage and the frame.
 */
function checkRecognizerFaults(result, where, faults) {
  const caught = result.recognizerFaults;
  if (caught === undefined || caught.count === 0) return;
  const lines = caught.first.map(
    (f) => `${f.recognizer} ${f.stage} on frame ${f.frame} (${f.flow}): ${f.message}`,
  );
  faults.push({
    stage: 'recognizer',
    where,
    message: `${caught.count} caught: ${lines[0]}`,
    stack: lines.join('\n'),
  });
}

function checkCaptures(captures, size, compressed, where, faults) {
  for (const c of captures) {
    const error = c.error;
    if (error === undefined) continue;
    if (/unexpected failure/.test(error.message)) faults.push(fault('reader', error.cause ?? error, where));
    else if (!compressed && error.offset > size)
      faults.push({
        stage: 'reader',
        where,
        message: `error offset ${error.offset} past the end of the ${size}-byte input: ${error.message}`,
        stack: '',
      });
  }
}

/**
 * The first character in terminal text that src/report/escape.ts escapeTerminal exists to keep
 * out, other than a line end: C0, DEL and C1 controls (ECMA-48 5.2-5.3), the bidirectional
 * formatting controls and line separators (UAX #9 2; CVE-2021-42574) and lone surrogates; as
 * "U+001B at 120: ...context", or undefined. Packet text (SIP headers, TLS names, DHCP strings)
 * reaches the table, and a control character there is an escape sequence the administrator's
 * terminal would run.
 */
export function controlCharacter(text) {
  const m =
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u.exec(
      text,
    );
  if (m === null) return undefined;
  const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${code} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 20))}`;
}

/**
 * Runs the capture at `path` (`size` bytes, gzip when `compressed`) through flow records and the
 * analysis with every report format; returns { faults, records, packets }.
 */
export async function runCase(lib, catalog, path, size, compressed, { html = false } = {}) {
  const faults = [];
  let records = 0;
  let packets = 0;
  try {
    const r = await lib.readFlowRecords([path], {
      onRecord: (rec) => {
        records++;
        JSON.stringify(rec);
      },
    });
    packets = r.stats.packets;
    checkCaptures(r.captures, size, compressed, 'flows', faults);
    checkRecognizerFaults(r, 'flows', faults);
  } catch (err) {
    faults.push(fault('flow', err, 'flows'));
  }
  try {
    const a = await lib.analyzeCaptures([path], { catalog, tool: { name: 'fuzz', version: '' } });
    checkCaptures(a.captures, size, compressed, 'analyze', faults);
    checkRecognizerFaults(a, 'analyze', faults);
    try {
      JSON.stringify(a.analysis);
      const bad = controlCharacter(lib.renderTable(a.analysis, { width: 100 }));
      if (bad !== undefined)
        faults.push({ stage: 'report', where: 'report', message: `table output holds ${bad}`, stack: '' });
      if (html) lib.renderHtml(a.analysis);
    } catch (err) {
      faults.push(fault('report', err, 'report'));
    }
  } catch (err) {
    faults.push(fault('analyze', err, 'analyze'));
  }
  return { faults, records, packets };
}

/** Capture files below this size from the shared corpus (every one today). */
const MAX_CORPUS_FILE = 4 << 20;

/** The real captures of `dir` (sorted by name, gzip ones decompressed), or [] when it is absent. */
export function sharedCorpus(dir) {
  let names;
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    if (!/\.(pcap|pcapng|cap)(\.gz)?$/.test(name)) continue;
    const path = join(dir, name);
    if (statSync(path).size > MAX_CORPUS_FILE) continue;
    out.push(corpusEntry(name, readFileSync(path)));
  }
  return out;
}
