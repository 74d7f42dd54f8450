/**
 * The campaign's corpus: the real captures of ../shared/captures (when present) and generated
 * ones (bench/generate.mjs, both traffic profiles, and the crafted captures of hostile.mjs),
 * always in the same order, so that a (seed, case) pair names the same input in every process.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../bench/generate.mjs';
import { sharedCorpus } from './case.mjs';
import { equalEndpoints, oldHashCollisions, synScan, udpFlows } from './hostile.mjs';

/** Writes the generated part of the corpus into `dir` (once: the same bytes every time). */
export function buildGenerated(dir) {
  mkdirSync(dir, { recursive: true });
  const out = (name) => join(dir, name);
  for (const profile of ['media', 'tcp']) {
    const path = out(`bench-${profile}-3000.pcap`);
    if (!existsSync(path)) generate({ packets: 3000, seed: 7, out: path, profile });
  }
  const small = [
    ['equal-endpoints-300.pcap', equalEndpoints],
    ['old-hash-collisions-300.pcap', oldHashCollisions],
    ['syn-scan-400.pcap', synScan],
    ['udp-flows-300.pcap', udpFlows],
  ];
  for (const [name, gen] of small)
    if (!existsSync(out(name))) gen({ count: 300, out: out(name), replies: true });
}

/** The corpus: shared captures first (sorted by name), then the generated ones. */
export function loadCorpus(sharedDir, generatedDir) {
  const corpus = sharedDir ? sharedCorpus(sharedDir) : [];
  for (const name of readdirSync(generatedDir).sort())
    corpus.push({ name: `generated/${name}`, bytes: readFileSync(join(generatedDir, name)) });
  return corpus;
}
