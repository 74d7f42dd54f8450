/**
 * Who answered a flow with a reset or an ICMP error: the server itself, or something on the path?
 *
 * An ICMP error names its sender: a destination host reports its own closed port, a router or
 * firewall reports from its own address. A TCP reset carries no such address, but its TTL (IPv6:
 * hop limit) does: every router decrements it (RFC 791 section 3.2, RFC 8200 section 3), so packets
 * of one sender arrive at the capture point with one value, and a reset forged by a firewall in
 * front of the server arrives with a larger one (it started as many, and crossed fewer hops).
 * The server's own packets come from the same flow (a SYN-ACK before the reset) or, for a reset
 * to the SYN, from the server's packets in other flows of the capture (HostTtls).
 */
import type { FlowRecord } from '../flow/record.js';
import type { AnsweredBy, AnsweredByEvidence } from './types.js';

/** Hosts whose TTL is remembered (bounded: a scan of a /8 must not grow this without limit). */
const MAX_HOSTS = 100_000;

/** The TTL (hop limit) of each host's own packets, as first seen in the capture (resets not counted). */
export class HostTtls {
  private readonly ttls = new Map<string, number>();

  add(rec: FlowRecord): void {
    if (rec.proto !== 'tcp' && rec.proto !== 'udp') return;
    this.note(rec.orig_h, rec.ttl.orig);
    this.note(rec.resp_h, rec.ttl.resp);
  }

  private note(host: string, ttl: number | undefined): void {
    // The size test first: once full, a scan's millions of new hosts cost no lookup.
    if (ttl === undefined || this.ttls.size >= MAX_HOSTS || this.ttls.has(host)) return;
    this.ttls.set(host, ttl);
  }

  ttlOf(host: string): number | undefined {
    return this.ttls.get(host);
  }
}

export interface AnsweredByResult {
  answered_by: AnsweredBy;
  evidence: AnsweredByEvidence;
}

/** The initial TTL a sender most likely used: the common defaults 32, 64, 128 and 255. */
function initialTtl(ttl: number): number {
  return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

function hops(n: number): string {
  return `${n} hop${n === 1 ? '' : 's'}`;
}

/**
 * Compares the TTL of the answer with the host's own packets. Same value: the host. A larger
 * value from the same initial TTL: a sender fewer hops away, in front of the host. Another
 * initial TTL: another IP stack. A smaller value from the same initial TTL: farther than the
 * host, which a firewall in front of it cannot be (an asymmetric route?): not decided.
 */
function compareTtl(
  answer: number,
  own: number,
  host: string,
  what: string,
  word: string,
): { by: AnsweredBy; text: string } {
  const ownText = `${host}'s own packets arrive with ${own}`;
  if (answer === own)
    return { by: 'responder', text: `${what} came with ${word} ${answer}, as ${ownText}: ${host} sent it` };
  const ia = initialTtl(answer);
  const io = initialTtl(own);
  if (ia !== io)
    return {
      by: 'path',
      text: `${what} came with ${word} ${answer} (sent with ${ia}), ${ownText} (sent with ${io}): another device's IP stack, a firewall or router, not ${host}`,
    };
  // Same initial TTL: a larger value crossed fewer routers.
  const closer = answer - own;
  if (closer > 0)
    return {
      by: 'path',
      text: `${what} came from a device ${hops(closer)} closer than ${host} (${word} ${answer}, ${ownText}): a firewall or router, not ${host}`,
    };
  return {
    by: 'unknown',
    text: `${what} came with ${word} ${answer}, ${hops(own - answer)} farther than ${host} (${ownText}): not its usual path, so who sent it is not clear`,
  };
}

/** Who sent the ICMP error or the reset that answered this flow; undefined when neither did. */
export function answeredBy(rec: FlowRecord, hosts?: HostTtls): AnsweredByResult | undefined {
  const v6 = rec.orig_h.includes(':');
  const field = v6 ? 'hop_limit' : 'ttl';
  const word = v6 ? 'hop limit' : 'TTL';
  if (rec.icmp !== undefined) {
    // The error answers a packet of one side: the other side is the destination it did not reach.
    const aboutOrig = rec.icmp.about === 'orig';
    const dest = aboutOrig ? rec.resp_h : rec.orig_h;
    const ownHere = aboutOrig ? rec.ttl.resp : rec.ttl.orig;
    const own = ownHere ?? hosts?.ttlOf(dest);
    const evidence: AnsweredByEvidence = {
      kind: 'icmp',
      host: dest,
      field,
      answer_ttl: rec.icmp.ttl,
      reporter: rec.icmp.reporter,
      text: '',
    };
    if (own !== undefined) {
      evidence.responder_ttl = own;
      evidence.responder_ttl_from = ownHere !== undefined ? 'this-flow' : 'other-flows';
    }
    const ttlNote =
      own !== undefined ? ` (${word} ${rec.icmp.ttl}; ${dest}'s own packets arrive with ${own})` : '';
    if (rec.icmp.reporter === dest) {
      evidence.text = `the ICMP ${rec.icmp.name} came from ${dest} itself${ttlNote}`;
      return { answered_by: 'responder', evidence };
    }
    evidence.text = `the ICMP ${rec.icmp.name} came from ${rec.icmp.reporter}, not from ${dest}${ttlNote}: a router or firewall on the path`;
    return { answered_by: 'path', evidence };
  }
  if (rec.proto !== 'tcp') return undefined;
  // A reset from the responder (the usual answer to a SYN), else one from the originator's side.
  const respSide = rec.ttl.resp_rst !== undefined;
  const answer = respSide ? rec.ttl.resp_rst : rec.ttl.orig_rst;
  if (answer === undefined) return undefined;
  const host = respSide ? rec.resp_h : rec.orig_h;
  const ownHere = respSide ? rec.ttl.resp : rec.ttl.orig;
  const own = ownHere ?? hosts?.ttlOf(host);
  const evidence: AnsweredByEvidence = { kind: 'tcp-reset', host, field, answer_ttl: answer, text: '' };
  const what = respSide ? 'the reset' : `the reset in ${host}'s name`;
  if (own === undefined) {
    evidence.text = `${what} came with ${word} ${answer}; no other packet of ${host} is in the capture to compare it with`;
    return { answered_by: 'unknown', evidence };
  }
  evidence.responder_ttl = own;
  evidence.responder_ttl_from = ownHere !== undefined ? 'this-flow' : 'other-flows';
  const { by, text } = compareTtl(answer, own, host, what, word);
  evidence.text = text;
  return { answered_by: by, evidence };
}
