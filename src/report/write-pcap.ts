/**
 * `--write-pcap FILE`: the packets of the chosen flows (by default the problem flows), read again
 * from their captures and written as pcapng for Wireshark. The first packet of each flow carries
 * a comment with its verdict and reason and the flow in words; every packet carries its frame
 * number in the capture it came from; the ICMP errors that quote a chosen flow's packets come
 * along with their own comment. One interface per source capture (and link type), named after
 * it, so Wireshark's frame.interface_name tells the captures apart.
 */
import { basename } from 'node:path';
import type { CaptureRecord } from '../capture/record.js';
import type { PacketView } from '../decode/view.js';
import { FlowIndex, type FlowKeyFields } from '../flow/flow-index.js';
import { endpoint } from '../flow/endpoint.js';
import { icmpErrorName } from '../flow/icmp-names.js';
import { readPackets, type ReadPacketsOptions } from '../flow/packets.js';
import { parsePrefix } from '../topology/address.js';
import type { JudgedFlow } from '../verdict/types.js';
import { PcapngWriter } from './pcapng-writer.js';

/** A chosen flow: its key, its frames, and what its first packet's comment says. */
export interface PcapFlow extends FlowKeyFields {
  proto: string;
  ts: number;
  duration: number;
  orig_pkts: number;
  resp_pkts: number;
  /** Comment lines for the flow's first packet (verdict and reason first). */
  comment: string[];
}

/** One capture (one or more files read as one, frame numbers continuing) and its chosen flows. */
export interface PcapSource {
  /** Prefix of each packet's frame comment, e.g. "capture a" (empty for analyze). */
  label: string;
  inputs: string[];
  flows: PcapFlow[];
}

export interface WritePcapResult {
  packets: number;
  flows: number;
  /** ICMP errors about the chosen flows, written with them. */
  icmpErrors: number;
  /** Chosen flows whose packets in the file do not add up to their counts (a capture that changed). */
  short: number;
}

/** Seconds after a flow's last packet in which an ICMP error about it still belongs to it. */
const ICMP_SLACK = 2;

interface Written {
  flow: PcapFlow;
  packets: number;
}

export function openPcap(path: string, application: string): PcapngWriter {
  return new PcapngWriter(path, application);
}

export async function writeFlowPackets(
  writer: PcapngWriter,
  sources: PcapSource[],
  options: ReadPacketsOptions,
): Promise<WritePcapResult> {
  const result: WritePcapResult = { packets: 0, flows: 0, icmpErrors: 0, short: 0 };
  for (const source of sources) {
    if (source.flows.length === 0) continue;
    const index = new FlowIndex<PcapFlow>();
    const written = new Map<PcapFlow, Written>();
    for (const f of source.flows) {
      index.add(f, parsePrefix(f.orig_h), parsePrefix(f.resp_h));
      written.set(f, { flow: f, packets: 0 });
    }
    // Frame numbers continue across a source's inputs; comments name each input's own frame.
    let input = 0;
    let start = 1;
    let lastFrame = -1;
    const names = source.inputs.map((p) => (p === '-' ? 'stdin' : basename(p)));
    const where = (rec: CaptureRecord): string => {
      const local = rec.index - start + 1;
      const own = `frame ${local} of ${names[input]}`;
      return source.label ? `${source.label}: ${own}` : own;
    };
    const onPacket = (view: PacketView, rec: CaptureRecord): void => {
      let flow = index.find(view, rec.index);
      let comments: string[];
      if (flow !== null) {
        const w = written.get(flow)!;
        w.packets++;
        comments = w.packets === 1 ? [...flow.comment, where(rec)] : [where(rec)];
      } else {
        flow = index.findQuoted(view, rec.index, view.ts, ICMP_SLACK, (f) => [f.ts, f.ts + f.duration]);
        if (flow === null) return;
        result.icmpErrors++;
        const name = icmpErrorName(view.ipVersion, view.icmpType, view.icmpCode);
        comments = [`ICMP ${name} about ${flowText(flow)}`, where(rec)];
      }
      // A VXLAN frame matched as its outer flow is not written again for its inner one.
      if (view.secondPass && lastFrame === rec.index) return;
      lastFrame = rec.index;
      const iface = writer.interfaceFor(
        names[input],
        rec.linkType,
        `lync-port-audit: packets from ${source.inputs[input]}`,
      );
      writer.packet(
        iface,
        rec.tsSec,
        rec.tsNsec,
        rec.buf.subarray(rec.offset, rec.offset + rec.caplen),
        rec.origLen,
        comments,
      );
      result.packets++;
    };
    const onInput = (i: number, first: number): void => {
      input = i;
      start = first;
    };
    await readPackets(source.inputs, { ...options, onInput }, onPacket);
    for (const w of written.values()) {
      if (w.packets > 0) result.flows++;
      if (w.packets !== w.flow.orig_pkts + w.flow.resp_pkts) result.short++;
    }
  }
  return result;
}

export function flowText(f: Pick<PcapFlow, 'proto' | 'orig_h' | 'orig_p' | 'resp_h' | 'resp_p'>): string {
  return `${f.proto.toUpperCase()} ${endpoint(f.orig_h, f.orig_p)} → ${endpoint(f.resp_h, f.resp_p)}`;
}

/** A judged flow as --write-pcap needs it: the first packet's comment says its verdict and why. */
export function pcapFlow(j: JudgedFlow, more: readonly string[] = []): PcapFlow {
  const roles = `${j.orig_role ?? 'no role'} → ${j.resp_role ?? 'no role'}`;
  const frames =
    j.first_frame === j.last_frame ? `frame ${j.first_frame}` : `frames ${j.first_frame}-${j.last_frame}`;
  return {
    ip_proto: j.ip_proto,
    proto: j.proto,
    orig_h: j.orig_h,
    orig_p: j.orig_p,
    resp_h: j.resp_h,
    resp_p: j.resp_p,
    first_frame: j.first_frame,
    last_frame: j.last_frame,
    fragments: j.fragments,
    ts: j.ts,
    duration: j.duration,
    orig_pkts: j.orig_pkts,
    resp_pkts: j.resp_pkts,
    comment: [`lync-port-audit: ${j.verdict}: ${j.reason}`, `${flowText(j)} (${roles}), ${frames}`, ...more],
  };
}

/** What --write-pcap wrote, in one line. */
export function describeWritten(
  w: { packets: number; flows: number; icmpErrors: number },
  path: string,
): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const own = w.packets - w.icmpErrors;
  const icmp = w.icmpErrors > 0 ? ` and ${plural(w.icmpErrors, 'ICMP error')} about them` : '';
  return `lync-port-audit: wrote ${plural(w.packets, 'packet')} to ${path}: ${plural(own, 'packet')} of ${plural(w.flows, 'flow')}${icmp}`;
}
