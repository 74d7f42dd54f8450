/**
 * Recognizer tests end to end: TCP connections and UDP datagrams that carry given payload bytes
 * (written into a pcap with real checksums, so tshark reads the same file), run through the real
 * pipeline in-process (readFlows → the app observer → flow records with app fields).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from './capture-writer.js';
import { ACK, FIN, PROTO_TCP, PROTO_UDP, PSH, RST, SYN, tcp, udp } from './packets.js';
import { ipFrame, Trace, type TcpEnds } from './traffic.js';
import { readFlows } from '../../src/flow/read.js';
import { toFlowRecord, type FlowRecord } from '../../src/flow/record.js';
import { RECOGNIZERS, attachApp, createAppObserver } from '../../src/recognize/index.js';
import type { Recognizer } from '../../src/recognize/types.js';

/** A TCP connection whose segments carry chosen bytes; each side keeps its own sequence number. */
export class ByteConn {
  private cseq: number;
  private sseq: number;

  constructor(
    readonly trace: Trace,
    readonly ends: TcpEnds,
  ) {
    this.cseq = ends.cisn ?? 1000;
    this.sseq = ends.sisn ?? 5000;
  }

  handshake(): this {
    this.emit(true, SYN, Buffer.alloc(0), this.cseq);
    this.cseq++;
    this.emit(false, SYN | ACK, Buffer.alloc(0), this.sseq);
    this.sseq++;
    return this.emit(true, ACK, Buffer.alloc(0), this.cseq);
  }

  /** Sends bytes in order (one segment, or `split` segments cut at the given offsets). */
  send(fromClient: boolean, data: Buffer, split: number[] = []): this {
    const cuts = [0, ...split, data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const piece = data.subarray(cuts[i], cuts[i + 1]);
      this.emit(fromClient, ACK | PSH, piece, fromClient ? this.cseq : this.sseq);
      if (fromClient) this.cseq = (this.cseq + piece.length) >>> 0;
      else this.sseq = (this.sseq + piece.length) >>> 0;
    }
    return this;
  }

  /**
   * Sends `data` as segments in the order given by `order` (indices into the pieces cut at
   * `split`): out-of-order delivery; the side's sequence number ends after all of them.
   */
  sendOutOfOrder(fromClient: boolean, data: Buffer, split: number[], order: number[]): this {
    const cuts = [0, ...split, data.length];
    const base = fromClient ? this.cseq : this.sseq;
    for (const k of order) {
      const piece = data.subarray(cuts[k], cuts[k + 1]);
      this.emit(fromClient, ACK | PSH, piece, (base + cuts[k]) >>> 0);
    }
    if (fromClient) this.cseq = (base + data.length) >>> 0;
    else this.sseq = (base + data.length) >>> 0;
    return this;
  }

  /** Skips `n` bytes of one side's stream (as if those segments were not captured). */
  lose(fromClient: boolean, n: number): this {
    if (fromClient) this.cseq = (this.cseq + n) >>> 0;
    else this.sseq = (this.sseq + n) >>> 0;
    return this;
  }

  ack(fromClient: boolean): this {
    return this.emit(fromClient, ACK, Buffer.alloc(0), fromClient ? this.cseq : this.sseq);
  }

  reset(fromClient: boolean): this {
    return this.emit(fromClient, RST | ACK, Buffer.alloc(0), fromClient ? this.cseq : this.sseq);
  }

  close(): this {
    this.emit(true, FIN | ACK, Buffer.alloc(0), this.cseq);
    this.cseq++;
    this.emit(false, FIN | ACK, Buffer.alloc(0), this.sseq);
    this.sseq++;
    return this.emit(true, ACK, Buffer.alloc(0), this.cseq);
  }

  private emit(fromClient: boolean, flags: number, payload: Buffer, seq: number): this {
    const e = this.ends;
    const ack = flags & ACK ? (fromClient ? this.sseq : this.cseq) : 0;
    const seg = tcp({
      src: fromClient ? e.client : e.server,
      dst: fromClient ? e.server : e.client,
      sport: fromClient ? e.cport : e.sport,
      dport: fromClient ? e.sport : e.cport,
      seq,
      ack,
      flags,
      payload,
    });
    this.trace.add(
      ipFrame(fromClient ? e.client : e.server, fromClient ? e.server : e.client, PROTO_TCP, seg),
    );
    return this;
  }
}

/** A STUN Binding request (RFC 8489 section 5): type 0x0001, length 0, magic cookie, 96-bit transaction id. */
export function stunBinding(tid: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  b.writeUInt32BE(tid, 16);
  return b;
}

/** One UDP datagram with the given payload. */
export function udpDatagram(
  trace: Trace,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: Buffer,
): void {
  trace.add(ipFrame(src, dst, PROTO_UDP, udp({ src, dst, sport, dport, payload })));
}

let tmp: string | undefined;

/** Writes the trace to a pcap file in a temporary directory and returns its path. */
export function writeTrace(trace: Trace, name: string): string {
  tmp ??= mkdtempSync(join(tmpdir(), 'lpa-app-'));
  const path = join(tmp, name.endsWith('.pcap') ? name : `${name}.pcap`);
  writeFileSync(path, writePcap(trace.packets));
  return path;
}

/** Runs capture files through the real pipeline and returns the flow records with app fields. */
export async function recognizeFiles(
  files: string[],
  recognizers: readonly Recognizer[] = RECOGNIZERS,
): Promise<FlowRecord[]> {
  const apps = createAppObserver(recognizers);
  const out: FlowRecord[] = [];
  await readFlows(files, {
    observer: apps.observer,
    onFlow: (flow) => out.push(attachApp(toFlowRecord(flow, 0), apps.finish(flow))),
  });
  return out.sort((a, b) => a.first_frame - b.first_frame);
}

export async function recognizeTrace(trace: Trace, name = 'trace'): Promise<FlowRecord[]> {
  return recognizeFiles([writeTrace(trace, name)]);
}

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}
