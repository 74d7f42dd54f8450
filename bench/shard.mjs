/**
 * Does splitting one capture over worker threads pay on this machine? (issue 13, "both cores")
 *
 *   node bench/shard.mjs <capture.pcap> <threads> [--check]
 *
 * threads = 1: the `flows` pipeline in-process (read, decode, flow table, recognizers, a record
 * per flow, JSON.stringify), the baseline.
 * threads = N > 1: N worker threads, each reading and decoding the whole capture and keeping the
 * packets whose flow it owns (a symmetric hash of the addresses and ports, modulo N: both
 * directions of a flow go to the same worker), each with its own flow table and recognizers; the
 * main thread collects the JSON records. Every worker reads every packet: routing packets from
 * one reader instead would put a copy of every packet through shared memory, and the reader alone
 * is about a third of the per-packet work (bench/readers.mjs), so neither way avoids a serial part.
 * The split's records are compared with the baseline's (--check: same records, as a multiset);
 * the order of ending flows, which the single table defines, is not reproduced by this prototype.
 *
 * Prints one JSON line: wall seconds, process CPU seconds (all threads), flows.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const dist = new URL('../dist/', import.meta.url);

async function shard(file, index, count) {
  const { readCapture } = await import(new URL('capture/reader.js', dist));
  const { decodePacket } = await import(new URL('decode/packet.js', dist));
  const { createPacketView } = await import(new URL('decode/view.js', dist));
  const { FlowTable } = await import(new URL('flow/table.js', dist));
  const { toFlowRecord } = await import(new URL('flow/record.js', dist));
  const { RECOGNIZERS, attachApp, createAppObserver } = await import(new URL('recognize/index.js', dist));
  const apps = createAppObserver(RECOGNIZERS);
  const out = [];
  const table = new FlowTable({
    observer: apps.observer,
    onFlowEnd: (flow) => out.push(JSON.stringify(attachApp(toFlowRecord(flow, 0), apps.finish(flow)))),
  });
  const view = createPacketView();
  const mix = (h, w) => Math.imul(h ^ w, 0x9e3779b1) >>> 0;
  await readCapture(file, {
    onRecord: (rec) => {
      decodePacket(rec.buf, rec.offset, rec.caplen, rec.linkType, view);
      if (count > 1) {
        // Symmetric: the sum of the two endpoints' hashes is the same both ways.
        const a = mix(
          mix(mix(mix(view.src0, view.src1), view.src2), view.src3),
          view.hasPorts ? view.srcPort : 0,
        );
        const b = mix(
          mix(mix(mix(view.dst0, view.dst1), view.dst2), view.dst3),
          view.hasPorts ? view.dstPort : 0,
        );
        if (((a + b) >>> 0) % count !== index) return;
      }
      view.ts = rec.tsSec + rec.tsNsec / 1e9;
      table.add(view, rec.buf, rec.origLen, rec.index);
    },
  });
  table.finish();
  return out;
}

if (!isMainThread) {
  const { file, index, count } = workerData;
  parentPort.postMessage(await shard(file, index, count));
} else {
  const [file, threadsArg, check] = process.argv.slice(2);
  const threads = Number(threadsArg);
  if (!file || !Number.isInteger(threads) || threads < 1) {
    console.error('usage: node bench/shard.mjs <capture.pcap> <threads> [--check]');
    process.exit(2);
  }
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let records;
  if (threads === 1) records = await shard(file, 0, 1);
  else {
    const parts = await Promise.all(
      Array.from(
        { length: threads },
        (_, index) =>
          new Promise((resolve, reject) => {
            const w = new Worker(new URL(import.meta.url), { workerData: { file, index, count: threads } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    records = parts.flat();
  }
  const cpu = process.cpuUsage(c0);
  const result = {
    threads,
    wall: Number(process.hrtime.bigint() - t0) / 1e9,
    cpu: (cpu.user + cpu.system) / 1e6,
    flows: records.length,
  };
  if (check === '--check' && threads > 1) {
    const base = (await shard(file, 0, 1)).sort();
    const split = [...records].sort();
    result.sameRecords = base.length === split.length && base.every((r, i) => r === split[i]);
  }
  console.log(JSON.stringify(result));
}
