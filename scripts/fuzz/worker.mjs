/**
 * A fuzz worker (a child process of scripts/fuzz/run.mjs): builds the cases it is sent, from the
 * same corpus as the parent, runs each through the built library (dist/index.js) and reports
 * what happened. The parent watches the time and memory of each case and kills a worker that
 * hangs or grows too large; that is why cases run here and not in the parent.
 *
 * Peak memory per case: the kernel's high-water mark (VmHWM) is reset before each case by
 * writing 5 to /proc/self/clear_refs (Linux, proc(5)), then read after it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runCase } from './case.mjs';
import { makeCase } from './mutate.mjs';
import { loadCorpus } from './corpus.mjs';

const [root, work, sharedDir] = process.argv.slice(2);
const lib = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
const catalog = lib.loadCatalogForAnalysis(lib.DEFAULT_PRODUCT, []);
const corpus = loadCorpus(sharedDir, join(work, 'generated'));

function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakMb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

process.on('message', async (msg) => {
  const { seed, index } = msg;
  const c = makeCase(corpus, seed, index);
  const path = join(work, `case-${process.pid}${c.gzip ? '.pcap.gz' : '.pcap'}`);
  writeFileSync(path, c.bytes);
  resetPeak();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await runCase(lib, catalog, path, c.bytes.length, c.gzip, { html: index % 16 === 0 });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  rmSync(path, { force: true });
  process.send({
    index,
    base: c.base,
    mutations: c.mutations,
    gzip: c.gzip,
    size: c.bytes.length,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    rssMb: peakMb(),
    faults: result.faults,
    records: result.records,
    packets: result.packets,
  });
});
process.send({ ready: true });
