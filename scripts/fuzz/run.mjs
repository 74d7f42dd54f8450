/**
 * `npm run fuzz -- --cases N [--seed S]`: the fuzz campaign (issue 14). Mutations of the real
 * captures in ../shared/captures and of generated ones (scripts/fuzz/mutate.mjs), each run in
 * a worker process through the built library, as `flows` and `analyze` run them
 * (scripts/fuzz/case.mjs). Not part of `npm test`, which runs a short fixed-seed slice
 * (test/fuzz.test.ts).
 *
 * Reports cases, faults by stage (reader, flow, recognizer, analyze, report), crashes (the worker
 * died), hangs (a case over --timeout seconds: the worker is killed), runs over --max-rss MB, and
 * time per case against input size; keeps every failing input in --failures (default
 * fuzz-failures/, gitignored) with the commands that reproduce it. Exit status 1 when anything failed.
 *
 * Options:
 *   --cases N        cases to run (default 1000)
 *   --seed S         campaign seed (default 1): case i of seed S is always the same input
 *   --jobs J         worker processes (default 1; they run at nice 10)
 *   --timeout S      seconds a case may take before it counts as a hang (default 10)
 *   --max-rss MB     peak resident memory a case may reach (default 500)
 *   --failures DIR   where failing inputs go (default fuzz-failures)
 *   --shared DIR     the real captures (default ../shared/captures; absent: generated ones only)
 *   --from I         first case number (default 0): a long campaign runs in chunks, cases
 *                    [I, I + N) each, and every chunk appends one line per case to
 *                    DIR/cases-S.ndjson
 *   --summarize      prints the summary of every case in DIR/cases-S.ndjson (all chunks run so
 *                    far) instead of running cases
 *   --replay S:I     runs case I of seed S here, in this process, and prints what happened
 */
import { fork } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCase } from './case.mjs';
import { buildGenerated, loadCorpus } from './corpus.mjs';
import { makeCase } from './mutate.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function parseArgs(argv) {
  const o = {
    cases: 1000,
    seed: 1,
    jobs: 1,
    timeout: 10,
    maxRss: 500,
    failures: join(ROOT, 'fuzz-failures'),
    shared: join(ROOT, '..', 'shared', 'captures'),
    replay: undefined,
    from: 0,
    summarize: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number`);
      return n;
    };
    if (a === '--cases') o.cases = num();
    else if (a === '--seed') o.seed = num() >>> 0;
    else if (a === '--jobs') o.jobs = Math.max(1, num());
    else if (a === '--timeout') o.timeout = num();
    else if (a === '--max-rss') o.maxRss = num();
    else if (a === '--failures') o.failures = resolve(argv[++i]);
    else if (a === '--shared') o.shared = resolve(argv[++i]);
    else if (a === '--from') o.from = num();
    else if (a === '--summarize') o.summarize = true;
    else if (a === '--replay') {
      const m = /^(\d+):(\d+)$/.exec(argv[++i] ?? '');
      if (!m) throw new Error('--replay needs SEED:CASE');
      o.replay = { seed: Number(m[1]), index: Number(m[2]) };
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const casesFile = join(opts.failures, `cases-${opts.seed}.ndjson`);
if (opts.summarize) {
  // Every case run so far (the last line per case number wins: a chunk run again replaces it).
  const byIndex = new Map();
  for (const line of readFileSync(casesFile, 'utf8').split('\n'))
    if (line !== '') {
      const r = JSON.parse(line);
      byIndex.set(r.index, r);
    }
  const all = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const failed = all
    .filter((r) => r.fail !== undefined)
    .map((r) => ({ kind: r.fail, index: r.index, file: r.file }));
  report(all, failed, {
    seconds: all.reduce((t, r) => t + r.ms, 0) / 1000,
    corpus: undefined,
    shared: undefined,
  });
  process.exit(process.exitCode ?? 0);
}
if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  process.stderr.write('fuzz: dist/ is missing; run "npm run build" first\n');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'lpa-fuzz-'));
const generatedDir = join(work, 'generated');
buildGenerated(generatedDir);
const sharedDir = existsSync(opts.shared) ? opts.shared : '';
if (!sharedDir) process.stderr.write(`fuzz: ${opts.shared} is absent: fuzzing generated captures only\n`);
const corpus = loadCorpus(sharedDir, generatedDir);

function caseFile(dir, seed, index, gzip) {
  return join(dir, `${seed}-${index}${gzip ? '.pcap.gz' : '.pcap'}`);
}

if (opts.replay !== undefined) {
  const { seed, index } = opts.replay;
  const c = makeCase(corpus, seed, index);
  mkdirSync(opts.failures, { recursive: true });
  const path = caseFile(opts.failures, seed, index, c.gzip);
  writeFileSync(path, c.bytes);
  const lib = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const catalog = lib.loadCatalogForAnalysis(lib.DEFAULT_PRODUCT, []);
  const started = performance.now();
  const r = await runCase(lib, catalog, path, c.bytes.length, c.gzip, { html: true });
  const ms = performance.now() - started;
  process.stdout.write(
    `case ${seed}:${index}: ${c.base}, ${c.mutations.join(' + ')}${c.gzip ? ' (gzip)' : ''}, ${c.bytes.length} bytes -> ${path}\n` +
      `${r.packets} packets, ${r.records} flow records, ${ms.toFixed(0)} ms\n`,
  );
  for (const f of r.faults)
    process.stdout.write(`${f.stage} fault in ${f.where}: ${f.message}\n${f.stack}\n`);
  rmSync(work, { recursive: true, force: true });
  process.exit(r.faults.length > 0 ? 1 : 0);
}

// ------------------------------------------------------------------------------ the campaign

const started = Date.now();
const results = [];
const failures = [];
const end = opts.from + opts.cases;
let next = opts.from;
let done = 0;
mkdirSync(opts.failures, { recursive: true });

/** One line per finished case in cases-S.ndjson, what --summarize reads. */
function keep(r, fail, file) {
  const line = {
    index: r.index,
    base: r.base,
    mutations: r.mutations,
    gzip: r.gzip,
    size: r.size,
    ms: +r.ms.toFixed(2),
    cpuMs: +r.cpuMs.toFixed(2),
    rssMb: +r.rssMb.toFixed(1),
    failed: r.failed,
    fail,
    file,
  };
  appendFileSync(casesFile, JSON.stringify(line) + '\n');
}

function record(kind, c, detail) {
  const made = makeCase(corpus, opts.seed, c.index);
  mkdirSync(opts.failures, { recursive: true });
  const path = caseFile(opts.failures, opts.seed, c.index, made.gzip);
  writeFileSync(path, made.bytes);
  const rel = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  const text = [
    `${kind}: case ${opts.seed}:${c.index} (${made.base}, ${made.mutations.join(' + ')}${made.gzip ? ', gzip' : ''}, ${made.bytes.length} bytes)`,
    detail,
    '',
    'reproduce:',
    `  npm run fuzz -- --replay ${opts.seed}:${c.index}`,
    `  bin/lync-port-audit flows ${rel}`,
    `  bin/lync-port-audit analyze ${rel}`,
    '',
  ].join('\n');
  writeFileSync(path.replace(/\.pcap(\.gz)?$/, '.txt'), text);
  failures.push({ kind, index: c.index, base: made.base, mutations: made.mutations, detail, file: rel });
  return { kind, file: rel };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function progress() {
  if (!process.stderr.isTTY && done % 1000 !== 0) return;
  const s = (Date.now() - started) / 1000;
  process.stderr.write(
    `${process.stderr.isTTY ? '\r' : ''}fuzz: ${done}/${opts.cases} cases, ${failures.length} failures, ${s.toFixed(0)} s${process.stderr.isTTY ? '' : '\n'}`,
  );
}

function startWorker(slot) {
  const child = fork(join(ROOT, 'scripts', 'fuzz', 'worker.mjs'), [ROOT, work, sharedDir], {
    execArgv: ['--max-old-space-size=2048'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  try {
    setPriority(child.pid, 10);
  } catch {
    // not allowed: run at the parent's priority
  }
  const w = { child, current: undefined, timer: undefined, poll: undefined, stderr: '', slot, dead: false };
  child.stderr.on('data', (d) => {
    w.stderr = (w.stderr + d.toString()).slice(-4000);
  });
  child.on('message', (msg) => {
    if (msg.ready) return dispatch(w);
    clearTimeout(w.timer);
    const c = w.current;
    w.current = undefined;
    results.push(msg);
    done++;
    // One failure per case, named by its first fault's stage; the file lists them all.
    let failed;
    if (msg.faults.length > 0)
      failed = record(
        `${msg.faults[0].stage} fault`,
        c,
        msg.faults.map((f) => `${f.stage} fault in ${f.where}: ${f.message}\n${f.stack}`).join('\n\n'),
      );
    if (msg.rssMb > opts.maxRss) failed = record('memory', c, `peak RSS ${msg.rssMb.toFixed(0)} MB`);
    keep(msg, failed?.kind, failed?.file);
    progress();
    dispatch(w);
  });
  child.on('exit', (code, signal) => {
    clearTimeout(w.timer);
    clearInterval(w.poll);
    w.dead = true;
    const c = w.current;
    if (c !== undefined) {
      done++;
      const why = w.killedFor ?? `worker died (${signal ?? `exit ${code}`})`;
      const failed = record(w.killedFor ? w.killedKind : 'crash', c, `${why}\n${w.stderr}`);
      const made = makeCase(corpus, opts.seed, c.index);
      const r = {
        index: c.index,
        base: made.base,
        mutations: made.mutations,
        gzip: made.gzip,
        size: made.bytes.length,
        ms: 0,
        cpuMs: 0,
        rssMb: 0,
        faults: [],
        failed: true,
      };
      results.push(r);
      keep(r, failed.kind, failed.file);
      progress();
    }
    if (next < end) workers[slot] = startWorker(slot);
    else if (workers.every((x) => x.dead)) finish();
  });
  // Memory: the worker's resident set, every 200 ms; over the limit it is killed (a case that grows without bound).
  w.poll = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m && Number(m[1]) / 1024 > opts.maxRss * 1.5 && w.current !== undefined) {
        w.killedFor = `resident memory over ${opts.maxRss * 1.5} MB: killed`;
        w.killedKind = 'memory';
        child.kill('SIGKILL');
      }
    } catch {
      // the process is gone
    }
  }, 200);
  return w;
}

function dispatch(w) {
  if (next >= end) {
    w.child.disconnect();
    w.child.kill();
    return;
  }
  const c = { index: next++ };
  w.current = c;
  w.killedFor = undefined;
  w.timer = setTimeout(() => {
    w.killedFor = `no answer after ${opts.timeout} s: hang`;
    w.killedKind = 'hang';
    w.child.kill('SIGKILL');
  }, opts.timeout * 1000);
  w.child.send({ seed: opts.seed, index: c.index });
}

const workers = [];
for (let i = 0; i < opts.jobs; i++) workers.push(startWorker(i));

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  report(results, failures, {
    seconds: (Date.now() - started) / 1000,
    corpus: corpus.length,
    shared: sharedDir !== '',
  });
  rmSync(work, { recursive: true, force: true });
}

/** The campaign's figures over `results` (cases) and `failures`; printed and written to run-S.json. */
function report(results, failures, { seconds, corpus, shared }) {
  const done = results.length;
  const ok = results.filter((r) => !r.failed);
  const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
  const rss = ok.map((r) => r.rssMb).sort((a, b) => a - b);
  const byKind = {};
  for (const f of failures) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const mutations = {};
  // Payload mutations per protocol (a label payload(sip,tls) counts once for each).
  const payloadProtocols = {};
  for (const r of ok)
    for (const m of r.mutations ?? []) {
      const kind = m.replace(/\(.*\)$/, '');
      mutations[kind] = (mutations[kind] ?? 0) + 1;
      const p = /^payload\((.*)\)$/.exec(m);
      if (p)
        for (const proto of p[1].split(',')) payloadProtocols[proto] = (payloadProtocols[proto] ?? 0) + 1;
    }
  // Time per case against input size: buckets by size, time per KB in each.
  const buckets = [
    [0, 4096],
    [4096, 16384],
    [16384, 65536],
    [65536, 262144],
    [262144, Infinity],
  ].map(([lo, hi]) => {
    const inBucket = ok.filter((r) => r.size >= lo && r.size < hi);
    const perKb = inBucket.map((r) => (r.ms * 1024) / Math.max(1, r.size)).sort((a, b) => a - b);
    const t = inBucket.map((r) => r.ms).sort((a, b) => a - b);
    const cpu = inBucket.map((r) => r.cpuMs).sort((a, b) => a - b);
    return {
      bytes: hi === Infinity ? `>= ${lo / 1024} KB` : `${lo / 1024}-${hi / 1024} KB`,
      cases: inBucket.length,
      median_ms: +percentile(t, 0.5).toFixed(1),
      max_ms: +(t[t.length - 1] ?? 0).toFixed(1),
      median_ms_per_kb: +percentile(perKb, 0.5).toFixed(3),
      median_cpu_ms: +percentile(cpu, 0.5).toFixed(1),
      max_cpu_ms: +(cpu[cpu.length - 1] ?? 0).toFixed(1),
    };
  });
  // Super-linear growth: the per-KB time of the large inputs against that of mid-size ones
  // (small inputs are dominated by the fixed cost of a case, so they are not the reference).
  const ref = buckets[2].cases > 0 ? buckets[2].median_ms_per_kb : buckets[1].median_ms_per_kb;
  const large = [...buckets.slice(3)].filter((b) => b.cases >= 10);
  const superLinear = large.some((b) => ref > 0 && b.median_ms_per_kb > 3 * ref);
  /** The ten cases with the most of `key`, named so that each can be run again. */
  const topBy = (key, fields) =>
    [...ok]
      .sort((a, b) => b[key] - a[key])
      .slice(0, 10)
      .map((r) => ({
        case: `${opts.seed}:${r.index}`,
        base: r.base,
        mutations: r.mutations.join(' + ') + (r.gzip ? ' (gzip)' : ''),
        bytes: r.size,
        ...fields(r),
      }));
  const slowest = topBy('ms', (r) => ({
    ms: +r.ms.toFixed(0),
    ms_per_kb: +((r.ms * 1024) / Math.max(1, r.size)).toFixed(2),
  }));
  // By CPU time too: on a shared machine the wall-clock maximum is often a case that waited for a CPU.
  const slowestCpu = topBy('cpuMs', (r) => ({ cpu_ms: +r.cpuMs.toFixed(0), ms: +r.ms.toFixed(0) }));
  const cpuAll = ok.map((r) => r.cpuMs).sort((a, b) => a - b);
  const summary = {
    seed: opts.seed,
    cases: done,
    seconds: +seconds.toFixed(0),
    corpus,
    shared,
    failures: failures.length,
    by_kind: byKind,
    faults: {
      reader: byKind['reader fault'] ?? 0,
      flow: byKind['flow fault'] ?? 0,
      recognizer: byKind['recognizer fault'] ?? 0,
      analyze: byKind['analyze fault'] ?? 0,
      report: byKind['report fault'] ?? 0,
    },
    crashes: byKind.crash ?? 0,
    hangs: byKind.hang ?? 0,
    memory: byKind.memory ?? 0,
    time_ms: {
      median: +percentile(ms, 0.5).toFixed(1),
      p99: +percentile(ms, 0.99).toFixed(1),
      max: +(ms[ms.length - 1] ?? 0).toFixed(1),
    },
    cpu_ms: {
      median: +percentile(cpuAll, 0.5).toFixed(1),
      p99: +percentile(cpuAll, 0.99).toFixed(1),
      max: +(cpuAll[cpuAll.length - 1] ?? 0).toFixed(1),
    },
    peak_rss_mb: { median: +percentile(rss, 0.5).toFixed(0), max: +(rss[rss.length - 1] ?? 0).toFixed(0) },
    size_buckets: buckets,
    super_linear: superLinear,
    slowest,
    slowest_cpu: slowestCpu,
    mutations,
    payload_protocols: payloadProtocols,
    failing: failures.slice(0, 50),
  };
  mkdirSync(opts.failures, { recursive: true });
  writeFileSync(join(opts.failures, `run-${opts.seed}.json`), JSON.stringify(summary, null, 2) + '\n');
  const out = process.stdout;
  out.write(
    `\nfuzz campaign, seed ${opts.seed}: ${done} cases in ${seconds.toFixed(0)} s${corpus === undefined ? ' (sum of case times)' : ` over ${corpus} captures`}\n`,
  );
  out.write(
    `  failures: ${failures.length} (faults: reader ${summary.faults.reader}, flow ${summary.faults.flow}, recognizer ${summary.faults.recognizer}, analyze ${summary.faults.analyze}, report ${summary.faults.report}; crashes ${summary.crashes}, hangs over ${opts.timeout} s ${summary.hangs}, over ${opts.maxRss} MB ${summary.memory})\n`,
  );
  out.write(
    `  time per case: median ${summary.time_ms.median} ms, p99 ${summary.time_ms.p99} ms, max ${summary.time_ms.max} ms (CPU median ${summary.cpu_ms.median} ms, p99 ${summary.cpu_ms.p99} ms, max ${summary.cpu_ms.max} ms); peak RSS median ${summary.peak_rss_mb.median} MB, max ${summary.peak_rss_mb.max} MB\n`,
  );
  out.write('  by input size:\n');
  for (const b of buckets)
    out.write(
      `    ${b.bytes.padEnd(14)} ${String(b.cases).padStart(7)} cases  median ${b.median_ms} ms, max ${b.max_ms} ms, ${b.median_ms_per_kb} ms/KB; CPU median ${b.median_cpu_ms} ms, max ${b.max_cpu_ms} ms\n`,
    );
  out.write(
    `  payload mutations by protocol: ${Object.entries(payloadProtocols)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  out.write(`  super-linear growth: ${superLinear ? 'YES (a failure)' : 'no'}\n  slowest:\n`);
  for (const s of slowest)
    out.write(`    ${s.case} ${s.base} ${s.mutations}: ${s.bytes} bytes, ${s.ms} ms\n`);
  out.write('  slowest by CPU time:\n');
  for (const s of slowestCpu)
    out.write(`    ${s.case} ${s.base} ${s.mutations}: ${s.bytes} bytes, ${s.cpu_ms} ms CPU (${s.ms} ms)\n`);
  for (const f of failures.slice(0, 20))
    out.write(`  ${f.kind}: case ${opts.seed}:${f.index} -> ${f.file}\n`);
  out.write(`  summary: ${join(opts.failures, `run-${opts.seed}.json`)}\n`);
  process.exitCode = failures.length > 0 || superLinear ? 1 : 0;
}
