/**
 * The network axis: did the network let the flow through? From the wire only, before any catalog
 * is consulted and whatever the application said (a TLS alert is app-outcome.ts's business): Zeek's
 * conn_state (src/flow/conn-state.ts), the ICMP errors attached to the flow, who sent a reset
 * (answered-by.ts), and for UDP whether datagrams or media came back.
 */
import type { FlowRecord } from '../flow/record.js';
import { icmpErrorMeaning } from '../flow/icmp-names.js';
import type { AnsweredBy, NetworkOutcome } from './types.js';

export interface NetworkResult {
  network: NetworkOutcome;
  reason: string;
}

/** A flow that started this close to the end of the capture may simply not have had time to be answered. */
export const CAPTURE_END_GRACE = 3;
/** A one-directional UDP flow with at least this many datagrams is a stream (one-way), not unanswered requests. */
const STREAM_PACKETS = 10;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function hasFinding(rec: FlowRecord, kind: string): { message: string } | undefined {
  return rec.app_findings?.find((f) => f.kind === kind);
}

/** Zeek states of a TCP connection that ended with a reset after its handshake. */
const RESET_AFTER_HANDSHAKE = new Set(['RSTO', 'RSTR']);

/**
 * `answeredBy` says who sent the flow's reset, when it had one: a reset that a device on the path
 * sent into an established connection is the network stopping it, not the server closing it.
 */
export function networkOutcome(rec: FlowRecord, captureEnd: number, answeredBy?: AnsweredBy): NetworkResult {
  const nearEnd =
    rec.ts + rec.duration >= captureEnd - CAPTURE_END_GRACE && rec.ts >= captureEnd - CAPTURE_END_GRACE;
  const ipVersion = rec.orig_h.includes(':') ? 6 : 4;

  if (rec.icmp && rec.icmp.about === 'orig' && rec.resp_pkts === 0) {
    const meaning = icmpErrorMeaning(ipVersion, rec.icmp.type, rec.icmp.code);
    if (meaning !== 'other')
      return {
        network: meaning,
        reason: `ICMP ${rec.icmp.name} from ${rec.icmp.reporter} (${plural(rec.icmp.count, 'error')}) answered ${plural(rec.orig_pkts, 'packet')}`,
      };
  }

  if (rec.proto === 'tcp') {
    switch (rec.conn_state) {
      case 'REJ':
        return {
          network: 'refused',
          reason: `the SYN was answered by a reset (conn_state REJ, ${plural(rec.orig_pkts, 'packet')} sent)`,
        };
      case 'S0':
      case 'RSTOS0':
      case 'SH':
        if (nearEnd && rec.orig_pkts <= 1)
          return { network: 'incomplete', reason: 'the capture ended within seconds of the first SYN' };
        return {
          network: 'no-answer',
          reason: `${plural(rec.orig_pkts, 'packet')} (SYN${rec.orig_pkts > 1 ? 's and retries' : ''}) got no answer (conn_state ${rec.conn_state})`,
        };
      case 'RSTRH':
      case 'SHR':
        return {
          network: 'incomplete',
          reason: `only the responder's side of the handshake was captured (conn_state ${rec.conn_state})`,
        };
      default: {
        const both = `${rec.orig_pkts}/${rec.resp_pkts} packets`;
        if (answeredBy === 'path' && RESET_AFTER_HANDSHAKE.has(rec.conn_state))
          return {
            network: 'refused',
            reason: `TCP connected (${both}), then a device on the path reset the connection (conn_state ${rec.conn_state})`,
          };
        // No handshake in the capture: it started mid-connection (issue 3's "incomplete"), even
        // when packets flowed both ways (the per-role rows still count that as the port working).
        if (rec.orig_from !== 'syn' && rec.orig_from !== 'syn-ack')
          return {
            network: 'incomplete',
            reason:
              rec.orig_pkts > 0 && rec.resp_pkts > 0
                ? `the capture started mid-connection (no handshake seen); packets flowed both ways (${both}, conn_state ${rec.conn_state})`
                : `the capture started mid-connection and saw one direction only (conn_state ${rec.conn_state})`,
          };
        // Zeek's S1 also covers `Sh`: a SYN and its SYN-ACK, then nothing from the originator (no ACK,
        // no data: no upper-case A, D or F in the history). The handshake did not complete: the
        // SYN-ACK did not reach the originator, or its ACK was lost on the way back.
        if (rec.conn_state === 'S1' && !/[ADF]/.test(rec.history)) {
          const acks = `${plural(rec.resp_pkts, 'packet')} from the responder`;
          // One SYN-ACK just before the end may still have had its ACK coming; a resent one means
          // the responder waited for it (RFC 6298 section 5: at least a second) in vain.
          if (rec.end_reason === 'end-of-capture' && nearEnd && rec.resp_pkts <= 1)
            return {
              network: 'incomplete',
              reason: `the responder answered the SYN (${acks}) and the capture ended before the originator's ACK (history ${rec.history})`,
            };
          return {
            network: 'one-way',
            reason: `the responder answered the SYN (${acks}) but the originator never acknowledged it (history ${rec.history}): the SYN-ACK did not reach it, or its ACK was lost on the way back`,
          };
        }
        // Established and never closed before the capture ended: it worked, but the capture ended mid-flow.
        if (rec.conn_state === 'S1' && rec.end_reason === 'end-of-capture')
          return {
            network: 'incomplete',
            reason: `TCP handshake completed and the connection was still open when the capture ended (${both})`,
          };
        return {
          network: 'answered',
          reason: `TCP handshake completed (conn_state ${rec.conn_state}, ${both})`,
        };
      }
    }
  }

  if (rec.proto === 'udp') {
    const oneWayMedia = hasFinding(rec, 'rtp-one-way');
    if (rec.orig_pkts > 0 && rec.resp_pkts > 0) {
      if (oneWayMedia) return { network: 'one-way', reason: oneWayMedia.message };
      return { network: 'answered', reason: `datagrams both ways (${rec.orig_pkts}/${rec.resp_pkts})` };
    }
    const sent = rec.orig_pkts > 0 ? rec.orig_pkts : rec.resp_pkts;
    const from = rec.orig_pkts > 0 ? 'originator' : 'responder';
    if (nearEnd && sent <= 2)
      return { network: 'incomplete', reason: 'the capture ended before a reply could arrive' };
    if (rec.app === 'rtp' || rec.app === 'rtcp' || (rec.app === undefined && sent >= STREAM_PACKETS))
      return {
        network: 'one-way',
        reason: `${plural(sent, rec.app === 'rtp' ? 'RTP packet' : 'datagram')} from the ${from} only, none back`,
      };
    const noResponse = hasFinding(rec, 'stun-no-response');
    return {
      network: 'no-answer',
      reason: noResponse ? noResponse.message : `${plural(sent, 'datagram')} from the ${from}, no reply`,
    };
  }

  return { network: 'not-judged', reason: `${rec.proto} is not judged against the catalog` };
}
