/**
 * `npm run bench`: the performance targets (issue 13), measured side by side in one run, as ratios.
 *
 * 1. Builds dist/ and the deterministic Lync-like captures (bench/generate.mjs) in bench/out/, one
 *    per profile: `media` (80% SRTP) and `tcp` (short TCP/TLS sessions with real hellos, SYN scans,
 *    SIP registrations), reusing captures already built by the same generator version.
 * 2. Per profile, warms the page cache, then runs side by side, interleaved, several times each
 *    (medians), every command with its standard output sent to /dev/null:
 *      lync-port-audit flows <file>
 *      lync-port-audit analyze --topology bench/topology.json <file>
 *      ndpiReader -q -i <file>               (nDPI, the C tool to beat; skipped when absent)
 *      tshark -q -z conv,tcp -z conv,udp -r <file>
 *      cat <file>, node -e 0, node reading the file (what any Node.js program pays: context)
 *    CPU seconds (user + system, every thread) and peak RSS come from /usr/bin/time; the targets
 *    are CPU ratios, which hold better than wall times on a shared machine.
 * 3. `analyze` peak RSS in every report format at each --rss-sizes capture size (the target: under
 *    150 MB, and within 10% between the smallest and the largest size).
 * 4. In-process stages on each capture (bench/readers.mjs): a plain Buffer loop, pcap-parser, our
 *    reader, + decode, + flow table, + recognizers and records.
 * 5. Prints PASS/FAIL per target and writes the numbers to bench/out/last-run.json.
 *
 * Options:
 *   --packets N         capture size for the timing table (default 1000000)
 *   --profiles A,B      traffic profiles (default media,tcp)
 *   --rss-sizes A,B     sizes for the analyze memory table (default 1000000,10000000; "none" skips it)
 *   --formats A,B       analyze formats for the memory table (default table,json,ndjson,html)
 *   --reps N            repetitions of flows, analyze, cat and the Node floors (default 5)
 *   --ndpi-reps N       repetitions of ndpiReader (default 5; 0 skips it)
 *   --tshark-reps N     repetitions of tshark (default 3; 0 skips it)
 *   --reader-reps N     repetitions of each in-process stage (default 3; 0 skips them)
 *   --seed N            generator seed (default 1)
 *   --strict            exit 1 when a target fails
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  unlinkSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, PROFILES, generate } from './generate.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'lync-port-audit');
const TOPOLOGY = join(ROOT, 'bench', 'topology.json');
const TIME = '/usr/bin/time';

const TARGET_TSHARK_SPEEDUP = 15;
/** analyze may cost at most this many times the CPU of flows. */
const TARGET_ANALYZE_OVER_FLOWS = 1.3;
const TARGET_RSS_MB = 150;
/** "The same peak": within this fraction of each other (V8's heap sizing varies by a few MB run to run). */
const SAME_PEAK_TOLERANCE = 0.1;
const FORMATS = ['table', 'json', 'ndjson', 'html'];

function parseArgs(argv) {
  const o = {
    packets: 1_000_000,
    profiles: [...PROFILES],
    rssSizes: [1_000_000, 10_000_000],
    formats: [...FORMATS],
    reps: 5,
    ndpiReps: 5,
    tsharkReps: 3,
    readerReps: 3,
    seed: 1,
    strict: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number`);
      return n;
    };
    const list = (allowed) => {
      const v = (argv[++i] ?? '').split(',').filter((x) => x.length > 0);
      for (const x of v)
        if (!allowed.includes(x)) throw new Error(`${a}: ${x} is not one of ${allowed.join(', ')}`);
      if (v.length === 0) throw new Error(`${a} needs a list`);
      return v;
    };
    if (a === '--packets') o.packets = num();
    else if (a === '--profiles') o.profiles = list(PROFILES);
    else if (a === '--formats') o.formats = list(FORMATS);
    else if (a === '--rss-sizes') {
      const v = argv[++i];
      o.rssSizes = v === 'none' ? [] : v.split(',').map(Number);
      if (o.rssSizes.some((n) => !Number.isInteger(n) || n <= 0))
        throw new Error('--rss-sizes needs packet counts');
    } else if (a === '--reps') o.reps = Math.max(1, num());
    else if (a === '--ndpi-reps') o.ndpiReps = num();
    else if (a === '--tshark-reps') o.tsharkReps = num();
    else if (a === '--reader-reps') o.readerReps = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--strict') o.strict = true;
    else throw new Error(`unknown option ${a} (see the comment at the top of bench/run.mjs)`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------

function capturePath(profile, packets, seed) {
  return join(OUT, `lync-${profile}-${packets}-s${seed}.pcap`);
}

/** Builds the capture unless one from the same generator version and parameters is there. */
function ensureCapture(profile, packets, seed) {
  const path = capturePath(profile, packets, seed);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.generatorVersion === GENERATOR_VERSION && m.bytes === statSync(path).size) return m;
  }
  mkdirSync(OUT, { recursive: true });
  process.stdout.write(`building ${path} ... `);
  const t = process.hrtime.bigint();
  const r = generate({ packets, seed, out: path, profile });
  const m = { generatorVersion: GENERATOR_VERSION, profile, packets, seed, path, ...r };
  writeFileSync(meta, JSON.stringify(m, null, 2) + '\n');
  console.log(`${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`);
  return m;
}

function warm(path) {
  spawnSync('cat', [path], { stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] });
}

// ---------------------------------------------------------------------------------------------
// Running one command: wall time (hrtime around the child), CPU time and peak RSS, stderr.

const haveTime = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

/**
 * The environment of every timed command. NODE_EXTRA_CA_CERTS (set by some sandboxes and
 * corporate images) makes every Node.js process parse that CA bundle before running any code:
 * 50-80 ms per start on the machine this was written on, for a tool that opens no TLS
 * connection. The timed commands run without it; main() prints what it costs when it is set.
 */
const CHILD_ENV = { ...process.env };
delete CHILD_ENV.NODE_EXTRA_CA_CERTS;

/** Peak RSS without /usr/bin/time: poll the child's VmHWM (the kernel's high-water mark) until it exits; no CPU time. */
function runPolling(cmd, args, stdout) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', stdout, 'pipe'], env: CHILD_ENV });
    let stderr = '';
    let out = '';
    let peakKb = 0;
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout?.on('data', (c) => (out += c));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited between polls
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(poll);
      resolve({
        seconds: Number(process.hrtime.bigint() - start) / 1e9,
        cpu: NaN,
        peakKb,
        stderr,
        stdout: out,
        status,
      });
    });
  });
}

/** Runs a command with its standard output to /dev/null (or captured, for small outputs). */
async function run(cmd, args, captureStdout = false) {
  const devnull = openSync('/dev/null', 'w');
  const stdout = captureStdout ? 'pipe' : devnull;
  try {
    if (!haveTime) return await runPolling(cmd, args, stdout);
    const timeOut = join(tmpdir(), `lpa-bench-time-${process.pid}`);
    const start = process.hrtime.bigint();
    const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', timeOut, cmd, ...args], {
      env: CHILD_ENV,
      stdio: ['ignore', stdout, 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const [kb, user, sys] = readFileSync(timeOut, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    unlinkSync(timeOut);
    return { seconds, cpu: user + sys, peakKb: kb, stderr: r.stderr, stdout: r.stdout, status: r.status };
  } finally {
    closeSync(devnull);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Formatting.

const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const rate = (n) => (n >= 1e6 ? `${fmt(n / 1e6, 2)} M` : n >= 1e3 ? `${fmt(n / 1e3, 1)} k` : fmt(n));
const mb = (kb) => `${fmt(kb / 1024, 1)} MB`;
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const sizeLabel = (n) => (n >= 1e6 ? `${fmt(n / 1e6, n % 1e6 ? 1 : 0)}M` : `${fmt(n / 1e3, 0)}k`);

function table(rows, cap) {
  console.log(
    `  ${pad('', 36)}${lpad('CPU s', 8)}${lpad('wall s', 8)}${lpad('packets/CPU s', 15)}${lpad('peak RSS', 11)}   CPU s per run`,
  );
  for (const r of rows) {
    const cpu = median(r.cpu);
    console.log(
      `  ${pad(r.label, 36)}${lpad(cpu.toFixed(2), 8)}${lpad(median(r.times).toFixed(2), 8)}${lpad(cpu > 0 ? rate(cap.packets / cpu) : '-', 15)}${lpad(mb(Math.max(...r.rss)), 11)}   ${r.cpu.map((t) => t.toFixed(2)).join(' ')}`,
    );
  }
}

const verdicts = [];
function verdict(ok, text) {
  verdicts.push({ ok, text });
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
}

/** Our summary line must report every packet of the capture: a fast wrong answer is not a result. */
function checkPackets(label, stderr, expected) {
  const m = /lync-port-audit: ([\d,]+) packets/.exec(stderr);
  const got = m ? Number(m[1].replace(/,/g, '')) : NaN;
  if (got !== expected) throw new Error(`${label} reported ${got} packets, expected ${expected}:\n${stderr}`);
}

/** The summary line's flow count and live-flow peak, printed next to the numbers for context. */
function flowCounts(stderr) {
  const m = /packets, ([\d,]+) flows .* by the ([\d,]+)-flow peak/.exec(stderr);
  const n = (s) => Number(s.replace(/,/g, ''));
  return m ? { flows: n(m[1]), livePeak: n(m[2]) } : { flows: NaN, livePeak: NaN };
}

async function runOnce(label, cmd, args, packets) {
  const r = await run(cmd, args);
  if (r.status !== 0 && !(label.startsWith('lync-port-audit analyze') && r.status === 1))
    throw new Error(`${label} exited with ${r.status}: ${r.stderr}`);
  if (label.startsWith('lync-port-audit')) checkPackets(label, r.stderr, packets);
  return r;
}

// ---------------------------------------------------------------------------------------------

function ourCommands(path, reps) {
  return [
    {
      key: 'flows',
      label: 'lync-port-audit flows',
      cmd: process.execPath,
      args: [BIN, 'flows', '--no-progress', path],
      reps,
    },
    {
      key: 'analyze',
      label: 'lync-port-audit analyze',
      cmd: process.execPath,
      args: [BIN, 'analyze', '--no-progress', '--topology', TOPOLOGY, path],
      reps,
    },
  ];
}

async function timeProfile(o, cap, tools) {
  console.log(
    `\n[${cap.profile}] ${cap.path}: ${fmt(cap.packets)} packets, ${fmt(cap.bytes / 1e6, 1)} MB, ${fmt(cap.seconds)} s of traffic`,
  );
  warm(cap.path);
  const commands = ourCommands(cap.path, o.reps);
  if (tools.ndpi)
    commands.push({
      key: 'ndpi',
      label: 'ndpiReader -q -i (nDPI)',
      cmd: 'ndpiReader',
      args: ['-q', '-i', cap.path],
      reps: o.ndpiReps,
    });
  if (tools.tshark)
    commands.push({
      key: 'tshark',
      label: 'tshark -q -z conv,tcp -z conv,udp',
      cmd: 'tshark',
      args: ['-q', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', cap.path],
      reps: o.tsharkReps,
    });
  // Context: what any Node.js program pays here (start; start and read the file), and cat.
  commands.push(
    { key: 'cat', label: 'cat', cmd: 'cat', args: [cap.path], reps: o.reps },
    { key: 'nodeStart', label: 'floor: node -e 0', cmd: process.execPath, args: ['-e', '0'], reps: o.reps },
    {
      key: 'nodeRead',
      label: 'floor: node reading the file',
      cmd: process.execPath,
      args: ['--no-deprecation', join(ROOT, 'bench', 'readers.mjs'), 'buffer-loop', cap.path],
      reps: o.reps,
    },
  );
  for (const c of commands) {
    c.times = [];
    c.cpu = [];
    c.rss = [];
  }
  const maxReps = Math.max(...commands.map((c) => c.reps));
  console.log(
    `timing (${o.reps} runs${tools.ndpi ? `, ndpiReader ${o.ndpiReps}` : ''}${tools.tshark ? `, tshark ${o.tsharkReps}` : ''}, interleaved, page cache warm, stdout to /dev/null; medians):`,
  );
  for (let rep = 0; rep < maxReps; rep++) {
    for (const c of commands) {
      if (rep >= c.reps) continue;
      const r = await runOnce(c.label, c.cmd, c.args, cap.packets);
      if (c.key === 'flows') c.counts = flowCounts(r.stderr);
      c.times.push(r.seconds);
      c.cpu.push(r.cpu);
      c.rss.push(r.peakKb);
    }
    if (process.stdout.isTTY) process.stdout.write(`  run ${rep + 1}/${maxReps} done\r`);
  }
  if (process.stdout.isTTY) process.stdout.write('\x1b[K');
  table(commands, cap);
  const flowsCmd = commands.find((c) => c.key === 'flows');
  console.log(
    `  (${fmt(flowsCmd.counts.flows)} flows, at most ${fmt(flowsCmd.counts.livePeak)} live at once)`,
  );
  return Object.fromEntries(
    commands.map((c) => [
      c.key,
      {
        cpu: median(c.cpu),
        wall: median(c.times),
        cpuRuns: c.cpu,
        wallRuns: c.times,
        rssKb: Math.max(...c.rss),
      },
    ]),
  );
}

async function analyzeMemory(o, profile, caps) {
  console.log(`\n[${profile}] lync-port-audit analyze, peak RSS by format and capture size:`);
  console.log(
    `  ${pad('format', 8)}${o.rssSizes.map((n) => lpad(`${sizeLabel(n)} packets`, 16)).join('')}   spread`,
  );
  const out = {};
  for (const format of o.formats) {
    const peaks = [];
    const cells = [];
    for (const n of o.rssSizes) {
      const c = caps.get(`${profile}:${n}`);
      warm(c.path);
      const r = await runOnce(
        'lync-port-audit analyze',
        process.execPath,
        [BIN, 'analyze', '--no-progress', '--format', format, '--topology', TOPOLOGY, c.path],
        c.packets,
      );
      peaks.push(r.peakKb);
      cells.push(`${mb(r.peakKb)} ${r.cpu.toFixed(1)} s`);
    }
    const spread = (Math.max(...peaks) - Math.min(...peaks)) / Math.min(...peaks);
    out[format] = { peaksKb: peaks, spread };
    console.log(
      `  ${pad(format, 8)}${cells.map((x) => lpad(x, 16)).join('')}   ${(spread * 100).toFixed(1)}%`,
    );
  }
  return out;
}

async function stages(o, cap) {
  const modes = [
    ['buffer-loop', 'plain Buffer loop (record headers only)'],
    ['pcap-parser', 'pcap-parser 0.2.1 (classic pcap only)'],
    ['reader', 'our readCapture()'],
    ['decode', 'readCapture() + decodePacket()'],
    ['table', 'readCapture() + decode + FlowTable'],
    ['recognize', '+ recognizers and records (readFlowRecords)'],
  ];
  console.log(
    `\n[${cap.profile}] in-process stages on ${fmt(cap.packets)} packets (${o.readerReps} runs, median CPU; startup excluded):`,
  );
  const res = {};
  for (const [mode] of modes) {
    const cpu = [];
    const rss = [];
    for (let i = 0; i < o.readerReps; i++) {
      const r = await run(
        process.execPath,
        ['--no-deprecation', join(ROOT, 'bench', 'readers.mjs'), mode, cap.path],
        true,
      );
      if (r.status !== 0) throw new Error(`readers.mjs ${mode}: ${r.stderr}`);
      const line = JSON.parse(r.stdout);
      if (line.packets !== cap.packets)
        throw new Error(`${mode} read ${line.packets} packets, not ${cap.packets}`);
      cpu.push(line.cpuMs);
      rss.push(r.peakKb);
    }
    res[mode] = { cpuMs: median(cpu), runs: cpu, rssKb: Math.max(...rss) };
  }
  let prev = 0;
  for (const [mode, label] of modes) {
    const r = res[mode];
    const step =
      mode === 'buffer-loop' || mode === 'pcap-parser'
        ? ''
        : `+${fmt(((r.cpuMs - prev) * 1e6) / cap.packets)} ns`;
    console.log(
      `  ${pad(label, 46)}${lpad(fmt(r.cpuMs), 7)} ms ${lpad(fmt((r.cpuMs * 1e6) / cap.packets), 6)} ns/packet ${lpad(step, 10)} ${lpad(mb(r.rssKb), 10)}`,
    );
    if (mode !== 'pcap-parser') prev = r.cpuMs;
  }
  return res;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const results = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    options: o,
  };

  process.stdout.write('building dist/ ... ');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
  console.log('ok');

  const caps = new Map();
  for (const profile of o.profiles)
    for (const n of [...new Set([o.packets, ...o.rssSizes])].sort((a, b) => a - b))
      caps.set(`${profile}:${n}`, ensureCapture(profile, n, o.seed));

  const version = (cmd, args, pick) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 || r.stdout ? pick(r.stdout + r.stderr) : undefined;
  };
  const tools = {
    tshark: o.tsharkReps > 0 ? version('tshark', ['--version'], (t) => t.split('\n')[0]) : undefined,
    ndpi:
      o.ndpiReps > 0 ? version('ndpiReader', ['-h'], (t) => /nDPI [\d.]+/.exec(t)?.[0] ?? 'nDPI') : undefined,
  };
  console.log(
    `\nmachine: ${results.cpus} cores (${results.cpu}), node ${process.version}${tools.tshark ? `, ${tools.tshark}` : ''}${tools.ndpi ? `, ndpiReader (${tools.ndpi})` : ''}`,
  );
  if (o.ndpiReps > 0 && !tools.ndpi)
    console.log('SKIP ndpiReader: not installed (Debian package libndpi-bin); no comparison with nDPI');
  if (o.tsharkReps > 0 && !tools.tshark) console.log('SKIP tshark: not installed; no speedup measured');
  console.log(
    haveTime
      ? 'CPU time (user + system) and peak RSS from /usr/bin/time'
      : 'SKIP CPU time: /usr/bin/time is absent (peak RSS from polling /proc/<pid>/status VmHWM; ratios use wall time)',
  );
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    // Say what leaving it out saves, measured here, so the numbers below can be read either way.
    const starts = { with: [], without: [] };
    for (let i = 0; i < 5; i++)
      for (const [key, env] of [
        ['with', process.env],
        ['without', CHILD_ENV],
      ]) {
        const t = process.hrtime.bigint();
        spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
        starts[key].push(Number(process.hrtime.bigint() - t) / 1e9);
      }
    console.log(
      `NODE_EXTRA_CA_CERTS is set here: Node.js parses ${process.env.NODE_EXTRA_CA_CERTS} at every start ` +
        `(node -e 0: ${median(starts.with).toFixed(3)} s with it, ${median(starts.without).toFixed(3)} s without); ` +
        `the timed commands run without it`,
    );
    results.extraCaCertsStartCost = median(starts.with) - median(starts.without);
  }

  results.profiles = {};
  for (const profile of o.profiles) {
    const cap = caps.get(`${profile}:${o.packets}`);
    const r = { capture: cap, timing: await timeProfile(o, cap, tools) };
    if (o.rssSizes.length > 0) r.analyzeMemory = await analyzeMemory(o, profile, caps);
    if (o.readerReps > 0) r.stages = await stages(o, cap);
    results.profiles[profile] = r;
  }

  // --- verdicts -----------------------------------------------------------------------------
  console.log('\ntargets (issue 13; CPU seconds, medians):');
  const cost = (t) => (haveTime ? t.cpu : t.wall);
  for (const profile of o.profiles) {
    const { timing: t, analyzeMemory: m } = results.profiles[profile];
    const flows = cost(t.flows);
    const analyze = cost(t.analyze);
    if (t.ndpi) {
      const n = cost(t.ndpi);
      verdict(
        flows < n,
        `[${profile}] flows ${flows.toFixed(2)} s vs ndpiReader ${n.toFixed(2)} s: ${(flows / n).toFixed(2)}x (target < 1)`,
      );
      verdict(
        analyze < n,
        `[${profile}] analyze ${analyze.toFixed(2)} s vs ndpiReader ${n.toFixed(2)} s: ${(analyze / n).toFixed(2)}x (target < 1)`,
      );
    }
    if (t.tshark) {
      const ts = cost(t.tshark);
      for (const [name, v] of [
        ['flows', flows],
        ['analyze', analyze],
      ])
        verdict(
          ts / v >= TARGET_TSHARK_SPEEDUP,
          `[${profile}] ${name} ${(ts / v).toFixed(1)}x faster than tshark -z conv (${ts.toFixed(2)} s; target >= ${TARGET_TSHARK_SPEEDUP}x)`,
        );
    }
    verdict(
      analyze / flows <= TARGET_ANALYZE_OVER_FLOWS,
      `[${profile}] analyze ${(analyze / flows).toFixed(2)}x the CPU of flows (target <= ${TARGET_ANALYZE_OVER_FLOWS}x)`,
    );
    if (m) {
      for (const [format, r] of Object.entries(m)) {
        const peak = Math.max(...r.peaksKb);
        verdict(
          peak < TARGET_RSS_MB * 1024 && (o.rssSizes.length < 2 || r.spread <= SAME_PEAK_TOLERANCE),
          `[${profile}] analyze --format ${format} peak RSS ${r.peaksKb.map((kb, i) => `${mb(kb)} at ${sizeLabel(o.rssSizes[i])}`).join(', ')}` +
            `${o.rssSizes.length > 1 ? `, ${(r.spread * 100).toFixed(1)}% apart` : ''} (target < ${TARGET_RSS_MB} MB${o.rssSizes.length > 1 ? `, within ${SAME_PEAK_TOLERANCE * 100}%` : ''})`,
        );
      }
    }
    console.log(
      `        [${profile}] context: flows takes ${(t.flows.wall / t.cat.wall).toFixed(1)}x the wall time of cat; ` +
        `a Node.js process that only reads the file ${(t.nodeRead.wall / t.cat.wall).toFixed(1)}x (start ${t.nodeStart.wall.toFixed(3)} s)`,
    );
  }
  results.verdicts = verdicts;
  writeFileSync(join(OUT, 'last-run.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\n(numbers saved in ${join('bench', 'out', 'last-run.json')})`);
  if (o.strict && verdicts.some((v) => !v.ok)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
