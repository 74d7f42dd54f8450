/**
 * A Wireshark display filter for one flow, as Wireshark's own "Conversation Filter" writes it
 * (both addresses, both ports): `ip.addr==10.77.1.10 && ip.addr==10.77.2.10 && tcp.port==40061
 * && tcp.port==5061`. The fields match any layer, so the filter also shows the ICMP errors that
 * quote the flow's packets (Wireshark dissects the quoted header), and a tunnelled flow's packets
 * (the inner addresses); `frame.number` bounds tell two flows on one 5-tuple apart. Display filter
 * syntax: https://www.wireshark.org/docs/man-pages/wireshark-filter.html
 */
import type { FlowRecord } from './record.js';

type FilterFields = Pick<FlowRecord, 'proto' | 'ip_proto' | 'orig_h' | 'orig_p' | 'resp_h' | 'resp_p'>;

function addressField(address: string): string {
  return address.includes(':') ? 'ipv6.addr' : 'ip.addr';
}

export function displayFilter(f: FilterFields): string {
  const field = addressField(f.orig_h);
  const hosts =
    f.orig_h === f.resp_h ? `${field}==${f.orig_h}` : `${field}==${f.orig_h} && ${field}==${f.resp_h}`;
  if (f.proto === 'tcp' || f.proto === 'udp') {
    const ports =
      f.orig_p === f.resp_p
        ? `${f.proto}.port==${f.orig_p}`
        : `${f.proto}.port==${f.orig_p} && ${f.proto}.port==${f.resp_p}`;
    return `${hosts} && ${ports}`;
  }
  if (f.proto === 'icmp') return `${hosts} && ${f.orig_h.includes(':') ? 'icmpv6' : 'icmp'}`;
  return `${hosts} && ${f.orig_h.includes(':') ? 'ipv6.nxt' : 'ip.proto'}==${f.ip_proto}`;
}

/** The flow's filter bounded to its frames: only this flow when its 5-tuple was used again. */
export function frameFilter(f: FilterFields & Pick<FlowRecord, 'first_frame' | 'last_frame'>): string {
  return `${displayFilter(f)} && frame.number>=${f.first_frame} && frame.number<=${f.last_frame}`;
}
