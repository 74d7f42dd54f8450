/**
 * One measurement in a fresh process, printed as one JSON line: how long one way of reading the
 * capture takes, from opening the file to the last record (Node's startup and module loading
 * are not counted; the wall time of the whole process is measured by run.mjs).
 *
 *   buffer-loop  4 MiB readSync chunks, walk the 16-byte record headers, nothing else: the floor
 *   pcap-parser  the design card's package: parse(path), count 'packet' events
 *   reader       our readCapture() with an empty onRecord
 *   decode       readCapture() + decodePacket() into one PacketView
 *   table        readCapture() + decodePacket() + FlowTable.add() (no recognizers, no output)
 *   recognize    readFlowRecords(): the table plus the recognizers and a record per flow (no output)
 *
 * Usage: node bench/readers.mjs <mode> <capture.pcap>
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

const [mode, file] = process.argv.slice(2);
const dist = new URL('../dist/', import.meta.url);

function bufferLoop() {
  // Classic pcap only, little-endian only: the cheapest possible walk over the same bytes.
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  let end = readSync(fd, buf, 0, buf.length, null);
  let pos = 24;
  let packets = 0;
  let captured = 0;
  for (;;) {
    if (end - pos < 16 || end - pos < 16 + buf.readUInt32LE(pos + 8)) {
      buf.copy(buf, 0, pos, end);
      end -= pos;
      pos = 0;
      const got = readSync(fd, buf, end, buf.length - end, null);
      if (got === 0) break;
      end += got;
      continue;
    }
    const caplen = buf.readUInt32LE(pos + 8);
    packets++;
    captured += caplen;
    pos += 16 + caplen;
  }
  closeSync(fd);
  return Promise.resolve({ packets, captured });
}

function pcapParser() {
  const pcapp = createRequire(import.meta.url)('pcap-parser');
  return new Promise((resolve, reject) => {
    let packets = 0;
    let captured = 0;
    const parser = pcapp.parse(file);
    parser.on('packet', (p) => {
      packets++;
      captured += p.header.capturedLength;
    });
    parser.on('error', reject);
    parser.on('end', () => resolve({ packets, captured }));
  });
}

async function ours(stage) {
  const { readCapture } = await import(new URL('capture/reader.js', dist));
  const { decodePacket } = await import(new URL('decode/packet.js', dist));
  const { createPacketView } = await import(new URL('decode/view.js', dist));
  const { FlowTable } = await import(new URL('flow/table.js', dist));
  let packets = 0;
  let captured = 0;
  let flows = 0;
  const view = createPacketView();
  const table = new FlowTable({ onFlowEnd: () => flows++ });
  const onRecord =
    stage === 'reader'
      ? (rec) => {
          packets++;
          captured += rec.caplen;
        }
      : stage === 'decode'
        ? (rec) => {
            packets++;
            captured += rec.caplen;
            decodePacket(rec.buf, rec.offset, rec.caplen, rec.linkType, view);
          }
        : (rec) => {
            packets++;
            captured += rec.caplen;
            decodePacket(rec.buf, rec.offset, rec.caplen, rec.linkType, view);
            view.ts = rec.tsSec + rec.tsNsec / 1e9;
            table.add(view, rec.buf, rec.origLen, rec.index);
          };
  const summary = await readCapture(file, { onRecord });
  if (summary.error) throw summary.error;
  if (stage === 'table') table.finish();
  return { packets, captured, flows: stage === 'table' ? flows : undefined };
}

async function recognize() {
  const { readFlowRecords } = await import(new URL('recognize/records.js', dist));
  let flows = 0;
  const r = await readFlowRecords([file], { onRecord: () => flows++ });
  const c = r.captures[0];
  if (c.error) throw c.error;
  return { packets: c.packets, captured: c.capturedBytes, flows };
}

const modes = {
  'buffer-loop': bufferLoop,
  'pcap-parser': pcapParser,
  reader: () => ours('reader'),
  decode: () => ours('decode'),
  table: () => ours('table'),
  recognize,
};
if (!modes[mode] || !file) {
  console.error(`usage: node bench/readers.mjs <${Object.keys(modes).join('|')}> <capture.pcap>`);
  process.exit(2);
}
const start = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const result = await modes[mode]();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const cpu = process.cpuUsage(cpu0);
// CPU time (all threads, user + system) alongside wall time: on a busy machine it is the steadier number.
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(JSON.stringify({ mode, ms, cpuMs, ...result }) + '\n');
