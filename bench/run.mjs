/**
 * `npm run bench`: the performance targets of issue 2, measured in one run.
 *
 * 1. Builds dist/ and the deterministic Lync-like captures (bench/generate.mjs) in bench/out/,
 *    reusing a capture already built by the same generator version with the same parameters.
 * 2. Warms the page cache, then times side by side, interleaved, several repetitions each
 *    (median reported), every command with its standard output sent to /dev/null:
 *      cat <file>
 *      node bin/lync-port-audit flows <file>
 *      tshark -q -z conv,tcp -z conv,udp -r <file>
 *      node -e 0, and node bench/readers.mjs buffer-loop <file>: what any Node.js program pays to
 *      start, and to start and read the file (the floor under the ratio to cat)
 *    Peak RSS comes from /usr/bin/time -f %M when present, else from polling VmHWM in /proc.
 * 3. Runs our CLI on both the 1M and the 5M-packet capture to compare peak RSS (the target is
 *    the same peak for both: memory must not grow with the input).
 * 4. Compares ways of reading the capture in fresh processes (bench/readers.mjs): a plain
 *    Buffer loop over the record headers, the pcap-parser package, our reader, and our reader
 *    plus decoding plus the flow table.
 * 5. Prints PASS/FAIL per target and writes the numbers to bench/out/last-run.json.
 *
 * Options:
 *   --packets N       capture size for the timing table (default 1000000)
 *   --rss-sizes A,B   sizes whose peak RSS must match (default 1000000,5000000; "none" to skip)
 *   --reps N          repetitions of cat and flows (default 5)
 *   --tshark-reps N   repetitions of tshark (default 3; 0 skips tshark)
 *   --reader-reps N   repetitions of each reader measurement (default 3; 0 skips them)
 *   --seed N          generator seed (default 1)
 *   --strict          exit 1 when a target fails
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
import { GENERATOR_VERSION, generate } from './generate.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');
const BIN = join(ROOT, 'bin', 'lync-port-audit');
const TIME = '/usr/bin/time';

const TARGET_TSHARK_SPEEDUP = 15;
const TARGET_CAT_SLOWDOWN = 6;
const TARGET_RSS_MB = 150;
/** "The same peak": within this fraction of each other (V8's heap sizing varies by a few MB run to run). */
const SAME_PEAK_TOLERANCE = 0.1;

function parseArgs(argv) {
  const o = {
    packets: 1_000_000,
    rssSizes: [1_000_000, 5_000_000],
    reps: 5,
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
    if (a === '--packets') o.packets = num();
    else if (a === '--rss-sizes') {
      const v = argv[++i];
      o.rssSizes = v === 'none' ? [] : v.split(',').map(Number);
    } else if (a === '--reps') o.reps = Math.max(1, num());
    else if (a === '--tshark-reps') o.tsharkReps = num();
    else if (a === '--reader-reps') o.readerReps = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--strict') o.strict = true;
    else throw new Error(`unknown option ${a} (see the comment at the top of bench/run.mjs)`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------

function capturePath(packets, seed) {
  return join(OUT, `lync-${packets}-s${seed}.pcap`);
}

/** Builds the capture unless one from the same generator version and parameters is there. */
function ensureCapture(packets, seed) {
  const path = capturePath(packets, seed);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.generatorVersion === GENERATOR_VERSION && m.bytes === statSync(path).size) return m;
  }
  mkdirSync(OUT, { recursive: true });
  process.stdout.write(`building ${path} ... `);
  const t = process.hrtime.bigint();
  const r = generate({ packets, seed, out: path });
  const m = { generatorVersion: GENERATOR_VERSION, packets, seed, path, ...r };
  writeFileSync(meta, JSON.stringify(m, null, 2) + '\n');
  console.log(`${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`);
  return m;
}

function warm(path) {
  spawnSync('cat', [path], { stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] });
}

// ---------------------------------------------------------------------------------------------
// Running one command: wall time (hrtime around the child), peak RSS, stderr.

const haveTime = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

/**
 * The environment of every timed command. NODE_EXTRA_CA_CERTS (set by some sandboxes and
 * corporate images) makes every Node.js process parse that CA bundle before running any code:
 * 50-80 ms per start on the machine this was written on, for a tool that opens no TLS
 * connection. The timed commands run without it; main() prints what it costs when it is set.
 */
const CHILD_ENV = { ...process.env };
delete CHILD_ENV.NODE_EXTRA_CA_CERTS;

/** Peak RSS without /usr/bin/time: poll the child's VmHWM (the kernel's high-water mark) until it exits. */
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
    const r = spawnSync(TIME, ['-f', '%M', '-o', timeOut, cmd, ...args], {
      env: CHILD_ENV,
      stdio: ['ignore', stdout, 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const peakKb = Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop());
    unlinkSync(timeOut);
    return { seconds, peakKb, stderr: r.stderr, stdout: r.stdout, status: r.status };
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

function table(rows, cap) {
  console.log(
    `  ${pad('', 36)}${lpad('median s', 10)}${lpad('packets/s', 12)}${lpad('MB/s', 9)}${lpad('peak RSS', 11)}   runs`,
  );
  for (const r of rows) {
    const s = median(r.times);
    console.log(
      `  ${pad(r.label, 36)}${lpad(s.toFixed(3), 10)}${lpad(rate(cap.packets / s), 12)}${lpad(fmt(cap.bytes / 1e6 / s), 9)}${lpad(mb(Math.max(...r.rss)), 11)}   ${r.times.map((t) => t.toFixed(2)).join(' ')}`,
    );
  }
}

const verdicts = [];
function verdict(ok, text) {
  verdicts.push({ ok, text });
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const results = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
  };

  process.stdout.write('building dist/ ... ');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
  console.log('ok');

  const sizes = [...new Set([o.packets, ...o.rssSizes])].sort((a, b) => a - b);
  const caps = new Map(sizes.map((n) => [n, ensureCapture(n, o.seed)]));
  const cap = caps.get(o.packets);

  const tshark = o.tsharkReps > 0 && spawnSync('tshark', ['--version']).status === 0;
  const tsharkVersion = tshark
    ? spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]
    : '';
  console.log(
    `\nmachine: ${results.cpus} cores (${results.cpu}), node ${process.version}${tshark ? `, ${tsharkVersion}` : ''}`,
  );
  console.log(`peak RSS from ${haveTime ? '/usr/bin/time -f %M' : 'polling /proc/<pid>/status VmHWM'}`);
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
    const cost = median(starts.with) - median(starts.without);
    console.log(
      `NODE_EXTRA_CA_CERTS is set here: Node.js parses ${process.env.NODE_EXTRA_CA_CERTS} at every start ` +
        `(node -e 0: ${median(starts.with).toFixed(3)} s with it, ${median(starts.without).toFixed(3)} s without); ` +
        `the timed commands run without it`,
    );
    results.extraCaCertsStartCost = cost;
  }
  console.log(
    `\n${cap.path}: ${fmt(cap.packets)} packets, ${fmt(cap.bytes / 1e6, 1)} MB, ${fmt(cap.seconds)} s of traffic`,
  );

  // --- side by side --------------------------------------------------------------------------
  warm(cap.path);
  const commands = [
    { key: 'cat', label: 'cat', cmd: 'cat', args: [cap.path], reps: o.reps },
    {
      key: 'flows',
      label: 'lync-port-audit flows',
      cmd: process.execPath,
      args: [BIN, 'flows', '--no-progress', cap.path],
      reps: o.reps,
    },
  ];
  // What any Node.js program pays on this machine, measured in the same run: starting the runtime,
  // and starting it plus reading the file through a Buffer loop over the record headers. They
  // bound from below what the ratio to cat can be for a tool written in Node.js.
  commands.push(
    { key: 'nodeStart', label: 'floor: node -e 0', cmd: process.execPath, args: ['-e', '0'], reps: o.reps },
    {
      key: 'nodeRead',
      label: 'floor: node reading the file',
      cmd: process.execPath,
      args: ['--no-deprecation', join(ROOT, 'bench', 'readers.mjs'), 'buffer-loop', cap.path],
      reps: o.reps,
    },
  );
  if (tshark)
    commands.push({
      key: 'tshark',
      label: 'tshark -q -z conv,tcp -z conv,udp',
      cmd: 'tshark',
      args: ['-q', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', cap.path],
      reps: o.tsharkReps,
    });
  for (const c of commands) {
    c.times = [];
    c.rss = [];
  }
  const maxReps = Math.max(...commands.map((c) => c.reps));
  console.log(
    `\ntiming (${o.reps} runs${tshark ? `, tshark ${o.tsharkReps}` : ''}, interleaved, page cache warm, stdout to /dev/null):`,
  );
  for (let rep = 0; rep < maxReps; rep++) {
    for (const c of commands) {
      if (rep >= c.reps) continue;
      const r = await run(c.cmd, c.args);
      if (r.status !== 0) throw new Error(`${c.label} exited with ${r.status}: ${r.stderr}`);
      if (c.key === 'flows') {
        checkPackets(r.stderr, cap.packets);
        c.stderr = r.stderr;
      }
      c.times.push(r.seconds);
      c.rss.push(r.peakKb);
    }
    if (process.stdout.isTTY) process.stdout.write(`  run ${rep + 1}/${maxReps} done\r`);
  }
  if (process.stdout.isTTY) process.stdout.write('\x1b[K');
  table(commands, cap);
  const by = Object.fromEntries(
    commands.map((c) => [c.key, { median: median(c.times), times: c.times, rssKb: c.rss }]),
  );
  results.timing = { packets: cap.packets, bytes: cap.bytes, ...by };

  // --- peak RSS at every size ----------------------------------------------------------------
  const rssBySize = new Map();
  for (const n of o.rssSizes) {
    if (n === o.packets) {
      const stderr = commands.find((c) => c.key === 'flows').stderr;
      rssBySize.set(n, {
        kb: Math.max(...by.flows.rssKb),
        seconds: by.flows.median,
        livePeak: livePeak(stderr),
      });
      continue;
    }
    const c = caps.get(n);
    warm(c.path);
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const r = await run(process.execPath, [BIN, 'flows', '--no-progress', c.path]);
      if (r.status !== 0) throw new Error(`flows on ${c.path} exited with ${r.status}: ${r.stderr}`);
      checkPackets(r.stderr, c.packets);
      runs.push(r);
    }
    rssBySize.set(n, {
      kb: Math.max(...runs.map((r) => r.peakKb)),
      seconds: median(runs.map((r) => r.seconds)),
      livePeak: livePeak(runs[0].stderr),
    });
  }
  if (o.rssSizes.length > 0) {
    console.log('\nlync-port-audit flows, peak RSS by capture size:');
    for (const [n, r] of rssBySize) {
      const c = caps.get(n);
      console.log(
        `  ${lpad(fmt(n), 10)} packets  ${lpad(mb(r.kb), 9)}   ${r.seconds.toFixed(2)} s  ${rate(n / r.seconds)} packets/s  ${fmt(c.bytes / 1e6 / r.seconds)} MB/s  ${fmt(r.livePeak)} live flows at the peak`,
      );
    }
    results.rss = Object.fromEntries([...rssBySize].map(([n, r]) => [n, r]));
  }

  // --- readers ------------------------------------------------------------------------------
  if (o.readerReps > 0) {
    const modes = [
      ['buffer-loop', 'plain Buffer loop (record headers only)'],
      ['pcap-parser', 'pcap-parser 0.2.1 (classic pcap only)'],
      ['reader', 'our readCapture()'],
      ['decode', 'readCapture() + decodePacket()'],
      ['table', 'readCapture() + decode + FlowTable'],
    ];
    console.log(
      `\nreading ${fmt(cap.packets)} packets in-process (${o.readerReps} runs, median; startup excluded):`,
    );
    results.readers = {};
    for (const [mode] of modes) {
      const ms = [];
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
        ms.push(line.ms);
        rss.push(r.peakKb);
      }
      results.readers[mode] = { ms: median(ms), runs: ms, rssKb: Math.max(...rss) };
    }
    const base = results.readers['buffer-loop'].ms;
    for (const [mode, label] of modes) {
      const r = results.readers[mode];
      console.log(
        `  ${pad(label, 42)}${lpad(fmt(r.ms), 7)} ms ${lpad(rate((cap.packets / r.ms) * 1000), 10)} packets/s ${lpad((r.ms / base).toFixed(1), 6)}x loop ${lpad(mb(r.rssKb), 10)}`,
      );
    }
  }

  // --- verdicts -----------------------------------------------------------------------------
  console.log('\ntargets (issue 2):');
  if (by.tshark) {
    const speedup = by.tshark.median / by.flows.median;
    verdict(
      speedup >= TARGET_TSHARK_SPEEDUP,
      `${speedup.toFixed(1)}x faster than tshark (target >= ${TARGET_TSHARK_SPEEDUP}x)`,
    );
    results.speedupVsTshark = speedup;
  } else console.log('  SKIP  tshark is not installed (or --tshark-reps 0): no speedup measured');
  const slowdown = by.flows.median / by.cat.median;
  verdict(
    slowdown <= TARGET_CAT_SLOWDOWN,
    `${slowdown.toFixed(1)}x the time of cat (target <= ${TARGET_CAT_SLOWDOWN}x)`,
  );
  results.slowdownVsCat = slowdown;
  const floor = by.nodeRead.median / by.cat.median;
  console.log(
    `        (a Node.js process that only reads the file takes ${floor.toFixed(1)}x the time of cat here: ` +
      `${by.nodeStart.median.toFixed(3)} s to start, ${(by.nodeRead.median - by.nodeStart.median).toFixed(3)} s to read)`,
  );
  results.nodeFloorVsCat = floor;
  const peaks =
    o.rssSizes.length > 0 ? [...rssBySize.values()].map((r) => r.kb) : [Math.max(...by.flows.rssKb)];
  const maxPeak = Math.max(...peaks);
  verdict(
    maxPeak < TARGET_RSS_MB * 1024,
    `peak RSS ${o.rssSizes.length > 0 ? [...rssBySize].map(([n, r]) => `${mb(r.kb)} at ${fmt(n / 1e6, 0)}M`).join(', ') : mb(maxPeak)} (target < ${TARGET_RSS_MB} MB)`,
  );
  if (o.rssSizes.length > 1) {
    const spread = (maxPeak - Math.min(...peaks)) / Math.min(...peaks);
    verdict(
      spread <= SAME_PEAK_TOLERANCE,
      `same peak at ${o.rssSizes.map((n) => `${fmt(n / 1e6, 0)}M`).join(' and ')} packets: ${(spread * 100).toFixed(1)}% apart (target: within ${SAME_PEAK_TOLERANCE * 100}%)`,
    );
  }
  results.verdicts = verdicts;
  writeFileSync(join(OUT, 'last-run.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\n(numbers saved in ${join('bench', 'out', 'last-run.json')})`);
  if (o.strict && verdicts.some((v) => !v.ok)) process.exitCode = 1;
}

/**
 * The most flows live at once, from our summary line, printed next to the peak RSS for context:
 * it is not the same at every capture length (unanswered SYNs stay live for the 300 s TCP
 * timeout, longer than the 1M-packet capture lasts).
 */
function livePeak(stderr) {
  const m = /by the ([\d,]+)-flow peak/.exec(stderr);
  return m ? Number(m[1].replace(/,/g, '')) : NaN;
}

/** Our summary line must report every packet of the capture: a fast wrong answer is not a result. */
function checkPackets(stderr, expected) {
  const m = /lync-port-audit: ([\d,]+) packets/.exec(stderr);
  const got = m ? Number(m[1].replace(/,/g, '')) : NaN;
  if (got !== expected) throw new Error(`flows reported ${got} packets, expected ${expected}:\n${stderr}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
